# cython: language_level=3
"""The ops of cgrad's op table: its own extension module, so that editing a
row re-renders, re-cythonizes and recompiles this module alone.

Holds: the rendered rows of src/codegen/table_unary.py and table_binary.py
(src/_generated/ops_unary_table.pxi, ops_binary_table.pxi: row kernels per
dtype, node classes, op_<name> and its in-place form, the Python bindings)
and the scalar special functions only they use (special_math.pxi,
special_erfcx.pxi).

Uses: the core, cgrad._C, through _C.pxd (tensors, nodes, the elementwise
driver, the differentiable ops the rows' backward formulas are written
with, the out= and in-place machinery of table_support.pxi), each call an
exported C function pointer; and the inline scalar math of kernels_math.pxd.

At import it puts its Tensor methods into Tensor's type (install_tensor_methods),
its nn.functional entries into _C._FUNCTIONAL, and its public names (functions
and grad_fn classes) into cgrad._C, where cgrad/__init__.py and the rest of
the package find them: _C imports this module at the end of its own import.
"""

from libc cimport math as cmath
from libc.stdint cimport int64_t, uint8_t, int8_t, int16_t, int32_t, uint16_t
from cpython.ref cimport Py_INCREF

from cgrad._C cimport *
from cgrad.half cimport *
from cgrad.kernels_math cimport *
from cgrad.kernels_math_extra cimport *

from cgrad import _C
from cgrad._C import _FUNCTIONAL

# Grad mode is a C thread-local of _C (common.pxi): a copy of that variable
# here would be another one, so the rows' `cgrad_grad_enabled` reads _C's
# through the function pointer Cython imports for grad_mode_enabled (the
# macro spells its C name; naming the function below makes Cython import it).
cdef extern from *:
    """
    #define CG_CORE_GRAD_MODE() (__pyx_f_5cgrad_2_C_grad_mode_enabled())
    """
    int cgrad_grad_enabled "CG_CORE_GRAD_MODE()"

cdef bint (*_imports_grad_mode)() noexcept nogil
_imports_grad_mode = grad_mode_enabled

cg_half_init()

include "kernels/special_math.pxi"
include "kernels/special_erfcx.pxi"
include "kernels/special_ndtr.pxi"
include "kernels/special_bf16.pxi"
include "ops_unary_table.pxi"
include "ops_binary_table.pxi"


cdef extern from *:
    """
    static int cg_move_type_to_module(PyObject* t, PyObject* full_name, PyObject* module) {
        PyTypeObject* tp = (PyTypeObject*)t;
        tp->tp_name = PyBytes_AS_STRING(full_name);     /* the caller keeps full_name alive */
        if (PyDict_GetItemString(tp->tp_dict, "__module__") != NULL &&
                PyDict_SetItemString(tp->tp_dict, "__module__", module) < 0)
            return -1;
        PyType_Modified(tp);
        return 0;
    }
    """
    int cg_move_type_to_module(object t, bytes full_name, object module) except -1


cdef void publish_in_core(dict names) except *:
    """Everything the rows define at Python level (functions, node classes,
    _OP_TABLE, ...) becomes a name of cgrad._C, their public home (as when
    they were one module): cgrad/__init__.py, pickling, repr and the type
    stubs find them there. Which .so compiled them is the build's business."""
    cdef bytes full
    for name, value in names.items():
        if isinstance(value, type) and value.__module__ == __name__:
            full = b"cgrad._C." + (<str>value.__name__).encode()
            Py_INCREF(full)       # tp_name points into it for the type's lifetime
            cg_move_type_to_module(value, full, "cgrad._C")
        elif callable(value) and getattr(value, "__module__", None) == __name__:
            value.__module__ = "cgrad._C"
    _C.__dict__.update(names)


publish_in_core({name: value for name, value in globals().items()
                 if not name.startswith("__") and name not in ("_C", "_FUNCTIONAL")})
