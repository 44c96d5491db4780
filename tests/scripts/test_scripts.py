"""Tutorial-style PyTorch scripts (tests/scripts/s*.py, written against
`import torch`) run unchanged through torch and through cgrad (their
imports rewritten to `import cgrad as torch`, tests/scripts/_runner.py),
each library in one subprocess; every script's printed output and final
exception must be the same. The scripts print only what both libraries
must agree on: weights come from numpy, random draws are compared by shape,
dtype and range. Before comparing, "cgrad" in cgrad's output reads "torch"
(PyTorch's texts name their module) and object addresses are masked."""
import glob
import json
import os
import re
import subprocess
import sys

import pytest

import cgrad

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = sorted(glob.glob(os.path.join(HERE, "s[0-9]*.py")))
RUNNER = os.path.join(HERE, "_runner.py")
# the package under test may be an installed copy: the subprocesses import the same one
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))

try:
    import torch  # noqa: F401
    HAVE_TORCH = True
except ImportError:
    HAVE_TORCH = False


def _start(library):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, RUNNER, library, *SCRIPTS], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _collect(process):
    stdout, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]
    return json.loads(stdout)


@pytest.fixture(scope="module")
def runs():
    """Both libraries' runs of every script, in parallel subprocesses."""
    libraries = ["cgrad"] + (["torch"] if HAVE_TORCH else [])
    processes = {library: _start(library) for library in libraries}
    return {library: _collect(process) for library, process in processes.items()}


ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def normalized(text, library):
    if text is None:
        return None
    if library == "cgrad":
        text = text.replace("cgrad", "torch")
    return ADDRESS.sub(" at 0x...", text)


@pytest.mark.parametrize("script", [os.path.basename(s) for s in SCRIPTS])
def test_script_runs_through_cgrad(runs, script):
    """Without the oracle this still checks something: the script ends
    without an exception under cgrad (none of them ends with one in torch)."""
    result = runs["cgrad"][script]
    assert result["error"] is None, result.get("traceback")


@pytest.mark.skipif(not HAVE_TORCH, reason="torch (comparison oracle) not installed")
@pytest.mark.parametrize("script", [os.path.basename(s) for s in SCRIPTS])
def test_script_output_matches_torch(runs, script):
    expected, got = runs["torch"][script], runs["cgrad"][script]
    assert normalized(got["error"], "cgrad") == normalized(expected["error"], "torch"), got.get("traceback")
    assert normalized(got["stdout"], "cgrad").splitlines() == normalized(expected["stdout"], "torch").splitlines()
