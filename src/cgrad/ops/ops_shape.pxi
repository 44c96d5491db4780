# Shape and view ops. Views share their base's storage (and so its version
# counter) and only change shape, strides and offset; copies happen only in
# reshape/contiguous/clone, exactly where PyTorch copies:
#
#   view        always a view (ViewBackward0), or PyTorch's error
#   reshape     contiguous input: view (ViewBackward0); other viewable
#               geometry: _reshape_alias (ReshapeAliasBackward0); else a
#               contiguous clone under _unsafe_view (CloneBackward0 under
#               UnsafeViewBackward0)
#   flatten     reshape of the merged dims; the input itself when
#               start_dim == end_dim
#   clone       preserves the input's layout (PyTorch's preserve_format)
#   contiguous  the input itself when contiguous, else a contiguous clone
#
# The argument parsers and stride helpers are in shape_support.pxi.


# ---------------------------------------------------------------------------
# view / reshape / flatten


cdef class ViewBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef class ReshapeAliasBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef class UnsafeViewBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef Tensor view_as_shape(Tensor x, tuple shape, bint raise_error):
    """x viewed as `shape` (already resolved), or None when impossible."""
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int nd = len(shape)
    cdef int i
    if nd > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(nd):
        dims[i] = shape[i]
    if not view_strides(x, nd, dims, strides):
        if raise_error:
            raise RuntimeError(
                "view size is not compatible with input tensor's size and stride (at least one "
                "dimension spans across two contiguous subspaces). Use .reshape(...) instead.")
        return None
    return shape_view(x, nd, dims, strides, x._offset)


cdef Tensor op_view(Tensor x, object shape_arg):
    cdef tuple shape = infer_size(shape_arg, x._numel)
    cdef Tensor out = view_as_shape(x, shape, True)
    cdef ViewBackward0 node
    if needs_grad(x):
        node = ViewBackward0.__new__(ViewBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_reshape(Tensor x, object shape_arg):
    """PyTorch's reshape: view for a contiguous input (ViewBackward0),
    _reshape_alias when the geometry allows a view (ReshapeAliasBackward0),
    else a contiguous clone under _unsafe_view."""
    cdef tuple shape
    cdef Tensor out
    cdef ReshapeAliasBackward0 node
    if x._contiguous:
        return op_view(x, shape_arg)
    shape = infer_size(shape_arg, x._numel)
    out = view_as_shape(x, shape, False)
    if out is None:
        return op_unsafe_view(op_clone_contiguous(x), shape)
    if needs_grad(x):
        node = ReshapeAliasBackward0.__new__(ReshapeAliasBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_unsafe_view(Tensor x, tuple shape):
    """A fresh result under a new shape, recorded as PyTorch's _unsafe_view
    (UnsafeViewBackward0); the result is not a view (no _base)."""
    cdef Tensor out = view_as_shape(x, shape, True)
    cdef UnsafeViewBackward0 node
    out._base = None
    if needs_grad(x):
        node = UnsafeViewBackward0.__new__(UnsafeViewBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_flatten(Tensor x, object start_dim, object end_dim):
    cdef int s = wrap_dim(start_dim, x._ndim)
    cdef int e = wrap_dim(end_dim, x._ndim)
    cdef int i
    cdef Py_ssize_t n = 1
    cdef list shape
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if x._ndim == 0:
        return op_reshape(x, (1,))
    if s == e:
        return x
    for i in range(s, e + 1):
        n *= x._shape[i]
    shape = [x._shape[i] for i in range(s)]
    shape.append(n)
    shape.extend([x._shape[i] for i in range(e + 1, x._ndim)])
    return op_reshape(x, tuple(shape))


cdef Tensor op_unflatten(Tensor x, object dim, tuple sizes):
    cdef int d = wrap_dim(dim, x._ndim)
    cdef tuple inferred
    if len(sizes) == 0:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if x._ndim == 0:
        # PyTorch reads the size of dim 0 of a 0-d tensor: its IndexError, wrapped
        raise RuntimeError("unflatten got an unexpected error:\n"
                           "Dimension specified as 0 but tensor has no dimensions")
    try:
        inferred = infer_size(sizes, x._shape[d])
    except RuntimeError as err:
        if "shape '" in str(err):
            raise RuntimeError(
                f"unflatten: Provided sizes {list_str(list(sizes))} don't multiply up to the size of dim {d} "
                f"({x._shape[d]}) in the input tensor") from None
        raise RuntimeError(f"unflatten got an unexpected error:\n{err}") from None
    return op_view(x, shape_tuple(x)[:d] + inferred + shape_tuple(x)[d + 1:])


# ---------------------------------------------------------------------------
# clone / contiguous / dtype conversion


cdef class CloneBackward0(Node):
    cdef tuple apply(self, object grads):
        return (grads,)


cdef Tensor clone_kernel(Tensor x, bint contiguous):
    """A copy of x (no history): contiguous, or with x's layout preserved
    as PyTorch's preserve_format clone does (same strides when x is
    non-overlapping and dense, else dense strides in x's dim order)."""
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef Tensor out
    if x._ndim == 0 or (contiguous and x._contiguous):
        return contiguous_copy(x)
    if contiguous:
        out = new_tensor(x._ndim, x._shape, x._dtype)
        copy_layout(out, x)
        return out
    if non_overlapping_and_dense(x._ndim, x._shape, x._strides):
        out = new_strided(x._ndim, x._shape, x._strides, x._dtype)
        if x._numel:
            # same layout, one dense block each: a straight copy of the bytes
            if x._numel * ITEMSIZE[x._dtype] < (1 << 20):
                memcpy(out._data, x._data, x._numel * ITEMSIZE[x._dtype])
            else:
                with nogil:
                    copy_bytes(out._data, x._data, x._numel * ITEMSIZE[x._dtype])
        return out
    infer_dense_strides(x._ndim, x._shape, x._strides, strides)
    out = new_strided(x._ndim, x._shape, strides, x._dtype)
    copy_layout(out, x)
    return out


cdef Tensor record_clone(Tensor out, Tensor x):
    """out, a copy of x, recorded as CloneBackward0 when x needs grad."""
    cdef CloneBackward0 node
    if needs_grad(x):
        node = CloneBackward0.__new__(CloneBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor clone_with_history(Tensor x, bint contiguous):
    return record_clone(clone_kernel(x, contiguous), x)


cdef Tensor op_clone(Tensor x):
    """x.clone(): PyTorch's default preserve_format."""
    return clone_with_history(x, False)


cdef Tensor op_contiguous(Tensor x):
    if x._contiguous:
        return x
    return clone_with_history(x, True)


cdef Tensor op_clone_contiguous(Tensor g):
    """A contiguous copy (clone(memory_format=contiguous_format)), e.g. of a
    gradient for .grad (differentiable under create_graph, like PyTorch's)."""
    return clone_with_history(g, True)


cdef class ToCopyBackward0(Node):
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        return (op_to_dtype(<Tensor>grads, self.self_dtype),)


cdef int check_copy_size(Tensor x, int dt) except -1:
    """A converted copy's size check: PyTorch's copy of a non-contiguous
    tensor preserves its layout, so its overflow error names the strides."""
    cdef Py_ssize_t strides[MAX_DIMS]
    if not x._contiguous:
        infer_dense_strides(x._ndim, x._shape, x._strides, strides)
        strided_nbytes(x._ndim, x._shape, strides, dt)
    return 0


cdef Tensor op_to_dtype(Tensor x, int dt):
    if x._dtype == dt:
        return x
    check_copy_size(x, dt)
    if c_order_input(x):
        return record_to_copy(cast_tensor(x, dt), x)
    # PyTorch's preserve_format: a dense input's strides, else its dims' order
    cdef Tensor out = new_tensor_preserving(x._ndim, x._shape, x._strides, dt, False)
    copy_into(out, x)
    return record_to_copy(out, x)


cdef Tensor record_to_copy(Tensor out, Tensor x):
    """out, x converted (to, type, double, ...), recorded as
    ToCopyBackward0 when x needs grad and out is floating."""
    cdef ToCopyBackward0 node
    if needs_grad(x) and is_float(out._dtype):
        node = ToCopyBackward0.__new__(ToCopyBackward0)
        wire1(node, x)
        node.self_dtype = x._dtype
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# t / permute / transpose / T / mT


cdef class TBackward0(Node):
    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        if not cgrad_grad_enabled and is_transpose_of_base(g):
            return (g._base,)   # mm's (g^T @ x)^T: its base is already the transpose, contiguous
        return (op_t(g),)


cdef Tensor op_t(Tensor x):
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t strides[2]
    cdef Tensor out
    cdef TBackward0 node
    if x._ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._ndim}D")
    if x._ndim < 2:
        out = shape_view(x, x._ndim, x._shape, x._strides, x._offset)
    else:
        shape[0] = x._shape[1]
        shape[1] = x._shape[0]
        strides[0] = x._strides[1]
        strides[1] = x._strides[0]
        out = shape_view(x, 2, shape, strides, x._offset)
    if needs_grad(x):
        node = TBackward0.__new__(TBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef class PermuteBackward0(Node):
    cdef tuple dims

    cdef tuple apply(self, object grads):
        cdef list inverse = [0] * len(self.dims)
        cdef int i
        for i in range(len(self.dims)):
            inverse[self.dims[i]] = i
        return (op_permute(<Tensor>grads, tuple(inverse)),)


cdef Tensor op_permute(Tensor x, tuple dims_arg):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef bint seen[MAX_DIMS]
    cdef list dims = []
    cdef int i, d
    cdef Tensor out
    cdef PermuteBackward0 node
    if len(dims_arg) != x._ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x._ndim} is not "
            f"equal to len(dims) = {len(dims_arg)}")
    for i in range(x._ndim):
        seen[i] = False
    for i in range(x._ndim):
        d = wrap_dim(as_index(dims_arg[i], "dims"), x._ndim)
        if seen[d]:
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        seen[d] = True
        dims.append(d)
        shape[i] = x._shape[d]
        strides[i] = x._strides[d]
    out = shape_view(x, x._ndim, shape, strides, x._offset)
    if needs_grad(x):
        node = PermuteBackward0.__new__(PermuteBackward0)
        wire1(node, x)
        node.dims = tuple(dims)
        set_history(out, node)
    return out


cdef class TransposeBackward0(Node):
    cdef int dim0, dim1

    cdef tuple apply(self, object grads):
        return (op_transpose(<Tensor>grads, self.dim0, self.dim1),)


cdef Tensor op_transpose(Tensor x, object dim0, object dim1):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int d0 = wrap_dim(as_index(dim0, "dim0"), x._ndim)
    cdef int d1 = wrap_dim(as_index(dim1, "dim1"), x._ndim)
    cdef int i
    cdef Tensor out
    cdef TransposeBackward0 node
    for i in range(x._ndim):
        shape[i] = x._shape[i]
        strides[i] = x._strides[i]
    if x._ndim > 0:
        shape[d0], shape[d1] = x._shape[d1], x._shape[d0]
        strides[d0], strides[d1] = x._strides[d1], x._strides[d0]
    out = shape_view(x, x._ndim, shape, strides, x._offset)
    if needs_grad(x):
        node = TransposeBackward0.__new__(TransposeBackward0)
        wire1(node, x)
        node.dim0 = d0
        node.dim1 = d1
        set_history(out, node)
    return out


cdef void warn_user(str msg) except *:
    import warnings
    warnings.warn(msg, UserWarning, stacklevel=1)


cdef Tensor op_numpy_T(Tensor x):
    """x.T: all dims reversed (PermuteBackward0), with PyTorch's warnings."""
    if x._ndim == 0:
        warn_user("Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.")
    elif x._ndim != 2:
        warn_user(
            "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
            "deprecated and it will throw an error in a future release. Consider `x.mT` to "
            "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
            "reverse the dimensions of a tensor.")
    return op_permute(x, tuple(range(x._ndim - 1, -1, -1)))


cdef Tensor op_matrix_T(Tensor x, str name):
    """x.mT / x.mH (real tensors: the same): the last two dims swapped."""
    if x._ndim == 0:
        if name == "mT":
            warn_user("Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.")
        else:
            warn_user(f"Tensor.{name} is deprecated on 0-D tensors. Consider using x.conj().")
        return x
    if x._ndim < 2:
        raise RuntimeError(
            f"tensor.{name} is only supported on matrices or batches of matrices. Got {x._ndim}-D tensor.")
    return op_transpose(x, -2, -1)


cdef Tensor op_adjoint(Tensor x):
    if x._ndim == 0:
        warn_user("adjoint() is deprecated on 0-D tensors. Consider using x.conj().")
        return x
    if x._ndim < 2:
        raise RuntimeError(
            f"tensor.adjoint() is only supported on matrices or batches of matrices. Got {x._ndim}-D tensor.")
    return op_transpose(x, -2, -1)


cdef Tensor op_H(Tensor x):
    if x._ndim == 0:
        warn_user("Tensor.H is deprecated on 0-D tensors. Consider using x.conj().")
        return x
    if x._ndim != 2:
        raise RuntimeError(
            f"tensor.H is only supported on matrices (2-D tensors). Got {x._ndim}-D tensor."
            + (" For batches of matrices, consider using tensor.mH" if x._ndim > 2 else ""))
    return op_transpose(x, -2, -1)


# ---------------------------------------------------------------------------
# expand


cdef class ExpandBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_sum_to(<Tensor>grads, self.self_sizes),)


cdef Tensor op_expand(Tensor x, tuple sizes):
    """x broadcast to `sizes` as a view (PyTorch's inferExpandGeometry:
    stride 0 on expanded dims, -1 keeps a dim, errors from the last dim)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int nd = len(sizes)
    cdef int tdim = x._ndim
    cdef int i, d
    cdef Py_ssize_t want, size, stride
    cdef Tensor out
    cdef ExpandBackward0 node
    if nd < tdim:
        raise RuntimeError(
            f"expand(cgrad.{legacy_type_name(x._dtype)}{{{shape_str(x._shape, tdim)}}}, "
            f"size={list_str(list(sizes))}): the number of sizes provided ({nd}) must be greater or "
            f"equal to the number of dimensions in the tensor ({tdim})")
    if nd > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(nd - 1, -1, -1):
        want = as_index(sizes[i], "size")
        if tdim == 0:
            shape[i] = want
            strides[i] = 0
            continue
        d = tdim - nd + i
        size = x._shape[d] if d >= 0 else 1
        if d >= 0:
            stride = x._strides[d]
        else:
            stride = shape[i + 1] * strides[i + 1]
        if want == -1:
            if d < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor (-1) isn't allowed in a leading, non-existing "
                    f"dimension {i}")
            want = size
        if size != want:
            if size != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) must match the existing size ({size}) "
                    f"at non-singleton dimension {i}.  Target sizes: {list_str(list(sizes))}.  "
                    f"Tensor sizes: {shape_str(x._shape, tdim)}")
            size = want
            stride = 0
        shape[i] = size
        strides[i] = stride
    for i in range(nd):
        if shape[i] < 0:
            raise RuntimeError("numel: integer multiplication overflow")
    out = shape_view(x, nd, shape, strides, x._offset)
    if needs_grad(x):
        node = ExpandBackward0.__new__(ExpandBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# unsqueeze / squeeze


cdef class UnsqueezeBackward0(Node):
    cdef int dim

    cdef tuple apply(self, object grads):
        return (op_squeeze_dim(<Tensor>grads, self.dim, False),)


cdef Tensor op_unsqueeze(Tensor x, object dim):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim + 1)
    cdef int i, j = 0
    cdef Tensor out
    cdef UnsqueezeBackward0 node
    if x._ndim + 1 > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(x._ndim + 1):
        if i == d:
            shape[i] = 1
            strides[i] = x._strides[d] * x._shape[d] if d < x._ndim else 1
        else:
            shape[i] = x._shape[j]
            strides[i] = x._strides[j]
            j += 1
    out = shape_view(x, x._ndim + 1, shape, strides, x._offset)
    if needs_grad(x):
        node = UnsqueezeBackward0.__new__(UnsqueezeBackward0)
        wire1(node, x)
        node.dim = d
        set_history(out, node)
    return out


cdef class SqueezeBackward0(Node):
    """squeeze(): every size-1 dim dropped."""
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef class SqueezeBackward1(Node):
    """squeeze(dim)."""
    cdef tuple self_sizes
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        if len(self.self_sizes) > g._ndim:
            return (op_unsqueeze(g, self.dim),)
        return (g,)


cdef class SqueezeBackward2(Node):
    """squeeze(dims) with a tuple of dims."""
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef class SqueezeBackward4(SqueezeBackward1):
    """The in-place squeeze_(dim) matmul uses on 1-D @ 2-D."""
    pass


cdef Tensor squeeze_view(Tensor x, const bint* drop):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, nd = 0
    for i in range(x._ndim):
        if drop[i] and x._shape[i] == 1:
            continue
        shape[nd] = x._shape[i]
        strides[nd] = x._strides[i]
        nd += 1
    return shape_view(x, nd, shape, strides, x._offset)


cdef Tensor op_squeeze_dim(Tensor x, object dim, bint inplace_name):
    cdef bint drop[MAX_DIMS]
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    cdef int i
    cdef Tensor out
    cdef SqueezeBackward1 node
    for i in range(x._ndim):
        drop[i] = i == d
    out = squeeze_view(x, drop)
    if needs_grad(x):
        node = (SqueezeBackward4.__new__(SqueezeBackward4) if inplace_name
                else SqueezeBackward1.__new__(SqueezeBackward1))
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = d
        set_history(out, node)
    return out


cdef Tensor op_squeeze_dims(Tensor x, tuple dims):
    cdef bint drop[MAX_DIMS]
    cdef int i, d
    cdef Tensor out
    cdef SqueezeBackward2 node
    for i in range(MAX_DIMS):
        drop[i] = False
    for v in dims:
        d = wrap_dim(as_index(v, "dim"), x._ndim)
        if drop[d]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        drop[d] = True
    out = squeeze_view(x, drop)
    if needs_grad(x):
        node = SqueezeBackward2.__new__(SqueezeBackward2)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_squeeze_all(Tensor x):
    cdef bint drop[MAX_DIMS]
    cdef int i
    cdef Tensor out
    cdef SqueezeBackward0 node
    for i in range(x._ndim):
        drop[i] = True
    out = squeeze_view(x, drop)
    if needs_grad(x):
        node = SqueezeBackward0.__new__(SqueezeBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_squeeze_any(Tensor x, object dim):
    """squeeze with the parsed dim argument: None, an int or a tuple."""
    if dim is None:
        return op_squeeze_all(x)
    if isinstance(dim, tuple):
        return op_squeeze_dims(x, <tuple>dim)
    return op_squeeze_dim(x, dim, False)


# ---------------------------------------------------------------------------
# cgrad.* functions of this family


def flatten(input, start_dim=0, end_dim=-1):
    cdef Tensor x = input_arg(input, "flatten")
    return op_flatten(x, int_arg(start_dim, "flatten", "start_dim", 2), int_arg(end_dim, "flatten", "end_dim", 3))


def unflatten(input, dim, sizes):
    cdef Tensor x = input_arg(input, "unflatten")
    return op_unflatten(x, int_arg(dim, "unflatten", "dim", 2), int_list_value(sizes, "unflatten", "sizes", 3))


def ravel(input):
    return op_view(op_contiguous(input_arg(input, "ravel")), (-1,))


def swapaxes(input, axis0, axis1):
    cdef Tensor x = input_arg(input, "swapaxes")
    return op_transpose(x, int_arg(axis0, "swapaxes", "axis0", 2), int_arg(axis1, "swapaxes", "axis1", 3))


def swapdims(input, dim0, dim1):
    cdef Tensor x = input_arg(input, "swapdims")
    return op_transpose(x, int_arg(dim0, "swapdims", "dim0", 2), int_arg(dim1, "swapdims", "dim1", 3))


def adjoint(input):
    return op_adjoint(input_arg(input, "adjoint"))
