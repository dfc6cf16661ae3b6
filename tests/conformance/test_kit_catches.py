"""The conformance kit fails, naming the op and the check, on plugins that get something wrong.

Each broken op is registered the way a third-party plugin registers it (a fake entry point
through the loader's injectable source). A second backend, ``fakecuda``, stands for a GPU:
its arrays are a numpy subclass of their own (as cupy arrays are a type of their own) that
carries a device index, so a kernel returning a plain numpy array, or an array on another
device, is something the kit can see.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import types
from importlib.metadata import entry_points

import numpy as np
import pytest

import bibun
from bibun.dispatch import OpDef
from bibun.plugins import manager
from bibun.plugins.hookspecs import hookimpl
from bibun.testing import ConformanceError, OpCase, Sample, check_op, check_optimizer, run_check

RNG = np.random.default_rng(5)
X3 = RNG.standard_normal(3)
Y3 = RNG.standard_normal(3)


# ---------------------------------------------------------------------- fake plugins and a fake GPU backend
class FakeEntryPoint:
    def __init__(self, name, module, dist="broken-plugin", version="0.0.1"):
        self.name, self.value, self._module = name, module.__name__, module
        self.dist = types.SimpleNamespace(name=dist, version=version)

    def load(self):
        return self._module


class DevArray(np.ndarray):
    """An array "in fakecuda memory": its own type, and the index of the device holding it."""

    def __array_finalize__(self, obj):
        self.dev = getattr(obj, "dev", 0)


def _on_device(array, dev=0):
    out = np.asarray(array).view(DevArray)
    out.dev = dev
    return out


class _DeviceNamespace:
    """numpy, with every function's array result moved "to the device" (ufuncs keep the subclass already)."""

    def __getattr__(self, name):
        attr = getattr(np, name)
        if not isinstance(attr, (types.FunctionType, types.BuiltinFunctionType)):
            return attr

        def call(*args, **kwargs):
            out = attr(*args, **kwargs)
            if isinstance(out, np.ndarray) and not isinstance(out, DevArray):
                ins = [a for a in args if isinstance(a, DevArray)]
                out = _on_device(out, ins[0].dev if ins else 0)
            return out
        return call


def _fakecuda_module():
    import bibun_numpy

    class FakeCudaImpl(bibun_numpy.NumpyImpl):
        array_type = DevArray
        xp = _DeviceNamespace()

        def asarray(self, data, dtype=None):
            return _on_device(np.asarray(data, dtype=dtype))

        def to_numpy(self, array):
            return np.asarray(array)

        def from_numpy(self, array):
            return _on_device(np.array(array))

        def device_index(self, array):
            return getattr(array, "dev", 0)

    m = types.ModuleType("fake_cuda_backend")
    m.bibun_register_backends = hookimpl(
        lambda register: register.backend(name="fakecuda", device_type="cuda", load=FakeCudaImpl))
    return m


def _plugin(name, ops=(), kernels=()):
    m = types.ModuleType(f"broken_{name}")
    m.bibun_register_ops = hookimpl(lambda register: [register.op(op) for op in ops])
    m.bibun_register_kernels = hookimpl(lambda register: [register.kernel(*k) for k in kernels])
    return m


@pytest.fixture
def install(monkeypatch):
    """``install(ops=[...], kernels=[(op, backend, fn)], gpu=False)``: load them as one plugin."""
    real = manager._entry_points_source
    monkeypatch.delenv("BIBUN_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    monkeypatch.delenv("BIBUN_BACKEND", raising=False)

    def load(ops=(), kernels=(), gpu=False):
        extra = [FakeEntryPoint("broken", _plugin("broken", ops, kernels))]
        backends = [FakeEntryPoint("fakecuda", _fakecuda_module(), dist="fake-gpu")] if gpu else []

        def source(group):
            from importlib.metadata import entry_points
            base = list(entry_points(group=group))
            return base + (backends if group == manager.BACKEND_GROUP else extra)
        manager.set_entry_points_source(source)
        manager.reset_for_tests()
        manager.ensure_loaded()
        failed = [r for r in manager.records() if r.status == "failed"]
        assert not failed, [r.error for r in failed]

    yield load
    manager.set_entry_points_source(real)
    manager.reset_for_tests()


def _unary(name, kernel=None, formula=None, node=None):
    """A float op ``name`` with the generic ``kernel(xp, a)`` and ``formula(ctx, grad)`` (self saved)."""
    op = OpDef(name, type_rule="float", save=("self",), node_name=node)
    op.impl(kernel or (lambda xp, a: a * 2.0))
    op.backward(formula or (lambda ctx, grad: grad * 2.0))
    return op


def _case(op, reference=lambda x: 2.0 * x, samples=None, **kw):
    return OpCase(op.name if isinstance(op, OpDef) else "fn", op=op, samples=samples or [Sample(X3)],
                  reference=reference, **kw)


def _fails(case, check, backend="numpy", match=None):
    with pytest.raises(ConformanceError) as info:
        run_check(case, check, backend=backend)
    msg = str(info.value)
    assert msg.startswith(f"{case.name} [{backend}]: {check} failed"), msg
    if match:
        assert match in msg, msg
    return msg


def _passes(case, checks, backend="numpy"):
    check_op(case, backend=backend, checks=checks)


# ---------------------------------------------------------------------- a correct plugin op passes everywhere
def test_a_correct_plugin_op_passes_every_check_on_both_backends(install):
    good = _unary("good::double", node="DoubleBackward0")
    install(ops=[good], kernels=[("good::double", "fakecuda", lambda a: a * 2.0)], gpu=True)
    case = _case(good)
    assert case.applicable_checks() == ("forward", "dtype", "device", "no_mutation", "backward", "gradcheck",
                                        "gradgradcheck")
    check_op(case, backend="numpy")
    check_op(case, backend="fakecuda")
    x = bibun.ones(2, device="cuda")
    assert isinstance(x._data, DevArray) and str(good(x).device) == "cuda:0"


# ---------------------------------------------------------------------- gradients
def test_wrong_gradient_formula_fails_gradcheck(install):
    op = _unary("broken::cube", kernel=lambda xp, a: a * a * a,
                formula=lambda ctx, grad: grad * 3.0 * ctx.saved_tensors[0])  # forgot a square
    install(ops=[op])
    case = _case(op, reference=lambda x: x ** 3)
    msg = _fails(case, "gradcheck", match="on sample 0 (float64): GradcheckError: Jacobian mismatch for output 0 "
                                           "with respect to input 0")
    assert "numerical:" in msg and "analytical:" in msg
    _passes(case, ("forward", "dtype", "device", "no_mutation", "backward"))


def test_wrong_second_derivative_fails_gradgradcheck_only(install):
    op = _unary("broken::square", kernel=lambda xp, a: a * a,
                # right values, but computed from a detached copy: the gradient has no gradient of its own
                formula=lambda ctx, grad: grad * 2.0 * ctx.saved_tensors[0].detach())
    install(ops=[op])
    case = _case(op, reference=lambda x: x * x)
    _fails(case, "gradgradcheck", match="GradcheckError")
    _passes(case, ("forward", "backward", "gradcheck"))


def test_wrong_number_of_gradients_fails_with_pytorchs_message(install):
    op = OpDef("broken::mul2", inputs=("self", "other"), type_rule="promote", save=("self", "other"),
               node_name="Mul2Backward0")
    op.impl(lambda xp, a, b: a * b)
    op.backward(lambda ctx, grad: grad * ctx.saved_tensors[1])  # one gradient for two inputs
    install(ops=[op])
    case = _case(op, reference=lambda a, b: a * b, samples=[Sample(X3, Y3)])
    _fails(case, "backward", match="on sample 0 (float32): backward raised RuntimeError: Function Mul2Backward0 "
                                    "returned an incorrect number of gradients (expected 2, got 1)")
    _fails(case, "gradcheck", match="incorrect number of gradients")
    _passes(case, ("forward", "dtype"))


def test_wrong_gradient_shape_fails_with_pytorchs_message(install):
    op = _unary("broken::widen", formula=lambda ctx, grad: bibun.ones(7, dtype=grad.dtype, device=grad.device),
                node="WidenBackward0")
    install(ops=[op])
    case = _case(op)
    _fails(case, "backward", match="Function WidenBackward0 returned an invalid gradient at index 0 - got [7] but "
                                    "expected shape compatible with [3]")


def test_an_op_that_records_no_graph_fails_backward(install):
    op = OpDef("broken::nograd", type_rule="float")  # no backward formula
    op.impl(lambda xp, a: a * 2.0)
    install(ops=[op])
    case = _case(op)
    _fails(case, "backward", match="no output requires grad although input(s) [0] do")
    # declared non-differentiable, the same op conforms
    check_op(_case(op, gradcheck=False), backend="numpy")


# ---------------------------------------------------------------------- inputs left alone
def test_a_kernel_writing_into_its_input_fails_no_mutation(install):
    def kernel(xp, a):
        a *= 2.0  # in place, into the caller's tensor
        return a.copy()
    op = _unary("broken::inplace", kernel=kernel)
    install(ops=[op])
    case = _case(op)
    _fails(case, "no_mutation", match="on sample 0 (float32): argument 0 was modified in place by forward "
                                       "(values changed; version 0 -> 0)")


def test_an_op_bumping_the_version_counter_fails_no_mutation(install):
    def op(x):
        with bibun.no_grad():
            x.mul_(1.0)  # same values, but every node that saved x now refuses to run
        return x * 2.0
    case = _case(op)
    _fails(case, "no_mutation", match="argument 0 was modified in place by forward (version counter changed; "
                                       "version 0 -> 1)")


def test_a_backward_writing_into_a_saved_input_fails_no_mutation(install):
    def formula(ctx, grad):
        (a,) = ctx.saved_tensors
        a._data[...] = 0.0  # scribbles over the input
        return grad * 2.0
    op = _unary("broken::scribble", formula=formula)
    install(ops=[op])
    _fails(_case(op), "no_mutation", match="argument 0 was modified in place by backward")


# ---------------------------------------------------------------------- forward, dtype, device
def test_forward_disagreeing_with_the_reference_fails_forward(install):
    op = _unary("broken::off", kernel=lambda xp, a: a * 2.0 + 1e-3)
    install(ops=[op])
    case = _case(op)
    msg = _fails(case, "forward", match="on sample 0 (float32): output 0 differs from the reference: 3 / 3 elements "
                                         "differ beyond rtol=1.3e-06, atol=1e-05")
    assert "greatest difference" in msg
    _fails(_case(op, reference=lambda x: np.stack([x, x])), "forward", match="shape [3], the reference's [2, 3]")


def test_a_kernel_returning_the_wrong_dtype_fails_dtype(install):
    op = _unary("broken::upcast", kernel=lambda xp, a: (a * 2.0).astype(xp.float64))
    install(ops=[op])
    case = _case(op)
    _fails(case, "dtype", match="on sample 0 (float32): output 0 has dtype bibun.float64, expected bibun.float32")
    _passes(case, ("forward",))


def test_declared_output_dtypes_are_checked(install):
    case = _case(lambda x: (x * 2.0, (x > 0).long()), reference=lambda x: (2.0 * x, (x > 0).astype(np.int64)),
                 out_dtype=("same", bibun.int32))
    _fails(case, "dtype", match="output 1 has dtype bibun.int64, expected bibun.int32")
    check_op(_case(case.op, reference=case.reference, out_dtype=("same", bibun.int64), gradcheck=False),
             backend="numpy")


def test_a_gpu_kernel_returning_a_host_array_fails_device(install):
    op = _unary("broken::hostcopy")
    # the fakecuda kernel computes on the host and hands back a plain numpy array
    install(ops=[op], kernels=[("broken::hostcopy", "fakecuda", lambda a: np.asarray(a) * 2.0)], gpu=True)
    case = _case(op)
    _fails(case, "device", backend="fakecuda",
           match="the kernel of op 'broken::hostcopy' on backend 'fakecuda' returned a numpy.ndarray, not the "
                 "backend's array type")
    _passes(case, ("device",), backend="numpy")  # the generic kernel is fine on the CPU
    _passes(case, ("forward", "dtype"), backend="fakecuda")  # the values are right: only the device check sees it


def test_a_gpu_kernel_returning_an_array_on_another_device_fails_device(install):
    op = _unary("broken::otherdev")
    install(ops=[op], kernels=[("broken::otherdev", "fakecuda", lambda a: _on_device(np.asarray(a) * 2.0, dev=1))],
            gpu=True)
    _fails(_case(op), "device", backend="fakecuda", match="output 0 is on cuda:1 (backend 'fakecuda'), the inputs "
                                                          "on cuda:0 (backend 'fakecuda')")


def test_a_result_on_the_wrong_backend_fails_device(install):
    op = OpDef("broken::tocpu")

    @op.decompose
    def _(a):
        return bibun.tensor(np.asarray(a.tolist()) * 2.0, dtype=a.dtype)  # forgets device=a.device
    install(ops=[op], gpu=True)
    case = _case(op, gradcheck=False)
    _fails(case, "device", backend="fakecuda", match="output 0 is on cpu (backend 'numpy'), the inputs on cuda:0 "
                                                     "(backend 'fakecuda')")
    _passes(case, ("device",), backend="numpy")


def test_a_gradient_on_the_wrong_device_fails_device(install):
    op = _unary("broken::gradhost", formula=lambda ctx, grad: (grad * 2.0).to("cpu"))
    install(ops=[op], gpu=True)
    # the engine refuses it as PyTorch's does, and the kit reports that under its device check
    _fails(_case(op), "device", backend="fakecuda", match="backward raised RuntimeError: Function GradhostBackward0 "
                                                          "returned an invalid gradient at index 0 - expected device "
                                                          "cuda:0 but got cpu")


# ---------------------------------------------------------------------- reporting
def test_check_op_lists_every_failed_check_and_samples_are_lazy(install):
    made = []

    def samples():
        made.append(1)
        return [Sample(X3).named("plain"), Sample(np.array(0.5))]
    op = _unary("broken::both", kernel=lambda xp, a: a * 3.0, formula=lambda ctx, grad: grad * 2.0)
    install(ops=[op])
    case = _case(op, samples=samples)
    assert made == []  # declaring a case builds nothing
    with pytest.raises(ConformanceError) as info:
        check_op(case, backend="numpy")
    checks = [f[2] for f in info.value.failures]
    assert checks == ["forward", "gradcheck"], info.value.failures
    assert "broken::both [numpy]: forward failed on sample 0 'plain' (float32)" in str(info.value)
    assert made


def test_the_author_samples_are_not_touched(install):
    x = bibun.tensor([1.0, 2.0, 3.0])
    arr = X3.copy()
    op = _unary("broken::inplace2", kernel=lambda xp, a: xp.multiply(a, 2.0, out=a))
    install(ops=[op])
    with pytest.raises(ConformanceError):
        check_op(_case(op, samples=lambda: [Sample(x), Sample(arr)]), backend="numpy", checks=("no_mutation",))
    assert x.tolist() == [1.0, 2.0, 3.0] and np.array_equal(arr, X3)


def test_bad_declarations_are_refused():
    with pytest.raises(TypeError, match="op must be callable"):
        OpCase("x", op=3, samples=[])
    with pytest.raises(ValueError, match="unknown checks"):
        OpCase("x", op=abs, samples=[], checks=("speed",))
    with pytest.raises(TypeError, match="not a bibun.testing.Sample"):
        check_op(OpCase("x", op=bibun.neg, samples=[X3]), backend="numpy")


# ---------------------------------------------------------------------- optimizers
class _NoSkip(bibun.optim.SGD):
    """Steps every parameter, treating a missing gradient as zero (with weight decay that moves it)."""

    def step(self, closure=None):
        with bibun.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    g = p.grad if p.grad is not None else bibun.zeros_like(p)
                    p.sub_(group["lr"] * (g + 0.1 * p))


class _Forgetful(bibun.optim.Optimizer):
    """Momentum kept in an attribute instead of ``self.state``: lost by state_dict()."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, {"lr": lr})
        self.velocity = {}

    def step(self, closure=None):
        with bibun.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    v = self.velocity.get(id(p))
                    v = p.grad.clone() if v is None else v * 0.9 + p.grad
                    self.velocity[id(p)] = v
                    p.sub_(group["lr"] * v)


def test_check_optimizer_passes_a_correct_optimizer():
    check_optimizer(lambda p: bibun.optim.SGD(p, lr=0.1, momentum=0.9), backend="numpy")


def test_check_optimizer_catches_broken_optimizers():
    with pytest.raises(ConformanceError) as info:
        check_optimizer(lambda p: _NoSkip(p, lr=0.1), backend="numpy")
    assert [f[2] for f in info.value.failures] == ["skips_grad_none"]
    assert "_NoSkip [numpy]: skips_grad_none failed: step() changed a parameter whose grad is None" in str(info.value)
    with pytest.raises(ConformanceError) as info:
        check_optimizer(lambda p: _Forgetful(p), backend="numpy")
    assert [f[2] for f in info.value.failures] == ["state_dict"]
    with pytest.raises(ConformanceError, match=r"lazy \[numpy\]: decreases failed: 100 steps"):
        check_optimizer(lambda p: bibun.optim.SGD(p, lr=1e-6), backend="numpy", checks=("decreases",), name="lazy")


# ---------------------------------------------------------------------- the pytest plugin
PLUGIN_TEST = '''
import numpy as np
import bibun
from bibun.testing import OpCase, Sample, conformance_tests, optimizer_tests

X = np.linspace(-1.0, 1.0, 6).reshape(2, 3)
GOOD = OpCase("sigmoid", op=bibun.sigmoid, samples=[Sample(X)], reference=lambda x: 1 / (1 + np.exp(-x)))
BAD = OpCase("badtanh", op=bibun.tanh, samples=[Sample(X)], reference=np.sin, gradgradcheck=False)

test_conformance = conformance_tests([GOOD, BAD])
test_sgd = optimizer_tests(lambda params: bibun.optim.SGD(params, lr=0.1), checks=("decreases", "identity"))


def test_fixtures(bibun_backend, bibun_device):
    assert bibun.ones(1, device=bibun_device).device.type == bibun_device
'''


def test_pytest_plugin_makes_one_test_per_case_check_and_backend(tmp_path):
    (tmp_path / "test_plugin_op.py").write_text(textwrap.dedent(PLUGIN_TEST))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rf", "-v",
                           "--rootdir", str(tmp_path), str(tmp_path)], capture_output=True, text=True,
                          cwd=tmp_path, env=_env())
    out = proc.stdout
    installed = [ep.name for ep in entry_points(group="bibun.backends")]  # what the subprocess registers
    for b in installed:  # one test per registered backend (unavailable ones are skipped)
        assert f"test_conformance[sigmoid-forward-{b}] " in out and f"test_sgd[identity-{b}] " in out, out
    assert "test_conformance[sigmoid-gradgradcheck-numpy] PASSED" in out, out
    assert "test_conformance[badtanh-dtype-numpy] PASSED" in out, out
    assert "test_conformance[badtanh-forward-numpy] FAILED" in out, out
    assert "test_sgd[decreases-numpy] PASSED" in out, out
    assert "test_fixtures[numpy] PASSED" in out, out
    assert "badtanh-gradgradcheck" not in out
    assert "badtanh [numpy]: forward failed on sample 0 (float32): output 0 differs" in out, out
    assert proc.returncode == 1


def _env():
    import os
    env = dict(os.environ)
    env.pop("BIBUN_BACKEND", None)
    return env


def test_the_pytest_plugin_and_the_kit_load_nothing_until_used():
    # pytest itself brings pluggy; the plugin must add no backend, numpy or kit module
    code = ("import sys, bibun, bibun.testing.pytest_plugin; "
            "print([m for m in ('numpy', 'bibun_numpy', 'bibun.testing.conformance') if m in sys.modules]); "
            "bibun.testing.OpCase; print('bibun.testing.case' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["[]", "True"]


@pytest.mark.parametrize("bibun_backend", ["numpy"], indirect=True)
def test_a_test_may_pick_its_backends_itself(bibun_backend, bibun_device):
    assert (bibun_backend, bibun_device) == ("numpy", "cpu")
