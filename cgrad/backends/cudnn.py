"""cgrad.backends.cudnn: no cuDNN in a CPU-only build; the flags scripts set
(benchmark, deterministic, enabled) are plain attributes, as in PyTorch."""

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    return False


def version():
    return None
