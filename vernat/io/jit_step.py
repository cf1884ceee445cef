"""Compiling a data plane's per-round function (shared by the AF_XDP and AF_PACKET paths).

Each path's `step_source` calls the verified entry point through its module's global
`nat_process_batch`, from inside numba, once per batch; numba inlines the NAT into it,
which takes ~40 s to compile, so it is cached on disk.  The cache sits in the
directory build.load() chose, keyed on a digest of the verified source: a changed NAT
can never run from a stale cache.
"""

import numba


def compile_step(module, kernel):
    from vernat import build
    if kernel is not build.load(jit=True):
        raise ValueError("the live data plane runs the installed numba build only")
    module.nat_process_batch = kernel.process_batch
    if module._step is None:
        module._step = numba.njit(cache=True, nogil=True)(module.step_source)
    return module._step
