# Random numbers, part 2: the distributions (normal's four overloads,
# bernoulli, multinomial, poisson, randperm) and the in-place samplers of
# Tensor (uniform_, normal_, random_, exponential_, geometric_, log_normal_,
# cauchy_, bernoulli_), with PyTorch's argument checks and errors. Samples
# come from numpy's vectorised generators behind a cgrad.Generator and are
# written into the tensor through a numpy view (any strides, any dtype).
# In-place samplers on a tensor with history record a node of PyTorch's name
# whose gradient for the old value is zero (ZeroBackward0's rule).


cdef class UniformBackward0(ZeroBackward0):
    pass


cdef class NormalBackward0(ZeroBackward0):
    pass


cdef class RandomBackward0(ZeroBackward0):
    pass


cdef class ExponentialBackward0(ZeroBackward0):
    pass


cdef class GeometricBackward0(ZeroBackward0):
    pass


cdef class LogNormalBackward0(ZeroBackward0):
    pass


cdef class CauchyBackward0(ZeroBackward0):
    pass


cdef class BernoulliBackward1(ZeroBackward0):
    pass


cdef class BernoulliBackward2(ZeroBackward0):
    pass


cdef int write_samples(Tensor t, object samples) except -1:
    """t[...] = samples (numel values in t's logical order), cast to t's dtype."""
    if t._numel:
        np.copyto(ndarray_view(t), np.asarray(samples).reshape(shape_tuple(t)), casting="unsafe")
    return 0


cdef Tensor commit_samples(Tensor self, object samples, type node_class):
    """Write samples into self as an in-place op (version bump; a node of
    node_class when self has history)."""
    cdef Tensor old, result
    cdef Node node
    check_inplace(self)
    if records(self, None):
        old = old_value(self, False)
        result = new_tensor(self._ndim, self._shape, self._dtype)
        write_samples(result, samples)
        node = node_class.__new__(node_class)
        wire1(node, old)
        set_history(result, node)
        return commit_inplace(self, result)
    write_samples(self, samples)
    self._storage.version += 1
    return self


cdef object float_samples_dtype(Tensor t):
    return np.float32 if t._dtype == F32 else np.float64


cdef int need_float(Tensor t, str kernel) except -1:
    if not is_float(t._dtype):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_title(t._dtype)}'")
    return 0


cdef str fmt_double(object v):
    """A double as PyTorch's messages print it (C++ stream, 6 digits)."""
    return f"{float(v):g}"


# ---------------------------------------------------------------------------
# In-place samplers (Tensor methods)


def _uniform_(Tensor self, from_=0, to=1, generator=None):
    cdef Tensor tmp
    need_float(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={fmt_double(from_)} > "
                           f"to={fmt_double(to)}")
    rng = rng_of(generator, "uniform_")
    tmp = new_tensor(self._ndim, self._shape, self._dtype)
    cre_fill_random(tmp, False, rng)
    samples = ndarray_view(tmp)
    if from_ != 0 or to != 1:
        samples = samples * (to - from_) + from_
    return commit_samples(self, samples, UniformBackward0)


def _normal_(Tensor self, mean=0, std=1, generator=None):
    cdef Tensor tmp
    need_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
    tmp = new_tensor(self._ndim, self._shape, self._dtype)
    cre_fill_random(tmp, True, rng_of(generator, "normal_"))
    samples = ndarray_view(tmp)
    if mean != 0 or std != 1:
        samples = samples * std + mean
    return commit_samples(self, samples, NormalBackward0)


cdef tuple random_default_range(Tensor t):
    """[low, high) of random_() with no bounds: the integers the dtype holds
    exactly, from 0 (floats up to 2^digits inclusive, as PyTorch)."""
    if t._dtype == BOOL:
        return 0, 2
    if t._dtype == F16:
        return 0, (1 << 11) + 1
    if t._dtype == F32:
        return 0, (1 << 24) + 1
    if t._dtype == F64:
        return 0, (1 << 53) + 1
    return 0, INT_LIMITS[t._dtype][1] + 1


def _random_(Tensor self, *args, generator=None, **kwargs):
    """random_(), random_(to), random_(from, to); to=None means the dtype's top."""
    cdef Tensor tmp
    names = ("from", "to") if len(args) == 2 or "from" in kwargs else ("to",)
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in values:
            raise TypeError(f"random_() got an unexpected keyword argument '{k}'")
        values[k] = v
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    rng = rng_of(generator, "random_")
    low, high = random_default_range(self)
    if values:
        low = values.get("from", 0)
        if values.get("to") is not None:
            high = values["to"]
        for v in (low, high):
            if not cre_is_int(v):
                raise TypeError(f"random_(): argument 'to' must be int, not {py_typename(v)}")
        low, high = cre_int_bound(low), int(high)
        if high > (1 << 63) - 1:
            high = (1 << 63) - 1 if values.get("to") is not None else high
    tmp = new_tensor(self._ndim, self._shape, self._dtype)
    if high > (1 << 63) - 1:
        # int64's whole non-negative range: numpy draws it as uint64 below 2^63
        write_samples(tmp, rng.integers(low, high, size=self._numel, dtype=np.uint64).astype(np.int64))
    else:
        cre_fill_randint(tmp, low, high, rng)
    return commit_samples(self, ndarray_view(tmp), RandomBackward0)


def _exponential_(Tensor self, lambd=1, generator=None):
    if not is_float(self._dtype):
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {dtype_title(self._dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={fmt_double(lambd)}")
    rng = rng_of(generator, "exponential_")
    samples = rng.standard_exponential(self._numel, dtype=float_samples_dtype(self))
    if lambd != 1:
        samples /= lambd
    return commit_samples(self, samples, ExponentialBackward0)


def _geometric_(Tensor self, p, generator=None):
    if not (0 < p < 1):
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={fmt_double(p)}")
    rng = rng_of(generator, "geometric_")
    return commit_samples(self, rng.geometric(p, self._numel), GeometricBackward0)


def _log_normal_(Tensor self, mean=1, std=2, generator=None):
    need_float(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={fmt_double(std)}")
    rng = rng_of(generator, "log_normal_")
    return commit_samples(self, rng.lognormal(mean, std, self._numel), LogNormalBackward0)


def _cauchy_(Tensor self, median=0, sigma=1, generator=None):
    if not is_float(self._dtype):
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {CPP_TYPE_NAMES[self._dtype]}")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={fmt_double(sigma)}")
    rng = rng_of(generator, "cauchy_")
    samples = rng.standard_cauchy(self._numel)
    return commit_samples(self, samples * sigma + median, CauchyBackward0)


cdef object bernoulli_probs(Tensor self, Tensor p):
    """p's values as float64, broadcast to self's shape, checked to lie in [0, 1]."""
    need_float(p, "bernoulli_tensor_cpu_p_")
    probs = ndarray_view(p.expand(shape_tuple(self))).astype(np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    return probs


def _bernoulli_(Tensor self, p=0.5, generator=None):
    rng = rng_of(generator, "bernoulli_")
    if isinstance(p, Tensor):
        probs = bernoulli_probs(self, <Tensor>p)
        samples = rng.random(shape_tuple(self)) < probs
        return commit_samples(self, samples, BernoulliBackward1)
    p = float(p)
    if not (0 <= p <= 1):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={fmt_double(p)}")
    return commit_samples(self, rng.random(self._numel) < p, BernoulliBackward2)


# ---------------------------------------------------------------------------
# Distributions


def bernoulli(input, *args, generator=None, out=None, **kwargs):
    """bernoulli(input): 1 with probability input[i]; bernoulli(input, p):
    a tensor like input of Bernoulli(p) draws. Input's dtype."""
    cdef Tensor x = _as_tensor_arg(input, "bernoulli")
    cdef Tensor t
    if len(args) + len(kwargs) > 1 or (kwargs and "p" not in kwargs):
        raise TypeError(f"bernoulli() got an unexpected keyword argument '{next(iter(kwargs))}'"
                        if kwargs and "p" not in kwargs else
                        f"bernoulli() takes from 1 to 2 positional arguments but {1 + len(args)} were given")
    p = args[0] if args else kwargs.get("p")
    t = cre_new_preserving(x._ndim, x._shape, x._strides, x._dtype, False)
    rng = rng_of(generator, "bernoulli")
    if p is None:
        need_float(x, "bernoulli_tensor_cpu_p_")
        write_samples(t, rng.random(shape_tuple(x)) < bernoulli_probs(t, x))
        record_draw(t, BernoulliBackward0, x, None)         # random_draw_nodes.pxi
    else:
        _bernoulli_(t, p, generator)
        record_not_implemented(t, "bernoulli", x, None)
    return mark_inference(with_out(t, out, "bernoulli"))


cdef list NORMAL_SIGS = [
    "Tensor mean, Tensor std, *, cgrad.Generator generator = None, Tensor out = None",
    "Tensor mean, float std = 1, *, cgrad.Generator generator = None, Tensor out = None",
    "float mean, Tensor std, *, cgrad.Generator generator = None, Tensor out = None",
    "float mean, float std, tuple of ints size, *, cgrad.Generator generator = None, Tensor out = None, "
    "cgrad.dtype dtype = None, cgrad.layout layout = None, cgrad.device device = None, "
    "bool pin_memory = False, bool requires_grad = False"]


cdef bint is_real_number(object v):
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def normal(*args, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
           requires_grad=False, **kwargs):
    """normal(Tensor mean, Tensor std) / (Tensor mean, float std=1) /
    (float mean, Tensor std) / (float mean, float std, size): samples of
    N(mean, std^2); the result takes mean's dtype (std's when mean is a number)."""
    cdef Tensor t, tm, ts
    names = ("mean", "std", "size")
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in values or len(args) > 3:
            raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
        values[k] = v
    mean, std, size = values.get("mean"), values.get("std", None), values.get("size")
    rng = rng_of(generator, "normal")
    if size is not None:
        if not (is_real_number(mean) and is_real_number(std)):
            raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
        _check_device(device)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
        t = new_tensor_from_tuple(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, DEFAULT_FLOAT, "normal"))
        need_float(t, "normal_kernel_cpu")
        cre_fill_random(t, True, rng)
        if mean != 0 or std != 1:
            write_samples(t, ndarray_view(t) * std + mean)
        check_requires_grad(t, requires_grad)
        return mark_inference(with_out(t, out, "normal"))
    if dtype is not None or device is not None or requires_grad or "mean" not in values:
        raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
    if std is None:
        std = 1.0
    if isinstance(mean, Tensor):
        tm = <Tensor>mean
        need_float(tm, "normal_kernel_cpu")
        if isinstance(std, Tensor):
            ts = <Tensor>std
            need_float(ts, "normal_kernel_cpu")
            check_broadcast2(tm, ts)
            sv = ndarray_view(ts)
            if sv.size and not (sv >= 0).all():
                raise RuntimeError("normal expects all elements of std >= 0.0")
            mv = ndarray_view(tm)
            shape = np.broadcast_shapes(mv.shape, sv.shape)
        elif is_real_number(std):
            if std < 0:
                raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
            mv, sv, shape = ndarray_view(tm), std, shape_tuple(tm)
        else:
            raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
        dt = tm._dtype
    elif is_real_number(mean) and isinstance(std, Tensor):
        ts = <Tensor>std
        need_float(ts, "normal_kernel_cpu")
        sv = ndarray_view(ts)
        if sv.size and not (sv >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        mv, shape, dt = mean, shape_tuple(ts), ts._dtype
    else:
        raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
    t = new_tensor_from_tuple(tuple(shape), dt)
    write_samples(t, rng.standard_normal(tuple(shape)) * sv + mv)
    if isinstance(mean, Tensor):
        record_draw(t, NormalBackward3 if isinstance(std, Tensor) else NormalBackward1, <Tensor>mean,
                    <Tensor>std if isinstance(std, Tensor) else None)
    else:
        record_draw(t, NormalBackward2, <Tensor>std, None)
    return mark_inference(with_out(t, out, "normal"))


def poisson(input, generator=None):
    """Poisson(rate = input[i]) counts, in input's dtype."""
    cdef Tensor x = _as_tensor_arg(input, "poisson")
    cdef Tensor t
    need_float(x, "poisson_cpu")
    rates = ndarray_view(x).astype(np.float64)
    if rates.size and not (rates >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    t = cre_new_preserving(x._ndim, x._shape, x._strides, x._dtype, False)
    write_samples(t, rng_of(generator, "poisson").poisson(rates))
    return mark_inference(record_draw(t, PoissonBackward0, x, None))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories of each row of input (weights, not
    necessarily normalised): with replacement by inverting the row's CDF;
    without, the num_samples largest of w / Exp(1) (PyTorch's method)."""
    cdef Tensor x = _as_tensor_arg(input, "multinomial")
    cdef Tensor t
    if not cre_is_int(num_samples):
        raise TypeError(f"multinomial(): argument 'num_samples' (position 2) must be int, not "
                        f"{py_typename(num_samples)}")
    n = int(num_samples)
    if not is_float(x._dtype):
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: {dtype_title(x._dtype)}")
    if x._ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if n <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    ncat = x._shape[x._ndim - 1]
    if not replacement and n > ncat:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if ncat > (1 << 24):
        raise RuntimeError("number of categories cannot exceed 2^24")
    w = ndarray_view(x).astype(np.float64).reshape(-1, ncat)
    if not (np.isfinite(w) & (w >= 0)).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = w.sum(axis=1)
    if not (totals > 0).all():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    rng = rng_of(generator, "multinomial")
    rows = w.shape[0]
    if replacement:
        # one searchsorted over all rows: row r's CDF is shifted into [r, r + 1]
        cdf = np.cumsum(w, axis=1) / totals[:, None]
        cdf[:, -1] = 1.0
        offsets = np.arange(rows, dtype=np.float64)[:, None]
        u = rng.random((rows, n)) + offsets
        idx = np.searchsorted((cdf + offsets).reshape(-1), u.reshape(-1), side="right").reshape(rows, n)
        idx -= (np.arange(rows) * ncat)[:, None]
        # a zero-weight tail shares the CDF's top: step back to the last category drawn with weight
        np.minimum(idx, ncat - 1, out=idx)
    else:
        keys = w / rng.standard_exponential((rows, ncat))
        idx = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    idx = idx.astype(np.int64)
    if x._ndim == 1:
        idx = idx.reshape(n)
    t = tensor_from_ndarray(np.ascontiguousarray(idx), True)
    return mark_inference(with_out(t, out, "multinomial"))


cdef dict RANDPERM_C_TYPES = {U8: "uint8_t", I8: "int8_t", I16: "int16_t", I32: "int"}


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
             requires_grad=False):
    """A random permutation of 0..n-1 (int64 unless dtype is given)."""
    cdef Tensor t
    cdef int dt
    if not cre_is_int(n):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {py_typename(n)}")
    _check_device(device)
    n = int(n)
    dt = cre_dtype_arg(dtype, I64, "randperm")
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    if dt == BOOL:
        raise NotImplementedError("\"randperm\" not implemented for 'Bool'")
    if dt in RANDPERM_C_TYPES and n > 0 and n - 1 > INT_LIMITS[dt][1]:
        raise RuntimeError(f"value cannot be converted to type {RANDPERM_C_TYPES[dt]} without overflow")
    if dt == F16 and n > 2049:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    t = new_tensor_from_tuple((n,), dt)
    write_samples(t, rng_of(generator, "randperm").permutation(n))
    check_requires_grad(t, requires_grad)
    return mark_inference(with_out(t, out, "randperm"))
