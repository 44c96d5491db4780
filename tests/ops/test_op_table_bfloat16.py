"""The op table's rows (unary and binary) in bfloat16 against torch, bit for
bit: every out-of-place form on samples from the row's domain, the result's
dtype and grad_fn name, and the gradient (its dtype and bits). numpy has no
bfloat16, so samples are float32 arrays rounded to bfloat16 by .to() in
both libraries and compared as float32 (which holds every bfloat16). NaN
payloads are not compared (PyTorch's own kernels give 0x7FC0 or 0xFFFF by
path): NaN matches NaN. Without torch, the rows' bfloat16 forwards are
checked against the same op in float32 rounded once (what PyTorch computes
for them, all but the rows with their own bfloat16 forward, BF16_OWN)."""
import numpy as np
import pytest

import cgrad
from cgrad import _C
from helpers import requires_torch, torch
from test_op_table import ARGS, library_call, out_of_place_forms
from test_op_table_binary import call as binary_call, samples as binary_samples

UNARY = _C._OP_TABLE
BINARY = _C._OP_TABLE_BINARY

# Known differences in the last bit: PyTorch's bfloat16 backward of these
# rows rounds at steps cgrad's per-op rendering does not (asinh, acosh,
# sinc, polygamma: a few elements in 15), its log_sigmoid backward kernel
# and its i0e forward (a bfloat16 Chebyshev evaluation) likewise.
KNOWN_LAST_BIT = {"asinh", "acosh", "sinc", "polygamma", "logsigmoid", "i0e"}


# rows whose bfloat16 forward rounds between steps (the table's bf16_fwd column)
BF16_OWN = {"logit", "entr", "xlogy", "xlog1py"}


def unary_params():
    return [pytest.param(row, id=row["name"], marks=pytest.mark.xfail(
        strict=True, reason="bfloat16 rounding steps of PyTorch's kernel not reproduced"))
        if row["name"] in KNOWN_LAST_BIT else pytest.param(row, id=row["name"]) for row in UNARY]


def bf16_values(t):
    """A bfloat16 tensor's values as a float32 numpy array (exact)."""
    return t.detach().float().numpy()


def assert_same_bits(got, want, what):
    np.testing.assert_array_equal(bf16_values(got), bf16_values(want), err_msg=what)


def to_bf16(lib, arr, requires_grad=False):
    t = lib.tensor(np.asarray(arr, dtype=np.float32)).to(lib.bfloat16)
    return t.requires_grad_(requires_grad)


def unary_sample(row, seed=0):
    lo, hi = row["domain"]
    return np.random.default_rng(seed).uniform(lo, hi, size=(3, 5)).astype(np.float32)


@requires_torch
@pytest.mark.parametrize("row", unary_params())
def test_unary_rows_match_torch(row):
    args = ARGS.get(row["name"], ())
    x_np, g_np = unary_sample(row), unary_sample(row, seed=1)
    for form in out_of_place_forms(row):
        xc, xt = to_bf16(cgrad, x_np, True), to_bf16(torch, x_np, True)
        try:
            yt = library_call(torch, row, form, xt, args)
        except NotImplementedError as e:      # no bfloat16 kernel in torch: the same error
            with pytest.raises(NotImplementedError) as err:
                library_call(cgrad, row, form, xc, args)
            assert str(err.value) == str(e)
            continue
        yc = library_call(cgrad, row, form, xc, args)
        assert str(yc.dtype) == "cgrad.bfloat16"
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__, form
        assert_same_bits(yc, yt, f"{row['name']} {form} forward")
        try:
            yt.backward(to_bf16(torch, g_np))
        except NotImplementedError as e:
            with pytest.raises(NotImplementedError) as err:
                yc.backward(to_bf16(cgrad, g_np))
            assert str(err.value) == str(e)
            continue
        yc.backward(to_bf16(cgrad, g_np))
        assert str(xc.grad.dtype) == "cgrad.bfloat16"
        assert_same_bits(xc.grad, xt.grad, f"{row['name']} {form} backward")


@requires_torch
@pytest.mark.parametrize("row", BINARY, ids=[r["name"] for r in BINARY])
def test_binary_rows_match_torch(row):
    a_np, b_np = (v.astype(np.float32) for v in binary_samples(row))
    g_np = np.random.default_rng(3).normal(size=(3, 4)).astype(np.float32)
    for form in [f for f in row["api"] if f in ("fn", "meth")]:
        ac, bc = to_bf16(cgrad, a_np, True), to_bf16(cgrad, b_np, True)
        at, bt = to_bf16(torch, a_np, True), to_bf16(torch, b_np, True)
        yc, yt = binary_call(cgrad, row, form, ac, bc), binary_call(torch, row, form, at, bt)
        assert str(yc.dtype) == "cgrad.bfloat16"
        assert type(yc.grad_fn).__name__ == type(yt.grad_fn).__name__.split("::")[-1]
        assert_same_bits(yc, yt, f"{row['name']} {form}")
        if row["no_grad"]:
            continue
        yc.backward(to_bf16(cgrad, g_np))
        yt.backward(to_bf16(torch, g_np))
        for gc, gt, what in ((ac.grad, at.grad, "input"), (bc.grad, bt.grad, "other")):
            assert (gc is None) == (gt is None), what
            if gt is not None:
                assert str(gc.dtype) == "cgrad.bfloat16"
                assert_same_bits(gc, gt, f"{row['name']} {what} gradient")


@pytest.mark.parametrize("row", [r for r in UNARY if r["name"] not in BF16_OWN],
                         ids=[r["name"] for r in UNARY if r["name"] not in BF16_OWN])
def test_unary_rows_are_float32_rounded_once(row):
    args = ARGS.get(row["name"], ())
    x = to_bf16(cgrad, unary_sample(row))
    for form in out_of_place_forms(row):
        try:
            y = library_call(cgrad, row, form, x, args)
        except NotImplementedError as e:       # no bfloat16 kernel, as PyTorch: its error names bfloat16
            assert "'BFloat16'" in str(e)
            continue
        assert y.dtype == cgrad.bfloat16
        assert_same_bits(y, library_call(cgrad, row, form, x.float(), args).to(cgrad.bfloat16),
                         f"{row['name']} {form}")


@pytest.mark.parametrize("row", [r for r in BINARY if r["name"] not in BF16_OWN],
                         ids=[r["name"] for r in BINARY if r["name"] not in BF16_OWN])
def test_binary_rows_are_float32_rounded_once(row):
    a_np, b_np = (v.astype(np.float32) for v in binary_samples(row))
    a, b = to_bf16(cgrad, a_np), to_bf16(cgrad, b_np)
    y = binary_call(cgrad, row, "fn", a, b)
    assert y.dtype == cgrad.bfloat16
    assert_same_bits(y, binary_call(cgrad, row, "fn", a.float(), b.float()).to(cgrad.bfloat16), row["name"])
