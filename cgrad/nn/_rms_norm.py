"""F.rms_norm: input scaled by the reciprocal root mean square over its
trailing normalized_shape dims (then by weight), PyTorch's composite
x * rsqrt(mean(x**2) + eps); eps defaults to the dtype's machine epsilon."""
__all__ = ["rms_norm"]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.dim() - count:]) != normalized_shape or input.dim() < count:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if eps is None:
        from cgrad._type_info import finfo
        eps = finfo(input.dtype).eps
    dims = tuple(range(input.dim() - count, input.dim()))
    result = input * (input.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    return result if weight is None else result * weight
