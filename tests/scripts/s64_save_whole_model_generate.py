# word_language_model's main.py/generate.py tail: torch.save of a whole model to a file object, torch.load with and without weights_only, flatten_parameters, multinomial sampling by temperature, torch.accelerator probes.
import io
import pickle
import numpy as np
import torch
import torch.nn as nn


class RNNModel(nn.Module):
    def __init__(self, ntoken, ninp, nhid):
        super(RNNModel, self).__init__()
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, 1)
        self.decoder = nn.Linear(nhid, ntoken)
        self.ntoken = ntoken

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.encoder(input), hidden)
        return nn.functional.log_softmax(self.decoder(output).view(-1, self.ntoken), dim=1), hidden

    def init_hidden(self, bsz):
        weight = next(self.parameters())
        return (weight.new_zeros(1, bsz, 6), weight.new_zeros(1, bsz, 6))


print(torch.accelerator.is_available(), torch.accelerator.current_accelerator())
device = torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"
print(device, torch.device(device))
rng = np.random.RandomState(19)
model = RNNModel(7, 5, 6).to(device)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
f = io.BytesIO()
torch.save(model, f)
f.seek(0)
try:
    torch.load(f)
except pickle.UnpicklingError as e:
    lines = str(e).splitlines()
    print(type(e).__name__, lines[0])
    print([line for line in lines if "Unsupported global" in line])
f.seek(0)
model = torch.load(f, weights_only=False)
model.rnn.flatten_parameters()
print(type(model).__name__, model.rnn, model.encoder.weight.dtype)
model.eval()
hidden = model.init_hidden(1)
input = torch.randint(7, (1, 1), dtype=torch.long).to(device)
print(input.shape, input.dtype, 0 <= input.item() < 7)
input.fill_(3)
temperature = 0.5
words = []
with torch.no_grad():
    for i in range(5):
        output, hidden = model(input, hidden)
        word_weights = output.squeeze().div(temperature).exp().cpu()
        word_idx = torch.multinomial(word_weights, 1)[0]
        assert word_idx.dim() == 0 and word_idx.dtype == torch.int64
        word_idx = int(output.squeeze().argmax())
        input.fill_(word_idx)
        words.append(word_idx)
        print(word_weights.round(decimals=3))
print(words, hidden[0].shape, torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2, replacement=True))
try:
    torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2)
except RuntimeError as e:
    print(type(e).__name__, e)
try:
    torch.multinomial(torch.tensor([0.0, -1.0]), 1)
except RuntimeError as e:
    print(type(e).__name__, e)
