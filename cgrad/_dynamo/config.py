"""cgrad.compile's settings, named as torch._dynamo.config's."""

# captures kept per code object before new guard sets run eagerly (torch's default)
recompile_limit = 8

# replay a captured pointwise chain ending in sum().backward() as one fused program (fusion.py)
fuse_pointwise = True

# a capture builds its tape (and plans fusion) at the first replay rather than at once, holding the
# capture's tensors until then, when these hold at most this many bytes (above, it builds at once)
deferred_capture_bytes = 2 ** 20

# a fused float32 program computes exp, log, tanh, sigmoid and their backward formulas in float32
# arithmetic (src/cgrad/vecmath_f32.h: at most 0.9 ulp from the exact value for exp, 0.8 for log, 1.2
# for tanh, 2.4 for sigmoid; PyTorch's float32 kernels are within 0.6 for exp, log and tanh), within
# PyTorch's float32 tolerance of its results and faster than eager's functions, which compute in
# double and round once; False gives eager's bits (read when a tape is planned)
fused_float32_math = True
