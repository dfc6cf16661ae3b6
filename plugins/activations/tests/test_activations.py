"""bibun-activations, tested as a user sees it: installed, found through its entry point.

Every test that takes ``bibun_device`` (a fixture of bibun's conformance kit) runs once per
installed bibun backend. Expected values are closed forms or numbers pinned from a float64
evaluation of the formulas.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from bibun_activations import Mish, Swish, kernels, mish, mish_op, swish, swish_op

import bibun
from bibun.testing import OpCase, Sample, conformance_tests

X = [-3.0, -0.5, 0.0, 0.5, 3.0]
SILU = [-0.14227761953270035, -0.1887703343990727, 0.0, 0.3112296656009273, 2.8577223804672998]
SWISH_BETA2 = [-0.007417869469904323, -0.13447071068499755, 0.0, 0.36552928931500245, 2.992582130530096]
MISH = [-0.1456474612756246, -0.22074377465173, 0.0, 0.3752452113048951, 2.9865350049679575]


def _record():
    return {r.name: r for r in bibun.plugins.records()}.get("activations")


# ---------------------------------------------------------------------- installation
def test_the_plugin_is_loaded_from_its_distribution():
    rec = _record()
    assert rec is not None, "the 'activations' entry point was not found: is bibun-activations installed?"
    assert (rec.dist, rec.version, rec.status) == ("bibun-activations", "0.1.0", "loaded")
    assert sorted(rec.registered["ops"]) == ["activations::mish", "activations::swish"]
    assert sorted(rec.registered["kernels"]["numpy"]) == ["activations::mish", "activations::swish"]
    assert sorted(rec.registered["kernels"]["cupy"]) == ["activations::mish", "activations::swish"]


def _run(code, **env):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("BIBUN_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**environ, **env},
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_loading_the_plugin_imports_no_cupy():
    # the cupy kernels are registered on every machine; cupy is imported only when one runs
    # (the cupy backend, if installed, is blocked here: its availability probe may import cupy)
    out = _run("import sys, bibun; bibun.zeros(1).swish(); print('cupy' in sys.modules)",
               BIBUN_DISABLED_PLUGINS="cupy")
    assert out.split() == ["False"]


def test_bibun_lists_the_numpy_kernel_as_the_one_that_runs_on_numpy():
    rows = json.loads(_run("import bibun.__main__ as m; m.main(['ops', '--json', '--backend', 'numpy'])"))
    source = {r["op"]: (r["plugin"], r["kernels"]["numpy"]) for r in rows}  # (defined by, kernel from)
    assert source["activations::swish"] == ("activations", "activations")
    assert source["activations::mish"] == ("activations", "activations")


def test_the_op_is_reachable_under_bibun_ops_and_as_bound_names(bibun_device):
    x = bibun.tensor(X, dtype=bibun.float64, device=bibun_device)
    expected = np.array(SWISH_BETA2)
    for y in (swish(x, beta=2.0), x.swish(beta=2.0), bibun.nn.functional.swish(x, beta=2.0),
              bibun.ops.activations.swish(x, beta=2.0)):
        np.testing.assert_allclose(y.to("cpu").numpy(), expected, rtol=1e-13, atol=1e-16)
    for y in (mish(x), x.mish(), bibun.ops.activations.mish(x)):
        np.testing.assert_allclose(y.to("cpu").numpy(), np.array(MISH), rtol=1e-13, atol=1e-16)


# ---------------------------------------------------------------------- values
def test_closed_forms(bibun_device):
    one = bibun.tensor(1.0, dtype=bibun.float64, device=bibun_device)
    assert swish(one).item() == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-13)
    assert mish(one).item() == pytest.approx(math.tanh(math.log1p(math.e)), rel=1e-13)
    x = bibun.tensor(X, dtype=bibun.float64, device=bibun_device)
    np.testing.assert_allclose(swish(x).to("cpu").numpy(), SILU, rtol=1e-13, atol=1e-16)
    # beta = 1 is SiLU, and mish agrees with bibun's built-in mish
    np.testing.assert_allclose(swish(x).to("cpu").numpy(), bibun.nn.functional.silu(x).to("cpu").numpy(), rtol=1e-13)
    np.testing.assert_allclose(mish(x).to("cpu").numpy(), bibun.nn.functional.mish(x).to("cpu").numpy(), rtol=1e-13)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_inputs_stay_finite(bibun_device, dtype):
    dt = getattr(bibun, dtype)
    x = bibun.tensor([-1e4, -100.0, 100.0, 1e4], dtype=dt, device=bibun_device)
    for fn in (swish, mish):
        y = fn(x).to("cpu").numpy()
        assert np.isfinite(y).all(), (fn.__name__, y)
        np.testing.assert_allclose(y, [0.0, 0.0, 100.0, 1e4], atol=1e-30)


def test_results_keep_the_floating_dtype_and_integers_become_the_default_float(bibun_device):
    for dt in (bibun.float32, bibun.float64):
        x = bibun.tensor(X, dtype=dt, device=bibun_device)
        assert swish(x).dtype == dt and mish(x).dtype == dt
    ints = bibun.tensor([-1, 0, 2], device=bibun_device)
    assert swish(ints).dtype == bibun.get_default_dtype()
    np.testing.assert_allclose(swish(ints).to("cpu").numpy(), [-0.26894142, 0.0, 1.76159416], rtol=1e-6)


def test_the_gradient_node_is_named_after_the_op(bibun_device):
    x = bibun.tensor(X, device=bibun_device, requires_grad=True)
    assert type(swish(x).grad_fn).__name__ == "SwishBackward0"
    assert type(mish(x).grad_fn).__name__ == "MishBackward0"


def test_gradients_match_the_closed_forms(bibun_device):
    x = bibun.tensor(X, dtype=bibun.float64, device=bibun_device, requires_grad=True)
    (g,) = bibun.autograd.grad(swish(x, beta=2.0).sum(), x)
    xs = np.array(X)
    s = 1 / (1 + np.exp(-2 * xs))
    np.testing.assert_allclose(g.to("cpu").numpy(), s + 2 * xs * s * (1 - s), rtol=1e-13)
    (g,) = bibun.autograd.grad(mish(x).sum(), x)
    t = np.tanh(np.log1p(np.exp(xs)))
    np.testing.assert_allclose(g.to("cpu").numpy(), t + xs * (1 - t * t) / (1 + np.exp(-xs)), rtol=1e-13)


def test_beta_must_be_a_number():
    with pytest.raises(TypeError, match="beta must be a real number"):
        swish(bibun.zeros(2), beta="2")


# ---------------------------------------------------------------------- the numpy kernels
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_kernels_agree_with_the_generic_kernels(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(2000) * 30).astype(dtype)
    x[:6] = [0.0, -0.0, 1e4, -1e4, 20.0, -20.0]
    rtol = 1e-6 if dtype is np.float32 else 1e-14
    for beta in (1.0, 0.25, 3.0):
        np.testing.assert_allclose(kernels.swish_numpy(x, beta), swish_op.generic(np, x, beta), rtol=rtol, atol=0)
    np.testing.assert_allclose(kernels.mish_numpy(x), mish_op.generic(np, x), rtol=rtol, atol=0)
    for out in (kernels.swish_numpy(x[0:1].reshape(()), 1.0), kernels.mish_numpy(x[4:5].reshape(()))):
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == dtype


# ---------------------------------------------------------------------- modules
def test_modules(bibun_device):
    x = bibun.tensor(X, dtype=bibun.float64, device=bibun_device)
    assert repr(Swish()) == "Swish(beta=1.0)" and repr(Mish()) == "Mish()"
    np.testing.assert_allclose(Swish(2.0)(x).to("cpu").numpy(), SWISH_BETA2, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(Mish()(x).to("cpu").numpy(), MISH, rtol=1e-13, atol=1e-16)
    bibun.manual_seed(0)
    model = bibun.nn.Sequential(bibun.nn.Linear(5, 4), Swish(), bibun.nn.Linear(4, 1), Mish()).to(bibun_device)
    model(x.float().reshape(1, 5)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


# ---------------------------------------------------------------------- bibun's conformance kit
def _swish_ref(x, beta=1.0):
    return x / (1 + np.exp(-beta * x))


def _mish_ref(x):
    return x * np.tanh(np.logaddexp(0.0, x))


def _samples(**kwargs):
    rng = np.random.default_rng(7)
    return [Sample(rng.standard_normal((3, 4)) * 3, **kwargs), Sample(rng.standard_normal(5), **kwargs).named("1d"),
            Sample(np.array(0.7), **kwargs).named("0d"), Sample(np.array([-40.0, -2.0, 0.0, 2.0, 40.0]), **kwargs)
            .named("wide")]


test_conformance = conformance_tests([
    OpCase("swish", op=swish_op, samples=lambda: _samples(), reference=_swish_ref),
    OpCase("swish_beta", op=swish_op, samples=lambda: _samples(beta=1.7), reference=_swish_ref),
    OpCase("swish_wrapper", op=lambda x: swish(x, 0.5), samples=lambda: _samples(),
           reference=lambda x: _swish_ref(x, 0.5)),
    OpCase("mish", op=mish_op, samples=lambda: _samples(), reference=_mish_ref),
])
