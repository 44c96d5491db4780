"""cgrad.compile's exceptions, as torch._dynamo.exc names them."""

__all__ = ["TorchDynamoException", "Unsupported", "InvalidBackend"]


class TorchDynamoException(RuntimeError):
    """The base of cgrad.compile's errors."""


class Unsupported(TorchDynamoException):
    """A graph break under fullgraph=True: the compiled function did
    something a captured tape cannot replay (.item(), bool(tensor), a call
    outside the recorded namespaces, ...)."""


class InvalidBackend(TorchDynamoException):
    def __init__(self, name):
        super().__init__(f"Invalid backend: {name!r}, see `cgrad._dynamo.list_backends()` for available backends.")
