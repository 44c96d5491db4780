"""How a cgrad tensor travels over MPI: the tensor's own memory, seen as a
numpy array (no copy), paired with the MPI datatype of its dtype, and
PyTorch's reduce ops mapped onto MPI's. float16 has no MPI datatype or
arithmetic, so it travels as 16-bit words reduced by user-defined MPI ops
computing in numpy's float16; bool reduces with MPI's logical ops, as
PyTorch's backends treat a bool SUM as OR."""
import numpy as np

import cgrad
from cgrad.distributed._reduce_op import ReduceOp, RedOpType


_MPI = None


def mpi():
    """mpi4py's MPI module, imported on first use: importing it initializes
    MPI, which a process that never calls init_process_group should not pay."""
    global _MPI
    if _MPI is None:
        from mpi4py import MPI
        _MPI = MPI
    return _MPI


def check_single_tensor(param, param_name):
    if not isinstance(param, cgrad.Tensor):
        raise TypeError(
            f"""Invalid function argument. Expected parameter `{param_name}` of type cgrad.Tensor
             but got {type(param)} instead.""")


def check_tensor_list(param, param_name):
    if not isinstance(param, list):
        raise TypeError(
            f"""Invalid function argument. Expected parameter `{param_name}` of type List[cgrad.Tensor]
             but got {type(param)} instead.""")
    if not all(isinstance(p, cgrad.Tensor) for p in param):
        raise TypeError(
            f"""Invalid function argument. Expected parameter `{param_name}` of type List[cgrad.Tensor]
             but got {type(param)} with elements of type {[type(p) for p in param]}.""")


def ensure_same_dtype(*tensors):
    last = None
    for t in tensors:
        for x in (t if isinstance(t, list) else (t,)):
            if last is None:
                last = x.dtype
            elif last != x.dtype:
                raise ValueError(f"Invalid usage of tensors with different dtypes Found {last} and  {x.dtype}")


def as_array(tensor):
    """The tensor's memory as a writable numpy array: no copy, so what MPI
    writes lands in the tensor. Its buffer is one contiguous run, as MPI
    sends it whole."""
    if not tensor.is_contiguous():
        raise RuntimeError("Tensors must be contiguous")
    return tensor.detach().numpy()


_WORD_OF = {np.dtype(np.float16): np.uint16}


_datatype_of = {}


def datatype(array):
    """The MPI datatype that carries `array`'s elements."""
    found = _datatype_of.get(array.dtype)
    if found is None:
        MPI = mpi()
        word = _WORD_OF.get(array.dtype)
        if word is not None:
            found = MPI._typedict[np.dtype(word).char]
        elif array.dtype == np.bool_:
            found = MPI.C_BOOL
        else:
            found = MPI._typedict[array.dtype.char]
        _datatype_of[array.dtype] = found
    return found


def message(array):
    """mpi4py's [buffer, datatype]: mpi4py counts the elements (per rank
    where a collective splits the buffer among ranks)."""
    return [array, datatype(array)]


_MPI_OP_NAME = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD",
                RedOpType.MIN: "MIN", RedOpType.MAX: "MAX", RedOpType.BAND: "BAND",
                RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}
_BOOL_OP_NAME = {RedOpType.SUM: "LOR", RedOpType.AVG: "LOR", RedOpType.PRODUCT: "LAND",
                 RedOpType.MIN: "LAND", RedOpType.MAX: "LOR", RedOpType.BAND: "LAND",
                 RedOpType.BOR: "LOR", RedOpType.BXOR: "LXOR"}
_NUMPY_UFUNC = {RedOpType.SUM: np.add, RedOpType.AVG: np.add, RedOpType.PRODUCT: np.multiply,
                RedOpType.MIN: np.minimum, RedOpType.MAX: np.maximum}
_float16_ops = {}


def red_op_type(op):
    """The RedOpType of a ReduceOp argument, checked."""
    if isinstance(op, ReduceOp):
        op = op.op
    if not isinstance(op, RedOpType):
        raise TypeError(f"all_reduce(): argument 'op' must be ReduceOp, not {type(op).__name__}")
    if op == RedOpType.PREMUL_SUM:
        raise RuntimeError("Cannot use ReduceOp.PREMUL_SUM with MPI")
    return op


_mpi_op_of = {}


def mpi_op(op, array):
    """The MPI reduction computing PyTorch's `op` on arrays like `array`
    (AVG reduces as SUM; finish_reduction divides)."""
    found = _mpi_op_of.get((op, array.dtype))
    if found is None:
        found = _mpi_op_of[(op, array.dtype)] = _find_mpi_op(op, array)
    return found


def _find_mpi_op(op, array):
    MPI = mpi()
    if array.dtype == np.bool_:
        return getattr(MPI, _BOOL_OP_NAME[op])
    if array.dtype.kind == "f" and op in (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR):
        raise RuntimeError(f'"bitwise_{op.name[1:].lower()}_cpu" not implemented for '
                           f"'{cgrad_dtype_name(array.dtype)}'")
    if array.dtype == np.float16:
        user_op = _float16_ops.get(op)
        if user_op is None:
            ufunc = _NUMPY_UFUNC[op]

            def reduce_float16(inbuf, inoutbuf, datatype):
                a = np.frombuffer(inbuf, dtype=np.float16)
                b = np.frombuffer(inoutbuf, dtype=np.float16)
                ufunc(a, b, out=b)
            user_op = _float16_ops[op] = MPI.Op.Create(reduce_float16, commute=True)
        return user_op
    return getattr(MPI, _MPI_OP_NAME[op])


def finish_reduction(op, array, group_size):
    """AVG: the sum divided by the group's size, in the tensor's dtype
    (integers truncated toward zero, as NCCL's average)."""
    if op == RedOpType.AVG and array.dtype != np.bool_:
        if array.dtype.kind == "f":
            np.divide(array, group_size, out=array)
        else:
            array[...] = (array / group_size).astype(array.dtype)


def cgrad_dtype_name(np_dtype):
    return {"f": {2: "Half", 4: "Float", 8: "Double"}}.get(np_dtype.kind, {}).get(np_dtype.itemsize, str(np_dtype))


def free_user_ops():
    for user_op in _float16_ops.values():
        user_op.Free()
    _float16_ops.clear()
    _mpi_op_of.clear()
