"""bibun's built-in ops, one module per family. Each op's definition, generic kernel and
gradient formula sit together: the gradient of ``matmul`` is in ``linalg.py``, of ``sum``
in ``reduction.py``, and so on. ``builtin.py`` registers them through the plugin hooks.

Every registered op, a plugin's included, is reachable here by name: ``bibun.ops.mul``,
and an op named ``"myplugin::swish"`` as ``bibun.ops.myplugin.swish``. The first such
lookup loads the plugins. A module of this package (``bibun.ops.linalg``) wins over an op
of the same name; plugin ops cannot take such names.
"""


class OpNamespace:
    """``bibun.ops.<namespace>``: the ops registered as ``"<namespace>::<name>"``."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _lookup(f"{self._namespace}::{name}", f"bibun.ops.{self._namespace.replace('::', '.')}")

    def __dir__(self):
        prefix = f"{self._namespace}::"
        return sorted({n[len(prefix):].partition("::")[0] for n in _ops() if n.startswith(prefix)})

    def __repr__(self):
        return f"<bibun ops namespace '{self._namespace}': {', '.join(dir(self))}>"


def _ops():
    from ..dispatch import registry
    return registry.ops()


def _lookup(name, where):
    from ..dispatch import registry
    op = registry.get_op(name)
    if op is not None:
        return op
    if any(n.startswith(f"{name}::") for n in _ops()):
        return OpNamespace(name)
    raise AttributeError(f"{where} has no attribute '{name.rpartition('::')[2]}': no op named '{name}' is "
                         "registered (`python -m bibun ops` lists them, `python -m bibun plugins` shows what "
                         "failed to load)")


_submodules = []


def _is_submodule(name):
    if not _submodules:  # the modules of this package, listed once
        import os
        found = set()
        for path in __path__:
            for entry in os.scandir(path):
                if entry.name.endswith(".py"):
                    found.add(entry.name[:-3])
                elif entry.is_dir() and os.path.exists(os.path.join(entry.path, "__init__.py")):
                    found.add(entry.name)
        _submodules.append(frozenset(found))
    return name in _submodules[0]


def __getattr__(name):
    # never load plugins for private names or while Python imports a submodule (`from bibun.ops import linalg`)
    if name.startswith("_"):
        raise AttributeError(f"module '{__name__}' has no attribute '{name}'")
    if _is_submodule(name):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    return _lookup(name, f"module '{__name__}'")


def __dir__():
    names = set(globals())
    for n in _ops():
        names.add(n.partition("::")[0])
    return sorted(names)
