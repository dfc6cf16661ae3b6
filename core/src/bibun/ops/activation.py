"""Activations: relu sigmoid tanh softmax log_softmax, and the nn activations (gelu, elu, silu, ...).

Kernels follow PyTorch's formulas (and their branch conditions at the kinks) so values and
gradients agree with it; backward formulas are written in bibun ops, so they differentiate
again. Ops whose in-place form PyTorch records differently (``LeakyReluBackward1``, ...)
have an ``*_inplace`` twin that saves the result instead of the input.
"""

from __future__ import annotations

import struct
import warnings

from .. import dtypes as _dtypes
from ..dispatch.dispatcher import check_inplace_allowed, write_into
from ..dispatch.opdef import OpDef
from ._util import canonical_dim

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "leaky_relu", "hardtanh", "relu6", "gelu", "elu",
           "selu", "celu", "silu", "mish", "softplus", "logsigmoid", "hardsigmoid", "hardswish", "threshold",
           "prelu", "erf_kernel"]

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


_TYPE_NAME = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def softmax(input, dim=None, dtype=None):  # noqa: A002
    """Softmax along ``dim``, computed as exp(x - max) so large inputs never overflow."""
    x, d = _prepare("softmax", input, dim, dtype)
    return softmax_op(x, dim=d)


def log_softmax(input, dim=None, dtype=None):  # noqa: A002
    """log(softmax(x)) as x - max - log(sum(exp(x - max))): finite even for logits of 1000."""
    x, d = _prepare("log_softmax", input, dim, dtype)
    return log_softmax_op(x, dim=d)


# ====================================================================== the nn activations
def _check_float(x, kernel):
    """PyTorch's error for an integer or bool input to a floating-only activation kernel."""
    if not x.is_floating_point():
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_TYPE_NAME[x.dtype.name]}\'')


def _apply(op, input, inplace, inplace_name, inplace_op=None, **attrs):  # noqa: A002
    """``op(input, **attrs)``; with ``inplace``, the result of ``inplace_op`` (default ``op``) written into ``input``.

    PyTorch's in-place checks run before the op, so a refused in-place call writes nothing.
    """
    if not inplace:
        return op(input, **attrs)
    check_inplace_allowed(input, inplace_name)
    write_into(input, (inplace_op or op)(input, **attrs), inplace_name)
    return input


def _where(cond, a, b):
    from .arithmetic import where
    return where(cond, a, b)


# ---------------------------------------------------------------------- leaky_relu
leaky_relu_op = OpDef("leaky_relu", type_rule="none", save=("self",))
# the in-place form saves its result (its input is overwritten), as PyTorch's LeakyReluBackward1 does
leaky_relu_inplace_op = OpDef("leaky_relu_inplace", type_rule="none", save=("result",),
                              node_name="LeakyReluBackward1")


def _leaky_relu_kernel(xp, a, negative_slope):
    return xp.where(a > 0, a, a * negative_slope)


leaky_relu_op.impl(_leaky_relu_kernel)
leaky_relu_inplace_op.impl(_leaky_relu_kernel)


@leaky_relu_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return _where(x > 0, grad, grad * ctx.negative_slope)


@leaky_relu_inplace_op.backward
def _(ctx, grad):
    if ctx.negative_slope < 0:
        raise RuntimeError(
            "In-place leakyReLu backward calculation is triggered with a negative slope which is not supported. "
            "This is caused by calling in-place forward function with a negative slope, please call out-of-place "
            "version instead. File an issue at https://github.com/pytorch/pytorch if you do require supporting "
            "in-place leakRelu backward calculation with negative slope")
    (y,) = ctx.saved_tensors  # y > 0 exactly where the input was > 0
    return _where(y > 0, grad, grad * ctx.negative_slope)


def leaky_relu(input, negative_slope=0.01, inplace=False):  # noqa: A002
    """x where x > 0, else ``negative_slope * x``."""
    _check_float(input, "leaky_relu_cpu")
    return _apply(leaky_relu_op, input, inplace, "leaky_relu_", leaky_relu_inplace_op, negative_slope=negative_slope)


# ---------------------------------------------------------------------- hardtanh, relu6
hardtanh_op = OpDef("hardtanh", type_rule="none", save=("self",))


@hardtanh_op.impl
def _(xp, a, min_val, max_val):
    return xp.minimum(xp.maximum(a, min_val), max_val)


@hardtanh_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return _where((x <= ctx.min_val) | (x >= ctx.max_val), 0.0, grad)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):  # noqa: A002
    """``input`` clamped to [min_val, max_val]; the gradient is zero at and beyond the bounds."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if not input.is_floating_point():  # integer input keeps its dtype: integer bounds
        min_val, max_val = int(min_val), int(max_val)
    return _apply(hardtanh_op, input, inplace, "hardtanh_", min_val=min_val, max_val=max_val)


def relu6(input, inplace=False):  # noqa: A002
    """min(max(0, x), 6): ``hardtanh(x, 0, 6)``, recorded as a ``HardtanhBackward0`` node."""
    return hardtanh(input, 0.0, 6.0, inplace)


# ---------------------------------------------------------------------- gelu
_SQRT1_2 = 0.7071067811865476        # 1 / sqrt(2)
_INV_SQRT_2PI = 0.3989422804014327   # 1 / sqrt(2 pi): the standard normal density at 0
_TANH_BETA = 0.7978845608028654      # sqrt(2 / pi)
_TANH_KAPPA = 0.044715

gelu_op = OpDef("gelu", type_rule="none", save=("self",))
# the gradient is an op of its own, so its derivative (for double backward) needs no erf op in bibun
gelu_backward_op = OpDef("gelu_backward", inputs=("grad_output", "self"), type_rule="none",
                         save=("grad_output", "self"))


@gelu_op.impl
def _(xp, a, approximate):
    if approximate == "tanh":
        inner = _TANH_BETA * (a + _TANH_KAPPA * (a * a * a))
        return 0.5 * a * (1 + xp.tanh(inner))
    return a * 0.5 * (1 + erf_kernel(xp, a * _SQRT1_2))


@gelu_backward_op.impl
def _(xp, g, a, approximate):
    if approximate == "tanh":
        a2 = a * a
        t = xp.tanh(_TANH_BETA * (a + _TANH_KAPPA * (a2 * a)))
        return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * (_TANH_BETA * (1 + 3 * _TANH_KAPPA * a2)))
    cdf = 0.5 * (1 + erf_kernel(xp, a * _SQRT1_2))
    pdf = _INV_SQRT_2PI * xp.exp(-0.5 * (a * a))
    return g * (cdf + a * pdf)


@gelu_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return gelu_backward_op(grad, x, approximate=ctx.approximate)


def _gelu_second_derivative(x, approximate):
    if approximate == "tanh":
        x2 = x * x
        t = (_TANH_BETA * (x + _TANH_KAPPA * (x2 * x))).tanh()
        du = _TANH_BETA * (1 + 3 * _TANH_KAPPA * x2)
        d2u = (6 * _TANH_BETA * _TANH_KAPPA) * x
        return (1 - t * t) * (du + 0.5 * x * (d2u - 2 * t * du * du))
    # d/dx [Phi(x) + x phi(x)] = phi(x) (2 - x^2)
    return (x * x * -0.5).exp() * _INV_SQRT_2PI * (2 - x * x)


@gelu_backward_op.backward
def _(ctx, grad):
    g, x = ctx.saved_tensors
    need_g, need_x = ctx.needs_input_grad
    # linear in the incoming gradient: its derivative along it is the same op
    dg = gelu_backward_op(grad, x, approximate=ctx.approximate) if need_g else None
    dx = grad * g * _gelu_second_derivative(x, ctx.approximate) if need_x else None
    return dg, dx


def gelu(input, approximate="none"):  # noqa: A002
    """x * Phi(x) (Phi the standard normal CDF), or its tanh approximation with ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    _check_float(input, "GeluKernelImpl")
    return gelu_op(input, approximate=approximate)


# ---------------------------------------------------------------------- elu, selu, celu
# y = scale * x for x > 0, scale * alpha * (exp(input_scale * x) - 1) otherwise; selu and celu are elus
elu_op = OpDef("elu", type_rule="none", save=("self",))
elu_inplace_op = OpDef("elu_inplace", type_rule="none", save=("result",), node_name="EluBackward1")
celu_op = OpDef("celu", type_rule="none", save=("self",))
celu_inplace_op = OpDef("celu_inplace", type_rule="none", save=("result",), node_name="CeluBackward1")

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _elu_kernel(xp, a, alpha, scale, input_scale):
    negative = xp.expm1(xp.minimum(a, 0) * input_scale) * (alpha * scale)
    return xp.where(a > 0, a * scale, negative)


def _float32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


def _elu_backward(from_result, celu):
    """The formula for one of the four elu nodes: from the saved input, or (in-place forms) the saved result."""

    def formula(ctx, grad):
        alpha, scale = ctx.alpha, ctx.scale
        # PyTorch's CELU gradient takes 1 / alpha with alpha rounded to float32 (about 1e-8 off in
        # float64); done the same way so gradients print the same numbers
        input_scale = 1.0 / _float32(alpha) if celu else ctx.input_scale
        (saved,) = ctx.saved_tensors
        if not from_result:
            # clamp: exp of the positive side would overflow in a branch that is never taken
            negative = grad * (saved.clamp(max=0) * input_scale).exp() * (input_scale * alpha * scale)
            return _where(saved > 0, grad * scale, negative)
        if alpha < 0:
            raise RuntimeError(
                "In-place elu backward calculation is triggered with a negative slope which is not supported. This "
                "is caused by calling in-place forward function with a negative slope, please call out-of-place "
                "version instead.")
        # the result is > 0 exactly where the input was (alpha >= 0)
        return _where(saved > 0, grad * scale, grad * input_scale * (saved + alpha * scale))

    return formula


for _op in (elu_op, elu_inplace_op, celu_op, celu_inplace_op):
    _op.impl(_elu_kernel)
elu_op.backward(_elu_backward(from_result=False, celu=False))
elu_inplace_op.backward(_elu_backward(from_result=True, celu=False))
celu_op.backward(_elu_backward(from_result=False, celu=True))
celu_inplace_op.backward(_elu_backward(from_result=True, celu=True))


def _elu_family(op, inplace_op, name, input, alpha, scale, input_scale, inplace):  # noqa: A002
    _check_float(input, "elu_cpu")
    return _apply(op, input, inplace, name, inplace_op, alpha=alpha, scale=scale, input_scale=input_scale)


def elu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _elu_family(elu_op, elu_inplace_op, "elu_", input, alpha, 1.0, 1.0, inplace)


def selu(input, inplace=False):  # noqa: A002
    """scale * elu(x, alpha) with the self-normalizing constants; an ``EluBackward0`` node, as in PyTorch."""
    return _elu_family(elu_op, elu_inplace_op, "selu_", input, _SELU_ALPHA, _SELU_SCALE, 1.0, inplace)


def celu(input, alpha=1.0, inplace=False):  # noqa: A002
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise."""
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _elu_family(celu_op, celu_inplace_op, "celu_", input, alpha, 1.0, 1.0 / alpha, inplace)


# ---------------------------------------------------------------------- silu, mish, softplus, logsigmoid
silu_op = OpDef("silu", type_rule="none", save=("self",))


@silu_op.impl
def _(xp, a):
    return a / (1 + xp.exp(-a))


@silu_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    s = sigmoid_op(x)
    return grad * s * (1 + x * (1 - s))


def silu(input, inplace=False):  # noqa: A002
    """x * sigmoid(x)."""
    _check_float(input, "silu_cpu")
    return _apply(silu_op, input, inplace, "silu_")


softplus_op = OpDef("softplus", type_rule="none", save=("self",))


@softplus_op.impl
def _(xp, a, beta, threshold):
    z = a * beta
    # above the threshold the result is x itself; min() keeps exp from overflowing in the unused branch
    return xp.where(z > threshold, a, xp.log1p(xp.exp(xp.minimum(z, threshold))) / beta)


@softplus_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    z = x * ctx.beta
    return _where(z > ctx.threshold, grad, grad * sigmoid_op(z))


def softplus(input, beta=1.0, threshold=20.0):  # noqa: A002
    """log(1 + exp(beta * x)) / beta, and x itself where beta * x > threshold."""
    _check_float(input, "softplus_cpu")
    return softplus_op(input, beta=beta, threshold=threshold)


mish_op = OpDef("mish", type_rule="none", save=("self",))


@mish_op.impl
def _(xp, a):
    return a * xp.tanh(xp.log1p(xp.exp(a)))


@mish_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    t = tanh_op(softplus_op(x, beta=1.0, threshold=20.0))
    return grad * (t + x * sigmoid_op(x) * (1 - t * t))


def mish(input, inplace=False):  # noqa: A002
    """x * tanh(softplus(x))."""
    _check_float(input, "mish_cpu")
    return _apply(mish_op, input, inplace, "mish_")


log_sigmoid_op = OpDef("log_sigmoid", type_rule="none", save=("self",))


@log_sigmoid_op.impl
def _(xp, a):
    # min(x, 0) - log(1 + exp(-|x|)): exp of a non-positive number only
    return xp.minimum(a, 0) - xp.log1p(xp.exp(-xp.abs(a)))


@log_sigmoid_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return grad * sigmoid_op(-x)


def logsigmoid(input):  # noqa: A002
    """log(sigmoid(x)), finite for any x."""
    _check_float(input, "log_sigmoid_cpu")
    return log_sigmoid_op(input)


# ---------------------------------------------------------------------- hardsigmoid, hardswish
hardsigmoid_op = OpDef("hardsigmoid", type_rule="none", save=("self",))
_ONE_SIXTH_F32 = 0.1666666716337204  # PyTorch's gradient uses 1/6 rounded to float32, in every dtype


@hardsigmoid_op.impl
def _(xp, a):
    return xp.minimum(xp.maximum(a + 3, 0), 6) / 6


@hardsigmoid_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return _where((x > -3) & (x < 3), grad * _ONE_SIXTH_F32, 0.0)


def hardsigmoid(input, inplace=False):  # noqa: A002
    """relu6(x + 3) / 6."""
    _check_float(input, "hardsigmoid_cpu")
    return _apply(hardsigmoid_op, input, inplace, "hardsigmoid_")


hardswish_op = OpDef("hardswish", type_rule="none", save=("self",))


@hardswish_op.impl
def _(xp, a):
    return a * xp.minimum(xp.maximum(a + 3, 0), 6) / 6


@hardswish_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return _where(x < -3, 0.0, _where(x <= 3, grad * (x / 3 + 0.5), grad))


def hardswish(input, inplace=False):  # noqa: A002
    """x * relu6(x + 3) / 6."""
    _check_float(input, "hardswish_cpu")
    return _apply(hardswish_op, input, inplace, "hardswish_")


# ---------------------------------------------------------------------- threshold
threshold_op = OpDef("threshold", type_rule="none", save=("self",))


@threshold_op.impl
def _(xp, a, threshold, value):
    if isinstance(threshold, float) and not xp.isdtype(a.dtype, "real floating"):
        above = xp.astype(a, xp.float64) > threshold  # the standard compares integers with integers only
    else:
        above = a > threshold
    return xp.where(above, a, xp.asarray(value, dtype=a.dtype))


@threshold_op.backward
def _(ctx, grad):
    (x,) = ctx.saved_tensors
    return threshold_backward(grad, x, threshold=ctx.threshold)


def threshold(input, threshold, value, inplace=False):  # noqa: A002
    """x where x > threshold, else ``value``."""
    return _apply(threshold_op, input, inplace, "threshold_", threshold=threshold, value=value)


# ---------------------------------------------------------------------- prelu
prelu_op = OpDef("prelu", inputs=("self", "weight"), type_rule="none", save=("self", "weight"),
                 node_name="PreluKernelBackward0")


@prelu_op.impl
def _(xp, a, w):
    return xp.where(a > 0, a, w * a)


@prelu_op.backward
def _(ctx, grad):
    x, w = ctx.saved_tensors
    need_x, need_w = ctx.needs_input_grad
    positive = x > 0
    dx = _where(positive, grad, grad * w) if need_x else None
    dw = _where(positive, 0.0, grad * x).sum_to_size(ctx.input_shape(1)) if need_w else None
    return dx, dw


def prelu(input, weight):  # noqa: A002
    """x where x > 0, else weight * x, with one weight per channel (dim 1) or one for all."""
    n = weight.numel()
    channels = input.shape[1] if input.ndim > 1 else 1
    if n != 1 and n != channels:
        raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = {n} "
                           f"and channel size = {channels}.")
    if n == 1 or input.ndim < 2:
        w = weight.reshape(())
    else:
        w = weight.reshape((channels,) + (1,) * (input.ndim - 2))
    return prelu_op(input, w)


# ---------------------------------------------------------------------- erf, for gelu's kernels
# erf from the array namespace's elementwise functions only (numpy has no erf), within about an
# ulp of float64 everywhere. Rational approximations on [0, 0.84375), [0.84375, 1.25) and, for
# erfc, [1.25, 2.857) and [2.857, 6), with the coefficients of the freely distributable fdlibm
# s_erf.c (Copyright (C) 1993 Sun Microsystems, Inc.), which most C libraries' erf uses.
_ERF_SMALL_P = (1.28379167095512558561e-01, -3.25042107247001499370e-01, -2.84817495755985104766e-02,
                -5.77027029648944159157e-03, -2.37630166566501626084e-05)
_ERF_SMALL_Q = (1.0, 3.97917223959155352819e-01, 6.50222499887672944485e-02, 5.08130628187576562776e-03,
                1.32494738004321644526e-04, -3.96022827877536812320e-06)
_ERF_ONE = 8.45062911510467529297e-01  # erf(1) rounded to float32
_ERF_MID_P = (-2.36211856075265944077e-03, 4.14856118683748331666e-01, -3.72207876035701323847e-01,
              3.18346619901161753674e-01, -1.10894694282396677476e-01, 3.54783043256182359371e-02,
              -2.16637559486879084300e-03)
_ERF_MID_Q = (1.0, 1.06420880400844228286e-01, 5.40397917702171048937e-01, 7.18286544141962662868e-02,
              1.26171219808761642112e-01, 1.36370839120290507362e-02, 1.19844998467991074170e-02)
_ERFC_A_R = (-9.86494403484714822705e-03, -6.93858572707181764372e-01, -1.05586262253232909814e+01,
             -6.23753324503260060396e+01, -1.62396669462573470355e+02, -1.84605092906711035994e+02,
             -8.12874355063065934246e+01, -9.81432934416914548592e+00)
_ERFC_A_S = (1.0, 1.96512716674392571292e+01, 1.37657754143519042600e+02, 4.34565877475229228821e+02,
             6.45387271733267880336e+02, 4.29008140027567833386e+02, 1.08635005541779435134e+02,
             6.57024977031928170135e+00, -6.04244152148580987438e-02)
_ERFC_B_R = (-9.86494292470009928597e-03, -7.99283237680523006574e-01, -1.77579549177547519889e+01,
             -1.60636384855821916062e+02, -6.37566443368389627722e+02, -1.02509513161107724954e+03,
             -4.83519191608651397019e+02)
_ERFC_B_S = (1.0, 3.03380607434824582924e+01, 3.25792512996573918826e+02, 1.53672958608443695994e+03,
             3.19985821950859553908e+03, 2.55305040643316442583e+03, 4.74528541206955367215e+02,
             -2.24409524465858183362e+01)
_ERFC_SPLIT = 2.8571434020996094  # about 1 / 0.35: where the two erfc approximations meet


def _poly(coefficients, z):
    """c0 + c1 z + c2 z^2 + ..., by Horner's rule."""
    out = coefficients[-1] * z
    for c in coefficients[-2:0:-1]:
        out += c
        out *= z
    out += coefficients[0]
    return out


def _erf_small(a):
    # |x| < 0.84375: erf(x) = x + x * P(x^2) / Q(x^2)
    z = a * a
    return a + a * (_poly(_ERF_SMALL_P, z) / _poly(_ERF_SMALL_Q, z))


def _erf_mid(t):
    # 0.84375 <= |x| < 1.25: erf(|x|) = erf(1) + P(s) / Q(s), s = |x| - 1
    s = t - 1
    return _ERF_ONE + _poly(_ERF_MID_P, s) / _poly(_ERF_MID_Q, s)


def _erf_tail(xp, t, r_coefficients, s_coefficients):
    # 1.25 <= |x| < 6: erfc(|x|) = exp(-x^2 - 0.5625 + R(1/x^2) / S(1/x^2)) / |x|
    w = 1 / (t * t)
    ratio = _poly(r_coefficients, w) / _poly(s_coefficients, w)
    # exp(-t^2) as exp(-h^2) * exp((h - t)(h + t)), h = t to 21 bits: h^2 is exact, so -t^2 loses nothing
    h = xp.floor(t * 262144.0) / 262144.0
    return 1 - xp.exp(-h * h - 0.5625) * xp.exp((h - t) * (h + t) + ratio) / t


def erf_kernel(xp, x):
    """erf(x) elementwise, computed in float64 and returned in ``x``'s dtype.

    Each element is evaluated only by the approximation for its range (boolean-mask
    gathers), which costs a few passes but saves most of the arithmetic.
    """
    dtype, shape = x.dtype, x.shape
    a = xp.reshape(x if dtype == xp.float64 else xp.astype(x, xp.float64), (-1,))  # 1-d, so masks can assign
    ax = xp.abs(a)
    out = xp.ones_like(a)  # |x| >= 6 (and inf): erf is +-1 to double precision
    small = ~(ax >= 0.84375)  # NaN included: its approximation returns it unchanged
    mid = (ax < 1.25) & ~small
    first = (ax < _ERFC_SPLIT) & ~(small | mid)
    second = (ax < 6) & ~(small | mid | first)
    if bool(xp.any(mid)):
        out[mid] = _erf_mid(ax[mid])
    if bool(xp.any(first)):
        out[first] = _erf_tail(xp, ax[first], _ERFC_A_R, _ERFC_A_S)
    if bool(xp.any(second)):
        out[second] = _erf_tail(xp, ax[second], _ERFC_B_R, _ERFC_B_S)
    out = xp.copysign(out, a)
    out[small] = _erf_small(a[small])
    out = xp.reshape(out, shape)
    return out if dtype == xp.float64 else xp.astype(out, dtype)


OPS = [threshold_backward, relu_op, sigmoid_op, tanh_op, softmax_op, log_softmax_op,
       leaky_relu_op, leaky_relu_inplace_op, hardtanh_op, gelu_op, gelu_backward_op, elu_op, elu_inplace_op,
       celu_op, celu_inplace_op, silu_op, softplus_op, mish_op, log_sigmoid_op, hardsigmoid_op, hardswish_op,
       threshold_op, prelu_op]
