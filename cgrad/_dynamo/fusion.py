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

Planning runs once, at a capture's first replay, over every recorded op:
its loops (the forward instructions, the backward walk, the register
allocation) are compiled, in src/cgrad/compile/fusion_plan.pxi; this file
keeps the checks and reasons around them.
"""
from cgrad import _C
from cgrad._C import Tensor
from cgrad._dynamo.eval_frame import _template_leaves
from cgrad.nn.parameter import Parameter

BLOCK_OPS = {name: i for i, name in enumerate(
    "COPY FILL ADD SUB MUL DIV ADDS SUBS RSUBS MULS DIVS NEG TANH SIGMOID EXP LOG RELU TANH_BWD SIGMOID_BWD "
    "RELU_BWD MULADD MULADD_R".split())}

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
_BACKWARD_TABLES = (_FROM_OUTPUT, NotFusable, _OP_VALUE)


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
        """The engine's walk, replayed symbolically (in C,
        src/cgrad/compile/fusion_plan.pxi): a max-heap of (sequence number,
        node, gradient) entries laid out as engine.pxi's ReadyHeap lays them
        out, so that the entries one node receives are popped, and added, in
        eager's order; the sequence numbers are read off the graph the
        capture built (a value's grad_fn, or for a leaf its AccumulateGrad
        node). Each op's gradient is the formula eager's node uses
        (MulBackward0's g * other, TanhBackward0's g * (1 - y * y), ...)."""
        leaf_grads = _C._plan_backward(self, _C._plan_sequence_numbers(self), _BACKWARD_TABLES)
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
