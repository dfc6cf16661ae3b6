"""Writing through a view of a tensor that records a gradient (PyTorch's CopySlices).

``v = y[0]; v.mul_(2)`` changes ``y``. The op runs out of place on the view; a
``view_scatter`` node then makes the new ``y`` from the old one and the view's new value,
and ``v`` is derived again from the new ``y``, so gradients flow through both. Every view
remembers how it was made from its parent (``_view_src``), which is what ``replay`` repeats.
"""

from __future__ import annotations

from ..dispatch.opdef import OpDef

__all__ = ["view_path", "replay", "write_through_view"]


def view_path(view):
    """``(base, path)``: the view ops that make ``view`` from its base, in order."""
    path = []
    t = view
    while t._base is not None:
        src, op, attrs, index = t.__dict__["_view_src"]
        path.append((op, attrs, index))
        t = src
    return t, path[::-1]


def replay(t, path):
    """Apply the recorded view ops to ``t`` (a tensor), recording them in the graph."""
    for op, attrs, index in path:
        if op is None:
            continue
        t = op(t, **attrs)
        if index is not None:
            t = t[index]
    return t


def _replay_arrays(xp, array, path):
    for op, attrs, index in path:
        if op is None:
            continue
        array = op.generic(xp, array, **attrs)
        if index is not None:
            array = array[index]
    return array


view_scatter = OpDef("view_scatter", inputs=("self", "src"), type_rule="none", node_name="CopySlices")


@view_scatter.impl
def _(xp, base, src, path):
    out = xp.asarray(base, copy=True)
    _replay_arrays(xp, out, path)[...] = src
    return out


@view_scatter.backward
def _(ctx, grad):
    need_base, need_src = ctx.needs_input_grad
    g_base = view_scatter(grad, 0.0, path=ctx.path) if need_base else None
    g_src = replay(grad, ctx.path) if need_src else None
    return g_base, g_src


def write_through_view(view, out, opname):
    """Make ``out`` (the op applied to ``view`` out of place) the new value of ``view`` and of its base."""
    base, path = view_path(view)
    node = out.grad_fn
    node._snapshot_input(view)  # the node saved the view's old values: keep them
    new_base = view_scatter(base, out, path=path)
    try:
        base._data[...] = new_base._data  # the view shares this memory, so it changes too
    except ValueError as exc:
        raise RuntimeError(f"{opname}(): cannot write into this tensor: {exc}") from None
    base._version[0] += 1  # shared with every view of it
    node._rebase_output(out, view)
    base.grad_fn = new_base.grad_fn
    base._output_nr = 0
    base._requires_grad = True
    fresh = replay(base, path)
    view.grad_fn = fresh.grad_fn
    view._output_nr = fresh._output_nr
    view._requires_grad = True


OPS = [view_scatter]
