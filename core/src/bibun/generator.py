"""``bibun.Generator``: a random stream of its own, and the default stream each device draws from.

The numbers come from generator objects the backend provides (see ``bibun.backend``):
a ``Generator`` holds one made for it, the default generator stands for the backend's
own (what ``manual_seed`` seeds). On the cpu both follow PyTorch's streams, so
``Generator().manual_seed(s)`` draws what ``torch.Generator().manual_seed(s)`` draws.
"""

from __future__ import annotations

from .device import device as _device

__all__ = ["Generator", "default_generator", "generator_state", "check_seed"]

DEFAULT_SEED = 67280421310721


def check_seed(seed):
    """``seed`` as PyTorch stores it: an int in [-2**63, 2**64) taken modulo 2**64."""
    if not hasattr(seed, "__index__"):
        raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
    seed = seed.__index__()
    if not -2**63 <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed & (2**64 - 1)  # -1 becomes 2**64 - 1


def _fresh_seed():
    import random
    return random.SystemRandom().getrandbits(64)


class Generator:
    """A random number generator with its own state: ``g = bibun.Generator().manual_seed(42)``,
    then ``bibun.rand(3, generator=g)``, ``t.uniform_(generator=g)``, ``randperm(n, generator=g)``."""

    def __init__(self, device="cpu"):
        self._device = _device("cpu" if device is None else device)
        self._rng = None  # made on first use, by the backend serving the device
        self._backend_name = None

    @property
    def device(self):
        return self._device

    def _state(self, backend=None):
        """The backend generator behind this one (``backend``: the one the draw runs on)."""
        if self._rng is None:
            if backend is None:
                from .factories import backend_for
                backend = backend_for(self._device)
            self._rng = backend.impl.new_generator()
            self._backend_name = backend.name
        elif backend is not None and backend.name != self._backend_name:
            raise RuntimeError(f"this generator belongs to backend '{self._backend_name}' and cannot draw for "
                               f"backend '{backend.name}'")
        return self._rng

    def manual_seed(self, seed):
        """Restart from ``seed``; returns the generator, so ``Generator().manual_seed(0)`` chains."""
        self._state().seed(check_seed(seed))
        return self

    def seed(self):
        """Restart from a fresh nondeterministic seed and return it."""
        s = _fresh_seed()
        self._state().seed(s)
        return s

    def initial_seed(self):
        return self._state().initial_seed

    def get_state(self):
        """The state as a uint8 tensor (``set_state`` takes it back)."""
        from .factories import from_numpy
        return from_numpy(self._state().get_state())

    def set_state(self, new_state):
        from . import dtypes as _dt
        from .tensor import Tensor
        if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8:
            raise TypeError("RNG state must be a bibun.ByteTensor")
        try:
            self._state().set_state(new_state.numpy(force=True))
        except ValueError as exc:
            raise RuntimeError(str(exc)) from None
        return self

    def __repr__(self):
        return f"<bibun.Generator object at {id(self):#x}>"


class _DefaultGenerator(Generator):
    """The stream a device draws from when no generator is given (the backend's own)."""

    def _state(self, backend=None):
        if backend is None:
            from .factories import backend_for
            backend = backend_for(self._device)
        return backend.impl.default_generator

    def __reduce__(self):
        return (_default_for, (str(self._device),))


_defaults = {}


def _default_for(device="cpu"):
    dev = _device(device)
    gen = _defaults.get(dev.type)
    if gen is None:
        gen = _defaults[dev.type] = _DefaultGenerator(dev.type)
    return gen


default_generator = _default_for("cpu")


def generator_state(backend, generator, name="rand"):
    """The backend generator a draw on ``backend`` uses: ``generator``'s own, or the backend's default."""
    if generator is None:
        return backend.impl.default_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{name}(): argument 'generator' must be bibun.Generator, not {type(generator).__name__}")
    if generator.device.type != backend.device_type:
        raise RuntimeError(f"Expected a '{backend.device_type}' device type for generator but found "
                           f"'{generator.device.type}'")
    return generator._state(backend)
