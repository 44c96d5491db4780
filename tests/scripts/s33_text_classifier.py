# The text classification tutorial reduced: EmbeddingBag with offsets, padding, pack_padded_sequence.
import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super(TextClassificationModel, self).__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        embedded = self.embedding(text, offsets)
        return self.fc(embedded)


model = TextClassificationModel(20, 4, 3)
print(model)
rng = np.random.RandomState(0)
with torch.no_grad():
    model.embedding.weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (20, 4)).astype(np.float32)))
    model.fc.weight.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, (3, 4)).astype(np.float32)))
texts = [[1, 2, 3], [4, 5], [6, 7, 8, 9]]
labels = torch.tensor([0, 1, 2])
offsets = torch.tensor([0] + [len(t) for t in texts[:-1]]).cumsum(dim=0)
text = torch.cat([torch.tensor(t) for t in texts])
print(offsets, text)
optimizer = torch.optim.SGD(model.parameters(), lr=5)
criterion = torch.nn.CrossEntropyLoss()
for epoch in range(5):
    optimizer.zero_grad()
    predicted_label = model(text, offsets)
    loss = criterion(predicted_label, labels)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    optimizer.step()
    print(epoch, f"{loss.item():.4f}", (predicted_label.argmax(1) == labels).sum().item())
seqs = [torch.tensor(t) for t in texts]
padded = pad_sequence(seqs, batch_first=True, padding_value=0)
print(padded)
lengths = torch.tensor([len(t) for t in texts])
emb = nn.Embedding(20, 3, padding_idx=0)
with torch.no_grad():
    emb.weight.copy_(torch.from_numpy(rng.randn(20, 3).astype(np.float32)))
    emb.weight[0].zero_()
packed = pack_padded_sequence(emb(padded), lengths, batch_first=True, enforce_sorted=False)
print(type(packed).__name__, packed.batch_sizes, packed.sorted_indices)
gru = nn.GRU(3, 2, batch_first=True)
with torch.no_grad():
    for p in gru.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
out, h = gru(packed)
unpacked, lens = pad_packed_sequence(out, batch_first=True)
print(unpacked.shape, lens, unpacked[1, 2:], h.shape)
print(nn.EmbeddingBag(10, 3, mode='max'), emb)
