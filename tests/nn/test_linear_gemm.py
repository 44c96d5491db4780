"""F.linear / addmm with the bias folded into the gemm (src/cgrad/linear_gemm.pxi:
the bias broadcast into the output, then gemm with beta = 1) and mm's mat2
gradient computed as (grad^T @ mat1)^T for a column-major mat2, which
TBackward0 hands to the weight whole: against torch for every bias shape
that broadcasts, transposed and strided operands, float32 and float64, each
requires_grad combination, one and two threads, accumulation into an
existing .grad, hooks, and double backward; float64 gradcheck."""
import itertools

import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as Fc
from helpers import assert_close as _assert_close
from helpers import grad_fn_name, requires_torch, torch, values

if torch is not None:
    import torch.nn.functional as Ft

# m * k * n well above ops_linalg.pxi's SMALL_MM_FLOPS, so the gemm path runs
M, K, N = 37, 29, 23
TOL = {np.float32: (1e-5, 1e-5), np.float64: (1e-12, 1e-12)}


def assert_close(actual, expected, rtol, atol, what):
    _assert_close(values(actual), values(expected), rtol, atol, what)


def _tol(dtype):
    return TOL[np.dtype(dtype).type]


@pytest.fixture(params=[1, 2], ids=["1thread", "2threads"])
def threads(request):
    before = cgrad.get_num_threads()
    cgrad.set_num_threads(request.param)
    yield request.param
    cgrad.set_num_threads(before)


def _layout(lib, arr, how, requires_grad):
    """A leaf holding arr's values and the operand made from it: as it is,
    transposed (a column-major matrix), or a strided slice (copied first)."""
    if how == "plain":
        leaf = lib.tensor(arr, requires_grad=requires_grad)
        return leaf, leaf
    if how == "transposed":
        leaf = lib.tensor(np.ascontiguousarray(arr.T), requires_grad=requires_grad)
        return leaf, leaf.t()
    wide = np.zeros((arr.shape[0], 2 * arr.shape[1]), dtype=arr.dtype)
    wide[:, ::2] = arr
    leaf = lib.tensor(wide, requires_grad=requires_grad)
    return leaf, leaf[:, ::2]


BIAS_SHAPES = [(N,), (1, N), (M, 1), (M, N), ()]


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias_shape", BIAS_SHAPES, ids=str)
@pytest.mark.parametrize("m1_layout,m2_layout", [("plain", "plain"), ("plain", "transposed"),
                                                 ("transposed", "plain"), ("transposed", "transposed"),
                                                 ("strided", "transposed"), ("plain", "strided")])
def test_addmm_bias_folded(dtype, bias_shape, m1_layout, m2_layout, threads):
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((M, K), (K, N), bias_shape))
    grad = rng.standard_normal((M, N)).astype(dtype)
    results = {}
    for lib in (cgrad, torch):
        leaf_a, m1 = _layout(lib, a, m1_layout, True)
        leaf_b, m2 = _layout(lib, b, m2_layout, True)
        bias = lib.tensor(c, requires_grad=True)
        out = lib.addmm(bias, m1, m2)
        out.backward(lib.tensor(grad))
        results[lib] = (out, leaf_a.grad, leaf_b.grad, bias.grad)
    rtol, atol = _tol(dtype)
    for what, mine, theirs in zip(("out", "grad mat1", "grad mat2", "grad bias"), results[cgrad], results[torch]):
        assert_close(mine, theirs, rtol, atol, what)
        assert tuple(mine.stride()) == tuple(theirs.stride()), what
    assert grad_fn_name(results[cgrad][0]) == "AddmmBackward0"


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("input_shape", [(M, K), (3, M, K), (2, 3, 5, K)], ids=str)
@pytest.mark.parametrize("needs", list(itertools.product([False, True], repeat=3)), ids=str)
def test_linear_requires_grad_combinations(dtype, input_shape, needs, threads):
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (input_shape, (N, K), (N,)))
    grad = rng.standard_normal(input_shape[:-1] + (N,)).astype(dtype)
    results = {}
    for lib in (cgrad, torch):
        leaves = [lib.tensor(arr, requires_grad=need) for arr, need in zip((x, w, b), needs)]
        out = (Fc if lib is cgrad else Ft).linear(*leaves)
        if out.requires_grad:
            out.backward(lib.tensor(grad))
        results[lib] = (out, leaves)
    rtol, atol = _tol(dtype)
    out_c, leaves_c = results[cgrad]
    out_t, leaves_t = results[torch]
    assert_close(out_c, out_t, rtol, atol, "linear")
    assert grad_fn_name(out_c) == grad_fn_name(out_t)
    for name, leaf_c, leaf_t in zip(("input", "weight", "bias"), leaves_c, leaves_t):
        assert (leaf_c.grad is None) == (leaf_t.grad is None), name
        if leaf_t.grad is not None:
            assert_close(leaf_c.grad, leaf_t.grad, rtol, atol, name)
            assert tuple(leaf_c.grad.stride()) == tuple(leaf_t.grad.stride()), name


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_noncontiguous_3d_input(dtype, threads):
    """multi_head_attention_forward's batch_first in-projection: a transposed
    3-D input goes through matmul's folded mm (MmBackward0) and the bias add."""
    rng = np.random.default_rng(2)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((5, 7, K), (3 * N, K), (3 * N,)))
    results = {}
    for lib in (cgrad, torch):
        leaves = [lib.tensor(arr, requires_grad=True) for arr in (x, w, b)]
        out = (Fc if lib is cgrad else Ft).linear(leaves[0].transpose(0, 1), leaves[1], leaves[2])
        (out * out).sum().backward()
        results[lib] = (out, leaves)
    rtol, atol = _tol(dtype)
    assert grad_fn_name(results[cgrad][0]) == grad_fn_name(results[torch][0])
    assert_close(results[cgrad][0], results[torch][0], rtol, atol, "out")
    for leaf_c, leaf_t in zip(results[cgrad][1], results[torch][1]):
        assert_close(leaf_c.grad, leaf_t.grad, 10 * rtol, 10 * atol, "grad")
        assert tuple(leaf_c.grad.stride()) == tuple(leaf_t.grad.stride())


@requires_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_gradient_accumulates_and_hooks_see_it(dtype):
    """Two backward passes add into the first .grad; a hook on the weight
    sees the same gradient as torch's; the stolen first gradient is not
    shared with anything the next pass writes."""
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((M, K), (N, K), (N,)))
    results = {}
    for lib in (cgrad, torch):
        seen = []
        weight = lib.tensor(w, requires_grad=True)
        weight.register_hook(lambda g: seen.append(g.clone()))
        inp = lib.tensor(x)
        bias = lib.tensor(b, requires_grad=True)
        (Fc if lib is cgrad else Ft).linear(inp, weight, bias).sum().backward()
        first = weight.grad.clone()
        (Fc if lib is cgrad else Ft).linear(inp * 2, weight, bias).pow(2).sum().backward()
        results[lib] = (first, weight.grad, bias.grad, seen)
    rtol, atol = _tol(dtype)
    for what, mine, theirs in zip(("first", "accumulated", "bias"), results[cgrad][:3], results[torch][:3]):
        assert_close(mine, theirs, rtol, 10 * atol, what)
    assert len(results[cgrad][3]) == len(results[torch][3]) == 2
    for mine, theirs in zip(results[cgrad][3], results[torch][3]):
        assert_close(mine, theirs, rtol, 10 * atol, "hook")


@requires_torch
def test_mm_column_major_mat2_gradient_graph():
    """Under create_graph the mat2 gradient is recorded as PyTorch records it,
    and double backward through it agrees."""
    rng = np.random.default_rng(4)
    a, w = (rng.standard_normal(s) for s in ((M, K), (N, K)))
    results = {}
    for lib in (cgrad, torch):
        inp = lib.tensor(a, requires_grad=True)
        weight = lib.tensor(w, requires_grad=True)
        out = lib.mm(inp, weight.t()).pow(2).sum()
        (gw,) = lib.autograd.grad(out, weight, create_graph=True)
        (gw * gw).sum().backward()
        results[lib] = (gw, inp.grad, weight.grad)
    assert grad_fn_name(results[cgrad][0]) == grad_fn_name(results[torch][0])
    for mine, theirs in zip(results[cgrad], results[torch]):
        assert_close(mine, theirs, 1e-10, 1e-10, "double backward")


def test_linear_gradcheck_float64():
    rng = np.random.default_rng(5)
    x = cgrad.tensor(rng.standard_normal((M, K)), requires_grad=True)
    w = cgrad.tensor(rng.standard_normal((N, K)), requires_grad=True)
    b = cgrad.tensor(rng.standard_normal((M, 1)), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda x, w, b: cgrad.addmm(b, x, w.t()), (x, w, b))
    assert cgrad.autograd.gradgradcheck(lambda x, w, b: Fc.linear(x, w, b[:, 0].sum() + w[:, 0]), (x, w, b))


def test_addmm_values_without_torch():
    """The folded gemm against numpy (checks something real without torch)."""
    rng = np.random.default_rng(6)
    for dtype in (np.float32, np.float64):
        a, b, c = (rng.standard_normal(s).astype(dtype) for s in ((M, K), (K, N), (N,)))
        got = cgrad.addmm(cgrad.tensor(c), cgrad.tensor(a), cgrad.tensor(np.ascontiguousarray(b.T)).t()).numpy()
        expected = (a.astype(np.float64) @ b.astype(np.float64) + c).astype(dtype)
        np.testing.assert_allclose(got, expected, rtol=_tol(dtype)[0] * 10, atol=_tol(dtype)[1] * 10)
