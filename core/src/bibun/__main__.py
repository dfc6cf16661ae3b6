"""``python -m bibun`` (also the ``bibun`` command): what is registered, and the demo.

    bibun info [--json]     version, backends and plugins at a glance
    bibun backends          every backend: device type, availability, where it came from
    bibun ops [--backend B] every op: its graph node and which kernel runs it on each backend
    bibun plugins [--json]  every plugin: group, distribution, version, status (loaded, failed: why,
                            blocked: why), what it registered (ops, kernels per backend, losses, ...)
    bibun demo              replay the two tutorials, then train on handwritten digits

The listings work even when every plugin fails to load: failures are shown, not raised or
warned (under BIBUN_STRICT_PLUGINS=1, ``plugins`` and ``info`` then exit with status 1).
"""

from __future__ import annotations

import argparse
import json
import sys


def _registry():
    from .dispatch import registry
    from .plugins import manager
    manager.load_for_listing()
    return registry, manager


def cmd_backends(args):
    registry, _ = _registry()
    rows = _backend_rows(registry)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no backend is registered (`python -m bibun plugins` shows why)")
    for r in rows:
        state = "available" if r["available"] else f"unavailable: {r['reason']}"
        print(f"{r['name']:12} {r['device_type']:6} {state:12}  from {r['plugin']}  {r['description']}")
    return 0


def _backend_rows(registry):
    rows = []
    for name, b in sorted(registry.backends().items()):
        ok, why = b.availability()
        rows.append({"name": name, "device_type": b.device_type, "available": ok, "reason": why,
                     "plugin": b.plugin, "description": b.description})
    return rows


def cmd_ops(args):
    registry, _ = _registry()
    backends = sorted(registry.backends())
    if args.backend:
        backends = [args.backend]
    rows = []
    for name, op in sorted(registry.ops().items()):
        rows.append({"op": name, "node": op.node_name if op.differentiable else None,
                     "plugin": registry.op_owner(name),
                     "kernels": {b: registry.kernel_source(op, b) for b in backends}})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    head = f"{'op':18} {'grad node':26} {'defined by':18} " + " ".join(f"{b:>14}" for b in backends)
    print(head)
    print("-" * len(head))
    for r in rows:
        kernels = " ".join(f"{(r['kernels'][b] or '-'):>14}" for b in backends)
        print(f"{r['op']:18} {(r['node'] or '(no gradient)'):26} {r['plugin']:18} {kernels}")
    print(f"\n{len(rows)} ops; kernel column: a plugin name = the backend's own kernel, 'generic' = the op's "
          "generic kernel run on that backend's array namespace")
    return 0


def cmd_plugins(args):
    _, manager = _registry()
    recs = [r.as_dict() for r in manager.records()]
    # exit status 1 when strict mode asked for every plugin to load and one did not
    failed = manager.is_strict() and any(r["status"] == "failed" for r in recs)
    if args.json:
        print(json.dumps(recs, indent=2))
        return int(failed)
    counts = {s: sum(r["status"] == s for r in recs) for s in ("loaded", "failed", "blocked")}
    print(f"{len(recs)} plugins: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for r in recs:
        dist = f"{r['distribution']} {r['version'] or ''}".strip() if r["distribution"] else "(no distribution)"
        status = r["status"] if not r["reason"] else f"{r['status']}: {r['reason']}"
        print(f"{r['name']:18} {r['group']:15} {dist:24} {status}")
        for what, names in _registered_lines(r["registered"]):
            print(f"{'':4}{what} ({len(names)}): {_shorten(names)}")
    return int(failed)


def _registered_lines(reg):
    for key in ("backends", "ops", "methods", "functions"):
        if reg[key]:
            yield {"methods": "Tensor methods", "functions": "nn.functional"}.get(key, key), reg[key]
    for key, title in (("kernels", "kernels on"), ("overrides", "overriding kernels on")):
        for backend, ops in sorted(reg[key].items()):
            yield f"{title} {backend}", ops
    for key in ("losses", "optimizers"):
        if reg[key]:
            yield key, reg[key]


def _shorten(names, keep=10):
    names = sorted(names)
    if len(names) <= keep:
        return ", ".join(names)
    return ", ".join(names[:keep]) + f", ... ({len(names) - keep} more; --json lists all)"


def cmd_info(args):
    from . import __version__
    if args.json:
        registry, manager = _registry()
        info = {"bibun": __version__, "python": sys.version.split()[0],
                "backends": _backend_rows(registry), "plugins": [r.as_dict() for r in manager.records()]}
        print(json.dumps(info, indent=2))
        return 0
    print(f"bibun {__version__} (python {sys.version.split()[0]})")
    print("\nbackends:")
    cmd_backends(argparse.Namespace(json=False))
    print("\nplugins:")
    return cmd_plugins(argparse.Namespace(json=False))


def cmd_demo(args):
    from .demo import main
    return main(args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bibun", description="bibun: what is registered, and the demo")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("info", help="version, backends and plugins")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_info)
    p = sub.add_parser("backends", help="registered backends")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_backends)
    p = sub.add_parser("ops", help="registered ops and where each kernel comes from")
    p.add_argument("--backend", help="show one backend only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_ops)
    p = sub.add_parser("plugins", help="plugins, their status and what they registered")
    p.add_argument("--json", action="store_true")
    p.set_defaults(fn=cmd_plugins)
    p = sub.add_parser("demo", help="replay the two tutorials, then train a CNN and an MLP on handwritten digits")
    from .demo import add_arguments
    add_arguments(p)
    p.set_defaults(fn=cmd_demo)
    args = parser.parse_args(argv)
    if not getattr(args, "fn", None):
        parser.print_help()
        return 0
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
