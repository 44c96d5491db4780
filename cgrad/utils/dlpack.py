"""cgrad.utils.dlpack, as torch.utils.dlpack: DLPack export and import
(the implementation is cgrad/_interop.py)."""
from cgrad._interop import DLDeviceType, from_dlpack, to_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]
