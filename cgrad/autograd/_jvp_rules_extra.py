"""Forward-mode formulas of the remaining compiled nodes that need no C
field: random fills (zero tangents), views whose tangent is not laid out as
their input, remainder / fmod by a tensor, and prelu; plus the list of node
types that still take the transpose of their VJP (the table-driven test in
tests/autograd/test_jvp_coverage.py holds every differentiable node to an
explicit formula or to this list).

Rules are rule(node, inputs, tangents, out, nr), registered on the node type
(cgrad._C._fw_register_node_rule), PyTorch's derivatives.yaml `result:`
entries.
"""
from cgrad import _C


def _zeros(node, inputs, t, out, nr):
    # normal_, uniform_, bernoulli, ...: result: self_t.zero_() (auto_element_wise of a constant)
    return _C.zeros_like(out)


def _view(node, inputs, t, out, nr):
    # a view's tangent is the same view of its input's tangent, laid out as the input first
    # (PyTorch's new_with_same_meta + copy_ for a tangent of another layout)
    if t[0] is None:
        return NotImplemented
    return _C._fw_view_tangent(inputs[0], t[0], out)


def _remainder_like(rounding):
    def rule(node, inputs, t, out, nr):
        # self_t - other_t * self_p.div(other_p, rounding_mode=floor|trunc)
        a, b = inputs
        if t[1] is None:
            return t[0].clone()
        term = t[1] * a.div(b, rounding_mode=rounding)
        return -term if t[0] is None else t[0] - term
    return rule


def _prelu(node, inputs, t, out, nr):
    # where(self_p >= 0, self_t, weight_p * self_t + weight_t * self_p)
    x, w = inputs
    negative = None
    if t[0] is not None:
        negative = w * t[0]
    if t[1] is not None:
        term = t[1] * x
        negative = term if negative is None else negative + term
    positive = _C.zeros_like(out) if t[0] is None else t[0]
    return _C.where(x >= 0, positive, negative)


RANDOM_NODES = ("BernoulliBackward1", "BernoulliBackward2", "CauchyBackward0", "ExponentialBackward0",
                "GeometricBackward0", "LogNormalBackward0", "NormalBackward0", "RandomBackward0",
                "UniformBackward0", "BernoulliBackward0", "NormalBackward1", "NormalBackward2", "NormalBackward3",
                "PoissonBackward0")
# (AsStridedBackward0's rule is compiled: src/cgrad/forward_rules_view_gather.pxi)
VIEW_NODES = ("AliasBackward0", "ExpandBackward0", "PermuteBackward0",
              "ReshapeAliasBackward0", "SelectBackward0", "SliceBackward0", "SplitBackward0",
              "SplitWithSizesBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2",
              "SqueezeBackward3", "SqueezeBackward4", "SqueezeBackward5", "TBackward0", "TBackward1",
              "TransposeBackward0", "TransposeBackward1", "UnbindBackward0", "UnsqueezeBackward0",
              "UnsqueezeBackward1", "ViewBackward0")

# Differentiable nodes still served by the transpose of their VJP (one extra
# backward per tangent): CopySlices, whose writes forward_ad.pxi handles
# itself (fw_record_write). The backward-of-backward nodes have their own
# formulas (src/cgrad/forward_rules_backward_nodes.pxi).
TRANSPOSED = frozenset("""
CopySlices
""".split())

for _name in RANDOM_NODES:
    _C._fw_register_node_rule(getattr(_C, _name), _zeros)
for _name in VIEW_NODES:
    _C._fw_register_node_rule(getattr(_C, _name), _view)
# torch.cholesky (the deprecated spelling) has no forward formula in PyTorch
_C._fw_register_node_rule(_C.CholeskyBackward0, _C._fw_not_implemented_rule("cholesky"))
_C._fw_register_node_rule(_C.RemainderBackward1, _remainder_like("floor"))
_C._fw_register_node_rule(_C.FmodBackward1, _remainder_like("trunc"))
_C._fw_register_node_rule(_C.PreluKernelBackward0, _prelu)
