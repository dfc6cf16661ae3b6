"""``bibun.save`` / ``bibun.load``: safetensors checkpoints, a strict reader, never pickle.

Round trips (nested optimizer-like state, module-like OrderedDicts, every dtype, strided
tensors), the atomic save, every malformed-file case of reliability.md §3 / catalogue G,
refusal of pickles without unpickling, and interoperability with the safetensors package.
"""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
import zipfile
from collections import OrderedDict

import bibun
import bibun.serialization as S
import numpy as np
import pytest
from bibun.serialization import CheckpointError

NUMPY_DTYPES = ["float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool"]
SHAPES = [(), (0,), (2, 0, 3), (5,), (3, 4), (2, 3, 4)]


# ---------------------------------------------------------------------- helpers
def _np_values(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    if name == "bool":
        return np.asarray(rng.random(shape) > 0.5)
    if name.startswith("float"):
        return np.asarray(rng.standard_normal(shape).astype(name))
    info = np.iinfo(name)
    return np.asarray(rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=name))


def _t(arr):
    return bibun.from_numpy(np.array(arr))  # a copy, so the tensor owns its data


def _assert_same(a, b, where="root"):
    """Equal structure, types and values; tensors equal in dtype, shape and every element."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, bibun.Tensor):
        assert a.dtype is b.dtype and a.shape == b.shape, where
        assert a.device == bibun.device("cpu") or a.device == b.device
        np.testing.assert_array_equal(a.detach().to("cpu").numpy(), b.detach().to("cpu").numpy(), err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert type(k) is type(next(x for x in b if x == k)), where
            _assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b), where
    else:
        assert a == b, where


def _roundtrip(obj, **load_kwargs):
    buf = io.BytesIO()
    bibun.save(obj, buf)
    buf.seek(0)
    return bibun.load(buf, **load_kwargs)


def _header(blob):
    (n,) = struct.unpack("<Q", blob[:8])
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def _saved_bytes(obj):
    buf = io.BytesIO()
    bibun.save(obj, buf)
    return buf.getvalue()


def _optimizer_state():
    return {
        "state": {
            0: {"step": bibun.tensor(3.0), "exp_avg": _t(_np_values("float32", (3, 2))),
                "exp_avg_sq": _t(_np_values("float32", (3, 2), 1))},
            1: {"step": bibun.tensor(3.0), "exp_avg": _t(_np_values("float32", (3,), 2)),
                "exp_avg_sq": _t(_np_values("float32", (3,), 3))},
        },
        "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                          "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                          "differentiable": False, "fused": None, "params": [0, 1]}],
    }


# ---------------------------------------------------------------------- round trips
def test_error_type_is_runtime_and_value_error():
    assert issubclass(CheckpointError, RuntimeError) and issubclass(CheckpointError, ValueError)


def test_module_state_dict_roundtrip_keeps_keys_as_tensor_names():
    sd = OrderedDict([("0.weight", _t(_np_values("float32", (4, 3)))), ("0.bias", _t(_np_values("float32", (4,)))),
                      ("2.running_mean", bibun.zeros(4)), ("2.num_batches_tracked", bibun.tensor(7))])
    blob = _saved_bytes(sd)
    header, _ = _header(blob)
    assert [k for k in header if k != "__metadata__"] == list(sd)
    assert all(isinstance(v, str) for v in header["__metadata__"].values())
    out = bibun.load(io.BytesIO(blob))
    assert isinstance(out, OrderedDict)
    _assert_same(out, sd)


def test_optimizer_state_roundtrip_keeps_int_keys_and_tuples():
    sd = _optimizer_state()
    out = _roundtrip(sd)
    _assert_same(out, sd)
    assert list(out["state"]) == [0, 1] and isinstance(out["param_groups"][0]["betas"], tuple)
    header, _ = _header(_saved_bytes(sd))
    assert "state.0.exp_avg" in header and "state.1.step" in header


def test_python_values_roundtrip():
    obj = {
        "ints": [0, -1, 2**70], "floats": (0.1, -0.0, 1e308, math.inf, -math.inf, math.nan),
        "text": ["", "ünïcødé", "a\"b\\c\n"], "flags": [True, False, None],
        "nested": {"a": {"b": {"c": [[], (), {}]}}},
        3: "int key", 2.5: "float key", (1, "x"): "tuple key", None: "none key", True: "bool key",
        "size": bibun.Size([2, 3]), "dtype": bibun.float16, "device": bibun.device("cpu"),
    }
    out = _roundtrip(obj)
    _assert_same(out, obj)
    assert math.copysign(1.0, out["floats"][1]) == -1.0
    assert isinstance(out["size"], bibun.Size) and out["dtype"] is bibun.float16


def test_root_may_be_a_tensor_a_list_or_empty():
    t = _t(_np_values("float64", (2, 2)))
    _assert_same(_roundtrip(t), t)
    _assert_same(_roundtrip([t, 1, "x"]), [t, 1, "x"])
    _assert_same(_roundtrip({}), {})
    _assert_same(_roundtrip([]), [])
    _assert_same(_roundtrip(None), None)


def test_ordered_dict_metadata_attribute_roundtrips():
    sd = OrderedDict([("weight", bibun.ones(2))])
    sd._metadata = OrderedDict([("", {"version": 1}), ("bn", {"version": 2})])
    out = _roundtrip(sd)
    assert out._metadata == sd._metadata


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_every_dtype_and_shape_roundtrips(dtype, shape):
    t = _t(_np_values(dtype, shape))
    out = _roundtrip({"x": t, "nested": [t]})
    assert out["x"].dtype is t.dtype and out["x"].shape == t.shape
    _assert_same(out, {"x": t, "nested": [t]})


def test_extreme_values_roundtrip_bit_exactly():
    f = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 5e-324, np.finfo(np.float64).max])
    h = np.array([np.nan, np.inf, -0.0, 6e-08, 65504.0], dtype=np.float16)
    out = _roundtrip({"f": _t(f), "h": _t(h)})
    assert out["f"].cpu().numpy().tobytes() == f.tobytes()
    assert out["h"].cpu().numpy().tobytes() == h.tobytes()


def _strided_cases():
    base = np.arange(60, dtype=np.float32).reshape(3, 4, 5)
    return {
        "transposed": bibun.from_numpy(base.copy()).transpose(0, 2),
        "t": bibun.from_numpy(base[0].copy()).t(),
        "sliced": bibun.from_numpy(base.copy())[:, ::2, 1:4],
        "column": bibun.from_numpy(base[0].copy())[:, 1],
        "fortran": bibun.from_numpy(np.asfortranarray(base.astype(np.int64))),
        "reversed": bibun.from_numpy(base[0].copy()[::-1, ::-1]),
        "expanded": bibun.from_numpy(np.arange(3, dtype=np.int16)).expand(4, 3),
        "bool_t": bibun.from_numpy(base[0] > 7).t(),
    }


def test_non_contiguous_tensors_write_their_logical_c_order_bytes():
    cases = _strided_cases()
    assert not any(t.is_contiguous() for t in cases.values())
    blob = _saved_bytes(cases)
    header, data = _header(blob)
    for name, t in cases.items():
        begin, end = header[name]["data_offsets"]
        assert data[begin:end] == np.ascontiguousarray(t.cpu().numpy()).tobytes(), name
        assert header[name]["shape"] == list(t.shape)
    _assert_same(bibun.load(io.BytesIO(blob)), cases)


def test_data_is_aligned_to_item_size():
    sd = {"b": bibun.ones(3, dtype=bibun.bool), "d": bibun.ones(3, dtype=bibun.float64),
          "h": bibun.ones(3, dtype=bibun.float16), "i": bibun.ones(1, dtype=bibun.int32)}
    blob = _saved_bytes(sd)
    header, _ = _header(blob)
    n = struct.unpack("<Q", blob[:8])[0]
    assert (8 + n) % 8 == 0
    for name, info in header.items():
        if name != "__metadata__":
            assert info["data_offsets"][0] % np.dtype(S._BY_CODE[info["dtype"]].numpy_name).itemsize == 0


def test_shared_tensor_loads_with_correct_values():
    w = _t(_np_values("float32", (3, 3)))
    out = _roundtrip({"enc": {"w": w}, "dec": {"w": w}, "list": [w, w]})
    for t in (out["enc"]["w"], out["dec"]["w"], *out["list"]):
        _assert_same(t, w)
    assert out["enc"]["w"] is out["dec"]["w"]  # stored once, one object back
    header, _ = _header(_saved_bytes({"enc": {"w": w}, "dec": {"w": w}}))
    assert len(header) == 2  # one tensor + __metadata__
    flat = _roundtrip({"a": w, "b": w})  # a flat dict keeps every key as a tensor name
    _assert_same(flat, {"a": w, "b": w})


def test_generated_names_never_collide():
    a, b, c = bibun.zeros(1), bibun.ones(1), bibun.full((1,), 2.0)
    obj = {"x.y": a, "x": {"y": b}, "__metadata__": c}
    blob = _saved_bytes(obj)
    header, _ = _header(blob)
    assert len(header) == 4
    _assert_same(bibun.load(io.BytesIO(blob)), obj)


def test_requires_grad_roundtrips():
    w = bibun.ones(2, requires_grad=True)
    out = _roundtrip({"w": w, "g": bibun.zeros(2)})
    assert out["w"].requires_grad and out["w"].is_leaf and not out["g"].requires_grad


def test_parameter_roundtrips_as_parameter():
    nn = pytest.importorskip("bibun.nn")
    if not hasattr(nn, "Parameter"):
        pytest.skip("bibun.nn.Parameter is not available yet")
    p = nn.Parameter(bibun.ones(2, 2))
    out = _roundtrip([p])
    assert isinstance(out[0], nn.Parameter) and out[0].requires_grad


def test_path_and_pathlike_and_file_objects(tmp_path):
    sd = _optimizer_state()
    bibun.save(sd, str(tmp_path / "a.safetensors"))
    bibun.save(sd, tmp_path / "b.safetensors")
    _assert_same(bibun.load(tmp_path / "a.safetensors"), sd)
    _assert_same(bibun.load(str(tmp_path / "b.safetensors")), sd)
    with open(tmp_path / "c.safetensors", "wb") as f:
        bibun.save(sd, f)
    with open(tmp_path / "c.safetensors", "rb") as f:
        _assert_same(bibun.load(f), sd)
    assert sorted(os.listdir(tmp_path)) == ["a.safetensors", "b.safetensors", "c.safetensors"]


def test_file_object_is_read_from_its_current_position():
    blob = _saved_bytes({"w": bibun.ones(3)})
    buf = io.BytesIO(b"preamble" + blob)
    buf.seek(8)
    _assert_same(bibun.load(buf), {"w": bibun.ones(3)})
    assert buf.tell() == len(buf.getvalue())


def test_non_seekable_stream_loads():
    class Stream:
        def __init__(self, data):
            self._buf = io.BytesIO(data)

        def read(self, n=-1):
            return self._buf.read(n)

        def seekable(self):
            return False

    sd = _optimizer_state()
    _assert_same(bibun.load(Stream(_saved_bytes(sd))), sd)


def test_text_file_and_bad_arguments_are_type_errors(tmp_path):
    p = tmp_path / "x.safetensors"
    bibun.save({"w": bibun.ones(1)}, p)
    with open(p, encoding="latin-1") as f, pytest.raises(TypeError, match="binary"):
        bibun.load(f)
    with pytest.raises(TypeError, match="path or a binary file object"):
        bibun.load(3)
    with pytest.raises(TypeError, match="path or a binary file object"):
        bibun.save({}, 3)
    with pytest.raises(TypeError, match="map_location"):
        bibun.load(p, map_location={"cuda:0": "cpu"})
    with pytest.raises(RuntimeError, match="no bibun backend serves device type 'xla'"):
        bibun.load(p, map_location="xla")


def test_load_accepts_pytorch_keywords(tmp_path):
    p = tmp_path / "x.safetensors"
    bibun.save({"w": bibun.ones(1)}, p)
    _assert_same(bibun.load(p, weights_only=True), {"w": bibun.ones(1)})
    _assert_same(bibun.load(p, map_location="cpu", weights_only=False, mmap=True), {"w": bibun.ones(1)})


def test_device_tensors_save_from_host_and_load_where_asked(device, tmp_path):
    sd = {"w": bibun.arange(6.0, device=device).reshape(2, 3).t(), "n": bibun.tensor(4, device=device)}
    p = tmp_path / "d.safetensors"
    bibun.save(sd, p)
    out = bibun.load(p)
    assert all(t.device == bibun.device("cpu") for t in out.values())
    _assert_same(out, {k: v.to("cpu") for k, v in sd.items()})
    for where in (device, bibun.device(device)):
        moved = bibun.load(p, map_location=where)
        assert all(t.device.type == bibun.device(device).type for t in moved.values())
        np.testing.assert_array_equal(moved["w"].to("cpu").numpy(), sd["w"].to("cpu").numpy())
    assert bibun.load(p, map_location="cpu")["n"].device == bibun.device("cpu")


# ---------------------------------------------------------------------- what save refuses
def test_unsupported_objects_are_refused_before_anything_is_written(tmp_path):
    p = tmp_path / "x.safetensors"
    with pytest.raises(TypeError, match=r"cannot store an object of type object at 'a\.b'"):
        bibun.save({"a": {"b": object()}}, p)
    with pytest.raises(TypeError, match="dict key of type frozenset"):
        bibun.save({frozenset(): 1}, p)

    class Model:
        def state_dict(self):
            return {}

    with pytest.raises(TypeError, match=r"save obj\.state_dict\(\) instead"):
        bibun.save(Model(), p)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        bibun.save({"loop": loop}, p)
    deep = []
    for _ in range(S.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        bibun.save(deep, p)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------- atomic save
def test_failure_mid_save_leaves_previous_checkpoint_and_no_temp_file(tmp_path, monkeypatch):
    p = tmp_path / "model.safetensors"
    old = {"a": bibun.ones(100), "b": bibun.zeros(100)}
    bibun.save(old, p)
    before = p.read_bytes()
    real = S._host_bytes
    calls = []

    def failing(t):
        calls.append(t)
        if len(calls) == 2:
            raise RuntimeError("conversion failed")
        return real(t)

    monkeypatch.setattr(S, "_host_bytes", failing)
    with pytest.raises(RuntimeError, match="conversion failed"):
        bibun.save({"a": bibun.full((100,), 5.0), "b": bibun.full((100,), 6.0)}, p)
    assert len(calls) == 2  # the first tensor was already written to the temporary file
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.safetensors"]
    _assert_same(bibun.load(p), old)


def test_interrupt_mid_save_also_cleans_up(tmp_path, monkeypatch):
    p = tmp_path / "model.safetensors"
    monkeypatch.setattr(S, "_host_bytes", lambda t: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        bibun.save({"a": bibun.ones(2)}, p)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_save_through_a_symlink_replaces_the_target(tmp_path):
    target = tmp_path / "real.safetensors"
    bibun.save({"w": bibun.zeros(1)}, target)
    link = tmp_path / "link.safetensors"
    link.symlink_to(target)
    bibun.save({"w": bibun.ones(1)}, link)
    assert link.is_symlink()
    _assert_same(bibun.load(target), {"w": bibun.ones(1)})


# ---------------------------------------------------------------------- pickles are refused, never unpickled
class _Marker:
    """Unpickling this creates the marker file: proof that a loader ran pickled code."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickle_is_refused_without_unpickling(tmp_path, protocol):
    marker = tmp_path / "marker"
    p = tmp_path / "model.pt"
    with open(p, "wb") as f:
        pickle.dump({"weight": _Marker(marker), "pad": "x" * 64}, f, protocol=protocol)
    with pytest.raises(CheckpointError) as info:
        bibun.load(p)
    if protocol >= 2:
        assert "looks like a pickle/PyTorch .pt file" in str(info.value)
        assert "safetensors.torch.save_file" in str(info.value)
    assert str(p) in str(info.value)
    assert not marker.exists()


def test_pytorch_zip_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    p = tmp_path / "model.pt"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps(_Marker(marker), protocol=2))
        z.writestr("archive/version", "3\n")
    with pytest.raises(CheckpointError, match=r"zip archive \(a PyTorch \.pt/\.pth file"):
        bibun.load(p)
    assert not marker.exists()


def test_npy_file_is_named(tmp_path):
    p = tmp_path / "x.npy"
    np.save(p, np.arange(3))
    with pytest.raises(CheckpointError, match="NumPy .npy file"):
        bibun.load(p)


def test_real_torch_checkpoints_are_refused(tmp_path, torch):
    marker = tmp_path / "marker"
    for i, zipped in enumerate((True, False)):
        p = tmp_path / f"m{i}.pt"
        torch.save({"w": torch.ones(2), "evil": _Marker(marker)}, p, _use_new_zipfile_serialization=zipped)
        with pytest.raises(CheckpointError, match="bibun only loads safetensors checkpoints"):
            bibun.load(p)
    assert not marker.exists()


def test_tensor_pickling_is_refused():
    with pytest.raises(TypeError, match="bibun.save"):
        pickle.dumps(bibun.ones(1))


# ---------------------------------------------------------------------- malformed files
def _blob(header, data=b"", *, length=None):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def _info(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def _refused(tmp_path, blob, match, tensor=None):
    p = tmp_path / "bad.safetensors"
    p.write_bytes(blob)
    with pytest.raises(CheckpointError, match=match) as info:
        bibun.load(p)
    message = str(info.value)
    assert f"cannot load checkpoint '{p}'" in message
    if tensor is not None:
        assert f"tensor '{tensor}'" in message
    with pytest.raises(CheckpointError, match=match):  # the same from a file object
        bibun.load(io.BytesIO(blob))
    return message


BAD_FILES = {
    "empty": (b"", "header too small", None),
    "five_bytes": (b"\x01\x02\x03\x04\x05", "header too small", None),
    "header_length_zero": (_blob(b""), "header too small", None),
    "header_length_2_40": (_blob(b"{}", length=2**40), "header too large", None),
    "header_length_200MB": (_blob(b"{}", length=200_000_000), "header too large", None),
    "header_longer_than_file": (_blob(b"{}", length=99_000_000), "invalid header length", None),
    "truncated_header": (_blob({"w": _info()}, b"\0" * 8)[:20], "invalid header length", None),
    "non_utf8": (_blob(b'{"\xff\xfe": 1}'), "not valid UTF-8", None),
    "not_json": (_blob(b"{not json}"), "not valid JSON", None),
    "json_nan": (_blob(b'{"w": NaN}'), "not valid JSON", None),
    "json_deep": (_blob(b"{" + b'"a":{' * 50_000 + b"}" * 50_001), "not valid JSON", None),
    "json_list": (_blob(b"[1, 2]"), "must be a JSON object, not list", None),
    "json_number": (_blob(b"12"), "must be a JSON object, not int", None),
    "duplicate_names": (_blob(b'{"w": %s, "w": %s}' % (json.dumps(_info()).encode(),
                                                       json.dumps(_info(offsets=(8, 16))).encode()), b"\0" * 16),
                        "duplicate name", "w"),
    "entry_not_object": (_blob({"w": [1, 2]}), "invalid tensor entry", "w"),
    "entry_missing_field": (_blob({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8), "invalid tensor entry", "w"),
    "entry_extra_field": (_blob({"w": {**_info(), "extra": 1}}, b"\0" * 8), "invalid tensor entry", "w"),
    "unknown_dtype": (_blob({"w": _info(dtype="F8")}, b"\0" * 8), "unsupported dtype 'F8'", "w"),
    "bf16_dtype": (_blob({"w": _info(dtype="BF16", offsets=(0, 4))}, b"\0" * 4), "unsupported dtype 'BF16'", "w"),
    "dtype_not_string": (_blob({"w": _info(dtype=4)}, b"\0" * 8), "unsupported dtype 4", "w"),
    "negative_dim": (_blob({"w": _info(shape=(-2,))}, b"\0" * 8), "invalid shape", "w"),
    "float_dim": (_blob({"w": _info(shape=(2.0,))}, b"\0" * 8), "invalid shape", "w"),
    "bool_dim": (_blob({"w": _info(shape=(True, 2))}, b"\0" * 8), "invalid shape", "w"),
    "shape_not_list": (_blob({"w": {**_info(), "shape": 2}}, b"\0" * 8), "invalid shape", "w"),
    "too_many_dims": (_blob({"w": _info(shape=(1,) * 65, offsets=(0, 4))}, b"\0" * 4), "invalid shape", "w"),
    "shape_overflow": (_blob({"w": _info(shape=(2**62, 2**62), offsets=(0, 0))}), "overflow", "w"),
    "shape_overflow_wraps_to_zero": (_blob({"w": _info(shape=(2**62, 4), offsets=(0, 0))}), "overflow", "w"),
    "dtype_disagrees": (_blob({"w": _info(dtype="F64")}, b"\0" * 8),
                        "invalid shape, data type, or offset: dtype F64 and shape \\[2\\] need 16 bytes", "w"),
    "shape_disagrees": (_blob({"w": _info(shape=(3,))}, b"\0" * 8), "invalid shape, data type, or offset", "w"),
    "bytes_disagree": (_blob({"w": _info(offsets=(0, 6))}, b"\0" * 6), "invalid shape, data type, or offset", "w"),
    "offsets_not_pair": (_blob({"w": _info(offsets=(0, 8, 9))}, b"\0" * 8), "invalid data_offsets", "w"),
    "offsets_negative": (_blob({"w": _info(offsets=(-8, 0))}, b"\0" * 8), "invalid data_offsets", "w"),
    "offsets_reversed": (_blob({"w": _info(offsets=(8, 0))}, b"\0" * 8), "invalid data_offsets", "w"),
    "offsets_float": (_blob({"w": _info(offsets=(0.0, 8.0))}, b"\0" * 8), "invalid data_offsets", "w"),
    "gap": (_blob({"a": _info(), "b": _info(offsets=(12, 20))}, b"\0" * 20), "gap of 4 unused bytes", "b"),
    "not_starting_at_zero": (_blob({"a": _info(offsets=(4, 12))}, b"\0" * 12), "gap of 4", "a"),
    "overlap": (_blob({"a": _info(), "b": _info(offsets=(4, 12))}, b"\0" * 12), "overlap", "b"),
    "same_range_twice": (_blob({"a": _info(), "b": _info()}, b"\0" * 8), "overlap", "b"),
    "out_of_range": (_blob({"w": _info(offsets=(0, 8))}, b"\0" * 4), "past the end of the data", "w"),
    "huge_offsets": (_blob({"w": _info(shape=(2**40,), dtype="U8", offsets=(0, 2**40))}), "past the end", "w"),
    "trailing_bytes": (_blob({"w": _info()}, b"\0" * 9), "not fully covered: 1 trailing bytes", None),
    "data_without_tensors": (_blob({}, b"\0" * 3), "not fully covered", None),
    "bool_byte_2": (_blob({"w": _info(dtype="BOOL", offsets=(0, 2))}, b"\x01\x02"), "bool tensor", "w"),
    "metadata_not_object": (_blob({"__metadata__": ["a"]}), "__metadata__ must be a JSON object", None),
    "metadata_value_not_string": (_blob({"__metadata__": {"a": 1}}), "__metadata__ must be", None),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_malformed_file_is_refused(tmp_path, case):
    blob, match, tensor = BAD_FILES[case]
    _refused(tmp_path, blob, match, tensor)


def _with_structure(structure, tensors=None):
    """A file holding ``tensors`` (name -> F32 shape (2,)) and this raw bibun.structure string."""
    tensors = ["w"] if tensors is None else tensors
    header = {name: _info(offsets=(8 * i, 8 * i + 8)) for i, name in enumerate(tensors)}
    text = structure if isinstance(structure, str) else json.dumps(structure)
    header["__metadata__"] = {"bibun.structure": text}
    return _blob(header, b"\0" * 8 * len(tensors))


def _root(node):
    return {"v": 1, "root": node}


BAD_STRUCTURES = {
    "not_json": ("{oops", "not valid JSON"),
    "nan_constant": ('{"v": 1, "root": NaN}', "not valid JSON"),
    "duplicate_key": ('{"v": 1, "v": 1, "root": null}', "duplicate key 'v'"),
    "not_object": ([1], "expected an object with fields v and root"),
    "future_version": ({"v": 2, "root": None}, "format version 2 is not supported"),
    "bool_version": ({"v": True, "root": None}, "format version True"),
    "bare_list": (_root([1, 2]), "unexpected JSON list"),
    "unknown_tag": (_root({"zz": 1}), "unrecognised node"),
    "two_tags": (_root({"l": [], "t": []}), "unrecognised node"),
    "extra_field": (_root({"l": [], "rg": True}), "unrecognised node"),
    "missing_tensor": (_root({"T": "nope"}), "reference to a tensor 'nope'"),
    "tensor_name_not_string": (_root({"T": 3}), "reference to a tensor 3"),
    "unreferenced_tensor": (_root({"d": []}), "not referenced"),
    "bad_flags": (_root({"T": "w", "rg": 1}), "must be booleans"),
    "list_not_list": (_root({"l": {"a": 1}}), "must hold a list"),
    "bad_pair": (_root({"d": [["a"]]}), "is not a \\[key, value\\] pair"),
    "bad_key": (_root({"d": [[[1], 2]]}), "a dict key must be"),
    "duplicate_dict_key": (_root({"d": [["a", 1], ["a", 2]]}), "duplicate key 'a'"),
    "bad_float": (_root({"f": "NaN!"}), "unknown float"),
    "float_tag_not_string": (_root({"f": {}}), "unknown float"),
    "key_float_tag_not_string": (_root({"d": [[{"f": {}}, 1]]}), "a dict key must be"),
    "bad_dtype": (_root({"dtype": "complex64"}), "unknown dtype"),
    "bad_device": (_root({"device": "CUDA:x"}), "invalid device"),
    "bad_size": (_root({"size": [-1]}), "non-negative integers"),
    "too_deep": (_root(json.loads('{"l": [' * (S.MAX_DEPTH + 2) + "]}" * (S.MAX_DEPTH + 2))),
                 "nested deeper than"),
}


@pytest.mark.parametrize("case", BAD_STRUCTURES)
def test_malformed_structure_metadata_is_refused(tmp_path, case):
    structure, match = BAD_STRUCTURES[case]
    tensors = ["w"] if case in ("unreferenced_tensor", "bad_flags") else []
    message = _refused(tmp_path, _with_structure(structure, tensors), match)
    assert "bibun.structure" in message


def test_int_tensor_flagged_requires_grad_is_refused(tmp_path):
    header = {"n": _info(dtype="I64", shape=(1,)),
              "__metadata__": {"bibun.structure": json.dumps(_root({"T": "n", "rg": True}))}}
    _refused(tmp_path, _blob(header, b"\0" * 8), "cannot require grad")


def test_tensor_count_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "MAX_TENSORS", 2)
    header = {n: _info(offsets=(8 * i, 8 * i + 8)) for i, n in enumerate("abc")}
    _refused(tmp_path, _blob(header, b"\0" * 24), "lists 3 tensors, more than the limit of 2")
    monkeypatch.setattr(S, "MAX_TENSORS", 3)
    p = tmp_path / "ok.safetensors"
    p.write_bytes(_blob(header, b"\0" * 24))
    assert list(bibun.load(p)) == ["a", "b", "c"]


def test_header_cap_is_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(S, "MAX_HEADER_SIZE", 16)
    blob = _saved_bytes({"w": bibun.ones(1)})
    _refused(tmp_path, blob, "header too large: the header length is \\d+ bytes, more than the limit of 16")


def test_foreign_file_without_structure_loads_as_a_flat_dict(tmp_path):
    header = {"b": _info(dtype="I32", shape=(1,), offsets=(4, 8)), "a": _info(dtype="U8", shape=(4,), offsets=(0, 4)),
              "__metadata__": {"format": "np", "note": "hi"}}
    p = tmp_path / "foreign.safetensors"
    p.write_bytes(_blob(header, bytes([1, 2, 3, 4]) + struct.pack("<i", -5)))
    out = bibun.load(p)
    assert type(out) is dict and list(out) == ["b", "a"]
    assert out["b"].tolist() == [-5] and out["a"].dtype is bibun.uint8 and out["a"].tolist() == [1, 2, 3, 4]


def test_zero_size_tensors_may_share_an_offset(tmp_path):
    header = {"e1": _info(shape=(0,), offsets=(0, 0)), "w": _info(), "e2": _info(shape=(2, 0), offsets=(8, 8))}
    p = tmp_path / "z.safetensors"
    p.write_bytes(_blob(header, b"\0" * 8))
    out = bibun.load(p)
    assert out["e1"].shape == (0,) and out["e2"].shape == (2, 0) and out["w"].tolist() == [0.0, 0.0]


def test_random_corruptions_load_or_raise_checkpoint_error():
    """Byte flips, insertions and deletions anywhere: the only possible error is CheckpointError."""
    import random
    blob = _saved_bytes(_optimizer_state())
    rng = random.Random(0)
    for _ in range(300):
        b = bytearray(blob)
        for _ in range(rng.randint(1, 3)):
            j = rng.randrange(len(b))
            op = rng.random()
            if op < 0.6:
                b[j] = rng.randrange(256)
            elif op < 0.8:
                del b[j]
            else:
                b.insert(j, rng.randrange(256))
        try:
            bibun.load(io.BytesIO(bytes(b)))
        except CheckpointError:
            pass


def test_every_truncation_of_a_checkpoint_is_refused():
    blob = _saved_bytes(_optimizer_state())
    for cut in [0, 1, 7, 8, 9, 20, len(blob) // 2, len(blob) - 1]:
        with pytest.raises(CheckpointError):
            bibun.load(io.BytesIO(blob[:cut]))


# ---------------------------------------------------------------------- interoperability with safetensors
def test_safetensors_package_reads_bibun_checkpoints(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    sd = {f"{name}_{i}": _t(_np_values(name, shape, i)) for name in NUMPY_DTYPES for i, shape in enumerate(SHAPES)}
    sd.update({f"strided_{k}": v for k, v in _strided_cases().items()})
    p = tmp_path / "bibun.safetensors"
    bibun.save(sd, p)
    got = st.load_file(str(p))
    assert set(got) == set(sd)
    for k, t in sd.items():
        assert got[k].dtype == np.dtype(t.dtype.numpy_name) and got[k].shape == tuple(t.shape), k
        np.testing.assert_array_equal(got[k], t.cpu().numpy(), err_msg=k)
    nested = _optimizer_state()
    got = st.load(_saved_bytes(nested))
    np.testing.assert_array_equal(got["state.1.exp_avg"], nested["state"][1]["exp_avg"].cpu().numpy())


def test_bibun_reads_safetensors_package_files(tmp_path):
    st = pytest.importorskip("safetensors.numpy")
    arrays = {f"{name}_{i}": _np_values(name, shape, i) for name in NUMPY_DTYPES for i, shape in enumerate(SHAPES)}
    p = tmp_path / "st.safetensors"
    st.save_file(arrays, str(p), metadata={"source": "safetensors"})
    out = bibun.load(p)
    assert set(out) == set(arrays)
    for k, a in arrays.items():
        assert out[k].dtype is bibun.dtypes.from_numpy_name(a.dtype.name) and tuple(out[k].shape) == a.shape, k
        np.testing.assert_array_equal(out[k].cpu().numpy(), a, err_msg=k)
    out = bibun.load(io.BytesIO(st.save({"x": np.arange(5, dtype=np.int64)})))
    assert out["x"].tolist() == [0, 1, 2, 3, 4]


def test_safetensors_torch_reads_bibun_checkpoint(tmp_path, torch):
    st = pytest.importorskip("safetensors.torch")
    sd = OrderedDict([("0.weight", _t(_np_values("float32", (4, 3)))), ("0.bias", _t(_np_values("float32", (4,))))])
    p = tmp_path / "m.safetensors"
    bibun.save(sd, p)
    got = st.load_file(str(p))
    model = torch.nn.Sequential(torch.nn.Linear(3, 4))
    model.load_state_dict(got)
    assert torch.equal(model[0].weight, torch.from_numpy(sd["0.weight"].cpu().numpy()))



def test_module_and_optimizer_state_dicts_roundtrip(tmp_path):
    nn = pytest.importorskip("bibun.nn")
    bibun.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    p = tmp_path / "model.safetensors"
    bibun.save(model.state_dict(), p)
    loaded = bibun.load(p, weights_only=True)
    assert list(loaded) == list(model.state_dict())
    _assert_same(loaded, model.state_dict())
    fresh = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    fresh.load_state_dict(loaded)
    for a, b in zip(fresh.parameters(), model.parameters()):
        assert bibun.equal(a, b)
    params = list(model.parameters())
    _assert_same(_roundtrip(params), params)
    assert all(isinstance(x, nn.Parameter) for x in _roundtrip(params))
