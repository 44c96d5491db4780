"""gradcheck and gradgradcheck: compare the gradients autograd computes
with finite differences, as torch.autograd.gradcheck does in its default
(slow) mode: the full Jacobian of every output with respect to every input
that requires grad, numerical by central differences, analytical by one
backward pass per output element and, with check_forward_ad, by one
forward-mode pass per input element."""
import numpy as np

from cgrad import _C
from cgrad._C import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck and gradgradcheck when a check fails."""


def _as_tuple(x):
    if isinstance(x, Tensor):
        return (x,)
    return tuple(x)


def _differentiable_outputs(outputs):
    return [o for o in _as_tuple(outputs) if isinstance(o, Tensor) and o.requires_grad]


def _numerical_jacobians(func, inputs, outputs, diff_idx, eps):
    """For each differentiable input, a list (one per output of func at
    inputs, `outputs`) of numpy Jacobians of shape (input numel, output
    numel)."""
    out_sizes = [o.numel() for o in outputs]
    result = []
    for i in diff_idx:
        # the input's own memory through its own strides (a reshaped copy of
        # a transposed or strided input would be perturbed instead of it)
        values = inputs[i].detach().numpy()
        jac = [np.zeros((values.size, n)) for n in out_sizes]
        for k in range(values.size):
            position = np.unravel_index(k, values.shape)
            orig = values[position]
            values[position] = orig - eps
            minus = [o.detach().numpy().astype(np.float64).reshape(-1).copy()
                     for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
            values[position] = orig + eps
            plus = [o.detach().numpy().astype(np.float64).reshape(-1).copy()
                    for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
            values[position] = orig
            for j in range(len(out_sizes)):
                jac[j][k] = (plus[j] - minus[j]) / (2 * eps)
        result.append(jac)
    return result


def _analytical_jacobians(func, inputs, diff_idx):
    outputs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    diff_inputs = [inputs[i] for i in diff_idx]
    result = [[np.zeros((inputs[i].numel(), o.numel())) for o in outputs] for i in diff_idx]
    for j, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for k in range(out.numel()):
            one_hot = _C.zeros(tuple(out.shape), dtype=out.dtype)
            one_hot.detach().numpy().reshape(-1)[k] = 1
            grads = _C_grad(out, diff_inputs, one_hot)
            for pos, g in enumerate(grads):
                if g is not None:
                    result[pos][j][:, k] = g.detach().numpy().astype(np.float64).reshape(-1)
    return result


def _forward_jacobians(func, inputs, diff_idx):
    """As _analytical_jacobians, by forward-mode AD as PyTorch's
    check_forward_ad does: the differentiable inputs become detached duals
    with zero tangents, and each tangent element in turn is set to one; an
    output without a tangent has a zero column. Outputs counted are the
    floating-point ones."""
    from cgrad.autograd import forward_ad
    with forward_ad.dual_level():
        tangents = {}
        dual_inputs = list(inputs)
        for i in diff_idx:
            tangent = _C.zeros(tuple(inputs[i].shape), dtype=inputs[i].dtype)
            dual_inputs[i] = forward_ad.make_dual(inputs[i].detach(), tangent)
            tangents[i] = forward_ad.unpack_dual(dual_inputs[i]).tangent
        result = []
        for i in diff_idx:
            # written through the tangent's own memory, which the dual shares
            flat = tangents[i].detach().numpy().reshape(-1)
            per_output = None
            for k in range(flat.size):
                flat[k] = 1
                outputs = [o for o in _as_tuple(func(*dual_inputs))
                           if isinstance(o, Tensor) and o.is_floating_point()]
                flat[k] = 0
                if per_output is None:
                    per_output = [np.zeros((flat.size, o.numel())) for o in outputs]
                for j, out in enumerate(outputs):
                    tangent_out = forward_ad.unpack_dual(out).tangent
                    if tangent_out is not None:
                        per_output[j][k] = tangent_out.detach().numpy().astype(np.float64).reshape(-1)
            result.append(per_output or [])
        return result


def _C_grad(out, inputs, grad_output):
    from cgrad.autograd import grad
    return grad(out, inputs, grad_output, retain_graph=True, allow_unused=True)


def _fmt(a):
    return np.array2string(a, precision=4, floatmode="fixed")


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True when the analytical Jacobians of func at inputs match the
    numerical ones within atol + rtol * |numerical|; otherwise raise
    GradcheckError (or return False when raise_exception=False)."""
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, "
                         "but none of the them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i].dtype != _C.float64:
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point "
                          "or complex. This check will likely fail if all the inputs are not of double "
                          "precision floating point or complex. ")
        # (an empty input has nothing to overlap: PyTorch refuses one whose
        # strides are 0 too, as its tensors made from empty numpy arrays have)
        if inputs[i].numel() and not all(st > 0 or sz <= 1 for st, sz in zip(inputs[i].stride(), inputs[i].shape)):
            raise RuntimeError(f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs "
                               "that are non-overlapping to be able to compute the numerical gradients "
                               "correctly. You should call .contiguous on the input before passing it to "
                               "gradcheck.")
    # As PyTorch's: outputs that do not require grad (an op's statistics,
    # a detached value) have no analytical Jacobian to check and are left
    # out, output numbers counting the differentiable ones only; with none,
    # the numerical Jacobian must be zero.
    # func runs with grad mode as the caller has it: gradgradcheck's function
    # differentiates inside
    outputs = [o for o in _as_tuple(func(*inputs)) if isinstance(o, Tensor)]
    out_grads = [o.requires_grad for o in outputs]
    numerical = _numerical_jacobians(func, inputs, outputs, diff_idx, eps)
    if not any(out_grads):
        if any(np.any(jac != 0) for per_input in numerical for jac in per_input):
            if raise_exception:
                raise GradcheckError("Numerical gradient for function expected to be zero")
            return False
        return True
    keep = [j for j, g in enumerate(out_grads) if g]
    numerical = [[per_input[j] for j in keep] for per_input in numerical]
    checks = []
    if check_backward_ad:
        analytical = _analytical_jacobians(func, inputs, diff_idx)
        checks.append(("", [[per_input[j] for j in keep] for per_input in analytical]))
    if check_forward_ad:
        # PyTorch pairs the differentiable outputs' numerical Jacobians with
        # the floating-point outputs' forward ones in order
        checks.append(("computed with forward mode ", _forward_jacobians(func, inputs, diff_idx)))
    for mode, analytical in checks:
        for pos, i in enumerate(diff_idx):
            for j in range(len(numerical[pos])):
                n, a = numerical[pos][j], analytical[pos][j]
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    msg = (f"Jacobian {mode}mismatch for output {j} with respect to input {i},\n"
                           f"numerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n")
                    if raise_exception:
                        raise GradcheckError(msg)
                    return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradients of func: second derivatives checked
    against finite differences of the first."""
    from cgrad.autograd import grad
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if grad_outputs is None:
        outputs = _differentiable_outputs(func(*inputs))
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _C.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, requires_grad=True)
            for o in outputs)
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_order(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = _differentiable_outputs(func(*ins))
        diff_inputs = [ins[i] for i in diff_idx]
        grads = grad(outs, diff_inputs, gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_order, inputs + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
