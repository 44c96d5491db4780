"""cgrad.distributions against torch.distributions: shapes, moments,
log_prob, entropy, cdf, KL divergences and their gradients from the same
parameters; validation errors with torch's texts; rsample's distribution
and its gradients (implicit reparameterisation for Gamma, Beta and
Dirichlet) checked against closed-form moments with fixed seeds."""
import math

import numpy as np
import pytest

import cgrad
import cgrad.distributions as D
from cgrad.distributions import constraints
from cgrad.distributions.gamma import _standard_gamma_grad
from helpers import assert_close_to_torch, requires_torch, torch

RNG = np.random.default_rng(1234)
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]])
BATCH_COV = np.stack([COV, COV * 0.5 + np.eye(3) * 0.3])


def params():
    """name -> (constructor(lib, *tensors), parameter arrays, values to score)."""
    probs = np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])
    return {
        "Normal": (lambda d, a, b: d.Normal(a, b), [np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 2.5])],
                   np.array([[0.3, 1.0, -1.0], [2.0, -0.5, 0.0]])),
        "Uniform": (lambda d, a, b: d.Uniform(a, b), [np.array([0.0, -1.0]), np.array([2.0, 3.0])],
                    np.array([[0.5, 2.5], [1.9, -0.9]])),
        "Bernoulli": (lambda d, p: d.Bernoulli(probs=p), [np.array([0.2, 0.7, 0.5])],
                      np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])),
        "BernoulliLogits": (lambda d, l: d.Bernoulli(logits=l), [np.array([-1.2, 0.3, 2.0])],
                            np.array([[0.0, 1.0, 1.0]])),
        "Categorical": (lambda d, p: d.Categorical(probs=p), [probs], np.array([[2.0, 0.0], [1.0, 2.0]])),
        "CategoricalLogits": (lambda d, l: d.Categorical(logits=l), [np.log(probs) + 0.7],
                              np.array([2.0, 1.0])),
        "OneHotCategorical": (lambda d, p: d.OneHotCategorical(probs=p), [probs],
                              np.array([[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])),
        "Gamma": (lambda d, a, b: d.Gamma(a, b), [np.array([0.5, 2.0, 9.0]), np.array([1.0, 0.5, 3.0])],
                  np.array([[0.3, 2.0, 4.0], [1e-3, 7.0, 0.5]])),
        "Beta": (lambda d, a, b: d.Beta(a, b), [np.array([0.5, 2.0, 5.0]), np.array([1.5, 2.0, 0.7])],
                 np.array([[0.3, 0.5, 0.9], [0.01, 0.99, 0.5]])),
        "Dirichlet": (lambda d, c: d.Dirichlet(c), [np.array([[0.5, 1.0, 2.0], [3.0, 4.0, 0.8]])],
                      np.array([[0.2, 0.3, 0.5], [0.6, 0.1, 0.3]])),
        "MultivariateNormalCov": (lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c),
                                  [np.array([0.5, -1.0, 2.0]), COV], np.array([[0.0, 0.0, 0.0], [1.0, -1.0, 3.0]])),
        "MultivariateNormalBatch": (lambda d, m, c: d.MultivariateNormal(m, covariance_matrix=c),
                                    [np.array([0.5, -1.0, 2.0]), BATCH_COV],
                                    np.array([[[0.0, 0.0, 0.0]], [[1.0, -1.0, 3.0]]])),
        "MultivariateNormalTril": (lambda d, m, l: d.MultivariateNormal(m, scale_tril=l),
                                   [np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]), np.linalg.cholesky(COV)],
                                   np.array([1.0, 2.0, 3.0])),
        "MultivariateNormalPrecision": (lambda d, m, p: d.MultivariateNormal(m, precision_matrix=p),
                                        [np.array([0.5, -1.0, 2.0]), np.linalg.inv(COV)],
                                        np.array([1.0, 2.0, 3.0])),
    }


def build(lib, name, requires_grad=False):
    ctor, arrays, value = params()[name]
    tensors = [lib.tensor(a, requires_grad=requires_grad) for a in arrays]
    dist = ctor(lib.distributions, *tensors)
    return dist, tensors, lib.tensor(value)


close = assert_close_to_torch


NAMES = list(params())


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_shapes_moments_log_prob_entropy_match_torch(name):
    dc, _, vc = build(cgrad, name)
    dt, _, vt = build(torch, name)
    assert tuple(dc.batch_shape) == tuple(dt.batch_shape) and tuple(dc.event_shape) == tuple(dt.event_shape)
    assert dc.has_rsample == dt.has_rsample and dc.has_enumerate_support == dt.has_enumerate_support
    assert repr(dc.support).replace("cgrad.", "torch.") == repr(dt.support)
    assert repr(dc).replace("cgrad.", "torch.") == repr(dt)
    for attr in ("mean", "variance", "stddev", "mode"):
        close(getattr(dc, attr), getattr(dt, attr), f"{name}.{attr}")
    close(dc.entropy(), dt.entropy(), f"{name}.entropy")
    close(dc.perplexity(), dt.perplexity(), f"{name}.perplexity")
    close(dc.log_prob(vc), dt.log_prob(vt), f"{name}.log_prob")
    assert dc.log_prob(vc).dtype == cgrad.float64
    for shape in ((), (4,), (2, 3)):
        assert tuple(dc.sample(shape).shape) == tuple(dt.sample(shape).shape)
        if dc.has_rsample:
            assert tuple(dc.rsample(shape).shape) == tuple(dt.rsample(shape).shape)
    if dc.has_enumerate_support:
        close(dc.enumerate_support(), dt.enumerate_support(), f"{name}.enumerate_support")
        close(dc.enumerate_support(expand=False), dt.enumerate_support(expand=False), name)
    expanded_c = dc.expand((2,) + tuple(dc.batch_shape))
    expanded_t = dt.expand((2,) + tuple(dt.batch_shape))
    assert tuple(expanded_c.batch_shape) == tuple(expanded_t.batch_shape)
    close(expanded_c.log_prob(vc), expanded_t.log_prob(vt), f"{name}.expand.log_prob")


@requires_torch
@pytest.mark.parametrize("name", NAMES)
def test_gradients_of_log_prob_and_entropy_match_torch(name):
    dc, pc, vc = build(cgrad, name, requires_grad=True)
    dt, pt, vt = build(torch, name, requires_grad=True)
    (dc.log_prob(vc).sum() + dc.entropy().sum() * 0.5).backward()
    (dt.log_prob(vt).sum() + dt.entropy().sum() * 0.5).backward()
    for k, (a, b) in enumerate(zip(pc, pt)):
        close(a.grad, b.grad, f"{name} grad of parameter {k}", rtol=1e-7, atol=1e-9)


@requires_torch
def test_cdf_and_icdf_match_torch():
    for name in ("Normal", "Uniform"):
        dc, _, vc = build(cgrad, name)
        dt, _, vt = build(torch, name)
        close(dc.cdf(vc), dt.cdf(vt), f"{name}.cdf")
        q = np.array([0.1, 0.5, 0.9])[: dc.batch_shape[0]]
        close(dc.icdf(cgrad.tensor(q)), dt.icdf(torch.tensor(q)), f"{name}.icdf")


KL_PAIRS = [("Normal", "Normal"), ("Bernoulli", "Bernoulli"), ("Bernoulli", "BernoulliLogits"),
            ("Categorical", "CategoricalLogits"), ("OneHotCategorical", "OneHotCategorical"),
            ("Gamma", "Gamma"), ("Beta", "Beta"), ("Dirichlet", "Dirichlet"), ("Uniform", "Uniform"),
            ("MultivariateNormalCov", "MultivariateNormalTril"), ("MultivariateNormalBatch", "MultivariateNormalCov"),
            ("MultivariateNormalPrecision", "MultivariateNormalCov")]
# cross-family pairs torch registers among these distributions, with parameters of matching batch shape
CROSS = {
    "Beta": (lambda d, a, b: d.Beta(a, b), [np.array([0.5, 2.0, 5.0]), np.array([1.5, 2.0, 0.7])]),
    "Gamma": (lambda d, a, b: d.Gamma(a, b), [np.array([0.5, 2.0, 9.0]), np.array([1.0, 0.5, 3.0])]),
    "Normal": (lambda d, a, b: d.Normal(a, b), [np.array([0.0, 1.5, -2.0]), np.array([1.0, 0.5, 2.5])]),
    "Uniform": (lambda d, a, b: d.Uniform(a, b), [np.array([0.1, -1.0, 0.0]), np.array([0.6, 3.0, 1.0])]),
}
CROSS_PAIRS = [("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"), ("Gamma", "Beta"), ("Gamma", "Normal"),
               ("Gamma", "Uniform"), ("Normal", "Beta"), ("Normal", "Gamma"), ("Normal", "Uniform"),
               ("Uniform", "Beta"), ("Uniform", "Gamma"), ("Uniform", "Normal")]


@requires_torch
@pytest.mark.parametrize("p_name,q_name", KL_PAIRS)
def test_kl_divergence_and_its_gradient_match_torch(p_name, q_name):
    pc, ppc, _ = build(cgrad, p_name, requires_grad=True)
    qc, pqc, _ = build(cgrad, q_name, requires_grad=True)
    pt, ppt, _ = build(torch, p_name, requires_grad=True)
    qt, pqt, _ = build(torch, q_name, requires_grad=True)
    kc, kt = D.kl_divergence(pc, qc), torch.distributions.kl_divergence(pt, qt)
    close(kc, kt, f"KL({p_name} || {q_name})")
    if kt.requires_grad:
        kc.sum().backward()
        kt.sum().backward()
        for a, b in zip(ppc + pqc, ppt + pqt):
            close(a.grad, b.grad, f"grad of KL({p_name} || {q_name})", rtol=1e-7, atol=1e-9)


@requires_torch
@pytest.mark.parametrize("p_name,q_name", CROSS_PAIRS)
def test_cross_family_kl_matches_torch(p_name, q_name):
    def make(lib, name):
        ctor, arrays = CROSS[name]
        return ctor(lib.distributions, *[lib.tensor(a) for a in arrays])
    close(D.kl_divergence(make(cgrad, p_name), make(cgrad, q_name)),
          torch.distributions.kl_divergence(make(torch, p_name), make(torch, q_name)),
          f"KL({p_name} || {q_name})")


@requires_torch
def test_kl_infinities_and_unregistered_pairs():
    pc, qc = D.Uniform(cgrad.tensor([0.0, 0.0]), cgrad.tensor([1.0, 2.0])), D.Uniform(0.0, cgrad.tensor([1.5, 1.5]))
    pt, qt = torch.distributions.Uniform(torch.tensor([0.0, 0.0]), torch.tensor([1.0, 2.0])), \
        torch.distributions.Uniform(0.0, torch.tensor([1.5, 1.5]))
    close(D.kl_divergence(pc, qc), torch.distributions.kl_divergence(pt, qt), "uniform inf")
    bc = D.Bernoulli(probs=cgrad.tensor([0.0, 1.0, 0.5]))
    qb = D.Bernoulli(probs=cgrad.tensor([0.5, 0.0, 1.0]))
    bt = torch.distributions.Bernoulli(probs=torch.tensor([0.0, 1.0, 0.5]))
    qbt = torch.distributions.Bernoulli(probs=torch.tensor([0.5, 0.0, 1.0]))
    close(D.kl_divergence(bc, qb), torch.distributions.kl_divergence(bt, qbt), "bernoulli inf")
    with pytest.raises(NotImplementedError) as ec:
        D.kl_divergence(D.Categorical(probs=cgrad.ones(3)), D.Normal(0.0, 1.0))
    with pytest.raises(NotImplementedError) as et:
        torch.distributions.kl_divergence(torch.distributions.Categorical(probs=torch.ones(3)),
                                          torch.distributions.Normal(0.0, 1.0))
    assert str(ec.value) == str(et.value)


def test_register_kl_takes_the_most_specific_match():
    class MyNormal(D.Normal):
        pass

    @D.register_kl(MyNormal, D.Normal)
    def _kl_mine(p, q):
        return cgrad.tensor(42.0)

    try:
        assert D.kl_divergence(MyNormal(0.0, 1.0), D.Normal(0.0, 2.0)).item() == 42.0
        assert D.kl_divergence(D.Normal(0.0, 1.0), MyNormal(0.0, 1.0)).item() == 0.0
    finally:
        from cgrad.distributions import kl
        del kl._KL_REGISTRY[MyNormal, D.Normal]
        kl._KL_MEMOIZE.clear()


# --- validation ---------------------------------------------------------------------------

def _errors(fn):
    out = []
    for lib in (cgrad, torch):
        with pytest.raises((ValueError, RuntimeError, NotImplementedError)) as e:
            fn(lib)
        out.append((type(e.value), str(e.value).replace("torch.", "cgrad.")))
    return out


@requires_torch
@pytest.mark.parametrize("case", [
    lambda lib: lib.distributions.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0])),
    lambda lib: lib.distributions.Normal(0.0, 1.0).log_prob(0.5),
    lambda lib: lib.distributions.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    lambda lib: lib.distributions.Gamma(lib.tensor([1.0]), lib.tensor([1.0])).log_prob(lib.tensor([-1.0])),
    lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([1.5])),
    lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([0.5])).log_prob(lib.tensor([0.5])),
    lambda lib: lib.distributions.Bernoulli(),
    lambda lib: lib.distributions.Bernoulli(probs=lib.tensor([0.5]), logits=lib.tensor([0.0])),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor(0.5)),
    lambda lib: lib.distributions.Categorical(logits=lib.tensor(0.5)),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, -0.5, 1.0])),
    lambda lib: lib.distributions.Categorical(probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([2])),
    lambda lib: lib.distributions.Uniform(lib.tensor([1.0]), lib.tensor([0.0])),
    lambda lib: lib.distributions.Uniform(0.0, 1.0).log_prob(lib.tensor(1.5)),
    lambda lib: lib.distributions.Dirichlet(lib.tensor(1.0)),
    lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, 0.0])),
    lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, 2.0])).log_prob(lib.tensor([0.5, 0.6])),
    lambda lib: lib.distributions.Dirichlet(lib.tensor([1.0, 2.0])).log_prob(lib.tensor([0.5, 0.3, 0.2])),
    lambda lib: lib.distributions.Beta(lib.tensor([1.0]), lib.tensor([-2.0])),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.tensor(0.0), lib.eye(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.tensor([[1.0, 1.0], [0.0, 1.0]])),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), scale_tril=lib.ones(2)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(2), lib.eye(2)).log_prob(lib.zeros(2, 3)),
    lambda lib: lib.distributions.MultivariateNormal(lib.zeros(3, 2), lib.eye(2)).log_prob(lib.zeros(4, 2)),
    lambda lib: lib.distributions.OneHotCategorical(probs=lib.tensor([0.5, 0.5])).log_prob(lib.tensor([1., 1.])),
])
def test_validation_errors_match_torch(case):
    (tc, mc), (tt, mt) = _errors(case)
    assert tc is tt and mc == mt


@requires_torch
def test_validate_args_false_skips_checks():
    for lib in (cgrad, torch):
        d = lib.distributions.Normal(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=False)
        assert math.isnan(d.log_prob(lib.tensor([0.0])).item())
        assert lib.distributions.Uniform(0.0, 1.0, validate_args=False).log_prob(lib.tensor(2.0)).item() == -math.inf


@requires_torch
def test_constraints_match_torch():
    x = np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, float("nan")]])
    names = ["real", "positive", "nonnegative", "unit_interval", "boolean", "nonnegative_integer",
             "positive_integer", "simplex", "real_vector", "one_hot"]
    for name in names:
        cc, ct = getattr(constraints, name), getattr(torch.distributions.constraints, name)
        assert repr(cc) == repr(ct) and cc.event_dim == ct.event_dim and cc.is_discrete == ct.is_discrete
        close(cc.check(cgrad.tensor(x)), ct.check(torch.tensor(x)), name)
    for make in (lambda c: c.interval(0.0, 1.0), lambda c: c.half_open_interval(0.0, 1.0),
                 lambda c: c.greater_than(0.5), lambda c: c.greater_than_eq(0.5), lambda c: c.less_than(0.5),
                 lambda c: c.integer_interval(0, 1), lambda c: c.independent(c.positive, 1)):
        cc, ct = make(constraints), make(torch.distributions.constraints)
        assert repr(cc) == repr(ct)
        close(cc.check(cgrad.tensor(x)), ct.check(torch.tensor(x)), repr(cc))
    mats = np.stack([COV, np.linalg.cholesky(COV), -COV, np.array([[1.0, 2.0, 0], [2.0, 1.0, 0], [0, 0, 1.0]])])
    for name in ("lower_cholesky", "lower_triangular", "positive_definite", "positive_semidefinite",
                 "symmetric", "square"):
        cc, ct = getattr(constraints, name), getattr(torch.distributions.constraints, name)
        close(cc.check(cgrad.tensor(mats)), ct.check(torch.tensor(mats)), name)
    assert constraints.is_dependent(constraints.dependent) and not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="Cannot determine validity of dependent constraint"):
        constraints.dependent.check(cgrad.zeros(1))
    assert repr(D.Uniform(0.0, 2.0).support) == "Interval(lower_bound=0.0, upper_bound=2.0)"
    assert repr(D.Categorical(probs=cgrad.ones(4)).support) == "IntegerInterval(lower_bound=0, upper_bound=3)"


# --- sampling ---------------------------------------------------------------------------------

N = 40_000


def _mean_tol(var, n=N, sigmas=5.0):
    """A 5-sigma bound for a sample mean (fixed seeds make the check deterministic)."""
    return sigmas * np.sqrt(np.asarray(var) / n)


@pytest.mark.parametrize("name", ["Normal", "Uniform", "Bernoulli", "Gamma", "Beta", "Dirichlet",
                                  "MultivariateNormalCov", "OneHotCategorical"])
def test_sample_moments(name):
    cgrad.manual_seed(0)
    dist, _, _ = build(cgrad, name)
    s = dist.sample((N,)).numpy().astype(np.float64)
    mean, var = dist.mean.numpy(), dist.variance.numpy()
    assert np.all(np.abs(s.mean(0) - mean) < _mean_tol(var)), name
    np.testing.assert_allclose(s.var(0), var, rtol=0.06, err_msg=name)
    support = dist.support.check(dist.sample((100,)))
    assert bool(support.all())


def test_categorical_sample_frequencies_and_reproducibility():
    probs = cgrad.tensor([[0.2, 0.3, 0.5], [0.7, 0.2, 0.1]])
    cgrad.manual_seed(3)
    s = D.Categorical(probs=probs).sample((N,))
    assert s.shape == (N, 2) and s.dtype == cgrad.int64
    freq = np.stack([np.bincount(s.numpy()[:, j], minlength=3) / N for j in range(2)])
    assert np.all(np.abs(freq - probs.numpy()) < _mean_tol(probs.numpy() * (1 - probs.numpy())))
    cgrad.manual_seed(3)
    assert np.array_equal(D.Categorical(probs=probs).sample((N,)).numpy(), s.numpy())
    cgrad.manual_seed(5)
    g1 = D.Gamma(cgrad.tensor([0.3, 4.0]), 1.0).sample((10,))
    cgrad.manual_seed(5)
    assert np.array_equal(D.Gamma(cgrad.tensor([0.3, 4.0]), 1.0).sample((10,)).numpy(), g1.numpy())


def test_sample_is_outside_the_graph_and_rsample_inside():
    loc = cgrad.tensor([0.5], requires_grad=True)
    d = D.Normal(loc, 1.0)
    assert not d.sample().requires_grad and d.rsample().requires_grad
    with pytest.raises(NotImplementedError):
        D.Categorical(probs=cgrad.ones(2)).rsample()


@requires_torch
def test_standard_gamma_grad_matches_torch_on_every_branch():
    a = np.array([0.05, 0.3, 0.5, 1.0, 2.0, 5.0, 7.9, 8.5, 20.0, 100.0])
    x = np.array([1e-3, 0.3, 0.79, 0.81, 1.0, 3.0, 7.5, 8.0, 9.0, 18.0, 21.0, 50.0, 95.0, 104.0, 130.0])
    A, X = np.meshgrid(a, x)
    for dtype in (np.float64, np.float32):
        c = _standard_gamma_grad(cgrad.tensor(A.astype(dtype)), cgrad.tensor(X.astype(dtype)))
        t = torch._standard_gamma_grad(torch.tensor(A.astype(dtype)), torch.tensor(X.astype(dtype)))
        assert c.dtype == (cgrad.float64 if dtype == np.float64 else cgrad.float32)
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=1e-5 if dtype == np.float32 else 1e-12)


def _grad_of_mean(make, params, f=lambda s: s, n=N, seed=0):
    cgrad.manual_seed(seed)
    ps = [cgrad.tensor(p, requires_grad=True) for p in params]
    f(make(*ps).rsample((n,))).mean(0).sum().backward()
    return [p.grad.numpy() for p in ps]


def test_rsample_gradients_normal_uniform_mvn():
    # d E[x^2]/d loc = 2 loc, d E[x^2]/d scale = 2 scale
    gl, gs = _grad_of_mean(D.Normal, [np.array([0.5, -1.0]), np.array([1.0, 2.0])], lambda s: s ** 2)
    np.testing.assert_allclose(gl, [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(gs, [2.0, 4.0], rtol=0.03)
    # E[x] = (low + high) / 2
    glo, ghi = _grad_of_mean(D.Uniform, [np.array([0.0]), np.array([2.0])])
    np.testing.assert_allclose([glo[0], ghi[0]], [0.5, 0.5], atol=0.02)
    # E[x x^T] = L L^T + m m^T: d sum(E[x^2]) / d L = 2 L
    L = np.linalg.cholesky(COV)
    _, gL = _grad_of_mean(lambda m, l: D.MultivariateNormal(m, scale_tril=l), [np.zeros(3), L], lambda s: s ** 2)
    np.testing.assert_allclose(gL, np.tril(2 * L), atol=0.08)


def test_rsample_gradient_gamma_is_the_implicit_one():
    alpha, rate = np.array([0.3, 1.0, 2.5, 12.0]), np.array([1.0, 2.0, 0.5, 1.5])
    # E[x] = alpha / rate: d/dalpha = 1 / rate, d/drate = -alpha / rate^2
    ga, gr = _grad_of_mean(D.Gamma, [alpha, rate])
    np.testing.assert_allclose(ga, 1 / rate, rtol=0.04)
    np.testing.assert_allclose(gr, -alpha / rate ** 2, rtol=0.04)
    # E[x^2] = alpha (alpha + 1) / rate^2: d/dalpha = (2 alpha + 1) / rate^2
    ga, _ = _grad_of_mean(D.Gamma, [alpha, rate], lambda s: s ** 2)
    np.testing.assert_allclose(ga, (2 * alpha + 1) / rate ** 2, rtol=0.06)


def test_rsample_gradient_beta_and_dirichlet():
    a, b = np.array([0.5, 2.0, 5.0]), np.array([1.5, 2.0, 0.7])
    ga, gb = _grad_of_mean(D.Beta, [a, b])
    np.testing.assert_allclose(ga, b / (a + b) ** 2, rtol=0.05)
    np.testing.assert_allclose(gb, -a / (a + b) ** 2, rtol=0.05)
    c = np.array([0.5, 1.0, 2.0])
    weights = np.array([1.0, -2.0, 0.5])
    (gc,) = _grad_of_mean(D.Dirichlet, [c], lambda s: s * cgrad.tensor(weights))
    # E[w . x] = w . c / c0
    c0 = c.sum()
    expected = weights / c0 - (weights @ c) / c0 ** 2
    np.testing.assert_allclose(gc, expected, atol=0.01)


@requires_torch
def test_onehot_and_bernoulli_samples_are_valid_and_straight_through():
    d = D.OneHotCategorical(probs=cgrad.tensor([[0.1, 0.9, 0.0], [0.3, 0.3, 0.4]]))
    s = d.sample((50,))
    assert s.shape == (50, 2, 3) and bool(constraints.one_hot.check(s).all())
    assert float(s[:, 0, 2].sum()) == 0.0
    p = cgrad.tensor([0.2, 0.8], requires_grad=True)
    st = D.OneHotCategoricalStraightThrough(probs=p).rsample()
    st.sum().backward()
    pt = torch.tensor([0.2, 0.8], requires_grad=True)
    torch.distributions.OneHotCategoricalStraightThrough(probs=pt).rsample().sum().backward()
    close(p.grad, pt.grad, "straight-through grad")
    b = D.Bernoulli(logits=cgrad.tensor([-20.0, 20.0])).sample((10,))
    assert b.tolist() == [[0.0, 1.0]] * 10


def test_distributions_are_reachable_as_in_torch():
    assert cgrad.distributions.Normal is D.Normal
    assert D.Normal.arg_constraints["scale"] is constraints.positive
    d = D.Normal(cgrad.zeros(2, 3), 1.0)
    assert d.batch_shape == cgrad.Size([2, 3]) and d.event_shape == cgrad.Size([])
    assert D.Dirichlet(cgrad.ones(4, 5)).event_shape == cgrad.Size([5])
