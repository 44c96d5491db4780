# Building blocks of the post-ViT image models as their reference repositories write them: MAE random_masking (argsort of noise, gather with repeat, unshuffle), Swin window partition/reverse with torch.roll and the relative-position index buffer, ConvNeXt (depthwise 7x7, channels_first LayerNorm, layer-scale gamma, DropPath by bernoulli_), DiT adaLN-Zero modulate with chunk(6), timm's trunc_normal_ init and bicubic position-embedding resize.
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

rng = np.random.RandomState(0)


def fill(module, std=0.3):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, std, p.shape).astype(np.float32)))


# ---- MAE ----
def random_masking(x, mask_ratio, noise):
    N, L, D = x.shape
    len_keep = int(L * (1 - mask_ratio))
    ids_shuffle = torch.argsort(noise, dim=1)
    ids_restore = torch.argsort(ids_shuffle, dim=1)
    ids_keep = ids_shuffle[:, :len_keep]
    x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
    mask = torch.ones([N, L], device=x.device)
    mask[:, :len_keep] = 0
    mask = torch.gather(mask, dim=1, index=ids_restore)
    return x_masked, mask, ids_restore


def patchify(imgs, p):
    h = w = imgs.shape[2] // p
    x = imgs.reshape(shape=(imgs.shape[0], 3, h, p, w, p))
    x = torch.einsum('nchpwq->nhwpqc', x)
    x = x.reshape(shape=(imgs.shape[0], h * w, p ** 2 * 3))
    return x


def unpatchify(x, p):
    h = w = int(x.shape[1] ** .5)
    x = x.reshape(shape=(x.shape[0], h, w, p, p, 3))
    x = torch.einsum('nhwpqc->nchpwq', x)
    return x.reshape(shape=(x.shape[0], 3, h * p, h * p))


imgs = torch.from_numpy(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))
patches = patchify(imgs, 2)
print(patches.shape, torch.equal(unpatchify(patches, 2), imgs))
noise = torch.from_numpy(rng.uniform(size=(2, 16)).astype(np.float32))
x_masked, mask, ids_restore = random_masking(patches, 0.75, noise)
print(x_masked.shape, mask.sum(1), ids_restore[0])
mask_token = nn.Parameter(torch.zeros(1, 1, 12))
torch.nn.init.normal_(mask_token, std=.02)
print(mask_token.abs().max() < 0.2, mask_token.requires_grad)
with torch.no_grad():
    mask_token.copy_(torch.from_numpy(rng.normal(0, 0.02, (1, 1, 12)).astype(np.float32)))
mask_tokens = mask_token.repeat(x_masked.shape[0], ids_restore.shape[1] + 1 - x_masked.shape[1] - 1, 1)
x_ = torch.cat([x_masked, mask_tokens], dim=1)
x_ = torch.gather(x_, dim=1, index=ids_restore.unsqueeze(-1).repeat(1, 1, x_.shape[2]))
target = patches
mean = target.mean(dim=-1, keepdim=True)
var = target.var(dim=-1, keepdim=True)
target = (target - mean) / (var + 1.e-6) ** .5
loss = ((x_ - target) ** 2).mean(dim=-1)
loss = (loss * mask).sum() / mask.sum()
loss.backward()
print(round(loss.item(), 4), mask_token.grad.shape, x_.shape)


# ---- Swin ----
def window_partition(x, window_size):
    B, H, W, C = x.shape
    x = x.view(B, H // window_size, window_size, W // window_size, window_size, C)
    windows = x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, window_size, window_size, C)
    return windows


def window_reverse(windows, window_size, H, W):
    B = int(windows.shape[0] / (H * W / window_size / window_size))
    x = windows.view(B, H // window_size, W // window_size, window_size, window_size, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)
    return x


class WindowAttention(nn.Module):
    def __init__(self, dim, window_size, num_heads, qkv_bias=True):
        super().__init__()
        self.dim = dim
        self.window_size = window_size
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window_size[0] - 1) * (2 * window_size[1] - 1), num_heads))
        coords_h = torch.arange(self.window_size[0])
        coords_w = torch.arange(self.window_size[1])
        coords = torch.stack(torch.meshgrid([coords_h, coords_w], indexing="ij"))
        coords_flatten = torch.flatten(coords, 1)
        relative_coords = coords_flatten[:, :, None] - coords_flatten[:, None, :]
        relative_coords = relative_coords.permute(1, 2, 0).contiguous()
        relative_coords[:, :, 0] += self.window_size[0] - 1
        relative_coords[:, :, 1] += self.window_size[1] - 1
        relative_coords[:, :, 0] *= 2 * self.window_size[1] - 1
        relative_position_index = relative_coords.sum(-1)
        self.register_buffer("relative_position_index", relative_position_index)
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=.02)
        self.softmax = nn.Softmax(dim=-1)

    def forward(self, x, mask=None):
        B_, N, C = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.num_heads, C // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        q = q * self.scale
        attn = (q @ k.transpose(-2, -1))
        relative_position_bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(
            self.window_size[0] * self.window_size[1], self.window_size[0] * self.window_size[1], -1)
        relative_position_bias = relative_position_bias.permute(2, 0, 1).contiguous()
        attn = attn + relative_position_bias.unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(B_ // nW, nW, self.num_heads, N, N) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.num_heads, N, N)
        attn = self.softmax(attn)
        x = (attn @ v).transpose(1, 2).reshape(B_, N, C)
        return self.proj(x)


H = W = 4
window_size, shift_size = 2, 1
img_mask = torch.zeros((1, H, W, 1))
h_slices = (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None))
w_slices = (slice(0, -window_size), slice(-window_size, -shift_size), slice(-shift_size, None))
cnt = 0
for h in h_slices:
    for w in w_slices:
        img_mask[:, h, w, :] = cnt
        cnt += 1
mask_windows = window_partition(img_mask, window_size)
mask_windows = mask_windows.view(-1, window_size * window_size)
attn_mask = mask_windows.unsqueeze(1) - mask_windows.unsqueeze(2)
attn_mask = attn_mask.masked_fill(attn_mask != 0, float(-100.0)).masked_fill(attn_mask == 0, float(0.0))
print(attn_mask.shape, attn_mask[-1])
wa = WindowAttention(6, (2, 2), 2)
print(wa.relative_position_index, wa.relative_position_bias_table.abs().max() <= 2.0)
fill(wa)
xs = torch.from_numpy(rng.normal(size=(1, H, W, 6)).astype(np.float32)).requires_grad_()
shifted_x = torch.roll(xs, shifts=(-shift_size, -shift_size), dims=(1, 2))
x_windows = window_partition(shifted_x, window_size).view(-1, window_size * window_size, 6)
attn_windows = wa(x_windows, mask=attn_mask).view(-1, window_size, window_size, 6)
shifted_x = window_reverse(attn_windows, window_size, H, W)
out = torch.roll(shifted_x, shifts=(shift_size, shift_size), dims=(1, 2))
out.square().mean().backward()
print(out.shape, xs.grad.abs().sum(), wa.relative_position_bias_table.grad.shape)


# ---- ConvNeXt ----
def drop_path(x, drop_prob: float = 0., training: bool = False, scale_by_keep: bool = True):
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0],) + (1,) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    if keep_prob > 0.0 and scale_by_keep:
        random_tensor.div_(keep_prob)
    return x * random_tensor


class DropPath(nn.Module):
    def __init__(self, drop_prob: float = 0., scale_by_keep: bool = True):
        super(DropPath, self).__init__()
        self.drop_prob = drop_prob
        self.scale_by_keep = scale_by_keep

    def forward(self, x):
        return drop_path(x, self.drop_prob, self.training, self.scale_by_keep)

    def extra_repr(self):
        return f'drop_prob={round(self.drop_prob, 3):0.3f}'


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps
        self.data_format = data_format
        if self.data_format not in ["channels_last", "channels_first"]:
            raise NotImplementedError
        self.normalized_shape = (normalized_shape,)

    def forward(self, x):
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        elif self.data_format == "channels_first":
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / torch.sqrt(s + self.eps)
            x = self.weight[:, None, None] * x + self.bias[:, None, None]
            return x


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, drop_path=0., layer_scale_init_value=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones((dim)),
                                  requires_grad=True) if layer_scale_init_value > 0 else None
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()

    def forward(self, x):
        input = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)
        x = self.norm(x)
        x = self.pwconv1(x)
        x = self.act(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = self.gamma * x
        x = x.permute(0, 3, 1, 2)
        return input + self.drop_path(x)


def _init_weights(m):
    if isinstance(m, (nn.Conv2d, nn.Linear)):
        nn.init.trunc_normal_(m.weight, std=.02)
        nn.init.constant_(m.bias, 0)


stem = nn.Sequential(nn.Conv2d(3, 8, kernel_size=4, stride=4), LayerNorm(8, eps=1e-6, data_format="channels_first"))
block = ConvNeXtBlock(8, drop_path=0.1)
net = nn.Sequential(stem, block)
net.apply(_init_weights)
print(block.gamma[:3], block.drop_path, all(p.abs().max() <= 2.0 for p in block.pwconv1.parameters()), block.pwconv1.bias.abs().sum())
fill(net)
opt = torch.optim.AdamW(net.parameters(), lr=4e-3, weight_decay=0.05)
x = torch.from_numpy(rng.normal(size=(2, 3, 8, 8)).astype(np.float32))
for step in range(2):
    net.eval()
    y = net(x)
    loss = y.square().mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    print(f"convnext step {step}: {loss.item():.5f}", y.shape)
net.train()
y = net(x)
print(y.shape, block.drop_path.training)
dp = drop_path(torch.ones(1000, 2), 0.25, training=True)
print(sorted(torch.unique(dp).tolist()), dp.dtype)


# ---- DiT adaLN-Zero ----
def modulate(x, shift, scale):
    return x * (1 + scale.unsqueeze(1)) + shift.unsqueeze(1)


class TimestepEmbedder(nn.Module):
    def __init__(self, hidden_size, frequency_embedding_size=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(frequency_embedding_size, hidden_size, bias=True), nn.SiLU(),
                                 nn.Linear(hidden_size, hidden_size, bias=True))
        self.frequency_embedding_size = frequency_embedding_size

    @staticmethod
    def timestep_embedding(t, dim, max_period=10000):
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(start=0, end=half, dtype=torch.float32) / half).to(
            device=t.device)
        args = t[:, None].float() * freqs[None]
        embedding = torch.cat([torch.cos(args), torch.sin(args)], dim=-1)
        if dim % 2:
            embedding = torch.cat([embedding, torch.zeros_like(embedding[:, :1])], dim=-1)
        return embedding

    def forward(self, t):
        t_freq = self.timestep_embedding(t, self.frequency_embedding_size)
        return self.mlp(t_freq)


class DiTBlock(nn.Module):
    def __init__(self, hidden_size, num_heads, mlp_ratio=4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        self.attn = nn.MultiheadAttention(hidden_size, num_heads, batch_first=True)
        self.norm2 = nn.LayerNorm(hidden_size, elementwise_affine=False, eps=1e-6)
        mlp_hidden_dim = int(hidden_size * mlp_ratio)
        self.mlp = nn.Sequential(nn.Linear(hidden_size, mlp_hidden_dim), nn.GELU(approximate="tanh"),
                                 nn.Linear(mlp_hidden_dim, hidden_size))
        self.adaLN_modulation = nn.Sequential(nn.SiLU(), nn.Linear(hidden_size, 6 * hidden_size, bias=True))

    def forward(self, x, c):
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = self.adaLN_modulation(c).chunk(6, dim=1)
        h = modulate(self.norm1(x), shift_msa, scale_msa)
        x = x + gate_msa.unsqueeze(1) * self.attn(h, h, h, need_weights=False)[0]
        x = x + gate_mlp.unsqueeze(1) * self.mlp(modulate(self.norm2(x), shift_mlp, scale_mlp))
        return x


t_embedder = TimestepEmbedder(8, 7)
dit = DiTBlock(8, 2)
nn.init.constant_(dit.adaLN_modulation[-1].weight, 0)
nn.init.constant_(dit.adaLN_modulation[-1].bias, 0)
xt = torch.from_numpy(rng.normal(size=(2, 5, 8)).astype(np.float32))
fill(t_embedder)
c = t_embedder(torch.tensor([3, 999]))
print(TimestepEmbedder.timestep_embedding(torch.tensor([0, 10]), 7).shape, torch.equal(dit(xt, c), xt))
fill(dit)
out = dit(xt, c)
out.sum().backward()
print(out.shape, dit.norm1.weight, t_embedder.mlp[0].weight.grad.abs().sum() > 0)


# ---- position-embedding resize when fine-tuning at a new resolution ----
pos_embed = torch.from_numpy(rng.normal(size=(1, 1 + 16, 6)).astype(np.float32))
cls_pos, patch_pos = pos_embed[:, :1], pos_embed[:, 1:]
patch_pos = patch_pos.reshape(1, 4, 4, 6).permute(0, 3, 1, 2)
resized = F.interpolate(patch_pos, size=(6, 6), mode='bicubic', align_corners=False)
resized_aa = F.interpolate(patch_pos, scale_factor=0.5, mode='bilinear', antialias=True)
resized = resized.permute(0, 2, 3, 1).flatten(1, 2)
new_pos = torch.cat((cls_pos, resized), dim=1)
print(new_pos.shape, new_pos[0, 1:3, :3], resized_aa.shape, resized_aa[0, 0])
