"""PyTorch's composite ops (select, movedim/moveaxis, tile, atleast_nd,
hstack/vstack) against torch: the nodes their results carry, shapes, views,
gradients and error texts."""
import pytest

import cgrad
from helpers import requires_torch, torch


def describe(t):
    if isinstance(t, tuple):
        return [describe(u) for u in t]
    fn = t.grad_fn
    return (type(fn).__name__ if fn is not None else None,
            [type(f).__name__ if f is not None else None for f, _ in fn.next_functions] if fn is not None else [],
            tuple(t.shape), t._base is not None, t.detach().numpy().tolist())


CASES = {
    "select": lambda lib, x, v, s: lib.select(x, 1, 2),
    "select negative": lambda lib, x, v, s: x.select(0, -1),
    "movedim": lambda lib, x, v, s: lib.movedim(x, 0, 1),
    "movedim tuples": lambda lib, x, v, s: x.movedim((0, 1), (1, 0)),
    "moveaxis": lambda lib, x, v, s: lib.moveaxis(x.unsqueeze(0), 0, -1),
    "hstack 1-d": lambda lib, x, v, s: lib.hstack([v, v * 2]),
    "hstack 2-d": lambda lib, x, v, s: lib.hstack([x, x]),
    "vstack 1-d": lambda lib, x, v, s: lib.vstack([v, v]),
    "vstack 2-d": lambda lib, x, v, s: lib.vstack((x, x * 3)),
    "tile short": lambda lib, x, v, s: x.tile((2,)),
    "tile function": lambda lib, x, v, s: lib.tile(v, (2, 2)),
    "tile varargs": lambda lib, x, v, s: x.tile(2, 1, 1),
    "atleast_1d 0-d": lambda lib, x, v, s: lib.atleast_1d(s),
    "atleast_2d 1-d": lambda lib, x, v, s: lib.atleast_2d(v),
    "atleast_3d 2-d": lambda lib, x, v, s: lib.atleast_3d(x),
    "atleast_3d 1-d": lambda lib, x, v, s: lib.atleast_3d(v),
    "atleast_3d 0-d": lambda lib, x, v, s: lib.atleast_3d(s),
    "atleast_2d several": lambda lib, x, v, s: lib.atleast_2d(s, v),
    "atleast_1d list": lambda lib, x, v, s: lib.atleast_1d([s, v]),
    "select dim out of range": lambda lib, x, v, s: x.select(2, 0),
    "select index out of range": lambda lib, x, v, s: x.select(0, 5),
    "select 0-d": lambda lib, x, v, s: s.select(0, 0),
    "select float dim": lambda lib, x, v, s: x.select(1.5, 0),
    "movedim dim out of range": lambda lib, x, v, s: lib.movedim(x, 0, 5),
    "movedim lengths differ": lambda lib, x, v, s: lib.movedim(x, (0, 1), (0,)),
    "movedim repeated source": lambda lib, x, v, s: lib.movedim(x, (0, 0), (0, 1)),
    "movedim repeated destination": lambda lib, x, v, s: lib.movedim(x, (0, 1), (1, 1)),
    "tile str": lambda lib, x, v, s: x.tile("a"),
    "hstack empty": lambda lib, x, v, s: lib.hstack([]),
    "vstack tensor": lambda lib, x, v, s: lib.vstack(x),
}


def run(lib, name):
    x = lib.arange(6.0).view(2, 3).requires_grad_()
    v = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    s = lib.tensor(1.5, requires_grad=True)
    try:
        return describe(CASES[name](lib, x, v, s))
    except (RuntimeError, IndexError, TypeError) as e:
        return type(e).__name__, str(e).replace("torch.", "cgrad.")


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    assert run(cgrad, name) == run(torch, name)


@pytest.mark.parametrize("fn", [
    lambda x: cgrad.movedim(x, (0, 2), (2, 0)) * 2,
    lambda x: x.select(1, -1) ** 2,
    lambda x: x.tile((2, 1, 2)).sin(),
    lambda x: cgrad.hstack([x, x * 2]).exp(),
    lambda x: cgrad.vstack([x[0], x[1]]).tanh(),
    lambda x: cgrad.atleast_3d(x[0, 0]) * 3,
])
def test_gradcheck(fn):
    x = cgrad.randn(2, 3, 4, dtype=cgrad.float64, requires_grad=True)
    assert cgrad.autograd.gradcheck(fn, (x,))
    assert cgrad.autograd.gradgradcheck(fn, (x,))
