"""``bibun.nn``: modules, parameters, layers, losses and their functional forms.

Layers live in ``nn/modules/<family>.py``, their functional forms in
``nn/functional/<family>.py``, and the ops with their gradients in ``bibun/ops/``.
"""

from . import functional, init, utils
from .modules import *  # noqa: F403
from .modules import __all__ as _modules_all
from .parameter import Parameter

__all__ = ["Parameter", "functional", "init", "utils", "create_loss", "available_losses"] + list(_modules_all)


def create_loss(name, **kwargs):
    """A loss registered by name through the ``bibun_register_losses`` hook, e.g. ``create_loss("mse")``."""
    from ..dispatch import registry
    return registry.catalog_factory("losses", name)(**kwargs)


def available_losses():
    """``{name: plugin}`` for every registered loss."""
    from ..dispatch import registry
    return registry.catalog("losses")
