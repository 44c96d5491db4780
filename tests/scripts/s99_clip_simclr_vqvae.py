# Contrastive and discrete-latent objectives as their reference code writes them: CLIP's symmetric loss (F.normalize, logit_scale Parameter of log(1/0.07), .exp(), clamp, logits @ .t(), cross_entropy both ways), SimCLR's NT-Xent (cat of views, eye mask, masked_fill, repeat), and a VQ-VAE quantiser (cdist/argmin codes, F.embedding, commitment loss, straight-through estimator, perplexity, EMA codebook update with one_hot).
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class CLIPHead(nn.Module):
    def __init__(self, img_dim, txt_dim, embed_dim):
        super().__init__()
        self.visual_projection = nn.Linear(img_dim, embed_dim, bias=False)
        self.text_projection = nn.Parameter(torch.empty(txt_dim, embed_dim))
        nn.init.normal_(self.text_projection, std=txt_dim ** -0.5)
        self.logit_scale = nn.Parameter(torch.ones([]) * np.log(1 / 0.07))

    def forward(self, image_features, text_features):
        image_embeds = self.visual_projection(image_features)
        text_embeds = text_features @ self.text_projection
        image_embeds = image_embeds / image_embeds.norm(p=2, dim=-1, keepdim=True)
        text_embeds = F.normalize(text_embeds, dim=-1)
        logit_scale = self.logit_scale.exp()
        logits_per_image = logit_scale * image_embeds @ text_embeds.t()
        logits_per_text = logits_per_image.t()
        return logits_per_image, logits_per_text


def clip_loss(logits_per_image, logits_per_text):
    labels = torch.arange(logits_per_image.shape[0], device=logits_per_image.device, dtype=torch.long)
    return (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2


rng = np.random.RandomState(0)
head = CLIPHead(6, 5, 4)
with torch.no_grad():
    head.visual_projection.weight.copy_(torch.from_numpy(rng.normal(0, 0.4, (4, 6)).astype(np.float32)))
    head.text_projection.copy_(torch.from_numpy(rng.normal(0, 0.4, (5, 4)).astype(np.float32)))
print(head.logit_scale, head.logit_scale.shape, head.logit_scale.dim())
opt = torch.optim.AdamW(head.parameters(), lr=1e-2, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)
imgs = torch.from_numpy(rng.normal(size=(4, 6)).astype(np.float32))
txts = torch.from_numpy(rng.normal(size=(4, 5)).astype(np.float32))
for step in range(3):
    logits_per_image, logits_per_text = head(imgs, txts)
    loss = clip_loss(logits_per_image, logits_per_text)
    opt.zero_grad()
    loss.backward()
    opt.step()
    with torch.no_grad():
        head.logit_scale.clamp_(0, math.log(100))
    acc = (logits_per_image.argmax(dim=-1) == torch.arange(4)).float().mean()
    print(f"step {step} loss {loss.item():.5f} scale {head.logit_scale.item():.5f} acc {acc.item():.2f}")
probs = logits_per_image.softmax(dim=-1)
print(probs.detach().numpy().round(4), probs.grad_fn.name())


def nt_xent(z_i, z_j, temperature=0.5):
    batch_size = z_i.shape[0]
    z = torch.cat((z_i, z_j), dim=0)
    z = F.normalize(z, dim=1)
    sim = torch.matmul(z, z.T) / temperature
    sim_i_j = torch.diag(sim, batch_size)
    sim_j_i = torch.diag(sim, -batch_size)
    positive_samples = torch.cat((sim_i_j, sim_j_i), dim=0).reshape(2 * batch_size, 1)
    mask = torch.ones((2 * batch_size, 2 * batch_size), dtype=bool)
    mask = mask.fill_diagonal_(0)
    for i in range(batch_size):
        mask[i, batch_size + i] = 0
        mask[batch_size + i, i] = 0
    negative_samples = sim[mask].reshape(2 * batch_size, -1)
    labels = torch.zeros(2 * batch_size).to(positive_samples.device).long()
    logits = torch.cat((positive_samples, negative_samples), dim=1)
    loss = nn.CrossEntropyLoss(reduction="sum")(logits, labels)
    return loss / (2 * batch_size)


def info_nce(features, n_views=2, temperature=0.07):
    batch = features.shape[0] // n_views
    labels = torch.cat([torch.arange(batch) for i in range(n_views)], dim=0)
    labels = (labels.unsqueeze(0) == labels.unsqueeze(1)).float()
    features = F.normalize(features, dim=1)
    similarity_matrix = torch.matmul(features, features.T)
    mask = torch.eye(labels.shape[0], dtype=torch.bool)
    labels = labels[~mask].view(labels.shape[0], -1)
    similarity_matrix = similarity_matrix[~mask].view(similarity_matrix.shape[0], -1)
    positives = similarity_matrix[labels.bool()].view(labels.shape[0], -1)
    negatives = similarity_matrix[~labels.bool()].view(similarity_matrix.shape[0], -1)
    logits = torch.cat([positives, negatives], dim=1)
    labels = torch.zeros(logits.shape[0], dtype=torch.long)
    return logits / temperature, labels


z_i = torch.from_numpy(rng.normal(size=(3, 4)).astype(np.float32)).requires_grad_()
z_j = torch.from_numpy(rng.normal(size=(3, 4)).astype(np.float32)).requires_grad_()
loss = nt_xent(z_i, z_j)
loss.backward()
print(loss, z_i.grad)
logits, labels = info_nce(torch.cat([z_i, z_j]).detach())
print(logits.shape, F.cross_entropy(logits, labels), labels.dtype)
mask = torch.eye(4, dtype=torch.bool)
print(torch.randn(4, 4).masked_fill(mask, -9e15).diag(), (~mask).sum())


class VectorQuantizerEMA(nn.Module):
    def __init__(self, num_embeddings, embedding_dim, commitment_cost, decay, epsilon=1e-5):
        super(VectorQuantizerEMA, self).__init__()
        self._embedding_dim = embedding_dim
        self._num_embeddings = num_embeddings
        self._embedding = nn.Embedding(self._num_embeddings, self._embedding_dim)
        self._embedding.weight.data.normal_()
        self._commitment_cost = commitment_cost
        self.register_buffer('_ema_cluster_size', torch.zeros(num_embeddings))
        self._ema_w = nn.Parameter(torch.Tensor(num_embeddings, self._embedding_dim))
        self._ema_w.data.normal_()
        self._decay = decay
        self._epsilon = epsilon

    def forward(self, inputs):
        inputs = inputs.permute(0, 2, 3, 1).contiguous()
        input_shape = inputs.shape
        flat_input = inputs.view(-1, self._embedding_dim)
        distances = (torch.sum(flat_input ** 2, dim=1, keepdim=True)
                     + torch.sum(self._embedding.weight ** 2, dim=1)
                     - 2 * torch.matmul(flat_input, self._embedding.weight.t()))
        encoding_indices = torch.argmin(distances, dim=1).unsqueeze(1)
        encodings = torch.zeros(encoding_indices.shape[0], self._num_embeddings, device=inputs.device)
        encodings.scatter_(1, encoding_indices, 1)
        quantized = torch.matmul(encodings, self._embedding.weight).view(input_shape)
        if self.training:
            self._ema_cluster_size = self._ema_cluster_size * self._decay + \
                (1 - self._decay) * torch.sum(encodings, 0)
            n = torch.sum(self._ema_cluster_size.data)
            self._ema_cluster_size = (
                (self._ema_cluster_size + self._epsilon)
                / (n + self._num_embeddings * self._epsilon) * n)
            dw = torch.matmul(encodings.t(), flat_input)
            self._ema_w = nn.Parameter(self._ema_w * self._decay + (1 - self._decay) * dw)
            self._embedding.weight = nn.Parameter(self._ema_w / self._ema_cluster_size.unsqueeze(1))
        e_latent_loss = F.mse_loss(quantized.detach(), inputs)
        loss = self._commitment_cost * e_latent_loss
        quantized = inputs + (quantized - inputs).detach()
        avg_probs = torch.mean(encodings, dim=0)
        perplexity = torch.exp(-torch.sum(avg_probs * torch.log(avg_probs + 1e-10)))
        return loss, quantized.permute(0, 3, 1, 2).contiguous(), perplexity, encodings


vq = VectorQuantizerEMA(num_embeddings=6, embedding_dim=3, commitment_cost=0.25, decay=0.99)
with torch.no_grad():
    vq._embedding.weight.copy_(torch.from_numpy(rng.normal(size=(6, 3)).astype(np.float32)))
    vq._ema_w.copy_(vq._embedding.weight)
z_e = torch.from_numpy(rng.normal(size=(2, 3, 2, 2)).astype(np.float32)).requires_grad_()
loss, z_q, perplexity, encodings = vq(z_e)
(loss + z_q.sum()).backward()
print(loss, perplexity, encodings.sum(0), z_q.shape, z_e.grad.abs().sum())
print(vq._ema_cluster_size, type(vq._embedding.weight).__name__, vq._ema_w.requires_grad)

codebook = nn.Embedding(6, 3)
with torch.no_grad():
    codebook.weight.copy_(torch.from_numpy(rng.normal(size=(6, 3)).astype(np.float32)))
codebook.weight.data.uniform_(-1.0 / 6, 1.0 / 6)
codebook.weight.data.copy_(torch.from_numpy(rng.normal(size=(6, 3)).astype(np.float32)))
z = torch.from_numpy(rng.normal(size=(5, 3)).astype(np.float32)).requires_grad_()
d = torch.cdist(z, codebook.weight)
indices = d.argmin(dim=-1)
zq = F.embedding(indices, codebook.weight)
commitment = F.mse_loss(z, zq.detach())
codebook_loss = F.mse_loss(zq, z.detach())
z_st = z + (zq - z).detach()
(z_st.pow(2).sum() + codebook_loss + 0.25 * commitment).backward()
print(indices, d.shape, z.grad, codebook.weight.grad)
one_hot = F.one_hot(indices, num_classes=6).type(z.dtype)
print(one_hot.sum(0), torch.unique(indices, return_counts=True))
