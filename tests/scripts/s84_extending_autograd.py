# "Extending PyTorch" notes: LinearFunction with needs_input_grad, MulConstant with a non-tensor argument, setup_context-style Functions, mark_non_differentiable, set_materialize_grads, mark_dirty, vmap of Functions (generate_vmap_rule, a vmap staticmethod), and a Module around a Function.
import numpy as np
import torch
from torch.autograd import Function


def np_tensor(seed, *shape, dtype=np.float64):
    return torch.from_numpy(np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(dtype))


class LinearFunction(Function):
    @staticmethod
    def forward(input, weight, bias):
        output = input.mm(weight.t())
        if bias is not None:
            output += bias.unsqueeze(0).expand_as(output)
        return output

    @staticmethod
    def setup_context(ctx, inputs, output):
        input, weight, bias = inputs
        ctx.save_for_backward(input, weight, bias)

    @staticmethod
    def backward(ctx, grad_output):
        input, weight, bias = ctx.saved_tensors
        grad_input = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_input = grad_output.mm(weight)
        if ctx.needs_input_grad[1]:
            grad_weight = grad_output.t().mm(input)
        if bias is not None and ctx.needs_input_grad[2]:
            grad_bias = grad_output.sum(0)
        return grad_input, grad_weight, grad_bias


linear = LinearFunction.apply
inp = (np_tensor(0, 20, 20).requires_grad_(), np_tensor(1, 30, 20).requires_grad_())
print(torch.autograd.gradcheck(linear, (inp[0], inp[1], None), eps=1e-6, atol=1e-4))
x = np_tensor(2, 4, 3).requires_grad_()
w = np_tensor(3, 2, 3)
b = np_tensor(4, 2).requires_grad_()
out = linear(x, w, b)
print(out.grad_fn.name(), out.shape)
out.sum().backward()
print(x.grad[0], b.grad, w.grad)


class MulConstant(Function):
    @staticmethod
    def forward(tensor, constant):
        return tensor * constant

    @staticmethod
    def setup_context(ctx, inputs, output):
        tensor, constant = inputs
        ctx.constant = constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


x = np_tensor(5, 3).requires_grad_()
y = MulConstant.apply(x, 2.5)
y.sum().backward()
print(y, x.grad)


class MyCube(torch.autograd.Function):
    @staticmethod
    def forward(x):
        result = x ** 3
        dx = 3 * x ** 2
        return result, dx

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        result, dx = output
        ctx.save_for_backward(x, dx)

    @staticmethod
    def backward(ctx, grad_output, grad_dx):
        x, dx = ctx.saved_tensors
        result = grad_output * dx + grad_dx * 6 * x
        return result


def my_cube(x):
    result, dx = MyCube.apply(x)
    return result


x = np_tensor(6, 4).requires_grad_()
print(torch.autograd.gradcheck(my_cube, (x,)), torch.autograd.gradgradcheck(my_cube, (x,)))
g, = torch.autograd.grad(my_cube(x).sum(), x, create_graph=True)
gg, = torch.autograd.grad(g.sum(), x)
print(torch.allclose(gg, 6 * x))


class SortFunc(Function):
    @staticmethod
    def forward(ctx, x):
        sorted, idx = x.sort()
        ctx.mark_non_differentiable(idx)
        ctx.save_for_backward(x, idx)
        return sorted, idx

    @staticmethod
    def backward(ctx, g1, g2):
        x, idx = ctx.saved_tensors
        grad_input = torch.zeros_like(x)
        grad_input.index_add_(0, idx, g1)
        return grad_input


x = torch.tensor([3.0, 1.0, 2.0], requires_grad=True)
s, i = SortFunc.apply(x)
print(s, i, s.requires_grad, i.requires_grad, i.dtype)
(s * torch.tensor([1.0, 10.0, 100.0])).sum().backward()
print(x.grad)


class SimpleFunc(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(x)
        return x.clone(), x.clone()

    @staticmethod
    def backward(ctx, g1, g2):
        x, = ctx.saved_tensors
        grad_input = torch.zeros_like(x)
        if g1 is not None:
            grad_input += g1
        if g2 is not None:
            grad_input += g2
        return grad_input


a = torch.tensor([1.0, 2.0], requires_grad=True)
b, _ = SimpleFunc.apply(a)
b.sum().backward()
print(a.grad)


class Materialized(Function):
    @staticmethod
    def forward(ctx, x):
        return x.clone(), x.clone()

    @staticmethod
    def backward(ctx, g1, g2):
        return g1 + g2 * 10


a = torch.tensor([1.0, 2.0], requires_grad=True)
b, _ = Materialized.apply(a)
b.sum().backward()
print(a.grad)


class Inplace(Function):
    @staticmethod
    def forward(ctx, x):
        x.mul_(2)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, grad):
        return grad * 2


a = torch.tensor([1.0, 2.0], requires_grad=True)
c = a.clone()
v = c._version
d = Inplace.apply(c)
print(d is c, c._version > v, d.grad_fn.name(), c)
d.sum().backward()
print(a.grad)
try:
    Inplace.apply(torch.tensor([1.0], requires_grad=True))
except RuntimeError as e:
    print("RuntimeError:", e)


class NumpySin(Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return torch.sin(x)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, = inputs
        ctx.save_for_backward(x)

    @staticmethod
    def backward(ctx, grad):
        x, = ctx.saved_tensors
        return grad * torch.cos(x)


class NumpyTake(Function):
    @staticmethod
    def forward(x, ind, ind_inv, dim):
        return torch.take_along_dim(x, ind, dim)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, ind, ind_inv, dim = inputs
        ctx.save_for_backward(ind, ind_inv)
        ctx.dim = dim

    @staticmethod
    def backward(ctx, grad_output):
        ind, ind_inv = ctx.saved_tensors
        return NumpyTake.apply(grad_output, ind_inv, ind, ctx.dim), None, None, None

    @staticmethod
    def vmap(info, in_dims, x, ind, ind_inv, dim):
        x_bdim, ind_bdim, ind_inv_bdim, _ = in_dims
        logical_dim = x.dim() if x_bdim is None else x_bdim - 1
        dim = dim if dim >= 0 else dim + logical_dim

        def maybe_expand_bdim_at_front(x, x_bdim):
            if x_bdim is None:
                return x.expand(info.batch_size, *x.shape)
            return x.movedim(x_bdim, 0)

        x = maybe_expand_bdim_at_front(x, x_bdim)
        ind = maybe_expand_bdim_at_front(ind, ind_bdim)
        ind_inv = maybe_expand_bdim_at_front(ind_inv, ind_inv_bdim)
        return NumpyTake.apply(x, ind, ind_inv, dim + 1), 0


x = np_tensor(7, 3, 4, dtype=np.float32)
print(torch.allclose(torch.vmap(NumpySin.apply)(x), x.sin()))
print(torch.allclose(torch.func.grad(lambda t: NumpySin.apply(t).sum())(x[0]), x[0].cos()))
print(torch.allclose(torch.vmap(torch.func.grad(lambda t: NumpySin.apply(t).sum()))(x), x.cos()))
ind = torch.tensor([[2, 0, 1, 3], [1, 3, 0, 2], [0, 1, 2, 3]])
ind_inv = torch.argsort(ind, dim=1)
print(torch.vmap(NumpyTake.apply, in_dims=(0, 0, 0, None))(x, ind, ind_inv, 0))
print(torch.allclose(torch.vmap(NumpyTake.apply, in_dims=(0, 0, 0, None))(x, ind, ind_inv, 0),
                     torch.take_along_dim(x, ind, 1)))
xs = x.clone().requires_grad_()
torch.vmap(NumpySin.apply)(xs).pow(2).sum().backward()
print(torch.allclose(xs.grad, 2 * xs.detach().sin() * xs.detach().cos()))


class MyLinear(torch.nn.Module):
    def __init__(self, input_features, output_features, bias=True):
        super().__init__()
        self.input_features = input_features
        self.output_features = output_features
        self.weight = torch.nn.Parameter(torch.empty(output_features, input_features, dtype=torch.float64))
        if bias:
            self.bias = torch.nn.Parameter(torch.empty(output_features, dtype=torch.float64))
        else:
            self.register_parameter('bias', None)
        with torch.no_grad():
            self.weight.copy_(np_tensor(8, output_features, input_features))
            if self.bias is not None:
                self.bias.copy_(np_tensor(9, output_features))

    def forward(self, input):
        return LinearFunction.apply(input, self.weight, self.bias)

    def extra_repr(self):
        return 'input_features={}, output_features={}, bias={}'.format(
            self.input_features, self.output_features, self.bias is not None
        )


m = MyLinear(3, 2)
print(m)
print(MyLinear(3, 2, bias=False))
out = m(np_tensor(10, 5, 3))
out.pow(2).mean().backward()
print(out.grad_fn.name(), m.weight.grad, m.bias.grad)
