"""cgrad.frombuffer (memory shared with the buffer, PyTorch's checks and
texts) and cgrad.utils.hooks."""
import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def test_frombuffer_shares_memory():
    raw = bytearray(np.array([1, 2, 3], dtype=np.int32).tobytes())
    t = cgrad.frombuffer(raw, dtype=cgrad.int32)
    raw[0] = 9
    assert t.tolist() == [9, 2, 3]
    t[1] = 5
    assert np.frombuffer(raw, dtype=np.int32).tolist() == [9, 5, 3]
    assert cgrad.frombuffer(raw, dtype=cgrad.int32, count=2, offset=4).tolist() == [5, 3]
    assert cgrad.frombuffer(raw, dtype=cgrad.float32, requires_grad=True).requires_grad


ERRORS = [
    lambda L, b: L.frombuffer(b, dtype=L.int32, count=4),
    lambda L, b: L.frombuffer(b, dtype=L.int32, offset=13),
    lambda L, b: L.frombuffer(bytearray(), dtype=L.int32),
    lambda L, b: L.frombuffer(b, dtype=L.float64),
    lambda L, b: L.frombuffer(b, dtype=L.int32, offset=2),
    lambda L, b: L.frombuffer([1, 2], dtype=L.int32),
    lambda L, b: L.frombuffer(b, dtype=L.int32, count=0),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_frombuffer_errors(case):
    with pytest.raises(ValueError):
        ERRORS[case](cgrad, bytearray(12))


@requires_torch
@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_frombuffer_errors_match_torch(case):
    texts = []
    for lib in (torch, cgrad):
        with pytest.raises(ValueError) as info:
            ERRORS[case](lib, bytearray(12))
        texts.append(str(info.value))
    assert texts[1] == texts[0]


def test_read_only_buffer_warns_as_torch():
    import cgrad._factories_extra as factories
    factories._warned_read_only_buffer = False
    with pytest.warns(UserWarning, match="The given buffer is not writable, and PyTorch does not support "
                                         "non-writable tensors"):
        t = cgrad.frombuffer(b"abcd", dtype=cgrad.uint8)
    assert t.tolist() == [97, 98, 99, 100]


def test_utils_hooks():
    handle = cgrad.nn.Linear(2, 2).register_forward_hook(lambda *args: None)
    assert isinstance(handle, cgrad.utils.hooks.RemovableHandle)

    @cgrad.utils.hooks.unserializable_hook
    def hook(grad):
        return grad
    assert hook.__torch_unserializable__ is True
