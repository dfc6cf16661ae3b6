"""``python -m bibun`` (also the ``bibun`` command): what is registered, and the demo.

    bibun info              version, backends and plugins at a glance
    bibun backends          every backend: device type, availability, where it came from
    bibun ops [--backend B] every op: its graph node and which kernel runs it on each backend
    bibun plugins [--json]  every plugin: distribution, version, status, what it registered
    bibun demo              replay the two tutorials, then train on handwritten digits

The listings work even when plugins fail to load: failures are shown, not raised.
"""

from __future__ import annotations

import argparse
import json
import sys


def _registry():
    from .dispatch import registry
    from .plugins import manager
    manager.ensure_loaded()
    return registry, manager


def cmd_backends(args):
    registry, _ = _registry()
    rows = []
    for name, b in sorted(registry.backends().items()):
        ok, why = b.availability()
        rows.append({"name": name, "device_type": b.device_type, "available": ok, "reason": why,
                     "plugin": b.plugin, "description": b.description})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for r in rows:
        state = "available" if r["available"] else f"unavailable: {r['reason']}"
        print(f"{r['name']:12} {r['device_type']:6} {state:12}  from {r['plugin']}  {r['description']}")
    return 0


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
    if args.json:
        print(json.dumps(recs, indent=2))
        return 0
    for r in recs:
        dist = f"{r['distribution']} {r['version']}" if r["distribution"] else "(no distribution)"
        reg = r["registered"]
        what = ", ".join(f"{len(v)} {k}" for k, v in reg.items() if v) or "nothing"
        line = f"{r['name']:12} {r['group']:15} {dist:24} {r['status']:8} registered {what}"
        if r["error"]:
            line += f"\n{'':12} error: {r['error']}"
        print(line)
    return 0


def cmd_info(args):
    from . import __version__
    print(f"bibun {__version__} (python {sys.version.split()[0]})")
    print("\nbackends:")
    cmd_backends(argparse.Namespace(json=False))
    print("\nplugins:")
    cmd_plugins(argparse.Namespace(json=False))
    return 0


def cmd_demo(args):
    from .demo import main
    return main(args)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bibun", description="bibun: what is registered, and the demo")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("info", help="version, backends and plugins")
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
