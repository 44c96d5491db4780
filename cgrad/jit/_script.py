"""cgrad.jit.script and what it makes: ScriptFunction, ScriptModule,
RecursiveScriptModule, the @ignore/@unused/@export marks, freeze and
optimize_for_inference.

cgrad has no TorchScript compiler: a scripted function or module runs its
own Python eagerly, so its results and gradients are the eager code's.
What a script observes of torch's scripting is kept:
- script(module) builds a RecursiveScriptModule tree beside the original,
  as torch's does: each node shares the original's parameter and buffer
  tensors (same objects: an optimizer over either steps both) and plain
  attributes, has its own training flag (sm.eval() leaves the original in
  training mode), and its submodules are scripted in turn. Its forward and
  other methods are the original class's functions, bound to the scripted
  node; Sequential/ModuleList/ModuleDict iteration, len and indexing work.
- an @unused method (or @ignore(drop=True)) called from scripted code
  raises torch's jit.Error; called directly from Python it runs, as in
  torch. An @ignore function runs as plain Python (anything it calls is
  outside scripted code).
- .code is the Python source cgrad runs and .graph a text naming it: both
  say they are not TorchScript IR.
- is_scripting() is False everywhere (cgrad.jit.__init__ explains why).
- freeze()/optimize_for_inference() copy the tree with its parameters and
  buffers as cloned, detached constants (no parameters, empty state_dict).
Known differences: super() and isinstance(self, OriginalClass) inside a
scripted method see a RecursiveScriptModule, not the original class
(TorchScript rejects super() anyway); a frozen module keeps a `training`
attribute (False), which torch's drops; scripted code is not type-checked,
so code TorchScript would reject runs here."""
import functools
import inspect
import sys
import textwrap
import types
import warnings
from collections import OrderedDict

from cgrad.jit._state import INSIDE_SCRIPTED, _local, scripted_depth
from cgrad.nn.modules.module import Module


class Error(Exception):
    """torch.jit.Error: what failing TorchScript code raises."""


_UNUSED_TEXT = "This Python function is annotated to be ignored and cannot be run"


def _unused_error():
    caller = sys._getframe(2)
    return Error("The following operation failed in the TorchScript interpreter.\n"
                 "Traceback of TorchScript (most recent call last):\n"
                 f'  File "{caller.f_code.co_filename}", line {caller.f_lineno}, in {caller.f_code.co_name}\n'
                 f"RuntimeError: {_UNUSED_TEXT}\n")


# --- the marks ----------------------------------------------------------------
def export(fn):
    """@torch.jit.export: the method is compiled beside forward (here every
    method runs as Python, so it only marks the function)."""
    fn._torchscript_modifier = "export"
    return fn


def unused(fn):
    """@torch.jit.unused: calling fn from scripted code raises torch's
    jit.Error; a direct Python call runs it."""
    if isinstance(fn, property):
        return property(unused(fn.fget) if fn.fget else None, unused(fn.fset) if fn.fset else None,
                        fn.fdel, fn.__doc__)

    @functools.wraps(fn)
    def guarded(*args, **kwargs):
        if scripted_depth():
            raise _unused_error()
        return fn(*args, **kwargs)

    guarded._torchscript_modifier = "unused"
    return guarded


def ignore(drop=False, **kwargs):
    """@torch.jit.ignore / @torch.jit.ignore(drop=True): the function stays
    Python (what it calls is not scripted code); drop=True is @unused."""
    if callable(drop):
        return _ignored(drop)
    if not isinstance(drop, bool):
        raise RuntimeError("Argument to @torch.jit.ignore must be a bool or a function but got "
                           f"{drop}")
    drop_on_export = kwargs.pop("drop_on_export", None)
    if drop_on_export is not None:
        drop = drop or drop_on_export
    return unused if drop else _ignored


def _ignored(fn):
    @functools.wraps(fn)
    def as_python(*args, **kwargs):
        saved = scripted_depth()
        _local.scripted = 0
        try:
            return fn(*args, **kwargs)
        finally:
            _local.scripted = saved

    as_python._torchscript_modifier = "ignore"
    return as_python


def _copy_to_script_module(original, name):
    """torch.jit._script._copy_to_script_wrapper: mark a ScriptModule method
    that forwards to the original module's."""
    return original


# --- functions ------------------------------------------------------------------
def _source_text(fn, what):
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        source = f"# (the Python source of {what} is not available)\n"
    return ("# cgrad.jit: the Python source cgrad runs eagerly for this " + what +
            " (cgrad has no TorchScript compiler; this is not TorchScript code)\n" + source)


class ScriptFunction:
    """What torch.jit.script (and trace) make of a function: calling it
    runs the function's Python as scripted code."""

    def __init__(self, fn, name=None, runner=None):
        self._fn = fn
        self._runner = runner if runner is not None else fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)
        self.qualified_name = f"__torch__.{getattr(fn, '__qualname__', self.name)}"
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args, **kwargs):
        with INSIDE_SCRIPTED:
            return self._runner(*args, **kwargs)

    @property
    def code(self):
        return _source_text(self._fn, "function")

    @property
    def graph(self):
        return _graph_text(self.name, self._runner)

    def __repr__(self):
        return f"<cgrad.jit.ScriptFunction object {self.name}>"

    def save(self, f, **kwargs):
        raise RuntimeError("cgrad.jit.save saves scripted or traced modules; a ScriptFunction has no state "
                           "to save (script the function again after loading)")


def _graph_text(name, runner):
    ops = getattr(runner, "recorded_ops", None)
    lines = [f"graph({name}): cgrad.jit text, not TorchScript IR"]
    if ops is None:
        lines.append("  runs the Python source in .code eagerly")
    else:
        lines.append("  the calls the trace recorded, replayed in order:")
        lines.extend(f"  {i}: {op}" for i, op in enumerate(ops()))
    return "\n".join(lines) + "\n"


# --- modules ----------------------------------------------------------------------
_MODULE_STATE = frozenset(("training", "_parameters", "_buffers", "_modules", "_non_persistent_buffers_set",
                           "_backward_pre_hooks", "_backward_hooks", "_is_full_backward_hook", "_forward_hooks",
                           "_forward_hooks_with_kwargs", "_forward_hooks_always_called", "_forward_pre_hooks",
                           "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
                           "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_compiled_call_impl"))
_HOOK_DICTS = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
               "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
               "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
               "_load_state_dict_post_hooks")


class ScriptModule(Module):
    """torch.jit.ScriptModule: the base of scripted and traced modules."""

    def __init__(self):
        super().__init__()

    def save(self, f, _extra_files=None):
        from cgrad.jit._serialization import save
        save(self, f, _extra_files)

    def save_to_buffer(self, _extra_files=None):
        import io
        buffer = io.BytesIO()
        self.save(buffer, _extra_files)
        return buffer.getvalue()


class _ModuleTree(ScriptModule):
    """A node of a scripted or traced module tree beside an original
    module (see the design comment at the top of this file)."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} is made by torch.jit.script(module) or torch.jit.trace")

    @classmethod
    def _from_module(cls, original, memo, frozen=False, child_cls=None):
        made = memo.get(id(original))
        if made is not None:
            return made
        node = cls.__new__(cls)
        Module.__init__(node)
        memo[id(original)] = node
        state = node.__dict__
        for name, value in original.__dict__.items():
            if name not in _MODULE_STATE:
                state[name] = value
        if isinstance(original, _ModuleTree):
            source_class = original._script_class
        else:
            source_class = type(original)
        state["_script_class"] = source_class
        state["original_name"] = getattr(original, "original_name", source_class.__name__)
        state["training"] = original.training
        state["_non_persistent_buffers_set"] = set(original._non_persistent_buffers_set)
        for hooks in _HOOK_DICTS:
            state[hooks] = OrderedDict(getattr(original, hooks))
        state["_is_full_backward_hook"] = original._is_full_backward_hook
        if frozen:
            # torch folds a frozen module's parameters and buffers into its graph as constants
            for name, tensor in list(original._parameters.items()) + list(original._buffers.items()):
                state[name] = None if tensor is None else tensor.detach().clone()
            state["training"] = False
        else:
            node._parameters.update(original._parameters)
            node._buffers.update(original._buffers)
        for name, child in original._modules.items():
            node._modules[name] = None if child is None else \
                (child_cls or cls)._from_module(child, memo, frozen)
        return node

    # the original class's functions, bound to this node
    def __getattr__(self, name):
        try:
            return Module.__getattr__(self, name)
        except AttributeError:
            pass
        source_class = self.__dict__.get("_script_class")
        if source_class is None or (name.startswith("__") and name.endswith("__")):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        found = inspect.getattr_static(source_class, name, _MISSING)
        if found is _MISSING:
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        if isinstance(found, types.FunctionType):
            return types.MethodType(found, self)
        if isinstance(found, (property, classmethod, staticmethod)) or hasattr(found, "__get__"):
            return found.__get__(self, source_class) if not isinstance(found, (classmethod, staticmethod)) \
                else getattr(source_class, name)
        return found

    def _source_function(self, name):
        fn = inspect.getattr_static(self._script_class, name, None)
        return fn if isinstance(fn, types.FunctionType) else None

    def forward(self, *args, **kwargs):
        forward = self._source_function("forward")
        if forward is None:
            return Module.forward(self, *args, **kwargs)
        with INSIDE_SCRIPTED:
            return forward(self, *args, **kwargs)

    def _dunder(self, name, *args):
        fn = self._source_function(name)
        if fn is None:
            raise TypeError(f"'{type(self).__name__}' object does not support {name} (its original class "
                            f"{self.original_name} does not define it)")
        return fn(self, *args)

    def __iter__(self):
        return self._dunder("__iter__")

    def __len__(self):
        return self._dunder("__len__")

    def __getitem__(self, index):
        return self._dunder("__getitem__", index)

    def __contains__(self, item):
        return self._dunder("__contains__", item)

    def extra_repr(self):
        return f"original_name={self.original_name}"

    @property
    def code(self):
        forward = self._source_function("forward")
        return _source_text(forward, f"{self.original_name}.forward") if forward is not None else \
            f"# {self.original_name} has no forward\n"

    @property
    def graph(self):
        return _graph_text(f"{self.original_name}.forward", None)

    @property
    def original_module_class(self):
        return self._script_class


class RecursiveScriptModule(_ModuleTree):
    """What torch.jit.script makes of a module."""

    def _get_name(self):
        return "RecursiveScriptModule"


_MISSING = object()


def script(obj, optimize=None, _frames_up=0, _rcb=None, example_inputs=None):
    """torch.jit.script: a function becomes a ScriptFunction, a module a
    RecursiveScriptModule, a plain class is returned as it is (torch
    compiles it as a TorchScript class)."""
    warnings.warn("`torch.jit.script` is deprecated. Please switch to `torch.compile` or `torch.export`.",
                  DeprecationWarning, stacklevel=2)
    if isinstance(obj, (ScriptModule, ScriptFunction)):
        return obj
    if isinstance(obj, Module):
        return RecursiveScriptModule._from_module(obj, {})
    if isinstance(obj, type):
        if issubclass(obj, Module):
            raise RuntimeError(f"Type '{obj}' cannot be compiled since it inherits from nn.Module, pass an "
                               "instance instead")
        if obj.__module__ == "builtins":
            raise RuntimeError("TorchScript classes must be new-style classes. Please inherit from 'object'.")
        return obj
    if isinstance(obj, (types.FunctionType, types.MethodType)):
        return ScriptFunction(obj)
    if isinstance(obj, (list, dict)):
        return obj
    if type(obj).__module__ != "builtins":
        # torch scripts a callable object as a function and any other instance as a TorchScript class's
        return ScriptFunction(obj, type(obj).__name__) if callable(obj) else obj
    raise TypeError(f"{type(obj)} is a built-in class")


def script_method(fn):
    """torch.jit.script_method: a ScriptModule subclass's compiled method
    (here its Python runs as scripted code)."""
    @functools.wraps(fn)
    def scripted(*args, **kwargs):
        with INSIDE_SCRIPTED:
            return fn(*args, **kwargs)
    return scripted


def _require_script_module(mod, what):
    if not isinstance(mod, ScriptModule):
        raise RuntimeError(f"{what} expects a ScriptModule as input. Please use torch.jit.script or "
                           "torch.jit.trace to script your 'nn.Module'.")


def freeze(mod, preserved_attrs=None, optimize_numerics=True):
    """torch.jit.freeze: a copy of an eval-mode scripted module whose
    parameters and buffers are constants (cloned, detached: no parameters,
    an empty state_dict, no gradient to the originals)."""
    _require_script_module(mod, "Freezing")
    if mod.training:
        raise RuntimeError("Freezing is currently only implemented for modules in eval mode. Please call "
                           ".eval() on your module before freezing.")
    return _freeze_tree(mod)


def _freeze_tree(mod):
    from cgrad.jit._trace import TracedModule
    if isinstance(mod, TracedModule):
        return mod._frozen_copy()
    return RecursiveScriptModule._from_module(mod, {}, frozen=True)


def optimize_for_inference(mod, other_methods=None):
    """torch.jit.optimize_for_inference: freeze (after eval() if needed)."""
    _require_script_module(mod, "optimize_for_inference")
    if mod.training:
        mod = mod.eval()
    return _freeze_tree(mod)


def run_frozen_optimizations(mod, optimize_numerics=True, preserved_methods=None):
    """torch.jit.run_frozen_optimizations: graph rewrites; cgrad runs the
    Python, so the module is unchanged."""
    return None
