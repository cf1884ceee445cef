"""Compiling a data plane's per-round function (shared by the AF_XDP and AF_PACKET paths).

Each path's `step_source` calls the verified entry point through its module's global
`nat_process_batch`, from inside numba, once per batch; numba inlines the NAT into it,
which takes about a minute to compile (AF_XDP 55 s, AF_PACKET 75 s on a
fast machine), so it is cached on disk.  The cache sits in the
directory build.load() chose, keyed on a digest of the verified source: a changed NAT
can never run from a stale cache.

The benchmark's stand-ins for the NAT (`vernat bench`: a no-op and an unverified NAT,
vernat/bench/variants.py) take the NAT's place in the very same ring code: `batch`, a
numba function with process_batch's signature.  Their step is cached apart, in a
directory keyed on the stand-in's own source as well, since numba's cache only looks
at the ring code's file.
"""

import hashlib
import inspect
import os

import numba


def compile_step(module, kernel, batch=None):
    """Binds the module's `nat_process_batch` and compiles its `step_source` (and
    `serve_source`, the loop around it, where the module has one) into `_step`
    (and `_serve`). Returns `_step`."""
    from vernat import build
    if kernel is not build.load(jit=True):
        raise ValueError("the live data plane runs the installed numba build only")
    batch = kernel.process_batch if batch is None else batch
    if module._step is None:
        module.nat_process_batch = batch
        if batch is kernel.process_batch:
            _compile(module)
        else:
            saved = numba.config.CACHE_DIR
            numba.config.CACHE_DIR = os.path.join(build.cache_dir(), _stand_in_key(batch))
            try:
                _compile(module)
            finally:
                numba.config.CACHE_DIR = saved
    elif module.nat_process_batch is not batch:
        raise ValueError("one data plane function per process: the step is compiled "
                         "around the first one")
    return module._step


def _compile(module):
    # lazily: each compiles (or loads from the cache) at its first call, with the
    # CACHE_DIR it was created under
    module._step = numba.njit(cache=True, nogil=True)(module.step_source)
    if hasattr(module, "serve_source"):
        module._serve = numba.njit(cache=True, nogil=True)(module.serve_source)


def _stand_in_key(batch):
    with open(inspect.getsourcefile(batch.py_func), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return f"stand-in-{batch.py_func.__name__}-{digest}"
