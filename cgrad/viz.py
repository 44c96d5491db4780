"""Pictures of the backward graph.

    cgrad.viz.to_dot(loss)             Graphviz DOT source (a string)
    cgrad.viz.draw(loss, "graph.svg")  rendered through the graphviz package

Nodes are the grad_fn objects, named as their classes (MulBackward0, ...);
leaves (AccumulateGrad) show their tensor's shape, and a node's saved tensors
are drawn beside it. The walk uses an explicit stack, so deep graphs are fine.
"""
from cgrad._C import Node, Tensor

__all__ = ["to_dot", "draw"]


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def _saved_tensors(fn):
    """The tensors a node keeps for its backward: its Tensor-valued
    attributes (built-in nodes expose them read-only; custom Functions
    through saved_tensors)."""
    out = []
    for name in sorted(dir(type(fn))):
        if name.startswith("__") or name in ("variable", "saved_tensors", "saved_variables"):
            continue
        try:
            value = getattr(fn, name)
        except (RuntimeError, AttributeError):
            continue
        if isinstance(value, Tensor):
            out.append((name, value))
    if hasattr(fn, "saved_tensors"):
        try:
            out += [(f"saved[{i}]", t) for i, t in enumerate(fn.saved_tensors) if t is not None]
        except RuntimeError:   # already freed by a backward
            pass
    return out


def to_dot(output, params=None, show_saved=True, name="cgrad"):
    """DOT source of the backward graph ending at `output` (a tensor or a
    sequence of tensors). `params` maps names to leaf tensors for labels."""
    outputs = [output] if isinstance(output, Tensor) else list(output)
    names = {id(t): n for n, t in (params or {}).items()}
    lines = [f"digraph {name} {{",
             '  node [shape=box, style=filled, fillcolor="#f2f2f2", fontname="Helvetica", fontsize=11];',
             "  rankdir=TB;"]
    seen = set()
    stack = []
    for k, out in enumerate(outputs):
        oid = f"out{k}"
        lines.append(f'  {oid} [label="output\\n{_shape(out)}", fillcolor="#c8e6c9"];')
        if out.grad_fn is not None:
            lines.append(f"  n{id(out.grad_fn)} -> {oid};")
            stack.append(out.grad_fn)
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        nid = f"n{id(fn)}"
        if type(fn).__name__ == "AccumulateGrad":
            var = fn.variable
            label = names.get(id(var), "")
            label = (label + "\\n" if label else "") + _shape(var)
            lines.append(f'  {nid} [label="{label}", fillcolor="#bbdefb"];')
        else:
            lines.append(f'  {nid} [label="{type(fn).__name__}"];')
        if show_saved:
            for attr, t in _saved_tensors(fn):
                sid = f"s{id(fn)}_{attr.replace('[', '_').replace(']', '')}"
                lines.append(f'  {sid} [label="saved {attr}\\n{_shape(t)}", fillcolor="#ffe0b2"];')
                lines.append(f"  {sid} -> {nid} [style=dashed, arrowhead=none];")
        for nxt, _ in fn.next_functions:
            if nxt is not None:
                lines.append(f"  n{id(nxt)} -> {nid};")
                stack.append(nxt)
    lines.append("}")
    return "\n".join(lines) + "\n"


def draw(output, path, params=None, show_saved=True):
    """Render the graph to `path` (its extension, .svg or .png, picks the
    format) with the graphviz package; returns the path written."""
    try:
        import graphviz
    except ImportError:
        raise ImportError("cgrad.viz.draw needs the graphviz Python package and Graphviz's `dot` "
                          "program: pip install graphviz, and install Graphviz (e.g. apt install "
                          "graphviz or brew install graphviz). cgrad.viz.to_dot() works without them.") from None
    import os
    fmt = (os.path.splitext(path)[1][1:] or "svg").lower()
    # pipe() hands the DOT source to `dot` on stdin and returns the picture:
    # render() would first save the source beside `path` (a stray file named
    # after it, left behind when `dot` is missing).
    try:
        image = graphviz.Source(to_dot(output, params, show_saved)).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise RuntimeError("Graphviz's `dot` program was not found: install Graphviz "
                           "(e.g. apt install graphviz).") from None
    with open(path, "wb") as f:
        f.write(image)
    return path
