"""Fused pointwise ops: ``addcmul`` ``addcdiv`` ``lerp``, and the fused multiply-add they round like.

PyTorch's CPU kernels compute ``add(a, b, alpha=s)``, ``addcmul`` and ``lerp`` with a fused
multiply-add: ``x * y + z`` rounded once. Array libraries have no such ufunc, so
:func:`fma` gets the same single rounding another way: in float64 for narrower floats (the
product is exact there), and with an error-free product and sum for float64. Optimizers use
it so that their trajectories match PyTorch's to the last bit.
"""

from __future__ import annotations

import struct

from .. import dtypes as _dtypes
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import numpy_extras
from ._util import check_broadcast

__all__ = ["fma", "round_scalar", "lerp_into", "addcmul", "addcdiv", "lerp"]

_SPLIT = 134217729.0  # 2**27 + 1: Veltkamp's constant, splits a double into two 26-bit halves


def round_scalar(x, dtype):
    """A python number as ``dtype`` holds it (PyTorch casts scalar arguments to the op's dtype).

    ``dtype`` is anything with an ``itemsize``: a bibun dtype or a numpy or cupy array's.
    """
    return _round_to(x, dtype.itemsize)


def _round_to(x, size):
    if size == 4:
        return struct.unpack("f", struct.pack("f", x))[0]
    if size == 2:
        return struct.unpack("e", struct.pack("e", x))[0]
    return float(x)


def _float_bytes(xp, dtype):
    """The width of a floating array dtype; the standard's dtypes have no ``itemsize``, but ``finfo``."""
    size = getattr(dtype, "itemsize", None)
    return xp.finfo(dtype).bits // 8 if size is None else size


_CHUNK = 65536  # fma works through large arrays in blocks whose temporaries stay in cache


def _split_scalar(b):
    """Veltkamp's split of a python float: ``b == hi + lo``, each with at most 26 significant bits."""
    t = b * _SPLIT
    hi = t - (t - b)
    return hi, b - hi


def _split_into(xp, a, hi, lo):
    """Veltkamp's split of an array into the buffers ``hi`` and ``lo`` (``a == hi + lo`` exactly)."""
    xp.multiply(a, _SPLIT, out=hi)
    xp.subtract(hi, a, out=lo)
    xp.subtract(hi, lo, out=hi)
    xp.subtract(a, hi, out=lo)


def _fma64(xp, a, b, c):
    """``a * b + c`` in float64 with a single rounding (Dekker's exact product, Knuth's exact sum).

    Correctly rounded but for ties far below the last bit; where an intermediate is not
    finite (overflow, inf or nan inputs) the plainly rounded ``a * b + c`` is kept. This one
    reuses buffers through ``out=`` (numpy, cupy); :func:`_fma64_standard` is the same
    arithmetic within the array API standard.
    """
    p = xp.multiply(a, b)
    ah = xp.empty_like(p)
    al = xp.empty_like(p)
    _split_into(xp, a, ah, al)
    if isinstance(b, float):
        bh, bl = _split_scalar(b)
        e = xp.multiply(ah, bh)
        e -= p
        e += xp.multiply(ah, bl, out=ah)
        tmp = xp.multiply(al, bh)
        e += tmp
        e += xp.multiply(al, bl, out=al)
    else:
        bh = xp.empty_like(p)
        bl = xp.empty_like(p)
        _split_into(xp, b, bh, bl)
        e = xp.multiply(ah, bh)
        e -= p
        e += xp.multiply(ah, bl, out=ah)
        e += xp.multiply(al, bh, out=bh)
        e += xp.multiply(al, bl, out=al)
        tmp = bl
    # now a * b == p + e exactly
    s = xp.add(p, c, out=ah)
    z = xp.subtract(s, p, out=al)
    xp.subtract(s, z, out=tmp)
    xp.subtract(p, tmp, out=p)
    p += xp.subtract(c, z, out=z)
    # now p + c == s + p exactly
    p += e
    r = xp.add(s, p, out=p)
    xp.copyto(r, s, where=xp.isnan(r))
    return r


def _split(a):
    """Veltkamp's split of an array: ``a == hi + lo`` exactly, each with at most 26 significant bits."""
    hi = a * _SPLIT
    lo = hi - a
    hi -= lo
    return hi, a - hi


def _fma64_standard(xp, a, b, c):
    """:func:`_fma64` with operators and in-place operators only (the standard has no ``out=``):
    the same operations in the same order, so the same bits, with a few more temporaries."""
    p = a * b
    ah, al = _split(a)
    if isinstance(b, float):
        bh, bl = _split_scalar(b)
        e = ah * bh
        e -= p
        ah *= bl
        e += ah
        tmp = al * bh
        e += tmp
        al *= bl
        e += al
    else:
        bh, bl = _split(b)
        e = ah * bh
        e -= p
        ah *= bl
        e += ah
        bh *= al
        e += bh
        al *= bl
        e += al
    s = p + c
    z = s - p
    p -= s - z
    z -= c
    p -= z  # p + (c - z), the sign flipped twice: the same rounding
    p += e
    p += s
    return xp.where(xp.isnan(p), s, p)


def _fma_narrow(xp, a, b, c):
    """``a * b + c`` for floats narrower than float64, via float64, where their product is exact.

    One rounding of the sum, then the cast: this differs from a true fused rounding only in
    ties of relative size ~2**-29. Each operand is cast first: a ufunc over mixed dtypes is
    several times slower than the casts.
    """
    wide = xp.float64
    if numpy_extras(xp):  # the array method: quicker than the standard's function on small arrays
        r = a.astype(wide)
        r *= b if isinstance(b, float) else b.astype(wide)
        r += c.astype(wide)
        return r.astype(c.dtype)
    r = xp.astype(a, wide)
    r *= b if isinstance(b, float) else xp.astype(b, wide)
    r += xp.astype(c, wide)
    return xp.astype(r, c.dtype)


def _fma_blocks(xp, kernel, a, b, c, out):
    """``kernel`` over flat blocks of same-shape contiguous arrays: temporaries stay in cache.

    ``out`` may alias ``a`` or ``c``: each block is read whole before it is written.
    """
    flat = (-1,)
    af, cf, of = xp.reshape(a, flat), xp.reshape(c, flat), xp.reshape(out, flat)
    scalar = isinstance(b, float)
    bf = b if scalar else xp.reshape(b, flat)
    for i in range(0, af.shape[0], _CHUNK):
        j = i + _CHUNK
        of[i:j] = kernel(xp, af[i:j], bf if scalar else bf[i:j], cf[i:j])
    return out


def _contiguous_alike(shape, *arrays):
    """Same shape and C-contiguous, as far as the arrays tell (the standard's do not: then no blocks)."""
    for x in arrays:
        if not isinstance(x, float):
            flags = getattr(x, "flags", None)
            if x.shape != shape or flags is None or not flags.c_contiguous:
                return False
    return True


def fma(xp, a, b, c, out=None):
    """``a * b + c`` rounded once, in ``c``'s floating dtype; ``b`` may be a python number.

    ``a * b`` must have the result's shape (``c`` may broadcast to it). Scalars are first
    rounded to the dtype, as PyTorch does with scalar arguments. With ``out`` the result is
    written there (``out`` may be ``a`` or ``c``).
    """
    dt = c.dtype
    size = _float_bytes(xp, dt)
    if isinstance(b, (int, float)):
        b = _round_to(b, size)
    if a.ndim == 0 and (isinstance(b, float) or b.ndim == 0):
        # the kernels write into buffers shaped like a * b: give a 0-dim product (or numpy scalars) dims
        shape = c.shape if c.ndim else (1,)
        r = xp.reshape(fma(xp, xp.broadcast_to(xp.asarray(a), shape),
                           b if isinstance(b, float) else xp.broadcast_to(xp.asarray(b), shape),
                           xp.reshape(xp.asarray(c), shape)), c.shape)
        if out is None:
            return r
        out[...] = r
        return out
    kernel = _fma_narrow if size < 8 else _fma64 if numpy_extras(xp) else _fma64_standard
    if c.size > _CHUNK and _contiguous_alike(c.shape, a, b, c) and (out is None or _contiguous_alike(c.shape, out)):
        return _fma_blocks(xp, kernel, a, b, c, xp.empty_like(c) if out is None else out)
    r = kernel(xp, a, b, c)
    if out is None:
        return r
    out[...] = r
    return out


def _is_float(xp, a):
    return xp.isdtype(a.dtype, "real floating")


def _scalar_for(xp, value, a):
    """``value`` as the array's kind of number: an int for integer arrays, as PyTorch casts it."""
    if _is_float(xp, a) or isinstance(value, bool):
        return value
    return int(value)


# ---------------------------------------------------------------------- addcmul
addcmul_op = OpDef("addcmul", inputs=("self", "tensor1", "tensor2"), type_rule="promote",
                   save=("tensor1", "tensor2"), save_if={"tensor1": ("tensor2",), "tensor2": ("tensor1",)},
                   explain=check_broadcast)


@addcmul_op.impl
def _(xp, a, t1, t2, value=1):
    """``self + value * tensor1 * tensor2``, with PyTorch's rounding: fma(value * t1, t2, self)."""
    if not _is_float(xp, a):
        return a + _scalar_for(xp, value, a) * t1 * t2
    shape = xp.broadcast_shapes(a.shape, t1.shape, t2.shape)
    x = t1 if value == 1 else xp.multiply(t1, value)
    return fma(xp, xp.broadcast_to(x, shape), xp.broadcast_to(t2, shape), xp.broadcast_to(a, shape))


@addcmul_op.backward
def _(ctx, grad):
    t1, t2 = ctx.saved_tensors
    value = ctx._attrs.get("value", 1)
    _, need1, need2 = ctx.needs_input_grad
    g1 = (grad * t2 * value) if need1 else None
    g2 = (grad * t1 * value) if need2 else None
    return grad, g1, g2


# ---------------------------------------------------------------------- addcdiv
_INT_ADDCDIV = (
    "Integer division with addcdiv is no longer supported, and in a future  release addcdiv will perform a true "
    "division of tensor1 and tensor2. The historic addcdiv behavior can be implemented as (input + value * "
    "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
    "tensor2) for float inputs. The future addcdiv behavior is just the latter implementation: (input + value * "
    "tensor1 / tensor2), for all dtypes.")

addcdiv_op = OpDef("addcdiv", inputs=("self", "tensor1", "tensor2"), type_rule="promote",
                   save=("tensor1", "tensor2"), explain=check_broadcast)


@addcdiv_op.impl
def _(xp, a, t1, t2, value=1):
    """``self + value * tensor1 / tensor2``: no fused step in PyTorch's kernel, so plain rounding."""
    if not _is_float(xp, t1) and not _is_float(xp, t2):
        raise RuntimeError(_INT_ADDCDIV)
    x = t1 if value == 1 else xp.multiply(t1, value)
    return xp.add(a, xp.divide(x, t2))


@addcdiv_op.backward
def _(ctx, grad):
    t1, t2 = ctx.saved_tensors
    value = ctx._attrs.get("value", 1)
    _, need1, need2 = ctx.needs_input_grad
    g1 = grad * (value / t2) if need1 else None
    g2 = -grad * value * t1 / (t2 * t2) if need2 else None
    return grad, g1, g2


# ---------------------------------------------------------------------- lerp
def _lerp_array(xp, a, end, w, out=None):
    """PyTorch's lerp: ``a + w * (end - a)`` for |w| < 0.5, else ``end - (1 - w) * (end - a)``, fused."""
    d = xp.subtract(end, a)
    if isinstance(w, float):
        if abs(w) < 0.5:
            return fma(xp, d, w, a, out=out)
        size = _float_bytes(xp, a.dtype)
        w1 = _round_to(_round_to(w, size) - 1.0, size)
        return fma(xp, d, w1, xp.broadcast_to(end, d.shape), out=out)
    shape = d.shape
    w = xp.broadcast_to(w, shape)
    small = xp.abs(w) < 0.5
    coeff = xp.where(small, w, xp.subtract(w, 1))
    base = xp.where(small, xp.broadcast_to(a, shape), xp.broadcast_to(end, shape))
    return fma(xp, coeff, d, base, out=out)


def lerp_into(xp, a, end, weight):
    """``a <- lerp(a, end, weight)`` in place on arrays, rounded as PyTorch's ``lerp_``."""
    return _lerp_array(xp, a, end, float(weight), out=a)


_SCALAR_TYPE = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def _check_lerp(op, args, attrs):
    a, end = args[0], args[1]
    if not a.is_floating_point():
        kernel = "lerp_kernel_tensor" if len(args) > 2 else "lerp_kernel_scalar"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_SCALAR_TYPE[a.dtype.name]}\'')
    if end.dtype is not a.dtype:
        raise RuntimeError(f"expected dtype {_c_name(a.dtype)} for `end` but got dtype {_c_name(end.dtype)}")
    if len(args) > 2 and args[2].dtype is not a.dtype:
        raise RuntimeError(f"expected dtype {_c_name(a.dtype)} for `weight` but got dtype {_c_name(args[2].dtype)}")
    check_broadcast(op, args, attrs)


def _c_name(dtype):
    return {"float32": "float", "float64": "double", "float16": "c10::Half"}.get(dtype.name, dtype.name)


lerp_scalar = OpDef("lerp", inputs=("self", "end"), type_rule="none", node_name="LerpBackward0", explain=_check_lerp)


@lerp_scalar.impl
def _(xp, a, end, weight):
    return _lerp_array(xp, a, end, float(weight))


@lerp_scalar.backward
def _(ctx, grad):
    w = ctx._attrs["weight"]
    need_a, need_end = ctx.needs_input_grad
    return (grad * (1 - w) if need_a else None), (grad * w if need_end else None)


lerp_tensor = OpDef("lerp_tensor", inputs=("self", "end", "weight"), type_rule="none", node_name="LerpBackward1",
                    save=("self", "end", "weight"), explain=_check_lerp)


@lerp_tensor.impl
def _(xp, a, end, weight):
    return _lerp_array(xp, a, end, weight)


@lerp_tensor.backward
def _(ctx, grad):
    a, end, w = ctx.saved_tensors
    need_a, need_end, need_w = ctx.needs_input_grad
    return ((grad * (1 - w)) if need_a else None, (grad * w) if need_end else None,
            (grad * (end - a)) if need_w else None)


# ---------------------------------------------------------------------- public functions
def _value_attrs(value):
    return {} if value == 1 else {"value": value}


def addcmul(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * tensor1 * tensor2`` (PyTorch's ``torch.addcmul``)."""
    return addcmul_op(input, tensor1, tensor2, **_value_attrs(value))


def addcdiv(input, tensor1, tensor2, *, value=1):  # noqa: A002
    """``input + value * tensor1 / tensor2`` (PyTorch's ``torch.addcdiv``)."""
    return addcdiv_op(input, tensor1, tensor2, **_value_attrs(value))


def lerp(input, end, weight):  # noqa: A002
    """``input + weight * (end - input)`` (PyTorch's ``torch.lerp``); ``weight`` a number or a tensor."""
    if isinstance(weight, Tensor):
        _check_lerp(lerp_tensor, (input, end, weight), {})
        return lerp_tensor(input, end, weight)
    _check_lerp(lerp_scalar, (input, end), {})
    return lerp_scalar(input, end, weight=float(weight))


def _inplace(fn, name):
    def method(self, *args, **kwargs):
        from ..dispatch.dispatcher import check_inplace_allowed, write_into
        check_inplace_allowed(self, name)
        write_into(self, fn(self, *args, **kwargs), name)
        return self
    method.__name__ = name
    return method


addcmul_ = _inplace(addcmul, "addcmul_")
addcdiv_ = _inplace(addcdiv, "addcdiv_")
lerp_ = _inplace(lerp, "lerp_")

OPS = [addcmul_op, addcdiv_op, lerp_scalar, lerp_tensor]
