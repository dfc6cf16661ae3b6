"""bibun's CPU backend on numpy, registered through the ``bibun.backends`` entry point.

It imports nothing from bibun: everything reaches it through the ``register`` object.
The random generator reproduces PyTorch's CPU streams for ``rand`` and ``randint``
(both are MT19937 with the same seeding and the same bits-to-float conversion).
"""

from __future__ import annotations

import numpy as np
import pluggy

hookimpl = pluggy.HookimplMarker("bibun")

__version__ = "0.1.0"


class NumpyRNG:
    """MT19937 draws turned into floats the way PyTorch's CPU generator turns them."""

    def __init__(self, seed=67280421310721):
        self.seed(seed)

    def seed(self, seed):
        self._state = np.random.RandomState(int(seed) & 0xFFFFFFFF)

    def _u32(self, n):
        return self._state.randint(0, 2**32, size=n, dtype=np.uint64)

    def rand(self, shape, dtype):
        n = int(np.prod(shape, dtype=np.int64))
        if dtype == np.float64:
            r = self._u32(2 * n)
            bits = (r[0::2] << np.uint64(32)) | r[1::2]
            u = (bits & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53
        else:
            mantissa = {np.dtype(np.float16): 11}.get(np.dtype(dtype), 24)
            u = (self._u32(n) & np.uint64((1 << mantissa) - 1)).astype(np.float64) * 2.0**-mantissa
        return u.astype(dtype).reshape(shape)

    def randn(self, shape, dtype):
        # Box-Muller from this generator's uniforms: normal in distribution (not PyTorch's exact stream)
        n = int(np.prod(shape, dtype=np.int64))
        m = (n + 1) // 2
        u1 = 1.0 - self.rand((m,), np.float64)
        u2 = self.rand((m,), np.float64)
        r = np.sqrt(-2.0 * np.log(u1))
        z = np.concatenate([r * np.cos(2 * np.pi * u2), r * np.sin(2 * np.pi * u2)])[:n]
        return z.astype(dtype).reshape(shape)

    def randint(self, shape, dtype, low, high):
        n = int(np.prod(shape, dtype=np.int64))
        span = high - low
        if span >= 2**32:
            r = self._u32(2 * n)
            bits = (r[0::2] << np.uint64(32)) | r[1::2]
        else:
            bits = self._u32(n)
        return ((bits % np.uint64(span)).astype(np.int64) + low).astype(dtype).reshape(shape)


class NumpyImpl:
    """What the core asks of a backend: the array namespace, conversions and random numbers."""

    xp = np
    array_type = np.ndarray

    def __init__(self):
        self.dtypes = {name: np.dtype(name) for name in
                       ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")}
        self._rng = NumpyRNG()

    def asarray(self, data, dtype=None):
        return np.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return array

    def from_numpy(self, array):
        return array

    def copy(self, array):
        return array.copy()

    def is_contiguous(self, array):
        return array.flags.c_contiguous

    def seed(self, seed):
        self._rng.seed(seed)

    def rand(self, shape, dtype):
        return self._rng.rand(shape, dtype)

    def randn(self, shape, dtype):
        return self._rng.randn(shape, dtype)

    def randint(self, shape, dtype, low, high):
        return self._rng.randint(shape, dtype, low, high)


@hookimpl
def bibun_register_backends(register):
    register.backend(name="numpy", device_type="cpu", load=NumpyImpl,
                     description=f"numpy {np.__version__} on the CPU")


def _index_add_kernel(a, index, source, dim, alpha=1):
    out = a.copy()
    np.add.at(out, (slice(None),) * dim + (index,), source if alpha == 1 else source * alpha)
    return out


@hookimpl
def bibun_register_kernels(register):
    # numpy's ufuncs take arrays and python scalars directly: no generic wrapper on the hottest ops
    register.kernel("mul", "numpy", np.multiply)
    register.kernel("neg", "numpy", np.negative)
    register.kernel("exp", "numpy", np.exp)
    register.kernel("index_add", "numpy", _index_add_kernel)
