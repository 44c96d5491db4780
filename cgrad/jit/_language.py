"""The TorchScript language helpers a Python script calls and cgrad runs
as Python: annotate, Final, Attribute, isinstance, interface,
script_if_tracing, fork/wait and their Future, the fusion settings
(recorded: cgrad has no fuser to give them to), strict_fusion,
CompilationUnit, last_executed_optimized_graph, optimized_execution."""
import collections.abc
import contextlib
import functools
import typing
from typing import Final  # noqa: F401  (torch.jit.Final is typing.Final)

from cgrad.jit._state import tracing


def annotate(the_type, the_value):
    """torch.jit.annotate: the value (a type hint for the TorchScript
    compiler)."""
    return the_value


class Attribute(typing.NamedTuple):
    """torch.jit.Attribute(value, type): a typed module attribute."""
    value: typing.Any
    type: typing.Any


def interface(obj):
    """@torch.jit.interface: the class, unchanged (a TorchScript type)."""
    if not isinstance(obj, type):
        raise RuntimeError("interface must be applied to a class")
    return obj


def script_if_tracing(fn):
    """@torch.jit.script_if_tracing: fn, scripted when called under a
    trace (its Python control flow then follows each call's values)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if not tracing():
            return fn(*args, **kwargs)
        from cgrad.jit._script import script
        return script(fn)(*args, **kwargs)

    wrapper.__original_fn = fn
    wrapper.__script_if_tracing_wrapper = True
    return wrapper


def _isinstance(obj, target_type):
    """torch.jit.isinstance: isinstance that also checks the element types
    of List/Dict/Tuple/Optional/Union container hints."""
    if isinstance(target_type, tuple):
        return any(_isinstance(obj, t) for t in target_type)
    origin = typing.get_origin(target_type)
    if origin is None:
        if target_type is typing.Any:
            return True
        if target_type is None or target_type is type(None):
            return obj is None
        return isinstance(obj, target_type)
    args = typing.get_args(target_type)
    if origin is typing.Union:
        return any(_isinstance(obj, t) for t in args)
    if origin in (list, collections.abc.Sequence) or origin is typing.List:
        if not isinstance(obj, list):
            return False
        return not args or all(_isinstance(x, args[0]) for x in obj)
    if origin is dict:
        if not isinstance(obj, dict):
            return False
        return not args or all(_isinstance(k, args[0]) and _isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple:
        if not isinstance(obj, tuple):
            return False
        if not args:
            return True
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_isinstance(x, args[0]) for x in obj)
        return len(obj) == len(args) and all(_isinstance(x, t) for x, t in zip(obj, args))
    return isinstance(obj, origin)


class Future:
    """torch.jit.Future (torch.futures.Future): the result of fork."""

    def __init__(self, devices=None):
        self._done = False
        self._value = None
        self._error = None
        self._callbacks = []

    def done(self):
        return self._done

    def wait(self):
        if self._error is not None:
            raise self._error
        return self._value

    def value(self):
        return self.wait()

    def set_result(self, result):
        if self._done:
            raise RuntimeError("Future can only be marked completed once.")
        self._value, self._done = result, True
        for callback in self._callbacks:
            callback(self)

    def set_exception(self, result):
        if self._done:
            raise RuntimeError("Future can only be marked completed once.")
        self._error, self._done = result, True

    def then(self, callback):
        chained = Future()
        try:
            chained.set_result(callback(self)) if self._done else self._callbacks.append(
                lambda f: chained.set_result(callback(f)))
        except Exception as e:
            chained.set_exception(e)
        return chained

    def add_done_callback(self, callback):
        if self._done:
            callback(self)
        else:
            self._callbacks.append(callback)


def fork(func, *args, **kwargs):
    """torch.jit.fork: runs func now (torch runs it at once too outside
    TorchScript, raising its error there) and returns a Future holding
    its result."""
    fut = Future()
    fut.set_result(func(*args, **kwargs))
    return fut


def wait(future):
    """torch.jit.wait: the forked call's result."""
    return future.wait()


_fusion = {"onednn": False, "strategy": [("STATIC", 2), ("DYNAMIC", 10)]}


def enable_onednn_fusion(enabled):
    """torch.jit.enable_onednn_fusion: records the setting (cgrad has no
    oneDNN fuser); returns None as torch does."""
    _fusion["onednn"] = bool(enabled)


def onednn_fusion_enabled():
    return _fusion["onednn"]


def set_fusion_strategy(strategy):
    """torch.jit.set_fusion_strategy: records the strategy, returns the
    previous one (cgrad has no TorchScript fuser to use it)."""
    if not isinstance(strategy, (list, tuple)) or not all(
            isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and isinstance(item[1], int)
            for item in strategy):
        raise TypeError("_jit_set_fusion_strategy(): incompatible function arguments. The following argument "
                        "types are supported:\n    1. (arg0: collections.abc.Sequence[tuple[str, typing.SupportsInt "
                        f"| typing.SupportsIndex]]) -> list[tuple[str, int]]\n\nInvoked with: {strategy!r}")
    for kind, _ in strategy:
        if kind not in ("STATIC", "DYNAMIC"):
            raise ValueError(f"FusionBehavior only supported 'STATIC' or 'DYNAMIC', got: {kind}")
    previous = _fusion["strategy"]
    _fusion["strategy"] = list(strategy)
    return previous


class strict_fusion:
    """torch.jit.strict_fusion: a context manager that, in TorchScript,
    asserts its body fused; in Python (here always) it does nothing, as
    torch's does outside scripted code."""

    def __init__(self):
        pass

    def __enter__(self):
        return None

    def __exit__(self, type, value, tb):
        return None


def last_executed_optimized_graph():
    """torch.jit.last_executed_optimized_graph: cgrad runs no TorchScript
    graph, so there is none (torch returns None before any scripted call)."""
    return None


@contextlib.contextmanager
def optimized_execution(should_optimize):
    yield


def fuser(name):
    """torch.jit.fuser: a context manager choosing the TorchScript fuser
    (no fuser here; the name is checked as torch checks it)."""
    if name not in ("fuser0", "fuser1", "fuser2", "fuser3", "none"):
        raise Exception(f"unrecognized fuser option (name: {name})")  # noqa: TRY002  (torch's type)
    return contextlib.nullcontext()


class CompilationUnit:
    """torch.jit.CompilationUnit: define(source) compiles TorchScript
    source text into functions. cgrad would have to execute that text as
    Python, so it refuses it (files and strings never run code here);
    functions scripted with jit.script are the supported path."""

    def __init__(self, lang=None, _frames_up=0):
        self._functions = {}
        if lang is not None:
            self.define(lang)

    def define(self, src, rcb=None, _frames_up=0):
        raise RuntimeError("cgrad.jit.CompilationUnit cannot compile TorchScript source text: cgrad has no "
                           "TorchScript compiler and does not execute code given as a string; script Python "
                           "functions with cgrad.jit.script instead")

    def find_function(self, name):
        return self._functions.get(name)

    def get_functions(self):
        return list(self._functions.values())

    def __getattr__(self, name):
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(f"'CompilationUnit' has no attribute '{name}'")


def _overload(func):
    """torch.jit._overload: declares one TorchScript signature of a
    function; in Python the definition after the declarations is the one
    that runs, so the declaration is returned unchanged."""
    return func


def _overload_method(func):
    return func


def _unwrap_optional(x):
    """torch.jit._unwrap_optional: x, asserting it is not None."""
    if x is None:
        raise AssertionError("Unwrapping null optional")
    return x
