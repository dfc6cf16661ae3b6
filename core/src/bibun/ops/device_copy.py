"""Moving a tensor to another device or backend, differentiably (gradients flow back across)."""

from __future__ import annotations

from ..tensor import Tensor

__all__ = ["to_device"]


def _copy_across(t, backend):
    host = t._backend.to_numpy(t._data, force=True)
    return Tensor._make(backend.from_numpy(host.copy()), backend)


def to_device(t, device):
    """``t`` on ``device``: a new tensor; with autograd, its node copies gradients back."""
    from ..autograd.function import Function
    from ..factories import backend_for
    target = backend_for(device)
    if target is t._backend:
        return t

    class ToCopy(Function):
        @staticmethod
        def forward(ctx, x):
            return _copy_across(x, target)

        @staticmethod
        def backward(ctx, grad):
            return _copy_across(grad, t._backend)

    return ToCopy.apply(t)
