# Inference-time edge cases of example programs: a padded batch through TransformerEncoder in eval/no_grad (PyTorch's nested path), SGD checkpoints without momentum, empty batches through BatchNorm and RNNs, quantile/kthvalue errors.
import warnings
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.simplefilter("ignore")
rng = np.random.RandomState(47)


class TextClassifier(nn.Module):
    def __init__(self, vocab, d_model=8, nhead=2, nclass=3):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=0)
        layer = nn.TransformerEncoderLayer(d_model, nhead, 16, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(d_model))
        self.fc = nn.Linear(d_model, nclass)

    def forward(self, tokens):
        pad = tokens == 0
        h = self.encoder(self.embedding(tokens), src_key_padding_mask=pad)
        return self.fc(h[:, 0]), h


model = TextClassifier(10)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
tokens = torch.tensor([[3, 4, 5, 0, 0], [6, 7, 8, 9, 1], [2, 0, 0, 0, 0]])
model.eval()
with torch.no_grad():
    logits, hidden = model(tokens)
print(logits.round(decimals=4))
print(hidden[0, 3:].round(decimals=4), hidden[2, 1].round(decimals=4))
print(torch.equal(hidden[0, 3], hidden[2, 4]), torch.allclose(hidden[0, 3], model.encoder.norm.bias))
logits_grad, hidden_grad = model(tokens)
print(logits_grad.grad_fn.name(), torch.allclose(logits_grad, logits, atol=1e-5), hidden_grad[0, 3:].abs().sum().item() > 0)
optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
model.train()
loss = F.cross_entropy(model(tokens)[0], torch.tensor([0, 1, 2]))
loss.backward()
optimizer.step()
print(optimizer.state_dict()["state"], len(optimizer.state), optimizer.state_dict()["param_groups"][0]["momentum"])
optimizer2 = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
optimizer2.step()
print(sorted(optimizer2.state_dict()["state"])[:3], list(optimizer2.state_dict()["state"][0].keys()))
bn = nn.BatchNorm1d(4)
empty = torch.zeros(0, 4, requires_grad=True)
out = bn(empty)
print(out.shape, out.grad_fn.name(), bn.running_mean, bn.num_batches_tracked)
lstm = nn.LSTM(3, 4, batch_first=True)
out, (h, c) = lstm(torch.zeros(0, 5, 3, requires_grad=True))
print(out.shape, out.grad_fn.name(), h.shape)
try:
    lstm(torch.zeros(2, 0, 3))
except RuntimeError as e:
    print(type(e).__name__, e)
scores = torch.tensor([[0.2, 0.9, 0.4], [0.7, 0.1, 0.3]])
print(scores.kthvalue(2, dim=1), torch.quantile(scores, 0.5, dim=1), torch.nanquantile(scores, torch.tensor([0.25, 0.75])))
for bad in (lambda: torch.zeros(3, 0).kthvalue(1, dim=1),
            lambda: torch.nanquantile(torch.zeros(0), 0.5),
            lambda: torch.quantile(scores, 0.5, out=torch.zeros(2, dtype=torch.float64)),
            lambda: F.batch_norm(torch.ones(2, 4, 3), None, torch.ones(3))):
    try:
        bad()
    except (RuntimeError, IndexError) as e:
        print(type(e).__name__, e)
empty_med = torch.zeros(0, requires_grad=True).median()
empty_med.backward()
print(empty_med, empty_med.grad_fn.name())
