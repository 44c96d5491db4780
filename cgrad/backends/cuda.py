"""cgrad.backends.cuda: CUDA is not built in."""


def is_built():
    return False
