"""Generate cgrad's type stubs (cgrad/**/*.pyi) from the imported package.

    python tools/gen_stubs.py            # rewrite the stubs
    python tools/gen_stubs.py --check    # exit 1 if a checked-in stub differs

Every module of the package gets a stub holding its public names (and, for
cgrad._C, every public name of the compiled module, grad_fn classes
included, so `python -m mypy.stubtest cgrad` has nothing to allow). The
signatures are the runtime ones: Cython embeds each def's signature in the
compiled module (inspect.signature reads it), Python functions have theirs.
Parameters are typed Any (ops take tensors, numbers, sequences and dtypes
alike); return types come from the tables below, by default Tensor for the
compiled ops, Tensor methods and nn.functional, Any elsewhere. A name bound
to an object defined in another module of the package is re-exported from
there (`from cgrad._C import add as add`), so each class is defined once;
when that home is a private name (cat = _Cat, selu = _C._functional_selu),
the home module's stub defines it too (all_stubs).
The stubs pass `mypy --strict` as written: where the runtime itself breaks
Liskov substitution (LBFGS.step(closure), as PyTorch's), the method carries
`# type: ignore[override]`, decided by comparing the two runtime signatures.
Needs an importable cgrad (an in-place build or an installed wheel).
"""
import argparse
import enum
import importlib
import inspect
import os
import pkgutil
import struct
import sys
import types

# The CPython the checked-in stubs are generated with (CI's): a class's
# @disjoint_base follows CPython's layout rule, which changed in 3.12.
STUB_PYTHON = (3, 11)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Names in annotations. Builtins are spelled builtins.X because stubs define
# names that shadow them (cgrad.float, Tensor.int(), Tensor.bool()), and the
# package's own types through private aliases because Tensor has attributes
# named dtype and device.
BOOL, INT, FLOAT, STR, NONE = "builtins.bool", "builtins.int", "builtins.float", "builtins.str", "None"
TENSOR, SIZE, DTYPE, DEVICE = "_Tensor", "_Size", "_dtype", "_device"
OPT_TENSOR = f"{TENSOR} | None"
TENSORS = f"builtins.tuple[{TENSOR}, ...]"
ANY = "Any"
ALIASES = {TENSOR: "Tensor", SIZE: "Size", DTYPE: "dtype", DEVICE: "device"}

# Default return type of a module's functions (else Any).
MODULE_RETURNS = {"cgrad._C": TENSOR, "cgrad.nn.functional": TENSOR, "cgrad.linalg": TENSOR}

# Return types that are not the default, by qualified name ("module.name" or
# "module.Class.method"); "*.name" applies to every module and class.
RETURNS = {
    # compiled functions
    **{f"cgrad._C.{n}": BOOL for n in [
        "allclose", "equal", "is_tensor", "can_cast", "is_grad_enabled", "is_inference_mode_enabled",
        "is_anomaly_enabled", "is_anomaly_check_nan_enabled", "set_flush_denormal"]},
    **{f"cgrad._C.{n}": INT for n in ["numel", "get_num_threads", "initial_seed"]},
    **{f"cgrad._C.{n}": NONE for n in ["set_num_threads", "seed"]},
    **{f"cgrad._C.{n}": DTYPE for n in ["promote_types", "result_type"]},
    **{f"cgrad._C.{n}": TENSORS for n in ["split", "split_with_sizes", "chunk", "unbind"]},
    # Tensor or tuple, by the arguments
    **{f"cgrad._C.{n}": ANY for n in ["max", "min", "nonzero", "atleast_1d", "atleast_2d", "atleast_3d",
                                      "manual_seed"]},
    # Tensor methods
    **{f"cgrad._C.Tensor.{n}": BOOL for n in [
        "allclose", "equal", "is_complex", "is_contiguous", "is_floating_point", "is_inference", "_is_view",
        "__bool__", "__contains__", "is_cuda", "is_leaf", "is_sparse", "requires_grad", "retains_grad", "is_xpu",
        "is_ipu", "is_mtia", "is_maia", "is_xla", "is_vulkan", "is_mkldnn", "is_nested", "is_quantized",
        "is_sparse_csr"]},
    **{f"cgrad._C.Tensor.{n}": INT for n in [
        "dim", "ndimension", "numel", "nelement", "element_size", "storage_offset", "data_ptr", "__len__",
        "__index__", "__int__", "__hash__", "ndim", "itemsize", "nbytes", "output_nr", "_version",
        "__array_priority__"]},
    **{f"cgrad._C.Tensor.{n}": ANY for n in [
        "item", "tolist", "size", "stride", "max", "min", "nonzero", "type", "numpy", "__array__",
        "register_hook", "register_post_accumulate_grad_hook", "__reduce_ex__", "grad_fn", "__dict__"]},
    **{f"cgrad._C.Tensor.{n}": TENSORS for n in ["split", "split_with_sizes", "chunk", "unbind"]},
    **{f"cgrad._C.Tensor.{n}": NONE for n in ["backward", "retain_grad", "__setitem__", "__delitem__",
                                              "__init__"]},
    "cgrad._C.Tensor.__float__": FLOAT,
    "cgrad._C.Tensor.__repr__": STR,
    "cgrad._C.Tensor.__format__": STR,
    "cgrad._C.Tensor.__iter__": f"Iterator[{TENSOR}]",
    "cgrad._C.Tensor.shape": SIZE,
    "cgrad._C.Tensor.dtype": DTYPE,
    "cgrad._C.Tensor.device": DEVICE,
    "cgrad._C.Tensor.grad": OPT_TENSOR,
    "cgrad._C.Tensor._base": OPT_TENSOR,
    # Python functions
    "cgrad._C.get_default_device": DEVICE,
    "cgrad.is_floating_point": BOOL,
    "cgrad.get_default_dtype": DTYPE,
    "cgrad.autograd.grad_mode.is_grad_enabled": BOOL,
    "cgrad.autograd.grad_mode.is_inference_mode_enabled": BOOL,
    "cgrad.autograd.gradcheck.gradcheck": BOOL,
    "cgrad.autograd.gradcheck.gradgradcheck": BOOL,
    "cgrad.autograd.grad": TENSORS,
    "cgrad.autograd.backward": NONE,
    "cgrad.serialization.save": NONE,
    "cgrad.viz.to_dot": STR,
    "cgrad.viz.draw": STR,
    "cgrad.nn.modules.module.Module.parameters": f"Iterator[{TENSOR}]",
    "cgrad.nn.modules.module.Module.named_parameters": f"Iterator[builtins.tuple[{STR}, {TENSOR}]]",
    "cgrad.nn.modules.module.Module.buffers": f"Iterator[{TENSOR}]",
    "cgrad.nn.modules.module.Module.named_buffers": f"Iterator[builtins.tuple[{STR}, {TENSOR}]]",
    "cgrad.nn.modules.module.Module.state_dict": f"builtins.dict[{STR}, Any]",
    "cgrad.nn.modules.module.Module.zero_grad": NONE,
    **{f"cgrad.nn.modules.module.Module.{n}": "Self" for n in [
        "train", "eval", "to", "float", "double", "half", "cpu", "requires_grad_", "apply"]},
    "cgrad.optim.optimizer.Optimizer.zero_grad": NONE,
    "cgrad.optim.optimizer.Optimizer.state_dict": f"builtins.dict[{STR}, Any]",
    "cgrad.optim.optimizer.Optimizer.add_param_group": NONE,
    "cgrad.optim.optimizer.Optimizer.load_state_dict": NONE,
    "*.__init__": NONE,
    "*.__init_subclass__": NONE,
    "*.__reduce__": ANY,
    "*.__setstate__": NONE,
    "*.__format__": STR,
    "*.__dlpack__": ANY,
    "*.__dlpack_device__": f"builtins.tuple[{INT}, {INT}]",
    "*.__del__": NONE,
    "*.__repr__": STR,
    "*.__str__": STR,
    "*.__len__": INT,
    "*.__bool__": BOOL,
    "*.__hash__": INT,
    "*.__setattr__": NONE,
    "*.__delattr__": NONE,
    "*.__setitem__": NONE,
    "*.__delitem__": NONE,
    "*.__enter__": ANY,
    "*.__exit__": ANY,
}

PREDICATE_PREFIXES = ("is_", "has_", "can_", "are_")

# Operator slots have no signature at runtime (Cython's binary operators).
BINARY_OPERATORS = {"__add__", "__and__", "__floordiv__", "__matmul__", "__mod__", "__mul__", "__or__",
                    "__sub__", "__truediv__", "__xor__", "__pow__", "__radd__", "__rand__", "__rfloordiv__",
                    "__rmatmul__", "__rmod__", "__rmul__", "__ror__", "__rsub__", "__rtruediv__", "__rxor__",
                    "__rpow__", "__lshift__", "__rshift__", "__rlshift__", "__rrshift__"}
# Operators are called with their operands in place, never by keyword, and
# mypy compares __iadd__ with __add__ by parameter names: their stubs make the
# operands positional-only (as typeshed does; stubtest allows it for dunders).
OPERATOR_DUNDERS = {f"__{prefix}{op}__" for prefix in ("", "r", "i") for op in (
    "add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "divmod", "pow", "lshift", "rshift", "and",
    "xor", "or")} | {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}
# Tensor compares elementwise: its __eq__/__ne__ return tensors, not bool.
OVERRIDES_OBJECT = {"__eq__", "__ne__"}
# Every dunder a class defines goes into its stub (a whitelist would drop the
# ones other sessions add, as __dlpack__ or __getitems__ were), except the
# ones Python or Cython put on every class, which are no API and which
# stubtest does not look for either (its IGNORABLE_CLASS_DUNDERS).
SKIPPED_DUNDERS = {
    "__module__", "__qualname__", "__doc__", "__dict__", "__weakref__", "__slots__", "__annotations__",
    "__annotate__", "__annotate_func__", "__annotations_cache__", "__firstlineno__", "__static_attributes__",
    "__classdictcell__", "__orig_bases__", "__parameters__", "__abstractmethods__", "__pyx_vtable__",
    "__dataclass_fields__", "__dataclass_params__", "__slotnames__", "__text_signature__",
    "__reduce_cython__", "__setstate_cython__", "__subclasshook__", "__protocol_attrs__",
    "__callable_proto_members_only__", "__non_callable_proto_members__", "__new_member__"}
GENERIC_BUILTINS = {tuple: "builtins.tuple[Any, ...]", list: "builtins.list[Any]",
                    dict: "builtins.dict[Any, Any]", set: "builtins.set[Any]"}
BASES = {"cgrad._C.Size": "builtins.tuple[builtins.int, ...]"}
SLOT_METHODS = (types.WrapperDescriptorType, types.MethodDescriptorType, types.BuiltinFunctionType,
                types.MethodWrapperType, types.BuiltinMethodType, types.FunctionType)


def returns_by_name(name, default):
    """The return type PyTorch's naming implies for an op not in RETURNS
    (so that names other sessions add get it without an entry): predicates
    (is_nonzero, is_same_size, can_cast) return bool, setters (set_flush_denormal,
    not the in-place set_) return None."""
    if name.startswith(PREDICATE_PREFIXES):
        return BOOL
    if name.startswith("set_") and not name.endswith("_"):
        return NONE
    return default


def accepts_every_call(override, original, static=False):
    """Whether every call the signature `original` accepts is accepted by
    `override` too (positions and keywords; parameters are all Any, and the
    names of positional parameters are not compared, as in mypy's override
    check; for a staticmethod the first parameter is compared too, as it is
    not bound). False means the stub carries the runtime's Liskov violation (as
    PyTorch's LBFGS.step(closure) or ReduceLROnPlateau.step(metrics) do)."""
    def split(sig):
        params = list(sig.parameters.values())[0 if static else 1:]
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        keyword = {p.name: p for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        kinds = {p.kind for p in params}
        return positional, keyword, inspect.Parameter.VAR_POSITIONAL in kinds, \
            inspect.Parameter.VAR_KEYWORD in kinds
    pos_o, kw_o, star_o, starstar_o = split(override)
    pos_b, kw_b, star_b, starstar_b = split(original)
    if star_b and starstar_b and not pos_b and not kw_b:
        return True     # (*args: Any, **kwargs: Any) alone stands for any signature in mypy
    if static and star_b and len(pos_b) == 1 and not starstar_b and all(
            p.kind is p.POSITIONAL_OR_KEYWORD for p in kw_b.values()):
        return True     # autograd.Function's backward(ctx, *grads): mypy takes any (ctx, ...) for it
    if (star_b and not star_o) or (starstar_b and not starstar_o):
        return False
    for i, p in enumerate(pos_b):
        if i < len(pos_o):
            if pos_o[i].default is pos_o[i].empty and p.default is not p.empty:
                return False
        elif not star_o:
            return False
    for name, p in kw_b.items():
        if p.kind is p.POSITIONAL_OR_KEYWORD:
            continue
        if name in kw_o:
            if kw_o[name].default is kw_o[name].empty and p.default is not p.empty:
                return False
        elif not starstar_o:
            return False
    # what the override needs and the original never passes
    required_o = [p for p in pos_o[len(pos_b):] if p.default is p.empty]
    required_kw = [p for n, p in kw_o.items() if p.kind is p.KEYWORD_ONLY and p.default is p.empty
                   and n not in kw_b]
    return not required_o and not required_kw


def overrides_incompatibly(cls, attr, value):
    """Whether the method cls.attr cannot stand for the same-named method of
    a base class (mypy reports [override] on it)."""
    if attr in ("__init__", "__new__", "__init_subclass__", "__post_init__") or (
            attr.startswith("__") and not attr.endswith("__")):
        return False
    for base in cls.__mro__[1:]:
        if attr not in vars(base):
            continue
        if base is object:
            return False
        inherited = vars(base)[attr]
        if isinstance(inherited, (staticmethod, classmethod)) != isinstance(value, (staticmethod, classmethod)):
            return True
        try:
            return not accepts_every_call(inspect.signature(getattr(value, "__func__", value)),
                                          inspect.signature(getattr(inherited, "__func__", inherited)),
                                          isinstance(value, staticmethod))
        except (TypeError, ValueError):
            return False
    return False


def shape_differs(t1, t2):
    """CPython's shape_differs() (typeobject.c), as mypy.stubtest mirrors it:
    the rule changed in 3.12, so the stubs are generated with the CPython
    that CI type-checks with (STUB_PYTHON)."""
    if sys.version_info >= (3, 12) or t1.__itemsize__ or t2.__itemsize__:
        return (t1.__basicsize__, t1.__itemsize__) != (t2.__basicsize__, t2.__itemsize__)
    pointer = struct.calcsize("P")
    size = t1.__basicsize__
    if not t2.__weakrefoffset__ and t1.__weakrefoffset__ + pointer == size:
        size -= pointer
    if not t2.__dictoffset__ and t1.__dictoffset__ + pointer == size:
        size -= pointer
    if not t2.__weakrefoffset__ and t2.__weakrefoffset__ == size:
        size -= pointer
    return size != t2.__basicsize__


def is_disjoint_base(cls):
    """Whether instances of cls have a layout of their own (PEP 800's
    @disjoint_base), as stubtest decides it (without needing mypy here, so
    the stubs do not depend on whether it is installed)."""
    return cls is not object and not vars(cls).get("__slots__") and shape_differs(cls, cls.__base__)


def is_function(obj):
    return (inspect.isroutine(obj) or type(obj).__name__ == "cython_function_or_method"
            or isinstance(obj, SLOT_METHODS))


class Stub:
    """One module's stub being written: its lines and what it imports."""

    def __init__(self, module, homes):
        self.module, self.homes = module, homes
        self.lines, self.reexports = [], []
        self.uses_alias = set()
        self.needed_classes = set()     # classes of this module that annotations name

    # -- annotations ---------------------------------------------------------
    def returns(self, qualname, default):
        name = qualname.rsplit(".", 1)[1]
        if default == TENSOR:
            default = returns_by_name(name, default)
        ann = RETURNS.get(qualname, RETURNS.get(f"*.{name}", default))
        for alias in ALIASES:
            if alias in ann:
                self.uses_alias.add(alias)
        return ann

    def type_of_value(self, value):
        t = type(value)
        if t in (bool, int, float, str, bytes):
            return f"builtins.{t.__name__}"
        if t in (tuple, list, dict, set, frozenset):
            return f"builtins.{t.__name__}[{'Any, ...' if t is tuple else 'Any, Any' if t is dict else 'Any'}]"
        home = self.homes.get(id(t))
        if home is not None:
            mod, name = home
            alias = {v: k for k, v in ALIASES.items()}.get(name) if mod == "cgrad._C" else None
            if alias:
                self.uses_alias.add(alias)
                return alias
            if mod == self.module:
                self.needed_classes.add(name)
                return name
            self.reexports.append((mod, name, f"_{name}"))
            return f"_{name}"
        return ANY

    def class_ref(self, cls):
        """How this stub names a class of the package (imported under a
        private alias from its home module when defined elsewhere)."""
        home = self.homes.get(id(cls))
        if home is None:
            self.reexports.append(("import", cls.__module__, None))
            return f"{cls.__module__}.{cls.__qualname__}"
        if home[0] == self.module:
            self.needed_classes.add(home[1])
            return home[1]
        self.reexports.append((home[0], home[1], f"_{home[1]}"))
        return f"_{home[1]}"

    # -- signatures ------------------------------------------------------------
    def signature(self, obj, qualname, default_return, method):
        name = qualname.rsplit(".", 1)[1]
        ret = self.returns(qualname, default_return)
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            sig = None
        if sig is None:
            if name in BINARY_OPERATORS or name in OVERRIDES_OBJECT:
                return f"(self, other: Any, /) -> {ret}"
            return f"(self, *args: Any, **kwargs: Any) -> {ret}" if method else \
                f"(*args: Any, **kwargs: Any) -> {ret}"
        params, seen_kwonly, seen_positional_only = [], False, False
        for i, p in enumerate(sig.parameters.values()):
            if i == 0 and method and (p.name in ("self", "cls") or name == "__new__"):
                params.append(p.name)
                if p.kind is p.POSITIONAL_ONLY:
                    seen_positional_only = True
                continue
            positional_only = p.kind is p.POSITIONAL_ONLY or (
                name in OPERATOR_DUNDERS and p.kind is p.POSITIONAL_OR_KEYWORD)
            if seen_positional_only and not positional_only:
                params.append("/")
                seen_positional_only = False
            if positional_only:
                seen_positional_only = True
            if p.kind is p.KEYWORD_ONLY and not seen_kwonly:
                params.append("*")
                seen_kwonly = True
            text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + f"{p.name}: Any"
            if p.kind is p.VAR_POSITIONAL:
                seen_kwonly = True
            if p.default is not p.empty:
                text += " = ..."
            params.append(text)
        if seen_positional_only:
            params.append("/")
        return f"({', '.join(params)}) -> {ret}"

    # -- members -----------------------------------------------------------------
    def function(self, name, obj, qualname, default_return, indent="", method=False, decorator=None,
                 incompatible_override=False):
        if decorator:
            self.lines.append(f"{indent}@{decorator}")
        if getattr(obj, "__isabstractmethod__", False):
            self.lines.append(f"{indent}@abstractmethod")
        sig = self.signature(obj, qualname, default_return, method)
        ignore = "  # type: ignore[override]" if incompatible_override or (
            name in OVERRIDES_OBJECT and not sig.endswith((f"-> {BOOL}", f"-> {ANY}"))) else ""
        self.lines.append(f"{indent}def {name}{sig}: ...{ignore}")

    def class_variable_outside(self, cls, attr):
        """Whether a base class from outside the package (whose typeshed stub
        declares its class attributes ClassVar, as pickle's dispatch) holds
        this attribute too."""
        return any(attr in vars(base) and self.homes.get(id(base)) is None
                   for base in cls.__mro__[1:] if base is not object)

    def read_only_override(self, cls, attr):
        """The error code a read-only property is to ignore where the runtime
        makes a base class's writable attribute read-only (constraints'
        event_dim, as PyTorch's; BatchedTensor.__class__ over object's): a
        base of the package has it written as a variable ([override]); a
        base outside declares a descriptor a read-write property and a plain
        value a variable, as typeshed does."""
        for base in cls.__mro__[1:]:
            if attr not in vars(base):
                continue
            inherited = vars(base)[attr]
            if isinstance(inherited, property) and inherited.fset is None:
                return None
            if is_function(inherited) or isinstance(inherited, (staticmethod, classmethod)):
                return None
            if self.homes.get(id(base)) is None and (
                    inspect.isgetsetdescriptor(inherited) or isinstance(inherited, property)):
                return "misc"
            return "override"
        return None

    def klass(self, name, cls):
        qual = f"{self.module}.{name}"
        bases = []
        for base in cls.__bases__:
            if base is object:
                continue
            if base in GENERIC_BUILTINS:
                bases.append(BASES.get(qual, GENERIC_BUILTINS[base]))
                continue
            home = self.homes.get(id(base))
            if home is None:
                bases.append(f"{base.__module__}.{base.__qualname__}")
                self.reexports.append(("import", base.__module__, None))
            elif home[0] == self.module:
                bases.append(home[1])
            else:
                self.reexports.append((home[0], home[1], f"_{home[1]}"))
                bases.append(f"_{home[1]}")
        meta = type(cls)
        # (an Enum's metaclass is implied, and named EnumMeta before 3.11)
        if meta is not type and not issubclass(meta, enum.EnumMeta):
            bases.append("metaclass=" + self.class_ref(meta))
        if is_disjoint_base(cls):
            self.lines.append("@disjoint_base")
        self.lines.append(f"class {name}{'(' + ', '.join(bases) + ')' if bases else ''}:")
        default_return = TENSOR if cls.__name__ == "Tensor" and self.module == "cgrad._C" else ANY
        body = len(self.lines)
        for attr, value in sorted(vars(cls).items()):
            if attr.startswith("__") and attr in SKIPPED_DUNDERS:
                continue
            if attr.startswith("_") and not attr.startswith("__") and attr not in ("_version", "_base", "_is_view",
                                                                                    "_make_subclass"):
                continue
            member_qual = f"{qual}.{attr}"
            if attr == "__new__":
                if isinstance(value, staticmethod):
                    self.function(attr, value.__func__, member_qual, "Self", "    ", True)
                continue
            if not isinstance(value, (property, types.FunctionType, staticmethod, classmethod)) and \
                    hasattr(type(value), "__get__"):
                # a descriptor that is a property when looked up on the class
                # (distributions' lazy_property): typed as what stubtest sees
                try:
                    looked_up = getattr(cls, attr)
                except Exception:
                    looked_up = value
                if isinstance(looked_up, property):
                    value = looked_up
            clash = overrides_incompatibly(cls, attr, value)
            if isinstance(value, staticmethod):
                self.function(attr, value.__func__, member_qual, default_return, "    ", False, "staticmethod",
                              clash)
            elif isinstance(value, classmethod):
                self.function(attr, value.__func__, member_qual, default_return, "    ", True, "classmethod",
                              clash)
            elif isinstance(value, property) or inspect.isgetsetdescriptor(value) or \
                    inspect.ismemberdescriptor(value):
                writable = not isinstance(value, property) or value.fset is not None
                ann = self.returns(member_qual, ANY)
                if writable:
                    self.lines.append(f"    {attr}: {ann}")
                else:
                    code = self.read_only_override(cls, attr)
                    # (mypy reports the [misc] one on the decorator, [override] on the def)
                    self.lines += ["    @property" + ("  # type: ignore[misc]" if code == "misc" else ""),
                                   f"    def {attr}(self) -> {ann}: ..."
                                   + ("  # type: ignore[override]" if code == "override" else "")]
            elif is_function(value):
                self.function(attr, value, member_qual, default_return, "    ", True, None, clash)
            elif attr == "__hash__" and value is None:
                # mypy objects only where a base still has a __hash__ method
                inherited = next((base.__dict__["__hash__"] for base in cls.__mro__[1:]
                                  if "__hash__" in base.__dict__), None)
                self.lines.append("    __hash__: ClassVar[None]"
                                  + ("  # type: ignore[assignment]" if inherited is not None else ""))
            elif isinstance(cls, enum.EnumMeta) and isinstance(value, cls):
                # a member, spelled as one (`name: type` would be an attribute)
                literal = value.value if type(value.value) in (bool, int, float, str) else ...
                self.lines.append(f"    {attr} = {literal!r}")
            else:
                ann = self.returns(member_qual, self.type_of_value(value))
                if self.class_variable_outside(cls, attr):
                    ann = f"ClassVar[{ann}]"
                self.lines.append(f"    {attr}: {ann}")
        if len(self.lines) == body:
            self.lines.append("    ...")

    def text(self):
        head = [f"# Generated by tools/gen_stubs.py from the runtime module {self.module}: do not edit.",
                "import builtins", "from typing import Any, ClassVar, Iterator", ""]
        if any(line.strip() == "@abstractmethod" for line in self.lines):
            head.insert(1, "from abc import abstractmethod")
        extensions = [n for n, used in (("Self", any("-> Self:" in line for line in self.lines)),
                                         ("disjoint_base", "@disjoint_base" in self.lines)) if used]
        if extensions:
            head.insert(3, f"from typing_extensions import {', '.join(extensions)}")
        imports = []
        if self.module == "cgrad._C":
            tail = [""] + [f"{alias}: TypeAlias = {ALIASES[alias]}" for alias in sorted(self.uses_alias)]
            if self.uses_alias:
                head[2] = "from typing import Any, ClassVar, Iterator, TypeAlias"
        else:
            tail = []
            for alias in sorted(self.uses_alias):
                imports.append(f"from cgrad._C import {ALIASES[alias]} as {alias}")
        for mod, name, asname in sorted(set(self.reexports), key=lambda r: (r[0], r[1], r[2] or "")):
            if mod == "import":
                imports.append(f"import {name}")
            elif name == "*module*":
                imports.append(f"import {asname[0]} as {asname[1]}")
            else:
                imports.append(f"from {mod} import {name} as {asname}")
        if imports:
            imports.append("")
        return "\n".join(head + imports + self.lines + tail).rstrip("\n") + "\n"


def public_names(module, bound_at_import):
    if hasattr(module, "__all__"):
        return list(module.__all__) + (["__version__"] if "__version__" in vars(module) else [])
    # (submodules that only this script's walk imported are not attributes
    # of their package for a user)
    # names a module loads on first use (cgrad/__init__.py's module
    # __getattr__ and its _LAZY_ATTRIBUTES table) are as public as the bound ones
    lazy = getattr(module, "_LAZY_ATTRIBUTES", {})
    return [n for n in (set(bound_at_import.get(module.__name__, vars(module))) | set(lazy))
            if not n.startswith("_") or n in ("__version__",)]


def find_homes(modules):
    """id(object) -> (module, name) where each class, function and submodule
    is defined: the compiled module first, then the module named by
    __module__ when it holds the object under the same name."""
    homes = {}
    compiled = modules["cgrad._C"]
    # an object bound to several names: its own name first, then a public one
    candidates = sorted(vars(compiled).items(), key=lambda item: (
        getattr(item[1], "__name__", None) != item[0], item[0].startswith("_"), item[0]))
    for name, obj in candidates:
        if (isinstance(obj, type) or is_function(obj)) and not name.startswith("__"):
            homes.setdefault(id(obj), ("cgrad._C", name))
    for modname, module in modules.items():
        for name, obj in vars(module).items():
            if isinstance(obj, type) or is_function(obj):
                if getattr(obj, "__module__", None) == modname and getattr(obj, "__name__", None) == name:
                    homes.setdefault(id(obj), (modname, name))
    # a class its module binds under another name only (a namedtuple base, as
    # _PackedSequenceBase = namedtuple("PackedSequence", ...) beneath a class
    # PackedSequence): there, under that name, not spelt by its __name__ (which
    # may be a different class of the same module)
    for modname, module in modules.items():
        for name, obj in sorted(vars(module).items()):
            if isinstance(obj, type) and getattr(obj, "__module__", None) == modname and \
                    not name.startswith("__"):
                homes.setdefault(id(obj), (modname, name))
    # a class whose __module__ names a module that does not hold it (the legacy
    # tensor types' metaclass prints as cgrad.tensortype, as torch's does, but
    # lives in cgrad._legacy_tensor_types): where it is bound under its name
    for modname, module in modules.items():
        for name, obj in sorted(vars(module).items()):
            owner = modules.get(getattr(obj, "__module__", None)) if isinstance(obj, type) else None
            if owner is not None and obj.__name__ == name and getattr(owner, name, None) is not obj:
                homes.setdefault(id(obj), (modname, name))
    return homes


def stub_for(modname, modules, homes, bound_at_import, imported_private=()):
    """The stub of one module, and the private names it imports from other
    modules' stubs (which those stubs must then define)."""
    module = modules[modname]
    stub = Stub(modname, homes)
    names = public_names(module, bound_at_import)
    if modname == "cgrad._C":
        names = [n for n in vars(module) if not n.startswith("_") or n == "_generator"]
    names = list(names) + [n for n in imported_private if n not in names]
    for name in sorted(names):
        if name == "__all__":
            continue
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType):
            # the package's submodules; other modules (numpy, ...) are no API
            if obj.__name__ in modules and "." in obj.__name__:
                parent, _, leaf = obj.__name__.rpartition(".")
                stub.reexports.append((parent, leaf, name))
            elif name in getattr(module, "__all__", ()):
                # a module of another package that __all__ re-exports (the
                # `reducer` of multiprocessing's): from that package's top
                package = obj.__name__.partition(".")[0]
                if getattr(sys.modules.get(package), name, None) is obj:
                    stub.reexports.append((package, name, name))
            continue
        if modname == "cgrad._C" and (isinstance(obj, type) or is_function(obj)) and \
                not (getattr(obj, "__module__", None) or "").startswith("cgrad"):
            # imported into the compiled module (numbers.Number, ...); a table
            # function that a package module renamed as its own (F.selu) stays
            continue
        home = homes.get(id(obj)) if (isinstance(obj, type) or is_function(obj)) else None
        if home is None and (isinstance(obj, type) or is_function(obj)) and \
                not getattr(obj, "__module__", "cgrad").startswith("cgrad"):
            # imported from outside the package (collections.abc.Sequence):
            # no API of this module unless __all__ says so
            if name in getattr(module, "__all__", ()):
                source = sys.modules.get(obj.__module__)
                if getattr(source, obj.__qualname__, None) is obj:
                    stub.reexports.append((obj.__module__, obj.__qualname__, name))
                else:
                    # an object no module names by its qualname (multiprocessing's
                    # Queue, a bound method of its default context): from the
                    # top-level package that exports it under this name
                    package = obj.__module__.partition(".")[0]
                    if getattr(sys.modules.get(package), name, None) is obj:
                        stub.reexports.append((package, name, name))
            continue
        if home is not None and home != (modname, name):
            stub.reexports.append((home[0], home[1], name))
        elif isinstance(obj, type):
            stub.klass(name, obj)
        elif is_function(obj):
            stub.function(name, obj, f"{modname}.{name}", MODULE_RETURNS.get(modname, ANY))
        elif isinstance(obj, enum.Enum):
            stub.lines.append(f"{name}: {stub.type_of_value(obj)}")
        else:
            stub.lines.append(f"{name}: {RETURNS.get(f'{modname}.{name}', stub.type_of_value(obj))}")
    # private classes of this module that the classes and values written here
    # need (bases, metaclasses, the types of values), written in name order
    written = {name for name in names if isinstance(getattr(module, name, None), type)}
    pending = sorted(written)
    while pending or stub.needed_classes - written:
        wanted = set(stub.needed_classes - written)
        for name in pending:
            cls = getattr(module, name)
            for base in cls.__bases__:
                home = homes.get(id(base))
                if home and home[0] == modname and home[1] not in written:
                    wanted.add(home[1])
        pending = sorted(wanted - written)
        for name in pending:
            written.add(name)
            stub.klass(name, getattr(module, name))
        stub.needed_classes &= written
    if is_function(vars(module).get("__dir__")):
        # (a module __getattr__ is left out: it would type every misspelt
        # name as Any; the names it provides are listed above)
        stub.lines.append(f"def __dir__() -> builtins.list[{STR}]: ...")
    if hasattr(module, "__all__"):
        stub.lines.append(f"__all__ = {sorted(module.__all__)!r}")
    imports = {(mod, name) for mod, name, _ in stub.reexports
               if mod != "import" and name != "*module*" and name.startswith("_") and not name.startswith("__")
               and f"{mod}.{name}" not in modules}     # (a submodule needs no definition)
    return stub.text(), imports


def all_stubs(modules, homes, bound_at_import):
    """Every module's stub text. An object bound publicly is imported from
    where it is defined, often under a private name (cat = _Cat, selu =
    _C._functional_selu): the stubs are made again, each defining the private
    names the others import from it, until no stub asks for a new one."""
    imported_private = {}
    while True:
        texts, wanted = {}, {}
        for modname in modules:
            texts[modname], imports = stub_for(modname, modules, homes, bound_at_import,
                                               sorted(imported_private.get(modname, ())))
            for mod, name in imports:
                wanted.setdefault(mod, set()).add(name)
        if all(names <= imported_private.get(mod, set()) for mod, names in wanted.items()):
            return texts
        for mod, names in wanted.items():
            imported_private.setdefault(mod, set()).update(names)


def stub_path(modname, module):
    parts = modname.split(".")
    if os.path.basename(getattr(module, "__file__", "") or "").startswith("__init__."):
        return os.path.join(ROOT, *parts, "__init__.pyi")
    return os.path.join(ROOT, *parts[:-1], parts[-1] + ".pyi")


def all_modules():
    """Every module of the package, and the names each module loaded by
    `import cgrad` had bound before the walk imported the rest."""
    import cgrad
    bound_at_import = {name: set(vars(m)) for name, m in list(sys.modules.items())
                       if name == "cgrad" or name.startswith("cgrad.")}
    modules = {"cgrad": cgrad}
    for info in pkgutil.walk_packages(cgrad.__path__, "cgrad."):
        modules[info.name] = importlib.import_module(info.name)
    return dict(sorted(modules.items())), bound_at_import


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the checked-in stubs, write nothing")
    args = parser.parse_args()
    if sys.version_info[:2] != STUB_PYTHON:
        print(f"the stubs are generated with Python {'.'.join(map(str, STUB_PYTHON))} (CI's; @disjoint_base "
              f"follows its class layout rule), this is {sys.version.split()[0]}", file=sys.stderr)
        return 2
    sys.path.insert(0, ROOT)
    modules, bound_at_import = all_modules()
    homes = find_homes(modules)
    stale = []
    texts = all_stubs(modules, homes, bound_at_import)
    for modname, module in modules.items():
        path = stub_path(modname, module)
        text = texts[modname]
        old = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if old != text:
            stale.append(os.path.relpath(path, ROOT))
            if not args.check:
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
    typed = os.path.join(ROOT, "cgrad", "py.typed")
    if not os.path.exists(typed):
        stale.append("cgrad/py.typed")
        if not args.check:
            open(typed, "w").close()
    if args.check and stale:
        print("stubs out of date (run python tools/gen_stubs.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"stubs current: {len(modules)} modules")
    else:
        print("wrote: " + (", ".join(stale) if stale else f"nothing, the stubs of {len(modules)} modules are current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
