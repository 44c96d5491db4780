"""The layer order of cgrad._C's include files (tools/check_layers.py).

src/cgrad/_C.pyx includes its .pxi files one layer folder after another,
lowest first (core, kernels, ops, ops/nn, autograd, tensor, compile); a
file should use only names of its own layer or a lower one. The up-calls
that remain would be pinned in KNOWN_UP_CALLS: a new one fails this test
(move the name down, or the caller up), and so does one that was removed
without taking it off the list, so the list only shrinks. It is empty: where
the graph layer's recording needs the layers above (forward-mode AD, a stale
view's fresh history, a leaf's AccumulateGrad), it calls through function
pointers those layers fill in (core/node.pxi)."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOOLS = os.path.join(ROOT, "tools")
CORE = os.path.join(ROOT, "src", "cgrad")

if not os.path.exists(os.path.join(CORE, "_C.pyx")) or not os.path.exists(os.path.join(TOOLS, "check_layers.py")):
    pytest.skip("the Cython sources and tools/ are not in this checkout (an installed wheel's test run)",
                allow_module_level=True)

sys.path.insert(0, TOOLS)
try:
    import check_layers
finally:
    sys.path.pop(0)


KNOWN_UP_CALLS: dict[str, dict[str, list[str]]] = {}


def test_includes_come_layer_by_layer():
    assert check_layers.order_errors(check_layers.includes()) == []


def test_every_include_file_is_in_a_layer_folder_and_included():
    """A .pxi file sits in a layer folder, and _C.pyx (or _table_ops.pyx,
    for the op table's scalar functions) includes it: a file nothing
    includes is dead code."""
    included = {rel for rel, _, _ in check_layers.includes()}
    with open(os.path.join(CORE, "_table_ops.pyx"), encoding="utf-8") as f:
        included |= {line.split('"')[1] for line in f if line.startswith("include ")}
    stray, unused = [], []
    for folder, _, names in os.walk(CORE):
        for name in names:
            if not name.endswith(".pxi"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), CORE).replace(os.sep, "/")
            if os.path.dirname(rel) not in check_layers.LAYERS:
                stray.append(rel)
            elif rel not in included:
                unused.append(rel)
    assert stray == [] and unused == []


def test_up_calls_are_the_pinned_ones():
    found = check_layers.up_calls()
    new = {rel: {owner: sorted(set(names) - set(KNOWN_UP_CALLS.get(rel, {}).get(owner, [])))
                 for owner, names in owners.items()} for rel, owners in found.items()}
    new = {rel: {o: n for o, n in owners.items() if n} for rel, owners in new.items()}
    new = {rel: owners for rel, owners in new.items() if owners}
    assert new == {}, ("names used from a later layer (tools/check_layers.py): move the name down to the "
                       "caller's layer or below, or the caller up")
    gone = {rel: {owner: sorted(set(names) - set(found.get(rel, {}).get(owner, [])))
                  for owner, names in owners.items()} for rel, owners in KNOWN_UP_CALLS.items()}
    gone = {rel: {o: n for o, n in owners.items() if n} for rel, owners in gone.items()}
    gone = {rel: owners for rel, owners in gone.items() if owners}
    assert gone == {}, "up-calls that are gone: take them off KNOWN_UP_CALLS"


def test_the_checker_sees_an_up_call_and_ignores_locals():
    """On made-up code: a call of a name defined in a later file is found;
    a parameter, a local and an attribute of the same name are not."""
    low = check_layers.code_only(
        "cdef int low_fn(Tensor t, int helper) except -1:\n"
        "    cdef int later_const = 3           # a local named like a later name\n"
        "    x = t.later_fn                      # an attribute\n"
        "    return later_fn(t) + helper + later_const  # later_fn(...) is the up-call\n")
    high = check_layers.code_only(
        "cdef int later_fn(Tensor t) except -1:\n"
        "    return 0\n"
        "cdef int later_const = 4\n"
        "cdef int helper = 5\n")
    defined_high = check_layers.defined_names(high)
    assert defined_high == {"later_fn", "later_const", "helper"}
    assert check_layers.used_names(low) & defined_high == {"later_fn"}


def test_a_function_pointer_filled_in_by_a_later_layer_is_no_up_call():
    """The lower file declares the pointer and calls through it; the later
    file only assigns it (core/node.pxi's recording hooks)."""
    low = check_layers.code_only(
        "cdef void (*note_inputs)(Node, tuple) except *\n"
        "cdef int wire(Node n) except -1:\n"
        "    note_inputs(n, ())\n"
        "    return 0\n")
    high = check_layers.code_only(
        "cdef void fw_note(Node n, tuple inputs) except *:\n"
        "    pass\n"
        "note_inputs = fw_note\n")
    assert "note_inputs" in check_layers.defined_names(low)
    assert check_layers.used_names(low) & (check_layers.defined_names(high) - check_layers.defined_names(low)) == set()


def test_the_checker_reads_extern_blocks_enums_and_fused_types():
    code = check_layers.code_only(
        'cdef extern from "x.h" nogil:\n'
        "    int cg_thing(double a, double b)\n"
        "    ctypedef struct cg_pair:\n"
        "        int first, second\n"
        "cdef enum:\n"
        "    ONE = 1\n"
        "    TWO, THREE\n"
        "ctypedef fused elem_t:\n"
        "    float\n"
        "    double\n"
        "def py_fn(x, y=2):\n"
        "    '''a docstring naming not_a_name'''\n"
        "    return x\n"
        "alias = py_fn\n")
    assert check_layers.defined_names(code) == {"cg_thing", "cg_pair", "ONE", "TWO", "THREE", "elem_t",
                                                "py_fn", "alias"}


def test_the_checker_binds_struct_fields_and_every_declared_local():
    # a struct's fields and each name of `cdef T a = x, b = a` are no uses of
    # module-level names that happen to share them (log, outer, t)
    code = check_layers.code_only(
        "cdef struct Job:\n"
        "    Py_ssize_t outer\n"
        "    bint log\n"
        "cdef int run(Job* j, Tensor g) except -1:\n"
        "    cdef Tensor x = g, t = x, y = later_fn(t)\n"
        "    return j.outer\n")
    assert check_layers.used_names(code) & {"outer", "log", "t", "x", "y", "later_fn"} == {"later_fn"}
