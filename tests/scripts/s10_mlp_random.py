# An MLP on random data with Adam; numpy-copied weights; classification accuracy.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.RandomState(0)
X = torch.from_numpy(rng.randn(128, 20).astype(np.float32))
y = torch.from_numpy((rng.rand(128) * 3).astype(np.int64))


class MLP(nn.Module):
    def __init__(self, in_dim=20, hidden=32, out_dim=3):
        super().__init__()
        self.fc1 = nn.Linear(in_dim, hidden, bias=False)  # BatchNorm follows: a bias would get only rounding noise
        self.bn = nn.BatchNorm1d(hidden)
        self.drop = nn.Dropout(0.0)
        self.fc2 = nn.Linear(hidden, out_dim)

    def forward(self, x):
        x = F.relu(self.bn(self.fc1(x)))
        x = self.drop(x)
        return self.fc2(x)


model = MLP()
print(model)
for name, p in model.named_parameters():
    print(name, tuple(p.shape), p.requires_grad)
for name, b in model.named_buffers():
    print(name, b.dtype, tuple(b.shape))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.randn(*p.shape).astype(np.float32) * 0.2))
opt = torch.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4)
for step in range(50):
    logits = model(X)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 10 == 0:
        print(step, f"{loss.item():.4f}")
model.eval()
with torch.no_grad():
    pred = model(X).argmax(dim=1)
    print("acc", (pred == y).float().mean().item())
print(model.bn.running_mean[:4], model.bn.num_batches_tracked)
print(sum(p.numel() for p in model.parameters()))
print(model.training, model.fc1.training)
print(loss.grad_fn, type(loss.grad_fn).__name__)
