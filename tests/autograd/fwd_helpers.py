"""Shared machinery of the forward-mode AD tests: run a call with dual
inputs in cgrad or torch and collect primal and tangent values."""
import numpy as np

import cgrad

try:
    import torch
except ImportError:  # the oracle is an optional extra
    torch = None


def as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def dual_positions(inputs, n_dual):
    floats = [i for i, a in enumerate(inputs) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return floats[:n_dual]


def run_dual(lib, fn, inputs, tangents, positions):
    """fn's outputs as (primal, tangent) numpy pairs (tangent None when absent)."""
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        args = []
        for i, a in enumerate(inputs):
            t = lib.tensor(a) if isinstance(a, np.ndarray) else a
            if i in positions:
                t = fwAD.make_dual(t, lib.tensor(tangents[i]))
            args.append(t)
        outs = as_tuple(fn(lib, *args))
        result = []
        for o in outs:
            p, tan = fwAD.unpack_dual(o)
            result.append((p.detach().numpy().copy(),
                           None if tan is None else tan.detach().numpy().copy()))
    return result


def finite_difference(fn, inputs, tangents, positions, eps=1e-6):
    """(f(x + eps t) - f(x - eps t)) / 2 eps in float64, through cgrad."""
    def at(sign):
        args = [cgrad.tensor(a + sign * eps * tangents[i]) if i in positions else
                (cgrad.tensor(a) if isinstance(a, np.ndarray) else a) for i, a in enumerate(inputs)]
        return [o.detach().numpy().copy() for o in as_tuple(fn(cgrad, *args))]
    return [(p - m) / (2 * eps) for p, m in zip(at(1), at(-1))]


def vjp_dot(fn, inputs, tangents, positions, cotangents):
    """sum_i <t_i, (J_i^T u)>: the transpose check of a JVP."""
    args = [cgrad.tensor(a, requires_grad=(i in positions)) if isinstance(a, np.ndarray) else a
            for i, a in enumerate(inputs)]
    outs = as_tuple(fn(cgrad, *args))
    pairs = [(o, cgrad.tensor(u)) for o, u in zip(outs, cotangents) if o.requires_grad]
    grads = cgrad.autograd.grad([o for o, _ in pairs], [args[i] for i in positions],
                                [u for _, u in pairs], allow_unused=True)
    return sum(0.0 if g is None else float((g.numpy() * tangents[i]).sum())
               for g, i in zip(grads, positions))
