# nn.Module API: ModuleList, ModuleDict, ParameterList, register_buffer, add_module, children, train/eval, repr, extra_repr.
import torch
import torch.nn as nn


class Block(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(n, n) for _ in range(2)])
        self.acts = nn.ModuleDict({"relu": nn.ReLU(), "gelu": nn.GELU()})
        self.scales = nn.ParameterList([nn.Parameter(torch.ones(n)) for _ in range(2)])
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.register_buffer("tmp", torch.ones(1), persistent=False)
        self.add_module("out", nn.Linear(n, 1))

    def forward(self, x, act="relu"):
        for layer, s in zip(self.layers, self.scales):
            x = self.acts[act](layer(x)) * s
        self.steps += 1
        return self.out(x)

    def extra_repr(self):
        return "custom=True"


b = Block(3)
print(b)
print(list(b.state_dict().keys()))
print([n for n, _ in b.named_children()], len(list(b.parameters())), len(list(b.buffers())))
b.eval()
print(b.training, b.layers[0].training)
b.train()
print(b.training, b.acts["gelu"].training)
print(b(torch.ones(2, 3)).shape, b.steps)
print(b.get_submodule("layers.1"), b.get_parameter("out.bias").shape)
print(nn.Linear(3, 4, bias=False), nn.Embedding(10, 3, padding_idx=0), nn.LayerNorm(5), nn.GroupNorm(2, 4))
print(nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ELU(), nn.Softmax(dim=1), nn.Identity()))
print(nn.Dropout(p=0.3), nn.LeakyReLU(0.1), nn.Softplus(beta=2), nn.Hardtanh(), nn.CrossEntropyLoss(label_smoothing=0.1), nn.Upsample(scale_factor=2))
print(nn.Flatten(), nn.Unflatten(1, (2, 2)), nn.PReLU(), nn.SiLU(), nn.Mish(), nn.Tanh(), nn.Sigmoid())
s = nn.Sequential()
s.add_module("fc", nn.Linear(2, 2))
s.append(nn.ReLU())
print(s, len(s), s[0], s[-1])
from collections import OrderedDict
s2 = nn.Sequential(OrderedDict([("conv", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU())]))
print(s2, s2.conv)
p = nn.Parameter(torch.ones(2))
print(p, isinstance(p, torch.Tensor), type(p).__name__)
print(nn.Parameter(torch.ones(2), requires_grad=False))
print(b.half().layers[0].weight.dtype, b.float().layers[0].weight.dtype, b.double().out.bias.dtype)
print(b.to(torch.float32).steps.dtype)
m = nn.Linear(2, 2)
print(m.weight.shape, m.in_features, m.out_features, hasattr(m, "bias"))
print(m.state_dict()["weight"].requires_grad, m.weight.is_leaf)
m.zero_grad()
print(m.weight.grad)
try:
    b.nonexistent
except AttributeError as e:
    print("AttributeError:", e)
try:
    nn.Linear(3, 4)(torch.ones(2, 5))
except RuntimeError as e:
    print("RuntimeError:", e)
