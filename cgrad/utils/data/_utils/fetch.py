"""Fetchers: how one batch (or one sample) is read from a dataset, the same
code in the main process and in worker processes.

A batch of a plain TensorDataset under the default collate function is read
with one gather per tensor: default_collate would stack the rows it reads one
by one, to the same values, dtypes and shapes, at a Python call per sample."""
import numpy as np

import cgrad


def _gather_rows(tensors, indices):
    """[t[indices] for t in tensors], the rows gathered by numpy.take into
    new tensors (a row copy each, where the tensor indexing kernel goes
    element by element); None when an index is not an int in range (the
    per-sample path then raises what indexing raises) or a dtype has no
    numpy view."""
    n = tensors[0].size(0)
    if not indices or not all(type(i) is int for i in indices) or min(indices) < -n or max(indices) >= n:
        return None
    index = np.asarray(indices, dtype=np.int64)
    try:
        sources = [t.numpy() for t in tensors]
    except (TypeError, RuntimeError):
        return None
    rows = []
    for t, src in zip(tensors, sources):
        out = cgrad.empty((len(index),) + tuple(t.shape[1:]), dtype=t.dtype)
        np.take(src, index, axis=0, out=out.numpy())
        rows.append(out)
    return rows


class _MapDatasetFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        from cgrad.utils.data._utils.collate import default_collate
        from cgrad.utils.data.dataset import TensorDataset
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        # exactly TensorDataset (a subclass may change __getitem__), tensors
        # outside the graph (stack and gather record different nodes)
        self.gathers_rows = (type(dataset) is TensorDataset and collate_fn is default_collate
                             and len(dataset.tensors) > 0
                             and all(isinstance(t, cgrad.Tensor) and not t.requires_grad
                                     for t in dataset.tensors))

    def fetch(self, possibly_batched_index):
        if self.auto_collation and self.gathers_rows and type(possibly_batched_index) is list:
            rows = _gather_rows(self.dataset.tensors, possibly_batched_index)
            if rows is not None:
                return rows
        if self.auto_collation:
            if callable(getattr(self.dataset, "__getitems__", None)):
                data = self.dataset.__getitems__(possibly_batched_index)
            else:
                data = [self.dataset[idx] for idx in possibly_batched_index]
        else:
            data = self.dataset[possibly_batched_index]
        return self.collate_fn(data)


class _IterableDatasetFetcher:
    """Reads the next sample(s) of the dataset's iterator; the index only
    says how many (a batch of Nones from the infinite sampler)."""

    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, possibly_batched_index):
        if self.ended:
            raise StopIteration
        if self.auto_collation:
            data = []
            for _ in possibly_batched_index:
                try:
                    data.append(next(self.dataset_iter))
                except StopIteration:
                    self.ended = True
                    break
            if len(data) == 0 or (self.drop_last and len(data) < len(possibly_batched_index)):
                raise StopIteration
        else:
            data = next(self.dataset_iter)
        return self.collate_fn(data)


def create_fetcher(is_iterable, dataset, auto_collation, collate_fn, drop_last):
    cls = _IterableDatasetFetcher if is_iterable else _MapDatasetFetcher
    return cls(dataset, auto_collation, collate_fn, drop_last)
