"""``focal_loss``: cross entropy scaled down where the model is already confident.

    FL = -alpha[t] * (1 - p_t) ** gamma * log(p_t),   p_t = softmax(x)[t]

Written with bibun ops only (log_softmax, gather, expm1, pow, ...), so autograd,
double backward and every backend come for free; nothing here needs a kernel.
"""

from __future__ import annotations

import numbers

import bibun
import bibun.nn.functional as F

__all__ = ["focal_loss"]

_REDUCTIONS = ("none", "mean", "sum")
_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char", "uint8": "Byte",
               "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}


def focal_loss(input, target, gamma=2.0, alpha=None, reduction="mean", ignore_index=-100):  # noqa: A002
    """Focal loss of logits ``input`` against class indices ``target``.

    Shapes as ``cross_entropy``: ``input`` (C,), (N, C) or (N, C, d1, ...) and ``target`` (), (N,)
    or (N, d1, ...). ``alpha``: optional per-class weights (C,). Targets equal to ``ignore_index``
    add nothing. ``reduction="mean"`` divides by the summed weights of the counted targets, so with
    ``gamma=0`` the result is ``cross_entropy(input, target, weight=alpha, ...)`` exactly.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if isinstance(gamma, bool) or not isinstance(gamma, numbers.Real) or gamma < 0:
        raise ValueError(f"focal_loss: gamma must be a non-negative number, got {gamma!r}")
    class_dim, n_classes = _check_shapes(input, target)
    alpha = _check_alpha(alpha, input, n_classes)

    valid = target != ignore_index
    t = target.long().masked_fill(~valid, 0)  # ignored entries read class 0, then weigh 0
    bad = valid & ((t < 0) | (t >= n_classes))
    if bool(bad.any()):
        raise IndexError(f"Target {int(target[bad].reshape(-1)[0])} is out of bounds.")

    log_p = F.log_softmax(input, dim=class_dim)
    log_pt = log_p.gather(class_dim, t.unsqueeze(class_dim)).squeeze(class_dim)
    loss = -log_pt
    if gamma != 0:
        # 1 - p_t as -expm1(log p_t): no cancellation when p_t is small
        loss = loss * (-log_pt.expm1()).pow(float(gamma))
    weight = valid.to(input.dtype)
    if alpha is not None:
        weight = weight * alpha.index_select(0, t.reshape(-1)).reshape(t.shape)
    loss = loss * weight
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / weight.sum()


def _check_shapes(input, target):  # noqa: A002
    if not isinstance(input, bibun.Tensor) or not isinstance(target, bibun.Tensor):
        raise TypeError("focal_loss(): input and target must be Tensors")
    if not input.is_floating_point():
        raise NotImplementedError(f"focal_loss(): expected floating point logits, got {_type_name(input)}")
    if target.dtype not in (bibun.int64, bibun.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_type_name(target)}")
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})")
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"Expected target size [], got {list(target.shape)}")
        return 0, input.shape[0]
    batch = target.shape[0] if target.ndim else 0
    if input.shape[0] != batch:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({batch}).")
    expected = [input.shape[0], *input.shape[2:]]
    if list(target.shape) != expected:
        raise RuntimeError(f"Expected target size {expected}, got {list(target.shape)}")
    return 1, input.shape[1]


def _check_alpha(alpha, input, n_classes):  # noqa: A002
    if alpha is None:
        return None
    if not isinstance(alpha, bibun.Tensor):
        alpha = bibun.tensor(alpha, dtype=input.dtype, device=input.device)
    if alpha.ndim != 1 or alpha.shape[0] != n_classes:
        raise RuntimeError(f"focal_loss: alpha should be defined either for all {n_classes} classes or no classes "
                           f"but got alpha tensor of shape: {list(alpha.shape)}")
    return alpha.to(input.dtype)


def _type_name(t):
    return _TYPE_NAMES.get(t.dtype.name, t.dtype.name)
