# Speech-recognition training code (DeepSpeech2 / conformer tutorials) on precomputed features: a Conv2d subsampling front end with output lengths computed by floor division, a conformer convolution module (pointwise Conv1d, GLU(dim=1), depthwise Conv1d, BatchNorm1d, SiLU), macaron feed-forward halves, a BiGRU over pack_padded_sequence(enforce_sorted=False), nn.CTCLoss on log_softmax(T, N, C) with zero_infinity, greedy CTC decoding with unique_consecutive, and a word-error edit distance.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

rng = np.random.RandomState(0)


class ConvSubsampling(nn.Module):
    def __init__(self, in_feats, channels=4):
        super().__init__()
        self.conv = nn.Sequential(nn.Conv2d(1, channels, 3, stride=2), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, stride=2), nn.ReLU())
        self.out_feats = channels * (((in_feats - 1) // 2 - 1) // 2)

    def forward(self, x, lengths):
        x = self.conv(x.unsqueeze(1))
        b, c, t, f = x.size()
        x = x.transpose(1, 2).contiguous().view(b, t, c * f)
        lengths = torch.div(lengths - 1, 2, rounding_mode='floor')
        lengths = torch.div(lengths - 1, 2, rounding_mode='floor')
        return x, lengths


class ConvolutionModule(nn.Module):
    def __init__(self, channels, kernel_size=3):
        super().__init__()
        # torchaudio's default bias=False for the depthwise conv: a bias before BatchNorm has a gradient of
        # exactly zero in theory, float noise in practice, and Adam would turn that noise into lr-sized steps
        self.layer_norm = nn.LayerNorm(channels)
        self.pointwise_conv1 = nn.Conv1d(channels, 2 * channels, kernel_size=1, stride=1, padding=0, bias=True)
        self.glu = nn.GLU(dim=1)
        self.depthwise_conv = nn.Conv1d(channels, channels, kernel_size, stride=1, padding=(kernel_size - 1) // 2,
                                        groups=channels, bias=False)
        self.batch_norm = nn.BatchNorm1d(channels)
        self.activation = nn.SiLU()
        self.pointwise_conv2 = nn.Conv1d(channels, channels, kernel_size=1, bias=True)

    def forward(self, x, pad_mask):
        x = self.layer_norm(x).transpose(1, 2)
        x = self.glu(self.pointwise_conv1(x))
        x = x.masked_fill(pad_mask.unsqueeze(1), 0.0)
        x = self.activation(self.batch_norm(self.depthwise_conv(x)))
        return self.pointwise_conv2(x).transpose(1, 2)


class FeedForward(nn.Module):
    def __init__(self, dim, mult=2):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, dim * mult), nn.SiLU(), nn.Dropout(0.0),
                                 nn.Linear(dim * mult, dim), nn.Dropout(0.0))

    def forward(self, x):
        return self.net(x)


class ConformerBlock(nn.Module):
    def __init__(self, dim, heads=2):
        super().__init__()
        self.ff1 = FeedForward(dim)
        self.attn_norm = nn.LayerNorm(dim)
        self.attn = nn.MultiheadAttention(dim, heads, dropout=0.0, batch_first=True)
        self.conv = ConvolutionModule(dim)
        self.ff2 = FeedForward(dim)
        self.final_norm = nn.LayerNorm(dim)

    def forward(self, x, pad_mask):
        x = x + 0.5 * self.ff1(x)
        h = self.attn_norm(x)
        x = x + self.attn(h, h, h, key_padding_mask=pad_mask, need_weights=False)[0]
        x = x + self.conv(x, pad_mask)
        x = x + 0.5 * self.ff2(x)
        return self.final_norm(x)


class SpeechModel(nn.Module):
    def __init__(self, n_feats, dim, n_class):
        super().__init__()
        self.subsample = ConvSubsampling(n_feats)
        self.proj = nn.Linear(self.subsample.out_feats, dim)
        self.block = ConformerBlock(dim)
        self.birnn = nn.GRU(input_size=dim, hidden_size=dim, num_layers=1, batch_first=True, bidirectional=True)
        self.classifier = nn.Linear(dim * 2, n_class)

    def forward(self, x, lengths):
        x, lengths = self.subsample(x, lengths)
        x = self.proj(x)
        pad_mask = torch.arange(x.size(1))[None, :] >= lengths[:, None]
        x = self.block(x, pad_mask)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.birnn(packed)
        out, out_lengths = pad_packed_sequence(out, batch_first=True, total_length=x.size(1))
        return self.classifier(out), lengths


class GreedyCTCDecoder:
    def __init__(self, labels, blank=0):
        self.labels = labels
        self.blank = blank

    def __call__(self, emission):
        indices = torch.argmax(emission, dim=-1)
        indices = torch.unique_consecutive(indices, dim=-1)
        indices = [i for i in indices if i != self.blank]
        return "".join([self.labels[i] for i in indices])


def levenshtein(ref, hyp):
    d = np.zeros((len(ref) + 1, len(hyp) + 1), dtype=np.int32)
    d[:, 0] = np.arange(len(ref) + 1)
    d[0, :] = np.arange(len(hyp) + 1)
    for i in range(1, len(ref) + 1):
        for j in range(1, len(hyp) + 1):
            cost = 0 if ref[i - 1] == hyp[j - 1] else 1
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + cost)
    return int(d[len(ref), len(hyp)])


labels = "_ abcdef"
model = SpeechModel(n_feats=9, dim=8, n_class=len(labels))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
print(model.subsample.out_feats, model.block.conv.glu, model.block.conv.depthwise_conv)
spectrograms = torch.from_numpy(rng.normal(size=(3, 30, 9)).astype(np.float32))
input_lengths = torch.tensor([30, 22, 27])
for i, n in enumerate(input_lengths.tolist()):
    spectrograms[i, n:] = 0
targets = torch.tensor([[2, 3, 4, 1, 5], [6, 6, 2, 0, 0], [7, 3, 1, 0, 0]])
target_lengths = torch.tensor([5, 3, 3])
criterion = nn.CTCLoss(blank=0, zero_infinity=True)
optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=5e-4, steps_per_epoch=3, epochs=1,
                                                anneal_strategy='linear')
for step in range(3):
    model.train()
    output, output_lengths = model(spectrograms, input_lengths)
    output = F.log_softmax(output, dim=2)
    output = output.transpose(0, 1)
    loss = criterion(output, targets, output_lengths, target_lengths)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    scheduler.step()
    print(f"step {step}: loss {loss.item():.5f} lr {scheduler.get_last_lr()[0]:.7f}", output.shape, output_lengths)
print(model.block.conv.batch_norm.running_mean.detach().numpy().round(4), model.block.conv.batch_norm.num_batches_tracked)

model.eval()
with torch.no_grad():
    output, output_lengths = model(spectrograms, input_lengths)
    emissions = F.log_softmax(output, dim=2)
decoder = GreedyCTCDecoder(labels)
references = ["abc d", "ee a", "fb "]
for i in range(3):
    hyp = decoder(emissions[i, :output_lengths[i]])
    print(repr(hyp), levenshtein(references[i], hyp))
# the functional form, per-sample losses, with concatenated 1-D targets, and the infinity it guards against
flat_targets = torch.cat([targets[i, :target_lengths[i]] for i in range(3)])
per_sample = F.ctc_loss(emissions.transpose(0, 1), flat_targets, output_lengths, target_lengths, reduction='none')
print(per_sample, per_sample.dtype)
impossible = F.ctc_loss(emissions.transpose(0, 1)[:2], targets, torch.tensor([2, 2, 2]), target_lengths,
                        reduction='none')
print(impossible, F.ctc_loss(emissions.transpose(0, 1)[:2], targets, torch.tensor([2, 2, 2]), target_lengths,
                             reduction='sum', zero_infinity=True))
print(torch.unique_consecutive(torch.tensor([0, 0, 3, 3, 0, 2, 2, 2]), return_counts=True, return_inverse=True))
