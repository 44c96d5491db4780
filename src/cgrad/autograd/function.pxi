# User-defined autograd Functions (cgrad.autograd.Function). As in PyTorch,
# the ctx passed to forward and backward IS the graph node: each Function
# subclass gets a Python subclass of FunctionNode named <Name>Backward, whose
# C-level apply() calls the user's backward. This is the one place the
# engine calls Python per node (besides hooks).


cdef class FunctionNode(Node):
    cdef dict __dict__              # user attributes on ctx (ctx.k = 3)
    cdef public tuple needs_input_grad
    cdef tuple to_save              # what save_for_backward received
    cdef tuple saved                # what backward will unpack (aliases for outputs)
    cdef tuple saved_versions
    cdef tuple saved_output_nr      # output index of each saved tensor, -1 for non-outputs
    cdef tuple arg_is_tensor        # per forward argument
    cdef tuple input_shapes         # per tensor input
    cdef tuple input_dtypes
    cdef tuple output_shapes        # per output, for materialising missing gradients
    cdef tuple output_dtypes
    cdef set non_differentiable     # ids of outputs marked non-differentiable
    cdef set dirty                  # ids of inputs marked dirty (modified in place)
    cdef bint materialize_grads
    cdef tuple saved_for_forward    # what save_for_forward received (read by jvp)
    cdef bint in_jvp                # the Function's jvp is running: saved_tensors are those

    def __cinit__(self, *args, **kwargs):
        self.materialize_grads = True
        self.non_differentiable = set()
        self.dirty = set()

    # --- the ctx API ----------------------------------------------------
    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {len(tensors)} is of type "
                    f"{type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError("save_for_forward expects all arguments to be tensors; but got "
                                f"{type(t).__name__}.")
        self.saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors):
        for t in tensors:
            self.non_differentiable.add(id(t))

    def mark_dirty(self, *tensors):
        for t in tensors:
            self.dirty.add(id(t))

    def set_materialize_grads(self, bint value):
        self.materialize_grads = value

    @property
    def saved_tensors(self):
        cdef list out = []
        cdef Tensor t, alias
        cdef int i
        if self.in_jvp:       # jvp reads what save_for_forward kept
            return self.saved_for_forward if self.saved_for_forward is not None else ()
        if self.saved_freed:
            raise RuntimeError(FREED_MSG)
        if self.saved is None:
            return ()
        for i in range(len(self.saved)):
            if self.saved[i] is None:
                out.append(None)
                continue
            t = <Tensor>self.saved[i]
            if self._packed is not None:
                unpacked = run_unpack(self, t)
                if unpacked is not None:
                    out.append(unpack_hooked(self, t, <Tensor>unpacked, self.saved_output_nr[i] >= 0,
                                             self.saved_output_nr[i]))
                    continue
            if t._storage.version != self.saved_versions[i]:
                raise version_error(self, t, self.saved_versions[i], self.saved_output_nr[i] >= 0)
            if self.saved_output_nr[i] >= 0 and cgrad_grad_enabled:
                alias = alias_detached(t)
                set_history(alias, self, self.saved_output_nr[i])
                t = alias
            out.append(t)
        return tuple(out)

    @property
    def saved_variables(self):
        return self.saved_tensors

    # --- the node ---------------------------------------------------------
    cdef void release_saved(self) noexcept:
        self.saved = None

    cdef tuple apply(self, object grads):
        cdef list gs
        cdef int i
        if self.num_outputs == 1:
            gs = [grads]
        else:
            gs = list(grads)
        for i in range(len(gs)):
            if gs[i] is None and self.materialize_grads:
                gs[i] = new_tensor_from_tuple(self.output_shapes[i], self.output_dtypes[i], True)
        result = type(self)._forward_cls.backward(self, *gs)
        return self.check_grads(result)

    cdef tuple check_grads(self, object result):
        """PyTorch's checks of what a Function's backward returns: one
        gradient per forward argument (extra trailing Nones allowed), None
        or a tensor expandable to the input's shape; cast to its dtype."""
        cdef list out = []
        cdef int nargs = len(self.arg_is_tensor)
        cdef int i, k = 0
        cdef Tensor g
        cdef str name = type(self).__name__
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != nargs:
            if len(result) > nargs and all(r is None for r in result[nargs:]):
                result = result[:nargs]
            else:
                raise RuntimeError(f"function {name} returned an incorrect number of gradients "
                                   f"(expected {nargs}, got {len(result)})")
        for i in range(nargs):
            if not self.arg_is_tensor[i]:
                continue
            r = result[i]
            if r is not None and not isinstance(r, Tensor):
                raise RuntimeError(f"expected Variable or None (got {cre_tp_name(r)})")
            if r is None or not wants_grad(self, k):
                out.append(None)
                k += 1
                continue
            g = <Tensor>r
            if shape_tuple(g) != self.input_shapes[k]:
                if not expandable(self.input_shapes[k], g):
                    raise RuntimeError(
                        f"Function {name} returned an invalid gradient at index {i} - got "
                        f"{shape_str(g._shape, g._ndim)} but expected shape compatible with "
                        f"{list_str(list(self.input_shapes[k]))}")
                g = op_sum_to(g, self.input_shapes[k])
            if g._dtype != self.input_dtypes[k]:
                g = op_to_dtype(g, self.input_dtypes[k])
            out.append(g)
            k += 1
        return tuple(out)

    def __call__(self, *args, **kwargs):
        # PyTorch's custom-Function nodes are not callable
        raise TypeError(f"'{type(self).__name__}' object is not callable")

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object at {id(self):#x}>"


cdef bint expandable(tuple shape, Tensor g):
    """Whether `shape` broadcasts to g's shape."""
    cdef int lead = g._ndim - len(shape)
    cdef int i
    if lead < 0:
        return False
    for i in range(len(shape)):
        if shape[i] != 1 and shape[i] != g._shape[lead + i]:
            return False
    return True


def _function_apply(cls, tuple args, dict kwargs):
    """Function.apply: run forward without recording, then make the ctx the
    grad_fn of the outputs (the engine will call the user's backward)."""
    cdef FunctionNode ctx = cls._backward_cls()
    cdef list tensor_inputs = [a for a in args if isinstance(a, Tensor)]
    cdef bint executable = cgrad_grad_enabled and any(
        (<Tensor>t)._requires_grad for t in tensor_inputs)
    cdef int prev = cgrad_grad_enabled
    cdef Tensor t
    cdef bint forward_ad = cgrad_fwd_active and any(
        (<Tensor>t)._fw_grad is not None for t in tensor_inputs)
    global cgrad_grad_enabled, cgrad_fwd_active
    ctx.arg_is_tensor = tuple([isinstance(a, Tensor) for a in args])
    ctx.needs_input_grad = tuple([isinstance(a, Tensor) and (<Tensor>a)._requires_grad and executable
                                  for a in args])
    cgrad_grad_enabled = 0
    if forward_ad:
        cgrad_fwd_active = False        # forward sees primals only; jvp gives the tangents
    try:
        if getattr(cls, "_uses_setup_context", False):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    finally:
        cgrad_grad_enabled = prev
        if forward_ad:
            cgrad_fwd_active = True
    single = not isinstance(outputs, tuple)
    outs = [outputs] if single else list(outputs)
    inputs_by_id = {id(a): a for a in tensor_inputs}
    if not executable:
        for i in range(len(outs)):
            if isinstance(outs[i], Tensor) and id(outs[i]) in inputs_by_id and id(outs[i]) not in ctx.dirty:
                outs[i] = alias_detached(<Tensor>outs[i])   # PyTorch: an alias, not a view
        if forward_ad:
            function_jvp(cls, ctx, args, outs)
        return outs[0] if single else tuple(outs)
    for i in range(len(outs)):
        o = outs[i]
        if not isinstance(o, Tensor):
            continue
        t = <Tensor>o
        if id(t) in ctx.dirty:
            if t._requires_grad and t._grad_fn is None and t._base is None:
                raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
        elif id(t) in inputs_by_id:
            # an input returned as it is: the output is a new alias, so the
            # input keeps its own history
            t = make_view(t, t._ndim, t._shape, t._strides, t._offset)
            outs[i] = t
    wire_many(ctx, tensor_inputs, len(outs))
    if cgrad_fwd_active:
        fw_forget_pending()     # the outputs' tangents come from the Function's jvp, below
    track(ctx)    # a Python object that may hold anything: visible to the cyclic GC
    ctx.input_shapes = tuple([shape_tuple(<Tensor>a) for a in tensor_inputs])
    ctx.input_dtypes = tuple([(<Tensor>a)._dtype for a in tensor_inputs])
    shapes, dtypes = [], []
    for i in range(len(outs)):
        o = outs[i]
        if not isinstance(o, Tensor):
            shapes.append(())
            dtypes.append(DEFAULT_FLOAT)
            continue
        t = <Tensor>o
        shapes.append(shape_tuple(t))
        dtypes.append(t._dtype)
        if id(o) in ctx.non_differentiable or not is_float(t._dtype):
            t._requires_grad = False
            continue
        set_history(t, ctx, i)
        # ctx may hold anything (ctx.out = out makes a cycle through this
        # output): the output must be visible to the cyclic GC like ctx
        if not PyObject_GC_IsTracked(t):
            PyObject_GC_Track(<void*>t)
        if t._base is not None:
            t._view_version = t._storage.version
    ctx.output_shapes = tuple(shapes)
    ctx.output_dtypes = tuple(dtypes)
    save_function_tensors(ctx, outs)
    if forward_ad:
        function_jvp(cls, ctx, args, outs)
    return outs[0] if single else tuple(outs)


cdef void function_jvp(cls, FunctionNode ctx, tuple args, list outs) except *:
    """The outputs' tangents from the Function's jvp(ctx, *input tangents)
    (zeros for tensor inputs without one, None for other arguments)."""
    global cgrad_fwd_active
    cdef list tangents = []
    cdef int n_out = 0, i, k = 0
    cdef Tensor t
    for a in args:
        if isinstance(a, Tensor):
            t = <Tensor>a
            tangents.append(t._fw_grad if t._fw_grad is not None else op_zeros_like(t))
        else:
            tangents.append(None)
    for o in outs:
        if isinstance(o, Tensor):
            n_out += 1
    cgrad_fwd_active = False
    ctx.in_jvp = True
    try:
        result = cls.jvp(ctx, *tangents)
    finally:
        cgrad_fwd_active = True
        ctx.in_jvp = False
    results = result if isinstance(result, tuple) else (result,)
    if len(results) != n_out:
        raise RuntimeError(f"Function's jvp returned an invalid number of forward gradients (expected "
                           f"{n_out} but got {len(results)})")
    for i in range(len(outs)):
        if not isinstance(outs[i], Tensor):
            continue
        tan = results[k]
        k += 1
        t = <Tensor>outs[i]
        if tan is None or not is_float(t._dtype) or id(t) in ctx.non_differentiable:
            continue
        if not isinstance(tan, Tensor):
            raise TypeError(f"jvp of {cls.__name__} returned {type(tan).__name__} for output {i}; "
                            "expected a Tensor or None")
        if id(t) in ctx.dirty and t._fw_grad is not None:
            if t._fw_grad is not tan:
                write_tangent(<Tensor>t._fw_grad, <Tensor>tan)
        else:
            fw_set_tangent(t, with_same_meta(t, <Tensor>tan))


cdef void save_function_tensors(FunctionNode ctx, list outs) except *:
    """Keep what save_for_backward got: outputs as detached aliases (no
    cycle through ctx), everything with its version at save time."""
    cdef list saved = [], versions = [], nrs = []
    cdef dict out_index = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor)}
    cdef Tensor t
    if ctx.to_save is None:
        return
    for x in ctx.to_save:
        if x is None:
            saved.append(None)
            versions.append(0)
            nrs.append(-1)
            continue
        t = <Tensor>x
        if id(t) in out_index:
            t = alias_detached(t)
            nrs.append(out_index[id(x)])
        else:
            nrs.append(-1)
        saved.append(t)
        versions.append(save_version(ctx, t))
    ctx.saved = tuple(saved)
    ctx.saved_versions = tuple(versions)
    ctx.saved_output_nr = tuple(nrs)
    ctx.to_save = None
