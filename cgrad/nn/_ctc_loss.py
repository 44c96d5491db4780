"""F.ctc_loss / cgrad.ctc_loss: the connectionist temporal classification
loss, PyTorch's semantics: log_probs (T, N, C) or unbatched (T, C), targets
padded (N, S) or concatenated (sum(target_lengths),), lengths as tensors or
sequences; per-sequence losses are the negative log-likelihoods of all
alignments (CtcLossBackward0), inf for impossible ones (zeroed, with their
gradients, by zero_infinity); 'mean' divides each by its target length
(at least 1) before averaging over the batch. The argument checks and
PyTorch's texts live here; the recursions run in src/cgrad/ctc_kernels.pxi
(float64, one sequence per thread)."""
import numpy as np

from cgrad import _C
from cgrad._op_support import attach, forward_ad_not_implemented

__all__ = ["ctc_loss"]

_CHECKING = " (while checking arguments for ctc_loss_allocate_outputs)"
_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _is_int_sequence(values):
    return isinstance(values, (list, tuple)) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                                     for v in values)


def _check_length_types(args):
    """PyTorch's two overloads: both lengths tensors, or both sequences of ints."""
    input_lengths, target_lengths = args[2], args[3]
    if isinstance(input_lengths, _C.Tensor) and isinstance(target_lengths, _C.Tensor):
        return
    if _is_int_sequence(input_lengths) and _is_int_sequence(target_lengths):
        return
    got = ", ".join("Tensor" if isinstance(a, _C.Tensor) else type(a).__name__ for a in args)
    raise TypeError(
        f"ctc_loss() received an invalid combination of arguments - got ({got}), but expected one of:\n"
        " * (Tensor log_probs, Tensor targets, tuple of ints input_lengths, tuple of ints target_lengths, "
        "int blank = 0, int reduction = at::Reduction::Mean, bool zero_infinity = False)\n"
        " * (Tensor log_probs, Tensor targets, Tensor input_lengths, Tensor target_lengths, int blank = 0, "
        "int reduction = at::Reduction::Mean, bool zero_infinity = False)\n")


def _lengths(values, name):
    if isinstance(values, _C.Tensor):
        if values.dtype.is_floating_point or values.dtype == _C.bool_:
            raise RuntimeError(f"{name} must be integral")
        return values.detach().numpy().astype(np.int64).reshape(-1)
    return np.asarray(list(values), dtype=np.int64).reshape(-1)


def _padded_targets(targets, target_lengths, batch_size):
    """targets as a C-contiguous (N, max(S, 1)) int64 array, with PyTorch's size checks."""
    array = targets.detach().numpy().astype(np.int64)
    if targets.dim() == 1:
        total = int(target_lengths.sum())
        if array.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {array.shape[0]} "
                               f"for argument #2 'targets'{_CHECKING}")
        padded = np.zeros((batch_size, max(int(target_lengths.max(initial=0)), 1)), dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        for n in range(batch_size):      # one slice per sequence, not per element
            padded[n, :target_lengths[n]] = array[starts[n]:starts[n] + target_lengths[n]]
        return padded
    if array.shape[0] != batch_size:
        raise RuntimeError(f"Expected tensor to have size {batch_size} at dimension 0, but got size {array.shape[0]} "
                           f"for argument #2 'targets'{_CHECKING}")
    longest = int(target_lengths.max(initial=0))
    if array.ndim < 2 or array.shape[1] < longest:
        raise RuntimeError(f"Expected tensor to have size at least {longest} at dimension 1, but got size "
                           f"{array.shape[1] if array.ndim > 1 else 0} for argument #2 'targets'{_CHECKING}")
    padded = np.zeros((batch_size, max(array.shape[1], 1)), dtype=np.int64)
    padded[:, :array.shape[1]] = array.reshape(batch_size, -1)
    return padded


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    if isinstance(reduction, str):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{reduction} is not a valid value for reduction")
        reduction = _REDUCTIONS[reduction]
    _check_length_types((log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity))
    batched = log_probs.dim() == 3
    lp = log_probs if batched else log_probs.unsqueeze(1)
    if not batched and targets.dim() == 1:
        targets = targets.unsqueeze(0)
    if lp.dim() != 3:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {lp.dim()}-dimensional tensor for argument #1 "
                           f"'log_probs'{_CHECKING}")
    if not lp.dtype.is_floating_point:
        from cgrad._ops_composites import _dtype_title     # here: at module level it closes an import cycle
        raise NotImplementedError(f"\"ctc_loss_cpu\" not implemented for '{_dtype_title(lp.dtype)}'")
    steps, batch_size, classes = (int(s) for s in lp.shape)
    if not (0 <= blank < classes):
        raise RuntimeError("blank must be in label range")
    input_lengths = _lengths(input_lengths, "input_lengths")
    target_lengths = _lengths(target_lengths, "target_lengths")
    if input_lengths.shape[0] != batch_size:
        raise RuntimeError("input_lengths must be of size batch_size")
    if target_lengths.shape[0] != batch_size:
        raise RuntimeError("target_lengths must be of size batch_size")
    for name, lengths in (("target_lengths", target_lengths), ("input_lengths", input_lengths)):
        if lengths.size and lengths.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(lengths.min())}"
                               f"{_CHECKING}")
    padded = _padded_targets(targets, target_lengths, batch_size)
    if input_lengths.size and input_lengths.max() > steps:
        raise RuntimeError(f"Expected input_lengths to have value at most {steps}, but got value "
                           f"{int(input_lengths.max())}{_CHECKING}")
    used = np.arange(padded.shape[1]) < target_lengths[:, None]
    if used.any() and (padded[used].min() < 0 or padded[used].max() >= classes):
        # PyTorch reads out of bounds here; an error keeps the kernel's reads inside log_probs
        raise RuntimeError(f"ctc_loss: targets must be class indices in [0, {classes}), got "
                           f"{int(padded[used].min() if padded[used].min() < 0 else padded[used].max())}")

    lp64 = np.ascontiguousarray(lp.detach().numpy(), dtype=np.float64)
    nll, alpha = _C._ctc_loss_forward(lp64, padded, input_lengths, target_lengths, blank)
    losses = _C.from_numpy(nll.astype(lp.detach().numpy().dtype))

    def backward(grad):
        scale = np.ascontiguousarray(grad.detach().numpy(), dtype=np.float64).reshape(-1)
        if zero_infinity:
            scale = np.where(np.isinf(nll), 0.0, scale)
        result = _C.from_numpy(_C._ctc_loss_backward(lp64, padded, input_lengths, target_lengths, blank, alpha,
                                                     nll, scale)).to(lp.dtype)
        if _C.is_grad_enabled() and (grad.requires_grad or lp.requires_grad):
            attach([result], "NotImplemented", [grad, lp], _no_double_backward)
        return (result,)

    attach([losses], "CtcLossBackward0", [lp], backward, jvp=forward_ad_not_implemented("_ctc_loss"))
    if zero_infinity:
        losses = _C.where(losses == float("inf"), _C.zeros((), dtype=losses.dtype), losses)
    if reduction == 1:
        lengths = _C.tensor(target_lengths.tolist(), dtype=losses.dtype).clamp_min(1)
        result = (losses / lengths).mean()
    elif reduction == 2:
        result = losses.sum()
    else:
        result = losses
    return result if batched or reduction != 0 else result.squeeze(0)


def _no_double_backward(grads):
    raise RuntimeError("derivative for aten::_ctc_loss_backward is not implemented")
