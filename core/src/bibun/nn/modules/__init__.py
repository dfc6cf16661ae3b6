"""Every layer, container and loss, re-exported from the file that defines it."""

from importlib import import_module as _import

_FAMILIES = ("activation", "container", "conv", "dropout", "flatten", "linear", "loss", "normalization", "pooling",
             "rnn", "sparse")
_modules = [_import(f"{__name__}.{family}") for family in _FAMILIES]

from .module import Module, RemovableHandle
from .activation import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403

__all__ = ["Module", "RemovableHandle"] + [name for m in _modules for name in m.__all__]
del _import, _modules
