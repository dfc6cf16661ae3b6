"""Activations: relu sigmoid tanh softmax log_softmax, in numerically stable forms."""

from __future__ import annotations

import warnings

from ..dispatch.opdef import OpDef
from ._util import canonical_dim

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax"]

relu_op = OpDef("relu", type_rule="none", save=("result",))


@relu_op.impl
def _(xp, a):
    return xp.maximum(a, xp.zeros((), dtype=a.dtype))


@relu_op.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return threshold_backward(grad, result, threshold=0)


# PyTorch's threshold_backward: grad where self > threshold, else 0 (NaN self keeps grad).
# Its own op so a backend can make it fast: the numpy backend masks bits instead of np.where.
threshold_backward = OpDef("threshold_backward", inputs=("grad", "self"), differentiable=("grad",),
                           type_rule="none", save=("self",), node_name="ThresholdBackwardBackward0")


@threshold_backward.impl
def _(xp, grad, a, threshold):
    return xp.where(a <= threshold, xp.zeros((), dtype=grad.dtype), grad)


@threshold_backward.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return threshold_backward(grad, a, threshold=ctx.threshold)


sigmoid_op = OpDef("sigmoid", type_rule="float", save=("result",))


@sigmoid_op.impl
def _(xp, a):
    # exp of a non-positive number only: never overflows
    e = xp.exp(-xp.abs(a))
    one = xp.ones((), dtype=a.dtype)
    return xp.where(a >= 0, one / (one + e), e / (one + e))


@sigmoid_op.backward
def _(ctx, grad):
    (y,) = ctx.saved_tensors
    return grad * (1 - y) * y


tanh_op = OpDef("tanh", type_rule="float", save=("result",))


@tanh_op.impl
def _(xp, a):
    return xp.tanh(a)


@tanh_op.backward
def _(ctx, grad):
    (y,) = ctx.saved_tensors
    return grad * (1 - y * y)


softmax_op = OpDef("softmax", type_rule="float", save=("result",), node_name="SoftmaxBackward0")


@softmax_op.impl
def _(xp, a, dim):
    # as PyTorch's kernel: no special case for an infinite max, so all -inf (or any +inf) gives nan
    if a.size == 0:
        return xp.asarray(a, copy=True)
    e = xp.exp(a - xp.max(a, axis=dim, keepdims=True))
    return e / xp.sum(e, axis=dim, keepdims=True)


@softmax_op.backward
def _(ctx, grad):
    (y,) = ctx.saved_tensors
    return y * (grad - (grad * y).sum(ctx.dim, keepdim=True))


log_softmax_op = OpDef("log_softmax", type_rule="float", save=("result",), node_name="LogSoftmaxBackward0")


@log_softmax_op.impl
def _(xp, a, dim):
    if a.size == 0:
        return xp.asarray(a, copy=True)
    shifted = a - xp.max(a, axis=dim, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=dim, keepdims=True))


@log_softmax_op.backward
def _(ctx, grad):
    (y,) = ctx.saved_tensors
    return grad - y.exp() * grad.sum(ctx.dim, keepdim=True)


def relu(input):  # noqa: A002
    return relu_op(input)


def sigmoid(input):  # noqa: A002
    return sigmoid_op(input)


def tanh(input):  # noqa: A002
    return tanh_op(input)


def _softmax_dim(name, ndim, dim):
    if dim is None:
        warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                      "as an argument.", UserWarning, stacklevel=4)
        dim = 0 if ndim in (0, 1, 3) else 1
    return canonical_dim(dim, ndim)  # a 0-dim tensor takes dim 0 or -1


def _prepare(name, input, dim, dtype):  # noqa: A002
    x = input if dtype is None else input.to(dtype)
    d = _softmax_dim(name, x.ndim, dim)
    if not x.is_floating_point():
        kernel = f"{name}_lastdim_kernel_impl" if d == max(x.ndim - 1, 0) else f"{name}_kernel_impl"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAME[x.dtype.name]}\'')
    return x, d


_TYPE_NAME = {"int8": "Char", "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long", "bool": "Bool"}


def softmax(input, dim=None, dtype=None):  # noqa: A002
    """Softmax along ``dim``, computed as exp(x - max) so large inputs never overflow."""
    x, d = _prepare("softmax", input, dim, dtype)
    return softmax_op(x, dim=d)


def log_softmax(input, dim=None, dtype=None):  # noqa: A002
    """log(softmax(x)) as x - max - log(sum(exp(x - max))): finite even for logits of 1000."""
    x, d = _prepare("log_softmax", input, dim, dtype)
    return log_softmax_op(x, dim=d)


OPS = [threshold_backward, relu_op, sigmoid_op, tanh_op, softmax_op, log_softmax_op]
