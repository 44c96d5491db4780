"""The seed example: cgrad reproduces PyTorch's autograd outputs and errors.

    python examples/seed.py
"""
import cgrad

x = cgrad.ones(2, requires_grad=True)
z = x + 2
print("x =", x)
print("z = x + 2 =", z)
try:
    z.backward()
except RuntimeError as e:
    print("z.backward() -> RuntimeError:", e)
z.sum().backward()
print("after z.sum().backward(): x.grad =", x.grad)

x = cgrad.tensor([2., 1.], requires_grad=True)
y = cgrad.tensor([[1., 2.], [3., 4.]], requires_grad=True)
z = cgrad.mm(x.view(1, 2), y)
print("\nz = mm(x.view(1, 2), y) =", z)
z.backward(cgrad.Tensor([[1., 0]]), retain_graph=True)
print("after z.backward([[1., 0]], retain_graph=True): x.grad =", x.grad, " y.grad =", y.grad)
z.backward(cgrad.Tensor([[1., 0]]))
print("a second backward accumulates:            x.grad =", x.grad, " y.grad =", y.grad)
try:
    z.backward(cgrad.Tensor([[1., 0]]))
except RuntimeError as e:
    print("a third backward -> RuntimeError:", e)
