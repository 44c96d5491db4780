"""Constructor checks of SGD, Adam and AdamW that the round-15 optimizer
fuzzing found missing: a tensor lr (1 element; not with foreach unless
capturable), Adam's betas (both floats or both 1-element tensors, squeezed
to 0-dim), and fused with differentiable or foreach. PyTorch's texts and
exception types; the values of a step with tensor betas against torch."""
import importlib
import io

import pytest

import cgrad
from tests.helpers import torch

ERRORS = [
    ("SGD", dict(fused=True, foreach=True), RuntimeError, "`fused` and `foreach` cannot be `True` together."),
    ("SGD", dict(fused=True, differentiable=True), RuntimeError, "`fused` does not support `differentiable`"),
    ("SGD", dict(lr=[0.1, 0.2]), ValueError, "Tensor lr must be 1-element"),
    ("Adam", dict(fused=True, foreach=True), RuntimeError, "`fused` and `foreach` cannot be `True` together."),
    ("AdamW", dict(fused=True, differentiable=True), RuntimeError, "`fused` does not support `differentiable`"),
    ("Adam", dict(lr=[0.1, 0.2]), ValueError, "Tensor lr must be 1-element"),
    ("AdamW", dict(lr=0.1, foreach=True), ValueError,
     "lr as a Tensor is not supported for capturable=False and foreach=True"),
    ("Adam", dict(betas=((0.9,), 0.99)), ValueError, "betas must be either both floats or both Tensors"),
    ("Adam", dict(betas=(0, 0.99)), ValueError, "betas must be either both floats or both Tensors"),
    ("AdamW", dict(betas=((0.9,), (0.99,)), foreach=True), ValueError,
     "betas[0] as a Tensor is not supported for capturable=False and foreach=True"),
]


def build(lib, name, kwargs):
    def as_arg(key, value):
        if key == "lr" and (isinstance(value, list) or kwargs.get("foreach")):
            return lib.tensor(value)
        if key == "betas":
            return tuple(lib.tensor(list(b)) if isinstance(b, (tuple, list)) else b for b in value)
        return value
    p = lib.nn.Parameter(lib.ones(2))
    return getattr(lib.optim, name)([p], **{k: as_arg(k, v) for k, v in kwargs.items()})


@pytest.mark.parametrize("name, kwargs, kind, text", ERRORS, ids=[f"{e[0]}-{e[1]}" for e in ERRORS])
def test_constructor_errors(name, kwargs, kind, text):
    with pytest.raises(kind) as ours:
        build(cgrad, name, kwargs)
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(kind) as theirs:
            build(torch, name, kwargs)
        assert str(theirs.value) == text


def test_tensor_betas_step_and_capturable_foreach_allowed():
    def run(lib):
        p = lib.nn.Parameter(lib.ones(2))
        p.grad = lib.tensor([0.5, -1.0])
        opt = lib.optim.Adam([p], lr=0.1, betas=(lib.tensor(0.9), lib.tensor([0.99])))
        for _ in range(3):
            opt.step()
        lib.optim.Adam([lib.nn.Parameter(lib.ones(1))], lr=lib.tensor(0.1), foreach=True, capturable=True)
        return p.tolist(), [b.dim() for b in opt.param_groups[0]["betas"]]
    values, dims = run(cgrad)
    assert dims == [0, 0]
    # hand-computed: Adam's first steps move each coordinate by lr against its gradient's sign
    assert values == pytest.approx([0.7, 1.3], abs=1e-5)
    if torch is not None:
        theirs, their_dims = run(torch)
        assert values == pytest.approx(theirs, abs=1e-6) and dims == their_dims


@pytest.mark.parametrize("name, kwargs", [("SGD", dict(lr=0.1, momentum=0.9)), ("SGD", dict(lr=0.1)),
                                          ("Adam", dict(lr=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1, maximize=True))])
def test_non_contiguous_parameter_steps(name, kwargs):
    """A transposed parameter: its state is made like it (not contiguous),
    which the fused kernels refused ("optimizer kernels need contiguous
    tensors"); it steps op by op as PyTorch's single-tensor update."""
    import numpy as np
    data = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    grads = [np.cos(np.arange(6, dtype=np.float32) + k).reshape(3, 2) for k in range(3)]

    def run(lib):
        p = lib.nn.Parameter(lib.tensor(data).t())
        opt = getattr(lib.optim, name)([p], **kwargs)
        for g in grads:
            p.grad = lib.tensor(g)
            opt.step()
        return p.detach().numpy().copy(), p.is_contiguous()
    values, contiguous = run(cgrad)
    assert not contiguous
    if name == "SGD" and "momentum" not in kwargs:
        np.testing.assert_allclose(values, data.T - 0.1 * sum(grads), rtol=1e-6)
    if torch is not None:
        theirs, _ = run(torch)
        np.testing.assert_allclose(values, theirs, rtol=1e-6, atol=1e-7)


OPTIMIZER_NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "Rprop",
                   "ASGD", "LBFGS", "Adafactor", "Muon"]


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_classes_live_where_torchs_do(name):
    """type(optimizer) prints the module PyTorch's class lives in (AdamW in optim.adamw, Adafactor and Muon in
    optim itself), and a pickled optimizer finds its class there."""
    cls = getattr(cgrad.optim, name)
    module = cls.__module__.replace("cgrad", "torch")
    if torch is not None:
        assert module == getattr(torch.optim, name).__module__
    assert getattr(importlib.import_module(cls.__module__), name) is cls
    weight = cgrad.nn.Parameter(cgrad.ones(2, 2))
    optimizer = cls([weight], lr=0.01)
    buffer = io.BytesIO()
    cgrad.save(optimizer, buffer)
    buffer.seek(0)
    assert type(cgrad.load(buffer, weights_only=False)) is cls
