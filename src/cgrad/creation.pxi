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


cdef str cre_tp_name(object obj):
    """Py_TYPE(obj)->tp_name: module-qualified for C types outside builtins."""
    cdef type t = type(obj)
    if t.__flags__ & (1 << 9):      # Py_TPFLAGS_HEAPTYPE: just the name
        return t.__name__
    mod = t.__module__
    return t.__name__ if mod == "builtins" else f"{mod}.{t.__name__}"


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


# ---------------------------------------------------------------------------
# Memory layout of copies: PyTorch's preserve_format keeps the strides of a
# non-overlapping, dense source and otherwise makes dense strides in the
# source's stride order (infer_dense_strides).


cdef bint cre_non_overlapping_dense(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides):
    cdef list perm
    cdef Py_ssize_t require = 1
    cdef int i, d
    if ndim == 1:
        return shape[0] < 2 or strides[0] == 1
    perm = sorted(range(ndim), key=lambda d: (shape[d] < 2, strides[d] if shape[d] >= 2 else 0))
    for i in range(ndim):
        d = perm[i]
        if shape[d] < 2:
            return True
        if strides[d] != require:
            return False
        require *= shape[d]
    return True


cdef void cre_infer_dense_strides(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides,
                                  Py_ssize_t* out) noexcept:
    cdef int perm[MAX_DIMS]
    cdef int i, j, dim0, dim1, tmp, cmp
    cdef Py_ssize_t s0, s1, cur = 1
    if ndim == 0:
        return
    if ndim == 1:
        out[0] = 1
        return
    for i in range(ndim):
        perm[i] = ndim - 1 - i
    for i in range(1, ndim):
        dim1 = i
        for j in range(1, i + 1):
            dim0 = i - j
            s0 = strides[perm[dim0]]
            s1 = strides[perm[dim1]]
            if s0 == 0 or s1 == 0:
                cmp = 0
            elif s0 < s1:
                cmp = -1
            elif s0 > s1:
                cmp = 1
            elif shape[perm[dim0]] > shape[perm[dim1]]:
                cmp = 1
            else:
                cmp = 0
            if cmp > 0:
                tmp = perm[dim0]
                perm[dim0] = perm[dim1]
                perm[dim1] = tmp
                dim1 = dim0
            elif cmp < 0:
                break
    for i in range(ndim):
        out[perm[i]] = cur
        if shape[perm[i]] > 1:
            cur *= shape[perm[i]]


cdef Tensor cre_new_preserving(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides, int dt,
                               bint zeroed):
    """A fresh tensor laid out as PyTorch's preserve_format lays out a copy of
    a tensor with these shape and strides."""
    cdef Tensor t = new_tensor(ndim, shape, dt, zeroed)
    cdef int i
    if ndim == 0:
        return t
    if t._numel == 0 or strides_are_contiguous(ndim, shape, strides) or \
            cre_non_overlapping_dense(ndim, shape, strides):
        for i in range(ndim):
            t._strides[i] = strides[i]
    else:
        cre_infer_dense_strides(ndim, shape, strides, t._strides)
    t._contiguous = t._numel == 0 or strides_are_contiguous(ndim, t._shape, t._strides)
    return t


cdef Tensor cre_copy_preserving(Tensor src, int dt):
    cdef Tensor t = cre_new_preserving(src._ndim, src._shape, src._strides, dt, False)
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
    return mark_inference(tensor_from_data(data, dtype))


def from_numpy(ndarray):
    """A tensor sharing memory with a numpy array (no copy)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {py_typename(ndarray)})")
    return mark_inference(tensor_from_ndarray(ndarray, True, True))


# ---------------------------------------------------------------------------
# Argument handling shared by the factories.


cdef int factory_dtype(object dtype, int default) except -1:
    return default if dtype is None else dtype_code(dtype)


cdef int cre_dtype_arg(object dtype, int default, str fname) except -1:
    if dtype is None:
        return default
    if isinstance(dtype, (type(float32), type)) or isinstance(dtype, np.dtype):
        return dtype_code(dtype)
    raise TypeError(f"{fname}(): argument 'dtype' must be cgrad.dtype, not {type(dtype).__name__}")


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
    one-element tensor through a path that does not check float16 values
    (scalar_fill); others are checked."""
    if dt == F16 and numel == 1 and not (isinstance(value, int) and not isinstance(value, bool)):
        return 0
    if dt == F16 and numel == 1:
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


cdef Tensor filled(tuple shape, int dt, object value, bint requires_grad):
    cdef Tensor t
    t = new_tensor_from_tuple(shape, dt, value == 0)
    cre_check_fill(value, dt, t._numel)
    if value != 0:
        fill_scalar(t, value)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


cdef Tensor cre_like(object input, str fname, object dtype, bint requires_grad, object value,
                     bint preserve=True):
    """A tensor laid out like input (PyTorch's preserve_format; contiguous
    when not preserve), zero-filled or filled with value (None: left
    uninitialised)."""
    cdef Tensor x = _as_tensor_arg(input, fname)
    cdef int dt = cre_dtype_arg(dtype, x._dtype, fname)
    cdef Tensor t
    if value is not None:
        cre_check_fill(value, dt, x._numel)
    if preserve:
        t = cre_new_preserving(x._ndim, x._shape, x._strides, dt, value is not None and value == 0)
    else:
        t = new_tensor(x._ndim, x._shape, dt, value is not None and value == 0)
    if value is not None and value != 0:
        fill_scalar(t, value)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def zeros(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, names=None, **kwargs):
    _check_device(device)
    return filled(cre_size_arg(size, kwargs.pop("size", None), "zeros"),
                  cre_dtype_arg(dtype, DEFAULT_FLOAT, "zeros"), 0, requires_grad)


def ones(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, names=None, **kwargs):
    _check_device(device)
    return filled(cre_size_arg(size, kwargs.pop("size", None), "ones"),
                  cre_dtype_arg(dtype, DEFAULT_FLOAT, "ones"), 1, requires_grad)


def empty(*size, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, memory_format=None, names=None, **kwargs):
    _check_device(device)
    cdef Tensor t = new_tensor_from_tuple(cre_size_arg(size, kwargs.pop("size", None), "empty"),
                                          cre_dtype_arg(dtype, DEFAULT_FLOAT, "empty"))
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


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
    return filled(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, scalar_dtype(fill_value), "full"),
                  fill_value, requires_grad)


def zeros_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None):
    """Zeros of input's shape, keeping a permuted input's strides as
    PyTorch does."""
    _check_device(device)
    return cre_like(input, "zeros_like", dtype, requires_grad, 0, True)


def ones_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
              memory_format=None):
    """Ones laid out like input."""
    _check_device(device)
    return cre_like(input, "ones_like", dtype, requires_grad, 1)


def empty_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None):
    """An uninitialised tensor laid out like input."""
    _check_device(device)
    return cre_like(input, "empty_like", dtype, requires_grad, None)


def full_like(input, fill_value, *, dtype=None, layout=None, device=None, pin_memory=False,
              requires_grad=False, memory_format=None):
    """fill_value laid out like input, in input's dtype unless dtype is given."""
    _check_device(device)
    _as_tensor_arg(input, "full_like")
    return cre_like(input, "full_like", dtype, requires_grad, cre_fill_value(fill_value, "full_like"))


cdef Tensor op_zeros_like(Tensor x):
    return new_tensor(x._ndim, x._shape, x._dtype, True)


# ---------------------------------------------------------------------------
# eye, arange, linspace. The values are computed exactly as PyTorch's CPU
# kernels compute them (fused multiply-adds in double; arange's vectorised
# blocks), so that the results are identical, not just close.


cdef str cre_type_list(tuple args, dict kwargs):
    cdef list parts = [type(a).__name__ for a in args]
    parts += [f"{k}={type(v).__name__}" for k, v in kwargs.items()]
    return ", ".join(parts)


cdef str CRE_FACTORY_KW = ("*, Tensor out = None, cgrad.dtype dtype = None, cgrad.layout layout = None, "
                           "cgrad.device device = None, bool pin_memory = False, bool requires_grad = False")


cdef object cre_invalid(str fname, tuple args, dict kwargs, list signatures):
    return TypeError(
        f"{fname}() received an invalid combination of arguments - got ({cre_type_list(args, kwargs)}), "
        "but expected one of:\n" + "".join([f" * ({s})\n" for s in signatures]))


cdef bint cre_is_int(object v):
    return (isinstance(v, (int, np.integer)) and not isinstance(v, bool)) or \
        (isinstance(v, Tensor) and not is_float((<Tensor>v)._dtype) and (<Tensor>v)._ndim == 0
         and (<Tensor>v)._dtype != BOOL)


def eye(*args, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
        **kwargs):
    """eye(n, m=None): ones on the diagonal of an n x m matrix (m = n)."""
    cdef list sigs = [f"int n, {CRE_FACTORY_KW}", f"int n, int m, {CRE_FACTORY_KW}"]
    cdef Py_ssize_t n, m, i, k
    cdef Tensor t
    cdef Py_ssize_t shape[2]
    _check_device(device)
    if set(kwargs) - {"n", "m"}:
        raise TypeError(f"eye() got an unexpected keyword argument '{sorted(set(kwargs) - {'n', 'm'})[0]}'")
    values = list(args)
    if "n" in kwargs:
        if values:
            raise cre_invalid("eye", args, kwargs, sigs)
        values.append(kwargs["n"])
    if "m" in kwargs:
        if not values:
            raise TypeError('eye() missing 1 required positional arguments: "n"')
        if len(values) > 1:
            raise cre_invalid("eye", args, kwargs, sigs)
        values.append(kwargs["m"])
    if len(values) == 1 and not cre_is_int(values[0]):
        raise TypeError(f"eye(): argument 'n' (position 1) must be int, not {py_typename(values[0])}")
    if len(values) not in (1, 2) or not all([cre_is_int(v) for v in values]):
        raise cre_invalid("eye", args, kwargs, sigs)
    n = _operator.index(values[0])
    m = _operator.index(values[1]) if len(values) == 2 else n
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    shape[0] = n
    shape[1] = m
    cdef ScalarBuf one
    checked_numel(2, shape)     # eye resizes: the numel check comes before the storage size's
    t = new_tensor(2, shape, cre_dtype_arg(dtype, DEFAULT_FLOAT, "eye"), True)
    store_scalar(&one, 1, t._dtype)
    k = n if n < m else m
    for i in range(k):
        memcpy(t._data + i * (m + 1) * ITEMSIZE[t._dtype], &one, ITEMSIZE[t._dtype])
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


cdef str cre_num_str(object v):
    """A number as C++'s ostream prints it (6 significant digits)."""
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


cdef enum:
    ARANGE_VEC_F32 = 8     # PyTorch's CPU arange kernel runs in vector blocks of
    ARANGE_VEC_F64 = 4     # these widths (two per step), the tail element-wise


cdef enum:
    ARANGE_VEC_F16 = 16


cdef void cre_arange_fill_f16(uint16_t* out, Py_ssize_t n, float start, float step) noexcept nogil:
    """PyTorch's float16 arange: float accumulation; each vector block of 16
    starts from its first value rounded to half, then adds k * step."""
    cdef Py_ssize_t i = 0, k
    cdef int half
    cdef uint16_t base
    cdef float fbase
    while i + 2 * ARANGE_VEC_F16 <= n:
        for half in range(2):
            base = cg_f2h(start + step * <float>i)
            fbase = cg_h2f(base)
            out[i] = base
            for k in range(1, ARANGE_VEC_F16):
                out[i + k] = cg_f2h(fbase + <float>k * step)
            i += ARANGE_VEC_F16
    while i < n:
        out[i] = cg_f2h(start + step * <float>i)
        i += 1


cdef void cre_arange_fill(int dt, char* out, Py_ssize_t n, double start, double step,
                          int64_t istart, int64_t istep) noexcept nogil:
    """Integer dtypes: int64 accumulation, wrapped to the type on store."""
    cdef Py_ssize_t i = 0, k
    cdef int half
    cdef int vec = ARANGE_VEC_F32 if dt == F32 else ARANGE_VEC_F64
    cdef double base
    cdef float fbase
    if dt == I64:
        for i in range(n):
            (<int64_t*>out)[i] = istart + istep * i
        return
    if dt == I32:
        for i in range(n):
            (<int32_t*>out)[i] = <int32_t>(istart + istep * i)
        return
    if dt == I16:
        for i in range(n):
            (<int16_t*>out)[i] = <int16_t>(istart + istep * i)
        return
    if dt == I8:
        for i in range(n):
            (<int8_t*>out)[i] = <int8_t>(istart + istep * i)
        return
    if dt == U8:
        for i in range(n):
            (<uint8_t*>out)[i] = <uint8_t>(istart + istep * i)
        return
    if dt == F16:
        cre_arange_fill_f16(<uint16_t*>out, n, <float>start, <float>step)
        return
    while i + 2 * vec <= n:
        for half in range(2):
            base = cmath.fma(step, <double>i, start)
            if dt == F32:
                fbase = <float>base
                for k in range(vec):
                    (<float*>out)[i + k] = <float>(<double>fbase + k * step)
            else:
                for k in range(vec):
                    (<double*>out)[i + k] = cmath.fma(<double>k, step, base)
            i += vec
    while i < n:
        if dt == F32:
            (<float*>out)[i] = <float>cmath.fma(step, <double>i, start)
        else:
            (<double*>out)[i] = cmath.fma(step, <double>i, start)
        i += 1


cdef object cre_number_arg(object v, str fname, str argname, int position, tuple args, dict kwargs,
                           list sigs):
    if isinstance(v, Tensor):
        if (<Tensor>v)._ndim != 0:
            raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be Number, "
                            f"not Tensor")
        return (<Tensor>v).item()
    if not is_scalar(v):
        if len(args) + len(kwargs) <= 1:
            raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be Number, "
                            f"not {type(v).__name__}")
        raise cre_invalid(fname, args, kwargs, sigs)
    return normalize_scalar(v)


def arange(*args, out=None, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
           **kwargs):
    """arange(end) / arange(start, end, step=1): values from start
    (inclusive) to end (exclusive) by step. int64 when every bound is an
    int, else the default float dtype."""
    cdef list sigs = [f"Number end, {CRE_FACTORY_KW}",
                      "Number start, Number end, *, cgrad.dtype dtype = None, cgrad.layout layout = None, "
                      "cgrad.device device = None, bool pin_memory = False, bool requires_grad = False",
                      f"Number start, Number end, Number step = 1, {CRE_FACTORY_KW}"]
    cdef int dt
    cdef Py_ssize_t n
    cdef double fstart = 0, fend = 0, fstep = 0, size_d
    cdef int64_t istart = 0, iend = 0, istep = 0, sgn
    cdef Tensor t
    _check_device(device)
    names = ("start", "end", "step")
    if set(kwargs) - set(names):
        raise TypeError(f"arange() got an unexpected keyword argument '{sorted(set(kwargs) - set(names))[0]}'")
    if len(args) == 1 and not kwargs:
        start, end, step = 0, args[0], 1
        end = cre_number_arg(end, "arange", "end", 1, args, kwargs, sigs)
    elif len(args) == 0 and list(kwargs) == ["end"]:
        start, end, step = 0, cre_number_arg(kwargs["end"], "arange", "end", 1, args, kwargs, sigs), 1
    else:
        values = dict(zip(names, args))
        for k, v in kwargs.items():
            if k in values:
                raise cre_invalid("arange", args, kwargs, sigs)
            values[k] = v
        if len(args) > 3 or "start" not in values or "end" not in values:
            raise cre_invalid("arange", args, kwargs, sigs)
        start = cre_number_arg(values["start"], "arange", "start", 1, args, kwargs, sigs)
        end = cre_number_arg(values["end"], "arange", "end", 2, args, kwargs, sigs)
        step = cre_number_arg(values.get("step", 1), "arange", "step", 3, args, kwargs, sigs)
    if dtype is not None:
        dt = cre_dtype_arg(dtype, DEFAULT_FLOAT, "arange")
    elif all([isinstance(v, (int, bool)) for v in (start, end, step)]):
        dt = I64
    else:
        dt = DEFAULT_FLOAT
    if dt == BOOL:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    if not (step > 0 or step < 0):
        raise RuntimeError("step must be nonzero")
    if dt == I64 or (is_int(dt) and all([isinstance(v, (int, bool)) for v in (start, end, step)])):
        for v in (start, end):
            if isinstance(v, float) and not np.isfinite(v):
                raise RuntimeError(f"unsupported range: {cre_num_str(start)} -> {cre_num_str(end)}")
        for v in (start, end, step):
            if isinstance(v, float) and cre_overflows_int64(v):
                raise RuntimeError("value cannot be converted to type int64_t without overflow")
        istart, iend, istep = int(start), int(end), int(step)
        if istep == 0:
            raise ValueError("step must be nonzero")
        if not ((istep > 0 and iend >= istart) or (istep < 0 and iend <= istart)):
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        sgn = (istep > 0) - (istep < 0)
        n = (iend - istart + istep - sgn) // istep     # C division, as PyTorch's
    elif is_int(dt):
        # the size from the bounds as doubles; the values in int64 (the
        # accumulation type), the bounds truncated
        for v in (start, end, step):
            if isinstance(v, float) and cre_overflows_int64(v):
                raise RuntimeError("value cannot be converted to type int64_t without overflow")
        fstart, fend, fstep = float(start), float(end), float(step)
        if not (np.isfinite(fstart) and np.isfinite(fend)):
            raise RuntimeError(f"unsupported range: {cre_num_str(fstart)} -> {cre_num_str(fend)}")
        if not ((fstep > 0 and fend >= fstart) or (fstep < 0 and fend <= fstart)):
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        size_d = cmath.ceil((fend - fstart) / fstep)
        if not (size_d >= 0 and size_d <= 9.2e18):
            raise RuntimeError("invalid size, possible overflow?")
        n = <Py_ssize_t>size_d
        istart, istep = int(start), int(step)
    else:
        fstart, fend, fstep = float(start), float(end), float(step)
        if not (np.isfinite(fstart) and np.isfinite(fend)):
            raise RuntimeError(f"unsupported range: {cre_num_str(fstart)} -> {cre_num_str(fend)}")
        if not ((fstep > 0 and fend >= fstart) or (fstep < 0 and fend <= fstart)):
            raise RuntimeError("upper bound and lower bound inconsistent with step sign")
        size_d = cmath.ceil((fend - fstart) / fstep)
        if not (size_d >= 0 and size_d <= 9.2e18):
            raise RuntimeError("invalid size, possible overflow?")
        n = <Py_ssize_t>size_d
    t = new_tensor_from_tuple((n,), dt)
    if n >= GIL_RELEASE_NUMEL:
        with nogil:
            cre_arange_fill(dt, t._data, n, fstart, fstep, istart, istep)
    else:
        cre_arange_fill(dt, t._data, n, fstart, fstep, istart, istep)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


cdef void cre_linspace_fill(int dt, char* out, Py_ssize_t steps, double start, double end,
                            int64_t istart, int64_t iend) noexcept nogil:
    """PyTorch's linspace kernel: from start for the first half, from end for
    the second, step = (end - start) / (steps - 1) in the output's precision
    (double for integers), each value one fused multiply-add."""
    cdef Py_ssize_t i, half = steps // 2
    cdef float fs, fe, fst
    cdef double ds, de, dst
    cdef int64_t v
    if dt == F16:
        cre_linspace_fill_f16(<uint16_t*>out, steps, cg_d2h(start), cg_d2h(end))
        return
    if steps == 1:
        if dt == F32:
            (<float*>out)[0] = <float>start
        elif dt == F64:
            (<double*>out)[0] = start
        else:
            store_int(out, 0, istart, dt)
        return
    if dt == F32:
        fs = <float>start
        fe = <float>end
        fst = (fe - fs) / <float>(steps - 1)
        for i in range(steps):
            if i < half:
                (<float*>out)[i] = cmath.fmaf(fst, <float>i, fs)
            else:
                (<float*>out)[i] = cmath.fmaf(fst, -<float>(steps - i - 1), fe)
    elif dt == F64:
        dst = (end - start) / <double>(steps - 1)
        for i in range(steps):
            if i < half:
                (<double*>out)[i] = cmath.fma(dst, <double>i, start)
            else:
                (<double*>out)[i] = cmath.fma(dst, -<double>(steps - i - 1), end)
    else:
        ds = <double>istart
        de = <double>iend
        dst = (de - ds) / <double>(steps - 1)
        for i in range(steps):
            if i < half:
                v = <int64_t>cmath.fma(dst, <double>i, ds)
            else:
                v = <int64_t>cmath.fma(dst, -<double>(steps - i - 1), de)
            store_int(out, i, v, dt)


cdef inline void store_int(char* out, Py_ssize_t i, int64_t v, int dt) noexcept nogil:
    if dt == I64:
        (<int64_t*>out)[i] = v
    elif dt == I32:
        (<int32_t*>out)[i] = <int32_t>v
    elif dt == I16:
        (<int16_t*>out)[i] = <int16_t>v
    elif dt == I8:
        (<int8_t*>out)[i] = <int8_t>v
    else:
        (<uint8_t*>out)[i] = <uint8_t>v


cdef inline uint16_t half_op(float v) noexcept nogil:
    return cg_f2h(v)


cdef void cre_linspace_fill_f16(uint16_t* out, Py_ssize_t steps, uint16_t start, uint16_t end) noexcept nogil:
    """PyTorch's float16 linspace: c10::Half arithmetic, every operation
    rounded to half (the step, the index as a half, each product and sum)."""
    cdef Py_ssize_t i, half = steps // 2
    cdef float fs = cg_h2f(start), fe = cg_h2f(end), step
    if steps == 1:
        out[0] = start
        return
    step = cg_h2f(cg_f2h(cg_h2f(cg_f2h(fe - fs)) / cg_h2f(cg_f2h(<float>(steps - 1)))))
    for i in range(steps):
        if i < half:
            out[i] = cg_f2h(fs + cg_h2f(cg_f2h(step * cg_h2f(cg_f2h(<float>i)))))
        else:
            out[i] = cg_f2h(fe - cg_h2f(cg_f2h(step * cg_h2f(cg_f2h(<float>(steps - i - 1))))))


def linspace(*args, out=None, dtype=None, layout=None, device=None, pin_memory=False,
             requires_grad=False, **kwargs):
    """linspace(start, end, steps): steps evenly spaced values from start to
    end inclusive, bit-identical to PyTorch's (computed from both ends)."""
    cdef list sigs = [f"{a} start, {b} end, int steps, {CRE_FACTORY_KW}"
                      for a, b in (("Tensor", "Tensor"), ("Number", "Tensor"), ("Tensor", "Number"),
                                   ("Number", "Number"))]
    cdef int dt
    cdef Py_ssize_t steps
    cdef double fstart = 0, fend = 0
    cdef int64_t istart = 0, iend = 0
    cdef Tensor t
    _check_device(device)
    names = ("start", "end", "steps")
    if set(kwargs) - set(names):
        raise TypeError(f"linspace() got an unexpected keyword argument '{sorted(set(kwargs) - set(names))[0]}'")
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in values:
            raise cre_invalid("linspace", args, kwargs, sigs)
        values[k] = v
    if len(args) > 3 or len(values) != 3:
        raise cre_invalid("linspace", args, kwargs, sigs)
    start, end, steps_arg = values["start"], values["end"], values["steps"]
    for v in (start, end):
        if not (isinstance(v, Tensor) or is_scalar(v)):
            raise cre_invalid("linspace", args, kwargs, sigs)
    if not cre_is_int(steps_arg):
        raise cre_invalid("linspace", args, kwargs, sigs)
    if (isinstance(start, Tensor) and (<Tensor>start)._ndim) or (isinstance(end, Tensor) and (<Tensor>end)._ndim):
        parts = []
        if isinstance(start, Tensor):
            parts.append(f"start with {(<Tensor>start)._ndim} dimension(s)")
        if isinstance(end, Tensor):
            parts.append(f"end with {(<Tensor>end)._ndim} dimension(s)")
        raise RuntimeError("linspace only supports 0-dimensional start and end tensors, but got "
                           + " and ".join(parts) + ".")
    start = (<Tensor>start).item() if isinstance(start, Tensor) else normalize_scalar(start)
    end = (<Tensor>end).item() if isinstance(end, Tensor) else normalize_scalar(end)
    steps = _operator.index(steps_arg)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    dt = cre_dtype_arg(dtype, DEFAULT_FLOAT, "linspace")
    if dt == BOOL:
        if steps > 1:
            raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
        # no kernel runs: one step is start itself
        t = new_tensor_from_tuple((steps,), BOOL)
        check_requires_grad(t, requires_grad)
        if steps == 1:
            fill_scalar(t, start)
        return mark_inference(t)
    # PyTorch fills one step with start (fill_'s checks), and converts start
    # and end with Scalar.to<T>() (checked) for more
    if steps == 1:
        cre_check_fill(start, dt, 1)
    elif steps > 1:
        for v in (start, end):
            check_scalar_convert(v, dt)
    if is_int(dt):
        istart = wrap_int(int(start), dt) if steps > 0 else 0
        iend = wrap_int(int(end), dt) if steps > 1 else istart
    else:
        fstart, fend = float(start), float(end)
    t = new_tensor_from_tuple((steps,), dt)
    check_requires_grad(t, requires_grad)
    if steps >= GIL_RELEASE_NUMEL:
        with nogil:
            cre_linspace_fill(dt, t._data, steps, fstart, fend, istart, iend)
    elif steps > 0:
        cre_linspace_fill(dt, t._data, steps, fstart, fend, istart, iend)
    return mark_inference(t)


# ---------------------------------------------------------------------------
# Random numbers: numpy's PCG64 behind a seedable module-level generator.
# Reproducible (the same seed gives the same numbers), not PyTorch's stream.

cdef object _rng = np.random.default_rng()


class Generator:
    """What manual_seed returns: the seeded default generator."""
    def __init__(self, seed):
        self._seed = seed

    def initial_seed(self):
        return self._seed

    def __repr__(self):
        return f"<cgrad.Generator seed={self._seed}>"


_default_seed = None


def manual_seed(seed):
    """Seed the default generator: rand/randn/randint/randperm, dropout and
    nn.init draw from it."""
    global _rng, _default_seed
    seed = int(seed)        # as PyTorch: int('a') raises ValueError, 1.5 seeds 1
    if seed >= (1 << 64) or seed < -(1 << 63):
        raise ValueError("Overflow when unpacking long long")
    seed &= 0xFFFFFFFFFFFFFFFF     # a uint64, as PyTorch keeps it
    _rng = np.random.default_rng(seed)
    _default_seed = seed
    return Generator(seed)


def seed():
    global _rng
    _rng = np.random.default_rng()


def initial_seed():
    return _default_seed


def _generator():
    return _rng


cdef int cre_fill_random(Tensor t, bint normal) except -1:
    """Fill a fresh tensor (any strides) from the default generator, in
    memory order."""
    cdef object flat
    if t._numel == 0:
        return 0
    if t._dtype == F16:
        # float16: PyTorch's uniform draws multiples of 2^-11 in [0, 1), all
        # exact in half; normal samples are drawn in float32 and rounded
        if normal:
            flat = _rng.standard_normal(t._numel, dtype=np.float32).astype(np.float16)
        else:
            flat = (_rng.integers(0, 1 << 11, size=t._numel) * (1.0 / (1 << 11))).astype(np.float16)
        np.copyto(ndarray_view(t), flat.reshape(shape_tuple(t)))
        return 0
    flat = ndarray_view(t).reshape(-1) if t._contiguous else None
    if flat is None:
        flat = np.empty(t._numel, dtype=np.float32 if t._dtype == F32 else np.float64)
    if normal:
        _rng.standard_normal(out=flat, dtype=flat.dtype)
    else:
        _rng.random(out=flat, dtype=flat.dtype)
    if not t._contiguous:
        np.copyto(ndarray_view(t), flat.reshape(shape_tuple(t)))
    return 0


cdef str CRE_RAND_SIGS_GEN = "tuple of ints size, *, cgrad.Generator generator, " + CRE_FACTORY_KW[3:]
cdef str CRE_RAND_SIGS = "tuple of ints size, " + CRE_FACTORY_KW


cdef Tensor random_tensor(tuple size, object size_kw, object dtype, bint requires_grad, bint normal,
                          str name):
    cdef int dt
    cdef Tensor t
    if not size and size_kw is None:
        raise cre_invalid(name, (), {}, [CRE_RAND_SIGS_GEN, CRE_RAND_SIGS])
    dt = cre_dtype_arg(dtype, DEFAULT_FLOAT, name)
    t = new_tensor_from_tuple(cre_size_arg(size, size_kw, name), dt)
    if not is_float(dt):
        raise NotImplementedError(
            f"\"{'normal_kernel_cpu' if normal else 'check_uniform_bounds'}\" not implemented for "
            f"'{dtype_title(dt)}'")
    cre_fill_random(t, normal)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, **kwargs):
    """Uniform samples in [0, 1)."""
    _check_device(device)
    return random_tensor(size, kwargs.pop("size", None), dtype, requires_grad, False, "rand")


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, **kwargs):
    """Standard normal samples."""
    _check_device(device)
    return random_tensor(size, kwargs.pop("size", None), dtype, requires_grad, True, "randn")


cdef Tensor cre_random_like(object input, str fname, object dtype, bint requires_grad, bint normal):
    cdef Tensor x = _as_tensor_arg(input, fname)
    cdef int dt = cre_dtype_arg(dtype, x._dtype, fname)
    cdef Tensor t
    if not is_float(dt):
        raise NotImplementedError(
            f"\"{'normal_kernel_cpu' if normal else 'check_uniform_bounds'}\" not implemented for "
            f"'{dtype_title(dt)}'")
    t = cre_new_preserving(x._ndim, x._shape, x._strides, dt, False)
    cre_fill_random(t, normal)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def rand_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
              memory_format=None, generator=None):
    """Uniform samples in [0, 1), laid out like input."""
    _check_device(device)
    return cre_random_like(input, "rand_like", dtype, requires_grad, False)


def randn_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None, generator=None):
    """Standard normal samples, laid out like input."""
    _check_device(device)
    return cre_random_like(input, "randn_like", dtype, requires_grad, True)


cdef int64_t cre_int_bound(object v) except? -1:
    if isinstance(v, Tensor):
        v = (<Tensor>v).item()
    v = _operator.index(v)
    if v < -9223372036854775808 or v > 9223372036854775807:
        raise ValueError("Overflow when unpacking long long")
    return v


cdef int cre_fill_randint(Tensor t, int64_t low, int64_t high) except -1:
    cdef object lo_lim, hi_lim
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    if t._dtype != I64:
        # PyTorch's check_from_to_in_range: both ends within the dtype
        if t._dtype == BOOL:
            lo_lim, hi_lim = 0, 1
        elif is_int(t._dtype):
            lo_lim, hi_lim = INT_LIMITS[t._dtype]
        elif t._dtype == F16:
            lo_lim, hi_lim = -65504, 65504
        else:
            lo_lim, hi_lim = -FLT_MAX, FLT_MAX
        if low < lo_lim or low > hi_lim:
            raise RuntimeError(f"from is out of bounds for {CPP_TYPE_NAMES[t._dtype]}")
        if high - 1 < lo_lim or high - 1 > hi_lim:
            raise RuntimeError(f"to - 1 is out of bounds for {CPP_TYPE_NAMES[t._dtype]}")
        if is_float(t._dtype):
            cre_warn_fp_bounds(low, high, t._dtype)
    if t._numel:
        values = _rng.integers(low, high, size=t._numel, dtype=np.int64)
        copy_into(t, tensor_from_ndarray(values.reshape(shape_tuple(t)), True))
    return 0


cdef int cre_warn_fp_bounds(int64_t low, int64_t high, int dt) except -1:
    """PyTorch's WARN_OUT_OF_BOUNDS: integers a float type cannot all hold."""
    cdef int digits = 11 if dt == F16 else (24 if dt == F32 else 53)
    cdef object limit = (<object>2) ** digits
    for v, name in ((low, "from"), (high - 1, "to - 1")):
        if v < -limit or v > limit:
            _warnings.warn(
                f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                f"{CPP_TYPE_NAMES[dt]} can support discrete uniform distribution only within this range. "
                "This warning will become an error in version 1.7 release, please fix the code in advance",
                UserWarning, stacklevel=2)
    return 0


cdef list cre_randint_sigs():
    return [f"int high, tuple of ints size, *, cgrad.Generator generator, {CRE_FACTORY_KW[3:]}",
            f"int high, tuple of ints size, {CRE_FACTORY_KW}",
            f"int low, int high, tuple of ints size, *, cgrad.Generator generator, {CRE_FACTORY_KW[3:]}",
            f"int low, int high, tuple of ints size, {CRE_FACTORY_KW}"]


def randint(*args, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
            requires_grad=False, **kwargs):
    """randint(high, size) / randint(low=0, high, size): integers drawn
    uniformly from [low, high), int64 unless dtype is given."""
    cdef tuple shape
    cdef Tensor t
    _check_device(device)
    names = (("low", "high", "size")
             if len(args) == 3 or "low" in kwargs or (len(args) == 2 and "size" in kwargs)
             else ("high", "size"))
    if set(kwargs) - {"low", "high", "size"}:
        raise TypeError(f"randint() got an unexpected keyword argument "
                        f"'{sorted(set(kwargs) - {'low', 'high', 'size'})[0]}'")
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in values or k not in names:
            raise cre_invalid("randint", args, kwargs, cre_randint_sigs())
        values[k] = v
    if len(args) > 3 or len(values) != len(names):
        raise cre_invalid("randint", args, kwargs, cre_randint_sigs())
    size = values["size"]
    for k in names[:-1]:
        if not cre_is_int(values[k]):
            raise cre_invalid("randint", args, kwargs, cre_randint_sigs())
    if isinstance(size, (int, np.integer)) or not hasattr(size, "__len__"):
        if len(names) == 2 and len(args) == 2:
            raise TypeError(f"randint(): argument 'size' (position 2) must be tuple of ints, not "
                            f"{type(size).__name__}")
        raise cre_invalid("randint", args, kwargs, cre_randint_sigs())
    low = cre_int_bound(values.get("low", 0))
    high = cre_int_bound(values["high"])
    t = new_tensor_from_tuple(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, I64, "randint"))
    check_requires_grad(t, requires_grad)
    cre_fill_randint(t, low, high)
    return mark_inference(t)


def randint_like(input, *args, dtype=None, layout=None, device=None, pin_memory=False,
                 requires_grad=False, memory_format=None, generator=None, **kwargs):
    """randint_like(input, high) / (input, low, high): integers from
    [low, high) laid out like input, in input's dtype unless dtype is given."""
    cdef Tensor x
    cdef Tensor t
    _check_device(device)
    names = ("low", "high") if len(args) == 2 or "low" in kwargs else ("high",)
    values = dict(zip(names, args))
    values.update(kwargs)
    if not isinstance(input, Tensor) or len(args) > 2 or set(values) != set(names) or \
            not all([cre_is_int(v) for v in values.values()]):
        kw = ("cgrad.memory_format memory_format = None, cgrad.dtype dtype = None, cgrad.layout layout = None, "
              "cgrad.device device = None, bool pin_memory = False, bool requires_grad = False")
        raise cre_invalid("randint_like", (input,) + args, kwargs, [
            f"{a}, *, {g}{kw}" for a in ("Tensor input, int low, int high", "Tensor input, Tensor high",
                                         "Tensor input, int high")
            for g in ("cgrad.Generator generator, ", "")])
    x = <Tensor>input
    t = cre_new_preserving(x._ndim, x._shape, x._strides, cre_dtype_arg(dtype, x._dtype, "randint_like"),
                           False)
    check_requires_grad(t, requires_grad)
    cre_fill_randint(t, cre_int_bound(values.get("low", 0)), cre_int_bound(values["high"]))
    return mark_inference(t)


# ---------------------------------------------------------------------------

cdef Tensor _as_tensor_arg(object x, str name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {py_typename(x)}")
    return <Tensor>x


def _check_device(device):
    if device is None:
        return
    d = str(device)
    if d != "cpu" and not d.startswith("cpu:"):
        raise RuntimeError(f"cgrad runs on the CPU only; device '{d}' is not available")
