# pytorch/examples regression (polynomial features, .view, Linear fit by hand) and gcn (dense adjacency normalisation with diag, pow(-0.5), inf masking).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

POLY_DEGREE = 4
W_target = torch.from_numpy(np.array([[0.5], [-1.2], [0.3], [0.8]], dtype=np.float32)) * 5
b_target = torch.from_numpy(np.array([0.7], dtype=np.float32)) * 5


def make_features(x):
    """Builds features i.e. a matrix with columns [x, x^2, x^3, x^4]."""
    x = x.unsqueeze(1)
    return torch.cat([x ** i for i in range(1, POLY_DEGREE + 1)], 1)


def f(x):
    """Approximated function."""
    return x.mm(W_target) + b_target.item()


def poly_desc(W, b):
    """Creates a string description of a polynomial."""
    result = 'y = '
    for i, w in enumerate(W):
        result += '{:+.2f} x^{} '.format(w, i + 1)
    result += '{:+.2f}'.format(b[0])
    return result


def get_batch(batch_size=32):
    """Builds a batch i.e. (x, f(x)) pair."""
    random = torch.randn(batch_size)
    x = make_features(random)
    y = f(x)
    return x, y


x, y = get_batch()
print(x.shape, y.shape, x.dtype, y.dtype, torch.allclose(x[:, 1], x[:, 0] ** 2))
print(poly_desc(W_target.view(-1), b_target))
rng = np.random.RandomState(1)
fc = torch.nn.Linear(W_target.size(0), 1)
with torch.no_grad():
    fc.weight.copy_(torch.zeros(1, 4))
    fc.bias.zero_()
for batch_idx in range(1, 40):
    batch_x = make_features(torch.from_numpy(rng.uniform(-1, 1, 16).astype(np.float32)))
    batch_y = f(batch_x)
    fc.zero_grad()
    output = F.smooth_l1_loss(fc(batch_x), batch_y)
    loss = output.item()
    output.backward()
    for param in fc.parameters():
        param.data.add_(-0.1 * param.grad)
    if batch_idx % 10 == 0:
        print(batch_idx, f"{loss:.6f}")
print('Loss: {:.6f} after {} batches'.format(loss, batch_idx))
print('==> Learned function:\t' + poly_desc(fc.weight.view(-1), fc.bias))
print('==> Actual function:\t' + poly_desc(W_target.view(-1), b_target))

# --- gcn: renormalised adjacency D^-1/2 (A + I) D^-1/2 ---------------------------------
edges = torch.tensor([[0, 1, 1, 2, 3, 3], [1, 0, 2, 1, 4, 0]])
N = 6  # node 5 is isolated
adj = torch.zeros(N, N)
adj[edges[0], edges[1]] = 1.0
adj = adj + adj.t()
adj = (adj > 0).float()
print(adj.sum(1), adj.dtype)
deg = adj.sum(1)
deg_inv_sqrt = deg.pow(-0.5)
print(deg_inv_sqrt)
deg_inv_sqrt = deg_inv_sqrt.masked_fill(deg_inv_sqrt == float('inf'), 0)
deg_inv_sqrt[torch.isinf(deg_inv_sqrt)] = 0.0
d_mat = torch.diag(deg_inv_sqrt)
norm_adj = d_mat @ adj @ d_mat
print(norm_adj.round(decimals=4))
a_hat = adj + torch.eye(N)
d = torch.diag(torch.pow(a_hat.sum(1), -0.5))
a_norm = torch.mm(torch.mm(d, a_hat), d)
print(torch.allclose(a_norm, a_norm.t()), a_norm.diagonal().round(decimals=4), torch.diag(a_norm, 1).round(decimals=4))


class GraphConv(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super(GraphConv, self).__init__()
        self.kernel = nn.Parameter(torch.FloatTensor(in_features, out_features))
        nn.init.xavier_normal_(self.kernel)
        self.bias = None
        if bias:
            self.bias = nn.Parameter(torch.FloatTensor(out_features))
            nn.init.zeros_(self.bias)

    def forward(self, input, adj):
        output = torch.mm(adj, torch.mm(input, self.kernel))
        if self.bias is not None:
            output = output + self.bias
        return output


class GCN(nn.Module):
    def __init__(self, input_dim, hidden_dim, output_dim, dropout=0.5):
        super(GCN, self).__init__()
        self.gc1 = GraphConv(input_dim, hidden_dim)
        self.gc2 = GraphConv(hidden_dim, output_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, adj):
        x = self.dropout(x)
        x = F.relu(self.gc1(x, adj))
        x = self.dropout(x)
        x = self.gc2(x, adj)
        return F.log_softmax(x, dim=1)


gcn = GCN(5, 8, 3, dropout=0.5)
print(gcn, gcn.gc1.kernel.shape, gcn.gc1.bias.abs().sum().item(), gcn.gc1.kernel.std().item() > 0)
with torch.no_grad():
    for p in gcn.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.5, 0.5, p.shape).astype(np.float32)))
features = torch.from_numpy(rng.rand(N, 5).astype(np.float32))
features = features / features.sum(1, keepdim=True)
labels = torch.tensor([0, 1, 2, 0, 1, 2])
idx_train, idx_test = torch.arange(4), torch.tensor([4, 5])
optimizer = torch.optim.Adam(gcn.parameters(), lr=0.05, weight_decay=5e-4)
gcn.eval()
for epoch in range(5):
    optimizer.zero_grad()
    output = gcn(features, a_norm)
    loss = F.nll_loss(output[idx_train], labels[idx_train])
    acc = output[idx_train].max(1)[1].type_as(labels[idx_train]).eq(labels[idx_train]).double().sum() / len(idx_train)
    loss.backward()
    optimizer.step()
    print(epoch, f"{loss.item():.5f}", acc.item(), acc.dtype)
output = gcn(features, a_norm)
print(output.exp().sum(1).round(decimals=4), output[idx_test].detach().round(decimals=4))
