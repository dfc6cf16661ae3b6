"""Creating tensors: ``tensor`` ``zeros`` ``ones`` ``full`` ``empty`` ``arange`` ``linspace`` ``eye``
``rand`` ``randn`` ``randint`` ``randperm`` ``*_like`` ``from_numpy`` ``manual_seed``, and where they are placed.

The target backend comes from the ``device`` argument, else the default device
(``bibun.set_default_device``, else ``BIBUN_DEVICE`` read on first use, else cpu). Among
the backends serving a device type, ``BIBUN_BACKEND`` names the one to use (numpy for the
cpu by default). A device index (``cuda:1``) places the new array on that device.
"""

from __future__ import annotations

import math
import os
import warnings
import weakref

from . import dtypes as _dt
from .device import device as _device
from .tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "zeros_like", "ones_like", "full_like", "empty_like",
           "rand_like", "randn_like", "randint_like", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "set_default_device", "get_default_device"]

_FACTORY_GRAD_MESSAGE = "Only Tensors of floating point and complex dtype can require gradients"
_default = {"device": None, "seed": 67280421310721}
_seeded_backends = weakref.WeakSet()  # Backend records whose generator has been seeded (re-registering starts anew)
_device_type_seeds = {}  # device type -> seed given to it alone (bibun.cuda.manual_seed) before its first use
_INSTALL_CUDA = ("the GPU backend ships as bibun-cupy: pip install 'bibun-cupy[cuda12]' (CUDA 12) or "
                 "'bibun-cupy[cuda13]' (CUDA 13)")


# ---------------------------------------------------------------------- devices -> backends
def _default_device():
    d = _default["device"]
    if d is None:
        d = _default["device"] = _device(os.environ.get("BIBUN_DEVICE", "").strip() or "cpu")
    return d


def set_default_device(device):
    """The device factory functions use when none is given (``None`` resets to cpu).

    Nothing is checked until a tensor is made there, as in PyTorch: setting ``cuda`` on a
    machine without a GPU fails at the first factory call, with the reason.
    """
    _default["device"] = _device("cpu" if device is None else device)


def get_default_device():
    return _default_device()


_outer_defaults = []  # the default devices that enclosing ``with bibun.device(...)`` blocks replaced


def push_default_device(device):
    """Enter ``with bibun.device(...)``: remember the default device, then set ``device``."""
    _outer_defaults.append(_default_device())
    set_default_device(device)


def pop_default_device():
    """Leave ``with bibun.device(...)``: the default device is the one it replaced."""
    set_default_device(_outer_defaults.pop())


def backend_for(device=None):
    """The backend serving ``device`` (a string, ``bibun.device`` or None for the default)."""
    from .dispatch import registry
    dev = _default_device() if device is None else _device(device)
    candidates = registry.backends_for_device_type(dev.type)
    if not candidates:
        known = sorted({b.device_type for b in registry.backends().values()})
        hint = f" ({_INSTALL_CUDA})" if dev.type == "cuda" else ""
        raise RuntimeError(f"no bibun backend serves device type '{dev.type}'{hint}; available device types: "
                           f"{', '.join(known) or 'none'}")
    chosen = _choose(candidates)
    if chosen not in _seeded_backends:  # loads the backend: an unavailable one raises here, with the reason
        chosen.impl.default_generator.seed(_device_type_seeds.get(dev.type, _default["seed"]))
        _seeded_backends.add(chosen)
    return chosen


def _choose(candidates):
    """The backend ``BIBUN_BACKEND`` names among ``candidates`` if it can run here, else numpy, else the first
    available one (a sole candidate is chosen even if unavailable: using it raises the reason)."""
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    if wanted:
        chosen = next((b for b in candidates if b.name == wanted), None)
        if chosen is not None and (len(candidates) == 1 or chosen.availability()[0]):
            return chosen
    numpy = next((b for b in candidates if b.name == "numpy"), None)
    if numpy is not None:
        return numpy
    if len(candidates) > 1:
        return next((b for b in candidates if b.availability()[0]), candidates[0])
    return candidates[0]


def placed(device=None):
    """``(backend, scope)``: the backend serving ``device`` and a context that makes new arrays go to
    its index (``cuda:1``); the context does nothing for a device without an index."""
    dev = _default_device() if device is None else _device(device)
    backend = backend_for(dev)
    return backend, backend.device_scope(dev.index)


def seed_device_type(device_type, seed):
    """Seed the default generator of the backend serving ``device_type`` only (``bibun.cuda.manual_seed``);
    a backend not used yet takes the seed when it first is."""
    _device_type_seeds[device_type] = seed
    for backend in list(_seeded_backends):
        if backend.device_type == device_type:
            backend.impl.default_generator.seed(seed)


# ---------------------------------------------------------------------- tensor()
_NUMPY_SUPPORTED = ("can't convert np.ndarray of type {}. The only supported types are: float64, float32, float16, "
                    "int64, int32, int16, int8, uint8, and bool.")


def _numpy_dtype(np_dtype):
    if np_dtype.kind == "O":
        raise TypeError(_NUMPY_SUPPORTED.format("numpy.object_"))
    try:
        return _dt.from_numpy_name(np_dtype.name)
    except TypeError:
        raise TypeError(_NUMPY_SUPPORTED.format(f"numpy.{np_dtype.type.__name__}")) from None


_PYTHON_NUMBERS = {bool: lambda: _dt.bool_, int: lambda: _dt.int64, float: _dt.get_default_dtype}


def _is_sequence(x, np):
    return isinstance(x, (list, tuple, range, str, bytes)) or (isinstance(x, np.ndarray) and x.ndim > 0)


def _infer_python(data, np):
    """Shape, dtype and flat values of nested sequences, by PyTorch's rules.

    The shape follows the first element at each level; every leaf must then sit at
    that depth. The dtype promotes over the leaves: bool -> bool, int -> int64,
    float -> the default dtype, numpy scalars and one-element tensors keep theirs.
    """
    shape = []
    x = data
    while _is_sequence(x, np):
        if isinstance(x, (str, bytes)):
            if not shape:
                raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
            raise ValueError(f"too many dimensions '{type(x).__name__}'")
        shape.append(len(x))
        if not len(x):
            break
        x = x[0]
    ndim = len(shape)
    flat = []
    dtype = None

    def leaf_dtype(v):
        if isinstance(v, Tensor):
            if v.numel() != 1:
                raise ValueError("only one element tensors can be converted to Python scalars")
            return v.dtype
        if isinstance(v, (np.generic, np.ndarray)):  # before float: np.float64 is a float
            return _numpy_dtype(v.dtype)
        if isinstance(v, bool):
            return _dt.bool_
        if isinstance(v, int):
            return _dt.int64
        if isinstance(v, float):
            return _dt.get_default_dtype()
        raise RuntimeError(f"Could not infer dtype of {type(v).__name__}")

    def walk(x, depth):
        nonlocal dtype
        if depth < ndim:
            if not _is_sequence(x, np) or isinstance(x, (str, bytes)):
                raise TypeError(f"not a sequence: expected a sequence at dim {depth} (got {type(x).__name__})")
            if len(x) != shape[depth]:
                raise ValueError(f"expected sequence of length {shape[depth]} at dim {depth} (got {len(x)})")
            if depth == ndim - 1 and isinstance(x, (list, tuple)):
                types = set(map(type, x))
                if types <= _PYTHON_NUMBERS.keys():  # the common case, a row of python numbers: no per-item work
                    flat.extend(x)
                    for t in types:
                        d = _PYTHON_NUMBERS[t]()
                        dtype = d if dtype is None else _dt.promote_types(dtype, d)
                    return
            for item in x:
                walk(item, depth + 1)
            return
        if _is_sequence(x, np):
            raise TypeError(f"expected a number at dim {depth}, got a sequence ({type(x).__name__})")
        d = leaf_dtype(x)
        dtype = d if dtype is None else _dt.promote_types(dtype, d)
        flat.append(x.item() if isinstance(x, (Tensor, np.generic, np.ndarray)) else x)

    walk(data, 0)
    return tuple(shape), dtype or _dt.get_default_dtype(), flat


def _integer_overflow(values, dtype, np):
    """Whether float or int values fall outside ``dtype``'s range (PyTorch refuses to convert them)."""
    info = np.iinfo(dtype.numpy_name)
    low = -info.max if info.min == 0 else info.min  # PyTorch lets -1 wrap to 255 for uint8
    with np.errstate(invalid="ignore"):
        return bool(np.any(~((values >= low) & (values <= info.max))))


def _host_array(flat, shape, dtype, np):
    """The flat python values as a numpy array of ``dtype``, converted like PyTorch converts them."""
    wide = "float64" if float in set(map(type, flat)) else "int64"  # the leaves are python bool, int, float
    try:
        values = np.array(flat, dtype=wide)
    except OverflowError:
        if dtype.category != _dt.FLOATING:
            raise ValueError("Overflow when unpacking long long") from None
        values = np.array(flat, dtype="float64")
    converting = dtype.category == _dt.INTEGRAL and values.dtype.name != dtype.numpy_name
    if converting and _integer_overflow(values, dtype, np):
        raise RuntimeError(f"value cannot be converted to type {dtype.name} without overflow")
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(dtype.numpy_name).reshape(shape)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (python numbers, nested sequences, numpy arrays, tensors).

    Python floats become the default float dtype (float32), ints int64, bools bool;
    numpy arrays and scalars keep their dtype; mixed data promotes as in PyTorch.
    """
    import numpy as np
    if isinstance(data, (Tensor, np.ndarray, np.generic)):
        if isinstance(data, Tensor):
            warnings.warn("To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() "
                          "or sourceTensor.detach().clone().requires_grad_(True), rather than "
                          "bibun.tensor(sourceTensor).", UserWarning, stacklevel=2)
            source, inferred = data._backend.to_numpy(data._data, force=True), data.dtype
        else:
            source = np.asarray(data)
            inferred = _numpy_dtype(source.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            host = np.array(source, dtype=(dtype or inferred).numpy_name, copy=True)
    else:
        shape, inferred, flat = _infer_python(data, np)
        host = _host_array(flat, shape, dtype or inferred, np)  # a new array already
    backend, scope = placed(device)
    with scope:
        t = Tensor._make(backend.from_numpy(host), backend)
    if requires_grad:
        t._set_requires_grad(True, _FACTORY_GRAD_MESSAGE)
    return t


def as_tensor(data, dtype=None, device=None):
    """``data`` as a tensor without copying when it can: a tensor is returned as it is (or
    converted with ``.to``), a cpu numpy array of the wanted dtype is shared."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype)
    import numpy as np
    if isinstance(data, np.ndarray) and (dtype is None or dtype.numpy_name == data.dtype.name) and \
            (device is None or _device(device).type == "cpu"):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A cpu tensor sharing memory with ``ndarray`` (writes through both ways)."""
    import numpy as np
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _numpy_dtype(ndarray.dtype)
    backend = backend_for("cpu")
    return Tensor._make(backend.from_numpy(ndarray), backend)


def scalar_tensor_like(value, like):
    backend = like._backend
    d = _dt.scalar_dtype(value)
    if backend._cpu_device is not None:
        return Tensor._make(backend.asarray(value, d), backend)
    with backend.device_scope(like.device.index):
        return Tensor._make(backend.asarray(value, d), backend)


# ---------------------------------------------------------------------- filled tensors
def _size(size, name):
    """The shape passed as ``f(2, 3)``, ``f((2, 3))``, ``f([2, 3])`` or ``f(bibun.Size(...))``."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    out = []
    for i, s in enumerate(size):
        if isinstance(s, Tensor) and s.dtype.category == _dt.INTEGRAL and s.numel() == 1:
            s = s.item()
        if not hasattr(s, "__index__") or isinstance(s, (bool, Tensor)):
            if len(size) == 1:
                raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, not "
                                f"{type(s).__name__}")
            raise TypeError(f"{name}(): argument 'size' (position 1) must be tuple of ints, but found element of "
                            f"type {type(s).__name__} at pos {i}")
        out.append(s.__index__())
    for s in out:
        if s < 0:
            if name == "zeros":
                raise RuntimeError("zeros: Dimension size must be non-negative.")
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {out}")
    return tuple(out)


def _shape_arg(size, name, position=1):
    """A size given as one argument (``full``, ``randint``): a sequence, never a bare int."""
    if not isinstance(size, (tuple, list)):
        raise TypeError(f"{name}(): argument 'size' (position {position}) must be tuple of ints, not "
                        f"{type(size).__name__}")
    return _size(tuple(size), name)


def _varargs_size(size, name):
    if not size:
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    return _size(size, name)


def _finish(arr, backend, requires_grad):
    t = Tensor._make(arr, backend)
    if requires_grad:
        t._set_requires_grad(True, _FACTORY_GRAD_MESSAGE)
    return t


def _filled(name, size, fill, dtype, device, requires_grad):
    backend, scope = placed(device)
    d = dtype or _dt.get_default_dtype()
    xp = backend.impl.xp
    native = backend.native_dtype(d)
    try:
        with scope:
            arr = _fill(xp, size, fill, native)
    except MemoryError as exc:
        raise MemoryError(f"{name}: cannot allocate a tensor of size {list(size)} and dtype {d}: {exc}") from None
    return _finish(arr, backend, requires_grad)


def _fill(xp, size, fill, native):
    if fill == 0:
        return xp.zeros(size, dtype=native)
    if fill == 1:
        return xp.ones(size, dtype=native)
    return xp.full(size, fill, dtype=native)


def zeros(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    return _filled("zeros", _varargs_size(size, "zeros"), 0, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None):
    return _filled("ones", _varargs_size(size, "ones"), 1, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, layout=None, out=None, memory_format=None):
    return _filled("empty", _varargs_size(size, "empty"), 0, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    size = _shape_arg(size, "full")
    if dtype is None:
        dtype = fill_value.dtype if isinstance(fill_value, Tensor) else _dt.scalar_dtype(fill_value)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled("full", size, fill_value, dtype, device, requires_grad)


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
# PyTorch's CPU kernels compute ``start + step * i`` with a fused multiply-add on x86-64
# builds (AVX2/AVX-512); the helpers below round the same way, so values match bit for bit.
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _add_round_to_odd(a, b, np):
    """float64 ``a + b`` rounded to odd: exact sums stay, inexact ones take the neighbour with an odd last bit."""
    s, err = _two_sum(a, b)
    bits = s.view(np.int64)
    toward = np.where((err > 0) == (s > 0), 1, -1)
    return np.where((err != 0) & ((bits & 1) == 0), bits + toward, bits).view(np.float64)


def _significant_bits(x):
    x = float(x)
    return abs(x).as_integer_ratio()[0].bit_length() if math.isfinite(x) else 0  # inf/nan: plain IEEE is right


def _fma(a, b, c, np, float32=False):
    """``a * b + c`` rounded once (to float32 when ``float32``): one of ``a``, ``b`` is a scalar, the other
    holds integers.

    float32 values multiply exactly in float64; the sum, rounded to float64 and then
    to float32, is wrong only where the float64 sum fell exactly halfway between two
    float32 values: those few are redone, rounding to odd first. For float64, when the
    product is not exact, Boldo and Melquiond's emulation: the exact product (Dekker),
    TwoSum with ``c``, the two low parts added rounding to odd, then one last sum.
    """
    a, b, c = (np.asarray(v, np.float64) for v in (a, b, c))
    p = a * b
    if float32:
        s = p + c
        out = s.astype(np.float32)
        tie = ((s.view(np.int64) & 0x1FFFFFFF) == 0x10000000) | (np.abs(s) < 2.0**-125)
        if tie.any():
            i = np.nonzero(tie)
            c = np.broadcast_to(c, p.shape)
            out[i] = _add_round_to_odd(p[i], c[i], np).astype(np.float32)
        return out
    scalar, ints = (a, b) if a.ndim == 0 else (b, a)
    if _significant_bits(scalar) + _significant_bits(np.max(np.abs(ints), initial=0)) <= 53:
        return p + c  # the product is exact: one rounding already
    a_hi = a * 134217729.0 - (a * 134217729.0 - a)  # Veltkamp split: 26 + 27 bits
    b_hi = b * 134217729.0 - (b * 134217729.0 - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    p_err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    hi, lo = _two_sum(c, p)
    return hi + _add_round_to_odd(lo, p_err, np)


def _scalar_value(v):
    return v.item() if isinstance(v, Tensor) else v


def _arange_float(start, step, idx, dtype, np):
    """``start + step * idx`` rounded as PyTorch's vectorized CPU kernel rounds it.

    The kernel fills 32-byte vectors two at a time: each vector starts from
    ``base = start + step * i`` (accumulated in float64, or float32 for float16, then
    rounded to the dtype) and its k-th lane is ``base + k * step``; the elements left
    over after the last pair of vectors are ``start + step * i`` each. Above 32768
    elements the work is split into equal ranges (one per thread, assuming enough
    threads), each vectorized from its own start.
    """
    out = np.dtype(dtype.numpy_name)
    n, vec = len(idx), 32 // out.itemsize
    chunk = -(-n // max(1, -(-n // 32768)))  # PyTorch's parallel_for: GRAIN_SIZE 32768
    offset = idx % chunk
    in_range = np.minimum(chunk, n - (idx - offset))
    lane = np.where(offset < in_range - in_range % (2 * vec), offset % vec, 0)
    acc32 = dtype is _dt.float16
    acc = np.float32 if acc32 else np.float64
    base = _fma(acc(step), (idx - lane).astype(acc), acc(start), np, float32=acc32).astype(out)
    lanes = _fma(lane.astype(acc), acc(step), base.astype(acc), np, float32=acc32).astype(out)
    return np.where(lane == 0, base, lanes)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """``start, start + step, ...`` up to ``end`` (excluded): int64 for integer arguments, else the
    default float dtype; values rounded exactly as PyTorch's CPU kernel rounds them."""
    import numpy as np
    if end is None:
        start, end = 0, start
    start, end, step = (_scalar_value(v) for v in (start, end, step))
    if dtype is None:
        dtype = _dt.get_default_dtype() if any(isinstance(v, float) for v in (start, end, step)) else _dt.int64
    integral = dtype.category != _dt.FLOATING
    if integral:  # PyTorch's accumulate type is int64: the bounds and step are truncated
        start_i, end_i, step_i = int(start), int(end), int(step)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is _dt.int64 and step_i == 0:  # a fractional step truncated to 0 (other dtypes repeat start)
        raise ValueError("step must be nonzero")
    if not ((step > 0 and end >= start) or (step < 0 and end <= start)):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dt.int64:
        n = (end_i - start_i + step_i - (1 if step_i > 0 else -1)) // step_i
    else:
        n = math.ceil((end - start) / step)
    idx = np.arange(n, dtype=np.int64)
    if integral:
        host = idx * step_i + start_i
    else:
        host = _arange_float(start, step, idx, dtype, np)
    backend, scope = placed(device)
    with scope:
        return _finish(backend.from_numpy(host.astype(dtype.numpy_name)), backend, requires_grad)


def _linspace_host(start, end, steps, d, np):
    if steps == 1:
        return np.array([start if d.is_floating_point else int(start)], dtype=np.float64)
    idx = np.arange(steps, dtype=np.int64)
    up = idx < steps // 2
    signed_idx = np.where(up, idx, idx - (steps - 1))  # the second half counts down from ``end``
    if d is _dt.float32:
        start, end = np.float32(start), np.float32(end)
        step = np.float32(end - start) / np.float32(max(steps - 1, 1))
        return _fma(step, signed_idx.astype(np.float32), np.where(up, start, end), np, float32=True)
    if d is _dt.float16:  # half arithmetic, each operation rounded to half, no fused multiply-add
        start, end = np.float16(start), np.float16(end)
        step = np.float16(end - start) / np.float16(max(steps - 1, 1))
        return np.where(up, start, end) + step * signed_idx.astype(np.float16)
    if not d.is_floating_point:  # integer dtypes: float64 arithmetic from the truncated bounds
        start, end = int(start), int(end)
    step = (float(end) - float(start)) / max(steps - 1, 1)
    return _fma(step, signed_idx.astype(np.float64), np.where(up, float(start), float(end)), np)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    """``steps`` points from ``start`` to ``end``: the first half counted up from ``start``, the
    second half down from ``end``, in the output dtype's arithmetic, as PyTorch computes them."""
    import numpy as np
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' (position 3) must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    d = dtype or _dt.get_default_dtype()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        host = _linspace_host(_scalar_value(start), _scalar_value(end), steps, d, np).astype(d.numpy_name)
    backend, scope = placed(device)
    with scope:
        return _finish(backend.from_numpy(host), backend, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    m = n if m is None else m
    for name, v in (("n", n), ("m", m)):
        if not hasattr(v, "__index__") or isinstance(v, bool):
            raise TypeError(f"eye(): argument '{name}' must be int, not {type(v).__name__}")
        if v < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {v}")
    backend, scope = placed(device)
    with scope:
        arr = backend.impl.xp.eye(n, m, dtype=backend.native_dtype(dtype or _dt.get_default_dtype()))
    return _finish(arr, backend, requires_grad)


# ---------------------------------------------------------------------- random
def manual_seed(seed):
    """Seed every backend's default generator (cpu draws then match PyTorch's); returns the cpu one."""
    from .generator import check_seed, default_generator
    seed = check_seed(int(seed))
    _default["seed"] = seed
    _device_type_seeds.clear()
    for backend in list(_seeded_backends):
        backend.impl.default_generator.seed(seed)
    return default_generator


def seed():
    """Seed every backend's default generator from a fresh nondeterministic value, and return it."""
    import random
    s = random.getrandbits(63)
    manual_seed(s)
    return s


def initial_seed():
    from .generator import default_generator
    return default_generator.initial_seed()


def get_rng_state():
    """The cpu default generator's state, a uint8 tensor."""
    from .generator import default_generator
    return default_generator.get_state()


def set_rng_state(new_state):
    from .generator import default_generator
    default_generator.set_state(new_state)


def _random(kind, size, dtype, device, requires_grad, generator=None, **kw):
    from .generator import generator_state
    backend, scope = placed(device)
    d = dtype or _dt.get_default_dtype()
    if kind != "randint" and not d.is_floating_point:
        kernel = "check_uniform_bounds" if kind == "rand" else "normal_kernel_cpu"
        raise NotImplementedError(f'"{kernel}" not implemented for \'{d._legacy[:-len("Tensor")]}\'')
    if requires_grad and not d.is_floating_point:
        raise RuntimeError(_FACTORY_GRAD_MESSAGE)
    rng = generator_state(backend, generator, kind)
    with scope:
        arr = getattr(rng, kind)(size, backend.native_dtype(d), **kw)
    return _finish(arr, backend, requires_grad)


def rand(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform on [0, 1); on the cpu the same numbers as PyTorch's after the same ``manual_seed``."""
    return _random("rand", _varargs_size(size, "rand"), dtype, device, requires_grad, generator)


def randn(*size, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal; on the cpu the same numbers as PyTorch's x86 builds after the same ``manual_seed``."""
    return _random("randn", _varargs_size(size, "randn"), dtype, device, requires_grad, generator)


def randint(low=None, high=None, size=None, *, dtype=None, device=None, requires_grad=False, generator=None):
    """Integers uniform on [low, high): ``randint(high, size)``, ``randint(low, high, size)`` or
    ``randint(high=h, size=s)``."""
    position = 3
    if size is None:  # randint(high, size)
        low, high, size, position = 0, low, high, 2
    elif low is None:
        low = 0
    size = _shape_arg(size, "randint", position)
    low, high = (_scalar_value(v) for v in (low, high))
    for name, v in (("low", low), ("high", high)):
        if not hasattr(v, "__index__") or isinstance(v, bool):
            raise TypeError(f"randint(): argument '{name}' must be int, not {type(v).__name__}")
    low, high = low.__index__(), high.__index__()
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    from .ops.random_fill import check_random_range
    check_random_range(dtype or _dt.int64, low, high - 1, stacklevel=3)
    return _random("randint", size, dtype or _dt.int64, device, requires_grad, generator, low=low, high=high)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A random permutation of ``0..n-1``; on the cpu PyTorch's after the same seed (its shuffle, its draws)."""
    from .generator import generator_state
    if not hasattr(n, "__index__") or isinstance(n, bool):
        raise TypeError(f"randperm(): argument 'n' (position 1) must be int, not {type(n).__name__}")
    n = n.__index__()
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    d = dtype or _dt.int64
    if requires_grad and not d.is_floating_point:
        raise RuntimeError(_FACTORY_GRAD_MESSAGE)
    if d is _dt.bool_:
        raise NotImplementedError('"randperm" not implemented for \'Bool\'')
    _check_randperm_range(n, d)
    backend, scope = placed(device)
    rng = generator_state(backend, generator, "randperm")
    with scope:
        return _finish(rng.randperm(n, backend.native_dtype(d)), backend, requires_grad)


def _check_randperm_range(n, d):
    """PyTorch's refusal of an ``n`` whose values the dtype cannot hold exactly."""
    import numpy as np
    if d.is_floating_point:
        limit = 2 ** (np.finfo(d.numpy_name).nmant + 1) + 1
        if n > limit:
            raise RuntimeError(f"n cannot be greater than {limit} for {d._legacy[:-len('Tensor')]} type.")
    elif n - 1 > int(np.iinfo(d.numpy_name).max):
        ctype = {"int32": "int", "int64": "int64_t"}.get(d.name, d.name + "_t")
        raise RuntimeError(f"value cannot be converted to type {ctype} without overflow")


def rand_like(input, *, dtype=None, device=None, requires_grad=False, generator=None,  # noqa: A002
              memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return rand(s, dtype=d, device=dev, requires_grad=requires_grad, generator=generator)


def randn_like(input, *, dtype=None, device=None, requires_grad=False, generator=None,  # noqa: A002
               memory_format=None):
    s, d, dev = _like(input, dtype, device)
    return randn(s, dtype=d, device=dev, requires_grad=requires_grad, generator=generator)


def randint_like(input, low=0, high=None, *, dtype=None, device=None, requires_grad=False,  # noqa: A002
                 generator=None, memory_format=None):
    """``randint_like(input, high)`` or ``randint_like(input, low, high)``."""
    if high is None:
        low, high = 0, low
    s, d, dev = _like(input, dtype, device)
    return randint(low, high, s, dtype=d, device=dev, requires_grad=requires_grad, generator=generator)
