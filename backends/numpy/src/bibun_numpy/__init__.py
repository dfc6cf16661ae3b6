"""bibun's CPU backend on numpy, registered through the ``bibun.backends`` entry point.

It imports nothing from bibun: everything reaches it through the ``register`` object.
Its random generators (``_random.NumpyRNG``) reproduce PyTorch's CPU streams: MT19937
with the same seeding, the same bits-to-number conversions and the same Box-Muller
arithmetic as PyTorch's x86 builds.
"""

from __future__ import annotations

import numpy as np
import pluggy

from ._random import NumpyRNG

hookimpl = pluggy.HookimplMarker("bibun")

__version__ = "0.1.0"


class NumpyImpl:
    """What the core asks of a backend: the array namespace, conversions and random generators."""

    xp = np
    array_type = np.ndarray

    def __init__(self):
        self.dtypes = {name: np.dtype(name) for name in
                       ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")}
        self.default_generator = NumpyRNG()  # the stream ``bibun.manual_seed`` seeds

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

    def new_generator(self):
        """A generator of its own (``bibun.Generator``), seeded with PyTorch's default seed."""
        return NumpyRNG()


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
