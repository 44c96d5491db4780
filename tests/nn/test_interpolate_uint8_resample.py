"""uint8 F.interpolate with bilinear, bicubic and lanczos (4-D; antialias
False and True; align_corners; size or scale_factor; recompute_scale_factor;
contiguous, channels-last and non-dense input) against torch, byte for byte:
torch resamples uint8 in fixed point (int16 weights, W pass then H pass,
rounding and clamping to 0..255), and cgrad's kernel (upsample_uint8.pxi)
must give the same bytes, the same dtype and the same output layout.

torch's x86 builds take an AVX2 kernel for C <= 4 and a generic one for
C > 4; both compute the same sums, with two quirks matched here: the AVX2
kernel's internal assertion for 3-channel contiguous input whose result is
channels-last contiguous (e.g. 1x1), and the generic kernel's H pass giving
every row of a width-1 result the first row's value. torch's non-vector
build (ATEN_CPU_CAPABILITY=default) has that second quirk for every C, so
the cases it touches run only where torch reports an AVX2 or AVX512
capability. Without torch, values that follow from the fixed-point rule
alone are checked."""
import random

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

F = cgrad.nn.functional
MODES = ["bilinear", "bicubic", "lanczos"]


def _torch_has_avx2_kernels():
    return torch is not None and torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")


def _make_input(lib, arr, layout):
    x = lib.from_numpy(arr.copy())
    if layout == "channels_last":
        return x.contiguous(memory_format=lib.channels_last)
    if layout == "sliced":      # not dense: a view of every other column block
        return lib.from_numpy(np.concatenate([arr, arr], 3).copy())[:, :, :, arr.shape[3]:]
    if layout == "transposed":  # dense but in neither format
        return lib.from_numpy(arr.transpose(0, 1, 3, 2).copy()).permute(0, 1, 3, 2)
    return x


def _run(lib, arr, layout, kwargs):
    try:
        y = lib.nn.functional.interpolate(_make_input(lib, arr, layout), **kwargs)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return ("error", type(e).__name__, str(e).replace("torch.", "cgrad."))
    return ("ok", str(y.dtype).split(".")[-1], tuple(y.shape), tuple(y.stride()), y.numpy().copy())


def _assert_same(arr, layout, kwargs):
    want, got = _run(torch, arr, layout, kwargs), _run(cgrad, arr, layout, kwargs)
    assert got[:4] == want[:4], (arr.shape, layout, kwargs)
    if want[0] == "ok":
        np.testing.assert_array_equal(got[4], want[4], err_msg=f"{arr.shape} {layout} {kwargs}")
    return want


def _random_case(seed):
    """One random case over the whole option space (sizes 1..40, odd ones,
    up and down scaling, channels 1..5, batch 1..3, every layout)."""
    rng = random.Random(seed)
    n, c, h, w = rng.randint(1, 3), rng.randint(1, 5), rng.randint(1, 40), rng.randint(1, 40)
    mode = rng.choice(MODES)
    kwargs = {"mode": mode, "antialias": mode == "lanczos" or rng.random() < 0.5}
    if mode != "lanczos" and rng.random() < 0.7:
        kwargs["align_corners"] = rng.random() < 0.5
    if rng.random() < 0.5:
        kwargs["size"] = (rng.randint(1, 40), rng.randint(1, 40)) if rng.random() < 0.8 else rng.randint(1, 40)
    else:
        factors = [round(rng.uniform(0.1, 3.0), rng.choice([1, 2, 5])) for _ in range(2)]
        kwargs["scale_factor"] = tuple(factors) if rng.random() < 0.7 else factors[0]
        kwargs["recompute_scale_factor"] = rng.choice([None, False, True])
    layout = rng.choice(["contiguous", "channels_last", "channels_last", "sliced", "transposed"])
    if layout == "transposed" and w == 1:
        # torch's AVX2 kernel unpacks such (N, C, H, 1) input with the size-1
        # dim's stride and reads outside it: its bytes are not reproducible
        layout = "contiguous"
    arr = np.random.default_rng(seed).integers(0, 256, (n, c, h, w)).astype(np.uint8)
    if rng.random() < 0.2:
        arr = (arr > 127).astype(np.uint8) * 255      # extremes: bicubic over- and undershoots clamp
    return arr, layout, kwargs


def _width_one_generic_quirk(arr, kwargs):
    """The cases torch's non-vector build computes differently (width-1
    result with a changed height)."""
    x = cgrad.from_numpy(arr)
    y = F.interpolate(x, **kwargs)
    return y.shape[3] == 1 and y.shape[2] != x.shape[2]


@requires_torch
@pytest.mark.parametrize("block", range(12))
def test_random_cases_match_torch_bytes(block):
    for seed in range(block * 150, (block + 1) * 150):
        arr, layout, kwargs = _random_case(seed)
        if not _torch_has_avx2_kernels():
            try:
                if _width_one_generic_quirk(arr, kwargs):
                    continue
            except RuntimeError:
                pass
        _assert_same(arr, layout, kwargs)


# lanczos exists with antialias=True and align_corners=False only (its
# refusals are in tests/nn/test_interpolate_lanczos_area3d.py)
OPTIONS = [(m, aa, ac) for m in MODES for aa in (False, True) for ac in (False, True)
           if m != "lanczos" or (aa and not ac)]


@requires_torch
@pytest.mark.parametrize("mode,antialias,align_corners", OPTIONS)
@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("in_hw,out_hw", [((7, 9), (14, 18)), ((33, 40), (5, 7)), ((13, 11), (13, 4)),
                                          ((6, 5), (17, 5)), ((40, 1), (3, 1)), ((1, 1), (9, 4)),
                                          ((9, 8), (1, 1))])
def test_every_option_combination(mode, antialias, align_corners, layout, in_hw, out_hw):
    if not _torch_has_avx2_kernels() and out_hw[1] == 1 and out_hw[0] != in_hw[0]:
        pytest.skip("torch's non-vector build repeats row 0 of width-1 results")
    arr = np.random.default_rng(sum(in_hw)).integers(0, 256, (2, 3) + in_hw).astype(np.uint8)
    _assert_same(arr, layout, dict(size=out_hw, mode=mode, antialias=antialias, align_corners=align_corners))


@requires_torch
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("scale,recompute", [(2.0, None), (0.5, False), (1.7, True), ((0.31, 2.6), None),
                                             (1.1, None), (1.1, True), ((0.99, 1.01), False)])
def test_scale_factor_and_recompute(mode, scale, recompute):
    # 1.1 on 5 rows keeps 5 rows: torch copies such a dim whatever the scale
    arr = np.random.default_rng(3).integers(0, 256, (1, 4, 5, 23)).astype(np.uint8)
    for layout in ("contiguous", "channels_last"):
        _assert_same(arr, layout, dict(scale_factor=scale, recompute_scale_factor=recompute, mode=mode,
                                       antialias=True if mode == "lanczos" else mode == "bicubic"))


@requires_torch
@pytest.mark.parametrize("channels", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("mode", MODES)
def test_channels_and_downscale_many_taps(channels, mode):
    # antialiased downscaling by ~10 uses ~20-60 taps per output: a small
    # largest weight, hence a high fixed-point precision
    arr = np.random.default_rng(channels).integers(0, 256, (2, channels, 40, 37)).astype(np.uint8)
    for layout in ("contiguous", "channels_last", "sliced"):
        _assert_same(arr, layout, dict(size=(4, 3), mode=mode, antialias=True))
        if mode != "lanczos":
            _assert_same(arr, layout, dict(size=(4, 3), mode=mode, align_corners=True))


@requires_torch
def test_torch_avx2_kernel_assertion_is_matched():
    # 3 channels, contiguous input, a 1x1 result (channels-last contiguous too)
    arr = np.random.default_rng(0).integers(0, 256, (2, 3, 37, 3)).astype(np.uint8)
    if not _torch_has_avx2_kernels():
        pytest.skip("torch's non-vector build has no AVX2 kernel to assert")
    want = _assert_same(arr, "contiguous", dict(size=1, mode="bilinear"))
    assert want[:2] == ("error", "RuntimeError")
    assert "INTERNAL ASSERT FAILED" in want[2]
    # the same result from channels-last input, or with 4 channels, is computed
    assert _assert_same(arr, "channels_last", dict(size=1, mode="bilinear"))[0] == "ok"
    arr4 = np.random.default_rng(0).integers(0, 256, (2, 4, 37, 3)).astype(np.uint8)
    assert _assert_same(arr4, "contiguous", dict(size=1, mode="bicubic"))[0] == "ok"


@requires_torch
def test_torch_generic_kernel_width_one_rows_are_matched():
    arr = np.random.default_rng(1).integers(0, 256, (2, 6, 10, 3)).astype(np.uint8)
    want = _assert_same(arr, "contiguous", dict(size=(7, 1), mode="bilinear"))
    assert (want[4] == want[4][:, :, :1]).all()         # every row is row 0's value
    # channels-last output runs its H pass along channels: rows differ
    want_cl = _assert_same(arr, "channels_last", dict(size=(7, 1), mode="bilinear"))
    assert not (want_cl[4] == want_cl[4][:, :, :1]).all()


def test_fixed_point_values_without_torch():
    # [0, 255] to width 3 with align_corners: the middle weight is 1/2 at
    # precision 14, (8192 + 255 * 8192) >> 14 = 128 (127.5 rounds up)
    x = cgrad.tensor([[[[0, 255]]]], dtype=cgrad.uint8)
    y = F.interpolate(x, size=(1, 3), mode="bilinear", align_corners=True)
    assert y.dtype == cgrad.uint8
    assert y.tolist() == [[[[0, 128, 255]]]]
    # bicubic overshoot clamps to 0..255 (a -0.75 kernel on a step)
    step = cgrad.tensor([[[[0, 0, 255, 255]]]], dtype=cgrad.uint8)
    z = F.interpolate(step, size=(1, 8), mode="bicubic")
    assert z.tolist() == [[[[0, 0, 0, 58, 197, 255, 255, 255]]]]
    # a constant image stays constant under every mode and option
    flat = cgrad.full((2, 3, 9, 7), 173, dtype=cgrad.uint8)
    for mode in MODES:
        for size in ((4, 3), (20, 15), (9, 2)):
            r = F.interpolate(flat, size=size, mode=mode, antialias=True)
            assert r.shape == (2, 3) + size and (r == 173).all()
    # channels-last input gives a channels-last result
    cl = flat.contiguous(memory_format=cgrad.channels_last)
    r = F.interpolate(cl, size=(4, 5), mode="bilinear")
    assert r.is_contiguous(memory_format=cgrad.channels_last) and r.stride() == (60, 1, 15, 3)


def test_uint8_cannot_require_grad():
    # no autograd for uint8: asking for it fails as in torch
    with pytest.raises(RuntimeError) as got:
        cgrad.zeros(1, 1, 2, 2, dtype=cgrad.uint8).requires_grad_()
    if torch is not None:
        with pytest.raises(RuntimeError) as want:
            torch.zeros(1, 1, 2, 2, dtype=torch.uint8).requires_grad_()
        assert str(got.value) == str(want.value)
