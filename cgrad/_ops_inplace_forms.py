"""The function forms PyTorch gives some Tensor methods (torch.detach,
torch.fill, torch.zero_, torch.clamp_min_, torch.addmv_, ...) and the
in-place methods cgrad was missing (bitwise_and_ and the other bitwise
forms, addmm_, renorm_), and apply_/map_, which call a Python function per
element (as PyTorch's do: they exist for convenience, not speed). Each
other one calls the existing op, so values, errors and the recorded
history are that op's."""
import numpy as np

from cgrad import _C
from cgrad._op_support import attach
from cgrad import _ops_numeric_composites as _numeric
from cgrad._ops_composites import _inplace
from cgrad._ops_einsum import beta_first_method

__all__ = ["is_inference", "get_device", "is_storage", "index_put_", "gcd_", "lcm_", "ldexp_", "detach", "detach_",
           "fill", "fill_", "zero_", "clamp_min_", "clamp_max_", "addmv_", "dropout_"]


def is_inference(input):
    return input.is_inference()


def get_device(input):
    return input.get_device()


def is_storage(obj):
    """False: cgrad exposes no storage objects (tensors own their buffers)."""
    return False


def index_put_(input, indices, values, accumulate=False):
    return input.index_put_(indices, values, accumulate)


def gcd_(input, other):
    return input.gcd_(other)


def lcm_(input, other):
    return input.lcm_(other)


def ldexp_(input, other):
    return input.ldexp_(other)


def detach(input):
    if not hasattr(input, "detach"):   # tensors and vmap's batched tensors pass
        raise TypeError(f"detach(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.detach()


def detach_(input):
    return input.detach_()


def fill(input, value):
    """A new tensor of input's shape and dtype filled with value (a number
    or a 0-d tensor); the gradient reaches a tensor value, not input."""
    if isinstance(value, _C.Tensor):
        if value.dim() != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.dim()} "
                               "dimensions.")
        result = _C.empty_like(input).copy_(value.detach().expand(input.shape))
        attach([result], "FillBackward1", [input, value],
               lambda grad: (_C.zeros_like(input), grad.sum().to(value.dtype)),
               jvp=lambda tangents, nr: None if tangents[1] is None else tangents[1].expand(input.shape).clone())
        return result
    result = _C.full_like(input, value)
    attach([result], "FillBackward0", [input], lambda grad: (_C.zeros_like(input),),
           jvp=lambda tangents, nr: _C.zeros_like(result))
    return result


def fill_(input, value):
    return input.fill_(value)


def zero_(input):
    return input.zero_()


def clamp_min_(input, min):
    return input.clamp_min_(min)


def clamp_max_(input, max):
    return input.clamp_max_(max)


def addmv_(input, mat, vec, *, beta=1, alpha=1):
    return input.addmv_(mat, vec, beta=beta, alpha=alpha)


def dropout_(input, p=0.5, train=True):
    from cgrad.nn import functional as F
    return F.dropout(input, p, train, inplace=True)


def _bitwise_inplace(operator_name, name):
    operator = getattr(_C.Tensor, operator_name)
    function = getattr(_C, name[:-1])

    def method(self, other):
        result = operator(self, other)
        if result is NotImplemented:     # the function's argument error
            function(self, other)
        return result
    method.__name__ = method.__qualname__ = name
    return method


def _bitwise_not_(self):
    return self.copy_(self.bitwise_not())


def _refuse_grad(self, name):
    if self.requires_grad:
        raise RuntimeError(f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() instead.")


def _call_per_element(self, callable, *others):
    """self[i] = callable(self[i], *(other[i] for other in others)), in place."""
    values = self.numpy()
    results = np.frompyfunc(callable, 1 + len(others), 1)(values, *others) if values.size else values
    return self.copy_(_C.from_numpy(np.array(results, dtype=values.dtype, order="C")))


def _apply_(self, callable):
    _refuse_grad(self, "apply_")
    return _call_per_element(self, callable)


def _map_(self, tensor, callable):
    """tensor broadcasts to self."""
    _refuse_grad(self, "map_")
    return _call_per_element(self, callable, tensor.expand(self.shape).numpy())


_C._install_missing_tensor_methods({
    "apply_": _apply_,
    "map_": _map_,
    "bitwise_and_": _bitwise_inplace("__iand__", "bitwise_and_"),
    "bitwise_or_": _bitwise_inplace("__ior__", "bitwise_or_"),
    "bitwise_xor_": _bitwise_inplace("__ixor__", "bitwise_xor_"),
    "bitwise_left_shift_": _bitwise_inplace("__ilshift__", "bitwise_left_shift_"),
    "bitwise_right_shift_": _bitwise_inplace("__irshift__", "bitwise_right_shift_"),
    "bitwise_not_": _bitwise_not_,
    "addmm_": beta_first_method(_inplace(_C.addmm, "addmm_"), "addmm_"),
    "gcd_": _inplace(_numeric.gcd, "gcd_"),
    "lcm_": _inplace(_numeric.lcm, "lcm_"),
    "renorm_": _inplace(_numeric.renorm, "renorm_"),
})
