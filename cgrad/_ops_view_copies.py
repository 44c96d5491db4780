"""The copying forms PyTorch gives its view ops: the `*_copy` functions
(expand_copy, permute_copy, select_copy, ...: the view's values in a new
contiguous tensor), the `*_scatter` functions (select_scatter,
slice_scatter, diagonal_scatter, as_strided_scatter: a copy of the input
with src written into the view's elements), and unsafe_split/unsafe_chunk
(split whose pieces are not views).

Each is the view op plus a copy, so the view's differentiable graph gives
the gradients; the result carries PyTorch's node name (the view's node
name with "_copy" appended, or the scatter's own), see cgrad.nn._named_node.
"""
from cgrad import _C
from cgrad._ops_composites import _method
from cgrad.nn._named_node import named

_VIEW_COPIES = {
    "diagonal_copy": "diagonal", "expand_copy": "expand", "permute_copy": "permute", "select_copy": "select",
    "squeeze_copy": "squeeze", "t_copy": "t", "transpose_copy": "transpose", "unfold_copy": "unfold",
    "unsqueeze_copy": "unsqueeze", "view_copy": "view", "as_strided_copy": "as_strided",
}
_SPLIT_COPIES = {"split_copy": "split", "split_with_sizes_copy": "split", "unbind_copy": "unbind"}

__all__ = sorted([*_VIEW_COPIES, *_SPLIT_COPIES, "alias_copy", "slice_copy", "detach_copy", "select_scatter",
                  "slice_scatter", "diagonal_scatter", "as_strided_scatter", "unsafe_split", "unsafe_chunk",
                  "unsafe_split_with_sizes"])


def _copy_of_view(view, out=None, function_name=None):
    """view's values in a fresh contiguous tensor whose node is named after
    the view's (PermuteBackward0 -> PermuteBackward0_copy)."""
    result = view.clone(memory_format=_C.contiguous_format)
    if view.grad_fn is not None:
        result = named(result, type(view.grad_fn).__name__ + "_copy")
    return result if out is None else _C._with_out(result, out, function_name)


def _view_copy_function(name, view_name):
    def function(input, *args, out=None, **kwargs):
        return _copy_of_view(getattr(input, view_name)(*args, **kwargs), out, name)
    function.__name__ = function.__qualname__ = name
    return function


def _split_copy_function(name, view_name):
    def function(input, *args, **kwargs):
        return tuple(_copy_of_view(piece) for piece in getattr(input, view_name)(*args, **kwargs))
    function.__name__ = function.__qualname__ = name
    return function


for _name, _view in _VIEW_COPIES.items():
    globals()[_name] = _view_copy_function(_name, _view)
for _name, _view in _SPLIT_COPIES.items():
    globals()[_name] = _split_copy_function(_name, _view)


def alias_copy(input, *, out=None):
    result = input.clone(memory_format=_C.contiguous_format)
    result = named(result, "AliasBackward0_copy") if input.requires_grad else result
    return result if out is None else _C._with_out(result, out, "alias_copy")


def slice_copy(input, dim=0, start=None, end=None, step=1, *, out=None):
    return _copy_of_view(_slice(input, dim, start, end, step), out, "slice_copy")


def detach_copy(input, *, out=None):
    result = input.detach().clone(memory_format=_C.contiguous_format)
    return result if out is None else _C._with_out(result, out, "detach_copy")


def _slice(input, dim, start, end, step):
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    index = [slice(None)] * input.dim()
    index[dim] = slice(start, end, step)
    return input[tuple(index)]


def _scatter_into_view(input, src, view_of, name):
    """A copy of input with src written where view_of(copy) looks; the
    copy's history (CopySlices over a clone) routes the gradient to both."""
    result = input.clone(memory_format=_C.contiguous_format)
    view = view_of(result)
    if tuple(src.shape) != tuple(view.shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = {list(src.shape)}, "
                           f"slice size = {list(view.shape)}")
    view.copy_(src)
    return named(result, name)


def select_scatter(input, src, dim, index):
    return _scatter_into_view(input, src, lambda t: t.select(dim, index), "SelectScatterBackward0")


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    return _scatter_into_view(input, src, lambda t: _slice(t, dim, start, end, step), "SliceScatterBackward0")


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    return _scatter_into_view(input, src, lambda t: t.diagonal(offset, dim1, dim2), "DiagonalScatterBackward0")


def as_strided_scatter(input, src, size, stride, storage_offset=None):
    return _scatter_into_view(input, src, lambda t: t.as_strided(size, stride, storage_offset),
                              "AsStridedScatterBackward0")


def _pieces_not_views(pieces, name):
    return tuple(named(piece.clone(), name) if piece.grad_fn is not None else piece.clone() for piece in pieces)


def unsafe_split(input, split_size, dim=0):
    return _pieces_not_views(input.split(split_size, dim), "UnsafeSplitBackward0")


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    return _pieces_not_views(input.split(list(split_sizes), dim), "UnsafeSplitWithSizesBackward0")


def unsafe_chunk(input, chunks, dim=0):
    return _pieces_not_views(input.chunk(chunks, dim), "UnsafeSplitBackward0")


_C._install_missing_tensor_methods({name: _method(globals()[name]) for name in (
    "select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter", "unsafe_split", "unsafe_chunk",
    "unsafe_split_with_sizes")})
