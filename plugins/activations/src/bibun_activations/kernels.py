"""Kernels for particular backends, used in place of the generic ones in ``ops.py``.

numpy: the generic kernels pick a branch with ``xp.where``, which on the CPU costs more than
the arithmetic (a data-dependent mask defeats branch prediction); these compute the same
stable formulas without a select, in two buffers written in place (on a million values:
swish 3x faster in float64 and 9x in float32, mish 1.6x).

cupy: one fused ``ElementwiseKernel`` per op (one pass over memory, no temporaries). cupy is
imported when a kernel first runs, never at registration, so registering them costs nothing
on a machine without a GPU; they run only on tensors of a backend named "cupy".
"""

from __future__ import annotations

__all__ = ["swish_numpy", "mish_numpy", "swish_cupy", "mish_cupy"]


# ---------------------------------------------------------------------- numpy
def swish_numpy(a, beta=1.0):
    """x * sigmoid(b*x), sigmoid(z) = exp(min(z, 0)) / (1 + exp(-|z|)): no select, no overflow."""
    import numpy as np
    z = np.empty_like(a)  # out= buffers keep 0-d results arrays, not numpy scalars
    s = np.empty_like(a)
    np.multiply(a, beta, out=z)
    np.minimum(z, 0, out=s)
    np.exp(s, out=s)
    np.abs(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.add(z, 1, out=z)
    np.divide(s, z, out=s)
    return np.multiply(s, a, out=s)


def mish_numpy(a):
    """x * tanh(softplus(x)) with tanh(log(1 + e)) = n / (n + 2), n = e * (e + 2), e = exp(x).

    ``x`` is capped at 20 before ``exp`` (beyond it the factor is 1 to working precision), so
    nothing overflows; for very negative ``x`` the ratio is about ``e``, with no cancellation.
    """
    import numpy as np
    n = np.empty_like(a)
    d = np.empty_like(a)
    np.minimum(a, 20, out=n)
    np.exp(n, out=n)
    np.add(n, 2, out=d)
    np.multiply(n, d, out=n)
    np.add(n, 2, out=d)
    np.divide(n, d, out=n)
    return np.multiply(n, a, out=n)


# ---------------------------------------------------------------------- cupy
_SWISH_CUDA = """
    T z = x * beta;
    T e = exp(-fabs(z));
    T one = 1;
    y = z >= 0 ? x / (one + e) : x * e / (one + e);
"""
_MISH_CUDA = """
    T sp = x > (T)20 ? x : log1p(exp(x));
    y = x * tanh(sp);
"""
_compiled = {}


def _kernel(name):
    """The cupy ``ElementwiseKernel`` for ``name``, built (and compiled by cupy) on first use."""
    k = _compiled.get(name)
    if k is None:
        import cupy
        if name == "swish":
            k = cupy.ElementwiseKernel("T x, T beta", "T y", _SWISH_CUDA, "bibun_activations_swish")
        else:
            k = cupy.ElementwiseKernel("T x", "T y", _MISH_CUDA, "bibun_activations_mish")
        _compiled[name] = k
    return k


def _fused(dtype):
    # CUDA's float and double math functions; half precision takes the generic kernel
    return dtype.kind == "f" and dtype.itemsize in (4, 8)


def swish_cupy(a, beta=1.0):
    if not _fused(a.dtype):
        import cupy

        from .ops import swish_op
        return swish_op.generic(cupy, a, beta)
    return _kernel("swish")(a, a.dtype.type(beta))


def mish_cupy(a):
    if not _fused(a.dtype):
        import cupy

        from .ops import mish_op
        return mish_op.generic(cupy, a)
    return _kernel("mish")(a)
