"""cgrad.save and cgrad.load: tensors and nested containers of them (state
dicts of modules and optimizers) in a documented, safe format.

Format: a zip archive (numpy's .npz layout) with
  structure.json   the object tree as JSON: dicts, lists, tuples, numbers,
                   strings, booleans and None as themselves (with tagged
                   forms for tuples, non-string dict keys and tensors), each
                   tensor as {"__tensor__": <member name>, "dtype": ...,
                   "requires_grad": ...}
  t<N>.npy         one numpy .npy file per tensor
Loading parses the JSON and reads the arrays with allow_pickle=False: no code
from the file ever runs.
"""
import io
import json
import os
import zipfile

import numpy as np

from cgrad import _C
from cgrad._C import Tensor

__all__ = ["save", "load"]

FORMAT = "cgrad-save-v1"


def _encode(obj, arrays):
    if isinstance(obj, Tensor):
        name = f"t{len(arrays)}"
        arrays[name] = np.ascontiguousarray(obj.detach().numpy())
        return {"__tensor__": name, "dtype": str(obj.dtype).split(".")[-1],
                "requires_grad": bool(obj.requires_grad)}
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(x, arrays) for x in obj]}
    if isinstance(obj, list):
        return [_encode(x, arrays) for x in obj]
    if isinstance(obj, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in obj):
            return {k: _encode(v, arrays) for k, v in obj.items()}
        return {"__items__": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()],
                "__ordered__": True}
    raise TypeError(f"cgrad.save cannot store objects of type {type(obj).__name__}: it stores tensors, "
                    "numbers, strings, None, and dicts, lists and tuples of them")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(x, arrays) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if "__tensor__" in obj:
        t = _C.tensor(arrays[obj["__tensor__"]])
        if obj.get("requires_grad"):
            t.requires_grad_(True)
        return t
    if "__tuple__" in obj:
        return tuple(_decode(x, arrays) for x in obj["__tuple__"])
    if "__items__" in obj:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in obj["__items__"]}
    return {k: _decode(v, arrays) for k, v in obj.items()}


def save(obj, f):
    """Save a tensor, or a dict/list/tuple tree of tensors and plain values
    (a state_dict), to a path or a writable binary file object."""
    arrays = {}
    structure = {"format": FORMAT, "object": _encode(obj, arrays)}
    own = isinstance(f, (str, os.PathLike))
    fh = open(f, "wb") if own else f
    try:
        with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("structure.json", json.dumps(structure))
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.save(buf, arr, allow_pickle=False)
                z.writestr(name + ".npy", buf.getvalue())
    finally:
        if own:
            fh.close()


def load(f, map_location=None, weights_only=True):
    """Load what save() wrote. Only JSON and raw arrays are read: loading a
    file never executes code from it."""
    with zipfile.ZipFile(f, "r") as z:
        try:
            structure = json.loads(z.read("structure.json"))
        except KeyError:
            raise RuntimeError("not a file written by cgrad.save (no structure.json)") from None
        if structure.get("format") != FORMAT:
            raise RuntimeError(f"unsupported cgrad save format: {structure.get('format')!r}")
        arrays = {}
        for name in z.namelist():
            if name.endswith(".npy"):
                with z.open(name) as member:
                    arrays[name[:-4]] = np.load(io.BytesIO(member.read()), allow_pickle=False)
    return _decode(structure["object"], arrays)
