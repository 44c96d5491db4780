# The spatial transformer tutorial: localisation net regressing a 2x3 affine theta (identity-initialised fc), F.affine_grid + F.grid_sample, then a small classifier.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 4, kernel_size=3)
        self.fc1 = nn.Linear(4 * 5 * 5, 3)
        self.localization = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3),
            nn.MaxPool2d(2, stride=2),
            nn.ReLU(True),
        )
        self.fc_loc = nn.Sequential(
            nn.Linear(4 * 5 * 5, 8),
            nn.ReLU(True),
            nn.Linear(8, 3 * 2)
        )
        self.fc_loc[2].weight.data.zero_()
        self.fc_loc[2].bias.data.copy_(torch.tensor([1, 0, 0, 0, 1, 0], dtype=torch.float))

    def stn(self, x):
        xs = self.localization(x)
        xs = xs.view(-1, 4 * 5 * 5)
        theta = self.fc_loc(xs)
        theta = theta.view(-1, 2, 3)
        grid = F.affine_grid(theta, x.size(), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
        return x

    def forward(self, x):
        x = self.stn(x)
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = x.view(-1, 4 * 5 * 5)
        x = self.fc1(x)
        return F.log_softmax(x, dim=1)


model = Net()
rng = np.random.RandomState(13)
data = torch.from_numpy(rng.rand(3, 1, 12, 12).astype(np.float32))
target = torch.tensor([0, 2, 1])
with torch.no_grad():
    print(torch.allclose(model.stn(data), data, atol=1e-5))
    for name, p in model.named_parameters():
        if not name.startswith("fc_loc.2"):
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
        else:
            p.add_(torch.from_numpy(rng.uniform(-0.05, 0.05, p.shape).astype(np.float32)))
optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(3):
    optimizer.zero_grad()
    output = model(data)
    loss = F.nll_loss(output, target)
    loss.backward()
    optimizer.step()
    print(step, f"{loss.item():.5f}", model.fc_loc[2].bias.grad.abs().sum().item() > 0)
with torch.no_grad():
    transformed = model.stn(data)
print(transformed.shape, transformed[0, 0, :2, :5])
theta = torch.tensor([[[0.8, -0.2, 0.1], [0.3, 1.1, -0.05]]])
img = torch.arange(20.).reshape(1, 1, 4, 5)
for ac in (False, True):
    grid = F.affine_grid(theta, (1, 1, 3, 4), align_corners=ac)
    print(grid[0, :2].round(decimals=4))
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            out = F.grid_sample(img, grid, mode=mode, padding_mode=pad, align_corners=ac)
            print(ac, mode, pad, out[0, 0].round(decimals=3).tolist())
xd = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
gd = (torch.rand(1, 3, 4, 2, dtype=torch.float64) * 2.2 - 1.1).requires_grad_()
print(torch.autograd.gradcheck(lambda a, b: F.grid_sample(a, b, align_corners=False), (xd, gd)))
print(torch.autograd.gradcheck(lambda a, b: F.grid_sample(a, b, padding_mode="border", align_corners=True), (xd, gd)))
td = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda t: F.affine_grid(t, (2, 1, 3, 4), align_corners=False), (td,)))
print(F.grid_sample(xd, gd, align_corners=False).grad_fn.name(), F.affine_grid(td, (2, 1, 3, 4), align_corners=False).grad_fn.name())
try:
    F.affine_grid(theta, (1, 1, 3), align_corners=False)
except (ValueError, NotImplementedError, RuntimeError) as e:
    print(type(e).__name__, e)
try:
    F.grid_sample(img, torch.zeros(1, 3, 4, 3))
except RuntimeError as e:
    print(type(e).__name__, e)
