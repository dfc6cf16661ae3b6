"""Dropout functions with PyTorch's signatures, checks, warnings and messages."""

from __future__ import annotations

import warnings

from ...ops import dropout as _drop

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero each element with probability ``p``, scaling the others by 1 / (1 - p), in training.

    Returns ``input`` itself when not training or when p = 0.
    """
    _check_p(p)
    return _drop.dropout(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Dropout for SELU networks: keeps zero mean and unit variance."""
    _check_p(p)
    return _drop.alpha_dropout(input, p, training, inplace)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):  # noqa: A002
    """Alpha dropout of whole channels."""
    _check_p(p)
    return _drop.feature_alpha_dropout(input, p, training, inplace)


def _unbatched_feature_dropout(input, p, training, inplace):  # noqa: A002
    x = input.unsqueeze_(0) if inplace else input.unsqueeze(0)
    out = _drop.feature_dropout(x, p, training, inplace)
    return out.squeeze_(0) if inplace else out.squeeze(0)


def _warn_ndim(input, spatial):  # noqa: A002
    """Warn (at the caller's caller) when ``dropout{spatial}d`` gets neither a batched nor an unbatched input."""
    nd = input.ndim
    if nd not in (spatial + 1, spatial + 2):
        name = f"dropout{spatial}d"
        warnings.warn(
            f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an error in a "
            "future release. To retain the behavior and silence this warning, please use dropout instead. Note that "
            f"{name} exists to provide channel-wise dropout on inputs with {spatial} spatial dimensions, a channel "
            f"dimension, and an optional batch dimension (i.e. {spatial + 1}D or {spatial + 2}D inputs).",
            stacklevel=3)
    return nd


def dropout1d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of an (N, C, L) or (C, L) input with probability ``p``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that dropout1d exists to "
            "provide channel-wise dropout on inputs with 1 spatial dimension, a channel dimension, and an optional "
            "batch dimension (i.e. 2D or 3D inputs).")
    if input.ndim == 2:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _drop.feature_dropout(input, p, training, inplace)


def dropout2d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of an (N, C, H, W) input with probability ``p``."""
    _check_p(p)
    nd = _warn_ndim(input, 2)
    if nd == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will "
            "change in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, "
            "W). To maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    return _drop.feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):  # noqa: A002
    """Zero whole channels of an (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    _check_p(p)
    nd = _warn_ndim(input, 3)
    if nd != 5:
        return _unbatched_feature_dropout(input, p, training, inplace)
    return _drop.feature_dropout(input, p, training, inplace)
