"""F.rms_norm: input scaled by the reciprocal root mean square over its
trailing normalized_shape dims (then by weight), PyTorch's composite
x * rsqrt(mean(x**2) + eps) (times weight), computed in the input's
"opmath" dtype (float32 for float16/bfloat16 input) and cast back to the
input's dtype at the end (type_as); eps defaults to that opmath dtype's
machine epsilon, as in ATen's layer_norm.cpp."""
import cgrad


def _dtype_title(dtype):
    """PyTorch's name of a dtype in its messages ('Float')."""
    from cgrad._ops_composites import _dtype_title as title     # here: at module level it closes an import cycle
    return title(dtype)


__all__ = ["rms_norm"]


def rms_norm(input, normalized_shape, weight=None, eps=None):
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    count = len(normalized_shape)
    if count == 0 or tuple(input.shape[input.dim() - count:]) != normalized_shape or input.dim() < count:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if not (input.is_floating_point() or input.is_complex()):
        raise NotImplementedError(f"\"rms_norm\" not implemented for '{_dtype_title(input.dtype)}'")
    half = input.dtype in (cgrad.float16, cgrad.bfloat16)
    opmath = cgrad.float32 if half else input.dtype
    if eps is None:
        from cgrad._type_info import finfo
        eps = finfo(opmath).eps
    dims = tuple(range(input.dim() - count, input.dim()))
    x = input.to(opmath) if half else input
    result = x * (x.pow(2).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        result = result * weight
    return result.to(input.dtype) if result.dtype != input.dtype else result
