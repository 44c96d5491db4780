# Higher-order and custom-optimizer code from widely copied repositories: MAML's inner loop (autograd.grad with create_graph, functional_call with fast weights, OrderedDict updates), WGAN-GP's gradient penalty on interpolates, a DANN gradient-reversal Function, and Optimizer subclasses as their authors write them: SAM (first_step/second_step wrapping a base optimizer, shared param_groups), Lion (sign update, lerp_), Lookahead (slow weights in state), with state_dict round trips.
from collections import OrderedDict, defaultdict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd import Function
from torch.func import functional_call
from torch.optim.optimizer import Optimizer

rng = np.random.RandomState(0)


def fill(module, std=0.4):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, std, p.shape).astype(np.float32)))


# ---- MAML on sine regression tasks ----
net = nn.Sequential(nn.Linear(1, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
fill(net)
meta_opt = torch.optim.Adam(net.parameters(), lr=1e-3)
inner_lr = 0.01
for meta_step in range(2):
    meta_opt.zero_grad()
    meta_loss = 0.0
    for task in range(2):
        amp, phase = 0.5 + task, 0.3 * task
        xs = torch.from_numpy(rng.uniform(-5, 5, (5, 1)).astype(np.float32))
        xq = torch.from_numpy(rng.uniform(-5, 5, (5, 1)).astype(np.float32))
        ys, yq = amp * torch.sin(xs + phase), amp * torch.sin(xq + phase)
        fast_weights = OrderedDict(net.named_parameters())
        for inner in range(2):
            loss = F.mse_loss(functional_call(net, fast_weights, (xs,)), ys)
            grads = torch.autograd.grad(loss, fast_weights.values(), create_graph=True)
            fast_weights = OrderedDict((name, param - inner_lr * grad)
                                       for ((name, param), grad) in zip(fast_weights.items(), grads))
        query_loss = F.mse_loss(functional_call(net, fast_weights, (xq,)), yq)
        meta_loss = meta_loss + query_loss
    meta_loss = meta_loss / 2
    meta_loss.backward()
    meta_opt.step()
    print(f"meta step {meta_step}: {meta_loss.item():.5f}", fast_weights["0.weight"].grad_fn.name(),
          round(net[0].weight.grad.norm().item(), 5))

# ---- WGAN-GP ----
Tensor = torch.FloatTensor
generator = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(8, 6), nn.Tanh())
discriminator = nn.Sequential(nn.Linear(6, 8), nn.LeakyReLU(0.2, inplace=True), nn.Linear(8, 1))
fill(generator)
fill(discriminator)
optimizer_G = torch.optim.Adam(generator.parameters(), lr=1e-3, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=1e-3, betas=(0.5, 0.999))
lambda_gp = 10


def compute_gradient_penalty(D, real_samples, fake_samples, alpha):
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    fake = torch.autograd.Variable(Tensor(real_samples.shape[0], 1).fill_(1.0), requires_grad=False)
    gradients = torch.autograd.grad(outputs=d_interpolates, inputs=interpolates, grad_outputs=fake,
                                    create_graph=True, retain_graph=True, only_inputs=True)[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


for i in range(3):
    real_imgs = torch.from_numpy(rng.normal(size=(4, 6)).astype(np.float32))
    z = torch.autograd.Variable(Tensor(np.random.RandomState(i).normal(0, 1, (4, 4))))
    optimizer_D.zero_grad()
    fake_imgs = generator(z)
    alpha = Tensor(np.random.RandomState(10 + i).random((real_imgs.size(0), 1)))
    gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data, fake_imgs.data, alpha)
    d_loss = -torch.mean(discriminator(real_imgs)) + torch.mean(discriminator(fake_imgs)) + lambda_gp * gradient_penalty
    d_loss.backward()
    optimizer_D.step()
    optimizer_G.zero_grad()
    g_loss = -torch.mean(discriminator(generator(z)))
    g_loss.backward()
    optimizer_G.step()
    print("[D loss: %f] [G loss: %f] [GP: %f]" % (d_loss.item(), g_loss.item(), gradient_penalty.item()))


# ---- DANN gradient reversal ----
class ReverseLayerF(Function):
    @staticmethod
    def forward(ctx, x, alpha):
        ctx.alpha = alpha
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        output = grad_output.neg() * ctx.alpha
        return output, None


feat = nn.Linear(3, 4)
domain_head = nn.Linear(4, 2)
fill(feat)
fill(domain_head)
xd = torch.from_numpy(rng.normal(size=(5, 3)).astype(np.float32))
h = feat(xd)
reverse_feature = ReverseLayerF.apply(h, 0.5)
domain_loss = F.nll_loss(F.log_softmax(domain_head(reverse_feature), dim=1), torch.tensor([0, 1, 0, 1, 1]))
domain_loss.backward()
g_rev = feat.weight.grad.clone()
feat.zero_grad()
F.nll_loss(F.log_softmax(domain_head(feat(xd)), dim=1), torch.tensor([0, 1, 0, 1, 1])).backward()
print(reverse_feature.grad_fn.name(), torch.allclose(g_rev, -0.5 * feat.weight.grad))


# ---- custom optimizers ----
class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, adaptive=False, **kwargs):
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"
        defaults = dict(rho=rho, adaptive=adaptive, **kwargs)
        super(SAM, self).__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self, zero_grad=False):
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.data.clone()
                e_w = (torch.pow(p, 2) if group["adaptive"] else 1.0) * p.grad * scale.to(p)
                p.add_(e_w)
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad=False):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.data = self.state[p]["old_p"]
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def step(self, closure=None):
        assert closure is not None, "Sharpness Aware Minimization requires closure, but it was not provided"
        closure = torch.enable_grad()(closure)
        self.first_step(zero_grad=True)
        closure()
        self.second_step()

    def _grad_norm(self):
        shared_device = self.param_groups[0]["params"][0].device
        norm = torch.norm(
            torch.stack([
                ((torch.abs(p) if group["adaptive"] else 1.0) * p.grad).norm(p=2).to(shared_device)
                for group in self.param_groups for p in group["params"]
                if p.grad is not None
            ]),
            p=2
        )
        return norm

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.base_optimizer.param_groups = self.param_groups


class Lion(Optimizer):
    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        if not 0.0 <= lr:
            raise ValueError('Invalid learning rate: {}'.format(lr))
        defaults = dict(lr=lr, betas=betas, weight_decay=weight_decay)
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group['params']:
                if p.grad is None:
                    continue
                p.data.mul_(1 - group['lr'] * group['weight_decay'])
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state['exp_avg'] = torch.zeros_like(p)
                exp_avg = state['exp_avg']
                beta1, beta2 = group['betas']
                update = exp_avg * beta1 + grad * (1 - beta1)
                p.add_(update.sign_(), alpha=-group['lr'])
                exp_avg.lerp_(grad, 1 - beta2)
        return loss


class Lookahead(Optimizer):
    def __init__(self, base_optimizer, alpha=0.5, k=6):
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f'Invalid slow update rate: {alpha}')
        defaults = dict(lookahead_alpha=alpha, lookahead_k=k, lookahead_step=0)
        self._base_optimizer = base_optimizer
        self.param_groups = base_optimizer.param_groups
        self.defaults = base_optimizer.defaults
        self.defaults.update(defaults)
        self.state = defaultdict(dict)
        # Optimizer.__init__ is not called: the step hooks its wrapper reads are set by hand
        self._optimizer_step_pre_hooks = OrderedDict()
        self._optimizer_step_post_hooks = OrderedDict()
        for name, default in defaults.items():
            for group in self._base_optimizer.param_groups:
                group.setdefault(name, default)

    @torch.no_grad()
    def update_slow(self, group):
        for fast_p in group["params"]:
            if fast_p.grad is None:
                continue
            param_state = self._base_optimizer.state[fast_p]
            if 'lookahead_slow_buff' not in param_state:
                param_state['lookahead_slow_buff'] = torch.empty_like(fast_p)
                param_state['lookahead_slow_buff'].copy_(fast_p)
            slow = param_state['lookahead_slow_buff']
            slow.add_(fast_p - slow, alpha=group['lookahead_alpha'])
            fast_p.copy_(slow)

    def sync_lookahead(self):
        for group in self._base_optimizer.param_groups:
            self.update_slow(group)

    @torch.no_grad()
    def step(self, closure=None):
        loss = self._base_optimizer.step(closure)
        for group in self._base_optimizer.param_groups:
            group['lookahead_step'] += 1
            if group['lookahead_step'] % group['lookahead_k'] == 0:
                self.update_slow(group)
        return loss

    def state_dict(self):
        return self._base_optimizer.state_dict()

    def load_state_dict(self, state_dict):
        self._base_optimizer.load_state_dict(state_dict)
        self.param_groups = self._base_optimizer.param_groups


xo = torch.from_numpy(rng.normal(size=(8, 3)).astype(np.float32))
yo = torch.from_numpy(rng.randint(0, 2, 8))
for name in ("SAM", "Lion", "Lookahead"):
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 2))
    fill(model)
    if name == "SAM":
        optimizer = SAM(model.parameters(), torch.optim.SGD, rho=0.05, adaptive=True, lr=0.1, momentum=0.9)
    elif name == "Lion":
        optimizer = Lion(model.parameters(), lr=1e-2, weight_decay=0.1)
    else:
        optimizer = Lookahead(torch.optim.Adam(model.parameters(), lr=1e-2), alpha=0.5, k=2)
    print(name, type(optimizer).__mro__[1].__name__, sorted(optimizer.defaults)[:4], len(optimizer.param_groups))
    for step in range(3):
        if name == "SAM":
            loss = F.cross_entropy(model(xo), yo)
            loss.backward()
            optimizer.first_step(zero_grad=True)
            F.cross_entropy(model(xo), yo).backward()
            optimizer.second_step(zero_grad=True)
        else:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xo), yo)
            loss.backward()
            optimizer.step()
        print(f"  step {step}: {loss.item():.5f}")
    state = optimizer.state_dict()
    print(" ", sorted(state), sorted(state["state"][0]) if state["state"] else None,
          sorted(k for k in state["param_groups"][0] if k != "params"))
    if name == "Lion":
        clone = Lion(model.parameters(), lr=1.0)
        clone.load_state_dict(state)
        print(" ", clone.param_groups[0]["lr"], torch.equal(clone.state[model[0].weight]["exp_avg"],
                                                            optimizer.state[model[0].weight]["exp_avg"]))
    if name == "SAM":
        def closure():
            loss = F.cross_entropy(model(xo), yo)
            loss.backward()
            return loss
        F.cross_entropy(model(xo), yo).backward()
        optimizer.step(closure)
        optimizer.zero_grad()
        print(" ", round(F.cross_entropy(model(xo), yo).item(), 5), optimizer.base_optimizer.param_groups is optimizer.param_groups)
