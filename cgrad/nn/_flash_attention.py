"""scaled_dot_product_attention on PyTorch's CPU flash path as one node,
ScaledDotProductFlashAttentionForCpuBackward0, whose inputs are query, key
and value (PyTorch's next_functions), with a hand-written backward.

Forward runs the same ops as the composite (scale q, q k^T, + mask,
softmax, zero the fully-masked rows, @ v) unrecorded but for the softmax,
and keeps the scaled q and the attention weights. First-order backward is
four batched GEMMs and the softmax node's fused backward, with nothing
else recorded or run. Without a mask or grouped heads, both directions run
in cgrad._C's attention kernels (src/cgrad/attention_kernels.pxi), which
fold the scale into the products. Under create_graph (higher orders; PyTorch's
flash node has none) backward differentiates the composite instead, so
cgrad's double backward keeps working."""
import cgrad
from cgrad import _C
from cgrad.autograd import Function
from cgrad.autograd import grad as _autograd_grad


class AttentionSpec:
    """What the node needs besides q, k, v: the additive mask (or None), the
    fully-masked rows (or None), the scale and the key/value head groups
    (enable_gqa). A plain object, so it makes no graph edge."""
    __slots__ = ("bias", "dead", "scale", "groups")

    def __init__(self, bias, dead, scale, groups):
        self.bias = bias
        self.dead = dead
        self.scale = scale
        self.groups = groups


def _grouped(t, groups):
    """key/value repeated over each group of query heads (enable_gqa)."""
    if groups == 1:
        return t
    return t.unsqueeze(-3).expand(*t.shape[:-2], groups, t.size(-2), t.size(-1)).flatten(-4, -3)


def _ungrouped(g, groups):
    """The gradient of _grouped: the groups' gradients summed per head."""
    if groups == 1:
        return g
    return g.unflatten(-3, (g.size(-3) // groups, groups)).sum(-3)


def attention_math(query, key, value, spec):
    """(output, scaled q, weights) of softmax(q k^T * scale + mask) v, in
    differentiable ops (recorded when grad mode is on)."""
    key = _grouped(key, spec.groups)
    value = _grouped(value, spec.groups)
    # the scale goes on q (L x E) rather than on the scores (L x S): one pass
    # less over the larger tensor, forward and backward
    q_scaled = query * spec.scale
    scores = cgrad.matmul(q_scaled, key.transpose(-2, -1))
    if spec.bias is not None:
        scores = scores + spec.bias
    weights = cgrad.softmax(scores, -1)
    if spec.dead is not None:
        # a row with every key masked: PyTorch's CPU kernel gives zeros there
        weights = weights.masked_fill(spec.dead, 0.0)
    return cgrad.matmul(weights, value), q_scaled, weights


def _fused_forward(query, key, value, spec):
    """(output, weights) from the attention kernels, or None where they do
    not apply (a mask, grouped heads, other dtypes or layouts)."""
    if spec.bias is not None or spec.dead is not None or spec.groups != 1:
        return None
    return _C._attention_forward(query, key, value, float(spec.scale))


class _FlashAttention(Function):
    @staticmethod
    def forward(ctx, query, key, value, spec):
        ctx.spec = spec
        fused = _fused_forward(query, key, value, spec)
        if fused is not None:
            ctx.save_for_backward(query, key, value)
            ctx.weights = fused[1]
            ctx.fused = True
            return fused[0]
        ctx.fused = False
        key_g = _grouped(key, spec.groups)
        q_scaled = query * spec.scale
        scores = cgrad.matmul(q_scaled, key_g.transpose(-2, -1))
        if spec.bias is not None:
            scores = scores + spec.bias
        # the softmax is recorded (on the unrecorded scores), so that backward
        # runs its fused kernel: one pass rather than four ops
        scores.requires_grad_()
        with cgrad.enable_grad():
            probs = cgrad.softmax(scores, -1)
        weights = probs.detach()
        if spec.dead is not None:
            weights = weights.masked_fill(spec.dead, 0.0)
        out = cgrad.matmul(weights, _grouped(value, spec.groups))
        ctx.save_for_backward(query, key, value)
        ctx.spec = spec
        ctx.q_scaled = q_scaled
        ctx.scores = scores
        ctx.probs = probs
        ctx.weights = weights
        return out

    @staticmethod
    def backward(ctx, grad_out):
        query, key, value = ctx.saved_tensors
        spec = ctx.spec
        needs = ctx.needs_input_grad[:3]
        if cgrad.is_grad_enabled():
            return _composite_backward(query, key, value, spec, grad_out, needs) + (None,)
        if ctx.fused:
            grads = _C._attention_backward(grad_out.to(query.dtype), query, key, value, ctx.weights,
                                           float(spec.scale), *needs)
            return grads + (None,)
        weights = ctx.weights
        grad_out = grad_out.contiguous()
        grad_q = grad_k = grad_v = None
        if needs[2]:
            grad_v = _ungrouped(cgrad.matmul(weights.transpose(-2, -1), grad_out), spec.groups)
        if needs[0] or needs[1]:
            grad_w = cgrad.matmul(grad_out, _grouped(value, spec.groups).transpose(-2, -1))
            if spec.dead is not None:
                grad_w.masked_fill_(spec.dead, 0.0)
            # retained: this node may run again (an outer backward with retain_graph=True, gradcheck's
            # rows); the private softmax node saves only probs, which ctx holds anyway
            (grad_s,) = _autograd_grad(ctx.probs, ctx.scores, grad_w, retain_graph=True)
            if needs[0]:
                grad_q = cgrad.matmul(grad_s, _grouped(key, spec.groups)).mul_(spec.scale)
            if needs[1]:
                grad_k = _ungrouped(cgrad.matmul(grad_s.transpose(-2, -1), ctx.q_scaled), spec.groups)
        return grad_q, grad_k, grad_v, None


def _composite_backward(query, key, value, spec, grad_out, needs):
    wanted = [t for t, n in zip((query, key, value), needs) if n]
    with cgrad.enable_grad():
        out = attention_math(query, key, value, spec)[0]
        grads = iter(_autograd_grad(out, wanted, grad_out, create_graph=True, allow_unused=True))
    return tuple(next(grads) if n else None for n in needs)


_FlashAttention._backward_cls.__name__ = "ScaledDotProductFlashAttentionForCpuBackward0"
_FlashAttention._backward_cls.__qualname__ = "ScaledDotProductFlashAttentionForCpuBackward0"
_FlashAttention._backward_cls.__module__ = "cgrad._C"
_FlashAttention._backward_cls.__repr__ = \
    lambda self: f"<ScaledDotProductFlashAttentionForCpuBackward0 object at {id(self):#x}>"


def flash_attention(query, key, value, spec):
    """The attention's output, recorded (when grad mode records any of
    query, key, value) as PyTorch's CPU flash node."""
    if cgrad.is_grad_enabled() and (query.requires_grad or key.requires_grad or value.requires_grad):
        return _FlashAttention.apply(query, key, value, spec)
    fused = _fused_forward(query, key, value, spec)
    if fused is not None:
        return fused[0]
    return attention_math(query, key, value, spec)[0]
