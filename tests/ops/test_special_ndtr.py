"""cgrad.special's entr, ndtr, ndtri, log_ndtr, i0e, i1e and xlog1py against
torch.special over wide domains and their edges (0, negatives, +-inf, nan,
large magnitudes), with the tolerance each function states below; their
gradients against torch's; float64 gradcheck (no oracle needed); the
float16 kernels PyTorch lacks refused with its texts. The generic table
tests (test_op_table.py, test_op_table_binary.py) cover the rows' forms,
dtypes and grad_fn names as for every row.
"""
import math

import numpy as np
import pytest

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

INF, NAN = math.inf, math.nan
EDGES = [0.0, -0.0, INF, -INF, NAN, 1e-300, -1e-300, 1e-30, -1e-30]
WIDE = list(np.linspace(-40, 40, 161)) + list(np.geomspace(1e-8, 1e300, 80)) + \
    list(-np.geomspace(1e-8, 1e300, 80)) + EDGES
UNIT = list(np.linspace(0, 1, 201)) + list(np.geomspace(1e-320, 0.5, 120)) + \
    list(1 - np.geomspace(1e-16, 0.5, 60)) + [-0.5, 1.5, -INF, INF, NAN, -0.0, 1e-310]

# (name, inputs, float64 rtol, float32 rtol): what each kernel is held to;
# ndtr's float32 also absolute 6e-8: its 1 + erf(x) cancels in the lower
# tail, where cgrad's and torch's float32 erf may differ by 1 ulp of 1
CASES = [
    ("entr", WIDE, 1e-15, 2e-7),
    ("ndtr", WIDE, 1e-15, 2e-7),
    ("ndtri", UNIT, 1e-14, 1e-6),
    # float32 5e-6: torch's float32 log1p(-erfc(x)/2) carries erfcf's error
    # (4e-6 relative at x = 6, against the exact -9.8658765e-10); cgrad's
    # float32 kernel computes in double and rounds once
    ("log_ndtr", WIDE + [-1e5, -1e10, -1e150], 1e-14, 5e-6),
    ("i0e", WIDE, 1e-15, 1e-6),
    ("i1e", WIDE, 1e-15, 1e-6),
]


def values(lib, name, xs, dtype):
    return getattr(lib.special, name)(lib.tensor(xs, dtype=getattr(lib, dtype)))


@requires_torch
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name, xs, rtol64, rtol32", CASES, ids=[c[0] for c in CASES])
def test_values_match_torch(name, xs, rtol64, rtol32, dtype):
    got = values(cgrad, name, xs, dtype)
    want = values(torch, name, xs, dtype)
    assert str(got.dtype) == str(want.dtype).replace("torch.", "cgrad.")
    tiny = 6e-8 if (name, dtype) == ("ndtr", "float32") else np.finfo(dtype).tiny * 4
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=rtol64 if dtype == "float64" else rtol32,
                               atol=tiny, equal_nan=True, err_msg=name)


@requires_torch
@pytest.mark.parametrize("name", [c[0] for c in CASES])
def test_integer_inputs_promote_to_float(name):
    got = getattr(cgrad.special, name)(cgrad.tensor([0, 1, 3]))
    want = getattr(torch.special, name)(torch.tensor([0, 1, 3]))
    assert str(got.dtype) == "cgrad.float32"
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, equal_nan=True)


GRAD_POINTS = {
    "entr": [0.1, 0.5, 1.0, 2.0, 7.5],
    "ndtr": [-6.0, -1.0, 0.0, 0.3, 4.0],
    "ndtri": [1e-10, 0.01, 0.3, 0.5, 0.9, 0.999],
    "log_ndtr": [-30.0, -3.0, -1.0, 0.0, 2.0, 9.0],
    "i0e": [-20.0, -2.0, -0.3, 0.0, 0.3, 2.0, 20.0],
    "i1e": [-20.0, -2.0, -0.3, 0.0, 0.3, 2.0, 20.0],
}


@requires_torch
@pytest.mark.parametrize("name", list(GRAD_POINTS))
def test_gradients_and_grad_fn_match_torch(name):
    xs = GRAD_POINTS[name]
    grads, names = [], []
    for lib in (cgrad, torch):
        x = lib.tensor(xs, dtype=lib.float64, requires_grad=True)
        y = getattr(lib.special, name)(x)
        names.append(y.grad_fn.name())
        y.backward(lib.tensor(np.linspace(0.5, 1.5, len(xs))))
        grads.append(x.grad.numpy())
    assert names[0] == names[1]
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", list(GRAD_POINTS))
def test_gradcheck_float64(name):
    # smooth points only: i0e has |x|'s kink at 0, i1e's second derivative
    # jumps there; ndtri's finite differences need p > eps
    xs = [v for v in GRAD_POINTS[name] if v != 0.0 and v > 1e-6 or v < 0 and name != "entr"]
    x = cgrad.tensor(xs, dtype=cgrad.float64, requires_grad=True)
    fn = getattr(cgrad.special, name)
    assert gradcheck(fn, (x,), eps=1e-7, atol=1e-6, rtol=1e-5)
    assert gradgradcheck(fn, (x,), eps=1e-7, atol=1e-5, rtol=1e-4)


def test_known_values_without_oracle():
    # facts of the functions themselves
    assert cgrad.special.ndtri(cgrad.tensor([0.5], dtype=cgrad.float64)).item() == 0.0
    assert cgrad.special.ndtri(cgrad.tensor([0.0, 1.0])).tolist() == [-INF, INF]
    np.testing.assert_allclose(cgrad.special.ndtri(cgrad.tensor([0.975], dtype=cgrad.float64)).item(),
                               1.959963984540054, rtol=1e-15)
    np.testing.assert_allclose(cgrad.special.log_ndtr(cgrad.tensor([-40.0], dtype=cgrad.float64)).item(),
                               -804.6084420137538, rtol=1e-14)
    assert cgrad.special.entr(cgrad.tensor([0.0, -1.0, 1.0])).tolist() == [0.0, -INF, -0.0]
    np.testing.assert_allclose(cgrad.special.i0e(cgrad.tensor([1.0], dtype=cgrad.float64)).item(),
                               1.2660658777520082 * math.exp(-1), rtol=1e-15)


@requires_torch
def test_ndtr_is_torchs_composite():
    x = cgrad.tensor([0.5, -2.0], requires_grad=True)
    assert cgrad.special.ndtr(x).grad_fn.name() == "MulBackward1"


@requires_torch
@pytest.mark.parametrize("name", ["ndtri", "log_ndtr"])
def test_float16_refused_as_torch(name):
    with pytest.raises(NotImplementedError) as want:
        getattr(torch.special, name)(torch.tensor([0.5], dtype=torch.float16))
    with pytest.raises(NotImplementedError) as got:
        getattr(cgrad.special, name)(cgrad.tensor([0.5], dtype=cgrad.float16))
    assert str(got.value) == str(want.value)


# ---- xlog1py ------------------------------------------------------------
XS = [0.0, -0.0, 1.0, -2.5, 3e5, INF, -INF, NAN, 1e-300]
YS = [-1.0, -0.5, 0.0, 1e-20, 2.0, 1e300, INF, NAN, -2.0, -INF]


@requires_torch
@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_xlog1py_values_match_torch(dtype):
    a = np.repeat(XS, len(YS))
    b = np.tile(YS, len(XS))
    got = cgrad.special.xlog1py(cgrad.tensor(a, dtype=getattr(cgrad, dtype)), cgrad.tensor(b, dtype=getattr(cgrad, dtype)))
    want = torch.special.xlog1py(torch.tensor(a, dtype=getattr(torch, dtype)), torch.tensor(b, dtype=getattr(torch, dtype)))
    rtol = {"float64": 1e-15, "float32": 2e-7, "float16": 1e-3}[dtype]
    np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64), rtol=rtol,
                               equal_nan=True)


@requires_torch
def test_xlog1py_grads_and_grad_fns_match_torch():
    a_np, b_np = np.array([0.0, 0.5, -2.0, 3.0]), np.array([0.3, -0.5, 4.0, 0.0])
    out = []
    for lib in (cgrad, torch):
        a = lib.tensor(a_np, requires_grad=True)
        b = lib.tensor(b_np, requires_grad=True)
        y = lib.special.xlog1py(a, b)
        y.backward(lib.tensor([1.0, 2.0, 0.5, -1.0], dtype=lib.float64))
        out.append((y.grad_fn.name(), lib.special.xlog1py(2.0, b).grad_fn.name(),
                    lib.special.xlog1py(a, 2.0).grad_fn.name(), a.grad.numpy(), b.grad.numpy()))
    assert out[0][:3] == out[1][:3]
    np.testing.assert_allclose(out[0][3], out[1][3], rtol=1e-15)
    np.testing.assert_allclose(out[0][4], out[1][4], rtol=1e-15)


def test_xlog1py_gradcheck():
    a = cgrad.tensor([0.5, -2.0, 3.0], dtype=cgrad.float64, requires_grad=True)
    b = cgrad.tensor([0.3, -0.5, 4.0], dtype=cgrad.float64, requires_grad=True)
    assert gradcheck(cgrad.special.xlog1py, (a, b), eps=1e-7, atol=1e-6)
    assert gradgradcheck(cgrad.special.xlog1py, (a, b), eps=1e-7, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("name", list(GRAD_POINTS))
def test_forward_ad_matches_torch(name):
    import cgrad.autograd.forward_ad as cgrad_fwad
    import torch.autograd.forward_ad as torch_fwad
    tangents = []
    for lib, fwad in ((cgrad, cgrad_fwad), (torch, torch_fwad)):
        x = lib.tensor(GRAD_POINTS[name], dtype=lib.float64)
        with fwad.dual_level():
            dual = fwad.make_dual(x, lib.tensor(np.linspace(0.5, 1.5, len(GRAD_POINTS[name]))))
            tangents.append(fwad.unpack_dual(getattr(lib.special, name)(dual)).tangent.numpy())
    np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-13, atol=1e-300)


@requires_torch
@pytest.mark.parametrize("args", [(1.0, 2), ("a", None), (None, "b")])
def test_xlog1py_argument_errors_match_torch(args):
    texts = []
    for lib in (cgrad, torch):
        a, b = (lib.ones(2) if v is None else v for v in args)
        with pytest.raises(TypeError) as err:
            lib.special.xlog1py(a, b)
        texts.append(str(err.value))
    assert texts[0] == texts[1]
