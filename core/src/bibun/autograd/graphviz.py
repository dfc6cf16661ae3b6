"""The autograd graph of a result as Graphviz DOT text: what backward will walk.

``make_dot(loss, params=dict(model.named_parameters()))`` returns DOT source with one box per
graph node (``AddmmBackward0``), leaves labelled by parameter name and shape, and edges in
the direction gradients flow from. ``render(dot, "graph.svg")`` runs Graphviz's ``dot``
program when it is installed; bibun needs no Python package for this.
"""

from __future__ import annotations

import shutil
import subprocess

__all__ = ["make_dot", "render"]


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(t):
    return "(" + ", ".join(str(s) for s in t.shape) + ")"


def make_dot(root, params=None, title=None):
    """DOT source for the graph that produced ``root`` (a tensor or a tuple of tensors)."""
    roots = root if isinstance(root, (tuple, list)) else (root,)
    names = {id(p): name for name, p in (params or {}).items()}
    lines = ["digraph autograd {", '  graph [rankdir=BT, fontname="Helvetica"];',
             '  node [shape=box, style="rounded,filled", fillcolor="#eeeeee", fontname="Helvetica", fontsize=11];']
    if title:
        lines.append(f"  labelloc=t; label={_quote(title)};")
    ids = {}

    def node_id(obj):
        if id(obj) not in ids:
            ids[id(obj)] = f"n{len(ids)}"
        return ids[id(obj)]

    seen = set()
    stack = []
    for r in roots:
        rid = node_id(r)
        lines.append(f"  {rid} [label={_quote('output ' + _shape(r))}, fillcolor=\"#a6d8a8\"];")
        if r.grad_fn is not None:
            stack.append(r.grad_fn)
            lines.append(f"  {node_id(r.grad_fn)} -> {rid};")
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        fid = node_id(fn)
        variable = getattr(fn, "variable", None)
        if variable is not None:  # AccumulateGrad: a leaf the gradient lands in
            name = names.get(id(variable), "")
            label = (name + "\n" if name else "") + _shape(variable)
            lines.append(f"  {fid} [label={_quote(label)}, fillcolor=\"#a7c7e7\"];")
            continue
        lines.append(f"  {fid} [label={_quote(fn.name())}];")
        for nxt, _ in fn.next_functions:
            if nxt is None:
                continue
            lines.append(f"  {node_id(nxt)} -> {fid};")
            stack.append(nxt)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source, path, fmt=None):
    """Write ``dot_source`` rendered by Graphviz to ``path`` (format from its suffix, e.g. ``.svg``).

    Returns True when rendered, False when the ``dot`` program is not installed (nothing written).
    """
    exe = shutil.which("dot")
    if exe is None:
        return False
    fmt = fmt or str(path).rsplit(".", 1)[-1]
    subprocess.run([exe, f"-T{fmt}", "-o", str(path)], input=dot_source.encode(), check=True,
                   capture_output=True, timeout=60)
    return True
