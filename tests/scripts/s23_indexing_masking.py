# Tensor manipulation: indexing, slicing, boolean masks, where, nonzero, masked_fill, index_select, advanced indexing.
import torch

x = torch.arange(24).reshape(2, 3, 4)
print(x)
print(x[0], x[:, 1], x[..., ::2], x[1, -1, -1], x[None].shape, x[:, None, :, 1].shape)
print(x[x > 20], x[[0, 1], [1, 2]], x[:, [0, 2]].shape)
print(x[torch.tensor([True, False])].shape)
mask = x % 5 == 0
print(mask.dtype, mask.sum(), mask.any(), mask.all())
print(x.masked_fill(mask, -1)[0])
print(torch.where(x > 10, x, torch.zeros_like(x))[1])
print(torch.where(x > 20))
print(torch.nonzero(x[0] > 8))
print(x.nonzero().shape)
print(torch.index_select(x, 2, torch.tensor([0, 3])))
y = torch.zeros(3, 4)
y[1] = 5
y[:, 2] = torch.tensor([1.0, 2.0, 3.0])
y[y == 0] = 0.5
print(y)
z = torch.tensor([3.0, -1.0, 2.0, 7.0])
z[z < 0] = 0
print(z, z.argmax(), z.argsort(), z.sort(descending=True))
vals, idx = z.topk(2)
print(vals, idx)
print(torch.masked_select(z, z > 1))
print(z.clamp(min=1.0, max=5.0), z.clamp_(0, 2), z)
a = torch.arange(6)
print(a.view(2, 3).T.contiguous().view(-1), a.flip(0), a.roll(2), a.chunk(3), a.split([1, 5]))
print(torch.take(a, torch.tensor([0, 5])), a.unique(), torch.unique(torch.tensor([2, 1, 2, 3]), return_counts=True))
b = torch.tensor([[1, 2], [3, 4]])
b[0, 0] += 10
b[:, 1] *= 2
print(b, b.tolist(), b.numpy())
print(b.max(), b.max(dim=0), b.min(1).values, b.max(dim=1, keepdim=True).indices)
print(torch.max(b, dim=0)[1])
