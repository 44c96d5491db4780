"""cgrad.jit.trace and trace_module: run a function or module once on
example inputs while recording the calls it makes into cgrad (the capture
cgrad.compile uses, cgrad/_dynamo/capture.py), then replay that tape on
new inputs.

As torch's tracer: Python control flow is frozen at the example's values
(a tensor read into Python, by bool(), float(), int(), .item(),
.tolist(), ..., gives a constant of the trace, with torch's TracerWarning),
iterating a tensor records unbind(0) with torch's warning, a traced
module's training-dependent behaviour is the one it was traced with, a
module's forward is traced through its __call__ (its forward hooks are in
the trace; the TopLevelTracedModule has none of its own), and outputs
follow torch's rule (tensors in tuples/lists; dicts only with
strict=False). The traced module shares the original's parameters and
buffers; its submodules (TracedModule) run their class's Python when
called on their own.
Where cgrad's tape differs from torch's graph:
- the tape holds sizes read with .size()/.shape as constants, so a call
  whose inputs differ from every traced one in shape, dtype or autograd
  state (or a leaf input that has gained a .grad) is traced again on that
  call, silently (torch's graph would replay with symbolic sizes): its
  Python branches are then frozen at that call's values (len(tensor)
  is read at that call too, without torch's "Using len" warning: the
  capture does not see len());
- a call whose result shape depends on the data (nonzero, boolean masks,
  unique, ...) or that cgrad's capture cannot record, and a call with a
  new signature once MAX_SIGNATURES are kept, runs the Python
  eagerly on every call for that input signature (exact results, branches
  not frozen); `_eager_reasons` on the runner says why.
The check of check_trace is torch's: the function is traced again on the
check inputs, the trace's outputs are compared with the Python
function's (TracerWarning on a mismatch, nondeterministic ops named), and
different recorded call sequences raise TracingCheckError."""
import warnings

from cgrad import _C
from cgrad._C import Tensor
from cgrad._dynamo import capture, eval_frame
from cgrad.jit._script import _HOOK_DICTS, INSIDE_SCRIPTED, Module, ScriptFunction, ScriptModule, _ModuleTree
from cgrad.jit._state import INSIDE_TRACE


class TracerWarning(Warning):
    @staticmethod
    def ignore_lib_warnings():
        warnings.filterwarnings("ignore", category=TracerWarning, module="cgrad.(?!jit)")


class TracingCheckError(Exception):
    def __init__(self, graph_diff_error, tensor_compare_error, extra_msg=None):
        self.message = "Tracing failed sanity checks!\n"
        if extra_msg is not None:
            self.message += extra_msg + "\n"
        if graph_diff_error is not None:
            self.message += "ERROR: Graphs differed across invocations!\n"
            self.message += _indent(graph_diff_error) + "\n"
        if tensor_compare_error is not None:
            self.message += ("ERROR: Tensor-valued Constant nodes differed in value across invocations. This "
                             "often indicates that the tracer has encountered untraceable code.\n")
            self.message += _indent(tensor_compare_error) + "\n"
        super().__init__(self.message)


def _indent(text):
    return "".join("\t" + line for line in text.splitlines(True))


_VALUE_READS = {"__bool__": "a Python boolean", "__float__": "a Python float", "__int__": "a Python integer",
                "__index__": "a Python integer", "item": "a Python number", "tolist": "a Python list",
                "numpy": "a NumPy array", "__array__": "a NumPy array", "__complex__": "a Python complex",
                "equal": None, "allclose": None, "is_nonzero": None}
_NONDETERMINISTIC = ("dropout", "rand", "bernoulli", "multinomial", "normal", "poisson", "uniform",
                     "exponential", "cauchy", "log_normal", "geometric", "random")


def _warn_constant(what):
    warnings.warn(f"Converting a tensor to {what} might cause the trace to be incorrect. We can't record the "
                  "data flow of Python values, so this value will be treated as a constant in the future. This "
                  "means that the trace might not generalize to other inputs!", TracerWarning, stacklevel=4)


class _TraceRecorder(capture.Recorder):
    """A capture that freezes values read out of tensors as constants, as
    torch's tracer does, where cgrad.compile's capture breaks the graph."""

    def __init__(self, sources, warn):
        super().__init__(False, sources)
        self.warn = warn

    def call(self, fn, name, args, kwargs, replay_fn=None, reflected=False):
        if self.broken is None and not self.depth:
            if name in _VALUE_READS:
                what = _VALUE_READS[name]
                if what is not None and self.warn:
                    _warn_constant(what)
                return fn(*args, **kwargs)
            if name == "__iter__" and isinstance(args[0], Tensor) and args[0].dim() > 0:
                if self.warn:
                    warnings.warn("Iterating over a tensor might cause the trace to be incorrect. Passing a tensor "
                                  "of different shape won't change the number of iterations executed (and might "
                                  "lead to errors or silently give incorrect results).", TracerWarning,
                                  stacklevel=3)
                unbind = getattr(Tensor.unbind, "_compile_original", Tensor.unbind)
                return iter(self.call(unbind, "unbind", (args[0], 0), {}))
        return super().call(fn, name, args, kwargs, replay_fn, reflected)


def _trace_call(fn, args, kwargs, tensors, warn):
    """Run fn once while recording; (its result, a replayable entry, or
    an eager one where the capture broke)."""
    sources, modules, scalars, stepping = capture.find_sources(fn, args, kwargs)
    rec = _TraceRecorder(sources, warn)
    for t in tensors:
        rec.add_input(t)
    entry = eval_frame._Entry((fn, eval_frame._identity_objects(args, kwargs)))
    capture.install()
    overridden = capture.patch_instance_steps(stepping)
    try:
        capture._local.recorder = rec
        try:
            with INSIDE_TRACE:
                result = fn(*args, **kwargs)
        finally:
            capture._local.recorder = None
        rec.finish()
        template = eval_frame._template(result, rec) if rec.broken is None else None
    finally:
        capture.unpatch_instance_steps(overridden)
        capture.uninstall()
    if rec.broken is not None:
        entry.break_reason = rec.broken
        return result, entry
    entry.eager = False
    entry.nslots = len(rec.objects)
    entry.output = template
    entry.constants = tuple(rec.constants.values())
    # no fusion: a trace replays its calls one by one whatever the guards of a fused program would say
    entry._tape = eval_frame._make_tape(rec, template)
    entry._ops = [op[1] for op in rec.ops]
    entry.changes_mode = "_set_grad_enabled" in entry._ops
    return result, entry


# input signatures one traced callable keeps tapes for; calls with further new ones run the Python
MAX_SIGNATURES = 64


class _TraceRunner:
    """A traced callable: one tape per input signature (see the design
    comment above), the first made from the example inputs."""

    def __init__(self, fn, name):
        self.fn = fn
        self.name = name
        self.entries = {}
        self.first = None
        self._eager_reasons = {}

    def trace(self, args, kwargs, warn=True):
        key, tensors = _C._call_key(self.fn, args, kwargs)
        result, entry = _trace_call(self.fn, args, kwargs, tensors, warn)
        self.entries[key] = entry
        if self.first is None:
            self.first = entry
        if entry.eager:
            self._eager_reasons[key] = entry.break_reason
        return result

    def __call__(self, *args, **kwargs):
        if capture.active_recorder() is not None:
            return self.fn(*args, **kwargs)     # inside another trace or capture: recorded there
        key, tensors = _C._call_key(self.fn, args, kwargs)
        entry = self.entries.get(key)
        if entry is None:
            if len(self.entries) >= MAX_SIGNATURES:
                return self.fn(*args, **kwargs)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TracerWarning)
                return self.trace(args, kwargs)
        if entry.eager:
            return self.fn(*args, **kwargs)
        return entry.replay(tensors)

    def recorded_ops(self):
        if self.first is None or self.first.eager:
            reason = self.first.break_reason if self.first is not None else "not traced"
            return [f"(runs the Python eagerly: {reason})"]
        return list(self.first._ops)


def _example_tuple(example_inputs):
    if isinstance(example_inputs, (Tensor, dict)):
        return (example_inputs,)
    return tuple(example_inputs)


def _deprecation():
    warnings.warn("`torch.jit.trace` is deprecated. Please switch to `torch.compile` or `torch.export`.",
                  DeprecationWarning, stacklevel=3)


def trace(func, example_inputs=None, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-05,
          strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
          example_kwarg_inputs=None, _store_inputs=True):
    """torch.jit.trace: a ScriptFunction (for a function) or a
    TopLevelTracedModule (for a module) replaying the example's calls."""
    if isinstance(func, (ScriptModule, ScriptFunction)):
        warnings.warn("The input to trace is already a ScriptModule, tracing it is a no-op. Returning the object "
                      "as is.", stacklevel=2)
        return func
    if example_kwarg_inputs is not None and not isinstance(example_kwarg_inputs, dict):
        raise AssertionError("example_kwarg_inputs should be a dict")
    if getattr(func, "__name__", None) == "forward" and isinstance(getattr(func, "__self__", None), Module):
        func = func.__self__         # torch traces a module's bound forward as the module
    if isinstance(func, Module):
        inputs = example_inputs if example_kwarg_inputs is None else example_kwarg_inputs
        return trace_module(func, {"forward": inputs}, None, check_trace,
                            _wrap_check_inputs(check_inputs), check_tolerance, strict, _force_outplace,
                            _module_class, example_inputs_is_kwarg=example_kwarg_inputs is not None,
                            _store_inputs=_store_inputs)
    if not callable(func) or isinstance(func, type):
        raise RuntimeError("Could not get name of python class object")
    _deprecation()
    args, kwargs = ((), dict(example_kwarg_inputs)) if example_kwarg_inputs is not None \
        else (_example_tuple(example_inputs), {})
    runner = _TraceRunner(func, getattr(func, "__name__", type(func).__name__))
    _check_output(runner.trace(args, kwargs), strict)
    traced = ScriptFunction(func, runner.name, runner)
    if check_trace:
        _check(func, traced, runner, check_inputs if check_inputs is not None
               else [example_kwarg_inputs if example_kwarg_inputs is not None else args],
               check_tolerance, example_kwarg_inputs is not None)
    return traced


def _wrap_check_inputs(check_inputs):
    if check_inputs is None:
        return None
    return [{"forward": c} for c in check_inputs]


def _clone_inputs(value):
    if isinstance(value, Tensor):
        cloned = value.detach().clone().requires_grad_(value.requires_grad)
        return cloned
    if type(value) in (tuple, list):
        return type(value)(_clone_inputs(v) for v in value)
    if type(value) is dict:
        return {k: _clone_inputs(v) for k, v in value.items()}
    return value


def _tensor_outputs(result):
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)):
        return [r for r in result if isinstance(r, Tensor)]
    return []


def _call_with(fn, inputs, as_kwargs):
    if as_kwargs:
        return fn(**_clone_inputs(inputs))
    return fn(*_clone_inputs(_example_tuple(inputs)))


def _check(func, traced, runner, check_inputs, check_tolerance, as_kwargs):
    from cgrad.testing import assert_close
    for inputs in check_inputs:
        _deprecation()      # torch's check traces again through torch.jit.trace, which warns again
        check_runner = _TraceRunner(runner.fn, runner.name)
        if as_kwargs:
            check_runner.trace((), _clone_inputs(dict(inputs)))
        else:
            check_runner.trace(_clone_inputs(_example_tuple(inputs)), {})
        traced_outs = _tensor_outputs(_call_with(traced, inputs, as_kwargs))
        fn_outs = _tensor_outputs(_call_with(func, inputs, as_kwargs))
        warned = [False]

        def compare(original, reference, match_what):
            all_ok = True
            for i, (orig, ref) in enumerate(zip(original, reference)):
                try:
                    assert_close(orig.double(), ref.double(), rtol=check_tolerance, atol=1e-5 if
                                 orig.dtype.is_floating_point else 0, equal_nan=True)
                except AssertionError as e:
                    if not warned[0]:
                        warned[0] = True
                        nondeterministic = [op for op in runner.recorded_ops()
                                            if any(word in op for word in _NONDETERMINISTIC)]
                        if nondeterministic:
                            warnings.warn("Trace had nondeterministic nodes. Did you forget call .eval() on your "
                                          "model? Nodes:\n" + "\n".join("\t" + op for op in nondeterministic[:20]) +
                                          "\nThis may cause errors in trace checking. To disable trace checking,"
                                          " pass check_trace=False to torch.jit.trace()", TracerWarning,
                                          stacklevel=5)
                    warnings.warn(f"Output nr {i + 1}. of the traced function does not match the corresponding "
                                  f"output of the {match_what}. Detailed error:\n{e}", TracerWarning, stacklevel=5)
                    all_ok = False
            return all_ok

        if compare(traced_outs, fn_outs, "Python function"):
            compare(traced_outs, _tensor_outputs(_call_with(check_runner, inputs, as_kwargs)), "repeated trace")
        ours, theirs = runner.recorded_ops(), check_runner.recorded_ops()
        if ours != theirs:
            import difflib
            diff = "".join(difflib.ndiff([op + "\n" for op in ours], [op + "\n" for op in theirs]))
            raise TracingCheckError("Graph diff:\n" + _indent(diff) + "\n", None)


# --- modules -----------------------------------------------------------------------
class TracedModule(_ModuleTree):
    """A traced module's node: a submodule runs its class's Python forward;
    the top level (TopLevelTracedModule) replays the traced calls."""

    def _get_name(self):
        return self.original_name

    def forward(self, *args, **kwargs):
        runner = self.__dict__.get("_trace_runners", {}).get("forward")
        if runner is None:
            return _ModuleTree.forward(self, *args, **kwargs)
        with INSIDE_SCRIPTED:
            return runner(*args, **kwargs)

    @property
    def code(self):
        return _ModuleTree.code.fget(self)

    @property
    def graph(self):
        from cgrad.jit._script import _graph_text
        return _graph_text(f"{self.original_name}.forward", self.__dict__.get("_trace_runners", {}).get("forward"))

    def _frozen_copy(self):
        frozen = type(self)._from_module(self, {}, frozen=True, child_cls=TracedModule)
        _attach_runners(frozen, self.__dict__.get("_trace_inputs", {}), warn=False)
        return frozen


class TopLevelTracedModule(TracedModule):
    pass


def _method_function(node, name):
    fn = node._source_function(name)
    if fn is None:
        raise AttributeError(f"'{node.original_name}' object has no attribute '{name}'")

    def run(*args, **kwargs):
        return fn(node, *args, **kwargs)

    run.__name__ = name
    return run


def _check_output(result, strict):
    """torch's tracer's rule for what a traced call may return."""
    pending = [result]
    while pending:
        obj = pending.pop()
        if isinstance(obj, Tensor):
            continue
        if isinstance(obj, (tuple, list)):
            pending.extend(obj)
        elif isinstance(obj, dict):
            if strict:
                raise RuntimeError("Encountering a dict at the output of the tracer might cause the trace to be "
                                   "incorrect, this is only valid if the container structure does not change based "
                                   "on the module's inputs. Consider using a constant container instead (e.g. for "
                                   "`list`, use a `tuple` instead. for `dict`, use a `NamedTuple` instead). If you "
                                   "absolutely need this and know the side effects, pass strict=False to trace() to "
                                   "allow this behavior.")
            pending.extend(obj.values())
        else:
            raise RuntimeError("Only tensors, lists, tuples of tensors, or dictionary of tensors can be output from "
                               "traced functions")


def _attach_runners(node, inputs, warn, as_kwargs=False, strict=None, original=None):
    """Trace each named method; with the original module given, its
    forward is traced through its __call__ (its hooks are recorded into
    the trace, as torch's tracer records them) and its other methods as
    its own, all reading the parameters the tree shares."""
    runners = {}
    node.__dict__["_trace_runners"] = runners
    node.__dict__["_trace_inputs"] = dict(inputs)
    for name, example in inputs.items():
        if original is None:
            fn = _method_function(node, name)
        else:
            fn = original if name == "forward" else getattr(original, name)
        runner = _TraceRunner(fn, name)
        if as_kwargs:
            result = runner.trace((), dict(example), warn)
        else:
            result = runner.trace(_example_tuple(example), {}, warn)
        if strict is not None:
            _check_output(result, strict)
        runners[name] = runner
        if name != "forward":
            node.__dict__[name] = _bound_runner(runner)
    return runners


def _bound_runner(runner):
    def call(*args, **kwargs):
        with INSIDE_SCRIPTED:
            return runner(*args, **kwargs)
    call.__name__ = runner.name
    return call


def trace_module(mod, inputs, optimize=None, check_trace=True, check_inputs=None, check_tolerance=1e-05,
                 strict=True, _force_outplace=False, _module_class=None, _compilation_unit=None,
                 example_inputs_is_kwarg=False, _store_inputs=True):
    """torch.jit.trace_module: trace each named method of mod on its
    example inputs; a TopLevelTracedModule sharing mod's parameters."""
    if not isinstance(mod, Module):
        raise AttributeError("expected torch.nn.Module as the first argument")
    if not isinstance(inputs, dict):
        raise AttributeError("expected a dictionary of (method_name, input) pairs")
    _deprecation()
    top = TopLevelTracedModule._from_module(mod, {}, child_cls=TracedModule)
    for hooks in _HOOK_DICTS:
        getattr(top, hooks).clear()     # the top's hooks are inside its trace
    _attach_runners(top, inputs, warn=True, as_kwargs=example_inputs_is_kwarg, strict=strict, original=mod)
    if check_trace:
        for name, runner in top.__dict__["_trace_runners"].items():
            traced = top.forward if name == "forward" else top.__dict__[name]
            checks = [c[name] for c in check_inputs] if check_inputs is not None else [inputs[name]]
            _check(runner.fn, traced, runner, checks, check_tolerance, example_inputs_is_kwarg)
    return top


def is_tracing():
    """True while torch.jit.trace runs the traced code on this thread."""
    from cgrad.jit._state import tracing
    return tracing()


TracerWarning.ignore_lib_warnings()
