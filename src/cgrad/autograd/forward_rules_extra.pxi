# Explicit forward-mode formulas of hand-written ops whose nodes keep their
# parameters in C fields (forward_rules.pxi's convention: rule(node, inputs,
# tangents, out, nr)): unfold/fold, div with a rounding mode, and PyTorch's
# refusal for embedding_bag. The formulas of nodes whose saved state Python
# can read (linalg, sort, cumulative ops, ...) are in
# cgrad/autograd/_jvp_rules_extra.py.


def _jvp_im2col(Im2ColBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # im2col is linear: the op applied to the tangent
    return op_im2col(<Tensor>t[0], n.spec)


def _jvp_col2im(Col2ImBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    return op_col2im(<Tensor>t[0], n.spec, shape_tuple(out))


def _jvp_div_rounding(DivBackward2 n, tuple inputs, tuple t, Tensor out, int nr):
    # rounding_mode.has_value() ? zeros : self_t / other_p - other_t * (self_p / other_p) / other_p
    cdef object total = None
    cdef Tensor other = n.other     # a number divisor: its wrapped tensor
    if n.rounding_mode is not None:
        return op_zeros_like(out)
    if t[0] is not None:
        total = op_div(<Tensor>t[0], other)
    if len(t) > 1 and t[1] is not None:
        total = plus_terms(total, op_neg(op_div(op_mul(<Tensor>t[1], out), other)))
    return total


def _jvp_not_implemented(str aten_name):
    """PyTorch's error for an op whose derivatives.yaml entry has no result:
    formula (not_implemented("...") in its forward)."""
    def rule(Node n, tuple inputs, tuple t, Tensor out, int nr):
        raise NotImplementedError(
            f"Trying to use forward AD with {aten_name} that does not support it because it has not been "
            "implemented yet.\nPlease file an issue to PyTorch at "
            "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that we can "
            "prioritize its implementation or submit a PR adding the implementation to derivatives.yaml")
    return rule


def _jvp_diag_place(DiagEmbedBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # diag(vector, k) is linear: the op applied to the tangent
    return op_diag_place(<Tensor>t[0], out._shape[0], out._shape[1], n.offset)


def _jvp_diag_extract(DiagonalBackward0_copy n, tuple inputs, tuple t, Tensor out, int nr):
    return op_diag_extract(<Tensor>t[0], n.offset)


cdef object rnn_fw_cache = None     # (node, outputs of its decomposed layer): one run serves all outputs


def _jvp_rnn_layer(_RnnLayerNode n, tuple inputs, tuple t, Tensor out, int nr):
    # the fused layer's tangent through its decomposed cells (cgrad/nn/_rnn_math.py, the graph its
    # double backward differentiates), each cell op's own formula
    global rnn_fw_cache
    from cgrad.nn._rnn_math import composite_layer
    if rnn_fw_cache is None or rnn_fw_cache[0] is not n:
        rnn_fw_cache = (n, _fw_run_active(composite_layer, n.mode, n.reverse, *n.inputs, n.lengths))
    value = rnn_fw_cache[1][nr]
    if nr == n.num_outputs - 1:
        rnn_fw_cache = None
    tan = None if value is None else (<Tensor>value)._fw_grad
    return op_zeros_like(out) if tan is None else tan


def _jvp_index_add_zeros(IndexAddBackward0 n, tuple inputs, tuple t, Tensor out, int nr):
    # index_select's backward as an op: zeros.index_add(dim, index, source_t)
    return op_index_add_zeros(shape_tuple(out), n.dim, n.index, <Tensor>t[1])


FW_NODE_RULES.update({
    IndexAddBackward0: _jvp_index_add_zeros, IndexPutImplBackward0: _jvp_index_put,
    MkldnnRnnLayerBackward0: _jvp_rnn_layer, RnnFusedLayerBackward0: _jvp_rnn_layer,
    DiagEmbedBackward0: _jvp_diag_place, DiagonalBackward0_copy: _jvp_diag_extract,
    Im2ColBackward0: _jvp_im2col, Col2ImBackward0: _jvp_col2im, DivBackward2: _jvp_div_rounding,
    EmbeddingBagBackward0: _jvp_not_implemented("_embedding_bag"),
})


def _fw_not_implemented_rule(str aten_name):
    return _jvp_not_implemented(aten_name)
