"""Sample calls of the hand-written ops for the forward-mode AD tests: name,
the call as fn(lib, *tensors), and the float64 inputs (numpy arrays; the
first `n_dual` of them get tangents). Written once for cgrad and torch, as
OpInfo's sample inputs."""
import numpy as np

_rng = np.random.default_rng(7)


def R(*shape, lo=-2.0, hi=2.0):
    return _rng.uniform(lo, hi, size=shape)


def P(*shape):
    return _rng.uniform(0.5, 2.0, size=shape)


def IDX(*values):
    return np.array(values, dtype=np.int64)


# (name, fn(lib, *inputs), inputs, number of leading inputs that are dual)
SAMPLES = [
    # ---- arithmetic --------------------------------------------------------
    ("add", lambda L, a, b: a + b, [R(3, 4), R(4)], 2),
    ("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), [R(3, 4), R(3, 4)], 2),
    ("sub", lambda L, a, b: a - b, [R(3, 4), R(3, 1)], 2),
    ("rsub_scalar", lambda L, a: 2 - a, [R(3, 4)], 1),
    ("mul", lambda L, a, b: a * b, [R(3, 4), R(4)], 2),
    ("mul_scalar", lambda L, a: a * 3.0, [R(3, 4)], 1),
    ("div", lambda L, a, b: a / b, [R(3, 4), P(3, 4)], 2),
    ("rdiv_scalar", lambda L, a: 2.0 / a, [P(3, 4)], 1),
    ("neg", lambda L, a: -a, [R(3, 4)], 1),
    ("pow_scalar", lambda L, a: a ** 3, [R(3, 4)], 1),
    ("pow_tensor", lambda L, a, b: a ** b, [P(3, 4), R(3, 4)], 2),
    ("rpow", lambda L, a: 2.0 ** a, [R(3, 4)], 1),
    ("square", lambda L, a: L.square(a), [R(3, 4)], 1),
    ("clamp", lambda L, a: L.clamp(a, -0.5, 0.7), [R(3, 4)], 1),
    ("clamp_tensor", lambda L, a, lo: L.clamp(a, min=lo), [R(3, 4), R(3, 4)], 2),
    ("where", lambda L, a, b: L.where(a > 0, a, b), [R(3, 4), R(3, 4)], 2),
    ("maximum", lambda L, a, b: L.maximum(a, b), [R(3, 4), R(3, 4)], 2),
    ("minimum", lambda L, a, b: L.minimum(a, b), [R(3, 4), R(3, 4)], 2),
    ("lerp", lambda L, a, b: L.lerp(a, b, 0.3), [R(3, 4), R(3, 4)], 2),
    ("lerp_tensor", lambda L, a, b, w: L.lerp(a, b, w), [R(3, 4), R(3, 4), R(3, 4)], 3),
    ("atan2", lambda L, a, b: L.atan2(a, b), [R(3, 4), P(3, 4)], 2),
    ("fmod", lambda L, a: L.fmod(a, 0.7), [R(3, 4)], 1),
    ("remainder", lambda L, a: L.remainder(a, 0.7), [R(3, 4)], 1),
    # ---- matmul --------------------------------------------------------------
    ("mm", lambda L, a, b: L.mm(a, b), [R(3, 4), R(4, 5)], 2),
    ("matmul_2d", lambda L, a, b: a @ b, [R(3, 4), R(4, 5)], 2),
    ("matmul_batched", lambda L, a, b: a @ b, [R(2, 3, 4), R(4, 5)], 2),
    ("matmul_vec", lambda L, a, b: a @ b, [R(3, 4), R(4)], 2),
    ("bmm", lambda L, a, b: L.bmm(a, b), [R(2, 3, 4), R(2, 4, 5)], 2),
    ("mv", lambda L, a, b: L.mv(a, b), [R(3, 4), R(4)], 2),
    ("dot", lambda L, a, b: L.dot(a, b), [R(4), R(4)], 2),
    ("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2.0), [R(3, 5), R(3, 4), R(4, 5)], 3),
    ("outer", lambda L, a, b: L.outer(a, b), [R(3), R(4)], 2),
    ("linear", lambda L, x, w, b: L.nn.functional.linear(x, w, b), [R(2, 4), R(3, 4), R(3)], 3),
    # ---- reductions ------------------------------------------------------------
    ("sum", lambda L, a: a.sum(), [R(3, 4)], 1),
    ("sum_dim", lambda L, a: a.sum(1, keepdim=True), [R(3, 4)], 1),
    ("mean", lambda L, a: a.mean(0), [R(3, 4)], 1),
    ("prod", lambda L, a: a.prod(1), [R(3, 4)], 1),
    ("max_dim", lambda L, a: a.max(1)[0], [R(3, 4)], 1),
    ("amax", lambda L, a: a.amax(1), [R(3, 4)], 1),
    ("min", lambda L, a: a.min(), [R(3, 4)], 1),
    ("var", lambda L, a: a.var(1), [R(3, 4)], 1),
    ("std", lambda L, a: a.std(), [R(3, 4)], 1),
    ("norm", lambda L, a: a.norm(), [R(3, 4)], 1),
    ("logsumexp", lambda L, a: a.logsumexp(1), [R(3, 4)], 1),
    ("cumsum", lambda L, a: a.cumsum(1), [R(3, 4)], 1),
    # ---- shape and views -------------------------------------------------------
    ("view", lambda L, a: a.view(4, 3), [R(3, 4)], 1),
    ("reshape", lambda L, a: a.reshape(-1), [R(3, 4)], 1),
    ("t", lambda L, a: a.t(), [R(3, 4)], 1),
    ("permute", lambda L, a: a.permute(2, 0, 1), [R(2, 3, 4)], 1),
    ("transpose", lambda L, a: a.transpose(0, 2), [R(2, 3, 4)], 1),
    ("unsqueeze", lambda L, a: a.unsqueeze(1), [R(3, 4)], 1),
    ("squeeze", lambda L, a: a.squeeze(), [R(3, 1, 4)], 1),
    ("expand", lambda L, a: a.expand(2, 3, 4), [R(3, 4)], 1),
    ("flatten", lambda L, a: a.flatten(), [R(2, 3, 4)], 1),
    ("slice", lambda L, a: a[1:, ::2], [R(3, 4)], 1),
    ("select", lambda L, a: a[1], [R(3, 4)], 1),
    ("narrow", lambda L, a: a.narrow(1, 1, 2), [R(3, 4)], 1),
    ("unbind", lambda L, a: a.unbind(1), [R(3, 4)], 1),
    ("split", lambda L, a: a.split(2, 1), [R(3, 4)], 1),
    ("chunk", lambda L, a: a.chunk(3, 0), [R(3, 4)], 1),
    ("cat", lambda L, a, b: L.cat([a, b], 0), [R(3, 4), R(2, 4)], 2),
    ("stack", lambda L, a, b: L.stack([a, b], 1), [R(3, 4), R(3, 4)], 2),
    ("flip", lambda L, a: a.flip(0), [R(3, 4)], 1),
    ("roll", lambda L, a: a.roll(1, 1), [R(3, 4)], 1),
    ("repeat", lambda L, a: a.repeat(2, 1), [R(3, 4)], 1),
    ("tril", lambda L, a: a.tril(), [R(4, 4)], 1),
    ("contiguous_of_t", lambda L, a: a.t().contiguous(), [R(3, 4)], 1),
    ("clone", lambda L, a: a.clone(), [R(3, 4)], 1),
    # ---- indexing ----------------------------------------------------------------
    ("index_tensor", lambda L, a, i: a[i], [R(4, 3), IDX(0, 2, 2)], 1),
    ("index_select", lambda L, a, i: a.index_select(0, i), [R(4, 3), IDX(3, 1)], 1),
    ("gather", lambda L, a, i: a.gather(1, i), [R(3, 4), np.array([[0, 1], [2, 3], [1, 1]])], 1),
    ("masked_fill", lambda L, a: a.masked_fill(a > 0, 0.5), [R(3, 4)], 1),
    # ---- activations and nn ----------------------------------------------------------
    ("relu", lambda L, a: L.relu(a), [R(3, 4)], 1),
    ("sigmoid", lambda L, a: L.sigmoid(a), [R(3, 4)], 1),
    ("tanh", lambda L, a: L.tanh(a), [R(3, 4)], 1),
    ("gelu", lambda L, a: L.nn.functional.gelu(a), [R(3, 4)], 1),
    ("silu", lambda L, a: L.nn.functional.silu(a), [R(3, 4)], 1),
    ("elu", lambda L, a: L.nn.functional.elu(a), [R(3, 4)], 1),
    ("leaky_relu", lambda L, a: L.nn.functional.leaky_relu(a, 0.1), [R(3, 4)], 1),
    ("softplus", lambda L, a: L.nn.functional.softplus(a), [R(3, 4)], 1),
    ("softmax", lambda L, a: a.softmax(1), [R(3, 4)], 1),
    ("log_softmax", lambda L, a: a.log_softmax(0), [R(3, 4)], 1),
    ("cross_entropy", lambda L, a, y: L.nn.functional.cross_entropy(a, y), [R(3, 4), IDX(0, 3, 1)], 1),
    ("nll_loss", lambda L, a, y: L.nn.functional.nll_loss(a, y), [R(3, 4), IDX(0, 3, 1)], 1),
    ("mse_loss", lambda L, a, b: L.nn.functional.mse_loss(a, b), [R(3, 4), R(3, 4)], 2),
    ("l1_loss", lambda L, a, b: L.nn.functional.l1_loss(a, b), [R(3, 4), R(3, 4)], 2),
    ("bce", lambda L, a, b: L.nn.functional.binary_cross_entropy(a, b),
     [R(3, 4, lo=0.1, hi=0.9), R(3, 4, lo=0.0, hi=1.0)], 1),
    ("bce_logits", lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a, b),
     [R(3, 4), R(3, 4, lo=0.0, hi=1.0)], 2),
    ("layer_norm", lambda L, a, w, b: L.nn.functional.layer_norm(a, (4,), w, b), [R(3, 4), R(4), R(4)], 3),
    ("conv2d", lambda L, x, w, b: L.nn.functional.conv2d(x, w, b, padding=1),
     [R(1, 2, 5, 5), R(3, 2, 3, 3), R(3)], 3),
    ("max_pool2d", lambda L, x: L.nn.functional.max_pool2d(x, 2), [R(1, 2, 4, 4)], 1),
    ("avg_pool2d", lambda L, x: L.nn.functional.avg_pool2d(x, 2), [R(1, 2, 4, 4)], 1),
    ("pad", lambda L, x: L.nn.functional.pad(x, (1, 2)), [R(2, 3)], 1),
    ("embedding", lambda L, i, w: L.nn.functional.embedding(i, w), [IDX(0, 2, 1), R(4, 3)], 1),
    ("dropout_eval", lambda L, x: L.nn.functional.dropout(x, 0.5, training=False), [R(3, 4)], 1),
    # ---- in-place ops on a clone (the tangent is written in place too) -------------
    ("add_", lambda L, a, b: a.clone().add_(b, alpha=2.0), [R(3, 4), R(4)], 2),
    ("mul_", lambda L, a, b: a.clone().mul_(b), [R(3, 4), R(3, 4)], 2),
    ("div_", lambda L, a, b: a.clone().div_(b), [R(3, 4), P(3, 4)], 2),
    ("tan_", lambda L, a: a.clone().tan_(), [R(3, 4, lo=-1.0, hi=1.0)], 1),
    ("relu_", lambda L, a: L.relu_(a.clone()), [R(3, 4)], 1),
    ("clamp_", lambda L, a: a.clone().clamp_(-0.5, 0.5), [R(3, 4)], 1),
    ("copy_", lambda L, a, b: a.clone().copy_(b), [R(3, 4), R(3, 4)], 2),
    ("setitem", lambda L, a, b: _setitem(a.clone(), b), [R(3, 4), R(2, 4)], 2),
    ("view_mul_", lambda L, a: _view_inplace(a.clone()), [R(3, 4)], 1),
]


def _setitem(a, b):
    a[1:] = b
    return a


def _view_inplace(a):
    a[0].mul_(3)         # the base's tangent changes through its view
    return a
