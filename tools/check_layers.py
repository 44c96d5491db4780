"""Which names each include file of cgrad._C takes from a later layer.

    python tools/check_layers.py            # lists the up-calls, exit 1 if any
    python tools/check_layers.py --summary  # counts per pair of layers

src/cgrad/_C.pyx includes its .pxi files one layer after another, lowest
first, each layer a folder (LAYERS below); a file should use only names
defined in its own layer or a lower one. Cython does not enforce this: the
includes make one module, where any cdef function may call any other,
wherever it is defined. So this check is lexical and rough, on purpose:

  defined   a name a file binds at module level: `cdef`/`cpdef` functions,
            variables and classes, `def` functions, `class`es, `ctypedef`s,
            enum members and `cdef extern` declarations, module-level
            assignments;
  used      every other identifier in the file (comments and strings
            dropped) that is not an attribute (`x.name`) and that the file
            does not bind locally (parameters, assignments, loop variables,
            `cdef` locals), a local named like a module-level name elsewhere
            would otherwise look like a use of it;
  up-call   a used name whose every definition is in a later layer.

The types, struct and enum constants that src/cgrad/_C.pxd declares are the
shared declarations of all layers (Tensor's and Node's fields are used
everywhere), not up-calls. A generated include (src/_generated/, rendered
by setup.py) belongs to the layer whose group holds its include line.

tests/package/test_layers.py pins the list this prints: a new up-call fails
it, and so does one removed without updating the list (it only shrinks).
It also checks that _C.pyx includes the layers in order.
"""
import collections
import keyword
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "src", "cgrad")
GENERATED = os.path.join(ROOT, "src", "_generated")

# lowest first; a folder's files come after every folder before it in _C.pyx
LAYERS = ["core", "kernels", "ops", "ops/nn", "autograd", "tensor", "compile"]

IDENT = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
NOT_NAMES = ({"cdef", "cpdef", "def", "class", "inline", "public", "api", "extern", "readonly", "const",
              "unsigned", "signed", "long", "short", "int", "double", "float", "char", "void", "object",
              "bint", "struct", "enum", "ctypedef", "nogil", "noexcept", "except", "with", "gil", "from",
              "packed", "fused", "cppclass", "True", "False", "None"} | set(keyword.kwlist))


def code_only(text):
    """The text without comments and string literals (line numbers kept)."""
    text = re.sub(r'("""|\'\'\')(.*?)\1', lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    lines = []
    for line in text.split("\n"):
        line = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', '""', line)
        lines.append(line.split("#", 1)[0])
    return "\n".join(lines)


def _declared_name(head):
    """The name a `cdef ...` declaration line binds: the identifier before
    the parameter list of a function, the name of a function pointer (a
    type or a variable), or the last one of a variable."""
    pointer = re.match(r"(?:ctypedef|cdef)[^(]*\(\s*\*\s*([A-Za-z_]\w*)\s*\)", head)
    if pointer:
        return [pointer.group(1)]
    if "(" in head:
        ids = IDENT.findall(head.split("(", 1)[0])
        return ids[-1:]
    names = []
    for part in head.split(","):
        ids = IDENT.findall(part.split("[")[0])
        if ids:
            names.append(ids[-1])
    return names


def defined_names(code):
    names = set()
    block = None            # inside `cdef extern`, `cdef enum:` or `cdef:`: its members are defined
    block_indent = None
    for line in code.split("\n"):
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            block, block_indent = None, None
            typed = re.match(r"(?:cdef|cpdef|ctypedef)\s+(?:class|struct|enum|union|fused)\s+([A-Za-z_]\w*)",
                             stripped)
            if typed:
                names.add(typed.group(1))
                if re.match(r"(?:cdef|ctypedef)\s+enum", stripped):
                    block = "enum"
                continue
            if re.match(r"cdef\s+(enum\s*)?:", stripped) or stripped.startswith("cdef extern"):
                block = "decl"
                continue
            plain = re.match(r"(?:def|class)\s+([A-Za-z_]\w*)", stripped)
            if plain:
                names.add(plain.group(1))
            elif stripped.startswith(("cdef ", "cpdef ", "ctypedef ")):
                names.update(_declared_name(stripped.split("=", 1)[0]))
            else:
                assigned = re.match(r"([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)", stripped)
                if assigned:
                    names.add(assigned.group(1))
        elif block is not None:
            if block_indent is None:
                block_indent = indent
            if indent != block_indent:      # a struct's fields, a function's body
                continue
            head = stripped.split("=", 1)[0]
            if block == "enum" or ("(" not in head and "," in head):
                for part in head.split(","):
                    ids = IDENT.findall(part.split("[")[0])
                    if ids:
                        names.add(ids[-1])
            else:
                names.update(_declared_name(head))
    return names - NOT_NAMES


def parameter_names(params):
    """The parameter names of a (part of a) parameter list: the last
    identifier of each parameter before its default (`const T* x=...`:
    x), so that the types stay uses."""
    names = set()
    for param in re.sub(r"\[[^\]]*\]|\([^)]*\)", "", params).split(","):
        ids = IDENT.findall(param.split("=")[0].split(")")[0])
        if ids:
            names.add(ids[-1])
    return names


SIGNATURE = re.compile(r"(?:cpdef|cdef|def)\b[^(]*\((.*)")
LOCAL_CDEF = re.compile(r"cdef\s+(.*)")
LOOP = re.compile(r"\bfor\s+(.*?)\s+in\b")
LAMBDA = re.compile(r"\blambda\b([^:]*):")
TARGET = re.compile(r"([\w\s,()\[\]*]+?)\s*(?<![=!<>+\-*/%&|^])=(?!=)")
SUBSCRIPT = re.compile(r"\[.*?\]")
ALIAS = re.compile(r"\bas\s+(\w+)")
CONTINUATION = re.compile(r"^[\w\s,*=.\[\]\"\-]+(\).*:)?$")
IMPORT_LINE = re.compile(r"\s*(from|cimport|import)\s")
METHOD_NAME = re.compile(r"^(\s+(?:c?p?def|cdef)\b[^(=]*?)\b[A-Za-z_]\w*\s*\(")
USE = re.compile(r"(?<![.\w])[A-Za-z_]\w*")


def split_top_level(text):
    """text split at the commas outside brackets and parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


STRUCT_HEAD = re.compile(r"(?:cdef|ctypedef)\s+(?:packed\s+)?(?:struct|union)\b")


def locally_bound_names(code):
    names = set()
    in_struct = False
    for line in code.split("\n"):
        stripped = line.strip()
        if not stripped:
            continue
        if not line[:1].isspace():
            in_struct = bool(STRUCT_HEAD.match(stripped))
        elif in_struct:         # a field: its name is the struct's, not a use
            names.update(_declared_name("cdef " + stripped.split("=")[0]))
            continue
        if "def" in stripped:
            signature = SIGNATURE.match(stripped)
            if signature and not stripped.startswith("cdef class"):
                names.update(parameter_names(signature.group(1)))
        if not line[:1].isspace():
            continue
        if stripped.startswith("cdef "):
            local = LOCAL_CDEF.match(stripped)
            if "(" not in local.group(1).split("=")[0]:
                # each of `cdef T a = x, b = a`: the name before its initialiser
                for part in split_top_level(local.group(1)):
                    names.update(_declared_name("cdef " + part.split("=")[0]))
        if "for " in stripped:
            for loop in LOOP.finditer(stripped):
                names.update(IDENT.findall(loop.group(1)))
        if "lambda" in stripped:
            for lam in LAMBDA.finditer(stripped):
                names.update(IDENT.findall(lam.group(1)))
        if "=" in stripped and not stripped.startswith(("if ", "elif ", "while ", "return ", "assert ")):
            target = TARGET.match(stripped)
            if target:
                names.update(IDENT.findall(SUBSCRIPT.sub("", target.group(1))))
        if " as " in stripped:
            names.update(ALIAS.findall(stripped))
        # the continuation lines of a signature that spans lines
        if stripped.endswith((",", "):", ") nogil:", ") noexcept nogil:")) and CONTINUATION.match(stripped):
            names.update(parameter_names(stripped.split(")")[0]))
    return names


def used_names(code):
    """Identifiers of the code outside `cdef extern` blocks (declarations,
    whose parameter names are no uses) and (c)import lines, less the names
    of methods being defined and of locals."""
    kept, in_extern = [], False
    for line in code.split("\n"):
        if line.strip() and not line[:1].isspace():
            in_extern = line.startswith("cdef extern")
        if in_extern or IMPORT_LINE.match(line):
            continue
        kept.append(METHOD_NAME.sub(r"\1(", line) if line[:1].isspace() and "def" in line else line)
    return set(USE.findall("\n".join(kept))) - locally_bound_names(code)


def shared_declarations():
    """The type-level names of _C.pxd: its classes, structs, ctypedefs and
    enum constants."""
    with open(os.path.join(CORE, "_C.pxd"), encoding="utf-8") as f:
        pxd = code_only(f.read())
    names = set(re.findall(r"^(?:cdef|ctypedef)\s+(?:class|struct|enum|union)\s+(\w+)", pxd, re.M))
    names |= set(re.findall(r"^ctypedef[^(\n]*\(\*(\w+)\)", pxd, re.M))
    names |= set(re.findall(r"^ctypedef\s+.*?(\w+)\s*$", pxd, re.M))
    for members in re.findall(r"^cdef enum[^\n]*:\n((?:[ \t]+[^\n]*\n|\n)+)", pxd, re.M):
        for line in members.split("\n"):
            ids = IDENT.findall(line.split("=")[0])
            if ids:
                names.add(ids[0])
    return names


def includes():
    """(path under src/cgrad or src/_generated, layer) of each include of
    _C.pyx, in order."""
    with open(os.path.join(CORE, "_C.pyx"), encoding="utf-8") as f:
        lines = re.findall(r'^include "([^"]+)"', f.read(), re.M)
    result, layer = [], None
    for rel in lines:
        folder = os.path.dirname(rel)
        if folder:
            layer = folder
            path = os.path.join(CORE, rel)
        else:       # rendered: its group's layer
            path = os.path.join(GENERATED, rel) if os.path.exists(os.path.join(GENERATED, rel)) \
                else os.path.join(CORE, rel)
        result.append((rel, path, layer))
    return result


def order_errors(incs):
    """Includes of a layer that come after a later layer's, and include
    files outside the layer folders."""
    errors, highest = [], -1
    for rel, path, layer in incs:
        if layer not in LAYERS:
            errors.append(f"{rel}: not in a layer folder ({', '.join(LAYERS)})")
            continue
        rank = LAYERS.index(layer)
        if rank < highest:
            errors.append(f"{rel}: a {layer}/ include after the {LAYERS[highest]}/ ones")
        highest = max(highest, rank)
    return errors


def up_calls():
    """{file: {later file: sorted names}} for every include of _C.pyx that
    uses names defined only in later layers; file names are relative to
    src/cgrad (generated ones: their name)."""
    incs = [i for i in includes() if i[2] in LAYERS and os.path.exists(i[1])]
    code = {}
    for rel, path, _ in incs:
        with open(path, encoding="utf-8") as f:
            code[rel] = code_only(f.read())
    rank = {rel: LAYERS.index(layer) for rel, _, layer in incs}
    defined = {rel: defined_names(text) for rel, text in code.items()}
    owners = collections.defaultdict(set)
    for rel, names in defined.items():
        for name in names:
            owners[name].add(rel)
    shared = shared_declarations()
    found = {}
    for rel, text in code.items():
        by_owner = collections.defaultdict(set)
        for name in used_names(text) - defined[rel] - shared:
            if name in owners and min(rank[o] for o in owners[name]) > rank[rel]:
                by_owner[min(owners[name], key=lambda o: (rank[o], o))].add(name)
        if by_owner:
            found[rel] = {owner: sorted(names) for owner, names in sorted(by_owner.items())}
    return found


def main(argv):
    errors = order_errors(includes())
    for error in errors:
        print("order:", error)
    found = up_calls()
    if "--summary" in argv:
        layer_of = {rel: layer for rel, _, layer in includes()}
        pairs = collections.Counter()
        for rel, owners in found.items():
            for owner, names in owners.items():
                pairs[(layer_of[rel], layer_of[owner])] += len(names)
        for (low, high), n in sorted(pairs.items(), key=lambda kv: -kv[1]):
            print(f"{low}/ -> {high}/: {n} names")
    else:
        for rel, owners in found.items():
            for owner, names in owners.items():
                print(f"{rel} -> {owner}: {', '.join(names)}")
    total = sum(len(names) for owners in found.values() for names in owners.values())
    print(f"{total} names used from a later layer, by {len(found)} of {len(includes())} include files")
    return 1 if errors or found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
