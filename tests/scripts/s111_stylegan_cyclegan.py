# GAN building blocks as rosinality's stylegan2-pytorch and junyanz's CycleGAN write them: PixelNorm by rsqrt, EqualLinear/EqualConv2d (runtime weight scaling, lr_mul), fused leaky ReLU times sqrt(2), a modulated convolution through the grouped-conv batch trick with demodulation, noise injection, R1 regularisation by autograd.grad(create_graph=True), the non-saturating softplus losses; CycleGAN's ResnetBlock (ReflectionPad2d, InstanceNorm2d), itertools.chain over two generators, the linear-decay LambdaLR and an identity loss.
import itertools
import math

import numpy as np
import torch
from torch import nn, autograd
from torch.nn import functional as F

rng = np.random.RandomState(0)


class PixelNorm(nn.Module):
    def __init__(self):
        super().__init__()

    def forward(self, input):
        return input * torch.rsqrt(torch.mean(input ** 2, dim=1, keepdim=True) + 1e-8)


def fused_leaky_relu(input, bias, negative_slope=0.2, scale=2 ** 0.5):
    rest_dim = [1] * (input.ndim - bias.ndim - 1)
    return F.leaky_relu(input + bias.view(1, bias.shape[0], *rest_dim), negative_slope=negative_slope) * scale


class EqualLinear(nn.Module):
    def __init__(self, in_dim, out_dim, bias=True, bias_init=0, lr_mul=1, activation=None):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim).div_(lr_mul))
        if bias:
            self.bias = nn.Parameter(torch.zeros(out_dim).fill_(bias_init))
        else:
            self.bias = None
        self.activation = activation
        self.scale = (1 / math.sqrt(in_dim)) * lr_mul
        self.lr_mul = lr_mul

    def forward(self, input):
        if self.activation:
            out = F.linear(input, self.weight * self.scale)
            out = fused_leaky_relu(out, self.bias * self.lr_mul)
        else:
            out = F.linear(input, self.weight * self.scale, bias=self.bias * self.lr_mul)
        return out

    def __repr__(self):
        return f"{self.__class__.__name__}({self.weight.shape[1]}, {self.weight.shape[0]})"


class EqualConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, stride=1, padding=0, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channel, in_channel, kernel_size, kernel_size))
        self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)
        self.stride = stride
        self.padding = padding
        self.bias = nn.Parameter(torch.zeros(out_channel)) if bias else None

    def forward(self, input):
        return F.conv2d(input, self.weight * self.scale, bias=self.bias, stride=self.stride, padding=self.padding)

    def __repr__(self):
        return (f"{self.__class__.__name__}({self.weight.shape[1]}, {self.weight.shape[0]},"
                f" {self.weight.shape[2]}, stride={self.stride}, padding={self.padding})")


class ModulatedConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, style_dim, demodulate=True):
        super().__init__()
        self.eps = 1e-8
        self.kernel_size = kernel_size
        self.in_channel = in_channel
        self.out_channel = out_channel
        fan_in = in_channel * kernel_size ** 2
        self.scale = 1 / math.sqrt(fan_in)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)
        self.demodulate = demodulate

    def forward(self, input, style):
        batch, in_channel, height, width = input.shape
        style = self.modulation(style).view(batch, 1, in_channel, 1, 1)
        weight = self.scale * self.weight * style
        if self.demodulate:
            demod = torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8)
            weight = weight * demod.view(batch, self.out_channel, 1, 1, 1)
        weight = weight.view(batch * self.out_channel, in_channel, self.kernel_size, self.kernel_size)
        input = input.view(1, batch * in_channel, height, width)
        out = F.conv2d(input, weight, padding=self.padding, groups=batch)
        _, _, height, width = out.shape
        return out.view(batch, self.out_channel, height, width)


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, image, noise=None):
        if noise is None:
            batch, _, height, width = image.shape
            noise = image.new_empty(batch, 1, height, width).normal_()
        return image + self.weight * noise


def overwrite(module, std=0.5):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.normal(0, std, p.shape).astype(np.float32)))


style_dim = 6
mapping = nn.Sequential(PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=0.01, activation="fused_lrelu")
                                       for _ in range(2)])
conv = ModulatedConv2d(3, 4, 3, style_dim)
noise_inj = NoiseInjection()
to_rgb = EqualConv2d(4, 3, 1)
disc = nn.Sequential(EqualConv2d(3, 4, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), EqualLinear(4 * 4 * 4, 1))
print(mapping, disc[0], mapping[1].weight.shape, mapping[1].scale)
for m in (mapping, conv, noise_inj, to_rgb, disc):
    overwrite(m)
g_params = list(mapping.parameters()) + list(conv.parameters()) + list(noise_inj.parameters()) + list(to_rgb.parameters())
g_reg_ratio, d_reg_ratio = 4 / 5, 16 / 17
g_optim = torch.optim.Adam(g_params, lr=0.002 * g_reg_ratio, betas=(0 ** g_reg_ratio, 0.99 ** g_reg_ratio))
d_optim = torch.optim.Adam(disc.parameters(), lr=0.002 * d_reg_ratio, betas=(0 ** d_reg_ratio, 0.99 ** d_reg_ratio))
const = torch.from_numpy(rng.normal(size=(2, 3, 4, 4)).astype(np.float32))
print(noise_inj(const).shape, noise_inj(const).dtype)


def generate(z, noise):
    w = mapping(z)
    h = conv(const, w)
    h = noise_inj(h, noise)
    return to_rgb(fused_leaky_relu(h, torch.zeros(4)))


def d_logistic_loss(real_pred, fake_pred):
    real_loss = F.softplus(-real_pred)
    fake_loss = F.softplus(fake_pred)
    return real_loss.mean() + fake_loss.mean()


def d_r1_loss(real_pred, real_img):
    grad_real, = autograd.grad(outputs=real_pred.sum(), inputs=real_img, create_graph=True)
    return grad_real.pow(2).reshape(grad_real.shape[0], -1).sum(1).mean()


def g_nonsaturating_loss(fake_pred):
    return F.softplus(-fake_pred).mean()


for i in range(3):
    real_img = torch.from_numpy(rng.normal(size=(2, 3, 4, 4)).astype(np.float32))
    z = torch.from_numpy(rng.normal(size=(2, style_dim)).astype(np.float32))
    noise = torch.from_numpy(rng.normal(size=(2, 1, 4, 4)).astype(np.float32))
    fake_img = generate(z, noise)
    d_loss = d_logistic_loss(disc(real_img), disc(fake_img.detach()))
    d_optim.zero_grad()
    d_loss.backward()
    d_optim.step()
    real_img.requires_grad = True
    r1_loss = d_r1_loss(disc(real_img), real_img)
    d_optim.zero_grad()
    (10 / 2 * r1_loss * 16 + 0 * disc(real_img)[0]).backward()
    d_optim.step()
    g_loss = g_nonsaturating_loss(disc(generate(z, noise)))
    g_optim.zero_grad()
    g_loss.backward()
    g_optim.step()
    print(f"iter {i}: d {d_loss.item():.4f} r1 {r1_loss.item():.4f} g {g_loss.item():.4f}",
          round(conv.weight.grad.abs().sum().item(), 4), noise_inj.weight.grad)


class ResnetBlock(nn.Module):
    def __init__(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        super(ResnetBlock, self).__init__()
        self.conv_block = self.build_conv_block(dim, padding_type, norm_layer, use_dropout, use_bias)

    def build_conv_block(self, dim, padding_type, norm_layer, use_dropout, use_bias):
        conv_block = []
        p = 0
        if padding_type == 'reflect':
            conv_block += [nn.ReflectionPad2d(1)]
        elif padding_type == 'replicate':
            conv_block += [nn.ReplicationPad2d(1)]
        elif padding_type == 'zero':
            p = 1
        conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim), nn.ReLU(True)]
        if use_dropout:
            conv_block += [nn.Dropout(0.5)]
        if padding_type == 'reflect':
            conv_block += [nn.ReflectionPad2d(1)]
        elif padding_type == 'replicate':
            conv_block += [nn.ReplicationPad2d(1)]
        conv_block += [nn.Conv2d(dim, dim, kernel_size=3, padding=p, bias=use_bias), norm_layer(dim)]
        return nn.Sequential(*conv_block)

    def forward(self, x):
        return x + self.conv_block(x)


def make_generator(padding_type):
    import functools
    norm_layer = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    use_bias = norm_layer.func == nn.InstanceNorm2d
    return nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(3, 4, kernel_size=3, padding=0, bias=use_bias),
                         norm_layer(4), nn.ReLU(True),
                         ResnetBlock(4, padding_type, norm_layer, False, use_bias),
                         nn.ConvTranspose2d(4, 4, kernel_size=3, stride=2, padding=1, output_padding=1, bias=use_bias),
                         nn.ReflectionPad2d(1), nn.Conv2d(4, 3, kernel_size=3, padding=0), nn.Tanh())


netG_A, netG_B = make_generator('reflect'), make_generator('replicate')
netD = nn.Sequential(nn.Conv2d(3, 4, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.2, True),
                     nn.Conv2d(4, 1, kernel_size=4, stride=1, padding=1))
for m in (netG_A, netG_B, netD):
    overwrite(m, 0.3)
print(netG_A[4])
n_epochs, n_epochs_decay, epoch_count = 2, 2, 1
optimizer_G = torch.optim.Adam(itertools.chain(netG_A.parameters(), netG_B.parameters()), lr=0.0002, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(netD.parameters(), lr=0.0002, betas=(0.5, 0.999))


def lambda_rule(epoch):
    return 1.0 - max(0, epoch + epoch_count - n_epochs) / float(n_epochs_decay + 1)


scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer_G, lr_lambda=lambda_rule)
criterionGAN = nn.MSELoss()
criterionCycle = torch.nn.L1Loss()
criterionIdt = torch.nn.L1Loss()
real_A = torch.from_numpy(rng.uniform(-1, 1, (1, 3, 6, 6)).astype(np.float32))
real_B = torch.from_numpy(rng.uniform(-1, 1, (1, 3, 6, 6)).astype(np.float32))
for epoch in range(4):
    fake_B = netG_A(F.avg_pool2d(real_A, 2))
    rec_A = netG_B(F.avg_pool2d(fake_B, 2))
    idt_A = netG_A(F.avg_pool2d(real_B, 2))
    for p in netD.parameters():
        p.requires_grad = False
    optimizer_G.zero_grad()
    pred_fake = netD(fake_B)
    loss_G_A = criterionGAN(pred_fake, torch.tensor(1.0).expand_as(pred_fake))
    loss_cycle_A = criterionCycle(rec_A, real_A) * 10.0
    loss_idt_A = criterionIdt(idt_A, real_B) * 10.0 * 0.5
    loss_G = loss_G_A + loss_cycle_A + loss_idt_A
    loss_G.backward()
    optimizer_G.step()
    for p in netD.parameters():
        p.requires_grad = True
    optimizer_D.zero_grad()
    pred_real = netD(real_B)
    pred_fake = netD(fake_B.detach())
    loss_D = (criterionGAN(pred_real, torch.ones_like(pred_real)) + criterionGAN(pred_fake, torch.zeros_like(pred_fake))) * 0.5
    loss_D.backward()
    optimizer_D.step()
    old_lr = optimizer_G.param_groups[0]['lr']
    scheduler.step()
    lr = optimizer_G.param_groups[0]['lr']
    print('epoch %d: G %.4f cycle %.4f idt %.4f D %.4f learning rate %.7f -> %.7f' % (
        epoch, loss_G_A.item(), loss_cycle_A.item(), loss_idt_A.item(), loss_D.item(), old_lr, lr))
