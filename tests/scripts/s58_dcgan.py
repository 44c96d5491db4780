# pytorch/examples dcgan: ConvTranspose2d generator, weights_init by class name with normal_, BCELoss with label fill_, two Adam optimizers with betas.
import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

nz, ngf, ndf, nc = 6, 4, 4, 3


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 2, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        if input.is_cuda and self.ngpu > 1:
            output = nn.parallel.data_parallel(self.main, input, range(self.ngpu))
        else:
            output = self.main(input)
        return output


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        output = self.main(input)
        return output.view(-1, 1).squeeze(1)


netG = Generator(1)
netG.apply(weights_init)
netD = Discriminator(1)
netD.apply(weights_init)
print(netG)
w = netG.main[0].weight
print(w.shape, abs(w.mean().item()) < 0.01, 0.01 < w.std().item() < 0.03, netG.main[1].bias.sum().item())
print(netD.main[3].weight.shape, bool((netD.main[3].weight - 1).abs().max() < 0.2))
rng = np.random.RandomState(21)
for net in (netG, netD):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.normal(0.0, 0.2, p.shape).astype(np.float32)))
criterion = nn.BCELoss()
fixed_noise = torch.from_numpy(rng.randn(2, nz, 1, 1).astype(np.float32))
real_label, fake_label = 1, 0
optimizerD = optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=0.0002, betas=(0.5, 0.999))
print(optimizerD.defaults["betas"], optimizerG.param_groups[0]["lr"])
for i in range(3):
    real_cpu = torch.from_numpy(rng.uniform(-1, 1, (4, nc, 16, 16)).astype(np.float32))
    netD.zero_grad()
    batch_size = real_cpu.size(0)
    label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype)
    output = netD(real_cpu)
    errD_real = criterion(output, label)
    errD_real.backward()
    D_x = output.mean().item()
    noise = torch.from_numpy(rng.randn(batch_size, nz, 1, 1).astype(np.float32))
    fake = netG(noise)
    label.fill_(fake_label)
    output = netD(fake.detach())
    errD_fake = criterion(output, label)
    errD_fake.backward()
    D_G_z1 = output.mean().item()
    errD = errD_real + errD_fake
    optimizerD.step()
    netG.zero_grad()
    label.fill_(real_label)
    output = netD(fake)
    errG = criterion(output, label)
    errG.backward()
    D_G_z2 = output.mean().item()
    optimizerG.step()
    print('[%d/%d] Loss_D: %.4f Loss_G: %.4f D(x): %.4f D(G(z)): %.4f / %.4f'
          % (i, 3, errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))
print(fake.shape, label.dtype, label, fake.grad_fn.name())
netG.eval()
with torch.no_grad():
    fake = netG(fixed_noise)
print(fake.shape, fake[0, 0, :2, :4])
print(torch.full((2,), 1), torch.full((2,), 1.0).dtype, torch.full((2, 2), True).dtype)
ct = nn.ConvTranspose2d(2, 3, 3, stride=2, padding=1, output_padding=1, bias=False)
with torch.no_grad():
    ct.weight.copy_(torch.from_numpy(rng.uniform(-1, 1, ct.weight.shape).astype(np.float32)))
z = torch.from_numpy(rng.randn(1, 2, 3, 3).astype(np.float32))
print(ct, ct(z).shape, ct(z, output_size=[5, 5]).shape, ct(z)[0, 0, 0].detach().round(decimals=4))
xd = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
wd = torch.randn(2, 3, 4, 4, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda a, b: nn.functional.conv_transpose2d(a, b, stride=2, padding=1), (xd, wd)))
print(nn.functional.conv_transpose2d(xd, wd, stride=2, padding=1).grad_fn.name())
try:
    ct(z, output_size=[9, 9])
except ValueError as e:
    print(type(e).__name__, e)
