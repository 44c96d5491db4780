"""F.fractional_max_pool2d / 3d (Graham, "Fractional Max-Pooling"): max
pooling whose window starts are pseudo-random, spreading output_size
windows of kernel_size over the input. Per (batch, channel) plane and per
spatial dim, one sample u in [0, 1) gives the starts
  floor((i + u) * alpha) - floor(u * alpha), alpha = (in - k) / (out - 1),
with the last window at in - k, computed in the input's dtype as
PyTorch's kernel does (so the same samples pick the same windows). The
windows' flat positions gather the input; the max over each window is the
output (FractionalMaxPool2DBackward0 / 3D: the gradient goes to the
first maximum, as max pooling's) and its flat position the index."""
import numpy as np

import cgrad
from cgrad import _C
from cgrad.nn._named_node import named
from cgrad.nn.modules.utils import _pair, _triple

__all__ = ["fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
           "fractional_max_pool3d_with_indices"]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _window_starts(samples, input_size, output_size, pool_size, dtype):
    """(planes, output_size) window starts for one spatial dim."""
    u = samples.astype(dtype)
    starts = np.empty(samples.shape + (output_size,), dtype=np.int64)
    if output_size > 1:
        alpha = dtype(input_size - pool_size) / dtype(output_size - 1)
        steps = np.arange(output_size - 1, dtype=dtype)
        starts[..., :-1] = ((steps + u[..., None]) * alpha).astype(np.int64) - (u * alpha).astype(np.int64)[..., None]
    if output_size > 0:
        starts[..., -1] = input_size - pool_size
    return starts


def _fractional_max_pool(input, kernel_size, output_size, output_ratio, random_samples, spatial, name):
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    expand = _pair if spatial == 2 else _triple
    if output_size is None:
        if len(output_ratio) > spatial:
            raise ValueError(f"{name} requires output_ratio to either be a single Int or tuple of Ints.")
        ratio = expand(output_ratio)
        output_size = [int(input.size(d - spatial) * ratio[d]) for d in range(spatial)]
    kernel = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * spatial
    if len(kernel) == 1:
        kernel = kernel * spatial
    if len(kernel) != spatial:
        raise RuntimeError(f"{name}: kernel_size must either be a single Int or tuple of Ints")
    output_size = tuple(int(s) for s in (output_size if isinstance(output_size, (tuple, list))
                                         else (output_size,) * spatial))
    channels = input.size(-spatial - 1)
    batched = input.dim() == spatial + 2
    if random_samples is None:
        random_samples = cgrad.rand(input.size(0) if batched else 1, channels, spatial, dtype=input.dtype)
    if input.dim() not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{name}(): Expected {spatial + 1}D or {spatial + 2}D tensor, but got: "
                           f"{list(input.shape)}")
    if random_samples.size(2) != spatial:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {spatial}; got {random_samples.size(2)}.")
    if batched and random_samples.size(0) < input.size(0):
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if random_samples.size(1) != channels:
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    sizes = tuple(int(s) for s in input.shape[-spatial:])
    prefix = "fractional_max_pool2d()" if spatial == 2 else "fractional_max_pool3d_out()"
    # PyTorch's 3-d check is strict (a window ending on the last input position is refused there)
    slack = 0 if spatial == 2 else 1
    for d in range(spatial):
        if output_size[d] + kernel[d] - 1 + slack > sizes[d]:
            dim_name = _DIM_NAMES[spatial][d]
            raise RuntimeError(f"{prefix}: pool {dim_name} {kernel[d]} too large relative to input {dim_name} "
                               f"{sizes[d]}")

    x = input if batched else input.unsqueeze(0)
    batch = x.size(0)
    dtype = np.dtype(str(input.dtype).rsplit(".", 1)[-1]).type
    samples = random_samples.detach().numpy()[:batch]
    # PyTorch's sample order: the last spatial dim (width) takes sample 0 in 2-D; time, height, width take 0, 1, 2 in 3-D
    sample_of_dim = (1, 0) if spatial == 2 else (0, 1, 2)
    starts = [_window_starts(samples[..., sample_of_dim[d]], sizes[d], output_size[d], kernel[d], dtype)
              for d in range(spatial)]
    # flat input position of every (plane, output cell, offset in window): broadcast one spatial dim at a time
    strides = [int(np.prod(sizes[d + 1:])) for d in range(spatial)]
    positions = np.zeros((batch, channels) + output_size + kernel, dtype=np.int64)
    for d in range(spatial):
        shape = [batch, channels] + [1] * spatial + [1] * spatial
        shape[2 + d] = output_size[d]
        offsets_shape = [1] * (2 + 2 * spatial)
        offsets_shape[2 + spatial + d] = kernel[d]
        positions += (starts[d].reshape(shape) + np.arange(kernel[d]).reshape(offsets_shape)) * strides[d]
    window = int(np.prod(kernel))
    flat_positions = _C.from_numpy(np.ascontiguousarray(positions.reshape(batch, channels, -1)))
    gathered = x.reshape(batch, channels, -1).gather(2, flat_positions)
    values, chosen = gathered.reshape(batch, channels, -1, window).max(-1)
    indices = flat_positions.reshape(batch, channels, -1, window).gather(3, chosen.unsqueeze(-1)).squeeze(-1)
    values = values.reshape((batch, channels) + output_size)
    indices = indices.reshape((batch, channels) + output_size)
    if not batched:
        values, indices = values.squeeze(0), indices.squeeze(0)
    return named(values, f"FractionalMaxPool{spatial}DBackward0"), indices


def fractional_max_pool2d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 2,
                                "fractional_max_pool2d")


def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    result = fractional_max_pool2d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                                _random_samples)
    return result if return_indices else result[0]


def fractional_max_pool3d_with_indices(input, kernel_size, output_size=None, output_ratio=None,
                                       return_indices=False, _random_samples=None):
    return _fractional_max_pool(input, kernel_size, output_size, output_ratio, _random_samples, 3,
                                "fractional_max_pool3d")


def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    result = fractional_max_pool3d_with_indices(input, kernel_size, output_size, output_ratio, return_indices,
                                                _random_samples)
    return result if return_indices else result[0]
