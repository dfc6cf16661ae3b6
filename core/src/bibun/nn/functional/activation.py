"""Activation functions with PyTorch's signatures (``inplace=`` where PyTorch has it)."""

from __future__ import annotations

import warnings

from ...ops import activation as _act

__all__ = ["relu", "relu_", "relu6", "leaky_relu", "leaky_relu_", "hardtanh", "hardtanh_", "gelu", "elu", "elu_",
           "selu", "selu_", "celu", "celu_", "silu", "mish", "softplus", "logsigmoid", "hardsigmoid", "hardswish",
           "threshold", "threshold_", "prelu", "sigmoid", "tanh", "softmax", "log_softmax", "softmin", "softsign",
           "tanhshrink", "glu"]

# these take PyTorch's arguments as they are
celu, elu, gelu, hardsigmoid, hardswish, hardtanh = _act.celu, _act.elu, _act.gelu, _act.hardsigmoid, _act.hardswish, \
    _act.hardtanh
leaky_relu, logsigmoid, mish, prelu, relu6, selu = _act.leaky_relu, _act.logsigmoid, _act.mish, _act.prelu, \
    _act.relu6, _act.selu
silu, softplus, threshold = _act.silu, _act.softplus, _act.threshold


def relu(input, inplace=False):  # noqa: A002
    """max(x, 0)."""
    return input.relu_() if inplace else _act.relu(input)


def relu_(input):  # noqa: A002
    return input.relu_()


def leaky_relu_(input, negative_slope=0.01):  # noqa: A002
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):  # noqa: A002
    return hardtanh(input, min_val, max_val, inplace=True)


def elu_(input, alpha=1.0):  # noqa: A002
    return elu(input, alpha, inplace=True)


def selu_(input):  # noqa: A002
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):  # noqa: A002
    return celu(input, alpha, inplace=True)


def threshold_(input, threshold, value):  # noqa: A002
    return _act.threshold(input, threshold, value, inplace=True)


def sigmoid(input):  # noqa: A002
    return _act.sigmoid(input)


def tanh(input):  # noqa: A002
    return _act.tanh(input)


def _implicit_dim(name, ndim, stacklevel):
    """PyTorch's deprecated default dim, with its warning pointed at the caller ``stacklevel`` frames up."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X as an "
                  "argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """exp(x) / sum(exp(x)) along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmax", input.ndim, _stacklevel)
    return _act.softmax(input, dim, dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """log(softmax(x)) along ``dim``, computed stably."""
    if dim is None:
        dim = _implicit_dim("log_softmax", input.ndim, _stacklevel)
    return _act.log_softmax(input, dim, dtype)


def softmin(input, dim=None, _stacklevel=3, dtype=None):  # noqa: A002
    """softmax(-x) along ``dim``."""
    if dim is None:
        dim = _implicit_dim("softmin", input.ndim, _stacklevel)
    return _act.softmax(-input, dim, dtype)


def softsign(input):  # noqa: A002
    """x / (1 + |x|)."""
    return input / (input.abs() + 1)


def tanhshrink(input):  # noqa: A002
    """x - tanh(x)."""
    return input - input.tanh()


def glu(input, dim=-1):  # noqa: A002
    """a * sigmoid(b), where a and b are the two halves of ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    from ...ops._util import canonical_dim
    d = canonical_dim(dim, input.ndim)
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.split(n // 2, d)
    return a * b.sigmoid()
