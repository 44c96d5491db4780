"""nn.utils.convert_conv2d/3d_weight_memory_format: the weights of every
(transposed) convolution in a module tree re-laid out in a memory format
(channels_last for NHWC-friendly kernels), in place of their data so the
Parameters and an optimizer's references survive."""
__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert_weights(module, kinds, memory_format):
    stack = [module]
    while stack:
        current = stack.pop()
        if isinstance(current, kinds):
            weight = current.weight.detach().clone(memory_format=memory_format)
            current.weight.data = weight.resize_(weight.size(), memory_format=memory_format)
        stack.extend(reversed(list(current.children())))
    return module


def convert_conv2d_weight_memory_format(module, memory_format):
    from cgrad.nn.modules.conv import Conv2d, ConvTranspose2d
    return _convert_weights(module, (Conv2d, ConvTranspose2d), memory_format)


def convert_conv3d_weight_memory_format(module, memory_format):
    from cgrad.nn.modules.volumetric import Conv3d, ConvTranspose3d
    return _convert_weights(module, (Conv3d, ConvTranspose3d), memory_format)
