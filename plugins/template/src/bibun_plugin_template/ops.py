"""The op: ``scaled_tanh(x, a, b) = a * tanh(b * x)`` (LeCun's activation is a=1.7159, b=2/3)."""

from __future__ import annotations

import bibun
from bibun.dispatch import OpDef

__all__ = ["scaled_tanh", "scaled_tanh_op"]

# The name is "<namespace>::<name>": a plain name could collide with bibun's ops or another
# plugin's. type_rule="float": integer inputs become the default float dtype first.
# save=("self",): backward gets the input back as ctx.saved_tensors.
scaled_tanh_op = OpDef("template::scaled_tanh", type_rule="float", save=("self",), node_name="ScaledTanhBackward0")


@scaled_tanh_op.impl
def _(xp, x, a=1.0, b=1.0):
    """The generic kernel: array in, array out, using only functions every backend's ``xp`` has."""
    return a * xp.tanh(b * x)


@scaled_tanh_op.backward
def _(ctx, grad):
    """The gradient, written in bibun ops so that it can be differentiated again."""
    (x,) = ctx.saved_tensors
    a, b = getattr(ctx, "a", 1.0), getattr(ctx, "b", 1.0)  # keyword arguments of the call, if given
    t = bibun.tanh(x * b)
    return grad * (a * b) * (1 - t * t)  # one gradient per input


def scaled_tanh_numpy(x, a=1.0, b=1.0):
    """A kernel for the numpy backend only: the same values, in one buffer instead of two."""
    import numpy as np
    out = np.multiply(x, b, out=np.empty_like(x))
    np.tanh(out, out=out)
    return np.multiply(out, a, out=out)


def scaled_tanh(input, a=1.0, b=1.0):  # noqa: A002
    """``a * tanh(b * input)``; the public function of the package."""
    return scaled_tanh_op(input, a=float(a), b=float(b))
