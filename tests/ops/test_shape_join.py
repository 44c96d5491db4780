"""Shape and view ops against torch: values, dtypes, shapes, grad_fn names
and gradients (compare_with_torch), the layout of every result (strides,
storage offset, is_contiguous, _base, output_nr: views must share memory
exactly where torch's do), exception types and texts, float64 gradient
checks and hypothesis-drawn shapes and layouts. Joining and splitting ops
are in test_join_split.py."""
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cgrad
from helpers import check_gradients, rand, requires_torch, torch
from shape_machinery import HYPO, compare_all, compare_error, compare_layout, empty, ints, make_tensor, r, run_error


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
