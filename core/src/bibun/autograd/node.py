"""Graph nodes (``grad_fn``): what an op saved for backward and where its gradients go.

A node holds its inputs' edges (``next_functions``), their shapes and dtypes (to reduce
broadcast gradients and catch wrong ones), and its saved values. Inputs are saved as
tensors (no cycle: an input never points to the node that consumes it); outputs are saved
as bare arrays plus their version counter, and are re-wrapped on use, so a node never
keeps its own output alive (PyTorch's SavedVariable does the same).
"""

from __future__ import annotations

import itertools
import re
import weakref

from ..backend import _NO_SCOPE
from ..size import Size
from ..tensor import Tensor
from .grad_mode import _grad_enabled

__all__ = ["Node", "OpNode", "AccumulateGrad", "make_node_class", "RemovableHandle"]

_seq = itertools.count(1)
_next_seq = _seq.__next__

_FREED = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call .backward() "
    "or autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time "
    "or if you need to access saved tensors after calling backward."
)

_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")
_anomaly = [False]  # set by bibun.autograd.detect_anomaly; read at node creation


class RemovableHandle:
    """Returned by ``register_hook``; ``.remove()`` unregisters the hook."""

    __slots__ = ("_hooks_ref", "_hook")

    def __init__(self, hooks, hook):
        self._hooks_ref = hooks
        self._hook = hook

    def remove(self):
        hooks = self._hooks_ref
        if hooks is not None and self._hook in hooks:
            hooks.remove(self._hook)
        self._hooks_ref = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


class Node:
    """Base of every graph node. ``type(node).__name__`` is PyTorch's name, e.g. ``MulBackward0``."""

    __slots__ = ("_next", "_seq", "_meta", "_saved", "__weakref__", "__dict__")

    # Rarely set per node: class-level defaults, so creating a node writes only the slots above.
    _freed = False
    _pre_hooks = None
    _hooks = None
    _trace = None
    _n_outputs = 1
    _out_meta = None
    # (backend, device) of each input, kept by custom Function nodes only: their inputs may be on another
    # device than their outputs (ToCopyBackward0). A built-in op's inputs share its gradient's device.
    _in_devices = None

    def name(self):
        return type(self).__name__

    @property
    def next_functions(self):
        return self._next

    @property
    def metadata(self):
        m = self.__dict__.get("_metadata")
        if m is None:
            m = self.__dict__["_metadata"] = {}
        return m

    def __repr__(self):
        return f"<{type(self).__name__} object at {hex(id(self))}>"

    # -- hooks on the node's outputs' gradients (tensor hooks of non-leaf tensors live here)
    def register_prehook(self, fn):
        """``fn(grad_outputs) -> new grad_outputs or None``, before the node runs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        self._pre_hooks.append(fn)
        return RemovableHandle(self._pre_hooks, fn)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs) -> new grad_inputs or None``, after the node runs."""
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    # -- what the engine calls
    @property
    def needs_input_grad(self):
        nxt = self._next
        if len(nxt) == 2:  # the common case, without a generator
            return (nxt[0][0] is not None, nxt[1][0] is not None)
        return tuple(e[0] is not None for e in nxt)

    def _release(self):
        if self._saved:
            self._freed = True
        self._saved = None

    def __call__(self, *grads):
        """Apply the node's backward to ``grads`` by hand, as PyTorch allows.

        Returns one gradient per input (``None`` where no gradient is needed), or a bare
        tensor for a single-input node.
        """
        out = self._apply(grads)
        # an input that needs no gradient gets None, whatever the formula computed for it
        out = tuple(g if e[0] is not None else None for g, e in zip(out, self._next)) if len(out) == len(
            self._next) else out
        return out[0] if len(out) == 1 else out


def _raise_version(tensor, now, expected, producer, output_nr):
    legacy = tensor.dtype._legacy
    where = ""
    if producer is not None:
        short = _BACKWARD_SUFFIX.sub("", producer.name())
        where = f", which is output {output_nr} of {short},"
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[bibun.{legacy} {list(tensor.shape)}]{where} is at version {now}; expected version {expected} "
        f"instead. Hint: enable anomaly detection to find the operation that failed to compute its gradient, "
        f"with bibun.autograd.set_detect_anomaly(True, check_nan=False).")


_NO_EDGE = (None, 0)
_UNSAVED = (0, None, None)  # a saved slot the formula will not read (its gradient is not needed)
_new = object.__new__


def first_tensor(grads):
    """The first gradient that is not None, or None."""
    return next((g for g in grads if g is not None), None)


def _edge(a):
    if a._requires_grad:
        fn = a.grad_fn
        if fn is not None:
            return (fn, a._output_nr)
        return (accumulator(a), 0)
    return (None, 0)


class OpNode(Node):
    """A node of a registered op; the op's formula receives the node as ``ctx``."""

    __slots__ = ()
    _op = None
    _attrs = {}       # the op's keyword attributes, when it has any
    _backend = None   # set when the node saved an output or has several (to rebuild them)

    def __init__(self):
        raise TypeError("graph nodes are created by ops, not by hand")

    @classmethod
    def _create(cls, args, attrs, results):
        node = object.__new__(cls)
        op = cls._op
        diff = op.diff_inputs if not op.variadic else range(len(args))
        nxt = []
        meta = []
        for i in diff:
            a = args[i]
            if isinstance(a, Tensor):
                if a._requires_grad:
                    fn = a.grad_fn
                    nxt.append((fn, a._output_nr) if fn is not None else (accumulator(a), 0))
                else:
                    nxt.append(_NO_EDGE)
                d = a._data
                meta.append((d.shape, d.dtype))
            else:
                nxt.append(_NO_EDGE)
                meta.append(None)
        node._next = tuple(nxt)
        node._seq = _next_seq()  # after the edges: a leaf's AccumulateGrad must be older than its consumers
        node._meta = tuple(meta)
        if attrs:
            node._attrs = attrs
        node._backend = results[0]._backend
        saved = None
        if op.save:
            saved = []
            save_if = op.save_if
            for slot in op.save:
                if slot.__class__ is int:
                    a = args[slot]
                    cond = save_if.get(slot) if save_if else None
                    if cond is not None and all(nxt[j][0] is None for j in cond):
                        saved.append(_UNSAVED)
                        continue
                    saved.append((0, a, a._version[0] if isinstance(a, Tensor) else None))
                else:
                    k = 0 if slot == "result" else int(slot[6:])
                    r = results[k]
                    saved.append((1, r._data, r._version, r._version[0], k))
        node._saved = saved
        if len(results) != 1:
            node._n_outputs = len(results)
            node._out_meta = tuple((r._data.shape, r._data.dtype) for r in results)
        if _anomaly[0]:
            node._trace = _capture_trace()
        return node

    @classmethod
    def _create_binary(cls, a, b, attrs, res):
        """``_create((a, b), attrs, (res,))`` for a tensor ``a`` and an op saving nothing or (self, other)."""
        save = cls._op.save
        if save and save != (0, 1):
            return cls._create((a, b), attrs, (res,))
        node = _new(cls)
        ad = a._data
        if a._requires_grad:
            fn = a.grad_fn
            ea = (fn, a._output_nr) if fn is not None else (accumulator(a), 0)
        else:
            ea = _NO_EDGE
        if isinstance(b, Tensor):
            bd = b._data
            if b._requires_grad:
                fn = b.grad_fn
                eb = (fn, b._output_nr) if fn is not None else (accumulator(b), 0)
            else:
                eb = _NO_EDGE
            node._meta = ((ad.shape, ad.dtype), (bd.shape, bd.dtype))
            saved_b = (0, b, b._version[0])
        else:
            eb = _NO_EDGE
            node._meta = ((ad.shape, ad.dtype), None)
            saved_b = (0, b, None)
        node._next = (ea, eb)
        node._seq = _next_seq()
        if attrs:
            node._attrs = attrs
        if save:
            need = (ea[0] is not None) | ((eb[0] is not None) << 1)
            mask_a, mask_b = cls._op.save_masks
            node._saved = ((0, a, a._version[0]) if mask_a & need else _UNSAVED,
                           saved_b if mask_b & need else _UNSAVED)
        else:
            node._saved = None
        if _anomaly[0]:
            node._trace = _capture_trace()
        return node

    def __getattr__(self, name):
        # a formula reads its op's attributes as ctx.<name> (ctx.dim, ctx.keepdim, ...)
        try:
            return object.__getattribute__(self, "_attrs")[name]
        except (KeyError, AttributeError):
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None

    @property
    def saved_tensors(self):
        saved = self._saved
        if saved is None:
            if self._freed:
                raise RuntimeError(_FREED)
            return ()
        out = []
        for entry in saved:
            if entry[0] == 0:
                a = entry[1]
                version = entry[2]
                if version is not None and a._version[0] != version:
                    # PyTorch names the saved input's grad_fn as it is now (after the in-place op)
                    _raise_version(a, a._version[0], version, a.grad_fn, a._output_nr)
                out.append(a)
            else:
                _, data, vlist, version, k = entry
                if vlist[0] != version:
                    t = Tensor._make(data, self._backend)
                    t._version = vlist
                    _raise_version(t, vlist[0], version, self, k)
                t = Tensor._make(data, self._backend)
                if _graph_building():
                    t._requires_grad = True
                    t.grad_fn = self
                    t._output_nr = k
                out.append(t)
        return tuple(out)

    def input_shape(self, i=0):
        """Shape of the i-th differentiable input, as it was in forward."""
        return Size(self._meta[i][0])

    def _apply(self, grads):
        if self._saved is None and self._freed:
            raise RuntimeError(_FREED)
        if self._n_outputs > 1:
            grads = self._materialize(grads)
        out = self._op.formula(self, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        return out

    def _materialize(self, grads):
        """Zeros for the outputs that received no gradient, on the device of those that did."""
        backend = self._backend
        present = first_tensor(grads)
        out = []
        with backend.scope_of(present._data) if present is not None else _NO_SCOPE:
            for i, g in enumerate(grads):
                if g is None:
                    shape, dtype = self._out_meta[i]
                    g = Tensor._make(backend.xp.zeros(shape, dtype=dtype), backend)
                out.append(g)
        return tuple(out)

    # -- in-place support: the dispatcher writes an op's result into an existing tensor
    def _snapshot_input(self, target):
        if not self._saved:
            return
        saved = self._saved = list(self._saved)
        for i, entry in enumerate(saved):
            if entry[0] == 0 and entry[1] is target:
                snap = Tensor._make(target._backend.copy(target._data), target._backend, target._requires_grad)
                snap.grad_fn = target.grad_fn
                snap._output_nr = target._output_nr
                snap._acc = target._acc
                saved[i] = (0, snap, snap._version[0])

    def _rebase_output(self, old, new):
        if not self._saved:
            return
        saved = self._saved = list(self._saved)
        for i, entry in enumerate(saved):
            if entry[0] == 1 and entry[2] is old._version:
                saved[i] = (1, entry[1], new._version, new._version[0], entry[4])


def _graph_building():
    return _grad_enabled.get()


def _capture_trace():
    import traceback
    return "".join(traceback.format_stack()[:-4])


def make_node_class(op):
    """A node class named as PyTorch names the op's node (``AddBackward0``)."""
    # staticmethod: keep OpDef's method binding (``t.exp()``) from applying to ``node._op``
    return type(op.node_name, (OpNode,), {"__slots__": (), "_op": staticmethod(op),
                                          "__module__": "bibun.autograd.nodes"})


class AccumulateGrad(Node):
    """The node of a leaf tensor: where its gradient is accumulated into ``.grad``."""

    __slots__ = ("variable",)

    def name(self):
        return "bibun::autograd::AccumulateGrad"

    def _apply(self, grads):
        return ()


def accumulator(leaf):
    """The leaf's AccumulateGrad node, shared by every graph that uses the leaf while it is alive."""
    ref = leaf._acc
    acc = ref() if ref is not None else None
    if acc is None:
        acc = object.__new__(AccumulateGrad)
        acc._seq = _next_seq()
        acc._next = ()
        acc._meta = ((leaf._data.shape, leaf._data.dtype),)
        acc._saved = None
        acc.variable = leaf
        leaf._acc = weakref.ref(acc)
    return acc


# ---------------------------------------------------------------------- tensor hooks
def register_tensor_hook(tensor, hook):
    if tensor.grad_fn is None:
        if tensor._hooks is None:
            tensor._hooks = []
        tensor._hooks.append(hook)
        return RemovableHandle(tensor._hooks, hook)
    node = tensor.grad_fn
    return node.register_prehook(_OutputHook(tensor._output_nr, hook))


class _OutputHook:
    """A tensor hook of a non-leaf tensor, run on output ``index`` of its node."""

    __slots__ = ("index", "hook")

    def __init__(self, index, hook):
        self.index = index
        self.hook = hook

    def __call__(self, grads):
        g = grads[self.index]
        if g is None:
            return None
        new = self.hook(g)
        if new is None:
            return None
        grads = list(grads)
        grads[self.index] = new
        return tuple(grads)


class _RetainGrad:
    """Stores the gradient of a non-leaf tensor that asked for ``retain_grad()``."""

    __slots__ = ("index", "ref")
    retain = True

    def __init__(self, tensor):
        self.index = tensor._output_nr
        self.ref = weakref.ref(tensor)

    def __call__(self, grads):
        return None


def add_retain_grad(tensor):
    tensor.grad_fn.register_prehook(_RetainGrad(tensor))
