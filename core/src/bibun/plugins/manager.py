"""Finds plugins through entry points, loads each in isolation, and fills the registry.

Loading is lazy: nothing here runs at ``import bibun``; the first op, factory or listing
that needs a backend calls :func:`ensure_loaded`. Entry points are scanned once.

Entry-point groups:
  ``bibun.backends``  backends (``numpy = "bibun_numpy"``); always loaded, they are needed to run.
  ``bibun.plugins``   ops, kernels, losses, optimizers.
The core's own ops are registered by the internal plugin ``bibun.ops.builtin`` through the
same hooks, before any entry point.

Loading goes in three steps, so that nothing depends on the order plugins are found in:
1. import each plugin and register it on a pluggy ``PluginManager``, which validates its
   hook implementations (a misspelt hook or a parameter the hookspec lacks fails that plugin);
2. call each plugin's hooks, each with its own buffering ``register`` object (a raising hook
   fails that plugin);
3. check all buffers against each other (``conflicts.py``), then apply every plugin that
   passed, all of it or nothing.
A plugin that fails is skipped with one warning naming its distribution, version and the
error; ``BIBUN_STRICT_PLUGINS=1`` raises instead.

Choosing plugins (environment, or :func:`configure` before first use):
  ``BIBUN_DISABLE_PLUGIN_AUTOLOAD=1``  load no ``bibun.plugins`` entry point unless ``BIBUN_PLUGINS`` names it
  ``BIBUN_PLUGINS=a,b``                load only these ``bibun.plugins`` entry points
  ``BIBUN_DISABLED_PLUGINS=x,y``       never import these (any group but the built-in one)
Names match an entry-point name or a distribution name (``-``, ``_`` and ``.`` alike, any
case). Plugins left out are listed with status "blocked" and the reason, and never imported.
"""

from __future__ import annotations

import os
import re
import threading
import warnings

BACKEND_GROUP = "bibun.backends"
PLUGIN_GROUP = "bibun.plugins"
BUILTIN = "bibun.ops.builtin"
# Where an installation lacks entry-point metadata (e.g. a plain PYTHONPATH checkout),
# first-party backends are still found by module name.
FALLBACK_BACKENDS = {"numpy": "bibun_numpy"}
# distributions shipped with bibun: they outrank third-party plugins in a conflict
FIRST_PARTY = {"bibun", "bibun-numpy", "bibun-cupy", "bibun-strict"}

HOOKS = ("bibun_register_backends", "bibun_register_ops", "bibun_register_kernels", "bibun_register_losses",
         "bibun_register_optimizers")

ENV_AUTOLOAD = "BIBUN_DISABLE_PLUGIN_AUTOLOAD"
ENV_ALLOW = "BIBUN_PLUGINS"
ENV_BLOCK = "BIBUN_DISABLED_PLUGINS"
ENV_STRICT = "BIBUN_STRICT_PLUGINS"

_lock = threading.RLock()
_state = {"loaded": False, "loading": False}
_records = []  # PluginRecord, in load order
_entry_points_source = None  # tests may inject a callable returning EntryPoint-likes
_config = {}  # set by configure(): "allow", "block", "strict", "autoload"
_scanned = None  # group -> entry points of the installed distributions, read once
_KEEP = object()


class PluginError(RuntimeError):
    """A plugin failed to load in strict mode and the original error could not carry a note."""


class PluginRecord:
    """What one plugin is and what happened when it was loaded."""

    def __init__(self, name, group, dist=None, version=None, module=None):
        self.name, self.group, self.dist, self.version = name, group, dist, version
        self.module = module
        self.status = "pending"  # then "loaded", "failed" or "blocked"
        self.reason = None       # why it failed or was blocked
        self.exception = None    # the exception it failed with
        self.registered = {"backends": [], "ops": [], "kernels": {}, "overrides": {}, "losses": [],
                           "optimizers": [], "methods": [], "functions": []}

    @property
    def error(self):
        return self.reason if self.status == "failed" else None

    @property
    def label(self):
        """``plugin 'swish' (bibun-swish 0.1.0)``: how warnings and conflicts name it."""
        if self.group == "builtin":
            return f"{self.name} ({self.dist} {self.version})"
        origin = self.dist or self.module or "no distribution"
        version = f" {self.version}" if self.dist and self.version else ""
        return f"plugin '{self.name}' ({origin}{version})"

    def as_dict(self):
        return {"name": self.name, "group": self.group, "distribution": self.dist, "version": self.version,
                "module": self.module, "status": self.status, "reason": self.reason, "error": self.error,
                "registered": self.registered}

    def __repr__(self):
        return f"<PluginRecord {self.label} {self.status}>"


# ---------------------------------------------------------------------- configuration
def configure(*, allow=_KEEP, block=_KEEP, strict=_KEEP, autoload=_KEEP):
    """Choose plugins from Python instead of the environment; call before the first tensor.

    ``allow``: names of the only ``bibun.plugins`` entry points to load; ``block``: names
    never to load; ``strict``: raise when a plugin fails; ``autoload=False``: load no
    ``bibun.plugins`` entry point that ``allow`` does not name. Names are entry-point or
    distribution names (an iterable or a comma-separated string). ``None`` returns a
    setting to its environment variable.
    """
    with _lock:
        if _state["loaded"] or _state["loading"]:
            raise RuntimeError("bibun plugins are already loaded; call bibun.plugins.configure() before the first "
                               "tensor is made, or set BIBUN_PLUGINS / BIBUN_DISABLED_PLUGINS / "
                               "BIBUN_STRICT_PLUGINS in the environment")
        for key, value in (("allow", allow), ("block", block), ("strict", strict), ("autoload", autoload)):
            if value is _KEEP:
                continue
            if value is None:
                _config.pop(key, None)
            elif key in ("allow", "block"):
                _config[key] = _names(value)
            else:
                _config[key] = bool(value)


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _names(value):
    if isinstance(value, str):
        value = re.split(r"[,\s]+", value)
    return frozenset(_norm(v) for v in value if v and str(v).strip())


def _norm(name):
    return re.sub(r"[-_.]+", "-", str(name).strip()).lower()


def _setting(key):
    """(value, where it came from) for "allow", "block", "strict", "autoload"."""
    if key in _config:
        return _config[key], f"bibun.plugins.configure({key}=...)"
    if key == "allow":
        raw = os.environ.get(ENV_ALLOW, "").strip()
        return (_names(raw) if raw else None), ENV_ALLOW
    if key == "block":
        return _names(os.environ.get(ENV_BLOCK, "")), ENV_BLOCK
    if key == "strict":
        return _flag(ENV_STRICT), ENV_STRICT
    return not _flag(ENV_AUTOLOAD), ENV_AUTOLOAD


def is_strict():
    return _setting("strict")[0]


# ---------------------------------------------------------------------- discovery
def _entry_points(group):
    if _entry_points_source is not None:
        return list(_entry_points_source(group))
    if _scanned is None:
        _scan()
    return list(_scanned.get(group, ()))


def _scan():
    """Read the installed distributions' entry points once, for both groups (one pass over sys.path)."""
    global _scanned
    from importlib.metadata import entry_points
    everything = entry_points()
    _scanned = {group: list(everything.select(group=group)) for group in (BACKEND_GROUP, PLUGIN_GROUP)}


def set_entry_points_source(source):
    """Replace entry-point discovery (tests): ``source(group) -> iterable of EntryPoint-likes``.

    An entry point needs ``name``, ``value``, ``load()`` and optionally ``dist`` (with
    ``name`` and ``version``). ``None`` restores ``importlib.metadata``.
    """
    global _entry_points_source, _scanned
    _entry_points_source = source
    _scanned = None


def records():
    """Every plugin found, in load order: loaded, failed and blocked ones alike."""
    ensure_loaded()
    return list(_records)


class LoadingError(RuntimeError):
    """A plugin used bibun (made a tensor, ran an op) while bibun was still loading its plugins."""


def ensure_loaded():
    """Load every plugin once. Cheap after the first call."""
    if _state["loaded"]:
        return
    with _lock:
        if _state["loaded"]:
            return
        if _state["loading"]:  # only this thread can get here: the lock is held by the loader
            raise LoadingError("bibun is still loading its plugins: a plugin must not make tensors or run ops "
                               "while it is imported or while its hooks run (do it on first use instead)")
        _state["loading"] = True
        try:
            _load_all()
            _state["loaded"] = True
        except BaseException:
            # strict mode (or a bug): leave nothing half-loaded, so the next use tries again
            _clear()
            raise
        finally:
            _state["loading"] = False


def load_for_listing():
    """Load for ``python -m bibun plugins`` and friends: failures are recorded, never raised or warned.

    A listing is how one finds out what is broken, so it must work when everything is.
    """
    with _lock:
        if _state["loaded"]:
            return
        saved = _config.get("strict", _KEEP)
        _config["strict"] = False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                ensure_loaded()
        finally:
            if saved is _KEEP:
                _config.pop("strict", None)
            else:
                _config["strict"] = saved


def is_loaded():
    return _state["loaded"]


def reset_for_tests():
    """Forget every plugin and registration, so the next use loads again (the configuration stays)."""
    with _lock:
        _clear()
        _state["loaded"] = False


def _clear():
    global _scanned
    from ..dispatch import registry
    _scanned = None
    _records.clear()
    registry.clear()


# ---------------------------------------------------------------------- loading
def _load_all():
    candidates = _candidates()
    pm = _plugin_manager()
    loaded = []  # (record, plugin object)
    for record, source in candidates:
        _records.append(record)
        if record.status == "blocked":
            continue
        plugin = _import(record, source)
        if plugin is None:
            continue
        twin = next((r for r, p in loaded if p is plugin), None)
        if twin is not None:  # two entry points (say, of two distributions) name one module
            from ..dispatch.registry import RegistrationError
            _fail(record, RegistrationError(f"{record.module} is already loaded as {twin.label}; uninstall one "
                                            "of the two distributions"))
            continue
        if _validate(pm, record, plugin):
            loaded.append((record, plugin))

    from .registrar import Register
    batches = []
    for record, plugin in loaded:
        reg = Register(record.name)
        try:
            for hook_name in HOOKS:
                for impl in getattr(pm.hook, hook_name).get_hookimpls():
                    if impl.plugin is plugin:
                        impl.function(**{arg: reg for arg in impl.argnames})
        except (Exception, SystemExit) as exc:  # isolate: one broken plugin must not stop the others
            _fail(record, exc)
            continue
        batches.append((record, reg))

    from . import conflicts
    failures = conflicts.resolve(batches, _rank)
    for record, _reg in batches:
        if record in failures:
            _fail(record, conflicts.error_for(failures[record]))

    from ..dispatch import registry
    ok = [(record, reg) for record, reg in batches if record not in failures]
    for phase in ("main", "override"):
        for record, reg in ok:
            registry.apply(reg, record, phase)
    for record, _reg in ok:
        record.status = "loaded"
    _check_allow_list(candidates)


def _candidates():
    """(record, what to import) for every plugin, sorted; blocked ones already marked."""
    import importlib
    import importlib.util

    allow, allow_from = _setting("allow")
    block, block_from = _setting("block")
    autoload, autoload_from = _setting("autoload")

    builtin = PluginRecord(BUILTIN, "builtin", "bibun", _own_version(), BUILTIN)
    found = [(builtin, lambda: importlib.import_module(BUILTIN))]
    seen_backends = set()
    for group in (BACKEND_GROUP, PLUGIN_GROUP):
        entries = []
        for ep in _safe_entry_points(group):
            if group == BACKEND_GROUP:
                seen_backends.add(ep.name)
            entries.append((_record_for(ep, group), ep.load))
        if group == BACKEND_GROUP:
            for name, module in FALLBACK_BACKENDS.items():
                if name not in seen_backends and importlib.util.find_spec(module) is not None:
                    entries.append((PluginRecord(name, BACKEND_GROUP, None, None, module),
                                    lambda m=module: importlib.import_module(m)))
        entries.sort(key=lambda e: (e[0].name, e[0].dist or "", e[0].module or ""))
        found.extend(entries)

    for record, _load in found:
        if record.group == "builtin":
            continue
        keys = {_norm(record.name)} | ({_norm(record.dist)} if record.dist else set())
        if keys & block:
            _block(record, f"blocked by {block_from}")
        elif record.group == PLUGIN_GROUP and allow is not None and not keys & allow:
            _block(record, f"not in {allow_from}")
        elif record.group == PLUGIN_GROUP and not autoload and not (allow and keys & allow):
            _block(record, f"autoloading is off ({autoload_from}=1); name it in {ENV_ALLOW} to load it")
    return found


def _block(record, reason):
    record.status = "blocked"
    record.reason = reason


def _check_allow_list(candidates):
    allow, allow_from = _setting("allow")
    if not allow:
        return
    known = set()
    for record, _ in candidates:
        if record.group == PLUGIN_GROUP:
            known |= {_norm(record.name)} | ({_norm(record.dist)} if record.dist else set())
    missing = sorted(allow - known)
    if missing:
        msg = (f"{allow_from} names {', '.join(missing)}, but no installed bibun plugin has that entry-point or "
               "distribution name (see `python -m bibun plugins`)")
        if is_strict():
            raise PluginError(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=5)


def _plugin_manager():
    import inspect
    import types

    import pluggy

    from . import hookspecs

    class PluginManager(pluggy.PluginManager):
        """Takes ``@hookimpl`` functions and also plain functions named ``bibun_*`` (as modules write them)."""

        def parse_hookimpl_opts(self, plugin, name):
            opts = super().parse_hookimpl_opts(plugin, name)
            if opts is None and name.startswith("bibun_"):
                value = inspect.getattr_static(plugin, name, None)
                if isinstance(value, (types.FunctionType, types.BuiltinFunctionType, staticmethod)):
                    return {}
            return opts

    pm = PluginManager("bibun")
    pm.add_hookspecs(hookspecs)
    return pm


def _import(record, load):
    try:
        plugin = load()
    except (Exception, SystemExit) as exc:
        _fail(record, exc)
        return None
    if record.module is None:
        record.module = getattr(plugin, "__name__", None)
    return plugin


def _validate(pm, record, plugin):
    """Register ``plugin`` with pluggy, which checks each hook's name and parameters; False if it failed."""
    import pluggy
    name = record.name if pm.get_plugin(record.name) is None else f"{record.name} ({record.dist})#{len(_records)}"
    try:
        pm.register(plugin, name=name)
        pm.check_pending()  # a bibun_* function that is no hook: "unknown hook ..."
        for caller in pm.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.hookwrapper or getattr(impl, "wrapper", False)):
                    raise pluggy.PluginValidationError(
                        plugin, f"hook wrapper {caller.name!r} in plugin {name!r}: bibun hooks take no wrappers")
    except (pluggy.PluginValidationError, ValueError) as exc:
        if pm.is_registered(plugin):
            pm.unregister(plugin)
        _fail(record, exc)
        return False
    return True


def _rank(record):
    if record.group == "builtin" or (record.dist and _norm(record.dist) in FIRST_PARTY) or (
            record.group == BACKEND_GROUP and not record.dist and record.module in FALLBACK_BACKENDS.values()):
        return 0
    return 1 if record.group == BACKEND_GROUP else 2


def _safe_entry_points(group):
    try:
        return _entry_points(group)
    except Exception as exc:
        warnings.warn(f"bibun could not list entry points of group {group!r}: {exc}", RuntimeWarning, stacklevel=5)
        return []


def _record_for(ep, group):
    dist = getattr(ep, "dist", None)
    name = version = None
    if dist is not None:
        try:  # one read of the metadata file (``dist.name`` and ``dist.version`` would read it twice)
            meta = dist.metadata
            name, version = meta["Name"], meta["Version"]
        except Exception:
            name, version = getattr(dist, "name", None), getattr(dist, "version", None)
    return PluginRecord(ep.name, group, name, version, getattr(ep, "value", None))


def _fail(record, exc):
    record.status = "failed"
    record.reason = f"{type(exc).__name__}: {exc}"
    record.exception = exc
    message = f"bibun {record.label} failed to load and was skipped: {record.reason}"
    if is_strict():
        note = f"raised while loading bibun {record.label} ({ENV_STRICT}=1)"
        if hasattr(exc, "add_note"):
            if note not in getattr(exc, "__notes__", ()):
                exc.add_note(note)
            raise exc
        raise PluginError(message) from exc
    warnings.warn(message, RuntimeWarning, stacklevel=5)


def _own_version():
    from .. import __version__
    return __version__
