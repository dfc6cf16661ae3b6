"""bibun-activations: the Swish and Mish activations as a bibun plugin.

    import bibun
    from bibun_activations import Mish, Swish, mish, swish

    y = swish(x, beta=1.5)      # also x.swish(beta=1.5) and bibun.nn.functional.swish(x, beta=1.5)
    y = x.mish()                # or mish(x), bibun.ops.activations.mish(x)
    model = bibun.nn.Sequential(bibun.nn.Linear(4, 8), Swish())

bibun imports this module through its ``bibun.plugins`` entry point when it first needs
its registry, and calls the two hooks below. The module classes are imported on first
use, so loading the plugin does not import ``bibun.nn``.
"""

from __future__ import annotations

from . import kernels
from .ops import mish, mish_op, swish, swish_op

__version__ = "0.1.0"
__all__ = ["swish", "mish", "Swish", "Mish", "swish_op", "mish_op"]


def bibun_register_ops(register):
    # x.swish(beta=2.0), bibun.nn.functional.swish(x, beta=2.0) and bibun.ops.activations.swish(x)
    register.op(swish_op, method="swish", functional="swish")
    # bibun.nn.functional has a mish of its own (the built-in op): bind only the Tensor method
    register.op(mish_op, method="mish")


def bibun_register_kernels(register):
    register.kernel(swish_op.name, "numpy", kernels.swish_numpy)
    register.kernel(mish_op.name, "numpy", kernels.mish_numpy)
    # harmless without cupy: the registry keeps the function, and only a cupy tensor runs it
    register.kernel(swish_op.name, "cupy", kernels.swish_cupy)
    register.kernel(mish_op.name, "cupy", kernels.mish_cupy)


def __getattr__(name):
    if name in ("Swish", "Mish"):
        from . import modules
        return getattr(modules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
