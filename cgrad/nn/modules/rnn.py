"""RNN, LSTM and GRU layers (PyTorch's parameters, names, order, checks and
initialisation). Each layer and direction runs as one fused op
(_C._rnn_layer, src/cgrad/ops_rnn.pxi: the time loop in C, products in
BLAS); layers, directions and inter-layer dropout are composed here.
Packed input runs padded with per-row lengths, then is packed again."""
import math
import numbers
import warnings
import weakref

import cgrad
from cgrad import _C
from cgrad.nn import functional as F
from cgrad.nn import init
from cgrad.nn._rnn_math import MODES, composite_layer, lengths_from_batch_sizes
from cgrad.nn._named_node import named
from cgrad.nn.modules.module import Module
from cgrad.nn.parameter import Parameter
from cgrad.nn.utils.rnn import PackedSequence, _packed_positions, _pad_packed_data

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]


def _apply_permutation(tensor, permutation, dim=1):
    return tensor.index_select(dim, permutation)


class RNNBase(Module):
    """Base class for RNN modules (RNN, LSTM, GRU)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        self._flat_weight_refs = []
        num_directions = 2 if bidirectional else 1
        if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if mode == "LSTM":
            gate_size = 4 * hidden_size
        elif mode == "GRU":
            gate_size = 3 * hidden_size
        elif mode in ("RNN_TANH", "RNN_RELU"):
            gate_size = hidden_size
        else:
            raise ValueError("Unrecognized RNN mode: " + mode)

        self._flat_weights_names = []
        self._all_weights = []
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                w_ih = Parameter(_C.empty(gate_size, layer_input_size, dtype=dtype))
                w_hh = Parameter(_C.empty(gate_size, real_hidden_size, dtype=dtype))
                b_ih = Parameter(_C.empty(gate_size, dtype=dtype))
                b_hh = Parameter(_C.empty(gate_size, dtype=dtype))
                layer_params = (w_ih, w_hh, b_ih, b_hh) if bias else (w_ih, w_hh)
                if proj_size > 0:
                    layer_params += (Parameter(_C.empty(proj_size, hidden_size, dtype=dtype)),)
                suffix = "_reverse" if direction == 1 else ""
                param_names = ["weight_ih_l{}{}", "weight_hh_l{}{}"]
                if bias:
                    param_names += ["bias_ih_l{}{}", "bias_hh_l{}{}"]
                if proj_size > 0:
                    param_names += ["weight_hr_l{}{}"]
                param_names = [x.format(layer, suffix) for x in param_names]
                for name, param in zip(param_names, layer_params):
                    setattr(self, name, param)
                self._flat_weights_names.extend(param_names)
                self._all_weights.append(param_names)
        self._init_flat_weights()
        self.reset_parameters()

    def _init_flat_weights(self):
        self._flat_weights = [getattr(self, wn) if hasattr(self, wn) else None for wn in self._flat_weights_names]
        self._flat_weight_refs = [weakref.ref(w) if w is not None else None for w in self._flat_weights]

    def __setattr__(self, attr, value):
        if hasattr(self, "_flat_weights_names") and attr in self._flat_weights_names:
            self._flat_weights[self._flat_weights_names.index(attr)] = value
        super().__setattr__(attr, value)

    def flatten_parameters(self):
        """No-op: cgrad keeps no flat cuDNN weight buffer."""

    def _apply(self, fn, *args, **kwargs):
        self._flat_weight_refs = []
        ret = super()._apply(fn, *args, **kwargs)
        self._init_flat_weights()
        return ret

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def check_input(self, input, batch_sizes):
        if input.dtype != self._flat_weights[0].dtype:
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype "
                             f"({self._flat_weights[0].dtype}). Convert input: input.to({self._flat_weights[0].dtype}), "
                             f"or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def _weights_have_changed(self):
        for ref, name in zip(self._flat_weight_refs, self._flat_weights_names):
            weight = getattr(self, name) if hasattr(self, name) else None
            if weight is not None and ref is not None and ref() is not weight:
                return True
        return False

    def _update_flat_weights(self):
        if self._weights_have_changed():
            self._init_flat_weights()

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx, permutation)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)

    def __getstate__(self):
        self._update_flat_weights()
        state = self.__dict__.copy()
        state.pop("_flat_weight_refs", None)
        return state

    def __setstate__(self, d):
        super().__setstate__(d)
        self._init_flat_weights()

    @property
    def all_weights(self):
        return [[getattr(self, weight) for weight in weights] for weights in self._all_weights]

    # --- the computation ------------------------------------------------------

    def _layer_weights(self, index):
        per = 2 + (2 if self.bias else 0) + (1 if self.proj_size > 0 else 0)
        ws = self._flat_weights[index * per:(index + 1) * per]
        w_ih, w_hh = ws[0], ws[1]
        b_ih, b_hh = (ws[2], ws[3]) if self.bias else (None, None)
        w_hr = ws[-1] if self.proj_size > 0 else None
        return w_ih, w_hh, b_ih, b_hh, w_hr

    def _run(self, x, hx, cx, lengths):
        """x time-major (T, B, I); hx (L*D, B, P); cx (L*D, B, H) or None;
        lengths an int64 tensor or None. Returns output, h_n, c_n."""
        if x.size(0) == 0:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        mode = MODES[self.mode]
        num_directions = 2 if self.bidirectional else 1
        h_out, c_out = [], []
        layer_input = x
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(index)
                if x.dtype in (cgrad.float16, cgrad.bfloat16):
                    # PyTorch's CPU layers in half precision: cell by cell, each op rounding to half
                    # (bfloat16 likewise, but for its LSTM without projections: oneDNN's layer,
                    # which this follows in dtype, not in grad_fn or last bits)
                    out, h_n, c_n = composite_layer(mode, direction == 1, layer_input, hx[index],
                                                    None if cx is None else cx[index], w_ih, w_hh, b_ih, b_hh,
                                                    w_hr, lengths)
                    outputs.append(out)
                    h_out.append(h_n)
                    c_out.append(c_n)
                    continue
                out, h_n, c_n = _C._rnn_layer(mode, direction == 1, layer_input, hx[index],
                                              None if cx is None else cx[index], w_ih, w_hh, b_ih, b_hh,
                                              w_hr, lengths)
                if self.mode != "LSTM" or self.proj_size > 0 or x.dtype != cgrad.float32 or x.numel() == 0:
                    # PyTorch runs these layers cell by cell and stacks the steps;
                    # a float32 LSTM without projections over a non-empty input is
                    # its one fused (oneDNN) layer
                    out = named(out, "StackBackward0")
                outputs.append(out)
                h_out.append(h_n)
                c_out.append(c_n)
            layer_input = outputs[0] if num_directions == 1 else cgrad.cat(outputs, 2)
            if self.dropout != 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = cgrad.stack(h_out, 0)
        c_n = cgrad.stack(c_out, 0) if cx is not None else None
        return layer_input, h_n, c_n

    def _run_packed(self, data, batch_sizes, hx, cx):
        bs = batch_sizes.numpy()
        batch = int(bs[0])
        lengths = _C.tensor(lengths_from_batch_sizes(bs, batch))
        padded = _pad_packed_data(data, bs, bs.shape[0], 0.0)
        out, h_n, c_n = self._run(padded, hx, cx, lengths)
        flat = out.reshape(out.shape[0] * batch, out.shape[2])
        # PyTorch's packed layers concatenate their steps' outputs
        return named(flat.index_select(0, _C.tensor(_packed_positions(bs, batch))), "CatBackward0"), h_n, c_n

    def _zeros(self, input, batch, size):
        num_directions = 2 if self.bidirectional else 1
        return _C.zeros(self.num_layers * num_directions, batch, size, dtype=input.dtype)

    def _forward_common(self, input, hx, dim_msg, unbatched_msg, batched_msg):
        """RNN and GRU: one state tensor."""
        self._update_flat_weights()
        orig_input = input
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                hx = self._zeros(input, int(batch_sizes[0]), self.hidden_size)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                raise ValueError(dim_msg.format(input.dim()))
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    if hx.dim() != 2:
                        raise RuntimeError(unbatched_msg.format(hx.dim()))
                    hx = hx.unsqueeze(1)
            elif hx is not None and hx.dim() != 3:
                raise RuntimeError(batched_msg.format(hx.dim()))
            sorted_indices = unsorted_indices = None
            if hx is None:
                hx = self._zeros(input, input.size(0) if self.batch_first else input.size(1), self.hidden_size)
        self.check_forward_args(input, hx, batch_sizes)
        if batch_sizes is None:
            x = input.transpose(0, 1) if self.batch_first else input
            output, hidden, _ = self._run(x.contiguous(), hx, None, None)
            if self.batch_first:
                output = output.transpose_(0, 1)     # PyTorch's in place (TransposeBackward1)
        else:
            output, hidden, _ = self._run_packed(input, batch_sizes, hx, None)
        if isinstance(orig_input, PackedSequence):
            return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), \
                self.permute_hidden(hidden, unsorted_indices)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = hidden.squeeze(1)
        return output, self.permute_hidden(hidden, unsorted_indices)


class RNN(RNNBase):
    """Multi-layer Elman RNN with tanh or ReLU non-linearity."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_common(input, hx, "RNN: Expected input to be 2D or 3D, got {}D tensor instead",
                                    "For unbatched 2-D input, hx should also be 2-D but got {}-D tensor",
                                    "For batched 3-D input, hx should also be 3-D but got {}-D tensor")


class GRU(RNNBase):
    """Multi-layer gated recurrent unit (GRU) RNN."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)

    def forward(self, input, hx=None):
        return self._forward_common(input, hx, "GRU: Expected input to be 2D or 3D, got {}D instead",
                                    "For unbatched 2-D input, hx should also be 2-D but got {}-D tensor",
                                    "For batched 3-D input, hx should also be 3-D but got {}-D tensor")


class LSTM(RNNBase):
    """Multi-layer long short-term memory (LSTM) RNN, with projections."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return _apply_permutation(hx[0], permutation), _apply_permutation(hx[1], permutation)

    def _check_packed_as_aten(self, data, batch_sizes, hx):
        """PyTorch's LSTM.forward skips check_forward_args for a PackedSequence:
        its mistakes surface inside ATen's lstm kernel, in the kernel's order
        and words (projections inferred from the hidden sizes, the parameter
        count, the stacked hidden states, then the first layer's products and
        gate sum). The failing product is run on its own operands to raise
        exactly that error; what ATen would not notice at all (or would
        compute with regardless) still meets check_forward_args."""
        h, c = hx
        has_projections = h.size(2) != c.size(2)
        per_layer = 2 + (2 if self.bias else 0) + (1 if has_projections else 0)
        if len(self._flat_weights) % per_layer:
            raise RuntimeError("got an incorrect number of RNN parameters")
        if has_projections == (self.proj_size > 0):
            layers = h.size(0)
            if self.bidirectional and layers % 2:
                raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN")
            if layers != self.num_layers * (2 if self.bidirectional else 1):
                raise RuntimeError("Expected more hidden states in stacked_rnn")
            w_ih, w_hh, b_ih, b_hh, _ = self._layer_weights(0)
            if data.dim() == 2 and (data.dtype != w_ih.dtype or data.size(1) != w_ih.size(1)):
                F.linear(data, w_ih, b_ih)
            if h.dtype != w_hh.dtype or h.size(2) != w_hh.size(1):
                F.linear(h[0], w_hh, b_hh)
            first_batch = int(batch_sizes[0])
            if h.size(1) != first_batch and h.size(1) != 1 and first_batch != 1:
                raise RuntimeError(f"The size of tensor a ({h.size(1)}) must match the size of tensor b "
                                   f"({first_batch}) at non-singleton dimension 0")
        self.check_forward_args(data, hx, batch_sizes)

    def forward(self, input, hx=None):
        self._update_flat_weights()
        orig_input = input
        batch_sizes = None
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = input
            if hx is None:
                batch = int(batch_sizes[0])
                hx = (self._zeros(input, batch, real_hidden_size), self._zeros(input, batch, self.hidden_size))
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            self._check_packed_as_aten(input, batch_sizes, hx)
        else:
            if input.dim() not in (2, 3):
                raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            batch = input.size(0) if self.batch_first else input.size(1)
            sorted_indices = unsorted_indices = None
            if hx is None:
                hx = (self._zeros(input, batch, real_hidden_size), self._zeros(input, batch, self.hidden_size))
                self.check_forward_args(input, hx, batch_sizes)
            else:
                if is_batched:
                    if hx[0].dim() != 3 or hx[1].dim() != 3:
                        raise RuntimeError("For batched 3-D input, hx and cx should also be 3-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                else:
                    if hx[0].dim() != 2 or hx[1].dim() != 2:
                        raise RuntimeError("For unbatched 2-D input, hx and cx should also be 2-D but got "
                                           f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                self.check_forward_args(input, hx, batch_sizes)
        if batch_sizes is None:
            x = input.transpose(0, 1) if self.batch_first else input
            output, h_n, c_n = self._run(x.contiguous(), hx[0], hx[1], None)
            if self.batch_first:
                output = output.transpose(0, 1)
        else:
            output, h_n, c_n = self._run_packed(input, batch_sizes, hx[0], hx[1])
        hidden = (h_n, c_n)
        if isinstance(orig_input, PackedSequence):
            return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), \
                self.permute_hidden(hidden, unsorted_indices)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, self.permute_hidden(hidden, unsorted_indices)
