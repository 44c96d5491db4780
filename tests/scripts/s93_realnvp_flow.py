# RealNVP normalizing flow on 2-D data as in the widely copied notebooks: masked affine coupling layers, logdet accumulation, MultivariateNormal prior, log_prob training with Adam, inverse sampling, TransformedDistribution with AffineTransform/ExpTransform, sum_to_size.
import numpy as np
import torch
from torch import nn, distributions
import torch.nn.functional as F


class RealNVP(nn.Module):
    def __init__(self, nets, nett, mask, prior):
        super(RealNVP, self).__init__()
        self.prior = prior
        self.mask = nn.Parameter(mask, requires_grad=False)
        self.t = torch.nn.ModuleList([nett() for _ in range(len(mask))])
        self.s = torch.nn.ModuleList([nets() for _ in range(len(mask))])

    def g(self, z):
        x = z
        for i in range(len(self.t)):
            x_ = x * self.mask[i]
            s = self.s[i](x_) * (1 - self.mask[i])
            t = self.t[i](x_) * (1 - self.mask[i])
            x = x_ + (1 - self.mask[i]) * (x * torch.exp(s) + t)
        return x

    def f(self, x):
        log_det_J, z = x.new_zeros(x.shape[0]), x
        for i in reversed(range(len(self.t))):
            z_ = self.mask[i] * z
            s = self.s[i](z_) * (1 - self.mask[i])
            t = self.t[i](z_) * (1 - self.mask[i])
            z = (1 - self.mask[i]) * (z - t) * torch.exp(-s) + z_
            log_det_J -= s.sum(dim=1)
        return z, log_det_J

    def log_prob(self, x):
        z, logp = self.f(x)
        return self.prior.log_prob(z) + logp

    def sample(self, z):
        return self.g(z)


nets = lambda: nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 16), nn.LeakyReLU(),
                             nn.Linear(16, 2), nn.Tanh())
nett = lambda: nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(), nn.Linear(16, 16), nn.LeakyReLU(),
                             nn.Linear(16, 2))
masks = torch.from_numpy(np.array([[0, 1], [1, 0]] * 3).astype(np.float32))
prior = distributions.MultivariateNormal(torch.zeros(2), torch.eye(2))
flow = RealNVP(nets, nett, masks, prior)
rng = np.random.RandomState(0)
with torch.no_grad():
    for name, p in flow.named_parameters():
        if name != "mask":
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
print(len(list(flow.parameters())), sum(p.numel() for p in flow.parameters() if p.requires_grad))
print(prior, prior.event_shape, prior.batch_shape)

optimizer = torch.optim.Adam([p for p in flow.parameters() if p.requires_grad == True], lr=1e-3)
theta = rng.uniform(0, 2 * np.pi, 64)
data = np.stack([np.cos(theta), np.sin(theta)], 1) + 0.05 * rng.normal(size=(64, 2))
for t in range(3):
    noisy_moons = data.astype(np.float32)
    loss = -flow.log_prob(torch.from_numpy(noisy_moons)).mean()
    optimizer.zero_grad()
    loss.backward(retain_graph=True)
    optimizer.step()
    print('iter %s:' % t, 'loss = %.4f' % loss)

z, logdet = flow.f(torch.from_numpy(data[:4].astype(np.float32)))
print(z.detach().numpy().round(4), logdet.detach())
x_back = flow.sample(z)
print(torch.allclose(x_back, torch.from_numpy(data[:4].astype(np.float32)), atol=1e-5))
z_np = rng.normal(size=(5, 2)).astype(np.float32)
x = flow.sample(torch.from_numpy(z_np)).detach().numpy()
print(x.shape, x.dtype, np.round(x, 3))
print(prior.sample((3,)).shape, prior.sample_n(2).shape if hasattr(prior, "sample_n") else None)

# a diagonal-Gaussian base under an affine bijection, as in the distributions-based flow code
loc = torch.tensor([0.5, -1.0], requires_grad=True)
log_scale = torch.tensor([0.1, -0.2], requires_grad=True)
base = distributions.Independent(distributions.Normal(torch.zeros(2), torch.ones(2)), 1)
transformed = distributions.TransformedDistribution(
    base, [distributions.transforms.AffineTransform(loc, log_scale.exp(), event_dim=1)])
pts = torch.from_numpy(data[:6].astype(np.float32))
lp = transformed.log_prob(pts)
print(lp, lp.grad_fn is not None, transformed.event_shape, transformed.batch_shape)
lp.sum().backward()
print(loc.grad, log_scale.grad)
lognormal = distributions.TransformedDistribution(distributions.Normal(0.0, 1.0), [distributions.transforms.ExpTransform()])
print(lognormal.log_prob(torch.tensor([0.5, 1.0, 2.0])))
print(distributions.LogNormal(0.0, 1.0).log_prob(torch.tensor([0.5, 1.0, 2.0])))
chain = distributions.transforms.ComposeTransform([distributions.transforms.AffineTransform(1.0, 2.0),
                                                   distributions.transforms.SigmoidTransform()])
y = chain(torch.tensor([-1.0, 0.0, 1.0]))
print(y, chain.inv(y), chain.log_abs_det_jacobian(torch.tensor([-1.0, 0.0, 1.0]), y))

# per-sample logdet of a channel-wise scale, reduced with sum_to_size as Glow-style code does
scale = torch.tensor([[0.3], [-0.1], [0.2]], requires_grad=True)
h = torch.from_numpy(rng.normal(size=(2, 3, 4)).astype(np.float32))
out = h * torch.exp(scale)
logdet = scale.expand(3, 4).sum_to_size(3, 1).sum() * torch.ones(2)
print(out.shape, logdet, torch.exp(scale).expand_as(h).sum_to_size(1, 3, 1).squeeze())
logdet.sum().backward()
print(scale.grad.view(-1))
