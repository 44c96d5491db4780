# Saving and loading: state_dict round trips, whole checkpoints, optimizer state.
import io
import os
import tempfile
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim


class TheModelClass(nn.Module):
    def __init__(self):
        super(TheModelClass, self).__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


model = TheModelClass()
optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
print("Model's state_dict:")
for param_tensor in model.state_dict():
    print(param_tensor, "\t", model.state_dict()[param_tensor].size())
print("Optimizer's state_dict:")
for var_name in optimizer.state_dict():
    print(var_name, "\t", optimizer.state_dict()[var_name])

rng = np.random.RandomState(1)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.randn(*p.shape).astype(np.float32) * 0.1))
x = torch.from_numpy(rng.randn(2, 3, 32, 32).astype(np.float32))
out = model(x)
out.sum().backward()
optimizer.step()
print([k for k in optimizer.state_dict()["state"].keys()], sorted(optimizer.state_dict()["state"][0].keys()))

tmp = tempfile.mkdtemp()
PATH = os.path.join(tmp, "model.pt")
torch.save(model.state_dict(), PATH)
model2 = TheModelClass()
print(model2.load_state_dict(torch.load(PATH, weights_only=True)))
model2.eval()
print(torch.equal(model(x), model2(x)))

torch.save({"epoch": 3, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict(), "loss": 0.25}, PATH)
checkpoint = torch.load(PATH)
model3 = TheModelClass()
optimizer3 = optim.SGD(model3.parameters(), lr=0.5)
model3.load_state_dict(checkpoint["model_state_dict"])
optimizer3.load_state_dict(checkpoint["optimizer_state_dict"])
print(checkpoint["epoch"], checkpoint["loss"], optimizer3.param_groups[0]["lr"], optimizer3.param_groups[0]["momentum"])
print(torch.allclose(optimizer3.state_dict()["state"][0]["momentum_buffer"], optimizer.state_dict()["state"][0]["momentum_buffer"]))

buf = io.BytesIO()
torch.save({"t": torch.arange(6).reshape(2, 3), "l": [torch.tensor(1.5), 2]}, buf)
buf.seek(0)
loaded = torch.load(buf)
print(loaded)

sd = model.state_dict()
sd.pop("fc3.bias")
res = model2.load_state_dict(sd, strict=False)
print(res)
print(res.missing_keys, res.unexpected_keys)
try:
    model2.load_state_dict(sd)
except RuntimeError as e:
    print("RuntimeError:", str(e).splitlines()[0])
bad = dict(model.state_dict())
bad["fc3.weight"] = torch.zeros(3, 3)
try:
    model2.load_state_dict(bad)
except RuntimeError as e:
    print(str(e))
torch.save(model, os.path.join(tmp, "whole.pt"))
m = torch.load(os.path.join(tmp, "whole.pt"), weights_only=False)
print(type(m).__name__)
