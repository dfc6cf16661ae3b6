"""Binary arithmetic, comparison and selection ops: + - * / ** maximum minimum where clamp, == < ...

Formulas follow PyTorch's ``derivatives.yaml``; they return gradients of the broadcast
shape and the engine sums them back to each input's shape.
"""

from __future__ import annotations

import math

from ..dispatch.opdef import OpDef
from ..factories import zeros_like
from ..tensor import Tensor
from ._portable import into, numpy_extras
from ._util import check_broadcast

__all__ = ["add", "sub", "rsub", "mul", "div", "neg", "pow_scalar", "pow_tensor", "pow_scalar_base",
           "maximum", "minimum", "where", "clamp", "clamp_tensor", "eq", "ne", "lt", "le", "gt", "ge",
           "logical_and", "logical_or", "logical_xor", "logical_not", "floor_divide", "remainder"]


def _binary(name, node=None, rule="promote", save=(), save_if=None):
    return OpDef(name, inputs=("self", "other"), type_rule=rule, save=save, save_if=save_if, node_name=node,
                 explain=check_broadcast)


# ---------------------------------------------------------------------- add / sub / rsub
add = _binary("add")


def _scaled(xp, b, alpha):
    """``alpha * b``; a python number stays one, so it keeps promoting as a scalar."""
    return b * alpha if isinstance(b, (int, float)) else xp.multiply(b, alpha)


@add.impl
def _(xp, a, b, alpha=1):
    return xp.add(a, b) if alpha == 1 else xp.add(a, _scaled(xp, b, alpha))


@add.impl_inplace
def _(xp, out, a, b, alpha=1):
    into(xp, xp.add, out, a, b if alpha == 1 else _scaled(xp, b, alpha))


@add.backward
def _(ctx, grad):
    alpha = ctx._attrs.get("alpha", 1)
    return grad, (grad if alpha == 1 else grad * alpha)


sub = _binary("sub")


@sub.impl
def _(xp, a, b, alpha=1):
    return xp.subtract(a, b) if alpha == 1 else xp.subtract(a, _scaled(xp, b, alpha))


@sub.impl_inplace
def _(xp, out, a, b, alpha=1):
    into(xp, xp.subtract, out, a, b if alpha == 1 else _scaled(xp, b, alpha))


@sub.backward
def _(ctx, grad):
    alpha = ctx._attrs.get("alpha", 1)
    return grad, (-grad if alpha == 1 else grad * -alpha)


# ``scalar - tensor``: PyTorch's rsub.Scalar, one tensor input, node RsubBackward1
rsub = OpDef("rsub", inputs=("self", "other"), differentiable=("self",), type_rule="promote",
             node_name="RsubBackward1")


@rsub.impl
def _(xp, a, other, alpha=1):
    return xp.subtract(other, a) if alpha == 1 else xp.subtract(other, xp.multiply(a, alpha))


@rsub.backward
def _(ctx, grad):
    alpha = ctx._attrs.get("alpha", 1)
    return -grad if alpha == 1 else grad * -alpha


# ---------------------------------------------------------------------- mul / div / neg
mul = _binary("mul", save=("self", "other"), save_if={"self": ("other",), "other": ("self",)})


@mul.impl
def _(xp, a, b):
    return xp.multiply(a, b)


@mul.impl_inplace
def _(xp, out, a, b):
    into(xp, xp.multiply, out, a, b)


@mul.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (grad * b if need_a else None), (grad * a if need_b else None)


div = _binary("div", rule="promote_float", save=("self", "other"), save_if={"self": ("other",)})


@div.impl
def _(xp, a, b):
    return xp.divide(a, b)


@div.impl_inplace
def _(xp, out, a, b):
    into(xp, xp.divide, out, a, b)


@div.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (grad / b if need_a else None), (-grad * ((a / b) / b) if need_b else None)  # PyTorch's order


# div(..., rounding_mode='floor'|'trunc'): integers stay integers; the gradient is zero
div_mode = _binary("div_mode", node="DivBackward2")


@div_mode.impl
def _(xp, a, b, rounding_mode):
    if xp.isdtype(a.dtype, "integral") and (not hasattr(b, "dtype") or xp.isdtype(b.dtype, "integral")):
        if rounding_mode == "floor":
            return xp.floor_divide(a, b)
        q = xp.floor_divide(xp.abs(a), xp.abs(b))
        return xp.where((a < 0) != (b < 0), -q, q)
    q = xp.divide(a, b)
    return xp.floor(q) if rounding_mode == "floor" else xp.trunc(q)


@div_mode.backward
def _(ctx, grad):
    return grad * 0, (grad * 0 if ctx.needs_input_grad[1] else None)


neg = OpDef("neg", type_rule="none")


@neg.impl
def _(xp, a):
    return xp.negative(a)


@neg.backward
def _(ctx, grad):
    return -grad


floor_divide = _binary("floor_divide")


@floor_divide.impl
def _(xp, a, b):
    return xp.floor_divide(a, b)


remainder = _binary("remainder", save=("self", "other"))


@remainder.impl
def _(xp, a, b):
    return xp.remainder(a, b)


@remainder.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_b = ctx.needs_input_grad[1]
    return grad, (-grad * (a / b).floor() if need_b else None)


# ---------------------------------------------------------------------- pow, in PyTorch's three forms
pow_scalar = OpDef("pow", inputs=("self",), type_rule="none", save=("self",), node_name="PowBackward0",
                   doc="tensor ** python number")


@pow_scalar.impl
def _(xp, a, exponent):
    return xp.pow(a, exponent)


@pow_scalar.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    e = ctx.exponent
    if e == 0:
        return zeros_like(a)
    return grad * (e * a.pow(e - 1))


pow_tensor = OpDef("pow_tensor", inputs=("self", "exponent"), type_rule="promote", save=("self", "exponent", "result"),
                   node_name="PowBackward1", explain=check_broadcast, doc="tensor ** tensor")


@pow_tensor.impl
def _(xp, a, b):
    return xp.pow(a, b)


@pow_tensor.backward
def _(ctx, grad):
    a, b, result = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    ga = where(b == 0, 0.0, grad * (b * a.pow(b - 1))) if need_a else None
    gb = None
    if need_b:
        zero_base = (a == 0) & (b >= 0)
        gb = grad * where(zero_base, 0.0, result * a.log())
    return ga, gb


pow_scalar_base = OpDef("pow_scalar_base", inputs=("exponent",), type_rule="none", save=("exponent", "result"),
                        node_name="PowBackward2", doc="python number ** tensor")


@pow_scalar_base.impl
def _(xp, exponent, base):
    return xp.pow(base, exponent)


@pow_scalar_base.backward
def _(ctx, grad):
    exponent, result = ctx.saved_tensors
    base = ctx.base
    if base == 0:
        return grad * where(exponent >= 0, 0.0, result * -math.inf)
    return grad * (result * (math.log(base) if base > 0 else math.nan))


# ---------------------------------------------------------------------- maximum / minimum / where / clamp
maximum = _binary("maximum", save=("self", "other"))


@maximum.impl
def _(xp, a, b):
    return xp.maximum(a, b)


@maximum.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    half = where(a == b, grad / 2, grad)
    need_a, need_b = ctx.needs_input_grad
    return (half.masked_fill(a < b, 0) if need_a else None), (half.masked_fill(a > b, 0) if need_b else None)


minimum = _binary("minimum", save=("self", "other"))


@minimum.impl
def _(xp, a, b):
    return xp.minimum(a, b)


@minimum.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    half = where(a == b, grad / 2, grad)
    need_a, need_b = ctx.needs_input_grad
    return (half.masked_fill(a > b, 0) if need_a else None), (half.masked_fill(a < b, 0) if need_b else None)


where_op = OpDef("where", inputs=("condition", "self", "other"), differentiable=("self", "other"),
                 type_rule="promote", save=("condition",), explain=check_broadcast)
where_op.promote_args = (1, 2)


@where_op.impl
def _(xp, cond, a, b):
    return xp.where(cond, a, b)


@where_op.backward
def _(ctx, grad):
    (cond,) = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (where(cond, grad, 0.0) if need_a else None), (where(cond, 0.0, grad) if need_b else None)


def where(condition, input, other):  # noqa: A002 - PyTorch's parameter name
    """``bibun.where(condition, input, other)``: elementwise choice, differentiable in input and other."""
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' must be Tensor, not {type(condition).__name__}")
    if condition.dtype.name != "bool":
        from ..dispatch.dispatcher import _TYPE_NAME
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_TYPE_NAME[condition.dtype.name]}")
    return where_op(condition, input, other)


clamp = OpDef("clamp", type_rule="none", save=("self",), node_name="ClampBackward1")


@clamp.impl
def _(xp, a, min=None, max=None):  # noqa: A002
    if (isinstance(min, float) or isinstance(max, float)) and not xp.isdtype(a.dtype, "real floating"):
        # an integral tensor clamped to a python float: PyTorch computes in the default float
        from ..dtypes import get_default_dtype
        a = xp.astype(a, getattr(xp, get_default_dtype().numpy_name))
    if min is not None and max is not None and min > max:  # the standard leaves clip open there; max wins
        return xp.minimum(xp.maximum(a, min), max)
    return xp.clip(a, min, max)


@clamp.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    lo, hi = ctx._attrs.get("min"), ctx._attrs.get("max")
    if lo is not None and hi is not None:
        keep = (a >= lo) & (a <= hi)
    elif lo is not None:
        keep = a >= lo
    else:
        keep = a <= hi
    return where(keep, grad, 0.0)


# clamp(min=tensor, max=tensor): PyTorch's clamp.Tensor, differentiable in the bounds too
clamp_tensor = OpDef("clamp_tensor", inputs=("self", "min", "max"), type_rule="promote", save=("self", "min", "max"),
                     node_name="ClampBackward0", explain=check_broadcast)


@clamp_tensor.impl
def _(xp, a, lo, hi):
    if numpy_extras(xp) or lo is None or hi is None:
        return xp.clip(a, lo, hi)
    return xp.minimum(xp.maximum(a, lo), hi)  # the standard leaves clip open where lo > hi; PyTorch's max wins


@clamp_tensor.backward
def _(ctx, grad):
    """PyTorch's clamp_backward and clamp_backward_min_max: where min > max, max wins."""
    a, lo, hi = ctx.saved_tensors
    _, need_lo, need_hi = ctx.needs_input_grad
    if lo is not None and hi is not None:
        g = where((a >= lo) & (a <= hi), grad, 0.0)
        g_lo = where((a < lo) & (lo < hi), grad, 0.0) if need_lo else None
        g_hi = where((a > hi) | (hi < lo), grad, 0.0) if need_hi else None
        return g, g_lo, g_hi
    if lo is not None:
        return where(a >= lo, grad, 0.0), (where(a < lo, grad, 0.0) if need_lo else None), None
    return where(a <= hi, grad, 0.0), None, (where(a > hi, grad, 0.0) if need_hi else None)


# ---------------------------------------------------------------------- comparisons and logic (no gradient)
def _compare(name, fn_name):
    op = OpDef(name, inputs=("self", "other"), type_rule="compare", explain=check_broadcast)

    def kernel(xp, a, b):
        return getattr(xp, fn_name)(a, b)

    op.impl(kernel)
    return op


eq = _compare("eq", "equal")
ne = _compare("ne", "not_equal")
lt = _compare("lt", "less")
le = _compare("le", "less_equal")
gt = _compare("gt", "greater")
ge = _compare("ge", "greater_equal")


def _logical(name, fn_name, arity=2):
    op = OpDef(name, inputs=("self", "other")[:arity], type_rule="none", explain=check_broadcast)

    def kernel(xp, *arrays):
        arrays = [a if not hasattr(a, "dtype") or a.dtype == xp.bool else a != 0 for a in arrays]
        return getattr(xp, fn_name)(*arrays)

    op.impl(kernel)
    return op


logical_and = _logical("logical_and", "logical_and")
logical_or = _logical("logical_or", "logical_or")
logical_xor = _logical("logical_xor", "logical_xor")
logical_not = _logical("logical_not", "logical_not", arity=1)


def _bitwise(name, fn_name):
    op = OpDef(name, inputs=("self", "other"), type_rule="promote", explain=check_broadcast)

    def kernel(xp, a, b):
        return getattr(xp, fn_name)(a, b)

    op.impl(kernel)
    return op


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")
bitwise_not = OpDef("bitwise_not", type_rule="none")


@bitwise_not.impl
def _(xp, a):
    return xp.logical_not(a) if a.dtype == xp.bool else xp.bitwise_invert(a)


OPS = [add, sub, rsub, mul, div, div_mode, neg, floor_divide, remainder, pow_scalar, pow_tensor, pow_scalar_base,
       maximum, minimum, where_op, clamp, clamp_tensor, eq, ne, lt, le, gt, ge, logical_and, logical_or, logical_xor,
       logical_not, bitwise_and, bitwise_or, bitwise_xor, bitwise_not]
