"""numpy's argument spellings that PyTorch's argument parser accepts on
reductions: axis for dim, keepdims for keepdim (functions and methods)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None

CASES = [
    ("sum", {"axis": 0}), ("sum", {"axis": 1, "keepdims": True}), ("mean", {"axis": 0, "keepdims": True}),
    ("amax", {"axis": 0}), ("amin", {"axis": 1, "keepdims": True}), ("argmax", {"axis": 1}),
    ("argmin", {"axis": 0, "keepdims": True}), ("prod", {"axis": 0}), ("var", {"axis": 0, "keepdims": True}),
    ("std", {"axis": 1}), ("logsumexp", {"axis": 0, "keepdims": True}),
]
X = np.arange(12.0).reshape(3, 4) / 7   # (squeeze's dim 1 is not 1 wide: it keeps X whole, as PyTorch)


@pytest.mark.parametrize("name,kwargs", CASES)
def test_hand_computed(name, kwargs):
    """Without the oracle: the same result as the dim/keepdim spelling."""
    t = cgrad.tensor(X)
    plain = {"dim" if k == "axis" else "keepdim": v for k, v in kwargs.items()}
    np.testing.assert_array_equal(getattr(t, name)(**kwargs).numpy(), getattr(t, name)(**plain).numpy())
    np.testing.assert_array_equal(getattr(cgrad, name)(t, **kwargs).numpy(), getattr(t, name)(**plain).numpy())


@requires_torch
@pytest.mark.parametrize("name,kwargs", CASES + [("max", {"axis": 0}), ("min", {"axis": 1, "keepdims": True})])
def test_matches_torch(name, kwargs):
    for form in ("method", "function"):
        got = getattr(cgrad.tensor(X), name)(**kwargs) if form == "method" else getattr(cgrad, name)(cgrad.tensor(X), **kwargs)
        exp = getattr(torch.tensor(X), name)(**kwargs) if form == "method" else getattr(torch, name)(torch.tensor(X), **kwargs)
        got, exp = (got[0], exp[0]) if isinstance(exp, tuple) else (got, exp)
        assert tuple(got.shape) == tuple(exp.shape)
        np.testing.assert_allclose(got.numpy(), exp.numpy(), rtol=1e-12)


# The rest of PyTorch's signatures holding dim (and keepdim): (name, arguments
# before dim, the numpy spelling, the same call in PyTorch's own names).
MORE = [
    ("nansum", (), {"axis": 1, "keepdims": True}), ("nanmean", (), {"axis": 0}),
    ("all", (), {"axis": 1}), ("any", (), {"axis": 0, "keepdims": True}), ("count_nonzero", (), {"axis": 1}),
    ("median", (), {"axis": 1, "keepdims": True}), ("nanmedian", (), {"axis": 0}), ("mode", (), {"axis": 0}),
    ("aminmax", (), {"axis": 1, "keepdims": True}), ("cumsum", (), {"axis": 1}), ("cumprod", (), {"axis": 0}),
    ("cummax", (), {"axis": 1}), ("cummin", (), {"axis": 0}), ("logcumsumexp", (), {"axis": 1}),
    ("sort", (), {"axis": 0}), ("argsort", (), {"axis": 0}), ("softmax", (), {"axis": 0}),
    ("log_softmax", (), {"axis": 1}), ("unsqueeze", (), {"axis": 1}), ("unbind", (), {"axis": 1}),
    ("squeeze", (), {"axis": 1}),
    ("chunk", (2,), {"axis": 1}), ("kthvalue", (2,), {"axis": 0, "keepdims": True}), ("topk", (2,), {"axis": 1}),
    ("quantile", (0.25,), {"axis": 1, "keepdims": True}), ("nanquantile", (0.5,), {"axis": 0}),
    ("diff", (), {"axis": 0}), ("repeat_interleave", (2,), {"axis": 1}),
]
FUNCTIONS_ONLY = [("trapezoid", (), {"axis": 0}), ("cumulative_trapezoid", (), {"axis": 1}),
                  ("std_mean", (), {"axis": 1}), ("var_mean", (), {"axis": 0, "keepdims": True}),
                  ("stack", (), {"axis": 1})]


def _own_names(kwargs):
    return {"dim" if k == "axis" else "keepdim": v for k, v in kwargs.items()}


def _flat(result):
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in _flat(r)]
    return [result.numpy()]


@pytest.mark.parametrize("name,args,kwargs", MORE + FUNCTIONS_ONLY)
def test_more_hand_computed(name, args, kwargs):
    """Without the oracle: axis/keepdims give what dim/keepdim give."""
    t = [cgrad.tensor(X), cgrad.tensor(X)] if name == "stack" else cgrad.tensor(X)
    expected = _flat(getattr(cgrad, name)(t, *args, **_own_names(kwargs)))
    forms = [getattr(cgrad, name)(t, *args, **kwargs)]
    if (name, args, kwargs) in MORE:
        forms.append(getattr(t, name)(*args, **kwargs))
    for got in forms:
        for g, e in zip(_flat(got), expected, strict=True):
            np.testing.assert_array_equal(g, e)


def test_std_mean_axis_reduces_the_mean_too():
    """std_mean(axis=) once reduced only the std: the mean came back whole."""
    s, m = cgrad.std_mean(cgrad.tensor(X), axis=1)
    assert tuple(m.shape) == (3,)
    np.testing.assert_allclose(m.numpy(), X.mean(axis=1), rtol=1e-12)
    np.testing.assert_allclose(s.numpy(), X.std(axis=1, ddof=1), rtol=1e-12)


def test_axis_beside_dim_is_refused():
    t = cgrad.tensor(X)
    for call in (lambda: cgrad.nansum(t, 1, axis=1), lambda: cgrad.cumsum(t, 0, axis=1),
                 lambda: cgrad.count_nonzero(t, 0, axis=1), lambda: cgrad.median(t, dim=0, axis=1)):
        with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):
            call()
    with pytest.raises(TypeError, match="unexpected keyword argument 'axis'"):     # PyTorch names the first
        cgrad.cumsum(t, axis=1, keepdims=True)
    with pytest.raises(TypeError, match='missing 1 required positional arguments: "dim"'):
        cgrad.cumsum(t)


@requires_torch
@pytest.mark.parametrize("name,args,kwargs", MORE + FUNCTIONS_ONLY)
def test_more_match_torch(name, args, kwargs):
    def operand(T):
        return [T.tensor(X), T.tensor(X)] if name == "stack" else T.tensor(X)
    forms = [("function", getattr(cgrad, name)(operand(cgrad), *args, **kwargs),
              getattr(torch, name)(operand(torch), *args, **kwargs))]
    if (name, args, kwargs) in MORE:
        forms.append(("method", getattr(cgrad.tensor(X), name)(*args, **kwargs),
                      getattr(torch.tensor(X), name)(*args, **kwargs)))
    for form, got, exp in forms:
        got, exp = _flat(got), [e.numpy() for e in (exp if isinstance(exp, (tuple, list)) else [exp])]
        assert len(got) == len(exp), form
        for g, e in zip(got, exp):
            assert g.shape == e.shape and g.dtype == e.dtype, (form, g.shape, e.shape, g.dtype, e.dtype)
            np.testing.assert_allclose(g, e, rtol=1e-12, err_msg=form)


@requires_torch
def test_refusals_match_torch():
    for expr in ("T.nansum(T.tensor(X), 1, axis=1)", "T.cumsum(T.tensor(X), axis=1, keepdims=True)",
                 "T.cumsum(T.tensor(X))", "T.tensor(X).cumsum()"):
        errors = []
        for T in (torch, cgrad):
            with pytest.raises(TypeError) as info:
                eval(expr, {"T": T, "X": X})
            errors.append(str(info.value))
        assert errors[0] == errors[1], expr
