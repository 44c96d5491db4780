"""cgrad.vmap's API against torch.func.vmap: in_dims and out_dims (ints,
None, nested pytrees), chunk_size, nesting, randomness modes, the fallback
for ops without a batching rule, and the errors (types and texts)."""
import re
import warnings

import numpy as np
import pytest

import cgrad
from cgrad.func import vmap
from helpers import requires_torch, torch
from vmap_check import FALLBACK, assert_same, run_quiet

rng = np.random.default_rng(1)
X = rng.standard_normal((3, 4))
Y = rng.standard_normal((4, 3))


def both(make, *arrays):
    """make(lib) -> callable; returns (cgrad result, torch result)."""
    out_c = make(cgrad)(*[cgrad.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    out_t = make(torch)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    return out_c, out_t


def same_error(make, *arrays):
    """cgrad and torch raise the same exception type with the same text."""
    with pytest.raises(Exception) as want:
        make(torch)(*[torch.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    with pytest.raises(Exception) as got:
        make(cgrad)(*[cgrad.tensor(a) if isinstance(a, np.ndarray) else a for a in arrays])
    assert type(got.value) is type(want.value)
    assert str(got.value) == re.sub(r"(?<![A-Za-z])torch\.", "cgrad.", str(want.value))


def test_exports():
    assert cgrad.vmap is cgrad.func.vmap


@requires_torch
@pytest.mark.parametrize("in_dims,arrays", [
    (0, (X, X)), (1, (Y, Y)), (-1, (Y, X.T.copy())), ((0, None), (X, X[0])), ((None, 1), (X[0], Y)),
    ((0, -1), (X, Y)),
])
def test_in_dims(in_dims, arrays):
    out_c, out_t = both(lambda L: L.func.vmap(lambda a, b: a * 2 + b, in_dims=in_dims), *arrays)
    assert_same(out_c, out_t, "in_dims")


@requires_torch
def test_nested_pytree_in_dims_and_kwargs():
    def make(L):
        def f(pair, d, scale=1.0):
            return pair[0] + pair[1] * d["w"] * scale + d["b"].sum()
        return lambda x, y, w, b: L.func.vmap(f, in_dims=((0, None), {"w": 1, "b": None}))(
            (x, y), {"w": w, "b": b}, scale=3.0)
    out_c, out_t = both(make, X, X[0], Y, X)
    assert_same(out_c, out_t, "pytree in_dims")


@requires_torch
@pytest.mark.parametrize("out_dims", [0, 1, -1, (1,), (0, 1)])
def test_out_dims(out_dims):
    nout = 2 if isinstance(out_dims, tuple) and len(out_dims) == 2 else 1

    def make(L):
        def f(a):
            return (a.sin(), a * 2) if nout == 2 else a.sin()
        return L.func.vmap(f, out_dims=out_dims)
    out_c, out_t = both(make, X)
    assert_same(out_c, out_t, "out_dims")


@requires_torch
def test_out_dims_none_and_nested_outputs():
    def make(L):
        def f(a, b):
            return {"y": a * 2, "const": b}, a.sum()
        return L.func.vmap(f, in_dims=(0, None), out_dims=({"y": 1, "const": None}, 0))
    out_c, out_t = both(make, X, X[0])
    assert_same(out_c[0]["y"], out_t[0]["y"], "dict out")
    assert_same(out_c[0]["const"], out_t[0]["const"], "None out_dim")
    assert_same(out_c[1], out_t[1], "second output")
    # an output that does not depend on the batch is expanded
    out_c, out_t = both(lambda L: L.func.vmap(lambda a, b: b, in_dims=(0, None)), X, X[0])
    assert_same(out_c, out_t, "unbatched output")


@requires_torch
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 10])
def test_chunk_size(chunk_size):
    def make(L):
        return L.func.vmap(lambda a, b: (a @ b).tanh(), in_dims=(0, None), chunk_size=chunk_size)
    out_c, out_t = both(make, X, Y)
    assert_same(out_c, out_t, "chunk_size")


@requires_torch
def test_nesting():
    A = rng.standard_normal((2, 3, 4))

    def make(L):
        inner = L.func.vmap(lambda r, w: (r * w).sum(), in_dims=(0, None))
        return L.func.vmap(inner, in_dims=(0, None))
    out_c, out_t = both(make, A, X[0])
    assert_same(out_c, out_t, "vmap(vmap)")

    def make2(L):
        inner = L.func.vmap(lambda a, b: a @ b, in_dims=(None, 1))
        return L.func.vmap(inner, in_dims=(0, None))
    out_c, out_t = both(make2, A, Y)
    assert_same(out_c, out_t, "outer product of batches")


def test_batched_tensor_looks_like_a_tensor():
    seen = {}

    def f(a):
        seen["isinstance"] = isinstance(a, cgrad.Tensor)
        seen["shape"] = tuple(a.shape)
        seen["dim"] = a.dim()
        seen["size1"] = a.size(1)
        seen["len"] = len(a)
        return a
    vmap(f)(cgrad.zeros(5, 2, 3))
    assert seen == {"isinstance": True, "shape": (2, 3), "dim": 2, "size1": 3, "len": 2}


def test_fallback_is_correct_and_warns():
    x = cgrad.tensor(rng.standard_normal((3, 4, 4)))
    # histc has no batching rule (torch's vmap has none either)
    with pytest.warns(UserWarning, match="There is a performance drop because we have not yet implemented "
                                         "the batching rule for aten::histc. Please file us an issue on GitHub"):
        out = vmap(lambda a: a.histc(4, -1, 1))(x)
    assert_same(out, cgrad.stack([x[i].histc(4, -1, 1) for i in range(3)]), "fallback")


def test_unbatched_path_unchanged_after_vmap():
    vmap(lambda a: a.sin() + cgrad.cos(a))(cgrad.tensor(X))
    # the namespace and Tensor methods are the compiled ones again
    assert type(cgrad.sin).__name__ == "cython_function_or_method"
    assert "add" in vars(cgrad.Tensor) and type(vars(cgrad.Tensor)["add"]).__name__ != "function"
    import cgrad.nn.functional as F
    assert F.relu.__module__ == "cgrad.nn.functional" and not hasattr(F.relu, "_vmap_original")


# --- randomness --------------------------------------------------------------

RANDOM_OPS = {
    "randn": lambda L, a: L.randn(4) + a, "rand_like": lambda L, a: L.rand_like(a),
    "dropout": lambda L, a: L.nn.functional.dropout(a, 0.5), "normal_": lambda L, a: a.clone().normal_(),
    "bernoulli": lambda L, a: L.bernoulli(a.sigmoid()),
}


@requires_torch
@pytest.mark.parametrize("name", sorted(RANDOM_OPS))
def test_randomness_error(name):
    same_error(lambda L: L.func.vmap(lambda a: RANDOM_OPS[name](L, a)), X)


@pytest.mark.parametrize("name", sorted(RANDOM_OPS))
def test_randomness_different_and_same(name):
    x = cgrad.ones(6, 4) * 0.3
    cgrad.manual_seed(0)
    different = vmap(lambda a: RANDOM_OPS[name](cgrad, a), randomness="different")(x)
    rows = different.numpy()
    assert not all(np.array_equal(rows[0], r) for r in rows[1:])
    same = vmap(lambda a: RANDOM_OPS[name](cgrad, a), randomness="same")(x)
    rows = same.numpy()
    assert all(np.array_equal(rows[0], r) for r in rows[1:])


def test_randomness_same_over_chunks():
    x = cgrad.zeros(5, 3)
    out = vmap(lambda a: cgrad.randn(3) + a, randomness="same", chunk_size=2)(x).numpy()
    assert all(np.array_equal(out[0], r) for r in out[1:])


def test_dropout_statistics_and_eval():
    x = cgrad.ones(64, 1000)
    out = vmap(lambda a: cgrad.nn.functional.dropout(a, 0.25), randomness="different")(x).numpy()
    assert set(np.unique(out)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((out == 0).mean() - 0.25) < 0.01
    out = run_quiet(vmap(lambda a: cgrad.nn.functional.dropout(a, 0.25, training=False)), x)
    assert_same(out, x, "eval dropout is the identity")


@requires_torch
def test_inplace_randomness_on_unbatched_tensor():
    same_error(lambda L: L.func.vmap(lambda a, b: b.normal_() + a, in_dims=(0, None), randomness="different"),
               X, X[0])


# --- errors ------------------------------------------------------------------

ERROR_CASES = {
    "in_dims_list": lambda L: L.func.vmap(lambda a: a, in_dims=[0])(X_L(L)),
    "in_dims_float": lambda L: L.func.vmap(lambda a: a, in_dims=0.5)(X_L(L)),
    "in_dims_structure": lambda L: L.func.vmap(lambda a: a, in_dims=(0, 0))(X_L(L)),
    "in_dims_structure2": lambda L: L.func.vmap(lambda a, b: a, in_dims=(0,))(X_L(L), X_L(L)),
    "in_dims_dict": lambda L: L.func.vmap(lambda d: d["a"], in_dims=({"a": 0},))({"a": X_L(L), "b": X_L(L)}),
    "in_dim_bad_type": lambda L: L.func.vmap(lambda a: a, in_dims=("x",))(X_L(L)),
    "in_dim_out_of_range": lambda L: L.func.vmap(lambda a: a, in_dims=2)(X_L(L)),
    "in_dim_non_tensor": lambda L: L.func.vmap(lambda a: a)(3.0),
    "sizes_mismatch": lambda L: L.func.vmap(lambda a, b: a, in_dims=(0, 1))(X_L(L), X_L(L)),
    "no_tensor": lambda L: L.func.vmap(lambda a: a, in_dims=None)(X_L(L)),
    "no_inputs": lambda L: L.func.vmap(lambda: 1)(),
    "out_dims_structure": lambda L: L.func.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(X_L(L)),
    "out_dims_type": lambda L: L.func.vmap(lambda a: a, out_dims="a")(X_L(L)),
    "out_dim_range": lambda L: L.func.vmap(lambda a: a, out_dims=3)(X_L(L)),
    "out_none_batched": lambda L: L.func.vmap(lambda a: a, out_dims=None)(X_L(L)),
    "returns_int": lambda L: L.func.vmap(lambda a: 3)(X_L(L)),
    "randomness": lambda L: L.func.vmap(lambda a: a, randomness="x")(X_L(L)),
    "chunk_size": lambda L: L.func.vmap(lambda a: a, chunk_size=0)(X_L(L)),
    "item": lambda L: L.func.vmap(lambda a: a.sum().item())(X_L(L)),
    "control_flow": lambda L: L.func.vmap(lambda a: a if a.sum() > 0 else -a)(X_L(L)),
    "reduction_dim": lambda L: L.func.vmap(lambda a: a.sum(2))(X_L(L)),
}


def X_L(L):
    return L.tensor(X)


@requires_torch
@pytest.mark.parametrize("name", sorted(ERROR_CASES))
def test_errors_match_torch(name):
    same_error(lambda L: lambda: ERROR_CASES[name](L))


def test_no_fallback_warning_for_rules():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vmap(lambda a, b: (a @ b).relu().sum(0).softmax(-1))(cgrad.tensor(X).unsqueeze(1), cgrad.ones(3, 4, 2, dtype=cgrad.float64))
    assert not [w for w in caught if FALLBACK in str(w.message)]
