"""cgrad.library against torch.library: custom_op (schema inference and its
errors, calls and argument errors, register_autograd with setup_context,
register_kernel, set_kernel_enabled, mutation version bumps, the aliasing
check, tensor-list arguments), Library/define/impl and the ops namespace.
The same scenario runs through both libraries and every step's outcome
(value, grad_fn name, gradient, schema text, exception type and text) is
compared; float64 gradcheck through custom ops; torch-free checks of the
values, gradients and errors."""
import itertools
import warnings
from typing import Optional, Sequence

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

_namespaces = itertools.count()


def _outcome(function):
    try:
        return ("value", _plain(function()))
    except Exception as error:        # the outcome is what is compared
        text = str(error).replace("torch._library.custom_ops", "MODULE").replace("cgrad.library", "MODULE")
        text = text.split(" from '")[0].replace("torch.", "").replace("cgrad.", "")    # signatures name the library
        return ("raise", type(error).__name__, text)


def _plain(value):
    """Library-neutral form: tensors as lists, type names without the package."""
    if hasattr(value, "tolist") and hasattr(value, "grad_fn"):
        return ("tensor", value.tolist())
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    text = str(value)
    return text.replace("torch.", "").replace("cgrad.", "") if not isinstance(value, (int, float, bool)) else value


def scenario(lib, ns):
    """Steps through lib.library; returns each step's outcome."""
    T = lib.Tensor
    steps = []
    step = steps.append

    @lib.library.custom_op(f"{ns}::mysin", mutates_args=())
    def mysin(x: T) -> T:
        return lib.from_numpy(np.sin(x.detach().numpy()))

    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos()
    mysin.register_autograd(backward, setup_context=setup_context)
    step(_outcome(lambda: mysin._schema))
    step(_outcome(lambda: repr(mysin)))
    x = lib.tensor([0.1, 0.2, 0.3], dtype=lib.float64, requires_grad=True)
    y = mysin(x)
    step(_outcome(lambda: type(y.grad_fn).__name__))
    y.sum().backward()
    step(_outcome(lambda: x.grad))
    step(_outcome(lambda: mysin(lib.ones(2)).requires_grad))
    step(_outcome(lambda: (str(getattr(lib.ops, ns).mysin), str(getattr(lib.ops, ns).mysin.default))))
    step(_outcome(lambda: getattr(lib.ops, ns).mysin(lib.zeros(1))))

    @lib.library.custom_op(f"{ns}::noag", mutates_args=())
    def noag(x: T) -> T:
        return x.detach().clone() * 2
    y = noag(lib.ones(2, requires_grad=True))
    step(_outcome(lambda: type(y.grad_fn).__name__))
    step(_outcome(lambda: y.sum().backward()))

    @lib.library.custom_op(f"{ns}::alias", mutates_args=())
    def alias(x: T) -> T:
        return x
    step(_outcome(lambda: alias(lib.ones(2))))

    @lib.library.custom_op(f"{ns}::view", mutates_args=())
    def view(x: T) -> T:
        return x.view(-1)
    step(_outcome(lambda: view(lib.ones(2))))

    @lib.library.custom_op(f"{ns}::mut", mutates_args=("y",))
    def mut(x: T, y: T) -> None:
        y.add_(x)
    a, b = lib.ones(2), lib.zeros(2)
    version = b._version
    step(_outcome(lambda: mut(a, b)))
    step(_outcome(lambda: (b, b._version - version, mut._schema)))
    step(_outcome(lambda: mut.register_autograd(lambda ctx, g: g)))

    @lib.library.custom_op(f"{ns}::two", mutates_args=())
    def two(x: T, k: float) -> tuple[T, T]:
        return x * k, x + k
    two.register_autograd(lambda ctx, ga, gb: (ga * ctx.k + gb, None),
                          setup_context=lambda ctx, inputs, output: setattr(ctx, "k", inputs[1]))
    x = lib.ones(2, requires_grad=True)
    p, q = two(x, 3.0)
    step(_outcome(lambda: (type(p.grad_fn).__name__, p.grad_fn is q.grad_fn)))
    (p.sum() + q.sum()).backward()
    step(_outcome(lambda: x.grad))
    for call in (lambda: two(x), lambda: two(x, 3.0, 4), lambda: two(x, "a"), lambda: two(3.0, 3.0),
                 lambda: two(x, 3.0, z=1), lambda: two(x, k=2)):
        step(_outcome(call))

    @lib.library.custom_op(f"{ns}::k", mutates_args=())
    def k(x: T, n: int = 3, *, s: float = 1.0) -> T:
        return x.clone() * n * s
    step(_outcome(lambda: (k._schema, str(k._opoverload._schema))))
    seen = []
    k.register_autograd(lambda ctx, g: (g * ctx.factor, None),
                        setup_context=lambda ctx, inputs, keyword_only_inputs, output: (
                            seen.append((len(inputs), inputs[1], keyword_only_inputs)),
                            setattr(ctx, "factor", inputs[1] * keyword_only_inputs["s"])))
    x = lib.ones(1, requires_grad=True)
    k(x, 2, s=3.0).sum().backward()
    step(_outcome(lambda: (seen, x.grad)))
    for call in (lambda: k(x, 2.5), lambda: k(lib.ones(1), True), lambda: k(lib.ones(1), 1, 2),
                 lambda: k(lib.ones(1), 1, 2, 3), lambda: k(lib.ones(1), 1, x=lib.ones(1)), lambda: k(x=lib.ones(1))):
        step(_outcome(call))

    @lib.library.custom_op(f"{ns}::lst", mutates_args=())
    def lst(xs: list[T]) -> list[T]:
        return [t * 2 for t in xs]
    lst.register_autograd(lambda ctx, grads: [g * 2 for g in grads])
    a = lib.ones(2, requires_grad=True)
    result = lst([a, lib.ones(2)])
    step(_outcome(lambda: (type(result).__name__, [type(r.grad_fn).__name__ for r in result])))
    sum(r.sum() for r in result).backward()
    step(_outcome(lambda: a.grad))

    k.register_kernel("cpu")(lambda x, n=3, *, s=1.0: x.clone() * 10)
    step(_outcome(lambda: k(lib.ones(1))))
    with k.set_kernel_enabled("cpu", False):
        step(_outcome(lambda: k(lib.ones(1))))
    step(_outcome(lambda: k(lib.ones(1))))

    @lib.library.custom_op(f"{ns}::cu", mutates_args=(), device_types="cuda")
    def cu(x: T) -> T:
        return x.clone()
    step(_outcome(lambda: cu(lib.ones(1)))[:2])

    def kwarg_tensor(x: T, *, y: T) -> T:
        return x
    step(_outcome(lambda: lib.library.custom_op(f"{ns}::f1", mutates_args=())(lambda x: x)))
    step(_outcome(lambda: lib.library.custom_op(f"{ns}::f2", kwarg_tensor, mutates_args=())))
    step(_outcome(lambda: lib.library.custom_op("nonamespace", lambda x: x, mutates_args=())))
    step(_outcome(lambda: lib.library.custom_op(f"{ns}::f3", lambda x: x)))

    def many(x: T, n: int = 3, s: str = "a", l: list[int] = None, o: Optional[T] = None, fl: float = 1.5,
             b: bool = True, seq: Sequence[T] = None) -> tuple[T, T]:
        return x, x

    def pair(x: T, y: T) -> list[T]:
        return [x]

    def int_mutated(x: T, n: int) -> T:
        return x

    def varargs(x: T, *args) -> T:
        return x

    def one_tuple(x: T) -> tuple[T]:
        return (x,)

    def returns_int(x: T) -> int:
        return 3

    def returns_dict(x: T) -> dict:
        return {}

    def tuple_param(x: tuple[int, int]) -> T:
        return x
    infer = lib.library.infer_schema
    step(_outcome(lambda: infer(many, mutates_args=())))
    step(_outcome(lambda: infer(pair, mutates_args="unknown")))
    step(_outcome(lambda: infer(pair, mutates_args="foo")))
    step(_outcome(lambda: infer(pair, mutates_args=("z",))))
    step(_outcome(lambda: infer(int_mutated, mutates_args=("n",))))
    step(_outcome(lambda: infer(varargs, mutates_args=())))
    step(_outcome(lambda: (infer(one_tuple, mutates_args=()), infer(one_tuple, mutates_args=(), op_name="foo"))))
    step(_outcome(lambda: infer(returns_int, mutates_args=())))
    step(_outcome(lambda: infer(returns_dict, mutates_args=()))[:2])
    step(_outcome(lambda: infer(tuple_param, mutates_args=()))[:2])

    library = lib.library.Library(ns + "L", "DEF")
    library.define("foo(Tensor x, int n=2) -> Tensor")
    library.impl("foo", lambda x, n=2: x * n, "CPU")
    step(_outcome(lambda: getattr(lib.ops, ns + "L").foo(lib.ones(2))))
    library.define("pair(Tensor x, Tensor y) -> (Tensor, Tensor)")
    library.impl("pair", lambda x, y: (x.detach() * 2, y.detach() > 0), "CPU")
    x = lib.ones(2, requires_grad=True)
    first, second = getattr(lib.ops, ns + "L").pair(x, lib.ones(2))
    step(_outcome(lambda: (first.grad_fn.name().rsplit("::")[-1], first.requires_grad, second.requires_grad,
                           [f is None for f, _ in first.grad_fn.next_functions])))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first.sum().backward()
    step(_outcome(lambda: ([str(w.message)[:200] for w in caught], x.grad)))
    library.define("bar(Tensor x) -> Tensor")
    library.impl("bar", lambda x: x * 3, "CompositeImplicitAutograd")
    y = getattr(lib.ops, ns + "L").bar(lib.ones(2, requires_grad=True))
    step(_outcome(lambda: type(y.grad_fn).__name__))
    step(_outcome(lambda: getattr(lib.ops, ns + "L").nope))
    step(_outcome(lambda: library.define("foo(Tensor x) -> Tensor"))[:2])
    step(_outcome(lambda: lib.library.Library(ns + "L", "DEF"))[:2])     # torch adds where it was defined
    lib.library.define(ns + "Q::q", "(Tensor x) -> Tensor")

    @lib.library.impl(ns + "Q::q", "cpu")
    def q_kernel(x):
        return x + 1
    step(_outcome(lambda: getattr(lib.ops, ns + "Q").q(lib.zeros(1))))
    step(_outcome(lambda: getattr(lib.ops, ns + "Q").q()))
    lib.library.register_autograd(ns + "Q::q", lambda ctx, g: g * 5)
    x = lib.zeros(1, requires_grad=True)
    y = getattr(lib.ops, ns + "Q").q(x)
    step(_outcome(lambda: type(y.grad_fn).__name__))
    y.sum().backward()
    step(_outcome(lambda: x.grad))
    return steps


@requires_torch
def test_scenario_matches_torch():
    ns = f"cgradtest{next(_namespaces)}"
    theirs, mine = scenario(torch, ns), scenario(cgrad, ns)
    assert len(mine) == len(theirs)
    for index, (their_step, my_step) in enumerate(zip(theirs, mine)):
        assert my_step == their_step, index


@requires_torch
def test_custom_op_gradcheck_and_values_match_torch():
    ns = f"cgradtest{next(_namespaces)}"

    def define(lib):
        T = lib.Tensor

        @lib.library.custom_op(f"{ns}::scaled_tanh", mutates_args=())
        def scaled_tanh(x: T, scale: float) -> T:
            return lib.tanh(x) * scale
        scaled_tanh.register_autograd(
            lambda ctx, g: (g * ctx.scale * (1 - ctx.saved_tensors[0] ** 2), None),
            setup_context=lambda ctx, inputs, output: (ctx.save_for_backward(lib.tanh(inputs[0])),
                                                       setattr(ctx, "scale", inputs[1])))
        return scaled_tanh
    ops = {"torch": define(torch), "cgrad": define(cgrad)}
    values = np.linspace(-2, 2, 7)
    mine_x = cgrad.tensor(values, requires_grad=True)
    theirs_x = torch.tensor(values, requires_grad=True)
    mine, theirs = ops["cgrad"](mine_x, 1.5), ops["torch"](theirs_x, 1.5)
    mine.sum().backward()
    theirs.sum().backward()
    assert np.allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-14, atol=0)
    assert np.allclose(mine_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-14, atol=0)
    assert cgrad.autograd.gradcheck(lambda t: ops["cgrad"](t, 1.5), (cgrad.tensor(values, requires_grad=True),))


def test_custom_op_without_torch():
    ns = f"cgradtest{next(_namespaces)}"

    @cgrad.library.custom_op(f"{ns}::cube", mutates_args=())
    def cube(x: cgrad.Tensor) -> cgrad.Tensor:
        return cgrad.from_numpy(x.detach().numpy() ** 3)
    cube.register_autograd(lambda ctx, g: g * 3 * ctx.saved_tensors[0] ** 2,
                           setup_context=lambda ctx, inputs, output: ctx.save_for_backward(inputs[0]))
    x = cgrad.tensor([1.0, -2.0, 0.5], dtype=cgrad.float64, requires_grad=True)
    y = cube(x)
    assert y.tolist() == [1.0, -8.0, 0.125]
    assert type(y.grad_fn).__name__ == f"GeneratedBackwardFor_{ns}_cube_defaultBackward"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0, 0.75]
    assert cgrad.autograd.gradcheck(cube, (cgrad.tensor([0.3, -1.1], dtype=cgrad.float64, requires_grad=True),))
    assert cgrad.autograd.gradgradcheck(cube, (cgrad.tensor([0.3, -1.1], dtype=cgrad.float64,
                                                            requires_grad=True),)) is not None
    assert cube._schema == "(Tensor x) -> Tensor" and getattr(cgrad.ops, ns).cube(cgrad.ones(1)).tolist() == [1.0]
    with pytest.raises(ValueError, match=r"^infer_schema\(func\): Parameter x must have a type annotation\."):
        cgrad.library.custom_op(f"{ns}::bad", lambda x: x, mutates_args=())
    with pytest.raises(RuntimeError, match=rf"^{ns}::cube\(\) is missing value for argument 'x'\."):
        cube()


def test_mutating_custom_op_bumps_the_version_without_torch():
    ns = f"cgradtest{next(_namespaces)}"

    @cgrad.library.custom_op(f"{ns}::fill_half", mutates_args=("out",))
    def fill_half(out: cgrad.Tensor) -> None:
        out.numpy()[:] = 0.5
    buffer = cgrad.zeros(3)
    version = buffer._version
    assert fill_half(buffer) is None
    assert buffer.tolist() == [0.5] * 3 and buffer._version == version + 1
    assert fill_half._schema == "(Tensor(a0!) out) -> ()"
