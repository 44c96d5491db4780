"""The composite losses of nn.functional (kl_div, huber_loss,
margin_ranking_loss, triplet_margin_loss, soft_margin_loss,
multilabel_soft_margin_loss, hinge_embedding_loss, cosine_embedding_loss,
poisson_nll_loss, gaussian_nll_loss) and their modules against torch:
values, gradients, dtypes and grad_fn names per reduction, PyTorch's
warnings and errors, float64 gradcheck and gradgradcheck."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from nn_compare import assert_same_errors
from helpers import compare_with_torch, requires_torch, torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 5)).astype(np.float32)
Y = RNG.standard_normal((4, 5)).astype(np.float32)
T = RNG.standard_normal((4, 5)).astype(np.float32)
SIGNS = np.array([1.0, -1.0, 1.0, -1.0], np.float32)


def F(lib):
    return lib.nn.functional


# name -> fn(lib, x, y, reduction) with x, y requiring grad
CASES = {
    "huber": lambda lib, x, y, r: F(lib).huber_loss(x, lib.tensor(T).to(x.dtype), reduction=r, delta=0.7),
    "huber_default": lambda lib, x, y, r: F(lib).huber_loss(x, y, reduction=r),
    "huber_weight": lambda lib, x, y, r: F(lib).huber_loss(x, y, reduction=r, weight=lib.tensor(np.abs(T))),
    "kl_div": lambda lib, x, y, r: F(lib).kl_div(x, lib.tensor(T).softmax(1), reduction=r),
    "kl_div_log_target": lambda lib, x, y, r: F(lib).kl_div(x, y, reduction=r, log_target=True),
    "soft_margin": lambda lib, x, y, r: F(lib).soft_margin_loss(x, lib.tensor(np.sign(T)), reduction=r),
    "multilabel_soft_margin": lambda lib, x, y, r: F(lib).multilabel_soft_margin_loss(
        x, lib.tensor((T > 0).astype(np.float32)), reduction=r),
    "multilabel_soft_margin_weight": lambda lib, x, y, r: F(lib).multilabel_soft_margin_loss(
        x, lib.tensor((T > 0).astype(np.float32)), weight=lib.tensor(np.abs(T[0])), reduction=r),
    "hinge_embedding": lambda lib, x, y, r: F(lib).hinge_embedding_loss(x, lib.tensor(np.sign(T)), reduction=r),
    "hinge_embedding_margin": lambda lib, x, y, r: F(lib).hinge_embedding_loss(x, lib.tensor(np.sign(T)),
                                                                                margin=0.3, reduction=r),
    "cosine_embedding": lambda lib, x, y, r: F(lib).cosine_embedding_loss(x, y, lib.tensor(SIGNS), reduction=r),
    "cosine_embedding_margin": lambda lib, x, y, r: F(lib).cosine_embedding_loss(x, y, lib.tensor(SIGNS),
                                                                                  margin=0.2, reduction=r),
    "cosine_embedding_1d": lambda lib, x, y, r: F(lib).cosine_embedding_loss(x[0], y[0], lib.tensor(-1.0),
                                                                              reduction=r),
    "margin_ranking": lambda lib, x, y, r: F(lib).margin_ranking_loss(x[:, 0], y[:, 0], lib.tensor(SIGNS),
                                                                       margin=0.1, reduction=r),
    "triplet": lambda lib, x, y, r: F(lib).triplet_margin_loss(x, y, lib.tensor(T), reduction=r),
    "triplet_swap_p1": lambda lib, x, y, r: F(lib).triplet_margin_loss(x, y, lib.tensor(T), p=1, swap=True,
                                                                        margin=2.0, reduction=r),
    "poisson": lambda lib, x, y, r: F(lib).poisson_nll_loss(x, lib.tensor(np.abs(T)), reduction=r),
    "poisson_full": lambda lib, x, y, r: F(lib).poisson_nll_loss(x.abs() + 0.1, lib.tensor(np.abs(T) * 3),
                                                                 log_input=False, full=True, reduction=r),
    "gaussian": lambda lib, x, y, r: F(lib).gaussian_nll_loss(x, lib.tensor(T), y.abs() + 0.1, reduction=r),
    "gaussian_full_float_var": lambda lib, x, y, r: F(lib).gaussian_nll_loss(x, y, 0.5, full=True, reduction=r),
    "gaussian_var_one_less_dim": lambda lib, x, y, r: F(lib).gaussian_nll_loss(x, lib.tensor(T), y[:, 0].abs(),
                                                                              reduction=r),
    "gaussian_heteroscedastic": lambda lib, x, y, r: F(lib).gaussian_nll_loss(x, lib.tensor(T),
                                                                             y[:, :1].abs(), reduction=r),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_losses_match_torch(name, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # kl_div's 'mean' warning is tested below
        compare_with_torch(lambda lib, x, y: CASES[name](lib, x, y, reduction), X, Y, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("dtype", [np.float64])
@pytest.mark.parametrize("name", ["huber", "kl_div", "soft_margin", "cosine_embedding", "triplet", "poisson"])
def test_losses_match_torch_float64(name, dtype, monkeypatch):
    monkeypatch.setattr(__import__(__name__), "T", T.astype(dtype))
    monkeypatch.setattr(__import__(__name__), "SIGNS", SIGNS.astype(dtype))
    compare_with_torch(lambda lib, x, y: CASES[name](lib, x, y, "sum"), X.astype(dtype), Y.astype(dtype),
                       rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_and_gradgradcheck(name):
    x = cgrad.tensor(X.astype(np.float64), requires_grad=True)
    y = cgrad.tensor(Y.astype(np.float64) + 0.05, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = lambda a, b: CASES[name](cgrad, a, b, "sum")  # noqa: E731
        assert gradcheck(fn, (x, y), eps=1e-6, atol=1e-5)
        assert gradgradcheck(fn, (x, y), eps=1e-6, atol=1e-4)


def test_hand_computed_values():
    """Without the oracle: huber, kl_div and hinge on small inputs."""
    x = cgrad.tensor([0.0, 0.5, 3.0])
    t = cgrad.tensor([0.0, 0.0, 0.0])
    assert CF.huber_loss(x, t, reduction="none").tolist() == [0.0, 0.125, 2.5]
    p = cgrad.tensor([[0.5, 0.5]])
    assert abs(CF.kl_div(cgrad.tensor([[0.0, 0.0]]), p, reduction="sum").item() - np.log(0.5)) < 1e-6
    h = CF.hinge_embedding_loss(cgrad.tensor([0.2, 0.4]), cgrad.tensor([1.0, -1.0]), reduction="none")
    np.testing.assert_allclose(h.numpy(), [0.2, 0.6], rtol=1e-6)


@requires_torch
def test_kl_div_reductions_and_warnings_match_torch():
    x = np.log(np.random.default_rng(1).dirichlet(np.ones(5), size=3)).astype(np.float32)
    t = np.random.default_rng(2).dirichlet(np.ones(5), size=3).astype(np.float32)
    for kwargs in (dict(), dict(reduction="batchmean"), dict(reduction="sum"), dict(size_average=False),
                   dict(reduce=False)):
        got = []
        for lib in (torch, cgrad):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                out = lib.nn.functional.kl_div(lib.tensor(x), lib.tensor(t), **kwargs)
            got.append((out.numpy(), [str(m.message) for m in w], [m.category for m in w]))
        np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-6, atol=1e-7)
        assert got[1][1:] == got[0][1:], kwargs


@requires_torch
def test_argument_errors_match_torch():
    calls = [
        lambda lib: F(lib).huber_loss(lib.ones(3), lib.ones(3), delta=0),
        lambda lib: F(lib).huber_loss(lib.ones(3), lib.ones(3), reduction="foo"),
        lambda lib: F(lib).huber_loss(lib.ones(3), lib.ones(3), weight=lib.ones(2)),
        lambda lib: F(lib).kl_div(lib.ones(3, dtype=lib.int64), lib.ones(3), reduction="sum"),
        lambda lib: F(lib).soft_margin_loss(lib.ones(3), lib.ones(4)),
        lambda lib: F(lib).margin_ranking_loss(lib.ones(3), lib.ones(3), lib.ones(3, 1)),
        lambda lib: F(lib).triplet_margin_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 3), margin=0),
        lambda lib: F(lib).triplet_margin_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3)),
        lambda lib: F(lib).cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(2, 1)),
        lambda lib: F(lib).cosine_embedding_loss(lib.ones(3), lib.ones(3), lib.ones(2)),
        lambda lib: F(lib).cosine_embedding_loss(lib.ones(2, 3), lib.ones(2, 3), lib.tensor(1.0)),
        lambda lib: F(lib).poisson_nll_loss(lib.ones(3), lib.ones(3), reduction="foo"),
        lambda lib: F(lib).gaussian_nll_loss(lib.ones(3), lib.ones(3), -1.0),
        lambda lib: F(lib).gaussian_nll_loss(lib.ones(3), lib.ones(3), -lib.ones(3)),
        lambda lib: F(lib).gaussian_nll_loss(lib.ones(2, 3), lib.ones(2, 3), lib.ones(3, 2)),
        lambda lib: F(lib).gaussian_nll_loss(lib.ones(3), lib.ones(3), lib.ones(3), reduction="foo"),
        lambda lib: F(lib).multilabel_soft_margin_loss(lib.ones(2, 3), lib.ones(2, 3), reduction="foo"),
        lambda lib: F(lib).hinge_embedding_loss(lib.ones(3), lib.ones(3), reduction="foo"),
    ]
    assert_same_errors(calls, torch, cgrad)


@requires_torch
def test_size_warning_matches_torch():
    texts = []
    for lib in (torch, cgrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.nn.functional.huber_loss(lib.ones(3, 1), lib.ones(3))
        texts.append([str(m.message).replace("torch.", "cgrad.") for m in w])
    assert texts[0] == texts[1] and len(texts[0]) == 1


MODULES = [
    ("KLDivLoss", (), dict(reduction="batchmean"), 2),
    ("KLDivLoss", (), dict(log_target=True, reduction="sum"), 2),
    ("HuberLoss", (), dict(delta=0.5), 2),
    ("MarginRankingLoss", (), dict(margin=0.2), 3),
    ("TripletMarginLoss", (), dict(margin=0.5, p=1.0, swap=True), 3),
    ("SoftMarginLoss", (), dict(), 2),
    ("MultiLabelSoftMarginLoss", (), dict(), 2),
    ("HingeEmbeddingLoss", (), dict(margin=0.5), 2),
    ("CosineEmbeddingLoss", (), dict(margin=0.1, reduction="sum"), 3),
    ("PoissonNLLLoss", (), dict(log_input=True, full=False), 2),
    ("GaussianNLLLoss", (), dict(full=True), 3),
    ("SoftMarginLoss", (), dict(size_average=False), 2),
]


@requires_torch
@pytest.mark.parametrize("name,args,kwargs,nargs", MODULES)
def test_loss_modules_match_torch(name, args, kwargs, nargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mc, mt = getattr(cgrad.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mc) == repr(mt)
    assert mc.state_dict() == {} and dict(mt.state_dict()) == {}
    assert mc.reduction == mt.reduction
    signs = np.sign(T[:, 0])
    operands = {2: (X, np.abs(T) if "Poisson" in name or "KLDiv" in name else np.sign(T)),
                3: (X, Y, signs if name in ("MarginRankingLoss", "CosineEmbeddingLoss") else np.abs(T) + 0.1)}[nargs]
    if name == "MarginRankingLoss":
        operands = (X[:, 0], Y[:, 0], signs)
    if name == "TripletMarginLoss":
        operands = (X, Y, T)

    def run(lib, m):
        ins = [lib.tensor(a, requires_grad=(i == 0)) for i, a in enumerate(operands)]
        out = m(*ins)
        out.sum().backward()
        return out, ins[0].grad

    (oc, gc), (ot, gt) = run(cgrad, mc), run(torch, mt)
    assert type(oc.grad_fn).__name__ == type(ot.grad_fn).__name__
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=2e-5, atol=2e-6)


@requires_torch
def test_weighted_module_state_dict_matches_torch():
    w = np.abs(T[0])
    mc = cgrad.nn.MultiLabelSoftMarginLoss(weight=cgrad.tensor(w))
    mt = torch.nn.MultiLabelSoftMarginLoss(weight=torch.tensor(w))
    assert list(mc.state_dict()) == list(mt.state_dict()) == ["weight"]
    np.testing.assert_array_equal(mc.state_dict()["weight"].numpy(), mt.state_dict()["weight"].numpy())
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0, got 0 instead"):
        cgrad.nn.TripletMarginLoss(margin=0)


@pytest.mark.parametrize("call, text", [
    (lambda L: L.nn.functional.hinge_embedding_loss(L.ones(3), L.ones(3), None),
     "hinge_embedding_loss(): argument 'margin' (position 3) must be float, not NoneType"),
    (lambda L: L.nn.functional.margin_ranking_loss(L.ones(3), L.ones(3), L.ones(3), None),
     "margin_ranking_loss(): argument 'margin' (position 4) must be float, not NoneType"),
    (lambda L: L.nn.functional.cosine_embedding_loss(L.ones(2, 3), L.ones(2, 3), L.ones(2), "a"),
     "cosine_embedding_loss(): argument 'margin' (position 4) must be float, not str"),
    (lambda L: L.nn.MultiMarginLoss(None, None, "sum"),
     "cannot assign 'str' object to buffer 'weight' (torch Tensor or None required)"),
])
def test_margin_argument_type_errors(call, text):
    """Found by the round-15 module fuzzing (a None margin reached Tensor
    arithmetic; MultiMarginLoss checked p before registering its weight)."""
    with pytest.raises(TypeError) as ours:
        call(cgrad)
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(TypeError) as theirs:
            call(torch)
        assert str(theirs.value) == text
    # numbers and tensors stay accepted
    assert float(CF.hinge_embedding_loss(cgrad.ones(3), cgrad.ones(3), cgrad.tensor(2.0))) == 1.0


def test_triplet_margin_with_distance_loss_checks_reduction_by_name():
    """No legacy 'elementwise_mean' here: PyTorch checks the name first."""
    a = cgrad.ones(2, 3)
    with pytest.raises(ValueError, match="^elementwise_mean is not a valid value for reduction$"):
        CF.triplet_margin_with_distance_loss(a, a, a, reduction="elementwise_mean")
    with pytest.raises(ValueError, match="^bad is not a valid value for reduction$"):
        CF.triplet_margin_with_distance_loss(a, a, a, reduction="bad", margin=-1.0)
