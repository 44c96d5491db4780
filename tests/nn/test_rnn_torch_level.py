"""torch.lstm_cell/gru_cell/rnn_tanh_cell/rnn_relu_cell and the flat-parameter
stacks torch.lstm/gru/rnn_tanh/rnn_relu (cgrad/_rnn_torch_level.py) against
torch: values, gradients, grad_fn names, ATen's check messages; float64
gradcheck."""
import numpy as np
import pytest

import cgrad
from helpers import compare_with_torch, rand, requires_torch, check_gradients, torch
from nn_compare import assert_same_errors

GATES = {"lstm": 4, "gru": 3, "rnn_tanh": 1, "rnn_relu": 1}


@pytest.mark.parametrize("name", ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell"])
@pytest.mark.parametrize("bias", [True, False])
def test_cells(name, bias):
    g = GATES[name[:-5]]
    arrays = [rand(3, 4, seed=1), rand(3, 5, seed=2), rand(3, 5, seed=3), rand(g * 5, 4, seed=4),
              rand(g * 5, 5, seed=5), rand(g * 5, seed=6), rand(g * 5, seed=7)]

    def run(L, x, h, c, w_ih, w_hh, b_ih, b_hh):
        hx = [h, c] if name == "lstm_cell" else h
        return getattr(L, name)(x, hx, w_ih, w_hh, *((b_ih, b_hh) if bias else ()))
    compare_with_torch(run, *arrays, rtol=1e-4, atol=1e-5)


@requires_torch
def test_cell_check_messages_match_torch():
    x, h, c = rand(3, 4, seed=1), rand(3, 5, seed=2), rand(3, 5, seed=3)
    w_ih, w_hh = rand(20, 4, seed=4), rand(20, 5, seed=5)
    cases = [lambda L, x, h, c, wi, wh: L.lstm_cell(x, [h], wi, wh),
             lambda L, x, h, c, wi, wh: L.lstm_cell(L.cat([x, x], 1), [h, c], wi, wh),
             lambda L, x, h, c, wi, wh: L.lstm_cell(x, [h[:2], c], wi, wh),
             lambda L, x, h, c, wi, wh: L.lstm_cell(x, [h, c[:2]], wi, wh),
             lambda L, x, h, c, wi, wh: L.lstm_cell(x, [h, c[:, :3]], wi, wh),
             lambda L, x, h, c, wi, wh: L.rnn_relu_cell(x, h[:, :4], wi[:5], wh[:5]),
             lambda L, x, h, c, wi, wh: L.gru_cell(x[0], h[0], wi[:15], wh[:15])]
    assert_same_errors([lambda L, case=case: case(L, *(L.tensor(a) for a in (x, h, c, w_ih, w_hh)))
                        for case in cases], torch, cgrad)


def _flat_params(name, layers, directions, bias, proj=0, seed=10):
    g, hidden = GATES[name], 5
    out = []
    for layer in range(layers):
        for _ in range(directions):
            width = 4 if layer == 0 else (proj or hidden) * directions
            out += [rand(g * hidden, width, seed=seed), rand(g * hidden, proj or hidden, seed=seed + 1)]
            if bias:
                out += [rand(g * hidden, seed=seed + 2), rand(g * hidden, seed=seed + 3)]
            if proj:
                out.append(rand(proj, hidden, seed=seed + 4))
            seed += 5
    return out


@pytest.mark.parametrize("name", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_padded_stacks(name, batch_first, bidirectional):
    directions = 2 if bidirectional else 1
    params = _flat_params(name, 2, directions, True)
    h0 = rand(2 * directions, 3, 5, seed=30)

    def run(L, x, h, *ps):
        hx = [h, h * 0.5] if name == "lstm" else h
        return getattr(L, name)(x, hx, list(ps), True, 2, 0.0, True, bidirectional, batch_first)
    x = rand(3, 2, 4, seed=31) if batch_first else rand(2, 3, 4, seed=31)     # batch 3, 2 steps
    compare_with_torch(run, x, h0, *params, rtol=1e-4, atol=1e-5)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")  # torch's own warning
def test_lstm_without_bias_and_with_projections():
    params = _flat_params("lstm", 1, 1, False, proj=3)

    def run(L, x, h, c, *ps):
        return L.lstm(x, [h, c], list(ps), False, 1, 0.0, True, False, False)
    compare_with_torch(run, rand(4, 2, 4, seed=40), rand(1, 2, 3, seed=41), rand(1, 2, 5, seed=42), *params,
                       rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["lstm", "gru"])
def test_packed_stacks(name):
    params = _flat_params(name, 1, 1, True)
    batch_sizes = np.array([2, 2, 1])

    def run(L, data, h, *ps):
        hx = [h, h] if name == "lstm" else h
        return getattr(L, name)(data, L.tensor(batch_sizes), hx, list(ps), True, 1, 0.0, True, False)
    compare_with_torch(run, rand(5, 4, seed=50), rand(1, 2, 5, seed=51), *params, rtol=1e-4, atol=1e-5)


@requires_torch
def test_parameter_count_error_matches_torch():
    params = _flat_params("gru", 1, 1, True)[:3]
    assert_same_errors([lambda L: L.gru(L.randn(3, 2, 4), L.zeros(1, 2, 5), [L.tensor(p) for p in params], True, 1,
                                        0.0, True, False, False)], torch, cgrad)


def test_gradcheck_float64():
    check_gradients(lambda L, x, h, c, wi, wh: L.lstm_cell(x, [h, c], wi, wh)[1],
                    rand(2, 3, seed=60), rand(2, 2, seed=61), rand(2, 2, seed=62), rand(8, 3, seed=63),
                    rand(8, 2, seed=64))
    check_gradients(lambda L, x, h, wi, wh: L.gru(x, h, [wi, wh], False, 1, 0.0, True, False, False)[0],
                    rand(3, 1, 2, seed=65), rand(1, 1, 2, seed=66), rand(6, 2, seed=67), rand(6, 2, seed=68))
