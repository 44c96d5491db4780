"""F.embedding, F.embedding_bag, nn.Embedding and nn.EmbeddingBag against
torch: lookups, bag reductions (sum, mean, max, per-sample weights), gradients with
padding_idx and scale_grad_by_freq, max_norm's in-place renorm, grad_fn
names, from_pretrained, errors; float64 gradient checks of first and second
order."""
import re

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import rand, requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


def run(lib, idx, table, **kw):
    w = lib.tensor(table, requires_grad=True)
    out = F(lib).embedding(lib.tensor(idx), w, **kw)
    g = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(table.dtype)
    out.backward(lib.tensor(g))
    return out, w


IDX = np.array([[1, 4, 4, 0], [2, 4, 1, 9]])


@requires_torch
@pytest.mark.parametrize("kw", [{}, dict(padding_idx=4), dict(padding_idx=-1), dict(scale_grad_by_freq=True),
                                dict(padding_idx=1, scale_grad_by_freq=True)])
@pytest.mark.parametrize("idx", [IDX, IDX.astype(np.int32), IDX[0], np.array(3)])
def test_embedding_matches_torch(kw, idx):
    table = rand(10, 3, seed=1)
    oc, wc = run(cgrad, idx, table, **kw)
    ot, wt = run(torch, idx, table, **kw)
    assert tuple(oc.shape) == tuple(ot.shape)
    np.testing.assert_array_equal(oc.detach().numpy(), ot.detach().numpy())
    assert type(oc.grad_fn).__name__ == type(ot.grad_fn).__name__ == "EmbeddingBackward0"
    np.testing.assert_allclose(wc.grad.numpy(), wt.grad.numpy(), rtol=1e-6, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0])
def test_embedding_max_norm_renorms_in_place_like_torch(norm_type):
    table = rand(10, 4, seed=2, low=-3, high=3)
    res = []
    for lib in (cgrad, torch):
        w = lib.tensor(table, requires_grad=True)
        out = F(lib).embedding(lib.tensor(IDX), w, max_norm=1.5, norm_type=norm_type)
        out.sum().backward()
        res.append((out.detach().numpy(), w.detach().numpy(), w.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@requires_torch
def test_embedding_module_and_from_pretrained():
    cgrad.manual_seed(0)
    mc = cnn.Embedding(10, 3, padding_idx=2, max_norm=2.0, scale_grad_by_freq=True)
    mt = torch.nn.Embedding(10, 3, padding_idx=2, max_norm=2.0, scale_grad_by_freq=True)
    assert repr(mc) == repr(mt)
    assert np.all(mc.weight.detach().numpy()[2] == 0)
    w = mc.weight.detach().numpy()
    assert w[np.arange(10) != 2].std() > 0.5       # N(0, 1) initialisation
    table = rand(5, 4, seed=3)
    pc = cnn.Embedding.from_pretrained(cgrad.tensor(table))
    pt = torch.nn.Embedding.from_pretrained(torch.tensor(table))
    assert pc.weight.requires_grad is False and pt.weight.requires_grad is False
    assert repr(pc) == repr(pt)
    idx = np.array([0, 3, 3])
    np.testing.assert_array_equal(pc(cgrad.tensor(idx)).numpy(), pt(torch.tensor(idx)).numpy())
    pc2 = cnn.Embedding.from_pretrained(cgrad.tensor(table), freeze=False, padding_idx=1)
    assert pc2.weight.requires_grad and pc2.padding_idx == 1


def error_of(lib, fn):
    try:
        fn(lib)
    except Exception as e:  # noqa: BLE001 - the exception is the result
        return type(e).__name__, re.sub(r"\btorch\.", "cgrad.", str(e))
    return None


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda lib: F(lib).embedding(lib.tensor([0, 10]), lib.ones(10, 3)),
    lambda lib: F(lib).embedding(lib.tensor([0, -1]), lib.ones(10, 3)),
    lambda lib: F(lib).embedding(lib.tensor([0.0, 1.0]), lib.ones(10, 3)),
    lambda lib: F(lib).embedding(lib.tensor([0, 1]), lib.ones(10)),
    lambda lib: F(lib).embedding(lib.tensor([0, 1]), lib.ones(10, 3), padding_idx=10),
    lambda lib: F(lib).embedding(lib.tensor([0, 1]), lib.ones(10, 3), padding_idx=-11),
    lambda lib: lib.nn.Embedding(4, 2, padding_idx=4),
    lambda lib: lib.nn.Embedding(4, 2, _weight=lib.ones(3, 2)),
    lambda lib: lib.nn.Embedding.from_pretrained(lib.ones(3)),
])
def test_embedding_errors_like_torch(fn):
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


def test_embedding_gradcheck_first_and_second_order():
    w = cgrad.tensor(rand(10, 3, seed=4, dtype=np.float64), requires_grad=True)
    idx = cgrad.tensor(IDX)
    assert cgrad.autograd.gradcheck(lambda w: CF.embedding(idx, w), (w,))
    assert cgrad.autograd.gradgradcheck(lambda w: CF.embedding(idx, w) ** 2, (w,))


@requires_torch
@pytest.mark.parametrize("kw", [{}, dict(padding_idx=4), dict(padding_idx=1, scale_grad_by_freq=True)])
def test_embedding_double_backward_matches_torch(kw):
    # padding_idx and scale_grad_by_freq make the weight's gradient a chosen
    # rule, not the derivative, so finite differences do not apply: compare
    # the gradient of that gradient (with respect to grad_output) with torch's
    table = rand(10, 3, seed=5, dtype=np.float64)
    go = np.random.default_rng(1).standard_normal((2, 4, 3))
    v = np.random.default_rng(2).standard_normal((10, 3))
    res = []
    for lib in (cgrad, torch):
        w = lib.tensor(table, requires_grad=True)
        g = lib.tensor(go, requires_grad=True)
        out = F(lib).embedding(lib.tensor(IDX), w, **kw)
        (gw,) = lib.autograd.grad(out, w, g, create_graph=True)
        (gw * lib.tensor(v)).sum().backward()
        res.append((gw.detach().numpy(), g.grad.numpy()))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


BAG_IDX = np.array([1, 2, 4, 5, 4, 3, 7, 7])
BAG_OFF = np.array([0, 2, 2, 5])


@requires_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("kw", [{}, dict(include_last_offset=True), dict(padding_idx=4),
                                dict(padding_idx=-3, include_last_offset=True)])
def test_embedding_bag_matches_torch(mode, kw):
    table = rand(10, 3, seed=6)
    # with include_last_offset the last offset closes the last bag: PyTorch
    # reads past it when it is not the input's length, so it is here
    offsets = np.append(BAG_OFF, len(BAG_IDX)) if kw.get("include_last_offset") else BAG_OFF
    res = []
    for lib in (cgrad, torch):
        w = lib.tensor(table, requires_grad=True)
        out = F(lib).embedding_bag(lib.tensor(BAG_IDX), w, lib.tensor(offsets), mode=mode, **kw)
        g = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(np.float32)
        out.backward(lib.tensor(g))
        res.append((out.detach().numpy(), w.grad.numpy(), type(out.grad_fn).__name__))
    np.testing.assert_allclose(res[0][0], res[1][0], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(res[0][1], res[1][1], rtol=1e-6, atol=1e-6)
    assert res[0][2] == res[1][2] == "EmbeddingBagBackward0"


@requires_torch
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_2d_input_and_per_sample_weights_match_torch(mode):
    table = rand(10, 4, seed=7, dtype=np.float64)
    idx = np.array([[1, 2, 9], [4, 4, 0]])
    psw = rand(2, 3, seed=8, dtype=np.float64)
    res = []
    for lib in (cgrad, torch):
        w = lib.tensor(table, requires_grad=True)
        p = lib.tensor(psw, requires_grad=True) if mode == "sum" else None
        out = F(lib).embedding_bag(lib.tensor(idx), w, mode=mode, per_sample_weights=p)
        (out * out).sum().backward()
        res.append([out.detach().numpy(), w.grad.numpy()] + ([p.grad.numpy()] if p is not None else []))
    for a, b in zip(*res):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@requires_torch
def test_embedding_bag_module_like_torch():
    for args, kwargs in [((10, 3), {}), ((10, 3), dict(mode="max", padding_idx=1, include_last_offset=True)),
                         ((10, 3), dict(mode="sum", max_norm=1.0))]:
        mc, mt = cnn.EmbeddingBag(*args, **kwargs), torch.nn.EmbeddingBag(*args, **kwargs)
        assert repr(mc) == repr(mt)
        with torch.no_grad():
            mt.weight.copy_(torch.tensor(mc.weight.detach().numpy()))
        offsets = np.append(BAG_OFF, len(BAG_IDX)) if kwargs.get("include_last_offset") else BAG_OFF
        oc = mc(cgrad.tensor(BAG_IDX), cgrad.tensor(offsets))
        ot = mt(torch.tensor(BAG_IDX), torch.tensor(offsets))
        np.testing.assert_allclose(oc.detach().numpy(), ot.detach().numpy(), rtol=1e-6, atol=1e-6)
    pc = cnn.EmbeddingBag.from_pretrained(cgrad.tensor(rand(4, 2, seed=9)), mode="sum")
    assert pc.weight.requires_grad is False and repr(pc) == "EmbeddingBag(4, 2, mode='sum')"


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 12]), lib.ones(10, 3), lib.tensor([0])),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([1])),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([0, 3])),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3)),
    lambda lib: F(lib).embedding_bag(lib.tensor([[1, 2]]), lib.ones(10, 3), lib.tensor([0])),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10), lib.tensor([0])),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([0]), mode="foo"),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([0]), mode="max",
                                     scale_grad_by_freq=True),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([0]), mode="mean",
                                     per_sample_weights=lib.ones(2)),
    lambda lib: F(lib).embedding_bag(lib.tensor([1, 2]), lib.ones(10, 3), lib.tensor([0]),
                                     per_sample_weights=lib.ones(3)),
    lambda lib: lib.nn.EmbeddingBag(4, 2, padding_idx=4),
])
def test_embedding_bag_errors_like_torch(fn):
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_gradcheck(mode):
    w = cgrad.tensor(rand(10, 3, seed=10, dtype=np.float64), requires_grad=True)
    idx, off = cgrad.tensor(BAG_IDX), cgrad.tensor(BAG_OFF)
    assert cgrad.autograd.gradcheck(lambda w: CF.embedding_bag(idx, w, off, mode=mode), (w,))
    if mode == "sum":
        p = cgrad.tensor(rand(8, seed=11, dtype=np.float64), requires_grad=True)
        assert cgrad.autograd.gradcheck(lambda w, p: CF.embedding_bag(idx, w, off, mode="sum",
                                                                      per_sample_weights=p), (w, p))


def test_embedding_bag_scale_grad_by_freq_divides_by_batch_counts():
    # each row's gradient divided by how often its index occurs in the whole
    # input (torch 2.13's CPU kernel divides some rows by another index's
    # count here, so this is checked on its own)
    w = cgrad.tensor(rand(10, 3, seed=12), requires_grad=True)
    out = CF.embedding_bag(cgrad.tensor(BAG_IDX), w, cgrad.tensor(BAG_OFF), mode="sum", scale_grad_by_freq=True)
    out.sum().backward()
    counts = np.bincount(BAG_IDX, minlength=10)
    expected = np.zeros(10)
    for r in BAG_IDX:
        expected[r] += 1.0 / counts[r]
    np.testing.assert_allclose(w.grad.numpy()[:, 0], expected, rtol=1e-6)
