# cgrad.Size (a tensor's shape, torch.Size) and cgrad.device (PyTorch's
# device names; cgrad makes tensors on the CPU only, and refuses the other
# device types with PyTorch's errors for a CPU-only build), with the
# default-device functions.


class Size(tuple):
    """A tensor's shape: a tuple of ints, as torch.Size."""

    def __repr__(self):
        return f"cgrad.Size([{', '.join(map(str, self))}])"

    def numel(self):
        cdef Py_ssize_t n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, tuple(other)))

    def __reduce__(self):
        return (Size, (tuple(self),))


cdef tuple DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                           "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device:
    """A device, as PyTorch names them: device('cpu'), device('cuda', 1),
    device('cuda:1'). Any of PyTorch's device types can be named; cgrad makes
    tensors on the CPU only, and the factories refuse the others with
    PyTorch's errors for a CPU-only build."""

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):
        if isinstance(type, device):
            if index is not None:
                raise RuntimeError("device(): Device type and index must not be given together with a device")
            self._type, self._index = type.type, type.index
            return
        if isinstance(type, (int, np.integer)) and not isinstance(type, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({py_typename(type)}), "
                            "but expected one of:\n * (cgrad.device device)\n * (str type, int index = -1)\n")
        kind, _, idx = type.partition(":")
        if kind not in DEVICE_TYPES:
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: "
                               f"{type}")
        if _:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed "
                                   f"explicitly: {type}")
            if not idx.isdigit() or (len(idx) > 1 and idx[0] == "0"):
                raise RuntimeError(f"Invalid device string: '{type}'")
            index = int(idx)
        elif index is not None:
            index = _operator.index(index)
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self._type = kind
        self._index = index

    @property
    def type(self):
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self):
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self):
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self):
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type,) if self._index is None else (self._type, self._index))

    def __enter__(self):
        set_default_device(self)
        return self

    def __exit__(self, *exc):
        set_default_device("cpu")
        return False


cdef object CPU = device("cpu")


cdef object parse_device(object d):
    return d if isinstance(d, device) else device(d)


cdef int refuse_device(object dev) except -1:
    """PyTorch's errors (CPU-only build) for a device cgrad cannot use."""
    if dev.type == "cuda":
        raise AssertionError("Torch not compiled with CUDA enabled")
    if dev.type == "mps":
        raise RuntimeError("PyTorch is not linked with support for mps devices")
    raise RuntimeError(f"cgrad computes on the CPU only: device '{dev}' is not available")


def _check_device(d):
    """Accept the CPU (device('cpu'), 'cpu', 'cpu:0'); refuse others."""
    if d is None or d is CPU or (isinstance(d, str) and d == "cpu"):
        return
    dev = parse_device(d)
    if dev.type != "cpu":
        refuse_device(dev)


def set_default_device(device):
    """Only the CPU can be the default device (None resets to it)."""
    if device is not None:
        _check_device(device)


def get_default_device():
    return CPU
