# pytorch/examples imagenet: AverageMeter/ProgressMeter with a Summary enum, top-k accuracy, checkpoint save/load with the best accuracy, Subset, StepLR resume.
import io
import os
import shutil
import tempfile
from enum import Enum
import numpy as np
import torch
import torch.nn as nn
import torch.backends.cudnn as cudnn
from torch.utils.data import Subset, TensorDataset, DataLoader


class Summary(Enum):
    NONE = 0
    AVERAGE = 1
    SUM = 2
    COUNT = 3


class AverageMeter(object):
    """Computes and stores the average and current value"""
    def __init__(self, name, fmt=':f', summary_type=Summary.AVERAGE):
        self.name = name
        self.fmt = fmt
        self.summary_type = summary_type
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count

    def all_reduce(self):
        total = torch.tensor([self.sum, self.count], dtype=torch.float32)
        self.sum, self.count = total.tolist()
        self.avg = self.sum / self.count

    def __str__(self):
        fmtstr = '{name} {val' + self.fmt + '} ({avg' + self.fmt + '})'
        return fmtstr.format(**self.__dict__)

    def summary(self):
        fmtstr = ''
        if self.summary_type is Summary.NONE:
            fmtstr = ''
        elif self.summary_type is Summary.AVERAGE:
            fmtstr = '{name} {avg:.3f}'
        elif self.summary_type is Summary.SUM:
            fmtstr = '{name} {sum:.3f}'
        elif self.summary_type is Summary.COUNT:
            fmtstr = '{name} {count:.3f}'
        return fmtstr.format(**self.__dict__)


class ProgressMeter(object):
    def __init__(self, num_batches, meters, prefix=""):
        self.batch_fmtstr = self._get_batch_fmtstr(num_batches)
        self.meters = meters
        self.prefix = prefix

    def display(self, batch):
        entries = [self.prefix + self.batch_fmtstr.format(batch)]
        entries += [str(meter) for meter in self.meters]
        print('\t'.join(entries))

    def display_summary(self):
        entries = [" *"]
        entries += [meter.summary() for meter in self.meters]
        print(' '.join(entries))

    def _get_batch_fmtstr(self, num_batches):
        num_digits = len(str(num_batches // 1))
        fmt = '{:' + str(num_digits) + 'd}'
        return '[' + fmt + '/' + fmt.format(num_batches) + ']'


def accuracy(output, target, topk=(1,)):
    """Computes the accuracy over the k top predictions for the specified values of k"""
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


def save_checkpoint(state, is_best, directory, filename='checkpoint.pth.tar'):
    path = os.path.join(directory, filename)
    torch.save(state, path)
    if is_best:
        shutil.copyfile(path, os.path.join(directory, 'model_best.pth.tar'))


cudnn.benchmark = True
print(torch.cuda.is_available(), torch.backends.mps.is_available(), torch.cuda.device_count(), cudnn.benchmark)
rng = np.random.RandomState(12)
model = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 6))
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.uniform(-0.4, 0.4, p.shape).astype(np.float32)))
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.1)
dataset = TensorDataset(torch.from_numpy(rng.rand(40, 3, 2, 2).astype(np.float32)), torch.from_numpy(rng.randint(0, 6, 40)))
train_dataset = Subset(dataset, range(30))
val_dataset = Subset(dataset, range(30, 40))
print(len(train_dataset), len(val_dataset), type(train_dataset).__name__, train_dataset[0][1])
train_loader = DataLoader(train_dataset, batch_size=10, shuffle=False)
val_loader = DataLoader(val_dataset, batch_size=5, shuffle=False)
best_acc1 = 0
tmp = tempfile.mkdtemp()
for epoch in range(3):
    losses = AverageMeter('Loss', ':.4e')
    top1 = AverageMeter('Acc@1', ':6.2f')
    top5 = AverageMeter('Acc@5', ':6.2f')
    progress = ProgressMeter(len(train_loader), [losses, top1, top5], prefix="Epoch: [{}]".format(epoch))
    model.train()
    for i, (images, target) in enumerate(train_loader):
        output = model(images)
        loss = criterion(output, target)
        acc1, acc5 = accuracy(output, target, topk=(1, 5))
        losses.update(loss.item(), images.size(0))
        top1.update(acc1[0], images.size(0))
        top5.update(acc5[0], images.size(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        progress.display(i + 1)
    model.eval()
    vtop1 = AverageMeter('Acc@1', ':6.2f', Summary.AVERAGE)
    vloss = AverageMeter('Loss', ':.4e', Summary.NONE)
    with torch.no_grad():
        for images, target in val_loader:
            output = model(images)
            acc1, _ = accuracy(output, target, topk=(1, 5))
            vtop1.update(acc1[0], images.size(0))
            vloss.update(criterion(output, target).item(), images.size(0))
    vtop1.all_reduce()
    ProgressMeter(len(val_loader), [vtop1, vloss], prefix='Test: ').display_summary()
    acc1 = vtop1.avg
    scheduler.step()
    is_best = acc1 > best_acc1
    best_acc1 = max(acc1, best_acc1)
    save_checkpoint({
        'epoch': epoch + 1,
        'arch': 'mlp',
        'state_dict': model.state_dict(),
        'best_acc1': best_acc1,
        'optimizer': optimizer.state_dict(),
        'scheduler': scheduler.state_dict()
    }, is_best, tmp)
    print(epoch, is_best, type(acc1).__name__, f"{best_acc1:.3f}", scheduler.get_last_lr())
print(sorted(os.listdir(tmp)))
checkpoint = torch.load(os.path.join(tmp, 'model_best.pth.tar'), map_location='cpu')
print(checkpoint['epoch'], checkpoint['arch'], type(checkpoint['best_acc1']).__name__, list(checkpoint['state_dict'].keys()))
model2 = nn.Sequential(nn.Flatten(), nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 6))
optimizer2 = torch.optim.SGD(model2.parameters(), 0.1, momentum=0.9, weight_decay=1e-4)
scheduler2 = torch.optim.lr_scheduler.StepLR(optimizer2, step_size=2, gamma=0.1)
checkpoint = torch.load(os.path.join(tmp, 'checkpoint.pth.tar'), map_location=torch.device('cpu'), weights_only=True)
print(model2.load_state_dict(checkpoint['state_dict']))
optimizer2.load_state_dict(checkpoint['optimizer'])
scheduler2.load_state_dict(checkpoint['scheduler'])
print(optimizer2.param_groups[0]['lr'], scheduler2.last_epoch, len(optimizer2.state), sorted(optimizer2.state_dict()['state'][0]))
print(torch.equal(model2[1].weight, model[1].weight), checkpoint['optimizer']['param_groups'][0]['momentum'])
shutil.rmtree(tmp)
out = torch.tensor([[0.1, 0.5, 0.2, 0.9], [0.8, 0.1, 0.05, 0.3], [0.2, 0.3, 0.4, 0.1]])
tgt = torch.tensor([3, 1, 0])
print(accuracy(out, tgt, topk=(1, 2, 3)), out.topk(2, 1, True, True), out.topk(2, largest=False, sorted=True).indices)
buffer = io.BytesIO()
torch.save({'t': out, 'meta': Summary.SUM.value}, buffer)
buffer.seek(0)
print(torch.load(buffer)['t'].sum().item() == out.sum().item())
