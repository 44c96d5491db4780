# Random numbers, part 1: cgrad.Generator (numpy's PCG64 behind PyTorch's
# Generator interface), the default generator and the seeding functions, and
# the uniform / normal / integer fills behind rand, randn, randint and their
# _like forms. A seed gives the same numbers on every run (not PyTorch's
# stream). numpy.random is imported and a generator's PCG64 built only at the
# first draw, so importing cgrad stays cheap. Distributions and the in-place
# samplers are in random_dists.pxi.

from os import urandom as _os_urandom

cdef object _numpy_random = None


cdef object numpy_random():
    global _numpy_random
    if _numpy_random is None:
        import numpy.random
        _numpy_random = numpy.random
    return _numpy_random


cdef object DEFAULT_RNG_SEED = 67280421310721     # PyTorch's seed of a new Generator
cdef object U64_MASK = (1 << 64) - 1
cdef int RNG_STATE_BYTES = 48     # seed (8), PCG64 state (16) and increment (16), cached uint32 (8)


cdef object check_seed_range(object seed):
    """A uint64, as PyTorch keeps seeds (-1 becomes 2^64 - 1)."""
    if seed >= (1 << 64) or seed < -(1 << 63):
        raise ValueError("Overflow when unpacking long long")
    return seed & U64_MASK


cdef class Generator:
    """A random number generator: Generator(device='cpu'). Its seed starts at
    PyTorch's default; manual_seed/seed reseed it, get_state/set_state save
    and restore its stream as a uint8 tensor."""
    cdef object _seed
    cdef object _np          # numpy.random.Generator, built at the first draw

    def __init__(self, device="cpu"):
        if device is not None and parse_device(device).type != "cpu":
            raise RuntimeError(f"cgrad computes on the CPU only: a Generator for device "
                               f"'{parse_device(device)}' cannot be made")
        self._seed = DEFAULT_RNG_SEED
        self._np = None

    @property
    def device(self):
        return CPU

    cdef object numpy_generator(self):
        if self._np is None:
            rnd = numpy_random()
            self._np = rnd.Generator(rnd.PCG64(self._seed))
        return self._np

    def manual_seed(self, seed):
        if isinstance(seed, Tensor) and (<Tensor>seed)._numel == 1:
            seed = seed.item()
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._seed = check_seed_range(int(seed))
        self._np = None
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        self._seed = int.from_bytes(_os_urandom(8), "little")
        self._np = None
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        cdef dict st = self.numpy_generator().bit_generator.state
        raw = (self._seed.to_bytes(8, "little") + st["state"]["state"].to_bytes(16, "little")
               + st["state"]["inc"].to_bytes(16, "little") + int(st["has_uint32"]).to_bytes(4, "little")
               + int(st["uinteger"]).to_bytes(4, "little"))
        return tensor_from_ndarray(np.frombuffer(raw, dtype=np.uint8).copy(), True)

    def set_state(self, new_state):
        if not isinstance(new_state, Tensor):
            raise TypeError(f"expected a cgrad.ByteTensor, but got {py_typename(new_state)}")
        if (<Tensor>new_state)._dtype != U8:
            raise TypeError("RNG state must be a cgrad.ByteTensor")
        if (<Tensor>new_state)._numel != RNG_STATE_BYTES:
            raise RuntimeError(f"Expected a CPUGeneratorImplState of size {RNG_STATE_BYTES} but found the "
                               f"input RNG state size to be {(<Tensor>new_state)._numel}")
        raw = np.ascontiguousarray(ndarray_view(<Tensor>new_state)).reshape(-1).tobytes()
        rnd = numpy_random()
        bits = rnd.PCG64()
        bits.state = {"bit_generator": "PCG64",
                      "state": {"state": int.from_bytes(raw[8:24], "little"),
                                "inc": int.from_bytes(raw[24:40], "little")},
                      "has_uint32": int.from_bytes(raw[40:44], "little") & 1,
                      "uinteger": int.from_bytes(raw[44:48], "little")}
        self._seed = int.from_bytes(raw[:8], "little")
        self._np = rnd.Generator(bits)
        return self

    def __reduce__(self):
        return (_rebuild_generator, (self.get_state(),))

    def __repr__(self):
        return f"<cgrad._C.Generator object at {id(self):#x}>"


def _rebuild_generator(state):
    return Generator().set_state(state)



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


def _generator():
    """The default generator's numpy generator (for nn.init and friends)."""
    return (<Generator>default_generator).numpy_generator()


cdef object rng_of(object generator, str fname):
    """The numpy generator behind a generator= argument (None: the default)."""
    if generator is None:
        return (<Generator>default_generator).numpy_generator()
    if isinstance(generator, Generator):
        return (<Generator>generator).numpy_generator()
    raise TypeError(f"{fname}(): argument 'generator' must be cgrad.Generator, not {py_typename(generator)}")


def _numpy_generator(generator=None):
    """rng_of for the Python parts (nn.init, utils.data)."""
    return rng_of(generator, "_numpy_generator")


cdef int cre_fill_random(Tensor t, bint normal, object rng) except -1:
    """Fill a tensor (any strides) with uniform [0, 1) or standard normal
    samples from rng, in memory order."""
    cdef object flat
    if t._numel == 0:
        return 0
    if t._dtype == F16:
        # float16: PyTorch's uniform draws multiples of 2^-11 in [0, 1), all
        # exact in half; normal samples are drawn in float32 and rounded
        if normal:
            flat = rng.standard_normal(t._numel, dtype=np.float32).astype(np.float16)
        else:
            flat = (rng.integers(0, 1 << 11, size=t._numel) * (1.0 / (1 << 11))).astype(np.float16)
        np.copyto(ndarray_view(t), flat.reshape(shape_tuple(t)))
        return 0
    flat = ndarray_view(t).reshape(-1) if t._contiguous else None
    if flat is None:
        flat = np.empty(t._numel, dtype=np.float32 if t._dtype == F32 else np.float64)
    if normal:
        rng.standard_normal(out=flat, dtype=flat.dtype)
    else:
        rng.random(out=flat, dtype=flat.dtype)
    if not t._contiguous:
        np.copyto(ndarray_view(t), flat.reshape(shape_tuple(t)))
    return 0


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
    cre_fill_random(t, normal, rng_of(generator, name))
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
    cre_fill_random(t, normal, rng_of(generator, fname))
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


cdef enum:
    RANDINT_CHUNK = 1 << 20        # int64 draws per chunk of a large randint


cdef int cre_fill_randint(Tensor t, int64_t low, int64_t high, object rng) except -1:
    cdef object lo_lim, hi_lim
    cdef Py_ssize_t k
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
    if t._numel > RANDINT_CHUNK and t._dtype == I64 and t._contiguous:
        # drawn straight into t a chunk at a time (the same draws as one
        # call: numpy keeps no state between calls but the bit generator's),
        # so that no int64 copy of the whole result is ever held
        flat = ndarray_view(t).reshape(-1)
        for k in range(0, t._numel, RANDINT_CHUNK):
            flat[k:k + RANDINT_CHUNK] = rng.integers(low, high, size=min(RANDINT_CHUNK, t._numel - k),
                                                     dtype=np.int64)
    elif t._numel:
        values = rng.integers(low, high, size=t._numel, dtype=np.int64)
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
    dtype = factory_out_dtype(out, "randint", dtype)
    t = new_tensor_from_tuple(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, I64, "randint"))
    check_requires_grad(t, requires_grad)
    cre_fill_randint(t, low, high, rng_of(generator, "randint"))
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
                     rng_of(generator, "randint_like"))
    return mark_inference(t)


# ---------------------------------------------------------------------------

cdef Tensor _as_tensor_arg(object x, str name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {py_typename(x)}")
    return <Tensor>x
