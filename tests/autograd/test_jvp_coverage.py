"""Explicit forward-mode formulas of the ops that used to take the transpose
of their VJP (sort, topk, cumulative ops, index ops, linalg decompositions
and solvers, random fills, ...): each sample is served by its own formula
(no transpose call), and its tangent matches finite differences in float64,
the VJP through the transpose (<J t, u> == <t, J^T u>) and
torch.autograd.forward_ad (check_tangent), and torch.func.jvp. Ops PyTorch
has no forward formula for raise PyTorch's error. A table-driven check holds
every differentiable node type to an explicit formula or to the short list
of nodes still transposed (cgrad/autograd/_jvp_rules_extra.TRANSPOSED), so a
new op without a JVP fails here."""
import ast
import os
import sys

import numpy as np
import pytest

import cgrad
from cgrad import _C
from cgrad.autograd import _jvp_rules, _jvp_rules_extra

from fwd_helpers import torch
from jvp_samples import IDX, P, R
from test_jvp_explicit import positions_of, transpose_calls  # noqa: F401 (fixture)
from test_jvp_ops import check_tangent

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")


def _spd(L, a):
    return a @ a.mT + 3 * L.eye(a.shape[-1], dtype=a.dtype)


def _sym(a):
    return a + a.mT


def _square(n, shift=3.0):
    return R(n, n) + shift * np.eye(n)


def _lu_solve(L, lu_in, b, **kw):
    LU, piv = L.linalg.lu_factor(lu_in)
    return L.linalg.lu_solve(LU, piv, b, **kw)


ZEROS_AT = np.array([[1.5, 0.0, 2.0, 0.0], [0.5, -1.0, 0.0, 3.0], [2.0, 1.0, 0.5, -0.5]])

SAMPLES = [
    # order statistics: the tangent at the selected indices
    ("sort", lambda L, a: a.sort(1), [R(3, 4)], 1),
    ("sort_descending_dim0", lambda L, a: a.sort(0, descending=True)[0], [R(3, 4)], 1),
    ("sort_stable", lambda L, a: a.sort(stable=True)[0], [R(3, 4)], 1),
    ("msort", lambda L, a: L.msort(a), [R(3, 4)], 1),
    ("topk", lambda L, a: a.topk(2), [R(3, 4)], 1),
    ("topk_smallest", lambda L, a: a.topk(2, 0, largest=False)[0], [R(3, 4)], 1),
    ("kthvalue", lambda L, a: a.kthvalue(2, 1)[0], [R(3, 4)], 1),
    ("kthvalue_keepdim", lambda L, a: a.kthvalue(3, 0, keepdim=True)[0], [R(3, 4)], 1),
    ("median_all", lambda L, a: a.median(), [R(3, 4)], 1),
    ("median_dim", lambda L, a: a.median(1)[0], [R(3, 4)], 1),
    ("nanmedian_all", lambda L, a: a.nanmedian(), [R(3, 5)], 1),
    ("nanmedian_dim", lambda L, a: a.nanmedian(0, keepdim=True)[0], [R(3, 4)], 1),
    ("mode", lambda L, a: a.mode(1)[0], [R(3, 4)], 1),
    ("quantile", lambda L, a: L.quantile(a, 0.3, dim=1), [R(3, 4)], 1),
    # cumulative ops
    ("cumprod", lambda L, a: a.cumprod(1), [R(3, 4)], 1),
    ("cumprod_zeros", lambda L, a: a.cumprod(1), [ZEROS_AT], 1),
    ("cumprod_dim0", lambda L, a: L.cumprod(a, 0), [R(3, 4)], 1),
    ("cumprod_", lambda L, a: a.clone().cumprod_(1), [R(3, 4)], 1),
    ("cummax", lambda L, a: a.cummax(1), [R(3, 4)], 1),
    ("cummin", lambda L, a: a.cummin(0)[0], [R(3, 4)], 1),
    ("logcumsumexp", lambda L, a: a.logcumsumexp(1), [R(3, 4)], 1),
    # index ops: the op applied to the tangents
    ("masked_select", lambda L, a: a.masked_select(a > 0), [R(3, 4)], 1),
    ("masked_scatter", lambda L, a, s: a.masked_scatter(a > 0, s), [R(3, 4), R(3, 4)], 2),
    ("index_add", lambda L, a, s: a.index_add(0, L.tensor([0, 2]), s, alpha=2.0), [R(3, 4), R(2, 4)], 2),
    ("index_add_", lambda L, a, s: a.clone().index_add_(1, L.tensor([3, 0, 3]), s), [R(3, 4), R(3, 3)], 2),
    ("index_copy", lambda L, a, s: a.index_copy(1, L.tensor([1, 3]), s), [R(3, 4), R(3, 2)], 2),
    ("index_fill", lambda L, a: a.index_fill(1, L.tensor([1]), 2.0), [R(3, 4)], 1),
    ("index_fill_tensor", lambda L, a, v: a.index_fill(0, L.tensor([2, 0]), v), [R(3, 4), R()], 2),
    ("index_put", lambda L, a, v: a.index_put((L.tensor([0, 2]),), v), [R(3, 4), R(2, 4)], 2),
    ("index_put_accumulate", lambda L, a, v: a.index_put((L.tensor([1, 1]),), v, accumulate=True),
     [R(3, 4), R(2, 4)], 2),
    ("take", lambda L, a: a.take(L.tensor([[0, 5], [11, 5]])), [R(3, 4)], 1),
    ("put", lambda L, a, s: a.put(L.tensor([0, 5]), s), [R(3, 4), R(2)], 2),
    ("put_accumulate", lambda L, a, s: a.put(L.tensor([5, 5]), s, accumulate=True), [R(3, 4), R(2)], 2),
    ("nansum", lambda L, a: a.nansum(1), [R(3, 4)], 1),
    ("nansum_all", lambda L, a: L.nansum(a), [R(3, 4)], 1),
    # layout copies
    ("narrow_copy", lambda L, a: a.narrow_copy(1, 1, 2), [R(3, 4)], 1),
    ("rot90", lambda L, a: a.rot90(1, [0, 1]), [R(3, 4)], 1),
    ("diag_embed", lambda L, a: L.diag_embed(a, 1), [R(2, 3)], 1),
    ("block_diag", lambda L, a, b: L.block_diag(a, b), [R(2, 3), R(2)], 2),
    ("diag_vector", lambda L, a: L.diag(a, -1), [R(3)], 1),
    ("diag_matrix", lambda L, a: L.diag(a, 1), [R(3, 4)], 1),
    # composites (their parts' formulas)
    ("std_mean", lambda L, a: L.std_mean(a, 1), [R(3, 4)], 1),
    ("var_mean", lambda L, a: L.var_mean(a), [R(3, 4)], 1),
    ("aminmax", lambda L, a: L.aminmax(a, dim=0), [R(3, 4)], 1),
    ("addmv", lambda L, c, a, v: L.addmv(c, a, v, beta=0.5, alpha=2.0), [R(3), R(3, 4), R(4)], 3),
    ("addr", lambda L, c, a, b: L.addr(c, a, b), [R(3, 4), R(3), R(4)], 3),
    ("baddbmm", lambda L, c, a, b: L.baddbmm(c, a, b), [R(2, 3, 2), R(2, 3, 4), R(2, 4, 2)], 3),
    ("addbmm", lambda L, c, a, b: L.addbmm(c, a, b), [R(3, 2), R(2, 3, 4), R(2, 4, 2)], 3),
    # arithmetic with a tensor divisor
    ("remainder_tensor", lambda L, a, b: L.remainder(a, b), [R(3, 4), P(3, 4) + 2], 2),
    ("fmod_tensor", lambda L, a, b: L.fmod(a, b), [R(3, 4), P(4) + 2], 2),
    ("div_floor", lambda L, a, b: L.div(a, b, rounding_mode="floor"), [R(3, 4), P(3, 4) + 2], 2),
    ("div_mode_none", lambda L, a, b: L.div(a, b, rounding_mode=None), [R(3, 4), P(3, 4)], 2),
    ("prelu", lambda L, a, w: L.nn.functional.prelu(a, w), [R(2, 3, 4), P(3)], 2),
    ("unfold", lambda L, a: L.nn.functional.unfold(a, 2), [R(1, 2, 3, 4)], 1),
    ("fold", lambda L, a: L.nn.functional.fold(a, (3, 4), 2), [R(1, 8, 6)], 1),
    # linalg (gauge-free outputs where the factors' signs are arbitrary)
    ("eigh_values", lambda L, a: L.linalg.eigh(_sym(a))[0], [R(4, 4)], 1),
    ("eigh_vectors", lambda L, a: L.linalg.eigh(_sym(a))[1] ** 2, [R(4, 4)], 1),
    ("eigvalsh_batched", lambda L, a: L.linalg.eigvalsh(_sym(a)), [R(2, 3, 3)], 1),
    ("svd_values", lambda L, a: L.linalg.svdvals(a), [R(4, 3)], 1),
    ("svd_reduced_tall", lambda L, a: _svd_parts(L, a, False), [R(4, 3)], 1),
    ("svd_reduced_wide", lambda L, a: _svd_parts(L, a, False), [R(3, 5)], 1),
    ("svd_square_full", lambda L, a: _svd_parts(L, a, True), [R(3, 3)], 1),
    ("matrix_norm_2", lambda L, a: L.linalg.matrix_norm(a, 2), [R(3, 4)], 1),
    ("nuclear_norm", lambda L, a: L.linalg.matrix_norm(a, "nuc"), [R(3, 4)], 1),
    ("qr_tall", lambda L, a: L.linalg.qr(a), [R(4, 3)], 1),
    ("qr_wide", lambda L, a: L.linalg.qr(a), [R(3, 5)], 1),
    ("qr_complete_square", lambda L, a: L.linalg.qr(a, mode="complete"), [R(3, 3)], 1),
    ("pinv_tall", lambda L, a: L.linalg.pinv(a), [R(4, 3)], 1),
    ("pinv_wide", lambda L, a: L.linalg.pinv(a), [R(2, 4)], 1),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, [R(4, 3), R(4, 2)], 2),
    ("lstsq_b_only", lambda L, a, b: L.linalg.lstsq(a, b).solution, [R(4, 3), R(4, 2)], (1,)),
    ("lstsq_residuals", lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd").residuals, [R(5, 3), R(5, 2)], 2),
    ("lstsq_vector_residuals", lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd").residuals, [R(5, 3), R(5)], 2),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), [R(3, 3) / 2], 1),
    ("matrix_exp_batched", lambda L, a: L.linalg.matrix_exp(a), [R(2, 3, 3) / 2], 1),
    ("cross", lambda L, a, b: L.linalg.cross(a, b), [R(4, 3), R(4, 3)], 2),
    ("cross_dim0", lambda L, a, b: L.linalg.cross(a, b, dim=0), [R(3, 2), R(3, 2)], 2),
    ("solve_triangular_upper", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
     [_square(3), R(3, 2)], 2),
    ("solve_triangular_lower_right_unit", lambda L, a, b: L.linalg.solve_triangular(
        a, b, upper=False, left=False, unitriangular=True), [_square(3), R(2, 3)], 2),
    ("cholesky_solve", lambda L, b, a: L.cholesky_solve(b, L.linalg.cholesky(_spd(L, a))), [R(3, 2), R(3, 3)], 2),
    ("cholesky_solve_upper", lambda L, b, a: L.cholesky_solve(b, L.linalg.cholesky(_spd(L, a), upper=True),
                                                                 upper=True), [R(3, 2), R(3, 3)], 2),
    ("cholesky_inverse", lambda L, a: L.cholesky_inverse(L.linalg.cholesky(_spd(L, a))), [R(3, 3)], 1),
    ("cholesky_inverse_upper", lambda L, a: L.cholesky_inverse(L.linalg.cholesky(_spd(L, a), upper=True),
                                                               upper=True), [R(3, 3)], 1),
    ("lu_factor", lambda L, a: L.linalg.lu_factor(a)[0], [R(3, 3)], 1),
    ("lu_solve", lambda L, a, b: _lu_solve(L, a, b), [_square(3, 1.0), R(3, 2)], 2),
    ("lu_solve_adjoint", lambda L, a, b: _lu_solve(L, a, b, adjoint=True), [_square(3, 1.0), R(3, 2)], 2),
    ("lu_solve_right", lambda L, a, b: _lu_solve(L, a, b, left=False), [_square(3, 1.0), R(2, 3)], 2),
    ("lu_solve_right_adjoint", lambda L, a, b: _lu_solve(L, a, b, left=False, adjoint=True),
     [_square(3, 1.0), R(2, 3)], 2),
]


# PyTorch 2.13's own tangent is off here: its cholesky_inverse_jvp disagrees with finite
# differences of torch.cholesky_inverse itself (by ~5% of the tangent); cgrad's formula,
# -A^-1 (dL L^H + L dL^H) A^-1, matches finite differences and the VJP, so torch is not the oracle
TORCH_TANGENT_WRONG = {"cholesky_inverse", "cholesky_inverse_upper"}


def _svd_parts(L, a, full):
    U, S, Vh = L.linalg.svd(a, full_matrices=full)
    k = S.shape[-1]
    return U[..., :k] @ Vh[..., :k, :], S, U ** 2, Vh ** 2


# the random fills: a zero tangent, as PyTorch's self_t.zero_()
RANDOM = [
    ("normal_", lambda L, a: a.clone().normal_()),
    ("uniform_", lambda L, a: a.clone().uniform_()),
    ("bernoulli_", lambda L, a: a.clone().bernoulli_(0.5)),
    ("exponential_", lambda L, a: a.clone().exponential_()),
    ("random_", lambda L, a: a.clone().random_(3)),
    ("cauchy_", lambda L, a: a.clone().cauchy_()),
    ("geometric_", lambda L, a: a.clone().geometric_(0.5)),
    ("log_normal_", lambda L, a: a.clone().log_normal_()),
]

# PyTorch has no forward formula for these: its error, word for word
NOT_IMPLEMENTED = [
    ("unique", lambda L, a: L.unique(a)),
    ("unique_dim", lambda L, a: L.unique(a, dim=0)),
    ("unique_consecutive", lambda L, a: L.unique_consecutive(a)),
    ("cdist", lambda L, a: L.cdist(a, a + 1)),
    ("embedding_bag", lambda L, a: L.nn.functional.embedding_bag(L.tensor([0, 1, 2]), a, L.tensor([0, 1]))),
    ("cholesky_legacy", lambda L, a: L.cholesky(a[:3, :3] @ a[:3, :3].mT + 3 * L.eye(3, dtype=a.dtype))),
]


@pytest.mark.parametrize("name,fn,inputs,n_dual", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_explicit_formula(name, fn, inputs, n_dual, transpose_calls):
    check_tangent(fn, inputs, positions_of(inputs, n_dual), oracle=name not in TORCH_TANGENT_WRONG)
    assert transpose_calls == [], f"served by the transpose of the VJP: {transpose_calls}"


@requires_torch
@pytest.mark.parametrize("name,fn,inputs,n_dual", SAMPLES, ids=[s[0] for s in SAMPLES])
def test_matches_torch_func_jvp(name, fn, inputs, n_dual):
    if name in TORCH_TANGENT_WRONG:
        pytest.skip("PyTorch's tangent disagrees with its own finite differences (see TORCH_TANGENT_WRONG)")
    positions = positions_of(inputs, n_dual)
    tangents = [np.random.default_rng(11).standard_normal(inputs[i].shape) for i in positions]

    def run(lib):
        args = [lib.tensor(a) if isinstance(a, np.ndarray) else a for a in inputs]

        def f(*duals):
            full = list(args)
            for i, d in zip(positions, duals):
                full[i] = d
            out = fn(lib, *full)
            return tuple(out) if isinstance(out, tuple) else out
        return lib.func.jvp(f, tuple(args[i] for i in positions), tuple(lib.tensor(t) for t in tangents))

    (out, tan), (out_t, tan_t) = run(cgrad), run(torch)
    outs, tans = (out, tan) if isinstance(out, tuple) else ((out,), (tan,))
    outs_t, tans_t = (out_t, tan_t) if isinstance(out_t, tuple) else ((out_t,), (tan_t,))
    assert len(outs) == len(outs_t)
    for o, t, ot, tt in zip(outs, tans, outs_t, tans_t):
        np.testing.assert_allclose(o.numpy(), ot.numpy(), rtol=1e-7, atol=1e-12)
        if tt is None or not tt.is_floating_point():
            continue
        assert t.dtype == getattr(cgrad, str(tt.dtype).split(".")[1])
        np.testing.assert_allclose(t.numpy(), tt.numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("name,fn", RANDOM, ids=[s[0] for s in RANDOM])
def test_random_fills_have_zero_tangents(name, fn, transpose_calls):
    fwAD = cgrad.autograd.forward_ad
    with fwAD.dual_level():
        x = fwAD.make_dual(cgrad.tensor(R(3, 4)), cgrad.tensor(R(3, 4)))
        tangent = fwAD.unpack_dual(fn(cgrad, x)).tangent
    assert tangent is not None and tangent.dtype == cgrad.float64
    np.testing.assert_array_equal(tangent.numpy(), np.zeros((3, 4)))
    assert transpose_calls == []


@requires_torch
@pytest.mark.parametrize("name,fn", RANDOM, ids=[s[0] for s in RANDOM])
def test_random_fills_match_torch(name, fn):
    fwAD = torch.autograd.forward_ad
    with fwAD.dual_level():
        x = fwAD.make_dual(torch.tensor(R(3, 4)), torch.tensor(R(3, 4)))
        tangent = fwAD.unpack_dual(fn(torch, x)).tangent
    np.testing.assert_array_equal(tangent.numpy(), np.zeros((3, 4)))


@pytest.mark.parametrize("name,fn", NOT_IMPLEMENTED, ids=[s[0] for s in NOT_IMPLEMENTED])
def test_torch_error_for_ops_without_formula(name, fn):
    messages = []
    for lib in (cgrad,) + ((torch,) if torch is not None else ()):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            x = fwAD.make_dual(lib.tensor(R(3, 4)), lib.tensor(R(3, 4)))
            with pytest.raises(NotImplementedError) as info:
                fn(lib, x)
            messages.append(str(info.value))
    assert messages[0].startswith("Trying to use forward AD with ")
    assert "that does not support it because it has not been implemented yet" in messages[0]
    assert len(set(messages)) == 1


def test_qr_mode_r_refuses_like_torch():
    fwAD = cgrad.autograd.forward_ad
    with fwAD.dual_level():
        x = fwAD.make_dual(cgrad.tensor(R(3, 3)), cgrad.tensor(R(3, 3)))
        with pytest.raises(RuntimeError, match="depends on Q, which is not computed when mode='r'"):
            cgrad.linalg.qr(x, mode="r")


@requires_torch
@pytest.mark.parametrize("op", ["sort", "cumprod", "eigh", "svd", "qr", "matrix_exp", "pinv", "lstsq", "lu_solve"])
def test_reverse_over_forward_matches_torch(op):
    """The gradient of a tangent (reverse over forward, as jacrev(jacfwd)
    without vmap) through the new formulas: their tangents are
    differentiable in the primal and the tangent."""
    rng = np.random.default_rng(5)
    x0, v0, w0 = rng.uniform(0.5, 1.5, size=(3, 3)), rng.standard_normal((3, 3)), rng.standard_normal(3)

    def f(L, x):
        if op == "sort":
            return (x * x).sort(1)[0].sum(0)
        if op == "cumprod":
            return x.cumprod(1).sum(0)
        if op == "eigh":
            return L.linalg.eigvalsh(x + x.mT)
        if op == "svd":
            return L.linalg.svdvals(x)
        if op == "qr":
            return L.linalg.qr(x)[1].diagonal()
        if op == "matrix_exp":
            return L.linalg.matrix_exp(x / 2).sum(0)
        if op == "lstsq":
            return L.linalg.lstsq(x, x[:, :1] + 1).solution[:, 0]
        if op == "lu_solve":
            return L.linalg.lu_solve(*L.linalg.lu_factor(x + 2 * L.eye(3, dtype=x.dtype)), x[:, :1])[:, 0]
        return L.linalg.pinv(x).sum(0)

    results = []
    for L in (cgrad, torch):
        x, v = L.tensor(x0, requires_grad=True), L.tensor(v0, requires_grad=True)
        _, tangent = L.func.jvp(lambda x: f(L, x), (x,), (v,))
        results.append([g.numpy() for g in L.autograd.grad((tangent * L.tensor(w0)).sum(), (x, v))])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-9)


# ---------------------------------------------------------------------------
# Coverage: every differentiable node type has an explicit formula

# node types that are not ops' nodes or have no inputs to differentiate, and
# the nodes of PyTorch's not-implemented derivatives (they raise when reached)
NOT_OP_NODES = {
    "AccumulateGrad", "ForwardOnlyEdge", "PythonBackward", "FunctionNode", "BinaryNode", "ReduceNode",
    "LinalgNode", "ClampTensorNode", "MaxMinNode", "InplaceFn", "ActNode", "_AmaxNode", "_ExtremeAllNode",
    "_ExtremeDimNode", "_NormNode", "_PadNode", "_PoolNode", "_PadBackwardNode", "_PoolBackwardNode",
    "_RnnLayerNode", "NotImplemented", "EmbeddingBagBackwardBackward0",
}
# nodes whose jvp is a C method of their own class (ops_round_decimals.pxi, relu_double_backward.pxi)
OWN_JVP = {"RoundBackward1", "ThresholdBackwardBackward0"}


def _compiled_node_types():
    seen, stack = {}, [_C.Node]
    while stack:
        for sub in type.__subclasses__(stack.pop()):
            if sub.__module__ == "cgrad._C" and sub.__name__ not in seen:
                seen[sub.__name__] = sub
                stack.append(sub)
    return seen


def _table_node_names():
    names = {row["node"] for row in _C._OP_TABLE} | {row["node"] for row in _C._OP_TABLE_BINARY}
    src = os.path.join(os.path.dirname(__file__), "..", "..", "src")
    if not os.path.isdir(os.path.join(src, "codegen")):
        pytest.skip("the op table's generator is not in this checkout")
    sys.path.insert(0, src)
    try:
        from codegen import table_binary, table_unary
    finally:
        sys.path.pop(0)
    rows = table_unary.LEGACY + table_unary.TABLE + table_binary.TABLE
    return names | {row[key] for row in rows for key in ("node", "inplace_node", "scalar_self", "scalar_other")
                    if row.get(key)}


def test_every_compiled_node_has_an_explicit_jvp():
    explicit = set(_C._fw_explicit_rule_names()) | set(_jvp_rules.RULES) | _table_node_names() | OWN_JVP
    missing = sorted(name for name in _compiled_node_types()
                     if name not in explicit and name not in NOT_OP_NODES
                     and name not in _jvp_rules_extra.TRANSPOSED and not name.startswith("_"))
    assert missing == [], ("differentiable nodes without a forward formula (add one to "
                           "src/cgrad/forward_rules*.pxi or cgrad/autograd/_jvp_rules*.py): " + ", ".join(missing))


def test_transposed_list_is_current():
    """A node that gained a formula leaves the TRANSPOSED list."""
    explicit = set(_C._fw_explicit_rule_names()) | set(_jvp_rules.RULES)
    assert sorted(_jvp_rules_extra.TRANSPOSED & explicit) == []


def _attach_calls_without_jvp(path):
    tree = ast.parse(open(path, encoding="utf-8").read(), path)
    missing = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "attach":
            if not any(k.arg == "jvp" for k in node.keywords):
                name = node.args[1].value if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) else "?"
                missing.append(f"{os.path.basename(path)}:{node.lineno} {name}")
    return missing


def test_every_python_op_passes_a_jvp():
    """Each attach() of the pure-Python ops (cgrad/_ops_*.py) gives its
    forward formula, or its node has a rule by name (_jvp_rules.RULES);
    composite_op always gives one (its parts' formulas)."""
    root = os.path.dirname(cgrad.__file__)
    missing = []
    for name in sorted(os.listdir(root)):
        if name.startswith("_ops_") and name.endswith(".py"):
            missing += _attach_calls_without_jvp(os.path.join(root, name))
    assert [m for m in missing if m.split(" ")[1] not in _jvp_rules.RULES] == []


# ---------------------------------------------------------------------------
# Nodes whose formulas the samples above do not reach


@requires_torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_fused_recurrent_layers_match_torch(kind, transpose_calls):
    """The fused layer's tangent through its decomposed cells, input and
    weights dual at once, against torch's."""
    torch.manual_seed(0)
    ref = getattr(torch.nn, kind)(4, 3, num_layers=1, bidirectional=True).double()
    mine = getattr(cgrad.nn, kind)(4, 3, num_layers=1, bidirectional=True).double()
    mine.load_state_dict({k: cgrad.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})
    rng = np.random.default_rng(2)
    x0, tx = rng.standard_normal((5, 2, 4)), rng.standard_normal((5, 2, 4))
    tw = rng.standard_normal((3 * (4 if kind == "LSTM" else 3 if kind == "GRU" else 1), 4))
    results = []
    for lib, module in ((cgrad, mine), (torch, ref)):
        params = {k: v.detach() for k, v in module.named_parameters()}
        tangents = {k: lib.zeros_like(v) for k, v in params.items()}
        tangents["weight_ih_l0"] = lib.tensor(tw)
        x = lib.tensor(x0)

        def f(x, p):
            out = lib.func.functional_call(module, p, (x,))
            return out[0], out[1][0] if kind == "LSTM" else out[1]
        results.append(lib.func.jvp(f, (x, params), (lib.tensor(tx), tangents)))
    (out, tan), (out_t, tan_t) = results
    for a, b in zip(out + tan, out_t + tan_t):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-9, atol=1e-12)
    assert transpose_calls == []


@requires_torch
@pytest.mark.parametrize("view", ["t", "slice", "unsqueeze", "expand", "select", "permute", "diagonal",
                                  "unfold", "as_strided"])
def test_view_of_a_differentiable_tangent_matches_torch(view, transpose_calls):
    """Reverse over forward through a view: the tangent has history, so it is
    not laid out as the primal and the view rule lays it out first."""
    views = {"t": lambda a: a.t(), "slice": lambda a: a[1:, ::2], "unsqueeze": lambda a: a.unsqueeze(1),
             "expand": lambda a: a[:1].expand(3, 4), "select": lambda a: a[2], "permute": lambda a: a.permute(1, 0),
             "diagonal": lambda a: a.diagonal(1), "unfold": lambda a: a.unfold(1, 2, 1),
             "as_strided": lambda a: a.as_strided((2, 2), (1, 2))}
    rng = np.random.default_rng(4)
    x0, v0 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    results = []
    for lib in (cgrad, torch):
        x, v = lib.tensor(x0, requires_grad=True), lib.tensor(v0, requires_grad=True)
        _, tangent = lib.func.jvp(lambda a: views[view](a.exp()) * 2, (x,), (v * v,))
        w = lib.tensor(np.arange(tangent.numel(), dtype=np.float64).reshape(tuple(tangent.shape)))
        results.append([g.numpy() for g in lib.autograd.grad((tangent * w).sum(), (x, v))])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@requires_torch
def test_forward_over_reverse_through_index_select_and_index_put_accumulate(transpose_calls):
    """index_select's backward (an index_add into zeros) and index_put_
    with accumulate=True under forward AD."""
    rng = np.random.default_rng(6)
    x0, t0, g0 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    results = []
    for lib in (cgrad, torch):
        fwAD = lib.autograd.forward_ad
        with fwAD.dual_level():
            x = fwAD.make_dual(lib.tensor(x0, requires_grad=True), lib.tensor(t0))
            y = x.index_select(0, lib.tensor([2, 0, 2])) * x.index_select(0, lib.tensor([0, 1, 2]))
            (gx,) = lib.autograd.grad(y, x, lib.tensor(g0), create_graph=True)
            acc = x.clone().index_put_((lib.tensor([1, 1, 3]),), x.index_select(0, lib.tensor([0, 1, 2])) * 2,
                                       accumulate=True)
            results.append([fwAD.unpack_dual(gx).tangent.detach().numpy(),
                            fwAD.unpack_dual(acc).tangent.detach().numpy()])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert transpose_calls == []
