"""Text form of cgrad tensors, matching PyTorch's ``repr`` character for character.

The module has three layers:

1. Options: ``PRINT_OPTS`` and ``set_printoptions`` (PyTorch's semantics and
   its 'default', 'short' and 'full' profiles).
2. Element style: ``_ElementFormatter`` looks at the values that will
   actually be shown (only the edges of a summarized tensor) and picks one
   fixed-width style for all of them: integer (``1.``), fixed point
   (``1.5000``) or scientific (``1.5000e+03``).
3. Layout: ``_nested_str`` writes the nested brackets, wraps long rows and
   puts ``...`` in summarized tensors; ``format_tensor`` adds the
   ``tensor(`` prefix and the dtype / size / grad suffixes.

The values are read through a zero-copy numpy view of the tensor, so nothing
here records autograd history.
"""
import contextlib
import dataclasses
import math

import numpy as np

import cgrad  # partially initialised while cgrad/__init__ imports us: use lazily

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "format_tensor"]

_PREFIX = "tensor("


# ---------------------------------------------------------------- options

@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: object = None  # None (choose automatically), True or False


PRINT_OPTS = _PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Set the options for printing tensors, as ``torch.set_printoptions``.

    precision: digits after the decimal point (default 4).
    threshold: number of elements above which a tensor is summarized (1000).
    edgeitems: items shown at each end of a summarized dimension (3).
    linewidth: characters per line used to wrap long rows (80).
    profile: 'default', 'short' or 'full'; the other arguments override it.
    sci_mode: True / False forces scientific notation on / off; None (the
        default, also restored by every call that does not pass it) chooses
        automatically.
    """
    if profile is not None:
        # Like PyTorch, an unknown profile name is silently ignored.
        for name, value in _PROFILES.get(profile, {}).items():
            setattr(PRINT_OPTS, name, value)
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current options, as keyword arguments for ``set_printoptions``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Temporarily change the print options inside a ``with`` block."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# ---------------------------------------------------------------- element style

class _ElementFormatter:
    """One style and one width for every element of a tensor.

    Built from the elements that will be printed. Integer and bool tensors
    print ``str(value)``. Floating tensors look only at their nonzero finite
    values: all integral -> ``int_mode`` (``3.``); a large spread of
    magnitudes -> ``sci_mode``; otherwise fixed point. nan / inf do not
    take part in choosing the width, exactly as in PyTorch.
    """

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.ravel().tolist()])
            return
        shown = values[np.isfinite(values) & (values != 0)]
        if shown.size == 0:
            return
        magnitudes = np.abs(shown).astype(np.float64)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(shown == np.ceil(shown)))
        if PRINT_OPTS.sci_mode is None:
            with np.errstate(over="ignore"):
                self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8
                                     or smallest < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        self.width = max(len(self._text(v)) for v in shown.tolist())

    def _text(self, value):
        """``value`` in this formatter's style, without padding."""
        if not self.floating:
            return str(value)
        if self.sci_mode:
            return f"{value:.{PRINT_OPTS.precision}e}"
        if self.int_mode:
            text = f"{value:.0f}"
            return text if math.isinf(value) or math.isnan(value) else text + "."
        return f"{value:.{PRINT_OPTS.precision}f}"

    def __call__(self, value):
        """``value`` right-aligned to the common width."""
        return self._text(value).rjust(self.width)


def _summarized(tensor):
    """The elements a summarized print shows, as a numpy array: along every
    axis longer than 2 * edgeitems, only the first and last edgeitems
    entries (picked before anything is copied, so a huge expanded tensor
    prints as in PyTorch), and which axes were cut."""
    edge = PRINT_OPTS.edgeitems
    cut = []
    for axis, size in enumerate(tensor.shape):
        cut.append(size > 2 * edge)
        if cut[-1]:
            keep = list(range(edge)) + list(range(size - edge, size))
            tensor = tensor.index_select(axis, cgrad.tensor(keep, dtype=cgrad.int64))
    return _as_array(tensor), tuple(cut)


def _as_array(tensor):
    """The values as numpy holds them (numpy has no bfloat16: its values as
    float32, which holds every one exactly)."""
    if tensor.dtype == cgrad.bfloat16:
        tensor = tensor.float()
    return tensor.numpy()


# ---------------------------------------------------------------- layout

def _row_str(row, indent, cut, fmt):
    """A 1-D array: ``[a, b, c]``, wrapped to the line width (``cut``: per
    axis, whether the array holds only its summarized edges)."""
    edge = PRINT_OPTS.edgeitems
    if cut[0]:
        items = ([fmt(v) for v in row[:edge].tolist()] + [" ..."]
                 + [fmt(v) for v in row[-edge:].tolist()])
    else:
        items = [fmt(v) for v in row.tolist()]
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width + 2)))
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(array, indent, cut, fmt):
    """Brackets within brackets; sub-arrays of a k-D array are separated by
    a comma, k-1 newlines and the indentation of the next bracket."""
    if array.ndim == 0:
        return fmt(array.item())
    if array.ndim == 1:
        return _row_str(array, indent, cut, fmt)
    size, edge = array.shape[0], PRINT_OPTS.edgeitems
    if cut[0]:
        indices = list(range(edge)) + [None] + list(range(size - edge, size))
    else:
        indices = range(size)
    parts = ["..." if i is None else _nested_str(array[i], indent + 1, cut[1:], fmt)
             for i in indices]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _data_str(tensor, indent):
    """The bracketed values of a non-empty tensor."""
    if tensor.numel() <= PRINT_OPTS.threshold:
        array = _as_array(tensor)
        cut = (False,) * array.ndim
    elif not PRINT_OPTS.edgeitems and tensor.dim():
        return "[...]"
    else:
        array, cut = _summarized(tensor)
    return _nested_str(array, indent, cut, _ElementFormatter(array))


def _add_suffixes(text, suffixes, indent):
    """Append ``, suffix`` items and the closing parenthesis, moving a suffix
    to its own line when it would pass the line width. (The length of the last
    line is counted as PyTorch counts it, two more than it really is.)"""
    last_line_len = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line_len += len(suffix) + 2
    return "".join(pieces) + ")"


def format_tensor(tensor):
    """``repr(tensor)``: what PyTorch prints, with ``cgrad.`` dtype names."""
    data = tensor.detach()
    default_dtype = cgrad.get_default_dtype()
    suffixes = []
    if data.numel() == 0:
        # No values to show: print the shape unless it is (0,), and the dtype
        # unless it is the default floating one (an empty int64 tensor shows it).
        if data.dim() != 1:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if tensor.dtype != default_dtype:
            suffixes.append(f"dtype={tensor.dtype}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            suffixes.append(f"size={tuple(tensor.shape)}")
        if tensor.dtype not in (default_dtype, cgrad.int64, cgrad.bool):
            suffixes.append(f"dtype={tensor.dtype}")
        body = _data_str(data, len(_PREFIX))
    try:
        grad_fn = tensor.grad_fn
    except RuntimeError:
        # a view changed in place where its creation forbids it: PyTorch shows
        # its history as invalid (backward through it raises)
        suffixes.append("grad_fn=<Invalid>")
    else:
        if grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(grad_fn).__name__}>")
        elif tensor.requires_grad:
            suffixes.append("requires_grad=True")
    tangent = cgrad._C._fw_tangent(tensor)      # a dual tensor (forward AD) shows its tangent
    if tangent is not None:
        suffixes.append(f"tangent={tangent}")
    return _add_suffixes(_PREFIX + body, suffixes, len(_PREFIX))
