"""cgrad.random: the seeding functions under PyTorch's torch.random names,
and fork_rng, which restores the default generator's state on exit."""
import contextlib

from cgrad._C import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, seed,
                      set_rng_state)

__all__ = ["Generator", "default_generator", "fork_rng", "get_rng_state", "initial_seed", "manual_seed", "seed",
           "set_rng_state"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Inside the block, draws from the default generator do not change the
    stream seen after it (there are no device generators to fork)."""
    if not enabled:
        yield
        return
    cpu_rng_state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(cpu_rng_state)
