# A VAE with the reparameterisation trick; randomness comes from a numpy epsilon.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class VAE(nn.Module):
    def __init__(self):
        super(VAE, self).__init__()
        self.fc1 = nn.Linear(20, 12)
        self.fc21 = nn.Linear(12, 2)
        self.fc22 = nn.Linear(12, 2)
        self.fc3 = nn.Linear(2, 12)
        self.fc4 = nn.Linear(12, 20)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, 20))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, 20), reduction='sum')
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


rng = np.random.RandomState(11)
model = VAE()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.randn(*p.shape).astype(np.float32) * 0.3))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
data = torch.from_numpy(rng.rand(32, 20).astype(np.float32))
model.train()
for epoch in range(1, 4):
    train_loss = 0
    for i in range(4):
        x = data[i * 8:(i + 1) * 8]
        eps = torch.from_numpy(rng.randn(8, 2).astype(np.float32))
        optimizer.zero_grad()
        recon_batch, mu, logvar = model(x, eps)
        loss = loss_function(recon_batch, x, mu, logvar)
        loss.backward()
        train_loss += loss.item()
        optimizer.step()
    print('====> Epoch: {} Average loss: {:.4f}'.format(epoch, train_loss / 32))
with torch.no_grad():
    sample = model.decode(torch.from_numpy(rng.randn(4, 2).astype(np.float32)))
    print(sample.shape, sample.dtype, sample.requires_grad)
print(mu.shape, logvar.grad_fn.name())
n = torch.distributions.Normal(torch.zeros(2), torch.ones(2))
print(n.log_prob(torch.tensor([0.0, 1.0])))
kl = torch.distributions.kl_divergence(torch.distributions.Normal(mu[0], (0.5 * logvar[0]).exp()), torch.distributions.Normal(0.0, 1.0))
print(kl.shape)
