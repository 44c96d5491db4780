"""cgrad.jit.save / cgrad.jit.load: a scripted or traced module to a file
and back, without ever running code from the file.

A TorchScript archive holds compiled code; cgrad has none to write and
runs none it reads. cgrad.jit.save writes, through cgrad.save (torch's
checkpoint format, read back with weights_only=True: tensors, containers
and plain values only), the module tree as data: each node's class as an
import path ("module:qualname"), its training flag, parameters, buffers
and plain attributes (None, bool, int, float, complex, str, bytes, dtypes,
tuples, lists, dicts and sets of those, and functions of cgrad itself), its
children, and for a traced module the example inputs of each traced method.
cgrad.jit.load rebuilds each node as an instance of that class without
calling its __init__ (Module's bookkeeping is set up, then the saved state
filled in), scripts the tree, and traces it again on the saved examples
for a traced module: the only code that runs is the class's own Python,
already imported. It refuses a class whose module is not imported yet
(loading never imports a module a file names), a name that is not an
nn.Module subclass, and a function attribute outside cgrad, with a clear
error; a file that is not cgrad.jit's (a TorchScript archive, any other
checkpoint) is refused likewise."""
import sys
import types

import cgrad
from cgrad._C import Tensor, dtype as _dtype
from cgrad.jit._script import RecursiveScriptModule, ScriptFunction, ScriptModule, _MODULE_STATE, _ModuleTree
from cgrad.nn.modules.module import Module

FORMAT = "cgrad.jit module/1"
_PLAIN = (type(None), bool, int, float, complex, str, bytes, _dtype)
_SKIPPED = frozenset(("_script_class", "original_name", "_trace_runners", "_trace_inputs"))


def _class_path(cls):
    if "<locals>" in cls.__qualname__:
        raise RuntimeError(f"cgrad.jit.save: class {cls.__qualname__} is defined inside a function; cgrad.jit.load "
                           "finds a module's class by its import path, so define it at module level")
    return f"{cls.__module__}:{cls.__qualname__}"


def _is_cgrad_function(value):
    """A function of cgrad itself that its import path finds again."""
    module_name = getattr(value, "__module__", None) or ""
    qualname = getattr(value, "__qualname__", None)
    if module_name.split(".")[0] != "cgrad" or not qualname or module_name not in sys.modules:
        return False
    found = sys.modules[module_name]
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found is value


def _encode_attr(owner, name, value):
    if isinstance(value, _PLAIN):
        return value
    if type(value) in (tuple, list):
        return type(value)(_encode_attr(owner, name, v) for v in value)
    if type(value) is dict:
        return {k: _encode_attr(owner, name, v) for k, v in value.items()}
    if type(value) in (set, frozenset):
        return {"__cgrad_jit_set__": [_encode_attr(owner, name, v) for v in value]}
    if callable(value) and not isinstance(value, type) and _is_cgrad_function(value):
        return {"__cgrad_jit_function__": f"{value.__module__}:{value.__qualname__}"}
    if isinstance(value, Tensor):
        return value
    raise RuntimeError(f"cgrad.jit.save: attribute '{name}' of {owner} holds a {type(value).__name__}, which a "
                       "file loaded without running code cannot rebuild (only plain values, tensors, dtypes, "
                       "containers of those and cgrad's own functions are saved)")


def _encode_node(node):
    # a module of the tree script/trace made names its original class; a ScriptModule subclass (the
    # legacy `class M(jit.ScriptModule)` with @script_method) and plain children name their own
    cls = node._script_class if isinstance(node, _ModuleTree) else type(node)
    attrs = {}
    for name, value in node.__dict__.items():
        if name in _MODULE_STATE or name in _SKIPPED:
            continue
        attrs[name] = _encode_attr(cls.__qualname__, name, value)
    return {
        "class": _class_path(cls),
        "training": bool(node.training),
        "parameters": dict(node._parameters),
        "buffers": dict(node._buffers),
        "non_persistent": sorted(node._non_persistent_buffers_set),
        "attributes": attrs,
        "children": {name: None if child is None else _encode_node(child) for name, child in node._modules.items()},
    }


def save(m, f, _extra_files=None):
    """torch.jit.save: m must be a scripted or traced module."""
    from cgrad.jit._trace import TracedModule
    if isinstance(m, ScriptFunction):
        return m.save(f)
    if not isinstance(m, ScriptModule):
        raise AttributeError(f"'{type(m).__name__}' object has no attribute 'save_to_buffer'")
    data = {"format": FORMAT, "root": _encode_node(m), "traced_inputs": None,
            "extra_files": dict(_extra_files) if _extra_files else {}}
    if isinstance(m, TracedModule):
        data["traced_inputs"] = dict(m.__dict__.get("_trace_inputs", {}))
    cgrad.save(data, f)


def _resolve(path, what):
    module_name, _, qualname = path.partition(":")
    module = sys.modules.get(module_name)
    if module is None:
        raise RuntimeError(f"cgrad.jit.load: the file names {what} {path}, whose module '{module_name}' is not "
                           "imported; import it before loading (cgrad.jit.load never imports a module a file "
                           "names)")
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None or part == "<locals>":
            raise RuntimeError(f"cgrad.jit.load: {what} {path} is not found in module '{module_name}'")
    return obj


def _decode_attr(value):
    if type(value) in (tuple, list):
        return type(value)(_decode_attr(v) for v in value)
    if type(value) is dict:
        if len(value) == 1 and "__cgrad_jit_set__" in value:
            return set(_decode_attr(v) for v in value["__cgrad_jit_set__"])
        if len(value) == 1 and "__cgrad_jit_function__" in value:
            path = value["__cgrad_jit_function__"]
            if path.split(":")[0].split(".")[0] != "cgrad":
                raise RuntimeError(f"cgrad.jit.load: refusing function {path}: only cgrad's own functions load")
            fn = _resolve(path, "function")
            if not callable(fn) or isinstance(fn, type):
                raise RuntimeError(f"cgrad.jit.load: {path} is not a function")
            return fn
        return {k: _decode_attr(v) for k, v in value.items()}
    return value


def _decode_node(node, memo):
    if not isinstance(node, dict) or not isinstance(node.get("class"), str):
        raise RuntimeError("cgrad.jit.load: the file's module tree is malformed")
    cls = _resolve(node["class"], "class")
    if not (isinstance(cls, type) and issubclass(cls, Module)) or cls.__module__.startswith("cgrad.jit"):
        raise RuntimeError(f"cgrad.jit.load: {node['class']} is not an nn.Module subclass; refusing to build it")
    module = cls.__new__(cls)
    Module.__init__(module)
    state = module.__dict__
    for name, value in node["attributes"].items():
        if not isinstance(name, str) or name in _MODULE_STATE:
            raise RuntimeError(f"cgrad.jit.load: the file sets a reserved attribute {name!r}")
        state[name] = _decode_attr(value)
    state["training"] = bool(node["training"])
    for name, tensor in node["parameters"].items():
        if tensor is not None and not isinstance(tensor, Tensor):
            raise RuntimeError(f"cgrad.jit.load: parameter {name!r} is not a tensor")
        module._parameters[name] = tensor
    for name, tensor in node["buffers"].items():
        if tensor is not None and not isinstance(tensor, Tensor):
            raise RuntimeError(f"cgrad.jit.load: buffer {name!r} is not a tensor")
        module._buffers[name] = tensor
    module._non_persistent_buffers_set.update(node["non_persistent"])
    for name, child in node["children"].items():
        module._modules[name] = None if child is None else _decode_node(child, memo)
    return module


def load(f, map_location=None, _extra_files=None, _restore_shapes=False):
    """torch.jit.load for files cgrad.jit.save wrote (see the design
    comment at the top of this file)."""
    try:
        data = cgrad.load(f, map_location=map_location, weights_only=True)
    except Exception as e:
        raise RuntimeError(f"cgrad.jit.load: not a module saved by cgrad.jit.save ({type(e).__name__}: {e}); "
                           "TorchScript archives hold compiled code, which cgrad neither has nor runs") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RuntimeError("cgrad.jit.load: not a module saved by cgrad.jit.save (a checkpoint of other data: "
                           "use cgrad.load for it)")
    original = _decode_node(data["root"], {})
    if _extra_files is not None:
        saved = data.get("extra_files") or {}
        for name in list(_extra_files):
            if name in saved:
                _extra_files[name] = saved[name]
    traced_inputs = data.get("traced_inputs")
    if traced_inputs:
        from cgrad.jit._trace import TopLevelTracedModule, TracedModule, _attach_runners
        top = TopLevelTracedModule._from_module(original, {}, child_cls=TracedModule)
        _attach_runners(top, traced_inputs, warn=False)
        return top
    return RecursiveScriptModule._from_module(original, {})
