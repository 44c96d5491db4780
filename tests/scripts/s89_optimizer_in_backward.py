# "How to save memory by fusing the optimizer step into the backward pass": per-parameter optimizers stepped from register_post_accumulate_grad_hook, compared with the usual loop; parameters_to_vector and is_grads_batched.
import numpy as np
import torch
import torch.nn as nn


def make_model(seed):
    model = nn.Sequential(nn.Linear(6, 8), nn.GELU(), nn.LayerNorm(8), nn.Linear(8, 3))
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, size=tuple(p.shape)).astype(np.float32)))
    return model


rng = np.random.RandomState(1)
data = [(torch.from_numpy(rng.randn(4, 6).astype(np.float32)), torch.from_numpy(rng.randint(0, 3, 4)).long())
        for _ in range(3)]
model = make_model(0)
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for x, y in data:
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
print(round(loss.item(), 6))
reference = nn.utils.parameters_to_vector(model.parameters())

model = make_model(0)
optimizer_dict = {p: torch.optim.Adam([p], foreach=False, lr=0.01) for p in model.parameters()}
calls = []


def optimizer_hook(parameter) -> None:
    calls.append(tuple(parameter.shape))
    optimizer_dict[parameter].step()
    optimizer_dict[parameter].zero_grad()


handles = [p.register_post_accumulate_grad_hook(optimizer_hook) for p in model.parameters()]
for x, y in data:
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
print(round(loss.item(), 6), len(calls), calls[:4])
fused = nn.utils.parameters_to_vector(model.parameters())
print(fused.shape, torch.allclose(fused, reference, atol=1e-6), (fused - reference).abs().max() < 1e-5)
print([p.grad for p in model.parameters()][:2])
for h in handles:
    h.remove()
loss = nn.functional.cross_entropy(model(data[0][0]), data[0][1])
loss.backward()
print(len(calls), model[0].weight.grad is not None)
vec = torch.arange(fused.numel(), dtype=torch.float32) / 100
nn.utils.vector_to_parameters(vec, model.parameters())
print(model[0].bias, model[3].bias)

x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
y = x ** 2
eye = torch.eye(3)
jac, = torch.autograd.grad(y, x, eye, is_grads_batched=True)
print(jac)
out = (x.unsqueeze(0) * torch.tensor([[1.0], [2.0]])).sum(1)
g, = torch.autograd.grad(out, x, torch.eye(2), is_grads_batched=True, retain_graph=True)
print(g)
