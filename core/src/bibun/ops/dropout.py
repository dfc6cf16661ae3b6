"""Dropout as bibun ops: the input times a random mask, so the graph records a ``MulBackward0`` node.

The mask keeps each element (or, for feature dropout, each channel) with probability
1 - p and is scaled by 1 / (1 - p) so the expected value is unchanged. Alpha dropout sets
dropped elements to SELU's negative saturation and rescales so mean and variance are kept.
Masks come from bibun's random number generator, drawn as PyTorch draws them, so after
the same ``manual_seed`` they are PyTorch's masks.
"""

from __future__ import annotations

import math

from ._portable import strides as array_strides

__all__ = ["dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout"]

# SELU's negative saturation value, -scale * alpha, as a positive number
_ALPHA = 1.7580993408473766


def _memory_order(input):  # noqa: A002
    """The dims of ``input`` from outermost to innermost in memory, when that is not plain order
    (a transposed or permuted input), else None. An expanded (stride 0) input counts as plain."""
    shape, strides = input._data.shape, array_strides(input._backend, input._data)
    if any(st <= 0 for n, st in zip(shape, strides) if n > 1):
        return None
    dims = sorted(range(len(shape)), key=lambda d: -strides[d] if shape[d] > 1 else 0)
    moved = [d for d in dims if shape[d] > 1]
    return dims if moved != sorted(moved) else None


def _keep_mask(input, keep, feature):  # noqa: A002
    """1.0 where an element (a whole channel with ``feature``) is kept, else 0.0, in ``input``'s dtype.

    Drawn as PyTorch draws it, ``bernoulli_(1 - p)`` on a new tensor laid out in memory like
    the input (a transposed input gets a transposed mask), so after the same ``manual_seed``
    the mask is PyTorch's.
    """
    from ..factories import empty
    shape = tuple(input.shape)
    if feature:
        shape = shape[:2] + (1,) * (len(shape) - 2)
        return empty(shape, dtype=input.dtype, device=input.device).bernoulli_(keep)
    order = _memory_order(input)
    if order is None:
        return empty(shape, dtype=input.dtype, device=input.device).bernoulli_(keep)
    mask = empty(tuple(shape[d] for d in order), dtype=input.dtype, device=input.device).bernoulli_(keep)
    inverse = sorted(range(len(order)), key=order.__getitem__)
    return mask.permute(inverse)


def _mul(input, other, inplace):  # noqa: A002
    return input.mul_(other) if inplace else input * other


def _dropout(input, p, train, inplace, feature, alpha):  # noqa: A002
    if p == 0 or not train or input.numel() == 0:
        return input
    if p == 1:
        return _mul(input, input.new_zeros(()), inplace)
    if not input.is_floating_point():
        from ..dispatch.dispatcher import _TYPE_NAME
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_TYPE_NAME[input.dtype.name]}")
    keep = 1 - p
    noise = _keep_mask(input, keep, feature)
    if not alpha:
        return _mul(input, noise / keep, inplace)
    a = 1 / math.sqrt((_ALPHA * _ALPHA * p + 1) * keep)
    shift = (noise - 1) * (_ALPHA * a) + _ALPHA * a * p
    out = _mul(input, noise * a, inplace)
    return out.add_(shift) if inplace else out + shift


def dropout(input, p, train, inplace=False):  # noqa: A002
    """Zero each element with probability ``p`` and scale the rest by 1 / (1 - p); ``input`` itself when not
    training or p = 0."""
    return _dropout(input, p, train, inplace, feature=False, alpha=False)


def feature_dropout(input, p, train, inplace=False):  # noqa: A002
    """Dropout of whole channels: one draw per (sample, channel) of an (N, C, ...) input."""
    return _dropout(input, p, train, inplace, feature=True, alpha=False)


def alpha_dropout(input, p, train, inplace=False):  # noqa: A002
    """Dropout that keeps a SELU network's zero mean and unit variance."""
    return _dropout(input, p, train, inplace, feature=False, alpha=True)


def feature_alpha_dropout(input, p, train, inplace=False):  # noqa: A002
    return _dropout(input, p, train, inplace, feature=True, alpha=True)


OPS = []
