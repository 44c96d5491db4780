# Tensor.view's common call parsed without Python lists: sizes given as
# plain ints, spread out (x.view(2, 3)) or in one tuple or list (x.view((2,
# 3)), x.view(Size)), at most one -1, on a geometry that allows the view.
# The general path (ops_shape.pxi: view_size_args, infer_size) builds two
# lists through per-element Python calls and stays the one place with
# PyTorch's error texts: any other case, including every error, goes there.


cdef Tensor view_exact_ints(Tensor x, tuple args):
    """x.view(*args), or None when the general parser must handle args."""
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef object seq = args
    cdef object item
    cdef Py_ssize_t n, i, v, known = 1
    cdef int infer_at = -1
    cdef Tensor out
    cdef ViewBackward0 node
    if len(args) == 0:
        return None
    if len(args) == 1 and (isinstance(args[0], tuple) or type(args[0]) is list):
        seq = args[0]
    n = len(seq)
    if n > MAX_DIMS:
        return None
    for i in range(n):
        item = seq[i]
        if type(item) is not int or not (-1 <= item <= 0x7fffffff):
            return None
        v = item
        if v == -1:
            if infer_at >= 0:
                return None
            infer_at = i
        else:
            known *= v
            if known > 0x7fffffffffff:
                return None
        dims[i] = v
    if infer_at >= 0:
        if known == 0 or x._numel % known != 0:
            return None
        dims[infer_at] = x._numel // known
    elif known != x._numel:
        return None
    if not view_strides(x, <int>n, dims, strides):
        return None
    out = shape_view(x, <int>n, dims, strides, x._offset)
    if needs_grad(x):
        node = ViewBackward0.__new__(ViewBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out
