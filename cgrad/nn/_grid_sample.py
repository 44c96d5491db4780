"""F.affine_grid and F.grid_sample (PyTorch 2.13): sampling grids from
batches of affine matrices, and sampling an input at a grid's points
(bilinear, nearest, bicubic; padding zeros, border, reflection;
align_corners), for 4-D input (N, C, H, W) and 5-D (N, C, D, H, W,
bilinear and nearest as PyTorch).

The source coordinates are computed with differentiable ops from the grid
(unnormalise, reflect, clip with PyTorch's zero gradient on and past the
border), the integer taps around them with numpy, and the input's values at
the taps with one gather per tap over the flattened input: the sample is the
taps weighted by their (differentiable) interpolation weights, so the input
gets the gathers' scatter and the grid its weights' derivatives, as
PyTorch's grid_sampler backward; double backward works. Nearest has no
gradient for the grid; PyTorch returns zeros, so does its node here.
"""
import warnings

import numpy as np

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad._op_support import attach, dtype_title, forward_ad_not_implemented, np_of, tensor_of

__all__ = ["affine_grid", "grid_sample", "grid_sampler", "affine_grid_generator"]

_CUBIC_A = -0.75
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _named(result, name):
    from cgrad.nn._named_node import named
    return named(result, name)


def _dtype_name(t):
    return "cgrad." + str(t.dtype).split(".")[-1]


# --- affine_grid -------------------------------------------------------------------

def _linspace_from_neg_one(n, align_corners, dtype):
    if n <= 1:
        return cgrad.zeros((), dtype=dtype)
    steps = cgrad.linspace(-1, 1, n, dtype=dtype)
    return steps if align_corners else steps * (n - 1) / n


def affine_grid(theta, size, align_corners=None):
    """The sampling grid (N, H, W, 2) or (N, D, H, W, 3) of a batch of
    affine matrices theta (N, 2, 3) or (N, 3, 4), for an output of size."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {_dtype_name(theta)}")
    given = size
    size = list(size)
    shape = f"cgrad.Size({list(theta.shape)})"
    if len(size) == 4:
        if theta.dim() != 3 or theta.shape[-2] != 2 or theta.shape[-1] != 3:
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. "
                             f"Got {shape}.")
        spatial = size[-2:]
    elif len(size) == 5:
        if theta.dim() != 3 or theta.shape[-2] != 3 or theta.shape[-1] != 4:
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. "
                             f"Got {shape}.")
        spatial = size[-3:]
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {given}.")
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation "
                      "of affine_grid for details.", stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    n = size[0]
    if theta.shape[0] != n:
        # PyTorch's bmm of the (N, ...) base grid with theta
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{n}, "
                           f"{len(spatial) + 1}] but got: [{theta.shape[0]}, {theta.shape[2]}].")
    # the base grid: x, y (and z) along the output's width, height (depth), then a column of ones
    axes = [_linspace_from_neg_one(s, align_corners, theta.dtype) for s in reversed(spatial)]
    grids = cgrad.meshgrid(*reversed(axes), indexing="ij") if len(axes) > 1 else axes
    columns = [g.expand(*spatial) for g in reversed(grids)] + [cgrad.ones(*spatial, dtype=theta.dtype)]
    base = cgrad.stack(columns, -1).reshape(-1, len(spatial) + 1)
    grid = cgrad.matmul(base, theta.transpose(1, 2))
    grid = grid.reshape([n] + spatial + [len(spatial)])
    return _named(grid, "AffineGridGeneratorBackward0")


# --- grid_sample ---------------------------------------------------------------------

def _unnormalize(coord, size, align_corners):
    if align_corners:
        return (coord + 1) / 2 * (size - 1)
    return ((coord + 1) * size - 1) / 2


def _clip(coord, size):
    """clamp to [0, size-1]; PyTorch's gradient is 1 strictly inside only."""
    inside = (coord > 0) & (coord < size - 1)
    return _C.where(inside, coord, coord.detach().clamp(0, size - 1))


def _reflect(coord, twice_low, twice_high):
    if twice_low == twice_high:
        return _C.zeros_like(coord)
    low = twice_low / 2
    span = (twice_high - twice_low) / 2
    distance = (coord - low).abs()
    extra = cgrad.fmod(distance, span)
    flips = cgrad.floor(distance.detach() / span)
    even = cgrad.remainder(flips, 2) == 0
    return _C.where(even, extra + low, span - extra + low)


def _pad_coordinates(coord, size, padding_mode, align_corners):
    if padding_mode == "border":
        coord = _clip(coord, size)
    elif padding_mode == "reflection":
        coord = _reflect(coord, 0, 2 * (size - 1)) if align_corners else _reflect(coord, -1, 2 * size - 1)
        coord = _clip(coord, size)
    return coord


def _source_index(coord, size, padding_mode, align_corners):
    coord = _pad_coordinates(_unnormalize(coord, size, align_corners), size, padding_mode, align_corners)
    # a coordinate out of int range or not finite reads nothing (PyTorch's safe_downgrade_to_int_range)
    finite = np.isfinite(np_of(coord)) & (np.abs(np_of(coord)) < 2 ** 31 - 1)
    if not finite.all():
        coord = _C.where(tensor_of(finite), coord, cgrad.full((), -100.0, dtype=coord.dtype))
    return coord


def _pad_taps(taps, size, padding_mode, align_corners):
    """Integer tap positions of bicubic moved inside as the padding mode says (numpy)."""
    t = taps.astype(np.float64)
    if padding_mode == "border":
        t = np.clip(t, 0, size - 1)
    elif padding_mode == "reflection":
        low, high = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        if low == high:
            t = np.zeros_like(t)
        else:
            span = (high - low) / 2
            distance = np.abs(t - low / 2)
            extra = np.fmod(distance, span)
            flips = np.floor(distance / span)
            t = np.where(flips % 2 == 0, extra + low / 2, span - extra + low / 2)
        t = np.clip(t, 0, size - 1)
    return t


class _Taps:
    """Reads the input (N, C, *sizes) at integer positions (one array per
    spatial dim, each (N, P)): zero where a position is outside."""

    def __init__(self, input):
        self.sizes = tuple(input.shape[2:])
        self.flat = input.reshape(input.shape[0], input.shape[1], int(np.prod(self.sizes)))
        self.channels = input.shape[1]

    def index(self, positions):
        inside = np.ones(positions[0].shape, dtype=bool)
        flat = np.zeros(positions[0].shape, dtype=np.int64)
        for p, size in zip(positions, self.sizes):
            inside &= (p >= 0) & (p < size)
            flat = flat * size + np.where(inside, p, 0).astype(np.int64)
        return np.where(inside, flat, 0), inside

    def read(self, positions):
        """Values at one set of positions: (N, C, P)."""
        return self.read_many([positions])[:, :, 0]

    def read_many(self, position_sets):
        """Values at T sets of positions, one gather for all: (N, C, T, P)."""
        indexed = [self.index(positions) for positions in position_sets]
        flat = np.stack([f for f, _ in indexed], axis=1)             # (N, T, P)
        inside = np.stack([i for _, i in indexed], axis=1)
        n, t, p = flat.shape
        index = tensor_of(flat.reshape(n, 1, t * p)).expand(n, self.channels, t * p)
        values = self.flat.gather(2, index).reshape(n, self.channels, t, p)
        return _C.where(tensor_of(inside).reshape(n, 1, t, p), values, _C.zeros((), dtype=values.dtype))


def _cubic_coefficients(t):
    def near(x):
        return ((_CUBIC_A + 2) * x - (_CUBIC_A + 3)) * x * x + 1

    def far(x):
        return ((_CUBIC_A * x - 5 * _CUBIC_A) * x + 8 * _CUBIC_A) * x - 4 * _CUBIC_A
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _check_grid_sampler(input, grid, mode):
    if not isinstance(input, Tensor) or not isinstance(grid, Tensor):
        bad, name = (input, "input") if not isinstance(input, Tensor) else (grid, "grid")
        raise TypeError(f"grid_sampler(): argument '{name}' (position {1 if name == 'input' else 2}) must be "
                        f"Tensor, not {type(bad).__name__}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != input.dim() - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.dim() - 2} in last dimension, but "
                           f"got grid with sizes {list(grid.shape)}")
    for d in range(2, input.dim()):
        if input.shape[d] <= 0:
            raise RuntimeError(f"grid_sampler(): expected input to have non-empty spatial dimensions, but input "
                               f"has sizes {list(input.shape)} with dimension {d} being empty")
    rank = 4 if input.dim() == 4 else 5
    if input.dim() != rank or grid.dim() != rank:
        raise RuntimeError(f"grid_sampler(): expected {rank}D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and input.dim() != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    if not input.is_floating_point():
        kernel = "grid_sampler_2d_cpu_kernel_impl" if input.dim() == 4 else "grid_sampler3d_cpu"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_title(input)}'")
    if input.dtype != grid.dtype:
        raise RuntimeError(f"expected scalar type {_title(input)} but found {_title(grid)}")


def _title(t):
    return dtype_title(t.dtype)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """input (N, C, H, W) or (N, C, D, H, W) sampled at grid's points
    (N, Ho, Wo, 2) or (N, Do, Ho, Wo, 3), coordinates in [-1, 1]."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    _check_grid_sampler(input, grid, mode)
    if _C._fw_tangent(input) is not None or _C._fw_tangent(grid) is not None:
        # PyTorch's grid_sampler has no forward-mode formula
        forward_ad_not_implemented("grid_sampler_2d" if input.dim() == 4 else "grid_sampler_3d")((None, None), 0)
    node = "GridSampler2DBackward0" if input.dim() == 4 else "GridSampler3DBackward0"
    n, c = input.shape[0], input.shape[1]
    sizes = tuple(input.shape[2:])
    out_spatial = tuple(grid.shape[1:-1])
    flat_grid = grid.reshape(n, int(np.prod(out_spatial)), len(sizes))
    # grid's last dim lists x (width) first: coordinate k belongs to spatial dim -1-k
    coords = [flat_grid.select(2, len(sizes) - 1 - k) for k in range(len(sizes))]
    taps = _Taps(input)
    if mode == "nearest":
        return _nearest(input, grid, coords, sizes, taps, padding_mode, align_corners, out_spatial, node)
    if mode == "bicubic":
        out = _bicubic(coords, sizes, taps, padding_mode, align_corners)
    else:
        out = _linear(coords, sizes, taps, padding_mode, align_corners)
    return _named(out.reshape((n, c) + out_spatial), node)


def _linear(coords, sizes, taps, padding_mode, align_corners):
    """Bilinear (trilinear for 5-D): the 2^dims corners around each point."""
    sources = [_source_index(coords[k], sizes[k], padding_mode, align_corners) for k in range(len(sizes))]
    lows = [np.floor(np_of(s)) for s in sources]
    weights = []
    for s, low in zip(sources, lows):
        above = s - tensor_of(low.astype(np_of(s).dtype))       # weight of the upper corner
        weights.append((1 - above, above))
    corners = [[(corner >> (len(sizes) - 1 - k)) & 1 for k in range(len(sizes))]
               for corner in range(2 ** len(sizes))]
    corner_weights = []
    for bits in corners:
        weight = weights[0][bits[0]]
        for k in range(1, len(sizes)):
            weight = weight * weights[k][bits[k]]
        corner_weights.append(weight)
    values = taps.read_many([[lows[k] + bits[k] for k in range(len(sizes))] for bits in corners])
    return (values * cgrad.stack(corner_weights, 1).unsqueeze(1)).sum(2)


def _bicubic(coords, sizes, taps, padding_mode, align_corners):
    iy, ix = (_unnormalize(coords[k], sizes[k], align_corners) for k in range(2))
    y0, x0 = np.floor(np_of(iy)), np.floor(np_of(ix))
    dtype = np_of(ix).dtype
    ty = iy - tensor_of(y0.astype(dtype))
    tx = ix - tensor_of(x0.astype(dtype))
    cy, cx = _cubic_coefficients(ty), _cubic_coefficients(tx)
    rows = [np.trunc(_pad_taps(y0 - 1 + j, sizes[0], padding_mode, align_corners)) for j in range(4)]
    cols = [np.trunc(_pad_taps(x0 - 1 + i, sizes[1], padding_mode, align_corners)) for i in range(4)]
    values = taps.read_many([[rows[j], cols[i]] for j in range(4) for i in range(4)])     # (N, C, 16, P)
    # PyTorch interpolates each row along x, then the rows along y
    n, c, _, p = values.shape
    along_x = (values.reshape(n, c, 4, 4, p) * cgrad.stack(cx, 1).reshape(n, 1, 1, 4, p)).sum(3)
    return (along_x * cgrad.stack(cy, 1).unsqueeze(1)).sum(2)


def _nearest(input, grid, coords, sizes, taps, padding_mode, align_corners, out_spatial, node):
    with cgrad.no_grad():
        sources = [_source_index(coords[k].detach(), sizes[k], padding_mode, align_corners)
                   for k in range(len(sizes))]
    positions = [np.rint(np_of(s)) for s in sources]       # nearbyint: halves to even
    flat, inside = taps.index(positions)
    with cgrad.no_grad():
        out = taps.read(positions).reshape((input.shape[0], input.shape[1]) + out_spatial).contiguous()
    n, p = flat.shape
    index = tensor_of(flat).reshape(n, 1, p)
    mask = tensor_of(inside).reshape(n, 1, p)
    shape = tuple(input.shape)

    def backward(g):
        g = _C.where(mask, g.reshape(n, shape[1], p), _C.zeros((), dtype=g.dtype))
        gi = _C.zeros((n, shape[1], int(np.prod(shape[2:]))), dtype=g.dtype)
        gi = gi.scatter_add(2, index.expand(n, shape[1], p), g).reshape(shape) if input.requires_grad else None
        return (gi, _C.zeros_like(grid) if grid.requires_grad else None)
    attach([out], node, [input, grid], backward)
    return out


_MODES = ("bilinear", "nearest", "bicubic")
_PADDINGS = ("zeros", "border", "reflection")


def grid_sampler(input, grid, interpolation_mode, padding_mode, align_corners):
    """torch.grid_sampler: grid_sample with the modes as PyTorch's enums
    (0 bilinear, 1 nearest, 2 bicubic; 0 zeros, 1 border, 2 reflection)."""
    if interpolation_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): invalid interpolation_mode {interpolation_mode}")
    if padding_mode not in (0, 1, 2):
        raise RuntimeError(f"grid_sampler(): invalid padding_mode {padding_mode}")
    return grid_sample(input, grid, _MODES[interpolation_mode], _PADDINGS[padding_mode], bool(align_corners))


def affine_grid_generator(theta, size, align_corners):
    """torch.affine_grid_generator: affine_grid without its argument checks' warnings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return affine_grid(theta, size, bool(align_corners))
