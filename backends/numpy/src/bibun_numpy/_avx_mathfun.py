"""float32 ``log`` and ``sincos`` exactly as PyTorch's x86 CPU ``randn`` computes them.

PyTorch's ``normal_`` on float32 tensors of 16 or more elements (x86 builds, AVX2 or
AVX-512) runs Box-Muller through ``log256_ps`` and ``sincos256_ps`` from
``aten/src/ATen/native/cpu/avx_mathfun.h`` (Cephes polynomials, zlib license), which
the compiler turns into fused multiply-adds. This module repeats those float32
operations step by step, with the same fusions, so that seeded ``randn`` gives
PyTorch's numbers bit for bit. Each function takes and returns float32 arrays.
"""

from __future__ import annotations

import numpy as np

f32, f64 = np.float32, np.float64

_LOG_P = (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1, 1.4249322787E-1,
          -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1, 3.3333331174E-1)
_DP = (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)  # -pi/4 in three pieces
_COS_P = (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)
_SIN_P = (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)


def fma(a, b, c):
    """float32 ``a * b + c`` rounded once, like the FMA instruction.

    ``a * b`` is exact in float64. Rounding the float64 sum again to float32 gives the
    right answer except where the float64 sum landed exactly halfway between two
    float32 values (or among float32 subnormals); those few are redone by rounding
    the exact sum (known from TwoSum) to odd first.
    """
    p = np.multiply(a, b, dtype=f64)
    s = np.add(p, c, dtype=f64)
    out = s.astype(f32)
    bits = s.view(np.int64)
    risky = ((bits & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0**-125)
    if risky.any():
        i = np.nonzero(risky)
        p, s = p[i], s[i]
        c = np.broadcast_to(np.asarray(c, f64), out.shape)[i]
        bb = s - p
        err = (p - (s - bb)) + (c - bb)
        bits = s.view(np.int64)
        toward = np.where((err > 0) == (s > 0), 1, -1)
        odd = np.where((err != 0) & ((bits & 1) == 0), bits + toward, bits)
        out[i] = odd.view(f64).astype(f32)
    return out


def _horner(coefs, x):
    y = np.full(x.shape, coefs[0], f32)
    for c in coefs[1:]:
        y = fma(y, x, f32(c))
    return y


def log256(x):
    """Natural log of positive float32 values (``log256_ps``)."""
    x = np.maximum(x, np.array(0x00800000, np.int32).view(f32))  # no denormals
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(f32) + f32(1)
    x = ((bits & ~0x7F800000) | np.array(0.5, f32).view(np.int32)).view(f32)  # mantissa in [0.5, 1)
    small = x < f32(0.707106781186547524)
    e = e - small.astype(f32)
    x = (x - f32(1)) + np.where(small, x, f32(0))
    z = x * x
    y = _horner(_LOG_P, x) * x
    y = fma(y, z, e * f32(-2.12194440e-4))
    y = fma(-z, f32(0.5), y)
    return fma(e, f32(0.693359375), x + y)


def sincos256(x):
    """``(sin(x), cos(x))`` of float32 values (``sincos256_ps``)."""
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * f32(1.27323954473516)).astype(np.int32)  # x * 4/pi, truncated
    j = (j + 1) & ~1
    y = j.astype(f32)
    for dp in _DP:  # x - y * pi/4, in extended precision
        x = fma(y, f32(dp), x)
    sign_sin = sign_sin ^ ((j & 4) != 0)
    sign_cos = (~(j - 2) & 4) != 0
    swap = (j & 2) != 0  # sin and cos polynomials trade places
    z = x * x
    yc = _horner(_COS_P, z) * z
    yc = fma(yc, z, -(z * f32(0.5))) + f32(1)
    ys = fma(_horner(_SIN_P, z) * z, x, x)
    s = np.where(swap, yc, ys)
    c = np.where(swap, ys, yc)
    return np.where(sign_sin, -s, s), np.where(sign_cos, -c, c)
