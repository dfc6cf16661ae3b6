"""Two GPUs of one backend, on any machine: a stand-in backend with two pretend devices.

Tensors on ``cuda:0`` and ``cuda:1`` share one backend, so only their device indices tell them
apart. The stand-in behaves as cupy does where it matters here: a new array lands on the
*current* device, whatever device its inputs are on. So a kernel run without bibun's device
guard puts its result on the wrong GPU, and these tests see it.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_devices import FakeEntryPoint, _reload_with

import bibun
import bibun.nn as nn
from bibun import factories
from bibun.plugins import manager

_current = [0]  # the pretend current device


class OnDevice(np.ndarray):
    """A numpy array tagged with the pretend GPU it was made on: always the current one, as in cupy."""

    def __array_finalize__(self, obj):
        self.device_id = _current[0]


def _tagged(out):
    if isinstance(out, np.ndarray) and not isinstance(out, OnDevice):
        return out.view(OnDevice)
    if isinstance(out, (tuple, list)):
        return type(out)(_tagged(o) for o in out)
    return out


class _Namespace:
    """numpy, whose functions return arrays made on the current device (ufuncs keep their methods)."""

    def __getattr__(self, name):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, (type, np.ufunc)):
            def made_here(*args, _f=value, **kwargs):
                return _tagged(_f(*args, **kwargs))
            value = made_here
        setattr(self, name, value)
        return value


class _TaggingRNG:
    """The numpy backend's generator, whose draws are made on the current device."""

    DRAWS = frozenset({"rand", "uniform", "randn", "normal", "exponential", "bernoulli", "randint", "random",
                       "randperm"})

    def __init__(self, rng):
        self._rng = rng

    def __getattr__(self, name):
        value = getattr(self._rng, name)
        if name in self.DRAWS:
            return lambda *args, **kwargs: _tagged(value(*args, **kwargs))
        return value


class _Scope:
    def __init__(self, index):
        self.index = index

    def __enter__(self):
        self.outer, _current[0] = _current[0], self.index

    def __exit__(self, *exc):
        _current[0] = self.outer


def _two_gpu_module():
    import types

    import bibun_numpy
    from bibun.plugins.hookspecs import hookimpl

    class Impl(bibun_numpy.NumpyImpl):
        array_type = OnDevice
        xp = _Namespace()

        def __init__(self):
            super().__init__()
            self.default_generator = _TaggingRNG(self.default_generator)

        def new_generator(self):
            return _TaggingRNG(super().new_generator())

        def asarray(self, data, dtype=None):
            return np.asarray(data, dtype=dtype).view(OnDevice)

        def from_numpy(self, array):
            return np.array(array).view(OnDevice)  # a copy made on the current device

        def to_numpy(self, array):
            return np.asarray(array).view(np.ndarray)

        def copy(self, array):
            with _Scope(array.device_id):  # as cupy's copy: on the array's own device
                return np.array(array).view(OnDevice)

        def device_index(self, array):
            return array.device_id

        def device_count(self):
            return 2

        def current_device(self):
            return _current[0]

        def set_device(self, index):
            _current[0] = index

        def device_scope(self, index):
            if not 0 <= index < 2:
                raise RuntimeError(f"CUDA error: invalid device ordinal (cuda:{index} was asked for)")
            return _Scope(index)

    def bibun_register_backends(register):
        register.backend(name="twogpus", device_type="cuda", load=Impl, description="numpy posing as two GPUs")

    module = types.ModuleType("two_gpu_backend")
    module.bibun_register_backends = hookimpl(bibun_register_backends)
    return module


@pytest.fixture
def gpus(monkeypatch):
    real = manager._entry_points_source
    _current[0] = 0
    _reload_with(monkeypatch, [FakeEntryPoint("twogpus", _two_gpu_module())])
    monkeypatch.setattr(factories, "_seeded_backends", type(factories._seeded_backends)())
    yield
    manager.set_entry_points_source(real)
    manager.reset_for_tests()


def test_tensors_are_made_on_the_device_asked_for(gpus):
    assert bibun.cuda.device_count() == 2
    a, b = bibun.ones(2, device="cuda:0"), bibun.ones(2, device="cuda:1")
    assert a.device == bibun.device("cuda:0") and b.device == bibun.device("cuda:1")
    assert bibun.cuda.current_device() == 0  # placing b did not change the current device
    assert a.to("cuda:1").device.index == 1 and b.to("cuda:0").get_device() == 0 and b.cpu().is_cpu


def test_mixing_two_gpus_raises_pytorchs_error(gpus):
    a, b = bibun.ones(2, device="cuda:0"), bibun.ones(2, device="cuda:1")
    message = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cuda:1!"
    for call in (lambda: a + b, lambda: a.mul(b), lambda: bibun.where(a > 0, a, b), lambda: bibun.stack([a, b]),
                 lambda: a.add_(b)):
        with pytest.raises(RuntimeError, match=re.escape(message)):
            call()
    with pytest.raises(RuntimeError, match=re.escape(message)):
        a[0] = b[1]
    assert a.tolist() == [1.0, 1.0]  # the failed in-place add and setitem wrote nothing
    with pytest.raises(RuntimeError, match="cuda:1 and cuda:0!"):
        b * a


def test_ops_run_on_their_inputs_device_not_the_current_one(gpus):
    x = bibun.arange(6.0, device="cuda:1").reshape(2, 3)
    results = [x * 2, x + x, x.exp(), x.sum(), x.T, x[0], x @ x.T, x.softmax(-1), bibun.cat([x, x]), -x]
    for r in results:
        assert r.device == bibun.device("cuda:1"), r
    assert (x @ x.T).tolist() == [[5.0, 14.0], [14.0, 50.0]]
    x.mul_(3)
    assert x.device.index == 1 and x.tolist() == [[0.0, 3.0, 6.0], [9.0, 12.0, 15.0]]


def test_training_on_the_second_gpu(gpus):
    bibun.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)).to("cuda:1")
    opt = bibun.optim.Adam(model.parameters(), lr=0.1)
    x, y = bibun.randn(8, 3, device="cuda:1"), bibun.randn(8, 1, device="cuda:1")
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for p in model.parameters():
        assert p.device.index == 1 and p.grad.device.index == 1
        assert all(v.device.index == 1 for v in opt.state[p].values() if isinstance(v, bibun.Tensor) and v.dim())
    with pytest.raises(RuntimeError, match="found at least two devices, cuda:[01] and cuda:[01]!"):
        model(bibun.randn(8, 3, device="cuda:0"))


def test_gradients_flow_between_gpus(gpus):
    a = bibun.tensor([1.0, 2.0], device="cuda:0", requires_grad=True)
    b = a.to("cuda:1") * 3
    assert b.device.index == 1
    b.sum().backward()
    assert a.grad.device.index == 0 and a.grad.tolist() == [3.0, 3.0]


def test_checkpoints_load_onto_the_gpu_named(gpus, tmp_path):
    path = tmp_path / "w.safetensors"
    bibun.save({"w": bibun.arange(4.0, device="cuda:0")}, path)
    for where, index in (("cuda:1", 1), (bibun.device("cuda", 1), 1), ("cuda:0", 0)):
        w = bibun.load(path, map_location=where)["w"]
        assert w.device.index == index and w.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert bibun.load(path)["w"].is_cpu
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        bibun.load(path, map_location="cuda:2")


def test_module_to_the_second_gpu_and_back(gpus):
    m = nn.Linear(2, 2)
    w = m.weight
    m.to("cuda:1")
    assert m.weight is w and w.device.index == 1
    out = m(bibun.ones(1, 2, device="cuda:1"))
    assert out.device.index == 1
    m.to("cuda:0")
    assert w.device.index == 0 and m(bibun.ones(1, 2, device="cuda:0")).device.index == 0
