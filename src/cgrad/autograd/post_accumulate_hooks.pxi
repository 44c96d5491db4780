# Tensor.register_post_accumulate_grad_hook (PyTorch 2.1+): hooks that run on
# a leaf after its AccumulateGrad has written .grad, the signal that
# DistributedDataParallel starts its bucket all-reduces from. The hooks live
# in a table keyed by the leaf's id, entries dropped by a weakref callback
# when the leaf dies, so Tensor needs no new field and the engine pays one
# dict-emptiness check per leaf when no hook is registered.

cdef dict post_accumulate_hooks_by_leaf = {}    # id(leaf) -> (weakref to leaf, {handle id: fn})


cdef void run_post_accumulate_hooks(Tensor var) except *:
    entry = post_accumulate_hooks_by_leaf.get(id(var))
    if entry is None:
        return
    for fn in list((<tuple>entry)[1].values()):
        fn(var)


class _PostAccumulateHookHandle:
    """What register_post_accumulate_grad_hook returns: remove() takes the hook out."""
    def __init__(self, hooks, fn):
        self.id = _take_hook_id()     # (core/node.pxi)
        self._hooks = hooks
        hooks[self.id] = fn

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.remove()


def _forget_post_accumulate_hooks(key):
    def forget(ref):
        entry = post_accumulate_hooks_by_leaf.get(key)
        if entry is not None and (<tuple>entry)[0] is ref:
            del post_accumulate_hooks_by_leaf[key]
    return forget


def _tensor_register_post_accumulate_grad_hook(self, hook):
    """hook(tensor) runs after the gradient has been accumulated into this
    leaf's .grad; returns a handle whose remove() undoes it."""
    cdef Tensor t = <Tensor?>self
    if not t._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if t._grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    key = id(t)
    entry = post_accumulate_hooks_by_leaf.get(key)
    if entry is None:
        import weakref
        entry = (weakref.ref(t, _forget_post_accumulate_hooks(key)), {})
        post_accumulate_hooks_by_leaf[key] = entry
    return _PostAccumulateHookHandle((<tuple>entry)[1], hook)


install_tensor_methods({"register_post_accumulate_grad_hook": _tensor_register_post_accumulate_grad_hook})
