"""``layer_norm`` and ``batch_norm`` with PyTorch's signatures, checks and messages."""

from __future__ import annotations

import math

from ...ops._util import canonical_dim
from ...ops.normalization import batch_norm_op, layer_norm_op
from ...size import Size

__all__ = ["layer_norm", "batch_norm"]


def _numel_msg(name, expected, got):
    return f"{name} should contain {expected} elements not {got}"


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):  # noqa: A002
    """Normalize over the last ``len(normalized_shape)`` dims to zero mean and unit variance (biased), then
    scale by ``weight`` and shift by ``bias`` (both shaped ``normalized_shape``)."""
    if isinstance(normalized_shape, int) or not isinstance(normalized_shape, (tuple, list)):
        raise TypeError("layer_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, not "
                        f"{type(normalized_shape).__name__}")
    shape = [int(s) for s in normalized_shape]
    if not shape:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           f"element, but got normalized_shape = {shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and list(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(t.shape)} and normalized_shape = {shape}")
    k = len(shape)
    if input.ndim < k or list(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={shape}, expected input with shape [*, "
                           f"{', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    return layer_norm_op(input, weight, bias, normalized_ndim=k, eps=eps)[0]


def _verify_batch_size(size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size!r}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,  # noqa: A002
               momentum=0.1, eps=1e-5):
    """Normalize each channel (dim 1) over the batch and spatial dims.

    Training mode uses the batch's mean and biased variance, and updates ``running_mean`` and
    ``running_var`` in place (``(1 - momentum) * running + momentum * batch``, the variance
    unbiased); eval mode normalizes with the running statistics.
    """
    if training:
        _verify_batch_size(Size(input.shape))
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    channels = input.shape[canonical_dim(1, input.ndim)]  # PyTorch's IndexError for a 0-d or 1-d input
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None:
            if t.numel() != channels:
                raise RuntimeError(_numel_msg(name, channels, t.numel()))
        elif name.startswith("running") and not training:
            raise RuntimeError(f"{name} must be defined in evaluation mode")
    if momentum is None:
        momentum = 0.0
    if not math.isfinite(eps):
        raise ValueError(f"batch_norm eps must be finite, but got {eps}")
    return batch_norm_op(input, weight, bias, running_mean, running_var, training=bool(training),
                         momentum=float(momentum), eps=float(eps))[0]
