"""torch.func.functional_call and stack_module_state: run a module with some
of its parameters and buffers swapped for given tensors (restored after),
following PyTorch's nn.utils.stateless with its tied-weights and strict
checks."""
from collections.abc import Sequence

from cgrad import _C
from cgrad._C import Tensor

_MISSING = object()


def _owner(module, name):
    """(submodule, attribute) for a dotted name."""
    *path, attr = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, attr


def _swap_tensor(module, name, tensor):
    """Put `tensor` (or _MISSING: delete) where `name` is; return the old one."""
    owner, attr = _owner(module, name)
    if attr in owner._parameters:
        orig = owner._parameters[attr]
    elif attr in owner._buffers:
        orig = owner._buffers[attr]
    elif hasattr(owner, attr):
        orig = getattr(owner, attr)
    else:
        orig = _MISSING
    if orig is not _MISSING and orig is not None and not isinstance(orig, Tensor):
        raise TypeError(f"attribute `{attr}`: {orig} is not an instance of torch.Tensor")
    if tensor is _MISSING:
        if attr in owner._parameters:
            del owner._parameters[attr]
        elif attr in owner._buffers:
            del owner._buffers[attr]
        elif hasattr(owner, attr):
            delattr(owner, attr)
    elif attr in owner._parameters:
        owner._parameters[attr] = tensor
    elif attr in owner._buffers:
        owner._buffers[attr] = tensor
    else:
        setattr(owner, attr, tensor)
    return orig


def _untie(module, parameters_and_buffers):
    """Give every name tied to a given name the same tensor (PyTorch's
    _untie_named_tensors_map)."""
    named = {}
    named.update(module.named_parameters(remove_duplicate=False))
    named.update(module.named_buffers(remove_duplicate=False))
    by_tensor = {}
    for name, t in named.items():
        by_tensor.setdefault(id(t), set()).add(name)
    tied = {}
    for names in by_tensor.values():
        if len(names) > 1:
            for n in names:
                tied[n] = names
    given = set(parameters_and_buffers)
    given_tied = {n for n in given if n in tied}
    for n in given_tied:
        names = tied[n]
        if len(names & given_tied) > 1 and len({id(parameters_and_buffers[t]) for t in names if t in given}) != 1:
            raise ValueError(f"functional_call got multiple values for keys {sorted(names)}, which are tied. "
                             "Consider using tie_weights=False")
    untied = dict(parameters_and_buffers)
    for n in given_tied:
        for t in tied[n]:
            untied[t] = parameters_and_buffers[n]
    return untied


def _check_keys(module, keys):
    valid = set(dict(module.named_parameters(remove_duplicate=False)))
    valid |= set(dict(module.named_buffers(remove_duplicate=False)))
    keys = set(keys)
    return sorted(valid - keys), sorted(keys - valid)


def _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights, strict):
    if kwargs is None:
        kwargs = {}
    if args is None:
        args = ()
    elif not isinstance(args, tuple):
        args = (args,)
    values = _untie(module, parameters_and_buffers) if tie_weights else parameters_and_buffers
    if strict:
        missing, unexpected = _check_keys(module, values)
        msgs = []
        if unexpected:
            msgs.append(f"Unexpected key(s): {', '.join(map(repr, unexpected))}.")
        if missing:
            msgs.append(f"Missing key(s): {', '.join(map(repr, missing))}.")
        if msgs:
            raise RuntimeError("Error(s) in reparametrizing for {}:\n\t{}".format(
                module._get_name(), "\n\t".join(msgs)))
    for name, t in values.items():
        if not isinstance(t, Tensor) and t is not None:
            raise TypeError(f"{t} is not an instance of torch.Tensor")
    originals = {}
    try:
        for name, t in values.items():
            originals[name] = _swap_tensor(module, name, t)
        return module(*args, **kwargs)
    finally:
        for name, orig in reversed(list(originals.items())):
            _swap_tensor(module, name, orig)


def functional_call(module, parameter_and_buffer_dicts, args=None, kwargs=None, *, tie_weights=True,
                    strict=False):
    """module(*args, **kwargs) with its parameters and buffers replaced by
    the given tensors for the call."""
    if isinstance(parameter_and_buffer_dicts, dict):
        values = parameter_and_buffer_dicts
    elif isinstance(parameter_and_buffer_dicts, Sequence):
        if not all(isinstance(d, dict) for d in parameter_and_buffer_dicts):
            raise ValueError("Expected all elements of parameter_and_buffer_dicts to be dictionaries")
        counts = {}
        for d in parameter_and_buffer_dicts:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
        repeated = [k for k, n in counts.items() if n > 1]
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is "
                             "ambiguous")
        values = {k: v for d in parameter_and_buffer_dicts for k, v in d.items()}
    else:
        raise ValueError("Expected parameter_and_buffer_dicts to be a dict, or a list/tuple of dicts, but got "
                         f"{type(parameter_and_buffer_dicts)}")
    return _functional_call(module, values, args, kwargs, tie_weights, strict)


def stack_module_state(models):
    """(params, buffers): each model's parameters and buffers stacked on a
    new first dimension (parameters as new leaves)."""
    if len(models) == 0:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if not (all(m.training for m in models) or all(not m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")
    first_type = type(models[0])
    if not all(type(m) is first_type for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")

    def stacked_leaf(tensors, name):
        all_rg = all(t.requires_grad for t in tensors)
        none_rg = all(not t.requires_grad for t in tensors)
        if not all_rg and not none_rg:
            raise RuntimeError(f"Expected {name} from each model to have the same .requires_grad")
        result = _C.stack(list(tensors))
        if all_rg:
            result = result.detach().requires_grad_()
        return result

    all_params = [dict(m.named_parameters()) for m in models]
    params = {k: stacked_leaf(tuple(p[k] for p in all_params), k) for k in all_params[0]}
    all_buffers = [dict(m.named_buffers()) for m in models]
    buffers = {k: stacked_leaf(tuple(b[k] for b in all_buffers), k) for k in all_buffers[0]}
    return params, buffers
