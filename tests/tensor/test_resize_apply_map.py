"""Tensor.resize_ / resize_as_ and apply_ / map_ against torch: shapes,
strides, the kept prefix of the data, and the errors."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def describe(lib, t):
    if not isinstance(t, lib.Tensor):
        return t
    shown = t.detach().numpy().reshape(-1)[:min(t.numel(), 6)] if t.numel() else []
    return tuple(t.shape), t.stride(), list(np.asarray(shown).tolist()), str(t.dtype).split(".")[-1]


CASES = {
    "shrink": lambda lib: lib.arange(6.0).resize_(2, 2),
    "grow keeps prefix": lambda lib: lib.arange(6.0).resize_((2, 3, 1)),
    "list size": lambda lib: lib.arange(6.0).resize_([3]),
    "same shape keeps strides": lambda lib: lib.arange(6.0).view(2, 3).t().resize_(3, 2),
    "empty": lambda lib: lib.arange(6.0).resize_(0),
    "resize_as_": lambda lib: lib.arange(6.0).resize_as_(lib.ones(3, 1)),
    "channels_last": lambda lib: lib.arange(24.0).resize_(1, 2, 3, 4, memory_format=lib.channels_last),
    "channels_last rank": lambda lib: lib.arange(6.0).resize_(2, 3, memory_format=lib.channels_last),
    "requires grad": lambda lib: lib.ones(2, requires_grad=True).resize_(3),
    "non-leaf requires grad": lambda lib: (lib.ones(3, requires_grad=True) * 2).resize_(2),
    "float size": lambda lib: lib.arange(6.0).resize_(2.5),
    "numpy storage": lambda lib: lib.from_numpy(np.ones(3)).resize_(5),
    "apply_": lambda lib: lib.tensor([1.0, 2.0, 3.0]).apply_(lambda v: v * 10 + 1),
    "apply_ int": lambda lib: lib.tensor([1, 2]).apply_(lambda v: v * 2.7),
    "apply_ requires grad": lambda lib: lib.ones(2, requires_grad=True).apply_(lambda v: v),
    "map_": lambda lib: lib.ones(2, 3).map_(lib.tensor([1.0, 2.0, 3.0]), lambda a, b: a * b + 1),
    "map_ requires grad": lambda lib: lib.ones(2, requires_grad=True).map_(lib.ones(2), lambda a, b: a),
}


def run(lib, name):
    try:
        return describe(lib, CASES[name](lib))
    except (RuntimeError, TypeError) as e:
        return type(e).__name__, str(e)


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    got, want = run(cgrad, name), run(torch, name)
    if name == "grow keeps prefix":     # the grown tail is uninitialised memory
        got, want = (got[0], got[1], got[2][:6]), (want[0], want[1], want[2][:6])
    assert got == want


def test_resize_hand_computed():
    t = cgrad.arange(4.0)
    assert t.resize_(2, 2).tolist() == [[0.0, 1.0], [2.0, 3.0]]
    grown = cgrad.arange(3.0).resize_(2, 3)
    assert grown.shape == (2, 3) and grown.stride() == (3, 1) and grown.view(-1)[:3].tolist() == [0.0, 1.0, 2.0]
    assert cgrad.tensor([1, 2, 3]).apply_(lambda v: v * v).tolist() == [1, 4, 9]
