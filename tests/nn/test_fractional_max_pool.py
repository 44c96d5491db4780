"""F.fractional_max_pool2d/3d and nn.FractionalMaxPool2d/3d: with given
random samples the same windows, values, indices and gradients as torch
(bit for bit), PyTorch's errors and reprs; without torch, against a
direct evaluation of the window formula and float64 gradcheck."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

F = cgrad.nn.functional

CASES = [(2, (2, 3, 9, 11), 3, (4, 5)), (2, (2, 3, 9, 11), (2, 3), (7, 1)), (2, (3, 9, 11), 2, (5, 5)),
         (3, (1, 2, 7, 8, 9), 2, (3, 4, 5)), (3, (2, 7, 8, 9), (2, 1, 3), (5, 2, 2)), (2, (1, 1, 5, 5), 2, (1, 1))]


def _inputs(case):
    spatial, shape, kernel, out = CASES[case]
    rng = np.random.RandomState(case)
    batched = len(shape) == spatial + 2
    samples = rng.rand(shape[0] if batched else 1, shape[-spatial - 1], spatial).astype(np.float32)
    return spatial, rng.randn(*shape).astype(np.float32), kernel, out, samples


def test_windows_follow_the_formula():
    # one plane, height 9 -> 4 windows of 3 with u = 0.25: alpha = 2, starts floor((i + u) * 2) - floor(u * 2)
    x = cgrad.arange(81, dtype=cgrad.float32).reshape(1, 1, 9, 9)
    samples = cgrad.tensor([[[0.5, 0.25]]])         # (width sample, height sample)
    y, idx = F.fractional_max_pool2d(x, 3, output_size=(4, 4), return_indices=True, _random_samples=samples)
    rows = [int((i + 0.25) * 2) - int(0.25 * 2) for i in range(3)] + [6]
    cols = [int((i + 0.5) * 2) - int(0.5 * 2) for i in range(3)] + [6]
    # an increasing input: each window's maximum is its bottom-right corner
    expected = [[(r + 2) * 9 + c + 2 for c in cols] for r in rows]
    assert idx[0, 0].tolist() == expected
    assert y[0, 0].tolist() == [[float(v) for v in row] for row in expected]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_gradcheck(case):
    spatial, x, kernel, out, samples = _inputs(case)
    pool = F.fractional_max_pool2d if spatial == 2 else F.fractional_max_pool3d
    xt = cgrad.tensor(x.astype(np.float64), requires_grad=True)
    s = cgrad.tensor(samples.astype(np.float64))
    assert cgrad.autograd.gradcheck(lambda t: pool(t, kernel, output_size=out, _random_samples=s), (xt,))


def test_module_and_errors():
    m = cgrad.nn.FractionalMaxPool2d(3, output_ratio=0.5, return_indices=True)
    values, indices = m(cgrad.randn(2, 3, 10, 12))
    assert values.shape == (2, 3, 5, 6) and indices.dtype == cgrad.int64
    assert repr(m) == "FractionalMaxPool2d()"
    assert "_random_samples" not in m.state_dict()
    with pytest.raises(ValueError, match="output_ratio must be between 0 and 1"):
        cgrad.nn.FractionalMaxPool2d(3, output_ratio=1.5)
    with pytest.raises(ValueError, match="only one of output_size and output_ratio may be specified"):
        cgrad.nn.FractionalMaxPool3d(2, output_size=2, output_ratio=0.5)
    with pytest.raises(ValueError, match="FractionalMaxPool2d requires specifying either an output size"):
        cgrad.nn.FractionalMaxPool2d(3)


ERRORS = {
    "no size": lambda F, x, x3, s: F.fractional_max_pool2d(x, 3),
    "pool too large": lambda F, x, x3, s: F.fractional_max_pool2d(x, 3, output_size=(8, 5), _random_samples=s),
    "window on the last row": lambda F, x, x3, s: F.fractional_max_pool2d(x, 3, output_size=(7, 5),
                                                                         _random_samples=s).shape,
    "samples batch": lambda F, x, x3, s: F.fractional_max_pool2d(x, 3, output_size=(4, 5), _random_samples=s[:1]),
    "samples dims": lambda F, x, x3, s: F.fractional_max_pool2d(x, 3, output_size=(4, 5), _random_samples=s[..., :1]),
    "1-d input": lambda F, x, x3, s: F.fractional_max_pool2d(x[0, 0, 0], 3, output_size=(4, 5)),
    "kernel of three": lambda F, x, x3, s: F.fractional_max_pool2d(x, (3, 3, 3), output_size=(4, 5)),
    "3-d no size": lambda F, x, x3, s: F.fractional_max_pool3d(x3, 2),
    "3-d strict time": lambda F, x, x3, s: F.fractional_max_pool3d(x3, 2, output_size=(6, 3, 3)),
    "3-d strict width": lambda F, x, x3, s: F.fractional_max_pool3d(x3, 2, output_size=(5, 3, 8)),
    "3-d fits": lambda F, x, x3, s: F.fractional_max_pool3d(x3, 2, output_size=(5, 7, 7)).shape,
    "3-d ratio": lambda F, x, x3, s: F.fractional_max_pool3d(x3, 2, output_ratio=(0.5, 0.5, 0.5)).shape,
}


@requires_torch
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_match_torch(name):
    results = []
    for lib in (torch, cgrad):
        x, x3, s = lib.randn(2, 3, 9, 11), lib.randn(1, 1, 7, 9, 9), lib.rand(2, 3, 2)
        try:
            results.append(("ok", tuple(ERRORS[name](lib.nn.functional, x, x3, s))))
        except Exception as e:      # noqa: BLE001 - the comparison is the point
            results.append((type(e).__name__, str(e).split("\n")[0]))
    assert results[1] == results[0]


@requires_torch
@pytest.mark.parametrize("case", range(len(CASES)))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch(case, dtype):
    spatial, x, kernel, out, samples = _inputs(case)
    results = []
    for lib in (torch, cgrad):
        xt = lib.tensor(x.astype(dtype), requires_grad=True)
        pool = getattr(lib.nn.functional, f"fractional_max_pool{spatial}d")
        y, idx = pool(xt, kernel, output_size=out, return_indices=True, _random_samples=lib.tensor(samples.astype(dtype)))
        (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
        results.append((y.detach().numpy(), idx.numpy(), xt.grad.numpy(), y.grad_fn.name()))
    for got, want in zip(results[1][:3], results[0][:3]):
        np.testing.assert_array_equal(got, want)
    assert results[1][3] == results[0][3]
    assert repr(cgrad.nn.FractionalMaxPool3d(2, output_size=4)) == repr(torch.nn.FractionalMaxPool3d(2, output_size=4))
