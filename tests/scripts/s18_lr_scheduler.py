# Learning-rate schedules: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR, LambdaLR, ReduceLROnPlateau, OneCycleLR.
import torch
from torch.optim import lr_scheduler

w = torch.nn.Parameter(torch.ones(2))


def run(make, steps=8, metric=None):
    opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    sched = make(opt)
    lrs = []
    for epoch in range(steps):
        opt.step()
        if metric is None:
            sched.step()
        else:
            sched.step(metric[epoch])
        lrs.append(round(opt.param_groups[0]["lr"], 6))
    return lrs, sched


print(run(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5))[0])
print(run(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1))[0])
print(run(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9))[0])
print(run(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.01))[0])
print(run(lambda o: lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 0.95 ** e))[0])
lrs, s = run(lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="min", factor=0.5, patience=1), metric=[1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7])
print(lrs)
lrs, s = run(lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=10))
print(lrs)
lrs, s = run(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4))
print(lrs, s.get_last_lr())
print(s.state_dict()["last_epoch"], sorted(k for k in s.state_dict().keys() if not k.startswith("_")))
lrs, s = run(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(o, T_0=3))
print(lrs)
opt = torch.optim.SGD([w], lr=0.1)
seq = lr_scheduler.SequentialLR(opt, schedulers=[lr_scheduler.ConstantLR(opt, factor=0.5, total_iters=2), lr_scheduler.ExponentialLR(opt, gamma=0.9)], milestones=[2])
out = []
for _ in range(5):
    opt.step()
    seq.step()
    out.append(round(seq.get_last_lr()[0], 6))
print(out)
