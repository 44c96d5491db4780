# clamp / clip / clamp_min / clamp_max (and their in-place forms), with
# their nodes.


# ---------------------------------------------------------------------------
# clamp / clip / clamp_min / clamp_max
#
# Number bounds (Python numbers, or zero-dim tensors that need no grad, as
# PyTorch's parser allows): ClampBackward1 / ClampMinBackward0 /
# ClampMaxBackward0. Tensor bounds (broadcast against the input, promoted
# with it): ClampBackward0 / ClampMinBackward1 / ClampMaxBackward1.

cdef enum:
    CL_CLAMP = 0
    CL_MIN = 1
    CL_MAX = 2


cdef class ClampBackward1(Node):
    cdef Tensor self_
    cdef long long self_version
    cdef object min_, max_           # Python numbers or None

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        return (clamp_scalar_grad(g, x, self.min_, self.max_),)

    cdef void release_saved(self) noexcept:
        self.self_ = None


cdef class ClampMinBackward0(ClampBackward1):
    pass


cdef class ClampMaxBackward0(ClampBackward1):
    pass


cdef Tensor clamp_scalar_grad(Tensor g, Tensor x, object lo, object hi):
    """g where lo <= x <= hi (x compared in its dtype), else 0."""
    cdef ClampBounds bounds
    cdef Tensor out, mask
    cdef Operand ops[3]
    if not cgrad_grad_enabled:
        x = as_dtype(x, g._dtype)
        bounds.flo = -cmath.INFINITY if lo is None else <double>lo
        bounds.fhi = cmath.INFINITY if hi is None else <double>hi
        out = new_tensor(g._ndim, g._shape, g._dtype)
        ops[0] = operand_of(out)
        ops[1] = operand_of(g)
        ops[2] = operand_of(x)
        run_elementwise(CLAMP_SCALAR_BWD_ROWS[g._dtype], 3, ops, out._ndim, out._shape, out._numel,
                        &bounds)
        return out
    if lo is not None and hi is not None:
        mask = op_bitwise(BW_AND, op_compare(CMP_GE, x, lo), op_compare(CMP_LE, x, hi))
    elif lo is not None:
        mask = op_compare(CMP_GE, x, lo)
    else:
        mask = op_compare(CMP_LE, x, hi)
    return op_where(mask, g, zero_of(g))


cdef str clamp_kernel_name(object lo, object hi):
    if lo is not None and hi is not None:
        return "clamp_scalar_cpu"
    return "clamp_min_scalar_cpu" if lo is not None else "clamp_max_scalar_cpu"


cdef int clamp_scalar_dtype(Tensor x, object lo, object hi) except -1:
    """PyTorch's clamp(Scalar) promotion: floating inputs keep their dtype,
    others promote with the bounds as wrapped numbers."""
    cdef int dt = x._dtype
    if is_float(dt):
        return dt
    if lo is not None:
        dt = scalar_result_type(dt, lo)
    if hi is not None:
        dt = scalar_result_type(dt, hi)
    return dt


cdef Tensor op_clamp_scalar(Tensor x, object lo, object hi, int which):
    """clamp with Python-number bounds (None = absent; not both)."""
    cdef ClampBounds bounds
    cdef int dt
    cdef Tensor src, out
    cdef Operand ops[2]
    cdef ClampBackward1 node
    if lo is not None:
        check_py_int(lo)
    if hi is not None:
        check_py_int(hi)
    if x._dtype == BOOL and (is_uint64_int(lo) or is_uint64_int(hi)):
        raise uint64_promotion_error("Bool", "UInt64")
    dt = clamp_scalar_dtype(x, lo, hi)
    if dt == BOOL:
        raise NotImplementedError(f"\"{clamp_kernel_name(lo, hi)}\" not implemented for 'Bool'")
    if lo is not None:
        check_scalar_convert(lo, dt)
    if hi is not None:
        check_scalar_convert(hi, dt)
    if is_int(dt):
        bounds.ilo = INT64_MIN_PY if lo is None else wrap_int(lo, dt)
        bounds.ihi = (INT64_END_PY - 1) if hi is None else wrap_int(hi, dt)
    else:
        bounds.flo = -cmath.INFINITY if lo is None else <double>lo
        bounds.fhi = cmath.INFINITY if hi is None else <double>hi
    src = as_dtype(x, dt)
    out = new_unary_result(src._ndim, src._shape, dt, x)
    ops[0] = operand_of(out)
    ops[1] = operand_of(src)
    run_elementwise(CLAMP_SCALAR_ROWS[dt], 2, ops, out._ndim, out._shape, out._numel, &bounds)
    if needs_grad(x):
        if which == CL_CLAMP:
            node = ClampBackward1.__new__(ClampBackward1)
        elif which == CL_MIN:
            node = ClampMinBackward0.__new__(ClampMinBackward0)
        else:
            node = ClampMaxBackward0.__new__(ClampMaxBackward0)
        wire1(node, x)
        node.self_ = x
        node.self_version = save_version(node, x)
        node.min_ = lo
        node.max_ = hi
        set_history(out, node)
    return out


cdef class ClampTensorNode(Node):
    """Base of ClampBackward0 (edges: self, min, max; an absent bound has
    none) and ClampMinBackward1 / ClampMaxBackward1 (edges: self, bound)."""
    cdef Tensor self_, min_, max_
    cdef long long self_version, min_version, max_version
    cdef InputMeta meta[3]
    cdef tuple shapes

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor x = unpack_input(self, self.self_, self.self_version)
        cdef Tensor lo = None, hi = None, zero
        cdef object gx = None, gmin = None, gmax = None
        cdef int nin = len(self.next_edges)
        cdef int imin, imax
        if self.min_ is not None:
            lo = unpack_input(self, self.min_, self.min_version)
        if self.max_ is not None:
            hi = unpack_input(self, self.max_, self.max_version)
        imin = 1
        imax = 2 if nin == 3 else 1
        if lo is not None and hi is not None:
            # both bounds: PyTorch's clamp_backward / clamp_backward_min_max
            zero = zero_of(g)
            if wants_grad(self, 0):
                gx = op_where(op_bitwise(BW_AND, op_compare(CMP_GE, x, lo), op_compare(CMP_LE, x, hi)),
                              g, zero)
            if wants_grad(self, imin):
                gmin = op_where(op_bitwise(BW_AND, op_compare(CMP_LT, x, lo), op_compare(CMP_LT, lo, hi)),
                                g, zero)
            if wants_grad(self, imax):
                gmax = op_where(op_bitwise(BW_OR, op_compare(CMP_GT, x, hi), op_compare(CMP_LT, hi, lo)),
                                g, zero)
        elif lo is not None:
            if wants_grad(self, 0):
                gx = masked_grad(G_KEEP_GE, g, x, lo)
            if wants_grad(self, imin):
                gmin = masked_grad(G_KEEP_LT, g, x, lo)
        else:
            if wants_grad(self, 0):
                gx = masked_grad(G_KEEP_LE, g, x, hi)
            if wants_grad(self, imax):
                gmax = masked_grad(G_KEEP_GT, g, x, hi)
        if gx is not None:
            gx = reduce_grad(<Tensor>gx, &self.meta[0], self.shapes[0])
        if gmin is not None:
            gmin = reduce_grad(<Tensor>gmin, &self.meta[1], self.shapes[1])
        if gmax is not None:
            gmax = reduce_grad(<Tensor>gmax, &self.meta[2], self.shapes[2])
        if nin == 3:
            return (gx, gmin, gmax)
        return (gx, gmin if lo is not None else gmax)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.min_ = None
        self.max_ = None


cdef class ClampBackward0(ClampTensorNode):
    pass


cdef class ClampMinBackward1(ClampTensorNode):
    pass


cdef class ClampMaxBackward1(ClampTensorNode):
    pass


cdef Tensor op_clamp_tensor(Tensor x, Tensor lo, Tensor hi, int which):
    """clamp with tensor bounds (None = absent; not both), all broadcast
    together in the promoted dtype. One bound: maximum/minimum (a NaN bound
    gives NaN), as PyTorch computes it."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd, dt, i
    cdef Tensor out, xs, ls, hs
    cdef Operand ops[4]
    cdef ClampTensorNode node
    cdef list saved
    nd = broadcast_into(0, shape, x)
    if lo is not None:
        nd = broadcast_into(nd, shape, lo)
    if hi is not None:
        nd = broadcast_into(nd, shape, hi)
    dt = result_type3(x, lo, hi)
    if lo is not None and hi is not None:
        if dt == BOOL:
            raise NotImplementedError("\"clamp_cpu\" not implemented for 'Bool'")
        xs = as_dtype(x, dt)
        ls = as_dtype(lo, dt)
        hs = as_dtype(hi, dt)
        out = new_result(nd, shape, dt, x, lo, hi)
        ops[0] = operand_of(out)
        ops[1] = operand_of(xs)
        ops[2] = operand_of(ls)
        ops[3] = operand_of(hs)
        run_elementwise(CLAMP_TENSOR_ROWS[dt], 4, ops, nd, shape, out._numel, NULL)
    elif lo is not None:
        out = binary_kernel(MAX2_ROWS, x, lo, dt, dt, "clamp")
    else:
        out = binary_kernel(MIN2_ROWS, x, hi, dt, dt, "clamp")
    if (cgrad_grad_enabled and (x._requires_grad or (lo is not None and lo._requires_grad)
                                or (hi is not None and hi._requires_grad))
            or has_tangent(x) or has_tangent(lo) or has_tangent(hi)):
        if which == CL_CLAMP:
            node = ClampBackward0.__new__(ClampBackward0)
            wire_many(node, [x, lo, hi], 1)
        elif which == CL_MIN:
            node = ClampMinBackward1.__new__(ClampMinBackward1)
            wire2(node, x, lo)
        else:
            node = ClampMaxBackward1.__new__(ClampMaxBackward1)
            wire2(node, x, hi)
        saved = [None, None, None]
        for i, t in enumerate((x, lo, hi)):
            if t is not None:
                note_input(&node.meta[i], <Tensor>t, out)
                if node.meta[i].broadcast:
                    saved[i] = shape_tuple(<Tensor>t)
        node.shapes = tuple(saved)
        node.self_ = x
        node.self_version = save_version(node, x)
        if lo is not None:
            node.min_ = lo
            node.min_version = save_version(node, lo)
        if hi is not None:
            node.max_ = hi
            node.max_version = save_version(node, hi)
        set_history(out, node)
    return out


cdef bint number_like(object v):
    """A bound PyTorch's Number overload takes: a Python number, or a
    zero-dim tensor that needs no grad."""
    if v is None or is_scalar(v):
        return True
    return isinstance(v, Tensor) and (<Tensor>v)._ndim == 0 and not (<Tensor>v)._requires_grad


cdef object as_number(object v):
    if isinstance(v, Tensor):
        return (<Tensor>v).item()
    return normalize_scalar(v)


cdef list clamp_options(int which, bint method):
    cdef str p
    if which == CL_CLAMP:
        if method:
            return [("(Tensor min = None, Tensor max = None)", ["Tensor?", "Tensor?"]),
                    ("(Number min = None, Number max = None)", ["Number?", "Number?"])]
        return [("(Tensor input, Tensor min = None, Tensor max = None, *, Tensor out = None)", None),
                ("(Tensor input, Number min = None, Number max = None, *, Tensor out = None)", None)]
    p = "min" if which == CL_MIN else "max"
    if method:
        return [(f"(Tensor {p})", ["Tensor"]), (f"(Number {p})", ["Number"])]
    return [(f"(Tensor input, Tensor {p}, *, Tensor out = None)", None),
            (f"(Tensor input, Number {p}, *, Tensor out = None)", None)]


cdef Tensor clamp_dispatch(Tensor x, object lo, object hi, int which, str fname, bint method):
    """Pick PyTorch's overload: (Tensor? min, Tensor? max) first, then
    (Number? min, Number? max); clamp_min/clamp_max take one bound."""
    cdef tuple given
    if which == CL_CLAMP:
        if (lo is None or isinstance(lo, Tensor)) and (hi is None or isinstance(hi, Tensor)):
            if lo is None and hi is None:
                raise RuntimeError("cgrad.clamp: At least one of 'min' or 'max' must not be None")
            return op_clamp_tensor(x, lo, hi, CL_CLAMP)
        if number_like(lo) and number_like(hi):
            return op_clamp_scalar(x, None if lo is None else as_number(lo),
                                   None if hi is None else as_number(hi), CL_CLAMP)
        given = tuple([v for v in (lo, hi) if v is not None])
    else:
        bound = lo if which == CL_MIN else hi
        if isinstance(bound, Tensor):
            return op_clamp_tensor(x, lo, hi, which)
        if bound is not None and is_scalar(bound):
            bound = normalize_scalar(bound)
            return op_clamp_scalar(x, bound if which == CL_MIN else None,
                                   bound if which == CL_MAX else None, which)
        given = (bound,)
    if not method:
        given = (x,) + given
    raise invalid_arguments(fname, given, clamp_options(which, method))


cdef Tensor clamp_input(object input, str fname, object lo, object hi, int which):
    if not isinstance(input, Tensor):
        raise invalid_arguments(fname, tuple([v for v in (input, lo, hi) if v is not None]),
                                clamp_options(which, False))
    return <Tensor>input


def clamp(input, min=None, max=None, *, out=None):
    """input limited to [min, max] (numbers or tensors; either may be None)."""
    cdef Tensor x = clamp_input(input, "clamp", min, max, CL_CLAMP)
    return with_out(clamp_dispatch(x, min, max, CL_CLAMP, "clamp", False), out, "clamp")


def clip(input, min=None, max=None, *, out=None):
    """Alias of clamp."""
    cdef Tensor x = clamp_input(input, "clip", min, max, CL_CLAMP)
    return with_out(clamp_dispatch(x, min, max, CL_CLAMP, "clip", False), out, "clip")


def clamp_min(input, min, *, out=None):
    cdef Tensor x = clamp_input(input, "clamp_min", min, None, CL_MIN)
    return with_out(clamp_dispatch(x, min, None, CL_MIN, "clamp_min", False), out, "clamp_min")


def clamp_max(input, max, *, out=None):
    cdef Tensor x = clamp_input(input, "clamp_max", None, max, CL_MAX)
    return with_out(clamp_dispatch(x, None, max, CL_MAX, "clamp_max", False), out, "clamp_max")


def clamp_(input, min=None, max=None):
    cdef Tensor x = clamp_input(input, "clamp_", min, max, CL_CLAMP)
    return clamp_inplace(x, min, max, CL_CLAMP, "clamp_")


def clip_(input, min=None, max=None):
    cdef Tensor x = clamp_input(input, "clip_", min, max, CL_CLAMP)
    return clamp_inplace(x, min, max, CL_CLAMP, "clip_")


# ---------------------------------------------------------------------------
# In place: the op runs out of place (on old_value(self), a private copy
# carrying self's history, when the result gets history) and its result is
# written back into self by commit_inplace (inplace_history.pxi), which rebases the
# history, views included.


cdef int check_inplace_result(Tensor self, Tensor result, bint scalar_clamp) except -1:
    if CATEGORY[result._dtype] > CATEGORY[self._dtype]:      # can_cast(result, self)
        raise RuntimeError(
            f"result type {dtype_title(result._dtype)} can't be cast to the desired output type "
            f"{C_TYPE_NAME[self._dtype] if scalar_clamp else dtype_title(self._dtype)}")
    if not same_shape(result, self):
        raise RuntimeError(
            f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
            f"shape {shape_str(result._shape, result._ndim)}")
    return 0


cdef Tensor clamp_inplace(Tensor self, object lo, object hi, int which, str fname):
    cdef Tensor src = self, result
    cdef bint history
    check_inplace(self)
    check_written_overlap(self)
    check_input_overlap(self, lo)
    check_input_overlap(self, hi)
    history = cgrad_grad_enabled and (
        self._requires_grad or (isinstance(lo, Tensor) and (<Tensor>lo)._requires_grad)
        or (isinstance(hi, Tensor) and (<Tensor>hi)._requires_grad)) or (
        has_tangent(self) or has_tangent(lo) or has_tangent(hi))
    if history:
        src = old_value(self, True)     # clamp's node saves its input: a private copy
    result = clamp_dispatch(src, lo, hi, which, fname, True)
    check_inplace_result(self, result, not isinstance(lo, Tensor) and not isinstance(hi, Tensor))
    if history:
        return commit_inplace(self, result)
    copy_into(self, result)
    self._storage.version += 1
    return self
