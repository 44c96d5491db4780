# pytorch/examples cgan: label-embedding conditional GAN in the old style (Variable, legacy FloatTensor/LongTensor types as converters and constructors, .type(FT), xavier_uniform without underscore, BatchNorm1d eps=0.8).
import warnings
import numpy as np
import torch
from torch.autograd import Variable
import torch.nn as nn

n_classes, latentdim = 3, 4
img_shape = (1, 4, 4)
cuda = True if torch.cuda.is_available() else False


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.label_embed = nn.Embedding(n_classes, n_classes)
        self.depth = 8

        def init(input, output, normalize=True):
            layers = [nn.Linear(input, output)]
            if normalize:
                layers.append(nn.BatchNorm1d(output, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.generator = nn.Sequential(
            *init(latentdim + n_classes, self.depth),
            *init(self.depth, self.depth * 2),
            nn.Linear(self.depth * 2, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, noise, labels):
        gen_input = torch.cat((self.label_embed(labels), noise), -1)
        img = self.generator(gen_input)
        img = img.view(img.size(0), *img_shape)
        return img


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.label_embed1 = nn.Embedding(n_classes, n_classes)
        self.depth = 8

        def init(input, output):
            return [nn.Linear(input, output), nn.LeakyReLU(0.2, inplace=True)]

        self.discriminator = nn.Sequential(
            *init(n_classes + int(np.prod(img_shape)), self.depth),
            *init(self.depth, self.depth),
            nn.Linear(self.depth, 1),
            nn.Sigmoid()
        )

    def forward(self, img, labels):
        imgs = img.view(img.size(0), -1)
        inpu = torch.cat((imgs, self.label_embed1(labels)), -1)
        validity = self.discriminator(inpu)
        return validity


def init_weights(m):
    if type(m) == nn.Linear:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.nn.init.xavier_uniform(m.weight)
        print(" ", [str(w.message) for w in caught])
        m.bias.data.fill_(0.01)


generator = Generator()
print(generator.generator[1], generator.generator[1].eps)
gen_optimizer = torch.optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
discriminator = Discriminator()
discriminator.apply(init_weights)
print(discriminator.discriminator[0].bias[:3])
d_optimizer = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
rng = np.random.RandomState(29)
for net in (generator, discriminator):
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
a_loss = torch.nn.BCELoss()
real_label = 0.9
fake_label = 0.0
FT = torch.LongTensor
FT_a = torch.FloatTensor
print(FT, FT_a, FT_a.dtype, isinstance(torch.zeros(2), FT_a), isinstance(torch.zeros(2), FT))
for i in range(3):
    imgs = torch.from_numpy(rng.uniform(-1, 1, (5, 1, 4, 4)))
    labels = torch.from_numpy(rng.randint(0, n_classes, 5).astype(np.int32))
    batch_size = imgs.shape[0]
    imgs = Variable(imgs.type(FT_a))
    labels = Variable(labels.type(FT))
    reall = Variable(FT_a(batch_size, 1).fill_(real_label))
    f_label = Variable(FT_a(batch_size, 1).fill_(fake_label))
    gen_optimizer.zero_grad()
    d_optimizer.zero_grad()
    noise = Variable(FT_a(rng.normal(0, 1, (batch_size, latentdim))))
    gen_labels = Variable(FT(rng.randint(0, n_classes, batch_size)))
    gen_imgs = generator(noise, gen_labels)
    validity = discriminator(gen_imgs, gen_labels)
    g_loss = a_loss(validity, reall)
    g_loss.backward()
    gen_optimizer.step()
    d_optimizer.zero_grad()
    validity_real = discriminator(imgs, labels)
    d_real_loss = a_loss(validity_real, reall)
    validity_fake = discriminator(gen_imgs.detach(), gen_labels)
    d_fake_loss = a_loss(validity_fake, f_label)
    d_loss = 0.5 * (d_fake_loss + d_real_loss)
    d_loss.backward()
    d_optimizer.step()
    # %.5f, not the example's %f: seven significant digits of a float32 loss are GEMM rounding order
    print("[Epoch: %d/%d]" "[D loss: %.5f]" "[G loss: %.5f]" % (i + 1, 3, d_loss.item(), g_loss.item()))
print(imgs.dtype, labels.dtype, noise.dtype, gen_labels.dtype, reall[:2], type(imgs).__name__)
print(imgs.type(), labels.type(torch.IntTensor).dtype, labels.type('torch.DoubleTensor').dtype, imgs.type(torch.float16).dtype)
print(generator.generator[1].running_var[:4], generator.generator[1].running_mean.shape)
v = Variable(torch.ones(2), requires_grad=True)
print(type(v).__name__, v.requires_grad, v.data, Variable(torch.ones(1)).requires_grad)
