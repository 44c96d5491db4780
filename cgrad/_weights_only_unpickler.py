"""The restricted unpickler behind cgrad.load(weights_only=True), and the
PyTorch names a checkpoint may use, mapped to cgrad's objects.

A checkpoint's pickle can name globals and call them. Here it can name only
the allow-list (PyTorch's default list for weights: tensor rebuilders,
storage types, dtypes, Size, device, OrderedDict, a few builtins) plus what
the user allowlisted with cgrad.serialization.add_safe_globals; modules sys,
os, posix and nt are blocked outright. Calls (REDUCE, NEWOBJ) are only made
on allowed objects and state (BUILD) is only set on tensors, OrderedDicts
and allowlisted classes, so a file can never run code. The unpickler is the
pure-Python one from the standard library with those opcodes replaced: it
keeps its stack on the heap, so hostile nesting cannot exhaust the C stack.
"""
import _compat_pickle
import builtins
import codecs
import collections
import pickle
from pickle import UnpicklingError

from cgrad import _C

# dtype name -> (legacy storage class name, numpy dtype string: bfloat16,
# which numpy lacks, as its bits, viewed as bfloat16 once loaded)
DTYPES = {
    "float32": ("FloatStorage", "<f4"), "float64": ("DoubleStorage", "<f8"),
    "float16": ("HalfStorage", "<f2"), "int64": ("LongStorage", "<i8"),
    "int32": ("IntStorage", "<i4"), "int16": ("ShortStorage", "<i2"),
    "int8": ("CharStorage", "|i1"), "uint8": ("ByteStorage", "|u1"), "bool": ("BoolStorage", "|b1"),
    "bfloat16": ("BFloat16Storage", "<i2"),
}
# PyTorch storage and dtype names cgrad cannot represent: a file using them is refused clearly.
MISSING_DTYPES = {
    "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128",
    "QInt8Storage": "qint8", "QUInt8Storage": "quint8", "QInt32Storage": "qint32",
    "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}
MISSING_DTYPE_NAMES = ["complex32", "complex64", "complex128", "cfloat", "cdouble", "chalf",
                       "uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                       "float8_e5m2fnuz", "qint8", "quint8", "qint32", "quint4x2", "quint2x4"]
BLOCKED_MODULES = ("sys", "os", "posix", "nt")


class StorageType:
    """What a checkpoint's `torch.FloatStorage` (etc.) stands for."""

    def __init__(self, torch_name, dtype_name):
        self.torch_name = torch_name
        self.dtype_name = dtype_name     # None: a dtype cgrad lacks

    def __call__(self, *args, **kwargs):
        raise UnpicklingError(f"torch.{self.torch_name} cannot be constructed while loading a checkpoint")

    def __repr__(self):
        return f"torch.{self.torch_name}"


class LoadedStorage:
    """One storage of a checkpoint: a 1-D cgrad tensor over its bytes."""

    def __init__(self, flat):
        self.flat = flat


def _check_geometry(storage, storage_offset, size, stride):
    if not isinstance(storage, LoadedStorage):
        raise UnpicklingError(f"expected a storage to rebuild a tensor from, got {type(storage).__name__}")
    if not (isinstance(storage_offset, int) and isinstance(size, tuple) and isinstance(stride, tuple)
            and all(isinstance(s, int) for s in size + stride)):
        raise UnpicklingError("malformed tensor geometry in the checkpoint")
    if len(size) > 64:
        raise UnpicklingError(f"a tensor of the checkpoint has {len(size)} dimensions (at most 64)")


def _rebuild_tensor(storage, storage_offset, size, stride):
    _check_geometry(storage, storage_offset, size, stride)
    return _C._tensor_on_storage(storage.flat, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None):
    t = _rebuild_tensor(storage, storage_offset, size, stride)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype,
                       metadata=None):
    t = _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks)
    if dtype != t.dtype:
        raise UnpicklingError(f"a tensor of the checkpoint is saved as {dtype} over a {t.dtype} storage")
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    from cgrad.nn import Parameter
    return Parameter(data, requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    param = _rebuild_parameter(data, requires_grad, backward_hooks)
    _set_tensor_state(param, state)
    return param


def _set_tensor_state(t, state):
    if state is None:
        return
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], (dict, type(None))):
        state = state[0] or {}
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise UnpicklingError("malformed tensor state in the checkpoint")
    t.__dict__.update(state)


def _rebuild_from_type_v2(func, new_type, args, state):
    if func not in (_rebuild_tensor_v2, _rebuild_tensor, _rebuild_tensor_v3, _rebuild_parameter,
                    _rebuild_parameter_with_state):
        raise UnpicklingError(f"_rebuild_from_type_v2 expects a tensor rebuilder, got {func!r}")
    ret = func(*args)
    from cgrad.nn import Parameter
    if new_type is Parameter and type(ret) is not Parameter:
        ret = Parameter(ret, ret.requires_grad)
    elif new_type is not _C.Tensor and type(ret) is not new_type:
        if not (isinstance(new_type, type) and issubclass(new_type, _C.Tensor)):
            raise UnpicklingError(f"cannot rebuild a tensor as {new_type!r}")
        ret = _C.Tensor._make_subclass(new_type, ret, ret.requires_grad)
    _set_tensor_state(ret, state)
    return ret


def _unsupported_rebuild(kind):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"cgrad cannot load {kind} tensors from a checkpoint: it has dense CPU "
                           "tensors only")
    refuse.__name__ = f"refuse_{kind.replace(' ', '_')}"
    return refuse


def _device(*args):
    return _C.device(*args)


def _missing_dtype(name):
    def refuse(*args, **kwargs):
        raise RuntimeError(f"cgrad has no dtype {name}")
    return refuse


def _get_layout(name):
    raise RuntimeError(f"cgrad cannot load tensors of layout {name}: it has strided tensors only")


def torch_globals():
    """PyTorch's default weights_only allow-list, as cgrad objects."""
    from cgrad.nn import Parameter
    rc = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.serialization._get_layout": _get_layout,
        "torch.Size": _C.Size,
        "torch.Tensor": _C.Tensor,
        "torch.device": _device,
        "_codecs.encode": codecs.encode,
        "builtins.bytearray": bytearray,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._utils._rebuild_tensor": _rebuild_tensor,
        "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
        "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
        "torch._utils._rebuild_parameter": _rebuild_parameter,
        "torch._utils._rebuild_parameter_with_state": _rebuild_parameter_with_state,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
        "torch.storage.UntypedStorage": StorageType("UntypedStorage", "uint8"),
        "torch.UntypedStorage": StorageType("UntypedStorage", "uint8"),
    }
    for kind, names in [("sparse", ["_rebuild_sparse_tensor"]), ("nested", ["_rebuild_nested_tensor"]),
                        ("quantized", ["_rebuild_qtensor"]),
                        ("meta or device", ["_rebuild_meta_tensor_no_storage", "_rebuild_wrapper_subclass",
                                            "_rebuild_device_tensor_from_numpy",
                                            "_rebuild_device_tensor_from_cpu_tensor"])]:
        for name in names:
            rc[f"torch._utils.{name}"] = _unsupported_rebuild(kind)
    for name, (storage, _) in DTYPES.items():
        rc[f"torch.{name}"] = getattr(_C, name if name != "bool" else "bool_")
        rc[f"torch.{storage}"] = StorageType(storage, name)
    for storage, name in MISSING_DTYPES.items():
        rc[f"torch.{storage}"] = StorageType(storage, None)
    for name in MISSING_DTYPE_NAMES:
        rc[f"torch.{name}"] = _missing_dtype(name)
    return rc


_TORCH_GLOBALS = None
_user_safe_globals = set()


def allowed_globals():
    global _TORCH_GLOBALS
    if _TORCH_GLOBALS is None:
        _TORCH_GLOBALS = torch_globals()
    return _TORCH_GLOBALS


def user_allowed_globals():
    rc = {}
    for entry in _user_safe_globals:
        if isinstance(entry, tuple):
            obj, path = entry
            rc[path] = obj
        else:
            rc[f"{entry.__module__}.{entry.__qualname__}"] = entry
    return rc


def _wo_message(message):
    """PyTorch's wording around a weights-only failure, naming cgrad's API."""
    unsafe = ("In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` "
              "from `False` to `True`. Re-running `cgrad.load` with `weights_only` set to `False` will likely "
              "succeed, but it can result in arbitrary code execution. Do it only if you got the file from a "
              "trusted source.")
    docs = ("\n\nCheck the documentation of torch.load to learn more about types accepted by default with "
            "weights_only https://pytorch.org/docs/stable/generated/torch.load.html.")
    if "was not an allowed global by default." in message:
        text = ("Weights only load failed. This file can still be loaded, to do so you have two options, "
                "\033[1mdo those steps only if you trust the source of the checkpoint\033[0m. "
                f"\n\t(1) {unsafe}\n\t(2) Alternatively, to load with `weights_only=True` please check "
                "the recommended steps in the following error message.\n\tWeightsUnpickler error: " + message)
    else:
        text = f"Weights only load failed. {unsafe}\n"
        if "is blocked" not in message:
            text += ("Please file an issue with the following so that we can make `weights_only=True` "
                     "compatible with your use case: WeightsUnpickler error: ")
        text += "\n\n" + message
    return text + docs


class WeightsUnpickler(pickle._Unpickler):
    """pickle's unpickler with globals, calls and state restricted."""
    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, persistent_load):
        super().__init__(file, encoding="utf-8")
        self._persistent = persistent_load
        self._allowed = dict(allowed_globals())
        self._allowed.update(user_allowed_globals())
        self._allowed_ids = {id(v) for v in self._allowed.values()}
        self._user_types = tuple(v for v in user_allowed_globals().values() if isinstance(v, type))

    def persistent_load(self, pid):
        return self._persistent(pid)

    def find_class(self, module, name):
        if self.proto < 3:
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        full_path = f"{module}.{name}"
        if module in BLOCKED_MODULES:
            raise UnpicklingError(f"Trying to load unsupported GLOBAL {full_path} whose module {module} is blocked.")
        if full_path in self._allowed:
            return self._allowed[full_path]
        if full_path.startswith("builtins."):
            full_path = full_path[len("builtins."):]
        raise UnpicklingError(
            f"Unsupported global: GLOBAL {full_path} was not an allowed global by default. "
            f"Please use `cgrad.serialization.add_safe_globals([{full_path}])` or the "
            f"`cgrad.serialization.safe_globals([{full_path}])` context manager to allowlist this global "
            "if you trust this class/function.")

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in self._allowed_ids:
            raise UnpicklingError(f"Trying to call reduce for unrecognized function {func!r}")
        if not isinstance(args, tuple):
            raise UnpicklingError("REDUCE arguments must be a tuple")
        self.stack[-1] = func(*args)
    dispatch[pickle.REDUCE[0]] = load_reduce

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if id(cls) not in self._allowed_ids or not isinstance(cls, type) or not isinstance(args, tuple):
            raise UnpicklingError("Can only create new object for nn.Parameter or classes allowlisted "
                                  f"via `add_safe_globals` but got {cls!r}")
        self.append(cls(*args) if issubclass(cls, _C.Tensor) else cls.__new__(cls, *args))
    dispatch[pickle.NEWOBJ[0]] = load_newobj

    def load_refused(self):
        raise UnpicklingError("Unsupported operand: the checkpoint uses an opcode (NEWOBJ_EX, INST, OBJ "
                              "or EXT) that weights_only loading does not run")
    for _op in (pickle.NEWOBJ_EX, pickle.INST, pickle.OBJ, pickle.EXT1, pickle.EXT2, pickle.EXT4):
        dispatch[_op[0]] = load_refused
    del _op

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, _C.Tensor):
            _set_tensor_state(inst, state)
        elif type(inst) in (collections.OrderedDict, collections.Counter) and isinstance(state, dict):
            inst.__dict__.update(state)
        elif self._user_types and type(inst) in self._user_types:
            self.stack.append(state)
            pickle._Unpickler.load_build(self)
        else:
            raise UnpicklingError("Can only build Tensor, Parameter, OrderedDict or types allowlisted "
                                  f"via `add_safe_globals`, but got {type(inst)}")
    dispatch[pickle.BUILD[0]] = load_build


def weights_only_load(file, persistent_load):
    """Unpickle with the restricted unpickler; failures read as PyTorch's."""
    try:
        return WeightsUnpickler(file, persistent_load).load()
    except (UnpicklingError, AttributeError, TypeError, ValueError, IndexError, KeyError, EOFError,
            RecursionError, MemoryError, OverflowError) as e:
        raise UnpicklingError(_wo_message(f"{type(e).__name__}: {e}" if not isinstance(e, UnpicklingError)
                                          else str(e))) from None
