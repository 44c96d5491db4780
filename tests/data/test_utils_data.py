"""cgrad.utils.data against torch.utils.data: datasets, random_split,
samplers (index sets, orders where deterministic, lengths), default_collate
and default_convert (structure and dtypes), DataLoader (batches, len, checks,
errors) in the main process and with worker processes (kept small and every
wait bounded by timeout= so a broken worker cannot hang the suite)."""
import collections
import os
import time
import warnings

import numpy as np
import pytest

import cgrad
from cgrad.utils import data as cdata
from helpers import requires_torch, torch

tdata = None if torch is None else torch.utils.data
LIBS = [(cgrad, cdata)] + ([] if torch is None else [(torch, tdata)])


def struct(x):
    """A comparable picture of a collated batch: containers by type, tensors
    by dtype, shape and values."""
    if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, np.ndarray):
        return ("tensor", str(x.dtype).split(".")[-1], tuple(x.shape), x.tolist())
    if isinstance(x, dict):
        return (type(x).__name__, {k: struct(v) for k, v in x.items()})
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return ("namedtuple", type(x).__name__, [struct(v) for v in x])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [struct(v) for v in x])
    if isinstance(x, np.ndarray):
        return ("ndarray", str(x.dtype), x.tolist())
    return (type(x).__name__, x)


def outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return (type(e), str(e).replace("torch.", "cgrad."))


def both(fn):
    """fn(lib, data) through cgrad and torch: the two outcomes."""
    if torch is None:
        pytest.skip("torch not installed")
    return outcome(lambda: fn(cgrad, cdata)), outcome(lambda: fn(torch, tdata))


class Squares(cdata.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i >= self.n:
            raise IndexError(i)
        return cgrad.tensor([float(i), float(i * i)]), i


class Failing(cdata.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise ValueError("bad sample 2")
        return i


class Slow(cdata.Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(3)
        return i


class Stream(cdata.IterableDataset):
    """0..n-1, each worker yielding its own stride of it."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __iter__(self):
        info = cdata.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        for i in range(start, self.n, step):
            yield i


class WorkerIds(cdata.Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = cdata.get_worker_info()
        return (i, info.id, info.num_workers, info.seed, cgrad.rand(1).item(), os.getpid(),
                os.environ.get("CGRAD_TEST_INIT"))


def init_worker(worker_id):
    os.environ["CGRAD_TEST_INIT"] = f"init{worker_id}"


# ---------------------------------------------------------------------------
# Datasets and random_split


def test_tensor_dataset_subset_concat_stack_chain():
    x, y = cgrad.arange(10.).view(5, 2), cgrad.arange(5)
    ds = cdata.TensorDataset(x, y)
    assert len(ds) == 5 and ds[2][0].tolist() == [4., 5.] and ds[2][1].item() == 2
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        cdata.TensorDataset(x, cgrad.arange(4))
    sub = cdata.Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4 and [s[1].item() for s in sub.__getitems__([1, 0])] == [0, 4]
    cat = ds + sub
    assert isinstance(cat, cdata.ConcatDataset) and len(cat) == 7 and cat.cumulative_sizes == [5, 7]
    assert cat[5][1].item() == 4 and cat[-1][1].item() == 0 and cat[-7][1].item() == 0
    with pytest.raises(ValueError, match="^absolute value of index should not exceed dataset length$"):
        cat[-8]
    with pytest.raises(AssertionError, match="^datasets should not be an empty iterable$"):
        cdata.ConcatDataset([])
    stack = cdata.StackDataset(a=ds, b=ds)
    assert set(stack[1]) == {"a", "b"} and len(stack) == 5
    with pytest.raises(ValueError, match="^Size mismatch between datasets$"):
        cdata.StackDataset(ds, sub)
    chain = Stream(3) + Stream(2)
    assert isinstance(chain, cdata.ChainDataset) and list(chain) == [0, 1, 2, 0, 1] and len(chain) == 5


@requires_torch
@pytest.mark.parametrize("n, lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (10, [0.5, 0.25, 0.25]), (11, [0.5, 0.5]),
                                        (7, [0.1, 0.2, 0.7]), (5, [1.0]), (3, [0.5, 0.5, 0.0]), (4, [4, 0])])
def test_random_split_lengths_match_torch(n, lengths):
    with warnings.catch_warnings(record=True) as w_c:
        warnings.simplefilter("always")
        parts = cdata.random_split(range(n), lengths, generator=cgrad.Generator().manual_seed(0))
    with warnings.catch_warnings(record=True) as w_t:
        warnings.simplefilter("always")
        want = tdata.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [len(p) for p in want]
    assert [str(w.message) for w in w_c] == [str(w.message) for w in w_t]
    assert sorted(i for p in parts for i in p) == list(range(n))


def test_random_split_reproducible_with_generator():
    a = cdata.random_split(range(20), [0.5, 0.5], generator=cgrad.Generator().manual_seed(42))
    b = cdata.random_split(range(20), [0.5, 0.5], generator=cgrad.Generator().manual_seed(42))
    assert [list(p) for p in a] == [list(p) for p in b]
    cgrad.manual_seed(1)
    c = [list(p) for p in cdata.random_split(range(20), [10, 10])]
    cgrad.manual_seed(1)
    assert [list(p) for p in cdata.random_split(range(20), [10, 10])] == c


@requires_torch
@pytest.mark.parametrize("lengths", [[3, 8], [0.5, 0.6], [-0.5, 1.5], [0.2, 0.2]])
def test_random_split_errors_match_torch(lengths):
    got, want = both(lambda lib, d: d.random_split(range(10), lengths))
    assert got[0] == want[0] and (want[0] == "ok" or got == want)


# ---------------------------------------------------------------------------
# Samplers


@requires_torch
def test_samplers_match_torch():
    assert list(cdata.SequentialSampler(range(5))) == list(tdata.SequentialSampler(range(5)))
    for sampler in ("SequentialSampler(range(7))", "[0, 1, 2, 3, 4, 5, 6]"):
        for bs, drop in [(1, False), (3, False), (3, True), (7, True), (10, False), (10, True)]:
            got, want = both(lambda lib, d: (list(d.BatchSampler(eval(sampler, {**vars(d)}), bs, drop)),
                                             len(d.BatchSampler(eval(sampler, {**vars(d)}), bs, drop))))
            assert got == want


def test_random_samplers():
    g = cgrad.Generator().manual_seed(0)
    order = list(cdata.RandomSampler(range(10), generator=g))
    assert sorted(order) == list(range(10)) and len(cdata.RandomSampler(range(10))) == 10
    many = list(cdata.RandomSampler(range(4), num_samples=10, generator=g))
    assert len(many) == 10 and sorted(many[:4]) == [0, 1, 2, 3] and sorted(many[4:8]) == [0, 1, 2, 3]
    repl = list(cdata.RandomSampler(range(3), replacement=True, num_samples=70, generator=g))
    assert len(repl) == 70 and set(repl) == {0, 1, 2}
    sub = list(cdata.SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(sub) == [10, 20, 30] and len(cdata.SubsetRandomSampler([1, 2])) == 2
    w = list(cdata.WeightedRandomSampler([0., 1., 0., 3.], 50, generator=g))
    assert len(w) == 50 and set(w) == {1, 3}
    w2 = list(cdata.WeightedRandomSampler([1., 1., 0., 1.], 3, replacement=False, generator=g))
    assert sorted(w2) == [0, 1, 3]
    # reproducible from the default seed when no generator is given
    cgrad.manual_seed(3)
    a = list(cdata.RandomSampler(range(50)))
    cgrad.manual_seed(3)
    assert list(cdata.RandomSampler(range(50))) == a


@requires_torch
@pytest.mark.parametrize("expr", [
    "d.RandomSampler(range(3), replacement=1)", "d.RandomSampler(range(3), num_samples=0)",
    "d.RandomSampler(range(3), num_samples=2.5)", "d.RandomSampler([])",
    "d.WeightedRandomSampler([1., 2.], 0)", "d.WeightedRandomSampler([1., 2.], True)",
    "d.WeightedRandomSampler([1., 2.], 2, replacement=0)", "d.WeightedRandomSampler([[1., 2.]], 2)",
    "list(d.WeightedRandomSampler([1., 2.], 3, replacement=False))",
    "d.BatchSampler(range(3), 0, False)", "d.BatchSampler(range(3), True, False)",
    "d.BatchSampler(range(3), 2, 1)", "d.BatchSampler(range(3), 2.0, False)",
])
def test_sampler_errors_match_torch(expr):
    got, want = both(lambda lib, d: eval(expr, {"d": d}) and None)
    assert got == want


# ---------------------------------------------------------------------------
# Collation

Point = collections.namedtuple("Point", "x y")

COLLATE_CASES = [
    "[lib.tensor([1., 2.]), lib.tensor([3., 4.])]", "[lib.tensor(1), lib.tensor(2)]",
    "[lib.ones(2, 3, dtype=lib.float64)] * 3", "[1.5, 2]", "[1, 2]", "[True, False]",
    "[np.float32(1), np.float32(2)]", "[np.int32(1), np.int32(2)]", "[np.float64(1.)]", "[np.bool_(True)]",
    "[np.ones((2, 2), dtype=np.float16)] * 3", "[np.arange(3), np.arange(3)]", "['a', 'b']", "[b'a', b'b']",
    "[(1, 'a'), (2, 'b')]", "[[1, 2], [3, 4]]", "[{'a': 1, 'b': [1., 2.]}, {'a': 2, 'b': [3., 4.]}]",
    "[Point(1, 2.), Point(3, 4.)]", "[collections.OrderedDict(a=1), collections.OrderedDict(a=2)]",
    "[(lib.zeros(2), 1, {'k': np.ones(1)}), (lib.ones(2), 2, {'k': np.zeros(1)})]",
    "[object()]", "[np.array(['a'])]", "[[1, 2], [3]]", "[lib.ones(2), lib.ones(3)]", "[None]",
]


@requires_torch
@pytest.mark.parametrize("batch", COLLATE_CASES)
def test_default_collate_matches_torch(batch):
    env = {"np": np, "collections": collections, "Point": Point}
    got, want = both(lambda lib, d: struct(d.default_collate(eval(batch, {**env, "lib": lib}))))
    assert got == want


@requires_torch
@pytest.mark.parametrize("value", ["(np.ones(2), 3)", "np.float32(1)", "[np.arange(2), 'x']",
                                   "{'a': np.zeros(2, dtype=np.int16)}", "Point(np.ones(1), 2)",
                                   "np.array(['s'])", "lib.ones(2)", "'text'"])
def test_default_convert_matches_torch(value):
    env = {"np": np, "Point": Point}
    got, want = both(lambda lib, d: struct(d.default_convert(eval(value, {**env, "lib": lib}))))
    assert got == want


# ---------------------------------------------------------------------------
# DataLoader in the main process

LOADER_CASES = [
    dict(batch_size=4), dict(batch_size=4, drop_last=True), dict(batch_size=1), dict(batch_size=None),
    dict(batch_size=10), dict(batch_size=3, sampler="d.SequentialSampler(ds)"),
    dict(batch_sampler="d.BatchSampler(range(10), 3, True)"), dict(batch_size=2, collate_fn="lambda b: b"),
    dict(batch_size=None, sampler="[3, 1]"),
]


def make_loader(lib, d, kwargs, ds):
    kw = {k: (eval(v, {"d": d, "ds": ds, "lib": lib}) if isinstance(v, str) else v) for k, v in kwargs.items()}
    return d.DataLoader(ds, **kw)


class Pairs:
    """A plain map-style dataset (no base class): (float tensor row, int, str)."""

    def __init__(self, lib):
        self.x = lib.arange(20.).view(10, 2)

    def __len__(self):
        return 10

    def __getitem__(self, i):
        return self.x[i], i, f"s{i}"


@requires_torch
@pytest.mark.parametrize("kwargs", LOADER_CASES, ids=str)
def test_loader_batches_match_torch(kwargs):
    got, want = both(lambda lib, d: (len(make_loader(lib, d, kwargs, Pairs(lib))),
                                     [struct(b) for b in make_loader(lib, d, kwargs, Pairs(lib))]))
    assert got == want


@requires_torch
@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
    dict(shuffle=True, sampler="[0, 1]"), dict(batch_sampler="[[0, 1]]", batch_size=2),
    dict(batch_sampler="[[0, 1]]", shuffle=True), dict(batch_sampler="[[0, 1]]", drop_last=True),
    dict(batch_size=None, drop_last=True), dict(batch_size=0), dict(batch_size=-2),
    dict(num_workers=1, prefetch_factor=-1), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="nope"), dict(num_workers=1, multiprocessing_context=3),
], ids=str)
def test_loader_argument_errors_match_torch(kwargs):
    got, want = both(lambda lib, d: make_loader(lib, d, kwargs, Pairs(lib)) and None)
    assert got == want


@requires_torch
def test_iterable_dataset_loader_matches_torch():
    class TorchStream(tdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    class CgradStream(cdata.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    for kw in (dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None), dict()):
        got = [struct(b) for b in cdata.DataLoader(CgradStream(), **kw)]
        want = [struct(b) for b in tdata.DataLoader(TorchStream(), **kw)]
        assert got == want
        assert len(cdata.DataLoader(CgradStream(), **kw)) == len(tdata.DataLoader(TorchStream(), **kw))
    for kw in (dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])):
        got, want = outcome(lambda: cdata.DataLoader(CgradStream(), **kw)), outcome(
            lambda: tdata.DataLoader(TorchStream(), **kw))
        assert got[0] is want[0] is ValueError and got[1].split(",")[0] == want[1].split(",")[0]


def test_shuffle_and_generator():
    ds = cdata.TensorDataset(cgrad.arange(12))
    a = [b[0].tolist() for b in cdata.DataLoader(ds, batch_size=5, shuffle=True,
                                                  generator=cgrad.Generator().manual_seed(0))]
    b = [b[0].tolist() for b in cdata.DataLoader(ds, batch_size=5, shuffle=True,
                                                  generator=cgrad.Generator().manual_seed(0))]
    assert a == b and sorted(sum(a, [])) == list(range(12)) and [len(x) for x in a] == [5, 5, 2]
    loader = cdata.DataLoader(ds, batch_size=5, shuffle=True)
    assert sorted(sum([b[0].tolist() for b in loader], [])) == list(range(12))
    with pytest.raises(ValueError, match="^batch_size attribute should not be set after DataLoader is "
                                         "initialized$"):
        loader.batch_size = 3
    loader.num_workers = 0      # other attributes may change
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        pinned = cdata.DataLoader(ds, batch_size=4, pin_memory=True)
    assert [b[0].tolist() for b in pinned][0] == [0, 1, 2, 3]
    assert cdata.get_worker_info() is None


# ---------------------------------------------------------------------------
# Worker processes (small data; timeout= bounds every wait)


def test_workers_give_the_same_batches_in_order():
    ds = Squares(23)
    want = [struct(b) for b in cdata.DataLoader(ds, batch_size=4)]
    for workers, prefetch in ((1, 2), (2, 1), (2, 3), (3, 2)):
        loader = cdata.DataLoader(ds, batch_size=4, num_workers=workers, prefetch_factor=prefetch, timeout=30)
        assert len(loader) == 6
        assert [struct(b) for b in loader] == want
    unbatched = cdata.DataLoader(ds, batch_size=None, num_workers=2, timeout=30)
    assert [struct(b) for b in unbatched] == [struct(b) for b in cdata.DataLoader(ds, batch_size=None)]


def test_worker_info_seeds_and_init_fn():
    loader = cdata.DataLoader(WorkerIds(), batch_size=2, num_workers=2, worker_init_fn=init_worker, timeout=30,
                              generator=cgrad.Generator().manual_seed(7))
    rows = [tuple(v.tolist() if hasattr(v, "tolist") else v for v in b) for b in loader]
    samples = [dict(zip(("i", "id", "n", "seed", "r", "pid", "init"), vals)) for b in rows for vals in zip(*b)]
    assert [s["i"] for s in samples] == list(range(8))
    # batches go round-robin: batch k to worker k % 2
    assert [s["id"] for s in samples] == [0, 0, 1, 1, 0, 0, 1, 1]
    assert all(s["n"] == 2 for s in samples) and all(s["init"] == f"init{s['id']}" for s in samples)
    assert len({s["pid"] for s in samples}) == 2 and os.getpid() not in {s["pid"] for s in samples}
    seeds = {s["id"]: s["seed"] for s in samples}
    assert seeds[1] == seeds[0] + 1
    # each worker's stream is seeded by its seed: different workers differ, and the loader's generator
    # makes a run reproducible
    assert samples[0]["r"] != samples[2]["r"]
    again = cdata.DataLoader(WorkerIds(), batch_size=2, num_workers=2, worker_init_fn=init_worker, timeout=30,
                             generator=cgrad.Generator().manual_seed(7))
    assert [b[4].tolist() for b in again] == [list(r[4]) for r in rows]
    assert "CGRAD_TEST_INIT" not in os.environ


def test_iterable_dataset_sharded_by_worker_info():
    loader = cdata.DataLoader(Stream(11), batch_size=2, num_workers=2, timeout=30)
    batches = [b.tolist() for b in loader]
    assert sorted(sum(batches, [])) == list(range(11))
    # worker 0 holds the even numbers, worker 1 the odd ones; their batches alternate
    assert batches[:4] == [[0, 2], [1, 3], [4, 6], [5, 7]]
    unbatched = cdata.DataLoader(Stream(5), batch_size=None, num_workers=3, timeout=30)
    assert sorted(int(x) for x in unbatched) == [0, 1, 2, 3, 4]
    dropped = [b.tolist() for b in cdata.DataLoader(Stream(11), batch_size=2, num_workers=2, drop_last=True,
                                                    timeout=30)]
    assert all(len(b) == 2 for b in dropped) and len(dropped) == 5


def test_worker_exception_is_reraised_in_the_main_process():
    loader = cdata.DataLoader(Failing(), batch_size=1, num_workers=2, timeout=30)
    it = iter(loader)
    assert next(it).tolist() == [0] and next(it).tolist() == [1]
    with pytest.raises(ValueError, match=r"^Caught ValueError in DataLoader worker process 0\.\nOriginal "
                                         r"Traceback \(most recent call last\):\n(.|\n)*bad sample 2"):
        next(it)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process"):
        list(cdata.DataLoader({0: 1, 1: 2}, batch_size=1, sampler=[0, 5], num_workers=1, timeout=30))


def test_worker_init_fn_failure_is_reraised():
    def broken_init(worker_id):
        raise RuntimeError(f"init failed in {worker_id}")

    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(cdata.DataLoader(Squares(4), batch_size=2, num_workers=1, worker_init_fn=broken_init, timeout=30))


def test_timeout_raises_and_stops_the_workers():
    it = iter(cdata.DataLoader(Slow(), batch_size=1, num_workers=1, timeout=0.5))
    with pytest.raises(RuntimeError, match=r"^DataLoader timed out after 0\.5 seconds$"):
        next(it)
    assert it._workers and not any(w.is_alive() for w in it._workers)


def test_persistent_workers_serve_several_epochs():
    loader = cdata.DataLoader(Squares(9), batch_size=2, num_workers=2, persistent_workers=True, timeout=30)
    want = [struct(b) for b in cdata.DataLoader(Squares(9), batch_size=2)]
    first = [struct(b) for b in loader]
    it = loader._iterator
    pids = [w.pid for w in it._workers]
    second = [struct(b) for b in loader]
    assert first == want and second == want
    assert loader._iterator is it and [w.pid for w in it._workers] == pids and all(w.is_alive() for w in it._workers)
    # an epoch left half-way does not leak into the next one
    partial = iter(loader)
    next(partial)
    assert [struct(b) for b in loader] == want
    stream = cdata.DataLoader(Stream(5), batch_size=2, num_workers=2, persistent_workers=True, timeout=30)
    assert sorted(sum([b.tolist() for b in stream], [])) == list(range(5))
    assert sorted(sum([b.tolist() for b in stream], [])) == list(range(5))
    it._shutdown_workers()
    stream._iterator._shutdown_workers()
    assert not any(w.is_alive() for w in it._workers)


def test_workers_exit_when_iteration_ends():
    it = iter(cdata.DataLoader(Squares(6), batch_size=3, num_workers=2, timeout=30))
    workers = list(it._workers)
    assert len(list(it)) == 2
    for w in workers:
        w.join(timeout=10)
    assert not any(w.is_alive() for w in workers)


def test_large_tensors_cross_the_pipe():
    class Big(cdata.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return cgrad.full((256, 256), float(i)), np.full(3, i, dtype=np.int16)

    got = list(cdata.DataLoader(Big(), batch_size=2, num_workers=2, timeout=60))
    assert [tuple(b[0].shape) for b in got] == [(2, 256, 256)] * 2
    assert got[1][0][1, 255, 255].item() == 3.0 and got[1][1].dtype == cgrad.int16
    assert got[0][1].tolist() == [[0, 0, 0], [1, 1, 1]]


def test_spawned_workers():
    """A spawn context pickles the dataset to fresh interpreters (tensors as numpy buffers)."""
    ds = cdata.TensorDataset(cgrad.arange(10.).view(5, 2), cgrad.arange(5))
    loader = cdata.DataLoader(ds, batch_size=2, num_workers=1, multiprocessing_context="spawn", timeout=60)
    assert [struct(b) for b in loader] == [struct(b) for b in cdata.DataLoader(ds, batch_size=2)]


@pytest.mark.parametrize("weights, num_samples, replacement, text", [
    ([0.5, -1.0], 2, True, "invalid multinomial distribution (encountering probability entry < 0)"),
    ([0.5, float("nan")], 3, True, "invalid multinomial distribution (encountering probability entry < 0)"),
    ([0.5, float("inf")], 2, True, "invalid multinomial distribution (encountering probability entry = infinity or NaN)"),
    ([0.5, -1.0], 1, True, "probability tensor contains either `inf`, `nan` or element < 0"),
    ([0.5, -1.0, 2.0], 2, False, "probability tensor contains either `inf`, `nan` or element < 0"),
])
def test_weighted_sampler_bad_weights(weights, num_samples, replacement, text):
    """multinomial with replacement and more than one draw checks entry by
    entry with its kernel's texts (round-15 fuzzing of the samplers)."""
    with pytest.raises(RuntimeError) as ours:
        list(cgrad.utils.data.WeightedRandomSampler(weights, num_samples, replacement=replacement))
    assert str(ours.value) == text
    if torch is not None:
        with pytest.raises(RuntimeError) as theirs:
            list(torch.utils.data.WeightedRandomSampler(weights, num_samples, replacement=replacement))
        assert str(theirs.value) == text
