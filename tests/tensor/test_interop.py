"""Interop without copies: DLPack with numpy, torch and JAX (memory shared,
checked by writing through one side), PyTorch's export rules and texts,
numpy ufuncs and operators returning tensors as torch's do, and
cgrad.return_types pickling."""
import pickle
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch

try:
    import jax
    import jax.numpy as jnp
except ImportError:  # the optional `interop` extra
    jax = None

requires_jax = pytest.mark.skipif(jax is None, reason="jax (optional interop extra) not installed")

DTYPES = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def _fill(x):
    x[(0,) * x.ndim] = 1


@pytest.mark.parametrize("dt", DTYPES)
def test_numpy_dlpack_shares_memory_both_ways(dt):
    t = cgrad.zeros(2, 3, dtype=getattr(cgrad, dt if dt != "bool" else "bool"))
    a = np.from_dlpack(t)
    assert a.dtype == np.dtype(dt) and a.shape == (2, 3)
    a[0, 0] = 1
    assert t[0, 0].item() == 1
    back = cgrad.from_dlpack(np.zeros((2, 3), dtype=dt))
    assert str(back.dtype) == f"cgrad.{dt}"
    src = np.zeros(4, dtype=dt)
    c = cgrad.from_dlpack(src)
    c[1] = 1
    assert src[1] == 1


def test_dlpack_views_keep_strides_and_outlive_the_tensor():
    t = cgrad.arange(12.).reshape(3, 4)
    a = np.from_dlpack(t.t())
    assert a.strides == (4, 16)
    e = np.from_dlpack(cgrad.ones(3).expand(2, 3))
    assert e.strides == (0, 4)
    cap = cgrad.arange(5.).__dlpack__()     # the tensor is gone; the capsule keeps its storage
    assert cgrad.from_dlpack(cap).tolist() == [0., 1., 2., 3., 4.]
    nc = np.arange(12.).reshape(3, 4)[:, ::2]
    v = cgrad.from_dlpack(nc)
    assert v.stride() == (4, 2)
    v[0, 1] = -1
    assert nc[0, 1] == -1


def test_dlpack_protocol_arguments():
    t = cgrad.ones(3)
    assert t.__dlpack_device__() == (1, 0)
    assert "dltensor_versioned" in repr(t.__dlpack__(max_version=(1, 0)))
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))
    assert '"dltensor"' in repr(t.__dlpack__())
    copied = np.from_dlpack(t, copy=True)
    copied[0] = 5
    assert t[0].item() == 1
    with pytest.raises(BufferError, match="Can't export tensors that require gradient, use tensor.detach()"):
        np.from_dlpack(cgrad.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match="stream must be ``int`` or ``none``"):
        t.__dlpack__(stream="x")
    with pytest.raises(AssertionError, match="stream should be None on cpu."):
        t.__dlpack__(stream=3)
    with pytest.raises(BufferError):
        t.__dlpack__(dl_device=(2, 0))
    assert t.__dlpack__(dl_device=(1, 0)) is not None
    with pytest.raises(RuntimeError, match="from_dlpack received an invalid capsule"):
        cgrad.from_dlpack(1)
    cap = cgrad.utils.dlpack.to_dlpack(cgrad.ones(2, requires_grad=True))   # no check, as torch's
    assert cgrad.utils.dlpack.from_dlpack(cap).tolist() == [1., 1.]
    with pytest.raises(RuntimeError, match="invalid capsule"):
        cgrad.from_dlpack(cap)                                                 # consumed once
    with pytest.raises(AssertionError, match="Torch not compiled with CUDA enabled"):   # as torch's CPU build
        cgrad.from_dlpack(np.ones(2), device="cuda")
    ro = np.arange(3.)
    ro.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cgrad.from_dlpack(ro).tolist() == [0., 1., 2.]                  # shared silently, as torch
    neg = np.arange(4.)[::-1]
    assert cgrad.from_dlpack(neg).tolist() == [3., 2., 1., 0.]             # copied: cgrad has no negative strides
    with pytest.raises(BufferError, match="negative strides"):
        cgrad.from_dlpack(neg, copy=False)
    with pytest.raises(TypeError):                  # cgrad has no complex dtype
        cgrad.from_dlpack(np.ones(2, np.complex64))


@requires_torch
@pytest.mark.parametrize("dt", DTYPES)
def test_torch_dlpack_shares_memory_both_ways(dt):
    t = cgrad.zeros(2, 3, dtype=getattr(cgrad, dt))
    tt = torch.from_dlpack(t)
    assert str(tt.dtype) == f"torch.{dt}"
    _fill(tt)
    assert t[0, 0].item() == 1
    assert torch.as_tensor(t).data_ptr() == t.data_ptr()
    src = torch.zeros(4, dtype=getattr(torch, dt))
    c = cgrad.from_dlpack(src)
    c[1] = 1
    assert src[1].item() == 1
    assert cgrad.as_tensor(src).data_ptr() == src.data_ptr()
    copy = cgrad.tensor(src)
    assert copy.data_ptr() != src.data_ptr() and copy.tolist() == src.tolist()


@requires_torch
def test_torch_conversions_and_errors_match():
    src = torch.arange(6.).reshape(2, 3).t()
    c = cgrad.from_dlpack(src)
    assert c.stride() == src.stride() and c.tolist() == src.tolist()
    assert cgrad.tensor(src, dtype=cgrad.float64).dtype == cgrad.float64
    assert cgrad.as_tensor(torch.ones(2), dtype=cgrad.int64).tolist() == [1, 1]
    for lib, t in ((torch, torch.ones(2, requires_grad=True)), (cgrad, cgrad.ones(2, requires_grad=True))):
        with pytest.raises(BufferError) as e:
            lib.from_dlpack(t)
        assert str(e.value) == "Can't export tensors that require gradient, use tensor.detach()"
    with pytest.raises(BufferError, match="require gradient"):
        torch.as_tensor(cgrad.ones(2, requires_grad=True))
    with pytest.raises(TypeError, match=r"expected np.ndarray \(got Tensor\)"):
        cgrad.from_numpy(torch.ones(2))


@requires_jax
def test_jax_dlpack_round_trip():
    a = jnp.arange(6.0, dtype=jnp.float32).reshape(2, 3)
    c = cgrad.from_dlpack(a)
    assert c.data_ptr() == a.unsafe_buffer_pointer() and c.tolist() == a.tolist()
    assert cgrad.as_tensor(a).data_ptr() == a.unsafe_buffer_pointer()
    assert cgrad.tensor(a).tolist() == [[0., 1., 2.], [3., 4., 5.]]
    for n in (17, 1000, 1 << 20):      # storages past the 64 inline bytes are 64-byte aligned: JAX shares them
        big = cgrad.zeros(n)
        j = jnp.from_dlpack(big)
        assert j.unsafe_buffer_pointer() == big.data_ptr()
        big[0] = 5
        assert float(j[0]) == 5.0
    small = cgrad.zeros(16)            # inline in the Storage object (8-byte aligned): JAX copies it
    assert jnp.from_dlpack(small).tolist() == [0.0] * 16
    assert jnp.asarray(cgrad.arange(3.)).tolist() == [0., 1., 2.]
    assert jnp.from_dlpack(cgrad.arange(3, dtype=cgrad.int32)).dtype == jnp.int32


# --- numpy ufuncs and operators, as torch -------------------------------------

NUMPY_CASES = [
    "np.exp(t)", "np.add(t, t)", "t + np.ones(3)", "t - np.ones(3)", "t * np.ones(3, np.float32)",
    "t / np.ones(3)", "np.ones(3) / t", "t ** np.ones(3)", "t // np.ones(3)", "t % np.ones(3)",
    "t @ np.ones(3)", "i + np.ones(3, np.float32)", "i & np.ones(3, np.int64)", "np.equal(t, t)",
    "np.isnan(t)", "t == np.ones(3)", "np.ones(3) == t", "np.exp(s)", "np.add(s, 1)",
    "np.sqrt(i)", "np.negative(t)", "np.maximum.reduce(t)", "np.matmul(t, t)", "b + np.array([True, False, True])",
    "t + np.array(2.)", "t * np.float64(2)", "np.float64(2) * t",
]


@requires_torch
@pytest.mark.parametrize("expr", NUMPY_CASES)
def test_numpy_interplay_matches_torch(expr):
    results = []
    for lib in (cgrad, torch):
        env = {"np": np, "t": lib.arange(3.), "i": lib.arange(3), "s": lib.tensor(1.),
               "b": lib.tensor([True, True, False])}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            results.append(eval(expr, env))
    c, t = results
    assert type(c).__name__ == type(t).__name__ == "Tensor"
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.numpy().astype(np.float64), t.numpy().astype(np.float64))


@requires_torch
@pytest.mark.parametrize("expr", ["np.ones(3) + t", "np.ones(3) - t", "t < np.ones(3)", "np.ones(3) >= t",
                                  "t + [1, 2, 3]", "np.sum(t)", "np.exp(g)"])
def test_numpy_interplay_errors_match_torch(expr):
    errors = []
    for lib in (cgrad, torch):
        env = {"np": np, "t": lib.arange(3.), "g": lib.ones(2, requires_grad=True)}
        with pytest.raises(Exception) as e:
            eval(expr, env)
        errors.append((type(e.value), str(e.value)))
    assert errors[0] == errors[1]


@requires_torch
def test_not_equal_leaves_arrays_to_identity_as_torch():
    # torch's != takes no array, so Python falls back to identity: a plain bool
    for lib in (cgrad, torch):
        assert (lib.arange(3.) != np.ones(3)) is True


def test_ufunc_with_out_array_returns_the_array():
    out = np.empty(3)
    assert np.add(cgrad.arange(3.), 1, out=out) is out


# --- return_types -------------------------------------------------------------

@pytest.mark.parametrize("op", ["max", "min"])
def test_return_types_import_and_pickle(op):
    import cgrad.return_types as rt
    r = getattr(cgrad.arange(6.).reshape(2, 3), op)(dim=0)
    assert type(r) is getattr(rt, op) and type(r).__module__ == "cgrad.return_types"
    back = pickle.loads(pickle.dumps(r))
    assert type(back) is type(r)
    assert back.values.tolist() == r.values.tolist() and back.indices.tolist() == r.indices.tolist()
    assert cgrad.return_types.max is rt.max
