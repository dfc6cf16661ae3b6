"""``linear`` and ``bilinear``: the affine maps behind ``nn.Linear`` and ``nn.Bilinear``."""

from __future__ import annotations

from ...ops.linalg import addmm, matmul
from ...tensor import Tensor

__all__ = ["linear", "bilinear"]


def linear(input, weight, bias=None):  # noqa: A002
    """``input @ weight.T + bias``. A 2-D input with a bias is one ``addmm`` (PyTorch's AddmmBackward0);
    other ranks fold their leading dims into rows and view the result back (ViewBackward0)."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        bad = input if not isinstance(input, Tensor) else weight
        raise TypeError(f"linear(): argument '{'input' if bad is input else 'weight'}' (position "
                        f"{1 if bad is input else 2}) must be Tensor, not {type(bad).__name__}")
    if bias is None:
        return matmul(input, weight.t())
    if input.ndim == 2:
        return addmm(bias, input, weight.t())
    if input.ndim == 0:
        raise RuntimeError("both arguments to linear need to be at least 1D, but they are 0D and "
                           f"{weight.ndim}D")
    lead = tuple(input.shape[:-1])
    rows = input.reshape(-1, input.shape[-1])
    if rows.shape[1] != weight.shape[-1]:  # PyTorch reports the unfolded shapes
        n = rows.shape[0]
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{rows.shape[1]} and "
                           f"{weight.shape[-1]}x{weight.shape[0]})")
    return addmm(bias, rows, weight.t()).view(*lead, weight.shape[0])


def bilinear(input1, input2, weight, bias=None):
    """``x1^T A x2 + b`` for every output feature: ``y[n, o] = sum_ij x1[n, i] A[o, i, j] x2[n, j] + b[o]``."""
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got {list(input1.shape[:-1])} and "
                           f"{list(input2.shape[:-1])}")
    # (n, i) @ (i, o*j) -> (n, o, j); times x2 (n, 1, j), summed over j
    o, i, j = weight.shape
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, i)
    x2 = input2.reshape(-1, j)
    t = matmul(x1, weight.permute(1, 0, 2).reshape(i, o * j)).view(-1, o, j)
    out = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        out = out + bias
    return out.view(*lead, o)
