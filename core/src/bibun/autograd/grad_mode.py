"""Grad mode: whether ops record a graph. Kept in a ContextVar so threads and tasks don't share it."""

from __future__ import annotations

import functools
import inspect
from contextvars import ContextVar

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]

_grad_enabled: ContextVar[bool] = ContextVar("bibun_grad_enabled", default=True)
_inference: ContextVar[bool] = ContextVar("bibun_inference_mode", default=False)

# The dispatcher reads this on every op: bind the method once.
grad_enabled = _grad_enabled.get


def is_grad_enabled():
    return _grad_enabled.get()


def is_inference_mode_enabled():
    return _inference.get()


class _GradModeContext:
    """Base for the grad-mode context managers; each instance also works as a decorator."""

    _target = True

    def __new__(cls, orig_func=None):
        # ``@no_grad`` without parentheses decorates directly, as in PyTorch 2
        self = super().__new__(cls)
        if orig_func is not None and callable(orig_func) and cls in (no_grad, enable_grad):
            return self(orig_func)
        return self

    def __init__(self, orig_func=None):
        pass

    def __enter__(self):
        self._token = _grad_enabled.set(self._target)
        return self

    def __exit__(self, *exc):
        _grad_enabled.reset(self._token)
        return False

    def clone(self):
        return type(self)()

    def __call__(self, fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def gen_wrapper(*args, **kwargs):
                gen = fn(*args, **kwargs)
                with self.clone():
                    value = next(gen)
                while True:
                    try:
                        with self.clone():
                            sent = yield value
                            value = gen.send(sent)
                    except StopIteration as stop:
                        return stop.value
            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):  # noqa: N801
    """Ops inside build no graph: results have ``requires_grad=False`` and no ``grad_fn``."""

    _target = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Turn graph recording back on inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Set grad mode to ``mode``; takes effect at once, and is undone on leaving a ``with`` block."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._target = bool(mode)
        self._token = _grad_enabled.set(self._target)

    def __enter__(self):
        return self

    def __call__(self, fn):
        # used as a decorator: undo the switch made at construction; apply it per call instead
        _grad_enabled.reset(self._token)
        return super().__call__(fn)

    def clone(self):
        return _SetGradMode(self._target)


class _SetGradMode(_GradModeContext):
    """What a ``set_grad_enabled`` decorator enters on each call."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        self._target = mode

    def clone(self):
        return _SetGradMode(self._target)


class inference_mode(_GradModeContext):  # noqa: N801
    """Like ``no_grad`` (bibun has no extra fast path for it), and reported by ``is_inference_mode_enabled``.

    ``inference_mode(False)`` turns grad mode back on, as PyTorch's does.
    """

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        if not isinstance(mode, bool) and callable(mode):  # @inference_mode without parentheses
            self.__init__(True)
            return self(mode)
        return self

    def __init__(self, mode=True):
        if not isinstance(mode, bool) and callable(mode):
            return
        self.mode = bool(mode)

    def __enter__(self):
        self._token = _grad_enabled.set(not self.mode)
        self._itoken = _inference.set(self.mode)
        return self

    def __exit__(self, *exc):
        _inference.reset(self._itoken)
        _grad_enabled.reset(self._token)
        return False

    def clone(self):
        return inference_mode(self.mode)
