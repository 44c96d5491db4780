"""cgrad.profiler: PyTorch's torch.profiler over cgrad (profile,
record_function, schedule, tensorboard_trace_handler, ...): ops are
timed while a profile records and cost nothing otherwise
(cgrad/autograd/_op_timing.py)."""
from cgrad.autograd.profiler import kineto_available, record_function
from cgrad.autograd.profiler_util import DeviceType
from cgrad.profiler import itt
from cgrad.profiler.profiler import (ProfilerAction, ProfilerActivity, _KinetoProfile,  # noqa: F401
                                     profile, schedule, supported_activities, tensorboard_trace_handler)

__all__ = ["profile", "schedule", "supported_activities", "tensorboard_trace_handler", "ProfilerAction",
           "ProfilerActivity", "kineto_available", "DeviceType", "record_function", "itt"]
