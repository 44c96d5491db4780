# A GAN training loop on 1-D data: generator and discriminator, BCELoss, detach, two optimizers.
import numpy as np
import torch
import torch.nn as nn

rng = np.random.RandomState(5)
G = nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2), nn.Linear(16, 2))
D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())
print(G)
print(D)
for m in list(G) + list(D):
    if isinstance(m, nn.Linear):
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(rng.randn(*m.weight.shape).astype(np.float32) * 0.3))
            m.bias.zero_()
criterion = nn.BCELoss()
opt_g = torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
opt_d = torch.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
real_label, fake_label = 1.0, 0.0
for step in range(30):
    real = torch.from_numpy((rng.randn(16, 2) * 0.5 + np.array([1.0, -1.0])).astype(np.float32))
    noise = torch.from_numpy(rng.randn(16, 4).astype(np.float32))
    D.zero_grad()
    label = torch.full((16,), real_label, dtype=torch.float)
    output = D(real).view(-1)
    errD_real = criterion(output, label)
    errD_real.backward()
    fake = G(noise)
    label.fill_(fake_label)
    output = D(fake.detach()).view(-1)
    errD_fake = criterion(output, label)
    errD_fake.backward()
    errD = errD_real + errD_fake
    opt_d.step()
    G.zero_grad()
    label.fill_(real_label)
    output = D(fake).view(-1)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    opt_g.step()
    if step % 10 == 0:
        print('[%d] Loss_D: %.4f Loss_G: %.4f D(G(z)): %.4f' % (step, errD.item(), errG.item(), D_G_z2))
print(fake.shape, fake.requires_grad, fake.detach().requires_grad)
print(opt_g.param_groups[0]['betas'], opt_d.defaults['lr'])
