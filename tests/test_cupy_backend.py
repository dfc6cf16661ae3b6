"""The cupy backend (bibun-cupy).

The first part runs on any machine: the package registers without importing cupy, and its
pieces written against an array namespace (the namespace it gives the generic kernels, the
random generator, the scatter-add) are checked on numpy. The second part needs a GPU and
skips (not deselects) where ``bibun.cuda.is_available()`` is False; it runs the backend for
real and compares it with the cpu. ``BIBUN_BACKEND=cupy`` also runs every device-parametrized
test of the suite on the GPU.
"""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest

import bibun
import bibun.nn as nn
import bibun.nn.functional as F
from bibun.dispatch import registry

bibun_cupy = pytest.importorskip("bibun_cupy")

from bibun_cupy import _kernels, _namespace, _random  # noqa: E402


# ====================================================================== any machine
def test_the_backend_registers_without_importing_cupy():
    code = ("import sys, bibun; x = bibun.ones(2) + 1; from bibun.dispatch import registry; "
            "b = registry.backends()['cupy']; assert b.device_type == 'cuda', b; "
            "assert 'cupy' not in sys.modules, 'cupy was imported'; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_kernels_are_registered_for_the_gpu():
    assert registry.backends()["cupy"].plugin == "cupy"
    for op in ("index_add", "scatter_add", "index_put_acc", "threshold_backward"):
        assert registry.kernel_source(registry.ops()[op], "cupy") == "cupy", op


# ---------------------------------------------------------------------- the namespace the generic kernels see
def _older_numpy():
    """numpy without the array API standard's names, as some cupy releases are."""
    m = types.ModuleType("older")
    for k in dir(np):
        if not k.startswith("__") and k not in ("concat", "permute_dims", "pow", "bitwise_invert", "isdtype", "astype",
                                                 "acos", "atan2", "bitwise_left_shift", "matrix_transpose"):
            setattr(m, k, getattr(np, k))
    m.bool = bool  # numpy 1's alias of Python's bool
    return m


def test_the_namespace_fills_in_missing_standard_names():
    xp = _namespace.make_namespace(_older_numpy())
    a = np.arange(6.0).reshape(2, 3)
    assert xp.concat is np.concatenate and xp.permute_dims is np.transpose and xp.pow is np.power
    assert xp.bitwise_invert is np.invert and xp.acos is np.arccos and xp.atan2 is np.arctan2
    assert xp.isdtype(np.dtype("float32"), "real floating") and not xp.isdtype(np.dtype("int8"), "real floating")
    assert xp.matrix_transpose(a).shape == (3, 2)
    assert xp.bool is np.bool_
    assert xp.sum is np.sum and xp.float32 is np.float32  # what the module has is its own object


def test_the_namespace_takes_the_standards_keywords():
    xp = _namespace.make_namespace(np)
    a = np.arange(6.0).reshape(2, 3)
    c = xp.asarray(a, copy=True)
    c[0, 0] = 99
    assert a[0, 0] == 0 and xp.asarray(a) is a
    assert xp.asarray([1, 2], dtype=np.float32).dtype == np.float32
    assert xp.astype(a, np.float32).dtype == np.float32 and xp.astype(a, a.dtype, copy=False) is a
    assert np.allclose(xp.var(a, axis=1, correction=1), np.var(a, axis=1, ddof=1))
    assert np.allclose(xp.std(a, axis=(0, 1), correction=0, keepdims=True), np.std(a, keepdims=True))
    assert xp.lib.stride_tricks.as_strided is np.lib.stride_tricks.as_strided


# ---------------------------------------------------------------------- the random generator, on numpy
def _rng(seed=0):
    return _random.CounterRNG(np, seed)


def test_the_stream_is_pinned():
    # the same numbers on every GPU and release: these values are part of the backend's contract
    assert [int(v) for v in _rng(0)._bits(3)] == [5197578548964807871, 12035550249420947055, 12935080325729570654]
    r = _rng(0)
    assert r.rand((4,), np.dtype("float32")).tolist() == [0.2817612886428833, 0.6524484753608704, 0.7012121081352234,
                                                           0.38712412118911743]
    assert r.randn((3,), np.dtype("float64")).tolist() == [0.8869135333233714, 0.31534266377862435,
                                                           1.1619028999025705]


def test_seeds_are_deterministic_and_the_state_round_trips():
    f32 = np.dtype("float32")
    a, b = _rng(7), _rng(7)
    assert a.randn((10,), f32).tolist() == b.randn((10,), f32).tolist()
    assert _rng(8).rand((5,), f32).tolist() != _rng(7).rand((5,), f32).tolist()
    state = a.get_state()
    assert state.dtype == np.uint8 and state.shape == (16,)
    first = a.rand((3, 2), f32)
    a.set_state(state)
    assert a.rand((3, 2), f32).tolist() == first.tolist()
    assert a.initial_seed == 7
    with pytest.raises(ValueError, match="size 16 but found the input RNG state size to be 3"):
        a.set_state(np.zeros(3, np.uint8))
    a.seed(2**64 - 1)
    assert a.initial_seed == 2**64 - 1


def test_draws_have_the_right_range_dtype_and_shape():
    r = _rng(1)
    for name in ("float16", "float32", "float64"):
        u = r.rand((4000,), np.dtype(name))
        assert u.dtype == np.dtype(name) and u.min() >= 0 and u.max() < 1 and abs(float(u.mean()) - 0.5) < 0.03
        v = r.uniform((2, 500), np.dtype(name), -2.0, 3.0)
        assert v.shape == (2, 500) and v.min() >= -2 and v.max() < 3
        z = r.normal((5000,), np.dtype(name), 1.5, 2.0)
        assert abs(float(z.mean()) - 1.5) < 0.1 and abs(float(z.std()) - 2.0) < 0.1
    assert r.randn((), np.dtype("float32")).shape == ()
    assert r.randn((3,), np.dtype("float32")).shape == (3,)  # an odd count of Box-Muller values
    i = r.randint((1000,), np.dtype("int64"), -3, 4)
    assert i.dtype == np.int64 and set(i.tolist()) == set(range(-3, 4))
    assert r.randint((50,), np.dtype("uint8"), 250, 256).min() >= 250
    assert sorted(r.randperm(50, np.dtype("int64")).tolist()) == list(range(50))
    assert r.randperm(0, np.dtype("int64")).shape == (0,)
    p = r.bernoulli((10000,), np.dtype("float32"), 0.3)
    assert set(np.unique(p).tolist()) == {0.0, 1.0} and abs(float(p.mean()) - 0.3) < 0.02
    probs = np.array([0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    assert r.bernoulli((4,), np.dtype("float32"), probs).tolist() == [0.0, 1.0, 0.0, 1.0]
    e = r.exponential((5000,), np.dtype("float64"), 2.0)
    assert e.min() >= 0 and abs(float(e.mean()) - 0.5) < 0.03
    assert set(r.random((200,), np.dtype("bool")).tolist()) == {False, True}
    assert r.random((200,), np.dtype("int8")).min() >= 0
    full = r.random((4,), np.dtype("int64"), -(2**63), 2**64)
    assert full.dtype == np.int64


# ---------------------------------------------------------------------- the scatter-add, on numpy
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64",
                                   "bool"])
def test_add_at_accumulates_in_every_dtype(dtype):
    out = np.zeros(5, dtype=dtype)
    key = (np.array([0, 2, 2, 4, 2]),)
    values = np.array([1, 1, 1, 0, 1], dtype=dtype)
    if dtype == "int64":
        out[:] = [2**40, -5, 0, 0, 0]
        values = np.array([2**41, -(2**62), 3, -1, 7], dtype=dtype)
    expected = out.copy()
    np.add.at(expected, key, values)
    seen = []

    def atomic(o, k, v):  # what CUDA adds atomically
        seen.append(o.dtype.name)
        np.add.at(o, k, v)

    got = _kernels.add_at(out, key, values, raw=atomic)
    assert got is out and out.dtype == np.dtype(dtype) and out.tolist() == expected.tolist()
    assert seen[0] in ("float32", "float64", "int32", "uint32", "uint64")


# ====================================================================== on a GPU
@pytest.fixture
def gpu(monkeypatch):
    """Skips unless the cupy backend runs here; the factories' default device is the GPU during the test."""
    backend = registry.backends().get("cupy")
    if backend is None:
        pytest.skip("bibun-cupy is not installed")
    ok, why = backend.availability()  # the cupy backend's own answer: another backend may serve cuda too
    if not ok:
        pytest.skip(f"no GPU here: {why}")
    if any(b.name != "cupy" for b in registry.backends_for_device_type("cuda")):
        monkeypatch.setenv("BIBUN_BACKEND", "cupy")  # another backend serves cuda too: test this one
    return "cuda"


def _cp():
    return pytest.importorskip("cupy")


def _close(a, b, tol=1e-5):
    a = a.detach().cpu().numpy() if isinstance(a, bibun.Tensor) else a
    b = b.detach().cpu().numpy() if isinstance(b, bibun.Tensor) else b
    return np.allclose(a, b, rtol=tol, atol=tol, equal_nan=True)


def test_gpu_tensors_are_cupy_arrays_on_the_device(gpu):
    cp = _cp()
    x = bibun.randn(3, 4, device="cuda")
    assert isinstance(x._data, cp.ndarray) and x.device == bibun.device("cuda", 0) and x._backend.name == "cupy"
    assert x.cpu().tolist() == x.tolist() and x.cpu().is_cpu
    with pytest.raises(TypeError, match=r"^can't convert cuda:0 device type tensor to numpy\. Use Tensor\.cpu\(\)"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device, but found at least two "
                                           "devices, cuda:0 and cpu!"):
        x + bibun.ones(3, 4)
    assert "device='cuda:0'" in repr(x)


def test_bibun_cuda_on_a_gpu(gpu):
    assert bibun.cuda.device_count() >= 1 and bibun.cuda.current_device() == 0
    name = bibun.cuda.get_device_name()
    assert isinstance(name, str) and name
    major, minor = bibun.cuda.get_device_capability()
    assert major >= 3
    keep = bibun.ones(1 << 20, device="cuda")
    bibun.cuda.synchronize()
    assert bibun.cuda.memory_allocated() >= keep.numel() * 4 and bibun.cuda.memory_reserved() >= keep.numel() * 4
    del keep
    bibun.cuda.empty_cache()
    count = bibun.cuda.device_count()
    with pytest.raises(RuntimeError, match="CUDA error: invalid device ordinal"):
        bibun.zeros(1, device=f"cuda:{count}")


def test_a_second_gpu_is_addressed_by_index(gpu):
    if bibun.cuda.device_count() < 2:
        pytest.skip("one GPU only")
    x = bibun.ones(3, device="cuda:1")
    assert x.device == bibun.device("cuda:1") and x.to("cuda:0").device.index == 0
    assert bibun.ones(2).to("cuda:1").get_device() == 1
    with bibun.cuda.device(1):
        assert (x * 2).device.index == 1


def test_random_draws_on_the_gpu_are_deterministic(gpu):
    bibun.cuda.manual_seed(0)
    a = bibun.rand(1000, device="cuda")
    bibun.cuda.manual_seed(0)
    b = bibun.rand(1000, device="cuda")
    assert a.tolist() == b.tolist() and 0 <= a.min().item() and a.max().item() < 1
    # the same stream as the generator's numpy form: one set of numbers on every GPU
    assert _close(a, _random.CounterRNG(np, 0).rand((1000,), np.dtype("float32")), 0)
    g = bibun.Generator(device="cuda").manual_seed(3)
    assert bibun.randn(5, device="cuda", generator=g).is_cuda
    assert sorted(bibun.randperm(100, device="cuda").tolist()) == list(range(100))
    x = bibun.ones(10000, device="cuda")
    d = F.dropout(x, 0.25)
    assert d.is_cuda and abs((d == 0).float().mean().item() - 0.25) < 0.03
    w = bibun.empty(100, 100, device="cuda")
    nn.init.kaiming_uniform_(w)
    assert w.is_cuda and w.abs().max().item() <= 1 / 100**0.5 * 3**0.5 * 2**0.5 + 1e-6
    state = bibun.cuda.get_rng_state()
    c = bibun.randn(4, device="cuda")
    bibun.cuda.set_rng_state(state)
    assert bibun.randn(4, device="cuda").tolist() == c.tolist()


@pytest.mark.parametrize("dtype", [bibun.float16, bibun.float32, bibun.float64, bibun.int32, bibun.int64])
def test_scatter_adds_accumulate_repeated_indices(gpu, dtype):
    idx = [0, 2, 2, 1, 2]
    for dev in ("cpu", "cuda"):
        base = bibun.zeros(3, 2, dtype=dtype, device=dev)
        src = bibun.arange(10, device=dev).reshape(5, 2).to(dtype)
        i = bibun.tensor(idx, device=dev)
        got = (base.index_add(0, i, src), base.index_add(0, i, src, alpha=2),
               base.scatter_add(0, i.reshape(5, 1).expand(5, 2), src))
        if dev == "cpu":
            expected = got
    for e, g in zip(expected, got):
        assert g.is_cuda and g.dtype is dtype and g.tolist() == e.tolist()


def test_indexing_and_embedding_backward_accumulate(gpu):
    for dev in ("cpu", "cuda"):
        bibun.manual_seed(0)
        w = bibun.randn(5, 3, dtype=bibun.float64).to(dev).requires_grad_()
        idx = bibun.tensor([[0, 4, 4], [1, 4, 0]], device=dev)
        (F.embedding(idx, w) * 2).sum().backward()
        x = bibun.randn(6, dtype=bibun.float64).to(dev).requires_grad_()
        (x[bibun.tensor([1, 1, 5, 1], device=dev)] ** 2).sum().backward()
        y = bibun.randn(4, 3, dtype=bibun.float64).to(dev).requires_grad_()
        y.index_select(0, bibun.tensor([3, 3, 0], device=dev)).sum().backward()
        grads = [t.grad.cpu() for t in (w, x, y)]
        if dev == "cpu":
            expected = grads
    for e, g in zip(expected, grads):
        assert _close(e, g, 1e-12)


@pytest.mark.parametrize("dtype", [bibun.float16, bibun.float32, bibun.float64])
def test_relu_backward_kernel(gpu, dtype):
    vals = [-2.0, -0.0, 0.0, 1e-3, 3.0, float("nan"), float("inf"), -float("inf")]
    for dev in ("cpu", "cuda"):
        x = bibun.tensor(vals, dtype=dtype, device=dev, requires_grad=True)
        g = bibun.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, float("nan"), 8.0], dtype=dtype, device=dev)
        (gx,) = bibun.autograd.grad(F.relu(x), x, g)
        t = bibun.ops.threshold_backward(g, x, threshold=1e-3)
        if dev == "cpu":
            expected = (gx, t)
    assert _close(expected[0], gx, 0) and _close(expected[1], t, 0)
    assert gx.is_cuda and gx.dtype is dtype


def _cases():
    """(name, fn, input shapes): forward and backward compared between cpu and GPU in float64."""
    return [
        ("matmul", lambda a, b: a @ b, [(4, 5), (5, 3)]),
        ("softmax", lambda a: F.softmax(a, dim=1) * a, [(3, 7)]),
        ("log_softmax", lambda a: F.log_softmax(a, dim=0), [(6, 2)]),
        ("conv2d", lambda x, w: F.conv2d(x, w, padding=1, stride=2), [(2, 3, 7, 7), (4, 3, 3, 3)]),
        ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(1, 2, 6, 6)]),
        ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=1), [(1, 2, 5, 5)]),
        ("batch_norm", lambda x: F.batch_norm(x, None, None, training=True), [(6, 3)]),
        ("layer_norm", lambda x: F.layer_norm(x, (4,)), [(3, 4)]),
        ("cross_entropy", lambda x: F.cross_entropy(x, bibun.tensor([1, 0, 3], device=x.device)), [(3, 4)]),
        ("mse_loss", lambda a, b: F.mse_loss(a, b), [(5,), (5,)]),
        ("gelu_tanh_sigmoid", lambda a: F.gelu(a) + a.tanh() * a.sigmoid(), [(8,)]),
        ("reductions", lambda a: a.sum(0) + a.mean(1).sum() + a.max(1).values.sum() + a.var(0), [(4, 3)]),
        ("shape", lambda a: bibun.cat([a.t(), a.t() * 2], 0).reshape(-1)[::2].flip(0), [(2, 3)]),
        ("where_clamp_pow", lambda a: bibun.where(a > 0, a.clamp(max=0.5) ** 2, a.exp()), [(9,)]),
    ]


@pytest.mark.parametrize("name, fn, shapes", _cases(), ids=[c[0] for c in _cases()])
def test_ops_on_the_gpu_match_the_cpu(gpu, name, fn, shapes):
    bibun.manual_seed(0)
    host = [bibun.randn(*s, dtype=bibun.float64, device="cpu") for s in shapes]
    results = {}
    for dev in ("cpu", "cuda"):
        xs = [h.to(dev).detach().requires_grad_() for h in host]
        out = fn(*xs)
        out.sum().backward()
        results[dev] = (out.detach().cpu(), [x.grad.cpu() for x in xs])
        assert out.device.type == dev
    assert _close(results["cpu"][0], results["cuda"][0], 1e-9)
    for a, b in zip(results["cpu"][1], results["cuda"][1]):
        assert _close(a, b, 1e-9)


def test_training_on_the_gpu_matches_the_cpu(gpu, tmp_path):
    def run(dev):
        bibun.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)).to(dev)
        opt = bibun.optim.Adam(model.parameters(), lr=0.01)
        x = bibun.randn(32, 8).to(dev)
        y = bibun.randint(0, 3, (32,)).to(dev)
        for _ in range(5):
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        return model, opt, loss.item()

    cpu_model, _, cpu_loss = run("cpu")
    gpu_model, gpu_opt, gpu_loss = run("cuda")
    assert abs(cpu_loss - gpu_loss) < 1e-4
    for a, b in zip(cpu_model.parameters(), gpu_model.parameters()):
        assert b.is_cuda and _close(a, b, 1e-4)
    assert all(s["exp_avg"].is_cuda for s in gpu_opt.state.values())
    bibun.save(gpu_model.state_dict(), tmp_path / "m.safetensors")
    back = bibun.load(tmp_path / "m.safetensors", map_location="cuda")
    assert all(t.is_cuda for t in back.values())
    cpu_model.load_state_dict(bibun.load(tmp_path / "m.safetensors"))
    for a, b in zip(cpu_model.parameters(), gpu_model.parameters()):
        assert a.tolist() == b.tolist()


def test_the_namespace_on_real_cupy(gpu):
    cp = _cp()
    xp = _namespace.make_namespace(cp)
    a = cp.arange(6.0).reshape(2, 3)
    assert xp.concat([a, a], axis=0).shape == (4, 3) and xp.permute_dims(a, (1, 0)).shape == (3, 2)
    assert float(xp.pow(a, 2).sum()) == 55.0 and xp.astype(a, cp.float32).dtype == np.float32
    c = xp.asarray(a, copy=True)
    c[0, 0] = 5
    assert float(a[0, 0]) == 0
    assert np.allclose(cp.asnumpy(xp.var(a, axis=1, correction=1)), np.var(np.arange(6.0).reshape(2, 3), 1, ddof=1))
    assert xp.isdtype(a.dtype, "real floating") and xp.bitwise_invert(cp.asarray([0], dtype=cp.int8)).tolist() == [-1]
