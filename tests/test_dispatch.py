"""The dispatcher and registry: kernels per backend, generic fallback, conflicts, devices, lazy loading."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

import bibun
from bibun.dispatch import OpDef, registry
from bibun.dispatch.registry import RegistrationError
from bibun.plugins import manager
from bibun.plugins.hookspecs import hookimpl


class FakeEntryPoint:
    """An entry point whose ``load()`` returns a module object made in the test."""

    def __init__(self, name, module, dist="fake-dist", version="1.0"):
        self.name, self.value, self._module = name, getattr(module, "__name__", name), module
        self.dist = types.SimpleNamespace(name=dist, version=version)

    def load(self):
        if isinstance(self._module, Exception):
            raise self._module
        return self._module


def _module(name, **hooks):
    m = types.ModuleType(name)
    for k, fn in hooks.items():
        setattr(m, k, hookimpl(fn))
    return m


@pytest.fixture
def plugins(monkeypatch):
    """Reload the registry with extra fake plugins: ``plugins(backends=[...], extra=[...])``.

    Autoloading is switched on for these tests whatever the environment says (the tox env that
    turns it off runs them too); a test about it switches it off itself.
    """
    real = manager._entry_points_source
    monkeypatch.delenv("BIBUN_DISABLE_PLUGIN_AUTOLOAD", raising=False)

    def load(backends=(), extra=()):
        def source(group):
            from importlib.metadata import entry_points
            base = list(entry_points(group=group))
            return base + list(backends if group == manager.BACKEND_GROUP else extra)
        manager.set_entry_points_source(source)
        manager.reset_for_tests()
        manager.ensure_loaded()

    yield load
    manager.set_entry_points_source(real)
    manager.reset_for_tests()


def _numpy_backend_module(name, device_type, device_index=None):
    import bibun_numpy

    class Impl(bibun_numpy.NumpyImpl):
        def device_index(self, array):
            return device_index

    def bibun_register_backends(register):
        register.backend(name=name, device_type=device_type, load=Impl)

    return _module(f"fake_{name}", bibun_register_backends=bibun_register_backends)


# ---------------------------------------------------------------------- kernels and lookup
def test_generic_kernel_is_used_and_cached(device):
    x = bibun.tensor([1.0, 2.0])
    op = registry.ops()["sqrt"]
    op.cache.clear()
    x.sqrt()
    assert "sqrt" in registry.ops() and op.cache  # resolved once, then looked up
    assert registry.kernel_source(op, "numpy") == "generic"


def test_backend_kernel_takes_precedence():
    assert registry.kernel_source(registry.ops()["mul"], "numpy") == "numpy"


def test_op_defined_once_with_one_formula_for_all_backends():
    from bibun.ops import builtin
    ops = registry.ops()
    for op in builtin.all_ops():  # installed plugins may add their own
        assert ops[op.name] is op and registry.op_owner(op.name) == "bibun.ops.builtin"
        assert op.generic is not None or op.composite is not None, op.name


def test_plugin_op_and_backend_kernel_and_composite(plugins):
    cube = OpDef("test::cube", type_rule="float", save=("self",), node_name="CubeBackward0")

    @cube.impl
    def _(xp, a):
        return a * a * a

    @cube.backward
    def _(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * 3 * a * a

    twice = OpDef("test::twice")

    @twice.decompose
    def _(a):
        return a + a

    calls = []

    def fast_cube(a):
        calls.append(a.shape)
        return a ** 3

    mod = _module("cube_plugin", bibun_register_ops=lambda register: [register.op(cube), register.op(twice)],
                  bibun_register_kernels=lambda register: register.kernel("test::cube", "numpy", fast_cube))
    plugins(extra=[FakeEntryPoint("cube", mod)])
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = cube(x)
    assert y.tolist() == [1.0, 8.0] and calls == [(2,)]
    assert type(y.grad_fn).__name__ == "CubeBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    z = twice(x)
    assert z.tolist() == [2.0, 4.0] and type(z.grad_fn).__name__ == "AddBackward0"
    rec = {r.name: r for r in manager.records()}["cube"]
    assert rec.status == "loaded" and rec.dist == "fake-dist"
    assert rec.registered == {"backends": [], "ops": ["test::cube", "test::twice"],
                              "kernels": {"numpy": ["test::cube"]}, "overrides": {}, "losses": [], "optimizers": [],
                              "methods": [], "functions": []}


def test_missing_kernel_names_the_backends_that_have_one(plugins):
    only_fake = OpDef("test::only_fake")
    mod = _module("p", bibun_register_ops=lambda register: register.op(only_fake),
                  bibun_register_kernels=lambda register: register.kernel("test::only_fake", "fakecpu", np.negative))
    plugins(backends=[FakeEntryPoint("fakecpu", _numpy_backend_module("fakecpu", "cpu"))],
            extra=[FakeEntryPoint("p", mod)])
    with pytest.raises(NotImplementedError, match="op 'test::only_fake' has no kernel for backend 'numpy'.*fakecpu"):
        only_fake(bibun.tensor([1.0]))


def test_duplicate_kernel_refused_and_override_warns(plugins):
    dup = _module("dup", bibun_register_kernels=lambda register: register.kernel("mul", "numpy", np.multiply))
    with pytest.warns(RuntimeWarning, match=r"bibun plugin 'dup' \(fake-dist 1.0\) failed to load.*kernel for op 'mul' "
                                            r"on backend 'numpy'.*pass override=True"):
        plugins(extra=[FakeEntryPoint("dup", dup)])
    assert {r.name: r.status for r in manager.records()}["dup"] == "failed"
    assert (bibun.ones(2) * 3).tolist() == [3.0, 3.0]  # the rest of bibun still works

    seen = []

    def noisy_mul(a, b):
        seen.append(1)
        return np.multiply(a, b)

    over = _module("over", bibun_register_kernels=lambda register: register.kernel("mul", "numpy", noisy_mul,
                                                                                     override=True))
    with pytest.warns(UserWarning, match="Overriding a previously registered kernel for op 'mul' on backend 'numpy'"):
        plugins(extra=[FakeEntryPoint("over", over)])
    assert (bibun.ones(2) * 3).tolist() == [3.0, 3.0] and seen == [1]


def test_two_plugins_defining_one_op_is_an_error_naming_both(plugins):
    def define(register):
        register.op(OpDef("test::same"))
    a = _module("a", bibun_register_ops=define)
    b = _module("b", bibun_register_ops=define)
    with pytest.warns(RuntimeWarning, match=r"op 'test::same' is defined by both plugin 'a' \(fake-dist 1.0\) and "
                                            r"plugin 'b' \(other-dist 1.0\)"):
        plugins(extra=[FakeEntryPoint("a", a), FakeEntryPoint("b", b, dist="other-dist")])


def test_a_hook_that_raises_registers_nothing(plugins):
    def half_then_fail(register):
        register.op(OpDef("test::half"))
        raise ValueError("boom")
    bad = _module("bad", bibun_register_ops=half_then_fail)
    broken = FakeEntryPoint("broken", ImportError("no module named nothing"))
    with pytest.warns(RuntimeWarning) as caught:
        plugins(extra=[FakeEntryPoint("bad", bad), broken])
    messages = " ".join(str(w.message) for w in caught)
    assert "ValueError: boom" in messages and "ImportError: no module named nothing" in messages
    assert "test::half" not in registry.ops()
    assert bibun.tensor([1.0, 2.0]).sum().item() == 3.0


def test_autoload_off_skips_plugins_but_keeps_backends(plugins, monkeypatch):
    monkeypatch.setenv("BIBUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    mod = _module("never", bibun_register_ops=lambda register: register.op(OpDef("test::never")))
    plugins(extra=[FakeEntryPoint("never", mod)])
    assert {r.name: r.status for r in manager.records()}["never"] == "blocked"  # listed, never imported
    assert "test::never" not in registry.ops()
    assert "numpy" in registry.backends()


# ---------------------------------------------------------------------- devices
def test_mixing_devices_raises_pytorch_message_before_any_kernel(plugins):
    plugins(backends=[FakeEntryPoint("fakecuda", _numpy_backend_module("fakecuda", "cuda", 0))])
    a = bibun.ones(3)
    b = bibun.ones(3, device="cuda")
    assert str(b.device) == "cuda:0" and repr(b.device) == "device(type='cuda', index=0)"
    msg = "Expected all tensors to be on the same device, but found at least two devices, cpu and cuda:0!"
    for fn in (lambda: a + b, lambda: a * b, lambda: bibun.matmul(a, b), lambda: bibun.cat([a, b]),
               lambda: bibun.where(a > 0, a, b)):
        with pytest.raises(RuntimeError, match=msg.replace("(", r"\(").replace(")", r"\)")):
            fn()
    # a python scalar adopts the tensor's device
    assert (b * 2).device == bibun.device("cuda:0")
    # moving is explicit and differentiable
    x = bibun.ones(3, requires_grad=True)
    y = x.to("cuda")
    assert y.device.type == "cuda" and y.grad_fn is not None
    (y * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0] and x.grad.device.type == "cpu"


def test_unknown_device_type_is_a_clear_error(plugins, monkeypatch):
    monkeypatch.setenv("BIBUN_DISABLED_PLUGINS", "cupy")  # nothing serves cuda, whatever is installed here
    plugins()
    with pytest.raises(RuntimeError, match="no bibun backend serves device type 'cuda'.*bibun-cupy"):
        bibun.ones(2, device="cuda")
    with pytest.raises(RuntimeError, match="Invalid device string"):
        bibun.device("cuda:x")


# ---------------------------------------------------------------------- laziness
def _fresh(code, **env):
    import os
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env=full_env).stdout.strip()


def test_import_bibun_imports_no_plugin_no_numpy_no_pluggy():
    out = _fresh("import sys, bibun; print([m for m in ('bibun_numpy', 'pluggy', 'numpy', 'importlib.metadata') "
                 "if m in sys.modules])")
    assert out == "[]"
    out = _fresh("import sys, bibun; bibun.ones(1); print('bibun_numpy' in sys.modules)")
    assert out == "True"


def test_cli_lists_backends_ops_and_plugins():
    out = _fresh("from bibun.__main__ import main; main(['ops'])")
    assert "mm " in out and "MmBackward0" in out and "generic" in out
    assert "mul " in out and " numpy" in out
    out = _fresh("from bibun.__main__ import main; main(['backends'])")
    assert any(line.startswith("numpy ") and " cpu " in line and " available " in line for line in out.splitlines())
    out = _fresh("from bibun.__main__ import main; main(['plugins', '--json'])")
    import json
    recs = {r["name"]: r for r in json.loads(out)}
    assert recs["numpy"]["distribution"] == "bibun-numpy" and recs["numpy"]["status"] == "loaded"
    assert recs["bibun.ops.builtin"]["registered"]["ops"]


def test_warnings_are_not_emitted_by_normal_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = bibun.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()


def test_commit_refuses_a_second_backend_of_one_name_and_changes_nothing():
    from bibun.plugins.manager import PluginRecord
    from bibun.plugins.registrar import Register
    before = dict(registry.backends())
    reg = Register("intruder")
    reg.backend(name="numpy", device_type="cpu", load=lambda: None)
    reg.op(OpDef("test::never_committed"))
    with pytest.raises(RegistrationError, match=r"backend 'numpy' is registered twice: by plugin 'numpy' "
                                                r"\(.*\) and by intruder"):
        registry.commit(reg, PluginRecord("intruder", "bibun.plugins"))
    assert registry.backends() == before and "test::never_committed" not in registry.ops()


def test_tensor_subclasses_are_tensors_to_every_op(device):
    class Marked(bibun.Tensor):  # as nn.Parameter will be
        pass

    w = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w.__class__ = Marked
    x = bibun.tensor([2.0, 2.0, 2.0])
    y = (x * w + w).exp().sum() + (w @ x)
    y.backward()
    assert isinstance(w, bibun.Tensor) and type(y) is bibun.Tensor
    np.testing.assert_allclose(w.grad.cpu().numpy(), 3 * np.exp(3 * np.array([1.0, 2.0, 3.0])) + 2, rtol=1e-6)
