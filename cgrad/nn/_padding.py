"""F.pad: PyTorch's checks and texts for its four modes; constant,
reflect and replicate run as one compiled op (cgrad._C._pad, with
ConstantPadNdBackward0 / ReflectionPad*DBackward0 / ReplicationPad*DBackward0),
circular is PyTorch's _pad_circular: slice copies into a new tensor, so the
result carries CopySlices as PyTorch's does."""
import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad.nn.functional import _int_tuple

__all__ = ["pad"]


_PAD_MODES = {"constant": 0, "reflect": 1, "replicate": 2, "circular": 3}


def pad(input, pad, mode="constant", value=None):
    """Pads the last len(pad) // 2 dims: pad = (left, right) of the last dim,
    then of the one before, ...; constant (negative pads crop), reflect,
    replicate or circular."""
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    pads = _int_tuple(pad, 1, "pad", "pad") if not isinstance(pad, int) else None
    if pads is None:
        raise TypeError("pad(): argument 'pad' (position 2) must be tuple of ints, not int")
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    ndim = input.dim()
    if len(pads) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pads) > ndim * 2:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension "
                           f"but got padding length {len(pads)} and input of dimension {ndim}")
    if mode == "constant":
        # PyTorch crops negative pads with narrow() first, outer dims first
        for i in range(len(pads) // 2 - 1, -1, -1):
            size = input.shape[ndim - 1 - i] + min(pads[2 * i], 0)
            if size < 0 or size + min(pads[2 * i + 1], 0) < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        return _C._pad(input, pads, 0, value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    k = len(pads) // 2
    if k not in (1, 2, 3) or ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {len(pads)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    if mode == "circular":
        return _pad_circular(input, pads, k)
    _check_pad_sizes(input, pads, k, mode)
    return _C._pad(input, pads, _PAD_MODES[mode], None)


def _check_pad_sizes(input, pads, k, mode):
    shape = list(input.shape)
    batched = input.dim() == k + 2
    if any(s == 0 for s in shape[1 if batched else 0:]):
        kind = {1: "2D or 3D", 2: "3D or 4D", 3: "4D or 5D"}[k]
        raise RuntimeError(f"Expected {kind} (batch mode) tensor with possibly 0 batch size and other "
                           f"non-zero dimensions for input, but got: {shape}")
    for i in range(k):
        dim = input.dim() - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        if mode == "reflect" and (left >= shape[dim] or right >= shape[dim]):
            raise RuntimeError(
                f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                f"dimension, but got: padding ({left}, {right}) at dimension {dim} of input {shape}")
        if shape[dim] + left + right < 1:
            names = ["W", "H", "D"][:k][::-1]
            sizes = ", ".join(f"{n}: {shape[input.dim() - k + j]}" for j, n in enumerate(names))
            outs = " ".join(f"{n}: {shape[input.dim() - k + j] + pads[2 * (k - 1 - j)] + pads[2 * (k - 1 - j) + 1]}"
                            for j, n in enumerate(names))
            raise RuntimeError(f"input ({sizes}) is too small. Calculated output {outs}")


def _pad_circular(input, pads, k):
    """PyTorch's _pad_circular: the input copied into the middle, then each
    padded dim's borders copied from the other end (slices of the output, so
    the result carries CopySlices)."""
    nd = input.dim()
    in_shape = list(input.shape)
    out_shape = list(in_shape)
    for i in range(k):
        dim = nd - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        size = in_shape[dim]
        if not (left <= size and right <= size):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if size + left + right < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
        out_shape[dim] = size + left + right
    out = cgrad.empty(out_shape, dtype=input.dtype)
    out_slice, in_slice = out, input
    for i in range(k):
        dim = nd - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        out_slice = out_slice.narrow(dim, max(left, 0), out_shape[dim] - max(right, 0) - max(left, 0))
        in_slice = in_slice.narrow(dim, max(-left, 0), in_shape[dim] - max(-right, 0) - max(-left, 0))
    out_slice.copy_(in_slice)
    for i in range(k):
        dim = nd - 1 - i
        left, right = pads[2 * i], pads[2 * i + 1]
        if left > 0:
            src_start = out_shape[dim] - left - max(right, 0)
            out.narrow(dim, 0, left).copy_(out.narrow(dim, src_start, left))
        if right > 0:
            out.narrow(dim, out_shape[dim] - right, right).copy_(out.narrow(dim, max(left, 0), right))
    return out
