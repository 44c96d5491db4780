# The automatic mixed precision recipe on CPU: autocast(bfloat16) op dtypes, a GradScaler training loop with unscale_ and clipping, scaler state_dict, autocast disabled regions.
import numpy as np
import torch
import torch.nn as nn


def make_model(in_size, out_size, num_layers):
    layers = []
    for _ in range(num_layers - 1):
        layers.append(torch.nn.Linear(in_size, in_size))
        layers.append(torch.nn.ReLU())
    layers.append(torch.nn.Linear(in_size, out_size))
    return torch.nn.Sequential(*tuple(layers))


rng = np.random.RandomState(37)
net = make_model(8, 4, 3)
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss_fn = torch.nn.MSELoss()
data = [torch.from_numpy(rng.randn(6, 8).astype(np.float32)) for _ in range(3)]
targets = [torch.from_numpy(rng.randn(6, 4).astype(np.float32)) for _ in range(3)]
with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
    output = net(data[0])
    loss = loss_fn(output, targets[0])
    print(output.dtype, loss.dtype, torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu"))
    mm = data[0] @ data[0].t()
    print(mm.dtype, torch.exp(mm).dtype, torch.softmax(mm, 1).dtype, (mm + 1).dtype, torch.cat([mm, mm.float()]).dtype)
    with torch.autocast(device_type="cpu", enabled=False):
        print((data[0] @ data[0].t()).dtype, torch.is_autocast_enabled("cpu"))
print(torch.is_autocast_enabled("cpu"), (data[0] @ data[0].t()).dtype)
use_amp = True
scaler = torch.amp.GradScaler("cpu", enabled=use_amp)
print(scaler.is_enabled(), scaler.get_scale(), scaler.get_growth_factor(), scaler.get_backoff_factor(), scaler.get_growth_interval())
for epoch in range(2):
    for input, target in zip(data, targets):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=use_amp):
            output = net(input)
            loss = loss_fn(output, target)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        total = torch.nn.utils.clip_grad_norm_(net.parameters(), max_norm=0.5)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
    print(epoch, output.dtype, loss.dtype, f"{loss.item():.3f}", total.dtype, scaler.get_scale())
checkpoint = {"model": net.state_dict(), "optimizer": opt.state_dict(), "scaler": scaler.state_dict()}
print(sorted(checkpoint["scaler"].keys()), checkpoint["scaler"]["scale"])
scaler2 = torch.amp.GradScaler("cpu")
scaler2.load_state_dict(checkpoint["scaler"])
print(scaler2.get_scale(), scaler2.state_dict() == checkpoint["scaler"])
w = torch.tensor([1.0, 2.0], requires_grad=True)
s = torch.amp.GradScaler("cpu", init_scale=4.0)
l = (w * w).sum()
print(s.scale(l), s.scale(l).grad_fn.name())
s.scale(l).backward()
print(w.grad)
o = torch.optim.SGD([w], lr=0.1)
w.grad[0] = float("inf")
s.step(o)
s.update()
print(w, s.get_scale())
