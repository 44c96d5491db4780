# prelu: PyTorch's composite (checks, then the weight viewed to
# [1, C, 1, ...] so it broadcasts over the channel dim) over the kernel op
# _prelu_kernel, whose node is PreluKernelBackward0. The forward and both
# gradients are where/mul over the existing elementwise kernels; the
# gradients are ops, so they are differentiable under create_graph.


cdef class PreluKernelBackward0(Node):
    cdef readonly Tensor self_, weight
    cdef long long self_version, weight_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor w = unpack_input(self, self.weight, self.weight_version)
        cdef Tensor positive = op_compare(CMP_GT, x, 0)
        cdef object gx = None, gw = None
        if wants_grad(self, 0):
            gx = op_where(positive, g, op_mul(w, g))
        if wants_grad(self, 1):
            gw = op_sum_to(op_where(positive, 0.0, op_mul(x, g)), shape_tuple(w))
        return (gx, gw)

    @property
    def _saved_self(self):
        return saved_attr(self, self.self_, False)

    @property
    def _saved_weight(self):
        return saved_attr(self, self.weight, False)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.weight = None


cdef Tensor op_prelu_kernel(Tensor x, Tensor w):
    cdef Tensor xd, out
    cdef PreluKernelBackward0 node
    if x._dtype != w._dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {dtype_title(x._dtype)} and "
                           f"{dtype_title(w._dtype)}")
    if not is_float(x._dtype):
        raise NotImplementedError(f"\"prelu_cpu\" not implemented for '{dtype_title(x._dtype)}'")
    xd = alias_detached(x)
    out = op_where(op_compare(CMP_GT, xd, 0), xd, op_mul(alias_detached(w), xd))
    if needs_grad2(x, w):
        node = PreluKernelBackward0.__new__(PreluKernelBackward0)
        wire2(node, x, w)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.weight = w
        node.weight_version = save_version(node, w)
        set_history(out, node)
    return out


def _prelu_kernel(input, weight):
    cdef Tensor x = input_arg(input, "_prelu_kernel")
    if not isinstance(weight, Tensor):
        raise TypeError(f"_prelu_kernel(): argument 'weight' (position 2) must be Tensor, not "
                        f"{py_typename(weight)}")
    return op_prelu_kernel(x, <Tensor>weight)


def prelu(input, weight):
    """max(0, x) + weight * min(0, x), weight per channel (dim 1) or one
    value for all."""
    cdef Tensor x = input_arg(input, "prelu")
    cdef Tensor w
    cdef Py_ssize_t channels
    cdef list shape
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' (position 2) must be Tensor, not {py_typename(weight)}")
    w = <Tensor>weight
    # ATen's order: the dtypes, the channels (a weight of several values), the weight's rank
    if x._dtype != w._dtype:
        raise RuntimeError(f"prelu: Type promoting not supported. Got {dtype_title(x._dtype)} and "
                           f"{dtype_title(w._dtype)}")
    channels = x._shape[1] if x._ndim >= 2 else 1
    if w._numel != 1:
        if x._ndim == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        if w._numel != channels:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter "
                               f"numbers = {w._numel} and channel size = {channels}.")
    if w._ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {w._ndim}")
    if w._ndim != x._ndim:
        shape = [1] * x._ndim
        if x._ndim >= 2:
            shape[1] = w._numel
        w = op_view(w, tuple(shape))
    return op_prelu_kernel(x, w)
