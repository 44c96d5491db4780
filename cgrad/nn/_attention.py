"""scaled_dot_product_attention and multi_head_attention_forward
(torch.nn.functional), composed from cgrad's matmul, softmax, dropout and
linear. The attention follows PyTorch's CPU results, including its flash
kernel's zeros (not NaN) for query rows whose keys are all masked out."""
import math
import warnings

import cgrad
from cgrad._op_support import dtype_cpp_name
from cgrad.nn import functional as F
from cgrad.nn._flash_attention import AttentionSpec, attention_math, flash_attention, _grouped

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]


def _additive_mask(attn_mask, dtype):
    if attn_mask.dtype == cgrad.bool:
        return cgrad.zeros(tuple(attn_mask.shape), dtype=dtype).masked_fill(attn_mask.logical_not(), float("-inf"))
    # a float32 mask beside half/bfloat16/float64 queries is taken in the query's dtype
    return attn_mask if attn_mask.dtype == dtype else attn_mask.to(dtype)


def _validate_sdpa_input(query, key, value, attn_mask):
    """ATen's validate_sdpa_input: one dtype for query, key and value, each
    at least 2-D; a mask of bool, of float32 or of the query's dtype."""
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{dtype_cpp_name(query.dtype)} key.dtype: {dtype_cpp_name(key.dtype)} and value.dtype: "
                           f"{dtype_cpp_name(value.dtype)} instead.")
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} instead.")
    if attn_mask is not None and attn_mask.dtype not in (cgrad.bool, cgrad.float32, query.dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {dtype_cpp_name(attn_mask.dtype)} and  query.dtype: "
                           f"{dtype_cpp_name(query.dtype)} instead.")


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(q k^T * scale + mask) v, with dropout on the weights."""
    query, key, value, attn_mask = cgrad._C._autocast_args(0, query, key, value, attn_mask)  # CPU autocast
    _validate_sdpa_input(query, key, value, attn_mask)
    L, S = query.size(-2), key.size(-2)
    # an empty head dimension gives ATen's 1 / sqrt(0) = inf (its products over nothing stay 0)
    scale_factor = (1 / math.sqrt(query.size(-1)) if query.size(-1) else math.inf) if scale is None else scale
    if is_causal and attn_mask is not None and query.dim() != 4:
        # 4-D inputs take PyTorch's CPU flash kernel, which applies both masks
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    bias = None
    if is_causal:
        causal = cgrad.ones(L, S, dtype=cgrad.bool).tril(0)
        bias = cgrad.zeros(L, S, dtype=query.dtype).masked_fill(causal.logical_not(), float("-inf"))
    if attn_mask is not None:
        mask = _additive_mask(attn_mask, query.dtype)
        bias = mask if bias is None else mask + bias
    groups = 1
    if enable_gqa and query.dim() >= 3 and key.size(-3) != query.size(-3):
        groups = query.size(-3) // key.size(-3)
    dead = None
    if attn_mask is not None:
        # a row with every key masked: PyTorch's CPU kernel gives zeros there
        # (output and gradients); softmax runs on a finite row instead of NaN
        dead = (bias == float("-inf")).all(-1, keepdim=True)
        if bool(dead.any()):
            bias = bias.masked_fill(dead, 0.0)
        else:
            dead = None
    spec = AttentionSpec(bias, dead, scale_factor, groups)
    from cgrad.nn.attention import _choose_cpu_kernel      # the backend switches (sdpa_kernel)
    flash_applies = dropout_p == 0.0 and _takes_cpu_flash(query, key, value, attn_mask, dropout_p, enable_gqa)
    use_flash = _choose_cpu_kernel(flash_applies, _why_not_flash(query, key, value))
    if attn_mask is not None:
        _check_mask_fits(attn_mask, query, key, use_flash)
    if use_flash:
        return flash_attention(query, key, value, spec)
    if dropout_p == 0.0:
        return attention_math(query, key, value, spec)[0]
    key = _grouped(key, groups)
    value = _grouped(value, groups)
    scores = cgrad.matmul(query * scale_factor, key.transpose(-2, -1))
    if bias is not None:
        scores = scores + bias
    weights = F.softmax(scores, dim=-1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    weights = F.dropout(weights, dropout_p, True)
    return cgrad.matmul(weights, value)


def _check_mask_fits(attn_mask, query, key, use_flash):
    """The mask shapes PyTorch's kernels refuse: the flash kernel reads the
    mask's size(-2) (a 0-d or 1-d mask is its IndexError); the math path adds
    the mask into the scores in place, so it may not broadcast them larger."""
    if use_flash:
        if attn_mask.dim() == 0:
            raise IndexError("Dimension specified as -2 but tensor has no dimensions")
        if attn_mask.dim() == 1:
            raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2)")
        return
    batch = list(cgrad.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2])))
    scores = batch + [query.size(-2), key.size(-2)]
    broadcast = list(cgrad.broadcast_shapes(tuple(scores), tuple(attn_mask.shape)))
    if broadcast != scores:
        raise RuntimeError(f"output with shape {scores} doesn't match the broadcast shape {broadcast}")


def _why_not_flash(query, key, value):
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4:
        return (f"All fused kernels requires query, key and value to be 4 dimensional, but got Query dim: "
                f"{query.dim()}, Key dim: {key.dim()}, Value dim: {value.dim()} instead.")
    return None


def _takes_cpu_flash(query, key, value, attn_mask, dropout_p, enable_gqa):
    """Whether PyTorch's CPU dispatch runs this call on its flash kernel (its
    sdp_utils checks), so that the result shows that kernel's grad_fn."""
    if query.dim() != 4 or key.dim() != 4 or value.dim() != 4 or dropout_p > 0.0:
        return False
    if not (query.size(-1) == key.size(-1) == value.size(-1)):
        return False
    if query.stride(-1) != 1 or key.stride(-1) != 1 or value.stride(-1) != 1:
        return False
    if not (query.size(0) == key.size(0) == value.size(0)) or key.size(1) != value.size(1):
        return False
    if query.size(1) != key.size(1) and not (enable_gqa and query.size(1) % key.size(1) == 0):
        return False
    if query.size(-2) == 0 or key.size(-2) == 0 or query.size(-1) == 0:
        return False
    return attn_mask is None or not attn_mask.requires_grad


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    if query.dim() == 3:
        if key.dim() != 3 or value.dim() != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D"
                                 f" but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None and attn_mask.dim() not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                 f" but found {attn_mask.dim()}-D tensor instead")
        return True
    if query.dim() == 2:
        if key.dim() != 2 or value.dim() != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D"
                                 f" but found {key.dim()}-D and {value.dim()}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.dim() != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D"
                                 f" but found {key_padding_mask.dim()}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.dim() not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D"
                                     f" but found {attn_mask.dim()}-D tensor instead")
            if attn_mask.dim() == 3:
                expected_shape = (num_heads, query.shape[0], key.shape[0])
                if tuple(attn_mask.shape) != expected_shape:
                    raise AssertionError(f"Expected `attn_mask` shape to be {expected_shape} but got "
                                         f"{attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                         "query tensor")


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, cgrad.Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    if mask is None:
        return None
    is_float = mask.dtype.is_floating_point
    if mask.dtype != cgrad.bool and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                      "both instead.", stacklevel=3)
    if not is_float:
        mask = cgrad.zeros(tuple(mask.shape), dtype=target_type).masked_fill(mask, float("-inf"))
    return mask


def _in_projection_packed(q, k, v, w, b=None):
    E = q.size(-1)
    if k is v:
        if q is k:
            proj = F.linear(q, w, b)
            proj = proj.unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
            # unbind, not proj[0], proj[1], proj[2]: the same views, and one
            # backward that stacks the three gradients rather than three that
            # each zero-fill a tensor of proj's size and two that add them
            q, k, v = proj.unbind(0)
            return q, k, v
        w_q, w_kv = w.split([E, E * 2])
        b_q, b_kv = (None, None) if b is None else b.split([E, E * 2])
        kv = F.linear(k, w_kv, b_kv).unflatten(-1, (2, E)).unsqueeze(0).transpose(0, -2).squeeze(-2).contiguous()
        k, v = kv.unbind(0)
        return F.linear(q, w_q, b_q), k, v
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return F.linear(q, w_q, b_q), F.linear(k, w_k, b_k), F.linear(v, w_v, b_v)


def _in_projection(q, k, v, w_q, w_k, w_v, b_q=None, b_k=None, b_v=None):
    Eq, Ek, Ev = q.size(-1), k.size(-1), v.size(-1)
    if tuple(w_q.shape) != (Eq, Eq):
        raise AssertionError(f"expecting query weights shape of {(Eq, Eq)}, but got {w_q.shape}")
    if tuple(w_k.shape) != (Eq, Ek):
        raise AssertionError(f"expecting key weights shape of {(Eq, Ek)}, but got {w_k.shape}")
    if tuple(w_v.shape) != (Eq, Ev):
        raise AssertionError(f"expecting value weights shape of {(Eq, Ev)}, but got {w_v.shape}")
    return F.linear(q, w_q, b_q), F.linear(k, w_k, b_k), F.linear(v, w_v, b_v)


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """PyTorch's multi-head attention: (output, weights or None)."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    src_len = key.shape[0]
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                       "attn_mask", query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, w in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if w is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        b_q, b_k, b_v = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
        q, k, v = _in_projection(query, key, value, q_proj_weight, k_proj_weight, v_proj_weight, b_q, b_k, b_v)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (tgt_len, src_len):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(tgt_len, src_len)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * num_heads, tgt_len, src_len):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(bsz * num_heads, tgt_len, src_len)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cgrad.cat([k, bias_k.repeat(1, bsz, 1)])
        v = cgrad.cat([v, bias_v.repeat(1, bsz, 1)])
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.view(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = (k.view(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_k is None
         else _checked_static(static_k, "static_k", bsz * num_heads, head_dim))
    v = (v.view(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1) if static_v is None
         else _checked_static(static_v, "static_v", bsz * num_heads, head_dim))
    if add_zero_attn:
        zeros = cgrad.zeros(bsz * num_heads, 1, head_dim, dtype=k.dtype)
        k = cgrad.cat([k, zeros], dim=1)
        v = cgrad.cat([v, zeros], dim=1)
        if attn_mask is not None:
            attn_mask = F.pad(attn_mask, (0, 1))
        if key_padding_mask is not None:
            key_padding_mask = F.pad(key_padding_mask, (0, 1))
    src_len = k.size(1)
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != bsz:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {bsz}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != src_len:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
                                 f"{key_padding_mask.shape[1]}")
        key_padding_mask = (key_padding_mask.view(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1)
                            .reshape(bsz * num_heads, 1, src_len))
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        q_scaled = q * math.sqrt(1.0 / float(q.shape[2]))
        if is_causal and attn_mask is None:
            raise AssertionError("FIXME: is_causal not implemented for need_weights")
        weights = cgrad.bmm(q_scaled, k.transpose(-2, -1))
        if attn_mask is not None:
            weights = attn_mask + weights
        weights = F.softmax(weights, dim=-1)
        if dropout_p > 0.0:
            weights = F.dropout(weights, p=dropout_p)
        out = cgrad.bmm(weights, v)
        out = out.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = F.linear(out, out_proj_weight, out_proj_bias)
        out = out.view(tgt_len, bsz, out.size(1))
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            out = out.squeeze(1)
            weights = weights.squeeze(0)
        return out, weights
    if attn_mask is not None:
        if attn_mask.size(0) == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    out = F.linear(out, out_proj_weight, out_proj_bias)
    out = out.view(tgt_len, bsz, out.size(1))
    if not is_batched:
        out = out.squeeze(1)
    return out, None


def _checked_static(static, name, rows, head_dim):
    if static.size(0) != rows:
        raise AssertionError(f"expecting {name}.size(0) of {rows}, but got {static.size(0)}")
    if static.size(2) != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.size(2)}")
    return static
