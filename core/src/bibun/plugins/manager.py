"""Finds plugins through entry points, loads each in isolation, and fills the registry.

Loading is lazy: nothing here runs at ``import bibun``; the first op, factory or listing
that needs a backend calls :func:`ensure_loaded`. Entry points are scanned once.

Entry-point groups:
  ``bibun.backends``  backends (``numpy = "bibun_numpy"``); always loaded, they are needed to run.
  ``bibun.plugins``   op/kernel plugins; skipped when ``BIBUN_DISABLE_PLUGIN_AUTOLOAD=1``.
The core's own ops are registered by the internal plugin ``bibun.ops.builtin`` through the
same hooks, before any entry point.
"""

from __future__ import annotations

import os
import threading
import warnings

BACKEND_GROUP = "bibun.backends"
PLUGIN_GROUP = "bibun.plugins"
BUILTIN = "bibun.ops.builtin"
# Where an installation lacks entry-point metadata (e.g. a plain PYTHONPATH checkout),
# first-party backends are still found by module name.
FALLBACK_BACKENDS = {"numpy": "bibun_numpy"}

HOOKS = ("bibun_register_backends", "bibun_register_ops", "bibun_register_kernels", "bibun_register_losses",
         "bibun_register_optimizers")

_lock = threading.RLock()
_state = {"loaded": False, "loading": False}
_records = []  # PluginRecord, in load order
_entry_points_source = None  # tests may inject a callable returning EntryPoint-likes


class PluginRecord:
    """What one plugin is and what happened when it was loaded."""

    def __init__(self, name, group, dist=None, version=None, module=None):
        self.name, self.group, self.dist, self.version = name, group, dist, version
        self.module = module
        self.status = "pending"
        self.error = None
        self.registered = {"backends": [], "ops": [], "kernels": [], "losses": [], "optimizers": []}

    def as_dict(self):
        return {"name": self.name, "group": self.group, "distribution": self.dist, "version": self.version,
                "status": self.status, "error": self.error, "registered": self.registered}


def _autoload_disabled():
    return os.environ.get("BIBUN_DISABLE_PLUGIN_AUTOLOAD", "").strip().lower() in ("1", "true", "yes", "on")


def _entry_points(group):
    if _entry_points_source is not None:
        return list(_entry_points_source(group))
    from importlib.metadata import entry_points
    return list(entry_points(group=group))


def set_entry_points_source(source):
    """Replace entry-point discovery (tests): ``source(group) -> iterable of EntryPoint-likes``."""
    global _entry_points_source
    _entry_points_source = source


def records():
    ensure_loaded()
    return list(_records)


def ensure_loaded():
    """Load every plugin once. Cheap after the first call."""
    if _state["loaded"]:
        return
    with _lock:
        if _state["loaded"] or _state["loading"]:
            return
        _state["loading"] = True
        try:
            _load_all()
            _state["loaded"] = True
        finally:
            _state["loading"] = False


def reset_for_tests():
    """Forget every plugin and registration, so the next use loads again."""
    from ..dispatch import registry
    with _lock:
        _records.clear()
        registry.clear()
        _state["loaded"] = False


def _load_all():
    import importlib

    import pluggy

    from . import hookspecs

    pm = pluggy.PluginManager("bibun")
    pm.add_hookspecs(hookspecs)

    candidates = []  # (record, module-or-None, entry point or None)
    builtin = PluginRecord(BUILTIN, "builtin", "bibun", _own_version(), BUILTIN)
    candidates.append((builtin, importlib.import_module(BUILTIN), None))

    seen_backends = set()
    for ep in _safe_entry_points(BACKEND_GROUP):
        seen_backends.add(ep.name)
        candidates.append((_record_for(ep, BACKEND_GROUP), None, ep))
    for name, module in FALLBACK_BACKENDS.items():
        if name not in seen_backends:
            candidates.append((PluginRecord(name, BACKEND_GROUP, None, None, module), None, module))
    if not _autoload_disabled():
        for ep in _safe_entry_points(PLUGIN_GROUP):
            candidates.append((_record_for(ep, PLUGIN_GROUP), None, ep))

    loaded = []
    for record, module, source in candidates:
        _records.append(record)
        try:
            if module is None:
                module = importlib.import_module(source) if isinstance(source, str) else source.load()
            pm.register(module, name=record.name)
        except Exception as exc:  # isolate: one broken plugin must not stop the others
            if isinstance(source, str):  # fallback import of an absent first-party backend
                _records.remove(record)
                continue
            _fail(record, exc)
            continue
        record.module = getattr(module, "__name__", str(module))
        loaded.append((record, module))

    from ..dispatch import registry
    for hook_name in HOOKS:
        for record, module in loaded:
            if record.status == "failed":
                continue
            fn = getattr(module, hook_name, None)
            if fn is None:
                continue
            from .registrar import Register
            reg = Register(record.name)
            try:
                fn(register=reg)
                registry.commit(reg, record)
            except Exception as exc:
                _fail(record, exc)
    for record, _ in loaded:
        if record.status == "pending":
            record.status = "loaded"


def _safe_entry_points(group):
    try:
        return _entry_points(group)
    except Exception as exc:
        warnings.warn(f"bibun could not list entry points of group {group!r}: {exc}", RuntimeWarning, stacklevel=3)
        return []


def _record_for(ep, group):
    dist = getattr(ep, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    version = getattr(dist, "version", None) if dist is not None else None
    return PluginRecord(ep.name, group, name, version, getattr(ep, "value", None))


def _fail(record, exc):
    record.status = "failed"
    record.error = f"{type(exc).__name__}: {exc}"
    if os.environ.get("BIBUN_STRICT_PLUGINS", "").strip().lower() in ("1", "true", "yes", "on"):
        raise exc
    origin = record.dist or record.module or record.name
    version = f" {record.version}" if record.version else ""
    warnings.warn(f"bibun plugin {record.name!r} ({origin}{version}) failed to load and was skipped: "
                  f"{record.error}", RuntimeWarning, stacklevel=4)


def _own_version():
    from .. import __version__
    return __version__
