"""capturable=True on CPU parameters: PyTorch's update keeps its step counts
on the device for CUDA graphs and asserts at step() that the parameters are
on an accelerator (text per optimizer, and per single-tensor or foreach
update); a group without gradients steps as usual. Found by the round-15
optimizer fuzzing, where cgrad stepped as if capturable were False."""
import pytest

import cgrad
from tests.helpers import torch

DEVICES = "['cuda', 'xpu', 'hpu', 'privateuseone', 'xla']"
DEVICES_NO_XLA = "['cuda', 'xpu', 'hpu', 'privateuseone']"
CASES = [
    ("Adam", None, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("Adam", True, f"params and state_steps must be on supported devices: {DEVICES_NO_XLA}."),
    ("AdamW", False, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("Adamax", None, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("NAdam", None, f"params, mu_products and state_steps must be on supported devices: {DEVICES}."),
    ("NAdam", True, f"params, mu_products, and state_steps must be on supported devices: {DEVICES_NO_XLA}."),
    ("RAdam", None, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("Adadelta", None, f"params and state_steps must be on supported devices: {DEVICES_NO_XLA}."),
    ("RMSprop", True, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("Rprop", None, f"params and state_steps must be on supported devices: {DEVICES}."),
    ("ASGD", None, f"params, mus, etas, and state_steps must be on supported devices: {DEVICES}."),
    ("ASGD", True, f"params, mus, etas, and state_steps must be on supported devices: {DEVICES_NO_XLA}."),
]


def step(lib, name, foreach, with_grad=True):
    p = lib.nn.Parameter(lib.ones(2))
    if with_grad:
        p.grad = lib.full((2,), 0.5)
    getattr(lib.optim, name)([p], capturable=True, foreach=foreach).step()
    return p


@pytest.mark.parametrize("name, foreach, text", CASES, ids=[f"{n}-{f}" for n, f, _ in CASES])
def test_capturable_on_cpu_asserts(name, foreach, text):
    with pytest.raises(AssertionError) as ours:
        step(cgrad, name, foreach)
    assert str(ours.value) == "If capturable=True, " + text
    assert step(cgrad, name, foreach, with_grad=False).tolist() == [1.0, 1.0]
    if torch is not None:
        with pytest.raises(AssertionError) as theirs:
            step(torch, name, foreach)
        assert str(theirs.value) == str(ours.value)


def test_parameter_untouched():
    p = cgrad.nn.Parameter(cgrad.ones(2))
    p.grad = cgrad.ones(2)
    with pytest.raises(AssertionError):
        cgrad.optim.Adam([p], lr=0.1, capturable=True).step()
    assert p.tolist() == [1.0, 1.0]
