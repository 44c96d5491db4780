# torch.autograd.functional (jacobian with vectorize/strategy, hessian of several inputs, vjp/jvp/vhp/hvp with create_graph, strict errors) and the "Learning PyTorch with Examples" dynamic net (control flow, weight sharing).
import math
import numpy as np
import torch
from torch.autograd.functional import jacobian, hessian, vjp, jvp, vhp, hvp


def exp_reducer(x):
    return x.exp().sum(dim=1)


inputs = torch.tensor([[0.1, -0.2], [0.3, 0.4]])
print(jacobian(exp_reducer, inputs))
print(jacobian(exp_reducer, inputs, create_graph=True).grad_fn is not None)
print(jacobian(exp_reducer, inputs, vectorize=True))
print(jacobian(exp_reducer, inputs, vectorize=True, strategy="forward-mode"))


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


inputs = (torch.tensor([0.5, -1.0]), torch.tensor([1.0, 2.0]))
jac = jacobian(exp_adder, inputs)
print(type(jac).__name__, len(jac), jac[0], jac[1])


def two_outputs(x):
    return x ** 2, x.sum()


print(jacobian(two_outputs, torch.tensor([1.0, 2.0, 3.0])))


def pow_reducer(x):
    return x.pow(3).sum()


inputs = torch.tensor([[0.5, 1.0], [-1.0, 2.0]])
print(hessian(pow_reducer, inputs))
print(hessian(pow_reducer, inputs, vectorize=True, outer_jacobian_strategy="forward-mode"))


def pow_adder_reducer(x, y):
    return (2 * x.pow(2) + 3 * y.pow(2) + x * y).sum()


inputs = (torch.tensor([1.0, 2.0]), torch.tensor([0.5, -0.5]))
h = hessian(pow_adder_reducer, inputs)
print(len(h), len(h[0]), h[0][0], h[0][1], h[1][1])

inputs = torch.tensor([[0.2, 0.7], [-0.4, 1.1]])
v = torch.ones(2)
print(vjp(exp_reducer, inputs, v))
out, vjp_out = vjp(exp_reducer, inputs, v, create_graph=True)
print(out.grad_fn is not None or out.requires_grad, vjp_out.shape)
print(jvp(exp_reducer, inputs, torch.ones(2, 2)))
print(vhp(pow_reducer, inputs, torch.ones(2, 2)))
print(hvp(pow_reducer, inputs, torch.ones(2, 2)))
print(vhp(pow_adder_reducer, (torch.tensor([1.0, 2.0]), torch.tensor([0.5, -0.5])),
          (torch.ones(2), torch.zeros(2))))


def constant(x):
    return torch.ones(2)


try:
    jacobian(constant, torch.tensor([1.0, 2.0]), strict=True)
except RuntimeError as e:
    print("RuntimeError:", e)
print(jacobian(constant, torch.tensor([1.0, 2.0])))
try:
    vjp(exp_reducer, inputs, torch.ones(3))
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    jacobian(exp_reducer, inputs, strategy="forward-mode")
except NotImplementedError as e:
    print("NotImplementedError:", e)
try:
    jacobian(exp_reducer, inputs, strategy="sideways")
except AssertionError as e:
    print("AssertionError:", e)
try:
    hvp(exp_reducer, inputs, torch.ones(2, 2))
except RuntimeError as e:
    print("RuntimeError:", e)

# --- the dynamic net: a random number of reused middle layers each forward pass ---
class DynamicNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.tensor(0.1))
        self.b = torch.nn.Parameter(torch.tensor(-0.2))
        self.c = torch.nn.Parameter(torch.tensor(0.3))
        self.d = torch.nn.Parameter(torch.tensor(-0.05))
        self.e = torch.nn.Parameter(torch.tensor(0.01))

    def forward(self, x, exponents):
        y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
        for exp in exponents:
            y = y + self.e * x ** exp
        return y

    def string(self):
        return f'y = {self.a.item():.4f} + {self.b.item():.4f} x + {self.c.item():.4f} x^2 + {self.d.item():.4f} x^3 + {self.e.item():.4f} x^4 ? + {self.e.item():.4f} x^5 ?'


x = torch.linspace(-math.pi, math.pi, 200)
y = torch.sin(x)
model = DynamicNet()
criterion = torch.nn.MSELoss(reduction='sum')
optimizer = torch.optim.SGD(model.parameters(), lr=1e-8, momentum=0.9)
rng = np.random.RandomState(0)
for t in range(60):
    exponents = list(range(4, int(rng.randint(4, 6)) + 1))
    y_pred = model(x, exponents)
    loss = criterion(y_pred, y)
    if t % 20 == 19:
        print(t, exponents, round(loss.item(), 3))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
print(f'Result: {model.string()}')
print(model.e.grad is not None, [n for n, _ in model.named_parameters()])
