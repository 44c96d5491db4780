# Parameter groups with per-group options, freezing layers, requires_grad_, filter on requires_grad.
import torch
import torch.nn as nn

model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
with torch.no_grad():
    for i, p in enumerate(model.parameters()):
        p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape) * (i + 1) * 0.1)
opt = torch.optim.SGD([
    {"params": model[0].parameters()},
    {"params": model[2].parameters(), "lr": 1e-3},
], lr=1e-2, momentum=0.9)
print(opt)
print(len(opt.param_groups), [g["lr"] for g in opt.param_groups], opt.param_groups[1]["momentum"])
for p in model[0].parameters():
    p.requires_grad = False
print([p.requires_grad for p in model.parameters()])
trainable = filter(lambda p: p.requires_grad, model.parameters())
print(sum(p.numel() for p in trainable))
x = torch.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
loss = model(x).pow(2).sum()
loss.backward()
print(model[0].weight.grad, model[2].weight.grad is not None)
before = model[0].weight.clone()
opt.step()
print(torch.equal(before, model[0].weight), model[2].bias)
opt.add_param_group({"params": [nn.Parameter(torch.zeros(2))], "lr": 0.5})
print(len(opt.param_groups), opt.param_groups[2]["momentum"], opt.param_groups[2]["lr"])
model.requires_grad_(False)
print(any(p.requires_grad for p in model.parameters()))
model[2].requires_grad_()
print([p.requires_grad for p in model.parameters()])
for g in opt.param_groups:
    g["lr"] = g["lr"] * 0.1
print([round(g["lr"], 6) for g in opt.param_groups])
opt2 = torch.optim.AdamW(model.parameters(), lr=1e-3)
print(opt2.defaults["weight_decay"], opt2.param_groups[0]["amsgrad"])
print(sorted(opt2.state_dict()["param_groups"][0].keys()))
try:
    torch.optim.SGD([], lr=0.1)
except ValueError as e:
    print("ValueError:", e)
try:
    torch.optim.Adam(model.parameters(), lr=-1)
except ValueError as e:
    print("ValueError:", e)
