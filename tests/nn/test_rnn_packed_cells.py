"""Packed sequences (nn.utils.rnn) and the recurrent cells against torch:
packing and padding values, batch sizes, permutations and errors; RNN, LSTM
and GRU over packed input (sorted and not, both directions) with every
gradient; the cells' values, grad_fn names, gradients and errors."""
import numpy as np
import pytest

import cgrad
from cgrad.nn.utils import rnn as rnn_utils_c
from helpers import assert_close, grad_fn_name, requires_torch, torch
from rnn_helpers import backward_both, compare_param_grads, copy_weights

if torch is not None:
    from torch.nn.utils import rnn as rnn_utils_t


def _both(arr, requires_grad=False):
    return cgrad.tensor(arr, requires_grad=requires_grad), torch.tensor(arr, requires_grad=requires_grad)


@requires_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 2], True), ([2, 5, 3], False), ([4, 4, 1], True)])
def test_pack_pad_roundtrip(batch_first, lengths, enforce_sorted):
    shape = (3, 5, 2) if batch_first else (5, 3, 2)
    x = np.random.default_rng(0).standard_normal(shape)
    xc, xt = _both(x, True)
    pc = rnn_utils_c.pack_padded_sequence(xc, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = rnn_utils_t.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    assert_close(pc.data.detach().numpy(), pt.data.detach().numpy(), 0, 0, "packed data")
    assert pc.batch_sizes.tolist() == pt.batch_sizes.tolist()
    for a, b in ((pc.sorted_indices, pt.sorted_indices), (pc.unsorted_indices, pt.unsorted_indices)):
        assert (a is None) == (b is None)
        if a is not None:
            assert a.tolist() == b.tolist()
    for total in (None, 7):
        padded_c, len_c = rnn_utils_c.pad_packed_sequence(pc, batch_first=batch_first, padding_value=-1.0,
                                                          total_length=total)
        padded_t, len_t = rnn_utils_t.pad_packed_sequence(pt, batch_first=batch_first, padding_value=-1.0,
                                                          total_length=total)
        assert_close(padded_c.detach().numpy(), padded_t.detach().numpy(), 0, 0, "padded")
        assert len_c.tolist() == len_t.tolist()
        assert str(len_c.dtype) == "cgrad.int64"
    backward_both([padded_c], [padded_t])
    assert_close(xc.grad.numpy(), xt.grad.numpy(), 0, 0, "grad through pack and pad")


@requires_torch
def test_pad_pack_unpack_sequence():
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]
    sc = [cgrad.tensor(s) for s in seqs]
    st = [torch.tensor(s) for s in seqs]
    for kw in (dict(), dict(batch_first=True, padding_value=2.5), dict(padding_side="left")):
        assert_close(rnn_utils_c.pad_sequence(sc, **kw).numpy(), rnn_utils_t.pad_sequence(st, **kw).numpy(), 0, 0,
                     str(kw))
    pc = rnn_utils_c.pack_sequence(sc, enforce_sorted=False)
    pt = rnn_utils_t.pack_sequence(st, enforce_sorted=False)
    assert_close(pc.data.numpy(), pt.data.numpy(), 0, 0, "pack_sequence")
    for a, b in zip(rnn_utils_c.unpack_sequence(pc), rnn_utils_t.unpack_sequence(pt)):
        assert_close(a.numpy(), b.numpy(), 0, 0, "unpack_sequence")
    assert isinstance(pc, tuple) and pc._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert pc.double().data.dtype == cgrad.float64


@requires_torch
def test_packing_errors_match_torch():
    x = np.zeros((4, 3, 2), np.float32)
    cases = [([4, 5, 1], {}), ([3, 4, 1], {}), ([4, 0, 1], dict(enforce_sorted=False)), ([4, 3], {})]
    for lengths, kw in cases:
        with pytest.raises(RuntimeError) as et:
            rnn_utils_t.pack_padded_sequence(torch.tensor(x), lengths, **kw)
        with pytest.raises(RuntimeError) as ec:
            rnn_utils_c.pack_padded_sequence(cgrad.tensor(x), lengths, **kw)
        assert str(ec.value) == str(et.value)
    p_c = rnn_utils_c.pack_padded_sequence(cgrad.tensor(x), [3, 2, 1])
    p_t = rnn_utils_t.pack_padded_sequence(torch.tensor(x), [3, 2, 1])
    with pytest.raises(ValueError) as et:
        rnn_utils_t.pad_packed_sequence(p_t, total_length=2)
    with pytest.raises(ValueError) as ec:
        rnn_utils_c.pad_packed_sequence(p_c, total_length=2)
    assert str(ec.value) == str(et.value)
    with pytest.raises(RuntimeError) as ec:
        rnn_utils_c.pad_sequence([cgrad.ones(2)], padding_side="mid")
    with pytest.raises(RuntimeError) as et:
        rnn_utils_t.pad_sequence([torch.ones(2)], padding_side="mid")
    assert str(ec.value) == str(et.value)



def _packed_lstm_error(lib, rnn_utils, bidirectional, layers, case):
    """The exception (type and text) an LSTM meets on a PackedSequence with
    one mistake in it; None when it runs."""
    nd = 2 if bidirectional else 1
    lstm = lib.nn.LSTM(5, 4, layers, bidirectional=bidirectional) if case != "proj_h" else lib.nn.LSTM(5, 4, 1, proj_size=2)
    width = 6 if case == "input_size" else 5
    dtype = lib.float64 if case == "dtype" else lib.float32
    packed = rnn_utils.pack_padded_sequence(lib.zeros(4, 3, width, dtype=dtype), lib.tensor([4, 3, 2]))
    hidden = {"h_batch": (lib.zeros(layers * nd, 2, 4),) * 2,
              "h_size": (lib.zeros(layers * nd, 3, 5),) * 2,
              "h_layers": (lib.zeros(layers * nd + 1, 3, 4),) * 2,
              "c_size": (lib.zeros(layers * nd, 3, 4), lib.zeros(layers * nd, 3, 3)),
              "h_2d": (lib.zeros(layers * nd, 4),) * 2,
              "proj_h": (lib.zeros(1, 3, 4),) * 2}.get(case)
    try:
        lstm(packed, hidden)
    except Exception as exc:  # noqa: BLE001 - compared with torch's
        return type(exc).__name__, str(exc)
    return None


@requires_torch
@pytest.mark.parametrize("bidirectional,layers", [(False, 1), (False, 2), (True, 1), (True, 2)])
@pytest.mark.parametrize("case", ["input_size", "h_batch", "h_size", "h_layers", "c_size", "dtype", "h_2d",
                                  "proj_h"])
def test_lstm_packed_input_errors_match_torch(bidirectional, layers, case):
    """torch's LSTM checks no PackedSequence argument in Python: each mistake
    surfaces in ATen's kernel, with the kernel's exception and text."""
    expected = _packed_lstm_error(torch, rnn_utils_t, bidirectional, layers, case)
    assert expected is not None
    assert _packed_lstm_error(cgrad, rnn_utils_c, bidirectional, layers, case) == expected


@requires_torch
@pytest.mark.parametrize("kind,kw", [("LSTM", dict(bidirectional=True, num_layers=2)),
                                     ("LSTM", dict(proj_size=2, bidirectional=True)),
                                     ("GRU", dict(bidirectional=True)), ("RNN", dict(num_layers=2)),
                                     ("GRU", dict(batch_first=True, num_layers=2))])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("with_state", [False, True])
def test_rnn_on_packed_input(kind, kw, enforce_sorted, with_state):
    mod_c = getattr(cgrad.nn, kind)(3, 4, **kw).double()
    mod_t = getattr(torch.nn, kind)(3, 4, **kw).double()
    copy_weights(mod_c, mod_t)
    lengths = [6, 4, 4, 1] if enforce_sorted else [4, 6, 1, 4]
    batch_first = kw.get("batch_first", False)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 6, 3) if batch_first else (6, 4, 3))
    xc, xt = _both(x, True)
    pc = rnn_utils_c.pack_padded_sequence(xc, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    pt = rnn_utils_t.pack_padded_sequence(xt, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    states_c = states_t = None
    if with_state:
        layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
        shapes = [(layers, 4, kw.get("proj_size", 0) or 4)] + ([(layers, 4, 4)] if kind == "LSTM" else [])
        arrays = [rng.standard_normal(s) for s in shapes]
        states_c = [cgrad.tensor(a, requires_grad=True) for a in arrays]
        states_t = [torch.tensor(a, requires_grad=True) for a in arrays]
        hx_c = tuple(states_c) if kind == "LSTM" else states_c[0]
        hx_t = tuple(states_t) if kind == "LSTM" else states_t[0]
        out_c, hid_c = mod_c(pc, hx_c)
        out_t, hid_t = mod_t(pt, hx_t)
    else:
        out_c, hid_c = mod_c(pc)
        out_t, hid_t = mod_t(pt)
    assert isinstance(out_c, rnn_utils_c.PackedSequence)
    hid_c = list(hid_c) if kind == "LSTM" else [hid_c]
    hid_t = list(hid_t) if kind == "LSTM" else [hid_t]
    results_c = [out_c.data] + hid_c
    results_t = [out_t.data] + hid_t
    for k, (c, t) in enumerate(zip(results_c, results_t)):
        assert_close(c.detach().numpy(), t.detach().numpy(), 1e-10, 1e-12, f"packed result {k}")
    padded_c, _ = rnn_utils_c.pad_packed_sequence(out_c, batch_first=batch_first)
    padded_t, _ = rnn_utils_t.pad_packed_sequence(out_t, batch_first=batch_first)
    assert_close(padded_c.detach().numpy(), padded_t.detach().numpy(), 1e-10, 1e-12, "padded output")
    backward_both(results_c, results_t)
    assert_close(xc.grad.numpy(), xt.grad.numpy(), 1e-9, 1e-12, "input grad")
    if with_state:
        for c, t in zip(states_c, states_t):
            assert_close(c.grad.numpy(), t.grad.numpy(), 1e-9, 1e-12, "state grad")
    compare_param_grads(mod_c, mod_t, 1e-9, 1e-12)


# --- cells ----------------------------------------------------------------------

CELLS = [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)), ("LSTMCell", dict()),
         ("LSTMCell", dict(bias=False)), ("GRUCell", dict()), ("GRUCell", dict(bias=False))]


@requires_torch
@pytest.mark.parametrize("kind,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_torch(kind, kw, batched, with_state):
    mod_c = getattr(cgrad.nn, kind)(3, 4, **kw)
    mod_t = getattr(torch.nn, kind)(3, 4, **kw)
    assert repr(mod_c) == repr(mod_t)
    copy_weights(mod_c, mod_t)
    rng = np.random.default_rng(4)
    lead = (2,) if batched else ()
    xc, xt = _both(rng.standard_normal(lead + (3,)).astype(np.float32), True)
    args_c, args_t = [xc], [xt]
    if with_state:
        hs = [rng.standard_normal(lead + (4,)).astype(np.float32) for _ in range(2 if kind == "LSTMCell" else 1)]
        pairs = [_both(h, True) for h in hs]
        args_c.append(tuple(p[0] for p in pairs) if kind == "LSTMCell" else pairs[0][0])
        args_t.append(tuple(p[1] for p in pairs) if kind == "LSTMCell" else pairs[0][1])
    res_c, res_t = mod_c(*args_c), mod_t(*args_t)
    res_c = list(res_c) if isinstance(res_c, tuple) else [res_c]
    res_t = list(res_t) if isinstance(res_t, tuple) else [res_t]
    for c, t in zip(res_c, res_t):
        assert tuple(c.shape) == tuple(t.shape)
        assert_close(c.detach().numpy(), t.detach().numpy(), 1e-5, 1e-6, kind)
        assert grad_fn_name(c) == grad_fn_name(t)
    backward_both(res_c, res_t)
    assert_close(xc.grad.numpy(), xt.grad.numpy(), 1e-5, 1e-6, "input grad")
    compare_param_grads(mod_c, mod_t, 1e-5, 1e-6)


@requires_torch
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_errors_match_torch(kind):
    mod_c = getattr(cgrad.nn, kind)(3, 4)
    mod_t = getattr(torch.nn, kind)(3, 4)
    lstm = kind == "LSTMCell"
    bad = [((2, 5), None), ((2, 3, 1), None), ((2, 3), (3, 4)), ((2, 3), (2, 5))]
    for xs, hs in bad:
        args_c, args_t = [cgrad.zeros(*xs)], [torch.zeros(*xs)]
        if hs is not None:
            args_c.append((cgrad.zeros(*hs), cgrad.zeros(*hs)) if lstm else cgrad.zeros(*hs))
            args_t.append((torch.zeros(*hs), torch.zeros(*hs)) if lstm else torch.zeros(*hs))
        with pytest.raises(Exception) as et:
            mod_t(*args_t)
        with pytest.raises(type(et.value)) as ec:
            mod_c(*args_c)
        assert str(ec.value) == str(et.value)


@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_gradcheck(kind):
    mod = getattr(cgrad.nn, kind)(3, 2).double()
    rng = np.random.default_rng(0)
    x = cgrad.tensor(rng.standard_normal((2, 3)), requires_grad=True)
    h = cgrad.tensor(rng.standard_normal((2, 2)), requires_grad=True)

    def fn(x, h):
        r = mod(x, (h, h * 0.5) if kind == "LSTMCell" else h)
        return r if isinstance(r, tuple) else (r,)
    assert cgrad.autograd.gradcheck(fn, [x, h])
    assert cgrad.autograd.gradgradcheck(fn, [x, h])
