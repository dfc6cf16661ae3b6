"""``bibun.cuda``: the GPU as ``torch.cuda`` presents it, answered by the backend serving device type ``cuda``.

Safe to call on any machine. Where no GPU backend can run (bibun-cupy or cupy not
installed, no device, a driver error), the questions answer as PyTorch's do without CUDA:
``is_available()`` is False, ``device_count()`` 0, ``memory_allocated()`` 0, seeding is
remembered for later; the calls that need a device (``synchronize``, ``current_device``,
``get_device_name``, ...) raise :class:`bibun.backend.BackendUnavailable` (a
``RuntimeError``) saying why and how to fix it. ``unavailable_reason()`` says it without raising.
"""

from __future__ import annotations

from .device import device as _device

__all__ = ["is_available", "unavailable_reason", "is_initialized", "device_count", "current_device", "set_device",
           "device", "synchronize", "manual_seed", "manual_seed_all", "seed", "seed_all", "initial_seed",
           "get_rng_state", "set_rng_state", "get_device_name", "get_device_capability", "memory_allocated",
           "memory_reserved", "empty_cache"]


def _backend():
    """The backend serving ``cuda`` (``BIBUN_BACKEND`` picks among several), or None."""
    from .dispatch import registry
    from .factories import _choose
    candidates = registry.backends_for_device_type("cuda")
    return _choose(candidates) if candidates else None


def unavailable_reason():
    """Why bibun cannot use a GPU here (and how to fix it), or None when it can."""
    backend = _backend()
    if backend is None:
        from .factories import _INSTALL_CUDA
        return f"no bibun backend serves device type 'cuda'; {_INSTALL_CUDA}"
    ok, why = backend.availability()
    return None if ok else f"bibun backend '{backend.name}' (cuda) is not available: {why}"


def is_available():
    """Whether tensors can be made on ``cuda`` here (never raises, never starts the backend)."""
    return unavailable_reason() is None


def is_initialized():
    """Whether the GPU backend has been started (by a cuda tensor or a call that needs the device)."""
    backend = _backend()
    return backend is not None and backend._impl is not None


def _started():
    """The started GPU backend; raises the reason it cannot start."""
    from .factories import backend_for
    return backend_for(_device("cuda"))


def _optional(backend, name, default):
    fn = getattr(backend.impl, name, None)
    return default if fn is None else fn


def _index(dev, optional=False):
    """A device index from an int, "cuda:1", ``device('cuda', 1)``; None (or "cuda") is the current device."""
    if dev is None:
        return None if optional else current_device()
    if isinstance(dev, int) and not isinstance(dev, bool):
        return dev
    d = _device(dev)
    if d.type != "cuda":
        raise ValueError(f"Expected a cuda device, but got: {d}")
    if d.index is None:
        return None if optional else current_device()
    return d.index


def device_count():
    """The number of GPUs bibun can use (0 where none can run)."""
    if not is_available():
        return 0
    return int(_optional(_started(), "device_count", lambda: 1)())


def current_device():
    """The index of the device new cuda tensors and ops use."""
    return int(_optional(_started(), "current_device", lambda: 0)())


def set_device(device):
    """Make ``device`` (an index, "cuda:1", a ``bibun.device``) the current one; a negative index does nothing."""
    index = _index(device)
    if index < 0:
        return
    fn = _optional(_started(), "set_device", None)
    if fn is not None:
        fn(index)


class device:  # noqa: N801 - PyTorch's name
    """``with bibun.cuda.device(1):`` — the current device inside the block (None or -1: unchanged)."""

    def __init__(self, device):
        self.idx = -1 if device is None else _index(device)
        self.prev_idx = -1

    def __enter__(self):
        if self.idx >= 0:
            self.prev_idx = current_device()
            if self.prev_idx != self.idx:
                set_device(self.idx)
        return self

    def __exit__(self, *exc):
        if self.idx >= 0 and self.prev_idx != self.idx:
            set_device(self.prev_idx)
        return False


def synchronize(device=None):
    """Wait until everything queued on ``device`` (the current one by default) has run: time GPU work with it."""
    backend = _started()
    backend.synchronize(_index(device, optional=True))


# ---------------------------------------------------------------------- random numbers
def manual_seed(seed):
    """Seed the GPU's default generator (every device shares it); remembered if the GPU is not started yet.

    The numbers are the cupy backend's own stream: deterministic per seed, not PyTorch's CUDA numbers.
    """
    from .factories import seed_device_type
    from .generator import check_seed
    seed_device_type("cuda", check_seed(int(seed)))


manual_seed_all = manual_seed


def seed():
    """Seed the GPU's default generator from a fresh nondeterministic value."""
    import random
    manual_seed(random.getrandbits(63))


seed_all = seed


def initial_seed():
    return _started().impl.default_generator.initial_seed


def get_rng_state(device="cuda"):
    """The GPU default generator's state, a uint8 cpu tensor."""
    import numpy as np

    from .factories import from_numpy
    _index(device, optional=True)
    return from_numpy(np.asarray(_started().impl.default_generator.get_state(), dtype=np.uint8))


def set_rng_state(new_state, device="cuda"):
    from . import dtypes as _dt
    from .tensor import Tensor
    _index(device, optional=True)
    if not isinstance(new_state, Tensor) or new_state.dtype is not _dt.uint8:
        raise TypeError("RNG state must be a bibun.ByteTensor")
    try:
        _started().impl.default_generator.set_state(new_state.numpy(force=True))
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None


# ---------------------------------------------------------------------- the device itself
def get_device_name(device=None):
    backend = _started()
    return _optional(backend, "device_name", lambda i: f"{backend.name} device {i}")(_index(device))


def get_device_capability(device=None):
    """``(major, minor)`` compute capability, e.g. ``(9, 0)`` for an H100."""
    backend = _started()
    return tuple(_optional(backend, "device_capability", lambda i: (0, 0))(_index(device)))


def memory_allocated(device=None):
    """Bytes held by live tensors on ``device`` (0 where no GPU runs)."""
    if not is_available():
        return 0
    backend = _started()
    return int(_optional(backend, "memory_allocated", lambda i: 0)(_index(device)))


def memory_reserved(device=None):
    """Bytes the GPU memory pool holds on ``device``, in use or cached (0 where no GPU runs)."""
    if not is_available():
        return 0
    backend = _started()
    return int(_optional(backend, "memory_reserved", lambda i: 0)(_index(device)))


def empty_cache():
    """Give cached, unused GPU memory back to the driver (nothing to do where the GPU is not started)."""
    if is_initialized():
        fn = _optional(_backend(), "empty_cache", None)
        if fn is not None:
            fn()
