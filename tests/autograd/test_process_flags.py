"""torch-level flags and process switches (cgrad/_build_flags.py) and the
autocast state functions (cgrad/amp/autocast_mode.py): types, values
where cgrad's build agrees with torch's, state round trips, error texts
against torch."""
import warnings

import pytest

import cgrad
from helpers import requires_torch, torch


def test_build_flags():
    for name in ("has_lapack", "has_mkl", "has_openmp", "has_spectral"):
        assert isinstance(getattr(cgrad, name), bool)
    assert cgrad.has_lapack and not cgrad.has_mkl and not cgrad.has_spectral
    assert not hasattr(cgrad, "fft")        # has_spectral is False because there is no cgrad.fft
    assert cgrad.compiled_with_cxx11_abi() is True
    assert cgrad.is_vulkan_available() is False
    assert cgrad.init_num_threads() is None
    if torch is not None:
        assert cgrad.is_vulkan_available() == torch.is_vulkan_available()
        assert cgrad.compiled_with_cxx11_abi() == torch.compiled_with_cxx11_abi()


def test_exception_classes():
    for name in ("OutOfMemoryError", "AcceleratorError"):
        cls = getattr(cgrad, name)
        assert issubclass(cls, RuntimeError) and cls.__module__ == "cgrad" and cls.__name__ == name
        if torch is not None:
            assert [c.__name__ for c in cls.__mro__] == [c.__name__ for c in getattr(torch, name).__mro__]
    assert cgrad.cuda.OutOfMemoryError is cgrad.OutOfMemoryError
    with pytest.raises(RuntimeError):
        raise cgrad.OutOfMemoryError("out of memory")


def test_set_anomaly_enabled():
    try:
        assert cgrad.set_anomaly_enabled(True) is None
        assert cgrad.is_anomaly_enabled() and cgrad.is_anomaly_check_nan_enabled()
        cgrad.set_anomaly_enabled(True, False)
        assert cgrad.is_anomaly_enabled() and not cgrad.is_anomaly_check_nan_enabled()
    finally:
        cgrad.set_anomaly_enabled(False)
    assert not cgrad.is_anomaly_enabled()


def test_autocast_flags_round_trip():
    assert cgrad.is_autocast_enabled() is False and cgrad.is_autocast_enabled("cpu") is False
    try:
        cgrad.set_autocast_enabled("cuda", True)
        assert cgrad.is_autocast_enabled("cuda") and cgrad.is_autocast_enabled()
        cgrad.set_autocast_enabled(False)            # the deprecated one-argument form: CUDA's flag
        assert not cgrad.is_autocast_enabled()
        with pytest.warns(DeprecationWarning, match=r"torch.set_autocast_ipu_enabled\(enabled\) is deprecated"):
            cgrad.set_autocast_ipu_enabled(True)
        with pytest.warns(DeprecationWarning):
            assert cgrad.is_autocast_ipu_enabled()
    finally:
        cgrad.set_autocast_enabled("cuda", False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            cgrad.set_autocast_ipu_enabled(False)
            assert not cgrad.is_autocast_cpu_enabled() and not cgrad.is_autocast_xla_enabled()
    # CPU autocast switched on by the flag: the matmul family computes in bfloat16
    try:
        cgrad.set_autocast_enabled("cpu", True)
        assert cgrad.is_autocast_enabled("cpu") and (cgrad.ones(2, 2) @ cgrad.ones(2, 2)).dtype == cgrad.bfloat16
    finally:
        cgrad.set_autocast_enabled("cpu", False)
    assert (cgrad.ones(2, 2) @ cgrad.ones(2, 2)).dtype == cgrad.float32


def test_autocast_cache_and_nesting_follow_the_context():
    assert cgrad.is_autocast_cache_enabled() is True
    assert cgrad.autocast_increment_nesting() == 1
    assert cgrad.autocast_decrement_nesting() == 0
    with cgrad.autocast("cpu", enabled=False, cache_enabled=False):
        assert cgrad.is_autocast_cache_enabled() is False
        assert cgrad.autocast_increment_nesting() == 2
        assert cgrad.autocast_decrement_nesting() == 1
    assert cgrad.is_autocast_cache_enabled() is True
    assert cgrad.autocast_decrement_nesting() == -1 and cgrad.autocast_increment_nesting() == 0
    cgrad.set_autocast_cache_enabled(False)
    assert cgrad.is_autocast_cache_enabled() is False
    cgrad.set_autocast_cache_enabled(True)
    assert cgrad.clear_autocast_cache() is None


@requires_torch
def test_argument_errors_match_torch():
    calls = [lambda L: L.set_anomaly_enabled("x"),
             lambda L: L.set_autocast_enabled("cpu", 1),
             lambda L: L.set_autocast_enabled(1),
             lambda L: L.set_autocast_enabled("foo", False),
             lambda L: L.set_autocast_cache_enabled(1),
             lambda L: L.set_autocast_cpu_enabled(1)]
    for call in calls:
        with pytest.raises(Exception) as expected:
            call(torch)
        with pytest.raises(type(expected.value), match=None) as got:
            call(cgrad)
        assert str(got.value) == str(expected.value), str(expected.value)


def test_set_flush_denormal():
    import numpy as np
    denormal = np.float32(1e-39)
    if torch is not None:
        # asked first: both libraries set the one control register of this thread
        torch_supports = torch.set_flush_denormal(True)
        torch.set_flush_denormal(False)
    try:
        supported = cgrad.set_flush_denormal(True)
        assert isinstance(supported, bool)
        if torch is not None:
            assert supported == torch_supports
        if supported:
            assert (cgrad.tensor([denormal]) * 1.0).item() == 0.0
    finally:
        assert cgrad.set_flush_denormal(False) == supported
    assert (cgrad.tensor([denormal]) * 1.0).item() != 0.0
    with pytest.raises(RuntimeError, match="flush_denormal expects a bool, but got int"):
        cgrad.set_flush_denormal(1)


BACKEND_PREDICATES = ("is_xpu", "is_ipu", "is_mtia", "is_maia", "is_xla", "is_vulkan", "is_mkldnn", "is_nested",
                      "is_quantized", "is_sparse_csr")


def test_tensor_backend_predicates():
    t = cgrad.ones(2, 3, requires_grad=True)
    for name in BACKEND_PREDICATES:
        assert getattr(t, name) is False
        assert getattr(t[0], name) is False
        if torch is not None:
            assert getattr(torch.ones(2, 3), name) is False
