# Random numbers, part 1: cgrad.Generator (PyTorch's CPU generator: the
# MT19937 engine of kernels/mt19937_kernels.pxi, its seed and its cached
# normal sample), the default generator and the seeding functions, and the
# uniform / normal / integer fills behind rand, randn, randint and their
# _like forms. A seed gives PyTorch's numbers bit for bit, and get_state /
# set_state use PyTorch's 5056-byte CPUGeneratorImplState, so states move
# between torch and cgrad. Draws follow ATen's order: a tensor's elements in
# memory order (the order TensorIterator walks an output). Every draw runs in
# C, serially (as ATen draws under its generator lock): threads never change them.
# Distributions and the in-place samplers are in random_dists.pxi.

from os import urandom as _os_urandom
from libc.string cimport memcpy as _rng_memcpy, memset as _rng_memset

cdef object DEFAULT_RNG_SEED = 67280421310721     # PyTorch's seed of a new Generator
cdef object U64_MASK = (1 << 64) - 1
cdef int RNG_STATE_BYTES = 5056     # sizeof(at::CPUGeneratorImplState)
cdef int RNG_STATE_WORDS_AT = 24    # legacy_pod.state: 624 uint64 after seed, left, seeded, next
cdef int RNG_NORMAL_Y_AT = 5024     # legacy_pod.normal_y (the cached double normal)
cdef int RNG_NORMAL_VALID_AT = 5040
cdef int RNG_FLOAT_NORMAL_AT = 5048


cdef object check_seed_range(object seed):
    """A uint64, as PyTorch keeps seeds (-1 becomes 2^64 - 1)."""
    if seed >= (1 << 64) or seed < -(1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return seed & U64_MASK


cdef class Generator:
    """A random number generator: Generator(device='cpu'), PyTorch's CPU
    generator (MT19937). Its seed starts at PyTorch's default; manual_seed/
    seed reseed it, get_state/set_state save and restore its stream as
    PyTorch's uint8 state tensor."""
    cdef cg_mt st

    def __init__(self, device="cpu"):
        if device is not None and parse_device(device).type != "cpu":
            raise RuntimeError(f"cgrad computes on the CPU only: a Generator for device "
                               f"'{parse_device(device)}' cannot be made")
        cg_mt_seed(&self.st, <uint64_t>DEFAULT_RNG_SEED)

    @property
    def device(self):
        return CPU

    def manual_seed(self, seed):
        if isinstance(seed, Tensor) and (<Tensor>seed)._numel == 1:
            seed = seed.item()
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        cg_mt_seed(&self.st, <uint64_t>check_seed_range(int(seed)))
        return self

    def seed(self):
        """Reseed from the operating system's entropy (53 bits, as PyTorch's
        getNonDeterministicRandom); returns the new seed."""
        cdef uint64_t s = int.from_bytes(_os_urandom(8), "little") & ((1 << 53) - 1)
        cg_mt_seed(&self.st, s)
        return s

    def initial_seed(self):
        return self.st.seed

    def get_state(self):
        cdef Tensor out = new_tensor_from_tuple((RNG_STATE_BYTES,), U8)
        cdef char* raw = <char*>out._data
        cdef uint64_t word
        cdef int32_t valid
        cdef int i
        _rng_memset(raw, 0, RNG_STATE_BYTES)
        _rng_memcpy(raw, &self.st.seed, 8)
        _rng_memcpy(raw + 8, &self.st.left, 4)
        _rng_memcpy(raw + 12, &self.st.seeded, 4)
        word = self.st.next
        _rng_memcpy(raw + 16, &word, 8)
        for i in range(624):
            word = self.st.state[i]
            _rng_memcpy(raw + RNG_STATE_WORDS_AT + 8 * i, &word, 8)
        if self.st.has_double_normal:
            valid = 1
            _rng_memcpy(raw + RNG_NORMAL_Y_AT, &self.st.next_double_normal, 8)
            _rng_memcpy(raw + RNG_NORMAL_VALID_AT, &valid, 4)
        if self.st.has_float_normal:
            _rng_memcpy(raw + RNG_FLOAT_NORMAL_AT, &self.st.next_float_normal, 4)
            raw[RNG_FLOAT_NORMAL_AT + 4] = 1
        return out

    def set_state(self, new_state):
        cdef Tensor src
        cdef const char* raw
        cdef cg_mt st
        cdef uint64_t word
        cdef int32_t valid
        cdef int i
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a cgrad.ByteTensor, but got {py_typename(new_state)}")
        if (<Tensor>new_state)._dtype != U8:
            raise TypeError("RNG state must be a cgrad.ByteTensor")
        if (<Tensor>new_state)._numel != RNG_STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {RNG_STATE_BYTES} but found the "
                               f"input RNG state size to be {(<Tensor>new_state)._numel}")
        src = contiguous_copy_if_needed(<Tensor>new_state)
        raw = <const char*>src._data
        _rng_memcpy(&st.seed, raw, 8)
        _rng_memcpy(&st.left, raw + 8, 4)
        _rng_memcpy(&st.seeded, raw + 12, 4)
        _rng_memcpy(&word, raw + 16, 8)
        st.next = <uint32_t>word
        for i in range(624):
            _rng_memcpy(&word, raw + RNG_STATE_WORDS_AT + 8 * i, 8)
            st.state[i] = <uint32_t>word
        if not (st.seeded and 0 < st.left <= 624 and st.next <= 624):
            raise RuntimeError("Invalid mt19937 state")
        _rng_memcpy(&valid, raw + RNG_NORMAL_VALID_AT, 4)
        st.has_double_normal = valid != 0
        _rng_memcpy(&st.next_double_normal, raw + RNG_NORMAL_Y_AT, 8)
        if not st.has_double_normal:
            st.next_double_normal = 0
        st.has_float_normal = raw[RNG_FLOAT_NORMAL_AT + 4] != 0
        _rng_memcpy(&st.next_float_normal, raw + RNG_FLOAT_NORMAL_AT, 4)
        self.st = st
        return self

    def __reduce__(self):
        return (_rebuild_generator, (self.get_state(),))

    def __repr__(self):
        return f"<cgrad._C.Generator object at {id(self):#x}>"


def _rebuild_generator(state):
    return Generator().set_state(state)


cdef Tensor contiguous_copy_if_needed(Tensor t):
    if t._contiguous:
        return t
    return tensor_from_ndarray(np.ascontiguousarray(ndarray_view(t)), True)


cdef object values_view(Tensor t):
    """t's values as a numpy array: a view of its memory, or for bfloat16
    (numpy has none) a float32 copy (exact)."""
    if t._dtype == BF16:
        return ndarray_view(cast_tensor(t, F32))
    return ndarray_view(t)


cdef object round_to_bfloat16(object a):
    """A float32 numpy array rounded to bfloat16's values (to nearest, ties
    to even on the bits, as cg_f2bf; NaN left alone), still float32."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
               & np.uint32(0xFFFF0000))
    return np.where(np.isnan(a), a, rounded.view(np.float32)).astype(np.float32)



default_generator = Generator()
default_generator.seed()        # as PyTorch, a fresh process draws a fresh default seed


def manual_seed(seed):
    """Seed the default generator (rand, randn, randint, randperm, dropout,
    nn.init, DataLoader shuffling draw from it); returns it."""
    seed = int(seed)        # as PyTorch: int('a') raises ValueError, 1.5 seeds 1
    default_generator.manual_seed(check_seed_range(seed))
    return default_generator


def seed():
    """Seed the default generator from the operating system; returns the seed."""
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state):
    default_generator.set_state(new_state)


cdef Generator gen_of(object generator, str fname):
    """The Generator of a generator= argument (None: the default)."""
    if generator is None:
        return <Generator>default_generator
    if isinstance(generator, Generator):
        return <Generator>generator
    raise TypeError(f"{fname}(): argument 'generator' must be cgrad.Generator, not {py_typename(generator)}")


# ---------------------------------------------------------------------------
# Fills in ATen's draw order


cdef list memory_axes(Tensor t):
    """t's axes ordered as TensorIterator walks an output: largest stride
    first (ties keep their order)."""
    cdef list keyed = [(-abs(t._strides[d]), d) for d in range(t._ndim)]
    keyed.sort()
    return [k[1] for k in keyed]


cdef int scatter_draws(Tensor t, object buf) except -1:
    """Write buf (t's numel draws, in memory order) into t, cast to t's dtype."""
    cdef list axes
    cdef Tensor wide
    if t._dtype == BF16:
        # through float32 in t's layout, then rounded once by the cast
        wide = new_strided(t._ndim, t._shape, t._strides, F32)
        scatter_draws(wide, np.asarray(buf, dtype=np.float32))
        copy_into(t, wide)
        return 0
    view = ndarray_view(t)
    if t._contiguous:
        np.copyto(view, buf.reshape(view.shape), casting="unsafe")
        return 0
    axes = memory_axes(t)
    walked = view.transpose(axes)
    np.copyto(walked, buf.reshape(walked.shape), casting="unsafe")
    return 0


cdef object order_like(Tensor t, object values):
    """values (an array of t's shape) read in t's memory order, flat."""
    if t._contiguous:
        return np.ascontiguousarray(values).reshape(-1)
    return np.ascontiguousarray(values.transpose(memory_axes(t))).reshape(-1)


cdef int draw_uniform(Tensor t, Generator g, double lo, double hi) except -1:
    """uniform_kernel: float32 opmath (float16 too), float64 for double."""
    cdef int64_t n = t._numel
    cdef object buf
    cdef float flo, fhi
    if n == 0:
        return 0
    if t._dtype == F64:
        if t._contiguous:
            with nogil:
                cg_fill_uniform_f64(&g.st, <double*>t._data, n, lo, hi)
            return 0
        buf = np.empty(n, dtype=np.float64)
        with nogil:
            cg_fill_uniform_f64(&g.st, <double*>cnp.PyArray_DATA(<cnp.ndarray>buf), n, lo, hi)
        return scatter_draws(t, buf)
    flo = <float>lo
    fhi = <float>hi
    if t._dtype == F32 and t._contiguous:
        with nogil:
            cg_fill_uniform_f32(&g.st, <float*>t._data, n, flo, fhi)
        return 0
    buf = np.empty(n, dtype=np.float32)
    with nogil:
        cg_fill_uniform_f32(&g.st, <float*>cnp.PyArray_DATA(<cnp.ndarray>buf), n, flo, fhi)
    if t._dtype == F16:
        # a value the cast to half rounds up to `to` becomes `from`, as ATen
        buf = buf.astype(np.float16)
        buf[buf == np.float16(hi)] = np.float16(lo)
    elif t._dtype == BF16:
        buf = round_to_bfloat16(buf)
        buf[buf == round_to_bfloat16(np.array([hi], dtype=np.float32))[0]] = \
            round_to_bfloat16(np.array([lo], dtype=np.float32))[0]
    return scatter_draws(t, buf)


cdef int draw_normal(Tensor t, Generator g, double mean, double std, bint allow_fill16=True) except -1:
    """normal_kernel: normal_fill for 16 or more contiguous elements (and
    allow_fill16: the tensor PyTorch fills is contiguous too), else
    normal_distribution<double> element by element."""
    cdef int64_t n = t._numel
    cdef object buf
    if n == 0:
        return 0
    if n >= 16 and t._contiguous and allow_fill16:
        if t._dtype == F64:
            with nogil:
                cg_fill_normal16_f64(&g.st, <double*>t._data, n, mean, std)
            return 0
        if t._dtype == F32:
            with nogil:
                cg_fill_normal16_f32(&g.st, <float*>t._data, n, <float>mean, <float>std)
            return 0
        buf = np.empty(n, dtype=np.float32)       # float16: float32 opmath
        with nogil:
            cg_fill_normal16_blocks_f32(&g.st, <float*>cnp.PyArray_DATA(<cnp.ndarray>buf), n, <float>mean, <float>std)
        return scatter_draws(t, buf)
    buf = np.empty(n, dtype=np.float64)
    with nogil:
        cg_fill_normal_serial(&g.st, <double*>cnp.PyArray_DATA(<cnp.ndarray>buf), n, mean, std)
    return scatter_draws(t, buf)


cdef int draw_int_from_to(Tensor t, Generator g, uint64_t span, int64_t base) except -1:
    cdef int64_t n = t._numel
    cdef object buf
    if n == 0:
        return 0
    if t._dtype == I64 and t._contiguous:
        with nogil:
            cg_fill_int_from_to(&g.st, <int64_t*>t._data, n, span, base)
        return 0
    buf = np.empty(n, dtype=np.int64)
    with nogil:
        cg_fill_int_from_to(&g.st, <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>buf), n, span, base)
    return scatter_draws(t, buf)


def _uniform_doubles(n, generator=None):
    """n double uniforms in [0, 1) (53-bit, one random64 each), the draws of
    ATen's uniform_real_distribution<double>, as a float64 tensor."""
    cdef Generator g = gen_of(generator, "_uniform_doubles")
    cdef Tensor t = new_tensor_from_tuple((int(n),), F64)
    cdef int64_t count = t._numel
    with nogil:
        cg_fill_uniform_serial(&g.st, <double*>t._data, count)
    return t


cdef int cre_fill_random(Tensor t, bint normal, Generator g) except -1:
    """Fill a float tensor (any strides) with uniform [0, 1) or standard
    normal samples, as torch.rand / torch.randn draw them."""
    if normal:
        return draw_normal(t, g, 0.0, 1.0)
    return draw_uniform(t, g, 0.0, 1.0)


cdef str CRE_RAND_SIGS_GEN = "tuple of ints size, *, cgrad.Generator generator, " + CRE_FACTORY_KW[3:]
cdef str CRE_RAND_SIGS = "tuple of ints size, " + CRE_FACTORY_KW


cdef Tensor random_tensor(tuple size, object size_kw, object dtype, bint requires_grad, bint normal,
                          str name, object generator):
    cdef int dt
    cdef Tensor t
    if not size and size_kw is None and isinstance(generator, Generator):
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if (not size and size_kw is None) or (generator is not None and not isinstance(generator, Generator)):
        raise cre_invalid(name, size, {} if generator is None else {"generator": generator},
                          [CRE_RAND_SIGS_GEN, CRE_RAND_SIGS])
    dt = cre_dtype_arg(dtype, DEFAULT_FLOAT, name)
    t = new_tensor_from_tuple(cre_size_arg(size, size_kw, name), dt)
    if not is_float(dt):
        raise NotImplementedError(
            f"\"{'normal_kernel_cpu' if normal else 'check_uniform_bounds'}\" not implemented for "
            f"'{dtype_title(dt)}'")
    cre_fill_random(t, normal, gen_of(generator, name))
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
         requires_grad=False, **kwargs):
    """Uniform samples in [0, 1)."""
    _check_device(device)
    dtype = factory_out_dtype(out, "rand", dtype)
    return factory_write_out(random_tensor(size, kwargs.pop("size", None), dtype, requires_grad, False, "rand",
                                           generator), out)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
          requires_grad=False, **kwargs):
    """Standard normal samples."""
    _check_device(device)
    dtype = factory_out_dtype(out, "randn", dtype)
    return factory_write_out(random_tensor(size, kwargs.pop("size", None), dtype, requires_grad, True, "randn",
                                           generator), out)


cdef Tensor cre_random_like(object input, str fname, object dtype, bint requires_grad, bint normal,
                            object generator, object memory_format):
    cdef Tensor x = _as_tensor_arg(input, fname)
    cdef int dt = cre_dtype_arg(dtype, x._dtype, fname)
    cdef Tensor t
    if not is_float(dt):
        raise NotImplementedError(
            f"\"{'normal_kernel_cpu' if normal else 'check_uniform_bounds'}\" not implemented for "
            f"'{dtype_title(dt)}'")
    t = new_in_format(x, dt, format_code(memory_format, fname, FMT_PRESERVE), False)
    cre_fill_random(t, normal, gen_of(generator, fname))
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def rand_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
              memory_format=None, generator=None):
    """Uniform samples in [0, 1), laid out like input."""
    _check_device(device)
    return cre_random_like(input, "rand_like", dtype, requires_grad, False, generator, memory_format)


def randn_like(input, *, dtype=None, layout=None, device=None, pin_memory=False, requires_grad=False,
               memory_format=None, generator=None):
    """Standard normal samples, laid out like input."""
    _check_device(device)
    return cre_random_like(input, "randn_like", dtype, requires_grad, True, generator, memory_format)


cdef int64_t cre_int_bound(object v) except? -1:
    if isinstance(v, Tensor):
        v = (<Tensor>v).item()
    v = _operator.index(v)
    if v < -9223372036854775808 or v > 9223372036854775807:
        raise ValueError("Overflow when unpacking long long")
    return v


cdef int cre_fill_randint(Tensor t, int64_t low, int64_t high, Generator g) except -1:
    """random_(low, high) after PyTorch's range checks."""
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
        elif t._dtype == BF16:
            lo_lim, hi_lim = -BFLOAT16_MAX, BFLOAT16_MAX
        else:
            lo_lim, hi_lim = -FLT_MAX, FLT_MAX
        if low < lo_lim or low > hi_lim:
            raise RuntimeError(f"from is out of bounds for {CPP_TYPE_NAMES[t._dtype]}")
        if high - 1 < lo_lim or high - 1 > hi_lim:
            raise RuntimeError(f"to - 1 is out of bounds for {CPP_TYPE_NAMES[t._dtype]}")
        if is_float(t._dtype):
            cre_warn_fp_bounds(low, high, t._dtype)
    return draw_int_from_to(t, g, <uint64_t>high - <uint64_t>low, low)


cdef int cre_warn_fp_bounds(int64_t low, int64_t high, int dt) except -1:
    """PyTorch's WARN_OUT_OF_BOUNDS: integers a float type cannot all hold."""
    cdef int digits = 11 if dt == F16 else (8 if dt == BF16 else (24 if dt == F32 else 53))
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
    dtype = factory_out_dtype(out, "randint", dtype)
    t = new_tensor_from_tuple(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, I64, "randint"))
    check_requires_grad(t, requires_grad)
    cre_fill_randint(t, low, high, gen_of(generator, "randint"))
    return factory_write_out(mark_inference(t), out)


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
    t = new_in_format(x, cre_dtype_arg(dtype, x._dtype, "randint_like"),
                      format_code(memory_format, "randint_like", FMT_PRESERVE), False)
    check_requires_grad(t, requires_grad)
    cre_fill_randint(t, cre_int_bound(values.get("low", 0)), cre_int_bound(values["high"]),
                     gen_of(generator, "randint_like"))
    return mark_inference(t)


# ---------------------------------------------------------------------------

cdef Tensor _as_tensor_arg(object x, str name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {py_typename(x)}")
    return <Tensor>x
