"""cgrad.utils: helpers outside the core (torch.utils's counterparts)."""
from cgrad.utils import dlpack
