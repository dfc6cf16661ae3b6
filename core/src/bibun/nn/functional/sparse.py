"""``embedding`` and ``one_hot`` with PyTorch's signatures, checks and messages."""

from __future__ import annotations

from ...ops import embedding as _emb
from ...ops.embedding import one_hot

__all__ = ["embedding", "one_hot"]


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,  # noqa: A002
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` picked by the integer tensor ``input``: shape ``input.shape + (embedding_dim,)``.

    The row at ``padding_idx`` gets no gradient. With ``max_norm``, every picked row whose
    ``norm_type``-norm exceeds it is first scaled down to it, in place in ``weight``.
    ``sparse=True`` gives a dense gradient (bibun has no sparse tensors).
    """
    num = weight.shape[0] if weight.ndim else 0
    if padding_idx is not None:
        if padding_idx > 0:
            if padding_idx >= num:
                raise AssertionError("Padding_idx must be within num_embeddings")
        elif padding_idx < 0:
            if padding_idx < -num:
                raise AssertionError("Padding_idx must be within num_embeddings")
            padding_idx = num + padding_idx
    else:
        padding_idx = -1
    if max_norm is not None:
        _emb.embedding_renorm_(weight, input, max_norm, norm_type)
    return _emb.embedding(weight, input, padding_idx, scale_grad_by_freq, sparse)
