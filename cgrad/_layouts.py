"""cgrad.layout and its values (cgrad.strided, cgrad.sparse_coo, ...), and
Tensor.layout, as scripts test them (`x.layout == torch.strided`). Every
cgrad tensor is strided (dense); the other layouts exist so that such
comparisons and factory `layout=` arguments read as in PyTorch."""
import pickle

from cgrad import _C

__all__ = ["layout", "strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn",
           "jagged"]


class layout:
    """A tensor memory layout; the instances are module constants."""
    __slots__ = ("_name",)

    def __new__(cls, *args, **kwargs):
        if _made:
            raise TypeError("cannot create 'cgrad.layout' instances")
        return super().__new__(cls)

    def __repr__(self):
        return "cgrad." + self._name

    def __reduce__(self):
        return self._name      # pickled by reference to the module constant


_made = False


def _make(name):
    value = layout()
    value._name = name
    return value


strided = _make("strided")
sparse_coo = _make("sparse_coo")
sparse_csr = _make("sparse_csr")
sparse_csc = _make("sparse_csc")
sparse_bsr = _make("sparse_bsr")
sparse_bsc = _make("sparse_bsc")
_mkldnn = _make("_mkldnn")
jagged = _make("jagged")
_made = True
layout.__module__ = "cgrad"

_C._install_missing_tensor_methods({"layout": property(lambda self: strided)})
