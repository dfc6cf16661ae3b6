"""Padding of the trailing dims: constant (any number of dims, negative pads crop), reflect and
replicate (1-3 dims, each with its own op and node, as PyTorch), and circular (composed of slices).

``pad`` lists (left, right) pairs from the last dim backwards, as in PyTorch. The gradient of a
reflect or replicate pad folds the padded border back onto the positions it copied; that fold
is linear, and its own gradient is the pad again, so gradients of any order stay in this family.
"""

from __future__ import annotations

from .. import dtypes as _dtypes
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import c_contiguous

__all__ = ["pad", "constant_pad_nd"]


def _key(ndim, dim, sl):
    return (slice(None),) * dim + (sl,) + (slice(None),) * (ndim - dim - 1)


# ---------------------------------------------------------------------- constant
constant_pad_nd_op = OpDef("constant_pad_nd", type_rule="none", node_name="ConstantPadNdBackward0")


@constant_pad_nd_op.impl
def _(xp, a, pad, value=0):
    shape = list(a.shape)
    src = [slice(None)] * a.ndim
    dst = [slice(None)] * a.ndim
    for i in range(len(pad) // 2):
        dim = a.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = a.shape[dim]
        start, stop = max(0, -lo), size - max(0, -hi)
        shape[dim] = size + lo + hi
        src[dim] = slice(start, max(start, stop))
        dst[dim] = slice(max(0, lo), max(0, lo) + max(0, stop - start))
    out = xp.full(shape, value, dtype=a.dtype) if value else xp.zeros(shape, dtype=a.dtype)
    out[tuple(dst)] = a[tuple(src)]
    return out


@constant_pad_nd_op.backward
def _(ctx, grad):
    return constant_pad_nd_op(grad, pad=tuple(-p for p in ctx.pad), value=0)


def _check_pad_length(input, pad):  # noqa: A002
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * input.ndim:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")


def constant_pad_nd(input, pad, value=0):  # noqa: A002
    """Pad with ``value`` (negative pads crop), PyTorch's ``constant_pad_nd``."""
    pad = tuple(pad)
    _check_pad_length(input, pad)
    for i in range(len(pad) // 2):
        size = input.shape[input.ndim - 1 - i]
        lo, hi = pad[2 * i], pad[2 * i + 1]
        # PyTorch crops the negative pads with narrow() first, left then right
        if lo < 0:
            size += lo
            if size < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
        if hi < 0:
            size += hi
            if size < 0:
                raise RuntimeError("narrow(): length must be non-negative.")
    return constant_pad_nd_op(input, pad=pad, value=value)


# ---------------------------------------------------------------------- reflect / replicate
def _split(pad):
    """(positive pads, per-dim crops), trailing dims last-first as in ``pad``."""
    n = len(pad) // 2
    grow = [(max(0, pad[2 * i]), max(0, pad[2 * i + 1])) for i in range(n)]
    crop = [(max(0, -pad[2 * i]), max(0, -pad[2 * i + 1])) for i in range(n)]
    return grow, crop


def _pad_dim(xp, a, dim, lo, hi, reflect):
    """``a`` grown by ``lo`` and ``hi`` positions along ``dim``: mirrored about the edge element
    (reflect) or copies of it (replicate). Slices and one ``concat``: the standard has no ``pad``."""
    nd, n = a.ndim, a.shape[dim]
    parts = []
    if lo:
        if reflect:
            parts.append(xp.flip(a[_key(nd, dim, slice(1, lo + 1))], axis=dim))
        else:
            parts.append(xp.broadcast_to(a[_key(nd, dim, slice(0, 1))], a.shape[:dim] + (lo,) + a.shape[dim + 1:]))
    parts.append(a)
    if hi:
        if reflect:
            parts.append(xp.flip(a[_key(nd, dim, slice(n - 1 - hi, n - 1))], axis=dim))
        else:
            parts.append(xp.broadcast_to(a[_key(nd, dim, slice(n - 1, n))], a.shape[:dim] + (hi,) + a.shape[dim + 1:]))
    return xp.concat(parts, axis=dim)


def _border_pad(xp, a, pad, reflect):
    grow, crop = _split(pad)
    out = a
    for i, (lo, hi) in enumerate(grow):
        if lo or hi:
            out = _pad_dim(xp, out, a.ndim - 1 - i, lo, hi, reflect)
    if any(lo or hi for lo, hi in crop):
        key = [slice(None)] * a.ndim
        for i, (lo, hi) in enumerate(crop):
            dim = a.ndim - 1 - i
            key[dim] = slice(lo, out.shape[dim] - hi)
        out = out[tuple(key)]
    return c_contiguous(xp, out) if out is not a else xp.asarray(a, copy=True)


def _border_fold(xp, grad, pad, input_shape, reflect):
    """The adjoint of ``_border_pad``: borders added back onto the positions they were copied from."""
    grow, crop = _split(pad)
    g = grad
    nd = g.ndim
    for i, ((lo, hi), (clo, chi)) in enumerate(zip(grow, crop)):
        dim = nd - 1 - i
        if clo or chi:  # cropped positions get no gradient
            shape = list(g.shape)
            shape[dim] += clo + chi
            grown = xp.zeros(tuple(shape), dtype=g.dtype)
            grown[_key(nd, dim, slice(clo, clo + g.shape[dim]))] = g
            g = grown
        if not (lo or hi):
            continue
        n = input_shape[dim]
        core = xp.asarray(g[_key(nd, dim, slice(lo, lo + n))], copy=True)
        if reflect:
            if lo:
                core[_key(nd, dim, slice(1, lo + 1))] += xp.flip(g[_key(nd, dim, slice(0, lo))], axis=dim)
            if hi:
                core[_key(nd, dim, slice(n - 1 - hi, n - 1))] += xp.flip(
                    g[_key(nd, dim, slice(lo + n, lo + n + hi))], axis=dim)
        else:
            if lo:
                core[_key(nd, dim, slice(0, 1))] += xp.sum(g[_key(nd, dim, slice(0, lo))], axis=dim, keepdims=True)
            if hi:
                core[_key(nd, dim, slice(n - 1, n))] += xp.sum(
                    g[_key(nd, dim, slice(lo + n, lo + n + hi))], axis=dim, keepdims=True)
        g = core
    return g if g is not grad else xp.asarray(g, copy=True)


def _border_ops(kind, nd):
    """The forward and backward ops of reflection or replication padding of ``nd`` trailing dims."""
    title = {"reflection": "Reflection", "replication": "Replication"}[kind]
    reflect = kind == "reflection"
    fwd = OpDef(f"{kind}_pad{nd}d", type_rule="none", node_name=f"{title}Pad{nd}DBackward0")
    bwd = OpDef(f"{kind}_pad{nd}d_backward", type_rule="none", node_name=f"{title}Pad{nd}DBackwardBackward0")

    @fwd.impl
    def _(xp, a, pad):
        return _border_pad(xp, a, pad, reflect)

    @fwd.backward
    def _(ctx, grad):
        return bwd(grad, pad=ctx.pad, input_shape=tuple(ctx.input_shape()))

    @bwd.impl
    def _(xp, g, pad, input_shape):
        return _border_fold(xp, g, pad, input_shape, reflect)

    @bwd.backward
    def _(ctx, gg):
        return fwd(gg, pad=ctx.pad)

    return fwd, bwd


_BORDER = {(kind, nd): _border_ops(kind, nd) for kind in ("reflection", "replication") for nd in (1, 2, 3)}

_TYPE_NAME = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def _border_pad_checked(kind, input, pad):  # noqa: A002
    nd = len(pad) // 2
    if any(input.shape[d] == 0 for d in range(input.ndim - nd - 1, input.ndim)):
        raise RuntimeError(f"Expected {nd + 1}D or {nd + 2}D (batch mode) tensor with possibly 0 batch size and "
                           f"other non-zero dimensions for input, but got: {list(input.shape)}")
    if input.dtype.name == "bool":
        raise NotImplementedError(f"\"{kind}_pad{nd}d\" not implemented for 'Bool'")
    names = "WHD"
    out = []
    for i in range(nd):
        dim = input.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = input.shape[dim]
        if kind == "reflection" and (lo >= size or hi >= size):
            raise RuntimeError(f"Argument #{4 + 2 * i}: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({lo}, {hi}) at dimension {dim} of input "
                               f"{list(input.shape)}")
        out.append((names[i], size, size + lo + hi))
    if any(o < 0 for _, _, o in out) or (nd == 1 and out[0][2] <= 0):
        dims = list(reversed(out))
        raise RuntimeError(f"input ({', '.join(f'{n}: {s}' for n, s, _ in dims)}) is too small. Calculated output "
                           f"{' '.join(f'{n}: {o}' for n, _, o in dims)}")
    return _BORDER[(kind, nd)][0](input, pad=tuple(pad))


def _circular_pad(input, pad):  # noqa: A002
    """Wrap-around padding from slices and ``cat``; negative pads crop first, as in PyTorch."""
    from .shape import cat
    x = input
    for i in range(len(pad) // 2):
        dim = x.ndim - 1 - i
        lo, hi = pad[2 * i], pad[2 * i + 1]
        size = x.shape[dim]
        if lo > size or hi > size:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if lo < 0 or hi < 0:
            start, stop = max(0, -lo), size - max(0, -hi)
            if stop - start <= 0:
                raise RuntimeError("Negative padding value is resulting in an empty dimension")
            x = x.narrow(dim, start, stop - start)
            size = stop - start
        parts = []
        if lo > 0:
            parts.append(x.narrow(dim, size - lo, lo))
        parts.append(x)
        if hi > 0:
            parts.append(x.narrow(dim, 0, hi))
        if len(parts) > 1:
            x = cat(parts, dim)
    return x if x is not input else x.clone()


_SUPPORTED = """Supported combinations for non-constant padding:
  - 2D or 3D input: padding size = 2 (pads last dimension)
  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)
  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"""


def pad(input, pad, mode="constant", value=None):  # noqa: A002
    """Pad the trailing dims of ``input``: ``pad`` = (left, right) of the last dim, then the one before, ...

    Modes 'constant' (``value``, default 0), 'reflect', 'replicate' and 'circular', as PyTorch's ``F.pad``.
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"pad(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    try:
        pads = tuple(pad)
    except TypeError:
        raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, not {type(pad).__name__}") from None
    for i, p in enumerate(pads):
        if not isinstance(p, int) or isinstance(p, bool):
            raise TypeError(f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of type "
                            f"{type(p).__name__} at pos {i}")
    if mode == "constant":
        return constant_pad_nd(input, pads, 0 if value is None else value)
    if value is not None and value != 0:
        raise RuntimeError(f"Padding mode \"{mode}\" doesn't take in value argument")
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    _check_pad_length(input, pads)
    nd = len(pads) // 2
    if nd not in (1, 2, 3) or input.ndim not in (nd + 1, nd + 2):
        raise NotImplementedError(f"Padding size {len(pads)} is not supported for {input.ndim}D input tensor.\n"
                                  + _SUPPORTED)
    if mode == "circular":
        return _circular_pad(input, pads)
    return _border_pad_checked("reflection" if mode == "reflect" else "replication", input, pads)


OPS = [constant_pad_nd_op] + [op for pair in _BORDER.values() for op in pair]
