# "NLP From Scratch: Translation with a Sequence to Sequence Network and Attention": batch-first EncoderRNN, BahdanauAttention, AttnDecoderRNN with teacher forcing, TensorDataset/RandomSampler batches, greedy decoding with topk.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim
from torch.utils.data import TensorDataset, DataLoader, RandomSampler

SOS_token = 0
EOS_token = 1
MAX_LENGTH = 6


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size, dropout_p=0.1):
        super(EncoderRNN, self).__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, input):
        embedded = self.dropout(self.embedding(input))
        output, hidden = self.gru(embedded)
        return output, hidden


class BahdanauAttention(nn.Module):
    def __init__(self, hidden_size):
        super(BahdanauAttention, self).__init__()
        self.Wa = nn.Linear(hidden_size, hidden_size)
        self.Ua = nn.Linear(hidden_size, hidden_size)
        self.Va = nn.Linear(hidden_size, 1)

    def forward(self, query, keys):
        scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
        scores = scores.squeeze(2).unsqueeze(1)
        weights = F.softmax(scores, dim=-1)
        context = torch.bmm(weights, keys)
        return context, weights


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1):
        super(AttnDecoderRNN, self).__init__()
        self.embedding = nn.Embedding(output_size, hidden_size)
        self.attention = BahdanauAttention(hidden_size)
        self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, output_size)
        self.dropout = nn.Dropout(dropout_p)

    def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
        batch_size = encoder_outputs.size(0)
        decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
        decoder_hidden = encoder_hidden
        decoder_outputs = []
        attentions = []
        for i in range(MAX_LENGTH):
            decoder_output, decoder_hidden, attn_weights = self.forward_step(
                decoder_input, decoder_hidden, encoder_outputs
            )
            decoder_outputs.append(decoder_output)
            attentions.append(attn_weights)
            if target_tensor is not None:
                decoder_input = target_tensor[:, i].unsqueeze(1)
            else:
                _, topi = decoder_output.topk(1)
                decoder_input = topi.squeeze(-1).detach()
        decoder_outputs = torch.cat(decoder_outputs, dim=1)
        decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
        attentions = torch.cat(attentions, dim=1)
        return decoder_outputs, decoder_hidden, attentions

    def forward_step(self, input, hidden, encoder_outputs):
        embedded = self.dropout(self.embedding(input))
        query = hidden.permute(1, 0, 2)
        context, attn_weights = self.attention(query, encoder_outputs)
        input_gru = torch.cat((embedded, context), dim=2)
        output, hidden = self.gru(input_gru, hidden)
        output = self.out(output)
        return output, hidden, attn_weights


pairs = [([2, 3, 4], [2, 5]), ([3, 4], [6, 5, 7]), ([5, 2, 3, 6], [3, 2]), ([6, 6, 2], [4, 7, 2, 3])]
n = len(pairs)
input_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
target_ids = np.zeros((n, MAX_LENGTH), dtype=np.int32)
for idx, (inp_ids, tgt_ids) in enumerate(pairs):
    inp_ids = inp_ids + [EOS_token]
    tgt_ids = tgt_ids + [EOS_token]
    input_ids[idx, :len(inp_ids)] = inp_ids
    target_ids[idx, :len(tgt_ids)] = tgt_ids
train_data = TensorDataset(torch.LongTensor(input_ids), torch.LongTensor(target_ids))
print(len(train_data), train_data[0])
hidden_size = 8
encoder = EncoderRNN(8, hidden_size)
decoder = AttnDecoderRNN(hidden_size, 8)
rng = np.random.RandomState(0)
with torch.no_grad():
    for module in (encoder, decoder):
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, size=tuple(p.shape)).astype(np.float32)))
encoder.eval()
decoder.eval()
inp = torch.LongTensor(input_ids)
tgt = torch.LongTensor(target_ids)
with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(inp)
    print(encoder_outputs.shape, encoder_hidden.shape)
    decoder_outputs, decoder_hidden, attentions = decoder(encoder_outputs, encoder_hidden)
    print(decoder_outputs.shape, attentions.shape)
    print(attentions[0, 0].round(decimals=3), attentions.sum(-1).round(decimals=3)[0])
    _, topi = decoder_outputs.topk(1)
    decoded_ids = topi.squeeze()
    print(decoded_ids)
encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
criterion = nn.NLLLoss()
for epoch in range(5):
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    encoder_outputs, encoder_hidden = encoder(inp)
    decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, tgt)
    loss = criterion(
        decoder_outputs.view(-1, decoder_outputs.size(-1)),
        tgt.view(-1)
    )
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    print(epoch, round(loss.item(), 4))
with torch.no_grad():
    encoder_outputs, encoder_hidden = encoder(inp)
    decoder_outputs, decoder_hidden, attentions = decoder(encoder_outputs, encoder_hidden)
    print(decoder_outputs.argmax(-1))
encoder.train()
decoder.train()
train_sampler = RandomSampler(train_data)
train_dataloader = DataLoader(train_data, sampler=train_sampler, batch_size=2)
for input_tensor, target_tensor in train_dataloader:
    encoder_outputs, encoder_hidden = encoder(input_tensor)
    decoder_outputs, _, attn = decoder(encoder_outputs, encoder_hidden, target_tensor)
    loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)), target_tensor.view(-1))
    print(input_tensor.shape, decoder_outputs.shape, attn.shape, bool(torch.isfinite(loss)))
