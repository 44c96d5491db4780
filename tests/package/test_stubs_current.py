"""The checked-in type stubs (cgrad/**/*.pyi) are what tools/gen_stubs.py
makes from the package as it is now: a public name added without
regenerating them (`python tools/gen_stubs.py`) fails here, so mypy users
never see a stale API. (mypy --strict and stubtest run in .ci/typecheck.)"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.path.join(ROOT, "tools", "gen_stubs.py")


def stub_python():
    import ast
    tree = ast.parse(open(GENERATOR, encoding="utf-8").read())
    return next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                and getattr(node.targets[0], "id", None) == "STUB_PYTHON")


pytestmark = [
    pytest.mark.skipif(not os.path.exists(GENERATOR),
                       reason="tools/gen_stubs.py is not beside tests/ (a copy of the tests run against a wheel)"),
    pytest.mark.skipif(os.path.exists(GENERATOR) and sys.version_info[:2] != stub_python(),
                       reason="the stubs are generated with the Python tools/gen_stubs.py's STUB_PYTHON names"),
]


def test_stubs_are_current():
    out = subprocess.run([sys.executable, GENERATOR, "--check"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.startswith("stubs current:"), out.stdout


def test_generator_reports_a_stale_stub(tmp_path):
    """--check fails and names the stub when one differs from the runtime
    (the stubs are regenerated into a copy of the package, which is changed)."""
    import shutil
    copy = tmp_path / "checkout"
    shutil.copytree(os.path.join(ROOT, "cgrad"), copy / "cgrad",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(os.path.join(ROOT, "tools"), copy / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / "cgrad" / "viz.py", "a") as f:
        f.write("\n\ndef added_without_stub(x):\n    return x\n\n\n__all__.append('added_without_stub')\n")
    env = dict(os.environ, PYTHONPATH="")
    out = subprocess.run([sys.executable, str(copy / "tools" / "gen_stubs.py"), "--check"], cwd=copy,
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "cgrad/viz.pyi" in out.stderr
