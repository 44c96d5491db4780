"""nn.utils.weight_norm / remove_weight_norm (PyTorch's deprecated hook
form of weight normalisation): the parameter `name` is replaced by a
magnitude `name_g` and a direction `name_v`, and a forward pre-hook
recomputes name = v * (g / ||v||) (the norm over every dim but `dim`)
before each call; _weight_norm is that formula, named as PyTorch's fused
WeightNormInterfaceBackward0 where PyTorch fuses it."""
import warnings

from cgrad import _C
from cgrad.nn._named_node import named
from cgrad.nn.parameter import Parameter

__all__ = ["WeightNorm", "weight_norm", "remove_weight_norm", "norm_except_dim"]


def norm_except_dim(v, pow=2, dim=0):
    """The pow-norm of v over every dim but `dim` (kept as size 1), or the
    whole norm for dim=-1."""
    if dim == -1:
        return v.norm(pow)
    dim = dim % v.dim()
    reduce_dims = tuple(d for d in range(v.dim()) if d != dim)
    from cgrad import linalg
    return linalg.vector_norm(v, pow, reduce_dims, True)


def _weight_norm(v, g, dim=0):
    result = v * (g / norm_except_dim(v, 2, dim))
    # PyTorch's fused kernel (and node) serves the first and last dims; other dims run this composite
    return named(result, "WeightNormInterfaceBackward0") if dim in (0, v.dim() - 1) else result


class WeightNorm:
    def __init__(self, name, dim):
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module):
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        return _weight_norm(v, g, self.dim)

    @staticmethod
    def apply(module, name, dim):
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(f"Cannot register two weight_norm hooks on the same parameter {name}")
        if dim is None:
            dim = -1
        fn = WeightNorm(name, dim)
        weight = getattr(module, name)
        del module._parameters[name]
        module.register_parameter(name + "_g", Parameter(norm_except_dim(weight, 2, dim).detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module):
        with _no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module, inputs):
        setattr(module, self.name, self.compute_weight(module))


def _no_grad():
    from cgrad.autograd.grad_mode import no_grad
    return no_grad()


def weight_norm(module, name="weight", dim=0):
    warnings.warn("`torch.nn.utils.weight_norm` is deprecated in favor of "
                  "`torch.nn.utils.parametrizations.weight_norm`.", FutureWarning, stacklevel=2)
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module, name="weight"):
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")
