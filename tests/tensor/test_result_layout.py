"""The layout of new results, as PyTorch's TensorIterator and CPU nn kernels
choose it: an element-wise op on a transposed, permuted or channels-last
tensor keeps that layout (inputs of one shape and the same dense strides
give those strides, otherwise the dims are ordered by the inputs' strides,
the first input deciding first); convolution, pooling, batch/group norm,
padding and upsampling write channels-last results for channels-last
inputs; a leaf's .grad follows the leaf's layout (the gradient layout
contract). Strides are compared against torch and against hand-computed
values, and every value against the same op on contiguous inputs, so the
file checks something without torch."""
import numpy as np
import pytest

import cgrad
from helpers import torch, requires_torch


def base(lib, *shape, dtype="float64"):
    n = int(np.prod(shape))
    return lib.tensor((np.arange(n, dtype=np.float64).reshape(shape) / 7.0 - 1.3), dtype=getattr(lib, dtype))


def inputs(lib):
    """(name, make) pairs: non-contiguous layouts of a (3, 4) or 4-D tensor."""
    return {
        "transposed": lambda: base(lib, 4, 3).t(),
        "sliced": lambda: base(lib, 3, 8)[:, ::2],
        "transposed_slice": lambda: base(lib, 8, 3)[::2].t(),
        "permuted3": lambda: base(lib, 4, 2, 3).permute(2, 0, 1),
        "channels_last": lambda: base(lib, 2, 3, 4, 5).contiguous(memory_format=lib.channels_last),
        "expanded": lambda: base(lib, 3, 1).expand(3, 4),
        "size1_transposed": lambda: base(lib, 3, 1).t(),
    }


UNARY = {
    "exp": lambda lib, x: x.exp(),
    "neg": lambda lib, x: -x,
    "abs": lambda lib, x: x.abs(),
    "sigmoid": lambda lib, x: x.sigmoid(),
    "relu": lambda lib, x: lib.relu(x),
    "hypot_self": lambda lib, x: lib.hypot(x, x),
    "erfinv": lambda lib, x: (x / 10).erfinv(),
    "add_scalar": lambda lib, x: x + 1,
    "rsub_scalar": lambda lib, x: 2 - x,
    "mul_scalar": lambda lib, x: x * 3,
    "pow2": lambda lib, x: x ** 2,
    "pow_half": lambda lib, x: x.abs() ** 0.5,
    "pow1": lambda lib, x: x ** 1,
    "pow0": lambda lib, x: x ** 0,
    "reciprocal_pow": lambda lib, x: x ** -1,
    "clamp": lambda lib, x: x.clamp(-0.5, 0.5),
    "clamp_min_tensor": lambda lib, x: x.clamp(min=lib.zeros(x.shape[-1], dtype=x.dtype)),
    "gt": lambda lib, x: x > 0,
    "where_scalar": lambda lib, x: lib.where(x > 0, x, 0.0),
    "logical_not": lambda lib, x: lib.logical_not(x),
    "isnan": lambda lib, x: lib.isnan(x),
    "signbit": lambda lib, x: lib.signbit(x),
    "add_alpha": lambda lib, x: lib.add(x, x, alpha=2),
    "lerp": lambda lib, x: lib.lerp(x, x * 2, 0.25),
    "addcmul": lambda lib, x: lib.addcmul(x, x, x, value=0.5),
    "to_float32": lambda lib, x: x.float() * 2,
    "int_exp": lambda lib, x: (x * 4).long().exp(),
    "int_plus_double": lambda lib, x: (x * 4).int() + lib.ones(x.shape, dtype=lib.float64),
    "gelu": lambda lib, x: lib.nn.functional.gelu(x),
    "silu": lambda lib, x: lib.nn.functional.silu(x),
    "softplus": lambda lib, x: lib.nn.functional.softplus(x),
}


def describe(r):
    return tuple(r.shape), r.stride(), str(r.dtype).split(".")[-1]


def contiguous_reference(lib, fn, make):
    """The same op on a contiguous copy of the input: the values must agree."""
    return fn(lib, make().contiguous())


@pytest.mark.parametrize("op", sorted(UNARY))
@pytest.mark.parametrize("layout", sorted(inputs(cgrad)))
def test_unary_layout_and_values(op, layout):
    fn, make = UNARY[op], inputs(cgrad)[layout]
    x = make()
    r = fn(cgrad, x)
    ref = contiguous_reference(cgrad, fn, make)
    assert np.array_equal(r.numpy(), ref.numpy(), equal_nan=True)
    if torch is not None:
        tx = inputs(torch)[layout]()
        assert describe(r) == describe(fn(torch, tx))


BINARY = {
    "t_plus_c": (lambda lib: base(lib, 4, 3).t(), lambda lib: base(lib, 3, 4)),
    "c_plus_t": (lambda lib: base(lib, 3, 4), lambda lib: base(lib, 4, 3).t()),
    "t_plus_t": (lambda lib: base(lib, 4, 3).t(), lambda lib: base(lib, 4, 3).t() * 2),
    "t_plus_row": (lambda lib: base(lib, 4, 3).t(), lambda lib: base(lib, 4)),
    "t_plus_col": (lambda lib: base(lib, 4, 3).t(), lambda lib: base(lib, 3, 1)),
    "col_plus_t": (lambda lib: base(lib, 3, 1), lambda lib: base(lib, 4, 3).t()),
    "perm_plus_c": (lambda lib: base(lib, 2, 3, 4).permute(1, 2, 0), lambda lib: base(lib, 3, 4, 2)),
    "perm_plus_bcast": (lambda lib: base(lib, 5, 4, 3, 2).permute(3, 1, 2, 0), lambda lib: base(lib, 4, 1, 1)),
    "unsqueezed_t_times_c": (lambda lib: base(lib, 3, 2).t()[None], lambda lib: base(lib, 5, 2, 3)),
    "cl_plus_bias": (lambda lib: base(lib, 2, 3, 4, 5).contiguous(memory_format=lib.channels_last),
                     lambda lib: base(lib, 3, 1, 1)),
    "cl_times_c": (lambda lib: base(lib, 2, 3, 4, 5).contiguous(memory_format=lib.channels_last),
                   lambda lib: base(lib, 2, 3, 4, 5)),
}
BINARY_OPS = {
    "add": lambda lib, a, b: a + b,
    "mul": lambda lib, a, b: a * b,
    "div": lambda lib, a, b: a / (b.abs() + 1),
    "maximum": lambda lib, a, b: lib.maximum(a, b),
    "lt": lambda lib, a, b: a < b,
    "where": lambda lib, a, b: lib.where(a > 0, a, b),
    "atan2": lambda lib, a, b: lib.atan2(a, b),
    "sub_alpha": lambda lib, a, b: lib.sub(a, b, alpha=3),
}


# add/sub with alpha round once per element (a fused multiply-add) where
# PyTorch's vector loop does and twice in its scalar tails, so which
# elements round once depends on the order the result is walked in: torch's
# values differ from the contiguous ones in the last bit, and cgrad's equal
# torch's
ORDER_DEPENDENT_ROUNDING = {"sub_alpha"}


@pytest.mark.parametrize("op", sorted(BINARY_OPS))
@pytest.mark.parametrize("case", sorted(BINARY))
def test_binary_layout_and_values(op, case):
    fn = BINARY_OPS[op]
    ma, mb = BINARY[case]
    r = fn(cgrad, ma(cgrad), mb(cgrad))
    ref = fn(cgrad, ma(cgrad).contiguous(), mb(cgrad).contiguous())
    if op in ORDER_DEPENDENT_ROUNDING:
        assert np.allclose(r.numpy(), ref.numpy(), rtol=1e-15, atol=0)
    else:
        assert np.array_equal(r.numpy(), ref.numpy(), equal_nan=True)
    if torch is not None:
        tr = fn(torch, ma(torch), mb(torch))
        assert describe(r) == describe(tr)
        assert np.array_equal(r.numpy(), tr.numpy(), equal_nan=True)


def test_hand_computed_strides():
    xt = cgrad.ones(2, 3).t()
    assert xt.exp().stride() == (1, 3)
    assert (xt + 1).stride() == (1, 3)
    assert (xt + xt).stride() == (1, 3)
    assert (xt + cgrad.ones(3, 2)).stride() == (1, 3)      # the first input decides
    assert (cgrad.ones(3, 2) + xt).stride() == (2, 1)
    assert (xt * cgrad.ones(2)).stride() == (1, 3)         # a broadcast input does not vote
    assert cgrad.ones(2, 3, 4).permute(2, 0, 1).sigmoid().stride() == (1, 12, 4)
    assert cgrad.ones(4, 3)[:, ::2].exp().stride() == (2, 1)
    assert cgrad.ones(4, 3)[::2].t().exp().stride() == (1, 3)
    y = cgrad.ones(2, 3, 4, 5).contiguous(memory_format=cgrad.channels_last).relu()
    assert y.is_contiguous(memory_format=cgrad.channels_last) and not y.is_contiguous()


def test_large_transposed_values_match_contiguous():
    # crosses the thread split and the flat memory-order walk
    a = cgrad.tensor(np.random.default_rng(0).standard_normal((700, 300)).astype(np.float32))
    at = a.t()
    for r, ref in [(at.exp(), a.exp().t()), (at * at + 1, (a * a + 1).t()),
                   (at.sigmoid() * at, (a.sigmoid() * a).t()), (cgrad.add(at, at, alpha=0.5),
                                                                   cgrad.add(a, a, alpha=0.5).t())]:
        assert r.stride() == (1, 300)
        assert np.array_equal(r.numpy(), ref.numpy())
    h = at.half()
    assert np.array_equal(cgrad.add(h, h, alpha=3).numpy(), cgrad.add(a.half(), a.half(), alpha=3).t().numpy())


def test_gradients_of_transposed_inputs():
    x = base(cgrad, 4, 3).t().detach().requires_grad_()
    assert cgrad.autograd.gradcheck(lambda v: (v.exp() * v + v.sigmoid()).sin(), (x,))
    assert cgrad.autograd.gradgradcheck(lambda v: (v.exp() * v).tanh(), (x,))
    y = (x.exp() * x).sum()
    y.backward()
    assert x.grad.stride() == x.stride() == (1, 3)
    xc = x.detach().contiguous().requires_grad_()
    (xc.exp() * xc).sum().backward()
    assert np.array_equal(x.grad.numpy(), xc.grad.numpy())


def grad_layout(lib, make_leaf, loss, create_graph=False):
    x = make_leaf(lib).detach().requires_grad_()
    loss(lib, x).backward(create_graph=create_graph)
    return x.grad.stride(), type(x.grad.grad_fn).__name__ if x.grad.grad_fn is not None else None


LEAVES = {
    "transposed": lambda lib: base(lib, 2, 3).t(),
    "contiguous": lambda lib: base(lib, 3, 2),
    "channels_last": lambda lib: base(lib, 2, 3, 2, 2).contiguous(memory_format=lib.channels_last),
    "sliced": lambda lib: base(lib, 3, 4)[:, ::2],
}
LOSSES = {
    "sum_transposed_back": lambda lib, x: (x.transpose(0, 1) * 2).sum(),
    "mul_contiguous": lambda lib, x: (x * lib.ones(x.shape, dtype=x.dtype)).sum(),
    "square": lambda lib, x: (x * x).sum(),
}


@pytest.mark.parametrize("create_graph", [False, True])
@pytest.mark.parametrize("loss", sorted(LOSSES))
@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_gradient_layout_contract(leaf, loss, create_graph):
    got = grad_layout(cgrad, LEAVES[leaf], LOSSES[loss], create_graph)
    x = LEAVES[leaf](cgrad)
    if leaf == "sliced":
        # not dense: the gradient is contiguous
        assert got[0] == (2, 1)
    else:
        assert got[0] == x.stride()
    if create_graph and loss == "square":
        # the gradient 2x depends on x: copied into a dense leaf's layout by a
        # recorded copy_, else cloned contiguous
        assert got[1] == ("CloneBackward0" if leaf == "sliced" else "CopyBackwards")
    else:
        assert got[1] is None
    if torch is not None:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")     # torch's create_graph=True reference-cycle warning
            assert got == grad_layout(torch, LEAVES[leaf], LOSSES[loss], create_graph)


NN = {
    "conv2d": lambda lib, x: lib.nn.functional.conv2d(x, base(lib, 4, 3, 3, 3) / 9),
    "conv2d_bias": lambda lib, x: lib.nn.functional.conv2d(x, base(lib, 4, 3, 3, 3) / 9, base(lib, 4), padding=1),
    "conv_transpose2d": lambda lib, x: lib.nn.functional.conv_transpose2d(x, base(lib, 3, 2, 3, 3) / 9),
    "batch_norm_train": lambda lib, x: lib.nn.functional.batch_norm(x, None, None, training=True),
    "batch_norm_eval": lambda lib, x: lib.nn.functional.batch_norm(
        x, lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype), base(lib, 3), base(lib, 3), training=False),
    "group_norm": lambda lib, x: lib.nn.functional.group_norm(x, 3),
    "max_pool2d": lambda lib, x: lib.nn.functional.max_pool2d(x, 2),
    "max_pool2d_indices": lambda lib, x: lib.nn.functional.max_pool2d(x, 2, return_indices=True)[1],
    "avg_pool2d": lambda lib, x: lib.nn.functional.avg_pool2d(x, 2),
    "adaptive_avg_pool2d": lambda lib, x: lib.nn.functional.adaptive_avg_pool2d(x, 2),
    "adaptive_max_pool2d": lambda lib, x: lib.nn.functional.adaptive_max_pool2d(x, 2),
    "interpolate_nearest": lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2),
    "interpolate_bilinear": lambda lib, x: lib.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
    "pad_constant": lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1)),
    "pad_reflect": lambda lib, x: lib.nn.functional.pad(x, (1, 1, 1, 1), mode="reflect"),
    "layer_norm": lambda lib, x: lib.nn.functional.layer_norm(x, (5,)),
}


def cl_input(lib):
    return base(lib, 2, 3, 5, 5).contiguous(memory_format=lib.channels_last)


@pytest.mark.parametrize("op", sorted(NN))
def test_nn_channels_last(op):
    fn = NN[op]
    x = cl_input(cgrad).requires_grad_()
    r = fn(cgrad, x)
    ref = fn(cgrad, cl_input(cgrad).contiguous())
    assert np.allclose(r.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    if op != "layer_norm":
        assert r.is_contiguous(memory_format=cgrad.channels_last)
    if r.dtype.is_floating_point:
        r.sum().backward()
        assert x.grad.is_contiguous(memory_format=cgrad.channels_last)
    if torch is not None:
        tx = cl_input(torch).requires_grad_()
        tr = fn(torch, tx)
        assert describe(r) == describe(tr)
        assert np.allclose(r.detach().numpy(), tr.detach().numpy(), rtol=1e-12, atol=1e-12)


@requires_torch
def test_channels_last_weight_gives_channels_last_conv():
    for lib in (cgrad, torch):
        x = base(lib, 2, 3, 5, 5)
        w = (base(lib, 4, 3, 3, 3) / 9).contiguous(memory_format=lib.channels_last)
        assert lib.nn.functional.conv2d(x, w).stride() == (36, 1, 12, 4)


def test_channels_last_module_gradients():
    m = cgrad.nn.Conv2d(3, 4, 3).double().to(memory_format=cgrad.channels_last)
    x = cl_input(cgrad)
    m(x).sum().backward()
    assert m.weight.grad.stride() == m.weight.stride() == (27, 1, 9, 3)
    assert m.bias.grad.stride() == (1,)
