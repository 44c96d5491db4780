# Tensor core: making tensors, views and copies at C level, and the bridges
# to numpy. Nothing here records autograd history; ops do that on top.

from cpython.object cimport destructor


cdef inline Tensor fresh_tensor():
    """A new Tensor object for a C-level result. Like built-in nodes it is
    kept out of the cyclic GC's view until it gets user objects (hooks, a
    __dict__ entry through Python): its own references (storage, nodes,
    other tensors) never form a cycle. (Made untracked by Tensor's
    allocator, see common.pxi, rather than tracked and then untracked.)"""
    global cg_alloc_next_untracked
    cg_alloc_next_untracked = 1
    return Tensor.__new__(Tensor)


cdef inline int init_dims(Tensor t, int ndim) except -1:
    t._ndim = ndim
    if ndim <= INLINE_DIMS:
        t._shape = t._dims
        t._strides = t._dims + INLINE_DIMS
    else:
        if ndim > MAX_DIMS:
            raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
        t._shape = <Py_ssize_t*>malloc(2 * ndim * sizeof(Py_ssize_t))
        if t._shape == NULL:
            raise MemoryError()
        t._strides = t._shape + ndim
    return 0


# Tensor's tp_dealloc frees a shape too large to live inside the object,
# then hands over to the one Cython generated. A Cython __dealloc__ would
# save and restore the thread's exception state around its body at every
# free of every tensor (PyErr_Fetch / PyErr_Restore, about a hundred
# instructions), which freeing a malloc'ed block does not need.
cdef extern from "Python.h":
    void PyType_Modified(PyTypeObject*)


cdef destructor tensor_generated_dealloc = (<PyTypeObject*>Tensor).tp_dealloc


cdef void tensor_dealloc(PyObject* o) noexcept:
    cdef Py_ssize_t* shape = (<Tensor>o)._shape
    if shape != NULL and shape != (<Tensor>o)._dims:
        free(shape)
    (<Tensor>o)._shape = NULL
    tensor_generated_dealloc(o)


(<PyTypeObject*>Tensor).tp_dealloc = <destructor>tensor_dealloc
cg_use_free_lists(<PyTypeObject*>Tensor, False)     # reused memory (common.pxi)


cdef inline void set_contiguous_strides(Tensor t) noexcept:
    cdef Py_ssize_t st = 1
    cdef int i
    for i in range(t._ndim - 1, -1, -1):
        t._strides[i] = st
        st *= t._shape[i] if t._shape[i] > 0 else 1
    t._contiguous = True


cdef inline bint strides_are_contiguous(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides) noexcept:
    cdef Py_ssize_t expected = 1
    cdef int i
    for i in range(ndim):
        if shape[i] == 0:
            return True     # empty tensors are contiguous whatever their strides, as in PyTorch
    for i in range(ndim - 1, -1, -1):
        if shape[i] != 1 and strides[i] != expected:
            return False
        expected *= shape[i]
    return True


cdef extern from *:
    """
    static inline int cg_umul_ovf(unsigned long long a, unsigned long long b, unsigned long long* r) {
        return __builtin_mul_overflow(a, b, r);
    }
    static inline int cg_uadd_ovf(unsigned long long a, unsigned long long b, unsigned long long* r) {
        return __builtin_add_overflow(a, b, r);
    }
    """
    bint cg_umul_ovf(unsigned long long a, unsigned long long b, unsigned long long* r) noexcept nogil
    bint cg_uadd_ovf(unsigned long long a, unsigned long long b, unsigned long long* r) noexcept nogil


cdef int check_negative_dims(int ndim, const Py_ssize_t* shape) except -1:
    cdef int i
    for i in range(ndim):
        if shape[i] < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {shape[i]}: {shape_str(shape, ndim)}")
    return 0


cdef Py_ssize_t checked_numel(int ndim, const Py_ssize_t* shape) except -1:
    """The number of elements of a shape (c10's safe_multiplies_u64: an
    overflowing partial product counts even when a later size is 0)."""
    cdef unsigned long long n = 1
    cdef bint bad = False
    cdef int i
    for i in range(ndim):
        if shape[i] < 0:
            check_negative_dims(ndim, shape)
        bad |= cg_umul_ovf(n, <unsigned long long>shape[i], &n)
    if bad or n > <unsigned long long>INT64_MAX:
        raise RuntimeError("numel: integer multiplication overflow")
    return <Py_ssize_t>n


cdef Py_ssize_t storage_nbytes(int ndim, const Py_ssize_t* shape, int dt,
                               Py_ssize_t* numel=NULL) except -1:
    """The byte size of a fresh contiguous tensor, checked as PyTorch's
    computeStorageNbytesContiguous checks it (and its strides as
    computeStride does when the tensor is empty)."""
    cdef unsigned long long n = 1, st = 1
    cdef bint bad = False
    cdef int i
    for i in range(ndim):
        if shape[i] < 0:
            check_negative_dims(ndim, shape)
        bad |= cg_umul_ovf(n, <unsigned long long>shape[i], &n)
    if numel != NULL:
        numel[0] = <Py_ssize_t>n        # meaningful only when no error is raised below
    bad |= cg_umul_ovf(n, <unsigned long long>ITEMSIZE[dt], &n)
    if bad or n > <unsigned long long>INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={shape_str(shape, ndim)}")
    if n == 0:
        for i in range(ndim - 1, 0, -1):
            if cg_umul_ovf(st, <unsigned long long>(shape[i] if shape[i] > 1 else 1), &st) or \
                    st > <unsigned long long>INT64_MAX:
                raise RuntimeError("Stride calculation overflowed")
    return <Py_ssize_t>n


cdef Py_ssize_t strided_nbytes(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides,
                               int dt) except -1:
    """The byte size of a fresh tensor with these strides, checked as
    PyTorch's computeStorageNbytes checks it (what empty_strided uses)."""
    cdef unsigned long long n = 1, part
    cdef bint bad = False
    cdef int i
    for i in range(ndim):
        if shape[i] == 0:
            return 0
    for i in range(ndim):
        bad |= cg_umul_ovf(<unsigned long long>strides[i], <unsigned long long>(shape[i] - 1), &part)
        bad |= cg_uadd_ovf(n, part, &n)
    bad |= cg_umul_ovf(n, <unsigned long long>ITEMSIZE[dt], &n)
    if bad or n > <unsigned long long>INT64_MAX:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={shape_str(shape, ndim)} and "
                           f"strides={shape_str(strides, ndim)}")
    return <Py_ssize_t>n


cdef Tensor new_tensor(int ndim, const Py_ssize_t* shape, int dt, bint zeroed=False):
    """A fresh contiguous tensor of the given shape and dtype, no history."""
    cdef Py_ssize_t numel
    cdef Py_ssize_t nbytes
    cdef Tensor t
    if ndim == 1 and 0 < shape[0] < (<Py_ssize_t>1 << 40):
        numel = shape[0]        # cannot overflow: the checks below find nothing
        nbytes = numel * ITEMSIZE[dt]
    else:
        nbytes = storage_nbytes(ndim, shape, dt, &numel)
    t = fresh_tensor()
    cdef int i
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = shape[i]
    t._numel = numel
    t._dtype = dt
    set_contiguous_strides(t)
    t._storage = new_storage(nbytes, zeroed)
    t._data = t._storage.ptr
    t._is_inference = CGRAD_INFERENCE_ON()
    return t


cdef inline Tensor empty_like_tensor(Tensor t, int dt):
    return new_tensor(t._ndim, t._shape, dt)


cdef Tensor new_tensor_from_tuple(tuple shape, int dt, bint zeroed=False):
    cdef Py_ssize_t dims[MAX_DIMS]
    cdef int n = len(shape)
    cdef int i
    if n > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(n):
        dims[i] = shape[i]
    return new_tensor(n, dims, dt, zeroed)


cdef Tensor new_strided(int nd, const Py_ssize_t* shape, const Py_ssize_t* strides, int dt):
    """A fresh tensor with the given dense (permuted) strides, no history
    (PyTorch's empty_strided)."""
    cdef Py_ssize_t nbytes
    cdef Tensor t
    cdef int i
    check_negative_dims(nd, shape)
    nbytes = strided_nbytes(nd, shape, strides, dt)
    t = fresh_tensor()
    init_dims(t, nd)
    for i in range(nd):
        t._shape[i] = shape[i]
        t._strides[i] = strides[i]
    t._numel = checked_numel(nd, shape)
    t._dtype = dt
    t._storage = new_storage(nbytes, False)
    t._data = t._storage.ptr
    t._is_inference = cgrad_inference_mode
    t._contiguous = t._numel == 0 or strides_are_contiguous(nd, shape, strides)
    return t


cdef inline bint shape_equals(Tensor a, int ndim, const Py_ssize_t* shape) noexcept:
    cdef int i
    if a._ndim != ndim:
        return False
    for i in range(ndim):
        if a._shape[i] != shape[i]:
            return False
    return True


cdef inline Py_ssize_t iter_stride(Tensor t, int nd, const Py_ssize_t* shape, int d) noexcept:
    """t's stride along dim d of the broadcast shape (0 where t broadcasts)."""
    cdef int od = d - (nd - t._ndim)
    if od < 0 or (t._shape[od] == 1 and shape[d] != 1):
        return 0
    return t._strides[od]


cdef int should_swap(int nd, const Py_ssize_t* shape, PyObject** ins, int nin, int d0, int d1) noexcept:
    """1 where dims d0 (now before d1 in the fastest-first order) and d1 swap, -1
    where d0 stays first, 0 where no input tells: PyTorch's TensorIterator asks
    its inputs in order, skipping broadcast dims and breaking equal strides by
    size."""
    cdef Py_ssize_t s0, s1
    cdef int k
    for k in range(nin):
        s0 = iter_stride(<Tensor>ins[k], nd, shape, d0)
        s1 = iter_stride(<Tensor>ins[k], nd, shape, d1)
        if s0 == 0 or s1 == 0:
            continue
        if s0 < s1:
            return -1
        if s0 > s1:
            return 1
        if shape[d0] > shape[d1]:
            return 1
    return 0


# ---------------------------------------------------------------------------
# Memory layout of copies: PyTorch's preserve_format keeps the strides of a
# non-overlapping, dense source and otherwise makes dense strides in the
# source's stride order (infer_dense_strides).


cdef bint non_overlapping_and_dense(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides) noexcept:
    """PyTorch's is_non_overlapping_and_dense: some permutation of the dims
    is contiguous."""
    cdef int perm[MAX_DIMS]
    cdef int i, j, n = 0, tmp
    cdef Py_ssize_t require = 1
    if ndim == 0:
        return True
    if ndim == 1:
        return shape[0] < 2 or strides[0] == 1
    for i in range(ndim):
        if shape[i] == 0:
            return True
    for i in range(ndim):
        if shape[i] >= 2:
            perm[n] = i
            n += 1
    for i in range(1, n):       # insertion sort by stride
        j = i
        while j > 0 and strides[perm[j - 1]] > strides[perm[j]]:
            tmp = perm[j]
            perm[j] = perm[j - 1]
            perm[j - 1] = tmp
            j -= 1
    for i in range(n):
        if strides[perm[i]] != require:
            return False
        require *= shape[perm[i]]
    return True


cdef void infer_dense_strides(int nd, const Py_ssize_t* shape, const Py_ssize_t* strides,
                              Py_ssize_t* out) noexcept:
    """Dense strides keeping the layout (dim order) of `strides` (PyTorch's
    infer_dense_strides: TensorIterator's stable ordering, stride-0 dims
    keep their place)."""
    cdef int perm[MAX_DIMS]
    cdef int i, j, dim0, dim1, cmp, t
    cdef Py_ssize_t s0, s1, cur = 1
    for i in range(nd):
        perm[i] = nd - 1 - i
    for i in range(1, nd):
        dim1 = i
        for j in range(1, i + 1):
            dim0 = i - j
            s0 = strides[perm[dim0]]
            s1 = strides[perm[dim1]]
            if s0 == 0 or s1 == 0:
                cmp = 0
            elif s0 < s1:
                cmp = -1
            elif s0 > s1:
                cmp = 1
            elif shape[perm[dim0]] > shape[perm[dim1]]:
                cmp = 1
            else:
                cmp = 0
            if cmp > 0:
                t = perm[dim0]
                perm[dim0] = perm[dim1]
                perm[dim1] = t
                dim1 = dim0
            elif cmp < 0:
                break
    for i in range(nd):
        out[perm[i]] = cur
        if shape[perm[i]] > 1:
            cur *= shape[perm[i]]


cdef Tensor new_tensor_preserving(int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides, int dt,
                                  bint zeroed):
    """A fresh tensor laid out as PyTorch's preserve_format lays out a copy of
    a tensor with these shape and strides."""
    cdef Tensor t = new_tensor(ndim, shape, dt, zeroed)
    cdef int i
    if ndim == 0:
        return t
    if t._numel == 0 or strides_are_contiguous(ndim, shape, strides) or \
            non_overlapping_and_dense(ndim, shape, strides):
        for i in range(ndim):
            t._strides[i] = strides[i]
    else:
        infer_dense_strides(ndim, shape, strides, t._strides)
    t._contiguous = t._numel == 0 or strides_are_contiguous(ndim, t._shape, t._strides)
    return t


cdef bint same_dense_strides(int nd, const Py_ssize_t* shape, PyObject** ins, int nin) noexcept:
    """Every input has the broadcast shape and the first input's strides, and those
    strides are dense (PyTorch's NON_OVERLAPPING_DENSE fast setup)."""
    cdef Tensor first = <Tensor>ins[0], t
    cdef int k, d
    for k in range(nin):
        t = <Tensor>ins[k]
        if not shape_equals(t, nd, shape):
            return False
        for d in range(nd):
            if t._strides[d] != first._strides[d]:
                return False
    return non_overlapping_and_dense(nd, shape, first._strides)


cdef Tensor new_result_like_inputs(int nd, const Py_ssize_t* shape, int dt, Tensor a, Tensor b,
                                   Tensor c=None, bint with_scalar=False):
    """A fresh pointwise result laid out from its inputs as PyTorch's TensorIterator
    lays out a new output, so an op on a transposed or channels-last tensor keeps
    its layout: inputs of one shape with the same dense strides give those strides;
    otherwise the dims are ordered by the inputs' strides, the first input deciding
    first. A number operand (`with_scalar`: PyTorch wraps it as a 0-dim
    tensor) rules out the first case. Callers take new_tensor directly where
    that gives the same layout (new_result)."""
    cdef PyObject* ins[3]
    cdef int perm[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef Py_ssize_t next_stride = 1
    cdef int nin = 0, i, j, dim1, cmp
    cdef bint reversed_order = True
    for t in (a, b, c):
        if t is not None:
            ins[nin] = <PyObject*>t
            nin += 1
    if nd <= 1 or nin == 0:
        return new_tensor(nd, shape, dt)
    if not with_scalar and same_dense_strides(nd, shape, ins, nin):
        return new_strided(nd, shape, (<Tensor>ins[0])._strides, dt)
    for i in range(nd):
        perm[i] = nd - 1 - i
    for i in range(1, nd):
        dim1 = i
        for j in range(i - 1, -1, -1):
            cmp = should_swap(nd, shape, ins, nin, perm[j], perm[dim1])
            if cmp > 0:
                perm[j], perm[dim1] = perm[dim1], perm[j]
                dim1 = j
            elif cmp < 0:
                break
    for i in range(nd):
        if perm[i] != nd - 1 - i:
            reversed_order = False
    if reversed_order:
        return new_tensor(nd, shape, dt)
    for i in range(nd):
        strides[perm[i]] = next_stride
        next_stride *= shape[perm[i]]
    return new_strided(nd, shape, strides, dt)


cdef bint standard_strides(Tensor t) noexcept:
    """t's strides are the ones a new contiguous tensor of its shape gets,
    size-1 dims included (a transposed (3, 1) column is contiguous with
    strides (1, 1), not (3, 1))."""
    cdef Py_ssize_t expected = 1
    cdef int i
    for i in range(t._ndim - 1, -1, -1):
        if t._strides[i] != expected:
            return False
        expected *= t._shape[i] if t._shape[i] > 0 else 1
    return True


cdef inline bint c_order_input(Tensor t) noexcept:
    """An input that orders a result's dims as C order does."""
    return t._contiguous and (t._ndim < 2 or standard_strides(t))


cdef inline Tensor new_unary_result(int nd, const Py_ssize_t* shape, int dt, Tensor a):
    """A fresh result of one element-wise input a, laid out as PyTorch's
    TensorIterator lays it out: contiguous when a is, else a's layout
    (new_result_like_inputs)."""
    if a._contiguous:
        return new_tensor(nd, shape, dt)
    return new_result_like_inputs(nd, shape, dt, a, None)


cdef inline Tensor new_result(int nd, const Py_ssize_t* shape, int dt, Tensor a, Tensor b, Tensor c):
    """new_unary_result for inputs a, b and c (None when absent): contiguous
    when they all are and either share the result's shape or have C-order
    strides."""
    if a._contiguous and (b is None or b._contiguous) and (c is None or c._contiguous):
        if (shape_equals(a, nd, shape) and (b is None or shape_equals(b, nd, shape))
                and (c is None or shape_equals(c, nd, shape))) or \
                (c_order_input(a) and (b is None or c_order_input(b)) and (c is None or c_order_input(c))):
            return new_tensor(nd, shape, dt)
    return new_result_like_inputs(nd, shape, dt, a, b, c)


cdef inline Tensor new_result_same_shape(int nd, const Py_ssize_t* shape, int dt, Tensor a, Tensor b):
    """new_result for inputs that have the result's shape (b may be None),
    as a gradient and the values its backward saved have."""
    if a._contiguous and (b is None or b._contiguous):
        return new_tensor(nd, shape, dt)
    return new_result_like_inputs(nd, shape, dt, a, b)


cdef inline Tensor new_scalar_result(int nd, const Py_ssize_t* shape, int dt, Tensor a):
    """new_result for tensor a with a number operand (PyTorch's wrapped
    0-dim tensor, which never shares the result's shape)."""
    if c_order_input(a):
        return new_tensor(nd, shape, dt)
    return new_result_like_inputs(nd, shape, dt, a, None, None, True)


cdef Tensor make_view(Tensor base, int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides,
                      Py_ssize_t offset):
    """A tensor sharing base's storage with new geometry; no history."""
    return fill_view(fresh_tensor(), base, ndim, shape, strides, offset)


cdef inline Tensor fill_view(Tensor t, Tensor base, int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides,
                             Py_ssize_t offset):
    """make_view's work on a given fresh tensor t (a Tensor subclass's
    instance for as_subclass)."""
    cdef int i
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = shape[i]
        t._strides[i] = strides[i]
    t._numel = checked_numel(ndim, shape)
    t._dtype = base._dtype
    t._storage = base._storage
    t._offset = offset
    t._data = base._storage.ptr + offset * ITEMSIZE[base._dtype]
    t._contiguous = strides_are_contiguous(ndim, shape, strides)
    t._base = base._base if base._base is not None else base
    t._is_inference = base._is_inference
    t._view_version = base._storage.version
    if cgrad_grad_enabled:
        t._creation_meta = base._creation_meta if base._base is not None else CM_DEFAULT
    else:
        # PyTorch: a view made without grad mode still requires grad like its
        # base (a leaf of its own), and may not be changed in place under it
        t._creation_meta = CM_NO_GRAD
        t._requires_grad = base._requires_grad
    return t


cdef Tensor alias_detached(Tensor src):
    """Same storage and geometry, no history and no _base: what a node keeps
    of a tensor it saves when keeping the tensor itself would make a cycle."""
    cdef Tensor t = fresh_tensor()
    cdef int i
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
    t._is_inference = src._is_inference
    return t


cdef bint same_shape(Tensor a, Tensor b) noexcept:
    if a._ndim != b._ndim:
        return False
    cdef int i
    for i in range(a._ndim):
        if a._shape[i] != b._shape[i]:
            return False
    return True


cdef tuple shape_tuple(Tensor t):
    cdef int i
    return tuple([t._shape[i] for i in range(t._ndim)])


# ---------------------------------------------------------------------------
# numpy bridges

cdef object ndarray_view(Tensor t):
    """A numpy array sharing t's memory (any strides); keeps t's storage
    alive. numpy has no bfloat16: PyTorch's TypeError (a kernel that needs
    numpy converts a bfloat16 tensor to float32 first)."""
    cdef cnp.npy_intp dims[MAX_DIMS]
    cdef cnp.npy_intp strides[MAX_DIMS]
    cdef int i
    cdef int isz = ITEMSIZE[t._dtype]
    if t._dtype == BF16:
        raise TypeError("Got unsupported ScalarType BFloat16")
    for i in range(t._ndim):
        dims[i] = t._shape[i]
        strides[i] = t._strides[i] * isz
    arr = cnp.PyArray_New(cnp.ndarray, t._ndim, dims, NPY_TYPE[t._dtype], strides,
                          <void*>t._data, isz, cnp.NPY_ARRAY_WRITEABLE, None)
    cnp.set_array_base(arr, t._storage)
    return arr


cdef bint _warned_not_writable = False


cdef void warn_not_writable() except *:
    """PyTorch's TORCH_WARN_ONCE on sharing a read-only numpy array."""
    global _warned_not_writable
    import warnings
    _warned_not_writable = True
    warnings.warn(
        "The given NumPy array is not writable, and PyTorch does not support non-writable tensors. "
        "This means writing to this tensor will result in undefined behavior. You may want to copy "
        "the array to protect its data or make it writable before converting it to a tensor. This "
        "type of warning will be suppressed for the rest of this program.", UserWarning, stacklevel=3)


cdef Tensor tensor_from_ndarray(object arr, bint share, bint warn_readonly=False):
    """A tensor over a numpy array's memory (share) or over a fresh copy.
    The dtype must be one cgrad has; strides must be non-negative multiples
    of the itemsize when sharing."""
    cdef cnp.ndarray a = <cnp.ndarray>arr
    cdef int dt = dtype_from_numpy(a.dtype)
    cdef int ndim = cnp.PyArray_NDIM(a)
    cdef int isz = ITEMSIZE[dt]
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i
    cdef Tensor t
    if not a.dtype.isnative:
        if share:
            raise ValueError("given numpy array has byte order different from the native byte order. "
                             "Conversion between byte orders is currently not supported.")
        a = a.astype(a.dtype.newbyteorder("="))
    if not share:
        t = new_tensor(ndim, <Py_ssize_t*>cnp.PyArray_DIMS(a), dt)
        np.copyto(ndarray_view(t), a, casting="no")
        return t
    for i in range(ndim):
        shape[i] = cnp.PyArray_DIMS(a)[i]
        if cnp.PyArray_STRIDES(a)[i] < 0:
            raise ValueError(
                "At least one stride in the given numpy array is negative, and tensors with negative "
                "strides are not currently supported. (You can probably work around this by making "
                "a copy of your array  with array.copy().) ")
        if cnp.PyArray_STRIDES(a)[i] % isz != 0:
            raise ValueError(
                "given numpy array strides not a multiple of the element byte size. Copy the numpy "
                "array to reallocate the memory.")
        strides[i] = cnp.PyArray_STRIDES(a)[i] // isz
    if warn_readonly and not _warned_not_writable and not a.flags.writeable:
        warn_not_writable()
    t = fresh_tensor()
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = shape[i]
        t._strides[i] = strides[i]
    t._numel = checked_numel(ndim, shape)
    t._dtype = dt
    t._storage = borrowed_storage(<char*>cnp.PyArray_DATA(a), cnp.PyArray_NBYTES(a), a)
    t._data = t._storage.ptr
    t._contiguous = strides_are_contiguous(ndim, shape, strides)
    return t


# ---------------------------------------------------------------------------
# The Tensor type's names. Python builds some messages from tp_name
# ("unsupported operand type(s) for +: 'Tensor' and 'NoneType'", "'Tensor'
# object has no attribute ...", Cython's argument type errors); PyTorch's
# Tensor is a Python class named 'Tensor', so tp_name becomes 'Tensor' once,
# at import. A static type derives __module__ from tp_name ('builtins'
# then), through type's own __module__ descriptor; so Tensor gets a
# metaclass, as torch.Tensor has (_TensorMeta): a class defined in Python
# holds a plain __module__ string in its dict, which hides type's descriptor,
# and Tensor.__module__ is then read from Tensor's dict: 'cgrad', where
# users, pickle and type checkers find it. Only the class object changes:
# instances, their slots and the per-op code are as before (isinstance on an
# exact Tensor still takes CPython's fast path).


cdef bint lazy_tensor_methods_loaded = False

# The methods cgrad/_tensor_ops.py installs: it reads this tuple (as
# _C._LAZY_TENSOR_OPS_METHODS) and installs exactly these names, so the two
# cannot drift apart. Until it is imported, each name here and in
# LAZY_IMPORTED_MODULES_METHODS is a LazyTensorMethod in Tensor's dict. A
# placeholder rather than a Tensor.__getattr__ for the misses: a type with
# its own attribute hook loses CPython's specialised method lookup on every
# call of every method (a bound method object is made and freed per
# `t.tanh()`).
cdef tuple LAZY_TENSOR_OPS_METHODS = (
    "sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode", "quantile",
    "nanquantile", "kron", "trace", "diagonal", "diag_embed", "as_strided", "unfold", "narrow_copy",
    "rot90", "baddbmm", "addbmm", "addmv", "addr", "baddbmm_", "addbmm_", "addmv_", "addr_", "cumprod",
    "cumprod_", "cummax", "cummin", "logcumsumexp", "masked_select", "masked_scatter",
    "masked_scatter_", "index_add", "index_add_", "index_copy", "index_copy_", "index_fill",
    "index_fill_", "index_put", "index_put_", "take", "take_along_dim", "put", "put_", "nansum",
    "nanmean", "aminmax", "unique", "unique_consecutive", "bincount", "histc", "as_strided_")
_LAZY_TENSOR_OPS_METHODS = LAZY_TENSOR_OPS_METHODS

# installed by the modules cgrad/_tensor_ops.py imports (_ops_composites,
# _ops_numeric_composites, _legacy_tensor_types)
cdef tuple LAZY_IMPORTED_MODULES_METHODS = (
    "addcdiv", "addcdiv_", "addcmul", "addcmul_", "argwhere", "broadcast_to", "corrcoef", "cov", "diff",
    "dist", "dsplit", "eq_", "fill_diagonal_", "fliplr", "flipud", "gcd", "ge_", "greater_",
    "greater_equal_", "gt_", "hsplit", "inner", "is_nonzero", "is_same_size", "is_signed", "isin", "lcm",
    "le_", "less_", "less_equal_", "logical_and_", "logical_not_", "logical_or_", "logical_xor_", "lt_",
    "multiply", "multiply_", "ne_", "new", "not_equal_", "pow_", "renorm", "repeat_interleave", "subtract",
    "subtract_", "sum_to_size", "tensor_split", "true_divide_", "vsplit",
    # _ops_view_copies, _ops_real_views, _ops_numeric_extras, _ops_inplace_forms, _layouts
    "select_scatter", "slice_scatter", "diagonal_scatter", "as_strided_scatter", "unsafe_split", "unsafe_chunk",
    "unsafe_split_with_sizes", "conj", "conj_physical", "conj_physical_", "resolve_conj", "resolve_neg", "isreal",
    "is_conj", "is_neg", "angle", "real", "imag", "ldexp", "ldexp_", "frexp", "nextafter",
    "nextafter_", "mvlgamma", "mvlgamma_", "histogram", "bitwise_and_", "bitwise_or_", "bitwise_xor_",
    "bitwise_left_shift_", "bitwise_right_shift_", "bitwise_not_", "addmm_", "renorm_", "apply_", "map_",
    "gcd_", "lcm_", "layout",
    # installed by cgrad/_ops_scatter_reduce.py
    "scatter_reduce", "scatter_reduce_", "index_reduce", "index_reduce_",
    # installed from cgrad/_linalg_torch_level.py
    "lu", "triangular_solve", "geqrf", "ormqr", "vdot", "diagflat",
    # installed by cgrad/_tensor_legacy_methods.py
    "solve", "lstsq", "eig", "symeig", "resize", "resize_as", "nonzero_static", "new_empty_strided", "dim_order",
    "const_data_ptr", "to_dense", "prelu", "volatile",
    # installed by cgrad/_special_igamma.py
    "igamma", "igamma_", "igammac", "igammac_",
    # installed by cgrad/_storage_api.py
    "untyped_storage", "storage", "share_memory_", "is_shared")


cdef class LazyTensorMethod:
    """Tensor's entry for a method of cgrad/_tensor_ops.py before that
    module is imported: the first access imports it (which puts the real
    methods in place of every placeholder) and answers with the real one."""
    cdef str name

    def __get__(self, obj, owner):
        load_lazy_tensor_methods()
        if type((<dict>(<PyTypeObject*>Tensor).tp_dict).get(self.name)) is LazyTensorMethod:
            raise AttributeError(f"'Tensor' object has no attribute '{self.name}'")   # the import failed
        return getattr(owner if obj is None else obj, self.name)


cdef int install_lazy_placeholders() except -1:
    cdef dict d = <dict>(<PyTypeObject*>Tensor).tp_dict
    cdef LazyTensorMethod m
    for name in LAZY_TENSOR_OPS_METHODS + LAZY_IMPORTED_MODULES_METHODS:
        m = LazyTensorMethod.__new__(LazyTensorMethod)
        m.name = name
        d[name] = m
    PyType_Modified(<PyTypeObject*>Tensor)
    return 0


cdef int drop_lazy_placeholders(object names) except -1:
    """Called as a module installs the real methods `names`: only their
    placeholders go (a module that cgrad/_tensor_ops.py imports may be
    imported first, and the others must still load on first use)."""
    cdef dict d = <dict>(<PyTypeObject*>Tensor).tp_dict
    for name in names:
        if type(d.get(name)) is LazyTensorMethod:
            del d[name]
    PyType_Modified(<PyTypeObject*>Tensor)
    return 0


install_lazy_placeholders()


cdef bint load_lazy_tensor_methods() except -1:
    """The Tensor methods of the op families written in Python over numpy
    buffers (cgrad/_tensor_ops.py: sort, einsum, cumprod, unique, ...) are
    installed when that module is first imported: by cgrad.sort and the
    like, or from here, on the first use of one of them (LazyTensorMethod)
    or the first failed attribute lookup on Tensor. `import cgrad` then
    stays at numpy's cost plus a few ms (tests/package/test_import_cost.py). True
    when this call installed them."""
    global lazy_tensor_methods_loaded
    if lazy_tensor_methods_loaded:
        return False
    lazy_tensor_methods_loaded = True
    import importlib
    importlib.import_module("cgrad._tensor_ops")
    return True


class _TensorMeta(type):
    """The metaclass of Tensor (see above)."""

    def __repr__(cls):
        return f"<class '{cls.__module__}.{cls.__qualname__}'>"

    def __getattr__(cls, name):
        if not name.startswith("__") and load_lazy_tensor_methods():
            return getattr(cls, name)
        raise AttributeError(f"type object 'Tensor' has no attribute '{name}'", name=name, obj=cls)


cdef extern from *:
    """
    static int cg_rename_type(PyObject* t, const char* name, PyObject* module, PyObject* metatype) {
        PyTypeObject* tp = (PyTypeObject*)t;
        tp->tp_name = name;
        if (module != Py_None) {
            if (PyDict_SetItemString(tp->tp_dict, "__module__", module) < 0) return -1;
            Py_INCREF(metatype);
            Py_SET_TYPE(t, (PyTypeObject*)metatype);
        }
        PyType_Modified(tp);
        return 0;
    }
    """
    int cg_rename_type(object t, const char* name, object module, object metatype) except -1

cg_rename_type(Tensor, "Tensor", "cgrad", _TensorMeta)
