"""cgrad.compile: the compiled function, its cache of captured tapes and
their guards, and OptimizedModule.

A call computes its guard key: the grad and inference modes, the function
object, and each argument (a tensor's type, dtype, shape, strides, offset,
autograd state and whether it has a .grad; a Python scalar's type and
value; any other object's identity; containers' structure). Each cache
entry for that key also checks what the tape read besides its arguments:
the closed-over tensors' metadata, the training flags of the modules the
function reaches, and the Python scalars in its closure and globals. The
first call for a key captures (capture.py) and later calls replay the tape
(_C._replay_tape), or, where fusion.py could plan the whole tape as one
pointwise program (a chain ending in sum().backward(), or a forward chain
returning tensors that need no graph), run that program (_C._run_fused),
with the tape kept for the calls the program must not take (a hook was
registered since, anomaly mode, ...). Caches are per code object, as torch's are, with at
most config.recompile_limit entries; past that a new key runs eagerly,
with torch's warning. A capture that hit a graph break leaves an entry
that runs the function eagerly for that key (or raises Unsupported under
fullgraph=True). A capture only records: its tape is built and fusion
planned at the first replay (holding the capture's tensors until then,
when they are at most config.deferred_capture_bytes; at once otherwise),
so that the first call costs little more than an eager one."""
import functools
import threading
import time
import warnings

from cgrad import _C
from cgrad._C import Tensor
from cgrad._dynamo import capture, config, decorators
from cgrad._dynamo.exc import InvalidBackend
from cgrad.func._levels import active_levels
from cgrad.nn.modules.module import Module

# code object -> {"entries": {key: [entry, ...]}, "count": n, "warned": bool}
_CACHES = {}
_COUNTERS = {"captures": 0, "graph_breaks": 0, "replays": 0, "eager_calls": 0}

BACKENDS = ("inductor", "eager", "aot_eager")
MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def reset():
    """Forget every captured tape (torch.compiler.reset)."""
    _CACHES.clear()
    for k in _COUNTERS:
        _COUNTERS[k] = 0


def list_backends(exclude_tags=("debug", "experimental")):
    return ["inductor"]


def _key_of(fn, args, kwargs):
    """(the call's guard key, its tensors in argument order): see
    _C._call_key."""
    return _C._call_key(fn, args, kwargs)


def _identity_objects(args, kwargs):
    """The arguments a guard key names by identity (not tensors, scalars
    or containers): held by the entry so that their ids stay theirs. The
    tensors are not held: a cache entry does not keep a batch alive."""
    held, pending = [], [args, kwargs]
    while pending:
        obj = pending.pop()
        if isinstance(obj, Tensor) or obj is None or type(obj) in (int, float, bool, str):
            continue
        if isinstance(obj, (tuple, list)):
            pending.extend(obj)
        elif type(obj) is dict:
            pending.extend(obj.values())
        else:
            held.append(obj)
    return held


class _Entry:
    """One capture's result: a tape to replay, or eager (a graph break)."""

    def __init__(self, held):
        self.held = held            # the function and arguments whose identities the key holds
        self.eager = True           # a graph break: the key's calls run the function eagerly
        self._tape = None
        self.nslots = 0
        self.output = None
        self.constants = ()
        self.constant_keys = b""
        self.modules = ()
        self.training = ()
        self.scalars = ()
        self.break_reason = None
        self._ops = []              # names, for explain()
        self.changes_mode = False
        self._fused = None          # a _C._FusedProgram replaying the whole call (fusion.py), or None
        self._fusion_note = None    # why the tape was not fused, for explain()
        self._fused_results = ()    # the output slots of the program's fresh result tensors
        self._tape_source = None    # (recorded calls, output template) until a fused entry's tape is made
        # (recorder, template, the call's tensors, their guard state at capture) until the tape is
        # built: the capture only records, the first replay (or any look at the tape) builds it
        self._pending = None

    def _finish(self):
        """Build the tape, and plan fusion, from the recorder the capture
        left (deferred so that a capture costs little more than the call).
        Under a lock: two threads' first replays build it once, and neither
        replays a half-built entry."""
        with _FINISH_LOCK:
            if self._pending is not None:
                self._build(*self._pending)
                self._pending = None

    def _build(self, rec, template, tensors, tensors_key):
        self._ops = [op[1] for op in rec.ops]
        self.changes_mode = "_set_grad_enabled" in self._ops
        if config.fuse_pointwise:
            if _planner_key(tensors) != tensors_key:
                # the planner reads the capture's tensors: one changed since (requires_grad_, .data = ...)
                self._fusion_note = "an input's metadata changed between the capture and the first replay"
            else:
                from cgrad._dynamo import fusion
                self._fused, self._fused_results, self._fusion_note = fusion.plan(
                    rec, template, tensors, self.constants, rec.grad_was_none)
        if self._fused is None:
            self._tape = _make_tape(rec, template)
        else:
            # the op-by-op tape is needed only by a call the program declines (a hook, anomaly
            # mode, ...): made then, from the recorded calls alone (not the capture's tensors)
            self._tape_source = (rec.ops, template)

    def _op_tape(self):
        """The op-by-op tape, made on first use where a fused program
        replays the call."""
        if self._tape is None:
            with _FINISH_LOCK:
                if self._tape is None:
                    ops, template = self._tape_source
                    self._tape = _make_tape(ops, template)
                    self._tape_source = None
        return self._tape

    @property
    def tape(self):
        if self.eager:
            return None
        if self._pending is not None:
            self._finish()
        return self._op_tape()

    def _built(self):
        """False for a graph break's entry; otherwise the entry, built."""
        if self.eager:
            return False
        if self._pending is not None:
            self._finish()
        return True

    @property
    def ops(self):
        return self._ops if self._built() else []

    @property
    def fused(self):
        return self._fused if self._built() else None

    @property
    def fusion_note(self):
        return self._fusion_note if self._built() else None

    @property
    def fused_results(self):
        return self._fused_results if self._built() else ()

    def matches(self):
        if self.constants and _C._tensors_key(self.constants) != self.constant_keys:
            return False
        for m, flag in zip(self.modules, self.training):
            if m.training is not flag:
                return False
        for holder, name, value in self.scalars:
            current = holder.get(name, _MISSING) if name is not None else _cell_value(holder)
            if type(current) is not type(value) or current != value:
                return False
        return True

    def replay(self, tensors):
        if self._pending is not None:
            self._finish()
        if self._fused is not None:
            results = _C._run_fused(self._fused, tensors + list(self.constants) if self.constants else tensors)
            if results is not None:
                if not results:
                    return _build(self.output, ())      # the call returns no tensor
                slots = [None] * self.nslots
                for slot, t in zip(self._fused_results, results):
                    slots[slot] = t
                return _build(self.output, slots)
        tape = self._tape if self._tape is not None else self._op_tape()
        slots = tensors + [None] * (self.nslots - len(tensors))
        if not self.changes_mode:
            _C._replay_tape(tape, slots)
        else:
            mode = _C.is_grad_enabled()
            try:
                _C._replay_tape(tape, slots)
            except BaseException:
                _C._set_grad_enabled(mode)      # as the `with no_grad()` that raised in eager code would
                raise
        return _build(self.output, slots)


_MISSING = object()
_FINISH_LOCK = threading.Lock()


def _planner_key(tensors):
    """What fusion's planner reads of the call's tensors (their .grad
    aside: the capture's own backward sets it, and the planner reads its
    state at entry from the recorder)."""
    return [(type(t), t.dtype, tuple(t.shape), t.stride(), t.requires_grad, t.grad_fn is None, t.is_inference())
            for t in tensors]


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return _MISSING


def _template(obj, rec):
    """The output's structure with tracked objects as slot numbers."""
    slot = None if _plain(obj) else rec.slot_for(obj)
    if slot is not None:
        return ("slot", slot)
    if isinstance(obj, Tensor):
        if id(obj) not in rec.sources:
            rec.graph_break("the function returned a tensor made outside the recorded operations")
        return ("const", obj)
    t = type(obj)
    if t is tuple or t is list:
        return ("seq", t, [_template(o, rec) for o in obj])
    if t is dict:
        return ("dict", [(k, _template(v, rec)) for k, v in obj.items()])
    if isinstance(obj, tuple):
        return ("named", t, [_template(o, rec) for o in obj])
    return ("const", obj)


def _plain(obj):
    return obj is None or type(obj) in (int, float, bool, str)


def _build(template, slots):
    kind = template[0]
    if kind == "slot":
        return slots[template[1]]
    if kind == "const":
        return template[1]
    if kind == "seq":
        items = [_build(t, slots) for t in template[2]]
        return items if template[1] is list else tuple(items)
    if kind == "dict":
        return {k: _build(t, slots) for k, t in template[1]}
    items = [_build(t, slots) for t in template[2]]
    cls = template[1]
    return cls._make(items) if hasattr(cls, "_make") else cls(items)


def _template_leaves(template):
    """The ("slot", n) and ("const", obj) leaves of an output template, in
    the order _build fills them."""
    kind = template[0]
    if kind in ("slot", "const"):
        yield template
    elif kind == "dict":
        for _, t in template[1]:
            yield from _template_leaves(t)
    else:
        for t in template[2]:
            yield from _template_leaves(t)


def _make_tape(recorded, output_template):
    """The recorded calls (a Recorder, or its list of calls) as
    _C._TapeOp, each freeing the slots it is the last user of."""
    from cgrad._dynamo.capture import _Nested, _Ref
    ops = recorded if type(recorded) is list else recorded.ops
    keep = {leaf[1] for leaf in _template_leaves(output_template) if leaf[0] == "slot"}
    last_use = {}
    for i, (fn, name, encoded, kwnames, nargs, out, unpack) in enumerate(ops):
        for value in encoded:
            if isinstance(value, _Ref):
                last_use[value.slot] = i
            elif isinstance(value, _Nested):
                for item in value.items:
                    if isinstance(item, _Ref):
                        last_use[item.slot] = i
        for s in out:
            last_use.setdefault(s, i)
    frees = {}
    for s, i in last_use.items():
        if s not in keep:
            frees.setdefault(i, []).append(s)
    tape = []
    for i, (fn, name, encoded, kwnames, nargs, out, unpack) in enumerate(ops):
        values, slots, nested = [], [], []
        for value in encoded:
            if isinstance(value, _Ref):
                values.append(None)
                slots.append(value.slot)
            elif isinstance(value, _Nested):
                values.append(None)
                slots.append(-2)
                nested.append((value.container, tuple(
                    (item.slot, None) if isinstance(item, _Ref) else (-1, item) for item in value.items)))
            else:
                values.append(value)
                slots.append(-1)
        tape.append(_C._TapeOp(fn, tuple(values), tuple(slots), kwnames, nargs, tuple(nested), tuple(out),
                               unpack, tuple(frees.get(i, ())), name))
    return tape


class CompiledFunction:
    """What cgrad.compile returns for a function."""

    def __init__(self, fn, fullgraph, recompile_limit, isolate, name):
        self._orig_fn = fn
        self._fullgraph = bool(fullgraph)
        self._limit = recompile_limit
        # torch keeps one cache per code object; fullgraph is part of it here, since an entry that
        # fell back to eager must still raise under fullgraph=True
        self._cache_key = object() if isolate else (getattr(fn, "__code__", None) or fn, self._fullgraph)
        self._name = name
        functools.update_wrapper(self, fn, updated=())

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return functools.partial(self.__call__, obj)

    def _cache(self):
        cache = _CACHES.get(self._cache_key)
        if cache is None:
            cache = _CACHES[self._cache_key] = {"entries": {}, "count": 0, "warned": False}
        return cache

    def __call__(self, *args, **kwargs):
        fn = self._orig_fn
        if getattr(capture._local, "recorder", None) is not None or active_levels():
            return fn(*args, **kwargs)      # inlined into the capture around it, or under a transform
        stance = decorators._stance["name"]
        if stance == "force_eager" or getattr(fn, "_cgrad_compile_disabled", False):
            return fn(*args, **kwargs)
        key, tensors = _key_of(fn, args, kwargs)
        cache = self._cache()
        entries = cache["entries"].get(key)
        if entries:
            for entry in entries:
                if entry.matches():
                    if entry.eager:
                        _COUNTERS["eager_calls"] += 1
                        return fn(*args, **kwargs)
                    _COUNTERS["replays"] += 1
                    return entry.replay(tensors)
        if stance == "eager_on_recompile":
            _COUNTERS["eager_calls"] += 1
            return fn(*args, **kwargs)
        if stance == "fail_on_recompile":
            code = getattr(fn, "__code__", None) or getattr(getattr(fn, "forward", None), "__code__", None)
            where = (f"filename: '{code.co_filename}', function name: '{code.co_name}', line number: "
                     f"{code.co_firstlineno}" if code is not None else f"function: {fn!r}")
            raise RuntimeError(f"Detected recompile when torch.compile stance is 'fail_on_recompile'. {where}")
        limit = self._limit if self._limit is not None else config.recompile_limit
        if cache["count"] >= limit:
            if not cache["warned"]:
                cache["warned"] = True
                warnings.warn(f"cgrad._dynamo hit config.recompile_limit ({limit})\n   function: "
                              f"{getattr(fn, '__qualname__', fn)!r}\n   last reason: a call matched none of "
                              f"the {cache['count']} captured guard sets; it and later new ones run eagerly.",
                              stacklevel=2)
            _COUNTERS["eager_calls"] += 1
            return fn(*args, **kwargs)
        result, entry = _capture(fn, args, kwargs, tensors, self._fullgraph)
        cache["entries"].setdefault(key, []).append(entry)
        cache["count"] += 1
        return result


def _capture(fn, args, kwargs, tensors, fullgraph, explain=None):
    """Run fn eagerly while recording; returns (its result, the entry)."""
    sources, modules, scalars, sources_objects = capture.find_sources(fn, args, kwargs)
    rec = capture.Recorder(fullgraph, sources)
    for t in tensors:
        rec.add_input(t)
    entry = _Entry((fn, _identity_objects(args, kwargs)))
    entry.modules = tuple(modules)
    entry.training = tuple(m.training for m in modules)
    entry.scalars = tuple(scalars)
    started = time.perf_counter()
    capture.install()
    _COUNTERS["captures"] += 1
    overridden = capture.patch_instance_steps(sources_objects)
    try:
        capture._local.recorder = rec
        try:
            result = fn(*args, **kwargs)
        finally:
            capture._local.recorder = None
        rec.finish()
        template = _template(result, rec) if rec.broken is None else None
    finally:
        capture.unpatch_instance_steps(overridden)
        capture.uninstall()
    entry.capture_time = time.perf_counter() - started
    entry.recorder = rec if explain else None
    if rec.broken is not None:
        _COUNTERS["graph_breaks"] += 1
        entry.break_reason = rec.broken
        entry.break_stack = rec.break_stack
        return result, entry
    entry.eager = False
    entry.nslots = len(rec.objects)
    entry.output = template
    entry.constants = tuple(rec.constants.values())
    entry.constant_keys = b"".join(rec.source_keys[id(t)] for t in entry.constants)
    entry._pending = (rec, template, tensors, _planner_key(tensors))
    if explain or rec.held_bytes > config.deferred_capture_bytes:
        entry._finish()     # the recorder's tensors are not kept alive until the next call
    return result, entry


def compile(model=None, *, fullgraph=False, dynamic=None, backend=None, mode=None, options=None, name=None,
            disable=False, recompile_limit=None, isolate_recompiles=False, shapes_spec=None):
    """Capture fn's calls into cgrad once per guard set and replay them
    (torch.compile's signature; see cgrad/_dynamo/eval_frame.py)."""
    if model is None:
        def decorator(model):
            if model is None:
                raise RuntimeError("Model can't be None")
            return compile(model, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                           options=options, name=name, disable=disable, recompile_limit=recompile_limit,
                           isolate_recompiles=isolate_recompiles, shapes_spec=shapes_spec)
        return decorator
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(MODES)}")
    if options:
        if not isinstance(options, dict):
            raise AttributeError(f"'{type(options).__name__}' object has no attribute 'items'")
        raise RuntimeError(f"Unexpected optimization option {next(iter(options))}, known options are []")
    if backend is not None and not (isinstance(backend, str) and backend in BACKENDS):
        if callable(backend):
            raise InvalidBackend(getattr(backend, "__name__", repr(backend)) +
                                 " (cgrad.compile replays captured tapes; it has no FX graphs for a callable "
                                 "backend)")
        raise InvalidBackend(backend)
    if dynamic is not None and not isinstance(dynamic, bool):
        raise AssertionError(f"Expected enable to be a bool, got {type(dynamic)}")
    if dynamic:
        raise RuntimeError("cgrad.compile specialises every capture on its input shapes: dynamic=True is not "
                           "supported (use dynamic=None or False; a new shape captures again)")
    if shapes_spec is not None:
        raise RuntimeError("cgrad.compile does not support shapes_spec (it has no dynamic shapes)")
    if recompile_limit is not None and (not isinstance(recompile_limit, int) or recompile_limit < 0):
        raise ValueError(f"recompile_limit must be a non-negative int, got {recompile_limit!r}")
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, CompiledFunction(model, fullgraph, recompile_limit, isolate_recompiles,
                                                       name))
    return CompiledFunction(model, fullgraph, recompile_limit, isolate_recompiles, name)


class OptimizedModule(Module):
    """A compiled module (torch's OptimizedModule): calling it runs the
    original module's __call__ through the compiled path; its parameters,
    buffers and state_dict are the original's (under `_orig_mod.`)."""

    def __init__(self, mod, compiled):
        super().__init__()
        self._orig_mod = mod
        object.__setattr__(self, "_compiled_call", compiled)

    def __call__(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def forward(self, *args, **kwargs):
        return self._compiled_call(*args, **kwargs)

    def __getattr__(self, name):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self._modules["_orig_mod"], name)
