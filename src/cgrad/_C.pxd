# Shared declarations of cgrad's core: the three object kinds every layer of
# _C.pyx works with. Fields are declared here, once, so that kernels, nodes
# and ops in any .pxi file can reach them directly at C speed.
#
#   Storage  a buffer of bytes: owned (malloc'ed, or inline for tiny tensors)
#            or borrowed from another object (a numpy array); carries the
#            version counter that in-place ops bump and saved tensors check.
#   Tensor   a strided view of a Storage (shape, strides in elements, offset)
#            plus its autograd metadata (requires_grad, grad_fn, grad, ...).
#   Node     one recorded operation of the backward graph: edges to the nodes
#            of its inputs, its saved values, and apply(), the C-level
#            backward the engine calls without any Python frame.

cdef enum:
    MAX_DIMS = 64        # as numpy; shapes beyond this are rejected
    INLINE_DIMS = 6      # shapes up to this rank live inside the Tensor object
    INLINE_BYTES = 64    # buffers up to this size live inside the Storage object


cdef class Storage:
    cdef char* ptr
    cdef Py_ssize_t nbytes
    cdef object owner            # keeps `ptr` alive when another object owns it
    cdef long long version       # bumped by every in-place write
    cdef bint heap               # ptr was malloc'ed here and is freed here
    cdef double small[8]         # INLINE_BYTES of 8-byte aligned inline data


cdef class Tensor


cdef class Node:
    cdef tuple next_edges        # one per input: its Node, or None when it needs no grad
    cdef tuple next_nrs          # output_nr of each input, or None when all are 0
    cdef long long seq           # creation order; the engine runs nodes newest first
    cdef int num_outputs
    cdef bint saved_freed        # saved values released after a backward
    cdef list pre_hooks          # user hooks on the gradients arriving at this node
    cdef list post_hooks         # user hooks on (grad_inputs, grad_outputs)
    cdef dict _metadata
    cdef dict _packed            # saved-tensor hooks' packed objects (saved_hooks.pxi), else None
    cdef object fw_out           # forward AD: output 0's tangent, given back with a saved output
    cdef object __weakref__

    # IN: the gradient of each output (a Tensor when num_outputs == 1, else a
    # list with None for outputs that got none). OUT: a tuple with one
    # gradient (or None) per input. Grad mode is on iff create_graph.
    cdef tuple apply(self, object grads)
    cdef void release_saved(self) noexcept
    # Forward AD (forward_ad.pxi): the tangent of output `nr` from the op's
    # inputs and their tangents (None where an input has none); the base
    # class derives it from apply() (the transpose of the VJP), table
    # nodes render their JVP column here.
    cdef object fw_jvp(self, tuple inputs, tuple tangents, Tensor out, int nr)


cdef enum:
    # PyTorch's CreationMeta of a view, checked before it is changed in place
    CM_DEFAULT = 0
    CM_NO_GRAD = 1          # made while grad mode was off
    CM_MULTI_OUTPUT = 2     # one of several views one op returned (unbind, split, chunk)


cdef class Tensor:
    cdef Storage _storage
    cdef char* _data              # storage.ptr + offset * itemsize
    cdef Py_ssize_t _offset       # in elements
    cdef Py_ssize_t _numel
    cdef Py_ssize_t* _shape       # points into _dims, or to a malloc'ed block
    cdef Py_ssize_t* _strides     # in elements, like PyTorch's
    cdef Py_ssize_t _dims[2 * INLINE_DIMS]
    cdef int _ndim
    cdef int _dtype
    cdef bint _contiguous         # C-contiguous (kernels' fast path)
    cdef bint _requires_grad      # True on leaves that asked for it and on every result with a grad_fn
    cdef bint _retains_grad
    cdef bint _is_inference
    cdef int _output_nr
    cdef long long _view_version  # storage version when a view's grad_fn was set
    cdef signed char _creation_meta  # how a view was made (CM_* in inplace.pxi, PyTorch's CreationMeta)
    cdef Node _grad_fn
    cdef Tensor _grad
    cdef Tensor _base             # the tensor this one is a view of
    cdef object _accumulator      # weak reference to this leaf's AccumulateGrad node
    cdef list _hooks              # user hooks on this tensor's gradient
    cdef object _fw_grad          # forward AD: the tangent at the current dual level, else None
    cdef dict __dict__
    cdef object __weakref__
