# Joining and splitting: cat (concat, concatenate), stack, split,
# split_with_sizes, chunk, unbind, narrow.
#
# cat/stack make one new tensor and copy each input into its segment with
# the elementwise machinery (dtype conversion included). The split family
# returns views of the input; with autograd they share one multi-output node
# (SplitBackward0, SplitWithSizesBackward0, UnbindBackward0) whose backward
# joins the output gradients again, zeros standing in for outputs that got
# none. Backward formulas are written with these same ops, so they are
# differentiable under create_graph.


# ---------------------------------------------------------------------------
# Output layout of cat: PyTorch's cat keeps channels_last(_3d) when every
# input suggests it (suggest_memory_format), else the result is contiguous.

cdef enum:
    FMT_CONTIGUOUS = 0
    FMT_CHANNELS_LAST = 1
    FMT_CHANNELS_LAST_3D = 2
    FMT_PRESERVE = 3         # memory_format.pxi: the input's own layout

cdef int CL2D_ORDER[4]
CL2D_ORDER[:] = [1, 3, 2, 0]
cdef int CL3D_ORDER[5]
CL3D_ORDER[:] = [1, 4, 3, 2, 0]


cdef bint channels_last_strides(Tensor t, const int* order, int n) noexcept:
    """PyTorch's is_channels_last_strides_2d_s4 / _3d_s5."""
    cdef Py_ssize_t mn = 0
    cdef int k, d
    if t._strides[1] == 0:
        return False
    for k in range(n):
        d = order[k]
        if t._shape[d] == 0:
            return False
        if t._strides[d] < mn:
            return False
        if d == 0 and mn == t._strides[1]:
            return False
        mn = t._strides[d]
        if t._shape[d] > 1:
            mn *= t._shape[d]
    return True


cdef int suggest_format(Tensor t) noexcept:
    if t._ndim == 4 and channels_last_strides(t, CL2D_ORDER, 4):
        return FMT_CHANNELS_LAST
    if t._ndim == 5 and channels_last_strides(t, CL3D_ORDER, 5):
        return FMT_CHANNELS_LAST_3D
    return FMT_CONTIGUOUS


cdef int cat_output_format(list tensors) noexcept:
    cdef int fmt = -1, f
    cdef Tensor t
    for x in tensors:
        t = <Tensor>x
        f = suggest_format(t)
        if f == FMT_CONTIGUOUS:
            return f
        if fmt >= 0 and fmt != f:
            return FMT_CONTIGUOUS
        fmt = f
    return fmt if fmt >= 0 else FMT_CONTIGUOUS


cdef Tensor new_tensor_format(int nd, const Py_ssize_t* shape, int dt, int fmt, bint zeroed=False):
    cdef Tensor t = new_tensor(nd, shape, dt, zeroed)
    lay_out_format(t, fmt)
    return t


cdef void lay_out_format(Tensor t, int fmt) noexcept:
    """A fresh contiguous tensor's strides in the format's order (a
    permutation of the same dense bytes; PyTorch's channels-last strides
    multiply raw sizes, 0 and 1 included)."""
    cdef int nd = t._ndim
    cdef Py_ssize_t* shape = t._shape
    if fmt == FMT_CHANNELS_LAST and nd == 4:
        t._strides[1] = 1
        t._strides[3] = shape[1]
        t._strides[2] = t._strides[3] * shape[3]
        t._strides[0] = t._strides[2] * shape[2]
        t._contiguous = t._numel == 0 or strides_are_contiguous(nd, t._shape, t._strides)
    elif fmt == FMT_CHANNELS_LAST_3D and nd == 5:
        t._strides[1] = 1
        t._strides[4] = shape[1]
        t._strides[3] = t._strides[4] * shape[4]
        t._strides[2] = t._strides[3] * shape[3]
        t._strides[0] = t._strides[2] * shape[2]
        t._contiguous = t._numel == 0 or strides_are_contiguous(nd, t._shape, t._strides)


cdef int copy_into_segment(Tensor out, int dim, Py_ssize_t start, Tensor src) except -1:
    """out.narrow(dim, start, src.size(dim)).copy_(src): src has out's rank
    and shape except along dim; converted to out's dtype on the way."""
    cdef Py_ssize_t seg_shape[MAX_DIMS]
    cdef Operand ops[2]
    cdef int i
    cdef bint done
    if src._numel == 0:
        return 0
    for i in range(out._ndim):
        seg_shape[i] = out._shape[i]
    seg_shape[dim] = src._shape[dim]
    if src._numel >= TILED_COPY_MIN and src._dtype == out._dtype and not src._contiguous:
        # a differently laid out source (e.g. transposed): the tiled copy
        return copy_layout(make_view(out, out._ndim, seg_shape, out._strides,
                                     out._offset + start * out._strides[dim]), src)
    ops[0].data = out._data + start * out._strides[dim] * ITEMSIZE[out._dtype]
    ops[0].ndim = out._ndim
    ops[0].itemsize = ITEMSIZE[out._dtype]
    ops[0].contiguous = strides_are_contiguous(out._ndim, seg_shape, out._strides)
    ops[0].numel = src._numel
    ops[0].shape = seg_shape
    ops[0].strides = out._strides
    ops[1] = operand_of(src)
    if src._dtype == out._dtype and src._numel * ITEMSIZE[src._dtype] >= BLOCK_COPY_MIN_BYTES:
        # large: memcpy-speed rows (kernels/copy_blocks.h)
        with nogil:
            done = copy_same_dtype(ops, out._ndim, seg_shape, src._numel)
        if done:
            return 0
    return run_elementwise(CAST_ROWS[src._dtype][out._dtype], 2, ops, out._ndim, seg_shape,
                           src._numel, NULL)


# ---------------------------------------------------------------------------
# cat


cdef inline bint cat_skipped(Tensor t) noexcept:
    """A 1-D empty tensor: the legacy 'empty' that cat accepts with any shape."""
    return t._ndim == 1 and t._shape[0] == 0


cdef int cat_wrap_dim(list tensors, Py_ssize_t dim) except? -100:
    """PyTorch's legacy_cat_wrap_dim: dim wraps against the first input that
    is not a legacy empty tensor (unchecked when there is none)."""
    cdef Tensor t
    for x in tensors:
        t = <Tensor>x
        if cat_skipped(t):
            continue
        return wrap_dim(dim, t._ndim)
    return <int>dim


cdef Tensor cat_kernel(list tensors, Py_ssize_t dim_arg, int* wrapped_dim):
    """The concatenation (no history). Checks and result as PyTorch's cat."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t size_at_dim = 0, offset = 0
    cdef int n = len(tensors)
    cdef int i, j, dim, valid = -1, out_dt, fmt
    cdef Tensor t, ref, out
    for i in range(n):
        if (<Tensor>tensors[i])._ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    dim = cat_wrap_dim(tensors, dim_arg)
    wrapped_dim[0] = dim
    if n == 0:
        raise ValueError("cgrad.cat(): expected a non-empty list of Tensors")
    out_dt = (<Tensor>tensors[0])._dtype
    for i in range(n):
        t = <Tensor>tensors[i]
        out_dt = promote_types(out_dt, t._dtype)
        if valid < 0 and not cat_skipped(t):
            valid = i
    fmt = cat_output_format(tensors)
    if valid < 0:
        shape[0] = 0
        return new_tensor(1, shape, out_dt)
    ref = <Tensor>tensors[valid]
    for i in range(n):
        t = <Tensor>tensors[i]
        if cat_skipped(t):
            continue
        if t._ndim != ref._ndim:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {ref._ndim} and {t._ndim}")
        for j in range(ref._ndim):
            if j != dim and t._shape[j] != ref._shape[j]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size "
                    f"{ref._shape[j]} but got size {t._shape[j]} for tensor number {i} in the list.")
        size_at_dim += t._shape[dim]
    for j in range(ref._ndim):
        shape[j] = ref._shape[j]
    shape[dim] = size_at_dim
    out = new_tensor_format(ref._ndim, shape, out_dt, fmt)
    if out._numel:
        for i in range(n):
            t = <Tensor>tensors[i]
            if cat_skipped(t):
                continue
            copy_into_segment(out, dim, offset, t)
            offset += t._shape[dim]
    return out


cdef class CatBackward0(Node):
    cdef list sizes        # each input's shape
    cdef list dtypes
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor gi
        cdef list out = []
        cdef tuple shape
        cdef Py_ssize_t offset = 0, size
        cdef Py_ssize_t zero_shape[1]
        cdef int i
        for i in range(len(self.sizes)):
            shape = <tuple>self.sizes[i]
            if len(shape) == 1 and shape[0] == 0:
                if wants_grad(self, i):
                    zero_shape[0] = 0
                    out.append(new_tensor(1, zero_shape, <int>self.dtypes[i]))
                else:
                    out.append(None)
                continue
            size = shape[self.dim]
            if wants_grad(self, i):
                gi = op_narrow(g, self.dim, offset, size)
                if gi._dtype != <int>self.dtypes[i]:
                    gi = op_to_dtype(gi, <int>self.dtypes[i])
                out.append(gi)
            else:
                out.append(None)
            offset += size
        return tuple(out)


cdef Tensor op_cat(list tensors, Py_ssize_t dim):
    """cat of a list of Tensors (the caller checked the element types)."""
    cdef int wrapped
    cdef Tensor out = cat_kernel(tensors, dim, &wrapped)
    cdef CatBackward0 node
    cdef bint any_grad = False
    cdef Tensor t
    if cgrad_grad_enabled or cgrad_fwd_active:
        for x in tensors:
            if (cgrad_grad_enabled and (<Tensor>x)._requires_grad) or has_tangent(x):
                any_grad = True
                break
    if any_grad:
        node = CatBackward0.__new__(CatBackward0)
        wire_many(node, tensors, 1)
        node.sizes = [shape_tuple(<Tensor>x) for x in tensors]
        node.dtypes = [(<Tensor>x)._dtype for x in tensors]
        node.dim = wrapped
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# stack


cdef class StackBackward0(Node):
    cdef list dtypes
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef tuple parts = op_unbind(<Tensor>grads, self.dim)
        cdef list out = []
        cdef Tensor gi
        cdef int i
        for i in range(len(self.dtypes)):
            if not wants_grad(self, i):
                out.append(None)
                continue
            gi = <Tensor>parts[i]
            if gi._dtype != <int>self.dtypes[i]:
                gi = op_to_dtype(gi, <int>self.dtypes[i])
            out.append(gi)
        return tuple(out)


cdef Tensor op_stack(list tensors, Py_ssize_t dim_arg):
    """PyTorch's stack: cat along dim then a view splitting that dim (dim <
    ndim), or cat of the inputs unsqueezed at the end (dim == ndim)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int n = len(tensors)
    cdef int i, j, dim, wrapped, nd
    cdef Tensor first, t, cat_out, out
    cdef list parts
    cdef StackBackward0 node
    cdef bint any_grad = False
    if n == 0:
        raise RuntimeError("stack expects a non-empty TensorList")
    first = <Tensor>tensors[0]
    nd = first._ndim
    dim = wrap_dim(dim_arg, nd + 1)
    if nd + 1 > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(1, n):
        t = <Tensor>tensors[i]
        if not same_shape(t, first):
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {shape_str(first._shape, nd)} at "
                f"entry 0 and {shape_str(t._shape, t._ndim)} at entry {i}")
    if dim < nd:
        cat_out = cat_kernel(tensors, dim, &wrapped)
        for j in range(nd + 1):
            if j < dim:
                shape[j] = first._shape[j]
            elif j == dim:
                shape[j] = n
            else:
                shape[j] = first._shape[j - 1]
        view_strides(cat_out, nd + 1, shape, strides)
        out = shape_view(cat_out, nd + 1, shape, strides, 0)
        out._base = None   # the buffer is the result's own
    else:
        parts = []
        for x in tensors:
            t = <Tensor>x
            for j in range(nd):
                shape[j] = t._shape[j]
                strides[j] = t._strides[j]
            shape[nd] = 1
            strides[nd] = 1
            parts.append(shape_view(t, nd + 1, shape, strides, t._offset))
        out = cat_kernel(parts, dim, &wrapped)
    if cgrad_grad_enabled or cgrad_fwd_active:
        for x in tensors:
            if (cgrad_grad_enabled and (<Tensor>x)._requires_grad) or has_tangent(x):
                any_grad = True
                break
    if any_grad:
        node = StackBackward0.__new__(StackBackward0)
        wire_many(node, tensors, 1)
        node.dtypes = [(<Tensor>x)._dtype for x in tensors]
        node.dim = dim
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# split / split_with_sizes / chunk / unbind: views sharing one node


cdef list grad_list(object grads, int n):
    if isinstance(grads, list):
        return <list>grads
    return [grads] + [None] * (n - 1)


cdef Tensor zeros_like_shape(tuple shape, int dt):
    return new_tensor_from_tuple(shape, dt, True)


cdef Tensor join_split_grads(list grads, list lengths, int dim, tuple self_sizes, int dt):
    """The gradient of a split input: the output gradients concatenated
    along dim, zeros for outputs that got none."""
    cdef list parts = []
    cdef list piece
    cdef int i
    for i in range(len(lengths)):
        if grads[i] is None:
            piece = list(self_sizes)
            piece[dim] = lengths[i]
            parts.append(zeros_like_shape(tuple(piece), dt))
        else:
            parts.append(grads[i])
    return op_cat(parts, dim)


cdef class SplitBackward0(Node):
    cdef tuple self_sizes
    cdef list lengths
    cdef int dim, dtype

    cdef tuple apply(self, object grads):
        return (join_split_grads(grad_list(grads, len(self.lengths)), self.lengths, self.dim,
                                 self.self_sizes, self.dtype),)


cdef class SplitWithSizesBackward0(SplitBackward0):
    pass


cdef tuple multi_output_views(list outs):
    """Views returned together by one op may not be changed in place under
    grad mode (their shared node could not take the change)."""
    cdef Tensor out
    if cgrad_grad_enabled:
        for out in outs:
            out._creation_meta = CM_MULTI_OUTPUT
    return tuple(outs)


cdef tuple split_views(Tensor x, list lengths, int dim, bint with_sizes):
    """Views of x along dim of the given lengths (they tile the dim), with
    one SplitBackward0 / SplitWithSizesBackward0 node for all of them."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int i, n = len(lengths)
    cdef Py_ssize_t start = 0
    cdef list outs = []
    cdef Tensor out
    cdef SplitBackward0 node = None
    for i in range(x._ndim):
        shape[i] = x._shape[i]
    for i in range(n):
        shape[dim] = lengths[i]
        outs.append(shape_view(x, x._ndim, shape, x._strides, x._offset + start * x._strides[dim]))
        start += lengths[i]
    if needs_grad(x) and n > 0:
        node = (SplitWithSizesBackward0.__new__(SplitWithSizesBackward0) if with_sizes
                else SplitBackward0.__new__(SplitBackward0))
        wire_many(node, [x], n)
        node.self_sizes = shape_tuple(x)
        node.lengths = lengths
        node.dim = dim
        node.dtype = x._dtype
        for i in range(n):
            set_history(<Tensor>outs[i], node, i)
    return multi_output_views(outs)


cdef tuple op_split(Tensor x, Py_ssize_t split_size, Py_ssize_t dim_arg):
    cdef int dim
    cdef Py_ssize_t dim_size, num_splits = 1, last
    cdef list lengths
    if x._ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    if split_size < 0:
        raise RuntimeError(f"split expects split_size be non-negative, but got split_size={split_size}")
    dim = wrap_dim(dim_arg, x._ndim)
    dim_size = x._shape[dim]
    if split_size == 0 and dim_size != 0:
        raise RuntimeError(
            f"split_size can only be 0 if dimension size is 0, but got dimension size of {dim_size}")
    if split_size != 0:
        num_splits = (dim_size + split_size - 1) // split_size
        if num_splits < 1:
            num_splits = 1
    last = split_size - (split_size * num_splits - dim_size)
    lengths = [split_size] * (num_splits - 1) + [last]
    return split_views(x, lengths, dim, False)


cdef tuple op_split_with_sizes(Tensor x, tuple sizes, Py_ssize_t dim_arg):
    cdef int dim
    cdef Py_ssize_t total = 0
    if x._ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    dim = wrap_dim(dim_arg, x._ndim)
    for s in sizes:
        if s < 0:
            raise RuntimeError(
                "split_with_sizes expects split_sizes have only non-negative entries, but got "
                f"split_sizes={list_str(list(sizes))}")
        total += s
    if total != x._shape[dim]:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {x._shape[dim]} (input tensor's "
            f"size at dimension {dim_arg}), but got split_sizes={list_str(list(sizes))}")
    return split_views(x, list(sizes), dim, True)


cdef tuple op_chunk(Tensor x, Py_ssize_t chunks, Py_ssize_t dim_arg):
    cdef int dim
    cdef Py_ssize_t dim_size, split_size
    if x._ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    dim = wrap_dim(dim_arg, x._ndim)
    dim_size = x._shape[dim]
    split_size = (dim_size + chunks - 1) // chunks
    if split_size == 0 and dim_size == 0:
        return op_split_with_sizes(x, (0,) * chunks, dim)
    return op_split(x, split_size, dim)


cdef class UnbindBackward0(Node):
    cdef tuple self_sizes
    cdef int dim, dtype

    cdef tuple apply(self, object grads):
        cdef int n = self.self_sizes[self.dim]
        cdef list gs = grad_list(grads, n)
        cdef list parts = []
        cdef list piece = list(self.self_sizes)
        cdef int i
        del piece[self.dim]
        for i in range(n):
            parts.append(zeros_like_shape(tuple(piece), self.dtype) if gs[i] is None else gs[i])
        return (op_stack(parts, self.dim),)


cdef tuple op_unbind(Tensor x, Py_ssize_t dim_arg):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int dim, i, j, k, n
    cdef list outs = []
    cdef UnbindBackward0 node
    if x._ndim == 0:
        if dim_arg == 0 or dim_arg == -1:
            raise IndexError("Dimension specified as 0 but tensor has no dimensions")
        wrap_dim(dim_arg, 0)
    dim = wrap_dim(dim_arg, x._ndim)
    n = x._shape[dim]
    k = 0
    for j in range(x._ndim):
        if j != dim:
            shape[k] = x._shape[j]
            strides[k] = x._strides[j]
            k += 1
    for i in range(n):
        outs.append(shape_view(x, x._ndim - 1, shape, strides, x._offset + i * x._strides[dim]))
    if needs_grad(x) and n > 0:
        node = UnbindBackward0.__new__(UnbindBackward0)
        wire_many(node, [x], n)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.dtype = x._dtype
        for i in range(n):
            set_history(<Tensor>outs[i], node, i)
    return multi_output_views(outs)


# ---------------------------------------------------------------------------
# narrow (a slice along one dim: SliceBackward0)


cdef Tensor op_narrow(Tensor x, Py_ssize_t dim_arg, Py_ssize_t start, Py_ssize_t length):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int dim, i
    cdef Py_ssize_t cur
    cdef Tensor out
    cdef SliceBackward0 node
    if x._ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    dim = wrap_dim(dim_arg, x._ndim)
    cur = x._shape[dim]
    if start < -cur or start > cur:
        raise IndexError(f"start out of range (expected to be in range of [{-cur}, {cur}], but got {start})")
    if start < 0:
        start += cur
    if start > cur - length:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({cur}).")
    return op_slice(x, dim, start, start + length, 1)


# ---------------------------------------------------------------------------
# Argument parsing and the cgrad.* functions


cdef list tensor_list_arg(object tensors, str fname):
    cdef list out
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(
            f"{fname}(): argument 'tensors' (position 1) must be tuple of Tensors, not {type(tensors).__name__}")
    out = list(tensors)
    for i in range(len(out)):
        if not isinstance(out[i], Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {py_typename(out[i])}")
    return out


cdef str overload_marks(tuple args, tuple checks):
    """`(Tensor, !float!, int)`: each argument's type, marked when it does
    not fit its parameter (checks: a bool per argument)."""
    return ", ".join([type(a).__name__ if ok else f"!{type(a).__name__}!" for a, ok in zip(args, checks)])


cdef tuple split_args(Tensor x, object split_size, object dim, bint function):
    """Tensor.split's dispatch (torch/_tensor.py): an int goes to split, a
    sequence to split_with_sizes. Returns (int or tuple, dim)."""
    cdef int off = 1 if function else 0
    if isinstance(split_size, Tensor):
        try:
            split_size = int(split_size)
        except (ValueError, RuntimeError, TypeError):
            pass
    if isinstance(split_size, (int, np.integer)):
        if isinstance(split_size, bool) or not is_int_like(dim, True):
            args = (x, split_size, dim)
            c1 = (True, not isinstance(split_size, bool), is_int_like(dim, True) and not isinstance(split_size, bool))
            c2 = (True, False, False)
            raise TypeError(
                f"split() received an invalid combination of arguments - got ({arg_types(args)}), but "
                "expected one of:\n"
                " * (Tensor input, int split_size, int dim = 0)\n"
                f"      didn't match because some of the arguments have invalid types: ({overload_marks(args, c1)})\n"
                " * (Tensor input, tuple of ints split_size, int dim = 0)\n"
                f"      didn't match because some of the arguments have invalid types: ({overload_marks(args, c2)})\n")
        return (_operator.index(split_size), _operator.index(dim))
    sizes = int_list_value(split_size, "split_with_sizes", "split_sizes", 2)
    return (sizes, int_arg(dim, "split_with_sizes", "dim", 3))


cdef tuple do_split(Tensor x, object split_size, object dim, bint function):
    cdef tuple parsed = split_args(x, split_size, dim, function)
    if isinstance(parsed[0], tuple):
        return op_split_with_sizes(x, <tuple>parsed[0], parsed[1])
    return op_split(x, parsed[0], parsed[1])


cdef Tensor do_narrow(Tensor x, object dim, object start, object length, bint function):
    cdef tuple args = (dim, start, length)
    cdef bint dim_ok = is_int_like(dim, True)
    cdef bint start_int = is_int_like(start, True) and not isinstance(start, Tensor)
    cdef bint start_tensor = isinstance(start, Tensor)
    cdef bint length_ok = is_int_like(length, True)
    cdef str pre = "Tensor input, " if function else ""
    cdef str pre_t = "Tensor, " if function else ""
    cdef Tensor st
    if not (dim_ok and length_ok and (start_int or start_tensor)):
        raise TypeError(
            f"narrow() received an invalid combination of arguments - got ({pre_t}{arg_types(args)}), but "
            "expected one of:\n"
            f" * ({pre}int dim, Tensor start, int length)\n"
            "      didn't match because some of the arguments have invalid types: "
            f"({pre_t}{overload_marks(args, (dim_ok, start_tensor, length_ok))})\n"
            f" * ({pre}int dim, int start, int length)\n"
            "      didn't match because some of the arguments have invalid types: "
            f"({pre_t}{overload_marks(args, (dim_ok, start_int, length_ok))})\n")
    if start_tensor:
        st = <Tensor>start
        if st._ndim != 0 or is_float(st._dtype):
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = scalar_value(st)
    return op_narrow(x, _operator.index(dim), _operator.index(start), _operator.index(length))




cdef Tensor do_cat(object tensors, object dim, object axis, object out, str fname):
    cdef list ts
    if axis is not NO_ARG:
        if dim is not NO_ARG:
            raise TypeError(f"{fname}() got an unexpected keyword argument 'axis'")
        dim = axis
    if dim is NO_ARG:
        dim = 0
    ts = tensor_list_arg(tensors, fname)
    return with_out(op_cat(ts, int_arg(dim, fname, "dim", 2)), out, fname)


def cat(tensors, dim=NO_ARG, *, axis=NO_ARG, out=None):
    """Concatenate tensors along an existing dim (PyTorch's torch.cat)."""
    return do_cat(tensors, dim, axis, out, "cat")


def concat(tensors, dim=NO_ARG, *, axis=NO_ARG, out=None):
    return do_cat(tensors, dim, axis, out, "concat")


def concatenate(tensors, axis=NO_ARG, *, dim=NO_ARG, out=None):
    # numpy's name takes `axis` positionally
    if dim is not NO_ARG and axis is not NO_ARG:
        raise TypeError("concatenate() got multiple values for argument 'axis'")
    return do_cat(tensors, NO_ARG if dim is NO_ARG else dim, axis, out, "concatenate")


def stack(tensors, dim=NO_ARG, *, out=None, axis=NO_ARG):
    """Join equal-shaped tensors along a new dim (PyTorch's torch.stack)."""
    dim = dim_or_axis(dim, axis, 0, "stack")
    return with_out(op_stack(tensor_list_arg(tensors, "stack"), int_arg(dim, "stack", "dim", 2)), out, "stack")


def split(tensor, split_size_or_sections, dim=0):
    """Views of `tensor` in pieces of one size (int) or of the given sizes."""
    return do_split(input_arg(tensor, "split"), split_size_or_sections, dim, True)


def split_with_sizes(input, split_sizes, dim=0):
    cdef Tensor x = input_arg(input, "split_with_sizes")
    return op_split_with_sizes(x, int_list_value(split_sizes, "split_with_sizes", "split_sizes", 2),
                               int_arg(dim, "split_with_sizes", "dim", 3))


def chunk(input, chunks, dim=NO_ARG, *, axis=NO_ARG):
    cdef Tensor x = input_arg(input, "chunk")
    dim = dim_or_axis(dim, axis, 0, "chunk")
    return op_chunk(x, int_arg(chunks, "chunk", "chunks", 2), int_arg(dim, "chunk", "dim", 3))


def unbind(input, dim=NO_ARG, *, axis=NO_ARG):
    cdef Tensor x = input_arg(input, "unbind")
    dim = dim_or_axis(dim, axis, 0, "unbind")
    return op_unbind(x, int_arg(dim, "unbind", "dim", 2))


def narrow(input, dim, start, length):
    return do_narrow(input_arg(input, "narrow"), dim, start, length, True)
