"""What the pure-Python op modules (cgrad/_ops_*.py) share: numpy views of
tensors and tensors of numpy results, graph nodes named as PyTorch names
them (Python subclasses of the compiled PythonBackward), argument checks in
PyTorch's words, and the named result tuples (torch.return_types.sort...).

These ops do their per-element work in whole-buffer numpy calls (sorting,
cumulative products, unique) or as compositions of compiled differentiable
ops; their backward formulas are written with differentiable ops, so double
backward works."""
import numpy as np

from cgrad import _C
from cgrad._linalg_results import _make

_NODE_CLASSES = {}


def node_class(name):
    """The node class PyTorch calls `name` (e.g. "SortBackward0")."""
    cls = _NODE_CLASSES.get(name)
    if cls is None:
        cls = type(name, (_C.PythonBackward,), {"__module__": "cgrad.autograd.graph", "__slots__": ()})
        _NODE_CLASSES[name] = cls
    return cls


def attach(outputs, name, inputs, backward_fn, saved=(), jvp=None):
    """Give outputs (None: not differentiable) the node `name` over inputs
    (None: no edge) when an input requires grad or has a forward-AD
    tangent; backward_fn(grads) returns one gradient per input. `saved`: the
    tensors backward reads, whose version counters are checked then
    (PyTorch's error when one was modified in place after the op). `jvp`:
    the op's forward-mode formula (derivatives.yaml's result:),
    jvp(tangents, nr) -> the tangent of output nr from the inputs' tangents
    (None where an input has none); without it forward AD takes the
    transpose of backward_fn."""
    if saved and _C.is_grad_enabled():
        backward_fn = _version_checked(backward_fn, [t for t in saved if t is not None])
    return _C._attach_history(list(outputs), node_class(name), list(inputs), backward_fn, jvp)


def tangent_or_zeros(t, like):
    """An absent input tangent where a formula needs one (PyTorch's zeros)."""
    return _C.zeros_like(like) if t is None else t


_TYPE_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16", "int64": "Long", "int32": "Int",
               "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def _version_checked(backward_fn, saved):
    versions = [t._version for t in saved]

    def checked(grads):
        for t, v in zip(saved, versions):
            if t._version != v:
                kind = _TYPE_NAMES.get(str(t.dtype).split(".")[-1], "")
                where = ""
                if t.grad_fn is not None:
                    fwd = type(t.grad_fn).__name__
                    if "Backward" in fwd:     # PowBackward1 -> Pow1, ExpBackward0 -> Exp, as PyTorch
                        at = fwd.rfind("Backward")
                        fwd = fwd[:at] + ("" if fwd[at + 8:] == "0" else fwd[at + 8:])
                    where = f", which is output {t.output_nr} of {fwd},"
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an inplace "
                    f"operation: [cgrad.{kind}Tensor {list(t.shape)}]{where} is at version {t._version}; "
                    f"expected version {v} instead. Hint: enable anomaly detection to find the operation that "
                    "failed to compute its gradient, with cgrad.autograd.set_detect_anomaly(True, "
                    "check_nan=False).")
        return backward_fn(grads)
    return checked


def needs_grad(*tensors):
    return _C.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


def np_of(t):
    """A numpy view of t's values (no copy for a strided tensor); bfloat16,
    which numpy lacks, as a float32 copy (exact: same_dtype_of puts a result
    back)."""
    if t.dtype == _C.bfloat16:
        return t.detach().float().numpy()
    return t.detach().numpy()


def same_dtype_of(result, x):
    """A result tensor computed from np_of(x) in x's dtype (bfloat16 went
    through float32)."""
    return result.to(x.dtype) if x.dtype == _C.bfloat16 and result.dtype == _C.float32 else result


def tensor_of(arr):
    """A new tensor over (a contiguous copy of) a numpy result."""
    arr = np.asarray(arr)
    if not arr.flags.c_contiguous or arr.dtype.byteorder == ">":
        arr = arr.copy(order="C")          # (np.ascontiguousarray would make a 0-d array 1-d)
    return _C.from_numpy(arr)


def typename(x):
    if x is None:
        return "NoneType"
    if isinstance(x, _C.Tensor):
        return "Tensor"
    return type(x).__name__


def check_tensor(x, fname, argname="input", position=1):
    if not isinstance(x, _C.Tensor):
        raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be Tensor, "
                        f"not {typename(x)}")
    return x


def check_int(x, fname, argname, position):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
        if isinstance(x, _C.Tensor) and x.numel() == 1 and not x.is_floating_point() and x.dtype != _C.bool_:
            return int(x.item())
        raise TypeError(f"{fname}(): argument '{argname}' (position {position}) must be int, "
                        f"not {typename(x)}")
    return int(x)


def wrap_dim(dim, ndim):
    """PyTorch's maybe_wrap_dim (a 0-d tensor has dims -1 and 0)."""
    n = max(ndim, 1)
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def wrap_dim_list(dims, ndim):
    """dims wrapped, each allowed once (ATen's dim_list_to_bitset)."""
    wrapped = [wrap_dim(d, ndim) for d in dims]
    seen = set()
    for d in wrapped:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return wrapped


# the C++ type names c10's TypeMeta prints for a dtype (TensorOptions, SDPA's dtype checks)
_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "bfloat16": "c10::BFloat16",
                   "int64": "long int", "int32": "int", "int16": "short int", "int8": "signed char",
                   "uint8": "unsigned char", "bool": "bool"}


def dtype_cpp_name(dtype):
    """'float' for float32, 'long int' for int64: how PyTorch's C++ errors
    print a dtype through caffe2's TypeMeta."""
    name = str(dtype).split(".")[-1]
    return _CPP_TYPE_NAMES.get(name, name)


def zeros_grad(shape, like):
    return _C.zeros(tuple(shape), dtype=like.dtype)


def grad_or_zeros(g, out):
    return g if g is not None else _C.zeros(tuple(out.shape), dtype=out.dtype)


def with_out(result, out, fname):
    """A single-tensor result written into out= as PyTorch does."""
    if out is None:
        return result
    return _C._with_out(result, out, fname)


def with_out_tuple(results, out, fname, result_type=None):
    """A tuple result written into an out= tuple of tensors."""
    if out is None:
        return results if result_type is None else tuple.__new__(result_type, results)
    if not isinstance(out, (tuple, list)) or not all(isinstance(o, _C.Tensor) for o in out):
        raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors, not {typename(out)}")
    if len(out) != len(results):
        raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors, not tuple of {len(out)}")
    written = tuple(_C._with_out(r, o, fname) for r, o in zip(results, out))
    return written if result_type is None else tuple.__new__(result_type, written)


def values_indices_type(name):
    return _make(name, ("values", "indices"))


RESULT_TYPES = {name: values_indices_type(name) for name in
                ("sort", "topk", "kthvalue", "median", "nanmedian", "mode", "cummax", "cummin")}
RESULT_TYPES["aminmax"] = _make("aminmax", ("min", "max"))
RESULT_TYPES["frexp"] = _make("frexp", ("mantissa", "exponent"))
RESULT_TYPES["histogram"] = _make("histogram", ("hist", "bin_edges"))
RESULT_TYPES["histogramdd"] = _make("histogramdd", ("hist", "bin_edges"))


def result(name, values):
    return tuple.__new__(RESULT_TYPES[name], tuple(values))


def composite_grads(fn, inputs, grads):
    """Gradients of fn(*inputs) (a tensor or tuple) for the given output
    gradients (None: unused), by recording fn in backward: on detached leaves
    for a plain backward, on the inputs themselves when backward itself is
    recorded (create_graph), so the result is differentiable again."""
    from cgrad.autograd import grad as _grad
    create_graph = _C.is_grad_enabled()
    wanted = [isinstance(t, _C.Tensor) and t.requires_grad for t in inputs]
    if create_graph:
        leaves = list(inputs)
    else:
        leaves = [t.detach().requires_grad_(w) if isinstance(t, _C.Tensor) and t.is_floating_point() else t
                  for t, w in zip(inputs, wanted)]
    from cgrad.autograd.grad_mode import enable_grad
    with enable_grad():
        outs = fn(*leaves)
    outs = list(outs) if isinstance(outs, (tuple, list)) else [outs]
    if not isinstance(grads, list):
        grads = [grads]
    pairs = [(o, g) for o, g in zip(outs, grads) if g is not None and o.requires_grad]
    targets = [l for l, w in zip(leaves, wanted) if w]
    if not targets:
        return tuple(None for _ in inputs)
    if not pairs:          # the composite is constant in its inputs (cdist with p=0): zero gradients
        return tuple(_C.zeros_like(l) if w else None for l, w in zip(leaves, wanted))
    got = iter(_grad([o for o, _ in pairs], targets, [g for _, g in pairs], create_graph=create_graph,
                     allow_unused=True))
    res = []
    for l, w in zip(leaves, wanted):
        if w:
            gi = next(got)
            res.append(gi if gi is not None else _C.zeros_like(l))
        else:
            res.append(None)
    return tuple(res)


def forward_ad_not_implemented(aten_name):
    """A jvp raising PyTorch's error for an op without a forward formula."""
    rule = _C._fw_not_implemented_rule(aten_name)
    return lambda tangents, nr: rule(None, (), tuple(tangents), None, nr)


def composite_op(node, fn, inputs, outputs_differentiable=None, jvp=None):
    """Run fn(*inputs) without recording, then record its outputs as made by
    one node `node` whose backward is fn's composite gradient."""
    from cgrad.autograd.grad_mode import no_grad
    with no_grad():
        outs = fn(*inputs)
    single = not isinstance(outs, (tuple, list))
    outs = [outs] if single else list(outs)
    outs = [o.clone() if o._base is not None or any(o is i for i in inputs) else o for o in outs]
    attach(outs if outputs_differentiable is None else
           [o if d else None for o, d in zip(outs, outputs_differentiable)],
           node, list(inputs), lambda g: composite_grads(fn, inputs, g),
           saved=[t for t in inputs if isinstance(t, _C.Tensor)],
           jvp=jvp or (lambda tangents, nr: composite_jvp(fn, inputs, nr)))
    return outs[0] if single else tuple(outs)


def composite_jvp(fn, inputs, nr):
    """The tangent of output nr of a composite: fn run again with forward AD
    on, its parts' formulas giving the tangent (PyTorch differentiates a
    CompositeImplicitAutograd op through its decomposition the same way)."""
    outs = _C._fw_run_active(fn, *inputs)
    out = outs[nr] if isinstance(outs, (tuple, list)) else outs
    tangent = _C._fw_tangent(out)
    return _C.zeros_like(out) if tangent is None else tangent


def dtype_title(dtype):
    """'Float' for float32, 'Long' for int64: PyTorch's name of a dtype in
    its kernels' errors (`"addmm" not implemented for 'Long'`)."""
    return _C.empty(0, dtype=dtype).type().split(".")[-1][:-len("Tensor")]


def numpy_dim_spellings(fn):
    """fn, also taking numpy's axis= for dim= and keepdims= for keepdim=, as
    PyTorch's argument parser does for every signature holding those names.
    Given beside its own name (by keyword or position), the numpy spelling
    is PyTorch's unexpected-keyword error."""
    import functools
    import inspect
    params = list(inspect.signature(fn).parameters.values())
    names = [p.name for p in params]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    renames = [(alias, own, positional.index(own) if own in positional else None)
               for alias, own in (("axis", "dim"), ("keepdims", "keepdim")) if own in names]

    @functools.wraps(fn)
    def with_numpy_spellings(*args, **kwargs):
        if "axis" in kwargs or "keepdims" in kwargs:
            for alias, own, position in renames:
                if alias in kwargs:
                    if own in kwargs or (position is not None and len(args) > position):
                        raise TypeError(f"{fn.__name__}() got an unexpected keyword argument '{alias}'")
                    kwargs[own] = kwargs.pop(alias)
        return fn(*args, **kwargs)
    return with_numpy_spellings
