"""cgrad.Tensor(t) and the legacy types' FloatTensor(t) of a tensor are
aliases of t as PyTorch's new(Tensor other) is (any dtype for Tensor; the
type's own for FloatTensor, else PyTorch's TensorOptions TypeError); the
deprecated out-of-place resize/resize_as are PyTorch's autograd Resize (a
reshape keeping the element count, node ResizeBackward); flip/tile/
sum_to_size/broadcast_to without their sizes raise PyTorch's TypeError;
median of an empty integer tensor and of bool tensors as PyTorch's."""
import warnings

import numpy as np
import pytest

import cgrad
from helpers import requires_torch, torch


def test_tensor_of_a_tensor_is_an_alias():
    x = cgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=cgrad.float64, requires_grad=True)
    y = cgrad.Tensor(x)
    assert y is not x and y.dtype == cgrad.float64 and y._base is x
    assert y.data_ptr() == x.data_ptr() and type(y.grad_fn).__name__ == "AliasBackward0"
    (y * cgrad.tensor([1.0, 2.0, 3.0], dtype=cgrad.float64)).sum().backward()
    assert x.grad.tolist() == [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    t = cgrad.Tensor(x.detach().t())
    assert t.shape == (3, 2) and t.stride() == (1, 3)
    ints = cgrad.tensor([1, 2])
    assert cgrad.Tensor(ints).dtype == cgrad.int64
    with cgrad.no_grad():
        assert cgrad.Tensor(x).requires_grad      # a no-grad view still requires grad like its base
    with pytest.raises(RuntimeError, match=r"Legacy tensor constructor of the form torch.Tensor\(tensor, "):
        cgrad.Tensor(x, device="cpu")


def test_legacy_type_of_a_tensor():
    w = cgrad.ones(2)
    f = cgrad.FloatTensor(w)
    assert f is not w and f._base is w and f.data_ptr() == w.data_ptr()
    with pytest.raises(TypeError) as err:
        cgrad.FloatTensor(cgrad.ones(2, dtype=cgrad.float64))
    assert str(err.value) == (
        "expected TensorOptions(dtype=float, device=cpu, layout=Strided, requires_grad=false (default), "
        "pinned_memory=false (default), memory_format=(nullopt)) (got TensorOptions(dtype=double, device=cpu, "
        "layout=Strided, requires_grad=false (default), pinned_memory=false (default), memory_format=(nullopt)))")
    with pytest.raises(TypeError, match=r"expected TensorOptions\(dtype=long int, .*\(got TensorOptions\(dtype=c10::Half"):
        cgrad.LongTensor(cgrad.ones(2, dtype=cgrad.float16))


def test_out_of_place_resize_is_a_reshape_with_a_node():
    z = cgrad.arange(6.0).requires_grad_()
    with pytest.warns(UserWarning, match="non-inplace resize is deprecated"):
        r = z.resize(2, 3)
    assert r.shape == (2, 3) and type(r.grad_fn).__name__ == "ResizeBackward"
    assert r.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    (r * cgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert z.grad.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError) as err:
            cgrad.ones(2, 3).resize(4)
        assert str(err.value) == (
            "requested resize to 4 (4 elements in total), but the given tensor has a size of 2x3 (6 elements). "
            "autograd's resize can only change the shape of a given tensor, while preserving the number of "
            "elements. ")
        assert cgrad.ones(2, 3).t().resize(6).shape == (6,)
        assert cgrad.ones(2, 3).resize_as(cgrad.ones(3, 2)).shape == (3, 2)
    x = cgrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=cgrad.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert cgrad.autograd.gradcheck(lambda a: a.resize(4) * 2, (x,))


@pytest.mark.parametrize("method,arg", [("flip", "dims"), ("tile", "dims"), ("sum_to_size", "size"),
                                        ("broadcast_to", "size")])
def test_size_methods_need_their_sizes(method, arg):
    with pytest.raises(TypeError) as err:
        getattr(cgrad.ones(2), method)()
    assert str(err.value) == f'{method}() missing 1 required positional arguments: "{arg}"'
    keyword = {"flip": (0,), "tile": (2,), "sum_to_size": (1,), "broadcast_to": (3, 2)}[method]
    expected = {"flip": (2,), "tile": (4,), "sum_to_size": (1,), "broadcast_to": (3, 2)}[method]
    assert getattr(cgrad.ones(2), method)(**{arg: keyword}).shape == expected


def test_median_of_empty_integers_and_of_bools():
    expected = {cgrad.int64: -2 ** 63, cgrad.int32: -2 ** 31, cgrad.int16: 0, cgrad.uint8: 0}
    for dtype, value in expected.items():
        assert cgrad.median(cgrad.zeros(0, dtype=dtype)).item() == value
        assert cgrad.nanmedian(cgrad.zeros(0, dtype=dtype)).item() == value
    assert np.isnan(cgrad.median(cgrad.zeros(0)).item())
    for args, kernel in (((), "median_cpu"), ((0,), "median_out")):
        for fn in (cgrad.median, cgrad.nanmedian):
            with pytest.raises(NotImplementedError) as err:
                fn(cgrad.ones(3, dtype=cgrad.bool), *args)
            assert str(err.value) == f"\"{kernel}\" not implemented for 'Bool'"


@requires_torch
def test_against_torch():
    def run(lib):
        out = []
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        y = lib.Tensor(x)
        out.append((str(y.dtype).split(".")[1], type(y.grad_fn).__name__, tuple(y.stride())))
        for a, b in ((lib.FloatTensor, lib.ones(2, dtype=lib.int32)), (lib.ByteTensor, lib.ones(2, dtype=lib.bfloat16)),
                     (lib.BoolTensor, lib.ones(2, dtype=lib.int8))):
            try:
                a(b)
            except TypeError as e:
                out.append(str(e))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for shape in ((3, 2), (6,)):
                try:
                    out.append(tuple(lib.ones(2, 3).resize(*shape).shape))
                    out.append(tuple(lib.ones(2, 3).resize(4, 2).shape))
                except RuntimeError as e:
                    out.append(str(e))
        for dtype in ("int64", "int32", "int8"):
            out.append(lib.median(lib.zeros(0, dtype=getattr(lib, dtype))).item())
        return out

    assert run(cgrad) == run(torch)
