"""The core's own ops, registered through the same hook a third-party op plugin implements."""

from __future__ import annotations

from . import activation, arithmetic, indexing, inplace, linalg, reduction, shape, sorting, unary, views

FAMILIES = (arithmetic, unary, activation, reduction, shape, indexing, linalg, inplace, sorting, views)


def all_ops():
    return [op for family in FAMILIES for op in family.OPS]


def bibun_register_ops(register):
    for op in all_ops():
        register.op(op)
