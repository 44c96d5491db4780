"""torch.compiler's names for cgrad.compile's controls."""
from cgrad._dynamo import is_compiling, list_backends, reset
from cgrad._dynamo.decorators import allow_in_graph, disable, set_stance
from cgrad._dynamo.exc import Unsupported


def is_dynamo_compiling():
    return is_compiling()


def compile(*args, **kwargs):
    from cgrad._dynamo.eval_frame import compile as _compile
    return _compile(*args, **kwargs)


__all__ = ["allow_in_graph", "compile", "disable", "is_compiling", "is_dynamo_compiling", "list_backends", "reset",
           "set_stance", "Unsupported"]
