"""numba implementations of the verified source's hints (trusted base).

A hint is a verified-source function that does nothing (`cache_hint` in
vernat/state/layout.py): CPython and the symbolic executor run it as the
no-op it is. For the numba build the loader substitutes the implementation
below, an LLVM prefetch of one array element: it moves a cache line
earlier and can change nothing else, not even fault on a bad address.
"""

from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic


@intrinsic
def _prefetch(typingctx, array, index):
    signature = types.void(array, index)

    def codegen(context, builder, sig, args):
        data = context.make_array(sig.args[0])(context, builder, args[0]).data
        byte_ptr = builder.bitcast(builder.gep(data, [args[1]]), ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr.type, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [byte_ptr.type], fnty)
        # read access, high temporal locality, data cache
        builder.call(fn, [byte_ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return signature, codegen


@njit(inline="always")
def cache_hint(t, at):
    _prefetch(t, at)


OVERRIDES = {"cache_hint": cache_hint}
