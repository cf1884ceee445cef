import pytest


@pytest.fixture(params=[True, False], ids=["numba", "cpython"])
def jit(request):
    """Run a test on the numba build and on the CPython run of the same source."""
    return request.param
