"""torch.autograd.profiler over cgrad: profile (the context manager whose
function_events, key_averages, table and export_chrome_trace the
torch.profiler.profile wraps), record_function (a named region, also a
decorator), and emit_nvtx / emit_itt, which on a CPU-only build do what
torch's do without CUDA or ITT: refuse (nvtx) or range nothing (itt).

Ops are timed by the wrappers of cgrad/autograd/_op_timing.py, swapped in
only while a profile records."""
import contextlib
import time
import warnings

from cgrad.autograd.profiler_util import (DeviceType, EventList, FunctionEvent, FunctionEventAvg,  # noqa: F401
                                          Interval, Kernel, MemRecordsAcc, StringTable, _rewrite_name)
from cgrad.autograd import _op_timing

__all__ = ["profile", "record_function", "emit_itt", "emit_nvtx", "load_nvprof", "EnforceUnique",
           "EventList", "FunctionEvent", "FunctionEventAvg", "kineto_available"]


def kineto_available():
    return False


class profile:
    """Records the ops cgrad runs inside it (see torch.autograd.profiler.profile)."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = enabled
        if not self.enabled:
            return
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` "
                          "instead.", FutureWarning, stacklevel=2)
            warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
            use_cuda = False
        if use_device not in (None, "cpu"):
            raise AssertionError(f"{use_device} doesn't support profile.")
        if not use_cpu:
            raise AssertionError("Legacy CUDA profiling requires use_cpu=True")
        self.use_cuda = use_cuda
        self.use_device = None
        self.function_events = None
        self.entered = False
        self.record_shapes = record_shapes
        self.with_flops = with_flops
        self.record_shapes |= self.with_flops
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.use_cpu = use_cpu
        self.acc_events = acc_events
        self._collector = None
        self._origin_ns = None
        self._origin_wall_us = None

    def config(self):
        return {"record_shapes": self.record_shapes, "profile_memory": self.profile_memory,
                "with_stack": self.with_stack, "with_flops": self.with_flops, "with_modules": self.with_modules}

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self._prepare_trace()
        self._start_trace()
        return self

    def _prepare_trace(self):
        self.entered = True
        self._collector = _op_timing.Collector(self.record_shapes, self.profile_memory, self.with_stack)

    def _start_trace(self):
        self.entered = True
        if self._collector is None:
            self._prepare_trace()
        self._origin_ns = time.perf_counter_ns()
        self._origin_wall_us = time.time_ns() / 1000.0
        _op_timing.start_recording(self._collector)

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        collector = self._collector
        _op_timing.stop_recording(collector)
        events = self._function_events(collector)
        if self.acc_events and self.function_events is not None:
            events = EventList(list(self.function_events) + list(events), profile_memory=self.profile_memory,
                               with_flops=self.with_flops)
            events._tree_built = True
        self.function_events = events
        self._collector = None
        self.entered = False
        return False

    def _function_events(self, collector):
        origin = self._origin_ns
        events = []
        for index, (name, start, end, thread, parent, shapes, nbytes, stack, annotation) in enumerate(
                collector.records):
            event = FunctionEvent(id=index + 1, name=_rewrite_name(name, with_wildcard=True),
                                  trace_name=_rewrite_name(name), thread=thread, start_us=(start - origin) / 1000.0,
                                  end_us=(end - origin) / 1000.0, input_shapes=shapes if shapes else [],
                                  stack=stack if stack else [], cpu_memory_usage=nbytes,
                                  is_user_annotation=annotation, sequence_nr=-1)
            events.append(event)
            if parent >= 0:
                events[parent].append_cpu_child(event)
                event.set_cpu_parent(events[parent])
        result = EventList(events, profile_memory=self.profile_memory, with_flops=self.with_flops)
        result._tree_built = True
        return result

    def __repr__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return repr(self.function_events)

    def __str__(self):
        if self.function_events is None:
            return "<unfinished torch.autograd.profile>"
        return str(self.function_events)

    def _ensure_function_events(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        self._ensure_function_events()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit,
                                          max_src_column_width=max_src_column_width,
                                          max_name_column_width=max_name_column_width,
                                          max_shapes_column_width=max_shapes_column_width, header=header,
                                          top_level_events_only=top_level_events_only, time_unit=time_unit)

    table.__doc__ = EventList.table.__doc__

    def export_chrome_trace(self, path):
        self._ensure_function_events()
        from cgrad.autograd.profiler_util import chrome_trace
        import json
        trace = chrome_trace(self.function_events, trace_name=path)
        for entry in trace["traceEvents"]:
            entry["ts"] += self._origin_wall_us
        with open(path, "w") as f:
            json.dump(trace, f)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        self._ensure_function_events()
        if not self.with_stack:
            raise AssertionError("export_stacks() requires with_stack=True")
        return self.function_events.export_stacks(path, metric)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        self._ensure_function_events()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n,
                                                 group_by_overload_name)

    def total_average(self):
        self._ensure_function_events()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._ensure_function_events()
        return self.function_events.self_cpu_time_total


class record_function(contextlib.ContextDecorator):
    """A named region of the profile: every op inside it nests under an
    event of that name (a user annotation). Does nothing when no profile
    records; also usable as a decorator."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self.run_callbacks_on_exit = True
        self.record = None
        self._collector = None

    def __enter__(self):
        collector = _op_timing.current_collector()
        if collector is not None:
            self._collector = collector
            self.record = collector.begin(self.name, annotation=True)
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if not self.run_callbacks_on_exit:
            return False
        if self._collector is not None:
            self._collector.end(self.record)
            self._collector = None
            self.record = None
        return False

    def _call_end_callbacks_on_future(self, fut):
        if not self.run_callbacks_on_exit:
            raise RuntimeError("_call_end_callbacks_on_future can only be called once.")
        self.run_callbacks_on_exit = False
        if self._collector is not None:
            self._collector.end(self.record)
            self._collector = None
        return fut


class _AnnotationRanges:
    """What emit_itt and emit_nvtx share: a no-op when disabled, not
    reentrant, and a start that says whether the tool is there."""
    _tool = ""

    def __init__(self, enabled=True, record_shapes=False):
        self.enabled = enabled
        self.entered = False
        self.record_shapes = record_shapes

    def _start(self):
        pass

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError(f"{self._tool} annotation context manager is not reentrant")
        self._start()
        self.entered = True
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if self.enabled:
            self.entered = False
        return False


class emit_itt(_AnnotationRanges):
    """Ranges for Intel VTune around each op: cgrad has no ITT, so there is
    no VTune to see them and the region runs as it is (cgrad.profiler.itt's
    range calls are no-ops too)."""
    _tool = "ITT"


class emit_nvtx(_AnnotationRanges):
    """NVTX ranges for nvprof: cgrad has no CUDA, so entering raises as
    torch's does on a CPU-only build."""
    _tool = "NVTX"

    def _start(self):
        raise AssertionError("Torch not compiled with CUDA enabled")


def load_nvprof(path):
    raise RuntimeError("load_nvprof needs an nvprof trace: cgrad has no CUDA")


class EnforceUnique:
    """Raises an error if a key is seen more than once."""

    def __init__(self):
        self.seen = set()

    def see(self, *key):
        if key in self.seen:
            raise RuntimeError("duplicate key: " + str(key))
        self.seen.add(key)

