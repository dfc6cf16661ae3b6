"""bibun-lion: the Lion optimizer for bibun, registered by name.

    import bibun
    opt = bibun.optim.create("lion", model.parameters(), lr=1e-4, weight_decay=0.1)
    from bibun_lion import Lion                              # or imported directly

The hook names the class as a "module:attribute" string, imported only when someone asks
for "lion", so loading the plugin (at bibun's first tensor) imports nothing else.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Lion"]


def bibun_register_optimizers(register):
    register.optimizer("lion", "bibun_lion.optimizer:Lion")


def __getattr__(name):
    if name == "Lion":
        from .optimizer import Lion
        return Lion
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
