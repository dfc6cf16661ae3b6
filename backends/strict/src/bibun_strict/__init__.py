"""bibun's second CPU backend, on ``array-api-strict``, registered through the ``bibun.backends`` entry point.

``array-api-strict`` implements the array API standard and nothing more: no numpy
extras, no value-based casting, no strided views. Running bibun's whole suite on it
(``BIBUN_BACKEND=strict``) proves that the core and the generic kernels use only what a
backend provides. It serves device type ``cpu`` next to the numpy backend; numpy stays
the default and ``BIBUN_BACKEND=strict`` picks this one.

What it cannot run is listed, with the reason, in :mod:`bibun_strict.unsupported`.
Like the numpy backend, it imports nothing from bibun: everything reaches it through
the ``register`` object.
"""

from __future__ import annotations

import warnings

import numpy as np
import pluggy

from . import kernels
from .unsupported import UNSUPPORTED

hookimpl = pluggy.HookimplMarker("bibun")

# As ``import bibun`` does for its own kernels: nan and inf come back silently, as in PyTorch.
# array-api-strict runs numpy underneath, so numpy's warnings surface from its modules.
warnings.filterwarnings("ignore", message=r"(invalid value|divide by zero|overflow|underflow) encountered",
                        category=RuntimeWarning, module=r"array_api_strict(\.|$)")

__version__ = "0.1.0"

# float16 is not part of the standard: array-api-strict has no such dtype
_DTYPE_NAMES = ("float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")


def _namespace():
    import array_api_strict
    return array_api_strict


def _host(array):
    """The numpy array behind a strict array, without a copy (DLPack is the standard's way out)."""
    return np.from_dlpack(array)


class StrictRNG:
    """PyTorch's CPU random streams (the numpy backend's generator), handed out as strict arrays.

    The draws happen in numpy, then cross over: the same seed gives the same numbers on
    both CPU backends.
    """

    def __init__(self, xp, to_numpy_dtype):
        from bibun_numpy._random import NumpyRNG
        self._xp = xp
        self._np_dtype = to_numpy_dtype
        self._rng = NumpyRNG()

    # ------------------------------------------------------------------ state
    @property
    def initial_seed(self):
        return self._rng.initial_seed

    def seed(self, seed):
        self._rng.seed(seed)

    def get_state(self):
        return self._rng.get_state()

    def set_state(self, state):
        self._rng.set_state(state)

    # ------------------------------------------------------------------ draws
    def _out(self, array):
        return self._xp.asarray(np.asarray(array, order="C"))

    def rand(self, shape, dtype):
        return self._out(self._rng.rand(shape, self._np_dtype[dtype]))

    def randn(self, shape, dtype):
        return self._out(self._rng.randn(shape, self._np_dtype[dtype]))

    def uniform(self, shape, dtype, low, high):
        return self._out(self._rng.uniform(shape, self._np_dtype[dtype], low, high))

    def normal(self, shape, dtype, mean, std, contiguous=True):
        return self._out(self._rng.normal(shape, self._np_dtype[dtype], mean, std, contiguous=contiguous))

    def randint(self, shape, dtype, low, high):
        return self._out(self._rng.randint(shape, self._np_dtype[dtype], low, high))

    def random(self, shape, dtype, low=0, span=None):
        return self._out(self._rng.random(shape, self._np_dtype[dtype], low, span))

    def bernoulli(self, shape, dtype, p):
        if not isinstance(p, (int, float)):
            p = _host(p)
        return self._out(self._rng.bernoulli(shape, self._np_dtype[dtype], p))

    def exponential(self, shape, dtype, lambd):
        return self._out(self._rng.exponential(shape, self._np_dtype[dtype], lambd))

    def randperm(self, n, dtype):
        return self._out(self._rng.randperm(n, self._np_dtype[dtype]))


class StrictImpl:
    """What the core asks of a backend, written with the standard's functions wherever one exists."""

    unsupported = UNSUPPORTED  # what the suite skips on this backend, and why (read by tests/conftest.py)

    def __init__(self):
        xp = _namespace()
        self.xp = xp
        self.array_type = type(xp.asarray(0))
        self.dtypes = {name: getattr(xp, name) for name in _DTYPE_NAMES}
        self._np_dtype = {native: np.dtype(name) for name, native in self.dtypes.items()}
        self.default_generator = StrictRNG(xp, self._np_dtype)  # the stream ``bibun.manual_seed`` seeds

    def asarray(self, data, dtype=None):
        if isinstance(data, (np.ndarray, np.generic)):
            data = np.asarray(data, order="C")  # the standard knows no strides: hand over C order
        return self.xp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return _host(array)

    def from_numpy(self, array):
        if array.dtype == np.float16:  # the standard has no half precision
            raise TypeError("bibun backend 'strict' does not support dtype bibun.float16")
        return self.xp.asarray(array)

    def copy(self, array):
        return self.xp.asarray(array, copy=True)

    def is_contiguous(self, array):
        return _host(array).flags.c_contiguous

    def strides(self, array):
        """Byte strides, which the standard leaves out and DLPack carries (random fills follow memory order)."""
        return _host(array).strides

    def new_generator(self):
        """A generator of its own (``bibun.Generator``), seeded with PyTorch's default seed."""
        return StrictRNG(self.xp, self._np_dtype)


def _available():
    try:
        _namespace()
    except ImportError as exc:
        return False, f"array-api-strict is not installed ({exc}); pip install array-api-strict"
    return True, ""


@hookimpl
def bibun_register_backends(register):
    register.backend(name="strict", device_type="cpu", load=StrictImpl, is_available=_available,
                     description="array-api-strict on the CPU (the array API standard and nothing more)")


@hookimpl
def bibun_register_kernels(register):
    kernels.register_all(register)
