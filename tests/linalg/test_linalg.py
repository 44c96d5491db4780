"""mm, mv, dot, bmm and matmul against torch: values, dtypes, shapes, the
whole grad_fn graph matmul builds (it depends on the operands' ranks,
layouts and requires_grad, as in torch), gradients, result layout, errors;
float64 gradient checks and hypothesis-drawn broadcasting batch shapes."""
import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgrad
from helpers import (check_gradients, compare_with_torch, directional_gradcheck, rand, requires_torch,
                     torch, torch_free_checks)

HYPO = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def graph(t):
    """The grad_fn graph below t as nested names (AccumulateGrad left out)."""
    def walk(node):
        if node is None or type(node).__name__ == "AccumulateGrad":
            return None
        kids = [walk(n) for n, _ in node.next_functions]
        return (type(node).__name__, tuple(k for k in kids if k is not None))
    return walk(t.grad_fn)


def prepare(lib, arr, requires_grad, layout):
    """A tensor of arr's values: contiguous, or with its last two dims (or
    first two) stored transposed, so matmul sees a non-contiguous operand."""
    x = lib.tensor(arr)
    if layout == "mT" and x.dim() >= 2:
        x = x.mT.contiguous().mT
    elif layout == "batch_t" and x.dim() >= 3:
        x = x.transpose(0, 1).contiguous().transpose(0, 1)
    return x.requires_grad_(requires_grad)


def run_matmul(lib, a_arr, b_arr, rg, layouts, op):
    a = prepare(lib, a_arr, rg[0], layouts[0])
    b = prepare(lib, b_arr, rg[1], layouts[1])
    out = op(lib, a, b)
    info = (tuple(out.shape), str(out.dtype).split(".")[-1], out.stride(), out.is_contiguous(),
            out._base is not None, out.requires_grad, graph(out))
    grads = None
    if out.requires_grad:
        go = np.random.default_rng(5).standard_normal(tuple(out.shape)).astype(a_arr.dtype)
        out.backward(lib.tensor(go))
        grads = [None if x.grad is None else x.grad.numpy().copy() for x in (a, b)]
    return info, out.detach().numpy().copy(), grads


def check_matmul_without_torch(a_arr, b_arr, rg, layouts, op, tol):
    """Values, shape and dtype against np.matmul (torch.matmul follows
    numpy's rules), which inputs get a gradient, and those gradients by a
    float64 directional finite difference through the same layouts. The
    grad_fn graph and strides need torch."""
    info, val, grads = run_matmul(cgrad, a_arr, b_arr, rg, layouts, op)
    expected = np.matmul(a_arr, b_arr)
    assert info[0] == expected.shape and info[1] == expected.dtype.name
    np.testing.assert_allclose(val, expected, rtol=tol, atol=tol)
    assert info[5] == (rg[0] or rg[1])
    if grads is not None:
        assert [g is not None for g in grads] == list(rg)
        a = prepare(cgrad, a_arr.astype(np.float64), rg[0], layouts[0])
        b = prepare(cgrad, b_arr.astype(np.float64), rg[1], layouts[1])
        directional_gradcheck(lambda x, y: op(cgrad, x, y), [a, b])
    torch_free_checks.passed()


def compare_matmul(sa, sb, rg=(True, True), layouts=(None, None), op=None, dtype=np.float32, tol=1e-4):
    op = op or (lambda lib, a, b: lib.matmul(a, b))
    a_arr = rand(*sa, seed=1).astype(dtype)
    b_arr = rand(*sb, seed=2).astype(dtype)
    if torch is None:
        check_matmul_without_torch(a_arr, b_arr, rg, layouts, op, tol)
        return
    t_info, t_val, t_grads = run_matmul(torch, a_arr, b_arr, rg, layouts, op)
    c_info, c_val, c_grads = run_matmul(cgrad, a_arr, b_arr, rg, layouts, op)
    assert c_info == t_info
    np.testing.assert_allclose(c_val, t_val, rtol=tol, atol=tol)
    if t_grads is not None:
        for cg, tg in zip(c_grads, t_grads):
            assert (cg is None) == (tg is None)
            if tg is not None:
                np.testing.assert_allclose(cg, tg, rtol=tol, atol=tol)


MATMUL_SHAPES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3,)), ((5, 2, 3), (3, 4)), ((6, 5, 2, 3), (3, 4)), ((7, 5, 2, 3), (3,)),
    ((3,), (5, 3, 4)), ((2, 3), (5, 3, 4)), ((3,), (7, 5, 3, 4)), ((2, 3), (1, 3, 4)),
    ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)), ((1, 2, 3), (5, 3, 4)), ((1, 2, 3), (1, 3, 4)),
    ((7, 5, 2, 3), (5, 3, 4)), ((7, 1, 2, 3), (5, 3, 4)), ((5, 2, 3), (7, 1, 3, 4)),
    ((7, 5, 2, 3), (7, 5, 3, 4)), ((2, 5, 2, 3), (1, 5, 3, 4)), ((1, 1, 2, 3), (5, 7, 3, 4)),
    ((4, 1, 2, 3), (1, 3, 2)), ((5, 1, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 1)), ((1, 2, 3), (3,)),
    ((0, 2, 3), (3, 4)), ((5, 0, 3), (5, 3, 4)), ((5, 2, 0), (5, 0, 4)), ((2, 0, 3), (3,)),
    ((3,), (2, 3, 0)), ((0, 3), (3, 4)), ((2, 0), (0, 4)), ((0,), (0,)), ((2, 3, 4), (0, 1, 4, 2)),
]
REQUIRES = [(True, True), (True, False), (False, True), (False, False)]


@pytest.mark.parametrize("shapes", MATMUL_SHAPES, ids=str)
@pytest.mark.parametrize("rg", REQUIRES, ids=str)
def test_matmul_graph_values_grads(shapes, rg):
    compare_matmul(*shapes, rg=rg)


@pytest.mark.parametrize("shapes", [s for s in MATMUL_SHAPES if len(s[0]) >= 2 or len(s[1]) >= 2], ids=str)
@pytest.mark.parametrize("layouts", [("mT", None), (None, "mT"), ("batch_t", None), (None, "batch_t"),
                                     ("mT", "mT")], ids=str)
@pytest.mark.parametrize("rg", [(True, True), (False, True), (True, False)], ids=str)
def test_matmul_noncontiguous_operands(shapes, layouts, rg):
    """Folding needs a viewable operand: transposed batches go to bmm (and
    reshape through _reshape_alias or a copy) exactly where torch's do."""
    compare_matmul(*shapes, rg=rg, layouts=layouts)


@pytest.mark.parametrize("shapes", [((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((4, 5, 2, 3), (4, 5, 3, 4)),
                                    ((3,), (3,)), ((2, 3), (3,))], ids=str)
def test_matmul_float64_and_operator(shapes):
    compare_matmul(*shapes, dtype=np.float64, tol=1e-10)
    compare_matmul(*shapes, op=lambda lib, a, b: a @ b)
    compare_matmul(*shapes, op=lambda lib, a, b: a.matmul(b))


@pytest.mark.parametrize("shapes", [((5, 2, 3), (5, 3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)),
                                    ((3,), (3,)), ((2, 3), (3,)), ((4, 1, 2, 3), (5, 3, 2))], ids=str)
def test_matmul_int64(shapes):
    a = np.arange(int(np.prod(shapes[0])), dtype=np.int64).reshape(shapes[0]) - 3
    b = np.arange(int(np.prod(shapes[1])), dtype=np.int64).reshape(shapes[1]) % 5
    compare_with_torch(lambda lib, x, y: lib.matmul(x, y), a, b)


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
                                    ((5, 2, 3), (3,)), ((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)),
                                    ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)), ((5, 2, 3), (1, 3, 4)),
                                    ((1, 2, 3), (5, 3, 4)), ((3, 1, 2, 3), (4, 3, 2)),
                                    ((2, 1, 2, 3), (3,))], ids=str)
def test_matmul_gradcheck(shapes):
    check_gradients(lambda lib, a, b: lib.matmul(a, b), rand(*shapes[0], seed=1), rand(*shapes[1], seed=2))


@st.composite
def matmul_shapes(draw):
    """Two broadcast-compatible batch shapes (with 1s and 0s) and the
    matrix/vector parts, plus which operands require grad and their layout."""
    nb = draw(st.integers(0, 3))
    batch = draw(st.lists(st.integers(0, 3), min_size=nb, max_size=nb))
    ba = [d if draw(st.booleans()) else 1 for d in batch][draw(st.integers(0, nb)):]
    bb = [d if draw(st.booleans()) else 1 for d in batch][draw(st.integers(0, nb)):]
    n, k, p = draw(st.integers(0, 3)), draw(st.integers(0, 3)), draw(st.integers(0, 3))
    a_vec = draw(st.booleans()) and not ba
    b_vec = draw(st.booleans()) and not bb
    sa = (k,) if a_vec else tuple(ba) + (n, k)
    sb = (k,) if b_vec else tuple(bb) + (k, p)
    rg = (draw(st.booleans()), draw(st.booleans()))
    layouts = (draw(st.sampled_from([None, "mT", "batch_t"])), draw(st.sampled_from([None, "mT", "batch_t"])))
    return sa, sb, rg, layouts


@requires_torch
@HYPO
@given(matmul_shapes())
def test_matmul_broadcast_hypothesis(case):
    sa, sb, rg, layouts = case
    compare_matmul(sa, sb, rg=rg, layouts=layouts)


MATMUL_ERRORS = {
    "0d": ((3, 2), ()),
    "0d_left": ((), (3,)),
    "dot_size": ((3,), (4,)),
    "mv_size": ((2, 3), (4,)),
    "vm_size": ((3,), (4, 5)),
    "mm_size": ((2, 3), (4, 4)),
    "fold_mm_size": ((2, 5, 3), (4, 5)),
    "fold_mv_size": ((5, 2, 3), (4,)),
    "bmm_size": ((5, 2, 3), (5, 2, 4)),
    "batch_broadcast": ((5, 2, 3), (2, 3, 4)),
    "batch_broadcast_4d": ((3, 5, 2, 3), (4, 3, 4)),
    "vector_batched": ((4,), (5, 2, 3)),
}


def error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the exception itself is compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return None


@requires_torch
@pytest.mark.parametrize("name", sorted(MATMUL_ERRORS))
def test_matmul_errors(name):
    sa, sb = MATMUL_ERRORS[name]
    errs = [error_of(lambda: lib.matmul(lib.tensor(rand(*sa)), lib.tensor(rand(*sb)))) for lib in (torch, cgrad)]
    assert errs[0] is not None and errs[1] == errs[0]


DTYPE_ERRORS = {
    "mm_dtype": lambda lib, a, b: lib.mm(a.unbind(0)[0], b.unbind(0)[0].double()),
    "mm_dtype_bool": lambda lib, a, b: lib.mm(a.unbind(0)[0].bool(), b.unbind(0)[0]),
    "mm_bool": lambda lib, a, b: lib.mm(a.unbind(0)[0].bool(), b.unbind(0)[0].bool()),
    "mv_dtype": lambda lib, a, b: lib.mv(a.unbind(0)[0], b.unbind(0)[0].unbind(1)[0].double()),
    "mv_dtype_2": lambda lib, a, b: lib.mv(a.unbind(0)[0].double(), b.unbind(0)[0].unbind(1)[0]),
    "mv_bool": lambda lib, a, b: lib.mv(a.unbind(0)[0].bool(), b.unbind(0)[0].unbind(1)[0].bool()),
    "mv_rank": lambda lib, a, b: lib.mv(a.unbind(0)[0], a.unbind(0)[0]),
    "mv_rank_3d": lambda lib, a, b: lib.mv(a, b.unbind(0)[0].unbind(1)[0]),
    "dot_bool": lambda lib, a, b: lib.dot(a.unbind(0)[0].unbind(0)[0].bool(), b.unbind(0)[0].unbind(1)[0].bool()),
    "dot_dtype": lambda lib, a, b: lib.dot(a.unbind(0)[0].unbind(0)[0], b.unbind(0)[0].unbind(1)[0].double()),
    "dot_rank": lambda lib, a, b: lib.dot(a.unbind(0)[0], b.unbind(0)[0].unbind(1)[0]),
    "mm_rank": lambda lib, a, b: lib.mm(a, b.unbind(0)[0]),
    "mm_rank_2": lambda lib, a, b: lib.mm(a.unbind(0)[0], b),
    "bmm_dtype": lambda lib, a, b: lib.bmm(a, b.double()),
    "bmm_dtype_2": lambda lib, a, b: lib.bmm(a.long(), b),
    "bmm_dtype_bool": lambda lib, a, b: lib.bmm(a.long(), b.bool()),
    "bmm_bool": lambda lib, a, b: lib.bmm(a.bool(), b.bool()),
    "bmm_rank_1": lambda lib, a, b: lib.bmm(a.unbind(0)[0], b),
    "bmm_rank_2": lambda lib, a, b: lib.bmm(a, b.unbind(0)[0]),
    "bmm_rank_before_dtype": lambda lib, a, b: lib.bmm(a.unbind(0)[0].double(), b),
    "bmm_batch": lambda lib, a, b: lib.bmm(a, b.narrow(0, 0, 4)),
    "bmm_inner": lambda lib, a, b: lib.bmm(a, b.narrow(1, 0, 2)),
    "bmm_size_before_bool": lambda lib, a, b: lib.bmm(a.bool(), b.narrow(0, 0, 2)),
    "bmm_method_type": lambda lib, a, b: a.bmm(1),
    "bmm_fn_type": lambda lib, a, b: lib.bmm(a, 1),
    "bmm_fn_type_input": lambda lib, a, b: lib.bmm(1, a),
    "matmul_dtype_batched": lambda lib, a, b: lib.matmul(a, b.double()),
    "matmul_dtype_fold": lambda lib, a, b: lib.matmul(a, b.unbind(0)[0].double()),
    "matmul_bool": lambda lib, a, b: lib.matmul(a.bool(), b.bool()),
    "matmul_bool_dot": lambda lib, a, b: lib.matmul(a.unbind(0)[0].unbind(0)[0].bool(), b.unbind(0)[0].unbind(1)[0].bool()),
    "matmul_bool_mm": lambda lib, a, b: lib.matmul(a.unbind(0)[0].bool(), b.unbind(0)[0].bool()),
    "matmul_dtype_long": lambda lib, a, b: lib.matmul(a.long(), b),
    "matmul_fn_type": lambda lib, a, b: lib.matmul(a, 1),
    "matmul_method_type": lambda lib, a, b: a.matmul(1),
    "matmul_fn_type_input": lambda lib, a, b: lib.matmul(1, a),
    "mm_fn_type": lambda lib, a, b: lib.mm(a.unbind(0)[0], 1),
    "mm_method_type": lambda lib, a, b: a.unbind(0)[0].mm(1),
    "mv_fn_type": lambda lib, a, b: lib.mv(a.unbind(0)[0], 1),
    "dot_fn_type": lambda lib, a, b: lib.dot(a.unbind(0)[0].unbind(0)[0], 1),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(DTYPE_ERRORS))
def test_linalg_errors(name):
    fn = DTYPE_ERRORS[name]
    errs = []
    for lib in (torch, cgrad):
        a = lib.tensor(rand(5, 2, 3, seed=1))
        b = lib.tensor(rand(5, 3, 4, seed=2))
        errs.append(error_of(lambda: fn(lib, a, b)))
    assert errs[0] is not None and errs[1] == errs[0]


# ---------------------------------------------------------------------------
# bmm


BMM_CASES = [((5, 2, 3), (5, 3, 4)), ((1, 1, 1), (1, 1, 1)), ((3, 4, 1), (3, 1, 2)), ((0, 2, 3), (0, 3, 4)),
             ((4, 0, 3), (4, 3, 2)), ((4, 2, 0), (4, 0, 2)), ((2, 20, 30), (2, 30, 25))]


@requires_torch
@pytest.mark.parametrize("shapes", BMM_CASES, ids=str)
@pytest.mark.parametrize("rg", REQUIRES[:3], ids=str)
@pytest.mark.parametrize("layouts", [(None, None), ("mT", "mT"), ("batch_t", "mT")], ids=str)
def test_bmm(shapes, rg, layouts):
    compare_matmul(*shapes, rg=rg, layouts=layouts, op=lambda lib, a, b: lib.bmm(a, b))
    compare_matmul(*shapes, rg=rg, layouts=layouts, op=lambda lib, a, b: a.bmm(b))


@requires_torch
def test_bmm_expanded_and_int():
    compare_matmul((1, 20, 30), (4, 30, 25), op=lambda lib, a, b: lib.bmm(a.expand(4, 20, 30), b))
    compare_matmul((4, 1, 30), (4, 30, 25), op=lambda lib, a, b: lib.bmm(a.expand(4, 20, 30), b))
    a = np.arange(24, dtype=np.int64).reshape(2, 3, 4)
    b = np.arange(16, dtype=np.int64).reshape(2, 4, 2) - 5
    compare_with_torch(lambda lib, x, y: lib.bmm(x, y), a, b)


@pytest.mark.parametrize("shapes", BMM_CASES[:3], ids=str)
def test_bmm_gradcheck(shapes):
    check_gradients(lambda lib, a, b: lib.bmm(a, b), rand(*shapes[0], seed=1), rand(*shapes[1], seed=2))
    check_gradients(lambda lib, a, b: lib.bmm(a.mT, b.mT), rand(*shapes[0], seed=1).swapaxes(1, 2).copy(),
                    rand(*shapes[1], seed=2).swapaxes(1, 2).copy())


@requires_torch
def test_bmm_second_order():
    results = []
    for lib in (torch, cgrad):
        a = lib.tensor(rand(3, 2, 4, seed=1).astype(np.float64), requires_grad=True)
        b = lib.tensor(rand(3, 4, 5, seed=2).astype(np.float64), requires_grad=True)
        ga, gb = lib.autograd.grad((lib.bmm(a, b) ** 2).sum(), (a, b), create_graph=True)
        second = lib.autograd.grad((ga * 3).sum() + (gb ** 2).sum(), (a, b))
        results.append([g.detach().numpy() for g in (ga, gb) + second])
    for t, c in zip(*results):
        np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------
# Large products: BLAS on views, transposes never materialised


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_products_match_numpy(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((6, 64, 48)).astype(dtype)
    b = rng.standard_normal((6, 48, 40)).astype(dtype)
    ta, tb = cgrad.tensor(a), cgrad.tensor(b)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(cgrad.bmm(ta, tb).numpy(), a @ b, rtol=tol, atol=tol)
    # transposed views (Fortran-ordered matrices) and a stride-0 batch
    np.testing.assert_allclose(cgrad.bmm(tb.mT, ta.mT).numpy(), np.swapaxes(b, 1, 2) @ np.swapaxes(a, 1, 2),
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(ta.narrow(0, 0, 1).expand(6, 64, 48).bmm(tb).numpy(),
                               a[:1] @ b, rtol=tol, atol=tol)
    # an operand whose matrices are not BLAS-shaped (stride 0 inside)
    row = cgrad.tensor(a[:, :1, :]).expand(6, 64, 48)
    np.testing.assert_allclose(cgrad.bmm(row, tb).numpy(), np.broadcast_to(a[:, :1, :], a.shape) @ b,
                               rtol=tol, atol=tol)
    np.testing.assert_allclose(cgrad.mm(ta.unbind(0)[0].t(), cgrad.tensor(a[0])).numpy(), a[0].T @ a[0], rtol=tol, atol=tol)


def test_large_broadcast_matmul_of_transposed_operands():
    """A 4-D @ 4-D broadcast product of 256x256 matrices, the right operand
    a transposed view."""
    rng = np.random.default_rng(0)
    a = cgrad.tensor(rng.standard_normal((4, 1, 256, 256)).astype(np.float32))
    b = cgrad.tensor(rng.standard_normal((1, 4, 256, 256)).astype(np.float32)).mT
    out = cgrad.matmul(a, b)
    assert out.shape == (4, 4, 256, 256)
    np.testing.assert_allclose(out.numpy(), a.numpy() @ b.numpy(), rtol=1e-3, atol=1e-3)


@requires_torch
def test_matmul_results_own_their_memory():
    """Every matmul result is fresh (no _base), as torch's _unsafe_view and
    in-place squeeze_ leave them."""
    for sa, sb in [((3,), (3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                   ((5, 2, 3), (3,))]:
        a = cgrad.tensor(rand(*sa), requires_grad=True)
        b = cgrad.tensor(rand(*sb))
        out = a @ b
        assert out._base is None
        with cgrad.no_grad():
            out.fill_(0.0)
        assert np.abs(a.detach().numpy()).sum() > 0
