"""Every op name the pointwise batching rules claim (cgrad/func/_batch_rules.py
UNARY and BINARY, and the activations of cgrad.nn.functional), run through
vmap on inputs inside every op's domain, against a loop (values, and
gradients for float results) and torch.func.vmap."""
import numpy as np
import pytest

import cgrad
from cgrad.func._batch_rules import BINARY, UNARY
from cgrad.func._batch_rules_nn import ACTIVATIONS
from vmap_check import check_vmap

rng = np.random.default_rng(4)
X = rng.uniform(0.15, 0.85, (3, 2, 4))       # inside every unary op's domain (logit, atanh, acos, ...)
Y = rng.uniform(0.15, 0.85, (3, 2, 4))
NEEDS_ARGUMENTS = {"clamp", "clip", "clamp_min", "clamp_max", "to", "type", "type_as", "polygamma", "mvlgamma",
                   "threshold", "where", "masked_fill", "lerp", "isclose", "addcmul", "addcdiv", "nextafter"}


def _unary_function(name):
    if name.startswith("__") or hasattr(cgrad.Tensor, name):
        return lambda L, x: getattr(x, name)()
    if hasattr(cgrad.nn.functional, name) and not hasattr(cgrad, name):
        return lambda L, x: getattr(L.nn.functional, name)(x)
    return lambda L, x: getattr(L, name)(x)


def _applies(fn, *arrays):
    try:
        out = fn(cgrad, *[cgrad.tensor(a[0]) for a in arrays])
    except (TypeError, RuntimeError, AttributeError, NotImplementedError):
        return None
    return out if isinstance(out, cgrad.Tensor) else None


UNARY_NAMES = sorted(n for n in set(UNARY) if n not in NEEDS_ARGUMENTS and n not in ("__invert__", "bitwise_not"))


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_rule_list(name):
    fn = _unary_function(name)
    out = _applies(fn, X)
    if out is None:
        pytest.skip(f"cgrad has no float {name}")
    check_vmap(fn, [X], grad=out.is_floating_point() and name not in ("round", "floor", "ceil", "trunc", "fix",
                                                                        "sign", "sgn", "frac"))


BINARY_NAMES = sorted(n for n in set(BINARY) if n not in NEEDS_ARGUMENTS and not n.startswith("bitwise")
                      and n not in ("__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__"))


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_rule_list(name):
    if name.startswith("__"):
        fn = lambda L, x, y: getattr(x, name)(y)  # noqa: E731
    elif hasattr(cgrad.Tensor, name):
        fn = lambda L, x, y: getattr(x, name)(y)  # noqa: E731
    else:
        fn = lambda L, x, y: getattr(L, name)(x, y)  # noqa: E731
    out = _applies(fn, X, Y)
    if out is None:
        pytest.skip(f"cgrad has no float {name}")
    differentiable = out.is_floating_point() and name not in ("floor_divide", "__floordiv__", "__rfloordiv__",
                                                              "remainder", "fmod", "__mod__", "__rmod__",
                                                              "heaviside")
    check_vmap(fn, [X, Y], grad=differentiable)
    check_vmap(fn, [X, Y[0, 0]], (0, None), grad=differentiable)


@pytest.mark.parametrize("name", sorted(n for n in ACTIVATIONS if not n.endswith("_")))
def test_activation_rule_list(name):
    fn = lambda L, x: getattr(L.nn.functional, name)(x * 4 - 2)  # noqa: E731
    if _applies(fn, X) is None:
        pytest.skip(f"cgrad.nn.functional has no {name}")
    check_vmap(fn, [X])
