"""The device model on any machine: device parsing, the GPU backend's availability errors, and tensors,
modules, optimizers and checkpoints moving between cpu and cuda.

The cuda side here is a stand-in: a numpy backend registered for device type ``cuda`` through an
injected entry point, so everything device-related is exercised without a GPU. The real cupy
backend's own tests are in test_cupy_backend.py (its GPU part skips where no GPU is).
"""

from __future__ import annotations

import contextlib
import io
import sys
import types

import numpy as np
import pytest

import bibun
import bibun.nn as nn
import bibun.nn.functional as F
from bibun import factories
from bibun.autograd import gradcheck, gradgradcheck
from bibun.backend import BackendUnavailable
from bibun.dispatch import registry
from bibun.plugins import manager
from bibun.plugins.hookspecs import hookimpl

MIXED = "Expected all tensors to be on the same device, but found at least two devices, {} and {}!"


def _mixed(a, b):
    return MIXED.format(a, b).replace("(", r"\(").replace(")", r"\)").replace("!", "!")


class FakeEntryPoint:
    def __init__(self, name, module):
        self.name, self.value, self._module = name, module.__name__, module
        self.dist = types.SimpleNamespace(name=f"fake-{name}", version="1.0")

    def load(self):
        return self._module


def _fake_cuda_module(calls):
    """A numpy backend serving device type ``cuda``; it records the device scopes and syncs asked of it."""
    import bibun_numpy

    class Impl(bibun_numpy.NumpyImpl):
        def device_index(self, array):
            return 0

        def device_scope(self, index):
            calls.append(("scope", index))
            return contextlib.nullcontext()

        def synchronize(self, index=None):
            calls.append(("sync", index))

    def bibun_register_backends(register):
        register.backend(name="fakecuda", device_type="cuda", load=Impl, description="numpy posing as a GPU")

    m = types.ModuleType("fake_cuda_backend")
    m.bibun_register_backends = hookimpl(bibun_register_backends)
    return m


def _reload_with(monkeypatch, backends):
    """Reload the registry with the installed entry points, the real cupy backend's replaced by ``backends``."""
    from importlib.metadata import entry_points

    def source(group):
        base = list(entry_points(group=group))
        if group != manager.BACKEND_GROUP:
            return base
        return [ep for ep in base if ep.name != "cupy"] + list(backends)

    monkeypatch.delenv("BIBUN_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("BIBUN_BACKEND", raising=False)
    monkeypatch.setattr(factories, "_device_type_seeds", {})
    monkeypatch.setitem(factories._default, "device", bibun.device("cpu"))
    manager.set_entry_points_source(source)
    manager.reset_for_tests()
    manager.ensure_loaded()


@pytest.fixture
def cuda(monkeypatch):
    """A stand-in cuda backend for the test; yields the list of the scopes and syncs it was asked for."""
    calls = []
    real = manager._entry_points_source
    _reload_with(monkeypatch, [FakeEntryPoint("fakecuda", _fake_cuda_module(calls))])
    yield calls
    manager.set_entry_points_source(real)
    manager.reset_for_tests()


@pytest.fixture
def cupy_backend(monkeypatch):
    """The real bibun-cupy backend, registered whatever is installed, with its probe's answer forgotten."""
    bibun_cupy = pytest.importorskip("bibun_cupy")
    from bibun_cupy import _probe
    real = manager._entry_points_source
    monkeypatch.setattr(_probe, "_answer", None)
    _reload_with(monkeypatch, [FakeEntryPoint("cupy", bibun_cupy)])
    yield _probe
    manager.set_entry_points_source(real)
    manager.reset_for_tests()


# ---------------------------------------------------------------------- parsing
def test_an_int_names_the_accelerator():
    assert bibun.device(0) == bibun.device("cuda:0") and bibun.device(3) == bibun.device("cuda", 3)
    with pytest.raises(RuntimeError, match="Device index must not be negative"):
        bibun.device(-1)
    with pytest.raises(TypeError):
        bibun.device(True)


# ---------------------------------------------------------------------- the GPU backend unavailable
def _fake_cupy(count=1, error=None, version="99.0"):
    """A module posing as cupy: ``getDeviceCount`` returns ``count`` or raises ``error``."""
    class CUDARuntimeError(RuntimeError):
        pass

    def get_device_count():
        if error is not None:
            raise CUDARuntimeError(error)
        return count

    runtime = types.SimpleNamespace(getDeviceCount=get_device_count, CUDARuntimeError=CUDARuntimeError)
    cupy = types.ModuleType("cupy")
    cupy.__version__ = version
    cupy.cuda = types.SimpleNamespace(runtime=runtime)
    return cupy


def test_cupy_not_installed_is_reported_with_the_install_command(cupy_backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` fails as where it is not installed
    ok, why = registry.backends()["cupy"].availability()
    assert not ok and why.startswith("cupy is not installed; install it with pip install 'bibun-cupy[cuda12]'")
    assert "'bibun-cupy[cuda13]'" in why
    with pytest.raises(BackendUnavailable, match=r"^bibun backend 'cupy' \(cuda\) is not available: cupy is not "
                                                 r"installed; .*bibun-cupy\[cuda12\]"):
        bibun.zeros(2, device="cuda")
    assert isinstance(BackendUnavailable("x"), RuntimeError)
    # the cpu keeps working, and bibun.cuda answers as PyTorch's does without CUDA
    assert (bibun.ones(2) + 1).tolist() == [2.0, 2.0]
    assert bibun.cuda.is_available() is False and bibun.cuda.device_count() == 0
    assert bibun.cuda.memory_allocated() == 0 and bibun.cuda.memory_reserved() == 0
    assert not bibun.cuda.is_initialized()
    assert "cupy is not installed" in bibun.cuda.unavailable_reason()
    bibun.cuda.manual_seed(1)  # remembered for later, no error
    bibun.cuda.manual_seed_all(1)
    bibun.cuda.empty_cache()
    for needs_a_gpu in (bibun.cuda.synchronize, bibun.cuda.current_device, bibun.cuda.get_device_name,
                        bibun.cuda.initial_seed, lambda: bibun.ones(2).cuda(), lambda: bibun.ones(2).to("cuda:0")):
        with pytest.raises(RuntimeError, match="cupy is not installed"):
            needs_a_gpu()


def test_cli_lists_the_unavailable_backend_with_its_reason(cupy_backend, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "cupy", None)
    from bibun.__main__ import main
    main(["backends"])
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("cupy"))
    assert "cuda" in line and "unavailable: cupy is not installed" in line
    assert any(line.startswith("numpy") and " available" in line for line in out.splitlines())


@pytest.mark.parametrize("fake, expected", [
    (dict(count=0), r"^no CUDA device was found; cupy 99.0 is installed"),
    (dict(error="cudaErrorNoDevice: no CUDA-capable device is detected"), r"^no CUDA device was found"),
    (dict(error="cudaErrorInsufficientDriver: CUDA driver version is insufficient for CUDA runtime version"),
     r"^the CUDA driver reported an error: cudaErrorInsufficientDriver: CUDA driver version is insufficient.*"
     r"nvidia-smi.*cupy-cuda12x"),
])
def test_no_device_and_driver_errors_say_why(cupy_backend, monkeypatch, fake, expected):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(**fake))
    ok, why = registry.backends()["cupy"].availability()
    assert not ok
    assert __import__("re").match(expected, why), why
    with pytest.raises(BackendUnavailable, match="is not available: " + expected.lstrip("^")):
        bibun.ones(1, device="cuda")
    assert not bibun.cuda.is_available() and bibun.cuda.device_count() == 0


def test_hidden_devices_are_named(cupy_backend, monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count=0))
    assert "CUDA_VISIBLE_DEVICES=''" in registry.backends()["cupy"].availability()[1]


def test_a_broken_cupy_says_so(cupy_backend, monkeypatch):
    class Broken:
        def find_spec(self, name, path=None, target=None):
            if name == "cupy":
                raise ImportError("CuPy is not correctly installed.\n\noriginal error: libcudart.so.12: cannot open "
                                  "shared object file")
            return None

    monkeypatch.delitem(sys.modules, "cupy", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Broken()] + sys.meta_path)
    ok, why = registry.backends()["cupy"].availability()
    assert not ok and why.startswith("cupy is installed but cannot be imported (ImportError: original error: "
                                     "libcudart.so.12")


def test_the_probe_answer_is_kept(cupy_backend, monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    assert not cupy_backend.probe()[0]
    monkeypatch.setitem(sys.modules, "cupy", _fake_cupy(count=1))
    assert not cupy_backend.probe()[0]  # kept: the probe runs once per process
    cupy_backend.reset()
    assert cupy_backend.probe() == (True, "cupy 99.0, 1 CUDA device")


def test_a_backend_that_fails_to_start_is_unavailable_with_the_error(monkeypatch):
    def load():
        raise OSError("cudaErrorInitializationError: initialization error")

    def bibun_register_backends(register):
        register.backend(name="brokengpu", device_type="cuda", load=load)

    m = types.ModuleType("broken_gpu")
    m.bibun_register_backends = hookimpl(bibun_register_backends)
    real = manager._entry_points_source
    _reload_with(monkeypatch, [FakeEntryPoint("brokengpu", m)])
    try:
        with pytest.raises(BackendUnavailable, match=r"'brokengpu' \(cuda\) .* failed to start: OSError: "
                                                     r"cudaErrorInitializationError"):
            bibun.zeros(1, device="cuda")
    finally:
        manager.set_entry_points_source(real)
        manager.reset_for_tests()


def test_without_any_cuda_backend_the_error_names_the_package(monkeypatch):
    real = manager._entry_points_source
    _reload_with(monkeypatch, [])
    try:
        with pytest.raises(RuntimeError, match=r"no bibun backend serves device type 'cuda' \(the GPU backend ships as "
                                               r"bibun-cupy: pip install 'bibun-cupy\[cuda12\]'"):
            bibun.zeros(1, device="cuda")
        assert not bibun.cuda.is_available() and "bibun-cupy" in bibun.cuda.unavailable_reason()
    finally:
        manager.set_entry_points_source(real)
        manager.reset_for_tests()


# ---------------------------------------------------------------------- tensors on the stand-in GPU
def test_factories_place_tensors_on_the_device(cuda):
    made = [bibun.tensor([1.0, 2.0], device="cuda"), bibun.zeros(2, device="cuda"), bibun.ones(2, device="cuda:0"),
            bibun.full((2,), 3.0, device="cuda"), bibun.empty(2, device="cuda"), bibun.arange(3, device="cuda"),
            bibun.linspace(0, 1, 3, device="cuda"), bibun.eye(2, device="cuda"), bibun.rand(2, device="cuda"),
            bibun.randn(2, device="cuda"), bibun.randint(0, 5, (2,), device="cuda"), bibun.randperm(3, device="cuda"),
            bibun.tensor(3, device=bibun.device("cuda", 0)), bibun.zeros(1, device=0)]
    base = bibun.ones(2, 2, device="cuda")
    made += [bibun.zeros_like(base), bibun.rand_like(base), base.new_zeros(3), base.new_tensor([1, 2]),
             base.new_full((1,), 2.0), base * 2]
    for t in made:
        assert t.device == bibun.device("cuda", 0) and t.is_cuda and not t.is_cpu and t.get_device() == 0
    assert repr(base.device) == "device(type='cuda', index=0)" and str(base.device) == "cuda:0"
    assert bibun.ones(1).get_device() == -1
    assert bibun.zeros_like(base, device="cpu").is_cpu


def test_a_device_index_opens_the_backend_scope(cuda):
    bibun.zeros(2, device="cuda:1")
    bibun.randn(2, device="cuda:2")
    bibun.tensor([1.0], device="cuda:3")
    bibun.ones(2).to("cuda:4")
    bibun.arange(2, device=bibun.device("cuda", 5))
    assert [c for c in cuda if c[0] == "scope"] == [("scope", i) for i in (1, 2, 3, 4, 5)]
    bibun.zeros(2, device="cuda")  # no index: where the backend puts it
    assert len([c for c in cuda if c[0] == "scope"]) == 5


def test_to_cuda_cpu_return_new_tensors_that_share_nothing(cuda):
    x = bibun.tensor([1.0, 2.0])
    y = x.to("cuda")
    assert y.is_cuda and y is not x
    x.add_(10)
    assert y.tolist() == [1.0, 2.0]  # a copy, not a view of the cpu memory
    z = y.cpu()
    y.add_(1)
    assert z.is_cpu and z.tolist() == [1.0, 2.0]
    assert y.cuda() is y and z.cpu() is z and y.to("cuda") is y and y.to("cuda:0") is y and z.to("cpu") is z
    assert z.to("cpu:0") is z
    for moved in (z.cuda(), z.cuda(0), z.to(0), z.to(bibun.device("cuda:0")), z.to(y), z.to(device="cuda"),
                  z.to("cuda", bibun.float64)):
        assert moved.is_cuda
    assert z.to("cuda", bibun.float64).dtype is bibun.float64 and z.to(y).dtype is bibun.float32
    c = y.to("cuda", copy=True)
    assert c is not y and c.tolist() == y.tolist()
    with pytest.raises(RuntimeError, match="^Invalid device, must be cuda device$"):
        z.cuda("cpu")


def test_gradients_flow_through_the_copy(cuda):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert type(y.grad_fn).__name__ == "ToCopyBackward0" and y.grad_fn.name() == "ToCopyBackward0"
    back = (y * y).cpu()
    assert type(back.grad_fn).__name__ == "ToCopyBackward0"
    back.sum().backward()
    assert x.grad.is_cpu and x.grad.tolist() == [2.0, 4.0, 6.0]
    # a cuda leaf gets its gradient on cuda
    w = bibun.ones(2, device="cuda", requires_grad=True)
    (w.cpu() * bibun.tensor([3.0, 4.0])).sum().backward()
    assert w.grad.is_cuda and w.grad.tolist() == [3.0, 4.0]
    # twice differentiable: the copy back is recorded under create_graph
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    (g,) = bibun.autograd.grad((x.cuda() ** 3).sum(), x, create_graph=True)
    assert g.is_cpu and g.tolist() == [3.0, 12.0]
    g.sum().backward()
    assert x.grad.tolist() == [6.0, 12.0]


def test_gradcheck_through_device_copies(cuda):
    x = bibun.rand(3, 2, dtype=bibun.float64, requires_grad=True)
    w = bibun.rand(2, 2, dtype=bibun.float64, device="cuda", requires_grad=True)

    def fn(x, w):
        return (x.cuda() @ w).sin().cpu() * x

    assert gradcheck(fn, (x, w)) and gradgradcheck(fn, (x, w))


def _grad_moved_by(move):
    """A custom Function whose backward puts the gradient somewhere else: ``move(grad)``."""
    class Moved(bibun.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return move(grad * 2)
    return Moved


def test_a_gradient_on_the_wrong_device_is_refused(cuda):
    to_cpu = _grad_moved_by(lambda g: g.cpu())  # forgets to put the gradient back on the input's device
    x = bibun.ones(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^Function MovedBackward returned an invalid gradient at index 0 "
                                           r"- expected device cuda:0 but got cpu$"):
        to_cpu.apply(x).sum().backward()
    assert x.grad is None  # nothing was accumulated
    y = bibun.ones(3, requires_grad=True)  # on the cpu the same Function is right
    to_cpu.apply(y).sum().backward()
    assert y.grad.tolist() == [2.0, 2.0, 2.0]


def test_a_gradient_from_another_cpu_backend_names_both_backends():
    x = bibun.ones(2, requires_grad=True)
    other = registry.backends().get("strict" if x._backend.name == "numpy" else "numpy")
    if other is None or not other.availability()[0]:
        pytest.skip("needs the numpy and strict backends both")
    to_other = _grad_moved_by(lambda g: bibun.Tensor._make(other.from_numpy(g.numpy().copy()), other))
    with pytest.raises(RuntimeError, match=rf"- expected device cpu \(backend {x._backend.name}\) but got cpu "
                                           rf"\(backend {other.name}\)$"):
        to_other.apply(x).sum().backward()


def test_numpy_of_a_cuda_tensor_is_refused_with_pytorchs_message(cuda):
    t = bibun.tensor([1.5, 2.5], device="cuda")
    msg = ("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host memory "
           "first.")
    with pytest.raises(TypeError, match="^" + msg.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.") + "$"):
        t.numpy()
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        t.requires_grad_().numpy()  # the device is named first, as in PyTorch
    with pytest.raises(TypeError, match="can't convert cuda:0"):
        np.asarray(t.detach())
    assert t.numpy(force=True).tolist() == [1.5, 2.5] and t.cpu().detach().numpy().tolist() == [1.5, 2.5]
    assert t.tolist() == [1.5, 2.5] and t[0].item() == 1.5 and float(t.detach()[1]) == 2.5
    assert "device='cuda:0'" in repr(t)


def _ops_mixing(a, b, idx_cpu, idx_cuda):
    """(name, call) for ops given one tensor on cuda and one on the cpu; every one must refuse."""
    img_cuda = bibun.ones(1, 1, 4, 4, device="cuda")
    kernel_cpu = bibun.ones(1, 1, 3, 3)
    return [
        ("add", lambda: b + a), ("mul", lambda: b * a), ("sub", lambda: b - a), ("div", lambda: b / a),
        ("maximum", lambda: bibun.maximum(b, a)), ("where", lambda: bibun.where(b > 0, b, a)),
        ("matmul", lambda: bibun.matmul(b, a)), ("mm", lambda: bibun.mm(b.reshape(1, 3), a.reshape(3, 1))),
        ("cat", lambda: bibun.cat([b, a])), ("stack", lambda: bibun.stack([b, a])),
        ("mse_loss", lambda: F.mse_loss(b, a)), ("l1_loss", lambda: F.l1_loss(b, a)),
        ("cross_entropy", lambda: F.cross_entropy(b.reshape(1, 3), idx_cpu[:1])),
        ("nll_loss", lambda: F.nll_loss(b.reshape(1, 3), idx_cpu[:1])),
        ("binary_cross_entropy", lambda: F.binary_cross_entropy(b.sigmoid(), a.sigmoid())),
        ("conv2d", lambda: F.conv2d(img_cuda, kernel_cpu)),
        ("linear", lambda: F.linear(b.reshape(1, 3), a.reshape(1, 3))),
        ("gather", lambda: b.gather(0, idx_cpu)), ("index_select", lambda: b.index_select(0, idx_cpu)),
        ("scatter_add", lambda: b.scatter_add(0, idx_cpu, a)), ("index_add", lambda: b.index_add(0, idx_cpu, a)),
        ("embedding", lambda: F.embedding(idx_cpu, b.reshape(3, 1))),
        ("add_", lambda: b.detach().add_(a)), ("mul_", lambda: b.detach().mul_(a)),
        ("masked_fill", lambda: b.masked_fill(a > 0, 0.0)),
    ]


def test_mixing_devices_raises_before_any_kernel_runs(cuda):
    a = bibun.tensor([1.0, 2.0, 3.0])
    b = bibun.tensor([0.5, 0.25, 0.125], device="cuda")
    idx_cpu = bibun.tensor([0, 2, 1])
    failures = []
    for name, call in _ops_mixing(a, b, idx_cpu, idx_cpu.cuda()):
        try:
            call()
        except RuntimeError as exc:
            text = str(exc)
            if not text.startswith((MIXED.format("cuda:0", "cpu"), MIXED.format("cpu", "cuda:0"))):
                failures.append(f"{name}: {text}")
        else:
            failures.append(f"{name}: no error")
    assert not failures, "\n".join(failures)
    with pytest.raises(RuntimeError, match=_mixed("cuda:0", "cpu")):
        b + a
    before = b.tolist()
    with pytest.raises(RuntimeError, match=_mixed("cuda:0", "cpu")):
        b.add_(a)
    assert b.tolist() == before


def test_indexing_with_an_index_on_another_device(cuda):
    b = bibun.tensor([1.0, 2.0, 3.0], device="cuda")
    with pytest.raises(RuntimeError, match=r"indices should be either on cpu or on the same device as the indexed "
                                           r"tensor \(cuda:0\)"):
        b[bibun.tensor([0, 1])]
    assert b[bibun.tensor([0, 2], device="cuda")].tolist() == [1.0, 3.0]
    assert b[[0, 2]].is_cuda  # python lists become indices on the tensor's device


def test_copy_across_devices_is_allowed_and_differentiable(cuda):
    dst = bibun.zeros(3, device="cuda")
    src = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    out = dst.clone().copy_(src)
    assert out.is_cuda and out.tolist() == [1.0, 2.0, 3.0]
    out.sum().backward()
    assert src.grad.is_cpu and src.grad.tolist() == [1.0, 1.0, 1.0]


def test_a_python_scalar_takes_the_tensors_device(cuda):
    b = bibun.ones(2, device="cuda")
    for r in (b * 2, 2 * b, b + 1.5, b ** 2, bibun.where(b > 0, b, 0.0), b.clamp(0, 1)):
        assert r.is_cuda


# ---------------------------------------------------------------------- default device
def test_set_default_device(cuda):
    bibun.set_default_device("cuda")
    assert bibun.get_default_device() == bibun.device("cuda")
    assert bibun.zeros(2).is_cuda and bibun.tensor([1.0]).is_cuda and bibun.randn(2).is_cuda
    assert bibun.arange(3).is_cuda and bibun.zeros(1, device="cpu").is_cpu
    assert nn.Linear(2, 2).weight.is_cuda  # layers made after it
    bibun.set_default_device(None)
    assert bibun.zeros(2).is_cpu and bibun.get_default_device() == bibun.device("cpu")


def test_device_as_a_context_manager(cuda):
    with bibun.device("cuda") as d:
        assert d == bibun.device("cuda") and bibun.zeros(2).is_cuda and nn.Linear(2, 2).weight.is_cuda
        with bibun.device("cpu"):
            assert bibun.zeros(1).is_cpu
        assert bibun.ones(1).is_cuda  # the inner block put the outer default back
    assert bibun.zeros(2).is_cpu and bibun.get_default_device() == bibun.device("cpu")
    with pytest.raises(KeyError), bibun.device("cuda:0"):
        {}["missing"]
    assert bibun.get_default_device() == bibun.device("cpu")  # restored when the block raised too


def test_bibun_device_is_read_on_first_use(cuda, monkeypatch):
    monkeypatch.setenv("BIBUN_DEVICE", "cuda:0")
    factories._default["device"] = None  # as in a new process
    assert bibun.ones(1).device == bibun.device("cuda:0")
    monkeypatch.setenv("BIBUN_DEVICE", "cpu")  # read once: later changes are not seen
    assert bibun.ones(1).is_cuda
    factories._default["device"] = None
    monkeypatch.setenv("BIBUN_DEVICE", "cuda:x")
    with pytest.raises(RuntimeError, match="Invalid device string: 'cuda:x'"):
        bibun.ones(1)


def test_bibun_backend_picks_among_backends_of_one_device_type(cuda, monkeypatch):
    monkeypatch.setenv("BIBUN_BACKEND", "fakecuda")
    assert bibun.ones(1, device="cuda")._backend.name == "fakecuda"
    assert bibun.ones(1)._backend.name == "numpy"  # a name that serves another device type changes nothing there
    monkeypatch.setenv("BIBUN_BACKEND", "nosuchbackend")
    assert bibun.ones(1)._backend.name == "numpy"


# ---------------------------------------------------------------------- bibun.cuda on the stand-in
def test_bibun_cuda_functions(cuda):
    assert bibun.cuda.is_available() and bibun.cuda.unavailable_reason() is None
    assert bibun.cuda.device_count() == 1 and bibun.cuda.current_device() == 0
    assert bibun.cuda.is_initialized()  # answering device_count started it
    bibun.cuda.synchronize()
    bibun.cuda.synchronize("cuda:0")
    bibun.cuda.synchronize(0)
    assert ("sync", None) in cuda and ("sync", 0) in cuda
    with pytest.raises(ValueError, match="Expected a cuda device, but got: cpu"):
        bibun.cuda.synchronize("cpu")
    with bibun.cuda.device(0):
        assert bibun.cuda.current_device() == 0
    assert isinstance(bibun.cuda.get_device_name(), str) and bibun.cuda.get_device_capability() == (0, 0)
    assert bibun.cuda.memory_allocated() == 0 and bibun.cuda.memory_reserved() == 0
    bibun.cuda.empty_cache()


def test_cuda_seeding_is_its_own_stream(cuda):
    bibun.cuda.manual_seed(5)
    a = bibun.rand(4, device="cuda")
    bibun.cuda.manual_seed_all(5)
    b = bibun.rand(4, device="cuda")
    assert a.tolist() == b.tolist() and bibun.cuda.initial_seed() == 5
    bibun.manual_seed(0)
    c1 = bibun.rand(3)
    bibun.manual_seed(0)
    bibun.cuda.manual_seed(123)  # the cpu stream is not touched
    assert bibun.rand(3).tolist() == c1.tolist()
    state = bibun.cuda.get_rng_state()
    assert state.dtype is bibun.uint8 and state.is_cpu
    d1 = bibun.randn(5, device="cuda")
    bibun.cuda.set_rng_state(state)
    assert bibun.randn(5, device="cuda").tolist() == d1.tolist()
    with pytest.raises(TypeError, match="ByteTensor"):
        bibun.cuda.set_rng_state(bibun.zeros(3))
    bibun.manual_seed(7)  # seeds every device again
    e1 = bibun.rand(2, device="cuda")
    bibun.manual_seed(7)
    assert bibun.rand(2, device="cuda").tolist() == e1.tolist()


def test_a_seed_given_before_the_gpu_starts_is_kept(monkeypatch):
    real = manager._entry_points_source
    calls = []
    _reload_with(monkeypatch, [FakeEntryPoint("fakecuda", _fake_cuda_module(calls))])
    try:
        bibun.cuda.manual_seed(42)  # nothing started yet
        first = bibun.rand(3, device="cuda").tolist()
        bibun.cuda.manual_seed(42)
        assert bibun.rand(3, device="cuda").tolist() == first
    finally:
        manager.set_entry_points_source(real)
        manager.reset_for_tests()


def test_generators_belong_to_a_device(cuda):
    g = bibun.Generator(device="cuda").manual_seed(3)
    a = bibun.rand(3, device="cuda", generator=g)
    g.manual_seed(3)
    assert bibun.rand(3, device="cuda", generator=g).tolist() == a.tolist()
    with pytest.raises(RuntimeError, match="Expected a 'cpu' device type for generator but found 'cuda'"):
        bibun.rand(3, generator=g)


# ---------------------------------------------------------------------- modules, optimizers, checkpoints
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.out = nn.Linear(4, 2)

    def forward(self, x):
        return self.out(F.relu(self.bn(self.fc(x))))


def test_module_to_moves_parameters_in_place(cuda):
    bibun.manual_seed(0)
    net = _Net()
    params = list(net.parameters())
    x = bibun.randn(5, 3)
    net(x).sum().backward()
    expected = net(x).detach()
    assert net.cuda() is net
    assert [p is q for p, q in zip(params, net.parameters())] == [True] * len(params)  # the same Parameter objects
    for p in net.parameters():
        assert p.is_cuda and p.grad.is_cuda and isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf
    for b in net.buffers():
        assert b.is_cuda
    y = net(x.cuda())
    assert y.is_cuda and np.allclose(y.detach().cpu().numpy(), expected.numpy())
    with pytest.raises(RuntimeError, match=_mixed("cuda:0", "cpu")):
        net(x)
    net.to("cpu")
    assert all(p.is_cpu for p in net.parameters()) and all(b.is_cpu for b in net.buffers())
    net.to("cuda", bibun.float64)
    assert all(p.is_cuda and p.dtype is bibun.float64 for p in net.parameters())
    assert net.bn.num_batches_tracked.dtype is bibun.int64 and net.bn.num_batches_tracked.is_cuda
    net.to(bibun.ones(1))  # like a tensor: cpu, float32
    assert all(p.is_cpu and p.dtype is bibun.float32 for p in net.parameters())


def test_optimizer_state_follows_its_parameters(cuda, tmp_path):
    bibun.manual_seed(0)
    net = _Net().cuda()
    opt = bibun.optim.Adam(net.parameters(), lr=0.01)
    sgd = bibun.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = bibun.randn(6, 3, device="cuda")
    for o in (opt, sgd):
        o.zero_grad()
        net(x).pow(2).mean().backward()
        o.step()
    for p in net.parameters():
        s = opt.state[p]
        assert s["exp_avg"].is_cuda and s["exp_avg_sq"].is_cuda and s["step"].is_cpu
        assert sgd.state[p]["momentum_buffer"].is_cuda
    bibun.save({"model": net.state_dict(), "opt": opt.state_dict()}, tmp_path / "ck.safetensors")

    # a cpu copy of the run loads the checkpoint: state on the cpu
    ck = bibun.load(tmp_path / "ck.safetensors")
    cpu_net = _Net()
    cpu_net.load_state_dict(ck["model"])
    cpu_opt = bibun.optim.Adam(cpu_net.parameters(), lr=0.01)
    cpu_opt.load_state_dict(ck["opt"])
    for p in cpu_net.parameters():
        assert p.is_cpu and cpu_opt.state[p]["exp_avg"].is_cpu
    # and a cuda one, from a checkpoint read onto the cpu: the state moves to the parameters' device
    ck = bibun.load(tmp_path / "ck.safetensors")  # read again: loading shares the dict's tensors, as in PyTorch
    gpu_net = _Net().cuda()
    gpu_net.load_state_dict(ck["model"])
    gpu_opt = bibun.optim.Adam(gpu_net.parameters(), lr=0.01)
    gpu_opt.load_state_dict(ck["opt"])
    for p in gpu_net.parameters():
        assert p.is_cuda and gpu_opt.state[p]["exp_avg"].is_cuda and gpu_opt.state[p]["step"].is_cpu
    # both continue the run identically
    for n, o in ((cpu_net, cpu_opt), (gpu_net, gpu_opt)):
        o.zero_grad()
        n(x.to(next(n.parameters()).device)).pow(2).mean().backward()
        o.step()
    for a, b in zip(cpu_net.parameters(), gpu_net.parameters()):
        assert np.allclose(a.detach().numpy(), b.detach().cpu().numpy(), atol=1e-6)


def test_checkpoints_saved_on_cuda_load_on_cpu_and_back(cuda, tmp_path):
    bibun.manual_seed(0)
    net = _Net().cuda()
    path = tmp_path / "m.safetensors"
    bibun.save(net.state_dict(), path)
    on_cpu = bibun.load(path)
    assert all(t.is_cpu for t in on_cpu.values())
    on_gpu = bibun.load(path, map_location="cuda")
    assert all(t.is_cuda for t in on_gpu.values())
    on_gpu0 = bibun.load(path, map_location=bibun.device("cuda", 0))
    for k, v in net.state_dict().items():
        assert on_cpu[k].tolist() == v.tolist() == on_gpu[k].tolist() == on_gpu0[k].tolist()
    # a cuda module loads a cpu state dict: its parameters stay on cuda
    fresh = _Net().cuda()
    fresh.load_state_dict(on_cpu)
    assert all(p.is_cuda for p in fresh.parameters())
    buf = io.BytesIO()
    bibun.save({"w": bibun.ones(2, device="cuda")}, buf)
    buf.seek(0)
    assert bibun.load(buf, map_location="cuda")["w"].is_cuda
