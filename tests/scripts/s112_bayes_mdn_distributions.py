# Probabilistic-model code built on torch.distributions: Bayes-by-backprop linear layers (softplus-parameterised Normal posteriors, rsample with a numpy epsilon via loc + scale * eps, kl_divergence to a Normal prior summed over Independent), a mixture density network (MixtureSameFamily of Independent Normals, its log_prob beside a hand-written logsumexp version, mean/variance, sample shapes), and a beta-VAE objective with Bernoulli(logits=...) reconstruction.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import (Bernoulli, Categorical, Independent, MixtureSameFamily, Normal,
                                 kl_divergence)

rng = np.random.RandomState(0)


class BayesLinear(nn.Module):
    def __init__(self, in_features, out_features, prior_sigma=1.0):
        super().__init__()
        self.w_mu = nn.Parameter(torch.zeros(out_features, in_features))
        self.w_rho = nn.Parameter(torch.full((out_features, in_features), -3.0))
        self.b_mu = nn.Parameter(torch.zeros(out_features))
        self.b_rho = nn.Parameter(torch.full((out_features,), -3.0))
        self.prior = Normal(torch.tensor(0.0), torch.tensor(prior_sigma))

    def posteriors(self):
        return (Independent(Normal(self.w_mu, F.softplus(self.w_rho)), 2),
                Independent(Normal(self.b_mu, F.softplus(self.b_rho)), 1))

    def forward(self, x, eps_w, eps_b):
        qw, qb = self.posteriors()
        w = qw.base_dist.loc + qw.base_dist.scale * eps_w
        b = qb.base_dist.loc + qb.base_dist.scale * eps_b
        return F.linear(x, w, b)

    def kl(self):
        qw, qb = self.posteriors()
        pw = Independent(self.prior.expand(self.w_mu.shape), 2)
        pb = Independent(self.prior.expand(self.b_mu.shape), 1)
        return kl_divergence(qw, pw) + kl_divergence(qb, pb)


layer1, layer2 = BayesLinear(1, 8), BayesLinear(8, 1)
with torch.no_grad():
    for layer in (layer1, layer2):
        layer.w_mu.copy_(torch.from_numpy(rng.normal(0, 0.5, layer.w_mu.shape).astype(np.float32)))
x = torch.from_numpy(np.linspace(-2, 2, 16, dtype=np.float32)).unsqueeze(1)
y = torch.sin(2 * x) + 0.1 * torch.from_numpy(rng.normal(size=(16, 1)).astype(np.float32))
qw, qb = layer1.posteriors()
print(qw, qw.event_shape, qw.batch_shape, layer1.kl().shape, round(layer1.kl().item(), 4))
opt = torch.optim.Adam(list(layer1.parameters()) + list(layer2.parameters()), lr=0.01)
for step in range(3):
    eps = [torch.from_numpy(rng.normal(size=s).astype(np.float32)) for s in ((8, 1), (8,), (1, 8), (1,))]
    pred = layer2(torch.relu(layer1(x, eps[0], eps[1])), eps[2], eps[3])
    nll = -Normal(pred, 0.1).log_prob(y).sum()
    kl = layer1.kl() + layer2.kl()
    loss = nll + kl / 16
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"step {step}: nll {nll.item():.3f} kl {kl.item():.3f}", layer1.w_rho.grad.abs().sum() > 0)
sample = qw.rsample((2,))
print(sample.shape, sample.requires_grad, qw.sample().requires_grad)


class MDN(nn.Module):
    def __init__(self, dim_in, dim_out, n_components):
        super().__init__()
        self.n_components, self.dim_out = n_components, dim_out
        self.hidden = nn.Sequential(nn.Linear(dim_in, 16), nn.Tanh())
        self.pi = nn.Linear(16, n_components)
        self.mu = nn.Linear(16, n_components * dim_out)
        self.log_sigma = nn.Linear(16, n_components * dim_out)

    def forward(self, x):
        h = self.hidden(x)
        logits = self.pi(h)
        mu = self.mu(h).view(-1, self.n_components, self.dim_out)
        sigma = torch.exp(self.log_sigma(h)).view(-1, self.n_components, self.dim_out).clamp(min=1e-3)
        mix = Categorical(logits=logits)
        comp = Independent(Normal(mu, sigma), 1)
        return MixtureSameFamily(mix, comp), logits, mu, sigma


def mdn_nll_by_hand(logits, mu, sigma, y):
    y = y.unsqueeze(1).expand_as(mu)
    log_component = (-0.5 * ((y - mu) / sigma) ** 2 - torch.log(sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)
    return -torch.logsumexp(F.log_softmax(logits, dim=-1) + log_component, dim=-1).mean()


mdn = MDN(1, 2, 3)
with torch.no_grad():
    for p in mdn.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, p.shape).astype(np.float32)))
targets = torch.cat([torch.sin(x), torch.cos(x)], dim=1)
opt = torch.optim.Adam(mdn.parameters(), lr=5e-3)
for step in range(3):
    dist, logits, mu, sigma = mdn(x)
    loss = -dist.log_prob(targets).mean()
    by_hand = mdn_nll_by_hand(logits, mu, sigma, targets)
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"mdn step {step}: {loss.item():.5f}", torch.allclose(loss, by_hand, atol=1e-5))
print(dist.batch_shape, dist.event_shape, dist.mean.shape, dist.variance.shape, dist.sample((4,)).shape)
print(dist.mixture_distribution.probs[0].detach(), dist.component_distribution.base_dist.loc.shape)
print(dist.cdf if hasattr(dist, "cdf") else None)


class VAE(nn.Module):
    def __init__(self, x_dim=6, z_dim=2):
        super().__init__()
        self.enc = nn.Linear(x_dim, 2 * z_dim)
        self.dec = nn.Linear(z_dim, x_dim)

    def forward(self, x, eps):
        loc, log_scale = self.enc(x).chunk(2, dim=-1)
        q = Independent(Normal(loc, log_scale.exp()), 1)
        z = q.base_dist.loc + q.base_dist.scale * eps
        p_x = Independent(Bernoulli(logits=self.dec(z)), 1)
        prior = Independent(Normal(torch.zeros_like(loc), torch.ones_like(loc)), 1)
        return p_x.log_prob(x), kl_divergence(q, prior), p_x


vae = VAE()
with torch.no_grad():
    for p in vae.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, p.shape).astype(np.float32)))
xb = torch.from_numpy((rng.uniform(size=(5, 6)) > 0.5).astype(np.float32))
opt = torch.optim.Adam(vae.parameters(), lr=1e-2)
beta = 4.0
for step in range(3):
    eps = torch.from_numpy(rng.normal(size=(5, 2)).astype(np.float32))
    log_px, kl, p_x = vae(xb, eps)
    loss = -(log_px - beta * kl).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"beta-vae step {step}: {loss.item():.5f} rec {(-log_px.mean()).item():.5f} kl {kl.mean().item():.5f}")
bce = F.binary_cross_entropy_with_logits(p_x.base_dist.logits, xb, reduction="none").sum(-1)
print(torch.allclose(-log_px, bce, atol=1e-5), p_x.mean.shape, p_x.base_dist.probs.min() > 0)
