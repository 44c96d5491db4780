# Views and in-place semantics: view vs reshape, contiguity, shared storage, clone/detach, version errors.
import torch

a = torch.arange(12.0)
v = a.view(3, 4)
v[0, 0] = 100
print(a[0], v.is_contiguous(), v.t().is_contiguous(), v.stride(), v.t().stride(), v.storage_offset())
try:
    v.t().view(12)
except RuntimeError as e:
    print("RuntimeError:", e)
print(v.t().reshape(12)[:3], v.t().contiguous().view(-1)[:3])
c = a.clone()
c[0] = -1
print(a[0], c[0], a.data_ptr() == v.data_ptr(), a.data_ptr() == c.data_ptr())
print(v[1:].storage_offset(), v.unsqueeze(0).shape, v.narrow(1, 1, 2).shape)
try:
    a.view(5, 3)
except RuntimeError as e:
    print("RuntimeError:", e)
try:
    torch.ones(2, 3).expand(3, 3)
except RuntimeError as e:
    print("RuntimeError:", e)
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x.sigmoid()
y.mul_(2)
try:
    y.sum().backward()
except RuntimeError as e:
    print("RuntimeError:", str(e).split(";")[0])
x = torch.tensor([1.0, 2.0], requires_grad=True)
y = x * 1
y.add_(1)
y.sum().backward()
print(x.grad, y.grad_fn.name(), y._version)
try:
    x.add_(1)
except RuntimeError as e:
    print("RuntimeError:", e)
d = x.detach()
d.zero_()
print(x, d)
t = torch.zeros(2, 2)
t.fill_diagonal_(3)
t.t_()
print(t, t.T.mT.shape, t.unsqueeze_(0).shape, t.squeeze_().shape)
e = torch.ones(3)
e += 1
e *= torch.tensor([1.0, 2.0, 3.0])
e /= 2
e -= 0.5
print(e, e.pow_(2), e.sqrt_(), e.neg_().abs_())
i = torch.tensor([1, 2, 3])
try:
    i += 0.5
except RuntimeError as e:
    print("RuntimeError:", e)
f = torch.ones(2, 3)
f.copy_(torch.tensor([1.0, 2.0, 3.0]))
print(f, f.new_zeros(2), f.new_ones((1, 2)).dtype, f.new_full((2,), 7), f.new_tensor([1, 2]).dtype, f.new_empty(3).shape)
print(torch.zeros(3).index_fill_(0, torch.tensor([0, 2]), 9), torch.zeros(2, 2).masked_fill_(torch.eye(2, dtype=torch.bool), 1))
w = torch.arange(6).reshape(2, 3)
print(w.unfold(1, 2, 1), w.movedim(0, 1).shape, w.swapaxes(0, 1).shape, w.view(3, 2).unbind(0))
print(torch.as_strided(torch.arange(6), (2, 2), (1, 2)), w.expand_as(torch.zeros(2, 2, 3)).shape, w.view_as(torch.zeros(3, 2)).shape)
