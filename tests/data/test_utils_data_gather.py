"""DataLoader over a plain TensorDataset reads a batch with one gather per
tensor: the batches must equal what default_collate makes of the samples
(values, dtypes, shapes, container), and torch's batches from the same
indices; anything the gather cannot take goes the per-sample way."""
import numpy as np
import pytest

import cgrad
from cgrad.utils.data import DataLoader, TensorDataset
from cgrad.utils.data._utils.collate import default_collate
from cgrad.utils.data._utils.fetch import _MapDatasetFetcher
from helpers import requires_torch, torch


def tensors_of_every_kind():
    rng = np.random.default_rng(0)
    return [cgrad.tensor(rng.standard_normal((50, 3, 4)).astype(np.float32)),
            cgrad.tensor(rng.integers(-5, 5, 50)),
            cgrad.tensor(rng.standard_normal(50)),
            cgrad.tensor(rng.standard_normal((50, 2)).astype(np.float16)),
            cgrad.tensor(rng.integers(0, 2, (50, 5)).astype(bool)),
            cgrad.tensor(rng.integers(0, 100, (50, 2)).astype(np.int32)),
            cgrad.tensor(rng.standard_normal((7, 50))).t()]   # a non-contiguous view


def same_batch(a, b):
    assert type(a) is type(b) and len(a) == len(b)
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.shape == y.shape and x.is_contiguous()
        np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_gathered_batches_equal_collated_samples():
    ds = TensorDataset(*tensors_of_every_kind())
    fetcher = _MapDatasetFetcher(ds, True, default_collate, False)
    assert fetcher.gathers_rows
    for indices in ([0, 1, 2], [49, 0, 17, 17, 3], [-1, -50, 5], [7]):
        same_batch(fetcher.fetch(indices), default_collate([ds[i] for i in indices]))


def test_loader_batches_with_shuffle_equal_the_per_sample_path():
    ds = TensorDataset(*tensors_of_every_kind())
    fast = DataLoader(ds, batch_size=8, shuffle=True, generator=cgrad.Generator().manual_seed(4))
    slow = DataLoader(ds, batch_size=8, shuffle=True, generator=cgrad.Generator().manual_seed(4),
                      collate_fn=lambda samples: default_collate(samples))
    for _ in range(2):
        batches = list(zip(fast, slow, strict=True))
        assert len(batches) == 7
        for a, b in batches:
            same_batch(a, b)


def test_what_the_gather_leaves_to_the_per_sample_path():
    x = cgrad.arange(10.)
    # out of range: the per-sample path raises indexing's own error
    fetcher = _MapDatasetFetcher(TensorDataset(x), True, default_collate, False)
    with pytest.raises(IndexError):
        fetcher.fetch([1, 10])
    with pytest.raises(IndexError):
        fetcher.fetch([-11])
    # tensors in the graph: stacking records StackBackward0
    w = cgrad.arange(10., requires_grad=True)
    fetcher = _MapDatasetFetcher(TensorDataset(w), True, default_collate, False)
    assert not fetcher.gathers_rows
    assert type(fetcher.fetch([1, 2])[0].grad_fn).__name__ == "StackBackward0"

    class Doubled(TensorDataset):
        def __getitem__(self, i):
            return tuple(t[i] * 2 for t in self.tensors)
    assert not _MapDatasetFetcher(Doubled(x), True, default_collate, False).gathers_rows
    assert DataLoader(Doubled(x), batch_size=3).__iter__().__next__()[0].tolist() == [0., 2., 4.]
    # a custom collate function gets the samples
    batch = next(iter(DataLoader(TensorDataset(x), batch_size=3, collate_fn=lambda s: s)))
    assert isinstance(batch, list) and len(batch) == 3 and isinstance(batch[0], tuple)


def test_batches_in_worker_processes_match():
    ds = TensorDataset(*tensors_of_every_kind()[:3])
    main = list(DataLoader(ds, batch_size=16))
    workers = list(DataLoader(ds, batch_size=16, num_workers=2))
    for a, b in zip(main, workers, strict=True):
        same_batch(a, b)


@requires_torch
def test_batches_match_torch_for_the_same_indices():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((40, 6)).astype(np.float32), rng.integers(0, 9, 40)]
    order = [int(i) for i in rng.permutation(40)]
    sampler = [order[i:i + 16] for i in range(0, 40, 16)]
    mine = DataLoader(TensorDataset(*map(cgrad.tensor, arrays)), batch_sampler=sampler)
    theirs = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(*map(torch.tensor, arrays)),
                                         batch_sampler=sampler)
    for a, b in zip(mine, theirs, strict=True):
        assert isinstance(a, list) and isinstance(b, list)
        for x, y in zip(a, b):
            assert str(x.dtype).split(".")[1] == str(y.dtype).split(".")[1] and tuple(x.shape) == tuple(y.shape)
            np.testing.assert_array_equal(x.numpy(), y.numpy())
