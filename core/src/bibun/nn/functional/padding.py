"""``pad``: constant, reflect, replicate and circular padding (the ops are in ``bibun/ops/padding.py``)."""

from __future__ import annotations

from ...ops.padding import pad

__all__ = ["pad"]
