"""The explicit forward-mode formulas of the hand-written ops
(src/cgrad/forward_rules.pxi and cgrad/autograd/_jvp_rules.py): each op
below is served by its own formula, never by the transpose of its VJP, and
its tangent matches finite differences, the VJP through the transpose
(<J t, u> == <t, J^T u>), torch.autograd.forward_ad and torch.func.jvp.
Second order through an explicit formula (jacrev over jacfwd, reverse over
forward) matches torch.func."""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from cgrad.autograd import _jvp_rules

from fwd_helpers import dual_positions, run_dual, torch
from jvp_samples import IDX, P, R, SAMPLES
from test_jvp_ops import check_tangent

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

# samples of jvp_samples whose ops still take the transpose of their VJP
TRANSPOSED = set()


def _square(n, shift=3.0):
    return R(n, n) + shift * np.eye(n)


def _setitem_indices(L, a, b):
    a[L.tensor([2, 0])] = b
    return a


# out-of-place index_put is a composite (cgrad/_ops_index_extra.py) whose node's VJP is transposed:
# checked for values (finite differences, the VJP, torch), not for an explicit formula
INDEX_PUT = [
    ("index_put", lambda L, a, v: a.index_put((L.tensor([0, 2]),), v), [R(3, 2), R(2, 2)], 2),
    ("index_put_values_only", lambda L, a, v: a.index_put((L.tensor([0, 2]),), v), [R(3, 2), R(2, 2)], (1,)),
    ("index_put_accumulate", lambda L, a, v: a.index_put((L.tensor([1, 1]),), v, accumulate=True),
     [R(3, 2), R(2, 2)], 2),
]

EXTRA = [
    ("fmax", lambda L, a, b: L.fmax(a, b), [R(3, 4), R(4)], 2),
    ("fmin", lambda L, a, b: L.fmin(a, b), [R(3, 4), R(3, 4)], 2),
    ("amin", lambda L, a: a.amin((0, 1)), [R(3, 4)], 1),
    ("max_all", lambda L, a: a.max(), [R(3, 4)], 1),
    ("min_dim_keepdim", lambda L, a: a.min(0, keepdim=True)[0], [R(3, 4)], 1),
    ("var_all", lambda L, a: a.var(), [R(3, 4)], 1),
    ("var_dims_keepdim", lambda L, a: a.var((0, 2), keepdim=True, correction=0), [R(2, 3, 4)], 1),
    ("std_dim", lambda L, a: a.std(0), [R(3, 4)], 1),
    ("norm_dim", lambda L, a: L.linalg.vector_norm(a, dim=1), [R(3, 4)], 1),
    ("norm_l1", lambda L, a: L.linalg.vector_norm(a, ord=1), [R(3, 4)], 1),
    ("logsumexp_keepdim", lambda L, a: a.logsumexp((0, 1), keepdim=True), [R(3, 4)], 1),
    ("mean_all", lambda L, a: a.mean(), [R(3, 4)], 1),
    ("sum_dims", lambda L, a: a.sum((0, 2)), [R(2, 3, 4)], 1),
    ("sub_alpha", lambda L, a, b: L.sub(a, b, alpha=0.5), [R(3, 4), R(3, 4)], 2),
    ("sub_other_only", lambda L, a, b: a - b, [R(3, 4), R(3, 4)], (1,)),
    ("add_other_only", lambda L, a, b: L.add(a, b, alpha=3.0), [R(3, 4), R(3, 4)], (1,)),
    ("div_scalar", lambda L, a: a / 4.0, [R(3, 4)], 1),
    ("pow_exponent_only", lambda L, a, b: a ** b, [P(3, 4), R(3, 4)], (1,)),
    ("clamp_min_tensor", lambda L, a, lo: L.clamp(a, min=lo), [R(3, 4), R(4)], 2),
    ("clamp_max_tensor", lambda L, a, hi: L.clamp(a, max=hi), [R(3, 4), R(3, 4)], 2),
    ("clamp_both_tensors", lambda L, a, lo, hi: L.clamp(a, lo, hi),
     [R(3, 4), R(3, 4, lo=-2.0, hi=-0.3), R(3, 4, lo=0.3, hi=2.0)], 3),
    ("clamp_min_fn", lambda L, a, lo: L.clamp_min(a, lo), [R(3, 4), R(3, 4)], 2),
    ("clamp_max_fn", lambda L, a, hi: L.clamp_max(a, hi), [R(3, 4), R(4)], 2),
    ("clamp_min_scalar", lambda L, a: a.clamp_min(0.2), [R(3, 4)], 1),
    ("where_self_only", lambda L, a, b: L.where(b > 0, a, b), [R(3, 4), R(3, 4)], 1),
    ("triu", lambda L, a: a.triu(1), [R(4, 4)], 1),
    ("masked_fill_tensor", lambda L, a, v: a.masked_fill(a > 0, v), [R(3, 4), R()], 2),
    ("smooth_l1", lambda L, a, b: L.nn.functional.smooth_l1_loss(a, b, beta=0.5), [R(3, 4), R(3, 4)], 2),
    ("bce_none", lambda L, a, b: L.nn.functional.binary_cross_entropy(a, b, reduction="none"),
     [R(3, 4, lo=0.1, hi=0.9), R(3, 4, lo=0.0, hi=1.0)], 1),
    ("mse_sum", lambda L, a, b: L.nn.functional.mse_loss(a, b, reduction="sum"), [R(3, 4), R(3, 4)], 2),
    ("mse_none_target", lambda L, a, b: L.nn.functional.mse_loss(a, b, reduction="none"),
     [R(3, 4), R(3, 4)], (1,)),
    ("nll_weight_ignore", lambda L, a, y, w: L.nn.functional.nll_loss(a, y, w, ignore_index=1),
     [R(4, 3), IDX(0, 1, 2, 2), P(3)], 1),
    ("cross_entropy_sum", lambda L, a, y: L.nn.functional.cross_entropy(a, y, reduction="sum"),
     [R(3, 5), IDX(4, 0, 2)], 1),
    ("cross_entropy_probs", lambda L, a, p: L.nn.functional.cross_entropy(a, p), [R(3, 5), P(3, 5)], 1),
    ("conv1d", lambda L, x, w, b: L.nn.functional.conv1d(x, w, b, stride=2), [R(2, 2, 7), R(3, 2, 3), R(3)], 3),
    ("conv2d_weight_only", lambda L, x, w: L.nn.functional.conv2d(x, w), [R(1, 2, 4, 4), R(2, 2, 2, 2)], (1,)),
    ("adaptive_avg_pool2d", lambda L, x: L.nn.functional.adaptive_avg_pool2d(x, 2), [R(1, 2, 5, 5)], 1),
    ("adaptive_max_pool2d", lambda L, x: L.nn.functional.adaptive_max_pool2d(x, 2), [R(1, 2, 4, 4)], 1),
    ("reflection_pad", lambda L, x: L.nn.functional.pad(x, (2, 1), mode="reflect"), [R(2, 3, 4)], 1),
    ("replication_pad", lambda L, x: L.nn.functional.pad(x, (1, 1, 2, 0), mode="replicate"), [R(1, 2, 3, 3)], 1),
    ("atan2_other_only", lambda L, a, b: L.atan2(a, b), [R(3, 4), P(3, 4)], (1,)),
    ("cat_one_dual", lambda L, a, b: L.cat([a, b], 1), [R(3, 4), R(3, 2)], 1),
    ("stack_second_dual", lambda L, a, b: L.stack([a, b]), [R(3, 4), R(3, 4)], (1,)),
    ("index_two_dims", lambda L, a, i: a[i, 1:], [R(4, 3), IDX(3, 0)], 1),
    ("gelu_tanh", lambda L, a: L.nn.functional.gelu(a, approximate="tanh"), [R(3, 4)], 1),
    ("elu_inplace", lambda L, a: L.nn.functional.elu(a.clone(), inplace=True), [R(3, 4)], 1),
    ("softmax_dim0", lambda L, a: L.softmax(a, 0), [R(3, 4)], 1),
    ("addmm_bias_only", lambda L, c, a, b: L.addmm(c, a, b), [R(3, 5), R(3, 4), R(4, 5)], 1),
    ("layer_norm_2d", lambda L, a, w: L.nn.functional.layer_norm(a, (3, 4), w), [R(2, 3, 4), R(3, 4)], 2),
    ("layer_norm_input_only", lambda L, a: L.nn.functional.layer_norm(a, (4,)), [R(3, 4)], 1),
    ("group_norm", lambda L, a, w, b: L.nn.functional.group_norm(a, 2, w, b), [R(2, 4, 3), R(4), R(4)], 3),
    ("batch_norm_train", lambda L, a, w, b: L.nn.functional.batch_norm(a, None, None, w, b, training=True),
     [R(5, 3, 2), R(3), R(3)], 3),
    ("batch_norm_eval", lambda L, a, m, v: L.nn.functional.batch_norm(a, m, v, training=False),
     [R(4, 3), R(3), P(3)], 1),
    ("linear_no_bias", lambda L, x, w: L.nn.functional.linear(x, w), [R(2, 4), R(3, 4)], 2),
    # prod, scatter, index_put, the writes, linalg (PyTorch's derivatives.yaml result: formulas)
    ("prod_all", lambda L, a: a.prod(), [R(3, 4)], 1),
    ("prod_dim_keepdim_zero", lambda L, a: a.prod(0, keepdim=True),
     [np.array([[0.0, 2.0, 1.5], [3.0, 0.0, -1.0], [1.0, 4.0, 0.5]])], 1),
    ("scatter_src", lambda L, a, s: a.scatter(1, L.tensor([[0, 2], [1, 0]]), s), [R(2, 3), R(2, 2)], 2),
    ("scatter_src_only", lambda L, a, s: a.scatter(1, L.tensor([[0, 2], [1, 0]]), s), [R(2, 3), R(2, 2)], (1,)),
    ("scatter_value", lambda L, a: a.scatter(1, L.tensor([[0, 2], [1, 0]]), 2.0), [R(2, 3)], 1),
    ("scatter_add", lambda L, a, s: a.scatter_add(0, L.tensor([[0, 1, 0]]), s), [R(2, 3), R(1, 3)], 2),
    ("setitem_indices", lambda L, a, b: _setitem_indices(L, a.clone(), b), [R(3, 4), R(2, 4)], 2),
    ("copy_broadcast", lambda L, a, b: a.clone().copy_(b), [R(3, 4), R(4)], 2),
    ("fill_tensor", lambda L, a, v: a.clone().fill_(v), [R(3, 4), R()], 2),
    ("fill_number", lambda L, a: a.clone().fill_(2.0), [R(3, 4)], 1),
    ("zero_", lambda L, a: a.clone().zero_(), [R(3, 4)], 1),
    ("trace", lambda L, a: a.trace(), [R(3, 4)], 1),
    ("kron_unsafe_view", lambda L, a, b: L.kron(a, b), [R(2, 3), R(3, 2)], 2),
    ("linalg_inv", lambda L, a: L.linalg.inv(a), [_square(3)], 1),
    ("linalg_inv_batched", lambda L, a: L.inverse(a), [np.stack([_square(3), _square(3)])], 1),
    ("linalg_det", lambda L, a: L.linalg.det(a), [_square(3)], 1),
    ("linalg_slogdet", lambda L, a: L.linalg.slogdet(a)[1], [_square(3)], 1),
    ("linalg_solve", lambda L, a, b: L.linalg.solve(a, b), [_square(3), R(3, 2)], 2),
    ("linalg_solve_vector", lambda L, a, b: L.linalg.solve(a, b), [_square(3), R(3)], 2),
    ("linalg_solve_right", lambda L, a, b: L.linalg.solve(a, b, left=False), [_square(3), R(3, 3)], 2),
    ("linalg_solve_b_only", lambda L, a, b: L.linalg.solve(a, b), [_square(3), R(3, 2)], (1,)),
    ("linalg_cholesky", lambda L, a: L.linalg.cholesky(a @ a.mT + 3 * L.eye(3, dtype=a.dtype)), [R(3, 3)], 1),
    ("linalg_cholesky_upper", lambda L, a: L.linalg.cholesky(a @ a.mT + 3 * L.eye(3, dtype=a.dtype), upper=True),
     [R(3, 3)], 1),
]

EXPLICIT = [s for s in SAMPLES if s[0] not in TRANSPOSED] + EXTRA


@pytest.mark.parametrize("name,fn,inputs,n_dual", INDEX_PUT, ids=[s[0] for s in INDEX_PUT])
def test_index_put_jvp(name, fn, inputs, n_dual):
    check_tangent(fn, inputs, positions_of(inputs, n_dual))


def positions_of(inputs, n_dual):
    return list(n_dual) if isinstance(n_dual, tuple) else dual_positions(inputs, n_dual)


@pytest.fixture
def transpose_calls():
    """The ops whose tangent came from the transpose while the test ran."""
    calls = []

    def counting(node, *args):
        calls.append(type(node).__name__)
        return _jvp_rules.transposed_jvp(node, *args)
    _C._fw_set_rules(_jvp_rules.RULES, counting)
    try:
        yield calls
    finally:
        _C._fw_set_rules(_jvp_rules.RULES, _jvp_rules.transposed_jvp)


@pytest.mark.parametrize("name,fn,inputs,n_dual", EXPLICIT, ids=[s[0] for s in EXPLICIT])
def test_explicit_jvp(name, fn, inputs, n_dual, transpose_calls):
    positions = positions_of(inputs, n_dual)
    check_tangent(fn, inputs, positions)
    assert transpose_calls == [], f"served by the transpose of the VJP: {transpose_calls}"


@requires_torch
@pytest.mark.parametrize("name,fn,inputs,n_dual", EXPLICIT, ids=[s[0] for s in EXPLICIT])
def test_explicit_jvp_matches_torch_func(name, fn, inputs, n_dual):
    positions = positions_of(inputs, n_dual)
    rng = np.random.default_rng(11)
    tangents = [rng.standard_normal(inputs[i].shape) for i in positions]

    def run(lib):
        args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in inputs]

        def f(*duals):
            full = list(args)
            for i, d in zip(positions, duals):
                full[i] = d
            return fn(lib, *full)
        return lib.func.jvp(f, tuple(args[i] for i in positions), tuple(lib.tensor(t) for t in tangents))

    (out, tan), (out_t, tan_t) = run(cgrad), run(torch)
    outs, tans = (out, tan) if isinstance(out, tuple) else ((out,), (tan,))
    outs_t, tans_t = (out_t, tan_t) if isinstance(out_t, tuple) else ((out_t,), (tan_t,))
    for o, t, ot, tt in zip(outs, tans, outs_t, tans_t):
        np.testing.assert_allclose(o.numpy(), ot.numpy(), rtol=1e-7, atol=1e-12)
        assert t.dtype == getattr(cgrad, str(tt.dtype).split(".")[1])
        np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-6, atol=1e-10)


def test_every_explicit_rule_is_sampled(transpose_calls):
    """Each grad_fn with an explicit formula is reached by some sample above
    (the tests then exercise every formula)."""
    from test_jvp_coverage import SAMPLES as COVERAGE_SAMPLES
    seen = set()
    for name, fn, inputs, n_dual in EXPLICIT + COVERAGE_SAMPLES:
        positions = positions_of(inputs, n_dual)
        args = [cgrad.tensor(a, requires_grad=(i in positions)) if isinstance(a, np.ndarray) else a
                for i, a in enumerate(inputs)]
        outs = fn(cgrad, *args)
        stack = list(outs) if isinstance(outs, tuple) else [outs]
        while stack:
            node = stack.pop()
            if isinstance(node, _C.Tensor):
                node = node.grad_fn
            if node is None or type(node).__name__ in seen:
                continue
            seen.add(type(node).__name__)
            stack.extend(n for n, _ in node.next_functions if n is not None)
    never_built = {"ReflectionPad3DBackward0", "ReplicationPad3DBackward0", "ReflectionPad2DBackward0",
                   "ReplicationPad1DBackward0", "NllLoss2DBackward0", "LeakyReluBackward1",
                   "ClampMaxBackward0", "MinimumBackward0", "SumBackward0",
                   "ToCopyBackward0",       # test_dtype_conversion_jvp
                   "CholeskyBackward0", "EmbeddingBagBackward0",     # PyTorch's refusal (test_jvp_coverage)
                   "IndexPutImplBackward0", "IndexAddBackward0",     # index_put_(accumulate) and
                   # index_select's backward under create_graph
                   "MkldnnRnnLayerBackward0", "RnnFusedLayerBackward0",   # test_jvp_coverage's rnn tests
                   "AliasBackward0", "AsStridedBackward0", "ExpandBackward0", "PermuteBackward0",
                   "ReshapeAliasBackward0", "SelectBackward0", "SliceBackward0", "SplitBackward0",
                   "SplitWithSizesBackward0", "SqueezeBackward0", "SqueezeBackward1", "SqueezeBackward2",
                   "SqueezeBackward3", "SqueezeBackward4", "SqueezeBackward5", "TBackward0", "TBackward1",
                   "TransposeBackward0", "TransposeBackward1", "UnbindBackward0", "UnsqueezeBackward0",
                   "UnsqueezeBackward1", "ViewBackward0",     # views: test_jvp_coverage's view tests
                   "BernoulliBackward1", "BernoulliBackward2", "CauchyBackward0", "ExponentialBackward0",
                   "GeometricBackward0", "LogNormalBackward0", "NormalBackward0", "RandomBackward0",
                   "UniformBackward0",      # random fills: test_jvp_coverage's zero-tangent tests
                   "BernoulliBackward0", "NormalBackward1", "NormalBackward2", "NormalBackward3",
                   "PoissonBackward0"}      # draws: tests/random/test_random_draw_nodes.py
    from test_backward_nodes_second_order import OPS as SECOND_ORDER
    never_built |= {node for *_, node in SECOND_ORDER}     # reached by forward-over-reverse there
    missing = set(_C._fw_explicit_rule_names()) - seen - never_built
    assert missing == set()


def test_dtype_conversion_jvp(transpose_calls):
    """ToCopyBackward0: the tangent converted as the primal is (finite
    differences cannot see through float32 rounding, so checked directly)."""
    fwAD = cgrad.autograd.forward_ad
    x, t = np.random.default_rng(2).standard_normal((2, 3, 4))
    with fwAD.dual_level():
        out = fwAD.make_dual(cgrad.tensor(x), cgrad.tensor(t)).float()
        tangent = fwAD.unpack_dual(out).tangent
    assert tangent.dtype == cgrad.float32
    np.testing.assert_array_equal(tangent.numpy(), t.astype(np.float32))
    assert transpose_calls == []


@requires_torch
@pytest.mark.parametrize("op", ["softmax", "log_softmax", "logsumexp", "pow", "addmm", "var", "mse", "amax"])
def test_reverse_over_explicit_forward_matches_torch(op):
    """jacrev(jacfwd(f)): the explicit tangents are differentiable."""
    rng = np.random.default_rng(5)
    x0, w0 = rng.uniform(0.5, 1.5, size=(2, 3)), rng.standard_normal((3, 3))

    def f(L, x):
        if op == "softmax":
            return L.softmax(x * x, 1).sum(0)
        if op == "log_softmax":
            return L.log_softmax(x * x, 0)[0]
        if op == "logsumexp":
            return L.logsumexp(x * x, 1)
        if op == "pow":
            return (x ** x).sum(0)
        if op == "addmm":
            return L.addmm(x[0], x * x, L.tensor(w0), alpha=0.5).sum(0)
        if op == "var":
            return (x * x).var(1)
        if op == "mse":
            return L.nn.functional.mse_loss(x * x, x.flip(0), reduction="none").sum(0)
        return (x * x).amax(1)

    results = []
    for L in (cgrad, torch):
        x = L.tensor(x0)
        results.append(L.func.jacrev(L.func.jacfwd(lambda x: f(L, x)))(x).numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6, atol=1e-9)
