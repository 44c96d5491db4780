"""cgrad.save and cgrad.load in PyTorch's checkpoint format, without torch.

Writing: PyTorch's zip format (what torch.save writes by default): <name>/data.pkl
is a protocol-2 pickle naming PyTorch's globals (torch._utils._rebuild_tensor_v2,
torch.FloatStorage, torch.Size, ...), each storage's bytes are a stored member
<name>/data/<key> aligned to 64 bytes, plus PyTorch's version records. Tensors
sharing a storage share it in the file. torch.load(path, weights_only=True)
reads it; _use_new_zipfile_serialization=False writes PyTorch's legacy format.

Reading: PyTorch's zip format, its legacy (non-zip) format, and cgrad's
earlier own format (a zip with structure.json and .npy members). Pickles go
through the restricted unpickler of _weights_only_unpickler.py unless the
caller passes weights_only=False (needed for whole modules, as in PyTorch).
Views of one storage stay views of one storage; mmap=True maps the file's
storages instead of reading them. Every size, offset and key from the file
is checked before memory is touched.
"""
import contextlib
import io
import os
import pickle
import struct
import sys

import numpy as np

from cgrad import _C

__all__ = ["save", "load", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "safe_globals"]

DEFAULT_PROTOCOL = 2


def _wo():
    """The restricted unpickler's module, imported when first needed."""
    from cgrad import _weights_only_unpickler
    return _weights_only_unpickler

STORAGE_ALIGNMENT = 64
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001
CGRAD_V1_FORMAT = "cgrad-save-v1"


# --- allowlisting globals for weights_only loading (torch.serialization's API)

def add_safe_globals(safe_globals):
    """Allow these classes/functions (or (obj, "module.name") pairs) in
    weights_only loading."""
    _wo()._user_safe_globals.update(safe_globals)


def clear_safe_globals():
    _wo()._user_safe_globals.clear()


def get_safe_globals():
    return list(_wo()._user_safe_globals)


@contextlib.contextmanager
def safe_globals(safe_globals):
    saved = set(_wo()._user_safe_globals)
    add_safe_globals(safe_globals)
    try:
        yield
    finally:
        _wo()._user_safe_globals.clear()
        _wo()._user_safe_globals.update(saved)


# --- writing ------------------------------------------------------------------

class _TorchGlobal:
    """A PyTorch global written into the pickle by name (torch is never imported)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):
        raise TypeError(f"{self.module}.{self.name} is only a name written into a checkpoint")


_G = {}


def _torch_global(module, name):
    key = (module, name)
    if key not in _G:
        _G[key] = _TorchGlobal(module, name)
    return _G[key]


def _dtype_name(dtype):
    return str(dtype).split(".")[-1]


class _StorageRef:
    def __init__(self, key, dtype_name, numel):
        self.key, self.dtype_name, self.numel = key, dtype_name, numel


class _TorchPickler(pickle._Pickler):
    """pickle's Pickler writing cgrad objects as PyTorch's: tensors through
    _rebuild_tensor_v2 over persistent storages, Parameters through
    _rebuild_parameter, Size, dtypes and devices as torch's."""
    dispatch = dict(pickle._Pickler.dispatch)

    def __init__(self, file, protocol, legacy):
        super().__init__(file, protocol)
        self.legacy = legacy
        self.storages = {}      # (id(storage), dtype) -> (_StorageRef, storage object, base pointer, nbytes)

    def save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)
    dispatch[_TorchGlobal] = save_torch_global

    def save_dtype(self, obj):
        self.save_torch_global(_torch_global("torch", _dtype_name(obj)))
    dispatch[_C.dtype] = save_dtype

    def persistent_id(self, obj):
        if type(obj) is not _StorageRef:
            return None
        storage_type = _torch_global("torch", _wo().DTYPES[obj.dtype_name][0])
        if self.legacy:
            return ("storage", storage_type, obj.key, "cpu", obj.numel, None)
        return ("storage", storage_type, obj.key, "cpu", obj.numel)

    def _storage_of(self, t):
        # bfloat16 (numpy has none) through its bits, in the same storage
        view = (t.detach().view(_C.int16) if t.dtype == _C.bfloat16 else t.detach()).numpy()
        storage = view.base                      # the tensor's Storage (numpy view keeps it)
        name = _dtype_name(t.dtype)
        slot = (id(storage), name)
        if slot not in self.storages:
            itemsize = t.element_size()
            base_ptr = t.data_ptr() - t.storage_offset() * itemsize
            key = str(len(self.storages))
            ref = _StorageRef(key, name, storage.nbytes // itemsize)
            self.storages[slot] = (ref, storage, base_ptr, ref.numel * itemsize)
        return self.storages[slot][0]

    def reducer_override(self, obj):
        if isinstance(obj, _C.Tensor):
            return self._reduce_tensor(obj)
        if isinstance(obj, _C.Size):
            return (_torch_global("torch", "Size"), (tuple(obj),))
        if isinstance(obj, _C.device):
            return (_torch_global("torch", "device"), (str(obj),))
        return NotImplemented

    def _reduce_tensor(self, t):
        from cgrad.nn import Parameter
        state = getattr(t, "__dict__", None) or None
        if isinstance(t, Parameter):
            plain = t.detach()
            if state:
                return (_torch_global("torch._utils", "_rebuild_parameter_with_state"),
                        (plain, t.requires_grad, _ordered(), state))
            return (_torch_global("torch._utils", "_rebuild_parameter"), (plain, t.requires_grad, _ordered()))
        args = (self._storage_of(t), t.storage_offset(), tuple(t.shape), tuple(t.stride()),
                bool(t.requires_grad), _ordered())
        rebuild = _torch_global("torch._utils", "_rebuild_tensor_v2")
        if type(t) is _C.Tensor and not state:
            return (rebuild, args)
        new_type = _torch_global("torch", "Tensor") if type(t) is _C.Tensor else type(t)
        return (_torch_global("torch._tensor", "_rebuild_from_type_v2"), (rebuild, new_type, args, state))


def _ordered():
    import collections
    return collections.OrderedDict()


def _storage_bytes(entry):
    """The bytes of a storage being saved (its owner is alive in `entry`)."""
    import ctypes
    _, storage, base_ptr, nbytes = entry
    if nbytes == 0:
        return memoryview(b"")
    return memoryview((ctypes.c_char * nbytes).from_address(base_ptr)).cast("B")


def _pickle_obj(obj, protocol, legacy):
    buf = io.BytesIO()
    pickler = _TorchPickler(buf, protocol, legacy)
    pickler.dump(obj)
    return buf.getvalue(), pickler.storages


def _write_aligned(z, name, data):
    import zipfile
    zinfo = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    zinfo.compress_type = zipfile.ZIP_STORED
    size = len(data)
    zip64_extra = 20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0
    header = 30 + len(name.encode("utf-8")) + zip64_extra + 4
    pad = (-(z.start_dir + header)) % STORAGE_ALIGNMENT
    zinfo.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
    z.writestr(zinfo, data)


def _archive_name(f):
    if isinstance(f, (str, os.PathLike)):
        stem = os.path.splitext(os.path.basename(os.fspath(f)))[0]
        return stem or "archive"
    return "archive"


def save(obj, f, pickle_module=pickle, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save obj (a tensor, a state_dict, nested containers, a whole module)
    in PyTorch's checkpoint format to a path or a writable binary file."""
    if pickle_module is not pickle:
        raise ValueError("cgrad.save writes with the standard pickle module only")
    data_pkl, storages = _pickle_obj(obj, pickle_protocol, not _use_new_zipfile_serialization)
    own = isinstance(f, (str, os.PathLike))
    fh = open(f, "wb") if own else f
    try:
        if _use_new_zipfile_serialization:
            _save_zip(fh, _archive_name(f), data_pkl, storages, _disable_byteorder_record)
        else:
            _save_legacy(fh, data_pkl, storages, pickle_protocol)
    finally:
        if own:
            fh.close()


def _save_zip(fh, prefix, data_pkl, storages, no_byteorder):
    import zipfile
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
        _write_aligned(z, f"{prefix}/data.pkl", data_pkl)
        _write_aligned(z, f"{prefix}/.format_version", b"1")
        _write_aligned(z, f"{prefix}/.storage_alignment", str(STORAGE_ALIGNMENT).encode())
        if not no_byteorder:
            _write_aligned(z, f"{prefix}/byteorder", sys.byteorder.encode())
        for entry in storages.values():
            _write_aligned(z, f"{prefix}/data/{entry[0].key}", _storage_bytes(entry))
        _write_aligned(z, f"{prefix}/version", b"3\n")
        _write_aligned(z, f"{prefix}/.data/serialization_id",
                       str(int.from_bytes(os.urandom(16), "little")).zfill(40)[:40].encode())


def _save_legacy(fh, data_pkl, storages, protocol):
    sys_info = {"protocol_version": LEGACY_PROTOCOL, "little_endian": sys.byteorder == "little",
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    for header in (LEGACY_MAGIC, LEGACY_PROTOCOL, sys_info):
        pickle.dump(header, fh, protocol=protocol)
    fh.write(data_pkl)
    pickle.dump([entry[0].key for entry in storages.values()], fh, protocol=protocol)
    for entry in storages.values():
        fh.write(struct.pack("<q", entry[0].numel))
        fh.write(_storage_bytes(entry))


# --- reading ------------------------------------------------------------------

class _StorageLoader:
    """Turns a checkpoint's persistent ids into LoadedStorages, once per key."""

    def __init__(self, read_bytes, map_location, byteorder="little"):
        self.read_bytes = read_bytes          # (key, nbytes) -> writable uint8 ndarray
        self.map_location = map_location
        self.byteorder = byteorder
        self.loaded = {}

    def __call__(self, pid):
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"):
            if isinstance(pid, tuple) and len(pid) == 4 and pid[0] == "module":
                return pid[1]
            raise pickle.UnpicklingError("unsupported persistent id encountered")
        storage_type, key, location, numel = pid[1:5]
        if not isinstance(storage_type, _wo().StorageType):
            raise pickle.UnpicklingError(f"the storage type of a checkpoint storage is {storage_type!r}")
        if not (isinstance(key, str) and isinstance(location, str) and isinstance(numel, int) and numel >= 0):
            raise pickle.UnpicklingError("malformed storage record in the checkpoint")
        if len(pid) == 6 and pid[5] is not None:
            raise RuntimeError("cgrad cannot load storage views of PyTorch's pre-1.0 format")
        if storage_type.dtype_name is None:
            raise RuntimeError(f"cgrad has no dtype {_wo().MISSING_DTYPES[storage_type.torch_name]}: "
                               f"cannot load a checkpoint tensor stored as torch.{storage_type.torch_name}")
        if key in self.loaded:
            return self.loaded[key]
        _check_location(location, self.map_location)
        ndtype = np.dtype(_wo().DTYPES[storage_type.dtype_name][1])
        raw = self.read_bytes(key, numel * ndtype.itemsize)
        flat = raw.view(ndtype)
        if self.byteorder != sys.byteorder and ndtype.itemsize > 1:
            flat.byteswap(inplace=True)
        tensor = _C.from_numpy(flat) if flat.flags.writeable else _readonly_tensor(flat)
        if storage_type.dtype_name == "bfloat16":
            tensor = tensor.view(_C.bfloat16)
        if callable(self.map_location):
            mapped = self.map_location(tensor, location)
            tensor = tensor if mapped is None else mapped
        self.loaded[key] = _wo().LoadedStorage(tensor)
        return self.loaded[key]


def _readonly_tensor(arr):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _C.from_numpy(arr)


def _check_location(location, map_location):
    if isinstance(map_location, dict):
        location = map_location.get(location, location)
    elif map_location is not None and not callable(map_location):
        location = str(map_location)            # a device or a device string: everything goes there
    if str(location).split(":")[0] != "cpu" and not callable(map_location):
        if str(location).startswith("cuda"):
            raise RuntimeError(
                "Attempting to deserialize object on a CUDA device but cgrad.cuda.is_available() is False. "
                "If you are running on a CPU-only machine, please use cgrad.load with "
                "map_location=cgrad.device('cpu') to map your storages to the CPU.")
        raise RuntimeError(f"cgrad runs on the CPU only; cannot load a storage saved on '{location}' "
                           "(pass map_location='cpu')")


def _unpickle(data, persistent_load, weights_only):
    if weights_only:
        return _wo().weights_only_load(io.BytesIO(data) if isinstance(data, bytes) else data, persistent_load)
    unpickler = _FullUnpickler(io.BytesIO(data) if isinstance(data, bytes) else data)
    unpickler.persistent_load = persistent_load
    return unpickler.load()


class _FullUnpickler(pickle.Unpickler):
    """weights_only=False: any global (the caller trusts the file), with
    PyTorch's names mapped to cgrad's objects."""

    def find_class(self, module, name):
        mapped = _wo().allowed_globals().get(f"{module}.{name}")
        if mapped is not None:
            return mapped
        return super().find_class(module, name)


def _read_member(z, info, nbytes, archive_size):
    if info.file_size != nbytes:
        raise RuntimeError(f"checkpoint record {info.filename} holds {info.file_size} bytes, but its tensors "
                           f"need {nbytes}: the file is corrupt or truncated")
    if info.compress_size > archive_size:
        raise RuntimeError(f"checkpoint record {info.filename} claims more bytes than the file has")
    out = np.empty(nbytes, dtype=np.uint8)
    with z.open(info) as member:
        got = member.readinto(memoryview(out)) if nbytes else 0
        if got != nbytes:
            raise RuntimeError(f"checkpoint record {info.filename} is truncated")
        member.read(1)     # reaching the end checks the CRC
    return out


def _member_offset(fh, info):
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise RuntimeError(f"checkpoint record {info.filename}: bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _load_zip(fh, path, map_location, weights_only, mmap, archive_size):
    import zipfile
    z = zipfile.ZipFile(fh)
    names = z.namelist()
    pkl = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pkl:
        if any(n == "structure.json" for n in names):
            return _load_cgrad_v1(z)
        raise RuntimeError("PytorchStreamReader failed locating file data.pkl: file not found")
    prefix = pkl[0][: -len("data.pkl")]
    byteorder = "little"
    if prefix + "byteorder" in names:
        byteorder = z.read(prefix + "byteorder").decode("ascii", "replace")
        if byteorder not in ("little", "big"):
            raise RuntimeError(f"Unknown endianness type: {byteorder}")
    mapped = None
    if mmap:
        mapped = np.memmap(path, dtype=np.uint8, mode="c")

    def read_bytes(key, nbytes):
        name = f"{prefix}data/{key}"
        try:
            info = z.getinfo(name)
        except KeyError:
            raise RuntimeError(f"PytorchStreamReader failed locating file data/{key}: file not found") from None
        if mapped is None:
            return _read_member(z, info, nbytes, archive_size)
        if info.compress_type != zipfile.ZIP_STORED or info.file_size != nbytes:
            raise RuntimeError(f"checkpoint record {name} cannot be memory-mapped (compressed or wrong size)")
        start = _member_offset(fh, info)
        if start + nbytes > mapped.size:
            raise RuntimeError(f"checkpoint record {name} reaches past the end of the file")
        return mapped[start:start + nbytes]

    data = z.read(pkl[0])
    return _unpickle(data, _StorageLoader(read_bytes, map_location, byteorder), weights_only)


def _load_legacy(fh, map_location, weights_only):
    def header():
        if weights_only:
            return _wo().weights_only_load(fh, lambda pid: (_ for _ in ()).throw(
                pickle.UnpicklingError("unsupported persistent id encountered")))
        return pickle.load(fh)
    if header() != LEGACY_MAGIC:
        raise RuntimeError("Invalid magic number; corrupt file?")
    if header() != LEGACY_PROTOCOL:
        raise RuntimeError("Invalid protocol version")
    sys_info = header()
    little = sys_info.get("little_endian", True) if isinstance(sys_info, dict) else True
    records = {}            # key -> its buffer, filled once the pickle has named every storage

    def read_bytes(key, nbytes):
        arr = np.empty(nbytes, dtype=np.uint8)
        records[key] = arr
        return arr
    loader = _StorageLoader(read_bytes, map_location, "little" if little else "big")
    loader.byteorder = sys.byteorder          # swap after the data arrives, below
    result = _unpickle(fh, loader, weights_only)
    keys = header()
    if not isinstance(keys, list) or set(keys) != set(records):
        raise RuntimeError("the checkpoint's storage list does not match its tensors")
    for key in keys:
        count = fh.read(8)
        if len(count) != 8:
            raise RuntimeError("the checkpoint is truncated")
        arr = records[key]
        itemsize_bytes = struct.unpack("<q", count)[0]
        storage = loader.loaded[key].flat
        if itemsize_bytes * storage.element_size() != arr.size:
            raise RuntimeError(f"storage {key} of the checkpoint has {itemsize_bytes} elements, "
                               f"its tensors expect {arr.size // storage.element_size()}")
        got = fh.readinto(memoryview(arr)) if arr.size else 0
        if got != arr.size:
            raise RuntimeError("the checkpoint is truncated")
        if not little and storage.element_size() > 1:
            (storage.view(_C.int16) if storage.dtype == _C.bfloat16 else storage).numpy().byteswap(inplace=True)
    return result


def _load_cgrad_v1(z):
    """cgrad's own earlier format: structure.json plus .npy members (no pickle)."""
    import json
    structure = json.loads(z.read("structure.json"))
    if not isinstance(structure, dict) or structure.get("format") != CGRAD_V1_FORMAT:
        raise RuntimeError(f"unsupported cgrad save format: {structure.get('format')!r}")
    arrays = {}
    for name in z.namelist():
        if name.endswith(".npy"):
            with z.open(name) as member:
                arrays[name[:-4]] = np.load(io.BytesIO(member.read()), allow_pickle=False)
    return _decode_v1(structure["object"], arrays)


def _decode_v1(obj, arrays):
    if isinstance(obj, list):
        return [_decode_v1(x, arrays) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        t = _C.tensor(arrays[obj["__tensor__"]])
        if obj.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__tuple__" in obj:
        return tuple(_decode_v1(x, arrays) for x in obj["__tuple__"])
    if "__items__" in obj:
        return {_decode_v1(k, arrays): _decode_v1(v, arrays) for k, v in obj["__items__"]}
    return {k: _decode_v1(v, arrays) for k, v in obj.items()}


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load what torch.save or cgrad.save wrote. weights_only (the default,
    as in PyTorch 2.6+) allows only tensors, containers and plain values:
    loading such a file never runs code from it."""
    if weights_only is None:
        weights_only = True
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    own = isinstance(f, (str, os.PathLike))
    if mmap and not own:
        raise ValueError("f must be a file path in order to use the mmap argument")
    fh = open(f, "rb") if own else f
    try:
        start = fh.tell()
        magic = fh.read(4)
        fh.seek(0, 2)
        size = fh.tell() - start
        fh.seek(start)
        if magic == b"PK\x03\x04" or magic == b"PK\x05\x06":
            import zipfile
            try:
                return _load_zip(fh, f if own else None, map_location, weights_only, mmap, size)
            except zipfile.BadZipFile as e:
                raise RuntimeError(f"PytorchStreamReader failed reading zip archive: {e}") from None
        if mmap:
            raise RuntimeError(
                "mmap can only be used with files saved with `torch.save(_use_new_zipfile_serialization=True), "
                "please torch.save your checkpoint with this option in order to use mmap.")
        if size == 0:
            raise EOFError("Ran out of input")
        return _load_legacy(fh, map_location, weights_only)
    finally:
        if own:
            fh.close()
