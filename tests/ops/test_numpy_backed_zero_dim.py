"""Ops computed through numpy keep a 0-dim input's shape: frexp, apply_,
map_, unravel_index, put and nextafter returned (or wrote from) a 1-element
vector for a 0-dim tensor (np.ascontiguousarray makes 0-dim arrays 1-dim)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def cases(lib):
    x = lib.tensor(3.5)
    return {
        "frexp": lambda: lib.frexp(x),
        "apply_": lambda: lib.tensor(1.5).apply_(lambda v: v * 2),
        "map_": lambda: lib.tensor(2.0).map_(lib.tensor(3.0), lambda a, b: a + b),
        "unravel_index": lambda: lib.unravel_index(lib.tensor(3), (2, 2)),
        "put": lambda: lib.put(x, lib.tensor(0), lib.tensor(1.0)),
        "put_": lambda: lib.tensor(2.0).put_(lib.tensor([0]), lib.tensor([7.0]), accumulate=True),
        "nextafter": lambda: lib.nextafter(x, lib.tensor(5.0)),
        "nextafter_bf16": lambda: lib.nextafter(x.bfloat16(), lib.tensor(5.0).bfloat16()),
    }


def flat(result):
    return list(result) if isinstance(result, tuple) else [result]


HAND = {
    "frexp": [(0.875, ()), (2, ())], "apply_": [(3.0, ())], "map_": [(5.0, ())],
    "unravel_index": [(1, ()), (1, ())], "put": [(1.0, ())], "put_": [(9.0, ())],
    "nextafter": [(float(np.nextafter(np.float32(3.5), np.float32(5))), ())], "nextafter_bf16": [(3.515625, ())],
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_zero_dim_results_hand_values(name):
    results = flat(cases(cgrad)[name]())
    assert [(r.item(), tuple(r.shape)) for r in results] == HAND[name]


@requires_torch
@pytest.mark.parametrize("name", sorted(HAND))
def test_zero_dim_results_match_torch(name):
    got, expected = flat(cases(cgrad)[name]()), flat(cases(torch)[name]())
    for g, e in zip(got, expected):
        assert tuple(g.shape) == tuple(e.shape)
        assert str(g.dtype).split(".")[1] == str(e.dtype).split(".")[1]
        assert g.item() == e.item()


def test_frexp_zero_dim_gradient():
    x = cgrad.tensor(3.5, dtype=cgrad.float64, requires_grad=True)
    cgrad.frexp(x)[0].backward()
    assert x.grad.shape == () and x.grad.item() == 0.25      # d mantissa / dx = 2 ** -exponent
