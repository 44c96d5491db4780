# Optimizers on the Rosenbrock function from a fixed start: SGD (momentum, nesterov), Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, NAdam, RAdam, LBFGS.
import torch


def rosenbrock(xy):
    x, y = xy
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def run(make, steps=50):
    p = torch.tensor([-1.5, 2.0], requires_grad=True)
    opt = make([p])
    for _ in range(steps):
        opt.zero_grad()
        loss = rosenbrock(p)
        loss.backward()
        opt.step()
    return [round(v, 4) for v in p.tolist()], round(rosenbrock(p).item(), 4)


print("SGD", run(lambda ps: torch.optim.SGD(ps, lr=1e-4)))
print("SGD momentum", run(lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9)))
print("SGD nesterov", run(lambda ps: torch.optim.SGD(ps, lr=1e-4, momentum=0.9, nesterov=True, weight_decay=1e-3)))
print("Adam", run(lambda ps: torch.optim.Adam(ps, lr=0.05)))
print("Adam amsgrad", run(lambda ps: torch.optim.Adam(ps, lr=0.05, amsgrad=True)))
print("AdamW", run(lambda ps: torch.optim.AdamW(ps, lr=0.05, weight_decay=0.1)))
print("RMSprop", run(lambda ps: torch.optim.RMSprop(ps, lr=0.01, alpha=0.9, momentum=0.1)))
print("Adagrad", run(lambda ps: torch.optim.Adagrad(ps, lr=0.1)))
print("Adadelta", run(lambda ps: torch.optim.Adadelta(ps, lr=1.0)))
print("Adamax", run(lambda ps: torch.optim.Adamax(ps, lr=0.05)))
print("NAdam", run(lambda ps: torch.optim.NAdam(ps, lr=0.05)))
print("RAdam", run(lambda ps: torch.optim.RAdam(ps, lr=0.05)))
p = torch.tensor([-1.5, 2.0], requires_grad=True)
opt = torch.optim.LBFGS([p], lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")


def closure():
    opt.zero_grad()
    loss = rosenbrock(p)
    loss.backward()
    return loss


for _ in range(5):
    opt.step(closure)
print("LBFGS", [round(v, 3) for v in p.tolist()])
print(torch.optim.Adam([p], lr=1e-3))
opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
rosenbrock(p).backward()
opt.step()
sd = opt.state_dict()
print(sd["param_groups"], list(sd["state"].keys()), sd["state"][0]["momentum_buffer"].shape)
