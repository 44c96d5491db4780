# pytorch/examples mnist_hogwild: model.share_memory(), torch.multiprocessing processes training one shared model, then evaluation in the parent.
import numpy as np
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(6, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def train(rank, model, data, target, steps):
    torch.manual_seed(1 + rank)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.nll_loss(model(data[rank::2]), target[rank::2])
        loss.backward()
        optimizer.step()


rng = np.random.RandomState(6)
model = Net()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
print([p.is_shared() for p in model.parameters()])
model.share_memory()
print([p.is_shared() for p in model.parameters()], model.fc1.weight.requires_grad)
data = torch.from_numpy(rng.rand(12, 6).astype(np.float32))
target = torch.from_numpy(rng.randint(0, 3, 12))
before = F.nll_loss(model(data), target).item()
# one worker at a time, so that the shared updates do not interleave and the result is reproducible
ctx = mp.get_context("fork")
for rank in range(2):
    p = ctx.Process(target=train, args=(rank, model, data, target, 5))
    p.start()
    p.join()
    print(rank, p.exitcode)
after = F.nll_loss(model(data), target).item()
print(f"{before:.5f}", f"{after:.5f}", after < before)
print(model.fc2.bias.detach().round(decimals=4))
t = torch.zeros(3)
print(t.is_shared(), t.share_memory_() is t, t.is_shared(), t.storage().is_shared())
q = ctx.Queue()


def fill(queue, tensor):
    tensor.add_(2.5)
    queue.put(tensor.sum().item())


p = ctx.Process(target=fill, args=(q, t))
p.start()
got = q.get()
p.join()
print(got, t)
