"""vmap over a custom autograd.Function (cgrad/autograd/_function_vmap.py),
against torch: generate_vmap_rule=True (values, and gradients through the
user's backward under vmap(grad) and grad of vmap), a vmap staticmethod
(out_dims 0 and None, several outputs, in_dims of unbatched arguments),
and PyTorch's errors: no setup_context, no vmap support, both a rule and
a staticmethod."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

X = np.random.default_rng(2).uniform(-1.0, 1.0, size=(3, 4))


def functions(lib):
    class Sin(lib.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return lib.sin(x)

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, = inputs
            ctx.save_for_backward(x)

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * lib.cos(x) * 3      # not sin's derivative: the custom backward must run

    class ScaleSum(lib.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k, x.sum()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g, g2):
            return g * ctx.k + g2, None

        @staticmethod
        def vmap(info, in_dims, x, k):
            assert in_dims[1] is None
            d = in_dims[0]
            return (x * k, x.sum(dim=tuple(i for i in range(x.dim()) if i != d))), (d, 0)

    class Constant(ScaleSum):
        @staticmethod
        def vmap(info, in_dims, x, k):
            return (x * k, (x * 0).sum()), (in_dims[0], None)

    class OldStyle(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class NoRule(Sin):
        generate_vmap_rule = False

    class Both(ScaleSum):
        generate_vmap_rule = True

    return dict(Sin=Sin, ScaleSum=ScaleSum, Constant=Constant, OldStyle=OldStyle, NoRule=NoRule, Both=Both)


def values(out):
    if isinstance(out, tuple):
        return [values(o) for o in out]
    return out.detach().numpy().round(10).tolist()


def run(lib, case):
    f = functions(lib)
    x = lib.tensor(X)
    try:
        if case == "sin":
            return values(lib.vmap(f["Sin"].apply)(x))
        if case == "sin_in_dims_1":
            return values(lib.vmap(f["Sin"].apply, in_dims=1)(x))
        if case == "vmap_of_grad":
            return values(lib.vmap(lib.func.grad(lambda t: f["Sin"].apply(t).sum()))(x))
        if case == "grad_of_vmap":
            xr = lib.tensor(X, requires_grad=True)
            lib.vmap(f["Sin"].apply)(xr).sum().backward()
            return values(xr.grad)
        if case == "staticmethod":
            return values(lib.vmap(f["ScaleSum"].apply, in_dims=(1, None))(x, 2.0))
        if case == "out_dims_none":
            return values(lib.vmap(f["Constant"].apply, in_dims=(0, None))(x, 2.0))
        if case == "nested":
            return values(lib.vmap(lib.vmap(f["Sin"].apply))(x))
        if case in ("OldStyle", "NoRule", "Both"):
            return values(lib.vmap(lambda t: f[case].apply(t) if case != "Both" else f[case].apply(t, 2.0))(x))
    except RuntimeError as e:
        return "RuntimeError: " + str(e)


CASES = ["sin", "sin_in_dims_1", "vmap_of_grad", "grad_of_vmap", "staticmethod", "out_dims_none", "nested",
         "OldStyle", "NoRule", "Both"]


@requires_torch
@pytest.mark.parametrize("case", CASES)
def test_vmap_of_custom_function_matches_torch(case):
    assert run(cgrad, case) == run(torch, case)


def test_vmap_of_custom_function_without_torch():
    np.testing.assert_allclose(run(cgrad, "sin"), np.sin(X), atol=1e-12)
    np.testing.assert_allclose(run(cgrad, "grad_of_vmap"), 3 * np.cos(X), atol=1e-12)
    assert run(cgrad, "OldStyle").startswith("RuntimeError: In order to use an autograd.Function with functorch")
