"""Convolutions with an input whose dtype differs from the weight's or the
bias's (the common float64-numpy-data-into-a-float32-model mistake),
against torch: the bias check comes before any other (not transposed), and
a weight mismatch is worded by the path PyTorch takes, its oneDNN one
("should be the same or input should be a MKLDNN tensor") or its native
kernels' ("expected scalar type"), chosen by dtype, shapes, stride, threads
and, for float16, the CPU (cgrad/nn/_conv_backend.py)."""
import pytest

import cgrad
from cgrad.nn._conv_backend import onednn_float16_cpu
from tests.helpers import requires_torch, torch

DTYPES = ["float64", "float16", "int64", "int32", "uint8", "bool", "float32"]


def outcome(lib, x_dtype, w_dtype, b_dtype, one_d=False, channels=3, stride=1):
    shape = (1, channels, 5) if one_d else (1, channels, 5, 5)
    wshape = (2, 3, 3) if one_d else (2, 3, 3, 3)
    x = lib.ones(shape, dtype=getattr(lib, x_dtype))
    w = lib.ones(wshape, dtype=getattr(lib, w_dtype))
    b = None if b_dtype is None else lib.ones(2, dtype=getattr(lib, b_dtype))
    conv = lib.nn.functional.conv1d if one_d else lib.nn.functional.conv2d
    try:
        y = conv(x, w, b, stride=stride)
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return "ok", str(y.dtype).split(".")[-1], tuple(y.shape)


@requires_torch
@pytest.mark.parametrize("x_dtype", DTYPES)
@pytest.mark.parametrize("w_dtype,b_dtype", [("float32", "float32"), ("float32", None), ("float64", None),
                                             ("float16", "float16"), ("float32", "float64")])
@pytest.mark.parametrize("one_d", [False, True])
def test_dtype_mismatch_errors(x_dtype, w_dtype, b_dtype, one_d):
    assert outcome(cgrad, x_dtype, w_dtype, b_dtype, one_d) == outcome(torch, x_dtype, w_dtype, b_dtype, one_d)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(channels=4), dict(stride=0)])
@pytest.mark.parametrize("x_dtype,b_dtype", [("float64", "float32"), ("float16", None), ("float64", None)])
def test_dtype_check_order(kwargs, x_dtype, b_dtype):
    assert outcome(cgrad, x_dtype, "float32", b_dtype, **kwargs) == outcome(torch, x_dtype, "float32", b_dtype,
                                                                             **kwargs)


def test_messages_without_torch():
    assert outcome(cgrad, "float64", "float32", "float32") == (
        "RuntimeError", "Input type (double) and bias type (float) should be the same")
    # float16 input takes oneDNN's path only on a CPU with its float16 instructions
    assert outcome(cgrad, "float16", "float32", None) == (
        ("RuntimeError", "Input type (cgrad.HalfTensor) and weight type (cgrad.FloatTensor) should be the same or "
         "input should be a MKLDNN tensor and weight is a dense tensor") if onednn_float16_cpu() else
        ("RuntimeError", "expected scalar type Half but found Float"))
    # a float32 batch of one with a 3x3 kernel stays native; a batch of two goes to oneDNN
    assert outcome(cgrad, "float32", "float64", None) == (
        "RuntimeError", "expected scalar type Float but found Double")
    x, w = cgrad.ones(2, 3, 5, 5), cgrad.ones(2, 3, 3, 3, dtype=cgrad.float64)
    with pytest.raises(RuntimeError, match=r"^Input type \(cgrad.FloatTensor\) and weight type "
                                           r"\(cgrad.DoubleTensor\) should be the same or input should be a MKLDNN"):
        cgrad.nn.functional.conv2d(x, w)


def run_path_case(lib, fname, xs, ws, dtypes, threads, **kwargs):
    """A convolution with mixed dtypes: its error, or its result's dtype and
    sum and the bias gradient (native transposed kernels cast the bias)."""
    xd, wd, bd = dtypes
    x = lib.ones(xs, dtype=getattr(lib, xd), requires_grad=xd in ("float32", "float64"))
    w = lib.ones(ws, dtype=getattr(lib, wd))
    b = None if bd is None else lib.full((ws[1] if "transpose" in fname else ws[0],), 0.5,
                                         dtype=getattr(lib, bd), requires_grad=True)
    old = lib.get_num_threads()
    lib.set_num_threads(threads)
    try:
        y = getattr(lib.nn.functional, fname)(x, w, b, **kwargs)
        y.sum().backward()
        return ("ok", str(y.dtype).split(".")[-1], y.sum().item(),
                None if b is None else (str(b.grad.dtype).split(".")[-1], b.grad.tolist()))
    except RuntimeError as e:
        return ("RuntimeError", str(e).replace("torch.", "cgrad."))
    finally:
        lib.set_num_threads(old)


SHAPES = {  # (batch, channels, size, kernel) -> input and weight shapes per function
    "conv1d": lambda n, c, s, k: ((n, c, s), (2, c, k)),
    "conv2d": lambda n, c, s, k: ((n, c, s, s), (2, c, k, k)),
    "conv3d": lambda n, c, s, k: ((n, c, s, s, s), (2, c, k, k, k)),
    "conv_transpose1d": lambda n, c, s, k: ((n, c, s), (c, 2, k)),
    "conv_transpose2d": lambda n, c, s, k: ((n, c, s, s), (c, 2, k, k)),
    "conv_transpose3d": lambda n, c, s, k: ((n, c, s, s, s), (c, 2, k, k, k)),
}


@requires_torch
@pytest.mark.parametrize("fname", list(SHAPES))
@pytest.mark.parametrize("geometry", [(1, 3, 5, 3), (2, 3, 5, 3), (1, 3, 8, 5), (1, 3, 5, 1), (16, 3, 5, 1),
                                      (1, 64, 12, 3)])
@pytest.mark.parametrize("dtypes", [("float32", "float64", None), ("float16", "float32", None),
                                    ("float64", "float32", None), ("float32", "float32", "float64")])
@pytest.mark.parametrize("threads", [1, 2])
def test_mismatch_wording_follows_torchs_path(fname, geometry, dtypes, threads):
    """The wording of PyTorch's oneDNN path or of its native kernels, as
    PyTorch chooses between them by dtype, shapes, stride and threads."""
    xs, ws = SHAPES[fname](*geometry)
    for kwargs in ({}, {"stride": 2}):
        assert (run_path_case(cgrad, fname, xs, ws, dtypes, threads, **kwargs)
                == run_path_case(torch, fname, xs, ws, dtypes, threads, **kwargs))


# found by the round-15 module fuzzing: string padding, bfloat16 input, integer transposed input
MODULE_CASES = [(cls, nd, dtype, kwargs)
                for cls in ("Conv", "ConvTranspose") for nd in (1, 2, 3)
                for dtype in ("float64", "bfloat16", "int32", "int64")
                for kwargs in ({}, {"bias": False}, {"padding": "same"}, {"padding": "valid"}, {"groups": 3})
                if not (cls == "ConvTranspose" and isinstance(kwargs.get("padding"), str))]


def module_outcome(lib, cls, nd, dtype, kwargs):
    module = getattr(lib.nn, f"{cls}{nd}d")(3, 6, 3, **kwargs)
    x = lib.ones(*([2, 3] + [6] * nd), dtype=getattr(lib, dtype))
    try:
        return "ok", str(module(x).dtype).split(".")[-1]
    except Exception as e:  # noqa: BLE001 - the error is what is compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")


@pytest.mark.parametrize("cls, nd, dtype, kwargs", MODULE_CASES)
def test_module_dtype_mismatch(cls, nd, dtype, kwargs):
    ours = module_outcome(cgrad, cls, nd, dtype, kwargs)
    assert ours[0] != "ok"
    if cls == "ConvTranspose" and dtype == "int32":
        # the native kernels' dtype dispatch comes before the weight's check
        assert ours == ("NotImplementedError",
                        f"\"slow_conv_transpose{3 if nd == 3 else 2}d_out_cpu\" not implemented for 'Int'")
    if isinstance(kwargs.get("padding"), str) and dtype in ("float64", "int64"):
        # padding='same'/'valid' meets the weight before the bias
        title = {"float64": "Double", "int64": "Long"}[dtype]
        assert ours == ("RuntimeError", f"expected scalar type {title} but found Float")
    if torch is not None:
        assert ours == module_outcome(torch, cls, nd, dtype, kwargs)


def test_bfloat16_input_is_named_as_onednn_names_it():
    from cgrad.nn._conv_backend import onednn_bfloat16_cpu
    with pytest.raises(RuntimeError) as ours:
        cgrad.nn.functional.conv2d(cgrad.ones(1, 1, 3, 3, dtype=cgrad.bfloat16), cgrad.ones(1, 1, 1, 1))
    if onednn_bfloat16_cpu():
        assert str(ours.value) == ("Input type (CPUBFloat16Type) and weight type (cgrad.FloatTensor) should be the "
                                   "same or input should be a MKLDNN tensor and weight is a dense tensor")
    else:
        assert str(ours.value) == "expected scalar type BFloat16 but found Float"


@pytest.mark.parametrize("nd", [1, 2, 3])
@pytest.mark.parametrize("dtype, batch", [("float32", 2), ("float32", 1), ("float64", 2)])
def test_zero_kernel_size(nd, dtype, batch):
    """Conv{1,2,3}d(3, 4, 0): a zero-size kernel computed zeros (1-d, 2-d) or
    failed inside (3-d: 'stack expects a non-empty TensorList'); PyTorch's
    oneDNN path cannot build its primitive, its native kernels refuse the
    size (round-15 module fuzzing)."""
    import warnings
    from cgrad.nn._conv_backend import ONEDNN_NO_PRIMITIVE, takes_onednn

    def call(lib):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = getattr(lib.nn, f"Conv{nd}d")(3, 4, 0).to(getattr(lib, dtype))
        with pytest.raises(RuntimeError) as caught:
            module(lib.ones(*([batch, 3] + [5] * nd), dtype=getattr(lib, dtype)))
        return str(caught.value)
    ours = call(cgrad)
    x_shape, w_shape = (batch, 3) + (5,) * nd, (4, 3) + (0,) * nd
    if takes_onednn(dtype, x_shape, w_shape, (1,) * nd, (1,) * nd, 1, cgrad.get_num_threads()):
        assert ours == ONEDNN_NO_PRIMITIVE
    else:
        assert ours.startswith("kernel size should be greater than zero, but got")
    if torch is not None:
        assert ours == call(torch)
