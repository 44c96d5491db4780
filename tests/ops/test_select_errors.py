"""Errors of the selecting reductions and statistics (ops_select.pxi):
prod, max, min, amax, amin, argmax, argmin, var, std, logsumexp raise
PyTorch's exception types, with its texts where PyTorch's are stable and
the same first line where its argument parser lists the overloads after it.
The values, gradients and layouts are in test_select.py."""
import pytest

import cgrad
from helpers import torch


def same_error(fn, exact=True):
    """fn(lib) raises the same exception type (and text) in cgrad and torch."""
    if torch is None:
        pytest.skip("torch not installed")
    with pytest.raises(Exception) as et:
        fn(torch)
    with pytest.raises(Exception) as ec:
        fn(cgrad)
    assert type(ec.value) is type(et.value), (ec.value, et.value)
    expected = str(et.value).replace("torch.", "cgrad.")
    if exact:
        assert str(ec.value) == expected
    else:
        head = expected.split("\n")[0]
        assert str(ec.value).split("\n")[0] == head


ERRORS_EXACT = {
    "max empty": lambda lib: lib.empty(0).max(),
    "min empty": lambda lib: lib.zeros(2, 0).min(),
    "amax empty": lambda lib: lib.empty(0).amax(),
    "amin empty ()": lambda lib: lib.zeros(2, 0).amin(()),
    "argmax empty": lambda lib: lib.empty(0).argmax(),
    "argmin empty": lambda lib: lib.zeros(2, 0).argmin(),
    "max empty dim": lambda lib: lib.zeros(2, 0).max(1),
    "max empty neg dim": lambda lib: lib.zeros(2, 0, 3).max(-2),
    "min empty dim": lambda lib: lib.zeros(2, 0).min(-1),
    "amax empty dim": lambda lib: lib.zeros(2, 0).amax(1),
    "amax empty neg dims": lambda lib: lib.zeros(2, 0, 3).amax((-1, -2)),
    "amin empty dims": lambda lib: lib.zeros(2, 0, 3).amin((0, 1)),
    "argmax empty dim": lambda lib: lib.zeros(2, 0, 3).argmax(-2),
    "argmin empty dim": lambda lib: lib.zeros(2, 0).argmin(1),
    "max dim range": lambda lib: lib.ones(2, 3).max(2),
    "max 0-d dim range": lambda lib: lib.tensor(1.0).max(1),
    "amax dim range": lambda lib: lib.ones(2, 3).amax((0, -3)),
    "amax dup": lambda lib: lib.ones(2, 3).amax((0, -2)),
    "argmax range": lambda lib: lib.ones(2, 3).argmax(2),
    "prod range": lambda lib: lib.ones(2, 3).prod(-3),
    "var range": lambda lib: lib.ones(2, 3).var(2),
    "var dup": lambda lib: lib.ones(2, 3).var((0, 0)),
    "std int": lambda lib: lib.tensor([1, 2]).std(),
    "var bool": lambda lib: lib.tensor([True]).var(0),
    "logsumexp range": lambda lib: lib.ones(2, 3).logsumexp(2),
    "logsumexp dup": lambda lib: lib.ones(2, 3).logsumexp((1, 1)),
    "logsumexp no dim": lambda lib: lib.ones(2, 3).logsumexp(),
    "logsumexp fn no dim": lambda lib: lib.logsumexp(lib.ones(2, 3)),
    "logsumexp ()": lambda lib: lib.ones(2, 3).logsumexp(()),
    "logsumexp () 1-d": lambda lib: lib.ones(3).logsumexp([]),
    "argmax bool": lambda lib: lib.tensor([True, False]).argmax(),
    "argmin bool": lambda lib: lib.tensor([[True, False]]).argmin(1),
    "max keepdim int": lambda lib: lib.ones(2, 3).max(1, 1),
    "max keepdim kw int": lambda lib: lib.ones(2, 3).max(dim=1, keepdim=1),
    "amax keepdim int": lambda lib: lib.amax(lib.ones(2, 3), 1, 1),
    "amax dim float": lambda lib: lib.ones(2, 3).amax(1.5),
    "amax fn dim float": lambda lib: lib.amax(lib.ones(2, 3), 1.5),
    "amax kw dim float": lambda lib: lib.ones(2, 3).amax(dim=1.5),
    "amax dim bool": lambda lib: lib.ones(2, 3).amax(True),
    "argmax dim float": lambda lib: lib.ones(2, 3).argmax(1.5),
    "argmax fn dim float": lambda lib: lib.argmax(lib.ones(2, 3), 1.5),
    "argmax dim tuple": lambda lib: lib.ones(2, 3).argmax((0,)),
    "argmax dim bool": lambda lib: lib.ones(2, 3).argmax(dim=True),
    "argmax keepdim int": lambda lib: lib.ones(2, 3).argmax(1, keepdim=1),
    "logsumexp dim None": lambda lib: lib.ones(2, 3).logsumexp(None),
    "logsumexp kw dim None": lambda lib: lib.ones(2, 3).logsumexp(dim=None),
    "logsumexp fn dim float": lambda lib: lib.logsumexp(lib.ones(2, 3), 1.5),
    "logsumexp list float": lambda lib: lib.logsumexp(lib.ones(2, 3), [1.5]),
    "logsumexp keepdim int": lambda lib: lib.ones(2, 3).logsumexp(1, 1),
    "prod keepdim int": lambda lib: lib.ones(2, 3).prod(1, 1),
    "prod keepdim no dim": lambda lib: lib.ones(2, 3).prod(dtype=lib.float64, keepdim=True),
    "prod many args": lambda lib: lib.ones(2, 3).prod(1, True, 3),
    "amax many args": lambda lib: lib.ones(2, 3).amax(1, True, 3),
    "argmax many args": lambda lib: lib.ones(2, 3).argmax(1, True, 3),
    "max dim twice": lambda lib: lib.ones(2, 3).max(1, dim=1),
    "max input": lambda lib: lib.max(3.0),
    "argmax input": lambda lib: lib.argmax(3.0),
    "logsumexp input": lambda lib: lib.logsumexp(3.0, 1),
    "prod input": lambda lib: lib.prod([1.0]),
    "prod dtype str": lambda lib: lib.ones(2).prod(dtype="float32"),
    "prod int dtype grad": lambda lib: lib.ones(2, requires_grad=True).prod(dtype=lib.int64),
    "prod dim int dtype grad": lambda lib: lib.ones(2, requires_grad=True).prod(0, dtype=lib.int64),
}


@pytest.mark.parametrize("name", sorted(ERRORS_EXACT))
def test_errors_exact(name):
    same_error(ERRORS_EXACT[name])


ERRORS_HEAD = {
    # PyTorch's argument parser's "invalid combination" errors: same type and
    # first line (the list of overloads follows)
    "max float": lambda lib: lib.ones(2, 3).max(1.5),
    "max str": lambda lib: lib.ones(2, 3).max("a"),
    "max tuple": lambda lib: lib.ones(2, 3).max((0, 1)),
    "max None": lambda lib: lib.ones(2, 3).max(None),
    "max kw None": lambda lib: lib.ones(2, 3).max(dim=None),
    "max keepdim only": lambda lib: lib.ones(2, 3).max(keepdim=True),
    "max fn keepdim only": lambda lib: lib.max(lib.ones(2, 3), keepdim=True),
    "max fn float": lambda lib: lib.max(lib.ones(2, 3), 1.0),
    "max fn tuple": lambda lib: lib.max(lib.ones(2, 3), dim=(0, 1)),
    "max many": lambda lib: lib.ones(2, 3).max(1, True, 4),
    "min unknown kw": lambda lib: lib.ones(2, 3).min(1, keepdim=True, foo=1),
    "max none": lambda lib: lib.max(),
    "prod None": lambda lib: lib.prod(lib.ones(2), None),
    "prod kw None": lambda lib: lib.prod(lib.ones(2), dim=None),
    "prod tuple": lambda lib: lib.prod(lib.ones(2), (0,)),
    "prod float": lambda lib: lib.prod(lib.ones(2), 1.5),
    "prod bool": lambda lib: lib.ones(2).prod(True),
    "prod keepdim only": lambda lib: lib.prod(lib.ones(2), keepdim=True),
    "var float": lambda lib: lib.ones(2, 3).var(1.5),
    "var kw float": lambda lib: lib.ones(2, 3).var(dim=1.5),
    "var str": lambda lib: lib.ones(2, 3).var("a"),
    "var int int": lambda lib: lib.ones(2, 3).var(1, 1),
    "var int None": lambda lib: lib.ones(2, 3).var(1, None),
    "var both": lambda lib: lib.ones(2, 3).var(1, correction=1, unbiased=True),
    "var both kw": lambda lib: lib.ones(2, 3).var(unbiased=True, correction=1),
    "var unbiased int": lambda lib: lib.ones(2, 3).var(unbiased=1),
    "std unbiased None": lambda lib: lib.ones(2, 3).std(1, unbiased=None),
    "var correction str": lambda lib: lib.ones(2, 3).var(correction="a"),
    "var fn float": lambda lib: lib.var(3.0),
    "var many": lambda lib: lib.ones(2, 3).var(1, True, True, 3),
}


@pytest.mark.parametrize("name", sorted(ERRORS_HEAD))
def test_errors_type_and_head(name):
    same_error(ERRORS_HEAD[name], exact=False)
