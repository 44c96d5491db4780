# uint8 bilinear, bicubic and lanczos resampling: F.interpolate on 4-D
# uint8 input (antialias False or True), bit-identical to PyTorch's CPU
# kernels.
#
# PyTorch resamples uint8 images in fixed point, one dim at a time: W first
# (into a uint8 buffer when H changes too), then H; a dim whose size does
# not change is skipped (the weights of an unchanged size are not the
# identity when a scale_factor is given, so skipping is observable). Per dim
# and output coordinate it computes in double a window [xmin, xmin + xsize)
# of input indices and their filter weights, then scales every weight of
# the dim by 2**p, p the largest precision (at most 22) keeping
# round(w_max * 2**(p+1)) below 2**15, and rounds it half away from zero to
# int16. An output is (2**(p-1) + sum w_j * x_j) >> p clamped to 0..255:
# integer sums, exact in any order, so the layout (contiguous or channels
# last) and PyTorch's AVX2 and generic paths give the same bytes.
#
# antialias=False: 2 (linear) or 4 (cubic, a = -0.75) taps around the
# source coordinate; taps falling outside the input are folded onto the
# edge pixel's weight, and w_max is the largest value a weight slot held
# while being accumulated (PyTorch's order, which fixes p).
# antialias=True: PIL's filters (triangle, cubic a = -0.5, Lanczos-3)
# stretched by the scale when downsampling, normalised to sum 1.

from libc cimport math as u8_libm     # qualified: the module defines sin, ceil, ...
from libc.stdlib cimport malloc, free
from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint32_t

cdef enum:
    U8_LINEAR = 0
    U8_CUBIC = 1
    U8_LANCZOS = 2

cdef int U8_INTERP_SIZE[3]
U8_INTERP_SIZE[:] = [2, 4, 6]


cdef struct U8Taps:
    Py_ssize_t k             # weight slots per output coordinate
    int precision
    int64_t* xmin            # first input index of each output's window
    int64_t* xsize           # the window's length (<= k)
    int16_t* weights         # k per output, fixed point


cdef inline double u8_sinc(double x) noexcept nogil:
    if x == 0.0:
        return 1.0
    x *= u8_libm.M_PI
    return u8_libm.sin(x) / x


cdef inline double u8_filter(double x, int kind, double a) noexcept nogil:
    x = u8_libm.fabs(x)
    if kind == U8_LINEAR:
        return 1.0 - x if x < 1.0 else 0.0
    if kind == U8_CUBIC:
        if x < 1.0:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2.0:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0
    if x < 3.0:
        return u8_sinc(x) * u8_sinc(x / 3.0)
    return 0.0


cdef inline double u8_scale(Py_ssize_t in_size, Py_ssize_t out_size, bint align_corners,
                            double opt_scale) noexcept nogil:
    """PyTorch's area_pixel_compute_scale in double (opt_scale <= 0: none)."""
    if align_corners:
        return (<double>(in_size - 1)) / (out_size - 1) if out_size > 1 else 0.0
    if opt_scale > 0:
        return 1.0 / opt_scale
    return (<double>in_size) / out_size


cdef double u8_window_aa(Py_ssize_t i, Py_ssize_t in_size, double scale, double support, int kind,
                         double a, double* w, Py_ssize_t k, int64_t* xmin, int64_t* xsize) noexcept nogil:
    """One output's antialiased window and normalised weights; returns
    their largest."""
    cdef double center = scale * (i + 0.5)
    cdef double invscale = 1.0 / scale if scale >= 1.0 else 1.0
    cdef double total = 0.0, wmax = 0.0, v
    cdef int64_t lo = <int64_t>(center - support + 0.5), hi = <int64_t>(center + support + 0.5)
    cdef int64_t n, j
    if lo < 0:
        lo = 0
    if hi > in_size:
        hi = in_size
    n = hi - lo
    if n < 0:
        n = 0
    if n > k:
        n = k
    for j in range(n):
        v = u8_filter((j + lo - center + 0.5) * invscale, kind, a)
        w[j] = v
        total += v
    if total != 0.0:
        for j in range(n):
            w[j] /= total
            if wmax < w[j]:
                wmax = w[j]
    for j in range(n, k):
        w[j] = 0.0
    xmin[0] = lo
    xsize[0] = n
    return wmax


cdef double u8_window(Py_ssize_t i, Py_ssize_t in_size, double scale, bint align_corners, int kind,
                      double a, double* w, Py_ssize_t k, int64_t* xmin, int64_t* xsize) noexcept nogil:
    """One output's k interpolation taps (antialias=False), out-of-range
    taps folded onto the edge; returns the largest partial weight."""
    cdef double real, lam, v, wmax = 0.0
    cdef int64_t index, support = <int64_t>(k * 0.5), umin, umax, lo, n, j
    cdef int slot = 0
    if align_corners:
        real = scale * i
    else:
        real = scale * (i + 0.5) - 0.5
        if kind == U8_LINEAR and real < 0:
            real = 0.0
    index = <int64_t>u8_libm.floorf(<float>real)     # PyTorch's guard_index_and_lambda: floorf
    if index > in_size - 1:
        index = in_size - 1
    lam = real - index
    if lam < 0.0:
        lam = 0.0
    if lam > 1.0:
        lam = 1.0
    umin = index - support + 1
    umax = index + support + 1
    lo = umin if umin > 0 else 0
    n = (umax if umax < in_size else in_size) - lo
    if n < 0:
        n = 0
    if n > k:
        n = k
    for j in range(k):
        w[j] = 0.0
        v = u8_filter(<double>(j + 1 - support) - lam, kind, a)
        if umin + j <= 0:
            slot = 0
        elif umin + j >= in_size - 1:
            slot = <int>(n - 1)
        w[slot] += v
        if wmax < w[slot]:
            wmax = w[slot]
        slot += 1
    xmin[0] = lo
    xsize[0] = n
    return wmax


cdef int u8_make_taps(U8Taps* t, Py_ssize_t in_size, Py_ssize_t out_size, bint align_corners,
                      double opt_scale, bint antialias, int kind) except -1:
    """Windows and int16 weights of one dim (PyTorch's
    compute_index_ranges_int16_weights)."""
    cdef double scale = u8_scale(in_size, out_size, align_corners, opt_scale)
    cdef double a = -0.5 if antialias else -0.75
    cdef double support = 0.0, wmax = 0.0, m, v
    cdef double* w
    cdef Py_ssize_t i, j, k
    cdef int p
    if antialias:
        support = U8_INTERP_SIZE[kind] * 0.5 * scale if scale >= 1.0 else U8_INTERP_SIZE[kind] * 0.5
        k = <Py_ssize_t>u8_libm.ceil(support) * 2 + 1
    else:
        k = U8_INTERP_SIZE[kind]
    t.k = k
    t.xmin = <int64_t*>malloc(out_size * sizeof(int64_t))
    t.xsize = <int64_t*>malloc(out_size * sizeof(int64_t))
    t.weights = <int16_t*>malloc(out_size * k * sizeof(int16_t))
    w = <double*>malloc(out_size * k * sizeof(double))
    if t.xmin == NULL or t.xsize == NULL or t.weights == NULL or w == NULL:
        free(w)
        raise MemoryError()
    with nogil:
        for i in range(out_size):
            if antialias:
                m = u8_window_aa(i, in_size, scale, support, kind, a, w + i * k, k, t.xmin + i, t.xsize + i)
            else:
                m = u8_window(i, in_size, scale, align_corners, kind, a, w + i * k, k, t.xmin + i,
                              t.xsize + i)
            if wmax < m:
                wmax = m
        p = 0
        while p < 22:
            if <int>(0.5 + wmax * (1 << (p + 1))) >= (1 << 15):
                break
            p += 1
        t.precision = p
        for i in range(out_size * k):
            v = w[i] * (1 << p)
            t.weights[i] = <int16_t>(<int>(-0.5 + v) if v < 0 else <int>(0.5 + v))
    free(w)
    return 0


cdef void u8_free_taps(U8Taps* t) noexcept:
    free(t.xmin)
    free(t.xsize)
    free(t.weights)
    t.xmin = t.xsize = NULL
    t.weights = NULL


cdef void u8_resample_dim(const uint8_t* src, const Py_ssize_t* sstr, uint8_t* dst,
                          const Py_ssize_t* dshape, const Py_ssize_t* dstr, const int* order, int axis,
                          const U8Taps* t) noexcept nogil:
    """dst = src resampled along `axis` (4-D, element strides); the loops
    follow dst's memory order (`order`, outermost first)."""
    cdef Py_ssize_t co[4]
    cdef Py_ssize_t i0, i1, i2, i3, o, j, n, step = sstr[axis], src_off, dst_off
    cdef int o0 = order[0], o1 = order[1], o2 = order[2], o3 = order[3]
    cdef int p = t.precision
    cdef const int16_t* w
    cdef const uint8_t* s
    cdef uint32_t acc
    cdef int32_t v
    for i0 in range(dshape[o0]):
        co[o0] = i0
        for i1 in range(dshape[o1]):
            co[o1] = i1
            for i2 in range(dshape[o2]):
                co[o2] = i2
                for i3 in range(dshape[o3]):
                    co[o3] = i3
                    o = co[axis]
                    co[axis] = t.xmin[o]
                    src_off = co[0] * sstr[0] + co[1] * sstr[1] + co[2] * sstr[2] + co[3] * sstr[3]
                    co[axis] = o
                    dst_off = co[0] * dstr[0] + co[1] * dstr[1] + co[2] * dstr[2] + co[3] * dstr[3]
                    s = src + src_off
                    w = t.weights + o * t.k
                    n = t.xsize[o]
                    # int32 sums with wraparound, as PyTorch's int arithmetic
                    acc = (<uint32_t>1) << (p - 1)
                    for j in range(n):
                        acc += <uint32_t>(<int32_t>s[j * step] * <int32_t>w[j])
                    v = (<int32_t>acc) >> p
                    dst[dst_off] = <uint8_t>(0 if v < 0 else (255 if v > 255 else v))


cdef void u8_repeat_first_row(uint8_t* data, const Py_ssize_t* shape, const Py_ssize_t* strides) noexcept nogil:
    """Every row of each (n, c) plane of a width-1 image takes row 0's value."""
    cdef Py_ssize_t n, c, h
    cdef uint8_t* plane
    for n in range(shape[0]):
        for c in range(shape[1]):
            plane = data + n * strides[0] + c * strides[1]
            for h in range(1, shape[2]):
                plane[h * strides[2]] = plane[0]


# PyTorch's AVX2 uint8 path (C <= 4) fails this assertion when 3-channel
# input it unpacks to RGBA meets an output it does not repack
# (channels-last contiguous, e.g. a 1x1 result of contiguous input).
U8_AVX_ASSERT = ('num_channels == unpacked_output.size(0) INTERNAL ASSERT FAILED at '
                 '"/__w/pytorch/pytorch/aten/src/ATen/native/cpu/UpSampleKernelAVXAntialias.h":269, '
                 'please report a bug to PyTorch. ')


cdef int U8_ORDER_CONTIGUOUS[4]
U8_ORDER_CONTIGUOUS[:] = [0, 1, 2, 3]
cdef int U8_ORDER_CHANNELS_LAST[4]
U8_ORDER_CHANNELS_LAST[:] = [0, 2, 3, 1]


def _upsample_uint8_2d(input, Py_ssize_t out_h, Py_ssize_t out_w, bint align_corners, scale_h, scale_w,
                       bint antialias, str mode):
    """F.interpolate's bilinear / bicubic / lanczos on (N, C, H, W) uint8
    input (sizes already checked): PyTorch's fixed-point separable kernels;
    the result is laid out as the input suggests (contiguous or channels
    last)."""
    cdef Tensor x = <Tensor>input
    cdef int kind = U8_LINEAR if mode == "bilinear" else (U8_CUBIC if mode == "bicubic" else U8_LANCZOS)
    cdef int fmt = suggest_format(x)
    cdef const int* order = U8_ORDER_CONTIGUOUS
    cdef Py_ssize_t shape[4]
    cdef Tensor out, mid
    cdef U8Taps taps_w, taps_h
    cdef bint need_w, need_h, avx_channels_last
    cdef double sh = -1.0 if scale_h is None else <double>scale_h
    cdef double sw = -1.0 if scale_w is None else <double>scale_w
    if x._dtype != U8 or x._ndim != 4:
        raise RuntimeError("_upsample_uint8_2d expects 4-D uint8 input")
    if fmt == FMT_CHANNELS_LAST:
        order = U8_ORDER_CHANNELS_LAST
    need_w = out_w != x._shape[3]
    need_h = out_h != x._shape[2]
    # PyTorch's AVX2 path (C <= 4) reads channels-last input pixel by pixel
    # (any input not dense in either format is copied to channels last first)
    avx_channels_last = is_contiguous_as(x, FMT_CHANNELS_LAST) or not x._contiguous
    if not is_contiguous_as(x, fmt):
        x = op_contiguous_as(x, fmt)
    shape[0] = x._shape[0]
    shape[1] = x._shape[1]
    shape[2] = out_h
    shape[3] = out_w
    out = new_tensor_format(4, shape, U8, fmt)
    if not need_w and not need_h:
        copy_into(out, x)
        return out
    if (shape[1] == 3 and need_h and not avx_channels_last
            and is_contiguous_as(out, FMT_CHANNELS_LAST)):
        raise RuntimeError(U8_AVX_ASSERT)
    taps_w.xmin = taps_h.xmin = taps_w.xsize = taps_h.xsize = NULL
    taps_w.weights = taps_h.weights = NULL
    try:
        mid = x
        if need_w:
            shape[2] = x._shape[2]
            mid = out if not need_h else new_tensor_format(4, shape, U8, fmt)
            u8_make_taps(&taps_w, x._shape[3], out_w, align_corners, sw, antialias, kind)
            with nogil:
                u8_resample_dim(<const uint8_t*>x._data, x._strides, <uint8_t*>mid._data, mid._shape,
                                mid._strides, order, 3, &taps_w)
        if need_h:
            u8_make_taps(&taps_h, x._shape[2], out_h, align_corners, sh, antialias, kind)
            with nogil:
                u8_resample_dim(<const uint8_t*>mid._data, mid._strides, <uint8_t*>out._data, out._shape,
                                out._strides, order, 2, &taps_h)
                if shape[1] > 4 and out_w == 1 and fmt == FMT_CONTIGUOUS:
                    # PyTorch's generic path (C > 4) runs its H pass along
                    # columns here, with the weights of each column's first
                    # row (its vertical loop reads them once per inner loop)
                    u8_repeat_first_row(<uint8_t*>out._data, out._shape, out._strides)
    finally:
        u8_free_taps(&taps_w)
        u8_free_taps(&taps_h)
    return out
