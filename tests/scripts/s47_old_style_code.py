# Older tutorial code still found online: Variable, weight.new(...) hidden states, repackage_hidden, legacy types, .data, volatile-era idioms.
import numpy as np
import torch
import torch.nn as nn
from torch.autograd import Variable


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid, nlayers):
        super(RNNModel, self).__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers)
        self.decoder = nn.Linear(nhid, ntoken)
        self.nhid, self.nlayers = nhid, nlayers
        self.init_weights()

    def init_weights(self):
        initrange = 0.1
        self.encoder.weight.data.uniform_(-initrange, initrange)
        self.decoder.bias.data.zero_()
        self.decoder.weight.data.uniform_(-initrange, initrange)

    def forward(self, input, hidden):
        emb = self.encoder(input)
        output, hidden = self.rnn(emb, hidden)
        decoded = self.decoder(output.view(output.size(0) * output.size(1), output.size(2)))
        return decoded.view(output.size(0), output.size(1), decoded.size(1)), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters()).data
        return (Variable(weight.new(self.nlayers, bsz, self.nhid).zero_()),
                Variable(weight.new(self.nlayers, bsz, self.nhid).zero_()))


def repackage_hidden(h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(v) for v in h)


rng = np.random.RandomState(16)
model = RNNModel(12, 4, 5, 2)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, p.shape).astype(np.float32)))
data = torch.LongTensor(rng.randint(0, 12, size=(11, 3)))
criterion = nn.CrossEntropyLoss()
hidden = model.init_hidden(3)
print(type(hidden[0]).__name__, hidden[0].shape, hidden[0].dtype, hidden[0].requires_grad)
lr = 5.0
for i in range(0, 10, 5):
    inp, targets = data[i:i + 5], data[i + 1:i + 6].view(-1)
    hidden = repackage_hidden(hidden)
    model.zero_grad()
    output, hidden = model(inp, hidden)
    loss = criterion(output.view(-1, 12), targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    for p in model.parameters():
        p.data.add_(p.grad.data, alpha=-lr)
    print(i, f"{loss.item():.4f}", f"{loss.data.item():.4f}")
x = Variable(torch.ones(2, 2), requires_grad=True)
y = (x * 3).sum()
y.backward()
print(x.grad, x.data, type(x).__name__, isinstance(x, Variable))
try:
    print(loss.data[0])
except IndexError as e:
    print("IndexError:", e)
t = torch.FloatTensor(2, 3).zero_()
t2 = torch.Tensor([[1, 2], [3, 4]])
print(t, t2, t2.type(), torch.Tensor(2, 2).shape, torch.Tensor().shape)
print(torch.LongTensor([1, 2]).float().div(2), torch.ByteTensor([1, 0, 1]).sum())
