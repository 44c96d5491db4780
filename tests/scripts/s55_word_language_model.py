# pytorch/examples word_language_model: Dictionary/Corpus batchify, RNN/LSTM/GRU with tied weights, repackage_hidden, clip_grad_norm_, manual SGD update, Transformer variant with a square subsequent mask.
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Dictionary(object):
    def __init__(self):
        self.word2idx = {}
        self.idx2word = []

    def add_word(self, word):
        if word not in self.word2idx:
            self.idx2word.append(word)
            self.word2idx[word] = len(self.idx2word) - 1
        return self.word2idx[word]

    def __len__(self):
        return len(self.idx2word)


TEXT = """the cat sat on the mat
the dog sat on the log
a cat and a dog met on the mat
the log was by the mat and the cat sat"""
dictionary = Dictionary()
idss = []
for line in TEXT.split("\n"):
    words = line.split() + ['<eos>']
    ids = []
    for word in words:
        ids.append(dictionary.add_word(word))
    idss.append(torch.tensor(ids).type(torch.int64))
ids = torch.cat(idss)
print(len(dictionary), ids.shape, ids.dtype, ids[:8])


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    data = data.view(bsz, -1).t().contiguous()
    return data


train_data = batchify(ids, 4)
print(train_data.shape, train_data.is_contiguous(), train_data[:3])
bptt = 5


def get_batch(source, i):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


class RNNModel(nn.Module):
    def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
        super(RNNModel, self).__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        if rnn_type in ['LSTM', 'GRU']:
            self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
        else:
            try:
                nonlinearity = {'RNN_TANH': 'tanh', 'RNN_RELU': 'relu'}[rnn_type]
            except KeyError as e:
                raise ValueError("""An invalid option for `--model` was supplied,
                                 options are ['LSTM', 'GRU', 'RNN_TANH' or 'RNN_RELU']""") from e
            self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        if tie_weights:
            if nhid != ninp:
                raise ValueError('When using the tied flag, nhid must be equal to emsize')
            self.decoder.weight = self.encoder.weight
        self.init_weights()
        self.rnn_type = rnn_type
        self.nhid = nhid
        self.nlayers = nlayers

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        if self.rnn_type == 'LSTM':
            return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                    weight.new_zeros(self.nlayers, bsz, self.nhid))
        else:
            return weight.new_zeros(self.nlayers, bsz, self.nhid)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=5000):
        super(PositionalEncoding, self).__init__()
        self.dropout = nn.Dropout(p=dropout)
        pe = torch.zeros(max_len, d_model)
        position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        pe = pe.unsqueeze(0).transpose(0, 1)
        self.register_buffer('pe', pe)

    def forward(self, x):
        x = x + self.pe[:x.size(0), :]
        return self.dropout(x)


class TransformerModel(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
        super(TransformerModel, self).__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid, num_encoder_layers=nlayers)
        self.model_type = 'Transformer'
        self.src_mask = None
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.ninp = ninp
        self.decoder = nn.Linear(ninp, ntoken)
        self.init_weights()

    def _generate_square_subsequent_mask(self, sz):
        return torch.log(torch.tril(torch.ones(sz, sz)))

    def init_weights(self):
        initrange = 0.1
        nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, src, has_mask=True):
        if has_mask:
            device = src.device
            if self.src_mask is None or self.src_mask.size(0) != len(src):
                mask = self._generate_square_subsequent_mask(len(src)).to(device)
                self.src_mask = mask
        else:
            self.src_mask = None
        src = self.input_emb(src) * math.sqrt(self.ninp)
        src = self.pos_encoder(src)
        output = self.encoder(src, mask=self.src_mask)
        output = self.decoder(output)
        return F.log_softmax(output, dim=-1)


def repackage_hidden(h):
    """Wraps hidden states in new Tensors, to detach them from their history."""
    if isinstance(h, torch.Tensor):
        return h.detach()
    else:
        return tuple(repackage_hidden(v) for v in h)


def set_weights(model, seed):
    rng = np.random.RandomState(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, p.shape).astype(np.float32)))


ntokens = len(dictionary)
criterion = nn.NLLLoss()
for rnn_type in ['LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU']:
    model = RNNModel(rnn_type, ntokens, 8, 8, 2, dropout=0.2, tie_weights=True)
    print(rnn_type, model.decoder.weight is model.encoder.weight, len(list(model.parameters())),
          sum(p.numel() for p in model.parameters()), abs(model.decoder.bias).sum().item())
    set_weights(model, 1)
    model.eval()  # dropout off so that both libraries compute the same numbers
    lr = 5.0
    hidden = model.init_hidden(4)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = get_batch(train_data, i)
        model.zero_grad()
        hidden = repackage_hidden(hidden)
        output, hidden = model(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        print(' ', batch, data.shape, f"{loss.item():.5f}", f"{math.exp(loss.item()):.4f}", f"{norm.item():.5f}")
    h = hidden[0] if isinstance(hidden, tuple) else hidden
    print(' ', h.shape, h.requires_grad, h.grad_fn is not None, repackage_hidden(hidden)[0].grad_fn)
try:
    RNNModel('LSTM', ntokens, 8, 6, 1, tie_weights=True)
except ValueError as e:
    print(e)
try:
    RNNModel('RNN_GELU', ntokens, 8, 8, 1)
except ValueError as e:
    print(" ".join(str(e).split()), type(e.__cause__).__name__)

model = TransformerModel(ntokens, 8, 2, 16, 2, dropout=0.2)
set_weights(model, 2)
model.eval()
print(model.src_mask, model.pos_encoder.pe.shape, [n for n, _ in model.named_buffers()])
print(model.pos_encoder.pe[:3, 0, :4])
print(nn.Transformer.generate_square_subsequent_mask(4))
print(model._generate_square_subsequent_mask(3))
data, targets = get_batch(train_data, 0)
output = model(data)
print(output.shape, model.src_mask.shape, f"{criterion(output.view(-1, ntokens), targets).item():.5f}")
output2 = model(data, has_mask=False)
print(model.src_mask, f"{criterion(output2.view(-1, ntokens), targets).item():.5f}")
model.train()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
out = model(data)
print(out.shape, out.grad_fn.name())
with torch.no_grad():
    model.eval()
    total = 0.
    for i in range(0, train_data.size(0) - 1, bptt):
        data, targets = get_batch(train_data, i)
        output = model(data)
        output = output.view(-1, ntokens)
        total += len(data) * criterion(output, targets).item()
    print(f"{total / (len(train_data) - 1):.5f}")
word_weights = output[-1].squeeze().div(1.0).exp()
print(word_weights.shape, torch.multinomial(word_weights, 1).shape, dictionary.idx2word[int(output[-1].argmax())])
