# cummax / cummin of rows in C (cgrad/_ops_cumulative.py calls
# _cum_extreme_rows on a C-contiguous (rows, n) copy of float32, float64 or
# int64 input; numpy's accumulate does the other dtypes): one pass a row
# with PyTorch's update rule (cummax_cummin_helper): the running value and
# its index move to x when x is NaN, or when the running value is not NaN
# and x >= it (<= for cummin), so the index is the last place the extreme
# was reached. (numpy took four passes and three temporaries.)


cdef extern from *:
    """
    #include <math.h>
    #define CG_CUM_EXTREME_ROWS(SUF, T, ISNAN)                                              \\
    static void cg_cum_extreme_rows_##SUF(const T* src, Py_ssize_t rows, Py_ssize_t n,     \\
                                          int is_max, T* vals, int64_t* idx) {             \\
        if (n <= 0) return;                                                                \\
        for (Py_ssize_t r = 0; r < rows; r++) {                                            \\
            const T* x = src + r * n;                                                      \\
            T* v = vals + r * n;                                                           \\
            int64_t* ix = idx + r * n;                                                     \\
            T out = x[0];                                                                  \\
            int64_t at = 0;                                                                \\
            for (Py_ssize_t j = 0; j < n; j++) {                                           \\
                T e = x[j];                                                                \\
                if (ISNAN(e) || (!ISNAN(out) && (is_max ? e >= out : e <= out))) {         \\
                    out = e; at = j;                                                       \\
                }                                                                          \\
                v[j] = out; ix[j] = at;                                                    \\
            }                                                                              \\
        }                                                                                  \\
    }
    #define CG_CUM_ISNAN_FLOAT(x) isnan(x)
    #define CG_CUM_ISNAN_INT(x) 0
    CG_CUM_EXTREME_ROWS(f32, float, CG_CUM_ISNAN_FLOAT)
    CG_CUM_EXTREME_ROWS(f64, double, CG_CUM_ISNAN_FLOAT)
    CG_CUM_EXTREME_ROWS(i64, int64_t, CG_CUM_ISNAN_INT)
    """
    void cg_cum_extreme_rows_f32(const float* src, Py_ssize_t rows, Py_ssize_t n, int is_max,
                                 float* vals, int64_t* idx) nogil
    void cg_cum_extreme_rows_f64(const double* src, Py_ssize_t rows, Py_ssize_t n, int is_max,
                                 double* vals, int64_t* idx) nogil
    void cg_cum_extreme_rows_i64(const int64_t* src, Py_ssize_t rows, Py_ssize_t n, int is_max,
                                 int64_t* vals, int64_t* idx) nogil


def _cum_extreme_rows(object src, Py_ssize_t rows, Py_ssize_t n, bint is_max, int code, object vals,
                      object idx):
    """Fill vals (src's dtype) and idx (int64), C-contiguous (rows, n), with
    the running max (min) of each row of src, a C-contiguous (rows, n)
    buffer of code 0 float32, 1 float64, 2 int64, and its index."""
    cdef Py_buffer bs, bv, bi
    cdef Py_ssize_t isz = 4 if code == 0 else 8
    if code < 0 or code > 2 or rows < 0 or n < 0:
        raise ValueError("_cum_extreme_rows: bad arguments")
    PyObject_GetBuffer(src, &bs, PyBUF_C_CONTIGUOUS)
    try:
        PyObject_GetBuffer(vals, &bv, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
        try:
            PyObject_GetBuffer(idx, &bi, PyBUF_C_CONTIGUOUS | PyBUF_WRITABLE)
            try:
                if bs.len != rows * n * isz or bv.len != rows * n * isz or bi.len != rows * n * 8:
                    raise ValueError("_cum_extreme_rows: buffer sizes do not match")
                with nogil:
                    if code == 0:
                        cg_cum_extreme_rows_f32(<const float*>bs.buf, rows, n, is_max, <float*>bv.buf,
                                                <int64_t*>bi.buf)
                    elif code == 1:
                        cg_cum_extreme_rows_f64(<const double*>bs.buf, rows, n, is_max, <double*>bv.buf,
                                                <int64_t*>bi.buf)
                    else:
                        cg_cum_extreme_rows_i64(<const int64_t*>bs.buf, rows, n, is_max, <int64_t*>bv.buf,
                                                <int64_t*>bi.buf)
            finally:
                PyBuffer_Release(&bi)
        finally:
            PyBuffer_Release(&bv)
    finally:
        PyBuffer_Release(&bs)
