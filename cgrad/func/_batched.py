"""vmap's batched tensor and its dispatch.

A BatchedTensor is the logical per-sample view of a physical tensor whose
dim 0 is the batch dim of one vmap level (the physical tensor is kept with
its batch dim in front: moving it there once is a view, and every rule can
then shift dims by one). Nested vmaps nest wrappers: the value of a level-2
BatchedTensor may itself be a level-1 BatchedTensor, so a rule only ever sees
one level and calls ops that dispatch again for the levels below.

cgrad's ops are C functions that take Tensor, so a BatchedTensor is not a
Tensor subclass (a C kernel must never read it as one); `__class__` answers
Tensor so that user code's isinstance checks pass, while the C functions'
exact type checks still refuse it. Its methods and operators dispatch to the
batching rules (cgrad/func/_batch_rules*.py). The functions of the cgrad and
cgrad.nn.functional namespaces, and the Tensor methods that take another
tensor, are swapped for dispatching wrappers only while a vmap runs
(install_namespace_wrappers), so the unbatched fast path is untouched: no
check is added to any C function. An op without a rule
runs once per sample (the fallback, with PyTorch's performance warning)."""
import functools
import threading
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor

from cgrad.func._levels import _state, active_levels, level_info, new_level, pop_level  # noqa: F401

_install_lock = threading.Lock()
_install_count = [0]


class BatchedTensor:
    """The logical tensor of one sample: `_value`'s dim 0 is the batch."""
    __slots__ = ("_value", "_level")

    def __init__(self, value, level):
        self._value = value
        self._level = level

    @property
    def __class__(self):
        return Tensor

    # --- metadata: the logical (per-sample) view -------------------------
    @property
    def shape(self):
        return _C.Size(tuple(self._value.shape)[1:])

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self.shape[_wrap_dim(dim, self._value.dim() - 1)]

    def dim(self):
        return self._value.dim() - 1

    ndimension = dim

    @property
    def ndim(self):
        return self._value.dim() - 1

    def numel(self):
        n = 1
        for s in tuple(self._value.shape)[1:]:
            n *= s
        return n

    nelement = numel

    @property
    def dtype(self):
        return self._value.dtype

    @property
    def device(self):
        return self._value.device

    @property
    def requires_grad(self):
        return self._value.requires_grad

    @property
    def is_leaf(self):
        return self._value.is_leaf

    @property
    def grad_fn(self):
        return self._value.grad_fn

    @property
    def grad(self):
        return None

    @property
    def layout(self):
        return self._value.layout

    @property
    def is_sparse(self):
        return self._value.is_sparse

    def is_floating_point(self):
        return self._value.is_floating_point()

    def is_complex(self):
        return False

    def element_size(self):
        return self._value.element_size()

    def requires_grad_(self, requires_grad=True):
        self._value.requires_grad_(requires_grad)
        return self

    def __len__(self):
        if self._value.dim() == 1:
            raise TypeError("len() of a 0-d tensor")
        return self._value.shape[1]

    def __iter__(self):
        if self._value.dim() == 1:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __repr__(self):
        return f"BatchedTensor(lvl={self._level}, bdim=0, value=\n{self._value!r}\n)"

    __str__ = __repr__

    def __hash__(self):
        return id(self)

    # --- data-dependent operations vmap cannot batch ---------------------
    def item(self):
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling "
            ".item() on a Tensor, please try to rewrite what you're doing with other operations. If error "
            "is occurring somewhere inside PyTorch internals, please file a bug report.")

    def __bool__(self):
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We "
            "don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues .")

    __float__ = __int__ = __index__ = tolist = numpy = item

    def backward(self, *args, **kwargs):
        raise RuntimeError("backward() called inside a functorch transform. This is not supported, please "
                           "use functorch.grad or functorch.vjp instead or call backward() outside of "
                           "functorch transforms.")


def _wrap_dim(dim, rank):
    """A logical dim in [0, rank), with PyTorch's error for one out of range."""
    top = max(rank, 1)
    if not -top <= dim < top:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-top}, {top - 1}], "
                         f"but got {dim})")
    return dim + top if dim < 0 else dim


# --- dispatch ----------------------------------------------------------------

RULES = {}          # op name -> rule(op, level, args, kwargs)


def rule(*names):
    def register(fn):
        for name in names:
            RULES[name] = fn
        return fn
    return register


def max_level(args, kwargs):
    level = 0
    for a in args:
        t = type(a)
        if t is BatchedTensor:
            if a._level > level:
                level = a._level
        elif t is list or t is tuple:
            for b in a:
                if type(b) is BatchedTensor and b._level > level:
                    level = b._level
    if kwargs:
        for a in kwargs.values():
            if type(a) is BatchedTensor and a._level > level:
                level = a._level
    return level


def dispatch(name, op, args, kwargs):
    """Run op(*args, **kwargs) with its batching rule (or the fallback) at
    the highest level among the batched arguments. A cgrad.nn.functional
    function (name "F.<name>") without a rule of its own runs its Python
    body on the batched tensors (its ops dispatch), as PyTorch decomposes
    composite ops; one that reaches a C function without a rule falls back."""
    level = max_level(args, kwargs)
    fn = RULES.get(name)
    if fn is not None:
        return fn(op, level, args, kwargs)
    prefix, dot, bare = name.partition(".")
    if dot:
        original = getattr(op, "_vmap_original", op)
        if type(original).__name__ == "function":
            try:
                return original(*args, **kwargs)
            except TypeError as error:
                if "BatchedTensor" not in str(error):
                    raise
        fn = RULES.get(bare) if prefix == "F" else None
        if fn is not None:
            return fn(op, level, args, kwargs)
        name = bare if prefix == "F" else prefix + "_" + bare      # aten's name: linalg_inv
    return fallback(name, op, level, args, kwargs)


FALLBACK_WARNING = ("There is a performance drop because we have not yet implemented the batching rule for "
                    "aten::{}. Please file us an issue on GitHub so that we can prioritize its implementation.")


def _select_sample(x, level, i):
    if type(x) is BatchedTensor and x._level == level:
        return x._value[i]
    if type(x) is list or type(x) is tuple:
        return type(x)(_select_sample(y, level, i) for y in x)
    return x


class quiet_fallback:
    """Inside, the fallback does not warn (for transforms such as jacrev
    whose PyTorch counterpart does not vmap the function itself)."""

    def __enter__(self):
        self.previous = getattr(_state, "quiet", False)
        _state.quiet = True

    def __exit__(self, *exc):
        _state.quiet = self.previous


def fallback(name, op, level, args, kwargs):
    """The op once per sample, results stacked: correct for any op, slow."""
    if not getattr(_state, "quiet", False):
        warnings.warn(FALLBACK_WARNING.format(name), UserWarning, stacklevel=3)
    size = level_info(level).size
    results = []
    for i in range(size):
        sample_args = [_select_sample(a, level, i) for a in args]
        sample_kwargs = {k: _select_sample(v, level, i) for k, v in kwargs.items()}
        results.append(op(*sample_args, **sample_kwargs))
    return _stack_results(results, level)


def _stack_results(results, level):
    first = results[0]
    if isinstance(first, Tensor):
        return BatchedTensor(stack_values(results), level)
    if isinstance(first, tuple):
        parts = [_stack_results([r[k] for r in results], level) for k in range(len(first))]
        return _rebuild_tuple(first, parts)
    if isinstance(first, list):
        return [_stack_results([r[k] for r in results], level) for k in range(len(first))]
    if all(r == first for r in results):
        return first
    raise RuntimeError("vmap: We do not support batching operators that can output dynamic shape. ")


def stack_values(values):
    """torch.stack of tensors that may be BatchedTensors of lower levels."""
    if any(type(v) is BatchedTensor for v in values):
        return dispatch("stack", _namespace_call("stack"), (list(values), 0), {})
    return _C.stack(values, 0)


def _rebuild_tuple(like, parts):
    if type(like) is tuple:
        return tuple(parts)
    if hasattr(like, "_fields"):
        return type(like)(*parts)
    return type(like)(parts)


def wrap(result, level):
    """Wrap an op's physical result(s) at level."""
    if isinstance(result, Tensor):
        return BatchedTensor(result, level)
    if isinstance(result, tuple):
        return _rebuild_tuple(result, [wrap(r, level) for r in result])
    if isinstance(result, list):
        return [wrap(r, level) for r in result]
    return result


def unwrap(x, level):
    """(value with the batch dim in front, True) for x batched at level;
    (x, False) otherwise (x may be batched at a lower level)."""
    if type(x) is BatchedTensor and x._level == level:
        return x._value, True
    return x, False


def materialize(x, level, size):
    """x batched at level: its value, or x expanded along a new batch dim."""
    if type(x) is BatchedTensor and x._level == level:
        return x._value
    return x.unsqueeze(0).expand((size,) + tuple(x.shape))


# --- methods and operators ------------------------------------------------

@functools.lru_cache(maxsize=None)
def method_caller(name):
    def call(self, *args, **kwargs):
        return getattr(self, name)(*args, **kwargs)
    call.__name__ = name
    return call


def _make_method(name):
    op = method_caller(name)

    def method(self, *args, **kwargs):
        return dispatch(name, op, (self,) + args, kwargs)
    method.__name__ = name
    return method


_OWN = set(dir(BatchedTensor)) | {"__class__", "__init__", "__new__", "__getattribute__", "__setattr__",
                                  "__delattr__", "__dir__", "__reduce__", "__reduce_ex__", "__sizeof__",
                                  "__init_subclass__", "__subclasshook__", "__format__", "__doc__",
                                  "__slots__", "__module__", "__getstate__", "__setstate__", "__hash__",
                                  "__array__", "__array_priority__", "__dlpack__", "__dlpack_device__",
                                  "__deepcopy__", "__copy__", "__contains__"}
_OWN -= {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}
import cgrad._tensor_ops  # noqa: E402,F401  (the Python-level Tensor methods too, installed on first use)
for _name in dir(Tensor):
    if _name in _OWN or _name in ("H", "T", "mT", "mH", "data", "_base", "_version", "output_nr"):
        continue
    if callable(getattr(Tensor, _name, None)):
        setattr(BatchedTensor, _name, _make_method(_name))
for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__", "__rmod__", "__pow__", "__rpow__",
              "__matmul__", "__rmatmul__", "__and__", "__rand__", "__or__", "__ror__", "__xor__", "__rxor__",
              "__neg__", "__pos__", "__abs__", "__invert__", "__eq__", "__ne__", "__lt__", "__le__",
              "__gt__", "__ge__", "__getitem__", "__setitem__", "__iadd__", "__isub__", "__imul__",
              "__itruediv__"):
    setattr(BatchedTensor, _name, _make_method(_name))
BatchedTensor.T = property(lambda self: dispatch("T", method_caller("permute"), (self,), {}))
BatchedTensor.mT = property(lambda self: self.transpose(-2, -1))
BatchedTensor.data = property(lambda self: BatchedTensor(self._value.detach(), self._level))


# --- namespace functions ----------------------------------------------------

# names of the cgrad namespace that never take part in batching
_NOT_WRAPPED = {"vmap", "func", "autograd", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
                "inference_mode", "is_inference_mode_enabled", "manual_seed", "seed", "initial_seed",
                "get_rng_state", "set_rng_state", "set_default_dtype", "get_default_dtype", "Size",
                "dtype", "device", "Tensor", "Generator", "set_default_device", "get_default_device",
                "set_printoptions", "save", "load", "from_numpy", "get_num_threads", "set_num_threads",
                "promote_types", "can_cast", "is_storage", "typename", "compile"}

# random functions that consult vmap's randomness even without batched arguments
RANDOM_FUNCTIONS = {"rand", "randn", "randint", "randperm", "normal", "bernoulli", "rand_like", "randn_like",
                    "randint_like", "multinomial", "poisson", "dropout"}

_ORIGINALS = {}     # (module name, function name) -> original function
_WRAPPERS = {}      # (module name, function name) -> dispatching wrapper


def _has_batched(args, kwargs):
    for a in args:
        t = type(a)
        if t is BatchedTensor:
            return True
        if t is list or t is tuple:
            for b in a:
                if type(b) is BatchedTensor:
                    return True
    if kwargs:
        for a in kwargs.values():
            if type(a) is BatchedTensor:
                return True
    return False


def _make_wrapper(prefix, name, original):
    random = name in RANDOM_FUNCTIONS
    key = name if prefix == "cgrad" else prefix + "." + name

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if _has_batched(args, kwargs) or (random and active_levels()):
            return dispatch(key, wrapper, args, kwargs)
        return original(*args, **kwargs)
    wrapper._vmap_original = original
    return wrapper


def _wrappable(name, value):
    if name.startswith("_") or name in _NOT_WRAPPED or isinstance(value, type):
        return False
    return type(value).__name__ in ("function", "cython_function_or_method", "builtin_function_or_method")


def _namespaces():
    import cgrad.linalg
    import cgrad.nn.functional as F
    import cgrad.special
    return (("cgrad", cgrad), ("F", F), ("linalg", cgrad.linalg), ("special", cgrad.special))


def _load_lazy_functions():
    """cgrad's lazily loaded functions (cgrad.det, ...) bound now, so that
    the wrappers cover them whether or not they were used before."""
    for name, module_name in cgrad._LAZY_ATTRIBUTES.items():
        if module_name != "cgrad." + name:
            getattr(cgrad, name)


_BY_MODULE = {}     # module prefix -> ({name: original}, {name: wrapper}), for one dict update each


def _build_wrappers():
    if _WRAPPERS:
        return
    _load_lazy_functions()
    for prefix, module in _namespaces():
        originals, wrappers = {}, {}
        for name, value in list(vars(module).items()):
            if _wrappable(name, value):
                originals[name] = _ORIGINALS[prefix, name] = value
                wrappers[name] = _WRAPPERS[prefix, name] = _make_wrapper(prefix, name, value)
        _BY_MODULE[prefix] = (originals, wrappers)


def _namespace_call(name, prefix="cgrad"):
    _build_wrappers()
    return _WRAPPERS[prefix, name]


# Tensor methods that take another tensor: on an unbatched Tensor with a
# BatchedTensor argument they must dispatch too (x.add(batched), w.mm(batched))
TENSOR_ARGUMENT_METHODS = """add sub subtract rsub mul multiply div divide true_divide floor_divide remainder fmod
pow float_power maximum minimum fmax fmin atan2 arctan2 hypot copysign xlogy logaddexp logaddexp2 eq ne lt le gt
ge not_equal greater greater_equal less less_equal logical_and logical_or logical_xor bitwise_and bitwise_or
bitwise_xor heaviside lerp where masked_fill isclose expand_as view_as reshape_as type_as mm bmm mv dot
matmul outer ger inner index_select gather scatter scatter_add copy_ add_ sub_ mul_ div_ pow_ lerp_
masked_fill_ clamp clamp_ clip clip_ max min addmm fmod_ remainder_ atan2_ hypot_ copysign_ xlogy_
heaviside_ float_power_ floor_divide_ true_divide_ divide_ index_add index_add_ index_copy index_copy_
index_fill index_fill_ index_put index_put_ put put_ take masked_scatter masked_scatter_ masked_select cross
cholesky_solve addmv addr baddbmm addbmm quantile nanquantile prelu scatter_ scatter_add_ scatter_reduce
scatter_reduce_ take_along_dim""".split()
# random in-place methods consult vmap's randomness even on unbatched tensors
RANDOM_METHODS = "normal_ uniform_ bernoulli_ random_ exponential_ geometric_ cauchy_ log_normal_".split()
_TENSOR_METHODS = {}        # name -> (original, wrapper)


def _make_tensor_method(name, original):
    op = method_caller(name)
    random = name in RANDOM_METHODS

    def method(self, *args, **kwargs):
        if _has_batched(args, kwargs) or (random and active_levels()):
            return dispatch(name, op, (self,) + args, kwargs)
        return original(self, *args, **kwargs)
    method.__name__ = name
    return method


def _build_tensor_methods():
    if _TENSOR_METHODS or not hasattr(_C, "_swap_tensor_methods"):
        return
    for name in TENSOR_ARGUMENT_METHODS + RANDOM_METHODS:
        original = vars(Tensor).get(name)
        if original is not None:
            _TENSOR_METHODS[name] = (original, _make_tensor_method(name, original))


_getitem_op = method_caller("__getitem__")


def _setitem_op(self, index, value):
    self[index] = value


def _index_hook(x, index, setting):
    """Tensor.__getitem__/__setitem__ of an unbatched tensor while a vmap
    runs: an index (or assigned value) holding a BatchedTensor goes to its
    rule; anything else to the Tensor's own code (NotImplemented)."""
    items = index if type(index) is tuple else (index,)
    if setting is None:
        if not _has_batched(items, None):
            return NotImplemented
        return dispatch("__getitem__", _getitem_op, (x, index), {})
    if not _has_batched(items, None) and type(setting[0]) is not BatchedTensor:
        return NotImplemented
    dispatch("__setitem__", _setitem_op, (x, index, setting[0]), {})
    return True


def install_namespace_wrappers():
    """Route cgrad.*, cgrad.nn.functional.* and the Tensor methods that
    take tensors through the wrappers while a vmap runs (counted, so nested
    and concurrent vmaps share one install)."""
    with _install_lock:
        _build_wrappers()
        _build_tensor_methods()
        if _install_count[0] == 0:
            for prefix, module in _namespaces():
                vars(module).update(_BY_MODULE[prefix][1])
            if _TENSOR_METHODS:
                _C._swap_tensor_methods({k: v[1] for k, v in _TENSOR_METHODS.items()})
            if hasattr(_C, "_set_vmap_index_hook"):
                _C._set_vmap_index_hook(_index_hook)
        _install_count[0] += 1


def uninstall_namespace_wrappers():
    with _install_lock:
        _install_count[0] -= 1
        if _install_count[0] == 0:
            for prefix, module in _namespaces():
                vars(module).update(_BY_MODULE[prefix][0])
            if _TENSOR_METHODS:
                _C._swap_tensor_methods({k: v[0] for k, v in _TENSOR_METHODS.items()})
            if hasattr(_C, "_set_vmap_index_hook"):
                _C._set_vmap_index_hook(None)


def batching_wrapper_of(func):
    """The batching wrapper of a namespace function the user handed to vmap
    itself (vmap(cgrad.dot)): that reference was taken before the wrappers
    were installed. Any other callable is returned as it is."""
    _build_wrappers()
    if not _WRAPPER_BY_ORIGINAL:
        _WRAPPER_BY_ORIGINAL.update({id(original): _WRAPPERS[key] for key, original in _ORIGINALS.items()})
    wrapper = _WRAPPER_BY_ORIGINAL.get(id(func))
    return func if wrapper is None else wrapper


_WRAPPER_BY_ORIGINAL = {}   # id(namespace function) -> its batching wrapper (the originals live on)


def call(name, *args, **kwargs):
    """cgrad.<name>(*args, **kwargs) for a rule: dispatches when an
    argument is batched at a lower level, else the C function directly."""
    if _has_batched(args, kwargs):
        return dispatch(name, _namespace_call(name), args, kwargs)
    _build_wrappers()
    return _ORIGINALS["cgrad", name](*args, **kwargs)


def call_F(name, *args, **kwargs):
    """cgrad.nn.functional.<name> for a rule, as call() does for cgrad.*."""
    if _has_batched(args, kwargs):
        return dispatch(name, _namespace_call(name, "F"), args, kwargs)
    _build_wrappers()
    return _ORIGINALS["F", name](*args, **kwargs)
