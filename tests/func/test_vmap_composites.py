"""vmap of cgrad's composite functions (cgrad/func/_batch_rules_composites.py):
the decomposed bodies and the rank-dependent rules against a loop and
torch.func.vmap (values, vmap(grad) against a loop of grad), with no
fallback; the data-dependent shapes refused with PyTorch's error."""
import numpy as np
import pytest

import cgrad
from cgrad.func._batch_rules_composites import DECOMPOSED
from vmap_check import check_vmap, torch

rng = np.random.default_rng(8)
B = 3


def R(*shape):
    return rng.uniform(-1.0, 1.0, shape)


CASES = [
    ("broadcast_tensors", lambda L, a, b: L.broadcast_tensors(a, b), [R(B, 2, 1), R(3)], (0, None)),
    ("cumulative_trapezoid", lambda L, a: L.cumulative_trapezoid(a, dx=0.5), [R(B, 2, 4)], 0),
    ("diff", lambda L, a: L.diff(a, 2, dim=0), [R(B, 4, 3)], 0),
    ("diff_default", lambda L, a: a.diff(), [R(B, 2, 5)], 0),
    ("fliplr", lambda L, a: L.fliplr(a), [R(B, 2, 3)], 0),
    ("flipud", lambda L, a: L.flipud(a), [R(B, 2, 3)], 0),
    ("hsplit", lambda L, a: L.hsplit(a, 2), [R(B, 2, 4)], 0),
    ("vsplit", lambda L, a: L.vsplit(a, [1]), [R(B, 3, 2)], 0),
    ("pairwise_distance", lambda L, a, b: L.pairwise_distance(a, b, p=3), [R(B, 2, 4), R(4)], (0, None)),
    ("repeat_interleave", lambda L, a: L.repeat_interleave(a, 2, dim=1), [R(B, 2, 3)], 0),
    ("trapezoid", lambda L, a: L.trapezoid(a, dim=0), [R(B, 3, 4)], 0),
    ("trapz", lambda L, a: L.trapz(a), [R(B, 3, 4)], 0),
    ("cosine_similarity", lambda L, a, b: L.cosine_similarity(a, b, dim=0), [R(B, 3, 4), R(B, 3, 4)], 0),
    ("atleast_1d_scalar", lambda L, a: L.atleast_1d(a[0, 0]), [R(B, 2, 2)], 0),
    ("atleast_2d_vector", lambda L, a: L.atleast_2d(a[0]), [R(B, 2, 3)], 0),
    ("atleast_3d_matrix", lambda L, a: L.atleast_3d(a), [R(B, 2, 3)], 0),
    ("atleast_3d_vector", lambda L, a: L.atleast_3d(a[1]), [R(B, 2, 3)], 0),
    ("hstack_vectors", lambda L, a, b: L.hstack([a, b]), [R(B, 3), R(2)], (0, None)),
    ("hstack_matrices", lambda L, a, b: L.hstack([a, b]), [R(B, 2, 3), R(B, 2, 1)], 0),
    ("vstack", lambda L, a, b: L.vstack([a, b]), [R(B, 3), R(2, 3)], (0, None)),
    ("dstack", lambda L, a, b: L.dstack([a, b]), [R(B, 2, 3), R(B, 2, 3)], 0),
    # torch.func.vmap has no rule and no fallback for column_stack (the loop is the reference)
    ("column_stack", lambda L, a, b: L.column_stack([a, b]), [R(B, 3), R(B, 3, 2)], 0, False),
    ("adjoint", lambda L, a: L.adjoint(a), [R(B, 2, 3)], 0),
    ("trace", lambda L, a: L.trace(a), [R(B, 3, 3)], 0),
    ("dist", lambda L, a, b: L.dist(a, b, 3), [R(B, 2, 3), R(3)], (0, None)),
    ("cdist", lambda L, a, b: L.cdist(a, b), [R(B, 4, 3), R(5, 3)], (0, None)),
    ("cdist_batch_dims", lambda L, a, b: L.cdist(a, b, p=1), [R(B, 2, 4, 3), R(B, 5, 3)], 0),
    ("full_like", lambda L, a: L.full_like(a, 2.5) * a, [R(B, 2, 3)], 0),
    ("avg_pool1d", lambda L, a: L.avg_pool1d(a, 2), [R(B, 2, 6)], 0),
    ("max_pool1d_N", lambda L, a: L.max_pool1d(a, 2), [R(B, 1, 2, 6)], 0),
    ("adaptive_avg_pool1d", lambda L, a: L.adaptive_avg_pool1d(a, 3), [R(B, 2, 7)], 0),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_composite(case):
    name, fn, arrays, in_dims = case[:4]
    check_vmap(fn, arrays, in_dims, atol=1e-9, against_torch=case[4] if len(case) > 4 else True)


def test_searchsorted():
    seq = np.sort(R(B, 5), -1)
    for fn, arrays, in_dims in [
            (lambda L, s, v: L.searchsorted(s, v), [seq, R(B, 2, 3)], 0),
            (lambda L, s, v: L.searchsorted(s, v, right=True), [seq[0], R(B, 4)], (None, 0)),
            (lambda L, s, v: L.searchsorted(s, v), [seq, R(2, 3)], (0, None))]:
        check_vmap(fn, arrays, in_dims, grad=False)


def test_every_decomposed_name_is_exercised():
    exercised = {c[0] for c in CASES} | {"broadcast_tensors"}
    assert set(DECOMPOSED) <= exercised


@pytest.mark.parametrize("call,aten", [(lambda L, a: a.nonzero(), "nonzero"),
                                       (lambda L, a: L.unique(a), "_unique2"),
                                       (lambda L, a: L.unique_consecutive(a), "unique_consecutive")])
def test_data_dependent_shapes_refused_as_torch(call, aten):
    message = (f"vmap: We do not support batching operators that can output dynamic shape. Attempted to vmap "
               f"over aten::{aten}. Please file an issue at https://github.com/pytorch/pytorch/issues if you "
               "need this feature.")
    with pytest.raises(RuntimeError) as caught:
        cgrad.func.vmap(lambda a: call(cgrad, a))(cgrad.tensor(R(B, 4)))
    assert str(caught.value) == message
    if torch is not None:
        with pytest.raises(RuntimeError) as expected:
            torch.func.vmap(lambda a: call(torch, a))(torch.tensor(R(B, 4)))
        assert str(expected.value) == message


MORE = [
    ("group_norm", lambda L, a, w: L.group_norm(a, 2, w), [R(B, 2, 4, 3), R(4)], (0, None)),
    ("tensordot_int", lambda L, a, b: L.tensordot(a, b, 1), [R(B, 2, 3), R(3, 4)], (0, None)),
    ("tensordot_b_batched", lambda L, a, b: L.tensordot(a, b, dims=([1, 0], [0, 2])), [R(3, 2), R(B, 2, 4, 3)],
     (None, 0)),
    ("tensordot_both", lambda L, a, b: L.tensordot(a, b), [R(B, 4, 2, 3), R(B, 2, 3, 5)], 0),
    ("tensordot_zero", lambda L, a, b: L.tensordot(a, b, 0), [R(B, 2), R(B, 3)], 0),
    ("kron", lambda L, a, b: L.kron(a, b), [R(B, 2, 3), R(B, 2, 2)], 0),
    ("kron_ranks", lambda L, a, b: L.kron(a, b), [R(B, 2), R(3, 2, 2)], (0, None)),
]


@pytest.mark.parametrize("name,fn,arrays,in_dims", MORE, ids=[c[0] for c in MORE])
def test_more_composites(name, fn, arrays, in_dims):
    check_vmap(fn, arrays, in_dims, atol=1e-9)
