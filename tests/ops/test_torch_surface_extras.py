"""PyTorch functions real scripts call that cgrad lacked: the spectral
windows, scalar_tensor/range/empty_strided, the *_copy and *_scatter forms
of the view ops, unsafe_split/unsafe_chunk, the complex-number functions on
real tensors, ldexp/frexp/vdot/diagflat/nextafter/mvlgamma/histogram, the
deprecated nuclear_norm/frobenius_norm, the function forms of in-place
methods, the bit shifts, Tensor.view(dtype), out= on cat/max/remainder/...,
and torch.norm's matrix norms. Each case runs through torch and cgrad and
compares values, dtypes, shapes, grad_fn names, gradients and error texts."""
import math
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def listed(array):
    """The rounded values as nested lists, nan spelled out (nan != nan)."""
    rounded = np.asarray(np.round(np.asarray(array, dtype=np.float64), 4))
    spelled = rounded.astype(object)
    spelled[np.isnan(rounded)] = "nan"
    return spelled.tolist()


def describe(lib, t):
    if isinstance(t, (tuple, list)):
        return type(t).__name__.replace("_out", ""), [describe(lib, u) for u in t]
    if not isinstance(t, lib.Tensor):
        return t
    fn = t.grad_fn
    return (type(fn).__name__ if fn is not None else None, tuple(t.shape), str(t.dtype).split(".")[-1],
            t.requires_grad, listed(t.detach().numpy()))


def grads_of(lib, inputs, out):
    outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,))
            if isinstance(o, lib.Tensor) and o.requires_grad]
    if not outs:
        return None
    total = sum((o * (lib.arange(o.numel(), dtype=o.dtype).view(o.shape) + 1)).sum() for o in outs)
    total.backward()
    return [None if x.grad is None else listed(x.grad.numpy()) for x in inputs]


def inputs(lib):
    x = lib.tensor([[1.5, -2.0, 0.25, 3.0], [0.5, 4.0, -1.0, 2.0], [1.0, -0.5, 2.5, -3.0]], requires_grad=True)
    s = lib.tensor([[0.5, 1.0, -1.5, 2.0], [1.0, 2.0, 3.0, 4.0]], requires_grad=True)
    i = lib.tensor([1, -8, 3, 100], dtype=lib.int32)
    return x, s, i


def copy_fn(name):
    return lambda lib: getattr(lib, name)


CASES = {
    # factories
    "hann_window": lambda lib, x, s, i: lib.hann_window(6),
    "hann_window symmetric": lambda lib, x, s, i: lib.hann_window(5, periodic=False, dtype=lib.float64),
    "hann_window 1": lambda lib, x, s, i: lib.hann_window(1),
    "hann_window 0": lambda lib, x, s, i: lib.hann_window(0),
    "hann_window negative": lambda lib, x, s, i: lib.hann_window(-1),
    "hann_window int dtype": lambda lib, x, s, i: lib.hann_window(3, dtype=lib.int64),
    "hann_window float length": lambda lib, x, s, i: lib.hann_window(3.0),
    "hamming_window": lambda lib, x, s, i: lib.hamming_window(7),
    "hamming_window alpha beta": lambda lib, x, s, i: lib.hamming_window(4, False, 0.5, 0.3),
    "blackman_window": lambda lib, x, s, i: lib.blackman_window(8, dtype=lib.float64),
    "bartlett_window": lambda lib, x, s, i: lib.bartlett_window(5),
    "bartlett_window symmetric": lambda lib, x, s, i: lib.bartlett_window(6, False),
    "kaiser_window": lambda lib, x, s, i: lib.kaiser_window(6, dtype=lib.float64),
    "kaiser_window beta": lambda lib, x, s, i: lib.kaiser_window(6, False, 5.0, dtype=lib.float64),
    "window requires_grad": lambda lib, x, s, i: lib.hann_window(3, requires_grad=True),
    "scalar_tensor": lambda lib, x, s, i: lib.scalar_tensor(3),
    "scalar_tensor dtype": lambda lib, x, s, i: lib.scalar_tensor(3, dtype=lib.int64),
    "scalar_tensor bool": lambda lib, x, s, i: lib.scalar_tensor(True),
    "range": lambda lib, x, s, i: lib.range(0, 1, 0.25),
    "range int": lambda lib, x, s, i: lib.range(0, 5, 2, dtype=lib.int64),
    "range negative step": lambda lib, x, s, i: lib.range(3, 0, -1),
    "empty_strided": lambda lib, x, s, i: lib.empty_strided((2, 3), (1, 2)).stride(),
    # copies of views
    "diagonal_copy": lambda lib, x, s, i: lib.diagonal_copy(x),
    "expand_copy": lambda lib, x, s, i: lib.expand_copy(x[:1], (2, 3, 4)),
    "permute_copy": lambda lib, x, s, i: lib.permute_copy(x, (1, 0)),
    "select_copy": lambda lib, x, s, i: lib.select_copy(x, 1, 2),
    "slice_copy": lambda lib, x, s, i: lib.slice_copy(x, 1, 1, 3),
    "split_copy": lambda lib, x, s, i: lib.split_copy(x, 2, 1),
    "split_with_sizes_copy": lambda lib, x, s, i: lib.split_with_sizes_copy(x, [1, 3], 1),
    "squeeze_copy": lambda lib, x, s, i: lib.squeeze_copy(x[:1]),
    "squeeze_copy dim": lambda lib, x, s, i: lib.squeeze_copy(x[:1], 0),
    "t_copy": lambda lib, x, s, i: lib.t_copy(x),
    "transpose_copy": lambda lib, x, s, i: lib.transpose_copy(x, 0, 1),
    "unbind_copy": lambda lib, x, s, i: lib.unbind_copy(x, 1),
    "unfold_copy": lambda lib, x, s, i: lib.unfold_copy(x, 1, 2, 1),
    "unsqueeze_copy": lambda lib, x, s, i: lib.unsqueeze_copy(x, 1),
    "view_copy": lambda lib, x, s, i: lib.view_copy(x, (6, 2)),
    "as_strided_copy": lambda lib, x, s, i: lib.as_strided_copy(x, (2, 2), (1, 2)),
    "alias_copy": lambda lib, x, s, i: lib.alias_copy(x),
    "select_scatter": lambda lib, x, s, i: lib.select_scatter(x, s[0], 0, 1),
    "select_scatter method": lambda lib, x, s, i: x.select_scatter(s[:, :3].sum(1).repeat(2)[:3], 1, -1),
    "select_scatter wrong size": lambda lib, x, s, i: lib.select_scatter(x, s[0], 1, 1),
    "slice_scatter": lambda lib, x, s, i: lib.slice_scatter(x, s, 0, 1),
    "slice_scatter step": lambda lib, x, s, i: lib.slice_scatter(x, s[:, :2].t()[:, :1].expand(2, 3).t(), 1, 0, None, 2),
    "slice_scatter wrong size": lambda lib, x, s, i: lib.slice_scatter(x, s),
    "diagonal_scatter": lambda lib, x, s, i: lib.diagonal_scatter(x, s[0, :3]),
    "diagonal_scatter offset": lambda lib, x, s, i: lib.diagonal_scatter(x, s[1, :3], 1),
    "diagonal_scatter wrong size": lambda lib, x, s, i: lib.diagonal_scatter(x, s[1], 1),
    "unsafe_chunk": lambda lib, x, s, i: [describe(lib, p)[:4] for p in lib.unsafe_chunk(x, 2, 1)],
    "unsafe_split": lambda lib, x, s, i: [describe(lib, p)[:4] for p in lib.unsafe_split(x, 2)],
    "unsafe_split_with_sizes": lambda lib, x, s, i: [describe(lib, p)[:4] for p in lib.unsafe_split_with_sizes(x, [3, 1], 1)],
    # complex-number functions on real tensors
    "conj": lambda lib, x, s, i: lib.conj(x) is x,
    "real": lambda lib, x, s, i: (lib.real(x) is x, x.real is x),
    "imag": lambda lib, x, s, i: x.imag,
    "isreal": lambda lib, x, s, i: lib.isreal(i),
    "is_conj": lambda lib, x, s, i: (lib.is_conj(x), x.is_neg(), x.resolve_conj() is x, lib.resolve_neg(x) is x),
    "conj_physical": lambda lib, x, s, i: lib.conj_physical(x),
    "angle": lambda lib, x, s, i: lib.angle(x),
    "angle nan inf": lambda lib, x, s, i: lib.angle(lib.tensor([math.nan, math.inf, -math.inf, -0.0])),
    "angle int": lambda lib, x, s, i: lib.angle(i),
    # numerics
    # (a negative integer exponent: PyTorch's gradient is 2 ** e in integer arithmetic, 0; cgrad's is 2.0 ** e)
    "ldexp": lambda lib, x, s, i: lib.ldexp(x, lib.tensor([1, 2, 0, 3])),
    "ldexp float exponent": lambda lib, x, s, i: x.ldexp(lib.tensor(2.5)),
    "ldexp ints": lambda lib, x, s, i: lib.ldexp(i, lib.tensor([1, 2, 3, 4])),
    "ldexp_": lambda lib, x, s, i: x.detach().clone().ldexp_(lib.tensor([1, 2, 0, -1])),
    "ldexp_ int self": lambda lib, x, s, i: i.clone().ldexp_(lib.tensor([1, 1, 1, 1])),
    "frexp": lambda lib, x, s, i: lib.frexp(lib.tensor([0.0, 1.0, -3.0, 1e-30, math.inf, math.nan])),
    "frexp float64": lambda lib, x, s, i: x.double().frexp(),
    "frexp int": lambda lib, x, s, i: lib.frexp(i),
    "vdot": lambda lib, x, s, i: lib.vdot(x[0], s[0]),
    "vdot ints": lambda lib, x, s, i: lib.vdot(i, i),
    "vdot 2-d": lambda lib, x, s, i: lib.vdot(x, x),
    "vdot sizes": lambda lib, x, s, i: lib.vdot(x[0], x[0, :3]),
    "diagflat": lambda lib, x, s, i: lib.diagflat(x[0]),
    "diagflat 2-d offset": lambda lib, x, s, i: x[:2, :2].diagflat(-1),
    "nextafter": lambda lib, x, s, i: lib.nextafter(x, lib.zeros(4)) - x.detach(),
    "nextafter float64": lambda lib, x, s, i: lib.nextafter(x.double(), lib.tensor(10.0, dtype=lib.float64)),
    "nextafter ints": lambda lib, x, s, i: lib.nextafter(i, i),
    "mvlgamma": lambda lib, x, s, i: lib.mvlgamma(x.abs() + 2, 3),
    "mvlgamma p 1": lambda lib, x, s, i: (x.abs() + 1).mvlgamma(1),
    "mvlgamma p 0": lambda lib, x, s, i: lib.mvlgamma(x, 0),
    "histogram": lambda lib, x, s, i: lib.histogram(x, 3),
    "histogram edges": lambda lib, x, s, i: lib.histogram(x, lib.tensor([-3.0, 0.0, 1.0, 4.0])),
    "histogram range": lambda lib, x, s, i: x.histogram(2, range=(0.0, 2.0)),
    "histogram weights density": lambda lib, x, s, i: lib.histogram(x, 4, weight=x.detach().abs(), density=True),
    "histogram ints": lambda lib, x, s, i: lib.histogram(i, 2),
    "histogram bins 0": lambda lib, x, s, i: lib.histogram(x, 0),
    "nuclear_norm": lambda lib, x, s, i: lib.nuclear_norm(x),
    "nuclear_norm dims": lambda lib, x, s, i: lib.nuclear_norm(x.view(3, 2, 2), (0, 1)),
    "frobenius_norm": lambda lib, x, s, i: lib.frobenius_norm(x, (0, 1)),
    "norm nuc": lambda lib, x, s, i: lib.norm(x, "nuc"),
    "norm nuc keepdim": lambda lib, x, s, i: lib.norm(x, "nuc", dim=(0, 1), keepdim=True),
    "norm nuc 3-d": lambda lib, x, s, i: lib.norm(x.view(3, 2, 2), "nuc"),
    "norm fro": lambda lib, x, s, i: lib.norm(x, "fro", dim=(0, 1)),
    "norm bad order": lambda lib, x, s, i: lib.norm(x, "abc"),
    # function forms of methods, in-place methods
    "detach": lambda lib, x, s, i: lib.detach(x),
    "fill": lambda lib, x, s, i: lib.fill(x, 2.0),
    "fill tensor": lambda lib, x, s, i: lib.fill(x, s[0, 1]),
    "fill tensor 1-d": lambda lib, x, s, i: lib.fill(x, s[0]),
    "fill_": lambda lib, x, s, i: lib.fill_(x.detach().clone(), 1),
    "zero_": lambda lib, x, s, i: lib.zero_(x.detach().clone()),
    "clamp_min_": lambda lib, x, s, i: lib.clamp_min_(x.detach().clone(), 0),
    "clamp_max_": lambda lib, x, s, i: lib.clamp_max_(x.detach().clone(), 0),
    "addmm_": lambda lib, x, s, i: x.clone().addmm_(x[:, :2], s, beta=2, alpha=0.5),
    "renorm_": lambda lib, x, s, i: x.clone().renorm_(2, 0, 1.0),
    "bitwise_and_": lambda lib, x, s, i: i.clone().bitwise_and_(6),
    "bitwise_or_": lambda lib, x, s, i: i.clone().bitwise_or_(lib.tensor([1, 2, 4, 8], dtype=lib.int32)),
    "bitwise_xor_": lambda lib, x, s, i: i.clone().bitwise_xor_(5),
    "bitwise_not_": lambda lib, x, s, i: i.clone().bitwise_not_(),
    "bitwise_not_ float": lambda lib, x, s, i: x.detach().clone().bitwise_not_(),
    # shifts
    "lshift": lambda lib, x, s, i: i << 2,
    "rshift": lambda lib, x, s, i: i >> 1,
    "lshift tensor": lambda lib, x, s, i: i << lib.tensor([0, 31, 32, 3]),
    "rshift wide": lambda lib, x, s, i: i >> lib.tensor([0, 31, 40, -1]),
    "lshift negative": lambda lib, x, s, i: i << -1,
    "rshift negative": lambda lib, x, s, i: i >> -1,
    "lshift reflected": lambda lib, x, s, i: 3 << i.clamp(-1, 5),
    "rshift reflected": lambda lib, x, s, i: 100 >> i.clamp(0, 5),
    "bitwise_left_shift number self": lambda lib, x, s, i: lib.bitwise_left_shift(3, i.clamp(0, 5)),
    "bitwise_right_shift": lambda lib, x, s, i: lib.bitwise_right_shift(i, 2),
    "lshift uint8 wraps": lambda lib, x, s, i: lib.tensor([1, 2, 255], dtype=lib.uint8) << 7,
    "rshift int8 sign": lambda lib, x, s, i: lib.tensor([-128, 127], dtype=lib.int8) >> 9,
    "lshift int64 top bit": lambda lib, x, s, i: lib.tensor([5]) << lib.tensor([63]),
    "lshift bool by number": lambda lib, x, s, i: lib.tensor([True, False]) << 1,
    "lshift bool by bool": lambda lib, x, s, i: lib.tensor([True]) << lib.tensor([True]),
    "lshift float": lambda lib, x, s, i: x << 1,
    "ilshift": lambda lib, x, s, i: i.clone().__ilshift__(2),
    "irshift": lambda lib, x, s, i: i.clone().__irshift__(lib.tensor(1)),
    "bitwise_left_shift_": lambda lib, x, s, i: i.clone().bitwise_left_shift_(lib.tensor([1, 2, 3, 4], dtype=lib.int32)),
    "bitwise_right_shift_": lambda lib, x, s, i: i.clone().bitwise_right_shift_(1),
    "bitwise_left_shift out": lambda lib, x, s, i: lib.bitwise_left_shift(i, 1, out=lib.empty(4, dtype=lib.int32)),
    # view(dtype)
    "view int32": lambda lib, x, s, i: x.detach().view(lib.int32),
    "view float16": lambda lib, x, s, i: x.detach().view(lib.float16).shape,
    "view float64": lambda lib, x, s, i: x.detach().view(lib.float64),
    "view same dtype": lambda lib, x, s, i: x.view(lib.float32),
    "view requires grad": lambda lib, x, s, i: (x.view(lib.int32).requires_grad, x.view(lib.int32)._base is None),
    "view dtype keyword": lambda lib, x, s, i: x.detach().view(dtype=lib.int32).shape,
    "view offset": lambda lib, x, s, i: x.detach()[1:].view(lib.int32).storage_offset(),
    "view bad size": lambda lib, x, s, i: x.detach()[:, 1:].view(lib.float64),
    "view bad stride": lambda lib, x, s, i: x.detach().t().view(lib.float64),
    "view 0-d": lambda lib, x, s, i: x.detach()[0, 0].view(lib.float16),
    "view 0-d same size": lambda lib, x, s, i: lib.tensor(1.0).view(lib.int32),
    "view bytes": lambda lib, x, s, i: lib.ones(2, dtype=lib.uint8).view(lib.int16),
    "view bool": lambda lib, x, s, i: lib.tensor([[True, False]]).view(lib.uint8),
    "view offset odd": lambda lib, x, s, i: lib.ones(4, dtype=lib.float16)[1:3].view(lib.float32),
    # out=
    "cat out": lambda lib, x, s, i: lib.cat([x.detach(), s.detach()], out=lib.empty(5, 4)),
    "hstack out": lambda lib, x, s, i: lib.hstack([i, i], out=lib.empty(0, dtype=lib.int32)),
    "vstack out": lambda lib, x, s, i: lib.vstack([i, i], out=lib.empty(0, dtype=lib.int64)),
    "max dim out": lambda lib, x, s, i: lib.max(x.detach(), 1, out=(lib.empty(0), lib.empty(0, dtype=lib.int64))),
    "max dim out short": lambda lib, x, s, i: lib.max(x.detach(), 1, out=(lib.empty(0),)),
    "max out": lambda lib, x, s, i: lib.max(x.detach(), out=lib.empty(())),
    "amax out": lambda lib, x, s, i: lib.amax(x.detach(), 0, out=lib.empty(4)),
    "argmax out": lambda lib, x, s, i: lib.argmax(x.detach(), 1, out=lib.empty(3, dtype=lib.int64)),
    "prod out": lambda lib, x, s, i: lib.prod(x.detach(), 0, out=lib.empty(4)),
    "std out": lambda lib, x, s, i: lib.std(x.detach(), 1, out=lib.empty(3)),
    "logsumexp out": lambda lib, x, s, i: lib.logsumexp(x.detach(), 1, out=lib.empty(3)),
    "remainder out": lambda lib, x, s, i: lib.remainder(i, 3, out=lib.empty(4, dtype=lib.int32)),
    "remainder number out": lambda lib, x, s, i: lib.remainder(7, i, out=lib.empty(4, dtype=lib.int32)),
    "fmod out": lambda lib, x, s, i: lib.fmod(x.detach(), 1.5, out=lib.empty(3, 4)),
    "floor_divide out": lambda lib, x, s, i: lib.floor_divide(i, 3, out=lib.empty(4, dtype=lib.int32)),
    "bitwise_and out": lambda lib, x, s, i: lib.bitwise_and(i, 6, out=lib.empty(4, dtype=lib.int32)),
    "norm out": lambda lib, x, s, i: lib.norm(x.detach(), out=lib.empty(())),
    "cat out requires grad": lambda lib, x, s, i: lib.cat([x, s], out=lib.empty(5, 4)),
    "max method out": lambda lib, x, s, i: x.max(out=lib.empty(())),
    # nn.functional ops under their torch-level names and signatures
    "batch_norm": lambda lib, x, s, i: lib.batch_norm(x, s[0], s[1], None, None, True, 0.1, 1e-5, False),
    "instance_norm": lambda lib, x, s, i: lib.instance_norm(x.unsqueeze(0), None, None, None, None, True, 0.1, 1e-5,
                                                            False),
    "rms_norm": lambda lib, x, s, i: lib.rms_norm(x, (4,), s[0]),
    "constant_pad_nd": lambda lib, x, s, i: lib.constant_pad_nd(x, (1, 2), 0.5),
    "alpha_dropout eval": lambda lib, x, s, i: lib.alpha_dropout(x, 0.5, False),
    "feature_dropout p=1": lambda lib, x, s, i: lib.feature_dropout(x.unsqueeze(0), 1.0, True),
    "pdist": lambda lib, x, s, i: lib.pdist(x),
    "channel_shuffle": lambda lib, x, s, i: lib.channel_shuffle(x.view(1, 4, 3), 2),
    "adaptive_max_pool1d": lambda lib, x, s, i: lib.adaptive_max_pool1d(x.unsqueeze(0), 2),
    "max_pool1d_with_indices": lambda lib, x, s, i: lib.max_pool1d_with_indices(x.unsqueeze(0), 2),
    "dropout_ eval": lambda lib, x, s, i: lib.dropout_(x.detach().clone(), 0.5, False),
    "addmv_": lambda lib, x, s, i: lib.addmv_(x.detach().clone()[0], s.detach().t(), lib.ones(2), beta=0.5),
    "constants": lambda lib, x, s, i: (lib.pi, lib.e, lib.inf, lib.newaxis),
    "layout": lambda lib, x, s, i: (x.layout == lib.strided, repr(x.layout).replace("torch.", "cgrad."),
                                    x.layout == lib.sparse_coo, lib.zeros(2, layout=lib.strided).layout == lib.strided),
    "is_inference": lambda lib, x, s, i: (lib.is_inference(x), lib.get_device(x), lib.is_storage(x)),
    "index_put_": lambda lib, x, s, i: lib.index_put_(x.detach().clone(), (lib.tensor([0, 2]),), lib.tensor(5.0)),
    "gcd_": lambda lib, x, s, i: lib.gcd_(i.clone(), lib.tensor([6, 4, 9, 8], dtype=lib.int32)),
    "lcm_ method": lambda lib, x, s, i: i.clone().lcm_(lib.tensor([6, 4, 9, 8], dtype=lib.int32)),
    "ldexp_ function": lambda lib, x, s, i: lib.ldexp_(x.detach().clone(), lib.tensor([1, 2, 0, 3])),
    "cpu module": lambda lib, x, s, i: (lib.cpu.is_available(), lib.cpu.device_count(), lib.cpu.synchronize(),
                                        lib.cpu.is_initialized()),
    "GradScaler alias": lambda lib, x, s, i: lib.GradScaler is lib.amp.GradScaler,
    # in-place forms record the op's own node, as PyTorch does
    "mvlgamma_ history": lambda lib, x, s, i: (x.abs() + 1).mvlgamma_(1),
    "ldexp_ history": lambda lib, x, s, i: (x * 1).ldexp_(lib.tensor([1, 2, 0, 3])),
    "nextafter_ history": lambda lib, x, s, i: (x * 1).nextafter_(lib.zeros(4)),
    "renorm_ history": lambda lib, x, s, i: (x * 1).renorm_(1, 1, 2.0),
}

ABSENT_IN_TORCH = {"fill tensor 1-d"}


def run(lib, name):
    x, s, i = inputs(lib)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = CASES[name](lib, x, s, i)
        except (RuntimeError, IndexError, TypeError, ValueError, NotImplementedError) as e:
            message = str(e).replace("torch.", "cgrad.")
            if isinstance(e, TypeError) and "invalid combination" in message:
                message = message.split(" - ")[0]     # the signature listings differ
            return type(e).__name__, message
    try:
        grads = grads_of(lib, (x, s), out)
    except (RuntimeError, NotImplementedError) as e:
        grads = type(e).__name__, str(e)
    return describe(lib, out), grads


@requires_torch
@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    assert run(cgrad, name) == run(torch, name)


@pytest.mark.parametrize("fn", [
    lambda x, y: cgrad.select_scatter(x, y[0], 0, 1),
    lambda x, y: cgrad.slice_scatter(x, y, 0, 1),
    lambda x, y: cgrad.diagonal_scatter(x[:, :3], y[0, :2], 1),
    lambda x, y: cgrad.permute_copy(x, (1, 0)) * y.sum(),
    lambda x, y: cgrad.vdot(x[0], y[0]),
    lambda x, y: cgrad.ldexp(x, cgrad.tensor([1, 2, 0, -1])) * y[1],
    lambda x, y: cgrad.mvlgamma(x.abs() + 3, 2),
    lambda x, y: cgrad.diagflat(y, 1),
    lambda x, y: cgrad.fill(x, y[0, 0]),
])
def test_gradcheck(fn):
    """float64 finite differences, with or without torch."""
    x = cgrad.tensor(np.random.default_rng(0).standard_normal((3, 4)), requires_grad=True)
    y = cgrad.tensor(np.random.default_rng(1).standard_normal((2, 4)), requires_grad=True)
    assert cgrad.autograd.gradcheck(fn, (x, y))
    assert cgrad.autograd.gradgradcheck(fn, (x, y))


def test_windows_hand_computed():
    """The textbook formulas, without torch."""
    n = np.arange(8)
    np.testing.assert_allclose(cgrad.hann_window(8, periodic=False, dtype=cgrad.float64).numpy(),
                               0.5 - 0.5 * np.cos(2 * np.pi * n / 7))
    np.testing.assert_allclose(cgrad.hamming_window(8, dtype=cgrad.float64).numpy(),
                               (0.54 - 0.46 * np.cos(2 * np.pi * np.arange(9) / 8))[:8])
    np.testing.assert_allclose(cgrad.bartlett_window(5, periodic=False, dtype=cgrad.float64).numpy(),
                               [0.0, 0.5, 1.0, 0.5, 0.0])
    assert cgrad.kaiser_window(1).tolist() == [1.0]


def test_shifts_hand_computed():
    a = cgrad.tensor([1, -8, 3], dtype=cgrad.int32)
    assert (a << 2).tolist() == [4, -32, 12]
    assert (a >> 1).tolist() == [0, -4, 1]
    assert (a << 32).tolist() == [0, 0, 0]
    assert (a >> 40).tolist() == [0, -1, 0]
    assert (3 << cgrad.tensor([1, 2])).tolist() == [6, 12]
    assert (cgrad.tensor([255], dtype=cgrad.uint8) << 1).tolist() == [254]


def test_view_dtype_shares_memory():
    x = cgrad.tensor([1.0, 2.0, -0.5])
    bits = x.view(cgrad.int32)
    assert bits.tolist() == np.array([1.0, 2.0, -0.5], np.float32).view(np.int32).tolist()
    bits[0] = 0
    assert x.tolist() == [0.0, 2.0, -0.5]
    assert x._version == bits._version


def test_out_tuple_is_written():
    values, indices = cgrad.empty(0), cgrad.empty(0, dtype=cgrad.int64)
    result = cgrad.max(cgrad.tensor([[1.0, 5.0], [3.0, 2.0]]), 0, out=(values, indices))
    assert result.values is values and result.indices is indices
    assert values.tolist() == [3.0, 5.0] and indices.tolist() == [1, 0]
