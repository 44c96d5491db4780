"""cgrad.lobpcg's front end against torch.lobpcg: its signature, the
arguments it forwards to the solver (largest, method, X, tol), the autograd
path taken when A or B requires grad (values, grad_fn, gradient with
largest=False) and backward's error when B is given."""
import inspect

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def spd(n=10, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.linspace(1.0, 10.0, n)) @ q.T


@requires_torch
def test_signature_matches_torch():
    cgrad_params = inspect.signature(cgrad.lobpcg).parameters.values()
    torch_params = inspect.signature(torch.lobpcg).parameters.values()
    assert [(p.name, p.kind, p.default) for p in cgrad_params] == [(p.name, p.kind, p.default) for p in torch_params]


@requires_torch
@pytest.mark.parametrize("largest", [True, False])
def test_forwarded_arguments_and_gradient_match_torch(largest):
    a = spd(seed=2)
    x = np.random.default_rng(5).standard_normal((10, 3))
    results = []
    for lib in (cgrad, torch):
        A = lib.tensor(a, requires_grad=True)
        E, V = lib.lobpcg(A, k=3, X=lib.tensor(x), largest=largest, method="ortho", niter=300, tol=1e-12)
        assert type(E.grad_fn).__name__ == "LOBPCGAutogradFunctionBackward"
        (E * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        results.append((E.detach().numpy(), A.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-9)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-7)


@requires_torch
def test_generalized_problem_and_its_backward_error_match_torch():
    a, b = spd(seed=3), spd(seed=4)
    values, errors = [], []
    for lib in (cgrad, torch):
        A, B = lib.tensor(a), lib.tensor(b, requires_grad=True)
        E, _ = lib.lobpcg(A, k=2, B=B, niter=300, tol=1e-12)
        values.append(E.detach().numpy())
        with pytest.raises(ValueError) as info:
            E.sum().backward()
        errors.append(str(info.value))
    np.testing.assert_allclose(values[0], values[1], rtol=1e-8)
    assert errors[0] == errors[1]
