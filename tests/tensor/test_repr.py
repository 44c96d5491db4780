"""repr(tensor) must print exactly as PyTorch, with `torch.` -> `cgrad.`.

The comparison tests build the same data in both libraries from one numpy
array and need torch (they are skipped without it); the literal tests at the
top run everywhere.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

import cgrad
from cgrad import _tensor_str

try:
    import torch
except ImportError:  # the comparison tests skip themselves
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")


@pytest.fixture(autouse=True)
def default_printoptions():
    """Every test starts and ends with the default options in both libraries."""
    cgrad.set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")
    yield
    cgrad.set_printoptions(profile="default")
    if torch is not None:
        torch.set_printoptions(profile="default")


def check(arr, requires_grad=False, op=None):
    """repr of the cgrad tensor == repr of the torch tensor, from the same data."""
    arr = np.asarray(arr)
    if arr.ndim == 0:
        # cgrad.tensor(<0-d ndarray>) currently gives shape (1,): build from the scalar
        dtype = cgrad.tensor(arr.reshape(1)).dtype
        c = cgrad.tensor(arr.item(), dtype=dtype, requires_grad=requires_grad)
    else:
        c = cgrad.tensor(arr, requires_grad=requires_grad)
    t = torch.tensor(arr, requires_grad=requires_grad)
    if op is not None:
        c, t = op(c), op(t)
    expected = repr(t).replace("torch.", "cgrad.")
    assert repr(c) == expected
    assert str(c) == expected


def f32(values):
    return np.asarray(values, dtype=np.float32)


def both_printoptions(**kwargs):
    cgrad.set_printoptions(**kwargs)
    torch.set_printoptions(**kwargs)


# ---------------------------------------------------------------- without torch

@pytest.mark.parametrize("make, expected", [
    (lambda: cgrad.tensor(2.5), "tensor(2.5000)"),
    (lambda: cgrad.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    (lambda: cgrad.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    (lambda: cgrad.tensor([True, False]), "tensor([ True, False])"),
    (lambda: cgrad.tensor([1, -20, 300]), "tensor([  1, -20, 300])"),
    (lambda: cgrad.tensor([1.0, 2.0], dtype=cgrad.float64),
     "tensor([1., 2.], dtype=cgrad.float64)"),
    (lambda: cgrad.tensor([float("nan"), float("inf"), -float("inf"), -0.0]),
     "tensor([nan, inf, -inf, -0.])"),
    (lambda: cgrad.tensor([1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])"),
    (lambda: cgrad.tensor(np.zeros((2, 0), dtype=np.float32)), "tensor([], size=(2, 0))"),
    (lambda: cgrad.tensor(np.zeros(0, dtype=np.int64)), "tensor([], dtype=cgrad.int64)"),
    (lambda: cgrad.tensor([1.5], requires_grad=True), "tensor([1.5000], requires_grad=True)"),
    (lambda: cgrad.tensor([1.5], requires_grad=True) + 1,
     "tensor([2.5000], grad_fn=<AddBackward0>)"),
])
def test_literal(make, expected):
    assert repr(make()) == expected


def test_literal_summarized_and_wrapped():
    assert repr(cgrad.arange(2000)) == "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"
    assert repr(cgrad.tensor(np.arange(30, dtype=np.float32))) == (
        "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n"
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n"
        "        28., 29.])")


def test_literal_set_printoptions():
    t = cgrad.tensor([1.23456, 2.5])
    cgrad.set_printoptions(precision=2)
    assert repr(t) == "tensor([1.23, 2.50])"
    cgrad.set_printoptions(sci_mode=True)  # keeps precision 2
    assert repr(t) == "tensor([1.23e+00, 2.50e+00])"
    cgrad.set_printoptions(profile="default")
    assert repr(t) == "tensor([1.2346, 2.5000])"
    with _tensor_str.printoptions(threshold=3, edgeitems=1):
        assert repr(cgrad.arange(10)) == "tensor([0,  ..., 9])"
    assert repr(cgrad.arange(10)) == "tensor([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])"


def test_large_tensor_is_summarized():
    # (no timing asserted: only the edge items are formatted)
    cgrad.set_printoptions(profile="default")
    # values whose edge items never switch the format to scientific (random
    # ones do, when one of the 36 edge values happens to lie near zero)
    t = (cgrad.arange(1_000_000.0) % 7 + 1).reshape(1000, 1000)
    text = repr(t)
    assert text.count("\n") == 6 and "..." in text
    assert text.startswith("tensor([[1., 2., 3.,  ..., 4., 5., 6.],")


# ---------------------------------------------------------------- against torch

FLOAT_CASES = [
    [1.0, 2.0], [1.5, -2.25], [0.1, 100.5], [1.0, 1000.0], [1.0, 1001.0],
    [1e-4, 1.0], [9.9e-5, 1.0], [1e8], [1.01e8], [123456789.0], [1e-5], [-1e-5, 3.0],
    [float("nan"), 1.0], [float("nan")], [float("inf"), -float("inf")],
    [float("nan"), float("inf"), -float("inf"), 0.5, -0.0],
    [float("inf"), 1e-8, 2.0], [-0.0, 0.0], [-0.0], [0.0, 0.0, 0.0],
    [1.0, -1.0, 10.0, -100.0], [-123.456, 0.001], [3.14159265, 2.71828, -1.41421],
    [1e20, -3.0], [5e-30, 7e-29], [0.5, 0.25, 0.125, 0.0625],
]


@needs_torch
@pytest.mark.parametrize("values", FLOAT_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_values(values, dtype):
    check(np.asarray(values, dtype=dtype))


@needs_torch
@pytest.mark.parametrize("arr", [
    f32(2.5), f32(-0.0), f32(float("nan")), f32(float("inf")), f32(1e10), f32(3.0),
    f32(1e-7), np.float64(0.1), np.int64(-7), np.bool_(True), np.float64(-0.0),
], ids=repr)
def test_zero_dim(arr):
    check(arr)


@needs_torch
@pytest.mark.parametrize("shape", [(0,), (2, 0), (0, 3), (0, 3, 4), (1, 0, 2), (2, 3, 0, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_empty(shape, dtype):
    check(np.zeros(shape, dtype=dtype))


@needs_torch
@pytest.mark.parametrize("shape", [(1,), (5,), (3, 4), (1, 1), (2, 3, 4), (2, 1, 3, 2), (4, 1, 1)])
@pytest.mark.parametrize("scale", [1.0, 1e-6, 1e5, 1e9])
def test_random_shapes(shape, scale):
    rng = np.random.default_rng(len(shape) * 1000 + int(np.log10(scale) + 10))
    data = rng.standard_normal(shape) * scale
    check(data)
    check(data.astype(np.float32))
    check(np.round(data * 10).astype(np.int64))
    check(data > 0)


@needs_torch
@pytest.mark.parametrize("arr", [
    np.arange(100.0), np.arange(30, dtype=np.float32) / 7, np.arange(200, dtype=np.int64) - 50,
    np.random.default_rng(1).standard_normal(50), np.random.default_rng(2).standard_normal((3, 30)),
    np.random.default_rng(3).standard_normal((2, 2, 25)).astype(np.float32),
    np.random.default_rng(4).random(40) > 0.5, np.arange(17.0) * 1e6,
])
def test_wrapping(arr):
    check(arr)


@needs_torch
@pytest.mark.parametrize("arr", [
    np.arange(1001), np.arange(1001.0), np.arange(3000, dtype=np.float32) / 3,
    np.random.default_rng(5).standard_normal((1000, 1000)).astype(np.float32),
    np.random.default_rng(6).standard_normal((10, 200)),
    np.random.default_rng(7).standard_normal((3, 400)).astype(np.float32),
    np.random.default_rng(8).standard_normal((400, 3)).astype(np.float32),
    np.random.default_rng(9).standard_normal((20, 20, 20)).astype(np.float32),
    np.random.default_rng(10).standard_normal((5, 5, 5, 50)),
    np.random.default_rng(11).integers(-10**6, 10**6, (50, 50)),
    np.random.default_rng(12).random((40, 40)) > 0.5,
    # the large middle values are not shown, so they must not choose the style
    np.concatenate([np.ones(3), np.full(1000, 1e12), np.ones(3) * 2]).astype(np.float32),
])
def test_summarized(arr):
    check(arr)


@needs_torch
@pytest.mark.parametrize("arr", [
    f32([1.0, 2.0]), np.array([1.0, 2.0]), f32(np.arange(40)), np.arange(40.0),
    np.arange(24.0).reshape(2, 3, 4), f32(3.5), np.zeros((2, 0)),
    np.random.default_rng(13).standard_normal((4, 7)), np.arange(1200.0).reshape(30, 40),
])
@pytest.mark.parametrize("op", [None, lambda x: x + 1, lambda x: x * 2], ids=["leaf", "add", "mul"])
def test_requires_grad_and_grad_fn(arr, op):
    check(arr, requires_grad=True, op=op)


@needs_torch
@pytest.mark.parametrize("n", range(1, 30))
def test_suffix_line_wrap(n):
    # a float64 row whose last line grows until the suffixes no longer fit
    arr = np.arange(n, dtype=np.float64) + 0.5
    check(arr)
    check(arr, requires_grad=True)
    check(arr, requires_grad=True, op=lambda x: x * 2)
    check(np.arange(n * 2.0).reshape(2, n), requires_grad=True, op=lambda x: x + 1)


@needs_torch
@pytest.mark.parametrize("options", [
    dict(precision=2), dict(precision=0), dict(precision=8), dict(sci_mode=True),
    dict(sci_mode=False), dict(threshold=5), dict(threshold=0), dict(edgeitems=1, threshold=10),
    dict(edgeitems=0), dict(edgeitems=0, threshold=10), dict(linewidth=40), dict(linewidth=5),
    dict(profile="short"), dict(profile="full"), dict(profile="short", precision=6),
])
def test_set_printoptions(options):
    both_printoptions(**options)
    rng = np.random.default_rng(14)
    for arr in [np.arange(20.0), rng.standard_normal((12, 12)), rng.standard_normal((3, 4, 5)),
                np.arange(1100), f32([1e-5, 1.0, float("nan")]), f32(1.23456789),
                rng.random(30) > 0.5, f32([0.0, -0.0]), np.zeros((0, 2)), np.arange(1001.0)]:
        check(arr)
        if arr.dtype.kind == "f":
            check(arr, requires_grad=True, op=lambda x: x * 2)


@needs_torch
def test_sci_mode_resets_like_torch():
    both_printoptions(sci_mode=True)
    both_printoptions(precision=3)  # does not pass sci_mode: back to automatic
    check(f32([1.5, 2.5]))
    check(np.arange(5000.0))


def to_float(value, dtype):
    """`value` rounded to `dtype` (inf when it overflows float32)."""
    with np.errstate(over="ignore"):
        return float(dtype(value))


magnitudes = st.builds(lambda m, e: m * 10.0 ** e,
                       st.floats(-10, 10, allow_nan=False), st.integers(-40, 40))
specials = st.sampled_from([0.0, -0.0, float("nan"), float("inf"), -float("inf"), 1.0, -1.0])
shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=6)


@needs_torch
@settings(max_examples=300, deadline=None)
@given(shape=shapes, data=st.data(), double=st.booleans())
def test_hypothesis_floats(shape, data, double):
    dtype = np.float64 if double else np.float32
    elements = st.one_of(magnitudes, magnitudes, specials).map(lambda v: to_float(v, dtype))
    arr = data.draw(hnp.arrays(dtype, shape, elements=elements))
    check(arr)


@needs_torch
@settings(max_examples=100, deadline=None)
@given(arr=hnp.arrays(np.int64, shapes, elements=st.integers(-10**15, 10**15)))
def test_hypothesis_ints(arr):
    check(arr)


@needs_torch
@settings(max_examples=50, deadline=None)
@given(arr=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=40),
                      elements=st.floats(-1e6, 1e6, width=32)),
       linewidth=st.integers(10, 120), precision=st.integers(0, 8),
       edgeitems=st.integers(0, 4), threshold=st.integers(0, 200))
def test_hypothesis_options(arr, linewidth, precision, edgeitems, threshold):
    both_printoptions(linewidth=linewidth, precision=precision, edgeitems=edgeitems,
                      threshold=threshold)
    check(arr)
    check(arr.astype(np.float32), requires_grad=True, op=lambda x: x + 1)


@pytest.mark.parametrize("spec", ["", ".3f", "10.2e", "+"])
def test_zero_dim_tensor_formats_as_its_number(spec):
    # f"{loss}" and f"{loss:.4f}" print the number, as PyTorch's __format__ does
    t = cgrad.tensor(1.5, requires_grad=True) * 2
    assert format(t, spec) == format(3.0, spec)
    if torch is not None:
        assert format(t, spec) == format(torch.tensor(1.5, requires_grad=True) * 2, spec)


def test_zero_dim_integer_tensor_formats_as_its_int():
    assert f"{cgrad.tensor(7)}" == "7" and f"{cgrad.tensor(7):+}" == "+7"


def test_format_of_other_tensors_is_str_and_refuses_a_spec():
    t = cgrad.tensor([1.0, 2.0])
    assert f"{t}" == str(t)
    with pytest.raises(TypeError, match=r"^unsupported format string passed to Tensor\.__format__$"):
        f"{t:.2f}"
    p = cgrad.nn.Parameter(cgrad.tensor(2.0))        # a subclass: no number formatting, as in torch
    assert f"{p}" == str(p)
