# The explicit forward-mode formula of AsStridedBackward0 where it records
# a gather rather than a view: the backward of an in-place write into a
# view (CopySlices) reads the written region's gradient out of the base's
# gradient with op_view_gather, which forward-over-reverse (hvp through
# x[1:3].mul_(w)) then differentiates. The gather is linear in the gradient,
# so its tangent is the same gather of the gradient's tangent (as PyTorch's
# as_strided: self_t.as_strided(...)), one call instead of the extra
# backward the transpose of its VJP costs. A view of the base's storage
# (the history set_view_history gives a view after a write) keeps the view
# formula: the same view of the base's tangent.


def _jvp_view_gather(AsStridedBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    if t[0] is None:
        return NotImplemented
    if out._storage is (<Tensor>inputs[0])._storage:
        return _fw_view_tangent(<Tensor>inputs[0], t[0], out)
    return op_view_gather(<Tensor>t[0], n.geometry)


FW_NODE_RULES[AsStridedBackward0] = _jvp_view_gather
