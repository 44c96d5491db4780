# Common layer: C imports, dtypes, the thread-local grad mode, the error
# helpers that give PyTorch's exception types and texts, and small shape
# utilities shared by every op.

cimport cython
cimport numpy as cnp
from cpython.ref cimport PyObject, PyTypeObject, Py_INCREF, Py_DECREF, Py_XDECREF
from cpython.weakref cimport PyWeakref_NewRef, PyWeakref_GetObject
from libc.stdint cimport INT64_MAX, int64_t, uint8_t, int8_t, int16_t, int32_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport malloc, calloc, free, realloc
from libc.string cimport memcpy, memset
from libc cimport math as cmath

import numpy as np
import operator as _operator

cnp.import_array()

cdef extern from "Python.h":
    Py_ssize_t Py_REFCNT(object o)
    # Py_REFCNT of an attribute through a PyObject*: Cython would hold a
    # reference of its own to an attribute while counting them
    Py_ssize_t object_refcount "Py_REFCNT"(PyObject* o) noexcept nogil
    void PyObject_GC_UnTrack(void* o)
    void PyObject_GC_Track(void* o)
    int PyObject_GC_IsTracked(object o)

# ---------------------------------------------------------------------------
# Grad mode. PyTorch keeps it per thread; so do we, in C thread-local storage,
# so that every op can test it for the price of a load.
cdef extern from *:
    """
    #if defined(_MSC_VER)
    #  define CGRAD_TLS __declspec(thread)
    #else
    #  define CGRAD_TLS __thread
    #endif
    static CGRAD_TLS int cgrad_grad_enabled = 1;
    static CGRAD_TLS int cgrad_inference_mode = 0;
    static CGRAD_TLS int cgrad_anomaly_mode = 0;
    static CGRAD_TLS int cgrad_anomaly_check_nan = 1;
    /* How many threads have each rarely-used flag on. A thread-local read in
       a shared library is a call (__tls_get_addr), so the per-op tests read
       these plain counters first and the thread's flag only when some thread
       has it on. Flags change with the GIL held, through cg_set_flag. */
    static int cgrad_inference_threads = 0;
    static int cgrad_anomaly_threads = 0;
    static inline void cg_set_flag(int *flag, int value, int *threads) {
        value = value != 0;
        if (*flag != value) *threads += value ? 1 : -1;
        *flag = value;
    }
    #define CGRAD_INFERENCE_ON() (cgrad_inference_threads && cgrad_inference_mode)
    #define CGRAD_ANOMALY_ON() (cgrad_anomaly_threads && cgrad_anomaly_mode)
    """
    int cgrad_grad_enabled
    int cgrad_inference_mode
    int cgrad_anomaly_mode
    int cgrad_anomaly_check_nan
    int cgrad_inference_threads
    int cgrad_anomaly_threads
    void cg_set_flag(int* flag, int value, int* threads) noexcept
    bint CGRAD_INFERENCE_ON() noexcept
    bint CGRAD_ANOMALY_ON() noexcept


cdef bint grad_mode_enabled() noexcept nogil:
    """Grad mode for cgrad's other extension modules: each .so would have
    its own copy of the thread-local above, so they read it through here."""
    return cgrad_grad_enabled


def is_grad_enabled():
    return bool(cgrad_grad_enabled)


# Whether a forward-mode AD level is active (ops/forward_ad.pxi sets
# it): every op that might carry a tangent reads it, so it sits here with
# grad mode, below the ops, nodes and kernels that read it.
cdef bint cgrad_fwd_active = False


def _set_grad_enabled(bint mode):
    global cgrad_grad_enabled
    cgrad_grad_enabled = mode


def is_inference_mode_enabled():
    return bool(cgrad_inference_mode)


def _set_inference_mode(bint mode):
    cg_set_flag(&cgrad_inference_mode, mode, &cgrad_inference_threads)


def is_anomaly_enabled():
    return bool(cgrad_anomaly_mode)


def _set_anomaly_enabled(bint mode, bint check_nan=True):
    global cgrad_anomaly_check_nan
    cg_set_flag(&cgrad_anomaly_mode, mode, &cgrad_anomaly_threads)
    cgrad_anomaly_check_nan = check_nan


def is_anomaly_check_nan_enabled():
    return bool(cgrad_anomaly_check_nan)


# ---------------------------------------------------------------------------
# dtypes. The integer codes index the tables below; kernels switch on them.
# The first four codes are cgrad's original dtypes and stay as they are; the
# others come after them.
# (the codes F32 ... U8 and NUM_DTYPES are declared in _C.pxd)

from cgrad.half cimport *

cg_half_init()      # picks the hardware float16 conversions when the CPU has them

cdef int ITEMSIZE[NUM_DTYPES]
ITEMSIZE[:] = [4, 8, 8, 1, 2, 1, 2, 4, 1, 2]

# PyTorch's promotion categories: bool < integral < floating.
cdef enum:
    CAT_BOOL = 0
    CAT_INT = 1
    CAT_FLOAT = 2

cdef int CATEGORY[NUM_DTYPES]
CATEGORY[:] = [CAT_FLOAT, CAT_FLOAT, CAT_INT, CAT_BOOL, CAT_FLOAT, CAT_INT, CAT_INT, CAT_INT, CAT_INT, CAT_FLOAT]

cdef int NPY_TYPE[NUM_DTYPES]
NPY_TYPE[:] = [cnp.NPY_FLOAT32, cnp.NPY_FLOAT64, cnp.NPY_INT64, cnp.NPY_BOOL, cnp.NPY_FLOAT16,
               cnp.NPY_INT8, cnp.NPY_INT16, cnp.NPY_INT32, cnp.NPY_UINT8,
               cnp.NPY_UINT16]    # bfloat16: numpy has none; its bits (ndarray_view refuses it)

# PyTorch's promotion table (c10::promoteTypes) over our dtypes, in code
# order: the higher category wins, then the wider type; uint8 with int8
# gives int16 (the smallest type holding both), float16 with bfloat16
# float32 (neither holds the other).
cdef int PROMOTE[NUM_DTYPES][NUM_DTYPES]


cdef void _init_promote_table() noexcept:
    cdef int a, b
    for a in range(NUM_DTYPES):
        for b in range(NUM_DTYPES):
            if a == b:
                PROMOTE[a][b] = a
            elif CATEGORY[a] != CATEGORY[b]:
                PROMOTE[a][b] = a if CATEGORY[a] > CATEGORY[b] else b
            elif (a == U8 and b == I8) or (a == I8 and b == U8):
                PROMOTE[a][b] = I16
            elif (a == F16 and b == BF16) or (a == BF16 and b == F16):
                PROMOTE[a][b] = F32
            else:
                PROMOTE[a][b] = a if ITEMSIZE[a] >= ITEMSIZE[b] else b


_init_promote_table()


cdef class dtype:
    """A tensor element type: cgrad.float32, float64, float16, bfloat16,
    int64, int32, int16, int8, uint8, bool."""
    cdef readonly int _code
    cdef readonly str _name
    cdef readonly str _legacy  # the legacy type name PyTorch shows in some errors

    @property
    def itemsize(self):
        return ITEMSIZE[self._code]

    @property
    def is_floating_point(self):
        return CATEGORY[self._code] == CAT_FLOAT

    @property
    def is_complex(self):
        return False

    @property
    def is_signed(self):
        return self._code != BOOL and self._code != U8

    def to_real(self):
        return self

    def to_complex(self):
        raise RuntimeError("cgrad has no complex dtypes")

    def __repr__(self):
        return "cgrad." + self._name

    def __reduce__(self):
        return (_dtype_from_name, (self._name,))


cdef dtype _make_dtype(int code, str name, str legacy):
    cdef dtype d = dtype.__new__(dtype)
    d._code = code
    d._name = name
    d._legacy = legacy
    return d


cdef list DTYPES = [
    _make_dtype(F32, "float32", "FloatTensor"),
    _make_dtype(F64, "float64", "DoubleTensor"),
    _make_dtype(I64, "int64", "LongTensor"),
    _make_dtype(BOOL, "bool", "BoolTensor"),
    _make_dtype(F16, "float16", "HalfTensor"),
    _make_dtype(I8, "int8", "CharTensor"),
    _make_dtype(I16, "int16", "ShortTensor"),
    _make_dtype(I32, "int32", "IntTensor"),
    _make_dtype(U8, "uint8", "ByteTensor"),
    _make_dtype(BF16, "bfloat16", "BFloat16Tensor"),
]

float32 = DTYPES[F32]
float64 = DTYPES[F64]
int64 = DTYPES[I64]
bool_ = DTYPES[BOOL]
float16 = DTYPES[F16]
int8 = DTYPES[I8]
int16 = DTYPES[I16]
int32 = DTYPES[I32]
uint8 = DTYPES[U8]
bfloat16 = DTYPES[BF16]

cdef str legacy_type_name(int code):
    return (<dtype>DTYPES[code])._legacy


# PyTorch's names of the element types in its messages: ScalarType names
# ("Float"), C++ type names as <<'d ("float"), and as C type names ("int64_t").
cdef tuple DTYPE_TITLES = ("Float", "Double", "Long", "Bool", "Half", "Char", "Short", "Int", "Byte",
                           "BFloat16")
cdef tuple CPP_TYPE_NAMES = ("float", "double", "long int", "bool", "c10::Half", "signed char",
                             "short int", "int", "unsigned char", "c10::BFloat16")
cdef tuple C_SCALAR_NAMES = ("float", "double", "int64_t", "bool", "c10::Half", "int8_t", "int16_t",
                             "int", "uint8_t", "c10::BFloat16")


cdef str dtype_title(int dt):
    return DTYPE_TITLES[dt]


cdef dict _DTYPE_BY_NAME = {d._name: d for d in DTYPES}


def _dtype_from_name(name):
    return _DTYPE_BY_NAME[name]


cdef int DEFAULT_FLOAT = F32

# An enabled CPU autocast region (cgrad.amp.autocast_mode sets it): the
# dtype code (bfloat16 or float16) the matmul family casts its float32
# operands to, -1 outside one. Process-wide, as cgrad's autocast state is.
cdef int autocast_cpu_dtype = -1


def _set_autocast_cpu_dtype(d):
    """The lower-precision dtype of an enabled CPU autocast, or None."""
    global autocast_cpu_dtype
    autocast_cpu_dtype = -1 if d is None else dtype_code(d)

# The one "argument not given" marker of every signature whose default
# cannot be None (None is a value there, or PyTorch tells the two apart).
cdef object NO_ARG = object()


cdef int dtype_code(object d) except -1:
    """The code of a user-given dtype: a cgrad dtype, a numpy dtype or type,
    or a Python type (float, int, bool)."""
    if isinstance(d, dtype):
        return (<dtype>d)._code
    if d is float:
        return F64  # PyTorch maps Python's float to float64
    if d is int:
        return I64
    if d is bool:
        return BOOL
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"dtype must be a cgrad.dtype, not {type(d).__name__}")
    return dtype_from_numpy(nd)


cdef int dtype_from_numpy(object nd) except -1:
    """The dtype of a numpy dtype (either byte order), as torch.from_numpy
    maps them; numpy dtypes cgrad has no dtype for are a TypeError."""
    kind = nd.kind
    size = nd.itemsize
    if kind == "f":
        if size == 4:
            return F32
        if size == 8:
            return F64
        if size == 2:
            return F16
    elif kind == "i":
        if size == 8:
            return I64
        if size == 4:
            return I32
        if size == 2:
            return I16
        if size == 1:
            return I8
    elif kind == "u":
        if size == 1:
            return U8
    elif kind == "b":
        return BOOL
    raise TypeError(
        f"can't convert np.ndarray of type numpy.{nd.type.__name__}. The only supported types are: "
        "float64, float32, float16, int64, int32, int16, int8, uint8, and bool.")


cdef inline bint is_float(int code) noexcept nogil:
    return CATEGORY[code] == CAT_FLOAT


cdef inline bint is_half16(int code) noexcept nogil:
    """float16 or bfloat16: stored in 16 bits, computed in float32."""
    return code == F16 or code == BF16


cdef inline bint is_int(int code) noexcept nogil:
    """An integral dtype other than bool."""
    return CATEGORY[code] == CAT_INT


cdef inline int promote_types(int a, int b) noexcept nogil:
    """The result dtype of two tensors of the same standing (PyTorch's table)."""
    return PROMOTE[a][b]


# ---------------------------------------------------------------------------
# Errors with PyTorch's types and texts.

cdef str shape_str(const Py_ssize_t* shape, int ndim):
    return "[" + ", ".join([str(shape[i]) for i in range(ndim)]) + "]"


cdef inline int wrap_dim(Py_ssize_t dim, int ndim) except -100:
    """Normalise a possibly negative dim, raising PyTorch's IndexError."""
    cdef int n = ndim if ndim > 0 else 1
    if dim < -n or dim >= n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    if dim < 0:
        dim += n
    return <int>dim


cdef Py_ssize_t as_index(object v, str what) except? -1:
    """An integer argument (int, numpy integer, 0-d int tensor); bools and
    floats are rejected as PyTorch rejects them."""
    cdef Py_ssize_t r
    if isinstance(v, bool) or isinstance(v, float):
        raise TypeError(f"{what} must be int, not {type(v).__name__}")
    try:
        r = _operator.index(v)
    except TypeError:
        raise TypeError(f"{what} must be int, not {type(v).__name__}") from None
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None     # PyTorch's unpacking
    return r


cdef tuple parse_shape_args(tuple args, str what="size"):
    """Accept f(2, 3), f((2, 3)), f([2, 3]) and f(cgrad.Size([2, 3]))."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)) and hasattr(args[0], "__len__"):
        args = tuple(args[0])
    cdef list out = []
    for a in args:
        out.append(as_index(a, what))
    return tuple(out)


# ---------------------------------------------------------------------------
# Publishing functions named like Python builtins (sum, abs, pow, max, ...).
# A module-level `def sum` would make every `sum(...)` in the compiled code of
# _C call it instead of the builtin; defined under another name and put into
# the module's namespace at import time, compiled code keeps the builtin.

cdef dict _MODULE_NAMESPACE = globals()


cdef void export_as(str name, object fn) except *:
    fn.__name__ = name
    fn.__qualname__ = name
    _MODULE_NAMESPACE[name] = fn


# ---------------------------------------------------------------------------
# Sequence numbers order the nodes of every graph by creation; a node's inputs
# always come before it, so running the newest ready node first is a
# topological order. One counter for all threads keeps that true for graphs
# that span threads.
cdef long long _next_seq = 0

cdef inline long long next_seq() noexcept:
    global _next_seq
    _next_seq += 1
    return _next_seq


# ---------------------------------------------------------------------------
# Reused object memory for the objects every op makes and every backward
# frees (nodes, tensors): pymalloc plus the collector's bookkeeping (a fresh
# GC object counts towards the next generation-0 collection) cost more than
# the object's own work. A class given these as tp_alloc / tp_free keeps its
# freed blocks in a list per basic size (Cython's @cython.freelist does this
# for one exact class; these lists serve a class's static subclasses too).
# Heap types (Python subclasses) get CPython's allocator from type() and
# never reach these lists. A block is handed out as PyType_GenericAlloc
# would: zeroed, with one reference, and tracked by the cyclic GC unless the
# class is born untracked (cg_alloc_untracked) or the caller asked for that
# allocation to be (cg_alloc_next_untracked: taken by the next allocation).
cdef extern from *:
    """
    #define CG_SIZE_CLASSES 64          /* basic sizes up to 512 bytes, in steps of 8 */
    #define CG_FREE_MAX 1024            /* blocks kept per size */
    static PyObject *cg_free_head[CG_SIZE_CLASSES];
    static int cg_free_count[CG_SIZE_CLASSES];
    static int cg_alloc_next_untracked = 0;

    static PyObject *cg_alloc_impl(PyTypeObject *t, Py_ssize_t nitems, int untracked) {
        size_t size = (size_t)t->tp_basicsize, k = size >> 3;
        PyObject *o;
        if (nitems != 0 || (size & 7) != 0 || k >= CG_SIZE_CLASSES || cg_free_count[k] == 0
                || !PyType_IS_GC(t) || (t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            o = PyType_GenericAlloc(t, nitems);
            if (o != NULL && untracked && PyType_IS_GC(t)) PyObject_GC_UnTrack(o);
            return o;
        }
        o = cg_free_head[k];
        cg_free_head[k] = *(PyObject **)o;      /* the link lives where ob_refcnt will */
        cg_free_count[k]--;
        memset((void *)o, 0, size);
        PyObject_Init(o, t);
        if (!untracked) PyObject_GC_Track(o);
        return o;
    }

    static PyObject *cg_alloc(PyTypeObject *t, Py_ssize_t nitems) {
        int untracked = cg_alloc_next_untracked;
        cg_alloc_next_untracked = 0;
        return cg_alloc_impl(t, nitems, untracked);
    }

    static PyObject *cg_alloc_untracked(PyTypeObject *t, Py_ssize_t nitems) {
        cg_alloc_next_untracked = 0;
        return cg_alloc_impl(t, nitems, 1);
    }

    /* tp_free of GC classes using cg_alloc / cg_alloc_untracked */
    static void cg_free(void *p) {
        PyObject *o = (PyObject *)p;
        PyTypeObject *t = Py_TYPE(o);
        size_t size = (size_t)t->tp_basicsize, k = size >> 3;
        if ((size & 7) == 0 && k < CG_SIZE_CLASSES && cg_free_count[k] < CG_FREE_MAX
                && PyType_IS_GC(t) && !(t->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            *(PyObject **)o = cg_free_head[k];
            cg_free_head[k] = o;
            cg_free_count[k]++;
            return;
        }
        PyObject_GC_Del(p);
    }

    static void cg_use_free_lists(PyTypeObject *t, int born_untracked) {
        t->tp_alloc = born_untracked ? cg_alloc_untracked : cg_alloc;
        t->tp_free = cg_free;
    }
    """
    int cg_alloc_next_untracked
    void cg_use_free_lists(PyTypeObject* t, int born_untracked) noexcept
