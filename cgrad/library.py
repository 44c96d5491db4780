"""cgrad.library: torch.library's custom operators, without a dispatcher.

An operator is a schema (cgrad/_library_schema.py parses and infers them)
and kernels by dispatch key. cgrad computes on the CPU alone and has one
autograd, so calling an operator is PyTorch's dispatch reduced to what is
left: bind and check the arguments against the schema; if an input
requires grad (and grad mode is on), go through the operator's autograd
kernel; else run its CPU kernel (a "cpu" kernel, else the device-generic
one), then bump the version of each argument the schema marks as mutated
(PyTorch's ADInplaceOrView step).

custom_op gives every operator PyTorch's generated autograd kernel: a
cgrad.autograd.Function subclass named GeneratedBackwardFor_<ns>_<op>_default
(its nodes print as PyTorch's), whose forward runs the CPU kernel and the
registered setup_context, and whose backward runs the registered backward
or raises PyTorch's error when none was registered. Tensor-list arguments
and results are flattened around Function.apply, as PyTorch's
supports_tensorlist does. A custom op's kernel may not return an input or a
view of one (PyTorch's aliasing check).

Kernels for other devices are kept (register_kernel("cuda")) but never
run; fake (meta) kernels are kept for the same reason: cgrad has no meta
tensors. Library.impl kernels registered to "Autograd"/"AutogradCPU" run
when grad is needed; the floating results of an operator with no autograd
kernel get PyTorch's WarnNotImplemented node (it warns when backward
reaches it and passes no gradient on).
"""
import contextlib
import inspect
import threading

import cgrad
from cgrad._library_schema import Schema, bind, infer_schema

__all__ = ["Library", "CustomOpDef", "custom_op", "define", "impl", "infer_schema", "register_autograd",
           "register_fake", "register_kernel", "ops"]

_DEVICE_KEYS = {"cpu": "CPU", "cuda": "CUDA", "meta": "Meta", "mps": "MPS", "xpu": "XPU",
                None: "CompositeExplicitAutograd", "default": "CompositeExplicitAutograd"}
_state = threading.local()


def _tensors_in(values):
    for value in values:
        if isinstance(value, cgrad.Tensor):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, cgrad.Tensor))


def _bump_versions(tensors):
    with cgrad.no_grad():
        for tensor in tensors:
            tensor.copy_(tensor)


class _OpOverload:
    """One operator (its `default` overload): schema, kernels, autograd formula."""

    def __init__(self, namespace, name, schema_text=None):
        self._namespace, self._opname, self._overloadname = namespace, name, "default"
        self._schema = None if schema_text is None else Schema(f"{namespace}::{name}", schema_text)
        self.kernels = {}
        self.fake_fn = None
        self.backward_fn = self.setup_context_fn = None
        self.custom_op = None              # the CustomOpDef, when custom_op defined it
        self._generated = None

    def __str__(self):
        return f"{self._namespace}.{self._opname}.{self._overloadname}"

    __repr__ = __str__

    def name(self):
        return f"{self._namespace}::{self._opname}"

    def __call__(self, *args, **kwargs):
        if self._schema is None:
            raise RuntimeError(f"{self.name()}: no schema was defined for this operator. Use define() first.")
        args, kwargs = bind(self._schema, args, kwargs)
        needs_grad = cgrad.is_grad_enabled() and any(t.requires_grad for t in _tensors_in(args))
        if needs_grad and getattr(_state, "below_autograd", None) is not self:
            for key in ("AutogradCPU", "Autograd"):
                if key in self.kernels:
                    return self._below_autograd(self.kernels[key], args, kwargs)
            if self.custom_op is not None or self.backward_fn is not None:
                return self._generated_function().call(args, kwargs)
            if "CompositeImplicitAutograd" in self.kernels:
                return self.kernels["CompositeImplicitAutograd"](*args, **kwargs)
            with cgrad.no_grad():
                result = self.backend_call(args, kwargs)
            return _warn_not_implemented(self, args, result)
        if "CompositeImplicitAutograd" in self.kernels and not self._backend_kernel(required=False):
            return self.kernels["CompositeImplicitAutograd"](*args, **kwargs)
        return self.backend_call(args, kwargs)

    def _below_autograd(self, kernel, args, kwargs):
        previous = getattr(_state, "below_autograd", None)
        _state.below_autograd = self
        try:
            return kernel(*args, **kwargs)
        finally:
            _state.below_autograd = previous

    def _backend_kernel(self, required=True):
        for key in ("CPU", "CompositeExplicitAutograd"):
            if key in self.kernels:
                return self.kernels[key]
        if not required:
            return None
        available = ", ".join(sorted(self.kernels)) or "none"
        raise NotImplementedError(
            f"Could not run '{self.name()}' with arguments from the 'CPU' backend. This could be because the operator "
            "doesn't exist for this backend, or was omitted during the selective/custom build process (if using "
            f"custom build). '{self.name()}' is only available for these backends: [{available}].")

    def backend_call(self, args, kwargs):
        """The CPU kernel, then the mutated arguments' version bump (PyTorch's ADInplaceOrView)."""
        result = self._backend_kernel()(*args, **kwargs)
        mutated = [value for argument, value in zip(self._schema.arguments, args) if argument.is_write]
        mutated += [kwargs[a.name] for a in self._schema.arguments if a.kwarg_only and a.is_write]
        if mutated:
            _bump_versions(_tensors_in(mutated))
        return result

    def _generated_function(self):
        if self._generated is None:
            self._generated = _GeneratedAutograd(self)
        return self._generated


class _GeneratedAutograd:
    """PyTorch's make_autograd_impl: a Function around the CPU kernel, with
    the registered setup_context/backward, tensor lists flattened."""

    def __init__(self, op):
        self.op = op
        name = f"GeneratedBackwardFor_{op._namespace}_{op._opname}_{op._overloadname}"
        self.function = type(name, (cgrad.autograd.Function,), {
            "forward": staticmethod(self._forward), "backward": staticmethod(self._backward)})

    def call(self, args, kwargs):
        flat, spec = _flatten(args)
        metadata = {"spec": spec, "kwargs": kwargs}
        outputs = self.function.apply(*flat, metadata)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        return _unflatten_result(list(outputs), metadata["result_spec"])

    def _forward(self, ctx, *flat):
        metadata, flat = flat[-1], flat[:-1]
        args = _unflatten(list(flat), metadata["spec"])
        kwargs = metadata["kwargs"]
        result = self.op.backend_call(args, kwargs)
        op = self.op
        if op.setup_context_fn is not None:
            if any(a.kwarg_only for a in op._schema.arguments):
                op.setup_context_fn(ctx=ctx, inputs=tuple(args), keyword_only_inputs=kwargs, output=result)
            else:
                op.setup_context_fn(ctx=ctx, inputs=tuple(args), output=result)
        ctx._cgrad_library_metadata = metadata
        flat_result, metadata["result_spec"] = _flatten_result(result)
        return tuple(flat_result) if len(flat_result) != 1 else flat_result[0]

    def _backward(self, ctx, *grads):
        op = self.op
        if op.backward_fn is None:
            raise RuntimeError(f"Trying to backward through {op} but no autograd formula was registered. Please use "
                               "register_autograd to add one.")
        metadata = ctx._cgrad_library_metadata
        grads = _unflatten_result(list(grads), metadata["result_spec"])
        grads = grads if isinstance(grads, tuple) else (grads,)
        previous = ctx.needs_input_grad
        try:
            ctx.needs_input_grad = tuple(_unflatten(list(previous[:-1]), metadata["spec"]))
            result = op.backward_fn(ctx, *grads)
        finally:
            ctx.needs_input_grad = previous
        result = result if isinstance(result, tuple) else (result,)
        flat, _ = _flatten(list(result))
        return (*flat, None)


_NOT_IMPLEMENTED_WARNING = (
    "{}: an autograd kernel was not registered to the Autograd key(s) but we are trying to backprop through it. "
    "This may lead to silently incorrect behavior. This behavior is deprecated and will be removed in a future "
    "version of PyTorch. If your operator is differentiable, please ensure you have registered an autograd kernel to "
    "the correct Autograd key (e.g. DispatchKey::Autograd, DispatchKey::CompositeImplicitAutograd). If your operator "
    "is not differentiable, or to squash this warning and use the previous behavior, please register "
    "torch::CppFunction::makeFallthrough() to DispatchKey::Autograd.")


class _WarnNotImplementedFunction(cgrad.autograd.Function):
    """PyTorch's autograd fallback for an operator without an autograd
    kernel: its floating results get a WarnNotImplemented node, which warns
    when backward reaches it and passes no gradient on."""

    @staticmethod
    def forward(ctx, carried, *inputs):
        ctx.op_name = carried["name"]
        ctx.input_count = len(inputs)
        outputs = carried["outputs"]
        return outputs[0] if len(outputs) == 1 else tuple(outputs)

    @staticmethod
    def backward(ctx, *grads):
        import warnings
        warnings.warn(_NOT_IMPLEMENTED_WARNING.format(ctx.op_name), UserWarning)
        return (None,) * (1 + ctx.input_count)


_WarnNotImplementedFunction._backward_cls = type("WarnNotImplemented", (cgrad.autograd.function.BackwardCFunction,),
                                                 {"_forward_cls": _WarnNotImplementedFunction})


def _warn_not_implemented(op, args, result):
    outputs = list(result) if isinstance(result, (tuple, list)) else [result]
    differentiable = [i for i, out in enumerate(outputs)
                      if isinstance(out, cgrad.Tensor) and (out.is_floating_point() or out.is_complex())]
    if not differentiable:
        return result
    inputs = list(_tensors_in(args))
    with_node = _WarnNotImplementedFunction.apply({"name": op.name(), "outputs": [outputs[i] for i in differentiable]},
                                                  *inputs)
    with_node = with_node if isinstance(with_node, tuple) else (with_node,)
    for index, tensor in zip(differentiable, with_node):
        outputs[index] = tensor
    if isinstance(result, (tuple, list)):
        return type(result)(outputs)
    return outputs[0]


def _flatten(args):
    """Arguments with tensor lists spread out, and the lengths to rebuild them (None: not a list)."""
    flat, spec = [], []
    for value in args:
        if isinstance(value, list) and value and all(isinstance(v, cgrad.Tensor) or v is None for v in value):
            flat.extend(value)
            spec.append(len(value))
        else:
            flat.append(value)
            spec.append(None)
    return flat, spec


def _unflatten(flat, spec):
    args, position = [], 0
    for length in spec:
        if length is None:
            args.append(flat[position])
            position += 1
        else:
            args.append(list(flat[position:position + length]))
            position += length
    return args


def _flatten_result(result):
    if isinstance(result, tuple):
        flat, spec = _flatten(list(result))
        return flat, ("tuple", spec)
    flat, spec = _flatten([result])
    return flat, ("single", spec)


def _unflatten_result(flat, result_spec):
    kind, spec = result_spec
    values = _unflatten(flat, spec)
    return tuple(values) if kind == "tuple" else values[0]


# ---------------------------------------------------------------------------
# the operator registry, as torch.ops

_OPERATORS = {}
_DEF_LIBRARIES = {}


def _operator(qualname, create=True):
    namespace, name = qualname.split("::")
    name = name.split(".")[0]
    op = _OPERATORS.get((namespace, name))
    if op is None and create:
        op = _OPERATORS[(namespace, name)] = _OpOverload(namespace, name)
    return op


class _OpOverloadPacket:
    def __init__(self, op):
        self.default = op

    def __call__(self, *args, **kwargs):
        return self.default(*args, **kwargs)

    def __str__(self):
        return f"{self.default._namespace}.{self.default._opname}"

    __repr__ = __str__


class _OpNamespace:
    def __init__(self, namespace):
        self.name = namespace

    def __getattr__(self, op_name):
        op = _OPERATORS.get((self.name, op_name))
        if op is None or op._schema is None:
            raise AttributeError(f"'_OpNamespace' '{self.name}' object has no attribute '{op_name}'")
        return _OpOverloadPacket(op)


class _Ops:
    """cgrad.ops.<namespace>.<op>: the operators defined through cgrad.library."""

    def __getattr__(self, namespace):
        if namespace.startswith("__"):
            raise AttributeError(namespace)
        return _OpNamespace(namespace)


ops = _Ops()


# ---------------------------------------------------------------------------
# custom_op

def custom_op(name, fn=None, /, *, mutates_args, device_types=None, schema=None, tags=None):
    """Wraps a function into a custom operator (decorator or call form)."""

    def inner(fn):
        schema_str = infer_schema(fn, mutates_args=mutates_args) if schema is None else schema
        namespace, opname = name.split("::")
        result = CustomOpDef(namespace, opname, schema_str, fn, tags)
        if schema is not None:
            expected = {a.name for a in result._opoverload._schema.arguments if a.is_write}
            if expected != set(mutates_args):
                raise ValueError(f"Attempted to create a custom op with `mutates_args={mutates_args}` and "
                                 f"`schema={schema}. The schema suggests that the op mutates {expected}which is "
                                 "different from what was provided to us in `mutates_args`. Please make these "
                                 "consistent.")
        result.register_kernel(device_types)(fn)
        return result
    if fn is None:
        return inner
    return inner(fn)


class CustomOpDef:
    """A custom operator: callable, with register_kernel, register_fake and register_autograd."""

    def __init__(self, namespace, name, schema, fn, tags=None):
        self._namespace = namespace
        self._name = name
        self._schema = schema
        self._tags = tags
        self._init_fn = fn
        self._backend_fns = {}
        self._abstract_fn = None
        self._disabled_kernel = set()
        op = _OpOverload(namespace, name, name + schema)      # redefining a name replaces it, as PyTorch allows
        if op._schema.has_kwarg_only_tensors():
            raise NotImplementedError(f"custom_op with kwarg-only Tensor args. Please make your tensors not "
                                      f"kwarg-only. Got: {name}{schema}")
        op.custom_op = self
        _OPERATORS[(namespace, name)] = op
        self._opoverload = op

    @property
    def _qualname(self):
        return f"{self._namespace}::{self._name}"

    def __repr__(self):
        return f"<CustomOpDef({self._qualname})>"

    def __call__(self, *args, **kwargs):
        return self._opoverload(*args, **kwargs)

    @property
    def _setup_context_fn(self):
        return self._opoverload.setup_context_fn

    @property
    def _backward_fn(self):
        return self._opoverload.backward_fn

    @contextlib.contextmanager
    def set_kernel_enabled(self, device_type, enabled=True):
        """Temporarily runs the original function instead of device_type's registered kernel."""
        originally_disabled = device_type in self._disabled_kernel
        if enabled:
            self._disabled_kernel.discard(device_type)
        else:
            self._disabled_kernel.add(device_type)
        try:
            yield
        finally:
            if originally_disabled:
                self._disabled_kernel.add(device_type)
            else:
                self._disabled_kernel.discard(device_type)

    def register_kernel(self, device_types, fn=None, /):
        """The kernel for device_types ("cpu", ..., None: every device)."""

        def inner(fn):
            kinds = [device_types] if device_types is None or isinstance(device_types, str) else list(device_types)
            for device_type in kinds:
                if device_type not in self._backend_fns:
                    self._opoverload.kernels[_DEVICE_KEYS.get(device_type, device_type)] = \
                        self._checked_kernel(device_type)

                def wrapped_fn(*args, _device_type=device_type, **kwargs):
                    if _device_type in self._disabled_kernel:
                        return self._init_fn(*args, **kwargs)
                    return fn(*args, **kwargs)
                self._backend_fns[device_type] = wrapped_fn
            return fn
        if device_types is not None and not any(a.base_type.startswith("Tensor")
                                                for a in self._opoverload._schema.arguments):
            if not any(a.base_type.startswith("Device") for a in self._opoverload._schema.arguments):
                raise ValueError("Functions without tensor inputs are required to have a `device: torch.device` "
                                 "argument")
        if fn is None:
            return inner
        return inner(fn)

    def _checked_kernel(self, device_type):
        def backend_impl(*args, **kwargs):
            result = self._backend_fns[device_type](*args, **kwargs)
            _check_aliasing(self._name, args, kwargs, result, inspect.getmodule(self._backend_fns[device_type]))
            return result
        return backend_impl

    def register_fake(self, fn, /):
        """Kept for PyTorch's API: cgrad has no fake or meta tensors to run it on."""
        self._abstract_fn = fn
        self._opoverload.fake_fn = fn
        return fn

    def register_autograd(self, backward, /, *, setup_context=None):
        """backward(ctx, *grads) -> input grads; setup_context(ctx, inputs, output) saves what it needs."""
        schema = self._opoverload._schema
        if schema.is_mutable:
            raise RuntimeError(f"Cannot register autograd formula for non-functional operator {self} with schema "
                               f"{schema}. Please create a functional operator and register an autograd formula "
                               "for that.")
        self._opoverload.backward_fn = backward
        self._opoverload.setup_context_fn = setup_context


def _check_aliasing(name, args, kwargs, result, module):
    inputs = list(_tensors_in(list(args) + list(kwargs.values())))
    outputs = list(_tensors_in(result if isinstance(result, (tuple, list)) else [result]))
    storages = set()
    for tensor in inputs:
        if tensor.numel():
            storages.add(tensor.untyped_storage().data_ptr())
    for output in outputs:
        shared = output.numel() and output.untyped_storage().data_ptr() in storages
        if shared or any(output is t for t in inputs):
            raise RuntimeError(
                f"{name} (with implementation in {module}): The output of this custom operator (1) must not also be "
                "an input to this custom operator and (2) may not alias any inputs to this custom operator or other "
                "returns. The most common way to trigger this error is if we have y = custom_op(x) and y and x are "
                "the same Tensor. Please instead return a clone of the offending output tensor(s) (e.g. return "
                "x.clone()) or refactor the custom operator to not return y.")
        if output.numel():
            storages.add(output.untyped_storage().data_ptr())


# ---------------------------------------------------------------------------
# Library, define, impl

class Library:
    """A namespace's definitions ("DEF"), implementations ("IMPL") or both ("FRAGMENT")."""

    def __init__(self, ns, kind, dispatch_key=""):
        if kind not in ("IMPL", "DEF", "FRAGMENT"):
            raise ValueError("Unsupported kind: ", kind)
        if kind == "DEF":
            if ns in _DEF_LIBRARIES:
                raise RuntimeError(
                    f"Only a single TORCH_LIBRARY can be used to register the namespace {ns}; please put all of your "
                    "definitions in a single TORCH_LIBRARY block.  If you were trying to specify implementations, "
                    "consider using TORCH_LIBRARY_IMPL (which can be duplicated).  If you really intended to define "
                    "operators for a single namespace in a distributed way, you can use TORCH_LIBRARY_FRAGMENT to "
                    "explicitly indicate this")
            _DEF_LIBRARIES[ns] = self
        self.ns = ns
        self.kind = kind
        self.dispatch_key = dispatch_key
        self._op_defs = set()
        self._op_impls = set()

    def __repr__(self):
        return f"Library(kind={self.kind}, ns={self.ns}, dispatch_key={self.dispatch_key})>"

    def define(self, schema, alias_analysis="", *, tags=()):
        """Defines an operator of this namespace from "name(args) -> returns"; returns its name."""
        name = schema[:schema.index("(")].strip()
        op = _operator(f"{self.ns}::{name}")
        if op._schema is not None:
            raise RuntimeError(f"Tried to register an operator ({self.ns}::{schema}) with the same name and overload "
                               "name multiple times. Each overload's schema should only be registered with a single "
                               "call to def().")
        op._schema = Schema(f"{self.ns}::{name.split('.')[0]}", schema)
        self._op_defs.add(op)
        return name

    def impl(self, op_name, fn, dispatch_key="", *, with_keyset=False, allow_override=False):
        """Registers fn as op_name's kernel for dispatch_key (default: every backend, with autograd through it)."""
        if with_keyset:
            raise NotImplementedError("cgrad has no dispatch key sets: register a kernel without with_keyset")
        if isinstance(op_name, (_OpOverload, _OpOverloadPacket)):
            op = op_name if isinstance(op_name, _OpOverload) else op_name.default
        else:
            op = _operator(op_name if "::" in op_name else f"{self.ns}::{op_name}")
        key = dispatch_key or self.dispatch_key or "CompositeImplicitAutograd"
        op.kernels[key] = fn
        self._op_impls.add((op, key))

    def _destroy(self):
        for op, key in self._op_impls:
            op.kernels.pop(key, None)
        for op in self._op_defs:
            _OPERATORS.pop((op._namespace, op._opname), None)
        if _DEF_LIBRARIES.get(self.ns) is self:
            del _DEF_LIBRARIES[self.ns]
        self._op_defs, self._op_impls = set(), set()


_FRAGMENTS = {}


def _library_for(namespace, lib):
    if lib is not None:
        return lib
    if namespace not in _FRAGMENTS:
        _FRAGMENTS[namespace] = Library(namespace, "FRAGMENT")
    return _FRAGMENTS[namespace]


def define(qualname, schema, *, lib=None, tags=()):
    """Defines the operator "namespace::name" with schema "(args) -> returns"."""
    namespace, name = qualname.split("::")
    _library_for(namespace, lib).define(name + schema, tags=tags)


def impl(qualname, types, func=None, *, lib=None):
    """Registers func (decorator form without it) as the kernel of qualname for device types or dispatch keys."""
    keys = [types] if isinstance(types, str) else list(types)

    def register(func):
        namespace = qualname.split("::")[0]
        for key in keys:
            _library_for(namespace, lib).impl(qualname, func, _DEVICE_KEYS.get(key, key))
        return func
    if func is None:
        return register
    return register(func)


def _opdef(op):
    if isinstance(op, CustomOpDef):
        return op
    if isinstance(op, str):
        found = _operator(op, create=False)
        return found.custom_op if found is not None else None
    return None


def register_kernel(op, device_types, func=None, /, *, lib=None):
    opdef = _opdef(op)
    if opdef is not None:
        return opdef.register_kernel(device_types, func)
    return impl(op, "default" if device_types is None else device_types, func, lib=lib)


def register_fake(op, func=None, /, *, lib=None, _stacklevel=1):
    def register(func):
        opdef = _opdef(op)
        if opdef is not None:
            return opdef.register_fake(func)
        _operator(op).fake_fn = func
        return func
    if func is None:
        return register
    return register(func)


def register_autograd(op, backward, /, *, setup_context=None, lib=None):
    opdef = _opdef(op)
    if opdef is not None:
        opdef.register_autograd(backward, setup_context=setup_context)
        return
    found = _operator(op)
    if found._schema is not None and found._schema.is_mutable:
        raise RuntimeError(f"Cannot register autograd formula for non-functional operator {op} with schema "
                           f"{found._schema}. Please create a functional operator and register an autograd formula "
                           "for that.")
    found.backward_fn = backward
    found.setup_context_fn = setup_context
