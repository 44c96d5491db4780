# PyTorch recipes: loading an mmap=True checkpoint with load_state_dict(assign=True), warmstarting with strict=False and its errors, set_default_device (the recipes' meta-device parts: cgrad has no meta device).
import os
import tempfile
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SomeModule(torch.nn.Module):
    def __init__(self, size):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(size, size) for i in range(3)])

    def forward(self, x):
        return self.linears[0](x)


rng = np.random.RandomState(33)
m = SomeModule(4)
with torch.no_grad():
    for p in m.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-1, 1, p.shape).astype(np.float32)))
path = os.path.join(tempfile.mkdtemp(), "checkpoint.pth")
torch.save(m.state_dict(), path)
state_dict = torch.load(path, mmap=True, weights_only=True)
print(sorted(state_dict.keys())[:3], state_dict["linears.0.weight"].dtype)
meta_free = SomeModule(4)
print(meta_free.load_state_dict(state_dict, assign=True))
print(meta_free.linears[0].weight.requires_grad, type(meta_free.linears[0].weight).__name__,
      meta_free.linears[0].weight.data_ptr() == state_dict["linears.0.weight"].data_ptr())
x = torch.from_numpy(rng.rand(2, 4).astype(np.float32))
print(torch.allclose(meta_free(x), m(x)))


class NetA(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc2 = nn.Linear(6, 2)


class NetB(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 6)
        self.fc3 = nn.Linear(6, 3)


netA, netB = NetA(), NetB()
result = netB.load_state_dict(netA.state_dict(), strict=False)
print(result, result.missing_keys, result.unexpected_keys, torch.equal(netB.fc1.weight, netA.fc1.weight))
try:
    netB.load_state_dict(netA.state_dict())
except RuntimeError as e:
    print(type(e).__name__, e)
bad = {"fc1.weight": torch.zeros(3, 3), "fc1.bias": torch.zeros(6)}
try:
    netB.load_state_dict(bad, strict=False)
except RuntimeError as e:
    print(type(e).__name__, e)
torch.set_default_device('cpu')
print(torch.get_default_device(), torch.zeros(1).device)
with torch.device('cpu'):
    print(torch.ones(2).device, nn.Linear(2, 2).weight.device)
print(torch.ones(2).device)
# the scripts share one process: leave no default device behind (in PyTorch a set default device, even the
# CPU, is a TorchFunctionMode that turns off the transformer fast paths of later scripts)
torch.set_default_device(None)
print(torch.get_default_device())
