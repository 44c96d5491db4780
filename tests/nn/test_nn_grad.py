"""cgrad.nn.grad (torch.nn.grad): convolution gradients with respect to the
input and the weight, against torch, with float64 gradcheck of the results
(they are differentiable where their inputs require grad); and the torch.nn
submodules reachable as attributes without an import."""
import numpy as np
import pytest

import cgrad
from tests.helpers import assert_close, requires_torch, torch

CASES = [  # spatial dims, batch, in channels, out channels, size, kernel, keywords
    (1, 2, 3, 4, 9, 3, {}),
    (1, 2, 4, 4, 11, 3, dict(stride=2, padding=1, dilation=2, groups=2)),
    (2, 2, 3, 4, 8, 3, {}),
    (2, 1, 4, 6, 9, 3, dict(stride=(2, 1), padding=(1, 0), dilation=1, groups=2)),
    (3, 1, 2, 3, 6, 2, dict(stride=2, padding=1)),
]


def arrays(spatial, n, cin, cout, size, k, kwargs, seed=0):
    rng = np.random.default_rng(seed)
    groups = kwargs.get("groups", 1)
    x = rng.standard_normal((n, cin) + (size,) * spatial)
    w = rng.standard_normal((cout, cin // groups) + (k,) * spatial)
    out = torch.nn.functional.__dict__[f"conv{spatial}d"](torch.tensor(x), torch.tensor(w), None, **kwargs)
    go = rng.standard_normal(tuple(out.shape))
    return x, w, go


@requires_torch
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_input_and_weight_gradients_match_torch(case, dtype):
    spatial, n, cin, cout, size, k, kwargs = case
    x, w, go = arrays(spatial, n, cin, cout, size, k, kwargs)
    results = {}
    for lib in (cgrad, torch):
        dt = getattr(lib, dtype)
        tw = lib.tensor(w, dtype=dt, requires_grad=True)
        tgo = lib.tensor(go, dtype=dt)
        gi = getattr(lib.nn.grad, f"conv{spatial}d_input")(x.shape, tw, tgo, **kwargs)
        gw = getattr(lib.nn.grad, f"conv{spatial}d_weight")(lib.tensor(x, dtype=dt), w.shape, tgo, **kwargs)
        gi.sum().backward()
        results[lib.__name__] = (gi, gw, tw.grad)
    (ci, cw, cg), (ti, tw_, tg) = results["cgrad"], results["torch"]
    tol = 1e-4 if dtype == "float32" else 1e-10
    for a, b, what in ((ci, ti, "input grad"), (cw, tw_, "weight grad"), (cg, tg, "its gradient")):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert_close(a.detach().numpy(), b.detach().numpy(), tol, tol, what)
    assert type(ci.grad_fn).__name__ == type(ti.grad_fn).__name__ == "ConvolutionBackwardBackward0"
    assert cw.grad_fn is None and tw_.grad_fn is None


@pytest.mark.parametrize("spatial", [1, 2])
def test_gradients_are_differentiable(spatial):
    """gradcheck of conv_input in the weight and the output gradient, and of
    conv_weight in the input and the output gradient (no oracle needed)."""
    rng = np.random.default_rng(1)
    size = (2, 2) + (5,) * spatial
    w = cgrad.tensor(rng.standard_normal((3, 2) + (3,) * spatial), requires_grad=True)
    x = cgrad.tensor(rng.standard_normal(size), requires_grad=True)
    go = cgrad.tensor(rng.standard_normal((2, 3) + (3,) * spatial), requires_grad=True)
    conv_input = getattr(cgrad.nn.grad, f"conv{spatial}d_input")
    conv_weight = getattr(cgrad.nn.grad, f"conv{spatial}d_weight")
    assert cgrad.autograd.gradcheck(lambda w_, g_: conv_input(size, w_, g_), (w, go))
    assert cgrad.autograd.gradcheck(lambda x_, g_: conv_weight(x_, tuple(w.shape), g_), (x, go))


def test_input_gradient_by_hand():
    """A 1x1 convolution's input gradient is weight^T applied to the output
    gradient, channel by channel."""
    w = cgrad.tensor([[[2.0]], [[3.0]]])            # 2 out, 1 in, kernel 1
    go = cgrad.tensor([[[1.0, 10.0], [100.0, 1000.0]]])
    gi = cgrad.nn.grad.conv1d_input((1, 1, 2), w, go)
    assert gi.tolist() == [[[302.0, 3020.0]]]


def test_nn_submodules_as_attributes():
    assert cgrad.nn.attention.SDPBackend.MATH == 0
    assert callable(cgrad.nn.grad.conv2d_weight)
    assert cgrad.nn.common_types._size_2_t is not None
    with pytest.raises(AttributeError, match="module 'cgrad.nn' has no attribute 'nonexistent'"):
        cgrad.nn.nonexistent  # noqa: B018
