# The fused element types that kernels of several layers are written over
# (Cython needs a type declared before its first use, so they sit at the
# bottom of the kernels layer rather than beside one user).

# copy_t: an element moved as raw bits, by its width (the tiled copies of
# ops/shape_support.pxi, the row gathers of ops/gather_threads.pxi).
ctypedef fused copy_t:
    uint8_t
    uint16_t
    uint32_t
    uint64_t

# cum_t: a cumulative sum's accumulator (ops/ops_layout.pxi's cumsum,
# kernels/reduce_threads.pxi's threaded scan): float32 inputs accumulate
# in float64, float16 in float32, integers and bool in int64.
ctypedef fused cum_t:
    float
    double
    int64_t
