# Random numbers, part 2: the distributions (normal's four overloads,
# bernoulli, multinomial, poisson, randperm) and the in-place samplers of
# Tensor (uniform_, normal_, random_, exponential_, geometric_, log_normal_,
# cauchy_, bernoulli_), with PyTorch's argument checks and errors. Samples
# are drawn as ATen's CPU kernels draw them (kernels/mt19937_kernels.pxi), in
# the tensor's memory order, so a seed gives PyTorch's values: poisson is
# ATen's sample_poisson, multinomial ATen's two methods (p / Exp(1) keys
# without replacement or for one sample, a binary search of the running sum
# with replacement), _standard_gamma (Gamma, Chi2) ATen's sample_gamma.
# Not PyTorch's values (drawn from this stream, reproducible, right in
# distribution): multinomial's exact ties (keys sorted by numpy, the lower
# index first; ATen's topk may order them otherwise), random_ on float
# dtypes beyond 2^24 (ATen rewrites the bounds), and Binomial's samples
# (cgrad/distributions/binomial.py: numpy's sampler seeded from this
# stream, not ATen's BTRS). Dirichlet/Beta draw their gammas here in double
# and normalise them as ATen's _s_dirichlet_cpu (distributions/dirichlet.py).
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
    cdef Tensor wide
    if t._numel and t._dtype == BF16:
        wide = new_tensor(t._ndim, t._shape, F32)
        write_samples(wide, samples)
        copy_into(t, wide)
    elif t._numel:
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


cdef int need_float(Tensor t, str kernel) except -1:
    if not is_float(t._dtype):
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{dtype_title(t._dtype)}'")
    return 0


cdef str fmt_double(object v):
    """A double as PyTorch's messages print it (C++ stream, 6 digits)."""
    return f"{float(v):g}"


# ---------------------------------------------------------------------------
# In-place samplers (Tensor methods)


cdef Tensor draw_target(Tensor self):
    """A new tensor laid out as self (the draws fill it in self's memory order)."""
    return new_tensor_preserving(self._ndim, self._shape, self._strides, self._dtype, False)


def _uniform_(Tensor self, from_=0, to=1, generator=None):
    cdef Tensor tmp
    need_float(self, "check_uniform_bounds")
    if from_ > to:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={fmt_double(from_)} > "
                           f"to={fmt_double(to)}")
    g = gen_of(generator, "uniform_")
    tmp = draw_target(self)
    draw_uniform(tmp, g, from_, to)
    return commit_samples(self, values_view(tmp), UniformBackward0)


def _normal_(Tensor self, mean=0, std=1, generator=None):
    cdef Tensor tmp
    need_float(self, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
    g = gen_of(generator, "normal_")
    tmp = draw_target(self)
    # normal_fill only when self itself is contiguous (ATen's test is on self)
    draw_normal(tmp, g, mean, std, self._contiguous)
    return commit_samples(self, values_view(tmp), NormalBackward0)


cdef uint64_t random_default_modulus(int dt):
    """uniform_int_distribution's modulus: the dtype's top + 1 (floats:
    2^digits + 1, bool: 2)."""
    if dt == BOOL:
        return 2
    if dt == F16:
        return (1 << 11) + 1
    if dt == BF16:
        return (1 << 8) + 1
    if dt == F32:
        return (1 << 24) + 1
    if dt == F64:
        return (1 << 53) + 1
    return <uint64_t>INT_LIMITS[dt][1] + 1


cdef int64_t random_top_inclusive(int dt):
    """random_(from) with no `to`: the top of the range, inclusive."""
    if dt == BOOL:
        return 1
    if dt == F16:
        return 1 << 11
    if dt == BF16:
        return 1 << 8
    if dt == F32:
        return 1 << 24
    if dt == F64:
        return 1 << 53
    return INT_LIMITS[dt][1]


def _random_(Tensor self, *args, generator=None, **kwargs):
    """random_(), random_(to), random_(from, to); to=None means the dtype's top."""
    cdef Tensor tmp
    cdef Generator g
    cdef int64_t low, top
    cdef object buf
    cdef uint64_t modulus
    cdef int use64
    names = ("from", "to") if len(args) == 2 or "from" in kwargs else ("to",)
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k not in names or k in values:
            raise TypeError(f"random_() got an unexpected keyword argument '{k}'")
        values[k] = v
    if len(args) > 2:
        raise TypeError(f"random_() takes at most 2 positional arguments ({len(args)} given)")
    g = gen_of(generator, "random_")
    for v in values.values():
        if v is not None and not cre_is_int(v):
            raise TypeError(f"random_(): argument 'to' must be int, not {py_typename(v)}")
    tmp = draw_target(self)
    if not values or (set(values) == {"to"} and values["to"] is None):
        # uniform_int_distribution: random64 for int64 and double, random otherwise
        modulus = random_default_modulus(self._dtype)
        use64 = self._dtype == I64 or self._dtype == F64
        buf = np.empty(self._numel, dtype=np.int64)
        with nogil:
            cg_fill_int_default(&g.st, <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>buf), self._numel, modulus, use64)
        scatter_draws(tmp, buf)
    elif values.get("to") is not None:
        cre_fill_randint(tmp, cre_int_bound(values.get("from", 0)), cre_int_bound(values["to"]), g)
    else:
        low = cre_int_bound(values.get("from", 0))
        if low == -9223372036854775807 - 1:
            buf = np.empty(self._numel, dtype=np.int64)
            with nogil:
                cg_fill_int_full64(&g.st, <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>buf), self._numel)
            scatter_draws(tmp, buf)
        else:
            top = random_top_inclusive(self._dtype)
            if low > top:
                raise RuntimeError(f"random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                                   f"casted to dtype, but got from={low} > to_inc={top}")
            if self._dtype != I64 and not is_float(self._dtype):
                lo_lim = 0 if self._dtype == BOOL else INT_LIMITS[self._dtype][0]
                if low < lo_lim:
                    raise RuntimeError(f"from is out of bounds for {CPP_TYPE_NAMES[self._dtype]}")
            draw_int_from_to(tmp, g, <uint64_t>top - <uint64_t>low + 1, low)
    return commit_samples(self, values_view(tmp), RandomBackward0)


def _exponential_(Tensor self, lambd=1, generator=None):
    if not is_float(self._dtype):
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {dtype_title(self._dtype)}")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={fmt_double(lambd)}")
    return commit_samples(self, transformed_draws(self, gen_of(generator, "exponential_"), 0, lambd, 0),
                          ExponentialBackward0)


def _geometric_(Tensor self, p, generator=None):
    if not (0 < p < 1):
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={fmt_double(p)}")
    return commit_samples(self, transformed_draws(self, gen_of(generator, "geometric_"), 2, p, 0),
                          GeometricBackward0)


def _log_normal_(Tensor self, mean=1, std=2, generator=None):
    need_float(self, "log_normal_cpu")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={fmt_double(std)}")
    return commit_samples(self, transformed_draws(self, gen_of(generator, "log_normal_"), 3, mean, std),
                          LogNormalBackward0)


def _cauchy_(Tensor self, median=0, sigma=1, generator=None):
    if not is_float(self._dtype):
        raise RuntimeError("Cauchy distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {CPP_TYPE_NAMES[self._dtype]}")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={fmt_double(sigma)}")
    return commit_samples(self, transformed_draws(self, gen_of(generator, "cauchy_"), 1, median, sigma),
                          CauchyBackward0)


cdef object transformed_draws(Tensor self, Generator g, int kind, double a, double b):
    """exponential_ (kind 0), cauchy_ (1), geometric_ (2), log_normal_ (3):
    one double per element in self's memory order, as an array of self's
    logical shape (commit_samples casts it to self's dtype)."""
    cdef Tensor tmp = draw_target(self)
    cdef object buf = np.empty(self._numel, dtype=np.float64)
    cdef double* out = <double*>cnp.PyArray_DATA(<cnp.ndarray>buf)
    cdef int64_t n = self._numel
    with nogil:
        if kind == 0:
            cg_fill_exponential(&g.st, out, n, a)
        elif kind == 1:
            cg_fill_cauchy(&g.st, out, n, a, b)
        elif kind == 2:
            cg_fill_geometric(&g.st, out, n, a)
        else:
            cg_fill_log_normal(&g.st, out, n, a, b)
    if self._dtype == F64:
        scatter_draws(tmp, buf)
        return ndarray_view(tmp)
    # the double is cast to the dtype once (no double rounding through tmp's dtype)
    logical = np.empty(shape_tuple(self), dtype=np.float64)
    walked = logical if tmp._contiguous else logical.transpose(memory_axes(tmp))
    np.copyto(walked, buf.reshape(walked.shape))
    return logical


cdef object bernoulli_probs(Tensor self, Tensor p):
    """p's values as float64, broadcast to self's shape, checked to lie in [0, 1]."""
    need_float(p, "bernoulli_tensor_cpu_p_")
    probs = values_view(p.expand(shape_tuple(self))).astype(np.float64)
    if not ((probs >= 0) & (probs <= 1)).all():
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                           "message be improved?  If so, please report an enhancement request to PyTorch.)")
    return probs


cdef object bernoulli_draws(Tensor target, Generator g, object probs, int p_dtype, double p):
    """0/1 draws (uint8) as an array of target's shape, drawn in target's
    memory order: bernoulli_distribution<double> for a number p or a double
    tensor of probabilities (probs), <float> for other tensors."""
    cdef int64_t n = target._numel
    cdef object mask = np.empty(n, dtype=np.uint8)
    cdef object pflat
    cdef uint8_t* mp = <uint8_t*>cnp.PyArray_DATA(<cnp.ndarray>mask)
    if probs is None:
        with nogil:
            cg_fill_bernoulli_scalar(&g.st, mp, n, p)
    elif p_dtype == F64:
        pflat = np.ascontiguousarray(order_like(target, probs), dtype=np.float64)
        with nogil:
            cg_fill_bernoulli_f64(&g.st, mp, <const double*>cnp.PyArray_DATA(<cnp.ndarray>pflat), n)
    else:
        pflat = np.ascontiguousarray(order_like(target, probs), dtype=np.float32)
        with nogil:
            cg_fill_bernoulli_f32(&g.st, mp, <const float*>cnp.PyArray_DATA(<cnp.ndarray>pflat), n)
    logical = np.empty(shape_tuple(target), dtype=np.uint8)
    walked = logical if target._contiguous else logical.transpose(memory_axes(target))
    np.copyto(walked, mask.reshape(walked.shape))
    return logical


def _bernoulli_(Tensor self, p=0.5, generator=None):
    g = gen_of(generator, "bernoulli_")
    if isinstance(p, Tensor):
        probs = bernoulli_probs(self, <Tensor>p)
        return commit_samples(self, bernoulli_draws(self, g, probs, (<Tensor>p)._dtype, 0.0), BernoulliBackward1)
    p = float(p)
    if not (0 <= p <= 1):
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={fmt_double(p)}")
    return commit_samples(self, bernoulli_draws(self, g, None, F64, p), BernoulliBackward2)


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
    t = new_tensor_preserving(x._ndim, x._shape, x._strides, x._dtype, False)
    if p is None:
        need_float(x, "bernoulli_tensor_cpu_p_")
        write_samples(t, bernoulli_draws(t, gen_of(generator, "bernoulli"), bernoulli_probs(t, x), x._dtype, 0.0))
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
    g = gen_of(generator, "normal")
    if size is not None:
        if not (is_real_number(mean) and is_real_number(std)):
            raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
        _check_device(device)
        if std < 0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
        t = new_tensor_from_tuple(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, DEFAULT_FLOAT, "normal"))
        need_float(t, "normal_kernel_cpu")
        draw_normal(t, g, mean, std)
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
            sv = values_view(ts)
            if sv.size and not (sv >= 0).all():
                raise RuntimeError("normal expects all elements of std >= 0.0")
            mv = values_view(tm)
            shape = np.broadcast_shapes(mv.shape, sv.shape)
        elif is_real_number(std):
            if std < 0:
                raise RuntimeError(f"normal expects std >= 0.0, but found std {fmt_double(std)}")
            mv, sv, shape = values_view(tm), std, shape_tuple(tm)
        else:
            raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
        dt = tm._dtype
    elif is_real_number(mean) and isinstance(std, Tensor):
        ts = <Tensor>std
        need_float(ts, "normal_kernel_cpu")
        sv = values_view(ts)
        if sv.size and not (sv >= 0).all():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        mv, shape, dt = mean, shape_tuple(ts), ts._dtype
    else:
        raise cre_invalid("normal", args, kwargs, NORMAL_SIGS)
    # as ATen's normal_out_impl: N(0, 1) in the output (N(0, std) for a
    # number std), then output.mul_(std).add_(mean), each step in the
    # output's dtype (a number mean is a 0-d tensor of that dtype)
    t = new_tensor_from_tuple(tuple(shape), dt)
    out_np = np.float32 if dt == F32 or dt == BF16 else (np.float16 if dt == F16 else np.float64)
    # (bfloat16: each step in float32, rounded to bfloat16's values)
    step = round_to_bfloat16 if dt == BF16 else (lambda v: v)
    if isinstance(std, Tensor):
        draw_normal(t, g, 0.0, 1.0)
        samples = step((values_view(t) * sv).astype(out_np))
    else:
        draw_normal(t, g, 0.0, std)
        samples = values_view(t)
    if isinstance(mean, Tensor):
        samples = step((samples + mv).astype(out_np))
    else:
        samples = step((samples + step(np.asarray(mean, dtype=out_np))).astype(out_np))
    write_samples(t, samples)
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
    cdef Generator g
    cdef int64_t n
    cdef bint wide
    need_float(x, "poisson_cpu")
    rates = values_view(x).astype(np.float64)
    if rates.size and not (rates >= 0).all():
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    t = new_tensor_preserving(x._ndim, x._shape, x._strides, x._dtype, False)
    g = gen_of(generator, "poisson")
    n = x._numel
    wide = x._dtype == F64
    # one rate per element in the output's memory order; float16 samples in float
    flat_rates = np.ascontiguousarray(order_like(t, values_view(x)), dtype=np.float64 if wide else np.float32)
    counts = np.empty(n, dtype=flat_rates.dtype)
    with nogil:
        if wide:
            cg_fill_poisson_f64(&g.st, <double*>cnp.PyArray_DATA(<cnp.ndarray>counts),
                                <const double*>cnp.PyArray_DATA(<cnp.ndarray>flat_rates), n)
        else:
            cg_fill_poisson_f32(&g.st, <float*>cnp.PyArray_DATA(<cnp.ndarray>counts),
                                <const float*>cnp.PyArray_DATA(<cnp.ndarray>flat_rates), n)
    scatter_draws(t, counts)
    return mark_inference(record_draw(t, PoissonBackward0, x, None))


def _standard_gamma_draws(Tensor alpha, generator=None):
    """torch._standard_gamma's values: Gamma(alpha, 1) per element of a
    float tensor, drawn in its logical order (a contiguous copy), as an
    array of alpha's shape and dtype (float16 sampled in float32)."""
    cdef Generator g = gen_of(generator, "_standard_gamma")
    cdef int64_t n = alpha._numel
    cdef bint wide = alpha._dtype == F64
    need_float(alpha, "gamma_cpu")
    flat = np.ascontiguousarray(values_view(alpha), dtype=np.float64 if wide else np.float32).reshape(-1)
    draws = np.empty(n, dtype=flat.dtype)
    with nogil:
        if wide:
            cg_fill_gamma_f64(&g.st, <double*>cnp.PyArray_DATA(<cnp.ndarray>draws),
                              <const double*>cnp.PyArray_DATA(<cnp.ndarray>flat), n)
        else:
            cg_fill_gamma_f32(&g.st, <float*>cnp.PyArray_DATA(<cnp.ndarray>draws),
                              <const float*>cnp.PyArray_DATA(<cnp.ndarray>flat), n)
    return draws.reshape(shape_tuple(alpha))


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the categories of each row of input (weights, not
    necessarily normalised): with replacement by inverting the row's CDF;
    without, the num_samples largest of w / Exp(1) (PyTorch's method)."""
    cdef Tensor x = _as_tensor_arg(input, "multinomial")
    cdef Tensor t
    cdef Generator g
    cdef int64_t draws
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
    w = values_view(x).astype(np.float64).reshape(-1, ncat)
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        if replacement and n > 1:
            # multinomial_with_replacement checks entry by entry: sign (NaN fails it) first
            first = w.ravel()[int(np.argmax(bad.ravel()))]
            if not first >= 0:
                raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
            raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or NaN)")
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    totals = w.sum(axis=1)
    if not (totals > 0).all():
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    g = gen_of(generator, "multinomial")
    rows = w.shape[0]
    row_np = np.float64 if x._dtype == F64 else np.float32
    if not replacement or n == 1:
        # ATen's fast path: the n largest of p / q, q ~ Exp(1) drawn like
        # empty_like(input).exponential_() and divided in input's dtype
        q = np.asarray(transformed_draws(x, g, 0, 1.0, 0.0)).astype(row_np).reshape(rows, ncat)
        keys = (values_view(x).astype(row_np).reshape(rows, ncat) / q).astype(row_np)
        idx = np.argsort(-keys, axis=1, kind="stable")[:, :n]
    else:
        # multinomial_with_replacement: each row's running sum in its dtype,
        # divided by the total, the last bucket set to 1; per draw a double
        # uniform and a binary search for the first bucket >= it
        draws = rows * n
        u = np.empty(draws, dtype=np.float64)
        with nogil:
            cg_fill_uniform_serial(&g.st, <double*>cnp.PyArray_DATA(<cnp.ndarray>u), draws)
        u = u.reshape(rows, n)
        weights = values_view(x).astype(row_np).reshape(rows, ncat)
        cum = np.cumsum(weights, axis=1, dtype=row_np)
        cum = (cum / cum[:, -1:]).astype(row_np)
        cum[:, -1] = 1
        idx = np.empty((rows, n), dtype=np.int64)
        for r in range(rows):
            idx[r] = np.searchsorted(cum[r].astype(np.float64), u[r], side="left")
    idx = idx.astype(np.int64)
    if x._ndim == 1:
        idx = idx.reshape(n)
    t = tensor_from_ndarray(np.ascontiguousarray(idx), True)
    return mark_inference(with_out(t, out, "multinomial"))


cdef dict RANDPERM_C_TYPES = {U8: "uint8_t", I8: "int8_t", I16: "int16_t", I32: "int"}


def randperm(n, *, generator=None, out=None, dtype=None, layout=None, device=None, pin_memory=False,
             requires_grad=False):
    """A random permutation of 0..n-1 (int64 unless dtype is given)."""
    cdef Generator g
    cdef int64_t count
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
    perm = np.empty(n, dtype=np.int64)
    g = gen_of(generator, "randperm")
    count = n
    with nogil:
        cg_randperm(&g.st, <int64_t*>cnp.PyArray_DATA(<cnp.ndarray>perm), count)
    write_samples(t, perm)
    check_requires_grad(t, requires_grad)
    return mark_inference(with_out(t, out, "randperm"))
