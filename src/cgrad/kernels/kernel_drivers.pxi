# The drivers that run one row kernel over whole tensors, no autograd:
# a unary row into a result, a dtype conversion, a (broadcast, converting)
# copy. The ops use them, and so do the select, optimizer and attention
# kernels, which is why they sit in the kernels layer.


cdef inline int run_unary(RowFn fn, Tensor out, Tensor x) except -1:
    cdef Operand ops[2]
    ops[0] = operand_of(out)
    ops[1] = operand_of(x)
    return run_elementwise(fn, 2, ops, out._ndim, out._shape, out._numel, NULL)


cdef Tensor cast_tensor(Tensor x, int dt):
    """A contiguous copy of x as dtype dt (no history)."""
    cdef Tensor out = new_tensor(x._ndim, x._shape, dt)
    run_unary(CAST_ROWS[x._dtype][dt], out, x)
    return out


cdef Tensor contiguous_copy(Tensor x):
    return cast_tensor(x, x._dtype)


cdef int copy_into(Tensor dst, Tensor src) except -1:
    """dst[...] = src, src broadcast to dst's shape, converted to dst's dtype."""
    cdef Operand ops[2]
    ops[0] = operand_of(dst)
    ops[1] = operand_of(src)
    return run_elementwise(CAST_ROWS[src._dtype][dst._dtype], 2, ops, dst._ndim, dst._shape,
                           dst._numel, NULL)
