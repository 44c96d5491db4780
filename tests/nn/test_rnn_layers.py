"""nn.RNN, nn.LSTM, nn.GRU against torch: parameter names, shapes and order,
outputs, final states and every gradient (weights copied from numpy), for
layers, directions, batch_first, projections, bias, unbatched input, given
initial states and inter-layer dropout; the fused layer's float64 gradcheck
and gradgradcheck; the argument and shape errors."""
import numpy as np
import pytest

import cgrad
from helpers import assert_close, grad_fn_name, requires_torch, torch
from rnn_helpers import backward_both, compare_param_grads, copy_weights, flat

CONFIGS = [
    # (kind, kwargs)
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2)),
    ("RNN", dict(bidirectional=True, bias=False)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(bias=False)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, batch_first=True)),
    ("LSTM", dict(bidirectional=True, num_layers=2)),
    ("LSTM", dict(proj_size=3)),
    ("LSTM", dict(proj_size=2, bidirectional=True, num_layers=2, bias=False)),
]

INPUT, HIDDEN, T, B = 4, 5, 6, 3


def build(kind, dtype, seed=0, **kw):
    mod_c = getattr(cgrad.nn, kind)(INPUT, HIDDEN, **kw)
    mod_t = getattr(torch.nn, kind)(INPUT, HIDDEN, **kw)
    if dtype == "float64":
        mod_c = mod_c.double()
        mod_t = mod_t.double()
    copy_weights(mod_c, mod_t, seed)
    return mod_c, mod_t


def state_shapes(kind, kw, batch):
    layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    p = kw.get("proj_size", 0) or HIDDEN
    shapes = [(layers, batch, p)]
    if kind == "LSTM":
        shapes.append((layers, batch, HIDDEN))
    return shapes


@requires_torch
@pytest.mark.parametrize("kind,kw", CONFIGS)
def test_parameters_match_torch(kind, kw):
    mod_c = getattr(cgrad.nn, kind)(INPUT, HIDDEN, **kw)
    mod_t = getattr(torch.nn, kind)(INPUT, HIDDEN, **kw)
    assert [(n, tuple(p.shape)) for n, p in mod_c.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in mod_t.named_parameters()]
    assert list(mod_c.state_dict().keys()) == list(mod_t.state_dict().keys())
    assert repr(mod_c) == repr(mod_t)
    # uniform(-1/sqrt(hidden), 1/sqrt(hidden)), pooled over all parameters
    # (a uniform's std is bound/sqrt(3) = 0.577 bound; ~100 values or more)
    bound = 1 / np.sqrt(HIDDEN)
    v = np.concatenate([p.detach().numpy().ravel() for p in mod_c.parameters()])
    assert v.min() >= -bound and v.max() <= bound
    assert 0.4 * bound < v.std() < 0.75 * bound


@requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("with_state", [False, True])
def test_forward_backward_match_torch(kind, kw, dtype, with_state):
    mod_c, mod_t = build(kind, dtype, **kw)
    rng = np.random.default_rng(3)
    shape = (B, T, INPUT) if kw.get("batch_first") else (T, B, INPUT)
    x = rng.standard_normal(shape).astype(dtype)
    xc = cgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    states_c = states_t = None
    if with_state:
        arrays = [rng.standard_normal(s).astype(dtype) for s in state_shapes(kind, kw, B)]
        states_c = [cgrad.tensor(a, requires_grad=True) for a in arrays]
        states_t = [torch.tensor(a, requires_grad=True) for a in arrays]
    hx_c = None if states_c is None else (tuple(states_c) if kind == "LSTM" else states_c[0])
    hx_t = None if states_t is None else (tuple(states_t) if kind == "LSTM" else states_t[0])
    res_c = flat(mod_c(xc, hx_c))
    res_t = flat(mod_t(xt, hx_t))
    rtol, atol = (1e-4, 1e-5) if dtype == "float32" else (1e-10, 1e-12)
    assert len(res_c) == len(res_t)
    for k, (c, t) in enumerate(zip(res_c, res_t)):
        assert tuple(c.shape) == tuple(t.shape)
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        assert_close(c.detach().numpy(), t.detach().numpy(), rtol, atol, f"result {k}")
    # the final states are stacked per layer and direction, as in PyTorch
    for c, t in zip(res_c[1:], res_t[1:]):
        assert grad_fn_name(c) == grad_fn_name(t) == "StackBackward0"
    if kw.get("bidirectional") and not kw.get("batch_first"):
        assert grad_fn_name(res_c[0]) == grad_fn_name(res_t[0]) == "CatBackward0"
    if kw.get("batch_first"):
        # PyTorch transposes in place (TransposeBackward1), except on its fused LSTM
        assert grad_fn_name(res_c[0]) == grad_fn_name(res_t[0])
    backward_both(res_c, res_t)
    assert_close(xc.grad.numpy(), xt.grad.numpy(), rtol, atol, "input grad")
    if with_state:
        for k, (c, t) in enumerate(zip(states_c, states_t)):
            assert_close(c.grad.numpy(), t.grad.numpy(), rtol, atol, f"state {k} grad")
    compare_param_grads(mod_c, mod_t, rtol, atol)


@requires_torch
def test_lstm_output_node_is_named_as_torch():
    mod_c, mod_t = build("LSTM", "float32")
    x = np.random.default_rng(0).standard_normal((T, B, INPUT)).astype(np.float32)
    out_c, _ = mod_c(cgrad.tensor(x))
    out_t, _ = mod_t(torch.tensor(x))
    assert grad_fn_name(out_c) == grad_fn_name(out_t) == "MkldnnRnnLayerBackward0"


def _empty_input_outcome(lib, kind, kw, shape):
    """Shapes and grad_fn names of an RNN's outputs on an input with a zero
    dimension, and of the input's gradient; or the exception raised."""
    mod = getattr(lib.nn, kind)(INPUT, 3, **kw)
    x = lib.zeros(*shape, requires_grad=True)
    try:
        out, state = mod(x)
    except RuntimeError as exc:
        return "RuntimeError", str(exc)
    states = list(state) if isinstance(state, tuple) else [state]
    out.sum().backward()
    return [(tuple(t.shape), grad_fn_name(t)) for t in [out] + states], tuple(x.grad.shape)


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("kw", [dict(), dict(num_layers=2, bidirectional=True), dict(batch_first=True)])
@pytest.mark.parametrize("shape", [(0, 2, INPUT), (4, 0, INPUT), (0, INPUT)])
def test_empty_sequence_or_batch_like_torch(kind, kw, shape):
    """No time steps: ATen's error. An empty batch: PyTorch's LSTM leaves its
    fused oneDNN layer for the stacked steps (StackBackward0)."""
    expected = _empty_input_outcome(torch, kind, kw, shape)
    assert _empty_input_outcome(cgrad, kind, kw, shape) == expected


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(kind, batch_first):
    mod_c, mod_t = build(kind, "float64", batch_first=batch_first, num_layers=2)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((T, INPUT))
    h = rng.standard_normal((2, HIDDEN))
    hx_c = (cgrad.tensor(h), cgrad.tensor(h * 0.5)) if kind == "LSTM" else cgrad.tensor(h)
    hx_t = (torch.tensor(h), torch.tensor(h * 0.5)) if kind == "LSTM" else torch.tensor(h)
    for c, t in zip(flat(mod_c(cgrad.tensor(x), hx_c)), flat(mod_t(torch.tensor(x), hx_t))):
        assert tuple(c.shape) == tuple(t.shape)
        assert_close(c.detach().numpy(), t.detach().numpy(), 1e-10, 1e-12, "unbatched")


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_dropout_between_layers(kind):
    """dropout=1 zeroes the second layer's input: deterministic in both."""
    mod_c, mod_t = build(kind, "float64", num_layers=2, dropout=1.0)
    x = np.random.default_rng(6).standard_normal((T, B, INPUT))
    xc = cgrad.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    res_c, res_t = flat(mod_c(xc)), flat(mod_t(xt))
    for c, t in zip(res_c, res_t):
        assert_close(c.detach().numpy(), t.detach().numpy(), 1e-10, 1e-12, "dropout=1")
    backward_both(res_c, res_t)
    compare_param_grads(mod_c, mod_t, 1e-9, 1e-12)
    mod_c.eval()
    mod_t.eval()
    for c, t in zip(flat(mod_c(cgrad.tensor(x))), flat(mod_t(torch.tensor(x)))):
        assert_close(c.detach().numpy(), t.detach().numpy(), 1e-10, 1e-12, "eval")


@requires_torch
def test_dropout_warning_and_errors():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        cgrad.nn.LSTM(2, 3, dropout=0.5)
    cases = [
        (lambda nn: nn.LSTM(2, 3, dropout=1.5), ValueError),
        (lambda nn: nn.GRU(2, 3, proj_size=1), ValueError),
        (lambda nn: nn.RNN(2, 3, nonlinearity="gelu"), ValueError),
        (lambda nn: nn.LSTM(2, 3, proj_size=3), ValueError),
        (lambda nn: nn.LSTM(2, 0), ValueError),
        (lambda nn: nn.LSTM(2, 3, num_layers=0), ValueError),
        (lambda nn: nn.LSTM(2, 3, bias=1), TypeError),
        (lambda nn: nn.LSTM(2.0, 3), TypeError),
    ]
    for make, exc in cases:
        with pytest.raises(exc) as ec:
            make(cgrad.nn)
        with pytest.raises(exc) as et:
            make(torch.nn)
        assert str(ec.value) == str(et.value)


@requires_torch
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_shape_errors_match_torch(kind):
    mod_c, mod_t = build(kind, "float32")
    bad = [
        ((T, B, INPUT + 1), None),                  # input_size
        ((T, B, INPUT, 1), None),                    # 4-D input
        ((T, B, INPUT), [(1, B + 1, HIDDEN)] * 2),   # hidden batch
        ((T, B, INPUT), [(2, B, HIDDEN)] * 2),       # hidden layers
        ((T, B, INPUT), [(B, HIDDEN)] * 2),          # 2-D hidden, batched input
        ((T, INPUT), [(1, B, HIDDEN)] * 2),          # 3-D hidden, unbatched input
    ]
    for shape, hshapes in bad:
        args_c, args_t = [cgrad.zeros(*shape)], [torch.zeros(*shape)]
        if hshapes is not None:
            if kind == "LSTM":
                args_c.append(tuple(cgrad.zeros(*s) for s in hshapes))
                args_t.append(tuple(torch.zeros(*s) for s in hshapes))
            else:
                args_c.append(cgrad.zeros(*hshapes[0]))
                args_t.append(torch.zeros(*hshapes[0]))
        with pytest.raises(Exception) as et:
            mod_t(*args_t)
        with pytest.raises(type(et.value)) as ec:
            mod_c(*args_c)
        assert str(ec.value) == str(et.value)
    with pytest.raises(ValueError) as ec:
        mod_c(cgrad.zeros(T, B, INPUT, dtype=cgrad.float64))
    with pytest.raises(ValueError) as et:
        mod_t(torch.zeros(T, B, INPUT, dtype=torch.float64))
    assert str(ec.value) == str(et.value).replace("torch.", "cgrad.")


# --- the fused layer on its own: finite differences -------------------------------

def _layer_inputs(mode, reverse, proj, bias, lengths, seed=0):
    rng = np.random.default_rng(seed)
    t, b, i, h = 4, 3, 3, 4
    g = {0: 1, 1: 1, 2: 4, 3: 3}[mode]
    p = 2 if proj else h
    arrays = [rng.standard_normal((t, b, i)), rng.standard_normal((b, p)) * 0.5,
              rng.standard_normal((b, h)) * 0.5 if mode == 2 else None,
              rng.standard_normal((g * h, i)) * 0.5, rng.standard_normal((g * h, p)) * 0.5,
              rng.standard_normal(g * h) * 0.5 if bias else None,
              rng.standard_normal(g * h) * 0.5 if bias else None,
              rng.standard_normal((p, h)) * 0.5 if proj else None]
    if mode == 1:       # keep relu's inputs away from its kink
        arrays[0] = np.abs(arrays[0])
        arrays[3] = np.abs(arrays[3]) + 0.1
    tensors = [None if a is None else cgrad.tensor(a, requires_grad=True) for a in arrays]
    lens = None if lengths is None else cgrad.tensor(np.asarray(lengths, dtype=np.int64))
    return tensors, lens


LAYER_CASES = [
    (0, False, False, True, None), (0, True, False, True, [4, 2, 1]),
    (1, False, False, True, None), (1, True, False, False, [4, 3, 3]),
    (2, False, False, True, None), (2, True, False, True, [4, 2, 1]),
    (2, False, True, True, None), (2, True, True, False, [3, 4, 1]),
    (3, False, False, True, None), (3, True, False, True, [4, 2, 1]), (3, False, False, False, [2, 4, 3]),
]


@pytest.mark.parametrize("mode,reverse,proj,bias,lengths", LAYER_CASES)
def test_fused_layer_gradcheck(mode, reverse, proj, bias, lengths):
    tensors, lens = _layer_inputs(mode, reverse, proj, bias, lengths)
    present = [k for k, t in enumerate(tensors) if t is not None]

    def fn(*xs):
        args = list(tensors)
        for k, x in zip(present, xs):
            args[k] = x
        out, h, c = cgrad._C._rnn_layer(mode, reverse, *args, lens)
        return (out, h) if c is None else (out, h, c)
    assert cgrad.autograd.gradcheck(fn, [tensors[k] for k in present], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("mode,reverse,proj,bias,lengths",
                         [LAYER_CASES[0], LAYER_CASES[5], LAYER_CASES[7], LAYER_CASES[9]])
def test_fused_layer_gradgradcheck(mode, reverse, proj, bias, lengths):
    tensors, lens = _layer_inputs(mode, reverse, proj, bias, lengths, seed=1)
    present = [k for k, t in enumerate(tensors) if t is not None]

    def fn(*xs):
        args = list(tensors)
        for k, x in zip(present, xs):
            args[k] = x
        out, h, c = cgrad._C._rnn_layer(mode, reverse, *args, lens)
        return (out, h) if c is None else (out, h, c)
    assert cgrad.autograd.gradgradcheck(fn, [tensors[k] for k in present], atol=1e-5, rtol=1e-3)


def test_fused_layer_frees_and_refuses_second_backward():
    tensors, lens = _layer_inputs(2, False, False, True, None)
    out, h, c = cgrad._C._rnn_layer(2, False, *tensors, lens)
    out.sum().backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.sum().backward()


def test_fused_layer_checks_versions():
    tensors, lens = _layer_inputs(3, False, False, True, None)
    out, h, _ = cgrad._C._rnn_layer(3, False, *tensors, lens)
    with cgrad.no_grad():
        tensors[4].add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_module_gradcheck_float64(kind):
    mod = getattr(cgrad.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((3, 2, 3)), requires_grad=True)
    assert cgrad.autograd.gradcheck(lambda x: flat(mod(x))[0], [x], atol=1e-6, rtol=1e-4)
    assert cgrad.autograd.gradgradcheck(lambda x: flat(mod(x))[0], [x], atol=1e-5, rtol=1e-3)


def test_fused_layer_refuses_bad_arguments():
    tensors, lens = _layer_inputs(2, False, False, True, None)
    x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr = tensors
    bad = [
        (2, x, h, c, w_ih, w_hh[:, :3], b_ih, b_hh, None, None),            # w_hh columns
        (2, x, h, c, w_ih, w_hh, b_ih, None, None, None),                   # one bias only
        (2, x[0], h, c, w_ih, w_hh, b_ih, b_hh, None, None),                # 2-D input
        (2, x, h, c, w_ih, w_hh, b_ih, b_hh, None, cgrad.tensor([5, 1, 1])),   # a length past T
        (2, x, h, c, w_ih, w_hh, b_ih, b_hh, None, cgrad.tensor([1, 1])),      # lengths per row
        (3, x, h, None, w_ih, w_hh, b_ih, b_hh, w_hh, None),                # projection on GRU
    ]
    for mode, *args in bad:
        with pytest.raises(RuntimeError):
            cgrad._C._rnn_layer(mode, False, *args)
    with pytest.raises(TypeError, match="argument 'cx' must be Tensor, not None"):
        cgrad._C._rnn_layer(2, False, x, h, None, w_ih, w_hh, b_ih, b_hh, None, None)
    with pytest.raises(RuntimeError, match="expected scalar type"):
        cgrad._C._rnn_layer(2, False, x.float(), h, c, w_ih, w_hh, b_ih, b_hh, None, None)
    with pytest.raises(NotImplementedError):
        cgrad._C._rnn_layer(2, False, x.long(), h.long(), c.long(), w_ih.long(), w_hh.long(), None, None, None,
                            None)


def test_copy_pickle_and_state_dict_keep_the_layer_working():
    import copy
    import pickle
    mod = cgrad.nn.LSTM(3, 4, 2, bidirectional=True)
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32))
    expected = mod(x)[0].detach().numpy()
    again = cgrad.nn.LSTM(3, 4, 2, bidirectional=True)
    again.load_state_dict(mod.state_dict())
    for other in (copy.deepcopy(mod), pickle.loads(pickle.dumps(mod)), again):
        assert np.array_equal(other(x)[0].detach().numpy(), expected)


def test_rnn_cell_unknown_nonlinearity_before_size_checks():
    """Found by the round-15 module fuzzing: PyTorch's RNNCell.forward picks
    the cell function (and fails on an unknown nonlinearity) before the
    cell's input-size check."""
    cell = cgrad.nn.RNNCell(4, 3, nonlinearity="x")
    with pytest.raises(RuntimeError, match="^Unknown nonlinearity: x$"):
        cell(cgrad.ones(2, 3))
    with pytest.raises(ValueError, match="RNNCell: Expected input to be 1D or 2D, got 3D instead"):
        cell(cgrad.ones(1, 2, 4))
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 3 expected 4"):
        cgrad.nn.RNNCell(4, 3)(cgrad.ones(2, 3))
