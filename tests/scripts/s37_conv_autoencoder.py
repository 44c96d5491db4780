# A convolutional autoencoder: Conv2d down, Upsample and Conv2d up, interpolate, output sizes and one training step.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ConvAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 3, stride=2, padding=1), nn.ReLU())
        self.dec = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(8, 4, 3, padding=1), nn.ReLU(),
                                 nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid())

    def forward(self, x):
        z = self.enc(x)
        return self.dec(z), z


model = ConvAE()
print(model)
rng = np.random.RandomState(12)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
x = torch.from_numpy(rng.rand(2, 1, 16, 16).astype(np.float32))
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
for step in range(5):
    out, z = model(x)
    loss = F.binary_cross_entropy(out, x)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(step, f"{loss.item():.4f}")
print(z.shape, out.shape, type(out.grad_fn).__name__, type(z.grad_fn).__name__)
up = F.interpolate(z, scale_factor=2, mode="nearest")
print(up.shape, F.interpolate(x, size=(8, 8), mode="bilinear", align_corners=False).shape)
print(F.interpolate(torch.arange(4.0).view(1, 1, 2, 2), scale_factor=2, mode="bilinear", align_corners=True))
print(nn.Upsample(scale_factor=2, mode="nearest")(torch.arange(4.0).view(1, 1, 2, 2)))
print(F.avg_pool2d(x, 2).shape, F.adaptive_max_pool2d(x, (3, 3)).shape, F.max_pool2d(x, 3, stride=2, padding=1, return_indices=True)[1].dtype)
print(nn.PixelShuffle(2)(torch.arange(16.0).view(1, 4, 2, 2)))
print(F.unfold(torch.arange(16.0).view(1, 1, 4, 4), kernel_size=2, stride=2))
print(nn.Conv1d(2, 3, 3)(torch.ones(1, 2, 5)).shape)
