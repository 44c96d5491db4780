"""torch.func's smaller members against torch: linearize (values, its
jvp_fn's checks and errors), functionalize (results and input mutations,
the `remove` check), debug_unwrap under nested vmaps, and
replace_all_batch_norm_modules_ (modules then normalise by batch
statistics in eval mode too)."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

rng = np.random.default_rng(13)
X, Y = rng.standard_normal(3), rng.standard_normal(3)


def _fn(L):
    return lambda x, y: ((x.sin() * y).exp(), {"sum": x * y.cos()})


def _flat(out):
    leaves = []
    stack = [out]
    while stack:
        v = stack.pop()
        if isinstance(v, (tuple, list)):
            stack.extend(reversed(v))
        elif isinstance(v, dict):
            stack.extend(v[k] for k in sorted(v, reverse=True))
        else:
            leaves.append(v.detach().numpy())
    return leaves


def test_linearize_matches_jvp_and_finite_differences():
    out, jvp_fn = cgrad.func.linearize(_fn(cgrad), cgrad.tensor(X), cgrad.tensor(Y))
    tx, ty = rng.standard_normal(3), rng.standard_normal(3)
    slope = jvp_fn(cgrad.tensor(tx), cgrad.tensor(ty))
    eps = 1e-6
    plus = _fn(cgrad)(cgrad.tensor(X + eps * tx), cgrad.tensor(Y + eps * ty))
    minus = _fn(cgrad)(cgrad.tensor(X - eps * tx), cgrad.tensor(Y - eps * ty))
    for s, p, m in zip(_flat(slope), _flat(plus), _flat(minus)):
        np.testing.assert_allclose(s, (p - m) / (2 * eps), rtol=1e-6, atol=1e-8)
    for a, b in zip(_flat(out), _flat(_fn(cgrad)(cgrad.tensor(X), cgrad.tensor(Y)))):
        np.testing.assert_array_equal(a, b)


@requires_torch
def test_linearize_matches_torch():
    tx, ty = rng.standard_normal(3), rng.standard_normal(3)
    ours = cgrad.func.linearize(_fn(cgrad), cgrad.tensor(X), cgrad.tensor(Y))
    theirs = torch.func.linearize(_fn(torch), torch.tensor(X), torch.tensor(Y))
    for a, b in zip(_flat(ours[0]), _flat(theirs[0])):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    for k in range(2):      # jvp_fn called more than once, at the same primals
        got = ours[1](cgrad.tensor(tx * k), cgrad.tensor(ty))
        want = theirs[1](torch.tensor(tx * k), torch.tensor(ty))
        for a, b in zip(_flat(got), _flat(want)):
            np.testing.assert_allclose(a, b, rtol=1e-12)


@requires_torch
@pytest.mark.parametrize("bad", ["structure", "shape", "dtype"])
def test_linearize_tangent_errors_match_torch(bad):
    messages = []
    for lib in (cgrad, torch):
        _, jvp_fn = lib.func.linearize(_fn(lib), lib.tensor(X), lib.tensor(Y))
        tangents = {"structure": (lib.tensor(X),), "shape": (lib.ones(4, dtype=lib.float64), lib.tensor(Y)),
                    "dtype": (lib.tensor(X), lib.tensor(Y).float())}[bad]
        with pytest.raises(RuntimeError) as error:
            jvp_fn(*tangents)
        messages.append(str(error.value).replace("torch.", "cgrad."))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("remove", ["mutations", "mutations_and_views"])
def test_functionalize_keeps_results_and_input_mutations(remove):
    def f(x):
        y = x * 2
        y.add_(1)
        x.mul_(3)
        return y[1:], x.view(-1)
    ours_in = cgrad.tensor(X)
    ours = cgrad.func.functionalize(f, remove=remove)(ours_in)
    expected_in = X * 3
    np.testing.assert_allclose(ours_in.numpy(), expected_in)
    np.testing.assert_allclose(ours[0].numpy(), (X * 2 + 1)[1:])
    np.testing.assert_allclose(ours[1].numpy(), expected_in)
    if torch is not None:
        theirs_in = torch.tensor(X)
        theirs = torch.func.functionalize(f, remove=remove)(theirs_in)
        np.testing.assert_allclose(theirs_in.numpy(), ours_in.numpy())
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a.numpy(), b.numpy())


def test_functionalize_refuses_unknown_remove():
    with pytest.raises(RuntimeError) as error:
        cgrad.func.functionalize(lambda x: x, remove="views")
    if torch is not None:
        with pytest.raises(RuntimeError) as expected:
            torch.func.functionalize(lambda x: x, remove="views")
        assert str(error.value) == str(expected.value)
    assert "received invalid argument for remove=views" in str(error.value)


def test_debug_unwrap_under_nested_vmap():
    seen = {}

    def f(lib):
        def inner(a):
            seen[lib.__name__] = (tuple(lib.func.debug_unwrap(a).shape),
                                  tuple(lib.func.debug_unwrap(a, recurse=False).shape))
            return a * 2
        return inner
    x = rng.standard_normal((2, 3, 4))
    cgrad.func.vmap(cgrad.func.vmap(f(cgrad)))(cgrad.tensor(x))
    assert seen["cgrad"] == ((2, 3, 4), (3, 4))
    plain = cgrad.tensor(X)
    assert cgrad.func.debug_unwrap(plain) is plain
    if torch is not None:
        torch.func.vmap(torch.func.vmap(f(torch)))(torch.tensor(x))
        assert seen["torch"] == seen["cgrad"]


def test_replace_all_batch_norm_modules():
    def build(lib):
        lib.manual_seed(0)
        return lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.BatchNorm1d(4),
                                 lib.nn.Sequential(lib.nn.BatchNorm1d(4, track_running_stats=True)))
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model = build(cgrad)
    assert cgrad.func.replace_all_batch_norm_modules_(model) is model
    for bn in (model[1], model[2][0]):
        assert bn.running_mean is None and bn.running_var is None and bn.num_batches_tracked is None
        assert bn.track_running_stats is False
    model.eval()
    out = model(cgrad.tensor(x)).detach().numpy()
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-5)     # batch statistics even in eval mode
    if torch is not None:
        reference = torch.func.replace_all_batch_norm_modules_(build(torch))
        reference.eval()
        assert [n for n, _ in reference.named_buffers()] == [n for n, _ in model.named_buffers()]
