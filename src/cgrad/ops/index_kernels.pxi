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
           CG_ACC_I32, CG_ACC_U8, CG_ACC_BF16 };

    #define CG_OP_G(x, y) (y) = (x)
    #define CG_OP_P(x, y) (x) = (y)
    #define CG_OP_A(x, y) (x) += (y)
    #define CG_OP_B(x, y) (x) = (uint8_t)((x) | (y))
    #define CG_OP_H(x, y) (x) = cg_f2h(cg_h2f(x) + cg_h2f(y))
    #define CG_OP_BF(x, y) (x) = cg_f2bf(cg_bf2f(x) + cg_bf2f(y))
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
        case CG_ACC_BF16: CG_LOOP_S(uint16_t, CG_OP_BF)
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
        case CG_ACC_BF16: CG_LOOP_T(uint16_t, CG_OP_BF)
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
        CG_ACC_I32, CG_ACC_U8, CG_ACC_BF16
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
    if dt == BF16:
        return CG_ACC_BF16
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
    if t is Tensor:     # tp_name 'Tensor' (its __module__ reads 'cgrad')
        return "Tensor"
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
