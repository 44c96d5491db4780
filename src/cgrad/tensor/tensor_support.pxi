# The module-level helpers of the Tensor class (tensor.pxi): installing the
# methods kept out of its class body (tensor_methods_*.pxi), tensors over
# another's storage and unpickling, adopting another tensor's data, the
# requires_grad rules, and hooks on non-leaf tensors.


cdef void install_class_methods(dict methods) except *:
    """Put module-level functions into Tensor's type under the names,
    qualified names and embedded signatures they would have as methods of
    the class body (Tensor.add, 'Tensor.add(self, other, *, alpha=1)'
    rather than _tensor_add), so a method kept out of tensor.pxi's class
    body looks the same to users, pydoc and inspect."""
    cdef str old, doc
    for name, fn in methods.items():
        old = fn.__name__
        fn.__name__ = name
        fn.__qualname__ = "Tensor." + name
        doc = fn.__doc__
        if doc is not None and doc.startswith(old + "(Tensor self"):
            fn.__doc__ = "Tensor." + name + "(self" + doc[len(old) + len("(Tensor self"):]
    install_tensor_methods(methods)


def _tensor_on_storage(Tensor source, storage_offset, size, stride):
    """A tensor over source's Storage (same memory and version counter) with
    this geometry in elements, as Tensor.set_(storage, offset, size, stride)
    makes one: it is not a view (no _base). Geometry reaching outside the
    storage is refused with PyTorch's setStorage error."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    storage_offset = int(storage_offset)
    cdef int isz = ITEMSIZE[source._dtype]
    cdef int ndim = len(size)
    cdef int i
    if len(stride) != ndim:
        raise RuntimeError(f"mismatch in length of strides and shape")
    if storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(size)}: [{', '.join(map(str, size))}]")
    if any(s < 0 for s in stride):
        raise RuntimeError("cgrad does not support tensors with negative strides")
    needed = 0 if 0 in size else (storage_offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))) * isz
    have = source._storage.nbytes
    if needed > have:
        raise RuntimeError(
            f"setStorage: sizes [{', '.join(map(str, size))}], strides [{', '.join(map(str, stride))}], "
            f"storage offset {storage_offset}, and itemsize {isz} requiring a storage size of {needed} "
            f"are out of bounds for storage of size {have}")
    cdef Tensor t = fresh_tensor()
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = size[i]
        t._strides[i] = stride[i]
    t._numel = checked_numel(ndim, t._shape)
    t._dtype = source._dtype
    t._storage = source._storage
    t._offset = storage_offset if t._numel else 0
    t._data = source._storage.ptr + t._offset * isz
    t._contiguous = strides_are_contiguous(ndim, t._shape, t._strides)
    return t


def _rebuild_tensor(cls, arr, requires_grad, state=None, dtype_name=None):
    """Unpickling: a tensor from saved values (numpy keeps the bytes; a
    dtype numpy lacks, bfloat16, is named and its values kept as float32)."""
    cdef Tensor t = tensor_from_data(arr, None)
    if dtype_name is not None:
        t = cast_tensor(t, (<dtype>_dtype_from_name(dtype_name))._code)
    if cls is not None and cls is not Tensor:
        t = Tensor._make_subclass(cls, t, requires_grad)
    else:
        check_requires_grad(t, requires_grad)
    if state:
        getattr(t, "__dict__").update(state)
    return t


cdef void adopt(Tensor t, Tensor src) except *:
    """Make t a tensor over src's storage and geometry (t is fresh)."""
    cdef int i
    if t._shape != t._dims and t._shape != NULL:
        free(t._shape)
    init_dims(t, src._ndim)
    for i in range(src._ndim):
        t._shape[i] = src._shape[i]
        t._strides[i] = src._strides[i]
    t._numel = src._numel
    t._dtype = src._dtype
    t._storage = src._storage
    t._offset = src._offset
    t._data = src._data
    t._contiguous = src._contiguous
    t._base = src._base
    t._is_inference = src._is_inference


cdef str requires_grad_leaf_error(bint value):
    if value:
        return "you can only change requires_grad flags of leaf variables."
    return ("you can only change requires_grad flags of leaf variables. If you want to use a computed "
            "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")


cdef int set_requires_grad(Tensor t, bint value) except -1:
    if t._grad_fn is not None:
        if value:
            return 0
        raise RuntimeError(requires_grad_leaf_error(False))
    if value and not is_float(t._dtype):
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if value and t._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
    t._requires_grad = value
    return 0


cdef void warn_nonleaf_grad() except *:
    import warnings
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
        "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
        "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
        UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# Hooks on non-leaf tensors run as pre-hooks of their grad_fn, on the
# gradient of their output slot.

cdef class _OutputHook:
    cdef int output_nr
    cdef object fn

    def __call__(self, grads):
        cdef list gs = list(grads)
        if gs[self.output_nr] is None:
            return None
        r = self.fn(gs[self.output_nr])
        if r is None:
            return None
        gs[self.output_nr] = checked_hook_result(self.fn, <Tensor>gs[self.output_nr], r)
        return tuple(gs)


cdef class _RetainGradHook:
    """Stores the gradient reaching a non-leaf tensor into its .grad."""
    cdef object tensor_ref
    cdef int output_nr

    def __call__(self, grads):
        cdef Tensor t = self.tensor_ref()
        cdef Tensor g = grads[self.output_nr]
        if t is None or g is None:
            return None
        if t._grad is None:
            t._grad = op_clone(g) if cgrad_grad_enabled else contiguous_copy(g)
        else:
            t._grad = op_add(t._grad, g)
        return None


cdef object register_nonleaf_hook(Tensor t, object fn):
    cdef _OutputHook h = _OutputHook.__new__(_OutputHook)
    cdef Node node = t._grad_fn
    h.output_nr = t._output_nr
    h.fn = fn
    track(node)
    if node.pre_hooks is None:
        node.pre_hooks = []
    # retain_grad's hook always runs last, after user hooks, as in PyTorch
    handle = _HookHandle(node.pre_hooks, h)
    for i, existing in enumerate(node.pre_hooks):
        if isinstance(existing, _RetainGradHook):
            node.pre_hooks.append(node.pre_hooks.pop(i))
            break
    return handle


cdef void register_retain_grad_hook(Tensor t) except *:
    import weakref
    cdef _RetainGradHook h = _RetainGradHook.__new__(_RetainGradHook)
    cdef Node node = t._grad_fn
    h.tensor_ref = weakref.ref(t)
    h.output_nr = t._output_nr
    if node.pre_hooks is None:
        node.pre_hooks = []
    node.pre_hooks.append(h)
