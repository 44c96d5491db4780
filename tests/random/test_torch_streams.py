"""cgrad's random stream is PyTorch's: after the same seed every sampler
gives torch's CPU values bit for bit (MT19937, ATen's transformations and
draw order), a sequence of calls leaves both generators in the same state,
and states move between the two libraries. A short training script (init,
dropout, DataLoader shuffle, SGD) then gives torch's losses."""
import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch

pytestmark = requires_torch

SEEDS = (0, 1, 42, 2 ** 40 + 3)
FLOATS = ("float32", "float64", "float16")
SIZES = (1, 3, 15, 16, 17, 100, 1001)


def _arrays(out):
    out = out if isinstance(out, (list, tuple)) else [out]
    return [o.detach().numpy() if hasattr(o, "detach") else np.asarray(o) for o in out]


def assert_same_stream(fn, seeds=SEEDS):
    """fn(lib) run after lib.manual_seed(s) gives identical arrays (value,
    dtype, shape) for torch and cgrad, and leaves identical states."""
    for s in seeds:
        torch.manual_seed(s)
        cgrad.manual_seed(s)
        expected, actual = _arrays(fn(torch)), _arrays(fn(cgrad))
        assert len(expected) == len(actual)
        for e, a in zip(expected, actual):
            assert e.dtype == a.dtype and e.shape == a.shape, (s, e.dtype, a.dtype, e.shape, a.shape)
            np.testing.assert_array_equal(a, e, err_msg=f"seed {s}")
        np.testing.assert_array_equal(cgrad.get_rng_state().numpy(), torch.get_rng_state().numpy())


def test_raw_engine_is_mt19937():
    # numpy's legacy RandomState is the same 32-bit MT19937 seeded by init_genrand
    words = np.random.RandomState(7)._bit_generator.random_raw(4)
    cgrad.manual_seed(7)
    got = cgrad.empty(2, dtype=cgrad.int64).random_(0, 2 ** 32)   # random64 % 2^32: the low words
    assert got.tolist() == [int(words[1]), int(words[3])]


def test_brief_reference_values():
    cgrad.manual_seed(0)
    assert cgrad.randn(3, dtype=cgrad.float64).tolist() == [1.5409961082440433, -0.2934289057609464,
                                                            -2.1787893820745574]
    cgrad.manual_seed(0)
    assert cgrad.empty(20).bernoulli_(0.3).tolist() == [0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0]
    cgrad.manual_seed(0)
    assert cgrad.bernoulli(cgrad.full((20,), 0.3)).tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0,
                                                               0, 0, 1, 1]
    cgrad.manual_seed(0)
    assert cgrad.nn.functional.dropout(cgrad.ones(20), 0.5).tolist() == [0, 0, 2, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 0,
                                                                         2, 2, 2, 2, 0, 0]
    cgrad.manual_seed(0)
    assert cgrad.randperm(10).tolist() == [4, 1, 7, 5, 3, 9, 0, 8, 6, 2]
    assert cgrad.randint(0, 10, (5,)).tolist() == [3, 1, 6, 6, 9]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_rand_randn(dtype, n):
    assert_same_stream(lambda L: [L.rand(n, dtype=getattr(L, dtype)), L.randn(n, dtype=getattr(L, dtype)),
                                  L.randn(3, dtype=getattr(L, dtype)), L.rand(2, n, dtype=getattr(L, dtype))])


@pytest.mark.parametrize("dtype", FLOATS)
def test_in_place_samplers(dtype):
    def draws(L):
        dt = getattr(L, dtype)
        return [L.empty(7, 9, dtype=dt).uniform_(-0.37, 1.21), L.empty(7, 9, dtype=dt).normal_(0.3, 0.71),
                L.empty(5, dtype=dt).normal_(-1.5, 2.3), L.empty(9, 7, dtype=dt).t().normal_(0.3, 0.71),
                L.empty(9, 7, dtype=dt).t().uniform_(0.3, 0.71), L.empty(50, dtype=dt).exponential_(1.7),
                L.empty(50, dtype=dt).cauchy_(0.2, 1.7), L.empty(50, dtype=dt).log_normal_(0.2, 0.7),
                L.empty(50, dtype=dt).geometric_(0.3), L.empty(50, dtype=dt).bernoulli_(0.3),
                L.bernoulli(L.rand(5, 11, dtype=dt)), L.empty(50, dtype=dt).random_(),
                L.empty(5, dtype=dt).random_(3, 100), L.empty(5, dtype=dt).random_(100)]
    assert_same_stream(draws)


@pytest.mark.parametrize("dtype", ("int64", "int32", "int16", "int8", "uint8", "bool"))
def test_integer_draws(dtype):
    assert_same_stream(lambda L: [L.empty(50, dtype=getattr(L, dtype)).random_(),
                                  L.empty(5, dtype=getattr(L, dtype)).random_(0, 2),
                                  L.randint(0, 2, (10,), dtype=getattr(L, dtype)),
                                  L.randint_like(L.zeros(3, 4, dtype=getattr(L, dtype)), 2)])


def test_randint_ranges_and_random_bounds():
    # below 2^28 one 32-bit word per draw, from 2^28 on a 64-bit one
    assert_same_stream(lambda L: [L.randint(-2 ** 40, 2 ** 40, (20,)), L.randint(3, 10, (5, 4)),
                                  L.randint(10, (3,)), L.randint(0, 2 ** 28 - 1, (4,)),
                                  L.randint(0, 2 ** 28, (4,)), L.randint(0, 2 ** 31, (4,), dtype=L.int32),
                                  L.empty(9, dtype=L.int64).random_(5, None),
                                  L.empty(9, dtype=L.int32).random_(-5, None),
                                  L.empty(9, dtype=L.int64).random_(-2 ** 63, None),
                                  L.empty(4, 5, dtype=L.int64).t().random_(0, 1000)])


def test_randperm_and_multinomial():
    assert_same_stream(lambda L: [L.randperm(10), L.randperm(1000), L.randperm(5, dtype=L.float32),
                                  L.randperm(7, generator=L.Generator().manual_seed(5)),
                                  L.multinomial(L.tensor([0.1, 0.2, 0.3, 0.4]), 3),
                                  L.multinomial(L.tensor([[0.1, 0.2, 0.3, 0.4], [1, 1, 1, 1.]]), 10, True),
                                  L.multinomial(L.rand(3, 5, dtype=L.float64), 1),
                                  L.multinomial(L.rand(3, 50), 20)])


def test_normal_overloads_and_likes():
    assert_same_stream(lambda L: [L.normal(L.arange(20.), L.full((20,), 0.3)), L.normal(L.arange(5.), 0.7),
                                  L.normal(0.5, L.full((3, 7), 0.3)), L.normal(0.2, 0.4, (30,)),
                                  L.normal(L.zeros(40, dtype=L.float64), L.rand(40, dtype=L.float64)),
                                  L.randn_like(L.zeros(4, 5)), L.rand_like(L.zeros(3, 2, dtype=L.float64)),
                                  L.randint_like(L.zeros(5), 10), L.randn(4, 5, out=L.empty(4, 5))])


def test_bernoulli_forms():
    assert_same_stream(lambda L: [L.bernoulli(L.rand(40, dtype=L.float64)), L.bernoulli(L.zeros(30), 0.4),
                                  L.zeros(3, 4).bernoulli_(L.rand(4)), L.zeros(6, dtype=L.int64).bernoulli_(0.5),
                                  L.zeros(3, 8).bernoulli_(L.rand(3, 8, dtype=L.float64))])


def test_poisson():
    assert_same_stream(lambda L: [L.poisson(L.full((10,), 3.0)), L.poisson(L.rand(30) * 40),
                                  L.poisson(L.rand(30, dtype=L.float64) * 40), L.poisson(L.zeros(3))])


def test_dropout_family():
    def draws(L):
        f = L.nn.functional
        return [f.dropout(L.ones(20), 0.5), f.dropout(L.ones(4, 60), 0.3), f.dropout(L.ones(6, 5).t(), 0.5),
                f.dropout(L.ones(4, 60, dtype=L.float64), 0.2), f.dropout1d(L.ones(2, 8, 3), 0.5),
                f.dropout2d(L.ones(2, 8, 3, 3), 0.5), f.dropout3d(L.ones(2, 4, 2, 2, 2), 0.5),
                f.alpha_dropout(L.ones(40), 0.5, True), f.feature_alpha_dropout(L.ones(2, 8, 3), 0.5, True),
                L.nn.Dropout(0.25)(L.ones(3, 30)), f.rrelu(-L.ones(20), training=True),
                f.rrelu(L.randn(30, dtype=L.float64), 0.1, 0.6, training=True)]
    assert_same_stream(draws)


def test_nn_init_and_modules():
    def draws(L):
        init = L.nn.init
        return [L.nn.Linear(7, 5).weight, L.nn.Linear(7, 5).bias, L.nn.Conv2d(3, 4, 3).weight,
                init.xavier_normal_(L.empty(4, 6)), init.xavier_uniform_(L.empty(4, 6)),
                init.kaiming_normal_(L.empty(20, 30)), init.kaiming_uniform_(L.empty(20, 30)),
                init.trunc_normal_(L.empty(30), std=0.2), init.trunc_normal_(L.empty(30), a=1.0, b=3.0),
                init.normal_(L.empty(17), 0.1, 0.2), init.uniform_(L.empty(17), -1, 1),
                init.sparse_(L.empty(6, 4), 0.5), L.nn.Embedding(5, 3).weight, L.nn.LSTM(3, 4).weight_ih_l0]
    assert_same_stream(draws)


def test_explicit_generator_and_sequences():
    def draws(L):
        g = L.Generator().manual_seed(3)
        return [L.rand(5, generator=g), L.randn(20, generator=g), L.randn(3, generator=g),
                L.randint(0, 7, (6,), generator=g), L.randperm(9, generator=g),
                L.empty(8).normal_(generator=g), L.empty(8).bernoulli_(0.5, generator=g),
                g.get_state(), L.rand(4), L.Generator().initial_seed()]
    assert_same_stream(draws)


def test_states_move_between_torch_and_cgrad():
    torch.manual_seed(11)
    torch.randn(3, dtype=torch.float64)          # leaves a cached normal in the state
    state = torch.get_rng_state()
    cgrad.set_rng_state(cgrad.from_numpy(state.numpy().copy()))
    np.testing.assert_array_equal(cgrad.randn(5, dtype=cgrad.float64).numpy(),
                                  torch.randn(5, dtype=torch.float64).numpy())
    saved = cgrad.get_rng_state()
    a = cgrad.rand(30)
    torch.set_rng_state(torch.from_numpy(saved.numpy().copy()))
    np.testing.assert_array_equal(a.numpy(), torch.rand(30).numpy())
    cgrad.set_rng_state(saved)
    np.testing.assert_array_equal(cgrad.rand(30).numpy(), a.numpy())
    assert saved.numel() == torch.get_rng_state().numel() == 5056


def test_set_state_errors_match_torch():
    for bad, kind in ((cgrad.zeros(5, dtype=cgrad.uint8), RuntimeError), (cgrad.zeros(5056), TypeError)):
        with pytest.raises(kind) as got:
            cgrad.set_rng_state(bad)
        with pytest.raises(kind) as want:
            torch.set_rng_state(torch.from_numpy(bad.numpy()))
        assert str(got.value) == str(want.value).replace("torch.", "cgrad.")
    with pytest.raises(RuntimeError, match="Invalid mt19937 state"):
        cgrad.set_rng_state(cgrad.zeros(5056, dtype=cgrad.uint8))


def test_threads_do_not_change_draws():
    threads = cgrad.get_num_threads()
    try:
        cgrad.set_num_threads(1)
        cgrad.manual_seed(5)
        one = [cgrad.randn(100000), cgrad.empty(100000).bernoulli_(0.3), cgrad.randperm(5000)]
        cgrad.set_num_threads(max(threads, 2))
        cgrad.manual_seed(5)
        many = [cgrad.randn(100000), cgrad.empty(100000).bernoulli_(0.3), cgrad.randperm(5000)]
    finally:
        cgrad.set_num_threads(threads)
    for a, b in zip(one, many):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def _train(L, seed):
    """Seed, an MLP with dropout, DataLoader(shuffle=True) over a tiny
    dataset, 2 epochs of SGD: the list of losses."""
    L.manual_seed(seed)
    xs = L.randn(24, 5)
    ys = L.randint(0, 3, (24,))
    data = L.utils.data.TensorDataset(xs, ys)
    loader = L.utils.data.DataLoader(data, batch_size=6, shuffle=True)
    model = L.nn.Sequential(L.nn.Linear(5, 16), L.nn.ReLU(), L.nn.Dropout(0.3), L.nn.Linear(16, 3))
    opt = L.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(2):
        for xb, yb in loader:
            opt.zero_grad()
            loss = L.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


@pytest.mark.parametrize("seed", (0, 7))
def test_training_script_losses_match_torch(seed):
    expected = _train(torch, seed)
    actual = _train(cgrad, seed)
    assert len(actual) == len(expected) == 8
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


def test_standard_gamma_and_gamma_sample():
    alphas = [0.3, 0.9, 1.0, 2.5, 7.0, 0.05, 30.0] * 5
    assert_same_stream(lambda L: [L.distributions.Gamma(L.tensor(alphas, dtype=L.float64), 1.5).sample(),
                                  L.distributions.Gamma(L.tensor(alphas), 2.0).sample((3,)),
                                  L.distributions.Chi2(L.tensor([1.0, 3.0, 9.0])).sample((4,))])


def test_distribution_samples():
    # (LogNormal and Laplace draw the same uniforms/normals, then transform them with float32 exp /
    # log1p, whose last bit may differ from torch's vectorised ones: left out)
    def draws(L):
        d = L.distributions
        return [d.Normal(L.zeros(20), L.ones(20) * 0.5).sample(), d.Normal(0.0, 1.0).sample((3,)),
                d.Normal(L.zeros(5), 1.0).rsample((4,)), d.Uniform(L.zeros(6), L.ones(6) * 3).sample((2,)),
                d.Bernoulli(probs=L.rand(12)).sample(), d.Exponential(L.ones(9) * 2).sample(),
                d.Categorical(probs=L.tensor([0.2, 0.3, 0.5])).sample((7,)), d.Poisson(L.ones(8) * 4).sample(),
                d.Cauchy(0.0, 1.0).sample((5,)),
                d.Geometric(probs=L.tensor([0.3, 0.6])).sample((4,)),
                d.MultivariateNormal(L.zeros(3), L.eye(3)).sample((2,))]
    assert_same_stream(draws)


def test_dirichlet_and_beta_samples():
    conc = [[0.5, 2.0, 3.0, 0.1], [1, 1, 1, 1.0]]
    assert_same_stream(lambda L: [L.distributions.Dirichlet(L.tensor([0.5, 2.0, 3.0])).sample((4,)),
                                  L.distributions.Beta(L.tensor([0.5, 2.0]), L.tensor([1.5, 3.0])).sample(),
                                  L.distributions.Dirichlet(L.tensor(conc, dtype=L.float64)).rsample().detach()],
                      seeds=range(12))
