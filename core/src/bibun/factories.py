"""Creating tensors: ``tensor`` ``zeros`` ``ones`` ``full`` ``empty`` ``arange`` ``linspace`` ``eye``
``rand`` ``randn`` ``randint`` ``*_like`` ``from_numpy`` ``manual_seed``, and where they are placed.

The target backend comes from the ``device`` argument, else the default device
(``bibun.set_default_device``, or ``BIBUN_DEVICE`` / ``BIBUN_BACKEND`` read on first use).
"""

from __future__ import annotations

import math
import os
import warnings

from . import dtypes as _dt
from .device import device as _device
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like",
           "rand_like", "randn_like", "randint_like", "manual_seed", "seed", "initial_seed",
           "set_default_device", "get_default_device"]

_default = {"device": None, "seed": 67280421310721}
_seeded_backends = set()


# ---------------------------------------------------------------------- devices -> backends
def _default_device():
    d = _default["device"]
    if d is None:
        d = _default["device"] = _device(os.environ.get("BIBUN_DEVICE", "").strip() or "cpu")
    return d


def set_default_device(device):
    """The device factory functions use when none is given (``None`` resets to cpu)."""
    _default["device"] = _device("cpu" if device is None else device)


def get_default_device():
    return _default_device()


def backend_for(device=None):
    """The backend serving ``device`` (a string, ``bibun.device`` or None for the default)."""
    from .dispatch import registry
    dev = _default_device() if device is None else _device(device)
    candidates = registry.backends_for_device_type(dev.type)
    if not candidates:
        known = sorted({b.device_type for b in registry.backends().values()})
        hint = " (the GPU backend ships as bibun-cupy: pip install 'bibun[cupy]')" if dev.type == "cuda" else ""
        raise RuntimeError(f"no bibun backend serves device type '{dev.type}'{hint}; available device types: "
                           f"{', '.join(known) or 'none'}")
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    chosen = None
    if wanted:
        chosen = next((b for b in candidates if b.name == wanted), None)
    if chosen is None:
        chosen = next((b for b in candidates if b.name == "numpy"), candidates[0])
    if chosen.name not in _seeded_backends:
        chosen.impl.seed(_default["seed"])
        _seeded_backends.add(chosen.name)
    return chosen


# ---------------------------------------------------------------------- tensor()
def _infer_python(data):
    """PyTorch's dtype and shape inference for nested python sequences (clear errors on bad data)."""
    kinds = set()
    shape = []

    def walk(x, depth):
        if isinstance(x, Tensor):
            if x.numel() != 1 or x.ndim:
                if x.ndim:
                    raise ValueError("only one element tensors can be converted to Python scalars")
            kinds.add(x.dtype.category)
            return
        if isinstance(x, (list, tuple)):
            if depth == len(shape):
                shape.append(len(x))
            elif shape[depth] != len(x):
                raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {len(x)})")
            for item in x:
                walk(item, depth + 1)
            return
        if depth < len(shape):
            raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {type(x).__name__})")
        if isinstance(x, bool):
            kinds.add(0)
        elif isinstance(x, int):
            kinds.add(1)
        elif isinstance(x, float):
            kinds.add(2)
        elif hasattr(x, "dtype") and getattr(x, "shape", None) == ():
            kinds.add({"b": 0, "i": 1, "u": 1, "f": 2}.get(x.dtype.kind, 3))
        else:
            raise TypeError(f"Could not infer dtype of {type(x).__name__}")

    walk(data, 0)
    if 3 in kinds:
        raise TypeError("Could not infer dtype of the given data (complex or object values are not supported)")
    top = max(kinds) if kinds else 2
    return {0: _dt.bool_, 1: _dt.int64, 2: _dt.get_default_dtype()}[top]


def _flatten_tensors(data):
    if isinstance(data, Tensor):
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(x) for x in data]
    return data


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (python numbers, nested sequences, numpy arrays, tensors).

    Python floats become the default float dtype (float32), ints int64, bools bool; a
    numpy array keeps its dtype.
    """
    import numpy as np
    if isinstance(data, Tensor):
        warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.clone().detach() or "
                      "sourceTensor.clone().detach().requires_grad_(True), rather than bibun.tensor(sourceTensor).",
                      UserWarning, stacklevel=2)
        host = data._backend.to_numpy(data._data)
        inferred = data.dtype
    elif isinstance(data, np.ndarray) or (hasattr(data, "dtype") and hasattr(data, "shape") and
                                           not isinstance(data, (list, tuple))):
        host = np.asarray(data)
        if host.dtype == object:
            raise TypeError("can't convert np.ndarray of type numpy.object_. The only supported types are: float64, "
                            "float32, float16, int64, int32, int16, int8, uint8, and bool.")
        inferred = _dt.from_numpy_name(host.dtype.name)
    else:
        if data is None or isinstance(data, (str, bytes, dict, set)):
            raise TypeError(f"Could not infer dtype of {type(data).__name__}")
        inferred = _infer_python(data)
        host = np.asarray(_flatten_tensors(data), dtype=inferred.numpy_name)
    target = inferred if dtype is None else dtype
    backend = backend_for(device)
    if host.dtype.name != target.numpy_name:
        host = host.astype(target.numpy_name)
    arr = backend.from_numpy(np.array(host, copy=True))
    t = Tensor._make(arr, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor) and (dtype is None or data.dtype is dtype) and (device is None or data.device == device):
        return data
    import numpy as np
    if isinstance(data, np.ndarray) and (dtype is None or dtype.numpy_name == data.dtype.name) and device is None:
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A cpu tensor sharing memory with ``ndarray`` (writes through both ways)."""
    import numpy as np
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dt.from_numpy_name(ndarray.dtype.name)
    backend = backend_for("cpu")
    return Tensor._make(backend.from_numpy(ndarray), backend)


def scalar_tensor_like(value, like):
    backend = like._backend
    d = _dt.scalar_dtype(value)
    return Tensor._make(backend.asarray(value, d), backend)


# ---------------------------------------------------------------------- filled tensors
def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, int) or isinstance(s, bool):
            raise TypeError(f"size must be a sequence of ints, but got {type(s).__name__}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(s)
    return tuple(out)


def _finish(arr, backend, requires_grad):
    t = Tensor._make(arr, backend)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _filled(name, size, fill, dtype, device, requires_grad):
    size = _size(size)
    for s in size:
        if s < 0:
            raise RuntimeError(f"{name}: Dimension size must be non-negative.")
    backend = backend_for(device)
    d = dtype or _dt.get_default_dtype()
    xp = backend.impl.xp
    native = backend.native_dtype(d)
    try:
        if fill == 0:
            arr = xp.zeros(size, dtype=native)
        elif fill == 1:
            arr = xp.ones(size, dtype=native)
        else:
            arr = xp.full(size, fill, dtype=native)
    except MemoryError as exc:
        raise MemoryError(f"{name}: cannot allocate a tensor of size {list(size)} and dtype {d}: {exc}") from None
    return _finish(arr, backend, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    return _filled("zeros", size, 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    return _filled("ones", size, 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None, memory_format=None):
    return _filled("empty", size, 0, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    if dtype is None:
        dtype = fill_value.dtype if isinstance(fill_value, Tensor) else _dt.scalar_dtype(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled("full", (size,) if isinstance(size, int) else tuple(size), fill_value, dtype, device,
                   requires_grad)


def _like(input, dtype, device):  # noqa: A002
    return input.shape, dtype or input.dtype, device if device is not None else input.device


def zeros_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return zeros(s, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return ones(s, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return empty(s, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False, memory_format=None):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return full(s, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


# ---------------------------------------------------------------------- ranges
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, float) for v in vals) else _dt.int64
    backend = backend_for(device)
    n = max(0, math.ceil((end - start) / step))
    xp = backend.impl.xp
    if dtype.is_floating_point:
        arr = xp.astype(xp.arange(n, dtype=xp.float64) * step + start, backend.native_dtype(dtype))
    else:
        arr = xp.astype(xp.arange(n, dtype=xp.int64) * int(step) + int(start), backend.native_dtype(dtype))
    return _finish(arr, backend, requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    if not isinstance(steps, int) or steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    backend = backend_for(device)
    d = dtype or _dt.get_default_dtype()
    xp = backend.impl.xp
    if steps == 1:
        arr = xp.full((1,), start, dtype=xp.float64)
    else:
        # PyTorch fills the first half from start and the second half from end, symmetric in rounding
        step = (end - start) / max(steps - 1, 1)
        idx = xp.arange(steps, dtype=xp.float64)
        half = steps // 2
        arr = xp.where(idx < half, start + step * idx, end - step * (steps - 1 - idx))
    return _finish(xp.astype(arr, backend.native_dtype(d)), backend, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    backend = backend_for(device)
    xp = backend.impl.xp
    arr = xp.eye(n, n if m is None else m, dtype=backend.native_dtype(dtype or _dt.get_default_dtype()))
    return _finish(arr, backend, requires_grad)


# ---------------------------------------------------------------------- random
def manual_seed(seed):
    """Seed every backend's generator (cpu draws then match PyTorch's ``rand``/``randint`` streams)."""
    seed = int(seed)
    _default["seed"] = seed
    from .dispatch import registry
    for name in list(_seeded_backends):
        registry.get_backend(name).impl.seed(seed)
    return _Generator(seed)


def seed():
    import random
    s = random.getrandbits(63)
    manual_seed(s)
    return s


def initial_seed():
    return _default["seed"]


class _Generator:
    """What ``manual_seed`` returns (PyTorch returns its generator); ``initial_seed()`` only."""

    def __init__(self, s):
        self._seed = s

    def initial_seed(self):
        return self._seed


def _random(kind, size, dtype, device, requires_grad, **kw):
    size = _size(size)
    backend = backend_for(device)
    d = dtype or _dt.get_default_dtype()
    if kind != "randint" and not d.is_floating_point:
        raise RuntimeError(f"{kind} is only implemented for floating point types, got {d}")
    arr = getattr(backend.impl, kind)(size, backend.native_dtype(d), **kw)
    return _finish(arr, backend, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random("rand", size, dtype, device, requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    return _random("randn", size, dtype, device, requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    return _random("randint", (size,) if isinstance(size, int) else tuple(size), dtype or _dt.int64, device,
                   requires_grad, low=int(low), high=int(high))


def randperm(n, *, dtype=None, device=None, requires_grad=False, generator=None):
    keys = rand(n, dtype=_dt.float64, device=device)
    return keys.argsort().to(dtype or _dt.int64)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return rand(s, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return randn(s, dtype=d, device=dev, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False):  # noqa: A002
    s, d, dev = _like(input, dtype, device)
    return randint(low, high, s, dtype=d, device=dev, requires_grad=requires_grad)
