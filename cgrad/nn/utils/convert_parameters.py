"""Parameters as one flat vector and back (torch.nn.utils.convert_parameters):
one cat, and one view per parameter."""
from cgrad._C import Tensor

__all__ = ["parameters_to_vector", "vector_to_parameters"]


def _typename(obj):
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    return type(obj).__qualname__ if module == "builtins" else f"{module}.{type(obj).__qualname__}"


def parameters_to_vector(parameters):
    """All parameters flattened and concatenated, in order."""
    from cgrad import _C
    return _C.cat([param.view(-1) for param in parameters])


def vector_to_parameters(vec, parameters):
    """Make each parameter's data the next slice of vec (shared, not copied)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for param in parameters:
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
