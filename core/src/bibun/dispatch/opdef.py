"""``OpDef``: an op defined once — its inputs, type rule, autograd formula and generic kernel.

The derivative is written in bibun ops, so one formula serves every backend and
``create_graph=True`` differentiates it again. The generic kernel is written against
the backend's array namespace ``xp``; a backend may register a faster kernel of its own.

    mul = OpDef("mul", inputs=("self", "other"), type_rule="promote", save=("self", "other"))

    @mul.impl
    def _(xp, a, b):
        return xp.multiply(a, b)

    @mul.backward
    def _(ctx, grad):
        a, b = ctx.saved_tensors
        return grad * b, grad * a
"""

from __future__ import annotations

from types import MethodType

__all__ = ["OpDef", "TYPE_RULES"]

# How the dispatcher treats the dtypes of an op's tensor inputs before calling its kernel:
#   none           inputs passed as they are; the kernel decides the result dtype
#   promote        inputs cast to PyTorch's promoted dtype (add, mul, maximum, where, ...)
#   promote_float  like promote, then integral/bool results become the default float (div)
#   float          integral/bool inputs become the default float (exp, sin, sigmoid, ...)
#   compare        inputs cast to the promoted dtype; the kernel returns bool
TYPE_RULES = ("none", "promote", "promote_float", "float", "compare")


def _camel(name):
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


class OpDef:
    """One op: name, tensor inputs, how dtypes promote, what backward saves, and the formula."""

    def __init__(self, name, *, inputs=("self",), differentiable=None, node_name=None, type_rule="none",
                 save=(), save_if=None, outputs=1, nondiff_outputs=(), view=False, explain=None, doc=""):
        if type_rule not in TYPE_RULES:
            raise ValueError(f"op {name!r}: type_rule must be one of {TYPE_RULES}, got {type_rule!r}")
        self.name = name
        self.inputs = tuple(inputs)
        diff = tuple(range(len(self.inputs))) if differentiable is None else tuple(
            self.inputs.index(d) if isinstance(d, str) else d for d in differentiable)
        self.diff_inputs = diff
        self.variadic = bool(self.inputs) and self.inputs[0].startswith("*")
        self.node_name = node_name or _camel(name.rpartition("::")[2]) + "Backward0"  # "ns::op": OpBackward0
        self.type_rule = type_rule
        self.needs_float = type_rule in ("float", "promote_float")
        self.save = tuple(self._save_slot(s) for s in save)
        # save_if={"self": ("other",)}: keep `self` only when `other` needs a gradient (the formula
        # uses it for nothing else), so nothing is held, or version-checked, without need
        self.save_if = {self._save_slot(k): tuple(diff.index(self.inputs.index(n)) for n in v)
                        for k, v in (save_if or {}).items()}
        # the same as bitmasks over the differentiable inputs, one per saved slot (for the binary fast path)
        self.save_masks = tuple(sum(1 << j for j in self.save_if.get(slot, range(len(diff)))) for slot in self.save)
        self.outputs = outputs
        self.nondiff_outputs = frozenset(nondiff_outputs)
        self.view = view
        self.promote_args = None  # indices of the inputs that take part in promotion (None: all)
        self.explain = explain  # explain(op, args, attrs): raise PyTorch's error when a kernel fails
        self.doc = doc
        self.generic = None
        self.inplace_generic = None
        self.composite = None
        self.formula = None
        self.node_cls = None
        self.cache = {}  # backend name -> resolved kernel; cleared by the registry on change

    def _save_slot(self, s):
        if isinstance(s, int):
            return s
        if s == "result":
            return "result"
        if s.startswith("result") and s[6:].isdigit():
            return s
        if s in self.inputs:
            return self.inputs.index(s)
        raise ValueError(f"op {self.name!r}: cannot save {s!r}; inputs are {self.inputs}, or 'result'")

    # ------------------------------------------------------------------ definition decorators
    def impl(self, fn):
        """The generic kernel ``fn(xp, *arrays, **attrs)``, used by any backend without its own."""
        self.generic = fn
        self.cache.clear()
        return fn

    def impl_inplace(self, fn):
        """An optional in-place kernel ``fn(xp, out, *arrays, **attrs)`` writing into ``out``.

        Used for ``t.add_(u)`` and friends when no graph is recorded and the result keeps
        ``t``'s shape and dtype (an optimizer step), to skip a temporary and a copy.
        """
        self.inplace_generic = fn
        return fn

    def decompose(self, fn):
        """A fallback written in bibun ops, used where no kernel exists for a backend."""
        self.composite = fn
        self.cache.clear()
        return fn

    def backward(self, fn):
        """The autograd formula ``fn(ctx, *grads) -> grads for the differentiable inputs``."""
        self.formula = fn
        from ..autograd.node import make_node_class
        self.node_cls = make_node_class(self)
        return fn

    @property
    def differentiable(self):
        return self.formula is not None

    def __call__(self, *args, **attrs):
        return _dispatch(self, args, attrs)

    def __get__(self, obj, objtype=None):
        # bound as a Tensor method, ``t.exp()`` calls the op with ``t`` first
        return self if obj is None else MethodType(self, obj)

    def __repr__(self):
        return f"<bibun op {self.name}>"


# bound once, at the end: the dispatcher does not import this module, so there is no cycle
from .dispatcher import dispatch as _dispatch  # noqa: E402
