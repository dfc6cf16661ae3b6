"""The backward pass: iterative, ordered by node creation, transactional.

Every node is created after the nodes of its inputs, so visiting nodes in decreasing
creation number (a heap) is a topological order: a node runs only once all gradients
flowing into it have arrived. No recursion, so a 100,000-op chain is fine.

Leaf gradients (``.grad``), retained gradients and the freeing of saved tensors are
applied only after the whole pass has succeeded: a pass that raises part-way (freed
graph, bad custom gradient, NaN under anomaly mode, in-place version error) leaves every
``.grad`` and the graph as they were.
"""

from __future__ import annotations

import heapq
import warnings
from heapq import heappush

from ..tensor import Tensor
from . import node as _node
from .grad_mode import _grad_enabled
from .node import AccumulateGrad, _RetainGrad, accumulator, first_tensor

__all__ = ["run_backward"]


def _owner(array):
    base = getattr(array, "base", None)
    return id(array) if base is None else id(base)


def run_backward(roots, root_grads, *, retain_graph, create_graph, inputs=None, accumulate=True,
                 allow_unused=False, anomaly_nan=None):
    """Run backward from ``roots`` seeded with ``root_grads``.

    With ``accumulate=True`` (``Tensor.backward``) gradients go into leaves' ``.grad``
    (only those in ``inputs`` if given). With ``accumulate=False`` (``autograd.grad``)
    nothing is accumulated and the gradients of ``inputs`` are returned.
    """
    buffers = {}
    heap = []
    for i, (t, g) in enumerate(zip(roots, root_grads)):
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
        n = t.grad_fn if t.grad_fn is not None else accumulator(t)
        idx = t._output_nr if t.grad_fn is not None else 0
        buf = buffers.get(n)
        if buf is None:
            buf = buffers[n] = [None] * n._n_outputs
            heapq.heappush(heap, (-n._seq, n))
        buf[idx] = g if buf[idx] is None else buf[idx] + g

    # where the gradients of `inputs` are read off: (node, output index) -> input positions
    targets = None
    if inputs is not None:
        targets = {}
        for pos, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            key = (t.grad_fn, t._output_nr) if t.grad_fn is not None else (accumulator(t), 0)
            targets.setdefault(key, []).append(pos)
    needed = _needed_nodes(buffers, {k[0] for k in targets}) if targets is not None else None

    captured = [None] * len(inputs) if inputs is not None else None
    leaf_grads = {}        # AccumulateGrad -> gradient, applied on success
    retained = []          # (tensor weakref, gradient)
    processed = []
    if anomaly_nan is None:
        from .anomaly import is_anomaly_check_nan_enabled
        anomaly_nan = _node._anomaly[0] and is_anomaly_check_nan_enabled()
    check_nan = anomaly_nan
    token = _grad_enabled.set(bool(create_graph))
    try:
        # the loop runs once per node: bind the methods it calls to locals
        heappop = heapq.heappop
        pop_buffer, get_buffer, done = buffers.pop, buffers.get, processed.append
        while heap:
            fn = heappop(heap)[1]
            grads = pop_buffer(fn)
            if fn._pre_hooks:
                grads = _run_pre_hooks(fn, grads, retained)
            if targets is not None:
                for idx in range(len(grads)):
                    for pos in targets.get((fn, idx), ()):
                        captured[pos] = grads[idx]
            if fn.__class__ is AccumulateGrad:
                g = grads[0]
                var = fn.variable
                if var._hooks:
                    for hook in list(var._hooks):
                        new = hook(g)
                        if new is not None:
                            g = new
                if accumulate and (targets is None or (fn, 0) in targets):
                    leaf_grads[fn] = g
                continue
            if needed is not None and fn not in needed:
                continue
            outs = fn._apply(grads)
            nxt = fn._next
            if len(outs) != len(nxt):
                raise RuntimeError(
                    f"Function {fn.name()} returned an incorrect number of gradients (expected {len(nxt)}, "
                    f"got {len(outs)})")
            if fn._hooks:
                for hook in fn._hooks:
                    new = hook(outs, grads)
                    if new is not None:
                        outs = tuple(new)
            devices = fn._in_devices
            ref = grads[0] if grads[0] is not None else first_tensor(grads)  # on the device of fn's inputs
            ref_backend = ref._backend if devices is None and ref is not None else None
            i = -1
            for (target, idx), g, m in zip(nxt, outs, fn._meta):
                i += 1
                if g is None or target is None:
                    continue
                if g.__class__ is not Tensor or g._backend is not ref_backend or (
                        m is not None and (g._data.shape != m[0] or g._data.dtype != m[1])):
                    g = _validate(fn, i, g, ref)
                if check_nan:
                    _check_nan(fn, i, g)
                buf = get_buffer(target)
                if buf is None:
                    buf = buffers[target] = [None] * target._n_outputs
                    heappush(heap, (-target._seq, target))
                prev = buf[idx]
                buf[idx] = g if prev is None else prev + g
            done(fn)
    finally:
        _grad_enabled.reset(token)

    # -- the pass succeeded: publish gradients, then free what was saved
    if targets is not None and not allow_unused:
        for pos, g in enumerate(captured):
            if g is None:
                raise RuntimeError(
                    f"The differentiated Tensor at index {pos} appears to not have been used in the graph. "
                    "Set allow_unused=True if this is the desired behavior.")
    owners = {_owner(g._data) for g in root_grads}
    for ref, g in retained:
        t = ref()
        if t is not None:
            t._grad = _fresh(g, owners, create_graph)
    for acc, g in leaf_grads.items():
        _accumulate(acc.variable, g, owners, create_graph)
    if not retain_graph:
        for fn in processed:
            if fn._saved:
                fn._freed = True  # a node that saved something refuses a second backward
            fn._saved = None
    if captured is not None and not create_graph:
        captured = [None if g is None else _fresh(g, owners, False) for g in captured]
    return captured


def _needed_nodes(buffers, target_nodes):
    """Nodes from which some target node can be reached (the rest need not run)."""
    seen = set()
    order = []
    stack = list(buffers)
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        order.append(n)
        for nxt, _ in n._next:
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    order.sort(key=lambda n: n._seq)  # inputs before consumers
    needed = set()
    for n in order:
        if n in target_nodes or any(nx is not None and nx in needed for nx, _ in n._next):
            needed.add(n)
    return needed


def _run_pre_hooks(fn, grads, retained):
    """Tensor hooks in registration order; then retain_grad, so it keeps what the hooks made (PyTorch's order)."""
    grads = tuple(grads)
    hooks = list(fn._pre_hooks)
    for hook in hooks:
        if hook.__class__ is not _RetainGrad:
            new = hook(grads)
            if new is not None:
                grads = tuple(new)
    for hook in hooks:
        if hook.__class__ is _RetainGrad and grads[hook.index] is not None:
            retained.append((hook.ref, grads[hook.index]))
    return list(grads)


def _validate(fn, i, g, ref):
    """Check (and where PyTorch does, fix) gradient ``i`` that ``fn`` returned; ``ref``: a gradient fn received."""
    if not isinstance(g, Tensor):
        raise TypeError(f"Function {fn.name()} returned a gradient of type {type(g).__name__} at index {i}; "
                        "expected a Tensor or None")
    if fn._in_devices is not None:
        want_backend, want_device = fn._in_devices[i]
    elif ref is not None:
        want_backend, want_device = ref._backend, None
    else:
        want_backend = None
    if want_backend is not None and (g._backend is not want_backend or (
            want_backend.several_devices and want_device is not None and g.device != want_device)):
        raise RuntimeError(_wrong_device(fn, i, g, want_backend, want_device or ref.device))
    meta = fn._meta[i]
    if meta is None:
        return g
    shape, dtype = meta
    data = g._data
    if data.shape != shape:
        if not _expandable(shape, data.shape):
            raise RuntimeError(
                f"Function {fn.name()} returned an invalid gradient at index {i} - got {list(data.shape)} but "
                f"expected shape compatible with {list(shape)}")
        g = _sum_to_size()(g, shape)
    if g._data.dtype != dtype:
        g = g.to(g._backend.from_dtype[dtype])
    return g


def _wrong_device(fn, i, g, want_backend, want_device):
    got = g.device
    if got == want_device:  # two backends on one device (numpy and strict on the cpu): name them
        want = f"{want_device} (backend {want_backend.name})"
        got = f"{got} (backend {g._backend.name})"
    else:
        want = want_device
    return (f"Function {fn.name()} returned an invalid gradient at index {i} - expected device {want} but got "
            f"{got}")


def _sum_to_size():
    """``ops.reduction.sum_to_size``, imported on first use (the ops import the autograd package)."""
    global _SUM_TO_SIZE
    if _SUM_TO_SIZE is None:
        from ..ops.reduction import sum_to_size
        _SUM_TO_SIZE = sum_to_size
    return _SUM_TO_SIZE


_SUM_TO_SIZE = None


def _expandable(shape, to):
    if len(shape) > len(to):
        return False
    for a, b in zip(reversed(shape), reversed(to)):
        if a != b and a != 1:
            return False
    return True


def _check_nan(fn, i, g):
    xp = g._backend.xp
    if bool(xp.any(xp.isnan(g._data))):
        trace = fn._trace
        if trace:
            warnings.warn(f"Error detected in {fn.name()}. Traceback of forward call that caused the error:\n{trace}",
                          UserWarning, stacklevel=4)
        else:
            warnings.warn(f"Error detected in {fn.name()}. No forward pass information available. Enable detect "
                          "anomaly during forward pass for more information.", UserWarning, stacklevel=4)
        raise RuntimeError(f"Function '{fn.name()}' returned nan values in its {i}th output.")


def _fresh(g, owners, create_graph):
    """``g``, or a copy of it if another published gradient already shares its memory."""
    if create_graph:
        return g
    key = _owner(g._data)
    if key in owners:
        g = Tensor._make(g._backend.copy(g._data), g._backend)
        key = id(g._data)
    owners.add(key)
    if g.grad_fn is not None or g._requires_grad:
        g = g.detach()
    return g


def _accumulate(var, g, owners, create_graph):
    old = var._grad
    if old is None:
        var._grad = _fresh(g, owners, create_graph)
        return
    if create_graph or old._requires_grad:
        var._grad = old + g
        return
    if old._data.shape != g._data.shape or old._data.dtype != g._data.dtype:
        var._grad = old + g
        return
    old._data[...] += g._data
    old._version[0] += 1
