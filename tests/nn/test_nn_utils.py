"""cgrad.nn.utils against torch.nn.utils: clipping by norm (every norm
type, returned norm and clipped gradients, dtypes), by value, the split
get_total_norm / clip_grads_with_norm_, and flat parameter vectors."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def params_with_grads(lib, dtype="float64", scale=1.0, with_none=True):
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (5,), (2, 1, 3)]
    params = []
    for shape in shapes:
        p = lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        p.grad = lib.tensor((rng.standard_normal(shape) * scale).astype(dtype))
        params.append(p)
    if with_none:
        params.append(lib.zeros(2, requires_grad=True))   # no grad: skipped
    return params


@requires_torch
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf"), "inf", 0.5])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    out = {}
    for lib in (cgrad, torch):
        params = params_with_grads(lib, dtype)
        total = lib.nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
        out[lib.__name__] = (total, [p.grad for p in params if p.grad is not None])
    (tc, gc), (tt, gt) = out["cgrad"], out["torch"]
    assert str(tc.dtype).split(".")[-1] == str(tt.dtype).split(".")[-1] and tc.shape == tt.shape == ()
    tol = dict(rtol=1e-12) if dtype == "float64" else dict(rtol=1e-5)
    np.testing.assert_allclose(tc.item(), tt.item(), **tol)
    for a, b in zip(gc, gt):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **tol)


@requires_torch
def test_get_total_norm_and_clip_with_norm_split_as_torch():
    res = {}
    for lib in (cgrad, torch):
        params = params_with_grads(lib, scale=3.0)
        grads = [p.grad for p in params if p.grad is not None]
        total = lib.nn.utils.get_total_norm(grads, 2.0)
        lib.nn.utils.clip_grads_with_norm_(params, 1.0, total)
        res[lib.__name__] = (total.item(), [g.numpy().copy() for g in grads],
                             lib.nn.utils.get_total_norm(grads).item())
    np.testing.assert_allclose(res["cgrad"][0], res["torch"][0], rtol=1e-13)
    for a, b in zip(res["cgrad"][1], res["torch"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-13)
    assert abs(res["cgrad"][2] - 1.0) < 1e-5


def test_clip_single_tensor_and_empty_inputs():
    p = cgrad.tensor([3.0, 4.0], requires_grad=True)
    p.grad = cgrad.tensor([3.0, 4.0])
    total = cgrad.nn.utils.clip_grad_norm_(p, 1.0)
    assert total.item() == 5.0
    np.testing.assert_allclose(p.grad.numpy(), np.array([3.0, 4.0]) * (1.0 / (5.0 + 1e-6)), rtol=1e-6)
    assert cgrad.nn.utils.clip_grad_norm_([], 1.0).item() == 0.0
    with pytest.warns(UserWarning, match="^`parameters` is an empty generator, no gradient clipping will occur.$"):
        cgrad.nn.utils.clip_grad_norm_((q for q in []), 1.0)
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        cgrad.nn.utils.clip_grad_norm(p, 1.0)


def test_non_finite_norm_error_text():
    p = cgrad.tensor([1.0, 2.0], requires_grad=True)
    p.grad = cgrad.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError) as err:
        cgrad.nn.utils.clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
    assert str(err.value) == (
        "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. "
        "To disable this error and scale the gradients by the non-finite norm anyway, set "
        "`error_if_nonfinite=False`")
    total = cgrad.nn.utils.clip_grad_norm_([p], 1.0, foreach=True)   # foreach accepted
    assert total.item() == float("inf")


@requires_torch
@pytest.mark.parametrize("clip", [0.3, 1, 10.0])
def test_clip_grad_value_matches_torch(clip):
    grads = {}
    for lib in (cgrad, torch):
        params = params_with_grads(lib, scale=2.0)
        assert lib.nn.utils.clip_grad_value_(params, clip) is None
        grads[lib.__name__] = [p.grad.numpy().copy() for p in params if p.grad is not None]
    for a, b in zip(grads["cgrad"], grads["torch"]):
        np.testing.assert_array_equal(a, b)
        assert np.abs(a).max() <= clip


@requires_torch
def test_parameters_vector_round_trip_as_torch():
    out = {}
    for lib in (cgrad, torch):
        params = params_with_grads(lib, with_none=False)
        vec = lib.nn.utils.parameters_to_vector(params)
        new = vec * 2
        lib.nn.utils.vector_to_parameters(new, params)
        out[lib.__name__] = (vec.detach().numpy().copy(), [p.detach().numpy().copy() for p in params],
                             vec.grad_fn is not None and type(vec.grad_fn).__name__)
    np.testing.assert_array_equal(out["cgrad"][0], out["torch"][0])
    for a, b in zip(out["cgrad"][1], out["torch"][1]):
        np.testing.assert_array_equal(a, b)
    assert out["cgrad"][2] == out["torch"][2] == "CatBackward0"


def test_vector_to_parameters_shares_memory_and_checks_type():
    params = [cgrad.zeros(2, 2), cgrad.zeros(3)]
    vec = cgrad.arange(7.0)
    cgrad.nn.utils.vector_to_parameters(vec, params)
    assert params[0].tolist() == [[0.0, 1.0], [2.0, 3.0]] and params[1].tolist() == [4.0, 5.0, 6.0]
    vec[0] = 9.0
    assert params[0][0, 0].item() == 9.0
    with pytest.raises(TypeError, match=r"^expected torch.Tensor, but got: list$"):
        cgrad.nn.utils.vector_to_parameters([1.0], params)


@pytest.mark.parametrize("dtypes, expected", [(("float32", "float64", "float32"), "float64"),
                                               (("bfloat16", "float32"), "float32"),
                                               (("float16", "float16"), "float16")])
def test_total_norm_of_mixed_dtypes_is_promoted(dtypes, expected):
    """PyTorch stacks the per-tensor norms (grouped by dtype), which promotes;
    cgrad cast them to the first gradient's dtype (round-15 fuzzing)."""
    values = [np.full((3, 2), 2.0 + i, dtype=np.float32) for i in range(len(dtypes))]

    def run(lib):
        params = []
        for v, d in zip(values, dtypes):
            p = lib.nn.Parameter(lib.zeros(3, 2, dtype=getattr(lib, d)))
            p.grad = lib.tensor(v).to(getattr(lib, d))
            params.append(p)
        total = lib.nn.utils.clip_grad_norm_(params, 1.0)
        return total, [p.grad.float().numpy() for p in params]
    total, grads = run(cgrad)
    assert str(total.dtype) == "cgrad." + expected
    assert float(total) == pytest.approx(float(np.sqrt(sum((v ** 2).sum() for v in values))), rel=1e-2)
    if torch is not None:
        their_total, their_grads = run(torch)
        assert float(total) == pytest.approx(float(their_total), rel=1e-6)
        for a, b in zip(grads, their_grads):
            np.testing.assert_allclose(a, b, rtol=1e-2)


def test_pad_sequence_trailing_sizes_and_node_name():
    """pad_sequence copies each sequence into a slice shaped as the first
    one's: a size-1 trailing dim broadcasts, another size fails with the
    copy's text; its node is CopySlices, named as PyTorch's C++ node."""
    x = cgrad.ones(2, 3, requires_grad=True)
    y = cgrad.full((1, 1), 2.0, requires_grad=True)
    padded = cgrad.nn.utils.rnn.pad_sequence([x, y])
    assert padded.tolist() == [[[1.0] * 3, [2.0] * 3], [[1.0] * 3, [0.0] * 3]]
    assert padded.grad_fn.name() == "torch::autograd::CopySlices"
    padded.sum().backward()
    assert y.grad.tolist() == [[3.0]]
    with pytest.raises(RuntimeError, match=r"^The size of tensor a \(3\) must match the size of tensor b \(4\) at "
                                           r"non-singleton dimension 1$"):
        cgrad.nn.utils.rnn.pad_sequence([cgrad.ones(2, 3), cgrad.ones(2, 4)])
    if torch is not None:
        theirs = torch.nn.utils.rnn.pad_sequence([torch.ones(2, 3, requires_grad=True), torch.full((1, 1), 2.0)])
        assert theirs.grad_fn.name() == padded.grad_fn.name()
