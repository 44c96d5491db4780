"""nn.attention.sdpa_kernel / SDPBackend and backends.cuda's attention
switches: which kernel scaled_dot_product_attention runs (its grad_fn
shows it), the switches restored on exit, PyTorch's errors when none is
left; against torch where installed."""
import warnings

import pytest

import cgrad
from cgrad.nn.attention import SDPBackend, sdpa_kernel
from helpers import requires_torch, torch

F = cgrad.nn.functional


def _grad_fn(q):
    return F.scaled_dot_product_attention(q, q, q).grad_fn.name()


def test_switches_pick_the_kernel_and_are_restored():
    q = cgrad.randn(1, 2, 4, 8, requires_grad=True)
    assert _grad_fn(q) == "ScaledDotProductFlashAttentionForCpuBackward0"
    with sdpa_kernel(SDPBackend.MATH):
        assert not cgrad.backends.cuda.flash_sdp_enabled() and cgrad.backends.cuda.math_sdp_enabled()
        assert _grad_fn(q) != "ScaledDotProductFlashAttentionForCpuBackward0"
    assert cgrad.backends.cuda.flash_sdp_enabled() and cgrad.backends.cuda.mem_efficient_sdp_enabled()
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        assert _grad_fn(q) == "ScaledDotProductFlashAttentionForCpuBackward0"
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            with pytest.raises(RuntimeError, match="No available kernel.  Aborting execution."):
                _grad_fn(q[0])
    with sdpa_kernel([SDPBackend.EFFICIENT_ATTENTION, SDPBackend.CUDNN_ATTENTION]):
        with pytest.raises(RuntimeError, match="No viable backend for scaled_dot_product_attention was found"):
            _grad_fn(q)
    with pytest.raises(AssertionError, match="Backend must be an instance of SDPBackend or a list of SDPBackend "
                                             "instances, got str"):
        with sdpa_kernel("math"):
            pass
    with pytest.warns(FutureWarning, match="sdp_kernel\\(\\)` is deprecated"):
        with cgrad.backends.cuda.sdp_kernel(enable_flash=False):
            assert not cgrad.backends.cuda.flash_sdp_enabled()
    assert cgrad.backends.cuda.flash_sdp_enabled()


@requires_torch
def test_matches_torch():
    from torch.nn.attention import SDPBackend as TorchSDPBackend, sdpa_kernel as torch_sdpa_kernel
    assert {m: int(v) for m, v in TorchSDPBackend.__members__.items()} == {m: int(v) for m, v in
                                                                          SDPBackend.__members__.items()}
    assert str(SDPBackend.MATH) == str(TorchSDPBackend.MATH)
    for lib, kernel, backend in ((torch, torch_sdpa_kernel, TorchSDPBackend), (cgrad, sdpa_kernel, SDPBackend)):
        q = lib.randn(1, 2, 4, 8, requires_grad=True)
        names = []
        for choice in (backend.MATH, backend.FLASH_ATTENTION, [backend.MATH, backend.FLASH_ATTENTION]):
            with kernel(choice):
                names.append(lib.nn.functional.scaled_dot_product_attention(q, q, q).grad_fn.name())
        if lib is torch:
            expected = names
        else:
            assert names == expected
