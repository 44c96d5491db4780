# Optimizer update kernels: one nogil pass over a parameter's buffers per
# step, following PyTorch's single-tensor update rules operation by operation
# (same order, same rounding: scalars are cast to the parameter's dtype first,
# as PyTorch's CPU kernels do), so float64 runs track torch's to the last bits.
# The Python classes in cgrad/optim/ only loop over parameters.


cdef void sgd_kernel(real_t* p, const real_t* g, real_t* buf, Py_ssize_t n, double lr,
                     double momentum, double dampening, double weight_decay, bint nesterov,
                     bint maximize, bint first) noexcept nogil:
    # IN/OUT p (param), IN g (grad), IN/OUT buf (momentum buffer, or NULL)
    cdef Py_ssize_t i
    cdef real_t d, b
    cdef real_t wd = <real_t>weight_decay, mom = <real_t>momentum
    cdef real_t one_minus_damp = <real_t>(1 - dampening), neg_lr = <real_t>(-lr)
    for i in range(n):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            d = d + wd * p[i]
        if momentum != 0:
            if first:
                b = d
            else:
                b = buf[i] * mom
                b = b + one_minus_damp * d
            buf[i] = b
            if nesterov:
                d = d + mom * b
            else:
                d = b
        p[i] = p[i] + neg_lr * d


cdef void adam_kernel(real_t* p, const real_t* g, real_t* m, real_t* v, real_t* vmax, Py_ssize_t n,
                      double lr, double beta1, double beta2, double eps, double weight_decay,
                      bint decoupled, bint maximize, double step_size, double bc2_sqrt) noexcept nogil:
    # IN/OUT p, m (exp_avg), v (exp_avg_sq), vmax (max_exp_avg_sq or NULL); IN g
    cdef Py_ssize_t i
    cdef real_t d, mi, vi, denom
    cdef real_t wd = <real_t>weight_decay, decay = <real_t>(1 - lr * weight_decay)
    cdef real_t w1 = <real_t>(1 - beta1), b2 = <real_t>beta2, w2 = <real_t>(1 - beta2)
    cdef real_t c2 = <real_t>bc2_sqrt, e = <real_t>eps, neg_step = <real_t>(-step_size)
    cdef bint lerp_low = (1 - beta1) < 0.5
    for i in range(n):
        d = -g[i] if maximize else g[i]
        if weight_decay != 0:
            if decoupled:
                p[i] = p[i] * decay
            else:
                d = d + wd * p[i]
        # exp_avg.lerp_(grad, 1 - beta1), with lerp's two formulas
        if lerp_low:
            mi = m[i] + w1 * (d - m[i])
        else:
            mi = d - (d - m[i]) * (1 - w1)
        m[i] = mi
        vi = v[i] * b2
        vi = vi + w2 * d * d          # addcmul_: self + value * t1 * t2, left to right
        v[i] = vi
        if vmax != NULL:
            if vi > vmax[i] or vi != vi:
                vmax[i] = vi
            vi = vmax[i]
        if real_t is float:
            denom = cmath.sqrtf(vi) / c2 + e
        else:
            denom = cmath.sqrt(vi) / c2 + e
        p[i] = p[i] + neg_step * mi / denom   # addcdiv_: self + value * t1 / t2


cdef int check_update_operands(list tensors) except -1:
    cdef Tensor t, first = <Tensor>tensors[0]
    for x in tensors:
        if x is None:
            continue
        t = <Tensor>x
        if not t._contiguous or t._dtype != first._dtype or t._numel != first._numel:
            raise RuntimeError("optimizer kernels need contiguous tensors of one dtype and size")
        if not is_float(t._dtype):
            raise RuntimeError("optimizers update floating point tensors only")
    return 0


def _sgd_update(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double dampening,
                double weight_decay, bint nesterov, bint maximize, bint first):
    """One SGD step of one parameter, in place (param, and buf when given)."""
    check_update_operands([param, grad, buf])
    cdef Py_ssize_t n = param._numel
    cdef char* bp = NULL if buf is None else buf._data
    with nogil:
        if param._dtype == F32:
            sgd_kernel(<float*>param._data, <float*>grad._data, <float*>bp, n, lr, momentum,
                       dampening, weight_decay, nesterov, maximize, first)
        else:
            sgd_kernel(<double*>param._data, <double*>grad._data, <double*>bp, n, lr, momentum,
                       dampening, weight_decay, nesterov, maximize, first)
    param._storage.version += 1
    if buf is not None:
        buf._storage.version += 1


def _adam_update(Tensor param, Tensor grad, Tensor exp_avg, Tensor exp_avg_sq, Tensor max_exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bint decoupled, bint maximize, double step_size, double bc2_sqrt):
    """One Adam (decoupled=False) or AdamW (decoupled=True) step of one
    parameter, in place; step_size and bc2_sqrt are the bias corrections
    computed in Python floats, as PyTorch does."""
    check_update_operands([param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq])
    cdef Py_ssize_t n = param._numel
    cdef char* vm = NULL if max_exp_avg_sq is None else max_exp_avg_sq._data
    with nogil:
        if param._dtype == F32:
            adam_kernel(<float*>param._data, <float*>grad._data, <float*>exp_avg._data,
                        <float*>exp_avg_sq._data, <float*>vm, n, lr, beta1, beta2, eps, weight_decay,
                        decoupled, maximize, step_size, bc2_sqrt)
        else:
            adam_kernel(<double*>param._data, <double*>grad._data, <double*>exp_avg._data,
                        <double*>exp_avg_sq._data, <double*>vm, n, lr, beta1, beta2, eps, weight_decay,
                        decoupled, maximize, step_size, bc2_sqrt)
    for t in (param, exp_avg, exp_avg_sq, max_exp_avg_sq):
        if t is not None:
            (<Tensor>t)._storage.version += 1
