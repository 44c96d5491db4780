# Evaluation idioms: confusion matrix with bincount, top-k accuracy, per-class accuracy, where with scalars, stable sort, running averages.
import torch

preds = torch.tensor([0, 2, 1, 1, 0, 2, 2, 1, 0, 0])
labels = torch.tensor([0, 1, 1, 1, 0, 2, 0, 1, 2, 0])
n = 3
cm = torch.bincount(n * labels + preds, minlength=n * n).reshape(n, n)
print(cm)
print(cm.diag() / cm.sum(1), cm.diag().sum().item() / cm.sum().item())
per_class = [(preds[labels == c] == c).float().mean().item() for c in range(n)]
print([round(v, 4) for v in per_class])
tp = ((preds == 1) & (labels == 1)).sum()
fp = ((preds == 1) & (labels != 1)).sum()
fn = ((preds != 1) & (labels == 1)).sum()
precision = tp / (tp + fp)
recall = tp / (tp + fn)
print(precision, recall, 2 * precision * recall / (precision + recall))
logits = torch.tensor([[0.1, 0.5, 0.4], [0.8, 0.15, 0.05], [0.3, 0.3, 0.4], [0.2, 0.7, 0.1]])
targets = torch.tensor([2, 0, 1, 1])


def accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


print(accuracy(logits, targets, topk=(1, 2)))
print(torch.where(logits > 0.3, 1.0, 0.0), torch.where(targets > 0, targets, -1))
print(torch.sort(torch.tensor([3, 1, 2, 1, 3]), stable=True), torch.argsort(torch.tensor([2.0, 1.0, 2.0]), descending=True, stable=True))
print(torch.clamp(torch.tensor([-5, 0, 5]), min=-1, max=1), torch.tensor([1, 2, 3]).float().mean(), torch.tensor([[1, 2], [3, 4]]).sum(dtype=torch.float64))
print(logits.argmax(dim=1, keepdim=True), logits.max(dim=1).values, logits.softmax(-1).max(-1))


class AverageMeter:
    def __init__(self):
        self.sum, self.count = 0.0, 0

    def update(self, val, n=1):
        self.sum += val * n
        self.count += n

    @property
    def avg(self):
        return self.sum / self.count


meter = AverageMeter()
for loss in torch.tensor([0.5, 0.25, 0.125]):
    meter.update(loss.item(), 4)
print(f"{meter.avg:.4f}")
scores = torch.tensor([0.9, 0.1, 0.8, 0.4])
y = torch.tensor([1, 0, 1, 0])
order = scores.argsort(descending=True)
print(torch.cumsum(y[order], 0), torch.quantile(scores, torch.tensor([0.25, 0.75])), scores.kthvalue(2))
print(torch.nn.functional.one_hot(y).float().mean(0), torch.histc(scores, bins=2, min=0, max=1))
print(torch.all(scores > 0), torch.any(scores > 0.85).item(), scores.nonzero(as_tuple=True), (scores > 0.5).nonzero().flatten())
