# Indexing: __getitem__ and __setitem__ (ints, slices, None, Ellipsis,
# integer lists and tensors, bool masks), index_select and masked_fill.
#
# Layers, as in PyTorch's python_variable_indexing.cpp / TensorIndexing.h:
#
#   parse_index   walks the index left to right ("applySlicing"): ints,
#                 slices, None and bools become view steps (select, slice,
#                 unsqueeze) applied to a geometry in C arrays; tensors and
#                 sequences become advanced indices recorded at a dim.
#   view ops      op_select / op_slice / op_alias with their nodes
#                 (SelectBackward0, SliceBackward0, AliasBackward0) and the
#                 differentiable backward ops (SelectBackwardBackward0, ...).
#   _AdvIndex     advanced indices checked, masks expanded (nonzero),
#                 broadcast and laid out by numpy's rules; adv_run() drives
#                 the C gather / put / scatter-add kernel over them.
#   setitem       copy_/fill_ (basic) or index_put_ (advanced) into the
#                 indexed region, recorded as CopyBackwards / FillBackward3 /
#                 IndexPutBackward0, or CopySlices when the region is a view.

from cpython.sequence cimport PySequence_Check
from libc.stdint cimport uint32_t


# ---------------------------------------------------------------------------
# C kernels. One driver runs every advanced-indexing loop: it walks the
# "outer" dims, the positions j of the broadcast index shape (through offset
# tables) and the "inner" dims of two operands at once: A, the indexed
# tensor, and D, the dense side (the result of a gather, the values of a
# put). Copies move bits (by item size); scatter-add adds by dtype, in order,
# so repeated indices accumulate.

cdef extern from *:
    """
    #include "half.h"
    #define CG_MAXD 64
    typedef struct {
        int n_outer, n_inner;
        Py_ssize_t outer_shape[CG_MAXD], inner_shape[CG_MAXD];
        Py_ssize_t a_outer[CG_MAXD], d_outer[CG_MAXD];
        Py_ssize_t a_inner[CG_MAXD], d_inner[CG_MAXD];
        Py_ssize_t nb;
        const int64_t* a_tab;
        const int64_t* d_tab;
    } cg_iplan;

    enum { CG_GATHER1, CG_GATHER2, CG_GATHER4, CG_GATHER8, CG_PUT1, CG_PUT2, CG_PUT4, CG_PUT8,
           CG_ACC_F32, CG_ACC_F64, CG_ACC_I64, CG_ACC_B, CG_ACC_F16, CG_ACC_I8, CG_ACC_I16,
           CG_ACC_I32, CG_ACC_U8 };

    #define CG_OP_G(x, y) (y) = (x)
    #define CG_OP_P(x, y) (x) = (y)
    #define CG_OP_A(x, y) (x) += (y)
    #define CG_OP_B(x, y) (x) = (uint8_t)((x) | (y))
    #define CG_OP_H(x, y) (x) = cg_f2h(cg_h2f(x) + cg_h2f(y))
    #define CG_LOOP_S(T, OP) { T* A_ = (T*)a; T* D_ = (T*)d; Py_ssize_t i_;              \\
        if (as == 1 && ds == 1) { for (i_ = 0; i_ < n; i_++) { OP(A_[i_], D_[i_]); } }   \\
        else { for (i_ = 0; i_ < n; i_++) { OP(A_[i_ * as], D_[i_ * ds]); } } } break;
    #define CG_LOOP_T(T, OP) { T* A_ = (T*)a; T* D_ = (T*)d; Py_ssize_t i_;              \\
        for (i_ = 0; i_ < n; i_++) { OP(A_[at[i_]], D_[dt[i_]]); } } break;

    static void cg_row_s(int kind, char* a, Py_ssize_t as, char* d, Py_ssize_t ds, Py_ssize_t n) {
        switch (kind) {
        case CG_GATHER1: CG_LOOP_S(uint8_t, CG_OP_G)
        case CG_GATHER2: CG_LOOP_S(uint16_t, CG_OP_G)
        case CG_GATHER4: CG_LOOP_S(uint32_t, CG_OP_G)
        case CG_GATHER8: CG_LOOP_S(uint64_t, CG_OP_G)
        case CG_PUT1: CG_LOOP_S(uint8_t, CG_OP_P)
        case CG_PUT2: CG_LOOP_S(uint16_t, CG_OP_P)
        case CG_PUT4: CG_LOOP_S(uint32_t, CG_OP_P)
        case CG_PUT8: CG_LOOP_S(uint64_t, CG_OP_P)
        case CG_ACC_F32: CG_LOOP_S(float, CG_OP_A)
        case CG_ACC_F64: CG_LOOP_S(double, CG_OP_A)
        case CG_ACC_I64: CG_LOOP_S(int64_t, CG_OP_A)
        case CG_ACC_B: CG_LOOP_S(uint8_t, CG_OP_B)
        case CG_ACC_F16: CG_LOOP_S(uint16_t, CG_OP_H)
        case CG_ACC_I8: CG_LOOP_S(int8_t, CG_OP_A)
        case CG_ACC_I16: CG_LOOP_S(int16_t, CG_OP_A)
        case CG_ACC_I32: CG_LOOP_S(int32_t, CG_OP_A)
        case CG_ACC_U8: CG_LOOP_S(uint8_t, CG_OP_A)
        }
    }

    static void cg_row_t(int kind, char* a, const int64_t* at, char* d, const int64_t* dt, Py_ssize_t n) {
        switch (kind) {
        case CG_GATHER1: CG_LOOP_T(uint8_t, CG_OP_G)
        case CG_GATHER2: CG_LOOP_T(uint16_t, CG_OP_G)
        case CG_GATHER4: CG_LOOP_T(uint32_t, CG_OP_G)
        case CG_GATHER8: CG_LOOP_T(uint64_t, CG_OP_G)
        case CG_PUT1: CG_LOOP_T(uint8_t, CG_OP_P)
        case CG_PUT2: CG_LOOP_T(uint16_t, CG_OP_P)
        case CG_PUT4: CG_LOOP_T(uint32_t, CG_OP_P)
        case CG_PUT8: CG_LOOP_T(uint64_t, CG_OP_P)
        case CG_ACC_F32: CG_LOOP_T(float, CG_OP_A)
        case CG_ACC_F64: CG_LOOP_T(double, CG_OP_A)
        case CG_ACC_I64: CG_LOOP_T(int64_t, CG_OP_A)
        case CG_ACC_B: CG_LOOP_T(uint8_t, CG_OP_B)
        case CG_ACC_F16: CG_LOOP_T(uint16_t, CG_OP_H)
        case CG_ACC_I8: CG_LOOP_T(int8_t, CG_OP_A)
        case CG_ACC_I16: CG_LOOP_T(int16_t, CG_OP_A)
        case CG_ACC_I32: CG_LOOP_T(int32_t, CG_OP_A)
        case CG_ACC_U8: CG_LOOP_T(uint8_t, CG_OP_A)
        }
    }

    /* Run `kind` over outer dims x table positions x inner dims. Strides and
       table offsets are in elements; isz is the item size in bytes. */
    static void cg_index_run(const cg_iplan* p, int kind, char* a0, char* d0, int isz) {
        Py_ssize_t oidx[CG_MAXD], iidx[CG_MAXD];
        Py_ssize_t n_out = 1, rows = 1, row_n = 1, a_is = 0, d_is = 0, o, j, r;
        int k, no = p->n_outer, ni = p->n_inner;
        char* ao = a0;
        char* dd = d0;
        for (k = 0; k < no; k++) { n_out *= p->outer_shape[k]; oidx[k] = 0; }
        if (ni > 0) {
            row_n = p->inner_shape[ni - 1];
            a_is = p->a_inner[ni - 1];
            d_is = p->d_inner[ni - 1];
            for (k = 0; k < ni - 1; k++) rows *= p->inner_shape[k];
        }
        if (n_out == 0 || p->nb == 0 || rows == 0 || row_n == 0) return;
        for (o = 0; o < n_out; o++) {
            if (ni == 0) {
                cg_row_t(kind, ao, p->a_tab, dd, p->d_tab, p->nb);
            } else {
                for (j = 0; j < p->nb; j++) {
                    char* aj = ao + p->a_tab[j] * isz;
                    char* dj = dd + p->d_tab[j] * isz;
                    for (k = 0; k < ni - 1; k++) iidx[k] = 0;
                    for (r = 0; r < rows; r++) {
                        cg_row_s(kind, aj, a_is, dj, d_is, row_n);
                        for (k = ni - 2; k >= 0; k--) {
                            aj += p->a_inner[k] * isz;
                            dj += p->d_inner[k] * isz;
                            if (++iidx[k] < p->inner_shape[k]) break;
                            aj -= p->a_inner[k] * p->inner_shape[k] * isz;
                            dj -= p->d_inner[k] * p->inner_shape[k] * isz;
                            iidx[k] = 0;
                        }
                    }
                }
            }
            for (k = no - 1; k >= 0; k--) {
                ao += p->a_outer[k] * isz;
                dd += p->d_outer[k] * isz;
                if (++oidx[k] < p->outer_shape[k]) break;
                ao -= p->a_outer[k] * p->outer_shape[k] * isz;
                dd -= p->d_outer[k] * p->outer_shape[k] * isz;
                oidx[k] = 0;
            }
        }
    }

    /* Offsets (elements of the indexed tensor) of the nb positions of the
       broadcast index shape, in C order, from m int64 index tensors (data
       pointers ip, strides ist[k * nbd + d] over the broadcast dims, 0 where
       broadcast). Negative indices wrap. Returns -1, or the number k of the
       first index tensor holding an out-of-range value (stored in *bad),
       checking element by element as PyTorch's kernel does. Rows along the
       last broadcast dim run in a tight loop. */
    static int cg_index_table(int m, char* const* ip, const Py_ssize_t* ist, int nbd,
                              const Py_ssize_t* bshape, const Py_ssize_t* sizes,
                              const Py_ssize_t* sst, Py_ssize_t nb, int64_t* out, int64_t* bad) {
        const char* cur[CG_MAXD];
        Py_ssize_t last[CG_MAXD];
        Py_ssize_t bidx[CG_MAXD];
        Py_ssize_t j, n, rows, r, pos = 0;
        int k, d;
        if (nb == 0) return -1;
        n = nbd > 0 ? bshape[nbd - 1] : 1;
        rows = nb / n;
        for (k = 0; k < m; k++) {
            cur[k] = ip[k];
            last[k] = nbd > 0 ? ist[k * nbd + nbd - 1] : 0;
        }
        for (d = 0; d < nbd; d++) bidx[d] = 0;
        for (r = 0; r < rows; r++) {
            if (m == 1) {
                const int64_t* p0 = (const int64_t*)cur[0];
                const Py_ssize_t s0 = last[0];
                const int64_t size = (int64_t)sizes[0], stride = (int64_t)sst[0];
                for (j = 0; j < n; j++) {
                    int64_t v = p0[j * s0];
                    if (v < -size || v >= size) { *bad = v; return 0; }
                    out[pos++] = (v < 0 ? v + size : v) * stride;
                }
            } else {
                for (j = 0; j < n; j++) {
                    int64_t off = 0;
                    for (k = 0; k < m; k++) {
                        int64_t v = ((const int64_t*)cur[k])[j * last[k]];
                        int64_t s = (int64_t)sizes[k];
                        if (v < -s || v >= s) { *bad = v; return k; }
                        off += (v < 0 ? v + s : v) * (int64_t)sst[k];
                    }
                    out[pos++] = off;
                }
            }
            for (d = nbd - 2; d >= 0; d--) {
                for (k = 0; k < m; k++) cur[k] += ist[k * nbd + d] * 8;
                if (++bidx[d] < bshape[d]) break;
                for (k = 0; k < m; k++) cur[k] -= ist[k * nbd + d] * 8 * bshape[d];
                bidx[d] = 0;
            }
        }
        return -1;
    }

    /* Offsets of the nb positions of a shape with the given strides. */
    static void cg_dense_table(int nbd, const Py_ssize_t* bshape, const Py_ssize_t* st,
                               Py_ssize_t nb, int64_t* out) {
        Py_ssize_t bidx[CG_MAXD];
        Py_ssize_t j;
        int64_t off = 0;
        int d;
        for (d = 0; d < nbd; d++) bidx[d] = 0;
        for (j = 0; j < nb; j++) {
            out[j] = off;
            for (d = nbd - 1; d >= 0; d--) {
                off += st[d];
                if (++bidx[d] < bshape[d]) break;
                off -= st[d] * bshape[d];
                bidx[d] = 0;
            }
        }
    }

    /* index_select's bounds (no wrapping): -1, or the position of the
       first index outside [0, size). */
    static Py_ssize_t cg_select_check(const int64_t* ip, Py_ssize_t ist, Py_ssize_t n, int64_t size) {
        Py_ssize_t j;
        for (j = 0; j < n; j++) {
            int64_t v = ip[j * ist];
            if (v < 0 || v >= size) return j;
        }
        return -1;
    }

    /* nonzero() of a bool tensor: the count (outs NULL), or the coordinates
       (C order) written to outs[d][i] for each dim d. Rows along the last
       dim are walked in a tight loop. */
    static Py_ssize_t cg_mask_walk(const uint8_t* p, int nd, const Py_ssize_t* shape,
                                   const Py_ssize_t* st, Py_ssize_t numel, int64_t** outs) {
        Py_ssize_t idx[CG_MAXD];
        Py_ssize_t c = 0, off = 0, rows, r, j, n, s;
        int d;
        if (numel == 0) return 0;
        n = shape[nd - 1];
        s = st[nd - 1];
        rows = numel / n;
        for (d = 0; d < nd; d++) idx[d] = 0;
        for (r = 0; r < rows; r++) {
            const uint8_t* row = p + off;
            if (outs == NULL) {
                if (s == 1) { for (j = 0; j < n; j++) c += row[j] != 0; }
                else { for (j = 0; j < n; j++) c += row[j * s] != 0; }
            } else {
                /* branch-free: write at c always, advance c on true (the
                   output arrays have one spare slot) */
                for (d = 0; d < nd - 1; d++) {
                    int64_t v = idx[d];
                    int64_t* o = outs[d];
                    Py_ssize_t c2 = c;
                    for (j = 0; j < n; j++) { o[c2] = v; c2 += row[j * s] != 0; }
                }
                {
                    int64_t* o = outs[nd - 1];
                    for (j = 0; j < n; j++) { o[c] = j; c += row[j * s] != 0; }
                }
            }
            for (d = nd - 2; d >= 0; d--) {
                off += st[d];
                if (++idx[d] < shape[d]) break;
                off -= st[d] * shape[d];
                idx[d] = 0;
            }
        }
        return c;
    }
    """
    ctypedef struct cg_iplan:
        int n_outer
        int n_inner
        Py_ssize_t outer_shape[64]
        Py_ssize_t inner_shape[64]
        Py_ssize_t a_outer[64]
        Py_ssize_t d_outer[64]
        Py_ssize_t a_inner[64]
        Py_ssize_t d_inner[64]
        Py_ssize_t nb
        const int64_t* a_tab
        const int64_t* d_tab
    enum:
        CG_GATHER1, CG_GATHER2, CG_GATHER4, CG_GATHER8, CG_PUT1, CG_PUT2, CG_PUT4, CG_PUT8
        CG_ACC_F32, CG_ACC_F64, CG_ACC_I64, CG_ACC_B, CG_ACC_F16, CG_ACC_I8, CG_ACC_I16
        CG_ACC_I32, CG_ACC_U8
    void cg_index_run(const cg_iplan* p, int kind, char* a0, char* d0, int isz) nogil
    int cg_index_table(int m, char* const* ip, const Py_ssize_t* ist, int nbd, const Py_ssize_t* bshape,
                       const Py_ssize_t* sizes, const Py_ssize_t* sst, Py_ssize_t nb, int64_t* out,
                       int64_t* bad) nogil
    void cg_dense_table(int nbd, const Py_ssize_t* bshape, const Py_ssize_t* st, Py_ssize_t nb,
                        int64_t* out) nogil
    Py_ssize_t cg_select_check(const int64_t* ip, Py_ssize_t ist, Py_ssize_t n, int64_t size) nogil
    Py_ssize_t cg_mask_walk(const uint8_t* p, int nd, const Py_ssize_t* shape, const Py_ssize_t* st,
                            Py_ssize_t numel, int64_t** outs) nogil


cdef enum:
    K_GATHER = 0
    K_PUT = 1
    K_ACCUM = 2


cdef inline int kernel_kind(int op, int dt) noexcept:
    cdef int isz = ITEMSIZE[dt]
    cdef int sz = 0 if isz == 1 else (1 if isz == 2 else (2 if isz == 4 else 3))
    if op == K_GATHER:
        return CG_GATHER1 + sz
    if op == K_PUT:
        return CG_PUT1 + sz
    if dt == F32:
        return CG_ACC_F32
    if dt == F64:
        return CG_ACC_F64
    if dt == I64:
        return CG_ACC_I64
    if dt == F16:
        return CG_ACC_F16
    if dt == I8:
        return CG_ACC_I8
    if dt == I16:
        return CG_ACC_I16
    if dt == I32:
        return CG_ACC_I32
    if dt == U8:
        return CG_ACC_U8
    return CG_ACC_B


# ---------------------------------------------------------------------------
# Error texts and small helpers

cdef str INVALID_INDEX_MSG = ("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                              "Variables are valid indices (got {})")
cdef str ZERO_DIM_INDEX_MSG = ("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                               "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
cdef str SEQ_AS_TUPLE_MSG = (
    "Using a non-tuple sequence for multidimensional indexing is deprecated and will be changed in "
    "pytorch 2.9; use x[tuple(seq)] instead of x[seq]. In pytorch 2.9 this will be interpreted as "
    "tensor index, x[cgrad.tensor(seq)], which will result either in an error or a different result")
cdef str PARTIAL_OVERLAP_MSG = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
    "single memory location. Please clone() the tensor before performing the operation.")
cdef str INTERNAL_OVERLAP_MSG = (
    "unsupported operation: more than one element of the written-to tensor refers to a single memory "
    "location. Please clone() the tensor before performing the operation.")
cdef str INDEX_PUT_EXPANDED_MSG = (
    "Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before performing "
    "this operation. This also applies to advanced indexing e.g. tensor[indices] = tensor")
cdef str MASKED_FILL_EXPANDED_MSG = (
    "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before "
    "performing this operation. This also applies to advanced indexing e.g. tensor[mask] = scalar")
cdef str VIEW_LEAF_INPLACE_MSG = (
    "a view of a leaf Variable that requires grad is being used in an in-place operation.")

cdef Py_ssize_t SSIZE_MAX = 0x7FFFFFFFFFFFFFFF
cdef Py_ssize_t SSIZE_MIN = -SSIZE_MAX - 1

cdef tuple SCALAR_TYPE_NAME = C_SCALAR_NAMES


cdef str tp_name(object o):
    """CPython's tp_name of o's type: 'float', 'numpy.ndarray', ..."""
    t = type(o)
    mod = t.__module__
    if mod == "builtins":
        return t.__qualname__
    return f"{mod}.{t.__qualname__}"


cdef inline bint is_long_index(object o):
    """PyTorch's THPUtils_checkLong: an int that is not a bool, or a numpy
    integer."""
    if isinstance(o, bool):
        return False
    return isinstance(o, int) or isinstance(o, np.integer)


cdef Py_ssize_t unpack_long(object o) except? -1:
    cdef object v = int(o)
    if v > SSIZE_MAX or v < SSIZE_MIN:
        raise ValueError("Overflow when unpacking long long")
    return <Py_ssize_t>v


cdef Py_ssize_t slice_component(object v) except? -1:
    """A slice bound as _PyEval_SliceIndex reads it: __index__, clipped."""
    try:
        v = _operator.index(v)
    except TypeError:
        raise TypeError("slice indices must be integers or None or have an __index__ method") from None
    if v > SSIZE_MAX:
        return SSIZE_MAX
    if v < SSIZE_MIN:
        return SSIZE_MIN
    return <Py_ssize_t>v


cdef Tensor long_vector(list values):
    cdef Tensor t = new_tensor_from_tuple((len(values),), I64)
    cdef Py_ssize_t i
    for i in range(len(values)):
        (<int64_t*>t._data)[i] = values[i]
    return t


cdef Tensor zeros_scalar(int dt):
    return new_tensor(0, NULL, dt, True)


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


# ---------------------------------------------------------------------------
# View ops of basic indexing and their nodes


cdef class SelectBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Py_ssize_t index

    cdef tuple apply(self, object grads):
        return (op_select_backward(<Tensor>grads, self.self_sizes, self.dim, self.index),)


cdef class SliceBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Py_ssize_t start, end, step

    cdef tuple apply(self, object grads):
        return (op_slice_backward(<Tensor>grads, self.self_sizes, self.dim, self.start, self.end,
                                  self.step),)


cdef class AliasBackward0(Node):
    cdef tuple apply(self, object grads):
        return (grads,)


cdef class SelectBackwardBackward0(Node):
    cdef int dim
    cdef Py_ssize_t index

    cdef tuple apply(self, object grads):
        return (op_select(<Tensor>grads, self.dim, self.index),)


cdef class SliceBackwardBackward0(Node):
    cdef int dim
    cdef Py_ssize_t start, end, step

    cdef tuple apply(self, object grads):
        return (op_slice(<Tensor>grads, self.dim, self.start, self.end, self.step),)


cdef Tensor select_view(Tensor x, int dim, Py_ssize_t index):
    """x.select(dim, index) as a plain view; dim and index already valid
    (index in [0, size))."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i, j = 0
    for i in range(x._ndim):
        if i != dim:
            shape[j] = x._shape[i]
            strides[j] = x._strides[i]
            j += 1
    return make_view(x, x._ndim - 1, shape, strides, x._offset + index * x._strides[dim])


cdef Tensor slice_view(Tensor x, int dim, Py_ssize_t start, Py_ssize_t end, Py_ssize_t step):
    """x[start:end:step] along dim as a plain view; start <= end already
    clamped to [0, size], step > 0."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Py_ssize_t strides[MAX_DIMS]
    cdef int i
    for i in range(x._ndim):
        shape[i] = x._shape[i]
        strides[i] = x._strides[i]
    shape[dim] = (end - start + step - 1) // step
    strides[dim] = x._strides[dim] * step
    return make_view(x, x._ndim, shape, strides, x._offset + start * x._strides[dim])


cdef Tensor op_select(Tensor x, int dim, Py_ssize_t index):
    cdef Tensor out = select_view(x, dim, index)
    cdef SelectBackward0 node
    if needs_grad(x):
        node = SelectBackward0.__new__(SelectBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor op_slice(Tensor x, int dim, Py_ssize_t start, Py_ssize_t end, Py_ssize_t step):
    cdef Tensor out = slice_view(x, dim, start, end, step)
    cdef SliceBackward0 node
    if needs_grad(x):
        node = SliceBackward0.__new__(SliceBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.start = start
        node.end = end
        node.step = step
        set_history(out, node)
    return out


cdef Tensor op_alias(Tensor x):
    cdef Tensor out = make_view(x, x._ndim, x._shape, x._strides, x._offset)
    cdef AliasBackward0 node
    if needs_grad(x):
        node = AliasBackward0.__new__(AliasBackward0)
        wire1(node, x)
        set_history(out, node)
    return out


cdef Tensor op_select_backward(Tensor g, tuple sizes, int dim, Py_ssize_t index):
    """zeros(sizes) with g written at index along dim."""
    cdef Tensor out = new_tensor_from_tuple(sizes, g._dtype, True)
    cdef SelectBackwardBackward0 node
    copy_into(select_view(out, dim, index), g)
    if needs_grad(g):
        node = SelectBackwardBackward0.__new__(SelectBackwardBackward0)
        wire1(node, g)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor op_slice_backward(Tensor g, tuple sizes, int dim, Py_ssize_t start, Py_ssize_t end,
                              Py_ssize_t step):
    cdef Tensor out = new_tensor_from_tuple(sizes, g._dtype, True)
    cdef Tensor dst = slice_view(out, dim, start, end, step)
    cdef SliceBackwardBackward0 node
    cdef Py_ssize_t bshape[MAX_DIMS]
    if not same_shape(dst, g):      # only from a direct grad_fn call: copy_'s check
        if broadcast_shapes(dst._ndim, dst._shape, g._ndim, g._shape, bshape) != dst._ndim:
            raise RuntimeError(f"expand: the number of sizes provided ({dst._ndim}) must be greater or "
                               f"equal to the number of dimensions in the tensor ({g._ndim})")
    copy_into(dst, g)
    if needs_grad(g):
        node = SliceBackwardBackward0.__new__(SliceBackwardBackward0)
        wire1(node, g)
        node.dim = dim
        node.start = start
        node.end = end
        node.step = step
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# Parsing an index (PyTorch's applySlicing). The view steps are applied to a
# geometry held in C arrays and recorded as tuples so that they can be
# replayed as differentiable ops (grad mode) or undone (CopySlices).

cdef enum:
    STEP_SELECT = 0
    STEP_SLICE = 1
    STEP_UNSQUEEZE = 2


cdef struct Geom:
    int ndim
    Py_ssize_t offset
    Py_ssize_t shape[MAX_DIMS]
    Py_ssize_t strides[MAX_DIMS]


cdef class _Parsed:
    cdef Geom g
    cdef list steps          # view steps, in order
    cdef list tindex         # advanced indices: (dim, Tensor) in order


cdef int step_select(_Parsed p, int dim, Py_ssize_t index, Py_ssize_t real_dim) except -1:
    cdef Geom* g = &p.g
    cdef Py_ssize_t size
    cdef int i
    if index == 0 and dim == 0 and g.ndim == 0:
        raise IndexError(ZERO_DIM_INDEX_MSG)
    size = g.shape[dim] if dim < g.ndim else 0
    if not (size > -1 - index and size > index):
        raise IndexError(f"index {index} is out of bounds for dimension {real_dim} with size {size}")
    if index < 0:
        index += size
    g.offset += index * g.strides[dim]
    for i in range(dim, g.ndim - 1):
        g.shape[i] = g.shape[i + 1]
        g.strides[i] = g.strides[i + 1]
    g.ndim -= 1
    p.steps.append((STEP_SELECT, dim, index))
    return 0


cdef int step_slice(_Parsed p, int dim, object sl, bint optimize) except -1:
    cdef Geom* g = &p.g
    cdef Py_ssize_t start, stop, step, length
    step = 1 if sl.step is None else slice_component(sl.step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    start = (SSIZE_MAX if step < 0 else 0) if sl.start is None else slice_component(sl.start)
    stop = (SSIZE_MIN if step < 0 else SSIZE_MAX) if sl.stop is None else slice_component(sl.stop)
    if step <= 0:
        raise ValueError("step must be greater than zero")
    if g.ndim == 0:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    if dim >= g.ndim:
        # past the last dim (several Ellipses): PyTorch skips a full slice
        # there without looking at the size, else slice() rejects the dim
        if optimize and start == 0 and stop == SSIZE_MAX and step == 1:
            return 0
        wrap_dim(dim, g.ndim)
    length = g.shape[dim]
    if optimize and start == 0 and stop >= length and step == 1:
        return 0
    if start < 0:
        start += length
    if stop < 0:
        stop += length
    if start < 0:
        start = 0
    elif start > length:
        start = length
    if stop < start:
        stop = start
    elif stop > length:
        stop = length
    g.offset += start * g.strides[dim]
    g.shape[dim] = (stop - start + step - 1) // step
    g.strides[dim] *= step
    p.steps.append((STEP_SLICE, dim, start, stop, step))
    return 0


cdef int step_unsqueeze(_Parsed p, int dim) except -1:
    cdef Geom* g = &p.g
    cdef int i
    if dim > g.ndim:
        wrap_dim(dim, g.ndim + 1)
    if g.ndim + 1 > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    for i in range(g.ndim, dim, -1):
        g.shape[i] = g.shape[i - 1]
        g.strides[i] = g.strides[i - 1]
    g.strides[dim] = g.strides[dim + 1] * g.shape[dim + 1] if dim < g.ndim else 1
    g.shape[dim] = 1
    g.ndim += 1
    p.steps.append((STEP_UNSQUEEZE, dim))
    return 0


cdef int step_bool(_Parsed p, int dim, bint value) except -1:
    """A boolean adds a dim of size 1, indexed by [0] (True) or [] (False)."""
    step_unsqueeze(p, dim)
    p.tindex.append((dim, long_vector([0] if value else [])))
    return 0


cdef bint treat_sequence_as_tuple(object index) except -1:
    """numpy's heuristic (as PyTorch keeps it): a short non-tuple sequence
    holding a slice, Ellipsis, None, a tensor or a sequence is a tuple."""
    cdef Py_ssize_t n, i
    if isinstance(index, tuple):
        return True
    if isinstance(index, Tensor) or type(index) is np.ndarray:
        return False
    if not PySequence_Check(index):
        return False
    try:
        n = len(index)
    except Exception:
        return False
    if n >= 32:
        return False
    for i in range(n):
        try:
            obj = index[i]
        except Exception:
            return False
        if (isinstance(obj, Tensor) or PySequence_Check(obj) or isinstance(obj, slice)
                or obj is Ellipsis or obj is None):
            import warnings
            warnings.warn(SEQ_AS_TUPLE_MSG, UserWarning, stacklevel=1)
            return True
    return False


cdef int count_specified_dims(tuple index) except -1:
    cdef int count = 0
    for obj in index:
        if isinstance(obj, Tensor):
            count += (<Tensor>obj)._ndim if is_mask_dtype((<Tensor>obj)._dtype) else 1
        elif obj is not None and obj is not Ellipsis and obj is not True and obj is not False:
            count += 1
    return count


cdef object as_plain_lists(object data):
    """Nested sequences (ranges, ...) as lists, for tensor_from_data."""
    if isinstance(data, (list, tuple)):
        return [as_plain_lists(x) for x in data]
    if isinstance(data, (str, bytes, Tensor, np.ndarray)) or not PySequence_Check(data):
        return data
    return [as_plain_lists(x) for x in data]


cdef Tensor sequence_to_index(object seq):
    """PyTorch's sequenceToVariable: a bool tensor when the data is bool,
    else int64 (floats truncate)."""
    cdef Tensor t
    if isinstance(seq, np.ndarray):
        if seq.dtype == np.bool_ or seq.dtype == np.uint8:
            if seq.dtype == np.uint8:
                import warnings
                warnings.warn("indexing with dtype cgrad.uint8 is now deprecated, please use a dtype "
                              "cgrad.bool instead.", UserWarning, stacklevel=1)
            return tensor_from_ndarray(np.array(seq, dtype=np.bool_), False)
        try:
            arr = np.asarray(seq, dtype=np.int64)
        except (TypeError, ValueError):
            raise RuntimeError(f"Could not infer dtype of {tp_name(seq.flat[0]) if seq.size else 'object'}")
        return tensor_from_ndarray(np.array(arr), False)
    t = tensor_from_data(as_plain_lists(seq), None)
    if t._dtype != BOOL and t._dtype != I64:
        t = cast_tensor(t, I64)
    return t


cdef inline bint is_mask_dtype(int dt) noexcept:
    """Index tensors of these dtypes are masks (uint8: deprecated)."""
    return dt == BOOL or dt == U8


cdef int index_tensor_step(_Parsed p, int* dim, Tensor t, Py_ssize_t real_dim) except -1:
    """A tensor in the index: a 0-d integer one selects, a 0-d bool (or
    uint8) one acts as a Python bool, others are advanced indices at `dim`."""
    if t._ndim == 0 and (is_int(t._dtype) or t._dtype == BOOL):
        if is_mask_dtype(t._dtype):
            step_bool(p, dim[0], (<uint8_t*>t._data)[0] != 0)
            dim[0] += 1
        else:
            step_select(p, dim[0], <int64_t>scalar_value(t), real_dim)
        return 0
    p.tindex.append((dim[0], t))
    dim[0] += t._ndim if is_mask_dtype(t._dtype) else 1
    return 0


cdef str UINT8_INDEX_MSG = ("indexing with dtype cgrad.uint8 is now deprecated, please use a dtype "
                            "cgrad.bool instead.")


cdef Tensor as_bool_mask(Tensor t):
    """A uint8 index tensor as the bool mask PyTorch makes of it."""
    return cast_tensor(t, BOOL) if t._dtype == U8 else t


cdef _Parsed parse_index(Tensor self, object index, bint setting):
    """The view steps and advanced indices of `index` on self. `setting`
    gives __setitem__'s treatment of single simple indices (a full slice is
    no view, a True no advanced index)."""
    cdef _Parsed p = _Parsed.__new__(_Parsed)
    cdef Geom* g = &p.g
    cdef tuple tup
    cdef int dim = 0, specified, i
    cdef Py_ssize_t real_dim
    g.ndim = self._ndim
    g.offset = self._offset
    for i in range(self._ndim):
        g.shape[i] = self._shape[i]
        g.strides[i] = self._strides[i]
    p.steps = []
    p.tindex = []
    # single simple indices (PyTorch handles these before wrapping in a tuple)
    if index is None:
        step_unsqueeze(p, 0)
        return p
    if index is Ellipsis:
        return p
    if is_long_index(index):
        step_select(p, 0, unpack_long(index), 0)
        return p
    if isinstance(index, slice):
        step_slice(p, 0, index, setting)
        return p
    if index is True or index is False:
        if setting:
            step_unsqueeze(p, 0)
        else:
            step_bool(p, 0, index)
        return p
    if treat_sequence_as_tuple(index):
        tup = tuple(index)
    else:
        tup = (index,)
    specified = count_specified_dims(tup)
    if specified > self._ndim:
        raise IndexError(f"too many indices for tensor of dimension {self._ndim}")
    real_dim = 0
    for obj in tup:
        if is_long_index(obj):
            step_select(p, dim, unpack_long(obj), real_dim)
        elif isinstance(obj, slice):
            step_slice(p, dim, obj, True)
            dim += 1
        elif obj is Ellipsis:
            dim += self._ndim - specified
        elif obj is None:
            step_unsqueeze(p, dim)
            dim += 1
        elif obj is True or obj is False:
            step_bool(p, dim, obj)
            dim += 1
        elif isinstance(obj, Tensor):
            index_tensor_step(p, &dim, <Tensor>obj, real_dim)
        elif PySequence_Check(obj):
            index_tensor_step(p, &dim, sequence_to_index(obj), real_dim)
        else:
            try:
                v = _operator.index(obj)
            except TypeError:
                raise IndexError(INVALID_INDEX_MSG.format(tp_name(obj))) from None
            step_select(p, dim, unpack_long(v), real_dim)
        real_dim += 1
    return p


cdef Tensor apply_steps(Tensor t, list steps):
    """Replay view steps as ops (recording history when t needs grad)."""
    for st in steps:
        if st[0] == STEP_SELECT:
            t = op_select(t, st[1], st[2])
        elif st[0] == STEP_SLICE:
            t = op_slice(t, st[1], st[2], st[3], st[4])
        else:
            t = op_unsqueeze(t, st[1])
    return t


cdef list steps_input_sizes(tuple sizes, list steps):
    """The shape each step was applied to, starting from `sizes`."""
    cdef list out = []
    cdef list cur = list(sizes)
    for st in steps:
        out.append(tuple(cur))
        if st[0] == STEP_SELECT:
            del cur[st[1]]
        elif st[0] == STEP_SLICE:
            cur[st[1]] = (st[3] - st[2] + st[4] - 1) // st[4]
        else:
            cur.insert(st[1], 1)
    return out


cdef Tensor unapply_steps(Tensor t, tuple base_sizes, list steps):
    """The inverse of apply_steps as differentiable ops: t placed into zeros
    of base_sizes."""
    cdef list sizes = steps_input_sizes(base_sizes, steps)
    cdef int k
    for k in range(len(steps) - 1, -1, -1):
        st = steps[k]
        if st[0] == STEP_SELECT:
            t = op_select_backward(t, sizes[k], st[1], st[2])
        elif st[0] == STEP_SLICE:
            t = op_slice_backward(t, sizes[k], st[1], st[2], st[3], st[4])
        else:
            t = op_squeeze_dim(t, st[1], False)
    return t


cdef Tensor parsed_view(Tensor self, _Parsed p):
    """self with p's view steps applied: one view, or the chain of view ops
    (with their nodes) when self needs grad."""
    if needs_grad(self):
        return apply_steps(self, p.steps)
    return make_view(self, p.g.ndim, p.g.shape, p.g.strides, p.g.offset)


# ---------------------------------------------------------------------------
# Advanced indices (PyTorch's make_info / AdvancedIndex)


cdef class _AdvIndex:
    """Advanced indices of a tensor of shape `src_sizes`: per dim None or an
    int64 index tensor (masks already expanded into nonzero coordinates),
    their broadcast shape and numpy's placement of the indexed dims."""
    cdef tuple src_sizes
    cdef list idx              # per dim of src: None or an int64 Tensor
    cdef list saved            # (tensor, version) of the tensors the user gave
    cdef int m                 # number of index tensors
    cdef int first             # first indexed dim
    cdef bint adjacent         # indexed dims adjacent: broadcast dims go there, else first
    cdef int nbd
    cdef Py_ssize_t bshape[MAX_DIMS]
    cdef Py_ssize_t nb
    cdef tuple result_shape

    cdef int check_versions(self, Node node) except -1:
        cdef Tensor t
        for t, v in self.saved:
            unpack_input(node, t, v)
        return 0


cdef list mask_coordinates(Tensor mask):
    """nonzero(mask) as one int64 vector per dim."""
    cdef Py_ssize_t count
    cdef int64_t* outs[MAX_DIMS]
    cdef list coords = []
    cdef Tensor c
    cdef int d
    count = cg_mask_walk(<uint8_t*>mask._data, mask._ndim, mask._shape, mask._strides, mask._numel, NULL)
    for d in range(mask._ndim):
        c = new_tensor_from_tuple((count + 1,), I64)     # a spare slot for the branch-free walk
        c._shape[0] = count
        c._numel = count
        coords.append(c)
        outs[d] = <int64_t*>c._data
    if count:
        cg_mask_walk(<uint8_t*>mask._data, mask._ndim, mask._shape, mask._strides, mask._numel, outs)
    return coords


cdef str mask_mismatch(Tensor mask, int j, int ndim, const Py_ssize_t* shape, int src):
    return (f"The shape of the mask {shape_str(mask._shape, mask._ndim)} at index {j} does not match "
            f"the shape of the indexed tensor {shape_str(shape, ndim)} at index {src}")


cdef int check_mask_shape(Tensor mask, int dim, int ndim, const Py_ssize_t* shape) except -1:
    cdef int j
    for j in range(mask._ndim):
        if dim + j >= ndim:
            raise IndexError(f"too many indices for tensor of dimension {ndim}")
        if mask._shape[j] != shape[dim + j]:
            raise IndexError(mask_mismatch(mask, j, ndim, shape, dim + j))
    return 0


cdef _AdvIndex prepare_advanced(int ndim, const Py_ssize_t* shape, list tindex):
    """Check and lay out advanced indices, raising PyTorch's errors in its
    order: index dtypes, mask shapes, broadcasting, empty indexed dims."""
    cdef _AdvIndex ai = _AdvIndex.__new__(_AdvIndex)
    cdef Tensor t
    cdef int d, j, k, nd, last = -1
    cdef Py_ssize_t bs[MAX_DIMS]
    cdef list idx = [None] * ndim
    cdef list defined = []
    cdef list res
    cdef bint byte_mask = False
    for d, t in tindex:
        if t._dtype != I64 and t._dtype != I32 and not is_mask_dtype(t._dtype):
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    ai.saved = []
    for d, t in tindex:
        ai.saved.append((t, t._storage.version))
        if is_mask_dtype(t._dtype):
            check_mask_shape(t, d, ndim, shape)
            if t._dtype == U8:
                byte_mask = True
                t = as_bool_mask(t)
            coords = mask_coordinates(t)
            for j in range(t._ndim):
                idx[d + j] = coords[j]
        else:
            if d >= ndim:
                raise IndexError(f"too many indices for tensor of dimension {ndim} (got {d + 1})")
            idx[d] = t if t._dtype == I64 else cast_tensor(t, I64)
    if byte_mask:
        import warnings
        warnings.warn(UINT8_INDEX_MSG, UserWarning, stacklevel=1)
    for d in range(ndim):
        if idx[d] is not None:
            defined.append(d)
    ai.m = len(defined)
    ai.first = defined[0]
    ai.adjacent = defined[-1] - defined[0] + 1 == ai.m
    # broadcast the index shapes
    nd = 0
    for d in defined:
        t = <Tensor>idx[d]
        try:
            nd = broadcast_shapes(nd, ai.bshape, t._ndim, t._shape, bs)
        except RuntimeError:
            raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                             + ", ".join([shape_str((<Tensor>idx[k])._shape, (<Tensor>idx[k])._ndim)
                                          for k in defined])) from None
        for j in range(nd):
            ai.bshape[j] = bs[j]
    ai.nbd = nd
    ai.nb = 1
    for j in range(nd):
        ai.nb *= ai.bshape[j]
    # an empty indexed dim can only take an empty index
    for d in defined:
        if shape[d] == 0 and ai.nb != 0:
            raise IndexError("index is out of bounds for dimension with size 0")
    ai.idx = idx
    ai.src_sizes = tuple([shape[d] for d in range(ndim)])
    bshape_t = [ai.bshape[j] for j in range(nd)]
    if ai.adjacent:
        res = [shape[d] for d in range(ai.first)] + bshape_t + \
              [shape[d] for d in range(ai.first + ai.m, ndim)]
    else:
        res = bshape_t + [shape[d] for d in range(ndim) if idx[d] is None]
    if len(res) > MAX_DIMS:
        raise RuntimeError(f"number of dimensions cannot be greater than {MAX_DIMS}")
    ai.result_shape = tuple(res)
    return ai


cdef int coalesce_dims(int n, Py_ssize_t* shape, Py_ssize_t* sa, Py_ssize_t* sd) noexcept:
    """Drop size-1 dims and merge adjacent dims both operands walk as one."""
    cdef int i, k = 0
    for i in range(n):
        if shape[i] == 1:
            continue
        if k > 0 and sa[k - 1] == sa[i] * shape[i] and sd[k - 1] == sd[i] * shape[i]:
            shape[k - 1] *= shape[i]
            sa[k - 1] = sa[i]
            sd[k - 1] = sd[i]
            continue
        shape[k] = shape[i]
        sa[k] = sa[i]
        sd[k] = sd[i]
        k += 1
    return k


cdef int adv_run(_AdvIndex ai, int op, Tensor a, Tensor dense) except -1:
    """The kernel over a (the indexed tensor, of shape ai.src_sizes) and
    dense (of the result shape for a gather; broadcastable to it for a put
    or scatter-add, same dtype as a). Bounds are checked before anything is
    written; nothing runs when the result is empty."""
    cdef cg_iplan plan
    cdef int R = len(ai.result_shape)
    cdef Py_ssize_t rshape[MAX_DIMS]
    cdef Py_ssize_t dst[MAX_DIMS]
    cdef Py_ssize_t sizes[MAX_DIMS]
    cdef Py_ssize_t sst[MAX_DIMS]
    cdef char* ip[MAX_DIMS]
    cdef Py_ssize_t* ist = NULL
    cdef int64_t* a_tab = NULL
    cdef int64_t* d_tab = NULL
    cdef int64_t bad = 0
    cdef int r, od, d, k, kk, nbd = ai.nbd, bstart, ni = 0
    cdef Py_ssize_t total = 1
    cdef Tensor t
    cdef int kind = kernel_kind(op, a._dtype)
    cdef int isz = ITEMSIZE[a._dtype]
    for r in range(R):
        rshape[r] = ai.result_shape[r]
        total *= rshape[r]
    if total == 0:
        return 0
    for r in range(R):
        od = r - (R - dense._ndim)
        dst[r] = 0 if od < 0 or dense._shape[od] == 1 else dense._strides[od]
    # outer dims (before the index dims when they stay in place)
    plan.n_outer = ai.first if ai.adjacent else 0
    for d in range(plan.n_outer):
        plan.outer_shape[d] = a._shape[d]
        plan.a_outer[d] = a._strides[d]
        plan.d_outer[d] = dst[d]
    bstart = plan.n_outer
    # inner dims: the non-indexed dims after them, in order
    r = bstart + nbd
    for d in range(plan.n_outer, a._ndim):
        if ai.idx[d] is None:
            plan.inner_shape[ni] = a._shape[d]
            plan.a_inner[ni] = a._strides[d]
            plan.d_inner[ni] = dst[r]
            ni += 1
            r += 1
    plan.n_inner = coalesce_dims(ni, plan.inner_shape, plan.a_inner, plan.d_inner)
    plan.nb = ai.nb
    try:
        ist = <Py_ssize_t*>malloc((ai.m * nbd + 1) * sizeof(Py_ssize_t))
        a_tab = <int64_t*>malloc((ai.nb + 1) * sizeof(int64_t))
        d_tab = <int64_t*>malloc((ai.nb + 1) * sizeof(int64_t))
        if ist == NULL or a_tab == NULL or d_tab == NULL:
            raise MemoryError()
        k = 0
        for d in range(a._ndim):
            if ai.idx[d] is None:
                continue
            t = <Tensor>ai.idx[d]
            ip[k] = t._data
            sizes[k] = a._shape[d]
            sst[k] = a._strides[d]
            for kk in range(nbd):
                od = kk - (nbd - t._ndim)
                ist[k * nbd + kk] = 0 if od < 0 or t._shape[od] == 1 else t._strides[od]
            k += 1
        if ai.nb * ai.m < GIL_RELEASE_NUMEL:
            k = cg_index_table(ai.m, ip, ist, nbd, ai.bshape, sizes, sst, ai.nb, a_tab, &bad)
        else:
            with nogil:
                k = cg_index_table(ai.m, ip, ist, nbd, ai.bshape, sizes, sst, ai.nb, a_tab, &bad)
        if k >= 0:
            raise IndexError(f"index {bad} is out of bounds for dimension {k} with size {sizes[k]}")
        cg_dense_table(nbd, ai.bshape, dst + bstart, ai.nb, d_tab)
        plan.a_tab = a_tab
        plan.d_tab = d_tab
        if total < GIL_RELEASE_NUMEL:
            cg_index_run(&plan, kind, a._data, dense._data, isz)
        else:
            with nogil:
                cg_index_run(&plan, kind, a._data, dense._data, isz)
    finally:
        free(ist)
        free(a_tab)
        free(d_tab)
    return 0


cdef Tensor adv_gather(Tensor src, _AdvIndex ai, bint iterator_layout=False):
    """src[indices] as a new tensor: contiguous, or (iterator_layout) laid
    out as PyTorch's index() lays out its result."""
    cdef Tensor out = new_tensor_from_tuple(ai.result_shape, src._dtype)
    if iterator_layout and out._ndim > 1:
        index_output_strides(ai, src, out)
    adv_run(ai, K_GATHER, src, out)
    return out


cdef int index_output_strides(_AdvIndex ai, Tensor src, Tensor out) except -1:
    """Give `out` (fresh, dense) the strides TensorIterator gives index()'s
    output: the result dims ordered fastest-first as the inputs order them
    (the source restrided with zeros on the index dims, then each index
    tensor expanded to the broadcast shape and reshaped with ones around
    it), then packed densely in that order."""
    cdef int R = out._ndim, nops = 1 + ai.m, before, r, k, d, i, j, dim0, dim1, tmp, cmp
    cdef int perm[MAX_DIMS]
    cdef Py_ssize_t est[MAX_DIMS]
    cdef Py_ssize_t ones_shape[MAX_DIMS]
    cdef Py_ssize_t vst[MAX_DIMS]
    cdef Py_ssize_t next_stride
    cdef Py_ssize_t* st = <Py_ssize_t*>malloc(nops * R * sizeof(Py_ssize_t))
    cdef Py_ssize_t s0, s1
    cdef Tensor t, tmpv
    cdef bint inverted
    if st == NULL:
        raise MemoryError()
    try:
        before = ai.first if ai.adjacent else 0
        # operand 0: the source restrided over the result dims (bytes)
        for r in range(before):
            st[r] = src._strides[r] * ITEMSIZE[src._dtype]
        for r in range(before, before + ai.nbd):
            st[r] = 0
        r = before + ai.nbd
        for d in range(before, src._ndim):
            if ai.idx[d] is None:
                st[r] = src._strides[d] * ITEMSIZE[src._dtype]
                r += 1
        # operands 1..m: the index tensors, expanded then reshaped
        k = 1
        for d in range(src._ndim):
            if ai.idx[d] is None:
                continue
            t = <Tensor>ai.idx[d]
            for j in range(ai.nbd):
                i = j - (ai.nbd - t._ndim)
                est[j] = 0 if i < 0 or (t._shape[i] == 1 and ai.bshape[j] != 1) else t._strides[i]
            tmpv = make_view(t, ai.nbd, ai.bshape, est, t._offset)
            for r in range(R):
                ones_shape[r] = ai.bshape[r - before] if before <= r < before + ai.nbd else 1
            if not view_strides(tmpv, R, ones_shape, vst):
                next_stride = 1
                for r in range(R - 1, -1, -1):
                    vst[r] = next_stride
                    next_stride *= ones_shape[r] if ones_shape[r] > 0 else 1
            for r in range(R):
                st[k * R + r] = 0 if (ones_shape[r] == 1 and out._shape[r] != 1) else vst[r] * 8
            k += 1
        # TensorIterator's reorder_dimensions: insertion sort, fastest first
        for i in range(R):
            perm[i] = R - 1 - i
        for i in range(1, R):
            dim1 = i
            for dim0 in range(i - 1, -1, -1):
                cmp = 0
                for k in range(nops):
                    s0 = st[k * R + perm[dim0]]
                    s1 = st[k * R + perm[dim1]]
                    if s0 == 0 or s1 == 0:
                        continue
                    if s0 < s1:
                        cmp = -1
                        break
                    if s0 > s1:
                        cmp = 1
                        break
                    if out._shape[perm[dim0]] > out._shape[perm[dim1]]:
                        cmp = 1
                        break
                if cmp > 0:
                    tmp = perm[dim0]
                    perm[dim0] = perm[dim1]
                    perm[dim1] = tmp
                    dim1 = dim0
                elif cmp < 0:
                    break
        inverted = True
        for i in range(R):
            if perm[i] != R - 1 - i:
                inverted = False
        if not inverted:
            next_stride = 1
            for i in range(R):
                out._strides[perm[i]] = next_stride
                next_stride *= out._shape[perm[i]]
            out._contiguous = out._numel == 0 or strides_are_contiguous(R, out._shape, out._strides)
    finally:
        free(st)
    return 0


# ---------------------------------------------------------------------------
# Advanced-indexing ops and their nodes


cdef class IndexBackward0(Node):
    cdef _AdvIndex ai
    cdef int self_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Py_ssize_t rshape[MAX_DIMS]
        cdef int i, R
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        if shape_tuple(g) != self.ai.result_shape:     # only from a direct grad_fn call
            R = len(self.ai.result_shape)
            for i in range(R):
                rshape[i] = self.ai.result_shape[i]
            if not expandable_to(g, R, rshape):
                raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(g._shape, g._ndim)} "
                                   f"cannot be broadcast to indexing result of shape {shape_str(rshape, R)}")
        return (op_index_put_ai(new_tensor_from_tuple(self.ai.src_sizes, g._dtype, True), self.ai, g,
                                True, True),)

    cdef void release_saved(self) noexcept:
        self.ai = None


cdef Tensor op_index_ai(Tensor src, _AdvIndex ai):
    """src[indices] (a copy), IndexBackward0."""
    cdef Tensor out = adv_gather(src, ai, True)
    cdef IndexBackward0 node
    if needs_grad(src):
        node = IndexBackward0.__new__(IndexBackward0)
        wire1(node, src)
        node.ai = ai
        node.self_dtype = src._dtype
        set_history(out, node)
    return out


cdef class IndexPutBackward0(InplaceFn):
    cdef _AdvIndex ai
    cdef tuple values_sizes
    cdef int values_dtype
    cdef bint accumulate

    cdef object grad_self_part(self, Tensor g):
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        if self.accumulate:
            return g
        return op_index_put_ai(g, self.ai, zeros_scalar(g._dtype), False)

    cdef object grad_other_part(self, Tensor g):
        cdef Tensor r
        if self.ai is None:
            raise RuntimeError(FREED_MSG)
        self.ai.check_versions(self)
        r = op_index_ai(g, self.ai)
        if shape_tuple(r) != self.values_sizes:
            r = op_sum_to(r, self.values_sizes)
        return op_to_dtype(r, self.values_dtype)

    cdef void release_saved(self) noexcept:
        self.ai = None


cdef class IndexPutImplBackward0(IndexPutBackward0):
    pass


cdef Tensor op_index_put_ai(Tensor self, _AdvIndex ai, Tensor values, bint accumulate,
                            bint self_is_scratch=False):
    """Out-of-place index_put: a copy of self with values (broadcast to the
    indexing result, same dtype) written (or added) at the indices.
    IndexPutBackward0, or IndexPutImplBackward0 when accumulating (the
    backward of indexing). A fresh private `self` (self_is_scratch) is
    written in place instead of copied."""
    cdef Tensor out = self if self_is_scratch else contiguous_copy(self)
    cdef IndexPutBackward0 node
    if values._dtype != out._dtype:
        values = cast_tensor(values, out._dtype)
    adv_run(ai, K_ACCUM if accumulate else K_PUT, out, values)
    if needs_grad2(self, values):
        node = (IndexPutImplBackward0.__new__(IndexPutImplBackward0) if accumulate
                else IndexPutBackward0.__new__(IndexPutBackward0))
        wire2(node, self, values)
        node.ai = ai
        node.values_sizes = shape_tuple(values)
        node.values_dtype = values._dtype
        node.accumulate = accumulate
        set_history(out, node)
    return out


# ---------------------------------------------------------------------------
# __getitem__


cdef Tensor tensor_getitem(Tensor self, object index):
    cdef _Parsed p = parse_index(self, index, False)
    cdef Tensor sliced
    if not p.tindex:
        if not p.steps:
            return op_alias(self)
        return parsed_view(self, p)
    sliced = parsed_view(self, p) if p.steps else self
    return op_index_ai(sliced, prepare_advanced(sliced._ndim, sliced._shape, p.tindex))


# ---------------------------------------------------------------------------
# __setitem__


cdef Tensor value_to_tensor(Tensor self, object value):
    """PyTorch's valueToTensor: tensors as they are, Python numbers as 0-d
    tensors of self's dtype; anything else is a TypeError."""
    cdef Tensor t
    cdef ScalarBuf buf
    cdef double d
    cdef int dt = self._dtype
    if isinstance(value, Tensor):
        return <Tensor>value
    if is_long_index(value) or isinstance(value, bool):
        value = int(value)
        if value > SSIZE_MAX or value < SSIZE_MIN:
            raise ValueError("Overflow when unpacking long long")
    elif isinstance(value, complex):
        if value.imag != 0:
            raise RuntimeError(f"value cannot be converted to type {SCALAR_TYPE_NAME[dt]} without overflow")
        value = value.real
    elif isinstance(value, float):
        value = float(value)
    else:
        raise TypeError(f"can't assign a {tp_name(value)} to a cgrad.{legacy_type_name(dt)}")
    cre_check_fill(value, dt, 1)     # a 0-d tensor filled with the value
    t = new_tensor(0, NULL, dt)
    store_scalar(&buf, value, dt)
    memcpy(t._data, &buf, ITEMSIZE[dt])
    return t


cdef inline bint write_needs_history(Tensor self, Tensor v) noexcept:
    """An in-place write is recorded when grad mode is on and the result is
    differentiable: self floating point, and self or the value requiring
    grad."""
    return (cgrad_grad_enabled and is_float(self._dtype)
            and (self._requires_grad or (v is not None and v._requires_grad)))


cdef int check_setitem_leaf(Tensor self, bint through_view) except -1:
    """In-place writes that need history: PyTorch's errors on leaves and
    views of leaves."""
    cdef Tensor base = self._base
    if self._grad_fn is None and self._requires_grad:
        raise RuntimeError(VIEW_LEAF_INPLACE_MSG if through_view else LEAF_INPLACE)
    if base is not None and base._grad_fn is None and base._requires_grad:
        raise RuntimeError(VIEW_LEAF_INPLACE_MSG)
    if self._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed."
                           "You can make a clone to get a normal tensor before doing inplace update."
                           "See https://github.com/pytorch/rfcs/pull/17 for more details.")
    return 0


cdef int strip_leading_ones(Tensor v) noexcept:
    """How many leading size-1 dims v has (numpy's compatibility rule for
    assigned values)."""
    cdef int k = 0
    while k < v._ndim and v._shape[k] == 1:
        k += 1
    return k


cdef Tensor stripped_view(Tensor v, int lead):
    if lead == 0:
        return v
    return make_view(v, v._ndim - lead, v._shape + lead, v._strides + lead, v._offset)


cdef int check_expand(Tensor v, int lead, Tensor dst) except -1:
    """expand_inplace's errors for v (minus its leading ones) against dst."""
    cdef int nd = v._ndim - lead
    cdef int i, off = dst._ndim - nd
    cdef Py_ssize_t s
    if nd > dst._ndim:
        raise RuntimeError(
            f"expand(cgrad.{legacy_type_name(v._dtype)}{{{shape_str(v._shape + lead, nd)}}}, "
            f"size={shape_str(dst._shape, dst._ndim)}): the number of sizes provided ({dst._ndim}) must "
            f"be greater or equal to the number of dimensions in the tensor ({nd})")
    for i in range(nd):
        s = v._shape[lead + i]
        if s != 1 and s != dst._shape[off + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({dst._shape[off + i]}) must match the existing size "
                f"({s}) at non-singleton dimension {off + i}.  Target sizes: "
                f"{shape_str(dst._shape, dst._ndim)}.  Tensor sizes: {shape_str(v._shape + lead, nd)}")
    return 0


cdef bint same_data(Tensor a, Tensor b) noexcept:
    """copy_'s early exit: the same elements in the same layout."""
    cdef int i
    if a._storage is not b._storage or a._offset != b._offset or a._dtype != b._dtype:
        return False
    if not same_shape(a, b):
        return False
    for i in range(a._ndim):
        if a._strides[i] != b._strides[i]:
            return False
    return True


cdef int setitem_basic(Tensor self, _Parsed p, Tensor v) except -1:
    """copy_to(self[basic index], v): copy_ (same shape), fill_ (0-d value)
    or copy_ of v expanded (leading ones of v dropped first)."""
    cdef Tensor dst = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                           p.g.offset)
    cdef bint fill = False
    cdef int lead = 0, i, off, st
    cdef Py_ssize_t eshape[MAX_DIMS]
    cdef Py_ssize_t estrides[MAX_DIMS]
    cdef Tensor src, value_in
    cdef InplaceFn fn
    cdef bint history = write_needs_history(self, v)
    if not same_shape(dst, v):
        if v._ndim == 0:
            fill = True
        else:
            lead = strip_leading_ones(v)
            check_expand(v, lead, dst)
    if history:
        check_setitem_leaf(self, bool(p.steps))
    elif self._is_inference and not cgrad_inference_mode:
        check_inplace(self)
    src = stripped_view(v, lead) if lead else v
    if not same_data(dst, src):
        if has_internal_overlap(dst):
            raise RuntimeError(INTERNAL_OVERLAP_MSG)
        if not fill and src._storage is dst._storage:
            # the geometry of src expanded to dst, as copy_ sees it
            off = dst._ndim - src._ndim
            for i in range(dst._ndim):
                eshape[i] = dst._shape[i]
                estrides[i] = 0 if (i < off or src._shape[i - off] == 1) else src._strides[i - off]
            st = overlap_status(dst, dst._ndim, eshape, estrides, src)
            if st == OVERLAP_PARTIAL:
                raise RuntimeError(PARTIAL_OVERLAP_MSG)
            src = contiguous_copy(src)      # read everything before writing
        copy_into(dst, src)
    self._storage.version += 1
    if not history:
        return 0
    # the graph: the write recorded on self (or on its region: CopySlices)
    if fill:
        fn = FillBackward3.__new__(FillBackward3)
        (<FillBackward3>fn).value_dtype = v._dtype
        value_in = v
    else:
        fn = CopyBackwards.__new__(CopyBackwards)
        (<CopyBackwards>fn).src_dtype = v._dtype
        value_in = v
        if not same_shape(dst, v):
            if lead:
                value_in = op_view(value_in, shape_tuple(v)[lead:])
            if not same_shape(value_in, dst):
                value_in = op_expand(value_in, shape_tuple(dst))
    record_write(self, p, fn, value_in)
    return 0


cdef int record_write(Tensor self, _Parsed p, InplaceFn fn, Tensor value_in) except -1:
    """Give self the history of a write into it (or into its region, a view:
    then its base gets CopySlices; see inplace.pxi)."""
    cdef Tensor region = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                              p.g.offset)
    wire_many(fn, [self, value_in], 1)
    rebase_after_write(region, fn)
    if self._base is not None and region is not self:
        # self (a view) looked at its base's history before the rebase
        set_view_history(self, self._base)
    return 0


cdef int setitem_advanced(Tensor self, _Parsed p, Tensor v) except -1:
    """index_put_(self[basic part], indices, v with its leading ones dropped)."""
    cdef Tensor sliced = self if not p.steps else make_view(self, p.g.ndim, p.g.shape, p.g.strides,
                                                              p.g.offset)
    cdef bint history = write_needs_history(self, v)
    cdef int lead = strip_leading_ones(v)
    cdef Tensor vs = stripped_view(v, lead)
    cdef Tensor mask, t, value_in
    cdef _AdvIndex ai = None
    cdef Py_ssize_t rshape[MAX_DIMS]
    cdef int i, R, d
    cdef IndexPutBackward0 fn
    if history:
        check_setitem_leaf(self, bool(p.steps))
    elif self._is_inference and not cgrad_inference_mode:
        check_inplace(self)
    expanded = has_internal_overlap(sliced)
    if expanded:
        import warnings
        warnings.warn(INDEX_PUT_EXPANDED_MSG, UserWarning, stacklevel=1)
    if v._numel == 1 and len(p.tindex) == 1 and is_mask_dtype((<Tensor>p.tindex[0][1])._dtype):
        # PyTorch dispatches this to masked_fill_ with the value as a scalar
        d = p.tindex[0][0]
        mask = <Tensor>p.tindex[0][1]
        check_bool_mask(mask)       # masked_fill_ refuses a uint8 mask
        check_mask_shape(mask, d, sliced._ndim, sliced._shape)
        if expanded:
            import warnings
            warnings.warn(MASKED_FILL_EXPANDED_MSG, UserWarning, stacklevel=1)
        if history:
            ai = prepare_advanced(sliced._ndim, sliced._shape, p.tindex)
        masked_fill_into(sliced, mask, d, scalar_value(v))
    else:
        if overlap_status(sliced, vs._ndim, vs._shape, vs._strides, vs) in (OVERLAP_PARTIAL, OVERLAP_FULL):
            raise RuntimeError(PARTIAL_OVERLAP_MSG)
        for d, t in p.tindex:
            if (t._dtype == I64 or t._dtype == I32) and overlap_status(sliced, t._ndim, t._shape, t._strides, t) in (
                    OVERLAP_PARTIAL, OVERLAP_FULL):
                raise RuntimeError(PARTIAL_OVERLAP_MSG)
        ai = prepare_advanced(sliced._ndim, sliced._shape, p.tindex)
        R = len(ai.result_shape)
        for i in range(R):
            rshape[i] = ai.result_shape[i]
        if not expandable_to(vs, R, rshape):
            raise RuntimeError(f"shape mismatch: value tensor of shape {shape_str(vs._shape, vs._ndim)} "
                               f"cannot be broadcast to indexing result of shape {shape_str(rshape, R)}")
        if vs._dtype != sliced._dtype:
            raise RuntimeError(
                f"Index put requires the source and destination dtypes match, got "
                f"{dtype_title(sliced._dtype)} for the destination and {dtype_title(vs._dtype)} for the source.")
        if vs._storage is sliced._storage:
            vs = contiguous_copy(vs)
        adv_run(ai, K_PUT, sliced, vs)
    self._storage.version += 1
    if not history:
        return 0
    fn = IndexPutBackward0.__new__(IndexPutBackward0)
    fn.ai = ai
    value_in = op_view(v, shape_tuple(v)[lead:]) if lead else v
    fn.values_sizes = shape_tuple(value_in)
    fn.values_dtype = v._dtype
    record_write(self, p, fn, value_in)
    return 0


cdef bint expandable_to(Tensor v, int nd, const Py_ssize_t* shape) noexcept:
    cdef int i, off = nd - v._ndim
    if off < 0:
        return False
    for i in range(v._ndim):
        if v._shape[i] != 1 and v._shape[i] != shape[off + i]:
            return False
    return True


cdef int tensor_setitem(Tensor self, object index, object value) except -1:
    cdef Tensor v = value_to_tensor(self, value)
    cdef _Parsed p
    if index is False:
        return 0
    p = parse_index(self, index, True)
    if p.tindex:
        return setitem_advanced(self, p, v)
    return setitem_basic(self, p, v)


# ---------------------------------------------------------------------------
# masked_fill


cdef void masked_fill_row_1(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint8_t* o = <uint8_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint8_t v = (<uint8_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_2(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint16_t* o = <uint16_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint16_t v = (<uint16_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_4(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint32_t* o = <uint32_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint32_t v = (<uint32_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef void masked_fill_row_8(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil:
    cdef uint64_t* o = <uint64_t*>p[0]
    cdef const uint8_t* m = <const uint8_t*>p[1]
    cdef uint64_t v = (<uint64_t*>ctx)[0]
    cdef Py_ssize_t i
    for i in range(n):
        if m[i * s[1]]:
            o[i * s[0]] = v


cdef int masked_fill_into(Tensor dst, Tensor mask, int dim, object value) except -1:
    """dst[m] = value where mask (aligned with dst's dims from `dim` on,
    broadcast over the others) is true; value converted to dst's dtype."""
    cdef ScalarBuf buf
    cdef Operand ops[2]
    cdef Py_ssize_t mshape[MAX_DIMS]
    cdef Py_ssize_t mstrides[MAX_DIMS]
    cdef int i, isz = ITEMSIZE[dst._dtype]
    cdef RowFn fn = masked_fill_row_1 if isz == 1 else (
        masked_fill_row_2 if isz == 2 else (masked_fill_row_4 if isz == 4 else masked_fill_row_8))
    store_scalar(&buf, value, dst._dtype)
    for i in range(dst._ndim):
        if dim <= i < dim + mask._ndim:
            mshape[i] = mask._shape[i - dim]
            mstrides[i] = mask._strides[i - dim]
        else:
            mshape[i] = 1
            mstrides[i] = 0
    ops[0] = operand_of(dst)
    ops[1] = operand_of(mask)
    ops[1].ndim = dst._ndim
    ops[1].shape = mshape
    ops[1].strides = mstrides
    ops[1].contiguous = mask._contiguous and dim == 0 and mask._ndim == dst._ndim
    return run_elementwise(fn, 2, ops, dst._ndim, dst._shape, dst._numel, &buf)


cdef class MaskedFillBackward0(Node):
    cdef Tensor mask
    cdef long long mask_version
    cdef tuple self_sizes       # set when self was broadcast
    cdef int self_dtype

    cdef Tensor grad_self(self, Tensor g):
        g = op_masked_fill(g, unpack_input(self, self.mask, self.mask_version), 0, None)
        if self.self_sizes is not None:
            g = op_sum_to(g, self.self_sizes)
        return g

    cdef tuple apply(self, object grads):
        if wants_grad(self, 0):
            return (self.grad_self(<Tensor>grads),)
        return (None,)

    cdef void release_saved(self) noexcept:
        self.mask = None


cdef class MaskedFillBackward1(MaskedFillBackward0):
    cdef int value_dtype

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gv = None
        if wants_grad(self, 0):
            ga = self.grad_self(g)
        if wants_grad(self, 1):
            gv = op_where(unpack_input(self, self.mask, self.mask_version), g, zeros_scalar(g._dtype))
            gv = op_to_dtype(op_sum(<Tensor>gv), self.value_dtype)
        return (ga, gv)


cdef tuple masked_fill_value(object value, str fname):
    """(the value as a Python number, the value tensor or None)."""
    cdef Tensor vt
    if isinstance(value, Tensor):
        vt = <Tensor>value
        if vt._ndim != 0:
            raise RuntimeError(f"{fname} only supports a 0-dimensional value tensor, but got tensor with "
                               f"{vt._ndim} dimension(s).")
        return (scalar_value(vt), vt)
    if is_scalar(value):
        return (normalize_scalar(value), None)
    raise TypeError(
        f"masked_fill() received an invalid combination of arguments - got (Tensor, {tp_name(value)}), "
        "but expected one of:\n * (Tensor mask, Tensor value)\n      didn't match because some of the "
        f"arguments have invalid types: (Tensor, !{tp_name(value)}!)\n * (Tensor mask, Number value)\n"
        "      didn't match because some of the arguments have invalid types: "
        f"(Tensor, !{tp_name(value)}!)\n")


cdef int check_bool_mask(Tensor mask) except -1:
    if mask._dtype != BOOL:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{C_TYPE_NAME[mask._dtype]}")
    return 0


cdef Tensor op_masked_fill(Tensor self, Tensor mask, object value, Tensor vt):
    """self where mask is false, value where it is true (self and mask
    broadcast); MaskedFillBackward0, or MaskedFillBackward1 for a tensor
    value."""
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef Tensor out
    cdef MaskedFillBackward0 node
    cdef MaskedFillBackward1 node1
    check_bool_mask(mask)
    nd = broadcast_shapes(mask._ndim, mask._shape, self._ndim, self._shape, shape)
    out = new_tensor(nd, shape, self._dtype)
    copy_into(out, self)
    masked_fill_into(out, mask, nd - mask._ndim, value)
    if vt is not None and needs_grad2(self, vt):
        node1 = MaskedFillBackward1.__new__(MaskedFillBackward1)
        wire2(node1, self, vt)
        node1.value_dtype = vt._dtype
        node = node1
    elif needs_grad(self):
        node = MaskedFillBackward0.__new__(MaskedFillBackward0)
        wire1(node, self)
    else:
        return out
    node.mask = mask
    node.mask_version = mask._storage.version
    node.self_dtype = self._dtype
    if not same_shape(out, self):
        node.self_sizes = shape_tuple(self)
    set_history(out, node)
    return out


cdef Tensor masked_fill_inplace(Tensor self, Tensor mask, object value, Tensor vt):
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef int nd
    cdef bint history
    cdef MaskedFillBackward0 node
    cdef MaskedFillBackward1 node1
    check_bool_mask(mask)
    nd = broadcast_shapes(self._ndim, self._shape, mask._ndim, mask._shape, shape)
    if not shape_equals(self, nd, shape):
        raise RuntimeError(f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the "
                           f"broadcast shape {shape_str(shape, nd)}")
    history = write_needs_history(self, vt)
    if history:
        check_setitem_leaf(self, False)
    else:
        check_inplace(self)
    if has_internal_overlap(self):
        import warnings
        warnings.warn(MASKED_FILL_EXPANDED_MSG, UserWarning, stacklevel=1)
    masked_fill_into(self, mask, self._ndim - mask._ndim, value)
    self._storage.version += 1
    if not history:
        return self
    if vt is not None:
        node1 = MaskedFillBackward1.__new__(MaskedFillBackward1)
        wire2(node1, self, vt)
        node1.value_dtype = vt._dtype
        node = node1
    else:
        node = MaskedFillBackward0.__new__(MaskedFillBackward0)
        wire1(node, self)
    node.mask = mask
    node.mask_version = mask._storage.version
    node.self_dtype = self._dtype
    set_history(self, node)
    return self


def masked_fill(input, mask, value):
    """input with value where mask is true (mask broadcast)."""
    cdef Tensor x = input_arg(input, "masked_fill")
    cdef Tensor m = tensor_arg(mask, "masked_fill", "mask")
    v, vt = masked_fill_value(value, "masked_fill_")
    return op_masked_fill(x, m, v, vt)


# ---------------------------------------------------------------------------
# index_select


cdef class IndexSelectBackward0(Node):
    cdef tuple self_sizes
    cdef int dim
    cdef Tensor index
    cdef long long index_version

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef Tensor index = unpack_input(self, self.index, self.index_version)
        return (op_index_add_zeros(self.self_sizes, self.dim, index, g),)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef class IndexAddBackward0(Node):
    cdef int dim
    cdef Tensor index

    cdef tuple apply(self, object grads):
        cdef Tensor g = <Tensor>grads
        cdef object ga = None, gs = None
        if wants_grad(self, 0):
            ga = g
        if wants_grad(self, 1):
            if self.index is None:
                raise RuntimeError(FREED_MSG)
            gs = op_index_select(g, self.dim, self.index)
        return (ga, gs)

    cdef void release_saved(self) noexcept:
        self.index = None


cdef _AdvIndex select_plan(Tensor x, int dim, Tensor index):
    """index_select as advanced indexing of x (ndim >= 1) by a vector."""
    cdef _AdvIndex ai = _AdvIndex.__new__(_AdvIndex)
    cdef Py_ssize_t one = 1
    cdef list idx = [None] * x._ndim
    cdef list res
    if index._ndim == 0:
        index = make_view(index, 1, &one, &one, index._offset)
    idx[dim] = index
    ai.idx = idx
    ai.saved = []
    ai.m = 1
    ai.first = dim
    ai.adjacent = True
    ai.nbd = 1
    ai.bshape[0] = index._numel
    ai.nb = index._numel
    ai.src_sizes = shape_tuple(x)
    res = list(ai.src_sizes)
    res[dim] = index._numel
    ai.result_shape = tuple(res)
    return ai


cdef int check_select_bounds(Tensor x, int dim, Tensor index) except -1:
    cdef Py_ssize_t bad, n = index._numel
    cdef Py_ssize_t ist = index._strides[0] if index._ndim else 1
    cdef int64_t size
    cdef int64_t v
    if x._ndim > 1:
        if n == 0:
            return 0
        if x._numel == 0:
            if x._shape[dim] <= 0:
                raise RuntimeError("index_select(): self indexing axis dim should be positive")
            size = x._shape[dim]
        else:
            size = x._shape[dim]
    else:
        size = x._numel
    bad = cg_select_check(<int64_t*>index._data, ist, n, size)
    if bad >= 0:
        v = (<int64_t*>index._data)[bad * ist]
        if x._ndim > 1 and (dim == 1 or x._numel == 0):
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={v} axis_dim={size}")
        raise IndexError("index out of range in self")
    return 0


cdef Tensor op_index_select(Tensor x, int dim, Tensor index):
    cdef Tensor out
    cdef IndexSelectBackward0 node
    if x._ndim == 0:
        out = contiguous_copy(x)
    else:
        out = adv_gather(x, select_plan(x, dim, index))
    if needs_grad(x):
        node = IndexSelectBackward0.__new__(IndexSelectBackward0)
        wire1(node, x)
        node.self_sizes = shape_tuple(x)
        node.dim = dim
        node.index = index
        node.index_version = index._storage.version
        set_history(out, node)
    return out


cdef Tensor op_index_add_zeros(tuple sizes, int dim, Tensor index, Tensor source):
    """zeros(sizes).index_add_(dim, index, source), differentiable in
    source (IndexAddBackward0)."""
    cdef Tensor out = new_tensor_from_tuple(sizes, source._dtype, True)
    cdef IndexAddBackward0 node
    if out._ndim == 0:
        copy_into(out, source)
    else:
        adv_run(select_plan(out, dim, index), K_ACCUM, out, source)
    if needs_grad(source):
        node = IndexAddBackward0.__new__(IndexAddBackward0)
        wire_many(node, [None, source], 1)
        node.dim = dim
        node.index = index
        set_history(out, node)
    return out


cdef Tensor index_select_checked(Tensor x, object dim, object index):
    cdef Tensor idx
    cdef Py_ssize_t dim_i = as_index(dim, "index_select(): argument 'dim' (position 1)")
    cdef int d
    if not isinstance(index, Tensor):
        raise TypeError(f"index_select(): argument 'index' (position 2) must be Tensor, not {tp_name(index)}")
    idx = <Tensor>index
    d = wrap_dim(dim_i, x._ndim)
    if idx._ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if x._ndim == 0 and idx._numel != 1:
        raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {idx._numel} value(s)")
    if idx._dtype != I64 and idx._dtype != I32:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if idx._dtype == I32:
        idx = cast_tensor(idx, I64)
    check_select_bounds(x, d, idx)
    return op_index_select(x, d, idx)


def index_select(input, dim, index, *, out=None):
    """The entries of input at `index` (a vector) along dim."""
    if out is not None:
        raise NotImplementedError("index_select(out=...) is not supported by cgrad")
    return index_select_checked(input_arg(input, "index_select"), dim, index)
