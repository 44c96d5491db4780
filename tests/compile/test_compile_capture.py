"""cgrad.compile's capture path: the recording wrappers' C fast path
(src/cgrad/tape_record.pxi) records what capture.py's Recorder.call
records; a small capture builds its tape and plans fusion at its first
replay, a large one at once, with results equal to eager's either way;
the swaps a capture installs are reused from one capture to the next and
rebuilt when a name was added, a step class or a Tensor subclass changed;
the namespaces' and Tensor's lookup hooks are in place only while a
capture runs."""
import numpy as np
import pytest

import cgrad
import cgrad.nn.functional as F
from cgrad import _C
from cgrad._dynamo import capture, config
from cgrad._dynamo.eval_frame import _CACHES


@pytest.fixture(autouse=True)
def fresh_cache():
    cgrad.compiler.reset()
    yield
    cgrad.compiler.reset()


def entries():
    return [e for cache in _CACHES.values() for es in cache["entries"].values() for e in es]


def bits(t):
    return np.atleast_1d(t.detach().numpy().copy()).view(np.uint8)


class _Everything:
    def __contains__(self, name):
        return True


def _describe(value):
    if isinstance(value, _C._SlotRef):
        return ("slot", value.slot)
    if isinstance(value, capture._Nested):
        return ("nested", value.container, tuple(_describe(v) for v in value.items))
    if isinstance(value, cgrad.Tensor):
        return ("const", id(value))
    return ("value", type(value), repr(value))


def recorded_tape(fn, make_args, slow):
    """The recorder's calls for one capture of fn, through the fast path
    or (slow=True) through Recorder.call only."""
    saved = capture._SLOW_NAMES
    capture._SWAPS.clear()
    capture._CLASS_SWAPS.clear()
    if slow:
        capture._SLOW_NAMES = _Everything()
    try:
        from cgrad._dynamo.eval_frame import _capture, _key_of
        args = make_args()
        _, tensors = _key_of(fn, args, {})
        _, entry = _capture(fn, args, {}, tensors, False, explain=True)
        assert entry.break_reason is None
        rec = entry.recorder
        return [(getattr(op_fn, "__name__", repr(op_fn)), name, tuple(_describe(v) for v in encoded), kwnames,
                 nargs, out, unpack)
                for op_fn, name, encoded, kwnames, nargs, out, unpack in rec.ops], rec
    finally:
        capture._SLOW_NAMES = saved
        capture._SWAPS.clear()
        capture._CLASS_SWAPS.clear()


def _tiny(x):
    y = x
    for _ in range(5):
        y = (y * 1.01 + 0.5).tanh()
    y.sum().backward()


W = cgrad.linspace(-1, 1, 12).reshape(3, 4)


def _mixed(x, y):
    a = 2 - x                   # a reflected operator
    b = cgrad.clamp(a, -1.0, 1.5) + W.T[:, 0]   # a constant tensor, a property
    c = b.reshape((2, 2)).sum(0, keepdim=True)
    d = cgrad.cat([c, c * y.mean()])             # a list of tensors: the slow path
    e = d.to(cgrad.float64) + F.relu(x).sum()
    return e, x.add(1, alpha=2)                  # keywords: the slow path


def _make_tiny():
    return (cgrad.ones(16, requires_grad=True),)


def _make_mixed():
    return cgrad.arange(4.0), cgrad.ones(3)


@pytest.mark.parametrize("fn, make_args", [(_tiny, _make_tiny), (_mixed, _make_mixed)])
def test_fast_path_records_what_recorder_call_records(fn, make_args):
    fast, fast_rec = recorded_tape(fn, make_args, slow=False)
    slow, slow_rec = recorded_tape(fn, make_args, slow=True)
    assert fast == slow
    assert len(fast_rec.objects) == len(slow_rec.objects)
    assert fast_rec.held_bytes == slow_rec.held_bytes > 0


def test_mlp_step_fast_and_slow_tapes_match_and_replay_as_eager():
    def make():
        cgrad.manual_seed(0)
        model = cgrad.nn.Sequential(cgrad.nn.Linear(6, 5), cgrad.nn.ReLU(), cgrad.nn.Linear(5, 3))
        opt = cgrad.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, step
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((4, 6)).astype(np.float32))
    y = cgrad.tensor([0, 2, 1, 2])
    _, step = make()
    fast, _ = recorded_tape(step, lambda: (x, y), slow=False)
    slow, _ = recorded_tape(step, lambda: (x, y), slow=True)
    assert fast == slow
    model_e, step_e = make()
    model_c, step_c = make()
    compiled = cgrad.compile(step_c)
    for _ in range(4):
        assert np.array_equal(bits(step_e(x, y)), bits(compiled(x, y)))
    for pe, pc in zip(model_e.parameters(), model_c.parameters()):
        assert np.array_equal(bits(pe), bits(pc))


def test_small_capture_is_analysed_at_its_first_replay():
    def fn(x, y):
        ((x * y + x).tanh() * y).sum().backward()
    compiled = cgrad.compile(fn)
    xv = np.random.default_rng(1).uniform(-2, 2, (5, 3)).astype(np.float32)
    yv = np.random.default_rng(2).uniform(-2, 2, (5, 3)).astype(np.float32)
    x, y = cgrad.tensor(xv, requires_grad=True), cgrad.tensor(yv)
    xe = cgrad.tensor(xv, requires_grad=True)
    compiled(x, y)
    (entry,) = entries()
    assert entry._pending is not None                # captured, not analysed
    for _ in range(3):
        x.grad = xe.grad = None      # as zero_grad() leaves them: the same guards
        fn(xe, cgrad.tensor(yv))
        compiled(x, y)
        assert entry._pending is None
        assert np.array_equal(bits(xe.grad), bits(x.grad))
    assert entry.fused is not None and entry.ops[-2:] == ["sum", "backward"]


def test_large_capture_is_analysed_at_once():
    old = config.deferred_capture_bytes
    config.deferred_capture_bytes = 64
    try:
        compiled = cgrad.compile(lambda x: (x * 2).tanh())
        x = cgrad.linspace(-1, 1, 100)
        out = compiled(x)
        (entry,) = entries()
        assert entry._pending is None and entry.fused is not None
        assert np.array_equal(bits(compiled(x)), bits(out))
    finally:
        config.deferred_capture_bytes = old


def test_a_tensor_changed_before_the_first_replay_is_not_fused_from_stale_metadata():
    def fn(x):
        (x * 3).tanh().sum().backward()
    compiled = cgrad.compile(fn)
    x = cgrad.ones(6, requires_grad=True)
    compiled(x)
    x.requires_grad_(False)          # the capture's tensor, changed before the tape is built
    z = cgrad.full((6,), 0.25, requires_grad=True)
    ze = cgrad.full((6,), 0.25, requires_grad=True)
    compiled(z)                      # the guards match z: the deferred analysis runs now
    fn(ze)
    (entry,) = entries()
    assert entry.fused is None and "changed" in entry.fusion_note
    assert np.array_equal(bits(ze.grad), bits(z.grad))


def test_swaps_are_reused_and_a_monkeypatched_name_runs_as_patched(monkeypatch):
    f = cgrad.compile(lambda x: cgrad.tanh(x) * 2)
    f(cgrad.ones(2))
    built = capture._SWAPS["built"]
    cgrad.compiler.reset()
    f(cgrad.ones(2))
    assert capture._SWAPS["built"] is built          # nothing changed: the same swaps
    calls = []

    def patched_tanh(x):
        calls.append(1)
        return x + 100
    monkeypatch.setattr(cgrad, "tanh", patched_tanh)
    cgrad.compiler.reset()
    assert f(cgrad.ones(2)).tolist() == [202.0, 202.0]
    assert calls == [1]
    # the lookup answered the patched function itself: its body's call was recorded, not the function
    (entry,) = entries()
    assert entry.ops == ["__add__", "__mul__"]
    assert f(cgrad.ones(2)).tolist() == [202.0, 202.0] and calls == [1]
    assert vars(cgrad)["tanh"] is patched_tanh       # the monkeypatch survives the capture


def test_a_name_added_to_a_namespace_rebuilds_the_swaps(monkeypatch):
    f = cgrad.compile(lambda x: cgrad.tanh(x) * 2)
    f(cgrad.ones(2))
    built = capture._SWAPS["built"]
    monkeypatch.setattr(cgrad, "twice_for_a_test", _C.mul, raising=False)
    g = cgrad.compile(lambda x: cgrad.twice_for_a_test(x, 2.0) + 1)
    assert g(cgrad.ones(2)).tolist() == [3.0, 3.0]
    assert capture._SWAPS["built"] is not built
    (entry,) = [e for e in entries() if "__add__" in e.ops]
    assert entry.break_reason is None and entry.ops == ["twice_for_a_test", "__add__"]
    assert g(cgrad.ones(2)).tolist() == [3.0, 3.0]


def test_namespaces_and_tensor_lookup_are_hooked_only_while_capturing():
    import types
    seen = []

    def fn(x):
        seen.append((type(cgrad), type(F), cgrad.tanh._compile_original, x.tanh.__func__._compile_original))
        return x.tanh() * 2
    f = cgrad.compile(fn)
    f(cgrad.ones(2))
    assert seen == [(capture._RecordingModule, capture._RecordingModule, vars(cgrad)["tanh"],
                     vars(cgrad.Tensor)["tanh"])]
    assert type(cgrad) is types.ModuleType and type(F) is types.ModuleType
    assert cgrad.tanh is vars(cgrad)["tanh"] and not hasattr(cgrad.tanh, "_compile_original")
    assert cgrad.ones(2).tanh.__func__ is vars(cgrad.Tensor)["tanh"]     # the C type's own lookup again


def test_an_instance_attribute_shadowing_a_method_is_called_while_capturing():
    x = cgrad.ones(2)
    x.tanh = lambda: x * 3          # an instance attribute wins over the method, as in eager code
    f = cgrad.compile(lambda t: t.tanh() + 1)
    assert f(x).tolist() == [4.0, 4.0]
    assert f(x).tolist() == [4.0, 4.0]


def test_a_tensor_subclass_made_while_capturing_keeps_eager_lookup_after():
    made = []

    def fn(x):
        class Made(cgrad.Tensor):
            pass
        made.append(Made)
        return x.exp()
    f = cgrad.compile(fn)
    f(cgrad.ones(2))
    s = made[0]([1.0, 2.0])
    assert s.exp.__func__ is vars(cgrad.Tensor)["exp"]      # not a recording wrapper bound to it
    assert s.exp().tolist() == cgrad.tensor([1.0, 2.0]).exp().tolist()


def test_vmap_inside_a_capture_is_a_graph_break():
    from cgrad.func import vmap

    def fn(x):
        return vmap(lambda row: row * 2)(x) + 1
    f = cgrad.compile(fn)
    x = cgrad.ones(3, 2)
    assert f(x).tolist() == [[3.0, 3.0]] * 3
    (entry,) = entries()
    assert entry.eager and "function transform" in entry.break_reason
    assert f(x).tolist() == [[3.0, 3.0]] * 3
    with pytest.raises(cgrad._dynamo.exc.Unsupported, match="function transform"):
        cgrad.compile(fn, fullgraph=True)(x)


def test_operators_of_a_subclass_made_between_captures():
    f = cgrad.compile(lambda x: (x * 2 + 1, -x))
    f(cgrad.ones(2))

    class Sub(cgrad.Tensor):
        pass
    cgrad.compiler.reset()
    s = Sub([1.0, 1.0])
    out = f(s)
    assert [o.tolist() for o in out] == [[3.0, 3.0], [-1.0, -1.0]]
    eager = s * 2 + 1
    assert eager.tolist() == [3.0, 3.0]
    assert type(vars(cgrad.Tensor)["__mul__"]).__name__ == "method_descriptor"
    assert (cgrad.ones(2) * 3).tolist() == [3.0, 3.0]


def test_eager_operators_after_repeated_captures():
    for i in range(3):
        cgrad.compiler.reset()
        f = cgrad.compile(lambda x: (x - 1) * x)
        f(cgrad.full((2,), float(i)))
        assert type(vars(cgrad.Tensor)["__sub__"]).__name__ == "method_descriptor"
        assert type(vars(cgrad)["mul"]).__name__ == "cython_function_or_method"
        assert ((cgrad.ones(2) - 3) * 2).tolist() == [-4.0, -4.0]


def test_a_constant_first_seen_by_a_wide_call_is_not_a_break():
    w, g0 = cgrad.zeros(3), cgrad.ones(3)

    def f(x):
        w.grad = g0              # setattr checks every tracked tensor: the two constants are new
        return x + 1
    compiled = cgrad.compile(f, fullgraph=True)
    for _ in range(2):
        w.grad = None
        assert compiled(cgrad.ones(3)).tolist() == [2.0, 2.0, 2.0]
        assert w.grad is g0


def test_an_unrecorded_change_before_a_backward_is_still_a_break():
    hidden, step = cgrad.ones(3), cgrad.ones(3)

    def f(x):
        y = (x * hidden).sum()
        # an optimizer kernel called directly (not through a recorded step): nothing records it
        _C._sgd_update(hidden, step, None, 0.5, 0, 0, 0, False, False, False)
        y.backward()
    with pytest.raises(cgrad._dynamo.exc.Unsupported, match="changed in place"):
        cgrad.compile(f, fullgraph=True)(cgrad.ones(3, requires_grad=True))


def test_first_replays_in_two_threads_build_the_tape_once():
    import threading
    compiled = cgrad.compile(lambda x, y: ((x * y).tanh() + y, x - y))
    x, y = cgrad.linspace(-2, 2, 50), cgrad.linspace(1, 3, 50)
    expected = [(x * y).tanh() + y, x - y]
    for _ in range(5):
        cgrad.compiler.reset()
        compiled(x, y)                       # the capture
        results, errors = [], []
        barrier = threading.Barrier(2)

        def first_replay():
            try:
                barrier.wait()
                results.append(compiled(x, y))
            except BaseException as e:       # noqa: BLE001 (reported below)
                errors.append(e)
        threads = [threading.Thread(target=first_replay) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        for out in results:
            assert all(np.array_equal(bits(a), bits(b)) for a, b in zip(out, expected))
        (entry,) = entries()
        assert entry._pending is None and entry.fused is not None


def test_recompiles_while_an_earlier_capture_waits_for_its_first_replay():
    def step(x, w):
        loss = (x.tanh() * w).sum()
        loss.backward()
        return loss.detach()
    f = cgrad.compile(step)
    shapes = [(3,), (4,), (2, 2)]
    leaves = {s: cgrad.linspace(-1, 1, int(np.prod(s))).reshape(s).requires_grad_() for s in shapes}
    eager = {s: cgrad.linspace(-1, 1, int(np.prod(s))).reshape(s).requires_grad_() for s in shapes}
    for s in shapes:        # three captures, none replayed yet: each keeps its recording
        f(leaves[s], cgrad.full(s, 2.0))
        step(eager[s], cgrad.full(s, 2.0))
    assert len(entries()) == 3 and all(e._pending is not None for e in entries())
    for s in reversed(shapes):      # the first replays plan them, in another order
        leaves[s].grad = eager[s].grad = None       # the guards' state at capture: a replay, not a recompile
        out = f(leaves[s], cgrad.full(s, 3.0))
        expected = step(eager[s], cgrad.full(s, 3.0))
        assert np.array_equal(bits(out), bits(expected))
        assert np.array_equal(bits(leaves[s].grad), bits(eager[s].grad))
    assert len(entries()) == 3 and all(e._pending is None for e in entries())
    with pytest.raises(cgrad._dynamo.exc.Unsupported, match="item"):
        cgrad.compile(lambda x: x * x.sum().item(), fullgraph=True)(cgrad.ones(2))


def _calls_every_way(x, y):
    a = cgrad.add(x, y, alpha=2)                 # keywords: the wrapper's vectorcall hands them to Recorder.call
    b = cgrad.mul(*(a, y))                       # an unpacked tuple: a call through PyObject_Call
    c = cgrad.sub(**{"input": b, "other": x})    # an unpacked dict
    d = getattr(c, "tanh")()                     # a method looked up by getattr
    e = (d.__mul__)(y)                           # a dunder looked up and called as a bound method
    return e.__add__(x, **{}) - getattr(cgrad, "exp")(y)


@pytest.fixture(params=["fast path", "Recorder.call only"])
def recording_path(request):
    """Each test that takes it runs twice: with the wrappers' fast path,
    and with every call recorded by Recorder.call."""
    saved = capture._SLOW_NAMES
    if request.param != "fast path":
        capture._SLOW_NAMES = _Everything()
        capture._SWAPS.clear()
    yield request.param
    capture._SLOW_NAMES = saved
    capture._SWAPS.clear()


def test_a_call_made_any_way_records_and_replays_as_eager(recording_path):
    f = cgrad.compile(_calls_every_way)
    for k in range(3):      # capture, first replay, replay
        x, y = cgrad.linspace(-1, 1, 6) + k, cgrad.linspace(0, 2, 6)
        assert np.array_equal(bits(f(x, y)), bits(_calls_every_way(x, y)))
    (entry,) = entries()
    assert entry.break_reason is None
    assert entry.ops[:3] == ["add", "mul", "sub"]


def test_the_recording_wrappers_bind_and_describe_themselves_as_their_originals():
    capture.install()
    try:
        wrapper = vars(Optimizer := cgrad.optim.SGD).get("step") or vars(cgrad.optim.Optimizer)["step"]
        assert isinstance(wrapper, _C._RecordingWrapper)
        assert wrapper.__name__ == "step" and wrapper._compile_original.__name__ == "step"
        assert wrapper.__get__(None, Optimizer) is wrapper
        opt = cgrad.optim.SGD([cgrad.ones(2, requires_grad=True)], lr=0.1)
        bound = opt.step
        assert bound.__self__ is opt and bound.__func__ is wrapper
        tanh = cgrad.ones(2).tanh            # answered by the lookup hook: the wrapper bound to the tensor
        assert tanh.__func__._compile_original is vars(cgrad.Tensor)["tanh"]
        assert np.array_equal(bits(tanh()), bits(cgrad.ones(2).tanh()))     # no capture: the original runs
    finally:
        capture.uninstall()


def test_the_recorder_is_per_thread():
    import threading
    rec = object()
    seen = []
    capture._local.recorder = rec
    try:
        thread = threading.Thread(target=lambda: seen.append(capture.active_recorder()))
        thread.start()
        thread.join()
        assert capture.active_recorder() is rec and seen == [None]
    finally:
        capture._local.recorder = None
    assert capture.active_recorder() is None and getattr(capture._local, "recorder", 1) is None
    capture._local.recorder = rec
    del capture._local.recorder
    assert capture.active_recorder() is None


def test_an_optimizer_step_rebound_between_captures_is_recorded_as_rebound(monkeypatch):
    def train(lib_w, opt):
        opt.zero_grad()
        (lib_w * lib_w * 3).sum().backward()
        opt.step()
    w, w_eager = cgrad.ones(3, requires_grad=True), cgrad.ones(3, requires_grad=True)
    opt, opt_eager = cgrad.optim.SGD([w], lr=0.1), cgrad.optim.SGD([w_eager], lr=0.1)
    f = cgrad.compile(lambda: train(w, opt))
    f()
    train(w_eager, opt_eager)
    calls = []
    original = cgrad.optim.SGD.step

    def patched(self, *args, **kwargs):
        calls.append(self)
        return original(self, *args, **kwargs)
    monkeypatch.setattr(cgrad.optim.SGD, "step", patched)
    cgrad.compiler.reset()
    f()                 # captured again: the rebound step is what is recorded
    assert calls == [opt] and vars(cgrad.optim.SGD)["step"] is patched
    f()                 # and replayed
    assert calls == [opt, opt]
    for _ in range(2):
        train(w_eager, opt_eager)
    assert calls == [opt, opt, opt_eager, opt_eager]
    assert np.array_equal(bits(w), bits(w_eager))


def _in_place_chain(x, w):
    a = x * 2
    a.add_(1)               # recorded in place: the next call that reads a expects its new version
    b = a.mul_(w) * a       # a view of the same storage twice over
    c = x.view(2, 3)
    return (b.view(2, 3) + c).sum(1), a


def test_in_place_ops_keep_the_expected_versions(recording_path):
    f = cgrad.compile(_in_place_chain)
    for k in range(3):      # capture, first replay, replay
        x, w = cgrad.linspace(-1, 1, 6) + k, cgrad.linspace(0, 2, 6)
        got, expected = f(x, w), _in_place_chain(x, w)
        assert all(np.array_equal(bits(a), bits(b)) for a, b in zip(got, expected))
        assert got[1]._version == expected[1]._version == 2
    (entry,) = entries()
    assert entry.break_reason is None


def test_a_class_closure_is_reused_until_a_subclass_is_added():
    class Base:
        pass

    class Child(Base):
        pass
    first = _C._subclass_closure(Base)
    assert first == (Base, Child) and _C._subclass_closure(Base) is first     # found once, then reused

    class Grandchild(Child):
        pass
    again = _C._subclass_closure(Base)
    assert again == (Base, Child, Grandchild)
    assert _C._subclass_closure(Base) is again


def test_an_optimizer_class_defined_after_a_capture_is_recorded():
    cgrad.compile(_tiny)(cgrad.ones(3, requires_grad=True))     # the step classes' swaps are built

    stepped = []

    class Halving(cgrad.optim.SGD):
        def step(self, closure=None):
            stepped.append(self)
            return super().step(closure)

    def train(w, opt):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    w, w_eager = cgrad.ones(3, requires_grad=True), cgrad.ones(3, requires_grad=True)
    opt, opt_eager = Halving([w], lr=0.5), Halving([w_eager], lr=0.5)
    f = cgrad.compile(lambda: train(w, opt))
    for _ in range(3):          # capture, first replay, replay
        f()
        train(w_eager, opt_eager)
    recorded = [e for e in entries() if e.ops and "step" in e.ops]
    assert recorded and not any(e.eager for e in recorded)    # (a .grad made by the first call recaptures)
    assert stepped == [opt, opt_eager] * 3      # the subclass's step is recorded as one call and replayed
    assert np.array_equal(bits(w), bits(w_eager))


def test_the_recorder_maps_objects_to_slots_and_storages_to_versions():
    rec = capture.Recorder(False, {})
    tensors = [cgrad.full((2,), float(i)) for i in range(200)]     # past the maps' first growths
    marker = object()
    slots = [rec.track(t) for t in tensors] + [rec.track(marker)]
    assert slots == list(range(201)) and rec.objects[200] is marker
    assert all(rec.slot_for(t) == i for i, t in enumerate(tensors))
    assert rec.slot_for(marker) == 200 and rec.slot_for(cgrad.ones(2)) is None and rec.slot_for(5) is None
    assert rec.held_bytes == 200 * 2 * 4
    a = tensors[7]
    view = a.view(1, 2)         # shares a's storage, and so its expected version
    assert rec.expected_version(view) == a._version == 0
    a.add_(1)
    assert rec.expected_version(a) == 0 and not _C._versions_current(rec)
    rec.note_version_if_absent(a)               # an expectation held is kept
    assert rec.expected_version(a) == 0
    rec.note_versions([view])
    assert rec.expected_version(a) == 1 and _C._versions_current(rec)
    untracked = cgrad.ones(2)
    assert rec.expected_version(untracked) is None
    rec.note_version_if_absent(untracked)
    assert rec.expected_version(untracked) == 0
    again = rec.track(a)        # a second slot for one object: the map answers the latest, as the dict did
    assert rec.slot_for(a) == again == 201


def test_a_call_the_fast_path_declines_after_encoding_an_argument_is_recorded_by_the_slow_path():
    def fn(x):
        return (x * 2).view(cgrad.Size([4])) + 1      # x * 2 encoded first, then a tuple subclass
    f = cgrad.compile(fn)
    for k in range(3):
        x = cgrad.linspace(-1, 1, 4).reshape(2, 2) + k
        assert np.array_equal(bits(f(x)), bits(fn(x)))
    (entry,) = entries()
    assert not entry.eager and "view" in entry.ops


def test_namespace_sizes_are_the_dict_lengths_capture_compares():
    import sys
    sizes = _C._namespace_sizes(("cgrad", "cgrad.no_such_namespace"), sys.modules, cgrad.Tensor)
    assert sizes == (len(vars(cgrad)), -1, len(vars(cgrad.Tensor)))
