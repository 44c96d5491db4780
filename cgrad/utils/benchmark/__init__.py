"""cgrad.utils.benchmark: PyTorch's torch.utils.benchmark for cgrad
statements: Timer (timeit, blocked_autorange, adaptive_autorange),
Measurement (median, mean, IQR, significant figures, its repr) and
Compare (the table of many measurements)."""
from cgrad.utils.benchmark.utils.common import *  # noqa: F401,F403
from cgrad.utils.benchmark.utils.timer import *  # noqa: F401,F403
from cgrad.utils.benchmark.utils.compare import *  # noqa: F401,F403
from cgrad.utils.benchmark.utils.fuzzer import *  # noqa: F401,F403
