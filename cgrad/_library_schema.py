"""Operator schemas for cgrad.library: inferring one from a function's
annotations (torch.library.infer_schema, same strings and errors), parsing
one ("(Tensor x, SymInt n=3, *, float s=1.) -> Tensor", as
torch.library.define takes it) and binding a call's arguments to it with
PyTorch's dispatcher errors.

cgrad has no dispatcher, so a schema here only does what PyTorch's does at
the Python boundary: name and check the arguments, fill defaults, say which
arguments an op mutates (Tensor(a1!)) and what it returns.
"""
import collections.abc
import inspect
import typing
from types import GenericAlias

import cgrad

UNKNOWN_MUTATES = "unknown"
_Number = typing.Union[int, float, bool]        # torch.types.Number


def _derived_types(base_type, cpp_type, list_base, optional_base_list, optional_list_base):
    result = [(base_type, cpp_type), (typing.Optional[base_type], f"{cpp_type}?")]

    def sequences(typ):
        return (typing.Sequence[typ], typing.List[typ], GenericAlias(collections.abc.Sequence, (typ,)),
                GenericAlias(list, (typ,)))
    if list_base:
        result.extend((seq, f"{cpp_type}[]") for seq in sequences(base_type))
    if optional_base_list:
        result.extend((seq, f"{cpp_type}?[]") for seq in sequences(typing.Optional[base_type]))
    if optional_list_base:
        result.extend((typing.Optional[seq], f"{cpp_type}[]?") for seq in sequences(base_type))
    return result


SUPPORTED_PARAM_TYPES = dict(item for line in [
    (cgrad.Tensor, "Tensor", True, True, False), (int, "SymInt", True, False, True),
    (float, "float", True, False, True), (bool, "bool", True, False, True), (str, "str", False, False, False),
    (_Number, "Scalar", True, False, False), (cgrad.dtype, "ScalarType", False, False, False),
    (cgrad.device, "Device", False, False, False)] for item in _derived_types(*line))

SUPPORTED_RETURN_TYPES = {cgrad.Tensor: "Tensor", typing.List[cgrad.Tensor]: "Tensor[]", list[cgrad.Tensor]: "Tensor[]",
                          int: "SymInt", float: "float", bool: "bool", _Number: "Scalar"}


def _tuple_to_list(tuple_type):
    type_args = typing.get_args(tuple_type)
    if tuple_type is typing.Tuple or tuple_type is tuple or not type_args:
        return list
    if len(type_args) == 1 or (len(type_args) == 2 and type_args[1] is Ellipsis):
        return list[type_args[0]]
    return list[typing.Union[tuple(type_args)]]


def infer_schema(prototype_function, /, *, mutates_args, op_name=None, tags=()):
    """The schema string of a function from its type annotations (cgrad.Tensor for Tensor)."""
    pf_globals = prototype_function.__globals__
    sig = inspect.signature(prototype_function)
    if type(mutates_args) is not str:
        mutates_args = tuple(mutates_args)

    def error_fn(what):
        raise ValueError(f"infer_schema(func): {what} Got func with signature {sig})")

    def unstringify(ty):
        if isinstance(ty, str):
            try:
                return eval(ty, pf_globals, None)
            except NameError as e:
                error_fn(f"Unsupported type annotation {ty}. It is not a type. ({e}). If you are using 'from "
                         "__future__ import annotations', note that annotations are evaluated lazily as strings; make "
                         "sure all types referenced in annotations are importable at module scope, not only inside a "
                         "local function.")
            except Exception as e:
                error_fn(f"Unsupported type annotation {ty}. It is not a type. ({type(e).__name__}: {e})")
        origin = typing.get_origin(ty)
        if origin:
            args = typing.get_args(ty)
            converted = tuple(unstringify(a) for a in args)
            if any(a is not b for a, b in zip(args, converted)):
                return GenericAlias(origin, converted)
        return ty

    params, seen_args, saw_kwarg_only_arg = [], set(), False
    for idx, (name, param) in enumerate(sig.parameters.items()):
        if param.kind not in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            error_fn("We do not support positional-only args, varargs, or varkwargs.")
        if param.kind == inspect.Parameter.KEYWORD_ONLY and not saw_kwarg_only_arg:
            params.append("*")
            saw_kwarg_only_arg = True
        if param.annotation is inspect.Parameter.empty:
            error_fn(f"Parameter {name} must have a type annotation.")
        annotation_type = unstringify(param.annotation)
        if annotation_type not in SUPPORTED_PARAM_TYPES:
            if getattr(annotation_type, "__origin__", None) is tuple:
                list_type = _tuple_to_list(annotation_type)
                example = f"For example, {list_type}.\n\n" if list_type in SUPPORTED_PARAM_TYPES else "\n\n"
                error_fn(f"Parameter {name} has unsupported type {param.annotation}. We do not support Tuple inputs "
                         f"in schema. As a workaround, please try to use List instead. {example}The valid types are: "
                         f"{SUPPORTED_PARAM_TYPES.keys()}.")
            error_fn(f"Parameter {name} has unsupported type {param.annotation}. The valid types are: "
                     f"{SUPPORTED_PARAM_TYPES.keys()}.")
        schema_type = SUPPORTED_PARAM_TYPES[annotation_type]
        if type(mutates_args) is str:
            if mutates_args != UNKNOWN_MUTATES:
                raise ValueError("mutates_args must either be a sequence of the names of the arguments that are "
                                 "mutated or the string 'unknown'. ")
            if schema_type.startswith("Tensor"):
                schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        elif name in mutates_args:
            if not schema_type.startswith("Tensor"):
                error_fn(f"Parameter {name} is in mutable_args but only Tensors or collections of Tensors can be "
                         "mutated")
            schema_type = f"Tensor(a{idx}!){schema_type[len('Tensor'):]}"
        seen_args.add(name)
        if param.default is inspect.Parameter.empty:
            params.append(f"{schema_type} {name}")
            continue
        if param.default is None or isinstance(param.default, (int, float, bool)):
            default_repr = str(param.default)
        elif isinstance(param.default, (str, cgrad.device)):
            default_repr = f'"{param.default}"'
        elif isinstance(param.default, cgrad.dtype):
            default_repr = str(param.default).split(".")[-1]
        else:
            error_fn(f"Parameter {name} has an unsupported default value type {type(param.default)}. Please file an "
                     "issue on GitHub so we can prioritize this.")
        params.append(f"{schema_type} {name}={default_repr}")
    if mutates_args != UNKNOWN_MUTATES:
        not_seen = set(mutates_args) - seen_args
        if len(not_seen) > 0:
            error_fn(f"{not_seen} in mutates_args were not found in the custom op's signature. mutates_args should "
                     "contain the names of all args that the custom op mutates, or just the string 'unknown' if you "
                     "don't know.")
    ret = _parse_return(unstringify(sig.return_annotation), error_fn)
    if op_name is not None:
        return f"{op_name}({', '.join(params)}) -> {ret}"
    return f"({', '.join(params)}) -> {ret}"


def _parse_return(annotation, error_fn):
    if annotation is None:
        return "()"
    if annotation is inspect.Parameter.empty:
        error_fn("No return type annotation was provided. Please add one.")
    if typing.get_origin(annotation) is not tuple:
        if annotation not in SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
        return SUPPORTED_RETURN_TYPES[annotation]
    args = typing.get_args(annotation)
    for arg in args:
        if arg not in SUPPORTED_RETURN_TYPES:
            error_fn(f"Return has unsupported type {annotation}. The valid types are: {SUPPORTED_RETURN_TYPES}.")
    output_ty = ", ".join(SUPPORTED_RETURN_TYPES[arg] for arg in args)
    if len(args) == 1:
        output_ty = "(" + output_ty + ")"
    return "(" + output_ty + ")"


# ---------------------------------------------------------------------------
# parsed schemas

_NO_DEFAULT = object()


class Argument:
    def __init__(self, name, type_, default, kwarg_only):
        self.name = name
        self.type = type_                       # as written, alias annotation included
        self.default = default
        self.kwarg_only = kwarg_only
        self.is_write = "!" in type_
        self.base_type = type_.split("(")[0] + (type_.split(")")[-1] if "(" in type_ else "")

    def __str__(self):
        text = f"{self.type} {self.name}"
        if self.default is not _NO_DEFAULT:
            text += "=" + _default_text(self.default)
        return text


def _default_text(value):
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return f"{value:.0f}." if value.is_integer() else repr(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(_default_text(v) for v in value) + "]"
    return str(value).split(".")[-1]


def _split_top_level(text):
    parts, depth, current = [], 0, ""
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts


def _parse_default(text, type_):
    if text == "None":
        return None
    if text in ("True", "False"):
        return text == "True"
    if text.startswith('"') or text.startswith("'"):
        return text[1:-1]
    if text.startswith("["):
        return [_parse_default(t, type_.rstrip("[]?")) for t in _split_top_level(text[1:-1])]
    if type_.startswith("ScalarType"):
        return getattr(cgrad, text)
    try:
        return int(text)
    except ValueError:
        return float(text)


class Schema:
    """A parsed operator schema: `name`, `overload_name`, `arguments`, `returns` (text)."""

    def __init__(self, qualified_name, text):
        self.name = qualified_name
        self.overload_name = ""
        head, arrow, returns = text.rpartition("->")
        if not arrow or "(" not in head:
            raise RuntimeError(f"Expected a schema of the form '(args) -> returns' but got: {text}")
        opening = head.index("(")
        declared_name = head[:opening].strip()
        if "." in declared_name:
            self.overload_name = declared_name.split(".", 1)[1]
        self.returns = returns.strip()
        self.arguments, kwarg_only = [], False
        for part in _split_top_level(head[opening + 1:head.rindex(")")]):
            if part == "*":
                kwarg_only = True
                continue
            declaration, _, default = part.partition("=")
            type_, _, name = declaration.strip().rpartition(" ")
            parsed_default = _parse_default(default.strip(), type_) if default else _NO_DEFAULT
            self.arguments.append(Argument(name, type_.strip(), parsed_default, kwarg_only))

    @property
    def is_mutable(self):
        return any(a.is_write for a in self.arguments)

    def has_kwarg_only_tensors(self):
        return any(a.kwarg_only and a.base_type.startswith("Tensor") for a in self.arguments)

    def __str__(self):
        arguments, star = [], False
        for argument in self.arguments:
            if argument.kwarg_only and not star:
                arguments.append("*")
                star = True
            arguments.append(str(argument))
        overload = f".{self.overload_name}" if self.overload_name else ""
        return f"{self.name}{overload}({', '.join(arguments)}) -> {self.returns}"


_CAST_DETAILS = ("Unable to cast Python instance of type {} to C++ type '?' (#define PYBIND11_DETAILED_ERROR_MESSAGES or "
                 "compile in debug mode for details)")


def _accepts(base_type, value):
    """Whether the dispatcher would take value for an argument of base_type."""
    optional = base_type.endswith("?")
    base = base_type.rstrip("?")
    if value is None:
        return optional
    if base.endswith("[]"):
        element = base[:-2]
        return isinstance(value, (list, tuple)) and all(_accepts(element, v) for v in value)
    if base == "Tensor":
        return isinstance(value, cgrad.Tensor)
    if base in ("SymInt", "int"):
        return isinstance(value, int)
    if base == "float":
        return isinstance(value, (int, float))
    if base == "bool":
        return isinstance(value, bool)
    if base == "str":
        return isinstance(value, str)
    if base == "Scalar":
        return isinstance(value, (int, float, bool))
    if base == "ScalarType":
        return isinstance(value, cgrad.dtype)
    if base == "Device":
        return isinstance(value, (cgrad.device, str, int))
    return True


def _type_name(base_type):
    return {"SymInt": "int", "SymInt[]": "List[int]", "Tensor[]": "List[Tensor]"}.get(base_type, base_type)


def bind(schema, args, kwargs):
    """(positional arguments with defaults filled, keyword-only arguments) of a call, checked as PyTorch does."""
    declaration = str(schema)
    positional = [a for a in schema.arguments if not a.kwarg_only]
    received = len(args) + len(kwargs)
    if received > len(schema.arguments):
        raise RuntimeError(f"{schema.name}() expected at most {len(schema.arguments)} argument(s) but received "
                           f"{received} argument(s). Declaration: {declaration}")
    if len(args) > len(positional):
        raise RuntimeError(f"{schema.name}() takes {len(positional)} positional argument(s) but {len(args)} was/were "
                           f"given.  Declaration: {declaration}")
    names = [a.name for a in schema.arguments]
    for key in kwargs:
        if key not in names:
            raise RuntimeError(f"Unknown keyword argument '{key}' for operator '{schema.name}'. Schema: {declaration}")
        if names.index(key) < len(args):
            raise RuntimeError(f"Argument '{key}' specified both as positional and keyword argument. "
                               f"Schema: {declaration}")
    bound_args, bound_kwargs = [], {}
    for position, argument in enumerate(schema.arguments):
        if position < len(args):
            value = args[position]
        elif argument.name in kwargs:
            value = kwargs[argument.name]
        elif argument.default is not _NO_DEFAULT:
            value = argument.default
        else:
            raise RuntimeError(f"{schema.name}() is missing value for argument '{argument.name}'. "
                               f"Declaration: {declaration}")
        base = argument.base_type
        if not _accepts(base, value):
            details = (f"Unable to cast {value!r} to Tensor" if base == "Tensor"
                       else _CAST_DETAILS.format(type(value)))
            raise RuntimeError(f"{schema.name}() Expected a value of type '{_type_name(base)}' for argument "
                               f"'{argument.name}' but instead found type '{type(value).__name__}'.\nPosition: "
                               f"{position}\nValue: {value!r}\nDeclaration: {declaration}\nCast error details: {details}")
        if base in ("SymInt", "int") and isinstance(value, bool):
            value = int(value)
        if argument.kwarg_only:
            bound_kwargs[argument.name] = value
        else:
            bound_args.append(value)
    return bound_args, bound_kwargs
