"""docs/api.md is what tools/gen_api_docs.py makes from the package, its op
table and PyTorch (for the lines saying where cgrad differs): a name added
or a signature changed without regenerating the page
(`python tools/gen_api_docs.py`) fails here."""
import os
import subprocess
import sys

import pytest

from helpers import requires_torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = os.path.join(ROOT, "tools", "gen_api_docs.py")


@requires_torch
@pytest.mark.skipif(not os.path.exists(GENERATOR),
                    reason="tools/gen_api_docs.py is not beside tests/ (a copy of the tests run against a wheel)")
def test_api_reference_is_current():
    out = subprocess.run([sys.executable, GENERATOR, "--check"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr + out.stdout
    assert out.stdout.startswith("docs/api.md current"), out.stdout


@pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "docs", "api.md")), reason="no docs/api.md here")
def test_api_reference_lists_the_op_table_and_the_namespace():
    import cgrad
    from cgrad import _C
    text = open(os.path.join(ROOT, "docs", "api.md"), encoding="utf-8").read()
    for row in list(_C._OP_TABLE) + list(_C._OP_TABLE_BINARY):
        assert f"| `{row['name']}` |" in text, row["name"]
    for name in ("add", "randn", "matmul", "no_grad"):
        assert f"cgrad.{name}(" in text, name
    assert "- `Tensor.backward(" in text and "## `cgrad.nn.functional`" in text
    assert "class cgrad.nn.Linear(" in text
    assert callable(cgrad.nn.Linear)
