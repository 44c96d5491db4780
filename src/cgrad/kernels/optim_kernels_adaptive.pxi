# The adaptive optimizers' per-parameter updates (RMSprop, Adagrad, Adadelta,
# Adamax, NAdam, RAdam): the C kernels of optim_kernels_adaptive.h behind
# wrappers that check the buffers (check_update_operands, from
# optim_kernels.pxi) and run float16 parameters through float32 copies. The
# Python classes in cgrad/optim/ compute the per-step scalars.


cdef extern from "optim_kernels_adaptive.h" nogil:
    void cgrad_rmsprop_f32(float* p, const float* g, float* sq, float* gavg, float* buf, Py_ssize_t n,
                           double lr, double alpha, double eps, double weight_decay, double momentum,
                           int maximize)
    void cgrad_rmsprop_f64(double* p, const double* g, double* sq, double* gavg, double* buf,
                           Py_ssize_t n, double lr, double alpha, double eps, double weight_decay,
                           double momentum, int maximize)
    void cgrad_adagrad_f32(float* p, const float* g, float* s, Py_ssize_t n, double clr, double eps,
                           double weight_decay, int maximize)
    void cgrad_adagrad_f64(double* p, const double* g, double* s, Py_ssize_t n, double clr, double eps,
                           double weight_decay, int maximize)
    void cgrad_adadelta_f32(float* p, const float* g, float* sq, float* acc, Py_ssize_t n, double lr,
                            double rho, double eps, double weight_decay, int maximize)
    void cgrad_adadelta_f64(double* p, const double* g, double* sq, double* acc, Py_ssize_t n, double lr,
                            double rho, double eps, double weight_decay, int maximize)
    void cgrad_adamax_f32(float* p, const float* g, float* m, float* u, Py_ssize_t n, double beta1,
                          double beta2, double eps, double weight_decay, int maximize, double clr)
    void cgrad_adamax_f64(double* p, const double* g, double* m, double* u, Py_ssize_t n, double beta1,
                          double beta2, double eps, double weight_decay, int maximize, double clr)
    void cgrad_nadam_f32(float* p, const float* g, float* m, float* v, Py_ssize_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int decoupled,
                         int maximize, double bias_correction2, double grad_coef, double exp_avg_coef)
    void cgrad_nadam_f64(double* p, const double* g, double* m, double* v, Py_ssize_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int decoupled,
                         int maximize, double bias_correction2, double grad_coef, double exp_avg_coef)
    void cgrad_radam_f32(float* p, const float* g, float* m, float* v, Py_ssize_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int decoupled,
                         int maximize, double bias_correction1, double bc2_sqrt, int rectify, double rect)
    void cgrad_radam_f64(double* p, const double* g, double* m, double* v, Py_ssize_t n, double lr,
                         double beta1, double beta2, double eps, double weight_decay, int decoupled,
                         int maximize, double bias_correction1, double bc2_sqrt, int rectify, double rect)


cdef inline char* data_or_null(Tensor t) noexcept:
    return NULL if t is None else t._data


cdef int bump_versions(list tensors) except -1:
    for t in tensors:
        if t is not None:
            (<Tensor>t)._storage.version += 1
    return 0


def _rmsprop_update(Tensor param, Tensor grad, Tensor square_avg, Tensor grad_avg, Tensor momentum_buffer,
                    double lr, double alpha, double eps, double weight_decay, double momentum,
                    bint maximize):
    """One RMSprop step of one parameter, in place; grad_avg (centered) and
    momentum_buffer (momentum > 0) may be None."""
    cdef list w
    cdef list ts = [param, grad, square_avg, grad_avg, momentum_buffer]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _rmsprop_update(w[0], w[1], w[2], w[3], w[4], lr, alpha, eps, weight_decay, momentum, maximize)
        write_back([param, None, square_avg, grad_avg, momentum_buffer], w)
        return
    cdef Py_ssize_t n = param._numel
    cdef char* ga = data_or_null(grad_avg)
    cdef char* bp = data_or_null(momentum_buffer)
    with nogil:
        if param._dtype == F32:
            cgrad_rmsprop_f32(<float*>param._data, <float*>grad._data, <float*>square_avg._data,
                              <float*>ga, <float*>bp, n, lr, alpha, eps, weight_decay, momentum, maximize)
        else:
            cgrad_rmsprop_f64(<double*>param._data, <double*>grad._data, <double*>square_avg._data,
                              <double*>ga, <double*>bp, n, lr, alpha, eps, weight_decay, momentum, maximize)
    bump_versions([param, square_avg, grad_avg, momentum_buffer])


def _adagrad_update(Tensor param, Tensor grad, Tensor state_sum, double clr, double eps,
                    double weight_decay, bint maximize):
    """One Adagrad step of one parameter, in place (clr: the decayed lr)."""
    cdef list w
    cdef list ts = [param, grad, state_sum]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _adagrad_update(w[0], w[1], w[2], clr, eps, weight_decay, maximize)
        write_back([param, None, state_sum], w)
        return
    cdef Py_ssize_t n = param._numel
    with nogil:
        if param._dtype == F32:
            cgrad_adagrad_f32(<float*>param._data, <float*>grad._data, <float*>state_sum._data, n, clr,
                              eps, weight_decay, maximize)
        else:
            cgrad_adagrad_f64(<double*>param._data, <double*>grad._data, <double*>state_sum._data, n, clr,
                              eps, weight_decay, maximize)
    bump_versions([param, state_sum])


def _adadelta_update(Tensor param, Tensor grad, Tensor square_avg, Tensor acc_delta, double lr,
                     double rho, double eps, double weight_decay, bint maximize):
    """One Adadelta step of one parameter, in place."""
    cdef list w
    cdef list ts = [param, grad, square_avg, acc_delta]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _adadelta_update(w[0], w[1], w[2], w[3], lr, rho, eps, weight_decay, maximize)
        write_back([param, None, square_avg, acc_delta], w)
        return
    cdef Py_ssize_t n = param._numel
    with nogil:
        if param._dtype == F32:
            cgrad_adadelta_f32(<float*>param._data, <float*>grad._data, <float*>square_avg._data,
                               <float*>acc_delta._data, n, lr, rho, eps, weight_decay, maximize)
        else:
            cgrad_adadelta_f64(<double*>param._data, <double*>grad._data, <double*>square_avg._data,
                               <double*>acc_delta._data, n, lr, rho, eps, weight_decay, maximize)
    bump_versions([param, square_avg, acc_delta])


def _adamax_update(Tensor param, Tensor grad, Tensor exp_avg, Tensor exp_inf, double beta1, double beta2,
                   double eps, double weight_decay, bint maximize, double clr):
    """One Adamax step of one parameter, in place (clr: lr over the bias
    correction, computed in Python floats as PyTorch does)."""
    cdef list w
    cdef list ts = [param, grad, exp_avg, exp_inf]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _adamax_update(w[0], w[1], w[2], w[3], beta1, beta2, eps, weight_decay, maximize, clr)
        write_back([param, None, exp_avg, exp_inf], w)
        return
    cdef Py_ssize_t n = param._numel
    with nogil:
        if param._dtype == F32:
            cgrad_adamax_f32(<float*>param._data, <float*>grad._data, <float*>exp_avg._data,
                             <float*>exp_inf._data, n, beta1, beta2, eps, weight_decay, maximize, clr)
        else:
            cgrad_adamax_f64(<double*>param._data, <double*>grad._data, <double*>exp_avg._data,
                             <double*>exp_inf._data, n, beta1, beta2, eps, weight_decay, maximize, clr)
    bump_versions([param, exp_avg, exp_inf])


def _nadam_update(Tensor param, Tensor grad, Tensor exp_avg, Tensor exp_avg_sq, double lr, double beta1,
                  double beta2, double eps, double weight_decay, bint decoupled, bint maximize,
                  double bias_correction2, double grad_coef, double exp_avg_coef):
    """One NAdam step of one parameter, in place; grad_coef and exp_avg_coef
    are addcdiv's two values, -lr(1-mu)/(1-mu_product) and
    -lr mu_next/(1-mu_product mu_next)."""
    cdef list w
    cdef list ts = [param, grad, exp_avg, exp_avg_sq]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _nadam_update(w[0], w[1], w[2], w[3], lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                      bias_correction2, grad_coef, exp_avg_coef)
        write_back([param, None, exp_avg, exp_avg_sq], w)
        return
    cdef Py_ssize_t n = param._numel
    with nogil:
        if param._dtype == F32:
            cgrad_nadam_f32(<float*>param._data, <float*>grad._data, <float*>exp_avg._data,
                            <float*>exp_avg_sq._data, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                            maximize, bias_correction2, grad_coef, exp_avg_coef)
        else:
            cgrad_nadam_f64(<double*>param._data, <double*>grad._data, <double*>exp_avg._data,
                            <double*>exp_avg_sq._data, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                            maximize, bias_correction2, grad_coef, exp_avg_coef)
    bump_versions([param, exp_avg, exp_avg_sq])


def _radam_update(Tensor param, Tensor grad, Tensor exp_avg, Tensor exp_avg_sq, double lr, double beta1,
                  double beta2, double eps, double weight_decay, bint decoupled, bint maximize,
                  double bias_correction1, double bc2_sqrt, bint rectify, double rect):
    """One RAdam step of one parameter, in place; rectify is rho_t > 5 and
    rect the rectification term (both Python floats in PyTorch)."""
    cdef list w
    cdef list ts = [param, grad, exp_avg, exp_avg_sq]
    check_update_operands(ts)
    if is_half16(param._dtype):
        w = as_float32_buffers(ts)
        _radam_update(w[0], w[1], w[2], w[3], lr, beta1, beta2, eps, weight_decay, decoupled, maximize,
                      bias_correction1, bc2_sqrt, rectify, rect)
        write_back([param, None, exp_avg, exp_avg_sq], w)
        return
    cdef Py_ssize_t n = param._numel
    with nogil:
        if param._dtype == F32:
            cgrad_radam_f32(<float*>param._data, <float*>grad._data, <float*>exp_avg._data,
                            <float*>exp_avg_sq._data, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                            maximize, bias_correction1, bc2_sqrt, rectify, rect)
        else:
            cgrad_radam_f64(<double*>param._data, <double*>grad._data, <double*>exp_avg._data,
                            <double*>exp_avg_sq._data, n, lr, beta1, beta2, eps, weight_decay, decoupled,
                            maximize, bias_correction1, bc2_sqrt, rectify, rect)
    bump_versions([param, exp_avg, exp_avg_sq])
