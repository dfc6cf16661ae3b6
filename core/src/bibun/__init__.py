"""bibun (微分): a define-by-run autograd framework with PyTorch's names and semantics.

``import bibun as torch`` runs PyTorch tutorial code. Importing bibun loads no backend
and no plugin; the first tensor created loads the registry through the plugin hooks.
"""

from __future__ import annotations

import builtins as _builtins
import warnings as _warnings

# PyTorch returns nan/inf silently (sqrt(-1), 1/0, exp(1000)); array libraries warn. Silence
# those warnings only where bibun's own kernels raise them: free on the hot path, unlike errstate.
_warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
                         category=RuntimeWarning, module=r"bibun(\.|_)")

from . import dtypes
from ._tensor_str import get_printoptions, printoptions, set_printoptions
from ._version import __version__
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                                 set_grad_enabled)
from .device import device
from .dtypes import (bool_ as bool, double, float, float16, float32, float64, get_default_dtype, half, int, int8,  # noqa: A004
                     int16, int32, int64, long, promote_types, set_default_dtype, short, uint8)
from .dtypes import dtype
from .factories import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like, get_default_device,
                        initial_seed, linspace, manual_seed, ones, ones_like, rand, rand_like, randint, randint_like,
                        randn, randn_like, randperm, seed, set_default_device, tensor, zeros, zeros_like)
from .factories import get_rng_state, set_rng_state
from .generator import Generator, default_generator
from .ops.random_fill import bernoulli, normal
from .ops.activation import log_softmax, relu, sigmoid, softmax, tanh
from .ops.arithmetic import where
from .ops.indexing import gather, index_select, masked_fill, narrow, scatter, scatter_add, select, index_add
from .ops.linalg import addmm, bmm, dot, matmul, mm, mv, outer
from .ops.pointwise import addcdiv, addcmul, lerp
from .ops.reduction import (all, amax, amin, any, argmax, argmin, logsumexp, max, mean, min, norm, prod, return_types, std,  # noqa: A004
                            sum, var)
from .ops.shape import cat, chunk, concat, concatenate, flatten, flip, permute, repeat, reshape, split, squeeze, stack
from .ops.shape import transpose, unbind, unflatten, unsqueeze
from .size import Size
from .tensor import Tensor
from . import tensor_methods as _tensor_methods
from . import autograd  # noqa: E402

_M = _tensor_methods.METHODS

# functional forms that are the tensor methods with the tensor as first argument
add, sub, subtract, mul, multiply, div, divide, true_divide = (_M[n] for n in (
    "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide"))
neg, negative, pow, maximum, minimum, clamp, clip = (_M[n] for n in (  # noqa: A001
    "neg", "negative", "pow", "maximum", "minimum", "clamp", "clip"))
eq, ne, lt, le, gt, ge = (_M[n] for n in ("eq", "ne", "lt", "le", "gt", "ge"))
logical_and, logical_or, logical_xor, logical_not = (_M[n] for n in (
    "logical_and", "logical_or", "logical_xor", "logical_not"))
exp, expm1, log, log2, log10, log1p, sqrt, rsqrt, abs, absolute, sign = (_M[n] for n in (  # noqa: A001
    "exp", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "abs", "absolute", "sign"))
sin, cos, tan, reciprocal, square, floor, ceil, round, trunc = (_M[n] for n in (  # noqa: A001
    "sin", "cos", "tan", "reciprocal", "square", "floor", "ceil", "round", "trunc"))
isnan, isinf, isfinite, clone, remainder, floor_divide = (_M[n] for n in (
    "isnan", "isinf", "isfinite", "clone", "remainder", "floor_divide"))
argsort, sort, swapaxes, t = _M["argsort"], _M["sort"], _M["swapaxes"], _M["t"]
sum_to_size = _M["sum_to_size"]
del _M


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(input):  # noqa: A002
    return input.is_floating_point()


def numel(input):  # noqa: A002
    return input.numel()


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    """|input - other| <= atol + rtol * |other|, elementwise (PyTorch's ``isclose``)."""
    close = (input - other).abs() <= atol + rtol * other.abs()
    close = close | (input == other)
    if equal_nan:
        close = close | (input.isnan() & other.isnan())
    return close


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):  # noqa: A002
    return _builtins.bool(isclose(input, other, rtol, atol, equal_nan).all())


def equal(input, other):  # noqa: A002
    return input.shape == other.shape and _builtins.bool((input == other).all())




# Subpackages load on first use (`bibun.nn.Linear`, `bibun.optim.SGD`, as after `import torch`),
# so `import bibun` stays fast and imports no numpy.
_SUBPACKAGES = ("nn", "optim", "utils", "serialization", "testing", "cuda", "plugins")


def __getattr__(name):
    if name in _SUBPACKAGES:
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'bibun' has no attribute '{name}'")


def save(obj, f):
    """Write a state dict (of a module, an optimizer, or nested) to ``f`` in the safetensors format."""
    from .serialization import save as _save
    return _save(obj, f)


def load(f, map_location=None, **kwargs):
    """Read a checkpoint written by ``save``; never unpickles anything."""
    from .serialization import load as _load
    return _load(f, map_location=map_location, **kwargs)
