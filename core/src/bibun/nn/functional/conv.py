"""``conv1d``, ``conv2d``, ``conv3d``: PyTorch's convolutions (im2col + matmul, in ``bibun/ops/convolution.py``)."""

from __future__ import annotations

from ...ops.convolution import conv1d, conv2d, conv3d

__all__ = ["conv1d", "conv2d", "conv3d"]
