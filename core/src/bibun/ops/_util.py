"""Argument checks shared by the op families, raising PyTorch's exception types and texts."""

from __future__ import annotations

from ..tensor import Tensor

_EMPTY = {}


def canonical_dim(dim, ndim):
    """``dim`` in ``[0, ndim)``; IndexError with PyTorch's text otherwise (0-dim counts as 1-dim)."""
    n = ndim if ndim > 0 else 1
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if dim < -n or dim >= n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim


def canonical_dims(dim, ndim):
    """A sorted tuple of distinct dims for a reduction; ``None`` means all dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, int):
        dims = (canonical_dim(dim, ndim),)
    else:
        dims = tuple(canonical_dim(d, ndim) for d in dim)
        if len(set(dims)) != len(dims):
            d = next(d for d in dims if dims.count(d) > 1)
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if ndim == 0:
        return ()
    return tuple(sorted(dims))


def broadcast_shapes(*shapes):
    """The broadcast shape, or PyTorch's RuntimeError naming the first mismatching dim."""
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for k, s in enumerate(shapes):
        for i in range(1, len(s) + 1):
            a, b = out[-i], s[-i]
            if a == b or b == 1:
                continue
            if a == 1:
                out[-i] = b
                continue
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at non-singleton dimension "
                f"{ndim - i}")
    return tuple(out)


def check_broadcast(op, args, attrs):
    """Raised in place of an array library's broadcasting error."""
    broadcast_shapes(*(a._data.shape for a in args if isinstance(a, Tensor)))


def shape_arg(shape):
    """Accept ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` and ``f(Size)``."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    out = []
    for s in shape:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"expected a sequence of integers for the shape, but got {type(s).__name__}")
        out.append(s)
    return tuple(out)


def ensure_tensor(x, name, like=None):
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float, bool)):
        from ..factories import scalar_tensor_like
        return scalar_tensor_like(x, like)
    raise TypeError(f"{name}(): argument must be a Tensor, not {type(x).__name__}")


def int_tuple(value, fn, name):
    """An int or a sequence of ints as a tuple; PyTorch's "must be tuple of ints" TypeError otherwise."""
    if isinstance(value, (bool, Tensor)):
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(value).__name__}")
    if isinstance(value, int):
        return (value,)
    try:
        items = tuple(value)
    except TypeError:
        raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, not {type(value).__name__}") from None
    for pos, v in enumerate(items):
        if not isinstance(v, int) or isinstance(v, bool):
            raise TypeError(f"{fn}(): argument '{name}' must be tuple of ints, but found element of type "
                            f"{type(v).__name__} at pos {pos}")
    return items
