"""Tensor.unfold and diagonal of an input that is itself an overlapping view
(an expand, an unfold with step < size): each of the input's elements gets
its own share of the gradient, as PyTorch's unfold_backward and
diagonal_backward give (the storage-position backward summed the shares of
every element aliasing the same memory)."""
import numpy as np

import cgrad
from cgrad.autograd import gradcheck, gradgradcheck
from helpers import compare_with_torch, rand, requires_torch


def test_chained_unfold_known_gradient():
    x = cgrad.arange(12.0).reshape(2, 6).requires_grad_()
    x.unfold(1, 3, 2).unfold(0, 2, 1).sum().backward()
    assert x.grad.tolist() == [[1.0, 1.0, 2.0, 1.0, 1.0, 0.0]] * 2


def test_diagonal_of_expand_known_gradient():
    a = cgrad.arange(3.0).requires_grad_()
    a.expand(3, 3).diagonal().sum().backward()
    assert a.grad.tolist() == [1.0, 1.0, 1.0]


@requires_torch
def test_overlapping_inputs_match_torch():
    compare_with_torch(lambda lib, x: x.unfold(2, 3, 1).unfold(1, 2, 2).unfold(3, 2, 1), rand(2, 5, 7))
    compare_with_torch(lambda lib, x: x.expand(4, 3, 4).diagonal(0, 0, 2), rand(3, 4))
    compare_with_torch(lambda lib, x: x.unfold(0, 3, 1).diagonal(1, 0, 2), rand(6, 2))
    compare_with_torch(lambda lib, x: x.transpose(0, 1).unfold(1, 2, 1), rand(4, 3))


def test_gradcheck_float64():
    x = cgrad.tensor(rand(2, 6).astype(np.float64), requires_grad=True)
    fn = lambda x: x.unfold(1, 3, 2).unfold(0, 2, 1) * 1.5       # noqa: E731
    assert gradcheck(fn, (x,)) and gradgradcheck(fn, (x,))
    y = cgrad.tensor(rand(3).astype(np.float64), requires_grad=True)
    fn = lambda y: y.expand(3, 3).diagonal(1)                     # noqa: E731
    assert gradcheck(fn, (y,)) and gradgradcheck(fn, (y,))
