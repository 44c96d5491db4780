# pytorch/examples siamese_network: a shared tower on image pairs, torch.cat of features, BCELoss, pairwise_distance, nn.Flatten, StepLR.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.optim.lr_scheduler import StepLR


class SiameseNetwork(nn.Module):
    def __init__(self):
        super(SiameseNetwork, self).__init__()
        self.tower = nn.Sequential(
            nn.Conv2d(1, 4, kernel_size=3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
        )
        self.fc_in_features = 4
        self.fc = nn.Sequential(
            nn.Linear(self.fc_in_features * 2, 8),
            nn.ReLU(inplace=True),
            nn.Linear(8, 1),
        )
        self.sigmoid = nn.Sigmoid()
        self.fc.apply(self.init_weights)

    def init_weights(self, m):
        if isinstance(m, nn.Linear):
            torch.nn.init.xavier_uniform_(m.weight)
            m.bias.data.fill_(0.01)

    def forward_once(self, x):
        output = self.tower(x)
        output = output.view(output.size()[0], -1)
        return output

    def forward(self, input1, input2):
        output1 = self.forward_once(input1)
        output2 = self.forward_once(input2)
        output = torch.cat((output1, output2), 1)
        output = self.fc(output)
        output = self.sigmoid(output)
        return output


model = SiameseNetwork()
print([float(m.bias[0]) for m in model.fc if isinstance(m, nn.Linear)])
bound = (6 / (8 + 8)) ** 0.5
w = model.fc[0].weight
print(w.shape, bool((w.abs() <= bound).all()), model.tower[-1])
rng = np.random.RandomState(4)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
images_1 = torch.from_numpy(rng.rand(6, 1, 8, 8).astype(np.float32))
images_2 = torch.cat([images_1[:3], torch.from_numpy(rng.rand(3, 1, 8, 8).astype(np.float32))], 0)
targets = torch.tensor([1, 1, 1, 0, 0, 0]).float()
optimizer = optim.Adadelta(model.parameters(), lr=1.0)
scheduler = StepLR(optimizer, step_size=1, gamma=0.7)
criterion = nn.BCELoss()
for epoch in range(1, 4):
    model.train()
    optimizer.zero_grad()
    outputs = model(images_1, images_2).squeeze()
    loss = criterion(outputs, targets)
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(epoch, f"{loss.item():.5f}", scheduler.get_last_lr(), optimizer.param_groups[0]["lr"])
model.eval()
test_loss = 0
correct = 0
with torch.no_grad():
    outputs = model(images_1, images_2).squeeze()
    test_loss += criterion(outputs, targets).sum().item()
    pred = torch.where(outputs > 0.5, 1, 0)
    correct += pred.eq(targets.view_as(pred)).sum().item()
print(f"{test_loss:.5f}", correct, pred, pred.dtype, outputs.round(decimals=4))
print(model.tower[1].running_mean.round(decimals=4), model.tower[1].num_batches_tracked)
a = torch.tensor([[0.0, 3.0], [1.0, 1.0]])
b = torch.tensor([[4.0, 0.0], [1.0, 1.0]])
print(F.pairwise_distance(a, b), F.pairwise_distance(a, b, p=1), F.pairwise_distance(a, b, keepdim=True))
print(nn.PairwiseDistance(p=2, eps=0.0)(a, b), F.cosine_similarity(a, b), nn.CosineSimilarity(dim=1)(a, b))
# contrastive loss from the same family of examples
margin = 2.0
dist = F.pairwise_distance(images_1.flatten(1), images_2.flatten(1))
label = 1 - targets
contrastive = torch.mean((1 - label) * torch.pow(dist, 2) + label * torch.pow(torch.clamp(margin - dist, min=0.0), 2))
print(dist.round(decimals=4), f"{contrastive.item():.5f}")
x1 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
x2 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda u, v: F.pairwise_distance(u, v), (x1, x2)))
print(torch.autograd.gradcheck(lambda u, v: F.pairwise_distance(u, v, p=3, keepdim=True), (x1, x2)))
print(F.pairwise_distance(x1, x2).grad_fn.name())
fl = nn.Flatten(0, 1)
print(fl, fl(torch.zeros(2, 3, 4)).shape, nn.Flatten()(torch.zeros(2, 3, 4)).shape, nn.Unflatten(1, (2, 2))(torch.zeros(3, 4)).shape)
print(F.binary_cross_entropy(torch.tensor([0.2, 0.9]), torch.tensor([0.0, 1.0]), reduction='none'))
try:
    criterion(torch.tensor([0.5, 1.5]), torch.tensor([1.0, 0.0]))
except RuntimeError as e:
    print(type(e).__name__, e)
