"""In-place ops with no out-of-place twin: ``zero_`` ``fill_`` ``copy_``."""

from __future__ import annotations

from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..dispatch.dispatcher import check_inplace_allowed, dispatch_inplace, write_into
from ..dispatch.opdef import OpDef
from ..tensor import Tensor

__all__ = ["fill_", "fill_tensor_", "copy_"]

fill_op = OpDef("fill", type_rule="none", node_name="FillBackward2")
zero_op = OpDef("zero", type_rule="none", node_name="ZeroBackward0")


def _of_kind(xp, value, dtype):
    """A python number as the kind of number ``dtype`` holds (a float truncated for an integer dtype,
    as PyTorch casts): the standard fills and assigns only numbers of the array's own kind."""
    if isinstance(value, float) and not xp.isdtype(dtype, "real floating"):
        return bool(value) if dtype == xp.bool else int(value)
    return value


def _fill_kernel(xp, a, value):
    return xp.full(a.shape, _of_kind(xp, value, a.dtype), dtype=a.dtype)


def _no_grad_through(ctx, grad):
    return grad * 0


for _op in (fill_op, zero_op):
    _op.impl(_fill_kernel)
    _op.backward(_no_grad_through)


def fill_(self, value, name="fill_"):
    """Fill ``self`` with ``value``; the written tensor passes no gradient back to its old value.

    ``value`` may be a 0-dim tensor; if it requires grad, it receives the sum of the gradient.
    """
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        if value._requires_grad and _grad_enabled():
            return fill_tensor_(self, value)
        value = value.item()
    op = zero_op if name == "zero_" else fill_op
    if not self._requires_grad and self._base is None:
        check_inplace_allowed(self, name)
        data = self._data
        data[...] = _of_kind(self._backend.xp, value, data.dtype)
        self._version[0] += 1
        return self
    return dispatch_inplace(op, self, (), {"value": value}, name)


fill_tensor_op = OpDef("fill_tensor", inputs=("self", "value"), type_rule="none", node_name="FillBackward3")


@fill_tensor_op.impl
def _(xp, a, value):
    return xp.asarray(xp.broadcast_to(xp.astype(value, a.dtype), a.shape), copy=True)


@fill_tensor_op.backward
def _(ctx, grad):
    need_self, need_value = ctx.needs_input_grad
    return (grad * 0 if need_self else None), (grad.sum() if need_value else None)


def fill_tensor_(self, value):
    """``fill_`` with a 0-dim tensor that requires grad: the value receives the summed gradient."""
    if value._backend is not self._backend:
        value = value.to(self.device)
    return dispatch_inplace(fill_tensor_op, self, (value.to(self.dtype),), {}, "fill_")


copy_op = OpDef("copy", inputs=("self", "src"), type_rule="none", node_name="CopyBackwards")


@copy_op.impl
def _(xp, a, src):
    return xp.astype(xp.broadcast_to(src, a.shape), a.dtype, copy=True)


@copy_op.backward
def _(ctx, grad):
    need_self, need_src = ctx.needs_input_grad
    g_src = None
    if need_src:
        src_dtype = ctx._meta[1][1]
        g_src = grad.to(grad._backend.from_dtype[src_dtype])
    return (grad * 0 if need_self else None), g_src


def copy_(self, src):
    """Copy ``src`` (broadcast, cast, and moved across devices if needed) into ``self``."""
    if not isinstance(src, Tensor):
        from ..factories import scalar_tensor_like
        src = scalar_tensor_like(src, self)
    if src._backend is not self._backend:
        src = src.to(self.device)
    from ._util import broadcast_shapes
    if broadcast_shapes(self.shape, src.shape) != tuple(self.shape):
        raise RuntimeError(f"output with shape {list(self.shape)} doesn't match the broadcast shape "
                           f"{list(broadcast_shapes(self.shape, src.shape))}")
    check_inplace_allowed(self, "copy_")
    out = copy_op(self, src)
    write_into(self, out, "copy_")
    return self


OPS = [fill_op, zero_op, fill_tensor_op, copy_op]
