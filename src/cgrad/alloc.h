/* Large buffers for tensor storage.
 *
 * Fresh memory costs a page fault per 4 KiB page on first touch: for the
 * multi-megabyte temporaries of large elementwise work that is a large
 * share of the time. Buffers of 4 MiB and more are therefore 2 MiB-aligned
 * and, on Linux, advised as transparent huge pages (one fault per 2 MiB
 * where the system allows it). Storage also keeps a small cache of freed
 * large buffers (storage.pxi), so that a loop reusing the same sizes never
 * goes back to the kernel.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#  include <sys/mman.h>
#endif

#define CGRAD_HUGE_ALIGN ((size_t)2 << 20)

static void *cgrad_alloc_large(size_t nbytes)
{
    void *p = NULL;
#if defined(_WIN32)
    p = malloc(nbytes);
#else
    size_t align = nbytes >= 2 * CGRAD_HUGE_ALIGN ? CGRAD_HUGE_ALIGN : 64;
    if (posix_memalign(&p, align, nbytes) != 0)
        return NULL;
#  if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align == CGRAD_HUGE_ALIGN)
        madvise(p, nbytes & ~(CGRAD_HUGE_ALIGN - 1), MADV_HUGEPAGE);
#  endif
#endif
    return p;
}

/* Buffers above the inline size and below the large ones: 64-byte aligned,
 * as PyTorch's CPU allocator aligns every buffer, so that a consumer that
 * requires it (JAX's DLPack import, wide vector loads) can use them in
 * place. glibc's posix_memalign for 64 bytes costs about what malloc does. */
static void *cgrad_alloc_aligned(size_t nbytes, int zeroed)
{
    void *p = NULL;
#if defined(_WIN32)
    p = zeroed ? calloc(nbytes, 1) : malloc(nbytes);
#else
    if (posix_memalign(&p, 64, nbytes) != 0)
        return NULL;
    if (zeroed)
        memset(p, 0, nbytes);
#endif
    return p;
}
