"""The op recording behind cgrad.profiler: while a profile records, every
function of cgrad, cgrad.nn.functional, cgrad.linalg and cgrad.special,
every Tensor method and operator, and each optimizer's step/zero_grad is
swapped for a timing wrapper (as cgrad.compile swaps its recording
wrappers in, cgrad/_dynamo/capture.py, through the same one-pass swaps of
src/cgrad/compile/compile_swaps.pxi), and swapped back when the last
recording profile stops: with no profile recording, cgrad.add, Tensor.add
and Tensor.__add__ are the original callables and cost nothing more.

A wrapper times its call with perf_counter_ns and appends one record: the
event's name as PyTorch's profiler names it ("aten::" + the op's PyTorch
name; nn.functional calls as their aten op; operators as the op they run),
the record that was open on the thread when it started (its parent: calls
made inside a composite op, or inside a record_function region, nest under
it), the input shapes, the bytes of the new tensors it returned and the
Python stack, each when asked.

The backward pass: the C engine runs the graph without calling Python, so
a backward call (Tensor.backward, autograd.backward, autograd.grad) walks
the graph it will run first (iteratively) and puts a pre-hook and a hook
on each node for the duration of that call, which open and close
"autograd::engine::evaluate_function: <Node>" and its "<Node>" child, as
PyTorch records them. That is two Python calls per node, only while a
profile records (bench/profiler_overhead.py measures it)."""
import sys
import threading
from time import perf_counter_ns

import cgrad
from cgrad import _C
from cgrad._C import Tensor

_local = threading.local()
_install_lock = threading.Lock()
_state = {"count": 0, "installed": None, "swaps": None}
_active = []          # the recording collectors (a list: read without a lock by the wrappers)

# F.* names whose aten op is named differently
_FUNCTIONAL_ATEN = {
    "cross_entropy": "cross_entropy_loss", "nll_loss": "nll_loss_nd", "conv1d": "conv1d", "conv2d": "conv2d",
    "softmin": "softmax", "interpolate": "upsample_nearest2d", "normalize": "div",
    "max_pool2d": "max_pool2d", "adaptive_avg_pool2d": "adaptive_avg_pool2d", "one_hot": "one_hot",
    "kl_div": "kl_div", "poisson_nll_loss": "poisson_nll_loss", "hardtanh": "hardtanh",
}
_DUNDER_ATEN = {
    "add": "add", "radd": "add", "sub": "sub", "rsub": "rsub", "mul": "mul", "rmul": "mul", "truediv": "div",
    "rtruediv": "div", "floordiv": "floor_divide", "rfloordiv": "floor_divide", "mod": "remainder",
    "rmod": "remainder", "pow": "pow", "rpow": "pow", "matmul": "matmul", "rmatmul": "matmul",
    "and": "bitwise_and", "rand": "bitwise_and", "or": "bitwise_or", "ror": "bitwise_or",
    "xor": "bitwise_xor", "rxor": "bitwise_xor", "neg": "neg", "pos": "positive", "abs": "abs",
    "invert": "bitwise_not", "iadd": "add_", "isub": "sub_", "imul": "mul_", "itruediv": "div_",
    "ifloordiv": "floor_divide_", "imod": "remainder_", "iand": "bitwise_and_", "ior": "bitwise_or_",
    "ixor": "bitwise_xor_", "lt": "lt", "le": "le", "eq": "eq", "ne": "ne", "gt": "gt", "ge": "ge",
    "bool": "is_nonzero", "int": "item", "float": "item", "index": "item", "iter": "unbind",
}
# calls that are not ops in PyTorch's profiler (metadata, state, I/O, modes)
_NOT_OPS = set("""numpy tolist __array__ __dlpack__ __dlpack_device__ register_hook
register_post_accumulate_grad_hook retain_grad __deepcopy__ storage untyped_storage data_ptr type
manual_seed seed initial_seed save load compile vmap typename from_numpy cond while_loop
requires_grad_ share_memory_ pin_memory backward""".split())
_BACKWARD_CALLS = {"backward", "grad"}


def _skipped(name):
    from cgrad._dynamo.capture import QUERIES
    return (name in QUERIES or name in _NOT_OPS or name.startswith(("set_", "get_", "is_", "use_"))
            or name.endswith("_enabled"))


def aten_name(namespace, name):
    """PyTorch's profiler name for the op `name` of a cgrad namespace."""
    if namespace == "cgrad.nn.functional":
        return "aten::" + _FUNCTIONAL_ATEN.get(name, name)
    if namespace == "cgrad.linalg":
        return "aten::linalg_" + name
    if namespace == "cgrad.special":
        return "aten::special_" + name
    return "aten::" + name


def _index_name(args):
    index = args[1] if len(args) > 1 else None
    items = index if type(index) is tuple else (index,)
    if any(isinstance(i, (Tensor, list)) for i in items):
        return "aten::index"
    if any(type(i) is int for i in items) and not any(type(i) is slice for i in items):
        return "aten::select"
    return "aten::slice"


def _setitem_name(args):
    return "aten::copy_" if len(args) > 2 and isinstance(args[2], Tensor) else "aten::fill_"


# --- the records -----------------------------------------------------------

class Collector:
    """The records of one profile while it records. A record is a list:
    [name, start_ns, end_ns, thread, parent index, input shapes, bytes
    allocated, stack, is a user annotation]."""

    def __init__(self, record_shapes=False, profile_memory=False, with_stack=False):
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.records = []
        self.open = {}          # thread id -> stack of open record indices

    def begin(self, name, args=(), kwargs=None, annotation=False):
        thread = threading.get_ident()
        stack = self.open.get(thread)
        if stack is None:
            stack = self.open[thread] = []
        elif stack and not annotation and self.records[stack[-1]][0] == name:
            return -1       # F.relu calling cgrad.relu, Tensor.add calling cgrad.add: one op, one event
        shapes = None
        if self.record_shapes:
            shapes = [list(a.shape) if isinstance(a, Tensor) else [] for a in args]
            if kwargs:
                shapes += [list(v.shape) if isinstance(v, Tensor) else [] for v in kwargs.values()]
        frames = _python_stack() if self.with_stack else None
        index = len(self.records)
        self.records.append([name, 0, 0, thread, stack[-1] if stack else -1, shapes, 0, frames, annotation])
        stack.append(index)
        self.records[index][1] = perf_counter_ns()
        return index

    def end(self, index, result=None, args=()):
        end = perf_counter_ns()
        if index < 0:
            return
        record = self.records[index]
        record[2] = end
        stack = self.open.get(record[3])
        if stack:
            while stack and stack[-1] != index:    # records left open by an exception inside
                self.records[stack.pop()][2] = end
            if stack:
                stack.pop()
        if self.profile_memory and result is not None:
            record[6] = _new_bytes(result, args)


def _python_stack():
    """The Python frames of the caller, innermost first, outside cgrad."""
    import os
    root = os.path.dirname(os.path.abspath(cgrad.__file__))
    frame = sys._getframe(1)
    entries = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(root):
            entries.append(f"{filename}({frame.f_lineno}): {frame.f_code.co_name}")
        frame = frame.f_back
    return entries


def _new_bytes(result, args):
    """The bytes of the tensors in result whose storage is none of the
    inputs' (what the call allocated and returned)."""
    outputs = result if type(result) in (tuple, list) else (result,)
    outputs = [t for t in outputs if isinstance(t, Tensor)]
    if not outputs:
        return 0
    inputs = {_C._storage_key(a) for a in args if isinstance(a, Tensor)}
    seen = set()
    total = 0
    for t in outputs:
        key = _C._storage_key(t)
        if key not in inputs and key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


# --- the wrappers ------------------------------------------------------------

def _timed(original, name, name_of_call=None):
    def wrapper(*args, **kwargs):
        if not _active:
            return original(*args, **kwargs)
        collector = _active[-1]
        index = collector.begin(name if name_of_call is None else name_of_call(args), args, kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException:
            collector.end(index)
            raise
        collector.end(index, result, args)
        return result
    wrapper.__name__ = getattr(original, "__name__", name)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper._profiler_original = original
    return wrapper


def _graph_nodes(roots):
    """The nodes a backward from roots runs, found by an explicit walk."""
    nodes, seen = [], set()
    pending = [t.grad_fn for t in roots if isinstance(t, Tensor) and t.grad_fn is not None]
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        nodes.append(node)
        pending.extend(n for n, _ in node.next_functions)
    return nodes


def _timed_backward(original, roots_of):
    def wrapper(*args, **kwargs):
        if not _active or getattr(_local, "in_backward", False):
            return original(*args, **kwargs)
        collector = _active[-1]
        handles = []
        for node in _graph_nodes(roots_of(args, kwargs)):
            label = node.name()
            opened = []

            def pre(grad_outputs, label=label, opened=opened):
                opened.append(collector.begin("autograd::engine::evaluate_function: " + label))
                opened.append(collector.begin(label))

            def post(grad_inputs, grad_outputs, opened=opened):
                if opened:
                    inner = opened.pop()
                    outer = opened.pop()
                    collector.end(inner)
                    collector.end(outer)
            handles.append(node.register_prehook(pre))
            handles.append(node.register_hook(post))
        stack = collector.open.setdefault(threading.get_ident(), [])
        depth = len(stack)
        _local.in_backward = True      # Tensor.backward calling autograd.backward: one set of hooks
        try:
            return original(*args, **kwargs)
        finally:
            _local.in_backward = False
            for handle in handles:
                handle.remove()
            while len(stack) > depth:      # nodes a failed backward left open
                collector.end(stack[-1])
    wrapper.__name__ = getattr(original, "__name__", "backward")
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper._profiler_original = original
    return wrapper


def _roots_of_tensor_backward(args, kwargs):
    return args[:1]


def _roots_of_autograd_call(args, kwargs):
    tensors = args[0] if args else kwargs.get("tensors", kwargs.get("outputs"))
    if isinstance(tensors, Tensor):
        return (tensors,)
    return tuple(tensors) if tensors is not None else ()


def _optimizer_timed(original, method):
    def wrapper(self, *args, **kwargs):
        if not _active:
            return original(self, *args, **kwargs)
        collector = _active[-1]
        index = collector.begin(f"Optimizer.{method}#{type(self).__name__}.{method}", annotation=True)
        try:
            return original(self, *args, **kwargs)
        finally:
            collector.end(index)
    wrapper.__name__ = getattr(original, "__name__", method)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__dict__.update(getattr(original, "__dict__", {}))
    wrapper._profiler_original = original
    return wrapper


# --- the swaps ---------------------------------------------------------------

class _Swap:
    """One dict's swap (a module's, or Tensor's type dict)."""

    def __init__(self, target, swaps):
        self.target = target if isinstance(target, type) else vars(target)
        self.names = tuple(swaps)
        self.originals = tuple(o for o, _ in swaps.values())
        self.wrappers = tuple(w for _, w in swaps.values())

    def swap_in(self):
        return _C._swap_in(self.target, self.names, self.originals, self.wrappers)

    def swap_out(self):
        _C._swap_out(self.target, self.names, self.originals)


def _build_swaps():
    from cgrad._dynamo.capture import SLOT_DUNDERS, _namespace_modules, _wrappable
    import cgrad._tensor_ops  # noqa: F401  (the lazily installed Tensor methods, so that they are timed too)
    for name, target in list(cgrad._LAZY_ATTRIBUTES.items()):
        if target.startswith("cgrad._") and target != "cgrad._dynamo":
            getattr(cgrad, name)
    swaps = []
    for module_name, module in _namespace_modules():
        entries = {}
        for name, value in list(vars(module).items()):
            if not _wrappable(name, value):
                continue
            if module_name.startswith("cgrad.autograd"):
                if module_name == "cgrad.autograd" and name in _BACKWARD_CALLS:
                    entries[name] = (value, _timed_backward(value, _roots_of_autograd_call))
                continue
            if _skipped(name):
                continue
            entries[name] = (value, _timed(value, aten_name(module_name, name)))
        swaps.append(_Swap(module, entries))
    methods, dunders = {}, {}
    for name, value in list(vars(Tensor).items()):
        kind = type(value).__name__
        if name in SLOT_DUNDERS:
            base = name[2:-2]
            if name == "__getitem__":
                dunders[name] = _timed(value, name, _index_name)
            elif name == "__setitem__":
                dunders[name] = _timed(value, name, _setitem_name)
            elif base in _DUNDER_ATEN:
                dunders[name] = _timed(value, "aten::" + _DUNDER_ATEN[base])
        elif name == "backward":
            methods[name] = (value, _timed_backward(value, _roots_of_tensor_backward))
        elif kind in ("cython_function_or_method", "method_descriptor", "function") and (
                not name.startswith("_")) and not _skipped(name):
            methods[name] = (value, _timed(value, "aten::" + name))
    swaps.append(_Swap(Tensor, methods))
    return swaps, dunders


def _optimizer_swaps():
    from cgrad.optim.optimizer import Optimizer
    classes, pending = [], [Optimizer]
    while pending:
        cls = pending.pop()
        classes.append(cls)
        pending.extend(cls.__subclasses__())
    return [(cls, name, vars(cls)[name]) for cls in classes for name in ("step", "zero_grad")
            if name in vars(cls)]


def _install_swaps():
    for attempt in range(2):
        if _state["swaps"] is None:
            _state["swaps"] = _build_swaps()
        swaps, dunders = _state["swaps"]
        done = []
        for swap in swaps:
            if not swap.swap_in():
                break
            done.append(swap)
        else:
            slots = _C._patch_tensor_slots(dunders)
            optimizer = []
            for cls, name, original in _optimizer_swaps():
                if getattr(original, "_profiler_original", None) is None:
                    setattr(cls, name, _optimizer_timed(original, name))
                    optimizer.append((cls, name, original))
            return swaps, slots, optimizer
        for swap in done:
            swap.swap_out()
        _state["swaps"] = None           # a name was rebound since they were built
    raise RuntimeError("cgrad.profiler: cgrad's namespaces changed while the profiler was being set up")


def start_recording(collector):
    """Begin timing ops into collector (the swaps go in with the first)."""
    with _install_lock:
        if _state["count"] == 0:
            _state["installed"] = _install_swaps()
        _state["count"] += 1
        _active.append(collector)


def stop_recording(collector):
    with _install_lock:
        if collector not in _active:
            return
        _active.remove(collector)
        _state["count"] -= 1
        if _state["count"] == 0:
            swaps, slots, optimizer = _state["installed"]
            _state["installed"] = None
            for swap in swaps:
                swap.swap_out()
            _C._restore_tensor_slots(slots)
            for cls, name, original in optimizer:
                setattr(cls, name, original)
        # records a stopped collector left open end now
        end = perf_counter_ns()
        for stack in collector.open.values():
            while stack:
                collector.records[stack.pop()][2] = end


def current_collector():
    return _active[-1] if _active else None
