"""The package as users and tools see it: Tensor's names (module 'cgrad',
torch's texts in Python's own error messages), what `import cgrad` loads,
and the type information it ships."""
import os
import pickle
import subprocess
import sys

import pytest

import cgrad
from helpers import requires_torch, torch

PACKAGE = os.path.dirname(os.path.abspath(cgrad.__file__))


def test_tensor_names():
    assert cgrad.Tensor.__module__ == "cgrad"
    assert cgrad.Tensor.__name__ == cgrad.Tensor.__qualname__ == "Tensor"
    assert repr(cgrad.Tensor) == "<class 'cgrad.Tensor'>"
    # pickled by reference: found again under its module and name
    assert pickle.loads(pickle.dumps(cgrad.Tensor)) is cgrad.Tensor
    assert type(pickle.loads(pickle.dumps(cgrad.ones(2)))) is cgrad.Tensor


def error_text(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value)


@pytest.mark.parametrize("expr", [
    lambda lib: lib.ones(2) + None,
    lambda lib: None - lib.ones(2),
    lambda lib: lib.ones(2) @ "a",
    lambda lib: lib.ones(2).no_such_attribute,
    lambda lib: lib.ones(2)(),
    lambda lib: int.__add__(lib.ones(2), 1),
])
def test_python_error_texts_name_the_type_tensor(expr):
    kind, text = error_text(lambda: expr(cgrad))
    assert "'Tensor'" in text and "cgrad" not in text, text
    if torch is not None:
        assert (kind, text) == error_text(lambda: expr(torch))


def test_grad_fn_without_derivative_is_named_not_implemented():
    x = cgrad.ones(2, requires_grad=True)
    fn = cgrad.remainder(2, x).grad_fn
    assert type(fn).__name__ == "NotImplemented"
    assert repr(fn).startswith("<NotImplemented object at 0x")


@requires_torch
def test_grad_fn_without_derivative_matches_torch():
    fn_c = cgrad.remainder(2, cgrad.ones(2, requires_grad=True)).grad_fn
    fn_t = torch.remainder(2, torch.ones(2, requires_grad=True)).grad_fn
    assert type(fn_c).__name__ == type(fn_t).__name__


def fresh_interpreter(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(PACKAGE),
                                                       os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_import_and_draws_leave_numpy_random_unloaded():
    out = fresh_interpreter(
        "import sys, cgrad\n"
        "print('numpy.random' in sys.modules)\n"
        "a = cgrad.randn(3)\n"          # draws run on cgrad's own MT19937 engine, never numpy's
        "print('numpy.random' in sys.modules, a.shape)\n"
        "cgrad.manual_seed(5); b = cgrad.rand(4); cgrad.manual_seed(5)\n"
        "print(bool((cgrad.rand(4) == b).all()))\n")
    assert out.split("\n")[:3] == ["False", "False cgrad.Size([3])", "True"]


def test_ships_type_information():
    assert os.path.exists(os.path.join(PACKAGE, "py.typed"))
    for stub in ("__init__.pyi", "_C.pyi", os.path.join("nn", "functional.pyi"), os.path.join("optim", "__init__.pyi")):
        assert os.path.exists(os.path.join(PACKAGE, stub)), stub
