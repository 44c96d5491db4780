# Typed kernels of the LAPACK-backed linear algebra that numpy.linalg does not
# expose: LU with partial pivoting (getrf's algorithm: the first largest
# |pivot|, the rows swapped whole, a zero pivot reported as info and the
# factorization carried on), triangular solves (trsm), the row interchanges
# of getrs, and Cholesky's info (the order of the first leading minor that is
# not positive-definite, as potrf reports it). Each works in place on a
# C-contiguous batch of matrices, one matrix after the other, without the GIL.

from libc.math cimport fabs as _lk_fabs, sqrt as _lk_sqrt

ctypedef fused lin_t:
    float
    double


cdef void lu_batch(lin_t* a, int32_t* piv, int32_t* info, Py_ssize_t batch,
                   Py_ssize_t m, Py_ssize_t n) noexcept nogil:
    # OUT a (LU packed, in place), piv (1-based, min(m,n) per matrix), info
    cdef Py_ssize_t q, i, j, c, p, k = m if m < n else n
    cdef lin_t best, v, l, tmp
    cdef lin_t* x
    for q in range(batch):
        x = a + q * m * n
        info[q] = 0
        for j in range(k):
            p = j
            best = _lk_fabs(x[j * n + j])
            for i in range(j + 1, m):
                v = _lk_fabs(x[i * n + j])
                if v > best:
                    best = v
                    p = i
            piv[q * k + j] = <int32_t>(p + 1)
            if x[p * n + j] != 0:
                if p != j:
                    for c in range(n):
                        tmp = x[j * n + c]
                        x[j * n + c] = x[p * n + c]
                        x[p * n + c] = tmp
                for i in range(j + 1, m):
                    x[i * n + j] = x[i * n + j] / x[j * n + j]
            elif info[q] == 0:
                info[q] = <int32_t>(j + 1)
            for i in range(j + 1, m):
                l = x[i * n + j]
                if l != 0:
                    for c in range(j + 1, n):
                        x[i * n + c] -= l * x[j * n + c]


cdef void trsm_batch(const lin_t* a, lin_t* b, Py_ssize_t batch, Py_ssize_t n, Py_ssize_t k,
                     bint upper, bint unit) noexcept nogil:
    # OUT b = A^-1 b (in place; b n x k per matrix); A read on its triangle only
    cdef Py_ssize_t q, i, j, c
    cdef lin_t s
    cdef const lin_t* x
    cdef lin_t* y
    for q in range(batch):
        x = a + q * n * n
        y = b + q * n * k
        if upper:
            for i in range(n - 1, -1, -1):
                for j in range(i + 1, n):
                    s = x[i * n + j]
                    if s != 0:
                        for c in range(k):
                            y[i * k + c] -= s * y[j * k + c]
                if not unit:
                    for c in range(k):
                        y[i * k + c] = y[i * k + c] / x[i * n + i]
        else:
            for i in range(n):
                for j in range(i):
                    s = x[i * n + j]
                    if s != 0:
                        for c in range(k):
                            y[i * k + c] -= s * y[j * k + c]
                if not unit:
                    for c in range(k):
                        y[i * k + c] = y[i * k + c] / x[i * n + i]


cdef void swap_rows_batch(lin_t* b, const int32_t* piv, Py_ssize_t batch, Py_ssize_t npiv,
                          Py_ssize_t k, bint forward) noexcept nogil:
    # OUT b with the interchanges of piv applied (forward: P^T b, else P b)
    cdef Py_ssize_t q, t, j, p, c
    cdef lin_t tmp
    cdef lin_t* y
    for q in range(batch):
        y = b + q * npiv * k
        for t in range(npiv):
            j = t if forward else npiv - 1 - t
            p = piv[q * npiv + j] - 1
            if p != j:
                for c in range(k):
                    tmp = y[j * k + c]
                    y[j * k + c] = y[p * k + c]
                    y[p * k + c] = tmp


cdef void cholesky_info_batch(lin_t* a, int32_t* info, Py_ssize_t batch, Py_ssize_t n) noexcept nogil:
    # OUT a: L in the lower triangle (in place, potrf's unblocked order), info
    cdef Py_ssize_t q, i, j, c
    cdef lin_t s
    cdef lin_t* x
    for q in range(batch):
        x = a + q * n * n
        info[q] = 0
        for j in range(n):
            s = x[j * n + j]
            for c in range(j):
                s -= x[j * n + c] * x[j * n + c]
            if not (s > 0):
                info[q] = <int32_t>(j + 1)
                x[j * n + j] = s
                break
            s = _lk_sqrt(s)
            x[j * n + j] = s
            for i in range(j + 1, n):
                for c in range(j):
                    x[i * n + j] -= x[i * n + c] * x[j * n + c]
                x[i * n + j] = x[i * n + j] / s
