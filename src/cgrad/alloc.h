/* Large buffers for tensor storage.
 *
 * Fresh memory costs a page fault per 4 KiB page on first touch: for the
 * multi-megabyte temporaries of large elementwise work that is a large
 * share of the time. Buffers of CGRAD_MAP_BYTES (4 MiB) and more are
 * therefore mapped straight from the kernel, 2 MiB-aligned and, on Linux,
 * advised as transparent huge pages (one fault per 2 MiB where the system
 * allows it). Pages fresh from the kernel read as zero, so a zero-filled
 * buffer that was just mapped needs no memset (as calloc does): its pages
 * are faulted in by the threads that first write them. Storage also keeps
 * a cache of freed large buffers (storage.pxi), so that a loop reusing the
 * same sizes never goes back to the kernel.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#  include <sys/mman.h>
#  define CGRAD_HAVE_MMAP 1
#endif

#define CGRAD_HUGE_ALIGN ((size_t)2 << 20)
#define CGRAD_MAP_BYTES (2 * CGRAD_HUGE_ALIGN)

/* A buffer of nbytes (a multiple of 64 KiB). *fresh is set to 1 when its
 * pages come straight from the kernel (all zero, none touched yet). Free it
 * with cgrad_free_large(p, nbytes). */
static void *cgrad_alloc_large(size_t nbytes, int *fresh)
{
    void *p = NULL;
    *fresh = 0;
#if defined(CGRAD_HAVE_MMAP)
    if (nbytes >= CGRAD_MAP_BYTES) {
        /* over-map by one huge page and trim both ends to a 2 MiB boundary */
        size_t span = nbytes + CGRAD_HUGE_ALIGN;
        char *raw = (char *)mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *start;
        size_t head, tail;
        if (raw == (char *)MAP_FAILED)
            return NULL;
        start = (char *)(((size_t)raw + CGRAD_HUGE_ALIGN - 1) & ~(CGRAD_HUGE_ALIGN - 1));
        head = (size_t)(start - raw);
        tail = span - head - nbytes;
        if (head)
            munmap(raw, head);
        if (tail)
            munmap(start + nbytes, tail);
#  if defined(__linux__) && defined(MADV_HUGEPAGE)
        madvise(start, nbytes & ~(CGRAD_HUGE_ALIGN - 1), MADV_HUGEPAGE);
#  endif
        *fresh = 1;
        return start;
    }
#endif
#if defined(_WIN32)
    p = malloc(nbytes);
#else
    if (posix_memalign(&p, 64, nbytes) != 0)
        return NULL;
#endif
    return p;
}

static void cgrad_free_large(void *p, size_t nbytes)
{
#if defined(CGRAD_HAVE_MMAP)
    if (nbytes >= CGRAD_MAP_BYTES) {
        munmap(p, nbytes);
        return;
    }
#endif
    free(p);
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
