# A neural ODE with a hand-written fixed-step RK4 (torchdiffeq-free, backprop through the solver) fitting a spiral, and a message-passing GNN without torch_scatter/PyG: degree by bincount, symmetric normalisation, index_add_, scatter_reduce (sum/mean/amax, include_self=False), a GAT-style softmax per target node, global mean pooling by index_add_.
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ODEFunc(nn.Module):
    def __init__(self):
        super(ODEFunc, self).__init__()
        self.net = nn.Sequential(
            nn.Linear(2, 16),
            nn.Tanh(),
            nn.Linear(16, 2),
        )
        for m in self.net.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0, std=0.1)
                nn.init.constant_(m.bias, val=0)
        self.nfe = 0

    def forward(self, t, y):
        self.nfe += 1
        return self.net(y ** 3)


def rk4_step(func, t0, dt, y0):
    k1 = func(t0, y0)
    k2 = func(t0 + dt / 2, y0 + dt * k1 / 2)
    k3 = func(t0 + dt / 2, y0 + dt * k2 / 2)
    k4 = func(t0 + dt, y0 + dt * k3)
    return y0 + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def odeint(func, y0, t):
    solution = [y0]
    y = y0
    for t0, t1 in zip(t[:-1], t[1:]):
        y = rk4_step(func, t0, t1 - t0, y)
        solution.append(y)
    return torch.stack(solution)


true_y0 = torch.tensor([[2., 0.]])
t = torch.linspace(0., 2., 9)
true_A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])


class Lambda(nn.Module):
    def forward(self, t, y):
        return torch.mm(y ** 3, true_A)


with torch.no_grad():
    true_y = odeint(Lambda(), true_y0, t)
print(true_y.shape, true_y[-1])

func = ODEFunc()
rng = np.random.RandomState(0)
with torch.no_grad():
    for p in func.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape).astype(np.float32)))
optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-3)
batch_time, batch_size = 4, 3
for itr in range(1, 4):
    optimizer.zero_grad()
    s = torch.from_numpy(np.array([0, 2, 4], dtype=np.int64))
    batch_y0 = true_y[s]
    batch_t = t[:batch_time]
    batch_y = torch.stack([true_y[s + i] for i in range(batch_time)], dim=0)
    pred_y = odeint(func, batch_y0, batch_t)
    loss = torch.mean(torch.abs(pred_y - batch_y))
    loss.backward()
    optimizer.step()
    print('Iter {:04d} | Total Loss {:.6f} | NFE {}'.format(itr, loss.item(), func.nfe), pred_y.shape)
with torch.no_grad():
    pred_y = odeint(func, true_y0, t)
    print('Eval loss {:.6f}'.format(torch.mean(torch.abs(pred_y - true_y)).item()))

# ---- message passing on a small graph ----
edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4, 0, 4],
                           [1, 0, 2, 1, 3, 2, 4, 3, 4, 0]], dtype=torch.long)
num_nodes = 5
x = torch.from_numpy(rng.normal(size=(num_nodes, 3)).astype(np.float32))


def add_self_loops(edge_index, num_nodes):
    loop_index = torch.arange(0, num_nodes, dtype=torch.long, device=edge_index.device)
    loop_index = loop_index.unsqueeze(0).repeat(2, 1)
    return torch.cat([edge_index, loop_index], dim=1)


def degree(index, num_nodes, dtype=None):
    out = torch.zeros((num_nodes,), dtype=dtype, device=index.device)
    one = torch.ones((index.size(0),), dtype=out.dtype, device=out.device)
    return out.scatter_add_(0, index, one)


class GCNConv(nn.Module):
    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        self.bias = nn.Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self):
        self.lin.reset_parameters()
        self.bias.data.zero_()

    def forward(self, x, edge_index):
        edge_index = add_self_loops(edge_index, num_nodes=x.size(0))
        x = self.lin(x)
        row, col = edge_index
        deg = degree(col, x.size(0), dtype=x.dtype)
        deg_inv_sqrt = deg.pow(-0.5)
        deg_inv_sqrt[deg_inv_sqrt == float('inf')] = 0
        norm = deg_inv_sqrt[row] * deg_inv_sqrt[col]
        msg = norm.view(-1, 1) * x[row]
        out = torch.zeros_like(x).index_add_(0, col, msg)
        return out + self.bias


class GATConv(nn.Module):
    def __init__(self, in_channels, out_channels, heads=2, negative_slope=0.2):
        super().__init__()
        self.heads, self.out_channels, self.negative_slope = heads, out_channels, negative_slope
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(torch.empty(1, heads, out_channels))
        nn.init.xavier_uniform_(self.att_src)
        nn.init.xavier_uniform_(self.att_dst)

    def forward(self, x, edge_index):
        H, C = self.heads, self.out_channels
        edge_index = add_self_loops(edge_index, num_nodes=x.size(0))
        src, dst = edge_index
        x = self.lin(x).view(-1, H, C)
        alpha_src = (x * self.att_src).sum(dim=-1)
        alpha_dst = (x * self.att_dst).sum(dim=-1)
        alpha = F.leaky_relu(alpha_src[src] + alpha_dst[dst], self.negative_slope)
        index = dst.unsqueeze(-1).expand_as(alpha)
        alpha_max = torch.zeros(x.size(0), H).scatter_reduce(0, index, alpha, reduce="amax", include_self=False)
        alpha = (alpha - alpha_max[dst]).exp()
        alpha_sum = torch.zeros(x.size(0), H).scatter_add(0, index, alpha)
        alpha = alpha / (alpha_sum[dst] + 1e-16)
        out = torch.zeros_like(x).index_add_(0, dst, x[src] * alpha.unsqueeze(-1))
        return out.mean(dim=1), alpha


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = GCNConv(3, 8)
        self.conv2 = GATConv(8, 4)
        self.head = nn.Linear(4, 2)

    def forward(self, x, edge_index, batch):
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, p=0.5, training=False)
        x, att = self.conv2(x, edge_index)
        num_graphs = int(batch.max()) + 1
        counts = torch.bincount(batch, minlength=num_graphs).clamp(min=1).to(x.dtype)
        pooled = torch.zeros(num_graphs, x.size(1)).index_add_(0, batch, x) / counts.unsqueeze(-1)
        return F.log_softmax(self.head(pooled), dim=-1), att


net = Net()
with torch.no_grad():
    for p in net.parameters():
        p.copy_(torch.from_numpy(rng.normal(0, 0.5, p.shape).astype(np.float32)))
batch = torch.tensor([0, 0, 0, 1, 1])
y = torch.tensor([1, 0])
print(torch.bincount(edge_index[1]), degree(edge_index[0], num_nodes))
opt = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=5e-4)
for epoch in range(3):
    net.train()
    opt.zero_grad()
    out, att = net(x, edge_index, batch)
    loss = F.nll_loss(out, y)
    loss.backward()
    opt.step()
    pred = out.argmax(dim=1)
    print(f'Epoch: {epoch:03d}, Loss: {loss:.4f}, Acc: {int((pred == y).sum()) / y.numel():.2f}', att.shape)
print(net.conv2.att_src.grad.shape, net.conv1.bias.grad)
src = torch.tensor([1.0, 5.0, 2.0, 4.0, 3.0])
idx = torch.tensor([0, 1, 0, 1, 2])
for reduce in ("sum", "prod", "mean", "amax", "amin"):
    print(reduce, torch.zeros(3).scatter_reduce(0, idx, src, reduce=reduce),
          torch.ones(3).scatter_reduce(0, idx, src, reduce=reduce, include_self=False))
