"""The process-group state of cgrad.distributed over MPI, as
torch.distributed.distributed_c10d keeps it: the default group (a duplicate
of MPI_COMM_WORLD, so the user's own MPI traffic never mixes with ours),
sub-groups from new_group (MPI communicators, made collectively by every
rank as PyTorch requires), the Work handle of an operation in flight, and
the timeout every wait honours.

Timeouts: a blocking operation runs under a watchdog thread that, past the
group's timeout, prints DistBackendError's message and aborts the job (as
PyTorch's NCCL watchdog tears the process down); Work.wait() polls its MPI
requests instead, and raises DistBackendError. A rank that dies of an
uncaught exception aborts the whole MPI job (after printing its traceback)
instead of leaving the others blocked forever.
"""
import datetime
import os
import sys
import threading
import time
import warnings

from cgrad.distributed import _mpi_buffers

default_pg_timeout = datetime.timedelta(minutes=30)

# The rendezvous variables torchrun sets; under MPI the runtime assigns rank
# and size, and these, when present, must agree with it.
_ENV_RANK, _ENV_WORLD_SIZE = "RANK", "WORLD_SIZE"


class DistError(RuntimeError):
    """Raised when an error occurs in the distributed library."""


class DistBackendError(DistError):
    """Raised when a backend error occurs (a timed-out wait among them)."""


class Backend(str):
    """A backend name, lower-cased; cgrad has MPI only."""
    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    UCC = "ucc"
    MPI = "mpi"
    XCCL = "xccl"
    backend_list = [UNDEFINED, GLOO, NCCL, XCCL, UCC, MPI]
    default_device_backend_map = {"cpu": MPI}

    def __new__(cls, name):
        if not isinstance(name, str):
            raise ValueError("Backend constructor parameter must be string-ish")
        value = getattr(Backend, name.upper(), Backend.UNDEFINED)
        if value == Backend.UNDEFINED:
            value = name.lower()
        return super().__new__(cls, value)


_MISSING_BACKEND = {
    Backend.GLOO: "Distributed package doesn't have Gloo built in",
    Backend.NCCL: "Distributed package doesn't have NCCL built in",
    Backend.UCC: "Distributed package doesn't have UCC built in",
    Backend.XCCL: "Distributed package doesn't have XCCL built in",
}


def check_valid_timeout(timeout):
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {timeout}")


class ProcessGroup:
    """A group of ranks with its own MPI communicator."""

    def __init__(self, comm, global_ranks, timeout, name):
        self._comm = comm
        self._global_ranks = list(global_ranks)
        self._timeout = timeout
        self._name = name

    def rank(self):
        return self._comm.Get_rank()

    def size(self):
        return self._comm.Get_size()

    def name(self):
        return Backend.MPI

    @property
    def group_name(self):
        return self._name

    def __repr__(self):
        return f"<cgrad.distributed.ProcessGroup {self._name} ranks={self._global_ranks}>"


class GroupMember:
    """WORLD is the default group once initialized; NON_GROUP_MEMBER is what
    new_group returns to a rank outside the new group."""
    WORLD = None
    NON_GROUP_MEMBER = -100


class _World:
    default_pg = None
    groups = []          # every live ProcessGroup, the default one first
    group_count = 0
    previous_excepthook = None


_world = _World()


def is_available():
    """Whether cgrad.distributed can run here: mpi4py importable."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available():
    return is_available()


def is_gloo_available():
    return False


def is_nccl_available():
    return False


def is_ucc_available():
    return False


def is_xccl_available():
    return False


def is_initialized():
    return GroupMember.WORLD is not None


def is_torchelastic_launched():
    return os.getenv("TORCHELASTIC_RUN_ID") is not None


def get_default_group():
    if not is_initialized():
        raise ValueError("Default process group has not been initialized, "
                         "please make sure to call init_process_group.")
    return GroupMember.WORLD


def group_or_default(group):
    if group is None or group is GroupMember.WORLD:
        return get_default_group()
    if not isinstance(group, ProcessGroup) or group not in _world.groups:
        raise ValueError("Invalid process group specified")
    return group


def rank_not_in_group(group):
    return group is not None and not isinstance(group, ProcessGroup) and group == GroupMember.NON_GROUP_MEMBER


def warn_not_in_group(op_name, stacklevel=3):
    """PyTorch's warning for a call on a rank outside its group; stacklevel counts
    the frames from here to the user's call (3: called by the API function)."""
    global_rank = -1 if GroupMember.WORLD is None else GroupMember.WORLD.rank()
    warnings.warn(f"Running {op_name} on global rank {global_rank} which does not belong to the given group.",
                  stacklevel=stacklevel)


def group_of_call(op_name, group, stacklevel=4):
    """The process group `op_name` runs on, or None after PyTorch's warning when
    this rank is not in `group` (stacklevel as warn_not_in_group's, one more
    frame: 4 when the API function calls this)."""
    if rank_not_in_group(group):
        warn_not_in_group(op_name, stacklevel=stacklevel)
        return None
    return group_or_default(group)


def _check_env_rendezvous(init_method, MPI):
    """env:// (torchrun's way, the default): RANK and WORLD_SIZE, when set,
    must name this process as MPI does, else the job was launched wrong."""
    if init_method is not None and not init_method.startswith("env://"):
        return
    world = MPI.COMM_WORLD
    for var, actual in ((_ENV_RANK, world.Get_rank()), (_ENV_WORLD_SIZE, world.Get_size())):
        value = os.environ.get(var)
        if value is not None and int(value) != actual:
            raise ValueError(f"Error initializing cgrad.distributed using env:// rendezvous: environment "
                             f"variable {var} is {value} but the MPI runtime assigned {actual}")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None, _ranks=None):
    """Join the job's default process group. MPI (the only backend) assigns
    rank and world size; world_size and rank arguments are ignored with a
    warning, as PyTorch's MPI backend does."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if not ((store is None) or (init_method is None)):
        raise AssertionError("Cannot specify both init_method and store.")
    if timeout is None:
        timeout = default_pg_timeout
    check_valid_timeout(timeout)
    backend = Backend(backend if backend is not None else Backend.MPI)
    if ":" in backend or "," in backend:
        pieces = [p.split(":")[-1].strip() for p in backend.split(",")]
        backend = Backend(pieces[0]) if all(p == Backend.MPI for p in pieces) else Backend(
            next(p for p in pieces if p != Backend.MPI))
    if backend in _MISSING_BACKEND:
        raise RuntimeError(_MISSING_BACKEND[backend])
    if backend != Backend.MPI:
        raise ValueError(f"Unknown backend '{backend}'. Specify a 'device:backend' string "
                         f"or use one of: {sorted(Backend.default_device_backend_map.values())}")
    if not is_available():
        raise RuntimeError("Distributed package doesn't have MPI built in. MPI is only included if you "
                           "install mpi4py and an MPI library (pip install cgrad[distributed]).")
    if world_size != -1 or rank != -1:
        warnings.warn(f"For MPI backend, world_size ({world_size}) and rank ({rank}) are ignored since they "
                      "are assigned by the MPI runtime.", stacklevel=2)
    MPI = _mpi_buffers.mpi()
    _check_env_rendezvous(init_method, MPI)
    world = MPI.COMM_WORLD
    pg = ProcessGroup(world.Dup(), range(world.Get_size()), timeout, group_name or "0")
    _world.default_pg = pg
    _world.groups = [pg]
    _world.group_count = 1
    GroupMember.WORLD = pg
    if world.Get_size() > 1:
        _install_abort_on_uncaught_exception()


def _install_abort_on_uncaught_exception():
    """A rank that dies of an exception prints it, then aborts every rank:
    the others would otherwise wait forever for its next message."""
    if _world.previous_excepthook is not None:
        return
    previous = sys.excepthook

    def abort_job(exc_type, exc, tb):
        previous(exc_type, exc, tb)
        sys.stderr.flush()
        sys.stdout.flush()
        _mpi_buffers.mpi().COMM_WORLD.Abort(1)

    _world.previous_excepthook = previous
    sys.excepthook = abort_job


def destroy_process_group(group=None):
    """Free `group`'s communicator, or with no argument every group (the
    default one included), after which init_process_group may run again."""
    if group is None or group is GroupMember.WORLD:
        if GroupMember.WORLD is None:
            raise AssertionError("Process group cannot be None")
        for pg in _world.groups:
            pg._comm.Free()
        _world.groups = []
        _world.default_pg = None
        GroupMember.WORLD = None
        _mpi_buffers.free_user_ops()
        if _world.previous_excepthook is not None:
            sys.excepthook = _world.previous_excepthook
            _world.previous_excepthook = None
        return
    if rank_not_in_group(group):
        return
    if group not in _world.groups:
        raise ValueError("Invalid process group specified or has been destroyed.")
    group._comm.Free()
    _world.groups.remove(group)


def get_rank(group=None):
    """This process's rank in `group` (-1 outside it)."""
    if rank_not_in_group(group):
        return -1
    return group_or_default(group).rank()


def get_world_size(group=None):
    """The number of ranks in `group` (-1 outside it)."""
    if rank_not_in_group(group):
        return -1
    return group_or_default(group).size()


def get_backend(group=None):
    if rank_not_in_group(group):
        raise ValueError("Invalid process group specified")
    group_or_default(group)
    return Backend(Backend.MPI)


def get_process_group_ranks(group):
    return list(group_or_default(group)._global_ranks)


def get_global_rank(group, group_rank):
    if group is GroupMember.WORLD:
        return group_rank
    ranks = group_or_default(group)._global_ranks
    if not 0 <= group_rank < len(ranks):
        raise ValueError(f"Group rank {group_rank} is not part of group {group}")
    return ranks[group_rank]


def get_group_rank(group, global_rank):
    if group is GroupMember.WORLD:
        return global_rank
    ranks = group_or_default(group)._global_ranks
    if global_rank not in ranks:
        raise ValueError(f"Global rank {global_rank} is not part of group {group}")
    return ranks.index(global_rank)


def new_group(ranks=None, timeout=None, backend=None, pg_options=None, use_local_synchronization=False,
              group_desc=None, device_id=None, sort_ranks=True):
    """A group of `ranks` (all of them by default). Every rank of the default
    group calls it, members or not; non-members get NON_GROUP_MEMBER."""
    world = get_default_group()
    if backend is not None and Backend(backend) != Backend.MPI:
        if Backend(backend) in _MISSING_BACKEND:
            raise RuntimeError(_MISSING_BACKEND[Backend(backend)])
        raise ValueError(f"Unknown backend '{backend}'. Specify a 'device:backend' string "
                         f"or use one of: {sorted(Backend.default_device_backend_map.values())}")
    if timeout is None:
        timeout = world._timeout
    check_valid_timeout(timeout)
    world_size = world.size()
    if ranks is None or len(ranks) == 0:
        ranks = list(range(world_size))
    else:
        ranks = list(ranks)
        for r in ranks:
            if r < 0 or r >= world_size:
                raise ValueError("The new group's rank should be within the world_size set by init_process_group")
        if sort_ranks:
            ranks = sorted(ranks)
    MPI = _mpi_buffers.mpi()
    members = world._comm.Get_group().Incl(ranks)
    comm = world._comm.Create(members)    # collective over the whole default group
    members.Free()
    _world.group_count += 1
    if comm == MPI.COMM_NULL:
        return GroupMember.NON_GROUP_MEMBER
    pg = ProcessGroup(comm, ranks, timeout, group_desc or str(_world.group_count - 1))
    _world.groups.append(pg)
    return pg


class Work:
    """An operation in flight (what async_op=True and isend/irecv return).
    wait() polls its MPI requests until done or the group's timeout passes,
    then runs the operation's finishing step (AVG's division, copies out)."""

    def __init__(self, requests, group, op_name, finish=None, result=()):
        self._requests = list(requests)
        self._group = group
        self._op_name = op_name
        self._finish = finish
        self._result = list(result)
        self._completed = False
        self._exception = None

    def _complete(self):
        self._completed = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def is_completed(self):
        if not self._completed and _mpi_buffers.mpi().Request.Testall(self._requests):
            self._complete()
        return self._completed

    def is_success(self):
        return self.is_completed() and self._exception is None

    def exception(self):
        return self._exception

    def source_rank(self):
        status = getattr(self, "_status", None)
        if status is None:
            raise RuntimeError("It is only valid to call source_rank on a recv work")
        self.wait()
        return status.Get_source()

    def result(self):
        self.wait()
        return self._result

    def wait(self, timeout=None):
        if self._completed:
            return True
        limit = self._group._timeout if timeout is None else timeout
        if isinstance(limit, datetime.timedelta):
            limit = limit.total_seconds()
        poll_until_done(self._requests, limit, self._group, self._op_name, getattr(self, "_status", None))
        self._complete()
        return True

    def synchronize(self):
        self.wait()

    def get_future(self):
        raise RuntimeError("cgrad.distributed.Work has no future: call wait()")


def timeout_message(group, op_name, limit_seconds):
    rank = GroupMember.WORLD.rank() if GroupMember.WORLD is not None else -1
    return (f"[Rank {rank}] Timed out after {limit_seconds * 1000:.0f} ms waiting for {op_name} to complete on "
            f"process group {group._name} (timeout={datetime.timedelta(seconds=limit_seconds)})")


def poll_until_done(requests, limit_seconds, group, op_name, status=None):
    """Test the requests until all complete, reading the clock every 64
    tests. No sleeping: an MPI collective advances only while its ranks call
    into MPI, so a sleeping rank stalls every step of a ring. Between rounds
    the CPU is yielded, so on a busy or oversubscribed machine the rank
    waited for can run (the main job's 2-rank epoch took half the time with
    it on this 2-core machine under load; a yield with nothing else to run
    returns at once)."""
    Request = _mpi_buffers.mpi().Request
    if len(requests) == 1:
        request = requests[0]

        def done():
            return request.Test(status) if status is not None else request.Test()
    else:
        def done():
            return Request.Testall(requests)
    start = time.monotonic()
    tests = 0
    while not done():
        tests += 1
        if tests % 64 == 0:
            if time.monotonic() - start > limit_seconds:
                raise DistBackendError(timeout_message(group, op_name, limit_seconds))
            os.sched_yield()


class _Watchdog:
    """One daemon thread watching the deadline of the blocking operation in
    progress, if any. Arming it is two attribute writes (no lock, no
    wake-up: notifying a thread per operation cost more than a small
    all_reduce); the thread looks every quarter of the shortest timeout
    seen, at most every half second."""

    def __init__(self):
        self._deadline = None
        self._what = None
        self._interval = 0.5
        self._thread = None

    def guard(self, group, op_name, timeout=None):
        limit = group._timeout if timeout is None else timeout
        limit = limit.total_seconds() if isinstance(limit, datetime.timedelta) else float(limit)
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="cgrad-distributed-watchdog", daemon=True)
            self._thread.start()
        if limit / 4 < self._interval:
            self._interval = max(limit / 4, 0.01)
        self._what = (group, op_name, limit)
        self._deadline = time.monotonic() + limit
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._deadline = None
        return False

    def _watch(self):
        while True:
            time.sleep(self._interval)
            deadline, what = self._deadline, self._what
            if deadline is None or time.monotonic() < deadline or what is None:
                continue
            group, op_name, limit = what
            sys.stdout.flush()
            sys.stderr.write(f"cgrad.distributed.DistBackendError: {timeout_message(group, op_name, limit)}\n"
                             "(the blocking operation cannot be interrupted: aborting the job)\n")
            sys.stderr.flush()
            _mpi_buffers.mpi().COMM_WORLD.Abort(1)


watchdog = _Watchdog()


for _public in (DistError, DistBackendError, Backend, ProcessGroup, GroupMember, Work):
    _public.__module__ = "cgrad.distributed"
