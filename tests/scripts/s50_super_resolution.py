# pytorch/examples super_resolution: conv net with nn.PixelShuffle, init.orthogonal_ with a gain, MSELoss and PSNR via log10.
import math
import numpy as np
import torch
import torch.nn as nn
import torch.nn.init as init
import torch.optim as optim


class Net(nn.Module):
    def __init__(self, upscale_factor):
        super(Net, self).__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, 8, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(8, 8, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(8, 4, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(4, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv2.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv3.weight, init.calculate_gain('relu'))
        init.orthogonal_(self.conv4.weight)


model = Net(upscale_factor=2)
print(model)
print(init.calculate_gain('relu'), init.calculate_gain('leaky_relu', 0.2), init.calculate_gain('tanh'))
# orthogonal_ draws at random: compare the property it guarantees, not the values
w = model.conv2.weight.detach().reshape(8, -1)
gram = w @ w.t()
print(w.shape, torch.allclose(gram, 2.0 * torch.eye(8), atol=1e-4))
w4 = model.conv4.weight.detach().reshape(4, -1)
print(torch.allclose(w4 @ w4.t(), torch.eye(4), atol=1e-4))
q = torch.empty(5, 3)
init.orthogonal_(q, gain=0.5)
print(torch.allclose(q.t() @ q, 0.25 * torch.eye(3), atol=1e-5), q.dtype)
rng = np.random.RandomState(5)
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.25, 0.25, p.shape).astype(np.float32)))
ps = nn.PixelShuffle(2)
un = nn.PixelUnshuffle(2)
t = torch.arange(32.).reshape(1, 8, 2, 2)
print(ps, un, ps(t).shape, ps(t)[0, 0], torch.equal(un(ps(t)), t))
print(torch.nn.functional.pixel_shuffle(t, 2)[0, 1].tolist())
hr = torch.from_numpy(rng.uniform(0, 1, (3, 1, 12, 12)).astype(np.float32))
lr = torch.nn.functional.avg_pool2d(hr, 2)
criterion = nn.MSELoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)
for epoch in range(4):
    optimizer.zero_grad()
    loss = criterion(model(lr), hr)
    loss.backward()
    optimizer.step()
    print(epoch, f"{loss.item():.6f}")
with torch.no_grad():
    prediction = model(lr)
    mse = criterion(prediction, hr)
    psnr = 10 * math.log10(1 / mse.item())
    psnr_t = 10 * torch.log10(1 / mse)
print(prediction.shape, f"{psnr:.4f}", f"{psnr_t.item():.4f}", psnr_t.dtype)
out_img_y = prediction[0].detach().numpy()
out_img_y *= 255.0
out_img_y = out_img_y.clip(0, 255)
print(out_img_y.shape, out_img_y.dtype, np.round(out_img_y[0, :2, :4], 2))
x = torch.randn(2, 4, 3, 3, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda v: nn.functional.pixel_shuffle(v, 2), (x,)))
y = nn.functional.pixel_shuffle(x, 2)
print(y.grad_fn.name(), y.shape)
try:
    nn.functional.pixel_shuffle(torch.zeros(1, 3, 2, 2), 2)
except RuntimeError as e:
    print(type(e).__name__, e)
