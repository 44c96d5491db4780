"""Tensor.numpy() and np.asarray of a tensor that requires grad, against
torch: refused with PyTorch's error while grad mode is on, allowed (a view
of the same memory) under no_grad and inference_mode and with force=True,
as a custom op's numpy kernel and plotting code under no_grad use it."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def attempts(lib):
    t = lib.tensor([1.0, 2.0], requires_grad=True)
    out = []
    for label, call in [("numpy", lambda: t.numpy()), ("asarray", lambda: np.asarray(t)),
                        ("nonleaf", lambda: (t * 2).numpy()), ("force", lambda: t.numpy(force=True))]:
        for mode, ctx in [("grad", lib.enable_grad), ("no_grad", lib.no_grad),
                          ("inference", lib.inference_mode)]:
            with ctx():
                try:
                    out.append((label, mode, call().tolist()))
                except RuntimeError as e:
                    out.append((label, mode, str(e)))
    return out


@requires_torch
def test_numpy_of_requires_grad_tensor_follows_grad_mode_as_torch():
    assert attempts(cgrad) == attempts(torch)


def test_numpy_under_no_grad_shares_memory():
    t = cgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't call numpy"):
        t.numpy()
    with cgrad.no_grad():
        a = t.numpy()
        a[0] = 5.0
    assert t.detach().tolist() == [5.0, 2.0]
