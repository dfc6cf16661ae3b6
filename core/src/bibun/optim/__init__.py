"""``bibun.optim``: PyTorch's optimizers and learning-rate schedulers, with PyTorch's update arithmetic.

Optimizers are also reachable by name, through the plugin registry, so a plugin can add its
own: ``bibun.optim.create("adam", model.parameters(), lr=1e-3)``; ``available()`` lists them.
"""

from __future__ import annotations

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler", "create", "available",
           "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


def available():
    """The registered optimizer names, each with the plugin that registered it: ``{name: plugin}``."""
    from ..dispatch import registry
    return registry.catalog("optimizers")


def create(name, params, **kwargs):
    """The optimizer registered as ``name`` (case-insensitive), built as ``cls(params, **kwargs)``."""
    from ..dispatch import registry
    return registry.catalog_factory("optimizers", name)(params, **kwargs)
