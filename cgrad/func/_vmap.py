"""cgrad.func.vmap: PyTorch's torch.func.vmap (in_dims, out_dims,
randomness, chunk_size, nesting) with its argument checks and error texts.

Each call opens a vmap level, wraps every mapped argument as a
BatchedTensor of that level (its mapped dim moved to the front, a view),
runs the function once on the whole batch (the ops dispatch to batching
rules) and moves each output's batch dim to its out_dim. The namespace
wrappers are installed only for the duration of the call."""
import functools

import cgrad
from cgrad._C import Tensor
from cgrad.func import (_batch_rules, _batch_rules_composites, _batch_rules_index,  # noqa: F401
                        _batch_rules_layers, _batch_rules_linalg, _batch_rules_nn,
                        _batch_rules_order, _batch_rules_scatter)  # (importing registers the rules)
from cgrad.func._batched import (BatchedTensor, batching_wrapper_of, install_namespace_wrappers, materialize,
                                 new_level, pop_level, uninstall_namespace_wrappers)
from cgrad.func._pytree import LEAF, tree_flatten, tree_unflatten


def treespec_repr(spec, indent=0):
    """PyTorch's TreeSpec repr, for the structure errors."""
    if spec is LEAF:
        return "*"
    kind, context, children = spec
    if kind == "namedtuple":
        type_name, context_text = "namedtuple", repr(context)
    else:
        type_name = kind.__name__
        context_text = repr(context) if kind is dict else "None"
    text = ""
    if children:
        indent += 2
        text += treespec_repr(children[0], indent)
        text += "," if len(children) > 1 else ""
        text += ",".join("\n" + " " * indent + treespec_repr(c, indent) for c in children[1:])
    return f"TreeSpec({type_name}, {context_text}, [{text}])"


def _num_leaves(spec):
    count, stack = 0, [spec]
    while stack:
        node = stack.pop()
        if node is LEAF:
            count += 1
        else:
            stack.extend(node[2])
    return count


def broadcast_to_and_flatten(prefix, spec):
    """prefix's leaves repeated over the leaves of spec's matching subtrees
    (PyTorch's _broadcast_to_and_flatten); None when prefix is no prefix."""
    result = []
    stack = [(prefix, spec)]
    while stack:
        node, sub = stack.pop()
        node_leaves, node_spec = tree_flatten(node)
        if node_spec is LEAF:
            result.extend([node] * _num_leaves(sub))
            continue
        if sub is LEAF:
            return None
        kind, context, children = node_spec
        sub_kind, sub_context, sub_children = sub
        if kind != sub_kind or len(children) != len(sub_children):
            return None
        if kind is dict:
            if set(context) != set(sub_context):
                return None
            items = [(node[k], sub_children[sub_context.index(k)]) for k in sub_context]
        else:
            if kind == "namedtuple" and context is not sub_context:
                return None
            items = list(zip(node, sub_children))
        stack.extend(reversed(items))
    return result


def _get_name(func):
    if hasattr(func, "__name__"):
        return func.__name__
    if isinstance(func, functools.partial):
        return f"functools.partial({_get_name(func.func)}, ...)"
    return repr(func)


def _check_randomness_arg(randomness):
    if randomness not in ["error", "different", "same"]:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. "
                           f"Got {randomness}")


def _check_out_dims(out_dims, func):
    if isinstance(out_dims, int):
        return
    for x in tree_flatten(out_dims)[0]:
        if not (isinstance(x, int) or x is None):
            raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims}): `out_dims` must be an int, "
                             f"None or a python collection of ints representing where in the outputs the "
                             f"vmapped dimension should appear.")


def _batch_size(flat_in_dims, flat_args):
    sizes = [arg.size(d) for d, arg in zip(flat_in_dims, flat_args) if d is not None]
    if len(sizes) == 0:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got "
                         f"sizes {sizes} for the mapped dimension")
    return sizes[0]


def _process_inputs(in_dims, args, func):
    name = _get_name(func)
    if not isinstance(in_dims, int) and not isinstance(in_dims, tuple):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if len(args) == 0:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
                         f"trying to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, args_spec = tree_flatten(args)
    flat_in_dims = broadcast_to_and_flatten(in_dims, args_spec)
    if flat_in_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {treespec_repr(tree_flatten(in_dims)[1])}"
                         f" but inputs has structure {treespec_repr(args_spec)}.")
    for i, (arg, in_dim) in enumerate(zip(flat_args, flat_in_dims)):
        if not isinstance(in_dim, int) and in_dim is not None:
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input "
                             f"but in_dim must be either an integer dimension or None.")
        if isinstance(in_dim, int) and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for an input "
                             f"but the input is of type {type(arg)}. We cannot vmap over non-Tensor arguments, "
                             f"please use None as the respective in_dim")
        if in_dim is not None and (in_dim < -arg.dim() or in_dim >= arg.dim()):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={in_dim} for some "
                             f"input, but that input is a Tensor of dimensionality {arg.dim()} so expected "
                             f"in_dim to satisfy -{arg.dim()} <= in_dim < {arg.dim()}.")
        if in_dim is not None and in_dim < 0:
            flat_in_dims[i] = in_dim % arg.dim()
    return _batch_size(flat_in_dims, flat_args), flat_in_dims, flat_args, args_spec


def _unwrap_output(name, output, entry, out_dim):
    if out_dim is None:
        if type(output) is BatchedTensor and output._level == entry.level:
            raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
        return output
    if not isinstance(output, Tensor):
        raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(output)}. "
                         "Did you mean to set out_dims= to None for output?")
    value = materialize(output, entry.level, entry.size)
    return value if out_dim == 0 else value.movedim(0, out_dim)


def _flat_out_dims(outputs, out_dims, func):
    flat_outputs, output_spec = tree_flatten(outputs)

    def incompatible():
        raise ValueError(f"vmap({_get_name(func)}, ..., out_dims={out_dims})(<inputs>): out_dims is not "
                         f"compatible with the structure of `outputs`. out_dims has structure "
                         f"{treespec_repr(tree_flatten(out_dims)[1])} but outputs has structure "
                         f"{treespec_repr(output_spec)}.")
    if isinstance(outputs, Tensor):
        if isinstance(out_dims, int) or out_dims is None:
            return flat_outputs, output_spec, [out_dims]
        if isinstance(out_dims, tuple) and len(out_dims) == 1:
            return flat_outputs, output_spec, list(out_dims)
        incompatible()
    flat = broadcast_to_and_flatten(out_dims, output_spec)
    if flat is None:
        incompatible()
    return flat_outputs, output_spec, flat


def _flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs):
    install_namespace_wrappers()
    entry = new_level(batch_size, randomness)
    try:
        batched = [arg if d is None else BatchedTensor(arg if d == 0 else arg.movedim(d, 0), entry.level)
                   for d, arg in zip(flat_in_dims, flat_args)]
        outputs = batching_wrapper_of(func)(*tree_unflatten(batched, args_spec), **kwargs)
        flat_outputs, output_spec, flat_out_dims = _flat_out_dims(outputs, out_dims, func)
        name = _get_name(func)
        results = [_unwrap_output(name, o, entry, d) for o, d in zip(flat_outputs, flat_out_dims)]
        return tree_unflatten(results, output_spec)
    finally:
        pop_level(entry)
        uninstall_namespace_wrappers()


def _chunked_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, chunk_size,
                  kwargs):
    state = cgrad.get_rng_state() if randomness == "same" else None
    chunks = []
    for start in range(0, batch_size, chunk_size):
        length = min(chunk_size, batch_size - start)
        chunk_args = [arg if d is None else arg.narrow(d, start, length) for d, arg in zip(flat_in_dims, flat_args)]
        if state is not None:
            cgrad.set_rng_state(state)
        chunks.append(_flat_vmap(func, length, flat_in_dims, chunk_args, args_spec, out_dims, randomness, kwargs))
    flat_chunks = [tree_flatten(c)[0] for c in chunks]
    _, spec = tree_flatten(chunks[0])
    flat_out_dims = broadcast_to_and_flatten(out_dims, spec)
    results = []
    for k, d in enumerate(flat_out_dims):
        pieces = [c[k] for c in flat_chunks]
        results.append(pieces[0] if d is None or len(pieces) == 1 else cgrad.cat(pieces, d))
    return tree_unflatten(results, spec)


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """func mapped over dim in_dims of its inputs, as one batched call."""
    _check_randomness_arg(randomness)
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        _check_out_dims(out_dims, func)
        batch_size, flat_in_dims, flat_args, args_spec = _process_inputs(in_dims, args, func)
        if chunk_size is not None:
            return _chunked_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness,
                                 chunk_size, kwargs)
        return _flat_vmap(func, batch_size, flat_in_dims, flat_args, args_spec, out_dims, randomness, kwargs)
    return wrapped
