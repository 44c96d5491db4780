# A small CNN (LeNet-like) forward/backward with shapes, pooling, flatten and an SGD step.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        return self.fc3(f6)


net = Net()
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())
rng = np.random.RandomState(3)
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, size=p.shape).astype(np.float32)))
input = torch.from_numpy(rng.randn(1, 1, 32, 32).astype(np.float32))
out = net(input)
print(out.shape)
net.zero_grad()
out.backward(torch.from_numpy(rng.randn(1, 10).astype(np.float32)))
output = net(input)
target = torch.arange(10, dtype=torch.float32).view(1, -1)
criterion = nn.MSELoss()
loss = criterion(output, target)
print(f"{loss.item():.4f}")
print(loss.grad_fn)
print(loss.grad_fn.next_functions[0][0])
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])
net.zero_grad()
print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)
loss.backward()
print('conv1.bias.grad after backward')
print(net.conv1.bias.grad.shape)
learning_rate = 0.01
for f in net.parameters():
    f.data.sub_(f.grad.data * learning_rate)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01)
optimizer.zero_grad()
output = net(input)
loss = criterion(output, target)
loss.backward()
optimizer.step()
print(f"{criterion(net(input), target).item():.4f}")
bn = nn.BatchNorm2d(6)
print(bn, bn(torch.ones(2, 6, 4, 4)).shape)
print(nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1, bias=False))
print(nn.MaxPool2d(kernel_size=2, stride=2), nn.AvgPool2d(3), nn.Dropout2d(0.25))
