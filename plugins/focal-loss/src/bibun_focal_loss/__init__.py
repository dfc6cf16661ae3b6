"""bibun-focal-loss: focal loss for bibun, registered by name.

    import bibun
    loss_fn = bibun.nn.create_loss("focal", gamma=2.0)      # found through the plugin registry
    from bibun_focal_loss import FocalLoss, focal_loss      # or imported directly

The hook names the class as a "module:attribute" string: bibun imports it only when someone
asks for the loss, so loading this plugin (at bibun's first tensor) stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["FocalLoss", "focal_loss"]


def bibun_register_losses(register):
    register.loss("focal", "bibun_focal_loss.module:FocalLoss")


def __getattr__(name):
    if name == "FocalLoss":
        from .module import FocalLoss
        return FocalLoss
    if name == "focal_loss":
        from .functional import focal_loss
        return focal_loss
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
