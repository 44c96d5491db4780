# Forward-mode AD (cgrad.autograd.forward_ad): tangents carried per tensor.
#
# A tensor's tangent lives in its _fw_grad slot while a dual level is
# active (PyTorch allows one level at a time). Tangents flow through the
# same recording path as reverse mode, so no op needs its own code:
#
#   needs_grad / needs_grad2  also answer True for an input with a tangent
#                             (one C flag test when no level is active);
#   wire*                     note the new node's inputs (fw_note_inputs);
#                             an input with a tangent but no grad gets the
#                             FW_ONLY_EDGE sentinel, so the node saves and
#                             computes what that input needs;
#   set_history               computes the output's tangent
#                             (fw_after_history), then strips what reverse
#                             mode must not see: sentinel edges, and the
#                             whole history when nothing requires grad.
#
# An output's tangent is, in order of preference: a view of the input's
# tangent when the output is a view of that input (PyTorch keeps view
# tangents aliased; every tangent has its primal's layout), the node's own
# JVP (fw_jvp: table nodes render their JVP column in C, other nodes look
# their type up in the explicit rules of forward_rules.pxi, then their name
# in the JVP rule table of cgrad/autograd/_jvp_rules.py), or the transpose
# of the node's VJP (d/du <vjp(u), t>, exact because a VJP is linear in u). Rule code runs with forward AD off, so a rule's own ops
# never recurse into forward AD; grad mode stays as the caller had it, so a
# tangent is itself differentiable (reverse-over-forward).
#
# This bookkeeping sits in the ops layer: every op reaches it as it records
# (set_history, in-place writes) and it uses nothing above the ops; the
# autograd layer's explicit rules (forward_rules*.pxi) register themselves
# in FW_NODE_RULES at import.

cdef int cgrad_fwd_level = -1
cdef tuple fw_pending_inputs = None  # its inputs (None for non-tensor slots)
cdef tuple fw_pending_edges = None   # its edges as wired (FW_ONLY_EDGE included)
cdef unsigned long long fw_pending_done = 0   # outputs whose tangent is set
cdef list fw_dual_tensors = []       # weak references to every tensor (and node) given a tangent
cdef dict FW_NODE_RULES = {}         # node type -> rule(node, inputs, tangents, out, nr) (forward_rules.pxi)
cdef object FW_RULES = {}            # node type name -> rule(inputs, tangents, out, nr)
cdef object FW_TRANSPOSE = None      # the VJP-transpose fallback (Python): f(node, inputs, tangents, out, nr, num_outputs)


cdef void fw_note_inputs(Node n, tuple inputs) except *:
    global fw_pending_node, fw_pending_inputs, fw_pending_edges, fw_pending_done
    fw_pending_node = n
    fw_pending_inputs = inputs
    fw_pending_edges = n.next_edges
    fw_pending_done = 0


note_forward_inputs = fw_note_inputs


cdef void fw_forget_pending() noexcept:
    global fw_pending_node, fw_pending_inputs, fw_pending_edges
    fw_pending_node = None
    fw_pending_inputs = None
    fw_pending_edges = None


cdef inline Tensor tangent_of(object x):
    if isinstance(x, Tensor):
        return (<Tensor>x)._fw_grad
    return None


cdef bint same_meta(Tensor primal, Tensor tangent) noexcept:
    """PyTorch's has_same_meta: same sizes, strides, offset and storage
    size (in elements), so views of the primal map onto the tangent."""
    cdef int i
    if tangent._ndim != primal._ndim or tangent._offset != primal._offset:
        return False
    for i in range(primal._ndim):
        if tangent._shape[i] != primal._shape[i]:
            return False
        if primal._shape[i] > 1 and tangent._strides[i] != primal._strides[i]:
            return False
    return (tangent._storage.nbytes // ITEMSIZE[tangent._dtype]
            == primal._storage.nbytes // ITEMSIZE[primal._dtype])


cdef Tensor with_same_meta(Tensor primal, Tensor tangent):
    """A tensor laid out as primal (same storage size, strides, offset)
    holding tangent's values, in tangent's dtype (PyTorch's
    new_with_same_meta + copy_)."""
    cdef Py_ssize_t n = primal._storage.nbytes // ITEMSIZE[primal._dtype]
    cdef Tensor flat, t
    if same_meta(primal, tangent):
        return tangent
    if cgrad_grad_enabled and tangent._requires_grad:
        return tangent      # a raw copy would cut its history; its views then come from the rules
    flat = new_tensor(1, &n, tangent._dtype, True)
    t = make_view(flat, primal._ndim, primal._shape, primal._strides, primal._offset)
    t._base = None
    t._creation_meta = CM_DEFAULT
    t._requires_grad = False
    copy_into(t, tangent)
    return t


cdef void fw_set_tangent(Tensor t, Tensor tangent) except *:
    if t._fw_grad is None:
        fw_dual_tensors.append(PyWeakref_NewRef(t, None))
    t._fw_grad = tangent


cdef Tensor fw_view_tangent(Tensor out, tuple inputs):
    """The tangent of an output that is a view of an input with a tangent:
    the same view of that tangent."""
    cdef Tensor x, tan
    for obj in inputs:
        if not isinstance(obj, Tensor):
            continue
        x = <Tensor>obj
        if x._storage is out._storage and x._fw_grad is not None and x is not out:
            tan = <Tensor>x._fw_grad
            if not same_meta(x, tan):
                return None
            return differentiable_view(tan, out)
    return None


cdef Tensor differentiable_view(Tensor tan, Tensor like):
    """The view of tangent `tan`'s memory with like's geometry; it reads its
    base's history (AsStridedBackward0) when the tangent has one."""
    cdef Tensor v = make_view(tan, like._ndim, like._shape, like._strides, like._offset)
    if cgrad_grad_enabled and v._base._requires_grad:
        set_view_history(v, v._base)
    return v


cdef void fw_after_history(Tensor out, Node n, int nr) except *:
    global cgrad_fwd_active, fw_pending_done
    cdef tuple inputs = fw_pending_inputs
    cdef bint any_tangent = False, real_edge = False
    cdef object tan = None
    if nr < 64:
        if fw_pending_done & (1ULL << nr):
            return
        fw_pending_done |= (1ULL << nr)
    tangents = tuple([tangent_of(x) for x in inputs])
    for x in tangents:
        if x is not None:
            any_tangent = True
    if not any_tangent:
        return
    # what reverse mode must not see; stripped first, so that a rule reading
    # the output does not record a graph through a history it will not have
    if cgrad_grad_enabled:
        for e in fw_pending_edges:
            if e is not None and e is not FW_ONLY_EDGE:
                real_edge = True
    if not real_edge:
        out._grad_fn = None
        out._output_nr = 0
        out._requires_grad = (not cgrad_grad_enabled and out._base is not None
                              and out._base._requires_grad)
    else:
        n.next_edges = tuple([None if e is FW_ONLY_EDGE else e for e in fw_pending_edges])
    if is_float(out._dtype):
        cgrad_fwd_active = False
        try:
            tan = fw_view_tangent(out, inputs)
            if tan is None:
                tan = n.fw_jvp(inputs, tangents, out, nr)
        finally:
            cgrad_fwd_active = True
    if tan is not None:
        if not isinstance(tan, Tensor):
            raise TypeError(f"the forward AD rule of {type(n).__name__} gave {type(tan).__name__}, not a Tensor")
        if not same_shape(out, <Tensor>tan):     # a broadcast input's term alone
            tan = op_expand(<Tensor>tan, shape_tuple(out))
        tan = with_same_meta(out, <Tensor>tan)
        fw_set_tangent(out, <Tensor>tan)
        if nr == 0:
            if n.fw_out is None:
                fw_dual_tensors.append(PyWeakref_NewRef(n, None))
            n.fw_out = tan
        if isinstance(n, LinalgNode):
            note_linalg_tangent(<LinalgNode>n, nr, <Tensor>tan)


forward_after_history = fw_after_history


cdef void note_linalg_tangent(LinalgNode n, int nr, Tensor tan) except *:
    """Keep output nr's tangent on its linalg node: its backward reads the
    saved outputs, which under forward over reverse carry it (LinalgNode.get)."""
    if n.fw_outs is None:
        n.fw_outs = [None] * n.num_outputs
        fw_dual_tensors.append(PyWeakref_NewRef(n, None))
    if nr < len(n.fw_outs):
        n.fw_outs[nr] = tan


cdef object transposed_jvp(Node n, tuple inputs, tuple tangents, Tensor out, int nr):
    """J t from the node's explicit rule (forward_rules.pxi), else its rule
    by name, else the transpose of its VJP (see the top of this file)."""
    cdef tuple wired = n.next_edges
    rule = FW_NODE_RULES.get(type(n))
    if rule is not None:
        n.next_edges = fw_pending_edges if n is fw_pending_node else wired   # an element-wise rule runs apply
        try:
            result = rule(n, inputs, tangents, out, nr)
        finally:
            n.next_edges = wired
        if result is not NotImplemented:
            for tan in tangents:       # an input's own tangent must not become the output's (aliasing)
                if result is tan:
                    return op_clone(<Tensor>result)
            return result
    if isinstance(n, PythonBackward) and (<PythonBackward>n).jvp_fn is not None:
        result = (<PythonBackward>n).jvp_fn(tangents, nr)
        if result is not NotImplemented:
            return result
    rule = FW_RULES.get(type(n).__name__)
    if rule is not None:
        result = rule(inputs, tangents, out, nr)
        if result is not NotImplemented:        # a rule may decline a form of its op
            return result
    if isinstance(n, NotImplementedBackward):
        raise NotImplementedError(
            f"Trying to use forward AD with aten::{(<NotImplementedBackward>n).aten_name} that does not "
            "support it.")
    n.next_edges = fw_pending_edges if n is fw_pending_node else wired
    try:
        return FW_TRANSPOSE(n, inputs, tangents, out, nr, n.num_outputs)
    finally:
        n.next_edges = wired


default_forward_jvp = transposed_jvp


cdef void fw_write_inplace(Tensor x, Tensor tan) except *:
    """x was written in place by an op whose result has tangent `tan`:
    x's tangent takes its values in place (views of it, and the base it is
    a view of, see them), as PyTorch's in-place forward grads."""
    cdef Tensor base, bt
    if x._fw_grad is None and x._base is not None:
        base = x._base
        if base._fw_grad is None:
            fw_set_tangent(base, with_same_meta(base, op_zeros_like(base)))
        bt = <Tensor>base._fw_grad
        if same_meta(base, bt):
            fw_set_tangent(x, differentiable_view(bt, x))
    if x._fw_grad is None:
        fw_set_tangent(x, with_same_meta(x, tan))
        return
    if x._fw_grad is not tan:
        write_tangent(<Tensor>x._fw_grad, tan)


cdef void write_tangent(Tensor dst, Tensor src) except *:
    """dst.copy_(src) with forward AD off; recorded when either has history."""
    global cgrad_fwd_active
    cdef bint was = cgrad_fwd_active
    if not (cgrad_grad_enabled and (dst._requires_grad or src._requires_grad)):
        copy_into(dst, src)
        dst._storage.version += 1
        return
    cgrad_fwd_active = False
    try:
        inplace_copy(dst, src)
    finally:
        cgrad_fwd_active = was


cdef void fw_record_write(Tensor self, Tensor region, Node fn, Tensor value_in) except *:
    """The tangent of an indexed write (self[index] = value: fn was just
    wired to self and value_in, region is what it wrote): fn is linear, so
    its tangent comes from the transpose of its VJP with the region's old
    tangent and the value's; it is then written into region's tangent."""
    global cgrad_fwd_active
    cdef object self_t = None
    cdef Tensor st
    if self._fw_grad is not None:
        st = <Tensor>self._fw_grad
        self_t = st if region is self else make_view(st, region._ndim, region._shape, region._strides,
                                                     region._offset)
    cgrad_fwd_active = False
    try:
        tan = transposed_jvp(fn, (region, value_in), (self_t, value_in._fw_grad), region, 0)
    finally:
        cgrad_fwd_active = True
    fw_forget_pending()     # the write's own set_history must not compute it again
    if self._fw_grad is not None and same_meta(self, <Tensor>self._fw_grad):
        write_tangent(<Tensor>self_t if region is not self else <Tensor>self._fw_grad, <Tensor>tan)
        return
    fw_write_inplace(region, <Tensor>tan)
    if region is not self and self._fw_grad is None and self._base is not None:
        st = self._base._fw_grad     # self reads the base's new tangent, as region does
        if st is not None and same_meta(self._base, st):
            fw_set_tangent(self, differentiable_view(st, self))


# ---------------------------------------------------------------------------
# The Python surface (cgrad/autograd/forward_ad.py checks arguments)

def _fw_enter_level():
    global cgrad_fwd_active, cgrad_fwd_level
    if cgrad_fwd_active:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    cgrad_fwd_level += 1
    cgrad_fwd_active = True
    return cgrad_fwd_level


def _fw_exit_level(level):
    """Drop every tangent of the level (PyTorch deletes them on exit)."""
    global cgrad_fwd_active, cgrad_fwd_level
    cdef PyObject* obj
    if level < 0:
        raise RuntimeError("Dual level must be a positive number.")
    if not cgrad_fwd_active or level != cgrad_fwd_level:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    cgrad_fwd_active = False
    cgrad_fwd_level -= 1
    for ref in fw_dual_tensors:
        obj = PyWeakref_GetObject(ref)
        if obj == <PyObject*>None:
            continue
        if isinstance(<object>obj, Tensor):
            (<Tensor>obj)._fw_grad = None
        else:
            (<Node>obj).fw_out = None
            if isinstance(<object>obj, LinalgNode):
                (<LinalgNode>obj).fw_outs = None
    fw_dual_tensors.clear()
    fw_forget_pending()


def _fw_is_active():
    return bool(cgrad_fwd_active)


def _fw_make_dual(Tensor primal, Tensor tangent):
    """A view of primal (recorded as one when primal requires grad) whose
    tangent is `tangent` as-is when laid out as primal, else a copy."""
    cdef Tensor dual
    cdef tuple pshape = shape_tuple(primal), tshape = shape_tuple(tangent)
    if pshape != tshape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the original Tensor, "
            f"this is not supported. Tensor is of size {list(pshape)} while the given forward gradient is "
            f"of size {list(tshape)}.")
    if tangent._fw_grad is not None:
        raise RuntimeError("Expected tangent to not be a dual tensor of the same level")
    dual = op_view(primal, shape_tuple(primal))
    fw_set_tangent(dual, with_same_meta(dual, tangent))
    return dual


def _fw_unpack_dual(Tensor t):
    """(primal view without the tangent, tangent) of t at the current level."""
    cdef Tensor primal
    global cgrad_fwd_active
    tan = t._fw_grad
    if tan is None:
        return t, None
    cgrad_fwd_active = False
    try:
        primal = op_alias(t)
    finally:
        cgrad_fwd_active = True
    return primal, tan


def _fw_set_rules(dict rules, transpose):
    global FW_RULES, FW_TRANSPOSE
    FW_RULES = rules
    FW_TRANSPOSE = transpose


def _fw_set_tangent(Tensor t, tangent):
    """Give t a tangent (custom Functions' jvp results), laid out as t."""
    if tangent is None:
        return
    fw_set_tangent(t, with_same_meta(t, <Tensor>tangent))


def _fw_tangent(Tensor t):
    return t._fw_grad


def _fw_forget_pending():
    fw_forget_pending()


def _fw_set_active(bint on):
    """Turn propagation off around code that must see primals only (a
    custom Function's forward and jvp); returns the previous state."""
    global cgrad_fwd_active
    cdef bint prev = cgrad_fwd_active
    if cgrad_fwd_level >= 0:
        cgrad_fwd_active = on
    return prev


def _fw_register_node_rule(type cls, rule):
    """An explicit forward rule for a node type (Python rules that read the
    node: cgrad/autograd/_jvp_rules_extra.py), rule(node, inputs, tangents,
    out, nr), served before the rules by name."""
    if not issubclass(cls, Node):
        raise TypeError(f"{cls.__name__} is not a node type")
    FW_NODE_RULES[cls] = rule


def _fw_run_active(fn, *args):
    """fn(*args) with forward AD on (inside a rule, which runs with it off):
    a composite op's tangent through its parts' rules. The pending node's
    state is kept, so the rule's caller still sees its own node."""
    global cgrad_fwd_active, fw_pending_node, fw_pending_inputs, fw_pending_edges, fw_pending_done
    cdef bint was = cgrad_fwd_active
    cdef Node node = fw_pending_node
    cdef tuple inputs = fw_pending_inputs, edges = fw_pending_edges
    cdef unsigned long long done = fw_pending_done
    if cgrad_fwd_level < 0:
        return fn(*args)
    cgrad_fwd_active = True
    try:
        return fn(*args)
    finally:
        cgrad_fwd_active = was
        fw_pending_node = node
        fw_pending_inputs = inputs
        fw_pending_edges = edges
        fw_pending_done = done


def _fw_view_tangent(Tensor x, tan, Tensor out):
    """The tangent of out, a view of x, whose tangent `tan` is not laid out as
    x (a tangent with history, reverse over forward): tan copied (recorded)
    into a buffer laid out as x, and out's view of that buffer."""
    cdef Py_ssize_t n = x._storage.nbytes // ITEMSIZE[x._dtype]
    cdef Tensor flat, laid
    if out._storage is not x._storage:
        return NotImplemented
    flat = new_tensor(1, &n, (<Tensor>tan)._dtype, True)
    laid = make_view(flat, x._ndim, x._shape, x._strides, x._offset)
    laid._base = None
    laid._creation_meta = CM_DEFAULT
    laid._requires_grad = False
    write_tangent(laid, <Tensor>tan)
    return differentiable_view(laid, out)


def _linalg_saved(LinalgNode n, int i):
    """The i-th tensor a linalg node saved (outputs: detached aliases, given
    the node's history under grad mode, as its backward reads them)."""
    return n.get(i)


def _linalg_options(LinalgNode n):
    return n.opts
