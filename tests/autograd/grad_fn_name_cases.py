"""The cases of tests/autograd/test_grad_fn_names_torch.py: every op and layer of
issue #16's items 1 to 4 (recurrent layers and cells, packed sequences,
attention, transformer layers, einsum and the tensor ops, linalg) and
distributions' rsample/log_prob, each a function of the library (cgrad or
torch). Inputs come from numpy (T, X) and modules get the same parameters
(same_params), so values and gradients can be compared too; every tensor
made with grad=True is recorded in LEAVES for the gradient comparison.
RANDOM names the cases that draw random numbers (dropout, sampling): their
names are compared, not their values."""
import math

import numpy as np

LEAVES = []


def T(lib, shape, seed=0, grad=True, dtype="float64", spd=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if spd:
        a = a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])
    t = lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=grad)
    if grad:
        LEAVES.append(t)
    return t


def X(lib, shape, seed=0, grad=True, dtype="float64"):
    return T(lib, shape, seed, grad, dtype)


def L(lib, data):
    return lib.tensor(data, dtype=lib.int64)


def same_params(lib, module, seed=7):
    """module (float64) with parameters drawn from numpy in its parameter order."""
    module = module.double()
    rng = np.random.default_rng(seed)
    with lib.no_grad():
        for p in module.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
    return module


# --- item 1: recurrent layers, packed sequences, cells ----------------------

def _rnn_case(mode, kw, packed=None, hidden=False, batched=True, train=True):
    def case(lib):
        m = same_params(lib, getattr(lib.nn, mode)(4, 5, **kw))
        m.train(train)
        bf = kw.get("batch_first", False)
        x = X(lib, ((2, 3, 4) if bf else (3, 2, 4)) if batched else (3, 4))
        args = [x]
        if hidden:
            layers = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
            shape = (layers, 2) if batched else (layers,)
            h = X(lib, shape + (kw.get("proj_size", 0) or 5,), 1)
            args.append((h, X(lib, shape + (5,), 2)) if mode == "LSTM" else h)
        if packed:
            pack = lib.nn.utils.rnn.pack_padded_sequence
            args[0] = pack(x, [2, 3] if packed == "unsorted" else [3, 2], batch_first=bf,
                           enforce_sorted=packed != "unsorted")
            out, state = m(*args)
            padded, lengths = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=bf)
            return args[0].data, out.data, state, padded
        return m(*args)
    return case


RNN_CONFIGS = {
    "RNN": [{}, {"nonlinearity": "relu"}, {"batch_first": True}, {"bidirectional": True},
            {"num_layers": 2, "dropout": 0.5}, {"bias": False}],
    "GRU": [{}, {"batch_first": True}, {"bidirectional": True}, {"num_layers": 2, "bidirectional": True},
            {"bias": False}],
    "LSTM": [{}, {"batch_first": True}, {"bidirectional": True}, {"num_layers": 2, "dropout": 0.5},
             {"proj_size": 3}, {"proj_size": 3, "bidirectional": True, "batch_first": True}, {"bias": False}],
}
RNN = {}
for _mode, _configs in RNN_CONFIGS.items():
    for _kw in _configs:
        _name = f"{_mode}{_kw}"
        RNN[_name] = _rnn_case(_mode, _kw)
        RNN[_name + " hidden"] = _rnn_case(_mode, _kw, hidden=True)
        RNN[_name + " unbatched"] = _rnn_case(_mode, _kw, batched=False, hidden=True)
        RNN[_name + " eval"] = _rnn_case(_mode, _kw, train=False)
        RNN[_name + " packed"] = _rnn_case(_mode, _kw, packed="sorted", hidden=True)
        RNN[_name + " packed unsorted"] = _rnn_case(_mode, _kw, packed="unsorted")


def _cell_case(kind, batched=True, hidden=False, bias=True, nonlinearity=None):
    def case(lib):
        kw = {"bias": bias} if nonlinearity is None else {"bias": bias, "nonlinearity": nonlinearity}
        m = same_params(lib, getattr(lib.nn, kind)(4, 5, **kw))
        x = X(lib, (2, 4) if batched else (4,))
        if not hidden:
            return m(x)
        shape = (2, 5) if batched else (5,)
        h = X(lib, shape, 1)
        return m(x, (h, X(lib, shape, 2)) if kind == "LSTMCell" else h)
    return case


for _kind in ("RNNCell", "LSTMCell", "GRUCell"):
    for _batched in (True, False):
        for _hidden in (False, True):
            RNN[f"{_kind} batched={_batched} hidden={_hidden}"] = _cell_case(_kind, _batched, _hidden)
    RNN[f"{_kind} no bias"] = _cell_case(_kind, bias=False, hidden=True)
RNN["RNNCell relu"] = _cell_case("RNNCell", hidden=True, nonlinearity="relu")
RNN["pad_sequence"] = lambda l: l.nn.utils.rnn.pad_sequence([X(l, (3, 2)), X(l, (1, 2), 1)])
RNN["pack_sequence"] = lambda l: l.nn.utils.rnn.pack_sequence([X(l, (3, 2)), X(l, (1, 2), 1)]).data

# --- item 2: attention and transformer layers ---------------------------------


def _sdpa(l, q, k, v, **kw):
    return l.nn.functional.scaled_dot_product_attention(q, k, v, **kw)


def _bool_mask(l, rows, cols):
    return l.tensor(np.tril(np.ones((rows, cols), bool)))


ATTENTION = {}
for _dim, _sh in ((3, (2, 5, 8)), (4, (2, 3, 5, 8))):
    def _qkv(l, sh=_sh, dtype="float64"):
        return X(l, sh, 0, dtype=dtype), X(l, sh, 1, dtype=dtype), X(l, sh, 2, dtype=dtype)
    ATTENTION[f"sdpa {_dim}d"] = lambda l, q=_qkv: _sdpa(l, *q(l))
    ATTENTION[f"sdpa {_dim}d float32"] = lambda l, q=_qkv: _sdpa(l, *q(l, dtype="float32"))
    ATTENTION[f"sdpa {_dim}d bool mask"] = lambda l, q=_qkv: _sdpa(l, *q(l), attn_mask=_bool_mask(l, 5, 5))
    ATTENTION[f"sdpa {_dim}d float mask"] = lambda l, q=_qkv: _sdpa(l, *q(l), attn_mask=X(l, (5, 5), 3, False))
    ATTENTION[f"sdpa {_dim}d mask with grad"] = lambda l, q=_qkv: _sdpa(l, *q(l), attn_mask=X(l, (5, 5), 3))
    ATTENTION[f"sdpa {_dim}d causal"] = lambda l, q=_qkv: _sdpa(l, *q(l), is_causal=True)
    ATTENTION[f"sdpa {_dim}d scale"] = lambda l, q=_qkv: _sdpa(l, *q(l), scale=0.5)
    ATTENTION[f"sdpa {_dim}d dropout"] = lambda l, q=_qkv: _sdpa(l, *q(l), dropout_p=0.3)
    ATTENTION[f"sdpa {_dim}d dropout mask"] = \
        lambda l, q=_qkv: _sdpa(l, *q(l), dropout_p=0.3, attn_mask=_bool_mask(l, 5, 5))
    ATTENTION[f"sdpa {_dim}d query without grad"] = \
        lambda l, sh=_sh: _sdpa(l, X(l, sh, 0, False), X(l, sh, 1), X(l, sh, 2))
ATTENTION["sdpa 4d gqa"] = lambda l: _sdpa(l, X(l, (2, 4, 5, 8)), X(l, (2, 2, 5, 8), 1), X(l, (2, 2, 5, 8), 2),
                                           enable_gqa=True)
ATTENTION["sdpa 4d value dim"] = lambda l: _sdpa(l, X(l, (2, 4, 5, 8)), X(l, (2, 4, 5, 8), 1), X(l, (2, 4, 5, 6), 2))
ATTENTION["sdpa 4d key length"] = lambda l: _sdpa(l, X(l, (2, 4, 5, 8)), X(l, (2, 4, 7, 8), 1), X(l, (2, 4, 7, 8), 2))
ATTENTION["sdpa 2d"] = lambda l: _sdpa(l, X(l, (5, 8)), X(l, (5, 8), 1), X(l, (5, 8), 2))
ATTENTION["sdpa 5d"] = lambda l: _sdpa(l, X(l, (2, 2, 2, 5, 8)), X(l, (2, 2, 2, 5, 8), 1), X(l, (2, 2, 2, 5, 8), 2))
ATTENTION["sdpa 4d causal and mask"] = lambda l: _sdpa(l, X(l, (2, 3, 5, 8)), X(l, (2, 3, 5, 8), 1),
                                                       X(l, (2, 3, 5, 8), 2), is_causal=True,
                                                       attn_mask=_bool_mask(l, 5, 5))
ATTENTION["sdpa 4d all masked rows"] = lambda l: _sdpa(l, X(l, (2, 3, 5, 8)), X(l, (2, 3, 5, 8), 1),
                                                       X(l, (2, 3, 5, 8), 2),
                                                       attn_mask=l.tensor(np.triu(np.ones((5, 5), bool), 3)))
ATTENTION["sdpa 4d self"] = lambda l: (lambda q: _sdpa(l, q, q, q))(X(l, (2, 3, 5, 8)))


def _mha_case(kw, call):
    def case(lib):
        lib.manual_seed(0)
        m = same_params(lib, lib.nn.MultiheadAttention(8, 2, **kw))
        bf = kw.get("batch_first", False)
        S = 4 if "kdim" in kw else 5
        c = dict(call)
        if "key_padding_mask" in c:
            c["key_padding_mask"] = lib.tensor(np.array([[False] * (S - 1) + [True]] * 3))
        if "attn_mask" in c:
            c["attn_mask"] = lib.tensor(np.triu(np.ones((5, S), bool), 1))
        if "is_causal" in c:
            c["attn_mask"] = lib.tensor(np.triu(np.ones((5, S), bool), 1))
        x = X(lib, (3, 5, 8) if bf else (5, 3, 8))
        if "kdim" in kw:
            kv = X(lib, (3, 4, 6) if bf else (4, 3, 6), 1)
            return m(x, kv, kv, **c)
        return m(x, x, x, **c)
    return case


MHA_CALLS = [{}, {"need_weights": False}, {"average_attn_weights": False}, {"key_padding_mask": 1},
             {"attn_mask": 1}, {"is_causal": True, "need_weights": False}]
for _kw in ({}, {"batch_first": True}, {"bias": False}, {"add_bias_kv": True}, {"add_zero_attn": True},
            {"kdim": 6, "vdim": 6}, {"dropout": 0.2}):
    for _call in MHA_CALLS:
        ATTENTION[f"mha {_kw} {_call}"] = _mha_case(_kw, _call)
ATTENTION["mha unbatched"] = lambda l: (lambda m, x: m(x, x, x))(same_params(l, l.nn.MultiheadAttention(8, 2)),
                                                                  X(l, (5, 8)))


def _layer_case(kind, kw, call=None):
    def case(lib):
        kw2 = dict(kw)
        if kw2.get("activation") == "sin":
            kw2["activation"] = lib.sin
        bf = kw.get("batch_first", False)
        x = X(lib, (3, 5, 8) if bf else (5, 3, 8))
        c = {k: (v(lib) if callable(v) else v) for k, v in (call or {}).items()}
        if kind == "encoder":
            return same_params(lib, lib.nn.TransformerEncoderLayer(8, 2, 16, **kw2))(x, **c)
        return same_params(lib, lib.nn.TransformerDecoderLayer(8, 2, 16, **kw2))(x, X(lib, x.shape, 1), **c)
    return case


def _causal(l):
    return l.nn.Transformer.generate_square_subsequent_mask(5, dtype=l.float64)


for _kind in ("encoder", "decoder"):
    for _kw in ({"dropout": 0.0}, {}, {"dropout": 0.0, "norm_first": True}, {"dropout": 0.0, "activation": "gelu"},
                {"dropout": 0.0, "batch_first": True}, {"dropout": 0.0, "bias": False},
                {"dropout": 0.0, "activation": "sin"}):
        ATTENTION[f"{_kind} layer {_kw}"] = _layer_case(_kind, _kw)
ATTENTION["encoder layer src_mask"] = _layer_case("encoder", {"dropout": 0.0}, {"src_mask": _causal})
ATTENTION["encoder layer causal"] = _layer_case("encoder", {"dropout": 0.0}, {"src_mask": _causal,
                                                                              "is_causal": True})
ATTENTION["decoder layer tgt_mask"] = _layer_case("decoder", {"dropout": 0.0}, {"tgt_mask": _causal})
ATTENTION["encoder stack"] = lambda l: same_params(l, l.nn.TransformerEncoder(
    l.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=l.nn.LayerNorm(8),
    enable_nested_tensor=False))(X(l, (5, 3, 8)))



# --- item 3: einsum and the tensor ops -----------------------------------------

OPS = {
 "einsum_bmm": lambda l: l.einsum("bij,bjk->bik", T(l,(2,3,4)), T(l,(2,4,5),1)),
 "einsum_trace": lambda l: l.einsum("ii", T(l,(3,3))),
 "einsum_diag": lambda l: l.einsum("ii->i", T(l,(3,3))),
 "einsum_sum": lambda l: l.einsum("ij->", T(l,(3,3))),
 "einsum_outer": lambda l: l.einsum("i,j->ij", T(l,(3,)), T(l,(4,),1)),
 "einsum_dot": lambda l: l.einsum("i,i->", T(l,(3,)), T(l,(3,),1)),
 "einsum_transpose": lambda l: l.einsum("ij->ji", T(l,(3,4))),
 "einsum_three": lambda l: l.einsum("ij,jk,kl->il", T(l,(2,3)), T(l,(3,4),1), T(l,(4,5),2)),
 "einsum_mul": lambda l: l.einsum("ij,ij->ij", T(l,(2,3)), T(l,(2,3),1)),
 "einsum_ellipsis": lambda l: l.einsum("...ij,...jk", T(l,(2,3,4)), T(l,(2,4,5),1)),
 "einsum_bilinear": lambda l: l.einsum("bn,anm,bm->ba", T(l,(2,3)), T(l,(4,3,5),1), T(l,(2,5),2)),
 "einsum_single": lambda l: l.einsum("ijk->kji", T(l,(2,3,4))),
 "tensordot": lambda l: l.tensordot(T(l,(2,3,4)), T(l,(3,4,5),1), dims=2),
 "tensordot_list": lambda l: l.tensordot(T(l,(2,3,4)), T(l,(4,3,5),1), dims=([1,2],[1,0])),
 "kron": lambda l: l.kron(T(l,(2,3)), T(l,(3,2),1)),
 "trace": lambda l: l.trace(T(l,(3,4))),
 "diagonal": lambda l: l.diagonal(T(l,(3,4)), 1),
 "diag_embed": lambda l: l.diag_embed(T(l,(2,3))),
 "baddbmm": lambda l: l.baddbmm(T(l,(2,3,5)), T(l,(2,3,4),1), T(l,(2,4,5),2)),
 "addbmm": lambda l: l.addbmm(T(l,(3,5)), T(l,(2,3,4),1), T(l,(2,4,5),2)),
 "addmv": lambda l: l.addmv(T(l,(3,)), T(l,(3,4),1), T(l,(4,),2)),
 "addr": lambda l: l.addr(T(l,(3,4)), T(l,(3,),1), T(l,(4,),2)),
 "cross": lambda l: l.cross(T(l,(2,3)), T(l,(2,3),1), dim=1),
 "cdist": lambda l: l.cdist(T(l,(3,4)), T(l,(5,4),1)),
 "cdist_p1": lambda l: l.cdist(T(l,(3,4)), T(l,(5,4),1), p=1),
 "cdist_inf": lambda l: l.cdist(T(l,(3,4)), T(l,(5,4),1), p=float("inf")),
 "cdist_p0": lambda l: l.cdist(T(l,(3,4)), T(l,(5,4),1), p=0),
 "cdist_p3": lambda l: l.cdist(T(l,(3,4)), T(l,(5,4),1), p=3),
 "cdist_big": lambda l: l.cdist(T(l,(30,4)), T(l,(30,4),1)),
 "sort": lambda l: l.sort(T(l,(3,4)), 1),
 "sort_stable": lambda l: l.sort(T(l,(3,4)), dim=0, stable=True, descending=True),
 "argsort": lambda l: l.argsort(T(l,(3,4))),
 "msort": lambda l: l.msort(T(l,(3,4))),
 "topk": lambda l: l.topk(T(l,(3,4)), 2),
 "kthvalue": lambda l: l.kthvalue(T(l,(3,4)), 2),
 "median": lambda l: l.median(T(l,(3,4))),
 "median_dim": lambda l: l.median(T(l,(3,4)), 1),
 "nanmedian": lambda l: l.nanmedian(T(l,(3,4))),
 "nanmedian_dim": lambda l: l.nanmedian(T(l,(3,4)), 0),
 "mode": lambda l: l.mode(T(l,(3,4))),
 "quantile": lambda l: l.quantile(T(l,(3,4)), 0.3),
 "quantile_dim": lambda l: l.quantile(T(l,(3,4)), l.tensor([0.2,0.7],dtype=l.float64), dim=1),
 "nanquantile": lambda l: l.nanquantile(T(l,(3,4)), 0.3, dim=0),
 "unique": lambda l: l.unique(T(l,(3,4))),
 "unique_consecutive": lambda l: l.unique_consecutive(T(l,(3,4))),
 "cumprod": lambda l: l.cumprod(T(l,(3,4)), 1),
 "cummax": lambda l: l.cummax(T(l,(3,4)), 1),
 "cummin": lambda l: l.cummin(T(l,(3,4)), 0),
 "logcumsumexp": lambda l: l.logcumsumexp(T(l,(3,4)), 1),
 "cumsum": lambda l: l.cumsum(T(l,(3,4)), 1),
 "masked_select": lambda l: l.masked_select(T(l,(3,4)), T(l,(3,4),1,False) > 0),
 "masked_scatter": lambda l: T(l,(3,4)).masked_scatter(T(l,(3,4),1,False) > 0, T(l,(12,),2)),
 "index_add": lambda l: T(l,(3,4)).index_add(0, L(l,[0,2]), T(l,(2,4),1)),
 "index_copy": lambda l: T(l,(3,4)).index_copy(0, L(l,[0,2]), T(l,(2,4),1)),
 "index_fill": lambda l: T(l,(3,4)).index_fill(1, L(l,[0,2]), 1.5),
 "index_put": lambda l: T(l,(3,4)).index_put((L(l,[0,2]),), T(l,(4,),1)),
 "index_put_acc": lambda l: T(l,(3,4)).index_put((L(l,[0,0]),), T(l,(4,),1), accumulate=True),
 "take": lambda l: l.take(T(l,(3,4)), L(l,[0,5,11])),
 "take_along_dim": lambda l: l.take_along_dim(T(l,(3,4)), L(l,[[0],[1],[2]]), 1),
 "take_along_dim_flat": lambda l: l.take_along_dim(T(l,(3,4)), L(l,[0,3])),
 "put": lambda l: T(l,(3,4)).put(L(l,[0,5]), T(l,(2,),1)),
 "put_inplace": lambda l: (T(l,(3,4))*1).put_(L(l,[0,5]), T(l,(2,),1)),
 "meshgrid": lambda l: l.meshgrid(T(l,(3,)), T(l,(4,),1), indexing="ij"),
 "meshgrid_xy": lambda l: l.meshgrid(T(l,(3,)), T(l,(4,),1), indexing="xy"),
 "as_strided": lambda l: l.as_strided(T(l,(3,4)), (2,2), (1,2)),
 "unfold": lambda l: T(l,(3,8)).unfold(1, 3, 2),
 "narrow_copy": lambda l: l.narrow_copy(T(l,(3,4)), 1, 1, 2),
 "narrow": lambda l: l.narrow(T(l,(3,4)), 1, 1, 2),
 "swapaxes": lambda l: l.swapaxes(T(l,(3,4)), 0, 1),
 "swapdims": lambda l: l.swapdims(T(l,(3,4)), 0, 1),
 "rot90": lambda l: l.rot90(T(l,(3,4))),
 "rot90_2": lambda l: l.rot90(T(l,(3,4)), 2),
 "rot90_3": lambda l: l.rot90(T(l,(3,4)), 3),
 "rot90_0": lambda l: l.rot90(T(l,(3,4)), 0),
 "block_diag": lambda l: l.block_diag(T(l,(2,3)), T(l,(2,2),1)),
 "cartesian_prod": lambda l: l.cartesian_prod(T(l,(3,)), T(l,(2,),1)),
 "cartesian_prod_one": lambda l: l.cartesian_prod(T(l,(3,))),
 "combinations": lambda l: l.combinations(T(l,(4,))),
 "combinations_r3": lambda l: l.combinations(T(l,(4,)), 3, with_replacement=True),
 "clamp_tensor": lambda l: l.clamp(T(l,(3,4)), T(l,(3,4),1), T(l,(3,4),2)+2),
 "clamp_min_tensor": lambda l: l.clamp(T(l,(3,4)), min=T(l,(3,4),1)),
 "clamp_max_tensor": lambda l: l.clamp(T(l,(3,4)), max=T(l,(3,4),1)),
 "nansum": lambda l: l.nansum(T(l,(3,4))),
 "nansum_dim": lambda l: l.nansum(T(l,(3,4)), 1),
 "nanmean": lambda l: l.nanmean(T(l,(3,4))),
 "nanmean_dim": lambda l: l.nanmean(T(l,(3,4)), 1),
 "std_mean": lambda l: l.std_mean(T(l,(3,4))),
 "std_mean_dim": lambda l: l.std_mean(T(l,(3,4)), 1),
 "var_mean": lambda l: l.var_mean(T(l,(3,4)), 0, correction=0),
 "aminmax": lambda l: l.aminmax(T(l,(3,4))),
 "aminmax_dim": lambda l: l.aminmax(T(l,(3,4)), dim=1),
 "logdet": lambda l: l.logdet(T(l,(3,3),spd=True)),
 "where_cond": lambda l: l.where(T(l,(3,4)) > 0),
 "histc": lambda l: l.histc(T(l,(3,4))),
 "det": lambda l: l.det(T(l,(3,3))),
 "inverse": lambda l: l.inverse(T(l,(3,3))),
 "cholesky_alias": lambda l: l.cholesky(T(l,(3,3),spd=True)),
 "flip": lambda l: l.flip(T(l,(3,4)), [0]),
 "tril": lambda l: l.tril(T(l,(3,4))),
 "bmm": lambda l: l.bmm(T(l,(2,3,4)), T(l,(2,4,5),1)),
}

# --- item 4: linalg -------------------------------------------------------------

LINALG = {
 "inv": lambda l: l.linalg.inv(T(l,(3,3))),
 "inv_batched": lambda l: l.linalg.inv(T(l,(2,3,3))),
 "inv_ex": lambda l: l.linalg.inv_ex(T(l,(3,3))),
 "solve": lambda l: l.linalg.solve(T(l,(3,3)), T(l,(3,2),1)),
 "solve_vec": lambda l: l.linalg.solve(T(l,(3,3)), T(l,(3,),1)),
 "solve_left": lambda l: l.linalg.solve(T(l,(3,3)), T(l,(2,3),1), left=False),
 "solve_ex": lambda l: l.linalg.solve_ex(T(l,(3,3)), T(l,(3,2),1)),
 "solve_triangular": lambda l: l.linalg.solve_triangular(T(l,(3,3)).triu(), T(l,(3,2),1), upper=True),
 "det": lambda l: l.linalg.det(T(l,(3,3))),
 "slogdet": lambda l: l.linalg.slogdet(T(l,(3,3))),
 "cholesky": lambda l: l.linalg.cholesky(T(l,(3,3),spd=True)),
 "cholesky_upper": lambda l: l.linalg.cholesky(T(l,(3,3),spd=True), upper=True),
 "cholesky_ex": lambda l: l.linalg.cholesky_ex(T(l,(3,3),spd=True)),
 "qr": lambda l: l.linalg.qr(T(l,(4,3))),
 "qr_complete": lambda l: l.linalg.qr(T(l,(3,3)), mode="complete"),
 "qr_r": lambda l: l.linalg.qr(T(l,(4,3)), mode="r"),
 "svd": lambda l: l.linalg.svd(T(l,(4,3)), full_matrices=False),
 "svd_full": lambda l: l.linalg.svd(T(l,(3,3))),
 "svdvals": lambda l: l.linalg.svdvals(T(l,(4,3))),
 "eigh": lambda l: l.linalg.eigh(T(l,(3,3),spd=True)),
 "eigvalsh": lambda l: l.linalg.eigvalsh(T(l,(3,3),spd=True)),
 "lstsq": lambda l: l.linalg.lstsq(T(l,(4,3)), T(l,(4,2),1)),
 "pinv": lambda l: l.linalg.pinv(T(l,(4,3))),
 "pinv_herm": lambda l: l.linalg.pinv(T(l,(3,3),spd=True), hermitian=True),
 "matrix_norm": lambda l: l.linalg.matrix_norm(T(l,(3,4))),
 "matrix_norm_nuc": lambda l: l.linalg.matrix_norm(T(l,(3,4)), "nuc"),
 "matrix_norm_2": lambda l: l.linalg.matrix_norm(T(l,(3,4)), 2),
 "matrix_norm_1": lambda l: l.linalg.matrix_norm(T(l,(3,4)), 1),
 "matrix_norm_inf": lambda l: l.linalg.matrix_norm(T(l,(3,4)), float("inf")),
 "norm": lambda l: l.linalg.norm(T(l,(3,4))),
 "norm_vec": lambda l: l.linalg.norm(T(l,(4,))),
 "norm_ord": lambda l: l.linalg.norm(T(l,(3,4)), 2),
 "norm_fro_dim": lambda l: l.linalg.norm(T(l,(3,4)), "fro", dim=(0,1)),
 "vector_norm": lambda l: l.linalg.vector_norm(T(l,(3,4))),
 "matrix_power": lambda l: l.linalg.matrix_power(T(l,(3,3)), 3),
 "matrix_power_neg": lambda l: l.linalg.matrix_power(T(l,(3,3)), -2),
 "matrix_power_0": lambda l: l.linalg.matrix_power(T(l,(3,3)), 0),
 "matrix_power_1": lambda l: l.linalg.matrix_power(T(l,(3,3)), 1),
 "matrix_exp": lambda l: l.linalg.matrix_exp(T(l,(3,3))),
 "cross": lambda l: l.linalg.cross(T(l,(2,3)), T(l,(2,3),1)),
 "multi_dot": lambda l: l.linalg.multi_dot([T(l,(2,3)), T(l,(3,4),1), T(l,(4,2),2)]),
 "multi_dot2": lambda l: l.linalg.multi_dot([T(l,(2,3)), T(l,(3,4),1)]),
 "multi_dot_vec": lambda l: l.linalg.multi_dot([T(l,(3,)), T(l,(3,4),1), T(l,(4,),2)]),
 "lu_factor": lambda l: l.linalg.lu_factor(T(l,(3,3))),
 "lu_solve": lambda l: l.linalg.lu_solve(*l.linalg.lu_factor(T(l,(3,3))), T(l,(3,2),1)),
 "matrix_rank": lambda l: l.linalg.matrix_rank(T(l,(3,3))),
 "vecdot": lambda l: l.linalg.vecdot(T(l,(3,4)), T(l,(3,4),1)),
}

# --- distributions: rsample, log_prob, entropy, kl ------------------------------


def P(lib, shape, seed=0, pos=False):
    a = np.random.default_rng(seed).standard_normal(shape)
    if pos:
        a = np.abs(a) + 0.5
    t = lib.tensor(a, dtype=lib.float64, requires_grad=True)
    LEAVES.append(t)
    return t


def _spd(lib):
    return T(lib, (3, 3), 3, spd=True)


DISTS = {
 "Normal": lambda l: l.distributions.Normal(P(l,(3,)), P(l,(3,),1,True)).rsample(),
 "Normal_shape": lambda l: l.distributions.Normal(P(l,(3,)), P(l,(3,),1,True)).rsample((2,)),
 "Normal_scalar": lambda l: l.distributions.Normal(P(l,()), 1.0).rsample(),
 "Uniform": lambda l: l.distributions.Uniform(P(l,(3,)), P(l,(3,),1,True) + 3).rsample(),
 "MultivariateNormal": lambda l: l.distributions.MultivariateNormal(P(l,(3,)), _spd(l)).rsample(),
 "MultivariateNormal_tril": lambda l: l.distributions.MultivariateNormal(P(l,(3,)), scale_tril=_spd(l).tril()).rsample(),
 "MultivariateNormal_prec": lambda l: l.distributions.MultivariateNormal(P(l,(3,)), precision_matrix=_spd(l)).rsample(),
 "Beta": lambda l: l.distributions.Beta(P(l,(3,),0,True), P(l,(3,),1,True)).rsample(),
 "Gamma": lambda l: l.distributions.Gamma(P(l,(3,),0,True), P(l,(3,),1,True)).rsample(),
 "Dirichlet": lambda l: l.distributions.Dirichlet(P(l,(3,),0,True)).rsample(),
 "Normal_logprob": lambda l: l.distributions.Normal(P(l,(3,)), P(l,(3,),1,True)).log_prob(l.zeros(3, dtype=l.float64)),
 "Normal_entropy": lambda l: l.distributions.Normal(P(l,(3,)), P(l,(3,),1,True)).entropy(),
 "Bernoulli_logprob": lambda l: l.distributions.Bernoulli(logits=P(l,(3,))).log_prob(l.ones(3, dtype=l.float64)),
 "Bernoulli_entropy": lambda l: l.distributions.Bernoulli(probs=P(l,(3,),0,True).sigmoid()).entropy(),
 "Categorical_logprob": lambda l: l.distributions.Categorical(logits=P(l,(3,))).log_prob(l.tensor(1)),
 "Categorical_entropy": lambda l: l.distributions.Categorical(logits=P(l,(3,))).entropy(),
 "OneHot_logprob": lambda l: l.distributions.OneHotCategorical(logits=P(l,(3,))).log_prob(l.tensor([0.,1.,0.],dtype=l.float64)),
 "MVN_logprob": lambda l: l.distributions.MultivariateNormal(P(l,(3,)), _spd(l)).log_prob(l.zeros(3, dtype=l.float64)),
 "MVN_entropy": lambda l: l.distributions.MultivariateNormal(P(l,(3,)), _spd(l)).entropy(),
 "Beta_logprob": lambda l: l.distributions.Beta(P(l,(3,),0,True), P(l,(3,),1,True)).log_prob(l.full((3,),0.3,dtype=l.float64)),
 "Gamma_logprob": lambda l: l.distributions.Gamma(P(l,(3,),0,True), P(l,(3,),1,True)).log_prob(l.full((3,),0.3,dtype=l.float64)),
 "Dirichlet_logprob": lambda l: l.distributions.Dirichlet(P(l,(3,),0,True)).log_prob(l.full((3,),1/3,dtype=l.float64)),
 "Uniform_logprob": lambda l: l.distributions.Uniform(P(l,(3,)), P(l,(3,),1,True) + 3).log_prob(l.full((3,),1.0,dtype=l.float64)),
 "kl_normal": lambda l: l.distributions.kl_divergence(l.distributions.Normal(P(l,(3,)), P(l,(3,),1,True)), l.distributions.Normal(P(l,(3,),2), P(l,(3,),3,True))),
 "kl_mvn": lambda l: l.distributions.kl_divergence(l.distributions.MultivariateNormal(P(l,(3,)), _spd(l)), l.distributions.MultivariateNormal(P(l,(3,),2), _spd(l))),
 "kl_cat": lambda l: l.distributions.kl_divergence(l.distributions.Categorical(logits=P(l,(3,))), l.distributions.Categorical(logits=P(l,(3,),1))),
}


RANDOM = {name for name in ATTENTION if "dropout" in name and "'dropout': 0.0" not in name} | \
    {name for name in RNN if "dropout" in name} | \
    {"Normal", "Normal_shape", "Normal_scalar", "Uniform", "MultivariateNormal", "MultivariateNormal_tril",
     "MultivariateNormal_prec", "Beta", "Gamma", "Dirichlet"} | \
    {name for name in ATTENTION if name.endswith("layer {}")}
