"""Random numbers: cgrad.Generator (seeding, state), generator= on every
sampler, and the distributions. Shapes, dtypes and errors are compared with
torch; values (a different stream) are checked statistically on large
samples drawn from a fixed seed, with tolerances of several standard errors."""
import math

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

N = 200_000


def assert_mean_var(t, mean, var, sigmas=6):
    """Sample mean and variance within `sigmas` standard errors of the truth
    (the variance's standard error uses the normal-sample approximation
    widened by 2 for heavier tails)."""
    x = np.asarray(t.double().numpy()).reshape(-1)
    n = x.size
    assert abs(x.mean() - mean) <= sigmas * math.sqrt(var / n) + 1e-12, (x.mean(), mean)
    assert abs(x.var() - var) <= sigmas * 2 * var * math.sqrt(2 / n) + 1e-12, (x.var(), var)


# ---------------------------------------------------------------------------
# Generator and seeding


def test_generator_seeding_and_reproducibility():
    g = cgrad.Generator()
    assert g.initial_seed() == 67280421310721
    assert g.device == cgrad.device("cpu")
    assert g.manual_seed(123) is g and g.initial_seed() == 123
    a = cgrad.rand(5, generator=g)
    g.manual_seed(123)
    assert cgrad.rand(5, generator=g).tolist() == a.tolist()
    g2 = cgrad.Generator().manual_seed(123)
    assert cgrad.rand(5, generator=g2).tolist() == a.tolist()
    assert g.manual_seed(-1).initial_seed() == 2 ** 64 - 1
    s = g.seed()
    assert s == g.initial_seed() and 0 <= s < 2 ** 64


def test_generator_state_round_trip():
    g = cgrad.Generator().manual_seed(7)
    cgrad.randn(3, generator=g)
    state = g.get_state()
    assert state.dtype == cgrad.uint8 and state.dim() == 1
    want = [cgrad.rand(4, generator=g).tolist(), cgrad.randint(0, 100, (4,), generator=g).tolist(),
            cgrad.randperm(6, generator=g).tolist()]
    assert g.set_state(state) is g
    got = [cgrad.rand(4, generator=g).tolist(), cgrad.randint(0, 100, (4,), generator=g).tolist(),
           cgrad.randperm(6, generator=g).tolist()]
    assert got == want
    assert g.initial_seed() == 7
    # the state travels to another generator
    h = cgrad.Generator().set_state(state)
    assert cgrad.rand(4, generator=h).tolist() == want[0]


def test_default_generator_and_module_functions():
    assert cgrad.manual_seed(5) is cgrad.default_generator
    assert cgrad.initial_seed() == 5
    a = cgrad.rand(3)
    cgrad.manual_seed(5)
    assert cgrad.rand(3).tolist() == a.tolist()
    state = cgrad.get_rng_state()
    b = cgrad.randn(4)
    cgrad.set_rng_state(state)
    assert cgrad.randn(4).tolist() == b.tolist()
    s = cgrad.seed()
    assert s == cgrad.initial_seed()
    # a private generator does not move the default stream
    cgrad.manual_seed(9)
    x = cgrad.rand(2)
    cgrad.manual_seed(9)
    cgrad.rand(100, generator=cgrad.Generator().manual_seed(1))
    assert cgrad.rand(2).tolist() == x.tolist()


def test_generator_is_used_by_every_sampler():
    def draws(g):
        x = cgrad.zeros(3)
        return [cgrad.rand(3, generator=g), cgrad.randn(3, generator=g), cgrad.randint(9, (3,), generator=g),
                cgrad.randperm(5, generator=g), cgrad.multinomial(cgrad.ones(4), 2, generator=g),
                cgrad.bernoulli(cgrad.full((3,), 0.5), generator=g), cgrad.normal(0., 1., (3,), generator=g),
                cgrad.normal(cgrad.zeros(3), cgrad.ones(3), generator=g), cgrad.poisson(cgrad.ones(3), generator=g),
                cgrad.rand_like(x, generator=g), cgrad.randn_like(x, generator=g),
                cgrad.randint_like(x, 5, generator=g), x.clone().uniform_(generator=g),
                x.clone().normal_(generator=g), x.clone().random_(7, generator=g),
                x.clone().exponential_(generator=g), x.clone().geometric_(0.5, generator=g),
                x.clone().log_normal_(generator=g), x.clone().cauchy_(generator=g),
                x.clone().bernoulli_(0.5, generator=g)]
    a = [t.tolist() for t in draws(cgrad.Generator().manual_seed(11))]
    b = [t.tolist() for t in draws(cgrad.Generator().manual_seed(11))]
    assert a == b


def test_generator_pickles_with_its_state():
    import pickle
    g = cgrad.Generator().manual_seed(3)
    h = pickle.loads(pickle.dumps(g))
    assert cgrad.rand(3, generator=h).tolist() == cgrad.rand(3, generator=g).tolist()


@requires_torch
@pytest.mark.parametrize("expr", [
    "lib.Generator().manual_seed(2 ** 64)",
    "lib.Generator().manual_seed(1.5)",
    "lib.Generator().manual_seed('a')",
    "lib.Generator().set_state(lib.zeros(3))",
    "lib.Generator().set_state([1])",
    "lib.manual_seed('a')",
    "lib.manual_seed(2 ** 64)",
    "lib.Generator(device='cuda')",
])
def test_generator_errors_match_torch(expr):
    check_same_error(expr)


def test_set_state_of_wrong_size():
    with pytest.raises(RuntimeError, match="^Expected a CPUGeneratorImplState of size 5056 but found the input "
                                           "RNG state size to be 3$"):
        cgrad.Generator().set_state(cgrad.zeros(3, dtype=cgrad.uint8))


def check_same_error(expr, **names):
    results = []
    for lib in (torch, cgrad):
        env = {"lib": lib, "T": lib.tensor, "g": lib.Generator(), **names}
        try:
            eval(expr, env)
            results.append(None)
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            results.append((type(e), str(e).replace("torch.", "cgrad.")))
    if expr.startswith("lib.Generator(device="):
        # torch's text names its missing CUDA library; both refuse with RuntimeError
        assert results[0][0] is results[1][0] is RuntimeError
        return
    assert results[0] is not None, f"torch accepted {expr}"
    assert results[1] == results[0], expr


# ---------------------------------------------------------------------------
# Shapes, dtypes and errors against torch

DTYPE_CASES = [
    "lib.randperm(5)", "lib.randperm(0)", "lib.randperm(5, dtype=lib.float32)", "lib.randperm(4, dtype=lib.float16)",
    "lib.randperm(256, dtype=lib.uint8)", "lib.randperm(3, dtype=lib.float32, requires_grad=True)",
    "lib.multinomial(T([0.1, 0.9]), 3, True)", "lib.multinomial(T([0.1, 0.9]), 2)",
    "lib.multinomial(T([[0.1, 0.9], [1., 0.]]), 1)", "lib.multinomial(T([0.1, 0.9], dtype=lib.float64), 5, True)",
    "lib.multinomial(T([1., 2.]).half(), 1)", "T([1., 2.]).multinomial(2)",
    "lib.bernoulli(T([0.5, 0.5]))", "lib.bernoulli(T([0.5, 0.5]), 0.3)", "lib.bernoulli(T([0.5, 0.5]), p=0.3)",
    "lib.bernoulli(T([0.5], dtype=lib.float64))", "lib.bernoulli(T([1, 0]), 0.5)", "lib.zeros(3).bernoulli()",
    "lib.zeros(3).bernoulli(0.5)", "lib.zeros(3, dtype=lib.int64).bernoulli_(0.5)",
    "lib.zeros(2, dtype=lib.int64).bernoulli_(T([0.5, 0.5]))",
    "lib.normal(T([0., 1.]), T([1., 2.]))", "lib.normal(T([0., 1.]), 2.)", "lib.normal(0., T([1., 2.]))",
    "lib.normal(0., 1., (2, 3))", "lib.normal(0., 1., size=(2, 3))", "lib.normal(0., 1., (2,), dtype=lib.float64)",
    "lib.normal(0, 1, (2,))", "lib.normal(T([[0., 1.]]), T([1., 2.]))",
    "lib.normal(T([0., 1.], dtype=lib.float64), T([1., 2.]))", "lib.normal(T([0., 1.]), T([1., 2.]).double())",
    "lib.normal(T([0., 1.]))", "lib.normal(mean=T([1.]), std=1.)", "lib.normal(mean=1., std=T([1.]))",
    "lib.normal(T([0., 1.]), T([1., 2., 3., 4.]).view(2, 2))",
    "lib.poisson(T([1., 2.]))", "lib.poisson(T([[1.]], dtype=lib.float64))",
    "lib.rand(2, 3, generator=g)", "lib.randn(2, generator=g, dtype=lib.float64)", "lib.randint(3, (2,), generator=g)",
    "lib.rand_like(T([1., 2.]))", "lib.randint_like(T([1., 2.]), 3, generator=g)",
    "lib.zeros(3).uniform_()", "lib.zeros(3).uniform_(2, 5)", "lib.zeros(3, dtype=lib.float64).normal_(1, 2)",
    "lib.zeros(3).random_()", "lib.zeros(3).random_(5)", "lib.zeros(3).random_(2, 5)",
    "lib.zeros(3, dtype=lib.uint8).random_()", "lib.zeros(3, dtype=lib.bool).random_()",
    "lib.zeros(3, dtype=lib.int64).random_()", "lib.zeros(3).random_(2, None)",
    "lib.zeros(3).exponential_()", "lib.zeros(3).exponential_(lambd=2)", "lib.zeros(3).geometric_(0.5)",
    "lib.zeros(3, dtype=lib.int64).geometric_(0.5)", "lib.zeros(3).log_normal_()", "lib.zeros(3).cauchy_()",
    "lib.zeros(2, 3).t().uniform_()",
]


@requires_torch
@pytest.mark.parametrize("expr", DTYPE_CASES)
def test_shapes_and_dtypes_match_torch(expr):
    got = {}
    for lib in (torch, cgrad):
        r = eval(expr, {"lib": lib, "T": lib.tensor, "g": lib.Generator().manual_seed(0)})
        got[lib.__name__] = (tuple(r.shape), str(r.dtype).split(".")[-1], r.requires_grad,
                             None if r.grad_fn is None else type(r.grad_fn).__name__)
    assert got["cgrad"] == got["torch"]


def test_values_lie_in_their_ranges():
    cgrad.manual_seed(0)
    assert sorted(cgrad.randperm(50).tolist()) == list(range(50))
    v = cgrad.zeros(1000).random_(2, 5)
    assert set(v.tolist()) == {2., 3., 4.}
    assert set(cgrad.zeros(1000, dtype=cgrad.bool).random_().tolist()) == {False, True}
    u8 = cgrad.zeros(5000, dtype=cgrad.uint8).random_()
    assert u8.min().item() >= 0 and u8.max().item() == 255
    i64 = cgrad.zeros(1000, dtype=cgrad.int64).random_()
    assert i64.min().item() >= 0 and i64.max().item() > 2 ** 60
    f = cgrad.zeros(1000).random_()
    assert f.min().item() >= 0 and f.max().item() <= 2 ** 24 and (f == f.round()).all().item()
    u = cgrad.zeros(1000).uniform_(-2, 3)
    assert u.min().item() >= -2 and u.max().item() < 3
    g = cgrad.zeros(1000, dtype=cgrad.int64).geometric_(0.3)
    assert g.min().item() >= 1
    # multinomial never picks a zero-weight category while others remain
    m = cgrad.multinomial(cgrad.tensor([[0., 1., 0., 2.]] * 50), 2)
    assert sorted(set(m.flatten().tolist())) == [1, 3]
    assert all(sorted(r) == [1, 3] for r in m.tolist())
    w = cgrad.multinomial(cgrad.tensor([0., 1., 0.]), 3)
    assert w[0].item() == 1 and sorted(w.tolist()) == [0, 1, 2]
    b = cgrad.bernoulli(cgrad.tensor([0., 1., 0., 1.]))
    assert b.tolist() == [0., 1., 0., 1.]


def test_in_place_samplers_record_history_like_torch():
    x = cgrad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place "
                                           "operation.$"):
        x.uniform_()
    y = x * 2
    y.normal_()
    assert type(y.grad_fn).__name__ == "NormalBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [0., 0., 0.]
    with cgrad.no_grad():
        w = cgrad.empty(2, 3, requires_grad=True)
        w.uniform_(-1, 1)
    assert w.requires_grad and w.grad_fn is None
    v = cgrad.zeros(3)
    version = v._version
    v.exponential_()
    assert v._version == version + 1


ERROR_CASES = [
    "lib.randperm(-1)", "lib.randperm(5.0)", "lib.randperm(3, dtype=lib.bool)",
    "lib.randperm(257, dtype=lib.uint8)", "lib.randperm(2 ** 12, dtype=lib.float16)",
    "lib.randperm(3, requires_grad=True)",
    "lib.multinomial(T([0.1, 0.9]), 3)", "lib.multinomial(T([1, 2]), 1)", "lib.multinomial(T([-0.1, 0.9]), 1)",
    "lib.multinomial(T([0., 0.]), 1)", "lib.multinomial(T([float('nan'), 0.]), 1)",
    "lib.multinomial(T([float('inf'), 0.]), 1)", "lib.multinomial(T(1.), 1)", "lib.multinomial(lib.ones(2, 2, 2), 1)",
    "lib.multinomial(T([0.1, 0.9]), 0)", "lib.multinomial(T([0.1, 0.9]), -1)", "lib.multinomial(lib.ones(0), 1)",
    "lib.multinomial(T([[0., 1., 0.], [0., 0., 0.]]), 1)", "lib.multinomial(T([0.1, 0.9]), 1.5)",
    "lib.bernoulli(T([1.5]))", "lib.bernoulli(T([1, 0]))", "lib.bernoulli(T([0.5, 0.5]), p=1.5)",
    "lib.zeros(3).bernoulli_(1.5)", "lib.zeros(3).bernoulli_(T([2., 1., 0.]))", "lib.zeros(2).bernoulli_(T([1, 0]))",
    "lib.zeros(2, 2).bernoulli_(T([0.5, 0.5, 0.5]))",
    "lib.normal(T([0., 1.]), T([-1., 2.]))", "lib.normal(0., -1., (2,))", "lib.normal(T([0., 1.]), T([1., 2., 3.]))",
    "lib.normal(T([0, 1]), T([1., 2.]))", "lib.normal(T([0, 1]), 1.)", "lib.normal(1., T([1, 1]))",
    "lib.normal(0., 1.)", "lib.normal(T([1.]), 1., (2,))",
    "lib.poisson(T([1, 2]))", "lib.poisson(T([-1.]))",
    "lib.randn(2, generator=1)", "lib.rand(generator=g)",
    "lib.rand_like(T([1, 2]))", "lib.randn_like(T([1, 2]))",
    "lib.zeros(3).uniform_(2, 1)", "lib.zeros(3, dtype=lib.int64).uniform_()",
    "lib.zeros(3).normal_(0, -1)", "lib.zeros(3).normal_(0, -0.5)", "lib.zeros(3, dtype=lib.int64).normal_()",
    "lib.zeros(3, dtype=lib.int8).random_(300)", "lib.zeros(3).random_(5, 2)", "lib.zeros(3).random_(0)",
    "lib.zeros(3).exponential_(-1)", "lib.zeros(3).exponential_(0)", "lib.zeros(3, dtype=lib.int64).exponential_()",
    "lib.zeros(3).geometric_(1.5)", "lib.zeros(3).geometric_(0)",
    "lib.zeros(3).log_normal_(1, -1)", "lib.zeros(3, dtype=lib.int64).log_normal_()",
    "lib.zeros(3).cauchy_(0, -1)", "lib.zeros(3).cauchy_(0, 0)", "lib.zeros(3, dtype=lib.int64).cauchy_()",
    "lib.zeros(3, dtype=lib.int32).cauchy_()",
    "lib.ones(3, requires_grad=True).uniform_()", "lib.ones(3, requires_grad=True).bernoulli_(0.5)",
]


@requires_torch
@pytest.mark.parametrize("expr", ERROR_CASES)
def test_errors_match_torch(expr):
    check_same_error(expr)


# ---------------------------------------------------------------------------
# Distributions, statistically (fixed seeds: the checks are deterministic)


@pytest.mark.parametrize("dtype", [cgrad.float32, cgrad.float64])
def test_continuous_moments(dtype):
    g = cgrad.Generator().manual_seed(2024)
    x = cgrad.empty(N, dtype=dtype)
    assert_mean_var(cgrad.rand(N, generator=g, dtype=dtype), 0.5, 1 / 12)
    assert_mean_var(cgrad.randn(N, generator=g, dtype=dtype), 0.0, 1.0)
    assert_mean_var(x.uniform_(-2, 4, generator=g), 1.0, 3.0)
    assert_mean_var(x.normal_(3, 0.5, generator=g), 3.0, 0.25)
    assert_mean_var(x.exponential_(4, generator=g), 0.25, 1 / 16)
    assert_mean_var(x.log_normal_(0.1, 0.4, generator=g), math.exp(0.1 + 0.08),
                    (math.exp(0.16) - 1) * math.exp(0.2 + 0.16))
    assert_mean_var(cgrad.normal(-1., 2., (N,), generator=g, dtype=dtype), -1.0, 4.0)
    # cauchy has no moments: its quartiles are median -+ sigma
    c = np.asarray(x.cauchy_(1.0, 2.0, generator=g).double().numpy())
    q1, q2, q3 = np.quantile(c, [0.25, 0.5, 0.75])
    assert abs(q2 - 1.0) < 0.05 and abs(q1 + 1.0) < 0.06 and abs(q3 - 3.0) < 0.06


def test_normal_overloads_moments():
    g = cgrad.Generator().manual_seed(1)
    mean = cgrad.tensor([-3., 0., 5.]).repeat(N // 3)
    std = cgrad.tensor([0.5, 1., 2.]).repeat(N // 3)
    t = cgrad.normal(mean, std, generator=g).view(-1, 3)
    for j, (m, s) in enumerate([(-3., 0.5), (0., 1.), (5., 2.)]):
        assert_mean_var(t[:, j].contiguous(), m, s * s)
    assert_mean_var(cgrad.normal(cgrad.full((N,), 2.), 3., generator=g), 2.0, 9.0)
    assert_mean_var(cgrad.normal(-2., cgrad.full((N,), 0.5), generator=g), -2.0, 0.25)


def test_discrete_moments():
    g = cgrad.Generator().manual_seed(99)
    assert_mean_var(cgrad.zeros(N).geometric_(0.25, generator=g), 4.0, 0.75 / 0.0625)
    assert_mean_var(cgrad.poisson(cgrad.full((N,), 3.5), generator=g), 3.5, 3.5)
    assert_mean_var(cgrad.bernoulli(cgrad.full((N,), 0.3), generator=g), 0.3, 0.21)
    assert_mean_var(cgrad.zeros(N).bernoulli_(0.7, generator=g), 0.7, 0.21)
    assert_mean_var(cgrad.empty(N).bernoulli_(cgrad.tensor(0.2), generator=g), 0.2, 0.16)
    assert_mean_var(cgrad.zeros(N).random_(10, generator=g), 4.5, (100 - 1) / 12)
    assert_mean_var(cgrad.randint(-5, 5, (N,), generator=g), -0.5, (100 - 1) / 12)
    assert_mean_var(cgrad.randint_like(cgrad.zeros(N), 0, 4, generator=g), 1.5, (16 - 1) / 12)


def test_multinomial_frequencies():
    g = cgrad.Generator().manual_seed(5)
    p = np.array([0.1, 0.2, 0.3, 0.4])
    s = cgrad.multinomial(cgrad.tensor(p * 7), N, replacement=True, generator=g)
    freq = np.bincount(s.numpy(), minlength=4) / N
    assert np.all(np.abs(freq - p) <= 6 * np.sqrt(p * (1 - p) / N))
    # 2-D: each row its own distribution
    rows = cgrad.tensor([[1., 0., 0.], [0., 0., 3.]])
    assert cgrad.multinomial(rows, 5, True, generator=g).tolist() == [[0] * 5, [2] * 5]
    # without replacement, the first draw follows p; a row never repeats an index
    draws = cgrad.multinomial(cgrad.tensor(p).expand(N // 4, 4).contiguous(), 2, generator=g)
    first = np.bincount(draws[:, 0].numpy(), minlength=4) / (N // 4)
    assert np.all(np.abs(first - p) <= 6 * np.sqrt(p * (1 - p) / (N // 4)))
    assert (draws[:, 0] != draws[:, 1]).all().item()


def test_randperm_is_uniform():
    g = cgrad.Generator().manual_seed(3)
    first = np.array([cgrad.randperm(4, generator=g)[0].item() for _ in range(4000)])
    freq = np.bincount(first, minlength=4) / 4000
    assert np.all(np.abs(freq - 0.25) <= 6 * math.sqrt(0.25 * 0.75 / 4000))


def test_random_module_and_fork_rng():
    assert cgrad.random.manual_seed(4) is cgrad.default_generator
    assert cgrad.random.initial_seed() == 4
    before = cgrad.rand(1).item()
    cgrad.random.manual_seed(4)
    with cgrad.random.fork_rng():
        cgrad.rand(10)
    assert cgrad.rand(1).item() == before
    with cgrad.random.fork_rng(enabled=False):
        cgrad.rand(1)
    assert cgrad.random.get_rng_state().dtype == cgrad.uint8
