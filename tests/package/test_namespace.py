"""cgrad/__init__.py imports the compiled core's public names one by one
(so readers and type checkers see them): every public function, class and
dtype of cgrad._C must be among them, and stay so when ops are added."""
import cgrad
from cgrad import _C


def is_public(name, obj):
    if name.startswith("_") or name in ("Storage", "ReadyHeap", "Geometry", "bool_", "LazyTensorMethod"):
        return False
    if isinstance(obj, type) and issubclass(obj, _C.Node):
        return False
    return (getattr(obj, "__module__", None) == "cgrad._C" or isinstance(obj, _C.dtype)
            or obj is _C.Tensor)


# names PyTorch keeps in a submodule: where cgrad exports them instead
IN_SUBMODULES = {"LinAlgError": "linalg", "xlog1py": "special"}


def test_every_public_name_of_the_core_is_exported():
    missing = sorted(n for n, o in vars(_C).items() if is_public(n, o) and n not in IN_SUBMODULES
                     and n != "return_types" and getattr(cgrad, n, None) is not o)
    assert missing == []
    assert cgrad.return_types.__name__ == "cgrad.return_types"    # the module, over _C's classes
    for name, module in IN_SUBMODULES.items():
        assert hasattr(getattr(cgrad, module), name)


def test_op_table_rows_are_reachable_where_their_api_says():
    for row in _C._OP_TABLE:
        name = row["name"]
        if "fn" in row["api"]:
            assert callable(getattr(cgrad, name)), name
        if "fn_" in row["api"]:
            assert callable(getattr(cgrad, name + "_")), name
        if "meth" in row["api"]:
            assert callable(getattr(cgrad.Tensor, name)), name
        if "meth_" in row["api"]:
            assert callable(getattr(cgrad.Tensor, name + "_")), name
        if "F" in row["api"]:
            assert callable(getattr(cgrad.nn.functional, name)), name
