"""What PyTorch's argument parser does with a few everyday calls, checked
against torch and by hand: copy_ takes a Python number (wrapped as a 0-dim
double/int64/bool tensor, then cast), the methods name `other` position 1,
plain Python objects given for a tensor are a TypeError naming the
argument, and CopyBackwards' name() is its C++ name."""
import pytest

import cgrad
import cgrad.nn.functional as F
from tests.helpers import torch


@pytest.mark.parametrize("dtype, value, expected", [
    ("float32", 1.5, [1.5, 1.5]), ("float32", True, [1.0, 1.0]), ("int64", 2.7, [2, 2]),
    ("float16", 1e10, [float("inf")] * 2), ("bool", 0, [False, False]), ("float64", 3, [3.0, 3.0]),
])
def test_copy_takes_a_number(dtype, value, expected):
    ours = cgrad.ones(2, dtype=getattr(cgrad, dtype)).copy_(value)
    assert ours.tolist() == expected
    if torch is not None:
        assert torch.ones(2, dtype=getattr(torch, dtype)).copy_(value).tolist() == expected


def test_copy_of_a_number_is_recorded():
    x = cgrad.ones(2, requires_grad=True)
    y = x * 1
    y.copy_(3)
    assert y.tolist() == [3.0, 3.0]
    assert type(y.grad_fn).__name__ == "CopyBackwards"
    assert y.grad_fn.name() == "torch::autograd::CopyBackwards"
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("call, text", [
    (lambda x: x.add(None), "add(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda x: x.sub("a"), "sub(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda x: x.mul([1]), "mul(): argument 'other' (position 1) must be Tensor, not list"),
    (lambda x: x.div(None), "div(): argument 'other' (position 1) must be Tensor, not NoneType"),
    (lambda x: x.copy_("a"), "copy_(): argument 'other' (position 1) must be Tensor, not str"),
    (lambda x: cgrad.add(x, None), "add(): argument 'other' (position 2) must be Tensor, not NoneType"),
    (lambda x: F.one_hot(None), "one_hot(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda x: F.one_hot([1, 2]), "one_hot(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda x: F.cosine_similarity(1.5, x), "cosine_similarity(): argument 'x1' (position 1) must be Tensor, not float"),
    (lambda x: F.cosine_similarity(x, None), "cosine_similarity(): argument 'x2' (position 2) must be Tensor, not NoneType"),
    (lambda x: cgrad.detach(None), "detach(): argument 'input' (position 1) must be Tensor, not NoneType"),
    (lambda x: cgrad.broadcast_to([1.0], (2,)), "broadcast_to(): argument 'input' (position 1) must be Tensor, not list"),
])
def test_plain_objects_for_tensors(call, text):
    with pytest.raises(TypeError) as ours:
        call(cgrad.ones(2, 3))
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(TypeError) as theirs:
            _through_torch(call)(torch.ones(2, 3))
        assert str(theirs.value) == text


def _through_torch(call):
    """The same lambda with cgrad and F bound to torch's."""
    import types
    import torch.nn.functional as TF
    return types.FunctionType(call.__code__, {"cgrad": torch, "F": TF, "__builtins__": __builtins__})
