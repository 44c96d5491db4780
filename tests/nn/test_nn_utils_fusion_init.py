"""nn.utils' fusion (batch norm folded into conv/linear), memory-format
conversion of conv weights, skip_init and the deprecated
stateless.functional_call: against torch, and against hand-computed
values without it."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def _eval_bn(num, seed):
    bn = cgrad.nn.BatchNorm2d(num)
    g = np.random.RandomState(seed)
    bn.running_mean.copy_(cgrad.tensor(g.randn(num).astype(np.float32)))
    bn.running_var.copy_(cgrad.tensor(g.uniform(0.5, 2, num).astype(np.float32)))
    with cgrad.no_grad():
        bn.weight.copy_(cgrad.tensor(g.randn(num).astype(np.float32)))
        bn.bias.copy_(cgrad.tensor(g.randn(num).astype(np.float32)))
    return bn.eval()


@pytest.mark.parametrize("transpose", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_fuse_conv_bn_eval_equals_conv_then_bn(transpose, bias):
    cgrad.manual_seed(0)
    conv = (cgrad.nn.ConvTranspose2d(3, 4, 3, bias=bias) if transpose else cgrad.nn.Conv2d(3, 4, 3, bias=bias)).eval()
    bn = _eval_bn(4, 1)
    fused = cgrad.nn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    x = cgrad.randn(2, 3, 6, 6)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    assert isinstance(fused.weight, cgrad.nn.Parameter) and fused.weight.grad_fn is None
    assert fused.weight.requires_grad and fused.bias.requires_grad == bias     # PyTorch's: a made-up bias is a leaf
    assert conv.weight is not fused.weight


def test_fuse_linear_bn_eval_equals_linear_then_bn():
    lin = cgrad.nn.Linear(5, 4).eval()
    bn = cgrad.nn.BatchNorm1d(4).eval()
    bn.running_mean.fill_(0.5)
    bn.running_var.fill_(2.0)
    fused = cgrad.nn.utils.fuse_linear_bn_eval(lin, bn)
    x = cgrad.randn(3, 5)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_fusion_errors():
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        cgrad.nn.utils.fuse_conv_bn_eval(cgrad.nn.Conv2d(1, 2, 1), cgrad.nn.BatchNorm2d(2))
    with pytest.raises(AssertionError, match="To fuse, linear.out_features == bn.num_features or bn.num_features == 1, "
                                             "got linear.out_features=4 and bn.num_features=3"):
        cgrad.nn.utils.fuse_linear_bn_eval(cgrad.nn.Linear(2, 4).eval(), cgrad.nn.BatchNorm1d(3).eval())
    with pytest.raises(AssertionError, match="bn.running_mean and bn.running_var must not be None"):
        cgrad.nn.utils.fuse_conv_bn_eval(cgrad.nn.Conv2d(1, 2, 1).eval(),
                                         cgrad.nn.BatchNorm2d(2, track_running_stats=False).eval())


@requires_torch
def test_fuse_conv_bn_weights_matches_torch():
    g = np.random.RandomState(3)
    arrays = [g.randn(4, 3, 2, 2), g.randn(4), g.randn(4), g.uniform(0.5, 2, 4), g.randn(4), g.randn(4)]
    t = torch.nn.utils.fuse_conv_bn_weights(*[torch.tensor(a) for a in arrays[:4]], 1e-5,
                                            *[torch.tensor(a) for a in arrays[4:]])
    c = cgrad.nn.utils.fuse_conv_bn_weights(*[cgrad.tensor(a) for a in arrays[:4]], 1e-5,
                                            *[cgrad.tensor(a) for a in arrays[4:]])
    for ct, tt in zip(c, t):
        np.testing.assert_allclose(ct.detach().numpy(), tt.detach().numpy(), rtol=1e-12)
        assert ct.requires_grad == tt.requires_grad


def test_convert_conv2d_weight_memory_format_relays_the_weights_in_place():
    m = cgrad.nn.Sequential(cgrad.nn.Conv2d(3, 4, 3), cgrad.nn.Sequential(cgrad.nn.ConvTranspose2d(4, 2, 3)),
                            cgrad.nn.Linear(2, 2))
    weight, values = m[0].weight, m[0].weight.detach().numpy().copy()
    assert cgrad.nn.utils.convert_conv2d_weight_memory_format(m, cgrad.channels_last) is m
    assert m[0].weight is weight
    assert m[0].weight.is_contiguous(memory_format=cgrad.channels_last)
    assert m[1][0].weight.stride() == (18, 1, 6, 2)      # NHWC strides of a (4, 2, 3, 3) weight
    np.testing.assert_array_equal(m[0].weight.detach().numpy(), values)
    assert m[2].weight.stride() == (2, 1)


def test_skip_init_gives_the_module_with_uninitialised_tensors():
    m = cgrad.nn.utils.skip_init(cgrad.nn.Linear, 3, 4, bias=False)
    assert type(m) is cgrad.nn.Linear and m.weight.shape == (4, 3) and m.bias is None
    with pytest.raises(RuntimeError, match="Expected a Module; got <class 'int'>"):
        cgrad.nn.utils.skip_init(int)
    with pytest.raises(RuntimeError, match="Module must support a 'device' arg to skip initialization"):
        cgrad.nn.utils.skip_init(cgrad.nn.ReLU)


def test_stateless_functional_call_warns_and_calls():
    lin = cgrad.nn.Linear(2, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = cgrad.nn.utils.stateless.functional_call(lin, {"weight": cgrad.ones(1, 2), "bias": cgrad.zeros(1)},
                                                     (cgrad.tensor([[1.0, 2.0]]),))
    assert y.tolist() == [[3.0]]
    assert caught[0].category is FutureWarning
    assert "`torch.nn.utils.stateless.functional_call` is deprecated" in str(caught[0].message)


def test_kaiming_bad_mode_text_lists_the_modes():
    """PyTorch formats its list of valid modes (round-15 fuzzing)."""
    with pytest.raises(ValueError) as ours:
        cgrad.nn.init.kaiming_normal_(cgrad.zeros(3, 4), mode="fan_avg")
    assert str(ours.value) == "Mode fan_avg not supported, please use one of ['fan_in', 'fan_out']"
    if torch is not None:
        with pytest.raises(ValueError) as theirs:
            torch.nn.init.kaiming_normal_(torch.zeros(3, 4), mode="fan_avg")
        assert str(theirs.value) == str(ours.value)
