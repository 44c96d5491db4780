"""The recurrent cells as decomposed cgrad ops (PyTorch's CPU cell formulas,
so the cells' grad_fn names match), and the layer built from them that the
fused layer node (src/cgrad/ops_rnn.pxi) differentiates under create_graph:
double backward goes through these ops instead of the C time loop."""
import numpy as np

import cgrad
from cgrad import _C
from cgrad.nn import functional as F

MODES = {"RNN_TANH": 0, "RNN_RELU": 1, "LSTM": 2, "GRU": 3}
_TANH, _RELU, _LSTM, _GRU = 0, 1, 2, 3


def rnn_tanh_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return cgrad.tanh(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def rnn_relu_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    return cgrad.relu(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh))


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
    i, f, g, o = gates.chunk(4, 1)
    i = i.sigmoid()
    f = f.sigmoid()
    g = g.tanh()
    o = o.sigmoid()
    cy = f * c + i * g
    hy = o * cy.tanh()
    if w_hr is not None:
        hy = cgrad.matmul(hy, w_hr.t())
    return hy, cy


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    i_r, i_z, i_n = F.linear(x, w_ih, b_ih).chunk(3, 1)
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, 1)
    r = (i_r + h_r).sigmoid()
    z = (i_z + h_z).sigmoid()
    n = (i_n + h_n * r).tanh()
    return (h - n) * z + n


def composite_layer(mode, reverse, x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr, lengths):
    """The fused layer's (output, h_n, c_n) from the cells, one step at a
    time; rows past their length keep their state and output zeros."""
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    lens = None if lengths is None else lengths.numpy()
    outs = [None] * x.shape[0]
    for t in steps:
        if mode == _LSTM:
            h_new, c_new = lstm_cell(x[t], h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
        elif mode == _GRU:
            h_new, c_new = gru_cell(x[t], h, w_ih, w_hh, b_ih, b_hh), None
        else:
            cell = rnn_tanh_cell if mode == _TANH else rnn_relu_cell
            h_new, c_new = cell(x[t], h, w_ih, w_hh, b_ih, b_hh), None
        if lens is None:
            h, c, outs[t] = h_new, c_new, h_new
            continue
        active = _C.tensor((t < lens).reshape(-1, 1))
        h = cgrad.where(active, h_new, h)
        if c is not None:
            c = cgrad.where(active, c_new, c)
        outs[t] = cgrad.where(active, h_new, cgrad.zeros_like(h_new))
    return cgrad.stack(outs, 0), h, c


def fused_layer_double_backward(mode, reverse, inputs, lengths, grads, wants):
    """The fused node's backward under create_graph: differentiate the
    decomposed layer, keeping the graph of that computation."""
    x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr = inputs
    with cgrad.enable_grad():
        results = composite_layer(mode, reverse, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, lengths)
    outs, gos = [], []
    for value, grad in zip(results, grads):
        if value is not None and grad is not None:
            outs.append(value)
            gos.append(grad)
    wanted = [i for i in range(8) if wants[i]]
    found = cgrad.autograd.grad(outs, [inputs[i] for i in wanted], gos, create_graph=True,
                                allow_unused=True)
    result = [None] * 8
    for i, g in zip(wanted, found):
        result[i] = g if g is not None else cgrad.zeros_like(inputs[i])
    return result


def lengths_from_batch_sizes(batch_sizes, batch):
    """Per-row lengths (int64 numpy) of a packed batch: row b runs while
    batch_sizes[t] > b."""
    bs = np.asarray(batch_sizes, dtype=np.int64)
    return (bs[:, None] > np.arange(batch)[None, :]).sum(0).astype(np.int64)
