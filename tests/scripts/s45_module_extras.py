# More nn.Module API: register_parameter, recurse=False, state_dict prefixes, load_state_dict(assign), ParameterDict, DataParallel on the CPU, checkpointing activations.
import numpy as np
import torch
import torch.nn as nn
from torch.utils.checkpoint import checkpoint


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_parameter("scale", nn.Parameter(torch.tensor([2.0])))
        self.register_parameter("unused", None)
        self.body = nn.Linear(2, 2)
        self.extra = nn.ParameterDict({"a": nn.Parameter(torch.ones(1)), "b": nn.Parameter(torch.zeros(2))})

    def forward(self, x):
        return self.body(x) * self.scale + self.extra["a"]


net = Net()
print(net)
print([n for n, _ in net.named_parameters()], [n for n, _ in net.named_parameters(recurse=False)])
print([n for n, _ in net.named_parameters(prefix="model")], list(net.state_dict(prefix="m.").keys()))
print(net.unused, "unused" in dict(net.named_parameters()))
with torch.no_grad():
    net.body.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 0.5]]))
    net.body.bias.zero_()
x = torch.tensor([[1.0, 2.0]], requires_grad=True)
print(net(x))
sd = {k: v * 2 for k, v in net.state_dict().items()}
net2 = Net()
print(net2.load_state_dict(sd, assign=True), torch.equal(net2.scale, torch.tensor([4.0])), type(net2.scale).__name__)
print(nn.ParameterDict({"w": nn.Parameter(torch.ones(2))}))
dp = nn.DataParallel(net)
print(type(dp).__name__, dp.module is net, torch.equal(dp(x), net(x)), list(dp.state_dict().keys())[:2])
y = checkpoint(net, x, use_reentrant=False)
y.sum().backward()
print(y, x.grad)
seq = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
with torch.no_grad():
    for i, p in enumerate(seq.parameters()):
        p.copy_(torch.linspace(-0.5, 0.5, p.numel()).reshape(p.shape) * (i + 1))
z = torch.tensor([[0.3, -0.2]], requires_grad=True)
out = torch.utils.checkpoint.checkpoint_sequential(seq, 2, z, use_reentrant=False)
out.backward()
print(out, z.grad)
print(sum(p.numel() for p in seq.parameters() if p.requires_grad), seq[0].weight.is_leaf)
m = nn.Linear(3, 3)
m.weight.data = torch.eye(3)
m.bias.data = torch.tensor([0.5, -0.25, 1.0])   # (x + b) - b exact in float32 (a random bias need not be)
print(m(torch.tensor([[1.0, 2.0, 3.0]])) - m.bias)
del m.bias
m.register_parameter("bias", None)
print(m, m(torch.ones(1, 3)))
