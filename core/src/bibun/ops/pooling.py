"""Pooling: max (with indices), average and adaptive average, over the trailing spatial dims.

Kernels loop over the kernel offsets only: the windows of the input are a strided view,
copied once into a (K, ..., *out) array whose rows are contiguous, and reduced row by row.
Each op's gradient is an op of its own (written without scatter-add: one strided add, or one
strided assignment when the windows do not overlap, per kernel offset), and the gradient of
that is the pooling again (or a gather for max), so second derivatives work.
1-D pooling is the 2-D op on an unsqueezed input, as in PyTorch (SqueezeBackward1 on top).
"""

from __future__ import annotations

import functools
import itertools
import math

from .. import dtypes as _dtypes
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import c_contiguous, numpy_extras
from ._util import int_tuple
from .convolution import pad_array, window_keys

__all__ = ["max_pool1d", "max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "avg_pool1d",
           "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "pool_output_size"]


def pool_output_size(size, kernel, stride, padding, dilation, ceil_mode):
    """PyTorch's pooling output length per dim; with ceil_mode the last window must start inside
    the input or its left padding."""
    out = []
    for n, k, s, p, d in zip(size, kernel, stride, padding, dilation):
        o = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
        if ceil_mode and (o - 1) * s >= n + p:
            o -= 1
        out.append(o)
    return tuple(out)


def _extent(size, kernel, stride, padding, dilation, out):
    """Length of the padded axis the windows reach: left pad + input + right pad, or more in ceil mode."""
    return tuple(max((o - 1) * s + (k - 1) * d + 1, p + n + p)
                 for n, k, s, p, d, o in zip(size, kernel, stride, padding, dilation, out))


def _rows(xp, a, nd, kernel, stride, dilation, out):
    """The windows of ``a`` (already padded) as a contiguous (K, *lead, *out) array: one slice per
    kernel offset, stacked (as fast as copying a strided view, and within the standard)."""
    return xp.stack([a[key] for key in window_keys(kernel, stride, dilation, out)], axis=0)


def _device_key(xp):
    """Which device arrays of ``xp`` live on now (None for a host library), for the index cache."""
    cuda = getattr(xp, "cuda", None)
    device = getattr(cuda, "Device", None)
    return device().id if device is not None else None


def _flat_positions(xp, size, kernel, stride, padding, dilation, out):
    """(first, steps, step_list): the flat input index of each window's first element (may lie in
    the padding), and what each kernel offset adds to it (as an array and as ints). Cached: the
    same geometry recurs every step, and the arrays are only ever read."""
    return _flat_positions_cached(xp, _device_key(xp), tuple(size), tuple(kernel), tuple(stride), tuple(padding),
                                  tuple(dilation), tuple(out))


@functools.lru_cache(maxsize=256)
def _flat_positions_cached(xp, device, size, kernel, stride, padding, dilation, out):
    row = [math.prod(size[i + 1:]) for i in range(len(size))]
    first = None
    for i, (o, s, p, r) in enumerate(zip(out, stride, padding, row)):
        axis = (xp.arange(o, dtype=xp.int64) * s - p) * r
        axis = xp.reshape(axis, (o,) + (1,) * (len(out) - i - 1))
        first = axis if first is None else first + axis
    offsets = itertools.product(*(range(k) for k in kernel))
    step = [sum(k * d * r for k, d, r in zip(off, dilation, row)) for off in offsets]
    return first, xp.asarray(step, dtype=xp.int64), step


def _scatter_windows(xp, rows, lead_shape, size, kernel, stride, padding, dilation, out):
    """The adjoint of ``_rows``: each offset's row added onto the input positions it was read from
    (assigned, when no two windows overlap)."""
    extent = _extent(size, kernel, stride, padding, dilation, out)
    buf = xp.zeros(tuple(lead_shape) + tuple(extent), dtype=rows.dtype)
    disjoint = all(s >= (k - 1) * d + 1 for k, s, d in zip(kernel, stride, dilation))
    for q, key in enumerate(window_keys(kernel, stride, dilation, out)):
        if disjoint:
            buf[key] = rows[q, ...]
        else:
            buf[key] += rows[q, ...]
    crop = tuple(slice(p, p + n) for p, n in zip(padding, size))
    if tuple(extent) == tuple(size):
        return buf
    return c_contiguous(xp, buf[(Ellipsis,) + crop])


def _lowest(xp, dtype):
    if xp.isdtype(dtype, "real floating"):
        return -float("inf")
    return int(xp.iinfo(dtype).min)


# ---------------------------------------------------------------------- max pooling
_POOL_ATTRS = ("kernel_size", "stride", "padding", "dilation", "ceil_mode")


def _max_pool_kernel(xp, a, kernel_size, stride, padding, dilation, ceil_mode):
    nd = len(kernel_size)
    size = a.shape[-nd:]
    out = pool_output_size(size, kernel_size, stride, padding, dilation, ceil_mode)
    extent = _extent(size, kernel_size, stride, padding, dilation, out)
    lowest = _lowest(xp, a.dtype)
    rows = _rows(xp, pad_array(xp, a, padding, extent, lowest), nd, kernel_size, stride, dilation, out)
    m = xp.max(rows, axis=0)
    # the first offset holding the max, in scan order (PyTorch keeps the first of equal values)
    # (counting the leading offsets that miss it; the last offset is never tested, so loc < K)
    k = rows.shape[0]
    loc = xp.zeros(m.shape, dtype=xp.int8 if k < 128 else xp.int64)
    if k > 1:
        missing = rows[0, ...] != m
        loc += xp.astype(missing, loc.dtype)
        for q in range(1, k - 1):
            missing &= rows[q, ...] != m
            loc += xp.astype(missing, loc.dtype)
    first, steps, step = _flat_positions(xp, size, kernel_size, stride, padding, dilation, out)
    index = first + xp.reshape(xp.take(steps, xp.reshape(loc, (-1,))), loc.shape)
    if xp.isdtype(a.dtype, "real floating") and bool(xp.any(xp.isnan(m))):
        # PyTorch lets every NaN replace the running max: the index is the last NaN's
        last = xp.zeros(m.shape, dtype=xp.int64)
        for q in range(k):
            last = xp.where(xp.isnan(rows[q, ...]), step[q], last)
        index = xp.where(xp.isnan(m), first + last, index)
    if any(padding) or extent != tuple(p + n + p for p, n in zip(padding, size)) or ceil_mode:
        index = _first_valid_for_empty(xp, m, index, lowest, size, kernel_size, stride, padding, dilation, out)
    return m, index


def _first_valid_for_empty(xp, m, index, lowest, size, kernel, stride, padding, dilation, out):
    """A window whose values are all the lowest value may have matched on padding: PyTorch reports
    the window's first position inside the input there."""
    at_floor = m == lowest
    if not bool(xp.any(at_floor)):
        return index
    row = [math.prod(size[i + 1:]) for i in range(len(size))]
    first = None
    for i, (o, s, p, d, r) in enumerate(zip(out, stride, padding, dilation, row)):
        start = xp.arange(o, dtype=xp.int64) * s - p
        start = xp.where(start < 0, start + ((-start + d - 1) // d) * d, start)  # first in-input tap
        axis = xp.reshape(start * r, (o,) + (1,) * (len(out) - i - 1))
        first = axis if first is None else first + axis
    return xp.where(at_floor, first, index)


max_pool2d_op = OpDef("max_pool2d_with_indices", type_rule="none", outputs=2, nondiff_outputs=(1,),
                      save=("result1",), node_name="MaxPool2DWithIndicesBackward0")
max_pool2d_op.impl(_max_pool_kernel)


@max_pool2d_op.backward
def _(ctx, grad, _grad_indices=None):
    (indices,) = ctx.saved_tensors
    attrs = {k: ctx._attrs[k] for k in _POOL_ATTRS}
    return max_pool2d_backward(grad, indices, input_shape=tuple(ctx.input_shape()), **attrs)


max_pool2d_backward = OpDef("max_pool2d_with_indices_backward", inputs=("grad_output", "indices"),
                            differentiable=("grad_output",), type_rule="none", save=("indices",),
                            node_name="MaxPool2DWithIndicesBackwardBackward0")


@max_pool2d_backward.impl
def _(xp, grad, indices, input_shape, kernel_size, stride, padding, dilation, ceil_mode):
    nd = len(kernel_size)
    size = tuple(input_shape[-nd:])
    out = grad.shape[-nd:]
    if numpy_extras(xp) and all(s >= (k - 1) * d + 1 for k, s, d in zip(kernel_size, stride, dilation)):
        # disjoint windows: every input position is some window's max at most once, so the
        # gradient is a plain assignment through the flat indices (no accumulation needed)
        plane = math.prod(size)
        lead = grad.shape[:-nd]
        base = (xp.arange(math.prod(lead), dtype=xp.int64) * plane).reshape(lead + (1,) * nd)
        gx = xp.zeros(math.prod(lead) * plane, dtype=grad.dtype)
        gx[(indices + base).reshape(-1)] = grad.reshape(-1)
        return gx.reshape(tuple(lead) + size)
    # the standard has no assignment through integer indices: each offset's share, scattered back
    first, _, step = _flat_positions(xp, size, kernel_size, stride, padding, dilation, out)
    rel = indices - first  # the winning offset, as a flat step from the window's first element
    zero = xp.zeros((), dtype=grad.dtype)
    rows = xp.stack([xp.where(rel == s, grad, zero) for s in step])
    return _scatter_windows(xp, rows, grad.shape[:-nd], size, kernel_size, stride, padding, dilation, out)


@max_pool2d_backward.backward
def _(ctx, gg):
    (indices,) = ctx.saved_tensors
    nd = len(ctx.kernel_size)
    flat = gg.flatten(gg.ndim - nd)
    picked = flat.gather(flat.ndim - 1, indices.flatten(indices.ndim - nd))
    return picked.reshape(tuple(indices.shape))


# ---------------------------------------------------------------------- average pooling
def _divisor(xp, size, kernel, stride, padding, out, count_include_pad, divisor_override, dtype):
    """PyTorch's per-window divisor: the window clipped to the padded input (count_include_pad) or
    to the input itself, as an array broadcasting over the output positions."""
    if divisor_override:
        return xp.asarray(divisor_override, dtype=dtype)
    total = None
    for i, (n, k, s, p, o) in enumerate(zip(size, kernel, stride, padding, out)):
        start = xp.arange(o, dtype=xp.int64) * s - p
        end = xp.minimum(start + k, n + p)
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, n) - xp.maximum(start, 0)
        count = xp.reshape(count, (o,) + (1,) * (len(out) - i - 1))
        total = count if total is None else total * count
    return xp.astype(total, dtype) if xp.isdtype(dtype, "real floating") else total


def _divide(xp, total, divisor):
    if xp.isdtype(total.dtype, "real floating"):
        return total / divisor
    # integer pooling divides as C does: truncation toward zero
    q = xp.abs(total) // divisor
    return xp.astype(xp.where(total < 0, -q, q), total.dtype)


_AVG_ATTRS = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")


def _avg_geometry(a_shape, kernel_size, stride, padding, ceil_mode):
    nd = len(kernel_size)
    size = tuple(a_shape[-nd:])
    out = pool_output_size(size, kernel_size, stride, padding, (1,) * nd, ceil_mode)
    return nd, size, out


avg_pool2d_op = OpDef("avg_pool2d", type_rule="none", node_name="AvgPool2DBackward0")


@avg_pool2d_op.impl
def _(xp, a, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    nd, size, out = _avg_geometry(a.shape, kernel_size, stride, padding, ceil_mode)
    ones = (1,) * nd
    extent = _extent(size, kernel_size, stride, padding, ones, out)
    rows = _rows(xp, pad_array(xp, a, padding, extent), nd, kernel_size, stride, ones, out)
    total = xp.sum(rows, axis=0, dtype=rows.dtype)
    return _divide(xp, total, _divisor(xp, size, kernel_size, stride, padding, out, count_include_pad,
                                       divisor_override, a.dtype))


@avg_pool2d_op.backward
def _(ctx, grad):
    return avg_pool2d_backward(grad, input_shape=tuple(ctx.input_shape()), **{k: ctx._attrs[k] for k in _AVG_ATTRS})


avg_pool2d_backward = OpDef("avg_pool2d_backward", inputs=("grad_output",), type_rule="none",
                            node_name="AvgPool2DBackwardBackward0")


@avg_pool2d_backward.impl
def _(xp, grad, input_shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    nd, size, out = _avg_geometry(input_shape, kernel_size, stride, padding, ceil_mode)
    share = grad / _divisor(xp, size, kernel_size, stride, padding, out, count_include_pad, divisor_override,
                            grad.dtype)
    rows = xp.broadcast_to(share, (math.prod(kernel_size),) + share.shape)
    return _scatter_windows(xp, rows, grad.shape[:-nd], size, kernel_size, stride, padding, (1,) * nd, out)


@avg_pool2d_backward.backward
def _(ctx, gg):
    return avg_pool2d_op(gg, **{k: ctx._attrs[k] for k in _AVG_ATTRS})


# ---------------------------------------------------------------------- adaptive average pooling
def _adaptive_matrix(xp, n, o, dtype):
    """(o, n): row i averages the input positions [floor(i*n/o), ceil((i+1)*n/o))."""
    i = xp.arange(o, dtype=xp.int64)
    start = (i * n) // o
    end = ((i + 1) * n + o - 1) // o
    j = xp.arange(n, dtype=xp.int64)
    inside = (j >= start[:, None]) & (j < end[:, None])
    return xp.astype(inside, dtype) / xp.astype((end - start)[:, None], dtype)


def _adaptive_apply(xp, a, mh, mw):
    """mh @ a @ mw.T over the last two dims, folding the leading dims into one product."""
    lead = a.shape[:-2]
    h, w = a.shape[-2:]
    t = xp.reshape(xp.matmul(xp.reshape(a, (-1, w)), xp.matrix_transpose(mw)), lead + (h, mw.shape[0]))
    return xp.matmul(mh, t)


adaptive_avg_pool2d_op = OpDef("adaptive_avg_pool2d", type_rule="none", node_name="AdaptiveAvgPool2DBackward0")


@adaptive_avg_pool2d_op.impl
def _(xp, a, output_size):
    (h, w), (oh, ow) = a.shape[-2:], output_size
    return _adaptive_apply(xp, a, _adaptive_matrix(xp, h, oh, a.dtype), _adaptive_matrix(xp, w, ow, a.dtype))


@adaptive_avg_pool2d_op.backward
def _(ctx, grad):
    return adaptive_avg_pool2d_backward(grad, input_shape=tuple(ctx.input_shape()))


adaptive_avg_pool2d_backward = OpDef("adaptive_avg_pool2d_backward", inputs=("grad_output",), type_rule="none",
                                     node_name="AdaptiveAvgPool2DBackwardBackward0")


@adaptive_avg_pool2d_backward.impl
def _(xp, grad, input_shape):
    (oh, ow), (h, w) = grad.shape[-2:], input_shape[-2:]
    mh = _adaptive_matrix(xp, h, oh, grad.dtype)
    mw = _adaptive_matrix(xp, w, ow, grad.dtype)
    return _adaptive_apply(xp, grad, c_contiguous(xp, xp.matrix_transpose(mh)),
                           c_contiguous(xp, xp.matrix_transpose(mw)))


@adaptive_avg_pool2d_backward.backward
def _(ctx, gg):
    return adaptive_avg_pool2d_op(gg, output_size=tuple(ctx.input_shape())[-2:])


# ---------------------------------------------------------------------- argument checks
_TYPE_NAME = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def _pair(value, fn, name, message):
    v = int_tuple(value, fn, name)
    if len(v) == 1:
        return v * 2
    if len(v) != 2:
        raise RuntimeError(f"{fn}: {name} {message}")
    return v


def _pool2d_params(fn, kernel_size, stride, padding, dilation=1):
    k = _pair(kernel_size, fn, "kernel_size", "must either be a single int, or a tuple of two ints")
    if stride is None or (not isinstance(stride, int) and len(int_tuple(stride, fn, "stride")) == 0):
        s = k
    else:
        s = _pair(stride, fn, "stride", "must either be omitted, a single int, or a tuple of two ints")
    p = _pair(padding, fn, "padding", "must either be a single int, or a tuple of two ints")
    d = _pair(dilation, fn, "dilation", "must be either a single int, or a tuple of two ints")
    return k, s, p, d


def _check_pool2d(input, k, s, p, d, ceil_mode):  # noqa: A002
    """PyTorch's pool2d shape checks, in its order; returns the output size."""
    size = tuple(input.shape[-2:])
    for kk, ss, pp, dd in zip(k, s, p, d):
        if ss == 0:
            raise RuntimeError("stride should not be zero")
        if pp < 0:
            raise RuntimeError(f"pad must be non-negative, but got pad: {pp}")
        if pp > ((kk - 1) * dd + 1) // 2:
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={pp}, "
                               f"kernel_size={kk} and dilation={dd}")
    out = pool_output_size(size, k, s, p, d, ceil_mode)
    if k[0] <= 0 or k[1] <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {k[0]} kW: {k[1]}")
    if s[0] <= 0 or s[1] <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got dH: {s[0]} dW: {s[1]}")
    if d[0] <= 0 or d[1] <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {d[0]} dilationW: {d[1]}")
    if input.ndim not in (3, 4) or any(n == 0 for n in input.shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but "
                           f"got:{list(input.shape)}")
    if out[0] < 1 or out[1] < 1:
        c = input.shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{size[0]}x{size[1]}). Calculated output size: "
                           f"({c}x{out[0]}x{out[1]}). Output size is too small")
    return out


def _check_tensor(fn, input):  # noqa: A002
    if not isinstance(input, Tensor):
        raise TypeError(f"{fn}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")


def _not_bool(name, input):  # noqa: A002
    if input.dtype.name == "bool":
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
                            return_indices=True):
    """(max, flat index of the max within each input plane) over 2-D windows; gradient to the max."""
    _check_tensor("max_pool2d", input)
    k, s, p, d = _pool2d_params("max_pool2d", kernel_size, stride, padding, dilation)
    if input.ndim not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    _check_pool2d(input, k, s, p, d, ceil_mode)
    _not_bool("max_pool2d", input)
    return max_pool2d_op(input, kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=bool(ceil_mode))


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over 2-D windows of (N, C, H, W) or (C, H, W); ``stride`` defaults to ``kernel_size``."""
    out, indices = max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def _single(value, fn, name):
    v = int_tuple(value, fn, name)
    if len(v) != 1:
        raise RuntimeError(f"{fn}() {name} must be an int, list of ints or tuple of ints of size 1 but got size "
                           f"{len(v)}")
    return v[0]


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
                            return_indices=True):
    """1-D max pooling as the 2-D op over an inserted unit dim, with PyTorch's 1-D checks."""
    _check_tensor("max_pool1d", input)
    fn = "max_pool1d"
    if input.ndim not in (2, 3) or any(n == 0 for n in input.shape[-2:]):
        raise RuntimeError(f"{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{list(input.shape)}")
    k = _single(kernel_size, fn, "kernel_size")
    no_stride = stride is None or (not isinstance(stride, int) and len(int_tuple(stride, fn, "stride")) == 0)
    s = k if no_stride else _single(stride, fn, "stride")
    p = _single(padding, fn, "padding")
    d = _single(dilation, fn, "dilation")
    if k <= 0:
        raise RuntimeError(f"{fn}() kernel_size must be greater than zero, but got {k}")
    if s <= 0:
        raise RuntimeError(f"{fn}() stride must be greater than zero, but got {s}")
    if p < 0:
        raise RuntimeError(f"{fn}() padding must be non-negative, but got {p}")
    if p > k // 2:
        raise RuntimeError(f"{fn}() padding should be at most half of kernel size, but got padding={p} and "
                           f"kernel_size={k}")
    if d <= 0:
        raise RuntimeError(f"{fn}() dilation must be greater than zero, but got {d}")
    (o,) = pool_output_size(input.shape[-1:], (k,), (s,), (p,), (d,), ceil_mode)
    if o <= 0:
        raise RuntimeError(f"{fn}() Invalid computed output size: {o}")
    _not_bool("max_pool2d", input)
    out, indices = max_pool2d_op(input.unsqueeze(-2), kernel_size=(1, k), stride=(1, s), padding=(0, p),
                                 dilation=(1, d), ceil_mode=bool(ceil_mode))
    return out.squeeze(-2), indices.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,  # noqa: A002
               return_indices=False):
    """Max over 1-D windows of (N, C, L) or (C, L)."""
    out, indices = max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (out, indices) if return_indices else out


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,  # noqa: A002
               divisor_override=None):
    """Mean over 2-D windows; the divisor follows PyTorch (padding counted or not, or an override)."""
    _check_tensor("avg_pool2d", input)
    k, s, p, _ = _pool2d_params("avg_pool2d", kernel_size, stride, padding)
    if input.ndim < 3:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-max(input.ndim, 1)}, "
                         f"{max(input.ndim, 1) - 1}], but got -3)")
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    _check_pool2d(input, k, s, p, (1, 1), ceil_mode)
    _not_bool("avg_pool2d", input)
    return avg_pool2d_op(input, kernel_size=k, stride=s, padding=p, ceil_mode=bool(ceil_mode),
                         count_include_pad=bool(count_include_pad), divisor_override=divisor_override)


def _check_1d_rank(fn, input):  # noqa: A002
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {input.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {fn})")


def _one_int(value, fn, name):
    v = int_tuple(value, fn, name)
    if len(v) != 1:
        raise RuntimeError(f"{fn}() argument '{name}' should contain one int (got {len(v)})")
    return v[0]


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):  # noqa: A002
    """Mean over 1-D windows of (N, C, L) or (C, L): the 2-D op over an inserted unit dim."""
    _check_tensor("avg_pool1d", input)
    _check_1d_rank("avg_pool1d", input)
    k = _one_int(kernel_size, "avg_pool1d", "kernel_size")
    no_stride = stride is None or (not isinstance(stride, int) and len(int_tuple(stride, "avg_pool1d", "stride")) == 0)
    s = k if no_stride else _one_int(stride, "avg_pool1d", "stride")
    p = _one_int(padding, "avg_pool1d", "padding")
    x = input.unsqueeze(-2)
    _check_pool2d(x, (1, k), (1, s), (0, p), (1, 1), ceil_mode)
    _not_bool("avg_pool2d", input)
    out = avg_pool2d_op(x, kernel_size=(1, k), stride=(1, s), padding=(0, p), ceil_mode=bool(ceil_mode),
                        count_include_pad=bool(count_include_pad), divisor_override=None)
    return out.squeeze(-2)


def _adaptive_size(output_size, size, fn):
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    out = tuple(output_size)
    if len(out) != 2:
        raise RuntimeError(f"{fn}: output_size must be 2")
    out = tuple(n if o is None else o for o, n in zip(out, size))
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fn}: elements of output_size must be greater than or equal to 0 but received "
                           f"{{{out[0]}, {out[1]}}}")
    return out


def adaptive_avg_pool2d(input, output_size):  # noqa: A002
    """Mean over windows [floor(i*H/oh), ceil((i+1)*H/oh)) so that the output is exactly ``output_size``."""
    _check_tensor("adaptive_avg_pool2d", input)
    out = _adaptive_size(output_size, tuple(input.shape[-2:]), "adaptive_avg_pool2d")
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got {list(input.shape)}")
    for i in range(1, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(f"adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with dimension {i} being empty")
    if not input.is_floating_point():
        raise NotImplementedError(f"\"adaptive_avg_pool2d\" not implemented for '{_TYPE_NAME[input.dtype.name]}'")
    if out == (1, 1):
        return input.mean((-1, -2), keepdim=True)  # PyTorch's shortcut (MeanBackward1)
    return adaptive_avg_pool2d_op(input, output_size=out)


def adaptive_avg_pool1d(input, output_size):  # noqa: A002
    """1-D adaptive average pooling of (N, C, L) or (C, L), through the 2-D op."""
    _check_tensor("adaptive_avg_pool1d", input)
    _check_1d_rank("adaptive_avg_pool1d", input)
    o = _one_int(output_size, "adaptive_avg_pool1d", "output_size")
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, o)).squeeze(-2)


OPS = [max_pool2d_op, max_pool2d_backward, avg_pool2d_op, avg_pool2d_backward, adaptive_avg_pool2d_op,
       adaptive_avg_pool2d_backward]
