# "Double Backward with Custom Functions" (save_for_backward of inputs, outputs, intermediates; once_differentiable) and "Fusing Convolution and Batch Norm using Custom Function" (torch.nn.grad.conv2d_input/conv2d_weight).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable


def np_tensor(seed, *shape, dtype=np.float64):
    return torch.from_numpy(np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(dtype))


class Square(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**2

    @staticmethod
    def backward(ctx, grad_out):
        x, = ctx.saved_tensors
        return grad_out * 2 * x


x = np_tensor(0, 3, 3).requires_grad_()
print(torch.autograd.gradcheck(Square.apply, x))
print(torch.autograd.gradgradcheck(Square.apply, x))
out = Square.apply(x)
print(out.grad_fn.name(), type(out.grad_fn).__name__)
grad_x, = torch.autograd.grad(out.sum(), x, create_graph=True)
print(grad_x.grad_fn)
grad_x.sum().backward()
print(x.grad)


class Exp(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        result = torch.exp(x)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_out):
        result, = ctx.saved_tensors
        return result * grad_out


x = np_tensor(1, 3, 3).requires_grad_()
print(torch.autograd.gradcheck(Exp.apply, x))
print(torch.autograd.gradgradcheck(Exp.apply, x))
y = Exp.apply(x)
g, = torch.autograd.grad(y.sum(), x, create_graph=True)
gg, = torch.autograd.grad(g.sum(), x)
print(torch.allclose(gg, x.exp()))


class Sinh(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.save_for_backward(expx, expnegx)
        return (expx - expnegx) / 2, expx, expnegx

    @staticmethod
    def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
        expx, expnegx = ctx.saved_tensors
        grad_input = grad_out * (expx + expnegx) / 2
        grad_input += _grad_out_exp * expx
        grad_input -= _grad_out_negexp * expnegx
        return grad_input


def sinh(x):
    return Sinh.apply(x)[0]


x = np_tensor(2, 3, 3).requires_grad_()
print(torch.autograd.gradcheck(sinh, x))
print(torch.autograd.gradgradcheck(sinh, x))
outs = Sinh.apply(x)
print(len(outs), [o.grad_fn.name() for o in outs], outs[0].grad_fn is outs[1].grad_fn)


class SinhBad(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        expx = torch.exp(x)
        expnegx = torch.exp(-x)
        ctx.expx = expx
        ctx.expnegx = expnegx
        return (expx - expnegx) / 2

    @staticmethod
    def backward(ctx, grad_out):
        expx = ctx.expx
        expnegx = ctx.expnegx
        grad_input = grad_out * (expx + expnegx) / 2
        return grad_input


x = np_tensor(3, 3, 3).requires_grad_()
print(torch.autograd.gradcheck(SinhBad.apply, x))
print(torch.autograd.gradgradcheck(SinhBad.apply, x, raise_exception=False))


def cube_forward(x):
    return x**3


def cube_backward(grad_out, x):
    return grad_out * 3 * x**2


def cube_backward_backward(grad_out, sav_grad_out, x):
    return grad_out * sav_grad_out * 6 * x


def cube_backward_backward_grad_out(grad_out, x):
    return grad_out * 3 * x**2


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cube_forward(x)

    @staticmethod
    def backward(ctx, grad_out):
        x, = ctx.saved_tensors
        return CubeBackward.apply(grad_out, x)


class CubeBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, grad_out, x):
        ctx.save_for_backward(x, grad_out)
        return cube_backward(grad_out, x)

    @staticmethod
    def backward(ctx, grad_out):
        x, sav_grad_out = ctx.saved_tensors
        dx = cube_backward_backward(grad_out, sav_grad_out, x)
        dgrad_out = cube_backward_backward_grad_out(grad_out, x)
        return dgrad_out, dx


x = np_tensor(4, 2, 2).requires_grad_()
print(torch.autograd.gradcheck(Cube.apply, x))
print(torch.autograd.gradgradcheck(Cube.apply, x))
y = Cube.apply(x)
g, = torch.autograd.grad(y.sum(), x, create_graph=True)
print(g.grad_fn.name())


class OnceSquare(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 2

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        x, = ctx.saved_tensors
        return grad_out * 2 * x


x = np_tensor(5, 3).requires_grad_()
y = OnceSquare.apply(x)
g, = torch.autograd.grad(y.sum(), x, create_graph=True)
print(g.requires_grad, g.grad_fn)
try:
    g.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)


# --- Fusing Convolution and Batch Norm using Custom Function ---
def convolution_backward(grad_out, X, weight):
    grad_input = F.conv2d(X.transpose(0, 1), grad_out.transpose(0, 1)).transpose(0, 1)
    grad_X = torch.nn.functional.conv_transpose2d(grad_out, weight)
    return grad_X, grad_input


class Conv2D(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, weight):
        ctx.save_for_backward(X, weight)
        return F.conv2d(X, weight)

    @staticmethod
    def backward(ctx, grad_out):
        X, weight = ctx.saved_tensors
        return convolution_backward(grad_out, X, weight)


weight = np_tensor(6, 5, 3, 3, 3).requires_grad_()
X = np_tensor(7, 10, 3, 7, 7).requires_grad_()
print(torch.autograd.gradcheck(Conv2D.apply, (X, weight)))
out = Conv2D.apply(X, weight)
gx, gw = torch.autograd.grad(out.sum(), (X, weight))
print(torch.allclose(gx, torch.nn.grad.conv2d_input(X.shape, weight, torch.ones_like(out))))
print(torch.allclose(gw, torch.nn.grad.conv2d_weight(X, weight.shape, torch.ones_like(out))))


def unsqueeze_all(t):
    return t[None, :, None, None]


def batch_norm_backward(grad_out, X, sum, sqrt_var, N, eps):
    tmp = ((X - unsqueeze_all(sum) / N) * grad_out).sum(dim=(0, 2, 3))
    tmp *= -1
    d_denom = tmp / (sqrt_var + eps)**2
    d_var = d_denom / (2 * sqrt_var)
    d_mean_dx = grad_out / unsqueeze_all(sqrt_var + eps)
    d_mean_dx = unsqueeze_all(-d_mean_dx.sum(dim=(0, 2, 3)) / N)
    grad_input = X * unsqueeze_all(d_var * N)
    grad_input += unsqueeze_all(-d_var * sum)
    grad_input *= 2 / ((N - 1) * N)
    grad_input += d_mean_dx
    grad_input *= unsqueeze_all(sqrt_var + eps)
    grad_input += grad_out
    grad_input /= unsqueeze_all(sqrt_var + eps)
    return grad_input


class BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, eps=1e-3):
        sum = X.sum(dim=(0, 2, 3))
        var = X.var(unbiased=True, dim=(0, 2, 3))
        N = X.numel() / X.size(1)
        sqrt_var = torch.sqrt(var)
        ctx.save_for_backward(X)
        ctx.eps = eps
        ctx.sum = sum
        ctx.N = N
        ctx.sqrt_var = sqrt_var
        mean = sum / N
        denom = sqrt_var + eps
        out = X - unsqueeze_all(mean)
        out /= unsqueeze_all(denom)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        X, = ctx.saved_tensors
        return batch_norm_backward(grad_out, X, ctx.sum, ctx.sqrt_var, ctx.N, ctx.eps)


a = np_tensor(8, 1, 2, 3, 4).requires_grad_()
print(torch.autograd.gradcheck(BatchNorm.apply, (a,), fast_mode=False))


class FusedConvBN2DFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X, conv_weight, eps=1e-3):
        assert X.ndim == 4
        ctx.save_for_backward(X, conv_weight)
        X = F.conv2d(X, conv_weight)
        sum = X.sum(dim=(0, 2, 3))
        var = X.var(unbiased=True, dim=(0, 2, 3))
        N = X.numel() / X.size(1)
        sqrt_var = torch.sqrt(var)
        ctx.eps = eps
        ctx.sum = sum
        ctx.N = N
        ctx.sqrt_var = sqrt_var
        mean = sum / N
        denom = sqrt_var + eps
        out = X - unsqueeze_all(mean)
        out /= unsqueeze_all(denom)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        X, conv_weight, = ctx.saved_tensors
        X_conv_out = F.conv2d(X, conv_weight)
        grad_out = batch_norm_backward(grad_out, X_conv_out, ctx.sum, ctx.sqrt_var,
                                       ctx.N, ctx.eps)
        grad_X, grad_input = convolution_backward(grad_out, X, conv_weight)
        return grad_X, grad_input, None, None, None, None, None


weight = np_tensor(9, 5, 3, 3, 3).requires_grad_()
X = np_tensor(10, 2, 3, 4, 4).requires_grad_()
print(torch.autograd.gradcheck(FusedConvBN2DFunction.apply, (X, weight)))


class FusedConvBN(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, exp_avg_factor=0.1,
                 eps=1e-3, device=None, dtype=None):
        super(FusedConvBN, self).__init__()
        factory_kwargs = {'device': device, 'dtype': dtype}
        weight_shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.conv_weight = nn.Parameter(torch.empty(*weight_shape, **factory_kwargs))
        self.eps = eps
        self.reset_parameters()

    def forward(self, X):
        return FusedConvBN2DFunction.apply(X, self.conv_weight, self.eps)

    def reset_parameters(self) -> None:
        nn.init.kaiming_uniform_(self.conv_weight, a=np.sqrt(5))


fused = FusedConvBN(1, 4, 3, dtype=torch.float64)
print(fused.conv_weight.shape, fused.conv_weight.dtype, fused.conv_weight.abs().max() <= 1 / 3)
with torch.no_grad():
    fused.conv_weight.copy_(np_tensor(11, 4, 1, 3, 3))
ref = nn.Sequential(nn.Conv2d(1, 4, 3, bias=False), nn.BatchNorm2d(4, eps=1e-3, affine=False)).double()
with torch.no_grad():
    ref[0].weight.copy_(np_tensor(11, 4, 1, 3, 3))
inp = np_tensor(12, 3, 1, 6, 6)
out = fused(inp)
out_ref = ref(inp)
print(out.shape, (out - out_ref).abs().max() < 1e-2)
out.square().sum().backward()
print(fused.conv_weight.grad[0, 0])
optimizer = torch.optim.SGD(fused.parameters(), lr=0.01)
for step in range(3):
    optimizer.zero_grad()
    loss = (fused(inp) - 0.5).pow(2).mean()
    loss.backward()
    optimizer.step()
    print(step, round(loss.item(), 6))

# torch.nn.grad helpers against autograd, including stride/padding
x = np_tensor(13, 2, 3, 7, 7).requires_grad_()
w = np_tensor(14, 4, 3, 3, 3).requires_grad_()
y = F.conv2d(x, w, stride=2, padding=1)
go = np_tensor(15, *y.shape)
gx, gw = torch.autograd.grad(y, (x, w), go)
print(torch.allclose(gx, torch.nn.grad.conv2d_input(x.shape, w, go, stride=2, padding=1)))
print(torch.allclose(gw, torch.nn.grad.conv2d_weight(x, w.shape, go, stride=2, padding=1)))
x1 = np_tensor(16, 2, 3, 9).requires_grad_()
w1 = np_tensor(17, 2, 3, 4).requires_grad_()
y1 = F.conv1d(x1, w1, dilation=2)
go1 = torch.ones_like(y1)
gx1, gw1 = torch.autograd.grad(y1, (x1, w1), go1)
print(torch.allclose(gx1, torch.nn.grad.conv1d_input(x1.shape, w1, go1, dilation=2)))
print(torch.allclose(gw1, torch.nn.grad.conv1d_weight(x1, w1.shape, go1, dilation=2)))
