# Graph layer: the Node base class, how ops wire a new node to the nodes of
# their inputs, and how nodes keep and check the tensors they save.


# Small tuples, reused. Every op makes two tuples of one or two items: its
# node's edge tuple and its backward's result. Made by PyTuple_New and freed
# by tupledealloc, each costs about 150 instructions (CPython's free list,
# the collector's link and unlink, the trashcan's nesting check), a twentieth
# of a small op. Here the edge tuples (when their node is freed) and the
# results (when the engine is done with them) are emptied and kept, out of
# the collector's view, for the next wire1/wire2/wire_scalar and backward
# results, as long as nothing else holds them (reference count one: the
# item slots are then written, never seen, by anyone but the owner).
cdef extern from *:
    """
    #define CG_TUPLE_KEEP 1024
    static PyObject *cg_tuple_kept[3][CG_TUPLE_KEEP];
    static int cg_tuple_kept_count[3];

    /* A new 1-tuple (b == NULL) or 2-tuple holding a (and b), untracked. */
    static PyObject *cg_small_tuple(PyObject *a, PyObject *b) {
        int n = b == NULL ? 1 : 2;
        PyObject *t;
        if (cg_tuple_kept_count[n] > 0) {
            t = cg_tuple_kept[n][--cg_tuple_kept_count[n]];
        } else {
            t = PyTuple_New(n);
            if (t == NULL) return NULL;
            PyObject_GC_UnTrack(t);
        }
        Py_INCREF(a);
        PyTuple_SET_ITEM(t, 0, a);
        if (b != NULL) {
            Py_INCREF(b);
            PyTuple_SET_ITEM(t, 1, b);
        }
        return t;
    }

    /* Drops a reference to tuple `t` (given up by the caller): when it was
       the only one, the tuple is emptied and kept for cg_small_tuple. */
    static void cg_release_tuple(PyObject *t) {
        Py_ssize_t n;
        PyObject *a, *b = NULL;
        if (Py_REFCNT(t) != 1 || !PyTuple_CheckExact(t) || (n = PyTuple_GET_SIZE(t)) < 1 || n > 2
                || cg_tuple_kept_count[n] >= CG_TUPLE_KEEP) {
            Py_DECREF(t);
            return;
        }
        if (PyObject_GC_IsTracked(t)) PyObject_GC_UnTrack(t);
        a = PyTuple_GET_ITEM(t, 0);
        PyTuple_SET_ITEM(t, 0, NULL);
        if (n == 2) {
            b = PyTuple_GET_ITEM(t, 1);
            PyTuple_SET_ITEM(t, 1, NULL);
        }
        /* kept before its items go: freeing them may run code that makes tuples */
        cg_tuple_kept[n][cg_tuple_kept_count[n]++] = t;
        Py_XDECREF(a);
        Py_XDECREF(b);
    }
    """
    tuple cg_small_tuple(object a, PyObject* b)
    void cg_release_tuple(PyObject* t)


cdef inline tuple small_tuple1(object a):
    return cg_small_tuple(a, NULL)


cdef inline tuple small_tuple2(object a, object b):
    return cg_small_tuple(a, <PyObject*>b)


# Freeing a graph. A node owns its inputs' nodes through its edge tuple, so
# dropping the root of an n-op chain frees n nodes nested in one another.
# Up to 3.12 the tuple's trashcan cut that nesting every 50 levels; from 3.13
# it cuts only near the C recursion limit (10,000 levels), which overflows a
# small thread stack (256 KiB), so the nesting is bounded here: past
# EDGE_FREE_MAX_DEPTH nested node frees on this thread, an edge tuple is set
# aside and the outermost node free drops it once the stack has unwound.
cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define CGRAD_THREAD_LOCAL __declspec(thread)
    #else
    #define CGRAD_THREAD_LOCAL _Thread_local
    #endif
    #define CGRAD_EDGE_FREE_MAX_DEPTH 50
    /* One thread-local block, reached through one pointer per call: each
       access to a thread-local of a shared library is a __tls_get_addr call. */
    typedef struct {
        int depth;
        PyObject **deferred;
        Py_ssize_t count, capacity;
    } cgrad_edge_free_state;
    static CGRAD_THREAD_LOCAL cgrad_edge_free_state cgrad_edge_free = {0, NULL, 0, 0};

    /* Drops `edges` (a reference the caller gives up). */
    static void cgrad_release_edges(PyObject *edges) {
        cgrad_edge_free_state *st = &cgrad_edge_free;
    #if defined(__GNUC__)
        /* opaque to the optimiser, so it keeps the address rather than
           recomputing it (another __tls_get_addr) after each call below */
        __asm__("" : "+r"(st));
    #endif
        if (st->depth >= CGRAD_EDGE_FREE_MAX_DEPTH) {
            if (st->count == st->capacity) {
                Py_ssize_t capacity = st->capacity ? 2 * st->capacity : 64;
                PyObject **grown = (PyObject **)realloc(st->deferred, capacity * sizeof(PyObject *));
                if (grown != NULL) {
                    st->deferred = grown;
                    st->capacity = capacity;
                }
            }
            if (st->count < st->capacity) {
                st->deferred[st->count++] = edges;
                return;
            }
            /* out of memory: free it now, nested */
        }
        st->depth++;
        cg_release_tuple(edges);
        if (st->depth == 1) {
            while (st->count > 0) {
                /* read the array each time: a nested free may grow it */
                cg_release_tuple(st->deferred[--st->count]);
            }
            free(st->deferred);
            st->deferred = NULL;
            st->capacity = 0;
        }
        st->depth--;
    }
    """
    void cgrad_release_edges(PyObject* edges)


# The edge tuple is released by Node's tp_dealloc, not by a Cython
# __dealloc__: that would save and restore the thread's exception state
# around its body at every node free (PyErr_Fetch / PyErr_Restore, about a
# hundred instructions). Every built-in node class's tp_dealloc is set to
# node_dealloc, which takes the edge tuple out, runs the class's generated
# tp_dealloc (found in a table keyed by the class) and then releases the
# tuple. A Python subclass's tp_dealloc (subtype_dealloc) reaches it through
# its base's slot, and the table gives the nearest registered base's.
cdef extern from *:
    """
    #define CG_NODE_TYPE_SLOTS 4096
    static PyTypeObject *cg_node_types[CG_NODE_TYPE_SLOTS];
    static destructor cg_node_generated[CG_NODE_TYPE_SLOTS];

    static inline size_t cg_node_slot(PyTypeObject *t) {
        return ((size_t)t >> 4) & (CG_NODE_TYPE_SLOTS - 1);
    }

    static int cg_node_dealloc_register(PyTypeObject *t, destructor generated) {
        size_t i = cg_node_slot(t), n;
        for (n = 0; n < CG_NODE_TYPE_SLOTS; n++, i = (i + 1) & (CG_NODE_TYPE_SLOTS - 1)) {
            if (cg_node_types[i] == t) return 0;
            if (cg_node_types[i] == NULL) {
                cg_node_types[i] = t;
                cg_node_generated[i] = generated;
                return 0;
            }
        }
        PyErr_SetString(PyExc_RuntimeError, "too many grad_fn classes");
        return -1;
    }

    static destructor cg_node_dealloc_lookup(PyTypeObject *t) {
        for (; t != NULL; t = t->tp_base) {
            size_t i = cg_node_slot(t), n;
            for (n = 0; n < CG_NODE_TYPE_SLOTS && cg_node_types[i] != NULL;
                 n++, i = (i + 1) & (CG_NODE_TYPE_SLOTS - 1)) {
                if (cg_node_types[i] == t) return cg_node_generated[i];
            }
        }
        return NULL;
    }
    """
    int cg_node_dealloc_register(PyTypeObject* t, destructor generated) except -1
    destructor cg_node_dealloc_lookup(PyTypeObject* t) noexcept
    PyTypeObject* type_of_object "Py_TYPE"(PyObject* o) noexcept
    enum: Py_TPFLAGS_HEAPTYPE


cdef void node_dealloc(PyObject* o) noexcept:
    # `o` is being freed: only borrowed accesses here (an owned reference
    # would bring its count back to one and free it a second time)
    cdef destructor generated = cg_node_dealloc_lookup(type_of_object(o))
    cdef PyObject* edges = <PyObject*>(<Node>o).next_edges
    if edges == NULL or edges == <PyObject*>None:
        generated(o)
        return
    Py_INCREF((<Node>o).next_edges)          # handed to cgrad_release_edges
    (<Node>o).next_edges = None
    generated(o)
    cgrad_release_edges(edges)


cdef int install_node_dealloc() except -1:
    """Set node_dealloc on Node and every built-in subclass (Cython
    classes are all ready when the module's code runs)."""
    cdef list pending = [Node]
    cdef PyTypeObject* tp
    while pending:
        cls = pending.pop()
        pending.extend(type.__subclasses__(cls))
        tp = <PyTypeObject*>cls
        if tp.tp_flags & Py_TPFLAGS_HEAPTYPE or tp.tp_dealloc == <destructor>node_dealloc:
            continue
        cg_node_dealloc_register(tp, tp.tp_dealloc)
        tp.tp_dealloc = <destructor>node_dealloc
        # reused memory (common.pxi), born out of the cyclic GC's view: every
        # built-in node is wired (untrack) before anything can refer to it,
        # and gets tracked there when it gets user objects. A user Function's
        # node is an instance of a Python subclass, with CPython's allocator.
        # The op table's node classes (cgrad._table_ops) are readied later
        # and inherit both from their base.
        cg_use_free_lists(tp, True)
    return 0


# What recording does above the graph layer belongs to the layers that own
# it, which fill these in as they are included: forward AD (ops/forward_ad.pxi)
# notes a wired node's inputs, gives a new output its tangent and computes a
# node's default JVP; a view written in place since its history was set gets
# a fresh one (ops/inplace_history.pxi); a leaf's edge is the engine's
# AccumulateGrad (autograd/engine.pxi). Called through pointers, the graph
# layer names nothing above it. None of them is on a small op's path unless
# forward AD is active, a view went stale or a leaf gets its first accumulator.
cdef void (*note_forward_inputs)(Node, tuple) except *
cdef void (*forward_after_history)(Tensor, Node, int) except *
cdef object (*default_forward_jvp)(Node, tuple, tuple, Tensor, int)
cdef void (*refresh_stale_view)(Tensor) except *
cdef Node (*new_leaf_accumulator)(Tensor)

cdef Node fw_pending_node = None     # the node last wired while a forward AD level is active


cdef class Node:
    """Base of every grad_fn. Built-in subclasses implement apply() in C; the
    engine calls it through the vtable, never through Python."""

    cdef tuple apply(self, object grads):
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    cdef void release_saved(self) noexcept:
        pass

    cdef object fw_jvp(self, tuple inputs, tuple tangents, Tensor out, int nr):
        return default_forward_jvp(self, inputs, tangents, out, nr)

    # --- the Python surface PyTorch's grad_fn objects have ---------------
    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        cdef int i
        if self.next_edges is None:
            return ()
        nrs = self.next_nrs
        return tuple([(self.next_edges[i], 0 if nrs is None else nrs[i])
                      for i in range(len(self.next_edges))])

    @property
    def metadata(self):
        track(self)
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def _sequence_nr(self):
        return self.seq

    def __call__(self, *grads, **kwargs):
        """Run this node's backward on the given output gradients (one Tensor
        or None per output), as PyTorch's grad_fn objects do: the result has
        one entry per next_function, a single value when there is one."""
        cdef tuple out
        cdef Py_ssize_t i, n_edges
        cdef bint any_defined = False
        if kwargs:
            raise TypeError("keyword arguments are not supported")
        if len(grads) != self.num_outputs:
            raise TypeError(f"expected {self.num_outputs} arguments, got {len(grads)} instead")
        for i in range(len(grads)):
            g = grads[i]
            if g is None:
                continue
            if not isinstance(g, Tensor):
                raise TypeError(f"argument {i} is not a Variable")
            any_defined = True
        n_edges = 0 if self.next_edges is None else len(self.next_edges)
        if not any_defined:
            out = ()    # no gradient in, none out (PyTorch's any_grad_defined)
        elif self.num_outputs == 1:
            out = self.apply(grads[0])
        else:
            out = self.apply(list(grads))
        if len(out) < n_edges:
            out = out + (None,) * (n_edges - len(out))
        if n_edges == 1:
            return out[0]
        return out

    def register_hook(self, fn):
        """fn(grad_inputs, grad_outputs) runs after this node's backward; it
        may return replacement grad_inputs."""
        track(self)
        if self.post_hooks is None:
            self.post_hooks = []
        return _HookHandle(self.post_hooks, fn)

    def register_prehook(self, fn):
        """fn(grad_outputs) runs before this node's backward; it may return
        replacement grad_outputs."""
        track(self)
        if self.pre_hooks is None:
            self.pre_hooks = []
        return _HookHandle(self.pre_hooks, fn)

    def __repr__(self):
        return f"<{type(self).__name__} object at {id(self):#x}>"


cdef long long hook_ids_taken = 0


def _take_hook_id():
    """The id of a new hook handle. PyTorch numbers every handle (tensor,
    node, module, optimizer hooks) from one counter, RemovableHandle.next_id,
    and the ids show as the keys of a module's _forward_hooks and the like."""
    global hook_ids_taken
    hook_ids_taken += 1
    return hook_ids_taken - 1


def _hook_ids_taken():
    """How many hook ids were taken: RemovableHandle.next_id."""
    return hook_ids_taken


def _set_hook_ids_taken(long long n):
    """RemovableHandle.next_id = n."""
    global hook_ids_taken
    hook_ids_taken = n


class _HookHandle:
    """What register_hook returns: remove() takes the hook out again."""

    def __init__(self, hooks, fn):
        self._hooks = hooks
        self._fn = fn
        hooks.append(fn)
        self.id = _take_hook_id()

    def remove(self):
        hooks = self._hooks
        if hooks is not None:
            for i, h in enumerate(hooks):
                if h is self._fn:
                    del hooks[i]
                    break
        self._hooks = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


install_node_dealloc()


# ---------------------------------------------------------------------------
# Built-in nodes are taken out of the cyclic garbage collector's view: they
# refer only to tensors, nodes and tuples, never in a cycle (saved outputs
# are detached aliases), and a deep graph of tracked nodes makes every
# collection walk all of them (an 8x slowdown on a 1,000,000-node chain).
# A node that gets user objects (hooks, metadata) is tracked again, so
# cycles through those stay collectable.

cdef inline int untrack(Node n) except -1:
    """Take a new node and its edge tuple (which CPython would otherwise
    keep tracked forever, since it holds GC objects) out of the GC's view.
    Every node passes here once, when wired: in anomaly mode it also keeps
    the traceback of the forward call that made it."""
    PyObject_GC_UnTrack(<void*>n)
    PyObject_GC_UnTrack(<void*>n.next_edges)
    if CGRAD_ANOMALY_ON():
        record_forward_trace(n)
    return 0


cdef void record_forward_trace(Node n) except *:
    import traceback
    track(n)
    n.metadata["traceback_"] = traceback.format_stack()   # from C: the innermost frame is the caller


cdef inline void track(Node n) noexcept:
    if not PyObject_GC_IsTracked(n):
        PyObject_GC_Track(<void*>n)
        if n.next_edges is not None and not PyObject_GC_IsTracked(n.next_edges):
            PyObject_GC_Track(<void*>n.next_edges)


# ---------------------------------------------------------------------------
# Wiring. An edge of a node points at the node that receives the gradient of
# one input: its grad_fn, or for a leaf that requires grad its AccumulateGrad.


cdef Node accumulator_of(Tensor t):
    """The AccumulateGrad node of leaf `t`: one per leaf while any graph
    holds it (the tensor refers to it weakly; it refers to the tensor)."""
    cdef PyObject* obj
    cdef Node acc
    if t._accumulator is not None:
        obj = PyWeakref_GetObject(t._accumulator)
        if obj != <PyObject*>None:
            return <Node>obj
    if new_leaf_accumulator == NULL:    # only while cgrad._C's own import runs
        raise RuntimeError("cgrad._C: a leaf was used before the autograd layer was imported")
    acc = new_leaf_accumulator(t)
    acc.next_edges = ()
    acc.num_outputs = 1
    acc.seq = next_seq()
    untrack(acc)
    t._accumulator = PyWeakref_NewRef(acc, None)
    return acc


cdef class ForwardOnlyEdge(Node):
    """The edge of an input that has a tangent but requires no grad: it
    exists only while its node's tangents are computed (ops/forward_ad.pxi)."""

    cdef tuple apply(self, object grads):
        return ()


cdef ForwardOnlyEdge FW_ONLY_EDGE = ForwardOnlyEdge.__new__(ForwardOnlyEdge)
FW_ONLY_EDGE.next_edges = ()
FW_ONLY_EDGE.num_outputs = 1


cdef inline int refresh_view(Tensor t) except -1:
    """Views whose memory was written in place since their history was set
    get a history reading the base's current value (see ops/inplace_history.pxi)."""
    if t._base is not None and t._view_version != t._storage.version:
        refresh_stale_view(t)
    return 0


cdef inline Node grad_edge(Tensor t):
    refresh_view(t)
    if t._grad_fn is not None:
        return t._grad_fn
    if t._requires_grad:
        return accumulator_of(t)
    if cgrad_fwd_active and t._fw_grad is not None:
        return FW_ONLY_EDGE     # computed for its tangent only
    return None


cdef object saved_attr(Node n, Tensor saved, bint never_saved):
    """grad_fn._saved_<name>: the saved tensor; None when the node never
    saved it; PyTorch's error once backward freed it."""
    if never_saved:
        return None
    if saved is None and n.saved_freed:
        raise RuntimeError(FREED_MSG)
    if saved is not None and n._packed is not None:
        unpacked = run_unpack(n, saved)
        if unpacked is not None:
            return unpack_hooked(n, saved, <Tensor>unpacked, False, 0, True)
    return saved


# Edges are made last input first: a leaf's AccumulateGrad made here then
# runs after the others (the engine pops the newest first), so the first
# input's leaf is accumulated first, as in PyTorch.

cdef inline int wire1(Node n, Tensor a) except -1:
    """Connect a new single-input node; its seq is taken after the input's
    accumulator exists so the order stays topological."""
    n.next_edges = small_tuple1(grad_edge(a))
    if a._output_nr:
        n.next_nrs = (a._output_nr,)
    n.num_outputs = 1
    n.seq = next_seq()
    untrack(n)
    if cgrad_fwd_active:
        note_forward_inputs(n, (a,))
    return 0


cdef inline int wire2(Node n, Tensor a, Tensor b) except -1:
    cdef Node eb = grad_edge(b)
    n.next_edges = small_tuple2(grad_edge(a), eb)
    if a._output_nr or b._output_nr:
        n.next_nrs = (a._output_nr, b._output_nr)
    n.num_outputs = 1
    n.seq = next_seq()
    untrack(n)
    if cgrad_fwd_active:
        note_forward_inputs(n, (a, b))
    return 0


cdef inline int wire_scalar(Node n, Tensor a) except -1:
    """A binary op with a Python number as its second operand: PyTorch wraps
    the number as a tensor input, which shows as a (None, 0) edge."""
    n.next_edges = small_tuple2(grad_edge(a), None)
    if a._output_nr:
        n.next_nrs = (a._output_nr, 0)
    n.num_outputs = 1
    n.seq = next_seq()
    untrack(n)
    if cgrad_fwd_active:
        note_forward_inputs(n, (a, None))
    return 0


cdef void wire_many(Node n, list inputs, int num_outputs):
    """Connect a node to any number of inputs; None entries (non-tensor
    arguments) get no edge."""
    cdef list edges = []
    cdef list nrs = []
    cdef bint any_nr = False
    cdef Tensor t
    for x in reversed(inputs):
        if x is None:
            edges.append(None)
            nrs.append(0)
        else:
            t = <Tensor>x
            edges.append(grad_edge(t))
            nrs.append(t._output_nr)
            any_nr = any_nr or t._output_nr != 0
    edges.reverse()
    nrs.reverse()
    n.next_edges = tuple(edges)
    if any_nr:
        n.next_nrs = tuple(nrs)
    n.num_outputs = num_outputs
    n.seq = next_seq()
    untrack(n)
    if cgrad_fwd_active:
        note_forward_inputs(n, tuple(inputs))


cdef inline int set_history(Tensor out, Node n, int output_nr=0) except -1:
    out._grad_fn = n
    out._requires_grad = True
    out._output_nr = output_nr
    if cgrad_fwd_active and n is fw_pending_node:
        forward_after_history(out, n, output_nr)
    return 0


cdef inline bint needs_grad(Tensor a) except -1:
    if not cgrad_grad_enabled:
        return cgrad_fwd_active and a._fw_grad is not None
    refresh_view(a)
    return a._requires_grad or (cgrad_fwd_active and a._fw_grad is not None)


cdef inline bint has_tangent(object x) noexcept:
    """Forward AD: x is a tensor with a tangent at the active dual level."""
    return cgrad_fwd_active and isinstance(x, Tensor) and (<Tensor>x)._fw_grad is not None


cdef inline bint needs_grad2(Tensor a, Tensor b) except -1:
    if not cgrad_grad_enabled:
        return cgrad_fwd_active and (a._fw_grad is not None or b._fw_grad is not None)
    refresh_view(a)
    refresh_view(b)
    return a._requires_grad or b._requires_grad or (
        cgrad_fwd_active and (a._fw_grad is not None or b._fw_grad is not None))


cdef inline bint wants_grad(Node n, int i) noexcept:
    """Whether input i of node n needs a gradient (needs_input_grad)."""
    return n.next_edges[i] is not None


# ---------------------------------------------------------------------------
# Saved tensors. A node saves an input as the tensor itself (no cycle: the
# input's history is upstream) and an output as a detached alias (the output
# refers to the node, so the node must not refer back). Each keeps the
# version of its storage at save time; a mismatch at backward means the
# tensor was modified in place in between.

cdef str FREED_MSG = (
    "Trying to backward through the graph a second time (or directly access saved tensors after "
    "they have already been freed). Saved intermediate values of the graph are freed when you "
    "call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling backward.")


cdef str type_description(Tensor t):
    return f"[cgrad.{legacy_type_name(t._dtype)} {shape_str(t._shape, t._ndim)}]"


cdef str forward_name(Node node):
    """The forward op a node records, as PyTorch names it in errors:
    TanhBackward0 -> Tanh, PowBackward1 -> Pow1 (an overload's number
    other than 0 stays)."""
    cdef str name = type(node).__name__
    cdef int i = name.rfind("Backward")
    if name == "CopySlices":
        return "torch::autograd::CopySlices"    # PyTorch prints this C++ node's qualified name
    if i <= 0:
        return name
    return name[:i] + ("" if name[i + 8:] == "0" else name[i + 8:])


cdef object version_error(Node node, Tensor t, long long saved_version, bint is_output):
    cdef str where = ""
    if is_output:
        where = f", which is output 0 of {forward_name(node)},"
    elif t._grad_fn is not None:
        where = f", which is output {t._output_nr} of {forward_name(t._grad_fn)},"
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {type_description(t)}{where} is at version {t._storage.version}; expected "
        f"version {saved_version} instead. Hint: enable anomaly detection to find the operation "
        "that failed to compute its gradient, with cgrad.autograd.set_detect_anomaly(True, "
        "check_nan=False).")


cdef str INFERENCE_SAVE_MSG = (
    "Inference tensors cannot be saved for backward. Please do not use Tensors created in inference "
    "mode in computation tracked by autograd. To work around this, you can make a clone to get a "
    "normal tensor and use it in autograd, or use `cgrad.no_grad()` instead of `cgrad.inference_mode()`.")


cdef str DETACHED_MSG = (
    "Trying to use a saved tensor that has been detached in-place, i.e. with .detach_().This is not "
    "supported, please use out-of-place `.detach()` instead")

# detach_() of a non-leaf that is not a view marks it in _view_version (unused
# by non-views) with DETACHED_IN_PLACE - its sequence number then: a node made
# before that which saved it as an input refuses it (PyTorch's is_leaf_ check
# at save time); nodes made later saved it as the leaf it became.
cdef enum:
    DETACHED_IN_PLACE = -2


cdef inline long long save_version(Node node, Tensor t) except? -1:
    """The version to keep beside a tensor `node` saves (every save site
    calls this, so it is also where inference tensors are refused and where
    saved-tensor hooks pack, see saved_hooks.pxi)."""
    if t._is_inference:
        raise RuntimeError(INFERENCE_SAVE_MSG)
    if CGRAD_SAVED_HOOKS_ON():
        pack_saved(node, t)
    return t._storage.version


cdef inline Tensor unpack_input(Node node, Tensor saved, long long version):
    cdef Tensor r
    if saved is None:
        raise RuntimeError(FREED_MSG)
    if node._packed is not None:
        r = run_unpack(node, saved)
        if r is not None:     # PyTorch cannot check versions through hooks
            return unpack_hooked(node, saved, r, False, 0)
    if saved._view_version <= DETACHED_IN_PLACE and node.seq < DETACHED_IN_PLACE - saved._view_version:
        raise RuntimeError(DETACHED_MSG)
    if saved._storage.version != version:
        raise version_error(node, saved, version, False)
    return saved


cdef inline Tensor unpack_output(Node node, Tensor saved, long long version):
    """A saved output; under create_graph it gets its grad_fn back so the
    backward formula is differentiable through it."""
    cdef Tensor t
    if saved is None:
        raise RuntimeError(FREED_MSG)
    if node._packed is not None:
        t = run_unpack(node, saved)
        if t is not None:
            return unpack_hooked(node, saved, t, True, 0)
    if saved._storage.version != version:
        raise version_error(node, saved, version, True)
    if cgrad_grad_enabled:
        t = alias_detached(saved)
        set_history(t, node, 0)
        if cgrad_fwd_active and node.fw_out is not None:
            t._fw_grad = node.fw_out
        return t
    return saved
