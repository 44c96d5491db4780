"""Forward AD with primals that require grad (the forward-mode tutorial's
nn.Parameters made dual): PyTorch evaluates every term of a product rule,
an absent tangent being a zero tensor, so the output tangent is
differentiable (an AddBackward0) whenever a primal or tangent in the
formula requires grad. Checked against torch: the tangent's values,
requires_grad and grad_fn name, and reverse-over-forward gradients, for
mul (tensor and number), linear/addmm, mm, bmm, mv, dot and matmul;
a primal holding inf leaves a product's tangent alone but gives nan through
a matrix product, as PyTorch's ZeroTensor and real zero matrix do."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

RNG = np.random.default_rng(11)
P = RNG.uniform(-1, 1, (3, 4))
T = RNG.uniform(-1, 1, (3, 4))
X = RNG.uniform(-1, 1, (5, 4))
B = RNG.uniform(-1, 1, 3)


def dual_case(lib, body, primal_grad, with_inf=False):
    fwAD = lib.autograd.forward_ad
    p_values = P.copy()
    if with_inf:
        p_values[0, 0] = np.inf
    p = lib.tensor(p_values, requires_grad=primal_grad)
    x = lib.tensor(X)
    with fwAD.dual_level():
        d = fwAD.make_dual(p, lib.tensor(T))
        out = body(lib, d, x)
        tangent = fwAD.unpack_dual(out).tangent
    result = [str(tangent.detach().numpy().round(10).tolist()), tangent.requires_grad,   # str: nan == nan
              None if tangent.grad_fn is None else tangent.grad_fn.name()]
    if tangent.requires_grad and not with_inf:
        g, = lib.autograd.grad(tangent.sum(), p, allow_unused=True)
        # (PyTorch's gradient is a ZeroTensor, which numpy() reads only with force=True)
        result.append(None if g is None else g.numpy(force=True).round(10).tolist())
    return result


BODIES = {
    "mul_tensor_plain": lambda lib, d, x: d * lib.tensor(T),
    "mul_plain_tensor": lambda lib, d, x: lib.tensor(T) * d,
    "mul_number": lambda lib, d, x: d * 2.5,
    "linear": lambda lib, d, x: lib.nn.functional.linear(x, d),
    "linear_bias": lambda lib, d, x: lib.nn.functional.linear(x, d, lib.tensor(B)),
    "addmm": lambda lib, d, x: lib.addmm(lib.tensor(B), x, d.t()),
    "mm": lambda lib, d, x: x.mm(d.t()),
    "mm_left": lambda lib, d, x: d.mm(x.t()),
    "matmul": lambda lib, d, x: x @ d.t(),
    "bmm": lambda lib, d, x: lib.bmm(d.unsqueeze(0), x.t().unsqueeze(0)),
    "mv": lambda lib, d, x: d.mv(x[0]),
    "dot": lambda lib, d, x: d[0].dot(x[0]),
    "mul_dual_dual": lambda lib, d, x: d * d,
}


@requires_torch
@pytest.mark.parametrize("primal_grad", [True, False])
@pytest.mark.parametrize("name", list(BODIES))
def test_tangent_history_matches_torch(name, primal_grad):
    body = BODIES[name]
    assert dual_case(cgrad, body, primal_grad) == dual_case(torch, body, primal_grad)


@requires_torch
@pytest.mark.parametrize("name", ["mul_number", "linear", "mm", "mul_tensor_plain", "mv", "bmm", "dot"])
def test_tangent_values_with_inf_primal_match_torch(name):
    body = BODIES[name]
    got = dual_case(cgrad, body, True, with_inf=True)
    expected = dual_case(torch, body, True, with_inf=True)
    assert got == expected


def test_tangent_history_without_torch():
    values, requires_grad, name, grad = dual_case(cgrad, BODIES["linear"], True)
    np.testing.assert_allclose(eval(values), X @ T.T, atol=1e-9)
    assert requires_grad and name == "AddBackward0"
    assert grad == np.zeros_like(P).tolist()
    values, requires_grad, name = dual_case(cgrad, BODIES["linear"], False)
    assert not requires_grad and name is None


def test_no_grad_keeps_tangents_plain():
    fwAD = cgrad.autograd.forward_ad
    p = cgrad.tensor(P, requires_grad=True)
    with fwAD.dual_level(), cgrad.no_grad():
        out = cgrad.tensor(X) @ fwAD.make_dual(p, cgrad.tensor(T)).t()
        assert not fwAD.unpack_dual(out).tangent.requires_grad


@requires_torch
@pytest.mark.parametrize("primal_grad", [True, False])
@pytest.mark.parametrize("body", [lambda lib, d, x: d / 4.0, lambda lib, d, x: d / lib.tensor(T)],
                         ids=["div_number", "div_tensor"])
def test_div_tangent_history_matches_torch(body, primal_grad):
    assert dual_case(cgrad, body, primal_grad) == dual_case(torch, body, primal_grad)
