# The pruning tutorial: random/l1 unstructured, ln_structured, named_buffers, _forward_pre_hooks, iterative pruning, prune.remove, global_unstructured, a custom PruningMethod.
import numpy as np
import torch
from torch import nn
import torch.nn.utils.prune as prune
import torch.nn.functional as F


class LeNet(nn.Module):
    def __init__(self):
        super(LeNet, self).__init__()
        self.conv1 = nn.Conv2d(1, 6, 3)
        self.conv2 = nn.Conv2d(6, 16, 3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), (2, 2))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = x.view(-1, int(x.nelement() / x.shape[0]))
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


def numpy_init(model, seed=0):
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            # distinct magnitudes, so that l1 pruning has no ties to break
            values = rng.permutation(p.numel()).astype(np.float32) + 1.0
            signs = rng.choice([-1.0, 1.0], size=p.numel()).astype(np.float32)
            p.copy_(torch.from_numpy((values * signs / p.numel()).reshape(tuple(p.shape))))


model = LeNet()
numpy_init(model)
module = model.conv1
print(list(module.named_parameters())[0][1].shape, [n for n, _ in module.named_parameters()])
print(list(module.named_buffers()))

torch.manual_seed(0)
prune.random_unstructured(module, name="weight", amount=0.3)
print([n for n, _ in module.named_parameters()])
print([(n, b.shape, b.dtype) for n, b in module.named_buffers()])
print(int(module.weight_mask.sum().item()), module.weight_mask.numel())
print(torch.equal(module.weight, module.weight_orig * module.weight_mask))
print(module._forward_pre_hooks)
print(type(list(module._forward_pre_hooks.values())[0]).__name__)

prune.l1_unstructured(module, name="bias", amount=3)
print([n for n, _ in module.named_parameters()])
print(module.bias_mask, module.bias)
print(len(module._forward_pre_hooks))

prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
print(int(module.weight_mask.sum().item()))
kept = module.weight_mask.sum(dim=(1, 2, 3))
print(kept)
for hook in module._forward_pre_hooks.values():
    if hook._tensor_name == "weight":
        break
print(list(hook))
print([type(h).__name__ for h in hook._pruning_methods])

print(model.state_dict().keys())
prune.remove(module, 'weight')
print([n for n, _ in module.named_parameters()])
print([n for n, _ in module.named_buffers()])
print(prune.is_pruned(module), prune.is_pruned(model.fc3))

new_model = LeNet()
numpy_init(new_model, 1)
for name, module in new_model.named_modules():
    if isinstance(module, torch.nn.Conv2d):
        prune.l1_unstructured(module, name='weight', amount=0.2)
    elif isinstance(module, torch.nn.Linear):
        prune.l1_unstructured(module, name='weight', amount=0.4)
print(dict(new_model.named_buffers()).keys())

model = LeNet()
numpy_init(model, 2)
parameters_to_prune = (
    (model.conv1, 'weight'),
    (model.conv2, 'weight'),
    (model.fc1, 'weight'),
    (model.fc2, 'weight'),
    (model.fc3, 'weight'),
)
prune.global_unstructured(
    parameters_to_prune,
    pruning_method=prune.L1Unstructured,
    amount=0.2,
)
for m, label in [(model.conv1, "conv1"), (model.conv2, "conv2"), (model.fc1, "fc1"), (model.fc2, "fc2"),
                 (model.fc3, "fc3")]:
    print(
        "Sparsity in {}.weight: {:.2f}%".format(
            label, 100. * float(torch.sum(m.weight == 0)) / float(m.weight.nelement())
        )
    )
print(
    "Global sparsity: {:.2f}%".format(
        100. * float(
            torch.sum(model.conv1.weight == 0)
            + torch.sum(model.conv2.weight == 0)
            + torch.sum(model.fc1.weight == 0)
            + torch.sum(model.fc2.weight == 0)
            + torch.sum(model.fc3.weight == 0)
        )
        / float(
            model.conv1.weight.nelement()
            + model.conv2.weight.nelement()
            + model.fc1.weight.nelement()
            + model.fc2.weight.nelement()
            + model.fc3.weight.nelement()
        )
    )
)

x = torch.from_numpy(np.random.RandomState(3).randn(2, 1, 28, 28).astype(np.float32))
out = model(x)
out.sum().backward()
print(out.shape, (model.fc3.weight_orig.grad == 0).sum().item(), (model.fc3.weight_mask == 0).sum().item())
print(model.fc3.weight_orig.grad.masked_select(model.fc3.weight_mask == 0).abs().sum())


class FooBarPruningMethod(prune.BasePruningMethod):
    """Prune every other entry in a tensor
    """
    PRUNING_TYPE = 'unstructured'

    def compute_mask(self, t, default_mask):
        mask = default_mask.clone()
        mask.view(-1)[::2] = 0
        return mask


def foobar_unstructured(module, name):
    FooBarPruningMethod.apply(module, name)
    return module


model = LeNet()
numpy_init(model, 4)
foobar_unstructured(model.fc3, name='bias')
print(model.fc3.bias_mask)
print(model.fc3.bias)
prune.identity(model.fc2, "bias")
print(model.fc2.bias_mask.sum().item(), prune.is_pruned(model))
lin = nn.Linear(4, 3)
numpy_init(lin, 5)
prune.random_structured(lin, "weight", amount=1, dim=1)
print(lin.weight_mask.sum(0).tolist().count(0.0), lin.weight_mask.shape)
prune.remove(lin, "weight")
print(type(lin.weight).__name__, (lin.weight == 0).sum().item())
try:
    prune.remove(lin, "weight")
except ValueError as e:
    print("ValueError:", e)
try:
    prune.l1_unstructured(lin, "bias", amount=1.5)
except ValueError as e:
    print("ValueError:", e)
try:
    prune.l1_unstructured(lin, "bias", amount=7)
except ValueError as e:
    print("ValueError:", e)
