"""cgrad.func's forward-mode transforms: jvp, jacfwd, and hessian as
jacfwd(jacrev), PyTorch's composition.

jvp runs f once on dual tensors (cgrad.autograd.forward_ad), so its cost is
one forward pass carrying tangents. Inside vmap, the duals are made on the
physical tensors (every batch dim in front, an unbatched primal expanded and
copied so that each sample owns its tangent) and wrapped again: the batching
rules then run cgrad's ops on physical duals, whose tangents are the
per-sample tangents side by side. jacfwd is that: vmap over jvp of the
standard basis, one batched forward pass for every Jacobian column, as
torch.func does. cgrad's forward AD has one dual level (PyTorch's
forward_ad has one too; torch.func nests jvp through functorch's wrapper
levels): a jvp inside a running jvp takes its Jacobian-vector product from
reverse mode under the outer level (_nested_jvp), and a jacfwd inside one
is the same Jacobian from jacrev (one vmapped backward under the outer
tangents), so jvp of jvp and jacfwd of jacfwd give torch.func's values.
"""
import functools

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad.autograd import forward_ad as fwAD
from cgrad.func._pytree import LEAF, tree_flatten, tree_map, tree_unflatten

JVP_STR = "jvp(f, primals, tangents)"


def treespec_repr(spec, indent=0):
    """A spec as torch.utils._pytree.TreeSpec prints itself (its error texts
    show it)."""
    if spec is LEAF:
        return "*"
    kind, context, children = spec
    name = "namedtuple" if kind == "namedtuple" else kind.__name__
    context = list(context) if kind is dict else (context if kind == "namedtuple" else None)
    text = ""
    if children:
        indent += 2
        text = treespec_repr(children[0], indent) + ("," if len(children) > 1 else "")
        text += ",".join("\n" + " " * indent + treespec_repr(c, indent) for c in children[1:])
    return f"TreeSpec({name}, {context}, [{text}])"


def _non_empty_tensors(flat, argname):
    if len(flat) == 0:
        raise RuntimeError(f"{JVP_STR}: Expected {argname} to contain at least one Tensor.")
    for x in flat:
        if not isinstance(x, Tensor):
            raise RuntimeError(f"{JVP_STR}: Expected {argname} to only contain Tensors, got {type(x)}")


def _safe_unpack_dual(dual, strict):
    if not isinstance(dual, Tensor):
        raise RuntimeError(f"{JVP_STR}: expected f(*args) to return only tensors, got unsupported type "
                           f"{type(dual)}")
    primal, tangent = fwAD.unpack_dual(dual)
    if tangent is None:
        if strict:
            raise RuntimeError("jvp(f, primals, tangents, strict=True): The output of f is independent of the "
                               "inputs. This is not allowed with strict=True.")
        tangent = _C.zeros_like(primal)
    return primal, tangent


def _plain(x, keep):
    """A result leaving the transform: detached unless something outside
    differentiates it (an enclosing transform, or inputs with a graph)."""
    return x if keep or not isinstance(x, Tensor) else x.detach()


def _jvp_with_argnums(func, primals, tangents, argnums, *, strict=False, has_aux=False, keep_graph=False):
    from cgrad.func import _replace_args, _slice_argnums
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{JVP_STR}: Expected primals to be a tuple. E.g. it should be valid to call "
                           "f(*primals).")
    diff_args = primals if argnums is None else _slice_argnums(primals, argnums)[1]
    flat_primals, primals_spec = tree_flatten(diff_args)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(f"{JVP_STR}: Expected primals and tangents to have the same python structure. For "
                           "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
                           f"with structure {treespec_repr(primals_spec)} and tangents with structure "
                           f"{treespec_repr(tangents_spec)}")
    _non_empty_tensors(flat_primals, "primals")
    _non_empty_tensors(flat_tangents, "tangents")
    if _C._fw_is_active():
        return _nested_jvp(func, primals, diff_args, tangents, argnums, has_aux)
    from cgrad.func import _Level, _outer_needs_graph, _under_vmap
    # else results leave the transform detached (keep_graph: never, as
    # autograd.functional's forward-mode jacobian leaves them)
    keep = keep_graph or _outer_needs_graph(primals, tangents)
    from cgrad.func._levels import active_levels
    batched = bool(active_levels()) and _has_batched(flat_primals, flat_tangents)
    with _Level(), fwAD.dual_level():
        if batched:
            flat_duals = tuple(_physical_dual(p, t) for p, t in zip(flat_primals, flat_tangents))
        else:
            flat_duals = tuple(fwAD.make_dual(p, t) for p, t in zip(flat_primals, flat_tangents))
        duals = tree_unflatten(list(flat_duals), primals_spec)
        if argnums is not None:
            new_args = _replace_args(primals, duals, argnums)
        else:
            new_args = duals
        result = _under_vmap(func)(*new_args)
        aux = None
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{JVP_STR}: output of function f should be a tuple: (output, aux) if "
                                   "has_aux is True")
            result, aux = result
            unpack = _unpack_physical if batched else _safe_unpack_dual
            aux = tree_map(lambda x: _plain(unpack(x, False)[0], keep) if isinstance(x, Tensor) else x, aux)
        flat_out, out_spec = tree_flatten(result)
        if (len(flat_out) == 1 and flat_out[0] is None) or len(flat_out) < 1:
            raise RuntimeError(f"{JVP_STR}: Expected f to be a function that has non-empty output (got output "
                               f"= {flat_out})")
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{JVP_STR}: expected f(*primals) to return only tensors, got unsupported "
                                   f"type {type(o)}")
        pairs = [(_unpack_physical if batched else _safe_unpack_dual)(o, strict) for o in flat_out]
    primals_out = tree_unflatten([_plain(p, keep) for p, _ in pairs], out_spec)
    tangents_out = tree_unflatten([_plain(t, keep) for _, t in pairs], out_spec)
    if has_aux:
        return primals_out, tangents_out, aux
    return primals_out, tangents_out


def _has_batched(*groups):
    from cgrad.func._batched import BatchedTensor
    return any(type(x) is BatchedTensor for group in groups for x in group)


def _physical_dual(primal, tangent):
    """The dual of a primal and tangent one of which is batched (vmap over
    jvp): made on the physical tensors, each batched at every running level,
    then wrapped again. The primal is copied when it was expanded, so that
    the dual's tangent keeps one value per sample."""
    from cgrad.func._batched_autograd import full_physical, rewrap
    from cgrad.func._batched import BatchedTensor
    plain = full_physical(primal)
    if type(primal) is not BatchedTensor or 0 in plain.stride():
        plain = plain.contiguous()
    return rewrap(fwAD.make_dual(plain, full_physical(tangent)))


def _unpack_physical(dual, strict):
    """(primal, tangent) of an output of f inside vmap, each wrapped again
    at every running level."""
    from cgrad.func._batched import BatchedTensor
    from cgrad.func._batched_autograd import full_physical, rewrap
    if type(dual) is not BatchedTensor:
        return _safe_unpack_dual(dual, strict)
    primal, tangent = _safe_unpack_dual(full_physical(dual), strict)
    return rewrap(primal), rewrap(tangent)


def _nested_jvp(func, primals, diff_args, tangents, argnums, has_aux):
    """jvp inside a running jvp (jvp of jvp, jacfwd of jacfwd): the dual
    level is taken, so the inner Jacobian-vector product comes from reverse
    mode, J t = d/du <J^T u, t> (a vjp of the vjp, exact because J^T u is
    linear in u). Its reverse passes run under the outer level, so the outer
    tangents flow through them: every level's tangent is exact."""
    from cgrad.func import _replace_args, vjp

    def diff_func(*diff):
        return func(*(diff if argnums is None else _replace_args(primals, diff, argnums)))
    if has_aux:
        output, vjp_fn, aux = vjp(diff_func, *diff_args, has_aux=True)
    else:
        output, vjp_fn = vjp(diff_func, *diff_args)
    zeros = tree_map(cgrad.zeros_like, output)
    _, transpose_fn = vjp(vjp_fn, zeros)
    (tangents_out,) = transpose_fn(tangents)
    if has_aux:
        return output, tangents_out, aux
    return output, tangents_out


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals times tangents),
    computed in one forward pass with dual tensors."""
    return _jvp_with_argnums(func, primals, tangents, None, strict=strict, has_aux=has_aux)


def _check_randomness(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of func w.r.t. args[argnums],
    computed in forward mode: vmap over jvp of the standard basis, so every
    column comes from one batched forward pass (torch.func's jacfwd).

    randomness is vmap's: 'same' gives every column the same random numbers,
    'different' its own, and 'error' raises vmap's error when func draws
    random numbers."""
    @functools.wraps(func)
    def wrapper(*args):
        _check_randomness(randomness)
        if _C._fw_is_active() and randomness == "error":
            # inside a running jvp (jacfwd of jacfwd, hessian's outer level): the dual level is
            # taken, and the same Jacobian in reverse mode runs under the outer level's tangents
            # (forward-over-reverse) in one vmapped backward pass, where column-wise nested jvps
            # would each pay a vjp of a vjp
            from cgrad.func import jacrev
            return jacrev(func, argnums, has_aux=has_aux)(*args)
        from cgrad.func import _slice_argnums, vmap
        primals = args if argnums is None else _slice_argnums(args, argnums)[1]
        flat_primals, primals_spec = tree_flatten(primals)
        for p in flat_primals:
            if not isinstance(p, Tensor):
                raise RuntimeError(f"{JVP_STR}: Expected primals to only contain Tensors, got {type(p)}")
        numels = [p.numel() for p in flat_primals]
        total = sum(numels)
        basis = _standard_basis(flat_primals, numels, total)

        def push_jvp(*basis_rows):
            return _jvp_with_argnums(func, args, tree_unflatten(list(basis_rows), primals_spec), argnums,
                                     has_aux=has_aux)
        results = vmap(push_jvp, randomness=randomness)(*basis)
        if has_aux:
            _, tangents, aux = results
            aux = tree_map(lambda x: x[0] if isinstance(x, Tensor) else x, aux)
        else:
            _, tangents = results
        flat_tangents, out_spec = tree_flatten(tangents)
        jac_outs_ins = []
        for full in flat_tangents:
            full = full.movedim(0, -1)
            out_shape = tuple(full.shape[:-1])
            pieces = full.split(numels, -1)
            per_input = [piece.reshape(out_shape + tuple(p.shape)) for piece, p in zip(pieces, flat_primals)]
            jac_outs_ins.append(tree_unflatten(per_input, primals_spec))
        if isinstance(argnums, int):
            jac_outs_ins = [ji[0] for ji in jac_outs_ins]
        result = tree_unflatten(jac_outs_ins, out_spec)
        if has_aux:
            return result, aux
        return result
    return wrapper


def _standard_basis(flat_primals, numels, total):
    """For each input, its rows of the (total x total) identity, shaped
    (total, *input.shape)."""
    basis, start = [], 0
    for p, n in zip(flat_primals, numels):
        rows = _C.zeros((total, n), dtype=p.dtype)
        if n:
            rows[start:start + n] = _C.eye(n, dtype=p.dtype)
        basis.append(rows.view((total,) + tuple(p.shape)))
        start += n
    return basis


def hessian(func, argnums=0):
    """The Hessian of func w.r.t. args[argnums]: jacfwd over jacrev, as
    PyTorch composes it (forward-over-reverse)."""
    from cgrad.func import jacrev
    return jacfwd(jacrev(func, argnums), argnums)

