# pytorch/examples mnist_forward_forward: label overlay, layer-wise local losses on goodness, F.normalize, softplus, per-layer Adam.
import numpy as np
import torch
import torch.nn as nn
from torch.optim import Adam


def overlay_y_on_x(x, y, classes=4):
    x_ = x.clone()
    x_[:, :classes] *= 0.0
    x_[range(x.shape[0]), y] = x.max()
    return x_


class Layer(nn.Linear):
    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__(in_features, out_features, bias, device, dtype)
        self.relu = torch.nn.ReLU()
        self.opt = Adam(self.parameters(), lr=0.03)
        self.threshold = 2.0
        self.num_epochs = 4

    def forward(self, x):
        x_direction = x / (x.norm(2, 1, keepdim=True) + 1e-4)
        return self.relu(torch.mm(x_direction, self.weight.T) + self.bias.unsqueeze(0))

    def train(self, x_pos, x_neg):
        for i in range(self.num_epochs):
            g_pos = self.forward(x_pos).pow(2).mean(1)
            g_neg = self.forward(x_neg).pow(2).mean(1)
            loss = torch.log(1 + torch.exp(torch.cat([-g_pos + self.threshold, g_neg - self.threshold]))).mean()
            self.opt.zero_grad()
            loss.backward()
            self.opt.step()
            if i % 2 == 0:
                print("   ", i, f"{loss.item():.5f}")
        return self.forward(x_pos).detach(), self.forward(x_neg).detach()


class Net(torch.nn.Module):
    def __init__(self, dims):
        super().__init__()
        self.layers = []
        for d in range(len(dims) - 1):
            self.layers = self.layers + [Layer(dims[d], dims[d + 1])]

    def predict(self, x):
        goodness_per_label = []
        for label in range(4):
            h = overlay_y_on_x(x, label)
            goodness = []
            for layer in self.layers:
                h = layer(h)
                goodness = goodness + [h.pow(2).mean(1)]
            goodness_per_label += [sum(goodness).unsqueeze(1)]
        goodness_per_label = torch.cat(goodness_per_label, 1)
        return goodness_per_label.argmax(1)

    def train(self, x_pos, x_neg):
        h_pos, h_neg = x_pos, x_neg
        for i, layer in enumerate(self.layers):
            print("training layer", i, "...")
            h_pos, h_neg = layer.train(h_pos, h_neg)


rng = np.random.RandomState(9)
net = Net([16, 12, 12])
for layer in net.layers:
    with torch.no_grad():
        for p in layer.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
print(len(list(net.parameters())), net.layers[0], net.layers[0].relu)
x = torch.from_numpy(rng.rand(10, 16).astype(np.float32))
y = torch.from_numpy(rng.randint(0, 4, 10))
x_pos = overlay_y_on_x(x, y)
rnd = torch.randperm(x.size(0))
print(sorted(rnd.tolist()) == list(range(10)), rnd.dtype)
perm = torch.from_numpy(rng.permutation(10))
x_neg = overlay_y_on_x(x, y[perm])
print(x_pos[:2, :6])
net.train(x_pos, x_neg)
pred = net.predict(x)
print(pred, pred.eq(y).float().mean().item(), 1.0 - pred.eq(y).float().mean().item())
v = torch.tensor([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
print(torch.nn.functional.normalize(v), torch.nn.functional.normalize(v, p=1, dim=0))
print(torch.nn.functional.normalize(v, dim=1, eps=0.5), v.norm(2, 1, keepdim=True), v.norm(dim=0, p=1))
s = torch.tensor([-30.0, -1.0, 0.0, 1.0, 30.0])
print(torch.nn.functional.softplus(s), torch.nn.functional.softplus(s, beta=2, threshold=10), nn.Softplus(beta=0.5))
print(torch.log(1 + torch.exp(s)), torch.log1p(torch.exp(s)))
xd = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda t: torch.nn.functional.normalize(t, dim=1), (xd,)))
print(torch.autograd.gradcheck(lambda t: torch.nn.functional.normalize(t, p=3, dim=0), (xd,)))
print(torch.autograd.gradcheck(lambda t: torch.nn.functional.softplus(t, beta=1.5, threshold=0.5), (xd,)))
print(torch.nn.functional.normalize(xd).grad_fn.name(), torch.nn.functional.softplus(xd).grad_fn.name())
