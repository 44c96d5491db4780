# Recommender, time-series and sparse-attention code as their reference implementations write it: DLRM (EmbeddingBag sum with offsets and per_sample_weights, bmm feature interactions gathered by triu/tril indices, BCEWithLogits), NCF/NeuMF (GMF and MLP towers), locuslab's TCN (torch.nn.utils.weight_norm, Chomp1d, dilated causal Conv1d, init.normal_ on weight_v), and sparsemax as an autograd.Function (sort, cumsum, gather of tau, backward on the support).
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import weight_norm

rng = np.random.RandomState(0)


def fill(module, std=0.3):
    with torch.no_grad():
        for name, p in module.named_parameters():
            p.copy_(torch.from_numpy(rng.normal(0, std, p.shape).astype(np.float32)))


class DLRM_Net(nn.Module):
    def create_mlp(self, ln, sigmoid_layer):
        layers = nn.ModuleList()
        for i in range(0, ln.size - 1):
            n = ln[i]
            m = ln[i + 1]
            LL = nn.Linear(int(n), int(m), bias=True)
            mean = 0.0
            std_dev = np.sqrt(2 / (m + n))
            W = np.random.RandomState(i).normal(mean, std_dev, size=(m, n)).astype(np.float32)
            std_dev = np.sqrt(1 / m)
            bt = np.random.RandomState(10 + i).normal(mean, std_dev, size=m).astype(np.float32)
            LL.weight.data = torch.tensor(W, requires_grad=True)
            LL.bias.data = torch.tensor(bt, requires_grad=True)
            layers.append(LL)
            if i == sigmoid_layer:
                layers.append(nn.Sigmoid())
            else:
                layers.append(nn.ReLU())
        return torch.nn.Sequential(*layers)

    def create_emb(self, m, ln):
        emb_l = nn.ModuleList()
        for i in range(0, ln.size):
            n = ln[i]
            EE = nn.EmbeddingBag(n, m, mode="sum", sparse=False)
            W = np.random.RandomState(20 + i).uniform(low=-np.sqrt(1 / n), high=np.sqrt(1 / n), size=(n, m)).astype(np.float32)
            EE.weight.data = torch.tensor(W, requires_grad=True)
            emb_l.append(EE)
        return emb_l

    def __init__(self, m_spa, ln_emb, ln_bot, ln_top, arch_interaction_itself=False):
        super(DLRM_Net, self).__init__()
        self.arch_interaction_itself = arch_interaction_itself
        self.emb_l = self.create_emb(m_spa, ln_emb)
        self.bot_l = self.create_mlp(ln_bot, -1)
        self.top_l = self.create_mlp(ln_top, ln_top.size - 2)
        self.loss_fn = torch.nn.BCELoss(reduction="mean")

    def apply_emb(self, lS_o, lS_i, emb_l, v_W_l):
        ly = []
        for k, sparse_index_group_batch in enumerate(lS_i):
            sparse_offset_group_batch = lS_o[k]
            per_sample_weights = v_W_l[k] if v_W_l[k] is not None else None
            E = emb_l[k]
            V = E(sparse_index_group_batch, sparse_offset_group_batch, per_sample_weights=per_sample_weights)
            ly.append(V)
        return ly

    def interact_features(self, x, ly):
        (batch_size, d) = x.shape
        T = torch.cat([x] + ly, dim=1).view((batch_size, -1, d))
        Z = torch.bmm(T, torch.transpose(T, 1, 2))
        _, ni, nj = Z.shape
        offset = 1 if self.arch_interaction_itself else 0
        li = torch.tensor([i for i in range(ni) for j in range(i + offset)])
        lj = torch.tensor([j for i in range(nj) for j in range(i + offset)])
        Zflat = Z[:, li, lj]
        R = torch.cat([x] + [Zflat], dim=1)
        return R

    def forward(self, dense_x, lS_o, lS_i, v_W_l):
        x = self.bot_l(dense_x)
        ly = self.apply_emb(lS_o, lS_i, self.emb_l, v_W_l)
        z = self.interact_features(x, ly)
        p = self.top_l(z)
        return p


ln_emb = np.array([6, 5, 4])
m_spa = 2
ln_bot = np.array([4, 3, 2])
num_fea = ln_emb.size + 1
num_int = (num_fea * (num_fea - 1)) // 2 + m_spa
ln_top = np.array([num_int, 4, 1])
dlrm = DLRM_Net(m_spa, ln_emb, ln_bot, ln_top)
print(dlrm.top_l, num_int)
dense_x = torch.from_numpy(rng.uniform(size=(3, 4)).astype(np.float32))
lS_o = [torch.tensor([0, 2, 3]), torch.tensor([0, 1, 2]), torch.tensor([0, 0, 2])]
lS_i = [torch.tensor([1, 5, 0, 3, 4]), torch.tensor([4, 0, 2]), torch.tensor([3, 1])]
v_W_l = [torch.tensor([0.5, 1.0, 2.0, 1.0, 1.0]), None, None]
T = torch.from_numpy(np.array([[1.0], [0.0], [1.0]], dtype=np.float32))
optimizer = torch.optim.SGD(dlrm.parameters(), lr=0.1)
for step in range(3):
    Z = dlrm(dense_x, lS_o, lS_i, v_W_l)
    E = dlrm.loss_fn(Z, T)
    optimizer.zero_grad()
    E.backward()
    optimizer.step()
    A = np.sum((np.round(Z.detach().cpu().numpy(), 0) == T.numpy()).astype(np.uint8))
    print(f"dlrm step {step}: loss {E.item():.5f} acc {A / 3:.3f}", dlrm.emb_l[0].weight.grad[1])
li, lj = torch.tril_indices(4, 4, offset=-1)
print(li, lj, torch.triu_indices(3, 3, 1))


class NeuMF(nn.Module):
    def __init__(self, user_num, item_num, factor_num, num_layers, dropout):
        super(NeuMF, self).__init__()
        self.embed_user_GMF = nn.Embedding(user_num, factor_num)
        self.embed_item_GMF = nn.Embedding(item_num, factor_num)
        self.embed_user_MLP = nn.Embedding(user_num, factor_num * (2 ** (num_layers - 1)))
        self.embed_item_MLP = nn.Embedding(item_num, factor_num * (2 ** (num_layers - 1)))
        MLP_modules = []
        for i in range(num_layers):
            input_size = factor_num * (2 ** (num_layers - i))
            MLP_modules.append(nn.Dropout(p=dropout))
            MLP_modules.append(nn.Linear(input_size, input_size // 2))
            MLP_modules.append(nn.ReLU())
        self.MLP_layers = nn.Sequential(*MLP_modules)
        self.predict_layer = nn.Linear(factor_num * 2, 1)
        nn.init.normal_(self.embed_user_GMF.weight, std=0.01)
        nn.init.kaiming_uniform_(self.predict_layer.weight, a=1, nonlinearity='sigmoid')
        for m in self.modules():
            if isinstance(m, nn.Linear) and m.bias is not None:
                m.bias.data.zero_()

    def forward(self, user, item):
        output_GMF = self.embed_user_GMF(user) * self.embed_item_GMF(item)
        interaction = torch.cat((self.embed_user_MLP(user), self.embed_item_MLP(item)), -1)
        output_MLP = self.MLP_layers(interaction)
        concat = torch.cat((output_GMF, output_MLP), -1)
        prediction = self.predict_layer(concat)
        return prediction.view(-1)


ncf = NeuMF(5, 7, 2, 2, 0.0)
print(ncf.MLP_layers, ncf.predict_layer.bias)
fill(ncf)
users, items = torch.tensor([0, 1, 4, 2]), torch.tensor([6, 3, 0, 1])
labels = torch.tensor([1., 0., 1., 0.])
opt = torch.optim.Adam(ncf.parameters(), lr=0.01)
for step in range(3):
    prediction = ncf(users, items)
    loss = nn.BCEWithLogitsLoss()(prediction, labels)
    opt.zero_grad()
    loss.backward()
    opt.step()
    _, indices = torch.topk(prediction, 2)
    recommends = torch.take(items, indices).cpu().numpy().tolist()
    print(f"ncf step {step}: {loss.item():.5f}", recommends)


class Chomp1d(nn.Module):
    def __init__(self, chomp_size):
        super(Chomp1d, self).__init__()
        self.chomp_size = chomp_size

    def forward(self, x):
        return x[:, :, :-self.chomp_size].contiguous()


class TemporalBlock(nn.Module):
    def __init__(self, n_inputs, n_outputs, kernel_size, stride, dilation, padding, dropout=0.2):
        super(TemporalBlock, self).__init__()
        self.conv1 = weight_norm(nn.Conv1d(n_inputs, n_outputs, kernel_size, stride=stride, padding=padding,
                                           dilation=dilation))
        self.chomp1 = Chomp1d(padding)
        self.relu1 = nn.ReLU()
        self.dropout1 = nn.Dropout(dropout)
        self.conv2 = weight_norm(nn.Conv1d(n_outputs, n_outputs, kernel_size, stride=stride, padding=padding,
                                           dilation=dilation))
        self.chomp2 = Chomp1d(padding)
        self.relu2 = nn.ReLU()
        self.dropout2 = nn.Dropout(dropout)
        self.net = nn.Sequential(self.conv1, self.chomp1, self.relu1, self.dropout1,
                                 self.conv2, self.chomp2, self.relu2, self.dropout2)
        self.downsample = nn.Conv1d(n_inputs, n_outputs, 1) if n_inputs != n_outputs else None
        self.relu = nn.ReLU()
        self.init_weights()

    def init_weights(self):
        self.conv1.weight.data.normal_(0, 0.01)
        self.conv2.weight.data.normal_(0, 0.01)
        if self.downsample is not None:
            self.downsample.weight.data.normal_(0, 0.01)

    def forward(self, x):
        out = self.net(x)
        res = x if self.downsample is None else self.downsample(x)
        return self.relu(out + res)


class TemporalConvNet(nn.Module):
    def __init__(self, num_inputs, num_channels, kernel_size=2, dropout=0.0):
        super(TemporalConvNet, self).__init__()
        layers = []
        num_levels = len(num_channels)
        for i in range(num_levels):
            dilation_size = 2 ** i
            in_channels = num_inputs if i == 0 else num_channels[i - 1]
            out_channels = num_channels[i]
            layers += [TemporalBlock(in_channels, out_channels, kernel_size, stride=1, dilation=dilation_size,
                                     padding=(kernel_size - 1) * dilation_size, dropout=dropout)]
        self.network = nn.Sequential(*layers)

    def forward(self, x):
        return self.network(x)


tcn = TemporalConvNet(2, [4, 4], kernel_size=2, dropout=0.0)
linear = nn.Linear(4, 1)
block = tcn.network[0]
print(sorted(n for n, _ in block.conv1.named_parameters()), block.conv1.weight_g.shape, block.conv1.weight.requires_grad)
print(block.conv1, type(block.conv1.weight).__name__, block.conv1.weight.grad_fn.name())
fill(tcn)
fill(linear)
x = torch.from_numpy(rng.normal(size=(3, 2, 7)).astype(np.float32))
y = torch.from_numpy(rng.normal(size=(3, 1)).astype(np.float32))
opt = torch.optim.Adam(list(tcn.parameters()) + list(linear.parameters()), lr=2e-3)
for step in range(3):
    y1 = tcn(x)
    output = linear(y1[:, :, -1])
    loss = F.mse_loss(output, y)
    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(tcn.parameters(), 0.2)
    opt.step()
    print(f"tcn step {step}: {loss.item():.5f}", y1.shape, block.conv1.weight_g.grad.shape)
# causality: changing the last input step changes only the last output step
x2 = x.clone()
x2[:, :, -1] += 1.0
print(torch.equal(tcn(x)[:, :, :-1], tcn(x2)[:, :, :-1]))


class SparsemaxFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, input, dim=-1):
        ctx.dim = dim
        max_val, _ = input.max(dim=dim, keepdim=True)
        input = input - max_val
        tau, supp_size = SparsemaxFunction._threshold_and_support(input, dim=dim)
        output = torch.clamp(input - tau, min=0)
        ctx.save_for_backward(supp_size, output)
        return output

    @staticmethod
    def backward(ctx, grad_output):
        supp_size, output = ctx.saved_tensors
        dim = ctx.dim
        grad_input = grad_output.clone()
        grad_input[output == 0] = 0
        v_hat = grad_input.sum(dim=dim) / supp_size.to(output.dtype).squeeze(dim)
        v_hat = v_hat.unsqueeze(dim)
        grad_input = torch.where(output != 0, grad_input - v_hat, grad_input)
        return grad_input, None

    @staticmethod
    def _threshold_and_support(input, dim=-1):
        input_srt, _ = torch.sort(input, descending=True, dim=dim)
        input_cumsum = input_srt.cumsum(dim) - 1
        d = input.size(dim)
        rho = torch.arange(1, d + 1, device=input.device, dtype=input.dtype)
        view = [1] * input.dim()
        view[0] = -1
        rho = rho.view(view).transpose(0, dim)
        support = rho * input_srt > input_cumsum
        support_size = support.sum(dim=dim).unsqueeze(dim)
        tau = input_cumsum.gather(dim, support_size - 1)
        tau /= support_size.to(input.dtype)
        return tau, support_size


sparsemax = SparsemaxFunction.apply
z = torch.from_numpy(rng.normal(size=(3, 5)) * 1.5).requires_grad_()
p = sparsemax(z, -1)
print(p.detach(), p.sum(-1).detach(), (p > 0).sum(-1))
(p * torch.arange(5.0, dtype=torch.float64)).sum().backward()
print(z.grad)
print(torch.autograd.gradcheck(lambda t: sparsemax(t, 1), (z.detach() + 0.01).requires_grad_(), eps=1e-6, atol=1e-5))
zt = torch.from_numpy(rng.normal(size=(4, 2, 3))).requires_grad_()
print(sparsemax(zt, 0).sum(0).detach())
