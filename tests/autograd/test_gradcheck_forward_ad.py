"""gradcheck's check_forward_ad / check_backward_ad, as the forward-mode AD
tutorial uses them: a custom Function with only a jvp passes with
check_backward_ad=False, a wrong jvp fails with PyTorch's "Jacobian computed
with forward mode mismatch" error, built-in ops pass both checks, and the
flag combinations PyTorch refuses are refused with its AssertionError."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

X = np.random.default_rng(5).uniform(-1.0, 1.0, size=(2, 3))


def jvp_only_function(lib, wrong=False):
    class ExpJvpOnly(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = lib.exp(x)
            ctx.result = result
            return result

        @staticmethod
        def jvp(ctx, gI):
            out = gI * ctx.result
            return out * 2 if wrong else out
    return ExpJvpOnly.apply


def run(lib, fn_maker, **flags):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    try:
        return lib.autograd.gradcheck(fn_maker(lib), (x,), **flags)
    except Exception as e:       # noqa: BLE001 - compared with torch's
        return type(e).__name__ + ": " + str(e).split("\n")[0]


CASES = [
    (lambda lib: jvp_only_function(lib), dict(check_forward_ad=True, check_backward_ad=False,
                                              check_undefined_grad=False)),
    (lambda lib: jvp_only_function(lib, wrong=True), dict(check_forward_ad=True, check_backward_ad=False,
                                                          check_undefined_grad=False)),
    (lambda lib: jvp_only_function(lib, wrong=True), dict(check_forward_ad=True, check_backward_ad=False,
                                                          check_undefined_grad=False, raise_exception=False)),
    (lambda lib: (lambda x: (x.sin() * x, x.sum())), dict(check_forward_ad=True)),
    (lambda lib: (lambda x: lib.matmul(x, x.t()).tanh()), dict(check_forward_ad=True, check_backward_ad=False)),
    (lambda lib: lib.exp, dict(check_forward_ad=False, check_backward_ad=False)),
    (lambda lib: lib.exp, dict(check_backward_ad=False, check_forward_ad=True, check_batched_grad=True)),
    (lambda lib: lib.exp, dict(check_batched_forward_grad=True)),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(CASES)))
def test_gradcheck_forward_ad_flags_match_torch(case):
    fn_maker, flags = CASES[case]
    assert run(cgrad, fn_maker, **flags) == run(torch, fn_maker, **flags)


def test_gradcheck_forward_ad_without_torch():
    flags = dict(check_forward_ad=True, check_backward_ad=False, check_undefined_grad=False)
    assert run(cgrad, jvp_only_function, **flags) is True
    assert run(cgrad, lambda lib: jvp_only_function(lib, wrong=True), **flags).startswith(
        "GradcheckError: Jacobian computed with forward mode mismatch for output 0 with respect to input 0,")
