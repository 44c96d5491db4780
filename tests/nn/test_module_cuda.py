"""Module.cuda() as in torch's CPU-only build: a module with tensors
raises torch's AssertionError at the first one, a module without tensors
is returned unchanged."""
import pytest

import cgrad
from tests.helpers import requires_torch, torch


def test_module_cuda_without_torch():
    m = cgrad.nn.ReLU()
    assert m.cuda() is m
    with pytest.raises(AssertionError, match="not compiled with CUDA enabled"):
        cgrad.nn.Linear(2, 2).cuda()


@requires_torch
@pytest.mark.parametrize("make", [lambda lib: lib.nn.Linear(2, 2), lambda lib: lib.nn.ReLU(),
                                  lambda lib: lib.nn.Sequential(lib.nn.Identity(), lib.nn.BatchNorm1d(2, affine=False))])
def test_module_cuda_as_cpu_only_torch(make):
    results = []
    for lib in (torch, cgrad):
        m = make(lib)
        try:
            results.append(("ok", m.cuda() is m))
        except Exception as e:  # noqa: BLE001 - the error is what is compared
            results.append((type(e).__name__, str(e)))
    assert results[1] == results[0]
