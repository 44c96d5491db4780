"""autograd.grad(..., is_grads_batched=True): the first dimension of every
grad_output is a batch of vectors, and each input gets the batch of
vector-Jacobian products stacked on a new first dimension.

PyTorch runs one backward under (legacy) vmap, so every formula sees the
whole batch. cgrad does the same in one pass over the recorded graph: the
cotangents stay physical tensors with the batch dim in front, and each node
applies its batched formula (src/cgrad/batched_backward.pxi), or, for an
element-wise node, its own backward's diagonal (one call on ones) times the
batched cotangent. A node with neither runs its backward once per sample
(PyTorch's legacy fallback), warning as PyTorch's does when
cgrad._C._debug_only_display_vmap_fallback_warnings(True) turned the
warning on (it is off by default there too). Nodes are taken newest first,
as the engine takes them (a node's inputs are always older), so every
gradient of a node is summed before it runs; only nodes on a path to an
input run. A graph with hooks on its nodes runs the engine once per row,
so that hooks see one sample at a time as before. Checks and errors are
PyTorch's (its _make_grads shape check, the vmap errors, the engine's)."""
import heapq
import warnings

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad.func._levels import active_levels

IMPLICIT_MSG = "grad can be implicitly created only for scalar outputs"

FALLBACK_WARNING = (
    "There is a performance drop because we have not yet implemented the batching rule for aten::{}. You are "
    "using the legacy vmap prototype (torch._vmap_internals.vmap). If you are using "
    "torch.autograd.functional.{{jacobian, hessian}} or torch._vmap_internals.vmap: please switch to using "
    "torch.func.{{jacrev, jacfwd, hessian}} and/or torch.vmap instead for better operator coverage and "
    "performance improvements .")

# nodes of element-wise ops whose Jacobian is diagonal and real: J^T g = g * (J^T 1)
ELEMENTWISE_NODES = frozenset("""
AbsBackward0 AcosBackward0 AcoshBackward0 AsinBackward0 AsinhBackward0 AtanBackward0 AtanhBackward0 CeilBackward0
CeluBackward0 ClampBackward1 ClampMinBackward0 ClampMaxBackward0 CosBackward0 CoshBackward0 Deg2RadBackward0
DigammaBackward0 EluBackward0 EluBackward1 ErfBackward0 ErfcBackward0 ErfinvBackward0 Exp2Backward0 ExpBackward0
Expm1Backward0 FloorBackward0 FracBackward0 GeluBackward0 HardshrinkBackward0 HardsigmoidBackward0
HardswishBackward0 HardtanhBackward0 I0Backward0 LeakyReluBackward0 LeakyReluBackward1 LgammaBackward0
Log10Backward0 Log1PBackward0 Log2Backward0 LogBackward0 LogSigmoidBackward0 LogitBackward0 MishBackward0
NanToNumBackward0 NegBackward0 PolygammaBackward0 PowBackward0 PowBackward2 Rad2DegBackward0 ReciprocalBackward0
ReluBackward0 RoundBackward0 RsqrtBackward0 RsubBackward1 SgnBackward0 SigmoidBackward0 SignBackward0
SiluBackward0 SinBackward0 SincBackward0 SinhBackward0 SoftplusBackward0 SoftshrinkBackward0
SpecialErfcxBackward0 SqrtBackward0 TanBackward0 TanhBackward0 ThresholdBackward0 TruncBackward0
DivBackward1 ToCopyBackward0 PowBackward1 MaximumBackward0 MinimumBackward0 FmaxBackward0 FminBackward0
Atan2Backward0 HypotBackward0 CopysignBackward0 LogaddexpBackward0 Logaddexp2Backward0 XlogyBackward0
WhereBackward0 ClampBackward0 ClampMinBackward1 ClampMaxBackward1 LerpBackward0 LerpBackward1
""".split())

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
    """The vector-Jacobian products of every row of the batched
    grad_outputs, each input's stacked on dim 0 (None for an input no row
    reaches)."""
    if len(grads) != len(outputs):
        # the engine reports the count mismatch with PyTorch's text
        return _C._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, False)
    grads, batch = _check_batched(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    if active_levels() and _has_batched(outputs, inputs, grads):
        return _inside_vmap(outputs, inputs, grads, retain_graph, create_graph, allow_unused)
    if batch is None:
        # nothing batched (every grad_output None, for outputs without grad):
        # vmap passes Nones through
        return _C._run_backward(outputs, grads, retain_graph, create_graph, inputs, allow_unused, False)
    plan = _plan(outputs, inputs, grads)
    if plan is None:
        return _per_row(outputs, inputs, grads, batch, retain_graph, create_graph, allow_unused)
    return _one_pass(plan, inputs, batch, retain_graph, create_graph, allow_unused)


def _has_batched(*groups):
    return any(x is not None and type(x) is not Tensor and isinstance(x, Tensor) for group in groups
               for x in group)


def _inside_vmap(outputs, inputs, grads, retain_graph, create_graph, allow_unused):
    """autograd.grad(is_grads_batched=True) on tensors of a running vmap
    (forward-mode hessian: a reverse Jacobian inside vmapped jvp). The graph
    of a vmapped function is the union of per-sample graphs over physical
    tensors (cgrad/func/_batched_autograd.py), so the batch of grad_outputs
    is one more leading dim of their physical cotangents: one batched pass,
    whose results move that dim back behind the vmap dims."""
    from cgrad.func._batched_autograd import _is_full, full_physical, rewrap
    levels = len(active_levels())
    if not all(_is_full(x) for x in inputs):
        raise RuntimeError("autograd.grad(is_grads_batched=True) inside vmap: every input must be batched at "
                           "every running vmap level (an input shared by all samples is not supported)")
    out_plain = [full_physical(o) for o in outputs]
    in_plain = [full_physical(x) for x in inputs]
    grads_plain = []
    for o, g in zip(out_plain, grads):
        if g is None:
            grads_plain.append(None)
        elif type(g) is Tensor:
            shape = (g.shape[0],) + tuple(o.shape)
            grads_plain.append(g.reshape((g.shape[0],) + (1,) * levels + tuple(g.shape[1:])).expand(shape))
        else:
            grads_plain.append(full_physical(g).movedim(levels, 0))
    result = batched_grad(out_plain, in_plain, grads_plain, retain_graph, create_graph, allow_unused)
    return tuple(None if r is None else rewrap(r.movedim(0, levels)) for r in result)


def _plan(outputs, inputs, grads):
    """(root entries, targets, runnable nodes) of the batched pass, or None
    where the engine's own path must serve (an error it reports, or hooks)."""
    roots = []
    for out, g in zip(outputs, grads):
        if g is None:
            continue
        node = _C._bb_grad_edge(out)
        if node is None:
            return None     # the engine raises PyTorch's error
        roots.append((node, out.output_nr, g))
    targets = {}
    for i, x in enumerate(inputs):
        node = _C._bb_grad_edge(x)
        if node is None:
            return None
        targets.setdefault(node, []).append((x.output_nr, i))
    # every node reachable from the roots (explicit stack), then those with a
    # path to a target, oldest first so that a node's inputs are resolved first
    state, stack = {}, []
    for node, _, _ in roots:
        if node not in state:
            state[node] = _C._bb_node_state(node)
            stack.append(node)
    while stack:
        node = stack.pop()
        edges = state[node][2]
        if edges is None:
            continue
        for nxt in edges:
            if nxt is not None and nxt not in state:
                state[nxt] = _C._bb_node_state(nxt)
                stack.append(nxt)
    runnable = set()
    for node in sorted(state, key=lambda n: state[n][0]):
        edges = state[node][2]
        if edges and any(nxt is not None and (nxt in targets or nxt in runnable) for nxt in edges):
            runnable.add(node)
    for node in runnable:
        if state[node][4]:
            return None     # hooks: one sample at a time, through the engine
    for node in targets:
        if node in state and state[node][4]:
            return None
    return roots, targets, runnable, state


def _one_pass(plan, inputs, batch, retain_graph, create_graph, allow_unused):
    roots, targets, runnable, state = plan
    pending = {}        # node -> list of summed batched gradients, one per output
    heap = []

    def push(node, nr, g):
        slots = pending.get(node)
        if slots is None:
            slots = pending[node] = [None] * state[node][1]
            heapq.heappush(heap, (-state[node][0], id(node), node))
        slots[nr] = g if slots[nr] is None else slots[nr] + g

    for node, nr, g in roots:
        push(node, nr, g)
    captured = [None] * len(inputs)
    with cgrad.set_grad_enabled(create_graph):
        while heap:
            node = heapq.heappop(heap)[2]
            slots = pending.pop(node)
            entries = targets.get(node)
            if entries is not None:
                for nr, idx in entries:
                    if slots[nr] is not None:
                        captured[idx] = slots[nr]
            if node not in runnable:
                continue
            results = _apply_batched(node, slots, batch)
            if not retain_graph:
                _C._bb_release(node)
            _, _, edges, nrs, _ = state[node]
            for i, g in enumerate(results):
                if g is None or i >= len(edges):
                    continue
                nxt = edges[i]
                if nxt is None or (nxt not in runnable and nxt not in targets):
                    continue
                push(nxt, 0 if nrs is None else nrs[i], g)
    for i in range(len(inputs)):
        if captured[i] is None and not allow_unused:
            raise RuntimeError(
                f"The differentiated Tensor at index {i} appears to not have been used in the graph. "
                "Set allow_unused=True if this is the desired behavior.")
    return tuple(captured)


def _apply_batched(node, slots, batch):
    """node's backward on batched output gradients: its batching rule, the
    diagonal of an element-wise node, the rows of its Jacobian when it has
    fewer output elements than the batch has rows, or once per sample."""
    if len(slots) == 1:
        g = slots[0]
        result = _C._bb_rule(node, g)
        if result is not NotImplemented:
            return result
        if node.name() in ELEMENTWISE_NODES:
            result = _diagonal_times(node, g)
            if result is not None:
                return result
        if g[0].numel() < batch:
            return _jacobian_rows_times(node, g)
    else:
        result = _C._bb_rule_multi(node, slots, batch)
        if result is not NotImplemented:
            return result
    return _per_sample(node, slots, batch)


def _jacobian_rows_times(node, g):
    """A VJP is linear in the output gradient, so with m output elements it
    is G @ J, J's m rows the node's backward of each basis vector: m calls
    instead of one per sample (a 0-d output, as a loss or a sum, takes one)."""
    shape = tuple(g.shape[1:])
    numel = g[0].numel()
    rows = []
    basis = _C.eye(numel, dtype=g.dtype)
    for k in range(numel):
        rows.append(_C._bb_apply(node, basis[k].reshape(shape)))
    flat = g.reshape(g.shape[0], numel)
    results = []
    for i in range(max(len(r) for r in rows)):
        column = [r[i] if i < len(r) else None for r in rows]
        present = [c for c in column if c is not None]
        if not present:
            results.append(None)
            continue
        in_shape = tuple(present[0].shape)
        if numel == 1:
            results.append(flat.reshape((g.shape[0],) + (1,) * len(in_shape)).to(present[0].dtype)
                           * present[0])
            continue
        column = [_C.zeros_like(present[0]) if c is None else c for c in column]
        jac = _C.stack(column, 0).reshape(numel, -1)
        results.append(flat.to(jac.dtype).matmul(jac).reshape((g.shape[0],) + in_shape))
    return tuple(results)


def _diagonal_times(node, g):
    """g times the diagonal of an element-wise node's Jacobian (its backward
    applied to ones); None when the node turns out not to be element-wise
    for these shapes (a broadcast operand)."""
    ones = _C.ones(tuple(g.shape[1:]), dtype=g.dtype)
    diagonal = _C._bb_apply(node, ones)
    out = []
    for d in diagonal:
        if d is None:
            out.append(None)
            continue
        if tuple(d.shape) != tuple(ones.shape):
            return None
        if node.name() == "ToCopyBackward0":
            out.append(g.to(d.dtype))
        else:
            out.append(g * d if d.dtype == g.dtype else (g * d).to(d.dtype))
    return tuple(out)


def _per_sample(node, slots, batch):
    """PyTorch's legacy-vmap fallback: the node's backward per sample, the
    results stacked (zeros where one sample gives none and another some)."""
    if _C._debug_only_are_vmap_fallback_warnings_enabled():
        warnings.warn(FALLBACK_WARNING.format(_op_name(node)), UserWarning, stacklevel=4)
    rows = []
    for r in range(batch):
        row = [None if s is None else s[r] for s in slots]
        rows.append(_C._bb_apply(node, row[0] if len(row) == 1 else row))
    results = []
    for k in range(max(len(r) for r in rows)):
        column = [r[k] if k < len(r) else None for r in rows]
        present = [c for c in column if c is not None]
        if not present:
            results.append(None)
            continue
        column = [_C.zeros_like(present[0]) if c is None else c for c in column]
        results.append(_C.stack(column, 0))
    return tuple(results)


def _op_name(node):
    """The aten-style name PyTorch's warning gives: the op's backward."""
    name = node.name()
    base = name[:name.rfind("Backward")] if "Backward" in name else name
    snake = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(base))
    return snake + "_backward"


def _per_row(outputs, inputs, grads, batch, retain_graph, create_graph, allow_unused):
    """One engine pass per row of the batched grad_outputs (a graph with
    hooks, or the engine's own errors)."""
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
