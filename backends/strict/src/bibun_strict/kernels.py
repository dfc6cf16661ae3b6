"""Kernels of the strict backend, for ops whose generic kernel leans on numpy beyond the standard.

numpy (and cupy) add and multiply booleans (``True + True`` is ``True``: logical or and
and, as in PyTorch) and take a python ``bool`` next to numbers. The standard does neither,
and checking for it in the generic kernels would cost every numpy add; so the strict
backend has its own ``add`` and ``mul``, written with the standard's functions.
"""

from __future__ import annotations

_XP = []


def _xp():
    if not _XP:
        import array_api_strict
        _XP.append(array_api_strict)
    return _XP[0]


def _is_bool(xp, x):
    return getattr(x, "dtype", None) == xp.bool


def _number(xp, x, other):
    """A python bool next to a numeric array, as the number it stands for."""
    if isinstance(x, bool) and not _is_bool(xp, other):
        return int(x)
    return x


def add(a, b, alpha=1):
    xp = _xp()
    if _is_bool(xp, a) and (_is_bool(xp, b) or isinstance(b, bool)):
        return xp.logical_or(a, b)
    b = _number(xp, b, a)
    if alpha != 1:
        b = b * alpha if isinstance(b, (int, float)) else xp.multiply(b, alpha)
    return xp.add(a, b)


def mul(a, b):
    xp = _xp()
    if _is_bool(xp, a) and (_is_bool(xp, b) or isinstance(b, bool)):
        return xp.logical_and(a, b)
    return xp.multiply(a, _number(xp, b, a))


KERNELS = {"add": add, "mul": mul}


def register_all(register):
    for op_name, fn in KERNELS.items():
        register.kernel(op_name, "strict", fn)
