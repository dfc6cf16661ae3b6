"""Sorting: ``sort`` (values differentiable, indices not) and ``argsort``."""

from __future__ import annotations

from ..dispatch.opdef import OpDef
from ._util import canonical_dim

__all__ = ["sort", "argsort"]

argsort_op = OpDef("argsort", type_rule="none")


@argsort_op.impl
def _(xp, a, dim, descending=False):
    idx = xp.argsort(-a if descending and a.dtype != xp.bool else a, axis=dim, stable=True)
    return xp.astype(idx, xp.int64)


def argsort(input, dim=-1, descending=False):  # noqa: A002
    d = canonical_dim(dim, input.ndim) if input.ndim else 0
    if input.ndim == 0:
        return input.new_zeros((), dtype=_int64())
    return argsort_op(input, dim=d, descending=descending)


def sort(input, dim=-1, descending=False):  # noqa: A002
    from .reduction import return_types
    idx = argsort(input, dim, descending)
    if input.ndim == 0:
        return return_types.max(input.clone(), idx)
    values = input.gather(canonical_dim(dim, input.ndim), idx)
    return _Sorted(values, idx)


def _int64():
    from .. import dtypes
    return dtypes.int64


class _Sorted(tuple):
    """``bibun.return_types.sort``: (values, indices)."""

    __slots__ = ()

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    values = property(lambda self: self[0])
    indices = property(lambda self: self[1])

    def __repr__(self):
        return f"bibun.return_types.sort(\nvalues={self[0]!r},\nindices={self[1]!r})"


OPS = [argsort_op]
