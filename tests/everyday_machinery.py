"""What the everyday-op tests share: the shapes they sample, and the
comparison of outcomes with torch's (an error's type and text with
torch's names as cgrad's; a tensor result's shape, dtype, values and no
grad). Used by tests/ops/test_everyday_ops.py and
test_everyday_layout_and_nn.py."""
import numpy as np

from helpers import torch


SHAPES = [(5,), (2, 3), (), (0, 3), (2, 1, 4)]


def _err(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and text are compared
        return type(e).__name__, str(e).replace("torch.", "cgrad.")
    return None


def same_error(fn_c, fn_t):
    et = _err(fn_t)
    assert et is not None
    assert _err(fn_c) == et


def same(c, t):
    if isinstance(t, tuple):
        assert isinstance(c, tuple) and len(c) == len(t)
        for a, b in zip(c, t):
            same(a, b)
        return
    if not isinstance(t, torch.Tensor):
        assert c == t and type(c) is type(t)
        return
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert c.grad_fn is None and not c.requires_grad
    np.testing.assert_array_equal(c.numpy(), t.numpy())
