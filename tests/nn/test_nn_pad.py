"""F.pad and the padding modules against torch: constant (negative pads
crop, any number of dims, any dtype), reflect, replicate and circular modes,
values, gradients, grad_fn names, error types and texts; float64 gradient
checks of first and second order."""

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch
from nn_compare import error_of

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


def name_of(t):
    return None if t.grad_fn is None else t.grad_fn.name().split("::")[-1]


CASES = [
    ("constant", (2, 3, 5, 4), (1, 2)),
    ("constant", (2, 3, 5, 4), (1, 2, -1, 3)),
    ("constant", (2, 3, 5, 4), (0, 0, 1, 1, 2, 2, 1, 0)),
    ("constant", (5,), (-2, -1)),
    ("reflect", (2, 3, 6), (2, 3)),
    ("reflect", (3, 6), (5, 1)),
    ("reflect", (2, 3, 5, 6), (2, 3, 4, 1)),
    ("reflect", (3, 5, 6), (1, 1, 1, 1)),
    ("reflect", (1, 2, 4, 5, 6), (1, 2, 3, 1, 2, 0)),
    ("replicate", (2, 3, 6), (4, 0)),
    ("replicate", (2, 3, 5, 6), (2, 3, 7, 1)),
    ("replicate", (2, 3, 5, 6), (-1, 3, 2, -2)),
    ("replicate", (2, 4, 5, 6), (1, 2, 3, 1, 2, 0)),
    ("circular", (2, 3, 6), (2, 3)),
    ("circular", (2, 3, 5, 6), (2, 3, 5, 1)),
    ("circular", (2, 3, 5, 6), (-1, 3, 2, -2)),
    ("circular", (3, 5, 6), (1, 1, 2, 2)),
]


@pytest.mark.parametrize("mode,shape,pads", CASES)
def test_pad_matches_torch(mode, shape, pads):
    out_c, out_t = compare_with_torch(lambda lib, x: F(lib).pad(x, pads, mode=mode), rand(*shape, seed=1),
                                      check_grad_fn=False, reference=numpy_pad(pads, mode))
    if out_t is not None:
        assert name_of(out_c) == name_of(out_t)


def numpy_pad(pads, mode):
    """np.pad in torch's spelling (pairs from the last dim backwards), as
    the reference of F.pad; a negative pad crops that side first."""
    def pad(x):
        widths = [(0, 0)] * x.ndim
        for k in range(len(pads) // 2):
            widths[x.ndim - 1 - k] = (pads[2 * k], pads[2 * k + 1])
        np_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode]
        cropped = x[tuple(slice(-min(lo, 0), n + min(hi, 0)) for (lo, hi), n in zip(widths, x.shape))]
        return np.pad(cropped, [(max(lo, 0), max(hi, 0)) for lo, hi in widths], mode=np_mode)
    return pad


@requires_torch
def test_constant_pad_value_and_dtypes():
    x = np.arange(12).reshape(3, 4)
    for dt in ("int64", "int32", "uint8", "bool", "float16"):
        c = CF.pad(cgrad.tensor(x.astype(dt)), (1, 2, 2, 0), value=1)
        t = TF.pad(torch.tensor(x.astype(dt)), (1, 2, 2, 0), value=1)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    compare_with_torch(lambda lib, x: F(lib).pad(x, (1, 1, 1, 1), value=2.5), rand(2, 3, 3, seed=2))
    c = CF.pad(cgrad.tensor(x), (1, 1), mode="reflect")
    t = TF.pad(torch.tensor(x), (1, 1), mode="reflect")
    np.testing.assert_array_equal(c.numpy(), t.numpy())


PAD_ERRORS = [
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (1,)),
    lambda lib: F(lib).pad(lib.ones(2, 3), (1, 1, 1, 1, 1, 1)),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (1, 1), mode="reflect"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (5, 5, 1, 1), mode="reflect"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (1, 1, 1, 4), mode="reflect"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (1, 1, 1, 1), mode="foo"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 0, 4), (1, 1, 1, 1), mode="replicate"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (9, 9, 3, 3), mode="circular"),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4, 4), (1, 1, 1, 1), mode="reflect", value=2),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4), (-3, -3)),
    lambda lib: F(lib).pad(lib.ones(2, 3, 4), (1, 1, 1, 1, 1, 1), mode="replicate"),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(PAD_ERRORS)))
def test_pad_errors_like_torch(case):
    fn = PAD_ERRORS[case]
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


@requires_torch
@pytest.mark.parametrize("cls,arg,shape", [
    ("ZeroPad2d", (1, 2, 0, 3), (2, 3, 4, 4)), ("ZeroPad1d", 2, (2, 3, 4)),
    ("ConstantPad1d", (2, 1), (2, 3, 4)), ("ConstantPad2d", 1, (2, 3, 4, 4)),
    ("ReflectionPad1d", 2, (2, 3, 5)), ("ReflectionPad2d", (1, 2, 3, 0), (2, 3, 5, 5)),
    ("ReplicationPad1d", (3, 1), (2, 3, 5)), ("ReplicationPad2d", 2, (2, 3, 5, 5)),
    ("CircularPad1d", 2, (2, 3, 5)), ("CircularPad2d", (1, 2, 2, 1), (2, 3, 5, 5)),
])
def test_pad_modules_match_torch(cls, arg, shape):
    extra = (1.5,) if cls.startswith("Constant") else ()
    mc, mt = getattr(cnn, cls)(arg, *extra), getattr(torch.nn, cls)(arg, *extra)
    assert repr(mc) == repr(mt)
    compare_with_torch(lambda lib, x: (mc if lib is cgrad else mt)(x), rand(*shape, seed=3),
                       check_grad_fn=False)


@pytest.mark.parametrize("mode,pads", [("constant", (1, -1, 2, 0)), ("reflect", (2, 1, 1, 2)),
                                       ("replicate", (3, 1, 0, 2)), ("circular", (2, 1, 1, 2))])
def test_pad_gradcheck_first_and_second_order(mode, pads):
    x = rand(2, 2, 4, 5, seed=4, dtype=np.float64)
    check_gradients(lambda lib, x: CF.pad(x, pads, mode=mode), x)
    assert cgrad.autograd.gradgradcheck(lambda x: CF.pad(x, pads, mode=mode),
                                        (cgrad.tensor(x, requires_grad=True),))
