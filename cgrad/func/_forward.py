"""cgrad.func's forward-mode transforms: jvp, jacfwd, and hessian as
jacfwd(jacrev), PyTorch's composition.

jvp runs f once on dual tensors (cgrad.autograd.forward_ad), so its cost is
one forward pass carrying tangents. PyTorch's forward AD has one dual level;
torch.func nests jvp through functorch's wrapper levels, which cgrad does
not have, so a jvp inside another jvp raises forward_ad's "Nested forward
mode AD is not supported at the moment" rather than mixing the two levels'
tangents. jacfwd pushes one standard basis vector per input element through
jvp (a loop over basis vectors, the columns of the Jacobian, in place of
torch.func's vmap; each column is a full batched forward pass).
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


def _jvp_with_argnums(func, primals, tangents, argnums, *, strict=False, has_aux=False):
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
    from cgrad.func import _Level, _outer_needs_graph
    keep = _outer_needs_graph(primals, tangents)     # else results leave the transform detached
    with _Level(), fwAD.dual_level():
        flat_duals = tuple(fwAD.make_dual(p, t) for p, t in zip(flat_primals, flat_tangents))
        duals = tree_unflatten(list(flat_duals), primals_spec)
        if argnums is not None:
            new_args = _replace_args(primals, duals, argnums)
        else:
            new_args = duals
        result = func(*new_args)
        aux = None
        if has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise RuntimeError(f"{JVP_STR}: output of function f should be a tuple: (output, aux) if "
                                   "has_aux is True")
            result, aux = result
            aux = tree_map(lambda x: _plain(fwAD.unpack_dual(x).primal, keep) if isinstance(x, Tensor) else x,
                           aux)
        flat_out, out_spec = tree_flatten(result)
        if (len(flat_out) == 1 and flat_out[0] is None) or len(flat_out) < 1:
            raise RuntimeError(f"{JVP_STR}: Expected f to be a function that has non-empty output (got output "
                               f"= {flat_out})")
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{JVP_STR}: expected f(*primals) to return only tensors, got unsupported "
                                   f"type {type(o)}")
        pairs = [_safe_unpack_dual(o, strict) for o in flat_out]
    primals_out = tree_unflatten([_plain(p, keep) for p, _ in pairs], out_spec)
    tangents_out = tree_unflatten([_plain(t, keep) for _, t in pairs], out_spec)
    if has_aux:
        return primals_out, tangents_out, aux
    return primals_out, tangents_out


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), the Jacobian of func at primals times tangents),
    computed in one forward pass with dual tensors."""
    return _jvp_with_argnums(func, primals, tangents, None, strict=strict, has_aux=has_aux)


def _check_randomness(randomness):
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
                           f"{randomness}")


RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' "
                "or 'different' randomness flags on vmap or perform the randomness operation out of vmap")


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """A function returning the Jacobian of func w.r.t. args[argnums],
    computed in forward mode, one basis vector (Jacobian column) per jvp.

    randomness: 'same' replays the generator's state for every column (each
    sees the same random numbers), 'different' lets it advance, and 'error'
    raises torch.func's error when func draws random numbers."""
    @functools.wraps(func)
    def wrapper(*args):
        _check_randomness(randomness)
        from cgrad.func import _slice_argnums
        primals = args if argnums is None else _slice_argnums(args, argnums)[1]
        flat_primals, primals_spec = tree_flatten(primals)
        for p in flat_primals:
            if not isinstance(p, Tensor):
                raise RuntimeError(f"{JVP_STR}: Expected primals to only contain Tensors, got {type(p)}")
        numels = [p.numel() for p in flat_primals]
        total = sum(numels)
        columns, aux, output = [], None, None
        state = cgrad.get_rng_state() if randomness != "different" else None
        for k in range(total):
            basis, start = [], 0
            for p, n in zip(flat_primals, numels):
                b = _C.zeros((n,), dtype=p.dtype)
                if start <= k < start + n:
                    b[k - start] = 1
                basis.append(b.view(tuple(p.shape)))
                start += n
            if randomness == "same":
                cgrad.set_rng_state(state)
            out = _jvp_with_argnums(func, args, tree_unflatten(basis, primals_spec), argnums, has_aux=has_aux)
            if randomness == "error" and not _same_state(state, cgrad.get_rng_state()):
                raise RuntimeError(RANDOM_ERROR)
            if has_aux:
                output, tangent, aux_k = out
                aux = aux_k if aux is None else aux
            else:
                output, tangent = out
            columns.append(tree_flatten(tangent)[0])
        flat_out, out_spec = tree_flatten(output)
        jac_outs_ins = []
        for j, o in enumerate(flat_out):
            if total == 0:
                full = _C.zeros(tuple(o.shape) + (0,), dtype=o.dtype)
            else:
                full = _C.stack([col[j] for col in columns], -1)
            pieces = full.split(numels, -1)
            per_input = [piece.reshape(tuple(o.shape) + tuple(p.shape)) for piece, p in zip(pieces, flat_primals)]
            jac_outs_ins.append(tree_unflatten(per_input, primals_spec))
        if isinstance(argnums, int):
            jac_outs_ins = [ji[0] for ji in jac_outs_ins]
        result = tree_unflatten(jac_outs_ins, out_spec)
        if has_aux:
            return result, aux
        return result
    return wrapper


def _same_state(a, b):
    return a is None or bool((a == b).all())


def hessian(func, argnums=0):
    """The Hessian of func w.r.t. args[argnums]: jacfwd over jacrev, as
    PyTorch composes it (forward-over-reverse)."""
    from cgrad.func import jacrev
    return jacfwd(jacrev(func, argnums), argnums)

