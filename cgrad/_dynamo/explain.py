"""explain(fn)(*args): capture fn once (running it, as torch._dynamo.explain
does) and report the tape, its graph breaks and its guards, in the shape
of torch._dynamo's ExplainOutput."""
import traceback

from cgrad import _C
from cgrad._C import Tensor

__all__ = ["explain", "ExplainOutput", "BreakReason"]


class BreakReason:
    def __init__(self, reason, user_stack):
        self.reason = reason
        self.user_stack = user_stack

    def __repr__(self):
        return f"BreakReason(reason={self.reason!r})"


class ExplainOutput:
    """graphs (the captured tapes), graph_count, graph_break_count,
    break_reasons, op_count, ops_per_graph (each op's recorded callable),
    out_guards (one line per guard) and compile_times."""

    def __init__(self, graphs, graph_count, graph_break_count, break_reasons, op_count, ops_per_graph,
                 out_guards, compile_times):
        self.graphs = graphs
        self.graph_count = graph_count
        self.graph_break_count = graph_break_count
        self.break_reasons = break_reasons
        self.op_count = op_count
        self.ops_per_graph = ops_per_graph
        self.out_guards = out_guards
        self.compile_times = compile_times
        self.fusion = None      # cgrad's own: whether the tape replays as one fused program, or why not

    def __str__(self):
        lines = [f"Graph Count: {self.graph_count}", f"Graph Break Count: {self.graph_break_count}",
                 f"Op Count: {self.op_count}", "Break Reasons:"]
        for i, br in enumerate(self.break_reasons, 1):
            lines += [f"  Break Reason {i}:", f"    Reason: {br.reason}", "    User Stack:"]
            lines += [f"      {frame!r}" for frame in br.user_stack[-3:]]
        lines.append("Ops per Graph:")
        for i, ops in enumerate(self.ops_per_graph, 1):
            lines.append(f"  Ops {i}:")
            lines += [f"    {getattr(op, '__qualname__', getattr(op, '__name__', op))}" for op in ops]
        lines.append("Out Guards:")
        lines += [f"  Guard {i}: {g}" for i, g in enumerate(self.out_guards, 1)]
        lines.append(f"Compile Times: {self.compile_times}")
        if self.fusion is not None:
            lines.append(f"Fusion: {self.fusion}")
        return "\n".join(lines)


def explain(f, *extra_args, **extra_kwargs):
    """explain(f)(*args, **kwargs) -> ExplainOutput (torch._dynamo.explain)."""
    if extra_args or extra_kwargs:
        raise TypeError("explain(f, *args, **kwargs) is not supported: call explain(f)(*args, **kwargs)")

    def inner(*args, **kwargs):
        from cgrad._dynamo.eval_frame import _capture, _key_of
        _, tensors = _key_of(f, args, kwargs)
        _, entry = _capture(f, args, kwargs, tensors, False, explain=True)
        rec = entry.recorder
        if entry.tape is None:
            frames = [frame for frame in entry.break_stack if "cgrad/_dynamo" not in frame.filename]
            breaks = [BreakReason(entry.break_reason, traceback.StackSummary.from_list(frames))]
            graphs, ops = [], []
        else:
            breaks, graphs = [], [entry.tape]
            ops = [[op[0] for op in rec.ops]]
        guards = [f"grad mode == {rec.grad_mode if entry.tape is None else _C.is_grad_enabled()}"]
        for i, t in enumerate(tensors):
            guards.append(f"input tensor {i}: {_describe(t)}")
        for t in entry.constants:
            guards.append(f"closed-over tensor (by identity) {tuple(t.shape)}: {_describe(t)}")
        for m, flag in zip(entry.modules, entry.training):
            guards.append(f"{type(m).__name__}.training is {flag}")
        for holder, name, value in entry.scalars:
            guards.append(f"{'global ' + name if name is not None else 'closure cell'} == {value!r}")
        out = ExplainOutput(graphs, len(graphs), len(breaks), breaks, sum(len(o) for o in ops), ops, guards,
                            f"capture: {entry.capture_time * 1e3:.3f} ms")
        if entry.tape is not None:
            out.fusion = (f"one fused program of {entry.fused.ninstructions} block instructions"
                          if entry.fused is not None else f"not fused: {entry.fusion_note}")
        return out
    return inner


def _describe(t):
    assert isinstance(t, Tensor)
    return (f"{type(t).__name__} dtype={t.dtype} shape={tuple(t.shape)} stride={t.stride()} "
            f"requires_grad={t.requires_grad} grad_fn={'None' if t.grad_fn is None else 'set'} "
            f"grad={'None' if t.grad is None else 'set'}")
