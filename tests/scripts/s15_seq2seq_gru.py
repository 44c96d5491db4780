# A seq2seq encoder/decoder with GRUs and embeddings, teacher forcing, NLLLoss.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SOS_token, EOS_token = 0, 1


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)

    def forward(self, input):
        embedded = self.embedding(input)
        output, hidden = self.gru(embedded)
        return output, hidden


class DecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size):
        super(DecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        for i in range(target_tensor.size(1)):
            output = F.relu(self.embedding(decoder_input))
            output, decoder_hidden = self.gru(output, decoder_hidden)
            decoder_outputs.append(self.out(output))
            decoder_input = target_tensor[:, i].unsqueeze(1)
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        return F.log_softmax(decoder_outputs, dim=-1), decoder_hidden, None


rng = np.random.RandomState(2)
enc, dec = EncoderRNN(10, 8), DecoderRNN(8, 10)
print(enc)
print(dec)
for m in (enc, dec):
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, size=p.shape).astype(np.float32)))
src = torch.from_numpy(rng.randint(2, 10, size=(4, 6)))
tgt = torch.from_numpy(rng.randint(2, 10, size=(4, 5)))
criterion = nn.NLLLoss()
opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in (enc, dec)]
for it in range(20):
    for o in opts:
        o.zero_grad()
    encoder_outputs, encoder_hidden = enc(src)
    decoder_outputs, _, _ = dec(encoder_outputs, encoder_hidden, tgt)
    loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), tgt.view(-1))
    loss.backward()
    for o in opts:
        o.step()
    if it % 5 == 0:
        print(it, f"{loss.item():.4f}")
print(encoder_outputs.shape, encoder_hidden.shape, decoder_outputs.shape)
_, topi = decoder_outputs.topk(1)
print(topi.squeeze(-1).shape, topi.dtype)
print(type(decoder_outputs.grad_fn).__name__, type(encoder_hidden.grad_fn).__name__)
