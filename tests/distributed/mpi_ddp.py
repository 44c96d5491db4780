"""Run under mpirun: DistributedDataParallel training of the main job's
model (cgrad.examples.train's CNN on the digits) in float64 gives, after 20
SGD steps, the weights one process gets training on the whole global batch
(to 1e-12), for several bucket layouts, gradient_as_bucket_view, no_sync
accumulation and find_unused_parameters; checkpoints saved from rank 0 load
into a plain model; DistributedSampler shares the data out."""
import os
import sys
import tempfile


import cgrad
import cgrad.distributed as dist
from cgrad.examples.digits import DigitsDataset
from cgrad.examples.train import build_model
from cgrad.nn.parallel import DistributedDataParallel as DDP
from cgrad.utils.data import DataLoader, DistributedSampler, TensorDataset

GLOBAL_BATCH, STEPS, CLASSES = 24, 20, 10
TOLERANCE = 1e-12


def data():
    digits = DigitsDataset(cgrad)
    return digits.images[:240].double(), digits.labels[:240]


def model_for(rank):
    cgrad.manual_seed(100 + rank)       # different on every rank: DDP must broadcast rank 0's
    return build_model(cgrad).double()


def batch(x, y, step, lo, hi):
    start = (step * GLOBAL_BATCH) % (len(y) - GLOBAL_BATCH)
    return x[start + lo:start + hi], y[start + lo:start + hi]


def train_reference(x, y, micro_batches=1):
    model = model_for(0)
    opt = cgrad.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = cgrad.nn.CrossEntropyLoss()
    for step in range(STEPS):
        opt.zero_grad()
        for m in range(micro_batches):
            xb, yb = batch(x, y, step * micro_batches + m, 0, GLOBAL_BATCH)
            loss_fn(model(xb), yb).backward()
        opt.step()
    return [p.detach().clone() for p in model.parameters()]


def train_ddp(x, y, rank, size, micro_batches=1, **ddp_args):
    ddp = DDP(model_for(rank), **ddp_args)
    opt = cgrad.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    loss_fn = cgrad.nn.CrossEntropyLoss()
    share = GLOBAL_BATCH // size
    for step in range(STEPS):
        opt.zero_grad()
        for m in range(micro_batches):
            xb, yb = batch(x, y, step * micro_batches + m, rank * share, (rank + 1) * share)
            if m < micro_batches - 1:
                with ddp.no_sync():
                    loss_fn(ddp(xb), yb).backward()
            else:
                loss_fn(ddp(xb), yb).backward()
        opt.step()
    return ddp


def max_difference(params, reference):
    return max(float((p.detach() - r).abs().max()) for p, r in zip(params, reference))


def check_equal_to_reference(x, y, rank, size, micro_batches=1, **ddp_args):
    reference = train_reference(x, y, micro_batches)
    ddp = train_ddp(x, y, rank, size, micro_batches, **ddp_args)
    diff = max_difference(ddp.module.parameters(), reference)
    if not diff <= TOLERANCE:
        raise AssertionError(f"DDP {ddp_args} micro_batches={micro_batches}: max |difference| {diff:.3e}")
    others = [None] * size
    dist.all_gather_object(others, [p.detach().numpy().tobytes() for p in ddp.module.parameters()])
    if any(o != others[0] for o in others):
        raise AssertionError("replicas differ across ranks")
    return ddp, diff


class TwoHeads(cgrad.nn.Module):
    """A model whose second head is used only on even steps."""

    def __init__(self):
        super().__init__()
        self.body = cgrad.nn.Linear(64, 4)
        self.head = cgrad.nn.Linear(4, CLASSES)
        self.spare = cgrad.nn.Linear(4, CLASSES)

    def forward(self, x, use_spare):
        h = self.body(x.flatten(1)).relu()
        return self.head(h) + (self.spare(h) if use_spare else 0)


def check_unused_parameters(x, y, rank, size):
    cgrad.manual_seed(7)
    ddp = DDP(TwoHeads().double(), find_unused_parameters=True)
    cgrad.manual_seed(7)
    plain = TwoHeads().double()
    loss_fn = cgrad.nn.CrossEntropyLoss()
    share = GLOBAL_BATCH // size
    xb, yb = batch(x, y, 0, rank * share, (rank + 1) * share)
    loss_fn(ddp(xb, False), yb).backward()
    assert ddp.module.spare.weight.grad is None          # unused everywhere: left alone
    loss_fn(plain(*batch(x, y, 0, 0, GLOBAL_BATCH)[:1], False), batch(x, y, 0, 0, GLOBAL_BATCH)[1]).backward()
    assert max_difference([ddp.module.head.weight.grad], [plain.head.weight.grad]) <= TOLERANCE
    # without detection, an unused parameter leaves the reduction unfinished: the next forward says so
    strict = DDP(TwoHeads().double())
    loss_fn(strict(xb, False), yb).backward()
    try:
        strict(xb, False)
        raise AssertionError("unfinished reduction not reported")
    except RuntimeError as e:
        assert str(e).startswith("Expected to have finished reduction in the prior iteration"), e


def check_checkpoint(ddp, rank):
    keys = list(ddp.state_dict())
    assert keys and all(k.startswith("module.") for k in keys), keys
    path = os.path.join(tempfile.gettempdir(), f"cgrad_ddp_{os.environ.get('TORCHELASTIC_RUN_ID', 'x')}_"
                        f"{os.getppid()}.pt")
    if rank == 0:
        cgrad.save(ddp.module.state_dict(), path)
    dist.barrier()
    fresh = build_model(cgrad).double()
    fresh.load_state_dict(cgrad.load(path))
    assert max_difference(fresh.parameters(), [p.detach() for p in ddp.module.parameters()]) == 0
    dist.barrier()
    if rank == 0:
        os.remove(path)


def check_sampler(rank, size):
    dataset = TensorDataset(cgrad.arange(23))
    sampler = DistributedSampler(dataset, shuffle=True, seed=4)
    sampler.set_epoch(2)
    loader = DataLoader(dataset, batch_size=4, sampler=sampler)
    mine = [int(v) for (b,) in loader for v in b.tolist()]
    everyone = [None] * size
    dist.all_gather_object(everyone, mine)
    seen = sorted(v for part in everyone for v in part)
    assert len(mine) == len(sampler) == -(-23 // size)
    assert set(seen) == set(range(23)) and len(seen) == len(sampler) * size


def main():
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    x, y = data()
    results = []
    ddp, diff = check_equal_to_reference(x, y, rank, size)
    results.append(("default buckets", diff))
    results.append(("bucket_cap_mb=0.0005", check_equal_to_reference(x, y, rank, size, bucket_cap_mb=0.0005)[1]))
    results.append(("gradient_as_bucket_view", check_equal_to_reference(
        x, y, rank, size, gradient_as_bucket_view=True, bucket_cap_mb=0.001)[1]))
    results.append(("no_sync x2", check_equal_to_reference(x, y, rank, size, micro_batches=2)[1]))
    assert len(ddp._buckets) == 1
    check_unused_parameters(x, y, rank, size)
    check_checkpoint(ddp, rank)
    check_sampler(rank, size)
    if rank == 0:
        print(f"DDP on {size} ranks equals one process on the global batch after {STEPS} steps: " +
              ", ".join(f"{name} max|diff| {d:.1e}" for name, d in results), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
