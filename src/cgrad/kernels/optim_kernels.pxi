# Optimizer updates: the kernels (optim_kernels.h, in C for its fused
# multiply-adds) make one nogil pass over a parameter's buffers per step
# (a large parameter split in contiguous parts over cgrad's threads),
# following PyTorch's single-tensor update rules operation by operation; the
# wrappers here check the buffers. The Python classes in cgrad/optim/ only
# loop over parameters.


cdef extern from "optim_kernels.h" nogil:
    void cgrad_sgd_f32(float* p, const float* g, float* buf, Py_ssize_t lo, Py_ssize_t hi, double lr,
                       double momentum, double dampening, double weight_decay, int nesterov, int maximize,
                       int first)
    void cgrad_sgd_f64(double* p, const double* g, double* buf, Py_ssize_t lo, Py_ssize_t hi, double lr,
                       double momentum, double dampening, double weight_decay, int nesterov, int maximize,
                       int first)
    void cgrad_adam_f32(float* p, const float* g, float* m, float* v, float* vmax, Py_ssize_t lo,
                        Py_ssize_t hi, double lr, double beta1, double beta2, double eps, double weight_decay,
                        int decoupled, int maximize, double step_size, double bc2_sqrt)
    void cgrad_adam_f64(double* p, const double* g, double* m, double* v, double* vmax, Py_ssize_t lo,
                        Py_ssize_t hi, double lr, double beta1, double beta2, double eps, double weight_decay,
                        int decoupled, int maximize, double step_size, double bc2_sqrt)


cdef enum:
    # A parameter is split over threads from this many elements per thread:
    # an update streams four or five buffers, so a part this large keeps a
    # thread busy far longer than the parallel region costs to start.
    OPTIM_MIN_NUMEL_PER_THREAD = 1 << 16
    # parts start on a multiple of this many elements (whole cache lines and
    # vectors for both dtypes)
    OPTIM_PART_ALIGN = 64


cdef inline int optim_threads(Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t t = n // OPTIM_MIN_NUMEL_PER_THREAD
    if t > _num_threads:
        t = _num_threads
    return <int>t if t > 1 else 1


cdef inline Py_ssize_t optim_part_start(Py_ssize_t n, int part, int parts) noexcept nogil:
    """Where part `part` of `parts` of n elements starts (n for part == parts)."""
    cdef Py_ssize_t lo
    if part >= parts:
        return n
    lo = (n * part // parts) // OPTIM_PART_ALIGN * OPTIM_PART_ALIGN
    return lo


cdef inline void sgd_part(bint f32, char* p, char* g, char* buf, Py_ssize_t lo, Py_ssize_t hi, double lr,
                          double momentum, double dampening, double weight_decay, bint nesterov, bint maximize,
                          bint first) noexcept nogil:
    if f32:
        cgrad_sgd_f32(<float*>p, <float*>g, <float*>buf, lo, hi, lr, momentum, dampening, weight_decay,
                      nesterov, maximize, first)
    else:
        cgrad_sgd_f64(<double*>p, <double*>g, <double*>buf, lo, hi, lr, momentum, dampening, weight_decay,
                      nesterov, maximize, first)


cdef inline void adam_part(bint f32, char* p, char* g, char* m, char* v, char* vmax, Py_ssize_t lo,
                           Py_ssize_t hi, double lr, double beta1, double beta2, double eps, double weight_decay,
                           bint decoupled, bint maximize, double step_size, double bc2_sqrt) noexcept nogil:
    if f32:
        cgrad_adam_f32(<float*>p, <float*>g, <float*>m, <float*>v, <float*>vmax, lo, hi, lr, beta1, beta2,
                       eps, weight_decay, decoupled, maximize, step_size, bc2_sqrt)
    else:
        cgrad_adam_f64(<double*>p, <double*>g, <double*>m, <double*>v, <double*>vmax, lo, hi, lr, beta1,
                       beta2, eps, weight_decay, decoupled, maximize, step_size, bc2_sqrt)


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


cdef list as_float32_buffers(list tensors):
    """float16 optimizer state as float32 working copies (None stays None)."""
    return [None if t is None else cast_tensor(<Tensor>t, F32) for t in tensors]


cdef int write_back(list dst, list src) except -1:
    """Store the float32 working copies back into the float16 buffers."""
    for d, s_ in zip(dst, src):
        if d is not None:
            copy_into(<Tensor>d, <Tensor>s_)
            (<Tensor>d)._storage.version += 1
    return 0


def _sgd_update(Tensor param, Tensor grad, Tensor buf, double lr, double momentum, double dampening,
                double weight_decay, bint nesterov, bint maximize, bint first):
    """One SGD step of one parameter, in place (param, and buf when given).
    float16 parameters are updated in float32 and rounded back."""
    cdef list w
    check_update_operands([param, grad, buf])
    if is_half16(param._dtype):
        w = as_float32_buffers([param, grad, buf])
        _sgd_update(w[0], w[1], w[2], lr, momentum, dampening, weight_decay, nesterov, maximize, first)
        write_back([param, None, buf], w)
        return
    cdef Py_ssize_t n = param._numel
    cdef char* bp = NULL if buf is None else buf._data
    cdef int nthreads = optim_threads(n), part
    cdef bint f32 = param._dtype == F32
    cdef char* pp = param._data
    cdef char* gp = grad._data
    with nogil:
        if nthreads == 1:
            sgd_part(f32, pp, gp, bp, 0, n, lr, momentum, dampening, weight_decay,
                     nesterov, maximize, first)
        else:
            for part in prange(nthreads, num_threads=nthreads, schedule="static"):
                sgd_part(f32, pp, gp, bp, optim_part_start(n, part, nthreads),
                         optim_part_start(n, part + 1, nthreads), lr, momentum, dampening, weight_decay,
                         nesterov, maximize, first)
    param._storage.version += 1
    if buf is not None:
        buf._storage.version += 1


def _adam_update(Tensor param, Tensor grad, Tensor exp_avg, Tensor exp_avg_sq, Tensor max_exp_avg_sq,
                 double lr, double beta1, double beta2, double eps, double weight_decay,
                 bint decoupled, bint maximize, double step_size, double bc2_sqrt):
    """One Adam (decoupled=False) or AdamW (decoupled=True) step of one
    parameter, in place; step_size and bc2_sqrt are the bias corrections
    computed in Python floats, as PyTorch does. float16 parameters are
    updated in float32 and rounded back."""
    cdef list w
    check_update_operands([param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq])
    if is_half16(param._dtype):
        w = as_float32_buffers([param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq])
        _adam_update(w[0], w[1], w[2], w[3], w[4], lr, beta1, beta2, eps, weight_decay, decoupled,
                     maximize, step_size, bc2_sqrt)
        write_back([param, None, exp_avg, exp_avg_sq, max_exp_avg_sq], w)
        return
    cdef Py_ssize_t n = param._numel
    cdef char* vm = NULL if max_exp_avg_sq is None else max_exp_avg_sq._data
    cdef int nthreads = optim_threads(n), part
    cdef bint f32 = param._dtype == F32
    cdef char* pp = param._data
    cdef char* gp = grad._data
    cdef char* mp = exp_avg._data
    cdef char* vp = exp_avg_sq._data
    with nogil:
        if nthreads == 1:
            adam_part(f32, pp, gp, mp, vp, vm, 0, n, lr, beta1,
                      beta2, eps, weight_decay, decoupled, maximize, step_size, bc2_sqrt)
        else:
            for part in prange(nthreads, num_threads=nthreads, schedule="static"):
                adam_part(f32, pp, gp, mp, vp, vm,
                          optim_part_start(n, part, nthreads), optim_part_start(n, part + 1, nthreads), lr,
                          beta1, beta2, eps, weight_decay, decoupled, maximize, step_size, bc2_sqrt)
    for t in (param, exp_avg, exp_avg_sq, max_exp_avg_sq):
        if t is not None:
            (<Tensor>t)._storage.version += 1


def _kernel_fits(Tensor p, Tensor a, Tensor b=None, Tensor c=None, Tensor d=None):
    """Whether the fused kernels can update p: every given buffer has p's
    dtype and shape (else the optimizer steps op by op, as PyTorch's
    single-tensor update, after p.data or p.grad changed dtype or shape)."""
    return fits(p, a) and fits(p, b) and fits(p, c) and fits(p, d)


cdef inline bint fits(Tensor p, Tensor t) noexcept:
    return t is None or (t._dtype == p._dtype and same_shape(t, p))
