"""Capture: run a function eagerly once while recording the tape of the
calls it makes into cgrad, for cgrad.compile to replay (replay.py).

While a capture runs, the functions of cgrad, cgrad.nn.functional,
cgrad.linalg, cgrad.special and cgrad.autograd, Tensor's methods,
operators and tensor-valued properties, and the optimizers' and LR
schedulers' step/zero_grad answer with recording wrappers, and stop when
the last capture ends: eager code pays nothing outside a capture. The
namespaces and Tensor's methods are not rewritten for that (~1300 dict
entries each way were most of a capture's fixed cost): the namespace
modules are given a ModuleType subclass whose attribute lookup answers
with the wrapper, and Tensor's types a lookup that answers a method with
the wrapper bound to the tensor (src/cgrad/compile/compile_swaps.pxi),
each only while the dict still holds the original the wrapper was made
for. The operators (C slots), the properties and the step classes'
methods are swapped in their dicts.
A wrapper called at depth 0 by the thread that captures records the call
(the original callable, each argument as an input slot, an earlier
result's slot or a constant) and runs it; calls it makes in turn (F.linear
calling addmm, an optimizer's step reading p.grad, hooks run by backward)
are inside the recorded call and run again when it is replayed.

What a tape cannot replay is a graph break: a value read out of a tensor
into Python (.item(), bool(t), .tolist(), .numpy()), a tensor made by
code outside the recorded namespaces (its maker would not be replayed), a
tensor changed in place by such code (caught by the storage version
counter), an op whose output shape depends on the data (nonzero, boolean
masks), and function transforms inside the capture. The Python between
the ops runs only while capturing: its own side effects (appending to a
list, printing, assigning a tensor to an attribute) are not replayed."""
import functools
import operator
import sys
import threading
import types

import cgrad
from cgrad import _C
from cgrad._C import Tensor
from cgrad._dynamo.exc import Unsupported
from cgrad.func import _levels

_local = _C._RecorderLocal()        # .recorder: the Recorder of this thread's capture, if any (C thread-local)

# names that read tensor data into Python, or whose result's shape depends on it
BREAKS = {
    "item": "Tensor.item() reads a value out of a tensor (data-dependent control flow)",
    "tolist": "Tensor.tolist() reads values out of a tensor",
    "numpy": "Tensor.numpy() hands the tensor's buffer to numpy",
    "__array__": "numpy conversion of a tensor", "__dlpack__": "DLPack export of a tensor",
    "__bool__": "bool(tensor) is data-dependent control flow",
    "__int__": "int(tensor) reads a value out of a tensor", "__float__": "float(tensor) reads a value",
    "__index__": "a tensor used as a Python index reads its value", "__iter__": "iteration over a tensor",
    "equal": "Tensor.equal() returns a Python bool from the data", "allclose": "allclose() returns a Python bool",
    "is_nonzero": "is_nonzero() returns a Python bool from the data",
    "nonzero": "nonzero(): the output's shape depends on the data",
    "argwhere": "argwhere(): the output's shape depends on the data",
    "masked_select": "masked_select(): the output's shape depends on the data",
    "unique": "unique(): the output's shape depends on the data",
    "unique_consecutive": "unique_consecutive(): the output's shape depends on the data",
    "bincount": "bincount(): the output's shape depends on the data",
    "vmap": "function transforms inside a compiled function", "compile": "cgrad.compile inside a capture",
    "set_rng_state": "RNG state changed inside a compiled function",
}
# metadata queries: their results follow from the guarded shapes, dtypes and modes; run, not recorded
QUERIES = set("""size dim ndimension numel nelement stride is_contiguous is_floating_point is_complex is_signed
element_size storage_offset data_ptr get_device is_pinned is_shared is_same_size is_set_to is_conj is_neg
is_inference __len__ __hash__ type is_tensor is_storage result_type promote_types can_cast get_default_dtype
is_grad_enabled is_inference_mode_enabled is_anomaly_enabled is_anomaly_check_nan_enabled get_default_device
get_num_threads typename _version dim_order""".split())
# calls whose effects reach tensors that are not their arguments (gradients, parameters)
WIDE_EFFECTS = {"backward", "grad", "step", "zero_grad", "setattr", "manual_seed", "seed"}
# calls that return a non-tensor object later calls may use (it flows through a slot)
OPAQUE_RESULTS = {"register_hook", "register_post_accumulate_grad_hook"}
# Tensor properties whose value is a tensor: read through a recorded getter
TENSOR_PROPERTIES = ("T", "mT", "H", "mH", "data", "grad", "_base")
SETTABLE_PROPERTIES = ("data", "grad", "requires_grad")
# Tensor dunders held in C slots: set through the type so that operators dispatch to the wrappers
SLOT_DUNDERS = """__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__
__rfloordiv__ __mod__ __rmod__ __pow__ __rpow__ __matmul__ __rmatmul__ __and__ __rand__ __or__ __ror__ __xor__
__rxor__ __neg__ __pos__ __abs__ __invert__ __iadd__ __isub__ __imul__ __itruediv__ __ifloordiv__ __imod__
__iand__ __ior__ __ixor__ __lt__ __le__ __eq__ __ne__ __gt__ __ge__ __getitem__ __setitem__ __delitem__
__bool__ __int__ __float__ __index__ __iter__""".split()
NAMESPACES = ("cgrad", "cgrad.nn.functional", "cgrad.linalg", "cgrad.special", "cgrad.autograd",
              "cgrad.autograd.functional")
_NOT_WRAPPED = {"no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
                "_set_grad_enabled", "Tensor", "Size", "dtype", "device", "Generator", "compile",
                "get_default_dtype", "is_tensor"}


def active_recorder():
    return getattr(_local, "recorder", None)


_Ref = _C._SlotRef        # an argument that is a tracked object: its slot


class _Nested:
    """A list or tuple argument that holds tracked objects."""
    __slots__ = ("container", "items")

    def __init__(self, container, items):
        self.container = container
        self.items = items


class Recorder(_C._RecorderCore):
    """The tape of one capture: slots (inputs first), the recorded calls,
    the constants they read, and the graph break that ended it, if any.
    Its state lives in _C._RecorderCore, which the wrappers' fast path
    (src/cgrad/tape_record.pxi) records most calls into; this class
    records the rest."""

    def __init__(self, fullgraph, sources):
        self.fullgraph = fullgraph
        self.sources = sources           # id -> tensor that existed before the call (closures, modules, ...)
        # their guard keys as the call found them (an entry's guards check the state at entry)
        self.source_keys = {i: _C._tensors_key((t,)) for i, t in sources.items()}
        # id -> whether a leaf that requires grad had no .grad at entry (fusion.py plans its store)
        self.grad_was_none = {i: t.grad is None for i, t in sources.items()
                              if t.requires_grad and t.grad_fn is None}
        # objects (slot -> object), and the maps object -> slot and Storage -> the version expected at
        # its next use, are _RecorderCore's (slot_for, track, expected_version, note_versions)
        self.ops = []                    # (fn, name, encoded args, kwnames, nargs, out slots, unpack)
        self.constants = {}              # id -> constant tensor read by the tape
        self.depth = 0
        self.broken = None               # the reason capture stopped, or None
        self.break_stack = None
        self.held_bytes = 0
        self.grad_mode = _C.is_grad_enabled()
        self.inference_mode = _C.is_inference_mode_enabled()
        self.transform_levels = _levels._level_counter[0]     # a vmap inside the capture starts a level

    # --- slots -----------------------------------------------------------
    def add_input(self, obj):
        if isinstance(obj, Tensor) and obj.requires_grad and obj.grad_fn is None:
            self.grad_was_none[id(obj)] = obj.grad is None
        return self._new_slot(obj)

    def _new_slot(self, obj):
        return self.track(obj)

    def _encode_value(self, value, tensors):
        slot = self.slot_for(value)
        if slot is not None:
            if isinstance(value, Tensor):
                tensors.append(value)
            return _Ref(slot)
        if isinstance(value, Tensor):
            if id(value) not in self.sources:
                self.graph_break("a tensor made outside the recorded operations (by a function cgrad.compile "
                                 "does not record) was used")
                return None
            if id(value) not in self.constants:
                # first seen: expected at its version now (a wide call checks every tracked tensor)
                self.constants[id(value)] = value
                self.note_version_if_absent(value)
            tensors.append(value)
            return value
        if type(value) in (list, tuple):
            if any(isinstance(v, Tensor) or self.slot_for(v) is not None for v in value):
                items = []
                for v in value:
                    if type(v) in (list, tuple) and any(isinstance(w, Tensor) for w in v):
                        self.graph_break("tensors nested two levels deep in an argument")
                        return None
                    items.append(self._encode_value(v, tensors))
                return _Nested(type(value), items)
            return value
        if type(value) is dict and any(isinstance(v, Tensor) for v in value.values()):
            self.graph_break("tensors inside a dict argument")
        return value

    def encode(self, args, kwargs):
        tensors = []
        encoded = [self._encode_value(a, tensors) for a in args]
        kwnames = tuple(kwargs) if kwargs else None
        if kwargs:
            encoded += [self._encode_value(v, tensors) for v in kwargs.values()]
        return encoded, kwnames, tensors

    # --- breaks ----------------------------------------------------------
    def graph_break(self, reason):
        if self.broken is None:
            import traceback
            self.broken = reason
            self.break_stack = traceback.extract_stack()[:-3]
        if self.fullgraph:
            raise Unsupported(f"cgrad.compile(fullgraph=True): graph break: {reason}")

    # --- recording ---------------------------------------------------------
    def _check_versions(self, tensors):
        for t in tensors:
            expected = self.expected_version(t)
            if expected is not None and expected != t._version:
                self.graph_break("a tensor was changed in place by code cgrad.compile does not record")
                return

    def _sync_modes(self):
        if _C.is_inference_mode_enabled() != self.inference_mode:
            self.graph_break("inference_mode changed inside the compiled function")
            return
        mode = _C.is_grad_enabled()
        if mode != self.grad_mode:
            self.ops.append((_C._set_grad_enabled, "_set_grad_enabled", [mode], None, 1, (), False))
            self.grad_mode = mode

    def refresh_versions(self, tensors=None):
        if tensors is None:
            _C._refresh_all_versions(self)      # a backward refreshes every tracked tensor: in C
            return
        self.note_versions(tensors)

    def call(self, fn, name, args, kwargs, replay_fn=None, reflected=False):
        """Record and run fn(*args, **kwargs), or run it unrecorded where
        that is all it needs (a metadata query) or all that is left (a break).
        The tape calls replay_fn instead when given (operator.mul for
        Tensor.__mul__: through the type's slot, eager's own path), with
        the two arguments swapped for a reflected dunder (2 - x records
        operator.sub(2, x) for x.__rsub__(2))."""
        if self.broken is not None or name in QUERIES:
            return fn(*args, **kwargs)
        reason = BREAKS.get(name)
        if reason is None and name == "__getitem__" and _has_bool_index(args[1:]):
            reason = "indexing with a boolean mask: the output's shape depends on the data"
        if reason is not None:
            self.graph_break(reason)
            return fn(*args, **kwargs)
        encoded, kwnames, tensors = self.encode(args, kwargs)
        recorded_fn = fn
        if replay_fn is not None:
            recorded_fn = replay_fn
            if reflected:
                encoded = encoded[::-1]
        if self.broken is None:
            # a call with wide effects refreshes every expected version after it, so whatever
            # changed before it without being recorded must be caught now
            if name not in WIDE_EFFECTS:
                self._check_versions(tensors)
            elif not _C._versions_current(self):
                self.graph_break("a tensor was changed in place by code cgrad.compile does not record")
        if self.broken is None:
            self._sync_modes()
        if self.broken is not None:
            return fn(*args, **kwargs)
        self.depth += 1
        try:
            result = fn(*args, **kwargs)
        finally:
            self.depth -= 1
        self._record(recorded_fn, name, encoded, kwnames, len(args), tensors, result)
        return result

    def _record(self, fn, name, encoded, kwnames, nargs, tensors, result):
        unpack = False
        if result is None:
            out = ()
        elif not tensors and _is_scalar(result):
            out = ()            # the Python code went on with this value as a constant
        elif isinstance(result, Tensor) or name in OPAQUE_RESULTS or not tensors:
            out = (self._new_slot(result),)
            if isinstance(result, Tensor):
                tensors.append(result)
        elif isinstance(result, tuple) and all(isinstance(r, Tensor) or r is None for r in result):
            unpack = True
            out = tuple(self._new_slot(r) for r in result)
            tensors.extend(r for r in result if r is not None)
        else:
            self.graph_break(f"{name}() returned a {type(result).__name__}, a value cgrad.compile cannot "
                             "replay")
            return
        self.ops.append((fn, name, encoded, kwnames, nargs, out, unpack))
        self.refresh_versions(None if name in WIDE_EFFECTS else tensors)

    def finish(self):
        """The check after the function returned: an unrecorded in-place
        change to any tracked tensor is a break, and a grad mode left
        changed is restored as eager code left it."""
        if self.broken is None and not _C._versions_current(self):
            self.graph_break("a tensor was changed in place by code cgrad.compile does not record")
        if self.broken is None and _levels._level_counter[0] != self.transform_levels:
            self.graph_break("a function transform (vmap, grad) ran inside the compiled function")
        if self.broken is None:
            self._sync_modes()


def _has_bool_index(index):
    items = index[0] if index and type(index[0]) is tuple else index
    return any(isinstance(i, Tensor) and i.dtype == cgrad.bool for i in items)


# --- the wrappers ---------------------------------------------------------

# names Recorder.call treats apart: never recorded through the fast path
_SLOW_NAMES = set(BREAKS) | QUERIES | WIDE_EFFECTS | OPAQUE_RESULTS | {"__getitem__"}


def _recording(original, name):
    wrapper = _C._recording_wrapper(original, name, name not in _SLOW_NAMES, None, False, False)
    wrapper.__name__ = getattr(original, "__name__", name)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    attributes = getattr(original, "__dict__", None)
    if type(attributes) is dict:
        wrapper.__dict__.update(attributes)     # an LR scheduler's mark on the step it wrapped
    wrapper._compile_original = original
    return wrapper


def _operator_for(name):
    """(the operator module's function for a Tensor dunder, reflected?),
    or (None, False) where the dunder has none."""
    base = name[2:-2]
    candidates = [(base, False)] + ([(base[1:], True)] if base.startswith("r") else [])
    for candidate, reflected in candidates:
        fn = getattr(operator, candidate, None) or getattr(operator, candidate + "_", None)
        if fn is not None:
            return fn, reflected
    return None, False


def _recording_dunder(original, name):
    replay_fn, reflected = _operator_for(name)
    if replay_fn is None or name in BREAKS or name == "__pow__":
        return _recording(original, name)

    wrapper = _C._recording_wrapper(original, name, name not in _SLOW_NAMES, replay_fn, reflected, True)
    wrapper.__name__ = name
    wrapper._compile_original = original
    return wrapper


def _property(name, descriptor):
    getter = operator.attrgetter(name)

    def get(self):
        rec = getattr(_local, "recorder", None)
        if rec is None or rec.depth or rec.broken is not None:
            return descriptor.__get__(self, Tensor)
        value = descriptor.__get__(self, Tensor)
        if value is None:
            return None
        return rec.call(getter, "Tensor." + name, (self,), {})

    def set(self, value):
        rec = getattr(_local, "recorder", None)
        if rec is None or rec.depth:
            return descriptor.__set__(self, value)
        rec.call(setattr, "setattr", (self, name, value), {})

    return property(get, set if name in SETTABLE_PROPERTIES else None)


def _setter_only(name, descriptor):
    def get(self):
        return descriptor.__get__(self, Tensor)

    def set(self, value):
        rec = getattr(_local, "recorder", None)
        if rec is None or rec.depth:
            return descriptor.__set__(self, value)
        rec.call(setattr, "setattr", (self, name, value), {})

    return property(get, set)


_install_lock = threading.Lock()
_install = {"count": 0, "state": None}


def _namespace_modules():
    modules = []
    for name in NAMESPACES:
        module = sys.modules.get(name)      # imported already, but for the first capture
        if module is None:
            import importlib
            try:
                module = importlib.import_module(name)
            except ImportError:
                continue
        modules.append((name, module))
    return modules


def _wrappable(name, value):
    if name.startswith("_") or name in _NOT_WRAPPED or isinstance(value, type):
        return False
    return type(value).__name__ in ("function", "cython_function_or_method", "builtin_function_or_method")


_STEP_ROOTS = []        # (RemovableHandle, Optimizer, LRScheduler), imported at the first capture


def _step_classes():
    if not _STEP_ROOTS:
        from cgrad.optim.lr_scheduler import LRScheduler
        from cgrad.optim.optimizer import Optimizer
        from cgrad.nn.modules._hooks import RemovableHandle
        _STEP_ROOTS.extend((RemovableHandle, Optimizer, LRScheduler))
    handle, optimizer, scheduler = _STEP_ROOTS
    # each closure is the same tuple from one capture to the next while no subclass was added
    return handle, _C._subclass_closure(optimizer), _C._subclass_closure(scheduler)


_SWAPS = {}     # the wrapper tables and Tensor swaps, built once (the classes are found again each time)


class _RecordingModule(types.ModuleType):
    """The class a recorded namespace module has while a capture runs: its
    attribute lookup (in C, compile_swaps.pxi) answers a wrapped name with
    the recording wrapper while the module's dict still holds the original,
    and is the module's own lookup otherwise."""


_C._make_recording_module_type(_RecordingModule)


class _DictSwap:
    """One dict's swap: the wrappers to write in, the originals to write
    back, and the check (in C) that the originals are still what the dict
    holds. Used for the few Tensor names a lookup hook cannot answer (the
    properties, whose setters are recorded too) and for a namespace module
    whose class cannot be swapped."""
    __slots__ = ("target", "wrappers", "originals", "names", "values", "wrapper_values", "dict_or_type")

    def __init__(self, target, swaps):
        self.target = target            # a module, or Tensor
        self.wrappers = {n: w for n, (o, w) in swaps.items()}
        self.originals = {n: o for n, (o, w) in swaps.items()}
        self.names = tuple(self.originals)
        self.values = tuple(self.originals.values())
        self.wrapper_values = tuple(self.wrappers[n] for n in self.names)
        self.dict_or_type = target if isinstance(target, type) else vars(target)

    def current(self):
        return _C._dict_holds(self.dict_or_type, self.names, self.values)

    def swap_in(self):
        """Write the wrappers in, checking in the same pass that each name
        still holds its original (a name rebound since the swap was built,
        by a monkeypatch, must not be undone later); False, with nothing
        written, where one does not."""
        return _C._swap_in(self.dict_or_type, self.names, self.values, self.wrapper_values)

    def swap_out(self):
        _C._swap_out(self.dict_or_type, self.names, self.values)


class _Swaps:
    """What install() puts in place, built once: the wrapper tables the
    lookup hooks answer from (namespace module -> {name: (original,
    wrapper)}, and Tensor's methods likewise), the dict swaps (Tensor's
    properties, any namespace module that is not a plain module) and the
    operator dunders. `sizes` are the dicts' lengths when it was built: a
    name added since (a lazily installed function or method) rebuilds it."""

    def __init__(self):
        namespaces, methods, dunders = _build_namespace_swaps()
        self.modules, self.module_tables, dict_swaps = [], {}, []
        for module, swaps in namespaces:
            if type(module) is types.ModuleType:
                self.modules.append(module)
                self.module_tables[module] = swaps
            else:
                dict_swaps.append(_DictSwap(module, swaps))
        # a property's getter and setter are recorded through its swapped descriptor
        properties = set(TENSOR_PROPERTIES) | {"requires_grad"}
        self.method_table = {n: pair for n, pair in methods.items() if n not in properties}
        dict_swaps.append(_DictSwap(Tensor, {n: pair for n, pair in methods.items() if n in properties}))
        self.dict_swaps = dict_swaps
        self.dunders = _DictSwap(Tensor, dunders)
        self.sizes = _dict_sizes()


def _dict_sizes():
    # no import here (_namespace_modules imports a namespace not loaded yet): one loaded since
    # changes the sizes, and the swaps are built again with it
    return _C._namespace_sizes(NAMESPACES, sys.modules, Tensor)


def _swap_in_namespaces():
    """Put the dict swaps in (the swaps built last time while no name was
    added or rebound since; rebuilt otherwise); returns the _Swaps."""
    for attempt in range(2):
        built = _SWAPS.get("built")
        if built is None or built.sizes != _dict_sizes():
            built = _SWAPS["built"] = _Swaps()
        done = []
        if built.dunders.current():
            for swap in built.dict_swaps:
                if not swap.swap_in():
                    break
                done.append(swap)
            else:
                return built
        for swap in done:
            swap.swap_out()
        _SWAPS.pop("built", None)
    raise RuntimeError("cgrad.compile: cgrad's namespaces changed while a capture was being set up")


def _build_namespace_swaps():
    import cgrad._tensor_ops  # noqa: F401  (the lazily installed Tensor methods, so that they are wrapped too)
    from cgrad.func import _batched
    _batched._build_wrappers()        # vmap's originals are read from the unswapped namespaces
    _batched._build_tensor_methods()
    for name, target in list(cgrad._LAZY_ATTRIBUTES.items()):
        if target.startswith("cgrad._") and target != "cgrad._dynamo":
            getattr(cgrad, name)       # the lazily imported functions join cgrad's dict, to be wrapped
    namespaces = []
    for module_name, module in _namespace_modules():
        swaps = {n: (v, _recording(v, n)) for n, v in list(vars(module).items()) if _wrappable(n, v)}
        namespaces.append((module, swaps))
    methods, dunders = {}, {}
    for name, value in list(vars(Tensor).items()):
        kind = type(value).__name__
        if name in SLOT_DUNDERS:
            dunders[name] = (value, _recording_dunder(value, name))
        elif name in TENSOR_PROPERTIES:
            methods[name] = (value, _property(name, value))
        elif name == "requires_grad":
            methods[name] = (value, _setter_only(name, value))
        elif kind in ("cython_function_or_method", "method_descriptor", "function") and (
                not name.startswith("__") or name in ("__deepcopy__",)):
            methods[name] = (value, _recording(value, name))
    return namespaces, methods, dunders


_CLASS_SWAPS = {}   # "found": the step classes' closures found last time, "groups": their swaps


def _class_swaps():
    """The step classes' swaps, one (class, names, originals, wrappers) per
    class, built once per set of classes (the closures are the same tuples
    while no class was added): whether each class still holds its
    originals is checked as they are written in (_swap_classes_in)."""
    found = _step_classes()
    cached = _CLASS_SWAPS.get("found")
    if cached is not None and cached[1] is found[1] and cached[2] is found[2]:
        return _CLASS_SWAPS["groups"]
    groups = []
    handle = getattr(_C, "_HookHandle", None)
    classes = [handle] if handle is not None and "remove" in vars(handle) else []
    for cls in (found[0], *found[1], *found[2]):
        if cls not in classes:
            classes.append(cls)
    for cls in classes:
        names = tuple(name for name in ("step", "zero_grad", "remove") if name in vars(cls))
        if names:
            originals = tuple(vars(cls)[name] for name in names)
            groups.append((cls, names, originals, tuple(_recording(o, n) for o, n in zip(originals, names))))
    _CLASS_SWAPS.clear()
    _CLASS_SWAPS["found"] = found
    _CLASS_SWAPS["groups"] = groups = tuple(groups)
    return groups


def _swap_classes_in():
    """Write the step classes' wrappers into their dicts (no setattr per
    name: one pass over the classes, one cache invalidation per class, in
    C); the swaps are rebuilt where a class no longer holds an original (a
    method rebound since)."""
    for attempt in range(2):
        groups = _class_swaps()
        if _C._swap_all_in(groups):
            return groups
        _CLASS_SWAPS.clear()
    raise RuntimeError("cgrad.compile: an optimizer's methods changed while a capture was being set up")


def _swap_classes_out(groups):
    _C._swap_all_out(groups)


def install():
    with _install_lock:
        if _install["count"] == 0:
            classes = _swap_classes_in()
            try:
                built = _swap_in_namespaces()
            except BaseException:
                _swap_classes_out(classes)
                raise
            hooked = _C._hook_tensor_attributes(built.method_table, built.module_tables)
            for module in built.modules:
                module.__class__ = _RecordingModule
            slots = _C._patch_tensor_slots(built.dunders.wrappers)
            _install["state"] = (built, hooked, slots, classes)
        _install["count"] += 1


def uninstall():
    with _install_lock:
        _install["count"] -= 1
        if _install["count"] == 0:
            built, hooked, slots, classes = _install["state"]
            _install["state"] = None
            for module in built.modules:
                module.__class__ = types.ModuleType
            _C._unhook_tensor_attributes(hooked)
            for swap in built.dict_swaps:
                swap.swap_out()
            _C._restore_tensor_slots(slots)
            _swap_classes_out(classes)


# --- the tensors that existed before the call -----------------------------

def find_sources(fn, args, kwargs, limit=100000):
    """The tensors, modules and Python scalars a function can reach
    without calling anything: its closure, the globals its code names, the
    objects it is bound to, and the non-tensor arguments, followed through
    modules, optimizers, containers and plain objects. A tensor from here
    is a constant of the tape (read by identity at replay); the modules'
    training flags and the scalars are guarded."""
    from cgrad.nn.modules.module import Module
    tensors, modules, scalars, stepping = {}, [], [], []
    seen = set()
    pending = [fn, *args, *kwargs.values()]
    while pending and len(seen) < limit:
        obj = pending.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        tp = type(obj)
        # the containers and leaves a module's or an optimizer's state is made of, by exact type
        # first: the checks below cost a Python call each, per object
        if tp in _WALKED_CONTAINERS:
            pending.extend(obj.values() if tp is dict or tp is _OrderedDict else obj)
            continue
        if tp in _LEAF_TYPES:
            continue
        if isinstance(obj, Tensor):
            tensors[id(obj)] = obj
            continue
        if isinstance(obj, (types.ModuleType, type, str, bytes, int, float, complex, bool)) or obj is None:
            continue
        if isinstance(obj, types.FunctionType):
            if obj.__closure__:
                for i, cell in enumerate(obj.__closure__):
                    try:
                        value = cell.cell_contents
                    except ValueError:
                        continue
                    if _is_scalar(value):
                        scalars.append((cell, None, value))
                    else:
                        pending.append(value)
            for name in _code_names(obj.__code__):
                if name in obj.__globals__:
                    value = obj.__globals__[name]
                    if _is_scalar(value):
                        scalars.append((obj.__globals__, name, value))
                    else:
                        pending.append(value)
            pending.extend(obj.__defaults__ or ())
            continue
        if isinstance(obj, types.MethodType):
            pending.extend((obj.__func__, obj.__self__))
            continue
        if isinstance(obj, functools.partial):
            pending.extend((obj.func, *obj.args, *obj.keywords.values()))
            continue
        if isinstance(obj, Module):
            # a module has no __func__ (asking raises through Module.__getattr__): its attributes
            modules.append(obj)
            pending.extend(vars(obj).values())
            if tp.__call__ is not object.__call__ and isinstance(getattr(tp, "forward", None), types.FunctionType):
                pending.append(tp.forward)
            continue
        if "step" in getattr(obj, "__dict__", ()) and _is_stepper(obj):
            stepping.append(obj)
        if tp in (list, tuple, set, frozenset):
            pending.extend(obj)
        elif isinstance(obj, dict):
            pending.extend(obj.values())
        elif hasattr(obj, "__dict__") and not callable(getattr(obj, "__func__", None)):
            pending.extend(vars(obj).values())
            cls = type(obj)
            if cls.__call__ is not object.__call__ and isinstance(getattr(cls, "forward", None), types.FunctionType):
                pending.append(cls.forward)
    return tensors, modules, scalars, stepping


_OrderedDict = __import__("collections").OrderedDict
_WALKED_CONTAINERS = frozenset((list, tuple, set, frozenset, dict, _OrderedDict))
_LEAF_TYPES = frozenset((str, bytes, int, float, complex, bool, type(None), types.ModuleType, type,
                         types.BuiltinFunctionType))


def _is_stepper(obj):
    from cgrad.optim.lr_scheduler import LRScheduler
    from cgrad.optim.optimizer import Optimizer
    return isinstance(obj, (Optimizer, LRScheduler))


def patch_instance_steps(objects):
    """An optimizer whose step an LR scheduler wrapped holds the wrapper in
    its own dict (it calls the class's step it saw then): record that."""
    patched = []
    for obj in objects:
        original = vars(obj)["step"]
        if not hasattr(original, "_compile_original"):
            vars(obj)["step"] = _recording(original, "step")
            patched.append((obj, original))
    return patched


def unpatch_instance_steps(patched):
    for obj, original in patched:
        vars(obj)["step"] = original


def _is_scalar(value):
    return value is None or type(value) in (int, float, bool, str)


def _code_names(code):
    names, pending = [], [code]
    while pending:
        c = pending.pop()
        names.extend(c.co_names)
        pending.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names
