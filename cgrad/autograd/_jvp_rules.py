"""JVP rules of the hand-written ops, as data, and the generic fallback.

The compiled core (src/cgrad/forward_ad.pxi) asks an op's node for the
tangent of each output. Table nodes answer in C from the table's JVP column;
view outputs get views of their input's tangent; the hand-written ops have
explicit formulas in C that read their node's saved parameters
(src/cgrad/forward_rules.pxi, forward_rules_extra.pxi) or in Python
registered on the node type (_jvp_rules_linalg.py, _jvp_rules_extra.py);
the pure-Python ops give theirs to attach(jvp=...) (cgrad/_op_support.py);
a node none of those serve is looked up here by its grad_fn name:

  RULES        name -> rule(inputs, tangents, out, nr): PyTorch's formula
               written with differentiable ops (inputs as the node was
               wired, tangents None where an input has none);
  otherwise    (the nodes listed in _jvp_rules_extra.TRANSPOSED)
               the transpose of the node's own VJP: J t = d/du <J^T u, t>,
               exact because a VJP is linear in u. It serves every node
               whose backward is differentiable (the reverse engine's
               create_graph path), custom nodes included; a node whose
               backward cannot be differentiated raises PyTorch's
               "Trying to use forward AD with ... that does not support it".

Rules run with forward AD off and grad mode as the caller had it, so a
tangent is differentiable with respect to the primals and tangents it was
computed from (reverse-over-forward, jacrev(jacfwd(f))).
"""
import re

import cgrad
from cgrad import _C


def _plus(*terms):
    total = None
    for term in terms:
        if term is not None:
            total = term if total is None else total + term
    return total


def _differentiable_formula(*tensors):
    return cgrad.is_grad_enabled() and any(x is not None and x.requires_grad for x in tensors)


def _bilinear(fn, a, b, ta, tb):
    """fn(ta, b) + fn(a, tb), PyTorch's product rule. PyTorch evaluates both
    terms whenever the result is differentiable, an absent tangent being a
    zero tensor: the tangent is then an AddBackward0 carrying the primals'
    history, as reverse-over-forward sees it (_fw_absent_term,
    src/cgrad/autograd/forward_rules.pxi: zero whatever the primal holds,
    as PyTorch's ZeroTensor product is). Otherwise an absent tangent's term
    is skipped."""
    total = _plus(None if ta is None else fn(ta, b), None if tb is None else fn(a, tb))
    if total is not None and _differentiable_formula(a, b, ta, tb):
        if ta is None:
            total = total + _C._fw_absent_term(b, total)
        if tb is None:
            total = total + _C._fw_absent_term(a, total)
    return total


def _matrix_product(fn, a, b, ta, tb):
    """As _bilinear, for the matrix products, whose absent tangent PyTorch
    multiplies as a real zero matrix (an inf or nan in the other primal
    gives nan)."""
    if _differentiable_formula(a, b, ta, tb):
        ta = _C.zeros_like(a) if ta is None else ta
        tb = _C.zeros_like(b) if tb is None else tb
    return _plus(None if ta is None else fn(ta, b), None if tb is None else fn(a, tb))


def _mul(inputs, t, out, nr):
    a, b = inputs
    if a is None or b is None:       # a number operand (MulBackward0 of mul(x, 2)): the transpose serves
        return NotImplemented
    return _bilinear(_C.mul, a, b, t[0], t[1])


def _div(inputs, t, out, nr):
    a, b = inputs
    if a is None or b is None:
        return NotImplemented
    ta, tb = t
    if _differentiable_formula(a, b, ta, tb):
        # PyTorch's (self_t - other_t * result) / other_p, every term
        # evaluated (_bilinear): a DivBackward0 carrying the primals' history
        result_history = a if a.requires_grad else b
        num = _C._fw_absent_term(a, out) if ta is None else ta
        if tb is None:
            return (num + _C._fw_absent_term(result_history, out)) / b
        return (num - tb * out.detach()) / b
    return _plus(None if ta is None else ta / b, None if tb is None else -(out.detach() * tb) / b)


def _product(fn, zero_tensor=False):
    """A bilinear op (mm, bmm, mv, dot, matmul): d(a.b) = da.b + a.db; dot
    multiplies an absent tangent as PyTorch's ZeroTensor, the others as a
    zero matrix."""
    def rule(inputs, t, out, nr):
        a, b = inputs[0], inputs[1]
        if a is None or b is None:
            return NotImplemented
        return (_bilinear if zero_tensor else _matrix_product)(fn, a, b, t[0], t[1])
    return rule


def _tangent_or_zeros(t, like):
    return _C.zeros_like(like) if t is None else t


def _trace_of_solve(a, da):
    """trace(A^-1 dA) over the last two dims (the derivative of log|det A|)."""
    return cgrad.linalg.solve(a, da).diagonal(dim1=-2, dim2=-1).sum(-1)


def _linalg_inv(inputs, t, out, nr):
    # -A^-1 dA A^-1 (PyTorch's linalg_inv_ex: -result.matmul(self_t).matmul(result))
    if nr != 0:
        return NotImplemented
    return -(out.matmul(t[0]).matmul(out))


def _linalg_det(inputs, t, out, nr):
    # det(A) trace(A^-1 dA); a (numerically) singular A takes the transpose of the VJP, whose
    # backward handles it
    a = inputs[0]
    if a.numel() == 0 or bool((out.abs() < 1e-10).any()):
        return NotImplemented
    return out * _trace_of_solve(a, t[0])


def _linalg_slogdet(inputs, t, out, nr):
    # sign: zero for real input; logabsdet: trace(A^-1 dA)
    if nr == 0:
        return _C.zeros_like(out)
    return _trace_of_solve(inputs[0], t[0])


def _linalg_solve(inputs, t, out, nr):
    # left: A dX = dB - dA X; right (X A = B): dX A = dB - X dA
    if nr != 0:
        return NotImplemented
    a, b = inputs
    x = out
    vector = x.dim() == a.dim() - 1
    if vector:
        x = x.unsqueeze(-1)
        b = b.unsqueeze(-1)
    left = _is_left_solve(a, b, x)
    rhs = _tangent_or_zeros(t[1], inputs[1])
    if vector:
        rhs = rhs.unsqueeze(-1)
    if t[0] is not None:
        rhs = rhs - (t[0].matmul(x) if left else x.matmul(t[0]))
    if left:
        dx = cgrad.linalg.solve(a, rhs)
    else:
        dx = cgrad.linalg.solve(a.mT, rhs.mT).mT
    return dx.squeeze(-1) if vector else dx


def _is_left_solve(a, b, x):
    """Whether X solved A X = B (else X A = B); the shapes tell unless X is
    square, and then the residuals do."""
    n = a.shape[-1]
    if x.shape[-2] != n:
        return False
    if x.shape[-1] != n:
        return True
    with cgrad.no_grad():
        left = (a.matmul(x) - b).abs().max()
        right = (x.matmul(a) - b).abs().max()
    return bool(left <= right)


def _linalg_cholesky(inputs, t, out, nr):
    # L phi(L^-1 dA L^-H), phi: the lower triangle with the diagonal halved (PyTorch's cholesky_jvp);
    # an upper factor U = L^H
    if nr != 0:
        return NotImplemented
    factor = out
    upper = bool((factor.tril(-1) == 0).all()) and not bool((factor.triu(1) == 0).all())
    low = factor.mT if upper else factor
    inner = cgrad.linalg.solve_triangular(low, t[0], upper=False)
    inner = cgrad.linalg.solve_triangular(low, inner.mT, upper=False).mT
    phi = inner.tril(-1) + 0.5 * inner.diagonal(dim1=-2, dim2=-1).diag_embed()
    dl = low.matmul(phi)
    return dl.mT if upper else dl


def _unsafe_view(inputs, t, out, nr):
    # self_t.view(size): the reshape behind matmul's folding, kron, ...
    return t[0].reshape(tuple(out.shape))


def _trace(inputs, t, out, nr):
    return t[0].diagonal().sum()


RULES = {
    "UnsafeViewBackward0": _unsafe_view,
    "TraceBackward0": _trace,
    "LinalgInvExBackward0": _linalg_inv,
    "LinalgDetBackward0": _linalg_det,
    "LinalgSlogdetBackward0": _linalg_slogdet,
    "LinalgSolveExBackward0": _linalg_solve,
    "LinalgCholeskyExBackward0": _linalg_cholesky,
    "MulBackward0": _mul,
    "DivBackward0": _div,
    "MmBackward0": _product(_C.mm),
    "BmmBackward0": _product(_C.bmm),
    "MvBackward0": _product(_C.mv),
    "DotBackward0": _product(_C.dot, zero_tensor=True),
}


def _aten_name(node):
    """PyTorch's op name from a grad_fn name: LogSoftmaxBackward0 -> log_softmax."""
    name = re.sub(r"Backward\d*$", "", type(node).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def not_supported(node):
    return NotImplementedError(f"Trying to use forward AD with aten::{_aten_name(node)} that does not support it.")


def transposed_jvp(node, inputs, tangents, out, nr, num_outputs):
    """J t for output `nr` of `node` from its VJP (see the module comment)."""
    differentiable = cgrad.is_grad_enabled() and any(
        isinstance(x, _C.Tensor) and x.requires_grad for x in tuple(inputs) + tuple(tangents))
    u = _C.zeros(tuple(out.shape), dtype=out.dtype, requires_grad=True)
    with cgrad.enable_grad():
        grads = node(*[u if i == nr else None for i in range(num_outputs)])
        if not isinstance(grads, tuple):
            grads = (grads,)
        total = None
        for g, t in zip(grads, tangents):
            if g is None or t is None:
                continue
            term = (g * t).sum()
            total = term if total is None else total + term
        if total is None:
            return _C.zeros_like(out)
        if not total.requires_grad:
            if all(g is None or not g.requires_grad for g in grads):
                raise not_supported(node)
            return _C.zeros_like(out)
        (tangent,) = cgrad.autograd.grad(total, u, allow_unused=True, create_graph=differentiable)
    if tangent is None:
        tangent = _C.zeros_like(out)
    dtype = out.dtype       # a tangent keeps its own dtype through the op, as PyTorch's formulas do
    for t in tangents:
        if t is not None:
            dtype = _C.promote_types(dtype, t.dtype)
    return tangent if tangent.dtype == dtype else tangent.to(dtype)


_C._fw_set_rules(RULES, transposed_jvp)
