"""nn.utils.parametrizations (PyTorch 2.13): orthogonal, weight_norm and
spectral_norm as parametrizations (nn.utils.parametrize).

orthogonal keeps a matrix (or batch) orthogonal through the matrix
exponential or the Cayley map of a skew-symmetric matrix, or a product of
Householder reflections (applied one reflector at a time, as LAPACK's
orgqr does, with differentiable ops); with use_trivialization the
parametrization starts from a stored orthogonal `base`. weight_norm stores
a magnitude and a direction (original0, original1). spectral_norm divides
the weight by its largest singular value, estimated by power iteration on
the buffers _u and _v (updated in training mode only).
"""
from enum import Enum, auto

import numpy as np

import cgrad
from cgrad._C import Tensor
from cgrad._op_support import np_of, tensor_of
from cgrad.autograd.grad_mode import no_grad
from cgrad.nn import functional as F
from cgrad.nn.modules.module import Module
from cgrad.nn.utils import parametrize
from cgrad.nn.utils.weight_norm import _weight_norm, norm_except_dim

__all__ = ["orthogonal", "spectral_norm", "weight_norm"]


def _householder_product(reflectors, tau):
    """The first k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T with v_i
    column i of `reflectors` below the diagonal and 1 on it (batched)."""
    n, k = reflectors.shape[-2], reflectors.shape[-1]
    batch = tuple(reflectors.shape[:-2])
    below = reflectors.tril(-1) + cgrad.eye(n, k, dtype=reflectors.dtype)
    q = cgrad.eye(n, k, dtype=reflectors.dtype).expand(*batch, n, k)
    for i in range(k - 1, -1, -1):
        v = below[..., i:i + 1]                                    # (..., n, 1)
        q = q - (tau[..., i:i + 1].unsqueeze(-1) * v) @ (v.transpose(-2, -1) @ q)
    return q


def _qr_with_positive_diagonal(a):
    """Q of a = QR with diag(R) >= 0 (PyTorch's _make_orthogonal)."""
    q, r = cgrad.linalg.qr(a)
    signs = cgrad.sgn(r.diagonal(dim1=-2, dim2=-1))
    return q * signs.unsqueeze(-2)


def _is_orthogonal(q):
    n, k = q.shape[-2], q.shape[-1]
    eye = cgrad.eye(k, dtype=q.dtype)
    eps = 10.0 * n * float(np.finfo(np_of(q).dtype).eps)
    return cgrad.allclose(q.transpose(-2, -1) @ q, eye, atol=eps)


def _geqrf(q):
    """LAPACK's geqrf of a (batch of) tall matrix: (reflectors, tau)."""
    a = np_of(q)
    flat = a.reshape((-1,) + a.shape[-2:])
    outs, taus = [], []
    for m in flat:
        h, tau = np.linalg.qr(m, mode="raw")
        outs.append(h.T)
        taus.append(tau)
    return (tensor_of(np.stack(outs).reshape(a.shape).astype(a.dtype)),
            tensor_of(np.stack(taus).reshape(a.shape[:-2] + (-1,)).astype(a.dtype)))


class _OrthMaps(Enum):
    matrix_exp = auto()
    cayley = auto()
    householder = auto()


class _Orthogonal(Module):
    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x):
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:
            x = x.transpose(-2, -1)
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            x = x.tril()
            if n != k:
                x = cgrad.cat([x, cgrad.zeros(n, n - k, dtype=x.dtype).expand(*x.shape[:-2], -1, -1)], dim=-1)
            a = x - x.transpose(-2, -1)
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                q = cgrad.linalg.matrix_exp(a)
            else:
                eye = cgrad.eye(n, dtype=a.dtype)
                q = cgrad.linalg.solve(eye - 0.5 * a, eye + 0.5 * a)
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = _householder_product(a, tau)
            q = q * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if "base" in self._buffers:
            q = self.base @ q
        if transposed:
            q = q.transpose(-2, -1)
        return q

    def right_inverse(self, q):
        with no_grad():
            if q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                                 f"shape {q.shape}.")
            q_init = q
            n, k = q.shape[-2], q.shape[-1]
            transpose = n < k
            if transpose:
                q = q.transpose(-2, -1)
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in (_OrthMaps.cayley, _OrthMaps.matrix_exp):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                a, tau = _geqrf(q)
                # diag(R) > 0 (a reflector LAPACK skipped, tau == 0, flips its sign)
                signs = cgrad.sign(a.diagonal(dim1=-2, dim2=-1))
                a = _with_diagonal(a, cgrad.where(tau == 0.0, -signs, signs))
                return a.transpose(-2, -1) if transpose else a
            if n == k:
                q = q.clone() if _is_orthogonal(q) else _qr_with_positive_diagonal(q)
            else:
                extra = cgrad.randn(*(tuple(q.shape[:-2]) + (n, n - k)), dtype=q.dtype)
                q = _qr_with_positive_diagonal(cgrad.cat([q, extra], dim=-1))
            self.base = q
            neg_eye = cgrad.zeros_like(q_init)
            neg_eye.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_eye


def _with_diagonal(a, values):
    out = a.clone()
    out.diagonal(dim1=-2, dim2=-1).copy_(values)
    return out


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Constrains module.<name> (a matrix or batch of matrices) to be orthogonal."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] else "householder"
    orth_enum = getattr(_OrthMaps, orthogonal_map, None)
    if orth_enum is None:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orth_enum, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """module.<name> = g * v / ||v|| (norm over every dim but `dim`), with g
    (original0) and v (original1) the stored parameters."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            weight_mat = self._reshape_weight_to_matrix(weight)
            h, w = weight_mat.shape
            u = cgrad.empty(h, dtype=weight.dtype).normal_(0, 1)
            v = cgrad.empty(w, dtype=weight.dtype).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(weight_mat, 15)

    def _reshape_weight_to_matrix(self, weight):
        if self.dim != 0:
            weight = weight.permute(self.dim, *(d for d in range(weight.dim()) if d != self.dim))
        return weight.flatten(1)

    def _power_method(self, weight_mat, n_power_iterations):
        with no_grad():
            weight_mat = weight_mat.detach()
            for _ in range(n_power_iterations):
                self._u.copy_(F.normalize(cgrad.mv(weight_mat, self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(cgrad.mv(weight_mat.t(), self._u), dim=0, eps=self.eps))

    def forward(self, weight):
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        weight_mat = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(weight_mat, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = cgrad.dot(u, cgrad.mv(weight_mat, v))      # vdot: real tensors only here
        return weight / sigma

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """module.<name> divided by its spectral norm (power iteration estimate)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        from cgrad.nn import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
        dim = 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
