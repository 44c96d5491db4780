"""The seed example of the foundation issue, exactly as PyTorch gives it."""
import numpy as np
import pytest

import cgrad


def test_implicit_grad_needs_scalar_output():
    x = cgrad.ones(2, requires_grad=True)
    z = x + 2
    with pytest.raises(RuntimeError, match="^grad can be implicitly created only for scalar outputs$"):
        z.backward()
    z.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    assert repr(x.grad) == "tensor([1., 1.])"
    assert repr(x) == "tensor([1., 1.], requires_grad=True)"
    assert repr(z) == "tensor([3., 3.], grad_fn=<AddBackward0>)"


def test_mm_backward_with_gradient_and_retain_graph():
    x = cgrad.tensor([2., 1.], requires_grad=True)
    y = cgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    z = cgrad.mm(x.view(1, 2), y)
    assert repr(z) == "tensor([[5., 8.]], grad_fn=<MmBackward0>)"
    z.backward(cgrad.Tensor([[1., 0]]), retain_graph=True)
    assert x.grad.tolist() == [1., 3.]
    assert y.grad.tolist() == [[2., 0.], [1., 0.]]
    # a second backward accumulates
    z.backward(cgrad.Tensor([[1., 0]]))
    assert x.grad.tolist() == [2., 6.]
    assert y.grad.tolist() == [[4., 0.], [2., 0.]]
    # the graph was freed by the backward without retain_graph
    with pytest.raises(RuntimeError, match=r"^Trying to backward through the graph a second time \(or "
                                           r"directly access saved tensors after they have already "
                                           r"been freed\)\. Saved intermediate values"):
        z.backward(cgrad.Tensor([[1., 0]]))


def test_backward_on_tensor_without_grad():
    with pytest.raises(RuntimeError, match="^element 0 of tensors does not require grad and does not "
                                           "have a grad_fn$"):
        cgrad.ones(2).sum().backward()


def test_gradient_of_wrong_shape():
    x = cgrad.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^Mismatch in shape: grad_output\[0\] has a shape of "
                                           r"cgrad.Size\(\[3\]\) and output\[0\] has a shape of "
                                           r"cgrad.Size\(\[2\]\)\.$"):
        (x + 2).backward(cgrad.ones(3))


def test_requires_grad_on_integer_tensor():
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can "
                                           "require gradients$"):
        cgrad.ones(2, dtype=cgrad.int64, requires_grad=True)
    with pytest.raises(RuntimeError, match="^only Tensors of floating point dtype can require gradients$"):
        cgrad.tensor([1, 2]).requires_grad_()


def test_seed_example_matches_torch():
    torch = pytest.importorskip("torch")
    for lib in (cgrad, torch):
        x = lib.tensor([2., 1.], requires_grad=True)
        y = lib.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        z = lib.mm(x.view(1, 2), y)
        z.backward(lib.Tensor([[1., 0]]), retain_graph=True)
        z.backward(lib.Tensor([[1., 0]]))
        if lib is cgrad:
            got = (x.grad.tolist(), y.grad.tolist(), z.detach().tolist())
        else:
            assert got == (x.grad.tolist(), y.grad.tolist(), z.detach().tolist())
