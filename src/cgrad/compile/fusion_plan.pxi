# cgrad.compile's fusion planner, its last step in C: the register
# allocation of cgrad/_dynamo/fusion.py's _Planner.assemble.
#
# The planner (Python) turns a capture's recorded calls into SSA
# instructions, forward then backward; this drops the dead ones, adds the
# stores into the leaves' .grad (a fresh .grad is written by the
# instruction that computes it), points the returned tensors' last
# instructions at the results, computes each product that only one sum
# reads inside that sum (MULADD), and gives every value a register: inputs
# and outputs their buffers first, in value order, intermediates scratch
# reused once read for the last time. It runs over every instruction at a
# capture's first replay, where the same passes in Python cost several
# times one eager call of a small chain; but for the MULADD step, the plan
# it makes is the one the Python passes made, register for register (freed
# registers are reused in the order a Python set {a, b} gave them, see
# _set_pair_first).

cdef struct _PlanInstr:
    int op
    Py_ssize_t dst
    Py_ssize_t a
    Py_ssize_t b
    Py_ssize_t c        # MULADD's addend; a for the other ops
    double s


cdef inline bint _set_pair_first_is_a(Py_ssize_t a, Py_ssize_t b):
    """Whether a Python set built as {a, b} (two distinct non-negative ints
    below 2**61, hashed to themselves, in CPython's 8-slot small table)
    iterates a first: b takes the first free slot of its probe sequence."""
    cdef size_t mask = 7
    cdef size_t slot_a = <size_t>a & mask
    cdef size_t slot_b = <size_t>b & mask
    cdef size_t perturb = <size_t>b
    while slot_b == slot_a:
        perturb >>= 5
        slot_b = (slot_b * 5 + 1 + perturb) & mask
    return slot_a < slot_b


def _assemble_program(list code, list leaf_stores, list result_pairs, list values, dict block_ops):
    """(program, register inputs, register outputs) for the planner's
    instructions. code: [op name, dst, a, b, s] per instruction, forward
    then backward; leaf_stores: (out value, gradient value, accumulate?)
    per leaf; result_pairs: (value, out value) per returned tensor; values:
    per SSA value, fusion._OP_VALUE or ("in", tensor index) or ("out",
    output index). Values are indices below len(values)."""
    cdef Py_ssize_t ncode = len(code), nleaves = len(leaf_stores), nvalues = len(values)
    cdef Py_ssize_t total = ncode + nleaves, i, j, k, v, g, out, nkept, nstores, first, second, a, b, ra, rb
    cdef int op_add = block_ops["ADD"], op_copy = block_ops["COPY"], op_mul = block_ops["MUL"]
    cdef int op_muladd = block_ops["MULADD"], op_muladd_r = block_ops["MULADD_R"]
    cdef Py_ssize_t t, p, other, side, cv, rc, nfused
    cdef _PlanInstr* ins = <_PlanInstr*>malloc((total + 1) * sizeof(_PlanInstr))
    # per value: producer, reads, live, last read, written, register, kind (0 op, 1 in, 2 out), index
    cdef Py_ssize_t* per_value = <Py_ssize_t*>malloc((7 * nvalues + 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t* order = <Py_ssize_t*>malloc((2 * total + nvalues + 1) * sizeof(Py_ssize_t))
    if ins == NULL or per_value == NULL or order == NULL:
        free(ins)
        free(per_value)
        free(order)
        raise MemoryError()
    cdef Py_ssize_t* producer = per_value
    cdef Py_ssize_t* reads = per_value + nvalues
    cdef Py_ssize_t* last_read = per_value + 2 * nvalues
    cdef Py_ssize_t* register = per_value + 3 * nvalues
    cdef Py_ssize_t* kind = per_value + 4 * nvalues
    cdef Py_ssize_t* index = per_value + 5 * nvalues
    cdef Py_ssize_t* flags = per_value + 6 * nvalues      # bit 0 live, bit 1 written
    cdef Py_ssize_t* stores = order                 # instruction indices whose dst is an output
    cdef Py_ssize_t* kept = order + total
    cdef Py_ssize_t* free_regs = order + 2 * total
    cdef Py_ssize_t nfree = 0
    cdef list reg_inputs = [], reg_outputs = [], program = []
    try:
        for v in range(nvalues):
            producer[v] = -1
            reads[v] = 0
            last_read[v] = -1
            register[v] = -1
            flags[v] = 0
            kind_tuple = values[v]
            if len(<tuple>kind_tuple) == 1:
                kind[v] = 0
                index[v] = -1
            else:
                kind[v] = 1 if kind_tuple[0] == "in" else 2
                index[v] = kind_tuple[1]
        for i in range(ncode):
            c = <list>code[i]
            ins[i].op = block_ops[c[0]]
            ins[i].dst = c[1]
            ins[i].a = c[2]
            ins[i].b = c[3]
            ins[i].c = ins[i].a
            ins[i].s = c[4]
        for j in range(nleaves):
            out, g, accumulate = leaf_stores[j]
            i = ncode + j
            if accumulate:
                ins[i].op, ins[i].dst, ins[i].a, ins[i].b = op_add, out, out, g
            else:
                ins[i].op, ins[i].dst, ins[i].a, ins[i].b = op_copy, out, g, g
            ins[i].c = ins[i].a
            ins[i].s = 0.0
        for i in range(ncode):
            producer[ins[i].dst] = i
        for i in range(total):
            reads[ins[i].a] += 1
            if ins[i].b != ins[i].a:
                reads[ins[i].b] += 1
        # a store copying a gradient read nowhere else: its producer writes the .grad instead
        # (the surviving stores keep their order; the retargeted producers follow)
        nstores = 0
        for j in range(nleaves):
            i = ncode + j
            g = ins[i].a
            if ins[i].op == op_copy and producer[g] >= 0 and reads[g] == 1:
                continue
            stores[nstores] = i
            nstores += 1
        first = nstores          # the stores that stay in the code: stores[0:first]
        for j in range(nleaves):
            i = ncode + j
            g = ins[i].a
            if ins[i].op == op_copy and producer[g] >= 0 and reads[g] == 1:
                ins[producer[g]].dst = ins[i].dst
                stores[nstores] = producer[g]
                nstores += 1
        for j in range(len(result_pairs)):
            v, out = result_pairs[j]
            for i in range(ncode):
                if ins[i].a == v:
                    ins[i].a = out
                if ins[i].b == v:
                    ins[i].b = out
            ins[producer[v]].dst = out
            stores[nstores] = producer[v]
            nstores += 1
        for j in range(nstores):
            flags[ins[stores[j]].dst] |= 1          # live: what the program writes out
        # the code: the planner's instructions, then the stores that stay, in their order (each
        # moves to a lower or equal index, so none is overwritten before it is moved)
        for j in range(first):
            ins[ncode + j] = ins[stores[j]]
        total = ncode + first
        nkept = 0
        for i in range(total - 1, -1, -1):
            if flags[ins[i].dst] & 1:
                kept[nkept] = i
                nkept += 1
                flags[ins[i].a] |= 1
                flags[ins[i].b] |= 1
        for k in range(nkept // 2):
            i = kept[k]
            kept[k] = kept[nkept - 1 - k]
            kept[nkept - 1 - k] = i
        # a product read by nothing but one sum is computed inside that sum (MULADD, the same two
        # roundings, see fused_pointwise.h): values are assigned once and read after, so the
        # product's operands hold the same values where the sum is
        for v in range(nvalues):
            reads[v] = 0
            producer[v] = -1
        for k in range(nkept):
            i = kept[k]
            ins[i].c = ins[i].a         # (the returned tensors' retargeting rewrote a and b only)
            reads[ins[i].a] += 1
            reads[ins[i].b] += 1
            producer[ins[i].dst] = i
        nfused = 0
        for k in range(nkept):
            i = kept[k]
            if ins[i].op != op_add:
                continue
            for side in range(2):
                t = ins[i].a if side == 0 else ins[i].b
                p = producer[t]
                if p < 0 or kind[t] != 0 or reads[t] != 1 or ins[p].op != op_mul:
                    continue
                other = ins[i].b if side == 0 else ins[i].a
                ins[i].op = op_muladd if side == 0 else op_muladd_r
                ins[i].a, ins[i].b, ins[i].c = ins[p].a, ins[p].b, other
                ins[p].op = -1
                nfused += 1
                break
        if nfused:
            j = 0
            for k in range(nkept):
                if ins[kept[k]].op >= 0:
                    kept[j] = kept[k]
                    j += 1
            nkept = j
        for k in range(nkept):
            i = kept[k]
            last_read[ins[i].a] = k
            last_read[ins[i].b] = k
            last_read[ins[i].c] = k
            flags[ins[i].dst] |= 2
        for v in range(nvalues):
            if kind[v] != 0 and (last_read[v] >= 0 or flags[v] & 2):
                register[v] = len(reg_inputs)
                reg_inputs.append(index[v] if kind[v] == 1 else -1)
                reg_outputs.append(index[v] if kind[v] == 2 else -1)
        for k in range(nkept):
            i = kept[k]
            a, b = ins[i].a, ins[i].b
            ra, rb = register[a], register[b]
            if last_read[a] == k or last_read[b] == k:
                if a == b or _set_pair_first_is_a(a, b):
                    first, second = a, b
                else:
                    first, second = b, a
                if last_read[first] == k and kind[first] == 0:
                    free_regs[nfree] = register[first]
                    nfree += 1
                if second != first and last_read[second] == k and kind[second] == 0:
                    free_regs[nfree] = register[second]
                    nfree += 1
            cv = ins[i].c
            rc = register[cv]
            if cv != a and cv != b and last_read[cv] == k and kind[cv] == 0:
                free_regs[nfree] = register[cv]
                nfree += 1
            v = ins[i].dst
            if register[v] < 0:
                if nfree:
                    nfree -= 1
                    register[v] = free_regs[nfree]
                else:
                    register[v] = len(reg_inputs)
                    reg_inputs.append(-1)
                    reg_outputs.append(-1)
            program.append((ins[i].op, register[v], ra, rb, ins[i].s, rc))
        return tuple(program), tuple(reg_inputs), tuple(reg_outputs)
    finally:
        free(ins)
        free(per_value)
        free(order)


def _plan_forward(planner, list ops, tuple tables):
    """fusion.py's _Planner.plan_forward, compiled (it runs once per
    recorded op at a capture's first replay): each recorded call as a
    forward instruction [op, dst, a, b, scalar] of SSA values. The common
    case (an operand that is an earlier value, a result of the planner's
    dtype and requires_grad) is handled here; the planner's operand() and
    result() take the rest, and raise its NotFusable with the reason.
    tables: (unary names, binary names, scalar op per base, tensor op per
    base, the op value kind, NotFusable, Parameter)."""
    cdef dict unary, binary, scalar_ops, tensor_ops
    unary, binary, scalar_ops, tensor_ops, op_value, not_fusable, parameter = tables
    cdef list objects = planner.rec.objects
    cdef dict value_of = planner.value_of
    cdef dict obj_of = planner.obj_of
    cdef list values = planner.values
    cdef list requires = planner.requires
    cdef list forward = planner.forward
    cdef list instruction
    cdef bint a_num, b_num
    operand = planner.operand
    for recorded in ops:
        fn, name, encoded, kwnames, nargs, out, unpack = recorded
        if kwnames or unpack or len(out) != 1:
            raise not_fusable(f"{name}() with keywords or several results")
        result = objects[out[0]]
        unary_op = unary.get(name)
        if unary_op is not None and len(encoded) == 1:
            e0 = encoded[0]
            a = value_of.get(_object_id(objects[(<_SlotRef>e0).slot])) if type(e0) is _SlotRef else None
            if a is None:
                a = operand(e0)
                if not isinstance(a, int) or isinstance(e0, (int, float)):
                    raise not_fusable(f"{name}() of a number")
            instruction = [unary_op, None, a, a, 0.0]
            needs_grad = requires[a]
        else:
            base = binary.get(name)
            if base is None or base == "rdiv" or len(encoded) != 2:
                raise not_fusable(f"{name}() is not a fusable pointwise op")
            e0, e1 = encoded
            # operand() gives an int or float argument back as it is
            a = e0 if type(e0) is float or type(e0) is int else (
                value_of.get(_object_id(objects[(<_SlotRef>e0).slot])) if type(e0) is _SlotRef else None)
            if a is None:
                a = operand(e0)
            b = e1 if type(e1) is float or type(e1) is int else (
                value_of.get(_object_id(objects[(<_SlotRef>e1).slot])) if type(e1) is _SlotRef else None)
            if b is None:
                b = operand(e1)
            a_num = not isinstance(e0, (_SlotRef, Tensor))
            b_num = not isinstance(e1, (_SlotRef, Tensor))
            if a_num and b_num:
                raise not_fusable("an op of two numbers")
            if a_num or b_num:
                s, t = (a, b) if a_num else (b, a)
                if type(s) is bool:
                    raise not_fusable("a bool scalar")
                if base == "sub" and a_num:
                    op = "RSUBS"
                elif base == "div" and a_num:
                    raise not_fusable("number / tensor")
                else:
                    op = scalar_ops[base]
                instruction = [op, None, t, t, float(s)]
                needs_grad = requires[t]
            else:
                instruction = [tensor_ops[base], None, a, b, 0.0]
                needs_grad = requires[a] or requires[b]
        tp = type(result)
        if (tp is not Tensor and tp is not parameter) or result.requires_grad != needs_grad:
            planner.result(result, needs_grad)         # raises the reason
        v = len(values)
        instruction[1] = v
        values.append(op_value)
        requires.append(needs_grad)
        value_of[_object_id(result)] = v
        obj_of[v] = result
        forward.append(instruction)


def _plan_sequence_numbers(planner):
    """fusion.py's _Planner._sequence_numbers, compiled: value -> the
    sequence number of the node its gradient goes to (its grad_fn, or for a
    leaf its AccumulateGrad node), read off the graph the capture built."""
    cdef list values = planner.values
    cdef list requires = planner.requires
    cdef dict value_of = planner.value_of
    cdef dict seq = {}
    cdef set leaves = set(), reads_leaf = set()
    cdef Py_ssize_t v
    for v in range(len(values)):
        if values[v][0] == "in" and requires[v]:
            leaves.add(v)
    # the results whose op reads a leaf that requires grad: only their nodes lead to an
    # AccumulateGrad node (the others' next_functions are not read)
    if leaves:
        for c in planner.forward:
            if c[2] in leaves or c[3] in leaves:
                reads_leaf.add(c[1])
    for key, obj in (<dict>planner.obj_of).items():
        if values[key][0] != "op":
            continue
        node = obj.grad_fn
        if node is None:
            continue
        seq[key] = (<Node>node).seq if isinstance(node, Node) else node._sequence_nr()
        if key in reads_leaf:
            for next_node, _ in node.next_functions:
                leaf = getattr(next_node, "variable", None)
                if leaf is not None and _object_id(leaf) in value_of:
                    seq[value_of[_object_id(leaf)]] = next_node._sequence_nr()
    return seq


cdef class _BackwardWalk:
    """fusion.py's plan_backward state, compiled: the engine's max-heap of
    (sequence number, value, gradient) entries laid out as engine.pxi's
    ReadyHeap lays them out, and the backward instructions emitted."""
    cdef list values, requires, code, heap
    cdef set ones
    cdef dict seq
    cdef object op_value, not_fusable

    cdef object emit(self, str op, object a, object b, object s):
        if op == "MUL" and b is not None and a in self.ones:
            # the loss's gradient of ones times a value is that value, exactly (1 * v == v for
            # every v, -0, inf and quiet NaN alike), so it is not computed
            return b
        v = len(self.values)
        self.values.append(self.op_value)
        self.requires.append(False)
        self.code.append([op, v, a, a if b is None else b, s])
        if op == "FILL" and s == 1.0:
            self.ones.add(v)
        return v

    cdef push(self, object v, object g):
        cdef list heap = self.heap
        cdef Py_ssize_t i, parent
        if not self.requires[v]:
            return
        if v not in self.seq:
            raise self.not_fusable("a node the capture's graph does not show")
        e = (self.seq[v], v, g)
        heap.append(e)
        i = len(heap) - 1
        while i > 0:
            parent = (i - 1) >> 1
            if heap[parent][0] >= e[0]:
                break
            heap[i] = heap[parent]
            i = parent
        heap[i] = e

    cdef tuple pop(self):
        cdef list heap = self.heap
        cdef Py_ssize_t i, child, size
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


def _plan_backward(planner, dict seq, tuple tables):
    """fusion.py's _Planner.plan_backward walk, compiled: the backward
    instructions appended to planner.backward_code, and {leaf value: its
    gradient value}. tables: (forward op -> backward op of (gradient, the
    op's output), NotFusable, the op value kind)."""
    cdef dict from_output
    from_output, not_fusable, op_value = tables
    cdef _BackwardWalk w = _BackwardWalk.__new__(_BackwardWalk)
    w.values, w.requires, w.code, w.heap = planner.values, planner.requires, planner.backward_code, []
    w.ones, w.seq, w.op_value, w.not_fusable = planner.ones, seq, op_value, not_fusable
    cdef list requires = w.requires, values = w.values
    cdef dict producer = {c[1]: c for c in planner.forward}
    cdef dict leaf_grads = {}
    w.push(planner.loss_input, w.emit("FILL", 0, None, 1.0))
    while w.heap:
        _, v, g = w.pop()
        while w.heap and w.heap[0][1] == v:
            g = w.emit("ADD", g, w.pop()[2], 0.0)      # the engine's sum_gradients(acc, g)
        if values[v][0] == "in":
            leaf_grads[v] = g
            continue
        op, out, a, b, s = producer[v]
        bwd = from_output.get(op)
        if bwd is not None:
            w.push(a, w.emit(bwd, g, out, 0.0))
        elif op == "ADDS" or op == "SUBS":
            w.push(a, g)
        elif op == "MULS" or op == "DIVS":
            w.push(a, w.emit(op, g, None, s))
        elif op == "ADD":
            w.push(a, g)
            w.push(b, g)
        elif op == "SUB":
            w.push(a, g)
            if requires[b]:
                w.push(b, w.emit("NEG", g, None, 0.0))
        elif op == "RSUBS" or op == "NEG":
            w.push(a, w.emit("NEG", g, None, 0.0))
        elif op == "MUL":
            ga = w.emit("MUL", g, b, 0.0) if requires[a] else None
            gb = w.emit("MUL", g, a, 0.0) if requires[b] else None
            if ga is not None:
                w.push(a, ga)
            if gb is not None:
                w.push(b, gb)
        elif op == "DIV":
            ga = w.emit("DIV", g, b, 0.0) if requires[a] else None
            gb = None
            if requires[b]:
                quotient = w.emit("DIV", w.emit("DIV", a, b, 0.0), b, 0.0)
                gb = w.emit("MUL", w.emit("NEG", g, None, 0.0), quotient, 0.0)
            if ga is not None:
                w.push(a, ga)
            if gb is not None:
                w.push(b, gb)
        elif op == "LOG":
            w.push(a, w.emit("DIV", g, a, 0.0))
        else:
            raise not_fusable(f"no fused backward for {op}")
    return leaf_grads
