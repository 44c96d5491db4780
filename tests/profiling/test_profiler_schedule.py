"""cgrad.profiler.schedule and profile.step(): the actions the schedule
returns step by step, and when on_trace_ready fires with which steps'
events, against torch's profiler running the same loop."""
import warnings

import pytest

import cgrad
from cgrad.profiler import ProfilerAction, profile, schedule

from helpers import requires_torch

try:
    import torch
except ImportError:
    torch = None

SCHEDULES = [dict(wait=1, warmup=1, active=2), dict(wait=1, warmup=1, active=2, repeat=2),
             dict(wait=0, warmup=2, active=1, repeat=1, skip_first=3), dict(wait=2, warmup=1, active=3, repeat=3,
                                                                           skip_first=1, skip_first_wait=1)]


def test_schedule_actions_by_hand():
    fn = schedule(wait=1, warmup=1, active=2, repeat=1)
    assert [fn(i) for i in range(6)] == [ProfilerAction.NONE, ProfilerAction.WARMUP, ProfilerAction.RECORD,
                                         ProfilerAction.RECORD_AND_SAVE, ProfilerAction.NONE, ProfilerAction.NONE]
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        schedule(wait=0, warmup=0, active=0)
    with pytest.warns(UserWarning, match="Profiler won't be using warmup"):
        schedule(wait=0, warmup=0, active=1)


@requires_torch
@pytest.mark.parametrize("kwargs", SCHEDULES)
def test_schedule_actions_match_torch(kwargs):
    ours, theirs = schedule(**kwargs), torch.profiler.schedule(**kwargs)
    assert [ours(i).name for i in range(40)] == [theirs(i).name for i in range(40)]


def _run(lib, kwargs, steps):
    seen = []

    def ready(prof):
        events = prof.events()
        seen.append((prof.step_num, [(e.name, e.trace_name) for e in events if e.name.startswith("ProfilerStep")],
                     sum(e.name == "aten::ones" for e in events)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with lib.profiler.profile(schedule=lib.profiler.schedule(**kwargs), on_trace_ready=ready) as prof:
            for _ in range(steps):
                lib.ones(2)
                prof.step()
    return seen


@requires_torch
@pytest.mark.parametrize("kwargs", SCHEDULES)
@pytest.mark.parametrize("steps", [3, 8, 13])
def test_trace_ready_steps_match_torch(kwargs, steps):
    assert _run(cgrad, kwargs, steps) == _run(torch, kwargs, steps)


def test_trace_ready_steps_by_hand():
    assert _run(cgrad, dict(wait=1, warmup=1, active=2, repeat=2), 10) == [
        (4, [("ProfilerStep*", "ProfilerStep#2"), ("ProfilerStep*", "ProfilerStep#3")], 2),
        (8, [("ProfilerStep*", "ProfilerStep#6"), ("ProfilerStep*", "ProfilerStep#7")], 2)]


def test_without_schedule_everything_is_recorded_and_no_step_events():
    calls = []
    with profile(on_trace_ready=calls.append) as prof:
        for _ in range(3):
            cgrad.ones(1)
            prof.step()
    assert calls == [prof]
    assert [e.name for e in prof.events()] == ["aten::ones"] * 3


def test_start_stop_and_the_schedule_refusing_device_stopped():
    prof = profile()
    prof.start()
    cgrad.zeros(2)
    prof.stop()
    assert [e.name for e in prof.events()] == ["aten::zeros"]
    with pytest.raises(ValueError, match="DEVICE_STOPPED"):
        profile(schedule=lambda step: ProfilerAction.DEVICE_STOPPED)
