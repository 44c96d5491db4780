# The shape ops' support: PyTorch's TypeErrors for bad Python arguments
# of the shape methods and functions (int, int-list and size parsing), and
# the stride arithmetic and copies the views and reshapes rest on (size
# inference, view strides, dense-stride inference, layout-preserving copies,
# strided tensors). Included just before ops_shape.pxi.


from libc.stdint cimport uint32_t


# ---------------------------------------------------------------------------
# Argument parsing (PyTorch's python_arg_parser texts)


cdef bint is_int_like(object v, bint strict):
    """An integer argument: int, numpy integer or 0-d int64 tensor. bool
    passes only where PyTorch lets it (not as the first element of a size)."""
    if isinstance(v, bool):
        return not strict
    if isinstance(v, (int, np.integer)):
        return True
    if isinstance(v, Tensor):
        return (<Tensor>v)._ndim == 0 and (<Tensor>v)._dtype == I64
    return False


cdef Py_ssize_t int_arg(object v, str fname, str argname, int pos) except? -1:
    """An `int` parameter; pos is its 1-based position for the message."""
    if not is_int_like(v, True):
        raise TypeError(f"{fname}(): argument '{argname}' (position {pos}) must be int, not {py_typename(v)}")
    return _operator.index(v)


cdef tuple int_list_value(object v, str fname, str argname, int pos):
    """A `tuple of ints` parameter given as one object (a tuple, list or Size)."""
    cdef list out
    cdef Py_ssize_t i
    if not isinstance(v, (tuple, list)):
        raise TypeError(
            f"{fname}(): argument '{argname}' (position {pos}) must be tuple of ints, not {py_typename(v)}")
    out = []
    for i in range(len(v)):
        e = v[i]
        if not is_int_like(e, i == 0):
            if i == 0:
                raise TypeError(
                    f"{fname}(): argument '{argname}' (position {pos}) must be tuple of ints, but found "
                    f"element of type {type(e).__name__} at pos 0")
            raise TypeError(
                f"{fname}(): argument '{argname}' failed to unpack the object at pos {i + 1} with error "
                f"\"type must be tuple of ints,but got {py_typename(e)}\"")
        out.append(_operator.index(e))
    return tuple(out)


cdef tuple int_list_varargs(tuple args, str fname, str argname):
    """A `tuple of ints` parameter of a method that also takes it spread out:
    x.reshape(2, 3), x.reshape((2, 3)), x.reshape([2, 3]), x.reshape(Size)."""
    if len(args) == 0:
        raise TypeError(f'{fname}() missing 1 required positional arguments: "{argname}"')
    if len(args) == 1:
        if is_int_like(args[0], True):
            return (_operator.index(args[0]),)
        return int_list_value(args[0], fname, argname, 1)
    if not is_int_like(args[0], True):
        raise TypeError(f"{fname}() takes 1 positional argument but {len(args)} were given")
    return int_list_value(args, fname, argname, 1)


cdef str arg_types(tuple args):
    return ", ".join([type(a).__name__ for a in args])


cdef tuple view_size_args(tuple args):
    """Tensor.view's size argument, with the messages of its two overloads."""
    cdef str head, types
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        try:
            return int_list_value(args[0], "view", "size", 1)
        except TypeError as e:
            if "failed to unpack" in str(e):
                raise
            if isinstance(args[0], list):
                types = "list of [" + arg_types(tuple(args[0])) + "]"
            else:
                types = "tuple of (" + arg_types(tuple(args[0])) + ")"
            raise TypeError(
                f"view() received an invalid combination of arguments - got ({type(args[0]).__name__}), but "
                "expected one of:\n"
                f" * (cgrad.dtype dtype)\n      didn't match because some of the arguments have invalid types: (!{types}!)\n"
                f" * (tuple of ints size)\n      didn't match because some of the arguments have invalid types: (!{types}!)\n") from None
    if len(args) >= 1 and is_int_like(args[0], True):
        return int_list_value(args, "view", "size", 1)
    head = f"view() received an invalid combination of arguments - got ({arg_types(args)}), but expected one of:\n"
    if len(args) == 1:
        types = type(args[0]).__name__
        raise TypeError(
            head + f" * (cgrad.dtype dtype)\n      didn't match because some of the arguments have invalid types: (!{types}!)\n"
            f" * (tuple of ints size)\n      didn't match because some of the arguments have invalid types: (!{types}!)\n")
    raise TypeError(head + " * (cgrad.dtype dtype)\n * (tuple of ints size)\n")


cdef object squeeze_dim_args(tuple args, dict kwargs, bint function):
    """squeeze()'s overloads: () -> None, (int dim) -> int, (tuple of ints
    dim) or squeeze(0, 1) -> tuple. `function`: torch.squeeze(input, ...)."""
    cdef object v
    if kwargs:
        if "axis" in kwargs and "dim" not in kwargs:      # numpy's spelling, as PyTorch's parser takes it
            kwargs = {("dim" if key == "axis" else key): val for key, val in kwargs.items()}
        if set(kwargs) != {"dim"} or args:
            raise TypeError(f"squeeze() got an unexpected keyword argument '{next(iter(kwargs))}'"
                            if set(kwargs) != {"dim"} else "squeeze() got multiple values for argument 'dim'")
        args = (kwargs["dim"],)
    if len(args) == 0:
        return None
    if len(args) > 1:
        return int_list_value(args, "squeeze", "dim", 1)
    v = args[0]
    if is_int_like(v, True):
        return _operator.index(v)
    if isinstance(v, (tuple, list)):
        return int_list_value(v, "squeeze", "dim", 2 if function else 1)
    if function:
        t = type(v).__name__
        raise TypeError(
            f"squeeze() received an invalid combination of arguments - got (Tensor, {t}), but expected one of:\n"
            " * (Tensor input)\n"
            f" * (Tensor input, int dim)\n      didn't match because some of the arguments have invalid types: (Tensor, !{t}!)\n"
            f" * (Tensor input, tuple of ints dim)\n      didn't match because some of the arguments have invalid types: (Tensor, !{t}!)\n")
    t = type(v).__name__
    raise TypeError(
        f"squeeze() received an invalid combination of arguments - got ({t}), but expected one of:\n"
        f" * ()\n      didn't match because some of the arguments have invalid types: (!{t}!)\n"
        f" * (int dim)\n      didn't match because some of the arguments have invalid types: (!{t}!)\n"
        f" * (tuple of ints dim)\n      didn't match because some of the arguments have invalid types: (!{t}!)\n")


# ---------------------------------------------------------------------------
# Geometry helpers


cdef tuple infer_size(object shape_arg, Py_ssize_t numel):
    """Resolve a requested shape with at most one -1 against numel
    (PyTorch's infer_size)."""
    cdef list shape = [as_index(s, "size") for s in shape_arg]
    cdef Py_ssize_t known = 1
    cdef int infer_at = -1
    cdef int i
    for i in range(len(shape)):
        if shape[i] == -1:
            if infer_at >= 0:
                raise RuntimeError("only one dimension can be inferred")
            infer_at = i
        elif shape[i] >= 0:
            # wraps as PyTorch's int64 product does; the view's numel check then raises
            known = <Py_ssize_t>(<unsigned long long>known * <unsigned long long>(<Py_ssize_t>shape[i]))
        else:
            raise RuntimeError(f"invalid shape dimension {shape[i]} at index {i} of shape {list_str(shape)}")
    if numel == known or (infer_at >= 0 and known > 0 and numel % known == 0):
        if infer_at >= 0:
            if known == 0:
                raise RuntimeError(
                    f"cannot reshape tensor of 0 elements into shape {list_str(shape)} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous")
            shape[infer_at] = numel // known
        return tuple(shape)
    raise RuntimeError(f"shape '{list_str(shape)}' is invalid for input of size {numel}")


cdef str list_str(list xs):
    return "[" + ", ".join([str(x) for x in xs]) + "]"


cdef bint view_strides(Tensor x, int nd, const Py_ssize_t* shape, Py_ssize_t* out) noexcept:
    """Strides that let `shape` view x's memory, if any (PyTorch's
    computeStride): dims of x that are contiguous with each other form
    chunks, and each chunk must be split/merged independently."""
    cdef int view_d = nd - 1
    cdef int tensor_d, d
    cdef Py_ssize_t chunk_base_stride, tensor_numel = 1, view_numel = 1, st
    if x._ndim == 0:
        for d in range(nd):
            out[d] = 1
        return True
    if x._numel == 0:
        if shape_equals(x, nd, shape):
            for d in range(nd):
                out[d] = x._strides[d]
            return True
        st = 1
        for d in range(nd - 1, -1, -1):
            out[d] = st
            st *= shape[d] if shape[d] > 0 else 1
        return True
    chunk_base_stride = x._strides[x._ndim - 1]
    for tensor_d in range(x._ndim - 1, -1, -1):
        tensor_numel *= x._shape[tensor_d]
        if tensor_d == 0 or (x._shape[tensor_d - 1] != 1 and
                             x._strides[tensor_d - 1] != tensor_numel * chunk_base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                out[view_d] = view_numel * chunk_base_stride
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = x._strides[tensor_d - 1]
                tensor_numel = 1
                view_numel = 1
    return view_d == -1


# A copy between layouts whose fastest dims differ (a transpose) walks one
# side with a large stride; copying in square tiles keeps both sides in
# cache (PyTorch does the same), several times faster on large tensors.

cdef enum:
    COPY_TILE = 32
    TILED_COPY_MIN = 4096      # below this many elements the plain loop is as fast

# (copy_t: kernels/kernel_types.pxi)

cdef void tiled_copy_impl(copy_t* d, const copy_t* s, int nd, const Py_ssize_t* shape,
                          const Py_ssize_t* dst_st, const Py_ssize_t* src_st, int a, int b) noexcept nogil:
    # OUT d, IN s (element pointers, strides in elements): every element,
    # dims other than a and b in an outer odometer, the (a, b) plane in
    # tiles; a is d's fastest dim, b is s's.
    cdef Py_ssize_t idx[MAX_DIMS]
    cdef Py_ssize_t na = shape[a], nb = shape[b]
    cdef Py_ssize_t da = dst_st[a], db = dst_st[b], sa = src_st[a], sb = src_st[b]
    cdef Py_ssize_t i0, j0, i, j, iend, jend, doff, soff
    cdef int k
    for k in range(nd):
        idx[k] = 0
    while True:
        doff = 0
        soff = 0
        for k in range(nd):
            doff += idx[k] * dst_st[k]
            soff += idx[k] * src_st[k]
        j0 = 0
        while j0 < nb:
            jend = j0 + COPY_TILE if j0 + COPY_TILE < nb else nb
            i0 = 0
            while i0 < na:
                iend = i0 + COPY_TILE if i0 + COPY_TILE < na else na
                for j in range(j0, jend):
                    for i in range(i0, iend):
                        d[doff + i * da + j * db] = s[soff + i * sa + j * sb]
                i0 = iend
            j0 = jend
        k = nd - 1
        while k >= 0:
            if k != a and k != b:
                idx[k] += 1
                if idx[k] < shape[k]:
                    break
                idx[k] = 0
            k -= 1
        if k < 0:
            break


cdef int fastest_dim(int nd, const Py_ssize_t* shape, const Py_ssize_t* strides) noexcept:
    """The dim of size > 1 with the smallest non-zero stride, or -1."""
    cdef int k, best = -1
    for k in range(nd):
        if shape[k] > 1 and strides[k] != 0 and (best < 0 or strides[k] < strides[best]):
            best = k
    return best


cdef int copy_layout(Tensor dst, Tensor src) except -1:
    """dst[...] = src for tensors of one shape and dtype, dst dense: tiled
    when the two layouts have different fastest dims."""
    cdef int a, b, isz = ITEMSIZE[src._dtype]
    cdef Operand ops[2]
    if dst._numel < TILED_COPY_MIN or dst._ndim < 2:
        return copy_into(dst, src)
    if dst._numel * isz >= BLOCK_COPY_MIN_BYTES and copy_fresh(dst, src):
        # large: through scratch tiles and streaming stores (kernels/copy_blocks.h)
        return 0
    ops[0] = operand_of(dst)
    ops[1] = operand_of(src)
    if elementwise_tiles(2, ops, dst._ndim, dst._shape, dst._numel):
        # a transpose after merging dims: the elementwise tiles, split over threads
        return copy_into(dst, src)
    a = fastest_dim(dst._ndim, dst._shape, dst._strides)
    b = fastest_dim(src._ndim, src._shape, src._strides)
    if a < 0 or b < 0 or a == b or src._strides[a] == 0:
        return copy_into(dst, src)
    with nogil:
        if isz == 4:
            tiled_copy_impl(<uint32_t*>dst._data, <const uint32_t*>src._data, dst._ndim, dst._shape,
                            dst._strides, src._strides, a, b)
        elif isz == 8:
            tiled_copy_impl(<uint64_t*>dst._data, <const uint64_t*>src._data, dst._ndim, dst._shape,
                            dst._strides, src._strides, a, b)
        elif isz == 2:
            tiled_copy_impl(<uint16_t*>dst._data, <const uint16_t*>src._data, dst._ndim, dst._shape,
                            dst._strides, src._strides, a, b)
        else:
            tiled_copy_impl(<uint8_t*>dst._data, <const uint8_t*>src._data, dst._ndim, dst._shape,
                            dst._strides, src._strides, a, b)
    return 0


cdef inline Tensor shape_view(Tensor base, int ndim, const Py_ssize_t* shape, const Py_ssize_t* strides,
                              Py_ssize_t offset):
    """make_view, with an empty result always contiguous as in PyTorch (the
    core's strides_are_contiguous misses empty shapes whose zero-size dim
    comes before a non-unit stride)."""
    cdef Tensor t = make_view(base, ndim, shape, strides, offset)
    if t._numel == 0:
        t._contiguous = True
    return t
