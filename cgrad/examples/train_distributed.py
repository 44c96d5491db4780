"""The main job's --distributed mode: the same MLP, data and Adam, trained
data-parallel with DistributedDataParallel. Every rank draws the same
shuffled order of global mini-batches (--batch points each) and takes its
share of each; DDP averages the gradients, so the run follows one
process's training on the same global batches. Rank 0 reports."""
import time

import numpy as np

import cgrad
import cgrad.distributed as dist
from cgrad.examples.train import accuracy, build, format_seconds
from cgrad.nn.parallel import DistributedDataParallel


def train_distributed(args, data, init_weights):
    dist.init_process_group("mpi")
    rank, size = dist.get_rank(), dist.get_world_size()
    (xtr, ytr), (xte, yte) = data
    model = DistributedDataParallel(build(cgrad, args.hidden, args.classes, init_weights))
    opt = cgrad.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = cgrad.nn.CrossEntropyLoss()
    xtr_t, ytr_t, xte_t, yte_t = cgrad.tensor(xtr), cgrad.tensor(ytr), cgrad.tensor(xte), cgrad.tensor(yte)
    n = len(ytr)
    rng = np.random.default_rng(args.seed + 1)
    if rank == 0:
        print(f"distributed: {size} ranks, global batch {args.batch} ({args.batch // size}+ per rank), "
              f"{args.epochs} epochs, MLP 2-{args.hidden}-{args.hidden}-{args.classes}", flush=True)
    seconds = 0.0
    loss_sum = cgrad.zeros(2, dtype=cgrad.float64)
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        order = rng.permutation(n)
        loss_sum.zero_()
        for start in range(0, n, args.batch):
            mine = cgrad.tensor(order[start:start + args.batch][rank::size])
            if len(mine) == 0:
                raise ValueError(f"--batch {args.batch} leaves rank {rank} of {size} an empty share")
            loss = loss_fn(model(xtr_t[mine]), ytr_t[mine])
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += cgrad.tensor([loss.item() * len(mine), float(len(mine))], dtype=cgrad.float64)
        seconds += time.perf_counter() - t0
        dist.all_reduce(loss_sum)
        if rank == 0 and not args.no_progress:
            print(f"epoch {epoch + 1}/{args.epochs} loss {float(loss_sum[0] / loss_sum[1]):.4f} "
                  f"test acc {accuracy(cgrad, model.module, xte_t, yte_t):.3f}", flush=True)
    times = [None] * size
    dist.all_gather_object(times, seconds)
    if rank == 0:
        slowest = max(times)
        print(f"\ncgrad on {size} ranks: final loss {float(loss_sum[0] / loss_sum[1]):.4f} "
              f"train acc {accuracy(cgrad, model.module, xtr_t, ytr_t):.3f} "
              f"test acc {accuracy(cgrad, model.module, xte_t, yte_t):.3f} "
              f"time {format_seconds(slowest)} ({format_seconds(slowest / args.epochs)} per epoch)", flush=True)
    dist.destroy_process_group()
    return 0
