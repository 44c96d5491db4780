"""Fuzz targets (hypothesis) for tensor construction and indexing against
torch: random nested lists (ragged, mixed, non-numeric, huge ints, NaN),
numpy arrays and scalars, random dtype / requires_grad; random index
expressions (ints in and out of range, slices with any step, None,
Ellipsis, bools, nested lists, int and bool tensors of right and wrong
shapes, floats) for reads, writes and gradients. Each case: the same
result as torch, or an exception of the same type (and a failed write
changes nothing).
"""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import cgrad
from robust_helpers import assert_unchanged, requires_torch, snapshot_all, torch

pytestmark = requires_torch

# CGRAD_FUZZ_EXAMPLES=5000 for a longer hunt (the default keeps the suite fast)
FUZZ = settings(max_examples=int(os.environ.get("CGRAD_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

# ---------------------------------------------------------------------------
# Construction

scalars = st.one_of(
    st.integers(-5, 5), st.integers(-2 ** 64, 2 ** 64), st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True, width=64), st.floats(-10, 10),
    st.sampled_from([None, "a", b"x", 1j, object()]).filter(lambda _: True),
)
numeric = st.one_of(st.integers(-5, 5), st.booleans(), st.floats(-10, 10), st.floats(allow_nan=True))


def nested(leaf, max_leaves=12):
    return st.recursive(leaf, lambda children: st.one_of(st.lists(children, max_size=3),
                                                        st.tuples(children, children)), max_leaves=max_leaves)


def rectangular(draw_shape, leaf):
    """A rectangular nested list of the given shape."""
    @st.composite
    def build(draw):
        shape = draw(draw_shape)

        def level(dims):
            if not dims:
                return draw(leaf)
            return [level(dims[1:]) for _ in range(dims[0])]
        return level(shape)
    return build()


DTYPES = [None, "float32", "float64", "int64", "bool"]


def construct(lib, data, dtype, requires_grad, fn):
    dt = None if dtype is None else getattr(lib, dtype if dtype != "bool" else "bool")
    kw = {} if dt is None else {"dtype": dt}
    if fn == "tensor":
        return lib.tensor(data, requires_grad=requires_grad, **kw)
    if fn == "as_tensor":
        return lib.as_tensor(data, **kw)
    if fn == "Tensor":
        return lib.Tensor(data)
    raise AssertionError(fn)


def picture(obj):
    if isinstance(obj, BaseException):
        return ("EXC", type(obj).__name__)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        arr = obj.detach().numpy()
    return (tuple(obj.shape), str(obj.dtype).split(".")[-1], [repr(v) for v in arr.ravel().tolist()],
            obj.requires_grad)


def both(fn):
    out = []
    for lib in (torch, cgrad):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(picture(fn(lib)))
        except Exception as e:  # noqa: BLE001 - compared
            out.append(("EXC", type(e).__name__))
    return out


# complex data: cgrad has no complex dtype (torch makes complex64 tensors)
def no_complex(x):
    if isinstance(x, (list, tuple)):
        return all(no_complex(v) for v in x)
    return not isinstance(x, complex)


@FUZZ
@given(data=nested(scalars).filter(no_complex), dtype=st.sampled_from(DTYPES), rg=st.booleans(),
       fn=st.sampled_from(["tensor", "as_tensor", "Tensor"]))
def test_construct_from_nested_lists(data, dtype, rg, fn):
    # Tensor(n) with a number makes an uninitialised tensor of n elements: not data
    assume(fn != "Tensor" or isinstance(data, (list, tuple)))
    t, c = both(lambda lib: construct(lib, data, dtype, rg, fn))
    assert c == t


@FUZZ
@given(data=rectangular(st.lists(st.integers(0, 3), max_size=3), numeric), dtype=st.sampled_from(DTYPES),
       rg=st.booleans())
def test_construct_from_rectangular_lists(data, dtype, rg):
    t, c = both(lambda lib: construct(lib, data, dtype, rg, "tensor"))
    assert c == t


np_dtypes = st.sampled_from(["float32", "float64", "int64", "bool"])


@st.composite
def np_arrays(draw):
    shape = tuple(draw(st.lists(st.integers(0, 4), max_size=4)))
    dt = draw(np_dtypes)
    arr = np.asarray(np.random.default_rng(draw(st.integers(0, 99))).normal(size=shape) * 3).astype(dt)
    if draw(st.booleans()) and arr.ndim:                    # strided / reversed views
        ax = draw(st.integers(0, arr.ndim - 1))
        arr = np.flip(arr, ax) if draw(st.booleans()) else np.swapaxes(arr, 0, ax)
    return arr


@FUZZ
@given(arr=np_arrays(), dtype=st.sampled_from(DTYPES), rg=st.booleans(),
       fn=st.sampled_from(["tensor", "as_tensor", "from_numpy", "list of 0-d arrays", "numpy scalar"]))
def test_construct_from_numpy(arr, dtype, rg, fn):
    # torch quirk, not a reference: tensor(np.float32(x) / np.bool_(x), dtype=int64 or bool) raises TypeError
    # (those numpy scalars go through __index__) while np.float64 and Python floats convert
    assume(not (fn == "numpy scalar" and dtype in ("int64", "bool") and arr.dtype in (np.float32, np.bool_)))
    def make(lib):
        if fn == "from_numpy":
            return lib.from_numpy(arr)
        if fn == "list of 0-d arrays":
            return construct(lib, [np.asarray(v) for v in arr.ravel()[:4]], dtype, rg, "tensor")
        if fn == "numpy scalar":
            return construct(lib, arr.ravel()[0] if arr.size else arr.dtype.type(0), dtype, rg, "tensor")
        return construct(lib, arr, dtype, rg, fn)
    t, c = both(make)
    assert c == t


# ---------------------------------------------------------------------------
# Indexing

SHAPE = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def index_items(draw, shape):
    """One index expression for a tensor of `shape` (plain data: ints,
    slices, None, Ellipsis, bools, floats, lists; tensors are described by
    ('int tensor', list) / ('mask', shape) and built per library)."""
    n = draw(st.integers(0, min(len(shape) + 2, 4)))
    items = []
    for k in range(n):
        size = shape[k] if k < len(shape) else 2
        kind = draw(st.sampled_from(["int", "int", "slice", "slice", "None", "Ellipsis", "bool", "list", "nested list",
                                     "int tensor", "0-d int tensor", "mask", "float", "empty list"]))
        if kind == "int":
            items.append(draw(st.integers(-size - 2, size + 1)))
        elif kind == "slice":
            items.append(slice(draw(st.none() | st.integers(-6, 6)), draw(st.none() | st.integers(-6, 6)),
                               draw(st.none() | st.integers(-2, 3))))
        elif kind == "None":
            items.append(None)
        elif kind == "Ellipsis":
            items.append(Ellipsis)
        elif kind == "bool":
            items.append(draw(st.booleans()))
        elif kind == "list":
            items.append(draw(st.lists(st.integers(-size - 1, size), max_size=4)))
        elif kind == "nested list":
            items.append([draw(st.lists(st.integers(-size - 1, size), min_size=2, max_size=2)) for _ in range(2)])
        elif kind == "int tensor":
            items.append(("int tensor", draw(st.lists(st.integers(-size - 1, size), max_size=4))))
        elif kind == "0-d int tensor":
            items.append(("0-d int tensor", draw(st.integers(-size - 1, size))))
        elif kind == "mask":
            rest = shape[k:] if k < len(shape) else (2,)
            mshape = tuple(draw(st.sampled_from([rest, rest[:1], (size + 1,), ()])))
            items.append(("mask", mshape, draw(st.integers(0, 99))))
        elif kind == "float":
            items.append(draw(st.sampled_from([0.0, 1.5, -1.0])))
        else:
            items.append([])
    if n == 1 and draw(st.booleans()):
        return items[0]                 # a bare index, not a tuple
    return tuple(items)


def build(lib, idx):
    if isinstance(idx, tuple) and idx and isinstance(idx[0], str):
        if idx[0] == "int tensor":
            return lib.tensor(idx[1], dtype=lib.int64)
        if idx[0] == "0-d int tensor":
            return lib.tensor(idx[1])
        if idx[0] == "mask":
            m = np.random.default_rng(idx[2]).random(idx[1]) > 0.4
            return lib.tensor(m)
    if isinstance(idx, tuple):
        return tuple(build(lib, i) for i in idx)
    return idx


def getitem_picture(lib, arr, idx):
    x = lib.tensor(arr, requires_grad=True)
    y = x[build(lib, idx)]
    g = None
    if y.requires_grad:
        (y * 2).sum().backward()
        g = [repr(v) for v in x.grad.numpy().ravel().tolist()]
    return picture(y), y._is_view() if hasattr(y, "_is_view") else None, g


@FUZZ
@given(shape=SHAPE, data=st.data())
def test_getitem_fuzz(shape, data):
    idx = data.draw(index_items(shape))
    arr = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 3
    got = []
    for lib in (torch, cgrad):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got.append(getitem_picture(lib, arr, idx))
        except Exception as e:  # noqa: BLE001 - compared
            got.append(("EXC", type(e).__name__))
    assert got[1] == got[0], f"index {idx!r} on shape {shape}"


@FUZZ
@given(shape=SHAPE, data=st.data(),
       value=st.sampled_from(["scalar", "nan", "0-d tensor", "row", "full", "wrong", "int tensor", "list"]))
def test_setitem_fuzz(shape, data, value):
    idx = data.draw(index_items(shape))
    arr = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape) - 3

    def run(lib):
        base = lib.tensor(arr)
        x = base[...]                                   # a view: writes must show on base
        v = {"scalar": 7.5, "nan": float("nan"), "0-d tensor": lib.tensor(2.0),
             "row": lib.arange(float(shape[-1] if shape else 1)),
             "full": lib.ones(shape) * 9, "wrong": lib.ones(5, 7), "int tensor": lib.tensor([4]),
             "list": [1.0, 2.0]}[value]
        before = snapshot_all([base]) if lib is cgrad else None
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                x[build(lib, idx)] = v
        except Exception as e:  # noqa: BLE001 - compared
            if lib is cgrad:
                assert_unchanged([base], before, f"failed write {idx!r}")
            return ("EXC", type(e).__name__)
        return picture(base), base._version
    t, c = run(torch), run(cgrad)
    assert c == t, f"index {idx!r} on shape {shape}, value {value}"
