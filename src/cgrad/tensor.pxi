# The Tensor class: PyTorch's Tensor surface over the C-level ops. Methods
# and operators are thin: they sort out Python arguments and call an op_*
# function; graph recording and kernels live below.


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
cdef object _format_tensor = None


cdef Tensor as_operand(object other):
    """A tensor operand of a binary op, or None when `other` is a Python
    number (the scalar forms take it as it is)."""
    if isinstance(other, Tensor):
        return <Tensor>other
    return None


cdef bint warned_scalar_of_grad_tensor = False


cdef Tensor binary_dispatch(int which, Tensor a, object b, bint reflected):
    """The arithmetic operators: a Tensor or a Python number on either side."""
    cdef Tensor bt
    if isinstance(b, Tensor):
        bt = <Tensor>b
        if reflected:
            a, bt = bt, a
        if which == 0:
            return op_add(a, bt)
        if which == 1:
            return op_sub(a, bt)
        if which == 2:
            return op_mul(a, bt)
        if which == 3:
            return op_div(a, bt)
        return op_pow(a, bt)
    if type(b) is not float:        # a Python float needs neither check nor conversion
        if not is_scalar(b):
            return None
        b = normalize_scalar(b)
    if which == 0:
        return op_add_scalar(a, b)
    if which == 1:
        return op_rsub_scalar(a, b) if reflected else op_sub_scalar(a, b)
    if which == 2:
        return op_mul_scalar(a, b)
    if which == 3:
        return op_rdiv_scalar(a, b) if reflected else op_div_scalar(a, b)
    return op_rpow_scalar(a, b) if reflected else op_pow_scalar(a, b)


cdef Tensor tensor_arg(object x, str fname, str argname="other"):
    if isinstance(x, Tensor):
        return <Tensor>x
    raise TypeError(f"{fname}(): argument '{argname}' (position 1) must be Tensor, not {py_typename(x)}")


cdef object dims_arg(tuple args):
    """permute(1, 0) and permute((1, 0)) alike."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


cdef object shape_arg(tuple args):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return args


cdef object scalar_value(Tensor t):
    """The single element of t as a Python number."""
    if t._dtype == F32:
        return <double>(<float*>t._data)[0]
    if t._dtype == F64:
        return (<double*>t._data)[0]
    if t._dtype == I64:
        return (<int64_t*>t._data)[0]
    if t._dtype == BOOL:
        return (<uint8_t*>t._data)[0] != 0
    if t._dtype == F16:
        return <double>cg_h2f((<uint16_t*>t._data)[0])
    if t._dtype == I32:
        return (<int32_t*>t._data)[0]
    if t._dtype == I16:
        return (<int16_t*>t._data)[0]
    if t._dtype == I8:
        return (<int8_t*>t._data)[0]
    return (<uint8_t*>t._data)[0]


# (Tensor's memory is reused through its tp_alloc / tp_free: common.pxi)
cdef class Tensor:
    """A multi-dimensional array with autograd, PyTorch's Tensor API."""

    __array_priority__ = 1000   # numpy defers to our reflected operators

    def __cinit__(self, *args, **kwargs):
        self._shape = self._dims
        self._strides = self._dims + INLINE_DIMS

    def __init__(self, *args, **kwargs):
        """cgrad.Tensor(data) copies data as float32; cgrad.Tensor(*sizes)
        makes an uninitialised float32 tensor of that shape."""
        cdef Tensor src
        if kwargs and set(kwargs) - {"device", "dtype"}:
            raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
            src = tensor_from_data(args[0], float32)
        else:
            src = new_tensor_from_tuple(factory_size(args, "Tensor") if args else (0,), DEFAULT_FLOAT,
                                        True)
        adopt(self, src)

    # (freeing a malloc'ed shape: tensor_dealloc in tensor_core.pxi)

    @staticmethod
    def _make_subclass(cls, Tensor data, bint require_grad=False):
        """A `cls` instance sharing data's storage (how Parameter is made).
        The object comes from Tensor's own allocator: cls.__new__ may be a
        Python __new__ that calls _make_subclass itself (Parameter's)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError(f"_make_subclass: {cls!r} is not a subclass of Tensor")
        cdef Tensor t = Tensor.__new__(cls)
        adopt(t, data)
        t._base = None
        check_requires_grad(t, require_grad)
        return t

    # --- geometry -------------------------------------------------------
    @property
    def shape(self):
        return Size(shape_tuple(self))

    def size(self, dim=None):
        if dim is None:
            return Size(shape_tuple(self))
        return self._shape[wrap_dim(as_index(dim, "dim"), self._ndim)] if self._ndim else 1

    @property
    def ndim(self):
        return self._ndim

    def dim(self):
        return self._ndim

    def ndimension(self):
        return self._ndim

    def numel(self):
        return self._numel

    def nelement(self):
        return self._numel

    def stride(self, dim=None):
        cdef int i
        if dim is None:
            return tuple([self._strides[i] for i in range(self._ndim)])
        return self._strides[wrap_dim(as_index(dim, "dim"), self._ndim)] if self._ndim else 1

    def storage_offset(self):
        return self._offset

    def is_contiguous(self, *, memory_format=NO_ARG):
        if memory_format is NO_ARG:      # an explicit None is refused, as PyTorch does
            return self._contiguous
        return is_contiguous_as(self, format_code(memory_format, "is_contiguous", NO_DEFAULT))

    def element_size(self):
        return ITEMSIZE[self._dtype]

    @property
    def itemsize(self):
        return ITEMSIZE[self._dtype]

    @property
    def nbytes(self):
        return self._numel * ITEMSIZE[self._dtype]

    def data_ptr(self):
        return <size_t>self._data

    @property
    def dtype(self):
        return DTYPES[self._dtype]

    @property
    def device(self):
        return CPU

    @property
    def is_cuda(self):
        return False

    @property
    def is_sparse(self):
        return False

    def is_floating_point(self):
        return is_float(self._dtype)

    def is_complex(self):
        return False

    def type(self, dtype=None):
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

    def __len__(self):
        if self._ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    # --- autograd attributes ------------------------------------------------
    @property
    def requires_grad(self):
        if self._creation_meta == CM_DEFAULT:
            refresh_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        # PyTorch's THPVariable_set_requires_grad
        if value is not True and value is not False:
            raise RuntimeError("requires_grad must be a bool")
        if self._grad_fn is not None:
            raise RuntimeError(requires_grad_leaf_error(value))
        if value and not is_float(self._dtype):
            raise RuntimeError("only Tensors of floating point and complex dtype can require gradients")
        set_requires_grad(self, value)

    def requires_grad_(self, requires_grad=True):
        if requires_grad is not True and requires_grad is not False:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                            f"{py_typename(requires_grad)}")
        set_requires_grad(self, requires_grad)
        return self

    @property
    def is_leaf(self):
        refresh_view(self)
        return self._grad_fn is None

    @property
    def grad_fn(self):
        refresh_view(self)
        return self._grad_fn

    @property
    def grad(self):
        if self._grad is None and self._grad_fn is not None and not self._retains_grad:
            warn_nonleaf_grad()
        return self._grad

    @grad.setter
    def grad(self, value):
        cdef Tensor g
        if value is None:
            self._grad = None
            return
        if not isinstance(value, Tensor):
            raise TypeError(
                f"assigned grad expected to be a Tensor or None but got grad of type {type(value).__name__}")
        g = <Tensor>value
        if g is self:
            raise RuntimeError("can't assign Variable as its own grad")
        if not same_shape(g, self):
            raise RuntimeError(
                f"attempting to assign a gradient of size '{shape_str(g._shape, g._ndim)}' to a tensor "
                f"of size '{shape_str(self._shape, self._ndim)}'. Please ensure that the gradient and "
                "the tensor are the same size")
        if g._dtype != self._dtype:
            raise RuntimeError(
                f"attempting to assign a gradient with dtype '{C_TYPE_NAME[g._dtype]}' to a tensor "
                f"with grad_dtype '{dtype_title(self._dtype)}'. The gradient must match the tensor's "
                "grad_dtype (defaults to the tensor's dtype). You can set the tensor's grad_dtype "
                "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype with "
                "caution. Diverging the dtypes of a tensor and its gradient may break downstream "
                "systems that assume they match.")
        self._grad = g

    @grad.deleter
    def grad(self):
        self._grad = None

    @property
    def _version(self):
        return self._storage.version

    @property
    def _base(self):
        return self._base

    def _is_view(self):
        return self._base is not None

    @property
    def output_nr(self):
        return self._output_nr

    def is_inference(self):
        return self._is_inference

    @property
    def retains_grad(self):
        return self._retains_grad

    def retain_grad(self):
        """Keep this non-leaf tensor's gradient in .grad during backward."""
        if self._grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if not self._retains_grad:
            self._retains_grad = True
            register_retain_grad_hook(self)

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed and may
        return a replacement; returns a handle whose remove() undoes it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._grad_fn is not None:
            return register_nonleaf_hook(self, hook)
        if self._hooks is None:
            self._hooks = []
        return _HookHandle(self._hooks, hook)

    def detach(self):
        """A tensor sharing this one's memory and version counter, with no
        history and requires_grad=False."""
        return alias_detached(self)

    def detach_(self):
        if self._base is not None and self._grad_fn is not None:
            raise RuntimeError(
                "Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set as "
                "True, gradients are views of DDP buckets, and hence detach_() cannot be called on "
                "these gradients. To fix this error, please refer to the Optimizer.zero_grad() "
                "function in torch/optim/optimizer.py as the solution.")
        if self._grad_fn is not None and self._base is None:
            self._view_version = DETACHED_IN_PLACE - next_seq()
        self._grad_fn = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    @property
    def data(self):
        """This tensor's values without history and with a version counter
        of its own (changes through .data escape autograd's checks)."""
        cdef Tensor t = alias_detached(self)
        t._storage = borrowed_storage(self._storage.ptr, self._storage.nbytes, self._storage)
        t._data = t._storage.ptr + self._offset * ITEMSIZE[self._dtype]
        return t

    @data.setter
    def data(self, value):
        cdef Tensor src
        cdef bint rg = self._requires_grad
        cdef Node fn = self._grad_fn
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {cre_tp_name(value)}")
        src = <Tensor>value
        if rg and not is_float(src._dtype):
            raise RuntimeError("data set to a tensor that requires gradients must be floating point or complex dtype")
        if src._dtype != self._dtype:
            # graphs recorded so far keep their AccumulateGrad, which casts
            # to the dtype they recorded; new graphs get a new one (PyTorch)
            self._accumulator = None
        adopt(self, src)
        self._requires_grad = rg
        self._grad_fn = fn

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' .grad
        (PyTorch's Tensor.backward)."""
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
            if len(inputs) == 0:
                raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
        # as torch.autograd.backward: a non-tensor gradient is taken as a sequence
        grads = (gradient,) if gradient is None or isinstance(gradient, Tensor) else tuple(gradient)
        _run_backward((self,), grads, retain_graph, create_graph, inputs, False, True)

    # --- conversion ---------------------------------------------------------
    def item(self):
        if self._numel != 1:
            raise RuntimeError(f"a Tensor with {self._numel} elements cannot be converted to Scalar")
        return scalar_value(self)

    def tolist(self):
        return ndarray_view(self).tolist()

    def numpy(self, *, force=False):
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return ndarray_view(self)

    def __array__(self, dtype=None, copy=None):
        arr = self.numpy()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr

    # DLPack and numpy's ufunc wrapping: the protocol rules live in
    # cgrad/_interop.py, imported on first use.
    def __dlpack__(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
        return interop_module().tensor_dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        return interop_module().dlpack_device(self)

    def __array_wrap__(self, array, context=None, return_scalar=False):
        return interop_module().array_wrap(array)

    def __float__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        global warned_scalar_of_grad_tensor
        if self._requires_grad and not warned_scalar_of_grad_tensor:
            warned_scalar_of_grad_tensor = True    # PyTorch warns once per process
            _warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                           "behavior.\nConsider using tensor.detach() first.", UserWarning)
        return float(scalar_value(self))

    def __int__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return int(scalar_value(self))

    def __index__(self):
        if self._numel != 1 or is_float(self._dtype):
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(scalar_value(self))

    def __bool__(self):
        if self._numel != 1:
            if self._numel == 0:
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous")
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(scalar_value(self))

    def __format__(self, spec):
        # PyTorch's: a 0-d tensor (a Tensor, not a subclass) formats as its
        # number, so f"{loss}" prints 0.6931... as torch does; other tensors
        # as object.__format__ (str, and its TypeError for a format spec)
        if self._ndim == 0 and type(self) is Tensor:
            return format(self.item(), spec)
        return object.__format__(self, spec)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        global _format_tensor
        if _format_tensor is None:
            from cgrad._tensor_str import format_tensor
            _format_tensor = format_tensor
        return _format_tensor(self)

    # --- copying and pickling ------------------------------------------------
    def __deepcopy__(self, memo):
        if self._grad_fn is not None:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
                "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
                "because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        cdef Tensor new = contiguous_copy(self)
        if type(self) is not Tensor:
            new = Tensor._make_subclass(type(self), new, self._requires_grad)
        new._requires_grad = self._requires_grad
        memo[id(self)] = new
        if self._grad is not None:
            new._grad = self._grad.__deepcopy__(memo)
        attrs = getattr(self, "__dict__", None)
        if attrs:
            import copy
            getattr(new, "__dict__").update(copy.deepcopy(attrs, memo))
        return new

    def __copy__(self):
        return self.__deepcopy__({})

    def __reduce_ex__(self, protocol):
        """Pickled as its values (a numpy array), dtype and requires_grad;
        history and .grad are not kept, as in PyTorch."""
        cdef object arr = ndarray_view(self).copy()
        attrs = getattr(self, "__dict__", None)
        state = dict(attrs) if attrs else None
        # the class itself only for subclasses (Tensor's __module__ does not name cgrad)
        return (_rebuild_tensor, (type(self) if type(self) is not Tensor else None, arr,
                                  self._requires_grad, state))

    def to(self, *args, **kwargs):
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

    def float(self):
        return op_cast_preserving(self, F32)

    def double(self):
        return op_cast_preserving(self, F64)

    def long(self):
        return op_cast_preserving(self, I64)

    def bool(self):
        return op_cast_preserving(self, BOOL)

    def half(self):
        return op_cast_preserving(self, F16)

    def int(self):
        return op_cast_preserving(self, I32)

    def short(self):
        return op_cast_preserving(self, I16)

    def char(self):
        return op_cast_preserving(self, I8)

    def byte(self):
        return op_cast_preserving(self, U8)

    def cpu(self, memory_format=None):
        if memory_format is None:
            return self
        return op_to_format(self, self._dtype, format_code(memory_format, "cpu", FMT_PRESERVE), False)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        if isinstance(device, (int, np.integer)) and not isinstance(device, bool):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        raise AssertionError("Torch not compiled with CUDA enabled")

    def get_device(self):
        return -1

    @property
    def is_cpu(self):
        return True

    @property
    def is_mps(self):
        return False

    @property
    def is_meta(self):
        return False

    def pin_memory(self, device=None):
        """Pinning is a CUDA transfer optimisation: on the CPU the tensor is returned as is."""
        return self

    def is_pinned(self, device=None):
        return False

    def clone(self, *, memory_format=None):
        if memory_format is None:
            return op_clone(self)
        return op_clone_as(self, format_code(memory_format, "clone", FMT_PRESERVE))

    def contiguous(self, *, memory_format=NO_ARG):
        if memory_format is NO_ARG:      # an explicit None is refused, as PyTorch does
            return op_contiguous(self)
        return op_contiguous_as(self, format_code(memory_format, "contiguous", NO_DEFAULT))

    # --- arithmetic -----------------------------------------------------------
    def __add__(self, other):
        r = binary_dispatch(0, self, other, False)
        return NotImplemented if r is None else r

    def __radd__(self, other):
        r = binary_dispatch(0, self, other, True)
        return NotImplemented if r is None else r

    def __sub__(self, other):
        r = binary_dispatch(1, self, other, False)
        return NotImplemented if r is None else r

    def __rsub__(self, other):
        r = binary_dispatch(1, self, other, True)
        return NotImplemented if r is None else r

    def __mul__(self, other):
        r = binary_dispatch(2, self, other, False)
        return NotImplemented if r is None else r

    def __rmul__(self, other):
        r = binary_dispatch(2, self, other, True)
        return NotImplemented if r is None else r

    def __truediv__(self, other):
        r = binary_dispatch(3, self, other, False)
        return NotImplemented if r is None else r

    def __rtruediv__(self, other):
        if isinstance(other, np.ndarray):
            return self.reciprocal() * other     # PyTorch's formula: numpy multiplies, the result wraps back
        r = binary_dispatch(3, self, other, True)
        return NotImplemented if r is None else r

    def __pow__(self, other, modulo=None):
        r = binary_dispatch(4, self, other, False)
        return NotImplemented if r is None else r

    def __rpow__(self, other, modulo=None):
        r = binary_dispatch(4, self, other, True)
        return NotImplemented if r is None else r

    def __matmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return op_matmul(self, <Tensor>other)

    def __rmatmul__(self, other):
        if not isinstance(other, Tensor):
            return NotImplemented
        return op_matmul(<Tensor>other, self)

    def __neg__(self):
        return op_neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return op_abs(self)

    def __iadd__(self, other):
        return inplace_arith(IP_ADD, self, other, None)

    def __isub__(self, other):
        return inplace_arith(IP_SUB, self, other, None)

    def __imul__(self, other):
        return inplace_arith(IP_MUL, self, other, None)

    def __itruediv__(self, other):
        return inplace_arith(IP_DIV, self, other, None)

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return sub(self, other, alpha=alpha)

    def mul(self, other):
        return mul(self, other)

    def div(self, other, *, rounding_mode=NO_ARG):
        return divide_method(self, other, rounding_mode, "div")

    def divide(self, other, *, rounding_mode=NO_ARG):
        return divide_method(self, other, rounding_mode, "divide")

    def true_divide(self, other):
        return divide_method(self, other, NO_ARG, "true_divide")

    def floor_divide(self, other):
        return rounding_method(self, other, RD_FLOOR, "floor_divide")

    def remainder(self, other):
        return rounding_method(self, other, RD_REMAINDER, "remainder")

    def fmod(self, other):
        return rounding_method(self, other, RD_FMOD, "fmod")

    def floor_divide_(self, other):
        return rounding_method_(self, other, RD_FLOOR, "floor_divide_")

    def remainder_(self, other):
        return rounding_method_(self, other, RD_REMAINDER, "remainder_")

    def fmod_(self, other):
        return rounding_method_(self, other, RD_FMOD, "fmod_")

    def __floordiv__(self, other):
        if not tensor_or_number(other):
            return NotImplemented
        return op_floor_divide(self, normalize_scalar(other), False)

    def __rfloordiv__(self, other):
        if not is_scalar(other):
            return NotImplemented
        return op_floor_divide(self, normalize_scalar(other), True)

    def __ifloordiv__(self, other):
        if not tensor_or_number(other):
            return NotImplemented
        return rounding_inplace(self, normalize_scalar(other), RD_FLOOR, None)

    def __mod__(self, other):
        if not tensor_or_number(other):
            return NotImplemented
        return op_remainder_like(RD_REMAINDER, self, normalize_scalar(other))

    def __rmod__(self, other):
        if not is_scalar(other):
            return NotImplemented
        return op_rremainder(self, normalize_scalar(other))

    def __imod__(self, other):
        if not tensor_or_number(other):
            return NotImplemented
        return rounding_inplace(self, normalize_scalar(other), RD_REMAINDER, None)

    def pow(self, exponent):
        return _pow(self, exponent)

    def add_(self, other, *, alpha=1):
        return inplace_arith_method(IP_ADD, self, other, alpha, "add_")

    def sub_(self, other, *, alpha=1):
        return inplace_arith_method(IP_SUB, self, other, alpha, "sub_")

    def mul_(self, other):
        return inplace_arith_method(IP_MUL, self, other, None, "mul_")

    def div_(self, other, *, rounding_mode=NO_ARG):
        return divide_method_(self, other, rounding_mode, "div_")

    def divide_(self, other, *, rounding_mode=NO_ARG):
        return divide_method_(self, other, rounding_mode, "divide_")

    def zero_(self):
        return inplace_zero(self)

    def fill_(self, value):
        return inplace_fill(self, value)

    # --- in-place random sampling (random_dists.pxi) -------------------------

    def uniform_(self, from_=0, to=1, *, generator=None, **kwargs):
        return _uniform_(self, kwargs.pop("from", from_), to, generator)

    def normal_(self, mean=0, std=1, *, generator=None):
        return _normal_(self, mean, std, generator)

    def random_(self, *args, generator=None, **kwargs):
        return _random_(self, *args, generator=generator, **kwargs)

    def exponential_(self, lambd=1, *, generator=None):
        return _exponential_(self, lambd, generator)

    def geometric_(self, p, *, generator=None):
        return _geometric_(self, p, generator)

    def log_normal_(self, mean=1, std=2, *, generator=None):
        return _log_normal_(self, mean, std, generator)

    def cauchy_(self, median=0, sigma=1, *, generator=None):
        return _cauchy_(self, median, sigma, generator)

    def bernoulli_(self, p=0.5, *, generator=None):
        return _bernoulli_(self, p, generator)

    def bernoulli(self, *args, generator=None, **kwargs):
        return bernoulli(self, *args, generator=generator, **kwargs)

    def multinomial(self, num_samples, replacement=False, *, generator=None):
        return multinomial(self, num_samples, replacement, generator=generator)

    def copy_(self, src, non_blocking=False):
        return inplace_copy(self, src)

    def neg(self):
        return op_neg(self)

    def abs(self):
        return op_abs(self)

    def sign(self):
        return op_sign(self)

    def exp(self):
        return op_exp(self)

    def log(self):
        return op_log(self)

    def sqrt(self):
        return op_sqrt(self)

    def sin(self):
        return op_sin(self)

    def cos(self):
        return op_cos(self)

    def tanh(self):
        return op_tanh(self)

    def sigmoid(self):
        return op_sigmoid(self)

    def relu(self):
        return op_relu(self)

    def reciprocal(self):
        return op_reciprocal(self)

    # --- comparisons, clamping, maximum/minimum, where ---------------------------
    def __lt__(self, other):
        return compare_operator(CMP_LT, self, other)

    def __le__(self, other):
        return compare_operator(CMP_LE, self, other)

    def __gt__(self, other):
        return compare_operator(CMP_GT, self, other)

    def __ge__(self, other):
        return compare_operator(CMP_GE, self, other)

    def __eq__(self, other):
        return compare_operator(CMP_EQ, self, other)

    def __ne__(self, other):
        return compare_operator(CMP_NE, self, other)

    def lt(self, other):
        return compare_method(CMP_LT, self, other, "lt")

    def le(self, other):
        return compare_method(CMP_LE, self, other, "le")

    def gt(self, other):
        return compare_method(CMP_GT, self, other, "gt")

    def ge(self, other):
        return compare_method(CMP_GE, self, other, "ge")

    def eq(self, other):
        return compare_method(CMP_EQ, self, other, "eq")

    def ne(self, other):
        return compare_method(CMP_NE, self, other, "ne")

    def less(self, other):
        return compare_method(CMP_LT, self, other, "less")

    def less_equal(self, other):
        return compare_method(CMP_LE, self, other, "less_equal")

    def greater(self, other):
        return compare_method(CMP_GT, self, other, "greater")

    def greater_equal(self, other):
        return compare_method(CMP_GE, self, other, "greater_equal")

    def not_equal(self, other):
        return compare_method(CMP_NE, self, other, "not_equal")

    def equal(self, other):
        return op_equal(self, need_tensor(other, "equal", "other", 1))

    def clamp(self, min=None, max=None):
        return clamp_dispatch(self, min, max, CL_CLAMP, "clamp", True)

    def clip(self, min=None, max=None):
        return clamp_dispatch(self, min, max, CL_CLAMP, "clip", True)

    def clamp_min(self, min):
        return clamp_dispatch(self, min, None, CL_MIN, "clamp_min", True)

    def clamp_max(self, max):
        return clamp_dispatch(self, None, max, CL_MAX, "clamp_max", True)

    def clamp_(self, min=None, max=None):
        return clamp_inplace(self, min, max, CL_CLAMP, "clamp_")

    def clip_(self, min=None, max=None):
        return clamp_inplace(self, min, max, CL_CLAMP, "clip_")

    def clamp_min_(self, min):
        return clamp_inplace(self, min, None, CL_MIN, "clamp_min_")

    def clamp_max_(self, max):
        return clamp_inplace(self, None, max, CL_MAX, "clamp_max_")

    def maximum(self, other):
        return op_maxmin(MM_MAXIMUM, self, need_tensor(other, "maximum", "other", 1))

    def minimum(self, other):
        return op_maxmin(MM_MINIMUM, self, need_tensor(other, "minimum", "other", 1))

    def fmax(self, other):
        return op_maxmin(MM_FMAX, self, need_tensor(other, "fmax", "other", 1))

    def fmin(self, other):
        return op_maxmin(MM_FMIN, self, need_tensor(other, "fmin", "other", 1))

    def where(self, condition, other):
        if not isinstance(condition, Tensor) or not tensor_or_number(other):
            raise invalid_arguments("where", (condition, other), WHERE_METHOD_OPTIONS)
        return op_where(<Tensor>condition, self, normalize_scalar(other))

    def logical_not(self):
        return op_logical_not(self)

    def logical_and(self, other):
        return op_logical(LG_AND, self, need_tensor(other, "logical_and", "other", 1))

    def logical_or(self, other):
        return op_logical(LG_OR, self, need_tensor(other, "logical_or", "other", 1))

    def logical_xor(self, other):
        return op_logical(LG_XOR, self, need_tensor(other, "logical_xor", "other", 1))

    def bitwise_not(self):
        return op_bitwise_not(self)

    def bitwise_and(self, other):
        return bitwise_method(BW_AND, self, other)

    def bitwise_or(self, other):
        return bitwise_method(BW_OR, self, other)

    def bitwise_xor(self, other):
        return bitwise_method(BW_XOR, self, other)

    def __invert__(self):
        return op_invert(self)

    def __and__(self, other):
        return bitwise_operator(BW_AND, self, other)

    def __rand__(self, other):
        return bitwise_operator(BW_AND, self, other)

    def __or__(self, other):
        return bitwise_operator(BW_OR, self, other)

    def __ror__(self, other):
        return bitwise_operator(BW_OR, self, other)

    def __xor__(self, other):
        return bitwise_operator(BW_XOR, self, other)

    def __rxor__(self, other):
        return bitwise_operator(BW_XOR, self, other)

    def __iand__(self, other):
        return bitwise_inplace(BW_AND, self, other)

    def __ior__(self, other):
        return bitwise_inplace(BW_OR, self, other)

    def __ixor__(self, other):
        return bitwise_inplace(BW_XOR, self, other)

    def bitwise_left_shift(self, other):
        return bitwise_method(BW_LSHIFT, self, other)

    def bitwise_right_shift(self, other):
        return bitwise_method(BW_RSHIFT, self, other)

    def __lshift__(self, other):
        return bitwise_operator(BW_LSHIFT, self, other)

    def __rlshift__(self, other):
        return reflected_shift(BW_LSHIFT, self, other)

    def __rshift__(self, other):
        return bitwise_operator(BW_RSHIFT, self, other)

    def __rrshift__(self, other):
        return reflected_shift(BW_RSHIFT, self, other)

    def __ilshift__(self, other):
        return bitwise_inplace(BW_LSHIFT, self, other)

    def __irshift__(self, other):
        return bitwise_inplace(BW_RSHIFT, self, other)

    # --- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None, **kwargs):
        if kwargs:
            dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "sum")
        if dim is not None and type(dim) is not int:
            check_reduce_dim(dim, "sum")
        return op_sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None, **kwargs):
        if kwargs:
            dim, keepdim = numpy_dim_kwargs(kwargs, dim, keepdim, "mean")
        if dim is not None and type(dim) is not int:
            check_reduce_dim(dim, "mean")
        return op_mean(self, dim, keepdim, dtype)

    # (methods of ops_select.pxi go here: prod, max, min, amax, amin, argmax,
    # argmin, var, std, logsumexp)
    def prod(self, *args, **kwargs):
        """prod(*, dtype=None); prod(dim, keepdim=False, *, dtype=None)."""
        return prod_impl(self, args, dim_aliases(kwargs), True)

    def max(self, *args, **kwargs):
        """max() -> Tensor; max(dim, keepdim=False) -> (values, indices);
        max(other) -> maximum(self, other)."""
        return max_min_impl(True, self, args, dim_aliases(kwargs), True)

    def min(self, *args, **kwargs):
        """min() -> Tensor; min(dim, keepdim=False) -> (values, indices);
        min(other) -> minimum(self, other)."""
        return max_min_impl(False, self, args, dim_aliases(kwargs), True)

    def amax(self, *args, **kwargs):
        """amax(dim=(), keepdim=False)."""
        return amax_impl(True, self, args, dim_aliases(kwargs), True)

    def amin(self, *args, **kwargs):
        """amin(dim=(), keepdim=False)."""
        return amax_impl(False, self, args, dim_aliases(kwargs), True)

    def argmax(self, *args, **kwargs):
        """argmax(dim=None, keepdim=False)."""
        return argmax_impl(True, self, args, dim_aliases(kwargs), True)

    def argmin(self, *args, **kwargs):
        """argmin(dim=None, keepdim=False)."""
        return argmax_impl(False, self, args, dim_aliases(kwargs), True)

    def var(self, *args, **kwargs):
        """var(dim=None, *, correction=1, keepdim=False); var(dim, unbiased,
        keepdim); var(unbiased)."""
        return var_impl(False, self, args, dim_aliases(kwargs), True)

    def std(self, *args, **kwargs):
        """std(dim=None, *, correction=1, keepdim=False); std(dim, unbiased,
        keepdim); std(unbiased)."""
        return var_impl(True, self, args, dim_aliases(kwargs), True)

    def logsumexp(self, *args, **kwargs):
        """logsumexp(dim, keepdim=False)."""
        return logsumexp_impl(self, args, dim_aliases(kwargs), True)

    # --- linear algebra -----------------------------------------------------------
    def mm(self, mat2):
        return op_mm(self, tensor_arg(mat2, "mm", "mat2"))

    def mv(self, vec):
        return op_mv(self, tensor_arg(vec, "mv", "vec"))

    def dot(self, other):
        return op_dot(self, tensor_arg(other, "dot", "tensor"))

    def matmul(self, other):
        return op_matmul(self, tensor_arg(other, "matmul"))

    def bmm(self, mat2):
        return op_bmm(self, tensor_arg(mat2, "bmm", "mat2"))

    # --- shape ------------------------------------------------------------------------
    def view(self, *shape, **kwargs):
        cdef Tensor fast
        if not kwargs:
            fast = view_exact_ints(self, shape)     # view_fast.pxi; None: the general parser below
            if fast is not None:
                return fast
        if kwargs:
            if set(kwargs) == {"dtype"} and not shape and isinstance(kwargs["dtype"], dtype):
                return op_view_dtype(self, dtype_code(kwargs["dtype"]))
            if set(kwargs) != {"size"} or shape:
                raise TypeError(f"view() got an unexpected keyword argument '{next(iter(kwargs))}'")
            shape = (kwargs["size"],)
            if not isinstance(shape[0], (tuple, list)):
                raise TypeError(
                    f"view() received an invalid combination of arguments - got (size={type(shape[0]).__name__}, ), "
                    "but expected one of:\n * (cgrad.dtype dtype)\n      didn't match because some of the keywords "
                    "were incorrect: size\n * (tuple of ints size)\n      didn't match because some of the "
                    f"arguments have invalid types: (!size={type(shape[0]).__name__}!, )\n")
        if len(shape) == 1 and isinstance(shape[0], dtype):
            return op_view_dtype(self, dtype_code(shape[0]))
        return op_view(self, view_size_args(shape))

    def view_as(self, other):
        return op_view(self, shape_tuple(tensor_arg(other, "view_as")))

    def reshape(self, *shape, **kwargs):
        if kwargs:
            if set(kwargs) != {"shape"} or shape:
                raise TypeError(f"reshape() got an unexpected keyword argument '{next(iter(kwargs))}'")
            return op_reshape(self, int_list_value(kwargs["shape"], "reshape", "shape", 1))
        return op_reshape(self, int_list_varargs(shape, "reshape", "shape"))

    def reshape_as(self, other):
        return op_reshape(self, shape_tuple(tensor_arg(other, "reshape_as")))

    def flatten(self, start_dim=0, end_dim=-1):
        return op_flatten(self, int_arg(start_dim, "flatten", "start_dim", 1),
                          int_arg(end_dim, "flatten", "end_dim", 2))

    def unflatten(self, dim, sizes):
        return op_unflatten(self, int_arg(dim, "unflatten", "dim", 1),
                            int_list_value(sizes, "unflatten", "sizes", 2))

    def ravel(self):
        return op_view(op_contiguous(self), (-1,))

    def t(self):
        return op_t(self)

    @property
    def T(self):
        return op_numpy_T(self)

    @property
    def mT(self):
        return op_matrix_T(self, "mT")

    @property
    def mH(self):
        return op_matrix_T(self, "mH")

    @property
    def H(self):
        return op_H(self)

    def adjoint(self):
        return op_adjoint(self)

    def permute(self, *dims, **kwargs):
        if kwargs:
            if set(kwargs) != {"dims"} or dims:
                raise TypeError(f"permute() got an unexpected keyword argument '{next(iter(kwargs))}'")
            return op_permute(self, int_list_value(kwargs["dims"], "permute", "dims", 1))
        return op_permute(self, int_list_varargs(dims, "permute", "dims"))

    def transpose(self, dim0, dim1):
        return op_transpose(self, int_arg(dim0, "transpose", "dim0", 1), int_arg(dim1, "transpose", "dim1", 2))

    def swapaxes(self, axis0, axis1):
        return op_transpose(self, int_arg(axis0, "swapaxes", "axis0", 1), int_arg(axis1, "swapaxes", "axis1", 2))

    def swapdims(self, dim0, dim1):
        return op_transpose(self, int_arg(dim0, "swapdims", "dim0", 1), int_arg(dim1, "swapdims", "dim1", 2))

    def expand(self, *sizes, **kwargs):
        if kwargs:
            kwargs.pop("implicit", None)
        if kwargs:
            if set(kwargs) != {"size"} or sizes:
                raise TypeError(f"expand() got an unexpected keyword argument '{next(iter(kwargs))}'")
            return op_expand(self, int_list_value(kwargs["size"], "expand", "size", 1))
        return op_expand(self, int_list_varargs(sizes, "expand", "size"))

    def expand_as(self, other):
        return op_expand(self, shape_tuple(tensor_arg(other, "expand_as")))

    def unsqueeze(self, dim):
        return op_unsqueeze(self, int_arg(dim, "unsqueeze", "dim", 1))

    def squeeze(self, *args, **kwargs):
        return op_squeeze_any(self, squeeze_dim_args(args, kwargs, False))

    # --- joining and splitting (ops_join.pxi) -----------------------------------------
    def split(self, split_size, dim=0):
        return do_split(self, split_size, dim, False)

    def split_with_sizes(self, split_sizes, dim=0):
        return op_split_with_sizes(self, int_list_value(split_sizes, "split_with_sizes", "split_sizes", 1),
                                   int_arg(dim, "split_with_sizes", "dim", 2))

    def chunk(self, chunks, dim=0):
        return op_chunk(self, int_arg(chunks, "chunk", "chunks", 1), int_arg(dim, "chunk", "dim", 2))

    def unbind(self, dim=0):
        return op_unbind(self, int_arg(dim, "unbind", "dim", 1))

    def narrow(self, dim, start, length):
        return do_narrow(self, dim, start, length, False)

    # --- indexing ---------------------------------------------------------------------
    def __getitem__(self, index):
        return tensor_getitem(self, index)

    def __setitem__(self, index, value):
        tensor_setitem(self, index, value)

    def __delitem__(self, index):
        raise TypeError("Tensor does not support deleting items")

    def __iter__(self):
        if self._ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(op_unbind(self, 0))

    def index_select(self, dim, index):
        return index_select_checked(self, dim, index)

    def masked_fill(self, mask, value):
        v, vt = masked_fill_value(value, "masked_fill_")
        return op_masked_fill(self, tensor_arg(mask, "masked_fill", "mask"), v, vt)

    def masked_fill_(self, mask, value):
        v, vt = masked_fill_value(value, "masked_fill_")
        return masked_fill_inplace(self, tensor_arg(mask, "masked_fill_", "mask"), v, vt)

    # --- neural-net functions ---------------------------------------------------------
    def softmax(self, *args, **kwargs):
        """softmax(dim, dtype=None)"""
        return nn_softmax_call("softmax", self, args, kwargs, False, True)

    def log_softmax(self, *args, **kwargs):
        """log_softmax(dim, dtype=None)"""
        return nn_softmax_call("log_softmax", self, args, kwargs, True, True)

    def relu_(self):
        """relu in place."""
        return nn_relu_(self)

    # --- everyday ops (ops_unary.pxi.tp rows, ops_predicates/layout/gather/extra.pxi) ------
    def rsqrt(self):
        return op_rsqrt(self)

    def rsqrt_(self):
        return op_rsqrt_(self)

    def log1p(self):
        return op_log1p(self)

    def log1p_(self):
        return op_log1p_(self)

    def expm1(self):
        return op_expm1(self)

    def expm1_(self):
        return op_expm1_(self)

    # in-place forms of the first unary ops (their out-of-place methods are above)
    def neg_(self):
        return op_neg_(self)

    def negative(self):
        return op_neg(self)

    def negative_(self):
        return op_neg_(self)

    def abs_(self):
        return op_abs_(self)

    def absolute(self):
        return op_abs(self)

    def absolute_(self):
        return op_abs_(self)

    def sign_(self):
        return op_sign_(self)

    def exp_(self):
        return op_exp_(self)

    def log_(self):
        return op_log_(self)

    def sqrt_(self):
        return op_sqrt_(self)

    def sin_(self):
        return op_sin_(self)

    def cos_(self):
        return op_cos_(self)

    def tanh_(self):
        return op_tanh_(self)

    def sigmoid_(self):
        return op_sigmoid_(self)

    def reciprocal_(self):
        return op_reciprocal_(self)

    def log2(self):
        return op_log2(self)

    def log2_(self):
        return op_log2_(self)

    def log10(self):
        return op_log10(self)

    def log10_(self):
        return op_log10_(self)

    def sinh(self):
        return op_sinh(self)

    def sinh_(self):
        return op_sinh_(self)

    def cosh(self):
        return op_cosh(self)

    def cosh_(self):
        return op_cosh_(self)

    def asin(self):
        return op_asin(self)

    def asin_(self):
        return op_asin_(self)

    def acos(self):
        return op_acos(self)

    def acos_(self):
        return op_acos_(self)

    def atan(self):
        return op_atan(self)

    def atan_(self):
        return op_atan_(self)

    def erf(self):
        return op_erf(self)

    def erf_(self):
        return op_erf_(self)

    def floor(self):
        return op_floor(self)

    def floor_(self):
        return op_floor_(self)

    def ceil(self):
        return op_ceil(self)

    def ceil_(self):
        return op_ceil_(self)

    def round(self, *, decimals=None):
        return op_round(self) if decimals is None else op_round_decimals(self, decimals, True)

    def round_(self, *, decimals=None):
        return op_round_(self) if decimals is None else op_round_decimals_(self, decimals)

    def trunc(self):
        return op_trunc(self)

    def trunc_(self):
        return op_trunc_(self)

    def frac(self):
        return op_frac(self)

    def frac_(self):
        return op_frac_(self)

    def square(self):
        return op_square(self)

    def square_(self):
        return op_square_(self)

    def sgn(self):
        return op_sgn(self)

    def sgn_(self):
        return op_sgn_(self)

    def isnan(self):
        return op_fpclass(self, FP_ISNAN)

    def isinf(self):
        return op_fpclass(self, FP_ISINF)

    def isfinite(self):
        return op_fpclass(self, FP_ISFINITE)

    def any(self, dim=None, keepdim=False):
        return op_any_all(self, reduce_dim_arg(dim), keepdim, False)

    def all(self, dim=None, keepdim=False):
        return op_any_all(self, reduce_dim_arg(dim), keepdim, True)

    def count_nonzero(self, dim=None):
        return op_count_nonzero(self, dim)

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return op_isclose(self, need_tensor(other, "isclose", "other", 1), rtol, atol, equal_nan)

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return allclose(self, other, rtol, atol, equal_nan)

    def nonzero(self, *, as_tuple=False):
        return nonzero_call(self, as_tuple)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False, **kwargs):
        _check_device(device)
        return filled(cre_size_arg(size, kwargs.pop("size", None), "new_zeros"),
                      cre_dtype_arg(dtype, self._dtype, "new_zeros"), 0, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                 pin_memory=False, **kwargs):
        _check_device(device)
        return filled(cre_size_arg(size, kwargs.pop("size", None), "new_ones"),
                      cre_dtype_arg(dtype, self._dtype, "new_ones"), 1, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False, **kwargs):
        _check_device(device)
        cdef Tensor t = new_tensor_from_tuple(cre_size_arg(size, kwargs.pop("size", None), "new_empty"),
                                              cre_dtype_arg(dtype, self._dtype, "new_empty"))
        check_requires_grad(t, requires_grad)
        return mark_inference(t)

    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False, layout=None,
                 pin_memory=False):
        _check_device(device)
        if isinstance(size, (int, np.integer)) or not hasattr(size, "__len__"):
            raise TypeError(f"new_full(): argument 'size' (position 1) must be tuple of ints, not "
                            f"{type(size).__name__}")
        fill_value = cre_fill_value(fill_value, "new_full")
        return filled(parse_shape_args((size,), "size"), cre_dtype_arg(dtype, self._dtype, "new_full"),
                      fill_value, requires_grad)

    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False, layout=None,
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

    def type_as(self, other):
        if not isinstance(other, Tensor):
            raise TypeError(f"type_as(): argument 'other' (position 1) must be Tensor, not "
                            f"{type(other).__name__}")
        return self if self._dtype == (<Tensor>other)._dtype else op_cast_preserving(self, (<Tensor>other)._dtype)

    def tril(self, diagonal=0):
        return op_tri(self, as_index(diagonal, "diagonal"), True)

    def triu(self, diagonal=0):
        return op_tri(self, as_index(diagonal, "diagonal"), False)

    def tril_(self, diagonal=0):
        return op_tri_(self, as_index(diagonal, "diagonal"), True)

    def triu_(self, diagonal=0):
        return op_tri_(self, as_index(diagonal, "diagonal"), False)

    def flip(self, *dims, **kwargs):
        if "dims" in kwargs:
            dims = (kwargs.pop("dims"),)
        if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
            dims = dims[0]
        return op_flip(self, flip_dims(tuple(dims), self._ndim))

    def cumsum(self, dim, *, dtype=None):
        return cumsum_call(self, dim, dtype, "cumsum")

    def cumsum_(self, dim, *, dtype=None):
        cdef Tensor r
        check_inplace(self)
        if (cgrad_grad_enabled and self._requires_grad) or has_tangent(self):
            r = cumsum_call(old_value(self, False), dim, dtype, "cumsum_")
            if r._dtype != self._dtype:
                r = op_to_dtype(r, self._dtype)
            return commit_inplace(self, r)
        r = cumsum_call(alias_detached(self), dim, dtype, "cumsum_")
        copy_into(self, r)
        self._storage.version += 1
        return self

    def outer(self, vec2):
        return op_outer(self, need_tensor(vec2, "outer", "vec2", 1))

    def ger(self, vec2):
        return op_outer(self, need_tensor(vec2, "ger", "vec2", 1))

    def atan2(self, other):
        return op_atan2(self, need_tensor(other, "atan2", "other", 1))

    def arctan2(self, other):
        return op_atan2(self, need_tensor(other, "arctan2", "other", 1))

    def roll(self, shifts, dims=None):
        return roll_call(self, shifts, dims)

    def repeat(self, *repeats):
        return repeat_call(self, repeats)

    def tile(self, *dims):
        return op_tile(self, dims[0] if len(dims) == 1 and not is_int_like(dims[0], True) else dims)

    def select(self, dim, index):
        return op_select_checked(self, dim, index)

    def movedim(self, source, destination):
        return op_movedim(self, source, destination)

    def moveaxis(self, source, destination):
        return op_movedim(self, source, destination)

    def gather(self, dim, index, *, sparse_grad=False):
        return op_gather(self, wrap_dim(as_index(dim, "dim"), self._ndim),
                         need_tensor(index, "gather", "index", 2))

    def scatter_add(self, dim, index, src):
        return op_scatter_add(self, wrap_dim(as_index(dim, "dim"), self._ndim),
                              need_tensor(index, "scatter_add", "index", 2),
                              need_tensor(src, "scatter_add", "src", 3))

    def scatter_add_(self, dim, index, src):
        cdef Tensor r
        cdef int d = wrap_dim(as_index(dim, "dim"), self._ndim)
        cdef Tensor idx = need_tensor(index, "scatter_add_", "index", 2)
        cdef Tensor s = need_tensor(src, "scatter_add_", "src", 3)
        check_inplace(self)
        if (cgrad_grad_enabled and (self._requires_grad or s._requires_grad)) or has_tangent(self) or has_tangent(s):
            return commit_inplace(self, op_scatter_add(old_value(self, False), d, idx, s))
        r = op_scatter_add(alias_detached(self), d, idx, alias_detached(s))
        copy_into(self, r)
        self._storage.version += 1
        return self

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return norm(self, p, dim, keepdim, dtype=dtype)

    def diag(self, diagonal=0):
        return op_diag(self, as_index(diagonal, "diagonal"))

    # --- linear algebra (cgrad/_linalg_legacy.py: PyTorch's torch.* forms)
    def inverse(self):
        from cgrad import _linalg_legacy
        return _linalg_legacy.inverse(self)

    def det(self):
        from cgrad import _linalg_legacy
        return _linalg_legacy.det(self)

    def logdet(self):
        from cgrad import _linalg_legacy
        return _linalg_legacy.logdet(self)

    def slogdet(self):
        from cgrad import _linalg_legacy
        return _linalg_legacy.slogdet(self)

    def cholesky(self, upper=False):
        from cgrad import _linalg_legacy
        return _linalg_legacy.cholesky(self, upper)

    def cholesky_solve(self, input2, upper=False):
        from cgrad import _linalg_legacy
        return _linalg_legacy.cholesky_solve(self, input2, upper)

    def cholesky_inverse(self, upper=False):
        from cgrad import _linalg_legacy
        return _linalg_legacy.cholesky_inverse(self, upper)

    def pinverse(self, rcond=1e-15):
        from cgrad import _linalg_legacy
        return _linalg_legacy.pinverse(self, rcond)

    def svd(self, some=True, compute_uv=True):
        from cgrad import _linalg_legacy
        return _linalg_legacy.svd(self, some, compute_uv)

    def qr(self, some=True):
        from cgrad import _linalg_legacy
        return _linalg_legacy.qr(self, some)

    def matrix_exp(self):
        from cgrad import _linalg_legacy
        return _linalg_legacy.matrix_exp(self)

    def matrix_power(self, n):
        from cgrad import _linalg_legacy
        return _linalg_legacy.matrix_power(self, n)

    def cross(self, other, dim=None):
        from cgrad import _linalg_legacy
        return _linalg_legacy.cross(self, other, dim)

    def lu_solve(self, LU_data, LU_pivots):
        from cgrad import _linalg_legacy
        return _linalg_legacy.lu_solve(self, LU_data, LU_pivots)

    def scatter(self, dim, index, src=None, *, value=None):
        return scatter_call(self, dim, index, src, value, "scatter")

    def scatter_(self, dim, index, src=None, *, value=None):
        cdef Tensor r
        check_inplace(self)
        if (cgrad_grad_enabled and (self._requires_grad or (isinstance(src, Tensor) and (<Tensor>src)._requires_grad))) or has_tangent(self) or has_tangent(src):
            return commit_inplace(self, scatter_call(old_value(self, False), dim, index, src, value, "scatter_"))
        r = scatter_call(alias_detached(self), dim, index,
                         alias_detached(<Tensor>src) if isinstance(src, Tensor) else src, value, "scatter_")
        copy_into(self, r)
        self._storage.version += 1
        return self

    def addmm(self, mat1, mat2, *, beta=1, alpha=1):
        return op_addmm_ab(self, need_tensor(mat1, "addmm", "mat1", 1), need_tensor(mat2, "addmm", "mat2", 2),
                           normalize_scalar(beta), normalize_scalar(alpha))

    def lerp(self, end, weight):
        return op_lerp(self, need_tensor(end, "lerp", "end", 1),
                       weight if isinstance(weight, Tensor) else normalize_scalar(weight))

    def lerp_(self, end, weight):
        cdef Tensor e = need_tensor(end, "lerp_", "end", 1)
        cdef Tensor r
        w = weight if isinstance(weight, Tensor) else normalize_scalar(weight)
        check_inplace(self)
        if (cgrad_grad_enabled and (self._requires_grad or e._requires_grad or
                                    (isinstance(w, Tensor) and (<Tensor>w)._requires_grad))) or (
                has_tangent(self) or has_tangent(e) or has_tangent(w)):
            return commit_inplace(self, op_lerp(old_value(self, isinstance(w, Tensor)), e, w))
        r = op_lerp(alias_detached(self), alias_detached(e),
                    alias_detached(<Tensor>w) if isinstance(w, Tensor) else w)
        copy_into(self, r)
        self._storage.version += 1
        return self


cdef object _interop = None


cdef object interop_module():
    global _interop
    if _interop is None:
        import cgrad._interop
        _interop = cgrad._interop
    return _interop


def _tensor_on_storage(Tensor source, storage_offset, size, stride):
    """A tensor over source's Storage (same memory and version counter) with
    this geometry in elements, as Tensor.set_(storage, offset, size, stride)
    makes one: it is not a view (no _base). Geometry reaching outside the
    storage is refused with PyTorch's setStorage error."""
    size = tuple(int(s) for s in size)
    stride = tuple(int(s) for s in stride)
    storage_offset = int(storage_offset)
    cdef int isz = ITEMSIZE[source._dtype]
    cdef int ndim = len(size)
    cdef int i
    if len(stride) != ndim:
        raise RuntimeError(f"mismatch in length of strides and shape")
    if storage_offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {storage_offset}")
    if any(s < 0 for s in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension "
                           f"{min(size)}: [{', '.join(map(str, size))}]")
    if any(s < 0 for s in stride):
        raise RuntimeError("cgrad does not support tensors with negative strides")
    needed = 0 if 0 in size else (storage_offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))) * isz
    have = source._storage.nbytes
    if needed > have:
        raise RuntimeError(
            f"setStorage: sizes [{', '.join(map(str, size))}], strides [{', '.join(map(str, stride))}], "
            f"storage offset {storage_offset}, and itemsize {isz} requiring a storage size of {needed} "
            f"are out of bounds for storage of size {have}")
    cdef Tensor t = fresh_tensor()
    init_dims(t, ndim)
    for i in range(ndim):
        t._shape[i] = size[i]
        t._strides[i] = stride[i]
    t._numel = checked_numel(ndim, t._shape)
    t._dtype = source._dtype
    t._storage = source._storage
    t._offset = storage_offset if t._numel else 0
    t._data = source._storage.ptr + t._offset * isz
    t._contiguous = strides_are_contiguous(ndim, t._shape, t._strides)
    return t


def _rebuild_tensor(cls, arr, requires_grad, state=None):
    """Unpickling: a tensor from saved values (numpy keeps the bytes)."""
    cdef Tensor t = tensor_from_data(arr, None)
    if cls is not None and cls is not Tensor:
        t = Tensor._make_subclass(cls, t, requires_grad)
    else:
        check_requires_grad(t, requires_grad)
    if state:
        getattr(t, "__dict__").update(state)
    return t


cdef void adopt(Tensor t, Tensor src) except *:
    """Make t a tensor over src's storage and geometry (t is fresh)."""
    cdef int i
    if t._shape != t._dims and t._shape != NULL:
        free(t._shape)
    init_dims(t, src._ndim)
    for i in range(src._ndim):
        t._shape[i] = src._shape[i]
        t._strides[i] = src._strides[i]
    t._numel = src._numel
    t._dtype = src._dtype
    t._storage = src._storage
    t._offset = src._offset
    t._data = src._data
    t._contiguous = src._contiguous
    t._base = src._base
    t._is_inference = src._is_inference


cdef str requires_grad_leaf_error(bint value):
    if value:
        return "you can only change requires_grad flags of leaf variables."
    return ("you can only change requires_grad flags of leaf variables. If you want to use a computed "
            "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")


cdef int set_requires_grad(Tensor t, bint value) except -1:
    if t._grad_fn is not None:
        if value:
            return 0
        raise RuntimeError(requires_grad_leaf_error(False))
    if value and not is_float(t._dtype):
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if value and t._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Setting requires_grad=True on inference tensor outside InferenceMode is not allowed.")
    t._requires_grad = value
    return 0


cdef void warn_nonleaf_grad() except *:
    import warnings
    warnings.warn(
        "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
        "attribute won't be populated during autograd.backward(). If you indeed want the .grad field "
        "to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you "
        "access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead.",
        UserWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# Hooks on non-leaf tensors run as pre-hooks of their grad_fn, on the
# gradient of their output slot.

cdef class _OutputHook:
    cdef int output_nr
    cdef object fn

    def __call__(self, grads):
        cdef list gs = list(grads)
        if gs[self.output_nr] is None:
            return None
        r = self.fn(gs[self.output_nr])
        if r is None:
            return None
        gs[self.output_nr] = checked_hook_result(self.fn, <Tensor>gs[self.output_nr], r)
        return tuple(gs)


cdef class _RetainGradHook:
    """Stores the gradient reaching a non-leaf tensor into its .grad."""
    cdef object tensor_ref
    cdef int output_nr

    def __call__(self, grads):
        cdef Tensor t = self.tensor_ref()
        cdef Tensor g = grads[self.output_nr]
        if t is None or g is None:
            return None
        if t._grad is None:
            t._grad = op_clone(g) if cgrad_grad_enabled else contiguous_copy(g)
        else:
            t._grad = op_add(t._grad, g)
        return None


cdef object register_nonleaf_hook(Tensor t, object fn):
    cdef _OutputHook h = _OutputHook.__new__(_OutputHook)
    cdef Node node = t._grad_fn
    h.output_nr = t._output_nr
    h.fn = fn
    track(node)
    if node.pre_hooks is None:
        node.pre_hooks = []
    # retain_grad's hook always runs last, after user hooks, as in PyTorch
    handle = _HookHandle(node.pre_hooks, h)
    for i, existing in enumerate(node.pre_hooks):
        if isinstance(existing, _RetainGradHook):
            node.pre_hooks.append(node.pre_hooks.pop(i))
            break
    return handle


cdef void register_retain_grad_hook(Tensor t) except *:
    import weakref
    cdef _RetainGradHook h = _RetainGradHook.__new__(_RetainGradHook)
    cdef Node node = t._grad_fn
    h.tensor_ref = weakref.ref(t)
    h.output_nr = t._output_nr
    if node.pre_hooks is None:
        node.pre_hooks = []
    node.pre_hooks.append(h)
