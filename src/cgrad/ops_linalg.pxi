# Linear algebra: mm, mv, dot and matmul. Large products go to BLAS through
# numpy's matmul on views of our buffers: a transposed operand is passed as
# a transposed (Fortran-ordered) view, which numpy hands to gemm as a
# transpose flag, so no transpose is ever materialised. Tiny products, where
# numpy's call overhead would dominate, use a typed triple loop.

cdef object _np_matmul = np.matmul

cdef enum:
    SMALL_MM_FLOPS = 4096    # m*k*n at or below this runs the typed loop


cdef void mm_small_impl(real_t* o, const real_t* a, const real_t* b,
                        Py_ssize_t m, Py_ssize_t k, Py_ssize_t n,
                        Py_ssize_t sa0, Py_ssize_t sa1, Py_ssize_t sb0, Py_ssize_t sb1) noexcept nogil:
    # OUT o (m x n, contiguous); IN a (m x k), b (k x n), any strides
    cdef Py_ssize_t i, j, p
    cdef real_t av
    for i in range(m * n):
        o[i] = 0
    for i in range(m):
        for p in range(k):
            av = a[i * sa0 + p * sa1]
            for j in range(n):
                o[i * n + j] += av * b[p * sb0 + j * sb1]


cdef int mm_into(Tensor out, Tensor a, Tensor b) except -1:
    """out = a @ b for 2-D tensors of one dtype (out contiguous m x n)."""
    cdef Py_ssize_t m = a._shape[0], k = a._shape[1], n = b._shape[1]
    if out._numel == 0:
        return 0
    if k == 0:
        fill_scalar(out, 0)
        return 0
    if m * k * n <= SMALL_MM_FLOPS and is_float(a._dtype):
        if a._dtype == F32:
            mm_small_impl(<float*>out._data, <float*>a._data, <float*>b._data, m, k, n,
                          a._strides[0], a._strides[1], b._strides[0], b._strides[1])
        else:
            mm_small_impl(<double*>out._data, <double*>a._data, <double*>b._data, m, k, n,
                          a._strides[0], a._strides[1], b._strides[0], b._strides[1])
        return 0
    _np_matmul(ndarray_view(a), ndarray_view(b), out=ndarray_view(out))
    return 0


cdef dict C_TYPE_NAME = {F32: "float", F64: "double", I64: "long int", BOOL: "bool"}


cdef int check_same_dtype(Tensor a, Tensor b, str n1, str n2) except -1:
    if a._dtype != b._dtype:
        raise RuntimeError(
            f"expected {n1} and {n2} to have the same dtype, but got: "
            f"{C_TYPE_NAME[a._dtype]} != {C_TYPE_NAME[b._dtype]}")
    return 0


cdef class MmBackward0(Node):
    cdef Tensor self_, mat2
    cdef long long self_version, mat2_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = op_mm(g, op_t(unpack_input(self, self.mat2, self.mat2_version)))
        if wants_grad(self, 1):
            gb = op_mm(op_t(unpack_input(self, self.self_, self.self_version)), g)
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.mat2 = None


cdef Tensor op_mm(Tensor a, Tensor b):
    cdef Py_ssize_t shape[2]
    cdef Tensor out
    cdef MmBackward0 node
    if a._ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
            f"{b._shape[0]}x{b._shape[1]})")
    check_same_dtype(a, b, "m1", "m2")
    shape[0] = a._shape[0]
    shape[1] = b._shape[1]
    out = new_tensor(2, shape, a._dtype)
    mm_into(out, a, b)
    if needs_grad2(a, b):
        node = MmBackward0.__new__(MmBackward0)
        wire2(node, a, b)
        if b._requires_grad:
            node.self_ = a
            node.self_version = a._storage.version
        if a._requires_grad:
            node.mat2 = b
            node.mat2_version = b._storage.version
        set_history(out, node)
    return out


cdef class MvBackward0(Node):
    cdef Tensor self_, vec
    cdef long long self_version, vec_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            # outer product g vec^T
            ga = op_mm(op_unsqueeze(g, 1), op_unsqueeze(unpack_input(self, self.vec, self.vec_version), 0))
        if wants_grad(self, 1):
            gb = op_mv(op_t(unpack_input(self, self.self_, self.self_version)), g)
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.vec = None


cdef Tensor op_mv(Tensor a, Tensor v):
    cdef Py_ssize_t shape[2]
    cdef Py_ssize_t col_shape[2]
    cdef Py_ssize_t col_strides[2]
    cdef Tensor out, col
    cdef MvBackward0 node
    if a._ndim != 2 or v._ndim != 1:
        raise RuntimeError(
            f"vector + matrix @ vector expected, got {v._ndim}, {a._ndim}, {v._ndim}")
    if a._shape[1] != v._shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), "
            f"vec ({v._shape[0]})")
    check_same_dtype(a, v, "m1", "m2")
    shape[0] = a._shape[0]
    shape[1] = 1
    out = new_tensor(2, shape, a._dtype)
    col_shape[0] = v._shape[0]
    col_shape[1] = 1
    col_strides[0] = v._strides[0]
    col_strides[1] = 1
    col = make_view(v, 2, col_shape, col_strides, v._offset)
    mm_into(out, a, col)
    init_dims_reshape(out, 1, shape)
    if needs_grad2(a, v):
        node = MvBackward0.__new__(MvBackward0)
        wire2(node, a, v)
        if v._requires_grad:
            node.self_ = a
            node.self_version = a._storage.version
        if a._requires_grad:
            node.vec = v
            node.vec_version = v._storage.version
        set_history(out, node)
    return out


cdef class DotBackward0(Node):
    cdef Tensor self_, tensor
    cdef long long self_version, tensor_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = op_mul(g, unpack_input(self, self.tensor, self.tensor_version))
        if wants_grad(self, 1):
            gb = op_mul(g, unpack_input(self, self.self_, self.self_version))
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.tensor = None


cdef Tensor op_dot(Tensor a, Tensor b):
    cdef Py_ssize_t row_shape[2]
    cdef Py_ssize_t row_strides[2]
    cdef Py_ssize_t col_shape[2]
    cdef Py_ssize_t col_strides[2]
    cdef Tensor out, row, col
    cdef DotBackward0 node
    if a._ndim != 1 or b._ndim != 1:
        raise RuntimeError(
            f"1D tensors expected, but got {a._ndim}D and {b._ndim}D tensors")
    if a._shape[0] != b._shape[0]:
        raise RuntimeError(
            "inconsistent tensor size, expected tensor [{0}] and src [{1}] to have the same number "
            "of elements, but got {0} and {1} elements respectively".format(a._shape[0], b._shape[0]))
    if a._dtype != b._dtype:
        raise RuntimeError(
            "dot : expected both vectors to have same dtype, but found "
            f"{dtype_title(a._dtype)} and {dtype_title(b._dtype)}")
    row_shape[0] = 1
    row_shape[1] = a._shape[0]
    row_strides[0] = a._shape[0] * a._strides[0]
    row_strides[1] = a._strides[0]
    col_shape[0] = b._shape[0]
    col_shape[1] = 1
    col_strides[0] = b._strides[0]
    col_strides[1] = 1
    row = make_view(a, 2, row_shape, row_strides, a._offset)
    col = make_view(b, 2, col_shape, col_strides, b._offset)
    col_shape[0] = 1   # now the 1 x 1 shape of the product
    out = new_tensor(2, col_shape, a._dtype)
    col_shape[0] = b._shape[0]
    mm_into(out, row, col)
    init_dims_reshape(out, 0, NULL)
    if needs_grad2(a, b):
        node = DotBackward0.__new__(DotBackward0)
        wire2(node, a, b)
        if b._requires_grad:
            node.self_ = a
            node.self_version = a._storage.version
        if a._requires_grad:
            node.tensor = b
            node.tensor_version = b._storage.version
        set_history(out, node)
    return out


cdef Tensor op_matmul(Tensor a, Tensor b):
    """PyTorch's matmul, composed the way PyTorch composes it (so results
    carry the same grad_fn): dot, mv, mm, unsqueeze-mm-squeeze for 1-D @
    2-D, and folding the batch dims of a >= 3-D left operand into mm."""
    cdef int da = a._ndim, db = b._ndim
    cdef tuple out_shape
    cdef Tensor folded, result
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return op_dot(a, b)
    if da == 2 and db == 1:
        return op_mv(a, b)
    if da == 1 and db == 2:
        return op_squeeze_dim(op_mm(op_unsqueeze(a, 0), b), 0, True)
    if da == 2 and db == 2:
        return op_mm(a, b)
    if da >= 3 and db <= 2:
        out_shape = shape_tuple(a)[:-1] + ((b._shape[1],) if db == 2 else ())
        folded = op_reshape(a, (-1, a._shape[da - 1]))
        result = op_mm(folded, b if db == 2 else op_unsqueeze(b, 1))
        return op_unsafe_view(result, out_shape)
    return op_batched_matmul(a, b)


cdef Tensor op_unsafe_view(Tensor x, tuple shape):
    """A view of a fresh result under a new shape, recorded as PyTorch's
    _unsafe_view (UnsafeViewBackward0)."""
    cdef Tensor out = view_as_shape(x, shape, True)
    cdef UnsafeViewBackward0 node
    out._base = None
    if needs_grad(x):
        node = UnsafeViewBackward0.__new__(UnsafeViewBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        set_history(out, node)
    return out


cdef Tensor op_batched_matmul(Tensor a, Tensor b):
    raise RuntimeError("batched matmul with a batched right operand is not supported yet")
