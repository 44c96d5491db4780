"""cgrad.compile's fused pointwise programs (cgrad/_dynamo/fusion.py,
src/cgrad/fused_pointwise.h): a step that is a pointwise chain ending in
sum().backward() replays as one program whose gradients equal eager's bit
for bit (fresh .grad and accumulation alike, small and multithreaded large
sizes, float32 and float64); what fusion must not change (hooks, anomaly
mode, saved-tensor hooks, a .grad eager would not add into in place)
replays through the ordinary tape with eager's behaviour; the whole unary
op table compiles to eager's values whether fused or not."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as F
from cgrad import _C
from cgrad._dynamo import config, fusion
from cgrad._dynamo.eval_frame import _CACHES, _COUNTERS


@pytest.fixture(autouse=True)
def fresh_cache():
    cgrad.compiler.reset()
    yield
    cgrad.compiler.reset()


def entries():
    return [e for cache in _CACHES.values() for es in cache["entries"].values() for e in es]


def the_entry():
    (entry,) = entries()
    return entry


def bits(t):
    return np.atleast_1d(t.detach().numpy().copy()).view(np.uint8)


def data(seed, shape, dtype, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(dtype)


CHAINS = {
    "issue": lambda x, y: ((x * y + x).tanh() * y).sum().backward(),
    "scalars": lambda x, y: ((x * 1.01 + 0.5).tanh() - 0.25 * y + (2 - x) / 3).sum().backward(),
    "unary": lambda x, y: ((x.sigmoid() * y).exp() + (x * x + 1).log() - (-y).relu()).sum().backward(),
    "division": lambda x, y: ((x / (y * y + 1)) * x - x.neg()).sum().backward(),
    "functions": lambda x, y: (cgrad.tanh(cgrad.mul(x, y)) + F.relu(x).sub(y) + cgrad.sigmoid(y)).sum().backward(),
    "reuse": lambda x, y: (x * x * x + x - y + x * y).sum().backward(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("y_requires_grad", [False, True])
def test_fused_chain_gradients_equal_eager_bit_for_bit(chain, dtype, y_requires_grad):
    fn = CHAINS[chain]
    compiled = cgrad.compile(fn, fullgraph=True)
    for seed in range(4):       # the capture, then replays on new values
        xv, yv = data(seed, (7, 9), dtype), data(seed + 50, (7, 9), dtype)
        xe, ye = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=y_requires_grad)
        xc, yc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=y_requires_grad)
        assert fn(xe, ye) is None and compiled(xc, yc) is None
        assert np.array_equal(bits(xe.grad), bits(xc.grad))
        assert xc.grad.dtype == xe.grad.dtype and xc.grad.shape == xe.grad.shape and xc.grad.is_contiguous()
        assert xc.grad.grad_fn is None and not xc.grad.requires_grad
        if y_requires_grad:
            assert np.array_equal(bits(ye.grad), bits(yc.grad))
        else:
            assert yc.grad is None
    assert the_entry().fused is not None
    assert _COUNTERS["replays"] == 3


def test_accumulation_into_an_existing_grad_is_eager_s_in_place_add():
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    xv, yv = data(1, (64,), np.float32), data(2, (64,), np.float32)
    xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
    y = cgrad.tensor(yv)
    fn(xe, y)
    compiled(xc, y)            # captured with .grad None
    grad_before = xc.grad
    for _ in range(3):         # a new guard set (.grad present): captured once, then replayed fused
        fn(xe, y)
        compiled(xc, y)
        assert np.array_equal(bits(xe.grad), bits(xc.grad))
    assert xc.grad is grad_before       # added in place, as eager's AccumulateGrad does
    assert sum(e.fused is not None for e in entries()) == 2


def test_large_chain_over_threads_equals_eager():
    previous = cgrad.get_num_threads()
    cgrad.set_num_threads(2)
    try:
        fn = CHAINS["issue"]
        compiled = cgrad.compile(fn)
        n = (1 << 19) + 37          # several blocks per thread and a ragged last block
        for seed in range(3):
            xv, yv = data(seed, (n,), np.float32), data(seed + 9, (n,), np.float32)
            xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
            ye, yc = cgrad.tensor(yv, requires_grad=True), cgrad.tensor(yv, requires_grad=True)
            fn(xe, ye)
            compiled(xc, yc)
            assert np.array_equal(bits(xe.grad), bits(xc.grad))
            assert np.array_equal(bits(ye.grad), bits(yc.grad))
        assert the_entry().fused is not None
    finally:
        cgrad.set_num_threads(previous)


def test_closed_over_parameters_are_inputs_of_the_program():
    w = cgrad.tensor(data(3, (5, 4), np.float64), requires_grad=True)
    we = cgrad.tensor(w.detach().numpy(), requires_grad=True)

    def make(weight):
        def step(x):
            ((x * weight).tanh() * 3.0 + weight).sum().backward()
        return step
    compiled, eager = cgrad.compile(make(w)), make(we)
    for seed in range(3):
        x = cgrad.tensor(data(seed, (5, 4), np.float64))
        eager(x)
        compiled(x)
        assert np.array_equal(bits(we.grad), bits(w.grad))
    # the first call found w.grad None, the others a .grad to add into: two guard sets, both fused
    assert len(entries()) == 2 and all(e.fused is not None for e in entries())


def test_hooks_anomaly_and_saved_tensor_hooks_fall_back_to_the_tape():
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    xv, yv = data(4, (6,), np.float32), data(5, (6,), np.float32)
    y = cgrad.tensor(yv)
    compiled(cgrad.tensor(xv, requires_grad=True), y)
    assert the_entry().fused is not None

    seen = []
    xc, xe = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
    for t in (xc, xe):
        t.register_hook(lambda g: seen.append(g.shape) or g * 2)
    compiled(xc, y)
    fn(xe, y)
    assert seen == [(6,), (6,)]
    assert np.array_equal(bits(xe.grad), bits(xc.grad))

    posted = []
    xc = cgrad.tensor(xv, requires_grad=True)
    handle = xc.register_post_accumulate_grad_hook(lambda t: posted.append(t.grad.clone()))
    compiled(xc, y)
    handle.remove()
    assert len(posted) == 1 and np.array_equal(bits(posted[0]), bits(xe.grad.detach() / 2))

    packed = []
    xc = cgrad.tensor(xv, requires_grad=True)
    with cgrad.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        compiled(xc, y)
    assert packed        # eager's forward packed its saved tensors: so did the replay

    xc = cgrad.tensor(xv, requires_grad=True)
    with pytest.warns(UserWarning, match="Anomaly Detection has been enabled"):
        with cgrad.autograd.detect_anomaly():
            compiled(xc, y)
    assert np.array_equal(bits(xc.grad), bits(xe.grad.detach() / 2))


def test_a_grad_eager_would_not_add_into_in_place_falls_back():
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    xv, yv = data(6, (4, 4), np.float32), data(7, (4, 4), np.float32)
    y = cgrad.tensor(yv)
    xc, xe = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
    xc.grad = cgrad.ones(4, 4)
    compiled(xc, y)          # captured with a .grad: the store adds in place
    assert the_entry().fused is not None
    xe.grad = cgrad.ones(4, 4).t().contiguous().t()     # a transposed .grad: eager adds out of place
    xc.grad = cgrad.ones(4, 4).t().contiguous().t()
    old_c, old_e = xc.grad, xe.grad
    fn(xe, y)
    compiled(xc, y)
    assert np.array_equal(bits(xe.grad), bits(xc.grad))
    assert (xc.grad is old_c) == (xe.grad is old_e)
    assert xc.grad.stride() == xe.grad.stride()


def test_what_is_not_fused_still_replays_as_eager():
    def returns_loss(x, y):
        loss = ((x * y).tanh()).sum()
        loss.backward()
        return loss

    def broadcast(x, b):
        ((x * b).tanh()).sum().backward()

    def nonleaf(x, y):
        ((x * y).tanh()).sum().backward()
    xv = data(8, (3, 4), np.float32)
    for fn, args in [(returns_loss, (cgrad.tensor(data(9, (3, 4), np.float32)),)),
                     (broadcast, (cgrad.tensor(data(9, (4,), np.float32)),))]:
        cgrad.compiler.reset()
        compiled = cgrad.compile(fn)
        for _ in range(2):
            xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
            re, rc = fn(xe, *args), compiled(xc, *args)
            assert np.array_equal(bits(xe.grad), bits(xc.grad))
            if re is not None:
                assert rc.grad_fn is not None and np.array_equal(bits(re), bits(rc))
        assert the_entry().fused is None and the_entry().fusion_note
    cgrad.compiler.reset()
    compiled = cgrad.compile(nonleaf)
    base = cgrad.tensor(xv, requires_grad=True)
    for _ in range(2):
        compiled(base * 2, cgrad.tensor(xv))
    assert the_entry().fused is None
    eager_base = cgrad.tensor(xv, requires_grad=True)
    for _ in range(2):
        nonleaf(eager_base * 2, cgrad.tensor(xv))
    assert np.array_equal(bits(base.grad), bits(eager_base.grad))


def test_fusion_can_be_switched_off_and_explain_says_why():
    out = cgrad._dynamo.explain(CHAINS["issue"])(cgrad.ones(3, requires_grad=True), cgrad.ones(3))
    assert out.fusion.startswith("one fused program") and "Fusion:" in str(out)
    out = cgrad._dynamo.explain(lambda x: x.tanh().mean().backward())(cgrad.ones(3, requires_grad=True))
    assert out.fusion.startswith("not fused")
    config.fuse_pointwise = False
    try:
        compiled = cgrad.compile(CHAINS["issue"])
        compiled(cgrad.ones(3, requires_grad=True), cgrad.ones(3))
        assert the_entry().fused is None
    finally:
        config.fuse_pointwise = True


def _unary(row, x):
    args = {"threshold": (0.25, -2.0), "hardtanh": (-0.7, 1.2), "softshrink": (0.4,), "hardshrink": (0.6,),
            "polygamma": (2,), "logit": (0.1,), "celu": (0.7,), "nan_to_num": (1.5, 2.0, -3.0)}.get(row["name"], ())
    operands = (*args, x) if row["params_first"] else (x, *args)
    if "fn" in row["api"]:
        return getattr(cgrad, row["name"])(*operands)
    return getattr(x, row["name"])(*args)


@pytest.mark.parametrize("row", _C._OP_TABLE, ids=[r["name"] for r in _C._OP_TABLE])
def test_table_unary_rows_in_a_sum_backward_step_compiled_equal_eager(row):
    """Each table op in the step shape fusion looks for: rows the fused
    interpreter has run fused, the others replay the tape; both give
    eager's gradients bit for bit."""
    if not ({"fn", "meth"} & set(row["api"])) or row["node"] == "" or row.get("no_grad") is True:
        pytest.skip("no differentiable function or method form")
    lo, hi = row["domain"]

    def step(x, w):
        (_unary(row, x * 1.5) * w + x).sum().backward()
    compiled = cgrad.compile(step)
    for seed in range(3):
        xv = np.random.default_rng(seed).uniform(lo, hi, size=(3, 5)) / 1.5
        w = cgrad.tensor(data(seed + 10, (3, 5), np.float64))
        xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
        step(xe, w)
        compiled(xc, w)
        assert np.array_equal(bits(xe.grad), bits(xc.grad)), row["name"]
    fused = the_entry().fused is not None
    assert fused == (row["name"] in fusion._UNARY), row["name"]

    # the same chain forward only (no grad): fused rows return fresh tensors from the program
    cgrad.compiler.reset()

    def forward(x, w):
        return _unary(row, x * 1.5) * w + x
    compiled = cgrad.compile(forward)
    for seed in range(3):
        x = cgrad.tensor(np.random.default_rng(seed).uniform(lo, hi, size=(3, 5)) / 1.5)
        w = cgrad.tensor(data(seed + 10, (3, 5), np.float64))
        ye, yc = forward(x, w), compiled(x, w)
        assert np.array_equal(bits(ye), bits(yc)) and yc.grad_fn is None and not yc.requires_grad
    assert (the_entry().fused is not None) == (row["name"] in fusion._UNARY), row["name"]


def test_retain_graph_guards_recompiles_and_in_place_ops():
    def kept(x, y):
        loss = ((x * y).sigmoid() * y).sum()
        loss.backward(retain_graph=True)

    def in_place(x, y):
        h = x * y
        h.mul_(2)
        (h.tanh() * y).sum().backward()
    for fn, fused in [(kept, True), (in_place, False)]:
        cgrad.compiler.reset()
        compiled = cgrad.compile(fn)
        for shape, dtype in [((3, 4), np.float32), ((3, 4), np.float32), ((5,), np.float32), ((5,), np.float64),
                             ((5,), np.float64)]:
            xv, yv = data(11, shape, dtype), data(12, shape, dtype)
            xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
            y = cgrad.tensor(yv)
            fn(xe, y)
            compiled(xc, y)
            assert np.array_equal(bits(xe.grad), bits(xc.grad))
            assert y._version == 0
        assert len(entries()) == 3          # a new shape and a new dtype each captured again
        assert all((e.fused is not None) == fused for e in entries())
        assert _COUNTERS["replays"] == 2


def test_a_leaf_changed_in_place_before_the_call_is_read_as_it_is_now():
    compiled = cgrad.compile(CHAINS["issue"])
    xv, yv = data(13, (8,), np.float32), data(14, (8,), np.float32)
    x, y = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv)
    compiled(x, y)
    with cgrad.no_grad():
        y.mul_(3)           # the program reads y's buffer at each call
    x.grad = None
    compiled(x, y)
    xe = cgrad.tensor(xv, requires_grad=True)
    CHAINS["issue"](xe, y)
    assert np.array_equal(bits(xe.grad), bits(x.grad)) and the_entry().fused is not None


def test_forward_only_chains_return_fresh_tensors():
    def two(x, y):
        h = (x * y + 1).tanh()
        return {"h": h, "both": (h * 2 - y, 3)}
    compiled = cgrad.compile(two)
    for seed in range(3):
        x, y = cgrad.tensor(data(seed, (4, 6), np.float32)), cgrad.tensor(data(seed + 1, (4, 6), np.float32))
        oe, oc = two(x, y), compiled(x, y)
        assert np.array_equal(bits(oe["h"]), bits(oc["h"])) and oc["both"][1] == 3
        assert np.array_equal(bits(oe["both"][0]), bits(oc["both"][0]))
        assert oc["h"] is not oc["both"][0] and oc["h"]._version == 0
    assert the_entry().fused is not None
    first = oc["h"]
    again = compiled(x, y)["h"]
    assert again is not first and np.array_equal(bits(again), bits(first))   # each call returns new tensors

    cgrad.compiler.reset()
    x = cgrad.tensor(data(1, (5,), np.float64), requires_grad=True)
    compiled = cgrad.compile(lambda x: (x * 2).exp())
    with cgrad.no_grad():
        for _ in range(2):
            out = compiled(x)
            assert not out.requires_grad and np.array_equal(bits(out), bits((x * 2).exp()))
    assert the_entry().fused is not None
    for _ in range(2):           # grad mode on: the result requires grad, so the tape replays
        out = compiled(x)
        assert out.grad_fn is not None
    assert sum(e.fused is None for e in entries()) == 1


def test_two_threads_running_one_large_program_at_once():
    import threading
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    n = 1 << 17         # above the size that releases the GIL
    xv, yv = data(20, (n,), np.float32), data(21, (n,), np.float32)
    y = cgrad.tensor(yv)
    compiled(cgrad.tensor(xv, requires_grad=True), y)
    xe = cgrad.tensor(xv, requires_grad=True)
    fn(xe, y)
    leaves = [[cgrad.tensor(xv, requires_grad=True) for _ in range(6)] for _ in range(2)]

    def work(mine):
        for leaf in mine:
            compiled(leaf, y)
    threads = [threading.Thread(target=work, args=(mine,)) for mine in leaves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for leaf in leaves[0] + leaves[1]:
        assert np.array_equal(bits(leaf.grad), bits(xe.grad))
    assert the_entry().fused is not None


SHORTCUT_CHAINS = {
    "product": lambda x, y: (x * y).sum().backward(),             # grads are the other input, copied
    "shared": lambda x, y: (x + y).sum().backward(),              # one gradient of ones for two leaves
    "ones_times": lambda x, y: (x * y * 1.0).sum().backward(),
}


@pytest.mark.parametrize("chain", sorted(SHORTCUT_CHAINS))
@pytest.mark.parametrize("accumulate", [False, True])
def test_gradient_of_ones_and_direct_stores_equal_eager(chain, accumulate):
    fn = SHORTCUT_CHAINS[chain]
    compiled = cgrad.compile(fn, fullgraph=True)
    for seed in range(3):
        xv, yv = data(seed, (4, 5), np.float32), data(seed + 9, (4, 5), np.float32)
        x, y = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=True)
        xe, ye = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=True)
        if accumulate:
            for t in (x, y, xe, ye):
                t.grad = cgrad.full((4, 5), 0.5)
        fn(xe, ye)
        compiled(x, y)
        assert np.array_equal(bits(xe.grad), bits(x.grad)) and np.array_equal(bits(ye.grad), bits(y.grad))
    assert the_entry().fused is not None


def test_issue_chain_program_computes_no_gradient_of_ones():
    compiled = cgrad.compile(CHAINS["issue"], fullgraph=True)
    x, y = cgrad.ones(3, requires_grad=True), cgrad.ones(3)
    compiled(x, y)
    program = the_entry().fused
    # forward x*y+x (one MULADD), tanh; backward tanh's, then the product and the sum of the two
    # paths (one MULADD, into .grad)
    assert program is not None and program.ninstructions == 4


@pytest.mark.parametrize("shift", [0, 1, 1500])
def test_a_grad_sharing_memory_with_an_input_takes_the_tape(shift):
    # x.grad a view of the buffer y is a view of, `shift` elements further on: the program would
    # write a block of x.grad that a later block still reads through y, so the call replays the
    # ordinary tape (eager computes the whole gradient before adding it in place)
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    n = 3000                    # many blocks of the interpreter (CG_FUSED_BLOCK is 128)
    values = data(11, (n + shift,), np.float32)
    xv = data(12, (n,), np.float32)
    results = []
    for run in (fn, compiled):
        big = cgrad.tensor(values)
        x = cgrad.tensor(xv, requires_grad=True)
        x.grad = big[shift:]
        y = big[:n]
        for _ in range(3):      # the capture, then replays
            run(x, y)
        results.append((bits(x.grad), bits(big)))
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])
    assert the_entry().fused is not None          # planned, and declined for these buffers


_RANDOM_UNARY = [lambda a: a.tanh(), lambda a: a.sigmoid(), lambda a: a.exp(), lambda a: (a * a + 1).log(),
                 lambda a: a.relu(), lambda a: -a, cgrad.tanh, cgrad.neg]
_RANDOM_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / (b * b + 1),
                  cgrad.mul, cgrad.add, cgrad.sub]
_RANDOM_SCALAR = [lambda a: a * 1.5, lambda a: a + 2, lambda a: 3 - a, lambda a: a - 0.5, lambda a: a / 4.0,
                  lambda a: 2 * a, lambda a: a.mul(0.3)]


def _random_chain(seed):
    """A random DAG of the fusable ops over x and y, ending in
    sum().backward() or returning its last value."""
    rng = np.random.default_rng(seed)
    steps = []
    for i in range(int(rng.integers(1, 16))):
        kind = rng.random()
        if kind < 0.35:
            steps.append((_RANDOM_UNARY[rng.integers(len(_RANDOM_UNARY))], (int(rng.integers(2 + i)),)))
        elif kind < 0.7:
            steps.append((_RANDOM_BINARY[rng.integers(len(_RANDOM_BINARY))],
                          (int(rng.integers(2 + i)), int(rng.integers(2 + i)))))
        else:
            steps.append((_RANDOM_SCALAR[rng.integers(len(_RANDOM_SCALAR))], (int(rng.integers(2 + i)),)))
    backward = rng.random() < 0.7

    def fn(x, y):
        values = [x, y]
        for op, reads in steps:
            values.append(op(*(values[r] for r in reads)))
        if backward:
            (values[-1] + x).sum().backward()
            return None
        return values[-1]
    return fn, backward, rng


@pytest.mark.parametrize("seed", range(40))
def test_random_fusable_chains_equal_eager_bit_for_bit(seed):
    # float64: the fused programs compute eager's expressions in eager's order (the planner's
    # forward, backward walk and register allocation, fusion_plan.pxi), so every bit agrees
    fn, backward, rng = _random_chain(seed)
    x_grad, y_grad = (True, bool(rng.random() < 0.5)) if backward else (False, False)
    accumulate = backward and x_grad and rng.random() < 0.4
    compiled = cgrad.compile(fn)
    for call in range(3):       # the capture, the first replay (plans), a replay
        xv, yv = data(seed * 7 + call, (5, 3), np.float64), data(seed * 11 + call, (5, 3), np.float64)
        xe, ye = cgrad.tensor(xv, requires_grad=x_grad), cgrad.tensor(yv, requires_grad=y_grad)
        xc, yc = cgrad.tensor(xv, requires_grad=x_grad), cgrad.tensor(yv, requires_grad=y_grad)
        if accumulate:
            xe.grad, xc.grad = cgrad.ones(5, 3, dtype=cgrad.float64), cgrad.ones(5, 3, dtype=cgrad.float64)
        out_e, out_c = fn(xe, ye), compiled(xc, yc)
        if out_e is not None:
            assert np.array_equal(bits(out_e), bits(out_c))
        for e, c in ((xe, xc), (ye, yc)):
            assert (e.grad is None) == (c.grad is None)
            if e.grad is not None:
                assert np.array_equal(bits(e.grad), bits(c.grad))


# fused_pointwise.h runs 128 elements at a time (CG_FUSED_BLOCK); a program over more than
# GIL_RELEASE_NUMEL (1 << 15) releases the GIL, and from 2 * 2**18 splits over threads in
# multiples of the block
BLOCK = 128


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 5, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK - 1, 2 * BLOCK + 1, 8 * BLOCK + 7,
                               (1 << 15) - 1, 1 << 15, (1 << 15) + BLOCK + 3])
@pytest.mark.parametrize("chain", ["issue", "unary", "reuse"])
def test_sizes_around_the_block_and_the_gil_threshold_equal_eager(chain, n, dtype):
    fn = CHAINS[chain]
    compiled = cgrad.compile(fn, fullgraph=True)
    for seed in range(3):       # the capture, the first replay (plans), a replay
        xv, yv = data(seed, (n,), dtype), data(seed + 5, (n,), dtype)
        xe, ye = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=True)
        xc, yc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv, requires_grad=True)
        fn(xe, ye)
        compiled(xc, yc)
        assert np.array_equal(bits(xe.grad), bits(xc.grad)) and np.array_equal(bits(ye.grad), bits(yc.grad))
    assert the_entry().fused is not None


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_three_threads_with_ragged_chunks_equal_eager(dtype):
    previous = cgrad.get_num_threads()
    cgrad.set_num_threads(3)
    try:
        fn = CHAINS["unary"]
        compiled = cgrad.compile(fn)
        n = 3 * (1 << 18) + BLOCK + 1       # three threads, each a multiple of the block but the last
        for seed in range(3):
            xv, yv = data(seed, (n,), dtype), data(seed + 9, (n,), dtype)
            xe, ye = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv)
            xc, yc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv)
            if seed == 2:                   # accumulated in place into an existing .grad
                xe.grad, xc.grad = cgrad.tensor(yv), cgrad.tensor(yv)
            fn(xe, ye)
            compiled(xc, yc)
            assert np.array_equal(bits(xe.grad), bits(xc.grad))
        assert all(e.fused is not None for e in entries())
    finally:
        cgrad.set_num_threads(previous)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_non_contiguous_inputs_replay_the_tape_as_eager(dtype):
    fn = CHAINS["issue"]
    compiled = cgrad.compile(fn)
    for seed in range(3):
        xv, yv = data(seed, (BLOCK + 3, 2 * BLOCK + 1), dtype), data(seed + 1, (2 * BLOCK + 1, BLOCK + 3), dtype)
        xe, xc = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(xv, requires_grad=True)
        y = cgrad.tensor(yv).t()            # a transposed input
        fn(xe, y)
        compiled(xc, y)
        assert np.array_equal(bits(xe.grad), bits(xc.grad))
    assert the_entry().fused is None and "non-contiguous" in the_entry().fusion_note


MULADD_CHAINS = {
    "product_then_sum": lambda x, y, c: (x * y + c).tanh().sum().backward(),
    "sum_of_product": lambda x, y, c: (c + x * y).tanh().sum().backward(),
    "product_read_twice": lambda x, y, c: ((x * y + c) * (x * y)).sum().backward(),
    "square_plus_itself": lambda x, y, c: ((x * x) + (x * x) + y * c).sum().backward(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chain", sorted(MULADD_CHAINS))
@pytest.mark.parametrize("accumulate", [False, True])
def test_products_computed_inside_sums_equal_eager(chain, dtype, accumulate):
    # a product only one sum reads runs inside it (MULADD: the same two roundings), NaN and signed
    # zeros included (one NaN payload: which operand's payload a sum of two NaNs carries is the
    # compiler's choice, in eager's kernels as in the interpreter)
    fn = MULADD_CHAINS[chain]
    compiled = cgrad.compile(fn, fullgraph=True)
    n = 2 * BLOCK + 9
    for seed in range(3):
        xv, yv, cv = data(seed, (n,), dtype), data(seed + 3, (n,), dtype), data(seed + 6, (n,), dtype)
        xv[::7], cv[::13], xv[::17] = np.nan, -0.0, 0.0
        leaves = []
        for run in (fn, compiled):
            x, y, c = (cgrad.tensor(v, requires_grad=True) for v in (xv, yv, cv))
            if accumulate:
                for t in (x, y, c):
                    t.grad = cgrad.tensor(cv)
            run(x, y, c)
            leaves.append((x, y, c))
        for e, k in zip(*leaves):
            assert np.array_equal(bits(e.grad), bits(k.grad))
    assert entries() and all(e.fused is not None for e in entries())
