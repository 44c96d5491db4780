"""Tensor methods PyTorch keeps for old code and introspection: the
removed linear-algebra methods (solve, lstsq, eig, symeig: PyTorch's
errors naming their replacements), the deprecated out-of-place resize and
resize_as (PyTorch's autograd Resize: a reshape keeping the element count,
with PyTorch's warning), nonzero_static,
new_empty_strided, dim_order, const_data_ptr, to_dense, prelu
and the always-false volatile."""
import warnings

from cgrad import _C, _linalg_composites

__all__ = ["TENSOR_METHODS"]


def _resize_function():
    """PyTorch's autograd Resize (torch.autograd._functions): a reshape that
    keeps the element count, its node ResizeBackward. Made on first use:
    cgrad.autograd comes after this module."""
    global _Resize
    if _Resize is None:
        from cgrad.autograd import Function

        class Resize(Function):
            @staticmethod
            def forward(ctx, tensor, sizes):
                ctx.sizes = sizes
                ctx.numel = 1
                for s in sizes:
                    ctx.numel = ctx.numel * s
                if tensor.numel() != ctx.numel:
                    raise RuntimeError(
                        f"requested resize to {'x'.join(map(str, sizes))} ({ctx.numel} elements in total), but the "
                        f"given tensor has a size of {'x'.join(map(str, tensor.size()))} ({tensor.numel()} elements). "
                        "autograd's resize can only change the shape of a given tensor, while preserving the number "
                        "of elements. ")
                ctx.input_sizes = tensor.size()
                if tensor.is_contiguous():
                    return _C.Tensor(tensor).contiguous().view(*sizes)
                return tensor.contiguous().view(*sizes)

            @staticmethod
            def backward(ctx, grad_output):
                return grad_output.contiguous().view(ctx.input_sizes), None

        _Resize = Resize
    return _Resize


_Resize = None


def _resize(self, *sizes):
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    return _resize_function().apply(self, sizes)


def _resize_as(self, tensor):
    warnings.warn("non-inplace resize_as is deprecated", stacklevel=2)
    return _resize_function().apply(self, tensor.size())


def _nonzero_static(self, *, size, fill_value=-1):
    """nonzero()'s rows, cut or padded with fill_value to exactly `size` rows."""
    if size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    found = self.nonzero()
    rows = min(size, found.shape[0])
    out = _C.full((size, self.dim()), fill_value, dtype=_C.int64)
    if rows:
        out[:rows] = found[:rows]
    return out


def _new_empty_strided(self, size, stride, *, dtype=None, layout=None, device=None, pin_memory=False,
                       requires_grad=False):
    from cgrad._factories_extra import empty_strided
    out = empty_strided(size, stride, dtype=self.dtype if dtype is None else dtype)
    return out.requires_grad_(requires_grad) if requires_grad else out


def _dim_order(self, *, ambiguity_check=False):
    """The dims from outermost to innermost in memory (largest stride first;
    ties keep the dims' order)."""
    strides = self.stride()
    return tuple(sorted(range(self.dim()), key=lambda d: -strides[d]))


def _volatile(self):
    warnings.warn("volatile was removed (Variable.volatile is always False)", stacklevel=2)
    return False


def _to_dense(self, dtype=None, *, masked_grad=None):
    return self if dtype is None else self.to(dtype)      # a strided tensor is already dense


TENSOR_METHODS = {
    "solve": _linalg_composites.solve, "lstsq": _linalg_composites.lstsq, "eig": _linalg_composites.eig,
    "symeig": _linalg_composites.symeig, "resize": _resize, "resize_as": _resize_as,
    "nonzero_static": _nonzero_static, "new_empty_strided": _new_empty_strided, "dim_order": _dim_order,
    "const_data_ptr": lambda self: self.data_ptr(), "to_dense": _to_dense,
    "prelu": lambda self, weight: _C.prelu(self, weight),
    "volatile": property(_volatile),
}

_C._install_missing_tensor_methods(TENSOR_METHODS)
