"""``Swish`` and ``Mish`` as ``bibun.nn`` modules."""

from __future__ import annotations

import bibun.nn as nn

from .ops import mish, swish

__all__ = ["Swish", "Mish"]


class Swish(nn.Module):
    """``x * sigmoid(beta * x)`` elementwise; ``Swish()`` computes what ``nn.SiLU()`` does."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = float(beta)

    def forward(self, input):  # noqa: A002
        return swish(input, self.beta)

    def extra_repr(self):
        return f"beta={self.beta}"


class Mish(nn.Module):
    """``x * tanh(softplus(x))`` elementwise."""

    def forward(self, input):  # noqa: A002
        return mish(input)
