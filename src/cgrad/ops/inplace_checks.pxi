# The checks an in-place op makes before it writes, as PyTorch makes them,
# and the memory geometry they read: may this tensor be written in place
# (autograd's rules for leaves, views and inference tensors), does the
# written tensor overlap itself (an expanded output) or an input (partly),
# and does the op record history. Every op family with an in-place form
# calls them, so they sit below the ops; the in-place machinery that
# records history (old_value, commit_inplace, CopySlices) follows, in
# inplace_history.pxi.


cdef str PARTIAL_OVERLAP_MSG = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
    "single memory location. Please clone() the tensor before performing the operation.")
cdef str INTERNAL_OVERLAP_MSG = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
    "location. Please clone() the tensor before performing the operation.")


cdef bint has_internal_overlap(Tensor t) noexcept:
    cdef int i
    if non_overlapping_and_dense(t._ndim, t._shape, t._strides):
        return False
    for i in range(t._ndim):
        if t._strides[i] == 0 and t._shape[i] > 1:
            return True
    return False


cdef enum:
    OVERLAP_NO = 0
    OVERLAP_PARTIAL = 1
    OVERLAP_FULL = 2
    OVERLAP_TOO_HARD = 3


cdef int overlap_status(Tensor a, int bndim, const Py_ssize_t* bshape, const Py_ssize_t* bstrides,
                        Tensor b) noexcept:
    """PyTorch's get_overlap_status between a and b, b seen with the given
    geometry (an expanded view of it, say)."""
    cdef Py_ssize_t bnumel = 1
    cdef char* a0
    cdef char* a1
    cdef char* b0
    cdef char* b1
    cdef int i
    for i in range(bndim):
        bnumel *= bshape[i]
    if a._numel == 0 or bnumel == 0:
        return OVERLAP_NO
    if a._storage is not b._storage:
        return OVERLAP_NO
    if not non_overlapping_and_dense(a._ndim, a._shape, a._strides) or \
            not non_overlapping_and_dense(bndim, bshape, bstrides):
        return OVERLAP_TOO_HARD
    a0 = a._data
    a1 = a0 + a._numel * ITEMSIZE[a._dtype]
    b0 = b._data
    b1 = b0 + bnumel * ITEMSIZE[b._dtype]
    if a0 == b0 and a1 == b1:
        if a._ndim != bndim:
            return OVERLAP_PARTIAL
        for i in range(bndim):
            if a._strides[i] != bstrides[i]:
                return OVERLAP_PARTIAL
        return OVERLAP_FULL
    if a0 < b1 and b0 < a1:
        return OVERLAP_PARTIAL
    return OVERLAP_NO


cdef str LEAF_INPLACE = "a leaf Variable that requires grad is being used in an in-place operation."
cdef str LEAF_VIEW_INPLACE = ("a view of a leaf Variable that requires grad is being used in an "
                              "in-place operation.")


cdef str view_rebase_error(Tensor view, bint indirect):
    """PyTorch's text for an in-place change its CreationMeta forbids."""
    cdef str modified = "its base or another view of its base has been" if indirect else "is being"
    cdef str name
    if view._grad_fn is not None:
        name = view._grad_fn.name()
        if "Backward" in name:
            name = name[:name.rindex("Backward")]
    if view._creation_meta == CM_NO_GRAD or view._grad_fn is None:
        prefix = (f"Output {view._output_nr} of {name} is a view of a view which was created in"
                  if view._grad_fn is not None else "A view was created in")
        msg = f"{prefix} no_grad mode and {modified} modified inplace with grad mode enabled."
    else:
        msg = f"Output {view._output_nr} of {name} is a view and {modified} modified inplace."
    if view._creation_meta == CM_MULTI_OUTPUT:
        return msg + (" This view is the output of a function that returns multiple views. Such functions do "
                      "not allow the output views to be modified inplace. You should replace the inplace "
                      "operation by an out-of-place one.")
    return msg + (" Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
                  "your code by moving both the view and the inplace either both inside the no_grad block (if "
                  "you don't want the inplace to be tracked) or both outside (if you want the inplace to be "
                  "tracked).")


cdef int check_inplace(Tensor self) except -1:
    if cgrad_grad_enabled and self._requires_grad:
        if self._base is not None:
            if self._creation_meta != CM_DEFAULT:
                raise RuntimeError(view_rebase_error(self, False))
            if self._base._grad_fn is None:
                raise RuntimeError(LEAF_VIEW_INPLACE)
        elif self._grad_fn is None:
            raise RuntimeError(LEAF_INPLACE)
    if self._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed."
                           "You can make a clone to get a normal tensor before doing inplace update."
                           "See https://github.com/pytorch/rfcs/pull/17 for more details.")
    return 0


cdef inline int check_written_overlap(Tensor self) except -1:
    """TensorIterator's assert_no_internal_overlap on the written tensor: an
    expanded (stride-0) output would take several writes per location.
    Contiguous tensors (the usual case) cost one test."""
    if not self._contiguous and has_internal_overlap(self):
        raise RuntimeError(INTERNAL_OVERLAP_MSG)
    return 0


cdef inline int check_input_overlap(Tensor self, object other) except -1:
    """TensorIterator's assert_no_partial_overlap between the written tensor
    and an input (another tensor object over the same memory, not exactly
    the same elements in the same layout)."""
    if isinstance(other, Tensor) and other is not self and (<Tensor>other)._storage is self._storage:
        if overlap_status(self, (<Tensor>other)._ndim, (<Tensor>other)._shape, (<Tensor>other)._strides,
                          <Tensor>other) == OVERLAP_PARTIAL:
            raise RuntimeError(PARTIAL_OVERLAP_MSG)
    return 0


cdef bint same_elements(Tensor a, Tensor b) noexcept:
    cdef int i
    if a._data != b._data or a._dtype != b._dtype or a._ndim != b._ndim:
        return False
    for i in range(a._ndim):
        if a._shape[i] != b._shape[i] or a._strides[i] != b._strides[i]:
            return False
    return True


cdef inline bint records(Tensor self, object other):
    return (cgrad_grad_enabled and (self._requires_grad or
                                    (isinstance(other, Tensor) and (<Tensor>other)._requires_grad))
            or (cgrad_fwd_active and (self._fw_grad is not None or
                                      (isinstance(other, Tensor) and (<Tensor>other)._fw_grad is not None))))
