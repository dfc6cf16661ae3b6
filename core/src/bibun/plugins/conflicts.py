"""Checks every plugin's registrations against all the others' before any is applied.

The outcome never depends on the order plugins are found or loaded in:

- Each name (op, backend, loss, optimizer, Tensor method, ``nn.functional`` function, and
  each ``(op, backend)`` kernel) is claimed by the plugins that register it. Claims rank by
  origin: bibun's own (the built-in plugin and the first-party backends), then
  ``bibun.backends`` entry points, then ``bibun.plugins``. When one claimant outranks the
  rest it keeps the name and the others fail; when the best rank is shared, every claimant
  fails, each with a message naming all of them. Nobody wins silently.
- A plugin registers kernels freely for ops it defines or on backends it provides. Any
  other kernel replaces what the op's author chose (another plugin's kernel, or the op's
  generic kernel) and needs ``override=True``, which warns once; two plugins overriding
  one kernel is a conflict like any other. The rule looks at the plugin alone, so it
  holds the same whatever else is installed.
- A plugin that fails here registers nothing at all, and a failure never cascades into
  a plugin that had no conflict of its own.
"""

from __future__ import annotations

from collections import defaultdict

from ..dispatch import registry
from ..dispatch.registry import RegistrationError

# what to do about a conflict on each kind of name
_ADVICE = {
    "op": "rename it (plugin ops should use a 'plugin::name' prefix)",
    "backend": "rename it",
    "loss": "rename it (plugin names should carry a prefix, e.g. 'myplugin_focal')",
    "optimizer": "rename it (plugin names should carry a prefix, e.g. 'myplugin_lion')",
    "Tensor method": "ask for another method name",
    "nn.functional function": "ask for another function name",
    "kernel": "pass override=True to replace it",
    "kernel override": "only one plugin may override it",
}


def _claims(reg):
    """(kind, key, shown name) for everything ``reg`` would take."""
    for b in reg._backends:
        yield "backend", b.name, f"backend '{b.name}'"
    for op in reg._ops:
        yield "op", op.name, f"op '{op.name}'"
    for name, _op in reg._methods:
        yield "Tensor method", name, f"Tensor method '{name}'"
    for name, _op in reg._functions:
        yield "nn.functional function", name, f"bibun.nn.functional.{name}"
    for name, _f in reg._losses:
        yield "loss", name, f"loss '{name}'"
    for name, _f in reg._optimizers:
        yield "optimizer", name, f"optimizer '{name}'"
    for op_name, backend_name, _fn, override in reg._kernels:
        kind = "kernel override" if override else "kernel"
        yield kind, (op_name, backend_name), f"the kernel of op '{op_name}' on backend '{backend_name}'"


def _own_problems(record, reg, first_party):
    """What is wrong with one plugin on its own: names it takes twice, names bibun reserves,
    kernels it may not register without ``override=True``."""
    problems, seen = [], set()
    for kind, key, shown in _claims(reg):
        if (kind, key) in seen:
            problems.append(f"{shown} is registered twice by {record.label}")
        seen.add((kind, key))
    for op in () if first_party else reg._ops:
        why = registry.op_name_taken(op.name)
        if why:
            problems.append(f"op '{op.name}' cannot be registered: {why} (use a 'plugin::name' prefix)")
    for kind, entries in (("method", reg._methods), ("functional", reg._functions)):
        for name, op in entries:
            why = registry.binding_taken(kind, name)
            if why:
                problems.append(f"{why}; {record.label} cannot bind op '{op.name}' there")
    foreign = set()
    for op_name, backend_name, _fn, override in reg._kernels:
        why = registry.foreign_kernel(reg, op_name, backend_name, override, record.label)
        if why:
            problems.append(why)
            foreign.add((op_name, backend_name))
    return problems, foreign


def resolve(batches, rank):
    """``batches``: [(record, Register)] of plugins whose hooks ran. Returns {record: [messages]} of those to skip.

    ``rank(record)``: smaller outranks larger. Nothing is changed here.
    """
    failures = defaultdict(list)
    foreign = {}
    for record, reg in batches:
        problems, foreign[record] = _own_problems(record, reg, rank(record) == 0)
        failures[record].extend(problems)

    claimants = defaultdict(list)  # (kind, key) -> [(record, shown)]
    for record, reg in batches:
        for kind, key, shown in _claims(reg):
            if not any(r is record for r, _ in claimants[(kind, key)]):
                claimants[(kind, key)].append((record, shown))
    for (kind, key), owners in claimants.items():
        if len(owners) < 2:
            continue
        owners = sorted(owners, key=lambda o: (rank(o[0]), o[0].label))
        shown = owners[0][1]
        best = rank(owners[0][0])
        top = [r for r, _ in owners if rank(r) == best]
        if len(top) == 1:
            for r, _ in owners[1:]:
                if kind != "kernel" or key not in foreign[r]:  # already told to pass override=True
                    failures[r].append(f"{shown} is already provided by {top[0].label}: {_ADVICE[kind]}")
        else:
            names = " and ".join(r.label for r, _ in owners)
            for r, _ in owners:
                failures[r].append(f"{shown} is defined by both {names}, so neither is loaded: "
                                   f"{_ADVICE[kind]}, or block one with BIBUN_DISABLED_PLUGINS")
    return {r: msgs for r, msgs in failures.items() if msgs}


def error_for(messages):
    return RegistrationError("; ".join(messages))
