"""Tensor methods kept for old code: the removed solve/lstsq/eig/symeig
(PyTorch's errors), the deprecated out-of-place resize/resize_as,
nonzero_static, new_empty_strided, dim_order, const_data_ptr, to_dense,
prelu, is_shared, volatile; against torch where installed."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def test_values():
    t = cgrad.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        r = t.resize(3, 2)
    assert r.shape == (3, 2) and r.tolist() == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]] and t.shape == (2, 3)
    with pytest.warns(UserWarning, match="non-inplace resize_as is deprecated"):
        assert t.resize_as(cgrad.ones(6)).shape == (6,)
    assert cgrad.tensor([0, 1, 2]).nonzero_static(size=4).tolist() == [[1], [2], [-1], [-1]]
    assert cgrad.tensor([[1, 0], [1, 1]]).nonzero_static(size=2, fill_value=7).tolist() == [[0, 0], [1, 0]]
    assert t.new_empty_strided((2, 3), (1, 2)).stride() == (1, 2)
    assert t.dim_order() == (0, 1) and t.t().dim_order() == (1, 0)
    assert t.const_data_ptr() == t.data_ptr() and t.to_dense() is t and t.is_shared() is False
    x = cgrad.tensor([-2.0, 3.0])
    assert x.prelu(cgrad.tensor([0.25])).tolist() == [-0.5, 3.0]
    with pytest.warns(UserWarning, match="volatile was removed"):
        assert t.volatile is False
    with pytest.raises(RuntimeError, match="`torch.linalg.eig` returns complex tensors"):
        t.eig()


@requires_torch
@pytest.mark.parametrize("call", [
    lambda t, L: t.solve(t), lambda t, L: t.lstsq(t), lambda t, L: t.eig(), lambda t, L: t.symeig(),
    lambda t, L: t.resize(9), lambda t, L: t.resize_as(L.ones(3, 3)), lambda t, L: t.dim_order(),
    lambda t, L: t.t().contiguous().t().dim_order(), lambda t, L: t.permute(1, 0).dim_order(),
    lambda t, L: (t > 0).nonzero_static(size=5), lambda t, L: (t > 0).nonzero_static(size=1),
    lambda t, L: (t > 0).nonzero_static(size=-1), lambda t, L: t.new_empty_strided((2, 2), (1, 2)).stride(),
    lambda t, L: t.prelu(L.tensor([0.1, 0.2, 0.3])),
])
def test_matches_torch(call):
    x = np.array([[1.0, -2.0, 0.0], [0.5, 0.0, -1.0], [2.0, 1.0, 3.0]], dtype=np.float32)
    results = []
    for lib in (torch, cgrad):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                out = call(lib.tensor(x), lib)
                value = out.tolist() if isinstance(out, lib.Tensor) else out
            except Exception as e:     # noqa: BLE001 - the comparison is the point
                value = (type(e).__name__, str(e))
        results.append((value, [str(w.message) for w in caught]))
    assert results[1] == results[0]
