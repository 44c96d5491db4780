# The C types every extension module of cgrad that runs row kernels shares:
# the dtype codes (they index every per-dtype table; common.pxi maps them to
# PyTorch's dtypes), the row kernel's signature and the most operands a row
# kernel takes. A .pxd of declarations only: cgrad._kernels (the kernels,
# which imports nothing of cgrad) and cgrad._C (through _C.pxd) cimport it,
# so both name one type rather than two that must agree.

cdef enum:
    F32 = 0
    F64 = 1
    I64 = 2
    BOOL = 3
    F16 = 4
    I8 = 5
    I16 = 6
    I32 = 7
    U8 = 8
    BF16 = 9
    NUM_DTYPES = 10

# A row kernel walks one row of n elements: p[0] is the OUT pointer, p[1:]
# the IN pointers, s[k] the element stride of operand k (0 for a broadcast
# scalar), ctx the op's parameters (kernels_iter.pxi drives it).
ctypedef void (*RowFn)(char** p, const Py_ssize_t* s, Py_ssize_t n, void* ctx) noexcept nogil

cdef enum:
    MAX_OPERANDS = 4
