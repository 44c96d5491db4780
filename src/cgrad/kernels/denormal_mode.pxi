# torch.set_flush_denormal: the calling thread's SSE control register
# (MXCSR) set to flush denormal results to zero (FTZ, bit 15) and to read
# denormal operands as zero (DAZ, bit 6), as PyTorch does on x86; the
# kernels that run on this thread and numpy's then compute with them. Other
# threads keep their own register, as in PyTorch. Where there is no SSE
# (another architecture) the mode cannot be set and the answer is False.

cdef extern from *:
    """
    #if defined(__SSE__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 1)
    #include <xmmintrin.h>
    static int cgrad_set_flush_denormal(int on) {
        unsigned int csr = _mm_getcsr();
        if (on) csr |= 0x8040u; else csr &= ~0x8040u;
        _mm_setcsr(csr);
        return 1;
    }
    #else
    static int cgrad_set_flush_denormal(int on) { (void)on; return 0; }
    #endif
    """
    int cgrad_set_flush_denormal(int on) nogil


def set_flush_denormal(mode):
    """Flush denormal floats to zero on this thread (True) or not (False);
    returns whether the CPU supports it."""
    if not isinstance(mode, bool):
        raise RuntimeError(f"flush_denormal expects a bool, but got {type(mode).__name__}")
    return bool(cgrad_set_flush_denormal(1 if mode else 0))
