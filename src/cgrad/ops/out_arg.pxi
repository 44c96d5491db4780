# The out= argument, as PyTorch's structured kernels treat it: the result
# is computed as usual, then written into `out`, which is returned. Before
# that, `out` is checked the way PyTorch checks it: a Tensor, no autograd
# through it, a dtype the result can be cast to, and resized (with PyTorch's
# deprecation warning when it had elements) to the result's shape.
#
# Ops call check_out() before computing (so a refused out= leaves no
# partial work behind) and write_out() after.

import warnings

cdef str OUT_RESIZE_WARNING = (
    "An output with one or more elements was resized since it had shape {}, which does not match "
    "the required output shape {}. This behavior is deprecated, and in a future PyTorch release "
    "outputs will not be resized unless they have zero elements. You can explicitly reuse an out "
    "tensor t by resizing it, inplace, to zero elements with t.resize_(0).")


cdef int check_out(object out, str fname, object a, object b=None) except -1:
    """PyTorch's checks of out= made before the op runs."""
    cdef Tensor o
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {py_typename(out)}")
    o = <Tensor>out
    if cgrad_grad_enabled and (o._requires_grad
                               or (isinstance(a, Tensor) and (<Tensor>a)._requires_grad)
                               or (isinstance(b, Tensor) and (<Tensor>b)._requires_grad)):
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if o._is_inference and not cgrad_inference_mode:
        raise RuntimeError("Inplace update to inference tensor outside InferenceMode is not allowed."
                           "You can make a clone to get a normal tensor before doing inplace update."
                           "See https://github.com/pytorch/rfcs/pull/17 for more details.")
    return 0


cdef bint can_cast_code(int src, int dst) noexcept:
    """PyTorch's canCast: no float to integral, no non-bool to bool."""
    if CATEGORY[src] > CATEGORY[dst]:
        return False
    return True


cdef int resize_out(Tensor out, int ndim, const Py_ssize_t* shape) except -1:
    """out.resize_(shape): keeps its storage when it is large enough."""
    cdef Py_ssize_t numel
    cdef Py_ssize_t nbytes = storage_nbytes(ndim, shape, out._dtype, &numel)
    cdef int i
    if out._shape != out._dims:
        free(out._shape)
        out._shape = out._dims
    init_dims(out, ndim)
    for i in range(ndim):
        out._shape[i] = shape[i]
    out._numel = numel
    set_contiguous_strides(out)
    if out._offset * ITEMSIZE[out._dtype] + nbytes > out._storage.nbytes:
        if out._storage.owner is not None:
            raise RuntimeError("Trying to resize storage that is not resizable")
        out._storage = new_storage(nbytes, False)
        out._offset = 0
    out._data = out._storage.ptr + out._offset * ITEMSIZE[out._dtype]
    return 0


cdef Tensor write_out(Tensor result, object out, bint warn_resize=True):
    """Write `result` into the checked `out` and return out. Factories pass
    warn_resize=False: PyTorch's resize them silently (resize_)."""
    cdef Tensor o = <Tensor>out
    if not can_cast_code(result._dtype, o._dtype):
        raise RuntimeError(f"result type {dtype_title(result._dtype)} can't be cast to the desired "
                           f"output type {dtype_title(o._dtype)}")
    if not same_shape(o, result):
        if warn_resize and o._numel != 0:
            warnings.warn(OUT_RESIZE_WARNING.format(list(shape_tuple(o)), list(shape_tuple(result))),
                          UserWarning, stacklevel=2)
        resize_out(o, result._ndim, result._shape)
    check_written_overlap(o)
    copy_into(o, result if result._dtype == o._dtype else cast_tensor(result, o._dtype))
    o._storage.version += 1
    return o


cdef object with_out(object result, object out, str fname):
    """The tail of a function taking out=: result itself without out; else
    out checked (autograd through out=: the result requires grad exactly
    when an input does) and written."""
    cdef Tensor o
    if out is None:
        return result
    if isinstance(result, tuple):
        return with_out_tuple(<tuple>result, out, fname)
    if not isinstance(result, Tensor):
        raise TypeError(f"{fname}(): out= is not supported with these arguments")
    if not isinstance(out, Tensor):
        raise TypeError(f"{fname}(): argument 'out' must be Tensor, not {py_typename(out)}")
    o = <Tensor>out
    if cgrad_grad_enabled and (o._requires_grad or (<Tensor>result)._requires_grad):
        raise RuntimeError(f"{fname}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    return write_out(<Tensor>result, out)


cdef object with_out_tuple(tuple result, object out, str fname):
    """out= of an op with several results (max(dim) -> values, indices):
    out is a tuple of as many tensors, each written as with_out writes one,
    and the result is the same named tuple of them."""
    cdef Py_ssize_t k
    if not isinstance(out, (tuple, list)):
        raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors, not {py_typename(out)}")
    if len(out) != len(result):
        raise TypeError(f"expected tuple of {len(result)} elements but got {len(out)}")
    for k in range(len(out)):
        if not isinstance(out[k], Tensor):
            raise TypeError(f"{fname}(): argument 'out' must be tuple of Tensors, not {py_typename(out[k])}")
    written = tuple([with_out(result[k], out[k], fname) for k in range(len(out))])
    return type(result)(written) if type(result) is not tuple else written


# Ops whose out= must already hold the result's dtype: PyTorch checks it
# before its kernel runs (instead of casting into out), each op family with
# its own words. style: "resize" (resize_output's check: max/min/sort/topk
# with a dim, argmax, norm, aminmax), "same_as_input" (amax, amin),
# "median", "mode", "kthvalue", "scan" (cummax, cummin, logcumsumexp).

cdef str strict_out_message(str style, int expected, int got, bint indices):
    if style == "resize":
        return f"Expected out tensor to have dtype {CPP_TYPE_NAMES[expected]}, but got {CPP_TYPE_NAMES[got]} instead"
    if style == "same_as_input":
        return (f"Expected the dtype for input and out to match, but got {DTYPE_TITLES[expected]} for input's "
                f"dtype and {DTYPE_TITLES[got]} for out's dtype.")
    if style == "median":
        if indices:
            return (f"Expected tensor for argument #1 'indices' to have scalar type Long; but got "
                    f"cgrad.{legacy_type_name(got)} instead (while checking arguments for median)")
        return (f"Expected tensor for 'values' to have the same type as tensor for argument #2 'self'; but type "
                f"cgrad.{legacy_type_name(got)} does not equal cgrad.{legacy_type_name(expected)} "
                "(while checking arguments for median)")
    if style == "mode":
        return (f"expected scalar type '{DTYPE_TITLES[expected]}' but got '{DTYPE_TITLES[got]}' for "
                f"{'indices' if indices else 'values'} output")
    if style == "kthvalue":
        return "output indices must be of scalar type Long" if indices else "output values must be of same type as input"
    return f"expected scalar_type {DTYPE_TITLES[expected]} but found {DTYPE_TITLES[got]}"


cdef int check_strict_out(object result, object out, str style) except -1:
    """PyTorch's error when out (a tensor, or a tuple for values and
    indices) has another dtype than the result's; other misuse of out is
    left to with_out's checks."""
    cdef Py_ssize_t k
    if out is None:
        return 0
    if isinstance(result, Tensor):
        if isinstance(out, Tensor) and (<Tensor>out)._dtype != (<Tensor>result)._dtype:
            raise RuntimeError(strict_out_message(style, (<Tensor>result)._dtype, (<Tensor>out)._dtype, False))
        return 0
    if isinstance(result, tuple) and isinstance(out, (tuple, list)) and len(out) == len(result):
        for k in (range(len(result) - 1, -1, -1) if style == "median" else range(len(result))):  # median: indices first
            if (isinstance(out[k], Tensor) and isinstance(result[k], Tensor)
                    and (<Tensor>out[k])._dtype != (<Tensor>result[k])._dtype):
                raise RuntimeError(strict_out_message(style, (<Tensor>result[k])._dtype, (<Tensor>out[k])._dtype,
                                                      k == 1))
    return 0


def _check_strict_out(result, out, str style):
    """check_strict_out for the Python ops (cgrad/_ops_sort.py, ...)."""
    check_strict_out(result, out, style)
