# cython: language_level=3
"""cgrad's pointwise row kernels: their own extension module, compiled side
by side with cgrad._C (the build's modules compile in parallel), so that
the largest generated part of the core is neither parsed nor optimised in
_C's translation unit.

Holds: the row kernels rendered from kernels/pointwise_kernels.pxi.tp
(src/_generated/pointwise_kernels.pxi: arithmetic, casts, fills,
comparisons, min/max, logical and bitwise, where, clamp, per dtype) and
the per-dtype tables that hold them; half_blocks and bf16_blocks, the
float16 and bfloat16 drivers that run a float32 row kernel over converted
blocks.

Uses: nothing of cgrad's other modules: row_types.pxd (the dtype codes and
RowFn), the float16 and bfloat16 conversions of half.pxd and the inline
scalar math of kernels_math*.pxd, so _C can import it first, at the start
of its own import, without a cycle.

Exports (_kernels.pxd): the tables, read by _C through the pointers
Cython imports, the block drivers and the 16-bit mul/div-by-scalar rows,
called through exported function pointers. A kernel is reached through a table or a
RowFn argument either way, so the indirection costs nothing per element;
nothing on the tiny-tensor path of an op (kernels_iter's driver, tensor
creation, nodes) lives here.
"""

from libc cimport math as cmath
from libc.stdint cimport int64_t, uint8_t, int8_t, int16_t, int32_t, uint16_t, uint32_t, uint64_t

from cgrad.row_types cimport *
from cgrad.half cimport *
from cgrad.kernels_math cimport *
from cgrad.kernels_math_extra cimport *

cg_half_init()

include "pointwise_kernels.pxi"
