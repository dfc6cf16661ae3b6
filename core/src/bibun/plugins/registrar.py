"""The ``register`` object handed to every hook, scoped to one plugin.

Registrations are buffered; the loader checks the buffers of all plugins against each
other and commits each plugin's whole buffer or nothing, so a hook that raises half-way,
or a plugin that conflicts with another, leaves the registry exactly as it was.
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
        self._methods = []    # (Tensor method name, OpDef)
        self._functions = []  # (bibun.nn.functional name, OpDef)

    def backend(self, name, device_type, load, is_available=None, description=""):
        from ..backend import Backend
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"backend name must be an identifier, got {name!r}")
        self._backends.append(Backend(name, device_type, load, is_available, self.plugin, description))

    def op(self, opdef, *, method=None, functional=None):
        """Register ``opdef``; reachable as ``bibun.ops.<name>`` (``bibun.ops.<ns>.<name>`` for ``"ns::name"``).

        ``method="swish"`` also binds it as ``Tensor.swish`` and ``functional="swish"`` as
        ``bibun.nn.functional.swish`` (``True``: the op's name after any ``ns::``). The bound
        callable is the op itself: tensors are passed positionally and keyword arguments
        become the op's attributes (``x.swish(beta=2.0)`` calls the kernel with ``beta=2.0``).
        A name that Tensor or ``nn.functional`` already has is refused.
        """
        from ..dispatch.opdef import OpDef
        if not isinstance(opdef, OpDef):
            raise TypeError(f"register.op expects a bibun.dispatch.OpDef, got {type(opdef).__name__}")
        if not isinstance(opdef.name, str) or not opdef.name or opdef.name.startswith(":") or opdef.name.endswith(":"):
            raise ValueError(f"op name must be 'name' or 'namespace::name', got {opdef.name!r}")
        self._ops.append(opdef)
        for kind, table, name in (("method", self._methods, method), ("functional", self._functions, functional)):
            if name is None or name is False:
                continue
            if name is True:
                name = opdef.name.rpartition("::")[2]
            if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"op {opdef.name!r}: {kind} name must be a public identifier, got {name!r}")
            table.append((name, opdef))

    def kernel(self, op_name, backend_name, fn, override=False):
        """A kernel of ``op_name`` for one backend.

        A plugin registers kernels freely for ops it defines or on backends it provides;
        anything else replaces what another plugin chose (a built-in kernel, or an op's
        generic kernel) and needs ``override=True``, which warns once.
        """
        if not callable(fn):
            raise TypeError(f"kernel for {op_name!r} on {backend_name!r} is not callable")
        self._kernels.append((op_name, backend_name, fn, bool(override)))

    def loss(self, name, factory):
        self._losses.append((_catalog_name("loss", name), _factory("loss", name, factory)))

    def optimizer(self, name, factory):
        self._optimizers.append((_catalog_name("optimizer", name), _factory("optimizer", name, factory)))

    def is_empty(self):
        return not (self._backends or self._ops or self._kernels or self._losses or self._optimizers)


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
