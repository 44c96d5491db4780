"""Reverse mode inside vmap: grad, vjp and jacrev of batched tensors.

The batching rules keep samples apart, so the physical graph of a vmapped
function is the union of independent per-sample graphs: one engine pass
over the physical tensors, seeded with the (physical) cotangents, yields
every sample's gradient at once, in batched kernels. For that, each
differentiated input must be batched at every running vmap level (an input
shared by all samples, such as a model's weights, is expanded along the
missing batch dims, a stride-0 view, so that each sample gets its own
gradient rather than the sum over samples), and outputs and cotangents are
brought to the same physical layout."""
import cgrad
from cgrad.func._batched import BatchedTensor, active_levels


def has_batched(*groups):
    for group in groups:
        if group is None:
            continue
        for x in group:
            if type(x) is BatchedTensor:
                return True
    return False


def full_physical(x):
    """x's physical tensor with a batch dim for every running vmap level,
    outermost level first (expanded where x is not batched at a level)."""
    levels = active_levels()
    present = []
    plain = x
    while type(plain) is BatchedTensor:
        present.append(plain._level)
        plain = plain._value
    present.reverse()
    if len(present) == len(levels):
        return plain
    for i, entry in enumerate(levels):
        if entry.level not in present:
            plain = plain.unsqueeze(i)
            shape = list(plain.shape)
            shape[i] = entry.size
            plain = plain.expand(shape)
    return plain


def rewrap(plain):
    """The BatchedTensor chain over every running level of a full physical
    tensor (inverse of full_physical)."""
    value = plain
    for entry in active_levels():
        value = BatchedTensor(value, entry.level)
    return value


def create_differentiable(x):
    """A differentiable input batched at every running level."""
    plain = full_physical(x)
    if plain.requires_grad:
        plain = plain.view_as(plain)
    else:
        tangent = cgrad._C._fw_tangent(plain)
        plain = plain.detach().requires_grad_()
        if tangent is not None:     # inside jvp: the leaf keeps its tangent (forward-over-reverse)
            plain = cgrad.autograd.forward_ad.make_dual(plain, tangent)
    return rewrap(plain)


def _is_full(x):
    levels = [entry.level for entry in active_levels()]
    present = []
    while type(x) is BatchedTensor:
        present.append(x._level)
        x = x._value
    return present[::-1] == levels


def _per_sample(outputs, inputs, grad_outputs, retain_graph, create_graph):
    """An input shared by the samples of a graph recorded outside the
    innermost vmap (vmap(vjp_fn) over cotangents): one engine pass per
    sample of that level, as autograd.grad(is_grads_batched=True) does."""
    from cgrad.func import _autograd_grad
    from cgrad.func._batched import _select_sample, _stack_results
    entry = active_levels()[-1]
    level = entry.level
    rows = []
    for i in range(entry.size):
        row_outputs = [_select_sample(o, level, i) for o in outputs]
        row_grads = None if grad_outputs is None else [_select_sample(g, level, i) for g in grad_outputs]
        keep = retain_graph or create_graph or i < entry.size - 1
        grads = _autograd_grad(row_outputs, inputs, row_grads, retain_graph=keep, create_graph=create_graph)
        rows.append([cgrad.zeros_like(x) if g is None else g for g, x in zip(grads or [None] * len(inputs),
                                                                            inputs)])
    return tuple(_stack_results([r[k] for r in rows], level) for k in range(len(inputs)))


def batched_autograd_grad(outputs, inputs, grad_outputs, retain_graph, create_graph):
    """cgrad.autograd.grad over the physical tensors; None where an input is
    not reached (the caller puts zeros there)."""
    if not all(_is_full(i) for i in inputs):
        return _per_sample(outputs, inputs, grad_outputs, retain_graph, create_graph)
    out_plain = [full_physical(o) for o in outputs]
    if grad_outputs is None:
        pairs = [(o, cgrad.ones_like(o)) for o in out_plain if o.requires_grad]
    else:
        pairs = [(o, full_physical(g)) for o, g in zip(out_plain, grad_outputs) if o.requires_grad]
    if not pairs:
        return None
    in_plain = [full_physical(i) for i in inputs]
    grads = cgrad.autograd.grad([p[0] for p in pairs], in_plain, [p[1] for p in pairs],
                                retain_graph=retain_graph, create_graph=create_graph, allow_unused=True)
    return tuple(None if g is None else rewrap(g) for g in grads)
