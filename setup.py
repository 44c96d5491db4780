"""Build of cgrad's compiled core.

All Cython sources live in src/cgrad/ (the directory mirrors the module's
name, cgrad._C, which is where Cython looks for its _C.pxd). They form one
extension module: src/cgrad/_C.pyx includes the .pxi file of each layer (see
the comment at its top), so every kernel, node and op calls the others
directly at C speed. Files named *.pxi.tp are Tempita templates (the scheme
scikit-learn uses for its loss kernels); they are rendered into
src/_generated/ before cythonize runs.
"""
import os
import sys

import numpy
from Cython.Build import cythonize
from Cython.Tempita import sub as tempita_sub
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
CORE = os.path.join(SRC, "cgrad")
GENERATED = os.path.join(SRC, "_generated")


def render_templates():
    sys.path.insert(0, SRC)
    from codegen.render import render_all
    render_all(GENERATED)
    os.makedirs(GENERATED, exist_ok=True)
    for name in sorted(os.listdir(CORE)):
        if not name.endswith(".pxi.tp"):
            continue
        src_path = os.path.join(CORE, name)
        out_path = os.path.join(GENERATED, name[: -len(".tp")])
        with open(src_path, encoding="utf-8") as f:
            text = tempita_sub(f.read())
        old = None
        if os.path.exists(out_path):
            with open(out_path, encoding="utf-8") as f:
                old = f.read()
        if old != text:  # keep mtimes stable so unchanged builds stay incremental
            with open(out_path, "w", encoding="utf-8") as f:
                f.write(text)


def openmp_flags():
    """Compile and link flags for OpenMP when the compiler supports it; the
    kernels' prange loops run serially otherwise. CGRAD_NO_OPENMP=1 opts out."""
    if os.environ.get("CGRAD_NO_OPENMP"):
        return [], []
    if sys.platform == "win32":
        return ["/openmp"], []
    import subprocess
    import sysconfig
    import tempfile
    cc = (sysconfig.get_config_var("CC") or "cc").split()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n")
        try:
            ok = subprocess.run(cc + ["-fopenmp", src, "-o", os.path.join(tmp, "omp")],
                                capture_output=True).returncode == 0
        except OSError:
            ok = False
    return (["-fopenmp"], ["-fopenmp"]) if ok else ([], [])


def extensions():
    render_templates()
    if sys.platform == "win32":
        extra_compile_args = ["/O2"]
    else:
        # -O3 lets gcc/clang vectorise the contiguous kernel loops; no
        # -march=native (wheels must run on any CPU of their platform) and no
        # -ffast-math (results must follow IEEE like PyTorch's: NaN and inf).
        # -ffp-contract=off: a*b+c stays two roundings unless the code asks
        # for fma() (the optimizer kernels do, where PyTorch fuses).
        extra_compile_args = ["-O3", "-ffp-contract=off", "-Wno-unused-function",
                              "-Wno-unreachable-code"]
        if os.environ.get("CGRAD_QUICK_BUILD"):
            # for edit-compile-test cycles only: builds several times faster
            extra_compile_args[0] = "-O0"
    omp_compile, omp_link = openmp_flags()
    ext = Extension(
        "cgrad._C",
        sources=[os.path.join("src", "cgrad", "_C.pyx")],
        include_dirs=[CORE],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
        extra_compile_args=extra_compile_args + omp_compile,
        extra_link_args=omp_link,
    )
    built = cythonize(
        [ext],
        include_path=[SRC, CORE, GENERATED],
        compiler_directives={
            "language_level": 3,
            # C division semantics everywhere: kernels divide in their inner
            # loops, and the Python layer normalises negative dims explicitly.
            "cdivision": True,
            "embedsignature": True,
        },
    )
    # numpy's headers are added after cythonize: Cython records the include
    # folders in the generated C file and regenerates it when they change,
    # and pip's isolated build environment puts numpy in a new temporary
    # folder at every build, so a second `pip install .` in the same clone
    # would otherwise compile everything again (Cython itself finds numpy's
    # .pxd files without it).
    for e in built:
        e.include_dirs.append(numpy.get_include())
    return built


setup(ext_modules=extensions())
