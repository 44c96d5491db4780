# numpy's BLAS on cgrad's thread count: finding OpenBLAS's thread-local
# setter, for the products of ops/ops_linalg.pxi, blas_gemm, blas_pool and
# the attention kernels.
#
# BLAS threads follow cgrad.set_num_threads, as PyTorch's follow
# torch.set_num_threads: numpy's OpenBLAS is given the count for the calling
# thread only (openblas_set_num_threads_local, when numpy's OpenBLAS has it;
# other BLAS libraries, such as Accelerate, are left alone). On an idle
# machine two threads halve every product from m*k*n = 2^19 up (an MLP layer,
# 64 x 784 x 256: 0.68 -> 0.36 ms for its three products); on a machine whose
# cores are all busy, set_num_threads(1) keeps a product from waiting for a
# second core.

ctypedef int (*set_threads_local_fn)(int) noexcept nogil
cdef set_threads_local_fn _blas_set_threads_local = NULL
cdef bint _blas_probed = False


cdef void probe_blas_threads() except *:
    """Find numpy's bundled OpenBLAS and its thread-local thread count."""
    global _blas_set_threads_local, _blas_probed
    _blas_probed = True
    try:
        import ctypes
        import glob
        import os
        libs_dir = os.path.join(os.path.dirname(os.path.dirname(np.__file__)), "numpy.libs")
        for path in sorted(glob.glob(os.path.join(libs_dir, "*openblas*"))):
            lib = ctypes.CDLL(path)
            fn = getattr(lib, "openblas_set_num_threads_local", None)
            if fn is not None:
                _blas_set_threads_local = <set_threads_local_fn><size_t>ctypes.cast(fn, ctypes.c_void_p).value
                return
    except (OSError, AttributeError, TypeError, ValueError):
        _blas_set_threads_local = NULL
