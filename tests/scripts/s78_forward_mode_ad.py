# The forward-mode AD tutorial: dual_level, make_dual, unpack_dual (namedtuple), tangents through modules (functional_call, parameters as duals), a custom Function with jvp, torch.func.jvp.
import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call


def np_tensor(seed, *shape, dtype=np.float32):
    return torch.from_numpy(np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(dtype))


primal = np_tensor(0, 10, 10)
tangent = np_tensor(1, 10, 10)


def fn(x, y):
    return x ** 2 + y ** 2


with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    assert fwAD.unpack_dual(dual_input).tangent is tangent
    dual_input_alt = fwAD.make_dual(primal, tangent.T)
    assert fwAD.unpack_dual(dual_input_alt).tangent is not tangent
    plain_tensor = np_tensor(2, 10, 10)
    dual_output = fn(dual_input, plain_tensor)
    jvp = fwAD.unpack_dual(dual_output).tangent
    print(jvp[:2, :4])
    print(torch.allclose(jvp, 2 * primal * tangent))
    unpacked = fwAD.unpack_dual(dual_output)
    print(type(unpacked).__name__, unpacked._fields)
    p, t = unpacked
    print(p.shape, t.shape, p.requires_grad, p.grad_fn)
    print(fwAD.unpack_dual(plain_tensor).tangent)
    print(fwAD.unpack_dual(dual_input_alt).tangent.is_contiguous())

print(fwAD.unpack_dual(dual_output).tangent is None)

model = nn.Linear(5, 5)
with torch.no_grad():
    model.weight.copy_(np_tensor(3, 5, 5))
    model.bias.copy_(np_tensor(4, 5))
input = np_tensor(5, 16, 5)
params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.rand_like(p) for name, p in params.items()}
tangents = {name: np_tensor(6 + i, *p.shape) for i, (name, p) in enumerate(params.items())}

with fwAD.dual_level():
    for name, p in params.items():
        delattr(model, name)
        setattr(model, name, fwAD.make_dual(p, tangents[name]))
    out = model(input)
    jvp = fwAD.unpack_dual(out).tangent
print(jvp[:3])
print(torch.allclose(jvp, input @ tangents["weight"].T + tangents["bias"]))

model = nn.Linear(5, 5)
with torch.no_grad():
    model.weight.copy_(np_tensor(3, 5, 5))
    model.bias.copy_(np_tensor(4, 5))
params = {name: p.detach() for name, p in model.named_parameters()}
with fwAD.dual_level():
    dual_params = {}
    for name, p in params.items():
        dual_params[name] = fwAD.make_dual(p, tangents[name])
    out = functional_call(model, dual_params, input)
    jvp2 = fwAD.unpack_dual(out).tangent
print(torch.allclose(jvp, jvp2))


class Fn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, foo):
        result = torch.exp(foo)
        ctx.result = result
        return result

    @staticmethod
    def jvp(ctx, gI):
        gO = gI * ctx.result
        del ctx.result
        return gO


fn = Fn.apply
primal = np_tensor(7, 10, 10, dtype=np.float64).requires_grad_()
tangent = np_tensor(8, 10, 10, dtype=np.float64)
with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    dual_output = fn(dual_input)
    jvp = fwAD.unpack_dual(dual_output).tangent
print(jvp[0, :4])
print(torch.allclose(jvp, tangent * primal.exp()))
print(torch.autograd.gradcheck(Fn.apply, (primal,), check_forward_ad=True, check_backward_ad=False,
                               check_undefined_grad=False, check_batched_grad=False))

from torch.func import jvp as func_jvp
x = np_tensor(9, 5)
t = np_tensor(10, 5)
out, jvp_out = func_jvp(torch.sin, (x,), (t,))
print(out, jvp_out)
print(torch.allclose(jvp_out, t * x.cos()))


def f(x, y):
    return x * y, (x + y).sum()


(o1, o2), (t1, t2) = func_jvp(f, (x, x.flip(0)), (t, torch.ones(5)))
print(t1, t2)
model = nn.Linear(5, 2)
with torch.no_grad():
    model.weight.copy_(np_tensor(11, 2, 5))
    model.bias.zero_()
func_params = dict(model.named_parameters())


def f_params(params):
    return functional_call(model, params, (x,))


_, jvp_params = func_jvp(f_params, (func_params,), ({k: torch.ones_like(v) for k, v in func_params.items()},))
print(jvp_params.detach(), jvp_params.requires_grad)

with fwAD.dual_level():
    x = fwAD.make_dual(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 0.0]))
    y = torch.nn.functional.softmax(x, dim=0)
    z = torch.tanh(x).sum() + x.mean() * x[1]
    print(fwAD.unpack_dual(y).tangent)
    print(fwAD.unpack_dual(z))
    w = x.clone()
    w.mul_(2.0)
    print(fwAD.unpack_dual(w).tangent)
    v = x.view(3, 1).expand(3, 2)
    print(fwAD.unpack_dual(v).tangent)
try:
    fwAD.make_dual(torch.ones(2), torch.ones(2))
except RuntimeError as e:
    print("RuntimeError:", e)
with fwAD.dual_level():
    try:
        fwAD.make_dual(torch.ones(2), torch.ones(3))
    except RuntimeError as e:
        print("RuntimeError:", e)
