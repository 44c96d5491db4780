"""float16 and bfloat16 ops whose PyTorch CPU kernels compute in float32
and round once at the end: addmm with beta/alpha (the gemm's epilogue) and
the vector norms. Rounding the scaled product, the scaled input or each
square to the half type on the way moved last bits (and Muon's
orthogonalisation, which runs addmm and norm in bfloat16, by whole steps).
Against torch bit for bit, and without torch against the float32
computation rounded once."""
import numpy as np
import pytest

import cgrad
from helpers import torch

HALVES = ["float16", "bfloat16"]
SCALES = [dict(beta=0.5), dict(alpha=2.0315, beta=-4.775), dict(alpha=-0.3), dict(beta=0), dict()]


def half(lib, a, dtype):
    return lib.tensor(a).to(getattr(lib, dtype))


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("scales", SCALES)
def test_addmm_rounds_once(dtype, scales):
    rng = np.random.default_rng(11)
    differing = 0
    for _ in range(20):
        c, a, b = (rng.standard_normal(s).astype(np.float32) for s in ((4, 6), (4, 5), (5, 6)))
        got = cgrad.addmm(half(cgrad, c, dtype), half(cgrad, a, dtype), half(cgrad, b, dtype), **scales)
        assert got.dtype == getattr(cgrad, dtype)
        c32, a32, b32 = (half(cgrad, x, dtype).float() for x in (c, a, b))
        once = cgrad.addmm(c32, a32, b32, **scales).to(getattr(cgrad, dtype))
        assert cgrad.equal(got, once)
        if torch is not None:
            want = torch.addmm(half(torch, c, dtype), half(torch, a, dtype), half(torch, b, dtype), **scales)
            g, w = got.float().numpy(), want.float().numpy()
            # PyTorch's epilogue may fuse alpha * dot + beta * c (an fma) in
            # float32: where that sum cancels to near zero, the float32 values
            # can round to neighbouring half values
            step = np.spacing(np.abs(w).astype(np.float16 if dtype == "float16" else np.float32))
            step = step if dtype == "float16" else step * 2.0 ** 16
            assert (np.abs(g - w) <= step).all()
            differing += int((g != w).sum())
    assert differing <= 5           # of 480 values: rare


@pytest.mark.parametrize("dtype", HALVES)
@pytest.mark.parametrize("ord", [2, 1, 3, float("inf"), 0.5, 0])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_vector_norm_rounds_once(dtype, ord, dim):
    rng = np.random.default_rng(12)
    for _ in range(20):
        x = (rng.standard_normal((3, 6)) * 3).astype(np.float32)
        got = cgrad.linalg.vector_norm(half(cgrad, x, dtype), ord, dim)
        assert got.dtype == getattr(cgrad, dtype)
        once = cgrad.linalg.vector_norm(half(cgrad, x, dtype).float(), ord, dim).to(getattr(cgrad, dtype))
        assert cgrad.equal(got, once)
        if torch is not None:
            want = torch.linalg.vector_norm(half(torch, x, dtype), ord, dim)
            np.testing.assert_array_equal(got.float().numpy(), want.float().numpy())
    assert cgrad.equal(half(cgrad, x, dtype).norm(), cgrad.linalg.vector_norm(half(cgrad, x, dtype)))


@pytest.mark.parametrize("dtype", HALVES)
def test_norm_gradient_keeps_dtype(dtype):
    x = half(cgrad, np.array([[3.0, -4.0], [1.0, 2.0]], np.float32), dtype).requires_grad_()
    n = cgrad.linalg.vector_norm(x)
    n.backward()
    assert type(n.grad_fn).__name__ == "LinalgVectorNormBackward0"
    assert x.grad.dtype == x.dtype
    np.testing.assert_allclose(x.grad.float().numpy(), (x.detach().float() / n.detach().float()).numpy(),
                               rtol=1e-2)
