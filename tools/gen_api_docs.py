"""Generate docs/api.md, cgrad's API reference, from the package itself.

    python tools/gen_api_docs.py            # rewrite docs/api.md
    python tools/gen_api_docs.py --check    # exit 1 if docs/api.md is not current

The page has two parts. The op table: every row of the compiled module's
_OP_TABLE and _OP_TABLE_BINARY (and the legacy rows of
src/codegen/table_unary.py), with its grad_fn, integer handling and the
forms it is bound as. Then each public namespace (cgrad, Tensor, and every
module reachable from cgrad through public attributes that is not only an
implementation module re-exported by its package): every function, class and
method with its runtime signature (Cython embeds them, inspect reads them).

Where cgrad differs from PyTorch the entry says so on its own line, found by
comparing with torch 2.13 (the test oracle) at generation time: a name
PyTorch does not have, or PyTorch parameters cgrad does not take (from
inspect.signature, else the signature lines of PyTorch's docstring), plus
the hand-written notes of NOTES for differences a signature cannot show.
Generating therefore needs torch importable; tests/package/test_api_docs.py checks
that the committed page is current (and skips visibly without torch).
"""
import argparse
import importlib
import importlib.util
import inspect
import os
import re
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "docs", "api.md")

# Differences from PyTorch that no signature shows (qualified cgrad names).
NOTES = {
    "cgrad.Tensor.cuda": "CPU-only build: raises as a PyTorch built without CUDA does.",
    "cgrad.Tensor.to": "Only the CPU device exists; other devices raise as a CPU-only PyTorch build.",
    "cgrad.cuda.is_available": "Always False (a CPU-only build).",
    "cgrad.compile": "Captures the calls a function makes into cgrad once per guard set and replays them from "
                     "Cython (cgrad/_dynamo/); backend 'inductor', 'eager' and 'aot_eager' all mean this replay, "
                     "every mode is accepted and behaves alike, options and dynamic=True are refused, and Python "
                     "side effects between the ops run only while capturing.",
}
# PyTorch docstrings whose signature line is wrong (so no comparison).
DOCSTRING_ERRORS = {
    "cgrad.Tensor.atanh_",      # documented as atanh_(other); the method takes no argument
}
GENERAL = """\
cgrad mirrors PyTorch 2.13's API (write `import cgrad as torch`): names,
results, dtypes, grad_fn names, exception types and texts. What holds for
the whole library rather than one entry:

- CPU only: `device` arguments take the CPU; CUDA and MPS queries answer as
  a CPU-only PyTorch build (`cgrad.cuda.is_available()` is False).
- dtypes: float16, float32, float64, int8, int16, int32, int64, uint8 and
  bool (no complex, bfloat16 or quantized types; no sparse layouts).
- Error texts print `cgrad.` where PyTorch's print `torch.` (dtypes, sizes).
"""
FORMS = {"fn": "cgrad.{n}", "fn_": "cgrad.{n}_", "meth": "Tensor.{n}", "meth_": "Tensor.{n}_",
         "F": "F.{n}", "F_": "F.{n}(inplace=True)"}
INTS = {"native": "computed in their own dtype", "float": "promoted to float32",
        "error": "refused (PyTorch's \"not implemented\" error)"}


def clean(text):
    """Signature text without memory addresses (stable across runs)."""
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def signature_of(obj):
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):
        return None


def split_parameters(params):
    """(positional names in order, keyword-only names, takes *args,
    takes **kwargs) of (name, kind) pairs, self and cls left out."""
    positional, keyword_only, star, starstar = [], set(), False, False
    for name, kind in params:
        if name in ("self", "cls"):
            continue
        if kind == "*":
            star = True
        elif kind == "**":
            starstar = True
        elif kind == "kw":
            keyword_only.add(name)
        else:
            positional.append(name)
    return positional, keyword_only, star, starstar


def runtime_parameters(sig):
    kinds = {inspect.Parameter.VAR_POSITIONAL: "*", inspect.Parameter.VAR_KEYWORD: "**",
             inspect.Parameter.KEYWORD_ONLY: "kw"}
    return split_parameters([(p.name, kinds.get(p.kind, "pos")) for p in sig.parameters.values()])


def docstring_parameters(doc, name):
    """The parameters of every `name(...)` line of a PyTorch docstring (its
    overloads), merged: the longest positional list, every keyword-only name."""
    positional, keyword_only, star, starstar, found = [], set(), False, False, False
    for m in re.finditer(rf"^\s*(?:torch\.|Tensor\.)?{re.escape(name)}\((.*?)\)\s*(?:->|$)", doc or "", re.M):
        found, pairs, after_star = True, [], False
        for part in m.group(1).split(","):
            part = part.strip().split("=")[0].split(":")[0].strip()
            if part == "*":
                after_star = True
            elif part.startswith("**"):
                pairs.append((part[2:], "**"))
            elif part.startswith("*"):
                pairs.append((part[1:], "*"))
                after_star = True
            elif part.isidentifier():
                pairs.append((part, "kw" if after_star else "pos"))
        pos, kw, s1, s2 = split_parameters(pairs)
        positional = pos if len(pos) > len(positional) else positional
        keyword_only |= kw
        star, starstar = star or s1, starstar or s2
    return (positional, keyword_only, star, starstar) if found else None


def torch_parameters(obj, name):
    """PyTorch's parameters for obj: from its signature where inspect has a
    real one, else from its docstring's signature lines; None when neither
    says."""
    sig = signature_of(obj)
    if sig is not None and [p.kind for p in sig.parameters.values()] != [
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD]:
        return runtime_parameters(sig)
    return docstring_parameters(obj.__doc__, name)


def parameters_not_taken(ours, theirs):
    """PyTorch parameters a call could pass that cgrad's signature refuses:
    positions past cgrad's (names of positional parameters are not
    compared: PyTorch's docstrings name them loosely, and list keyword-only
    ones as positional, so a name cgrad takes by keyword counts as taken)
    and keyword-only names."""
    pos_o, kw_o, star_o, starstar_o = ours
    pos_t, kw_t, _, _ = theirs
    missing = [] if star_o else [n for n in pos_t[len(pos_o):] if n not in kw_o and not starstar_o]
    if not starstar_o:
        missing += sorted(kw_t - kw_o - set(pos_o))
    return missing


class Page:
    def __init__(self, torch):
        self.torch = torch
        self.lines = []

    def torch_counterpart(self, qualname):
        """The torch object of the same name (cgrad.X -> torch.X), or None."""
        obj, path = self.torch, "torch"
        for part in qualname.split(".")[1:]:
            path += "." + part
            value = getattr(obj, part, None)
            if value is None and isinstance(obj, types.ModuleType):
                try:
                    value = importlib.import_module(path)
                except ImportError:
                    return None
            if value is None:
                return None
            obj = value
        return obj

    def difference(self, qualname, obj):
        """The entry's line on how cgrad differs from PyTorch, or None."""
        notes = []
        if self.torch is not None:
            counterpart = self.torch_counterpart(qualname)
            if counterpart is None:
                notes.append(f"cgrad only: PyTorch has no `{'torch.' + qualname.split('.', 1)[1]}`.")
            elif callable(obj):
                ours = signature_of(obj)
                theirs = None if qualname in DOCSTRING_ERRORS else \
                    torch_parameters(counterpart, qualname.rsplit(".", 1)[1])
                if ours is not None and theirs:
                    missing = parameters_not_taken(runtime_parameters(ours), theirs)
                    if missing:
                        notes.append("PyTorch parameters not taken: " + ", ".join(f"`{m}`" for m in missing) + ".")
        if qualname in NOTES:
            notes.append(NOTES[qualname])
        return " ".join(notes) or None

    def entry(self, qualname, obj, shown_name=None, prefix=""):
        shown = shown_name or qualname
        sig = signature_of(obj)
        text = clean(str(sig)) if sig is not None else "(...)"
        self.lines.append(f"- `{prefix}{shown}{text}`")
        diff = self.difference(qualname, obj)
        if diff:
            self.lines.append(f"  - differs: {diff}")

    # -- the op table ---------------------------------------------------------
    def op_table(self, unary, binary, legacy):
        self.lines += ["## Pointwise ops of the op table", "",
                       "Rows of src/codegen/table_unary.py and table_binary.py (see CONTRIBUTING.md to add one). "
                       "Each records the grad_fn shown (tests/ops/test_op_table*.py compare every row with PyTorch "
                       "and gradcheck it in float64) and is bound in the forms listed.", "",
                       "| op | kind | grad_fn | integer inputs | forms |", "|---|---|---|---|---|"]
        rows = [(r, "unary") for r in unary] + [(r, "binary") for r in binary] + [(r, "unary (legacy)")
                                                                                   for r in legacy]
        for row, kind in sorted(rows, key=lambda rk: rk[0]["name"]):
            name = row["name"]
            node = "none (NotImplemented)" if row.get("no_grad") else row.get("node", "")
            forms = ", ".join(f"`{FORMS[a].format(n=name)}`" for a in row.get("api", ())) or \
                "hand-written bindings"
            self.lines.append(f"| `{name}` | {kind} | `{node}` | {INTS.get(row.get('ints'), row.get('ints'))} "
                              f"| {forms} |")
        self.lines.append("")

    # -- namespaces -------------------------------------------------------------
    def module(self, modname, module, names, functional_table=()):
        functions, classes = [], []
        for name in sorted(names):
            if name.startswith("_"):
                continue        # (a module's __all__ may list helpers, as torch.nn.modules.utils does)
            obj = getattr(module, name)
            if isinstance(obj, type):
                classes.append((name, obj))
            elif callable(obj) and not isinstance(obj, types.ModuleType):
                functions.append((name, obj))
        if not functions and not classes:
            return
        self.lines += [f"## `{modname}`", ""]
        doc = (inspect.getdoc(module) or "").split("\n\n")[0].replace("\n", " ")
        if doc:
            self.lines += [doc, ""]
        if functions:
            self.lines += ["### Functions", ""]
            for name, obj in functions:
                self.entry(f"{modname}.{name}", obj)
                if name in functional_table:
                    self.lines.append("  - from the op table")
            self.lines.append("")
        if classes:
            self.lines += ["### Classes", ""]
            for name, cls in classes:
                if modname == "cgrad" and name == "Tensor":
                    continue        # its own section
                self.entry(f"{modname}.{name}", cls, prefix="class ")
                methods = [m for m, v in sorted(vars(cls).items()) if not m.startswith("_") and callable(v)]
                if methods:
                    self.lines.append("  - methods: " + ", ".join(f"`{m}`" for m in methods))
            self.lines.append("")

    def tensor(self, tensor):
        self.lines += ["## `cgrad.Tensor`", "", "Methods and attributes, with their runtime signatures.", ""]
        attributes = []
        for name, value in sorted(vars(tensor).items()):
            if name.startswith("_"):
                continue
            if isinstance(value, property) or inspect.isgetsetdescriptor(value) or \
                    inspect.ismemberdescriptor(value):
                attributes.append(name)
            elif callable(value):
                self.entry(f"cgrad.Tensor.{name}", getattr(tensor, name), f"Tensor.{name}")
        self.lines += ["", "Attributes: " + ", ".join(f"`{a}`" for a in attributes), ""]


def documented_modules(cgrad):
    """Modules reachable from cgrad through public attributes, except those
    whose public names their package exposes too (cgrad.nn.modules.linear,
    cgrad.optim.adam: implementation files)."""
    found, queue = {"cgrad": cgrad}, [cgrad]
    while queue:
        module = queue.pop()
        names = list(getattr(module, "_LAZY_ATTRIBUTES", {})) + list(vars(module))
        for name in names:
            if name.startswith("_"):
                continue
            obj = getattr(module, name, None)
            if isinstance(obj, types.ModuleType) and obj.__name__.startswith("cgrad.") and \
                    obj.__name__ not in found and "._" not in obj.__name__ and \
                    not obj.__name__.startswith("cgrad.examples"):
                found[obj.__name__] = obj
                queue.append(obj)
    documented = {}
    for modname, module in sorted(found.items()):
        parent = found.get(modname.rpartition(".")[0])
        names = public_names(module)
        if not names:
            continue
        if parent is not None and modname != "cgrad" and names and \
                all(getattr(parent, n, None) is getattr(module, n) for n in names):
            continue
        documented[modname] = (module, names)
    return documented


def public_names(module):
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("_")]
    names = set(getattr(module, "_LAZY_ATTRIBUTES", {})) | set(vars(module))
    return [n for n in names if not n.startswith("_")
            and not isinstance(getattr(module, n, None), types.ModuleType)
            and (getattr(getattr(module, n), "__module__", "cgrad") or "cgrad").startswith("cgrad")]


def legacy_rows():
    path = os.path.join(ROOT, "src", "codegen", "table_unary.py")
    if not os.path.exists(path):
        return []
    spec = importlib.util.spec_from_file_location("_cgrad_table_unary", path)
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    return [dict(r) for r in table.LEGACY]


def render():
    sys.path.insert(0, ROOT)
    import cgrad
    from cgrad import _C
    try:
        import torch
    except ImportError:
        sys.exit("tools/gen_api_docs.py compares with PyTorch: install torch==2.13.0 (pip install .[torch])")
    page = Page(torch)
    page.lines += ["# cgrad API reference", "",
                   "<!-- Generated by tools/gen_api_docs.py from the package and its op table: do not edit. -->",
                   "", GENERAL]
    page.op_table(_C._OP_TABLE, _C._OP_TABLE_BINARY, legacy_rows())
    modules = {m: (module, names) for m, (module, names) in documented_modules(cgrad).items()
               if any(callable(getattr(module, n)) and not isinstance(getattr(module, n), types.ModuleType)
                      for n in names)}     # (cgrad.utils, cgrad.backends: only submodules)
    page.lines += ["## Namespaces", ""] + [f"- [`{m}`](#{m.replace('.', '')})" for m in modules] + \
        ["- [`cgrad.Tensor`](#cgradtensor)", ""]
    for modname, (module, names) in modules.items():
        page.module(modname, module, names, _C._FUNCTIONAL if modname == "cgrad.nn.functional" else ())
    page.tensor(cgrad.Tensor)
    return "\n".join(page.lines).rstrip("\n") + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with docs/api.md, write nothing")
    args = parser.parse_args()
    text = render()
    old = open(OUT, encoding="utf-8").read() if os.path.exists(OUT) else None
    if args.check:
        if old != text:
            print("docs/api.md is out of date (run python tools/gen_api_docs.py)", file=sys.stderr)
            return 1
        print(f"docs/api.md current ({text.count(chr(10))} lines)")
        return 0
    if old != text:
        with open(OUT, "w", encoding="utf-8") as f:
            f.write(text)
    print(f"docs/api.md: {'written' if old != text else 'current'} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
