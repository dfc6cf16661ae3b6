"""``bibun.Size``: a tuple of dimensions, as ``Tensor.shape`` returns it."""

from __future__ import annotations

import math

__all__ = ["Size"]


class Size(tuple):
    """Tensor dimensions. A tuple subclass: compares equal to plain tuples; slicing, ``+`` and ``*``
    give a ``Size`` back.

    The elements are not checked (``Tensor.shape`` builds a Size on every call, so the
    constructor stays the plain, fast tuple one).
    """

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

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, n):
        return Size(tuple.__mul__(self, n))

    __rmul__ = __mul__

