"""cgrad.profiler records the ops a script runs as PyTorch's profiler
names them: the same event names and call counts as torch's profiler for
the same code (not the times), nesting (record_function regions, self vs
total time), the backward pass as per-node events, input shapes, and
nothing swapped in while no profile records."""
from collections import Counter

import pytest

import cgrad
import cgrad.nn.functional as F
from cgrad.profiler import ProfilerActivity, profile, record_function

from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None


def _train_step(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    x, y = lib.randn(3, 4), lib.randn(3, 2)
    with lib.profiler.profile(activities=[lib.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        with lib.profiler.record_function("train_step"):
            loss = lib.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return prof


def _plain_ops(lib):
    a, b = lib.randn(2, 3), lib.randn(3, 4)
    with lib.profiler.profile() as prof:
        c = lib.mm(a, b)
        d = c + c
        e = lib.relu(d).sum()
        f = a.sum(dim=0)
        g = a * 2.0
        lib.exp(g)
    del e, f
    return prof


TRAIN_STEP_NAMES = [
    "train_step", "aten::linear", "aten::relu", "aten::mse_loss", "Optimizer.step#SGD.step",
    "Optimizer.zero_grad#SGD.zero_grad", "autograd::engine::evaluate_function: AddmmBackward0",
    "autograd::engine::evaluate_function: TBackward0", "autograd::engine::evaluate_function: ReluBackward0",
    "autograd::engine::evaluate_function: MseLossBackward0",
    "autograd::engine::evaluate_function: torch::autograd::AccumulateGrad", "AddmmBackward0", "TBackward0",
    "ReluBackward0", "MseLossBackward0", "torch::autograd::AccumulateGrad"]
PLAIN_OP_NAMES = ["aten::mm", "aten::add", "aten::relu", "aten::sum", "aten::mul", "aten::exp"]


def _counts(prof, names):
    counts = Counter(e.name for e in prof.events())
    return {name: counts[name] for name in names}


@requires_torch
@pytest.mark.parametrize("step, names", [(_train_step, TRAIN_STEP_NAMES), (_plain_ops, PLAIN_OP_NAMES)])
def test_event_names_and_counts_match_torch(step, names):
    ours, theirs = _counts(step(cgrad), names), _counts(step(torch), names)
    assert ours == theirs
    assert all(count > 0 for count in ours.values())


def test_train_step_events_without_torch():
    counts = _counts(_train_step(cgrad), TRAIN_STEP_NAMES)
    assert counts["aten::linear"] == 2 and counts["aten::relu"] == 1 and counts["aten::mse_loss"] == 1
    assert counts["autograd::engine::evaluate_function: torch::autograd::AccumulateGrad"] == 4
    assert counts["Optimizer.step#SGD.step"] == 1


def test_nesting_self_and_total_time():
    prof = _train_step(cgrad)
    events = prof.events()
    region = [e for e in events if e.name == "train_step"]
    assert len(region) == 1 and region[0].is_user_annotation
    region = region[0]
    assert region.cpu_parent is None
    for event in events:
        assert event.cpu_time_total >= 0
        if event is not region:
            assert event.cpu_parent is not None          # everything ran inside the region
            parent = event.cpu_parent
            assert parent.time_range.start <= event.time_range.start <= event.time_range.end <= parent.time_range.end
    children_total = sum(c.cpu_time_total for c in region.cpu_children)
    assert region.self_cpu_time_total == pytest.approx(region.cpu_time_total - children_total)
    node = next(e for e in events if e.name == "autograd::engine::evaluate_function: MseLossBackward0")
    assert [c.name for c in node.cpu_children] == ["MseLossBackward0"]
    # the region's self time and its descendants' self times add up to its total
    total_self = sum(e.self_cpu_time_total for e in events)
    assert total_self == pytest.approx(region.cpu_time_total)
    assert prof.events().self_cpu_time_total == pytest.approx(total_self)


def test_input_shapes_recorded_and_grouped():
    a = cgrad.randn(2, 3)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        a + a
        cgrad.randn(5, 1) + cgrad.randn(5, 1)
        a + a
    adds = [e for e in prof.events() if e.name == "aten::add"]
    assert [e.input_shapes for e in adds] == [[[2, 3], [2, 3]], [[5, 1], [5, 1]], [[2, 3], [2, 3]]]
    grouped = {(e.key, str(e.input_shapes)): e.count for e in prof.key_averages(group_by_input_shape=True)}
    assert grouped[("aten::add", "[[2, 3], [2, 3]]")] == 2
    assert grouped[("aten::add", "[[5, 1], [5, 1]]")] == 1
    assert {e.key: e.count for e in prof.key_averages()}["aten::add"] == 3
    with profile() as prof:
        a + a
    assert [e.input_shapes for e in prof.events()] == [[]]


def test_functional_calls_are_their_aten_op_once():
    x = cgrad.randn(4, 5)
    target = cgrad.tensor([0, 1, 2, 3])
    with profile() as prof:
        F.relu(x)
        F.cross_entropy(x, target)
        F.softmax(x, dim=1)
    names = [e.name for e in prof.events() if e.cpu_parent is None]
    assert names == ["aten::relu", "aten::cross_entropy_loss", "aten::softmax"]


def test_operators_and_methods_are_named_as_torch_names_them():
    x = cgrad.randn(3, 3)
    with profile() as prof:
        2 - x
        x / 2
        -x
        x @ x
        x[0]
        x[0:2]
        x.t()
        x.add_(1)
    names = [e.name for e in prof.events() if e.cpu_parent is None]
    assert names == ["aten::rsub", "aten::div", "aten::neg", "aten::matmul", "aten::select", "aten::slice",
                     "aten::t", "aten::add_"]


def test_profile_memory_counts_the_bytes_an_op_allocates():
    x = cgrad.randn(10, 10)
    with profile(profile_memory=True) as prof:
        x + x                  # 100 float32
        x.view(100)            # a view: nothing new
    add, view = prof.events()
    assert add.cpu_memory_usage == 400
    assert view.cpu_memory_usage == 0


def test_with_stack_records_the_callers_frames():
    x = cgrad.randn(2)
    with profile(with_stack=True) as prof:
        x.exp()
    (event,) = prof.events()
    assert any("test_with_stack_records_the_callers_frames" in frame and __file__ in frame
               for frame in event.stack)


def test_no_profile_means_the_original_callables():
    originals = (cgrad.add, vars(cgrad.Tensor)["add"], vars(cgrad.Tensor)["__add__"], F.linear, F.relu,
                 vars(cgrad.Tensor)["backward"], cgrad.optim.SGD.step)
    with profile():
        assert cgrad.add is not originals[0]
        assert vars(cgrad.Tensor)["__add__"] is not originals[2]
    assert (cgrad.add, vars(cgrad.Tensor)["add"], vars(cgrad.Tensor)["__add__"], F.linear, F.relu,
            vars(cgrad.Tensor)["backward"], cgrad.optim.SGD.step) == originals
    assert all(a is b for a, b in zip((cgrad.add, vars(cgrad.Tensor)["add"], vars(cgrad.Tensor)["__add__"],
                                       F.linear, F.relu, vars(cgrad.Tensor)["backward"], cgrad.optim.SGD.step),
                                      originals))
    x = cgrad.ones(2)
    assert ((x + x) * 1).tolist() == [2.0, 2.0]     # operators dispatch through the restored slots


def test_failed_op_is_recorded_and_profiling_goes_on():
    a, b = cgrad.randn(2, 3), cgrad.randn(4, 5)
    with profile() as prof:
        with pytest.raises(RuntimeError):
            cgrad.mm(a, b)
        a.sum()
    assert [e.name for e in prof.events()] == ["aten::mm", "aten::sum"]
    assert prof.events()[1].cpu_parent is None


def test_record_function_without_profile_and_as_decorator():
    with record_function("nothing"):
        y = cgrad.ones(2) + 1
    assert y.tolist() == [2.0, 2.0]

    @record_function("my_fn")
    def fn(t):
        return t * 3

    ones = cgrad.ones(2)
    with profile() as prof:
        fn(ones)
    (region, mul) = prof.events()
    assert (region.name, mul.name, mul.cpu_parent) == ("my_fn", "aten::mul", region)


def test_autograd_profiler_profile_and_unfinished_state():
    from cgrad.autograd import profiler as autograd_profiler
    p = autograd_profiler.profile()
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        p.key_averages()
    with p:
        cgrad.ones(3).sum()
    assert [e.key for e in p.key_averages()] == ["aten::ones", "aten::sum"]
    assert p.total_average().count == 2
    assert p.self_cpu_time_total > 0


def test_emit_nvtx_refuses_and_emit_itt_runs():
    from cgrad.autograd import profiler as autograd_profiler
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):
        with autograd_profiler.emit_nvtx():
            pass
    with autograd_profiler.emit_itt():
        assert (cgrad.ones(1) + 1).tolist() == [2.0]
    from cgrad.profiler import itt
    assert itt.is_available() is False
    with itt.range("region {}", 1):
        itt.mark("m")


def test_an_exception_leaving_the_profile_restores_the_originals():
    original = vars(cgrad.Tensor)["__mul__"]
    with pytest.raises(ZeroDivisionError):
        with profile() as prof:
            cgrad.ones(2) * 2
            1 / 0
    assert vars(cgrad.Tensor)["__mul__"] is original and cgrad.ones is vars(cgrad)["ones"]
    assert [e.name for e in prof.events()] == ["aten::ones", "aten::mul"]


def test_ops_of_other_threads_are_recorded_on_their_own_thread():
    import threading
    x = cgrad.ones(3)
    with profile() as prof:
        worker = threading.Thread(target=lambda: (x + x).sum())
        with record_function("main"):
            worker.start()
            worker.join()
            x.exp()
    by_name = {e.name: e for e in prof.events()}
    assert by_name["aten::exp"].cpu_parent is by_name["main"]
    assert by_name["aten::add"].thread != by_name["main"].thread and by_name["aten::add"].cpu_parent is None
    assert by_name["aten::sum"].thread == by_name["aten::add"].thread


def test_group_by_stack_n():
    x = cgrad.ones(2)
    with profile(with_stack=True) as prof:
        for _ in range(2):
            x.exp()
        x.exp()
    groups = prof.key_averages(group_by_stack_n=1)
    assert sorted(g.count for g in groups) == [1, 2]
    assert all(len(g.stack) == 1 for g in groups)
