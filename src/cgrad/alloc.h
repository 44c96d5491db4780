/* Large buffers for tensor storage.
 *
 * Fresh memory costs a page fault per 4 KiB page on first touch. Buffers of
 * CGRAD_MAP_BYTES (4 MiB) and more are mapped straight from the kernel:
 * pages fresh from the kernel read as zero, so a zero-filled buffer that was
 * just mapped needs no memset (as calloc does): its pages are faulted in by
 * the threads that first write them. Storage also keeps a cache of freed
 * large buffers (storage.pxi), so that a loop reusing the same sizes never
 * goes back to the kernel.
 *
 * Transparent huge pages are asked for (2 MiB-aligned mapping, madvise
 * MADV_HUGEPAGE) only when THP_MEM_ALLOC_ENABLE is set, as PyTorch's CPU
 * allocator does. They were the default until round 9, when measured on the
 * 2-core VM (Firecracker, free page reporting): the first touch of a fresh
 * huge page cost 2-4 s a GB (the host backs the page again), of a 4 KiB page
 * 0.4-0.7 s; the first (x * y).exp().sum().backward() on 200M elements took
 * 4.9-6.5 s with huge pages against 1.6 s without, while repeated calls
 * (cached buffers, no faults) ran alike (0.52-0.56 s); a transposed copy of
 * 8192x8192 float32 and a 200M sum were 10-20% faster on huge pages.
 */
#include <stdlib.h>
#include <string.h>
#if defined(__unix__) || defined(__APPLE__)
#  include <sys/mman.h>
#  define CGRAD_HAVE_MMAP 1
#endif

#define CGRAD_HUGE_ALIGN ((size_t)2 << 20)
#define CGRAD_MAP_BYTES (2 * CGRAD_HUGE_ALIGN)

#if defined(CGRAD_HAVE_MMAP)
/* THP_MEM_ALLOC_ENABLE as PyTorch reads it (c10::utils::check_env): "1"
 * enables huge pages; unset or anything else leaves them off. Read once. */
static int cgrad_huge_pages_enabled(void)
{
    static int state = -1;
    if (state < 0) {
        const char *v = getenv("THP_MEM_ALLOC_ENABLE");
        state = v != NULL && strcmp(v, "1") == 0;
    }
    return state;
}
#endif

/* A buffer of nbytes (a multiple of 64 KiB). *fresh is set to 1 when its
 * pages come straight from the kernel (all zero, none touched yet). Free it
 * with cgrad_free_large(p, nbytes). */
static void *cgrad_alloc_large(size_t nbytes, int *fresh)
{
    void *p = NULL;
    *fresh = 0;
#if defined(CGRAD_HAVE_MMAP)
    if (nbytes >= CGRAD_MAP_BYTES) {
        /* with huge pages: over-map by one huge page and trim both ends to
         * a 2 MiB boundary; without: page-aligned as mapped */
        size_t align = cgrad_huge_pages_enabled() ? CGRAD_HUGE_ALIGN : 0;
        size_t span = nbytes + align;
        char *raw = (char *)mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *start;
        size_t head, tail;
        if (raw == (char *)MAP_FAILED)
            return NULL;
        start = align ? (char *)(((size_t)raw + align - 1) & ~(align - 1)) : raw;
        head = (size_t)(start - raw);
        tail = span - head - nbytes;
        if (head)
            munmap(raw, head);
        if (tail)
            munmap(start + nbytes, tail);
#  if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (align)
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
