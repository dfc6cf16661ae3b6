"""The registry: every op, kernel and backend bibun knows, and which plugin brought each.

Filled only through plugin hooks (``bibun.plugins.manager``), the core's own ops included.
Kernel choice is a table lookup, never hook order: one kernel per ``(op, backend)``, a
second one is refused unless it asks to override (which warns once). The loader checks
all plugins against each other first (``bibun.plugins.conflicts``) and then applies each
plugin's registrations here; :func:`commit` does both for one plugin added later.
"""

from __future__ import annotations

import functools
import warnings

_ops = {}        # name -> OpDef
_op_owner = {}   # name -> plugin name
_kernels = {}    # (op name, backend name) -> (fn, plugin name)
_backends = {}   # backend name -> Backend
_catalogs = {"losses": {}, "optimizers": {}}  # kind -> lower-case name -> [factory, plugin name]
_bound = []      # (object, attribute) set for plugins: Tensor methods, nn.functional entries
_labels = {}     # plugin name -> "plugin 'x' (dist 1.0)", for messages
_SINGULAR = {"losses": "loss", "optimizers": "optimizer"}


class RegistrationError(ValueError):
    """A plugin tried to register something that conflicts with an existing registration."""


def clear():
    for op in _ops.values():
        op.cache.clear()
    for obj, name in reversed(_bound):
        try:
            delattr(obj, name)
        except AttributeError:
            pass
    _bound.clear()
    _ops.clear()
    _op_owner.clear()
    _kernels.clear()
    _backends.clear()
    _labels.clear()
    for table in _catalogs.values():
        table.clear()


def label(plugin):
    """How messages name a plugin: with its distribution and version when known."""
    return _labels.get(plugin, plugin)


# ---------------------------------------------------------------------- names a plugin may not take
def binding_target(kind):
    """The object a plugin op is bound onto: ``Tensor`` for methods, ``bibun.nn.functional`` for functions."""
    if kind == "method":
        from ..tensor import Tensor
        return Tensor
    import importlib
    return importlib.import_module("bibun.nn.functional")


def binding_taken(kind, name):
    """Why ``name`` cannot be bound (``kind`` "method" or "functional"), or None when it is free."""
    target = binding_target(kind)
    # a module's own names only: never its __getattr__, which may want the plugins being loaded now
    if hasattr(target, name) if kind == "method" else name in vars(target):
        where = "Tensor already has an attribute" if kind == "method" else "bibun.nn.functional already has"
        return f"{where} '{name}'"
    return None


def op_name_taken(name):
    """Why a plain op name cannot be registered, or None: ``bibun.ops.<name>`` must reach the op."""
    if "::" in name:
        return None
    from .. import ops
    if ops._is_submodule(name):
        return f"'bibun.ops.{name}' is a module of bibun"
    return None


# ---------------------------------------------------------------------- adding one plugin's registrations
def check(reg):
    """Raise ``RegistrationError`` if ``reg`` conflicts with what is registered (changes nothing)."""
    for b in reg._backends:
        if b.name in _backends:
            raise RegistrationError(
                f"backend '{b.name}' is registered twice: by {label(_backends[b.name].plugin)} and by "
                f"{label(reg.plugin)}")
    seen = set()
    for op in reg._ops:
        if op.name in _ops and _ops[op.name] is not op:
            raise RegistrationError(
                f"op '{op.name}' is defined by both {label(_op_owner[op.name])} and {label(reg.plugin)}; "
                "rename one (plugin ops should use a 'plugin::name' prefix)")
        if op.name in seen:
            raise RegistrationError(f"op '{op.name}' is registered twice by {label(reg.plugin)}")
        seen.add(op.name)
    for op_name, backend_name, _fn, override in reg._kernels:
        key = (op_name, backend_name)
        if key in _kernels and not override:
            raise RegistrationError(
                f"a kernel for op '{op_name}' on backend '{backend_name}' is already registered by "
                f"{label(_kernels[key][1])}; {label(reg.plugin)} must pass override=True to replace it")
        why = foreign_kernel(reg, op_name, backend_name, override)
        if why:
            raise RegistrationError(why)
    pending = {"losses": reg._losses, "optimizers": reg._optimizers}
    for kind, entries in pending.items():
        table, seen = _catalogs[kind], set()
        for name, _factory in entries:
            if name in table or name in seen:
                owner = table[name][1] if name in table else reg.plugin
                raise RegistrationError(
                    f"{_SINGULAR[kind]} '{name}' is registered by both {label(owner)} and {label(reg.plugin)}; "
                    "rename one (plugin names should carry a prefix, e.g. 'myplugin_focal')")
            seen.add(name)
    for kind, entries in (("method", reg._methods), ("functional", reg._functions)):
        for name, op in entries:
            why = binding_taken(kind, name)
            if why:
                raise RegistrationError(f"{why}; {label(reg.plugin)} cannot bind op '{op.name}' there")


def foreign_kernel(reg, op_name, backend_name, override, who=None):
    """Why a kernel needs ``override=True``: its plugin defines neither the op nor the backend.

    Such a kernel replaces what the op's author chose for that backend (a kernel or the
    generic one), so it must ask; the rule depends only on the plugin itself, never on
    what else is installed.
    """
    if override or any(op.name == op_name for op in reg._ops) or any(b.name == backend_name for b in reg._backends):
        return None
    return (f"{who or label(reg.plugin)} registers a kernel for op '{op_name}' on backend '{backend_name}' but "
            "defines neither the op nor the backend: pass override=True to replace what runs there")


def commit(reg, record):
    """Validate everything a plugin registered against the registry, then apply it all (or nothing)."""
    check(reg)
    apply(reg, record)


def apply(reg, record, phase="all"):
    """Write a checked plugin's registrations into the tables and record them on ``record``.

    ``phase``: "main" (everything but kernels registered with ``override=True``), "override"
    (those kernels, applied after every plugin's "main", so they replace what they override
    whatever the load order), or "all".
    """
    _labels[reg.plugin] = getattr(record, "label", None) or reg.plugin
    done = record.registered
    if phase in ("all", "main"):
        for b in reg._backends:
            _backends[b.name] = b
            done["backends"].append(b.name)
        for op in reg._ops:
            _ops[op.name] = op
            _op_owner[op.name] = reg.plugin
            done["ops"].append(op.name)
        for kind, entries in (("method", reg._methods), ("functional", reg._functions)):
            target = binding_target(kind) if entries else None
            for name, op in entries:
                setattr(target, name, op)
                _bound.append((target, name))
                done["methods" if kind == "method" else "functions"].append(name)
        for kind, entries in (("losses", reg._losses), ("optimizers", reg._optimizers)):
            for name, factory in entries:
                _catalogs[kind][name] = [factory, reg.plugin]
                done[kind].append(name)
    for op_name, backend_name, fn, override in reg._kernels:
        if phase == "main" and override or phase == "override" and not override:
            continue
        key = (op_name, backend_name)
        replaced = _replaced(key)
        if override and replaced:
            warnings.warn(
                f"Overriding a previously registered kernel for op '{op_name}' on backend '{backend_name}' "
                f"(was {replaced}, now {label(reg.plugin)})", UserWarning, stacklevel=2)
            done["overrides"].setdefault(backend_name, []).append(op_name)
        _kernels[key] = (fn, reg.plugin)
        done["kernels"].setdefault(backend_name, []).append(op_name)
    if reg._kernels or reg._ops:
        for op in _ops.values():
            op.cache.clear()


def _replaced(key):
    """What a kernel for ``key`` replaces: a registered kernel, the op's generic kernel or decomposition."""
    if key in _kernels:
        return label(_kernels[key][1])
    op = _ops.get(key[0])
    if op is None:
        return None
    owner = label(_op_owner[key[0]])
    if op.generic is not None:
        return f"the generic kernel of {owner}"
    if op.composite is not None:
        return f"the decomposition of {owner}"
    return None


def ops():
    _load()
    return dict(_ops)


def get_op(name):
    """The op registered as ``name``, or None."""
    _load()
    return _ops.get(name)


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
