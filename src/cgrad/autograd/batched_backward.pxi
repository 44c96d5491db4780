# The batched backward of autograd.grad(..., is_grads_batched=True): the
# node-level half (cgrad/autograd/_batched_grad.py drives the pass).
#
# PyTorch runs the backward under vmap, so every formula sees cotangents with
# a batch dim in front. cgrad's formulas are C code over plain tensors, so
# each node type that matters has its formula restated here for a physical
# cotangent G of shape (B, *output shape), returning (B, *input shape) per
# input: the same ops with every dim shifted by one, or a broadcasting matmul
# where the formula multiplies by a saved matrix. A node without a rule here
# returns NotImplemented; the driver then applies the diagonal of an
# element-wise node (one call of its own backward on ones), or falls back to
# one apply() per sample with PyTorch's performance warning. Saved tensors
# are read through unpack_input, so the freed-graph and in-place-modified
# errors are PyTorch's, as in apply().
#
# Also here: the engine fields of a node and a tensor's grad edge, which the
# Python driver cannot read otherwise. Nothing on the per-op or engine path
# changes.


cdef bint vmap_fallback_warnings = False


def _debug_only_display_vmap_fallback_warnings(bint enabled):
    """PyTorch's switch for the legacy-vmap fallback warning (off by default)."""
    global vmap_fallback_warnings
    vmap_fallback_warnings = enabled


def _debug_only_are_vmap_fallback_warnings_enabled():
    return vmap_fallback_warnings


def _bb_node_state(Node n):
    """(sequence number, output count, next edges, next output numbers,
    whether the node carries hooks)."""
    return (n.seq, n.num_outputs, n.next_edges, n.next_nrs, bool(n.pre_hooks) or bool(n.post_hooks))


def _bb_grad_edge(Tensor t):
    """The node a gradient of t flows into (its grad_fn or its leaf's
    accumulator), None when t needs no gradient."""
    node = grad_edge(t)
    return None if node is FW_ONLY_EDGE else node


def _bb_apply(Node n, object grads):
    """n's own backward on one sample's output gradients (the fallback)."""
    return n.apply(grads)


def _bb_release(Node n):
    """Free n's saved values after the pass (retain_graph=False)."""
    n.release_saved()
    n.saved_freed = True
    n._packed = None


cdef Tensor bb_sum_to(Tensor g, tuple shape):
    """A batched gradient (B, *s) summed down to (B, *shape): op_sum_to
    with the batch dim kept."""
    cdef int lead = g._ndim - 1 - len(shape)
    cdef tuple target = (g._shape[0],) + (1,) * lead + shape
    g = op_sum_to(g, target)
    if lead:
        g = op_reshape(g, (g._shape[0],) + shape)
    return g


cdef Tensor bb_reduce(Tensor g, InputMeta* m, tuple shape):
    if m.broadcast:
        g = bb_sum_to(g, shape)
    if g._dtype != m.dtype:
        g = op_to_dtype(g, m.dtype)
    return g


cdef enum:
    # above this many multiply-adds OpenBLAS would start its own threads (see blas_pool.pxi)
    BB_NUMPY_MAX_MACS = 1 << 20


cdef Tensor bb_matmul(Tensor a, Tensor b):
    """a @ b for a batched formula. Without a graph or tangents to record,
    a small float product goes straight to numpy's matmul (one BLAS call),
    which for the products of a Jacobian's rows costs a fraction of op_mm's
    per-call planning."""
    cdef Tensor out
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int i, nd
    if (cgrad_grad_enabled and (a._requires_grad or b._requires_grad)) or cgrad_fwd_active \
            or a._dtype != b._dtype or (a._dtype != F32 and a._dtype != F64) \
            or a._ndim < 2 or b._ndim != 2 or a._numel == 0 or b._numel == 0:
        return op_matmul(a, b)
    nd = a._ndim
    for i in range(nd - 1):
        shape[i] = a._shape[i]
    shape[nd - 1] = b._shape[1]
    if a._shape[nd - 1] != b._shape[0] or a._numel * b._shape[1] > BB_NUMPY_MAX_MACS:
        # op_matmul raises PyTorch's error; a large product runs on cgrad's threads (blas_pool.pxi)
        return op_matmul(a, b)
    out = new_tensor(nd, shape, a._dtype)
    _np_matmul(ndarray_view(a), ndarray_view(b), out=ndarray_view(out))
    return out


cdef Tensor bb_t(Tensor m):
    """The transpose of a saved 2-D (or 1-D) matrix."""
    return op_t(m)


cdef Tensor bb_unsqueeze_dims(Tensor g, tuple dims):
    for d in dims:
        g = op_unsqueeze(g, d + 1)
    return g


def _bb_rule(Node n, Tensor g):
    """n's backward on a batched output gradient g (B, *output shape): one
    batched gradient (or None) per input, or NotImplemented."""
    cdef type t = type(n)
    cdef Py_ssize_t b = g._shape[0]
    cdef object ga = None, gb = None, gc = None
    cdef Tensor x, y
    cdef list inverse
    cdef int i
    if n.num_outputs != 1:
        return NotImplemented
    if t is UnsafeViewBackward0:
        return (op_reshape(g, (b,) + (<UnsafeViewBackward0>n).self_sizes),)
    if t is SoftmaxBackward0:
        y = unpack_output(n, (<SoftmaxBackward0>n).result, (<SoftmaxBackward0>n).result_version)
        x = op_mul(g, y)
        return (op_mul(y, op_sub(g, op_sum(x, ((<SoftmaxBackward0>n).dim + 1,), True))),)
    if t is LogSoftmaxBackward0:
        y = unpack_output(n, (<LogSoftmaxBackward0>n).result, (<LogSoftmaxBackward0>n).result_version)
        return (op_sub(g, op_mul(op_exp(y), op_sum(g, ((<LogSoftmaxBackward0>n).dim + 1,), True))),)
    if t is CatBackward0:
        return bb_cat(<CatBackward0>n, g)
    if t is StackBackward0:
        return bb_stack(<StackBackward0>n, g)
    if t is AddBackward0 or t is SubBackward0:
        if wants_grad(n, 0):
            ga = bb_reduce(g, &(<BinaryNode>n).ma, (<BinaryNode>n).shape_a)
        if wants_grad(n, 1):
            alpha = (<AddBackward0>n).alpha if t is AddBackward0 else (<SubBackward0>n).alpha
            if t is SubBackward0:
                gb = op_neg(g) if alpha is None else op_mul_scalar(g, -alpha)
            else:
                gb = g if alpha is None else op_mul_scalar(g, alpha)
            gb = bb_reduce(<Tensor>gb, &(<BinaryNode>n).mb, (<BinaryNode>n).shape_b)
        return (ga, gb)
    if t is MulBackward0:
        if (<MulBackward0>n).other is None and (<MulBackward0>n).other_scalar is not None:
            if n.saved_freed:
                raise RuntimeError(FREED_MSG)
            return (bb_reduce(op_mul_scalar(g, (<MulBackward0>n).other_scalar), &(<BinaryNode>n).ma, None),)
        if wants_grad(n, 0):
            y = unpack_input(n, (<MulBackward0>n).other, (<MulBackward0>n).other_version)
            ga = bb_reduce(op_mul(g, y), &(<BinaryNode>n).ma, (<BinaryNode>n).shape_a)
        if wants_grad(n, 1):
            x = unpack_input(n, (<MulBackward0>n).self_, (<MulBackward0>n).self_version)
            gb = bb_reduce(op_mul(g, x), &(<BinaryNode>n).mb, (<BinaryNode>n).shape_b)
        return (ga, gb)
    if t is DivBackward0:
        if (<DivBackward0>n).other is None and (<DivBackward0>n).other_scalar is not None:
            if n.saved_freed:
                raise RuntimeError(FREED_MSG)
            return (bb_reduce(op_div_scalar(g, (<DivBackward0>n).other_scalar), &(<BinaryNode>n).ma, None),)
        y = unpack_input(n, (<DivBackward0>n).other, (<DivBackward0>n).other_version)
        if wants_grad(n, 0):
            ga = bb_reduce(op_div(g, y), &(<BinaryNode>n).ma, (<BinaryNode>n).shape_a)
        if wants_grad(n, 1):
            x = unpack_input(n, (<DivBackward0>n).self_, (<DivBackward0>n).self_version)
            gb = bb_reduce(op_mul(op_neg(g), op_div(op_div(x, y), y)), &(<BinaryNode>n).mb,
                           (<BinaryNode>n).shape_b)
        return (ga, gb)
    if t is MmBackward0:
        if wants_grad(n, 0):
            y = unpack_input(n, (<MmBackward0>n).mat2, (<MmBackward0>n).mat2_version)
            ga = bb_matmul(g, bb_t(y))
        if wants_grad(n, 1):
            x = unpack_input(n, (<MmBackward0>n).self_, (<MmBackward0>n).self_version)
            gb = op_matmul(bb_t(x), g)
        return (ga, gb)
    if t is AddmmBackward0:
        alpha = (<AddmmBackward0>n).alpha
        beta = (<AddmmBackward0>n).beta
        x = g if alpha is None or alpha == 1 else op_mul_scalar(g, alpha)
        if wants_grad(n, 0):
            ga = bb_sum_to(g if beta is None or beta == 1 else op_mul_scalar(g, beta),
                           (<AddmmBackward0>n).self_sizes)
        if wants_grad(n, 1):
            y = unpack_input(n, (<AddmmBackward0>n).mat2, (<AddmmBackward0>n).mat2_version)
            gb = bb_matmul(x, bb_t(y))
        if wants_grad(n, 2):
            y = unpack_input(n, (<AddmmBackward0>n).mat1, (<AddmmBackward0>n).mat1_version)
            gc = op_matmul(bb_t(y), x)
        return (ga, gb, gc)
    if t is MvBackward0:
        if wants_grad(n, 0):
            y = unpack_input(n, (<MvBackward0>n).vec, (<MvBackward0>n).vec_version)
            ga = op_mul(op_unsqueeze(g, 2), op_unsqueeze(y, 0))
        if wants_grad(n, 1):
            x = unpack_input(n, (<MvBackward0>n).self_, (<MvBackward0>n).self_version)
            gb = bb_matmul(g, x)
        return (ga, gb)
    if t is DotBackward0:
        if wants_grad(n, 0):
            y = unpack_input(n, (<DotBackward0>n).tensor, (<DotBackward0>n).tensor_version)
            ga = op_mul(op_unsqueeze(g, 1), y)
        if wants_grad(n, 1):
            x = unpack_input(n, (<DotBackward0>n).self_, (<DotBackward0>n).self_version)
            gb = op_mul(op_unsqueeze(g, 1), x)
        return (ga, gb)
    if t is TBackward0:
        return (op_transpose(g, 1, 2) if g._ndim == 3 else g,)
    if t is TransposeBackward0:
        return (op_transpose(g, (<TransposeBackward0>n).dim0 + 1, (<TransposeBackward0>n).dim1 + 1),)
    if t is PermuteBackward0:
        dims = (<PermuteBackward0>n).dims
        inverse = [0] * (len(dims) + 1)
        for i in range(len(dims)):
            inverse[<int>dims[i] + 1] = i + 1
        return (op_permute(g, tuple(inverse)),)
    if t is ViewBackward0:
        return (op_reshape(g, (b,) + (<ViewBackward0>n).self_sizes),)
    if t is SqueezeBackward0:
        return (op_reshape(g, (b,) + (<SqueezeBackward0>n).self_sizes),)
    if t is UnsqueezeBackward0:
        return (op_squeeze_dim(g, (<UnsqueezeBackward0>n).dim + 1, False),)
    if t is ExpandBackward0:
        return (bb_sum_to(g, (<ExpandBackward0>n).self_sizes),)
    if t is CloneBackward0:
        return (g,)
    if t is SumBackward0:
        sizes = (<SumBackward0>n).self_sizes
        x = op_reshape(g, (b,) + (1,) * len(sizes))
        return ((<ReduceNode>n).to_input_dtype(op_expand(x, (b,) + sizes)),)
    if t is SumBackward1:
        x = g if (<SumBackward1>n).keepdim else bb_unsqueeze_dims(g, (<SumBackward1>n).dims)
        return ((<ReduceNode>n).to_input_dtype(op_expand(x, (b,) + (<SumBackward1>n).self_sizes)),)
    if t is MeanBackward0:
        sizes = (<MeanBackward0>n).self_sizes
        x = op_reshape(g, (b,) + (1,) * len(sizes))
        return ((<ReduceNode>n).to_input_dtype(
            op_div_scalar(op_expand(x, (b,) + sizes), (<MeanBackward0>n).count)),)
    if t is MeanBackward1:
        x = g if (<MeanBackward1>n).keepdim else bb_unsqueeze_dims(g, (<MeanBackward1>n).dims)
        return ((<ReduceNode>n).to_input_dtype(
            op_div_scalar(op_expand(x, (b,) + (<MeanBackward1>n).self_sizes), (<MeanBackward1>n).count)),)
    if t is SelectBackward0:
        return (op_select_backward(g, (b,) + (<SelectBackward0>n).self_sizes, (<SelectBackward0>n).dim + 1,
                                   (<SelectBackward0>n).index),)
    if t is SliceBackward0:
        return (op_slice_backward(g, (b,) + (<SliceBackward0>n).self_sizes, (<SliceBackward0>n).dim + 1,
                                  (<SliceBackward0>n).start, (<SliceBackward0>n).end,
                                  (<SliceBackward0>n).step),)
    return NotImplemented


cdef tuple bb_cat(CatBackward0 n, Tensor g):
    cdef list out = []
    cdef Py_ssize_t offset = 0, size
    cdef Tensor gi
    cdef int i
    for i in range(len(n.sizes)):
        shape = <tuple>n.sizes[i]
        if len(shape) == 1 and shape[0] == 0:
            # a legacy empty 1-D input: its gradient is empty too
            out.append(new_tensor_from_tuple((g._shape[0], 0), <int>n.dtypes[i], True) if wants_grad(n, i)
                       else None)
            continue
        size = shape[n.dim]
        if wants_grad(n, i):
            gi = op_narrow(g, n.dim + 1, offset, size)
            if gi._dtype != <int>n.dtypes[i]:
                gi = op_to_dtype(gi, <int>n.dtypes[i])
            out.append(gi)
        else:
            out.append(None)
        offset += size
    return tuple(out)


cdef tuple bb_stack(StackBackward0 n, Tensor g):
    cdef tuple parts = op_unbind(g, n.dim + 1)
    cdef list out = []
    cdef Tensor gi
    cdef int i
    for i in range(len(n.dtypes)):
        if not wants_grad(n, i):
            out.append(None)
            continue
        gi = <Tensor>parts[i]
        if gi._dtype != <int>n.dtypes[i]:
            gi = op_to_dtype(gi, <int>n.dtypes[i])
        out.append(gi)
    return tuple(out)


def _bb_rule_multi(Node n, list grads, Py_ssize_t b):
    """The batched backward of a multi-output view node (split, unbind):
    the batched output gradients joined along the shifted dim, zeros for
    outputs that got none; NotImplemented for other nodes."""
    cdef type t = type(n)
    cdef list parts = []
    cdef list piece
    cdef int i, dim, dt
    cdef tuple sizes
    if t is SplitBackward0 or t is SplitWithSizesBackward0:
        sizes = (<SplitBackward0>n).self_sizes
        dim = (<SplitBackward0>n).dim
        dt = (<SplitBackward0>n).dtype
        for i in range(len((<SplitBackward0>n).lengths)):
            if i < len(grads) and grads[i] is not None:
                parts.append(grads[i])
            else:
                piece = [b] + list(sizes)
                piece[dim + 1] = (<SplitBackward0>n).lengths[i]
                parts.append(new_tensor_from_tuple(tuple(piece), dt, True))
        return (op_cat(parts, dim + 1),)
    if t is UnbindBackward0:
        sizes = (<UnbindBackward0>n).self_sizes
        dim = (<UnbindBackward0>n).dim
        piece = [b] + list(sizes)
        del piece[dim + 1]
        for i in range(sizes[dim]):
            if i < len(grads) and grads[i] is not None:
                parts.append(grads[i])
            else:
                parts.append(new_tensor_from_tuple(tuple(piece), (<UnbindBackward0>n).dtype, True))
        return (op_stack(parts, dim + 1),)
    return NotImplemented
