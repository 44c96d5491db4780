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
