# cython: language_level=3
"""cgrad's compiled core: the extension module cgrad._C, built from the
layers below. _C.pxd declares what other extension modules of cgrad cimport
from it (the types, constants and cdef functions they call through
exported function pointers); today one: cgrad._table_ops, the op table's
rendered rows (src/codegen/), imported at the end of this module, which
puts its functions and grad_fn classes here and its methods on Tensor.

Layers, each in its own include file, lowest first:

  common            C imports, dtypes, thread-local grad mode, PyTorch's errors
  storage           Storage: the bytes (inline for tiny tensors, malloc'ed or
                    borrowed from numpy otherwise) and the version counter
  tensor_core       making tensors, views and copies; numpy bridges
  node              Node (grad_fn): edges, sequence numbers, saved tensors
  kernels_*         nogil row kernels and the elementwise iteration that
                    drives them (broadcasting, strides, GIL release);
                    kernels_math*.pxd: inline scalar math, cimported
  pointwise_kernels generated row kernels of the binary/compare/cast ops
  promotion         dtype promotion; Python scalars as operands
  ops_*, index_*    the differentiable ops, one file per family (pointwise,
                    unary, reduce, shape, linalg, compare/clamp/logical,
                    select, join, indexing, softmax/nll/nn, predicates,
                    layout, gather/scatter, activations, ...): forward kernel
                    call, its node (backward) beside it, the grad_fn name
                    PyTorch gives it, and the cgrad.* functions of the family
  ops_conv, ops_pool, ops_pad, ops_embedding, ops_norm
                    the layers of nn.functional: convolution and unfold/fold
                    by im2col + BLAS, 2-D pooling, padding, embedding,
                    layer/group/batch norm
  engine            the backward pass: an iterative max-heap walk over nodes
  inplace           in-place ops: rebasing history, CopySlices for views
  function          FunctionNode: the node (and ctx) of user-defined Functions
  ops_rounding      floor_divide, remainder, fmod, div's rounding modes (after
                    inplace: their in-place forms use its machinery)
  size_device       cgrad.Size and cgrad.device
  tensor            the Tensor class, PyTorch's surface over the ops: its
                    operators, properties and hottest methods; its
                    helpers (tensor_support) and its other methods
                    (tensor_methods_math/pointwise/shape/convert), put
                    into the type at import
  creation, creation_ranges, random, random_dists
                    tensor(), factories (eye, arange, linspace), random numbers
  functions         the cgrad.* functions mirroring Tensor methods
  optim_kernels     the optimizers' per-parameter update kernels (SGD, Adam;
                    optim_kernels_adaptive: RMSprop, Adagrad, Adadelta,
                    Adamax, NAdam, RAdam)
  ops_prelu         prelu and its kernel op (PreluKernelBackward0)

The Python package (cgrad/) re-exports this module and adds the parts that
need no C speed: printing, grad-mode context managers, autograd.Function.
"""

include "common.pxi"
include "storage.pxi"
include "tensor_core.pxi"
include "node.pxi"
include "saved_hooks.pxi"
include "kernels_iter.pxi"
from cgrad.kernels_math cimport *
from cgrad.kernels_math_extra cimport *
include "pointwise_kernels.pxi"
include "promotion.pxi"
include "ops_pointwise.pxi"
include "ops_unary.pxi"
include "out_arg.pxi"
include "table_support.pxi"
include "ops_reduce.pxi"
include "shape_support.pxi"
include "ops_shape.pxi"
include "ops_linalg.pxi"
include "linalg_kernels.pxi"
include "ops_linalg_lapack.pxi"
include "ops_linalg_decomp.pxi"
include "ops_compare.pxi"
include "ops_clamp.pxi"
include "ops_where.pxi"
include "ops_logical.pxi"
include "select_kernels.pxi"
include "ops_select.pxi"
include "select_api.pxi"
include "ops_join.pxi"
include "index_kernels.pxi"
include "index_views.pxi"
include "ops_index.pxi"
include "ops_masked.pxi"
include "ops_softmax.pxi"
include "ops_nll.pxi"
include "ops_nn.pxi"
include "ops_predicates.pxi"
include "ops_layout.pxi"
include "ops_gather.pxi"
include "ops_activations.pxi"
include "ops_extra.pxi"
include "ops_scatter.pxi"
include "ops_composite.pxi"
include "ops_conv.pxi"
include "ops_pool.pxi"
include "ops_pad.pxi"
include "ops_embedding.pxi"
include "ops_norm.pxi"
include "engine.pxi"
include "inplace.pxi"
include "function.pxi"
include "ops_rounding.pxi"
include "size_device.pxi"
include "tensor.pxi"
include "tensor_support.pxi"
include "tensor_methods_math.pxi"
include "tensor_methods_pointwise.pxi"
include "tensor_methods_shape.pxi"
include "tensor_methods_convert.pxi"
include "creation.pxi"
include "creation_ranges.pxi"
include "random.pxi"
include "random_dists.pxi"
include "functions.pxi"
include "optim_kernels.pxi"
include "optim_kernels_adaptive.pxi"
include "ops_prelu.pxi"
include "post_accumulate_hooks.pxi"
include "table_checks_nn.pxi"
include "vmap_support.pxi"
include "blas_gemm.pxi"
include "blas_pool.pxi"
include "ops_rnn.pxi"
include "python_methods.pxi"
include "forward_ad.pxi"
include "ops_fpsign.pxi"
include "ops_round_decimals.pxi"
include "inplace_views.pxi"
include "view_fast.pxi"
include "tensor_aliases.pxi"
include "forward_rules.pxi"
include "compile_support.pxi"
include "reduce_threads.pxi"
include "reduce_sum_threads.pxi"
include "reduce_block_threads.pxi"
include "reduce_vector_threads.pxi"
include "softmax_threads.pxi"
include "cumsum_threads.pxi"
include "gather_threads.pxi"
include "memory_format.pxi"
include "fused_support.pxi"
include "batched_backward.pxi"
include "upsample_uint8.pxi"
include "default_dtype.pxi"
include "tape_record.pxi"
include "relu_double_backward.pxi"
include "forward_rules_extra.pxi"
include "dtype_view.pxi"
include "tensor_resize.pxi"
include "random_draw_nodes.pxi"
include "forward_rules_backward_nodes.pxi"
include "compile_swaps.pxi"
include "attention_kernels.pxi"

# Last: the op table's module (cgrad._table_ops, see its .pyx) cimports this
# one and, at its import, installs its ops here and on Tensor.
from cgrad import _table_ops
install_alias_methods()     # tensor_aliases.pxi: aliases of table ops too
