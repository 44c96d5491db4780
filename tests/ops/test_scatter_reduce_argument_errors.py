"""scatter_reduce and index_reduce's argument-type errors (a non-str reduce,
a float dim, a number or list where a tensor goes), which the two share
in cgrad/_ops_scatter_reduce.py, against torch: same type and text."""
import warnings

import pytest

import cgrad
from helpers import requires_torch, torch

BAD_ARGUMENTS = [("x", 1, "i", "s", 3), ("x", 1.5, "i", "s", "amax"), ("x", 1, "i", 5.0, "amax"),
                 ("x", 1, [0], "s", "amax"), ([1.0], 1, "i", "s", "amax")]


def _error(fn):
    with pytest.raises(Exception) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore")      # index_reduce's beta warning
        fn()
    return type(info.value).__name__, str(info.value).replace("cgrad.", "torch.")


@requires_torch
@pytest.mark.parametrize("op", ["scatter_reduce", "index_reduce"])
@pytest.mark.parametrize("arguments", BAD_ARGUMENTS)
def test_argument_type_errors_match_torch(op, arguments):
    errors = []
    for lib in (cgrad, torch):
        index = lib.tensor([0, 1, 0, 2]) if op == "index_reduce" else lib.tensor([[0, 1, 0, 2]])
        values = {"x": lib.ones(3, 4), "i": index, "s": lib.ones(3, 4) if op == "index_reduce" else lib.ones(1, 4)}
        args = [values[a] if isinstance(a, str) and a in values else a for a in arguments]
        errors.append(_error(lambda: getattr(lib, op)(*args)))
    assert errors[0] == errors[1]
