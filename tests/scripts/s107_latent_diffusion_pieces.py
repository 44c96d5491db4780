# Latent-diffusion (Stable Diffusion / diffusers) pieces reduced to CPU size: the VAE's DiagonalGaussianDistribution (chunk, clamp of logvar, kl, nll), cross-attention scored with baddbmm on torch.empty(beta=0) as diffusers writes it, GEGLU feed-forward, a transformer block with context, classifier-free guidance on a doubled batch, DDIM timesteps from numpy and its step, scaled latents and a seeded torch.Generator for the initial noise (compared by shape).
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


class DiagonalGaussianDistribution(object):
    def __init__(self, parameters, deterministic=False):
        self.parameters = parameters
        self.mean, self.logvar = torch.chunk(parameters, 2, dim=1)
        self.logvar = torch.clamp(self.logvar, -30.0, 20.0)
        self.deterministic = deterministic
        self.std = torch.exp(0.5 * self.logvar)
        self.var = torch.exp(self.logvar)
        if self.deterministic:
            self.var = self.std = torch.zeros_like(self.mean).to(device=self.parameters.device)

    def sample(self, noise):
        return self.mean + self.std * noise

    def kl(self, other=None):
        if self.deterministic:
            return torch.Tensor([0.])
        if other is None:
            return 0.5 * torch.sum(torch.pow(self.mean, 2) + self.var - 1.0 - self.logvar, dim=[1, 2, 3])
        return 0.5 * torch.sum(torch.pow(self.mean - other.mean, 2) / other.var + self.var / other.var - 1.0
                               - self.logvar + other.logvar, dim=[1, 2, 3])

    def nll(self, sample, dims=[1, 2, 3]):
        logtwopi = np.log(2.0 * np.pi)
        return 0.5 * torch.sum(logtwopi + self.logvar + torch.pow(sample - self.mean, 2) / self.var, dim=dims)

    def mode(self):
        return self.mean


class Encoder(nn.Module):
    def __init__(self, in_ch=3, ch=8, z_channels=2):
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, ch, 3, padding=1)
        self.norm = nn.GroupNorm(num_groups=4, num_channels=ch, eps=1e-6, affine=True)
        self.down = nn.Conv2d(ch, ch, 3, stride=2, padding=0)
        self.conv_out = nn.Conv2d(ch, 2 * z_channels, 3, padding=1)

    def forward(self, x):
        h = self.conv_in(x)
        h = F.silu(self.norm(h))
        h = self.down(F.pad(h, (0, 1, 0, 1), mode="constant", value=0))
        return self.conv_out(h)


class Decoder(nn.Module):
    def __init__(self, out_ch=3, ch=8, z_channels=2):
        super().__init__()
        self.conv_in = nn.Conv2d(z_channels, ch, 3, padding=1)
        self.norm = nn.GroupNorm(4, ch, eps=1e-6)
        self.conv_out = nn.Conv2d(ch, out_ch, 3, padding=1)

    def forward(self, z):
        h = self.conv_in(z)
        h = F.interpolate(h, scale_factor=2.0, mode="nearest")
        return self.conv_out(F.silu(self.norm(h)))


encoder, decoder = Encoder(), Decoder()
quant_conv = nn.Conv2d(4, 4, 1)
fill(encoder)
fill(decoder)
fill(quant_conv)
images = torch.from_numpy(rng.uniform(-1, 1, (2, 3, 8, 8)).astype(np.float32))
posterior = DiagonalGaussianDistribution(quant_conv(encoder(images)))
z = posterior.sample(torch.from_numpy(rng.normal(size=(2, 2, 4, 4)).astype(np.float32)))
rec = decoder(z)
rec_loss = torch.abs(images.contiguous() - rec.contiguous())
nll_loss = torch.sum(rec_loss) / rec_loss.shape[0]
kl_loss = posterior.kl()
kl_loss = torch.sum(kl_loss) / kl_loss.shape[0]
loss = nll_loss + 1e-6 * kl_loss
loss.backward()
print(z.shape, posterior.mode().shape, round(nll_loss.item(), 4), round(kl_loss.item(), 4),
      posterior.nll(z).detach(), posterior.kl(DiagonalGaussianDistribution(posterior.parameters.detach() * 0.5)).detach())
print(DiagonalGaussianDistribution(posterior.parameters, deterministic=True).kl(), encoder.conv_in.weight.grad.shape)
scaling_factor = 0.18215
latents = posterior.mode().detach() * scaling_factor
print(latents.abs().mean().item() < 1.0, (1 / scaling_factor * latents).shape)


class CrossAttention(nn.Module):
    def __init__(self, query_dim, cross_attention_dim=None, heads=2, dim_head=4):
        super().__init__()
        inner_dim = dim_head * heads
        cross_attention_dim = cross_attention_dim if cross_attention_dim is not None else query_dim
        self.scale = dim_head ** -0.5
        self.heads = heads
        self.to_q = nn.Linear(query_dim, inner_dim, bias=False)
        self.to_k = nn.Linear(cross_attention_dim, inner_dim, bias=False)
        self.to_v = nn.Linear(cross_attention_dim, inner_dim, bias=False)
        self.to_out = nn.ModuleList([nn.Linear(inner_dim, query_dim), nn.Dropout(0.0)])

    def head_to_batch_dim(self, tensor):
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size, seq_len, self.heads, dim // self.heads)
        return tensor.permute(0, 2, 1, 3).reshape(batch_size * self.heads, seq_len, dim // self.heads)

    def batch_to_head_dim(self, tensor):
        batch_size, seq_len, dim = tensor.shape
        tensor = tensor.reshape(batch_size // self.heads, self.heads, seq_len, dim)
        return tensor.permute(0, 2, 1, 3).reshape(batch_size // self.heads, seq_len, dim * self.heads)

    def get_attention_scores(self, query, key, attention_mask=None):
        dtype = query.dtype
        if attention_mask is None:
            baddbmm_input = torch.empty(query.shape[0], query.shape[1], key.shape[1], dtype=query.dtype,
                                        device=query.device)
            beta = 0
        else:
            baddbmm_input = attention_mask
            beta = 1
        attention_scores = torch.baddbmm(baddbmm_input, query, key.transpose(-1, -2), beta=beta, alpha=self.scale)
        attention_probs = attention_scores.softmax(dim=-1)
        return attention_probs.to(dtype)

    def forward(self, hidden_states, encoder_hidden_states=None, attention_mask=None):
        query = self.to_q(hidden_states)
        encoder_hidden_states = encoder_hidden_states if encoder_hidden_states is not None else hidden_states
        key = self.to_k(encoder_hidden_states)
        value = self.to_v(encoder_hidden_states)
        query = self.head_to_batch_dim(query)
        key = self.head_to_batch_dim(key)
        value = self.head_to_batch_dim(value)
        attention_probs = self.get_attention_scores(query, key, attention_mask)
        hidden_states = torch.bmm(attention_probs, value)
        hidden_states = self.batch_to_head_dim(hidden_states)
        hidden_states = self.to_out[0](hidden_states)
        return self.to_out[1](hidden_states)


class GEGLU(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self.proj = nn.Linear(dim_in, dim_out * 2)

    def forward(self, hidden_states):
        hidden_states, gate = self.proj(hidden_states).chunk(2, dim=-1)
        return hidden_states * F.gelu(gate)


class BasicTransformerBlock(nn.Module):
    def __init__(self, dim, cross_attention_dim):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn1 = CrossAttention(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.attn2 = CrossAttention(dim, cross_attention_dim=cross_attention_dim)
        self.norm3 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(GEGLU(dim, dim * 4), nn.Dropout(0.0), nn.Linear(dim * 4, dim))

    def forward(self, hidden_states, encoder_hidden_states):
        hidden_states = self.attn1(self.norm1(hidden_states)) + hidden_states
        hidden_states = self.attn2(self.norm2(hidden_states), encoder_hidden_states=encoder_hidden_states) + hidden_states
        return self.ff(self.norm3(hidden_states)) + hidden_states


class TinyUNet(nn.Module):
    def __init__(self, channels=2, dim=8, context_dim=6):
        super().__init__()
        self.conv_in = nn.Conv2d(channels, dim, 3, padding=1)
        self.time_proj = nn.Linear(dim, dim)
        self.norm = nn.GroupNorm(2, dim, eps=1e-6)
        self.proj_in = nn.Conv2d(dim, dim, 1)
        self.block = BasicTransformerBlock(dim, context_dim)
        self.proj_out = nn.Conv2d(dim, dim, 1)
        self.conv_out = nn.Conv2d(dim, channels, 3, padding=1)
        self.dim = dim

    def forward(self, sample, timestep, encoder_hidden_states):
        half = self.dim // 2
        exponent = -math.log(10000) * torch.arange(start=0, end=half, dtype=torch.float32) / half
        emb = timestep[:, None].float() * torch.exp(exponent)[None, :]
        emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
        h = self.conv_in(sample) + self.time_proj(emb)[:, :, None, None]
        residual = h
        batch, channel, height, weight = h.shape
        h = self.proj_in(self.norm(h))
        h = h.permute(0, 2, 3, 1).reshape(batch, height * weight, channel)
        h = self.block(h, encoder_hidden_states)
        h = h.reshape(batch, height, weight, channel).permute(0, 3, 1, 2).contiguous()
        h = self.proj_out(h) + residual
        return self.conv_out(F.silu(h))


unet = TinyUNet()
fill(unet)
text_embeddings = torch.from_numpy(rng.normal(size=(1, 3, 6)).astype(np.float32))
uncond_embeddings = torch.zeros_like(text_embeddings)
text_embeddings = torch.cat([uncond_embeddings, text_embeddings])
generator = torch.Generator().manual_seed(0)
noise_latents = torch.randn((1, 2, 4, 4), generator=generator)
print(noise_latents.shape, noise_latents.dtype, generator.initial_seed())
latents = torch.from_numpy(rng.normal(size=(1, 2, 4, 4)).astype(np.float32))

num_train_timesteps, num_inference_steps = 1000, 4
betas = torch.linspace(0.00085 ** 0.5, 0.012 ** 0.5, num_train_timesteps, dtype=torch.float32) ** 2
alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
final_alpha_cumprod = torch.tensor(1.0)
step_ratio = num_train_timesteps // num_inference_steps
timesteps = torch.from_numpy((np.arange(0, num_inference_steps) * step_ratio).round()[::-1].copy().astype(np.int64))
print(timesteps, alphas_cumprod[timesteps])
guidance_scale = 7.5
with torch.no_grad():
    for t in timesteps:
        latent_model_input = torch.cat([latents] * 2)
        noise_pred = unet(latent_model_input, t.expand(latent_model_input.shape[0]), text_embeddings)
        noise_pred_uncond, noise_pred_text = noise_pred.chunk(2)
        noise_pred = noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)
        prev_timestep = t - step_ratio
        alpha_prod_t = alphas_cumprod[t]
        alpha_prod_t_prev = alphas_cumprod[prev_timestep] if prev_timestep >= 0 else final_alpha_cumprod
        beta_prod_t = 1 - alpha_prod_t
        pred_original_sample = (latents - beta_prod_t ** (0.5) * noise_pred) / alpha_prod_t ** (0.5)
        pred_epsilon = noise_pred
        pred_original_sample = pred_original_sample.clamp(-1, 1)
        pred_sample_direction = (1 - alpha_prod_t_prev) ** (0.5) * pred_epsilon
        latents = alpha_prod_t_prev ** (0.5) * pred_original_sample + pred_sample_direction
        print(int(t), prev_timestep.item(), round(latents.abs().mean().item(), 5), noise_pred.shape)
image = decoder(1 / scaling_factor * latents * torch.ones(1, 1, 1, 1))
image = (image / 2 + 0.5).clamp(0, 1)
image = image.detach().cpu().permute(0, 2, 3, 1).float().numpy()
images = (image * 255).round().astype("uint8")
print(images.shape, images.dtype, images.max() <= 255)

optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-2, eps=1e-08)
for step in range(2):
    noise = torch.from_numpy(rng.normal(size=(2, 2, 4, 4)).astype(np.float32))
    bsz = 2
    timesteps_b = torch.from_numpy(rng.randint(0, num_train_timesteps, (bsz,))).long()
    sqrt_alpha_prod = alphas_cumprod[timesteps_b] ** 0.5
    sqrt_alpha_prod = sqrt_alpha_prod.flatten()
    while len(sqrt_alpha_prod.shape) < len(noise.shape):
        sqrt_alpha_prod = sqrt_alpha_prod.unsqueeze(-1)
    sqrt_one_minus_alpha_prod = ((1 - alphas_cumprod[timesteps_b]) ** 0.5).flatten()
    while len(sqrt_one_minus_alpha_prod.shape) < len(noise.shape):
        sqrt_one_minus_alpha_prod = sqrt_one_minus_alpha_prod.unsqueeze(-1)
    clean = torch.cat([latents, latents])
    noisy_latents = sqrt_alpha_prod * clean + sqrt_one_minus_alpha_prod * noise
    model_pred = unet(noisy_latents, timesteps_b, text_embeddings)
    loss = F.mse_loss(model_pred.float(), noise.float(), reduction="mean")
    loss.backward()
    torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    print(f"train step {step}: {loss.item():.4f}", timesteps_b.tolist())
