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
    cdef signed char _creation_meta  # how a view was made (CM_* above, PyTorch's CreationMeta)
    cdef Node _grad_fn
    cdef Tensor _grad
    cdef Tensor _base             # the tensor this one is a view of
    cdef object _accumulator      # weak reference to this leaf's AccumulateGrad node
    cdef list _hooks              # user hooks on this tensor's gradient
    cdef object _fw_grad          # forward AD: the tangent at the current dual level, else None
    cdef dict __dict__
    cdef object __weakref__


# ---------------------------------------------------------------------------
# The interface other extension modules of cgrad cimport (the op table's
# module, cgrad._table_ops): types and constants here, once, and the cdef
# functions they call. A function declared here is exported as a C function
# pointer (Cython's __pyx_capi__); _C itself still calls (and inlines) it
# directly, so what is hot in _C costs nothing more. Each declaration must
# match its definition in the .pxi file named beside it.

# The dtype codes, RowFn and MAX_OPERANDS: row_types.pxd (shared with
# cgrad._kernels, which does not import _C).
from cgrad.row_types cimport *

cdef enum:
    # comparison kinds of op_compare (ops_compare.pxi)
    CMP_LT = 0
    CMP_LE = 1
    CMP_GT = 2
    CMP_GE = 3
    CMP_EQ = 4
    CMP_NE = 5

cdef enum:
    # logical and bitwise kinds of op_logical / op_bitwise (ops_logical.pxi)
    LG_AND = 0
    LG_OR = 1
    LG_XOR = 2
    BW_AND = 0
    BW_OR = 1
    BW_XOR = 2
    BW_LSHIFT = 3
    BW_RSHIFT = 4

cdef struct Operand:
    char* data
    int ndim
    int itemsize
    bint contiguous
    Py_ssize_t numel
    const Py_ssize_t* shape
    const Py_ssize_t* strides

# ops_pointwise.pxi: what a binary op's node keeps of each input
cdef struct InputMeta:
    int dtype
    bint broadcast      # the input's shape differs from the output's


cdef class BinaryNode(Node):
    cdef InputMeta ma, mb
    cdef tuple shape_a, shape_b
    cdef void note_inputs(self, Tensor a, Tensor b, Tensor out) except *
    cdef Tensor grad_a(self, Tensor g)
    cdef Tensor grad_b(self, Tensor g)


cdef class NotImplementedBackward(Node):      # ops_rounding.pxi
    cdef str aten_name
    cdef str message    # set where PyTorch raises NotImplementedError with its own text


# table_support.pxi: an out-of-place binary table op, for binary_inplace
ctypedef Tensor (*TableBinaryOp)(Tensor a, Tensor b, int scalar_operand)

# common.pxi
cdef int DEFAULT_FLOAT
cdef bint grad_mode_enabled() noexcept nogil
cdef str dtype_title(int dt)
cdef bint is_float(int code) noexcept nogil
# forward_ad.pxi
cdef bint cgrad_fwd_active
cdef void fw_write_inplace(Tensor x, Tensor tan) except *
# tensor_core.pxi
cdef Tensor new_tensor(int ndim, const Py_ssize_t* shape, int dt, bint zeroed=*)
cdef Tensor new_result_like_inputs(int nd, const Py_ssize_t* shape, int dt, Tensor a, Tensor b, Tensor c=*, bint with_scalar=*)
cdef bint same_shape(Tensor a, Tensor b) noexcept
cdef tuple shape_tuple(Tensor t)
# node.pxi
cdef object saved_attr(Node n, Tensor saved, bint never_saved)
cdef bint needs_grad(Tensor a) except -1
cdef bint needs_grad2(Tensor a, Tensor b) except -1
cdef long long save_version(Node node, Tensor t) except? -1
cdef int set_history(Tensor out, Node n, int output_nr=*) except -1
cdef Tensor unpack_input(Node node, Tensor saved, long long version)
cdef Tensor unpack_output(Node node, Tensor saved, long long version)
cdef bint wants_grad(Node n, int i) noexcept
cdef int wire1(Node n, Tensor a) except -1
cdef int wire2(Node n, Tensor a, Tensor b) except -1
# saved_hooks.pxi
cdef int pause_saved_hooks() noexcept
cdef void resume_saved_hooks(int was) noexcept
cdef Tensor save_output(Node node, Tensor out)
# kernels_iter.pxi, pointwise_kernels.pxi
cdef int run_elementwise(RowFn fn, int nops, Operand* ops, int ndim, const Py_ssize_t* shape,
                         Py_ssize_t numel, void* ctx) except -1
cdef Operand operand_of(Tensor t) noexcept
# half_blocks and the pointwise row tables: cgrad._kernels (_kernels.pxd)
from cgrad._kernels cimport *
# ops_pointwise.pxi
cdef Tensor binary_kernel(RowFn* rows, Tensor a, Tensor b, int compute_dt, int out_dt, str opname)
cdef Tensor cast_tensor(Tensor x, int dt)
cdef int check_scalar_convert(object s, int dt, str name=*) except -1
cdef int copy_into(Tensor dst, Tensor src) except -1
cdef bint is_scalar(object s)
cdef object normalize_scalar(object s)
cdef Tensor op_add(Tensor a, Tensor b, object alpha=*)
cdef Tensor op_add_scalar(Tensor a, object s, object alpha=*)
cdef Tensor op_div(Tensor a, Tensor b)
cdef Tensor op_div_scalar(Tensor a, object s)
cdef Tensor op_logical_and(Tensor a, Tensor b)
cdef Tensor op_mul(Tensor a, Tensor b)
cdef Tensor op_mul_scalar(Tensor a, object s)
cdef Tensor op_pow_scalar(Tensor a, object e)
cdef Tensor op_rsub_scalar(Tensor a, object s, object alpha=*)
cdef Tensor op_sub(Tensor a, Tensor b, object alpha=*)
cdef Tensor op_sub_scalar(Tensor a, object s, object alpha=*)
cdef int scalar_result_type(int dt, object s) except -1
cdef Tensor scalar_tensor(object s, int dt)
cdef int tensor_result_type(Tensor a, Tensor b) noexcept
# ops_unary.pxi (rendered)
cdef Tensor op_abs(Tensor x)
cdef Tensor op_cos(Tensor x)
cdef Tensor op_exp(Tensor x)
cdef Tensor op_log(Tensor x)
cdef Tensor op_log1p(Tensor x)
cdef Tensor op_neg(Tensor x)
cdef Tensor op_rsqrt(Tensor x)
cdef Tensor op_sigmoid(Tensor x)
cdef Tensor op_sin(Tensor x)
cdef Tensor op_tanh(Tensor x)
# ops_compare.pxi, ops_logical.pxi, ops_where.pxi, creation.pxi
cdef Tensor op_compare(int op, Tensor a, object b)
cdef str py_typename(object o)
cdef Tensor op_logical(int op, Tensor a, Tensor b)
cdef Tensor op_where(Tensor cond, object a, object b)
cdef Tensor op_zeros_like(Tensor x)
# out_arg.pxi, functions.pxi
cdef bint can_cast_code(int src, int dst) noexcept
cdef int check_out(object out, str fname, object a, object b=*) except -1
cdef object with_out(object result, object out, str fname)
cdef Tensor write_out(Tensor result, object out, bint warn_resize=*)
cdef Tensor input_arg(object x, str fname)
# inplace_checks.pxi, inplace_history.pxi
cdef int check_inplace(Tensor self) except -1
cdef int check_written_overlap(Tensor self) except -1
cdef Tensor commit_inplace(Tensor self, Tensor result)
cdef Tensor old_value(Tensor self, bint private_copy)
# table_support.pxi, table_checks_nn.pxi: what the op table's rows call
cdef int run_unary_ctx(RowFn fn, Tensor out, Tensor x, void* ctx) except -1
cdef Tensor table_backward(RowFn* rows, Tensor g, Tensor a, Tensor b, void* ctx)
cdef Tensor binary_table_backward(RowFn* rows, Tensor g, Tensor y, Tensor t1, Tensor t2, Tensor t3)
cdef Tensor scalar_like(object s, Tensor like)
cdef int check_shrink_lambda(Tensor x, double lambd) except -1
cdef int check_params_fit(Tensor x, double a, double b) except -1
cdef int check_polygamma_n(double n) except -1
cdef int op_result_dtype(Tensor x) noexcept
cdef int check_out_dtype(object out, int dt) except -1
cdef tuple binary_operands(object input, object other, str fname, bint scalar_self, bint scalar_other,
                           bint float_math=*)
cdef Tensor binary_inplace(TableBinaryOp op, Tensor x, Tensor b, int which)
cdef void install_tensor_methods(dict methods) except *
cdef Tensor op_logical_or(Tensor a, Tensor b)
cdef int check_celu_alpha(double alpha) except -1
cdef int check_inplace_elu_alpha(double alpha) except -1
cdef int check_out_same_dtype(object out, Tensor a, str fname) except -1
cdef double float_max_of(object x)
cdef void name_node_type(type cls, str name) except *
cdef double float32_round(double v)
