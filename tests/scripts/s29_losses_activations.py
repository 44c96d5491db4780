# Loss functions and activations on fixed values: reductions, weights, ignore_index, smooth L1, KL, cosine, triplet.
import torch
import torch.nn as nn
import torch.nn.functional as F

logits = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0], [0.3, 0.3, 0.3]], requires_grad=True)
target = torch.tensor([1, 2, 0])
print(F.cross_entropy(logits, target), nn.CrossEntropyLoss(reduction='none')(logits, target))
print(F.cross_entropy(logits, target, weight=torch.tensor([1.0, 2.0, 0.5])), F.cross_entropy(logits, torch.tensor([1, -100, 0]), ignore_index=-100))
print(F.cross_entropy(logits, target, label_smoothing=0.2))
print(F.cross_entropy(logits, F.softmax(torch.tensor([[1.0, 0.0, 0.0]] * 3), dim=1)))
print(F.nll_loss(F.log_softmax(logits, dim=1), target), F.log_softmax(logits, 1).exp().sum(1))
pred = torch.tensor([0.5, 2.0, -1.0])
tgt = torch.tensor([1.0, 1.0, 1.0])
print(F.mse_loss(pred, tgt), F.l1_loss(pred, tgt, reduction='sum'), F.smooth_l1_loss(pred, tgt), F.huber_loss(pred, tgt, delta=0.5))
print(F.binary_cross_entropy(torch.sigmoid(pred), torch.tensor([1.0, 0.0, 1.0])), F.binary_cross_entropy_with_logits(pred, torch.tensor([1.0, 0.0, 1.0])))
print(F.kl_div(F.log_softmax(logits, 1), F.softmax(logits.flip(1), 1), reduction='batchmean'))
print(F.cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[1.0, 1.0]])), F.pairwise_distance(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]])))
print(nn.MarginRankingLoss(margin=0.5)(torch.tensor([1.0, 2.0]), torch.tensor([2.0, 1.0]), torch.tensor([1.0, -1.0])))
print(nn.TripletMarginLoss()(torch.tensor([[0.0, 1.0]]), torch.tensor([[0.0, 1.5]]), torch.tensor([[1.0, 1.0]])))
print(nn.CosineEmbeddingLoss()(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]), torch.tensor([1])))
print(nn.HingeEmbeddingLoss()(torch.tensor([0.3, 2.0]), torch.tensor([1, -1])), nn.SoftMarginLoss()(pred, tgt))
print(nn.MultiLabelSoftMarginLoss()(logits, torch.tensor([[0.0, 1.0, 0.0]] * 3)), nn.PoissonNLLLoss()(pred, tgt), nn.GaussianNLLLoss()(pred, tgt, torch.ones(3)))
loss = F.cross_entropy(logits, target)
loss.backward()
print(logits.grad)
print(loss.grad_fn.name(), F.mse_loss(pred.requires_grad_(), tgt).grad_fn)
x = torch.linspace(-2.5, 2.5, 6)
for f in (F.relu, F.relu6, F.elu, F.selu, F.gelu, F.silu, F.mish, F.softplus, F.softsign, F.hardswish, F.hardsigmoid, F.leaky_relu, torch.sigmoid, torch.tanh, F.logsigmoid, F.tanhshrink, F.hardtanh):
    print(f.__name__, f(x))
print(F.gelu(x, approximate='tanh'), F.softmax(x, dim=0).sum().round(decimals=4), F.softmin(x, 0)[0], F.normalize(torch.tensor([[3.0, 4.0]]), dim=1))
print(F.glu(torch.arange(4.0)), F.threshold(x, 1.0, -1.0), F.celu(x, alpha=2.0), F.log_softmax(x, dim=0)[:2])
print(F.dropout(x, p=0.5, training=False), F.linear(torch.ones(1, 2), torch.ones(3, 2), torch.zeros(3)), F.pad(torch.ones(1, 2), (1, 1), value=0.5))
