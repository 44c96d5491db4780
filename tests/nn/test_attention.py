"""scaled_dot_product_attention, MultiheadAttention and the Transformer
modules against torch (weights copied from numpy): values, attention
weights, every gradient, masks of both kinds, causal masks, the options of
each module, their errors; float64 gradcheck and gradgradcheck."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as Fc
from helpers import assert_close, requires_torch, torch
from rnn_helpers import backward_both, compare_param_grads, copy_weights

if torch is not None:
    import torch.nn.functional as Ft


def _both(arr, requires_grad=False):
    return cgrad.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)


def _mask_bool(shape, seed, keep_one=True):
    m = np.random.default_rng(seed).random(shape) > 0.4
    if keep_one:
        m[..., 0] = True
    return m


SDPA_CASES = [
    dict(),
    dict(is_causal=True),
    dict(scale=0.3),
    dict(mask="bool"),
    dict(mask="float"),
    dict(mask="bool_dead_row"),
    dict(mask="bool", scale=2.0),
    dict(gqa=True),
    dict(is_causal=True, mask="bool"),
]


@requires_torch
@pytest.mark.parametrize("case", SDPA_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sdpa_matches_torch(case, dtype):
    rng = np.random.default_rng(0)
    kv_heads = 1 if case.get("gqa") else 3
    q = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    k = rng.standard_normal((2, kv_heads, 6, 4)).astype(dtype)
    v = rng.standard_normal((2, kv_heads, 6, 4)).astype(dtype)
    ins_c = [cgrad.tensor(a, requires_grad=True) for a in (q, k, v)]
    ins_t = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    kw_c, kw_t = {}, {}
    mask = case.get("mask")
    if mask is not None:
        m = _mask_bool((5, 6), 1, keep_one=mask != "bool_dead_row")
        if mask == "bool_dead_row":
            m[2] = False
        if mask == "float":
            m = np.where(m, rng.standard_normal((5, 6)), -np.inf).astype(dtype)
        kw_c["attn_mask"], kw_t["attn_mask"] = cgrad.tensor(m), torch.tensor(m)
    for key in ("is_causal", "scale"):
        if key in case:
            kw_c[key] = kw_t[key] = case[key]
    if case.get("gqa"):
        kw_c["enable_gqa"] = kw_t["enable_gqa"] = True
    out_c = Fc.scaled_dot_product_attention(*ins_c, **kw_c)
    out_t = Ft.scaled_dot_product_attention(*ins_t, **kw_t)
    # float32: PyTorch's flash kernel sums in blocks, so a gradient that is a
    # difference of products can differ by a few 1e-6 absolute
    rtol, atol = (1e-5, 1e-5) if dtype == "float32" else (1e-10, 1e-12)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), rtol, atol, "sdpa")
    backward_both([out_c], [out_t])
    for k_, (c, t) in enumerate(zip(ins_c, ins_t)):
        assert_close(c.grad.numpy(), t.grad.numpy(), rtol, atol, f"grad {k_}")


@requires_torch
def test_sdpa_dropout_and_errors():
    q = cgrad.ones(2, 4, 8)
    out = Fc.scaled_dot_product_attention(q, cgrad.ones(2, 8, 8), cgrad.ones(2, 8, 3), dropout_p=0.5)
    vals = out.numpy()
    assert vals.shape == (2, 4, 3) and np.isclose(vals.mean(), 1.0, atol=0.5) and vals.std() > 0
    assert np.allclose(Fc.scaled_dot_product_attention(q, q, q, dropout_p=0.0).numpy(), 1.0)
    with pytest.raises(RuntimeError) as ec:
        Fc.scaled_dot_product_attention(cgrad.ones(1, 5, 8), cgrad.ones(1, 6, 4), cgrad.ones(1, 6, 8))
    with pytest.raises(RuntimeError) as et:
        Ft.scaled_dot_product_attention(torch.ones(1, 5, 8), torch.ones(1, 6, 4), torch.ones(1, 6, 8))
    assert str(ec.value) == str(et.value)
    mask = np.ones((5, 5), bool)
    with pytest.raises(RuntimeError) as ec:
        Fc.scaled_dot_product_attention(*[cgrad.ones(1, 5, 8)] * 3, attn_mask=cgrad.tensor(mask), is_causal=True)
    with pytest.raises(RuntimeError) as et:
        Ft.scaled_dot_product_attention(*[torch.ones(1, 5, 8)] * 3, attn_mask=torch.tensor(mask), is_causal=True)
    assert str(ec.value) == str(et.value)


# ATen's validate_sdpa_input and the mask shapes its kernels refuse (flash reads the mask's size(-2);
# the math path adds the mask into the scores in place)
SDPA_INPUT_CASES = [
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q.double(), q, q),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q.half(), q),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q.bfloat16()),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.zeros(3, 3, dtype=lib.int64)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.zeros(3, 3, dtype=lib.float64)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q.double(), q.double(), q.double(),
                                                                  attn_mask=lib.zeros(3, 3, dtype=lib.uint8)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q[0, 0, 0], q[0, 0, 0], q[0, 0, 0]),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q[0, 0, 0], q),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.zeros(3)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.tensor(0.0)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q[0, 0], q[0, 0], q[0, 0], attn_mask=lib.zeros(2, 3, 3)),
    lambda lib, q: lib.nn.functional.scaled_dot_product_attention(q[0], q[0], q[0], attn_mask=lib.zeros(5, 2, 3, 3)),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(SDPA_INPUT_CASES)))
def test_sdpa_input_checks_match_torch(case):
    q = np.random.RandomState(0).normal(size=(2, 2, 3, 4)).astype(np.float32)
    outcomes = []
    for lib in (cgrad, torch):
        with pytest.raises(Exception) as info:
            SDPA_INPUT_CASES[case](lib, lib.tensor(q))
        outcomes.append((type(info.value), str(info.value)))
    assert outcomes[0] == outcomes[1]


@requires_torch
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_sdpa_float32_mask_beside_other_query_dtypes(dtype):
    rng = np.random.RandomState(1)
    q = rng.normal(size=(2, 2, 3, 4)).astype(np.float32)
    mask = rng.normal(size=(3, 3)).astype(np.float32)
    outs = []
    for lib in (cgrad, torch):
        t = lib.tensor(q).to(getattr(lib, dtype))
        out = lib.nn.functional.scaled_dot_product_attention(t, t, t, attn_mask=lib.tensor(mask))
        assert str(out.dtype).endswith(dtype)
        outs.append(out.float().numpy())
    assert_close(outs[0], outs[1], 2e-2 if dtype != "float64" else 1e-6, 2e-2 if dtype != "float64" else 1e-6, dtype)


def test_sdpa_float32_mask_with_float64_queries_gradcheck():
    rng = np.random.RandomState(2)
    q, k, v = (cgrad.tensor(rng.normal(size=(1, 2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = cgrad.tensor(rng.normal(size=(3, 3)).astype(np.float32))
    assert cgrad.autograd.gradcheck(lambda a, b, c: Fc.scaled_dot_product_attention(a, b, c, attn_mask=mask), (q, k, v))


@requires_torch
@pytest.mark.parametrize("shape", [(1, 2, 3, 0), (2, 3, 0)])
@pytest.mark.parametrize("kw", [dict(), dict(is_causal=True), dict(scale=0.5)])
def test_sdpa_with_an_empty_head_dimension_like_torch(shape, kw):
    """No ZeroDivisionError: ATen's scale is 1 / sqrt(0) = inf, its scores over
    no features are zeros, so the weights are uniform (causal: per row)."""
    v = np.arange(np.prod(shape[:-1]) * 4, dtype=np.float32).reshape(shape[:-1] + (4,))
    results = []
    for lib in (cgrad, torch):
        q = lib.zeros(*shape, requires_grad=True)
        value = lib.tensor(v, requires_grad=True)
        out = lib.nn.functional.scaled_dot_product_attention(q, lib.zeros(*shape), value, **kw)
        out.sum().backward()
        results.append((out.detach().numpy(), out.grad_fn.name(), value.grad.numpy(), tuple(q.grad.shape)))
    (oc, nc, gc, qc), (ot, nt, gt, qt) = results
    assert_close(oc, ot, 1e-6, 1e-6, "output")
    assert_close(gc, gt, 1e-6, 1e-6, "value grad")
    assert (nc, qc) == (nt, qt)


def test_sdpa_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(0)
    q, k, v = (cgrad.tensor(rng.standard_normal(s), requires_grad=True) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 3)))
    mask = cgrad.tensor(_mask_bool((3, 5), 2))

    def fn(q, k, v):
        return Fc.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert cgrad.autograd.gradcheck(fn, [q, k, v])
    assert cgrad.autograd.gradgradcheck(fn, [q, k, v])
    causal = lambda q, k, v: Fc.scaled_dot_product_attention(q, k, v, is_causal=True)  # noqa: E731
    assert cgrad.autograd.gradcheck(causal, [q, k, v])


MHA_CASES = [
    dict(),
    dict(batch_first=True),
    dict(kdim=3, vdim=5),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True),
    dict(bias=False),
    dict(add_bias_kv=True, add_zero_attn=True, batch_first=True),
]


@requires_torch
@pytest.mark.parametrize("kw", MHA_CASES)
@pytest.mark.parametrize("call", [dict(), dict(need_weights=False), dict(average_attn_weights=False),
                                  dict(key_padding_mask=True), dict(attn_mask="bool"), dict(attn_mask="float3d"),
                                  dict(key_padding_mask=True, attn_mask="bool", need_weights=False)])
def test_multihead_attention_matches_torch(kw, call):
    mod_c = cgrad.nn.MultiheadAttention(8, 2, **kw)
    mod_t = torch.nn.MultiheadAttention(8, 2, **kw)
    copy_weights(mod_c, mod_t)
    rng = np.random.default_rng(3)
    L, S, N = 4, 5, 2
    bf = kw.get("batch_first", False)
    shape = lambda n, e: (N, n, e) if bf else (n, N, e)  # noqa: E731
    q = rng.standard_normal(shape(L, 8)).astype(np.float32)
    k = rng.standard_normal(shape(S, kw.get("kdim", 8))).astype(np.float32)
    v = rng.standard_normal(shape(S, kw.get("vdim", 8))).astype(np.float32)
    ins = [_both(a, True) for a in (q, k, v)]
    kw_c, kw_t = {}, {}
    extra = (1 if kw.get("add_bias_kv") else 0) + (1 if kw.get("add_zero_attn") else 0)
    if call.get("key_padding_mask"):
        m = ~_mask_bool((N, S), 4)
        kw_c["key_padding_mask"], kw_t["key_padding_mask"] = _both(m)
    if call.get("attn_mask") == "bool":
        m = ~_mask_bool((L, S), 5)
        kw_c["attn_mask"], kw_t["attn_mask"] = _both(m)
    if call.get("attn_mask") == "float3d":
        m = rng.standard_normal((N * 2, L, S)).astype(np.float32)
        kw_c["attn_mask"], kw_t["attn_mask"] = _both(m)
    for key in ("need_weights", "average_attn_weights"):
        if key in call:
            kw_c[key] = kw_t[key] = call[key]
    out_c, w_c = mod_c(*[p[0] for p in ins], **kw_c)
    out_t, w_t = mod_t(*[p[1] for p in ins], **kw_t)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 1e-5, 1e-5, "mha output")
    assert (w_c is None) == (w_t is None)
    outs_c, outs_t = [out_c], [out_t]
    if w_t is not None:
        assert_close(w_c.detach().numpy(), w_t.detach().numpy(), 1e-5, 1e-6, "mha weights")
        assert tuple(w_c.shape) == tuple(w_t.shape)
        assert w_t.shape[-1] == S + extra
        outs_c.append(w_c)
        outs_t.append(w_t)
    backward_both(outs_c, outs_t)
    for j, (c, t) in enumerate(ins):
        assert_close(c.grad.numpy(), t.grad.numpy(), 1e-4, 1e-5, f"input {j} grad")
    compare_param_grads(mod_c, mod_t, 1e-4, 1e-5)


@requires_torch
def test_multihead_attention_unbatched_and_self():
    mod_c = cgrad.nn.MultiheadAttention(6, 3)
    mod_t = torch.nn.MultiheadAttention(6, 3)
    copy_weights(mod_c, mod_t)
    x = np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32)
    xc, xt = _both(x)
    out_c, w_c = mod_c(xc, xc, xc)
    out_t, w_t = mod_t(xt, xt, xt)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 1e-5, 1e-6, "unbatched")
    assert_close(w_c.detach().numpy(), w_t.detach().numpy(), 1e-5, 1e-6, "unbatched weights")
    assert [n for n, _ in mod_c.named_parameters()] == [n for n, _ in mod_t.named_parameters()]


@requires_torch
def test_multihead_attention_errors():
    for make in (lambda nn: nn.MultiheadAttention(0, 2), lambda nn: nn.MultiheadAttention(8, 3)):
        with pytest.raises(Exception) as et:
            make(torch.nn)
        with pytest.raises(type(et.value)) as ec:
            make(cgrad.nn)
        assert str(ec.value) == str(et.value)
    mod_c = cgrad.nn.MultiheadAttention(8, 2)
    mod_t = torch.nn.MultiheadAttention(8, 2)
    bad = [((4, 2, 8), (5, 2, 8), (5, 2, 8), dict(attn_mask=(3, 5))),
           ((4, 2, 8), (5, 2, 8), (5, 2, 8), dict(key_padding_mask=(3, 5))),
           ((4, 2, 8), (5, 8), (5, 8), {}),
           ((4, 2, 8), (5, 2, 8), (6, 2, 8), {})]
    for qs, ks, vs, masks in bad:
        kw_c = {k: cgrad.zeros(*s, dtype=cgrad.bool) for k, s in masks.items()}
        kw_t = {k: torch.zeros(*s, dtype=torch.bool) for k, s in masks.items()}
        with pytest.raises(Exception) as et:
            mod_t(torch.zeros(*qs), torch.zeros(*ks), torch.zeros(*vs), **kw_t)
        with pytest.raises(type(et.value)) as ec:
            mod_c(cgrad.zeros(*qs), cgrad.zeros(*ks), cgrad.zeros(*vs), **kw_c)
        assert str(ec.value).replace("cgrad.", "torch.") == str(et.value)


def test_multihead_attention_gradcheck():
    mod = cgrad.nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    rng = np.random.default_rng(1)
    q, k, v = (cgrad.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3, 2, 4), (2, 2, 3), (2, 2, 2)))
    assert cgrad.autograd.gradcheck(lambda q, k, v: mod(q, k, v), [q, k, v])
    assert cgrad.autograd.gradgradcheck(lambda q, k, v: mod(q, k, v, need_weights=False)[0], [q, k, v])


# --- transformer modules ------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("padding", ["left_aligned", "a_padded_row", "not_left_aligned", "float_mask"])
@pytest.mark.parametrize("final_norm", [False, True])
@pytest.mark.parametrize("grad", [False, True])
def test_encoder_inference_on_padded_batches_like_torch(padding, final_norm, grad):
    """PyTorch's encoder in eval mode without grad runs a left-aligned padded
    batch as nested tensors: each sequence over its own tokens, zeros at the
    padded positions (then the final norm); otherwise the masked computation."""
    layer_c = cgrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    copy_weights(layer_c, layer_t)
    enc_c = cgrad.nn.TransformerEncoder(layer_c, 2, norm=cgrad.nn.LayerNorm(8) if final_norm else None).eval()
    enc_t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8) if final_norm else None).eval()
    if final_norm:
        copy_weights(enc_c.norm, enc_t.norm, seed=3)
    m = np.zeros((3, 5), bool)
    m[1, 3:] = True
    if padding == "a_padded_row":
        m[2, :] = True
    elif padding == "not_left_aligned":
        m[2, 0] = True
    x = np.random.default_rng(0).standard_normal((3, 5, 8)).astype(np.float32)
    mask_c, mask_t = _both(m)
    if padding == "float_mask":
        mask_c, mask_t = _both(m.astype(np.float32) * 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # torch's nested tensors are a prototype
        outs = []
        for lib, enc, mask in ((cgrad, enc_c, mask_c), (torch, enc_t, mask_t)):
            with lib.set_grad_enabled(grad):
                outs.append(enc(lib.tensor(x), src_key_padding_mask=mask).detach().numpy())
    assert_close(outs[0], outs[1], 1e-5, 1e-5, "encoder output")


@requires_torch
@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True), dict(activation="gelu", batch_first=True),
                                dict(activation=lambda x: x.tanh(), layer_norm_eps=1e-3), dict(bias=False)])
@pytest.mark.parametrize("masks", ["none", "causal", "padding", "both"])
def test_encoder_layer_and_encoder(kw, masks):
    layer_c = cgrad.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
    layer_t = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)
    copy_weights(layer_c, layer_t)
    rng = np.random.default_rng(0)
    bf = kw.get("batch_first", False)
    x = rng.standard_normal((2, 5, 8) if bf else (5, 2, 8)).astype(np.float32)
    kw_c, kw_t = {}, {}
    if masks in ("causal", "both"):
        kw_c["src_mask"] = cgrad.nn.Transformer.generate_square_subsequent_mask(5)
        kw_t["src_mask"] = torch.nn.Transformer.generate_square_subsequent_mask(5)
    if masks in ("padding", "both"):
        m = np.zeros((2, 5), bool)
        m[1, 3:] = True
        kw_c["src_key_padding_mask"], kw_t["src_key_padding_mask"] = _both(m)
    xc, xt = _both(x, True)
    out_c, out_t = layer_c(xc, **kw_c), layer_t(xt, **kw_t)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 1e-5, 1e-5, "encoder layer")
    backward_both([out_c], [out_t])
    assert_close(xc.grad.numpy(), xt.grad.numpy(), 1e-4, 1e-5, "input grad")
    compare_param_grads(layer_c, layer_t, 1e-4, 1e-5)
    # the stack (clones of the layer) with a final norm; the layers' grads are
    # cleared first because cgrad's Parameter deepcopy keeps .grad (torch's does not)
    for p in list(layer_c.parameters()) + list(layer_t.parameters()):
        p.grad = None
    enc_c = cgrad.nn.TransformerEncoder(layer_c, 2, norm=cgrad.nn.LayerNorm(8), enable_nested_tensor=False)
    enc_t = torch.nn.TransformerEncoder(layer_t, 2, norm=torch.nn.LayerNorm(8), enable_nested_tensor=False)
    copy_weights(enc_c, enc_t, seed=1)
    if "src_mask" in kw_c:
        kw_c["mask"], kw_t["mask"] = kw_c.pop("src_mask"), kw_t.pop("src_mask")
    xc, xt = _both(x, True)
    out_c, out_t = enc_c(xc, **kw_c), enc_t(xt, **kw_t)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 1e-5, 1e-5, "encoder")
    backward_both([out_c], [out_t])
    compare_param_grads(enc_c, enc_t, 1e-4, 1e-5)


@requires_torch
@pytest.mark.parametrize("kw", [dict(), dict(norm_first=True, activation="gelu"), dict(batch_first=True)])
def test_decoder_and_transformer(kw):
    model_c = cgrad.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kw)
    model_t = torch.nn.Transformer(8, 2, 2, 2, 16, dropout=0.0, **kw)
    copy_weights(model_c, model_t)
    rng = np.random.default_rng(2)
    bf = kw.get("batch_first", False)
    src = rng.standard_normal((2, 5, 8) if bf else (5, 2, 8)).astype(np.float32)
    tgt = rng.standard_normal((2, 4, 8) if bf else (4, 2, 8)).astype(np.float32)
    pad = np.zeros((2, 5), bool)
    pad[0, 4] = True
    sc, st = _both(src, True)
    tc, tt = _both(tgt, True)
    out_c = model_c(sc, tc, tgt_mask=cgrad.nn.Transformer.generate_square_subsequent_mask(4),
                    src_key_padding_mask=cgrad.tensor(pad), memory_key_padding_mask=cgrad.tensor(pad))
    out_t = model_t(st, tt, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(4),
                    src_key_padding_mask=torch.tensor(pad), memory_key_padding_mask=torch.tensor(pad))
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 1e-4, 1e-5, "transformer")
    backward_both([out_c], [out_t])
    assert_close(sc.grad.numpy(), st.grad.numpy(), 1e-4, 1e-5, "src grad")
    assert_close(tc.grad.numpy(), tt.grad.numpy(), 1e-4, 1e-5, "tgt grad")
    compare_param_grads(model_c, model_t, 1e-4, 1e-5)


@requires_torch
def test_transformer_structure_masks_and_errors():
    model_c = cgrad.nn.Transformer(8, 2, 1, 1, 16)
    model_t = torch.nn.Transformer(8, 2, 1, 1, 16)
    assert [(n, tuple(p.shape)) for n, p in model_c.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in model_t.named_parameters()]
    m_c = cgrad.nn.Transformer.generate_square_subsequent_mask(4)
    m_t = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert np.array_equal(m_c.numpy(), m_t.numpy()) and m_c.dtype == cgrad.float32
    for make in (lambda nn: nn.TransformerEncoderLayer(8, 2, activation="tanh"),):
        with pytest.raises(RuntimeError) as et:
            make(torch.nn)
        with pytest.raises(RuntimeError) as ec:
            make(cgrad.nn)
        assert str(ec.value) == str(et.value)
    for src, tgt in (((5, 2, 8), (4, 3, 8)), ((5, 2, 8), (4, 2, 6))):
        with pytest.raises(RuntimeError) as et:
            model_t(torch.zeros(*src), torch.zeros(*tgt))
        with pytest.raises(RuntimeError) as ec:
            model_c(cgrad.zeros(*src), cgrad.zeros(*tgt))
        assert str(ec.value) == str(et.value)
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False"):
        cgrad.nn.TransformerEncoder(cgrad.nn.TransformerEncoderLayer(8, 2, 16), 1)


def test_flash_node_with_a_mask_runs_backward_twice_under_retain_graph():
    """Its backward differentiated a private softmax node without retaining it: the second backward of a
    retained graph (gradcheck's rows, a second loss) raised 'Trying to backward through the graph a second time'."""
    rng = np.random.RandomState(3)
    q, k, v = (cgrad.tensor(rng.normal(size=(1, 2, 3, 4)), requires_grad=True) for _ in range(3))
    out = Fc.scaled_dot_product_attention(q, k, v, attn_mask=cgrad.tensor(rng.normal(size=(3, 3))))
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    first = cgrad.autograd.grad(out, (q, k, v), cgrad.ones_like(out), retain_graph=True)
    second = cgrad.autograd.grad(out, (q, k, v), cgrad.ones_like(out))
    for a, b in zip(first, second):
        assert np.array_equal(a.numpy(), b.numpy())
