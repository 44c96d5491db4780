# Gradient clipping and weight initialisation with nn.init (deterministic initialisers only).
import torch
import torch.nn as nn

lin = nn.Linear(4, 3)
nn.init.constant_(lin.weight, 0.5)
nn.init.zeros_(lin.bias)
print(lin.weight, lin.bias)
nn.init.ones_(lin.bias)
nn.init.eye_(lin.weight)
print(lin.weight)
w = torch.empty(3, 5)
nn.init.dirac_(torch.empty(2, 2, 3))
print(nn.init.calculate_gain('relu'), nn.init.calculate_gain('leaky_relu', 0.2), nn.init.calculate_gain('tanh'))
for init in (nn.init.xavier_uniform_, nn.init.xavier_normal_, nn.init.kaiming_uniform_, nn.init.kaiming_normal_, nn.init.orthogonal_, nn.init.trunc_normal_, nn.init.uniform_, nn.init.normal_):
    t = init(torch.empty(64, 32))
    print(init.__name__, t.shape, t.dtype)
b = nn.init.uniform_(torch.empty(1000), a=-0.1, b=0.1)
print(bool(b.min() >= -0.1), bool(b.max() <= 0.1))
k = nn.init.kaiming_uniform_(torch.empty(50, 200), a=5 ** 0.5)
print(bool(k.abs().max() <= 1 / 200 ** 0.5 + 1e-6))
t = nn.init.trunc_normal_(torch.empty(1000), std=1.0, a=-2.0, b=2.0)
print(bool(t.abs().max() <= 2.0))
q = nn.init.orthogonal_(torch.empty(6, 4))
print(torch.allclose(q.T @ q, torch.eye(4), atol=1e-5))


def init_weights(m):
    if isinstance(m, nn.Linear):
        torch.nn.init.constant_(m.weight, 0.01)
        m.bias.data.fill_(0.01)


net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
net.apply(init_weights)
print(net[0].weight, net[2].bias)

p1 = nn.Parameter(torch.tensor([3.0, 4.0]))
p2 = nn.Parameter(torch.tensor([12.0]))
p1.grad = torch.tensor([3.0, 4.0])
p2.grad = torch.tensor([12.0])
total = nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0)
print(total, p1.grad, p2.grad)
p1.grad = torch.tensor([3.0, -4.0])
nn.utils.clip_grad_value_([p1], clip_value=3.5)
print(p1.grad)
total = torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
print(total)
vec = nn.utils.parameters_to_vector(net.parameters())
print(vec.shape, vec)
nn.utils.vector_to_parameters(torch.arange(9, dtype=torch.float32), net.parameters())
print(net[2].weight)
