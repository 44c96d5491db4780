"""vmap's rules for the families that used to fall back (index ops, layer
functions, order statistics, the special namespace, the add-product ops),
each against a loop and torch.func.vmap with vmap(grad) against a loop of
grad (tests/func/vmap_check.py), in the forms a sample's shape changes:
with and without the layer's N dim, weights shared or per sample, index
tensors shared or batched, keepdim and whole-tensor reductions."""
import numpy as np
import pytest

import cgrad
from vmap_check import check_vmap, torch

rng = np.random.default_rng(5)
B = 3


def R(*shape):
    return rng.uniform(-1.0, 1.0, shape)


def P(*shape):
    return rng.uniform(0.2, 0.9, shape)


def IDX(*values):
    return np.array(values, dtype=np.int64)


def F(L):
    return L.nn.functional


CASES = [
    # layers: with and without N, weights shared or per sample
    ("conv2d_shared", lambda L, x, w: F(L).conv2d(x, w, padding=1), [R(B, 2, 2, 5, 5), R(3, 2, 3, 3)], (0, None)),
    ("conv2d_no_N", lambda L, x, w: F(L).conv2d(x, w, stride=2), [R(B, 2, 5, 5), R(3, 2, 3, 3)], (0, None)),
    ("conv2d_per_sample_weight", lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1, groups=2),
     [R(B, 2, 4, 5, 5), R(B, 4, 2, 3, 3), R(4)], (0, 0, None)),
    ("conv2d_weight_only_batched", lambda L, x, w: F(L).conv2d(x, w), [R(2, 5, 5), R(B, 3, 2, 3, 3)], (None, 0)),
    ("conv1d_per_sample", lambda L, x, w, b: F(L).conv1d(x, w, b), [R(B, 2, 2, 6), R(B, 3, 2, 2), R(B, 3)], 0),
    ("conv_transpose2d", lambda L, x, w: F(L).conv_transpose2d(x, w, stride=2), [R(B, 2, 2, 3, 3),
                                                                                 R(2, 3, 2, 2)], (0, None)),
    ("max_pool2d_indices", lambda L, x: F(L).max_pool2d(x, 2, return_indices=True)[0], [R(B, 2, 2, 4, 4)], 0),
    ("max_pool1d_no_N", lambda L, x: F(L).max_pool1d(x, 2), [R(B, 3, 6)], 0),
    ("avg_pool2d_ceil", lambda L, x: F(L).avg_pool2d(x, 2, ceil_mode=True), [R(B, 2, 5, 5)], 0),
    ("adaptive_avg_pool2d", lambda L, x: F(L).adaptive_avg_pool2d(x, (2, 3)), [R(B, 2, 2, 5, 6)], 0),
    ("adaptive_max_pool1d", lambda L, x: F(L).adaptive_max_pool1d(x, 3), [R(B, 2, 7)], 0),
    ("unfold", lambda L, x: F(L).unfold(x, 2, stride=1), [R(B, 2, 2, 3, 4)], 0),
    ("fold_no_N", lambda L, x: F(L).fold(x, (3, 4), 2), [R(B, 8, 6)], 0),
    ("pixel_shuffle", lambda L, x: F(L).pixel_shuffle(x, 2), [R(B, 2, 8, 2, 3)], 0),
    ("pad_constant", lambda L, x: F(L).pad(x, (1, 2, 0, 1), value=0.5), [R(B, 2, 3)], 0),
    ("pad_reflect_N", lambda L, x: F(L).pad(x, (2, 1), mode="reflect"), [R(B, 2, 3, 5)], 0),
    ("pad_replicate_no_N", lambda L, x: F(L).pad(x, (1, 1, 2, 0), mode="replicate"), [R(B, 2, 3, 4)], 0),
    ("prelu_shared", lambda L, x, w: F(L).prelu(x, w), [R(B, 2, 3, 4), P(3)], (0, None)),
    ("prelu_per_sample", lambda L, x, w: F(L).prelu(x, w), [R(B, 2, 3, 4), P(B, 3)], 0),
    ("prelu_single_weight_1d", lambda L, x, w: F(L).prelu(x, w), [R(B, 5), P(B, 1)], 0),
    ("group_norm", lambda L, x, w: F(L).group_norm(x, 2, w), [R(B, 2, 4, 3), P(4)], (0, None)),
    ("layer_norm_per_sample", lambda L, x, w, b: F(L).layer_norm(x, (4,), w, b), [R(B, 3, 4), P(B, 4), R(4)],
     (0, 0, None)),
    ("layer_norm_weight_only", lambda L, w, x: F(L).layer_norm(x, (2, 4), w), [P(B, 2, 4), R(3, 2, 4)], (0, None)),
    ("embedding_shared_table", lambda L, w, i: F(L).embedding(i, w), [R(5, 3), IDX(*[[0, 4], [2, 2], [1, 3]])],
     (None, 0)),
    ("embedding_per_sample_table", lambda L, w, i: F(L).embedding(i, w), [R(B, 5, 3), IDX(0, 4, 2, 4)], (0, None)),
    # index ops
    ("take_shared", lambda L, x: x.take(L.tensor([[0, -1], [5, 3]])), [R(B, 3, 4)], 0),
    ("take_batched_index", lambda L, x, i: L.take(x, i), [R(B, 3, 4), IDX(*[[1, -2], [0, 11], [5, 5]])], 0),
    ("put_batched_index", lambda L, x, i, s: x.put(i, s), [R(B, 3, 4), IDX(*[[1, 7], [0, 11], [5, 2]]), R(B, 2)],
     0),
    ("put_accumulate_shared", lambda L, x, s: x.put(L.tensor([2, 2, -1]), s, accumulate=True), [R(B, 2, 3),
                                                                                               R(3)], (0, None)),
    ("index_add_source_only", lambda L, x, s: x.index_add(1, L.tensor([2, 0]), s, alpha=1.5),
     [R(3, 4), R(B, 3, 2)], (None, 0)),
    ("index_add_", lambda L, x, s: x.clone().index_add_(0, L.tensor([1, 1]), s), [R(B, 3, 4), R(B, 2, 4)], 0),
    ("index_copy_", lambda L, x, s: x.clone().index_copy_(-1, L.tensor([3, 0]), s), [R(B, 3, 4), R(3, 2)],
     (0, None)),
    ("index_fill_batched_value", lambda L, x, v: x.index_fill(1, L.tensor([0, 2]), v), [R(B, 3, 4), R(B)], 0),
    ("index_fill_", lambda L, x: x.clone().index_fill_(0, L.tensor([2]), -1.0), [R(B, 3, 4)], 0),
    ("index_put_shared_indices", lambda L, x, v: x.index_put((L.tensor([0, 2]), L.tensor([1, 3])), v),
     [R(B, 3, 4), R(B, 2)], 0),
    ("index_put_accumulate_rows", lambda L, x, v: x.index_put((L.tensor([1, 1]),), v, accumulate=True),
     [R(B, 3, 4), R(4)], (0, None)),
    ("index_put_", lambda L, x, v: x.clone().index_put_((L.tensor([[0], [2]]),), v), [R(B, 3, 2), R(B, 2)], 0),
    ("masked_select_shared_mask", lambda L, x: x.masked_select(L.tensor([True, False, True, True])),
     [R(B, 2, 4)], 0),
    ("masked_scatter_batched_mask", lambda L, x, s: x.masked_scatter(x > 0, s), [R(B, 3, 4), R(B, 12)], 0),
    ("masked_scatter_broadcast_mask", lambda L, x, s: x.masked_scatter(L.tensor([True, False, True, False]), s),
     [R(B, 3, 4), R(7)], (0, None)),
    ("diag_vector", lambda L, x: L.diag(x, 1), [R(B, 3)], 0),
    ("diag_matrix", lambda L, x: x.diag(-1), [R(B, 3, 4)], 0),
    ("diag_embed_dims", lambda L, x: L.diag_embed(x, -1, 0, 2), [R(B, 2, 3)], 0),
    ("block_diag_mixed", lambda L, a, b, c: L.block_diag(a, b, c), [R(B, 2, 3), R(2), R(B)], (0, None, 0)),
    ("rot90_default", lambda L, x: x.rot90(), [R(B, 2, 3)], 0),
    ("rot90_k3_dims", lambda L, x: L.rot90(x, 3, [2, 0]), [R(B, 2, 3, 2)], 0),
    ("narrow_copy", lambda L, x: x.narrow_copy(-1, 1, 2), [R(B, 2, 4)], 0),
    ("tensor_unfold", lambda L, x: x.unfold(0, 2, 1), [R(B, 4, 3)], 0),
    # order statistics and reductions
    ("median_all", lambda L, x: x.median(), [R(B, 3, 4)], 0),
    ("median_keepdim", lambda L, x: x.median(0, keepdim=True).values, [R(B, 3, 5)], 0),
    ("nanmedian_all", lambda L, x: L.nanmedian(x), [R(B, 3, 5)], 0),
    ("mode_default", lambda L, x: x.mode().values, [np.round(R(B, 3, 5) * 2)], 0),
    ("msort", lambda L, x: L.msort(x), [R(B, 4, 2)], 0),
    ("quantile_all_keepdim", lambda L, x: L.quantile(x, 0.3, keepdim=True), [R(B, 3, 4)], 0),
    ("quantile_tensor_q_dim", lambda L, x: x.quantile(L.tensor([0.2, 0.9], dtype=L.float64), dim=1),
     [R(B, 3, 4)], 0),
    ("quantile_tensor_q_all_keepdim", lambda L, x: x.quantile(L.tensor([0.5, 0.1], dtype=L.float64),
                                                             keepdim=True, interpolation="midpoint"),
     [R(B, 3, 4)], 0),
    ("nanquantile", lambda L, x: L.nanquantile(x, 0.7, dim=0), [R(B, 3, 4)], 0),
    # torch.func.vmap gives (B, 1) where each sample is (1, 1) (the loop is the reference)
    ("aminmax_all_keepdim", lambda L, x: L.aminmax(x, keepdim=True), [R(B, 3, 4)], 0, False),
    ("aminmax_dim", lambda L, x: x.aminmax(dim=-1), [R(B, 3, 4)], 0),
    ("std_mean_keepdim", lambda L, x: L.std_mean(x, dim=(0, 1), keepdim=True), [R(B, 3, 4)], 0),
    ("var_mean_unbiased", lambda L, x: L.var_mean(x, False), [R(B, 3, 4)], 0),
    ("cumprod_", lambda L, x: x.clone().cumprod_(0), [R(B, 3, 4)], 0),
    ("cumsum_", lambda L, x: x.clone().cumsum_(-1), [R(B, 3, 4)], 0),
    # the special namespace
    ("special_erfcx", lambda L, x: L.special.erfcx(x), [R(B, 3, 4)], 0),
    ("special_i1", lambda L, x: L.special.i1(x), [R(B, 3, 4)], 0),
    ("special_xlogy", lambda L, x, y: L.special.xlogy(x, y), [R(B, 3, 4), P(4)], (0, None)),
    ("special_polygamma", lambda L, x: L.special.polygamma(1, x), [P(B, 3, 4)], 0),
    ("special_logsumexp", lambda L, x: L.special.logsumexp(x, 1), [R(B, 3, 4)], 0),
    ("special_log_softmax", lambda L, x: L.special.log_softmax(x, 0), [R(B, 3, 4)], 0),
    # beta * input + alpha * product
    ("addmv_shared_matrix", lambda L, c, a, v: L.addmv(c, a, v, beta=0.5, alpha=2.0), [R(B, 3), R(3, 4), R(B, 4)],
     (0, None, 0)),
    ("addr", lambda L, c, a, b: L.addr(c, a, b, alpha=-1), [R(3, 4), R(B, 3), R(B, 4)], (None, 0, 0)),
    ("baddbmm_beta0", lambda L, c, a, b: L.baddbmm(c, a, b, beta=0), [R(2, 3, 2), R(B, 2, 3, 4), R(2, 4, 2)],
     (None, 0, None)),
    ("addbmm", lambda L, c, a, b: L.addbmm(c, a, b), [R(B, 3, 2), R(B, 2, 3, 4), R(B, 2, 4, 2)], 0),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule(case):
    name, fn, arrays, in_dims = case[:4]
    check_vmap(fn, arrays, in_dims, atol=1e-9, against_torch=case[4] if len(case) > 4 else True)


def test_addmv_beta_zero_ignores_nan_input():
    c = cgrad.full((B, 3), float("nan"), dtype=cgrad.float64)
    a, v = cgrad.tensor(R(3, 4)), cgrad.tensor(R(B, 4))
    out = cgrad.func.vmap(lambda c, v: cgrad.addmv(c, a, v, beta=0), in_dims=(0, 0))(c, v)
    np.testing.assert_allclose(out.numpy(), (v @ a.T).numpy(), rtol=1e-12)


def test_masked_select_of_a_batched_mask_is_refused_as_torch():
    x = cgrad.tensor(R(B, 3, 4))
    with pytest.raises(RuntimeError, match="vmap: Attempted to vmap over `mask` in torch.masked_select"):
        cgrad.func.vmap(lambda a: a.masked_select(a > 0))(x)


def test_take_out_of_range_raises_the_ops_error():
    x = cgrad.tensor(R(B, 3, 4))
    with pytest.raises(IndexError) as caught:
        cgrad.func.vmap(lambda a: a.take(cgrad.tensor([12])))(x)
    with pytest.raises(IndexError) as direct:
        x[0].take(cgrad.tensor([12]))
    assert str(caught.value) == str(direct.value)
    if torch is not None:
        with pytest.raises(IndexError, match="out of range"):
            torch.func.vmap(lambda a: a.take(torch.tensor([12])))(torch.tensor(R(B, 3, 4)))


def test_inplace_index_op_on_unbatched_self_refused_as_torch():
    x, s = cgrad.zeros(3, 4, dtype=cgrad.float64), cgrad.tensor(R(B, 2, 4))
    with pytest.raises(RuntimeError, match=r"vmap: index_add_\(self, \*extra_args\) is not possible"):
        cgrad.func.vmap(lambda s: x.index_add_(0, cgrad.tensor([0, 1]), s))(s)
    if torch is not None:
        with pytest.raises(RuntimeError, match=r"vmap: index_add_\(self, \*extra_args\) is not possible"):
            torch.func.vmap(lambda s: torch.zeros(3, 4, dtype=torch.float64).index_add_(
                0, torch.tensor([0, 1]), s))(torch.tensor(R(B, 2, 4)))
