"""scaled_dot_product_attention on cgrad._C's attention kernels
(src/cgrad/attention_kernels.pxi: no mask, one head count, float32/float64)
against torch: layouts the kernels read in place (heads viewed out of a
packed projection, stride-0 batch dims, a value width other than the
query's), layouts they copy first, gradients that arrive expanded or
strided, some inputs without grad, two threads; float64 gradcheck; and the
cases the kernels decline (None: the composite runs)."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as Fc
from helpers import assert_close, requires_torch, torch

if torch is not None:
    import torch.nn.functional as Ft


def _heads_in_place(lib, arr, heads):
    """(batch, heads, length, width) views of a (length, batch, 3 * heads *
    width) projection's first third, as multi_head_attention_forward makes
    them: row stride batch * 3 * heads * width, not the width."""
    length, batch, packed = arr.shape
    width = packed // 3 // heads
    t = lib.tensor(arr, requires_grad=True)
    proj = t.unflatten(-1, (3, heads * width))[:, :, 0]          # (L, B, H*W), row stride 3*H*W
    view = proj.unflatten(-1, (heads, width)).permute(1, 2, 0, 3)  # (B, H, L, W)
    return t, view


LAYOUTS = ["contiguous", "heads_in_place", "value_width", "broadcast_batch", "transposed_last", "single"]


def _inputs(layout, dtype, rng):
    """Numpy arrays and a builder of (leaves, q, k, v) for one library."""
    if layout == "heads_in_place":
        arrs = [rng.standard_normal((7, 2, 3 * 3 * 4)).astype(dtype) for _ in range(3)]

        def build(lib):
            leaves, views = zip(*[_heads_in_place(lib, a, 3) for a in arrs])
            return list(leaves), views[0], views[1], views[2]
        return build
    shapes = {"contiguous": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
              "value_width": ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 7)),
              "broadcast_batch": ((1, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4)),
              "transposed_last": ((2, 3, 5, 4), (2, 3, 4, 6), (2, 3, 6, 4)),
              "single": ((1, 1, 1, 4), (1, 1, 1, 4), (1, 1, 1, 4))}[layout]
    arrs = [rng.standard_normal(s).astype(dtype) for s in shapes]

    def build(lib):
        leaves = [lib.tensor(a, requires_grad=True) for a in arrs]
        q, k, v = leaves
        if layout == "broadcast_batch":
            q = q.expand(2, 3, 5, 4)                  # batch stride 0
        if layout == "transposed_last":
            # key's last dim not of unit stride: PyTorch's math path, the composite here
            k = k.transpose(-2, -1)
        return leaves, q, k, v
    return build


@requires_torch
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("grad_kind", ["dense", "expanded", "strided"])
def test_fused_attention_matches_torch(layout, dtype, grad_kind):
    rng = np.random.default_rng(3)
    build = _inputs(layout, dtype, rng)
    leaves_c, *qkv_c = build(cgrad)
    leaves_t, *qkv_t = build(torch)
    out_c = Fc.scaled_dot_product_attention(*qkv_c, scale=0.7)
    out_t = Ft.scaled_dot_product_attention(*qkv_t, scale=0.7)
    assert type(out_c.grad_fn).__name__ == type(out_t.grad_fn).__name__
    rtol, atol = (2e-5, 2e-5) if dtype == "float32" else (1e-10, 1e-12)
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), rtol, atol, "output")
    if grad_kind == "expanded":
        out_c.sum().backward()
        out_t.sum().backward()
    else:
        g = rng.standard_normal(tuple(out_t.shape)).astype(dtype)
        g_c, g_t = cgrad.tensor(g), torch.tensor(g)
        if grad_kind == "strided":
            # a gradient laid out (L, B, H, W), viewed back to (B, H, L, W)
            g_c = cgrad.tensor(np.ascontiguousarray(g.transpose(2, 0, 1, 3))).permute(1, 2, 0, 3)
            g_t = torch.tensor(np.ascontiguousarray(g.transpose(2, 0, 1, 3))).permute(1, 2, 0, 3)
        out_c.backward(g_c)
        out_t.backward(g_t)
    for name, c, t in zip("qkv", leaves_c, leaves_t):
        assert c.grad.dtype == getattr(cgrad, dtype)
        assert_close(c.grad.numpy(), t.grad.numpy(), rtol, atol, f"grad {name}")


@requires_torch
@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, True, True)])
def test_fused_attention_partial_grads(needs):
    rng = np.random.default_rng(4)
    arrs = [rng.standard_normal((2, 2, 5, 3)) for _ in range(3)]
    ins_c = [cgrad.tensor(a, requires_grad=n) for a, n in zip(arrs, needs)]
    ins_t = [torch.tensor(a, requires_grad=n) for a, n in zip(arrs, needs)]
    Fc.scaled_dot_product_attention(*ins_c).pow(2).sum().backward()
    Ft.scaled_dot_product_attention(*ins_t).pow(2).sum().backward()
    for c, t, n in zip(ins_c, ins_t, needs):
        if n:
            assert_close(c.grad.numpy(), t.grad.numpy(), 1e-10, 1e-12, "grad")
        else:
            assert c.grad is None


@requires_torch
def test_fused_attention_two_threads():
    # 2 x 4 products of 32 x 32 x 64 reach the two-thread split
    rng = np.random.default_rng(5)
    arrs = [rng.standard_normal((2, 4, 32, 64)).astype(np.float32) for _ in range(3)]
    before = cgrad.get_num_threads()
    cgrad.set_num_threads(2)
    try:
        ins_c = [cgrad.tensor(a, requires_grad=True) for a in arrs]
        out_c = Fc.scaled_dot_product_attention(*ins_c)
        out_c.sum().backward()
    finally:
        cgrad.set_num_threads(before)
    ins_t = [torch.tensor(a, requires_grad=True) for a in arrs]
    out_t = Ft.scaled_dot_product_attention(*ins_t)
    out_t.sum().backward()
    assert_close(out_c.detach().numpy(), out_t.detach().numpy(), 2e-5, 2e-5, "output")
    for c, t in zip(ins_c, ins_t):
        assert_close(c.grad.numpy(), t.grad.numpy(), 2e-5, 2e-5, "grad")


@requires_torch
def test_fused_attention_without_grad():
    rng = np.random.default_rng(6)
    arrs = [rng.standard_normal((2, 3, 5, 4)).astype(np.float32) for _ in range(3)]
    with cgrad.no_grad():
        out_c = Fc.scaled_dot_product_attention(*[cgrad.tensor(a) for a in arrs])
    out_t = Ft.scaled_dot_product_attention(*[torch.tensor(a) for a in arrs])
    assert out_c.grad_fn is None
    assert_close(out_c.numpy(), out_t.numpy(), 2e-5, 2e-5, "no-grad output")


def test_fused_attention_gradcheck_strided():
    rng = np.random.default_rng(7)
    leaves = [cgrad.tensor(rng.standard_normal((4, 2, 3 * 2 * 3)), requires_grad=True) for _ in range(3)]

    def fn(a, b, c):
        views = [t.unflatten(-1, (3, 6))[:, :, 1].unflatten(-1, (2, 3)).permute(1, 2, 0, 3) for t in (a, b, c)]
        return Fc.scaled_dot_product_attention(*views, scale=0.4)
    assert cgrad.autograd.gradcheck(fn, leaves)
    assert cgrad.autograd.gradgradcheck(fn, leaves)


def test_attention_kernels_decline_what_they_do_not_cover():
    f32 = cgrad.ones(1, 2, 3, 4)
    assert cgrad._C._attention_forward(f32.half(), f32.half(), f32.half(), 1.0) is None
    assert cgrad._C._attention_forward(f32, f32.double(), f32, 1.0) is None
    assert cgrad._C._attention_forward(f32, cgrad.ones(1, 1, 3, 4), cgrad.ones(1, 1, 3, 4), 1.0) is None
    assert cgrad._C._attention_forward(f32, cgrad.ones(1, 2, 3, 5), f32, 1.0) is None
    assert cgrad._C._attention_forward(f32[0], f32[0], f32[0], 1.0) is None
    assert cgrad._C._attention_forward(cgrad.ones(1, 2, 0, 4), f32, f32, 1.0) is None
    out, weights = cgrad._C._attention_forward(f32, f32, f32, 1.0)
    assert tuple(out.shape) == (1, 2, 3, 4) and tuple(weights.shape) == (1, 2, 3, 3)
    assert np.allclose(weights.numpy(), 1 / 3) and np.allclose(out.numpy(), 1.0)
