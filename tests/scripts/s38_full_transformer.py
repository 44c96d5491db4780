# nn.Transformer end to end on tiny sizes: shapes, masks, decoder layer, LayerNorm, key padding mask.
import numpy as np
import torch
import torch.nn as nn

model = nn.Transformer(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16, dropout=0.0, batch_first=True)
rng = np.random.RandomState(21)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
print(type(model.encoder).__name__, type(model.decoder.layers[0]).__name__, len(list(model.parameters())))
src = torch.from_numpy(rng.randn(2, 5, 8).astype(np.float32))
tgt = torch.from_numpy(rng.randn(2, 4, 8).astype(np.float32))
tgt_mask = model.generate_square_subsequent_mask(4)
pad = torch.tensor([[False, False, False, True, True], [False] * 5])
out = model(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=pad)
print(out.shape, out[0, 0].round(decimals=3))
out.sum().backward()
print(model.encoder.layers[0].self_attn.in_proj_weight.grad.shape)
dec_layer = nn.TransformerDecoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0)
print(dec_layer.self_attn, dec_layer.norm1, dec_layer.linear1)
ln = nn.LayerNorm(8)
print(ln(src).mean(-1).abs().max() < 1e-5, ln.weight.shape, ln.normalized_shape, ln.eps)
enc_layer = nn.TransformerEncoderLayer(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=True, activation="gelu")
with torch.no_grad():
    for p in enc_layer.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
print(enc_layer(src)[1, -1].round(decimals=3))
