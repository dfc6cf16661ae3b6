"""cupy kernels for ops whose generic kernel is slow or numpy-only on the GPU.

- scatter-adds (``index_add``, ``scatter_add``, ``index_put_acc`` — the backward of
  indexing, ``index_select`` and ``embedding``): the generic kernels call numpy's
  ``add.at``; here it is cupy's atomic scatter-add (``cupy.add.at``, or
  ``cupyx.scatter_add`` on cupy releases before it), with the dtypes that have no CUDA
  atomic add computed in one that does;
- ``threshold_backward`` (relu's backward): one fused elementwise kernel instead of a
  comparison, a temporary mask and a ``where``.

cupy is imported on first call: these are registered on every machine, and only called
for cupy arrays, so only where cupy runs.
"""

from __future__ import annotations

import numpy as np

_lazy = {}


def _cupy():
    cp = _lazy.get("cupy")
    if cp is None:
        import cupy as cp
        _lazy["cupy"] = cp
    return cp


def _raw_add_at():
    fn = _lazy.get("add_at")
    if fn is None:
        cp = _cupy()
        fn = getattr(cp.add, "at", None)
        if fn is None:
            import cupyx
            fn = cupyx.scatter_add
        _lazy["add_at"] = fn
    return fn


# dtypes CUDA adds atomically: used as they are; int64 is added as uint64 (the same bits),
# the narrow integers and bool in int32, float16 in float32 (then cast back)
_NATIVE = frozenset(np.dtype(n) for n in ("float32", "float64", "int32", "uint32", "uint64"))
_AS_SAME_BITS = {np.dtype("int64"): np.dtype("uint64")}
_WIDER = {np.dtype(n): np.dtype(w) for n, w in (("float16", "float32"), ("int8", "int32"), ("uint8", "int32"),
                                                 ("int16", "int32"), ("bool", "int32"))}


def add_at(out, key, values, raw=None):
    """``out[key] += values`` with repeated indices accumulating (numpy's ``add.at``), in place.

    ``raw`` is the atomic scatter-add to use (cupy's by default; tests pass numpy's).
    """
    raw = raw or _raw_add_at()
    dtype = out.dtype
    if values.dtype != dtype:
        values = values.astype(dtype)
    if dtype in _NATIVE:
        raw(out, key, values)
        return out
    same = _AS_SAME_BITS.get(dtype)
    if same is not None:  # two's complement: adding the unsigned bits is adding the signed numbers
        raw(out.view(same), key, values.view(same))
        return out
    wide = _WIDER.get(dtype)
    if wide is None:
        raise TypeError(f"bibun's cupy backend cannot scatter-add arrays of dtype {dtype}")
    acc = out.astype(wide)
    raw(acc, key, values.astype(wide))
    if dtype == np.dtype("bool"):
        acc = acc != 0
    out[...] = acc.astype(dtype)
    return out


def index_add(a, index, source, dim, alpha=1):
    out = a.copy()
    add_at(out, (slice(None),) * dim + (index,), source if alpha == 1 else source * alpha)
    return out


def scatter_add(a, index, src, dim):
    cp = _cupy()
    out = a.copy()
    grids = list(cp.meshgrid(*[cp.arange(s) for s in index.shape], indexing="ij"))
    grids[dim] = index
    add_at(out, tuple(grids), src[tuple(slice(0, s) for s in index.shape)])
    return out


def index_put_acc(g, shape, key):
    out = _cupy().zeros(shape, dtype=g.dtype)
    return add_at(out, key, g)


def _threshold_kernel():
    kernel = _lazy.get("threshold")
    if kernel is None:
        kernel = _cupy().ElementwiseKernel(
            "T grad, T x, T threshold", "T y", "y = x <= threshold ? (T)0 : grad", "bibun_threshold_backward")
        _lazy["threshold"] = kernel
    return kernel


def threshold_backward(grad, a, threshold):
    """``where(a <= threshold, 0, grad)`` in one pass (a NaN in ``a`` keeps the gradient)."""
    if grad.dtype != a.dtype or grad.dtype.kind != "f":
        cp = _cupy()
        return cp.where(a <= threshold, cp.zeros((), dtype=grad.dtype), grad)
    return _threshold_kernel()(grad, a, grad.dtype.type(threshold))


KERNELS = {
    "index_add": index_add,
    "scatter_add": scatter_add,
    "index_put_acc": index_put_acc,
    "threshold_backward": threshold_backward,
}
