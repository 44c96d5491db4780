"""Models written once against a library (torch or cgrad), for the jit
tests to script/trace the same code through both and compare."""
import numpy as np


def make_classes(lib):
    nn = lib.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(4, 6)
            self.fc2 = nn.Linear(6, 3)
            self.register_buffer("shift", lib.zeros(3))
            self.scale = 2.0

        def forward(self, x):
            h = lib.tanh(self.fc1(x))
            return self.fc2(h) * self.scale + self.shift

        @lib.jit.export
        def embed(self, x):
            return lib.relu(self.fc1(x))

    class WithIgnored(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        @lib.jit.ignore
        def python_only(self, x):
            return x.sum(dim=0)

        @lib.jit.unused
        def never(self, x):
            return x

        def forward(self, x, use_unused: bool = False):
            if use_unused:
                return self.never(x)
            return self.python_only(self.fc(x))

    class Branchy(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)

        def forward(self, x):
            y = self.fc(x)
            if y.sum() > 0:
                return y * 2
            return y - 1

    return Net, WithIgnored, Branchy


def copy_weights(src, dst, lib_dst):
    """Copy src's parameters and buffers (any library) into dst."""
    with lib_dst.no_grad():
        for (name, a), (_, b) in zip(list(src.named_parameters()) + list(src.named_buffers()),
                                     list(dst.named_parameters()) + list(dst.named_buffers())):
            b.copy_(lib_dst.tensor(np.array(a.detach().numpy())))


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
