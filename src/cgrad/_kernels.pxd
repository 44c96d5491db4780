# What cgrad._kernels (src/cgrad/_kernels.pyx) exports to the modules that
# cimport it (cgrad._C through _C.pxd, and so cgrad._table_ops): the
# pointwise row kernels' per-dtype tables, the float16 / bfloat16 block
# drivers and the row kernels called by name. A table is a C array of _kernels, read
# through the pointer Cython imports: one load more than an array of _C's
# own where an op picks its row (mul and add by a scalar do, on the tiny
# chain: bench/instructions.py 2,908 -> 2,905 instructions per op, noise).
# Each declaration must match its definition in
# kernels/pointwise_kernels.pxi.tp; a table added there that _C uses is
# declared here too.

from cgrad.row_types cimport *
from libc.stdint cimport int64_t


# clamp's Python-number bounds (clamp_scalar_row_*'s ctx; ops_clamp.pxi
# fills it): absent ones as -inf/+inf or the int64 limits
cdef struct ClampBounds:
    double flo
    double fhi
    int64_t ilo
    int64_t ihi


cdef void half_blocks(RowFn fn, int nops, char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx,
                      int halfmask, int passsize) noexcept nogil
cdef void bf16_blocks(RowFn fn, int nops, char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx,
                      int halfmask, int passsize) noexcept nogil
cdef void h16_blocks(RowFn fn, int nops, char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx,
                     int halfmask, int passsize, int bf16) noexcept nogil
cdef void mul_scalar_row_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
cdef void div_scalar_row_F16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
cdef void mul_scalar_row_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil
cdef void div_scalar_row_BF16(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil

cdef RowFn ADD_ROWS[NUM_DTYPES]
cdef RowFn SUB_ROWS[NUM_DTYPES]
cdef RowFn MUL_ROWS[NUM_DTYPES]
cdef RowFn DIV_ROWS[NUM_DTYPES]
cdef RowFn POW_ROWS[NUM_DTYPES]
cdef RowFn FLOORDIV_ROWS[NUM_DTYPES]
cdef RowFn REMAINDER_ROWS[NUM_DTYPES]
cdef RowFn FMOD_ROWS[NUM_DTYPES]
cdef RowFn TRUNCDIV_ROWS[NUM_DTYPES]
cdef RowFn CAST_ROWS[NUM_DTYPES][NUM_DTYPES]
cdef RowFn FILL_ROWS[NUM_DTYPES]
cdef RowFn LT2_ROWS[NUM_DTYPES]
cdef RowFn LE2_ROWS[NUM_DTYPES]
cdef RowFn GT2_ROWS[NUM_DTYPES]
cdef RowFn GE2_ROWS[NUM_DTYPES]
cdef RowFn EQ2_ROWS[NUM_DTYPES]
cdef RowFn NE2_ROWS[NUM_DTYPES]
cdef RowFn MAX2_ROWS[NUM_DTYPES]
cdef RowFn MIN2_ROWS[NUM_DTYPES]
cdef RowFn FMAX_ROWS[NUM_DTYPES]
cdef RowFn FMIN_ROWS[NUM_DTYPES]
cdef RowFn LOGICAL_AND_ROWS[NUM_DTYPES]
cdef RowFn LOGICAL_OR_ROWS[NUM_DTYPES]
cdef RowFn LOGICAL_XOR_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_AND_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_OR_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_XOR_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_LEFT_SHIFT_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_RIGHT_SHIFT_ROWS[NUM_DTYPES]
cdef RowFn KEEP_GE_GRAD_ROWS[NUM_DTYPES]
cdef RowFn KEEP_LE_GRAD_ROWS[NUM_DTYPES]
cdef RowFn KEEP_LT_GRAD_ROWS[NUM_DTYPES]
cdef RowFn KEEP_GT_GRAD_ROWS[NUM_DTYPES]
cdef RowFn MAX_A_GRAD_ROWS[NUM_DTYPES]
cdef RowFn MAX_B_GRAD_ROWS[NUM_DTYPES]
cdef RowFn FMAX_A_GRAD_ROWS[NUM_DTYPES]
cdef RowFn FMAX_B_GRAD_ROWS[NUM_DTYPES]
cdef RowFn FMIN_A_GRAD_ROWS[NUM_DTYPES]
cdef RowFn FMIN_B_GRAD_ROWS[NUM_DTYPES]
cdef RowFn WHERE2_ROWS[NUM_DTYPES]
cdef RowFn LOGICAL_NOT_ROWS[NUM_DTYPES]
cdef RowFn BITWISE_NOT_ROWS[NUM_DTYPES]
cdef RowFn CLAMP_SCALAR_ROWS[NUM_DTYPES]
cdef RowFn CLAMP_TENSOR_ROWS[NUM_DTYPES]
cdef RowFn CLAMP_SCALAR_BWD_ROWS[NUM_DTYPES]
