"""Accuracy and speed of src/cgrad/vecmath_f32.h (float32 exp, log, tanh and
sigmoid computed in float32 arithmetic, used by cgrad.compile's fused
programs), beside vecmath.h's double-computed float32 functions (eager
cgrad's) and PyTorch's own float32 results on the same inputs.

    python bench/check_vecmath_f32.py [--step 1] [--funcs tanh,exp] [--no-torch] [--n 4194304]
                                      [--cflags=-march=x86-64-v3] [--no-fma]

For each function: the maximum error in ulps of the exact value over every
`step`-th float32 bit pattern (step 1: all 2^32) plus the edge values, for
vecmath_f32.h's function (C harness: bench/check_vecmath.py's, compiled with
cgrad's flags) and for torch's (torch.<fn> on the same inputs, against
numpy's float64 result); then the C loops' time per element, float32
arithmetic against vecmath.h's, for the baseline x86-64 and for the
x86-64-v3 (AVX2 + FMA) and v4 (AVX-512) targets of the fused interpreter's
clones (each with vecmath_f32.h's choice of VMF_USE_FMA for that target).
The accuracy is that of the fused interpreter's gcc clones (VMF_USE_FMA=1),
or with --no-fma that of a build without fma (MSVC, Apple clang on x86-64);
the fused multiply-adds are libm calls in a baseline build (the same bits,
slowly): --cflags=-march=x86-64-v3 makes the accuracy run fast.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check_vecmath  # noqa: E402

FUNCS = ["exp", "log", "tanh", "sigmoid"]

TIMING = r"""
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "vecmath_f32.h"

#define KERN(name, f) __attribute__((noinline)) static void name(const float* restrict x, float* restrict y, \
    long n) { for (long i = 0; i < n; i++) y[i] = f(x[i]); }
KERN(d_exp, vm_expf) KERN(d_log, vm_logf) KERN(d_tanh, vm_tanhf) KERN(d_sigmoid, vm_sigmoidf)
KERN(f_exp, vmf_expf) KERN(f_log, vmf_logf) KERN(f_tanh, vmf_tanhf) KERN(f_sigmoid, vmf_sigmoidf)
typedef void (*kern)(const float*, float*, long);
static kern D[] = {d_exp, d_log, d_tanh, d_sigmoid}, F[] = {f_exp, f_log, f_tanh, f_sigmoid};
static const char* NAMES[] = {"exp", "log", "tanh", "sigmoid"};

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
static int cmp(const void* a, const void* b) { double x = *(double*)a, y = *(double*)b; return x < y ? -1 : x > y; }
static double median_ns(kern k, const float* x, float* y, long n, int repeat)
{
    double t[64];
    for (int r = 0; r < repeat; r++) { double t0 = now(); k(x, y, n); t[r] = (now() - t0) * 1e9 / n; }
    qsort(t, repeat, sizeof t[0], cmp);
    return t[repeat / 2];
}

int main(int argc, char** argv)
{
    long n = atol(argv[1]);
    int repeat = atoi(argv[2]);
    float* x = malloc(n * sizeof(float));
    float* y = malloc(n * sizeof(float));
    srand(1);
    for (int f = 0; f < 4; f++) {
        for (long i = 0; i < n; i++) {
            float u = (float)rand() / RAND_MAX;
            x[i] = f == 1 ? u * 100.0f + 1e-3f : (u - 0.5f) * 20.0f;
        }
        printf("%-8s vecmath.h (double inside) %.3f ns/element, vecmath_f32.h %.3f ns/element\n", NAMES[f],
               median_ns(D[f], x, y, n, repeat), median_ns(F[f], x, y, n, repeat));
    }
    return 0;
}
"""


def harness_source():
    src = check_vecmath.HARNESS.replace('#include "vecmath.h"', '#include "vecmath_f32.h"')
    for fn in FUNCS:
        old = f"KERN(k_{fn}f, float, vm_{fn}f)"
        if old not in src:
            raise RuntimeError(f"check_vecmath.HARNESS changed: {old} not found")
        src = src.replace(old, f"KERN(k_{fn}f, float, vmf_{fn}f)")
    return src


def ulp_error(y, ref):
    """float32 results y against float64 references, in float32 ulps of the
    reference (inf where a NaN or an infinity disagrees)."""
    ref = ref.astype(np.float64)
    y = y.astype(np.float64)
    a = np.abs(ref)
    with np.errstate(all="ignore"):
        e = np.floor(np.log2(np.where(a > 0, a, 1.0)))
        ulp = np.where(a < np.finfo(np.float32).tiny, 2.0 ** -149, 2.0 ** (e - 23))
        err = np.abs(y - ref) / ulp
    finite = np.isfinite(ref.astype(np.float32)) & np.isfinite(y)
    same_special = (np.isnan(ref) & np.isnan(y)) | ((ref.astype(np.float32) == y) & ~finite)
    return np.where(finite & ~np.isnan(ref), err, np.where(same_special, 0.0, np.inf))


def reference(fn, x):
    x = x.astype(np.float64)
    with np.errstate(all="ignore"):
        if fn == "sigmoid":
            return np.where(x >= 0, 1.0 / (1.0 + np.exp(-x)), np.exp(x) / (1.0 + np.exp(x)))
        return getattr(np, fn)(x)


def torch_max_ulp(fn, step):
    import torch
    torch.set_num_threads(1)
    worst, worst_x = 0.0, None
    chunk = 1 << 24
    for start in range(0, 1 << 32, chunk * step):
        bits = np.arange(start, min(start + chunk * step, 1 << 32), step, dtype=np.uint64).astype(np.uint32)
        x = bits.view(np.float32)
        y = getattr(torch, fn)(torch.from_numpy(x)).numpy()
        err = ulp_error(y, reference(fn, x))
        k = int(np.argmax(err))
        if err[k] > worst:
            worst, worst_x = float(err[k]), float(x[k])
    return worst, worst_x


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--funcs", default=",".join(FUNCS))
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--n", type=int, default=1 << 22, help="elements for the timing")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--cflags", default="", help="extra gcc flags for the accuracy harness")
    parser.add_argument("--no-fma", action="store_true", help="the accuracy without fma (VMF_USE_FMA=0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src, exe = os.path.join(tmp, "harness.c"), os.path.join(tmp, "harness")
        with open(src, "w") as f:
            f.write(harness_source())
        use_fma = "-DVMF_USE_FMA=" + ("0" if args.no_fma else "1")
        subprocess.run(["gcc", *check_vecmath.CFLAGS, use_fma, *args.cflags.split(), "-I", check_vecmath.INCLUDE, src,
                        "-o", exe, "-lm"], check=True)
        for fn in args.funcs.split(","):
            t0 = time.perf_counter()
            out = subprocess.run([exe, "f32", fn, str(args.step)], check=True, capture_output=True, text=True).stdout
            r = json.loads(out.splitlines()[-1])
            line = (f"{fn:8s} vecmath_f32.h max {r['max_ulp']:.3f} ulp (mean {r['mean_ulp']:.3f}, "
                    f">1ulp {r['n_over_1']} of {r['n']}) worst x={r['worst_x']}")
            if not args.no_torch:
                worst, worst_x = torch_max_ulp(fn, args.step)
                line += f";  torch max {worst:.3f} ulp (x={worst_x!r})"
            print(line + f"  [{time.perf_counter() - t0:.0f} s]", flush=True)
        src, exe = os.path.join(tmp, "timing.c"), os.path.join(tmp, "timing")
        with open(src, "w") as f:
            f.write(TIMING)
        for arch in ([], ["-march=x86-64-v3"], ["-march=x86-64-v4"]):
            subprocess.run(["gcc", *check_vecmath.CFLAGS, *arch, "-I", check_vecmath.INCLUDE, src, "-o", exe, "-lm"],
                           check=True)
            print("timing", " ".join(arch) or "(baseline x86-64)")
            sys.stdout.write(subprocess.run([exe, str(args.n), str(args.repeat)], check=True, capture_output=True,
                                            text=True).stdout)


if __name__ == "__main__":
    main()
