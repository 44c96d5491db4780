"""What the dtype tests share: the dtype lists and the machinery that runs
the same expression in cgrad and torch and compares the outcome (value,
dtype, or the error's type and text). Used by tests/tensor/test_dtypes.py
and test_dtypes_in_ops.py."""
import warnings

import numpy as np
from hypothesis import HealthCheck, settings

import cgrad
from helpers import torch


DTYPES = ["float32", "float64", "int64", "bool", "float16", "int8", "int16", "int32", "uint8"]
FLOATS = ["float32", "float64", "float16"]
INTS = ["int64", "int32", "int16", "int8", "uint8"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])



# ---------------------------------------------------------------------------
# machinery: the same expression in both libraries, then the same outcome


class Zero:
    """A zero-dim tensor operand (from a 0-d array of the dtype)."""

    def __init__(self, value):
        self.value = np.asarray(value)


def sample(rng, dt, shape=(6,), small=False):
    """Values of dtype dt that exercise it: the full range of the small
    integer types (wrap-around), negative values, ties for comparisons."""
    shape = tuple(shape)
    if dt == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dt in INTS:
        info = np.iinfo(dt)
        lo, hi = (-5, 6) if small else (max(info.min, -(1 << 40)), min(info.max, 1 << 40) + 1)
        if dt == "uint8" and small:
            lo = 0
        v = rng.integers(lo, hi, size=shape, dtype=np.int64)
        # some small values too: equal pairs for the comparisons
        mask = rng.integers(0, 2, size=shape).astype(bool)
        v = np.where(mask, rng.integers(max(lo, -3), 4, size=shape), v)
        return v.astype(dt)
    v = rng.standard_normal(size=shape) * (2 if small else 40)
    v = np.where(rng.integers(0, 3, size=shape) == 0, np.round(v), v)
    return v.astype(dt)


def to_lib(lib, x):
    if isinstance(x, np.ndarray):
        return lib.tensor(x)
    if isinstance(x, Zero):
        return lib.tensor(x.value)
    return x


def run(lib, fn, args):
    try:
        return fn(lib, *[to_lib(lib, a) for a in args]), None
    except Exception as e:  # noqa: BLE001 - the oracle's error is the expectation
        return None, e


def name_of(dtype):
    return str(dtype).split(".")[-1]


def assert_same_value(got, exp, rtol, atol, what):
    if isinstance(exp, torch.Tensor):
        assert isinstance(got, cgrad.Tensor), f"{what}: {type(got)}"
        assert name_of(got.dtype) == name_of(exp.dtype), f"{what}: dtype {got.dtype} vs {exp.dtype}"
        assert tuple(got.shape) == tuple(exp.shape), f"{what}: shape {tuple(got.shape)} vs {tuple(exp.shape)}"
        have = got.detach().numpy()
        want = exp.detach().numpy()
        if want.dtype.kind == "f" and (rtol or atol):
            np.testing.assert_allclose(have.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                       atol=atol, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(have, want, err_msg=what)
    elif isinstance(exp, (tuple, list)):
        assert len(got) == len(exp), what
        for k, (g, e) in enumerate(zip(got, exp)):
            assert_same_value(g, e, rtol, atol, f"{what}[{k}]")
    elif isinstance(exp, torch.dtype):
        assert isinstance(got, cgrad.dtype) and name_of(got) == name_of(exp), f"{what}: {got} vs {exp}"
    elif isinstance(exp, (float, np.floating)) and exp != exp:
        assert type(got) is type(exp) and got != got, f"{what}: {got!r} vs {exp!r}"
    else:
        assert type(got) is type(exp) and got == exp, f"{what}: {got!r} vs {exp!r}"


def check(fn, *args, rtol=0.0, atol=0.0, what=""):
    """fn(lib, *operands) in both libraries: the same value (dtype, shape,
    values: exact unless a tolerance is given) or the same error (type and
    text, torch. read as cgrad.)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exp, err = run(torch, fn, args)
        got, gerr = run(cgrad, fn, args)
    if err is not None:
        assert gerr is not None, f"{what}: torch raised {err!r}, cgrad gave {got!r}"
        assert type(gerr) is type(err), f"{what}: {gerr!r} vs {err!r}"
        assert str(gerr) == str(err).replace("torch.", "cgrad."), what
        return None
    assert gerr is None, f"{what}: cgrad raised {gerr!r}, torch gave {exp!r}"
    assert_same_value(got, exp, rtol, atol, what)
    return got


def tol(*dts):
    """Tolerances for results in these dtypes where PyTorch's own kernels
    (vectorised libm, accumulation order) may differ in the last bit."""
    if "float16" in dts:
        return dict(rtol=2e-3, atol=1e-3)
    if "float32" in dts:
        return dict(rtol=1e-5, atol=1e-6)
    return dict(rtol=1e-12, atol=1e-12)
