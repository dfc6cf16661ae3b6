"""Embedding lookup (rows of a weight matrix picked by integer indices) and ``one_hot``.

The gradient of a lookup sums, per weight row, the gradients of every position that picked
it (``index_add``), so a repeated index accumulates; the padding row gets none.
"""

from __future__ import annotations

from ..autograd.grad_mode import no_grad
from ..dispatch.opdef import OpDef
from ..tensor import Tensor

__all__ = ["embedding", "embedding_renorm_", "one_hot"]

embedding_op = OpDef("embedding", inputs=("weight", "indices"), differentiable=("weight",), type_rule="none",
                     save=("indices",), doc="weight[indices]: one row of ``weight`` per index.")


@embedding_op.impl
def _(xp, weight, indices, padding_idx, scale_grad_by_freq):
    if indices.ndim == 1:
        return xp.take(weight, indices, axis=0)
    # the standard takes with 1-d indices only
    rows = xp.take(weight, xp.reshape(indices, (-1,)), axis=0)
    return xp.reshape(rows, tuple(indices.shape) + tuple(weight.shape[1:]))


@embedding_op.backward
def _(ctx, grad):
    (indices,) = ctx.saved_tensors
    num_weights = ctx.input_shape(0)[0]
    return embedding_dense_backward(grad, indices, num_weights, ctx.padding_idx, ctx.scale_grad_by_freq)


def embedding_dense_backward(grad, indices, num_weights, padding_idx, scale_grad_by_freq):
    """The weight's gradient: each position's gradient added into the row it picked (bibun ops throughout)."""
    from .arithmetic import where
    dim = grad.shape[-1]
    flat = indices.reshape(-1).long()
    g = grad.reshape(-1, dim)
    if padding_idx >= 0:
        g = where((flat != padding_idx).unsqueeze(1), g, 0.0)
    if scale_grad_by_freq:
        counts = g.new_zeros(num_weights).index_add(0, flat, g.new_ones(flat.shape[0]))
        g = g / counts.index_select(0, flat).unsqueeze(1)
    return g.new_zeros((num_weights, dim)).index_add(0, flat, g)


_INDEX_DTYPES = ("int64", "int32")


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``weight[indices]`` with PyTorch's checks; ``padding_idx`` is already in [0, num) or -1 for none.

    ``sparse=True`` is accepted and gives a dense gradient (bibun has no sparse tensors).
    """
    if not isinstance(indices, Tensor) or indices.dtype.name not in _INDEX_DTYPES:
        got = f"bibun.{indices.dtype._legacy}" if isinstance(indices, Tensor) else type(indices).__name__
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got {got} instead (while checking arguments for embedding)")
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    _check_indices(indices, weight.shape[0])
    return embedding_op(weight, indices, padding_idx=padding_idx, scale_grad_by_freq=bool(scale_grad_by_freq))


def _check_indices(indices, num):
    if indices.numel() == 0:
        return
    data = indices._data
    xp = indices._backend.xp
    if bool(xp.any((data < 0) | (data >= num))):
        raise IndexError("index out of range in self")


def embedding_renorm_(weight, indices, max_norm, norm_type):
    """Scale, in place, each row of ``weight`` picked by ``indices`` whose ``norm_type``-norm exceeds ``max_norm``
    down to that norm (PyTorch's ``embedding_renorm_``); no gradient is recorded."""
    if indices.numel() == 0:
        return weight
    _check_indices(indices, weight.shape[0])
    with no_grad():
        flat = indices.reshape(-1).long()
        rows = weight.index_select(0, flat)
        norms = rows.norm(norm_type, dim=1, keepdim=True)
        from .arithmetic import where
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[flat] = rows * scale  # a repeated index writes the same row twice: harmless
    return weight


# ---------------------------------------------------------------------- one_hot
def one_hot(tensor, num_classes=-1):
    """(*, num_classes) int64 tensor with a 1 at each value's position, PyTorch's checks and messages."""
    if not isinstance(tensor, Tensor) or tensor.dtype.name != "int64":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    empty = tensor.numel() == 0
    if num_classes == -1 and empty:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if not empty:
        data = tensor._data
        xp = tensor._backend.xp
        if bool(xp.min(data) < 0):
            raise RuntimeError("Class values must be non-negative.")
        if num_classes == -1:
            num_classes = int(xp.max(data)) + 1
        elif bool(xp.max(data) >= num_classes):
            raise RuntimeError("Class values must be smaller than num_classes.")
    from ..factories import arange
    classes = arange(num_classes, device=tensor.device)
    return (tensor.unsqueeze(-1) == classes).long()


OPS = [embedding_op]
