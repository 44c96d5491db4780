"""The arguments beyond the tensors of reductions, scans and scatters, as a
differential sweep over PyTorch's signatures found them wrong: out= of
sum/mean, any/all over no dims and their out dtype, dtype= of nansum,
nanmean and prod (each element converted first), dtype= refused under
autograd for integer results, take_along_dim's indices taken modulo the
dim's size, scatter's reduce= form and scatter_reduce's max/min spellings.
Each case is checked by hand without torch and against torch with it."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None

A = np.array([[1.7, 2.6, -0.5], [0.5, -1.5, 3.25]])


def _run(expr, T, **names):
    """(result, error text) of expr with T standing for the library."""
    scope = {"T": T, "np": np, "A": A}
    scope.update(names)
    try:
        return eval(expr, scope), None
    except Exception as e:      # noqa: BLE001 - the error itself is compared
        return None, f"{type(e).__name__}: {e}".replace("cgrad.", "torch.")


def _as_arrays(r):
    if isinstance(r, (tuple, list)):
        return [a for x in r for a in _as_arrays(x)]
    d = r.detach()
    return [(str(r.dtype).split(".")[-1], tuple(r.shape), d.double().numpy() if d.is_floating_point() else d.numpy(),
             type(r.grad_fn).__name__ if r.grad_fn is not None else None)]


# --- by hand (no torch) -------------------------------------------------------------

def test_sum_mean_out_by_hand():
    x = cgrad.tensor(A, dtype=cgrad.float32)
    o = cgrad.empty(0, dtype=cgrad.int64)
    assert cgrad.sum(x, 1, out=o) is o
    assert o.tolist() == [1 + 2 + 0, 0 - 1 + 3]       # each element converted to int64 first
    d = cgrad.empty(0, dtype=cgrad.float64)
    cgrad.mean(x, 0, out=d)
    assert d.dtype == cgrad.float64
    np.testing.assert_allclose(d.numpy(), A.astype(np.float32).astype(np.float64).mean(0))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        cgrad.mean(x, 1, out=cgrad.empty(0, dtype=cgrad.int64))
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype c10::Half, but got float instead"):
        cgrad.mean(x, 1, dtype=cgrad.float16, out=cgrad.empty(0))


def test_any_all_over_no_dims_reduce_nothing():
    x = cgrad.tensor([[0.0, 2.0], [-1.0, 0.0]])
    for fn in (cgrad.all, cgrad.any):
        r = fn(x, dim=())
        assert r.dtype == cgrad.bool and tuple(r.shape) == (2, 2)
        assert r.tolist() == [[False, True], [True, False]]
        assert tuple(fn(x, (), keepdim=True).shape) == (2, 2)
    assert cgrad.all(x, []).tolist() == [[False, True], [True, False]]
    with pytest.raises(RuntimeError, match="all only supports bool tensor for result, got: Float"):
        cgrad.all(x, 1, out=cgrad.empty(0))
    with pytest.raises(RuntimeError, match="any only supports bool tensor for result, got: Long"):
        cgrad.any(x, 1, out=cgrad.empty(0, dtype=cgrad.int64))
    assert cgrad.any(x, 1, out=cgrad.empty(0, dtype=cgrad.uint8)).tolist() == [1, 1]


def test_dtype_converts_each_element_first():
    x = cgrad.tensor(A)
    r = cgrad.nansum(x, 1, dtype=cgrad.int32)
    assert r.dtype == cgrad.int32 and r.tolist() == [1 + 2 + 0, 0 - 1 + 3]
    assert cgrad.nansum(x, dtype=cgrad.int32).dtype == cgrad.int32
    assert cgrad.prod(cgrad.tensor([2.0, 0.5]), dtype=cgrad.bool).item() is True
    assert cgrad.prod(cgrad.tensor([True, False]), dtype=cgrad.bool).item() is False
    assert cgrad.prod(x, 1, dtype=cgrad.bool).tolist() == [True, True]
    assert cgrad.prod(cgrad.tensor([1.7, 2.6]), dtype=cgrad.int32).item() == 2


def test_integer_dtype_refused_under_autograd():
    x = cgrad.tensor(A, requires_grad=True)
    for call in (lambda: cgrad.nansum(x, dtype=cgrad.int32), lambda: cgrad.cumsum(x, 1, dtype=cgrad.int32),
                 lambda: cgrad.cumprod(x, 0, dtype=cgrad.int64), lambda: x.cumsum(dim=0, dtype=cgrad.int64)):
        with pytest.raises(RuntimeError, match="Autograd not support dtype: (Int|Long)"):
            call()
    with pytest.raises(RuntimeError, match="could not infer output dtype. Optional dtype must be either a floating "
                                           "point or complex dtype. Got: Int"):
        cgrad.nanmean(x.detach(), dtype=cgrad.int32)


def test_take_along_dim_indices_modulo_size():
    m = cgrad.arange(12.0).reshape(3, 4)
    r = cgrad.take_along_dim(m, cgrad.tensor([[-1, 5, -5]]), 1)
    assert r.tolist() == [[3.0, 1.0, 3.0], [7.0, 5.0, 7.0], [11.0, 9.0, 11.0]]
    assert cgrad.take_along_dim(m, cgrad.tensor([[0, 5]], dtype=cgrad.int32)).tolist() == [0.0, 5.0]
    g = cgrad.arange(12.0, requires_grad=True)
    cgrad.take_along_dim(g.reshape(3, 4), cgrad.tensor([[-1]]), 1).sum().backward()
    assert g.grad.reshape(3, 4)[:, 3].tolist() == [1.0, 1.0, 1.0] and g.grad.sum().item() == 3.0


def test_scatter_reduce_keyword_by_hand():
    m = cgrad.arange(8.0).reshape(2, 4)
    i = cgrad.tensor([[0, 0, 1]])
    s = cgrad.tensor([[2.0, 3.0, 4.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cgrad.scatter(m, 1, i, s, reduce="add").tolist() == [[5.0, 5.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]]
        assert cgrad.scatter(m, 1, i, s, reduce="multiply")[0].tolist() == [0.0, 4.0, 2.0, 3.0]
        assert cgrad.scatter(m, 1, i, 2.0, reduce="add")[0].tolist() == [4.0, 3.0, 2.0, 3.0]
        assert m.clone().scatter_(1, i, 2.0, reduce="multiply")[0].tolist() == [0.0, 2.0, 2.0, 3.0]
        with pytest.raises(RuntimeError, match="reduce argument must be either add or multiply."):
            cgrad.scatter(m, 1, i, s, reduce="sum")
        g = cgrad.arange(8.0, requires_grad=True)
        r = cgrad.scatter(g.reshape(2, 4), 1, i, s, reduce="add")
        assert type(r.grad_fn).__name__ == "NotImplemented"
        with pytest.raises(RuntimeError, match="derivative for aten::scatter is not implemented"):
            r.sum().backward()
    assert cgrad.scatter_reduce(m, 1, i, s, "max")[0].tolist() == [3.0, 4.0, 2.0, 3.0]
    assert cgrad.scatter_reduce(m, 1, i, s, "min")[0].tolist() == [0.0, 1.0, 2.0, 3.0]


def test_dim_none_given_is_the_dim_overload():
    """sum/mean(dim=None) given reduce every dim through PyTorch's dim
    overload: SumBackward1 / MeanBackward1 (SumBackward0 only without dim)."""
    x = cgrad.ones(2, 3, dtype=cgrad.float64, requires_grad=True)
    names = [type(r.grad_fn).__name__ for r in (x.sum(), x.sum(None), cgrad.sum(x, dim=None), x.mean(None),
                                                 cgrad.mean(x), x.sum(axis=None))]
    assert names == ["SumBackward0", "SumBackward1", "SumBackward1", "MeanBackward1", "MeanBackward0",
                     "SumBackward1"]
    r = cgrad.mean(x, None, True)
    assert tuple(r.shape) == (1, 1) and r.item() == 1.0
    r.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 1 / 6))


def test_out_of_another_dtype_is_refused_where_pytorch_refuses_it():
    """amax/argmax/max(dim)/sort/topk/norm/median/mode/kthvalue/cummax/
    logcumsumexp/aminmax check out's dtype before their kernel runs (the
    others compute in out's dtype, or cast into it)."""
    x = cgrad.tensor(A, dtype=cgrad.float32)
    f64, f32, i64, i32 = (cgrad.empty(0, dtype=d) for d in (cgrad.float64, cgrad.float32, cgrad.int64, cgrad.int32))
    refusals = [
        (lambda: cgrad.amax(x, 1, out=f64), "Expected the dtype for input and out to match, but got Float for "
                                             "input's dtype and Double for out's dtype."),
        (lambda: cgrad.argmax(x, 1, out=f32), "Expected out tensor to have dtype long int, but got float instead"),
        (lambda: cgrad.max(x, 1, out=(f64, i64)), "Expected out tensor to have dtype float, but got double instead"),
        (lambda: cgrad.sort(x, 1, out=(f32, i32)), "Expected out tensor to have dtype long int, but got int instead"),
        (lambda: cgrad.norm(x, 1, out=f64), "Expected out tensor to have dtype float, but got double instead"),
        (lambda: cgrad.mode(x, 1, out=(f32, f32)), "expected scalar type 'Long' but got 'Float' for indices output"),
        (lambda: cgrad.kthvalue(x, 1, 1, out=(f64, i64)), "output values must be of same type as input"),
        (lambda: cgrad.cummax(x, 1, out=(f64, i64)), "expected scalar_type Float but found Double"),
        (lambda: cgrad.logcumsumexp(x, 1, out=f64), "expected scalar_type Float but found Double"),
    ]
    for call, text in refusals:
        with pytest.raises(RuntimeError) as info:
            call()
        assert str(info.value) == text
    with pytest.raises(RuntimeError, match="while checking arguments for median"):
        cgrad.median(x, 1, out=(f32, i32))
    assert cgrad.cumsum(x, 1, out=cgrad.empty(0, dtype=cgrad.int64)).tolist() == [[1, 3, 3], [0, -1, 2]]
    assert cgrad.cumprod(x, 1, out=cgrad.empty(0, dtype=cgrad.int64)).tolist() == [[1, 2, 0], [0, 0, 0]]
    assert cgrad.prod(x, 1, out=cgrad.empty(0, dtype=cgrad.int64)).tolist() == [0, 0]
    assert cgrad.prod(x, 1, out=cgrad.empty(0, dtype=cgrad.bool)).tolist() == [True, True]


def test_bool_selections_refused_as_pytorch():
    with pytest.raises(RuntimeError, match="^topk does not support bool dtypes on CPU$"):
        cgrad.topk(cgrad.tensor([True, False]), 1)
    with pytest.raises(NotImplementedError, match="\"kthvalue_cpu\" not implemented for 'Bool'"):
        cgrad.kthvalue(cgrad.tensor([True, False]), 1)
    assert cgrad.kthvalue(cgrad.tensor(True), 1).values.item() is True     # a 0-dim one is taken as is


def test_mean_into_a_half_type_sums_the_input_in_float32():
    """mean(dtype=float16/bfloat16) of a wider input: the input itself summed
    in float32 and divided, rounded once (rounding each element to the half
    type first moved the result by an ulp)."""
    a = np.random.default_rng(0).uniform(-2, 2, (2, 3, 4)).round(3)
    for dt, np_dt in ((cgrad.float16, np.float16),):
        r = cgrad.mean(cgrad.tensor(a, dtype=cgrad.float32), dtype=dt)
        expected = np_dt(np.float32(a.astype(np.float32).sum(dtype=np.float32)) / np.float32(24))
        assert r.dtype == dt and r.item() == float(expected)


HALF_MEANS = [f"T.mean(T.tensor(np.random.default_rng(1).uniform(-2, 2, (2, 3, 40))).to(T.{s}), dtype=T.{d}{k})"
              for s in ("float32", "float64", "int64") for d in ("float16", "bfloat16")
              for k in ("", ", dim=1", ", dim=(0, 2), keepdim=True")]


# --- against torch ----------------------------------------------------------------

OUT_FUNCTIONS = ["amax", "amin", "argmax", "argmin", "prod", "norm", "cumsum", "cumprod", "logcumsumexp", "sum"]
OUT_PAIRS = ["max", "min", "median", "nanmedian", "mode", "sort", "cummax", "cummin"]
OUTS = ["T.empty(0, dtype=T.float64)", "T.empty(0, dtype=T.int64)", "T.empty(0)", "T.empty(0, dtype=T.int32)"]
NORMS = ["T.linalg.vector_norm(T.tensor(A), 'fro')", "T.linalg.vector_norm(T.tensor(A), None)",
         "T.linalg.vector_norm(T.tensor(A), True)", "T.linalg.vector_norm(T.tensor(A, dtype=T.float32), dtype=T.float16)",
         "T.linalg.vector_norm(T.tensor(A, dtype=T.float32), dtype=T.float64)",
         "T.linalg.vector_norm(T.tensor(A, dtype=T.float16), 1, dtype=T.float32)",
         "T.linalg.vector_norm(T.tensor([1, 2]), dtype=T.float64)", "T.norm(T.tensor(A), dtype=T.float32)",
         "T.norm(T.tensor([1, 2]), dtype=T.float64)", "T.norm(T.tensor(A), 1, dim=1, dtype=T.float64)",
         "T.linalg.vector_norm(T.zeros(0, 3), float('inf'), dim=1)", "T.linalg.vector_norm(T.zeros(0, 3), float('inf'))",
         "T.linalg.vector_norm(T.zeros(0, 3), -1)", "T.linalg.vector_norm(T.zeros(0, 3), -1, dim=0)",
         "T.linalg.vector_norm(T.zeros(0, 3), -0.5, dim=(1, 0))", "T.linalg.vector_norm(T.zeros(0, 3), -float('inf'), 1)",
         "T.linalg.vector_norm(T.zeros(0, 3), 0)", "T.linalg.vector_norm(T.zeros(0, 3), 2, dim=0)",
         "T.norm(T.zeros(0, 3), float('inf'), dim=1)"]
BOOL_SELECTIONS = NORMS + ["T.topk(T.tensor([True, False]), 1)", "T.topk(T.tensor(True), 1)", "T.topk(T.tensor([True]), 2)",
                   "T.kthvalue(T.tensor([[True, False]]), 1)", "T.kthvalue(T.tensor(True), 1)"]
CASES = HALF_MEANS + BOOL_SELECTIONS + [f"T.{fn}(T.tensor(A, dtype=T.float32), 1, out={o})" for fn in OUT_FUNCTIONS for o in OUTS] + [
    f"T.{fn}(T.tensor(A, dtype=T.float32), 1, out=({a}, {b}))" for fn in OUT_PAIRS for a in OUTS[:3] for b in OUTS[1:]
] + [f"T.{fn}(T.tensor(A, dtype=T.float32), 1, 1, out=({a}, {b}))" for fn in ("kthvalue", "topk")
     for a in OUTS[:3] for b in OUTS[1:]] + [
    f"T.aminmax(T.tensor(A, dtype=T.float32), dim=1, out=({a}, {b}))" for a in OUTS[:3] for b in OUTS[:3]] + [
    "T.sum(T.tensor(A, requires_grad=True), None)", "T.tensor(A, requires_grad=True).sum(dim=None, keepdim=True)",
    "T.mean(T.tensor(A, requires_grad=True), dim=None)", "T.tensor(A, requires_grad=True).mean()",
    "T.sum(T.tensor(A, requires_grad=True), None, dtype=T.float32)",
    "T.sum(T.tensor(A, dtype=T.float32), 1, out=T.empty(0, dtype=T.int64))",
    "T.sum(T.tensor(A, dtype=T.float32), (0, 1), keepdim=True, out=T.empty(0, dtype=T.float64))",
    "T.mean(T.tensor(A, dtype=T.float32), 0, out=T.empty(0, dtype=T.float64))",
    "T.mean(T.tensor(A), 1, out=T.empty(0, dtype=T.int32))",
    "T.mean(T.tensor(A, dtype=T.float32), 1, dtype=T.float16, out=T.empty(0))",
    "T.mean(T.tensor([1, 2]), 0, out=T.empty(0))",
    "T.sum(T.tensor(A, requires_grad=True), 1, out=T.empty(0, dtype=T.float64))",
    "T.all(T.tensor(A), ())", "T.any(T.tensor(A) > 1, dim=[], keepdim=True)", "T.tensor(A).all(())",
    "T.all(T.tensor(A), 1, out=T.empty(0))", "T.any(T.tensor(A), 0, out=T.empty(0, dtype=T.uint8))",
    "T.nansum(T.tensor(A), 1, dtype=T.int32)", "T.nansum(T.tensor(A), dtype=T.bool)",
    "T.nansum(T.tensor(A, requires_grad=True), dtype=T.int32)", "T.nanmean(T.tensor(A), dtype=T.int32)",
    "T.prod(T.tensor(A), dtype=T.bool)", "T.prod(T.tensor(A) > 0, 1, dtype=T.bool)",
    "T.prod(T.tensor(A), 0, dtype=T.int32)", "T.prod(T.tensor([[0.5, 2.0]]), 1, keepdim=True, dtype=T.int64)",
    "T.cumsum(T.tensor(A, requires_grad=True), 1, dtype=T.int32)",
    "T.cumprod(T.tensor(A, requires_grad=True), 1, dtype=T.int64)",
    "T.take_along_dim(T.arange(12.0).reshape(3, 4), T.tensor([[-1, 5, -5, 0]]), 1)",
    "T.take_along_dim(T.arange(12.0).reshape(3, 4), T.tensor([[2], [-3]]), dim=0)",
    "T.take_along_dim(T.arange(12.0).reshape(3, 4), T.tensor([0, 7], dtype=T.int32))",
    "T.take_along_dim(T.arange(12.0).reshape(3, 4), T.tensor([-1]))",
    "T.scatter(T.arange(8.0).reshape(2, 4), 1, T.tensor([[0, 0, 1]]), T.tensor([[2.0, 3.0, 4.0]]), reduce='add')",
    "T.scatter(T.arange(8.0).reshape(2, 4), 0, T.tensor([[1, 0, 1]]), T.tensor([[2.0, 3.0, 4.0]]), reduce='multiply')",
    "T.scatter(T.arange(8).reshape(2, 4), 1, T.tensor([[3, 3]]), 5, reduce='add')",
    "T.scatter(T.arange(8.0).reshape(2, 4), 1, T.tensor([[3, 3]]), value=1.5, reduce='multiply')",
    "T.scatter(T.arange(8.0, requires_grad=True).reshape(2, 4), 1, T.tensor([[3, 3]]), 2.0, reduce='add')",
    "T.arange(8.0).reshape(2, 4).scatter(1, T.tensor([[1]]), T.tensor([[9.0]]), reduce='add')",
    "T.scatter(T.arange(8.0).reshape(2, 4), 1, T.tensor([[1]]), T.tensor([[9.0]]), reduce='mean')",
    "T.scatter_reduce(T.arange(8.0).reshape(2, 4), 1, T.tensor([[0, 0, 1]]), T.tensor([[2.0, 3.0, 4.0]]), 'max')",
    "T.scatter_reduce(T.arange(8.0).reshape(2, 4), 1, T.tensor([[0, 0, 1]]), T.tensor([[2.0, 3.0, 4.0]]), 'min', "
    "include_self=False)",
]


@requires_torch
@pytest.mark.parametrize("expr", CASES)
def test_matches_torch(expr):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (rt, et), (rc, ec) = _run(expr, torch), _run(expr, cgrad)
    assert ec == et, expr
    if et is None:
        for (dt, st, at, gt), (dc, sc, ac, gc) in zip(_as_arrays(rt), _as_arrays(rc), strict=True):
            assert (dc, sc, gc) == (dt, st, gt), expr
            np.testing.assert_allclose(ac, at, rtol=1e-6, err_msg=expr)


@requires_torch
def test_scatter_reduce_keyword_warns_once_with_a_tensor_src():
    import cgrad._ops_scatter_reduce as impl
    impl._warned_scatter_reduce_src = False
    m, i, s = cgrad.zeros(2, 4), cgrad.tensor([[1]]), cgrad.tensor([[9.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cgrad.scatter(m, 1, i, 2.0, reduce="add")
        assert not caught                                     # a number src is not deprecated
        cgrad.scatter(m, 1, i, s, reduce="add")
        cgrad.scatter(m, 1, i, s, reduce="add")
    assert len(caught) == 1 and caught[0].category is UserWarning
    assert str(caught[0].message).startswith("The reduce argument of torch.scatter with Tensor src is deprecated")
