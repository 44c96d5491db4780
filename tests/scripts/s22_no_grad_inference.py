# torch.no_grad / enable_grad / inference_mode / set_grad_enabled as context managers and decorators.
import torch

x = torch.tensor([1.0, 2.0], requires_grad=True)
with torch.no_grad():
    y = x * 2
print(y.requires_grad, torch.is_grad_enabled())


@torch.no_grad()
def doubler(x):
    return x * 2


z = doubler(x)
print(z.requires_grad)
with torch.no_grad():
    with torch.enable_grad():
        w = x * 2
print(w.requires_grad)


@torch.enable_grad()
def tripler(x):
    return x * 3


with torch.no_grad():
    print(tripler(x).requires_grad)
is_train = False
with torch.set_grad_enabled(is_train):
    y = x * 2
print(y.requires_grad)
torch.set_grad_enabled(True)
y = x * 2
print(y.requires_grad)
with torch.inference_mode():
    y = x * 2
print(y.requires_grad, y.is_inference(), x.is_inference(), torch.is_inference_mode_enabled())


@torch.inference_mode()
def f(x):
    return x * x


print(f(x), f(x).is_inference())
try:
    with torch.inference_mode():
        inf = torch.ones(2)
    inf.add_(1)
except RuntimeError as e:
    print("RuntimeError:", e)
with torch.inference_mode(mode=False):
    print((x * 2).requires_grad)
print(torch.is_grad_enabled())
with torch.no_grad():
    x.add_(1)
print(x, x.requires_grad, x.grad_fn)
try:
    x.add_(1)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.tensor([1, 2], requires_grad=True)
except RuntimeError as e:
    print("RuntimeError:", e)
q = torch.ones(2, requires_grad=True).sum()
try:
    q.backward()
    q.backward()
except RuntimeError as e:
    print("RuntimeError:", str(e)[:80])
try:
    torch.ones(2).sum().backward()
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    (torch.ones(2, requires_grad=True) * 2).backward()
except RuntimeError as e:
    print("RuntimeError:", e)
