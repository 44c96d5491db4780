/* stream_fill.h: filling a large buffer with one value by non-temporal
 * (streaming) stores.
 *
 * Why: an ordinary store to a line that is not in cache first reads the
 * line from memory (read for ownership), so a fill of a buffer larger than
 * the caches moves twice its size over the memory bus. Streaming stores
 * write whole lines without reading them: measured on the 2-core CI
 * machine, an 800 MB fill over two threads took 330-380 ms by streaming
 * stores against 930-940 ms by a plain store loop and 690-720 ms by glibc's
 * memset. Streamed lines leave the cache, so only fills far larger than
 * the caches stream (storage.pxi's STREAM_FILL_BYTES); the bytes written are
 * exactly the plain loop's. Buffers whose pages are not yet in memory keep
 * the loop too (cg_page_resident).
 *
 * SSE2 stores (part of x86-64) suffice: the write-combining buffers join
 * them into whole lines. Elsewhere cg_stream_fill returns 0 and the caller
 * keeps its ordinary loop.
 */
#ifndef CGRAD_STREAM_FILL_H
#define CGRAD_STREAM_FILL_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#define CG_HAVE_STREAM 1
#endif
#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

/* Whether the page holding p is in memory. Fresh pages are not: the first
 * store faults each in, and the kernel's clearing of it leaves its lines in
 * cache, where ordinary stores then land; streaming past the cache is then
 * slower (measured: 580-1070 ms against 420-540 ms for 800 MB), so fills of
 * fresh buffers keep the store loop. Unknown (no mincore): 1. */
static int cg_page_resident(const char *p)
{
#if defined(__linux__)
    long ps = sysconf(_SC_PAGESIZE);
    unsigned char v = 1;
    if (ps <= 0)
        return 1;
    if (mincore((void *)((uintptr_t)p & ~(uintptr_t)(ps - 1)), 1, &v) != 0)
        return 1;
    return v & 1;
#else
    (void)p;
    return 1;
#endif
}

/* p[0:nbytes] = the item of isz bytes at value, repeated (isz divides 16,
 * p a multiple of isz from a 16-byte boundary, nbytes a multiple of isz).
 * Returns 1 when done, 0 when it cannot stream (the caller fills). */
static int cg_stream_fill(char *p, size_t nbytes, const char *value, size_t isz)
{
#ifdef CG_HAVE_STREAM
    unsigned char pattern[16];
    size_t k;
    if (isz == 0 || 16 % isz != 0 || ((uintptr_t)p & 15) % isz != 0 || nbytes % isz != 0)
        return 0;
    for (k = 0; k < 16; k += isz)
        memcpy(pattern + k, value, isz);
    /* the head, item by item, up to a 16-byte boundary */
    while (((uintptr_t)p & 15) && nbytes) {
        memcpy(p, value, isz);
        p += isz;
        nbytes -= isz;
    }
    {
        __m128i v = _mm_loadu_si128((const __m128i *)pattern);
        size_t lines = nbytes / 16, i;
        for (i = 0; i < lines; i++)
            _mm_stream_si128((__m128i *)p + i, v);
        p += lines * 16;
        nbytes -= lines * 16;
    }
    /* streamed stores are weakly ordered: fence them before anyone reads */
    _mm_sfence();
    while (nbytes) {
        memcpy(p, value, isz);
        p += isz;
        nbytes -= isz;
    }
    return 1;
#else
    (void)p; (void)nbytes; (void)value; (void)isz;
    return 0;
#endif
}

#endif
