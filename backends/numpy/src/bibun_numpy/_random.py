"""The numpy backend's random generator: PyTorch's CPU random streams, bit for bit.

PyTorch's CPU generator is an MT19937 seeded like numpy's ``RandomState`` (the low 32
bits of the seed). Its draws become numbers in fixed ways, repeated here:

- a float32 or float16 uniform is the low 24 bits of one 32-bit draw times 2**-24, a
  float64 uniform the low 53 bits of a 64-bit draw (two 32-bit draws, high word first)
  times 2**-53; ``uniform_(a, b)`` then computes ``x * (b - a) + a`` (float32 in double,
  float16 as a float32 fused multiply-add, float64 as a float64 fused multiply-add) and
  maps a result that rounded up to ``b`` back to ``a``;
- normals come from Box-Muller: over blocks of 16 uniforms for contiguous fills of 16 or
  more (float32 through the AVX ``log``/``sincos``), else one double pair at a time with
  the second value of each pair kept for the next draw; ``mean + std * z`` is a fused
  multiply-add;
- integers are ``low + bits % span`` (64-bit draws when the span needs them; float
  tensors match only within their exact-integer range, where PyTorch does not warn);
- ``bernoulli`` compares a uniform with ``p`` (a 53-bit one for a python ``p`` or a
  float64 ``p`` tensor, a 24-bit one for float32/float16 ``p``), the algorithm PyTorch
  uses where it does not call MKL's generator (non-Intel CPUs, builds without MKL);
- ``exponential`` is ``-1 / lambda * log1p(-u)`` with a 53-bit ``u``;
- ``randperm`` is a Fisher-Yates shuffle drawing ``random() % (n - i)``.
"""

from __future__ import annotations

import math

import numpy as np

from . import _avx_mathfun

DEFAULT_SEED = 67280421310721
_MASK24 = np.uint64((1 << 24) - 1)
_MASK53 = np.uint64((1 << 53) - 1)
_STATE_BYTES = 624 * 4 + 8 + 8 + 8 + 1  # MT key, position, initial seed, cached normal, its flag

# what ``random_()`` with no bounds draws, per dtype: (span, 64-bit draws); bool takes the lowest bit
_DEFAULT_SPAN = {
    "float16": ((1 << 11) + 1, False), "float32": ((1 << 24) + 1, False), "float64": ((1 << 53) + 1, True),
    "int8": (1 << 7, False), "uint8": (1 << 8, False), "int16": (1 << 15, False), "int32": (1 << 31, False),
    "int64": (1 << 63, True), "bool": (2, False),
}
_WIDE_DTYPES = ("int64", "float32", "float64")  # the dtypes whose bounded draws may take 64 bits


class NumpyRNG:
    """MT19937 draws turned into numbers the way PyTorch's CPU generator turns them.

    Every method returns a new C-ordered numpy array of ``shape`` and ``dtype``; the
    caller writes it into a tensor in the tensor's memory order.
    """

    def __init__(self, seed=DEFAULT_SEED):
        self.seed(seed)

    # ------------------------------------------------------------------ state
    def seed(self, seed):
        self.initial_seed = int(seed) & (2**64 - 1)
        self._state = np.random.RandomState(self.initial_seed & 0xFFFFFFFF)
        self._next_normal = None  # the second value of a scalar Box-Muller pair

    def get_state(self):
        """The whole state as uint8 bytes (MT key and position, seed, cached normal)."""
        _, key, pos, _, _ = self._state.get_state()
        cached = self._next_normal
        parts = [np.asarray(key, dtype="<u4").tobytes(), np.int64(pos).astype("<i8").tobytes(),
                 np.uint64(self.initial_seed).astype("<u8").tobytes(),
                 np.float64(0.0 if cached is None else cached).astype("<f8").tobytes(),
                 bytes([cached is not None])]
        return np.frombuffer(b"".join(parts), dtype=np.uint8).copy()

    def set_state(self, state):
        raw = np.asarray(state, dtype=np.uint8).tobytes()
        if len(raw) != _STATE_BYTES:
            raise ValueError(f"Expected a numpy generator state of size {_STATE_BYTES} but found the input RNG "
                             f"state size to be {len(raw)}")
        key = np.frombuffer(raw[:2496], dtype="<u4").astype(np.uint32)
        pos = int(np.frombuffer(raw[2496:2504], dtype="<i8")[0])
        self.initial_seed = int(np.frombuffer(raw[2504:2512], dtype="<u8")[0])
        cached = float(np.frombuffer(raw[2512:2520], dtype="<f8")[0])
        self._state = np.random.RandomState()
        self._state.set_state(("MT19937", key, pos, 0, 0.0))
        self._next_normal = cached if raw[2520] else None

    # ------------------------------------------------------------------ raw draws
    def _u32(self, n):
        return self._state.randint(0, 2**32, size=n, dtype=np.uint64)

    def _u64(self, n):
        r = self._u32(2 * n)
        return (r[0::2] << np.uint64(32)) | r[1::2]

    def _uniform24(self, n):
        """PyTorch's float uniform as float64: the low 24 bits of one 32-bit draw, times 2**-24."""
        return (self._u32(n) & _MASK24).astype(np.float64) * 2.0**-24

    def _uniform32(self, n):
        return self._uniform24(n).astype(np.float32)

    def _uniform64(self, n):
        """PyTorch's double uniform: the low 53 bits of a 64-bit draw, times 2**-53."""
        return (self._u64(n) & _MASK53).astype(np.float64) * 2.0**-53

    # ------------------------------------------------------------------ continuous
    def rand(self, shape, dtype):
        return self.uniform(shape, dtype, 0.0, 1.0)

    def uniform(self, shape, dtype, low, high):
        n = _numel(shape)
        name = np.dtype(dtype).name
        if name == "float64":
            x = self._uniform64(n)
            if (low, high) == (0.0, 1.0):
                return x.reshape(shape)
            out = fma64(x, high - low, low)
            top, bottom = high, low
        elif name == "float32":
            lo, hi = np.float32(low), np.float32(high)
            out = (self._uniform24(n) * float(np.float32(hi - lo)) + float(lo)).astype(np.float32)
            top, bottom = hi, lo
        else:  # float16: a float32 fused multiply-add from float32 bounds, rounded to half
            lo, hi = np.float32(low), np.float32(high)
            out = _avx_mathfun.fma(self._uniform32(n), np.float32(hi - lo), lo).astype(dtype)
            top, bottom = np.asarray(hi).astype(dtype), np.asarray(lo).astype(dtype)
        out[out == top] = bottom  # a value that rounded up to the excluded bound
        return out.reshape(shape)

    def randn(self, shape, dtype):
        return self.normal(shape, dtype, 0.0, 1.0)

    def normal(self, shape, dtype, mean, std, contiguous=True):
        """``mean + std * z``; ``contiguous=False`` draws as PyTorch does for a strided tensor (pair by pair)."""
        n = _numel(shape)
        name = np.dtype(dtype).name
        if n < 16 or not contiguous:
            z = np.array([self._normal_double() for _ in range(n)], dtype=np.float64)
            return _scale64(z, mean, std).astype(dtype).reshape(shape)
        if name == "float64":
            return _scale64(self._normal_fill(n, self._uniform64, _box_muller64, n), mean, std).reshape(shape)
        # float16 is computed in float32 one block at a time: no uniforms drawn for a partial block
        first = n if name == "float32" else n - n % 16
        z = self._normal_fill(n, self._uniform32, _box_muller32, first).astype(np.float32)
        if (mean, std) != (0.0, 1.0):
            z = _avx_mathfun.fma(z, np.float32(std), np.float32(mean))
        return z.astype(dtype).reshape(shape)

    def _normal_fill(self, n, uniform, box_muller, first_draw):
        """Box-Muller over blocks of 16 uniforms (8 pairs).

        ``first_draw`` uniforms are drawn first (``n`` for float and double). When ``n``
        is not a multiple of 16, the last 16 values are then redrawn from 16 fresh
        uniforms, overwriting the tail of the last whole block.
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

    def exponential(self, shape, dtype, lambd):
        u = self._uniform64(_numel(shape)).tolist()  # the C library's log1p, as PyTorch (numpy's own differs)
        scale = -1.0 / lambd
        return (scale * np.array([math.log1p(-v) for v in u], dtype=np.float64)).astype(dtype).reshape(shape)

    def bernoulli(self, shape, dtype, p):
        """1 where a uniform falls below ``p`` (a python float, or an array of ``shape``)."""
        n = _numel(shape)
        if isinstance(p, np.ndarray) and p.dtype != np.float64:
            u = self._uniform24(n).reshape(shape)
            p = p.astype(np.float64)
        else:
            u = self._uniform64(n).reshape(shape)
        return (u < p).astype(dtype)

    # ------------------------------------------------------------------ integers
    def randint(self, shape, dtype, low, high):
        return self.random(shape, dtype, low, high - low)

    def random(self, shape, dtype, low=0, span=None):
        """``low + bits % span`` (``span`` up to 2**64); ``span=None``: ``random_()``'s range for the dtype."""
        n = _numel(shape)
        name = np.dtype(dtype).name
        if span is None:
            span, wide = _DEFAULT_SPAN[name]
            bits = self._u64(n) if wide else self._u32(n)
            values = (bits & np.uint64(1)) if name == "bool" else bits % np.uint64(span)
            return values.astype(dtype).reshape(shape)
        if span == 2**64:  # the full int64 range
            return self._u64(n).view(np.int64).astype(dtype).reshape(shape)
        wide = span >= 2**32 and name in _WIDE_DTYPES
        bits = self._u64(n) if wide else self._u32(n)
        values = (bits % np.uint64(span) + np.uint64(low % 2**64)).view(np.int64)  # wraps like uint64
        return values.astype(dtype).reshape(shape)

    def randperm(self, n, dtype):
        """A Fisher-Yates shuffle of ``0..n-1``: element ``i`` swaps with ``i + random() % (n - i)``."""
        perm = list(range(n))
        if n > 1:
            offsets = (self._u32(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
            for i, z in enumerate(offsets):
                j = i + z
                perm[i], perm[j] = perm[j], perm[i]
        return np.array(perm, dtype=dtype)


def _numel(shape):
    return int(np.prod(shape, dtype=np.int64))


def _scale64(z, mean, std):
    return z if (mean, std) == (0.0, 1.0) else fma64(z, std, mean)


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _add_round_to_odd(a, b):
    """float64 ``a + b`` rounded to odd: exact sums stay, inexact ones take the neighbour with an odd last bit."""
    s, err = _two_sum(a, b)
    bits = s.view(np.int64)
    toward = np.where((err > 0) == (s > 0), 1, -1)
    return np.where((err != 0) & ((bits & 1) == 0), bits + toward, bits).view(np.float64)


def _split(a):
    big = a * 134217729.0  # Veltkamp: 2**27 + 1
    hi = big - (big - a)
    return hi, a - hi


def fma64(a, b, c):
    """float64 ``a * b + c`` rounded once, like the FMA instruction (Boldo and Melquiond's emulation).

    The exact product is split in two (Dekker), added to ``c`` with TwoSum, the low parts
    summed rounding to odd, then one last rounding. Where the product or ``c`` is not
    finite the plain expression is already right.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        p = a * b
        a_hi, a_lo = _split(a)
        b_hi, b_lo = _split(b)
        p_err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
        hi, lo = _two_sum(c, p)
        out = hi + _add_round_to_odd(np.asarray(lo), np.asarray(p_err))
        plain = p + c
    return np.where(np.isfinite(out), out, plain)


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
