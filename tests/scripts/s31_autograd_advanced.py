# autograd.grad, higher-order derivatives, create_graph, jacobian/hessian, retain_graph, grad accumulation.
import torch
from torch.autograd.functional import jacobian, hessian

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = (x ** 3).sum()
(g,) = torch.autograd.grad(y, x, create_graph=True)
print(g, g.requires_grad, g.grad_fn.name())
(g2,) = torch.autograd.grad(g.sum(), x)
print(g2)
x2 = torch.tensor(2.0, requires_grad=True)
f = x2 ** 4
df = torch.autograd.grad(f, x2, create_graph=True)[0]
d2f = torch.autograd.grad(df, x2, create_graph=True)[0]
d3f = torch.autograd.grad(d2f, x2)[0]
print(df, d2f, d3f)


def func(a):
    return torch.stack([a[0] * a[1], a[1] ** 2, torch.sin(a[0])])


print(jacobian(func, torch.tensor([1.0, 2.0])))
print(hessian(lambda a: (a ** 3).sum(), torch.tensor([1.0, 2.0])))
w = torch.tensor([1.0, -1.0], requires_grad=True)
for _ in range(3):
    (w * 2).sum().backward()
print(w.grad)
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([3.0, 4.0], requires_grad=True)
out = (a * b).sum()
ga, gb = torch.autograd.grad(out, [a, b], retain_graph=True)
print(ga, gb)
gb_only = torch.autograd.grad(out, b, grad_outputs=torch.tensor(2.0))
print(gb_only)
c = torch.tensor([5.0], requires_grad=True)
print(torch.autograd.grad((a * 2).sum(), [a, c], allow_unused=True))
try:
    torch.autograd.grad((a * 2).sum(), [a, c])
except RuntimeError as e:
    print("RuntimeError:", e)
z = a.detach().requires_grad_()
print(z.requires_grad, z.is_leaf, a.data.requires_grad)
v = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
u = v.exp()
u.sum().backward(inputs=[v])
print(v.grad.round(decimals=3))
print(torch.autograd.functional.vjp(lambda t: t ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 1.0])))
print(torch.autograd.functional.jvp(lambda t: t ** 2, torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0])))
print(torch.func.grad(lambda t: (t ** 2).sum())(torch.tensor([1.0, 3.0])))
print(torch.func.vmap(torch.dot)(torch.ones(3, 2), torch.ones(3, 2)))
