# scatter with a src tensor or a value, and scatter_, with their nodes.


# ---------------------------------------------------------------------------
# scatter(self, dim, index, src) (ScatterBackward0) and scatter(self, dim,
# index, value) (ScatterBackward1): a copy of self with src's elements (or
# value) written at index along dim. Gradients: g.scatter(dim, index, 0) for
# self, g.gather(dim, index) for src.

cdef class ScatterBackward0(Node):
    cdef readonly Tensor index
    cdef int dim
    cdef tuple src_sizes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object gx = None, gs = None
        if wants_grad(self, 1):
            if shape_tuple(self.index) != self.src_sizes:
                raise RuntimeError(
                    f"Function ScatterBackward0 returned an invalid gradient at index 1 - got "
                    f"{list(shape_tuple(self.index))} but expected shape compatible with {list(self.src_sizes)}")
            gs = op_gather(g, self.dim, self.index)
        if wants_grad(self, 0):
            gx = op_scatter(g, self.dim, self.index, None, 0)
        return (gx, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef class ScatterBackward1(Node):
    cdef readonly Tensor index
    cdef int dim

    cdef tuple apply(self, object grads):
        return (op_scatter(<Tensor>grads, self.dim, self.index, None, 0),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef Tensor op_scatter(Tensor x, int dim, Tensor index, Tensor src, object value):
    """src None: value (a number) is written."""
    cdef GatherGeo geo
    cdef Tensor out, s = src
    cdef Py_ssize_t at
    cdef int64_t bad = 0
    cdef ScatterBackward0 n0
    cdef ScatterBackward1 n1
    if src is not None and src._dtype != x._dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    check_gather_args(x, dim, index, src, "scatter")
    if index._dtype != I64:
        index = cast_tensor(index, I64)
    if src is None:
        s = new_tensor(index._ndim, index._shape, x._dtype)
        fill_scalar(s, value)
    out = contiguous_copy(alias_detached(x))
    fill_geo(&geo, out, dim, index, s)
    with nogil:
        at = gather_walk(&geo, <const int64_t*>index._data, out._data, s._data, index._numel,
                         ITEMSIZE[out._dtype], -2, &bad)
    if at >= 0:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {geo.limit}")
    if src is not None and needs_grad2(x, src):
        n0 = ScatterBackward0.__new__(ScatterBackward0)
        wire2(n0, x, src)
        n0.index = index
        n0.dim = dim
        n0.src_sizes = shape_tuple(src)
        set_history(out, n0)
    elif src is None and needs_grad(x):
        n1 = ScatterBackward1.__new__(ScatterBackward1)
        wire1(n1, x)
        n1.index = index
        n1.dim = dim
        set_history(out, n1)
    return out


cdef Tensor scatter_call(Tensor x, object dim, object index, object src, object value, str fname,
                         object reduce=None):
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    cdef Tensor idx = need_tensor(index, fname, "index", 2)
    if reduce is not None:
        # the reduce='add' / 'multiply' form: a Python composite of scatter_reduce
        from cgrad._ops_scatter_reduce import scatter_with_reduce
        return scatter_with_reduce(x, d, idx, src if value is None else value, reduce)
    if value is not None:
        return op_scatter(x, d, idx, None, normalize_scalar(value))
    if isinstance(src, Tensor):
        return op_scatter(x, d, idx, <Tensor>src, None)
    return op_scatter(x, d, idx, None, normalize_scalar(src))


def scatter(input, dim, index, src=None, *, value=None, reduce=None, out=None):
    return with_out(scatter_call(input_arg(input, "scatter"), dim, index, src, value, "scatter", reduce),
                    out, "scatter")
