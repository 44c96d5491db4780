"""Accuracy (and speed) check of cgrad's vectorised math, src/cgrad/vecmath.h.

    python bench/check_vecmath.py check [--step 1] [--n64 20000000] [--funcs exp,log]
        compiles a C harness with the header (gcc -O3 -ffp-contract=off, the
        flags of cgrad's build, so the loops vectorise as they do in cgrad)
        and measures the error in ulps:
        float32: every `step`-th bit pattern of all 2^32 (step 1: exhaustive,
          ~1 min per function) plus the edge values, against glibc's double
          functions (error < 1 double ulp = 2^-29 float ulp);
        float64: n64 random inputs per function (uniform on the interesting
          ranges, log-uniform magnitudes, raw random bit patterns) plus edge
          values, against glibc's x87 long double functions (64-bit mantissa,
          ~2^-11 double ulp);
        and NaN/inf/signed-zero agreement: a result that must be NaN, inf or
        a signed zero and is not counts as an infinite error.
    python bench/check_vecmath.py refcheck
        validates the long double references against mpmath on a sample.
    python bench/check_vecmath.py fit
        recomputes the polynomial coefficients of vecmath.h (mpmath).
    python bench/check_vecmath.py vec
        shows which of the header's loops gcc vectorises (-fopt-info-vec).
    python bench/check_vecmath.py kernels [--n 4194304] [--repeat 9] [--cflags=-mavx2]
        the math alone in C: the header's loops vs libm's, ns per element
        (--cflags: as compiled for a target_clones clone).
    python bench/check_vecmath.py timing [--n 4194304] [--repeat 15] [--min]
        cgrad vs torch (default threads and 1 thread), forward and
        forward+backward of exp, tanh, sigmoid, log on float32 and float64.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
INCLUDE = os.path.join(ROOT, "src", "cgrad")
CFLAGS = ["-O3", "-ffp-contract=off", "-std=gnu11"]
FUNCS = ["exp", "log", "tanh", "sigmoid"]
# float32 only: their float64 kernels stay on glibc
FUNCS32 = ["erf", "erfc", "expm1", "log1p"]
ALL_FUNCS = FUNCS + FUNCS32

HARNESS = r"""
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vecmath.h"

#define KERN(name, T, f) \
    __attribute__((noinline)) static void name(const T* restrict x, T* restrict y, long n) \
    { for (long i = 0; i < n; i++) y[i] = f(x[i]); }
KERN(k_expf, float, vm_expf)
KERN(k_logf, float, vm_logf)
KERN(k_tanhf, float, vm_tanhf)
KERN(k_sigmoidf, float, vm_sigmoidf)
KERN(k_exp, double, vm_exp)
KERN(k_log, double, vm_log)
KERN(k_tanh, double, vm_tanh)
KERN(k_sigmoid, double, vm_sigmoid)
KERN(k_erff, float, vm_erff)
KERN(k_erfcf, float, vm_erfcf)
KERN(k_expm1f, float, vm_expm1f)
KERN(k_log1pf, float, vm_log1pf)

typedef void (*kf32)(const float*, float*, long);
typedef void (*kf64)(const double*, double*, long);
#define NFUNCS 8
#define NFUNCS64 4
static const char* NAMES[NFUNCS] = {"exp", "log", "tanh", "sigmoid", "erf", "erfc", "expm1", "log1p"};
static kf32 K32[NFUNCS] = {k_expf, k_logf, k_tanhf, k_sigmoidf, k_erff, k_erfcf, k_expm1f, k_log1pf};
static kf64 K64[] = {k_exp, k_log, k_tanh, k_sigmoid};

static double ref32(int fn, float xf)
{
    double x = xf;
    switch (fn) {
    case 0: return exp(x);
    case 1: return log(x);
    case 2: return tanh(x);
    case 3: return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    case 4: return erf(x);
    case 5: return erfc(x);
    case 6: return expm1(x);
    default: return log1p(x);
    }
}

static long double ref64(int fn, double xd)
{
    long double x = xd;
    switch (fn) {
    case 0: return expl(x);
    case 1: return logl(x);
    case 2: return tanhl(x);
    default: return x >= 0 ? 1.0L / (1.0L + expl(-x)) : expl(x) / (1.0L + expl(x));
    }
}

/* error of y in ulps of the exact value ref; infinite when a NaN, an inf or
 * a signed zero is wrong */
static double err32(float y, double ref)
{
    if (isnan(ref)) return isnan(y) ? 0 : INFINITY;
    if (isnan(y)) return INFINITY;
    float c = (float)ref;
    if (isinf(c) || isinf(y)) return y == c ? 0 : INFINITY;
    if (y == 0 && ref == 0) return !signbit(y) == !signbit(ref) ? 0 : INFINITY;
    double a = fabs(ref);
    int e;
    frexp(a, &e);
    double u = a < FLT_MIN ? 0x1p-149 : ldexp(1.0, e - 24);
    return fabs((double)y - ref) / u;
}

static double err64(double y, long double ref)
{
    if (isnan(ref)) return isnan(y) ? 0 : INFINITY;
    if (isnan(y)) return INFINITY;
    double c = (double)ref;
    if (isinf(c) || isinf(y)) return y == c ? 0 : INFINITY;
    if (y == 0 && ref == 0) return !signbit(y) == !signbit(ref) ? 0 : INFINITY;
    long double a = fabsl(ref);
    int e;
    frexpl(a, &e);
    long double u = a < DBL_MIN ? 0x1p-1074L : ldexpl(1.0L, e - 53);
    return (double)(fabsl((long double)y - ref) / u);
}

typedef struct { double max, sum; long n, over1, over05; double wx, wy, wref; } stat_t;

static void account(stat_t* s, double e, double x, double y, double ref)
{
    s->n++;
    if (isfinite(e)) s->sum += e;
    if (e > 1.0) s->over1++;
    if (e > 0.5) s->over05++;
    if (!(e <= s->max)) { s->max = e; s->wx = x; s->wy = y; s->wref = ref; }
}

static void report(const char* fn, const char* dt, const char* set, stat_t* s)
{
    printf("{\"func\": \"%s\", \"dtype\": \"%s\", \"set\": \"%s\", \"n\": %ld, "
           "\"max_ulp\": %.4f, \"mean_ulp\": %.4f, \"frac_over_0.5\": %.3g, \"n_over_1\": %ld, "
           "\"worst_x\": \"%a\", \"worst_y\": \"%a\", \"worst_ref\": \"%a\"}\n",
           fn, dt, set, s->n, isinf(s->max) ? 1e300 : s->max, s->n ? s->sum / s->n : 0.0,
           s->n ? (double)s->over05 / s->n : 0.0, s->over1, s->wx, s->wy, s->wref);
    fflush(stdout);
}

#define CHUNK 65536

static void run32(int fn, long step)
{
    static float x[CHUNK], y[CHUNK];
    stat_t s = {0};
    uint64_t u = 0;
    const uint64_t end = 1ULL << 32;
    static const float edges[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, -NAN, FLT_MIN, -FLT_MIN,
        FLT_TRUE_MIN, -FLT_TRUE_MIN, FLT_MAX, -FLT_MAX, 1.0f, -1.0f, 0.5f, 2.0f,
        88.72283f, 88.72284f, 88.7229f, -87.33655f, -103.27893f, -103.97208f, -103.972084f,
        -104.0f, 9.0f, 9.1f, 10.0f, -16.635532f, 16.635532f, 100.0f, -100.0f, 1e-30f, -1e-30f,
        /* erf, erfc, expm1, log1p's edges */
        0.75f, -0.75f, 0.74999994f, 3.9192059f, -3.9192059f, 4.0f, 10.0546f, 10.05f, 10.1f, -10.1f, 11.5f,
        -0.99999994f, -1.0000001f, 1.5e-8f, -1.5e-8f, 1e-10f, 536870912.0f, 536870976.0f,
        0.34657359f, -0.34657359f, -17.0f, 88.7228317f, 130.0f, -130.0f, -130.1f};
    /* the edge values first */
    long ne = sizeof edges / sizeof edges[0];
    K32[fn](edges, y, ne);
    for (long i = 0; i < ne; i++) account(&s, err32(y[i], ref32(fn, edges[i])), edges[i], y[i], ref32(fn, edges[i]));
    while (u < end) {
        long m = 0;
        for (; m < CHUNK && u < end; m++, u += step) {
            uint32_t b = (uint32_t)u;
            memcpy(&x[m], &b, 4);
        }
        K32[fn](x, y, m);
        for (long i = 0; i < m; i++) {
            double r = ref32(fn, x[i]);
            account(&s, err32(y[i], r), x[i], y[i], r);
        }
    }
    report(NAMES[fn], "float32", step == 1 ? "all 2^32" : "strided", &s);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t next64(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double unif(double lo, double hi) { return lo + (hi - lo) * ((next64() >> 11) * 0x1p-53); }
static double bits_double(uint64_t b) { double d; memcpy(&d, &b, 8); return d; }

typedef struct { const char* name; int kind; double a, b; } set_t;
/* kind 0: uniform [a, b]; 1: +-2^e with e uniform in [a, b], random mantissa;
 * 2: random bit patterns; 3: positive random bit patterns (finite);
 * 4: random bits below 2^a (denormals and tiny normals) */
static double draw(const set_t* st)
{
    switch (st->kind) {
    case 0: return unif(st->a, st->b);
    case 1: {
        double m = 1.0 + (next64() >> 12) * 0x1p-52;
        int e = (int)floor(unif(st->a, st->b + 1));
        double v = ldexp(m, e);
        return (next64() & 1) ? -v : v;
    }
    case 2: return bits_double(next64());
    case 3: return bits_double(next64() % 0x7ff0000000000000ULL);
    default: return bits_double(next64() % (uint64_t)(0x0010000000000000ULL + (uint64_t)st->a * 0x0010000000000000ULL));
    }
}

static const set_t SETS[4][8] = {
    {{"uniform[-746,710]", 0, -746, 710}, {"uniform[-1,1]", 0, -1, 1}, {"uniform[-20,20]", 0, -20, 20},
     {"uniform[700,710]", 0, 700, 710}, {"uniform[-746,-700]", 0, -746, -700},
     {"+-2^[-1074,10]", 1, -1074, 10}, {"random bits", 2, 0, 0}, {0}},
    {{"positive bits", 3, 0, 0}, {"uniform[0.5,2]", 0, 0.5, 2}, {"uniform[1-1e-3,1+1e-3]", 0, 1 - 1e-3, 1 + 1e-3},
     {"denormal/tiny bits", 4, 2, 0}, {"uniform[0,1e6]", 0, 0, 1e6}, {"random bits", 2, 0, 0}, {0}},
    {{"uniform[-1,1]", 0, -1, 1}, {"uniform[-0.625,0.625]", 0, -0.625, 0.625}, {"uniform[0.55,0.7]", 0, 0.55, 0.7}, {"uniform[-25,25]", 0, -25, 25},
     {"+-2^[-1074,6]", 1, -1074, 6}, {"uniform[-3,3]", 0, -3, 3}, {"random bits", 2, 0, 0}, {0}},
    {{"uniform[-2,2]", 0, -2, 2}, {"uniform[-50,50]", 0, -50, 50}, {"uniform[-800,800]", 0, -800, 800},
     {"uniform[-746,-700]", 0, -746, -700}, {"+-2^[-1074,10]", 1, -1074, 10}, {"random bits", 2, 0, 0}, {0}},
};

static void run64(int fn, long n)
{
    static double x[CHUNK], y[CHUNK];
    static const double edges[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, -NAN, DBL_MIN, -DBL_MIN,
        0x1p-1074, -0x1p-1074, DBL_MAX, -DBL_MAX, 1.0, -1.0, 0.5, 2.0,
        709.782712893384, 0x1.62e42fefa39efp+9, 0x1.62e42fefa39fp+9, 710.0,
        -745.1332191019411, -0x1.74910d52d3051p+9, -0x1.74910d52d3052p+9, -746.0,
        -708.3964185322641, -708.4, 0.625, 0x1.3ffffffffffffp-1, 22.0, 0x1.5fffffffffffp+4, 40.0,
        1e-300, -1e-300, 0x1p-28, -0x1p-28, 36.7368005696771, -36.7368005696771};
    stat_t total = {0};
    long ne = sizeof edges / sizeof edges[0];
    K64[fn](edges, y, ne);
    for (long i = 0; i < ne; i++) {
        long double r = ref64(fn, edges[i]);
        account(&total, err64(y[i], r), edges[i], y[i], (double)r);
    }
    int nsets = 0;
    while (SETS[fn][nsets].name) nsets++;
    for (int k = 0; k < nsets; k++) {
        stat_t s = {0};
        long left = n / nsets;
        while (left > 0) {
            long m = left < CHUNK ? left : CHUNK;
            for (long i = 0; i < m; i++) x[i] = draw(&SETS[fn][k]);
            K64[fn](x, y, m);
            for (long i = 0; i < m; i++) {
                long double r = ref64(fn, x[i]);
                double e = err64(y[i], r);
                account(&s, e, x[i], y[i], (double)r);
                account(&total, e, x[i], y[i], (double)r);
            }
            left -= m;
        }
        report(NAMES[fn], "float64", SETS[fn][k].name, &s);
    }
    report(NAMES[fn], "float64", "all", &total);
}

int main(int argc, char** argv)
{
    /* usage: harness f32|f64 func step_or_n [seed] */
    int fn = -1;
    for (int i = 0; i < NFUNCS; i++) if (!strcmp(argv[2], NAMES[i])) fn = i;
    if (fn < 0 || (fn >= NFUNCS64 && strcmp(argv[1], "f32"))) return 2;
    if (argc > 4) rng_state = strtoull(argv[4], 0, 0);
    if (!strcmp(argv[1], "f32")) run32(fn, atol(argv[3]));
    else run64(fn, atol(argv[3]));
    return 0;
}
"""


def build_harness(tmp):
    src = os.path.join(tmp, "harness.c")
    exe = os.path.join(tmp, "harness")
    with open(src, "w") as f:
        f.write(HARNESS)
    subprocess.run(["gcc", *CFLAGS, "-I", INCLUDE, src, "-o", exe, "-lm"], check=True)
    return exe


def cmd_check(args):
    funcs = args.funcs.split(",") if args.funcs else ALL_FUNCS
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        exe = build_harness(tmp)
        for fn in funcs:
            for dt, arg in (("f32", args.step), ("f64", args.n64)):
                if dt == "f32" and args.skip32 or dt == "f64" and (args.skip64 or fn in FUNCS32):
                    continue
                t0 = time.perf_counter()
                out = subprocess.run([exe, dt, fn, str(arg), str(args.seed)], check=True,
                                     capture_output=True, text=True).stdout
                for line in out.splitlines():
                    r = json.loads(line)
                    results.append(r)
                    if r["set"] in ("all", "all 2^32", "strided"):
                        print(f"{fn:8s} {r['dtype']:8s} n={r['n']:<11d} max {r['max_ulp']:.3f} ulp "
                              f"(mean {r['mean_ulp']:.3f}, >0.5ulp {r['frac_over_0.5']:.2e}, "
                              f">1ulp {r['n_over_1']}) worst x={r['worst_x']} "
                              f"[{time.perf_counter() - t0:.0f} s]", flush=True)
                    elif args.verbose:
                        print(f"    {r['set']:24s} max {r['max_ulp']:.3f} ulp  worst x={r['worst_x']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    bad = [r for r in results if r["max_ulp"] > args.limit]
    if bad:
        print("FAILED: over", args.limit, "ulp:", [(r["func"], r["dtype"], r["set"]) for r in bad])
        return 1
    return 0


def cmd_refcheck(args):
    """The long double references against mpmath (60 digits)."""
    import mpmath as mp
    import numpy as np
    mp.mp.dps = 60
    rng = np.random.default_rng(1)
    xs = {
        "exp": np.concatenate([rng.uniform(-745, 709, 3000), rng.uniform(-1, 1, 2000)]),
        "log": np.concatenate([np.exp(rng.uniform(-740, 709, 3000)), rng.uniform(0.5, 2, 2000)]),
        "tanh": np.concatenate([rng.uniform(-1, 1, 3000), rng.uniform(-20, 20, 2000)]),
        "sigmoid": np.concatenate([rng.uniform(-2, 2, 2000), rng.uniform(-740, 40, 3000)]),
    }
    ld = np.longdouble

    def ref_ld(fn, x):
        x = ld(x)
        if fn == "sigmoid":
            return ld(1) / (ld(1) + np.exp(-x)) if x >= 0 else np.exp(x) / (ld(1) + np.exp(x))
        return getattr(np, fn)(x)

    def ref_mp(fn, x):
        x = mp.mpf(float(x))
        if fn == "sigmoid":
            return 1 / (1 + mp.exp(-x))
        return getattr(mp, fn)(x)

    for fn, arr in xs.items():
        worst = 0.0
        for x in arr:
            a, b = ref_ld(fn, x), ref_mp(fn, x)
            ulp = mp.mpf(2) ** (mp.floor(mp.log(abs(b), 2)) - 52) if abs(b) >= mp.mpf(2) ** -1022 \
                else mp.mpf(2) ** -1074
            m, e = np.frexp(a)                 # long double -> mpf exactly
            hi = float(m)
            a = mp.ldexp(mp.mpf(hi) + mp.mpf(float(m - ld(hi))), int(e))
            worst = max(worst, float(abs(a - b) / ulp))
        print(f"{fn:8s} long double reference vs mpmath: max {worst:.2e} float64 ulp over {len(arr)} inputs")


def cmd_fit(args):
    import mpmath as mp
    mp.mp.dps = 60

    def fit(name, f, a, b, deg):
        c, err = mp.chebyfit(f, [a, b], deg + 1, error=True)
        print(f"/* {name}: degree {deg} on [{float(a):.6g}, {float(b):.6g}], fit error {mp.nstr(err, 3)} */")
        for i, x in enumerate(c):
            print(f"#define {name}{deg - i} {float(x)!r}")

    def q_exp(r):       # (e^r - 1 - r) / r^2
        if abs(r) < mp.mpf("1e-15"):
            return mp.mpf(1) / 2 + r / 6 + r * r / 24
        return (mp.exp(r) - 1 - r) / r ** 2

    def p_tanh(z):      # (tanh x - x) / x^3, z = x^2
        if z < mp.mpf("1e-30"):
            return mp.mpf(-1) / 3 + 2 * z / 15
        x = mp.sqrt(z)
        return (mp.tanh(x) - x) / x ** 3

    def r_atanh(z):     # (atanh(s)/s - 1) / s^2, z = s^2
        if z < mp.mpf("1e-30"):
            return mp.mpf(1) / 3 + z / 5
        s = mp.sqrt(z)
        return (mp.atanh(s) / s - 1) / z

    def g_erfc(t):      # erfc(x) e^{x^2} / t, t = 1 / (1 + 0.3 x)
        x = (1 / t - 1) / mp.mpf("0.3")
        return mp.erfc(x) * mp.exp(x * x) / t

    def q_erf(z):       # erf(x) / x, z = x^2
        if z < mp.mpf("1e-30"):
            return 2 / mp.sqrt(mp.pi) * (1 - z / 3)
        x = mp.sqrt(z)
        return mp.erf(x) / x

    ln2h = mp.log(2) / 2
    smax = (mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)
    fit("VM_EXP_Q", q_exp, -ln2h, ln2h, 10)
    fit("VM_EXPF_Q", q_exp, -ln2h, ln2h, 5)
    fit("VM_TANH_P", p_tanh, 0, mp.mpf(0.625) ** 2, 11)
    fit("VM_LOGF_R", r_atanh, 0, smax ** 2, 3)
    fit("VM_ERFC_P", g_erfc, 1 / (1 + mp.mpf("0.3") * mp.mpf("10.1")), 1, 12)
    fit("VM_ERF_P", q_erf, 0, mp.mpf("0.75") ** 2, 7)


VEC_SRC = """#include "vecmath.h"
#define K(f, T) void k_##f(const T* x, T* y, long n) { for (long i = 0; i < n; i++) y[i] = f(x[i]); }
""" + "".join(f"K({f}, {t})\n" for t, sfx in (("double", ""), ("float", "f"))
              for f in (f"vm_{n}{sfx}" for n in FUNCS)) + "".join(f"K(vm_{n}f, float)\n" for n in FUNCS32)


def cmd_vec(args):
    """Which of the header's functions gcc vectorises in a plain loop (as
    cgrad's kernels are: no restrict, so with a runtime alias check)."""
    import re
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "vec.c")
        with open(src, "w") as f:
            f.write(VEC_SRC)
        p = subprocess.run(["gcc", *CFLAGS, "-fopt-info-vec-optimized", "-I", INCLUDE, "-c", src,
                            "-o", os.path.join(tmp, "vec.o")], capture_output=True, text=True)
        if p.returncode:
            print(p.stderr)
            return 1
        done = {int(m.group(1)) for m in re.finditer(r"vec\.c:(\d+):\d+: optimized: loop vectorized", p.stderr)}
    bad = 0
    for i, line in enumerate(VEC_SRC.splitlines(), 1):
        if line.startswith("K("):
            ok = i in done
            bad += not ok
            print(f"{line[2:-1]:22s} {'vectorized' if ok else 'NOT vectorized'}")
    return 1 if bad else 0


KERNELS_SRC = r"""
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "vecmath.h"
/* the sigmoid cgrad had before vecmath.h: two branches around libm */
static inline float sig_libm_f(float x) { if (x >= 0) return 1 / (1 + expf(-x)); float e = expf(x); return e / (1 + e); }
static inline double sig_libm(double x) { if (x >= 0) return 1 / (1 + exp(-x)); double e = exp(x); return e / (1 + e); }
#define K(name, T, f) __attribute__((noinline)) static void name(const T* x, T* y, long n) \
    { for (long i = 0; i < n; i++) y[i] = f(x[i]); }
K(vexpf, float, vm_expf) K(vlogf, float, vm_logf) K(vtanhf, float, vm_tanhf) K(vsigf, float, vm_sigmoidf)
K(lexpf, float, expf) K(llogf, float, logf) K(ltanhf, float, tanhf) K(lsigf, float, sig_libm_f)
K(vexp, double, vm_exp) K(vlog, double, vm_log) K(vtanh, double, vm_tanh) K(vsig, double, vm_sigmoid)
K(lexp, double, exp) K(llog, double, log) K(ltanh, double, tanh) K(lsig, double, sig_libm)
K(verff, float, vm_erff) K(verfcf, float, vm_erfcf) K(vexpm1f, float, vm_expm1f) K(vlog1pf, float, vm_log1pf)
K(lerff, float, erff) K(lerfcf, float, erfcf) K(lexpm1f, float, expm1f) K(llog1pf, float, log1pf)
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + 1e-9 * t.tv_nsec; }
#define BEST(call) ({ double b = 1e9; for (int r = 0; r < reps; r++) { double t0 = now(); call; t0 = now() - t0; if (t0 < b) b = t0; } b * 1e9 / n; })
int main(int argc, char** argv)
{
    long n = atol(argv[1]); int reps = atoi(argv[2]);
    float *xf = malloc(n * 4), *yf = malloc(n * 4); double *xd = malloc(n * 8), *yd = malloc(n * 8);
    srand(1);
    for (long i = 0; i < n; i++) { xd[i] = (rand() / (double)RAND_MAX - 0.5) * 8; xf[i] = (float)xd[i]; }
    const char* names[] = {"exp", "log", "tanh", "sigmoid"};
    void (*v32[])(const float*, float*, long) = {vexpf, vlogf, vtanhf, vsigf};
    void (*l32[])(const float*, float*, long) = {lexpf, llogf, ltanhf, lsigf};
    void (*v64[])(const double*, double*, long) = {vexp, vlog, vtanh, vsig};
    void (*l64[])(const double*, double*, long) = {lexp, llog, ltanh, lsig};
    for (int k = 0; k < 4; k++) {
        if (k == 1) for (long i = 0; i < n; i++) { xd[i] = fabs(xd[i]) + 0.01; xf[i] = (float)xd[i]; }
        double a = BEST(v32[k](xf, yf, n)), b = BEST(l32[k](xf, yf, n));
        double c = BEST(v64[k](xd, yd, n)), d = BEST(l64[k](xd, yd, n));
        printf("%-8s float32: vecmath %5.2f ns/elem, libm %5.2f | float64: vecmath %5.2f, libm %5.2f\n",
               names[k], a, b, c, d);
    }
    const char* names32[] = {"erf", "erfc", "expm1", "log1p"};
    void (*w32[])(const float*, float*, long) = {verff, verfcf, vexpm1f, vlog1pf};
    void (*m32[])(const float*, float*, long) = {lerff, lerfcf, lexpm1f, llog1pf};
    for (int k = 0; k < 4; k++) {
        if (k == 3) for (long i = 0; i < n; i++) xf[i] = (float)fabs(xd[i]);
        double a = BEST(w32[k](xf, yf, n)), b = BEST(m32[k](xf, yf, n));
        printf("%-8s float32: vecmath %5.2f ns/elem, libm %5.2f\n", names32[k], a, b);
    }
    return 0;
}
"""


def cmd_kernels(args):
    """The math alone: the header's loops against libm's (what cgrad had),
    on arrays in memory, no allocation; best of `repeat`."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "kernels.c")
        exe = os.path.join(tmp, "kernels")
        with open(src, "w") as f:
            f.write(KERNELS_SRC)
        subprocess.run(["gcc", *CFLAGS, *args.cflags.split(), "-I", INCLUDE, src, "-o", exe, "-lm"], check=True)
        subprocess.run([exe, str(args.n), str(args.repeat)], check=True)


def cmd_timing(args):
    import numpy as np
    import torch
    import cgrad

    def median_ms(fn, repeat):
        fn()
        ts = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - t0)
        ts.sort()
        return 1e3 * (ts[0] if args.min else ts[len(ts) // 2])

    rng = np.random.default_rng(0)
    nthreads = torch.get_num_threads()
    rows = []
    for dt in ("float32", "float64"):
        base = rng.standard_normal(args.n).astype(dt)
        for op in ("exp", "tanh", "sigmoid", "log"):
            arr = np.abs(base) + 0.1 if op == "log" else base
            row = [op, dt]
            for lib in ("cgrad", "torch1", "torch"):
                mod = cgrad if lib == "cgrad" else torch
                if lib.startswith("torch"):
                    torch.set_num_threads(1 if lib == "torch1" else nthreads)
                x = mod.tensor(arr, requires_grad=True)
                f = getattr(mod, op)

                def fwd():
                    with mod.no_grad():
                        f(x)

                def fwdbwd():
                    x.grad = None
                    f(x).sum().backward()
                row += [median_ms(fwd, args.repeat), median_ms(fwdbwd, args.repeat)]
            torch.set_num_threads(nthreads)
            rows.append(row)
            print(f"{op:8s} {dt:8s} fwd: cgrad {row[2]:7.2f} ms  torch(1t) {row[4]:7.2f}  torch({nthreads}t) "
                  f"{row[6]:7.2f} | fwd+bwd: cgrad {row[3]:7.2f}  torch(1t) {row[5]:7.2f}  "
                  f"torch({nthreads}t) {row[7]:7.2f}", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd")
    c = sub.add_parser("check")
    c.add_argument("--step", type=int, default=1, help="float32: test every step-th bit pattern")
    c.add_argument("--n64", type=int, default=20_000_000, help="float64: random inputs per function")
    c.add_argument("--funcs", default="", help="comma-separated subset of " + ",".join(ALL_FUNCS))
    c.add_argument("--seed", type=lambda s: int(s, 0), default=0x9E3779B97F4A7C15)
    c.add_argument("--limit", type=float, default=2.0, help="fail above this many ulps")
    c.add_argument("--skip32", action="store_true")
    c.add_argument("--skip64", action="store_true")
    c.add_argument("--json", default="", help="write all results to this file")
    c.add_argument("-v", "--verbose", action="store_true", help="show each float64 input set")
    sub.add_parser("refcheck")
    sub.add_parser("fit")
    sub.add_parser("vec")
    k = sub.add_parser("kernels")
    k.add_argument("--n", type=int, default=4 * 1024 * 1024)
    k.add_argument("--repeat", type=int, default=9)
    k.add_argument("--cflags", default="", help="extra gcc flags, e.g. -mavx2 (what a target_clones "
                   "clone of the row kernels runs)")
    t = sub.add_parser("timing")
    t.add_argument("--n", type=int, default=4 * 1024 * 1024)
    t.add_argument("--repeat", type=int, default=15)
    t.add_argument("--min", action="store_true", help="report the fastest run, not the median "
                   "(steadier on a busy machine)")
    args = ap.parse_args(argv)
    cmd = {"check": cmd_check, "refcheck": cmd_refcheck, "fit": cmd_fit, "vec": cmd_vec,
           "timing": cmd_timing, "kernels": cmd_kernels}.get(args.cmd or "check")
    if args.cmd is None:
        args = ap.parse_args(["check"] + (argv or sys.argv[1:]))
    return cmd(args) or 0


if __name__ == "__main__":
    sys.exit(main())
