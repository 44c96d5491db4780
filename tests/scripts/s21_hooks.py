# Forward, forward-pre, backward hooks on modules, tensor hooks, retain_grad, handles removed.
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
with torch.no_grad():
    model[0].weight.copy_(torch.tensor([[0.5, -0.5], [1.0, 0.25], [-0.3, 0.8]]))
    model[0].bias.copy_(torch.tensor([0.1, -0.1, 0.0]))
    model[2].weight.copy_(torch.tensor([[1.0, -1.0, 0.5]]))
    model[2].bias.fill_(0.2)
activations = {}


def get_activation(name):
    def hook(model, input, output):
        activations[name] = output.detach()
    return hook


h1 = model[1].register_forward_hook(get_activation("relu"))


def pre_hook(module, args):
    print("pre", type(module).__name__, args[0].shape)
    return (args[0] * 2,)


h2 = model[0].register_forward_pre_hook(pre_hook)
grads = []
h3 = model[2].register_full_backward_hook(lambda m, gin, gout: grads.append((gin[0].shape, gout[0])))
x = torch.tensor([[1.0, 2.0]], requires_grad=True)
y = model(x)
print(y, activations["relu"])
y.backward()
print(grads)
print(x.grad)
h1.remove()
h2.remove()
h3.remove()
y2 = model(x)
print(y2)
t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
handle = t.register_hook(lambda g: g * 10)
(t * t).sum().backward()
print(t.grad)
handle.remove()
a = torch.tensor([2.0], requires_grad=True)
b = a * 3
b.retain_grad()
c = b ** 2
c.backward()
print(b.grad, a.grad, b.is_leaf, b.requires_grad)
print(type(h1).__name__)
m = nn.Linear(1, 1)
calls = []
m.register_forward_hook(lambda mod, inp, out, **kw: calls.append("fwd"))
m(torch.ones(1, 1))
print(calls, len(m._forward_hooks))
