"""conv_transpose1d/conv_transpose2d and nn.ConvTranspose1d/2d against torch:
values, gradients of input, weight and bias, grad_fn names, dtypes, many
stride/padding/output_padding/dilation/groups combinations (output_padding
past the stride too), unbatched inputs, the module's output_size=, init,
repr and padding_mode refusal, error types and texts; float64 gradcheck
and gradgradcheck, which run without torch too."""
import math
import re

import numpy as np
import pytest

import cgrad
import cgrad.nn as cnn
import cgrad.nn.functional as CF
from helpers import compare_with_torch, rand, requires_torch, torch
from nn_compare import error_of

if torch is not None:
    import torch.nn.functional as TF
else:  # pragma: no cover
    TF = None


def F(lib):
    return CF if lib is cgrad else TF


# (input shape, groups, out_channels/groups, kernel, stride, padding, output_padding, dilation)
CASES_2D = [
    ((2, 4, 5, 5), 1, 3, (3, 3), 1, 0, 0, 1),
    ((2, 4, 5, 4), 1, 2, (3, 2), 2, 1, 1, 1),
    ((1, 4, 3, 6), 2, 3, (2, 3), (2, 3), (0, 1), (1, 2), (1, 2)),
    ((2, 6, 4, 4), 3, 2, (3, 3), 3, 2, 2, 2),
    ((2, 4, 4, 5), 2, 1, (3, 2), 1, 1, (1, 2), 3),          # output_padding >= stride (dilation larger)
    ((2, 4, 3, 3), 1, 2, (2, 2), 2, 0, 2, 3),
    ((2, 6, 3, 3), 6, 1, (3, 3), 2, 1, 1, 1),               # depthwise
    ((2, 3, 4, 4), 1, 5, (1, 1), 1, 0, 0, 1),               # 1x1
    ((0, 4, 3, 3), 2, 2, (2, 2), 2, 0, 1, 1),               # empty batch
    ((1, 2, 1, 1), 1, 3, (1, 1), 1, 0, 1, 2),               # a single pixel; output_padding past the input
]

CASES_1D = [
    ((2, 4, 7), 1, 3, (3,), 1, 0, 0, 1),
    ((2, 4, 7), 2, 3, (3,), 2, 1, 1, 2),
    ((3, 6, 5), 3, 2, (4,), 3, 2, 2, 1),
    ((2, 4, 5), 1, 2, (2,), 1, 0, 2, 3),
]


def _arrays(shape, groups, ocg, kernel, seed, dtype, bias=True):
    x = rand(*shape, seed=seed, dtype=dtype)
    w = rand(shape[1], ocg, *kernel, seed=seed + 1, dtype=dtype)
    return (x, w, rand(ocg * groups, seed=seed + 2, dtype=dtype)) if bias else (x, w)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(CASES_2D)))
def test_conv_transpose2d_matches_torch(case, dtype):
    shape, groups, ocg, kernel, stride, padding, output_padding, dilation = CASES_2D[case]
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)
    out_c, _ = compare_with_torch(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, **kw),
                                  *_arrays(shape, groups, ocg, kernel, case, dtype), **tol)
    assert type(out_c.grad_fn).__name__ == "ConvolutionBackward0"


@pytest.mark.parametrize("case", range(len(CASES_1D)))
def test_conv_transpose1d_matches_torch(case):
    shape, groups, ocg, kernel, stride, padding, output_padding, dilation = CASES_1D[case]
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups, dilation=dilation)
    compare_with_torch(lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, **kw),
                       *_arrays(shape, groups, ocg, kernel, case, np.float32), rtol=1e-4, atol=1e-5)


def test_conv_transpose_positional_arguments_and_no_bias():
    x, w = _arrays((2, 4, 3, 4), 2, 3, (3, 2), 5, np.float64, bias=False)
    # torch's order: bias, stride, padding, output_padding, groups, dilation
    out_c, out_t = compare_with_torch(lambda lib, x, w: F(lib).conv_transpose2d(x, w, None, 2, 1, 1, 2, 1),
                                      x, w, rtol=1e-10, atol=1e-12)
    assert len(out_c.grad_fn.next_functions) == 3
    assert out_c.grad_fn.next_functions[2] == (None, 0)
    assert out_t is None or len(out_t.grad_fn.next_functions) == 3


def test_conv_transpose_unbatched():
    x, w, b = _arrays((1, 4, 3, 5), 1, 2, (2, 3), 7, np.float32)
    x = x[0]
    out_c, _ = compare_with_torch(lambda lib, x, w, b: F(lib).conv_transpose2d(x, w, b, stride=2, padding=1),
                                  x, w, b, rtol=1e-4, atol=1e-5)
    assert tuple(out_c.shape) == (2, 4, 9)
    x1, w1, b1 = _arrays((1, 4, 6), 2, 3, (3,), 8, np.float32)
    x1 = x1[0]
    compare_with_torch(lambda lib, x, w, b: F(lib).conv_transpose1d(x, w, b, groups=2, output_padding=1,
                                                                    stride=2),
                       x1, w1, b1, rtol=1e-4, atol=1e-5)


def test_conv_transpose_only_weight_requires_grad():
    x, w, b = _arrays((2, 4, 3, 3), 1, 2, (3, 3), 9, np.float64)
    for lib in ([cgrad, torch] if torch is not None else [cgrad]):
        xt, wt = lib.tensor(x), lib.tensor(w, requires_grad=True)
        y = F(lib).conv_transpose2d(xt, wt, lib.tensor(b), stride=2)
        y.sum().backward()
        assert xt.grad is None
        assert wt.grad is not None
    # the weight gradient with a ones grad_output: x summed against each window of ones
    xt, wt = cgrad.tensor(x), cgrad.tensor(w, requires_grad=True)
    CF.conv_transpose2d(xt, wt, stride=2).sum().backward()
    expected = np.broadcast_to(x.sum(axis=(0, 2, 3))[:, None, None, None], w.shape)
    np.testing.assert_allclose(wt.grad.numpy(), expected, rtol=1e-12)


def test_conv_transpose_known_values_without_torch():
    # a 1-D transposed convolution scatters each input times the kernel at stride steps
    x = cgrad.tensor([[[1.0, 2.0, 3.0]]], dtype=cgrad.float64)
    w = cgrad.tensor([[[1.0, 10.0]]], dtype=cgrad.float64)
    out = CF.conv_transpose1d(x, w, cgrad.tensor([0.5], dtype=cgrad.float64), stride=2, output_padding=1)
    np.testing.assert_array_equal(out.numpy(), [[[1.5, 10.5, 2.5, 20.5, 3.5, 30.5, 0.5]]])
    out = CF.conv_transpose1d(x, w, padding=1)
    np.testing.assert_array_equal(out.numpy(), [[[12.0, 23.0]]])


def test_conv_transpose_is_conv_input_gradient_without_torch():
    x = cgrad.tensor(rand(2, 3, 7, 6, seed=11, dtype=np.float64), requires_grad=True)
    w = cgrad.tensor(rand(4, 3, 3, 2, seed=12, dtype=np.float64))
    g = cgrad.tensor(rand(2, 4, 4, 3, seed=13, dtype=np.float64))
    y = CF.conv2d(x, w, stride=2, padding=1, dilation=(1, 2))
    (gx,) = cgrad.autograd.grad(y, x, g)
    out = CF.conv_transpose2d(g, w, stride=2, padding=1, dilation=(1, 2), output_padding=(0, 1))
    np.testing.assert_allclose(out.numpy(), gx.numpy(), rtol=1e-12, atol=1e-12)


GRAD_CASES = [
    ((2, 4, 3, 3), 2, 2, (3, 2), dict(stride=2, padding=1, output_padding=1, groups=2)),
    ((1, 2, 3, 2), 1, 2, (2, 2), dict(stride=(2, 1), padding=(1, 0), output_padding=(0, 1), dilation=(1, 2))),
    ((2, 2, 2, 3), 1, 1, (2, 2), dict(stride=1, output_padding=2, dilation=3)),
]


@pytest.mark.parametrize("shape, groups, ocg, kernel, kw", GRAD_CASES)
def test_conv_transpose2d_gradcheck_and_gradgradcheck(shape, groups, ocg, kernel, kw):
    ins = [cgrad.tensor(a, requires_grad=True) for a in _arrays(shape, groups, ocg, kernel, 20, np.float64)]
    fn = lambda x, w, b: CF.conv_transpose2d(x, w, b, **kw)  # noqa: E731
    assert cgrad.autograd.gradcheck(fn, ins)
    assert cgrad.autograd.gradgradcheck(fn, ins)


def test_conv_transpose1d_gradcheck_and_gradgradcheck():
    ins = [cgrad.tensor(a, requires_grad=True) for a in _arrays((2, 4, 4), 2, 2, (3,), 30, np.float64)]
    fn = lambda x, w, b: CF.conv_transpose1d(x, w, b, stride=2, padding=1, output_padding=1, groups=2)  # noqa
    assert cgrad.autograd.gradcheck(fn, ins)
    assert cgrad.autograd.gradgradcheck(fn, ins)
    unbatched = lambda x, w, b: CF.conv_transpose1d(x[0], w, b, dilation=2, groups=2)  # noqa: E731
    assert cgrad.autograd.gradcheck(unbatched, ins)
    assert cgrad.autograd.gradgradcheck(unbatched, ins)


@requires_torch
def test_conv_transpose_double_backward_matches_torch():
    x, w, b = _arrays((2, 4, 3, 3), 2, 2, (3, 2), 40, np.float64)
    gg = rand(2, 4, 6, 5, seed=44, dtype=np.float64)
    results = []
    for lib in (cgrad, torch):
        xt, wt, bt = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        y = F(lib).conv_transpose2d(xt, wt, bt, stride=2, padding=1, output_padding=1, groups=2)
        gx, gw, gb = lib.autograd.grad((y * lib.tensor(gg)).pow(2).sum(), (xt, wt, bt), create_graph=True)
        (gx.sum() + (gw * gw).sum() + gb.sum()).backward()
        results.append([t.detach().numpy() for t in (gx, gw, gb, xt.grad, wt.grad)])
    for c, t in zip(*results):
        np.testing.assert_allclose(c, t, rtol=1e-9, atol=1e-10)


@requires_torch
def test_conv_transpose_integer_and_half_dtypes():
    x, w = rand(2, 4, 3, 3, seed=50, low=-4, high=4), rand(4, 2, 2, 2, seed=51, low=-4, high=4)
    for dt in ("int64", "float16"):
        out = [F(lib).conv_transpose2d(lib.tensor(x).to(getattr(lib, dt)), lib.tensor(w).to(getattr(lib, dt)),
                                       stride=2) for lib in (cgrad, torch)]
        assert str(out[0].dtype) == str(out[1].dtype).replace("torch", "cgrad")
        np.testing.assert_allclose(out[0].float().numpy(), out[1].float().numpy(), rtol=1e-3, atol=1e-2)


ERROR_CASES = [
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=2, output_padding=2),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=(1, 2), padding=(1, 2), output_padding=(0, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, groups=3),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, groups=0),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, groups=0, stride=0),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=0),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=0, padding=-1),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding=-1, output_padding=-1),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, output_padding=-1),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, dilation=-1),
    lambda lib, x, w: F(lib).conv_transpose2d(x, lib.ones(5, 3, 3, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, lib.ones(4, 3, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, lib.ones(4)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, lib.ones(3, 2)),
    lambda lib, x, w: F(lib).conv_transpose2d(lib.ones(1, 2, 3, 4, 5), w),
    lambda lib, x, w: F(lib).conv_transpose2d(lib.ones(4), w),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w.double()),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, lib.ones(3).double()),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w.double(), output_padding=5),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=(1, 2, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding=(1, 2, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, output_padding=(1, 2, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, dilation=(1, 2, 3)),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, padding="same"),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, groups=1.5),
    lambda lib, x, w: F(lib).conv_transpose2d(x, w, stride=1.5),
    lambda lib, x, w: F(lib).conv_transpose2d([1], w),
    lambda lib, x, w: F(lib).conv_transpose2d(x.to(lib.int16), w.to(lib.int16)),
    lambda lib, x, w: F(lib).conv_transpose2d(lib.ones(2, 4, 0, 5), w),
    lambda lib, x, w: F(lib).conv_transpose1d(lib.ones(2, 4, 5), lib.ones(4, 3, 3), stride=2, output_padding=2),
    lambda lib, x, w: F(lib).conv_transpose1d(lib.ones(2, 4, 5), lib.ones(5, 3, 3)),
    lambda lib, x, w: F(lib).conv_transpose1d(lib.ones(2, 4, 5), lib.ones(4, 3, 3), stride=(2, 2)),
    lambda lib, x, w: F(lib).conv_transpose1d(lib.ones(2, 4, 5), w),
]


@requires_torch
@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_conv_transpose_errors_match_torch(case):
    x_np, w_np = rand(2, 4, 5, 5, seed=60), rand(4, 3, 3, 3, seed=61)
    got = [error_of(lib, lambda lib: ERROR_CASES[case](lib, lib.tensor(x_np), lib.tensor(w_np)))
           for lib in (cgrad, torch)]
    assert got[1] is not None
    assert got[0] == got[1]


def test_conv_transpose_output_too_small_error():
    # PyTorch's oneDNN path words this differently; this is its native kernels' text
    with pytest.raises(RuntimeError, match=re.escape(
            "Given input size per channel: (5 x 5). Calculated output size per channel: (-1 x -1). "
            "Output size is too small")):
        CF.conv_transpose2d(cgrad.ones(2, 4, 5, 5), cgrad.ones(4, 3, 3, 3), padding=4)


# --- modules ----------------------------------------------------------------------


def _modules(cls_name, *args, **kwargs):
    mods = [getattr(cnn, cls_name)(*args, **kwargs)]
    if torch is not None:
        mods.append(getattr(torch.nn, cls_name)(*args, **kwargs))
        with torch.no_grad():
            mods[1].weight.copy_(torch.tensor(mods[0].weight.detach().numpy()))
            if mods[0].bias is not None:
                mods[1].bias.copy_(torch.tensor(mods[0].bias.detach().numpy()))
    return mods


MODULE_CASES = [
    ("ConvTranspose2d", (4, 6, 3), dict(stride=2, padding=1, output_padding=1, groups=2, dilation=2)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(stride=(2, 1), bias=False)),
    ("ConvTranspose2d", (3, 2, 2), {}),
    ("ConvTranspose1d", (4, 6, 3), dict(stride=3, padding=1, output_padding=2, groups=2)),
    ("ConvTranspose1d", (4, 6, 3), {}),
]


@pytest.mark.parametrize("name, args, kwargs", MODULE_CASES)
def test_conv_transpose_module_shape_init_repr(name, args, kwargs):
    mods = _modules(name, *args, **kwargs)
    m = mods[0]
    in_channels, out_channels, groups = args[0], args[1], kwargs.get("groups", 1)
    kernel = args[2] if isinstance(args[2], tuple) else (args[2],) * (2 if name.endswith("2d") else 1)
    assert tuple(m.weight.shape) == (in_channels, out_channels // groups) + kernel
    assert m.transposed is True
    fan_in = (out_channels // groups) * math.prod(kernel)
    bound = 1 / math.sqrt(fan_in)       # kaiming_uniform_(a=sqrt(5)) gives the same bound as the bias
    assert float(m.weight.detach().abs().max()) <= bound
    assert float(m.weight.detach().std()) > bound / 4
    if kwargs.get("bias", True):
        assert tuple(m.bias.shape) == (out_channels,)
        assert float(m.bias.detach().abs().max()) <= bound
    else:
        assert m.bias is None
    if len(mods) == 2:
        assert repr(m) == repr(mods[1])
        assert [n for n, _ in m.named_parameters()] == [n for n, _ in mods[1].named_parameters()]


@requires_torch
@pytest.mark.parametrize("name, args, kwargs", MODULE_CASES)
def test_conv_transpose_module_forward_backward_matches_torch(name, args, kwargs):
    mods = _modules(name, *args, **kwargs)
    spatial = (5, 4) if name.endswith("2d") else (6,)
    x = rand(2, args[0], *spatial, seed=70)
    outs = []
    for lib, m in zip((cgrad, torch), mods):
        xt = lib.tensor(x, requires_grad=True)
        y = m(xt)
        (y * y).sum().backward()
        outs.append((y, xt.grad, m.weight.grad, None if m.bias is None else m.bias.grad))
    assert type(outs[0][0].grad_fn).__name__ == type(outs[1][0].grad_fn).__name__ == "ConvolutionBackward0"
    for c, t in zip(*outs):
        if t is None:
            assert c is None
            continue
        np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=1e-4, atol=1e-4)


@requires_torch
@pytest.mark.parametrize("output_size", [[12, 12], [2, 6, 12, 12], [11, 11], [12, 11], [6, 11, 12],
                                         [13, 13], [1, 12, 12], [12]])
@pytest.mark.parametrize("batched", [True, False])
def test_conv_transpose_module_output_size(output_size, batched):
    mods = _modules("ConvTranspose2d", 4, 6, 3, stride=2)
    x = rand(2, 4, 5, 5, seed=80)
    if not batched:
        x = x[0]
    results = []
    for lib, m in zip((cgrad, torch), mods):
        xt = lib.tensor(x)
        try:
            y = m(xt, output_size=output_size)
        except Exception as e:  # noqa: BLE001 - the exception is the result
            results.append((type(e).__name__, re.sub(r"\btorch\.", "cgrad.", str(e))))
        else:
            results.append(y.detach().numpy())
    if isinstance(results[1], tuple):
        assert results[0] == results[1]
    else:
        np.testing.assert_allclose(results[0], results[1], rtol=1e-4, atol=1e-5)


def test_conv_transpose_module_output_size_without_torch():
    m = cnn.ConvTranspose1d(2, 3, 3, stride=3)
    assert tuple(m(cgrad.ones(1, 2, 4), output_size=[14]).shape) == (1, 3, 14)
    assert tuple(m(cgrad.ones(1, 2, 4), output_size=[1, 3, 13]).shape) == (1, 3, 13)
    with pytest.raises(ValueError, match=re.escape(
            "requested an output size of [15], but valid sizes range from [12] to [14] (for an input of "
            "cgrad.Size([4]))")):
        m(cgrad.ones(1, 2, 4), output_size=[15])


@pytest.mark.parametrize("name", ["ConvTranspose1d", "ConvTranspose2d"])
def test_conv_transpose_module_padding_mode_refused(name):
    with pytest.raises(ValueError, match=f'^Only "zeros" padding mode is supported for {name}$'):
        getattr(cnn, name)(4, 6, 3, padding_mode="reflect")
    m = getattr(cnn, name)(4, 6, 3)
    m.padding_mode = "circular"
    x = cgrad.ones(1, 4, 5) if name.endswith("1d") else cgrad.ones(1, 4, 5, 5)
    with pytest.raises(ValueError, match=f"^Only `zeros` padding mode is supported for {name}$"):
        m(x)


@requires_torch
@pytest.mark.parametrize("kwargs", [dict(groups=3), dict(groups=0), dict(padding_mode="bad"),
                                    dict(padding="same")])
def test_conv_transpose_module_argument_errors_match_torch(kwargs):
    got = []
    for lib in (cgrad, torch):
        try:
            m = lib.nn.ConvTranspose2d(4, 6, 3, **kwargs)
            got.append(repr(m))
        except Exception as e:  # noqa: BLE001 - the exception is the result
            got.append((type(e).__name__, str(e)))
    assert got[0] == got[1]


def test_conv_transpose_module_float64_and_state_dict():
    m = cnn.ConvTranspose2d(2, 4, 3, stride=2, dtype=cgrad.float64)
    assert m.weight.dtype == cgrad.float64
    assert sorted(m.state_dict()) == ["bias", "weight"]
    y = m(cgrad.ones(1, 2, 3, 3, dtype=cgrad.float64))
    assert y.dtype == cgrad.float64 and tuple(y.shape) == (1, 4, 7, 7)


@requires_torch
@pytest.mark.parametrize("n", [1, 2])
def test_conv_transpose_node_saved_attributes_match_torch(n):
    x = rand(2, 4, *(5,) * n, seed=90)
    w = rand(4, 3, *(3,) * n, seed=91)
    names = ["_saved_stride", "_saved_padding", "_saved_dilation", "_saved_output_padding", "_saved_groups",
             "_saved_transposed", "_saved_bias_sym_sizes_opt"]
    seen = []
    for lib in (cgrad, torch):
        conv = getattr(F(lib), f"conv_transpose{n}d")
        xt = lib.tensor(x, requires_grad=True)
        for bias in (None, lib.ones(3)):
            node = conv(xt, lib.tensor(w), bias, 2, 1, 1, 1, 2).grad_fn
            assert node._saved_input is xt
            seen.append([getattr(node, name) for name in names])
        y = conv(xt, lib.tensor(w), None, 2)
        y.sum().backward()
        with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
            y.grad_fn._saved_input
    assert seen[:2] == seen[2:]


@requires_torch
@pytest.mark.parametrize("dims", [1, 2])
def test_torch_level_names(dims):
    """torch.conv_transpose1d/2d are the functional ops under the torch namespace."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 4) + (5,) * dims)
    w = rng.standard_normal((4, 3) + (3,) * dims)
    b = rng.standard_normal(3)
    name = f"conv_transpose{dims}d"
    got = getattr(cgrad, name)(cgrad.tensor(x), cgrad.tensor(w), cgrad.tensor(b), 2, 1, 1)
    want = getattr(torch, name)(torch.tensor(x), torch.tensor(w), torch.tensor(b), 2, 1, 1)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
