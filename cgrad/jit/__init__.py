"""cgrad.jit: torch.jit for the scripts that use it.

cgrad has no TorchScript compiler. cgrad.jit gives what a PyTorch script
observes of torch.jit: script() makes ScriptFunction/RecursiveScriptModule
objects that run their Python eagerly (results and gradients are the eager
code's; _script.py), trace() replays the calls recorded on the example
inputs with Python control flow frozen as torch's tracer freezes it
(_trace.py), save()/load() write and rebuild scripted and traced modules
as data, never running code from a file (_serialization.py), and the
language helpers (annotate, Final, fork, ...) behave as they do in Python
under torch (_language.py).

is_scripting() is False everywhere, inside scripted code too: torch
returns True only while the TorchScript interpreter runs compiled code,
and code under `if torch.jit.is_scripting():` is written for that
interpreter's restrictions; cgrad runs the Python, so it takes the Python
path, which gives the same results. is_tracing() is True while trace()
runs the traced code."""
from typing import Final, Iterator  # noqa: F401

from cgrad.jit._language import (Attribute, CompilationUnit, Future, _isinstance as isinstance, _overload,  # noqa: F401
                                 _overload_method, _unwrap_optional, annotate,
                                 enable_onednn_fusion, fork, fuser, interface, last_executed_optimized_graph,
                                 onednn_fusion_enabled, optimized_execution, script_if_tracing,
                                 set_fusion_strategy, strict_fusion, wait)
from cgrad.jit._script import (Error, RecursiveScriptModule, ScriptFunction, ScriptModule, export, freeze, ignore,
                               optimize_for_inference, run_frozen_optimizations, script, script_method, unused)
from cgrad.jit._serialization import load, save
from cgrad.jit._trace import (TopLevelTracedModule, TracedModule, TracerWarning, TracingCheckError, is_tracing,
                              trace, trace_module)


def is_scripting():
    """False: cgrad runs scripted code as Python (see the module's doc)."""
    return False


class ScriptWarning(Warning):
    pass


__all__ = ["Attribute", "CompilationUnit", "Error", "Final", "Future", "RecursiveScriptModule", "ScriptFunction",
           "ScriptModule", "ScriptWarning", "TopLevelTracedModule", "TracedModule", "TracerWarning",
           "TracingCheckError", "annotate", "enable_onednn_fusion", "export", "fork", "freeze", "fuser", "ignore",
           "interface", "is_scripting", "is_tracing", "isinstance", "last_executed_optimized_graph", "load",
           "onednn_fusion_enabled", "optimize_for_inference", "optimized_execution", "run_frozen_optimizations",
           "save", "script", "script_if_tracing", "script_method", "set_fusion_strategy", "strict_fusion",
           "trace", "trace_module", "unused", "wait"]
