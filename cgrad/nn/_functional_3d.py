"""The nn.functional names of the volumetric layers (conv3d,
conv_transpose3d, the 3-D pools) and of spatial sampling (affine_grid,
grid_sample), gathered for nn.functional's one import of them."""
from cgrad.nn._conv3d import conv3d, conv_transpose3d
from cgrad.nn._grid_sample import affine_grid, grid_sample
from cgrad.nn._pool3d import (adaptive_avg_pool3d, adaptive_max_pool3d, adaptive_max_pool3d_with_indices,
                              avg_pool3d, max_pool3d, max_pool3d_with_indices)

__all__ = ["conv3d", "conv_transpose3d", "max_pool3d", "max_pool3d_with_indices", "avg_pool3d",
           "adaptive_avg_pool3d", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
           "affine_grid", "grid_sample"]
