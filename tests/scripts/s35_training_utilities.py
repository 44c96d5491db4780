# Training-loop utilities: deepcopy of the best model, early stopping, train/eval switches, accumulation, eval metrics.
import copy
import numpy as np
import torch
import torch.nn as nn

rng = np.random.RandomState(10)
X = torch.from_numpy(rng.randn(60, 5).astype(np.float32))
true_w = torch.tensor([[1.0], [-2.0], [0.5], [0.0], [3.0]])
y = X @ true_w + 0.1
Xtr, ytr, Xva, yva = X[:40], y[:40], X[40:], y[40:]
model = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Dropout(0.0), nn.Linear(8, 1))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
criterion = nn.MSELoss()
best_loss, best_state, patience, bad = float("inf"), None, 3, 0
accum = 2
for epoch in range(30):
    model.train()
    optimizer.zero_grad(set_to_none=True)
    for k in range(accum):
        xb, yb = Xtr[k * 20:(k + 1) * 20], ytr[k * 20:(k + 1) * 20]
        loss = criterion(model(xb), yb) / accum
        loss.backward()
    optimizer.step()
    model.eval()
    with torch.no_grad():
        val = criterion(model(Xva), yva).item()
    if val < best_loss - 1e-4:
        best_loss, bad = val, 0
        best_state = copy.deepcopy(model.state_dict())
    else:
        bad += 1
        if bad >= patience:
            print("early stop at", epoch)
            break
    if epoch % 5 == 0:
        print(epoch, f"{val:.3f}")
model.load_state_dict(best_state)
with torch.no_grad():
    print(f"{criterion(model(Xva), yva).item():.3f}", f"{best_loss:.3f}")
clone = copy.deepcopy(model)
print(clone[0].weight.data_ptr() != model[0].weight.data_ptr(), torch.equal(clone[0].weight, model[0].weight), clone)
print(optimizer.state_dict()["param_groups"][0]["lr"], len(optimizer.state), optimizer.state[model[0].weight]["step"])
print(model[0].weight.grad is None, [p.grad is None for p in model.parameters()])
optimizer.zero_grad(set_to_none=False)
print(model[0].bias.grad)
