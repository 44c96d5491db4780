"""gather, scatter and scatter_add walked row by row (one typed loop per
row of the index): every dim of 1-3-d inputs, transposed and sliced
inputs, indices and sources, every dtype scatter_add adds in, 0-d indices,
and the out-of-range error naming the first bad index in C order, against
torch; hand-computed values without it."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

DTYPES = ["float32", "float64", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _case(shape, dim, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    idx_shape = list(shape)
    idx_shape[dim] = max(1, shape[dim] - 1)
    index = rng.integers(0, shape[dim], size=idx_shape)
    return x, index


def _as(lib, array, dtype):
    if dtype == "bool":
        return lib.tensor(array > 0)
    return lib.tensor(np.asarray(array * 10 if "int" in dtype else array).astype(dtype))


def _pair(make, layout):
    """The same tensor in torch and cgrad: contiguous (layout 0) or, for 2+
    dims, column-major (a transposed copy transposed back)."""
    t, c = make(torch), make(cgrad)
    if layout and t.dim() >= 2:
        t, c = t.transpose(0, 1).contiguous().transpose(0, 1), c.transpose(0, 1).contiguous().transpose(0, 1)
        assert c.stride() == t.stride()
    return t, c


@requires_torch
@pytest.mark.parametrize("shape", [(7,), (5, 9), (3, 4, 6), (1, 5), (6, 1)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", [0, 1])
def test_gather_scatter_match_torch(shape, dtype, layout):
    for dim in range(len(shape)):
        x, index = _case(shape, dim, dim)
        src = np.random.default_rng(5).standard_normal(index.shape)
        tx, cx = _pair(lambda lib: _as(lib, x, dtype), layout)
        ti, ci = _pair(lambda lib: lib.tensor(index), layout)
        ts, cs = _pair(lambda lib: _as(lib, src, dtype), layout)
        assert np.array_equal(cgrad.gather(cx, dim, ci).numpy(), torch.gather(tx, dim, ti).numpy())
        assert np.array_equal(cx.scatter(dim, ci, cs).numpy(), tx.scatter(dim, ti, ts).numpy())
        expected = tx.scatter_add(dim, ti, ts).numpy()
        got = cx.scatter_add(dim, ci, cs).numpy()
        if dtype.startswith("float"):
            np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-12)
        else:
            assert np.array_equal(got, expected)


@requires_torch
@pytest.mark.parametrize("call", ["gather", "scatter", "scatter_add"])
def test_zero_dim_index_matches_torch(call):
    def run(lib):
        x = lib.tensor([1.0, 2.0, 3.0])
        i = lib.tensor(2)
        if call == "gather":
            return lib.gather(x, 0, i)
        return getattr(x, call)(0, i, lib.tensor(5.0))
    assert run(cgrad).tolist() == run(torch).tolist()


@requires_torch
@pytest.mark.parametrize("index", [[[0, 1, 7], [2, 0, 1]], [[0, 1, 2], [-1, 0, 1]], [[0, 9, 2], [3, 0, 8]]], ids=str)
def test_out_of_range_error_matches_torch(index):
    for name in ("gather", "scatter_add"):
        def run(lib):
            x = lib.zeros(2, 4)
            i = lib.tensor(index)
            if name == "gather":
                return lib.gather(x, 1, i)
            return x.scatter_add(1, i, lib.ones(2, 3))
        with pytest.raises(RuntimeError) as expected:
            run(torch)
        with pytest.raises(RuntimeError) as got:
            run(cgrad)
        assert str(got.value) == str(expected.value)


def test_hand_computed_rows():
    x = cgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    i = cgrad.tensor([[2, 0], [1, 1]])
    assert cgrad.gather(x, 1, i).tolist() == [[3.0, 1.0], [5.0, 5.0]]
    assert cgrad.zeros(2, 3).scatter_add(1, i, cgrad.ones(2, 2)).tolist() == [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]
    assert cgrad.gather(x.t(), 0, i).tolist() == [[3.0, 4.0], [2.0, 5.0]]
    xg = x.clone().requires_grad_()
    cgrad.gather(xg, 1, i).sum().backward()
    assert xg.grad.tolist() == [[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]
