"""Matrix products: ``matmul`` for every rank combination, and the ops it is built from
(``dot`` ``mv`` ``mm`` ``bmm``), each with its own gradient.

``matmul`` folds and broadcasts batch dims the way PyTorch does, so the nodes a user
sees (MmBackward0, BmmBackward0, UnsafeViewBackward0, ...) are PyTorch's.
"""

from __future__ import annotations

from .. import dtypes as _dtypes
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._util import broadcast_shapes
from .shape import squeeze_dim_, t, unsafe_view

__all__ = ["matmul", "mm", "bmm", "dot", "mv", "outer", "addmm"]

_C_TYPE = {"float16": "c10::Half", "float32": "float", "float64": "double", "int64": "long int",
           "int32": "int", "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}
_TYPE_NAME = _dtypes.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def _same_dtype(name, a, b):
    """Each PyTorch kernel words its dtype mismatch differently."""
    if (a._backend is b._backend and a._data.dtype == b._data.dtype) or a.dtype is b.dtype:
        return
    ta, tb = _TYPE_NAME[a.dtype.name], _TYPE_NAME[b.dtype.name]
    if name == "dot":
        msg = f"dot : expected both vectors to have same dtype, but found {ta} and {tb}"
    elif name == "mv":
        msg = f"addmv input tensors must have the same dtype, but got {tb}, {ta}, and {tb}"
    elif name == "addmm":
        msg = f"mat1 and mat2 must have the same dtype, but got {ta} and {tb}"
    elif name == "bmm":
        msg = f"expected scalar type {ta} but found {tb}"
    else:
        msg = f"expected m1 and m2 to have the same dtype, but got: {_C_TYPE[a.dtype.name]} != {_C_TYPE[b.dtype.name]}"
    raise RuntimeError(msg)


def _tensors(name, a, b):
    for x in (a, b):
        if not isinstance(x, Tensor):
            raise TypeError(f"{name}(): argument must be Tensor, not {type(x).__name__}")


def _matrix_op(name, save=("self", "other")):
    op = OpDef(name, inputs=("self", "other"), type_rule="none", save=save)

    @op.impl
    def _(xp, a, b):
        return xp.matmul(a, b)

    return op


dot_op = _matrix_op("dot")


@dot_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (grad * b if need_a else None), (grad * a if need_b else None)


mv_op = _matrix_op("mv")


@mv_op.backward
def _(ctx, grad):
    m, v = ctx.saved_tensors
    need_m, need_v = ctx.needs_input_grad
    return (grad.unsqueeze(1) * v.unsqueeze(0) if need_m else None), (m.t().mv(grad) if need_v else None)


mm_op = _matrix_op("mm")


@mm_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (grad.mm(b.t()) if need_a else None), (a.t().mm(grad) if need_b else None)


bmm_op = _matrix_op("bmm")


@bmm_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_a, need_b = ctx.needs_input_grad
    return (grad.bmm(b.mT) if need_a else None), (a.mT.bmm(grad) if need_b else None)


# beta * self + alpha * (mat1 @ mat2): the op behind a Linear layer on a batch (PyTorch's AddmmBackward0);
# `self` (the bias) broadcasts and its gradient is summed back to its shape by the engine
addmm_op = OpDef("addmm", inputs=("self", "mat1", "mat2"), type_rule="none", save=("mat1", "mat2"),
                 save_if={"mat1": ("mat2",), "mat2": ("mat1",)})


@addmm_op.impl
def _(xp, bias, a, b, beta=1, alpha=1):
    out = xp.matmul(a, b)
    if alpha != 1:
        out *= alpha
    if beta == 0:  # PyTorch ignores `self` (even nan) when beta is 0
        return out
    out += bias if beta == 1 else bias * beta
    return out


@addmm_op.backward
def _(ctx, grad):
    a, b = ctx.saved_tensors
    need_bias, need_a, need_b = ctx.needs_input_grad
    alpha, beta = ctx.alpha, ctx.beta
    g_bias = (grad if beta == 1 else grad * beta) if need_bias else None
    g_a = g_b = None
    if need_a:
        g_a = grad.mm(b.t())
        g_a = g_a if alpha == 1 else g_a * alpha
    if need_b:
        g_b = a.t().mm(grad)
        g_b = g_b if alpha == 1 else g_b * alpha
    return g_bias, g_a, g_b


def addmm(input, mat1, mat2, *, beta=1, alpha=1):  # noqa: A002
    """``beta * input + alpha * (mat1 @ mat2)`` with ``input`` broadcast to the product's shape."""
    for x in (input, mat1, mat2):
        if not isinstance(x, Tensor):
            raise TypeError(f"addmm(): argument must be Tensor, not {type(x).__name__}")
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mat1 must be a matrix, got {mat1.ndim}-D tensor" if mat1.ndim != 2
                           else f"mat2 must be a matrix, got {mat2.ndim}-D tensor")
    if mat1.shape[1] != mat2.shape[0]:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({mat1.shape[0]}x{mat1.shape[1]} and "
                           f"{mat2.shape[0]}x{mat2.shape[1]})")
    _same_dtype("addmm", mat1, mat2)
    if input.dtype is not mat1.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_TYPE_NAME[input.dtype.name]} and "
                           f"{_TYPE_NAME[mat2.dtype.name]}")
    broadcast_shapes(tuple(input.shape), (mat1.shape[0], mat2.shape[1]))
    return addmm_op(input, mat1, mat2, beta=beta, alpha=alpha)


def dot(input, other):  # noqa: A002
    _tensors("dot", input, other)
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    _same_dtype("dot", input, other)
    n, m = input.shape[0], other.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")
    return dot_op(input, other)


def mv(input, vec):  # noqa: A002
    _tensors("mv", input, vec)
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    if input.shape[1] != vec.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input.shape[0]}), mat ({input.shape[0]}x{input.shape[1]}), "
                           f"vec ({vec.shape[0]})")
    _same_dtype("mv", input, vec)
    return mv_op(input, vec)


def mm(input, mat2):  # noqa: A002
    _tensors("mm", input, mat2)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (n, k), (k2, m) = input.shape, mat2.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    _same_dtype("mm", input, mat2)
    return mm_op(input, mat2)


def bmm(input, mat2):  # noqa: A002
    _tensors("bmm", input, mat2)
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    b, n, k = input.shape
    if mat2.shape[0] != b or mat2.shape[1] != k:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
                           f"[{mat2.shape[0]}, {mat2.shape[1]}].")
    _same_dtype("bmm", input, mat2)
    return bmm_op(input, mat2)


def outer(input, vec2):  # noqa: A002
    return input.unsqueeze(1) * vec2.unsqueeze(0)


def matmul(input, other):  # noqa: A002
    """Matrix product for any ranks, with batch broadcasting (PyTorch's ``matmul``)."""
    _tensors("matmul", input, other)
    da, db = input.ndim, other.ndim
    if da == 0 or db == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {da}D and {db}D")
    if da == 1 and db == 1:
        return dot(input, other)
    if da == 2 and db == 1:
        return mv(input, other)
    if da == 1 and db == 2:
        return squeeze_dim_(mm(input.unsqueeze(0), other), dims=(0,))
    if da == 2 and db == 2:
        return mm(input, other)
    if da >= 3 and db <= 2:
        return _folded(input, other)
    if da <= 2 and input.requires_grad:  # here db >= 3
        # PyTorch folds here too, through the transposes (other^T @ input^T)^T: the gradient of
        # ``input`` is then one mm, not a sum over a broadcast batch
        if da == 1:
            return _folded(other.mT, input)
        return _folded(other.mT, t(input)).mT.contiguous()
    # general case: broadcast batch dims, then bmm
    a = input.unsqueeze(0) if da == 1 else input
    b = other.unsqueeze(-1) if db == 1 else other
    batch = broadcast_shapes(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    n, k = a.shape[-2], a.shape[-1]
    k2, m = b.shape[-2], b.shape[-1]
    if k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_prod(batch)}, {k}] but got: [{_prod(batch)}, {k2}].")
    ae = a.expand(batch + (n, k)).reshape(-1, n, k)
    be = b.expand(batch + (k2, m)).reshape(-1, k2, m)
    out = bmm(ae, be)
    shape = batch + (n, m)
    if da == 1:
        shape = batch + (m,)
    elif db == 1:
        shape = batch + (n,)
    return unsafe_view(out, shape=shape)


def _folded(big, small):
    """``big @ small`` for a batched ``big`` and a 1-D or 2-D ``small``: the batch folded into rows."""
    rows = big.reshape(-1, big.shape[-1])
    shape = tuple(big.shape[:-1])
    if small.ndim == 1:
        return unsafe_view(mv(rows, small), shape=shape)
    return unsafe_view(mm(rows, small), shape=shape + (small.shape[-1],))


def _prod(shape):
    r = 1
    for s in shape:
        r *= s
    return r


OPS = [dot_op, mv_op, mm_op, bmm_op, addmm_op]
