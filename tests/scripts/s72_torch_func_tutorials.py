# The torch.func tutorials: per-sample gradients (functional_call + grad + vmap), model ensembling (stack_module_state, vmap over params), jacrev/jacfwd/hessian, vjp/jvp/hvp, and a neural tangent kernel.
import copy
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, vmap, grad, jacrev, jacfwd, hessian, vjp, jvp, stack_module_state

rng = np.random.RandomState(43)


def set_weights(model, scale=0.4):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-scale, scale, p.shape).astype(np.float32)))
    return model


class SimpleCNN(nn.Module):
    def __init__(self):
        super(SimpleCNN, self).__init__()
        self.conv1 = nn.Conv2d(1, 2, 3, 1)
        self.fc1 = nn.Linear(2 * 2 * 2, 3)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        output = F.log_softmax(x, dim=1)
        return output


def loss_fn(predictions, targets):
    return F.nll_loss(predictions, targets)


model = set_weights(SimpleCNN())
data = torch.from_numpy(rng.randn(4, 1, 6, 6).astype(np.float32))
targets = torch.tensor([0, 2, 1, 1])


def compute_grad(sample, target):
    sample = sample.unsqueeze(0)
    target = target.unsqueeze(0)
    prediction = model(sample)
    loss = loss_fn(prediction, target)
    return torch.autograd.grad(loss, list(model.parameters()))


per_sample_grads = [compute_grad(data[i], targets[i]) for i in range(4)]
per_sample_grads = zip(*per_sample_grads)
per_sample_grads = [torch.stack(shards) for shards in per_sample_grads]
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    loss = loss_fn(predictions, targets)
    return loss


ft_compute_grad = grad(compute_loss)
ft_compute_sample_grad = vmap(ft_compute_grad, in_dims=(None, None, 0, 0))
ft_per_sample_grads = ft_compute_sample_grad(params, buffers, data, targets)
for per_sample_grad, ft_per_sample_grad in zip(per_sample_grads, ft_per_sample_grads.values()):
    assert torch.allclose(per_sample_grad, ft_per_sample_grad, atol=3e-3, rtol=1e-5)
print([tuple(g.shape) for g in ft_per_sample_grads.values()], list(ft_per_sample_grads.keys()))
print(ft_per_sample_grads["fc1.bias"].round(decimals=4))


class SimpleMLP(nn.Module):
    def __init__(self):
        super(SimpleMLP, self).__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


num_models = 3
models = [set_weights(SimpleMLP()) for _ in range(num_models)]
minibatches = torch.from_numpy(rng.randn(num_models, 5, 6).astype(np.float32))
minibatch = minibatches[0]
predictions_diff_minibatch_loop = [model(minibatch) for model, minibatch in zip(models, minibatches)]
params, buffers = stack_module_state(models)
print([(k, tuple(v.shape)) for k, v in params.items()], buffers)
base_model = copy.deepcopy(models[0])


def fmodel(params, buffers, x):
    return functional_call(base_model, (params, buffers), (x,))


predictions1_vmap = vmap(fmodel)(params, buffers, minibatches)
print(torch.allclose(predictions1_vmap, torch.stack(predictions_diff_minibatch_loop), atol=1e-6, rtol=1e-6))
predictions2_vmap = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, minibatch)
print(predictions2_vmap.shape, torch.allclose(predictions2_vmap, torch.stack([m(minibatch) for m in models]), atol=1e-6))

D = 4
weight = torch.from_numpy(rng.randn(D, D).astype(np.float64))
bias = torch.from_numpy(rng.randn(D).astype(np.float64))
x = torch.from_numpy(rng.randn(D).astype(np.float64))


def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()


jacobian = jacrev(predict, argnums=2)(weight, bias, x)
print(jacobian.shape, jacobian[0].round(decimals=6))
print(torch.allclose(jacobian, jacfwd(predict, argnums=2)(weight, bias, x)))
ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)
print(ft_jac_weight.shape, ft_jac_bias.shape)
batch_x = torch.from_numpy(rng.randn(3, D))
batch_jacobian0 = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))(weight, bias, batch_x)
print(batch_jacobian0.shape, batch_jacobian0[1, 2].round(decimals=6))
hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdrev = jacfwd(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)
print(hess_api.shape, torch.allclose(hess_api, hess_fwdrev), hess_api[0, 0].round(decimals=6))


def f(x):
    return x.sin().sum()


primal = torch.from_numpy(rng.randn(5))
tangent = torch.from_numpy(rng.randn(5))


def hvp(f, primals, tangents):
    return jvp(grad(f), primals, tangents)[1]


print(hvp(f, (primal,), (tangent,)).round(decimals=6), (-primal.sin() * tangent).round(decimals=6))
out, vjp_fn = vjp(torch.sin, primal)
print(out.round(decimals=6), vjp_fn(torch.ones(5))[0].round(decimals=6))


def fnet_single(params, x):
    return functional_call(base_model, params, (x.unsqueeze(0),)).squeeze(0)


ntk_params = {k: v.detach() for k, v in base_model.named_parameters()}
x_train = minibatch[:3]
x_test = minibatch[3:]


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2):
    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = jac1.values()
    jac1 = [j.flatten(2) for j in jac1]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = jac2.values()
    jac2 = [j.flatten(2) for j in jac2]
    result = torch.stack([torch.einsum('Naf,Mbf->NMab', j1, j2) for j1, j2 in zip(jac1, jac2)])
    result = result.sum(0)
    return result


result = empirical_ntk_jacobian_contraction(fnet_single, ntk_params, x_train, x_test)
print(result.shape, result[0, 0].round(decimals=3))
