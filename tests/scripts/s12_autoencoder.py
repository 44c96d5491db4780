# A small dense autoencoder trained with Adam on numpy data; reconstructions and code shapes.
import numpy as np
import torch
from torch import nn


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))
        self.decoder = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 16), nn.Sigmoid())

    def forward(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return encoded, decoded


ae = AutoEncoder()
print(ae)
rng = np.random.RandomState(7)
with torch.no_grad():
    for name, p in ae.named_parameters():
        p.copy_(torch.from_numpy((rng.rand(*p.shape) - 0.5).astype(np.float32)))
data = torch.from_numpy(rng.rand(64, 16).astype(np.float32))
optimizer = torch.optim.Adam(ae.parameters(), lr=0.01)
loss_func = nn.MSELoss()
for epoch in range(40):
    encoded, decoded = ae(data)
    loss = loss_func(decoded, data)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    if epoch % 10 == 0:
        print('Epoch: ', epoch, '| train loss: %.4f' % loss.data.numpy())
print(encoded.shape, decoded.shape)
print(ae.encoder[0])
print(ae.decoder[-1], type(decoded.grad_fn).__name__)
print(len(list(ae.children())), len(list(ae.modules())))
print([n for n, _ in ae.named_modules()])
