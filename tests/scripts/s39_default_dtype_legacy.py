# Scientific-style scripts: set_default_dtype(float64), finfo/iinfo, legacy FloatTensor constructors, typename.
import torch
import torch.nn as nn

print(torch.get_default_dtype())
torch.set_default_dtype(torch.float64)
print(torch.get_default_dtype(), torch.tensor([1.5]).dtype, torch.zeros(2).dtype, torch.arange(3.0).dtype, torch.linspace(0, 1, 3).dtype)
print(torch.rand(2).dtype, torch.randn(1).dtype, torch.full((1,), 2.0).dtype, (torch.tensor([1, 2]) * 0.5).dtype, torch.ones(1).dtype)
lin = nn.Linear(2, 2)
print(lin.weight.dtype, lin.bias.dtype)
print(torch.finfo().eps, torch.finfo(torch.get_default_dtype()).bits)
torch.set_default_dtype(torch.float32)
print(torch.get_default_dtype(), torch.tensor([1.5]).dtype, nn.Linear(1, 1).weight.dtype)
try:
    torch.set_default_dtype(torch.int64)
except TypeError as e:
    print("TypeError:", e)
print(torch.finfo(torch.float32))
print(torch.finfo(torch.float64))
print(torch.finfo(torch.float16))
print(torch.iinfo(torch.int32), torch.iinfo(torch.uint8).max, torch.iinfo(torch.int64).min, torch.iinfo(torch.int8).bits)
f = torch.finfo(torch.float32)
print(f.eps, f.max, f.min, f.tiny, f.resolution, f.smallest_normal, f.bits, f.dtype)
print(torch.finfo(torch.float32) == torch.finfo(torch.float), torch.tensor([1.0]).clamp(min=torch.finfo(torch.float32).eps))
try:
    torch.finfo(torch.int32)
except TypeError as e:
    print("TypeError:", e)
try:
    torch.iinfo(torch.float32)
except TypeError as e:
    print("TypeError:", e)
x = torch.FloatTensor([[1, 2], [3, 4]])
print(x, x.dtype, torch.LongTensor([1, 2]), torch.ByteTensor([1, 0]).dtype, torch.DoubleTensor(2).shape, torch.IntTensor(torch.Size([3])).shape)
print(torch.FloatTensor.dtype, isinstance(x, torch.FloatTensor), isinstance(x, torch.DoubleTensor), isinstance(x, torch.Tensor))
print(x.type(), x.type(torch.DoubleTensor).dtype, x.type('torch.LongTensor'), torch.typename(x), torch.typename(lin))
print(torch.FloatTensor())
eps = torch.finfo(torch.float32).eps
probs = torch.tensor([0.0, 0.5, 1.0]).clamp(eps, 1 - eps)
print(torch.log(probs))
