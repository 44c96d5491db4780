"""PyTorch's autograd API on cgrad: autograd.grad/backward, higher-order
gradients, hooks, introspection, custom Functions, grad modes, inference
mode, anomaly mode and gradcheck. Each behaviour is compared with torch where
torch is installed, and checked against hand-computed values otherwise."""
import math
import os
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import cgrad
from cgrad.autograd import Function
from autograd_api_expected import EXPECTED
from helpers import requires_torch, torch

LIBS = [cgrad] + ([torch] if torch is not None else [])


def run_both(fn, expected):
    """fn(lib) -> a comparable (nested lists / strings) result, in cgrad and
    torch; cgrad's also equals `expected`, torch's result recorded
    (autograd_api_expected.py), so it is checked without torch too."""
    got = fn(cgrad)
    if torch is not None:
        want = fn(torch)
        assert got == want, (got, want)
    assert got == expected, (got, expected)
    return got


def rounded(t, nd=5):
    return np.round(np.asarray(t.detach().numpy(force=True), dtype=np.float64), nd).tolist()


# --- autograd.grad and backward ------------------------------------------------

def test_grad_errors_match_torch():
    def errors(lib):
        x = lib.ones(2, requires_grad=True)
        y = lib.ones(2, requires_grad=True)
        out = []
        for f in (lambda: lib.autograd.grad((x * 2).sum(), y),
                  lambda: lib.autograd.grad(lib.ones(2).sum(), x),
                  lambda: lib.autograd.grad(x * 2, x, lib.ones(3)),
                  lambda: lib.autograd.grad(x * 2, x),
                  lambda: lib.autograd.grad([x.sum(), y.sum()], [x, y], [lib.tensor(2.)]),
                  lambda: lib.autograd.grad((x * 2).sum(), lib.ones(2)),
                  lambda: lib.autograd.grad(x.sum(), [])):
            try:
                f()
                out.append(None)
            except RuntimeError as e:
                out.append(str(e).replace("torch.", "cgrad."))
        return out
    got = run_both(errors, EXPECTED["test_grad_errors_match_torch"])
    assert got[0].startswith("The differentiated Tensor at index 0 appears to not have been used")


def test_grad_allow_unused_and_materialize():
    x = cgrad.ones(2, requires_grad=True)
    y = cgrad.ones(2, requires_grad=True)
    gx, gy = cgrad.autograd.grad((x * 2).sum(), [x, y], allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0, 2.0] and gy is None
    gx, gy = cgrad.autograd.grad((x * 2).sum(), [x, y], materialize_grads=True)
    assert gy.tolist() == [0.0, 0.0]


def test_grad_with_respect_to_non_leaf_and_multiple_outputs():
    def fn(lib):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x.exp()
        out1 = (h * 2).sum()
        out2 = (h * h).sum()
        gh, gx = lib.autograd.grad([out1, out2], [h, x], [lib.tensor(1.0), lib.tensor(0.5)])
        return rounded(gh), rounded(gx)
    run_both(fn, EXPECTED["test_grad_with_respect_to_non_leaf_and_multiple_outputs"])


def test_backward_inputs_with_non_leaf():
    def fn(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        h = x * 3
        (h * h).sum().backward(inputs=[h, x])
        return rounded(h.grad), rounded(x.grad)
    run_both(fn, EXPECTED["test_backward_inputs_with_non_leaf"])


# --- higher-order gradients ----------------------------------------------------

HIGHER = {
    "x**3": lambda lib, x, w: x ** 3,
    "sin": lambda lib, x, w: x.sin(),
    "cos": lambda lib, x, w: x.cos(),
    "tanh": lambda lib, x, w: x.tanh(),
    "sigmoid": lambda lib, x, w: x.sigmoid(),
    "exp*log": lambda lib, x, w: x.exp() * (x * x + 1).log(),
    "sqrt": lambda lib, x, w: (x * x + 1).sqrt(),
    "mul": lambda lib, x, w: x * w * x,
    "div": lambda lib, x, w: x / (w * w + 1),
    "pow_tt": lambda lib, x, w: (w * w + 1) ** x,
    "rpow": lambda lib, x, w: 2 ** x,
    "mm": lambda lib, x, w: lib.mm(x.view(2, 2), w.view(2, 2)) ** 2,
    "matmul_mv": lambda lib, x, w: (x.view(2, 2) @ w[:2] if hasattr(w, "__getitem__") and _can_index()
                                    else x.view(2, 2) @ w.view(2, 2).sum(0)) ** 2,
    "mean_sq": lambda lib, x, w: (x - x.mean()) ** 2,
    "relu_sq": lambda lib, x, w: (x * w).relu() ** 2,
    "abs": lambda lib, x, w: (x * w).abs() * x,
    "reciprocal": lambda lib, x, w: (x * x + 1).reciprocal(),
}


def _can_index():
    try:
        cgrad.ones(2)[0]
        return True
    except TypeError:
        return False


@pytest.mark.parametrize("name", sorted(HIGHER))
def test_double_and_triple_backward(name):
    fn = HIGHER[name]
    data = (np.array([0.3, -0.7, 1.1, 0.4]), np.array([0.9, 0.2, -0.5, 1.3]))

    def derivs(lib):
        x = lib.tensor(data[0], requires_grad=True)
        w = lib.tensor(data[1], requires_grad=True)
        y = fn(lib, x, w).sum()
        (g1,) = lib.autograd.grad(y, x, create_graph=True)
        (g2,) = lib.autograd.grad(g1.sum(), x, create_graph=True, allow_unused=True)
        if g2 is None or not g2.requires_grad:
            return rounded(g1), None if g2 is None else rounded(g2), None
        (g3,) = lib.autograd.grad(g2.sum(), x, allow_unused=True)
        return rounded(g1), rounded(g2), None if g3 is None else rounded(g3)

    run_both(derivs, EXPECTED["test_double_and_triple_backward", name])
    x = cgrad.tensor(data[0], requires_grad=True)
    w = cgrad.tensor(data[1], requires_grad=True)
    assert cgrad.autograd.gradgradcheck(lambda a, b: fn(cgrad, a, b), (x, w))


def test_backward_create_graph_makes_grad_differentiable():
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = cgrad.autograd.grad(x.grad.sum(), x)
    assert gg.tolist() == [6.0, 12.0]


# --- hooks and introspection ---------------------------------------------------

def test_hooks_match_torch():
    def fn(lib):
        log = []
        x = lib.tensor([1., 2.], requires_grad=True)
        h = x.register_hook(lambda g: log.append(("x", g.tolist())) or g * 10)
        y = x * 3
        y.register_hook(lambda g: log.append(("y1", g.tolist())))
        y.register_hook(lambda g: log.append(("y2", g.tolist())) or g + 1)
        y.retain_grad()
        z = y * y + y
        z.grad_fn.register_hook(lambda gi, go: log.append(
            ("post", [t.tolist() if t is not None else None for t in gi], [t.tolist() for t in go])))
        z.grad_fn.register_prehook(lambda go: log.append(("pre", [t.tolist() for t in go])))
        z.sum().backward()
        log.append(("grads", x.grad.tolist(), y.grad.tolist(), y.retains_grad))
        h.remove()
        x.grad = None
        (x * 1).sum().backward()
        log.append(("after remove", x.grad.tolist()))
        for bad in (lambda g: lib.ones(3), lambda g: g.double()):
            b = lib.ones(2, requires_grad=True) * 2
            b.register_hook(bad)
            try:
                b.sum().backward()
            except RuntimeError as e:
                log.append(str(e).replace("torch.", "cgrad."))
        return log
    run_both(fn, EXPECTED["test_hooks_match_torch"])


def test_next_functions_and_accumulate_grad_variable():
    def fn(lib):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2)
        y = (a * b + a).sum()
        fn0 = y.grad_fn
        add = fn0.next_functions[0][0]
        mul, acc = add.next_functions[0][0], add.next_functions[1][0]
        return (fn0.name(), add.name(), [(type(n).__name__ if n else None, i) for n, i in mul.next_functions],
                type(acc).__name__, acc.variable is a, a.grad_fn is None, y.is_leaf)
    run_both(fn, EXPECTED["test_next_functions_and_accumulate_grad_variable"])


def test_version_counter():
    def fn(lib):
        a = lib.ones(3)
        v = a.view(3)
        out = [a._version]
        a.add_(1)
        out.append((a._version, v._version))
        a.mul_(2)
        a.zero_()
        out.append(a._version)
        return out
    run_both(fn, EXPECTED["test_version_counter"])


# --- custom Functions ----------------------------------------------------------

def make_functions(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k=2.0):
            y = x.exp() * k
            ctx.save_for_backward(y)
            ctx.k = k
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y, None

    class Split(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a + b, a * b

        @staticmethod
        def backward(ctx, ga, gb):
            a, b = ctx.saved_tensors
            return ga + gb * b, ga + gb * a

    class NonDiff(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a):
            idx = lib.tensor([1])
            ctx.mark_non_differentiable(idx)
            return a * 2, idx

        @staticmethod
        def backward(ctx, g, gi):
            return g * 2

    return Exp, Split, NonDiff


def test_custom_function_matches_torch():
    def fn(lib):
        Exp, Split, NonDiff = make_functions(lib)
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        w = lib.tensor([2.0, 3.0], requires_grad=True)
        y = Exp.apply(x, 3.0)
        s, p = Split.apply(y, w)
        o, idx = NonDiff.apply(s)
        ((o * p).sum() + p.sum()).backward()
        return (type(y.grad_fn).__name__, y.grad_fn.needs_input_grad, s.grad_fn is p.grad_fn,
                idx.requires_grad, rounded(x.grad), rounded(w.grad),
                [type(n).__name__ for n, _ in s.grad_fn.next_functions])
    run_both(fn, EXPECTED["test_custom_function_matches_torch"])


def test_custom_function_second_order_and_gradcheck():
    class Cube(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2

    x = cgrad.tensor([0.5, -1.5], dtype=cgrad.float64, requires_grad=True)
    assert cgrad.autograd.gradcheck(Cube.apply, (x,))
    assert cgrad.autograd.gradgradcheck(Cube.apply, (x,))


def test_custom_function_errors_match_torch():
    def fn(lib):
        class TooMany(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g, g

        class WrongShape(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return lib.ones(3)

        out = []
        x = lib.ones(2, requires_grad=True)
        for F in (TooMany, WrongShape):
            try:
                F.apply(x).sum().backward()
            except RuntimeError as e:
                out.append(str(e))
        Exp = make_functions(lib)[0]
        y = Exp.apply(x)
        y.sum().backward()
        try:
            y.grad_fn.saved_tensors
        except RuntimeError as e:
            out.append(str(e))
        return out
    assert len(run_both(fn, EXPECTED["test_custom_function_errors_match_torch"])) == 3


def test_custom_function_materialize_and_identity():
    class Two(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.set_materialize_grads(False)
            return a * 2, a * 3

        @staticmethod
        def backward(ctx, g1, g2):
            assert g2 is None
            return g1 * 2

    class Ident(Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    a = cgrad.ones(2, requires_grad=True)
    p, q = Two.apply(a)
    p.sum().backward()
    assert a.grad.tolist() == [2.0, 2.0]
    z = Ident.apply(a)
    assert z is not a and z._base is a and a.grad_fn is None
    with cgrad.no_grad():
        assert not Ident.apply(a).requires_grad


# --- grad modes, inference mode, anomaly mode ---------------------------------

def test_inference_mode_matches_torch():
    def fn(lib):
        out = []
        with lib.inference_mode():
            t = lib.ones(2)
            u = t * 2
        out.append((t.is_inference(), u.is_inference(), u.requires_grad))
        x = lib.ones(2, requires_grad=True)
        for f in (lambda: (t + x).grad_fn.name(), lambda: t * x, lambda: x.exp() * t,
                  lambda: t.requires_grad_(), lambda: t.add_(1), lambda: t.clone().is_inference()):
            try:
                out.append(str(f()))
            except RuntimeError as e:
                out.append(str(e).replace("torch", "cgrad"))

        @lib.inference_mode()
        def g():
            return lib.ones(1)

        out.append(g().is_inference())
        with lib.inference_mode(False):
            out.append((lib.ones(1).is_inference(), lib.is_grad_enabled()))
        return out
    run_both(fn, EXPECTED["test_inference_mode_matches_torch"])


def test_anomaly_mode_names_the_forward_op():
    x = cgrad.tensor([0., 1.], requires_grad=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with cgrad.autograd.detect_anomaly():
            y = x / x
            with pytest.raises(RuntimeError, match=r"^Function 'DivBackward0' returned nan values in its "
                                                   r"1th output.$"):
                y.sum().backward()
    messages = [str(w.message) for w in caught]
    assert any("Error detected in DivBackward0. Traceback of forward call" in m and "y = x / x" in m
               for m in messages)
    assert not cgrad.is_anomaly_enabled()
    with cgrad.autograd.set_detect_anomaly(True):
        assert cgrad.is_anomaly_enabled()
    assert not cgrad.is_anomaly_enabled()


def test_gradcheck_reports_wrong_gradients():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 3

    x = cgrad.ones(2, dtype=cgrad.float64, requires_grad=True)
    with pytest.raises(cgrad.autograd.GradcheckError, match="^Jacobian mismatch for output 0 with "
                                                             "respect to input 0,"):
        cgrad.autograd.gradcheck(Bad.apply, (x,))
    assert cgrad.autograd.gradcheck(Bad.apply, (x,), raise_exception=False) is False
    assert issubclass(cgrad.autograd.GradcheckError, RuntimeError)


def outcome_of_gradcheck(lib, fn, **kw):
    x = lib.tensor([0.5, -1.5, 2.0], dtype=lib.float64, requires_grad=True)
    try:
        return lib.autograd.gradcheck(lambda x: fn(lib, x), (x,), **kw)
    except RuntimeError as e:       # GradcheckError (torch.autograd.gradcheck.GradcheckError)
        return type(e).__name__, str(e)


NON_DIFFERENTIABLE_OUTPUTS = {
    # an output that does not require grad is not checked (its Jacobian is not zero)
    "statistics beside the result": lambda L, x: L.native_layer_norm(x.view(1, 3), [3], None, None, 1e-5),
    "detached beside differentiable": lambda L, x: (x.detach() * 2, x * 3),
    # with no differentiable output, the numerical Jacobian must be zero
    "only a detached output": lambda L, x: x.detach() * 2,
    "only a constant output": lambda L, x: x.detach() * 0,
}


@pytest.mark.parametrize("name", sorted(NON_DIFFERENTIABLE_OUTPUTS))
@pytest.mark.parametrize("raise_exception", [True, False])
def test_gradcheck_outputs_that_do_not_require_grad(name, raise_exception):
    got = outcome_of_gradcheck(cgrad, NON_DIFFERENTIABLE_OUTPUTS[name], raise_exception=raise_exception)
    failure = ("GradcheckError", "Numerical gradient for function expected to be zero") if raise_exception else False
    assert got == (failure if name == "only a detached output" else True)
    if torch is not None:
        assert outcome_of_gradcheck(torch, NON_DIFFERENTIABLE_OUTPUTS[name], raise_exception=raise_exception) == got


# --- threads ---------------------------------------------------------------------

def test_backward_in_many_threads_and_reentrant_backward():
    errors = []

    def work(seed):
        try:
            rng = np.random.default_rng(seed)
            a = rng.standard_normal((8, 8))
            x = cgrad.tensor(a, requires_grad=True)
            y = ((x @ x).tanh() * x).sum()
            y.backward()
            xt = a
            # d/dx sum(tanh(x@x) * x), computed with numpy
            m = xt @ xt
            t = np.tanh(m)
            gm = (1 - t ** 2) * xt
            want = t + gm @ xt.T + xt.T @ gm
            np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-10)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors

    # backward inside a hook (reentrant)
    inner = []
    x = cgrad.tensor([1.0, 2.0], requires_grad=True)
    w = cgrad.tensor([3.0], requires_grad=True)

    def hook(g):
        assert not cgrad.is_grad_enabled()   # as in torch, hooks run in the backward's grad mode
        with cgrad.enable_grad():
            (w * 2).sum().backward()
        inner.append(w.grad.item())

    y = x * 2
    y.register_hook(hook)
    y.sum().backward()
    assert inner == [2.0] and x.grad.tolist() == [2.0, 2.0]


def test_float_of_tensor_requiring_grad_warns_once_per_process():
    # in a fresh interpreter: PyTorch warns the first time only, and so must cgrad
    code = ("import warnings, cgrad\n"
            "x = cgrad.tensor([2.5], requires_grad=True)\n"
            "with warnings.catch_warnings(record=True) as w:\n"
            "    warnings.simplefilter('always')\n"
            "    float(x); int(x); float(x.detach()); float(x * 2)\n"
            "print(len(w), str(w[0].message) if w else '')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))).stdout
    assert out == ("1 Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                   "behavior.\nConsider using tensor.detach() first.\n")
