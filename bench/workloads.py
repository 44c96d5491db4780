"""The benchmark workloads, written once per library.

Each workload is a class with `units` (what one measurement counts), and
per library a `setup_<lib>()` returning a zero-argument callable that runs
one repetition. Libraries: cgrad, torch, autograd (HIPS), mygrad, micrograd
(only where it applies: it works on Python scalars and recurses over the
graph). float32 unless said.
"""
import numpy as np

LIBS = ("cgrad", "torch", "autograd", "mygrad", "micrograd")


class _SameCodeForCgradAndTorch:
    """A workload whose cgrad and torch runs are one function of the library
    module, `_tensor_lib(lib)`; the other libraries' setups are written out."""

    def setup_cgrad(self):
        import cgrad
        return self._tensor_lib(cgrad)

    def setup_torch(self):
        import torch
        return self._tensor_lib(torch)


# --- chains of tiny ops ---------------------------------------------------------

class Tiny(_SameCodeForCgradAndTorch):
    """16-element tensor, 50 x (y * 1.01 + 0.5).tanh(), sum().backward()."""
    unit = "us/op"
    ops = 3 * 50 + 1
    libs = ("cgrad", "torch", "autograd", "mygrad")   # micrograd's Value has no tanh

    def _tensor_lib(self, lib):
        def run():
            x = lib.ones(16, requires_grad=True)
            y = x
            for _ in range(50):
                y = (y * 1.01 + 0.5).tanh()
            y.sum().backward()
        return run

    def setup_autograd(self):
        import autograd.numpy as anp
        from autograd import grad

        def f(x):
            y = x
            for _ in range(50):
                y = anp.tanh(y * np.float32(1.01) + np.float32(0.5))
            return anp.sum(y)
        g = grad(f)
        x0 = np.ones(16, np.float32)
        return lambda: g(x0)

    def setup_mygrad(self):
        import mygrad as mg

        def run():
            x = mg.tensor(np.ones(16, np.float32))
            y = x
            for _ in range(50):
                y = mg.tanh(y * 1.01 + 0.5)
            mg.sum(y).backward()
        return run


class Scalar(_SameCodeForCgradAndTorch):
    """0-d tensor, 2,000 x (y * 1.0001 + 0.001), then backward."""
    unit = "us/op"
    ops = 2 * 2000
    libs = LIBS

    def _tensor_lib(self, lib):
        def run():
            x = lib.tensor(1.0, requires_grad=True)
            y = x
            for _ in range(2000):
                y = y * 1.0001 + 0.001
            y.backward()
        return run

    def setup_autograd(self):
        from autograd import grad

        def f(x):
            y = x
            for _ in range(2000):
                y = y * 1.0001 + 0.001
            return y
        g = grad(f)
        return lambda: g(np.float32(1.0))

    def setup_mygrad(self):
        import mygrad as mg

        def run():
            x = mg.tensor(np.float32(1.0))
            y = x
            for _ in range(2000):
                y = y * 1.0001 + 0.001
            y.backward()
        return run

    def setup_micrograd(self):
        import sys
        from micrograd.engine import Value
        sys.setrecursionlimit(100_000)   # micrograd's topological sort recurses once per node

        def run():
            x = Value(1.0)
            y = x
            for _ in range(2000):
                y = y * 1.0001 + 0.001
            y.backward()
        return run


class Deep(_SameCodeForCgradAndTorch):
    """0-d tensor, 100,000 x (y * 1.00001), then backward (and peak memory)."""
    unit = "us/op"
    ops = 100_000
    libs = ("cgrad", "torch", "autograd", "mygrad")
    repeat_scale = 0.1

    def _tensor_lib(self, lib):
        def run():
            x = lib.tensor(1.0, requires_grad=True)
            y = x
            for _ in range(100_000):
                y = y * 1.00001
            y.backward()
        return run

    def setup_autograd(self):
        from autograd import grad

        def f(x):
            y = x
            for _ in range(100_000):
                y = y * 1.00001
            return y
        g = grad(f)
        return lambda: g(np.float32(1.0))

    def setup_mygrad(self):
        import mygrad as mg

        def run():
            x = mg.tensor(np.float32(1.0))
            y = x
            for _ in range(100_000):
                y = y * 1.00001
            y.backward()
        return run


# --- a training step --------------------------------------------------------------

def mlp_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 784)).astype(np.float32)
    labels = rng.integers(0, 10, size=64)
    w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
    b1 = np.zeros(256, np.float32)
    w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
    b2 = np.zeros(10, np.float32)
    return x, labels, [w1, b1, w2, b2]


class MLP(_SameCodeForCgradAndTorch):
    """Batch 64, 784-256-10, ReLU, log_softmax cross-entropy, SGD step
    under no_grad."""
    unit = "ms/step"
    ops = None
    libs = ("cgrad", "torch", "autograd", "mygrad")
    lr = 0.01

    def _tensor_lib(self, lib):
        F = lib.nn.functional
        x, labels, params = mlp_data()
        x = lib.tensor(x)
        y = lib.tensor(labels)
        w1, b1, w2, b2 = [lib.tensor(p, requires_grad=True) for p in params]

        def run():
            h = (x @ w1 + b1).relu()
            logits = h @ w2 + b2
            loss = F.cross_entropy(logits, y)
            for p in (w1, b1, w2, b2):
                p.grad = None
            loss.backward()
            with lib.no_grad():
                for p in (w1, b1, w2, b2):
                    p -= self.lr * p.grad
        return run

    def setup_autograd(self):
        import autograd.numpy as anp
        from autograd import grad
        x, labels, params = mlp_data()
        onehot = np.eye(10, dtype=np.float32)[labels]

        def loss(ps):
            w1, b1, w2, b2 = ps
            h = anp.maximum(anp.dot(x, w1) + b1, 0)
            z = anp.dot(h, w2) + b2
            zmax = anp.max(z, axis=1, keepdims=True)
            logp = z - zmax - anp.log(anp.sum(anp.exp(z - zmax), axis=1, keepdims=True))
            return -anp.sum(logp * onehot) / x.shape[0]
        g = grad(loss)

        def run():
            grads = g(params)
            for p, gp in zip(params, grads):
                p -= self.lr * gp
        return run

    def setup_mygrad(self):
        import mygrad as mg
        from mygrad.nnet.activations import relu
        from mygrad.nnet.losses import softmax_crossentropy
        x, labels, params = mlp_data()
        ps = [mg.tensor(p) for p in params]

        def run():
            w1, b1, w2, b2 = ps
            h = relu(mg.matmul(x, w1) + b1)
            z = mg.matmul(h, w2) + b2
            loss = softmax_crossentropy(z, labels)
            loss.backward()
            for p in ps:
                p.data -= self.lr * p.grad
        return run


# --- large tensors ------------------------------------------------------------------

class Matmul(_SameCodeForCgradAndTorch):
    """1024 x 1024 @ 1024 x 1024, (A @ B).sum().backward(); also shown as a
    multiple of three raw numpy matmuls of the same size (the BLAS limit)."""
    unit = "ms/iter"
    ops = None
    libs = ("cgrad", "torch", "autograd", "mygrad")
    repeat_scale = 0.2

    @staticmethod
    def arrays():
        rng = np.random.default_rng(1)
        return (rng.standard_normal((1024, 1024)).astype(np.float32),
                rng.standard_normal((1024, 1024)).astype(np.float32))

    def _tensor_lib(self, lib):
        a, b = self.arrays()
        A = lib.tensor(a, requires_grad=True)
        B = lib.tensor(b, requires_grad=True)

        def run():
            A.grad = None
            B.grad = None
            (A @ B).sum().backward()
        return run

    def setup_autograd(self):
        import autograd.numpy as anp
        from autograd import grad
        a, b = self.arrays()
        g = grad(lambda ab: anp.sum(anp.dot(ab[0], ab[1])))
        return lambda: g([a, b])

    def setup_mygrad(self):
        import mygrad as mg
        a, b = self.arrays()

        def run():
            A = mg.tensor(a)
            B = mg.tensor(b)
            mg.sum(mg.matmul(A, B)).backward()
        return run

    @staticmethod
    def limit():
        """Three numpy matmuls: forward, and the two of the backward."""
        a, b = Matmul.arrays()
        g = np.ones((1024, 1024), np.float32)

        def run():
            a @ b
            g @ b.T
            a.T @ g
        return run


class Ewise(_SameCodeForCgradAndTorch):
    """4M elements, ((x * y + x).tanh() * y).sum().backward(); also shown
    against the memory bandwidth (a numpy copy of the same bytes)."""
    unit = "ms/iter"
    ops = None
    libs = ("cgrad", "torch", "autograd", "mygrad")
    repeat_scale = 0.3
    n = 4 * 1024 * 1024

    def arrays(self):
        rng = np.random.default_rng(2)
        return (rng.standard_normal(self.n).astype(np.float32),
                rng.standard_normal(self.n).astype(np.float32))

    def _tensor_lib(self, lib):
        a, b = self.arrays()
        x = lib.tensor(a, requires_grad=True)
        y = lib.tensor(b, requires_grad=True)

        def run():
            x.grad = None
            y.grad = None
            ((x * y + x).tanh() * y).sum().backward()
        return run

    def setup_autograd(self):
        import autograd.numpy as anp
        from autograd import grad
        a, b = self.arrays()
        g = grad(lambda xy: anp.sum(anp.tanh(xy[0] * xy[1] + xy[0]) * xy[1]))
        return lambda: g([a, b])

    def setup_mygrad(self):
        import mygrad as mg
        a, b = self.arrays()

        def run():
            x = mg.tensor(a)
            y = mg.tensor(b)
            mg.sum(mg.tanh(x * y + x) * y).backward()
        return run

    def limit(self):
        """One copy of a 4M-element float32 array (16 MiB read, 16 MiB written)."""
        a, _ = self.arrays()
        out = np.empty_like(a)
        return lambda: np.copyto(out, a)


class MLPLeak:
    """RSS growth over 2,000 MLP steps (after 100 warm-up steps): must be
    flat."""
    unit = "MB"
    ops = None
    libs = ("cgrad", "torch")


class Optim(_SameCodeForCgradAndTorch):
    """One step of each adaptive optimizer (RMSprop centered with momentum,
    Adagrad, Adadelta, Adamax, NAdam, RAdam) over 8 parameters of 256 x 256
    with fixed gradients: the per-parameter update kernels."""
    unit = "ms/iter"
    ops = None
    libs = ("cgrad", "torch")
    names = [("RMSprop", dict(momentum=0.9, centered=True)), ("Adagrad", {}), ("Adadelta", {}),
             ("Adamax", {}), ("NAdam", {}), ("RAdam", {})]

    def _tensor_lib(self, lib):
        rng = np.random.default_rng(2)
        optimizers = []
        for name, kwargs in self.names:
            params = [lib.tensor(rng.standard_normal((256, 256)).astype(np.float32), requires_grad=True)
                      for _ in range(8)]
            for p in params:
                p.grad = lib.tensor(rng.standard_normal((256, 256)).astype(np.float32))
            optimizers.append(getattr(lib.optim, name)(params, lr=1e-3, **kwargs))

        def run():
            for opt in optimizers:
                opt.step()
        return run


# --- issue 15's training workloads (defined in bench/train_steps.py) -------------------------

class _TrainStep:
    """One training step of a bench/train_steps.py model; torch's model
    starts from cgrad's weights."""
    unit = "ms/step"
    ops = None
    libs = ("cgrad", "torch")
    model = None

    def setup_cgrad(self):
        import cgrad
        from bench.train_steps import build_steps
        return build_steps(self.model, cgrad, None)["cgrad"]

    def setup_torch(self):
        import cgrad
        import torch
        from bench.train_steps import build_steps
        return build_steps(self.model, cgrad, torch)["torch"]


class LeNetStep(_TrainStep):
    """LeNet-style CNN on 64 x 1 x 28 x 28: forward, cross-entropy, backward, Adam."""
    model = "lenet"
    repeat_scale = 0.5


class EmbLnMlpStep(_TrainStep):
    """Embedding(10000, 128) + LayerNorm + MLP on 64 x 32 tokens: forward, backward, Adam."""
    model = "emb_ln_mlp"
    repeat_scale = 0.5


class LoaderEpoch(_SameCodeForCgradAndTorch):
    """One shuffled DataLoader epoch over a TensorDataset of 60,000 x 784 float32 samples, batch 64."""
    unit = "ms/iter"
    ops = None
    libs = ("cgrad", "torch")
    repeat_scale = 0.1

    def _tensor_lib(self, lib):
        from bench.train_steps import loader_runner
        return loader_runner(lib)


WORKLOADS = {"tiny": Tiny, "scalar": Scalar, "deep": Deep, "mlp": MLP, "matmul": Matmul,
             "ewise": Ewise, "mlp_leak": MLPLeak, "optim": Optim, "lenet": LeNetStep,
             "emb_ln_mlp": EmbLnMlpStep, "loader": LoaderEpoch}
