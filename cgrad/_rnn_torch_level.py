"""The recurrent ops PyTorch exposes at top level (what nn.RNN, nn.LSTM,
nn.GRU and their cells call through torch._VF): the cells lstm_cell,
gru_cell, rnn_tanh_cell, rnn_relu_cell and the layer stacks lstm, gru,
rnn_tanh, rnn_relu over a flat parameter list, padded (input, hx, params,
has_biases, num_layers, dropout, train, bidirectional, batch_first) or
packed (data, batch_sizes, hx, params, has_biases, num_layers, dropout,
train, bidirectional).

The cells are cgrad.nn._rnn_math's (PyTorch's CPU formulas) behind ATen's
shape checks; the stacks run nn.RNNBase's layer loop (the fused C layer
per layer and direction) on a small holder of the flat parameters, so a
stack computes exactly what the module with those parameters computes.
"""
from cgrad.nn import _rnn_math
from cgrad.nn.modules.rnn import RNNBase

__all__ = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell", "lstm", "gru", "rnn_tanh", "rnn_relu"]


def _check_cell(input, hidden, w_ih, w_hh, labels=(0,)):
    if input.size(1) != w_ih.size(1):
        raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {w_ih.size(1)}")
    hidden_size = w_hh.size(1)
    for label, hx in zip(labels, hidden):
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{label} batch size "
                               f"{hx.size(0)}")
        if hx.size(1) != hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.size(1)}, expected "
                               f"{hidden_size}")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """(hy, cy) of one LSTM step; hx is the pair [h, c]."""
    if len(hx) != 2:
        raise RuntimeError("lstm_cell expects two hidden states")
    _check_cell(input, hx, w_ih, w_hh, labels=(0, 1))
    return _rnn_math.lstm_cell(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, [hx], w_ih, w_hh)
    return _rnn_math.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, [hx], w_ih, w_hh)
    return _rnn_math.rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    _check_cell(input, [hx], w_ih, w_hh)
    return _rnn_math.rnn_relu_cell(input, hx, w_ih, w_hh, b_ih, b_hh)


class _FlatLayers:
    """What RNNBase's layer loop reads of a module, from ATen's flat
    parameter list (per layer and direction: w_ih, w_hh[, b_ih, b_hh][, w_hr])."""
    _run = RNNBase._run
    _run_packed = RNNBase._run_packed
    _layer_weights = RNNBase._layer_weights

    def __init__(self, mode, params, has_biases, num_layers, dropout, train, bidirectional, proj_size):
        self.mode = mode
        self._flat_weights = list(params)
        self.bias = bool(has_biases)
        self.num_layers = int(num_layers)
        self.dropout = float(dropout)
        self.training = bool(train)
        self.bidirectional = bool(bidirectional)
        self.proj_size = proj_size
        per_layer = 2 + (2 if self.bias else 0) + (1 if proj_size > 0 else 0)
        expected = per_layer * self.num_layers * (2 if self.bidirectional else 1)
        if len(self._flat_weights) != expected:
            # ATen's check on the flat list's length (gather_params)
            raise RuntimeError("got an incorrect number of RNN parameters")


def _stack(mode, args, hx, cx, proj_size):
    """The padded or packed form of a stack."""
    if _packed(args):
        data, batch_sizes, _, params, has_biases, num_layers, dropout, train, bidirectional = args
        layers = _FlatLayers(mode, params, has_biases, num_layers, dropout, train, bidirectional, proj_size)
        return layers._run_packed(data, batch_sizes, hx, cx)
    input, _, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
    layers = _FlatLayers(mode, params, has_biases, num_layers, dropout, train, bidirectional, proj_size)
    x = input.transpose(0, 1) if batch_first else input
    output, h_n, c_n = layers._run(x.contiguous(), hx, cx, None)
    if batch_first:
        # ATen's lstm transposes its output back; gru and the Elman RNNs do it in place (TransposeBackward1)
        output = output.transpose(0, 1) if mode == "LSTM" else output.transpose_(0, 1)
    return output, h_n, c_n


def _packed(args):
    """(data, batch_sizes, hx, params, ...) rather than (input, hx, params, has_biases, ...)."""
    return isinstance(args[3], (list, tuple))


def _hidden_of(args):
    return args[2] if _packed(args) else args[1]


def lstm(*args):
    """lstm(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first) or
    lstm(data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional):
    (output, h_n, c_n), hx the pair [h_0, c_0]; projections when h_0 is narrower than c_0."""
    _check_arity("lstm", args)
    hx = _hidden_of(args)
    if len(hx) != 2:
        raise RuntimeError("lstm expects two hidden states")
    proj_size = hx[0].size(2) if hx[0].size(2) != hx[1].size(2) else 0
    return _stack("LSTM", args, hx[0], hx[1], proj_size)


def _single_state(mode, name, args):
    _check_arity(name, args)
    output, h_n, _ = _stack(mode, args, _hidden_of(args), None, 0)
    return output, h_n


def gru(*args):
    """gru(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first) or
    gru(data, batch_sizes, hx, params, ...): (output, h_n)."""
    return _single_state("GRU", "gru", args)


def rnn_tanh(*args):
    """As gru, for the Elman RNN with tanh."""
    return _single_state("RNN_TANH", "rnn_tanh", args)


def rnn_relu(*args):
    """As gru, for the Elman RNN with ReLU."""
    return _single_state("RNN_RELU", "rnn_relu", args)


def _check_arity(name, args):
    if len(args) != 9:
        raise TypeError(f"{name}() takes 9 positional arguments but {len(args)} were given")
