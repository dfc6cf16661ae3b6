"""``FocalLoss``: the loss as a ``bibun.nn`` module, its options kept as attributes."""

from __future__ import annotations

import bibun
import bibun.nn as nn

from .functional import focal_loss

__all__ = ["FocalLoss"]


class FocalLoss(nn.Module):
    """Focal loss (Lin et al. 2017) for multi-class logits; see :func:`focal_loss`.

    ``alpha`` (per-class weights) is a buffer, so ``.to()`` moves it and ``state_dict`` saves it,
    as ``CrossEntropyLoss`` keeps its ``weight``.
    """

    def __init__(self, gamma=2.0, alpha=None, reduction="mean", ignore_index=-100):
        super().__init__()
        if alpha is not None and not isinstance(alpha, bibun.Tensor):
            alpha = bibun.tensor(alpha, dtype=bibun.get_default_dtype())
        self.gamma = float(gamma)
        self.reduction = reduction
        self.ignore_index = int(ignore_index)
        self.register_buffer("alpha", alpha)

    def forward(self, input, target):  # noqa: A002
        return focal_loss(input, target, gamma=self.gamma, alpha=self.alpha, reduction=self.reduction,
                          ignore_index=self.ignore_index)

    def extra_repr(self):
        return f"gamma={self.gamma}, reduction={self.reduction!r}, ignore_index={self.ignore_index}"
