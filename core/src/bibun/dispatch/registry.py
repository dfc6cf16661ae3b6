"""The registry: every op, kernel and backend bibun knows, and which plugin brought each.

Filled only through plugin hooks (``bibun.plugins.manager``), the core's own ops included.
Kernel choice is a table lookup, never hook order: one kernel per ``(op, backend)``, a
second one is refused unless it asks to override (which warns once).
"""

from __future__ import annotations

import functools
import warnings

_ops = {}        # name -> OpDef
_op_owner = {}   # name -> plugin name
_kernels = {}    # (op name, backend name) -> (fn, plugin name)
_backends = {}   # backend name -> Backend
_catalogs = {"losses": {}, "optimizers": {}}  # kind -> lower-case name -> [factory, plugin name]
_SINGULAR = {"losses": "loss", "optimizers": "optimizer"}


class RegistrationError(ValueError):
    """A plugin tried to register something that conflicts with an existing registration."""


def clear():
    for op in _ops.values():
        op.cache.clear()
    _ops.clear()
    _op_owner.clear()
    _kernels.clear()
    _backends.clear()
    for table in _catalogs.values():
        table.clear()


def commit(reg, record):
    """Validate everything a plugin's hook registered, then apply it all (or nothing)."""
    for b in reg._backends:
        if b.name in _backends:
            raise RegistrationError(
                f"backend '{b.name}' is registered twice: by {_backends[b.name].plugin} and by {reg.plugin}")
    seen = set()
    for op in reg._ops:
        if op.name in _ops and _ops[op.name] is not op:
            raise RegistrationError(
                f"op '{op.name}' is defined by both {_op_owner[op.name]} and {reg.plugin}; "
                "rename one (plugin ops should use a 'plugin::name' prefix)")
        if op.name in seen:
            raise RegistrationError(f"op '{op.name}' is registered twice by {reg.plugin}")
        seen.add(op.name)
    for op_name, backend_name, _fn, override in reg._kernels:
        key = (op_name, backend_name)
        if key in _kernels and not override:
            raise RegistrationError(
                f"a kernel for op '{op_name}' on backend '{backend_name}' is already registered by "
                f"{_kernels[key][1]}; {reg.plugin} must pass override=True to replace it")
    pending = {"losses": reg._losses, "optimizers": reg._optimizers}
    for kind, entries in pending.items():
        table, seen = _catalogs[kind], set()
        for name, _factory in entries:
            if name in table or name in seen:
                owner = table[name][1] if name in table else reg.plugin
                raise RegistrationError(
                    f"{_SINGULAR[kind]} '{name}' is registered by both {owner} and {reg.plugin}; "
                    "rename one (plugin names should carry a prefix, e.g. 'myplugin_focal')")
            seen.add(name)
    # all valid: apply
    for b in reg._backends:
        _backends[b.name] = b
        record.registered["backends"].append(b.name)
    for op in reg._ops:
        _ops[op.name] = op
        _op_owner[op.name] = reg.plugin
        record.registered["ops"].append(op.name)
    for op_name, backend_name, fn, _override in reg._kernels:
        key = (op_name, backend_name)
        if key in _kernels:
            warnings.warn(
                f"Overriding a previously registered kernel for op '{op_name}' on backend '{backend_name}' "
                f"(was {_kernels[key][1]}, now {reg.plugin})", UserWarning, stacklevel=2)
        _kernels[key] = (fn, reg.plugin)
        record.registered["kernels"].append(f"{op_name}@{backend_name}")
    for kind, entries in pending.items():
        for name, factory in entries:
            _catalogs[kind][name] = [factory, reg.plugin]
            record.registered[kind].append(name)
    if reg._kernels or reg._ops:
        for op in _ops.values():
            op.cache.clear()


def ops():
    _load()
    return dict(_ops)


def op_owner(name):
    _load()
    return _op_owner.get(name)


def kernels():
    _load()
    return dict(_kernels)


def backends():
    _load()
    return dict(_backends)


def catalog(kind):
    """Registered losses or optimizers: ``{name: plugin}`` for ``kind`` in ("losses", "optimizers")."""
    _load()
    return {name: entry[1] for name, entry in sorted(_catalogs[kind].items())}


def catalog_factory(kind, name):
    """The class (or callable) registered as ``name``; a "module:attribute" string is imported now."""
    _load()
    table = _catalogs[kind]
    key = name.lower() if isinstance(name, str) else name
    if key not in table:
        known = ", ".join(sorted(table)) or "none"
        raise ValueError(f"no {_SINGULAR[kind]} named {name!r} is registered (registered: {known}); "
                         "install the plugin that provides it or check `python -m bibun plugins`")
    factory = table[key][0]
    if isinstance(factory, str):
        import importlib
        module, _, attr = factory.partition(":")
        obj = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        table[key][0] = factory = obj
    return factory


def get_backend(name):
    _load()
    try:
        return _backends[name]
    except KeyError:
        known = ", ".join(sorted(_backends)) or "none"
        raise RuntimeError(
            f"no bibun backend named '{name}' is registered (registered: {known}); install its package, "
            "e.g. pip install bibun-numpy") from None


def backends_for_device_type(device_type):
    _load()
    return [b for b in _backends.values() if b.device_type == device_type]


def _load():
    from ..plugins.manager import ensure_loaded
    ensure_loaded()


def resolve_kernel(op, backend):
    """The kernel for ``op`` on ``backend``: its own, else the generic one, else the decomposition."""
    _load()
    entry = _kernels.get((op.name, backend.name))
    if entry is not None:
        fn = entry[0]
        source = entry[1]
    elif op.generic is not None:
        _ = backend.impl  # load the backend (raises BackendUnavailable with the reason)
        fn = functools.partial(op.generic, backend.xp)
        source = "generic"
    elif op.composite is not None:
        fn = _CompositeMarker(op.composite)
        source = "composite"
    else:
        having = sorted(b for (o, b) in _kernels if o == op.name)
        raise NotImplementedError(
            f"op '{op.name}' has no kernel for backend '{backend.name}' and no generic kernel; "
            f"backends that implement it: {', '.join(having) or 'none'}")
    op.cache[backend.name] = fn
    return fn, source


def kernel_source(op, backend_name):
    """Where the kernel of ``op`` for ``backend_name`` comes from (for listings)."""
    entry = _kernels.get((op.name, backend_name))
    if entry is not None:
        return entry[1]
    if op.generic is not None:
        return "generic"
    if op.composite is not None:
        return "composite"
    return None


class _CompositeMarker:
    """Wraps a decomposition so the dispatcher knows to run it on tensors, not arrays."""

    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn
