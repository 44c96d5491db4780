"""add's and sub's alpha checked against the result dtype as PyTorch's
alpha_check does (ops/arguments.pxi): a bool alpha only for bool results,
a float alpha only for floating results; in every form (tensor or number
other, rsub, in place, the functions and the methods)."""
import numpy as np
import pytest

import cgrad
from tests.helpers import torch

BOOL_ALPHA = "Boolean alpha only supported for Boolean results."
FLOAT_ALPHA = "For integral input tensors, argument alpha must not be a floating point number."

CASES = [
    ("lib.add(i, i, alpha=False)", BOOL_ALPHA),
    ("lib.sub(i, i, alpha=True)", BOOL_ALPHA),
    ("lib.add(f, f, alpha=True)", BOOL_ALPHA),
    ("i.clone().sub_(i, alpha=False)", BOOL_ALPHA),
    ("i.clone().add_(1, alpha=True)", BOOL_ALPHA),
    ("lib.add(i, 2, alpha=False)", BOOL_ALPHA),
    ("lib.rsub(i, 2, alpha=True)", BOOL_ALPHA),
    ("lib.add(i, i, alpha=2.5)", FLOAT_ALPHA),
    ("lib.add(i, 2, alpha=0.5)", FLOAT_ALPHA),
    ("lib.sub(i, 2, alpha=0.5)", FLOAT_ALPHA),
    ("i.add(i, alpha=np.float64(2.0))", FLOAT_ALPHA),
    ("i.clone().add_(i, alpha=1.0)", FLOAT_ALPHA),
]


def scope(lib):
    return {"lib": lib, "np": np, "i": lib.tensor([1, 2, 3]), "f": lib.tensor([1.0, 2.0, 3.0]),
            "b": lib.tensor([True, False, True])}


@pytest.mark.parametrize("expression, text", CASES, ids=[e for e, _ in CASES])
def test_alpha_refused(expression, text):
    with pytest.raises(RuntimeError) as ours:
        eval(expression, scope(cgrad))
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(RuntimeError) as theirs:
            eval(expression, scope(torch))
        assert str(theirs.value) == text


ACCEPTED = [
    ("lib.add(b, b, alpha=True)", [True, False, True]),
    ("lib.add(b, b, alpha=2)", [True, False, True]),
    ("lib.add(i, i, alpha=np.int64(2))", [3, 6, 9]),
    ("lib.add(f, f, alpha=2.5)", [3.5, 7.0, 10.5]),
    ("lib.add(f, 1, alpha=-1)", [0.0, 1.0, 2.0]),
    ("lib.sub(i, 1, alpha=2)", [-1, 0, 1]),
    ("i.clone().add_(i, alpha=3)", [4, 8, 12]),
]


@pytest.mark.parametrize("expression, expected", ACCEPTED, ids=[e for e, _ in ACCEPTED])
def test_alpha_accepted(expression, expected):
    ours = eval(expression, scope(cgrad))
    assert ours.tolist() == expected
    if torch is not None:
        theirs = eval(expression, scope(torch))
        assert theirs.tolist() == expected and str(theirs.dtype)[6:] == str(ours.dtype)[6:]
