# Exact Gaussian-process regression written from scratch as in GP tutorials: RBF kernel via torch.cdist, softplus-constrained hyperparameters, cholesky / cholesky_solve / solve_triangular, the negative marginal log likelihood optimised with Adam, predictive mean and variance, and a sample from the posterior by the Cholesky factor.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


class RBFKernel(nn.Module):
    def __init__(self):
        super().__init__()
        self.raw_lengthscale = nn.Parameter(torch.tensor(0.0))
        self.raw_outputscale = nn.Parameter(torch.tensor(0.0))

    @property
    def lengthscale(self):
        return F.softplus(self.raw_lengthscale)

    @property
    def outputscale(self):
        return F.softplus(self.raw_outputscale)

    def forward(self, x1, x2):
        dist = torch.cdist(x1 / self.lengthscale, x2 / self.lengthscale, p=2)
        return self.outputscale * torch.exp(-0.5 * dist.pow(2))


class ExactGP(nn.Module):
    def __init__(self, train_x, train_y):
        super().__init__()
        self.train_x = train_x
        self.train_y = train_y
        self.kernel = RBFKernel()
        self.raw_noise = nn.Parameter(torch.tensor(-1.0))
        self.mean_constant = nn.Parameter(torch.zeros(1))

    @property
    def noise(self):
        return F.softplus(self.raw_noise) + 1e-4

    def neg_mll(self):
        n = self.train_x.shape[0]
        K = self.kernel(self.train_x, self.train_x) + self.noise * torch.eye(n)
        L = torch.linalg.cholesky(K)
        resid = (self.train_y - self.mean_constant).unsqueeze(-1)
        alpha = torch.cholesky_solve(resid, L)
        data_fit = 0.5 * (resid * alpha).sum()
        complexity = torch.log(torch.diagonal(L)).sum()
        return (data_fit + complexity + 0.5 * n * math.log(2 * math.pi)) / n

    @torch.no_grad()
    def predict(self, test_x):
        n = self.train_x.shape[0]
        K = self.kernel(self.train_x, self.train_x) + self.noise * torch.eye(n)
        L = torch.linalg.cholesky(K)
        K_s = self.kernel(self.train_x, test_x)
        K_ss = self.kernel(test_x, test_x)
        resid = (self.train_y - self.mean_constant).unsqueeze(-1)
        alpha = torch.cholesky_solve(resid, L)
        mean = self.mean_constant + (K_s.T @ alpha).squeeze(-1)
        v = torch.linalg.solve_triangular(L, K_s, upper=False)
        cov = K_ss - v.T @ v
        return mean, cov


rng = np.random.RandomState(0)
train_x = torch.from_numpy(np.sort(rng.uniform(0, 5, 12))).unsqueeze(-1)
train_y = torch.sin(train_x * 1.5).squeeze(-1) + 0.1 * torch.from_numpy(rng.normal(size=12))
print(train_x.dtype, train_x.shape, train_y.shape)
model = ExactGP(train_x, train_y)
for name, p in model.named_parameters():
    print(name, p.shape, p.dtype)
optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
for i in range(3):
    optimizer.zero_grad()
    loss = model.neg_mll()
    loss.backward()
    print('Iter %d - Loss: %.4f   lengthscale: %.4f   noise: %.4f' % (
        i + 1, loss.item(), model.kernel.lengthscale.item(), model.noise.item()))
    optimizer.step()
print(model.kernel.raw_lengthscale.grad, model.raw_noise.grad)

test_x = torch.linspace(0, 5, 6).unsqueeze(-1)
mean, cov = model.predict(test_x)
var = cov.diagonal().clamp_min(1e-9)
lower, upper = mean - 2 * var.sqrt(), mean + 2 * var.sqrt()
print(mean, var)
print((lower <= upper).all(), cov.shape, torch.allclose(cov, cov.T))
jitter = 1e-6 * torch.eye(6)
L_post = torch.linalg.cholesky(cov + jitter)
eps = torch.from_numpy(rng.normal(size=(6, 3)))
samples = mean.unsqueeze(-1) + L_post @ eps
print(samples.shape, samples.dtype)
L_post_lower, info = torch.linalg.cholesky_ex(cov + jitter)
print(info, torch.allclose(L_post_lower, L_post))

# the same solves checked against the explicit inverse, and the batched form
K = model.kernel(train_x, train_x).detach() + 0.1 * torch.eye(12)
L = torch.linalg.cholesky(K)
b = torch.from_numpy(rng.normal(size=(12, 2)))
print(torch.allclose(torch.cholesky_solve(b, L), torch.linalg.inv(K) @ b))
print(torch.allclose(torch.cholesky_solve(b, L.T, upper=True), torch.linalg.solve(K, b)))
print(torch.allclose(torch.linalg.solve_triangular(L.T, b, upper=True, left=True), torch.linalg.inv(L.T) @ b))
print(torch.allclose(torch.linalg.solve_triangular(L, b.T, upper=False, left=False), b.T @ torch.linalg.inv(L)))
Kb = torch.stack([K, 2 * K])
Lb = torch.linalg.cholesky(Kb)
print(Lb.shape, torch.logdet(Kb), 2 * Lb.diagonal(dim1=-2, dim2=-1).log().sum(-1))
print(torch.cholesky_inverse(L).sub(torch.linalg.inv(K)).abs().max() < 1e-8)
mvn = torch.distributions.MultivariateNormal(torch.zeros(12), scale_tril=L)
print(mvn.log_prob(train_y.detach()), mvn.entropy())
try:
    torch.linalg.cholesky(-K)
except torch.linalg.LinAlgError as e:
    print(type(e).__name__, e)
torch.set_default_dtype(torch.float32)
