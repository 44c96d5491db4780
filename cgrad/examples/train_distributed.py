"""The main job's --distributed mode: the same CNN, digits and Adam, trained
data-parallel with DistributedDataParallel. A DistributedSampler gives each
rank its share of every epoch's shuffled training set (--batch is the global
batch, split evenly over the ranks); DDP averages the gradients, so the run
follows one process's training on global batches of the same size. Rank 0
reports."""
import time

import cgrad
import cgrad.distributed as dist
from cgrad.examples.digits import DigitsDataset
from cgrad.examples.train import EVAL_BATCH, build_model, evaluate, format_seconds, split_indices
from cgrad.nn.parallel import DistributedDataParallel
from cgrad.utils.data import DataLoader, DistributedSampler, Subset


def train_distributed(args, init_weights):
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    if args.batch < size:
        raise ValueError(f"--batch {args.batch} leaves some of the {size} ranks an empty share")
    full = DigitsDataset(cgrad)
    train_idx, test_idx = split_indices(len(full), args.seed)
    train_set, test_set = Subset(full, train_idx), Subset(full, test_idx)
    sampler = DistributedSampler(train_set, num_replicas=size, rank=rank, shuffle=True, seed=args.seed + 1)
    loader = DataLoader(train_set, batch_size=args.batch // size, sampler=sampler)
    test_loader = DataLoader(test_set, batch_size=EVAL_BATCH)
    model = DistributedDataParallel(build_model(cgrad, init_weights))
    opt = cgrad.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = cgrad.nn.CrossEntropyLoss()
    if rank == 0:
        print(f"distributed: {size} ranks, global batch {args.batch} ({args.batch // size} per rank), "
              f"{args.epochs} epochs, CNN conv16-conv32-fc64-fc10 on the digits", flush=True)
    seconds = 0.0
    loss_sum = cgrad.zeros(2, dtype=cgrad.float64)
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        loss_sum.zero_()
        for xb, yb in loader:
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += cgrad.tensor([loss.item() * len(yb), float(len(yb))], dtype=cgrad.float64)
        seconds += time.perf_counter() - t0
        dist.all_reduce(loss_sum)
        if rank == 0 and not args.no_progress:
            print(f"epoch {epoch + 1}/{args.epochs} loss {float(loss_sum[0] / loss_sum[1]):.4f} "
                  f"test acc {evaluate(cgrad, model.module, test_loader)[0]:.3f}", flush=True)
    times = [None] * size
    dist.all_gather_object(times, seconds)
    if rank == 0:
        slowest = max(times)
        train_eval = DataLoader(train_set, batch_size=EVAL_BATCH)
        print(f"\ncgrad on {size} ranks: final loss {float(loss_sum[0] / loss_sum[1]):.4f} "
              f"train acc {evaluate(cgrad, model.module, train_eval)[0]:.3f} "
              f"test acc {evaluate(cgrad, model.module, test_loader)[0]:.3f} "
              f"time {format_seconds(slowest)} ({format_seconds(slowest / args.epochs)} per epoch)", flush=True)
    dist.destroy_process_group()
    return 0
