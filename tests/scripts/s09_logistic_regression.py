# Logistic regression on two Gaussian blobs with BCELoss, sigmoid and accuracy.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.RandomState(42)
a = rng.randn(50, 2) + np.array([2.0, 2.0])
b = rng.randn(50, 2) + np.array([-2.0, -2.0])
X = torch.tensor(np.vstack([a, b]), dtype=torch.float32)
y = torch.tensor(np.r_[np.ones(50), np.zeros(50)], dtype=torch.float32).view(-1, 1)
print(X.shape, y.shape, X.dtype, y.dtype)


class LogisticRegression(nn.Module):
    def __init__(self, n_inputs):
        super().__init__()
        self.linear = nn.Linear(n_inputs, 1)

    def forward(self, x):
        return torch.sigmoid(self.linear(x))


model = LogisticRegression(2)
with torch.no_grad():
    model.linear.weight.copy_(torch.tensor([[0.1, -0.2]]))
    model.linear.bias.zero_()
print(model)
criterion = nn.BCELoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(100):
    y_pred = model(X)
    loss = criterion(y_pred, y)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    if (epoch + 1) % 25 == 0:
        print(f'epoch: {epoch+1}, loss = {loss.item():.4f}')
with torch.no_grad():
    y_predicted = model(X)
    y_predicted_cls = y_predicted.round()
    acc = y_predicted_cls.eq(y).sum() / float(y.shape[0])
    print(f'accuracy: {acc.item():.4f}')
    print(acc, acc.dtype, y_predicted_cls.dtype)
print(y_predicted.requires_grad, y_predicted_cls[:3])
l2 = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))(model.linear(X), y)
print(round(l2.item(), 4), l2.grad_fn.name())
