"""Tensor.untyped_storage() and Tensor.storage() against torch's: sizes,
bytes, values, data pointers (shared between views, the buffer's start),
writes through the storage (seen by the tensors, version counter bumped),
fill_, copy_, clone, errors and printing."""
import warnings

import numpy as np
import pytest

import cgrad
from tests.helpers import requires_torch, torch


def view_of(lib):
    base = lib.tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    return base, base[:, 1:]


def describe(lib):
    base, view = view_of(lib)
    u, s = view.untyped_storage(), view.storage()
    return dict(
        untyped=(u.nbytes(), u.size(), len(u), u.element_size(), u.tolist(), u[6], u[-1], str(u.device)),
        typed=(s.size(), len(s), s.element_size(), s.nbytes(), s.tolist(), s[1], s[-2],
               str(s.dtype).split(".")[-1], str(s.device)),
        pointers=(u.data_ptr() == base.data_ptr(), view.data_ptr() - u.data_ptr(),
                  s.data_ptr() == u.data_ptr(), base.untyped_storage().data_ptr() == u.data_ptr(),
                  base.clone().untyped_storage().data_ptr() == u.data_ptr()),
        flags=(u.is_shared(), u.is_pinned(), view.is_shared(), u.is_cuda, s.is_cuda),
        reprs=(repr(u).replace("torch.", "cgrad."), repr(s).replace("torch.", "cgrad.")),
        typed_untyped=(s.untyped().nbytes(), s.untyped().tolist() == u.tolist()),
    )


@requires_torch
def test_describes_storage_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert describe(cgrad) == describe(torch)


@requires_torch
def test_writes_fill_copy_clone_as_torch():
    results = []
    for lib in (cgrad, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            base, view = view_of(lib)
            u, s = view.untyped_storage(), view.storage()
            v0 = base._version
            s[0] = 9.5                      # the element before the view's start
            u[7] = 64                       # the high byte of element 1 (1.0 -> 2.0)
            c = u.clone()
            c.fill_(0)                      # the clone is its own buffer
            after_writes = (base.tolist(), base._version > v0, c.tolist()[:4])
            other = lib.tensor([7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
            u.copy_(other.untyped_storage())
            after_copy = base.tolist()
            s.fill_(1.5)
            results.append((after_writes, after_copy, base.tolist(), view.tolist()))
    assert results[0] == results[1]


@requires_torch
def test_errors_as_torch():
    for lib in (cgrad, torch):
        u = lib.ones(3).untyped_storage()
        with pytest.raises(IndexError, match="index 12 out of range for storage of size 12"):
            u[12]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(IndexError, match="index -4 out of range for storage of size 3"):
                lib.ones(3).storage()[-4]
        with pytest.raises(RuntimeError, match="size does not match"):
            u.copy_(lib.ones(2).untyped_storage())


def test_storage_without_torch():
    x = cgrad.tensor([1.0, 2.0, 3.0])
    u = x.untyped_storage()
    assert (u.nbytes(), u.element_size(), u.tolist()[4:8]) == (12, 1, [0, 0, 0, 64])   # 2.0 = 0x40000000
    assert u.data_ptr() == x.data_ptr() == x[1:].data_ptr() - 4
    assert isinstance(u, cgrad.UntypedStorage)
    with pytest.warns(UserWarning, match="TypedStorage is deprecated") if not _warned() else _nothing():
        s = x.storage()
    assert isinstance(s, cgrad.TypedStorage) and s.tolist() == [1.0, 2.0, 3.0] and s.dtype == cgrad.float32
    fresh = cgrad.UntypedStorage(4)
    assert fresh.tolist() == [0, 0, 0, 0] and cgrad.UntypedStorage([1, 2]).tolist() == [1, 2]


def _warned():
    from cgrad import _storage_api
    return _storage_api._warned_typed


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
