"""Dtype errors of bilinear, prelu, max_unpool and embedding that the
round-15 module fuzzing found worded or ordered differently from PyTorch
2.13's: bilinear's "All tensors must have the same dtype" first, prelu's
dtype check before its channel and rank checks, max_unpool's int64-indices
check first and its refusal of integer input, embedding's argument number
in embedding_renorm_ and its CPUBFloat16Type / CPUBoolType names. The
texts as recorded from torch, and compared with torch when it is there."""
import pytest

import cgrad
from nn_compare import assert_error
from tests.helpers import torch

CASES = [
    ("bilinear", lambda L: L.nn.functional.bilinear(L.ones(2, 4, dtype=L.float64), L.ones(2, 3), L.ones(5, 4, 3),
                                                    L.ones(5)),
     "RuntimeError", "All tensors must have the same dtype, got input1: double, input2: float, weight: float, "
                     "bias: float"),
    ("bilinear-rank", lambda L: L.nn.Bilinear(4, 3, 2, bias=False)(L.ones(2, dtype=L.int64), L.ones(2, 3)),
     "RuntimeError", "All tensors must have the same dtype, got input1: long int, input2: float, weight: float"),
    ("prelu-dtype-first", lambda L: L.nn.functional.prelu(L.ones(2, 4, 3, dtype=L.float64), L.ones(3)),
     "RuntimeError", "prelu: Type promoting not supported. Got Double and Float"),
    ("prelu-zero-dim", lambda L: L.nn.functional.prelu(L.tensor(1.0), L.ones(3)),
     "RuntimeError", "Not allow zero-dim input tensor."),
    ("prelu-channels-before-rank", lambda L: L.nn.functional.prelu(L.ones(2, 4), L.ones(2, 3)),
     "RuntimeError", "Mismatch of parameter numbers and input channel size. Found parameter numbers = 6 and "
                     "channel size = 4."),
    ("unpool2d-index-dtype", lambda L: L.nn.functional.max_unpool2d(L.ones(1, 1, 2, 2), L.ones(1, dtype=L.int32), 2),
     "RuntimeError", "elements in indices should be type int64 but got: Int"),
    ("unpool1d-index-dtype", lambda L: L.nn.MaxUnpool1d(2)(L.ones(1, 2, 3), L.ones(1, 2, 3)),
     "RuntimeError", "elements in indices should be type int64 but got: Float"),
    ("unpool3d-index-dtype", lambda L: L.nn.functional.max_unpool3d(L.ones(1, 1, 1, 1, 2),
                                                                    L.zeros(1, 1, 1, 1, 2, dtype=L.int32), 2),
     "RuntimeError", "elements in indices should be type int64"),
    ("unpool2d-integer-input", lambda L: L.nn.functional.max_unpool2d(L.ones(1, 1, 2, 2, dtype=L.int64),
                                                                      L.tensor([[[[0, 3], [9, 15]]]]), 2),
     "NotImplementedError", "\"max_unpool2d\" not implemented for 'Long'"),
    ("unpool3d-integer-input", lambda L: L.nn.functional.max_unpool3d(L.ones(1, 1, 1, 1, 2, dtype=L.uint8),
                                                                      L.tensor([[[[[0, 3]]]]]), 2),
     "NotImplementedError", "\"max_unpool3d\" not implemented for 'Byte'"),
    ("embedding-bfloat16", lambda L: L.nn.functional.embedding(L.tensor([1, 2], dtype=L.bfloat16), L.ones(5, 3)),
     "RuntimeError", "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                     "Int; but got CPUBFloat16Type instead (while checking arguments for embedding)"),
    ("embedding-bool", lambda L: L.nn.functional.embedding(L.tensor([True]), L.ones(5, 3)),
     "RuntimeError", "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                     "Int; but got CPUBoolType instead (while checking arguments for embedding)"),
    ("embedding-renorm", lambda L: L.nn.functional.embedding(L.tensor([1.0]), L.ones(5, 3), max_norm=1.0),
     "RuntimeError", "Expected tensor for argument #2 'indices' to have one of the following scalar types: Long, "
                     "Int; but got cgrad.FloatTensor instead (while checking arguments for embedding_renorm_)"),
    ("embedding-bag-bfloat16", lambda L: L.nn.functional.embedding_bag(L.tensor([[1, 2]], dtype=L.bfloat16),
                                                                       L.ones(5, 3)),
     "RuntimeError", "Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, "
                     "Int; but got CPUBFloat16Type instead (while checking arguments for embedding_bag)"),
]


@pytest.mark.parametrize("name, call, kind, text", CASES, ids=[c[0] for c in CASES])
def test_layer_dtype_errors(name, call, kind, text):
    assert_error(call, kind, text, torch, cgrad)


def test_same_dtype_layers_still_compute():
    x1, x2 = cgrad.ones(2, 4, dtype=cgrad.float64), cgrad.ones(2, 3, dtype=cgrad.float64)
    weight, bias = cgrad.ones(5, 4, 3, dtype=cgrad.float64), cgrad.zeros(5, dtype=cgrad.float64)
    out = cgrad.nn.functional.bilinear(x1, x2, weight, bias)
    assert out.tolist() == [[12.0] * 5] * 2
    y = cgrad.nn.functional.prelu(cgrad.tensor([[-2.0, 3.0]]), cgrad.tensor([0.5, 0.25]))
    assert y.tolist() == [[-1.0, 3.0]]
    u = cgrad.nn.functional.max_unpool1d(cgrad.tensor([[[5.0, 7.0]]]), cgrad.tensor([[[1, 2]]]), 2)
    assert u.tolist() == [[[0.0, 5.0, 7.0, 0.0]]]


def test_glu_of_an_empty_dimension():
    """Two empty halves (split of an empty dimension gave one piece)."""
    for shape, dim in (((0,), 0), ((2, 0), 1)):
        x = cgrad.ones(*shape, requires_grad=True)
        y = cgrad.nn.functional.glu(x, dim)
        assert tuple(y.shape) == shape and y.grad_fn.name() == "GluBackward0"
        if torch is not None:
            assert tuple(torch.nn.functional.glu(torch.ones(*shape), dim).shape) == shape


@pytest.mark.parametrize("dtype, title", [("float16", "Half"), ("bfloat16", "BFloat16"), ("int32", "Int")])
def test_local_response_norm_beyond_3d_has_avg_pool3d_dtypes(dtype, title):
    """PyTorch pools the channel window of 4-d and larger input with
    avg_pool3d (fewer dtypes than avg_pool2d, which 3-d input uses)."""
    x = cgrad.ones(1, 3, 2, 2, dtype=getattr(cgrad, dtype))
    with pytest.raises(NotImplementedError, match=f"^\"avg_pool3d_out_frame\" not implemented for '{title}'$"):
        cgrad.nn.functional.local_response_norm(x, 2)
    if dtype != "int32":
        y = cgrad.nn.functional.local_response_norm(cgrad.ones(1, 3, 4, dtype=getattr(cgrad, dtype)), 2)
        assert y.dtype == getattr(cgrad, dtype)
    if torch is not None:
        with pytest.raises(NotImplementedError, match=f"^\"avg_pool3d_out_frame\" not implemented for '{title}'$"):
            torch.nn.functional.local_response_norm(torch.ones(1, 3, 2, 2, dtype=getattr(torch, dtype)), 2)
