/*
 * check_expf_bits.c: proves that expf_avx512.h's cg_expf_row_avx512 gives
 * vecmath.h's vm_expf bits for every float32 input (all 2^32 bit patterns:
 * NaNs, infinities, denormals, both zeros), and measures the largest
 * difference, in units of the double's last place, between the fused
 * double result and vm_expf's unrounded double (the margin CG_EXPF_NEAR
 * must cover it), and how often a 16-lane block falls back to vm_expf.
 *
 *   gcc -O3 -ffp-contract=off -Isrc/cgrad bench/check_expf_bits.c -o /tmp/check_expf_bits -lm
 *   /tmp/check_expf_bits          # ~20 s; exit status 0 when every input agrees
 *
 * -ffp-contract=off as cgrad's build: vm_expf is the reference only
 * without contraction (the fallback inside cg_expf_row_avx512 relies on it too).
 * The reference runs as the plain loop cgrad's baseline row kernels are.
 */
#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
typedef ssize_t Py_ssize_t;
#include "expf_avx512.h"

#define BLOCK (1 << 16)

static void ref_row(const float* x, float* o, double* core, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        o[i] = vm_expf(x[i]);
        core[i] = vm_expf_core(x[i]);
    }
}

CG_EXPF_TARGET static void fused_core_row(const float* x, double* o, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i + 8 <= n; i += 8)
        _mm512_storeu_pd(o + i, cg_expf8_fma_pd(_mm256_loadu_ps(x + i)));
}

int main(void)
{
#ifndef CG_EXPF_AVX512
    puts("no AVX-512 path on this platform");
    return 0;
#else
    if (!cg_expf_avx512_ok()) {
        puts("this CPU lacks AVX-512F or FMA: nothing to check");
        return 0;
    }
    static float x[BLOCK], want[BLOCK], got[BLOCK];
    static double core[BLOCK], fused[BLOCK];
    const float zero = 0.0f;
    uint64_t bad = 0, fallbacks = 0, in_range = 0;
    int64_t maxdiff = 0;
    for (uint64_t base = 0; base < (1ULL << 32); base += BLOCK) {
        for (uint32_t i = 0; i < BLOCK; i++) {
            uint32_t b = (uint32_t)(base + i);
            memcpy(&x[i], &b, 4);
        }
        ref_row(x, want, core, BLOCK);
        cg_expf_row_avx512(x, &zero, 0, got, BLOCK);
        fused_core_row(x, fused, BLOCK);
        if (memcmp(want, got, sizeof want) != 0) {
            for (uint32_t i = 0; i < BLOCK; i++) {
                uint32_t a, c;
                memcpy(&a, &want[i], 4);
                memcpy(&c, &got[i], 4);
                if (a != c && bad++ < 10)
                    printf("MISMATCH x=%a (0x%08x): vm_expf 0x%08x, avx512 0x%08x\n", x[i],
                           (uint32_t)(base + i), a, c);
            }
        }
        for (uint32_t i = 0; i < BLOCK; i += 16) {
            int fb = 0;
            for (int j = 0; j < 16; j++) {
                float v = x[i + j];
                if (!(v >= -87.0f && v <= 88.0f)) {
                    fb = 1;
                    continue;
                }
                in_range++;
                int64_t a, c;
                memcpy(&a, &core[i + j], 8);
                memcpy(&c, &fused[i + j], 8);
                int64_t d = a > c ? a - c : c - a;
                if (d > maxdiff) maxdiff = d;
                uint64_t low = (uint64_t)c & 0x1fffffff;
                int64_t off = (int64_t)low - 0x10000000;
                if (off >= -CG_EXPF_NEAR && off <= CG_EXPF_NEAR) fb = 1;
            }
            fallbacks += fb;
        }
    }
    printf("inputs checked: 2^32; in [-87, 88]: %llu; blocks of 16 sent to vm_expf: %llu of %llu "
           "(consecutive bit patterns: out-of-range inputs come in whole blocks)\n",
           (unsigned long long)in_range, (unsigned long long)fallbacks, (unsigned long long)(1ULL << 28));
    printf("largest |fused - vm_expf_core| in [-87, 88]: %lld units in the last place of the double "
           "(margin CG_EXPF_NEAR = %d)\n", (long long)maxdiff, CG_EXPF_NEAR);
    printf("mismatching results: %llu\n", (unsigned long long)bad);
    return bad != 0 || maxdiff > CG_EXPF_NEAR;
#endif
}
