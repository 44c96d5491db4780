# The cblas gemm of numpy's bundled OpenBLAS, found once with ctypes (the
# library probe_blas_threads in ops_linalg.pxi finds): the ILP64 names of
# numpy's wheels (64-bit integers) first, then the LP64 ones. Kernels that
# need a product inside a nogil loop (the recurrent layers' time loop, the
# products on cgrad's own threads in blas_pool.pxi) call it directly; where
# numpy has no such library they fall back to their own paths.

ctypedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, float, const float*, int64_t,
                            const float*, int64_t, float, float*, int64_t) noexcept nogil
ctypedef void (*dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double, const double*, int64_t,
                            const double*, int64_t, double, double*, int64_t) noexcept nogil
ctypedef void (*sgemm32_fn)(int, int, int, int32_t, int32_t, int32_t, float, const float*, int32_t,
                            const float*, int32_t, float, float*, int32_t) noexcept nogil
ctypedef void (*dgemm32_fn)(int, int, int, int32_t, int32_t, int32_t, double, const double*, int32_t,
                            const double*, int32_t, double, double*, int32_t) noexcept nogil

cdef sgemm64_fn _cblas_sgemm64 = NULL
cdef dgemm64_fn _cblas_dgemm64 = NULL
cdef sgemm32_fn _cblas_sgemm32 = NULL
cdef dgemm32_fn _cblas_dgemm32 = NULL
cdef bint _cblas_gemm_probed = False

cdef enum:
    CBLAS_ROW_MAJOR = 101
    CBLAS_NO_TRANS = 111
    CBLAS_TRANS = 112


cdef size_t _cblas_symbol(object lib, str name) except? 0:
    import ctypes
    fn = getattr(lib, name, None)
    if fn is None:
        return 0
    return <size_t>ctypes.cast(fn, ctypes.c_void_p).value


cdef void probe_cblas_gemm() except *:
    """cblas_sgemm / cblas_dgemm of numpy's OpenBLAS: the ILP64 names of
    numpy's wheels (64-bit integers) first, then the LP64 ones."""
    global _cblas_sgemm64, _cblas_dgemm64, _cblas_sgemm32, _cblas_dgemm32, _cblas_gemm_probed
    cdef size_t s, d
    _cblas_gemm_probed = True
    if not _blas_probed:
        probe_blas_threads()
    try:
        import ctypes
        import glob
        import os
        libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
        for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*"))):
            lib = ctypes.CDLL(path)
            for sname, dname in (("scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_"),
                                 ("cblas_sgemm64_", "cblas_dgemm64_")):
                s = _cblas_symbol(lib, sname)
                d = _cblas_symbol(lib, dname)
                if s and d:
                    _cblas_sgemm64 = <sgemm64_fn>s
                    _cblas_dgemm64 = <dgemm64_fn>d
                    return
            if "64" not in os.path.basename(path):
                s = _cblas_symbol(lib, "cblas_sgemm")
                d = _cblas_symbol(lib, "cblas_dgemm")
                if s and d:
                    _cblas_sgemm32 = <sgemm32_fn>s
                    _cblas_dgemm32 = <dgemm32_fn>d
                    return
    except (OSError, AttributeError, TypeError, ValueError):
        pass
