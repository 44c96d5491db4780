# TorchScript idioms found in deployment tutorials: script a model, trace it, export and ignore methods, freeze,
# save and load, fork/wait, annotate, is_scripting guards, check a traced function's frozen branch.
import io
import os
import tempfile
import warnings
from typing import List

import numpy as np
import torch
import torch.nn as nn

warnings.simplefilter("ignore")


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        self.register_buffer("offset", torch.zeros(3))

    def forward(self, x):
        if not torch.jit.is_scripting():
            self.debug_hook(x)
        return self.body(x) + self.offset

    @torch.jit.ignore
    def debug_hook(self, x):
        pass

    @torch.jit.export
    def probabilities(self, x):
        return torch.softmax(self.forward(x), dim=-1)


def set_weights(model):
    rng = np.random.default_rng(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))


def show(name, t):
    print(name, tuple(t.shape), np.round(t.detach().numpy(), 4).tolist())


model = Classifier()
set_weights(model)
x = torch.tensor(np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4))

scripted = torch.jit.script(model)
print(type(scripted).__name__, isinstance(scripted, torch.jit.ScriptModule), isinstance(scripted, nn.Module))
print(scripted)
show("scripted", scripted(x))
show("probabilities", scripted.probabilities(x))
print("shares weights", scripted.body[0].weight is model.body[0].weight)

traced = torch.jit.trace(model.body, x)
print(type(traced).__name__, isinstance(traced, torch.jit.TracedModule))
show("traced", traced(x * 2))

# training through the scripted module updates the original's parameters
opt = torch.optim.SGD(scripted.parameters(), lr=0.1)
for step in range(3):
    opt.zero_grad()
    loss = scripted(x).pow(2).mean()
    loss.backward()
    opt.step()
    print("step", step, round(loss.item(), 5))
show("eager after training", model(x))

scripted.eval()
frozen = torch.jit.freeze(scripted)
print("frozen parameters", len(list(frozen.parameters())))
show("frozen", frozen(x))
optimized = torch.jit.optimize_for_inference(torch.jit.script(model))
show("optimized", optimized(x))

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "classifier.pt")
    torch.jit.save(scripted, path)
    loaded = torch.jit.load(path)
    print(type(loaded).__name__, loaded.training)
    show("loaded", loaded(x))
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    buffer.seek(0)
    show("loaded trace", torch.jit.load(buffer)(x))


@torch.jit.script
def pairwise(a, b):
    return (a - b).pow(2).sum(-1).sqrt()


print(type(pairwise).__name__)
show("pairwise", pairwise(x, x.flip(0)))


def gate(t):
    if t.mean() > 0:
        return t * 10
    return t - 10


gated = torch.jit.trace(gate, torch.ones(3), check_trace=False)
show("frozen branch", gated(-torch.ones(3)))

futures = [torch.jit.fork(pairwise, x, x * k) for k in range(3)]
results = torch.jit.annotate(List[torch.Tensor], [torch.jit.wait(f) for f in futures])
show("forked", torch.stack(results))
print("is_scripting", torch.jit.is_scripting(), "is_tracing", torch.jit.is_tracing())
print("isinstance", torch.jit.isinstance([x], List[torch.Tensor]), torch.jit.isinstance([1], List[str]))
