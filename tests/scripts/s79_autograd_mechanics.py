# "Autograd mechanics" and the saved-tensors hooks tutorial: grad_fn._saved_*, next_functions, Node metadata and hooks, saved_tensors_hooks/save_on_cpu, register_multi_grad_hook, retains_grad.
import numpy as np
import torch
import torch.nn as nn


def np_tensor(seed, *shape):
    return torch.from_numpy(np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32))


x = np_tensor(0, 5).requires_grad_()
y = x.pow(2)
print(x.equal(y.grad_fn._saved_self))
print(x is y.grad_fn._saved_self)
print(y.grad_fn._saved_exponent)
y = x.exp()
print(y.equal(y.grad_fn._saved_result))
print(y is y.grad_fn._saved_result)
print(y.grad_fn.name(), type(y.grad_fn).__name__)
print(y.grad_fn.next_functions)
print(y.grad_fn.next_functions[0][0].variable is x)
a = x.sin() * x.cos()
print(a.grad_fn.next_functions)
print([nf[0].name() for nf in a.grad_fn.next_functions])
print(a.grad_fn.next_functions[0][0].next_functions)
print(a.grad_fn.metadata)
a.grad_fn.metadata["tag"] = 1
print(a.grad_fn.metadata)
print(isinstance(a.grad_fn, torch.autograd.graph.Node))
print(x.retains_grad, a.retains_grad, x.is_leaf, a.is_leaf)
a.retain_grad()
print(a.retains_grad)
seen = []


def node_hook(grad_inputs, grad_outputs):
    seen.append(("hook", [None if g is None else tuple(g.shape) for g in grad_inputs],
                 [tuple(g.shape) for g in grad_outputs]))


def node_prehook(grad_outputs):
    seen.append(("prehook", [tuple(g.shape) for g in grad_outputs]))
    return (grad_outputs[0] * 2,)


h1 = a.grad_fn.register_hook(node_hook)
h2 = a.grad_fn.register_prehook(node_prehook)
a.sum().backward()
print(seen)
print(x.grad)
print(a.grad)
h1.remove()
h2.remove()
try:
    y.grad_fn._saved_result
    y.sum().backward()
    y.grad_fn._saved_result
except RuntimeError as e:
    print("RuntimeError:", e)


def pack_hook(x):
    print("Packing", tuple(x.shape), x.dtype)
    return x


def unpack_hook(x):
    print("Unpacking", tuple(x.shape))
    return x


a = np_tensor(1, 5).requires_grad_()
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b
y.sum().backward()
print(a.grad, b.grad)

storage = []


def pack(x):
    storage.append(x.clone())
    return len(storage) - 1


def unpack(i):
    return storage[i]


x = np_tensor(2, 5).requires_grad_()
with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
    y = x.pow(2)
print(y.grad_fn._saved_self)
print(len(storage))
y.sum().backward()
print(x.grad)


class SelfDeletingTempFile():
    counter = 0

    def __init__(self):
        SelfDeletingTempFile.counter += 1
        self.name = SelfDeletingTempFile.counter


saved = {}


def pack_to_dict(tensor):
    temp_file = SelfDeletingTempFile()
    saved[temp_file.name] = tensor.detach().numpy().copy()
    return temp_file


def unpack_from_dict(temp_file):
    return torch.from_numpy(saved[temp_file.name])


model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 1))
rng = np.random.RandomState(3)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, size=tuple(p.shape)).astype(np.float32)))
inp = np_tensor(4, 6, 4)
with torch.autograd.graph.saved_tensors_hooks(pack_to_dict, unpack_from_dict):
    out = model(inp)
print(SelfDeletingTempFile.counter > 0)
out.sum().backward()
print(model[0].weight.grad)
model.zero_grad()
with torch.autograd.graph.save_on_cpu(pin_memory=False):
    out = model(inp)
out.sum().backward()
print(model[0].weight.grad)


class SaveOnCpuModel(nn.Module):
    def forward(self, x):
        with torch.autograd.graph.saved_tensors_hooks(pack_to_dict, unpack_from_dict):
            return (x.sin() * x).sum()


x = np_tensor(5, 3).requires_grad_()
SaveOnCpuModel()(x).backward()
print(x.grad)
with torch.autograd.graph.disable_saved_tensors_hooks("no hooks here"):
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, unpack):
            pass
    except RuntimeError as e:
        print("RuntimeError:", e)

a = np_tensor(6, 3).requires_grad_()
b = np_tensor(7, 3).requires_grad_()
calls = []


def multi_hook(grads):
    calls.append([None if g is None else g.tolist() for g in grads])


handle = torch.autograd.graph.register_multi_grad_hook((a, b), multi_hook)
(a * 2 + b * 3).sum().backward()
(a * 5).sum().backward()
print(len(calls))
print([[None if g is None else [round(v, 3) for v in g] for g in c] for c in calls])
handle.remove()
(a + b).sum().backward()
print(len(calls))
any_calls = []
handle = torch.autograd.graph.register_multi_grad_hook((a, b), lambda g: any_calls.append(tuple(g.shape)), mode="any")
(b * 4).sum().backward()
print(any_calls)
handle.remove()

x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 3
y.retain_grad()
z = y.exp()
z.register_hook(lambda g: print("z hook", g))
y.register_hook(lambda g: g + 1)
print(z.grad_fn._saved_result is z, z.grad_fn._saved_result.equal(z))
z.sum().backward()
print(y.grad, x.grad)
w = x.detach().requires_grad_()
q = (w * w).sum()
m = q.grad_fn.next_functions[0][0]
print(m.name(), m._saved_self is w, m._saved_other is w)
print(torch.autograd.graph.Node.__subclasscheck__(type(q.grad_fn)))
