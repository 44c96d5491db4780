# Saved-tensor hooks (torch.autograd.graph.saved_tensors_hooks): while a
# (pack, unpack) pair is pushed, every tensor a node saves through
# save_version()/save_output() is handed to pack, and backward reads
# unpack(packed) instead of the tensor. Design for zero cost when unused: one
# global count of threads with hooks on is tested at each save (the
# thread-local flag only when it is not zero); the packed objects live in a
# per-node dict (Node._packed, keyed by the id of the object the node's field
# holds) that exists only on nodes made under hooks. The field still holds
# the tensor, so hooks change what backward reads, not what the node keeps
# alive (memory is not released by packing).

cdef extern from *:
    """
    static CGRAD_TLS int cgrad_saved_hooks_on = 0;
    static int cgrad_saved_hooks_threads = 0;    /* see cgrad_anomaly_threads */
    #define CGRAD_SAVED_HOOKS_ON() (cgrad_saved_hooks_threads && cgrad_saved_hooks_on)
    """
    int cgrad_saved_hooks_on
    int cgrad_saved_hooks_threads
    bint CGRAD_SAVED_HOOKS_ON() noexcept

import threading as _threading

# Per thread: the stack of (pack, unpack) pairs and the message of
# disable_saved_tensors_hooks (None when pushing is allowed).
_saved_hooks_tls = _threading.local()

cdef str PACK_INPLACE_MSG = (
    "A saved tensor pack hook is modifying its input in place. Tensors provided as input to pack "
    "hook cannot be modified by in-place operations as this can lead to unexpected side-effects. "
    "Please open an issue if you need to perform in-place operations on the input to a pack hook.")


cdef list hooks_stack():
    cdef list stack = getattr(_saved_hooks_tls, "stack", None)
    if stack is None:
        stack = []
        _saved_hooks_tls.stack = stack
    return stack


def _push_saved_tensors_hooks(pack_hook, unpack_hook):
    msg = getattr(_saved_hooks_tls, "disabled_message", None)
    if msg is not None:
        raise RuntimeError(msg)
    hooks_stack().append((pack_hook, unpack_hook))
    cg_set_flag(&cgrad_saved_hooks_on, 1, &cgrad_saved_hooks_threads)


def _pop_saved_tensors_hooks():
    cdef list stack = hooks_stack()
    if stack:
        stack.pop()
    cg_set_flag(&cgrad_saved_hooks_on, 1 if stack else 0, &cgrad_saved_hooks_threads)


def _current_saved_tensors_hooks():
    """The innermost (pack, unpack) pair, or None."""
    cdef list stack = hooks_stack()
    return stack[-1] if stack else None


def _saved_tensors_hooks_disable(message):
    _saved_hooks_tls.disabled_message = message


def _saved_tensors_hooks_enable():
    _saved_hooks_tls.disabled_message = None


def _saved_tensors_hooks_get_disabled_error_message():
    return getattr(_saved_hooks_tls, "disabled_message", None)


cdef void pack_saved(Node node, Tensor t) except *:
    """Run the innermost pack hook on a tensor node saves (grad mode off, as
    PyTorch does) and keep its result with the unpack hook of that moment."""
    global cgrad_grad_enabled
    cdef list stack = hooks_stack()
    cdef long long version = t._storage.version
    cdef int prev = cgrad_grad_enabled
    if not stack:
        return
    pack_hook, unpack_hook = stack[-1]
    cgrad_grad_enabled = 0
    try:
        packed = pack_hook(t)
    finally:
        cgrad_grad_enabled = prev
    if t._storage.version != version:
        raise RuntimeError(PACK_INPLACE_MSG)
    if node._packed is None:
        node._packed = {}
        track(node)     # the packed objects may refer back to the graph
    node._packed[id(t)] = (packed, unpack_hook)


cdef Tensor run_unpack(Node node, Tensor saved):
    """unpack(packed) for a saved tensor, or None when it was saved without
    hooks."""
    entry = node._packed.get(id(saved))
    if entry is None:
        return None
    packed, unpack_hook = entry
    r = unpack_hook(packed)
    if not isinstance(r, Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got result "
                        f"of type {type(r).__name__}")
    return <Tensor>r


cdef Tensor unpack_hooked(Node node, Tensor saved, Tensor r, bint is_output, int output_nr,
                          bint always=False):
    """What backward reads of a tensor saved under hooks: the unpacked value
    with the autograd identity of the saved tensor (under create_graph its
    gradient flows where the original's would; `always` for grad_fn._saved_*
    attributes, which show that identity in any grad mode)."""
    cdef Tensor t
    if not (cgrad_grad_enabled or always):
        return r
    if not (is_output or saved._grad_fn is not None or saved._requires_grad):
        return r
    t = alias_detached(r)
    if is_output:
        set_history(t, node, output_nr)
    elif saved._grad_fn is not None:
        set_history(t, saved._grad_fn, saved._output_nr)
    elif saved._requires_grad:
        t._requires_grad = True
        t._accumulator = saved._accumulator    # the leaf's AccumulateGrad, kept alive by the graph
    return t


cdef inline Tensor save_output(Node node, Tensor out):
    """The detached alias a node keeps of one of its outputs (see
    node.pxi's saved tensors), packed when hooks are on."""
    cdef Tensor alias = alias_detached(out)
    if CGRAD_SAVED_HOOKS_ON():
        pack_saved(node, alias)
    return alias


cdef inline int pause_saved_hooks() noexcept:
    """In-place ops that save their own result run the out-of-place op
    first, whose saved result they then replace: that first save must not
    reach the pack hook (PyTorch packs the result once). Returns the flag to
    hand back to resume_saved_hooks."""
    cdef int was = cgrad_saved_hooks_on
    cg_set_flag(&cgrad_saved_hooks_on, 0, &cgrad_saved_hooks_threads)
    return was


cdef inline void resume_saved_hooks(int was) noexcept:
    cg_set_flag(&cgrad_saved_hooks_on, was, &cgrad_saved_hooks_threads)
