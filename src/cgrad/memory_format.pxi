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

cdef enum:
    FORMAT_PRESERVE = 0
    FORMAT_CONTIGUOUS = 1
    FORMAT_CHANNELS_LAST = 2
    FORMAT_CHANNELS_LAST_3D = 3
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


preserve_format = make_memory_format(FORMAT_PRESERVE, "preserve_format")
contiguous_format = make_memory_format(FORMAT_CONTIGUOUS, "contiguous_format")
channels_last = make_memory_format(FORMAT_CHANNELS_LAST, "channels_last")
channels_last_3d = make_memory_format(FORMAT_CHANNELS_LAST_3D, "channels_last_3d")
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
    if code == FORMAT_CHANNELS_LAST and ndim != 4:
        raise RuntimeError("required rank 4 tensor to use channels_last format")
    if code == FORMAT_CHANNELS_LAST_3D and ndim != 5:
        raise RuntimeError("required rank 5 tensor to use channels_last_3d format")
    return 0


cdef inline int channels_last_dim(int i, int ndim) noexcept:
    """The i-th dim from the fastest-varying in channels-last order:
    C, then the spatial dims from the last, then N."""
    if i == 0:
        return 1
    if i == ndim - 1:
        return 0
    return ndim - i


cdef void set_channels_last_strides(int ndim, Py_ssize_t* shape, Py_ssize_t* strides) noexcept:
    cdef Py_ssize_t step = 1
    cdef int i, d
    for i in range(ndim):
        d = channels_last_dim(i, ndim)
        strides[d] = step
        step *= shape[d]     # no max(size, 1): PyTorch's strides of an empty or size-1 dim


cdef bint is_channels_last(Tensor x, int ndim) noexcept:
    """PyTorch's channels-last contiguity: the strides of dims of size
    other than 1 follow channels-last order densely."""
    cdef Py_ssize_t expected = 1
    cdef int i, d
    if x._ndim != ndim:
        return False
    for i in range(ndim):
        d = channels_last_dim(i, ndim)
        if x._shape[d] != 1:
            if x._strides[d] != expected:
                return False
            expected *= x._shape[d]
    return True


cdef bint is_contiguous_as(Tensor x, int code) noexcept:
    if code == FORMAT_CHANNELS_LAST:
        return is_channels_last(x, 4)
    if code == FORMAT_CHANNELS_LAST_3D:
        return is_channels_last(x, 5)
    return x._contiguous


cdef Tensor new_in_format(Tensor x, int dt, int code, bint zeroed):
    """A fresh tensor of x's shape laid out by the format (rank checked)."""
    cdef Tensor t
    check_format_rank(code, x._ndim)
    if code == FORMAT_PRESERVE:
        return cre_new_preserving(x._ndim, x._shape, x._strides, dt, zeroed)
    t = new_tensor(x._ndim, x._shape, dt, zeroed)
    if code != FORMAT_CONTIGUOUS:
        # a permutation of the dense row-major layout: same bytes, other order
        set_channels_last_strides(x._ndim, x._shape, t._strides)
        t._contiguous = t._numel == 0 or strides_are_contiguous(t._ndim, t._shape, t._strides)
    return t


cdef Tensor op_clone_as(Tensor x, int code):
    """x.clone(memory_format=...): a copy laid out by the format, CloneBackward0."""
    cdef Tensor out
    cdef CloneBackward0 node
    if code == FORMAT_PRESERVE:
        return op_clone(x)
    if code == FORMAT_CONTIGUOUS:
        return clone_with_history(x, True)
    out = new_in_format(x, x._dtype, code, False)
    copy_layout(out, x)
    if needs_grad(x):
        node = CloneBackward0.__new__(CloneBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_contiguous_as(Tensor x, int code):
    """x.contiguous(memory_format=...): x itself when already laid out so."""
    check_format_rank(code, x._ndim)
    if is_contiguous_as(x, code):
        return x
    if code == FORMAT_PRESERVE:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    return op_clone_as(x, code)


cdef int suggested_format(Tensor x) noexcept:
    """PyTorch's suggest_memory_format, as a format code."""
    cdef int fmt = suggest_format(x)
    if fmt == FMT_CHANNELS_LAST:
        return FORMAT_CHANNELS_LAST
    if fmt == FMT_CHANNELS_LAST_3D:
        return FORMAT_CHANNELS_LAST_3D
    return FORMAT_CONTIGUOUS


cdef Tensor op_to_format(Tensor x, int dt, int code, bint copy):
    """to(dtype, copy=..., memory_format=...): x itself unless the dtype
    changes, copy is asked for or x does not suggest the format (PyTorch's
    to_will_alias); else a copy laid out by the format, ToCopyBackward0."""
    cdef Tensor out
    cdef ToCopyBackward0 node
    check_format_rank(code, x._ndim)
    if not copy and dt == x._dtype and (code == FORMAT_PRESERVE or suggested_format(x) == code):
        return x
    out = new_in_format(x, dt, code, False)
    copy_into(out, x)
    if needs_grad(x) and is_float(dt):
        node = ToCopyBackward0.__new__(ToCopyBackward0)
        wire1(node, x)
        node.self_dtype = x._dtype
        set_history(out, node)
    return out


cdef Tensor op_cast_preserving(Tensor x, int dt):
    """x.to(dtype), x.double(), ...: PyTorch's copy keeps a dense
    non-contiguous layout (a transposed or channels-last tensor stays so)."""
    cdef Py_ssize_t strides[MAX_DIMS]
    if x._contiguous or x._dtype == dt:
        return op_to_dtype(x, dt)
    # PyTorch's size check of the copy names its strides
    infer_dense_strides(x._ndim, x._shape, x._strides, strides)
    strided_nbytes(x._ndim, x._shape, strides, dt)
    return op_to_format(x, dt, FORMAT_PRESERVE, False)
