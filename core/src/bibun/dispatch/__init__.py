"""The dispatcher: op definitions (``OpDef``), the registry of ops/kernels/backends, and op calls."""

from .opdef import OpDef

__all__ = ["OpDef"]
