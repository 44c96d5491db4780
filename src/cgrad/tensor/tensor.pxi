# The Tensor class: PyTorch's Tensor surface over the C-level ops. Methods
# and operators are thin: they sort out Python arguments and call an op_*
# function; graph recording and kernels live below. The class body holds
# the operators (slots must be defined here), the properties, geometry,
# autograd attributes, pickling and the hottest methods; the other methods
# are in tensor_methods_*.pxi (math, pointwise, shape, convert), installed
# into the type at import, and the module-level helpers in tensor_support.pxi.
# cgrad.Size and cgrad.device: size_device.pxi.


cdef object _format_tensor = None
cdef object vmap_index_hook = None    # set while a vmap runs (vmap_support.pxi): x[batched index]


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


# (Tensor's memory is reused through its tp_alloc / tp_free: common.pxi)
cdef class Tensor:
    """A multi-dimensional array with autograd, PyTorch's Tensor API."""

    __array_priority__ = 1000   # numpy defers to our reflected operators

    def __cinit__(self, *args, **kwargs):
        self._shape = self._dims
        self._strides = self._dims + INLINE_DIMS

    def __init__(self, *args, **kwargs):
        """cgrad.Tensor(data) copies data as float32; cgrad.Tensor(*sizes)
        makes an uninitialised float32 tensor of that shape; cgrad.Tensor(t)
        of a tensor is an alias of t (any dtype), as PyTorch's."""
        cdef Tensor src
        if kwargs and set(kwargs) - {"device", "dtype"}:
            raise TypeError(f"Tensor(): unexpected keyword arguments {sorted(kwargs)}")
        if len(args) == 1 and isinstance(args[0], Tensor):
            if kwargs.get("device") is not None:
                raise RuntimeError("Legacy tensor constructor of the form torch.Tensor(tensor, device=device) is "
                                   "not supported.  Use torch.tensor(...) or torch.as_tensor(...) instead.")
            src = <Tensor>args[0]
            alias_into(fill_view(self, src, src._ndim, src._shape, src._strides, src._offset), src)
            return
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

    def as_subclass(self, cls):
        """A `cls` instance over self's data that stays on self's autograd
        graph, as PyTorch's: an alias (a view of self; AliasBackward0 where
        self requires grad)."""
        if not (isinstance(cls, type) and issubclass(cls, Tensor)):
            raise TypeError("Creating a Tensor subclass from a class that does not inherit from Tensor is not "
                            "possible. Make sure your class inherits from Tensor.")
        return alias_into(fill_view(Tensor.__new__(cls), self, self._ndim, self._shape, self._strides,
                                    self._offset), self)

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
        cdef object arr
        attrs = getattr(self, "__dict__", None)
        state = dict(attrs) if attrs else None
        cls = type(self) if type(self) is not Tensor else None
        if self._dtype == BF16:
            # numpy has no bfloat16: its values as float32 (exact), and the dtype
            arr = ndarray_view(cast_tensor(self, F32)).copy()
            return (_rebuild_tensor, (cls, arr, self._requires_grad, state, "bfloat16"))
        arr = ndarray_view(self).copy()
        # the class itself only for subclasses (Tensor's __module__ does not name cgrad)
        return (_rebuild_tensor, (cls, arr, self._requires_grad, state))

    @property
    def is_cpu(self):
        return True

    @property
    def is_mps(self):
        return False

    @property
    def is_meta(self):
        return False

    # the other backends and layouts PyTorch's Tensor answers for: a cgrad
    # tensor is a dense, strided, unquantized CPU tensor
    @property
    def is_xpu(self):
        return False

    @property
    def is_ipu(self):
        return False

    @property
    def is_mtia(self):
        return False

    @property
    def is_maia(self):
        return False

    @property
    def is_xla(self):
        return False

    @property
    def is_vulkan(self):
        return False

    @property
    def is_mkldnn(self):
        return False

    @property
    def is_nested(self):
        return False

    @property
    def is_quantized(self):
        return False

    @property
    def is_sparse_csr(self):
        return False

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

    def zero_(self):
        return inplace_zero(self)

    def fill_(self, value):
        return inplace_fill(self, value)

    # --- copy_, and the unary ops hot code calls most (the other methods are
    # in tensor_methods_*.pxi)
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

    # --- shape ------------------------------------------------------------------------
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

    # --- indexing ---------------------------------------------------------------------
    def __getitem__(self, index):
        if vmap_index_hook is not None:
            hooked = vmap_index_hook(self, index, None)
            if hooked is not NotImplemented:
                return hooked
        return tensor_getitem(self, index)

    def __setitem__(self, index, value):
        if vmap_index_hook is not None and vmap_index_hook(self, index, (value,)) is not NotImplemented:
            return
        tensor_setitem(self, index, value)

    def __delitem__(self, index):
        raise TypeError("Tensor does not support deleting items")

    def __iter__(self):
        if self._ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(op_unbind(self, 0))
