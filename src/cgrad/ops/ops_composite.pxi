# PyTorch's composite ops (CompositeImplicitAutograd): written with other
# ops, so their results carry those ops' nodes exactly as PyTorch's do
# (movedim is a permute, tile a repeat, hstack/vstack a cat, atleast_2d an
# unsqueeze). select is the view op of basic indexing, with its checks.


cdef Tensor op_select_checked(Tensor x, object dim, object index):
    cdef int d
    cdef Py_ssize_t i, size
    if x._ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(int_arg(dim, "select", "dim", 1), x._ndim)
    i = int_arg(index, "select", "index", 2)
    size = x._shape[d]
    if i < -size or i >= size:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list_str([x._shape[k] for k in range(x._ndim)])} at dimension {d}")
    return op_select(x, d, i + size if i < 0 else i)


cdef tuple movedim_dims(object dims, str argname, int ndim):
    cdef list out
    if isinstance(dims, (tuple, list)):
        out = [wrap_dim(int_arg(v, "movedim", argname, 1), ndim) for v in dims]
    else:
        out = [wrap_dim(int_arg(dims, "movedim", argname, 1), ndim)]
    return tuple(out)


cdef Tensor op_movedim(Tensor x, object source, object destination):
    """The permutation putting dims `source` at `destination`, the other
    dims keeping their order (PyTorch's movedim)."""
    cdef tuple src = movedim_dims(source, "source", x._ndim)
    cdef tuple dst = movedim_dims(destination, "destination", x._ndim)
    cdef list order
    cdef list rest
    cdef int k
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
                           f"contain the same number of dims as destination ({list(dst)} dims)")
    if len(set(src)) != len(src):
        raise RuntimeError(f"movedim: repeated dim in `source` ({list(src)})")
    if len(set(dst)) != len(dst):
        raise RuntimeError(f"movedim: repeated dim in `destination` ({list(dst)})")
    order = [-1] * x._ndim
    for k in range(len(src)):
        order[dst[k]] = src[k]
    rest = [d for d in range(x._ndim) if d not in src]
    for k in range(x._ndim):
        if order[k] == -1:
            order[k] = rest.pop(0)
    return op_permute(x, tuple(order))


cdef Tensor op_tile(Tensor x, object dims):
    cdef tuple reps
    if not isinstance(dims, (tuple, list)):
        raise TypeError(f"tile(): argument 'dims' (position 1) must be tuple of ints, not {py_typename(dims)}")
    reps = tuple([int_arg(r, "tile", "dims", 1) for r in dims])
    if len(reps) < x._ndim:
        reps = (1,) * (x._ndim - len(reps)) + reps
    return op_repeat(x, reps)


cdef Tensor at_least(Tensor x, int ndim):
    """atleast_1d/2d/3d of one tensor: x itself when it has the dims."""
    if x._ndim >= ndim:
        return x
    if x._ndim == 0:
        return op_reshape(x, (1,) * ndim)
    if ndim == 2 or x._ndim == 2:
        return op_unsqueeze(x, 0) if ndim == 2 else op_unsqueeze(x, -1)
    return op_unsqueeze(op_unsqueeze(x, 0), -1)       # 1-D to 3-D: (1, n, 1)


cdef object at_least_call(tuple tensors, int ndim):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        return tuple([at_least(<Tensor>t, ndim) for t in tensor_list_arg(tensors[0], f"atleast_{ndim}d")])
    if len(tensors) == 1:
        return at_least(input_arg(tensors[0], f"atleast_{ndim}d"), ndim)
    return tuple([at_least(<Tensor>t, ndim) for t in tensor_list_arg(tensors, f"atleast_{ndim}d")])


def select(input, dim, index):
    """The slice of input at `index` along `dim` (a view, one dim fewer)."""
    return op_select_checked(input_arg(input, "select"), dim, index)


def movedim(input, source, destination):
    return op_movedim(input_arg(input, "movedim"), source, destination)


moveaxis = movedim


def tile(input, dims):
    return op_tile(input_arg(input, "tile"), dims)


def atleast_1d(*tensors):
    return at_least_call(tensors, 1)


def atleast_2d(*tensors):
    return at_least_call(tensors, 2)


def atleast_3d(*tensors):
    return at_least_call(tensors, 3)


def hstack(tensors, *, out=None):
    """cat along dim 0 for 1-D tensors, else dim 1."""
    cdef list ts = tensor_list_arg(tensors, "hstack")
    if not ts:
        raise RuntimeError("hstack expects a non-empty TensorList")
    ts = [at_least(<Tensor>t, 1) for t in ts]
    return with_out(op_cat(ts, 0 if (<Tensor>ts[0])._ndim == 1 else 1), out, "hstack")


def vstack(tensors, *, out=None):
    """cat along dim 0 of the tensors made at least 2-D."""
    cdef list ts = tensor_list_arg(tensors, "vstack")
    if not ts:
        raise RuntimeError("vstack expects a non-empty TensorList")
    return with_out(op_cat([at_least(<Tensor>t, 2) for t in ts], 0), out, "vstack")


row_stack = vstack
