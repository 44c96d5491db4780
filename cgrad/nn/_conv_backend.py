"""Which of PyTorch's CPU convolution paths a call takes, for the wording of
a dtype mismatch between input and weight.

PyTorch checks the types where its path does: its oneDNN path
(ConvParams::use_mkldnn) says "Input type (...) and weight type (...)
should be the same or input should be a MKLDNN tensor and weight is a dense
tensor", its native kernels "expected scalar type X but found Y". The path
depends on the input's dtype and shape, the weight's shape, stride,
dilation, groups and the thread count, and for float16 input on the CPU:
oneDNN takes float16 only where the CPU has its float16 instructions
(AVX512-FP16, or AVX-NE-CONVERT), so PyTorch's message, and cgrad's, differs
between machines. The rule below was read off torch 2.13 over batch, channel,
kernel, stride, dilation and size variations, transposed or not (1-d
convolutions are 2-d ones with a height of 1, as PyTorch computes them).
"""
import functools


@functools.lru_cache(maxsize=None)
def onednn_float16_cpu():
    """Whether this CPU has the float16 instructions oneDNN needs (Linux's
    /proc/cpuinfo; elsewhere taken as absent)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split())
                    return "avx512_fp16" in flags or "avx_ne_convert" in flags
    except OSError:
        pass
    return False


@functools.lru_cache(maxsize=None)
def onednn_bfloat16_cpu():
    """Whether oneDNN takes bfloat16 on this CPU (PyTorch's
    mkldnn_bf16_device_check on x86: AVX-512 BW, VL and DQ)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    return {"avx512bw", "avx512vl", "avx512dq"} <= set(line.split())
    except OSError:
        pass
    return False


def takes_onednn(dtype_name, input_shape, weight_shape, stride, dilation, groups, num_threads):
    """Whether PyTorch runs this convolution (transposed or not) through oneDNN."""
    if dtype_name == "float16":
        return onednn_float16_cpu()
    if dtype_name == "bfloat16":        # any shape, where the CPU has the instructions
        return onednn_bfloat16_cpu()
    if dtype_name != "float32":
        return False
    if len(input_shape) == 3:       # conv1d: (N, C, L) as (N, C, 1, L), its weight likewise
        input_shape = (input_shape[0], input_shape[1], 1, input_shape[2])
        weight_shape = tuple(weight_shape[:2]) + (1, weight_shape[2])
    n, c, d2, d3 = input_shape[:4]
    kh, kw = weight_shape[-2], weight_shape[-1]
    worth_it = (any(s != 1 for s in stride) or any(d != 1 for d in dilation) or n >= 16
                or kw != 1 or kh != 1 or num_threads > 1)
    large_enough = groups > 1 or (kw > 3 and kh > 3) or n > 1 or n * c * d2 * d3 > 20480
    return worth_it and large_enough


def _onednn_type_name(t, legacy_name):
    """How oneDNN's check names a tensor's type: the legacy class name, but
    for bfloat16 (which has none) the backend's type name."""
    return "CPUBFloat16Type" if str(t.dtype).endswith("bfloat16") else legacy_name(t)


def mismatch_message(x, w, stride, dilation, groups, legacy_name):
    """PyTorch's error text for input x and weight w of different dtypes
    (legacy_name(t): 'cgrad.FloatTensor' and the like)."""
    import cgrad
    x_name, w_name = str(x.dtype).split(".")[-1], str(w.dtype).split(".")[-1]
    if takes_onednn(x_name, tuple(x.shape), tuple(w.shape), stride, dilation, groups, cgrad.get_num_threads()):
        return (f"Input type ({_onednn_type_name(x, legacy_name)}) and weight type "
                f"({_onednn_type_name(w, legacy_name)}) should be the same or input "
                "should be a MKLDNN tensor and weight is a dense tensor")
    from cgrad._ops_composites import _dtype_title
    return f"expected scalar type {_dtype_title(x.dtype)} but found {_dtype_title(w.dtype)}"


def bias_mismatch_message(x, w, b, stride, dilation, groups, legacy_name):
    """The same for a transposed convolution's bias (checked after the weight)."""
    import cgrad
    x_name = str(x.dtype).split(".")[-1]
    if takes_onednn(x_name, tuple(x.shape), tuple(w.shape), stride, dilation, groups, cgrad.get_num_threads()):
        return (f"Input type ({_onednn_type_name(x, legacy_name)}) and bias type "
                f"({_onednn_type_name(b, legacy_name)}) should be the same or input "
                "should be a MKLDNN tensor and bias is a dense tensor")
    from cgrad._ops_composites import _dtype_title
    return f"expected scalar type {_dtype_title(x.dtype)} but found {_dtype_title(b.dtype)}"


ONEDNN_NO_PRIMITIVE = ("could not create a primitive descriptor for the convolution forward propagation primitive. "
                       "Run workload with environment variable ONEDNN_VERBOSE=all to get additional diagnostic "
                       "information.")


def check_kernel_size(x, w, stride, dilation, groups):
    """A weight with a zero spatial size: oneDNN cannot build the primitive
    where PyTorch takes that path; its native kernels refuse the kernel size."""
    import cgrad
    kernel = tuple(w.shape[2:])
    if all(k > 0 for k in kernel):
        return
    if takes_onednn(str(x.dtype).split(".")[-1], tuple(x.shape), tuple(w.shape), stride, dilation, groups,
                    cgrad.get_num_threads()):
        raise RuntimeError(ONEDNN_NO_PRIMITIVE)
    if len(kernel) == 3:
        raise RuntimeError(f"kernel size should be greater than zero, but got: {kernel[0]} x {kernel[1]} x "
                           f"{kernel[2]} (TxHxW)")
    kh, kw = (1, kernel[0]) if len(kernel) == 1 else kernel
    raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")
