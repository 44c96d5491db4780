# Word-embedding and recurrent-cell idioms: from_pretrained, weight tying, LSTMCell/GRUCell loops, pack_sequence.
import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_sequence, pad_packed_sequence

rng = np.random.RandomState(14)
pretrained = torch.from_numpy(rng.randn(6, 3).astype(np.float32))
emb = nn.Embedding.from_pretrained(pretrained)
print(emb, emb.weight.requires_grad, torch.equal(emb(torch.tensor([2])), pretrained[2:3]))
emb2 = nn.Embedding.from_pretrained(pretrained, freeze=False, padding_idx=0)
print(emb2.weight.requires_grad, emb2.padding_idx)
out = emb2(torch.tensor([[0, 1], [2, 0]]))
out.sum().backward()
print(emb2.weight.grad)
bag = nn.EmbeddingBag.from_pretrained(pretrained, mode="sum")
print(bag(torch.tensor([[1, 2], [3, 4]])).round(decimals=4))


class TiedLM(nn.Module):
    def __init__(self, ntoken, ninp):
        super().__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, ninp)
        self.decoder = nn.Linear(ninp, ntoken)
        self.decoder.weight = self.encoder.weight

    def forward(self, x, hidden=None):
        output, hidden = self.rnn(self.encoder(x), hidden)
        return self.decoder(output), hidden


lm = TiedLM(7, 4)
print(lm.decoder.weight is lm.encoder.weight, len(list(lm.parameters())), len(lm.state_dict()))
with torch.no_grad():
    for p in lm.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
logits, (h, c) = lm(torch.tensor([[1], [2], [3]]))
print(logits.shape, h.shape, c.shape, logits[-1, 0].round(decimals=4))
h_det = tuple(v.detach() for v in (h, c))
logits2, _ = lm(torch.tensor([[4]]), h_det)
print(logits2.round(decimals=4))
cell = nn.LSTMCell(3, 2)
gcell = nn.GRUCell(3, 2)
rcell = nn.RNNCell(3, 2, nonlinearity="relu")
for m in (cell, gcell, rcell):
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
print(cell, gcell, rcell)
x = torch.from_numpy(rng.randn(4, 2, 3).astype(np.float32))
hx, cx = torch.zeros(2, 2), torch.zeros(2, 2)
gh = torch.zeros(2, 2)
outputs = []
for t in range(4):
    hx, cx = cell(x[t], (hx, cx))
    gh = gcell(x[t], gh)
    outputs.append(hx)
print(torch.stack(outputs).shape, hx.round(decimals=4), gh.round(decimals=4), rcell(x[0]).round(decimals=4))
packed = pack_sequence([torch.tensor([1.0, 2.0, 3.0]), torch.tensor([4.0, 5.0]), torch.tensor([6.0])])
print(packed.data, packed.batch_sizes)
padded, lengths = pad_packed_sequence(packed, batch_first=True)
print(padded, lengths)
