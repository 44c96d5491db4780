# cgrad.compile's fused pointwise programs: a captured step that is a chain
# of pointwise ops ending in sum().backward() (cgrad/_dynamo/fusion.py
# plans it) replays as one _FusedProgram: the forward values the backward
# needs and the gradient formulas, run block by block through
# fused_pointwise.h's interpreter, so a 4M-element chain is one pass over
# memory and a 16-element one a few hundred nanoseconds of C. No tensor,
# node or Python object is made per op; the leaves' gradients are written
# straight into their new .grad buffers (or added into the existing ones,
# as eager's AccumulateGrad does in place). A float32 program planned with
# config.fused_float32_math computes its exp, log, tanh, sigmoid and their
# backward formulas in float32 arithmetic (vecmath_f32.h) rather than
# eager's double-rounded-once (see fusion.py).
#
# Replay checks, each call, what the guards do not: hooks on the leaves or
# their AccumulateGrad nodes, post-accumulate-grad hooks, saved-tensor hooks,
# anomaly mode, forward AD and the state of an existing .grad. If any would
# make eager do more than compute numbers, _run_fused returns False and the
# caller replays the ordinary tape instead.

cdef extern from "fused_pointwise.h" nogil:
    enum: CG_FUSED_BLOCK
    enum: CGF_NOPS
    ctypedef struct cg_fused_instr:
        int op, dst, a, b, c
        double s
    void cg_fused_run_f32(const cg_fused_instr* code, int ncode, char** ext, int nregs,
                          float* scratch, Py_ssize_t start, Py_ssize_t stop)
    void cg_fused_run_f64(const cg_fused_instr* code, int ncode, char** ext, int nregs,
                          double* scratch, Py_ssize_t start, Py_ssize_t stop)
    void cg_fused_run_f32_math(const cg_fused_instr* code, int ncode, char** ext, int nregs,
                               float* scratch, Py_ssize_t start, Py_ssize_t stop)

cdef enum:
    FUSED_MAX_REGS = 256
    FUSED_MAX_THREADS = 64


cdef struct _FusedJob:
    const cg_fused_instr* code
    int ncode
    int nregs
    int dtype
    bint float32_math
    char** ext
    Py_ssize_t numel
    char** scratch          # per thread: CG_FUSED_BLOCK elements per register


cdef void _fused_chunk(void* ctx, int t, int nthreads) noexcept nogil:
    cdef _FusedJob* j = <_FusedJob*>ctx
    cdef Py_ssize_t start, stop
    chunk_range(j.numel, t, nthreads, CG_FUSED_BLOCK, &start, &stop)
    if start >= stop:
        return
    if j.dtype == F32 and j.float32_math:
        cg_fused_run_f32_math(j.code, j.ncode, j.ext, j.nregs, <float*>j.scratch[t], start, stop)
    elif j.dtype == F32:
        cg_fused_run_f32(j.code, j.ncode, j.ext, j.nregs, <float*>j.scratch[t], start, stop)
    else:
        cg_fused_run_f64(j.code, j.ncode, j.ext, j.nregs, <double*>j.scratch[t], start, stop)


cdef class _FusedProgram:
    """A planned pointwise program (see fusion.py): instructions, where
    each external register comes from (an input tensor, the .grad of a
    leaf, or a fresh result tensor), and the shape and dtype it was planned
    for."""
    cdef cg_fused_instr* code
    cdef int ncode
    cdef int nregs
    cdef int dtype
    cdef Py_ssize_t numel
    cdef Py_ssize_t* reg_input      # per register: index into the tensors, or -1
    cdef Py_ssize_t* reg_output     # per register: index into the leaves, or -1
    cdef tuple leaves               # per output: (index into the tensors, accumulate into an existing .grad)
    cdef Py_ssize_t nresults        # outputs after the leaves' grads: fresh tensors the call returns
    cdef tuple shape                # the shape of every tensor the program reads or writes
    cdef char* scratch
    cdef readonly int ninstructions
    cdef readonly bint float32_math   # float32 in float32 arithmetic (vecmath_f32.h), not eager's bits

    def __dealloc__(self):
        free(self.code)
        free(self.reg_input)
        free(self.reg_output)
        free(self.scratch)

    def __init__(self, dtype dt, tuple shape, tuple code, tuple reg_inputs, tuple reg_outputs,
                 tuple leaves, Py_ssize_t nresults, bint float32_math=False):
        cdef Py_ssize_t i
        cdef int nregs = len(reg_inputs)
        cdef Py_ssize_t numel = 1
        for n in shape:
            numel *= <Py_ssize_t>n
        if dt._code != F32 and dt._code != F64:
            raise ValueError("fused programs run float32 or float64")
        if nregs > FUSED_MAX_REGS or nregs < 1 or len(reg_outputs) != nregs:
            raise ValueError("fused program: bad register count")
        self.dtype = dt._code
        self.float32_math = float32_math and dt._code == F32
        self.numel = numel
        self.nregs = nregs
        self.ncode = len(code)
        self.ninstructions = self.ncode
        self.code = <cg_fused_instr*>malloc((self.ncode + 1) * sizeof(cg_fused_instr))
        self.reg_input = <Py_ssize_t*>malloc(nregs * sizeof(Py_ssize_t))
        self.reg_output = <Py_ssize_t*>malloc(nregs * sizeof(Py_ssize_t))
        self.scratch = <char*>malloc(<size_t>nregs * CG_FUSED_BLOCK * 8)
        if self.code == NULL or self.reg_input == NULL or self.reg_output == NULL or self.scratch == NULL:
            raise MemoryError()
        for i in range(self.ncode):
            # (op, dst, a, b, s) or (op, dst, a, b, s, c): c is MULADD's addend
            instruction = code[i]
            op, dst, a, b, s = instruction[:5]
            c = instruction[5] if len(instruction) > 5 else a
            if not (0 <= op < CGF_NOPS and 0 <= dst < nregs and 0 <= a < nregs and 0 <= b < nregs
                    and 0 <= c < nregs):
                raise ValueError("fused program: bad op or register out of range")
            self.code[i].op = op
            self.code[i].dst = dst
            self.code[i].a = a
            self.code[i].b = b
            self.code[i].c = c
            self.code[i].s = s
        for i in range(nregs):
            self.reg_input[i] = reg_inputs[i]
            self.reg_output[i] = reg_outputs[i]
        self.leaves = leaves
        self.nresults = nresults
        self.shape = shape


cdef bint _outputs_apart(_FusedProgram p, list tensors, list grads):
    """Whether no .grad the program adds into shares memory with a tensor
    it reads: the interpreter writes a block of an output while later
    instructions of that block still read the inputs, and vectorises its
    loops as if buffers were one or disjoint (fused_pointwise.h), so a
    .grad made a view of an input (by assigning to it) takes the tape."""
    cdef Py_ssize_t i, j
    cdef size_t nbytes = <size_t>p.numel * ITEMSIZE[p.dtype]
    cdef char* out
    cdef char* src
    for j in range(len(p.leaves)):
        if not p.leaves[j][1]:
            continue            # a fresh buffer
        out = (<Tensor>grads[j])._data
        for i in range(p.nregs):
            if p.reg_input[i] >= 0:
                src = (<Tensor>tensors[p.reg_input[i]])._data
                if src < out + nbytes and out < src + nbytes:
                    return False
    return True


def _run_fused(_FusedProgram p, list tensors):
    """Run p with `tensors` (the call's tensors, then the tape's constants)
    as its inputs and leaves, as eager's forward and backward would: the
    list of its fresh result tensors when done, None when this call needs
    the ordinary tape (a hook, a mode, or a .grad eager would not add into
    in place)."""
    cdef Py_ssize_t i, j, nleaves = len(p.leaves)
    cdef Tensor leaf, grad
    cdef list grads = []
    cdef char* ext[FUSED_MAX_REGS]
    cdef _FusedJob job
    cdef int nthreads = 1, t
    cdef char* scratch[FUSED_MAX_THREADS]
    cdef object node
    cdef list results = []
    if nleaves and (cgrad_anomaly_mode or cgrad_saved_hooks_on or cgrad_fwd_active or post_accumulate_hooks_by_leaf
                    or not cgrad_grad_enabled):
        return None
    if cgrad_inference_mode or cgrad_fwd_active:
        return None
    for j in range(nleaves):
        index, accumulate = p.leaves[j]
        leaf = <Tensor>tensors[index]
        if leaf._hooks or not leaf._requires_grad or leaf._grad_fn is not None:
            return None
        if leaf._accumulator is not None:
            node = leaf._accumulator()
            if node is not None and ((<Node>node).pre_hooks or (<Node>node).post_hooks):
                return None
        grad = leaf._grad
        if accumulate:
            if (grad is None or not grad._contiguous or grad._dtype != p.dtype or grad._grad_fn is not None
                    or grad._numel != p.numel or not same_shape(grad, leaf)):
                return None
        elif grad is not None:
            return None
        else:
            grad = new_tensor(leaf._ndim, leaf._shape, p.dtype)
        grads.append(grad)
    for j in range(p.nresults):
        results.append(new_tensor_from_tuple(p.shape, p.dtype))
        grads.append(results[j])
    if not _outputs_apart(p, tensors, grads):
        return None
    for i in range(p.nregs):
        if p.reg_input[i] >= 0:
            ext[i] = (<Tensor>tensors[p.reg_input[i]])._data
        elif p.reg_output[i] >= 0:
            ext[i] = (<Tensor>grads[p.reg_output[i]])._data
        else:
            ext[i] = NULL
    job.code = p.code
    job.ncode = p.ncode
    job.nregs = p.nregs
    job.dtype = p.dtype
    job.float32_math = p.float32_math
    job.ext = ext
    job.numel = p.numel
    job.scratch = scratch
    if p.numel < GIL_RELEASE_NUMEL:
        # the GIL is held throughout: no other call can be using the program's own scratch
        scratch[0] = p.scratch
        _fused_chunk(&job, 0, 1)
    else:
        # the GIL is released: another thread may run this program meanwhile, so each call
        # has its own scratch, allocated before any buffer is written (a failed allocation
        # leaves every .grad as it was)
        nthreads = min(threads_for(p.numel), FUSED_MAX_THREADS)
        for t in range(nthreads):
            scratch[t] = <char*>malloc(<size_t>p.nregs * CG_FUSED_BLOCK * 8)
            if scratch[t] == NULL:
                for i in range(t):
                    free(scratch[i])
                raise MemoryError()
        try:
            with nogil:
                run_chunks(_fused_chunk, &job, nthreads)
        finally:
            for t in range(nthreads):
                free(scratch[t])
    for j in range(nleaves):
        index, accumulate = p.leaves[j]
        if not accumulate:
            (<Tensor>tensors[index])._grad = <Tensor>grads[j]
    return results
