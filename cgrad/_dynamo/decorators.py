"""torch.compiler's controls over what a compiled function captures:
disable (a function that always runs eagerly, and is a graph break when a
capture reaches it), allow_in_graph (a function recorded as one call of the
tape, replayed by calling it again) and set_stance (force_eager,
eager_on_recompile, fail_on_recompile; a setter, context manager and
decorator, as torch's)."""
import functools

from cgrad._dynamo import capture

STANCES = ("default", "force_eager", "eager_on_recompile", "fail_on_recompile")
_stance = {"name": "default"}


def current_stance():
    return _stance["name"]


def disable(fn=None, recursive=True, *, reason=None):
    """fn runs eagerly, never captured: compiled directly it is just
    called; reached by a capture it is a graph break (the call falls back to
    eager, or raises under fullgraph=True)."""
    if fn is None:
        return functools.partial(disable, recursive=recursive, reason=reason)
    if not callable(fn):
        raise AssertionError(f"expected a callable, got {type(fn).__name__}")

    @functools.wraps(fn)
    def disabled(*args, **kwargs):
        rec = capture.active_recorder()
        if rec is not None and not rec.depth:
            why = f" ({reason})" if reason else ""
            rec.graph_break(f"a function marked with cgrad.compiler.disable was called: "
                            f"{getattr(fn, '__qualname__', fn)!r}{why}")
        return fn(*args, **kwargs)
    disabled._cgrad_compile_disabled = True
    return disabled


def allow_in_graph(fn):
    """fn is recorded as one call of the tape (the ops it makes inside are
    not recorded one by one), and replayed by calling it again with the new
    arguments. torch returns fn itself; cgrad returns a recording wrapper,
    since its capture sees only the calls it wraps."""
    if isinstance(fn, (list, tuple)):
        return [allow_in_graph(f) for f in fn]
    if not callable(fn):
        raise TypeError("allow_in_graph expects a callable")
    return capture._recording(fn, getattr(fn, "__name__", "allow_in_graph"))


class set_stance:
    """set_stance(stance="default", *, skip_guard_eval_unsafe=False,
    force_backend=None): how compiled functions behave from now on (and, as
    a context manager or decorator, within the block or call):
    "force_eager" runs them eagerly, "eager_on_recompile" replays what is
    captured but runs eagerly where a new capture would be needed,
    "fail_on_recompile" raises there instead."""

    def __init__(self, stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
        if force_backend is not None and stance != "default":
            raise RuntimeError("non-default stance cannot have force_backend set")
        if stance not in STANCES:
            raise RuntimeError(f"invalid torch.compile stance '{stance}'")
        if capture.active_recorder() is not None:
            raise RuntimeError("attempted to set_stance in a torch.compile region")
        self.stance = stance
        self.prev = _stance["name"]
        _stance["name"] = stance

    def __enter__(self):
        _stance["name"] = self.stance

    def __exit__(self, *exc):
        _stance["name"] = self.prev

    def __call__(self, fn):
        _stance["name"] = self.prev

        @functools.wraps(fn)
        def within(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)
        return within
