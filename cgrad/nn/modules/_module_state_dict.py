"""nn.Module's state_dict and load_state_dict, as PyTorch's: parameters
and persistent buffers by dotted name with the versions in _metadata, the
state-dict and load hooks in PyTorch's order, strict key checking and its
error texts. Functions of a module (self first), bound into Module's class
body (module.py), so Module's own __dict__ holds them as PyTorch's does;
kept apart only for the size of module.py."""
import itertools
import warnings
from collections import OrderedDict, namedtuple

from cgrad._C import Tensor
from cgrad.nn.parameter import Parameter

__all__ = ["state_dict", "load_state_dict"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _save_to_state_dict(self, destination, prefix, keep_vars):
    for name, param in self._parameters.items():
        if param is not None:
            destination[prefix + name] = param if keep_vars else param.detach()
    for name, buf in self._buffers.items():
        if buf is not None and name not in self._non_persistent_buffers_set:
            destination[prefix + name] = buf if keep_vars else buf.detach()

def state_dict(self, *args, destination=None, prefix="", keep_vars=False):
    """Parameters and persistent buffers by dotted name, each module's
    own before its children's (shared modules under every name)."""
    if args:
        # PyTorch's deprecated positional form: (destination, prefix, keep_vars)
        warnings.warn("Positional args are being deprecated, use kwargs instead. Refer to "
                      "https://pytorch.org/docs/main/generated/torch.nn.Module.html#torch.nn.Module.state_dict "
                      "for details.", FutureWarning, stacklevel=2)
        destination = args[0] if destination is None else destination
        prefix = args[1] if len(args) > 1 and prefix == "" else prefix
        keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
    if destination is None:
        destination = OrderedDict()
        destination._metadata = OrderedDict()
    # depth first without recursion; a module's post-hooks run after its children are saved, as PyTorch's
    stack = [(prefix, self, None)]
    while stack:
        module_prefix, module, finished_metadata = stack.pop()
        if finished_metadata is not None:
            for hook in module._state_dict_hooks.values():
                hook_result = hook(module, destination, module_prefix, finished_metadata)
                if getattr(hook, "_from_public_api", False):
                    if hook_result is not None:
                        raise RuntimeError("state_dict post-hook must return None")
                elif hook_result is not None and module is self:
                    destination = hook_result
            continue
        local_metadata = dict(version=module._version)
        if hasattr(destination, "_metadata"):
            destination._metadata[module_prefix[:-1]] = local_metadata
        for hook in module._state_dict_pre_hooks.values():
            hook(module, module_prefix, keep_vars)
        module._save_to_state_dict(destination, module_prefix, keep_vars)
        stack.append((module_prefix, module, local_metadata))
        stack.extend(reversed([(module_prefix + name + ".", child, None)
                               for name, child in module._modules.items() if child is not None]))
    return destination

def load_state_dict(self, state_dict, strict=True, assign=False):
    """Copy parameters and persistent buffers from state_dict, module by
    module as PyTorch does; with strict, missing or unexpected keys are
    errors (raised after the matching entries were copied, as PyTorch)."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    missing_keys, unexpected_keys, error_msgs = [], [], []
    # a copy (modules may add keys, as BatchNorm for old checkpoints),
    # with the versions state_dict() recorded
    metadata = getattr(state_dict, "_metadata", None)
    state_dict = OrderedDict(state_dict)
    if metadata is not None:
        state_dict._metadata = metadata
    # depth first without recursion; a module's post-hooks run after its children loaded, as PyTorch's
    stack = [("", self, False)]
    while stack:
        prefix, module, children_done = stack.pop()
        if children_done:
            incompatible_keys = _IncompatibleKeys(missing_keys, unexpected_keys)
            for hook in module._load_state_dict_post_hooks.values():
                if hook(module, incompatible_keys) is not None:
                    raise AssertionError(
                        "Hooks registered with ``register_load_state_dict_post_hook`` are not expected to return "
                        "new values, if incompatible_keys need to be modified, it should be done inplace.")
            continue
        local_metadata = {} if metadata is None else dict(metadata.get(prefix[:-1], {}))
        if assign:
            local_metadata["assign_to_params_buffers"] = assign
        module._load_from_state_dict(state_dict, prefix, local_metadata, True, missing_keys, unexpected_keys,
                                     error_msgs)
        stack.append((prefix, module, True))
        stack.extend(reversed([(prefix + name + ".", child, False)
                               for name, child in module._modules.items() if child is not None]))
    if strict:
        if unexpected_keys:
            error_msgs.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in unexpected_keys)))
        if missing_keys:
            error_msgs.insert(0, "Missing key(s) in state_dict: {}. ".format(
                ", ".join(f'"{k}"' for k in missing_keys)))
    if error_msgs:
        raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
            type(self).__name__, "\n\t".join(error_msgs)))
    return _IncompatibleKeys(missing_keys, unexpected_keys)

def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                          error_msgs):
    from cgrad.autograd.grad_mode import no_grad
    for hook in self._load_state_dict_pre_hooks.values():
        hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs)
    assign = local_metadata.get("assign_to_params_buffers", False)
    local_state = {k: v for k, v in itertools.chain(self._parameters.items(), self._buffers.items())
                   if v is not None and k not in self._non_persistent_buffers_set}
    for name, param in local_state.items():
        key = prefix + name
        if key not in state_dict:
            missing_keys.append(key)
            continue
        input_param = state_dict[key]
        if not isinstance(input_param, Tensor):
            error_msgs.append(f'While copying the parameter named "{key}", expected torch.Tensor or Tensor-like '
                              f"object from checkpoint but received {type(input_param)}")
            continue
        if len(param.shape) == 0 and len(input_param.shape) == 1:
            input_param = input_param[0]     # PyTorch's compatibility with old 1-element buffers
        if tuple(input_param.shape) != tuple(param.shape):
            error_msgs.append(f"size mismatch for {key}: copying a param with shape {input_param.shape} from "
                              f"checkpoint, the shape in current model is {param.shape}.")
            continue
        try:
            with no_grad():
                if assign:
                    if isinstance(param, Parameter) and not isinstance(input_param, Parameter):
                        setattr(self, name, Parameter(input_param, requires_grad=param.requires_grad))
                    else:
                        setattr(self, name, input_param)
                else:
                    param.copy_(input_param)
        except Exception as ex:
            error_msgs.append(f'While copying the parameter named "{key}", whose dimensions in the model are '
                              f"{param.shape} and whose dimensions in the checkpoint are {input_param.shape}, "
                              f"an exception occurred : {ex.args}.")
    for key in state_dict.keys():
        if isinstance(key, str) and key.startswith(prefix):
            input_name = key[len(prefix):].split(".", 1)
            if len(input_name) > 1:
                if input_name[0] not in self._modules:
                    unexpected_keys.append(key)
            elif input_name[0] not in local_state:
                unexpected_keys.append(key)


for _method in (_save_to_state_dict, state_dict, load_state_dict, _load_from_state_dict):
    _method.__qualname__ = "Module." + _method.__name__
