"""cgrad.func: PyTorch's torch.func transforms that reverse mode can carry:
grad, grad_and_value, vjp, jacrev, hessian, vmap, functional_call,
stack_module_state (and linearize, functionalize, debug_unwrap,
replace_all_batch_norm_modules_ in cgrad/func/_utilities.py).

PyTorch runs these on wrapped tensors with a nesting level each. cgrad has
no levels; it emulates them with ordinary autograd: the differentiated
arguments are replaced by fresh leaves (or, when they already carry a graph
from an enclosing transform or the caller, by views of themselves, so that
gradients stay differentiable for the enclosing level), autograd.grad runs
with create_graph only when something outside can still differentiate the
result, and results are detached at the outermost level otherwise, as
PyTorch's unwrapping does. vmap (cgrad/func/_vmap.py) runs functions on
BatchedTensors with batching rules; inside it these transforms work on the
physical tensors (cgrad/func/_batched_autograd.py), so vmap(grad(f)) is one
batched engine pass. jacrev computes all rows at once as a vmapped vjp (one
engine pass per row when f cannot run under vmap), and hessian is jacrev
over jacrev (PyTorch's jacfwd over jacrev gives the same values; the
vmapped reverse pass is the faster one here). jvp and jacfwd run in forward
mode (cgrad/func/_forward.py)."""
import functools
import threading

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad.func._pytree import spec_str, tree_flatten, tree_map, tree_unflatten
from cgrad.func._functional_call import functional_call, stack_module_state
from cgrad.func._levels import active_levels

__all__ = ["grad", "grad_and_value", "vjp", "jacrev", "hessian", "functional_call", "stack_module_state", "vmap"]

_nesting = threading.local()


def _depth():
    return getattr(_nesting, "depth", 0)


class _Level:
    """One transform's nesting: inside it, enclosing transforms count as
    something outside that differentiates (PyTorch's grad_increment_nesting)."""

    def __enter__(self):
        self.previous = _depth()
        _nesting.depth = self.previous + 1
        return self.previous

    def __exit__(self, *exc):
        _nesting.depth = self.previous


def _outer_needs_graph(*trees):
    """Whether results must stay differentiable: inside another transform,
    or when the caller's tensors carry a graph (grad mode on)."""
    if not cgrad.is_grad_enabled():
        return False
    if _depth() > 0:
        return True
    for tree in trees:
        leaves, _ = tree_flatten(tree)
        if any(isinstance(x, Tensor) and x.requires_grad for x in leaves):
            return True
    return False


def _create_differentiable(x):
    if isinstance(x, Tensor) and active_levels():
        from cgrad.func._batched_autograd import create_differentiable
        return create_differentiable(x)
    if isinstance(x, Tensor):
        if x.requires_grad:
            return x.view_as(x)
        tangent = _C._fw_tangent(x)
        leaf = x.detach().requires_grad_()
        if tangent is not None:     # inside jvp/jacfwd: the leaf keeps its tangent (forward-over-reverse)
            from cgrad.autograd.forward_ad import make_dual
            return make_dual(leaf, tangent)
        return leaf
    raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")


def _undo(tree, keep_graph):
    if keep_graph:
        return tree
    return tree_map(lambda x: x.detach() if isinstance(x, Tensor) else x, tree)


def _undo_aux(aux, keep_graph):
    """aux must hold only tensors, as PyTorch's unwrapping requires."""
    def unwrap(x):
        if isinstance(x, Tensor):
            return x if keep_graph else x.detach()
        raise RuntimeError(f"Expected tensors, got unsupported type {type(x)}")
    return tree_map(unwrap, aux)


def _autograd_grad(outputs, inputs, grad_outputs=None, retain_graph=False, create_graph=True,
                   is_grads_batched=False):
    """PyTorch's functorch _autograd_grad: outputs without grad are dropped,
    inputs they do not reach get zeros."""
    if active_levels() and not is_grads_batched:
        from cgrad.func import _batched_autograd as batched_autograd
        if batched_autograd.has_batched(outputs, inputs, grad_outputs):
            return batched_autograd.batched_autograd_grad(outputs, inputs, grad_outputs, retain_graph,
                                                          create_graph)
    if grad_outputs is None:
        diff_outputs = tuple(out for out in outputs if out.requires_grad)
    else:
        pairs = tuple((out, go) for out, go in zip(outputs, grad_outputs) if out.requires_grad)
        diff_outputs, grad_outputs = (tuple(zip(*pairs)) if pairs else ((), ()))
    if len(diff_outputs) == 0:
        return None
    grads = cgrad.autograd.grad(diff_outputs, inputs, grad_outputs, retain_graph=retain_graph,
                                create_graph=create_graph, allow_unused=True,
                                is_grads_batched=is_grads_batched)
    return grads


def _zeros_for(grads, inputs, batch=None):
    if grads is None:
        grads = (None,) * len(inputs)
    out = []
    for g, inp in zip(grads, inputs):
        if g is None:
            shape = tuple(inp.shape) if batch is None else (batch,) + tuple(inp.shape)
            g = _C.zeros(shape, dtype=inp.dtype)
        out.append(g)
    return tuple(out)


# --- argnums ---------------------------------------------------------------

def _validate_and_wrap_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _slice_argnums(args, argnums, as_tuple=True):
    if not isinstance(argnums, int) and not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if isinstance(argnums, int):
        argnums = _validate_and_wrap_argnum(argnums, len(args))
    else:
        argnums = tuple(_validate_and_wrap_argnum(a, len(args)) for a in argnums)
        if len(argnums) == 0:
            raise RuntimeError("argnums must be non-empty")
        if len(set(argnums)) != len(argnums):
            raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    if isinstance(argnums, int):
        return argnums, ((args[argnums],) if as_tuple else args[argnums])
    return argnums, tuple(args[i] for i in argnums)


def _replace_args(old_args, new_args, argnums):
    if isinstance(argnums, int):
        return tuple(new_args[0] if i == argnums else old_args[i] for i in range(len(old_args)))
    return tuple(new_args[argnums.index(i)] if i in argnums else old_args[i] for i in range(len(old_args)))


def _prepare(args, argnums):
    """Replace the differentiated arguments by differentiable ones; returns
    the new args, the flat differentiable leaves and their spec."""
    argnums, diff_args = _slice_argnums(args, argnums, as_tuple=False)
    flat, spec = tree_flatten(diff_args)
    flat = [_create_differentiable(x) for x in flat]
    new_diff = tree_unflatten(flat, spec)
    new_args = _replace_args(args, (new_diff,) if isinstance(argnums, int) else new_diff, argnums)
    return new_args, flat, spec


def _under_vmap(func):
    """func; inside a vmap, the batching wrapper of a cgrad namespace
    function handed over before the vmap installed its wrappers
    (vmap(jacrev(cgrad.sin)))."""
    if active_levels():
        from cgrad.func._batched import batching_wrapper_of
        return batching_wrapper_of(func)
    return func


# --- grad ------------------------------------------------------------------

def grad_and_value(func, argnums=0, has_aux=False):
    """A function returning (gradient of func w.r.t. args[argnums], value)
    (with has_aux: (gradient, (value, aux)))."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        keep = _outer_needs_graph(args, kwargs)
        with _Level(), cgrad.enable_grad():
            new_args, flat_diff, spec = _prepare(args, argnums)
            output = _under_vmap(func)(*new_args, **kwargs)
            aux = None
            if has_aux:
                if not (isinstance(output, tuple) and len(output) == 2):
                    raise RuntimeError("grad_and_value(f)(*args): output of function f should be a tuple: "
                                       "(output, aux) if has_aux is True")
                output, aux = output
            if not isinstance(output, Tensor):
                raise RuntimeError(f"grad_and_value(f)(*args): Expected f(*args) to return a Tensor, "
                                   f"got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a scalar Tensor, "
                                   f"got tensor with {output.dim()} dims. Maybe you wanted to use the vjp "
                                   "or jacrev APIs instead?")
            grads = _zeros_for(_autograd_grad((output,), flat_diff, retain_graph=keep, create_graph=keep),
                               flat_diff)
            grad_input = _undo(tree_unflatten(list(grads), spec), keep)
            output = _undo(output, keep)
            if has_aux:
                return grad_input, (output, _undo_aux(aux, keep))
            return grad_input, output
    return wrapper


def grad(func, argnums=0, has_aux=False):
    """A function returning the gradient of func w.r.t. args[argnums]
    (with has_aux: (gradient, aux))."""
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        result = inner(*args, **kwargs)
        if has_aux:
            g, (_, aux) = result
            return g, aux
        return result[0]
    return wrapper


# --- vjp -------------------------------------------------------------------

def _check_outputs(flat_out, api):
    if (len(flat_out) == 1 and flat_out[0] is None) or len(flat_out) < 1:
        raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = {flat_out})")
    for o in flat_out:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type {type(o)}")


def _vjp_with_argnums(func, *primals, argnums=None, has_aux=False):
    keep_at_creation = _outer_needs_graph(primals)
    with _Level(), cgrad.enable_grad():
        if argnums is None:
            flat, spec = tree_flatten(primals)
            flat_diff = [_create_differentiable(x) for x in flat]
            primals = tree_unflatten(flat_diff, spec)
            diff_spec = spec
        else:
            primals, flat_diff, diff_spec = _prepare(primals, argnums)
        out = _under_vmap(func)(*primals)
        aux = None
        if has_aux:
            if not (isinstance(out, tuple) and len(out) == 2):
                raise RuntimeError("vjp(f, *primals): output of function f should be a tuple: (output, aux) "
                                   "if has_aux is True")
            out, aux = out
        flat_out, out_spec = tree_flatten(out)
        _check_outputs(flat_out, "vjp(f, *primals)")
        for o in flat_out:
            if not o.is_floating_point():
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex Tensors, "
                                   f"got Tensor with dtype {o.dtype}")

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = cgrad.is_grad_enabled()
        keep = create_graph and (keep_at_creation or _depth() > 0)
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {spec_str(cot_spec)}, primal output: "
                               f"{spec_str(out_spec)}")
        grads = _zeros_for(_autograd_grad(flat_out, flat_diff, flat_cot, retain_graph=retain_graph or keep,
                                          create_graph=keep), flat_diff)
        return tree_unflatten(list(_undo(grads, keep)), diff_spec)

    results = _undo(out, keep_at_creation)
    vjp_fn._flat_out = flat_out
    vjp_fn._flat_diff = flat_diff
    vjp_fn._diff_spec = diff_spec
    vjp_fn._out_spec = out_spec
    vjp_fn._keep = keep_at_creation
    if has_aux:
        return results, vjp_fn, _undo_aux(aux, keep_at_creation)
    return results, vjp_fn


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn[, aux]); vjp_fn(cotangents) returns the
    vector-Jacobian products, one per primal."""
    return _vjp_with_argnums(func, *primals, has_aux=has_aux)


# --- jacrev / hessian ------------------------------------------------------

def _chunk_bases(flat_out, numels, chunk_size):
    """Rows of the identity over all outputs (flattened and concatenated),
    chunk_size rows at a time, split per output."""
    total = sum(numels)
    size = total if not chunk_size or chunk_size >= total else chunk_size
    starts = []
    acc = 0
    for n in numels:
        starts.append(acc)
        acc += n
    for row0 in range(0, total, size):
        rows = min(size, total - row0)
        chunk = []
        for out, n, start in zip(flat_out, numels, starts):
            # rows [row0, row0+rows) of the identity restricted to this output's columns
            basis = _C.zeros((rows, n), dtype=out.dtype)
            lo, hi = max(start, row0), min(start + n, row0 + rows)
            if lo < hi:
                eye_block = _C.eye(hi - lo, dtype=out.dtype)
                basis[lo - row0:hi - row0, lo - start:hi - start] = eye_block
            chunk.append(basis.view((rows,) + tuple(out.shape)))
        yield rows, chunk


def _rows_from_chunks(flat_out, flat_diff, chunks, keep):
    """The Jacobian rows from the recorded graph, one batched pass per chunk
    of (cached) identity rows; a row that is a basis tensor itself (an
    output that is an input) is copied, so that the cache stays intact."""
    pieces = [[] for _ in flat_diff]
    for rows, basis in chunks:
        grads = _autograd_grad(flat_out, flat_diff, basis, retain_graph=True, create_graph=keep,
                               is_grads_batched=True)
        for k, g in enumerate(_zeros_for(grads, flat_diff, batch=rows)):
            if any(g.data_ptr() == b.data_ptr() for b in basis):
                g = g.clone()
            pieces[k].append(g)
    return [p[0] if len(p) == 1 else _C.cat(p, 0) for p in pieces]


def _rows_one_pass_each(flat_out, flat_diff, numels, chunk_size, keep):
    """The Jacobian rows from the recorded graph, one engine pass per row."""
    pieces = [[] for _ in flat_diff]
    for rows, basis in _chunk_bases(flat_out, numels, chunk_size):
        grads = _autograd_grad(flat_out, flat_diff, basis, retain_graph=True, create_graph=keep,
                               is_grads_batched=True)
        for k, g in enumerate(_zeros_for(grads, flat_diff, batch=rows)):
            pieces[k].append(g)
    return [p[0] if len(p) == 1 else _C.cat(p, 0) for p in pieces]


class _OutputMeta:
    """An output's shape and dtype: what the basis of its rows needs."""
    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape, self.dtype = tuple(shape), dtype

    def numel(self):
        n = 1
        for s in self.shape:
            n *= s
        return n


class _LayoutChanged(Exception):
    pass


def _identity_rows(metas, numels):
    return next(_chunk_bases(metas, numels, None))[1]


def _vectorized_rows(func, args, argnums, has_aux, metas, numels, chunk_size, out_spec, bases=None):
    """The Jacobian rows as one vmapped vjp over the rows of the identity:
    func runs once on a batch of copies of its inputs and one engine pass
    gives every row. None when func cannot run under vmap (data-dependent
    Python control flow, .item(), ...) or its outputs are not laid out as
    `metas` says; the caller then records func's graph and takes the rows
    from it, one pass per row."""
    total = sum(numels)
    if total == 0:
        return None
    if bases is None:
        bases = _identity_rows(metas, numels)

    def row(*basis):
        vjp_out = _vjp_with_argnums(func, *args, argnums=argnums, has_aux=has_aux)
        vjp_fn = vjp_out[1]
        if vjp_fn._out_spec != out_spec or any(
                tuple(o.shape) != m.shape or o.dtype != m.dtype for o, m in zip(vjp_fn._flat_out, metas)):
            raise _LayoutChanged()
        grads = vjp_fn(tree_unflatten(list(basis), out_spec))
        return tuple(tree_flatten(grads)[0])
    from cgrad.func._batched import quiet_fallback
    try:
        with quiet_fallback():
            return list(vmap(row, chunk_size=chunk_size)(*bases))
    except Exception:       # noqa: BLE001  (any failure: the per-row passes give the result or the error)
        return None


def _input_key(args, argnums):
    """What decides the layout of func's outputs, as far as can be told:
    the tensors' shapes and dtypes and the other (hashable) arguments."""
    leaves, spec = tree_flatten(args)
    key = [spec_str(spec), argnums]
    for x in leaves:
        if isinstance(x, Tensor):
            key.append((tuple(x.shape), x.dtype))
        else:
            try:
                hash(x)
                key.append(x)
            except TypeError:
                key.append(id(x))
    return tuple(key)


def _assemble(per_input, keep, numels, metas, args, argnums, out_spec):
    per_input = [_undo(r, keep) for r in per_input]
    diff_leaves, diff_spec = tree_flatten(_slice_argnums(args, argnums)[1])
    splits = [r.split(list(numels), 0) for r in per_input]
    flat_output_flat_input = tuple(zip(*[
        tuple(s.view(m.shape + tuple(p.shape)) for s, m in zip(split, metas))
        for split, p in zip(splits, diff_leaves)]))
    out_input = tuple(tree_unflatten(list(fi), diff_spec) for fi in flat_output_flat_input)
    if isinstance(argnums, int):
        out_input = tuple(fi[0] for fi in out_input)
    return tree_unflatten(list(out_input), out_spec)


_LAYOUT_CACHE_SIZE = 16


def _top_level():
    """No transform, vmap or dual level is running around this call."""
    return _depth() == 0 and not active_levels() and not _C._fw_is_active()


def _jacrev_recorded(func, args, argnums, has_aux, chunk_size, bases_cache):
    """jacrev outside any transform, as torch.func's: func runs once and its
    graph gives every row in one batched backward pass over the rows of
    the identity (autograd.grad(is_grads_batched=True); chunk_size rows a
    pass). The rows of the identity are kept per output layout."""
    vjp_out = _vjp_with_argnums(func, *args, argnums=argnums, has_aux=has_aux)
    if has_aux:
        output, vjp_fn, aux = vjp_out
    else:
        output, vjp_fn = vjp_out
    flat_out = vjp_fn._flat_out
    keep = vjp_fn._keep
    metas = [_OutputMeta(o.shape, o.dtype) for o in flat_out]
    numels = tuple(m.numel() for m in metas)
    if sum(numels) == 0:
        per_input = [_C.zeros((0,) + tuple(x.shape), dtype=x.dtype) for x in vjp_fn._flat_diff]
    else:
        key = tuple((m.shape, m.dtype) for m in metas)
        chunks = bases_cache.get(key)
        if chunks is None:
            if len(bases_cache) >= _LAYOUT_CACHE_SIZE:
                bases_cache.clear()
            chunks = bases_cache[key] = list(_chunk_bases(metas, numels, chunk_size))
        per_input = _rows_from_chunks(flat_out, vjp_fn._flat_diff, chunks, keep)
    result = _assemble(per_input, keep, numels, metas, args, argnums, vjp_fn._out_spec)
    if has_aux:
        return result, aux
    return result


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """A function returning the Jacobian of func w.r.t. args[argnums],
    computed in reverse mode: one vmapped vjp over the rows of the identity
    when func runs under vmap, else one engine pass per row (chunk_size
    rows at a time). The first call with given input shapes runs func once
    unbatched to learn its outputs' layout; later calls reuse it (checked
    against the batched run)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")
    layouts = {}
    bases_cache = {}

    @functools.wraps(func)
    def wrapper(*args):
        if _top_level():
            return _jacrev_recorded(func, args, argnums, has_aux, chunk_size, bases_cache)
        key = None if has_aux else _input_key(args, argnums)
        known = layouts.get(key) if key is not None else None
        if known is not None:
            out_spec, metas, bases = known
            numels = tuple(m.numel() for m in metas)
            per_input = _vectorized_rows(func, args, argnums, has_aux, metas, numels, chunk_size, out_spec,
                                         bases)
            if per_input is not None:
                keep = _outer_needs_graph(args) or _depth() > 0
                return _assemble(per_input, keep, numels, metas, args, argnums, out_spec)
        vjp_out = _vjp_with_argnums(func, *args, argnums=argnums, has_aux=has_aux)
        if has_aux:
            output, vjp_fn, aux = vjp_out
        else:
            output, vjp_fn = vjp_out
        flat_out = vjp_fn._flat_out
        flat_diff = vjp_fn._flat_diff
        keep = vjp_fn._keep or _depth() > 0
        metas = [_OutputMeta(o.shape, o.dtype) for o in flat_out]
        numels = tuple(m.numel() for m in metas)
        out_spec = vjp_fn._out_spec
        bases = _identity_rows(metas, numels) if sum(numels) else None
        per_input = _vectorized_rows(func, args, argnums, has_aux, metas, numels, chunk_size, out_spec,
                                     bases)
        if per_input is None:
            per_input = _rows_one_pass_each(flat_out, flat_diff, numels, chunk_size, keep)
        elif key is not None:
            if len(layouts) >= _LAYOUT_CACHE_SIZE:
                layouts.clear()
            layouts[key] = (out_spec, metas, bases)
        result = _assemble(per_input, keep, numels, metas, args, argnums, out_spec)
        if has_aux:
            return result, aux
        return result
    return wrapper


def hessian(func, argnums=0):
    """The Hessian of func w.r.t. args[argnums]: jacrev over jacrev (see the
    module's comment)."""
    return jacrev(jacrev(func, argnums), argnums)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dim in_dims of its inputs, as one batched call
    (cgrad/func/_vmap.py; loaded on first use, so importing cgrad does not
    load the batching rules)."""
    from cgrad.func._vmap import vmap as vmap_impl
    return vmap_impl(func, in_dims, out_dims, randomness, chunk_size=chunk_size)


# forward mode (cgrad/func/_forward.py)
from cgrad.func._forward import jacfwd, jvp  # noqa: E402

__all__ += ["jvp", "jacfwd"]

# linearize, functionalize, debug_unwrap, replace_all_batch_norm_modules_ (cgrad/func/_utilities.py)
from cgrad.func._utilities import (debug_unwrap, functionalize, linearize,  # noqa: E402
                                   replace_all_batch_norm_modules_)

__all__ += ["linearize", "functionalize", "debug_unwrap", "replace_all_batch_norm_modules_"]
