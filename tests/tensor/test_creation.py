"""Creation functions against torch: tensor() from Python data and numpy
arrays, the factories (zeros/ones/empty/full, the *_like forms, eye, arange,
linspace) and the random ones (rand, randn, randint, their *_like forms,
manual_seed). Values are compared exactly (arange and linspace are
bit-identical to PyTorch's kernels), with dtypes, shapes, strides and
requires_grad; errors by type and text."""
import re
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def outcome(lib, fn):
    """What fn(lib) gives: an exception (type, text with torch's names made
    cgrad's) or a tensor (dtype, shape, strides, exact values, requires_grad)
    or a plain value; plus the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            r = fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            res = ("error", type(e).__name__, str(e).replace("torch.", "cgrad."))
        else:
            if isinstance(r, (cgrad.Tensor,) + ((torch.Tensor,) if torch else ())):
                arr = np.asarray(r.detach().numpy())
                res = ("tensor", str(r.dtype).split(".")[-1], tuple(r.shape), tuple(r.stride()),
                       arr.dtype.str, arr.tobytes(), r.requires_grad)
            else:
                res = ("value", repr(r).replace("torch.", "cgrad."))
    msgs = [re.sub(r" \(Triggered internally at .*\)$", "", str(w.message).replace("torch.", "cgrad."))
            for w in caught if issubclass(w.category, UserWarning)]
    return res, msgs


def same_as_torch(fn):
    got, want = outcome(cgrad, fn), outcome(torch, fn)
    assert got == want


A2 = np.arange(12.0).reshape(3, 4)

TENSOR_CASES = {
    "float": lambda L: L.tensor(1.5),
    "int": lambda L: L.tensor(3),
    "bool": lambda L: L.tensor(True),
    "mixed list": lambda L: L.tensor([1, 2.5, True]),
    "int bool": lambda L: L.tensor([1, True]),
    "nested": lambda L: L.tensor([[1, 2], [3, 4]]),
    "deep": lambda L: L.tensor([[[1]], [[2]]]),
    "tuple of lists": lambda L: L.tensor(([1, 2], [3, 4])),
    "range": lambda L: L.tensor(range(3)),
    "nested ranges": lambda L: L.tensor([range(2), range(2)]),
    "empty": lambda L: L.tensor([]),
    "empty rows": lambda L: L.tensor([[], []]),
    "empty first row": lambda L: L.tensor([[], [1]]),
    "empty later row": lambda L: L.tensor([[1], []]),
    "ragged": lambda L: L.tensor([[1, 2], [3]]),
    "deep ragged": lambda L: L.tensor([[[1, 2]], [[3]]]),
    "scalar where list": lambda L: L.tensor([[1, 2], 3]),
    "list where int": lambda L: L.tensor([1, [2, 3]]),
    "list where float": lambda L: L.tensor([1.5, [2, 3]]),
    "list where bool": lambda L: L.tensor([True, [False]]),
    "str": lambda L: L.tensor("a"),
    "bytes": lambda L: L.tensor(b"ab"),
    "str in list": lambda L: L.tensor(["a"]),
    "str nested": lambda L: L.tensor([[1, 2], ["a", 3]]),
    "none": lambda L: L.tensor(None),
    "none in list": lambda L: L.tensor([[1, 2], [None, 3]]),
    "dict": lambda L: L.tensor({1: 2}),
    "set": lambda L: L.tensor({1, 2}),
    "generator": lambda L: L.tensor(x for x in range(3)),
    "object": lambda L: L.tensor(object()),
    "self reference": lambda L: L.tensor((lambda l: (l.append(l), l)[1])([1])),
    "2**63": lambda L: L.tensor(2 ** 63),
    "2**64 in list": lambda L: L.tensor([2 ** 64]),
    "-2**63": lambda L: L.tensor([-2 ** 63]),
    "-2**63-1": lambda L: L.tensor([-2 ** 63 - 1]),
    "huge int as float": lambda L: L.tensor([2 ** 2000], dtype=L.float32),
    "2**64 as float32": lambda L: L.tensor([2 ** 64], dtype=L.float32),
    "1e300 as float32": lambda L: L.tensor([1e300]),
    "inf nan": lambda L: L.tensor([float("inf"), float("nan"), -0.0]),
    "1e30 as int64": lambda L: L.tensor([1e30], dtype=L.int64),
    "nan as int64": lambda L: L.tensor([float("nan")], dtype=L.int64),
    "floats truncate": lambda L: L.tensor([1.7, -1.7, -2.5], dtype=L.int64),
    "ints as float64": lambda L: L.tensor([1, 2], dtype=L.float64),
    "floats as bool": lambda L: L.tensor([0.0, 2.0, float("nan"), -0.0], dtype=L.bool),
    "ints as bool": lambda L: L.tensor([2, 0], dtype=L.bool),
    "bools as float": lambda L: L.tensor([True, False], dtype=L.float32),
    "none as float": lambda L: L.tensor([None], dtype=L.float32),
    "none as int": lambda L: L.tensor([None], dtype=L.int64),
    "str as bool": lambda L: L.tensor([[1], ["a"]], dtype=L.bool),
    "ragged with dtype": lambda L: L.tensor([[1], [2, 3]], dtype=L.float32),
    "str with dtype": lambda L: L.tensor(["a"], dtype=L.float32),
    "0.1 float64": lambda L: L.tensor([0.1], dtype=L.float64),
    "python float type": lambda L: L.tensor([1, 2], dtype=float),
    "python int type": lambda L: L.tensor([1.5], dtype=int),
    "python bool type": lambda L: L.tensor([1.5, 0], dtype=bool),
    "requires_grad": lambda L: L.tensor([1.0, 2.0], requires_grad=True),
    "requires_grad int": lambda L: L.tensor([1, 2], requires_grad=True),
    # numpy scalars and arrays inside lists take their own dtypes
    "np f64 + float": lambda L: L.tensor([np.float64(1.5), 2.0]),
    "float + np f64": lambda L: L.tensor([2.0, np.float64(1.5)]),
    "np f32 + int": lambda L: L.tensor([np.float32(1.5), 2]),
    "np i64 + bool": lambda L: L.tensor([np.int64(1), True]),
    "np bool list": lambda L: L.tensor([np.bool_(True), np.bool_(False)]),
    "np bool + float": lambda L: L.tensor([np.bool_(True), 2.5]),
    "bool + np f64": lambda L: L.tensor([True, np.float64(2.5)]),
    "np f32 into f64": lambda L: L.tensor([np.float32(0.1)], dtype=L.float64),
    "np i32 with dtype": lambda L: L.tensor([np.int32(3)], dtype=L.float32),
    "np arrays": lambda L: L.tensor([np.array([1.0, 2.0]), np.array([3.0, 4.0])]),
    "np f32 array + list": lambda L: L.tensor([np.array([1, 2], np.float32), [3, 4]]),
    "np 0-d first": lambda L: L.tensor([np.array(1.0), np.array(2.0)]),
    "np 0-d later": lambda L: L.tensor([1.0, np.array(2.5)]),
    # tensors inside lists are scalars
    "0-d tensors": lambda L: L.tensor([L.tensor(1.0), L.tensor(2.0)]),
    "1-element tensors": lambda L: L.tensor([L.tensor([1.5]), L.tensor([2.5])]),
    "int tensor + float": lambda L: L.tensor([L.tensor(1), 2.5]),
    "float64 tensor + float": lambda L: L.tensor([L.tensor(1.5, dtype=L.float64), 2.0]),
    "2-element tensors": lambda L: L.tensor([L.ones(2), L.ones(2)]),
    "nested 0-d int tensor": lambda L: L.tensor([[L.tensor(1), 2]]),
    # numpy arrays: copies, dtype kept, memory layout kept as PyTorch keeps it
    "np f32": lambda L: L.tensor(np.array([1.5, 2], np.float32)),
    "np f64": lambda L: L.tensor(np.array([1.5, 2], np.float64)),
    "np i64": lambda L: L.tensor(np.array([1, 2], np.int64)),
    "np bool": lambda L: L.tensor(np.array([True, False])),
    "np 0-d": lambda L: L.tensor(np.array(2.5)),
    "np scalar f64": lambda L: L.tensor(np.float64(2.5)),
    "np scalar f32": lambda L: L.tensor(np.float32(2.5)),
    "np scalar i64": lambda L: L.tensor(np.int64(2)),
    "np scalar bool": lambda L: L.tensor(np.bool_(True)),
    "np sliced": lambda L: L.tensor(A2[:, ::2]),
    "np transposed": lambda L: L.tensor(A2.T),
    "np fortran": lambda L: L.tensor(np.asfortranarray(A2)),
    "np permuted 3d": lambda L: L.tensor(np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1)),
    "np broadcast": lambda L: L.tensor(np.broadcast_to(np.arange(3.0), (2, 3))),
    "np bool transposed": lambda L: L.tensor(np.ones((3, 2), bool).T),
    "np (3, 1)": lambda L: L.tensor(np.ones((3, 1))),
    "np (3, 1) transposed": lambda L: L.tensor(np.ones((3, 1)).T),
    "np empty (0, 3)": lambda L: L.tensor(np.ones((0, 3))),
    "np empty (3, 0)": lambda L: L.tensor(np.ones((3, 0))),
    "np negative strides": lambda L: L.tensor(A2[::-1]),
    "np big-endian": lambda L: L.tensor(np.array([1.0, 2.0], dtype=">f8")),
    "np with dtype": lambda L: L.tensor(np.array([1.7, 2.2]), dtype=L.int64),
    "np transposed with dtype": lambda L: L.tensor(A2.T, dtype=L.float32),
    "np i32 with dtype ": lambda L: L.tensor(np.ones((3, 2), np.int32).T, dtype=L.float32),
    "np u8 with dtype": lambda L: L.tensor(np.array([1, 2], np.uint8), dtype=L.int64),
    # copies of tensors (with PyTorch's warning)
    "tensor copy": lambda L: L.tensor(L.ones(3, 2).t()),
    "tensor copy dtype": lambda L: L.tensor(L.ones(3, 2).t(), dtype=L.float64),
    "tensor copy of grad leaf": lambda L: L.tensor(L.ones(2, requires_grad=True)),
    "as_tensor transposed": lambda L: L.as_tensor(np.ones((3, 2)).T),
    "as_tensor negative strides": lambda L: L.as_tensor(np.ones((3, 2))[::-1]),
    "as_tensor dtype": lambda L: L.as_tensor(np.ones((3, 2)).T, dtype=L.float32),
    "as_tensor list": lambda L: L.as_tensor([[1, 2], [3, 4]]),
    "from_numpy sliced": lambda L: L.from_numpy(A2[:, ::2]),
    "from_numpy empty": lambda L: L.from_numpy(np.ones((0, 3))),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(TENSOR_CASES))
def test_tensor_from_data(name):
    same_as_torch(TENSOR_CASES[name])


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
@pytest.mark.parametrize("layout", ["contiguous", "sliced", "transposed", "broadcast"])
def test_numpy_arrays_are_copied(dtype, layout):
    base = (np.arange(24).reshape(4, 6) % 3).astype(dtype)
    arr = {"contiguous": base, "sliced": base[:, ::2], "transposed": base.T,
           "broadcast": np.broadcast_to(base[0], (3, 6))}[layout]
    t = cgrad.tensor(arr)
    assert t.dtype == {np.float32: cgrad.float32, np.float64: cgrad.float64, np.int64: cgrad.int64,
                       np.bool_: cgrad.bool}[dtype]
    assert t.tolist() == arr.tolist()
    before = arr.copy()
    base[...] = 1 if dtype is not np.bool_ else True
    assert t.tolist() == before.tolist()          # a copy, not a view


def test_tensor_from_long_list_is_exact():
    vals = [i * 0.1 for i in range(10000)]
    assert cgrad.tensor(vals, dtype=cgrad.float64).tolist() == vals
    assert cgrad.tensor(vals).numpy().tolist() == np.array(vals, np.float32).tolist()


FACTORY_CASES = {
    "zeros": lambda L: L.zeros(2, 3),
    "zeros tuple": lambda L: L.zeros((2, 3)),
    "zeros list": lambda L: L.zeros([2, 3]),
    "zeros Size": lambda L: L.zeros(L.Size([2, 3])),
    "zeros size kw": lambda L: L.zeros(size=(2, 3)),
    "zeros 0-d": lambda L: L.zeros(()),
    "zeros 0-d tensor size": lambda L: L.zeros(L.tensor(2)),
    "zeros no size": lambda L: L.zeros(),
    "zeros negative": lambda L: L.zeros(-1),
    "zeros negative 2": lambda L: L.zeros(2, -3),
    "zeros float size": lambda L: L.zeros(2.0),
    "zeros float in size": lambda L: L.zeros(2, 2.0),
    "zeros str size": lambda L: L.zeros("a"),
    "zeros None size": lambda L: L.zeros(None),
    "zeros int64": lambda L: L.zeros(2, dtype=L.int64),
    "zeros bad dtype": lambda L: L.zeros(2, dtype="a"),
    "zeros requires_grad": lambda L: L.zeros(2, requires_grad=True),
    "zeros requires_grad int": lambda L: L.zeros(2, dtype=L.int64, requires_grad=True),
    "ones": lambda L: L.ones(2, 3),
    "ones bool": lambda L: L.ones(2, dtype=L.bool),
    "ones no size": lambda L: L.ones(),
    "ones negative": lambda L: L.ones(-1),
    "ones negative 2": lambda L: L.ones(2, -3),
    "ones float size": lambda L: L.ones(2.0),
    "empty shape": lambda L: L.empty(2, 3).shape,
    "empty no size": lambda L: L.empty(),
    "empty negative": lambda L: L.empty(2, -3),
    "full": lambda L: L.full((2,), 1.5),
    "full int": lambda L: L.full((2,), 1),
    "full bool": lambda L: L.full((2,), False),
    "full list size": lambda L: L.full([2, 3], 0.5),
    "full int size": lambda L: L.full(3, 0.5),
    "full float in size": lambda L: L.full((2.0,), 2.0),
    "full negative": lambda L: L.full((-1,), 2.0),
    "full int as float64": lambda L: L.full((2,), 7, dtype=L.float64),
    "full float as int64": lambda L: L.full((2,), 7.9, dtype=L.int64),
    "full tensor value": lambda L: L.full((2,), L.tensor(3.5)),
    "full str value": lambda L: L.full((2,), "a"),
    "full inf as int64": lambda L: L.full((2,), float("inf"), dtype=L.int64),
    "full 1e19 as int64": lambda L: L.full((2,), 1e19, dtype=L.int64),
    "full 9.2e18 as int64": lambda L: L.full((2,), 9.2e18, dtype=L.int64),
    "full 2**63": lambda L: L.full((2,), 2 ** 63),
    "full -2**63": lambda L: L.full((2,), -2 ** 63, dtype=L.int64),
    "full 2**70": lambda L: L.full((2,), 2 ** 70),
    "full 1e300 as float32": lambda L: L.full((2,), 1e300, dtype=L.float32),
    "full inf as float32": lambda L: L.full((2,), float("inf"), dtype=L.float32),
    "full nan as bool": lambda L: L.full((2,), float("nan"), dtype=L.bool),
    "full requires_grad": lambda L: L.full((2,), 1.0, requires_grad=True),
    "full_like": lambda L: L.full_like(L.ones(2), 2.7),
    "full_like int": lambda L: L.full_like(L.ones(2, dtype=L.int64), 2.7),
    "full_like bool value": lambda L: L.full_like(L.ones(2), True),
    "full_like on bool": lambda L: L.full_like(L.ones(2, dtype=L.bool), 3),
    "full_like dtype": lambda L: L.full_like(L.ones(2), 3, dtype=L.float64),
    "full_like requires_grad": lambda L: L.full_like(L.ones(2), 3, requires_grad=True),
    "full_like requires_grad int": lambda L: L.full_like(L.ones(2, dtype=L.int64), 3, requires_grad=True),
    "full_like tensor value": lambda L: L.full_like(L.ones(2), L.tensor(5.0)),
    "full_like inf int": lambda L: L.full_like(L.ones(2, dtype=L.int64), float("inf")),
    "full_like nan int": lambda L: L.full_like(L.ones(2, dtype=L.int64), float("nan")),
    "full_like 2**63 int": lambda L: L.full_like(L.ones(2, dtype=L.int64), 2 ** 63),
    "full_like 1e300": lambda L: L.full_like(L.ones(2), 1e300),
    "full_like not tensor": lambda L: L.full_like([1, 2], 3),
    "full_like str value": lambda L: L.full_like(L.ones(2), "a"),
    "full_like transposed": lambda L: L.full_like(L.ones(3, 2).t(), 1),
    "ones_like transposed": lambda L: L.ones_like(L.ones(3, 2).t()),
    "ones_like expanded": lambda L: L.ones_like(L.ones(3, 1).expand(3, 4)),
    "full_like permuted expanded": lambda L: L.full_like(L.ones(3, 1, 2).expand(3, 4, 2).permute(2, 0, 1), 2),
    "ones_like permuted": lambda L: L.ones_like(L.ones(2, 3, 4).permute(2, 0, 1)),
    "ones_like size-1 dims": lambda L: L.ones_like(L.ones(3, 1).t()),
    "zeros_like": lambda L: L.zeros_like(L.ones(2, 3, dtype=L.float64)),
    "zeros_like bad dtype": lambda L: L.zeros_like(L.ones(2), dtype="a"),
    "zeros_like not tensor": lambda L: L.zeros_like([1.0]),
    "ones_like empty transposed": lambda L: L.ones_like(L.ones(0, 3).t()),
    "ones_like int": lambda L: L.ones_like(L.ones(2, 3, dtype=L.int64)),
    "empty_like strides": lambda L: L.empty_like(L.ones(3, 2).t()).stride(),
    "eye": lambda L: L.eye(3),
    "eye 2x4": lambda L: L.eye(2, 4),
    "eye 4x2": lambda L: L.eye(4, 2),
    "eye 0": lambda L: L.eye(0),
    "eye 0x3": lambda L: L.eye(0, 3),
    "eye int64": lambda L: L.eye(2, dtype=L.int64),
    "eye float64": lambda L: L.eye(3, 2, dtype=L.float64),
    "eye bool": lambda L: L.eye(2, dtype=L.bool),
    "eye requires_grad": lambda L: L.eye(2, requires_grad=True),
    "eye n kw": lambda L: L.eye(n=3),
    "eye m kw": lambda L: L.eye(2, m=3),
    "eye only m": lambda L: L.eye(m=3),
    "eye tensor n": lambda L: L.eye(L.tensor(2)),
    "eye negative n": lambda L: L.eye(-1),
    "eye negative m": lambda L: L.eye(2, -1),
    "eye float n": lambda L: L.eye(2.0),
    "eye str n": lambda L: L.eye("a"),
    "eye m None": lambda L: L.eye(2, None),
    "eye str m": lambda L: L.eye(2, "a"),
    "eye no args": lambda L: L.eye(),
    "eye three args": lambda L: L.eye(2, 3, 4),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(FACTORY_CASES))
def test_factories(name):
    same_as_torch(FACTORY_CASES[name])


RANGE_CASES = {
    "arange 5": lambda L: L.arange(5),
    "arange 0": lambda L: L.arange(0),
    "arange 3, 3": lambda L: L.arange(3, 3),
    "arange float": lambda L: L.arange(0, 1, 0.1),
    "arange float 2": lambda L: L.arange(-1.3, 2.9, 0.37),
    "arange float end only": lambda L: L.arange(10.5),
    "arange mixed": lambda L: L.arange(1, 2.5, 0.5),
    "arange descending": lambda L: L.arange(5, 0, -1),
    "arange descending float": lambda L: L.arange(5, 0, -0.7),
    "arange float64": lambda L: L.arange(0, 1, 0.1, dtype=L.float64),
    "arange int as float": lambda L: L.arange(5, dtype=L.float64),
    "arange floats as int64": lambda L: L.arange(0.5, 5.5, 1.5, dtype=L.int64),
    "arange floats as int64 2": lambda L: L.arange(-2.5, 5.5, 1.5, dtype=L.int64),
    "arange step truncated to 0": lambda L: L.arange(0, 1.5, 0.5, dtype=L.int64),
    "arange large float32": lambda L: L.arange(1e7, 1e7 + 10, 1.0),
    "arange long float32": lambda L: L.arange(-3.3, 200.0, 0.17),
    "arange long float64": lambda L: L.arange(-3.3, 200.0, 0.17, dtype=L.float64),
    "arange step kw": lambda L: L.arange(0, 5, step=2),
    "arange end kw": lambda L: L.arange(end=5),
    "arange start end kw": lambda L: L.arange(start=1, end=4),
    "arange 0-d tensor": lambda L: L.arange(L.tensor(5)),
    "arange 0-d float tensor": lambda L: L.arange(L.tensor(2.5)),
    "arange 0-d float64 tensor": lambda L: L.arange(L.tensor(5.0, dtype=L.float64)),
    "arange 1-d tensor": lambda L: L.arange(L.tensor([5])),
    "arange bool bound": lambda L: L.arange(True),
    "arange requires_grad": lambda L: L.arange(3.0, requires_grad=True),
    "arange requires_grad int": lambda L: L.arange(3, requires_grad=True),
    "arange wrong sign": lambda L: L.arange(0, 5, -1),
    "arange negative end": lambda L: L.arange(-5),
    "arange zero step": lambda L: L.arange(0, 5, 0),
    "arange nan step": lambda L: L.arange(0, 5, float("nan")),
    "arange inf": lambda L: L.arange(0, float("inf")),
    "arange nan": lambda L: L.arange(0, float("nan")),
    "arange inf int64": lambda L: L.arange(0, float("inf"), dtype=L.int64),
    "arange too big": lambda L: L.arange(0, 1e20, 1e-5),
    "arange bool dtype": lambda L: L.arange(3, dtype=L.bool),
    "arange str": lambda L: L.arange("a"),
    "arange None": lambda L: L.arange(None),
    "arange no args": lambda L: L.arange(),
    "arange int, str": lambda L: L.arange(1, "a"),
    "linspace": lambda L: L.linspace(0, 1, 5),
    "linspace 1 step": lambda L: L.linspace(2, 7, 1),
    "linspace 0 steps": lambda L: L.linspace(2, 7, 0),
    "linspace negative steps": lambda L: L.linspace(2, 7, -1),
    "linspace same ends": lambda L: L.linspace(2, 2, 4),
    "linspace descending": lambda L: L.linspace(3.7, -2.1, 9),
    "linspace long": lambda L: L.linspace(-3.3, 17.1, 5000),
    "linspace int64": lambda L: L.linspace(0, 10, 4, dtype=L.int64),
    "linspace int64 negative": lambda L: L.linspace(-7, 10, 6, dtype=L.int64),
    "linspace int64 from floats": lambda L: L.linspace(-7.9, 10.8, 6, dtype=L.int64),
    "linspace int64 big": lambda L: L.linspace(0, 2 ** 62, 5, dtype=L.int64),
    "linspace float64": lambda L: L.linspace(0, 1, 7, dtype=L.float64),
    "linspace bool dtype": lambda L: L.linspace(0, 1, 3, dtype=L.bool),
    "linspace bool bound": lambda L: L.linspace(True, 1, 3),
    "linspace tensors": lambda L: L.linspace(L.tensor(0.0), L.tensor(1.0), 3),
    "linspace int tensors": lambda L: L.linspace(L.tensor(0), L.tensor(10), 3),
    "linspace 1-d start": lambda L: L.linspace(L.tensor([0.0]), L.tensor(1.0), 3),
    "linspace 2-d start": lambda L: L.linspace(L.ones(1, 1), 1, 3),
    "linspace steps kw": lambda L: L.linspace(0, 1, steps=3),
    "linspace all kw": lambda L: L.linspace(start=0, end=1, steps=3),
    "linspace float steps": lambda L: L.linspace(0, 1, 3.0),
    "linspace float steps kw": lambda L: L.linspace(0, 1, steps=3.0),
    "linspace no steps": lambda L: L.linspace(0, 1),
    "linspace no args": lambda L: L.linspace(),
    "linspace str": lambda L: L.linspace("a", 1, 3),
    "linspace requires_grad": lambda L: L.linspace(0, 1, 3, requires_grad=True),
    "linspace requires_grad int": lambda L: L.linspace(0, 1, 3, dtype=L.int64, requires_grad=True),
    "linspace inf": lambda L: L.linspace(0, float("inf"), 3),
    "linspace nan": lambda L: L.linspace(0, float("nan"), 3),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(RANGE_CASES))
def test_ranges(name):
    same_as_torch(RANGE_CASES[name])


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_linspace_bit_identical(dtype):
    rng = np.random.default_rng(7)
    for _ in range(150):
        steps = int(rng.integers(1, 400))
        lo, hi = (float(v) for v in rng.uniform(-1000, 1000, 2))
        if dtype == "int64":
            lo, hi = int(lo), int(hi)
        c = cgrad.linspace(lo, hi, steps, dtype=getattr(cgrad, dtype)).numpy()
        t = torch.linspace(lo, hi, steps, dtype=getattr(torch, dtype)).numpy()
        assert c.dtype == t.dtype and np.array_equal(c, t), (lo, hi, steps)


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_arange_bit_identical(dtype):
    rng = np.random.default_rng(11)
    for _ in range(150):
        start = float(rng.uniform(-50, 50))
        step = float(rng.uniform(0.01, 3)) * (1 if rng.uniform() < 0.7 else -1)
        end = start + step * int(rng.integers(0, 1500))
        if dtype == "int64":
            start, end, step = int(start), int(end), int(step * 7) or 1
            if (end - start) * step < 0:
                end = start
        c = cgrad.arange(start, end, step, dtype=getattr(cgrad, dtype)).numpy()
        t = torch.arange(start, end, step, dtype=getattr(torch, dtype)).numpy()
        assert c.shape == t.shape and np.array_equal(c, t), (start, end, step)


# --- random numbers -------------------------------------------------------------

RANDOM = {
    "rand": lambda: cgrad.rand(3, 4),
    "rand float64": lambda: cgrad.rand((3, 4), dtype=cgrad.float64),
    "randn": lambda: cgrad.randn(3, 4),
    "randn float64": lambda: cgrad.randn(5, dtype=cgrad.float64),
    "randint": lambda: cgrad.randint(3, 10, (50,)),
    "randint high": lambda: cgrad.randint(10, (2, 5)),
    "randint float": lambda: cgrad.randint(-5, 5, (7,), dtype=cgrad.float32),
    "rand_like": lambda: cgrad.rand_like(cgrad.ones(3, 2).t()),
    "randn_like": lambda: cgrad.randn_like(cgrad.ones(4)),
    "randint_like": lambda: cgrad.randint_like(cgrad.ones(2, 3), 2, 9),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_manual_seed_reproducible(name):
    cgrad.manual_seed(1234)
    a = RANDOM[name]().numpy().copy()
    b = RANDOM[name]().numpy().copy()
    cgrad.manual_seed(1234)
    c = RANDOM[name]().numpy().copy()
    assert np.array_equal(a, c)
    assert a.size < 2 or not np.array_equal(a, b)
    cgrad.manual_seed(99)
    assert a.size < 2 or not np.array_equal(a, RANDOM[name]().numpy())


def test_random_ranges_and_dtypes():
    cgrad.manual_seed(0)
    u = cgrad.rand(10000).numpy()
    assert u.dtype == np.float32 and u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.02
    n = cgrad.randn(10000, dtype=cgrad.float64).numpy()
    assert n.dtype == np.float64 and abs(n.mean()) < 0.05 and abs(n.std() - 1) < 0.05
    r = cgrad.randint(-3, 4, (10000,)).numpy()
    assert r.dtype == np.int64 and r.min() == -3 and r.max() == 3
    b = cgrad.randint(0, 2, (100,), dtype=cgrad.bool).numpy()
    assert b.dtype == np.bool_ and b.any() and not b.all()
    like = cgrad.randint_like(cgrad.ones(2, 3, dtype=cgrad.float64), 5)
    assert like.dtype == cgrad.float64 and like.numpy().max() < 5
    assert cgrad.rand(2, requires_grad=True).requires_grad
    assert cgrad.randn_like(cgrad.ones(3, 2).t()).stride() == (1, 2)


RANDOM_CASES = {
    "rand no size": lambda L: L.rand(),
    "randn no size": lambda L: L.randn(),
    "rand negative": lambda L: L.rand(-1),
    "randn negative": lambda L: L.randn(2, -3),
    "rand float size": lambda L: L.rand(2.0),
    "rand int64": lambda L: L.rand(2, dtype=L.int64),
    "randn int64": lambda L: L.randn(2, dtype=L.int64),
    "rand bool": lambda L: L.rand(2, dtype=L.bool),
    "rand shape": lambda L: L.rand(2, 3).shape,
    "rand size kw": lambda L: L.rand(size=(2, 3)).shape,
    "rand 0-d": lambda L: L.rand(()).shape,
    "rand empty": lambda L: L.rand(0, 3).shape,
    "rand_like int": lambda L: L.rand_like(L.ones(2, dtype=L.int64)),
    "rand_like bool": lambda L: L.rand_like(L.ones(2, dtype=L.bool)),
    "randn_like int": lambda L: L.randn_like(L.ones(2, dtype=L.int64)),
    "randn_like not tensor": lambda L: L.randn_like([1.0]),
    "rand_like dtype": lambda L: L.rand_like(L.ones(2, dtype=L.int64), dtype=L.float64).dtype,
    "randint dtype": lambda L: L.randint(3, 10, (5,)).dtype,
    "randint kw": lambda L: L.randint(low=2, high=5, size=(2,)).shape,
    "randint size kw": lambda L: L.randint(2, 5, size=(2,)).shape,
    "randint high kw": lambda L: L.randint(high=5, size=(2,)).shape,
    "randint 0-d size": lambda L: L.randint(0, 5, ()).shape,
    "randint tensor high": lambda L: L.randint(0, L.tensor(5), (2,)).shape,
    "randint low >= high": lambda L: L.randint(10, 3, (5,)),
    "randint low == high": lambda L: L.randint(3, 3, (5,)),
    "randint low == high empty": lambda L: L.randint(3, 3, (0,)),
    "randint bool out of range": lambda L: L.randint(0, 3, (5,), dtype=L.bool),
    "randint no size": lambda L: L.randint(0, 3),
    "randint int size": lambda L: L.randint(0, 3, 5),
    "randint float bounds": lambda L: L.randint(0.5, 3.5, (5,)),
    "randint one arg": lambda L: L.randint(5),
    "randint no args": lambda L: L.randint(),
    "randint negative size": lambda L: L.randint(0, 5, (-1,)),
    "randint 2**63": lambda L: L.randint(0, 2 ** 63, (3,)),
    "randint requires_grad": lambda L: L.randint(0, 3, (5,), dtype=L.float32, requires_grad=True).requires_grad,
    "randint requires_grad int": lambda L: L.randint(0, 3, (5,), requires_grad=True),
    "randint_like dtype": lambda L: L.randint_like(L.ones(2, 3), 5).dtype,
    "randint_like low high": lambda L: L.randint_like(L.ones(2, 3, dtype=L.int64), 3, 5).dtype,
    "randint_like bad bounds": lambda L: L.randint_like(L.ones(2, 3), 5, 2),
    "randint_like not tensor": lambda L: L.randint_like([1], 2),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(RANDOM_CASES))
def test_random_factories_like_torch(name):
    same_as_torch(RANDOM_CASES[name])


def test_fill_keeps_negative_zero():
    # full/full_like/new_full with -0.0 write -0.0 (not the zero bytes of +0.0), as PyTorch's fill
    for dtype in (cgrad.float32, cgrad.float64):
        for t in (cgrad.full((2, 3), -0.0, dtype=dtype), cgrad.full_like(cgrad.ones(4, dtype=dtype), -0.0),
                  cgrad.ones(2, dtype=dtype).new_full((3,), -0.0), cgrad.ones(2, dtype=dtype).fill_(-0.0)):
            assert t.signbit().all() and (t == 0).all()
    assert not cgrad.full((2,), 0.0).signbit().any() and not cgrad.full((2,), 0).signbit().any()
    assert cgrad.full((2,), -0.0, dtype=cgrad.int64).tolist() == [0, 0]
