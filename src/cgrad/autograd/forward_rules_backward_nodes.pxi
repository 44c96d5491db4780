# Explicit forward-mode formulas of the nodes a create_graph backward
# records for its own backward ops (pool, padding, embedding and nll_loss
# backward, select/slice backward, the view scatter of an in-place write's
# gradient): each such op is linear in the gradient it reads, so its
# tangent is the same op applied to that gradient's tangent (one call,
# instead of the extra backward the transpose of its VJP costs). Reached by
# forward-over-reverse (hvp, jacfwd(jacrev(f))).


def _jvp_pool_backward(_PoolBackwardNode n, tuple inputs, tuple t, Tensor out, int nr):
    if pool_has_indices(n.spec) and n.indices is None:
        return NotImplemented
    return op_pool_backward(<Tensor>t[0], n.indices, n.spec, out._dtype)


def _jvp_pad_backward(_PadBackwardNode n, tuple inputs, tuple t, Tensor out, int nr):
    return op_pad_backward(<Tensor>t[0], n.spec, out._dtype)


def _jvp_select_backward(SelectBackwardBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_select_backward(<Tensor>t[0], shape_tuple(out), n.dim, n.index)


def _jvp_slice_backward(SliceBackwardBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_slice_backward(<Tensor>t[0], shape_tuple(out), n.dim, n.start, n.end, n.step)


def _jvp_embedding_backward(EmbeddingDenseBackwardBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if n.indices is None:
        return NotImplemented
    return op_embedding_backward(<Tensor>t[0], n.indices, n.spec, out._dtype)


def _jvp_nll_backward(NllLossBackwardBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if n.target is None or n.total_weight is None:
        return NotImplemented
    return op_nll_backward(<Tensor>t[0], n.target, n.weight, n.total_weight, out._dtype, n.spec)


def _jvp_view_scatter(AsStridedScatterBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_view_scatter(<Tensor>t[0], n.geometry)


FW_NODE_RULES.update({
    MaxPool2DWithIndicesBackwardBackward0: _jvp_pool_backward, AvgPool2DBackwardBackward0: _jvp_pool_backward,
    AdaptiveAvgPool2DBackwardBackward0: _jvp_pool_backward,
    AdaptiveMaxPool2DBackwardBackward0: _jvp_pool_backward,
    ReflectionPad1DBackwardBackward0: _jvp_pad_backward, ReflectionPad2DBackwardBackward0: _jvp_pad_backward,
    ReflectionPad3DBackwardBackward0: _jvp_pad_backward, ReplicationPad1DBackwardBackward0: _jvp_pad_backward,
    ReplicationPad2DBackwardBackward0: _jvp_pad_backward, ReplicationPad3DBackwardBackward0: _jvp_pad_backward,
    SelectBackwardBackward0: _jvp_select_backward, SliceBackwardBackward0: _jvp_slice_backward,
    EmbeddingDenseBackwardBackward0: _jvp_embedding_backward,
    NllLossBackwardBackward0: _jvp_nll_backward, NllLoss2DBackwardBackward0: _jvp_nll_backward,
    AsStridedScatterBackward0: _jvp_view_scatter,
})
