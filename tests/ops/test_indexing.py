"""Indexing: __getitem__ / __setitem__ with basic and advanced indices,
index_select and masked_fill, differentially against torch (values,
dtypes, shapes, strides, storage offsets, memory sharing, grad_fn names,
gradients, errors and warnings), plus float64 gradchecks."""
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgrad
from helpers import compare_with_torch, requires_torch, torch, torch_free_checks

A = np.random.default_rng(0).standard_normal((3, 4, 5))
# more examples for a longer randomised campaign: CGRAD_TEST_EXAMPLES_SCALE=20
SCALE = int(os.environ.get("CGRAD_TEST_EXAMPLES_SCALE", "1"))
A2 = np.random.default_rng(1).standard_normal((3, 4))


def _name(obj):
    return None if obj is None else type(obj).__name__


def _err(e):
    return ("ERR", type(e).__name__, str(e).split(" (Triggered internally")[0].replace("torch.", "cgrad."))


def _same(x, y):
    """Deep equality with numpy arrays compared by value."""
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        x, y = np.asarray(x), np.asarray(y)
        return x.shape == y.shape and x.dtype == y.dtype and np.allclose(x, y, rtol=1e-6, atol=1e-9,
                                                                         equal_nan=True)
    if isinstance(x, (tuple, list)) and isinstance(y, (tuple, list)):
        return len(x) == len(y) and all(_same(a, b) for a, b in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k]) for k in x)
    return type(x) is type(y) and x == y


def assert_same(c, t):
    assert _same(c, t), f"\ncgrad: {c}\ntorch: {t}"


# ---------------------------------------------------------------------------
# __getitem__


def getitem_outcome(lib, arr, index_fn, base_fn=None, requires_grad=True):
    """Everything observable about x[index]: result geometry, memory sharing,
    grad_fn, values and the gradient it sends back; or the error."""
    x = lib.tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f")
    src = x if base_fn is None else base_fn(x)
    env_index = index_fn(lib)
    try:
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = src[env_index]
    except Exception as e:  # noqa: BLE001 - the error is the outcome
        return _err(e)
    out = {
        "shape": tuple(r.shape), "dtype": str(r.dtype).split(".")[-1], "grad_fn": _name(r.grad_fn),
        "is_view": r._is_view(), "requires_grad": r.requires_grad,
        "values": r.detach().numpy().copy(),
        "warnings": tuple(str(m.message).split(" (Triggered")[0].replace("torch.", "cgrad.") for m in w),
    }
    if r._is_view():
        if x.numel():   # torch.tensor() gives empty arrays zero strides: a creation quirk
            out["stride"] = r.stride()
            out["offset"] = r.storage_offset()
        out["base_is_x"] = r._base is x
        if r.numel():   # torch reports data_ptr() 0 for empty tensors
            out["byte_offset"] = r.data_ptr() - x.data_ptr()
        out["version_shared"] = r._version == x._version
    else:
        out["contiguous"] = r.is_contiguous()
        if r.numel():
            out["stride"] = r.stride()
    if r.requires_grad:
        g = np.random.default_rng(7).standard_normal(tuple(r.shape))
        r.backward(lib.tensor(g))
        out["grad"] = x.grad.numpy().copy()
    return out


class NumpyIndexLib:
    """The part of torch's namespace the index expressions use, in numpy:
    torch's indexing follows numpy's, so numpy is the reference of the
    result's values, shape and dtype and of the gradient it sends back."""
    bool, int64, float32, float64 = np.bool_, np.int64, np.float32, np.float64
    tensor = staticmethod(np.asarray)

    @staticmethod
    def ones(*shape, dtype=np.float32):
        return np.ones(shape, dtype=dtype)

    @staticmethod
    def zeros(*shape, dtype=np.float32):
        return np.zeros(shape, dtype=dtype)


def getitem_reference(arr, index_fn):
    """(values, gradient) of arr[index] by numpy, the gradient as torch
    accumulates it (duplicates summed); None where numpy refuses."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            index = index_fn(NumpyIndexLib)
            values = arr[index]
            positions = np.arange(arr.size).reshape(arr.shape)[index]
    except Exception:  # noqa: BLE001 - numpy's errors are not torch's: nothing to compare
        return None
    # getitem_outcome's grad_output, as the tensor of arr's dtype receives it
    g = np.random.default_rng(7).standard_normal(values.shape).astype(arr.dtype).astype(np.float64)
    grad = np.zeros(arr.size)
    np.add.at(grad, np.asarray(positions).reshape(-1), g.reshape(-1))
    return np.asarray(values), grad.reshape(arr.shape)


def check_getitem_reference(c, arr, index_fn):
    """cgrad's outcome against numpy's; False where numpy cannot say."""
    ref = getitem_reference(arr, index_fn)
    if ref is None or (isinstance(c, tuple) and c[0] == "ERR"):
        return False
    values, grad = ref
    assert c["shape"] == values.shape and c["dtype"] == values.dtype.name, (c["shape"], c["dtype"], values.shape)
    np.testing.assert_allclose(c["values"], values, rtol=1e-12, atol=0)
    if "grad" in c:
        assert c["grad"].dtype == arr.dtype
        tol = 1e-12 if arr.dtype == np.float64 else 1e-6   # duplicates summed in float32
        np.testing.assert_allclose(c["grad"], grad, rtol=tol, atol=tol)
    return True


def compare_getitem(arr, index_fn, base_fn=None, requires_grad=True, numpy_agrees=False):
    """cgrad against torch, and against numpy's indexing where the caller
    knows numpy indexes as torch does (numpy_agrees: not for drawn indices,
    where a bool or an int beside a list follows numpy's other rules) and no
    view base is involved; without torch, numpy's is the only comparison."""
    c = getitem_outcome(cgrad, arr, index_fn, base_fn, requires_grad)
    if numpy_agrees and base_fn is None and check_getitem_reference(c, arr, index_fn):
        torch_free_checks.passed()
    elif torch is None:
        torch_free_checks.could_not_check("numpy has no comparable result (an error, numpy's rules differ, "
                                          "or a view base)")
    if torch is None:
        return c
    t = getitem_outcome(torch, arr, index_fn, base_fn, requires_grad)
    assert_same(c, t)
    return c


def mask(a):
    return lambda lib: lib.tensor(a)


GETITEM_3D = {
    # basic: views
    "int": lambda lib: 0, "neg_int": lambda lib: -1, "slice": lambda lib: slice(1, 3),
    "step": lambda lib: slice(None, None, 2), "ellipsis": lambda lib: Ellipsis, "full_slice": lambda lib: slice(None),
    "none": lambda lib: None, "ell_none": lambda lib: (Ellipsis, None), "int_none_slice": lambda lib: (0, None, slice(1, 3)),
    "empty_tuple": lambda lib: (), "two_full": lambda lib: (slice(None), slice(None)), "whole_range": lambda lib: slice(0, 3),
    "over_range": lambda lib: slice(0, 10), "reversed_bounds": lambda lib: slice(5, 1), "ell_int": lambda lib: (Ellipsis, 0),
    "none_ell": lambda lib: (None, Ellipsis), "three_ints": lambda lib: (1, 2, 3), "int_ell_int": lambda lib: (0, Ellipsis, 0),
    "two_ell": lambda lib: (Ellipsis, Ellipsis), "tensor_int": lambda lib: lib.tensor(1),
    "tensor_int_in_tuple": lambda lib: (0, lib.tensor(1)), "tuple_full_slice": lambda lib: (slice(None),),
    "full_then_full": lambda lib: (slice(0, 3), slice(None)), "long_then_full": lambda lib: (slice(0, 10), slice(None)),
    "partial_then_full": lambda lib: (slice(0, 2), slice(None)), "neg_start": lambda lib: (slice(-3, None), slice(None)),
    "minus_zero": lambda lib: (slice(None, -0), slice(None)), "step1": lambda lib: (slice(0, 3, 1), slice(None)),
    "chained_steps": lambda lib: (slice(1, None, 2), slice(None, None, 3), slice(4, 0)),
    "neg_bounds": lambda lib: (slice(-2, -1), Ellipsis, slice(-4, None, 2)), "huge_stop": lambda lib: slice(0, 2 ** 70),
    "tensor_bounds": lambda lib: slice(lib.tensor(0), lib.tensor(2)), "none_bounds": lambda lib: slice(None, 2, None),
    "np_step": lambda lib: slice(0, 2, np.int64(1)), "np_int": lambda lib: np.int64(1), "np_0d": lambda lib: np.array(1),
    "none_none_int": lambda lib: (None, 1, None, 2), "min_int": lambda lib: -3,
    "ell_none_ell": lambda lib: (Ellipsis, None, Ellipsis), "int_ell_none": lambda lib: (1, Ellipsis, None),
    # advanced: copies
    "list": lambda lib: [0, 1], "repeated": lambda lib: [0, 0, 2], "long_tensor": lambda lib: lib.tensor([0, 1]),
    "slice_list": lambda lib: (slice(None), [0, 1]), "list_slice_list": lambda lib: ([0, 1], slice(None), [0, 1]),
    "float_list": lambda lib: [1.0], "true": lambda lib: True, "false": lambda lib: False,
    "bool_list": lambda lib: [True, False, True], "mask3d": mask(A > 0), "tensor_2d": lambda lib: lib.tensor([[0, 1], [1, 2]]),
    "slice_none_list": lambda lib: (slice(None), None, [0, 1]), "list_none": lambda lib: ([0, 1], None),
    "empty_list": lambda lib: [], "slice_empty_list": lambda lib: (slice(None), []), "nested_empty": lambda lib: [[]],
    "nested_pair": lambda lib: [[0, 1], [1, 2]], "two_lists": lambda lib: ([0, 1], [1, 2]), "tuple_in_tuple": lambda lib: ((0, 1),),
    "neg_list": lambda lib: [-3], "mask2d": mask(np.ones((3, 4), bool)), "slice_mask1d": lambda lib: (slice(None), lib.ones(4, dtype=lib.bool)),
    "slice_mask2d": lambda lib: (slice(None), lib.ones(4, 5, dtype=lib.bool)), "mask2d_int": lambda lib: (lib.ones(3, 4, dtype=lib.bool), 0),
    "mask2d_list": lambda lib: (lib.ones(3, 4, dtype=lib.bool), [0]), "int_slice_list": lambda lib: (0, slice(None), [1, 2]),
    "list_slice_list2": lambda lib: ([0], slice(None), [1, 2]), "slice_list_list": lambda lib: (slice(None), [0, 1], [1, 2]),
    "list_list_slice": lambda lib: ([0, 1], [1, 2], slice(None)), "separated_by_slice": lambda lib: ([0, 1], slice(1, 3), [1, 2]),
    "separated_by_none": lambda lib: ([0, 1], None, [1, 2]), "none_list_list": lambda lib: (None, [0, 1], [1, 2]),
    "ell_list": lambda lib: (Ellipsis, [0, 1]), "list_ell": lambda lib: ([0, 1], Ellipsis), "list_ell_list": lambda lib: ([0, 1], Ellipsis, [1, 2]),
    "int_list_slice": lambda lib: (1, [0, 1], slice(None)), "list_int": lambda lib: ([0, 1], 1), "int_slice_list2": lambda lib: (1, slice(None), [0, 1]),
    "list_int_list": lambda lib: ([1, 0], 1, [2, 3]), "true_list": lambda lib: (True, [0, 1]), "list_true": lambda lib: ([0, 1], True),
    "true_int": lambda lib: (True, 0), "false_int": lambda lib: (False, 0), "none_true": lambda lib: (None, True),
    "nested_bool_list": lambda lib: [[True, False, True]], "int_and_bool_list": lambda lib: [0, True], "float_in_list": lambda lib: [1, 2.5],
    "np_array": lambda lib: np.array([0, 1]), "np_bool": lambda lib: np.array([True, False, True]), "list_np_int": lambda lib: [np.int64(1)],
    "broadcast_lists": lambda lib: ([[0, 0], [1, 1]], slice(None), [[4], [4]]),
    "broadcast_after_slice": lambda lib: (slice(None), [[0, 0], [1, 1]], [[4], [4]]),
    "mask_int_dim": lambda lib: (lib.tensor(A[..., 0] > 0),),
    "slice_mask_step": lambda lib: (slice(None), lib.tensor(A[0, :, 0] > 0), slice(1, 4, 2)),
    "int_mask": lambda lib: (0, lib.tensor(A[0] > 0)), "ell_mask": lambda lib: (Ellipsis, lib.tensor(A[0, 0] > 0)),
    "tensor_bool_0d": lambda lib: lib.tensor(True), "int_tensor_bool_0d": lambda lib: (0, lib.tensor(True)),
    "np_2d": lambda lib: np.array([[0, 1], [1, 2]]), "np_float": lambda lib: np.array([0.0, 1.0]),
    "np_int32": lambda lib: np.array([0, 1], dtype=np.int32), "range": lambda lib: range(2), "long_list": lambda lib: [0] * 40,
    "list_of_list_int": lambda lib: [[1], 2], "list_int_list2": lambda lib: [0, [1, 2]], "tuple_tensor": lambda lib: (lib.tensor(1),),
    "np_bool_0d": lambda lib: np.array(True), "list_np_0d": lambda lib: [np.array(1)],
    "empty_long": lambda lib: lib.zeros(0, dtype=lib.int64), "empty_2d_long": lambda lib: (slice(None), slice(None), lib.zeros(2, 0, dtype=lib.int64)),
    "empty_slice_list": lambda lib: (slice(0, 0), [1]), "none_index_list": lambda lib: [0, None],
    # errors
    "neg_step": lambda lib: slice(None, None, -1), "zero_step": lambda lib: slice(None, None, 0), "int_oob": lambda lib: 3,
    "too_many": lambda lib: (0, 0, 0, 0), "float": lambda lib: 1.0, "str": lambda lib: "a", "str2": lambda lib: "ab",
    "slice_str": lambda lib: (slice(None), "ab"), "none_in_list": lambda lib: (slice(None), [0, None]), "dict": lambda lib: {0: 1},
    "object": lambda lib: object(), "list_object": lambda lib: [object()], "set": lambda lib: (0, {1}), "float_in_tuple": lambda lib: (0, 1.5),
    "np_float_scalar": lambda lib: np.float64(1), "np_bool_scalar": lambda lib: np.bool_(True),
    "none_oob": lambda lib: (None, 5), "none_none_oob": lambda lib: (None, None, 1, 7), "ell_oob": lambda lib: (Ellipsis, 7),
    "second_oob": lambda lib: (0, 4), "tensor_oob": lambda lib: lib.tensor(5), "float_tensor": lambda lib: lib.tensor(1.0),
    "float_tensor_1d": lambda lib: lib.tensor([1.0]), "list_oob_dim1": lambda lib: (slice(None), 5),
    "slice_list_oob": lambda lib: (slice(None), [5]), "list_list_oob": lambda lib: ([0], [5]), "ell_list_oob": lambda lib: (Ellipsis, [5]),
    "neg_list_oob": lambda lib: [-4], "list_oob": lambda lib: [3], "tensor_2d_oob": lambda lib: lib.tensor([[3]]),
    "first_oob_elementwise": lambda lib: ([0, 9], [9, 0]), "second_elem_oob": lambda lib: ([0, 9], [0, 9]),
    "mask_then_oob": lambda lib: (lib.ones(3, 4, dtype=lib.bool), [9]), "broadcast_fail": lambda lib: ([0, 1], [0, 1, 2]),
    "mask_bad_dim1": lambda lib: lib.ones(3, 5, dtype=lib.bool), "mask_bad_dim0": lambda lib: lib.ones(2, dtype=lib.bool),
    "mask_list_broadcast_fail": lambda lib: (lib.ones(3, dtype=lib.bool), [0, 1]),
    "slice_mask_bad": lambda lib: (slice(None), lib.ones(4, 6, dtype=lib.bool)), "int_mask_bad": lambda lib: (0, lib.ones(5, dtype=lib.bool)),
    "mask_too_many_dims": lambda lib: (slice(None), slice(None), lib.ones(5, 2, dtype=lib.bool)),
    "mask_2d_1": lambda lib: lib.tensor([[True]]), "bool_list_short": lambda lib: [True], "bool_list_short2": lambda lib: [True, False],
    "too_many_ints_ell": lambda lib: (Ellipsis, 1, 2, 3, 4), "too_many_lists": lambda lib: ([0, 1], [0, 1], [0, 1], [0, 1]),
    "float_slice": lambda lib: slice(0.5, 2), "float_step": lambda lib: slice(1, 2, 3.0), "neg_step_tuple": lambda lib: (slice(None, None, -1), 0),
    "neg_step2": lambda lib: slice(1, None, -2), "int_overflow": lambda lib: 2 ** 63, "int_min": lambda lib: -2 ** 63,
    "int_overflow2": lambda lib: 2 ** 64, "two_ell_int": lambda lib: (Ellipsis, Ellipsis, 0), "two_ell_none": lambda lib: (Ellipsis, Ellipsis, None),
    "int_two_ell_int": lambda lib: (0, Ellipsis, Ellipsis, 0), "mask_none_bad": lambda lib: (lib.tensor(A[0] > 0), None),
    "list_range_oob": lambda lib: list(range(40)), "int16_like": lambda lib: np.array([0, 1], dtype=np.uint8),
}


# where numpy's indexing differs from torch's: an int beside a list is an
# advanced index in numpy (its dims move), a nested list or a list holding a
# 0-d array is read as one array index
NUMPY_DIFFERS = {"int_slice_list", "int_slice_list2", "nested_empty", "nested_pair", "list_np_0d"}


@pytest.mark.parametrize("name", sorted(GETITEM_3D))
def test_getitem_matches_torch(name):
    compare_getitem(A, GETITEM_3D[name], numpy_agrees=name not in NUMPY_DIFFERS)


GETITEM_0D = {
    "zero": lambda lib: 0, "one": lambda lib: 1, "minus_one": lambda lib: -1, "ellipsis": lambda lib: Ellipsis,
    "none": lambda lib: None, "slice": lambda lib: slice(None), "empty_tuple": lambda lib: (), "true": lambda lib: True,
    "false": lambda lib: False, "list": lambda lib: [0], "tensor_0d": lambda lib: lib.tensor(0), "tuple_int": lambda lib: (0,),
    "none_ell_none": lambda lib: (None, Ellipsis, None), "bool_list": lambda lib: [True], "bool_tensor_0d": lambda lib: lib.tensor(True),
    "empty_list": lambda lib: [], "empty_long": lambda lib: lib.zeros(0, dtype=lib.int64), "tuple_slice": lambda lib: (slice(None),),
}


@pytest.mark.parametrize("name", sorted(GETITEM_0D))
def test_getitem_0d_matches_torch(name):
    compare_getitem(np.array(2.5), GETITEM_0D[name], numpy_agrees=True)


GETITEM_EMPTY = {
    "list_on_empty_dim": lambda lib: [0], "empty_list": lambda lib: [], "slice_list_oob": lambda lib: (slice(None), [5]),
    "list_on_zero_col": lambda lib: (slice(None), [0]), "int": lambda lib: 0, "slice": lambda lib: slice(1, 2),
    "mask": lambda lib: lib.zeros(0, dtype=lib.bool), "ell_list": lambda lib: (Ellipsis, [0, 2]),
}


@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
@pytest.mark.parametrize("name", sorted(GETITEM_EMPTY))
def test_getitem_empty_matches_torch(name, shape):
    compare_getitem(np.zeros(shape), GETITEM_EMPTY[name], numpy_agrees=True)


BASES = {
    "transposed": lambda x: x.transpose(0, 2),
    "sliced": lambda x: x[1:, ::2],
    "expanded": lambda x: x[:, :1].expand(3, 4, 5),
    "selected": lambda x: x[1],
}


@requires_torch
@pytest.mark.parametrize("base", sorted(BASES))
@pytest.mark.parametrize("index", [
    lambda lib: 0, lambda lib: (slice(None), 1), lambda lib: (Ellipsis, slice(None, None, 2)), lambda lib: None,
    lambda lib: [1, 0, 1], lambda lib: (slice(None), [0, 0]), lambda lib: ([0, 1], Ellipsis, [1, 0]), lambda lib: Ellipsis,
])
def test_getitem_on_views_matches_torch(base, index):
    """Views of views keep the first base and its storage; strides and
    offsets compose; gradients flow back through the whole chain."""
    compare_getitem(A, index, BASES[base])


@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
@pytest.mark.parametrize("index", [lambda lib: 1, lambda lib: [2, 0, 2], lambda lib: (slice(None), [1, 1]),
                                   lambda lib: lib.tensor(A2 > 0), lambda lib: (None, Ellipsis, 0)])
def test_getitem_dtypes_match_torch(dtype, index):
    arr = (A2 * 3).astype(dtype) if dtype != "bool" else A2 > 0
    compare_getitem(arr, index, numpy_agrees=True)


def test_getitem_chain_of_grad_fns_matches_torch():
    if torch is None:
        pytest.skip("torch not installed")

    def chain(t):
        names = []
        fn = t.grad_fn
        while fn is not None and type(fn).__name__ != "AccumulateGrad":
            names.append(type(fn).__name__)
            fn = fn.next_functions[0][0]
        return names

    for index in [(0, None, slice(1, 3)), (None, 1, slice(None, None, 2), None), (1, [0, 1]), (slice(1, 3), [0, 0], None)]:
        got = chain(cgrad.tensor(A, requires_grad=True)[index])
        want = chain(torch.tensor(A, requires_grad=True)[index])
        assert got == want, index


def test_advanced_results_are_contiguous():
    x = cgrad.tensor(A)
    for index in [[0, 1], (slice(None), [0, 1]), ([0, 1], slice(None), [1, 2])]:
        r = x[index]
        assert r.is_contiguous() and r._base is None and not r._is_view()


@requires_torch
@pytest.mark.parametrize("base", [lambda x: x.transpose(0, 2), lambda x: x.permute(1, 2, 0), lambda x: x[:, ::2],
                                  lambda x: x.transpose(1, 2)[1:], lambda x: x[:, :1].expand(3, 6, 5)])
@pytest.mark.parametrize("index", [
    lambda lib: [1, 0], lambda lib: (slice(None), [0, 1]), lambda lib: (Ellipsis, [2, 2, 0]),
    lambda lib: ([0, 1], slice(None), [1, 0]), lambda lib: (lib.tensor([[0, 1, 1], [1, 0, 0]]).t(),),
    lambda lib: (slice(None), lib.tensor([[0, 1, 1], [1, 0, 0]]).t()), lambda lib: ([[0], [1]], [0, 1]),
    lambda lib: (1, slice(None), [0, 0, 1]), lambda lib: (None, [1], None, Ellipsis, [0]),
])
def test_advanced_result_layout_matches_torch(base, index):
    """index() lays its result out as TensorIterator orders the inputs' dims."""
    compare_getitem(A, index, base)


# ---------------------------------------------------------------------------
# Randomised differential tests (hypothesis)


@st.composite
def index_specs(draw, shape):
    """A random index for a tensor of `shape` as a plain description;
    mostly valid, sometimes not (the errors must then match)."""
    ndim = len(shape)
    n = draw(st.integers(0, ndim + 1))
    comps = []
    consumed = 0
    for _ in range(n):
        size = shape[consumed] if consumed < ndim else 3
        kind = draw(st.sampled_from(["int", "int", "slice", "slice", "none", "ellipsis", "bool", "list", "ltensor",
                                     "mask", "mask"]))
        if kind == "int":
            comps.append(("int", draw(st.integers(-size - 1, size))))
            consumed += 1
        elif kind == "slice":
            bound = st.one_of(st.none(), st.integers(-size - 2, size + 2))
            step = draw(st.sampled_from([None, 1, 1, 2, 3] + ([-1] if draw(st.integers(0, 20)) == 0 else [])))
            comps.append(("slice", draw(bound), draw(bound), step))
            consumed += 1
        elif kind == "none":
            comps.append(("none",))
        elif kind == "ellipsis":
            if any(c[0] == "ellipsis" for c in comps):
                continue   # several Ellipses can make torch read past its sizes array (undefined)
            comps.append(("ellipsis",))
            consumed = max(consumed, ndim - (n - len(comps)))
        elif kind == "bool":
            comps.append(("bool", draw(st.booleans())))
        elif kind in ("list", "ltensor"):
            k = draw(st.integers(0, 4))
            vals = draw(st.lists(st.integers(-size, max(size - 1, -size)), min_size=k, max_size=k))
            if draw(st.integers(0, 15)) == 0:
                vals.append(size)      # out of range
            form = draw(st.sampled_from(["flat", "col", "row", "tcol"])) if kind == "ltensor" else "flat"
            comps.append((kind, vals, form))
            consumed += 1
        else:
            k = draw(st.integers(1, 2))
            mshape = list(shape[consumed:consumed + k]) or [2]
            if draw(st.integers(0, 10)) == 0:
                mshape[0] += 1         # a mask of the wrong shape
            bits = draw(st.lists(st.booleans(), min_size=int(np.prod(mshape)), max_size=int(np.prod(mshape))))
            comps.append(("mask", mshape, bits))
            consumed += len(mshape)
    as_tuple = draw(st.booleans()) or len(comps) != 1
    return comps, as_tuple


def build_index(lib, spec, plain_layout=False):
    comps, as_tuple = spec
    out = []
    for c in comps:
        if c[0] == "int":
            out.append(c[1])
        elif c[0] == "slice":
            out.append(slice(c[1], c[2], c[3]))
        elif c[0] == "none":
            out.append(None)
        elif c[0] == "ellipsis":
            out.append(Ellipsis)
        elif c[0] == "bool":
            out.append(c[1])
        elif c[0] == "list":
            out.append(list(c[1]))
        elif c[0] == "ltensor":
            t = lib.tensor(c[1], dtype=lib.int64)
            if c[2] == "tcol" and not plain_layout:   # a non-contiguous (k, 2) index: a transposed (2, k) tensor
                t = lib.tensor([list(c[1]), list(c[1])[::-1]], dtype=lib.int64).t()
            out.append(t.reshape(-1, 1) if c[2] == "col" else (t.reshape(1, -1) if c[2] == "row" else t))
        else:
            out.append(lib.tensor(np.array(c[2], dtype=bool).reshape(c[1])))
    return tuple(out) if as_tuple else out[0]


shapes = st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple)


@requires_torch
@settings(max_examples=150 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shape=shapes)
def test_getitem_random_matches_torch(data, shape):
    spec = data.draw(index_specs(shape))
    arr = np.random.default_rng(3).standard_normal(shape)
    compare_getitem(arr, lambda lib: build_index(lib, spec))


@requires_torch
@settings(max_examples=100 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple))
def test_getitem_random_on_permuted_base_matches_torch(data, shape):
    """Non-contiguous sources: view strides compose, copies take torch's layout."""
    perm = data.draw(st.permutations(range(len(shape))))
    step = data.draw(st.integers(1, 2))
    arr = np.random.default_rng(3).standard_normal(shape)
    permuted = tuple(shape[p] for p in perm)
    spec = data.draw(index_specs((-(-permuted[0] // step),) + permuted[1:]))
    compare_getitem(arr, lambda lib: build_index(lib, spec), lambda x: x.permute(*perm)[::step])


def setitem_outcome(lib, arr, index_fn, value_fn, mode):
    """x[index] = value under a mode: 'plain' (no grad anywhere), 'nonleaf'
    (y = x * 1 with a value that requires grad), 'leaf' (x requires grad),
    'nograd' (x requires grad, written under no_grad)."""
    x = lib.tensor(arr, requires_grad=mode != "plain" and arr.dtype.kind == "f")
    try:
        index = index_fn(lib)
        v = value_fn(lib)
        if mode == "nonleaf" and isinstance(v, lib.Tensor) and v.is_floating_point():
            v = v.detach().requires_grad_(True)
        y = x * 1 if mode == "nonleaf" else x
        before = y.detach().numpy().copy()
        version = y._version
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            if mode == "nograd":
                with lib.no_grad():
                    y[index] = v
            else:
                y[index] = v
    except Exception as e:  # noqa: BLE001
        if "before" in locals() and lib is cgrad:
            # bad input never leaves the tensor changed (torch's index_put_
            # may have written the elements before a bad index; cgrad checks first)
            assert np.array_equal(y.detach().numpy(), before, equal_nan=True), f"{lib.__name__} wrote before failing"
            assert y._version == version
        return _err(e)
    out = {
        "grad_fn": _name(y.grad_fn), "version": y._version, "requires_grad": y.requires_grad, "is_leaf": y.is_leaf,
        "next": None if y.grad_fn is None else tuple(_name(f) for f, _ in y.grad_fn.next_functions),
        "values": y.detach().numpy().copy(), "dtype": str(y.dtype).split(".")[-1],
        "warnings": tuple(str(m.message).split(" (Triggered")[0].replace("torch.", "cgrad.") for m in w),
    }
    if y.requires_grad:
        g = np.random.default_rng(5).standard_normal(tuple(y.shape))
        y.backward(lib.tensor(g))
        out["x_grad"] = None if not x.requires_grad or x.grad is None else x.grad.numpy().copy()
        if isinstance(v, lib.Tensor) and v.requires_grad:
            out["v_grad"] = None if v.grad is None else v.grad.numpy().copy()
    return out


def compare_setitem(arr, index_fn, value_fn, mode):
    c = setitem_outcome(cgrad, arr, index_fn, value_fn, mode)
    t = setitem_outcome(torch, arr, index_fn, value_fn, mode)
    # cgrad's scalar MulBackward0 has one edge where torch's has (x, None): not this module's
    if isinstance(c, dict) and c["grad_fn"] == "MulBackward0":
        c["next"] = t["next"]
    assert_same(c, t)
    return c


SETITEM = [
    ("0", "5.0"), ("-1", "lib.ones(5)"), ("1", "lib.ones(4, 5)"), ("1", "lib.ones(1, 1, 4, 5)"), ("0", "lib.ones(3)"),
    ("0", "lib.ones(2, 4, 5)"), ("slice(1, 3)", "lib.tensor(np.arange(5.))"), ("slice(None)", "2.0"),
    ("slice(0, 3)", "lib.ones(4, 5)"), ("slice(0, 2)", "lib.ones(1, 5)"), ("Ellipsis", "3"), ("Ellipsis", "lib.ones(3, 4, 5)"),
    ("None", "lib.ones(5)"), ("True", "lib.ones(5)"), ("False", "lib.ones(5)"), ("False", "'a'"), ("(0, 1)", "lib.tensor(7.)"),
    ("(0, slice(None, None, 2), 1)", "lib.tensor([1., 2.])"), ("(slice(None), slice(None))", "1"), ("()", "1"),
    ("(Ellipsis, 2)", "lib.ones(3, 1)"), ("(Ellipsis, 2)", "lib.ones(4)"), ("(None, 0, None)", "lib.ones(1, 5)"),
    ("[0, 2]", "9.0"), ("[0, 0, 2]", "lib.tensor(np.arange(15.).reshape(3, 1, 5))"), ("[0, 2]", "lib.ones(5)"),
    ("[0, 2]", "lib.ones(3)"), ("[0, 2]", "lib.ones(4, dtype=lib.float64)"), ("[0, 2]", "lib.ones(5, dtype=lib.float32)"),
    ("[0, 2]", "lib.ones(5, dtype=lib.int64)"), ("[0, 5]", "lib.ones(5)"), ("[0, 5]", "lib.ones(3)"),
    ("[2, 0, 5]", "lib.ones(5)"), ("(slice(None), [0, 1])", "1.0"), ("(0, [0, 1])", "lib.ones(2, 5)"), ("(0, [0, 1])", "lib.ones(5)"),
    ("(None, [0, 1])", "lib.ones(5)"), ("(Ellipsis, [0, 1])", "2.0"), ("([0, 1], slice(None), [1, 2])", "lib.ones(2, 4)"),
    ("([0, 1], slice(None), [1, 2])", "lib.ones(4)"), ("([[0], [1]], slice(None), [1, 2])", "lib.tensor(np.arange(16.).reshape(2, 2, 4))"),
    ("([1, 1, 1], 0, [2, 2, 2])", "lib.tensor([1., 2., 3.])"),
    ("lib.tensor(A > 0)", "0.0"), ("lib.tensor(A > 0)", "lib.tensor(3.0)"), ("lib.tensor(A > 0)", "lib.tensor([3.0])"),
    ("lib.tensor(A > 0)", "lib.tensor(3, dtype=lib.int64)"), ("lib.tensor(A > 0)", "lib.tensor(np.arange(float((A > 0).sum())))"),
    ("lib.tensor(A[0] > 0)", "1.0"), ("(slice(None), lib.tensor(A[0, :, 0] > 0))", "lib.ones(5)"),
    ("(lib.tensor(A[..., 0] > 0), [1])", "lib.tensor(2.)"), ("lib.tensor(A[:, :, 0] > 0)", "lib.ones(5)"),
    ("(lib.tensor(A[0] > 0), None)", "2.0"), ("(lib.tensor(A[..., 0] > 0), None)", "2.0"),
    ("lib.ones(3, 3, dtype=lib.bool)", "1.0"), ("lib.tensor([1.0])", "1.0"), ("([0, 1], [0, 1, 2])", "1.0"),
    ("5", "1"), ("[5]", "1"), ("1.0", "1"), ("slice(None, None, -1)", "1"), ("(1, 2, 3, 4)", "1"), ("0", "np.ones(5)"),
    ("0", "[1, 2]"), ("0", "np.float32(1)"), ("0", "np.float64(2)"), ("0", "np.int64(2)"), ("0", "None"), ("0", "2**63"),
    ("0", "1e300"), ("0", "True"), ("0", "1+2j"), ("0", "lib.tensor(3)"), ("0", "lib.tensor([True, False, True, False, True])"),
    ("(slice(None), 0)", "lib.tensor([[1.], [2.], [3.]])"), ("(slice(None), 0)", "lib.tensor(np.arange(12.).reshape(3, 4))"),
    ("[[0, 1], [1, 2]]", "lib.ones(2, 5)"), ("lib.zeros(0, dtype=lib.int64)", "1.0"), ("(slice(0, 0), [1])", "1.0"),
    ("lib.tensor([[True, False, True]])", "4.0"), ("(slice(0, 0),)", "3.0"), ("lib.tensor(1)", "lib.ones(4, 5)"),
    ("(0, lib.tensor(True))", "6.0"), ("lib.tensor([[0, 2]])", "lib.ones(2, 4, 5)"),
]


@requires_torch
@pytest.mark.parametrize("mode", ["plain", "nonleaf", "leaf", "nograd"])
@pytest.mark.parametrize("index,value", SETITEM)
def test_setitem_matches_torch(index, value, mode):
    env = {"np": np, "A": A}
    compare_setitem(A, lambda lib: eval(index, dict(env, lib=lib)), lambda lib: eval(value, dict(env, lib=lib)), mode)


@requires_torch
@pytest.mark.parametrize("dtype", ["int64", "bool", "float32"])
@pytest.mark.parametrize("index,value", [("0", "2.7"), ("[0]", "2.7"), ("[0]", "2"), ("0", "lib.tensor([1.5, 0., -1., 0.])"),
                                         ("0", "float('nan')"), ("0", "True"), ("0", "-2**63"),
                                         ("lib.tensor(A2 > 0)", "lib.tensor(2.5)"), ("(slice(None), [1, 1])", "lib.tensor(3)")])
def test_setitem_dtypes_match_torch(dtype, index, value):
    arr = (A2 * 3).astype(dtype) if dtype != "bool" else A2 > 0
    env = {"np": np, "A2": A2}
    compare_setitem(arr, lambda lib: eval(index, dict(env, lib=lib)), lambda lib: eval(value, dict(env, lib=lib)), "plain")


@requires_torch
@settings(max_examples=120 * SCALE, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
       mode=st.sampled_from(["plain", "nonleaf", "leaf"]))
def test_setitem_random_matches_torch(data, shape, mode):
    spec = data.draw(index_specs(shape))
    arr = np.random.default_rng(4).standard_normal(shape)
    try:
        target = tuple(torch.zeros(shape)[build_index(torch, spec, True)].shape)
    except Exception:  # noqa: BLE001 - the setitem then fails the same way
        target = ()
    kind = data.draw(st.sampled_from(["scalar", "full", "suffix", "ones_prefix"]))
    if kind == "scalar":
        vshape = None
    elif kind == "full":
        vshape = target
    elif kind == "suffix":
        vshape = target[data.draw(st.integers(0, len(target))):]
    else:
        vshape = (1,) + target
    vals = np.random.default_rng(6).standard_normal(vshape or ())

    def value(lib):
        return 1.5 if vshape is None else lib.tensor(vals)

    # C-order index layouts only: with repeated indices, which write wins
    # follows torch's iteration order (see test_repeated_writes_follow_c_order)
    compare_setitem(arr, lambda lib: build_index(lib, spec, True), value, mode)


# ---------------------------------------------------------------------------
# Memory sharing, versions, in-place semantics


def test_views_share_memory_and_version():
    x = cgrad.tensor(A.copy())
    v = x[1:3, ::2, 1]
    assert v._base is x and v.storage_offset() == 20 + 1 and v.stride() == (20, 10)
    v[...] = 7.0
    assert x._version == v._version == 1
    assert np.all(x.numpy()[1:3, ::2, 1] == 7.0)
    x[0] = -1.0
    assert v._version == 2 and np.all(x.numpy()[0] == -1.0)
    w = x[None][0][..., 2]          # a view of a view keeps the first base
    assert w._base is x
    w[0, 0] = 42.0
    assert x.numpy()[0, 0, 2] == 42.0


def test_advanced_getitem_copies():
    x = cgrad.tensor(A.copy())
    r = x[[0, 1]]
    r[...] = 0.0
    assert np.array_equal(x.numpy(), A) and x._version == 0


def test_setitem_through_view_writes_base_without_grad():
    x = cgrad.tensor(A.copy(), requires_grad=True)
    with cgrad.no_grad():
        v = x[1]
        v[[0, 0, 2], 1:3] = 5.0
    expected = A.copy()
    expected[1, [0, 2], 1:3] = 5.0
    assert np.array_equal(x.detach().numpy(), expected) and x._version == 1 and x.grad_fn is None


SETITEM_ON_VIEWS = {
    "number into a view": lambda lib, x, w: _set(lambda y: y[0], (1,), 5.0, x),
    "tensor into a view": lambda lib, x, w: _set(lambda y: y[1], (slice(0, 2),), w[0, 0] * 3, x),
    "advanced into a view": lambda lib, x, w: _set(lambda y: y[2], ([0, 2],), w[1, 1] * 2, x),
    "view of a view": lambda lib, x, w: _set(lambda y: y[:, 1][0], (slice(None),), w[0, 1] + 1, x),
}


def _set(take_view, index, value, x):
    y = x * 1
    v = take_view(y)
    v[index] = value
    return y * (v.sum() + 1)


@pytest.mark.parametrize("name", sorted(SETITEM_ON_VIEWS))
def test_setitem_through_views_with_history(name):
    """Writes through views of tensors with history: the base gets
    CopySlices, as in PyTorch (values, gradients and grad_fn names)."""
    compare_with_torch(SETITEM_ON_VIEWS[name], A, A + 1)


def test_setitem_through_view_of_leaf_raises():
    x = cgrad.tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0][1] = 5.0


def test_setitem_value_gets_history_on_plain_tensor():
    z = cgrad.zeros(3, 4)
    v = cgrad.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    z[1] = v
    z[[0, 2], 1:3] = v[:2] * 2
    assert type(z.grad_fn).__name__ == "CopySlices" and not z.is_leaf and z.requires_grad
    (z * cgrad.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
    # z[1] = v sends row 1 of the weights; the value v[:2] * 2, broadcast over
    # rows 0 and 2, gets the column sums (1 + 9, 2 + 10) times 2
    assert np.allclose(v.grad.numpy(), [4.0 + 2 * (1 + 9), 5.0 + 2 * (2 + 10), 6.0, 7.0])


def test_partial_overlap_errors_and_full_overlap_ok():
    for lib in (cgrad,) + ((torch,) if torch is not None else ()):
        x = lib.arange(6.0)
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            x[1:] = x[:-1]
        with pytest.raises(RuntimeError, match="refer to a single memory location"):
            x[[1, 2, 3, 4, 5]] = x[:-1]
        assert x._version == 0 and np.array_equal(x.numpy(), np.arange(6.0))
        x[1:4] = x[1:4]
        x[...] = x
        x[[0, 1]] = x[[1]]
        assert np.array_equal(x.numpy(), [1, 1, 2, 3, 4, 5]) and x._version == 3
        e = lib.zeros(3).expand(2, 3)
        with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
            e[:] = 1
        e[0] = 1
        assert np.array_equal(e.numpy(), np.ones((2, 3)))


@requires_torch
def test_index_put_on_expanded_warns_like_torch():
    compare_setitem(A[0, 0], lambda lib: (slice(None), [0]), lambda lib: 1.0, "plain")
    for idx in [lambda lib: [0], lambda lib: lib.ones(2, 5, dtype=lib.bool)]:
        outs = []
        for lib in (cgrad, torch):
            e = lib.zeros(5).expand(2, 5)
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                e[idx(lib)] = 1.0
            outs.append([str(m.message).split(" (Triggered")[0] for m in w])
        assert outs[0] == outs[1] and outs[0]


@requires_torch
def test_sequence_as_tuple_warning_matches_torch():
    c = getitem_outcome(cgrad, A, lambda lib: [0, None])
    t = getitem_outcome(torch, A, lambda lib: [0, None])
    assert c["warnings"] == tuple(w.replace("x[torch.tensor(seq)]", "x[cgrad.tensor(seq)]") for w in t["warnings"])
    assert len(c["warnings"]) == 1


def test_repeated_writes_follow_c_order():
    """Repeated indices in a (non-accumulating) write: the last one in C
    order of the broadcast index wins (torch agrees for C-ordered index
    tensors; it calls the result undefined)."""
    x = cgrad.zeros(3)
    x[cgrad.tensor([[0, 1], [1, 0]]).t()] = cgrad.tensor([1.0, 2.0])
    assert np.array_equal(x.numpy(), [2.0, 1.0, 0.0])


def test_bad_index_input_leaves_tensor_unchanged():
    x = cgrad.tensor(A.copy())
    bad = [([0, 5], 1.0), (([0, 1], [9, 0]), 1.0), (cgrad.ones(3, 3, dtype=cgrad.bool), 1.0), ([0, 1], cgrad.ones(3)),
           ([0, 1], cgrad.ones(5, dtype=cgrad.float32)), (0, cgrad.ones(3)), ((Ellipsis, 7), 1.0), ([0, 1], "x")]
    for index, value in bad:
        with pytest.raises((IndexError, RuntimeError, TypeError)):
            x[index] = value
    assert np.array_equal(x.numpy(), A) and x._version == 0


# ---------------------------------------------------------------------------
# Gradients: repeated indices accumulate, gradchecks, double backward


def test_repeated_indices_accumulate_in_backward():
    x = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert np.array_equal(x.grad.numpy(), [3.0, 0.0, 1.0])
    x = cgrad.tensor(A2, requires_grad=True)
    y = x[[1, 1], :][:, [0, 0, 0]]
    y.backward(cgrad.ones(2, 3))
    expected = np.zeros((3, 4))
    expected[1, 0] = 6
    assert np.array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_gather_and_scatter_add_match_numpy(dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((300, 7, 20)).astype(dtype)
    idx = rng.integers(-300, 300, size=20000)
    x = cgrad.tensor(a, requires_grad=True)
    y = x[cgrad.tensor(idx), 3]
    assert np.array_equal(y.detach().numpy(), a[idx, 3])
    g = rng.standard_normal(y.shape).astype(dtype)
    y.backward(cgrad.tensor(g))
    expected = np.zeros_like(a)
    np.add.at(expected[:, 3], idx, g)
    assert np.allclose(x.grad.numpy(), expected, rtol=1e-5, atol=1e-5)
    m = a > 0.5
    assert np.array_equal(x[cgrad.tensor(m)].detach().numpy(), a[m])
    z = cgrad.zeros(300, 7, 20, dtype=x.dtype)
    z[cgrad.tensor(m)] = cgrad.tensor(a[m] * 2)
    assert np.array_equal(z.numpy(), np.where(m, a * 2, 0))


GRADCHECK = {
    "select": lambda lib, x: x[1, -1],
    "slice": lambda lib, x: x[1:, ::2],
    "none_ellipsis": lambda lib, x: x[None, ..., 1],
    "repeated_list": lambda lib, x: x[[0, 2, 0]],
    "two_lists": lambda lib, x: x[[0, 2, 0], [1, 1, 3]],
    "separated": lambda lib, x: x[[0, 1], 1:3, [4, 4]],
    "mask": lambda lib, x: x[lib.tensor(A > 0.3)],
    "mixed_chain": lambda lib, x: x[1:, [2, 2]][:, :, ::2],
    "index_select": lambda lib, x: x.index_select(2, lib.tensor([4, 0, 4])),
    "masked_fill": lambda lib, x: x.masked_fill(lib.tensor(A > 0), 0.5),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK))
def test_gradcheck(name):
    x = cgrad.tensor(A, requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda t: GRADCHECK[name](cgrad, t), (x,))


def _set_basic(lib, x, v):
    y = x * 1.5
    y[1, 1:3] = v
    return y


def _set_advanced(lib, x, v):
    y = x * 1.5
    y[[0, 2], 3] = v[0]
    return y


def _set_advanced_view(lib, x, v):
    y = x * 1.5
    y[1:, [0, 3]] = v[:2, None]
    return y


def _set_2d_view(lib, x, v):
    y = x * 1.5
    y[1:, [0, 2]] = v
    return y


def _set_mask(lib, x, v):
    y = x * 1.5
    y[lib.tensor(A > 0)] = v[0, 0]
    return y


def _set_fill(lib, x, v):
    y = x * v.sum()
    y[..., 2] = 0.25
    return y


SET_GRADCHECK = {"basic": _set_basic, "advanced": _set_advanced, "advanced_view": _set_advanced_view,
                 "mask": _set_mask, "fill": _set_fill}


@pytest.mark.parametrize("name", sorted(SET_GRADCHECK))
def test_setitem_gradcheck(name):
    x = cgrad.tensor(A, requires_grad=True)
    v = cgrad.tensor(np.random.default_rng(2).standard_normal((2, 5)), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda a, b: SET_GRADCHECK[name](cgrad, a, b), (x, v))


def test_masked_fill_value_tensor_gradcheck():
    x = cgrad.tensor(A2, requires_grad=True)
    v = cgrad.tensor(0.7, dtype=cgrad.float64, requires_grad=True)
    m = cgrad.tensor(A2[0] > 0)
    assert cgrad.autograd.gradcheck(lambda a, b: a.masked_fill(m, b), (x, v))


GRADGRAD = {
    "select": lambda t: t[1, -1], "repeated_list": lambda t: t[[0, 1, 0]], "separated": lambda t: t[[0, 1], 1:3, [3, 3]],
    "mixed_chain": lambda t: t[1:, [2, 2]][:, :, ::2], "index_select": lambda t: t.index_select(2, cgrad.tensor([3, 0, 3])),
    "masked_fill": lambda t: t.masked_fill(cgrad.tensor(A[:2, :3, :4] > 0), 0.5),
    "setitem": lambda t: _set_2d_view(cgrad, t, t[0, 0, :4] * 2),
}


@pytest.mark.parametrize("name", sorted(GRADGRAD))
def test_gradgradcheck(name):
    """Second derivatives against finite differences of the first (written
    out here: cgrad.autograd.gradgradcheck evaluates its first-order function
    under no_grad, so it cannot be used yet)."""
    x = cgrad.tensor(A[:2, :3, :4].copy(), requires_grad=True)
    out_shape = tuple((GRADGRAD[name](x) ** 2).shape)
    go = cgrad.tensor(np.random.default_rng(3).standard_normal(out_shape), requires_grad=True)

    def first_order(t, g_out):
        with cgrad.enable_grad():
            g, = cgrad.autograd.grad(GRADGRAD[name](t) ** 2, t, g_out, create_graph=True)
        return g

    assert cgrad.autograd.gradcheck(first_order, (x, go))


DOUBLE_BACKWARD = {
    "adv": lambda lib, x: x[[0, 0, 2]] ** 2,
    "select": lambda lib, x: x[1] ** 2,
    "slice": lambda lib, x: x[0:2, 1::2] ** 2,
    "none": lambda lib, x: x[None, :, None] ** 2,
    "mixed": lambda lib, x: x[1:, [0, 0, 3]] ** 2,
    "index_select": lambda lib, x: x.index_select(1, lib.tensor([0, 0, 3])) ** 2,
    "masked_fill": lambda lib, x: x.masked_fill(lib.tensor(A2 > 0), 1.0) ** 2,
    "set_basic": lambda lib, x: _set_basic(lib, x, x[0, :2] ** 2) ** 2,
    "set_advanced": lambda lib, x: _set_advanced(lib, x, x[:1, :2] ** 3) ** 2,
    "set_advanced_view": lambda lib, x: _set_2d_view(lib, x, x[0, :2] ** 2) ** 2,
    "set_fill": lambda lib, x: _set_fill(lib, x, x[0] ** 2) ** 2,
}


@requires_torch
@pytest.mark.parametrize("name", sorted(DOUBLE_BACKWARD))
def test_double_backward_matches_torch(name):
    res = []
    for lib in (cgrad, torch):
        x = lib.tensor(A2, requires_grad=True)
        y = DOUBLE_BACKWARD[name](lib, x)
        g, = lib.autograd.grad(y.sum(), x, create_graph=True)
        gg, = lib.autograd.grad((g * g).sum(), x)
        res.append((_name(y.grad_fn), _name(g.grad_fn), g.detach().numpy(), gg.numpy()))
    assert_same(res[0], res[1])


def test_saved_indices_are_version_checked_and_freed():
    x = cgrad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    i = cgrad.tensor([0, 0, 2])
    y = x[i]
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.sum().backward()
    y = x[i]
    i += 0
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation: \[cgrad.LongTensor \[3\]\]"):
        y.sum().backward()
    m = cgrad.tensor([True, False, True])
    y = x.masked_fill(m, 0.0)
    m[0] = False
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


# ---------------------------------------------------------------------------
# Iteration


def test_iteration():
    x = cgrad.tensor(A2, requires_grad=True)
    rows = list(x)
    assert len(rows) == 3 and all(r._base is x for r in rows)
    assert np.array_equal(np.stack([r.detach().numpy() for r in rows]), A2)
    sum(rows).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones((3, 4)))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(cgrad.tensor(1.0))
    with pytest.raises(TypeError, match="Tensor does not support deleting items"):
        del x[0]


# ---------------------------------------------------------------------------
# index_select and masked_fill


def misc_outcome(lib, code):
    env = {"lib": lib, "np": np, "A2": A2, "x": lib.tensor(A2, requires_grad=True)}
    try:
        r = eval(code, env)
    except Exception as e:  # noqa: BLE001
        return _err(e)
    out = {"shape": tuple(r.shape), "grad_fn": _name(r.grad_fn), "dtype": str(r.dtype).split(".")[-1],
           "values": r.detach().numpy().copy(), "contiguous": r.is_contiguous(), "view": r._is_view()}
    if r.requires_grad:
        ins = [t for t in env.values() if isinstance(t, lib.Tensor) and t.requires_grad]
        r.backward(lib.tensor(np.random.default_rng(1).standard_normal(tuple(r.shape))))
        out["grads"] = [None if t.grad is None else t.grad.numpy().copy() for t in ins]
    return out


MISC = [
    "x.index_select(0, lib.tensor([0, 0, 2]))", "x.index_select(1, lib.tensor([[0]]))", "x.index_select(1, lib.tensor(1))",
    "x.index_select(1, lib.tensor([5]))", "x.index_select(1, lib.tensor([-1]))", "x.index_select(1, lib.tensor([1.0]))",
    "x.index_select(1, [1])", "x.index_select(2, lib.tensor([1]))", "x.index_select(1, lib.tensor([True]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor([0, 0]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor(0))",
    "lib.tensor(3.0, requires_grad=True).index_select(-1, lib.tensor([0]))",
    "lib.tensor(3.0, requires_grad=True).index_select(0, lib.tensor([1]))",
    "lib.index_select(x, 1, lib.tensor([3, 0]))", "lib.index_select(x, dim=1, index=lib.tensor([3, 0]))",
    "x.index_select(0, lib.tensor([], dtype=lib.int64))", "x.index_select(-1, lib.tensor([2, 2]))",
    "x.t().index_select(1, lib.tensor([2, 2]))", "x.t().index_select(0, lib.tensor([2, 2, 0]))",
    "lib.zeros(0, 4).index_select(0, lib.tensor([0]))", "lib.zeros(3, 0).index_select(1, lib.tensor([0]))",
    "lib.zeros(3, 0).index_select(0, lib.tensor([5]))", "lib.zeros(3, 0).index_select(0, lib.tensor([1]))",
    "x.index_select(1.0, lib.tensor([0]))", "x.index_select('a', lib.tensor([0]))", "x.index_select(0, lib.tensor(5))",
    "x.index_select(0, lib.tensor(-1))", "x.index_select(0, lib.tensor([0, -4]))", "x.index_select(0, lib.tensor([1, 3, 7]))",
    "lib.tensor([1, 2, 3]).index_select(0, lib.tensor([2, 0]))", "lib.tensor([True, False]).index_select(0, lib.tensor([1, 0]))",
    "lib.tensor([1., 2., 3.], requires_grad=True).index_select(0, lib.tensor([9]))",
    "lib.zeros(2, 3, 4).index_select(1, lib.tensor([1, 3]))", "lib.zeros(2, 3, 4).index_select(2, lib.tensor([1, 9]))",
    "x.index_select(0, lib.tensor([0, 1, 2, 0])[::2])",
    "x.masked_fill(lib.tensor(A2 > 0), 2.0)", "x.masked_fill(lib.tensor(A2 > 0), lib.tensor(2.0))",
    "x.masked_fill(lib.tensor(A2 > 0), lib.tensor([2.0]))", "x.masked_fill(lib.ones(4, dtype=lib.bool), 1)",
    "x.masked_fill(lib.ones(2, 3, 4, dtype=lib.bool), 1)", "x.masked_fill(lib.ones(3, dtype=lib.bool), 1)",
    "x.masked_fill(lib.ones(4), 1)", "x.masked_fill(lib.ones(4, dtype=lib.int64), 1)", "x.masked_fill(lib.tensor(A2 > 0), 'a')",
    "x.masked_fill(lib.tensor(A2 > 0), None)", "lib.zeros(3, 4, dtype=lib.int64).masked_fill(lib.tensor(A2 > 0), 2.5)",
    "lib.zeros(3, 4, dtype=lib.int64).masked_fill(lib.tensor(A2 > 0), lib.tensor(2.5))",
    "lib.zeros(3, 4).masked_fill(lib.tensor(A2 > 0), lib.tensor(2.5, dtype=lib.float64))",
    "lib.zeros(3, 4, dtype=lib.bool).masked_fill(lib.tensor(A2 > 0), 2.5)", "lib.masked_fill(x, lib.tensor(A2 > 0), 1.5)",
    "x.masked_fill(mask=lib.tensor(A2 > 0), value=1.0)", "lib.zeros(3, 4).masked_fill_(lib.ones(2, 3, 4, dtype=lib.bool), 1)",
    "lib.zeros(3, 4).masked_fill_(lib.ones(4, dtype=lib.bool), 1)", "lib.zeros(3, 4).masked_fill_(lib.ones(3, dtype=lib.bool), 1)",
    "(x * 1).masked_fill_(lib.tensor(A2 > 0), 1.5)", "x.masked_fill_(lib.tensor(A2 > 0), 1.5)",
    "(x * 1).masked_fill_(lib.tensor(A2 > 0), lib.tensor(2., requires_grad=True))",
    "x.masked_fill(lib.tensor(A2[0] > 0), lib.tensor(2., dtype=lib.float64, requires_grad=True))",
    "x.masked_fill(lib.tensor(True), 2.)", "lib.tensor(2., requires_grad=True).masked_fill(lib.tensor(A2 > 0), 1.)",
    "x.t().masked_fill(lib.tensor(A2.T > 0), 1.)", "x.masked_fill(lib.tensor(A2 > 0), float('inf'))",
]


@requires_torch
@pytest.mark.parametrize("code", MISC)
def test_index_select_and_masked_fill_match_torch(code):
    assert_same(misc_outcome(cgrad, code), misc_outcome(torch, code))


@requires_torch
@given(shape=st.lists(st.integers(0, 4), min_size=1, max_size=3).map(tuple), data=st.data())
@settings(max_examples=60 * SCALE, deadline=None)
def test_index_select_random_matches_torch(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    idx = data.draw(st.lists(st.integers(-1, size), max_size=5))
    arr = np.random.default_rng(2).standard_normal(shape)

    def code(lib):
        x = lib.tensor(arr, requires_grad=True)
        try:
            r = x.index_select(dim, lib.tensor(idx, dtype=lib.int64))
        except Exception as e:  # noqa: BLE001
            return _err(e)
        r.backward(lib.tensor(np.ones(tuple(r.shape))))
        return tuple(r.shape), r.detach().numpy(), x.grad.numpy()

    assert_same(code(cgrad), code(torch))


SETITEM_CODE = [
    "y = lib.zeros(3, dtype=lib.int64); v = lib.tensor(2.5, requires_grad=True); y[0] = v",
    "y = lib.zeros(3, dtype=lib.int64); v = lib.tensor([2.5, 1.], requires_grad=True); y[[0, 1]] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[...] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[None] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor(5., requires_grad=True); y[True] = v",
    "x = lib.tensor(2., requires_grad=True); y = x * 2; v = lib.tensor([5.], requires_grad=True); y[[True]] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor(5., dtype=lib.float64, requires_grad=True); y[0] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor(5., dtype=lib.float64, requires_grad=True); "
    "y[lib.tensor([True, False])] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; v = lib.tensor([5.], dtype=lib.float64, requires_grad=True); y[[0]] = v",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[0] = y[1]",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[[0]] = y[1]",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x * 2; y[:] = y.detach()",
    "y = lib.zeros(3); v = lib.tensor(2.5, requires_grad=True)\nwith lib.no_grad(): y[0] = v",
    "y = lib.zeros(3); v = lib.tensor(2., requires_grad=True); y.masked_fill_(lib.tensor([True, False, True]), v)",
    "x = lib.tensor([2., 3.], requires_grad=True); y = x[0:1]; y.masked_fill_(lib.tensor([True]), 1.)",
    "x = lib.tensor([[2., 3.]], requires_grad=True); y = x * 1; v = lib.ones(2, requires_grad=True); y[0, [1, 0]] = v * 3",
    "y = lib.zeros(2, 3); v = lib.ones(3, requires_grad=True); y[lib.tensor([True, False])] = v",
]


@requires_torch
@pytest.mark.parametrize("code", SETITEM_CODE)
def test_setitem_code_matches_torch(code):
    def outcome(lib):
        env = {"lib": lib, "np": np}
        try:
            exec(code, env)
        except Exception as e:  # noqa: BLE001
            return _err(e)
        y = env["y"]
        out = [str(y.dtype).split(".")[-1], y.requires_grad, _name(y.grad_fn), y._version, y.detach().numpy()]
        if y.requires_grad:
            y.sum().backward()
            for k in ("x", "v"):
                if k in env:
                    out.append(None if env[k].grad is None else env[k].grad.numpy())
        return out

    assert_same(outcome(cgrad), outcome(torch))
