"""The compile tests compare compiled results with eager's bit for bit, so
they run with config.fused_float32_math off (float32 programs then compute
as eager's kernels do); a test module that sets FUSED_FLOAT32_MATH = True
(test_compile_f32_math.py) runs with it on, as cgrad.compile's default is,
and checks that mode's accuracy instead."""
import pytest

from cgrad._dynamo import config


@pytest.fixture(autouse=True)
def fused_float32_math_setting(request):
    previous = config.fused_float32_math
    config.fused_float32_math = getattr(request.module, "FUSED_FLOAT32_MATH", False)
    yield
    config.fused_float32_math = previous
