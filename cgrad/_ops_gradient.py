"""cgrad.gradient: PyTorch's numerical gradient of sampled values by
finite differences (second-order central differences inside, first- or
second-order one-sided ones at the two ends), along each requested dim.

Written with cgrad's differentiable ops (narrow, arithmetic, cat), so the
result has PyTorch's values and dtypes (integer input gives the default
float dtype, through true division) and autograd flows through it. The
spacing forms follow PyTorch's overloads: one number for every dim, one
number per dim, or one 1-D coordinate tensor per dim (uneven samples, for
which the stencil weights are computed from the coordinate differences).
"""
import numbers

from cgrad import _C
from cgrad._op_support import typename, wrap_dim, wrap_dim_list

_SIGNATURES = (
    " * (Tensor input, *, tuple of ints dim, int edge_order = 1)\n"
    " * (Tensor input, *, Number spacing, tuple of ints dim, int edge_order = 1)\n"
    " * (Tensor input, *, Number spacing = None, int dim = None, int edge_order = 1)\n"
    " * (Tensor input, *, tuple of Scalars spacing, int dim = None, int edge_order = 1)\n"
    " * (Tensor input, *, tuple of Scalars spacing, tuple of ints dim, int edge_order = 1)\n"
    " * (Tensor input, *, tuple of Tensors spacing, int dim = None, int edge_order = 1)\n"
    " * (Tensor input, *, tuple of Tensors spacing, tuple of ints dim, int edge_order = 1)\n")


def _bad_arguments(input, spacing, dim, edge_order):
    given = [typename(input)]
    for name, value in (("spacing", spacing), ("dim", dim), ("edge_order", edge_order)):
        if value is not None and not (name == "edge_order" and value == 1):
            given.append(f"{name}={typename(value)}")
    return TypeError(f"gradient() received an invalid combination of arguments - got ({', '.join(given)}), "
                     f"but expected one of:\n{_SIGNATURES}")


def _dims(dim, ndim):
    """The dims to differentiate along: every dim, one int, or a list of
    distinct ints (PyTorch's dim_list_to_bitset checks)."""
    if dim is None:
        return list(range(ndim))
    if isinstance(dim, int) and not isinstance(dim, bool):
        return [wrap_dim(dim, ndim)]
    return wrap_dim_list(dim, ndim)


def _slice(x, dim, start, stop=None):
    """x[start:stop] along dim, Python's negative indices."""
    n = x.shape[dim]
    start = start + n if start < 0 else start
    stop = n if stop is None else (stop + n if stop < 0 else stop)
    return x.narrow(dim, start, stop - start)


def _along_uniform(x, d, step, edge_order):
    center = (_slice(x, d, 2) - _slice(x, d, 0, -2)) / step
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / step
        last = (_slice(x, d, -1) - _slice(x, d, -2, -1)) / step
    else:
        first = (-1.5 * _slice(x, d, 0, 1) + 2 * _slice(x, d, 1, 2) - 0.5 * _slice(x, d, 2, 3)) / step
        last = (0.5 * _slice(x, d, -3, -2) - 2 * _slice(x, d, -2, -1) + 1.5 * _slice(x, d, -1)) / step
    return _C.cat([first, center / 2, last], d)


def _along_coordinates(x, d, coords, edge_order):
    shape = [1] * x.dim()
    shape[d] = -1
    h = coords.diff(1, 0)
    h1, h2 = _slice(h, 0, 0, -1), _slice(h, 0, 1)
    w0 = (-h2 / (h1 * (h1 + h2))).reshape(shape)
    w1 = ((h2 - h1) / (h1 * h2)).reshape(shape)
    w2 = (h1 / (h2 * (h1 + h2))).reshape(shape)
    center = w0 * _slice(x, d, 0, -2) + w1 * _slice(x, d, 1, -1) + w2 * _slice(x, d, 2)
    if edge_order == 1:
        first = (_slice(x, d, 1, 2) - _slice(x, d, 0, 1)) / h[0]
        last = (_slice(x, d, -1) - _slice(x, d, -2, -1)) / h[-1]
    else:
        a, b = h[0], h[1]
        first = (-(2.0 * a + b) / (a * (a + b)) * _slice(x, d, 0, 1) + (a + b) / (a * b) * _slice(x, d, 1, 2)
                 + (-a) / (b * (a + b)) * _slice(x, d, 2, 3))
        a, b = h[-1], h[-2]
        last = (a / (b * (a + b)) * _slice(x, d, -3, -2) - (a + b) / (a * b) * _slice(x, d, -2, -1)
                + (2 * a + b) / (a * (a + b)) * _slice(x, d, -1))
    return _C.cat([first, center, last], d)


def gradient(input, *, spacing=None, dim=None, edge_order=1):
    """Estimates the gradient of the function whose samples are input, one
    tensor per dim (PyTorch's torch.gradient)."""
    if not isinstance(input, _C.Tensor):
        raise _bad_arguments(input, spacing, dim, edge_order)
    if isinstance(edge_order, bool) or not isinstance(edge_order, int):
        raise _bad_arguments(input, spacing, dim, edge_order)
    if spacing is None:
        spacing_list = None
    elif isinstance(spacing, numbers.Number) and not isinstance(spacing, bool):
        spacing_list = "scalar"
    elif isinstance(spacing, (list, tuple)) and all(isinstance(s, _C.Tensor) for s in spacing) and spacing:
        spacing_list = list(spacing)
    elif isinstance(spacing, (list, tuple)) and all(
            isinstance(s, numbers.Number) and not isinstance(s, bool) for s in spacing):
        spacing_list = list(spacing)
    else:
        raise _bad_arguments(input, spacing, dim, edge_order)
    if dim is not None and not (isinstance(dim, int) and not isinstance(dim, bool)) and not (
            isinstance(dim, (list, tuple)) and all(isinstance(d, int) and not isinstance(d, bool) for d in dim)):
        raise _bad_arguments(input, spacing, dim, edge_order)
    if input.dtype == _C.uint8:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    ndim = input.dim()
    dims = _dims(dim, ndim)
    if isinstance(spacing_list, list):
        if dim is None and len(spacing_list) != ndim:
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar, or a list of length "
                               f"equal to 'self.dim() = {ndim}', since dim argument was not given, but got a list "
                               f"of length {len(spacing_list)}")
        if dim is not None and len(spacing_list) != len(dims):
            raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                               f"arguments to have the same length, but got a spacing argument of length "
                               f"{len(spacing_list)} and a dim argument of length {len(dims)}.")
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    if spacing_list is None or spacing_list == "scalar":
        step = 1.0 if spacing is None else spacing
        return tuple(_along_uniform(input, d, step, edge_order) for d in dims)
    if isinstance(spacing_list[0], _C.Tensor):
        for coords in spacing_list:
            if coords.dim() != 1:
                raise RuntimeError("torch.gradient expected each element of spacing to have one dimension, but got "
                                   f"an element with {coords.dim()} dimensions!")
        return tuple(_along_coordinates(input, d, c, edge_order) for d, c in zip(dims, spacing_list))
    return tuple(_along_uniform(input, d, s, edge_order) for d, s in zip(dims, spacing_list))
