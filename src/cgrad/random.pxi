# Random numbers: rand, randn, randint and friends, from numpy's PCG64
# behind a seedable module-level generator.


# ---------------------------------------------------------------------------
# Random numbers: numpy's PCG64 behind a seedable module-level generator.
# Reproducible (the same seed gives the same numbers), not PyTorch's stream.

cdef object _rng = None     # made on first use: numpy.random costs ~20 ms to import


cdef object default_rng():
    global _rng
    if _rng is None:
        _rng = np.random.default_rng()
    return _rng


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
    return default_rng()


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
            flat = default_rng().standard_normal(t._numel, dtype=np.float32).astype(np.float16)
        else:
            flat = (default_rng().integers(0, 1 << 11, size=t._numel) * (1.0 / (1 << 11))).astype(np.float16)
        np.copyto(ndarray_view(t), flat.reshape(shape_tuple(t)))
        return 0
    flat = ndarray_view(t).reshape(-1) if t._contiguous else None
    if flat is None:
        flat = np.empty(t._numel, dtype=np.float32 if t._dtype == F32 else np.float64)
    if normal:
        default_rng().standard_normal(out=flat, dtype=flat.dtype)
    else:
        default_rng().random(out=flat, dtype=flat.dtype)
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
        values = default_rng().integers(low, high, size=t._numel, dtype=np.int64)
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
