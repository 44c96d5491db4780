# The reproducibility notes: manual_seed, use_deterministic_algorithms, cudnn flags, seed_worker with initial_seed, a DataLoader with its own Generator, generator state save/restore, fork_rng.
import random
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
random.seed(0)
np.random.seed(0)
torch.use_deterministic_algorithms(True)
print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
torch.use_deterministic_algorithms(True, warn_only=True)
print(torch.is_deterministic_algorithms_warn_only_enabled())
torch.use_deterministic_algorithms(False)
torch.backends.cudnn.benchmark = False
torch.backends.cudnn.deterministic = True
print(torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
print(torch.initial_seed())


def seed_worker(worker_id):
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


g = torch.Generator()
g.manual_seed(0)
print(g.initial_seed(), type(g).__name__, g.device)
dataset = TensorDataset(torch.arange(10).float(), torch.arange(10))
loader = DataLoader(dataset, batch_size=3, shuffle=True, num_workers=0, worker_init_fn=seed_worker, generator=g)
first = [y.tolist() for _, y in loader]
g.manual_seed(0)
second = [y.tolist() for _, y in loader]
print(first == second, sorted(sum(first, [])) == list(range(10)), [len(b) for b in first])
state = g.get_state()
a = torch.rand(3, generator=g)
g.set_state(state)
b = torch.rand(3, generator=g)
print(torch.equal(a, b), state.dtype, state.shape)
torch.manual_seed(1)
s = torch.get_rng_state()
x1 = torch.randn(2)
torch.set_rng_state(s)
x2 = torch.randn(2)
print(torch.equal(x1, x2))
with torch.random.fork_rng():
    torch.manual_seed(123)
    inside = torch.rand(1)
after = torch.rand(1)
torch.set_rng_state(s)
torch.randn(2)
print(torch.equal(after, torch.rand(1)), inside.shape)
print(torch.seed() >= 0, isinstance(torch.initial_seed(), int))
gen2 = torch.Generator().manual_seed(42)
print(torch.randint(0, 10, (5,), generator=gen2).shape, torch.randperm(6, generator=gen2).sort().values)
