"""``nn.Parameter``: a leaf tensor that a Module registers as one of its parameters.

A Parameter is a Tensor subclass so that assigning one to a module attribute is all it
takes to register it; ops on it return plain tensors.
"""

from __future__ import annotations

from ..tensor import Tensor

__all__ = ["Parameter"]


class Parameter(Tensor):
    """A tensor that is a module parameter: a leaf that requires grad unless told otherwise."""

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            from ..factories import empty
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): data must be a Tensor, not {type(data).__name__}")
        if requires_grad and not (data.is_floating_point()):
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        p = cls._make(data._data, data._backend, bool(requires_grad))
        p._version = data._version  # shares memory with `data`, like detach()
        return p

    def __init__(self, data=None, requires_grad=True):
        pass  # everything happens in __new__ (Tensor.__init__ refuses direct construction)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(Tensor._make(self._backend.copy(self._data), self._backend), self._requires_grad)
        if self._grad is not None:
            p._grad = self._grad.__deepcopy__(memo)
        memo[id(self)] = p
        return p
