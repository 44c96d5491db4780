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


class device:
    """cgrad computes on the CPU; device objects exist for compatibility."""

    def __init__(self, type="cpu", index=None):
        type = str(type)
        if type.startswith("cpu:"):
            type, index = "cpu", int(type[4:])
        if type != "cpu":
            raise RuntimeError(f"cgrad runs on the CPU only; device '{type}' is not available")
        self.type = type
        self.index = index

    def __repr__(self):
        return "device(type='cpu')" if self.index is None else f"device(type='cpu', index={self.index})"

    def __str__(self):
        return "cpu" if self.index is None else f"cpu:{self.index}"

    def __eq__(self, other):
        return isinstance(other, device) or other == "cpu"

    def __hash__(self):
        return hash("cpu")


cdef object CPU = device("cpu")
cdef object _format_tensor = None


cdef Tensor as_operand(object other):
    """A tensor operand of a binary op, or None when `other` is a Python
    number (the scalar forms take it as it is)."""
    if isinstance(other, Tensor):
        return <Tensor>other
    return None


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
    raise TypeError(f"{fname}(): argument '{argname}' (position 1) must be Tensor, not {type(x).__name__}")


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
    return (<uint8_t*>t._data)[0] != 0


@cython.freelist(1024)
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

    def __dealloc__(self):
        if self._shape != NULL and self._shape != self._dims:
            free(self._shape)
        self._shape = NULL

    @staticmethod
    def _make_subclass(cls, Tensor data, bint require_grad=False):
        """A `cls` instance sharing data's storage (how Parameter is made)."""
        cdef Tensor t = cls.__new__(cls)
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

    def is_contiguous(self, memory_format=None):
        return self._contiguous

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
        if dtype is None:
            return "cgrad." + legacy_type_name(self._dtype)
        return self.to(dtype)

    def __len__(self):
        if self._ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    # --- autograd attributes ------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        set_requires_grad(self, bool(value))

    def requires_grad_(self, requires_grad=True):
        set_requires_grad(self, bool(requires_grad))
        return self

    @property
    def is_leaf(self):
        return self._grad_fn is None

    @property
    def grad_fn(self):
        return self._grad_fn

    @property
    def grad(self):
        if self._grad_fn is not None and not self._retains_grad:
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
        if not same_shape(g, self):
            raise RuntimeError(
                f"attempting to assign a gradient of size '{shape_str(g._shape, g._ndim)}' to a tensor "
                f"of size '{shape_str(self._shape, self._ndim)}'. Please ensure that the gradient and "
                "the tensor are the same size")
        if g._dtype != self._dtype:
            raise RuntimeError(
                f"attempting to assign a gradient with dtype '{C_TYPE_NAME[g._dtype]}' to a tensor "
                f"with grad_dtype '{dtype_title(self._dtype)}'. The gradient must match the tensor's "
                "grad_dtype (defaults to the tensor's dtype).")
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

    @property
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
        cdef Tensor src = tensor_arg(value, "data", "data")
        cdef bint rg = self._requires_grad
        cdef Node fn = self._grad_fn
        adopt(self, src)
        self._requires_grad = rg
        self._grad_fn = fn

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Accumulate the gradient of this tensor into the leaves' .grad
        (PyTorch's Tensor.backward)."""
        if inputs is not None:
            inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
            if len(inputs) == 0:
                raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        _run_backward((self,), (gradient,), retain_graph, create_graph, inputs, False, True)

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

    def __float__(self):
        if self._numel != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
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
        if self._ndim == 0 and spec:
            return format(self.item(), spec)
        return repr(self) if not spec else format(repr(self), spec)

    def __hash__(self):
        return id(self)

    def __repr__(self):
        global _format_tensor
        if _format_tensor is None:
            from cgrad._tensor_str import format_tensor
            _format_tensor = format_tensor
        return _format_tensor(self)

    def to(self, *args, **kwargs):
        """to(dtype), to(device), to(other), to(device, dtype); copy=True
        forces a new tensor."""
        cdef int dt = self._dtype
        copy = kwargs.pop("copy", False)
        kwargs.pop("non_blocking", None)
        for a in list(args) + list(kwargs.values()):
            if a is None:
                continue
            if isinstance(a, dtype):
                dt = (<dtype>a)._code
            elif isinstance(a, Tensor):
                dt = (<Tensor>a)._dtype
            elif isinstance(a, (str, device)):
                _check_device(a)
            else:
                dt = dtype_code(a)
        if dt == self._dtype:
            return op_clone(self) if copy else self
        return op_to_dtype(self, dt)

    def float(self):
        return op_to_dtype(self, F32)

    def double(self):
        return op_to_dtype(self, F64)

    def long(self):
        return op_to_dtype(self, I64)

    def bool(self):
        return op_to_dtype(self, BOOL)

    def cpu(self):
        return self

    def clone(self, *, memory_format=None):
        return op_clone(self)

    def contiguous(self, memory_format=None):
        return op_contiguous(self)

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
        return inplace_binary(0, self, other, None)

    def __isub__(self, other):
        return inplace_binary(1, self, other, None)

    def __imul__(self, other):
        return inplace_binary(2, self, other, None)

    def __itruediv__(self, other):
        return inplace_binary(3, self, other, None)

    def add(self, other, *, alpha=1):
        return add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1):
        return sub(self, other, alpha=alpha)

    def mul(self, other):
        return mul(self, other)

    def div(self, other):
        return div(self, other)

    def pow(self, exponent):
        return pow(self, exponent)

    def add_(self, other, *, alpha=1):
        return inplace_binary(0, self, other, alpha)

    def sub_(self, other, *, alpha=1):
        return inplace_binary(1, self, other, alpha)

    def mul_(self, other):
        return inplace_binary(2, self, other, None)

    def div_(self, other):
        return inplace_binary(3, self, other, None)

    def zero_(self):
        return inplace_fill(self, 0)

    def fill_(self, value):
        if isinstance(value, Tensor):
            value = (<Tensor>value).item()
        return inplace_fill(self, normalize_scalar(value))

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
    # (methods of ops_compare.pxi go here)

    # --- reductions -------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, *, dtype=None):
        return op_sum(self, dim, keepdim, dtype)

    def mean(self, dim=None, keepdim=False, *, dtype=None):
        return op_mean(self, dim, keepdim, dtype)

    # (methods of ops_select.pxi go here: prod, max, min, amax, amin, argmax,
    # argmin, var, std, logsumexp)

    # --- linear algebra -----------------------------------------------------------
    def mm(self, mat2):
        return op_mm(self, tensor_arg(mat2, "mm", "mat2"))

    def mv(self, vec):
        return op_mv(self, tensor_arg(vec, "mv", "vec"))

    def dot(self, other):
        return op_dot(self, tensor_arg(other, "dot", "tensor"))

    def matmul(self, other):
        return op_matmul(self, tensor_arg(other, "matmul"))

    # (bmm and batched matmul methods go here)

    # --- shape ------------------------------------------------------------------------
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtype):
            raise NotImplementedError("view(dtype) is not supported by cgrad")
        return op_view(self, shape_arg(shape))

    def view_as(self, other):
        return op_view(self, shape_tuple(tensor_arg(other, "view_as")))

    def reshape(self, *shape):
        return op_reshape(self, shape_arg(shape))

    def reshape_as(self, other):
        return op_reshape(self, shape_tuple(tensor_arg(other, "reshape_as")))

    def t(self):
        return op_t(self)

    @property
    def T(self):
        if self._ndim != 2 and self._ndim != 0:
            import warnings
            warnings.warn(
                "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is "
                "deprecated and it will throw an error in a future release. Consider `x.mT` to "
                "transpose batches of matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to "
                "reverse the dimensions of a tensor.", UserWarning, stacklevel=2)
        return op_permute(self, tuple(range(self._ndim - 1, -1, -1)))

    @property
    def mT(self):
        if self._ndim < 2:
            raise RuntimeError(
                f"tensor.mT is only supported on matrices or batches of matrices. Got {self._ndim}-D tensor.")
        return op_transpose(self, -2, -1)

    def permute(self, *dims):
        return op_permute(self, dims_arg(dims))

    def transpose(self, dim0, dim1):
        return op_transpose(self, dim0, dim1)

    def expand(self, *sizes):
        return op_expand(self, shape_arg(sizes))

    def expand_as(self, other):
        return op_expand(self, shape_tuple(tensor_arg(other, "expand_as")))

    def unsqueeze(self, dim):
        return op_unsqueeze(self, dim)

    def squeeze(self, dim=None):
        if dim is None:
            return op_squeeze_all(self)
        return op_squeeze_dim(self, dim, False)

    # (methods of ops_join.pxi and further shape methods go here: flatten,
    # cat/stack helpers, split, chunk, ...)

    # --- indexing ---------------------------------------------------------------------
    # (__getitem__, __setitem__ and index methods of ops_index.pxi go here)

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


cdef int set_requires_grad(Tensor t, bint value) except -1:
    if t._grad_fn is not None:
        if value:
            return 0
        raise RuntimeError(
            "you can only change requires_grad flags of leaf variables. If you want to use a computed "
            "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach().")
    if value and not is_float(t._dtype):
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
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
        r = self.fn(gs[self.output_nr])
        if r is None:
            return None
        if not isinstance(r, Tensor):
            raise TypeError(f"hook returned an object of type {type(r).__name__}, expected a Tensor")
        gs[self.output_nr] = r
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


# ---------------------------------------------------------------------------
# In-place arithmetic


cdef str leaf_inplace_msg = "a leaf Variable that requires grad is being used in an in-place operation."


cdef int check_inplace(Tensor self) except -1:
    if cgrad_grad_enabled and self._requires_grad and self._grad_fn is None:
        raise RuntimeError(leaf_inplace_msg)
    if self._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed."
                           "You can make a clone to get a normal tensor before doing inplace update."
                           "See https://github.com/pytorch/rfcs/pull/17 for more details.")
    return 0


cdef Tensor inplace_binary(int which, Tensor self, object other, object alpha):
    """self op= other. Without history it runs the kernel straight into
    self's buffer; with history the op is recorded on a snapshot of self's
    old value and self takes over the new node (PyTorch's rebase_history)."""
    cdef Tensor ot = None
    cdef Tensor result
    cdef int dt
    cdef RowFn* rows
    cdef Py_ssize_t shape[MAX_DIMS]
    cdef Operand ops[3]
    cdef ScalarBuf buf
    if isinstance(other, Tensor):
        ot = <Tensor>other
    elif is_scalar(other):
        other = normalize_scalar(other)
    else:
        return NotImplemented
    check_inplace(self)
    if alpha is not None and alpha == 1:
        alpha = None
    dt = tensor_result_type(self, ot) if ot is not None else scalar_result_type(self._dtype, other)
    if which == 3 and not is_float(dt):
        dt = DEFAULT_FLOAT
    if CATEGORY[dt] > CATEGORY[self._dtype]:
        raise RuntimeError(
            f"result type {dtype_title(dt)} can't be cast to the desired output type {dtype_title(self._dtype)}")
    if ot is not None:
        nd = broadcast_shapes(self._ndim, self._shape, ot._ndim, ot._shape, shape)
        if not shape_equals(self, nd, shape):
            raise RuntimeError(
                f"output with shape {shape_str(self._shape, self._ndim)} doesn't match the broadcast "
                f"shape {shape_str(shape, nd)}")
    if which == 1 and (self._dtype == BOOL or (ot is not None and ot._dtype == BOOL) or isinstance(other, bool)):
        check_bool_sub(self, other)
    if cgrad_grad_enabled and (self._requires_grad or (ot is not None and ot._requires_grad)):
        return inplace_with_history(which, self, ot, other, alpha)
    # no history: compute in self's dtype straight into self
    rows = binary_rows(which)
    if ot is not None:
        if alpha is not None:
            ot = scalar_kernel(MUL_ROWS, ot, alpha, False, ot._dtype, ot._dtype, "mul")
        if ot._dtype != self._dtype:
            ot = cast_tensor(ot, self._dtype)
        if rows[self._dtype] == NULL:
            raise RuntimeError(f"\"{binary_name(which)}\" not implemented for '{dtype_title(self._dtype)}'")
        ops[0] = operand_of(self)
        ops[1] = operand_of(self)
        ops[2] = operand_of(ot)
        run_elementwise(rows[self._dtype], 3, ops, self._ndim, self._shape, self._numel, NULL)
    else:
        if alpha is not None:
            other = other * alpha
        if rows[self._dtype] == NULL:
            raise RuntimeError(f"\"{binary_name(which)}\" not implemented for '{dtype_title(self._dtype)}'")
        store_scalar(&buf, other, self._dtype)
        ops[0] = operand_of(self)
        ops[1] = operand_of(self)
        ops[2] = operand_of_scalar(&buf, ITEMSIZE[self._dtype])
        run_elementwise(rows[self._dtype], 3, ops, self._ndim, self._shape, self._numel, NULL)
    self._storage.version += 1
    return self


cdef RowFn* binary_rows(int which) noexcept:
    if which == 0:
        return ADD_ROWS
    if which == 1:
        return SUB_ROWS
    if which == 2:
        return MUL_ROWS
    return DIV_ROWS


cdef str binary_name(int which):
    return ("add", "sub", "mul", "div")[which]


cdef Tensor inplace_with_history(int which, Tensor self, Tensor ot, object other, object alpha):
    cdef Tensor old, result
    if self._base is not None:
        raise RuntimeError(
            "in-place operations with autograd history on views are not supported by cgrad yet")
    # The op is recorded on `old`: self's old value with self's history. Add
    # and sub save nothing, so an alias will do; mul and div may save self,
    # so they get a private copy that the write below cannot touch.
    if which <= 1:
        old = alias_detached(self)
    else:
        old = contiguous_copy(self)
    old._grad_fn = self._grad_fn
    old._output_nr = self._output_nr
    old._requires_grad = self._requires_grad
    if ot is not None:
        if which == 0:
            result = op_add(old, ot, alpha)
        elif which == 1:
            result = op_sub(old, ot, alpha)
        elif which == 2:
            result = op_mul(old, ot)
        else:
            result = op_div(old, ot)
    else:
        if which == 0:
            result = op_add_scalar(old, other, alpha)
        elif which == 1:
            result = op_sub_scalar(old, other, alpha)
        elif which == 2:
            result = op_mul_scalar(old, other)
        else:
            result = op_div_scalar(old, other)
    copy_into(self, result)
    self._storage.version += 1
    self._grad_fn = result._grad_fn
    self._output_nr = result._output_nr
    self._requires_grad = True
    return self


cdef Tensor inplace_fill(Tensor self, object value):
    check_inplace(self)
    if cgrad_grad_enabled and self._requires_grad:
        raise RuntimeError(leaf_inplace_msg if self._grad_fn is None else
                           "in-place fill of a tensor with history is not supported by cgrad yet")
    fill_scalar(self, value)
    self._storage.version += 1
    return self
