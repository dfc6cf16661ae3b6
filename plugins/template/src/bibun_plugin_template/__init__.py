"""bibun-plugin-template: the smallest complete bibun plugin.

bibun imports this module through its ``bibun.plugins`` entry point (see pyproject.toml) the
first time it needs its registry, then calls the hook functions below, each with a
``register`` object. Keep this module cheap to import: it is loaded with every program.
"""

from __future__ import annotations

from .ops import scaled_tanh, scaled_tanh_numpy, scaled_tanh_op

__version__ = "0.1.0"
__all__ = ["scaled_tanh", "scaled_tanh_op"]


def bibun_register_ops(register):
    # also reachable as bibun.ops.template.scaled_tanh, x.scaled_tanh(a=..., b=...) and
    # bibun.nn.functional.scaled_tanh(x, a=..., b=...)
    register.op(scaled_tanh_op, method="scaled_tanh", functional="scaled_tanh")


def bibun_register_kernels(register):
    # other backends run the generic kernel (``@scaled_tanh_op.impl``)
    register.kernel(scaled_tanh_op.name, "numpy", scaled_tanh_numpy)
