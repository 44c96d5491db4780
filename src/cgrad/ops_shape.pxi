# Shape and view ops. Views share their base's storage (and so its version
# counter) and only change shape, strides and offset; copies happen only in
# reshape/contiguous when no view can express the result, as in PyTorch.


cdef tuple infer_size(object shape_arg, Py_ssize_t numel):
    """Resolve a requested shape with at most one -1 against numel."""
    cdef list shape = [as_index(s, "size") for s in shape_arg]
    cdef Py_ssize_t known = 1
    cdef int infer_at = -1
    cdef int i
    for i in range(len(shape)):
        if shape[i] == -1:
            if infer_at >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif shape[i] < 0:
            raise RuntimeError(f"invalid shape dimension {shape[i]}")
        else:
            known *= shape[i]
    if infer_at >= 0:
        if known == 0 or numel % known != 0:
            raise RuntimeError(f"shape '{list_str(shape)}' is invalid for input of size {numel}")
        shape[infer_at] = numel // known
    elif known != numel:
        raise RuntimeError(f"shape '{list_str(shape)}' is invalid for input of size {numel}")
    return tuple(shape)


cdef str list_str(list xs):
    return "[" + ", ".join([str(x) for x in xs]) + "]"


cdef bint view_strides(Tensor x, int nd, const Py_ssize_t* shape, Py_ssize_t* out) noexcept:
    """Strides that let `shape` view x's memory, if any (PyTorch's
    computeStride): dims of x that are contiguous with each other form
    chunks, and each chunk must be split/merged independently."""
    cdef int view_d = nd - 1
    cdef int tensor_d, d
    cdef Py_ssize_t chunk_base_stride, tensor_numel = 1, view_numel = 1, st
    if x._numel == 0 or x._ndim == 0:
        st = 1
        for d in range(nd - 1, -1, -1):
            out[d] = st
            st *= shape[d] if shape[d] > 0 else 1
        return True
    chunk_base_stride = x._strides[x._ndim - 1]
    for tensor_d in range(x._ndim - 1, -1, -1):
        tensor_numel *= x._shape[tensor_d]
        if tensor_d == 0 or (x._shape[tensor_d - 1] != 1 and
                             x._strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                out[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = x._strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


cdef class ViewBackward0(Node):
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
    return make_view(x, nd, dims, strides, x._offset)


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
    """A view when one exists (ViewBackward0), else a copy (PyTorch:
    clone then _unsafe_view, so CloneBackward0 under UnsafeViewBackward0)."""
    cdef tuple shape = infer_size(shape_arg, x._numel)
    cdef Tensor out = view_as_shape(x, shape, False)
    cdef Tensor copy
    cdef ViewBackward0 vnode
    cdef UnsafeViewBackward0 unode
    if out is not None:
        if needs_grad(x):
            vnode = ViewBackward0.__new__(ViewBackward0)
            wire1(vnode, x)
            vnode.self_sizes = shape_tuple(x)
            set_history(out, vnode)
        return out
    copy = op_clone(x)
    out = view_as_shape(copy, shape, True)
    out._base = None   # the copy is private: the result owns it, as _unsafe_view does
    if needs_grad(copy):
        unode = UnsafeViewBackward0.__new__(UnsafeViewBackward0)
        wire1(unode, copy)
        unode.self_sizes = shape_tuple(copy)
        set_history(out, unode)
    return out


cdef class CloneBackward0(Node):
    cdef tuple apply(self, object grads):
        return (grads,)


cdef Tensor op_clone(Tensor x):
    cdef Tensor out = contiguous_copy(x)
    cdef CloneBackward0 node
    if needs_grad(x):
        node = CloneBackward0.__new__(CloneBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_contiguous(Tensor x):
    if x._contiguous:
        return x
    return op_clone(x)


cdef Tensor op_clone_contiguous(Tensor g):
    """A contiguous copy of a gradient for .grad (differentiable under
    create_graph, like PyTorch's)."""
    return op_clone(g)


cdef class ToCopyBackward0(Node):
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        return (op_to_dtype(<Tensor>grads, self.self_dtype),)


cdef Tensor op_to_dtype(Tensor x, int dt):
    cdef Tensor out
    cdef ToCopyBackward0 node
    if x._dtype == dt:
        return x
    out = cast_tensor(x, dt)
    if needs_grad(x) and is_float(dt):
        node = ToCopyBackward0.__new__(ToCopyBackward0)
        wire1(node, x)
        node.self_dtype = x._dtype
        set_history(out, node)
    return out


cdef class TBackward0(Node):
    cdef tuple apply(self, object grads):
        return (op_t(<Tensor>grads),)


cdef Tensor op_t(Tensor x):
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t strides[2]
    cdef Tensor out
    cdef TBackward0 node
    if x._ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x._ndim}D")
    if x._ndim < 2:
        out = make_view(x, x._ndim, x._shape, x._strides, x._offset)
    else:
        shape[0] = x._shape[1]
        shape[1] = x._shape[0]
        strides[0] = x._strides[1]
        strides[1] = x._strides[0]
        out = make_view(x, 2, shape, strides, x._offset)
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
    out = make_view(x, x._ndim, shape, strides, x._offset)
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
    out = make_view(x, x._ndim, shape, strides, x._offset)
    if needs_grad(x):
        node = TransposeBackward0.__new__(TransposeBackward0)
        wire1(node, x)
        node.dim0 = d0
        node.dim1 = d1
        set_history(out, node)
    return out


cdef class ExpandBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_sum_to(<Tensor>grads, self.self_sizes),)


cdef Tensor op_expand(Tensor x, tuple sizes):
    """x broadcast to `sizes` as a view (stride 0 on expanded dims); -1
    keeps a dim."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int nd = len(sizes)
    cdef int lead = nd - x._ndim
    cdef int i
    cdef Py_ssize_t want
    cdef Tensor out
    cdef ExpandBackward0 node
    if lead < 0:
        raise RuntimeError(
            f"expand({type_description(x)}{{}}, size={list_str(list(sizes))}): the number of sizes "
            f"provided ({nd}) must be greater or equal to the number of dimensions in the tensor ({x._ndim})")
    for i in range(nd):
        want = as_index(sizes[i], "size")
        if i < lead:
            if want < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({want}) isn't allowed in a leading, "
                    "non-existing dimension 0")
            shape[i] = want
            strides[i] = 0
        elif want == -1 or want == x._shape[i - lead]:
            shape[i] = x._shape[i - lead]
            strides[i] = x._strides[i - lead]
        elif x._shape[i - lead] == 1:
            if want < 0:
                raise RuntimeError(f"The expanded size of the tensor ({want}) isn't allowed")
            shape[i] = want
            strides[i] = 0
        else:
            raise RuntimeError(
                f"The expanded size of the tensor ({want}) must match the existing size "
                f"({x._shape[i - lead]}) at non-singleton dimension {i}.  Target sizes: "
                f"{list_str(list(sizes))}.  Tensor sizes: {shape_str(x._shape, x._ndim)}")
    out = make_view(x, nd, shape, strides, x._offset)
    if needs_grad(x):
        node = ExpandBackward0.__new__(ExpandBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


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
    for i in range(x._ndim + 1):
        if i == d:
            shape[i] = 1
            strides[i] = x._strides[d] * x._shape[d] if d < x._ndim else 1
        else:
            shape[i] = x._shape[j]
            strides[i] = x._strides[j]
            j += 1
    out = make_view(x, x._ndim + 1, shape, strides, x._offset)
    if needs_grad(x):
        node = UnsqueezeBackward0.__new__(UnsqueezeBackward0)
        wire1(node, x)
        node.dim = d
        set_history(out, node)
    return out


cdef class SqueezeBackward0(Node):
    cdef tuple self_sizes

    cdef tuple apply(self, object grads):
        return (op_reshape(<Tensor>grads, self.self_sizes),)


cdef class SqueezeBackward1(Node):
    cdef tuple self_sizes
    cdef int dim

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        if len(self.self_sizes) > g._ndim:
            return (op_unsqueeze(g, self.dim),)
        return (g,)


cdef class SqueezeBackward4(SqueezeBackward1):
    """The in-place squeeze_(dim) matmul uses on 1-D @ 2-D."""
    pass


cdef Tensor op_squeeze_dim(Tensor x, object dim, bint inplace_name):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int d = wrap_dim(as_index(dim, "dim"), x._ndim)
    cdef int i, nd = 0
    cdef Tensor out
    cdef SqueezeBackward1 node
    for i in range(x._ndim):
        if i == d and x._shape[i] == 1:
            continue
        shape[nd] = x._shape[i]
        strides[nd] = x._strides[i]
        nd += 1
    out = make_view(x, nd, shape, strides, x._offset)
    if needs_grad(x):
        node = (SqueezeBackward4.__new__(SqueezeBackward4) if inplace_name
                else SqueezeBackward1.__new__(SqueezeBackward1))
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = d
        set_history(out, node)
    return out


cdef Tensor op_squeeze_all(Tensor x):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, nd = 0
    cdef Tensor out
    cdef SqueezeBackward0 node
    for i in range(x._ndim):
        if x._shape[i] == 1:
            continue
        shape[nd] = x._shape[i]
        strides[nd] = x._strides[i]
        nd += 1
    out = make_view(x, nd, shape, strides, x._offset)
    if needs_grad(x):
        node = SqueezeBackward0.__new__(SqueezeBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out
