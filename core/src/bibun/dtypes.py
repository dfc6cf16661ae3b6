"""bibun's dtypes and PyTorch's type-promotion rules.

A dtype is a small immutable object (``bibun.float32``) that knows its numpy
dtype name; backends map it to their own array dtype. Promotion follows
PyTorch, not numpy: python scalars and 0-dim tensors are "weak", so
``float32_tensor * 2.5`` and ``float32_tensor * tensor(2.5, dtype=float64)``
both stay float32, and ``int_tensor / int_tensor`` is float32.
"""

from __future__ import annotations

__all__ = [
    "dtype", "float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool_",
    "half", "float", "double", "short", "int", "long",
    "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "from_numpy_name",
]

# Categories order the kinds of number: a higher category always wins.
BOOL, INTEGRAL, FLOATING = 0, 1, 2


class dtype:  # noqa: N801 - PyTorch's name
    """A tensor element type, compared by identity (there is one object per type)."""

    __slots__ = ("name", "numpy_name", "category", "itemsize", "_legacy")

    def __init__(self, name, numpy_name, category, itemsize, legacy):
        self.name = name
        self.numpy_name = numpy_name
        self.category = category
        self.itemsize = itemsize
        self._legacy = legacy  # PyTorch's legacy type name, used in some messages

    @property
    def is_floating_point(self):
        return self.category == FLOATING

    @property
    def is_signed(self):
        return self.name not in ("uint8", "bool")

    def __repr__(self):
        return f"bibun.{self.name}"

    def __reduce__(self):
        return (from_numpy_name, (self.numpy_name,))


float16 = dtype("float16", "float16", FLOATING, 2, "HalfTensor")
float32 = dtype("float32", "float32", FLOATING, 4, "FloatTensor")
float64 = dtype("float64", "float64", FLOATING, 8, "DoubleTensor")
int8 = dtype("int8", "int8", INTEGRAL, 1, "CharTensor")
uint8 = dtype("uint8", "uint8", INTEGRAL, 1, "ByteTensor")
int16 = dtype("int16", "int16", INTEGRAL, 2, "ShortTensor")
int32 = dtype("int32", "int32", INTEGRAL, 4, "IntTensor")
int64 = dtype("int64", "int64", INTEGRAL, 8, "LongTensor")
bool_ = dtype("bool", "bool", BOOL, 1, "BoolTensor")

# PyTorch's aliases
half, float, double = float16, float32, float64  # noqa: A001
short, int, long = int16, int32, int64  # noqa: A001

ALL = (float16, float32, float64, int8, uint8, int16, int32, int64, bool_)
# PyTorch's scalar-type names ("Float", "Long"), which its kernels' error messages use
TYPE_NAME = {d.name: d._legacy[:-len("Tensor")] for d in ALL}
_BY_NUMPY_NAME = {d.numpy_name: d for d in ALL}


def from_numpy_name(name):
    """The bibun dtype for a numpy dtype name (``'float32'``); TypeError if bibun has none."""
    try:
        return _BY_NUMPY_NAME[name]
    except KeyError:
        raise TypeError(
            f"bibun has no dtype for numpy dtype {name}; supported: "
            + ", ".join(d.name for d in ALL)
        ) from None


_default_float = [float32]


def get_default_dtype():
    return _default_float[0]


def set_default_dtype(d):
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    _default_float[0] = d


def _promote_pair(a, b):
    """PyTorch's promoteTypes table: the higher category wins; within one, the wider type."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == INTEGRAL and {a, b} == {int8, uint8}:
        return int16
    if a.category == INTEGRAL and uint8 in (a, b):
        other = b if a is uint8 else a
        return other
    return a if a.itemsize >= b.itemsize else b


_PROMOTE = {(a, b): _promote_pair(a, b) for a in ALL for b in ALL}


def promote_types(a, b):
    """``bibun.promote_types``: the smallest dtype both promote to (PyTorch's table)."""
    return _PROMOTE[(a, b)]


def _promote_skip_none(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return _PROMOTE[(a, b)]


def _combine_categories(higher, lower):
    # PyTorch's combine_categories (c10/core/ScalarType + TensorIterator's ResultTypeState).
    if higher is not None and higher.category == FLOATING:
        return higher
    if higher is bool_ or (lower is not None and lower.category == FLOATING):
        return _promote_skip_none(higher, lower)
    if higher is not None:
        return higher
    return lower


def result_type(dim_dtype, zero_dim_dtype, scalar_dtype):
    """Combine the three PyTorch promotion tiers.

    ``dim_dtype`` promotes the dtypes of tensors with dimensions, ``zero_dim_dtype``
    those of 0-dim tensors and ``scalar_dtype`` those of python scalars (already
    mapped: float -> default float, int -> int64, bool -> bool). ``None`` = absent.
    """
    return _combine_categories(dim_dtype, _combine_categories(zero_dim_dtype, scalar_dtype))


def scalar_dtype(value):
    """The dtype a python scalar takes part in promotion with."""
    t = type(value)
    if t is builtins_bool:
        return bool_
    if t is builtins_int:
        return int64
    return _default_float[0]


import builtins as _builtins  # noqa: E402

builtins_bool = _builtins.bool
builtins_int = _builtins.int
builtins_float = _builtins.float
