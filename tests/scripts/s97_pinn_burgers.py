# A physics-informed network for the viscous Burgers equation as in the PINN repositories: u(t, x) from an MLP with Tanh and xavier_normal_ init, u_t/u_x/u_xx from torch.autograd.grad(grad_outputs=torch.ones_like(u), create_graph=True) twice, PDE residual + boundary losses, Adam steps then LBFGS(line_search_fn="strong_wolfe") with a closure.
import math
from collections import OrderedDict

import numpy as np
import torch


class DNN(torch.nn.Module):
    def __init__(self, layers):
        super(DNN, self).__init__()
        self.depth = len(layers) - 1
        self.activation = torch.nn.Tanh
        layer_list = list()
        for i in range(self.depth - 1):
            layer_list.append(('layer_%d' % i, torch.nn.Linear(layers[i], layers[i + 1])))
            layer_list.append(('activation_%d' % i, self.activation()))
        layer_list.append(('layer_%d' % (self.depth - 1), torch.nn.Linear(layers[-2], layers[-1])))
        layerDict = OrderedDict(layer_list)
        self.layers = torch.nn.Sequential(layerDict)

    def forward(self, x):
        return self.layers(x)


class PhysicsInformedNN():
    def __init__(self, X_u, u, X_f, layers, lb, ub, nu):
        self.lb = torch.tensor(lb).float()
        self.ub = torch.tensor(ub).float()
        self.x_u = torch.tensor(X_u[:, 0:1], requires_grad=True).float()
        self.t_u = torch.tensor(X_u[:, 1:2], requires_grad=True).float()
        self.x_f = torch.tensor(X_f[:, 0:1], requires_grad=True).float()
        self.t_f = torch.tensor(X_f[:, 1:2], requires_grad=True).float()
        self.u = torch.tensor(u).float()
        self.layers = layers
        self.nu = nu
        self.dnn = DNN(layers)
        rng = np.random.RandomState(0)
        with torch.no_grad():
            for m in self.dnn.modules():
                if isinstance(m, torch.nn.Linear):
                    torch.nn.init.xavier_normal_(m.weight)
                    m.weight.copy_(torch.from_numpy(rng.normal(0, 0.5, m.weight.shape).astype(np.float32)))
                    torch.nn.init.zeros_(m.bias)
        self.optimizer = torch.optim.LBFGS(
            self.dnn.parameters(), lr=1.0, max_iter=6, max_eval=8, history_size=5,
            tolerance_grad=1e-5, tolerance_change=1.0 * np.finfo(float).eps, line_search_fn="strong_wolfe")
        self.iter = 0

    def net_u(self, x, t):
        u = self.dnn(torch.cat([x, t], dim=1))
        return u

    def net_f(self, x, t):
        u = self.net_u(x, t)
        u_t = torch.autograd.grad(u, t, grad_outputs=torch.ones_like(u), retain_graph=True, create_graph=True)[0]
        u_x = torch.autograd.grad(u, x, grad_outputs=torch.ones_like(u), retain_graph=True, create_graph=True)[0]
        u_xx = torch.autograd.grad(u_x, x, grad_outputs=torch.ones_like(u_x), retain_graph=True, create_graph=True)[0]
        f = u_t + u * u_x - self.nu * u_xx
        return f

    def loss_func(self):
        self.optimizer.zero_grad()
        u_pred = self.net_u(self.x_u, self.t_u)
        f_pred = self.net_f(self.x_f, self.t_f)
        loss_u = torch.mean((self.u - u_pred) ** 2)
        loss_f = torch.mean(f_pred ** 2)
        loss = loss_u + loss_f
        loss.backward()
        self.iter += 1
        print('Iter %d, Loss: %.4e, Loss_u: %.4e, Loss_f: %.4e' % (self.iter, loss.item(), loss_u.item(), loss_f.item()))
        return loss

    def train(self):
        self.dnn.train()
        self.optimizer.step(self.loss_func)

    def predict(self, X):
        x = torch.tensor(X[:, 0:1], requires_grad=True).float()
        t = torch.tensor(X[:, 1:2], requires_grad=True).float()
        self.dnn.eval()
        u = self.net_u(x, t)
        f = self.net_f(x, t)
        u = u.detach().cpu().numpy()
        f = f.detach().cpu().numpy()
        return u, f


nu = 0.01 / np.pi
layers = [2, 12, 12, 1]
rng = np.random.RandomState(1)
x = np.linspace(-1, 1, 9)[:, None]
t = np.linspace(0, 1, 5)[:, None]
X, T = np.meshgrid(x, t)
X_star = np.hstack((X.flatten()[:, None], T.flatten()[:, None]))
lb, ub = X_star.min(0), X_star.max(0)
xx1 = np.hstack((X[0:1, :].T, T[0:1, :].T))
uu1 = -np.sin(np.pi * xx1[:, 0:1])
xx2 = np.hstack((X[:, 0:1], T[:, 0:1]))
uu2 = np.zeros_like(xx2[:, 0:1])
X_u_train = np.vstack([xx1, xx2])
u_train = np.vstack([uu1, uu2])
X_f_train = lb + (ub - lb) * rng.uniform(size=(20, 2))
X_f_train = np.vstack((X_f_train, X_u_train))
print(X_u_train.shape, X_f_train.shape, X_u_train.dtype)

model = PhysicsInformedNN(X_u_train, u_train, X_f_train, layers, lb, ub, nu)
print(model.dnn)
print(model.x_u.requires_grad, model.x_u.is_leaf, model.x_u.dtype, model.lb.dtype)
adam = torch.optim.Adam(model.dnn.parameters(), lr=1e-3)
for epoch in range(2):
    adam.zero_grad()
    u_pred = model.net_u(model.x_u, model.t_u)
    f_pred = model.net_f(model.x_f, model.t_f)
    loss = torch.mean((model.u - u_pred) ** 2) + torch.mean(f_pred ** 2)
    loss.backward()
    adam.step()
    print('Adam epoch %d, loss %.6f' % (epoch, loss.item()))
model.train()
state = model.optimizer.state[model.optimizer._params[0]]
print(state['func_evals'], state['n_iter'], len(state['old_dirs']))
u_pred, f_pred = model.predict(X_star[:6])
print(u_pred.shape, f_pred.shape, np.round(u_pred.ravel(), 4))

# the second derivative in one call via torch.autograd.grad of a summed first derivative,
# and through the functional API, as the tutorials cross-check it
xs = torch.linspace(-1, 1, 5, requires_grad=True)
ts = torch.full((5,), 0.5, requires_grad=True)
u = model.net_u(xs[:, None], ts[:, None]).squeeze(1)
du, = torch.autograd.grad(u.sum(), xs, create_graph=True)
d2u, = torch.autograd.grad(du.sum(), xs)
print(du.detach(), d2u)
hess = torch.autograd.functional.hessian(lambda v: model.dnn(torch.stack([v, torch.tensor(0.5)])[None]).sum(),
                                         torch.tensor(0.25))
print(hess.shape, hess.item() == hess.item())
