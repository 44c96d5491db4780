"""Checks a built wheel's binaries: stripped, and no build paths in RUNPATH.

    python tools/check_wheel.py WHEEL_OR_FOLDER...

For every ELF shared object in each wheel (Linux), `readelf` must show no
.symtab and no .debug_* sections (the extension is linked with -s and
compiled with -g0: a 37 MB object becomes ~10 MB), and every RPATH/RUNPATH
entry must start with $ORIGIN (auditwheel's vendored-library folder): an
absolute entry is a path of the build machine. Other platforms' wheels are
listed and skipped. Exits 1 on any finding. Used by cibuildwheel's
repair-wheel-command and by noxfile.py.
"""
import glob
import os
import re
import subprocess
import sys
import tempfile
import zipfile


def elf_findings(path):
    findings = []
    with open(path, "rb") as f:
        if f.read(4) != b"\x7fELF":
            return None
    sections = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True, check=True).stdout
    names = set(re.findall(r"\]\s+(\.\S+)", sections))
    if ".symtab" in names:
        findings.append("not stripped (.symtab present)")
    debug = sorted(n for n in names if n.startswith(".debug"))
    if debug:
        findings.append("debug information: " + " ".join(debug))
    dynamic = subprocess.run(["readelf", "-dW", path], capture_output=True, text=True, check=True).stdout
    for kind, value in re.findall(r"\((RPATH|RUNPATH)\)\s+Library \w+: \[([^\]]*)\]", dynamic):
        for entry in value.split(":"):
            if entry and not entry.startswith("$ORIGIN"):
                findings.append(f"{kind} entry {entry!r} is not relative to $ORIGIN")
    return findings


def check_wheel(wheel):
    ok = True
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not re.search(r"\.so(\.[\d.]+)?$", name):
                continue
            path = zf.extract(name, tmp)
            findings = elf_findings(path)
            size = os.path.getsize(path)
            if findings is None:
                print(f"  {name}: not ELF, skipped")
                continue
            print(f"  {name}: {size / 1e6:.1f} MB, " + ("; ".join(findings) if findings else "ok"))
            ok &= not findings
    return ok


def main(args):
    wheels = []
    for arg in args:
        wheels += sorted(glob.glob(os.path.join(arg, "*.whl"))) if os.path.isdir(arg) else [arg]
    if not wheels:
        print("no wheels given", file=sys.stderr)
        return 1
    ok = True
    for wheel in wheels:
        print(f"{os.path.basename(wheel)} ({os.path.getsize(wheel) / 1e6:.1f} MB)")
        ok &= check_wheel(wheel)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
