"""The record the core keeps for each backend a plugin registers.

A backend plugin calls ``register.backend(name=..., device_type=..., load=...)`` from its
``bibun_register_backends`` hook. ``load`` is called once, on first use, and returns a
:class:`BackendImpl`-shaped object (array namespace, conversions, random generators).
Nothing of the backend's array library is imported before that, so a GPU backend
registers cleanly on a machine without a GPU.

Random numbers come from generator objects the backend makes: ``impl.default_generator``
(the stream ``bibun.manual_seed`` seeds and draws without ``generator=`` use) and
``impl.new_generator()`` (a fresh one for each ``bibun.Generator``, seeded with
67280421310721). A generator provides:

- ``seed(seed)``: restart from a seed (an int in [0, 2**64)); ``initial_seed``: that seed;
- ``get_state()`` / ``set_state(state)``: its whole state as a 1-D uint8 numpy array
  (opaque bytes, backend-specific; ``set_state`` raises ``ValueError`` on a wrong size);
- draws, each returning a new C-ordered backend array of ``shape`` and native ``dtype``:
  ``rand(shape, dtype)``, ``randn(shape, dtype)``, ``randint(shape, dtype, low, high)``,
  ``uniform(shape, dtype, low, high)``, ``normal(shape, dtype, mean, std, contiguous=True)``
  (``contiguous=False``: the target is strided, for backends whose algorithm differs then),
  ``random(shape, dtype, low=0, span=None)`` (``low + bits % span``, span up to 2**64;
  ``None``: ``random_()``'s default range for the dtype), ``bernoulli(shape, dtype, p)``
  (``p`` a python float or a backend array of ``shape``), ``exponential(shape, dtype, lambd)``,
  ``randperm(n, dtype)``.

The core checks arguments before calling these and writes the result into the target
tensor in its memory order, so a draw never sees a strided or invalid target.

Optional: ``impl.strides(array)`` (byte strides, for namespaces whose arrays do not expose
them; the strict backend reads them through DLPack), and an ``unsupported`` mapping on the
class registered as ``load`` (test node-id patterns to reasons: what this backend cannot run,
in one place; tests/conftest.py turns matches into skips carrying the reason).

Devices. A backend whose device type is not ``cpu`` provides ``device_index(array)`` (the
index ``tensor.device`` reports). It may also provide, and ``bibun.cuda`` and the
factories use when present: ``device_scope(index)`` (a context in which new arrays go to
device ``index``), ``device_count()``, ``current_device()``, ``set_device(index)``,
``synchronize(index=None)``, ``device_name(index)``, ``device_capability(index)``,
``memory_allocated(index)``, ``memory_reserved(index)``, ``empty_cache()``, and
``to_numpy_copies = True`` when ``to_numpy`` always returns a new host array (device
copies then skip a second host copy).

Availability. ``is_available`` (given at registration) is a probe returning ``True``, or
``(False, reason)`` where the reason says what is missing and how to fix it; a backend that
is unavailable stays registered and listed, and asking for its device raises
:class:`BackendUnavailable` with that reason.
"""

from __future__ import annotations

import contextlib

from . import dtypes as _dt
from .device import device as _device

__all__ = ["Backend", "BackendUnavailable"]

# What a loaded backend implementation must provide (checked at load, named in the error).
REQUIRED = ("xp", "array_type", "dtypes", "asarray", "to_numpy", "from_numpy", "copy", "default_generator",
            "new_generator", "is_contiguous")


_NO_SCOPE = contextlib.nullcontext()


class BackendUnavailable(RuntimeError):
    """The backend is registered but cannot run here (library missing, no device, ...)."""


class Backend:
    """One registered backend: its name, device type, plugin of origin, and (once loaded) its impl."""

    # True once loaded on a machine where this backend serves more than one device (two GPUs): only
    # then does the dispatcher compare device indices and run each kernel on its inputs' device
    several_devices = False

    def __init__(self, name, device_type, load, is_available=None, plugin=None, description=""):
        self.name = name
        self.device_type = device_type
        self._load = load
        self._is_available = is_available
        self.plugin = plugin
        self.description = description
        self._impl = None
        self._cpu_device = _device(device_type) if device_type == "cpu" else None

    def __repr__(self):
        return f"<bibun backend {self.name!r} ({self.device_type}) from {self.plugin}>"

    # ------------------------------------------------------------------ availability and loading
    def availability(self):
        """``(True, '')`` or ``(False, reason)``; never raises."""
        if self._is_available is None:
            return True, ""
        try:
            result = self._is_available()
        except Exception as exc:  # a probe must not take the process down
            return False, f"availability probe raised {type(exc).__name__}: {exc}"
        if isinstance(result, tuple):
            return bool(result[0]), str(result[1])
        return bool(result), "" if result else "the backend reports itself unavailable"

    @property
    def impl(self):
        impl = self._impl
        if impl is None:
            impl = self._load_impl()
        return impl

    def _load_impl(self):
        ok, why = self.availability()
        if not ok:
            raise BackendUnavailable(f"bibun backend '{self.name}' ({self.device_type}) is not available: {why}")
        try:
            impl = self._load()
        except BackendUnavailable:
            raise
        except Exception as exc:  # the probe passed but starting failed (a driver error, a broken library)
            raise BackendUnavailable(f"bibun backend '{self.name}' ({self.device_type}) from {self.plugin} failed to "
                                     f"start: {type(exc).__name__}: {exc}") from exc
        missing = [a for a in REQUIRED if not hasattr(impl, a)]
        if missing:
            raise TypeError(
                f"bibun backend '{self.name}' from {self.plugin} is missing {', '.join(missing)}; "
                "see docs/architecture.md for what a backend provides"
            )
        to_backend = {}
        from_backend = {}
        for d in _dt.ALL:
            native = impl.dtypes.get(d.numpy_name)
            if native is not None:
                to_backend[d] = native
                from_backend[native] = d
        self.to_dtype = to_backend
        self.from_dtype = from_backend
        # the dispatcher's fast path asks "is this array floating?" on every binary op
        self.float_natives = frozenset(n for d, n in to_backend.items() if d.category == _dt.FLOATING)
        self.bool_native = to_backend.get(_dt.bool_)
        self.xp = impl.xp
        self.array_type = impl.array_type
        count = getattr(impl, "device_count", None)
        self.several_devices = self._cpu_device is None and count is not None and count() > 1
        self._impl = impl
        return impl

    # ------------------------------------------------------------------ what the core asks of a backend
    def dtype_of(self, array):
        try:
            return self.from_dtype[array.dtype]
        except KeyError:
            raise TypeError(f"bibun has no dtype for {self.name} array dtype {array.dtype}") from None

    def native_dtype(self, dtype):
        try:
            return self.to_dtype[dtype]
        except KeyError:
            raise TypeError(f"bibun backend '{self.name}' does not support dtype {dtype}") from None

    def device_of(self, array):
        if self._cpu_device is not None:
            return self._cpu_device
        return _device(self.device_type, self.impl.device_index(array))

    def asarray(self, data, dtype):
        return self.impl.asarray(data, None if dtype is None else self.to_dtype[dtype])

    def to_numpy(self, array, force=False):
        return self.impl.to_numpy(array)

    def from_numpy(self, array):
        return self.impl.from_numpy(array)

    def copy(self, array):
        return self.impl.copy(array)

    def is_contiguous(self, array):
        return self.impl.is_contiguous(array)

    def astype(self, array, dtype):
        return self.xp.astype(array, self.to_dtype[dtype])

    @property
    def to_numpy_copies(self):
        return bool(getattr(self.impl, "to_numpy_copies", False))

    def device_scope(self, index):
        """A context in which the backend creates arrays on device ``index`` (None: where it would anyway)."""
        if index is None or self._cpu_device is not None:
            return _NO_SCOPE
        scope = getattr(self.impl, "device_scope", None)
        return _NO_SCOPE if scope is None else scope(index)

    def scope_of(self, array):
        """A context in which new arrays go to ``array``'s device; nothing to do unless the backend serves
        several devices (then the current device may be another one)."""
        if not self.several_devices:
            return _NO_SCOPE
        return self.device_scope(self.impl.device_index(array))

    def synchronize(self, index=None):
        """Wait for the work queued on the device (``index``: one device; None: the current one)."""
        sync = getattr(self.impl, "synchronize", None)
        if sync is not None:
            sync() if index is None else sync(index)
