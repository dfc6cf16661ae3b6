"""Pieces of the update arithmetic and argument checks that several optimizers share.

They work on backend arrays in place and keep PyTorch's order of operations and roundings,
which is what lets the optimizers reproduce PyTorch's trajectories bit for bit.
"""

from __future__ import annotations

from ..ops.pointwise import fma
from ..tensor import Tensor


def check_lr(lr):
    """A tensor learning rate must hold one number."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")


def check_nonnegative(*named):
    """Each ``(what, value)`` must satisfy ``0.0 <= value`` (so NaN is refused too), checked in order."""
    for what, value in named:
        if not 0.0 <= value:
            raise ValueError(f"Invalid {what}: {value}")


def refuse_differentiable(differentiable):
    """The updates are written on arrays, outside autograd: differentiating through them is not offered."""
    if differentiable:
        raise NotImplementedError("bibun's optimizers do not support differentiable=True")


def check_fused(fused, differentiable, foreach):
    """The flag combinations PyTorch refuses for ``fused=True``."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def zeros_state(p):
    """A state tensor of zeros shaped, typed and placed like parameter ``p``."""
    return Tensor._make(p._backend.xp.zeros_like(p._data), p._backend)


def steps_as_tensors(states):
    """Turn python-number ``step`` entries (from old state dicts) into step tensors, in place."""
    from .optimizer import new_step
    for s in states:
        if s and "step" in s and not isinstance(s["step"], Tensor):
            s["step"] = new_step(float(s["step"]))


def effective_grad(xp, param, grad, maximize, weight_decay):
    """The gradient an update uses: negated when maximizing, then plus ``weight_decay * param`` (L2)."""
    g = xp.negative(grad) if maximize else grad
    if weight_decay != 0:
        g = fma(xp, param, weight_decay, g)                           # grad + weight_decay * param
    return g


def ema_square_into(xp, avg_sq, g, beta):
    """``avg_sq <- beta * avg_sq + (1 - beta) * g * g`` in place, rounded as a multiply then an addcmul."""
    avg_sq *= beta
    fma(xp, xp.multiply(g, 1 - beta), g, avg_sq, out=avg_sq)


def add_ratio_into(xp, param, num, scale, denom):
    """``param <- param + (scale * num) / denom`` in place, rounded as an addcdiv (product first)."""
    update = xp.multiply(num, scale)
    update /= denom
    param += update
