# pytorch/examples mnist_rnn: rows of an image through nn.LSTM(batch_first), log_softmax + nll_loss, StepLR, accuracy by argmax/eq/sum.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import TensorDataset, DataLoader


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.rnn = nn.LSTM(input_size=8, hidden_size=16, batch_first=True)
        self.batchnorm = nn.BatchNorm1d(16)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(16, 12)
        self.fc2 = nn.Linear(12, 4)

    def forward(self, input):
        # Shape of input is (batch_size,1, 8, 8)
        # Shape of input to the LSTM is (batch_size, seq_len, input_size)
        input = input.reshape(-1, 8, 8)
        output, hidden = self.rnn(input)
        output = output[:, -1, :]
        output = self.batchnorm(output)
        output = self.dropout1(output)
        output = self.fc1(output)
        output = F.relu(output)
        output = self.dropout2(output)
        output = self.fc2(output)
        output = F.log_softmax(output, dim=1)
        return output


rng = np.random.RandomState(7)
model = Net()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
print(model)
print([(n, tuple(p.shape)) for n, p in model.rnn.named_parameters()])
images = torch.from_numpy(rng.rand(24, 1, 8, 8).astype(np.float32))
labels = torch.from_numpy(rng.randint(0, 4, 24))
train_loader = DataLoader(TensorDataset(images[:16], labels[:16]), batch_size=8, shuffle=False)
test_loader = DataLoader(TensorDataset(images[16:], labels[16:]), batch_size=4)
optimizer = optim.Adadelta(model.parameters(), lr=0.1)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
for epoch in range(1, 3):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        print('Train Epoch: {} [{}/{} ({:.0f}%)]'.format(
            epoch, batch_idx * len(data), len(train_loader.dataset),
            100. * batch_idx / len(train_loader)), output.shape, output.dtype, loss.dim())
    scheduler.step()
    model.eval()
    test_loss = 0
    correct = 0
    with torch.no_grad():
        for data, target in test_loader:
            output = model(data)
            test_loss += F.nll_loss(output, target, reduction='sum').item()
            pred = output.argmax(dim=1, keepdim=True)
            correct += pred.eq(target.view_as(pred)).sum().item()
    test_loss /= len(test_loader.dataset)
    # the weights after a training step depend on the dropout draws: print the structure, not values
    print(type(test_loss).__name__, type(correct).__name__, 0 <= correct <= 8, pred.shape, pred.dtype)
    print(scheduler.get_last_lr(), [round(lr, 6) for lr in scheduler.get_last_lr()])
# deterministic part: eval mode, fixed weights
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
model.batchnorm.reset_running_stats()
model.eval()
output = model(images[16:])
target = labels[16:]
print(output.detach().round(decimals=4))
print(f"{F.nll_loss(output, target).item():.5f}", f"{F.cross_entropy(output, target).item():.5f}")
pred = output.argmax(dim=1, keepdim=True)
print(pred.view(-1), pred.eq(target.view_as(pred)).sum().item(), target)
out, (h, c) = model.rnn(images[:3].reshape(-1, 8, 8))
print(out.shape, h.shape, c.shape, torch.allclose(out[:, -1], h[0]), out.grad_fn.name())
h0 = torch.zeros(1, 3, 16)
out2, _ = model.rnn(images[:3].reshape(-1, 8, 8), (h0, h0.clone()))
print(torch.allclose(out, out2), out2[0, 0, :4].detach().round(decimals=4))
print(F.nll_loss(output, target, reduction='none').detach().round(decimals=4), F.nll_loss(output, target, ignore_index=1).item() > 0)
w = torch.tensor([1.0, 2.0, 0.5, 1.0])
print(f"{F.nll_loss(output, target, weight=w).item():.5f}", nn.NLLLoss(weight=w))
d2 = nn.Dropout2d(0.5)
d2.eval()
print(d2, torch.equal(d2(images[:2]), images[:2]))
try:
    F.nll_loss(output, torch.tensor([0, 1, 2, 7, 0, 0, 1, 1]))
except IndexError as e:
    print(type(e).__name__, e)
