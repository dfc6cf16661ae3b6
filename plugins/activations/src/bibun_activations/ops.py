"""The ops: ``activations::swish`` and ``activations::mish``, each defined once.

Each op has a generic kernel written against the backend's array namespace ``xp`` (so it
runs on any backend, numpy or cupy), and a gradient written in bibun ops (so it can be
differentiated again). Faster kernels for particular backends are in ``kernels.py``.
"""

from __future__ import annotations

import numbers

import bibun
from bibun.dispatch import OpDef

__all__ = ["swish", "mish", "swish_op", "mish_op"]

# Op names carry the plugin's prefix: bibun already has a "mish" op, and two plugins that
# define one name are refused, so a plain name would collide.
swish_op = OpDef("activations::swish", type_rule="float", save=("self",), node_name="SwishBackward0",
                 doc="x * sigmoid(beta * x)")
mish_op = OpDef("activations::mish", type_rule="float", save=("self",), node_name="MishBackward0",
                doc="x * tanh(softplus(x))")


def _sigmoid(xp, z):
    """sigmoid(z), taking exp of a non-positive number only, so it never overflows."""
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _softplus(xp, a):
    """log(1 + exp(a)) as max(a, 0) + log1p(exp(-|a|)): finite for every finite a."""
    return xp.maximum(a, 0) + xp.log1p(xp.exp(-xp.abs(a)))


@swish_op.impl
def _(xp, a, beta=1.0):
    return a * _sigmoid(xp, a * beta)


@swish_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    beta = getattr(ctx, "beta", 1.0)  # attributes the caller left out are not recorded
    s = bibun.sigmoid(x * beta)
    # d/dx x*s(bx) = s + b*x*s*(1 - s)
    return grad * (s * (1 + beta * x * (1 - s)))


@mish_op.impl
def _(xp, a):
    return a * xp.tanh(_softplus(xp, a))


@mish_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    t = bibun.tanh(bibun.nn.functional.softplus(x))
    # d/dx x*tanh(sp(x)) = tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2), as sp'(x) = sigmoid(x)
    return grad * (t + x * bibun.sigmoid(x) * (1 - t * t))


def swish(input, beta=1.0):  # noqa: A002
    """Swish (Ramachandran et al. 2017): ``x * sigmoid(beta * x)``; ``beta=1`` is SiLU."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"swish(): beta must be a real number, got {type(beta).__name__}")
    return swish_op(input, beta=float(beta))


def mish(input):  # noqa: A002
    """Mish (Misra 2019): ``x * tanh(softplus(x))``."""
    return mish_op(input)
