"""Normalization ops: ``native_layer_norm`` and ``native_batch_norm``.

Each returns the normalized tensor and, as extra outputs without gradient, the mean and
1/std it used, which its backward reads. When the gradient itself is being recorded
(``create_graph=True``) the backward recomputes them from the input in bibun ops instead,
so that second derivatives see how they depend on the input.

``native_batch_norm`` in training mode also updates the running statistics it is given, in
place, inside the kernel, as PyTorch's kernel does (their version counters do not move).
"""

from __future__ import annotations

from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..dispatch.opdef import OpDef

__all__ = ["layer_norm_op", "batch_norm_op"]


def _moments(xp, x, axes):
    mean = xp.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = xp.mean(centered * centered, axis=axes, keepdims=True)
    return mean, centered, var


def _normalized_grad(grad, xhat, rstd, weight, axes):
    """d/dx of ((x - mean) * rstd * weight) for mean and rstd taken over ``axes``."""
    g = grad if weight is None else grad * weight
    return rstd * (g - g.mean(axes, keepdim=True) - xhat * (g * xhat).mean(axes, keepdim=True))


def _recomputed_stats(x, axes, eps):
    """mean and 1/std of ``x`` over ``axes`` in bibun ops (differentiable), keeping the reduced dims."""
    mean = x.mean(axes, keepdim=True)
    centered = x - mean
    return mean, ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()


# ---------------------------------------------------------------------- layer norm
layer_norm_op = OpDef("native_layer_norm", inputs=("input", "weight", "bias"), type_rule="none", outputs=3,
                      nondiff_outputs=(1, 2), save=("input", "weight", "result1", "result2"),
                      doc="(y, mean, rstd) over the last ``normalized_ndim`` dims; mean/rstd keep those dims.")


@layer_norm_op.impl
def _(xp, x, weight, bias, normalized_ndim, eps):
    axes = tuple(range(x.ndim - normalized_ndim, x.ndim))
    mean, centered, var = _moments(xp, x, axes)
    rstd = 1 / xp.sqrt(var + eps)
    y = centered * rstd
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, mean, rstd


@layer_norm_op.backward
def _(ctx, grad, _grad_mean, _grad_rstd):
    x, weight, mean, rstd = ctx.saved_tensors
    need_x, need_w, need_b = ctx.needs_input_grad
    k = ctx.normalized_ndim
    axes = tuple(range(x.ndim - k, x.ndim))
    lead = tuple(range(x.ndim - k))
    if _grad_enabled():
        mean, rstd = _recomputed_stats(x, axes, ctx.eps)
    xhat = (x - mean) * rstd
    dx = _normalized_grad(grad, xhat, rstd, weight, axes) if need_x else None
    dw = db = None
    if need_w:
        dw = grad * xhat
        dw = dw.sum(lead) if lead else dw
    if need_b:
        db = grad.sum(lead) if lead else grad
    return dx, dw, db


# ---------------------------------------------------------------------- batch norm
batch_norm_op = OpDef("native_batch_norm", inputs=("input", "weight", "bias", "running_mean", "running_var"),
                      differentiable=("input", "weight", "bias"), type_rule="none", outputs=3,
                      nondiff_outputs=(1, 2), save=("input", "weight", "result1", "result2"),
                      doc="(y, mean, invstd) per channel (dim 1); training mode updates the running stats in place.")


def _channel_view(t, ndim, xp=None):
    """A (C,) tensor (or, given ``xp``, array) shaped (1, C, 1, ...) to broadcast against an ``ndim``-dim input."""
    shape = (1, -1) + (1,) * (ndim - 2)
    return t.reshape(shape) if xp is None else xp.reshape(t, shape)


@batch_norm_op.impl
def _(xp, x, weight, bias, running_mean, running_var, training, momentum, eps):
    axes = (0,) + tuple(range(2, x.ndim))
    if training and x.size == 0:  # an empty batch: nothing to normalize, nothing to learn from
        mean = invstd = xp.zeros(x.shape[1], dtype=x.dtype)
        return xp.empty_like(x), mean, invstd
    if training:
        mean, centered, var = _moments(xp, x, axes)
        invstd = 1 / xp.sqrt(var + eps)
        mean, var, invstd = xp.reshape(mean, (-1,)), xp.reshape(var, (-1,)), xp.reshape(invstd, (-1,))
        n = x.size // x.shape[1]
        if running_mean is not None:
            running_mean[...] = momentum * mean + (1 - momentum) * running_mean
        if running_var is not None:
            running_var[...] = momentum * (var * (n / (n - 1))) + (1 - momentum) * running_var
    else:
        mean = xp.asarray(running_mean, copy=True)  # later updates must not reach it
        invstd = 1 / xp.sqrt(running_var + eps)
        centered = x - _channel_view(mean, x.ndim, xp)
    y = centered * _channel_view(invstd, x.ndim, xp)
    if weight is not None:
        y = y * _channel_view(weight, x.ndim, xp)
    if bias is not None:
        y = y + _channel_view(bias, x.ndim, xp)
    return y, mean, invstd


@batch_norm_op.backward
def _(ctx, grad, _grad_mean, _grad_invstd):
    x, weight, mean, invstd = ctx.saved_tensors
    need_x, need_w, need_b = ctx.needs_input_grad
    nd = x.ndim
    axes = (0,) + tuple(range(2, nd))
    if x.numel() == 0:  # an empty batch
        zero = grad.new_zeros(x.shape[1])
        return (grad * 0 if need_x else None), (zero if need_w else None), (zero if need_b else None)
    w = None if weight is None else _channel_view(weight, nd)
    if ctx.training:
        if _grad_enabled():
            mean, invstd = _recomputed_stats(x, axes, ctx.eps)
        else:
            mean, invstd = _channel_view(mean, nd), _channel_view(invstd, nd)
        xhat = (x - mean) * invstd
        dx = _normalized_grad(grad, xhat, invstd, w, axes) if need_x else None
    else:
        # the running statistics are constants here: the map is affine in x
        mean, invstd = _channel_view(mean.detach(), nd), _channel_view(invstd.detach(), nd)
        xhat = (x - mean) * invstd
        dx = None
        if need_x:
            dx = grad * invstd if w is None else grad * (w * invstd)
    dw = (grad * xhat).sum(axes) if need_w else None
    db = grad.sum(axes) if need_b else None
    return dx, dw, db


OPS = [layer_norm_op, batch_norm_op]
