"""Shape, view, joining and splitting ops against torch: values, dtypes,
shapes, grad_fn names and gradients (compare_with_torch), the layout of every
result (strides, storage offset, is_contiguous, _base, output_nr: views must
share memory exactly where torch's do), exception types and texts; float64
gradient checks (first and second order) and hypothesis-drawn shapes."""
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgrad
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch, torch_free_checks

HYPO = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DTYPES = {np.dtype(np.float32): "float32", np.dtype(np.float64): "float64", np.dtype(np.int64): "int64",
          np.dtype(np.bool_): "bool"}


# ---------------------------------------------------------------------------
# Comparison machinery


def make_tensor(lib, a, requires_grad=True):
    """lib.tensor(a), but empty arrays through lib.zeros: torch.tensor copies
    numpy's strides for empty arrays, which would blur the layout checks."""
    rg = requires_grad and a.dtype.kind == "f"
    if a.size == 0:
        return lib.zeros(*a.shape, dtype=getattr(lib, DTYPES[a.dtype]), requires_grad=rg)
    return lib.tensor(a, requires_grad=rg)


def grad_fn_name(t):
    return None if t.grad_fn is None else type(t.grad_fn).__name__


def layout(out, ins):
    """What must agree with torch besides values: geometry, autograd
    metadata and which input (if any) the result is a view of or is."""
    base = out._base
    base_of = None if base is None else next((i for i, x in enumerate(ins) if base is x), "other")
    same_as = next((i for i, x in enumerate(ins) if out is x), None)
    return (tuple(out.shape), str(out.dtype).split(".")[-1], tuple(out.stride()), out.storage_offset(),
            out.is_contiguous(), grad_fn_name(out), out.output_nr, out.requires_grad, base_of, same_as)


def run_layout(lib, fn, arrays, requires_grad):
    ins = [make_tensor(lib, a, requires_grad) if isinstance(a, np.ndarray) else a for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(lib, *ins)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return type(out).__name__, [layout(o, ins) for o in outs]


def compare_layout(fn, *arrays, requires_grad=True):
    if torch is None:   # strides, offsets and view bases are torch's choices: nothing to compare
        torch_free_checks.could_not_check("the layout (strides, views) needs torch")
        return
    expected = run_layout(torch, fn, arrays, requires_grad)
    actual = run_layout(cgrad, fn, arrays, requires_grad)
    assert actual == expected


def compare_all(fn, *arrays, requires_grad=True, **kw):
    """Values, dtypes, grad_fn names and gradients, then the layout."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_with_torch(fn, *arrays, requires_grad=requires_grad, **kw)
    compare_layout(fn, *arrays, requires_grad=requires_grad)


def run_error(lib, fn, arrays):
    ins = [make_tensor(lib, a) if isinstance(a, np.ndarray) else a for a in arrays]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn(lib, *ins)
    except Exception as e:  # noqa: BLE001 - the exception itself is what we compare
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return None


def compare_error(fn, *arrays):
    if torch is None:
        pytest.skip("torch not installed")
    expected = run_error(torch, fn, arrays)
    assert expected is not None, "torch raised nothing"
    assert run_error(cgrad, fn, arrays) == expected


def r(*shape, seed=0):
    return rand(*shape, seed=seed)


def empty(*shape):
    return np.zeros(shape, np.float32)


def ints(*shape):
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


def bools(*shape):
    return np.arange(int(np.prod(shape))).reshape(shape) % 3 == 0


# ---------------------------------------------------------------------------
# View and shape ops: torch's values, grads, grad_fn names and layout


VIEW_CASES = {
    "view": (lambda l, x: x.view(6, 4), [r(2, 3, 4)]),
    "view_infer": (lambda l, x: x.view(4, -1, 2), [r(2, 3, 4)]),
    "view_list": (lambda l, x: x.view([2, 12]), [r(2, 3, 4)]),
    "view_size": (lambda l, x: x.view(l.Size([3, 8])), [r(2, 3, 4)]),
    "view_noncontig": (lambda l, x: x.transpose(0, 1).view(3, 2, 2, 2), [r(2, 3, 4)]),
    "view_expanded": (lambda l, x: x.expand(3, 2, 4).view(3, 8), [r(2, 4)]),
    "view_0d": (lambda l, x: x.view(1, 1), [r()]),
    "view_to_0d": (lambda l, x: x.view(()), [r(1, 1)]),
    "view_empty_same": (lambda l, x: x.transpose(0, 2).view(3, 0, 2), [empty(2, 0, 3)]),
    "view_empty_other": (lambda l, x: x.transpose(0, 2).view(0, 6), [empty(2, 0, 3)]),
    "view_empty_infer": (lambda l, x: x.view(-1, 3), [empty(0, 3)]),
    "view_int": (lambda l, x: x.view(3, 2), [ints(2, 3)]),
    "view_as": (lambda l, x: x.view_as(l.zeros(4, 6)), [r(2, 3, 4)]),
    "reshape_contig": (lambda l, x: x.reshape(6, 4), [r(2, 3, 4)]),
    "reshape_alias": (lambda l, x: x.transpose(0, 1).reshape(3, 2, 2, 2), [r(2, 3, 4)]),
    "reshape_alias_same": (lambda l, x: x.mT.reshape(2, 4, 3), [r(2, 3, 4)]),
    "reshape_copy": (lambda l, x: x.transpose(1, 2).reshape(-1, 3), [r(2, 3, 4)]),
    "reshape_sliced_copy": (lambda l, x: x.narrow(1, 0, 2).reshape(4, 4), [r(2, 3, 4)]),
    "reshape_sliced_alias": (lambda l, x: x.narrow(1, 0, 2).reshape(2, 2, 2, 2), [r(2, 3, 4)]),
    "reshape_expand_alias": (lambda l, x: x.expand(2, 2, 3, 4).reshape(2, 2, 12), [r(2, 3, 4)]),
    "reshape_expand_copy": (lambda l, x: x.expand(2, 2, 3, 4).reshape(4, 12), [r(2, 3, 4)]),
    "reshape_0d": (lambda l, x: x.reshape(1), [r()]),
    "reshape_empty": (lambda l, x: x.transpose(0, 2).reshape(6, 0), [empty(2, 0, 3)]),
    "reshape_fn": (lambda l, x: l.reshape(x.t(), (-1,)), [r(2, 3)]),
    "reshape_kw": (lambda l, x: x.reshape(shape=(4, 6)), [r(2, 3, 4)]),
    "reshape_as": (lambda l, x: x.t().reshape_as(l.zeros(6)), [r(2, 3)]),
    "flatten": (lambda l, x: x.flatten(), [r(2, 3, 4)]),
    "flatten_start": (lambda l, x: x.flatten(1), [r(2, 3, 4)]),
    "flatten_neg": (lambda l, x: x.flatten(-3, -2), [r(2, 3, 4)]),
    "flatten_same_dim": (lambda l, x: x.flatten(1, 1), [r(2, 3, 4)]),
    "flatten_noncontig": (lambda l, x: x.transpose(0, 1).flatten(), [r(2, 3, 4)]),
    "flatten_alias": (lambda l, x: x.transpose(1, 2).flatten(0, 0), [r(2, 3, 4)]),
    "flatten_0d": (lambda l, x: x.flatten(), [r()]),
    "flatten_0d_dims": (lambda l, x: x.flatten(-1, 0), [r()]),
    "flatten_empty": (lambda l, x: x.flatten(0, 1), [empty(2, 0, 3)]),
    "flatten_fn": (lambda l, x: l.flatten(x, end_dim=1), [r(2, 3, 4)]),
    "unflatten": (lambda l, x: x.unflatten(1, (3, -1)), [r(2, 3, 4)]),
    "unflatten_neg": (lambda l, x: x.unflatten(-1, (2, 2)), [r(2, 3, 4)]),
    "unflatten_fn": (lambda l, x: l.unflatten(x.t(), 0, (2, 2)), [r(2, 4)]),
    "ravel": (lambda l, x: x.ravel(), [r(2, 3)]),
    "ravel_noncontig": (lambda l, x: x.t().ravel(), [r(2, 3)]),
    "ravel_fn": (lambda l, x: l.ravel(x.t()), [r(2, 3)]),
    "squeeze": (lambda l, x: x.squeeze(), [r(1, 3, 1)]),
    "squeeze_none_1": (lambda l, x: x.squeeze(), [r(2, 3)]),
    "squeeze_dim": (lambda l, x: x.squeeze(0), [r(1, 3, 1)]),
    "squeeze_dim_neg": (lambda l, x: x.squeeze(-1), [r(1, 3, 1)]),
    "squeeze_dim_not1": (lambda l, x: x.squeeze(1), [r(1, 3, 1)]),
    "squeeze_tuple": (lambda l, x: x.squeeze((0, -1)), [r(1, 3, 1)]),
    "squeeze_list": (lambda l, x: x.squeeze([2]), [r(1, 3, 1)]),
    "squeeze_empty_tuple": (lambda l, x: x.squeeze(()), [r(1, 3, 1)]),
    "squeeze_varargs": (lambda l, x: x.squeeze(0, 2), [r(1, 3, 1)]),
    "squeeze_kw": (lambda l, x: x.squeeze(dim=(0, 1)), [r(1, 3, 1)]),
    "squeeze_noncontig": (lambda l, x: x.t().unsqueeze(1).squeeze(1), [r(2, 3)]),
    "squeeze_0d": (lambda l, x: x.squeeze(), [r()]),
    "squeeze_0d_dim": (lambda l, x: x.squeeze(-1), [r()]),
    "squeeze_0d_tuple": (lambda l, x: x.squeeze((0,)), [r()]),
    "squeeze_fn": (lambda l, x: l.squeeze(x, (0,)), [r(1, 3, 1)]),
    "squeeze_fn_dim": (lambda l, x: l.squeeze(x, 2), [r(1, 3, 1)]),
    "unsqueeze": (lambda l, x: x.unsqueeze(1), [r(2, 3)]),
    "unsqueeze_end": (lambda l, x: x.unsqueeze(-1), [r(2, 3)]),
    "unsqueeze_front": (lambda l, x: x.unsqueeze(-3), [r(2, 3)]),
    "unsqueeze_noncontig": (lambda l, x: x.t().unsqueeze(1), [r(2, 3)]),
    "unsqueeze_sliced": (lambda l, x: x.narrow(1, 0, 1).unsqueeze(2), [r(2, 3)]),
    "unsqueeze_0d": (lambda l, x: x.unsqueeze(0), [r()]),
    "unsqueeze_empty": (lambda l, x: x.unsqueeze(1), [empty(2, 0, 3)]),
    "unsqueeze_fn": (lambda l, x: l.unsqueeze(x, 0), [r(2, 3)]),
    "transpose": (lambda l, x: x.transpose(0, 2), [r(2, 3, 4)]),
    "transpose_neg": (lambda l, x: x.transpose(-1, 0), [r(2, 3, 4)]),
    "transpose_same": (lambda l, x: x.transpose(1, 1), [r(2, 3, 4)]),
    "transpose_0d": (lambda l, x: x.transpose(0, -1), [r()]),
    "transpose_fn": (lambda l, x: l.transpose(x, 0, 1), [r(2, 3, 4)]),
    "swapaxes": (lambda l, x: x.swapaxes(0, -1), [r(2, 3, 4)]),
    "swapdims": (lambda l, x: x.swapdims(1, 2), [r(2, 3, 4)]),
    "swapaxes_fn": (lambda l, x: l.swapaxes(x, 0, 1), [r(2, 3, 4)]),
    "swapdims_fn": (lambda l, x: l.swapdims(x, 0, 2), [r(2, 3, 4)]),
    "permute": (lambda l, x: x.permute(2, 0, 1), [r(2, 3, 4)]),
    "permute_neg": (lambda l, x: x.permute(-1, 0, -2), [r(2, 3, 4)]),
    "permute_list": (lambda l, x: x.permute([1, 2, 0]), [r(2, 3, 4)]),
    "permute_kw": (lambda l, x: x.permute(dims=(1, 0, 2)), [r(2, 3, 4)]),
    "permute_0d": (lambda l, x: x.permute(()), [r()]),
    "permute_fn": (lambda l, x: l.permute(x, (-1, 0, 1)), [r(2, 3, 4)]),
    "t": (lambda l, x: x.t(), [r(2, 3)]),
    "t_1d": (lambda l, x: x.t(), [r(3)]),
    "t_0d": (lambda l, x: x.t(), [r()]),
    "t_fn": (lambda l, x: l.t(x), [r(2, 3)]),
    "T": (lambda l, x: x.T, [r(2, 3)]),
    "T_3d": (lambda l, x: x.T, [r(2, 3, 4)]),
    "T_1d": (lambda l, x: x.T, [r(3)]),
    "T_0d": (lambda l, x: x.T, [r()]),
    "mT": (lambda l, x: x.mT, [r(2, 3, 4)]),
    "mT_0d": (lambda l, x: x.mT, [r()]),
    "mH": (lambda l, x: x.mH, [r(2, 3)]),
    "mH_0d": (lambda l, x: x.mH, [r()]),
    "H": (lambda l, x: x.H, [r(2, 3)]),
    "H_0d": (lambda l, x: x.H, [r()]),
    "adjoint": (lambda l, x: x.adjoint(), [r(2, 3, 4)]),
    "adjoint_fn": (lambda l, x: l.adjoint(x), [r(2, 3)]),
    "expand": (lambda l, x: x.expand(3, 2, -1), [r(2, 1)]),
    "expand_list": (lambda l, x: x.expand([3, 2, 4]), [r(2, 1)]),
    "expand_kw": (lambda l, x: x.expand(size=(2, 5)), [r(2, 1)]),
    "expand_lead_ones": (lambda l, x: x.expand(1, 1, 2, 3, 4), [r(2, 3, 4)]),
    "expand_lead_mixed": (lambda l, x: x.expand(3, 1, 2, 3, 4), [r(2, 3, 4)]),
    "expand_same": (lambda l, x: x.expand(2, 3), [r(2, 3)]),
    "expand_to_empty": (lambda l, x: x.expand(2, 0), [r(2, 1)]),
    "expand_lead_empty": (lambda l, x: x.expand(0, 2, 1), [r(2, 1)]),
    "expand_0d": (lambda l, x: x.expand(2, 1), [r()]),
    "expand_0d_ones": (lambda l, x: x.expand(1, 1), [r()]),
    "expand_noncontig": (lambda l, x: x.t().unsqueeze(0).expand(3, 3, 2), [r(2, 3)]),
    "expand_as": (lambda l, x: x.expand_as(l.zeros(4, 2, 3)), [r(2, 1)]),
    "contiguous_already": (lambda l, x: x.contiguous(), [r(2, 3)]),
    "contiguous_copy": (lambda l, x: x.t().contiguous(), [r(2, 3)]),
    "contiguous_empty": (lambda l, x: x.transpose(0, 2).contiguous(), [empty(2, 0, 3)]),
    "clone": (lambda l, x: x.clone(), [r(2, 3)]),
    "clone_transposed": (lambda l, x: x.t().clone(), [r(2, 3)]),
    "clone_sliced": (lambda l, x: x.t().narrow(0, 1, 2).clone(), [r(2, 3)]),
    "clone_expanded": (lambda l, x: x.t().expand(2, 3, 2).clone(), [r(2, 3)]),
    "clone_channels_last": (lambda l, x: x.permute(0, 3, 1, 2).clone(), [r(2, 4, 5, 3)]),
    "clone_size1_stride": (lambda l, x: x.narrow(1, 1, 1).clone(), [r(2, 3, 4)]),
    "clone_fn": (lambda l, x: l.clone(x.mT), [r(2, 3, 4)]),
    "clone_int": (lambda l, x: x.t().clone(), [ints(2, 3)]),
    "narrow": (lambda l, x: x.narrow(1, -2, 2), [r(2, 3, 4)]),
    "narrow_full": (lambda l, x: x.narrow(0, 0, 5), [r(5, 4)]),
    "narrow_empty": (lambda l, x: x.narrow(0, 5, 0), [r(5, 4)]),
    "narrow_tensor_start": (lambda l, x: x.narrow(0, l.tensor(1), 2), [r(5, 4)]),
    "narrow_fn": (lambda l, x: l.narrow(x, 1, 1, 2), [r(5, 4)]),
    "chain": (lambda l, x: x.permute(2, 0, 1).reshape(4, 6).t().unsqueeze(0).expand(2, 6, 4).flatten(0, 1),
              [r(2, 3, 4)]),
}


@pytest.mark.parametrize("name", sorted(VIEW_CASES))
def test_shape_op_matches_torch(name):
    fn, arrays = VIEW_CASES[name]
    compare_all(fn, *arrays)


@requires_torch
@pytest.mark.parametrize("name", ["view", "reshape_alias", "reshape_copy", "squeeze", "expand", "narrow",
                                  "clone_transposed", "flatten_same_dim", "t"])
def test_shape_op_without_grad(name):
    fn, arrays = VIEW_CASES[name]
    compare_layout(fn, *arrays, requires_grad=False)
    with cgrad.no_grad():
        out = fn(cgrad, *[make_tensor(cgrad, a) for a in arrays])
    assert out.grad_fn is None


GRADCHECK_CASES = sorted(n for n, (fn, arrays) in VIEW_CASES.items()
                         if all(a.dtype.kind == "f" and a.size > 0 for a in arrays))


@pytest.mark.parametrize("name", GRADCHECK_CASES)
def test_shape_op_gradcheck(name):
    fn, arrays = VIEW_CASES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_gradients(fn, *arrays)


def test_views_share_memory_with_base():
    x = cgrad.tensor(r(2, 3, 4))
    for v in (x.view(6, 4), x.transpose(0, 1), x.permute(2, 0, 1), x.unsqueeze(1), x.unbind(1)[0],
              x.expand(2, 2, 3, 4), x.narrow(1, 1, 2), x.flatten(1), x.transpose(0, 1).reshape(3, 2, 2, 2)):
        assert v._base is x or v is x
    v = x.transpose(0, 1).narrow(0, 1, 1)
    with cgrad.no_grad():
        v.fill_(7.0)
    assert (x.numpy()[:, 1] == 7).all()
    assert x._version == v._version == 1
    c = x.transpose(1, 2).reshape(-1, 3)   # a copy: writes do not reach x
    with cgrad.no_grad():
        c.fill_(-1.0)
    assert (x.numpy() != -1).all()


def test_flatten_same_dims_is_input_and_contiguous_is_input():
    x = cgrad.tensor(r(2, 3), requires_grad=True)
    assert x.flatten(1, 1) is x
    assert x.contiguous() is x
    z = cgrad.tensor(1.0)
    with pytest.warns(UserWarning, match="Tensor.mT is deprecated on 0-D tensors"):
        assert z.mT is z


T_WARNING = ("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and it "
             "will throw an error in a future release. Consider `x.mT` to transpose batches of matrices or "
             "`x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a tensor.")
PROPERTY_WARNINGS = {
    ("x.T", 3): T_WARNING,
    ("x.T", 1): T_WARNING,
    ("x.T", 0): "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases.",
    ("x.mT", 0): "Tensor.mT is deprecated on 0-D tensors. This function is the identity in these cases.",
    ("x.mH", 0): "Tensor.mH is deprecated on 0-D tensors. Consider using x.conj().",
    ("x.H", 0): "Tensor.H is deprecated on 0-D tensors. Consider using x.conj().",
    ("x.adjoint()", 0): "adjoint() is deprecated on 0-D tensors. Consider using x.conj().",
}


@pytest.mark.parametrize("expr, ndim", sorted(PROPERTY_WARNINGS))
def test_transpose_property_warnings(expr, ndim):
    """cgrad warns with torch's text (torch warns once per process, so it is
    only compared when it still warns)."""
    expected = PROPERTY_WARNINGS[(expr, ndim)]
    for lib in ([torch] if torch is not None else []) + [cgrad]:
        x = lib.zeros(tuple([2] * ndim))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            eval(expr)
        msgs = [str(m.message).split(" (Triggered internally")[0] for m in w]
        if lib is cgrad:
            assert msgs == [expected]
            assert all(m.category is UserWarning for m in w)
            assert w[0].filename == "<string>"   # the eval of the user's line
        else:
            assert msgs in ([], [expected])


# ---------------------------------------------------------------------------
# Errors: torch's exception types and texts


SHAPE_ERRORS = {
    "view_bad_numel": (lambda l, x: x.view(5, 5), [r(2, 3, 4)]),
    "view_two_infer": (lambda l, x: x.view(-1, 2, -1), [r(2, 3, 4)]),
    "view_negative": (lambda l, x: x.view(-1, -2, -1), [r(2, 3, 4)]),
    "view_ambiguous": (lambda l, x: x.view(-1, 0), [empty(0, 3)]),
    "view_ambiguous_3": (lambda l, x: x.view(3, -1, 0), [empty(0, 3)]),
    "view_zero_into_numel": (lambda l, x: x.view(-1, 0), [r(5)]),
    "view_noncontig": (lambda l, x: x.transpose(0, 1).view(-1), [r(2, 3, 4)]),
    "view_float": (lambda l, x: x.view(2.0, 12), [r(2, 3, 4)]),
    "view_float_later": (lambda l, x: x.view(2, 12.5), [r(2, 3, 4)]),
    "view_tuple_float": (lambda l, x: x.view((2.0, 12)), [r(2, 3, 4)]),
    "view_none": (lambda l, x: x.view(None), [r(2, 3, 4)]),
    "view_empty_args": (lambda l, x: x.view(), [r(2, 3, 4)]),
    "reshape_bad": (lambda l, x: x.reshape(5, 5), [r(2, 3, 4)]),
    "reshape_two_infer": (lambda l, x: x.reshape(-1, -1), [r(2, 3, 4)]),
    "reshape_noncontig_bad": (lambda l, x: x.t().reshape(4), [r(2, 3)]),
    "reshape_float": (lambda l, x: x.reshape(2.0), [r(2, 3, 4)]),
    "reshape_float_varargs": (lambda l, x: x.reshape(2.0, 12), [r(2, 3, 4)]),
    "reshape_float_later": (lambda l, x: x.reshape(2, 12.5), [r(2, 3, 4)]),
    "reshape_tuple_bool": (lambda l, x: x.reshape((True, 24)), [r(2, 3, 4)]),
    "reshape_nested": (lambda l, x: x.reshape([2, [3, 4]]), [r(2, 3, 4)]),
    "reshape_missing": (lambda l, x: x.reshape(), [r(2, 3, 4)]),
    "reshape_fn_int": (lambda l, x: l.reshape(x, 24), [r(2, 3, 4)]),
    "reshape_fn_float": (lambda l, x: l.reshape(x, (2.0, 12)), [r(2, 3, 4)]),
    "flatten_order": (lambda l, x: x.flatten(2, 1), [r(2, 3, 4)]),
    "flatten_range": (lambda l, x: x.flatten(0, 3), [r(2, 3, 4)]),
    "flatten_0d_range": (lambda l, x: x.flatten(0, 1), [r()]),
    "flatten_float": (lambda l, x: x.flatten(0, 1.0), [r(2, 3, 4)]),
    "flatten_fn_float": (lambda l, x: l.flatten(x, 0.0), [r(2, 3, 4)]),
    "unflatten_bad": (lambda l, x: x.unflatten(1, (2, 2)), [r(2, 3, 4)]),
    "unflatten_bad_neg": (lambda l, x: x.unflatten(-2, (2, -1)), [r(2, 3, 4)]),
    "unflatten_empty": (lambda l, x: x.unflatten(1, ()), [r(2, 3, 4)]),
    "unflatten_dim": (lambda l, x: x.unflatten(5, (1, 3)), [r(2, 3, 4)]),
    "squeeze_range": (lambda l, x: x.squeeze(3), [r(2, 3, 4)]),
    "squeeze_dup": (lambda l, x: x.squeeze((0, -4)), [r(1, 2, 3, 4)]),
    "squeeze_tuple_range": (lambda l, x: x.squeeze((0, 5)), [r(2, 3, 4)]),
    "squeeze_0d_range": (lambda l, x: x.squeeze(1), [r()]),
    "squeeze_float": (lambda l, x: x.squeeze(0.0), [r(2, 3, 4)]),
    "squeeze_none": (lambda l, x: x.squeeze(None), [r(2, 3, 4)]),
    "squeeze_tuple_float": (lambda l, x: x.squeeze((0, 1.0)), [r(2, 3, 4)]),
    "squeeze_fn_float": (lambda l, x: l.squeeze(x, 0.0), [r(2, 3, 4)]),
    "unsqueeze_range": (lambda l, x: x.unsqueeze(4), [r(2, 3, 4)]),
    "unsqueeze_range_neg": (lambda l, x: x.unsqueeze(-5), [r(2, 3, 4)]),
    "unsqueeze_float": (lambda l, x: x.unsqueeze(0.0), [r(2, 3, 4)]),
    "unsqueeze_bool": (lambda l, x: x.unsqueeze(True), [r(2, 3, 4)]),
    "unsqueeze_fn_float": (lambda l, x: l.unsqueeze(x, 0.0), [r(2, 3, 4)]),
    "transpose_range": (lambda l, x: x.transpose(0, 3), [r(2, 3, 4)]),
    "transpose_float": (lambda l, x: x.transpose(0, 1.0), [r(2, 3, 4)]),
    "transpose_fn_float": (lambda l, x: l.transpose(x, 0.0, 1), [r(2, 3, 4)]),
    "permute_len": (lambda l, x: x.permute(0, 1), [r(2, 3, 4)]),
    "permute_dup": (lambda l, x: x.permute(0, 1, 1), [r(2, 3, 4)]),
    "permute_dup_neg": (lambda l, x: x.permute(0, 1, -2), [r(2, 3, 4)]),
    "permute_range": (lambda l, x: x.permute(0, 1, 3), [r(2, 3, 4)]),
    "permute_float": (lambda l, x: x.permute(2, 1, 0.5), [r(2, 3, 4)]),
    "permute_tuple_float": (lambda l, x: x.permute((0.0, 1, 2)), [r(2, 3, 4)]),
    "permute_missing": (lambda l, x: x.permute(), [r(2, 3, 4)]),
    "permute_fn_int": (lambda l, x: l.permute(x, 0), [r(2, 3, 4)]),
    "t_3d": (lambda l, x: x.t(), [r(2, 3, 4)]),
    "mT_1d": (lambda l, x: x.mT, [r(3)]),
    "mH_1d": (lambda l, x: x.mH, [r(3)]),
    "H_1d": (lambda l, x: x.H, [r(3)]),
    "H_3d": (lambda l, x: x.H, [r(2, 3, 4)]),
    "adjoint_1d": (lambda l, x: x.adjoint(), [r(3)]),
    "expand_fewer": (lambda l, x: x.expand(3, 4), [r(2, 3, 4)]),
    "expand_mismatch": (lambda l, x: x.expand(2, 5, 4), [r(2, 3, 4)]),
    "expand_rightmost_first": (lambda l, x: x.expand(5, 2, 7, 5), [r(2, 3, 4)]),
    "expand_infer_leading": (lambda l, x: x.expand(-1, 2, 3, 4), [r(2, 3, 4)]),
    "expand_infer_leading_1": (lambda l, x: x.expand(2, -1, 3, 4), [r(3, 4)]),
    "expand_negative": (lambda l, x: x.expand(2, -3, 4), [r(2, 1, 4)]),
    "expand_negative_lead": (lambda l, x: x.expand(-2, 2, 3, 4), [r(2, 3, 4)]),
    "expand_as_fewer": (lambda l, x: x.expand_as(l.zeros(3)), [r(2, 3, 4)]),
    "expand_float": (lambda l, x: x.expand(2, 3, 4.5), [r(2, 3, 4)]),
    "expand_double_varargs": (lambda l, x: x.expand((2, 3, 4), 5), [r(2, 3, 4)]),
    "expand_missing": (lambda l, x: x.expand(), [r(2, 3, 4)]),
    "narrow_0d": (lambda l, x: x.narrow(0, 0, 1), [r()]),
    "narrow_length": (lambda l, x: x.narrow(5, 0, -1), [r(5, 4)]),
    "narrow_dim": (lambda l, x: x.narrow(2, 0, 1), [r(5, 4)]),
    "narrow_start": (lambda l, x: x.narrow(0, 6, 0), [r(5, 4)]),
    "narrow_start_neg": (lambda l, x: x.narrow(0, -6, 1), [r(5, 4)]),
    "narrow_exceeds": (lambda l, x: x.narrow(0, 1, 5), [r(5, 4)]),
    "narrow_float_tensor": (lambda l, x: x.narrow(0, l.tensor(1.0), 2), [r(5, 4)]),
    "narrow_float": (lambda l, x: x.narrow(0, 0, 1.0), [r(5, 4)]),
    "narrow_fn_float": (lambda l, x: l.narrow(x, 0.0, 0, 1), [r(5, 4)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_shape_errors(name):
    fn, arrays = SHAPE_ERRORS[name]
    compare_error(fn, *arrays)


# ---------------------------------------------------------------------------
# view/reshape geometry against torch on drawn shapes and layouts


@st.composite
def strided_input(draw):
    """A tensor shape plus a permutation and an optional narrowing, so the
    input is contiguous, transposed or sliced."""
    shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=4))
    perm = draw(st.permutations(range(len(shape))))
    narrow_dim = draw(st.integers(-1, len(shape) - 1))
    return shape, perm, narrow_dim


def reshape_targets(numel):
    outs = [(numel,), (-1,), (1, numel), (numel, 1)]
    for d in range(2, numel + 1):
        if numel % d == 0:
            outs.append((d, -1))
            outs.append((numel // d, d))
            for e in range(2, numel // d + 1):
                if (numel // d) % e == 0:
                    outs.append((d, e, -1))
    return outs


@requires_torch
@HYPO
@given(strided_input(), st.data())
def test_view_reshape_geometry_hypothesis(inp, data):
    shape, perm, narrow_dim = inp
    arr = rand(*shape, seed=1)

    def prep(lib, x):
        y = x.permute(*perm)
        if narrow_dim >= 0 and y.shape[narrow_dim] > 1:
            y = y.narrow(narrow_dim, 1, y.shape[narrow_dim] - 1)
        return y

    y_t = prep(torch, torch.tensor(arr))
    target = data.draw(st.sampled_from(reshape_targets(y_t.numel())))
    compare_all(lambda l, x: prep(l, x).reshape(target), arr)
    if torch is not None:
        err = run_error(torch, lambda l, x: prep(l, x).view(target), [arr])
        if err is None:
            compare_all(lambda l, x: prep(l, x).view(target), arr)
        else:
            assert run_error(cgrad, lambda l, x: prep(l, x).view(target), [arr]) == err
    compare_all(lambda l, x: prep(l, x).flatten(), arr)
    compare_layout(lambda l, x: prep(l, x).clone(), arr)
    compare_layout(lambda l, x: prep(l, x).contiguous(), arr)


# ---------------------------------------------------------------------------
# cat / concat / concatenate / stack


CAT_CASES = {
    "dim1": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), r(2, 4, seed=1)]),
    "dim_neg": (lambda l, a, b: l.cat((a, b), -1), [r(2, 3), r(2, 4, seed=1)]),
    "dim0_default": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(1, 3, seed=1)]),
    "single": (lambda l, a: l.cat([a]), [r(2, 3)]),
    "three": (lambda l, a, b, c: l.cat([a, b, c], 1), [r(2, 1, 2), r(2, 3, 2, seed=1), r(2, 2, 2, seed=2)]),
    "same_twice": (lambda l, a: l.cat([a, a * 2], 0), [r(2, 3)]),
    "1d": (lambda l, a, b: l.cat([a, b]), [r(3), r(2, seed=1)]),
    "promote_f64": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(2, 3, seed=1).astype(np.float64)]),
    "promote_int": (lambda l, a, b: l.cat([a, b]), [r(2, 3), ints(2, 3)]),
    "promote_int_first": (lambda l, a, b: l.cat([b, a], 1), [r(2, 3), ints(2, 3)]),
    "int_bool": (lambda l, a, b: l.cat([a, b]), [ints(2, 3), bools(1, 3)]),
    "bool": (lambda l, a, b: l.cat([a, b], 1), [bools(2, 3), bools(2, 1)]),
    "legacy_empty": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(0)]),
    "legacy_empty_first": (lambda l, a, b: l.cat([b, a], 1), [r(2, 3), empty(0)]),
    "legacy_empty_promotes": (lambda l, a, b: l.cat([a, b]), [r(2, 3), np.zeros(0, np.float64)]),
    "legacy_empty_float_int": (lambda l, a, b: l.cat([a, b]), [ints(2, 3), empty(0)]),
    "all_legacy_empty": (lambda l, a, b: l.cat([a, b], 3), [empty(0), empty(0)]),
    "empty_dim": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), empty(2, 0)]),
    "empty_rows": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(0, 3)]),
    "all_empty": (lambda l, a, b: l.cat([a, b], 1), [empty(0, 2), empty(0, 3)]),
    "transposed": (lambda l, a, b: l.cat([a.t(), b.t()], 1), [r(2, 3), r(2, 3, seed=1)]),
    "expanded": (lambda l, a, b: l.cat([a.expand(3, 2), b], 0), [r(1, 2), r(2, 2, seed=1)]),
    "channels_last": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                      [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "channels_last_dim0": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)]),
                           [r(2, 4, 5, 3), r(1, 4, 5, 3, seed=1)]),
    "channels_last_c1": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                         [r(2, 4, 5, 1), r(2, 4, 5, 1, seed=1)]),
    "channels_last_mixed": (lambda l, a, b: l.cat([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2).contiguous()], 1),
                            [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "channels_last_legacy_empty": (lambda l, a, b: l.cat([b, a.permute(0, 3, 1, 2)], 1),
                                   [r(2, 4, 5, 3), empty(0)]),
    "channels_last_3d": (lambda l, a, b: l.cat([a.permute(0, 4, 1, 2, 3), b.permute(0, 4, 1, 2, 3)], 1),
                         [r(2, 3, 2, 2, 3), r(2, 3, 2, 2, 3, seed=1)]),
    "concat": (lambda l, a, b: l.concat([a, b], 1), [r(2, 3), r(2, 4, seed=1)]),
    "concatenate_axis": (lambda l, a, b: l.concatenate([a, b], axis=1), [r(2, 3), r(2, 4, seed=1)]),
    "cat_axis": (lambda l, a, b: l.cat([a, b], axis=1), [r(2, 3), r(2, 4, seed=1)]),
    "cat_kw_tensors": (lambda l, a, b: l.cat(tensors=[a, b], dim=-2), [r(2, 3), r(2, 3, seed=1)]),
    "stack": (lambda l, a, b: l.stack([a, b]), [r(2, 3), r(2, 3, seed=1)]),
    "stack_mid": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(2, 3, seed=1)]),
    "stack_end": (lambda l, a, b: l.stack((a, b), 2), [r(2, 3), r(2, 3, seed=1)]),
    "stack_neg": (lambda l, a, b: l.stack([a, b], -1), [r(2, 3), r(2, 3, seed=1)]),
    "stack_single": (lambda l, a: l.stack([a], 0), [r(2, 3)]),
    "stack_0d": (lambda l, a, b: l.stack([a, b]), [r(), r(seed=1)]),
    "stack_1d": (lambda l, a, b, c: l.stack([a, b, c], 1), [r(3), r(3, seed=1), r(3, seed=2)]),
    "stack_promote": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(2, 3, seed=1).astype(np.float64)]),
    "stack_int": (lambda l, a, b: l.stack([b, a]), [r(2, 3), ints(2, 3)]),
    "stack_empty": (lambda l, a, b: l.stack([a, b]), [empty(2, 0), empty(2, 0)]),
    "stack_empty_mid": (lambda l, a, b: l.stack([a, b], 1), [empty(0, 2), empty(0, 2)]),
    "stack_transposed": (lambda l, a, b: l.stack([a.t(), b.t()]), [r(2, 3), r(2, 3, seed=1)]),
    "stack_channels_last_0": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)]),
                              [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "stack_channels_last_1": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 1),
                              [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
    "stack_channels_last_end": (lambda l, a, b: l.stack([a.permute(0, 3, 1, 2), b.permute(0, 3, 1, 2)], 4),
                                [r(2, 4, 5, 3), r(2, 4, 5, 3, seed=1)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CAT_CASES))
def test_cat_stack_match_torch(name):
    fn, arrays = CAT_CASES[name]
    compare_all(fn, *arrays)


@requires_torch
@pytest.mark.parametrize("name", ["dim1", "promote_int", "stack_mid", "legacy_empty"])
def test_cat_stack_partial_requires_grad(name):
    fn, arrays = CAT_CASES[name]
    compare_all(fn, *arrays, requires_grad=False)

    def only_first(lib, *xs):
        xs[0].requires_grad_(xs[0].dtype.is_floating_point)
        return fn(lib, *xs)
    compare_layout(only_first, *arrays, requires_grad=False)


@pytest.mark.parametrize("name", sorted(n for n, (f, arrays) in CAT_CASES.items()
                                        if all(a.dtype.kind == "f" and a.size > 0 for a in arrays)))
def test_cat_stack_gradcheck(name):
    fn, arrays = CAT_CASES[name]
    check_gradients(fn, *arrays)


CAT_ERRORS = {
    "sizes": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(2, 4)]),
    "sizes_dim1": (lambda l, a, b: l.cat([a, b], 1), [r(2, 3), r(3, 0)]),
    "sizes_empty_2d": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(2, 0)]),
    "ndim": (lambda l, a, b: l.cat([a, b]), [r(2, 3), r(3)]),
    "ndim_empty": (lambda l, a, b: l.cat([a, b]), [r(2, 3), empty(2, 1, 0)]),
    "zero_dim": (lambda l, a, b: l.cat([a, b]), [r(2), r()]),
    "zero_dim_first": (lambda l, a, b: l.cat([b, a]), [r(2), r()]),
    "dim_range": (lambda l, a, b: l.cat([a, b], 2), [r(2, 3), r(2, 3)]),
    "dim_range_neg": (lambda l, a, b: l.cat([a, b], -3), [r(2, 3), r(2, 3)]),
    "dim_range_after_legacy": (lambda l, a, b: l.cat([b, a], 5), [r(2, 3), empty(0)]),
    "empty_list": (lambda l, a: l.cat([]), [r(2)]),
    "not_a_list": (lambda l, a: l.cat(a), [r(2)]),
    "generator": (lambda l, a: l.cat(x for x in [a]), [r(2)]),
    "element": (lambda l, a: l.cat([a, 1]), [r(2)]),
    "element_none": (lambda l, a: l.cat([a, None]), [r(2)]),
    "dim_float": (lambda l, a: l.cat([a, a], 1.0), [r(2)]),
    "dim_bool": (lambda l, a: l.cat([a, a], True), [r(2)]),
    "dim_and_axis": (lambda l, a: l.cat([a], 0, axis=0), [r(2)]),
    "stack_empty": (lambda l, a: l.stack([]), [r(2)]),
    "stack_shapes": (lambda l, a, b: l.stack([a, b]), [r(2, 3), r(3, 2)]),
    "stack_ndim": (lambda l, a, b: l.stack([a, b], 1), [r(2, 3), r(3)]),
    "stack_dim": (lambda l, a, b: l.stack([a, b], 3), [r(2, 3), r(2, 3)]),
    "stack_dim_neg": (lambda l, a, b: l.stack([a, b], -4), [r(2, 3), r(2, 3)]),
    "stack_not_a_list": (lambda l, a: l.stack(a), [r(2)]),
    "stack_element": (lambda l, a: l.stack([a, 1]), [r(2)]),
    "stack_dim_float": (lambda l, a: l.stack([a, a], 1.0), [r(2)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(CAT_ERRORS))
def test_cat_stack_errors(name):
    fn, arrays = CAT_ERRORS[name]
    compare_error(fn, *arrays)


@st.composite
def cat_inputs(draw):
    ndim = draw(st.integers(1, 3))
    base = draw(st.lists(st.integers(0, 3), min_size=ndim, max_size=ndim))
    dim = draw(st.integers(-ndim, ndim - 1))
    n = draw(st.integers(1, 4))
    shapes = []
    for _ in range(n):
        s = list(base)
        s[dim] = draw(st.integers(0, 3))
        shapes.append(tuple(s))
    transpose = draw(st.booleans()) and ndim >= 2
    return shapes, dim, transpose


@requires_torch
@HYPO
@given(cat_inputs())
def test_cat_hypothesis(inp):
    shapes, dim, transpose = inp
    arrays = [rand(*s, seed=i) for i, s in enumerate(shapes)]

    def fn(lib, *xs):
        if transpose:   # non-contiguous inputs of the same logical shapes
            xs = [x.mT.contiguous().mT for x in xs]
        return lib.cat(list(xs), dim)
    compare_all(fn, *arrays)


@requires_torch
@HYPO
@given(st.lists(st.integers(0, 3), min_size=0, max_size=3), st.integers(1, 3), st.data())
def test_stack_hypothesis(shape, n, data):
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)))
    arrays = [rand(*shape, seed=i) for i in range(n)]
    compare_all(lambda lib, *xs: lib.stack(list(xs), dim), *arrays)


# ---------------------------------------------------------------------------
# split / split_with_sizes / chunk / unbind


SPLIT_CASES = {
    "split": (lambda l, x: x.split(2), [r(5, 4)]),
    "split_dim": (lambda l, x: x.split(3, 1), [r(5, 4)]),
    "split_neg_dim": (lambda l, x: x.split(1, -1), [r(5, 4)]),
    "split_exact": (lambda l, x: x.split(5), [r(5, 4)]),
    "split_bigger": (lambda l, x: x.split(7), [r(5, 4)]),
    "split_tensor_size": (lambda l, x: x.split(l.tensor(2)), [r(5, 4)]),
    "split_zero_on_empty": (lambda l, x: x.split(0), [empty(0, 3)]),
    "split_on_empty": (lambda l, x: x.split(2), [empty(0, 3)]),
    "split_noncontig": (lambda l, x: x.t().split(2), [r(5, 4)]),
    "split_sizes": (lambda l, x: x.split([1, 4]), [r(5, 4)]),
    "split_sizes_tuple_dim": (lambda l, x: x.split((2, 2), 1), [r(5, 4)]),
    "split_sizes_zeros": (lambda l, x: x.split([0, 5, 0]), [r(5, 4)]),
    "split_sizes_single": (lambda l, x: x.split([5]), [r(5, 4)]),
    "split_fn": (lambda l, x: l.split(x, 2, dim=1), [r(5, 4)]),
    "split_fn_sizes": (lambda l, x: l.split(x, [2, 3]), [r(5, 4)]),
    "split_with_sizes": (lambda l, x: x.split_with_sizes([3, 1], 1), [r(5, 4)]),
    "split_with_sizes_fn": (lambda l, x: l.split_with_sizes(x, [3, 2]), [r(5, 4)]),
    "split_int": (lambda l, x: x.split(2), [ints(5, 2)]),
    "chunk": (lambda l, x: x.chunk(2), [r(5, 4)]),
    "chunk_3": (lambda l, x: x.chunk(3), [r(5, 4)]),
    "chunk_more_than_size": (lambda l, x: x.chunk(6), [r(5, 4)]),
    "chunk_dim": (lambda l, x: x.chunk(3, 1), [r(5, 4)]),
    "chunk_uneven": (lambda l, x: x.chunk(4), [r(10)]),
    "chunk_uneven_13_6": (lambda l, x: x.chunk(6), [r(13)]),
    "chunk_empty_dim": (lambda l, x: x.chunk(3), [empty(0, 3)]),
    "chunk_empty_other_dim": (lambda l, x: x.chunk(2, 1), [empty(0, 3)]),
    "chunk_fn": (lambda l, x: l.chunk(x, 4, 1), [r(5, 4)]),
    "unbind": (lambda l, x: x.unbind(), [r(3, 4)]),
    "unbind_neg": (lambda l, x: x.unbind(-1), [r(3, 4)]),
    "unbind_3d": (lambda l, x: x.unbind(1), [r(2, 3, 4)]),
    "unbind_empty_dim": (lambda l, x: x.unbind(), [empty(0, 3)]),
    "unbind_empty_other": (lambda l, x: x.unbind(), [empty(3, 0)]),
    "unbind_fn": (lambda l, x: l.unbind(x, 1), [r(5, 4)]),
    "unbind_1d": (lambda l, x: x.unbind(), [r(3)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SPLIT_CASES))
def test_split_family_matches_torch(name):
    fn, arrays = SPLIT_CASES[name]
    compare_all(fn, *arrays)


@pytest.mark.parametrize("name", sorted(n for n, (f, arrays) in SPLIT_CASES.items()
                                        if all(a.dtype.kind == "f" and a.size > 0 for a in arrays)))
def test_split_family_gradcheck(name):
    fn, arrays = SPLIT_CASES[name]
    check_gradients(fn, *arrays)


@pytest.mark.parametrize("name, use", [("split", [1]), ("split", [0, 2]), ("split_sizes", [1]),
                                       ("chunk_3", [2]), ("unbind_3d", [0, 2]), ("split_exact", [0])])
def test_split_family_unused_outputs(name, use):
    """Outputs that get no gradient count as zeros in the joined gradient."""
    fn, arrays = SPLIT_CASES[name]

    def partial(lib, x):
        outs = fn(lib, x)
        return tuple(outs[i] * (i + 1) for i in use)
    compare_with_torch(partial, *arrays)


@requires_torch
def test_split_outputs_are_views_of_one_node():
    x = cgrad.tensor(r(5, 4), requires_grad=True)
    parts = x.split(2)
    assert len({id(p.grad_fn) for p in parts}) == 1
    assert [p.output_nr for p in parts] == [0, 1, 2]
    assert all(p._base is x for p in parts)
    assert parts[0].grad_fn.next_functions[0][0].variable is x
    with cgrad.no_grad():
        parts[1].fill_(3.0)
    assert (x.detach().numpy()[2:4] == 3).all()


SPLIT_ERRORS = {
    "split_negative": (lambda l, x: x.split(-1), [r(5, 4)]),
    "split_negative_before_dim": (lambda l, x: x.split(-1, 5), [r(5, 4)]),
    "split_zero": (lambda l, x: x.split(0), [r(5, 4)]),
    "split_dim": (lambda l, x: x.split(2, 2), [r(5, 4)]),
    "split_0d": (lambda l, x: x.split(1), [r()]),
    "split_0d_sizes": (lambda l, x: x.split([1]), [r()]),
    "split_sizes_sum": (lambda l, x: x.split([1, 3]), [r(5, 4)]),
    "split_sizes_sum_neg_dim": (lambda l, x: x.split([1, 3], -2), [r(5, 4)]),
    "split_sizes_empty": (lambda l, x: x.split([]), [r(5, 4)]),
    "split_sizes_negative": (lambda l, x: x.split([6, -1]), [r(5, 4)]),
    "split_sizes_dim": (lambda l, x: x.split([1, -1], 5), [r(5, 4)]),
    "split_float": (lambda l, x: x.split(2.0), [r(5, 4)]),
    "split_float_size": (lambda l, x: x.split([2.0, 3]), [r(5, 4)]),
    "split_float_later": (lambda l, x: l.split(x, (1, 1.0)), [r(5, 4)]),
    "split_float_dim": (lambda l, x: x.split(2, 1.0), [r(5, 4)]),
    "split_sizes_float_dim": (lambda l, x: x.split([1, 1], 1.0), [r(5, 4)]),
    "split_none": (lambda l, x: x.split(None), [r(5, 4)]),
    "chunk_zero": (lambda l, x: x.chunk(0), [r(5, 4)]),
    "chunk_negative": (lambda l, x: x.chunk(-1), [r(5, 4)]),
    "chunk_before_dim": (lambda l, x: x.chunk(0, 5), [r(5, 4)]),
    "chunk_dim": (lambda l, x: x.chunk(2, 3), [r(5, 4)]),
    "chunk_0d": (lambda l, x: x.chunk(1), [r()]),
    "chunk_float": (lambda l, x: x.chunk(2.0), [r(5, 4)]),
    "chunk_bool": (lambda l, x: x.chunk(True), [r(5, 4)]),
    "chunk_fn_float": (lambda l, x: l.chunk(x, 2.0), [r(5, 4)]),
    "unbind_dim": (lambda l, x: x.unbind(2), [r(5, 4)]),
    "unbind_0d": (lambda l, x: x.unbind(), [r()]),
    "unbind_0d_neg": (lambda l, x: x.unbind(-1), [r()]),
    "unbind_0d_range": (lambda l, x: x.unbind(1), [r()]),
    "unbind_float": (lambda l, x: x.unbind(1.0), [r(5, 4)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SPLIT_ERRORS))
def test_split_family_errors(name):
    fn, arrays = SPLIT_ERRORS[name]
    compare_error(fn, *arrays)


@st.composite
def split_inputs(draw):
    shape = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    size = shape[dim]
    kind = draw(st.sampled_from(["split", "sizes", "chunk", "unbind"]))
    if kind == "split":
        arg = draw(st.integers(1 if size else 0, 6))
    elif kind == "chunk":
        arg = draw(st.integers(1, 6))
    elif kind == "sizes":
        arg = []
        left = size
        while left > 0:
            k = draw(st.integers(0, left))
            arg.append(k)
            left -= k
        arg.append(0) if draw(st.booleans()) else None
        if sum(arg) != size:
            arg.append(size - sum(arg))
    else:
        arg = None
    return shape, dim, kind, arg


@requires_torch
@HYPO
@given(split_inputs())
def test_split_family_hypothesis(inp):
    shape, dim, kind, arg = inp

    def fn(lib, x):
        if kind == "split":
            return x.split(arg, dim)
        if kind == "sizes":
            return x.split(list(arg), dim)
        if kind == "chunk":
            return x.chunk(arg, dim)
        return x.unbind(dim)
    compare_all(fn, rand(*shape, seed=3))


# ---------------------------------------------------------------------------
# Second order: the backward formulas are differentiable (create_graph)


SECOND_ORDER = {
    "cat": (lambda l, a, b: (l.cat([a, b], 1) ** 2).sum(), [r(2, 3), r(2, 2, seed=1)]),
    "stack": (lambda l, a, b: (l.stack([a, b], 1) ** 2).sum(), [r(2, 3), r(2, 3, seed=1)]),
    "split": (lambda l, a: sum((p ** 2).sum() * (i + 1) for i, p in enumerate(a.split(2))), [r(5, 2)]),
    "split_partial": (lambda l, a: (a.split([1, 4])[1] ** 2).sum(), [r(5, 2)]),
    "chunk": (lambda l, a: (a.chunk(2, 1)[0] ** 3).sum(), [r(2, 5)]),
    "unbind": (lambda l, a: (a.unbind(1)[1] ** 2).sum(), [r(2, 3)]),
    "narrow": (lambda l, a: (a.narrow(1, 1, 2) ** 2).sum(), [r(2, 4)]),
    "expand": (lambda l, a: (a.expand(3, 2, 2) ** 2).sum(), [r(2, 1)]),
    "view_chain": (lambda l, a: (a.t().reshape(-1).unsqueeze(0).squeeze() ** 2).sum(), [r(2, 3)]),
    "squeeze_dims": (lambda l, a: (a.squeeze((0, 2)) ** 2).sum(), [r(1, 3, 1)]),
    "permute": (lambda l, a: (a.permute(1, 0) ** 3).sum(), [r(2, 3)]),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_matches_torch(name):
    fn, arrays = SECOND_ORDER[name]
    results = []
    for lib in (torch, cgrad):
        xs = [lib.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
        grads = lib.autograd.grad(fn(lib, *xs), xs, create_graph=True)
        total = sum((g * (i + 2)).sum() for i, g in enumerate(grads))
        second = lib.autograd.grad(total, xs, allow_unused=True)
        results.append([np.asarray(g.detach().numpy()) if g is not None else None for g in list(grads) + list(second)])
    for t, c in zip(*results):
        if t is None:
            assert c is None or np.allclose(c, 0)
        else:
            np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12)


def second_order_gradcheck(fn, arrays, eps=1e-6):
    """Finite differences of the first-order gradients (weighted by fixed
    random weights) against their gradient through create_graph."""
    weights = [np.random.default_rng(7 + i).standard_normal(a.shape) for i, a in enumerate(arrays)]

    def weighted_first(values, create_graph):
        xs = [cgrad.tensor(v, requires_grad=True) for v in values]
        grads = cgrad.autograd.grad(fn(cgrad, *xs), xs, create_graph=create_graph, allow_unused=True)
        total = sum((g * cgrad.tensor(w)).sum() for g, w in zip(grads, weights) if g is not None)
        return xs, total

    values = [a.astype(np.float64) for a in arrays]
    xs, total = weighted_first(values, True)
    analytical = cgrad.autograd.grad(total, xs, allow_unused=True)
    for i, v in enumerate(values):
        numerical = np.zeros(v.shape)
        for k in range(v.size):
            plus = [x.copy() for x in values]
            minus = [x.copy() for x in values]
            plus[i].reshape(-1)[k] += eps
            minus[i].reshape(-1)[k] -= eps
            numerical.reshape(-1)[k] = (weighted_first(plus, False)[1].item()
                                        - weighted_first(minus, False)[1].item()) / (2 * eps)
        got = np.zeros(v.shape) if analytical[i] is None else analytical[i].detach().numpy()
        np.testing.assert_allclose(got, numerical, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
def test_second_order_gradcheck(name):
    fn, arrays = SECOND_ORDER[name]
    second_order_gradcheck(fn, arrays)


# ---------------------------------------------------------------------------
# Large copies between layouts (the tiled transpose copy)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_large_layout_copies(dtype):
    a = (np.random.default_rng(0).standard_normal((33, 70, 45)) * 10).astype(dtype)
    x = cgrad.tensor(a)
    for perm in [(1, 0, 2), (2, 1, 0), (0, 2, 1), (2, 0, 1), (1, 2, 0)]:
        v = x.permute(*perm)
        ref = np.transpose(a, perm)
        c = v.contiguous()
        assert c.is_contiguous() and c._base is None
        np.testing.assert_array_equal(c.numpy(), ref)
        k = v.clone()
        assert k.stride() == v.stride()
        np.testing.assert_array_equal(k.numpy(), ref)
        np.testing.assert_array_equal(v.reshape(-1).numpy(), ref.reshape(-1))
    e = x.narrow(1, 3, 1).expand(33, 70, 45).transpose(0, 2)
    np.testing.assert_array_equal(e.contiguous().numpy(), np.broadcast_to(a[:, 3:4], a.shape).transpose(2, 1, 0))
    s = x.narrow(2, 1, 40).transpose(1, 2)
    np.testing.assert_array_equal(s.contiguous().numpy(), a[:, :, 1:41].transpose(0, 2, 1))
    np.testing.assert_array_equal(s.clone().numpy(), a[:, :, 1:41].transpose(0, 2, 1))


@requires_torch
@pytest.mark.parametrize("expr", ["x.narrow(2, 1, 40).transpose(1, 2).clone()",
                                  "x.permute(2, 0, 1).narrow(0, 0, 30).clone()",
                                  "x.transpose(0, 2).unsqueeze(1).expand(45, 2, 70, 33).clone()",
                                  "x.permute(1, 2, 0).contiguous()", "x.transpose(0, 1).reshape(70, -1)"])
def test_large_layout_copies_match_torch(expr):
    compare_all(lambda lib, x: eval(expr), rand(33, 70, 45))


@requires_torch
@pytest.mark.parametrize("expr", ["lib.cat([x.transpose(0, 1), y.transpose(0, 1)], 1)",
                                  "lib.cat([x.permute(2, 0, 1), y.permute(2, 0, 1)], 0)",
                                  "lib.stack([x.transpose(1, 2), y.transpose(1, 2)], 1)",
                                  "lib.cat([x.transpose(0, 2), y.transpose(0, 2).double()], 2)"])
def test_large_cat_of_transposed(expr):
    compare_all(lambda lib, x, y: eval(expr), rand(33, 70, 45), rand(33, 70, 45, seed=1))
