"""What the torch.special functions of cgrad/_special_bessel.py,
_special_polynomials.py and _special_gamma.py share: PyTorch's argument
checks and dtype rules for them (integers promote to the default float;
a dtype their CPU kernels lack is PyTorch's '"<name>_cpu" not implemented'
error), broadcasting of two operands (a tensor and a tensor or a Python
number), and out=."""
import numpy as np

from cgrad import _C
from cgrad._op_support import np_of, tensor_of, typename
from cgrad._ops_composites import _dtype_title

_Tensor = _C.Tensor


def is_number(value):
    return isinstance(value, (bool, int, float)) and not isinstance(value, _Tensor)


def kernel_dtype(kernel, dtype, half_ok=False):
    """The dtype kernel `kernel` computes in for operands of `dtype`:
    integers and bool take the default float; float16/bfloat16 only where
    PyTorch's kernel has them (half_ok), complex nowhere."""
    if dtype in (_C.float32, _C.float64) or (half_ok and dtype == _C.float16):
        return dtype
    if dtype.is_floating_point or dtype.is_complex:
        raise NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{_dtype_title(dtype)}'")
    return _C._default_float_dtype()


def unary_operand(fname, input):
    """(float64 numpy values, result dtype) of a one-tensor special function."""
    if not isinstance(input, _Tensor):
        raise TypeError(f"special_{fname}(): argument 'input' (position 1) must be Tensor, not {typename(input)}")
    dtype = kernel_dtype(fname, input.dtype)
    return input.detach().numpy().astype(np.float64), dtype


def invalid_combination(fname, a, b, names):
    first, second = names
    return TypeError(f"{fname}() received an invalid combination of arguments - got "
                     f"({typename(a)}, {typename(b)}), but expected one of:\n"
                     f" * (Tensor {first}, Tensor {second}, *, Tensor out = None)\n"
                     f" * (Number {'self' if first == 'input' else first}, Tensor {second}, *, Tensor out = None)\n"
                     f" * (Tensor {first}, Number {second}, *, Tensor out = None)\n")


def check_pair(fname, a, b, names, numbers_allowed=True):
    """PyTorch's argument errors for (Tensor, Tensor | Number) signatures
    (fname as PyTorch names the function there: special_zeta, igamma)."""
    if numbers_allowed:
        if not ((isinstance(a, _Tensor) and (isinstance(b, _Tensor) or is_number(b)))
                or (is_number(a) and isinstance(b, _Tensor))):
            raise invalid_combination(fname, a, b, names)
        return
    for position, (value, name) in enumerate(zip((a, b), names), 1):
        if not isinstance(value, _Tensor):
            raise TypeError(f"{fname}(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {typename(value)}")


def pair_dtype(a, b):
    return _C.result_type(a, b)


def pair_values(a, b, work_dtype):
    """Both operands as broadcast numpy arrays of work_dtype."""
    av = np_of(a) if isinstance(a, _Tensor) else np.asarray(a)
    bv = np_of(b) if isinstance(b, _Tensor) else np.asarray(b)
    av, bv = np.broadcast_arrays(av.astype(work_dtype), bv.astype(work_dtype))
    return av, bv


def numpy_dtype(dtype):
    if dtype == _C.float64:
        return np.float64
    return np.float32 if dtype == _C.float32 else np.float16


def result_tensor(values, dtype):
    with np.errstate(all="ignore"):
        if dtype == _C.bfloat16:       # numpy has none: float32, rounded once by the cast
            return tensor_of(np.asarray(values).astype(np.float32)).to(dtype)
        return tensor_of(np.asarray(values).astype(numpy_dtype(dtype)))


def with_out(fname, result, out):
    return result if out is None else _C._with_out(result, out, "special_" + fname)
