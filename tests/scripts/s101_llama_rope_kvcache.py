# A Llama-style decoder as in Meta's llama/model.py and HF modeling_llama, reduced to CPU size: RMSNorm with rsqrt (and nn.RMSNorm / F.rms_norm), rotary embeddings from a cos/sin cache (lit-gpt / HF rotate_half form; cgrad has no complex dtypes for Meta's torch.polar form), grouped-query attention by repeat_kv and by SDPA(enable_gqa=True), a KV cache written by slice assignment, the triu(-inf) mask with hstack, and top-p sampling (sort, cumsum, gather).
import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class ModelArgs:
    dim: int = 16
    n_layers: int = 2
    n_heads: int = 4
    n_kv_heads: Optional[int] = 2
    vocab_size: int = 13
    multiple_of: int = 8
    ffn_dim_multiplier: Optional[float] = None
    norm_eps: float = 1e-5
    max_batch_size: int = 2
    max_seq_len: int = 12


class RMSNorm(torch.nn.Module):
    def __init__(self, dim: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def _norm(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)

    def forward(self, x):
        output = self._norm(x.float()).type_as(x)
        return output * self.weight


def precompute_freqs_cis(dim: int, end: int, theta: float = 10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device, dtype=torch.float32)
    freqs = torch.outer(t, freqs)
    freqs = freqs.repeat(1, 2)
    return torch.stack([freqs.cos(), freqs.sin()])


def rotate_half(x):
    x1 = x[..., : x.shape[-1] // 2]
    x2 = x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def apply_rotary_emb(xq, xk, freqs_cis):
    cos, sin = freqs_cis.unbind(0)
    cos = cos[None, :, None, :]
    sin = sin[None, :, None, :]
    xq_out = (xq.float() * cos) + (rotate_half(xq.float()) * sin)
    xk_out = (xk.float() * cos) + (rotate_half(xk.float()) * sin)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def repeat_kv(x: torch.Tensor, n_rep: int) -> torch.Tensor:
    bs, slen, n_kv_heads, head_dim = x.shape
    if n_rep == 1:
        return x
    return (
        x[:, :, :, None, :]
        .expand(bs, slen, n_kv_heads, n_rep, head_dim)
        .reshape(bs, slen, n_kv_heads * n_rep, head_dim)
    )


class Attention(nn.Module):
    def __init__(self, args: ModelArgs):
        super().__init__()
        self.n_kv_heads = args.n_heads if args.n_kv_heads is None else args.n_kv_heads
        self.n_local_heads = args.n_heads
        self.n_local_kv_heads = self.n_kv_heads
        self.n_rep = self.n_local_heads // self.n_local_kv_heads
        self.head_dim = args.dim // args.n_heads
        self.wq = nn.Linear(args.dim, args.n_heads * self.head_dim, bias=False)
        self.wk = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(args.dim, self.n_kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(args.n_heads * self.head_dim, args.dim, bias=False)
        self.cache_k = torch.zeros((args.max_batch_size, args.max_seq_len, self.n_local_kv_heads, self.head_dim))
        self.cache_v = torch.zeros((args.max_batch_size, args.max_seq_len, self.n_local_kv_heads, self.head_dim))

    def forward(self, x, start_pos, freqs_cis, mask, use_cache):
        bsz, seqlen, _ = x.shape
        xq, xk, xv = self.wq(x), self.wk(x), self.wv(x)
        xq = xq.view(bsz, seqlen, self.n_local_heads, self.head_dim)
        xk = xk.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
        xv = xv.view(bsz, seqlen, self.n_local_kv_heads, self.head_dim)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        if use_cache:
            self.cache_k = self.cache_k.to(xq)
            self.cache_v = self.cache_v.to(xq)
            self.cache_k[:bsz, start_pos: start_pos + seqlen] = xk
            self.cache_v[:bsz, start_pos: start_pos + seqlen] = xv
            keys = self.cache_k[:bsz, : start_pos + seqlen]
            values = self.cache_v[:bsz, : start_pos + seqlen]
        else:
            keys, values = xk, xv
        if use_cache:
            keys = repeat_kv(keys, self.n_rep)
            values = repeat_kv(values, self.n_rep)
            xq = xq.transpose(1, 2)
            keys = keys.transpose(1, 2)
            values = values.transpose(1, 2)
            scores = torch.matmul(xq, keys.transpose(2, 3)) / math.sqrt(self.head_dim)
            if mask is not None:
                scores = scores + mask
            scores = F.softmax(scores.float(), dim=-1).type_as(xq)
            output = torch.matmul(scores, values)
        else:
            output = F.scaled_dot_product_attention(xq.transpose(1, 2), keys.transpose(1, 2), values.transpose(1, 2),
                                                    is_causal=True, scale=1.0 / math.sqrt(self.head_dim),
                                                    enable_gqa=True)
        output = output.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(output)


class FeedForward(nn.Module):
    def __init__(self, dim, hidden_dim, multiple_of, ffn_dim_multiplier):
        super().__init__()
        hidden_dim = int(2 * hidden_dim / 3)
        if ffn_dim_multiplier is not None:
            hidden_dim = int(ffn_dim_multiplier * hidden_dim)
        hidden_dim = multiple_of * ((hidden_dim + multiple_of - 1) // multiple_of)
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class TransformerBlock(nn.Module):
    def __init__(self, layer_id: int, args: ModelArgs):
        super().__init__()
        self.attention = Attention(args)
        self.feed_forward = FeedForward(dim=args.dim, hidden_dim=4 * args.dim, multiple_of=args.multiple_of,
                                        ffn_dim_multiplier=args.ffn_dim_multiplier)
        self.layer_id = layer_id
        self.attention_norm = RMSNorm(args.dim, eps=args.norm_eps)
        self.ffn_norm = RMSNorm(args.dim, eps=args.norm_eps)

    def forward(self, x, start_pos, freqs_cis, mask, use_cache):
        h = x + self.attention(self.attention_norm(x), start_pos, freqs_cis, mask, use_cache)
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, params: ModelArgs):
        super().__init__()
        self.params = params
        self.tok_embeddings = nn.Embedding(params.vocab_size, params.dim)
        self.layers = torch.nn.ModuleList()
        for layer_id in range(params.n_layers):
            self.layers.append(TransformerBlock(layer_id, params))
        self.norm = RMSNorm(params.dim, eps=params.norm_eps)
        self.output = nn.Linear(params.dim, params.vocab_size, bias=False)
        self.freqs_cis = precompute_freqs_cis(params.dim // params.n_heads, params.max_seq_len * 2)

    def forward(self, tokens: torch.Tensor, start_pos: int, use_cache=True):
        _bsz, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        freqs_cis = self.freqs_cis[:, start_pos: start_pos + seqlen]
        mask = None
        if seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
            mask = torch.triu(mask, diagonal=1)
            mask = torch.hstack([torch.zeros((seqlen, start_pos), device=tokens.device), mask]).type_as(h)
        for layer in self.layers:
            h = layer(h, start_pos, freqs_cis, mask, use_cache)
        h = self.norm(h)
        return self.output(h).float()


def sample_top_p(probs, p, u):
    probs_sort, probs_idx = torch.sort(probs, dim=-1, descending=True)
    probs_sum = torch.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    # inverse-CDF draw from a numpy uniform instead of torch.multinomial, so both libraries pick the same token
    next_token = (torch.cumsum(probs_sort, dim=-1) < u[:, None]).sum(dim=-1, keepdim=True).clamp(max=probs.shape[-1] - 1)
    next_token = torch.gather(probs_idx, -1, next_token)
    return next_token


args = ModelArgs()
model = Transformer(args)
rng = np.random.RandomState(0)
with torch.no_grad():
    for n, p in model.named_parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
print(model.freqs_cis.dtype, model.freqs_cis.shape, model.freqs_cis[:, 1, :2])
print(model.layers[0].feed_forward.w1, model.layers[0].attention.n_rep)
tokens = torch.from_numpy(rng.randint(0, args.vocab_size, (2, 6)))
logits_cached = model(tokens, 0, use_cache=True)
logits_sdpa = model(tokens, 0, use_cache=False)
print(logits_cached.shape, torch.allclose(logits_cached, logits_sdpa, atol=1e-5))
# incremental decoding reuses the cache: the last position equals a full forward pass
step_logits = model(tokens[:, 5:6], 5, use_cache=True)
print(torch.allclose(step_logits[:, -1], logits_cached[:, -1], atol=1e-5))

optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1, betas=(0.9, 0.95), fused=None)
targets = torch.roll(tokens, -1, dims=1)
for it in range(3):
    logits = model(tokens, 0, use_cache=False)
    loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-100)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=None)
    optimizer.step()
    print(f"it {it} loss {loss.item():.5f} norm {norm.item():.4f}")

with torch.inference_mode():
    prompt = tokens[:, :3]
    out = prompt
    logits = model(prompt, 0, use_cache=True)
    for cur_pos in range(3, 7):
        probs = torch.softmax(logits[:, -1] / 0.8, dim=-1)
        next_token = sample_top_p(probs, 0.9, torch.from_numpy(rng.uniform(size=2).astype(np.float32)))
        out = torch.cat([out, next_token], dim=1)
        logits = model(next_token, cur_pos, use_cache=True)
    print(out, out.dtype, out.is_inference())

# the HF spelling of the same pieces
x = torch.from_numpy(rng.normal(size=(2, 3, 8)).astype(np.float32))
rms = nn.RMSNorm(8, eps=1e-6)
print(torch.allclose(rms(x), RMSNorm(8, 1e-6)(x), atol=1e-6), F.rms_norm(x, (8,), eps=1e-6).shape, rms)


inv_freq = 1.0 / (10000 ** (torch.arange(0, 8, 2, dtype=torch.int64).float() / 8))
position_ids = torch.arange(3)[None, :].expand(2, -1)
inv_freq_expanded = inv_freq[None, :, None].float().expand(position_ids.shape[0], -1, 1)
freqs = (inv_freq_expanded.float() @ position_ids[:, None, :].float()).transpose(1, 2)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos(), emb.sin()
q_embed = (x * cos) + (rotate_half(x) * sin)
print(q_embed.shape, q_embed[0, 1].detach().numpy().round(4))
q = torch.from_numpy(rng.normal(size=(1, 4, 3, 2)).astype(np.float32))
k = torch.from_numpy(rng.normal(size=(1, 2, 3, 2)).astype(np.float32))
v = torch.from_numpy(rng.normal(size=(1, 2, 3, 2)).astype(np.float32))
a = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
b = F.scaled_dot_product_attention(q, k.repeat_interleave(2, dim=1), v.repeat_interleave(2, dim=1))
print(a.shape, torch.allclose(a, b, atol=1e-6))
try:
    F.scaled_dot_product_attention(q, k, v)
except RuntimeError as e:
    print("RuntimeError", str(e).split("\n")[0])
