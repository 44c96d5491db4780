"""Memory formats (cgrad.contiguous_format, preserve_format, channels_last,
channels_last_3d): the strides clone, contiguous, to, cpu and the factories
produce, is_contiguous(memory_format=...), grad_fn names and errors, against
torch; the strides are also checked against hand-computed values so the
file checks something without torch."""
import copy
import pickle

import numpy as np
import pytest

import cgrad
from helpers import torch, requires_torch

FORMATS = ["preserve_format", "contiguous_format", "channels_last", "channels_last_3d"]


def layouts(lib):
    """Inputs of several layouts: contiguous, channels-last, permuted,
    sliced, with size-1 and empty dims, 4-D and 5-D."""
    base = np.arange(2 * 3 * 4 * 5, dtype=np.float64).reshape(2, 3, 4, 5)
    base5 = np.arange(2 * 3 * 2 * 4 * 5, dtype=np.float64).reshape(2, 3, 2, 4, 5)
    t = lib.tensor(base)
    return [
        t,
        t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2),
        t.transpose(2, 3),
        t[:, :, ::2],
        lib.tensor(base[:, :1]),
        lib.tensor(base[:, :, :1, :1]),
        lib.zeros(2, 0, 4, 5, dtype=lib.float64),
        lib.zeros(0, 3, 4, 5, dtype=lib.float64),
        lib.tensor(base5),
        lib.tensor(base5).permute(0, 2, 3, 4, 1).contiguous().permute(0, 4, 1, 2, 3),
        lib.tensor(base[0]),
    ]


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:      # the error is the result compared
        return (type(e).__name__, str(e).replace("torch.", "cgrad."))


def describe(t):
    return (tuple(t.shape), t.stride(), t.dtype.__repr__().split(".")[-1], t.is_contiguous(),
            np.asarray(t.detach().numpy() if hasattr(t, "detach") else t).tolist())


def test_values_are_module_constants():
    assert repr(cgrad.channels_last) == "cgrad.channels_last"
    assert str(cgrad.contiguous_format) == "cgrad.contiguous_format"
    assert isinstance(cgrad.preserve_format, cgrad.memory_format)
    assert pickle.loads(pickle.dumps(cgrad.channels_last)) is cgrad.channels_last
    assert copy.deepcopy(cgrad.channels_last_3d) is cgrad.channels_last_3d
    assert cgrad.channels_last == cgrad.channels_last != cgrad.contiguous_format
    with pytest.raises(TypeError, match="cannot create 'cgrad.memory_format' instances"):
        cgrad.memory_format()


def test_channels_last_strides_by_hand():
    x = cgrad.ones(2, 3, 4, 5, requires_grad=True)
    y = x.contiguous(memory_format=cgrad.channels_last)
    assert y.stride() == (60, 1, 15, 3)
    assert y.is_contiguous(memory_format=cgrad.channels_last) and not y.is_contiguous()
    assert type(y.grad_fn).__name__ == "CloneBackward0"
    assert y.contiguous(memory_format=cgrad.channels_last) is y
    assert y.clone().stride() == (60, 1, 15, 3)
    assert y.clone(memory_format=cgrad.contiguous_format).stride() == (60, 20, 5, 1)
    assert cgrad.empty(2, 3, 1, 1, memory_format=cgrad.channels_last).stride() == (3, 1, 3, 3)
    z = cgrad.ones(2, 3, 2, 4, 5).contiguous(memory_format=cgrad.channels_last_3d)
    assert z.stride() == (120, 1, 60, 15, 3)
    (y * cgrad.arange(120.).reshape(2, 3, 4, 5)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(120.).reshape(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match="required rank 4 tensor to use channels_last format"):
        cgrad.ones(2, 3).contiguous(memory_format=cgrad.channels_last)


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("op", ["clone", "contiguous", "to", "to_double", "to_copy", "cpu", "is_contiguous",
                                "empty_like", "zeros_like", "ones_like", "full_like", "rand_like_shape",
                                "clone_fn"])
def test_layout_against_torch(op, fmt):
    def run(lib):
        f = getattr(lib, fmt)
        calls = {
            "clone": lambda x: describe(x.clone(memory_format=f)),
            "clone_fn": lambda x: describe(lib.clone(x, memory_format=f)),
            "contiguous": lambda x: describe(x.contiguous(memory_format=f)) + (x.contiguous(memory_format=f) is x,),
            "to": lambda x: describe(x.to(memory_format=f)) + (x.to(memory_format=f) is x,),
            "to_double": lambda x: describe(x.to(lib.float32, memory_format=f)),
            "to_copy": lambda x: describe(x.to(memory_format=f, copy=True)),
            "cpu": lambda x: describe(x.cpu(memory_format=f)),
            "is_contiguous": lambda x: x.is_contiguous(memory_format=f),
            "empty_like": lambda x: (lib.empty_like(x, memory_format=f).stride(),),
            "zeros_like": lambda x: describe(lib.zeros_like(x, memory_format=f)),
            "ones_like": lambda x: describe(lib.ones_like(x, memory_format=f, dtype=lib.int64)),
            "full_like": lambda x: describe(lib.full_like(x, 7, memory_format=f)),
            "rand_like_shape": lambda x: (lib.rand_like(x, memory_format=f).stride(),
                                          lib.randn_like(x, memory_format=f).stride(),
                                          lib.randint_like(x, 5, memory_format=f).stride()),
        }
        return [outcome(lambda: calls[op](x)) for x in layouts(lib)]
    assert run(cgrad) == run(torch)


@requires_torch
@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_against_torch(fmt):
    def run(lib):
        f = getattr(lib, fmt)
        return [outcome(lambda: lib.empty(*s, memory_format=f).stride())
                for s in [(2, 3, 4, 5), (2, 0, 4, 5), (2, 1, 4, 5), (2, 3, 1, 1), (2, 3, 2, 4, 5), (2, 3)]]
    assert run(cgrad) == run(torch)


@requires_torch
@pytest.mark.parametrize("fmt", ["channels_last", "contiguous_format", "preserve_format"])
def test_grad_fn_and_gradients_against_torch(fmt):
    a = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    w = np.random.default_rng(1).standard_normal((2, 3, 4, 5))
    results = []
    for lib in (cgrad, torch):
        f = getattr(lib, fmt)
        x = lib.tensor(a, requires_grad=True)
        xt = x.transpose(2, 3).transpose(2, 3)
        ys = [x.clone(memory_format=f), x.contiguous(memory_format=f) if fmt != "preserve_format" else x * 1,
              x.to(lib.float32, memory_format=f), xt.to(memory_format=f, copy=True)]
        names = [type(y.grad_fn).__name__ for y in ys]
        sum((y.double() * lib.tensor(w)).sum() for y in ys).backward()
        results.append((names, [y.stride() for y in ys], np.round(x.grad.numpy(), 6).tolist()))
    assert results[0] == results[1]


@requires_torch
def test_errors_against_torch():
    def run(lib):
        x = lib.ones(2, 3, 4, 5)
        return [outcome(f) for f in [
            lambda: x.clone(memory_format="channels_last"),
            lambda: x.contiguous(memory_format=1),
            lambda: x.is_contiguous(memory_format=None),
            lambda: lib.ones(2, 3, 4).clone(memory_format=lib.channels_last),
            lambda: x.contiguous(memory_format=lib.channels_last_3d),
            lambda: lib.empty(2, 3, memory_format=lib.preserve_format),
            lambda: lib.empty_like(lib.ones(3), memory_format=lib.channels_last),
            lambda: x.is_contiguous(memory_format=lib.preserve_format),
        ]]
    assert run(cgrad) == run(torch)


def test_is_contiguous_and_contiguous_are_keyword_only():
    x = cgrad.ones(2, 3, 4, 5)
    with pytest.raises(TypeError):
        x.is_contiguous(cgrad.channels_last)
    with pytest.raises(TypeError):
        x.contiguous(cgrad.channels_last)


def test_gradcheck_through_channels_last_copies():
    x = cgrad.tensor(np.random.default_rng(2).standard_normal((2, 3, 2, 2)), requires_grad=True)
    assert cgrad.autograd.gradcheck(
        lambda t: (t.contiguous(memory_format=cgrad.channels_last) * 2).to(memory_format=cgrad.contiguous_format),
        (x,))


@requires_torch
def test_module_to_channels_last_and_conv_against_torch():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 3, 3, 3))
    a = rng.standard_normal((2, 3, 6, 6))
    results = []
    for lib in (cgrad, torch):
        m = lib.nn.Conv2d(3, 4, 3).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(w))
            m.bias.zero_()
        weight = m.weight
        m.to(memory_format=lib.channels_last)
        x = lib.tensor(a).to(memory_format=lib.channels_last).requires_grad_()
        y = m(x)
        y.pow(2).sum().backward()
        results.append((m.weight is weight, m.weight.stride(), m.bias.stride(),
                        np.round(y.detach().numpy(), 8).tolist(), np.round(x.grad.numpy(), 8).tolist(),
                        np.round(m.weight.grad.numpy(), 8).tolist(),
                        outcome(lambda: m.to(memory_format=3)) [0]))
    assert results[0] == results[1]
