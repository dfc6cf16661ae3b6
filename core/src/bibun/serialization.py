"""``bibun.save`` / ``bibun.load``: checkpoints in the safetensors format, never pickle.

Loading a pickle can run arbitrary code, and allow-list unpicklers have been bypassed, so
bibun never unpickles. A checkpoint is a standard safetensors file: a u64 little-endian
header length, a UTF-8 JSON header naming each tensor's dtype, shape and byte range, then
the raw C-order little-endian bytes. Any safetensors reader can open it.

The Python structure around the tensors (nested dicts with int keys, tuples vs lists,
OrderedDict, numbers, strings, None) is stored as a tagged JSON tree in the header's
``__metadata__`` under ``"bibun.structure"``; a flat ``{str: Tensor}`` dict keeps its keys
as the tensor names, so other tools see the names they expect.

The reader is strict because a checkpoint is untrusted input: every size, offset, dtype
and name is checked before any tensor memory is allocated, and every failure raises
:class:`CheckpointError` naming the file (and the tensor, when there is one).
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import math
import os
import struct
import sys
from collections import OrderedDict

from . import dtypes as _dt
from .device import device as _device
from .size import Size
from .tensor import Tensor

__all__ = ["save", "load", "CheckpointError", "MAX_HEADER_SIZE", "MAX_TENSORS", "MAX_DEPTH"]

MAX_HEADER_SIZE = 100_000_000  # bytes of JSON header, as the safetensors reference reader allows
MAX_TENSORS = 1_000_000  # tensor entries in one header; bounds the validation time of a hostile file
MAX_DEPTH = 200  # nesting depth of the stored structure
_MAX_NDIM = 64  # numpy's limit
_MAX_NBYTES = 2**63 - 1  # a byte size a 64-bit reader can address

_STRUCTURE_KEY = "bibun.structure"
_STRUCTURE_VERSION = 1
_INFO_FIELDS = frozenset(("dtype", "shape", "data_offsets"))

# safetensors dtype code <-> bibun dtype: the allow-list of the reader
_CODES = {
    _dt.float16: "F16", _dt.float32: "F32", _dt.float64: "F64",
    _dt.int8: "I8", _dt.int16: "I16", _dt.int32: "I32", _dt.int64: "I64",
    _dt.uint8: "U8", _dt.bool_: "BOOL",
}
_BY_CODE = {code: d for d, code in _CODES.items()}

_PICKLE_ADVICE = (
    "this looks like a {what}; bibun only loads safetensors checkpoints and never unpickles, because "
    "unpickling can run arbitrary code. If you trust the file, convert it once with PyTorch and the "
    "safetensors package: safetensors.torch.save_file(torch.load(path, weights_only=True), "
    "'model.safetensors'), then load that with bibun.load"
)


class CheckpointError(RuntimeError, ValueError):
    """A file that is not a valid bibun/safetensors checkpoint.

    Both a ``RuntimeError`` (what PyTorch raises for an unreadable checkpoint) and a
    ``ValueError`` (the data is malformed), so either ``except`` clause catches it.
    """


# ====================================================================== save
def save(obj, f):
    """Write ``obj`` (a state dict: nested dicts/lists/tuples of tensors, numbers, strings,
    bools and None) to ``f``, a path or a binary file object, in the safetensors format.

    A path is written atomically: the bytes go to a temporary file in the same directory,
    which is fsynced and then renamed over ``f``, so a save that fails part way leaves the
    previous checkpoint intact. A file object is written in place, from its current position.
    """
    encoder = _Encoder()
    structure = encoder.encode_root(obj)
    header, ordered = _build_header(encoder.entries, structure)
    if isinstance(f, (str, bytes, os.PathLike)):
        _save_atomic(os.fsdecode(f), header, ordered)
    else:
        if not hasattr(f, "write"):
            raise TypeError(f"bibun.save expects a path or a binary file object, not {type(f).__name__}")
        _write(f, header, ordered)


class _Encoder:
    """Turns a state dict into a tagged JSON tree, collecting its tensors under unique names.

    Tags (each a one-key JSON object, so no tag can be mistaken for stored data):
    ``{"T": name}`` tensor (``"rg"``/``"p"``: requires_grad / Parameter), ``{"l": [...]}`` list,
    ``{"t": [...]}`` tuple, ``{"size": [...]}`` bibun.Size, ``{"d": [[k, v], ...]}`` dict,
    ``{"od": ...}`` OrderedDict (``"m"``: its ``_metadata`` attribute), ``{"f": "nan"}``
    non-finite float, ``{"dtype": "float32"}``, ``{"device": "cpu"}``.
    """

    def __init__(self):
        self.entries = []  # (name, tensor), in the order met
        self._names = set()
        self._by_id = {}
        self._active = set()  # ids of containers being encoded: a cycle check
        self._flat = False

    def encode_root(self, obj):
        self._flat = _is_flat(obj)
        return self._encode(obj, [], 0)

    def _tensor_name(self, path):
        if self._flat:
            return path[0]  # the dict key, unique by construction
        base = ".".join(path) if path else "tensor"
        name, n = base, 0
        while name in self._names or name == "__metadata__":
            n += 1
            name = f"{base}#{n}"
        return name

    def _encode(self, obj, path, depth):
        if depth > MAX_DEPTH:
            raise ValueError(f"bibun.save: the object is nested deeper than {MAX_DEPTH} levels at "
                             f"'{'.'.join(path)}'")
        if isinstance(obj, Tensor):
            return self._encode_tensor(obj, path)
        if obj is None or type(obj) is str:
            return obj
        if isinstance(obj, str):
            return str.__str__(obj)
        if isinstance(obj, bool) or _is_numpy_scalar(obj, "bool_"):
            return bool(obj)
        if isinstance(obj, int) or _is_numpy_scalar(obj, "integer"):
            return int(obj)
        if isinstance(obj, float) or _is_numpy_scalar(obj, "floating"):
            obj = float(obj)
            if math.isfinite(obj):
                return obj
            return {"f": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, _dt.dtype):
            return {"dtype": obj.name}
        if isinstance(obj, _device):
            return {"device": str(obj)}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self._active:
                raise ValueError(f"bibun.save: the object contains itself at '{'.'.join(path)}'")
            self._active.add(id(obj))
            try:
                return self._encode_container(obj, path, depth)
            finally:
                self._active.discard(id(obj))
        if callable(getattr(obj, "state_dict", None)):
            raise TypeError(f"bibun.save stores state dicts, not {type(obj).__name__} objects; save "
                            f"obj.state_dict() instead and load it back with load_state_dict")
        where = f" at '{'.'.join(path)}'" if path else ""
        raise TypeError(f"bibun.save cannot store an object of type {type(obj).__name__}{where}: a checkpoint "
                        f"holds tensors, numbers, strings, bools, None, lists, tuples and dicts")

    def _encode_container(self, obj, path, depth):
        if isinstance(obj, Size):
            return {"size": [int(s) for s in obj]}
        if isinstance(obj, (list, tuple)):
            items = [self._encode(v, path + [str(i)], depth + 1) for i, v in enumerate(obj)]
            return {"t" if isinstance(obj, tuple) else "l": items}
        pairs = []
        for k, v in obj.items():
            key = _encode_key(k, path)
            pairs.append([key, self._encode(v, path + [str(k)], depth + 1)])
        node = {"od" if isinstance(obj, OrderedDict) else "d": pairs}
        meta = getattr(obj, "_metadata", None) if hasattr(obj, "__dict__") else None
        if meta is not None:
            node["m"] = self._encode(meta, path + ["_metadata"], depth + 1)
        return node

    def _encode_tensor(self, t, path):
        name = self._by_id.get(id(t)) if not self._flat else None
        if name is None:
            name = self._tensor_name(path)
            self._names.add(name)
            self._by_id[id(t)] = name
            self.entries.append((name, t))
        node = {"T": name}
        if t.requires_grad:
            node["rg"] = True
        if type(t) is not Tensor and _is_parameter(t):
            node["p"] = True
        return node


def _is_parameter(t):
    module = sys.modules.get("bibun.nn.parameter")  # not imported: no Parameter can exist
    return module is not None and isinstance(t, module.Parameter)


def _is_numpy_scalar(obj, kind):
    np = sys.modules.get("numpy")
    return np is not None and isinstance(obj, getattr(np, kind))


def _is_flat(obj):
    """A dict of str -> Tensor: stored with its keys as the tensor names (stored per key, even when shared)."""
    return (isinstance(obj, dict) and "__metadata__" not in obj
            and all(type(k) is str and isinstance(v, Tensor) for k, v in obj.items()))


def _encode_key(k, path):
    if k is None or type(k) in (str, bool, int):
        return k
    if type(k) is float:
        return k if math.isfinite(k) else {"f": "nan" if math.isnan(k) else ("inf" if k > 0 else "-inf")}
    if type(k) is tuple:
        return {"t": [_encode_key(x, path) for x in k]}
    where = f" in '{'.'.join(path)}'" if path else ""
    raise TypeError(f"bibun.save cannot store a dict key of type {type(k).__name__}{where}: keys must be str, int, "
                    f"float, bool, None or tuples of those")


def _build_header(entries, structure):
    """The padded header bytes and the tensors in data order (widest items first, so every
    tensor starts at an offset aligned to its item size, as the safetensors writer does)."""
    info = {name: (t.dtype, [int(s) for s in t._data.shape]) for name, t in entries}
    ordered = sorted(entries, key=lambda e: -info[e[0]][0].itemsize)  # stable: ties keep insertion order
    offsets, pos = {}, 0
    for name, _t in ordered:
        d, shape = info[name]
        n = math.prod(shape) * d.itemsize
        offsets[name] = [pos, pos + n]
        pos += n
    header = {}
    for name, _t in entries:  # the JSON lists tensors in the order they were met
        d, shape = info[name]
        header[name] = {"dtype": _CODES[d], "shape": shape, "data_offsets": offsets[name]}
    header["__metadata__"] = {
        "format": "pt",  # PyTorch's names and layouts: tools that check this field accept the file
        _STRUCTURE_KEY: json.dumps({"v": _STRUCTURE_VERSION, "root": structure}, ensure_ascii=False,
                                   allow_nan=False, separators=(",", ":")),
    }
    try:
        raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"bibun.save: a name or string is not valid Unicode: {exc}") from None
    raw += b" " * (-(8 + len(raw)) % 8)  # data starts 8-byte aligned
    return struct.pack("<Q", len(raw)) + raw, ordered


def _host_bytes(t):
    """The tensor's logical C-order little-endian bytes as a flat uint8 array (at most one copy)."""
    import numpy as np
    arr = t._backend.to_numpy(t._data, force=True)  # the array itself on cpu, a host copy otherwise
    arr = np.ascontiguousarray(arr).reshape(-1)  # copies only a non-contiguous (transposed, sliced) array
    if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    return arr.view(np.uint8)


def _write(f, header, ordered):
    f.write(header)
    for _name, t in ordered:
        if t._data.size:
            f.write(_host_bytes(t))


def _save_atomic(path, header, ordered):
    if os.path.islink(path):
        path = os.path.realpath(path)  # replace the file the link points to, keep the link
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    while True:
        tmp = os.path.join(directory, f".{base}.{os.urandom(6).hex()}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as out:
            _write(out, header, ordered)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); best effort where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ====================================================================== load
def load(f, map_location=None, *, weights_only=None, mmap=None):
    """Read a checkpoint written by :func:`save` (or any safetensors file) from a path or a
    binary file object, returning the stored structure with its tensors.

    Tensors are created on the cpu, or on ``map_location`` (a device string or ``bibun.device``).
    ``weights_only`` and ``mmap`` are accepted for PyTorch compatibility and change nothing:
    a checkpoint holds only data, and pickles are refused whatever they say.
    A file without bibun's structure metadata loads as a ``{name: tensor}`` dict.
    Raises :class:`CheckpointError` for anything that is not a valid checkpoint.
    """
    backend, scope = _placement(map_location)  # before reading: a bad device fails fast
    if isinstance(f, (str, bytes, os.PathLike)):
        path = os.fsdecode(f)
        with open(path, "rb") as fh, _gc_paused():
            return _load(fh, path, backend, scope)
    if not hasattr(f, "read"):
        raise TypeError(f"bibun.load expects a path or a binary file object, not {type(f).__name__}")
    with _gc_paused():
        return _load(f, getattr(f, "name", None) or "<file object>", backend, scope)


@contextlib.contextmanager
def _gc_paused():
    """Loading creates many small objects and no cycles; the collector's passes over them would
    double the time of a checkpoint with many tensors."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _placement(map_location):
    """``(backend, scope)`` for the tensors to load: the scope puts them on ``cuda:1`` when asked."""
    from .factories import placed
    if map_location is None:
        return placed("cpu")
    if isinstance(map_location, (str, _device)):
        return placed(_device(map_location))
    raise TypeError(f"bibun.load: map_location must be None, a device string or a bibun.device, not "
                    f"{type(map_location).__name__}")


class _Reader:
    """Validates one checkpoint and reads its tensors; ``fail`` names the file and tensor."""

    def __init__(self, f, filename):
        self.f = f
        self.filename = str(filename)

    def fail(self, message, tensor=None):
        where = f"tensor '{tensor}': " if tensor is not None else ""
        return CheckpointError(f"cannot load checkpoint '{self.filename}': {where}{message}")


def _load(f, filename, backend, scope):
    r = _Reader(f, filename)
    size = _remaining_size(f)
    if size is None:  # a stream that cannot seek: its size is known only once read
        data = f.read()
        _check_binary(data)
        r.f = f = io.BytesIO(data)
        size = len(data)
    prefix = f.read(min(size, 9))
    _check_binary(prefix)
    _refuse_foreign(r, prefix)
    if len(prefix) < 8:
        raise r.fail(f"header too small: the file has {size} bytes, fewer than the 8-byte header length")
    (n,) = struct.unpack("<Q", prefix[:8])
    if n < 2:
        raise r.fail(f"header too small: the header length is {n} bytes, too few for a JSON object")
    if n > MAX_HEADER_SIZE:
        raise r.fail(f"header too large: the header length is {n} bytes, more than the limit of {MAX_HEADER_SIZE}")
    if n > size - 8:
        raise r.fail(f"invalid header length: the header length is {n} bytes but only {size - 8} bytes "
                     f"follow it (truncated file?)")
    raw = prefix[8:] + _read_exact(r, n - len(prefix[8:]), "the header")
    entries, metadata = _parse_header(r, raw)
    data_size = size - 8 - n
    _check_layout(r, entries, data_size)
    build = _structure_builder(r, entries, metadata)
    build(None)  # validate the whole structure before allocating any tensor
    arrays = _read_tensors(r, entries)
    with scope:
        return build({name: Tensor._make(backend.from_numpy(arrays[name]), backend) for name in entries})


def _check_binary(data):
    if isinstance(data, str):
        raise TypeError("bibun.load needs a binary file object (open the file with 'rb')")


def _refuse_foreign(r, prefix):
    """Name pickles, PyTorch zips and .npy files instead of reporting a bad header length.
    A safetensors header always starts with '{' at byte 8, which none of these have."""
    if prefix[8:9] == b"{":
        return
    if prefix[:4] == b"PK\x03\x04":
        raise r.fail(_PICKLE_ADVICE.format(what="zip archive (a PyTorch .pt/.pth file saved by torch.save)"))
    if len(prefix) >= 2 and prefix[0] == 0x80 and 1 <= prefix[1] <= 5:
        raise r.fail(_PICKLE_ADVICE.format(what=f"pickle/PyTorch .pt file (pickle protocol {prefix[1]})"))
    if prefix[:6] == b"\x93NUMPY":
        raise r.fail("this looks like a NumPy .npy file; bibun only loads safetensors checkpoints "
                     "(read it with numpy.load and wrap it with bibun.from_numpy)")


def _remaining_size(f):
    try:
        if not f.seekable():
            return None
        start = f.tell()
        end = f.seek(0, os.SEEK_END)
        f.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return end - start


def _read_exact(r, n, what):
    data = r.f.read(n)
    if len(data) != n:
        raise r.fail(f"the file ended while reading {what} ({len(data)} of {n} bytes)")
    return data


def _no_duplicates(pairs):
    obj = dict(pairs)
    if len(obj) != len(pairs):  # rare: find the name to report
        seen = set()
        for k, _v in pairs:
            if k in seen:
                raise _Duplicate(k)
            seen.add(k)
    return obj


class _Duplicate(Exception):
    pass


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _strict_json(text):
    """JSON with duplicate keys and NaN/Infinity rejected."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)


def _parse_header(r, raw):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise r.fail(f"the header is not valid UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        header = _strict_json(text)
    except _Duplicate as exc:
        raise r.fail("duplicate name in the header", tensor=exc.args[0]) from None
    except (ValueError, RecursionError) as exc:
        raise r.fail(f"the header is not valid JSON: {exc}") from None
    if not isinstance(header, dict):
        raise r.fail(f"the header must be a JSON object, not {type(header).__name__}")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise r.fail("__metadata__ must be a JSON object of string values")
    if len(header) > MAX_TENSORS:
        raise r.fail(f"the header lists {len(header)} tensors, more than the limit of {MAX_TENSORS}")
    entries = {}
    for name, info in header.items():
        entries[name] = _check_info(r, name, info)
    return entries, metadata


def _is_int(x):
    return type(x) is int


def _check_info(r, name, info):
    if not isinstance(info, dict) or set(info) != _INFO_FIELDS:
        got = sorted(info) if isinstance(info, dict) else type(info).__name__
        raise r.fail(f"invalid tensor entry: expected the fields dtype, shape and data_offsets, got {got}", name)
    code, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    d = _BY_CODE.get(code) if isinstance(code, str) else None
    if d is None:
        raise r.fail(f"unsupported dtype {code!r}; bibun reads {', '.join(_BY_CODE)}", name)
    if not isinstance(shape, list) or len(shape) > _MAX_NDIM or not all(_is_int(s) and s >= 0 for s in shape):
        raise r.fail(f"invalid shape {shape!r}: expected a list of at most {_MAX_NDIM} non-negative integers", name)
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise r.fail(f"invalid data_offsets {offsets!r}: expected [begin, end] with 0 <= begin <= end", name)
    nbytes = math.prod(shape) * d.itemsize  # python ints: exact, no silent wrap-around
    if nbytes > _MAX_NBYTES:
        raise r.fail(f"overflow computing the byte size of shape {shape} and dtype {code}", name)
    begin, end = offsets
    if nbytes != end - begin:
        raise r.fail(f"invalid shape, data type, or offset: dtype {code} and shape {shape} need {nbytes} bytes, but "
                     f"data_offsets {offsets} hold {end - begin}", name)
    return d, tuple(shape), begin, end


def _check_layout(r, entries, data_size):
    """The byte ranges must tile the data section exactly: no gap, no overlap, nothing after."""
    pos = 0
    for name, (_d, _s, begin, end) in sorted(entries.items(), key=lambda e: (e[1][2], e[1][3])):
        if end > data_size:
            raise r.fail(f"data_offsets [{begin}, {end}] reach past the end of the data ({data_size} bytes; "
                         f"truncated file?)", name)
        if begin > pos:
            raise r.fail(f"invalid offset: a gap of {begin - pos} unused bytes before data_offsets [{begin}, {end}]",
                         name)
        if begin < pos:
            raise r.fail(f"invalid offset: data_offsets [{begin}, {end}] overlap the previous tensor, which ends at "
                         f"{pos}", name)
        pos = end
    if pos != data_size:
        raise r.fail(f"the file is not fully covered: {data_size - pos} trailing bytes after the last tensor")


def _read_tensors(r, entries):
    """One sequential pass: each tensor's bytes are read straight into its own new array."""
    import numpy as np
    arrays = {}
    for name, (d, shape, begin, end) in sorted(entries.items(), key=lambda e: (e[1][2], e[1][3])):
        arr = np.empty(shape, dtype=np.dtype(d.numpy_name).newbyteorder("<"))
        if end > begin:
            view = arr.reshape(-1).view(np.uint8)
            _read_into(r, view, name)
        if d is _dt.bool_ and arr.size and arr.view(np.uint8).max() > 1:
            raise r.fail("a bool tensor holds a byte other than 0 or 1", name)
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("="))
        arrays[name] = arr
    return arrays


def _read_into(r, view, name):
    readinto = getattr(r.f, "readinto", None)
    n, got = len(view), 0
    mv = memoryview(view)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:])
        else:
            chunk = r.f.read(n - got)
            k = len(chunk)
            mv[got:got + k] = chunk
        if not k:
            raise r.fail(f"the file ended while reading the tensor's data ({got} of {n} bytes)", name)
        got += k


def _with_flags(t, requires_grad, parameter):
    if parameter:
        try:
            from .nn.parameter import Parameter
        except ImportError:  # bibun.nn absent: a tensor that requires grad is the nearest thing
            pass
        else:
            return Parameter(t, requires_grad=requires_grad)
    if requires_grad:
        t.requires_grad_(True)
    return t


# ---------------------------------------------------------------------- the stored structure
def _structure_builder(r, entries, metadata):
    """A function that validates (given None) or rebuilds (given the tensors) the stored structure."""
    text = metadata.get(_STRUCTURE_KEY)
    if text is None:  # another tool's file: the tensors by name, in header order
        return lambda tensors: None if tensors is None else dict(tensors)
    try:
        doc = _strict_json(text)
    except _Duplicate as exc:
        raise r.fail(f"invalid {_STRUCTURE_KEY} metadata: duplicate key {exc.args[0]!r}") from None
    except (ValueError, RecursionError) as exc:
        raise r.fail(f"invalid {_STRUCTURE_KEY} metadata: not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != {"v", "root"}:
        raise r.fail(f"invalid {_STRUCTURE_KEY} metadata: expected an object with fields v and root")
    if doc["v"] != _STRUCTURE_VERSION or not _is_int(doc["v"]):
        raise r.fail(f"{_STRUCTURE_KEY} format version {doc['v']!r} is not supported by this bibun "
                     f"(it reads version {_STRUCTURE_VERSION}); upgrade bibun")

    def build(tensors):
        decoder = _Decoder(r, entries, tensors)
        obj = decoder.decode(doc["root"], 0, "root")
        if tensors is None:
            unused = [name for name in entries if name not in decoder.seen]
            if unused:
                raise r.fail(f"the tensor is not referenced by the {_STRUCTURE_KEY} metadata", unused[0])
        return obj

    return build


class _Decoder:
    """Checks every node of the tagged tree (see :class:`_Encoder`) and rebuilds the objects."""

    _TAGS = {"T": {"rg", "p"}, "l": set(), "t": set(), "size": set(), "d": {"m"}, "od": {"m"}, "f": set(),
             "dtype": set(), "device": set()}
    _FLOATS = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}

    def __init__(self, r, entries, tensors):
        self.r = r
        self.entries = entries
        self.tensors = tensors
        self.seen = set()
        self.made = {}
        self.used = set()

    def bad(self, where, message):
        return self.r.fail(f"invalid {_STRUCTURE_KEY} metadata at {where}: {message}")

    def decode(self, node, depth, where):
        if depth > MAX_DEPTH:
            raise self.bad(where, f"nested deeper than {MAX_DEPTH} levels")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if not isinstance(node, dict):
            raise self.bad(where, f"unexpected JSON {type(node).__name__}")
        tag = self._tag(node, where)
        value = node[tag]
        if tag == "T":
            return self._tensor(node, where)
        if tag in ("l", "t", "size"):
            if not isinstance(value, list):
                raise self.bad(where, f"'{tag}' must hold a list")
            if tag == "size":
                if not all(_is_int(s) and s >= 0 for s in value):
                    raise self.bad(where, "a size must hold non-negative integers")
                return Size(value)
            items = [self.decode(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value)]
            return tuple(items) if tag == "t" else items
        if tag in ("d", "od"):
            return self._dict(node, tag, depth, where)
        if tag == "f":
            if not isinstance(value, str) or value not in self._FLOATS:
                raise self.bad(where, f"unknown float {value!r}")
            return self._FLOATS[value]
        if tag == "dtype":
            d = next((d for d in _dt.ALL if d.name == value), None)
            if d is None:
                raise self.bad(where, f"unknown dtype {value!r}")
            return d
        try:  # device
            return _device(value)
        except (TypeError, RuntimeError, ValueError):
            raise self.bad(where, f"invalid device {value!r}") from None

    def _tag(self, node, where):
        tags = [k for k in node if k in self._TAGS]
        if len(tags) != 1 or not set(node) - {tags[0]} <= self._TAGS[tags[0]]:
            raise self.bad(where, f"unrecognised node with fields {sorted(node)}")
        return tags[0]

    def _tensor(self, node, where):
        name = node["T"]
        if not isinstance(name, str) or name not in self.entries:
            raise self.bad(where, f"reference to a tensor {name!r} that the file does not hold")
        rg, p = node.get("rg", False), node.get("p", False)
        if type(rg) is not bool or type(p) is not bool:
            raise self.bad(where, "the flags rg and p must be booleans")
        if rg and self.entries[name][0].category != _dt.FLOATING:
            raise self.bad(where, f"tensor '{name}' of a non-floating dtype cannot require grad")
        self.seen.add(name)
        if self.tensors is None:
            return None
        key = (name, rg, p)
        t = self.made.get(key)
        if t is None:  # a tensor stored once and referenced twice comes back as one object, as saved
            t = self.tensors[name]
            if name in self.used:  # referenced again with other flags: another object on the same data
                t = t.detach()
            self.used.add(name)
            t = _with_flags(t, rg, p)
            self.made[key] = t
        return t

    def _dict(self, node, tag, depth, where):
        pairs = node[tag]
        if not isinstance(pairs, list):
            raise self.bad(where, f"'{tag}' must hold a list of [key, value] pairs")
        out = OrderedDict() if tag == "od" else {}
        for i, pair in enumerate(pairs):
            if not isinstance(pair, list) or len(pair) != 2:
                raise self.bad(where, f"entry {i} is not a [key, value] pair")
            key = self._key(pair[0], depth + 1, f"{where} key {i}")
            if key in out:
                raise self.bad(where, f"duplicate key {key!r}")
            out[key] = self.decode(pair[1], depth + 1, f"{where}[{key!r}]")
        if "m" in node:
            meta = self.decode(node["m"], depth + 1, f"{where}._metadata")
            if tag == "od":
                out._metadata = meta
        return out

    def _key(self, node, depth, where):
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, dict) and set(node) == {"f"} and isinstance(node["f"], str) and node["f"] in self._FLOATS:
            return self._FLOATS[node["f"]]
        if isinstance(node, dict) and set(node) == {"t"} and isinstance(node["t"], list):
            if depth > MAX_DEPTH:
                raise self.bad(where, f"nested deeper than {MAX_DEPTH} levels")
            return tuple(self._key(x, depth + 1, where) for x in node["t"])
        raise self.bad(where, "a dict key must be a string, number, bool, null or tuple")
