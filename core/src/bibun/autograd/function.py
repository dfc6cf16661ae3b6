"""``bibun.autograd.Function``: user-defined ops with their own forward and backward.

``forward(ctx, *args)`` runs on tensors with grad mode off; ``backward(ctx, *grads)``
returns one gradient per forward argument (None for non-tensors or inputs that need
none). ``ctx`` is the graph node itself, as in PyTorch, so it shows up in
``grad_fn`` as ``<ClassNameBackward>``.
"""

from __future__ import annotations

import functools

from ..tensor import Tensor
from .grad_mode import _grad_enabled, no_grad
from .node import OpNode, _edge, _next_seq

__all__ = ["Function", "FunctionCtx", "once_differentiable"]


class FunctionCtx:
    """The ``ctx`` API (documentation and ``isinstance`` target; the node class implements it)."""

    def save_for_backward(self, *tensors):
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(f"save_for_backward can only save variables, but argument {i} is of type "
                                f"{type(t).__name__}")
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors):
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors):
        self._dirty = {id(t) for t in tensors}

    def set_materialize_grads(self, value):
        self._materialize_grads = bool(value)


class _FunctionNode(OpNode, FunctionCtx):
    """Base of the node classes made for each Function subclass (they have a ``__dict__`` for ctx.x = ...)."""

    _fn_cls = None

    @property
    def needs_input_grad(self):
        return self._needs

    @property
    def saved_variables(self):
        return self.saved_tensors

    def _apply(self, grads):
        from .node import _FREED
        if self._saved is None and self._freed:
            raise RuntimeError(_FREED)
        if getattr(self, "_materialize_grads", True):
            grads = self._materialize(tuple(grads))
        cls = self._fn_cls
        out = cls.backward(self, *grads)
        if not isinstance(out, tuple):
            out = (out,)
        n_args = len(self._arg_is_tensor)
        if len(out) != n_args:
            if len(out) > n_args and all(g is None for g in out[n_args:]):
                out = out[:n_args]
            else:
                raise RuntimeError(f"Function {self.name()} returned an incorrect number of gradients (expected "
                                   f"{n_args}, got {len(out)})")
        result = []
        for i, (g, is_tensor) in enumerate(zip(out, self._arg_is_tensor)):
            if g is not None and not isinstance(g, Tensor):
                raise RuntimeError(f"expected Variable or None (got {type(g).__name__})")
            if is_tensor:
                result.append(g)
            elif g is not None:
                raise RuntimeError(f"function {self.name()} returned a gradient different than None at position "
                                   f"{i + 1}, but the corresponding forward input was not a Variable")
        return tuple(result)


class _FunctionMeta(type):
    """Gives every Function subclass its own node class, named ``<Name>Backward``."""

    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        cls._backward_cls = type(f"{name}Backward", (_FunctionNode,), {"_fn_cls": cls,
                                                                         "__module__": cls.__module__})


class Function(metaclass=_FunctionMeta):
    """Subclass with static ``forward(ctx, ...)`` and ``backward(ctx, *grads)``; call ``Cls.apply(...)``."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("Legacy autograd function with non-static forward method is deprecated. Please use new-style "
                           "autograd function with static forward method: call YourFunction.apply(...)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        node = object.__new__(cls._backward_cls)
        node._to_save = ()
        node._non_diff = set()
        node._dirty = set()
        grad_on = _grad_enabled.get()
        node._needs = tuple(grad_on and isinstance(a, Tensor) and a._requires_grad for a in args)  # read in forward
        uses_setup = "setup_context" in cls.__dict__
        with no_grad():
            if uses_setup:
                outputs = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, outputs)
            else:
                outputs = cls.forward(node, *args, **kwargs)
        single = not isinstance(outputs, tuple)
        outs = (outputs,) if single else outputs
        tensor_args = [a for a in args if isinstance(a, Tensor)]
        record = any(node._needs)
        results = []
        for o in outs:
            if isinstance(o, Tensor) and any(o is a for a in args) and id(o) not in node._dirty:
                alias = Tensor._make(o._data, o._backend)  # an input returned as is: a new alias
                alias._version = o._version
                o = alias
            results.append(o)
        if not record:
            return results[0] if single else tuple(results)
        node._arg_is_tensor = tuple(isinstance(a, Tensor) for a in args)
        node._next = tuple(_edge(a) for a in tensor_args)
        node._seq = _next_seq()
        node._meta = [(a._data.shape, a._data.dtype) for a in tensor_args]
        node._in_devices = [(a._backend, a.device) for a in tensor_args]
        node._attrs = {}
        tensors_out = [r for r in results if isinstance(r, Tensor)]
        node._backend = tensors_out[0]._backend if tensors_out else tensor_args[0]._backend
        node._n_outputs = len(results)
        node._out_meta = tuple((r._data.shape, r._data.dtype) if isinstance(r, Tensor) else ((), None)
                               for r in results)
        from . import node as _node_mod
        if _node_mod._anomaly[0]:
            node._trace = _node_mod._capture_trace()
        for i, r in enumerate(results):
            if not isinstance(r, Tensor) or id(r) in node._non_diff or id(outs[i]) in node._non_diff:
                continue
            if not r.is_floating_point():
                continue
            if id(outs[i]) in node._dirty:
                if r._requires_grad and r.grad_fn is None and r._base is None:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
                from ..dispatch.dispatcher import check_inplace_allowed
                check_inplace_allowed(r, cls.__name__)
            r._requires_grad = True
            r.grad_fn = node
            r._output_nr = i
        saved = []
        for t in node._to_save:
            if t is None:
                saved.append((0, None, None))
                continue
            k = next((i for i, r in enumerate(outs) if r is t), None)
            if k is not None:
                r = results[k]
                saved.append((1, r._data, r._version, r._version[0], k))
            else:
                saved.append((0, t, t._version[0]))
        node._saved = saved
        node._to_save = ()
        return results[0] if single else tuple(results)


def once_differentiable(fn):
    """Run a custom backward with grad mode off: its result is not differentiable again."""
    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)
    return wrapper
