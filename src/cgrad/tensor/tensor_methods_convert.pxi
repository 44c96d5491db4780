# Tensor's methods that convert or copy a tensor (to, float, double, ...,
# type, cpu, cuda, clone, contiguous, item, tolist, numpy) and make new
# tensors like it (new_zeros, new_ones, new_empty, new_full, new_tensor,
# type_as). Thin wrappers kept out of tensor.pxi's class body and installed
# into Tensor's type at import under their class-body names (see
# tensor_methods_math.pxi's header for why).

# --- type(): the type name, or a copy as another tensor type


def _tensor_type(Tensor self not None, dtype=None):
    """The legacy type name ('cgrad.FloatTensor'), or a conversion to
    dtype (a dtype or a legacy type name such as 'cgrad.HalfTensor')."""
    if dtype is None:
        return "cgrad." + legacy_type_name(self._dtype)
    if isinstance(dtype, str):
        for code in range(NUM_DTYPES):
            if dtype in ("cgrad." + legacy_type_name(code), "torch." + legacy_type_name(code)):
                return op_cast_preserving(self, code)
        raise ValueError(f"invalid type: '{dtype}'")
    if isinstance(dtype, type):     # a legacy type class (cgrad.DoubleTensor): by its name
        return self.type(f"{dtype.__module__}.{dtype.__name__}")
    return self.to(dtype)

# --- Python and numpy values


def _tensor_item(Tensor self not None):
    if self._numel != 1:
        raise RuntimeError(f"a Tensor with {self._numel} elements cannot be converted to Scalar")
    return scalar_value(self)


def _tensor_tolist(Tensor self not None):
    if self._dtype == BF16:     # (numpy has no bfloat16; float32 holds its values exactly)
        return ndarray_view(cast_tensor(self, F32)).tolist()
    return ndarray_view(self).tolist()


def _tensor_numpy(Tensor self not None, *, force=False):
    if self._requires_grad and cgrad_grad_enabled and not force:     # (PyTorch allows it under no_grad)
        raise RuntimeError(
            "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
    return ndarray_view(self)

# --- dtype and device conversions, copies


def _tensor_to(Tensor self not None, *args, **kwargs):
    """to(dtype), to(device), to(other), to(device, dtype); copy=True
    forces a new tensor."""
    cdef int dt = self._dtype
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    fmt = kwargs.pop("memory_format", None)
    for a in list(args) + list(kwargs.values()):
        if a is None:
            continue
        if isinstance(a, dtype):
            dt = (<dtype>a)._code
        elif isinstance(a, Tensor):
            dt = (<Tensor>a)._dtype
        elif isinstance(a, (str, device)) or (isinstance(a, int) and not isinstance(a, bool)):
            _check_device(a)
        else:
            dt = dtype_code(a)
    if fmt is not None:
        return op_to_format(self, dt, format_code(fmt, "to", FMT_PRESERVE), copy)
    if copy:
        return op_to_format(self, dt, FMT_PRESERVE, True)
    return op_cast_preserving(self, dt)


def _tensor_float(Tensor self not None):
    return op_cast_preserving(self, F32)


def _tensor_double(Tensor self not None):
    return op_cast_preserving(self, F64)


def _tensor_long(Tensor self not None):
    return op_cast_preserving(self, I64)


def _tensor_bool(Tensor self not None):
    return op_cast_preserving(self, BOOL)


def _tensor_half(Tensor self not None):
    return op_cast_preserving(self, F16)


def _tensor_bfloat16(Tensor self not None):
    return op_cast_preserving(self, BF16)


def _tensor_int(Tensor self not None):
    return op_cast_preserving(self, I32)


def _tensor_short(Tensor self not None):
    return op_cast_preserving(self, I16)


def _tensor_char(Tensor self not None):
    return op_cast_preserving(self, I8)


def _tensor_byte(Tensor self not None):
    return op_cast_preserving(self, U8)


def _tensor_cpu(Tensor self not None, memory_format=None):
    if memory_format is None:
        return self
    return op_to_format(self, self._dtype, format_code(memory_format, "cpu", FMT_PRESERVE), False)


def _tensor_cuda(Tensor self not None, device=None, non_blocking=False, memory_format=None):
    if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
        raise RuntimeError("Cannot access accelerator device when none is available.")
    raise AssertionError("Torch not compiled with CUDA enabled")


def _tensor_get_device(Tensor self not None):
    return -1


cdef str device_type_of(arg):
    """The type of a device argument (a device, a string or an index)."""
    return arg.type if isinstance(arg, device) else device(arg).type


def _tensor_pin_memory(Tensor self not None, device=None):
    """Pinning needs an accelerator's host allocator: a CPU-only PyTorch
    raises, and so does cgrad."""
    if device is not None:
        _warnings.warn("The argument 'device' of Tensor.pin_memory() is deprecated. Please do not pass this argument.",
                      DeprecationWarning, stacklevel=2)
        if device_type_of(device) == "cpu":
            raise RuntimeError("CPU device type not an accelerator.")
    raise RuntimeError("Cannot access accelerator device when none is available.")


def _tensor_is_pinned(Tensor self not None, device=None):
    if device is not None:
        _warnings.warn("The argument 'device' of Tensor.is_pinned() is deprecated. Please do not pass this argument.",
                      DeprecationWarning, stacklevel=2)
    return False


def _tensor_clone(Tensor self not None, *, memory_format=None):
    if memory_format is None:
        return op_clone(self)
    return op_clone_as(self, format_code(memory_format, "clone", FMT_PRESERVE))


def _tensor_contiguous(Tensor self not None, *, memory_format=NO_ARG):
    if memory_format is NO_ARG:      # an explicit None is refused, as PyTorch does
        return op_contiguous(self)
    return op_contiguous_as(self, format_code(memory_format, "contiguous", NO_DEFAULT))

# --- new tensors like this one


def _tensor_new_zeros(Tensor self not None, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False, **kwargs):
    _check_device(device)
    return filled(cre_size_arg(size, kwargs.pop("size", None), "new_zeros"),
                  cre_dtype_arg(dtype, self._dtype, "new_zeros"), 0, requires_grad)


def _tensor_new_ones(Tensor self not None, *size, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False, **kwargs):
    _check_device(device)
    return filled(cre_size_arg(size, kwargs.pop("size", None), "new_ones"),
                  cre_dtype_arg(dtype, self._dtype, "new_ones"), 1, requires_grad)


def _tensor_new_empty(Tensor self not None, *size, dtype=None, device=None, requires_grad=False, layout=None,
              pin_memory=False, **kwargs):
    _check_device(device)
    cdef Tensor t = new_tensor_from_tuple(cre_size_arg(size, kwargs.pop("size", None), "new_empty"),
                                          cre_dtype_arg(dtype, self._dtype, "new_empty"))
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def _tensor_new_full(Tensor self not None, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
             pin_memory=False):
    _check_device(device)
    if isinstance(size, (int, np.integer)) or not hasattr(size, "__len__"):
        raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                        f"{type(size).__name__}")
    fill_value = cre_fill_value(fill_value, "new_full")
    return filled(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, self._dtype, "new_full"),
                  fill_value, requires_grad)


def _tensor_new_tensor(Tensor self not None, data, *, dtype=None, device=None, requires_grad=False, layout=None,
               pin_memory=False):
    _check_device(device)
    if isinstance(data, Tensor):
        _warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
            "or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "tensor.new_tensor(sourceTensor).", UserWarning, stacklevel=2)
    cdef Tensor t = tensor_from_data(data, self.dtype if dtype is None else dtype)
    check_requires_grad(t, requires_grad)
    return mark_inference(t)


def _tensor_type_as(Tensor self not None, other):
    if not isinstance(other, Tensor):
        raise TypeError(f"type_as(): argument 'other' (position 1) must be Tensor, not "
                        f"{type(other).__name__}")
    return self if self._dtype == (<Tensor>other)._dtype else op_cast_preserving(self, (<Tensor>other)._dtype)


install_class_methods({
    "type": _tensor_type, "item": _tensor_item, "tolist": _tensor_tolist, "numpy": _tensor_numpy,
    "to": _tensor_to, "float": _tensor_float, "double": _tensor_double, "long": _tensor_long,
    "bool": _tensor_bool, "half": _tensor_half, "bfloat16": _tensor_bfloat16, "int": _tensor_int, "short": _tensor_short,
    "char": _tensor_char, "byte": _tensor_byte, "cpu": _tensor_cpu, "cuda": _tensor_cuda,
    "get_device": _tensor_get_device, "pin_memory": _tensor_pin_memory, "is_pinned": _tensor_is_pinned,
    "clone": _tensor_clone, "contiguous": _tensor_contiguous, "new_zeros": _tensor_new_zeros,
    "new_ones": _tensor_new_ones, "new_empty": _tensor_new_empty, "new_full": _tensor_new_full,
    "new_tensor": _tensor_new_tensor, "type_as": _tensor_type_as,
})
