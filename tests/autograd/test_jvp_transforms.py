"""The forward-mode transforms against torch: cgrad.func.jvp, jacfwd
(argnums, has_aux, randomness) and hessian (jacfwd over jacrev), and
cgrad.autograd.functional.jvp / jacobian(strategy="forward-mode")."""
import numpy as np
import pytest

import cgrad

from fwd_helpers import torch

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")
LIBS = [cgrad] + ([torch] if torch is not None else [])

rng = np.random.default_rng(11)
XV, YV, VV, WV = rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal(4), rng.standard_normal((3, 4))


def tree_np(x):
    if isinstance(x, (tuple, list)):
        return [tree_np(e) for e in x]
    if isinstance(x, dict):
        return {k: tree_np(v) for k, v in x.items()}
    if hasattr(x, "detach"):
        return x.detach().numpy().copy()
    return x


def outcome(fn):
    try:
        return ("ok", tree_np(fn()))
    except Exception as e:  # noqa: BLE001 - the error itself is compared
        return (type(e).__name__, str(e).replace("torch.", "cgrad."))


def both(fn, rtol=1e-10, atol=1e-12):
    results = [outcome(lambda lib=lib: fn(lib)) for lib in LIBS]
    if len(results) == 2:
        (ka, a), (kb, b) = results
        assert ka == kb, (results[0], results[1])
        if ka == "ok":
            assert_tree_close(a, b, rtol, atol)
        else:
            assert a == b
    return results[0]


def assert_tree_close(a, b, rtol, atol):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_tree_close(x, y, rtol, atol)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_tree_close(a[k], b[k], rtol, atol)
    elif isinstance(a, np.ndarray):
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:
        assert a == b


def T(lib, v, **kw):
    return lib.tensor(v, dtype=lib.float64, **kw)


def f_mlp(lib, x, y):
    w = T(lib, WV)
    return lib.tanh(w @ x) * y[:3].sum() + (x * y).sin().sum()


def test_func_jvp():
    both(lambda L: L.func.jvp(lambda x, y: f_mlp(L, x, y), (T(L, XV), T(L, YV)), (T(L, VV), T(L, XV))))


def test_func_jvp_has_aux_and_pytrees():
    def run(L):
        def f(d):
            out = {"a": d["x"].exp() * d["y"], "b": d["x"].sum()}
            return out, d["x"].cos()
        return L.func.jvp(f, ({"x": T(L, XV), "y": T(L, YV)},), ({"x": T(L, VV), "y": T(L, XV)},),
                          has_aux=True)
    both(run)


def test_func_jvp_errors():
    cases = [
        lambda L: L.func.jvp(lambda x: x, T(L, XV), (T(L, VV),)),
        lambda L: L.func.jvp(lambda x: x, (T(L, XV),), (T(L, VV), T(L, VV))),
        lambda L: L.func.jvp(lambda x: x, (3.0,), (1.0,)),
        lambda L: L.func.jvp(lambda x: x, (), ()),
        lambda L: L.func.jvp(lambda x: 3, (T(L, XV),), (T(L, VV),)),
        lambda L: L.func.jvp(lambda x: T(L, YV), (T(L, XV),), (T(L, VV),), strict=True),
        lambda L: L.func.jvp(lambda x: x, (T(L, XV),), (T(L, VV),), has_aux=True),
    ]
    for case in cases:
        kind, _ = both(case)
        assert kind != "ok"
    both(lambda L: L.func.jvp(lambda x: T(L, YV), (T(L, XV),), (T(L, VV),)))   # independent: zeros


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1,)])
def test_jacfwd_argnums(argnums):
    both(lambda L: L.func.jacfwd(lambda x, y: f_mlp(L, x, y), argnums=argnums)(T(L, XV), T(L, YV)))


def test_jacfwd_matches_jacrev_and_has_aux():
    def run(L):
        f = lambda x: (x.exp()[:3] * x[1:].sin(), {"s": x.sum()})  # noqa: E731
        jf, aux = L.func.jacfwd(f, has_aux=True)(T(L, XV))
        jr, _ = L.func.jacrev(f, has_aux=True)(T(L, XV))
        np.testing.assert_allclose(jf.numpy(), jr.numpy(), rtol=1e-12)
        return jf, aux
    both(run)


def test_jacfwd_randomness():
    def run(L):
        L.manual_seed(0)
        f = lambda x: x * L.rand(1)      # noqa: E731
        out = [outcome(lambda: L.func.jacfwd(f)(T(L, XV)))]
        out.append(outcome(lambda: L.func.jacfwd(f, randomness="bogus")(T(L, XV))))
        same = L.func.jacfwd(f, randomness="same")(T(L, XV))
        diag = np.diag(same.numpy())
        out.append(bool(np.allclose(diag, diag[0])))
        different = L.func.jacfwd(f, randomness="different")(T(L, XV))
        out.append(bool(len(set(np.round(np.diag(different.numpy()), 12))) > 1))
        return out
    res = both(run)
    assert res[1][0][0] == "RuntimeError"


def test_func_hessian_is_forward_over_reverse():
    def run(L):
        f = lambda x, y: (x.sin() * y ** 2).sum() + (x[:3] @ T(L, WV)[:, :3]).pow(2).sum()  # noqa: E731
        return [L.func.hessian(f)(T(L, XV), T(L, YV)), L.func.hessian(f, argnums=(0, 1))(T(L, XV), T(L, YV))]
    both(run)


def test_jvp_of_grad_hvp():
    def run(L):
        f = lambda x: (x.exp() * x.cos()).sum()   # noqa: E731
        return L.func.jvp(L.func.grad(f), (T(L, XV),), (T(L, VV),))
    both(run)


def test_functional_jvp_forward_mode():
    def run(L):
        fn = lambda x, y: (x * y.exp(), (x ** 2).sum())   # noqa: E731
        out = [L.autograd.functional.jvp(fn, (T(L, XV), T(L, YV)), (T(L, VV), T(L, XV)))]
        out.append(L.autograd.functional.jvp(lambda x: x ** 3, T(L, [2.0])))
        res = L.autograd.functional.jvp(lambda x: x.sin(), T(L, XV), T(L, VV), create_graph=True)
        out.append([res[1].requires_grad])
        out.append(outcome(lambda: L.autograd.functional.jvp(lambda x: T(L, YV), T(L, XV), T(L, VV),
                                                              strict=True)))
        return out
    both(run)


def test_functional_jacobian_forward_mode():
    def run(L):
        fn = lambda x, y: (x * y.exp(), (x ** 2).sum())   # noqa: E731
        out = [L.autograd.functional.jacobian(fn, (T(L, XV), T(L, YV)), vectorize=True, strategy="forward-mode")]
        out.append(L.autograd.functional.jacobian(lambda x: x.tanh(), T(L, XV), vectorize=True,
                                                  strategy="forward-mode"))
        out.append(outcome(lambda: L.autograd.functional.jacobian(lambda x: x, T(L, XV), strategy="forward-mode")))
        out.append(outcome(lambda: L.autograd.functional.jacobian(lambda x: x, T(L, XV), strict=True,
                                                                  vectorize=True, strategy="forward-mode")))
        out.append(L.autograd.functional.hessian(lambda x: (x.sin() * x).sum(), T(L, XV), vectorize=True,
                                                 outer_jacobian_strategy="forward-mode"))
        return out
    both(run)
