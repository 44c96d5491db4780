"""layer_norm, group_norm, batch_norm, instance_norm and their modules
against torch: values, gradients of input/weight/bias, grad_fn names,
running statistics (momentum, cumulative average, eval mode,
num_batches_tracked), errors; float64 gradient checks of first and second
order."""

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import check_gradients, compare_with_torch, rand, requires_torch, torch
from nn_compare import error_of

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


@pytest.mark.parametrize("shape,ns", [((4, 6), (6,)), ((2, 3, 5), (5,)), ((2, 3, 5), (3, 5)), ((7,), [7])])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(shape, ns, affine):
    nshape = tuple(ns)
    args = [rand(*shape, seed=1)]
    if affine in ("both", "weight"):
        args.append(rand(*nshape, seed=2))
    if affine == "both":
        args.append(rand(*nshape, seed=3))
    compare_with_torch(lambda lib, x, *wb: F(lib).layer_norm(x, ns, *wb, eps=1e-4), *args,
                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((2, 6, 4, 3), 2), ((3, 4), 2), ((2, 6, 4, 3), 1)])
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(shape, groups, affine):
    args = [rand(*shape, seed=4)] + ([rand(shape[1], seed=5), rand(shape[1], seed=6)] if affine else [])
    compare_with_torch(lambda lib, x, *wb: F(lib).group_norm(x, groups, *wb), *args, rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 6), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_matches_torch_with_running_stats(shape, training, momentum):
    C = shape[1]
    rm0, rv0 = rand(C, seed=7), rand(C, seed=8, low=0.5, high=2.0)
    res = []
    for lib in (cgrad, torch):
        rm, rv = lib.tensor(rm0), lib.tensor(rv0)
        out, ins = compare_once(lib, lambda x, w, b: F(lib).batch_norm(x, rm, rv, w, b, training, momentum),
                                [rand(*shape, seed=9), rand(C, seed=10), rand(C, seed=11)])
        res.append((out, ins, rm.numpy(), rv.numpy()))
    check_pair(*res)


def compare_once(lib, fn, arrays):
    ins = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*ins)
    g = np.random.default_rng(0).standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(lib.tensor(g))
    return (out.detach().numpy(), type(out.grad_fn).__name__), [t.grad.numpy() for t in ins]


def check_pair(a, b):
    (out_a, name_a), grads_a = a[0], a[1]
    (out_b, name_b), grads_b = b[0], b[1]
    assert name_a == name_b
    np.testing.assert_allclose(out_a, out_b, rtol=1e-4, atol=1e-5)
    for ga, gb in zip(grads_a, grads_b):
        np.testing.assert_allclose(ga, gb, rtol=1e-4, atol=1e-4)
    for extra_a, extra_b in zip(a[2:], b[2:]):
        np.testing.assert_allclose(extra_a, extra_b, rtol=1e-5, atol=1e-6)


def test_batch_norm_without_running_stats_and_no_affine():
    compare_with_torch(lambda lib, x: F(lib).batch_norm(x, None, None, training=True), rand(4, 3, 5, seed=1),
                       rtol=1e-4, atol=1e-5)


@requires_torch
@pytest.mark.parametrize("cls,shape", [("BatchNorm1d", (6, 4)), ("BatchNorm1d", (5, 4, 3)),
                                       ("BatchNorm2d", (3, 4, 5, 2))])
@pytest.mark.parametrize("momentum", [0.1, None])
@pytest.mark.parametrize("affine,track,bias", [(True, True, True), (False, True, True), (True, False, True),
                                               (True, True, False)])
def test_batchnorm_modules_train_then_eval_like_torch(cls, shape, momentum, affine, track, bias):
    mc = getattr(cnn, cls)(4, momentum=momentum, affine=affine, track_running_stats=track, bias=bias)
    mt = getattr(torch.nn, cls)(4, momentum=momentum, affine=affine, track_running_stats=track, bias=bias)
    assert repr(mc) == repr(mt)
    assert [n for n, _ in mc.named_buffers()] == [n for n, _ in mt.named_buffers()]
    for step in range(3):
        x = rand(*shape, seed=20 + step)
        check_pair(compare_once(cgrad, mc, [x])[:2], compare_once(torch, mt, [x])[:2])
        if track:
            np.testing.assert_allclose(mc.running_mean.numpy(), mt.running_mean.numpy(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(mc.running_var.numpy(), mt.running_var.numpy(), rtol=1e-5, atol=1e-6)
            assert int(mc.num_batches_tracked) == int(mt.num_batches_tracked) == step + 1
            assert mc.num_batches_tracked.dtype == cgrad.int64
    mc.eval()
    mt.eval()
    x = rand(*shape, seed=30)
    check_pair(compare_once(cgrad, mc, [x])[:2], compare_once(torch, mt, [x])[:2])


@requires_torch
@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (3, 4, 6)), ("InstanceNorm2d", (2, 4, 3, 5)),
                                       ("InstanceNorm1d", (4, 6))])
@pytest.mark.parametrize("affine,track", [(False, False), (True, True)])
def test_instance_norm_modules_like_torch(cls, shape, affine, track):
    mc = getattr(cnn, cls)(4, affine=affine, track_running_stats=track)
    mt = getattr(torch.nn, cls)(4, affine=affine, track_running_stats=track)
    assert repr(mc) == repr(mt)
    x = rand(*shape, seed=40)
    a, b = compare_once(cgrad, mc, [x]), compare_once(torch, mt, [x])
    check_pair(a, b)
    if track:
        np.testing.assert_allclose(mc.running_mean.numpy(), mt.running_mean.numpy(), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mc.running_var.numpy(), mt.running_var.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
def test_layer_and_group_norm_modules_like_torch():
    for (cls, args, kwargs, shape) in [("LayerNorm", ((3, 5),), {}, (2, 3, 5)),
                                       ("LayerNorm", (5,), dict(elementwise_affine=False), (2, 3, 5)),
                                       ("LayerNorm", (5,), dict(bias=False), (2, 3, 5)),
                                       ("GroupNorm", (2, 4), {}, (3, 4, 5)),
                                       ("GroupNorm", (2, 4), dict(bias=False), (3, 4, 5)),
                                       ("GroupNorm", (4, 4), dict(affine=False), (3, 4, 2, 2))]:
        mc, mt = getattr(cnn, cls)(*args, **kwargs), getattr(torch.nn, cls)(*args, **kwargs)
        assert repr(mc) == repr(mt)
        assert [n for n, _ in mc.named_parameters()] == [n for n, _ in mt.named_parameters()]
        x = rand(*shape, seed=50)
        check_pair(compare_once(cgrad, mc, [x])[:2], compare_once(torch, mt, [x])[:2])


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda lib: F(lib).batch_norm(lib.ones(2, 3, 5), None, None),
    lambda lib: F(lib).batch_norm(lib.ones(1, 3, 1), None, None, training=True),
    lambda lib: F(lib).layer_norm(lib.ones(2, 3, 5), (4,)),
    lambda lib: F(lib).layer_norm(lib.ones(2, 3, 5), 5),
    lambda lib: F(lib).layer_norm(lib.ones(2, 3, 5), (5,), lib.ones(4)),
    lambda lib: F(lib).layer_norm(lib.ones(2, 3, 5), (5,), None, lib.ones(4)),
    lambda lib: F(lib).layer_norm(lib.ones(2, 3, 5, dtype=lib.int64), (5,)),
    lambda lib: F(lib).group_norm(lib.ones(2, 3, 5), 2),
    lambda lib: F(lib).group_norm(lib.ones(2, 3, 5), 3, lib.ones(2)),
    lambda lib: F(lib).group_norm(lib.ones(3), 1),
    lambda lib: F(lib).batch_norm(lib.ones(2, 3, 5), lib.zeros(2), lib.ones(3)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 3, 5), lib.zeros(3), lib.ones(3), lib.ones(2)),
    lambda lib: F(lib).instance_norm(lib.ones(3, 1)),
    lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 3, 4)),
    lambda lib: lib.nn.BatchNorm1d(3)(lib.ones(2, 3, 4, 4)),
    lambda lib: lib.nn.GroupNorm(3, 4),
    lambda lib: lib.nn.InstanceNorm1d(3, affine=True)(lib.ones(2, 4, 5)),
    # ATen's order: running_mean, running_var (each missing in eval mode, or
    # of the wrong size), then weight and bias, then the statistics' 1-d shape
    lambda lib: lib.nn.BatchNorm2d(3)(lib.ones(2, 4, 2, 2)),
    lambda lib: lib.nn.BatchNorm1d(3).eval()(lib.ones(2, 4)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), None, lib.ones(3)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(4), None, lib.ones(3)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), None, None, lib.ones(3)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), None, lib.ones(3), training=True),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(4), lib.ones(3), lib.ones(5), training=True),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(3), lib.ones(4), lib.ones(5)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(4), lib.ones(4), lib.ones(5), lib.ones(3)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(2, 2), lib.ones(4)),
    lambda lib: F(lib).batch_norm(lib.ones(2, 4, 3), lib.zeros(4), lib.ones(2, 2), training=True),
    lambda lib: F(lib).batch_norm(lib.ones(2, 1, 3), lib.tensor(0.0), lib.tensor(1.0)),
    lambda lib: F(lib).batch_norm(lib.ones(0, 2, 3), None, None, lib.ones(0)),
    lambda lib: lib.nn.InstanceNorm1d(2, affine=True)(lib.ones(0, 2, 3)),
])
def test_norm_errors_like_torch(fn):
    expected = error_of(torch, fn)
    assert expected is not None
    assert error_of(cgrad, fn) == expected


@pytest.mark.parametrize("fn,shape,nparams", [
    (lambda x, w, b: CF.layer_norm(x, (3, 4), w, b), (2, 3, 4), (3, 4)),
    (lambda x, w, b: CF.group_norm(x, 2, w, b), (2, 4, 3), (4,)),
    (lambda x, w, b: CF.batch_norm(x, None, None, w, b, training=True), (3, 2, 4), (2,)),
    (lambda x, w, b: CF.batch_norm(x, cgrad.tensor(np.array([0.1, -0.2])),
                                   cgrad.tensor(np.array([1.5, 0.7])), w, b), (3, 2, 4), (2,)),
])
def test_norm_gradcheck_first_and_second_order(fn, shape, nparams):
    ins = [cgrad.tensor(rand(*s, seed=k, dtype=np.float64), requires_grad=True)
           for k, s in enumerate([shape, nparams, nparams])]
    assert cgrad.autograd.gradcheck(fn, ins)
    assert cgrad.autograd.gradgradcheck(fn, ins)


def test_instance_norm_gradcheck():
    check_gradients(lambda lib, x, w, b: CF.instance_norm(x, weight=w, bias=b), rand(2, 3, 5, seed=1),
                    rand(3, seed=2), rand(3, seed=3))


@requires_torch
@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("affine", ["none", "weight", "both", "bias"])
@pytest.mark.parametrize("stats_size", [4, 3])
def test_batch_norm_of_an_empty_batch_like_torch(training, affine, stats_size):
    """ATen answers an empty batch before any check: the input's copy times
    weight[0] plus bias[0] (grad_fn and gradients of those), running
    statistics of any size left alone."""
    results = {}
    for lib in (cgrad, torch):
        x = lib.zeros(0, 4, 3, requires_grad=True)
        w = lib.tensor([1.5, 2.0, 0.5, 1.0], requires_grad=True) if affine in ("weight", "both") else None
        b = lib.tensor([0.25, 0.0, 1.0, 2.0], requires_grad=True) if affine in ("both", "bias") else None
        rm, rv = lib.zeros(stats_size), lib.ones(stats_size)
        out = F(lib).batch_norm(x, rm, rv, w, b, training=training)
        out.sum().backward()
        results[lib.__name__] = (tuple(out.shape), out.grad_fn.name(), rm.tolist(), rv.tolist(),
                                 None if w is None else w.grad.tolist(), None if b is None else b.grad.tolist(),
                                 tuple(x.grad.shape))
    assert results["cgrad"] == results["torch"]
