"""The device surface of a CPU library: cgrad.device, tensors' devices, the
device= arguments of the factories, .to/.cpu/.cuda, cgrad.cuda and
cgrad.backends, with the answers and errors of a CPU-only torch build."""
import pickle

import pytest

import cgrad
from helpers import requires_torch, torch


def test_device_type():
    d = cgrad.device("cpu")
    assert d == cgrad.device("cpu") and hash(d) == hash(cgrad.device("cpu"))
    assert d.type == "cpu" and d.index is None
    assert repr(d) == "device(type='cpu')" and str(d) == "cpu"
    d0 = cgrad.device("cpu", 0)
    assert d0 != d and repr(d0) == "device(type='cpu', index=0)" and str(d0) == "cpu:0"
    assert cgrad.device("cpu:0") == d0 and cgrad.device(d0) == d0
    assert cgrad.device("cuda", 1).type == "cuda" and str(cgrad.device("cuda:1")) == "cuda:1"
    assert pickle.loads(pickle.dumps(d0)) == d0
    assert {d: 1}[cgrad.device("cpu")] == 1


def test_tensor_device():
    t = cgrad.zeros(2)
    assert t.device == cgrad.device("cpu") and t.device.type == "cpu"
    assert t.is_cpu and not t.is_cuda and t.get_device() == -1
    assert t.cpu() is t and t.to("cpu") is t and t.to(cgrad.device("cpu")) is t and t.to(device="cpu") is t
    assert t.to("cpu", cgrad.float64).dtype == cgrad.float64
    assert not t.is_pinned()
    # pinning needs an accelerator's host allocator: a CPU-only PyTorch raises
    with pytest.raises(RuntimeError, match="^Cannot access accelerator device when none is available.$"):
        t.pin_memory()
    with pytest.warns(DeprecationWarning, match="The argument 'device' of Tensor.pin_memory.. is deprecated"):
        with pytest.raises(RuntimeError, match="^CPU device type not an accelerator.$"):
            t.pin_memory("cpu")
    with pytest.warns(DeprecationWarning, match="The argument 'device' of Tensor.is_pinned.. is deprecated"):
        assert not t.is_pinned("cpu")


@pytest.mark.parametrize("call", [
    "lib.tensor([1.], device={d})", "lib.as_tensor([1.], device={d})", "lib.zeros(2, device={d})",
    "lib.ones(2, device={d})", "lib.full((2,), 3., device={d})", "lib.empty(2, device={d})",
    "lib.arange(3, device={d})", "lib.linspace(0, 1, 3, device={d})", "lib.rand(2, device={d})",
    "lib.randn(2, device={d})", "lib.randint(3, (2,), device={d})", "lib.eye(2, device={d})",
    "lib.zeros_like(lib.ones(2), device={d})", "lib.ones_like(lib.ones(2), device={d})",
    "lib.empty_like(lib.ones(2), device={d})", "lib.full_like(lib.ones(2), 1., device={d})",
    "lib.rand_like(lib.ones(2), device={d})", "lib.randn_like(lib.ones(2), device={d})",
    "lib.randint_like(lib.ones(2), 3, device={d})", "lib.randperm(3, device={d})",
    "lib.normal(0., 1., (2,), device={d})", "lib.ones(2).new_zeros(2, device={d})",
])
def test_factories_accept_cpu_and_refuse_cuda(call):
    for d in ("'cpu'", "lib.device('cpu')", "'cpu:0'", "None"):
        t = eval(call.format(d=d), {"lib": cgrad})
        assert t.device == cgrad.device("cpu")
    for d in ("'cuda'", "'cuda:1'", "lib.device('cuda')"):
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
            eval(call.format(d=d), {"lib": cgrad})
    if torch is not None:
        with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
            eval(call.format(d="'cuda'"), {"lib": torch})


DEVICE_ERRORS = [
    "lib.zeros(2).cuda()", "lib.zeros(2).cuda(0)", "lib.zeros(2).to('cuda')", "lib.zeros(2).to(device='cuda')",
    "lib.zeros(2).to('mps')", "lib.device('foo')", "lib.device('cpu', -1)", "lib.device('cpu:-1')",
    "lib.device(0)", "lib.zeros(2, device=3)", "lib.cuda.current_device()", "lib.cuda.get_device_name()",
    "lib.cuda.synchronize()", "lib.zeros(2, device='foo')",
]


@requires_torch
@pytest.mark.parametrize("expr", DEVICE_ERRORS)
def test_device_errors_match_torch(expr):
    results = []
    for lib in (torch, cgrad):
        try:
            eval(expr, {"lib": lib})
            results.append(None)
        except Exception as e:  # noqa: BLE001 - the exception is what is compared
            results.append((type(e), str(e)))
    assert results[0] is not None and results[1] == results[0]


@requires_torch
def test_device_values_match_torch():
    for expr in ["repr(lib.device('cpu'))", "str(lib.device('cpu', 0))", "repr(lib.device('cuda:1'))",
                 "lib.device('cpu') == lib.device('cpu', 0)", "lib.device('cpu') == 'cpu'",
                 "lib.device('cpu:0').index", "lib.zeros(1).device.index", "lib.cuda.is_available()",
                 "lib.cuda.device_count()", "lib.backends.mps.is_available()", "lib.backends.mps.is_built()",
                 "lib.backends.cudnn.is_available()", "lib.cuda.is_initialized()", "lib.cuda.manual_seed(1)",
                 "lib.cuda.manual_seed_all(1)", "lib.cuda.empty_cache()", "repr(lib.get_default_device())",
                 "lib.zeros(2).get_device()", "lib.zeros(2).is_cpu"]:
        assert eval(expr, {"lib": cgrad}) == eval(expr, {"lib": torch}), expr


def test_default_device():
    assert cgrad.get_default_device() == cgrad.device("cpu")
    cgrad.set_default_device("cpu")
    cgrad.set_default_device(None)
    with cgrad.device("cpu"):
        assert cgrad.zeros(1).device == cgrad.device("cpu")
    with pytest.raises(AssertionError, match="^Torch not compiled with CUDA enabled$"):
        cgrad.set_default_device("cuda")
    assert cgrad.get_default_device() == cgrad.device("cpu")


def test_cpu_only_answers():
    assert cgrad.cuda.is_available() is False and cgrad.cuda.device_count() == 0
    assert cgrad.backends.mps.is_available() is False and cgrad.backends.mps.is_built() is False
    assert cgrad.backends.cudnn.is_available() is False and cgrad.backends.cuda.is_built() is False
    # the usual idiom picks the CPU
    dev = cgrad.device("cuda" if cgrad.cuda.is_available() else "cpu")
    assert cgrad.ones(2, device=dev).to(dev).device == cgrad.device("cpu")
    assert cgrad.Generator(device="cpu").device == cgrad.device("cpu")
    with pytest.raises(RuntimeError):
        cgrad.Generator(device="cuda")
