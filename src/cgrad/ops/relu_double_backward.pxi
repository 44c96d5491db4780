# relu's backward as a recorded op: threshold_backward(grad, result, 0), the
# gradient where the result is positive. Under create_graph PyTorch records
# it as ThresholdBackwardBackward0 over (grad, result), so a second backward
# reaches the input through the result (with zeros: relu's second derivative)
# instead of finding no path and giving None.


cdef class ThresholdBackwardBackward0(Node):
    """The node of threshold_backward(grad, self=relu's result, 0):
    grad_output: threshold_backward(grad, self, 0); self: zeros."""
    cdef readonly Tensor self_
    cdef long long self_version

    cdef tuple apply(self, object grads):
        cdef Tensor gg = <Tensor>grads
        cdef Tensor y = unpack_input(self, self.self_, self.self_version)
        cdef object ga = None, gy = None
        if wants_grad(self, 0):
            ga = relu_grad_recorded(gg, y)
        if wants_grad(self, 1):
            gy = op_zeros_like(y)
        return (ga, gy)

    cdef object fw_jvp(self, tuple inputs, tuple tangents, Tensor out, int nr):
        # threshold_backward(grad_output_t, self_p, threshold)
        if tangents[0] is None:
            return op_zeros_like(out)
        return relu_grad_recorded(<Tensor>tangents[0], <Tensor>inputs[1])

    cdef void release_saved(self) noexcept:
        self.self_ = None


cdef Tensor relu_grad_recorded(Tensor g, Tensor y):
    """g where y > 0, else 0 (relu's backward from its result), recorded
    when g or y has history or a tangent. Shapes broadcast (a batched
    cotangent against an unbatched result)."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef Tensor out
    cdef ThresholdBackwardBackward0 node
    if not same_shape(g, y):
        nd = broadcast_shapes(g._ndim, g._shape, y._ndim, y._shape, shape)
        sizes = tuple([shape[i] for i in range(nd)])
        if shape_tuple(g) != sizes:
            g = op_expand(g, sizes)
        if shape_tuple(y) != sizes:
            y = op_expand(y, sizes)
    out = unary_backward(RELU_BWD, g, y)
    if needs_grad2(g, y):
        node = ThresholdBackwardBackward0.__new__(ThresholdBackwardBackward0)
        wire2(node, g, y)
        node.self_ = y
        node.self_version = save_version(node, y)
        set_history(out, node)
    return out
