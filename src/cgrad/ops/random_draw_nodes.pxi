# The nodes PyTorch records for draws whose parameters are tensors:
# bernoulli(p) (BernoulliBackward0), normal(mean, std) (NormalBackward1 for a
# tensor mean, 2 for a tensor std, 3 for both) and poisson(rates)
# (PoissonBackward0). A draw is not a smooth function of its parameters, so
# derivatives.yaml gives each parameter a zero gradient (and a zero tangent,
# cgrad/autograd/_jvp_rules_extra.py); bernoulli(input, p) has no derivative
# at all (PyTorch's NotImplemented node on input).


cdef class _ZeroGradDraw(Node):
    """Zeros for every tensor parameter, in its shape and dtype (a
    parameter that broadcast into the draw gets its own shape back)."""
    cdef tuple metas        # per input: (shape, dtype), or None for a number

    cdef tuple apply(self, object grads):
        return tuple(None if m is None else new_tensor_from_tuple(<tuple>m[0], <int>m[1], True)
                     for m in self.metas)


cdef class BernoulliBackward0(_ZeroGradDraw):
    pass


cdef class NormalBackward1(_ZeroGradDraw):
    pass


cdef class NormalBackward2(_ZeroGradDraw):
    pass


cdef class NormalBackward3(_ZeroGradDraw):
    pass


cdef class PoissonBackward0(_ZeroGradDraw):
    pass


cdef Tensor record_draw(Tensor out, type node_class, Tensor a, Tensor b):
    """History of a draw from tensor parameters a (and b, None when the
    overload has one): a node of node_class when either needs grad."""
    cdef _ZeroGradDraw node
    if not (needs_grad(a) or (b is not None and needs_grad(b))):
        return out
    node = node_class.__new__(node_class)
    if b is None:
        wire1(node, a)
        node.metas = ((shape_tuple(a), a._dtype),)
    else:
        wire2(node, a, b)
        node.metas = ((shape_tuple(a), a._dtype), (shape_tuple(b), b._dtype))
    set_history(out, node)
    return out
