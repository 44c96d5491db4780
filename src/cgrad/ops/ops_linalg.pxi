# Linear algebra: mm, mv, dot, bmm and matmul. Large products go to BLAS
# through numpy's matmul on views of our buffers: a transposed operand is
# passed as a transposed (Fortran-ordered) view, which numpy hands to gemm
# as a transpose flag, so no transpose is ever materialised; batched operands
# go as 3-D views (numpy loops over the batch and calls gemm per matrix, any
# batch stride, 0 included). An operand whose matrices are not BLAS-shaped
# (e.g. an inner dim of stride 0) is copied first, so numpy never falls back
# to its naive loop on a large product. Tiny products, where numpy's call
# overhead would dominate, use a typed triple loop (per matrix of a batch).

cdef object _np_matmul = np.matmul


cdef inline Tensor autocast_lower(Tensor t):
    """An operand of the matmul family (PyTorch's CPU autocast
    lower_precision_fp list) inside an enabled CPU autocast: a float tensor
    other than float64 cast to the autocast dtype (ToCopyBackward0, as
    PyTorch's cached_cast); others as they are."""
    if autocast_cpu_dtype < 0 or t is None or not is_float(t._dtype) or t._dtype == F64 \
            or t._dtype == autocast_cpu_dtype:
        return t
    return op_to_dtype(t, autocast_cpu_dtype)


def _autocast_args(int policy, *tensors):
    """The tensors of an op on PyTorch's CPU autocast lists, as the op sees
    them inside an enabled CPU autocast: policy 0 (lower_precision_fp:
    conv, addmm, baddbmm, scaled_dot_product_attention, ...) casts float
    tensors to the autocast dtype, policy 1 (fp32: the losses, ...) casts
    float16 and bfloat16 tensors to float32; float64, integers and
    non-tensors pass. Outside autocast the tensors as given."""
    if autocast_cpu_dtype < 0:
        return tensors
    if policy == 0:
        return tuple([autocast_lower(<Tensor>t) if isinstance(t, Tensor) else t for t in tensors])
    return tuple([op_to_dtype(<Tensor>t, F32) if isinstance(t, Tensor) and is_half16((<Tensor>t)._dtype) else t
                  for t in tensors])

cdef enum:
    SMALL_MM_FLOPS = 4096    # m*k*n at or below this runs the typed loop
    MM_NOGIL_FLOPS = 65536   # typed loops this large release the GIL

ctypedef fused mm_t:
    float
    double
    int64_t


cdef void mm_small_impl(mm_t* o, const mm_t* a, const mm_t* b,
                        Py_ssize_t m, Py_ssize_t k, Py_ssize_t n,
                        Py_ssize_t sa0, Py_ssize_t sa1, Py_ssize_t sb0, Py_ssize_t sb1) noexcept nogil:
    # OUT o (m x n, contiguous); IN a (m x k), b (k x n), any strides
    cdef Py_ssize_t i, j, p
    cdef mm_t av
    for i in range(m * n):
        o[i] = 0
    for i in range(m):
        for p in range(k):
            av = a[i * sa0 + p * sa1]
            for j in range(n):
                o[i * n + j] += av * b[p * sb0 + j * sb1]


cdef void mm_outer_impl(mm_t* o, const mm_t* a, const mm_t* b, Py_ssize_t m, Py_ssize_t n,
                        Py_ssize_t sa0, Py_ssize_t sb1) noexcept nogil:
    # OUT o (m x n, contiguous) = a (m x 1) @ b (1 x n): each product as it
    # is, as PyTorch's mm gives it (-0.0 kept; an accumulator started at
    # +0.0 would turn it into +0.0)
    cdef Py_ssize_t i, j
    cdef mm_t av
    for i in range(m):
        av = a[i * sa0]
        for j in range(n):
            o[i * n + j] = av * b[j * sb1]


cdef void bmm_small_impl(mm_t* o, const mm_t* a, const mm_t* b, Py_ssize_t batch,
                         Py_ssize_t m, Py_ssize_t k, Py_ssize_t n,
                         Py_ssize_t sab, Py_ssize_t sa0, Py_ssize_t sa1,
                         Py_ssize_t sbb, Py_ssize_t sb0, Py_ssize_t sb1) noexcept nogil:
    # OUT o (batch x m x n, contiguous); IN a (batch x m x k), b (batch x k x n)
    cdef Py_ssize_t q
    for q in range(batch):
        mm_small_impl(o + q * m * n, a + q * sab, b + q * sbb, m, k, n, sa0, sa1, sb0, sb1)


cdef int small_products(Tensor out, Tensor a, Tensor b, Py_ssize_t batch, Py_ssize_t m, Py_ssize_t k,
                        Py_ssize_t n, Py_ssize_t sab, Py_ssize_t sa0, Py_ssize_t sa1,
                        Py_ssize_t sbb, Py_ssize_t sb0, Py_ssize_t sb1) except -1:
    cdef bint release = batch * m * k * n > MM_NOGIL_FLOPS
    cdef int dt = a._dtype
    if dt == F32:
        if release:
            with nogil:
                bmm_small_impl(<float*>out._data, <float*>a._data, <float*>b._data, batch, m, k, n,
                               sab, sa0, sa1, sbb, sb0, sb1)
        else:
            bmm_small_impl(<float*>out._data, <float*>a._data, <float*>b._data, batch, m, k, n,
                           sab, sa0, sa1, sbb, sb0, sb1)
    elif dt == F64:
        if release:
            with nogil:
                bmm_small_impl(<double*>out._data, <double*>a._data, <double*>b._data, batch, m, k, n,
                               sab, sa0, sa1, sbb, sb0, sb1)
        else:
            bmm_small_impl(<double*>out._data, <double*>a._data, <double*>b._data, batch, m, k, n,
                           sab, sa0, sa1, sbb, sb0, sb1)
    else:
        if release:
            with nogil:
                bmm_small_impl(<int64_t*>out._data, <int64_t*>a._data, <int64_t*>b._data, batch, m, k, n,
                               sab, sa0, sa1, sbb, sb0, sb1)
        else:
            bmm_small_impl(<int64_t*>out._data, <int64_t*>a._data, <int64_t*>b._data, batch, m, k, n,
                           sab, sa0, sa1, sbb, sb0, sb1)
    return 0


cdef inline bint blas_shaped(Tensor t) noexcept:
    """Whether the matrices of t (its last two dims) can go to gemm as they
    are: one unit stride and the other at least the row length (numpy's
    is_blasable2d, either order). Vectors always can (gemv/dot cost)."""
    cdef Py_ssize_t r = t._shape[t._ndim - 2], c = t._shape[t._ndim - 1]
    cdef Py_ssize_t s0 = t._strides[t._ndim - 2], s1 = t._strides[t._ndim - 1]
    if r <= 1 or c <= 1:
        return True
    return (s1 == 1 and s0 >= c) or (s0 == 1 and s1 >= r)


cdef int matmul_into(Tensor out, Tensor a, Tensor b) except -1:
    """out = a @ b for 2-D or 3-D (batched) operands of one dtype (F32, F64
    or I64); out contiguous of the product's shape."""
    cdef int nd = a._ndim
    cdef Py_ssize_t batch = a._shape[0] if nd == 3 else 1
    cdef Py_ssize_t m = a._shape[nd - 2], k = a._shape[nd - 1], n = b._shape[nd - 1]
    cdef Tensor wide
    if out._numel == 0:
        return 0
    if is_half16(a._dtype) or (is_int(a._dtype) and a._dtype != I64):
        # float16 / bfloat16 products accumulate in float32 and round once,
        # as PyTorch's CPU gemm for Half and BFloat16; the narrow integer
        # types in int64, which gives their wrapped-around results exactly
        # (arithmetic modulo 2^bits)
        wide = new_tensor(out._ndim, out._shape, F32 if is_half16(a._dtype) else I64)
        matmul_into(wide, cast_tensor(a, wide._dtype), cast_tensor(b, wide._dtype))
        copy_into(out, wide)
        return 0
    if k == 0:
        fill_scalar(out, 0)
        return 0
    if m * k * n <= SMALL_MM_FLOPS or a._dtype == I64:
        small_products(out, a, b, batch, m, k, n,
                       a._strides[0] if nd == 3 else 0, a._strides[nd - 2], a._strides[nd - 1],
                       b._strides[0] if nd == 3 else 0, b._strides[nd - 2], b._strides[nd - 1])
        return 0
    if not blas_shaped(a):
        a = contiguous_copy(a)
    if not blas_shaped(b):
        b = contiguous_copy(b)
    blas_matmul(a, b, out)
    return 0


# (BLAS threads: kernels/blas_threads.pxi)


cdef int blas_matmul(Tensor a, Tensor b, Tensor out) except -1:
    """OUT out = a @ b through numpy's matmul (its BLAS) on the buffers, with
    cgrad's thread count."""
    cdef int previous
    if pool_matmul_tensors(a, b, out):
        return 0
    if pool_matmul(ndarray_view(a), ndarray_view(b), ndarray_view(out)):
        return 0
    if not _blas_probed:
        probe_blas_threads()
    if _blas_set_threads_local == NULL:
        _np_matmul(ndarray_view(a), ndarray_view(b), out=ndarray_view(out))
        return 0
    previous = _blas_set_threads_local(_num_threads)
    try:
        _np_matmul(ndarray_view(a), ndarray_view(b), out=ndarray_view(out))
    finally:
        _blas_set_threads_local(previous)
    return 0


cdef int mm_into(Tensor out, Tensor a, Tensor b) except -1:
    """out = a @ b for 2-D tensors of one dtype (out contiguous m x n)."""
    if (a._shape[1] == 1 and a._shape[0] > 1 and b._shape[1] > 1
            and (a._dtype == F32 or a._dtype == F64)):
        # an inner size of one: PyTorch's mm gives each product as it is,
        # a -0.0 included, unless the result is a single row or column
        # (its gemv path accumulates from +0.0, as do its mv, dot and bmm,
        # and matmul_into)
        with nogil:
            if a._dtype == F32:
                mm_outer_impl(<float*>out._data, <float*>a._data, <float*>b._data, a._shape[0],
                              b._shape[1], a._strides[0], b._strides[1])
            else:
                mm_outer_impl(<double*>out._data, <double*>a._data, <double*>b._data, a._shape[0],
                              b._shape[1], a._strides[0], b._strides[1])
        return 0
    return matmul_into(out, a, b)


cdef tuple C_TYPE_NAME = CPP_TYPE_NAMES


cdef int check_same_dtype(Tensor a, Tensor b, str n1, str n2) except -1:
    if a._dtype != b._dtype:
        raise RuntimeError(
            f"expected {n1} and {n2} to have the same dtype, but got: "
            f"{C_TYPE_NAME[a._dtype]} != {C_TYPE_NAME[b._dtype]}")
    return 0


cdef int check_not_bool(Tensor a, str kernel) except -1:
    if a._dtype == BOOL:
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    return 0


cdef Tensor tensor_param(object x, str fname, str argname, int pos):
    """A Tensor argument of a cgrad.* function (PyTorch's TypeError text)."""
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be Tensor, not {py_typename(x)}")


# ---------------------------------------------------------------------------
# mm / mv / dot


cdef class MmBackward0(Node):
    cdef readonly Tensor self_, mat2
    cdef long long self_version, mat2_version
    cdef bint mat2_column_major     # see linear_gemm.pxi's mat2_gradient

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = op_mm(g, op_t(unpack_input(self, self.mat2, self.mat2_version)))
        if wants_grad(self, 1):
            gb = mat2_gradient(g, unpack_input(self, self.self_, self.self_version), self.mat2_column_major)
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.mat2 = None


cdef Tensor op_mm(Tensor a, Tensor b):
    cdef Py_ssize_t shape[2]
    cdef Tensor out
    cdef MmBackward0 node
    a = autocast_lower(a)
    b = autocast_lower(b)
    if a._ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b._ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a._shape[1] != b._shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a._shape[0]}x{a._shape[1]} and "
            f"{b._shape[0]}x{b._shape[1]})")
    check_same_dtype(a, b, "m1", "m2")
    check_not_bool(a, "addmm_impl_cpu_")
    shape[0] = a._shape[0]
    shape[1] = b._shape[1]
    out = new_tensor(2, shape, a._dtype)
    mm_into(out, a, b)
    if needs_grad2(a, b):
        node = MmBackward0.__new__(MmBackward0)
        wire2(node, a, b)
        if b._requires_grad or has_tangent(b):
            node.self_ = a
            node.self_version = save_version(node, a)
            node.mat2_column_major = column_major(b)
        if a._requires_grad or has_tangent(a):
            node.mat2 = b
            node.mat2_version = save_version(node, b)
        set_history(out, node)
    return out


cdef class MvBackward0(Node):
    cdef readonly Tensor self_, vec
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
    if a._ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if a._ndim != 2 or v._ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {a._ndim}, {v._ndim}")
    if a._shape[1] != v._shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({a._shape[0]}), mat ({a._shape[0]}x{a._shape[1]}), "
            f"vec ({v._shape[0]})")
    if a._dtype != v._dtype:
        raise RuntimeError(
            "addmv input tensors must have the same dtype, but got "
            f"{dtype_title(v._dtype)}, {dtype_title(a._dtype)}, and {dtype_title(v._dtype)}")
    check_not_bool(a, "addmv_impl_cpu")
    shape[0] = a._shape[0]
    shape[1] = 1
    out = new_tensor(2, shape, a._dtype)
    col_shape[0] = v._shape[0]
    col_shape[1] = 1
    col_strides[0] = v._strides[0]
    col_strides[1] = 1
    col = make_view(v, 2, col_shape, col_strides, v._offset)
    matmul_into(out, a, col)
    init_dims_reshape(out, 1, shape)
    if needs_grad2(a, v):
        node = MvBackward0.__new__(MvBackward0)
        wire2(node, a, v)
        if v._requires_grad or has_tangent(v):
            node.self_ = a
            node.self_version = save_version(node, a)
        if a._requires_grad or has_tangent(a):
            node.vec = v
            node.vec_version = save_version(node, v)
        set_history(out, node)
    return out


cdef class DotBackward0(Node):
    cdef readonly Tensor self_, tensor
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
    check_not_bool(a, "dot")
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
    matmul_into(out, row, col)
    init_dims_reshape(out, 0, NULL)
    if needs_grad2(a, b):
        node = DotBackward0.__new__(DotBackward0)
        wire2(node, a, b)
        if b._requires_grad or has_tangent(b):
            node.self_ = a
            node.self_version = save_version(node, a)
        if a._requires_grad or has_tangent(a):
            node.tensor = b
            node.tensor_version = save_version(node, b)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# bmm


cdef class BmmBackward0(Node):
    cdef readonly Tensor self_, mat2
    cdef long long self_version, mat2_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gb = None
        if wants_grad(self, 0):
            ga = op_bmm(g, op_transpose(unpack_input(self, self.mat2, self.mat2_version), 1, 2))
        if wants_grad(self, 1):
            gb = op_bmm(op_transpose(unpack_input(self, self.self_, self.self_version), 1, 2), g)
        return (ga, gb)

    cdef void release_saved(self) noexcept:
        self.self_ = None
        self.mat2 = None


cdef Tensor op_bmm(Tensor a, Tensor b):
    cdef Py_ssize_t shape[3]
    cdef Tensor out
    cdef BmmBackward0 node
    a = autocast_lower(a)
    b = autocast_lower(b)
    if a._ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b._ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b._shape[0] != a._shape[0] or b._shape[1] != a._shape[2]:
        raise RuntimeError(
            f"Expected size for first two dimensions of batch2 tensor to be: [{a._shape[0]}, "
            f"{a._shape[2]}] but got: [{b._shape[0]}, {b._shape[1]}].")
    check_not_bool(a, "bmm")
    if a._dtype != b._dtype:
        raise RuntimeError(
            f"expected scalar type {dtype_title(a._dtype)} but found {dtype_title(b._dtype)}")
    shape[0] = a._shape[0]
    shape[1] = a._shape[1]
    shape[2] = b._shape[2]
    out = new_tensor(3, shape, a._dtype)
    matmul_into(out, a, b)
    if needs_grad2(a, b):
        node = BmmBackward0.__new__(BmmBackward0)
        wire2(node, a, b)
        if b._requires_grad or has_tangent(b):
            node.self_ = a
            node.self_version = save_version(node, a)
        if a._requires_grad or has_tangent(a):
            node.mat2 = b
            node.mat2_version = save_version(node, b)
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# matmul: composed exactly as PyTorch's _matmul_impl composes it, so results
# carry the same grad_fn chains (which depend on requires_grad, as there).


cdef bint should_fold(Tensor a, Tensor b) noexcept:
    """PyTorch's should_fold: fold the batch dims of the larger operand into
    an mm/mv when that needs no copy, or when the smaller one requires grad
    (the gradient then is one mm, not a sum over a broadcast bmm)."""
    cdef bint a_larger = a._ndim >= b._ndim
    cdef Tensor t1 = a if a_larger else b
    cdef int dim_t1 = t1._ndim
    cdef int dim_t2 = b._ndim if a_larger else a._ndim
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i
    if not (dim_t1 >= 3 and dim_t2 <= 2):
        return False
    if (b._requires_grad if a_larger else a._requires_grad):
        return True
    if a._ndim == 2:
        return False
    if t1._numel == 0:
        return True
    for i in range(dim_t1):
        shape[i] = t1._shape[i]
        strides[i] = t1._strides[i]
    if not a_larger:   # t1 is b.mT
        shape[dim_t1 - 2], shape[dim_t1 - 1] = shape[dim_t1 - 1], shape[dim_t1 - 2]
        strides[dim_t1 - 2], strides[dim_t1 - 1] = strides[dim_t1 - 1], strides[dim_t1 - 2]
    for i in range(dim_t1 - 2):
        if strides[i] != strides[i + 1] * shape[i + 1]:
            return False
    return True


cdef Tensor op_matmul(Tensor a, Tensor b):
    cdef int da = a._ndim, db = b._ndim
    cdef bint transpose, t2_is_matrix
    cdef Tensor t1, t2, folded, output
    cdef tuple sizes_1, output_shape
    cdef Py_ssize_t folded_dim1 = 1
    a = autocast_lower(a)
    b = autocast_lower(b)
    if da == 0 or db == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return op_dot(a, b)
    if da == 2 and db == 1:
        return op_mv(a, b)
    if da == 1 and db == 2:
        # PyTorch squeezes the mm result in place (squeeze_): not a view
        output = op_squeeze_dim(op_mm(op_unsqueeze(a, 0), b), 0, True)
        output._base = None
        return output
    if da == 2 and db == 2:
        return op_mm(a, b)
    if should_fold(a, b):
        transpose = db > da
        t1 = op_transpose(b, -2, -1) if transpose else a
        t2 = (op_t(a) if da == 2 else a) if transpose else b
        sizes_1 = shape_tuple(t1)
        output_shape = sizes_1[:-1]
        for s in output_shape:
            folded_dim1 *= s
        t2_is_matrix = t2._ndim == 2
        if t2_is_matrix:
            output_shape = output_shape + (t2._shape[1],)
        folded = op_reshape(t1, (folded_dim1, sizes_1[len(sizes_1) - 1]))
        if t2_is_matrix:
            output = op_unsafe_view(op_mm(folded, t2), output_shape)
            return op_contiguous(op_transpose(output, -2, -1)) if transpose else output
        return op_unsafe_view(op_mv(folded, t2), output_shape)
    return op_batched_matmul(a, b)


cdef Tensor op_batched_matmul(Tensor a, Tensor b):
    """matmul with a >= 3-D operand that is not folded: batch dims broadcast
    (expand), flattened (reshape) and multiplied with bmm, the result viewed
    back (_unsafe_view)."""
    cdef int da = a._ndim, db = b._ndim
    cdef Py_ssize_t n = a._shape[da - 2] if da > 1 else 1
    cdef Py_ssize_t m1 = a._shape[da - 1]
    cdef Py_ssize_t m2 = b._shape[db - 2] if db > 1 else b._shape[0]
    cdef Py_ssize_t p = b._shape[db - 1] if db > 1 else 1
    cdef int nb1 = da - 2 if da > 2 else 0
    cdef int nb2 = db - 2 if db > 2 else 0
    cdef Py_ssize_t batch[MAX_DIMS]
    cdef int nbatch, i
    cdef Py_ssize_t product = 1
    cdef tuple batch_shape, output_shape
    cdef Tensor a_exp, b_exp, result
    cdef bint vector_rhs = db == 1
    if da == 3 and db == 3 and a._shape[0] != b._shape[0]:
        if a._shape[0] == 1 and (a._requires_grad or has_tangent(a)):
            return op_matmul(op_squeeze_dim(a, 0, False), b)
        if b._shape[0] == 1 and (b._requires_grad or has_tangent(b)):
            return op_matmul(a, op_squeeze_dim(b, 0, False))
    nbatch = broadcast_shapes(nb1, a._shape, nb2, b._shape, batch)
    batch_shape = tuple([batch[i] for i in range(nbatch)])
    for i in range(nbatch):
        product *= batch[i]
    a_exp = op_reshape(op_expand(a, batch_shape + (n, m1)), (product, n, m1))
    if vector_rhs:
        b_exp = op_unsqueeze(op_reshape(op_expand(b, batch_shape + (m2,)), (product, m2)), 2)
    else:
        b_exp = op_reshape(op_expand(b, batch_shape + (m2, p)), (product, m2, p))
    output_shape = batch_shape
    if da > 1:
        output_shape = output_shape + (n,)
    if db > 1:
        output_shape = output_shape + (p,)
    result = op_bmm(a_exp, b_exp)
    if vector_rhs:
        result = op_squeeze_dim(result, -1, False)
    return op_unsafe_view(result, output_shape)


def bmm(input, mat2, *, out=None):
    """Batched matrix product of two 3-D tensors (PyTorch's torch.bmm)."""
    return with_out(op_bmm(tensor_param(input, "bmm", "input", 1), tensor_param(mat2, "bmm", "mat2", 2)),
                    out, "bmm")
