"""bibun's plugin system: pluggy hookspecs, the ``register`` facade, and the lazy loader.

A plugin author needs ``hookimpl`` (or plain module functions named like the hooks in
``bibun.plugins.hookspecs``); ``configure`` chooses plugins from Python, ``records`` lists
what was found and what happened to each. Importing this package imports no pluggy.
"""

from ..dispatch.registry import RegistrationError
from .manager import LoadingError, PluginError, PluginRecord, configure, ensure_loaded, records

__all__ = ["LoadingError", "PluginError", "PluginRecord", "RegistrationError", "configure", "ensure_loaded", "hookimpl",
           "hookspec", "records"]


def __getattr__(name):
    if name in ("hookimpl", "hookspec"):
        from . import hookspecs
        return getattr(hookspecs, name)
    raise AttributeError(f"module 'bibun.plugins' has no attribute '{name}'")
