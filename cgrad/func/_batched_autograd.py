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
        plain = plain.detach().requires_grad_()
    return rewrap(plain)


def batched_autograd_grad(outputs, inputs, grad_outputs, retain_graph, create_graph):
    """cgrad.autograd.grad over the physical tensors; None where an input is
    not reached (the caller puts zeros there)."""
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
