# A custom Dataset and DataLoader: __len__/__getitem__, batching, collate of dicts and tuples, drop_last.
import numpy as np
import torch
from torch.utils.data import Dataset, DataLoader, random_split, Subset, ConcatDataset


class SquaresDataset(Dataset):
    def __init__(self, n):
        self.x = np.arange(n, dtype=np.float32)

    def __len__(self):
        return len(self.x)

    def __getitem__(self, idx):
        return {"x": torch.tensor([self.x[idx]]), "y": self.x[idx] ** 2, "idx": idx}


ds = SquaresDataset(10)
print(len(ds), ds[3])
dl = DataLoader(ds, batch_size=4, shuffle=False)
for batch in dl:
    print(batch["x"].shape, batch["y"], batch["idx"])
dl = DataLoader(ds, batch_size=4, drop_last=True)
print(len(dl), [b["idx"].tolist() for b in dl])


class PairDataset(Dataset):
    def __getitem__(self, i):
        return np.full((2,), i, dtype=np.int64), float(i) / 2

    def __len__(self):
        return 5


for xb, yb in DataLoader(PairDataset(), batch_size=2):
    print(xb, xb.dtype, yb, yb.dtype)


def collate(batch):
    xs, ys = zip(*batch)
    return torch.stack([torch.from_numpy(x) for x in xs]), torch.tensor(ys)


print(next(iter(DataLoader(PairDataset(), batch_size=3, collate_fn=collate))))
sub = Subset(ds, [1, 3, 5])
print(len(sub), sub[1]["idx"])
cat = ConcatDataset([PairDataset(), PairDataset()])
print(len(cat), cat[7][1])
g = torch.Generator().manual_seed(0)
a, b = random_split(range(10), [7, 3], generator=g)
print(len(a), len(b), sorted(list(a) + list(b)))
a, b = random_split(range(10), [0.8, 0.2])
print(len(a), len(b))
dl = DataLoader(ds, batch_size=3, shuffle=True)
seen = sorted(i for batch in dl for i in batch["idx"].tolist())
print(seen, len(dl))
print(type(dl.dataset).__name__, dl.batch_size)
