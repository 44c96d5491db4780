"""Shared machinery of the robustness suite.

- outcome()/same_outcome(): run one expression in cgrad and in torch on
  inputs made from the same numpy arrays and compare what happens: the same
  exception type and text (torch. -> cgrad.), or the same values.
- Snapshot: the full observable state of every cgrad tensor involved
  (values, shape, strides, dtype, _version, requires_grad, is_leaf, grad
  and its values), so a failing call can be checked to have changed nothing.
- run_snippet(): run Python code in a fresh interpreter (sys.executable -c)
  so that a segfault or abort is a failed test, not a dead test run.
"""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import cgrad

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None

requires_torch = pytest.mark.skipif(torch is None, reason="torch (comparison oracle) not installed")

# The folder holding the cgrad package under test (a worktree with an in-place
# build, or site-packages with an installed wheel): subprocesses import the
# same cgrad as this process.
WORKTREE = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))


# ---------------------------------------------------------------------------
# Inputs

def make_inputs(lib, arrays, requires_grad=True, preset_grad=True):
    """Tensors of lib from numpy arrays (float arrays require grad and, with
    preset_grad, already hold a .grad of 0.25s, so that any accumulation
    into it by a failing call shows); other objects pass through."""
    out = []
    for a in arrays:
        if isinstance(a, np.generic):
            a = np.asarray(a)
        if isinstance(a, np.ndarray):
            rg = requires_grad and a.dtype.kind == "f"
            t = lib.tensor(a, requires_grad=rg)
            if rg and preset_grad:
                t.grad = lib.full_like(t, 0.25)
            out.append(t)
        else:
            out.append(a)
    return out


def is_tensor(x):
    return isinstance(x, cgrad.Tensor) or (torch is not None and isinstance(x, torch.Tensor))


def tensors_in(obj, seen=None):
    """Every tensor reachable through lists, tuples and dicts."""
    if seen is None:
        seen = []
    if is_tensor(obj):
        if not any(obj is s for s in seen):
            seen.append(obj)
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            tensors_in(o, seen)
    elif isinstance(obj, dict):
        for o in obj.values():
            tensors_in(o, seen)
    return seen


def _array(t):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.array(t.detach().numpy(), copy=True)


def snapshot(t):
    """The observable state of one tensor, as plain Python/numpy values."""
    g = t.grad if t.is_leaf or t.retains_grad else None
    return {
        "shape": tuple(t.shape),
        "stride": tuple(t.stride()),
        "dtype": str(t.dtype).split(".")[-1],
        "values": _array(t),
        "version": t._version,
        "requires_grad": t.requires_grad,
        "is_leaf": t.is_leaf,
        "grad": None if g is None else (tuple(g.shape), str(g.dtype).split(".")[-1], _array(g), g._version),
    }


def _same_state(a, b):
    if a.keys() != b.keys():
        return False
    for k in a:
        x, y = a[k], b[k]
        if k == "values":
            if x.shape != y.shape or x.dtype != y.dtype or not np.array_equal(x, y, equal_nan=x.dtype.kind == "f"):
                return False
        elif k == "grad":
            if (x is None) != (y is None):
                return False
            if x is not None:
                if x[:2] != y[:2] or x[3] != y[3] or not np.array_equal(x[2], y[2], equal_nan=True):
                    return False
        elif x != y:
            return False
    return True


def snapshot_all(tensors):
    return [snapshot(t) for t in tensors]


def assert_unchanged(tensors, before, what=""):
    after = snapshot_all(tensors)
    for k, (b, a) in enumerate(zip(before, after)):
        if not _same_state(b, a):
            changed = [key for key in b if not _same_state({key: b[key]}, {key: a[key]})]
            raise AssertionError(f"{what}: tensor {k} changed by a failing call: {changed}\n"
                                 f"before={b}\nafter={a}")


# ---------------------------------------------------------------------------
# Outcomes

def torch_text(msg):
    return msg.replace("torch.", "cgrad.")


def outcome(lib, fn, arrays, requires_grad=True, preset_grad=True):
    """(kind, payload, inputs, state before): kind is 'ok' (payload the
    result) or the exception's type name (payload its text)."""
    ins = make_inputs(lib, arrays, requires_grad, preset_grad)
    tensors = tensors_in(ins)
    before = snapshot_all(tensors)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = fn(lib, *ins)
    except Exception as e:  # noqa: BLE001 - the exception is what is compared
        return type(e).__name__, str(e), ins, tensors, before
    return "ok", result, ins, tensors, before


def same_error(fn, *arrays, requires_grad=True, preset_grad=True, exact=True, check_state=True):
    """fn(lib, *inputs) raises in cgrad what it raises in torch (type and
    text; only the first line when exact=False or torch's text spans several
    lines, as its argument parser's lists of overloads do), and afterwards
    every cgrad tensor involved is exactly as it was."""
    if torch is None:
        pytest.skip("torch not installed")
    tk, tmsg, _, _, _ = outcome(torch, fn, arrays, requires_grad, preset_grad)
    assert tk != "ok", "torch raised nothing: not an error case"
    ck, cmsg, _, tensors, before = outcome(cgrad, fn, arrays, requires_grad, preset_grad)
    assert ck != "ok", f"cgrad raised nothing; torch raised {tk}: {tmsg}"
    expected = torch_text(tmsg)
    if not exact or "\n" in expected:
        got, want = (ck, cmsg.split("\n")[0]), (tk, expected.split("\n")[0])
    else:
        got, want = (ck, cmsg), (tk, expected)
    assert got == want, f"cgrad raised {got[0]}: {got[1]!r}\ntorch raised {want[0]}: {want[1]!r}"
    if check_state:
        assert_unchanged(tensors, before, "cgrad")


def same_outcome(fn, *arrays, requires_grad=True, preset_grad=True, exact=True, rtol=1e-5, atol=1e-6):
    """Whatever torch does: the same error (as same_error, with the state
    check) or results of the same shapes, dtypes and values."""
    if torch is None:
        pytest.skip("torch not installed")
    tk, tres, _, _, _ = outcome(torch, fn, arrays, requires_grad, preset_grad)
    if tk != "ok":
        return same_error(fn, *arrays, requires_grad=requires_grad, preset_grad=preset_grad, exact=exact)
    ck, cres, _, _, _ = outcome(cgrad, fn, arrays, requires_grad, preset_grad)
    assert ck == "ok", f"cgrad raised {ck}: {cres}; torch succeeded"
    assert_same_result(cres, tres, rtol=rtol, atol=atol)
    return cres, tres


def assert_same_result(c, t, rtol=1e-5, atol=1e-6, what="result"):
    if is_tensor(t):
        assert isinstance(c, cgrad.Tensor), f"{what}: {type(c)} is not a cgrad.Tensor"
        assert tuple(c.shape) == tuple(t.shape), f"{what}: shape {tuple(c.shape)} != {tuple(t.shape)}"
        assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1], f"{what}: dtype {c.dtype} != {t.dtype}"
        np.testing.assert_allclose(_array(c).astype(np.float64) if c.dtype != cgrad.bool else _array(c),
                                   _array(t).astype(np.float64) if t.dtype != torch.bool else _array(t),
                                   rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    elif isinstance(t, (list, tuple)):
        assert isinstance(c, (list, tuple)) and len(c) == len(t), f"{what}: {c!r} vs {t!r}"
        for k, (x, y) in enumerate(zip(c, t)):
            assert_same_result(x, y, rtol, atol, f"{what}[{k}]")
    elif isinstance(t, float) and t != t:
        assert isinstance(c, float) and c != c, f"{what}: {c!r} vs nan"
    else:
        assert c == t, f"{what}: {c!r} vs {t!r}"


# ---------------------------------------------------------------------------
# Fresh interpreters

def run_snippet(code, timeout=120, env=None):
    """Run code in a fresh interpreter with cgrad importable; returns the
    CompletedProcess (returncode < 0: killed by a signal, i.e. a crash)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = WORKTREE + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.setdefault("PYTHONFAULTHANDLER", "1")
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full_env, cwd=WORKTREE)


def assert_snippet_ok(code, timeout=120, env=None, expect_stdout=None):
    """The snippet exits with status 0 (no crash, no uncaught exception);
    returns its stdout."""
    p = run_snippet(code, timeout=timeout, env=env)
    assert p.returncode == 0, (f"exit status {p.returncode}"
                               f"{' (killed by signal %d)' % -p.returncode if p.returncode < 0 else ''}\n"
                               f"stdout:\n{p.stdout[-3000:]}\nstderr:\n{p.stderr[-3000:]}")
    if expect_stdout is not None:
        assert p.stdout.strip() == expect_stdout.strip()
    return p.stdout


def snippet_outcome(code, timeout=120, env=None):
    """Run a snippet whose last statement leaves `result` computed; the
    snippet is wrapped so that it prints 'ok <repr(result)>' or
    '<ExceptionType>|<text>'. A crash fails the assertion."""
    wrapped = ("import sys, warnings\nwarnings.simplefilter('ignore')\n"
               "try:\n" + textwrap.indent(textwrap.dedent(code), "    ") +
               "\nexcept BaseException as _e:\n"
               "    print('EXC', type(_e).__name__ + '|' + str(_e).replace('torch.', 'cgrad.'))\n"
               "else:\n    print('OK', repr(result) if 'result' in dir() else '')\n")
    out = assert_snippet_ok(wrapped, timeout=timeout, env=env)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return last


# ---------------------------------------------------------------------------
# Scenarios: several steps, observed in both libraries

def normalize(x):
    """A library-neutral, comparable picture of x (tensors become their
    shape, dtype, values, requires_grad; exceptions their type and text)."""
    if is_tensor(x):
        vals = _array(x)
        return ("T", tuple(x.shape), str(x.dtype).split(".")[-1],
                np.round(vals.astype(np.float64), 5).tolist() if vals.dtype.kind in "fc" else vals.tolist(),
                bool(x.requires_grad))
    if isinstance(x, BaseException):
        return ("EXC", type(x).__name__, torch_text(str(x)))
    if isinstance(x, (list, tuple)):
        return type(x).__name__, [normalize(v) for v in x]
    if isinstance(x, dict):
        return {k: normalize(v) for k, v in x.items()}
    if isinstance(x, str):
        return torch_text(x)
    if isinstance(x, float) and x != x:
        return "nan"
    if x is None or isinstance(x, (bool, int, float)):
        return x
    if torch is not None and isinstance(x, torch.dtype) or isinstance(x, cgrad.dtype):
        return str(x).split(".")[-1]
    return type(x).__name__


def observe(lib, fn):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return normalize(fn(lib))
    except Exception as e:  # noqa: BLE001 - compared
        return normalize(e)


def attempt(fn, *args):
    """fn(*args), or the exception it raised (for use inside scenarios)."""
    try:
        return fn(*args)
    except Exception as e:  # noqa: BLE001 - an observation
        return e


def same_observations(fn):
    """fn(lib) observed in cgrad equals fn(lib) observed in torch."""
    if torch is None:
        pytest.skip("torch not installed")
    expected = observe(torch, fn)
    got = observe(cgrad, fn)
    assert got == expected, f"\ncgrad: {got}\ntorch: {expected}"
    return got
