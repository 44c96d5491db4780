"""nn.Module's surface against torch.nn.Module: the same model built in
both libraries (weights copied from numpy) must agree on traversal orders
and names, registration rules and error texts, state_dict contents and
load results, dtype conversion, hooks (forward, pre, full backward) and
printing; and the modules PReLU, Unflatten, ParameterList, ParameterDict."""
from collections import OrderedDict

import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, requires_torch, torch


def build(lib):
    nn = lib.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 4)
            self.act = nn.PReLU(4)
            self.register_buffer("running", lib.arange(4.0))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def forward(self, x):
            return self.act(self.lin(x)) + self.running

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.first = Block()
            self.body = nn.Sequential(OrderedDict(relu=nn.ReLU(), out=nn.Linear(4, 2)))
            self.extras = nn.ModuleList([nn.Tanh(), nn.Tanh()])
            self.shared = self.body          # the same module under two names
            self.scale = nn.Parameter(lib.ones(1))
            self.table = nn.ParameterDict({"b": lib.ones(2), "a": lib.zeros(3)})

        def forward(self, x):
            return self.body(self.first(x)) * self.scale

    net = Net()
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for _, p in net.named_parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype("float32")))
    return net


def names(pairs):
    return [name for name, _ in pairs]


@requires_torch
def test_traversal_orders_and_names_match_torch():
    c, t = build(cgrad), build(torch)
    assert names(c.named_modules()) == names(t.named_modules())
    assert names(c.named_modules(remove_duplicate=False)) == names(t.named_modules(remove_duplicate=False))
    assert names(c.named_children()) == names(t.named_children())
    assert names(c.named_parameters()) == names(t.named_parameters())
    assert names(c.named_parameters(prefix="m", recurse=True)) == names(t.named_parameters(prefix="m"))
    assert names(c.named_parameters(recurse=False)) == names(t.named_parameters(recurse=False))
    assert names(c.named_parameters(remove_duplicate=False)) == names(t.named_parameters(remove_duplicate=False))
    assert names(c.named_buffers()) == names(t.named_buffers())
    assert len(list(c.parameters())) == len(list(t.parameters()))
    assert len(list(c.buffers())) == len(list(t.buffers()))
    seen_c, seen_t = [], []
    c.apply(lambda m: seen_c.append(type(m).__name__))
    t.apply(lambda m: seen_t.append(type(m).__name__))
    assert seen_c == seen_t


@requires_torch
def test_state_dict_keys_values_and_options_match_torch():
    c, t = build(cgrad), build(torch)
    sc, st = c.state_dict(), t.state_dict()
    assert list(sc) == list(st)
    for key in st:
        np.testing.assert_array_equal(sc[key].numpy(), st[key].numpy())
        assert sc[key].requires_grad is False
    assert list(c.state_dict(prefix="model.")) == list(t.state_dict(prefix="model."))
    assert list(c.state_dict(prefix="x")) == list(t.state_dict(prefix="x"))
    kept = c.state_dict(keep_vars=True)
    assert kept["scale"] is c.scale and kept["first.running"] is c.first.running


@requires_torch
def test_forward_matches_torch_and_load_state_dict_round_trip():
    c, t = build(cgrad), build(torch)
    x = np.random.default_rng(1).standard_normal((5, 3)).astype("float32")
    np.testing.assert_allclose(c(cgrad.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    fresh = build(cgrad)
    with cgrad.no_grad():
        for p in fresh.parameters():
            p.zero_()
    result = fresh.load_state_dict(c.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    np.testing.assert_array_equal(fresh(cgrad.tensor(x)).detach().numpy(), c(cgrad.tensor(x)).detach().numpy())


@requires_torch
def test_load_state_dict_errors_and_non_strict_result_match_torch():
    outcomes = []
    for lib in (cgrad, torch):
        net = build(lib)
        sd = net.state_dict()
        del sd["first.lin.bias"]
        sd["first.lin.extra"] = lib.zeros(1)
        sd["bogus"] = lib.zeros(1)
        sd["body.out.weight"] = lib.zeros(3, 3)
        with pytest.raises(RuntimeError) as err:
            net.load_state_dict(sd)
        message = str(err.value).replace("torch.", "cgrad.")
        sd2 = net.state_dict()
        del sd2["scale"]
        sd2["first.junk.weight"] = lib.zeros(1)
        res = net.load_state_dict(sd2, strict=False)
        outcomes.append((message, res.missing_keys, res.unexpected_keys))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0].startswith("Error(s) in loading state_dict for Net:\n\tMissing key(s) in state_dict: "
                                     '"first.lin.bias". \n\tUnexpected key(s) in state_dict: ')


@requires_torch
def test_load_state_dict_assign_and_type_errors():
    for lib in (cgrad, torch):
        lin = lib.nn.Linear(2, 2)
        new_w = lib.ones(2, 2)
        lin.load_state_dict({"weight": new_w, "bias": lib.zeros(2)}, assign=True)
        assert isinstance(lin.weight, lib.nn.Parameter) and lin.weight.requires_grad
        assert lin.weight.data_ptr() == new_w.data_ptr()
        with pytest.raises(TypeError, match="^Expected state_dict to be dict-like, got <class 'list'>.$"):
            lin.load_state_dict([1, 2])
        with pytest.raises(RuntimeError, match='While copying the parameter named "bias", expected torch.Tensor or '
                                               "Tensor-like object from checkpoint but received <class 'list'>"):
            lin.load_state_dict({"weight": lib.ones(2, 2), "bias": [1.0, 2.0]})


REGISTRATION_ERRORS = [
    (lambda lib, m: m.register_buffer(3, None), TypeError, "buffer name should be a string. Got int"),
    (lambda lib, m: m.register_buffer("a.b", None), KeyError, "buffer name can't contain \".\""),
    (lambda lib, m: m.register_buffer("", None), KeyError, 'buffer name can\'t be empty string ""'),
    (lambda lib, m: m.register_buffer("weight", None), KeyError, "attribute 'weight' already exists"),
    (lambda lib, m: m.register_buffer("b", [1]), TypeError,
     "cannot assign 'list' object to buffer 'b' (torch Tensor or None required)"),
    (lambda lib, m: m.register_parameter("p", lib.ones(1)), TypeError,
     "cannot assign 'torch.FloatTensor' object to parameter 'p' (torch.nn.Parameter or None required)"),
    (lambda lib, m: m.register_parameter("a.b", None), KeyError, "parameter name can't contain \".\""),
    (lambda lib, m: m.add_module("x", 3), TypeError, "int is not a Module subclass"),
    (lambda lib, m: m.add_module("a.b", None), KeyError, 'module name can\'t contain ".", got: a.b'),
    (lambda lib, m: m.add_module("", None), KeyError, 'module name can\'t be empty string ""'),
    (lambda lib, m: setattr(m, "weight", lib.ones(2, 3)), TypeError,
     "cannot assign 'torch.FloatTensor' as parameter 'weight' (torch.nn.Parameter or None expected)"),
    (lambda lib, m: m.get_submodule("nope"), AttributeError, "Linear has no attribute `nope`"),
    (lambda lib, m: m.get_submodule("weight"), AttributeError, "`weight` is not an nn.Module"),
    (lambda lib, m: m.get_parameter("nope"), AttributeError, "Linear has no attribute `nope`"),
    (lambda lib, m: m.get_parameter("training"), AttributeError, "`training` is not an nn.Parameter"),
    (lambda lib, m: m.get_buffer("weight"), AttributeError, "`weight` is not a buffer"),
    (lambda lib, m: m.train("yes"), ValueError, "training mode is expected to be boolean"),
    (lambda lib, m: m.to(lib.int64), TypeError,
     "nn.Module.to only accepts floating point or complex dtypes, but got desired dtype=torch.int64"),
    (lambda lib, m: m.missing_attr, AttributeError, "'Linear' object has no attribute 'missing_attr'"),
    (lambda lib, m: lib.nn.Module(3), TypeError, "Module.__init__() takes 1 positional argument but 2 were given"),
    (lambda lib, m: lib.nn.Module(x=1), TypeError, "Module.__init__() got an unexpected keyword argument 'x'"),
]


@pytest.mark.parametrize("action,exc,message", REGISTRATION_ERRORS)
def test_registration_errors_as_torch(action, exc, message):
    libs = [cgrad] + ([torch] if torch is not None else [])
    for lib in libs:
        with pytest.raises(exc) as err:
            action(lib, lib.nn.Linear(3, 2))
        text = err.value.args[0] if exc is KeyError else str(err.value)
        want = message.replace("torch.FloatTensor", "cgrad.FloatTensor").replace("torch.int64", "cgrad.int64") \
            if lib is cgrad else message
        assert text == want, lib.__name__


def test_setattr_moves_names_between_stores_as_torch():
    m = cgrad.nn.Module()
    m.x = cgrad.nn.Parameter(cgrad.ones(1))
    with pytest.raises(TypeError, match=r"^cannot assign 'cgrad.nn.modules.linear.Linear' as parameter 'x' "
                                        r"\(torch.nn.Parameter or None expected\)$"):
        m.x = cgrad.nn.Linear(1, 1)                  # a parameter's name takes only parameters
    m.y = cgrad.nn.Linear(1, 1)
    m.y = cgrad.nn.Parameter(cgrad.zeros(1))         # a parameter replaces a module
    assert "y" in m._parameters and "y" not in m._modules
    m.plain_attr = 1
    m.plain_attr = cgrad.nn.Tanh()                    # a module replaces a plain attribute
    assert "plain_attr" in m._modules and "plain_attr" not in m.__dict__
    del m.y, m.plain_attr
    m.register_buffer("b", cgrad.ones(1), persistent=False)
    m.b = cgrad.zeros(2)
    assert m._buffers["b"].shape == (2,) and "b" in m._non_persistent_buffers_set
    with pytest.raises(TypeError, match=r"^cannot assign 'int' as buffer 'b' \(torch.Tensor or None expected\)$"):
        m.b = 3
    m.child = cgrad.nn.ReLU()
    with pytest.raises(TypeError, match=r"^cannot assign 'int' as child module 'child' "
                                        r"\(torch.nn.Module or None expected\)$"):
        m.child = 3
    m.child = None
    assert m._modules["child"] is None and "(child): None" in repr(m)
    del m.x, m.b, m.child
    assert not m._parameters and not m._buffers and not m._modules and not m._non_persistent_buffers_set
    m.plain = 5
    assert m.plain == 5 and "plain" in dir(m)


def test_dtype_conversion_keeps_parameter_objects():
    lin = cgrad.nn.Linear(2, 3)
    w = lin.weight
    opt = cgrad.optim.SGD(lin.parameters(), lr=0.1)
    lin(cgrad.ones(1, 2)).sum().backward()
    lin.register_buffer("count", cgrad.tensor(3))
    assert lin.double() is lin
    assert lin.weight is w and w.dtype == cgrad.float64 and w.grad.dtype == cgrad.float64
    assert lin.count.dtype == cgrad.int64                    # integer buffers stay as they are
    opt.step()
    lin.float()
    assert w.dtype == cgrad.float32
    lin.to(cgrad.float16)
    assert w.dtype == cgrad.float16 and lin.half() is lin
    lin.to(cgrad.zeros(1, dtype=cgrad.float64))
    assert w.dtype == cgrad.float64


@requires_torch
def test_train_eval_requires_grad_zero_grad_as_torch():
    for lib in (cgrad, torch):
        net = build(lib)
        assert net.eval() is net and not any(m.training for m in net.modules())
        net.train()
        assert all(m.training for m in net.modules())
        net.first.train(False)
        assert [m.training for m in net.modules()] == [True, False, False, False, True, True, True, True, True,
                                                        True, True][:len(list(net.modules()))]
        net.requires_grad_(False)
        assert not any(p.requires_grad for p in net.parameters())
        net.requires_grad_()
        net(lib.ones(2, 3)).sum().backward()
        net.zero_grad(set_to_none=False)
        assert all(p.grad is not None and not p.grad.any() for p in net.parameters() if p.grad is not None)
        net.zero_grad()
        assert all(p.grad is None for p in net.parameters())


@requires_torch
def test_repr_matches_torch():
    c, t = build(cgrad), build(torch)
    assert repr(c) == repr(t).replace("torch.", "cgrad.")
    for mod in ("Unflatten(1, (2, 5))", "PReLU()", "PReLU(3, 0.1)",
                "ModuleList([Tanh(), Tanh(), ReLU(), Tanh(), Tanh()])", "Sequential()", "ModuleList()",
                "ParameterList([Parameter(lib.ones(2, 3)), lib.zeros(2), 5])", "ParameterList([lib.ones(2)])"):
        rc = repr(eval(mod, {"lib": cgrad, **vars(cgrad.nn)}))
        rt = repr(eval(mod, {"lib": torch, **vars(torch.nn)}))
        assert rc == rt.replace("torch.", "cgrad."), mod


@requires_torch
def test_forward_hooks_match_torch():
    logs = []
    for lib in (cgrad, torch):
        log = []
        lin = lib.nn.Linear(2, 2)
        h1 = lin.register_forward_pre_hook(lambda m, args: log.append(("pre", len(args))))
        lin.register_forward_pre_hook(lambda m, args: (args[0] * 2,))
        lin.register_forward_pre_hook(lambda m, args, kwargs: log.append(("prekw", sorted(kwargs))) or None,
                                      with_kwargs=True, prepend=True)
        h4 = lin.register_forward_hook(lambda m, args, out: out + 1)
        lin.register_forward_hook(lambda m, args, kwargs, out: log.append(("post", tuple(out.shape))),
                                  with_kwargs=True)
        with torch.no_grad() if lib is torch else cgrad.no_grad():
            lin.weight.copy_(lib.eye(2))
            lin.bias.zero_()
        out = lin(lib.ones(1, 2))
        log.append(out.tolist())
        h1.remove()
        h4.remove()
        log.append(lin(lib.ones(1, 2)).tolist())
        with pytest.raises(RuntimeError, match=r"^forward pre-hook must return None or a tuple of \(new_args, "
                                               r"new_kwargs\), but got 3.$"):
            lin.register_forward_pre_hook(lambda m, a, k: 3, with_kwargs=True)
            lin(lib.ones(1, 2))
        logs.append(log)
    assert logs[0] == logs[1]


@requires_torch
def test_always_call_forward_hook_runs_when_forward_raises():
    for lib in (cgrad, torch):
        seen = []
        lin = lib.nn.Linear(2, 2)
        lin.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
        with pytest.raises(RuntimeError):
            lin(lib.ones(3))
        assert seen == [None]


@requires_torch
def test_full_backward_hooks_match_torch():
    records = []
    for lib in (cgrad, torch):
        rec = []
        lin = lib.nn.Linear(3, 2)
        with torch.no_grad() if lib is torch else cgrad.no_grad():
            lin.weight.copy_(lib.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
            lin.bias.fill_(0.5)

        def hook(module, grad_input, grad_output):
            rec.append(("hook", [None if g is None else g.tolist() for g in grad_input],
                        [g.tolist() for g in grad_output]))
            return (grad_input[0] * 10,)

        def pre_hook(module, grad_output):
            rec.append(("pre", [g.tolist() for g in grad_output]))

        lin.register_full_backward_hook(hook)
        lin.register_full_backward_pre_hook(pre_hook)
        x = lib.tensor([[1.0, -1.0, 2.0]], requires_grad=True)
        out = lin(x)
        rec.append(type(out.grad_fn).__name__)
        (out * lib.tensor([[1.0, 2.0]])).sum().backward()
        rec.append(x.grad.tolist())
        rec.append(lin.weight.grad.tolist())
        with pytest.raises(RuntimeError, match="^Cannot use both regular backward hooks and full backward hooks"):
            lin._is_full_backward_hook = False
            lin.register_full_backward_hook(hook)
        records.append(rec)
    assert records[0] == records[1]


# --- PReLU, Unflatten, ParameterList, ParameterDict -------------------------

@pytest.mark.parametrize("x_shape,w_shape", [((4, 3, 5), (3,)), ((4, 3, 5), (1,)), ((6,), (1,)), ((6,), ()),
                                             ((), ()), ((2, 3), (3,)), ((2, 3, 2, 2), (3,))])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prelu_matches_torch(x_shape, w_shape, dtype):
    rng = np.random.default_rng(3)
    x = np.asarray(rng.standard_normal(x_shape), dtype=dtype)
    w = np.asarray(rng.random(w_shape) * 0.5, dtype=dtype)
    c, t = compare_with_torch(lambda lib, a, b: lib.nn.functional.prelu(a, b), x, w, rtol=1e-6, atol=1e-7)
    assert type(c.grad_fn).__name__ == "PreluKernelBackward0"
    if t is not None:
        assert [type(f[0]).__name__ for f in c.grad_fn.next_functions] == \
               [type(f[0]).__name__ for f in t.grad_fn.next_functions]


def test_prelu_gradcheck_and_double_backward():
    rng = np.random.default_rng(4)
    x = cgrad.tensor(rng.standard_normal((3, 4)) + 0.05, requires_grad=True)
    w = cgrad.tensor(rng.random(4), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda a, b: cgrad.prelu(a, b), (x, w))
    assert cgrad.autograd.gradgradcheck(lambda a, b: cgrad.prelu(a, b), (x, w))


@pytest.mark.parametrize("x,w,exc,message", [
    (lambda l: l.ones(2, 3), lambda l: l.ones(2), RuntimeError,
     "Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 and channel size = 3."),
    (lambda l: l.ones(5), lambda l: l.ones(3), RuntimeError,
     "Mismatch of parameter numbers and input channel size. Found parameter numbers = 3 and channel size = 1."),
    (lambda l: l.ones(2, 3), lambda l: l.ones(1, 3), RuntimeError,
     "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2"),
    (lambda l: l.ones(3, dtype=l.float64), lambda l: l.ones(1), RuntimeError,
     "prelu: Type promoting not supported. Got Double and Float"),
    (lambda l: l.ones(3, dtype=l.int64), lambda l: l.ones(1, dtype=l.int64), NotImplementedError,
     "\"prelu_cpu\" not implemented for 'Long'"),
    (lambda l: [1.0], lambda l: l.ones(1), TypeError,
     "prelu(): argument 'input' (position 1) must be Tensor, not list"),
    (lambda l: l.ones(3), lambda l: 0.5, TypeError,
     "prelu(): argument 'weight' (position 2) must be Tensor, not float"),
])
def test_prelu_errors_as_torch(x, w, exc, message):
    for lib in [cgrad] + ([torch] if torch is not None else []):
        with pytest.raises(exc) as err:
            lib.prelu(x(lib), w(lib))
        assert str(err.value) == message


@requires_torch
def test_prelu_module_trains_like_torch():
    results = []
    for lib in (cgrad, torch):
        m = lib.nn.PReLU(3, init=0.2)
        x = lib.tensor(np.linspace(-2, 2, 12).reshape(2, 3, 2).astype("float32"))
        opt = lib.optim.SGD(m.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            (m(x) ** 2).sum().backward()
            opt.step()
        results.append(m.weight.detach().numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)


@requires_torch
def test_unflatten_matches_torch():
    x = np.arange(24.0).reshape(2, 12)
    compare_with_torch(lambda lib, a: lib.nn.Unflatten(1, (3, 4))(a), x)
    compare_with_torch(lambda lib, a: lib.nn.Unflatten(-1, [2, -1])(a), x)
    for lib in (cgrad, torch):
        with pytest.raises(TypeError, match="^unflattened_size must be tuple of ints, but found element of type "
                                            "str at pos 1$"):
            lib.nn.Unflatten(1, (2, "a"))
        with pytest.raises(TypeError, match="^unflattened_size must be a tuple of ints, but found type int$"):
            lib.nn.Unflatten(1, 5)


@requires_torch
def test_parameter_list_matches_torch():
    out = []
    for lib in (cgrad, torch):
        pl = lib.nn.ParameterList([lib.ones(2), lib.nn.Parameter(lib.zeros(3)), "tag"])
        pl.append(lib.ones(1))
        pl.extend([lib.zeros(2, 2)])
        pl += [lib.ones(4)]
        pl[0] = lib.full((2,), 7.0)
        record = [len(pl), names(pl.named_parameters()), isinstance(pl[0], lib.nn.Parameter), pl[2], pl[-1].shape[0],
                  len(pl[1:4]), [type(v).__name__ for v in pl], pl[0].tolist()]
        for bad, exc in ((lambda: pl[10], IndexError), (lambda: pl.extend(lib.ones(2)), TypeError),
                         (lambda: pl(1), RuntimeError)):
            with pytest.raises(exc) as err:
                bad()
            record.append(str(err.value))
        out.append(record)
    assert out[0] == out[1]


@requires_torch
def test_parameter_dict_matches_torch():
    out = []
    for lib in (cgrad, torch):
        pd = lib.nn.ParameterDict({"z": lib.ones(1), "a": lib.zeros(2)})
        pd["m"] = lib.nn.Parameter(lib.ones(3))
        pd.update([("q", lib.ones(2)), ("note", 4)])
        pd.update(OrderedDict(y=lib.zeros(1), b=lib.zeros(1)))
        record = [list(pd.keys()), names(pd.named_parameters()), "m" in pd, len(pd), pd.get("nope", 9),
                  pd.pop("z").tolist(), list(pd), pd.setdefault("new", lib.ones(1)).tolist(),
                  isinstance(pd["new"], lib.nn.Parameter), pd.popitem()[0], len(pd.copy()), list(reversed(pd))]
        merged = pd | {"extra": lib.ones(1)}
        record.append(list(merged.keys()))
        for bad, exc in ((lambda: pd[3], TypeError), (lambda: pd.update(5), TypeError),
                         (lambda: pd.update([("a", 1, 2)]), ValueError), (lambda: pd("x"), RuntimeError)):
            with pytest.raises(exc) as err:
                bad()
            record.append(str(err.value))
        pd.clear()
        record.append(len(pd))
        out.append(record)
    assert out[0] == out[1]


@requires_torch
def test_container_methods_match_torch():
    out = []
    for lib in (cgrad, torch):
        nn = lib.nn
        seq = nn.Sequential(nn.ReLU(), nn.Tanh())
        seq.insert(1, nn.Sigmoid())
        seq.extend(nn.Sequential(nn.Identity()))
        popped = seq.pop(0)
        del seq[0]
        seq2 = seq + nn.Sequential(nn.ReLU())
        seq3 = seq * 2
        ml = nn.ModuleList([nn.ReLU()])
        ml.insert(0, nn.Tanh())
        ml += [nn.Sigmoid()]
        del ml[1]
        md = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        md.update([("c", nn.Identity())])
        record = [repr(seq), type(popped).__name__, repr(seq2), len(seq3), repr(ml), list(md.keys()), "a" in md,
                  type(md.pop("a")).__name__, repr(seq[-1]), repr(ml[0:1])]
        for bad, exc in ((lambda: seq[5], IndexError), (lambda: seq + 1, ValueError), (lambda: ml[4], IndexError),
                         (lambda: md.update(3), TypeError)):
            with pytest.raises(exc) as err:
                bad()
            record.append(str(err.value).replace("torch.", "cgrad."))
        out.append(record)
    assert out[0] == out[1]


def _registry_reprs(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    model.register_buffer("steps", lib.zeros(1))
    moduledict = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    return [type(model._modules).__name__, type(model._parameters).__name__, type(model._buffers).__name__,
            type(model[0]._parameters).__name__, type(model._forward_hooks).__name__,
            repr(moduledict.keys()), type(moduledict.values()).__name__, type(moduledict.items()).__name__,
            type(model.state_dict()).__name__, list(model._buffers)]


def test_module_registries_are_plain_dicts_as_torch():
    """Parameters, buffers and children live in plain dicts (hooks in OrderedDicts), as PyTorch's Module
    keeps them: ModuleDict.keys() prints dict_keys([...]), print(model._modules) a dict."""
    got = _registry_reprs(cgrad)
    assert got[:8] == ["dict", "dict", "dict", "dict", "OrderedDict", "dict_keys(['a', 'b'])", "dict_values",
                       "dict_items"]
    if torch is not None:
        assert got == _registry_reprs(torch)


def _global_hook_trace(lib):
    """What process-wide forward hooks see and change, beside a module's own hook."""
    from importlib import import_module
    hooks = import_module(lib.__name__ + ".nn.modules.module")
    nn = lib.nn
    seen = []
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    with lib.no_grad():
        model[0].weight.copy_(lib.tensor([[1.0, -1.0], [0.5, 2.0], [-2.0, 0.0]]))
        model[0].bias.zero_()
    local = model[0].register_forward_hook(lambda mod, args, out: seen.append(("local", type(mod).__name__)))
    handles = [
        hooks.register_module_forward_pre_hook(lambda mod, args: seen.append(("pre", type(mod).__name__))),
        hooks.register_module_forward_hook(lambda mod, args, out: seen.append(("post", type(mod).__name__,
                                                                               tuple(out.shape)))),
        hooks.register_module_forward_hook(lambda mod, args, kwargs, out: seen.append(("kw", sorted(kwargs))),
                                           with_kwargs=True),
    ]
    try:
        model(lib.ones(1, 2))
    finally:
        for handle in handles:
            handle.remove()
    model(lib.ones(1, 2))                       # removed: only the module's own hook runs
    doubling = hooks.register_module_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    zeroing = hooks.register_module_forward_hook(lambda mod, args, out: out * 0 if isinstance(mod, nn.ReLU) else None)
    try:
        changed = model[0](lib.ones(1, 2)).tolist(), model(lib.ones(1, 2)).tolist()
    finally:
        doubling.remove()
        zeroing.remove()

    class Failing(nn.Module):
        def forward(self, x):
            raise ValueError("boom")
    always = []
    handle = hooks.register_module_forward_hook(lambda mod, args, out: always.append(out), always_call=True)
    try:
        with pytest.raises(ValueError, match="boom"):
            Failing()(lib.ones(1))
    finally:
        handle.remove()
    local.remove()
    return seen, changed, always


def test_global_module_forward_hooks():
    seen, changed, always = _global_hook_trace(cgrad)
    assert seen == [("pre", "Sequential"), ("pre", "Linear"), ("post", "Linear", (1, 3)), ("kw", []),
                    ("local", "Linear"), ("pre", "ReLU"), ("post", "ReLU", (1, 3)), ("kw", []),
                    ("post", "Sequential", (1, 3)), ("kw", []), ("local", "Linear"),
                    ("local", "Linear"), ("local", "Linear")]
    assert changed == ([[0.0, 5.0, -4.0]], [[0.0, 0.0, 0.0]]) and always == [None]
    if torch is not None:
        assert (seen, changed, always) == _global_hook_trace(torch)
