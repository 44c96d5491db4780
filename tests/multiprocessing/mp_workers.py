"""What the multiprocessing tests run in child processes: a module of its
own, so that spawn and forkserver children import just this (and the
library named by the test), not the test modules and torch."""
import importlib

import cgrad.multiprocessing  # noqa: F401  (as a script using torch.multiprocessing imports it)


def library(name):
    return importlib.import_module(name)


def make_net(lib_name, seed=0):
    """mnist_hogwild's network, small, in either library."""
    lib = library(lib_name)
    nn = lib.nn

    class HogwildNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(12, 16)
            self.fc2 = nn.Linear(16, 4)

        def forward(self, x):
            return nn.functional.log_softmax(self.fc2(lib.relu(self.fc1(x))), dim=1)

    lib.manual_seed(seed)
    return HogwildNet()


class CgradNet(library("cgrad").nn.Module):
    """The same network as a module-level class (picklable by reference,
    for spawn): cgrad only, so that spawned children never import torch."""

    def __init__(self):
        import cgrad
        super().__init__()
        self.fc1 = cgrad.nn.Linear(12, 16)
        self.fc2 = cgrad.nn.Linear(16, 4)

    def forward(self, x):
        import cgrad
        return cgrad.nn.functional.log_softmax(self.fc2(cgrad.relu(self.fc1(x))), dim=1)


def train(rank, lib_name, model, data, target, lr, momentum):
    """mnist_hogwild's train(): SGD steps on the shared model's parameters,
    one per batch of this rank's data."""
    lib = library(lib_name)
    lib.manual_seed(1 + rank)
    optimizer = lib.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    for x, y in zip(data[rank], target[rank]):
        optimizer.zero_grad()
        loss = lib.nn.functional.nll_loss(model(x), y)
        loss.backward()
        optimizer.step()


def spawn_train(rank, model, data, target):
    """train() as cgrad.multiprocessing.spawn calls it: fn(i, *args)."""
    train(rank, "cgrad", model, data, target, 0.1, 0.5)


def describe(t):
    """What a child sees of a tensor it was sent."""
    return {"is_shared": t.is_shared(), "requires_grad": t.requires_grad, "type": type(t).__name__,
            "dtype": str(t.dtype).split(".")[-1], "shape": tuple(t.shape), "stride": tuple(t.stride()),
            "values": t.detach().tolist(), "grad": t.grad}


def receive_and_add(q_in, q_out, lib_name, value):
    """Gets tensors from q_in until None, adds value to each in place (under
    no_grad), reports what it saw on q_out."""
    lib = library(lib_name)
    kept = []
    while True:
        t = q_in.get()
        if t is None:
            break
        seen = describe(t)
        with lib.no_grad():
            t.add_(value)
        kept.append(t)
        q_out.put(seen)
    # views sent over one storage arrive over one storage
    q_out.put([k.untyped_storage().data_ptr() for k in kept])


def add_to_args(tensors, value, lib_name, q_out):
    """A Process target: its tensors arrive as Process arguments."""
    lib = library(lib_name)
    with lib.no_grad():
        for t in tensors:
            t.add_(value)
    q_out.put([describe(t) for t in tensors])


def add_rank(rank, shared, value):
    shared[rank] += value


def fail_in_child(rank, message):
    if rank == 1:
        raise ValueError(message)


def exit_in_child(rank, code):
    if rank == 0:
        import sys
        sys.exit(code)


def send_back(q_out, received, lib_name, value, shape):
    """Makes a tensor in the child and sends it to the parent, then stays
    until the parent has it (a descriptor is fetched from its sender)."""
    lib = library(lib_name)
    t = lib.full(shape, value)
    q_out.put(t)
    received.wait(20)


def pool_square(t):
    return t * t


class Squares:
    """A map-style dataset: i -> i * i."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return float(i * i)
