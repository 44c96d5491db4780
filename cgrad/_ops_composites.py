"""Everyday PyTorch functions and Tensor methods that cgrad builds from its
existing differentiable ops (expand, narrow, flip, cat, index_select, mul,
add, ...), found missing by running tutorial-style scripts with
`import cgrad as torch` (tests/scripts/): addcmul/addcdiv, repeat_interleave,
broadcast_to, diff, fliplr/flipud, tensor_split and h/v/dsplit,
dstack/column_stack, isin, logspace, inner, dist, the in-place comparison,
logical and pow forms, fill_diagonal_ and a few predicates.

Where PyTorch records one node of its own (AddcmulBackward0,
DistBackward0), the result carries that name (cgrad.nn._named_node); the
composite's graph computes the gradients. Importing this module installs
the methods (cgrad/_tensor_ops.py imports it)."""
import builtins

import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import numpy_dim_spellings
from cgrad.autograd.function import Function
from cgrad.nn._named_node import named
from cgrad._op_support import typename

__all__ = ["addcmul", "addcdiv", "repeat_interleave", "broadcast_to", "diff", "fliplr", "flipud",
           "tensor_split", "hsplit", "vsplit", "dsplit", "dstack", "column_stack", "isin", "logspace",
           "inner", "dist", "is_nonzero", "is_same_size", "is_signed", "argwhere", "broadcast_shapes",
           "broadcast_tensors", "asarray"]


def _as_tensor(x):
    return x if isinstance(x, _C.Tensor) else _C.tensor(x)


class _Addc(Function):
    """addcmul / addcdiv with PyTorch's value (one fused kernel, fma_rows.h)
    and PyTorch's derivative formulas in its order of operations
    (derivatives.yaml), the node renamed AddcmulBackward0 /
    AddcdivBackward0 by the subclasses below."""
    divide = False

    @classmethod
    def forward(cls, ctx, input, tensor1, tensor2, value, tangents):
        ctx.value = value
        if tangents:        # jvp reads the primals (kept only then: backward has its saved ones)
            ctx.primals = (tensor1, tensor2)
        ctx.shapes = (input.shape, tensor1.shape, tensor2.shape)
        ctx.dtypes = (input.dtype, tensor1.dtype, tensor2.dtype)
        ctx.save_for_backward(tensor1, tensor2)
        return _C._addc_values(input, tensor1, tensor2, value, cls.divide)

    @classmethod
    def backward(cls, ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        value = ctx.value
        need = ctx.needs_input_grad
        g_self = g_t1 = g_t2 = None
        if need[0]:
            g_self = grad
        if cls.divide:
            if need[1]:
                g_t1 = grad * _C.full_like(tensor2, value).div_(tensor2)
            if need[2]:
                g_t2 = -grad * ((tensor1 * value) / (tensor2 * tensor2))
        else:
            if need[1]:
                g_t1 = grad * (tensor2 * value)
            if need[2]:
                g_t2 = grad * (tensor1 * value)
        return (*(None if g is None else _sum_to(g, shape, dtype)
                  for g, shape, dtype in zip((g_self, g_t1, g_t2), ctx.shapes, ctx.dtypes)), None, None)

    @classmethod
    def jvp(cls, ctx, self_t, tensor1_t, tensor2_t, *_):
        # derivatives.yaml's result: formulas (maybe_multiply: by value unless it is 1)
        tensor1, tensor2 = ctx.primals
        del ctx.primals
        value = ctx.value
        if cls.divide:
            first, second = tensor1_t / tensor2, tensor2_t * (tensor1 / tensor2) / tensor2
            if value != 1:
                first, second = first * value, second * value
            return self_t + first - second
        first, second = tensor1_t * tensor2, tensor2_t * tensor1
        if value != 1:
            first, second = first * value, second * value
        return self_t + first + second


def _sum_to(grad, shape, dtype):
    """A gradient summed over the dims its input was broadcast along and
    cast to its dtype, as PyTorch's engine does."""
    if grad.shape != shape:
        grad = grad.sum_to_size(shape)
    return grad if grad.dtype == dtype else grad.to(dtype)


def _addc_node(name, divide):
    cls = type("_" + name, (_Addc,), {"divide": divide})
    node = cls._backward_cls
    node.__name__ = node.__qualname__ = name
    node.__module__ = "cgrad._C"
    node.__repr__ = lambda self: f"<{name} object at {id(self):#x}>"
    return cls


_Addcmul = _addc_node("AddcmulBackward0", False)
_Addcdiv = _addc_node("AddcdivBackward0", True)


def _addc(fn, input, tensor1, tensor2, value, divide):
    """The fused kernel's value (through the node when recorded or a
    tangent is carried) where it serves the dtype and the inputs are plain
    tensors; else (integer arithmetic, vmap's batched tensors) None, for
    the composite."""
    if type(input) is not _C.Tensor or type(tensor1) is not _C.Tensor or type(tensor2) is not _C.Tensor:
        return None
    if not (input.is_floating_point() or tensor1.is_floating_point() or tensor2.is_floating_point()):
        return None
    route = _C._addc_route(input, tensor1, tensor2)
    if route:
        return fn.apply(input, tensor1, tensor2, value, route == 2)
    return _C._addc_values(input, tensor1, tensor2, value, divide)


def _value_first(name, method, value, tensor1, rest, value_kw):
    """(tensor1, tensor2, value) of PyTorch's deprecated addcmul(input, value,
    tensor1, tensor2) / input.addcmul(value, tensor1, tensor2) (addcdiv's
    too), after PyTorch's checks and its once-per-process warning
    (src/cgrad/tensor/deprecated_overloads.pxi)."""
    usual = 2 if method else 3          # the positional arguments of the current signature
    if len(rest) != 1 or isinstance(value, _C.Tensor) or not isinstance(value, (int, float, bool)):
        raise TypeError(f"{name}() takes {usual} positional arguments but {usual + len(rest)} were given")
    if not (type(value_kw) is int and value_kw == 1):
        raise TypeError(f"{name}() received an invalid combination of arguments - got unrecognized "
                        f"keyword arguments: value")
    if method:
        _C._warn_deprecated_overload(name, "Number value, Tensor tensor1, Tensor tensor2",
                                     "Tensor tensor1, Tensor tensor2, *, Number value = 1")
    else:
        _C._warn_deprecated_overload(
            name, "Tensor input, Number value, Tensor tensor1, Tensor tensor2, *, Tensor out = None",
            "Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1, Tensor out = None")
    return tensor1, rest[0], value


def addcmul(input, tensor1, tensor2, *deprecated, value=1, out=None):
    if deprecated:
        tensor1, tensor2, value = _value_first("addcmul", False, tensor1, tensor2, deprecated, value)
    result = _addc(_Addcmul, input, tensor1, tensor2, value, False)
    if result is None:
        product = tensor1 * tensor2
        result = named(input + (product if value == 1 else value * product), "AddcmulBackward0")
    return _C._with_out(result, out, "addcmul")


def addcdiv(input, tensor1, tensor2, *deprecated, value=1, out=None):
    if deprecated:
        tensor1, tensor2, value = _value_first("addcdiv", False, tensor1, tensor2, deprecated, value)
    if not tensor1.is_floating_point() and not tensor2.is_floating_point():
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will "
            "perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
            "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer "
            "inputs and as (input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
            "behavior is just the latter implementation: (input + value * tensor1 / tensor2), for all dtypes.")
    result = _addc(_Addcdiv, input, tensor1, tensor2, value, True)
    if result is None:
        quotient = tensor1 / tensor2
        result = named(input + (quotient if value == 1 else value * quotient), "AddcdivBackward0")
    return _C._with_out(result, out, "addcdiv")


def _normalize_dim(dim, ndim):
    wrapped = builtins.max(ndim, 1)
    if not -wrapped <= dim < wrapped:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-wrapped}, {wrapped - 1}], "
                         f"but got {dim})")
    return dim % wrapped


@numpy_dim_spellings
def repeat_interleave(input, repeats=None, dim=None, *, output_size=None):
    """ATen's three overloads: repeat_interleave(counts) gives each index i
    counts[i] times; a tensor of repeats goes through that and index_select
    (IndexSelectBackward0, even for one repeat count); an int repeats a
    broadcast view, flattened (ViewBackward0)."""
    if repeats is None:
        return _repeat_interleave_counts(input, output_size)
    if isinstance(repeats, (bool, float)) or not isinstance(repeats, (int, _C.Tensor)):
        got = ", ".join(typename(a) for a in (input, repeats)) + ("" if dim is None else f", dim={typename(dim)}")
        raise TypeError(f"repeat_interleave() received an invalid combination of arguments - got ({got}), but "
                        "expected one of:\n * (Tensor input, Tensor repeats, int dim = None, *, int output_size = None)"
                        "\n * (Tensor repeats, *, int output_size = None)\n * (Tensor input, int repeats, "
                        "int dim = None, *, int output_size = None)\n")
    if isinstance(repeats, _C.Tensor):
        if dim is None:
            input = input.flatten()
            dim = 0
        dim = _normalize_dim(dim, input.dim())
        size = input.shape[dim] if input.dim() else 1
        if repeats.dim() == 0 or (repeats.dim() == 1 and repeats.shape[0] == 1):
            repeats = repeats.reshape(1).expand(size)
        elif repeats.dim() == 1:
            if repeats.shape[0] != size:
                raise RuntimeError(f"repeats must have the same size as input along dim, but got "
                                   f"repeats.size(0) = {repeats.shape[0]} and input.size({dim}) = {size}")
        else:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        return _C.index_select(input, dim, _repeat_interleave_counts(repeats, output_size))
    if dim is None:
        input = input.flatten()
        dim = 0
    dim = _normalize_dim(dim, input.dim())
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    shape = list(input.shape)
    expanded = input.unsqueeze(dim + 1)
    expanded = expanded.expand(*shape[:dim + 1], repeats, *shape[dim + 1:])
    if output_size is not None and output_size != shape[dim] * repeats:
        raise RuntimeError(f"repeat_interleave: Invalid output_size, expected {shape[dim] * repeats} but got "
                           f"{output_size}")
    return expanded.contiguous().view(*shape[:dim], shape[dim] * repeats, *shape[dim + 1:])


def _repeat_interleave_counts(counts, output_size):
    """repeat_interleave(counts): arange(len(counts)), each counts[i] times, in counts' dtype."""
    if counts.dtype not in (_C.int32, _C.int64):
        raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{dtype_title(counts.dtype)}'")
    if counts.dim() != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    values = counts.numpy()
    if (values < 0).any():
        raise RuntimeError("repeats can not be negative")
    if output_size is not None and output_size != int(values.sum()):
        raise RuntimeError("allocated size does not match required size")
    return _C.tensor(np.repeat(np.arange(values.size), values), dtype=counts.dtype)


def broadcast_to(input, size):
    if not hasattr(input, "expand"):   # tensors and vmap's batched tensors pass
        raise TypeError(f"broadcast_to(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.expand(size)


def _broadcast_to_method(self, *size, **kwargs):
    """Tensor.broadcast_to takes the sizes as one sequence or spread out,
    as Tensor.expand does (the function takes one sequence)."""
    if kwargs:
        return broadcast_to(self, **kwargs)
    if not size:
        raise TypeError('broadcast_to() missing 1 required positional arguments: "size"')
    return broadcast_to(self, size[0] if len(size) == 1 else size)


_broadcast_to_method.__name__ = _broadcast_to_method.__qualname__ = "broadcast_to"


def broadcast_shapes(*shapes):
    """The shape all of `shapes` broadcast to (ints count as 1-D shapes)."""
    shapes = [(s,) if isinstance(s, int) else tuple(s) for s in shapes]
    result = [1] * builtins.max((len(s) for s in shapes), default=0)
    for position, shape in enumerate(shapes):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension ({shape[i]}): ({shape[i]})")
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                                   f"argument at index {position} had {shape}; but expected shape should be "
                                   f"broadcastable to {result}")
            result[i] = shape[i]
    return _C.Size(result)


def _infer_size(a, b):
    """ATen's infer_size: the broadcast of two shapes, checked from the last
    dim; the error names the accumulated shape a and the next one b."""
    ndim = builtins.max(len(a), len(b))
    result = [1] * ndim
    for i in range(ndim - 1, -1, -1):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if len(a) - 1 - offset >= 0 else 1
        size_b = b[len(b) - 1 - offset] if len(b) - 1 - offset >= 0 else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) at "
                               f"non-singleton dimension {i}")
        result[i] = size_b if size_a == 1 else size_a
    return result


def broadcast_tensors(*tensors):
    for position, t in enumerate(tensors):
        if not isinstance(t, _C.Tensor):
            raise TypeError(f"expected Tensor as element {position} in argument 0, but got {type(t).__name__}")
    shape = list(tensors[0].shape) if tensors else []
    for t in tensors[1:]:
        shape = _infer_size(shape, tuple(t.shape))
    return tuple(t.expand(shape) for t in tensors)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """obj as a tensor, sharing its memory when it can (a tensor of the
    right dtype, a numpy array) unless copy=True; copy=False refuses to
    copy."""
    if isinstance(obj, _C.Tensor):
        result = obj if dtype is None or obj.dtype == dtype else obj.to(dtype)
        shared = result is obj
    elif isinstance(obj, np.ndarray):
        result = _C.as_tensor(obj, dtype=dtype)
        shared = dtype is None or result.dtype == _C.as_tensor(obj).dtype
    else:
        result = _C.tensor(obj, dtype=dtype)
        shared = False
    if copy is False and not shared:
        raise ValueError("can't alias tensor from a different type without copying" if isinstance(obj, _C.Tensor)
                         else "can't alias Python objects without copying")
    if copy and shared:
        result = result.clone()
    if requires_grad:
        result = result.detach().requires_grad_() if result is obj else result.requires_grad_()
    return result


@numpy_dim_spellings
def diff(input, n=1, dim=-1, prepend=None, append=None):
    if input.dim() == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = _normalize_dim(dim, input.dim())
    if prepend is not None or append is not None:
        input = _C.cat([_along(p, input, dim) for p in (prepend, input, append) if p is not None], dim)
    for _ in range(n):
        length = input.shape[dim]
        if length == 0:
            break
        later, earlier = input.narrow(dim, 1, length - 1), input.narrow(dim, 0, length - 1)
        input = _C.logical_xor(later, earlier) if input.dtype == _C.bool_ else later - earlier
    return input


def _along(part, input, dim):
    """prepend/append as diff joins it: a scalar becomes one slice of
    input's shape along dim."""
    part = _as_tensor(part)
    if part.dim() == 0:
        shape = list(input.shape)
        shape[dim] = 1
        return part.expand(*shape)
    return part


def fliplr(input):
    if input.dim() < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return input.flip(1)


def flipud(input):
    if input.dim() < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return input.flip(0)


def tensor_split(input, indices_or_sections, dim=0):
    dim = _normalize_dim(dim, input.dim())
    size = input.shape[dim]
    if isinstance(indices_or_sections, _C.Tensor):
        if indices_or_sections.dim() == 0:
            indices_or_sections = int(indices_or_sections.item())
        else:
            indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        sections = indices_or_sections
        if sections <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {sections}")
        small, extra = divmod(size, sections)
        lengths = [small + 1] * extra + [small] * (sections - extra)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).tolist()
    else:
        bounds = [0] + [builtins.min(builtins.max(i if i >= 0 else i + size, 0), size)
                        for i in indices_or_sections] + [size]
        starts = bounds[:-1]
        lengths = [builtins.max(end - start, 0) for start, end in zip(bounds[:-1], bounds[1:])]
    return tuple(input.narrow(dim, start, length) for start, length in zip(starts, lengths))


def _split_along(name, input, indices_or_sections, dim, min_dims):
    if input.dim() < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a "
                           f"tensor with {input.dim()} dimensions!")
    if isinstance(indices_or_sections, int):
        size = input.shape[dim]
        if indices_or_sections == 0 or size % indices_or_sections != 0:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {indices_or_sections}!")
    return tensor_split(input, indices_or_sections, dim)


def hsplit(input, indices_or_sections):
    if input.dim() < 1:
        raise RuntimeError("torch.hsplit requires a tensor with at least 1 dimension, but got a tensor with "
                           f"{input.dim()} dimensions!")
    return _split_along("hsplit", input, indices_or_sections, 1 if input.dim() > 1 else 0, 1)


def vsplit(input, indices_or_sections):
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input, indices_or_sections):
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def dstack(tensors, *, out=None):
    return _C._with_out(_C.cat([_C.atleast_3d(t) for t in tensors], 2), out, "dstack")


def column_stack(tensors, *, out=None):
    columns = [t.reshape(t.numel(), 1) if t.dim() <= 1 else t for t in tensors]
    return _C._with_out(_C.hstack(columns), out, "column_stack")


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    from cgrad._op_support import np_of     # (bfloat16 as float32: numpy has none)
    values = np_of(elements) if isinstance(elements, _C.Tensor) else np.asarray(elements)
    tests = np_of(test_elements) if isinstance(test_elements, _C.Tensor) else np.asarray(test_elements)
    return _C.from_numpy(np.isin(values, tests, assume_unique=assume_unique, invert=invert))


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None,
             requires_grad=False):
    exponents = _C.linspace(start, end, steps, dtype=_C.float64)
    result = _C.pow(_C.tensor(float(base), dtype=_C.float64), exponents)
    result = result.to(dtype if dtype is not None else _C.float32)
    if requires_grad:
        result.requires_grad_()
    return _C._with_out(result, out, "logspace")


def inner(input, other, *, out=None):
    if input.dim() == 0 or other.dim() == 0:
        return _C._with_out(input * other, out, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    from cgrad._ops_einsum import tensordot
    return _C._with_out(tensordot(input, other, dims=([-1], [-1])), out, "inner")


def dist(input, other, p=2):
    return named(_C.norm(input - other, p), "DistBackward0")


def is_nonzero(input):
    if input.numel() == 0:
        raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
    if input.numel() > 1:
        raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
    return bool(input.item())


def is_same_size(input, other):
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    return input.dtype not in (_C.uint8, _C.bool_)


def argwhere(input):
    return _C.nonzero(input)


_dtype_title = dtype_title      # the name its importers use


def _inplace(fn, name):
    """fn(self, ...) written into self, recorded as PyTorch records the
    in-place op (self's history continues at the result's node)."""
    def method(self, *args, **kwargs):
        _C._check_inplace(self)
        source = _C._old_value(self) if self.requires_grad and _C.is_grad_enabled() else self
        result = fn(source, *args, **kwargs)
        if result.dtype != self.dtype and not _C.can_cast(result.dtype, self.dtype):
            raise RuntimeError(f"result type {_dtype_title(result.dtype)} can't be cast to the desired output "
                               f"type {_dtype_title(self.dtype)}")
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(result.shape)}")
        return _C._commit_inplace(self, result)
    method.__name__ = method.__qualname__ = name
    return method


def _addc_method(fn, name):
    """Tensor.addcmul / addcdiv and their in-place forms, which also take
    PyTorch's deprecated (value, tensor1, tensor2)."""
    def method(self, tensor1, tensor2, *deprecated, value=1):
        if deprecated:
            tensor1, tensor2, value = _value_first(name, True, tensor1, tensor2, deprecated, value)
        return fn(self, tensor1, tensor2, value=value)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


def _logical_inplace(fn, name):
    """logical_and_/or_/xor_/not_: PyTorch has no derivative for them and
    leaves autograd out entirely: no in-place check (a leaf that requires
    grad is written too), the history unchanged, only the version bumped."""
    def method(self, *args, **kwargs):
        result = fn(self, *args, **kwargs)
        if tuple(result.shape) != tuple(self.shape):
            raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                               f"{list(result.shape)}")
        enabled = _C.is_grad_enabled()
        _C._set_grad_enabled(False)
        try:
            self.copy_(result)
        finally:
            _C._set_grad_enabled(enabled)
        return self
    method.__name__ = method.__qualname__ = name
    return method


def _fill_diagonal_(self, fill_value, wrap=False):
    if self.dim() < 2:
        raise RuntimeError("dimensions must larger than 1")
    shape = tuple(self.shape)
    if self.dim() > 2 and len(set(shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(shape, dtype=bool)
    if self.dim() == 2:
        rows, cols = shape
        diagonal = np.arange(builtins.min(rows, cols))
        mask[diagonal, diagonal] = True
        if wrap and rows > cols + 1:
            # the diagonal restarts one row below each square block
            flat = np.arange(0, rows * cols, cols + 1)
            mask.reshape(-1)[flat] = True
    else:
        diagonal = np.arange(shape[0])
        mask[(diagonal,) * self.dim()] = True
    return self.masked_fill_(_C.from_numpy(mask), fill_value)


def _method(fn):
    def method(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _alias(target, name):
    """A method under PyTorch's second name, calling the first by name (so
    that vmap's batched tensors dispatch it as their own)."""
    def method(self, *args, **kwargs):
        return getattr(self, target)(*args, **kwargs)
    method.__name__ = method.__qualname__ = name
    return method


def _comparison_inplace(name):
    compare = getattr(_C.Tensor, name)

    def method(self, other):
        return self.copy_(compare(self, other))
    method.__name__ = method.__qualname__ = name + "_"
    return method


_METHODS = {
    "addcmul": _addc_method(addcmul, "addcmul"), "addcdiv": _addc_method(addcdiv, "addcdiv"),
    "addcmul_": _addc_method(_inplace(addcmul, "addcmul_"), "addcmul_"),
    "addcdiv_": _addc_method(_inplace(addcdiv, "addcdiv_"), "addcdiv_"),
    "repeat_interleave": _method(repeat_interleave), "broadcast_to": _broadcast_to_method,
    "diff": _method(diff), "fliplr": _method(fliplr), "flipud": _method(flipud),
    "tensor_split": _method(tensor_split), "hsplit": _method(hsplit), "vsplit": _method(vsplit),
    "dsplit": _method(dsplit), "isin": _method(isin), "inner": _method(inner), "dist": _method(dist),
    "is_nonzero": _method(is_nonzero), "is_same_size": _method(is_same_size), "is_signed": _method(is_signed),
    "argwhere": _method(argwhere), "fill_diagonal_": _fill_diagonal_,
    "pow_": _inplace(_C.pow, "pow_"),
    "subtract": _alias("sub", "subtract"), "subtract_": _alias("sub_", "subtract_"),
    "multiply": _alias("mul", "multiply"), "multiply_": _alias("mul_", "multiply_"),
    "true_divide_": _inplace(_C.true_divide, "true_divide_") if hasattr(_C, "true_divide") else None,
    "logical_and_": _logical_inplace(_C.logical_and, "logical_and_"),
    "logical_or_": _logical_inplace(_C.logical_or, "logical_or_"),
    "logical_xor_": _logical_inplace(_C.logical_xor, "logical_xor_"),
    "logical_not_": _logical_inplace(_C.logical_not, "logical_not_"),
}
for _name in ("eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal"):
    if hasattr(_C.Tensor, _name):
        _METHODS[_name + "_"] = _comparison_inplace(_name)
_C._install_missing_tensor_methods(_METHODS)
