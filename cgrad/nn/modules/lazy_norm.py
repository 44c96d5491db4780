"""Lazy batch and instance norm layers (PyTorch's LazyBatchNorm1d/2d/3d,
LazyInstanceNorm1d/2d/3d): num_features is the size of dim 1 of the first
input (PyTorch reads dim 1 for unbatched instance-norm input too). Until
then the affine weight and bias are UninitializedParameters and the running
statistics UninitializedBuffers; the first forward gives them their shape,
initialises them as the eager layer does and turns the module into that
layer's class."""
from cgrad import _C
from cgrad.nn.modules.batchnorm import BatchNorm1d, BatchNorm2d, _NormBase
from cgrad.nn.modules.instancenorm import InstanceNorm1d, InstanceNorm2d
from cgrad.nn.modules.lazy import LazyModuleMixin
from cgrad.nn.modules.volumetric import BatchNorm3d, InstanceNorm3d
from cgrad.nn.parameter import UninitializedBuffer, UninitializedParameter

__all__ = ["LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]


class _LazyNormBase(LazyModuleMixin, _NormBase):
    def __init__(self, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, device=None, dtype=None, *,
                 bias=True):
        # no affine tensors nor statistics yet: they are made once num_features is known
        super().__init__(0, eps, momentum, False, False, device, dtype, bias=False)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
        if track_running_stats:
            self.running_mean = UninitializedBuffer(dtype=dtype)
            self.running_var = UninitializedBuffer(dtype=dtype)
            self.num_batches_tracked = _C.tensor(0, dtype=_C.int64)

    def reset_parameters(self):
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input):
        if not self.has_uninitialized_params():
            return
        self.num_features = input.shape[1]
        if self.affine:
            self.weight.materialize((self.num_features,))
            if self.bias is not None:
                self.bias.materialize((self.num_features,))
        if self.track_running_stats:
            # plain tensors, as the eager layer's buffers are
            self.running_mean = _C.empty(self.num_features, dtype=self.running_mean.dtype)
            self.running_var = _C.empty(self.num_features, dtype=self.running_var.dtype)
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, BatchNorm1d):
    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyNormBase, BatchNorm2d):
    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyNormBase, BatchNorm3d):
    cls_to_become = BatchNorm3d


# PyTorch's lazy instance norms keep _LazyNormBase's defaults (affine=True,
# track_running_stats=True), unlike the eager InstanceNorm layers
class LazyInstanceNorm1d(_LazyNormBase, InstanceNorm1d):
    cls_to_become = InstanceNorm1d


class LazyInstanceNorm2d(_LazyNormBase, InstanceNorm2d):
    cls_to_become = InstanceNorm2d


class LazyInstanceNorm3d(_LazyNormBase, InstanceNorm3d):
    cls_to_become = InstanceNorm3d
