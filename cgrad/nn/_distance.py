"""Distances and normalisation of nn.functional: normalize,
cosine_similarity, pairwise_distance (and their nn modules' work), as
PyTorch's ATen composites (Distance.cpp, Normalization): the same op
sequence, so values, dtypes, broadcasting, errors and grad_fn names
(DivBackward0, SumBackward1; NormBackward1 named, as cgrad's norm
over a dim records LinalgVectorNormBackward0) are PyTorch's."""
import cgrad
from cgrad.nn._named_node import named


def _broadcast_pair(a, b):
    from cgrad.nn.functional import _broadcast_pair as pair
    return pair(a, b)


def normalize(input, p=2.0, dim=1, eps=1e-12, out=None):
    """input / max(||input||_p over dim, eps)."""
    if out is None:
        denom = input.norm(p, dim, keepdim=True).clamp_min(eps).expand_as(input)
        return input / denom
    denom = input.norm(p, dim, keepdim=True).clamp_min_(eps).expand_as(input)
    return cgrad.div(input, denom, out=out)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps)) over dim, after
    broadcasting x1 and x2 and promoting them to their common float dtype."""
    for position, (name, x) in enumerate((("x1", x1), ("x2", x2)), 1):
        if not hasattr(x, "dim"):      # tensors and vmap's batched tensors pass
            raise TypeError(f"cosine_similarity(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(x).__name__}")
    common = cgrad.result_type(x1, x2)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{_dtype_title(common)}")
    x1, x2 = _broadcast_pair(x1.to(common), x2.to(common))
    # clones: the clamp below runs in place without recording
    x1_norm = cgrad.linalg.vector_norm(x1, 2, dim=dim, keepdim=True).clone()
    x2_norm = cgrad.linalg.vector_norm(x2, 2, dim=dim, keepdim=True).clone()
    with cgrad.no_grad():
        x1_norm.clamp_min_(eps)
        x2_norm.clamp_min_(eps)
    return ((x1 / x1_norm) * (x2 / x2_norm)).sum(dim)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """||x1 - x2 + eps||_p over the last dim (of the broadcast shape)."""
    output_dim = max(x1.dim(), x2.dim())
    return named(cgrad.norm(x1 - x2 + eps, p, output_dim - 1, keepdim), "NormBackward1")


def _dtype_title(dtype):
    return {cgrad.int64: "Long", cgrad.int32: "Int", cgrad.int16: "Short", cgrad.int8: "Char",
            cgrad.uint8: "Byte", cgrad.bool: "Bool"}.get(dtype, str(dtype))
