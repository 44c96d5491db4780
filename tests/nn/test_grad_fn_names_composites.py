"""grad_fn names of composite nn functions and layers against torch:
RNN/GRU/LSTM outputs and states (including batch_first, bidirectional,
unbatched, projections), scaled_dot_product_attention on and off
PyTorch's CPU flash path, MultiheadAttention, Transformer layers, bilinear."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def tops(t):
    fn = t.grad_fn
    return None if fn is None else fn.name()


def build(lib, kind, **kw):
    lib.manual_seed(0)
    return getattr(lib.nn, kind)(4, 6, **kw)


RNN_CONFIGS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("GRU", {}), ("LSTM", {}),
               ("RNN", {"batch_first": True}), ("GRU", {"batch_first": True}), ("LSTM", {"batch_first": True}),
               ("RNN", {"num_layers": 2}), ("GRU", {"num_layers": 2, "bidirectional": True}),
               ("LSTM", {"proj_size": 3}), ("LSTM", {"proj_size": 3, "batch_first": True}), ("GRU", {"bias": False})]


@requires_torch
@pytest.mark.parametrize("kind,kw", RNN_CONFIGS)
@pytest.mark.parametrize("batched", [True, False])
def test_rnn_output_and_state_names_match_torch(kind, kw, batched):
    x = np.random.default_rng(0).standard_normal((5, 3, 4) if batched else (5, 4))
    names = []
    for lib in (cgrad, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out, h = build(lib, kind, **kw)(lib.tensor(x, dtype=lib.float32, requires_grad=True))
        states = h if isinstance(h, tuple) else (h,)
        first = out.grad_fn.next_functions[0][0]
        names.append((tops(out), [tops(s) for s in states],
                      first.name() if kw.get("batch_first") or not batched else None))
    assert names[0] == names[1]


@requires_torch
@pytest.mark.parametrize("case", ["plain", "scale", "f64", "3d", "dropout", "gqa", "kv_len", "value_dim",
                                  "bool_mask", "float_mask", "mask_grad", "causal", "broadcast_batch",
                                  "q_last_dim_strided"])
def test_sdpa_names_match_torch(case):
    rng = np.random.default_rng(0)
    q_np = rng.standard_normal((2, 4, 5, 8))
    names = []
    for lib in (cgrad, torch):
        F = lib.nn.functional
        q = lib.tensor(q_np, dtype=lib.float64 if case == "f64" else lib.float32, requires_grad=True)
        k = v = q
        kw = {}
        if case == "scale":
            kw["scale"] = 0.3
        elif case == "3d":
            q = k = v = q[0]
        elif case == "dropout":
            kw["dropout_p"] = 0.5
        elif case == "gqa":
            k = v = q[:, :2]
            kw["enable_gqa"] = True
        elif case == "kv_len":
            k = v = lib.randn(2, 4, 7, 8)
        elif case == "value_dim":
            v = lib.randn(2, 4, 5, 6)
        elif case == "bool_mask":
            kw["attn_mask"] = lib.ones(5, 5, dtype=lib.bool).tril()
        elif case == "float_mask":
            kw["attn_mask"] = lib.zeros(2, 4, 5, 5)
        elif case == "mask_grad":
            kw["attn_mask"] = lib.zeros(5, 5, requires_grad=True)
        elif case == "causal":
            kw["is_causal"] = True
        elif case == "broadcast_batch":
            k = v = lib.randn(1, 4, 5, 8)
        elif case == "q_last_dim_strided":
            q = q.transpose(-1, -2).contiguous().transpose(-1, -2)
        names.append(tops(F.scaled_dot_product_attention(q, k, v, **kw)))
    assert names[0] == names[1]


@requires_torch
def test_attention_layers_and_bilinear_names_match_torch():
    s = np.random.default_rng(0).standard_normal((5, 3, 8)).astype(np.float32)
    names = []
    for lib in (cgrad, torch):
        lib.manual_seed(0)
        x = lib.tensor(s, requires_grad=True)
        mha = lib.nn.MultiheadAttention(8, 2)
        o, w = mha(x, x, x)
        row = [tops(o), tops(w), tops(mha(x, x, x, need_weights=False)[0])]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            row.append(tops(lib.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)(x)))
            row.append(tops(lib.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True)(x, x)))
        a = lib.tensor(s[0, :, :5], requires_grad=True)
        out = lib.nn.functional.bilinear(a, a, lib.rand(3, 5, 5))
        row += [tops(out), out.grad_fn.next_functions[0][0].name()]
        names.append(row)
    assert names[0] == names[1]
