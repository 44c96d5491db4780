/* copy_blocks.h: large same-dtype copies at memory speed (kernel_drivers.pxi's
 * copy_same_dtype drives them over threads).
 *
 * Why not the elementwise row kernels: an ordinary store to a line that is
 * not in cache first reads that line (read for ownership), so a copy larger
 * than the caches moves 3 bytes for each 2 it must; streaming stores write
 * whole lines past the caches (the row loop took about twice glibc's memcpy
 * on 256 MB, which streams). And a transposing copy whose strides are
 * powers of two (an 8192x8192 float32 t().contiguous(): 32 KiB between the
 * rows) maps every line of a column to one cache set, so the elementwise
 * tiles' 64 lines of a column evict one another before their next element
 * is read: the lines come back from far caches up to 16 times.
 *
 * cg_transpose_cols copies through a small contiguous scratch tile instead:
 * each source line is read once, whole, in long runs along a strip of
 * source rows, transposed in L1 (SSE2 4x4 and 2x2 register transposes for
 * 4- and 8-byte items), and each destination piece (two whole lines) is
 * written once by streaming stores. The values are moved bit for bit:
 * results are exactly those of the row kernels.
 *
 * On x86-64 Linux gcc builds whose CPU has AVX-512, 4- and 8-byte items
 * skip the scratch: 16x16 / 8x8 blocks are transposed in registers and
 * stored a whole line at a time, while the next block's source is
 * prefetched in source order (cg_transpose_cols_avx512; the tiles keep the
 * odd rows and columns). Why: with 4 KiB pages the tile path's reads of 32
 * source rows, 256 bytes of each at a time, came at about half the rate of
 * a sequential read; reading each source row of a block in one run of 4 KiB
 * (the prefetches) is what the new path gains.
 *
 * SSE2 is part of x86-64; elsewhere the stores are plain memcpy and the
 * transposes scalar.
 */
#ifndef CGRAD_COPY_BLOCKS_H
#define CGRAD_COPY_BLOCKS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define CG_COPY_SSE2 1
#endif

/* dst[0:nbytes] = src[0:nbytes]; stream: by streaming stores (the caller
 * fences with cg_copy_fence before the data is read elsewhere). */
static void cg_copy_bytes_to(char *dst, const char *src, size_t nbytes, int stream)
{
#ifdef CG_COPY_SSE2
    if (stream) {
        size_t head = (16 - ((uintptr_t)dst & 15)) & 15, i = 0;
        if (head > nbytes)
            head = nbytes;
        memcpy(dst, src, head);
        dst += head;
        src += head;
        nbytes -= head;
        for (; i + 64 <= nbytes; i += 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)(src + i));
            __m128i b = _mm_loadu_si128((const __m128i *)(src + i + 16));
            __m128i c = _mm_loadu_si128((const __m128i *)(src + i + 32));
            __m128i d = _mm_loadu_si128((const __m128i *)(src + i + 48));
            _mm_stream_si128((__m128i *)(dst + i), a);
            _mm_stream_si128((__m128i *)(dst + i + 16), b);
            _mm_stream_si128((__m128i *)(dst + i + 32), c);
            _mm_stream_si128((__m128i *)(dst + i + 48), d);
        }
        for (; i + 16 <= nbytes; i += 16)
            _mm_stream_si128((__m128i *)(dst + i), _mm_loadu_si128((const __m128i *)(src + i)));
        memcpy(dst + i, src + i, nbytes - i);
        return;
    }
#endif
    (void)stream;
    memcpy(dst, src, nbytes);
}

/* dst[0:nbytes] = the isz-byte item at value, repeated (nbytes a multiple
 * of isz); stream as above. */
static void cg_fill_bytes_to(char *dst, size_t nbytes, const char *value, size_t isz, int stream)
{
    size_t k;
#ifdef CG_COPY_SSE2
    if (stream && 16 % isz == 0 && ((uintptr_t)dst & 15) % isz == 0) {
        unsigned char pattern[16];
        __m128i v;
        for (k = 0; k < 16; k += isz)
            memcpy(pattern + k, value, isz);
        while (((uintptr_t)dst & 15) && nbytes) {
            memcpy(dst, value, isz);
            dst += isz;
            nbytes -= isz;
        }
        v = _mm_loadu_si128((const __m128i *)pattern);
        for (k = 0; k + 16 <= nbytes; k += 16)
            _mm_stream_si128((__m128i *)(dst + k), v);
        dst += k;
        nbytes -= k;
    }
#endif
    (void)stream;
    if (isz == 4) {
        uint32_t v, *o = (uint32_t *)dst;
        memcpy(&v, value, 4);
        for (k = 0; k < nbytes / 4; k++)
            o[k] = v;
    } else if (isz == 8) {
        uint64_t v, *o = (uint64_t *)dst;
        memcpy(&v, value, 8);
        for (k = 0; k < nbytes / 8; k++)
            o[k] = v;
    } else {
        for (k = 0; k < nbytes; k += isz)
            memcpy(dst + k, value, isz);
    }
}

static void cg_copy_fence(void)
{
#ifdef CG_COPY_SSE2
    _mm_sfence();
#endif
}

/* A tile is CG_TILE_RUN bytes of each of CG_TILE_PIECE / isz source rows:
 * the destination pieces are CG_TILE_PIECE bytes (two whole lines). */
#define CG_TILE_RUN 256
#define CG_TILE_PIECE 128

static int cg_tile_cols(int isz)
{
    return CG_TILE_PIECE / isz;
}

/* scr[r * T + c] = s[c * sld + r] for r < nr, c < nc (items of isz bytes;
 * s advances by sld items per c): one tile into scratch. */
#define CG_TILE_IN(NAME, TYPE)                                                       \
static void NAME(TYPE *scr, int T, const TYPE *s, ptrdiff_t sld, int nr, int nc)    \
{                                                                                    \
    int r, c;                                                                        \
    for (c = 0; c < nc; c++)                                                         \
        for (r = 0; r < nr; r++)                                                     \
            scr[r * T + c] = s[c * sld + r];                                         \
}
CG_TILE_IN(cg_tile_in_1, uint8_t)
CG_TILE_IN(cg_tile_in_2, uint16_t)

static void cg_tile_in_4(uint32_t *scr, int T, const uint32_t *s, ptrdiff_t sld, int nr, int nc)
{
    int r = 0, c = 0;
#ifdef CG_COPY_SSE2
    for (c = 0; c + 4 <= nc; c += 4) {
        const uint32_t *s0 = s + c * sld, *s1 = s0 + sld, *s2 = s1 + sld, *s3 = s2 + sld;
        for (r = 0; r + 4 <= nr; r += 4) {
            __m128i a0 = _mm_loadu_si128((const __m128i *)(s0 + r));
            __m128i a1 = _mm_loadu_si128((const __m128i *)(s1 + r));
            __m128i a2 = _mm_loadu_si128((const __m128i *)(s2 + r));
            __m128i a3 = _mm_loadu_si128((const __m128i *)(s3 + r));
            __m128i t0 = _mm_unpacklo_epi32(a0, a1), t1 = _mm_unpacklo_epi32(a2, a3);
            __m128i t2 = _mm_unpackhi_epi32(a0, a1), t3 = _mm_unpackhi_epi32(a2, a3);
            uint32_t *o = scr + r * T + c;
            _mm_storeu_si128((__m128i *)o, _mm_unpacklo_epi64(t0, t1));
            _mm_storeu_si128((__m128i *)(o + T), _mm_unpackhi_epi64(t0, t1));
            _mm_storeu_si128((__m128i *)(o + 2 * T), _mm_unpacklo_epi64(t2, t3));
            _mm_storeu_si128((__m128i *)(o + 3 * T), _mm_unpackhi_epi64(t2, t3));
        }
        for (; r < nr; r++) {
            scr[r * T + c] = s0[r];
            scr[r * T + c + 1] = s1[r];
            scr[r * T + c + 2] = s2[r];
            scr[r * T + c + 3] = s3[r];
        }
    }
#endif
    for (; c < nc; c++)
        for (r = 0; r < nr; r++)
            scr[r * T + c] = s[c * sld + r];
}

static void cg_tile_in_8(uint64_t *scr, int T, const uint64_t *s, ptrdiff_t sld, int nr, int nc)
{
    int r = 0, c = 0;
#ifdef CG_COPY_SSE2
    for (c = 0; c + 2 <= nc; c += 2) {
        const uint64_t *s0 = s + c * sld, *s1 = s0 + sld;
        for (r = 0; r + 2 <= nr; r += 2) {
            __m128i a0 = _mm_loadu_si128((const __m128i *)(s0 + r));
            __m128i a1 = _mm_loadu_si128((const __m128i *)(s1 + r));
            _mm_storeu_si128((__m128i *)(scr + r * T + c), _mm_unpacklo_epi64(a0, a1));
            _mm_storeu_si128((__m128i *)(scr + (r + 1) * T + c), _mm_unpackhi_epi64(a0, a1));
        }
        for (; r < nr; r++) {
            scr[r * T + c] = s0[r];
            scr[r * T + c + 1] = s1[r];
        }
    }
#endif
    for (; c < nc; c++)
        for (r = 0; r < nr; r++)
            scr[r * T + c] = s[c * sld + r];
}

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#define CG_COPY_AVX512 1

/* The AVX-512 transposing copy of 4- and 8-byte items: no scratch tile.
 * A strip of CG_T512_STRIP bytes of destination columns (source rows) is
 * walked down the destination rows 64 bytes of source row at a time: each
 * 64-byte source line is loaded once, 16x16 (float) or 8x8 (double) blocks
 * are transposed in registers, and every destination store is one whole
 * 64-byte line by a streaming store (the write-combining buffers never hold
 * a part line). The source lines of a later step are prefetched, since the
 * strip's source rows (one stream each) are more than the hardware
 * prefetchers follow. Measured on the 2-core VM (8192x8192 float32, one
 * thread, CPU time, load 4-6, 4 KiB pages): 32-36 ms against 56-61 ms for
 * the scratch tiles and 15-16 ms for a streaming copy of the same bytes;
 * source runs of 2 KiB or 8 KiB, strips of 256 bytes and prefetching into
 * L1 rather than L2 were no better. In the library (two threads, CPU time):
 * 53-58 -> 31-35 ms a call. */
#define CG_T512_STRIP 128
#define CG_T512_RUN 4096        /* bytes of each source row a block reads */

__attribute__((target("avx512f")))
static inline void cg_t512_16x16(__m512 *r)
{
    __m512 t[16];
    int k;
    for (k = 0; k < 16; k += 2) {
        t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
    }
    for (k = 0; k < 16; k += 4) {
        r[k] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);
        r[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);
        r[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);
        r[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);
    }
    for (k = 0; k < 4; k++) {
        t[k] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0x88);
        t[k + 4] = _mm512_shuffle_f32x4(r[k], r[k + 4], 0xDD);
        t[k + 8] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0x88);
        t[k + 12] = _mm512_shuffle_f32x4(r[k + 8], r[k + 12], 0xDD);
    }
    for (k = 0; k < 8; k++) {
        r[k] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0x88);
        r[k + 8] = _mm512_shuffle_f32x4(t[k], t[k + 8], 0xDD);
    }
}

__attribute__((target("avx512f")))
static inline void cg_t512_8x8(__m512d *r)
{
    __m512d t[8], u[8];
    int k;
    for (k = 0; k < 8; k += 2) {
        t[k] = _mm512_unpacklo_pd(r[k], r[k + 1]);
        t[k + 1] = _mm512_unpackhi_pd(r[k], r[k + 1]);
    }
    for (k = 0; k < 8; k += 4) {
        u[k] = _mm512_shuffle_f64x2(t[k], t[k + 2], 0x88);          /* columns 0, 4 */
        u[k + 1] = _mm512_shuffle_f64x2(t[k], t[k + 2], 0xDD);      /* 2, 6 */
        u[k + 2] = _mm512_shuffle_f64x2(t[k + 1], t[k + 3], 0x88);  /* 1, 5 */
        u[k + 3] = _mm512_shuffle_f64x2(t[k + 1], t[k + 3], 0xDD);  /* 3, 7 */
    }
    r[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x88);
    r[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xDD);
    r[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x88);
    r[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xDD);
    r[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x88);
    r[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xDD);
    r[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x88);
    r[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xDD);
}

/* rows [0, nrows) (a multiple of 64 / isz) and columns [c0, c1) (c1 - c0 a
 * multiple of CG_T512_STRIP / isz) of cg_transpose_cols, d + c0 * isz and
 * every dld * isz after it 64-byte aligned; isz 4 or 8 */
__attribute__((target("avx512f")))
static void cg_transpose_cols_avx512(char *d, ptrdiff_t dld, const char *s, ptrdiff_t sld, ptrdiff_t nrows,
                                     ptrdiff_t c0, ptrdiff_t c1, int isz)
{
    int V = 64 / isz, SC = CG_T512_STRIP / isz, b, k, step;
    ptrdiff_t BR = CG_T512_RUN / isz, cb, rb, r, nr, ncb, nrb, nnr, pf, npf;
    for (cb = c0; cb < c1; cb += SC) {
        for (rb = 0; rb < nrows; rb += BR) {
            nr = nrows - rb < BR ? nrows - rb : BR;
            /* the next block, whose source lines this one prefetches in
               source order (SC runs of nnr items) */
            nrb = rb + BR;
            ncb = cb;
            if (nrb >= nrows) {
                nrb = 0;
                ncb = cb + SC;
            }
            nnr = ncb < c1 ? (nrows - nrb < BR ? nrows - nrb : BR) : 0;
            npf = SC * (nnr * isz / 64);
            step = (int)((npf + (nr / V) * (SC / V) - 1) / ((nr / V) * (SC / V)));
            pf = 0;
            for (r = rb; r < rb + nr; r += V) {
                for (b = 0; b < SC; b += V) {
                    const char *src = s + ((cb + b) * sld + r) * isz;
                    char *dst = d + (r * dld + cb + b) * isz;
                    for (k = 0; k < step && pf < npf; k++, pf++) {
                        ptrdiff_t row = pf / (nnr * isz / 64), line = pf % (nnr * isz / 64);
                        __builtin_prefetch(s + ((ncb + row) * sld + nrb) * isz + line * 64, 0, 2);
                    }
                    if (isz == 4) {
                        __m512 v[16];
                        for (k = 0; k < 16; k++)
                            v[k] = _mm512_loadu_ps(src + k * sld * 4);
                        cg_t512_16x16(v);
                        for (k = 0; k < 16; k++)
                            _mm512_stream_ps((float *)(dst + k * dld * 4), v[k]);
                    } else {
                        __m512d v[8];
                        for (k = 0; k < 8; k++)
                            v[k] = _mm512_loadu_pd(src + k * sld * 8);
                        cg_t512_8x8(v);
                        for (k = 0; k < 8; k++)
                            _mm512_stream_pd((double *)(dst + k * dld * 8), v[k]);
                    }
                }
            }
        }
    }
}

static int cg_copy_has_avx512(void)
{
    static int state = -1;          /* a benign race: every thread writes the same */
    if (state < 0)
        state = __builtin_cpu_supports("avx512f") ? 1 : 0;
    return state;
}
#endif

/* d[r * dld + c] = s[c * sld + r] for 0 <= r < nrows, c0 <= c < c1: columns
 * c0..c1-1 of a transposing copy of items of isz (1, 2, 4 or 8) bytes,
 * strides in items; d is unit-stride along c, s along r. A strip of
 * cg_tile_cols(isz) source rows at a time, walked along their length (the
 * reads stream), tile by tile through scratch; stream: the destination
 * pieces by streaming stores (then no line of d is read). Measured on one
 * core of the 2-core VM, 8192x8192 float32, CPU time: 37-53 ms against 26 ms
 * for memcpy of the same bytes; walking destination rows instead (reads
 * short runs at a large stride) 60-80 ms; ordinary stores 200-300 ms. */
static void cg_transpose_cols_tiles(char *d, ptrdiff_t dld, const char *s, ptrdiff_t sld, ptrdiff_t nrows,
                              ptrdiff_t c0, ptrdiff_t c1, int isz, int stream)
{
    uint64_t scratch[CG_TILE_RUN * CG_TILE_PIECE / 8];
    int TC = cg_tile_cols(isz), TR = CG_TILE_RUN / isz;
    ptrdiff_t rb, cb, r;
    for (cb = c0; cb < c1; cb += TC) {
        int nc = (int)(c1 - cb < TC ? c1 - cb : TC);
        for (rb = 0; rb < nrows; rb += TR) {
            int nr = (int)(nrows - rb < TR ? nrows - rb : TR);
            const char *src = s + (cb * sld + rb) * isz;
            switch (isz) {
            case 8: cg_tile_in_8((uint64_t *)scratch, TC, (const uint64_t *)src, sld, nr, nc); break;
            case 4: cg_tile_in_4((uint32_t *)scratch, TC, (const uint32_t *)src, sld, nr, nc); break;
            case 2: cg_tile_in_2((uint16_t *)scratch, TC, (const uint16_t *)src, sld, nr, nc); break;
            default: cg_tile_in_1((uint8_t *)scratch, TC, (const uint8_t *)src, sld, nr, nc); break;
            }
            for (r = 0; r < nr; r++)
                cg_copy_bytes_to(d + ((rb + r) * dld + cb) * isz, (const char *)scratch + (size_t)r * TC * isz,
                                 (size_t)nc * isz, stream);
        }
    }
}

/* cg_transpose_cols: by the AVX-512 kernel where the CPU has it and the
 * copy streams 4- or 8-byte items into 64-byte aligned lines (its whole
 * 16x16 / 8x8 blocks), by the scratch tiles for the rest (the last rows
 * and columns of odd sides, other item sizes, other CPUs). */
static void cg_transpose_cols(char *d, ptrdiff_t dld, const char *s, ptrdiff_t sld, ptrdiff_t nrows,
                              ptrdiff_t c0, ptrdiff_t c1, int isz, int stream)
{
#ifdef CG_COPY_AVX512
    if (stream && (isz == 4 || isz == 8) && ((uintptr_t)(d + c0 * isz) & 63) == 0 && (dld * isz) % 64 == 0
            && cg_copy_has_avx512()) {
        ptrdiff_t V = 64 / isz, SC = CG_T512_STRIP / isz;
        ptrdiff_t rows = nrows / V * V, cols = (c1 - c0) / SC * SC;
        if (rows > 0 && cols > 0) {
            cg_transpose_cols_avx512(d, dld, s, sld, rows, c0, c0 + cols, isz);
            if (rows < nrows)
                cg_transpose_cols_tiles(d + rows * dld * isz, dld, s + rows * isz, sld, nrows - rows,
                                        c0, c0 + cols, isz, stream);
            c0 += cols;
        }
    }
#endif
    if (c0 < c1)
        cg_transpose_cols_tiles(d, dld, s, sld, nrows, c0, c1, isz, stream);
}

#endif
