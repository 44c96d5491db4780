"""Runs tutorial-style scripts (tests/scripts/s*.py, written against
`import torch`) in one process, through torch or through cgrad, and prints
one JSON object: each script's captured stdout, or the exception it ended
with. For cgrad the import lines are rewritten the way a user switching
libraries would write them (`import cgrad as torch`, `from cgrad.nn import
...`). tests/scripts/test_scripts.py compares the two runs."""
import contextlib
import io
import json
import os
import re
import sys
import traceback
import types

IMPORT_AS = re.compile(r"^(\s*)import torch((?:\.\w+)*) as (\w+)\s*$")
IMPORT_PLAIN = re.compile(r"^(\s*)import torch\s*$")
FROM_IMPORT = re.compile(r"^(\s*)from torch((?:\.\w+)*) import ")


def rewrite_for_cgrad(source):
    lines = []
    for line in source.splitlines():
        line = IMPORT_PLAIN.sub(r"\1import cgrad as torch", line)
        line = IMPORT_AS.sub(r"\1import cgrad\2 as \3", line)
        line = FROM_IMPORT.sub(r"\1from cgrad\2 import ", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def run_script(path, library):
    with open(path) as f:
        source = f.read()
    if library == "cgrad":
        source = rewrite_for_cgrad(source)
    lib = __import__(library)
    lib.set_grad_enabled(True)
    lib.set_default_dtype(lib.float32)
    lib.set_printoptions(profile="default")
    out = io.StringIO()
    error = None
    # A module of its own registered as __main__, so that pickling the
    # script's classes (torch.save of a whole model) finds them.
    main_module = types.ModuleType("__main__")
    main_module.__file__ = path
    real_main = sys.modules["__main__"]
    sys.modules["__main__"] = main_module
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(source, path, "exec"), main_module.__dict__)
        except BaseException as exc:  # noqa: BLE001 - reported, compared by the test
            error = "%s: %s" % (type(exc).__name__, exc)
            traceback_text = traceback.format_exc()
        finally:
            sys.modules["__main__"] = real_main
    result = {"stdout": out.getvalue(), "error": error}
    if error is not None:
        result["traceback"] = traceback_text
    return result


def main():
    library = sys.argv[1]
    paths = sys.argv[2:]
    if library == "torch":
        import torch
        torch.set_num_threads(1)
    results = {os.path.basename(p): run_script(p, library) for p in paths}
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
