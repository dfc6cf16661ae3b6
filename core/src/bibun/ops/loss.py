"""Loss ops with fused kernels: mse, smooth_l1, huber, soft_margin, nll, binary_cross_entropy(_with_logits).

Each op takes its reduction ("none", "mean" or "sum") as an attribute, so the reduced
loss carries the loss's own graph node (``MseLossBackward0``), as in PyTorch. Kernels
are written so that no intermediate overflows: BCE clamps its logs at -100, the logit
form and soft margin use ``log(1 + exp(-|z|))``. Gradients are written in bibun ops, so
double backward works; ``nll_loss`` and its gradient are two linear ops, each the
other's gradient. The functions in ``bibun.nn.functional.loss`` check arguments, cast
dtypes and broadcast shapes before calling these ops.
"""

from __future__ import annotations

import math

from ..dispatch.opdef import OpDef

__all__ = ["mse_loss_op", "smooth_l1_loss_op", "huber_loss_op", "soft_margin_loss_op", "nll_loss_op",
           "nll_loss2d_op", "binary_cross_entropy_op", "binary_cross_entropy_with_logits_op"]

# floor of x * (1 - x) in BCE's gradient, so it is finite (if huge) at probabilities 0 and 1: 1e-12 as a
# float32 holds it, whatever the dtype, which is the value PyTorch's kernels use
_BCE_EPS = 9.999999960041972e-13


def _reduce(xp, loss, reduction):
    if reduction == "none":
        return loss
    total = xp.sum(loss)
    if reduction == "sum":
        return total
    return total / loss.size  # an empty loss gives 0/0 = nan, as in PyTorch


def _scaled(grad, shape, reduction):
    """The upstream gradient of one element: ``grad / numel`` for a mean."""
    if reduction != "mean":
        return grad
    n = math.prod(shape)
    return grad / n if n else grad


# ---------------------------------------------------------------------- mse
mse_loss_op = OpDef("mse_loss", inputs=("self", "target"), type_rule="promote", save=("self", "target"),
                    node_name="MseLossBackward0")


@mse_loss_op.impl
def _(xp, a, b, reduction):
    d = a - b
    return _reduce(xp, d * d, reduction)


@mse_loss_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    g = (a - b) * (_scaled(grad, ctx.input_shape(), ctx.reduction) * 2)
    return g, (-g if ctx.needs_input_grad[1] else None)


# ---------------------------------------------------------------------- smooth_l1, huber
smooth_l1_loss_op = OpDef("smooth_l1_loss", inputs=("self", "target"), type_rule="promote", save=("self", "target"),
                          node_name="SmoothL1LossBackward0")


@smooth_l1_loss_op.impl
def _(xp, a, b, reduction, beta):
    z = xp.abs(a - b)
    return _reduce(xp, xp.where(z < beta, 0.5 * z * z / beta, z - 0.5 * beta), reduction)


@smooth_l1_loss_op.backward
def _(ctx, grad):
    # d/dx: x/beta inside (-beta, beta), sign(x) outside; the clamp is both
    a, b = ctx.saved_tensors
    g = ((a - b) / ctx.beta).clamp(-1.0, 1.0) * _scaled(grad, ctx.input_shape(), ctx.reduction)
    return g, (-g if ctx.needs_input_grad[1] else None)


huber_loss_op = OpDef("huber_loss", inputs=("self", "target"), type_rule="promote", save=("self", "target"),
                      node_name="HuberLossBackward0")


@huber_loss_op.impl
def _(xp, a, b, reduction, delta):
    z = xp.abs(a - b)
    return _reduce(xp, xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta)), reduction)


@huber_loss_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    g = (a - b).clamp(-ctx.delta, ctx.delta) * _scaled(grad, ctx.input_shape(), ctx.reduction)
    return g, (-g if ctx.needs_input_grad[1] else None)


# ---------------------------------------------------------------------- soft margin
soft_margin_loss_op = OpDef("soft_margin_loss", inputs=("self", "target"), differentiable=("self",),
                            type_rule="promote", save=("self", "target"), node_name="SoftMarginLossBackward0")


def _softplus(xp, z):
    """log(1 + exp(z)) without overflow: max(z, 0) + log1p(exp(-|z|))."""
    return xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))


@soft_margin_loss_op.impl
def _(xp, a, y, reduction):
    return _reduce(xp, _softplus(xp, -a * y), reduction)


@soft_margin_loss_op.backward
def _(ctx, grad):
    a, y = ctx.saved_tensors
    # d/da log(1 + exp(-y a)) = -y * sigmoid(-y a); the sigmoid op never overflows
    return -y * (-(a * y)).sigmoid() * _scaled(grad, ctx.input_shape(), ctx.reduction)


# ---------------------------------------------------------------------- nll_loss
def _nll_targets(xp, t, n_classes, ignore_index):
    """Targets as int64 (N, *S) (one sample for a 1-D input), the mask of counted ones, and safe indices.

    Raises PyTorch's IndexError for a counted target outside [0, C).
    """
    t = xp.astype(xp.reshape(t, (1,)) if t.ndim == 0 else t, xp.int64)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.size and bool(xp.any(bad)):
        raise IndexError(f"Target {int(t[bad][0])} is out of bounds.")
    return t, valid, xp.where(valid, t, 0)


def _nll_weights(xp, w, valid, safe, dtype):
    """The weight of each target (0 where ignored)."""
    if w is None:
        return xp.astype(valid, dtype)
    return xp.astype(xp.where(valid, w[safe], 0), dtype)


def _make_nll(name, node):
    """An nll op and its gradient op; each is linear in its first input and is the other's gradient."""
    forward = OpDef(name, inputs=("self", "target", "weight"), differentiable=("self",), type_rule="none",
                    save=("target", "weight"), node_name=f"{node}Backward0")
    backward = OpDef(f"{name}_backward", inputs=("grad", "target", "weight"), differentiable=("grad",),
                     type_rule="none", save=("target", "weight"), node_name=f"{node}BackwardBackward0")

    @forward.impl
    def _(xp, a, t, w, reduction, ignore_index):
        a2 = xp.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a  # (C,) is one sample
        t2, valid, safe = _nll_targets(xp, t, a2.shape[1], ignore_index)
        wt = _nll_weights(xp, w, valid, safe, a.dtype)
        picked = xp.squeeze(xp.take_along_axis(a2, xp.expand_dims(safe, 1), axis=1), axis=1)
        loss = xp.where(valid, -(picked * wt), 0)
        if reduction == "none":
            return xp.reshape(loss, t.shape)
        total = xp.sum(loss)
        return total if reduction == "sum" else total / xp.sum(wt)

    @forward.backward
    def _(ctx, grad):
        t, w = ctx.saved_tensors
        return backward(grad, t, w, shape=tuple(ctx.input_shape()), reduction=ctx.reduction,
                        ignore_index=ctx.ignore_index)

    @backward.impl
    def _(xp, g, t, w, shape, reduction, ignore_index):
        # zeros of the input's shape, with -w[t] * grad at each counted target's class (/ the weight total: mean)
        n_classes = shape[0] if len(shape) == 1 else shape[1]
        t2, valid, safe = _nll_targets(xp, t, n_classes, ignore_index)
        wt = _nll_weights(xp, w, valid, safe, g.dtype)
        if reduction == "none":
            coef = -(wt * xp.reshape(g, wt.shape))
        elif reduction == "sum":
            coef = -(wt * g)
        else:
            coef = -(wt / xp.sum(wt) * g)
        classes = xp.reshape(xp.arange(n_classes), (1, n_classes) + (1,) * (t2.ndim - 1))
        hit = (classes == xp.expand_dims(safe, 1)) & xp.expand_dims(valid, 1)
        return xp.reshape(xp.where(hit, xp.expand_dims(coef, 1), 0), shape)

    @backward.backward
    def _(ctx, grad):
        t, w = ctx.saved_tensors
        return forward(grad, t, w, reduction=ctx.reduction, ignore_index=ctx.ignore_index)

    return forward, backward


nll_loss_op, nll_loss_backward_op = _make_nll("nll_loss", "NllLoss")
nll_loss2d_op, nll_loss2d_backward_op = _make_nll("nll_loss2d", "NllLoss2D")


# ---------------------------------------------------------------------- binary cross entropy
binary_cross_entropy_op = OpDef("binary_cross_entropy", inputs=("self", "target", "weight"),
                                differentiable=("self", "target"), type_rule="none",
                                save=("self", "target", "weight"), node_name="BinaryCrossEntropyBackward0")


@binary_cross_entropy_op.impl
def _(xp, x, y, w, reduction):
    if x.size and not bool(xp.all((x >= 0) & (x <= 1))):  # NaN fails too
        raise RuntimeError("all elements of input should be between 0 and 1")
    if y.size and not bool(xp.all((y >= 0) & (y <= 1))):
        raise RuntimeError("all elements of target should be between 0 and 1")
    # logs clamped at -100: a probability of exactly 0 or 1 costs at most 100, never inf
    loss = (y - 1) * xp.maximum(xp.log1p(-x), -100) - y * xp.maximum(xp.log(x), -100)
    if w is not None:
        loss = loss * w
    return _reduce(xp, loss, reduction)


@binary_cross_entropy_op.backward
def _(ctx, grad):
    x, y, w = ctx.saved_tensors
    need_x, need_y = ctx.needs_input_grad
    g = _scaled(grad, ctx.input_shape(), ctx.reduction)
    if w is not None:
        g = g * w
    gx = g * (x - y) / ((1 - x) * x).clamp(min=_BCE_EPS) if need_x else None
    gy = g * ((-x).log1p() - x.log()) if need_y else None
    return gx, gy


binary_cross_entropy_with_logits_op = OpDef(
    "binary_cross_entropy_with_logits", inputs=("self", "target", "weight", "pos_weight"),
    differentiable=("self", "target"), type_rule="none", save=("self", "target", "weight", "pos_weight"),
    node_name="BinaryCrossEntropyWithLogitsBackward0")


def _log_sigmoid(xp, x):
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


@binary_cross_entropy_with_logits_op.impl
def _(xp, x, y, w, pw, reduction):
    # (1 - y) x - log sigmoid(x), with log sigmoid(x) = min(x, 0) - log1p(exp(-|x|)): exact at x = +-1000
    log_sig = _log_sigmoid(xp, x)
    if pw is not None:
        loss = (1 - y) * x - ((pw - 1) * y + 1) * log_sig
    else:
        loss = (1 - y) * x - log_sig
    if w is not None:
        loss = loss * w
    return _reduce(xp, loss, reduction)


def _log_sigmoid_t(x):
    """log(sigmoid(x)) in bibun ops (differentiable), without overflow."""
    return x.clamp(max=0) - (-x.abs()).exp().log1p()


@binary_cross_entropy_with_logits_op.backward
def _(ctx, grad):
    x, y, w, pw = ctx.saved_tensors
    need_x, need_y = ctx.needs_input_grad
    g = _scaled(grad, ctx.input_shape(), ctx.reduction)
    if w is not None:
        g = g * w
    gx = gy = None
    if need_x:
        if pw is not None:
            py = pw * y
            gx = g * ((py + 1 - y) * x.sigmoid() - py)
        else:
            gx = g * (x.sigmoid() - y)
    if need_y:
        if pw is not None:
            gy = g * (_log_sigmoid_t(-x) - pw * _log_sigmoid_t(x))
        else:
            gy = g * -x
    return gx, gy


OPS = [mse_loss_op, smooth_l1_loss_op, huber_loss_op, soft_margin_loss_op, nll_loss_op, nll_loss_backward_op,
       nll_loss2d_op, nll_loss2d_backward_op, binary_cross_entropy_op, binary_cross_entropy_with_logits_op]
