"""vecmath_f32.h gives the same bits whichever target it is compiled for.

The fused interpreter (src/cgrad/fused_pointwise.h) is cloned for x86-64-v4
(AVX-512), x86-64-v3 (AVX2 + FMA) and the baseline, and the loader picks one
by CPU; its float32-arithmetic programs write their fused multiply-adds
explicitly (vmf_fma with VMF_USE_FMA), which the FMA targets compile to
vfmadd and the baseline to a call of libm's fmaf. Each value must round the
same way in every clone, or a result would depend on the machine. This
module compiles the header's exp, log, tanh and sigmoid as the clones do for
each target the CPU can run (gcc on x86-64 Linux, as the clones themselves
need), compares their bits over a dense sample of float32, checks that
cgrad.compile's fused program gives those bits (or, built without the
clones, the bits of the form without fma), and bounds tanh's fma form by its
measured maximum error (test_compile_f32_math.py's bounds hold for both
forms)."""
import ctypes
import os
import platform
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

import cgrad

HEADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "cgrad")
GCC = shutil.which("gcc")
FUNCS = ["exp", "log", "tanh", "sigmoid"]
FUSED_FLOAT32_MATH = True     # conftest.py: the fused programs use vecmath_f32.h

pytestmark = pytest.mark.skipif(
    GCC is None or not sys.platform.startswith("linux") or platform.machine() != "x86_64"
    or not os.path.exists(os.path.join(HEADER_DIR, "vecmath_f32.h")),
    reason="needs gcc on x86-64 Linux and the source tree's vecmath_f32.h")

# the CPU flags each target's code may use (the ones gcc's -march=x86-64-vN enables that decide the math)
TARGETS = {
    "baseline": ([], set()),
    "x86-64-v3": (["-march=x86-64-v3"], {"avx2", "fma", "bmi2"}),
    "x86-64-v4": (["-march=x86-64-v4"], {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"}),
}

TANH_FMA_BOUND = 1.05      # bench/check_vecmath_f32.py: 1.046 ulp over every float32 (1.170 without fma)

SOURCE = "\n".join(['#include "vecmath_f32.h"'] + [
    f"void w_{fn}(long n, const float* x, float* y) {{ long i; for (i = 0; i < n; i++) y[i] = vmf_{fn}f(x[i]); }}"
    for fn in FUNCS]) + "\n"


def built_with_clones():
    """Whether cgrad's extensions were most likely built by gcc 12 or later
    (setup.py's compiler is $CC or gcc here): then the fused interpreter is
    cloned and uses fma."""
    cc = os.environ.get("CC", "gcc")
    if "gcc" not in os.path.basename(cc) or shutil.which(cc) is None:
        return False
    version = subprocess.run([cc, "-dumpversion"], capture_output=True, text=True).stdout.strip()
    return version.split(".")[0].isdigit() and int(version.split(".")[0]) >= 12


def cpu_flags():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


@pytest.fixture(scope="module")
def libraries():
    """The header compiled at -O3 (vectorised, as in the build) for each
    target this CPU runs, with the build's -ffp-contract=off and the clones'
    VMF_USE_FMA=1; "no fma": a baseline build's own choice (VMF_USE_FMA=0)."""
    flags = cpu_flags()
    build = tempfile.mkdtemp(prefix="cgrad_vecmath_f32_")
    src = os.path.join(build, "wrap.c")
    with open(src, "w") as f:
        f.write(SOURCE)
    libs = {}
    builds = [(name, [*march, "-DVMF_USE_FMA=1"]) for name, (march, needs) in TARGETS.items() if needs <= flags]
    for name, args in builds + [("no fma", [])]:
        out = os.path.join(build, f"wrap_{name.replace(' ', '_')}.so")
        subprocess.run([GCC, "-std=gnu11", "-O3", "-ffp-contract=off", *args, "-fPIC", "-shared", "-Wall", "-Werror",
                        "-I", HEADER_DIR, src, "-o", out, "-lm"], check=True, capture_output=True, text=True)
        libs[name] = ctypes.CDLL(out)
    yield libs
    shutil.rmtree(build, ignore_errors=True)


def sample():
    """Every 1021st float32 bit pattern (both signs, denormals, infinities,
    NaNs) and dense runs where tanh switches formula (0.875) and nears 1."""
    bits = np.arange(0, 1 << 32, 1021, dtype=np.uint64).astype(np.uint32)
    dense = np.concatenate([np.arange(0x3F5F0000, 0x3F610000, dtype=np.uint32),
                            np.arange(0x410FF000, 0x41104000, dtype=np.uint32)])
    x = np.concatenate([bits, dense, dense | np.uint32(0x80000000)]).view(np.float32)
    return np.ascontiguousarray(x)


def run(lib, fn, x):
    y = np.empty_like(x)
    ptr = ctypes.POINTER(ctypes.c_float)
    getattr(lib, "w_" + fn)(ctypes.c_long(x.size), x.ctypes.data_as(ptr), y.ctypes.data_as(ptr))
    return y


def test_every_target_the_cpu_runs_gives_the_same_bits(libraries):
    if "x86-64-v3" not in libraries:
        pytest.skip("this CPU has no AVX2 + FMA: only the baseline build runs, nothing to compare")
    x = sample()
    for fn in FUNCS:
        want = run(libraries["baseline"], fn, x).view(np.uint32)
        for name, lib in libraries.items():
            if name == "no fma":
                continue
            got = run(lib, fn, x).view(np.uint32)
            differ = np.flatnonzero(got != want)
            assert differ.size == 0, (fn, name, differ.size, x[differ[:5]].tolist())


def test_tanh_s_fma_form_is_within_its_measured_bound(libraries):
    from test_compile_f32_math import reference, sample as dense_sample, ulp_error
    x = dense_sample()
    err = ulp_error(run(libraries["baseline"], "tanh", x), reference("tanh", x))
    assert err.max() <= TANH_FMA_BOUND, (float(err.max()), float(x[np.argmax(err)]))


def test_the_fused_program_gives_the_header_s_bits(libraries):
    from cgrad._dynamo.eval_frame import _CACHES
    x = sample()
    for fn in FUNCS:
        cgrad.compiler.reset()
        compiled = cgrad.compile(lambda t: getattr(t, fn)())
        xt = cgrad.tensor(x)
        compiled(xt)                        # the capture (eager)
        got = compiled(xt).numpy()          # the fused program, in the clone this CPU runs
        entries = [e for cache in _CACHES.values() for es in cache["entries"].values() for e in es]
        assert len(entries) == 1 and entries[0].fused is not None and entries[0].fused.float32_math
        # gcc's clones use fma; a build without them, fma only where its target has it
        names = ["baseline"] if built_with_clones() else ["baseline", "no fma"]
        forms = [run(libraries[name], fn, x).view(np.uint32) for name in names]
        assert any(np.array_equal(got.view(np.uint32), want) for want in forms), (fn, names)
    cgrad.compiler.reset()
