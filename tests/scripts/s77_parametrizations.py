# The parametrizations tutorial: register_parametrization (Symmetric, Skew + matrix_exp, chained), parametrizations.original, right_inverse, cached(), remove_parametrizations, orthogonal/weight_norm/spectral_norm.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.utils.parametrize as P
import torch.nn.utils.parametrize as parametrize


def np_tensor(seed, *shape):
    return torch.from_numpy(np.random.RandomState(seed).uniform(-1, 1, size=shape).astype(np.float32))


def symmetric(X):
    return X.triu() + X.triu(1).transpose(-1, -2)


X = np_tensor(0, 3, 3)
A = symmetric(X)
assert torch.allclose(A, A.T)
print(A)


class LinearSymmetric(nn.Module):
    def __init__(self, n_features):
        super().__init__()
        self.weight = nn.Parameter(np_tensor(1, n_features, n_features))

    def forward(self, x):
        A = symmetric(self.weight)
        return x @ A


layer = LinearSymmetric(3)
out = layer(np_tensor(2, 8, 3))
print(out.shape, out.grad_fn)


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(np_tensor(3, 3, 3))
    layer.bias.copy_(np_tensor(4, 3))
parametrize.register_parametrization(layer, "weight", Symmetric())
A = layer.weight
assert torch.allclose(A, A.T)
print(A)
print(layer)
print(type(layer).__name__, type(layer).__module__ == type(nn.Linear(1, 1)).__module__)
print(layer.parametrizations)
print(layer.parametrizations.weight.original)
print(P.is_parametrized(layer), P.is_parametrized(layer, "bias"), P.is_parametrized(layer, "weight"))
print([n for n, _ in layer.named_parameters()])
print(list(layer.state_dict().keys()))


class Skew(nn.Module):
    def forward(self, X):
        A = X.triu(1)
        return A - A.transpose(-1, -2)


cnn = nn.Conv2d(in_channels=5, out_channels=8, kernel_size=3)
with torch.no_grad():
    cnn.weight.copy_(np_tensor(5, 8, 5, 3, 3))
parametrize.register_parametrization(cnn, "weight", Skew())
print(cnn.weight[0, 1])
print(cnn.weight[2, 2])


class MatrixExponential(nn.Module):
    def forward(self, X):
        return torch.matrix_exp(X)


layer_orthogonal = nn.Linear(3, 3)
with torch.no_grad():
    layer_orthogonal.weight.copy_(np_tensor(6, 3, 3))
parametrize.register_parametrization(layer_orthogonal, "weight", Skew())
parametrize.register_parametrization(layer_orthogonal, "weight", MatrixExponential())
X = layer_orthogonal.weight
print(torch.dist(X.T @ X, torch.eye(3)) < 1e-5)
print(layer_orthogonal.parametrizations.weight)
print(len(layer_orthogonal.parametrizations.weight))


class MatrixExponentialCached(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, X):
        self.calls += 1
        return torch.matrix_exp(X)


layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(np_tensor(7, 3, 3))
parametrize.register_parametrization(layer, "weight", Skew())
counter = MatrixExponentialCached()
parametrize.register_parametrization(layer, "weight", counter)
print(counter.calls)
with parametrize.cached():
    X = layer.weight
    Y = layer.weight
    print(X is Y, counter.calls)
layer.weight
print(counter.calls)
x = np_tensor(8, 2, 3)
with parametrize.cached():
    out = layer(x) + layer(x)
out.sum().backward()
print(counter.calls, layer.parametrizations.weight.original.grad.round(decimals=3))


class CayleyMap(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.register_buffer("Id", torch.eye(n))

    def forward(self, X):
        return torch.linalg.solve(self.Id - X, self.Id + X)


layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(np_tensor(9, 3, 3))
parametrize.register_parametrization(layer, "weight", Skew())
parametrize.register_parametrization(layer, "weight", CayleyMap(3))
X = layer.weight
print(torch.dist(X.T @ X, torch.eye(3)) < 1e-5)
print([n for n, _ in layer.named_buffers()])


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)

    def right_inverse(self, A):
        return A.triu()


layer = nn.Linear(3, 3)
parametrize.register_parametrization(layer, "weight", Symmetric())
X = np_tensor(10, 3, 3)
X = X + X.T
layer.weight = X
print(torch.allclose(layer.weight, X))
print(layer.parametrizations.weight.original)


class NoisyParametrization(nn.Module):
    def forward(self, X):
        return X

    def right_inverse(self, A):
        return torch.zeros_like(A)


layer = nn.Linear(4, 4)
with torch.no_grad():
    layer.weight.copy_(np_tensor(11, 4, 4))
print("Before:", layer.weight.abs().sum())
parametrize.register_parametrization(layer, "weight", NoisyParametrization())
print("Initialization:", layer.weight.abs().sum())
layer = nn.Linear(4, 4)
with torch.no_grad():
    layer.weight.copy_(np_tensor(11, 4, 4))
parametrize.register_parametrization(layer, "weight", NoisyParametrization(), unsafe=True)
print("Unsafe initialization:", layer.weight.abs().sum())

layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(np_tensor(12, 3, 3))
print("Before:")
print(layer)
print(layer.weight)
parametrize.register_parametrization(layer, "weight", Skew())
print("\nParametrized:")
print(layer)
print(layer.weight)
parametrize.remove_parametrizations(layer, "weight")
print("\nAfter. Weight has skew-symmetric values but it is unconstrained:")
print(layer)
print(layer.weight)

layer = nn.Linear(3, 3)
with torch.no_grad():
    layer.weight.copy_(np_tensor(13, 3, 3))
parametrize.register_parametrization(layer, "weight", Skew())
parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)
print(layer.weight)
try:
    parametrize.remove_parametrizations(layer, "weight")
except ValueError as e:
    print("ValueError:", e)

from torch.nn.utils import parametrizations
lin = nn.Linear(4, 3)
with torch.no_grad():
    lin.weight.copy_(np_tensor(14, 3, 4))
    lin.bias.zero_()
lin = parametrizations.weight_norm(lin)
print([n for n, _ in lin.named_parameters()])
print(lin.parametrizations.weight.original0.shape, lin.parametrizations.weight.original1.shape)
print(torch.allclose(lin.weight, np_tensor(14, 3, 4)))
orth = parametrizations.orthogonal(nn.Linear(4, 4))
Q = orth.weight
print(torch.dist(Q.T @ Q, torch.eye(4)) < 1e-5, Q.shape)
sn = parametrizations.spectral_norm(nn.Linear(5, 4))
print([n for n, _ in sn.named_buffers()][:2], sn.parametrizations.weight.original.shape)
