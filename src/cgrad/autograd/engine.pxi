# Engine layer: the backward pass. It is iterative, never recursive: a
# max-heap of (node, gradient) entries keyed by the node's sequence number.
# A node's inputs are always older than the node, so when the newest entry
# is popped every gradient that node will ever get is already in the heap,
# right behind it: the entries for one node are popped together and summed
# (in place when the engine owns the first buffer). No dependency count, no
# per-graph dictionary, no Python frame per built-in node.

from cpython.tuple cimport PyTuple_GET_ITEM


cdef struct HeapEntry:
    long long seq
    int nr
    PyObject* node   # owned reference
    PyObject* grad   # owned reference


cdef class ReadyHeap:
    cdef HeapEntry* items
    cdef Py_ssize_t size
    cdef Py_ssize_t cap

    def __dealloc__(self):
        cdef Py_ssize_t i
        for i in range(self.size):
            Py_XDECREF(self.items[i].node)
            Py_XDECREF(self.items[i].grad)
        free(self.items)

    cdef int push(self, Node node, int nr, object grad) except -1:
        cdef HeapEntry* grown
        cdef Py_ssize_t i, parent
        cdef HeapEntry e
        if self.size == self.cap:
            self.cap = 16 if self.cap == 0 else self.cap * 2
            grown = <HeapEntry*>realloc(self.items, self.cap * sizeof(HeapEntry))
            if grown == NULL:
                raise MemoryError()
            self.items = grown
        e.seq = node.seq
        e.nr = nr
        e.node = <PyObject*>node
        e.grad = <PyObject*>grad
        Py_INCREF(node)
        Py_INCREF(grad)
        i = self.size
        self.size += 1
        while i > 0:
            parent = (i - 1) >> 1
            if self.items[parent].seq >= e.seq:
                break
            self.items[i] = self.items[parent]
            i = parent
        self.items[i] = e
        return 0

    cdef HeapEntry pop(self) noexcept:
        """Remove the newest entry; the caller owns its two references."""
        cdef HeapEntry top = self.items[0]
        cdef HeapEntry last
        cdef Py_ssize_t i = 0, child
        self.size -= 1
        if self.size > 0:
            last = self.items[self.size]
            while True:
                child = 2 * i + 1
                if child >= self.size:
                    break
                if child + 1 < self.size and self.items[child + 1].seq > self.items[child].seq:
                    child += 1
                if self.items[child].seq <= last.seq:
                    break
                self.items[i] = self.items[child]
                i = child
            self.items[i] = last
        return top


cdef inline object take(PyObject* p):
    """Turn an owned reference from the heap into a Python object."""
    cdef object o = <object>p
    Py_XDECREF(p)
    return o


# ---------------------------------------------------------------------------
# Gradient accumulation


cdef bint owns_memory(Tensor t) noexcept:
    """Whether `t` owns its memory outright: not a view, its storage its own
    and not borrowed, no history. Combined with a reference count showing
    that only the engine holds it, taking or changing it is invisible to
    the user."""
    return (t._base is None
            and t._grad_fn is None
            and object_refcount(<PyObject*>t._storage) == 1
            and t._storage.owner is None)


cdef inline bint is_private_buffer(Tensor t) noexcept:
    return t._contiguous and owns_memory(t)


cdef bint obeys_layout_contract(Tensor g, Tensor var) noexcept:
    """PyTorch's gradient layout contract: a leaf's .grad has the leaf's
    strides when the leaf is dense (transposed, channels-last, ...; size-1
    dims aside), else it is contiguous."""
    cdef int d
    if var._ndim != g._ndim:
        return False
    if var._contiguous and g._contiguous:
        for d in range(g._ndim):
            if g._shape[d] == 1 and g._strides[d] == 0:
                return False
        return True
    if not non_overlapping_and_dense(var._ndim, var._shape, var._strides):
        return g._contiguous
    for d in range(g._ndim):
        if g._shape[d] != 1:
            if g._strides[d] != var._strides[d]:
                return False
        elif g._strides[d] == 0:
            return False
    return True


cdef Tensor clone_obey_contract(Tensor g, Tensor var):
    """A copy of gradient g laid out for leaf var (PyTorch's
    clone_obey_contract: the leaf's strides when it is dense, recorded as a
    copy_ under create_graph; else a contiguous clone)."""
    cdef Tensor out
    if not non_overlapping_and_dense(var._ndim, var._shape, var._strides):
        return op_clone_contiguous(g)
    out = new_strided(var._ndim, var._shape, var._strides, g._dtype)
    if cgrad_grad_enabled and g._requires_grad:
        return inplace_copy(out, g)
    copy_into(out, g)
    return out


cdef Tensor sum_gradients(Tensor acc, Tensor g):
    """acc + g, written into acc when only the engine holds acc (its one
    reference is the caller's variable) and no graph is being built."""
    if (not cgrad_grad_enabled and Py_REFCNT(acc) == 1 and is_private_buffer(acc)
            and acc._dtype == g._dtype and same_shape(acc, g)):
        add_into(acc, g)
        return acc
    return op_add(acc, g)


cdef class AccumulateGrad(Node):
    """The node at a leaf: adds the incoming gradient into `variable.grad`."""
    cdef readonly Tensor variable
    cdef int dtype        # the leaf's dtype when this node was made (graphs recorded it)

    def name(self):
        return "torch::autograd::AccumulateGrad"     # PyTorch's C++ name, as its name() shows it

    cdef tuple apply(self, object grads):
        accumulate_into_leaf(self.variable, <Tensor>grads, False, self.dtype)
        if post_accumulate_hooks_by_leaf:
            run_post_accumulate_hooks(self.variable)
        return ()


cdef Node new_accumulate_grad(Tensor leaf):
    """A leaf's accumulator, for the graph layer's accumulator_of."""
    cdef AccumulateGrad acc = AccumulateGrad.__new__(AccumulateGrad)
    acc.variable = leaf
    acc.dtype = leaf._dtype
    return acc


new_leaf_accumulator = new_accumulate_grad


cdef void accumulate_into_leaf(Tensor var, Tensor g, bint engine_owned, int dtype) except *:
    """PyTorch's AccumulateGrad. The gradient is cast to `dtype` (what the
    graph recorded for the leaf). The first gradient becomes .grad: stolen
    when `engine_owned` (the caller holds the only reference), it owns its
    buffer and it has the leaf's layout (clone_obey_contract), else copied
    into that layout. Later ones add in place (cast to .grad's dtype), or
    out of place while building a graph (create_graph). A leaf that no
    longer requires grad gets nothing."""
    cdef Tensor grad, result
    if var._hooks:     # PyTorch runs them as the node's pre-hooks: always
        g = run_tensor_hooks(var._hooks, g)
        engine_owned = False
    if not var._requires_grad:
        return
    if g._dtype != dtype:
        g = cast_tensor(g, dtype)
        engine_owned = True
    # Backward passes in other threads may accumulate into this leaf too.
    # The GIL is the lock: each read-check-write below runs without
    # releasing it, except the steps computing a new tensor (clone, cast,
    # out-of-place add), after which .grad is stored only if no other
    # thread replaced it meanwhile (else the step is redone).
    while True:
        grad = var._grad
        if grad is None:
            if engine_owned and not cgrad_grad_enabled and owns_memory(g) and same_shape(g, var) \
                    and obeys_layout_contract(g, var):
                var._grad = g
                return
            result = clone_obey_contract(g, var)
        elif not cgrad_grad_enabled:
            if grad._dtype != g._dtype:
                g = cast_tensor(g, grad._dtype)
                continue
            if grad._contiguous and same_shape(grad, g) and grad._grad_fn is None:
                add_into(grad, g, True)     # holds the GIL
                return
            result = op_add(grad, g)
        else:
            result = op_add(grad, g)
        if var._grad is grad:
            var._grad = result
            return


cdef Tensor run_tensor_hooks(list hooks, Tensor g):
    """Tensor hooks: each may return a replacement gradient."""
    cdef object r
    for fn in list(hooks):
        r = fn(g)
        if r is not None:
            g = checked_hook_result(fn, g, r)
    return g


cdef str hook_name(object fn):
    name = getattr(fn, "__name__", None)
    return "<unknown>" if name is None else str(name)


cdef object checked_hook_result(object fn, object old, object r):
    """PyTorch's check_single_result: a hook's replacement for one gradient
    must be None, or a tensor of the dtype and size of the one it replaces."""
    cdef Tensor t, o
    if r is None:
        return None
    if old is None:
        raise RuntimeError("can't replace a None gradient with a non-None value")
    if not isinstance(r, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type(r).__name__}'")
    t = <Tensor>r
    o = <Tensor>old
    if t._dtype != o._dtype:
        raise RuntimeError(
            f"hook '{hook_name(fn)}' has changed the type of value (was cgrad.{legacy_type_name(o._dtype)} got "
            f"cgrad.{legacy_type_name(t._dtype)})")
    if not same_shape(t, o):
        raise RuntimeError(f"hook '{hook_name(fn)}' has changed the size of value")
    return t


cdef tuple checked_hook_results(object fn, tuple old, object r):
    """A node hook's replacement tuple: same length, each entry checked."""
    cdef Py_ssize_t i
    if not isinstance(r, tuple):
        raise TypeError(f"expected tuple, but hook returned '{type(r).__name__}'")
    if len(<tuple>r) != len(old):
        raise RuntimeError(f"hook '{hook_name(fn)}' has returned an incorrect number of values "
                           f"(got {len(<tuple>r)}, but expected {len(old)})")
    return tuple([checked_hook_result(fn, old[i], (<tuple>r)[i]) for i in range(len(old))])


# ---------------------------------------------------------------------------
# The pass


cdef list run_engine(list roots, list root_grads, bint keep_graph, bint create_graph,
                     list inputs, bint accumulate, bint allow_unused):
    """Backpropagate root_grads from roots. Without `inputs`, every node runs
    and leaves accumulate into .grad. With `inputs`, only nodes on a path to
    one of them run; their gradients are returned (accumulate=False, as
    autograd.grad) or accumulated into their .grad (accumulate=True, as
    backward(inputs=...))."""
    cdef ReadyHeap heap = ReadyHeap()
    cdef HeapEntry e, e2
    cdef Node node, nxt
    cdef Tensor t, g
    cdef tuple out, edges, nrs
    cdef PyObject* done_out
    cdef object grads
    cdef list slots
    cdef int i, n
    cdef Py_ssize_t n_edges
    cdef int prev_mode = cgrad_grad_enabled
    cdef dict targets = None          # node -> list of (nr, input index)
    cdef set runnable = None          # nodes that lead to a target
    cdef list captured = None
    cdef bint is_target
    cdef list root_nodes = []
    global cgrad_grad_enabled

    for i in range(len(roots)):
        t = <Tensor>roots[i]
        node = grad_edge(t)
        if node is None:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        heap.push(node, t._output_nr, root_grads[i])
        root_nodes.append(node)
    root_grads.clear()   # the heap now holds the only engine reference to each

    if inputs is not None:
        targets = {}
        captured = [None] * len(inputs)
        for i in range(len(inputs)):
            t = <Tensor>inputs[i]
            node = grad_edge(t)
            if node is None:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            targets.setdefault(node, []).append((t._output_nr, i))
        runnable = nodes_leading_to(heap, targets)

    enter_graph_task(root_nodes, runnable, targets, inputs is not None and not accumulate)     # graph_task.pxi
    cgrad_grad_enabled = create_graph
    try:
        while heap.size:
            e = heap.pop()
            node = <Node>take(e.node)
            if node.num_outputs == 1:
                grads = take(e.grad)
                while heap.size and heap.items[0].node == <PyObject*>node:
                    e2 = heap.pop()
                    Py_XDECREF(e2.node)
                    grads = sum_gradients(<Tensor>grads, <Tensor>take(e2.grad))
            else:
                slots = [None] * node.num_outputs
                slots[e.nr] = take(e.grad)
                while heap.size and heap.items[0].node == <PyObject*>node:
                    e2 = heap.pop()
                    Py_XDECREF(e2.node)
                    if slots[e2.nr] is None:
                        slots[e2.nr] = take(e2.grad)
                    else:
                        slots[e2.nr] = sum_gradients(<Tensor>slots[e2.nr], <Tensor>take(e2.grad))
                grads = slots
                slots = None

            if node.pre_hooks:
                grads = run_pre_hooks(node, grads)

            is_target = targets is not None and node in targets
            if is_target:
                capture_gradients(node, grads, targets[node], inputs, captured, accumulate)
                if not accumulate and type(node) is AccumulateGrad:
                    continue
            if runnable is not None and node not in runnable:
                if accumulate and is_target and type(node) is AccumulateGrad:
                    pass  # a listed leaf: accumulate below
                else:
                    continue

            if grads is None:
                # pre-hooks turned every gradient into None: PyTorch's
                # built-in nodes then return no gradient at all
                if isinstance(node, FunctionNode):
                    if node.num_outputs != 1:
                        grads = [None] * node.num_outputs
                else:
                    if not keep_graph:
                        node.release_saved()
                        node.saved_freed = True
                        node._packed = None
                    continue
            if type(node) is AccumulateGrad:
                if inputs is not None and not is_target:
                    continue
                accumulate_into_leaf((<AccumulateGrad>node).variable, <Tensor>grads,
                                     Py_REFCNT(grads) == 1, (<AccumulateGrad>node).dtype)
                # PyTorch runs a leaf's post-accumulate hooks, then its node's post-hooks
                if post_accumulate_hooks_by_leaf:
                    run_post_accumulate_hooks((<AccumulateGrad>node).variable)
                if node.post_hooks:
                    run_post_hooks(node, (), grads)
                grads = None
                continue

            if CGRAD_ANOMALY_ON():
                out = apply_with_anomaly_check(node, grads)
            else:
                out = node.apply(grads)
            if node.post_hooks:
                out = run_post_hooks(node, out, grads)
            grads = None
            if not keep_graph:
                node.release_saved()
                node.saved_freed = True
                node._packed = None
            edges = node.next_edges
            nrs = node.next_nrs
            n = len(out)
            n_edges = 0 if edges is None else len(edges)
            for i in range(n):
                # i is in range: read the tuples without the generic
                # index helper (bounds and negative-index checks)
                g_obj = <object>PyTuple_GET_ITEM(out, i)
                if g_obj is None:
                    continue
                if i >= n_edges:
                    raise IndexError("tuple index out of range")
                nxt = <Node><object>PyTuple_GET_ITEM(edges, i)
                if nxt is None:
                    continue
                if runnable is not None and nxt not in runnable and nxt not in targets:
                    continue
                heap.push(nxt, 0 if nrs is None else <int>nrs[i], g_obj)
            g_obj = None
            # the result tuple is kept for reuse when only this loop holds it (node.pxi)
            done_out = <PyObject*>out
            Py_INCREF(out)
            out = None
            cg_release_tuple(done_out)
    finally:
        cgrad_grad_enabled = prev_mode
        exit_graph_task()

    if inputs is None or accumulate:
        return None
    for i in range(len(inputs)):
        if captured[i] is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior.")
    return captured


cdef set nodes_leading_to(ReadyHeap heap, dict targets):
    """The nodes reachable from the heap's roots that have a path to a target
    node (targets themselves included only when they lead to another). Found
    by an explicit-stack walk, then resolved oldest first: a node's inputs
    are older, so they are resolved before it."""
    cdef list stack = []
    cdef set seen = set()
    cdef list order = []
    cdef set runnable = set()
    cdef Node node
    cdef Py_ssize_t i
    for i in range(heap.size):
        node = <Node>heap.items[i].node
        if node not in seen:
            seen.add(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        order.append(node)
        for nxt in node.next_edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    order.sort(key=_node_seq)
    for node in order:
        for nxt in node.next_edges:
            if nxt is not None and (nxt in targets or nxt in runnable):
                runnable.add(node)
                break
    return runnable


def _node_seq(Node n):
    return n.seq


cdef void capture_gradients(Node node, object grads, list entries, list inputs, list captured,
                            bint accumulate) except *:
    cdef Tensor g, t
    if grads is None:        # pre-hooks removed every gradient
        return
    for nr, idx in entries:
        if node.num_outputs == 1:
            g = <Tensor>grads
        else:
            g = (<list>grads)[nr]
        if g is None:
            continue
        if accumulate:
            t = <Tensor>inputs[idx]
            if t._grad_fn is not None:   # a non-leaf input: its .grad is filled like a leaf's
                accumulate_into_leaf(t, g, False, t._dtype)
        else:
            captured[idx] = g


cdef object run_pre_hooks(Node node, object grads):
    """Node pre-hooks: fn(grad_outputs) may return a checked replacement
    tuple. None when every gradient became None (the engine then skips a
    built-in node; a custom Function still gets materialized zeros)."""
    cdef object r
    cdef tuple cur = (grads,) if node.num_outputs == 1 else tuple(grads)
    for fn in list(node.pre_hooks):
        r = fn(cur)
        if r is not None:
            cur = checked_hook_results(fn, cur, r)
    if node.num_outputs == 1:
        return cur[0]
    for g in cur:
        if g is not None:
            return list(cur)
    return None     # no gradient left: a built-in node then yields none (PyTorch)


cdef tuple run_post_hooks(Node node, tuple out, object grads):
    """Node post-hooks: fn(grad_inputs, grad_outputs), one grad_input per
    next edge; a returned replacement is checked like a pre-hook's."""
    cdef object r
    cdef tuple grad_outputs = (grads,) if node.num_outputs == 1 else tuple(grads)
    cdef Py_ssize_t n_edges = len(node.next_edges)
    if len(out) < n_edges:
        out = out + (None,) * (n_edges - len(out))
    for fn in list(node.post_hooks):
        r = fn(out, grad_outputs)
        if r is not None:
            out = checked_hook_results(fn, out, r)
    return out


cdef tuple apply_with_anomaly_check(Node node, object grads):
    """Anomaly mode: a failing node, or one returning NaN, is reported with
    the traceback of the forward call that created it."""
    cdef tuple out
    try:
        out = node.apply(grads)
        if cgrad_anomaly_check_nan:
            for i, g in enumerate(out):
                if g is not None and has_nan(<Tensor>g):
                    raise RuntimeError(
                        f"Function '{type(node).__name__}' returned nan values in its {i}th output.")
    except Exception:
        import warnings
        trace = node._metadata.get("traceback_") if node._metadata else None
        if trace:
            warnings.warn(f"Error detected in {type(node).__name__}. Traceback of forward call that "
                          "caused the error:\n" + "".join(trace), UserWarning, stacklevel=3)
        else:
            warnings.warn(f"Error detected in {type(node).__name__}. No forward pass information "
                          "available. Enable detect anomaly during forward pass for more information.",
                          UserWarning, stacklevel=3)
        raise
    return out


# ---------------------------------------------------------------------------
# Entry point used by Tensor.backward, autograd.backward and autograd.grad


cdef list make_root_grads(list outputs, object grad_outputs, bint implicit_ok=True):
    """PyTorch's _make_grads: check given gradients, or create ones for
    scalar outputs."""
    cdef list grads = []
    cdef Tensor out, g
    cdef int i
    for i in range(len(outputs)):
        out = <Tensor>outputs[i]
        if grad_outputs is not None and i >= len(grad_outputs):
            raise RuntimeError(f"got {len(outputs)} tensors and {len(grad_outputs)} gradients")
        gi = None if grad_outputs is None else grad_outputs[i]
        if gi is None:
            if not out._requires_grad:
                grads.append(None)
                continue
            if out._numel != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if not is_float(out._dtype):
                raise RuntimeError(
                    f"grad can be implicitly created only for real scalar outputs but got {DTYPES[out._dtype]!r}")
            g = new_tensor(out._ndim, out._shape, out._dtype)
            fill_scalar(g, 1.0)
            grads.append(g)
            continue
        if not isinstance(gi, Tensor):
            raise TypeError(
                f"gradients can be either Tensors or None, but got {type(gi).__name__}")
        g = <Tensor>gi
        if not same_shape(g, out):
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{i}] has a shape of {Size(shape_tuple(g))!r} and "
                f"output[{i}] has a shape of {Size(shape_tuple(out))!r}.")
        if g._dtype != out._dtype:
            g = cast_tensor(g, out._dtype)     # the engine casts to the recorded dtype
        grads.append(g)
    return grads


cdef extern from *:
    """
    static CGRAD_TLS int cgrad_checkpoint_valid = 1;
    """
    int cgrad_checkpoint_valid


def _is_checkpoint_valid():
    """False inside a backward that was given `inputs` (autograd.grad, or
    backward(inputs=...)): reentrant checkpointing cannot work there
    (PyTorch's Engine.is_checkpoint_valid)."""
    return bool(cgrad_checkpoint_valid)


def _run_backward(tensors, grad_tensors, retain_graph, bint create_graph, inputs, bint allow_unused,
                  bint accumulate_grad):
    """The engine's Python entry: tensors and grad_tensors are sequences of
    equal length (None entries mean implicit ones)."""
    cdef list outs = list(tensors)
    cdef list roots = []
    cdef list grads
    cdef list root_grads = []
    cdef list input_list = None
    cdef bint keep_graph = create_graph if retain_graph is None else bool(retain_graph)
    for o in outs:
        if not isinstance(o, Tensor):
            raise TypeError(f"expected a Tensor, got {type(o).__name__}")
    grads = make_root_grads(outs, grad_tensors)
    for i in range(len(outs)):
        if not (<Tensor>outs[i])._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        roots.append(outs[i])
        root_grads.append(grads[i])
    grads = None
    if inputs is not None:
        input_list = list(inputs)
        for x in input_list:
            if not isinstance(x, Tensor):
                raise RuntimeError(
                    f"all inputs have to be Tensors or GradientEdges, but got {cre_tp_name(x)}")
            if accumulate_grad and not (<Tensor>x)._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    global cgrad_checkpoint_valid
    cdef int outer_checkpoint_valid = cgrad_checkpoint_valid
    cgrad_checkpoint_valid = input_list is None
    try:
        return run_engine(roots, root_grads, keep_graph, create_graph, input_list, accumulate_grad,
                          allow_unused)
    finally:
        cgrad_checkpoint_valid = outer_checkpoint_valid
