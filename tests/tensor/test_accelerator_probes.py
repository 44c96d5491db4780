"""cgrad.accelerator, cgrad.cuda, cgrad.xpu, cgrad.mps and
cgrad.backends.{mkldnn, mkl, openmp, opt_einsum} against a CPU-only torch: every call's result or
exception type and text. Where cgrad's truthful answer differs from torch's
(cgrad has no oneDNN, no MKL, no opt_einsum), the torch-free checks pin
cgrad's own values."""
import warnings

import pytest

import cgrad
from helpers import requires_torch, torch


def _outcome(function, *args):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = function(*args)
        return ("value", repr(value) if not isinstance(value, (bool, int, str, type(None), list, dict)) else value,
                [(w.category, str(w.message)) for w in caught])
    except Exception as error:       # the outcome is what is compared
        return ("raise", type(error), str(error))


def _value_for(module, value):
    if isinstance(value, str) and value.startswith("device:"):
        return module.device(value[7:])
    return value


ACCELERATOR_CALLS = [
    ("is_available", ()), ("current_accelerator", ()), ("current_accelerator", (True,)), ("device_count", ()),
    ("current_device_index", ()), ("current_device_idx", ()),
    ("set_device_index", (0,)), ("set_device_index", (-1,)), ("set_device_index", (None,)),
    ("set_device_index", ("cpu",)), ("set_device_index", ("device:cpu",)), ("set_device_index", (1.5,)),
    ("set_device_idx", (0,)),
    ("synchronize", ()), ("synchronize", (0,)), ("synchronize", (-1,)), ("synchronize", ("cuda:1",)),
    ("synchronize", (1.5,)), ("current_stream", ()), ("current_stream", ("cpu",)),
    ("get_memory_info", ()), ("get_memory_info", ("cpu",)), ("memory_allocated", ()),
    ("memory_allocated", ("cpu",)), ("max_memory_allocated", ()), ("memory_reserved", ()),
    ("max_memory_reserved", ()), ("memory_stats", ()), ("reset_peak_memory_stats", ()),
    ("reset_accumulated_memory_stats", ()), ("empty_cache", ()), ("empty_host_cache", ()),
]

XPU_CALLS = [
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()), ("init", ()), ("current_device", ()),
    ("set_device", (0,)), ("get_device_name", ()), ("get_device_properties", ()), ("get_device_capability", ()),
    ("synchronize", ()), ("current_stream", ()), ("is_bf16_supported", ()), ("is_tf32_supported", ()),
    ("get_arch_list", ()), ("get_gencode_flags", ()), ("empty_cache", ()), ("manual_seed", (3,)),
    ("manual_seed", ("x",)), ("manual_seed_all", ("x",)),
    ("manual_seed_all", (3,)), ("seed", ()), ("seed_all", ()), ("initial_seed", ()), ("get_rng_state", ()),
    ("get_rng_state_all", ()), ("set_rng_state_all", ([],)), ("memory_allocated", ()),
    ("max_memory_allocated", ()), ("memory_reserved", ()), ("max_memory_reserved", (0,)),
    ("memory_stats", ()), ("mem_get_info", ()), ("set_stream", (None,)),
]

MPS_CALLS = [
    ("is_available", ()), ("device_count", ()), ("synchronize", ()), ("manual_seed", (3,)),
    ("manual_seed", ("x",)), ("seed", ()), ("get_rng_state", ()), ("empty_cache", ()),
    ("set_per_process_memory_fraction", (0.5,)), ("set_per_process_memory_fraction", (3.0,)),
    ("set_per_process_memory_fraction", (1,)), ("current_allocated_memory", ()),
    ("driver_allocated_memory", ()), ("recommended_max_memory", ()), ("compile_shader", ("x",)),
]


CUDA_CALLS = [
    ("memory_allocated", ()), ("memory_allocated", (0,)), ("memory_allocated", ("device:cuda:0",)),
    ("max_memory_allocated", ()), ("memory_reserved", ()), ("max_memory_reserved", ()), ("memory_stats", (0,)),
    ("memory_cached", ()), ("max_memory_cached", ()), ("memory_summary", ()), ("reset_peak_memory_stats", ()),
    ("reset_max_memory_allocated", ()), ("reset_max_memory_cached", ()), ("reset_accumulated_memory_stats", ()),
    ("memory_snapshot", ()), ("mem_get_info", ()), ("set_per_process_memory_fraction", (0.5,)),
    ("caching_allocator_alloc", (10,)), ("ipc_collect", ()), ("can_device_access_peer", (0, 1)),
    ("list_gpu_processes", ()), ("utilization", ()), ("memory_usage", ()), ("temperature", ()),
    ("power_draw", ()), ("clock_rate", ()), ("get_rng_state", ()), ("get_rng_state_all", ()),
    ("set_rng_state_all", ([],)), ("set_rng_state_all", (None,)), ("initial_seed", ()), ("get_arch_list", ()),
    ("get_gencode_flags", ()), ("current_stream", ()), ("default_stream", ()), ("stream", (None,)),
    ("manual_seed", (3,)), ("manual_seed", (None,)), ("manual_seed_all", (3,)), ("empty_cache", ()),
    ("is_available", ()), ("device_count", ()), ("is_initialized", ()), ("is_bf16_supported", ()),
    ("get_device_name", ()), ("synchronize", ()), ("Stream", ()), ("Event", ()),
]


def _compare_calls(torch_module, cgrad_module, calls):
    for name, args in calls:
        expected = _outcome(getattr(torch_module, name), *[_value_for(torch, a) for a in args])
        got = _outcome(getattr(cgrad_module, name), *[_value_for(cgrad, a) for a in args])
        if got[0] == "raise":           # an error naming the library's own module (cgrad._C)
            got = (got[0], got[1], got[2].replace("cgrad", "torch"))
        if got[0] == "value" and isinstance(got[1], str) and "object at" in got[1]:
            got, expected = got[:1] + got[2:], expected[:1] + expected[2:]     # a fresh object: its type only
        assert got == expected, (name, args)


@requires_torch
def test_accelerator_calls_match_torch():
    _compare_calls(torch.accelerator, cgrad.accelerator, ACCELERATOR_CALLS)


@requires_torch
def test_cuda_calls_match_torch():
    _compare_calls(torch.cuda, cgrad.cuda, CUDA_CALLS)


def test_cuda_memory_statistics_are_zero_without_cuda():
    # what training scripts log after a step (`torch.cuda.max_memory_allocated() / 2**20`)
    assert cgrad.cuda.memory_allocated() == 0 and cgrad.cuda.max_memory_allocated(0) == 0
    assert cgrad.cuda.memory_reserved() == 0 and cgrad.cuda.max_memory_reserved() == 0
    assert cgrad.cuda.memory_stats() == {}
    with pytest.raises(AttributeError, match="_cuda_resetPeakMemoryStats"):
        cgrad.cuda.reset_peak_memory_stats()
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        cgrad.cuda.get_rng_state()
    cgrad.cuda.set_rng_state(cgrad.get_rng_state())     # queued by PyTorch until CUDA starts: ignored


def test_cpu_stream_context_switches_the_current_stream():
    default, other = cgrad.cpu.current_stream(), cgrad.cpu.Stream()
    with cgrad.cpu.stream(other) as entered:
        assert entered is None and cgrad.cpu.current_stream() is other
    assert cgrad.cpu.current_stream() is default
    with cgrad.cpu.stream(None):
        assert cgrad.cpu.current_stream() is default


@requires_torch
def test_cpu_stream_context_matches_torch():
    def run(module):
        default, other = module.cpu.current_stream(), module.cpu.Stream()
        with module.cpu.stream(other) as entered:
            inside = module.cpu.current_stream() is other
        with module.cpu.stream(None) as entered_none:
            inside_none = module.cpu.current_stream() is default
        return entered, inside, module.cpu.current_stream() is default, entered_none, inside_none
    assert run(cgrad) == run(torch)


def test_cuda_device_contexts():
    with cgrad.cuda.device(-1):
        pass
    with cgrad.cuda.device_of(cgrad.ones(1)):
        pass
    with cgrad.cuda.stream(None):
        pass
    for index in (0, "cuda:0"):
        with pytest.raises(RuntimeError, match="^PyTorch was compiled without CUDA support$"):
            with cgrad.cuda.device(index):
                pass


@requires_torch
def test_cuda_device_contexts_match_torch():
    for index in (0, -1, None, "cuda:0", "cuda"):
        def enter(module):
            with module.cuda.device(index):
                return "entered"
        assert _outcome(enter, cgrad) == _outcome(enter, torch)


@pytest.mark.parametrize("device_type", ["cpu", "cuda"])
def test_deprecated_device_amp_spellings(device_type):
    module = getattr(cgrad, device_type).amp
    with pytest.warns(FutureWarning, match=rf"^`torch.{device_type}.amp.autocast\(args...\)` is deprecated. Please "
                                           rf"use `torch.amp.autocast\('{device_type}', args...\)` instead.$"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "CUDA is not available")
            with module.autocast():
                product = cgrad.ones(2, 2) @ cgrad.ones(2, 2)
    assert product.dtype == (cgrad.bfloat16 if device_type == "cpu" else cgrad.float32)
    with pytest.warns(FutureWarning, match=rf"^`torch.{device_type}.amp.GradScaler\(args...\)` is deprecated"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "torch.cuda.amp.GradScaler is enabled, but CUDA is not available")
            scaler = module.GradScaler()
    assert scaler.is_enabled() is (device_type == "cpu")
    imported = __import__(f"cgrad.{device_type}.amp", fromlist=["autocast"])
    assert imported.autocast is module.autocast


@requires_torch
def test_xpu_calls_match_torch():
    _compare_calls(torch.xpu, cgrad.xpu, XPU_CALLS)


@requires_torch
def test_mps_calls_match_torch():
    _compare_calls(torch.mps, cgrad.mps, MPS_CALLS)


@requires_torch
def test_device_index_context_matches_torch():
    for index in (None, 0, -1):
        def enter(module):
            with module.accelerator.device_index(index):
                return "entered"
        assert _outcome(enter, cgrad) == _outcome(enter, torch)

    def enter_xpu(module):
        with module.xpu.device(0):
            return "entered"
    assert _outcome(enter_xpu, cgrad) == _outcome(enter_xpu, torch)


def test_tutorial_device_line_picks_cpu():
    device = cgrad.accelerator.current_accelerator().type if cgrad.accelerator.is_available() else "cpu"
    assert device == "cpu"
    assert cgrad.accelerator.device_count() == 0 and cgrad.accelerator.current_accelerator() is None
    with pytest.raises(RuntimeError, match="Cannot access accelerator device when none is available."):
        cgrad.accelerator.synchronize()
    assert (cgrad.xpu.is_available(), cgrad.mps.is_available()) == (False, False)


def test_backend_availability_is_cgrads_own():
    from cgrad._build_flags import has_openmp
    assert cgrad.backends.mkldnn.is_available() is False       # no oneDNN in cgrad
    assert cgrad.backends.mkldnn.is_acl_available() is False
    assert cgrad.backends.mkl.is_available() is False          # no MKL in cgrad
    assert cgrad.backends.openmp.is_available() is has_openmp
    assert cgrad.backends.opt_einsum.is_available() is False   # cgrad's einsum never uses opt_einsum
    assert cgrad.backends.opt_einsum.get_opt_einsum() is None
    assert cgrad.backends.opt_einsum.enabled is False and cgrad.backends.opt_einsum.strategy is None


def test_mkldnn_flags_are_checked_and_restored():
    mkldnn = cgrad.backends.mkldnn
    assert (mkldnn.enabled, mkldnn.deterministic) == (True, False)
    with mkldnn.flags(enabled=False, deterministic=True):
        assert (mkldnn.enabled, mkldnn.deterministic) == (False, True)
    assert (mkldnn.enabled, mkldnn.deterministic) == (True, False)
    mkldnn.enabled = False
    try:
        assert mkldnn.enabled is False
        assert mkldnn.set_flags(True)[0] is False
    finally:
        mkldnn.enabled = True
    with pytest.raises(RuntimeError, match="^set_enabled_mkldnn expects a bool, but got int$"):
        mkldnn.enabled = 1
    with pytest.raises(RuntimeError, match="^set_deterministic_mkldnn expects a bool, but got int$"):
        mkldnn.deterministic = 1
    with mkldnn.verbose(mkldnn.VERBOSE_OFF):
        pass
    with pytest.raises(AssertionError, match="Failed to set MKLDNN into verbose mode"):
        with mkldnn.verbose(mkldnn.VERBOSE_ON):
            pass


@requires_torch
def test_mkldnn_flag_errors_match_torch():
    for name in ("enabled", "deterministic"):
        def set_int(module):
            setattr(module.backends.mkldnn, name, 1)
        assert _outcome(set_int, cgrad) == _outcome(set_int, torch)


def test_opt_einsum_refuses_what_it_cannot_do():
    opt_einsum = cgrad.backends.opt_einsum
    with opt_einsum.flags(enabled=False):
        assert opt_einsum.enabled is False
    with pytest.raises(ValueError, match="^opt_einsum is not available, so setting `enabled` to True"):
        opt_einsum.enabled = True
    with pytest.raises(ValueError, match="^opt_einsum is not available, so setting `strategy` to greedy"):
        opt_einsum.set_flags(None, "greedy")
    assert opt_einsum.enabled is False


# backends.cuda.matmul: what scripts set at their top (nanoGPT's allow_tf32 = True) and read back

def _cublas_sequence(module):
    """Each step's outcome, starting from the legacy "highest" precision; the
    state is restored at the end."""
    matmul = module.backends.cuda.matmul
    steps = [
        lambda: matmul.allow_tf32,
        lambda: matmul.fp32_precision,
        lambda: module.set_float32_matmul_precision("high"),
        lambda: (matmul.allow_tf32, matmul.fp32_precision),
        lambda: module.set_float32_matmul_precision("medium"),
        lambda: (matmul.allow_tf32, matmul.fp32_precision, module.get_float32_matmul_precision()),
        # (PyTorch refuses get_float32_matmul_precision once allow_tf32 was set after
        # set_float32_matmul_precision: "mix of the legacy and new APIs"; cgrad answers)
        lambda: setattr(matmul, "allow_tf32", False),
        lambda: (matmul.allow_tf32, matmul.fp32_precision),
        lambda: setattr(matmul, "allow_tf32", True),
        lambda: (matmul.allow_tf32, matmul.fp32_precision),
        lambda: setattr(matmul, "allow_tf32", 1),
        lambda: setattr(matmul, "allow_tf32", "yes"),
        lambda: setattr(matmul, "fp32_precision", "fast"),
        lambda: setattr(matmul, "allow_fp16_accumulation", 1),
        lambda: matmul.allow_fp16_accumulation,
        lambda: setattr(matmul, "allow_fp16_reduced_precision_reduction", (False,)),
        lambda: (matmul.allow_fp16_reduced_precision_reduction,
                 matmul.allow_fp16_reduced_precision_reduction_split_k),
        lambda: setattr(matmul, "allow_fp16_reduced_precision_reduction", (True, False)),
        lambda: setattr(matmul, "allow_bf16_reduced_precision_reduction", 1),
        lambda: setattr(matmul, "allow_bf16_reduced_precision_reduction", ()),
        lambda: setattr(matmul, "allow_bf16_reduced_precision_reduction", (True, 1)),
        lambda: setattr(matmul, "allow_bf16_reduced_precision_reduction", [True, True, True]),
        lambda: matmul.allow_bf16_reduced_precision_reduction,
        lambda: setattr(matmul, "allow_tf23", True),
        lambda: matmul.allow_tf23,
    ]
    module.set_float32_matmul_precision("highest")
    try:
        return [_outcome(step) for step in steps]
    finally:
        module.set_float32_matmul_precision("highest")
        matmul.allow_fp16_reduced_precision_reduction = True


@requires_torch
def test_cublas_matmul_switches_match_torch():
    assert _cublas_sequence(cgrad) == _cublas_sequence(torch)


def test_cublas_allow_tf32_is_the_matmul_precision():
    matmul = cgrad.backends.cuda.matmul
    try:
        matmul.allow_tf32 = True
        assert cgrad.get_float32_matmul_precision() == "high" and matmul.fp32_precision == "tf32"
        cgrad.set_float32_matmul_precision("highest")
        assert matmul.allow_tf32 is False and matmul.fp32_precision == "ieee"
        matmul.fp32_precision = "tf32"          # the newer spelling moves the same setting
        assert cgrad.get_float32_matmul_precision() == "high" and matmul.allow_tf32 is True
        with pytest.raises(RuntimeError, match="^Unknown precision: fast$"):
            matmul.fp32_precision = "fast"
        with pytest.raises(AttributeError, match="^Unknown attribute allow_tf23$"):
            matmul.allow_tf23 = True            # a misspelling is an error, not a new attribute
        with pytest.raises(RuntimeError, match="^set_allow_tf32_cublas expects a bool, but got int$"):
            matmul.allow_tf32 = 1
    finally:
        cgrad.set_float32_matmul_precision("highest")
