"""``bibun.nn.functional``: the layers as functions, re-exported from one file per family.

Where is what: activations in ``activation.py``, ``linear`` in ``linear.py``, convolutions in
``conv.py``, pooling in ``pooling.py``, ``pad`` in ``padding.py``, losses in ``loss.py``,
normalisation in ``normalization.py``, ``embedding``/``one_hot`` in ``sparse.py``, dropout
in ``dropout.py``. The ops behind them (and their gradients) live in ``bibun/ops/``.
"""

from importlib import import_module as _import

_FAMILIES = ("activation", "conv", "dropout", "linear", "loss", "normalization", "padding", "pooling", "sparse")
# the modules by name, before `import *` rebinds names such as `linear` and `dropout` to functions
_modules = [_import(f"{__name__}.{family}") for family in _FAMILIES]

from .activation import *  # noqa: F403
from .conv import *  # noqa: F403
from .dropout import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .sparse import *  # noqa: F403

__all__ = [name for m in _modules for name in m.__all__]
del _import, _modules


def __getattr__(name):
    """Functions a plugin binds here (``register.op(..., functional=...)``) appear once plugins load."""
    if not name.startswith("_"):
        import importlib.util

        from ...plugins import manager
        # a submodule being imported (`from ..functional import rnn`) or plugins mid-load: nothing to add
        if importlib.util.find_spec(f"{__name__}.{name}") is None and not manager.is_loaded() \
                and not manager._state["loading"]:
            manager.ensure_loaded()
            if name in globals():
                return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
