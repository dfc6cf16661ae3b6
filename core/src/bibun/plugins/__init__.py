"""bibun's plugin system: pluggy hookspecs, the ``register`` facade, and the lazy loader."""

from .manager import ensure_loaded, records

__all__ = ["ensure_loaded", "records"]
