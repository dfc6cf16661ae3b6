"""Array helpers that keep the core within the array API standard.

The generic kernels are written against the standard, so any conforming namespace runs
them (the ``strict`` backend, on array-api-strict, proves it). A few things the standard
leaves out are worth a faster path where a namespace has them: strided views, ufuncs that
write into ``out=`` or scatter with ``.at``, assignment through integer-array indices.
numpy and cupy have all of these (:func:`numpy_extras`); kernels take the fast path there
and a standard one elsewhere, with the same values either way.
"""

from __future__ import annotations

import math

__all__ = ["numpy_extras", "strides", "c_contiguous", "into", "take_key", "put_key"]

_EXTRAS = {}  # namespace -> bool, so the hot paths ask a dict, not a chain of getattr


def numpy_extras(xp):
    """Whether ``xp`` has numpy's extensions the fast paths use: ``lib.stride_tricks.as_strided``,
    ufuncs taking ``out=`` and having ``.at``, assignment through integer-array indices, and numpy's
    answers where the standard leaves one open (``clip`` with min > max)."""
    known = _EXTRAS.get(xp)
    if known is None:
        strided = getattr(getattr(getattr(xp, "lib", None), "stride_tricks", None), "as_strided", None)
        ufunc = getattr(xp, "add", None)
        known = _EXTRAS[xp] = strided is not None and hasattr(ufunc, "nin") and hasattr(ufunc, "at")
    return known


def strides(backend, array):
    """An array's byte strides. The standard has no strides: a backend whose arrays lack them provides
    ``strides(array)`` (read through DLPack, say); numpy and cupy arrays carry their own."""
    fn = getattr(backend.impl, "strides", None)
    return array.strides if fn is None else fn(array)


def c_contiguous(xp, a):
    """``a`` in C order: itself when it already is, else a C-ordered copy.

    The standard has no memory order; where ``ascontiguousarray`` is missing, a flat copy
    taken in row-major order (what ``reshape`` reads) and folded back gives one.
    """
    fn = getattr(xp, "ascontiguousarray", None)
    if fn is not None:
        return fn(a)
    return xp.reshape(xp.reshape(a, (-1,), copy=True), a.shape)


def into(xp, fn, out, *args):
    """``fn(*args)`` written into ``out`` (which it returns): straight through ``out=`` where the
    namespace takes it, else computed then assigned (the standard's ``out[...] = ...``)."""
    if numpy_extras(xp):
        fn(*args, out=out)
    else:
        out[...] = fn(*args)
    return out


# ---------------------------------------------------------------------- advanced indexing within the standard
# The standard indexes with integer arrays only next to integers, with a mask only alone, and
# never assigns through either. Keys here are numpy's advanced keys as the indexing ops build
# them: full slices, integer arrays and boolean masks. Each is brought to one form, a flat index
# into the rows of a 2-D view (the indexed dims first, flattened), read with ``take`` and written
# with sorted, whole-array passes.
def _flat_key(xp, shape, key):
    """(axes, rest, flat, index shape, before) of an advanced key over an array of ``shape``.

    ``flat`` indexes the product of the ``axes`` dims (row-major); the result of ``a[key]`` has
    the broadcast index shape where numpy puts it: in place of the indexed dims when they are
    adjacent, else in front (``before`` counts the other dims that precede it).
    """
    axes, arrays, dim = [], [], 0
    for k in key:
        if isinstance(k, slice):
            dim += 1
        elif k.dtype == xp.bool:
            for j, idx in enumerate(xp.nonzero(k)):
                axes.append(dim + j)
                arrays.append(idx)
            dim += k.ndim
        else:
            axes.append(dim)
            arrays.append(k)
            dim += 1
    if len(arrays) > 1:
        arrays = xp.broadcast_arrays(*arrays)
    bshape = tuple(arrays[0].shape)
    flat = None
    for ax, idx in zip(axes, arrays):
        n = shape[ax]
        idx = xp.astype(idx, xp.int64)
        idx = xp.where(idx < 0, idx + n, idx)
        flat = idx if flat is None else flat * n + idx
    rest = [ax for ax in range(len(shape)) if ax not in axes]
    adjacent = axes == list(range(axes[0], axes[0] + len(axes)))
    before = sum(1 for ax in rest if ax < axes[0]) if adjacent else 0
    return axes, rest, xp.reshape(flat, (-1,)), bshape, before


def _to_front(order_len, nb, before):
    """The permutation taking (index dims, dims before, dims after) to (before, index dims, after)."""
    return tuple(range(nb, nb + before)) + tuple(range(nb)) + tuple(range(nb + before, order_len))


def take_key(xp, a, key):
    """``a[key]`` for an advanced key, with numpy's result shape, using ``take`` on a 2-D view."""
    axes, rest, flat, bshape, before = _flat_key(xp, a.shape, key)
    rest_shape = tuple(a.shape[ax] for ax in rest)
    rows = xp.reshape(xp.permute_dims(a, tuple(axes + rest)), (math.prod(a.shape[ax] for ax in axes),) + rest_shape)
    out = xp.reshape(xp.take(rows, flat, axis=0), bshape + rest_shape)
    if before:
        out = xp.permute_dims(out, _to_front(out.ndim, len(bshape), before))
    return out


def put_key(xp, a, key, values, accumulate=False):
    """A new array: ``a`` with ``a[key] = values`` (the last of repeated indices wins), or with
    ``values`` added at ``key`` (``accumulate``: repeated indices add up, in the order given, as
    ``add.at`` adds them). ``values`` broadcasts to ``a[key]``'s shape."""
    axes, rest, flat, bshape, before = _flat_key(xp, a.shape, key)
    rest_shape = tuple(a.shape[ax] for ax in rest)
    sizes = tuple(a.shape[ax] for ax in axes)
    perm = tuple(axes + rest)
    rows = xp.reshape(xp.permute_dims(a, perm), (math.prod(sizes),) + rest_shape)
    nb = len(bshape)
    result_shape = (rest_shape[:before] + bshape + rest_shape[before:]) if before else bshape + rest_shape
    v = values if hasattr(values, "dtype") else xp.asarray(values, dtype=a.dtype)
    if v.dtype != a.dtype:
        v = xp.astype(v, a.dtype)
    v = xp.broadcast_to(v, result_shape)
    if before:  # back to (index dims, other dims)
        v = xp.permute_dims(v, tuple(range(before, before + nb)) + tuple(range(before)) +
                            tuple(range(before + nb, len(result_shape))))
    v = xp.reshape(v, (flat.shape[0],) + rest_shape)
    rows = _put_rows(xp, rows, flat, v, accumulate)
    out = xp.reshape(rows, sizes + rest_shape)
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return xp.permute_dims(out, tuple(inverse))


def _put_rows(xp, rows, idx, v, accumulate):
    """``rows`` (M, ...) with ``v[i]`` written at row ``idx[i]`` (or added there), as a new array."""
    m, n = rows.shape[0], idx.shape[0]
    if m == 0 or n == 0:
        return xp.asarray(rows, copy=True)
    order = xp.argsort(idx, stable=True)  # stable: repeated indices keep their order
    s = xp.take(idx, order)
    v = xp.take(v, order, axis=0)
    at = xp.arange(m, dtype=s.dtype)
    first = xp.searchsorted(s, at, side="left")
    count = xp.searchsorted(s, at, side="right") - first
    if not accumulate:
        hit = xp.reshape(count > 0, (m,) + (1,) * (rows.ndim - 1))
        return xp.where(hit, xp.take(v, xp.clip(first + count - 1, 0, n - 1), axis=0), rows)
    # rows ordered by how often they are hit, most first: pass r adds each row's (r+1)-th value to
    # the leading rows that have one, so every row sees its values added one by one, in order
    by_count = xp.argsort(-count, stable=True)
    counts = xp.take(count, by_count)
    starts = xp.take(first, by_count)
    acc = xp.take(rows, by_count, axis=0)
    for r in range(int(counts[0])):
        k = int(xp.count_nonzero(counts > r))
        acc[:k, ...] += xp.take(v, starts[:k] + r, axis=0)
    return xp.take(acc, xp.argsort(by_count), axis=0)  # back in row order
