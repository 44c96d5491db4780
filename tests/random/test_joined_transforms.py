"""CatTransform and StackTransform against torch.distributions.transforms:
forward, inverse, log|det J| (summed or concatenated by event_dim), their
gradients, domain/codomain, with_cache, and the AssertionErrors (torch's
texts) for a dim out of range or a size that does not match the pieces."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def _close(c, t, what):
    c, t = c.detach().numpy(), t.detach().numpy()
    assert c.shape == t.shape, what
    np.testing.assert_allclose(c, t, rtol=1e-10, atol=1e-12, err_msg=what)


def cat_transform(lib, dim=0, event=False):
    T = lib.distributions.transforms
    first = T.IndependentTransform(T.ExpTransform(), 1) if event else T.ExpTransform()
    return T.CatTransform([first, T.AffineTransform(1.0, 2.0), T.SigmoidTransform()], dim=dim, lengths=[2, 1, 3])


def stack_transform(lib, dim=0):
    T = lib.distributions.transforms
    return T.StackTransform([T.ExpTransform(), T.AffineTransform(-1.0, 0.5), T.TanhTransform()], dim=dim)


CASES = {
    "cat_dim0": (lambda lib: cat_transform(lib, 0), (6, 4)),
    "cat_dim1": (lambda lib: cat_transform(lib, 1), (4, 6)),
    "cat_dim_neg": (lambda lib: cat_transform(lib, -1), (4, 6)),
    "cat_event_dim0": (lambda lib: cat_transform(lib, 0, event=True), (6, 4)),
    "cat_event_dim1": (lambda lib: cat_transform(lib, 1, event=True), (4, 6)),
    "stack_dim0": (lambda lib: stack_transform(lib, 0), (3, 4)),
    "stack_dim1": (lambda lib: stack_transform(lib, 1), (4, 3)),
}


@requires_torch
@pytest.mark.parametrize("case", CASES)
def test_forward_inverse_log_det_match_torch(case):
    make, shape = CASES[case]
    x = np.random.default_rng(0).uniform(-0.9, 0.9, shape)
    tc, tt = make(cgrad), make(torch)
    xc, xt = cgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = tc(xc), tt(xt)
    _close(yc, yt, "forward")
    _close(tc.inv(yc), tt.inv(yt), "inverse")
    jc, jt = tc.log_abs_det_jacobian(xc, yc), tt.log_abs_det_jacobian(xt, yt)
    _close(jc, jt, "log|det J|")
    (yc.sum() + jc.sum()).backward()
    (yt.sum() + jt.sum()).backward()
    _close(xc.grad, xt.grad, "grad")
    assert tc.event_dim == tt.event_dim and tc.bijective == tt.bijective
    assert repr(tc.domain).replace("cgrad.", "torch.") == repr(tt.domain)
    assert tc.domain.event_dim == tt.domain.event_dim and tc.codomain.event_dim == tt.codomain.event_dim
    cached_c, cached_t = tc.with_cache(1), tt.with_cache(1)
    assert type(cached_c).__name__ == type(cached_t).__name__ and cached_c._cache_size == cached_t._cache_size
    assert tc.with_cache(0) is tc
    _close(cached_c(xc), cached_t(xt), "cached forward")


def _error(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value).__name__, str(info.value)


BAD = {
    "cat_dim_out_of_range": (lambda lib: cat_transform(lib, 2), (6, 4)),
    "cat_wrong_length": (lambda lib: cat_transform(lib, 0), (5, 4)),
    "stack_dim_out_of_range": (lambda lib: stack_transform(lib, -3), (3, 4)),
    "stack_wrong_count": (lambda lib: stack_transform(lib, 0), (2, 4)),
}


@requires_torch
@pytest.mark.parametrize("case", BAD)
@pytest.mark.parametrize("method", ["call", "inverse", "log_det_x", "log_det_y"])
def test_shape_errors_match_torch(case, method):
    make, shape = BAD[case]
    good_shape = (6, 4) if case.startswith("cat") else (3, 4)
    results = []
    for lib in (cgrad, torch):
        t, bad, good = make(lib), lib.full(shape, 0.5), lib.full(good_shape, 0.5)
        fn = {"call": lambda: t(bad), "inverse": lambda: t._inverse(bad),
              "log_det_x": lambda: t.log_abs_det_jacobian(bad, good),
              "log_det_y": lambda: t.log_abs_det_jacobian(good, bad)}[method]
        results.append(_error(fn))
    assert results[0] == results[1]
