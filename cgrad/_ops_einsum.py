"""einsum and the other contractions: tensordot, kron, baddbmm, addbmm,
addmv, addr, cdist.

einsum follows PyTorch's algorithm, so results carry the same nodes: each
operand's repeated subscripts become a diagonal, every operand is permuted
to one common order (output subscripts first, then the contracted ones),
then operands are contracted pairwise (left to right for two, along numpy's
greedy path for more, as PyTorch along opt_einsum's), each pair by
permute + reshape + bmm + view (sumproduct_pair), so every product runs in
BLAS; subscripts held by one operand alone are summed first.
"""
import numpy as np

from cgrad import _C
from cgrad._op_support import dtype_title
from cgrad._op_support import (attach, check_int, check_tensor, composite_op, forward_ad_not_implemented, typename,
                               with_out, wrap_dim, wrap_dim_list)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ELLIPSIS = "\x00"            # the ellipsis as one label, sorting before letters


def _sublist_label(n):
    if n is Ellipsis:
        return "..."
    if isinstance(n, int) and 0 <= n < 52:
        return _LETTERS[n]
    raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")


def _from_sublists(args):
    """einsum(op0, sub0, op1, sub1, ..., [out]) as an equation and operands."""
    operands = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(args) % 2 == 1:
        out = operands.pop()
        out = "".join(_sublist_label(n) for n in out)
    eq = ",".join("".join(_sublist_label(n) for n in s) for s in subs[:len(operands)])
    if out is not None:
        eq += "->" + out
    return eq, operands


def _parse_term(term, start, op_index, ndim):
    """Labels of one operand's subscripts (ellipsis as _ELLIPSIS)."""
    labels = []
    i = 0
    found_ellipsis = False
    while i < len(term):
        ch = term[i]
        if ch == ".":
            if found_ellipsis:
                raise RuntimeError(f"einsum(): found '.' for operand {op_index} for which an ellipsis was "
                                   "already found")
            if term[i:i + 3] != "...":
                raise RuntimeError(f"einsum(): found '.' for operand {op_index} that is not part of any ellipsis")
            labels.append(_ELLIPSIS)
            found_ellipsis = True
            i += 3
            continue
        if ch == " ":
            i += 1
            continue
        if ch not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {start + i} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
        labels.append(ch)
        i += 1
    return labels


def _parse(equation, operands):
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    terms = lhs.split(",")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    op_labels = []
    pos = 0
    for k, term in enumerate(terms):
        labels = _parse_term(term, pos, k, operands[k].dim())
        pos += len(term) + 1
        nlab = len(labels) - (1 if _ELLIPSIS in labels else 0)
        nd = operands[k].dim()
        if _ELLIPSIS in labels:
            if nlab > nd:
                raise RuntimeError(f"einsum(): the number of subscripts in the equation ({nlab}) is more than the "
                                   f"number of dimensions ({nd}) for operand {k}")
        elif nlab != nd:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({nlab}) does not match the "
                               f"number of dimensions ({nd}) for operand {k} and no ellipsis was given")
        op_labels.append(labels)
    counts = {}
    for labels in op_labels:
        for lab in labels:
            if lab != _ELLIPSIS:
                counts[lab] = counts.get(lab, 0) + 1
    if arrow >= 0:
        rhs = equation[arrow + 2:]
        out = []
        i = 0
        while i < len(rhs):
            ch = rhs[i]
            if ch == ".":
                if _ELLIPSIS in out:
                    raise RuntimeError("einsum(): found '.' for output but an ellipsis (...) was already found")
                if rhs[i:i + 3] != "...":
                    raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis (...)")
                out.append(_ELLIPSIS)
                i += 3
                continue
            if ch == " ":
                i += 1
                continue
            if ch not in _LETTERS:
                raise RuntimeError(f"einsum(): invalid subscript given at index {arrow + 2 + i} in the equation "
                                   "string, subscripts must be in [a-zA-Z]")
            if ch in out:
                raise RuntimeError(f"einsum(): output subscript {ch} appears more than once in the output")
            if ch not in counts:
                raise RuntimeError(f"einsum(): output subscript {ch} does not appear in the equation for any "
                                   "input operand")
            out.append(ch)
            i += 1
    else:
        out = ([_ELLIPSIS] if any(_ELLIPSIS in ls for ls in op_labels) else []) + \
              sorted(lab for lab, c in counts.items() if c == 1)
    return op_labels, out


def _greedy_path(op_shapes, equation_for_numpy):
    """Pairs to contract, as positions in a shrinking list (numpy's greedy
    path, the same form as opt_einsum's)."""
    fakes = [np.broadcast_to(np.empty((), np.float32), s) for s in op_shapes]
    path = np.einsum_path(equation_for_numpy, *fakes, optimize="greedy")[0][1:]
    return [tuple(p) for p in path]


def _sumproduct_pair(left, right, sum_dims):
    """(left * right).sum(sum_dims, keepdim=True) by permute + bmm, as
    PyTorch's sumproduct_pair; both have the same number of dims."""
    nd = left.dim()
    lro, lo, ro = [], [], []
    lro_size = lo_size = ro_size = sum_size = 1
    sum_set = set(sum_dims)
    for i in range(nd):
        sl = left.shape[i] != 1
        sr = right.shape[i] != 1
        if i in sum_set:
            if sl and sr:
                sum_size *= left.shape[i]
            elif sl:
                left = left.sum(i, True)
            elif sr:
                right = right.sum(i, True)
        elif sl and sr:
            lro.append(i)
            lro_size *= left.shape[i]
        elif sl:
            lo.append(i)
            lo_size *= left.shape[i]
        else:
            ro.append(i)
            ro_size *= right.shape[i]
    out_size = [left.shape[d] for d in lro] + [left.shape[d] for d in lo] + [1] * len(sum_dims) + \
               [right.shape[d] for d in ro]
    lperm = lro + lo + list(sum_dims) + ro
    rperm = lro + list(sum_dims) + ro + lo
    operm = [0] * nd
    for i, d in enumerate(lro + lo + list(sum_dims) + ro):
        operm[d] = i
    left = left.permute(lperm).reshape(lro_size, lo_size, sum_size)
    right = right.permute(rperm).reshape(lro_size, sum_size, ro_size)
    return _C.bmm(left, right).view(tuple(out_size)).permute(operm)


def einsum(*args):
    if len(args) == 3:          # the common call, looked up before any parsing
        plan = _BMM_PLANS.get((args[0], getattr(args[1], "shape", None), getattr(args[2], "shape", None)))
        if plan and isinstance(args[1], _C.Tensor) and isinstance(args[2], _C.Tensor):
            return _run_bmm_plan(plan, args[1], args[2])
    if len(args) == 0:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if not isinstance(args[0], str):
        if isinstance(args[0], _C.Tensor):
            equation, operands = _from_sublists(args)
        else:
            raise TypeError(f"einsum(): argument 'equation' (position 1) must be str, not {typename(args[0])}")
    else:
        equation = args[0]
        operands = list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    for i, op in enumerate(operands):
        if not isinstance(op, _C.Tensor):
            raise TypeError(f"einsum(): argument 'tensors' (position 2) must be tuple of Tensors, not "
                            f"{typename(op)}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    if len(operands) == 2:
        key = (equation, operands[0].shape, operands[1].shape)
        plan = _BMM_PLANS.get(key)
        if plan is None:
            plan = _bmm_plan(equation, operands)
            if len(_BMM_PLANS) > 512:
                _BMM_PLANS.clear()
            _BMM_PLANS[key] = plan
        if plan is not False:
            return _run_bmm_plan(plan, operands[0], operands[1])
    op_labels, out_labels = _parse(equation, operands)

    # ellipsis dims, right-aligned across operands
    ell_nd = max([op.dim() - (len(ls) - 1) for op, ls in zip(operands, op_labels) if _ELLIPSIS in ls] or [0])
    ell_names = [f"\x00{k}" for k in range(ell_nd)]

    def expand_labels(labels, op):
        if _ELLIPSIS not in labels:
            return labels
        k = labels.index(_ELLIPSIS)
        n = op.dim() - (len(labels) - 1)
        return labels[:k] + ell_names[ell_nd - n:] + labels[k + 1:]

    full_labels = [expand_labels(ls, op) for ls, op in zip(op_labels, operands)]
    out_full = []
    for lab in out_labels:
        out_full.extend(ell_names if lab == _ELLIPSIS else [lab])
    if _ELLIPSIS not in out_labels and any(_ELLIPSIS in ls for ls in op_labels) and "->" in equation:
        pass    # ellipsis dims absent from an explicit output are contracted
    contracted = sorted({lab for ls in full_labels for lab in ls if lab not in out_full},
                        key=lambda lab: (0, lab) if lab.startswith("\x00") else (1, lab))
    perm_labels = out_full + contracted
    out_size = len(out_full)
    index = {lab: i for i, lab in enumerate(perm_labels)}

    # sizes seen per label (size-1 dims broadcast)
    seen = {}
    permuted = []
    for k, (op, labels) in enumerate(zip(operands, full_labels)):
        first = {}
        for d, lab in enumerate(labels):
            size = op.shape[d]
            if lab in first:
                prev = first[lab]
                if op.shape[prev] != size:
                    raise RuntimeError(f"einsum(): subscript {lab} is repeated for operand {k} but the sizes don't "
                                       f"match, {size} != {op.shape[prev]}")
            else:
                first[lab] = d
        # repeated subscripts: take the diagonal (PyTorch: diagonal then movedim)
        labels = list(labels)
        d = 0
        while d < len(labels):
            lab = labels[d]
            prev = labels.index(lab)
            if prev != d:
                op = _diagonal(op, 0, prev, d).movedim(-1, prev)
                del labels[d]
                continue
            d += 1
        for d, lab in enumerate(labels):
            size = op.shape[d]
            if lab in seen and seen[lab] != size and seen[lab] != 1 and size != 1:
                name = "..." if lab.startswith("\x00") else lab
                raise RuntimeError(f"einsum(): subscript {name} has size {size} for operand {k} which does not "
                                   f"broadcast with previously seen size {seen[lab]}")
            if lab not in seen or seen[lab] == 1:
                seen[lab] = size
        # unsqueeze missing labels at the end, then one permute to the common order
        perm = [-1] * len(perm_labels)
        for d, lab in enumerate(labels):
            perm[index[lab]] = d
        nd = len(labels)
        for j in range(len(perm_labels)):
            if perm[j] == -1:
                op = op.unsqueeze(nd)
                perm[j] = nd
                nd += 1
        permuted.append(op.permute(perm))

    if len(permuted) == 1:
        result = permuted[0]
        if len(perm_labels) > out_size:
            result = result.sum(list(range(out_size, len(perm_labels))))
        return result

    if len(permuted) > 2:
        numpy_letters = {}
        pool = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for lab in perm_labels:
            numpy_letters[lab] = next(pool)
        eq_np = ",".join("".join(numpy_letters[lab] for lab in perm_labels) for _ in permuted) + "->" + \
                "".join(numpy_letters[lab] for lab in out_full)
        # numpy sees the permuted shapes; label j absent from an operand has size 1 there
        path = _greedy_path([tuple(p.shape) for p in permuted], eq_np)
    else:
        path = [(0, 1)]

    ops = list(permuted)
    ndim = len(perm_labels)
    # contracted dims only one operand has (size != 1) are summed right away
    for k in range(len(ops)):
        for j in range(out_size, ndim):
            if ops[k].shape[j] != 1 and all(o.shape[j] == 1 for i, o in enumerate(ops) if i != k):
                ops[k] = ops[k].sum(j, True)
    for step in path:
        step = sorted(step)
        group = [ops[i] for i in step]
        rest = [o for i, o in enumerate(ops) if i not in step]
        r = group[0]
        for k in range(1, len(group)):
            r = _contract_pair(r, group[k], rest + group[k + 1:], out_size, ndim)
        ops = rest + [r]
    result = ops[0]
    if ndim > out_size:
        result = result.view(tuple(result.shape[:out_size]))
    return result


_BMM_PLANS = {}


def _bmm_plan(equation, operands):
    """For two operands whose product is one batched matmul (no repeated or
    size-1 subscripts, every subscript of one operand alone in the output,
    every contracted one in both), the permutations and shapes that make it
    one bmm of views: what PyTorch's sumproduct_pair does, with its identity
    permutes and no-op reshapes left out. False when the general path is
    needed."""
    op_labels, out_labels = _parse(equation, operands)
    if _ELLIPSIS in out_labels or any(_ELLIPSIS in ls for ls in op_labels):
        return False
    la, lb = op_labels
    if len(set(la)) != len(la) or len(set(lb)) != len(lb):
        return False
    a, b = operands
    size = {}
    for labels, op in ((la, a), (lb, b)):
        for d, lab in enumerate(labels):
            n = op.shape[d]
            if n == 1 or size.get(lab, n) != n:
                return False
            size[lab] = n
    contracted = sorted(set(la + lb) - set(out_labels))
    if not contracted or any(lab not in la or lab not in lb for lab in contracted):
        return False
    lro = [lab for lab in out_labels if lab in la and lab in lb]
    lo = [lab for lab in out_labels if lab in la and lab not in lb]
    ro = [lab for lab in out_labels if lab in lb and lab not in la]

    def prod(labels):
        r = 1
        for lab in labels:
            r *= size[lab]
        return r
    lperm = [la.index(lab) for lab in lro + lo + contracted]
    rperm = [lb.index(lab) for lab in lro + contracted + ro]
    lshape = (prod(lro), prod(lo), prod(contracted))
    rshape = (prod(lro), prod(contracted), prod(ro))
    grouped = lro + lo + ro
    operm = [grouped.index(lab) for lab in out_labels]
    final = tuple(size[lab] for lab in out_labels)
    lpermuted = tuple(a.shape[i] for i in lperm)
    rpermuted = tuple(b.shape[i] for i in rperm)
    return (None if lperm == list(range(len(la))) else lperm, None if lshape == lpermuted else lshape,
            None if rperm == list(range(len(lb))) else rperm, None if rshape == rpermuted else rshape,
            tuple(size[lab] for lab in grouped), None if operm == list(range(len(operm))) else operm, final,
            final == (lshape[0], lshape[1], rshape[2]))


def _run_bmm_plan(plan, a, b):
    lperm, lshape, rperm, rshape, grouped_shape, operm, final, same_shape = plan
    if lperm is not None:
        a = a.permute(lperm)
    if lshape is not None:
        a = a.reshape(lshape)
    if rperm is not None:
        b = b.permute(rperm)
    if rshape is not None:
        b = b.reshape(rshape)
    r = _C.bmm(a, b)
    if operm is not None:
        r = r.view(grouped_shape).permute(operm)
    elif same_shape:
        return _C._same_shape_view(r)
    return r.view(final)


def _contract_pair(a, b, others, out_size, ndim):
    """a and b contracted over the contracted dims no other operand holds."""
    sum_dims = []
    for j in range(out_size, ndim):
        if any(o.shape[j] != 1 for o in others):
            continue
        sa, sb = a.shape[j] != 1, b.shape[j] != 1
        if sa and sb:
            sum_dims.append(j)
        elif sa:
            a = a.sum(j, True)
        elif sb:
            b = b.sum(j, True)
    return a.mul(b) if not sum_dims else _sumproduct_pair(a, b, sum_dims)


def _diagonal(x, offset, d1, d2):
    from cgrad._ops_views import diagonal
    return diagonal(x, offset, d1, d2)


def _tensordot_dims(dims):
    """(dims_a, dims_b) as torch.functional.tensordot reads them: an int n
    (or a one-element tensor) contracts a's last n dims, counted from the
    end, with b's first n; a pair of int lists is taken as given."""
    if not isinstance(dims, (tuple, list, _C.Tensor, int)):
        raise RuntimeError("tensordot expects dims to be int or tuple[list[int], list[int]] or "
                           f"list[list[int]] containing two lists, but got dims={dims}")
    if isinstance(dims, _C.Tensor):
        if dims.numel() > 1:
            if dims.shape[0] != 2:
                raise AssertionError(f"dims tensor must have size 2 in first dimension, got {dims.shape[0]}")
            return dims[0].tolist(), dims[1].tolist()
        count = int(dims.item())
        if count < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        return list(range(-count, 0)), list(range(count))
    if isinstance(dims, int):
        return list(range(-dims, 0)), list(range(dims))
    dims_a, dims_b = dims
    for position, name, given in ((3, "dims_self", dims_a), (4, "dims_other", dims_b)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, "
                            f"not {typename(given)}")
        for i, d in enumerate(given):
            if isinstance(d, bool) or not isinstance(d, int):
                raise TypeError(f"tensordot(): argument '{name}' (position {position}) must be tuple of ints, "
                                f"but found element of type {typename(d)} at pos {i}")
    return list(dims_a), list(dims_b)


def tensordot(a, b, dims=2, out=None):
    """ATen's tensordot: a contracted dim of size 1 on one side is summed
    away first (broadcast), the rest must match; then both operands are
    permuted and reshaped into one mm."""
    check_tensor(a, "tensordot", "a", 1)
    check_tensor(b, "tensordot", "b", 2)
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.dim(), b.dim()):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
    dims_a, dims_b = _tensordot_dims(dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    t1, t2 = a, b
    csize = 1
    for given_a, given_b in zip(dims_a, dims_b):
        da, db = wrap_dim(given_a, a.dim()), wrap_dim(given_b, b.dim())
        sa, sb = a.shape[da], b.shape[db]
        if sb == 1:
            t1 = t1.sum(da, True)
        elif sa == 1:
            t2 = t2.sum(db, True)
        else:
            if sa != sb:
                raise RuntimeError(f"contracted dimensions need to match, but first has size {sa} in dim "
                                   f"{given_a} and second has size {sb} in dim {given_b}")
            csize *= sa
    dims_a = wrap_dim_list(dims_a, a.dim())
    dims_b = wrap_dim_list(dims_b, b.dim())
    free_a = [d for d in range(a.dim()) if d not in dims_a]
    free_b = [d for d in range(b.dim()) if d not in dims_b]
    sa = [a.shape[d] for d in free_a]
    sb = [b.shape[d] for d in free_b]
    pa = int(np.prod(sa)) if sa else 1
    pb = int(np.prod(sb)) if sb else 1
    t1 = t1.permute(free_a + dims_a).reshape(pa, csize)
    t2 = t2.permute(dims_b + free_b).reshape(csize, pb)
    if out is not None and isinstance(out, _C.Tensor) and out.dtype != a.dtype:
        raise RuntimeError(f"tensordot: Expected the output tensor to have dtype {dtype_title(a.dtype)}, but got an "
                           f"output tensor with dtype {dtype_title(out.dtype)}")
    return with_out(t1.mm(t2).reshape(tuple(sa + sb)), out, "tensordot")


def kron(input, other, *, out=None):
    check_tensor(input, "kron")
    check_tensor(other, "kron", "other", 2)
    nd = max(input.dim(), other.dim())
    a = input.reshape((1,) * (nd - input.dim()) + tuple(input.shape))
    b = other.reshape((1,) * (nd - other.dim()) + tuple(other.shape))
    a_shape, b_shape = [], []
    for i in range(nd):
        a_shape += [a.shape[i], 1]
        b_shape += [1, b.shape[i]]
    prod = a.reshape(tuple(a_shape)) * b.reshape(tuple(b_shape))
    final = tuple(a.shape[i] * b.shape[i] for i in range(nd))
    result = prod.detach().reshape(final).clone()
    attach([result], "UnsafeViewBackward0", [prod], lambda g: (g.reshape(tuple(prod.shape)),))
    return with_out(result, out, "kron")


def _scaled(t, s):
    return t if s == 1 else t * s


def _check_scale(name, v, x):
    if not x.is_floating_point() and isinstance(v, float) and not float(v).is_integer():
        raise RuntimeError(f"For integral input tensors, argument {name} must not be a floating point number.")


def _addop(node, input, parts, product, beta, alpha, fname, out):
    """beta * input + alpha * product(*parts) recorded as one node (input is
    ignored, NaN included, when beta is 0, as in PyTorch)."""
    _check_scale("beta", beta, input)
    _check_scale("alpha", alpha, input)

    def compute(inp, *ps):
        prod = _scaled(product(*ps), alpha)
        if beta == 0:
            return prod + _C.zeros_like(prod)
        return _scaled(inp, beta) + prod
    res = composite_op(node, compute, [input] + list(parts))
    return with_out(res, out, fname)


def _sum_to(g, shape):
    if tuple(g.shape) == tuple(shape):
        return g
    lead = g.dim() - len(shape)
    if lead:
        g = g.sum(list(range(lead)))
    dims = [i for i, s in enumerate(shape) if s == 1 and g.shape[i] != 1]
    if dims:
        g = g.sum(dims, True)
    return g


def _expand_check(input, shape):
    """PyTorch's expand of the added input to the product's shape (its error)."""
    input.expand(tuple(shape))


def _check_bmm_args(input, batch1, batch2, fname):
    check_tensor(input, fname)
    check_tensor(batch1, fname, "batch1", 2)
    check_tensor(batch2, fname, "batch2", 3)
    if batch1.dim() != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if batch2.dim() != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    for t in (batch1, batch2):
        if t.dtype != input.dtype:
            raise RuntimeError(f"expected scalar type {_dtype_title(input)} but found {_dtype_title(t)}")


def baddbmm(input, batch1, batch2, *deprecated, beta=1, alpha=1, out=None):
    if deprecated:
        input, batch1, batch2, beta, alpha = _C._beta_first_args(
            "baddbmm", False, (input, batch1, batch2) + deprecated, beta, alpha)
    input, batch1, batch2 = _C._autocast_args(0, input, batch1, batch2)   # CPU autocast's lower-precision list
    _check_bmm_args(input, batch1, batch2, "baddbmm")
    b, n, k = batch1.shape
    if tuple(batch2.shape[:2]) != (b, k):
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
                           f"[{batch2.shape[0]}, {batch2.shape[1]}].")
    _expand_check(input, (b, n, batch2.shape[2]))
    return _addop("BaddbmmBackward0", input, [batch1, batch2], _C.bmm, beta, alpha, "baddbmm", out)


def addbmm(input, batch1, batch2, *deprecated, beta=1, alpha=1, out=None):
    if deprecated:
        input, batch1, batch2, beta, alpha = _C._beta_first_args(
            "addbmm", False, (input, batch1, batch2) + deprecated, beta, alpha)
    input, batch1, batch2 = _C._autocast_args(0, input, batch1, batch2)   # CPU autocast's lower-precision list
    _check_bmm_args(input, batch1, batch2, "addbmm")
    if batch1.shape[2] != batch2.shape[1] or batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    _expand_check(input, (batch1.shape[1], batch2.shape[2]))
    return _addop("AddbmmBackward0", input, [batch1, batch2], lambda a, b: _C.bmm(a, b).sum(0), beta, alpha,
                  "addbmm", out)


def addmv(input, mat, vec, *deprecated, beta=1, alpha=1, out=None):
    if deprecated:
        input, mat, vec, beta, alpha = _C._beta_first_args(
            "addmv", False, (input, mat, vec) + deprecated, beta, alpha)
    check_tensor(input, "addmv")
    check_tensor(mat, "addmv", "mat", 2)
    check_tensor(vec, "addmv", "vec", 3)
    if mat.dim() != 2 or vec.dim() != 1 or input.dim() > 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.dim()}, {mat.dim()}, {vec.dim()}")
    if mat.shape[1] != vec.shape[0] or (input.dim() == 1 and input.shape[0] not in (1, mat.shape[0])):
        raise RuntimeError(f"size mismatch, got input ({input.shape[0] if input.dim() else 1}), mat "
                           f"({mat.shape[0]}x{mat.shape[1]}), vec ({vec.shape[0]})")
    if not (input.dtype == mat.dtype == vec.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_dtype_title(input)}, "
                           f"{_dtype_title(mat)}, and {_dtype_title(vec)}")
    return _addop("AddmvBackward0", input, [mat, vec], _C.mv, beta, alpha, "addmv", out)


def addr(input, vec1, vec2, *deprecated, beta=1, alpha=1, out=None):
    if deprecated:
        input, vec1, vec2, beta, alpha = _C._beta_first_args(
            "addr", False, (input, vec1, vec2) + deprecated, beta, alpha)
    check_tensor(input, "addr")
    check_tensor(vec1, "addr", "vec1", 2)
    check_tensor(vec2, "addr", "vec2", 3)
    if vec1.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec1, but got {vec1.dim()}-D")
    if vec2.dim() != 1:
        raise RuntimeError(f"addr: Expected 1-D argument vec2, but got {vec2.dim()}-D")
    _expand_check(input, (vec1.shape[0], vec2.shape[0]))
    return _addop("AddrBackward0", input, [vec1, vec2], _C.outer, beta, alpha, "addr", out)


def beta_first_method(fn, name):
    """Tensor.<name>(first, second) for addmm, addmv, addr, addbmm, baddbmm
    and their in-place forms, which also take PyTorch's deprecated
    (beta, [alpha,] first, second) (src/cgrad/tensor/deprecated_overloads.pxi)."""
    def method(self, first, second, *deprecated, beta=1, alpha=1):
        if deprecated:
            _, first, second, beta, alpha = _C._beta_first_args(name, True, (first, second) + deprecated, beta,
                                                                alpha)
        return fn(self, first, second, beta=beta, alpha=alpha)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = fn.__doc__
    return method


def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    check_tensor(x1, "cdist", "x1", 1)
    check_tensor(x2, "cdist", "x2", 2)
    if x1.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.dim()}D")
    if x2.dim() < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X2 got: {x2.dim()}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if not x1.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {_dtype_title(x1)}")
    if not x2.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X2 got: {_dtype_title(x2)}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values")

    def dist(a, b):
        diff = a.unsqueeze(-2) - b.unsqueeze(-3)
        if p == 0:
            return (diff != 0).to(diff.dtype).sum(-1)
        if p == float("inf"):
            return diff.abs().amax(-1)
        if p == 1:
            return diff.abs().sum(-1)
        if p == 2:
            return _safe_sqrt((diff * diff).sum(-1))
        return _safe_pow(diff.abs(), p).sum(-1).pow(1.0 / p)
    if p == 2 and x1.numel() and x2.numel() and _cdist_takes_mm(compute_mode, x1.shape[-2], x2.shape[-2]):
        # PyTorch's matrix-product path: its _euclidean_dist node over the
        # inputs broadcast to one batch dim, then a view to the result's shape
        batch = tuple(np.broadcast_shapes(tuple(x1.shape[:-2]), tuple(x2.shape[:-2])))
        a, b = x1, x2
        if batch:
            a = x1.expand(batch + tuple(x1.shape[-2:])).contiguous().view(-1, x1.shape[-2], x1.shape[-1])
            b = x2.expand(batch + tuple(x2.shape[-2:])).contiguous().view(-1, x2.shape[-2], x2.shape[-1])
        out = composite_op("EuclideanDistBackward0", dist, [a, b], jvp=forward_ad_not_implemented("_euclidean_dist"))
        return out.view(batch + (x1.shape[-2], x2.shape[-2]))
    return composite_op("CdistBackward0", dist, [x1, x2], jvp=forward_ad_not_implemented("_cdist_forward"))


def _cdist_takes_mm(compute_mode, rows1, rows2):
    if compute_mode == "use_mm_for_euclid_dist":
        return True
    return compute_mode in (None, "use_mm_for_euclid_dist_if_necessary") and (rows1 > 25 or rows2 > 25)


def _safe_sqrt(s):
    """sqrt whose gradient at 0 is 0 (PyTorch's cdist backward), not inf."""
    zero = s == 0
    return _C.where(zero, _C.zeros_like(s), _C.where(zero, _C.ones_like(s), s).sqrt())


def _safe_pow(a, p):
    zero = a == 0
    return _C.where(zero, _C.zeros_like(a), _C.where(zero, _C.ones_like(a), a).pow(p))


def _dtype_title(t):
    return dtype_title(t.dtype)
