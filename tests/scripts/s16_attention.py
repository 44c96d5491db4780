# Scaled dot-product attention by hand and with F.scaled_dot_product_attention / nn.MultiheadAttention.
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.RandomState(4)
q = torch.from_numpy(rng.randn(2, 3, 5, 4).astype(np.float32))
k = torch.from_numpy(rng.randn(2, 3, 5, 4).astype(np.float32))
v = torch.from_numpy(rng.randn(2, 3, 5, 4).astype(np.float32))


def attention(query, key, value, mask=None):
    d_k = query.size(-1)
    scores = torch.matmul(query, key.transpose(-2, -1)) / math.sqrt(d_k)
    if mask is not None:
        scores = scores.masked_fill(mask == 0, -1e9)
    p_attn = scores.softmax(dim=-1)
    return torch.matmul(p_attn, value), p_attn


mask = torch.tril(torch.ones(5, 5))
out, p = attention(q, k, v, mask)
print(out.shape, p.shape)
print(p[0, 0].round(decimals=3))
ref = F.scaled_dot_product_attention(q, k, v, is_causal=True)
print(torch.allclose(out, ref, atol=1e-5))
mha = nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True)
print(mha)
with torch.no_grad():
    for p_ in mha.parameters():
        p_.copy_(torch.from_numpy(rng.randn(*p_.shape).astype(np.float32) * 0.2))
x = torch.from_numpy(rng.randn(2, 5, 8).astype(np.float32))
attn_out, attn_w = mha(x, x, x, need_weights=True)
print(attn_out.shape, attn_w.shape)
print(attn_w[0].sum(-1).round(decimals=4))
print(attn_out[0, 0].round(decimals=4))
causal = nn.Transformer.generate_square_subsequent_mask(5)
print(causal)
o2, _ = mha(x, x, x, attn_mask=causal)
print(o2[1, -1].round(decimals=4))
print([n for n, _ in mha.named_parameters()])
