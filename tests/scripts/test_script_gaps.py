"""What running tutorial-style scripts with `import cgrad as torch` found
missing or different (tests/scripts/, tests/scripts/test_scripts.py), each checked
against torch on its own: the composite ops of cgrad/_ops_composites.py,
finfo/iinfo, the legacy tensor types, set_default_dtype, the out= of the
matrix products, the remaining nn.init initialisers, F's function names,
the optimizer's repr and vmap of a namespace function given directly."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, torch

RNG = np.random.default_rng(0)
A23 = RNG.standard_normal((2, 3))
B23 = RNG.standard_normal((2, 3))
C23 = RNG.uniform(0.5, 2.0, (2, 3))
V5 = RNG.standard_normal(5)


# --- composites: values, gradients, grad_fn names ----------------------------------

@pytest.mark.parametrize("fn", [
    lambda lib, a, b, c: lib.addcmul(a, b, c),
    lambda lib, a, b, c: lib.addcmul(a, b, c, value=-0.5),
    lambda lib, a, b, c: lib.addcdiv(a, b, c, value=2),
    lambda lib, a, b, c: a.addcdiv(b, c),
    lambda lib, a, b, c: lib.dist(a, b),
    lambda lib, a, b, c: lib.dist(a, b, p=1),
    lambda lib, a, b, c: lib.inner(a, b),
    lambda lib, a, b, c: lib.diff(a, dim=1),
    lambda lib, a, b, c: lib.diff(a, n=2, dim=1, prepend=b),
    lambda lib, a, b, c: lib.diff(a, dim=0, append=c),
    lambda lib, a, b, c: lib.fliplr(a),
    lambda lib, a, b, c: lib.flipud(a),
    lambda lib, a, b, c: lib.broadcast_to(a[0], (4, 3)),
    lambda lib, a, b, c: a.repeat_interleave(2, dim=1),
    lambda lib, a, b, c: a.repeat_interleave(lib.tensor([2, 1]), dim=0),
    lambda lib, a, b, c: lib.repeat_interleave(a, 3),
    lambda lib, a, b, c: lib.tensor_split(a, 2, dim=1),
    lambda lib, a, b, c: lib.tensor_split(a, [1, 2], dim=1),
    lambda lib, a, b, c: lib.hsplit(lib.cat([a, b], 1), 2),
    lambda lib, a, b, c: lib.vsplit(a, [1]),
    lambda lib, a, b, c: lib.dstack([a, b]),
    lambda lib, a, b, c: lib.column_stack([a[0], b[0], c[0]]),
])
def test_composites_match_torch(fn):
    compare_with_torch(fn, A23, B23, C23)


def test_inplace_composites_record_like_torch():
    def fn(lib, a, b, c):
        x = a * 1
        x.addcmul_(b, c, value=0.5)
        y = b * 1
        y.pow_(2)
        z = c * 1
        z.addcdiv_(a, c)
        return x, y, z
    compare_with_torch(fn, A23, B23, C23)


@requires_torch
def test_predicates_comparisons_and_fill_diagonal_match_torch():
    for lib in (cgrad, torch):
        lib.manual_seed(0)

    def run(lib):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
        b = lib.tensor([[1.0, 0.0, 3.0], [0.0, 5.0, 0.0]])
        eq = a.clone().eq_(b)
        gt = a.clone().gt_(2.5)
        logical = lib.tensor([True, False, True]).logical_and_(lib.tensor([True, True, False]))
        tall = lib.zeros(7, 3).fill_diagonal_(5, wrap=True)
        wide = lib.zeros(2, 4).fill_diagonal_(1)
        cube = lib.zeros(2, 2, 2).fill_diagonal_(3)
        flags = (lib.is_nonzero(lib.tensor([2])), lib.is_same_size(a, b), a.is_signed(),
                 lib.tensor([1], dtype=lib.uint8).is_signed(), lib.is_complex(a))
        found = (lib.isin(lib.tensor([1, 2, 3, 4]), lib.tensor([2, 4])),
                 lib.isin(lib.tensor([1, 2, 3]), lib.tensor([2]), invert=True), lib.argwhere(b))
        counts = lib.repeat_interleave(lib.tensor([2, 0, 1]))
        spaced = (lib.logspace(0, 2, 3), lib.logspace(-1, 1, 5, base=2.0), lib.logspace(0, 1, 4, dtype=lib.float64))
        diffs = lib.diff(lib.tensor([True, False, False, True]))
        return [eq, gt, logical, tall, wide, cube, *found, counts, *spaced, diffs], flags

    (got, got_flags), (want, want_flags) = run(cgrad), run(torch)
    assert got_flags == want_flags
    for g, w in zip(got, want):
        assert str(g.dtype).split(".")[-1] == str(w.dtype).split(".")[-1]
        np.testing.assert_allclose(g.numpy(), w.numpy(), rtol=1e-6)


@requires_torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.fliplr(lib.ones(2)),
    lambda lib: lib.flipud(lib.tensor(1.0)),
    lambda lib: lib.hsplit(lib.ones(2, 5), 2),
    lambda lib: lib.vsplit(lib.ones(2), 2),
    lambda lib: lib.dsplit(lib.ones(2, 2), 1),
    lambda lib: lib.tensor([1, 2]).is_nonzero(),
    lambda lib: lib.tensor([]).is_nonzero(),
    lambda lib: lib.addcdiv(lib.ones(2), lib.tensor([1, 2]), lib.tensor([1, 2])),
    lambda lib: lib.diff(lib.tensor(1.0)),
    lambda lib: lib.repeat_interleave(lib.ones(3), lib.tensor([1, 2])),
    lambda lib: lib.tensor_split(lib.ones(3), 0),
    lambda lib: lib.tensor([1, 2]).pow_(0.5),
    lambda lib: lib.inner(lib.ones(2, 3), lib.ones(2)),
])
def test_composite_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(cgrad)
    assert str(got.value).replace("cgrad", "torch") == str(want.value)


REPEAT_INTERLEAVE_CASES = [
    lambda lib: lib.repeat_interleave(lib.tensor([[1, 2]])),
    lambda lib: lib.repeat_interleave(lib.tensor(2)),
    lambda lib: lib.repeat_interleave(lib.tensor([1.0, 2.0])),
    lambda lib: lib.repeat_interleave(lib.tensor([1, -2])),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 2], dtype=lib.int32)),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 2], dtype=lib.int16)),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), output_size=3),
    lambda lib: lib.repeat_interleave(lib.tensor([1, 2]), output_size=4),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor([[1]]), dim=0),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor([2]), dim=0),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor(2), dim=1),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor([1.0, 2, 1, 1]), dim=0),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor([1, 2, 1, 1]), dim=0, output_size=6),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), -1),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), lib.tensor(-1)),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), 2.0),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), True),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5), 2, 1, output_size=3),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5, requires_grad=True), lib.tensor([2]), dim=0),
    lambda lib: lib.repeat_interleave(lib.ones(4, 5, requires_grad=True), 2, dim=-1),
    lambda lib: lib.tensor(3.0).repeat_interleave(lib.tensor([2])),
    lambda lib: lib.tensor(3.0).repeat_interleave(2, dim=0),
]


def _repeat_outcome(lib, call):
    try:
        t = call(lib)
        return (str(t.dtype).split(".")[-1], t.tolist(), t.grad_fn.name() if t.grad_fn is not None else None)
    except Exception as error:       # the outcome is what is compared
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("case", range(len(REPEAT_INTERLEAVE_CASES)))
def test_repeat_interleave_overloads_match_torch(case):
    got = _repeat_outcome(cgrad, REPEAT_INTERLEAVE_CASES[case])
    hand = {0: ("RuntimeError", "repeat_interleave only accept 1D vector as repeat"),
            4: ("int32", [0, 1, 1], None),
            8: ("RuntimeError", "repeats must be 0-dim or 1-dim tensor"),
            13: ("RuntimeError", "Repeats must be non-negative"),
            14: ("RuntimeError", "repeats can not be negative")}
    if case in hand:
        assert got == hand[case]
    if case == 18:
        assert got[2] == "IndexSelectBackward0"      # one repeat count still goes through index_select
    if torch is not None:
        assert got == _repeat_outcome(torch, REPEAT_INTERLEAVE_CASES[case])


def test_repeat_interleave_tensor_repeats_gradcheck():
    from cgrad.autograd import gradcheck
    x = cgrad.tensor(np.random.RandomState(0).normal(size=(3, 2)), requires_grad=True)
    assert gradcheck(lambda t: cgrad.repeat_interleave(t, cgrad.tensor([2, 0, 1]), dim=0), (x,))
    assert gradcheck(lambda t: cgrad.repeat_interleave(t, cgrad.tensor([3]), dim=1), (x,))


# --- finfo / iinfo --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["float32", "float64", "float16"])
def test_finfo_matches_torch(name):
    info = cgrad.finfo(getattr(cgrad, name))
    assert info.dtype == name and info.bits == np.finfo(name).bits
    assert info.eps == float(np.finfo(name).eps) and info.tiny == float(np.finfo(name).tiny)
    if torch is None:
        return
    ref = torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "resolution", "smallest_normal", "tiny", "dtype"):
        assert getattr(info, attr) == getattr(ref, attr), attr
    assert repr(info) == repr(ref)


@pytest.mark.parametrize("name", ["int64", "int32", "int16", "int8", "uint8"])
def test_iinfo_matches_torch(name):
    info = cgrad.iinfo(getattr(cgrad, name))
    assert (info.min, info.max) == (int(np.iinfo(name).min), int(np.iinfo(name).max))
    if torch is None:
        return
    ref = torch.iinfo(getattr(torch, name))
    assert (info.bits, info.min, info.max, info.dtype) == (ref.bits, ref.min, ref.max, ref.dtype)
    assert repr(info) == repr(ref)


def test_finfo_default_and_errors():
    assert cgrad.finfo() == cgrad.finfo(cgrad.float32)
    with pytest.raises(TypeError, match="requires a floating point input type"):
        cgrad.finfo(cgrad.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        cgrad.iinfo(cgrad.float32)
    with pytest.raises(TypeError, match="cgrad.bool is not supported by cgrad.iinfo"):
        cgrad.iinfo(cgrad.bool)


# --- default dtype and legacy tensor types ----------------------------------------------

def test_set_default_dtype_changes_the_factories_and_layers():
    try:
        cgrad.set_default_dtype(cgrad.float64)
        assert cgrad.get_default_dtype() == cgrad.float64
        made = [cgrad.tensor([1.5]), cgrad.zeros(2), cgrad.ones(1), cgrad.rand(2), cgrad.randn(2),
                cgrad.arange(3.0), cgrad.linspace(0, 1, 3), cgrad.full((1,), 2.0), cgrad.tensor([1, 2]) * 0.5,
                cgrad.nn.Linear(2, 2).weight]
        assert all(t.dtype == cgrad.float64 for t in made)
        assert cgrad.tensor([1, 2]).dtype == cgrad.int64
        assert cgrad.finfo().bits == 64
    finally:
        cgrad.set_default_dtype(cgrad.float32)
    assert cgrad.get_default_dtype() == cgrad.float32 and cgrad.tensor([1.5]).dtype == cgrad.float32
    with pytest.raises(TypeError, match="only floating-point types are supported as the default type"):
        cgrad.set_default_dtype(cgrad.int64)


def test_legacy_tensor_types():
    x = cgrad.FloatTensor([[1, 2], [3, 4]])
    assert x.dtype == cgrad.float32 and x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert cgrad.LongTensor(2, 3).shape == (2, 3) and cgrad.LongTensor(2, 3).dtype == cgrad.int64
    assert cgrad.DoubleTensor(cgrad.Size([4])).shape == (4,)
    assert cgrad.FloatTensor().shape == (0,)
    assert isinstance(x, cgrad.FloatTensor) and not isinstance(x, cgrad.DoubleTensor)
    assert x.type(cgrad.DoubleTensor).dtype == cgrad.float64
    assert cgrad.typename(x) == "cgrad.FloatTensor" and cgrad.typename(3) == "int"
    assert repr(cgrad.FloatTensor) == "<class 'cgrad.FloatTensor'>"
    with pytest.raises(TypeError):
        cgrad.FloatTensor(cgrad.tensor([1, 2]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            cgrad.set_default_tensor_type(cgrad.DoubleTensor)
            assert cgrad.get_default_dtype() == cgrad.float64
        finally:
            cgrad.set_default_dtype(cgrad.float32)
    assert "deprecated" in str(caught[0].message)
    if torch is not None:
        assert cgrad.typename(cgrad.nn.Linear(1, 1)) == torch.typename(torch.nn.Linear(1, 1)).replace(
            "torch", "cgrad")


# --- out= of the matrix products --------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("name, shapes", [("matmul", [(2, 3), (3, 4)]), ("mm", [(2, 3), (3, 4)]),
                                          ("mv", [(2, 3), (3,)]), ("dot", [(3,), (3,)]),
                                          ("bmm", [(2, 2, 3), (2, 3, 1)])])
def test_matrix_products_write_out(name, shapes):
    arrays = [RNG.standard_normal(s).astype(np.float32) for s in shapes]
    results = []
    for lib in (cgrad, torch):
        out = lib.empty(0)
        returned = getattr(lib, name)(*[lib.tensor(a) for a in arrays], out=out)
        assert returned is out
        results.append(out.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-5)
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        getattr(cgrad, name)(*[cgrad.tensor(a, requires_grad=True) for a in arrays], out=cgrad.empty(0))


@requires_torch
def test_stack_and_index_select_write_out():
    for lib in (cgrad, torch):
        out = lib.empty(2, 2)
        assert lib.stack([lib.ones(2), lib.zeros(2)], out=out) is out
        assert out.tolist() == [[1.0, 1.0], [0.0, 0.0]]
        picked = lib.empty(0, dtype=lib.int64)
        lib.index_select(lib.tensor([5, 6, 7]), 0, lib.tensor([2, 0]), out=picked)
        assert picked.tolist() == [7, 5]


# --- nn.init ----------------------------------------------------------------------------

@requires_torch
@pytest.mark.parametrize("shape, groups", [((4, 2, 3), 2), ((3, 3, 3, 3), 1), ((2, 4, 1, 3, 3), 1)])
def test_dirac_matches_torch(shape, groups):
    got = cgrad.nn.init.dirac_(cgrad.empty(*shape), groups)
    want = torch.nn.init.dirac_(torch.empty(*shape), groups)
    np.testing.assert_array_equal(got.numpy(), want.numpy())


def test_orthogonal_trunc_normal_and_sparse():
    q = cgrad.nn.init.orthogonal_(cgrad.empty(6, 4), gain=2.0)
    np.testing.assert_allclose((q.T @ q).numpy(), 4 * np.eye(4), atol=1e-5)
    wide = cgrad.nn.init.orthogonal_(cgrad.empty(3, 2, 4))
    flat = wide.reshape(3, 8).numpy()
    np.testing.assert_allclose(flat @ flat.T, np.eye(3), atol=1e-5)
    for kwargs in ({"std": 0.02, "a": -0.04, "b": 0.04}, {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 3.0}):
        t = cgrad.nn.init.trunc_normal_(cgrad.empty(5000), **kwargs)
        assert float(t.min()) >= kwargs["a"] and float(t.max()) <= kwargs["b"]
    t = cgrad.nn.init.trunc_normal_(cgrad.empty(20000), std=1.0, a=-2.0, b=2.0)
    assert abs(float(t.mean())) < 0.05 and abs(float(t.std()) - 0.88) < 0.03   # truncated N(0,1)'s std
    s = cgrad.nn.init.sparse_(cgrad.empty(10, 4), sparsity=0.3)
    assert (s == 0).sum(0).tolist() == [3, 3, 3, 3]


def test_init_uses_the_generator_given():
    draws = []
    for _ in range(2):
        g = cgrad.Generator().manual_seed(7)
        draws.append(cgrad.nn.init.kaiming_uniform_(cgrad.empty(3, 4), generator=g))
    assert cgrad.equal(draws[0], draws[1])


def test_deprecated_init_names_warn_and_forward():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = cgrad.nn.init.constant(cgrad.empty(2), 3.0)
    assert t.tolist() == [3.0, 3.0]
    assert caught[0].category is FutureWarning
    assert str(caught[0].message) == "`nn.init.constant` is now deprecated in favor of `nn.init.constant_`."


# --- names and reprs --------------------------------------------------------------------

@requires_torch
def test_functional_table_entries_carry_torch_names():
    for name in ("selu", "celu", "hardtanh", "hardsigmoid", "hardswish", "mish", "logsigmoid", "threshold",
                 "softshrink", "hardshrink", "selu_"):
        assert getattr(cgrad.nn.functional, name).__name__ == getattr(torch.nn.functional, name).__name__


@requires_torch
def test_optimizer_repr_with_two_groups_matches_torch():
    reprs = []
    for lib in (cgrad, torch):
        w, b = lib.nn.Parameter(lib.ones(2)), lib.nn.Parameter(lib.ones(1))
        reprs.append(repr(lib.optim.SGD([{"params": [w]}, {"params": [b], "lr": 1.0}], lr=0.1)))
    assert reprs[0] == reprs[1]


def test_vmap_of_a_namespace_function_passed_directly():
    out = cgrad.func.vmap(cgrad.dot)(cgrad.ones(3, 2), cgrad.arange(6.0).reshape(3, 2))
    assert out.tolist() == [1.0, 5.0, 9.0]
    out = cgrad.func.vmap(cgrad.mv, in_dims=(None, 0))(cgrad.eye(2), cgrad.tensor([[1.0, 2.0], [3.0, 4.0]]))
    assert out.tolist() == [[1.0, 2.0], [3.0, 4.0]]


# --- cgrad.testing.assert_close -------------------------------------------------------------

ASSERT_CLOSE_CASES = [
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 3.0])),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0, 3.0])),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0], dtype=lib.float64)),
    lambda lib: lib.testing.assert_close(lib.tensor([1, 2]), lib.tensor([1, 3])),
    lambda lib: lib.testing.assert_close(lib.tensor([[1.0, 2.0], [3.0, 4.0]]), lib.tensor([[1.0, 2.5], [3.0, 4.0]]),
                                         msg="custom"),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, float("nan")]), lib.tensor([1.0, float("nan")])),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, float("nan")]), lib.tensor([1.0, float("nan")]),
                                         equal_nan=True),
    lambda lib: lib.testing.assert_close(1.0, 1.0 + 1e-9),
    lambda lib: lib.testing.assert_close(1, 2),
    lambda lib: lib.testing.assert_close(lib.tensor(1.0), 1.0),
    lambda lib: lib.testing.assert_close(lib.tensor(1.0), lib.tensor(2.0)),
    lambda lib: lib.testing.assert_close([lib.tensor(1.0)], [lib.tensor(2.0)]),
    lambda lib: lib.testing.assert_close({"a": lib.ones(2)}, {"a": lib.zeros(2)}),
    lambda lib: lib.testing.assert_close([1, 2], [1, 2, 3]),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.1]), rtol=0.1, atol=0),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.1]), rtol=0.1),
    lambda lib: lib.testing.assert_close(lib.ones(2, requires_grad=True), lib.ones(2)),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.0], dtype=lib.float64),
                                         check_dtype=False),
    lambda lib: lib.testing.assert_close(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 2.000001])),
    lambda lib: lib.testing.assert_close(lib.arange(6.0).reshape(2, 3), lib.arange(6.0).reshape(2, 3) * 1.5),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(ASSERT_CLOSE_CASES)))
def test_assert_close_matches_torch(case):
    call = ASSERT_CLOSE_CASES[case]
    try:
        call(torch)
        expected = None
    except Exception as error:     # noqa: BLE001 - the oracle's outcome, compared below
        expected = error
    if expected is None:
        call(cgrad)
        return
    with pytest.raises(type(expected)) as got:
        call(cgrad)
    assert str(got.value).replace("cgrad", "torch") == str(expected)


# --- process-wide switches and cgrad.version ----------------------------------------------

def test_global_switches_record_and_report_like_torch():
    try:
        assert not cgrad.are_deterministic_algorithms_enabled() and cgrad.get_deterministic_debug_mode() == 0
        cgrad.use_deterministic_algorithms(True, warn_only=True)
        assert cgrad.get_deterministic_debug_mode() == 1 and cgrad.is_deterministic_algorithms_warn_only_enabled()
        cgrad.set_deterministic_debug_mode("error")
        assert cgrad.are_deterministic_algorithms_enabled()
        assert not cgrad.is_deterministic_algorithms_warn_only_enabled()
        with pytest.raises(RuntimeError, match="expected one of `default`, `warn`, `error`, but got bad"):
            cgrad.set_deterministic_debug_mode("bad")
        with pytest.raises(TypeError, match="must be bool, not str"):
            cgrad.use_deterministic_algorithms("yes")
    finally:
        cgrad.use_deterministic_algorithms(False)
    try:
        cgrad.set_float32_matmul_precision("high")
        assert cgrad.get_float32_matmul_precision() == "high"
        with pytest.warns(UserWarning, match="low is not one of 'highest', 'high', or 'medium'"):
            cgrad.set_float32_matmul_precision("low")
        assert cgrad.get_float32_matmul_precision() == "high"
    finally:
        cgrad.set_float32_matmul_precision("highest")
    assert cgrad.version.cuda is None and cgrad.version.__version__ == cgrad.__version__


def test_alias_methods_dispatch_under_vmap():
    x, y = cgrad.ones(3, 2), cgrad.full((3, 2), 2.0)
    assert cgrad.func.vmap(lambda a, b: a.multiply(b))(x, y).tolist() == [[2.0, 2.0]] * 3
    assert cgrad.func.vmap(lambda a, b: a.subtract(b, alpha=2))(x, y).tolist() == [[-3.0, -3.0]] * 3


def test_data_parallel_without_gpus_calls_the_module():
    net = cgrad.nn.Linear(2, 1)
    wrapped = cgrad.nn.DataParallel(net, device_ids=[0])
    x = cgrad.ones(3, 2)
    assert wrapped.module is net and wrapped.device_ids == []
    assert cgrad.equal(wrapped(x), net(x))
    assert list(wrapped.state_dict()) == ["module.weight", "module.bias"]
    assert cgrad.equal(cgrad.nn.parallel.data_parallel(net, x), net(x))
    if torch is not None:
        assert repr(wrapped).replace("cgrad", "torch") == repr(torch.nn.DataParallel(torch.nn.Linear(2, 1)))


# --- amp ----------------------------------------------------------------------------------

def _scaler_run(lib, scaler):
    p = lib.nn.Parameter(lib.ones(2))
    opt = lib.optim.SGD([p], lr=0.1)
    history = []
    for grad in (None, [float("inf"), 1.0], None, None):
        opt.zero_grad()
        if grad is None:
            scaler.scale((p * 2).sum()).backward()
        else:
            p.grad = lib.tensor(grad)
        scaler.step(opt)
        scaler.update()
        history.append((p.tolist(), scaler.get_scale()))
    return history, scaler.state_dict()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_grad_scaler_matches_torch():
    kwargs = {"init_scale": 4.0, "growth_interval": 2}
    history, state = _scaler_run(cgrad, cgrad.amp.GradScaler("cpu", **kwargs))
    assert [scale for _, scale in history] == [4.0, 2.0, 2.0, 4.0]   # backoff after inf, growth after 2
    assert history[1][0] == history[0][0]                           # the inf step was skipped
    disabled = cgrad.cuda.amp.GradScaler(enabled=True)               # no CUDA: disables itself
    assert not disabled.is_enabled() and disabled.get_scale() == 1.0 and disabled.state_dict() == {}
    from cgrad.cuda.amp import GradScaler, autocast  # noqa: F401  (PyTorch's import line)
    if torch is not None:
        want_history, want_state = _scaler_run(torch, torch.amp.GradScaler("cpu", **kwargs))
        assert history == want_history
        want_state["_growth_tracker"] = int(want_state["_growth_tracker"])
        assert state == want_state


def test_autocast_for_cuda_disables_itself_and_cpu_computes_in_bfloat16():
    with pytest.warns(UserWarning, match="Disabling autocast"):
        with cgrad.autocast(device_type="cuda"):
            assert not cgrad.is_autocast_enabled()
    with cgrad.autocast("cpu", enabled=False):
        assert (cgrad.ones(2) @ cgrad.ones(2)).dtype == cgrad.float32
    with cgrad.autocast("cpu"):
        assert (cgrad.ones(2) @ cgrad.ones(2)).dtype == cgrad.bfloat16
    cgrad.backends.cuda.matmul.allow_tf32 = True   # scripts set it; no effect on the CPU
    assert cgrad.backends.cuda.matmul.allow_tf32
    cgrad.backends.cuda.matmul.allow_tf32 = False


# --- nn.functional ops under their torch-level names ----------------------------------------

X4 = RNG.standard_normal((2, 4, 6, 6))
W4 = RNG.standard_normal((3, 4, 3, 3)) * 0.2


@pytest.mark.parametrize("fn", [
    lambda lib, x, w: lib.conv2d(x, w, None, 1, 1),
    lambda lib, x, w: lib.conv1d(x[:, :, 0], w[:, :, 0], None, 2),
    lambda lib, x, w: lib.layer_norm(x, [6, 6], None, None, 1e-5, True),
    lambda lib, x, w: lib.group_norm(x, 2, None, None, 1e-5, True),
    lambda lib, x, w: lib.max_pool2d(x, 2),
    lambda lib, x, w: lib.max_pool1d(x[:, :, 0], 3, 2, 1),
    lambda lib, x, w: lib.avg_pool1d(x[:, :, 0], 2),
    lambda lib, x, w: lib.adaptive_avg_pool1d(x[:, :, 0], 3),
    lambda lib, x, w: lib.cosine_similarity(x, x.flip(0)),
    lambda lib, x, w: lib.pairwise_distance(x[:, :, 0, 0], x[:, :, 1, 1]),
    lambda lib, x, w: lib.pixel_shuffle(x, 2),
    lambda lib, x, w: lib.pixel_unshuffle(x, 2),
    lambda lib, x, w: lib.embedding(w.reshape(12, 9), lib.tensor([[1, 0], [11, 3]])),
])
def test_functional_ops_under_torch_names_match_torch(fn):
    compare_with_torch(fn, X4, W4, gradgradcheck=False)


def test_torch_level_embedding_takes_padding_idx_positionally():
    # the padding row gets no gradient by design: not a derivative finite differences can check
    compare_with_torch(lambda lib, w: lib.embedding(w, lib.tensor([1, 0, 0]), 0), W4.reshape(12, 9),
                       gradcheck=False, reference=lambda w: w[[1, 0, 0]].astype(np.float64))


# --- Fold, Unfold, ChannelShuffle, Softmax2d ------------------------------------------------

@pytest.mark.parametrize("make, shape", [
    (lambda nn: nn.Unfold(kernel_size=2, stride=2), (2, 3, 4, 4)),
    (lambda nn: nn.Fold(output_size=(4, 4), kernel_size=2, stride=2), (2, 12, 4)),
    (lambda nn: nn.ChannelShuffle(2), (2, 4, 3)),
    (lambda nn: nn.Softmax2d(), (2, 3, 2, 2)),
])
def test_fold_shuffle_modules_match_torch(make, shape):
    out, ref = compare_with_torch(lambda lib, x: make(lib.nn)(x), RNG.standard_normal(shape), gradgradcheck=False)
    if ref is not None:
        assert repr(make(cgrad.nn)) == repr(make(torch.nn))


@requires_torch
@pytest.mark.parametrize("call", [
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(2, 4), 2),
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(1, 4, 2), 0),
    lambda lib: lib.nn.functional.channel_shuffle(lib.ones(1, 3, 2), 2),
    lambda lib: lib.nn.Softmax2d()(lib.ones(3)),
])
def test_channel_shuffle_and_softmax2d_errors_match_torch(call):
    with pytest.raises(Exception) as want:
        call(torch)
    with pytest.raises(type(want.value)) as got:
        call(cgrad)
    assert str(got.value) == str(want.value)


# --- numerical helpers ----------------------------------------------------------------------

Y5 = RNG.standard_normal((3, 5))
XS = np.sort(RNG.uniform(0, 4, 5))


@pytest.mark.parametrize("fn", [
    lambda lib, y, x: lib.trapezoid(y),
    lambda lib, y, x: lib.trapezoid(y, dx=0.5, dim=0),
    lambda lib, y, x: lib.trapezoid(y, x),
    lambda lib, y, x: lib.trapz(y, x),
    lambda lib, y, x: lib.cumulative_trapezoid(y),
    lambda lib, y, x: lib.cumulative_trapezoid(y, x),
    lambda lib, y, x: lib.vander(y[0].detach()),    # torch's vander has no usable backward (in-place cumprod)
    lambda lib, y, x: lib.vander(y[0].detach(), N=3, increasing=True),
    lambda lib, y, x: lib.cov(y),
    lambda lib, y, x: lib.cov(y, correction=0),
    lambda lib, y, x: lib.cov(y[0]),
    lambda lib, y, x: lib.cov(y, fweights=lib.tensor([1, 2, 1, 1, 3]), aweights=x),
    lambda lib, y, x: lib.corrcoef(y),
    lambda lib, y, x: y.renorm(2, 0, 1.0),
    lambda lib, y, x: y.renorm(1, 1, 0.5),
    lambda lib, y, x: y.sum_to_size(1, 5),
    lambda lib, y, x: y.unsqueeze(0).sum_to_size(3, 1),
])
def test_numerical_helpers_match_torch(fn):
    compare_with_torch(fn, Y5, XS, atol=1e-5)


@requires_torch
def test_integer_helpers_match_torch():
    for call in (lambda lib: lib.unravel_index(lib.tensor([5, 1, -1]), (2, 3)),
                 lambda lib: (lib.gcd(lib.tensor([0, -4, 9]), lib.tensor([6, 6, 6])),),
                 lambda lib: (lib.lcm(lib.tensor([4, -4, 3]), lib.tensor([6, 0, 5])),),
                 lambda lib: (lib.vander(lib.tensor([1, 2, 3]), N=2),)):
        for got, want in zip(call(cgrad), call(torch)):
            assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
            assert got.tolist() == want.tolist()
    for call in (lambda lib: lib.gcd(lib.tensor([1.0]), lib.tensor([2.0])),
                 lambda lib: lib.ones(2, 3).sum_to_size(2, 2),
                 lambda lib: lib.tensor([1.0, 2.0]).renorm(2, 0, 1)):
        with pytest.raises(RuntimeError) as want:
            call(torch)
        with pytest.raises(RuntimeError) as got:
            call(cgrad)
        assert str(got.value) == str(want.value)


UNRAVEL_CASES = [
    lambda lib: lib.unravel_index(lib.tensor([12, -1, -11, 25]), (2, 5)),     # wraps around, no range check
    lambda lib: lib.unravel_index(lib.tensor(7), (2, 5)),
    lambda lib: lib.unravel_index(lib.tensor([[3, 7], [1, 2]]), (2, 5)),
    lambda lib: lib.unravel_index(lib.tensor([3]), ()),
    lambda lib: lib.unravel_index(lib.tensor([3]), (2, 0)),
    lambda lib: lib.unravel_index(lib.tensor([3]), (2, -1)),
    lambda lib: lib.unravel_index(lib.tensor([3]), (2, 1.5)),
    lambda lib: lib.unravel_index(lib.tensor([3]), 4),
    lambda lib: lib.unravel_index(lib.tensor([3]), 4.0),
    lambda lib: lib.unravel_index(lib.tensor([3], dtype=lib.int32), lib.Size([2, 2])),
    lambda lib: lib.unravel_index(lib.tensor([3], dtype=lib.uint8), [2, 2]),
    lambda lib: lib.unravel_index(lib.tensor([True]), (2, 2)),
    lambda lib: lib.unravel_index(3, (2, 2)),
    lambda lib: lib.unravel_index(lib.tensor([], dtype=lib.int64), (2, 2)),
]


def _unravel_outcome(lib, call):
    try:
        return [(str(t.dtype).split(".")[-1], t.tolist()) for t in call(lib)]
    except Exception as error:       # the outcome is what is compared; dtypes print with their module's name
        return (type(error).__name__, str(error).replace("cgrad.", "torch."))


@pytest.mark.parametrize("case", range(len(UNRAVEL_CASES)))
def test_unravel_index_wraps_and_checks_as_torch(case):
    got = _unravel_outcome(cgrad, UNRAVEL_CASES[case])
    hand = {0: [("int64", [0, 1, 1, 1]), ("int64", [2, 4, 4, 0])], 3: [], 4: ("RuntimeError", "ZeroDivisionError")}
    if case in hand:
        assert got == hand[case]
    if torch is not None:
        assert got == _unravel_outcome(torch, UNRAVEL_CASES[case])


# --- nn.utils.weight_norm -------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("dim", [0, 1, None])
def test_weight_norm_matches_torch(dim):
    weight = RNG.standard_normal((4, 3, 2))
    x = RNG.standard_normal((2, 3, 5))
    results = []
    for lib in ([cgrad] + ([torch] if torch is not None else [])):
        conv = lib.nn.Conv1d(3, 4, 2)
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(weight, dtype=lib.float32))
            conv.bias.zero_()
        lib.nn.utils.weight_norm(conv, dim=dim)
        assert [n for n, _ in conv.named_parameters()] == ["bias", "weight_g", "weight_v"]
        out = conv(lib.tensor(x, dtype=lib.float32))
        assert type(out.grad_fn).__name__ == "ConvolutionBackward0"
        assert type(conv.weight.grad_fn).__name__ == ("WeightNormInterfaceBackward0" if dim == 0 else "MulBackward0")
        (out ** 2).sum().backward()
        results.append([out.detach().numpy(), conv.weight_g.grad.numpy(), conv.weight_v.grad.numpy()])
        lib.nn.utils.remove_weight_norm(conv)
        assert [n for n, _ in conv.named_parameters()] == ["weight", "bias"] or \
            sorted(n for n, _ in conv.named_parameters()) == ["bias", "weight"]
        np.testing.assert_allclose(conv.weight.detach().numpy(), weight, rtol=1e-5)
    if len(results) == 2:
        for got, want in zip(*results):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_tensor_new_is_the_legacy_constructor_of_its_dtype():
    x = cgrad.ones(2, dtype=cgrad.float64)
    assert x.new(2, 3).shape == (2, 3) and x.new(2, 3).dtype == cgrad.float64
    assert x.new([1, 2]).tolist() == [1.0, 2.0] and x.new().shape == (0,)
    weight = cgrad.nn.Linear(2, 2).weight
    hidden = weight.new(2, 1, 3).zero_()
    assert hidden.dtype == cgrad.float32 and not hidden.requires_grad and hidden.sum().item() == 0
    with pytest.raises(TypeError):
        x.new(cgrad.ones(2))


def test_variable_is_a_detached_alias_with_requires_grad():
    from cgrad.autograd import Variable
    base = cgrad.ones(2)
    v = Variable(base, requires_grad=True)
    assert type(v) is cgrad.Tensor and v.requires_grad and v.is_leaf and not base.requires_grad
    v.data.add_(1)
    assert base.tolist() == [2.0, 2.0]             # shares base's memory
    assert isinstance(base, Variable) and not Variable(base).requires_grad
    assert Variable().shape == (0,)
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(base, volatile=True)


# --- RMSNorm --------------------------------------------------------------------------------

@pytest.mark.parametrize("fn", [
    lambda lib, x, w: lib.nn.functional.rms_norm(x, (5,)),
    lambda lib, x, w: lib.nn.functional.rms_norm(x, [3, 5], eps=1e-5),
    lambda lib, x, w: lib.nn.functional.rms_norm(x, (5,), w),
])
def test_rms_norm_matches_torch(fn):
    compare_with_torch(fn, Y5.reshape(1, 3, 5) * 2, RNG.uniform(0.5, 1.5, 5), atol=1e-5)


@requires_torch
def test_rms_norm_module_and_errors_match_torch():
    for make in (lambda nn: nn.RMSNorm(3), lambda nn: nn.RMSNorm([2, 3], eps=1e-5, elementwise_affine=False)):
        got, want = make(cgrad.nn), make(torch.nn)
        assert repr(got) == repr(want)
        assert [tuple(p.shape) for p in got.parameters()] == [tuple(p.shape) for p in want.parameters()]
    with pytest.raises(RuntimeError) as want:
        torch.nn.functional.rms_norm(torch.ones(2, 3), (4,))
    with pytest.raises(RuntimeError) as got:
        cgrad.nn.functional.rms_norm(cgrad.ones(2, 3), (4,))
    assert str(got.value) == str(want.value)
