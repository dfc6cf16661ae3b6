"""bibun's CPU backend on numpy, registered through the ``bibun.backends`` entry point.

It imports nothing from bibun: everything reaches it through the ``register`` object.
The random generator reproduces PyTorch's CPU streams for ``rand``, ``randint`` and
``randn`` (MT19937 with the same seeding, the same bits-to-float conversion and the
same Box-Muller arithmetic as PyTorch's x86 builds).
"""

from __future__ import annotations

import math

import numpy as np
import pluggy

from . import _avx_mathfun

hookimpl = pluggy.HookimplMarker("bibun")

__version__ = "0.1.0"


class NumpyRNG:
    """MT19937 draws turned into numbers the way PyTorch's CPU generator turns them."""

    def __init__(self, seed=67280421310721):
        self.seed(seed)

    def seed(self, seed):
        self._state = np.random.RandomState(int(seed) & 0xFFFFFFFF)
        self._next_normal = None  # PyTorch caches the second value of a scalar Box-Muller pair

    def _u32(self, n):
        return self._state.randint(0, 2**32, size=n, dtype=np.uint64)

    def _u64(self, n):
        r = self._u32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def _uniform32(self, n):
        """PyTorch's float uniform: the low 24 bits of one 32-bit draw, times 2**-24."""
        return ((self._u32(n) & np.uint64((1 << 24) - 1)).astype(np.float64) * 2.0**-24).astype(np.float32)

    def _uniform64(self, n):
        """PyTorch's double uniform: the low 53 bits of a 64-bit draw, times 2**-53."""
        return (self._u64(n) & np.uint64((1 << 53) - 1)).astype(np.float64) * 2.0**-53

    def rand(self, shape, dtype):
        n = int(np.prod(shape, dtype=np.int64))
        if dtype == np.float64:
            return self._uniform64(n).reshape(shape)
        u = self._uniform32(n).astype(dtype)
        if dtype != np.float32:
            u[u == 1] = 0  # a float16 rounded up to the excluded bound becomes 0, as in PyTorch
        return u.reshape(shape)

    def randn(self, shape, dtype):
        n = int(np.prod(shape, dtype=np.int64))
        if n < 16:  # PyTorch draws these one by one (at::normal_distribution<double>)
            z = np.array([self._normal_double() for _ in range(n)], dtype=np.float64)
        elif dtype == np.float64:
            z = self._normal_fill(n, self._uniform64, _box_muller64, n)
        elif dtype == np.float32:
            z = self._normal_fill(n, self._uniform32, _box_muller32, n)
        else:  # float16 is computed in float32 one block at a time: no uniforms drawn for a partial block
            z = self._normal_fill(n, self._uniform32, _box_muller32, n - n % 16)
        return z.astype(dtype).reshape(shape)

    def _normal_fill(self, n, uniform, box_muller, first_draw):
        """PyTorch's ``normal_fill``: Box-Muller over blocks of 16 uniforms (8 pairs).

        ``first_draw`` uniforms are drawn first (PyTorch draws ``n`` for float and double).
        When ``n`` is not a multiple of 16, the last 16 values are then redrawn from 16
        fresh uniforms, overwriting the tail of the last whole block.
        """
        whole = n - n % 16
        z = np.empty(n, dtype=np.float64)
        z[:whole] = box_muller(uniform(first_draw)[:whole].reshape(-1, 16)).reshape(-1)
        if n % 16:
            z[n - 16:] = box_muller(uniform(16).reshape(1, 16)).reshape(-1)
        return z

    def _normal_double(self):
        if self._next_normal is not None:
            z, self._next_normal = self._next_normal, None
            return z
        u1, u2 = self._uniform64(2).tolist()
        r = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        self._next_normal = r * math.sin(theta)
        return r * math.cos(theta)

    def randint(self, shape, dtype, low, high):
        n = int(np.prod(shape, dtype=np.int64))
        span = high - low
        bits = self._u64(n) if span >= 2**32 else self._u32(n)
        return ((bits % np.uint64(span)).astype(np.int64) + low).astype(dtype).reshape(shape)


def _box_muller32(blocks):
    """Rows of 16 float32 uniforms -> 16 normals each (PyTorch's AVX2 ``normal_fill_16``)."""
    u1 = np.float32(1) - blocks[:, :8]
    radius = np.sqrt(np.float32(-2) * _avx_mathfun.log256(u1))
    sin, cos = _avx_mathfun.sincos256(np.float32(2.0 * math.pi) * blocks[:, 8:])
    return np.concatenate([radius * cos, radius * sin], axis=1)


def _box_muller64(blocks):
    """Rows of 16 float64 uniforms -> 16 normals each, with the C library's log/sin/cos as PyTorch."""
    u1 = (1.0 - blocks[:, :8]).reshape(-1).tolist()
    theta = (2.0 * math.pi * blocks[:, 8:]).reshape(-1).tolist()
    radius = np.sqrt(-2.0 * np.array([math.log(v) for v in u1])).reshape(-1, 8)
    cos = np.array([math.cos(v) for v in theta]).reshape(-1, 8)
    sin = np.array([math.sin(v) for v in theta]).reshape(-1, 8)
    return np.concatenate([radius * cos, radius * sin], axis=1)


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


_SAME_SIZE_UINT = {np.dtype(np.float16): np.uint16, np.dtype(np.float32): np.uint32, np.dtype(np.float64): np.uint64}


def _threshold_backward_kernel(grad, a, threshold):
    """``where(a <= threshold, 0, grad)`` by clearing bits: several times faster than np.where on
    an unpredictable mask, and exactly the same values (+0.0 where masked, NaN/inf kept where not)."""
    uint = _SAME_SIZE_UINT.get(grad.dtype)
    if uint is None or grad.shape != a.shape:
        return np.where(a <= threshold, np.zeros((), dtype=grad.dtype), grad)
    keep = np.logical_not(a <= threshold)
    return np.bitwise_and(grad.view(uint), np.negative(keep, dtype=uint)).view(grad.dtype)


@hookimpl
def bibun_register_kernels(register):
    register.kernel("threshold_backward", "numpy", _threshold_backward_kernel)
    # numpy's ufuncs take arrays and python scalars directly: no generic wrapper on the hottest ops
    register.kernel("mul", "numpy", np.multiply)
    register.kernel("neg", "numpy", np.negative)
    register.kernel("exp", "numpy", np.exp)
    register.kernel("index_add", "numpy", _index_add_kernel)
