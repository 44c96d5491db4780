"""Run the test suite against the installed cgrad (a wheel), never the source tree.

    python tools/test_installed.py [PROJECT_DIR] [pytest arguments...]

The checkout's cgrad/ folder shadows an installed cgrad whenever the checkout
is on sys.path (python -m pytest puts the working directory there, and so
does pytest's rootdir when it holds the package). So the tests run from a
copy of tests/ in a temporary directory, with PYTHONPATH cleared, and this
script first asks a fresh interpreter in that directory which cgrad it
imports: one inside the checkout is an error. Used by noxfile.py and by
cibuildwheel's test-command.
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main(argv):
    project = os.path.abspath(argv[0] if argv else os.path.join(os.path.dirname(__file__), ".."))
    pytest_args = argv[1:] or ["-q"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with tempfile.TemporaryDirectory(prefix="cgrad-installed-tests-") as tmp:
        shutil.copytree(os.path.join(project, "tests"), os.path.join(tmp, "tests"),
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        # the core's C headers, where the tests find them (tests/../src/cgrad):
        # tests/ops/test_special_math.py compiles special_math.h by itself to
        # check its functions against torch's
        headers = os.path.join(project, "src", "cgrad")
        if os.path.isdir(headers):
            shutil.copytree(headers, os.path.join(tmp, "src", "cgrad"),
                            ignore=lambda folder, names: [n for n in names if not n.endswith(".h")])
        where = subprocess.run(
            [sys.executable, "-c", "import cgrad, cgrad._C; print(cgrad.__file__); print(cgrad._C.__file__)"],
            cwd=tmp, env=env, capture_output=True, text=True)
        if where.returncode != 0:
            print(f"cgrad is not importable outside the checkout:\n{where.stderr}", file=sys.stderr)
            return 1
        package, extension = where.stdout.split()
        if os.path.commonpath([os.path.abspath(package), project]) == project:
            print(f"refusing to test: cgrad is imported from the checkout ({package})", file=sys.stderr)
            return 1
        print(f"testing the installed cgrad: {os.path.dirname(package)} ({os.path.basename(extension)})",
              flush=True)
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                               "--rootdir", tmp, *pytest_args, "tests"], cwd=tmp, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
