"""torch.compiler's names for cgrad.compile's controls."""
from cgrad._dynamo import is_compiling, list_backends, reset
from cgrad._dynamo import decorators as _decorators
from cgrad._dynamo.decorators import allow_in_graph, disable
from cgrad._dynamo.exc import Unsupported


def set_stance(stance="default", *, skip_guard_eval_unsafe=False, force_backend=None):
    """Set how compiled functions run from now on ("default",
    "force_eager", "eager_on_recompile", "fail_on_recompile"); the result
    also works as a context manager and a decorator (torch.compiler.set_stance)."""
    return _decorators.set_stance(stance, skip_guard_eval_unsafe=skip_guard_eval_unsafe, force_backend=force_backend)


def is_dynamo_compiling():
    return is_compiling()


def compile(*args, **kwargs):
    from cgrad._dynamo.eval_frame import compile as _compile
    return _compile(*args, **kwargs)


__all__ = ["allow_in_graph", "compile", "disable", "is_compiling", "is_dynamo_compiling", "list_backends", "reset",
           "set_stance", "Unsupported"]
