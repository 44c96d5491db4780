"""A user's script, type-checked by .ci/typecheck with `mypy --strict` against
cgrad's stubs: each reveal_type must print the type its `# revealed:` comment
names. (Run it with python and it trains one step.)"""
from typing import TYPE_CHECKING

import cgrad
import cgrad.nn.functional as F

if not TYPE_CHECKING:
    reveal_type = print

x = cgrad.randn(3).sum()
reveal_type(x)  # revealed: cgrad._C.Tensor
w = cgrad.zeros(2, 3, requires_grad=True)
reveal_type(w.shape)  # revealed: cgrad._C.Size
reveal_type(w.dtype)  # revealed: cgrad._C.dtype
reveal_type(cgrad.float32)  # revealed: cgrad._C.dtype
reveal_type(w.grad)  # revealed: cgrad._C.Tensor | None
reveal_type(w @ cgrad.ones(3))  # revealed: cgrad._C.Tensor
reveal_type(w.numel())  # revealed: int
reveal_type(F.relu(w).mean())  # revealed: cgrad._C.Tensor
reveal_type(cgrad.chunk(w, 2))  # revealed: tuple[cgrad._C.Tensor, ...]
reveal_type(cgrad.is_grad_enabled())  # revealed: bool

model = cgrad.nn.Linear(3, 2)
opt = cgrad.optim.SGD(model.parameters(), lr=0.1)
loss: cgrad.Tensor = F.mse_loss(model(cgrad.randn(4, 3)), cgrad.zeros(4, 2))
opt.zero_grad()
loss.backward()
opt.step()
with cgrad.no_grad():
    y = w * 2
reveal_type(y)  # revealed: cgrad._C.Tensor
