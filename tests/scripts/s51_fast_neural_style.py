# pytorch/examples fast_neural_style: ReflectionPad2d, InstanceNorm2d(affine), nearest upsampling, Gram matrices by bmm, content+style loss.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from collections import namedtuple


class ConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride):
        super(ConvLayer, self).__init__()
        self.reflection_pad = torch.nn.ReflectionPad2d(kernel_size // 2)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        return self.conv2d(self.reflection_pad(x))


class ResidualBlock(torch.nn.Module):
    def __init__(self, channels):
        super(ResidualBlock, self).__init__()
        self.conv1 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = ConvLayer(channels, channels, kernel_size=3, stride=1)
        self.in2 = torch.nn.InstanceNorm2d(channels, affine=True)
        self.relu = torch.nn.ReLU()

    def forward(self, x):
        residual = x
        out = self.relu(self.in1(self.conv1(x)))
        out = self.in2(self.conv2(out))
        return out + residual


class UpsampleConvLayer(torch.nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, upsample=None):
        super(UpsampleConvLayer, self).__init__()
        self.upsample = upsample
        reflection_padding = kernel_size // 2
        self.reflection_pad = torch.nn.ReflectionPad2d(reflection_padding)
        self.conv2d = torch.nn.Conv2d(in_channels, out_channels, kernel_size, stride)

    def forward(self, x):
        x_in = x
        if self.upsample:
            x_in = torch.nn.functional.interpolate(x_in, mode='nearest', scale_factor=self.upsample)
        out = self.reflection_pad(x_in)
        out = self.conv2d(out)
        return out


class TransformerNet(torch.nn.Module):
    def __init__(self):
        super(TransformerNet, self).__init__()
        self.conv1 = ConvLayer(3, 4, kernel_size=5, stride=1)
        self.in1 = torch.nn.InstanceNorm2d(4, affine=True)
        self.conv2 = ConvLayer(4, 8, kernel_size=3, stride=2)
        self.in2 = torch.nn.InstanceNorm2d(8, affine=True)
        self.res1 = ResidualBlock(8)
        self.deconv1 = UpsampleConvLayer(8, 4, kernel_size=3, stride=1, upsample=2)
        self.in4 = torch.nn.InstanceNorm2d(4, affine=True)
        self.deconv3 = ConvLayer(4, 3, kernel_size=5, stride=1)
        self.relu = torch.nn.ReLU()

    def forward(self, X):
        y = self.relu(self.in1(self.conv1(X)))
        y = self.relu(self.in2(self.conv2(y)))
        y = self.res1(y)
        y = self.relu(self.in4(self.deconv1(y)))
        y = self.deconv3(y)
        return y


class Features(torch.nn.Module):
    """A small stand-in for the VGG16 slices: returns the activations of several layers."""
    def __init__(self):
        super(Features, self).__init__()
        self.slice1 = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(inplace=True))
        self.slice2 = nn.Sequential(nn.MaxPool2d(kernel_size=2, stride=2), nn.Conv2d(6, 8, 3, padding=1), nn.ReLU(inplace=True))
        for param in self.parameters():
            param.requires_grad = False

    def forward(self, X):
        h1 = self.slice1(X)
        h2 = self.slice2(h1)
        vgg_outputs = namedtuple("VggOutputs", ['relu1_2', 'relu2_2'])
        return vgg_outputs(h1, h2)


def gram_matrix(y):
    (b, ch, h, w) = y.size()
    features = y.view(b, ch, w * h)
    features_t = features.transpose(1, 2)
    gram = features.bmm(features_t) / (ch * h * w)
    return gram


def normalize_batch(batch):
    mean = batch.new_tensor([0.485, 0.456, 0.406]).view(-1, 1, 1)
    std = batch.new_tensor([0.229, 0.224, 0.225]).view(-1, 1, 1)
    batch = batch.div_(255.0)
    return (batch - mean) / std


rng = np.random.RandomState(11)
transformer = TransformerNet()
vgg = Features()
for module in (transformer, vgg):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(rng.uniform(-0.3, 0.3, p.shape).astype(np.float32)))
print(transformer.res1)
print(transformer.in1, transformer.in1.weight.shape, transformer.in1.running_mean)
print(sum(p.numel() for p in transformer.parameters()), all(not p.requires_grad for p in vgg.parameters()))
style = torch.from_numpy(rng.uniform(0, 255, (1, 3, 8, 8)).astype(np.float32))
style = style.repeat(2, 1, 1, 1)
features_style = vgg(normalize_batch(style))
gram_style = [gram_matrix(y) for y in features_style]
print([tuple(g.shape) for g in gram_style], features_style._fields)
print(gram_style[0][0, :2, :3])
optimizer = torch.optim.Adam(transformer.parameters(), 1e-3)
mse_loss = torch.nn.MSELoss()
content_weight, style_weight = 1e2, 1e5
for batch_id in range(3):
    x = torch.from_numpy(rng.uniform(0, 255, (2, 3, 8, 8)).astype(np.float32))
    n_batch = len(x)
    optimizer.zero_grad()
    y = transformer(x)
    y = normalize_batch(y)
    x = normalize_batch(x)
    features_y = vgg(y)
    features_x = vgg(x)
    content_loss = content_weight * mse_loss(features_y.relu2_2, features_x.relu2_2)
    style_loss = 0.
    for ft_y, gm_s in zip(features_y, gram_style):
        gm_y = gram_matrix(ft_y)
        style_loss += mse_loss(gm_y, gm_s[:n_batch, :, :])
    style_loss *= style_weight
    total_loss = content_loss + style_loss
    total_loss.backward()
    optimizer.step()
    print(batch_id, f"{content_loss.item():.6g}", f"{style_loss.item():.6g}", f"{total_loss.item():.6g}")
with torch.no_grad():
    output = transformer(torch.from_numpy(rng.uniform(0, 255, (1, 3, 8, 8)).astype(np.float32)))
img = output[0].clone().clamp(0, 255).numpy()
img = img.transpose(1, 2, 0).astype("uint8")
print(output.shape, img.shape, img.dtype)
t = torch.arange(12.).reshape(1, 1, 3, 4)
print(nn.ReflectionPad2d(1)(t))
print(nn.ReflectionPad2d((1, 0, 2, 1))(t).shape, nn.ReflectionPad1d(2)(t[0]).shape)
print(F.interpolate(t, scale_factor=2, mode='nearest')[0, 0, :2])
print(F.interpolate(t, size=(5, 6), mode='nearest')[0, 0])
print(nn.Upsample(scale_factor=2, mode='nearest'), nn.InstanceNorm2d(3))
inorm = nn.InstanceNorm2d(2, affine=True, track_running_stats=True)
z = torch.from_numpy(rng.randn(2, 2, 3, 3).astype(np.float32))
print(inorm(z)[0, 0].detach().round(decimals=4), inorm.running_mean, inorm.running_var, inorm.num_batches_tracked)
inorm.eval()
print(inorm(z)[1, 1, 0].detach().round(decimals=4))
xd = torch.randn(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda v: nn.functional.pad(v, (1, 1, 2, 0), mode='reflect'), (xd,)))
print(torch.autograd.gradcheck(lambda v: F.interpolate(v, scale_factor=2, mode='nearest'), (xd,)))
print(torch.autograd.gradcheck(lambda v: F.instance_norm(v), (xd,)))
print(F.pad(xd, (1, 1, 1, 1), mode='reflect').grad_fn.name(), F.interpolate(xd, scale_factor=2).grad_fn.name())
try:
    nn.ReflectionPad2d(3)(t)
except RuntimeError as e:
    print(type(e).__name__, e)
