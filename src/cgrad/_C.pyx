# cython: language_level=3
"""cgrad's compiled core: the extension module cgrad._C, built from the
include files below, one folder per layer. _C.pxd declares what other
extension modules of cgrad cimport from it (the types, constants and cdef
functions they call through exported function pointers); today one:
cgrad._table_ops, the op table's rendered rows (src/codegen/), imported at
the end of this module, which puts its functions and grad_fn classes here
and its methods on Tensor. _C itself cimports cgrad._kernels (_kernels.pxd:
the generated pointwise row kernels and their tables, a module of their
own so that it compiles beside this one), imported at the start of this
module.

The layers, lowest first; a file includes after every layer it uses
(tools/check_layers.py lists each name a file takes from a later layer;
tests/package/test_layers.py keeps that list empty):

  core/       common (C imports, dtypes, thread-local grad mode, PyTorch's
              errors), storage (the bytes and the version counter),
              tensor_core (making tensors, views and copies; numpy
              bridges), node (grad_fn: edges, saved tensors), saved_hooks,
              size_device (cgrad.Size, cgrad.device), default_dtype,
              shared_storage (moving a storage into shared memory)
  kernels/    nogil row kernels and what drives them: kernels_iter (the
              elementwise iteration: broadcasting, strides, GIL release),
              the generated pointwise row kernels (kernels/
              pointwise_kernels.pxi.tp, rendered into src/_generated/;
              compiled into cgrad._kernels, see _kernels.pyx),
              select/linalg/optimizer kernels, BLAS (blas_gemm,
              blas_pool), the threaded reductions;
              special_*.pxi are _table_ops.pyx's scalar functions;
              kernels_math*.pxd (inline scalar math) are cimported here
  ops/        the differentiable ops, one file per family (pointwise,
              reduce, shape, linalg, compare/clamp/where/logical, select,
              join, indexing, gather/scatter, rounding, ...): forward
              kernel call, its node beside it with PyTorch's grad_fn name,
              the cgrad.* functions of the family; their support (dtype
              promotion, shape arguments, in-place checks, out=, memory
              formats, the op table's drivers, the history an in-place
              op records (inplace_history: rebasing, CopySlices, views'
              regenerated grad_fn), forward-mode AD's tangents, which every
              op propagates as it records (forward_ad)), the factories
              (creation*, random*) and the threaded large gathers
              (gather_threads);
              ops_unary.pxi is rendered from the op table (src/codegen/)
  ops/nn/     nn.functional's layers: softmax (and its threaded driver,
              softmax_threads), attention's kernels, losses, activations,
              convolution, pooling, padding, embedding, norms, RNNs, prelu,
              uint8 resampling
  autograd/   the engine (an iterative max-heap walk over nodes), user
              Functions, forward-mode AD's explicit rules, batched
              backward, vmap's dispatch, post-accumulate hooks
  tensor/     the Tensor class (its operators, properties and hottest
              methods), its other methods (tensor_methods_*, put into the
              type at import), aliases and the cgrad.* functions mirroring
              Tensor methods
  compile/    cgrad.compile's C side: tape replay, recording, fused
              pointwise programs, namespace swaps

A new file goes into the folder of its layer and its include at the end of
that layer's group below (an include that runs code at import, such as
install_tensor_methods, needs what it calls included before it).

The Python package (cgrad/) re-exports this module and adds the parts that
need no C speed: printing, grad-mode context managers, autograd.Function.
"""

# core/
include "core/common.pxi"
include "core/storage.pxi"
include "core/tensor_core.pxi"
include "core/node.pxi"
include "core/saved_hooks.pxi"
include "core/size_device.pxi"
include "core/default_dtype.pxi"
include "core/shared_storage.pxi"

# kernels/
include "kernels/kernel_types.pxi"
include "kernels/kernels_iter.pxi"
from cgrad.kernels_math cimport *
from cgrad.kernels_math_extra cimport *
# the pointwise row kernels and their tables: cgrad._kernels, cimported in _C.pxd
include "kernels/kernel_drivers.pxi"
include "kernels/linalg_kernels.pxi"
include "kernels/select_kernels.pxi"
include "kernels/zero_nan_scans.pxi"
include "kernels/optim_kernels.pxi"
include "kernels/optim_kernels_adaptive.pxi"
include "kernels/blas_threads.pxi"
include "kernels/blas_gemm.pxi"
include "kernels/blas_pool.pxi"
include "kernels/reduce_threads.pxi"
include "kernels/reduce_sum_threads.pxi"
include "kernels/reduce_block_threads.pxi"
include "kernels/reduce_vector_threads.pxi"
include "kernels/cumsum_threads.pxi"
include "kernels/ctc_kernels.pxi"
include "kernels/mt19937_kernels.pxi"
include "kernels/pow_rows.pxi"
include "kernels/select_rows.pxi"
include "kernels/cum_extreme_rows.pxi"
include "kernels/denormal_mode.pxi"
include "kernels/fma_rows.pxi"

# ops/
include "ops/promotion.pxi"
include "ops/arguments.pxi"
include "ops/inplace_checks.pxi"
include "ops/inplace_history.pxi"
include "ops/forward_ad.pxi"
include "ops/ops_pointwise.pxi"
include "ops_unary.pxi"
include "ops/out_arg.pxi"
include "ops/table_support.pxi"
include "ops/ops_reduce.pxi"
include "ops/shape_support.pxi"
include "ops/linear_gemm.pxi"
include "ops/ops_shape.pxi"
include "ops/ops_linalg.pxi"
include "ops/ops_linalg_lapack.pxi"
include "ops/ops_linalg_decomp.pxi"
include "ops/ops_compare.pxi"
include "ops/ops_clamp.pxi"
include "ops/ops_where.pxi"
include "ops/ops_logical.pxi"
include "ops/ops_select.pxi"
include "ops/select_api.pxi"
include "ops/ops_join.pxi"
include "ops/index_kernels.pxi"
include "ops/index_views.pxi"
include "ops/ops_index.pxi"
include "ops/ops_masked.pxi"
include "ops/ops_predicates.pxi"
include "ops/ops_layout.pxi"
include "ops/ops_gather.pxi"
include "ops/gather_threads.pxi"
include "ops/ops_scatter.pxi"
include "ops/ops_composite.pxi"
include "ops/ops_rounding.pxi"
include "ops/creation.pxi"
include "ops/creation_ranges.pxi"
include "ops/random.pxi"
include "ops/random_dists.pxi"
include "ops/table_checks_nn.pxi"
include "ops/python_methods.pxi"
include "ops/ops_fpsign.pxi"
include "ops/ops_round_decimals.pxi"
include "ops/memory_format.pxi"
include "ops/relu_double_backward.pxi"
include "ops/random_draw_nodes.pxi"

# ops/nn/
include "ops/nn/ops_softmax.pxi"
include "ops/nn/softmax_threads.pxi"
include "ops/nn/attention_kernels.pxi"
include "ops/nn/ops_nll.pxi"
include "ops/nn/ops_nn.pxi"
include "ops/nn/ops_activations.pxi"
include "ops/nn/ops_conv.pxi"
include "ops/nn/ops_pool.pxi"
include "ops/nn/ops_pad.pxi"
include "ops/nn/ops_embedding.pxi"
include "ops/nn/ops_norm.pxi"
include "ops/nn/ops_prelu.pxi"
include "ops/nn/ops_rnn.pxi"
include "ops/nn/upsample_uint8.pxi"
include "ops/nn/ops_extra.pxi"

# autograd/
include "autograd/engine.pxi"
include "autograd/function.pxi"
include "autograd/post_accumulate_hooks.pxi"
include "autograd/vmap_support.pxi"
include "autograd/inplace_views.pxi"
include "autograd/forward_rules.pxi"
include "autograd/batched_backward.pxi"
include "autograd/forward_rules_extra.pxi"
include "autograd/forward_rules_backward_nodes.pxi"
include "autograd/forward_rules_view_gather.pxi"
include "autograd/graph_task.pxi"

# tensor/
include "tensor/tensor.pxi"
include "tensor/tensor_support.pxi"
include "tensor/deprecated_overloads.pxi"
include "tensor/tensor_methods_math.pxi"
include "tensor/tensor_methods_pointwise.pxi"
include "tensor/tensor_methods_shape.pxi"
include "tensor/tensor_methods_convert.pxi"
include "tensor/functions.pxi"
include "tensor/view_fast.pxi"
include "tensor/tensor_aliases.pxi"
include "tensor/dtype_view.pxi"
include "tensor/tensor_resize.pxi"

# compile/
include "compile/compile_support.pxi"
include "compile/fused_support.pxi"
include "compile/tape_record.pxi"
include "compile/compile_swaps.pxi"
include "compile/fusion_plan.pxi"

# Last: the op table's module (cgrad._table_ops, see its .pyx) cimports this
# one and, at its import, installs its ops here and on Tensor.
from cgrad import _table_ops
install_alias_methods()     # tensor_aliases.pxi: aliases of table ops too
