# Errors new users hit, with the texts scripts print when they catch them.
import torch
import torch.nn as nn
import torch.nn.functional as F


def show(fn):
    try:
        fn()
        print("no error")
    except Exception as e:
        print(type(e).__name__ + ":", e)


show(lambda: torch.ones(2, 3) @ torch.ones(2, 3))
show(lambda: torch.mm(torch.ones(2, 3), torch.ones(2, 3)))
show(lambda: torch.ones(2, 3) + torch.ones(3, 2))
show(lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]))
show(lambda: torch.stack([torch.ones(2), torch.ones(3)]))
show(lambda: torch.ones(3)[5])
show(lambda: torch.ones(2, 3).view(4))
show(lambda: torch.ones(2, 3).reshape(4))
show(lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0.0, 1.0])))
show(lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 3])))
show(lambda: nn.Linear(4, 2)(torch.ones(3)))
show(lambda: nn.Conv2d(3, 8, 3)(torch.ones(1, 1, 8, 8)))
show(lambda: torch.ones(2).item())
show(lambda: torch.tensor([1, 2]).mean())
show(lambda: torch.ones(2, requires_grad=True).numpy())
show(lambda: torch.tensor([[1, 2], [3]]))
show(lambda: torch.zeros(2, 2).squeeze(3))
show(lambda: torch.ones(2, 3).transpose(0, 2))
show(lambda: torch.ones(2).sum(dim=1))
show(lambda: F.mse_loss(torch.ones(2, 1), torch.ones(2)))
show(lambda: torch.ones(2).long() + torch.ones(2, dtype=torch.bool))
show(lambda: torch.ones(3, dtype=torch.long).float().requires_grad_().long().requires_grad_())
show(lambda: nn.Embedding(5, 2)(torch.tensor([5])))
show(lambda: nn.Embedding(5, 2)(torch.tensor([1.0])))
show(lambda: torch.gather(torch.ones(2, 2), 1, torch.tensor([[0, 2]])))
show(lambda: torch.ones(2, 2).masked_fill(torch.ones(2, 2), 0))
show(lambda: torch.randn(2, 3).max(dim=2))
show(lambda: torch.tensor([1.0]).to("cuda"))
show(lambda: torch.nn.BatchNorm1d(3)(torch.ones(1, 3)))
show(lambda: nn.LSTM(3, 4)(torch.ones(5, 2, 4)))
show(lambda: torch.optim.SGD(torch.ones(2), lr=0.1))
show(lambda: torch.load("/nonexistent/file.pt"))
