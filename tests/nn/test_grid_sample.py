"""F.affine_grid and F.grid_sample against torch: every mode, padding mode
and align_corners, 4-D and 5-D, values and the gradients of input, grid and
theta (with grid points on the borders and exactly on pixels, where
PyTorch's clip has a zero gradient), grad_fn names, warnings and error
texts; float64 gradcheck and gradgradcheck; known values without torch."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as F
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch, torch
from nn_compare import assert_same_errors

MODES = ["bilinear", "nearest", "bicubic"]
PADDINGS = ["zeros", "border", "reflection"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Default grid_sample and affine_grid")
        yield


def grid_points(*shape, seed=0):
    """Points in and around [-1, 1], some exactly on -1, 0, 1 and on pixel centres."""
    g = np.random.default_rng(seed).uniform(-1.3, 1.3, size=shape).astype(np.float32)
    flat = g.reshape(-1)
    flat[:12] = [-1.0, 1.0, 0.0, 0.5, -0.5, 1.0, -1.0, -1.0, 1.0, 1.0, 0.25, -1.5]
    return g


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_2d_matches_torch(mode, padding_mode, align_corners):
    arrays = [rand(2, 3, 5, 6), grid_points(2, 4, 7, 2)]
    if mode == "bicubic":      # its grid gradient cancels 16 taps' terms: float32 rounding exceeds the tolerance
        arrays = [a.astype(np.float64) for a in arrays]
    compare_with_torch(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                                                       align_corners=align_corners),
                       *arrays, rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", PADDINGS)
@pytest.mark.parametrize("align_corners", [True, False])
def test_grid_sample_3d_matches_torch(mode, padding_mode, align_corners):
    compare_with_torch(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, padding_mode=padding_mode,
                                                                       align_corners=align_corners),
                       rand(2, 3, 4, 5, 6), grid_points(2, 3, 4, 2, 3), rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("align_corners", [True, False])
def test_affine_grid_matches_torch(align_corners):
    theta2 = rand(2, 2, 3)
    theta3 = rand(3, 3, 4)
    compare_with_torch(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 5, 7), align_corners=align_corners),
                       theta2)
    compare_with_torch(lambda lib, t: lib.nn.functional.affine_grid(t, [3, 1, 4, 2, 5],
                                                                    align_corners=align_corners), theta3)
    compare_with_torch(lambda lib, t: lib.nn.functional.affine_grid(t, (2, 3, 1, 6), align_corners=False), theta2)

    def spatial_transformer(lib, t, x):
        grid = lib.nn.functional.affine_grid(t, x.shape, align_corners=align_corners)
        return lib.nn.functional.grid_sample(x, grid, align_corners=align_corners)
    compare_with_torch(spatial_transformer, rand(2, 2, 3, seed=1) / 2, rand(2, 3, 6, 5, seed=2), rtol=1e-4,
                       atol=1e-5)


@requires_torch
def test_warnings_match_torch():
    for lib in (cgrad, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.functional.grid_sample(lib.ones(1, 1, 2, 2), lib.zeros(1, 1, 1, 2))
            lib.nn.functional.affine_grid(lib.ones(1, 2, 3), (1, 1, 1, 3), align_corners=True)
        assert [str(w.message)[:60] for w in caught] == [
            "Default grid_sample and affine_grid behavior has changed to ",
            "Since version 1.3.0, affine_grid behavior has changed for un"], lib.__name__


@requires_torch
def test_errors_match_torch():
    x = lambda lib: lib.ones(2, 3, 4, 5)         # noqa: E731
    g = lambda lib: lib.zeros(2, 3, 3, 2)        # noqa: E731
    sample = lambda lib, *a, **k: lib.nn.functional.grid_sample(*a, align_corners=False, **k)  # noqa: E731
    assert_same_errors([
        lambda lib: sample(lib, x(lib), g(lib), mode="linear"),
        lambda lib: sample(lib, x(lib), g(lib), padding_mode="circular"),
        lambda lib: sample(lib, x(lib), g(lib).double()),
        lambda lib: sample(lib, x(lib).double(), g(lib)),
        lambda lib: sample(lib, x(lib), lib.zeros(2, 3, 3, 3, 3)),
        lambda lib: sample(lib, x(lib), lib.zeros(2, 3, 3, 3, 2)),
        lambda lib: sample(lib, lib.ones(2, 3, 4, 5, 6), lib.zeros(2, 3, 3, 3)),
        lambda lib: sample(lib, lib.ones(2, 3, 4, 5, 6, 7), lib.zeros(2, 3, 3, 3, 3, 4)),
        lambda lib: sample(lib, lib.ones(2, 3, 4, 5, 0), lib.zeros(2, 1, 3, 3, 3)),
        lambda lib: sample(lib, x(lib)[0], g(lib)[0]),
        lambda lib: sample(lib, x(lib), lib.zeros(3, 3, 3, 2)),
        lambda lib: sample(lib, x(lib), lib.zeros(2, 3, 3, 3)),
        lambda lib: sample(lib, lib.ones(2, 3, 0, 5), g(lib)),
        lambda lib: sample(lib, lib.ones(2, 3, 4, 5, 6), lib.zeros(2, 1, 1, 1, 3), mode="bicubic"),
        lambda lib: sample(lib, x(lib).long(), g(lib).long()),
        lambda lib: sample(lib, lib.ones(2, 3, 4, 5, 2).long(), lib.zeros(2, 3, 3, 2, 3).long()),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 2, 3).long(), (2, 3, 4, 5), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 3, 3), (2, 3, 4, 5), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 3, 3), (2, 3, 4, 5, 6), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 2, 3), (2, 3, 4), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 2, 3), (2, 3, 0, 5), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 2, 3), (3, 3, 4, 5), align_corners=False),
        lambda lib: lib.nn.functional.affine_grid(lib.ones(2, 3, 4), (3, 3, 4, 5, 2), align_corners=False),
    ], torch, cgrad)


def f64(*shape, seed=0, scale=1.0):
    return cgrad.tensor(rand(*shape, seed=seed).astype(np.float64) * scale, requires_grad=True)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("padding_mode", PADDINGS)
def test_gradcheck_float64(mode, padding_mode):
    # points kept off the pixel lattice and the borders, where the sample is not differentiable
    x = f64(1, 2, 3, 4)
    g = cgrad.tensor(np.array([[[[-0.83, 0.37], [0.21, -0.46], [1.13, 0.62]]]], np.float64), requires_grad=True)
    fn = lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=False)  # noqa
    assert gradcheck(fn, (x, g))
    assert gradgradcheck(fn, (x, g))
    if mode != "bicubic":
        x3 = f64(1, 2, 3, 2, 3)
        g3 = cgrad.tensor(np.array([[[[[-0.83, 0.37, 0.11], [0.21, -0.46, -0.71]]]]], np.float64),
                          requires_grad=True)
        fn = lambda x, g: F.grid_sample(x, g, mode=mode, padding_mode=padding_mode, align_corners=True)  # noqa
        assert gradcheck(fn, (x3, g3))
    theta = f64(2, 2, 3)
    assert gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (theta,))


def test_known_values_without_torch():
    x = cgrad.arange(12.0).reshape(1, 1, 3, 4)
    identity = F.affine_grid(cgrad.tensor([[[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]]), (1, 1, 3, 4), align_corners=True)
    for mode in MODES:
        np.testing.assert_allclose(F.grid_sample(x, identity, mode=mode, align_corners=True).numpy(), x.numpy(),
                                   rtol=1e-6, atol=1e-6)
    half = cgrad.tensor([[[[-1.0 + 1.0 / 3.0, -1.0]]]])       # halfway between pixels (0, 0) and (0, 1)
    assert F.grid_sample(x, half, align_corners=True).item() == pytest.approx(0.5)
    outside = cgrad.tensor([[[[3.0, 3.0]]]])
    assert F.grid_sample(x, outside, align_corners=True).item() == 0.0
    assert F.grid_sample(x, outside, padding_mode="border", align_corners=True).item() == 11.0
    out = F.grid_sample(f64(1, 1, 3, 4), cgrad.zeros(1, 1, 1, 2, dtype=cgrad.float64, requires_grad=True),
                        mode="nearest", align_corners=True)
    assert type(out.grad_fn).__name__ == "GridSampler2DBackward0"
    assert type(F.affine_grid(f64(1, 2, 3), (1, 1, 2, 2), align_corners=True).grad_fn).__name__ == \
        "AffineGridGeneratorBackward0"


@requires_torch
def test_forward_ad_refused_as_torch():
    texts = []
    for lib in (cgrad, torch):
        fw = lib.autograd.forward_ad
        with fw.dual_level(), pytest.raises(NotImplementedError) as info:
            x = lib.ones(1, 1, 2, 2, dtype=lib.float64)
            lib.nn.functional.grid_sample(fw.make_dual(x, x), lib.zeros(1, 1, 1, 2, dtype=lib.float64),
                                          align_corners=False)
        texts.append(str(info.value))
    assert texts[0] == texts[1]


@requires_torch
def test_torch_level_grid_sampler_and_affine_grid_generator_match_torch():
    x = rand(1, 2, 3, 4).astype(np.float64)
    g = np.random.default_rng(1).uniform(-1.2, 1.2, (1, 2, 2, 2))
    for mode in range(3):
        for padding in range(3):
            compare_with_torch(lambda lib, x, g: lib.grid_sampler(x, g, mode, padding, True), x, g)
    compare_with_torch(lambda lib, t: lib.affine_grid_generator(t, [2, 1, 3, 4], False), rand(2, 2, 3))


@requires_torch
@pytest.mark.parametrize("mode", MODES)
def test_empty_batch_and_grid_match_torch(mode):
    compare_with_torch(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, align_corners=True),
                       rand(0, 2, 3, 3), rand(0, 1, 1, 2))
    compare_with_torch(lambda lib, x, g: lib.nn.functional.grid_sample(x, g, mode=mode, align_corners=True),
                       rand(1, 2, 3, 3), rand(1, 0, 4, 2))
