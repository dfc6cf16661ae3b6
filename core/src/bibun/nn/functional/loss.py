"""Loss functions with PyTorch's signatures, checks, messages and graph nodes.

Losses that PyTorch computes as one fused op (mse, smooth_l1, huber, soft_margin, nll,
binary_cross_entropy and its logit form) call the ops of ``bibun.ops.loss``; the others
(l1, kl_div, cross_entropy with smoothing or class probabilities) are composed of
ordinary ops, so their graphs end in the same generic nodes as PyTorch's. Cross entropy
with class indices is ``log_softmax`` followed by ``nll_loss``: finite for any logits.
"""

from __future__ import annotations

import warnings

from ... import dtypes as _dt
from ...autograd.grad_mode import is_grad_enabled
from ...dispatch.dispatcher import _TYPE_NAME
from ...ops import loss as _ops
from ...ops._util import broadcast_shapes
from ...ops.activation import log_softmax

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss", "nll_loss", "cross_entropy",
           "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div"]

_REDUCTIONS = ("none", "mean", "sum")


# ---------------------------------------------------------------------- shared checks
def _legacy_reduction(size_average, reduce, stacklevel=3):
    """The reduction the deprecated ``size_average``/``reduce`` flags stand for (with PyTorch's warning)."""
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    ret = "mean" if size_average and reduce else "sum" if reduce else "none"
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{ret}' instead.",
                  UserWarning, stacklevel=stacklevel)
    return ret


def _reduction(reduction, size_average=None, reduce=None):
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      UserWarning, stacklevel=3)
        return "mean"
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _reduce_weighted(loss, weight, reduction, by_weight):
    """The reduction of a loss given a per-element ``weight`` (mean: by the weights' sum, or by numel)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.sum() / weight.sum() if by_weight else loss.mean()
    raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")


def _type_name(t):
    return _TYPE_NAME[t.dtype.name]


def _warn_size(input, target, stacklevel=3):  # noqa: A002
    if target.size() != input.size():
        warnings.warn(f"Using a target size ({target.size()}) that is different to the input size ({input.size()}). "
                      "This will likely lead to incorrect results due to broadcasting. "
                      "Please ensure they have the same size.", UserWarning, stacklevel=stacklevel)


def _broadcast(a, b):
    shape = broadcast_shapes(tuple(a.shape), tuple(b.shape))
    return (a if tuple(a.shape) == shape else a.expand(shape)), (b if tuple(b.shape) == shape else b.expand(shape))


def _regression_args(input, target, size_average, reduce, reduction):  # noqa: A002
    """``(a, b, reduction)``: the size warning, the legacy flags resolved, and input and target broadcast.

    The warnings point at the caller of the loss function (one frame above this helper's caller).
    """
    _warn_size(input, target, stacklevel=4)
    if size_average is not None or reduce is not None:
        reduction = _legacy_reduction(size_average, reduce, stacklevel=4)
    a, b = _broadcast(input, target)
    return a, b, reduction


def _check_weight(weight, input):  # noqa: A002
    if weight.size() != input.size():
        raise ValueError("Weights and input must have the same size.")


def _check_floating(kernel, a, b):
    """PyTorch's error for a pointwise loss on two integral tensors (named by its CPU kernel)."""
    if not (a.is_floating_point() or b.is_floating_point()):
        name = _TYPE_NAME[_dt.promote_types(a.dtype, b.dtype).name]
        raise NotImplementedError(f'"{kernel}_{a.device.type}" not implemented for \'{name}\'')


def _no_grad_for(tensor, arg, function):
    """PyTorch refuses a gradient-requiring tensor where its loss has no derivative (weights, some targets)."""
    if tensor is not None and tensor.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{function}' is not differentiable with respect to argument '{arg}'. "
                           "This input cannot have requires_grad True.")


def _fmt(x):
    return f"{x:g}"  # a double as C++ streams print it: 2.0 -> "2", 1.5 -> "1.5"


# ---------------------------------------------------------------------- regression losses
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Mean squared error; ``weight`` (input's shape) gives a weighted sum, or mean over the weights' sum."""
    a, b, reduction = _regression_args(input, target, size_average, reduce, reduction)
    if weight is not None:
        _check_weight(weight, input)
        return _reduce_weighted((a - b).pow(2) * weight, weight, reduction, by_weight=True)
    reduction = _reduction(reduction)
    _check_floating("mse", a, b)
    return _ops.mse_loss_op(a, b, reduction=reduction)


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):  # noqa: A002
    """Mean absolute error, composed as ``(input - target).abs()`` and a reduction (PyTorch's graph)."""
    a, b, reduction = _regression_args(input, target, size_average, reduce, reduction)
    if weight is not None:
        _check_weight(weight, input)
        return _reduce_weighted((a - b).abs() * weight, weight, reduction, by_weight=True)
    return _reduce((a - b).abs(), _reduction(reduction))


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):  # noqa: A002
    """Quadratic for ``|x - y| < beta``, linear beyond; ``beta=0`` is ``l1_loss``."""
    a, b, reduction = _regression_args(input, target, size_average, reduce, reduction)
    reduction = _reduction(reduction)
    if beta == 0.0:
        return _reduce((a - b).abs(), reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_floating("smooth_l1", a, b)
    return _ops.smooth_l1_loss_op(a, b, reduction=reduction, beta=float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):  # noqa: A002
    """``0.5 d^2`` for ``|d| < delta``, ``delta (|d| - delta/2)`` beyond; ``weight`` scales each element."""
    _warn_size(input, target)
    a, b = _broadcast(input, target)
    if weight is None:
        reduction = _reduction(reduction)
    else:
        _check_weight(weight, input)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_floating("huber", a, b)
    if weight is None:
        return _ops.huber_loss_op(a, b, reduction=reduction, delta=float(delta))
    loss = _ops.huber_loss_op(a, b, reduction="none", delta=float(delta)) * weight
    return _reduce_weighted(loss, weight, reduction, by_weight=False)


def soft_margin_loss(input, target, size_average=None, reduce=None, reduction="mean"):  # noqa: A002
    """``log(1 + exp(-y x))``, computed without overflow (PyTorch's kernel gives inf for ``y x < -88`` in float32)."""
    reduction = _reduction(reduction, size_average, reduce)
    a, y = _broadcast(input, target)
    if not input.is_floating_point():
        raise RuntimeError(f"result type Float can't be cast to the desired output type {_type_name(input)}")
    _no_grad_for(target, "target", "soft_margin_loss")
    return _ops.soft_margin_loss_op(a, y, reduction=reduction)


# ---------------------------------------------------------------------- nll / cross entropy
def _nll_2d(input, target, weight, reduction, ignore_index):  # noqa: A002
    """nll for (C,) or (N, C) inputs."""
    if input.ndim == 1 and target.ndim == 1:
        if target.shape[0] != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.shape[0]}")
        target = target.squeeze(0)
    if target.ndim > 1:
        raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
    if not (input.ndim == 1 and target.ndim == 0) and input.shape[0] != target.shape[0]:
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)}, target: {list(target.shape)})")
    n_classes = input.shape[-1]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"weight tensor should be defined either for all {n_classes} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    _check_nll_dtypes("nll_loss_out_frame", input, target, weight)
    _no_grad_for(weight, "weight", "nll_loss_forward")
    return _ops.nll_loss_op(input, target, weight, reduction=reduction, ignore_index=int(ignore_index))


def _nll_4d(input, target, weight, reduction, ignore_index):  # noqa: A002
    """nll for (N, C, H, W) inputs and (N, H, W) targets."""
    if target.ndim != 3:
        raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{target.ndim}")
    n, _, h, w = input.shape
    if tuple(target.shape) != (n, h, w):
        raise RuntimeError(f"size mismatch (got input: {list(input.shape)} , target: {list(target.shape)}")
    if weight is not None and (weight.ndim != 1 or weight.numel() != input.shape[1]):
        raise RuntimeError("weight tensor should be defined either for all or no classes")
    _check_nll_dtypes("nll_loss2d_forward_out_frame", input, target, weight)
    _no_grad_for(weight, "weight", "nll_loss2d_forward")
    return _ops.nll_loss2d_op(input, target, weight, reduction=reduction, ignore_index=int(ignore_index))


def _check_nll_dtypes(kernel, input, target, weight):  # noqa: A002
    if target.dtype.name not in ("int64", "uint8"):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(target)}")
    if not input.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_type_name(input)}\'')
    if weight is not None and weight.dtype != input.dtype:
        raise RuntimeError(f"expected scalar type {_type_name(input)} but found {_type_name(weight)}")


def _nll_nd(input, target, weight, reduction, ignore_index):  # noqa: A002
    """nll for any input of 1 or more dims: (C,), (N, C) or (N, C, d1, ...), as PyTorch lays them out."""
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    target_batch = target.shape[0] if target.ndim else 0
    if input.ndim != 1 and input.shape[0] != target_batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target_batch}).")
    if input.ndim <= 2:
        return _nll_2d(input, target, weight, reduction, ignore_index)
    if input.ndim == 4:
        return _nll_4d(input, target, weight, reduction, ignore_index)
    # (N, C, d1) and (N, C, d1, d2, d3, ...) go through the 4-d form, as (N, C, 1, d1*d2*...)
    n, c = input.shape[:2]
    out_size = [n, *input.shape[2:]]
    if list(target.shape) != out_size:
        raise RuntimeError(f"Expected target size {out_size}, got {list(target.shape)}")
    empty = input.numel() == 0
    x = input.contiguous().view(n, c, 0, 0) if empty else input.contiguous().view(n, c, 1, -1)
    t = target.contiguous().view(n, 0, 0) if empty else target.contiguous().view(n, 1, -1)
    out = _nll_4d(x, t, weight, reduction, ignore_index)
    return out.view(out_size) if reduction == "none" else out


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
             reduction="mean"):
    """Negative log likelihood of class indices; a weighted mean divides by the counted targets' weights."""
    reduction = _reduction(reduction, size_average, reduce)
    return _nll_nd(input, target, weight, reduction, ignore_index)


def _class_weight(weight, ndim, class_dim):
    """``weight`` shaped to broadcast along the class dim of an ``ndim``-d input."""
    if ndim <= 1:
        return weight
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.view(shape)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing):  # noqa: A002
    """Cross entropy against class probabilities: ``-(log_softmax(x) * p * w).sum(class_dim)``."""
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.ndim != 1 or weight.numel() != n_classes):
        raise RuntimeError(f"cross_entropy: weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(weight.shape)}")
    logp = log_softmax(input, class_dim)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {_fmt(label_smoothing)}")
        target = target * (1 - label_smoothing) + label_smoothing / n_classes
    terms = logp * target
    if weight is not None:
        terms = terms * _class_weight(weight, input.ndim, class_dim)
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    # mean over the samples (every element but the class dim); nan for an empty input
    return -terms.sum() / (input.numel() // n_classes if n_classes else 0)


def _cross_entropy_smoothed(input, target, weight, reduction, ignore_index, label_smoothing):  # noqa: A002
    """``(1 - eps) * nll + eps / C * smooth``, smooth being the loss against the uniform distribution."""
    class_dim = 0 if input.ndim == 1 else 1
    n_classes = input.shape[class_dim]
    logp = log_softmax(input, class_dim)
    nll = _nll_nd(logp, target, weight, reduction, ignore_index)
    ignored = target == ignore_index
    if weight is not None:
        smooth = -(logp * _class_weight(weight, input.ndim, class_dim)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignored, 0.0)
    if reduction == "none":
        ret = smooth
    elif reduction == "sum":
        ret = smooth.sum()
    elif weight is not None:
        # divided by the weights of the counted targets, as nll_loss's mean is
        counted = weight[target.masked_fill(ignored, 0).long()].masked_fill(ignored, 0.0)
        ret = smooth.sum() / counted.sum()
    else:
        ret = smooth.sum() / ignored.logical_not().sum()
    return (1 - label_smoothing) * nll + ret * (label_smoothing / n_classes)


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,  # noqa: A002
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy of logits against class indices, or class probabilities when shapes match."""
    reduction = _reduction(reduction, size_average, reduce)
    if input.shape == target.shape:
        if not target.is_floating_point():
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{_type_name(target)}")
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing)
    if label_smoothing > 0.0:
        if label_smoothing > 1.0:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {_fmt(label_smoothing)}")
        return _cross_entropy_smoothed(input, target, weight, reduction, ignore_index, label_smoothing)
    return _nll_nd(log_softmax(input, 0 if input.ndim == 1 else 1), target, weight, reduction, ignore_index)


# ---------------------------------------------------------------------- binary cross entropy
def _broadcast_weight_shape(target_shape, weight_shape):
    """``broadcast_shapes(target, weight)`` with the message of PyTorch's ``torch.broadcast_shapes``."""
    from ...size import Size
    result = [1] * max(len(target_shape), len(weight_shape))
    for idx, shape in enumerate((target_shape, weight_shape)):
        for i in range(-1, -1 - len(shape), -1):
            if shape[i] == 1 or shape[i] == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(f"Attempting to broadcast a dimension of length {shape[i]} at {i}! Mismatching "
                                   f"argument at index {idx} had {Size(shape)}; but expected shape should be "
                                   f"broadcastable to {result}")
            result[i] = shape[i]
    return tuple(result)


def _fits(shape, bshape):
    if tuple(bshape) != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape {list(bshape)}")


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                         reduction="mean"):
    """``-w (y log x + (1 - y) log(1 - x))`` for probabilities ``x``, each log clamped at -100."""
    reduction = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(f"Using a target size ({target.size()}) that is different to the input size "
                         f"({input.size()}) is deprecated. Please ensure they have the same size.")
    if weight is not None:
        shape = _broadcast_weight_shape(tuple(target.shape), tuple(weight.shape))
        _fits(input.shape, shape)
        if tuple(weight.shape) != shape:
            weight = weight.expand(shape)
    if not input.is_floating_point():
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for \'{_type_name(input)}\'')
    if target.dtype != input.dtype:
        raise RuntimeError(f"Found dtype {_type_name(target)} but expected {_type_name(input)}")
    _no_grad_for(weight, "weight", "binary_cross_entropy")
    if weight is not None and weight.dtype != input.dtype:
        weight = weight.to(input.dtype)
    return _ops.binary_cross_entropy_op(input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,  # noqa: A002
                                     reduction="mean", pos_weight=None):
    """BCE of ``sigmoid(input)``, computed from the logits: finite and exact for logits of any size."""
    reduction = _reduction(reduction, size_average, reduce)
    if target.size() != input.size():
        raise ValueError(f"Target size ({target.size()}) must be the same as input size ({input.size()})")
    if not input.is_floating_point():
        raise NotImplementedError(f'"log_sigmoid_{input.device.type}" not implemented for \'{_type_name(input)}\'')
    if not target.is_floating_point():
        raise RuntimeError(f"result type {_type_name(input)} can't be cast to the desired output type "
                           f"{_type_name(target)}")
    shape = tuple(input.shape)
    if pos_weight is not None:
        _fits(shape, broadcast_shapes(tuple(pos_weight.shape), tuple(target.shape)))
    if weight is not None:
        _fits(shape, broadcast_shapes(shape, tuple(weight.shape)))
    _no_grad_for(weight, "weight", "binary_cross_entropy_with_logits")
    _no_grad_for(pos_weight, "pos_weight", "binary_cross_entropy_with_logits")
    # the loss takes the target's dtype, as PyTorch's (which accumulates into a copy of the target)
    dtype = target.dtype
    if input.dtype != dtype:
        input = input.to(dtype)  # noqa: A001
    if weight is not None and weight.dtype != dtype:
        weight = weight.to(dtype)
    if pos_weight is not None and pos_weight.dtype != dtype:
        pos_weight = pos_weight.to(dtype)
    return _ops.binary_cross_entropy_with_logits_op(input, target, weight, pos_weight, reduction=reduction)


# ---------------------------------------------------------------------- kl divergence
def _xlogx(t):
    """``t * log(t)``, 0 where ``t`` is 0 (PyTorch's ``xlogy(t, t)``)."""
    return (t * t.log()).masked_fill(t == 0, 0.0)


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):  # noqa: A002
    """KL divergence of ``target`` from log-probabilities ``input``; 'batchmean' divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        enum = _reduction(reduction, size_average, reduce)
    else:
        if reduction == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                          "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                          UserWarning, stacklevel=2)
        enum = "sum" if reduction == "batchmean" else _reduction(reduction)
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if log_target:
        out = target.exp() * (target - input)
    else:
        out = _xlogx(target) - target * input
    reduced = _reduce(out, enum)
    if reduction == "batchmean" and input.ndim != 0:
        reduced = reduced / input.shape[0]
    return reduced
