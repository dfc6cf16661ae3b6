"""Elementwise math of one tensor: exp log log1p sqrt rsqrt abs sign sin cos tan reciprocal ...

Integer inputs compute in the default float dtype (``float`` type rule), as in PyTorch.
"""

from __future__ import annotations

from ..dispatch.opdef import OpDef
from ..factories import zeros_like

__all__ = ["exp", "log", "log1p", "sqrt", "rsqrt", "abs_", "sign", "sin", "cos", "tan", "reciprocal",
           "floor", "ceil", "round_", "trunc", "expm1", "log2", "log10", "square", "isnan", "isinf",
           "isfinite"]


def _unary(name, fn_name, save=(), rule="float", node=None):
    op = OpDef(name, type_rule=rule, save=save, node_name=node)

    def kernel(xp, a):
        return getattr(xp, fn_name)(a)

    kernel.__name__ = f"{name}_kernel"
    op.impl(kernel)
    return op


exp = _unary("exp", "exp", save=("result",))


@exp.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return grad * result


expm1 = _unary("expm1", "expm1", save=("result",))


@expm1.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return grad * (result + 1)


log = _unary("log", "log", save=("self",))


@log.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad.div(a)


log2 = _unary("log2", "log2", save=("self",))


@log2.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad / (a * 0.6931471805599453)


log10 = _unary("log10", "log10", save=("self",))


@log10.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad / (a * 2.302585092994046)


log1p = _unary("log1p", "log1p", save=("self",), node="Log1PBackward0")


@log1p.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad / (a + 1)


sqrt = _unary("sqrt", "sqrt", save=("result",))


@sqrt.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return grad / (2 * result)


rsqrt = OpDef("rsqrt", type_rule="float", save=("result",))


@rsqrt.impl
def _(xp, a):
    return xp.divide(1, xp.sqrt(a))


@rsqrt.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return -0.5 * grad * result.pow(3)


abs_ = _unary("abs", "abs", save=("self",), rule="none")


@abs_.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad * a.sign()


sign = OpDef("sign", type_rule="none")


@sign.impl
def _(xp, a):
    if a.dtype == xp.bool:
        return xp.asarray(a, copy=True)
    return xp.where(xp.isnan(a), xp.zeros((), dtype=a.dtype), xp.sign(a))  # PyTorch: sign(nan) = 0


@sign.backward
def _(ctx, grad):
    return zeros_like(grad)


square = _unary("square", "square", save=("self",), rule="none", node="PowBackward0")


@square.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad * (2 * a)


sin = _unary("sin", "sin", save=("self",))


@sin.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad * a.cos()


cos = _unary("cos", "cos", save=("self",))


@cos.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return grad * -a.sin()


tan = _unary("tan", "tan", save=("result",))


@tan.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return grad * (1 + result.pow(2))


reciprocal = OpDef("reciprocal", type_rule="float", save=("result",))


@reciprocal.impl
def _(xp, a):
    return xp.divide(1, a)


@reciprocal.backward
def _(ctx, grad):
    (result,) = ctx.saved_tensors
    return -grad * (result * result)


def _zero_grad_rounding(name):
    op = _unary(name, {"round": "round"}.get(name, name), rule="none")

    @op.backward
    def _(ctx, grad):
        return zeros_like(grad)

    return op


floor = _zero_grad_rounding("floor")
ceil = _zero_grad_rounding("ceil")
round_ = _zero_grad_rounding("round")
trunc = _zero_grad_rounding("trunc")

isnan = _unary("isnan", "isnan", rule="none")
isinf = _unary("isinf", "isinf", rule="none")
isfinite = _unary("isfinite", "isfinite", rule="none")

OPS = [exp, expm1, log, log2, log10, log1p, sqrt, rsqrt, abs_, sign, square, sin, cos, tan, reciprocal,
       floor, ceil, round_, trunc, isnan, isinf, isfinite]
