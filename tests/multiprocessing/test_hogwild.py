"""PyTorch's examples/mnist_hogwild, small and self-contained (synthetic
data, no torchvision): model.share_memory(), then worker processes train
the same parameters in place with their own SGD and the parent sees their
updates. Run one worker after another the result is deterministic: torch's
for the same steps, and exactly what training in one process gives; run at
once (the example's way) every worker's steps land."""
import copy

import numpy as np
import pytest

import cgrad
import cgrad.multiprocessing as cmp
import mp_workers
from helpers import requires_torch, torch

RANKS, STEPS, BATCH = 2, 5, 8
TIMEOUT = 20


def synthetic_data(lib):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((RANKS, STEPS, BATCH, 12)).astype(np.float32)
    y = rng.integers(0, 4, (RANKS, STEPS, BATCH))
    return lib.tensor(x), lib.tensor(y)


def initial_state():
    rng = np.random.default_rng(1)
    return {"fc1.weight": rng.uniform(-0.3, 0.3, (16, 12)), "fc1.bias": rng.uniform(-0.3, 0.3, 16),
            "fc2.weight": rng.uniform(-0.25, 0.25, (4, 16)), "fc2.bias": rng.uniform(-0.25, 0.25, 4)}


def load(lib, model):
    model.load_state_dict({k: lib.tensor(v.astype(np.float32)) for k, v in initial_state().items()})
    return model


def loss_of(lib, model, data, target):
    with lib.no_grad():
        return sum(lib.nn.functional.nll_loss(model(x), y).item() for x, y in zip(data.flatten(0, 1),
                                                                                  target.flatten(0, 1)))


def hogwild(lib_name, model, method, one_at_a_time):
    """The example's main(): share the model, start the workers, join them."""
    lib = mp_workers.library(lib_name)
    mp = lib.multiprocessing.get_context(method)
    data, target = synthetic_data(lib)
    model.share_memory()      # gradients are allocated lazily, so they are not shared here
    processes = []
    for rank in range(RANKS):
        p = mp.Process(target=mp_workers.train, args=(rank, lib_name, model, data, target, 0.1, 0.5))
        p.start()
        if one_at_a_time:
            p.join(TIMEOUT)
        processes.append(p)
    for p in processes:
        p.join(TIMEOUT)
        if p.is_alive():
            p.kill()
        assert p.exitcode == 0
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def trained_in_process(lib_name, model):
    lib = mp_workers.library(lib_name)
    data, target = synthetic_data(lib)
    for rank in range(RANKS):
        mp_workers.train(rank, lib_name, model, data, target, 0.1, 0.5)
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


@requires_torch
def test_hogwild_workers_in_turn_match_torch():
    # torch trains the same steps in this process: a forked child of a torch
    # that has run its thread pool (as the rest of the suite does) may hang
    ours = hogwild("cgrad", load(cgrad, mp_workers.make_net("cgrad")), "fork", one_at_a_time=True)
    theirs = trained_in_process("torch", load(torch, mp_workers.make_net("torch")))
    start = initial_state()
    for k in ours:
        assert not np.allclose(ours[k], start[k])                # the parent sees the workers' steps
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_hogwild_workers_in_turn_equal_training_in_process(method):
    model = load(cgrad, mp_workers.CgradNet())
    reference = trained_in_process("cgrad", copy.deepcopy(model))
    ours = hogwild("cgrad", model, method, one_at_a_time=True)
    for k in ours:
        np.testing.assert_array_equal(ours[k], reference[k])
    assert all(p.is_shared() for p in model.parameters()) and all(p.grad is None for p in model.parameters())


def test_hogwild_concurrent_workers_train_the_shared_model():
    model = load(cgrad, mp_workers.CgradNet())
    data, target = synthetic_data(cgrad)
    before = loss_of(cgrad, model, data, target)
    state = hogwild("cgrad", model, "fork", one_at_a_time=False)
    start = initial_state()
    assert all(not np.allclose(state[k], start[k]) for k in state)
    assert loss_of(cgrad, model, data, target) < before


def test_spawn_api_trains_the_shared_model():
    # the same with cgrad.multiprocessing.spawn (fn(rank, *args), spawn start method)
    model = load(cgrad, mp_workers.CgradNet())
    data, target = synthetic_data(cgrad)
    before = loss_of(cgrad, model, data, target)
    model.share_memory()
    cmp.spawn(mp_workers.spawn_train, args=(model, data, target), nprocs=RANKS)
    assert loss_of(cgrad, model, data, target) < before
