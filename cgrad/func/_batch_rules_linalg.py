"""vmap's batching rules for linear algebra: cgrad.linalg, the cgrad.*
spellings outside it (det, inverse, cholesky_solve, ...) and their Tensor
methods.

Every LAPACK-backed op already treats the leading dims of its operands as
batch dims, so a rule calls the op once on the physical tensors (vmap's
batch dim in front). What a rule must get right is what a leading dim would
change: a logical rank below the op's core rank (a vector given to inv)
must raise the op's own error instead of reading the batch dim as a matrix
dim; operands batched differently must broadcast as their logical shapes
do (unbatched ones are expanded along the batch, logical batch dims padded
with size-1 dims after vmap's); a right-hand side that is a vector is made
a one-column matrix, as PyTorch's rules do, since the physical ranks no
longer tell a vector from a matrix; and logical dims are shifted by one."""
import cgrad
from cgrad._C import Tensor
from cgrad.func._batch_rules import _get_arg, _pad_value, _set_arg, _shift_dims
from cgrad.func._batched import (BatchedTensor, _rebuild_tuple, fallback, level_info, materialize, quiet_fallback,
                                 rule, unwrap, wrap)


def _batched_at(x, level):
    return type(x) is BatchedTensor and x._level == level


def _own_error(op, level, args, kwargs):
    """The op per sample, quietly: the first sample raises the op's own
    error for a logical shape no batched call can reject."""
    with quiet_fallback():
        return fallback(op.__name__, op, level, args, kwargs)


def _single_matrix(core_rank=2):
    """Ops of one matrix operand; the other arguments are options."""
    def run(op, level, args, kwargs):
        x, batched = unwrap(args[0], level)
        rest = list(args[1:]) + list(kwargs.values())
        if not batched or "out" in kwargs or any(_batched_at(a, level) for a in rest):
            return fallback(op.__name__, op, level, args, kwargs)
        if x.dim() - 1 < core_rank:
            return _own_error(op, level, args, kwargs)
        return wrap(op(x, *args[1:], **kwargs), level)
    return run


rule(*["linalg." + n for n in ("inv", "inv_ex", "det", "slogdet", "cholesky", "cholesky_ex", "qr", "svd",
                               "svdvals", "eigh", "eigvalsh", "matrix_exp", "pinv", "lu_factor",
                               "lu_factor_ex", "matrix_rank", "matrix_power")])(_single_matrix())
rule("inverse", "det", "logdet", "slogdet", "cholesky", "cholesky_inverse", "pinverse", "svd", "qr",
     "matrix_exp", "matrix_power")(_single_matrix())


def _operands(level, tensors, core_ranks):
    """The physical operands, each with vmap's batch dim in front and its
    logical batch dims padded to the longest, so they broadcast as the
    logical operands do."""
    size = level_info(level).size
    values = [materialize(t, level, size) for t in tensors]
    batch_rank = max(v.dim() - 1 - c for v, c in zip(values, core_ranks))
    return [_pad_value(v, v.dim() - 1, batch_rank + c) for v, c in zip(values, core_ranks)]


def _vector_rhs(A, B):
    """PyTorch's test of linalg.solve/lstsq for a right-hand side that is a
    vector (logical shapes)."""
    return B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape)[:-1])


def _solver(a_pos, b_pos, a_name, b_name, vector_case=True):
    """solve, solve_ex, lstsq, solve_triangular, cholesky_solve: a matrix
    operand A and a right-hand side B (a vector where vector_case allows)."""
    def run(op, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        A = _get_arg(args, kwargs, a_pos, a_name)
        B = _get_arg(args, kwargs, b_pos, b_name)
        others = [v for k, v in enumerate(args) if k not in (a_pos, b_pos)] + [
            v for k, v in kwargs.items() if k not in (a_name, b_name)]
        if (not isinstance(A, Tensor) or not isinstance(B, Tensor) or "out" in kwargs
                or any(_batched_at(v, level) for v in others)):
            return fallback(op.__name__, op, level, args, kwargs)
        if A.dim() < 2 or B.dim() < (1 if vector_case else 2):
            return _own_error(op, level, args, kwargs)
        vector = vector_case and _vector_rhs(A, B)
        A, B = _operands(level, [A, B], [2, 1 if vector else 2])
        if vector:          # a column whatever `left` says, as PyTorch (XA = B then refuses it)
            B = B.unsqueeze(-1)
        _set_arg(args, kwargs, a_pos, a_name, A)
        _set_arg(args, kwargs, b_pos, b_name, B)
        result = op(*args, **kwargs)
        if vector:
            if isinstance(result, tuple):       # solve_ex's (result, info)
                result = type(result)([result[0].squeeze(-1)] + list(result[1:]))
            else:
                result = result.squeeze(-1)
        return wrap(result, level)
    return run


rule("linalg.solve", "linalg.solve_ex")(_solver(0, 1, "A", "B"))
rule("linalg.solve_triangular")(_solver(0, 1, "A", "B", vector_case=False))
rule("cholesky_solve")(_solver(1, 0, "input2", "input", vector_case=False))


@rule("linalg.lu_solve")
def lu_solve_rule(op, level, args, kwargs):
    args, kwargs = list(args), dict(kwargs)
    names = ("LU", "pivots", "B")
    operands = [_get_arg(args, kwargs, k, n) for k, n in enumerate(names)]
    if "out" in kwargs or not all(isinstance(t, Tensor) for t in operands):
        return fallback(op.__name__, op, level, args, kwargs)
    if operands[0].dim() < 2 or operands[1].dim() < 1 or operands[2].dim() < 2:
        return _own_error(op, level, args, kwargs)
    for k, (n, value) in enumerate(zip(names, _operands(level, operands, [2, 1, 2]))):
        _set_arg(args, kwargs, k, n, value)
    return wrap(op(*args, **kwargs), level)


@rule("linalg.lstsq")
def lstsq_rule(op, level, args, kwargs):
    """One batched lstsq. Its results that PyTorch leaves empty for the
    whole call (residuals, rank, singular values, by driver) are empty for
    every sample: (batch, 0). A vector right-hand side is a column whose
    solution is squeezed back; its residuals keep their (1,) per sample. The
    one case no batched call can answer: gelsd/gelss residuals computed for
    some samples (full rank) but not others (a loop fails there too, on the
    samples' different shapes), left to the per-sample run."""
    args, kwargs = list(args), dict(kwargs)
    A, B = _get_arg(args, kwargs, 0, "A"), _get_arg(args, kwargs, 1, "B")
    if not isinstance(A, Tensor) or not isinstance(B, Tensor) or any(
            _batched_at(v, level) for v in args[2:] + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    if A.dim() < 2 or B.dim() < 1:
        return _own_error(op, level, args, kwargs)
    vector = B.dim() == A.dim() - 1
    logical_args, logical_kwargs = list(args), dict(kwargs)
    A, B = _operands(level, [A, B], [2, 1 if vector else 2])
    _set_arg(args, kwargs, 0, "A", A)
    _set_arg(args, kwargs, 1, "B", B.unsqueeze(-1) if vector else B)
    result = op(*args, **kwargs)
    solution, residuals, rank = result[0], result[1], result[2]
    m, n = A.shape[-2], A.shape[-1]
    if (residuals.numel() == 0 and m > n and kwargs.get("driver") in ("gelsd", "gelss") and rank.numel()
            and bool((rank == n).any())):
        return fallback(op.__name__, op, level, logical_args, logical_kwargs)
    size = level_info(level).size
    parts = [solution.squeeze(-1) if vector else solution] + list(result[1:])
    parts = [p.reshape((size, 0)) if p.numel() == 0 and (p.dim() == 0 or p.shape[0] != size) else p
             for p in parts]
    return wrap(_rebuild_tuple(result, parts), level)


# --- norms --------------------------------------------------------------------

def _keepdim_all(result, x, keepdim):
    return result.reshape((x.shape[0],) + (1,) * (x.dim() - 1)) if keepdim else result


@rule("linalg.vector_norm")
def vector_norm_rule(op, level, args, kwargs):
    args, kwargs = list(args), dict(kwargs)
    x, batched = unwrap(args[0], level)
    if not batched or "out" in kwargs or any(_batched_at(v, level) for v in args[1:] + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    args[0] = x
    dim = _get_arg(args, kwargs, 2, "dim")
    keepdim = _get_arg(args, kwargs, 3, "keepdim", False)
    if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0):
        args[0] = x.reshape((x.shape[0], -1))
        _set_arg(args, kwargs, 2, "dim", 1)
        _set_arg(args, kwargs, 3, "keepdim", False)
        return wrap(_keepdim_all(op(*args, **kwargs), x, keepdim), level)
    _set_arg(args, kwargs, 2, "dim", _shift_dims(dim, x.dim() - 1))
    return wrap(op(*args, **kwargs), level)


@rule("linalg.matrix_norm")
def matrix_norm_rule(op, level, args, kwargs):
    args, kwargs = list(args), dict(kwargs)
    x, batched = unwrap(args[0], level)
    if not batched or "out" in kwargs or any(_batched_at(v, level) for v in args[1:] + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    dim = tuple(_get_arg(args, kwargs, 2, "dim", (-2, -1)))
    if x.dim() - 1 < 2 or len(dim) != 2:
        return _own_error(op, level, args, kwargs)
    args[0] = x
    _set_arg(args, kwargs, 2, "dim", _shift_dims(dim, x.dim() - 1))
    return wrap(op(*args, **kwargs), level)


@rule("linalg.norm")
def linalg_norm_rule(op, level, args, kwargs):
    """linalg.norm picks a vector or a matrix norm from the logical rank
    when dim is None: the choice is made here, the physical call gets dims."""
    args, kwargs = list(args), dict(kwargs)
    x, batched = unwrap(args[0], level)
    if not batched or "out" in kwargs or any(_batched_at(v, level) for v in args[1:] + list(kwargs.values())):
        return fallback(op.__name__, op, level, args, kwargs)
    ord = _get_arg(args, kwargs, 1, "ord")
    dim = _get_arg(args, kwargs, 2, "dim")
    keepdim = _get_arg(args, kwargs, 3, "keepdim", False)
    dtype = kwargs.get("dtype")
    rank = x.dim() - 1
    if dim is None:
        if ord is None:
            flat = x.reshape((x.shape[0], -1))
            return wrap(_keepdim_all(cgrad.linalg.vector_norm(flat, 2, 1, False, dtype=dtype), x, keepdim),
                        level)
        if rank == 1 and not isinstance(ord, str):
            dim = (-1,)
        elif rank == 2:
            dim = (-2, -1)
        else:
            return _own_error(op, level, args, kwargs)
    if isinstance(dim, int):
        dim = (dim,)
    return wrap(op(x, ord, _shift_dims(tuple(dim), rank), keepdim, dtype=dtype), level)


# --- products of vectors -------------------------------------------------------

def _pointwise_with_dim(default_dim):
    """cross and vecdot: their operands broadcast, then a dim is read."""
    def run(op, level, args, kwargs):
        args, kwargs = list(args), dict(kwargs)
        a, b = args[0], (args[1] if len(args) > 1 else kwargs.pop("other", kwargs.pop("y", None)))
        if not isinstance(a, Tensor) or not isinstance(b, Tensor) or "out" in kwargs:
            return fallback(op.__name__, op, level, args, kwargs)
        dim = kwargs.get("dim", args[2] if len(args) > 2 else default_dim)
        rank = max(a.dim(), b.dim())
        if dim is None:         # torch.cross without dim: the first logical dim of size 3
            shape = cgrad.broadcast_shapes(tuple(a.shape), tuple(b.shape))
            if 3 not in shape:
                return _own_error(op, level, args, kwargs)
            dim = shape.index(3)
        va, vb = _operands(level, [a, b], [0, 0])
        shifted = _shift_dims(dim, rank)
        kwargs.pop("dim", None)
        return wrap(op(va, vb, dim=shifted), level)
    return run


rule("linalg.cross")(_pointwise_with_dim(-1))
rule("cross")(_pointwise_with_dim(None))
rule("linalg.vecdot")(_pointwise_with_dim(-1))


@rule("linalg.multi_dot")
def multi_dot_rule(op, level, args, kwargs):
    """The chain in the order multi_dot picks for the logical shapes, as
    batched matmuls (a vector at either end made a one-row/one-column
    matrix and squeezed off again)."""
    tensors = list(args[0] if args else kwargs["tensors"])
    if "out" in kwargs or len(tensors) < 2 or tensors[0].dim() not in (1, 2) or tensors[-1].dim() not in (
            1, 2) or any(t.dim() != 2 for t in tensors[1:-1]):
        return _own_error(op, level, args, kwargs)
    size = level_info(level).size
    first_vector, last_vector = tensors[0].dim() == 1, tensors[-1].dim() == 1
    mats = [materialize(t, level, size) for t in tensors]
    if first_vector:
        mats[0] = mats[0].unsqueeze(-2)
    if last_vector:
        mats[-1] = mats[-1].unsqueeze(-1)
    shapes = [tuple(m.shape)[1:] for m in mats]
    for i in range(len(mats) - 1):
        if shapes[i][1] != shapes[i + 1][0] or mats[i].dtype != mats[i + 1].dtype:
            return _own_error(op, level, args, kwargs)
    split = cgrad.linalg._chain_order(shapes)
    done = {}
    stack = [(0, len(mats) - 1)]
    while stack:                    # each span after its two halves, no recursion
        i, j = stack.pop()
        if i == j:
            done[i, j] = mats[i]
            continue
        k = split[i][j]
        if (i, k) in done and (k + 1, j) in done:
            done[i, j] = cgrad.matmul(done[i, k], done[k + 1, j])
            continue
        stack += [(i, j), (k + 1, j), (i, k)]
    result = done[0, len(mats) - 1]
    if last_vector:
        result = result.squeeze(-1)
    if first_vector:
        result = result.squeeze(1)
    return wrap(result, level)
