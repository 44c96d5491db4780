"""Build a wheel and run the whole test suite against it, under every CPython
3.10-3.14 on this machine (pyenv's included): `nox` (all), `nox -s wheel_tests-3.11`
(one), `nox -l` (list).

Each session builds an sdist, builds the wheel from the unpacked sdist (so a
file missing from MANIFEST.in fails here), checks the wheel's binaries
(tools/check_wheel.py: stripped, no build paths in RUNPATH), installs it with
the test extras and runs the unpacked sdist's tests against it from outside
any source tree (tools/test_installed.py). torch, the oracle of the
differential tests, is installed when a CPU build of torch 2.13.0 is reachable
(pip's find-links or an extra index of CPU wheels); without it those tests
skip visibly. CGRAD_QUICK_BUILD=1 in the environment makes the builds -O0
(faster, for trying the sessions out).
"""
import glob
import os
import sys

import nox

# pyenv's interpreters, found without pyenv's shims or `pyenv global`
_PYENV_ROOT = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
os.environ["PATH"] = os.pathsep.join(sorted(glob.glob(os.path.join(_PYENV_ROOT, "versions", "3.*", "bin")))
                                     + [os.environ.get("PATH", "")])

nox.options.error_on_missing_interpreters = False
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["wheel_tests"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
HERE = os.path.dirname(os.path.abspath(__file__))
# Without debug information or a symbol table, as the released wheels
# (pyproject.toml's [tool.cibuildwheel]).
STRIPPED = {"CFLAGS": "-g0", "LDFLAGS": "-s"} if sys.platform.startswith("linux") else {}


@nox.session(python=PYTHONS)
def wheel_tests(session):
    tmp = session.create_tmp()
    for sub in ("dist", "sdist", "wheels"):
        session.run("python", "-c", f"import shutil; shutil.rmtree({os.path.join(tmp, sub)!r}, True)",
                    silent=True)
    session.install("build", "pytest>=7", "hypothesis>=6")
    dist = os.path.join(tmp, "dist")
    session.run("python", "-m", "build", "--sdist", "--outdir", dist, HERE)
    sdist = glob.glob(os.path.join(dist, "*.tar.gz"))[0]
    unpacked = os.path.join(tmp, "sdist")
    session.run("python", "-c", f"import shutil; shutil.unpack_archive({sdist!r}, {unpacked!r})")
    source = glob.glob(os.path.join(unpacked, "*"))[0]
    wheels = os.path.join(tmp, "wheels")
    env = dict(STRIPPED)
    if sys.platform.startswith("linux"):
        # An interpreter built with --enable-shared (pyenv's) links extensions
        # with -rpath to its own lib folder: a path of this machine in the
        # wheel's RUNPATH. Extensions need no libpython, so link without it.
        ldshared = session.run("python", "-c", "import sysconfig; print(sysconfig.get_config_var('LDSHARED'))",
                               silent=True).split()
        env["LDSHARED"] = " ".join(w for w in ldshared if not w.startswith(("-Wl,-rpath", "-Wl,-R")))
    session.run("python", "-m", "pip", "wheel", "--no-deps", "-w", wheels, source, env=env)
    if sys.platform.startswith("linux"):
        session.run("python", os.path.join(HERE, "tools", "check_wheel.py"), wheels)
    wheel = glob.glob(os.path.join(wheels, "*.whl"))[0]
    session.install(wheel)
    # torch's CPU build where one is reachable (PyPI's Linux wheels pull in CUDA)
    session.run_install("python", "-m", "pip", "install", "--only-binary", ":all:", "torch==2.13.0+cpu",
                        success_codes=[0, 1], silent=True)
    has_torch = session.run("python", "-c", "import importlib.util; print(importlib.util.find_spec('torch') is not None)",
                            silent=True).strip() == "True"
    session.log("torch 2.13.0 (CPU) installed: the differential tests run" if has_torch else
                "no CPU build of torch 2.13.0 reachable: the differential tests skip")
    session.run("python", os.path.join(HERE, "tools", "test_installed.py"), source, "-q", *session.posargs)

