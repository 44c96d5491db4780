# Tensor's methods over the shape, view, joining/splitting and indexing ops
# (view, reshape, permute, expand, squeeze, split, chunk, narrow,
# index_select, masked_fill, gather, scatter, flip, roll, tril/triu, ...).
# Thin wrappers that sort out Python arguments and call the op; kept out of
# tensor.pxi's class body and installed into Tensor's type at import under
# their class-body names (see tensor_methods_math.pxi's header for why).

# --- shape ------------------------------------------------------------------------


def _tensor_view(Tensor self not None, *shape, **kwargs):
    cdef Tensor fast
    if not kwargs:
        fast = view_exact_ints(self, shape)     # view_fast.pxi; None: the general parser below
        if fast is not None:
            return fast
    if kwargs:
        if set(kwargs) == {"dtype"} and not shape and isinstance(kwargs["dtype"], dtype):
            return op_view_dtype(self, dtype_code(kwargs["dtype"]))
        if set(kwargs) != {"size"} or shape:
            raise TypeError(f"view() got an unexpected keyword argument '{next(iter(kwargs))}'")
        shape = (kwargs["size"],)
        if not isinstance(shape[0], (tuple, list)):
            raise TypeError(
                f"view() received an invalid combination of arguments - got (size={type(shape[0]).__name__}, ), "
                "but expected one of:\n * (cgrad.dtype dtype)\n      didn't match because some of the keywords "
                "were incorrect: size\n * (tuple of ints size)\n      didn't match because some of the "
                f"arguments have invalid types: (!size={type(shape[0]).__name__}!, )\n")
    if len(shape) == 1 and isinstance(shape[0], dtype):
        return op_view_dtype(self, dtype_code(shape[0]))
    return op_view(self, view_size_args(shape))


def _tensor_view_as(Tensor self not None, other):
    return op_view(self, shape_tuple(tensor_arg(other, "view_as")))


def _tensor_reshape(Tensor self not None, *shape, **kwargs):
    if kwargs:
        if set(kwargs) != {"shape"} or shape:
            raise TypeError(f"reshape() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return op_reshape(self, int_list_value(kwargs["shape"], "reshape", "shape", 1))
    return op_reshape(self, int_list_varargs(shape, "reshape", "shape"))


def _tensor_reshape_as(Tensor self not None, other):
    return op_reshape(self, shape_tuple(tensor_arg(other, "reshape_as")))


def _tensor_flatten(Tensor self not None, start_dim=0, end_dim=-1):
    return op_flatten(self, int_arg(start_dim, "flatten", "start_dim", 1),
                      int_arg(end_dim, "flatten", "end_dim", 2))


def _tensor_unflatten(Tensor self not None, dim, sizes):
    return op_unflatten(self, int_arg(dim, "unflatten", "dim", 1),
                        int_list_value(sizes, "unflatten", "sizes", 2))


def _tensor_ravel(Tensor self not None):
    return op_view(op_contiguous(self), (-1,))


def _tensor_t(Tensor self not None):
    return op_t(self)


def _tensor_adjoint(Tensor self not None):
    return op_adjoint(self)


def _tensor_permute(Tensor self not None, *dims, **kwargs):
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            raise TypeError(f"permute() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return op_permute(self, int_list_value(kwargs["dims"], "permute", "dims", 1))
    return op_permute(self, int_list_varargs(dims, "permute", "dims"))


def _tensor_transpose(Tensor self not None, dim0, dim1):
    return op_transpose(self, int_arg(dim0, "transpose", "dim0", 1), int_arg(dim1, "transpose", "dim1", 2))


def _tensor_swapaxes(Tensor self not None, axis0, axis1):
    return op_transpose(self, int_arg(axis0, "swapaxes", "axis0", 1), int_arg(axis1, "swapaxes", "axis1", 2))


def _tensor_swapdims(Tensor self not None, dim0, dim1):
    return op_transpose(self, int_arg(dim0, "swapdims", "dim0", 1), int_arg(dim1, "swapdims", "dim1", 2))


def _tensor_expand(Tensor self not None, *sizes, **kwargs):
    if kwargs:
        kwargs.pop("implicit", None)
    if kwargs:
        if set(kwargs) != {"size"} or sizes:
            raise TypeError(f"expand() got an unexpected keyword argument '{next(iter(kwargs))}'")
        return op_expand(self, int_list_value(kwargs["size"], "expand", "size", 1))
    return op_expand(self, int_list_varargs(sizes, "expand", "size"))


def _tensor_expand_as(Tensor self not None, other):
    return op_expand(self, shape_tuple(tensor_arg(other, "expand_as")))


def _tensor_unsqueeze(Tensor self not None, dim=NO_ARG, *, axis=NO_ARG):
    return op_unsqueeze(self, int_arg(dim_or_axis(dim, axis, NO_ARG, "unsqueeze"), "unsqueeze", "dim", 1))


def _tensor_squeeze(Tensor self not None, *args, **kwargs):
    return op_squeeze_any(self, squeeze_dim_args(args, kwargs, False))

# --- joining and splitting (ops_join.pxi) -----------------------------------------


def _tensor_split(Tensor self not None, split_size, dim=0):
    return do_split(self, split_size, dim, False)


def _tensor_split_with_sizes(Tensor self not None, split_sizes, dim=0):
    return op_split_with_sizes(self, int_list_value(split_sizes, "split_with_sizes", "split_sizes", 1),
                               int_arg(dim, "split_with_sizes", "dim", 2))


def _tensor_chunk(Tensor self not None, chunks, dim=NO_ARG, *, axis=NO_ARG):
    dim = dim_or_axis(dim, axis, 0, "chunk")
    return op_chunk(self, int_arg(chunks, "chunk", "chunks", 1), int_arg(dim, "chunk", "dim", 2))


def _tensor_unbind(Tensor self not None, dim=NO_ARG, *, axis=NO_ARG):
    dim = dim_or_axis(dim, axis, 0, "unbind")
    return op_unbind(self, int_arg(dim, "unbind", "dim", 1))


def _tensor_narrow(Tensor self not None, dim, start, length):
    return do_narrow(self, dim, start, length, False)

# --- indexing ---------------------------------------------------------------------


def _tensor_index_select(Tensor self not None, dim, index):
    return index_select_checked(self, dim, index)


def _tensor_masked_fill(Tensor self not None, mask, value):
    v, vt = masked_fill_value(value, "masked_fill_")
    return op_masked_fill(self, tensor_arg(mask, "masked_fill", "mask"), v, vt)


def _tensor_masked_fill_(Tensor self not None, mask, value):
    v, vt = masked_fill_value(value, "masked_fill_")
    return masked_fill_inplace(self, tensor_arg(mask, "masked_fill_", "mask"), v, vt)

# --- nonzero, triangles, flips, rolls, repeats, select, movedim, gather/scatter


def _tensor_nonzero(Tensor self not None, *, as_tuple=False):
    return nonzero_call(self, as_tuple)


def _tensor_tril(Tensor self not None, diagonal=0):
    return op_tri(self, as_index(diagonal, "diagonal"), True)


def _tensor_triu(Tensor self not None, diagonal=0):
    return op_tri(self, as_index(diagonal, "diagonal"), False)


def _tensor_tril_(Tensor self not None, diagonal=0):
    return op_tri_(self, as_index(diagonal, "diagonal"), True)


def _tensor_triu_(Tensor self not None, diagonal=0):
    return op_tri_(self, as_index(diagonal, "diagonal"), False)


def _tensor_flip(Tensor self not None, *dims, **kwargs):
    if "dims" in kwargs:
        dims = (kwargs.pop("dims"),)
    elif not dims:
        raise TypeError('flip() missing 1 required positional arguments: "dims"')
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = dims[0]
    return op_flip(self, flip_dims(tuple(dims), self._ndim))


def _tensor_roll(Tensor self not None, shifts, dims=None):
    return roll_call(self, shifts, dims)


def _tensor_repeat(Tensor self not None, *repeats):
    return repeat_call(self, repeats)


def _tensor_tile(Tensor self not None, *dims, **kwargs):
    if kwargs:
        if set(kwargs) != {"dims"} or dims:
            raise TypeError(f"tile() got an unexpected keyword argument '{next(iter(kwargs))}'")
        dims = (kwargs["dims"],)
    elif not dims:
        raise TypeError('tile() missing 1 required positional arguments: "dims"')
    return op_tile(self, dims[0] if len(dims) == 1 and not is_int_like(dims[0], True) else dims)


def _tensor_select(Tensor self not None, dim, index):
    return op_select_checked(self, dim, index)


def _tensor_movedim(Tensor self not None, source, destination):
    return op_movedim(self, source, destination)


def _tensor_moveaxis(Tensor self not None, source, destination):
    return op_movedim(self, source, destination)


def _tensor_gather(Tensor self not None, dim, index, *, sparse_grad=False):
    return op_gather(self, wrap_dim(as_index(dim, "dim"), self._ndim),
                     need_tensor(index, "gather", "index", 2))


def _tensor_scatter_add(Tensor self not None, dim, index, src):
    return op_scatter_add(self, wrap_dim(as_index(dim, "dim"), self._ndim),
                          need_tensor(index, "scatter_add", "index", 2),
                          need_tensor(src, "scatter_add", "src", 3))


def _tensor_scatter_add_(Tensor self not None, dim, index, src):
    cdef Tensor r
    cdef int d = wrap_dim(as_index(dim, "dim"), self._ndim)
    cdef Tensor idx = need_tensor(index, "scatter_add_", "index", 2)
    cdef Tensor s = need_tensor(src, "scatter_add_", "src", 3)
    check_inplace(self)
    if (cgrad_grad_enabled and (self._requires_grad or s._requires_grad)) or has_tangent(self) or has_tangent(s):
        return commit_inplace(self, op_scatter_add(old_value(self, False), d, idx, s))
    r = op_scatter_add(alias_detached(self), d, idx, alias_detached(s))
    copy_into(self, r)
    self._storage.version += 1
    return self


def _tensor_diag(Tensor self not None, diagonal=0):
    return op_diag(self, as_index(diagonal, "diagonal"))


def _tensor_scatter(Tensor self not None, dim, index, src=None, *, value=None, reduce=None):
    return scatter_call(self, dim, index, src, value, "scatter", reduce)


def _tensor_scatter_(Tensor self not None, dim, index, src=None, *, value=None, reduce=None):
    cdef Tensor r
    check_inplace(self)
    if (cgrad_grad_enabled and (self._requires_grad or (isinstance(src, Tensor) and (<Tensor>src)._requires_grad))) or has_tangent(self) or has_tangent(src):
        return commit_inplace(self, scatter_call(old_value(self, False), dim, index, src, value, "scatter_", reduce))
    r = scatter_call(alias_detached(self), dim, index,
                     alias_detached(<Tensor>src) if isinstance(src, Tensor) else src, value, "scatter_", reduce)
    copy_into(self, r)
    self._storage.version += 1
    return self


install_class_methods({
    "view": _tensor_view, "view_as": _tensor_view_as, "reshape": _tensor_reshape,
    "reshape_as": _tensor_reshape_as, "flatten": _tensor_flatten, "unflatten": _tensor_unflatten,
    "ravel": _tensor_ravel, "t": _tensor_t, "adjoint": _tensor_adjoint, "permute": _tensor_permute,
    "transpose": _tensor_transpose, "swapaxes": _tensor_swapaxes, "swapdims": _tensor_swapdims,
    "expand": _tensor_expand, "expand_as": _tensor_expand_as, "unsqueeze": _tensor_unsqueeze,
    "squeeze": _tensor_squeeze, "split": _tensor_split, "split_with_sizes": _tensor_split_with_sizes,
    "chunk": _tensor_chunk, "unbind": _tensor_unbind, "narrow": _tensor_narrow,
    "index_select": _tensor_index_select, "masked_fill": _tensor_masked_fill,
    "masked_fill_": _tensor_masked_fill_, "nonzero": _tensor_nonzero, "tril": _tensor_tril,
    "triu": _tensor_triu, "tril_": _tensor_tril_, "triu_": _tensor_triu_, "flip": _tensor_flip,
    "roll": _tensor_roll, "repeat": _tensor_repeat, "tile": _tensor_tile, "select": _tensor_select,
    "movedim": _tensor_movedim, "moveaxis": _tensor_moveaxis, "gather": _tensor_gather,
    "scatter_add": _tensor_scatter_add, "scatter_add_": _tensor_scatter_add_, "diag": _tensor_diag,
    "scatter": _tensor_scatter, "scatter_": _tensor_scatter_,
})
