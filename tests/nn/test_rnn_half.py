"""nn.RNN, nn.LSTM, nn.GRU in float16 against torch (whose CPU layers run
half precision cell by cell): outputs, final states, grad_fn names and every
gradient, for the configurations of test_rnn_layers.py and a packed batch;
and PyTorch's error for a half input to a float32 module."""
import numpy as np
import pytest

import cgrad
from cgrad.nn.utils import rnn as rnn_utils_c
from helpers import assert_close, grad_fn_name, requires_torch, torch
from rnn_helpers import backward_both, compare_param_grads, copy_weights, flat
from test_rnn_layers import B, CONFIGS, HIDDEN, INPUT, T, state_shapes

# half precision: an ulp of 1 is 1e-3; sums of a few rounded products differ
# by the order they are added in (weight gradients sum one rounded term per step)
RTOL, ATOL = 1e-2, 1e-2


def build_half(kind, seed=0, **kw):
    mod_c = getattr(cgrad.nn, kind)(INPUT, HIDDEN, **kw).half()
    mod_t = getattr(torch.nn, kind)(INPUT, HIDDEN, **kw).half()
    copy_weights(mod_c, mod_t, seed)
    return mod_c, mod_t


@requires_torch
@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_half_forward_backward_match_torch(kind, kw, with_state):
    mod_c, mod_t = build_half(kind, **kw)
    rng = np.random.default_rng(3)
    shape = (B, T, INPUT) if kw.get("batch_first") else (T, B, INPUT)
    x = rng.standard_normal(shape).astype(np.float16)
    xc = cgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    states_c = states_t = None
    if with_state:
        arrays = [rng.standard_normal(s).astype(np.float16) for s in state_shapes(kind, kw, B)]
        states_c = [cgrad.tensor(a, requires_grad=True) for a in arrays]
        states_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    hx_c = None if states_c is None else (tuple(states_c) if kind == "LSTM" else states_c[0])
    hx_t = None if states_t is None else (tuple(states_t) if kind == "LSTM" else states_t[0])
    res_c = flat(mod_c(xc, hx_c))
    res_t = flat(mod_t(xt, hx_t))
    assert len(res_c) == len(res_t)
    for k, (c, t) in enumerate(zip(res_c, res_t)):
        assert tuple(c.shape) == tuple(t.shape)
        assert str(c.dtype) == "cgrad.float16" and str(t.dtype) == "torch.float16"
        assert_close(c.detach().numpy().astype(np.float32), t.detach().numpy().astype(np.float32),
                     RTOL, ATOL, f"result {k}")
        assert grad_fn_name(c) == grad_fn_name(t), f"result {k} grad_fn"
    backward_both(res_c, res_t)
    assert str(xc.grad.dtype) == "cgrad.float16"
    assert_close(xc.grad.numpy().astype(np.float32), xt.grad.numpy().astype(np.float32), RTOL, ATOL,
                 "input grad")
    if with_state:
        for k, (c, t) in enumerate(zip(states_c, states_t)):
            assert_close(c.grad.numpy().astype(np.float32), t.grad.numpy().astype(np.float32), RTOL, ATOL,
                         f"state {k} grad")
    compare_param_grads(mod_c, mod_t, RTOL, ATOL)


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_half_packed_sequence(kind):
    mod_c, mod_t = build_half(kind, bidirectional=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((T, B, INPUT)).astype(np.float16)
    lengths = [T, T - 2, 2]
    xc = cgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    out_c = mod_c(rnn_utils_c.pack_padded_sequence(xc, lengths))
    out_t = mod_t(torch.nn.utils.rnn.pack_padded_sequence(xt, lengths))
    res_c = [out_c[0].data] + flat(out_c[1])
    res_t = [out_t[0].data] + flat(out_t[1])
    for k, (c, t) in enumerate(zip(res_c, res_t)):
        assert tuple(c.shape) == tuple(t.shape) and str(c.dtype) == "cgrad.float16"
        assert_close(c.detach().numpy().astype(np.float32), t.detach().numpy().astype(np.float32),
                     RTOL, ATOL, f"result {k}")
    backward_both(res_c, res_t)
    assert_close(xc.grad.numpy().astype(np.float32), xt.grad.numpy().astype(np.float32), RTOL, ATOL,
                 "input grad")
    compare_param_grads(mod_c, mod_t, RTOL, ATOL)


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_half_input_to_float_module_is_refused_as_torch(kind):
    messages = []
    for lib in (cgrad, torch):
        mod = getattr(lib.nn, kind)(INPUT, HIDDEN)
        with pytest.raises(ValueError) as info:
            mod(lib.zeros(T, B, INPUT, dtype=lib.float16))
        messages.append(str(info.value).replace("cgrad.", "torch."))
    assert messages[0] == messages[1]
