"""cgrad.gradient (PyTorch's torch.gradient) against torch: values, dtypes,
every spacing form, both edge orders, its errors; autograd through it by
float64 gradcheck. Without torch, hand-computed finite differences."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

SAMPLES = np.array([[0.0, 1.0, 4.0, 9.0], [16.0, 25.0, 36.0, 49.0], [64.0, 81.0, 100.0, 121.0]])

CASES = [
    dict(),
    dict(dim=1),
    dict(dim=-2),
    dict(dim=[1, 0]),
    dict(spacing=2.0),
    dict(spacing=3, dim=[1]),
    dict(spacing=[1.0, 0.5]),
    dict(spacing=[0.25], dim=0),
    dict(edge_order=2),
    dict(edge_order=2, spacing=[2.0, 3.0]),
    dict(spacing=[[0.0, 1.0, 3.0], [0.0, 2.0, 3.0, 7.0]]),
    dict(spacing=[[0.0, 1.0, 3.0], [0.0, 2.0, 3.0, 7.0]], edge_order=2),
    dict(spacing=[[-1.0, 0.5, 1.0, 4.0]], dim=1, edge_order=2),
]

ERROR_CASES = [
    dict(dim=(1, 1)),
    dict(dim=5),
    dict(spacing=[1.0, 2.0, 3.0]),
    dict(spacing=[2.0], dim=[0, 1]),
    dict(spacing=[[0.0, 1.0, 2.0]]),
    dict(spacing=[[0.0, 1.0, 2.0], [[0.0, 1.0], [2.0, 3.0]]]),
    dict(edge_order=3),
    dict(edge_order=0),
]


def _args(lib, kwargs, dtype=np.float64):
    out = dict(kwargs)
    if isinstance(out.get("spacing"), list) and isinstance(out["spacing"][0], list):
        out["spacing"] = [lib.tensor(np.array(c, dtype=dtype)) for c in out["spacing"]]
    return out


@requires_torch
@pytest.mark.parametrize("kwargs", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_gradient_matches_torch(kwargs, dtype):
    data = SAMPLES.astype(dtype)
    expected = torch.gradient(torch.tensor(data), **_args(torch, kwargs))
    got = cgrad.gradient(cgrad.tensor(data), **_args(cgrad, kwargs))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert str(g.dtype).split(".")[1] == str(e.dtype).split(".")[1]
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6, atol=0)


@requires_torch
@pytest.mark.parametrize("kwargs", ERROR_CASES, ids=str)
def test_gradient_errors_match_torch(kwargs):
    with pytest.raises(Exception) as expected:
        torch.gradient(torch.tensor(SAMPLES), **_args(torch, kwargs))
    with pytest.raises(type(expected.value)) as got:
        cgrad.gradient(cgrad.tensor(SAMPLES), **_args(cgrad, kwargs))
    assert str(got.value) == str(expected.value)


@requires_torch
def test_gradient_argument_errors_match_torch():
    for call in (lambda lib: lib.gradient(lib.arange(5, dtype=lib.uint8)),
                 lambda lib: lib.gradient(lib.arange(2.0), edge_order=2),
                 lambda lib: lib.gradient(lib.arange(3.0), spacing=lib.arange(3.0))):
        with pytest.raises(Exception) as expected:
            call(torch)
        with pytest.raises(type(expected.value)) as got:
            call(cgrad)
        assert str(got.value).replace("cgrad", "torch") == str(expected.value)


def test_gradient_hand_computed():
    x = cgrad.tensor([1.0, 4.0, 9.0, 16.0, 25.0])
    (g,) = cgrad.gradient(x)
    assert g.tolist() == [3.0, 4.0, 6.0, 8.0, 9.0]
    (g,) = cgrad.gradient(x, spacing=2.0, edge_order=2)
    assert g.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    (g,) = cgrad.gradient(x, spacing=(cgrad.tensor([0.0, 1.0, 2.0, 3.0, 4.0]),))
    assert g.tolist() == [3.0, 4.0, 6.0, 8.0, 9.0]
    assert cgrad.gradient(cgrad.tensor(3.0)) == ()
    assert cgrad.gradient(cgrad.arange(5), spacing=2)[0].dtype == cgrad.float32


@pytest.mark.parametrize("kwargs", [dict(), dict(edge_order=2, spacing=[0.5, 2.0]),
                                    dict(spacing=[[0.0, 1.0, 3.0], [0.0, 2.0, 3.0, 7.0]], edge_order=2)], ids=str)
def test_gradient_gradcheck(kwargs):
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    args = _args(cgrad, kwargs)
    assert cgrad.autograd.gradcheck(lambda t: cgrad.gradient(t, **args), (x,))
    assert cgrad.autograd.gradgradcheck(lambda t: cgrad.gradient(t, **args), (x,))
