# CTC loss kernels (Graves et al. 2006), in log space, float64 throughout:
# the forward (alpha) and backward (beta) recursions over the extended label
# sequence blank, l1, blank, l2, ..., blank (2L+1 states), one batch element
# per thread. The gradient is PyTorch's: with respect to log_probs, it is
#   exp(log_probs) - exp(log(sum over states s labelled c of alpha*beta) + nll - log_probs)
# (alpha and beta both include the frame's own log-probability), which is
# the true gradient through a log_softmax producing log_probs: PyTorch's
# ctc_loss assumes that, and its rows sum to zero. The API layer
# (cgrad/nn/_ctc_loss.py) checks the arguments and hands over C-contiguous
# float64 / int64 numpy arrays; these functions trust their shapes. Raw
# pointers rather than memoryviews: one memoryview pulls Cython's whole
# memoryview machinery into the binary.

cdef struct CtcProblem:
    const double* lp            # (T, N, C) log-probabilities
    const int64_t* targets      # (N, S) padded targets
    const int64_t* input_lengths
    const int64_t* target_lengths
    double* alpha               # (N, T, W), W = 2 S + 1
    double* beta                # (N, T, W)
    double* grad                # (T, N, C)
    Py_ssize_t T, N, C, S, W
    int64_t blank


cdef inline double log_add(double a, double b) noexcept nogil:
    if a == -cmath.INFINITY:
        return b
    if b == -cmath.INFINITY:
        return a
    if a > b:
        return a + cmath.log1p(cmath.exp(b - a))
    return b + cmath.log1p(cmath.exp(a - b))


cdef inline int64_t ctc_label(const CtcProblem* p, Py_ssize_t n, Py_ssize_t s) noexcept nogil:
    return p.blank if s % 2 == 0 else p.targets[n * p.S + s // 2]


cdef inline bint ctc_can_skip(const CtcProblem* p, Py_ssize_t n, Py_ssize_t s) noexcept nogil:
    # state s may be entered from s - 2: it is a label that differs from the label before it
    return s >= 2 and s % 2 == 1 and p.targets[n * p.S + s // 2] != p.targets[n * p.S + s // 2 - 1]


cdef inline double ctc_lp(const CtcProblem* p, Py_ssize_t t, Py_ssize_t n, int64_t c) noexcept nogil:
    return p.lp[(t * p.N + n) * p.C + c]


cdef double ctc_alpha_one(const CtcProblem* p, Py_ssize_t n) noexcept nogil:
    """Fills alpha[n]; returns the sequence's negative log-likelihood."""
    cdef Py_ssize_t steps = p.input_lengths[n], length = p.target_lengths[n]
    cdef Py_ssize_t states = 2 * length + 1, t, s
    cdef double* alpha = p.alpha + n * p.T * p.W
    cdef double a
    if steps == 0:
        # no frames: only an empty target has a path (probability 1)
        return 0.0 if length == 0 else cmath.INFINITY
    alpha[0] = ctc_lp(p, 0, n, p.blank)
    if length > 0:
        alpha[1] = ctc_lp(p, 0, n, p.targets[n * p.S])
    for t in range(1, steps):
        for s in range(states):
            a = alpha[(t - 1) * p.W + s]
            if s > 0:
                a = log_add(a, alpha[(t - 1) * p.W + s - 1])
            if ctc_can_skip(p, n, s):
                a = log_add(a, alpha[(t - 1) * p.W + s - 2])
            alpha[t * p.W + s] = a + ctc_lp(p, t, n, ctc_label(p, n, s))
    a = alpha[(steps - 1) * p.W + states - 1]
    if length > 0:
        a = log_add(a, alpha[(steps - 1) * p.W + states - 2])
    return -a


cdef void ctc_beta_one(const CtcProblem* p, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t steps = p.input_lengths[n], length = p.target_lengths[n]
    cdef Py_ssize_t states = 2 * length + 1, t, s
    cdef double* beta = p.beta + n * p.T * p.W
    cdef double b
    beta[(steps - 1) * p.W + states - 1] = ctc_lp(p, steps - 1, n, p.blank)
    if length > 0:
        beta[(steps - 1) * p.W + states - 2] = ctc_lp(p, steps - 1, n, p.targets[n * p.S + length - 1])
    for t in range(steps - 2, -1, -1):
        for s in range(states):
            b = beta[(t + 1) * p.W + s]
            if s + 1 < states:
                b = log_add(b, beta[(t + 1) * p.W + s + 1])
            if s + 2 < states and ctc_can_skip(p, n, s + 2):
                b = log_add(b, beta[(t + 1) * p.W + s + 2])
            beta[t * p.W + s] = b + ctc_lp(p, t, n, ctc_label(p, n, s))


cdef void ctc_grad_one(const CtcProblem* p, Py_ssize_t n, double nll, double scale, double* lcab) noexcept nogil:
    """grad[:, n, :] (left zero past the input length); lcab: C doubles of scratch."""
    cdef Py_ssize_t steps = p.input_lengths[n], states = 2 * p.target_lengths[n] + 1, t, s, c
    cdef const double* alpha = p.alpha + n * p.T * p.W
    cdef const double* beta = p.beta + n * p.T * p.W
    cdef double* row
    cdef int64_t label
    ctc_beta_one(p, n)
    for t in range(steps):
        for c in range(p.C):
            lcab[c] = -cmath.INFINITY
        for s in range(states):
            label = ctc_label(p, n, s)
            lcab[label] = log_add(lcab[label], alpha[t * p.W + s] + beta[t * p.W + s])
        row = p.grad + (t * p.N + n) * p.C
        for c in range(p.C):
            row[c] = (cmath.exp(ctc_lp(p, t, n, c)) - cmath.exp(lcab[c] + nll - ctc_lp(p, t, n, c))) * scale


cdef CtcProblem ctc_problem(lp, targets, input_lengths, target_lengths, int64_t blank, alpha) except *:
    cdef CtcProblem p
    p.lp = <const double*>cnp.PyArray_DATA(<cnp.ndarray>lp)
    p.targets = <const int64_t*>cnp.PyArray_DATA(<cnp.ndarray>targets)
    p.input_lengths = <const int64_t*>cnp.PyArray_DATA(<cnp.ndarray>input_lengths)
    p.target_lengths = <const int64_t*>cnp.PyArray_DATA(<cnp.ndarray>target_lengths)
    p.alpha = <double*>cnp.PyArray_DATA(<cnp.ndarray>alpha)
    p.beta = NULL
    p.grad = NULL
    p.T, p.N, p.C = lp.shape[0], lp.shape[1], lp.shape[2]
    p.S = targets.shape[1]
    p.W = 2 * p.S + 1
    p.blank = blank
    return p


cdef inline int ctc_threads(const CtcProblem* p) noexcept nogil:
    cdef Py_ssize_t work = p.N * p.T * p.W
    if work < 65536 or p.N < 2:
        return 1
    return <int>(p.N if p.N < _num_threads else _num_threads)


def _ctc_loss_forward(lp, targets, input_lengths, target_lengths, int64_t blank):
    """(nll per sequence, alpha table (N, T, 2 S + 1), -inf where unreachable)."""
    alpha = np.full((lp.shape[1], lp.shape[0], 2 * targets.shape[1] + 1), -np.inf)
    nll = np.zeros(lp.shape[1])
    cdef CtcProblem p = ctc_problem(lp, targets, input_lengths, target_lengths, blank, alpha)
    cdef double* out = <double*>cnp.PyArray_DATA(<cnp.ndarray>nll)
    cdef Py_ssize_t n
    cdef int nthreads = ctc_threads(&p)
    with nogil:
        if nthreads > 1:
            for n in prange(p.N, num_threads=nthreads, schedule="dynamic"):
                out[n] = ctc_alpha_one(&p, n)
        else:
            for n in range(p.N):
                out[n] = ctc_alpha_one(&p, n)
    return nll, alpha


def _ctc_loss_backward(lp, targets, input_lengths, target_lengths, int64_t blank, alpha, nll, scale):
    """d(sum_n scale[n] * nll[n]) / d log_probs by PyTorch's formula (top of
    this file); rows of sequences with scale 0 stay zero."""
    beta = np.full(alpha.shape, -np.inf)
    grad = np.zeros(lp.shape)
    scratch = np.empty((lp.shape[1], lp.shape[2]))
    cdef CtcProblem p = ctc_problem(lp, targets, input_lengths, target_lengths, blank, alpha)
    p.beta = <double*>cnp.PyArray_DATA(<cnp.ndarray>beta)
    p.grad = <double*>cnp.PyArray_DATA(<cnp.ndarray>grad)
    cdef const double* nlls = <const double*>cnp.PyArray_DATA(<cnp.ndarray>nll)
    cdef const double* scales = <const double*>cnp.PyArray_DATA(<cnp.ndarray>scale)
    cdef double* lcab = <double*>cnp.PyArray_DATA(<cnp.ndarray>scratch)
    cdef Py_ssize_t n
    cdef int nthreads = ctc_threads(&p)
    with nogil:
        if nthreads > 1:
            for n in prange(p.N, num_threads=nthreads, schedule="dynamic"):
                if scales[n] != 0.0 and p.input_lengths[n] > 0:
                    ctc_grad_one(&p, n, nlls[n], scales[n], lcab + n * p.C)
        else:
            for n in range(p.N):
                if scales[n] != 0.0 and p.input_lengths[n] > 0:
                    ctc_grad_one(&p, n, nlls[n], scales[n], lcab + n * p.C)
    return grad
