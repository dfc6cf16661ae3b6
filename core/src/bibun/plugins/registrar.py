"""The ``register`` object handed to every hook, scoped to one plugin.

Registrations are buffered and committed only when the plugin's hook returns, so a hook
that raises half-way leaves the registry exactly as it was.
"""

from __future__ import annotations

from .. import dtypes as _dtypes


class Register:
    """What a plugin may do: add backends, ops, kernels, losses and optimizers, all attributed to it."""

    def __init__(self, plugin_name):
        self.plugin = plugin_name
        self.dtypes = _dtypes.ALL  # bibun dtypes, for backends building their dtype tables
        self._backends = []
        self._ops = []
        self._kernels = []
        self._losses = []
        self._optimizers = []

    def backend(self, name, device_type, load, is_available=None, description=""):
        from ..backend import Backend
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"backend name must be an identifier, got {name!r}")
        self._backends.append(Backend(name, device_type, load, is_available, self.plugin, description))

    def op(self, opdef):
        from ..dispatch.opdef import OpDef
        if not isinstance(opdef, OpDef):
            raise TypeError(f"register.op expects a bibun.dispatch.OpDef, got {type(opdef).__name__}")
        self._ops.append(opdef)

    def kernel(self, op_name, backend_name, fn, override=False):
        if not callable(fn):
            raise TypeError(f"kernel for {op_name!r} on {backend_name!r} is not callable")
        self._kernels.append((op_name, backend_name, fn, bool(override)))

    def loss(self, name, factory):
        self._losses.append((_catalog_name("loss", name), _factory("loss", name, factory)))

    def optimizer(self, name, factory):
        self._optimizers.append((_catalog_name("optimizer", name), _factory("optimizer", name, factory)))


def _catalog_name(kind, name):
    """Losses and optimizers are looked up case-insensitively: ``"Adam"`` and ``"adam"`` are one name."""
    if not isinstance(name, str) or not name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"{kind} name must be a non-empty word, got {name!r}")
    return name.lower()


def _factory(kind, name, factory):
    if isinstance(factory, str):
        if ":" not in factory:
            raise ValueError(f"{kind} {name!r}: a string factory must be 'module:attribute', got {factory!r}")
        return factory
    if not callable(factory):
        raise TypeError(f"{kind} {name!r}: factory must be a class, a callable or a 'module:attribute' string")
    return factory
