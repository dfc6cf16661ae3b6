"""Reductions: sum mean prod max min amax amin argmax argmin var std logsumexp norm, sum_to_size.

The op objects take normalized arguments (a sorted tuple of dims); the functions at the
bottom accept PyTorch's signatures and pick the PyTorch node (``SumBackward0`` for a full
reduction, ``SumBackward1`` with ``dim``).
"""

from __future__ import annotations

import math
import warnings

from .. import dtypes as _dt
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._util import canonical_dim, canonical_dims

__all__ = ["all", "any", "sum", "mean", "prod", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std",
           "logsumexp", "norm", "sum_to_size", "return_types"]


def _reduce_dims(dim, ndim):
    """Sorted dims to reduce; as in PyTorch an empty list of dims means every dim."""
    return canonical_dims(None if isinstance(dim, (tuple, list)) and not dim else dim, ndim)


def _restore(grad, dims, keepdim):
    """Put back the reduced dims (size 1) so ``grad`` broadcasts against the input."""
    if keepdim:
        return grad
    for d in dims:
        grad = grad.unsqueeze(d)
    return grad


# ---------------------------------------------------------------------- sum
sum_all = OpDef("sum", type_rule="none", node_name="SumBackward0")
sum_dim = OpDef("sum_dim", type_rule="none", node_name="SumBackward1")


def _sum_kernel(xp, a, dims=None, keepdim=False, dtype=None):
    if dtype is not None and a.dtype == xp.bool:  # the standard sums numbers only
        a = xp.astype(a, dtype)
    return xp.sum(a, axis=dims, keepdims=keepdim, dtype=dtype)


sum_all.impl(_sum_kernel)
sum_dim.impl(_sum_kernel)


@sum_all.backward
def _(ctx, grad):
    return grad.expand(ctx.input_shape())


@sum_dim.backward
def _(ctx, grad):
    return _restore(grad, ctx.dims, ctx.keepdim).expand(ctx.input_shape())


sum_to = OpDef("sum_to_size", type_rule="none", node_name="SumBackward1")


@sum_to.impl
def _(xp, a, shape):
    lead = a.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape) if s == 1 and a.shape[lead + i] != 1)
    out = xp.sum(a, axis=dims, keepdims=True) if dims else a
    return xp.reshape(out, shape)


@sum_to.backward
def _(ctx, grad):
    return grad.expand(ctx.input_shape())


def sum_to_size(t, *shape):
    """Sum ``t`` down to ``shape`` (which ``t``'s shape must broadcast from)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    shape = tuple(shape)
    if tuple(t._data.shape) == shape:
        return t
    return sum_to(t, shape=shape)


def _sum_dtype(input, dtype):
    if dtype is not None:
        return input._backend.native_dtype(dtype)
    if input.dtype.category != _dt.FLOATING:
        return input._backend.native_dtype(_dt.int64)
    return None


def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Sum of all elements, or over ``dim`` (an int or a tuple of ints)."""
    native = _sum_dtype(input, dtype)
    if dim is None:
        return sum_all(input, dtype=native) if native is not None else sum_all(input)
    dims = _reduce_dims(dim, input.ndim)
    if native is not None:
        return sum_dim(input, dims=dims, keepdim=keepdim, dtype=native)
    return sum_dim(input, dims=dims, keepdim=keepdim)


# ---------------------------------------------------------------------- mean
mean_all = OpDef("mean", type_rule="none", node_name="MeanBackward0")
mean_dim = OpDef("mean_dim", type_rule="none", node_name="MeanBackward1")


def _mean_kernel(xp, a, dims=None, keepdim=False):
    return xp.mean(a, axis=dims, keepdims=keepdim)


mean_all.impl(_mean_kernel)
mean_dim.impl(_mean_kernel)


@mean_all.backward
def _(ctx, grad):
    shape = ctx.input_shape()
    return grad.expand(shape) / math.prod(shape)


@mean_dim.backward
def _(ctx, grad):
    shape = ctx.input_shape()
    n = math.prod(shape[d] for d in ctx.dims)
    return _restore(grad, ctx.dims, ctx.keepdim).expand(shape) / n


def mean(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    """Mean of all elements, or over ``dim``; floating dtypes only, as in PyTorch."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.category != _dt.FLOATING:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_type_name(input.dtype)}")
    if dim is None:
        return mean_all(input)
    return mean_dim(input, dims=_reduce_dims(dim, input.ndim), keepdim=keepdim)


def _type_name(d):
    from ..dispatch.dispatcher import _TYPE_NAME
    return _TYPE_NAME[d.name]


# ---------------------------------------------------------------------- prod
prod_all = OpDef("prod", type_rule="none", save=("self", "result"), node_name="ProdBackward0")
prod_dim = OpDef("prod_dim", type_rule="none", save=("self", "result"), node_name="ProdBackward1")


def _prod_kernel(xp, a, dims=None, keepdim=False, dtype=None):
    if dtype is not None and a.dtype == xp.bool:  # the standard multiplies numbers only
        a = xp.astype(a, dtype)
    return xp.prod(a, axis=dims, keepdims=keepdim, dtype=dtype)


prod_all.impl(_prod_kernel)
prod_dim.impl(_prod_kernel)


def _prod_backward(ctx, grad, dims, keepdim):
    """d prod / d a_j = product of the other entries; exact with zeros, to second order.

    Without zeros it is result / a (PyTorch's fast path). With zeros it is the product of
    the nonzero others times the product of the other zero entries, written so that the
    zeros' own derivatives survive for double backward: with one zero a_i, every other
    entry gets (nonzero others) * a_i; with two, each zero gets (nonzero others) * the
    other zero; with three or more every gradient vanishes to first order.
    """
    from .arithmetic import where
    a, result = ctx.saved_tensors
    grad = _restore(grad, dims, keepdim)
    is_zero = a == 0
    if not bool(is_zero.any()):
        return grad * (_restore(result, dims, keepdim) / a)
    safe = where(is_zero, 1.0, a)
    nonzero_others = _prod_keepdim(safe, dims) / safe
    zeros = is_zero.sum(dims, keepdim=True)
    zero_sum = where(is_zero, a, 0.0).sum(dims, keepdim=True)  # value 0; carries the zeros' derivatives
    other_zeros = where(zeros == 0, 1.0,
                        where(zeros == 1, where(is_zero, 1.0, zero_sum),
                              where((zeros == 2) & is_zero, zero_sum - a, 0.0)))
    return grad * (nonzero_others * other_zeros)


def _prod_keepdim(t, dims):
    if len(dims) == 1:
        return t.prod(dims[0], keepdim=True)
    return t.prod().reshape((1,) * t.ndim)


@prod_all.backward
def _(ctx, grad):
    return _prod_backward(ctx, grad, tuple(range(len(ctx.input_shape()))), False)


@prod_dim.backward
def _(ctx, grad):
    return _prod_backward(ctx, grad, ctx.dims, ctx.keepdim)


def prod(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A002
    native = _sum_dtype(input, dtype)
    extra = {} if native is None else {"dtype": native}
    if dim is None:
        return prod_all(input, **extra)
    return prod_dim(input, dims=(canonical_dim(dim, input.ndim),) if input.ndim else (), keepdim=keepdim, **extra)


# ---------------------------------------------------------------------- max / min / amax / amin / argmax / argmin
class _ValuesIndices(tuple):
    """PyTorch's ``return_types.max``: a (values, indices) pair with names and its repr."""

    __slots__ = ()
    _name = "max"

    def __new__(cls, values, indices):
        return tuple.__new__(cls, (values, indices))

    @property
    def values(self):
        return self[0]

    @property
    def indices(self):
        return self[1]

    def __repr__(self):
        return f"bibun.return_types.{self._name}(\nvalues={self[0]!r},\nindices={self[1]!r})"


def _named(name):
    return type(name, (_ValuesIndices,), {"__slots__": (), "_name": name})


class return_types:  # noqa: N801 - PyTorch's name
    max = _named("max")
    min = _named("min")


def _extreme_all(name, fn):
    op = OpDef(name, type_rule="none", save=("self", "result"), node_name=f"{name.capitalize()}Backward1")

    @op.impl
    def _(xp, a):
        if a.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
                               "the reduction dim with the 'dim' argument.")
        return getattr(xp, fn)(a)

    @op.backward
    def _(ctx, grad):
        a, result = ctx.saved_tensors
        mask = (a == result) | (a.isnan() & result.isnan())
        count = mask.sum()
        return mask * (grad / count)

    return op


max_all = _extreme_all("max", "max")
min_all = _extreme_all("min", "min")


def _extreme_dim(name, arg_fn):
    op = OpDef(f"{name}_dim", type_rule="none", outputs=2, nondiff_outputs=(1,), save=("result1",),
               node_name=f"{name.capitalize()}Backward0")

    @op.impl
    def _(xp, a, dim, keepdim=False):
        idx = getattr(xp, arg_fn)(a, axis=dim, keepdims=True)
        values = xp.take_along_axis(a, idx, axis=dim)
        if not keepdim:
            idx = xp.squeeze(idx, axis=dim)
            values = xp.squeeze(values, axis=dim)
        return values, xp.astype(idx, xp.int64)

    @op.backward
    def _(ctx, grad, _grad_indices):
        (indices,) = ctx.saved_tensors
        dim, keepdim = ctx.dim, ctx.keepdim
        if not keepdim:
            grad, indices = grad.unsqueeze(dim), indices.unsqueeze(dim)
        return grad.new_zeros(ctx.input_shape()).scatter(dim, indices, grad)

    return op


max_dim = _extreme_dim("max", "argmax")
min_dim = _extreme_dim("min", "argmin")


def _extreme(name, all_op, dim_op, input, dim, keepdim, other):  # noqa: A002
    if isinstance(dim, Tensor) and other is None:
        dim, other = None, dim
    if other is not None:
        from .arithmetic import maximum, minimum
        return (maximum if name == "max" else minimum)(input, other)
    if dim is None:
        return all_op(input)
    d = canonical_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    if input.ndim == 0:
        return getattr(return_types, name)(input.clone(), input.new_zeros((), dtype=_dt.int64))
    values, indices = dim_op(input, dim=d, keepdim=keepdim)
    return getattr(return_types, name)(values, indices)


def max(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    """``max(t)``: the largest value; ``max(t, dim)``: (values, indices); ``max(a, b)``: elementwise."""
    return _extreme("max", max_all, max_dim, input, dim, keepdim, other)


def min(input, dim=None, keepdim=False, *, other=None):  # noqa: A001, A002
    return _extreme("min", min_all, min_dim, input, dim, keepdim, other)


def _a_extreme(name, fn):
    op = OpDef(name, type_rule="none", save=("self", "result"))

    @op.impl
    def _(xp, a, dims, keepdim=False):
        return getattr(xp, fn)(a, axis=dims, keepdims=keepdim)

    @op.backward
    def _(ctx, grad):
        a, result = ctx.saved_tensors
        dims, keepdim = ctx.dims, ctx.keepdim
        mask = a == _restore(result, dims, keepdim)
        return mask * (_restore(grad, dims, keepdim) / mask.sum(dims, keepdim=True))

    return op


amax_op = _a_extreme("amax", "max")
amin_op = _a_extreme("amin", "min")


def _check_nonempty(name, input, dim):  # noqa: A002
    """PyTorch refuses to reduce an empty tensor (or an empty dim) where there is no identity.

    Its message names the dim as the caller wrote it (amax(-1) says -1).
    """
    if input._data.size or input.ndim == 0:
        return
    if dim == ():
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    for d in (dim,) if isinstance(dim, int) else dim:
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def amax(input, dim=(), keepdim=False):  # noqa: A002
    dims = canonical_dims(None if dim == () else dim, input.ndim)
    _check_nonempty("amax", input, dim)
    return amax_op(input, dims=dims, keepdim=keepdim)


def amin(input, dim=(), keepdim=False):  # noqa: A002
    dims = canonical_dims(None if dim == () else dim, input.ndim)
    _check_nonempty("amin", input, dim)
    return amin_op(input, dims=dims, keepdim=keepdim)


def _arg(name, fn):
    op = OpDef(name, type_rule="none")

    @op.impl
    def _(xp, a, dim=None, keepdim=False):
        if dim is None:
            r = getattr(xp, fn)(xp.reshape(a, (-1,)))
            r = xp.reshape(r, (1,) * a.ndim) if keepdim else r
        else:
            r = getattr(xp, fn)(a, axis=dim, keepdims=keepdim)
        return xp.astype(r, xp.int64)

    return op


def _logical_reduction(name, fn):
    op = OpDef(name, type_rule="none")

    @op.impl
    def _(xp, a, dims=None, keepdim=False):
        if a.dtype != xp.bool:
            a = a != 0
        return getattr(xp, fn)(a, axis=dims, keepdims=keepdim)

    return op


all_op = _logical_reduction("all", "all")
any_op = _logical_reduction("any", "any")


def all(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where every element (over ``dim``, or all of them) is nonzero; a bool tensor."""
    return all_op(input, dims=None if dim is None else canonical_dims(dim, input.ndim), keepdim=keepdim)


def any(input, dim=None, keepdim=False):  # noqa: A001, A002
    """True where some element (over ``dim``, or all of them) is nonzero; a bool tensor."""
    return any_op(input, dims=None if dim is None else canonical_dims(dim, input.ndim), keepdim=keepdim)


argmax_op = _arg("argmax", "argmax")
argmin_op = _arg("argmin", "argmin")


def _arg_reduce(name, op, input, dim, keepdim):  # noqa: A002
    if dim is None:
        if input._data.size == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
        return op(input, dim=None, keepdim=keepdim)
    d = canonical_dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    return op(input, dim=d, keepdim=keepdim)


def argmax(input, dim=None, keepdim=False):  # noqa: A002
    return _arg_reduce("argmax", argmax_op, input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):  # noqa: A002
    return _arg_reduce("argmin", argmin_op, input, dim, keepdim)


# ---------------------------------------------------------------------- var / std
var_op = OpDef("var", type_rule="none", save=("self",))
std_op = OpDef("std", type_rule="none", save=("self", "result"))


@var_op.impl
def _(xp, a, dims, correction=1, keepdim=False):
    return xp.var(a, axis=dims, correction=correction, keepdims=keepdim)


@std_op.impl
def _(xp, a, dims, correction=1, keepdim=False):
    return xp.std(a, axis=dims, correction=correction, keepdims=keepdim)


def _var_backward(grad, a, dims, correction, keepdim):
    """PyTorch's var_backward; ``dims`` None means a full reduction, where PyTorch special-cases dof <= 0."""
    full = dims is None or a.ndim == 0
    dims = tuple(range(a.ndim)) if dims is None else dims
    grad = _restore(grad, dims, keepdim)
    mean = a.mean(dims, keepdim=True)
    dof = math.prod(a.shape[d] for d in dims) - correction
    if full and dof <= 0:  # 2 / dof is infinite: nan where a == mean (inf * 0), inf elsewhere
        from ..factories import full_like
        return grad * full_like(a, math.inf).masked_fill(a == mean, math.nan)
    return (2.0 / dof if dof else math.inf) * grad * (a - mean)  # C's division: 2 / 0 is inf


@var_op.backward
def _(ctx, grad):
    (a,) = ctx.saved_tensors
    return _var_backward(grad, a, ctx.dims, ctx.correction, ctx.keepdim)


@std_op.backward
def _(ctx, grad):
    a, result = ctx.saved_tensors
    g = (grad / (result * 2)).masked_fill(result == 0, 0)
    return _var_backward(g, a, ctx.dims, ctx.correction, ctx.keepdim)


def _var_args(name, input, dim, unbiased, correction):  # noqa: A002
    if input.dtype.category != _dt.FLOATING:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool):  # var(t, False): PyTorch's old positional `unbiased`
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    dims = _reduce_dims(dim, input.ndim)
    if math.prod(input.shape[d] for d in dims) - correction <= 0:
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
                      "factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    return (None if dim is None else dims), correction  # None: a full reduction (its backward differs)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    dims, correction = _var_args("var", input, dim, unbiased, correction)
    return var_op(input, dims=dims, correction=correction, keepdim=keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):  # noqa: A002
    dims, correction = _var_args("std", input, dim, unbiased, correction)
    return std_op(input, dims=dims, correction=correction, keepdim=keepdim)


# ---------------------------------------------------------------------- logsumexp / norm
logsumexp_op = OpDef("logsumexp", type_rule="float", save=("self", "result"))


@logsumexp_op.impl
def _(xp, a, dims, keepdim=False):
    m = xp.max(a, axis=dims, keepdims=True) if a.size else xp.zeros((1,) * a.ndim, dtype=a.dtype)
    m = xp.where(xp.isinf(m), xp.zeros((), dtype=a.dtype), m)
    out = xp.log(xp.sum(xp.exp(a - m), axis=dims, keepdims=True)) + m
    return out if keepdim else xp.squeeze(out, axis=dims)


@logsumexp_op.backward
def _(ctx, grad):
    a, result = ctx.saved_tensors
    dims, keepdim = ctx.dims, ctx.keepdim
    return _restore(grad, dims, keepdim) * (a - _restore(result, dims, keepdim)).exp()


def logsumexp(input, dim, keepdim=False):  # noqa: A002
    """log(sum(exp(x))) over ``dim``, computed around the max so it never overflows."""
    return logsumexp_op(input, dims=canonical_dims(dim, input.ndim), keepdim=keepdim)


norm_op = OpDef("norm", type_rule="none", save=("self", "result"), node_name="LinalgVectorNormBackward0")


@norm_op.impl
def _(xp, a, p, dims, keepdim=False):
    x = xp.abs(a)
    if p == 2:
        out = xp.sqrt(xp.sum(x * x, axis=dims, keepdims=keepdim))
    elif p == 1:
        out = xp.sum(x, axis=dims, keepdims=keepdim)
    elif p == math.inf:
        out = xp.max(x, axis=dims, keepdims=keepdim)
    elif p == -math.inf:
        out = xp.min(x, axis=dims, keepdims=keepdim)
    elif p == 0:
        out = xp.astype(xp.sum(xp.astype(x != 0, a.dtype), axis=dims, keepdims=keepdim), a.dtype)
    else:
        out = xp.pow(xp.sum(xp.pow(x, p), axis=dims, keepdims=keepdim), 1.0 / p)
    return xp.astype(out, a.dtype)


@norm_op.backward
def _(ctx, grad):
    """PyTorch's norm_backward, case by case (no gradient at all for p = 0)."""
    a, result = ctx.saved_tensors
    p, dims, keepdim = ctx.p, ctx.dims, ctx.keepdim
    grad = _restore(grad, dims, keepdim)
    result = _restore(result, dims, keepdim)
    if p == 0:
        return None
    if p == 1:
        return a.sign() * grad
    if p == 2:
        return grad * (a / result).masked_fill(result == 0, 0)
    if p in (math.inf, -math.inf):
        a_abs = a.abs()
        mask = (a_abs == result) | a_abs.isnan()
        return a.sign() * ((grad / mask.sum(dims, keepdim=True)) * mask)
    if p < 1:
        return a.sign() * a.abs().pow(p - 1).masked_fill(a == 0, 0) * grad * result.pow(1 - p)
    scaled = a.sign() * a.abs().pow(p - 1) if p < 2 else a * a.abs().pow(p - 2)
    return scaled * (grad / result.pow(p - 1)).masked_fill(result == 0, 0)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002
    """Vector p-norm over ``dim`` (all elements when None); ``'fro'`` is the 2-norm."""
    if dtype is not None:
        input = input.to(dtype)
    if input.dtype.category != _dt.FLOATING:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_type_name(input.dtype)}")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str):
        raise RuntimeError(f"norm(): p={p!r} is not supported by bibun (use a number, inf or 'fro')")
    p = float(p)
    return norm_op(input, p=p, dims=_reduce_dims(dim, input.ndim), keepdim=keepdim)


OPS = [all_op, any_op, sum_all, sum_dim, sum_to, mean_all, mean_dim, prod_all, prod_dim, max_all, min_all, max_dim, min_dim,
       amax_op, amin_op, argmax_op, argmin_op, var_op, std_op, logsumexp_op, norm_op]
