"""autograd.grad(..., is_grads_batched=True): the first dimension of every
grad_output is a batch of vectors, and each input gets the batch of
vector-Jacobian products stacked on a new first dimension.

PyTorch vmaps one backward over the batch. cgrad's backward formulas are
not written for an extra leading batch dimension (most do not broadcast over
one), so this runs the engine once per batch row, keeping the graph until
the last row; checks and errors are PyTorch's (its _make_grads shape check
and the vmap errors it raises)."""
from cgrad import _C
from cgrad._C import Tensor

IMPLICIT_MSG = "grad can be implicitly created only for scalar outputs"


def _check_batched(outputs, grads):
    """PyTorch's _make_grads with is_grads_batched, then vmap's checks on
    the batch dimension; returns the batch size."""
    grads = list(grads)
    for k, (out, g) in enumerate(zip(outputs, grads)):
        if isinstance(g, Tensor):
            first = g[0]
            if tuple(first.shape) != tuple(out.shape):
                raise RuntimeError(
                    "If `is_grads_batched=True`, we interpret the first dimension of each grad_output as "
                    "the batch dimension. The sizes of the remaining dimensions are expected to match the "
                    "shape of corresponding output, but a mismatch was detected: grad_output["
                    f"{k}] has a shape of {_C.Size(first.shape[1:])} and output[{k}] has a shape of "
                    f"{out.shape}. If you only want some tensors in `grad_output` to be considered "
                    "batched, consider using vmap.")
        elif g is None and out.requires_grad:
            if out.numel() != 1:
                raise RuntimeError(IMPLICIT_MSG)
            # PyTorch makes ones_like(out) and then vmaps over its dim 0
            grads[k] = _C.ones_like(out)
    sizes = []
    for g in grads:
        if g is None:
            continue
        if g.dim() == 0:
            raise ValueError(
                "vmap(vjp, in_dims=0, ...)(<inputs>): Got in_dim=0 for some input, but that input is a "
                "Tensor of dimensionality 0 so expected in_dim to satisfy 0 <= in_dim < 0.")
        sizes.append(g.shape[0])
    if len(set(sizes)) > 1:
        raise ValueError("vmap: Expected all tensors to have the same size in the mapped dimension, "
                         f"got sizes {sizes} for the mapped dimension")
    return grads, (sizes[0] if sizes else None)


def batched_grad(outputs, inputs, grads, retain_graph, create_graph, allow_unused):
    """One vector-Jacobian product per row of the batched grad_outputs, each
    input's stacked on dim 0 (None for an input no row reaches)."""
    if len(grads) != len(outputs):
        # the engine reports the count mismatch with PyTorch's text
        return _C._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, False)
    grads, batch = _check_batched(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    if batch is None:
        # nothing batched (every grad_output None, for outputs without grad):
        # vmap passes Nones through
        return _C._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, False)
    per_input = [[] for _ in inputs]
    for row in range(batch):
        row_grads = [None if g is None else g[row] for g in grads]
        keep = retain_graph or row < batch - 1
        result = _C._run_backward(outputs, row_grads, keep, create_graph, inputs, allow_unused, False)
        for k, r in enumerate(result):
            per_input[k].append(r)
    stacked = []
    for k, rows in enumerate(per_input):
        if all(r is None for r in rows):
            stacked.append(None)
            continue
        rows = [_C.zeros_like(inputs[k]) if r is None else r for r in rows]
        stacked.append(_C.stack(rows, 0))
    return tuple(stacked)
