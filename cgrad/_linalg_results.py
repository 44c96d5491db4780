"""The named results of cgrad.linalg (torch.return_types.linalg_*): tuples
with named fields, printed and pickled as PyTorch's."""

_FIELDS = {
    "linalg_inv_ex": ("inverse", "info"),
    "linalg_solve_ex": ("result", "info"),
    "linalg_slogdet": ("sign", "logabsdet"),
    "slogdet": ("sign", "logabsdet"),
    "linalg_cholesky_ex": ("L", "info"),
    "linalg_lu_factor": ("LU", "pivots"),
    "linalg_lu_factor_ex": ("LU", "pivots", "info"),
    "linalg_qr": ("Q", "R"),
    "qr": ("Q", "R"),
    "linalg_svd": ("U", "S", "Vh"),
    "svd": ("U", "S", "V"),
    "linalg_eigh": ("eigenvalues", "eigenvectors"),
    "linalg_lstsq": ("solution", "residuals", "rank", "singular_values"),
}


def _make(name, fields):
    def __new__(cls, sequence):
        sequence = tuple(sequence)
        if len(sequence) != len(fields):
            raise TypeError(f"cgrad.return_types.{name} takes a {len(fields)}-sequence "
                            f"({len(sequence)}-sequence given)")
        return tuple.__new__(cls, sequence)

    def __repr__(self):
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(fields, self))
        return f"cgrad.return_types.{name}(\n{body})"

    def __reduce__(self):
        return (type(self), (tuple(self),))

    attrs = {"__slots__": (), "__module__": "cgrad.return_types", "__qualname__": name,
             "__new__": __new__, "__repr__": __repr__, "__reduce__": __reduce__,
             "n_fields": len(fields), "n_sequence_fields": len(fields), "n_unnamed_fields": 0}
    for i, f in enumerate(fields):
        attrs[f] = property(lambda self, i=i: tuple.__getitem__(self, i))
    return type(name, (tuple,), attrs)


TYPES = {name: _make(name, fields) for name, fields in _FIELDS.items()}


def result_type(name, values):
    return tuple.__new__(TYPES[name], values)
