"""What the core asks of the cupy backend: its namespace, conversions, devices and generators.

Made once, on the first use of a cuda tensor, after the availability probe said yes; this
is the first place cupy is imported.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ._namespace import make_namespace
from ._random import CounterRNG

_HERE = contextlib.nullcontext()


class CupyImpl:
    """Arrays are ``cupy.ndarray``; new ones go to the current CUDA device unless a scope says otherwise."""

    to_numpy_copies = True  # ``to_numpy`` returns a new host array, never a view of device memory

    def __init__(self):
        import cupy
        self._cp = cupy
        self.xp = make_namespace(cupy)
        self.array_type = cupy.ndarray
        self.dtypes = {name: np.dtype(name) for name in
                       ("float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")}
        self._count = int(cupy.cuda.runtime.getDeviceCount())
        self.default_generator = CounterRNG(cupy)  # the stream ``bibun.manual_seed`` seeds

    # ------------------------------------------------------------------ arrays
    def asarray(self, data, dtype=None):
        return self._cp.asarray(data, dtype=dtype)

    def to_numpy(self, array):
        return array.get()

    def from_numpy(self, array):
        if not array.flags.c_contiguous:  # one host-to-device copy of one block
            array = np.ascontiguousarray(array)
        return self._cp.asarray(array)

    def copy(self, array):
        device = array.device
        if device.id == self._cp.cuda.runtime.getDevice():
            return array.copy()
        with device:  # cupy copies to the current device: keep the copy where the array is
            return array.copy()

    def is_contiguous(self, array):
        return array.flags.c_contiguous

    def new_generator(self):
        """A generator of its own (``bibun.Generator(device='cuda')``)."""
        return CounterRNG(self._cp)

    # ------------------------------------------------------------------ devices
    def device_index(self, array):
        return array.device.id

    def device_count(self):
        return self._count

    def current_device(self):
        return int(self._cp.cuda.runtime.getDevice())

    def check_index(self, index):
        if not 0 <= index < self._count:
            last = f"cuda:0 to cuda:{self._count - 1}" if self._count > 1 else "cuda:0"
            raise RuntimeError(f"CUDA error: invalid device ordinal (cuda:{index} was asked for; this machine has "
                               f"{self._count} CUDA device{'s' if self._count > 1 else ''}: {last})")
        return index

    def device_scope(self, index):
        """A context in which new arrays go to device ``index`` (nothing to do when it is current)."""
        if index is None or index == self._cp.cuda.runtime.getDevice():
            return _HERE
        return self._cp.cuda.Device(self.check_index(index))

    def set_device(self, index):
        self._cp.cuda.Device(self.check_index(index)).use()

    def synchronize(self, index=None):
        """Wait for everything queued on device ``index`` (the current one by default) to finish."""
        device = self._cp.cuda.Device() if index is None else self._cp.cuda.Device(self.check_index(index))
        device.synchronize()

    def device_name(self, index):
        name = self._cp.cuda.runtime.getDeviceProperties(self.check_index(index))["name"]
        return name.decode() if isinstance(name, bytes) else str(name)

    def device_capability(self, index):
        props = self._cp.cuda.runtime.getDeviceProperties(self.check_index(index))
        return int(props["major"]), int(props["minor"])

    def memory_allocated(self, index):
        """Bytes held by live arrays on device ``index`` (cupy's memory pool)."""
        with self._cp.cuda.Device(self.check_index(index)):
            return int(self._cp.get_default_memory_pool().used_bytes())

    def memory_reserved(self, index):
        """Bytes the memory pool holds on device ``index``, in use or cached."""
        with self._cp.cuda.Device(self.check_index(index)):
            return int(self._cp.get_default_memory_pool().total_bytes())

    def empty_cache(self):
        """Give the pool's cached, unused blocks back to the driver."""
        self._cp.get_default_memory_pool().free_all_blocks()
