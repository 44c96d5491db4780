"""cgrad.compile's machinery, under torch._dynamo's names: capture
(capture.py), the compiled function and its guarded cache (eval_frame.py),
explain() (explain.py), the exceptions (exc.py) and config."""
from cgrad._dynamo import config, exc
from cgrad._dynamo.decorators import allow_in_graph, disable, set_stance
from cgrad._dynamo.eval_frame import OptimizedModule, list_backends, reset
from cgrad._dynamo.explain import ExplainOutput, explain


def is_compiling():
    """True while cgrad.compile captures a call in this thread."""
    from cgrad._dynamo.capture import active_recorder
    return active_recorder() is not None


__all__ = ["allow_in_graph", "config", "disable", "exc", "explain", "ExplainOutput", "is_compiling", "list_backends",
           "OptimizedModule", "reset", "set_stance"]
