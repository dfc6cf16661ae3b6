"""The cupy backend's random generator: SplitMix64 over a 64-bit counter, computed on the device.

Draw ``i`` of a stream is ``mix(key + (offset + i) * golden)`` (Steele, Lea and Flood's
SplitMix64 finaliser over a Weyl sequence), where ``key`` comes from the seed and
``offset`` counts the 64-bit draws taken so far. So the whole state is two numbers (the
seed and the offset, 16 bytes, as PyTorch's CUDA generator state is), a draw of any size
is one pass of elementwise array ops with no sequential dependency, and a seed gives the
same numbers on every GPU and cupy version.

The streams are deterministic but they are not PyTorch's CUDA (Philox) streams: the same
seed draws different numbers in PyTorch on a GPU. Everything here is written against an
array namespace ``xp``, so it runs (and is tested) on numpy as well.

Numbers from bits: a float64 uniform is the top 53 bits times 2**-53, a float32 one the
top 24 bits times 2**-24, a float16 one the top 11 bits times 2**-11 (exact, in [0, 1));
normals are Box-Muller pairs computed in float32 (float64 for float64 tensors); integers
are ``low + bits % span``; ``randperm`` sorts ``n`` random 64-bit keys.
"""

from __future__ import annotations

import math

import numpy as np

DEFAULT_SEED = 67280421310721
_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_STATE_BYTES = 16  # the seed and the offset, little-endian uint64 each

_U64 = np.uint64
_G, _M1, _M2 = _U64(_GOLDEN), _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31, _S40, _S53 = (_U64(s) for s in (11, 27, 30, 31, 40, 53))

# what ``random_()`` with no bounds draws, per dtype: values in [0, span), as on the cpu
_DEFAULT_SPAN = {
    "float16": (1 << 11) + 1, "float32": (1 << 24) + 1, "float64": (1 << 53) + 1,
    "int8": 1 << 7, "uint8": 1 << 8, "int16": 1 << 15, "int32": 1 << 31, "int64": 1 << 63, "bool": 2,
}


def _mix_scalar(z):
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9 & _MASK64
    z = (z ^ (z >> 27)) * 0x94D049BB133111EB & _MASK64
    return z ^ (z >> 31)


def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def _numel(shape):
    return math.prod(int(s) for s in shape)


class CounterRNG:
    """A random stream on the arrays of ``xp`` (cupy, or numpy in tests).

    Every draw returns a new C-ordered array of ``shape`` and ``dtype`` on the current
    device; the caller writes it into the tensor in the tensor's memory order.
    """

    def __init__(self, xp, seed=DEFAULT_SEED):
        self.xp = xp
        self.seed(seed)

    # ------------------------------------------------------------------ state
    def seed(self, seed):
        self.initial_seed = int(seed) & _MASK64
        self._key = _mix_scalar((self.initial_seed + _GOLDEN) & _MASK64)
        self._offset = 0

    def get_state(self):
        """The seed and the offset, as 16 uint8 bytes."""
        raw = np.array([self.initial_seed, self._offset], dtype="<u8").tobytes()
        return np.frombuffer(raw, dtype=np.uint8).copy()

    def set_state(self, state):
        raw = np.asarray(state, dtype=np.uint8).tobytes()
        if len(raw) != _STATE_BYTES:
            raise ValueError(f"Expected a cupy generator state of size {_STATE_BYTES} but found the input RNG state "
                             f"size to be {len(raw)}")
        seed, offset = (int(v) for v in np.frombuffer(raw, dtype="<u8"))
        self.seed(seed)
        self._offset = offset

    # ------------------------------------------------------------------ raw draws
    def _bits(self, n):
        """``n`` uint64 draws; the stream moves on by ``n``."""
        start = self._offset
        self._offset = (start + n) & _MASK64
        count = self.xp.arange(n, dtype=np.uint64)
        return _mix((count + _U64(start)) * _G + _U64(self._key))

    def _uniform(self, n, name):
        """``n`` uniforms on [0, 1) of float dtype ``name``, exactly representable."""
        bits = self._bits(n)
        if name == "float64":
            return (bits >> _S11).astype(np.float64) * 2.0**-53
        if name == "float32":
            return (bits >> _S40).astype(np.float32) * np.float32(2.0**-24)
        return (bits >> _S53).astype(np.float16) * np.float16(2.0**-11)

    # ------------------------------------------------------------------ continuous
    def rand(self, shape, dtype):
        return self.uniform(shape, dtype, 0.0, 1.0)

    def uniform(self, shape, dtype, low, high):
        name = np.dtype(dtype).name
        u = self._uniform(_numel(shape), name)
        if (low, high) != (0.0, 1.0):
            calc = np.float64 if name == "float64" else np.float32
            lo, hi = calc(low), calc(high)
            out = (u.astype(calc) * (hi - lo) + lo).astype(dtype)
            top, bottom = np.dtype(dtype).type(high), np.dtype(dtype).type(low)
            u = self.xp.where(out >= top, bottom, out)  # a value that rounded up to the excluded bound
        return u.reshape(shape)

    def randn(self, shape, dtype):
        return self.normal(shape, dtype, 0.0, 1.0)

    def normal(self, shape, dtype, mean, std, contiguous=True):
        """``mean + std * z`` from Box-Muller pairs (the memory order of the target changes nothing)."""
        xp = self.xp
        n = _numel(shape)
        name = np.dtype(dtype).name
        calc = "float64" if name == "float64" else "float32"
        pairs = (n + 1) // 2
        u = self._uniform(2 * pairs, calc)
        one = np.dtype(calc).type(1.0)
        radius = xp.sqrt(np.dtype(calc).type(-2.0) * xp.log(one - u[:pairs]))  # 1 - u in (0, 1]: finite
        theta = np.dtype(calc).type(2.0 * math.pi) * u[pairs:]
        z = xp.concatenate([radius * xp.cos(theta), radius * xp.sin(theta)])[:n]
        if (mean, std) != (0.0, 1.0):
            z = z * np.dtype(calc).type(std) + np.dtype(calc).type(mean)
        return z.astype(dtype).reshape(shape)

    def exponential(self, shape, dtype, lambd):
        u = self._uniform(_numel(shape), "float64")
        return (-self.xp.log1p(-u) / lambd).astype(dtype).reshape(shape)

    def bernoulli(self, shape, dtype, p):
        """1 where a uniform falls below ``p`` (a python float, or an array of ``shape``)."""
        u = self._uniform(_numel(shape), "float64").reshape(shape)
        if not isinstance(p, (int, float)):
            p = p.astype(np.float64)
        return (u < p).astype(dtype)

    # ------------------------------------------------------------------ integers
    def randint(self, shape, dtype, low, high):
        return self.random(shape, dtype, low, high - low)

    def random(self, shape, dtype, low=0, span=None):
        """``low + bits % span`` (``span`` up to 2**64); ``span=None``: ``random_()``'s range for the dtype."""
        n = _numel(shape)
        name = np.dtype(dtype).name
        bits = self._bits(n)
        if span is None:
            if name == "bool":
                return (bits & _U64(1)).astype(dtype).reshape(shape)
            span = _DEFAULT_SPAN[name]
        if span == 1 << 64:
            values = bits
        else:
            values = bits % _U64(span) + _U64(low & _MASK64)  # wraps like uint64, as the cpu backend's
        return values.view(np.int64).astype(dtype).reshape(shape)

    def randperm(self, n, dtype):
        """A permutation of ``0..n-1``: the order that sorts ``n`` random 64-bit keys."""
        return self.xp.argsort(self._bits(n)).astype(dtype)
