# pytorch/examples vision_transformer: patches by Tensor.unfold, class token and position embedding Parameters, MultiheadAttention(batch_first), AdamW with CosineAnnealingLR.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class PatchExtractor(nn.Module):
    def __init__(self, patch_size=4):
        super().__init__()
        self.patch_size = patch_size

    def forward(self, input_data):
        batch_size, channels, height, width = input_data.size()
        assert height % self.patch_size == 0 and width % self.patch_size == 0, \
            f"Input height ({height}) and width ({width}) must be divisible by patch size ({self.patch_size})"
        num_patches_h = height // self.patch_size
        num_patches_w = width // self.patch_size
        num_patches = num_patches_h * num_patches_w
        patches = input_data.unfold(2, self.patch_size, self.patch_size). \
            unfold(3, self.patch_size, self.patch_size). \
            permute(0, 2, 3, 1, 4, 5). \
            contiguous(). \
            view(batch_size, num_patches, -1)
        return patches


class InputEmbedding(nn.Module):
    def __init__(self, patch_size, n_channels, latent_size, num_patches):
        super(InputEmbedding, self).__init__()
        self.latent_size = latent_size
        self.input_size = patch_size * patch_size * n_channels
        self.linearProjection = nn.Linear(self.input_size, self.latent_size)
        self.class_token = nn.Parameter(torch.randn(1, 1, self.latent_size))
        self.pos_embedding = nn.Parameter(torch.randn(1, num_patches + 1, self.latent_size))
        self.patches = PatchExtractor(patch_size=patch_size)

    def forward(self, input_data):
        patches = self.patches(input_data)
        linear_projection = self.linearProjection(patches)
        b, n, _ = linear_projection.shape
        linear_projection = torch.cat((self.class_token.expand(b, -1, -1), linear_projection), dim=1)
        linear_projection += self.pos_embedding[:, :n + 1, :]
        return linear_projection


class EncoderBlock(nn.Module):
    def __init__(self, latent_size, num_heads, dropout):
        super(EncoderBlock, self).__init__()
        self.norm = nn.LayerNorm(latent_size)
        self.attention = nn.MultiheadAttention(latent_size, num_heads, dropout=dropout, batch_first=True)
        self.enc_MLP = nn.Sequential(
            nn.Linear(latent_size, latent_size * 2),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(latent_size * 2, latent_size),
            nn.Dropout(dropout)
        )

    def forward(self, emb_patches):
        first_norm = self.norm(emb_patches)
        attention_out = self.attention(first_norm, first_norm, first_norm)[0]
        first_added = attention_out + emb_patches
        second_norm = self.norm(first_added)
        mlp_out = self.enc_MLP(second_norm)
        output = mlp_out + first_added
        return output


class ViT(nn.Module):
    def __init__(self, num_encoders=2, latent_size=8, num_heads=2, num_classes=3, dropout=0.1, patch_size=4,
                 n_channels=3, num_patches=4):
        super(ViT, self).__init__()
        self.embedding = InputEmbedding(patch_size, n_channels, latent_size, num_patches)
        self.encoders = nn.ModuleList([EncoderBlock(latent_size, num_heads, dropout) for _ in range(num_encoders)])
        self.MLPHead = nn.Sequential(nn.LayerNorm(latent_size), nn.Linear(latent_size, num_classes))

    def forward(self, test_input):
        enc_output = self.embedding(test_input)
        for enc_layer in self.encoders:
            enc_output = enc_layer(enc_output)
        class_token_embed = enc_output[:, 0]
        return self.MLPHead(class_token_embed)


model = ViT()
print(model.embedding.class_token.shape, model.embedding.pos_embedding.shape, model.encoders[0].attention)
print(len(list(model.named_parameters())), [n for n, _ in model.named_parameters()][:6])
rng = np.random.RandomState(31)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
images = torch.from_numpy(rng.rand(4, 3, 8, 8).astype(np.float32))
labels = torch.tensor([0, 2, 1, 2])
patches = PatchExtractor(4)(images)
print(patches.shape, patches[0, 1, :5], images.unfold(2, 4, 4).shape, images.unfold(3, 3, 2).shape)
print(torch.arange(8.).unfold(0, 3, 2), torch.arange(8.).unfold(0, 3, 2).is_contiguous())
optimizer = torch.optim.AdamW(model.parameters(), lr=0.01, weight_decay=0.03)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=5)
criterion = nn.CrossEntropyLoss()
model.eval()
for epoch in range(4):
    optimizer.zero_grad()
    outputs = model(images)
    loss = criterion(outputs, labels)
    loss.backward()
    optimizer.step()
    scheduler.step()
    _, predicted = torch.max(outputs.data, 1)
    correct = (predicted == labels).sum().item()
    print(epoch, f"{loss.item():.5f}", correct, [f"{lr:.6f}" for lr in scheduler.get_last_lr()])
print(outputs.detach().round(decimals=4))
try:
    PatchExtractor(3)(images)
except AssertionError as e:
    print(e)
xd = torch.randn(1, 2, 6, 5, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda t: t.unfold(2, 3, 2).unfold(3, 2, 2), (xd,)))
print(xd.unfold(2, 3, 2).grad_fn.name(), xd.unfold(2, 3, 2).stride(), xd.unfold(-1, 5, 1).shape)
try:
    xd.unfold(3, 6, 1)
except RuntimeError as e:
    print(type(e).__name__, e)
