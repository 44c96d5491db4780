# pytorch/examples snli-style encoder: bidirectional multi-layer LSTM over packed padded sequences (enforce_sorted=False), pad_packed_sequence, last hidden states of both directions, a pairwise classifier with BatchNorm1d.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pack_sequence, pad_sequence


class Bottle(nn.Module):
    def forward(self, input):
        if len(input.size()) <= 2:
            return super(Bottle, self).forward(input)
        size = input.size()[:2]
        out = super(Bottle, self).forward(input.view(size[0] * size[1], -1))
        return out.view(size[0], size[1], -1)


class Linear(Bottle, nn.Linear):
    pass


class Encoder(nn.Module):
    def __init__(self, d_proj, d_hidden, n_layers, birnn):
        super(Encoder, self).__init__()
        self.n_cells = n_layers * 2 if birnn else n_layers
        self.d_hidden = d_hidden
        self.rnn = nn.LSTM(input_size=d_proj, hidden_size=d_hidden, num_layers=n_layers, dropout=0.0,
                           bidirectional=birnn)

    def forward(self, inputs, lengths):
        batch_size = inputs.size()[1]
        state_shape = self.n_cells, batch_size, self.d_hidden
        h0 = c0 = inputs.new_zeros(state_shape)
        packed = pack_padded_sequence(inputs, lengths, enforce_sorted=False)
        outputs, (ht, ct) = self.rnn(packed, (h0, c0))
        return outputs, ht[-1] if self.n_cells == 1 else ht[-2:].transpose(0, 1).contiguous().view(batch_size, -1)


class SNLIClassifier(nn.Module):
    def __init__(self):
        super(SNLIClassifier, self).__init__()
        self.embed = nn.Embedding(10, 6)
        self.projection = Linear(6, 5)
        self.encoder = Encoder(5, 4, 2, True)
        self.relu = nn.ReLU()
        seq_in_size = 2 * 4 * 2
        lin_config = [seq_in_size] * 2
        self.out = nn.Sequential(
            Linear(*lin_config), self.relu, nn.BatchNorm1d(seq_in_size),
            Linear(seq_in_size, 3))

    def forward(self, premise, p_len, hypothesis, h_len):
        prem_embed = self.relu(self.projection(self.embed(premise)))
        hypo_embed = self.relu(self.projection(self.embed(hypothesis)))
        _, premise = self.encoder(prem_embed, p_len)
        _, hypothesis = self.encoder(hypo_embed, h_len)
        scores = self.out(torch.cat([premise, hypothesis], 1))
        return scores


rng = np.random.RandomState(23)
model = SNLIClassifier()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
print(model.encoder.rnn, len(model.encoder.rnn.all_weights), [n for n, _ in model.encoder.rnn.named_parameters()][4:8])
seqs = [torch.from_numpy(rng.randint(1, 10, n)) for n in (4, 2, 5)]
lengths = torch.tensor([len(s) for s in seqs])
premise = pad_sequence(seqs, padding_value=0)
hyp_seqs = [torch.from_numpy(rng.randint(1, 10, n)) for n in (3, 3, 1)]
hypothesis = pad_sequence(hyp_seqs)
h_len = torch.tensor([3, 3, 1])
labels = torch.tensor([0, 2, 1])
print(premise.shape, hypothesis.shape)
packed = pack_padded_sequence(model.projection(model.embed(premise)), lengths, enforce_sorted=False)
print(packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices, packed.data.shape)
out, (ht, ct) = model.encoder.rnn(packed)
padded, out_lengths = pad_packed_sequence(out)
print(type(out).__name__, padded.shape, out_lengths, ht.shape, padded[lengths[1]:, 1].abs().sum().item())
padded_bf, _ = pad_packed_sequence(out, batch_first=True, total_length=7)
print(padded_bf.shape, torch.allclose(padded_bf[:, :5].transpose(0, 1), padded))
# the forward direction's last output is the final hidden state; the backward direction's first output is
print(torch.allclose(padded[lengths[0] - 1, 0, :4], ht[-2, 0]), torch.allclose(padded[0, 0, 4:], ht[-1, 0]))
# SGD, not the example's Adam: the Linear bias before ReLU+BatchNorm has mathematically zero gradients
# (rounding noise only), which Adam would scale up to full-size steps
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
criterion = nn.CrossEntropyLoss()
model.train()
for it in range(3):
    optimizer.zero_grad()
    answer = model(premise, lengths, hypothesis, h_len)
    loss = criterion(answer, labels)
    loss.backward()
    optimizer.step()
    n_correct = (torch.max(answer, 1)[1].view(labels.size()) == labels).sum().item()
    print(it, f"{loss.item():.5f}", n_correct, answer.shape)
model.eval()
with torch.no_grad():
    print(model(premise, lengths, hypothesis, h_len).round(decimals=4))
ps = pack_sequence([torch.tensor([1., 2., 3.]), torch.tensor([4.]), torch.tensor([5., 6.])], enforce_sorted=False)
print(ps.data, ps.batch_sizes, ps.sorted_indices)
try:
    model.encoder.rnn(pack_padded_sequence(model.embed(premise), lengths, enforce_sorted=False))
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    model.encoder.rnn(packed, (torch.zeros(4, 3, 4), torch.zeros(4, 3, 3)))
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    pack_sequence([torch.tensor([1.]), torch.tensor([2., 3.])])
except RuntimeError as e:
    print(type(e).__name__, e)
xd = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
rnn = nn.GRU(3, 2, bidirectional=True).double()
print(torch.autograd.gradcheck(lambda v: pad_packed_sequence(rnn(pack_padded_sequence(v, torch.tensor([4, 2]), enforce_sorted=True))[0])[0], (xd,)))
