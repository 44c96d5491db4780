"""dropout1d/dropout2d and Dropout1d/Dropout2d: whole channels zeroed,
survivors scaled by 1 / (1 - p), the rate near p, MulBackward0 and its
gradient, eval/p=0 identity, p=1, unbatched inputs, PyTorch's errors and
warnings, checked by their structure (tests/random/test_torch_streams.py
checks that the masks are torch's after the same seed)."""
import warnings

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import requires_torch, torch

if torch is not None:
    import torch.nn.functional as TF


@pytest.mark.parametrize("fn,shape", [(CF.dropout1d, (8, 50, 6)), (CF.dropout2d, (8, 50, 3, 4)),
                                      (CF.dropout1d, (50, 6))])
def test_channel_dropout_structure_and_gradient(fn, shape):
    cgrad.manual_seed(0)
    x = cgrad.tensor(np.random.default_rng(0).uniform(1, 2, shape).astype(np.float32), requires_grad=True)
    y = fn(x, p=0.3)
    assert type(y.grad_fn).__name__ in ("MulBackward0", "SqueezeBackward1")
    ratio = (y / x).detach().numpy()
    per_channel = ratio.reshape(ratio.shape[: len(shape) - (1 if fn is CF.dropout1d else 2)] + (-1,))
    # each channel is all zero or all 1 / (1 - p)
    assert np.all((np.abs(per_channel).max(-1) == 0) | np.all(np.isclose(per_channel, 1 / 0.7), axis=-1))
    dropped = (np.abs(per_channel).max(-1) == 0).mean()
    assert 0.15 < dropped < 0.45
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), ratio, rtol=1e-6)


def test_channel_dropout_identity_cases():
    x = cgrad.randn(2, 3, 4)
    assert CF.dropout1d(x, 0.5, training=False) is x
    assert CF.dropout1d(x, 0.0) is x
    assert np.all(CF.dropout1d(x, 1.0).numpy() == 0)
    m = cnn.Dropout2d(0.4)
    m.eval()
    x4 = cgrad.randn(2, 3, 4, 4)
    assert m(x4) is x4
    assert repr(m) == "Dropout2d(p=0.4, inplace=False)"


@requires_torch
@pytest.mark.parametrize("fn", [
    lambda lib: (CF if lib is cgrad else TF).dropout1d(lib.ones(2, 3, 4, 5)),
    lambda lib: (CF if lib is cgrad else TF).dropout1d(lib.ones(2, 3), p=1.5),
    lambda lib: (CF if lib is cgrad else TF).dropout2d(lib.ones(2, 3), p=-0.1),
    lambda lib: lib.nn.Dropout2d(2.0),
])
def test_channel_dropout_errors_like_torch(fn):
    def error(lib):
        try:
            fn(lib)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            return type(e).__name__, str(e)
        return None
    assert error(torch) is not None and error(cgrad) == error(torch)


@requires_torch
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3)])
def test_dropout2d_warnings_like_torch(shape):
    msgs = []
    for lib, F in ((cgrad, CF), (torch, TF)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            F.dropout2d(lib.ones(*shape), 0.5)
        msgs.append([str(w.message) for w in caught])
    assert msgs[0] == msgs[1] and msgs[0]
