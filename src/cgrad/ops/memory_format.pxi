# Memory formats: PyTorch's torch.memory_format values and the layouts they
# name. A tensor's layout is its strides; a memory format is a rule for
# choosing them when an op makes a new tensor:
#
#   preserve_format     as the input's when it is dense and non-overlapping
#                       (clone, *_like and to() default to it)
#   contiguous_format   row-major
#   channels_last       NHWC order for 4-D (N, C, H, W) shapes: C varies fastest
#   channels_last_3d    NDHWC for 5-D shapes
#
# The kernels take any strides, so a channels-last tensor needs nothing
# beyond its strides; these functions choose them, test them
# (is_contiguous(memory_format=...)) and make the copies clone, contiguous
# and to() return, with the grad_fn PyTorch gives each.

# The format codes are ops_join.pxi's FMT_* (cat chooses its output's
# layout with the same codes).
cdef enum:
    NO_DEFAULT = -1


cdef class memory_format:
    """A rule for the strides of new tensors: cgrad.contiguous_format,
    cgrad.preserve_format, cgrad.channels_last, cgrad.channels_last_3d."""
    cdef readonly int _code
    cdef readonly str _name

    def __cinit__(self, *args, **kwargs):
        if args or kwargs or _memory_formats_made:
            raise TypeError("cannot create 'cgrad.memory_format' instances")

    def __repr__(self):
        return "cgrad." + self._name

    def __reduce__(self):
        # module attributes: unpickling and deepcopy give the same object, as in torch
        return self._name


cdef bint _memory_formats_made = False


cdef memory_format make_memory_format(int code, str name):
    cdef memory_format f = memory_format.__new__(memory_format)
    f._code = code
    f._name = name
    return f


preserve_format = make_memory_format(FMT_PRESERVE, "preserve_format")
contiguous_format = make_memory_format(FMT_CONTIGUOUS, "contiguous_format")
channels_last = make_memory_format(FMT_CHANNELS_LAST, "channels_last")
channels_last_3d = make_memory_format(FMT_CHANNELS_LAST_3D, "channels_last_3d")
_memory_formats_made = True


cdef int format_code(object fmt, str fname, int default) except -1:
    """The format an argument names (None: the function's default; refused
    where default is NO_DEFAULT, as PyTorch's is_contiguous and contiguous
    do), or PyTorch's TypeError for anything else."""
    if fmt is None and default != NO_DEFAULT:
        return default
    if isinstance(fmt, memory_format):
        return (<memory_format>fmt)._code
    raise TypeError(f"{fname}(): argument 'memory_format' must be cgrad.memory_format, "
                    f"not {type(fmt).__name__}")


cdef int check_format_rank(int code, int ndim) except -1:
    if code == FMT_CHANNELS_LAST and ndim != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    if code == FMT_CHANNELS_LAST_3D and ndim != 5:
        raise RuntimeError("required rank 5 tensor to use channels_last_3d format")
    return 0


cdef bint is_channels_last(Tensor x, const int* order, int ndim) noexcept:
    """PyTorch's channels-last contiguity: the strides of dims of size
    other than 1 follow channels-last order (ops_join.pxi's CL*_ORDER,
    fastest first) densely."""
    cdef Py_ssize_t expected = 1
    cdef int i, d
    if x._ndim != ndim:
        return False
    for i in range(ndim):
        d = order[i]
        if x._shape[d] != 1:
            if x._strides[d] != expected:
                return False
            expected *= x._shape[d]
    return True


cdef bint is_contiguous_as(Tensor x, int code) noexcept:
    if code == FMT_CHANNELS_LAST:
        return is_channels_last(x, CL2D_ORDER, 4)
    if code == FMT_CHANNELS_LAST_3D:
        return is_channels_last(x, CL3D_ORDER, 5)
    return x._contiguous


cdef Tensor new_in_format(Tensor x, int dt, int code, bint zeroed):
    """A fresh tensor of x's shape laid out by the format (rank checked)."""
    cdef Tensor t
    check_format_rank(code, x._ndim)
    if code == FMT_PRESERVE:
        return new_tensor_preserving(x._ndim, x._shape, x._strides, dt, zeroed)
    return new_tensor_format(x._ndim, x._shape, dt, code, zeroed)


cdef Tensor op_clone_as(Tensor x, int code):
    """x.clone(memory_format=...): a copy laid out by the format, CloneBackward0."""
    cdef Tensor out
    if code == FMT_PRESERVE:
        return op_clone(x)
    if code == FMT_CONTIGUOUS:
        return clone_with_history(x, True)
    out = new_in_format(x, x._dtype, code, False)
    copy_layout(out, x)
    return record_clone(out, x)


cdef Tensor op_contiguous_as(Tensor x, int code):
    """x.contiguous(memory_format=...): x itself when already laid out so."""
    check_format_rank(code, x._ndim)
    if is_contiguous_as(x, code):
        return x
    if code == FMT_PRESERVE:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return op_clone_as(x, code)


cdef Tensor follow_input_format(Tensor out, Tensor x, Tensor w=None):
    """out laid out as the layout x (or else w) suggests, as PyTorch's CPU
    convolution, pooling, batch/group norm, padding and upsampling kernels
    write their results: channels-last in, channels-last out. cgrad's
    kernels write contiguous results; a fresh one (no view or other tensor
    shares its storage) is moved into that layout in place, history kept."""
    cdef int fmt
    cdef Tensor moved
    if out._ndim != x._ndim or out._numel == 0:
        return out
    fmt = suggest_format(x)
    if fmt == FMT_CONTIGUOUS and w is not None and w._ndim == x._ndim:
        fmt = suggest_format(w)
    if fmt == FMT_CONTIGUOUS or is_contiguous_as(out, fmt) or out._base is not None or object_refcount(<PyObject*>out._storage) != 1:
        return out
    moved = new_tensor_format(out._ndim, out._shape, out._dtype, fmt)
    copy_into(moved, out)
    out._storage = moved._storage
    out._data = moved._data
    memcpy(out._strides, moved._strides, out._ndim * sizeof(Py_ssize_t))
    out._contiguous = moved._contiguous
    return out


def _follow_input_format(out, input, weight=None):
    """follow_input_format for the nn functions written in Python."""
    if not isinstance(out, Tensor) or not isinstance(input, Tensor):
        return out
    return follow_input_format(<Tensor>out, <Tensor>input, weight if isinstance(weight, Tensor) else None)


cdef Tensor op_to_format(Tensor x, int dt, int code, bint copy):
    """to(dtype, copy=..., memory_format=...): x itself unless the dtype
    changes, copy is asked for or x does not suggest the format (PyTorch's
    to_will_alias); else a copy laid out by the format, ToCopyBackward0."""
    cdef Tensor out
    check_format_rank(code, x._ndim)
    if not copy and dt == x._dtype and (code == FMT_PRESERVE or suggest_format(x) == code):
        return x
    out = new_in_format(x, dt, code, False)
    copy_into(out, x)
    return record_to_copy(out, x)


cdef Tensor op_cast_preserving(Tensor x, int dt):
    """x.to(dtype), x.double(), ...: PyTorch's copy keeps a dense
    non-contiguous layout (a transposed or channels-last tensor stays so)."""
    if x._contiguous or x._dtype == dt:
        return op_to_dtype(x, dt)
    check_copy_size(x, dt)
    return op_to_format(x, dt, FMT_PRESERVE, False)


def _suggest_memory_format(Tensor x):
    """PyTorch's Tensor.suggest_memory_format() (the layout its ops give
    their results): channels_last(_3d) when x's strides are channels-last
    like, else contiguous_format."""
    cdef int code = suggest_format(x)
    if code == FMT_CHANNELS_LAST:
        return channels_last
    if code == FMT_CHANNELS_LAST_3D:
        return channels_last_3d
    return contiguous_format
