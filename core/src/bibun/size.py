"""``bibun.Size``: a tuple of dimensions, as ``Tensor.shape`` returns it."""

from __future__ import annotations

import math

__all__ = ["Size"]


class Size(tuple):
    """Tensor dimensions. A tuple subclass: compares equal to plain tuples."""

    __slots__ = ()

    def __repr__(self):
        return f"bibun.Size({list(self)})"

    def numel(self):
        return math.prod(self)

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return Size(r) if isinstance(key, slice) else r

    def __add__(self, other):
        return Size(tuple.__add__(self, other))
