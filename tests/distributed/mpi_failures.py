"""Run under mpirun: a rank that fails must bring the whole job down with its
error shown, never leave the others waiting. `raise`: rank 1 raises while
rank 0 waits in an all_reduce. `timeout`: rank 1 is late to an all_reduce
past the group's timeout: rank 0's watchdog reports DistBackendError and
aborts the job (the blocking call cannot be interrupted); `timeout_async`:
the same late rank, and rank 0's Work.wait() raises DistBackendError."""
import datetime
import sys
import time

import cgrad
import cgrad.distributed as dist


def main(mode):
    dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=2))
    rank = dist.get_rank()
    t = cgrad.ones(3)
    if rank == 1:
        if mode == "raise":
            raise ValueError("rank 1 fails on purpose")
        time.sleep(60)
    if mode == "timeout_async":
        dist.all_reduce(t, async_op=True).wait()
    else:
        dist.all_reduce(t)
    print("rank", rank, "was not stopped", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
