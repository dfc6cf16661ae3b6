"""Moving a tensor to another device or backend, differentiably (``ToCopyBackward0`` copies gradients back).

Arrays travel through host memory: ``to_numpy`` on the source backend, ``from_numpy`` on
the target, inside the target's device scope so ``cuda:1`` means device 1. A host array
that may share memory with the source (a cpu backend's own array) is copied first, so the
new tensor never aliases the old one.
"""

from __future__ import annotations

from ..autograd.function import Function
from ..device import device as _device
from ..tensor import Tensor

__all__ = ["to_device"]


def _copy_across(t, backend, index):
    source = t._backend
    host = source.to_numpy(t._data, force=True)
    if not source.to_numpy_copies:
        host = host.copy()
    with backend.device_scope(index):
        return Tensor._make(backend.from_numpy(host), backend)


class _ToCopy(Function):
    @staticmethod
    def forward(ctx, x, dev, target):
        ctx.source = x.device
        return _copy_across(x, target, dev.index)

    @staticmethod
    def backward(ctx, grad):
        # in bibun ops, so the copy back is recorded too when create_graph=True
        return to_device(grad, ctx.source), None, None


_ToCopy._backward_cls.__name__ = _ToCopy._backward_cls.__qualname__ = "ToCopyBackward0"  # PyTorch's node name


def to_device(t, device):
    """``t`` on ``device``: ``t`` itself when it is there already, else a new tensor (recorded in the graph)."""
    from ..factories import backend_for
    dev = _device(device)
    target = backend_for(dev)
    if target is t._backend and (dev.index is None or target._cpu_device is not None or dev.index == t.device.index):
        return t  # there already (the cpu has one device, whatever index is written)
    return _ToCopy.apply(t, dev, target)
