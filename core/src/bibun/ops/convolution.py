"""Convolution (1-D, 2-D, 3-D) as im2col + one batched matrix product, for any array namespace.

The columns of an input are a strided view of its zero-padded copy, shaped
``(N, C, *kernel, *out)``, reshaped (one copy) to ``(N, C*K, P)``; one ``matmul`` with the
weight as ``(O, C*K)`` gives ``(N, O, P)``, already in NC... order. Only the kernel offsets are
looped over (in the input gradient), never the batch or the pixels.

``convolution`` (node ConvolutionBackward0) is differentiated by two ops of its own:
``convolution_backward_input`` (the transposed convolution of the output gradient) and
``convolution_backward_weight`` (the correlation of the input with the output gradient).
Each is linear in each of its two tensors and its derivatives are again ops of these three,
so gradients of any order stay in this family (node ConvolutionBackwardBackward0, as PyTorch
names the node of its double backward).
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings

from .. import dtypes as _dtypes
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import c_contiguous, numpy_extras
from ._util import int_tuple

__all__ = ["conv1d", "conv2d", "conv3d", "convolution", "conv_output_size"]


def conv_output_size(size, kernel, stride, padding, dilation):
    """Output length of a convolution (or a pooling without ceil mode) along each spatial dim."""
    return tuple((s + 2 * p - d * (k - 1) - 1) // t + 1
                 for s, k, t, p, d in zip(size, kernel, stride, padding, dilation))


# ---------------------------------------------------------------------- kernels (xp only)
def pad_array(xp, x, padding, extent=None, fill=0):
    """``x`` at offset ``padding`` in an array filled with ``fill`` whose trailing dims have length ``extent``.

    ``extent`` defaults to ``padding`` on both sides of each trailing dim (pooling in ceil mode
    asks for more on the right); ``x`` itself comes back when that adds nothing.
    """
    nd = len(padding)
    lead, size = x.shape[:x.ndim - nd], x.shape[x.ndim - nd:]
    extent = tuple(s + 2 * p for s, p in zip(size, padding)) if extent is None else tuple(extent)
    if extent == tuple(size):
        return x
    buf = xp.full(lead + extent, fill, dtype=x.dtype)
    buf[(Ellipsis,) + tuple(slice(p, p + s) for p, s in zip(padding, size))] = x
    return buf


def windows(xp, x, kernel, stride, padding, dilation, out):
    """A strided view of padded ``x`` (..., *S) as (..., *kernel, *out): element [..., k, o] is
    x_padded[..., o * stride + k * dilation]. No copy beyond the padding. Only for namespaces
    with strided views (:func:`numpy_extras`)."""
    x = pad_array(xp, x, padding)
    nd = len(kernel)
    st = x.strides
    sp = st[-nd:]
    shape = x.shape[:-nd] + tuple(kernel) + tuple(out)
    strides = st[:-nd] + tuple(s * d for s, d in zip(sp, dilation)) + tuple(s * t for s, t in zip(sp, stride))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def window_keys(kernel, stride, dilation, out):
    """Per kernel offset (in C order), the index of the padded input's positions it reads for every output."""
    return [(Ellipsis,) + tuple(slice(k * d, k * d + (o - 1) * t + 1, t)
                                for k, d, t, o in zip(offset, dilation, stride, out))
            for offset in itertools.product(*(range(k) for k in kernel))]


def _columns(xp, x, kernel, stride, padding, dilation, out, groups):
    """im2col: (N, groups, C/groups * K, P), a fresh array (one copy of the strided view).

    Without strided views (the array API standard has none) the kernel offsets' slices are
    stacked instead: the same array, somewhat slower to build on numpy.
    """
    n, c = x.shape[:2]
    shape = (n, groups, c // groups * math.prod(kernel), math.prod(out))
    if numpy_extras(xp):
        return xp.reshape(windows(xp, x, kernel, stride, padding, dilation, out), shape)
    x = pad_array(xp, x, padding)
    return xp.reshape(xp.stack([x[key] for key in window_keys(kernel, stride, dilation, out)], axis=2), shape)


def _conv_kernel(xp, x, w, b, stride, padding, dilation, groups):
    n = x.shape[0]
    o, kernel = w.shape[0], w.shape[2:]
    out = conv_output_size(x.shape[2:], kernel, stride, padding, dilation)
    cols = _columns(xp, x, kernel, stride, padding, dilation, out, groups)
    if groups == 1:
        y = xp.matmul(xp.reshape(w, (o, -1)), cols[:, 0, ...])  # (O, CK) @ (N, CK, P)
    else:
        y = xp.matmul(xp.reshape(w, (groups, o // groups, -1)), cols)  # (g, O/g, CK/g) @ (N, g, CK/g, P)
    y = xp.reshape(y, (n, o) + out)
    if b is not None:
        y += xp.reshape(b, (o,) + (1,) * len(out))
    return y


def _input_grad_kernel(xp, grad, w, input_shape, stride, padding, dilation, groups):
    """col2im of weight^T @ grad: each kernel offset's columns added onto the input positions they read."""
    n, c = input_shape[:2]
    spatial = input_shape[2:]
    o, kernel = w.shape[0], w.shape[2:]
    out = grad.shape[2:]
    p = math.prod(out)
    if groups == 1:
        wt = c_contiguous(xp, xp.matrix_transpose(xp.reshape(w, (o, -1))))
        cols = xp.matmul(wt, xp.reshape(grad, (n, o, p)))  # (N, CK, P)
    else:
        wt = c_contiguous(xp, xp.matrix_transpose(xp.reshape(w, (groups, o // groups, -1))))
        cols = xp.matmul(wt, xp.reshape(grad, (n, groups, o // groups, p)))  # (N, g, CK/g, P)
    cols = xp.reshape(cols, (n, c) + tuple(kernel) + tuple(out))
    gx = xp.zeros((n, c) + tuple(spatial), dtype=grad.dtype)
    for src, dst in _col2im_plan(tuple(kernel), tuple(out), tuple(stride), tuple(padding), tuple(dilation),
                                 tuple(spatial)):
        gx[dst] += cols[src]
    return gx


@functools.lru_cache(maxsize=256)
def _col2im_plan(kernel, out, stride, padding, dilation, spatial):
    """Per kernel offset: (key into the columns, key into the input) of the output positions whose
    input position j*stride + k*dilation - padding falls inside the input."""
    plan = []
    for offset in itertools.product(*(range(k) for k in kernel)):
        src, dst = [], []
        for k, s, t, pad, d, size in zip(offset, out, stride, padding, dilation, spatial):
            first = max(0, -((k * d - pad) // t))
            last = min(s - 1, (size - 1 + pad - k * d) // t)
            if last < first:
                break
            src.append(slice(first, last + 1))
            start = first * t + k * d - pad
            dst.append(slice(start, start + (last - first) * t + 1, t))
        else:
            plan.append(((slice(None), slice(None)) + offset + tuple(src), (Ellipsis,) + tuple(dst)))
    return tuple(plan)


def _weight_grad_kernel(xp, grad, x, weight_shape, stride, padding, dilation, groups):
    n = x.shape[0]
    o, kernel = weight_shape[0], tuple(weight_shape[2:])
    out = grad.shape[2:]
    p = math.prod(out)
    cols = _columns(xp, x, kernel, stride, padding, dilation, out, groups)  # (N, g, CK/g, P)
    og = o // groups
    ck = cols.shape[2]
    g = xp.reshape(grad, (n, groups, og, p))
    if og * ck <= 2 * p * (og + ck):
        # small per-sample products: one batched matmul, then a sum over the batch
        gw = xp.sum(xp.matmul(g, xp.matrix_transpose(cols)), axis=0)
    else:
        # large ones: fold the batch into the contraction (one GEMM per group, no (N, O, CK) temporary)
        gf = xp.reshape(c_contiguous(xp, xp.moveaxis(g, 0, 2)), (groups, og, n * p))
        cf = xp.reshape(c_contiguous(xp, xp.moveaxis(cols, 0, 2)), (groups, ck, n * p))
        gw = xp.matmul(gf, xp.matrix_transpose(cf))
    return xp.reshape(gw, weight_shape)


# ---------------------------------------------------------------------- ops
_ATTRS = ("stride", "padding", "dilation", "groups")

convolution_op = OpDef("convolution", inputs=("input", "weight", "bias"), type_rule="none",
                       save=("input", "weight"), save_if={"input": ("weight",), "weight": ("input",)},
                       node_name="ConvolutionBackward0")
convolution_op.impl(_conv_kernel)


def _geometry(ctx):
    return {k: ctx._attrs[k] for k in _ATTRS}


@convolution_op.backward
def _(ctx, grad):
    x, w = ctx.saved_tensors
    need_x, need_w, need_b = ctx.needs_input_grad
    geo = _geometry(ctx)
    gx = convolution_backward_input(grad, w, input_shape=tuple(ctx.input_shape(0)), **geo) if need_x else None
    gw = convolution_backward_weight(grad, x, weight_shape=tuple(ctx.input_shape(1)), **geo) if need_w else None
    gb = grad.sum((0,) + tuple(range(2, grad.ndim))) if need_b else None
    return gx, gw, gb


convolution_backward_input = OpDef(
    "convolution_backward_input", inputs=("grad_output", "weight"), type_rule="none",
    save=("grad_output", "weight"), save_if={"grad_output": ("weight",), "weight": ("grad_output",)},
    node_name="ConvolutionBackwardBackward0",
    doc="the input gradient of a convolution: a transposed convolution of grad_output")
convolution_backward_input.impl(_input_grad_kernel)


@convolution_backward_input.backward
def _(ctx, gg):
    g, w = ctx.saved_tensors
    need_g, need_w = ctx.needs_input_grad
    geo = _geometry(ctx)
    d_g = convolution_op(gg, w, None, **geo) if need_g else None
    d_w = convolution_backward_weight(g, gg, weight_shape=tuple(ctx.input_shape(1)), **geo) if need_w else None
    return d_g, d_w


convolution_backward_weight = OpDef(
    "convolution_backward_weight", inputs=("grad_output", "input"), type_rule="none",
    save=("grad_output", "input"), save_if={"grad_output": ("input",), "input": ("grad_output",)},
    node_name="ConvolutionBackwardBackward0",
    doc="the weight gradient of a convolution: the correlation of input with grad_output")
convolution_backward_weight.impl(_weight_grad_kernel)


@convolution_backward_weight.backward
def _(ctx, gg):
    g, x = ctx.saved_tensors
    need_g, need_x = ctx.needs_input_grad
    geo = _geometry(ctx)
    d_g = convolution_op(x, gg, None, **geo) if need_g else None
    d_x = convolution_backward_input(g, gg, input_shape=tuple(ctx.input_shape(1)), **geo) if need_x else None
    return d_g, d_x


# ---------------------------------------------------------------------- argument checks
_TYPE_NAME = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages
_C_TYPE = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
           "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _expand(name, values, dim):
    values = int_tuple(values, "convolution", name)
    if len(values) == 1:
        return values * dim
    if len(values) != dim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {dim} values to match the "
                           f"convolution dimensions, but got {name}={list(values)}")
    return values


def _check_dtypes(input, weight, bias):  # noqa: A002
    if input.dtype is not weight.dtype:
        a, b = input.dtype, weight.dtype
        if a.name == "float32":
            raise RuntimeError(f"Input type (bibun.{a._legacy}) and weight type (bibun.{b._legacy}) should be the same "
                               "or input should be a MKLDNN tensor and weight is a dense tensor")
        raise RuntimeError(f"expected scalar type {_TYPE_NAME[a.name]} but found {_TYPE_NAME[b.name]}")
    if bias is not None and bias.dtype is not input.dtype:
        raise RuntimeError(f"Input type ({_C_TYPE[input.dtype.name]}) and bias type ({_C_TYPE[bias.dtype.name]}) "
                           "should be the same")


def convolution(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """A batched convolution with as many spatial dims as ``weight`` has beyond two.

    Checks the arguments as PyTorch's ``_convolution`` does, with its messages, before
    computing anything; ``padding`` is symmetric here (``conv*d`` handles 'same').
    """
    dim = weight.ndim - 2
    if dim < 1:
        raise RuntimeError("weight should have at least three dimensions")
    stride = _expand("stride", stride, dim)
    padding = _expand("padding", padding, dim)
    dilation = _expand("dilation", dilation, dim)
    if input.ndim != weight.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.ndim}-dimensional input of size "
                           f"{list(input.shape)} instead")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    wshape = list(weight.shape)
    o = wshape[0]
    if o < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {wshape} instead")
    if o % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{wshape}] instead")
    c = input.shape[1]
    if c != wshape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {wshape}, expected input{list(input.shape)} to "
                           f"have {wshape[1] * groups} channels, but got {c} channels instead")
    if bias is not None and (bias.ndim != 1 or bias.shape[0] != o):
        raise RuntimeError(f"Given weight of size {wshape}, expected bias to be 1-dimensional with {o} elements, "
                           f"but got bias of size {list(bias.shape)} instead")
    padded = [s + 2 * p for s, p in zip(input.shape[2:], padding)]
    kernel = [d * (k - 1) + 1 for k, d in zip(wshape[2:], dilation)]
    if any(k > s for k, s in zip(kernel, padded)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, kernel))}). Kernel size can't be greater than actual input size")
    _check_dtypes(input, weight, bias)
    return convolution_op(input, weight, bias, stride=stride, padding=padding, dilation=dilation, groups=groups)


def _same_padding(fn, weight, stride, dilation, dim):
    """Left and right padding for padding='same' (the extra one, for an even span, goes right)."""
    if any(s != 1 for s in _expand("stride", stride, dim)):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    dilation = _expand("dilation", dilation, dim)
    left, right = [], []
    for k, d in zip(weight.shape[2:], dilation):
        total = d * (k - 1)
        left.append(total // 2)
        right.append(total - total // 2)
    return left, right


def _conv_nd(fn, dim, input, weight, bias, stride, padding, dilation, groups):  # noqa: A002
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn}(): argument '{name}' must be Tensor, not {type(t).__name__}")
    if bias is not None and not isinstance(bias, Tensor):
        raise TypeError(f"{fn}(): argument 'bias' must be Tensor, not {type(bias).__name__}")
    if input.ndim not in (dim + 1, dim + 2):
        raise RuntimeError(f"Expected {dim + 1}D (unbatched) or {dim + 2}D (batched) input to {fn}, but got input "
                           f"of size: {list(input.shape)}")
    if not isinstance(groups, int) or isinstance(groups, bool):
        raise TypeError(f"{fn}(): argument 'groups' must be int, not {type(groups).__name__}")
    stride = int_tuple(stride, fn, "stride")
    dilation = int_tuple(dilation, fn, "dilation")
    unbatched = input.ndim == dim + 1
    if unbatched:
        input = input.unsqueeze(0)  # noqa: A001
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,)
        elif padding == "same":
            wdim = weight.ndim - 2
            left, right = _same_padding(fn, weight, stride, dilation, wdim)
            if left != right:
                warnings.warn("Using padding='same' with even kernel lengths and odd dilation may require a "
                              "zero-padded copy of the input be created", UserWarning, stacklevel=3)
                from .padding import constant_pad_nd
                pad = []
                for lo, hi in reversed(list(zip(left, right))):
                    pad += [0, hi - lo]
                input = constant_pad_nd(input, pad, 0)  # noqa: A001
            padding = tuple(left)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        padding = int_tuple(padding, fn, "padding")
    out = convolution(input, weight, bias, stride, padding, dilation, groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """1-D convolution over (N, C, L) or unbatched (C, L) input; ``padding`` may be 'same' or 'valid'."""
    return _conv_nd("conv1d", 1, input, weight, bias, stride, padding, dilation, groups)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """2-D convolution over (N, C, H, W) or unbatched (C, H, W) input; ``padding`` may be 'same' or 'valid'."""
    return _conv_nd("conv2d", 2, input, weight, bias, stride, padding, dilation, groups)


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):  # noqa: A002
    """3-D convolution over (N, C, D, H, W) or unbatched (C, D, H, W) input."""
    return _conv_nd("conv3d", 3, input, weight, bias, stride, padding, dilation, groups)


OPS = [convolution_op, convolution_backward_input, convolution_backward_weight]
