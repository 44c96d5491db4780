# Creation: tensors from Python data and numpy arrays, and the factories
# (zeros, ones, full, empty, eye, arange, linspace, rand, randn, randint and
# their *_like forms). Argument checks follow PyTorch's texts; the filling
# itself is kernels.

from cpython.sequence cimport PySequence_Check
from cpython.float cimport PyFloat_AsDouble
from libc.float cimport FLT_MAX

import warnings as _warnings


# ---------------------------------------------------------------------------
# tensor(data) from nested sequences, PyTorch's three passes: the shape from
# the first element of each level, the dtype promoted over every element,
# then the values stored with the element conversions PyTorch uses.


# cgrad/_interop.py (DLPack, __array_interface__ and friends), imported on first use
cdef object _interop = None


cdef object interop_module():
    global _interop
    if _interop is None:
        import cgrad._interop
        _interop = cgrad._interop
    return _interop


cdef str cre_tp_name(object obj):
    """Py_TYPE(obj)->tp_name: module-qualified for C types outside builtins
    ('numpy.ndarray'), the bare name for classes defined in Python and for
    Tensor (its tp_name is 'Tensor', see tensor_core.pxi)."""
    cdef type t = type(obj)
    return (<PyTypeObject*>t).tp_name.decode("utf-8")


cdef inline bint cre_is_sequence(object obj):
    return not isinstance(obj, Tensor) and PySequence_Check(obj)


cdef list cre_compute_sizes(object seq):
    cdef list sizes = []
    cdef Py_ssize_t length
    while cre_is_sequence(seq):
        length = len(seq)
        sizes.append(length)
        if len(sizes) > MAX_DIMS:
            raise ValueError(f"too many dimensions '{cre_tp_name(seq)}'")
        if length == 0:
            break
        seq = seq[0]
    return sizes


cdef int cre_infer_dtype(object obj) except -1:
    """PyTorch's infer_scalar_type: numpy arrays and scalars by their dtype,
    Python floats as the default float, ints as int64, bools as bool,
    tensors by their dtype, sequences by promotion over their items (empty:
    the default float)."""
    cdef int dt = -1, it
    cdef object item
    cdef type t
    if isinstance(obj, np.ndarray) or isinstance(obj, np.generic):
        return dtype_from_numpy(obj.dtype)
    if isinstance(obj, float):
        return DEFAULT_FLOAT
    if isinstance(obj, bool):
        return BOOL
    if isinstance(obj, int):
        return I64
    if isinstance(obj, Tensor):
        return (<Tensor>obj)._dtype
    if isinstance(obj, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{cre_tp_name(obj)}'")
    if cre_is_sequence(obj):
        if len(obj) == 0:
            return DEFAULT_FLOAT
        for item in obj:
            t = type(item)
            if t is float:
                it = DEFAULT_FLOAT
            elif t is int:
                it = I64
            elif t is bool:
                it = BOOL
            else:
                if item is obj:
                    raise TypeError("new(): self-referential lists are incompatible")
                it = cre_infer_dtype(item)
            dt = it if dt < 0 else promote_types(dt, it)
        return dt
    raise RuntimeError(f"Could not infer dtype of {cre_tp_name(obj)}")


cdef inline bint cre_overflows_int64(double d) noexcept:
    # c10::overflows<int64_t, double>: NaN and values beyond the limits
    return d != d or d < -9223372036854775808.0 or d > 9223372036854775807.0


cdef int cre_store_scalar(object v, char* out, int dt) except -1:
    """One element, converted as PyTorch's store_scalar converts it: floats
    unchecked, integers checked (c10::checked_convert; a float element
    truncates), bools as truth values."""
    cdef double d
    cdef object i
    cdef ScalarBuf buf
    if isinstance(v, Tensor):
        if (<Tensor>v)._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        if not is_float(dt) and is_float((<Tensor>v)._dtype):
            # an integer element is read with __index__
            raise TypeError("only integer tensors of a single element can be converted to an index")
        v = scalar_value(<Tensor>v)
    if is_float(dt):
        d = v if type(v) is float else PyFloat_AsDouble(v)
        if dt == F32:
            (<float*>out)[0] = <float>d
        elif dt == F64:
            (<double*>out)[0] = d
        elif dt == BF16:
            (<uint16_t*>out)[0] = cg_d2bf(d)
        else:
            (<uint16_t*>out)[0] = cg_d2h(d)
    elif dt != BOOL:
        if isinstance(v, float):
            d = v
            check_scalar_convert(d, dt, (<dtype>DTYPES[dt])._name)
            store_scalar(&buf, d, dt)
        else:
            i = _operator.index(v)
            if i < -9223372036854775808 or i > 9223372036854775807:
                raise ValueError("Overflow when unpacking long long")
            check_scalar_convert(i, dt, (<dtype>DTYPES[dt])._name)
            store_scalar(&buf, i, dt)
        memcpy(out, &buf, ITEMSIZE[dt])
    else:
        if isinstance(v, float):
            (<uint8_t*>out)[0] = (<double>v) != 0
        elif isinstance(v, np.bool_):
            (<uint8_t*>out)[0] = bool(v)
        else:
            (<uint8_t*>out)[0] = _operator.index(v) != 0
    return 0


cdef Py_ssize_t cre_store(object obj, int dim, list sizes, char* out, int dt) except -1:
    """Store the elements of obj (at nesting level dim) at out; returns how
    many were written."""
    cdef int ndim = len(sizes)
    cdef Py_ssize_t n, k, written = 0
    cdef int isz = ITEMSIZE[dt]
    cdef object seq, item
    if dim == ndim:
        cre_store_scalar(obj, out, dt)
        return 1
    if isinstance(obj, Tensor):
        if (<Tensor>obj)._ndim == 0:
            raise TypeError("not a sequence")
        seq = (<Tensor>obj).tolist()
    elif isinstance(obj, (list, tuple)):
        seq = obj
    elif PySequence_Check(obj):
        seq = list(obj)
    else:
        raise TypeError("not a sequence")
    n = len(seq)
    if n != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {n})")
    if dim == ndim - 1:
        for k in range(n):
            item = seq[k]
            if not _cre_warned_ndarray and isinstance(item, np.ndarray):
                cre_warn_ndarray_list()
            cre_store_scalar(item, out + k * isz, dt)
        return n
    for k in range(n):
        item = seq[k]
        if not _cre_warned_ndarray and isinstance(item, np.ndarray):
            cre_warn_ndarray_list()
        written += cre_store(item, dim + 1, sizes, out + written * isz, dt)
    return written


cdef bint _cre_warned_ndarray = False


cdef void cre_warn_ndarray_list() except *:
    """PyTorch's TORCH_WARN_ONCE on storing a numpy array found in a list."""
    global _cre_warned_ndarray
    _cre_warned_ndarray = True
    _warnings.warn(
        "Creating a tensor from a list of numpy.ndarrays is extremely slow. Please consider "
        "converting the list to a single numpy.ndarray with numpy.array() before converting to a "
        "tensor.", UserWarning, stacklevel=4)


cdef Tensor cre_copy_preserving(Tensor src, int dt):
    cdef Tensor t = new_tensor_preserving(src._ndim, src._shape, src._strides, dt, False)
    copy_into(t, src)
    return t


cdef Tensor tensor_from_numpy_copy(object arr, object dtype_arg):
    """A copy of a numpy array laid out as PyTorch's copy of it."""
    cdef int dt
    cdef Tensor view
    if dtype_arg is None:
        return cre_copy_preserving(tensor_from_ndarray(arr, True), dtype_from_numpy(arr.dtype))
    dt = dtype_code(dtype_arg)
    try:
        dtype_from_numpy(arr.dtype)
    except TypeError:
        if arr.dtype.kind not in "biuf":
            raise
        arr = arr.astype(np.float64 if arr.dtype.kind == "f" else np.int64)
    return cre_copy_preserving(tensor_from_ndarray(arr, True), dt)


cdef Tensor tensor_from_data(object data, object dtype_arg):
    """cgrad.tensor(data): always a copy, never history."""
    cdef int dt
    cdef Tensor t
    cdef list sizes
    if isinstance(data, Tensor):
        t = <Tensor>data
        return cre_copy_preserving(t, t._dtype if dtype_arg is None else dtype_code(dtype_arg))
    if isinstance(data, np.ndarray):
        return tensor_from_numpy_copy(data, dtype_arg)
    if isinstance(data, np.generic):
        return tensor_from_numpy_copy(np.asarray(data), dtype_arg)
    if isinstance(data, (str, bytes)):
        raise TypeError(f"new(): invalid data type '{cre_tp_name(data)}'")
    if hasattr(data, "__dlpack__"):   # another library's tensor (torch, JAX), as PyTorch takes it
        t = interop_module().from_dlpack(data)
        return cre_copy_preserving(t, t._dtype if dtype_arg is None else dtype_code(dtype_arg))
    sizes = cre_compute_sizes(data)
    dt = cre_infer_dtype(data) if dtype_arg is None else dtype_code(dtype_arg)
    t = new_tensor_from_tuple(tuple(sizes), dt)
    if t._numel:
        cre_store(data, 0, sizes, t._data, dt)
    return t


cdef int check_requires_grad(Tensor t, bint requires_grad) except -1:
    if requires_grad:
        if not is_float(t._dtype):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        t._requires_grad = True
    return 0


cdef Tensor mark_inference(Tensor t):
    if cgrad_inference_mode:
        t._is_inference = True
    return t


cdef type CRE_DTYPE_CLASS = dtype     # the class (tensor()'s argument shadows the name)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data (nested lists/tuples of numbers,
    a number, a numpy array or a tensor). Float data gives float32, ints give
    int64, bools give bool, numpy arrays and scalars keep their dtype; a
    copied array or tensor keeps its memory layout, as PyTorch's copy does."""
    _check_device(device)
    if dtype is not None and not isinstance(dtype, CRE_DTYPE_CLASS) and dtype not in (float, int, bool):
        raise TypeError(f"tensor(): argument 'dtype' must be cgrad.dtype, not {py_typename(dtype)}")
    if isinstance(data, Tensor):
        _warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
            "or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "cgrad.tensor(sourceTensor).", UserWarning, stacklevel=2)
    cdef Tensor t = tensor_from_data(data, dtype)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def as_tensor(data, dtype=None, device=None):
    """Like tensor(), but shares memory with a tensor or numpy array of the
    right dtype instead of copying."""
    _check_device(device)
    if isinstance(data, Tensor):
        if dtype is None or dtype_code(dtype) == (<Tensor>data)._dtype:
            return data
        return op_to_dtype(<Tensor>data, dtype_code(dtype))
    if isinstance(data, np.ndarray):
        if dtype is None or dtype_code(dtype) == dtype_from_numpy(data.dtype):
            try:
                return from_numpy(data)
            except ValueError:
                pass
    elif hasattr(data, "__dlpack__") and not isinstance(data, np.generic):
        shared = <Tensor>interop_module().from_dlpack(data)
        if dtype is None or dtype_code(dtype) == shared._dtype:
            return mark_inference(shared)
        return mark_inference(op_to_dtype(shared, dtype_code(dtype)))
    return mark_inference(tensor_from_data(data, dtype))


def from_numpy(ndarray):
    """A tensor sharing memory with a numpy array (no copy)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {py_typename(ndarray)})")
    return mark_inference(tensor_from_ndarray(ndarray, True, True))


# ---------------------------------------------------------------------------
# Argument handling shared by the factories.


cdef int cre_dtype_arg(object dtype, int default, str fname) except -1:
    if dtype is None:
        return default
    if isinstance(dtype, (type(float32), type)) or isinstance(dtype, np.dtype):
        return dtype_code(dtype)
    raise TypeError(f"{fname}(): argument 'dtype' must be cgrad.dtype, not {type(dtype).__name__}")


cdef object factory_out_dtype(object out, str fname, object dtype):
    """out= of a factory (zeros, rand, arange, ...), checked before any value
    is made, as PyTorch does: the dtype to make the values in, out's unless
    dtype= names another one (an error)."""
    cdef Tensor o
    if out is None:
        return dtype
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {py_typename(out)}")
    check_out(out, "aten::" + fname, None)
    o = <Tensor>out
    if dtype is not None and cre_dtype_arg(dtype, o._dtype, fname) != o._dtype:
        raise RuntimeError(f"dtype {dtype_title(dtype_code(dtype))} does not match dtype of out "
                           f"parameter ({dtype_title(o._dtype)})")
    return DTYPES[o._dtype]


cdef object factory_write_out(object result, object out, bint warn_numel=False):
    """The factory's values written into out (resized to them without a
    warning, as PyTorch's factories resize_; arange warns when the element
    count changes); out requires grad when requires_grad=True asked for it."""
    cdef Tensor o, r
    if out is None:
        return result
    o, r = <Tensor>out, <Tensor>result
    if warn_numel and o._numel != r._numel:
        warnings.warn(f"The number of elements in the out tensor of shape {list(shape_tuple(o))} is "
                      f"{o._numel} which does not match the computed number of elements {r._numel}. "
                      f"Note that this may occur as a result of rounding error. The out tensor will be "
                      f"resized to a tensor of shape ({r._numel},).", UserWarning, stacklevel=2)
    write_out(r, o, False)
    if r._requires_grad:
        o._requires_grad = True
    return o


cdef bint cre_size_element(object v):
    """An entry of a size list PyTorch unpacks: an int (bools too), a numpy
    integer or a one-element integer tensor."""
    if isinstance(v, (int, np.integer)):
        return True
    return isinstance(v, Tensor) and (<Tensor>v)._numel == 1 and not is_float((<Tensor>v)._dtype)


cdef tuple factory_size(tuple size, str name):
    """The size of zeros(2, 3) / zeros((2, 3)) / zeros([2, 3]) / zeros(Size)
    with PyTorch's errors for non-int entries (negative ones raise later,
    when the tensor is made; zeros checks them itself)."""
    cdef tuple shape
    cdef object first
    if len(size) == 1:
        first = size[0]
        if isinstance(first, Tensor) and (<Tensor>first)._ndim == 0:
            size = (first.__index__(),)
            first = size[0]
        if not (isinstance(first, (int, np.integer, tuple, list)) or
                (isinstance(first, Tensor) and (<Tensor>first)._numel == 1)) or isinstance(first, bool):
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(first).__name__}")
        if isinstance(first, (tuple, list)):
            for i in range(len(first)):
                if not cre_size_element(first[i]):
                    if i == 0:
                        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but "
                                        f"found element of type {py_typename(first[i])} at pos 0")
                    raise TypeError(
                        f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                        f"\"type must be tuple of ints,but got {py_typename(first[i])}\"")
    else:
        for i in range(len(size)):
            if isinstance(size[i], (float, bool)) or not hasattr(size[i], "__index__"):
                raise TypeError(
                    f"{name}(): argument 'size' failed to unpack the object at pos {i + 1} with error "
                    f"\"type must be tuple of ints,but got {py_typename(size[i])}\"")
    shape = parse_shape_args(size, "size")
    if name == "zeros":
        for s in shape:
            if s < 0:
                raise RuntimeError(f"{name}: Dimension size must be non-negative.")
    return shape


cdef tuple cre_size_arg(tuple args, object size, str name):
    """size given positionally (*args) or as size=...; neither is an error."""
    if size is not None:
        if args:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        return factory_size((size,), name)
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    return factory_size(args, name)


cdef int cre_check_fill(object value, int dt, Py_ssize_t numel=-1) except -1:
    """c10::checked_convert of a fill value to dtype dt. PyTorch fills a
    one-element tensor through a path that does not check float16 and
    bfloat16 values (scalar_fill); others are checked."""
    if is_half16(dt) and numel == 1 and not (isinstance(value, int) and not isinstance(value, bool)):
        return 0
    if is_half16(dt) and numel == 1:
        if value >= (1 << 64) or value < -(1 << 63):
            raise OverflowError("int too big to convert")
        return 0
    return check_scalar_convert(value, dt)


cdef object cre_fill_value(object value, str fname):
    if isinstance(value, Tensor):
        return (<Tensor>value).item()
    if not is_scalar(value):
        raise TypeError(f"{fname}(): argument 'fill_value' (position 2) must be Number, not "
                        f"{type(value).__name__}")
    return normalize_scalar(value)


cdef inline bint zero_bits(object value):
    """Whether value's fill is all zero bytes: a zero, but not -0.0 (which
    PyTorch's full keeps)."""
    return value == 0 and not (isinstance(value, float) and cmath.copysign(1.0, <double>value) < 0)


cdef Tensor filled(tuple shape, int dt, object value, bint requires_grad):
    cdef Tensor t
    cdef bint zeros = zero_bits(value)
    t = new_tensor_from_tuple(shape, dt, zeros)
    cre_check_fill(value, dt, t._numel)
    if not zeros:
        fill_scalar(t, value)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


cdef Tensor cre_like(object input, str fname, object dtype, bint requires_grad, object value,
                     object memory_format):
    """A tensor of input's shape laid out by memory_format (None: PyTorch's
    preserve_format, input's own strides), zero-filled or filled with value
    (None: left uninitialised)."""
    cdef Tensor x = _as_tensor_arg(input, fname)
    cdef int dt = cre_dtype_arg(dtype, x._dtype, fname)
    cdef int code = format_code(memory_format, fname, FMT_PRESERVE)
    cdef Tensor t
    if value is not None:
        cre_check_fill(value, dt, x._numel)
    cdef bint zeros = value is not None and zero_bits(value)
    t = new_in_format(x, dt, code, zeros)
    if value is not None and not zeros:
        fill_scalar(t, value)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def zeros(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, names=None, **kwargs):
    _check_device(device)
    dtype = factory_out_dtype(out, "zeros", dtype)
    return factory_write_out(filled(cre_size_arg(size, kwargs.pop("size", None), "zeros"),
                                    cre_dtype_arg(dtype, DEFAULT_FLOAT, "zeros"), 0, requires_grad), out)


def ones(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, names=None, **kwargs):
    _check_device(device)
    dtype = factory_out_dtype(out, "ones", dtype)
    return factory_write_out(filled(cre_size_arg(size, kwargs.pop("size", None), "ones"),
                                    cre_dtype_arg(dtype, DEFAULT_FLOAT, "ones"), 1, requires_grad), out)


def empty(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, memory_format=None, names=None, **kwargs):
    _check_device(device)
    dtype = factory_out_dtype(out, "empty", dtype)
    cdef Tensor t = new_tensor_from_tuple(cre_size_arg(size, kwargs.pop("size", None), "empty"),
                                          cre_dtype_arg(dtype, DEFAULT_FLOAT, "empty"))
    cdef int code = format_code(memory_format, "empty", FMT_CONTIGUOUS)
    if code == FMT_PRESERVE:
        raise RuntimeError("unsupported memory format Preserve")
    if code != FMT_CONTIGUOUS:
        check_format_rank(code, t._ndim)
        lay_out_format(t, code)
    check_requires_grad(t, requires_grad)
    return factory_write_out(mark_inference(t), out)


cdef int scalar_dtype(object value) except -1:
    cdef int cat = scalar_category(value)
    return BOOL if cat == CAT_BOOL else (I64 if cat == CAT_INT else DEFAULT_FLOAT)


def full(size, fill_value, *, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, names=None):
    """A tensor of the given size filled with fill_value; its dtype is the
    value's (bool, int64 or the default float) unless dtype is given."""
    _check_device(device)
    if isinstance(size, (int, np.integer)) or not hasattr(size, "__len__"):
        raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    for i, s in enumerate(size):
        if isinstance(s, (float, bool)) or not hasattr(s, "__index__"):
            raise TypeError(f"full(): argument 'size' (position 1) must be tuple of ints, but found "
                            f"element of type {type(s).__name__} at pos {i}")
    fill_value = cre_fill_value(fill_value, "full")
    dtype = factory_out_dtype(out, "full", dtype)
    return factory_write_out(filled(parse_shape_args((size,), "size"),
                                    cre_dtype_arg(dtype, scalar_dtype(fill_value), "full"),
                                    fill_value, requires_grad), out)


def zeros_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None):
    """Zeros of input's shape, keeping a permuted input's strides as
    PyTorch does."""
    _check_device(device)
    return cre_like(input, "zeros_like", dtype, requires_grad, 0, memory_format)


def ones_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
              memory_format=None):
    """Ones laid out like input."""
    _check_device(device)
    return cre_like(input, "ones_like", dtype, requires_grad, 1, memory_format)


def empty_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None):
    """An uninitialised tensor laid out like input."""
    _check_device(device)
    return cre_like(input, "empty_like", dtype, requires_grad, None, memory_format)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False, memory_format=None):
    """fill_value laid out like input, in input's dtype unless dtype is given."""
    _check_device(device)
    _as_tensor_arg(input, "full_like")
    return cre_like(input, "full_like", dtype, requires_grad, cre_fill_value(fill_value, "full_like"),
                    memory_format)


cdef Tensor op_zeros_like(Tensor x):
    return new_tensor(x._ndim, x._shape, x._dtype, True)
