"""cgrad.autograd.forward_ad against torch.autograd.forward_ad: levels and
their errors, make_dual / unpack_dual, tangents of views and in-place ops
(aliasing as PyTorch), grad mode interplay, custom Function.jvp and
forward-over-reverse (Hessian-vector products)."""
import numpy as np
import pytest

import cgrad

from fwd_helpers import torch

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")
LIBS = [cgrad] + ([torch] if torch is not None else [])


def fw(lib):
    return lib.autograd.forward_ad


def arr(x):
    return None if x is None else x.detach().numpy().copy()


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return (type(e).__name__, str(e).replace("torch.", "cgrad."))


def both(fn):
    """fn(lib) in cgrad and torch: same outcome (values or error type/text)."""
    results = [outcome(lambda lib=lib: fn(lib)) for lib in LIBS]
    if len(results) == 2:
        a, b = results
        assert a[0] == b[0], (a, b)
        if a[0] == "ok":
            assert_tree_close(a[1], b[1])
        else:
            assert a[1] == b[1]
    return results[0]


def assert_tree_close(a, b):
    if isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_tree_close(x, y)
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype, (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)    # float32: rounding order may differ
    else:
        assert a == b, (a, b)


def test_levels_and_their_errors():
    def levels(lib):
        f = fw(lib)
        out = [f.enter_dual_level()]
        out.append(outcome(f.enter_dual_level))
        out.append(outcome(lambda: f.exit_dual_level(level=3)))
        f.exit_dual_level()
        out.append(outcome(f.exit_dual_level))
        with f.dual_level() as lvl:
            out.append(lvl)
            out.append(outcome(lambda: f.dual_level().__enter__()))
        out.append(f._current_level)
        return out
    res = both(levels)
    assert res[1][0] == 0 and res[1][1][1] == "Nested forward mode AD is not supported at the moment"


def test_make_dual_errors():
    def errors(lib):
        f = fw(lib)
        x = lib.ones(3)
        out = [outcome(lambda: f.make_dual(x, lib.ones(3)))]
        with f.dual_level():
            out.append(outcome(lambda: f.make_dual(x, lib.ones(4))))
            out.append(outcome(lambda: f.make_dual(lib.arange(3), lib.arange(3))))
            out.append(outcome(lambda: f.make_dual(x, lib.arange(3))))
            out.append(outcome(lambda: arr(f.unpack_dual(x).tangent)))
        out.append(outcome(lambda: arr(f.unpack_dual(x).primal)))
        return out
    both(errors)


def test_make_dual_unpack_dual():
    def run(lib):
        f = fw(lib)
        x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        t = lib.tensor([0.5, 0.25, -1.0])
        strided = lib.arange(6.0)[::2]
        with f.dual_level():
            d = f.make_dual(x, t)
            p, tan = f.unpack_dual(d)
            d2 = f.make_dual(x.detach(), strided)
            res = [type(f.unpack_dual(d)).__name__, d.requires_grad, d.grad_fn.name(), d._base is x,
                   tan is t, arr(p), arr(tan), f.unpack_dual(d2).tangent is strided,
                   arr(f.unpack_dual(d2).tangent), f.unpack_dual(d2).tangent.stride(),
                   f.unpack_dual(d.detach()).tangent is None]
            y = d * 2
        res.append(f.unpack_dual(y).tangent is None)     # deleted with its level
        return res
    both(run)


def test_results_need_no_grad():
    def run(lib):
        f = fw(lib)
        with f.dual_level():
            d = f.make_dual(lib.ones(2, 3), lib.ones(2, 3))
            y = (d.sin() * 3).sum(0)
            res = [y.requires_grad, y.grad_fn is None, arr(f.unpack_dual(y).tangent)]
            with lib.no_grad():
                z = d.exp()
            res += [z.requires_grad, arr(f.unpack_dual(z).tangent)]
            x = lib.ones(2, 3, requires_grad=True)
            w = x * d         # mixed: reverse history for x, tangent from d
            res += [w.grad_fn.name(), [e[0] is None for e in w.grad_fn.next_functions],
                    arr(f.unpack_dual(w).tangent)]
            w.sum().backward()
            res.append(arr(x.grad))
        return res
    both(run)


def test_view_tangents_alias_and_inplace():
    def run(lib):
        f = fw(lib)
        with f.dual_level():
            t = lib.arange(6.0).view(2, 3)
            d = f.make_dual(lib.ones(2, 3), t)
            v = d[1]
            same_memory = f.unpack_dual(v).tangent.data_ptr() == t[1].data_ptr()
            v.mul_(3)                               # writes into d's tangent too
            base = lib.zeros(2, 3)
            base[0].add_(d[0])                      # a plain base gets a tangent through its view
            u = lib.zeros(3)
            u.copy_(d[1])
            e = d.clone()
            e.tan_()
            return [same_memory, arr(f.unpack_dual(d).tangent), arr(t), arr(f.unpack_dual(base).tangent),
                    arr(f.unpack_dual(u).tangent), arr(f.unpack_dual(e).tangent), arr(e)]
    both(run)


def test_custom_function_jvp():
    def run(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y, k):
                ctx.save_for_forward(x, y)
                ctx.k = k
                return x * y * k

            @staticmethod
            def jvp(ctx, xt, yt, kt):
                x, y = ctx.saved_tensors
                return (xt * y + x * yt) * ctx.k

        class NoJvp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g

        class TwoOut(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, x * 3

            @staticmethod
            def jvp(ctx, t):
                return t * 2

        f = fw(lib)
        with f.dual_level():
            d = f.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, -1.0]))
            out = Scale.apply(d, lib.tensor([3.0, 4.0]), 2.0)
            res = [arr(f.unpack_dual(out).primal), arr(f.unpack_dual(out).tangent)]
            res.append(outcome(lambda: NoJvp.apply(d)))
            res.append(outcome(lambda: TwoOut.apply(d)))
            res.append(arr(NoJvp.apply(lib.ones(2))))
        return res
    both(run)


def test_forward_over_reverse_hvp():
    """hvp of f(x) = sum(sin(x) * x^2) by forward AD over a backward."""
    rng = np.random.default_rng(0)
    xv, vv = rng.standard_normal(5), rng.standard_normal(5)

    def run(lib):
        f = fw(lib)
        x = lib.tensor(xv, requires_grad=True)
        with f.dual_level():
            d = f.make_dual(x, lib.tensor(vv))
            y = (d.sin() * d ** 2).sum()
            (g,) = lib.autograd.grad(y, d, create_graph=True)
            return arr(f.unpack_dual(g).tangent)
    hv = both(run)[1]
    x = xv
    hess_diag = -np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x)
    np.testing.assert_allclose(hv, hess_diag * vv, rtol=1e-10)


def test_reverse_over_forward():
    """The tangent is differentiable with respect to the primal."""
    def run(lib):
        f = fw(lib)
        x = lib.tensor([0.3, -1.2, 2.0], dtype=lib.float64, requires_grad=True)
        with f.dual_level():
            d = f.make_dual(x, lib.ones(3, dtype=lib.float64))
            tan = f.unpack_dual((d.tanh() * d).sum()).tangent
            (g,) = lib.autograd.grad(tan, x)
        return arr(g)
    both(run)


def test_tangent_dtype_and_integer_outputs():
    def run(lib):
        f = fw(lib)
        with f.dual_level():
            d = f.make_dual(lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64))
            vals, idx = d.max(1)
            return [str(f.unpack_dual(d).tangent.dtype).split(".")[-1], arr(f.unpack_dual(vals).tangent),
                    f.unpack_dual(idx).tangent is None, f.unpack_dual(d > 0).tangent is None]
    both(run)


def test_dual_repr_shows_tangent():
    def run(lib):
        f = fw(lib)
        with f.dual_level():
            d = f.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([0.5, -1.0], dtype=lib.float64))
            return repr(d).replace("torch.", "cgrad.")
    both(run)


@pytest.mark.parametrize("op", ["exp", "tanh", "sigmoid", "sqrt", "softmax", "matmul"])
def test_tangent_has_no_graph_without_grad(op):
    """A rule reading the op's result must not record through it when
    nothing requires grad (the tangent is a plain tensor, as in PyTorch)."""
    def run(lib):
        f = fw(lib)
        with f.dual_level():
            d = f.make_dual(lib.rand(3, 3) + 0.5, lib.ones(3, 3))
            y = d @ d if op == "matmul" else (d.softmax(1) if op == "softmax" else getattr(d, op)())
            t = f.unpack_dual(y).tangent
            return [y.requires_grad, t.requires_grad, t.grad_fn is None]
    assert both(run)[1] == [False, False, True]


def test_explicit_level_arguments_and_their_errors():
    """make_dual / unpack_dual with a level that is not the running one:
    PyTorch's C++ errors (a level that does not exist, an invalid level for
    a tensor with a tangent; none for a tensor without one)."""
    def levels(lib):
        f = fw(lib)
        x = lib.tensor([1.0, 2.0, 3.0])
        out = []
        with f.dual_level():
            d = f.make_dual(x, lib.ones(3))
            out.append(outcome(lambda: arr(f.make_dual(x, lib.ones(3), level=1))))
            out.append(outcome(lambda: arr(f.make_dual(x, lib.ones(3), level=7))))
            out.append(outcome(lambda: arr(f.unpack_dual(d, level=1).tangent)))
            out.append(outcome(lambda: f.unpack_dual(x, level=4).tangent))
            out.append(outcome(lambda: arr(f.unpack_dual(d, level=0).tangent)))
            out.append(outcome(lambda: arr(f.make_dual(x, lib.ones(3), level=-1))))
        out.append(outcome(lambda: arr(f.make_dual(x, lib.ones(3), level=0))))
        out.append(outcome(lambda: f.unpack_dual(x, level=3).tangent))
        return out

    status, res = both(levels)
    assert status == "ok"
    assert res[0] == ("RuntimeError", "Invalid level given to _make_dual")
    assert res[2] == ("RuntimeError", "Invalid level given to _fw_primal")
    assert res[6][1].startswith("Trying to access a forward AD level with an invalid index")
