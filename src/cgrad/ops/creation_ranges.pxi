# eye, arange, linspace: values computed exactly as PyTorch's CPU kernels
# compute them, with PyTorch's argument checks.


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
    dtype = factory_out_dtype(out, "eye", dtype)
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
    return factory_write_out(mark_inference(t), out)


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


cdef void cre_arange_fill_f16(uint16_t* out, Py_ssize_t n, float start, float step, int bf16) noexcept nogil:
    """PyTorch's float16 (bf16: bfloat16) arange: float accumulation; each
    vector block of 16 starts from its first value rounded to the 16-bit
    type, then adds k * step."""
    cdef Py_ssize_t i = 0, k
    cdef int half
    cdef uint16_t base
    cdef float fbase
    while i + 2 * ARANGE_VEC_F16 <= n:
        for half in range(2):
            base = cg_f_to_h16(start + step * <float>i, bf16)
            fbase = cg_h16_to_f(base, bf16)
            out[i] = base
            for k in range(1, ARANGE_VEC_F16):
                out[i + k] = cg_f_to_h16(fbase + <float>k * step, bf16)
            i += ARANGE_VEC_F16
    while i < n:
        out[i] = cg_f_to_h16(start + step * <float>i, bf16)
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
    if is_half16(dt):
        cre_arange_fill_f16(<uint16_t*>out, n, <float>start, <float>step, dt == BF16)
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
    dtype = factory_out_dtype(out, "arange", dtype)
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
    return factory_write_out(mark_inference(t), out, True)


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
        cre_linspace_fill_f16(<uint16_t*>out, steps, cg_d2h(start), cg_d2h(end), 0)
        return
    if dt == BF16:
        cre_linspace_fill_f16(<uint16_t*>out, steps, cg_d2bf(start), cg_d2bf(end), 1)
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


cdef void cre_linspace_fill_f16(uint16_t* out, Py_ssize_t steps, uint16_t start, uint16_t end,
                                int bf16) noexcept nogil:
    """PyTorch's float16 (bf16: bfloat16) linspace: c10::Half (BFloat16)
    arithmetic, every operation rounded to the 16-bit type (the step, the
    index, each product and sum)."""
    cdef Py_ssize_t i, half = steps // 2
    cdef float fs = cg_h16_to_f(start, bf16), fe = cg_h16_to_f(end, bf16), step
    if steps == 1:
        out[0] = start
        return
    step = cg_round_h16(cg_round_h16(fe - fs, bf16) / cg_round_h16(<float>(steps - 1), bf16), bf16)
    for i in range(steps):
        if i < half:
            out[i] = cg_f_to_h16(fs + cg_round_h16(step * cg_round_h16(<float>i, bf16), bf16), bf16)
        else:
            out[i] = cg_f_to_h16(fe - cg_round_h16(step * cg_round_h16(<float>(steps - i - 1), bf16), bf16), bf16)


def linspace(*args, out=None, dtype=None, layout=None, device=None, pin_memory=False,
             requires_grad=False, **kwargs):
    """linspace(start, end, steps): steps evenly spaced values from start to
    end inclusive, bit-identical to PyTorch's (computed from both ends)."""
    dtype = factory_out_dtype(out, "linspace", dtype)
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
        return factory_write_out(mark_inference(t), out)
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
    return factory_write_out(mark_inference(t), out)
