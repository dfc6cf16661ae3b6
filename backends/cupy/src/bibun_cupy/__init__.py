"""bibun's GPU backend on cupy (device type ``cuda``), registered through the ``bibun.backends`` entry point.

It imports nothing from bibun: everything reaches it through the ``register`` object. Nor
does it import cupy here: the backend registers on any machine, and its availability probe
(``_probe.probe``) says whether cupy and a CUDA device are present, and if not, why and how
to fix it. cupy is imported when the first cuda tensor is made.
"""

from __future__ import annotations

import pluggy

from . import _kernels, _probe

hookimpl = pluggy.HookimplMarker("bibun")

__version__ = "0.1.0"
__all__ = ["bibun_register_backends", "bibun_register_kernels", "load", "is_available"]


def is_available():
    """``(True, what was found)`` or ``(False, why not and how to fix it)``; never raises."""
    return _probe.probe()


def load():
    """The backend implementation (imports cupy); called by bibun once the probe said yes."""
    from ._impl import CupyImpl
    return CupyImpl()


@hookimpl
def bibun_register_backends(register):
    register.backend(name="cupy", device_type="cuda", load=load, is_available=is_available,
                     description="cupy on NVIDIA GPUs (CUDA 12: bibun-cupy[cuda12], CUDA 13: bibun-cupy[cuda13])")


@hookimpl
def bibun_register_kernels(register):
    for op_name, fn in _kernels.KERNELS.items():
        register.kernel(op_name, "cupy", fn)
