# Creation: tensors from Python data and numpy arrays, and the factories
# (zeros, ones, full, empty, arange, rand, randn, ...). Argument checks
# follow PyTorch's texts; the filling itself is kernels.


cdef class _DataScan:
    """One walk over nested sequences: their shape (checked rectangular) and
    the flat scalars, plus the widest kind seen (bool < int < float)."""
    cdef list values
    cdef list shape
    cdef int kind

    def __cinit__(self):
        self.values = []
        self.shape = []
        self.kind = -1

    cdef int scan(self, object data, int depth) except -1:
        cdef Py_ssize_t n, i
        if isinstance(data, Tensor):
            self.add_scalar((<Tensor>data).item() if (<Tensor>data)._numel == 1 else _one_element(data))
            return 0
        if isinstance(data, (list, tuple)):
            n = len(data)
            if depth == len(self.shape):
                if depth >= MAX_DIMS:
                    raise ValueError("too many dimensions")
                self.shape.append(n)
            elif depth > len(self.shape) or self.shape[depth] != n:
                if depth > len(self.shape):
                    raise ValueError(f"expected sequence of length {self.shape[depth - 1] if depth else 0} "
                                     f"at dim {depth - 1} (got {n})")
                raise ValueError(f"expected sequence of length {self.shape[depth]} at dim {depth} (got {n})")
            for i in range(n):
                self.scan(data[i], depth + 1)
            if n == 0 and depth + 1 < len(self.shape):
                raise ValueError(f"expected sequence of length {self.shape[depth + 1]} at dim {depth + 1} (got 0)")
            return 0
        if depth < len(self.shape):
            raise ValueError(
                f"expected sequence of length {self.shape[depth]} at dim {depth} (got {type(data).__name__})")
        self.add_scalar(data)
        return 0

    cdef int add_scalar(self, object v) except -1:
        cdef int k
        if isinstance(v, bool) or isinstance(v, np.bool_):
            k = CAT_BOOL
            v = bool(v)
        elif isinstance(v, (int, np.integer)):
            k = CAT_INT
            v = int(v)
        elif isinstance(v, (float, np.floating)):
            k = CAT_FLOAT
            v = float(v)
        elif isinstance(v, str):
            raise TypeError(f"new(): invalid data type '{type(v).__name__}'")
        elif isinstance(v, np.ndarray) and v.ndim == 0:
            return self.add_scalar(v.item())
        else:
            raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")
        if k > self.kind:
            self.kind = k
        self.values.append(v)
        return 0


def _one_element(t):
    raise ValueError("only one element tensors can be converted to Python scalars")


cdef int numpy_float_dtype(object arr):
    return dtype_from_numpy(arr.dtype)


cdef Tensor tensor_from_data(object data, object dtype_arg):
    """cgrad.tensor(data): always a copy, never history."""
    cdef _DataScan scan
    cdef int dt
    cdef Tensor t
    cdef tuple shape
    if isinstance(data, Tensor):
        t = contiguous_copy(<Tensor>data)
        if dtype_arg is not None:
            t = cast_tensor(t, dtype_code(dtype_arg))
        return t
    if isinstance(data, np.ndarray):
        t = tensor_from_ndarray(data, False)
        if dtype_arg is not None:
            t = cast_tensor(t, dtype_code(dtype_arg))
        return t
    if isinstance(data, (np.generic,)):
        t = tensor_from_ndarray(np.asarray(data), False)
        if dtype_arg is not None:
            t = cast_tensor(t, dtype_code(dtype_arg))
        return t
    scan = _DataScan()
    scan.scan(data, 0)
    shape = tuple(scan.shape)
    if dtype_arg is not None:
        dt = dtype_code(dtype_arg)
    elif scan.kind == CAT_BOOL:
        dt = BOOL
    elif scan.kind == CAT_INT:
        dt = I64
    else:
        dt = DEFAULT_FLOAT      # floats, and empty data
    t = new_tensor_from_tuple(shape, dt)
    if t._numel:
        np.copyto(ndarray_view(t).reshape(-1),
                  np.array(scan.values, dtype=np.float64 if scan.kind == CAT_FLOAT else None),
                  casting="unsafe")
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


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of data (nested lists/tuples of numbers,
    a number, a numpy array or a tensor). Float data gives float32, ints give
    int64, bools give bool, numpy arrays keep their dtype."""
    _check_device(device)
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
    return tensor(data, dtype=dtype)


def from_numpy(ndarray):
    """A tensor sharing memory with a numpy array (no copy)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return mark_inference(tensor_from_ndarray(ndarray, True))


cdef int factory_dtype(object dtype, int default) except -1:
    return default if dtype is None else dtype_code(dtype)


cdef tuple factory_size(tuple size, str name):
    cdef tuple shape
    if len(size) == 1 and isinstance(size[0], float):
        raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not float")
    shape = parse_shape_args(size, "size")
    for s in shape:
        if s < 0:
            raise RuntimeError(f"{name}: Dimension size must be non-negative.")
    return shape


cdef Tensor filled(tuple shape, int dt, object value, bint requires_grad):
    cdef Tensor t = new_tensor_from_tuple(shape, dt, value == 0)
    if value != 0:
        fill_scalar(t, value)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    _check_device(device)
    return filled(factory_size(size, "zeros"), factory_dtype(dtype, DEFAULT_FLOAT), 0, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    _check_device(device)
    return filled(factory_size(size, "ones"), factory_dtype(dtype, DEFAULT_FLOAT), 1, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None, memory_format=None):
    _check_device(device)
    cdef Tensor t = new_tensor_from_tuple(factory_size(size, "empty"), factory_dtype(dtype, DEFAULT_FLOAT))
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


cdef int scalar_dtype(object value) except -1:
    cdef int cat = scalar_category(value)
    return BOOL if cat == CAT_BOOL else (I64 if cat == CAT_INT else DEFAULT_FLOAT)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False, out=None, layout=None):
    _check_device(device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    fill_value = normalize_scalar(fill_value)
    return filled(factory_size((size,), "full"), factory_dtype(dtype, scalar_dtype(fill_value)),
                  fill_value, requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    cdef Tensor x = _as_tensor_arg(input, "input")
    return filled(shape_tuple(x), factory_dtype(dtype, x._dtype), 0, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    cdef Tensor x = _as_tensor_arg(input, "input")
    return filled(shape_tuple(x), factory_dtype(dtype, x._dtype), 1, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, layout=None, memory_format=None):
    cdef Tensor x = _as_tensor_arg(input, "input")
    cdef Tensor t = new_tensor_from_tuple(shape_tuple(x), factory_dtype(dtype, x._dtype))
    check_requires_grad(t, requires_grad)
    return t


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
              memory_format=None):
    cdef Tensor x = _as_tensor_arg(input, "input")
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return filled(shape_tuple(x), factory_dtype(dtype, x._dtype), normalize_scalar(fill_value),
                  requires_grad)


cdef Tensor op_zeros_like(Tensor x):
    return new_tensor(x._ndim, x._shape, x._dtype, True)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False, out=None,
           layout=None):
    """Values from start (inclusive) to end (exclusive) by step. int64 when
    every bound is an int, else the default float dtype."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    for v in (start, end, step):
        if isinstance(v, Tensor):
            raise TypeError("arange() expects numbers, not tensors")
        if not is_scalar(v):
            raise TypeError(f"arange(): argument 'end' must be Number, not {type(v).__name__}")
    start, end, step = normalize_scalar(start), normalize_scalar(end), normalize_scalar(step)
    cdef int dt
    if dtype is not None:
        dt = dtype_code(dtype)
    elif all(isinstance(v, int) for v in (start, end, step)):
        dt = I64
    else:
        dt = DEFAULT_FLOAT
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    cdef Py_ssize_t n
    if dt == I64 and all(isinstance(v, int) for v in (start, end, step)):
        n = max(0, -((start - end) // step))
        values = np.arange(n, dtype=np.int64) * step + start
    else:
        n = max(0, int(np.ceil((float(end) - float(start)) / float(step))))
        values = float(start) + np.arange(n, dtype=np.float64) * float(step)
    cdef Tensor t = new_tensor_from_tuple((n,), dt)
    if n:
        np.copyto(ndarray_view(t), values, casting="unsafe")
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


# ---------------------------------------------------------------------------
# Random numbers: numpy's PCG64 behind a seedable module-level generator.

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
    """Seed the default generator: rand/randn/randint/randperm and
    nn.init draw from it."""
    global _rng, _default_seed
    seed = as_index(seed, "seed")
    _rng = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
    _default_seed = seed
    return Generator(seed)


def seed():
    global _rng
    _rng = np.random.default_rng()


def initial_seed():
    return _default_seed


def _generator():
    return _rng


cdef Tensor random_tensor(tuple size, object dtype, bint requires_grad, bint normal, str name):
    cdef int dt = factory_dtype(dtype, DEFAULT_FLOAT)
    cdef Tensor t
    if not is_float(dt):
        raise RuntimeError(f"\"{'normal_kernel_cpu' if normal else 'check_uniform_bounds'}\" not implemented for '{dtype_title(dt)}'")
    t = new_tensor_from_tuple(factory_size(size, name), dt)
    if t._numel:
        view = ndarray_view(t)
        if normal:
            _rng.standard_normal(out=view, dtype=view.dtype)
        else:
            _rng.random(out=view, dtype=view.dtype)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    """Uniform samples in [0, 1)."""
    _check_device(device)
    return random_tensor(size, dtype, requires_grad, False, "rand")


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None, out=None, layout=None):
    """Standard normal samples."""
    _check_device(device)
    return random_tensor(size, dtype, requires_grad, True, "randn")


# ---------------------------------------------------------------------------

cdef Tensor _as_tensor_arg(object x, str name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name} must be Tensor, not {type(x).__name__}")
    return <Tensor>x


def _check_device(device):
    if device is None:
        return
    d = str(device)
    if d != "cpu" and not d.startswith("cpu:"):
        raise RuntimeError(f"cgrad runs on the CPU only; device '{d}' is not available")
