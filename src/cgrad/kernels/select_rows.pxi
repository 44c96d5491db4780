# Order statistics of rows in C: topk (the k first in order, sorted) and the
# element at one sorted position of each row (kthvalue, median, nanmedian),
# for float32, float64 and int64 rows (cgrad/_ops_sort.py calls
# _select_rows on a C-contiguous (rows, n) copy and keeps numpy's stable
# argsort for the other dtypes).
#
# The order is that of a stable sort: each element is keyed by (value, its
# index), NaN above every number (NaNs among themselves by index), and
# "largest" sorts by value descending with the lower index first among
# equals, as the stable argsort of the reversed row does. That key is a
# total order with no ties, so a selection (introselect: quickselect with a
# median of three, heapsort past a depth budget) picks exactly the element
# the stable sort puts at that position, in O(n) a row instead of the sort's
# O(n log n) and without sorting the rows that topk does not return. topk
# with k <= 16 keeps the k first in one pass instead (cg_topk_small).

from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_C_CONTIGUOUS, PyBUF_WRITABLE


cdef extern from *:
    """
    #include <math.h>
    #include <stdlib.h>
    #define CG_ISNAN_FLOAT(x) isnan(x)
    #define CG_ISNAN_INT(x) 0
    #define CG_TOPK_SMALL 16
    #define CG_SELECT_ROWS(SUF, T, ISNAN)                                                   \\
    typedef struct { T v; int64_t i; } cg_pair_##SUF;                                      \\
    static inline int cg_before_##SUF(const cg_pair_##SUF* a, const cg_pair_##SUF* b,      \\
                                      int largest) {                                       \\
        int an = ISNAN(a->v), bn = ISNAN(b->v);                                            \\
        if (an | bn) {                                                                     \\
            if (an & bn) return a->i < b->i;                                               \\
            return largest ? an : bn;                                                      \\
        }                                                                                  \\
        if (a->v != b->v) return largest ? (a->v > b->v) : (a->v < b->v);                  \\
        return a->i < b->i;                                                                \\
    }                                                                                      \\
    static void cg_sift_##SUF(cg_pair_##SUF* p, Py_ssize_t root, Py_ssize_t n,             \\
                              int largest) {                                               \\
        cg_pair_##SUF t = p[root];                                                         \\
        for (;;) {                                                                         \\
            Py_ssize_t c = 2 * root + 1;                                                   \\
            if (c >= n) break;                                                             \\
            if (c + 1 < n && cg_before_##SUF(&p[c], &p[c + 1], largest)) c++;              \\
            if (!cg_before_##SUF(&t, &p[c], largest)) break;                               \\
            p[root] = p[c];                                                                \\
            root = c;                                                                      \\
        }                                                                                  \\
        p[root] = t;                                                                       \\
    }                                                                                      \\
    static void cg_sort_##SUF(cg_pair_##SUF* p, Py_ssize_t n, int largest) {               \\
        if (n <= 24) {                                                                     \\
            for (Py_ssize_t i = 1; i < n; i++) {                                           \\
                cg_pair_##SUF t = p[i];                                                    \\
                Py_ssize_t j = i;                                                          \\
                while (j > 0 && cg_before_##SUF(&t, &p[j - 1], largest)) {                 \\
                    p[j] = p[j - 1]; j--;                                                  \\
                }                                                                          \\
                p[j] = t;                                                                  \\
            }                                                                              \\
            return;                                                                        \\
        }                                                                                  \\
        for (Py_ssize_t r = n / 2; r-- > 0;) cg_sift_##SUF(p, r, n, largest);              \\
        for (Py_ssize_t e = n - 1; e > 0; e--) {                                           \\
            cg_pair_##SUF t = p[0]; p[0] = p[e]; p[e] = t;                                 \\
            cg_sift_##SUF(p, 0, e, largest);                                               \\
        }                                                                                  \\
    }                                                                                      \\
    static void cg_select_##SUF(cg_pair_##SUF* p, Py_ssize_t n, Py_ssize_t kth,            \\
                                int largest) {                                             \\
        Py_ssize_t lo = 0, hi = n - 1;                                                     \\
        int budget = 8;                                                                    \\
        for (Py_ssize_t m = n; m > 1; m >>= 1) budget += 2;                                \\
        while (hi > lo) {                                                                  \\
            if (hi - lo < 24 || budget-- == 0) {                                           \\
                cg_sort_##SUF(p + lo, hi - lo + 1, largest);                               \\
                return;                                                                    \\
            }                                                                              \\
            Py_ssize_t mid = lo + (hi - lo) / 2;                                           \\
            cg_pair_##SUF t;                                                               \\
            if (cg_before_##SUF(&p[mid], &p[lo], largest)) { t = p[mid]; p[mid] = p[lo]; p[lo] = t; } \\
            if (cg_before_##SUF(&p[hi], &p[mid], largest)) { t = p[mid]; p[mid] = p[hi]; p[hi] = t; } \\
            if (cg_before_##SUF(&p[mid], &p[lo], largest)) { t = p[mid]; p[mid] = p[lo]; p[lo] = t; } \\
            cg_pair_##SUF pivot = p[mid];                                                  \\
            Py_ssize_t i = lo, j = hi;                                                     \\
            while (i <= j) {                                                               \\
                while (cg_before_##SUF(&p[i], &pivot, largest)) i++;                       \\
                while (cg_before_##SUF(&pivot, &p[j], largest)) j--;                       \\
                if (i <= j) { t = p[i]; p[i] = p[j]; p[j] = t; i++; j--; }                 \\
            }                                                                              \\
            if (kth <= j) hi = j;                                                          \\
            else if (kth >= i) lo = i;                                                     \\
            else return;                                                                   \\
        }                                                                                  \\
    }                                                                                      \\
    /* topk for a small k: one pass keeping the k first so far, sorted (an element    \\
     * enters only when it comes before the k-th, rarely after the first few on       \\
     * unsorted data): O(n) compares with no pair array to fill, where the select     \\
     * walks the row several times. buf holds k pairs. */                             \\
    static void cg_topk_small_##SUF(const T* row, Py_ssize_t n, Py_ssize_t k,          \\
                                    int largest, cg_pair_##SUF* buf) {                \\
        Py_ssize_t m = 0;                                                              \\
        for (Py_ssize_t j = 0; j < n; j++) {                                           \\
            cg_pair_##SUF c; c.v = row[j]; c.i = j;                                    \\
            if (m == k) {                                                              \\
                if (!cg_before_##SUF(&c, &buf[k - 1], largest)) continue;              \\
                m--;                                                                   \\
            }                                                                          \\
            Py_ssize_t q = m;                                                          \\
            while (q > 0 && cg_before_##SUF(&c, &buf[q - 1], largest)) {               \\
                buf[q] = buf[q - 1]; q--;                                              \\
            }                                                                          \\
            buf[q] = c; m++;                                                           \\
        }                                                                              \\
    }                                                                                  \\
    /* 0, or -1 when out of memory */                                                      \\
    static int cg_select_rows_##SUF(const T* src, Py_ssize_t rows, Py_ssize_t n,           \\
                                    Py_ssize_t k, const int64_t* pos, int largest,         \\
                                    T* vals, int64_t* idx) {                               \\
        cg_pair_##SUF* p = (cg_pair_##SUF*)malloc((size_t)(n > 0 ? n : 1) * sizeof(*p));   \\
        if (!p) return -1;                                                                 \\
        for (Py_ssize_t r = 0; r < rows; r++) {                                            \\
            const T* row = src + r * n;                                                    \\
            if (pos || k > CG_TOPK_SMALL)                                                  \\
                for (Py_ssize_t j = 0; j < n; j++) { p[j].v = row[j]; p[j].i = j; }        \\
            if (pos) {                                                                     \\
                Py_ssize_t kth = (Py_ssize_t)pos[r];                                       \\
                cg_select_##SUF(p, n, kth, largest);                                       \\
                vals[r] = p[kth].v; idx[r] = p[kth].i;                                     \\
            } else if (k > 0 && k <= CG_TOPK_SMALL) {                                      \\
                cg_topk_small_##SUF(row, n, k, largest, p);                                \\
                for (Py_ssize_t j = 0; j < k; j++) {                                       \\
                    vals[r * k + j] = p[j].v; idx[r * k + j] = p[j].i;                     \\
                }                                                                          \\
            } else if (k > 0) {                                                            \\
                cg_select_##SUF(p, n, k - 1, largest);                                     \\
                cg_sort_##SUF(p, k - 1, largest);                                          \\
                for (Py_ssize_t j = 0; j < k; j++) {                                       \\
                    vals[r * k + j] = p[j].v; idx[r * k + j] = p[j].i;                     \\
                }                                                                          \\
            }                                                                              \\
        }                                                                                  \\
        free(p);                                                                           \\
        return 0;                                                                          \\
    }
    CG_SELECT_ROWS(f32, float, CG_ISNAN_FLOAT)
    CG_SELECT_ROWS(f64, double, CG_ISNAN_FLOAT)
    CG_SELECT_ROWS(i64, int64_t, CG_ISNAN_INT)
    """
    int cg_select_rows_f32(const float* src, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k,
                           const int64_t* pos, int largest, float* vals, int64_t* idx) nogil
    int cg_select_rows_f64(const double* src, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k,
                           const int64_t* pos, int largest, double* vals, int64_t* idx) nogil
    int cg_select_rows_i64(const int64_t* src, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k,
                           const int64_t* pos, int largest, int64_t* vals, int64_t* idx) nogil


def _select_rows(object src, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k, object positions,
                 bint largest, int code, object vals, object idx):
    """Fill vals/idx (C-contiguous, (rows, k), or (rows,) with positions)
    from src, a C-contiguous (rows, n) buffer of code 0 float32, 1 float64,
    2 int64: the k first of each row in order, sorted, or (positions given,
    an int64 buffer of rows entries in [0, n)) the element at that sorted
    position."""
    cdef Py_buffer bs, bv, bi, bp
    cdef Py_ssize_t isz = 4 if code == 0 else 8
    cdef Py_ssize_t m = 1 if positions is not None else k
    cdef Py_ssize_t r
    cdef int rc = 0
    cdef const int64_t* pos = NULL
    if code < 0 or code > 2 or rows < 0 or n < 0 or k < 0 or k > n:
        raise ValueError("_select_rows: bad arguments")
    PyObject_GetBuffer(src, &bs, PyBUF_C_CONTIGUOUS)
    try:
        PyObject_GetBuffer(vals, &bv, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            PyObject_GetBuffer(idx, &bi, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if bs.len != rows * n * isz or bv.len != rows * m * isz or bi.len != rows * m * 8:
                    raise ValueError("_select_rows: buffer sizes do not match")
                if positions is not None:
                    PyObject_GetBuffer(positions, &bp, PyBUF_C_CONTIGUOUS)
                    try:
                        if bp.len != rows * 8:
                            raise ValueError("_select_rows: buffer sizes do not match")
                        pos = <const int64_t*>bp.buf
                        for r in range(rows):
                            if pos[r] < 0 or pos[r] >= n:
                                raise ValueError("_select_rows: position out of range")
                        rc = _select_rows_run(bs.buf, rows, n, k, pos, largest, code, bv.buf, bi.buf)
                    finally:
                        PyBuffer_Release(&bp)
                else:
                    rc = _select_rows_run(bs.buf, rows, n, k, NULL, largest, code, bv.buf, bi.buf)
            finally:
                PyBuffer_Release(&bi)
        finally:
            PyBuffer_Release(&bv)
    finally:
        PyBuffer_Release(&bs)
    if rc != 0:
        raise MemoryError()


cdef int _select_rows_run(void* src, Py_ssize_t rows, Py_ssize_t n, Py_ssize_t k, const int64_t* pos,
                          bint largest, int code, void* vals, void* idx) noexcept:
    cdef int rc
    with nogil:
        if code == 0:
            rc = cg_select_rows_f32(<const float*>src, rows, n, k, pos, largest, <float*>vals, <int64_t*>idx)
        elif code == 1:
            rc = cg_select_rows_f64(<const double*>src, rows, n, k, pos, largest, <double*>vals, <int64_t*>idx)
        else:
            rc = cg_select_rows_i64(<const int64_t*>src, rows, n, k, pos, largest, <int64_t*>vals, <int64_t*>idx)
    return rc
