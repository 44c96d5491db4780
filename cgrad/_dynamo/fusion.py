"""Fusion planning: turn a captured tape that is a chain of pointwise ops
ending in `.sum().backward()` into one fused program (_C._FusedProgram,
run by src/cgrad/fused_pointwise.h), or say why not.

The planner reads the recorder's calls as a forward graph of SSA values
(the call's tensors and the tape's constants are the inputs), derives the
backward with the formulas eager's nodes use (MulBackward0's g * other,
TanhBackward0's g * (1 - y * y), DivBackward0's -g * ((a / b) / b), ...),
walking the nodes as the engine's max-heap does (the heap itself is
simulated, with the sequence numbers of the capture's graph), so each
gradient's contributions are added in eager's order. Values
nothing reads (the loss itself when it is not returned, the last product
feeding it) are dropped, then scratch registers are allocated by last use.
Every value is computed by the same scalar expression eager's kernel uses,
so results are eager's bit for bit (the loss's gradient of ones is not
multiplied in, 1 * v being v, and a fresh .grad is written by the
instruction that computes it), except where config.fused_float32_math (on
by default) has a float32 program compute exp, log, tanh, sigmoid and the
tanh and sigmoid backward formulas in float32 arithmetic: then those values
are within 1.2 ulp of the exact ones (sigmoid 2.4), within PyTorch's float32
tolerance of its results, and may differ from eager's by that much. What it does not
fuse (anything else on the tape, broadcasting, mixed dtypes, a returned
tensor, a non-leaf input that requires grad) replays as the ordinary tape.
"""
from cgrad import _C
from cgrad._C import Tensor
from cgrad._dynamo.eval_frame import _template_leaves
from cgrad.nn.parameter import Parameter

BLOCK_OPS = {name: i for i, name in enumerate(
    "COPY FILL ADD SUB MUL DIV ADDS SUBS RSUBS MULS DIVS NEG TANH SIGMOID EXP LOG RELU TANH_BWD SIGMOID_BWD "
    "RELU_BWD".split())}

# recorded call name -> (kind, base op); binary names take (a, b) as recorded (reflected ones were swapped)
_BINARY = {}
for _base in ("add", "sub", "mul", "div"):
    for _name in (_base, f"__{_base}__", f"__r{_base}__"):
        _BINARY[_name] = _base
for _name in ("__truediv__", "true_divide"):
    _BINARY[_name] = "div"
_BINARY["__rtruediv__"] = "rdiv"
_BINARY["multiply"] = "mul"
_BINARY["subtract"] = "sub"
_BINARY["divide"] = "div"
_UNARY = {"tanh": "TANH", "sigmoid": "SIGMOID", "exp": "EXP", "log": "LOG", "relu": "RELU", "neg": "NEG",
          "__neg__": "NEG", "negative": "NEG"}
MAX_REGISTERS = 256
_SCALAR_OPS = {"add": "ADDS", "sub": "SUBS", "mul": "MULS", "div": "DIVS"}
_TENSOR_OPS = {"add": "ADD", "sub": "SUB", "mul": "MUL", "div": "DIV"}
_OP_VALUE = ("op",)         # the kind of every computed value (one shared tuple)
# forward op -> the backward op of (gradient, the op's output): tanh's g * (1 - y * y), exp's g * y, ...
_FROM_OUTPUT = {"TANH": "TANH_BWD", "SIGMOID": "SIGMOID_BWD", "RELU": "RELU_BWD", "EXP": "MUL"}


class NotFusable(Exception):
    pass


_FORWARD_TABLES = (_UNARY, _BINARY, _SCALAR_OPS, _TENSOR_OPS, _OP_VALUE, NotFusable, Parameter)


def _is_number(v):
    return type(v) in (int, float)


class _Planner:
    def __init__(self, rec, tensors, constants):
        from cgrad._dynamo.capture import _Ref
        self._Ref = _Ref
        self.rec = rec
        self.index_of = {}          # id(tensor) -> index into replay's tensor list
        for i, t in enumerate(tensors + constants):
            self.index_of.setdefault(id(t), i)
        self.value_of = {}          # id(tensor object at capture) -> SSA value
        self.obj_of = {}            # SSA value -> the tensor object at capture
        self.values = []            # SSA value -> ("in", index) | ("op",)
        self.requires = []          # SSA value -> requires grad
        self.forward = []           # (op, dst, a, b, s)
        self.backward_code = []
        self.ones = set()           # values that are all ones (the loss's gradient)
        self.dtype = None
        self.shape = None

    # --- values -------------------------------------------------------------
    def _new_value(self, kind, requires):
        self.values.append(kind)
        self.requires.append(requires)
        return len(self.values) - 1

    def _check_tensor(self, t):
        """A result's checks (inputs add operand()'s); results inherit the
        inputs' inference state, so that is checked on inputs only."""
        tp = type(t)
        if tp is not Tensor and tp is not Parameter:
            raise NotFusable("a Tensor subclass")      # its operators may be its own
        dtype, shape = t.dtype, t.shape
        if dtype is self.dtype and shape == self.shape:
            return
        if dtype is not _C.float32 and dtype is not _C.float64:
            raise NotFusable("a tensor that is not float32 or float64")
        if self.dtype is None:
            self.dtype, self.shape = dtype, tuple(shape)
            return
        raise NotFusable("tensors of different dtypes or shapes (broadcasting or promotion)")

    def operand(self, value):
        """The SSA value of a recorded argument (input, constant or earlier
        result), or the Python number it is."""
        if isinstance(value, self._Ref):
            obj = self.rec.objects[value.slot]
        elif isinstance(value, Tensor):
            obj = value
        elif type(value) is int or type(value) is float:
            return value
        else:
            raise NotFusable(f"an argument of type {type(value).__name__}")
        if not isinstance(obj, Tensor):
            raise NotFusable("a non-tensor slot")
        v = self.value_of.get(id(obj))
        if v is not None:
            return v
        index = self.index_of.get(id(obj))
        if index is None:
            raise NotFusable("an argument that is neither an input nor a constant")
        self._check_tensor(obj)
        if obj.is_inference():
            raise NotFusable("an inference tensor")
        requires = obj.requires_grad and self.rec.grad_mode     # under no_grad nothing records a graph
        if requires and obj.grad_fn is not None:
            raise NotFusable("an input that requires grad and is not a leaf")
        v = self._new_value(("in", index), requires)
        self.value_of[id(obj)] = v
        self.obj_of[v] = obj
        return v

    def result(self, obj, requires):
        # the ops plan_forward fuses, of operands operand() checked (one float dtype and shape,
        # Python int or float scalars), give that dtype and shape: only the type is read here
        tp = type(obj)
        if tp is not Tensor and tp is not Parameter:
            raise NotFusable("an op that returned no tensor" if not isinstance(obj, Tensor) else "a Tensor subclass")
        if obj.requires_grad != requires:
            raise NotFusable("requires_grad differs from the planner's")
        v = self._new_value(_OP_VALUE, requires)
        self.value_of[id(obj)] = v
        self.obj_of[v] = obj
        return v

    # --- forward ------------------------------------------------------------
    def plan_forward(self, ops):
        """The pointwise ops of the tape as forward instructions (in C,
        src/cgrad/compile/fusion_plan.pxi, which calls operand() and
        result() below for anything but the common case)."""
        _C._plan_forward(self, ops, _FORWARD_TABLES)

    def plan_loss(self, ops):
        """The tape's last two calls: loss = h.sum(), loss.backward()."""
        fn, name, encoded, kwnames, nargs, out, unpack = ops[-2]
        if kwnames or len(encoded) != 1:
            raise NotFusable("sum() with arguments")
        self.loss_input = self.operand(encoded[0])
        if not isinstance(self.loss_input, int) or isinstance(encoded[0], (int, float)):
            raise NotFusable("sum() of a number")
        loss = self.rec.objects[out[0]]
        fn, name, encoded, kwnames, nargs, out, unpack = ops[-1]
        if not encoded or not isinstance(encoded[0], self._Ref) or self.rec.objects[encoded[0].slot] is not loss:
            raise NotFusable("backward() not of the sum")
        # backward(gradient=None, retain_graph=None, create_graph=False, inputs=None): a kept graph is
        # invisible when no intermediate escapes; anything else is not fused
        given = dict(zip(("gradient", "retain_graph", "create_graph", "inputs"), encoded[1:nargs]))
        given.update(zip(kwnames or (), encoded[nargs:]))
        if len(encoded) > 4 or set(given) - {"gradient", "retain_graph", "create_graph", "inputs"} or \
                given.get("gradient") is not None or given.get("inputs") is not None or \
                given.get("create_graph") not in (None, False) or \
                type(given.get("retain_graph")) not in (type(None), bool):
            raise NotFusable("backward() with a gradient, create_graph or inputs")
        if not self.requires[self.loss_input]:
            raise NotFusable("a loss that does not require grad")

    # --- backward -----------------------------------------------------------
    def _emit(self, op, a, b=None, s=0.0):
        if op == "MUL" and b is not None and a in self.ones:
            # the loss's gradient of ones times a value is that value, exactly (1 * v == v for every
            # v, -0, inf and quiet NaN alike), so it is not computed (a signalling NaN input would
            # come out unquieted where eager quiets it)
            return b
        values = self.values
        v = len(values)
        values.append(_OP_VALUE)
        self.requires.append(False)
        self.backward_code.append([op, v, a, a if b is None else b, s])
        if op == "FILL" and s == 1.0:
            self.ones.add(v)
        return v

    def _is_one(self, v):
        return v in getattr(self, "ones", ())

    def _sequence_numbers(self):
        """value -> the sequence number of the node its gradient goes to
        (its grad_fn, or for a leaf its AccumulateGrad node), read off the
        graph the capture built: the engine's heap orders by them."""
        seq = {}
        values, requires = self.values, self.requires
        # the results whose op reads a leaf that requires grad: only their nodes lead to an
        # AccumulateGrad node (the others' next_functions are not read)
        leaves = {v for v, kind in enumerate(values) if kind[0] == "in" and requires[v]}
        reads_leaf = {c[1] for c in self.forward if c[2] in leaves or c[3] in leaves}
        for v, obj in self.obj_of.items():
            if values[v][0] != "op":
                continue
            node = obj.grad_fn
            if node is None:
                continue
            seq[v] = node._sequence_nr()
            if v in reads_leaf:
                for next_node, _ in node.next_functions:
                    leaf = getattr(next_node, "variable", None)
                    if leaf is not None and id(leaf) in self.value_of:
                        seq[self.value_of[id(leaf)]] = next_node._sequence_nr()
        return seq

    def plan_results(self, template):
        """A tape without backward: the tensors the call returns become
        the program's fresh results (none may require grad: a fused
        program builds no graph)."""
        slots = _template_slots(template)
        if not slots:
            raise NotFusable("nothing is returned")
        self.result_slots, self.result_values = [], []
        for slot in slots:
            obj = self.rec.objects[slot]
            v = self.value_of.get(id(obj))
            if v is None or self.values[v][0] != "op" or slot in self.result_slots:
                raise NotFusable("a returned tensor that is not a fresh result of the chain")
            if obj.requires_grad:
                raise NotFusable("a returned tensor that requires grad")
            self.result_slots.append(slot)
            self.result_values.append(v)
        self.leaf_grads = []

    def plan_backward(self):
        """The engine's walk, replayed symbolically: a max-heap of
        (sequence number, node, gradient) entries laid out as
        engine.pxi's ReadyHeap lays them out, so that the entries one node
        receives are popped, and added, in eager's order."""
        seq = self._sequence_numbers()
        heap = []
        requires, values, emit = self.requires, self.values, self._emit

        def push(v, g):
            if not requires[v]:
                return
            if v not in seq:
                raise NotFusable("a node the capture's graph does not show")
            e = (seq[v], v, g)
            heap.append(e)
            i = len(heap) - 1
            while i > 0:
                parent = (i - 1) >> 1
                if heap[parent][0] >= e[0]:
                    break
                heap[i] = heap[parent]
                i = parent
            heap[i] = e

        def pop():
            top = heap[0]
            last = heap.pop()
            size = len(heap)
            if size > 0:
                i = 0
                while True:
                    child = 2 * i + 1
                    if child >= size:
                        break
                    if child + 1 < size and heap[child + 1][0] > heap[child][0]:
                        child += 1
                    if heap[child][0] <= last[0]:
                        break
                    heap[i] = heap[child]
                    i = child
                heap[i] = last
            return top

        producer = {c[1]: c for c in self.forward}
        leaf_grads = {}
        push(self.loss_input, emit("FILL", 0, s=1.0))
        while heap:
            _, v, g = pop()
            while heap and heap[0][1] == v:
                g = emit("ADD", g, pop()[2])      # the engine's sum_gradients(acc, g)
            if values[v][0] == "in":
                leaf_grads[v] = g
                continue
            op, out, a, b, s = producer[v]
            from_output = _FROM_OUTPUT.get(op)
            if from_output is not None:
                push(a, emit(from_output, g, out))
            elif op == "ADDS" or op == "SUBS":
                push(a, g)
            elif op == "MULS" or op == "DIVS":
                push(a, emit(op, g, s=s))
            elif op == "ADD":
                push(a, g)
                push(b, g)
            elif op == "SUB":
                push(a, g)
                if requires[b]:
                    push(b, emit("NEG", g))
            elif op == "RSUBS" or op == "NEG":
                push(a, emit("NEG", g))
            elif op == "MUL":
                ga = emit("MUL", g, b) if requires[a] else None
                gb = emit("MUL", g, a) if requires[b] else None
                if ga is not None:
                    push(a, ga)
                if gb is not None:
                    push(b, gb)
            elif op == "DIV":
                ga = emit("DIV", g, b) if requires[a] else None
                gb = None
                if requires[b]:
                    quotient = emit("DIV", emit("DIV", a, b), b)
                    gb = emit("MUL", emit("NEG", g), quotient)
                if ga is not None:
                    push(a, ga)
                if gb is not None:
                    push(b, gb)
            elif op == "LOG":
                push(a, emit("DIV", g, a))
            else:
                raise NotFusable(f"no fused backward for {op}")
        self.leaf_grads = [(self.values[v][1], g) for v, g in leaf_grads.items()]
        if not self.leaf_grads:
            raise NotFusable("no leaf gets a gradient")

    # --- code ---------------------------------------------------------------
    def assemble(self, accumulates):
        """Drop dead values, add the stores into the leaves' .grad and
        give each value a register: inputs and outputs their buffers,
        intermediates scratch reused after their last read (in C,
        src/cgrad/compile/fusion_plan.pxi: this runs over every
        instruction at a capture's first replay)."""
        leaf_stores = [(self._new_value(("out", j), False), g, accumulates[j])
                       for j, (index, g) in enumerate(self.leaf_grads)]
        nleaves = len(leaf_stores)
        result_pairs = [(v, self._new_value(("out", nleaves + j), False))
                        for j, v in enumerate(getattr(self, "result_values", ()))]
        program, reg_inputs, reg_outputs = _C._assemble_program(
            self.forward + self.backward_code, leaf_stores, result_pairs, self.values, BLOCK_OPS)
        if len(reg_inputs) > MAX_REGISTERS:
            raise NotFusable(f"more than {MAX_REGISTERS} registers")
        return program, reg_inputs, reg_outputs


def _template_slots(template):
    """The slots an output template returns, in order; a returned tensor
    the chain did not make (a constant leaf) cannot be fused."""
    slots = []
    for kind, value in _template_leaves(template):
        if kind == "slot":
            slots.append(value)
        elif isinstance(value, Tensor):
            raise NotFusable("the function returns a tensor the chain did not make")
    return slots


def plan(rec, template, tensors, constants, grad_was_none):
    """(a _C._FusedProgram for the capture and the slots of its fresh
    results, None) or (None, None, the reason it is not fused)."""
    if rec.inference_mode:
        return None, None, "inference mode"
    planner = _Planner(rec, list(tensors), list(constants))
    ops = rec.ops
    try:
        if not ops:
            raise NotFusable("an empty tape")
        if ops[-1][1] == "backward":
            if len(ops) < 3 or ops[-2][1] != "sum":
                raise NotFusable("the tape does not end in sum().backward()")
            if template[0] != "const" or isinstance(template[1], Tensor):
                raise NotFusable("the function returns tensors besides calling backward()")
            if not rec.grad_mode:
                raise NotFusable("backward() with grad mode off")
            planner.plan_forward(ops[:-2])
            planner.plan_loss(ops)
            planner.plan_backward()
        else:
            planner.plan_forward(ops)
            planner.plan_results(template)
        all_tensors = list(tensors) + list(constants)
        accumulates = []
        for index, g in planner.leaf_grads:
            was_none = grad_was_none.get(id(all_tensors[index]))
            if was_none is None:
                raise NotFusable("a leaf's .grad state at entry is unknown")
            accumulates.append(not was_none)
        program, reg_inputs, reg_outputs = planner.assemble(accumulates)
    except NotFusable as e:
        return None, None, str(e)
    leaves = tuple((index, acc) for (index, g), acc in zip(planner.leaf_grads, accumulates))
    for t in list(tensors) + list(constants):
        if id(t) in planner.value_of and not t.is_contiguous():
            return None, None, "a non-contiguous input"
    results = tuple(getattr(planner, "result_slots", ()))
    from cgrad._dynamo import config
    return (_C._FusedProgram(planner.dtype, planner.shape, program, reg_inputs, reg_outputs, leaves, len(results),
                             config.fused_float32_math),
            results, None)
