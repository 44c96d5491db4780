"""What `import cgrad` loads: the compiled core and little else (issue 12:
the import costs at most numpy's own plus 15 ms, bench/import_time.py
measures it; no timing is asserted here). The Python parts (nn, optim,
utils.data, save/load, ...) load on first use through cgrad's module
__getattr__ (its _LAZY_ATTRIBUTES table) and behave as eager attributes."""
import os
import subprocess
import sys

import pytest

import cgrad

PACKAGE_PARENT = os.path.dirname(os.path.dirname(os.path.abspath(cgrad.__file__)))

# Modules `import cgrad` may add to what `import numpy` loads: the package,
# its compiled core (cgrad._C, its row kernels cgrad._kernels and the op
# table's module, cgrad._table_ops),
# Cython's runtime modules and threading (the core's saved-tensor hooks are
# per thread).
ALLOWED_BEYOND_NUMPY = {"cgrad", "cgrad._C", "cgrad._kernels", "cgrad._table_ops", "cython_runtime", "threading"}


def run_fresh(code):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([PACKAGE_PARENT, os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_import_loads_only_the_core_beyond_numpy():
    added = run_fresh("import sys, numpy\n"
                      "before = set(sys.modules)\n"
                      "import cgrad\n"
                      "print(' '.join(sorted(set(sys.modules) - before)))").split()
    unexpected = [m for m in added if m not in ALLOWED_BEYOND_NUMPY and not m.startswith("_cython_")]
    assert unexpected == [], (
        f"`import cgrad` now loads {unexpected}: make them lazy (an entry of cgrad/__init__.py's "
        "_LAZY_ATTRIBUTES instead of an import), or import them inside the function that needs them")
    assert "cgrad._C" in added


@pytest.mark.parametrize("name, kind", [
    ("nn", "module"), ("optim", "module"), ("autograd", "module"), ("linalg", "module"), ("func", "module"),
    ("utils", "module"), ("random", "module"), ("cuda", "module"), ("backends", "module"), ("viz", "module"),
    ("serialization", "module"), ("return_types", "module"),
    ("no_grad", "class"), ("enable_grad", "class"), ("inference_mode", "class"), ("set_grad_enabled", "class"),
    ("save", "function"), ("load", "function"), ("from_dlpack", "function"), ("set_printoptions", "function"),
    ("inverse", "function"), ("svd", "function"),
])
def test_lazy_names_resolve_in_a_fresh_interpreter(name, kind):
    """Each lazy name works as `cgrad.X` and as `from cgrad import X` in a
    fresh interpreter, where nothing has loaded it yet."""
    out = run_fresh(f"import sys, types, cgrad\n"
                    f"a = cgrad.{name}\n"
                    f"from cgrad import {name} as b\n"
                    f"print(a is b, type(a).__name__, '{name}' in dir(cgrad))")
    expected_type = {"module": "module", "class": "type", "function": "function"}[kind]
    assert out == f"True {expected_type} True"


def test_lazy_table_names_real_attributes():
    for name, module_name in cgrad._LAZY_ATTRIBUTES.items():
        value = getattr(cgrad, name)
        if module_name == f"cgrad.{name}":
            assert value is sys.modules[module_name]
        else:
            assert value is getattr(sys.modules[module_name], name)


def test_unknown_attribute_raises_attribute_error_as_python():
    with pytest.raises(AttributeError, match="^module 'cgrad' has no attribute 'no_such_name'$"):
        cgrad.no_such_name
    assert not hasattr(cgrad, "no_such_name")


def test_submodule_import_statements_still_work():
    out = run_fresh("import cgrad.nn.functional as F, cgrad\n"
                    "from cgrad.utils.data import DataLoader\n"
                    "import cgrad.optim\n"
                    "print(F.relu(cgrad.tensor([-1.0, 2.0])).tolist(), cgrad.optim.SGD.__name__, "
                    "DataLoader.__name__, cgrad.nn.functional is F)")
    assert out == "[0.0, 2.0] SGD DataLoader True"


def test_star_import_gives_the_lazy_names_too():
    out = run_fresh("from cgrad import *\n"
                    "print(nn.Linear.__name__, no_grad.__name__, callable(save), tensor([1.0]).tolist())")
    assert out == "Linear no_grad True [1.0]"


def test_lazy_tensor_methods_load_on_first_use():
    """The methods cgrad/_tensor_ops.py installs are placeholders on Tensor
    until first used (Tensor has no __getattr__: a type with one loses
    CPython's specialised method calls); the placeholder names are exactly
    every method that loading it installs (its own and those of the modules
    it imports, such as _ops_composites), and every one of them works before
    the module is loaded, from an instance or from the class."""
    out = run_fresh("import sys, cgrad\n"
                    "T = cgrad.Tensor\n"
                    "placeholders = sorted(n for n, v in vars(T).items() if type(v).__name__ == 'LazyTensorMethod')\n"
                    "real_before = {n for n, v in vars(T).items() if type(v).__name__ != 'LazyTensorMethod'}\n"
                    "loaded_early = 'cgrad._tensor_ops' in sys.modules\n"
                    "values = cgrad.tensor([3.0, 1.0, 2.0]).sort().values.tolist()\n"
                    "from cgrad._tensor_ops import _METHODS\n"
                    "installed = sorted(set(vars(T)) - real_before)\n"
                    "left = [n for n, v in vars(T).items() if type(v).__name__ == 'LazyTensorMethod']\n"
                    "print(placeholders == installed, set(_METHODS) <= set(installed), loaded_early, values, left,\n"
                    "      T.cumprod is _METHODS['cumprod'])")
    assert out == "True True False [1.0, 2.0, 3.0] [] True"
    out = run_fresh("import cgrad\n"
                    "t = cgrad.tensor([1.0, 2.0])\n"
                    "print(t.addcmul_(t, t).tolist(), t.pow_(2).tolist(), t.eq_(25.0).tolist())")
    assert out == "[2.0, 6.0] [4.0, 36.0] [0.0, 0.0]"
    # a module that _tensor_ops imports, imported first, leaves the other placeholders in place
    out = run_fresh("import cgrad, cgrad._ops_composites\n"
                    "print(cgrad.tensor([2.0, 1.0]).argsort().tolist(), cgrad.tensor([1.0, 3.0]).diff().tolist())")
    assert out == "[1, 0] [2.0]"
    out = run_fresh("import cgrad\n"
                    "print(cgrad.Tensor.topk.__name__, cgrad.tensor([1.0, 4.0]).topk(1).values.tolist())")
    assert out == "topk [4.0]"


def test_missing_tensor_attribute_error_as_torch():
    t = cgrad.ones(2)
    with pytest.raises(AttributeError, match="^'Tensor' object has no attribute 'no_such_method'$") as info:
        t.no_such_method
    assert info.value.name == "no_such_method" and info.value.obj is t
    assert not hasattr(t, "__no_such_dunder__")
