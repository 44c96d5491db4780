"""gradcheck and gradgradcheck on inputs that are not contiguous (a
transposed matrix, a strided slice, a permuted 3-d tensor): the numerical
Jacobian must perturb the input's own elements through its strides, so a
correct gradient passes and a wrong one fails, as torch.autograd.gradcheck
decides; an input with a stride-0 dim is refused with PyTorch's error."""
import numpy as np
import pytest

import cgrad
from helpers import torch


def _inputs(lib, kind):
    base = np.random.default_rng(3).uniform(-1.0, 1.0, size=(4, 6, 2))
    t = lib.tensor(base, dtype=lib.float64)
    if kind == "transposed":
        x = t[:, :, 0].t()
    elif kind == "strided":
        x = t[::2, 1::2, 1]
    else:
        x = t.permute(2, 0, 1)
    assert not x.is_contiguous()
    return x.requires_grad_()


class _WrongGrad:
    """exp whose backward forgets the factor exp(x) on every other column."""

    @staticmethod
    def make(lib):
        class WrongExp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp()
                ctx.save_for_backward(y)
                return y

            @staticmethod
            def backward(ctx, grad):
                (y,) = ctx.saved_tensors
                scale = y.clone()
                scale[..., ::2] = 1.0
                return grad * scale
        return WrongExp.apply


FUNCTIONS = {
    "square_sum_rows": lambda lib, x: (x * x).sum(0) * x[..., :1].sum(),
    "matmul_t": lambda lib, x: x @ x.transpose(-1, -2).sin(),
    "cumsum": lambda lib, x: x.cumsum(-1).tanh(),
}


@pytest.mark.parametrize("kind", ["transposed", "strided", "permuted"])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_correct_gradient_passes(kind, name):
    fn = FUNCTIONS[name]
    x = _inputs(cgrad, kind)
    assert cgrad.autograd.gradcheck(lambda a: fn(cgrad, a), (x,))
    assert cgrad.autograd.gradgradcheck(lambda a: fn(cgrad, a), (x,))
    assert not x.is_contiguous()        # the input was perturbed in place and put back
    np.testing.assert_array_equal(x.detach().numpy(), _inputs(cgrad, kind).detach().numpy())
    if torch is not None:
        tx = _inputs(torch, kind)
        assert torch.autograd.gradcheck(lambda a: fn(torch, a), (tx,))


@pytest.mark.parametrize("kind", ["transposed", "strided", "permuted"])
def test_wrong_gradient_fails(kind):
    x = _inputs(cgrad, kind)
    wrong = _WrongGrad.make(cgrad)
    assert not cgrad.autograd.gradcheck(wrong, (x,), raise_exception=False)
    with pytest.raises(cgrad.autograd.GradcheckError, match="Jacobian mismatch"):
        cgrad.autograd.gradcheck(wrong, (x,))
    if torch is not None:
        assert not torch.autograd.gradcheck(_WrongGrad.make(torch), (_inputs(torch, kind),),
                                            raise_exception=False)


def test_non_contiguous_numerical_jacobian_is_not_zero():
    """The failure this guards against: perturbing a copy made every
    numerical entry zero, so a zero analytical gradient passed."""
    x = _inputs(cgrad, "transposed")
    assert not cgrad.autograd.gradcheck(lambda a: a.detach() * 1.0 + 0.0 * a, (x,), raise_exception=False)


def test_stride_zero_input_is_refused():
    x = cgrad.tensor([1.0, 2.0], dtype=cgrad.float64).unsqueeze(1).expand(2, 3).requires_grad_()
    message = ("The 0th input has a dimension with stride 0. gradcheck only supports inputs that are "
               "non-overlapping to be able to compute the numerical gradients correctly. You should call "
               ".contiguous on the input before passing it to gradcheck.")
    with pytest.raises(RuntimeError) as error:
        cgrad.autograd.gradcheck(lambda a: a * 2, (x,))
    assert str(error.value) == message
    if torch is not None:
        tx = torch.tensor([1.0, 2.0], dtype=torch.float64).unsqueeze(1).expand(2, 3).requires_grad_()
        with pytest.raises(RuntimeError) as terror:
            torch.autograd.gradcheck(lambda a: a * 2, (tx,))
        assert str(terror.value) == message
