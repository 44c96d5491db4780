# The transformer tutorial reduced to CPU size: PositionalEncoding, TransformerEncoder, masks, one training step.
import math
import numpy as np
import torch
from torch import nn, Tensor
from torch.nn import TransformerEncoder, TransformerEncoderLayer


class PositionalEncoding(nn.Module):
    def __init__(self, d_model: int, dropout: float = 0.1, max_len: int = 50):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, 1, d_model)
        pe[:, 0, 0::2] = torch.sin(position * div_term)
        pe[:, 0, 1::2] = torch.cos(position * div_term)
        self.register_buffer('pe', pe)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.pe[:x.size(0)]
        return self.dropout(x)


class TransformerModel(nn.Module):
    def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.0):
        super().__init__()
        self.model_type = 'Transformer'
        self.pos_encoder = PositionalEncoding(d_model, dropout)
        encoder_layers = TransformerEncoderLayer(d_model, nhead, d_hid, dropout)
        self.transformer_encoder = TransformerEncoder(encoder_layers, nlayers, enable_nested_tensor=False)
        self.embedding = nn.Embedding(ntoken, d_model)
        self.d_model = d_model
        self.linear = nn.Linear(d_model, ntoken)

    def forward(self, src, src_mask=None):
        src = self.embedding(src) * math.sqrt(self.d_model)
        src = self.pos_encoder(src)
        output = self.transformer_encoder(src, src_mask)
        return self.linear(output)


ntokens, emsize, d_hid, nlayers, nhead = 20, 8, 16, 2, 2
model = TransformerModel(ntokens, emsize, nhead, d_hid, nlayers)
print(model)
rng = np.random.RandomState(9)
names = []
with torch.no_grad():
    for name, p in model.named_parameters():
        names.append(name)
        p.copy_(torch.from_numpy(rng.uniform(-0.2, 0.2, size=p.shape).astype(np.float32)))
print(len(names), names[:6])
print(model.pos_encoder.pe.shape, [n for n, _ in model.named_buffers()])
data = torch.from_numpy(rng.randint(0, ntokens, size=(7, 3)))
mask = nn.Transformer.generate_square_subsequent_mask(7)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
model.train()
for step in range(3):
    output = model(data[:-1], mask[:-1, :-1])
    loss = criterion(output.view(-1, ntokens), data[1:].reshape(-1))
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
    optimizer.step()
    scheduler.step()
    print(step, f"{loss.item():.4f}", f"{math.exp(loss.item()):.3f}", scheduler.get_last_lr())
print(output.shape)
model.eval()
with torch.no_grad():
    out = model(data, mask)
print(out[-1, 0].argmax().item() >= 0, out.shape)
