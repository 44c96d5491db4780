"""normalize, cosine_similarity, pairwise_distance, softmin, glu,
pixel_shuffle/unshuffle, bilinear, gumbel_softmax, alpha_dropout and
their modules against torch: values, gradients, dtypes, grad_fn names,
errors, module reprs and state_dicts; float64 gradcheck and
gradgradcheck."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as CF
from cgrad.autograd import gradcheck, gradgradcheck
from nn_compare import assert_same_errors
from helpers import compare_with_torch, requires_torch, torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((4, 6)).astype(np.float32)
Y = RNG.standard_normal((4, 6)).astype(np.float32)
W = RNG.standard_normal((3, 6, 6)).astype(np.float32)
B = RNG.standard_normal(3).astype(np.float32)
IMG = RNG.standard_normal((2, 8, 3, 2)).astype(np.float32)


def F(lib):
    return lib.nn.functional


CASES = {
    "normalize": (lambda lib, x, y: F(lib).normalize(x), (X, Y)),
    "normalize_p1_dim0": (lambda lib, x, y: F(lib).normalize(x, 1.0, 0), (X, Y)),
    "normalize_p3_eps": (lambda lib, x, y: F(lib).normalize(x * 1e-3, 3, -1, eps=1e-2), (X, Y)),
    "cosine_similarity": (lambda lib, x, y: F(lib).cosine_similarity(x, y), (X, Y)),
    "cosine_similarity_dim0": (lambda lib, x, y: F(lib).cosine_similarity(x, y, dim=0), (X, Y)),
    "cosine_similarity_broadcast": (lambda lib, x, y: F(lib).cosine_similarity(x, y[:1], dim=-1), (X, Y)),
    "cosine_similarity_eps": (lambda lib, x, y: F(lib).cosine_similarity(x * 1e-5, y, eps=1e-3), (X, Y)),
    "pairwise_distance": (lambda lib, x, y: F(lib).pairwise_distance(x, y), (X, Y)),
    "pairwise_distance_p1_keepdim": (lambda lib, x, y: F(lib).pairwise_distance(x, y, 1.0, keepdim=True), (X, Y)),
    "pairwise_distance_broadcast": (lambda lib, x, y: F(lib).pairwise_distance(x, y[0], 3.0), (X, Y)),
    "softmin": (lambda lib, x, y: F(lib).softmin(x, 1), (X, Y)),
    "softmin_dtype": (lambda lib, x, y: F(lib).softmin(x, 0, dtype=lib.float64), (X, Y)),
    "glu": (lambda lib, x, y: F(lib).glu(x), (X, Y)),
    "glu_dim0": (lambda lib, x, y: F(lib).glu(x, 0), (X, Y)),
    "pixel_shuffle": (lambda lib, x, y: F(lib).pixel_shuffle(x, 2), (IMG, Y)),
    "pixel_unshuffle": (lambda lib, x, y: F(lib).pixel_unshuffle(x.reshape(2, 2, 4, 6), 2), (IMG, Y)),
    "pixel_shuffle_5d": (lambda lib, x, y: F(lib).pixel_shuffle(x.reshape(2, 1, 8, 3, 2), 2), (IMG, Y)),
    "bilinear": (lambda lib, x, y: F(lib).bilinear(x, y, lib.tensor(W).to(x.dtype), lib.tensor(B).to(x.dtype)),
                 (X, Y)),
    "bilinear_no_bias": (lambda lib, x, y: F(lib).bilinear(x, y, lib.tensor(W).to(x.dtype)), (X, Y)),
    "bilinear_3d": (lambda lib, x, y: F(lib).bilinear(x.reshape(2, 2, 6), y.reshape(2, 2, 6),
                                                      lib.tensor(W).to(x.dtype)), (X, Y)),
    "bilinear_weight_grad": (lambda lib, x, w: F(lib).bilinear(x, x * 2, w), (X, W)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    fn, arrays = CASES[name]
    compare_with_torch(fn, *arrays, rtol=2e-5, atol=2e-6, gradcheck=name in GRADCHECK_CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch_float64(name):
    fn, arrays = CASES[name]
    compare_with_torch(fn, *[a.astype(np.float64) for a in arrays], rtol=1e-10, atol=1e-12,
                       gradcheck=name in GRADCHECK_CASES)


# cosine_similarity's eps clamp runs without recording (as PyTorch's): where
# it bites, the gradient is by design not the finite difference
GRADCHECK_CASES = sorted(set(CASES) - {"cosine_similarity_eps"})


@pytest.mark.parametrize("name", GRADCHECK_CASES)
def test_gradcheck_and_gradgradcheck(name):
    fn, arrays = CASES[name]
    ins = [cgrad.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    if name.startswith(("bilinear", "pixel")) and name != "bilinear_3d":
        ins = [cgrad.tensor(a.astype(np.float64)[:2], requires_grad=True) for a in arrays]
    if name == "pixel_unshuffle":
        ins = [cgrad.tensor(IMG.astype(np.float64), requires_grad=True), ins[1]]
    assert gradcheck(lambda *t: fn(cgrad, *t), ins, eps=1e-6, atol=1e-5)
    assert gradgradcheck(lambda *t: fn(cgrad, *t), ins, eps=1e-6, atol=1e-4)


def test_hand_computed_values():
    v = cgrad.tensor([[3.0, 4.0]])
    np.testing.assert_allclose(CF.normalize(v).numpy(), [[0.6, 0.8]], rtol=1e-6)
    np.testing.assert_allclose(CF.cosine_similarity(v, v * 2).numpy(), [1.0], rtol=1e-6)
    np.testing.assert_allclose(CF.pairwise_distance(v, cgrad.zeros(1, 2), eps=0.0).numpy(), [5.0], rtol=1e-6)
    x = cgrad.arange(8.0).reshape(1, 4, 1, 2)
    assert CF.pixel_shuffle(x, 2).reshape(-1).tolist() == [0.0, 2.0, 1.0, 3.0, 4.0, 6.0, 5.0, 7.0]
    assert CF.pixel_unshuffle(CF.pixel_shuffle(x, 2), 2).tolist() == x.tolist()


@requires_torch
def test_errors_match_torch():
    calls = [
        lambda lib: F(lib).glu(lib.ones(3, 5)),
        lambda lib: F(lib).glu(lib.tensor(1.0)),
        lambda lib: F(lib).glu(lib.ones(4, dtype=lib.int64)),
        lambda lib: F(lib).glu(lib.ones(4, 2), 3),
        lambda lib: F(lib).pixel_shuffle(lib.ones(4, 2), 2),
        lambda lib: F(lib).pixel_shuffle(lib.ones(5, 2, 2), 2),
        lambda lib: F(lib).pixel_shuffle(lib.ones(4, 2, 2), 0),
        lambda lib: F(lib).pixel_unshuffle(lib.ones(4, 3, 2), 2),
        lambda lib: F(lib).pixel_unshuffle(lib.ones(4, 2, 3), 2),
        lambda lib: F(lib).pixel_unshuffle(lib.ones(2), 2),
        lambda lib: F(lib).pixel_unshuffle(lib.ones(4, 2, 2), -1),
        lambda lib: F(lib).bilinear(lib.ones(3, 4), lib.ones(3, 5), lib.ones(2, 4, 6)),
        lambda lib: F(lib).bilinear(lib.ones(3, 4), lib.ones(2, 5), lib.ones(2, 4, 5)),
        lambda lib: F(lib).bilinear(lib.ones(3, 4), lib.ones(3, 5), lib.ones(2, 4, 5), lib.ones(3)),
        lambda lib: F(lib).bilinear(lib.ones(3, 4), lib.ones(3, 2, 5), lib.ones(2, 4, 5)),
        lambda lib: F(lib).bilinear(lib.ones(3, 4), lib.ones(3, 5), lib.ones(2, 3, 5)),
        lambda lib: F(lib).cosine_similarity(lib.tensor([1, 2]), lib.tensor([1, 2])),
        lambda lib: F(lib).cosine_similarity(lib.ones(3, 4), lib.ones(2, 4)),
        lambda lib: F(lib).alpha_dropout(lib.ones(3), 1.5),
        lambda lib: lib.nn.Bilinear(0, 2, 3),
        lambda lib: lib.nn.Bilinear(-1, 2, 3, bias=False),
    ]
    assert_same_errors(calls, torch, cgrad)


@requires_torch
def test_softmin_implicit_dim_warns_as_torch():
    texts = []
    for lib in (torch, cgrad):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = lib.nn.functional.softmin(lib.tensor(X))
        texts.append(([str(m.message) for m in w], out.numpy()))
    assert texts[0][0] == texts[1][0]
    np.testing.assert_allclose(texts[1][1], texts[0][1], rtol=1e-6)


def test_gumbel_softmax_samples():
    cgrad.manual_seed(0)
    logits = cgrad.tensor(np.log(np.array([[0.7, 0.2, 0.1]] * 4000, np.float32)), requires_grad=True)
    soft = CF.gumbel_softmax(logits, tau=0.5)
    assert type(soft.grad_fn).__name__ == "SoftmaxBackward0"
    np.testing.assert_allclose(soft.sum(-1).detach().numpy(), np.ones(4000), rtol=1e-5)
    hard = CF.gumbel_softmax(logits, hard=True)
    assert type(hard.grad_fn).__name__ == "AddBackward0"
    h = hard.detach().numpy()
    assert set(np.unique(h)) <= {0.0, 1.0} and (h.sum(-1) == 1).all()
    # samples follow the softmax of the logits (4000 draws: within 3 %)
    np.testing.assert_allclose(h.mean(0), [0.7, 0.2, 0.1], atol=0.03)
    hard.backward(cgrad.ones(4000, 3) * cgrad.tensor([1.0, 0.0, 0.0]))
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()
    with pytest.warns(UserWarning, match="`eps` parameter is deprecated and has no effect."):
        CF.gumbel_softmax(logits, eps=1e-5)


@requires_torch
def test_alpha_dropout_matches_torch_formula():
    x = cgrad.tensor(np.random.default_rng(0).standard_normal(20000).astype(np.float32), requires_grad=True)
    assert CF.alpha_dropout(x, 0.3, training=False) is x
    assert CF.alpha_dropout(x, 0.0, training=True) is x
    cgrad.manual_seed(1)
    y = CF.alpha_dropout(x, 0.3, training=True)
    assert type(y.grad_fn).__name__ == "AddBackward0"
    alpha = 1.7580993408473766
    a = 1.0 / np.sqrt((alpha * alpha * 0.3 + 1) * 0.7)
    kept = np.isclose(y.detach().numpy(), a * x.detach().numpy() + alpha * a * 0.3, rtol=1e-5, atol=1e-6)
    dropped = np.isclose(y.detach().numpy(), -alpha * a + alpha * a * 0.3, rtol=1e-5, atol=1e-6)
    assert (kept | dropped).all()
    assert abs(dropped.mean() - 0.3) < 0.02
    # keeps a unit-normal input's mean and variance, PyTorch's defining property
    assert abs(y.detach().numpy().mean()) < 0.03 and abs(y.detach().numpy().std() - 1) < 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.where(kept, a, 0.0), rtol=1e-6)
    z = torch.nn.functional.alpha_dropout(torch.tensor(x.detach().numpy()), 1.0, training=True)
    np.testing.assert_array_equal(CF.alpha_dropout(x.detach(), 1.0, training=True).numpy(), z.numpy())


MODULES = [
    ("CosineSimilarity", (), dict(), 2), ("CosineSimilarity", (), dict(dim=0, eps=1e-6), 2),
    ("PairwiseDistance", (), dict(), 2), ("PairwiseDistance", (), dict(p=1.0, keepdim=True), 2),
    ("Softmin", (), dict(dim=1), 1), ("GLU", (), dict(), 1), ("GLU", (0,), dict(), 1),
    ("PixelShuffle", (2,), dict(), 1), ("PixelUnshuffle", (3,), dict(), 1),
    ("SELU", (), dict(), 1), ("SELU", (True,), dict(), 1), ("CELU", (), dict(), 1),
    ("CELU", (0.5, True), dict(), 1), ("AlphaDropout", (0.2,), dict(), 1),
]


@requires_torch
@pytest.mark.parametrize("name,args,kwargs,nargs", MODULES)
def test_modules_match_torch(name, args, kwargs, nargs):
    mc, mt = getattr(cgrad.nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(mc) == repr(mt)
    assert mc.state_dict() == {} and dict(mt.state_dict()) == {}
    mc.eval()
    mt.eval()
    arrays = {"PixelShuffle": (IMG.reshape(2, 4, 6, 2)[:, :4],), "PixelUnshuffle": (IMG.reshape(2, 1, 6, 8)[:, :, :6, :6],)}
    operands = arrays.get(name, (X, Y)[:nargs])

    def run(lib, m):
        leaves = [lib.tensor(a, requires_grad=True) for a in operands]
        out = m(*[leaf * 1 for leaf in leaves])
        out.sum().backward()
        return out, leaves[0].grad

    (oc, gc), (ot, gt) = run(cgrad, mc), run(torch, mt)
    assert type(oc.grad_fn).__name__ == type(ot.grad_fn).__name__
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(gc.numpy(), gt.numpy(), rtol=2e-5, atol=2e-6)


@requires_torch
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_module_matches_torch(bias):
    mc, mt = cgrad.nn.Bilinear(6, 5, 3, bias=bias), torch.nn.Bilinear(6, 5, 3, bias=bias)
    assert repr(mc) == repr(mt)
    assert list(mc.state_dict()) == list(mt.state_dict())
    assert tuple(mc.weight.shape) == (3, 6, 5)
    bound = 1 / np.sqrt(6)
    assert np.abs(mc.weight.detach().numpy()).max() <= bound
    mc.load_state_dict({k: cgrad.tensor(v.detach().numpy()) for k, v in mt.state_dict().items()})
    x1, x2 = X, Y[:, :5]
    oc = mc(cgrad.tensor(x1), cgrad.tensor(x2))
    ot = mt(torch.tensor(x1), torch.tensor(x2))
    assert type(oc.grad_fn).__name__ == type(ot.grad_fn).__name__
    np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=2e-5, atol=2e-6)
    oc.sum().backward()
    ot.sum().backward()
    np.testing.assert_allclose(mc.weight.grad.numpy(), mt.weight.grad.numpy(), rtol=2e-5, atol=2e-6)


@requires_torch
def test_inplace_on_pairwise_distance_breaks_backward_as_torch():
    """norm saves its output: changing it in place makes backward refuse."""
    for lib in (torch, cgrad):
        x = lib.tensor(X, requires_grad=True)
        d = F(lib).pairwise_distance(x, x.detach() * 2)
        d.mul_(3)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            d.sum().backward()


@requires_torch
@pytest.mark.parametrize("make", [
    lambda lib, x: F(lib).glu(x),
    lambda lib, x: F(lib).pixel_shuffle(x.reshape(1, 24, 1, 1), 1),
    lambda lib, x: F(lib).interpolate(x.reshape(1, 4, 6), scale_factor=2, mode="linear"),
    lambda lib, x: F(lib).huber_loss(x, x.detach() * 2, reduction="none"),
    lambda lib, x: F(lib).soft_margin_loss(x, x.detach().sign(), reduction="none"),
])
def test_inplace_ops_on_results_record_as_torch(make):
    """The results carrying PyTorch's node names are ordinary outputs: an
    in-place op on them records its own node, gradients flow, and the
    input's version is untouched."""
    seen = []
    for lib in (torch, cgrad):
        leaf = lib.tensor(X, requires_grad=True)
        x = leaf * 1
        y = make(lib, x)
        y.mul_(3)
        seen.append((type(y.grad_fn).__name__, x._version))
        y.sum().backward()
        seen[-1] += (leaf.grad.numpy(),)
    assert seen[0][:2] == seen[1][:2]
    np.testing.assert_allclose(seen[1][2], seen[0][2], rtol=2e-5, atol=2e-6)
