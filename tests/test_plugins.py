"""The plugin loader: discovery, laziness, isolation, conflicts, choosing plugins, listings, ``bibun.ops.<name>``.

Most cases use fake entry points through the loader's injectable source (fast, in this
process); the discovery cases build real distributions (a project with a pyproject.toml,
"installed" as pip lays it out: the module plus a ``*.dist-info`` with ``METADATA`` and
``entry_points.txt``) in a temporary directory and run bibun in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import types
import warnings

import pytest

import bibun
from bibun.dispatch import OpDef, registry
from bibun.dispatch.registry import RegistrationError
from bibun.plugins import hookimpl, manager

ENV = (manager.ENV_AUTOLOAD, manager.ENV_ALLOW, manager.ENV_BLOCK, manager.ENV_STRICT)


# ---------------------------------------------------------------------- fakes
class FakeEntryPoint:
    """An entry point whose ``load()`` returns a module made in the test (or raises an exception given)."""

    def __init__(self, name, module, dist=None, version="1.0"):
        self.name, self.value, self._module = name, getattr(module, "__name__", name), module
        self.dist = types.SimpleNamespace(name=dist or f"{name}-dist", version=version)
        self.loads = 0

    def load(self):
        self.loads += 1
        if isinstance(self._module, BaseException):
            raise self._module
        return self._module


def plain(name, **hooks):
    """A plugin module with plain functions named like the hooks (as bibun_numpy writes them)."""
    m = types.ModuleType(name)
    for k, fn in hooks.items():
        setattr(m, k, fn)
    return m


def decorated(name, **hooks):
    """A plugin module whose hooks carry ``@bibun.plugins.hookimpl``."""
    return plain(name, **{k: hookimpl(fn) for k, fn in hooks.items()})


def scale_op(name="test::scale"):
    """``a * factor`` with ``factor`` an attribute; its gradient uses the attribute too."""
    op = OpDef(name, type_rule="float", node_name="ScaleBackward0")

    @op.impl
    def _(xp, a, factor=2.0):
        return a * factor

    @op.backward
    def _(ctx, grad):
        return grad * getattr(ctx, "factor", 2.0)

    return op


def defines(*ops, **bind):
    def bibun_register_ops(register):
        for op in ops:
            register.op(op, **bind)
    return bibun_register_ops


@pytest.fixture
def load(monkeypatch):
    """``load(plugins=[...], backends=[...]) -> {name: record}``: reload with only these third-party
    entry points (the installed backends stay, installed bibun.plugins are left out)."""
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    real = manager._entry_points_source

    def run(plugins=(), backends=()):
        def source(group):
            from importlib.metadata import entry_points
            base = list(entry_points(group=group)) if group == manager.BACKEND_GROUP else []
            return base + list(backends if group == manager.BACKEND_GROUP else plugins)
        manager.set_entry_points_source(source)
        manager.reset_for_tests()
        manager.ensure_loaded()
        return {r.name: r for r in manager.records()}

    yield run
    manager.set_entry_points_source(real)
    manager.reset_for_tests()
    manager.configure(allow=None, block=None, strict=None, autoload=None)


def _messages(caught):
    return [str(w.message) for w in caught]


# ---------------------------------------------------------------------- hooks: plain or decorated
@pytest.mark.parametrize("make", [plain, decorated])
def test_plain_functions_and_hookimpl_are_both_hooks(load, make):
    mod = make("p_scale", bibun_register_ops=defines(scale_op()))
    recs = load([FakeEntryPoint("scale", mod, dist="bibun-scale", version="0.3")])
    rec = recs["scale"]
    assert (rec.status, rec.dist, rec.version, rec.registered["ops"]) == ("loaded", "bibun-scale", "0.3",
                                                                          ["test::scale"])
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = bibun.ops.test.scale(x, factor=3.0)
    assert y.tolist() == [3.0, 6.0] and type(y.grad_fn).__name__ == "ScaleBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------- isolation
def test_broken_import_raising_hook_and_bad_hooks_each_skip_only_that_plugin(load):
    def raises(register):
        register.op(OpDef("test::half"))
        raise ValueError("boom")

    def bad_signature(registr):  # a parameter the hookspec does not have
        pass

    def misspelt(register):
        pass

    good = FakeEntryPoint("good", plain("p_good", bibun_register_ops=defines(scale_op())))
    eps = [FakeEntryPoint("noimport", ImportError("No module named 'nothing_here'"), version="2.0"),
           FakeEntryPoint("raises", plain("p_raises", bibun_register_ops=raises)),
           FakeEntryPoint("badsig", plain("p_badsig", bibun_register_kernels=bad_signature)),
           FakeEntryPoint("misspelt", plain("p_misspelt", bibun_register_op=misspelt)),
           FakeEntryPoint("misspelt_deco", decorated("p_misspelt2", bibun_register_optimizer=misspelt)),
           FakeEntryPoint("exits", SystemExit(3)),
           good]
    with pytest.warns(RuntimeWarning) as caught:
        recs = load(eps)
    msgs = _messages(caught)
    assert len(msgs) == 6  # one warning per broken plugin
    expected = {
        "noimport": "bibun plugin 'noimport' (noimport-dist 2.0) failed to load and was skipped: "
                    "ImportError: No module named 'nothing_here'",
        "raises": "bibun plugin 'raises' (raises-dist 1.0) failed to load and was skipped: ValueError: boom",
        "badsig": "bibun plugin 'badsig' (badsig-dist 1.0) failed to load and was skipped: PluginValidationError: "
                  "Plugin 'badsig' for hook 'bibun_register_kernels'\nhookimpl definition: "
                  "bad_signature(registr)\nArgument(s) {'registr'} are declared in the hookimpl but can "
                  "not be found in the hookspec",
        "misspelt": "bibun plugin 'misspelt' (misspelt-dist 1.0) failed to load and was skipped: "
                    "PluginValidationError: unknown hook 'bibun_register_op' in plugin <module 'p_misspelt'>",
        "misspelt_deco": "unknown hook 'bibun_register_optimizer' in plugin <module 'p_misspelt2'>",
        "exits": "bibun plugin 'exits' (exits-dist 1.0) failed to load and was skipped: SystemExit: 3",
    }
    for name, text in expected.items():
        assert recs[name].status == "failed", name
        assert any(text in m for m in msgs), (name, msgs)
        assert text.endswith(recs[name].reason) or recs[name].reason.endswith(text)  # the listing says it too
    assert recs["good"].status == "loaded" and recs["numpy"].status == "loaded"
    assert "test::half" not in registry.ops() and "test::scale" in registry.ops()
    assert bibun.tensor([1.0, 2.0]).sum().item() == 3.0


def test_a_plugin_is_all_or_nothing_when_a_later_hook_raises(load):
    def kernels(register):
        raise RuntimeError("kernel table missing")

    mod = plain("p_half", bibun_register_ops=defines(scale_op()), bibun_register_kernels=kernels)
    with pytest.warns(RuntimeWarning, match="RuntimeError: kernel table missing"):
        recs = load([FakeEntryPoint("half", mod)])
    assert recs["half"].status == "failed" and recs["half"].registered["ops"] == []
    assert "test::scale" not in registry.ops()


def test_import_bibun_loads_no_plugin_and_first_use_loads_them_all(tmp_path):
    site = _site(tmp_path, [_CUBE, _BROKEN])
    out = _run(site, """
        import json, sys, bibun
        before = [m for m in ("bibun_cube", "broken_plugin", "bibun_numpy", "pluggy", "importlib.metadata")
                  if m in sys.modules]
        x = bibun.zeros(1)
        after = [m for m in ("bibun_cube", "bibun_numpy", "pluggy") if m in sys.modules]
        print(json.dumps({"before": before, "after": after}))
    """, allow="bibun-cube,broken")
    assert json.loads(out.stdout) == {"before": [], "after": ["bibun_cube", "bibun_numpy", "pluggy"]}
    # the broken one warned once, naming distribution, version and error
    assert out.stderr.count("RuntimeWarning") == 1
    assert ("bibun plugin 'broken' (broken-plugin 0.0.1) failed to load and was skipped: ModuleNotFoundError: "
            "No module named 'a_dependency_nobody_installed'") in out.stderr


def test_real_distributions_are_discovered_listed_and_reachable(tmp_path):
    site = _site(tmp_path, [_CUBE, _BROKEN])
    out = _run(site, """
        import json, warnings
        warnings.simplefilter("ignore")
        import bibun
        from bibun.plugins import records
        x = bibun.tensor([1.0, 2.0], requires_grad=True)
        y = bibun.ops.cube.cube(x)
        y.sum().backward()
        F = bibun.nn.functional
        recs = {r.name: r.as_dict() for r in records()}
        print(json.dumps({"y": y.tolist(), "grad": x.grad.tolist(), "node": type(y.grad_fn).__name__,
                          "method": x.cube().tolist(), "functional": F.cube(x).tolist(),
                          "cube": recs["cube"], "broken": recs["broken"]}))
    """, allow="bibun-cube,broken")
    got = json.loads(out.stdout)
    assert got["y"] == [1.0, 8.0] and got["grad"] == [3.0, 12.0] and got["node"] == "CubeBackward0"
    assert got["method"] == [1.0, 8.0] and got["functional"] == [1.0, 8.0]
    cube = got["cube"]
    assert (cube["group"], cube["distribution"], cube["version"], cube["module"], cube["status"]) == (
        "bibun.plugins", "bibun-cube", "1.2.0", "bibun_cube", "loaded")
    assert cube["registered"] == {"backends": [], "ops": ["cube::cube"], "kernels": {"numpy": ["cube::cube"]},
                                  "overrides": {}, "losses": ["cube_l3"], "optimizers": [], "methods": ["cube"],
                                  "functions": ["cube"]}
    broken = got["broken"]
    assert broken["status"] == "failed" and broken["distribution"] == "broken-plugin"
    assert broken["reason"] == "ModuleNotFoundError: No module named 'a_dependency_nobody_installed'"


def test_cli_lists_working_and_broken_real_plugins(tmp_path):
    site = _site(tmp_path, [_CUBE, _BROKEN, _BAD_SIGNATURE])
    allow = "bibun-cube,broken,badsig"
    text = _run(site, None, "plugins", allow=allow)
    assert text.returncode == 0 and text.stderr == ""  # the listing shows failures instead of warning
    lines = text.stdout.splitlines()
    cube = next(i for i, line in enumerate(lines) if line.startswith("cube "))
    assert lines[cube].split() == ["cube", "bibun.plugins", "bibun-cube", "1.2.0", "loaded"]
    assert lines[cube + 1:cube + 6] == ["    ops (1): cube::cube", "    Tensor methods (1): cube",
                                        "    nn.functional (1): cube", "    kernels on numpy (1): cube::cube",
                                        "    losses (1): cube_l3"]
    assert any(line.startswith("broken ") and "failed: ModuleNotFoundError: No module named "
               "'a_dependency_nobody_installed'" in line for line in lines)
    assert any(line.startswith("badsig ") and "failed: PluginValidationError: Plugin 'badsig' for hook" in line
               for line in lines)
    assert "numpy" in text.stdout and "bibun.ops.builtin" in text.stdout

    # --json, info, and the exit status in strict mode, from one more process
    out = _run(site, """
        import contextlib, io, json
        import bibun.plugins
        from bibun.__main__ import main
        bibun.plugins.configure(strict=True)  # the listing still loads everything, then exits with 1
        results = []
        for argv in (["plugins", "--json"], ["info"]):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                rc = main(argv)
            results.append((rc, buf.getvalue()))
        print(json.dumps(results))
    """, allow=allow)
    (rc_js, js), (rc_info, info) = json.loads(out.stdout)
    assert out.stderr == "" and rc_js == rc_info == 1
    recs = {r["name"]: r for r in json.loads(js)}
    assert recs["cube"]["status"] == "loaded" and recs["broken"]["status"] == "failed"
    assert recs["badsig"]["error"].startswith("PluginValidationError: Plugin 'badsig' for hook "
                                              "'bibun_register_ops'")
    assert info.startswith(f"bibun {bibun.__version__}") and "cube::cube" in info and "backends:" in info


def test_cli_works_when_every_plugin_is_broken(load, capsys):
    from bibun.__main__ import main
    eps = [FakeEntryPoint("noimport", ImportError("gone")),
           FakeEntryPoint("raises", plain("p_r", bibun_register_ops=lambda register: 1 / 0))]
    backend = FakeEntryPoint("gpu", RuntimeError("driver not found"), dist="bibun-gpu")
    with pytest.warns(RuntimeWarning):
        load(eps, [backend])
    manager.reset_for_tests()  # the CLI loads on its own
    capsys.readouterr()
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "failed: ImportError: gone" in out and "failed: ZeroDivisionError: division by zero" in out
    assert "gpu " in out and "failed: RuntimeError: driver not found" in out
    assert main(["plugins", "--json"]) == 0
    recs = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert {recs[n]["status"] for n in ("noimport", "raises", "gpu")} == {"failed"}
    assert main(["info"]) == 0 and "failed: RuntimeError: driver not found" in capsys.readouterr().out
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["bibun"] == bibun.__version__ and {p["name"] for p in info["plugins"]} >= {"noimport", "gpu"}


# ---------------------------------------------------------------------- conflicts
def _same_op_plugins(order):
    a = FakeEntryPoint("a", plain("p_a", bibun_register_ops=defines(OpDef("test::same"))), dist="dist-a",
                       version="1.0")
    b = FakeEntryPoint("b", plain("p_b", bibun_register_ops=defines(OpDef("test::same"))), dist="dist-b",
                       version="2.5")
    c = FakeEntryPoint("c", plain("p_c", bibun_register_ops=defines(scale_op())), dist="dist-c")
    return [a, b, c] if order else [c, b, a]


@pytest.mark.parametrize("order", [True, False])
def test_two_plugins_defining_one_op_both_fail_naming_both_distributions(load, order):
    with pytest.warns(RuntimeWarning) as caught:
        recs = load(_same_op_plugins(order))
    both = ("op 'test::same' is defined by both plugin 'a' (dist-a 1.0) and plugin 'b' (dist-b 2.5), so neither "
            "is loaded: rename it (plugin ops should use a 'plugin::name' prefix), or block one with "
            "BIBUN_DISABLED_PLUGINS")
    assert sorted(_messages(caught)) == [
        f"bibun plugin 'a' (dist-a 1.0) failed to load and was skipped: RegistrationError: {both}",
        f"bibun plugin 'b' (dist-b 2.5) failed to load and was skipped: RegistrationError: {both}"]
    assert [(n, recs[n].status) for n in "abc"] == [("a", "failed"), ("b", "failed"), ("c", "loaded")]
    assert "test::same" not in registry.ops() and "test::scale" in registry.ops()
    # whatever order the entry points come in, plugins load in one order
    assert [r.name for r in manager.records()][-3:] == ["a", "b", "c"]


def test_blocking_one_side_of_a_conflict_loads_the_other(load, monkeypatch):
    monkeypatch.setenv("BIBUN_DISABLED_PLUGINS", "dist-b")
    eps = _same_op_plugins(True)
    recs = load(eps)
    assert (recs["a"].status, recs["b"].status) == ("loaded", "blocked")
    assert recs["b"].reason == "blocked by BIBUN_DISABLED_PLUGINS" and eps[1].loads == 0
    assert registry.op_owner("test::same") == "a"


@pytest.mark.parametrize("kind", ["loss", "optimizer"])
@pytest.mark.parametrize("order", [True, False])
def test_two_plugins_registering_one_loss_or_optimizer_both_fail(load, kind, order):
    def hook(register):
        getattr(register, kind)("Focal", "somewhere:Focal")
    hook_name = "bibun_register_losses" if kind == "loss" else "bibun_register_optimizers"
    eps = [FakeEntryPoint("x", plain("p_x", **{hook_name: hook}), dist="bibun-x", version="0.1"),
           FakeEntryPoint("y", plain("p_y", **{hook_name: hook}), dist="bibun-y", version="0.2")]
    with pytest.warns(RuntimeWarning) as caught:
        recs = load(eps if order else eps[::-1])
    assert recs["x"].status == recs["y"].status == "failed"
    for m in _messages(caught):
        assert f"{kind} 'focal' is defined by both plugin 'x' (bibun-x 0.1) and plugin 'y' (bibun-y 0.2)" in m
    table = "losses" if kind == "loss" else "optimizers"
    assert "focal" not in registry.catalog(table)


def test_a_plugin_conflicting_with_a_builtin_fails_alone(load):
    def losses(register):
        register.loss("MSE", "somewhere:MSE")
    eps = [FakeEntryPoint("mulplug", plain("p_mul", bibun_register_ops=defines(OpDef("mul"))), dist="bibun-mul"),
           FakeEntryPoint("mseplug", plain("p_mse", bibun_register_losses=losses), dist="bibun-mse")]
    with pytest.warns(RuntimeWarning) as caught:
        recs = load(eps)
    msgs = " | ".join(_messages(caught))
    assert ("op 'mul' is already provided by bibun.ops.builtin (bibun " in msgs
            and "rename it (plugin ops should use a 'plugin::name' prefix)" in msgs)
    assert "loss 'mse' is already provided by bibun.ops.builtin" in msgs
    assert recs["bibun.ops.builtin"].status == "loaded" and registry.op_owner("mul") == "bibun.ops.builtin"
    assert (bibun.ones(2) * 3).tolist() == [3.0, 3.0]
    assert registry.catalog("losses")["mse"] == "bibun.ops.builtin"


def test_conflicts_do_not_cascade(load):
    """a and b clash on one op; b and c on a loss; d clashes with nobody and loads."""
    def loss(register):
        register.loss("shared_loss", "m:x")
    eps = [FakeEntryPoint("a", plain("q_a", bibun_register_ops=defines(OpDef("test::one")))),
           FakeEntryPoint("b", plain("q_b", bibun_register_ops=defines(OpDef("test::one")),
                                     bibun_register_losses=loss)),
           FakeEntryPoint("c", plain("q_c", bibun_register_losses=loss)),
           FakeEntryPoint("d", plain("q_d", bibun_register_ops=defines(OpDef("test::two"))))]
    with pytest.warns(RuntimeWarning):
        recs = load(eps)
    assert [recs[n].status for n in "abcd"] == ["failed", "failed", "failed", "loaded"]
    assert "loss 'shared_loss'" in recs["b"].reason and "op 'test::one'" in recs["b"].reason


# ---------------------------------------------------------------------- kernels: ownership and override
def test_a_kernel_for_someone_elses_op_and_backend_needs_override(load):
    import numpy as np
    mod = plain("p_sqrt", bibun_register_kernels=lambda register: register.kernel("sqrt", "numpy", np.sqrt))
    with pytest.warns(RuntimeWarning, match=r"plugin 'fastsqrt' \(fastsqrt-dist 1.0\) registers a kernel for op "
                                            r"'sqrt' on backend 'numpy' but defines neither the op nor the "
                                            r"backend: pass override=True"):
        recs = load([FakeEntryPoint("fastsqrt", mod)])
    assert recs["fastsqrt"].status == "failed"
    assert registry.kernel_source(registry.ops()["sqrt"], "numpy") == "generic"


def test_override_replaces_a_builtin_kernel_and_warns_once(load):
    import numpy as np
    seen = []

    def noisy_mul(a, b):
        seen.append(1)
        return np.multiply(a, b)

    mod = plain("p_over", bibun_register_kernels=lambda register: register.kernel("mul", "numpy", noisy_mul,
                                                                                    override=True))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recs = load([FakeEntryPoint("over", mod, dist="bibun-fastmul")])
        for _ in range(3):
            bibun.ones(2) * 3
    overrides = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(overrides) == 1  # once, at load; not at each call
    assert overrides[0].startswith("Overriding a previously registered kernel for op 'mul' on backend 'numpy' "
                                   "(was plugin 'numpy' (")
    assert overrides[0].endswith("now plugin 'over' (bibun-fastmul 1.0))")
    assert len(seen) == 3 and recs["over"].registered["overrides"] == {"numpy": ["mul"]}
    assert registry.kernels()[("mul", "numpy")][1] == "over"


def test_override_of_a_generic_kernel_warns_and_two_overrides_conflict(load):
    import numpy as np
    one = plain("p_o1", bibun_register_kernels=lambda register: register.kernel("sqrt", "numpy", np.sqrt,
                                                                                 override=True))
    with pytest.warns(UserWarning, match=r"op 'sqrt' on backend 'numpy' \(was the generic kernel of "
                                         r"bibun.ops.builtin"):
        recs = load([FakeEntryPoint("o1", one)])
    assert recs["o1"].status == "loaded"
    two = plain("p_o2", bibun_register_kernels=lambda register: register.kernel("sqrt", "numpy", np.sqrt,
                                                                                 override=True))
    with pytest.warns(RuntimeWarning, match="the kernel of op 'sqrt' on backend 'numpy' is defined by both "
                                            r"plugin 'o1' \(o1-dist 1.0\) and plugin 'o2' \(o2-dist 1.0\), so "
                                            "neither is loaded: only one plugin may override it"):
        recs = load([FakeEntryPoint("o1", one), FakeEntryPoint("o2", two)])
    assert registry.kernel_source(registry.ops()["sqrt"], "numpy") == "generic"


# ---------------------------------------------------------------------- choosing plugins
def _three():
    return [FakeEntryPoint(n, plain(f"c_{n}", bibun_register_ops=defines(OpDef(f"test::{n}"))), dist=f"bibun-{n}")
            for n in ("alpha", "beta", "gamma")]


def test_allow_list_loads_only_the_named_plugins(load, monkeypatch):
    monkeypatch.setenv("BIBUN_PLUGINS", "alpha, bibun_gamma")  # entry-point or distribution name, - and _ alike
    eps = _three()
    recs = load(eps)
    assert [recs[n].status for n in ("alpha", "beta", "gamma")] == ["loaded", "blocked", "loaded"]
    assert recs["beta"].reason == "not in BIBUN_PLUGINS" and [e.loads for e in eps] == [1, 0, 1]
    assert recs["numpy"].status == recs["bibun.ops.builtin"].status == "loaded"  # backends always load


def test_block_list_by_entry_point_or_distribution_name_wins_over_allow(load, monkeypatch):
    monkeypatch.setenv("BIBUN_PLUGINS", "alpha,beta,gamma")
    monkeypatch.setenv("BIBUN_DISABLED_PLUGINS", "alpha,Bibun-Gamma")
    eps = _three()
    recs = load(eps)
    assert [recs[n].status for n in ("alpha", "beta", "gamma")] == ["blocked", "loaded", "blocked"]
    assert recs["alpha"].reason == "blocked by BIBUN_DISABLED_PLUGINS" and [e.loads for e in eps] == [0, 1, 0]
    assert "test::alpha" not in registry.ops()


def test_block_list_applies_to_backends(load, monkeypatch):
    monkeypatch.setenv("BIBUN_DISABLED_PLUGINS", "bibun-gpu")
    gpu = FakeEntryPoint("gpu", RuntimeError("would crash"), dist="bibun-gpu")
    recs = load([], [gpu])
    assert recs["gpu"].status == "blocked" and gpu.loads == 0


def test_autoload_off_loads_only_what_the_allow_list_names(load, monkeypatch):
    monkeypatch.setenv("BIBUN_DISABLE_PLUGIN_AUTOLOAD", "1")
    recs = load(_three())
    assert {recs[n].status for n in ("alpha", "beta", "gamma")} == {"blocked"}
    assert recs["alpha"].reason == ("autoloading is off (BIBUN_DISABLE_PLUGIN_AUTOLOAD=1); name it in "
                                    "BIBUN_PLUGINS to load it")
    monkeypatch.setenv("BIBUN_PLUGINS", "beta")
    recs = load(_three())
    assert [recs[n].status for n in ("alpha", "beta", "gamma")] == ["blocked", "loaded", "blocked"]


def test_allow_list_naming_nothing_installed_warns(load, monkeypatch):
    monkeypatch.setenv("BIBUN_PLUGINS", "alpha,alpah")
    with pytest.warns(RuntimeWarning, match="BIBUN_PLUGINS names alpah, but no installed bibun plugin"):
        load(_three())


def test_configure_from_python(load):
    manager.reset_for_tests()
    manager.configure(allow=["alpha", "beta"], block="beta")
    recs = load(_three())
    assert [recs[n].status for n in ("alpha", "beta", "gamma")] == ["loaded", "blocked", "blocked"]
    assert recs["beta"].reason == "blocked by bibun.plugins.configure(block=...)"
    assert recs["gamma"].reason == "not in bibun.plugins.configure(allow=...)"
    with pytest.raises(RuntimeError, match=r"already loaded; call bibun.plugins.configure\(\) before"):
        manager.configure(block=["alpha"])


# ---------------------------------------------------------------------- strict mode
def test_strict_mode_raises_the_original_error_naming_the_plugin(load, monkeypatch):
    monkeypatch.setenv("BIBUN_STRICT_PLUGINS", "1")
    err = ImportError("No module named 'nothing_here'")
    with pytest.raises(ImportError, match="nothing_here") as info:
        load([FakeEntryPoint("noimport", err, dist="bibun-noimport", version="3.1")])
    assert info.value is err
    assert info.value.__notes__ == ["raised while loading bibun plugin 'noimport' (bibun-noimport 3.1) "
                                    "(BIBUN_STRICT_PLUGINS=1)"]
    # nothing is left half-loaded: the next use tries again, and raises again
    assert registry._ops == {} and manager._records == []
    with pytest.raises(ImportError):
        bibun.ones(1)
    monkeypatch.delenv("BIBUN_STRICT_PLUGINS")
    with pytest.warns(RuntimeWarning, match="noimport"):
        assert bibun.ones(1).tolist() == [1.0]


def test_strict_mode_raises_on_a_conflict_and_on_bad_hooks(load):
    manager.configure(strict=True)
    with pytest.raises(RegistrationError, match=r"op 'test::same' is defined by both plugin 'a' \(dist-a 1.0\) "
                                                r"and plugin 'b' \(dist-b 2.5\)"):
        load(_same_op_plugins(True))
    bad = plain("p_bad", bibun_register_kernels=lambda registr: None)
    import pluggy
    with pytest.raises(pluggy.PluginValidationError, match="can not be found in the hookspec"):
        load([FakeEntryPoint("bad", bad)])


# ---------------------------------------------------------------------- bibun.ops.<name>, methods, functions
def test_ops_are_reachable_by_name(load):
    recs = load([FakeEntryPoint("flat", plain("p_flat", bibun_register_ops=defines(scale_op("flat_scale")))),
                 FakeEntryPoint("ns", plain("p_ns", bibun_register_ops=defines(scale_op("myplugin::swish"),
                                                                               scale_op("myplugin::deep::op"))))])
    assert recs["flat"].status == recs["ns"].status == "loaded"
    assert bibun.ops.mul is registry.ops()["mul"]
    assert bibun.ops.flat_scale is registry.ops()["flat_scale"]
    assert bibun.ops.myplugin.swish is registry.ops()["myplugin::swish"]
    assert bibun.ops.myplugin.deep.op is registry.ops()["myplugin::deep::op"]
    assert "swish" in dir(bibun.ops.myplugin) and "myplugin" in dir(bibun.ops)
    assert bibun.ops.myplugin.swish(bibun.tensor([1.0]), factor=4.0).tolist() == [4.0]
    assert bibun.ops.linalg.__name__ == "bibun.ops.linalg"  # modules stay modules
    with pytest.raises(AttributeError, match="no op named 'nosuchop' is registered"):
        _ = bibun.ops.nosuchop
    with pytest.raises(AttributeError, match="no op named 'myplugin::nope' is registered"):
        _ = bibun.ops.myplugin.nope


def test_plain_op_names_may_not_shadow_a_bibun_module(load):
    with pytest.warns(RuntimeWarning, match="op 'linalg' cannot be registered: 'bibun.ops.linalg' is a module"):
        recs = load([FakeEntryPoint("shadow", plain("p_sh", bibun_register_ops=defines(OpDef("linalg"))))])
    assert recs["shadow"].status == "failed"


def test_method_and_functional_binding_and_refusal(load):
    import bibun.nn.functional as F
    recs = load([FakeEntryPoint("bind", plain("p_bind", bibun_register_ops=defines(
        scale_op("bind::scale"), method="scale_by", functional=True)))])
    assert recs["bind"].registered["methods"] == ["scale_by"] and recs["bind"].registered["functions"] == ["scale"]
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x.scale_by(factor=5.0)  # keyword arguments become the op's attributes
    assert y.tolist() == [5.0, 10.0] and type(y.grad_fn).__name__ == "ScaleBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    assert F.scale(x).tolist() == [2.0, 4.0] and F.scale is bibun.ops.bind.scale

    manager.reset_for_tests()  # forgetting the plugin unbinds what it bound
    assert not hasattr(bibun.Tensor, "scale_by") and "scale" not in vars(F)  # (hasattr would load plugins again)

    taken = [FakeEntryPoint("exp", plain("p_e", bibun_register_ops=defines(scale_op("t::exp"), method="exp"))),
             FakeEntryPoint("relu", plain("p_r", bibun_register_ops=defines(scale_op("t::relu"), functional=True)))]
    with pytest.warns(RuntimeWarning) as caught:
        recs = load(taken)
    msgs = " | ".join(_messages(caught))
    assert "Tensor already has an attribute 'exp'; plugin 'exp' (exp-dist 1.0) cannot bind op 't::exp'" in msgs
    assert "bibun.nn.functional already has 'relu'; plugin 'relu' (relu-dist 1.0) cannot bind op 't::relu'" in msgs
    assert recs["exp"].status == recs["relu"].status == "failed" and "t::exp" not in registry.ops()
    assert bibun.tensor([0.0]).exp().tolist() == [1.0]

    twice = [FakeEntryPoint(n, plain(f"p_{n}", bibun_register_ops=defines(scale_op(f"{n}::s"), method="shared")))
             for n in ("one", "two")]
    with pytest.warns(RuntimeWarning, match="Tensor method 'shared' is defined by both plugin 'one'"):
        recs = load(twice)
    assert recs["one"].status == recs["two"].status == "failed" and not hasattr(bibun.Tensor, "shared")


def test_registering_bad_names_is_a_plugin_error(load):
    with pytest.warns(RuntimeWarning, match="method name must be a public identifier, got '__add__'"):
        recs = load([FakeEntryPoint("dunder", plain("p_d", bibun_register_ops=defines(scale_op("d::x"),
                                                                                         method="__add__")))])
    assert recs["dunder"].status == "failed"


# ---------------------------------------------------------------------- real distributions
_CUBE = {
    "dist": "bibun-cube", "version": "1.2.0", "module": "bibun_cube",
    "entry_points": {"bibun.plugins": {"cube": "bibun_cube"}},
    "source": '''
        """A cube op with a gradient, a numpy kernel, a Tensor method, an nn.functional entry and a loss."""
        from bibun.dispatch import OpDef

        cube = OpDef("cube::cube", type_rule="float", save=("self",), node_name="CubeBackward0")

        @cube.impl
        def _(xp, a):
            return a * a * a

        @cube.backward
        def _(ctx, grad):
            (a,) = ctx.saved_tensors
            return grad * 3 * a * a


        def bibun_register_ops(register):
            register.op(cube, method="cube", functional="cube")


        def bibun_register_kernels(register):
            register.kernel("cube::cube", "numpy", lambda a: a ** 3)


        def bibun_register_losses(register):
            register.loss("cube_l3", "bibun_cube:L3")
    ''',
}
_BROKEN = {
    "dist": "broken-plugin", "version": "0.0.1", "module": "broken_plugin",
    "entry_points": {"bibun.plugins": {"broken": "broken_plugin"}},
    "source": "import a_dependency_nobody_installed\n",
}
_BAD_SIGNATURE = {
    "dist": "badsig", "version": "0.1", "module": "badsig_plugin",
    "entry_points": {"bibun.plugins": {"badsig": "badsig_plugin"}},
    "source": "def bibun_register_ops(register, extra):\n    pass\n",
}


def _site(tmp_path, projects):
    """Write each project (pyproject.toml + module) under ``tmp_path/src`` and install it into
    ``tmp_path/site`` as pip would: the module, and ``<dist>-<version>.dist-info`` with
    METADATA, entry_points.txt, RECORD and INSTALLER."""
    site = tmp_path / "site"
    site.mkdir()
    for p in projects:
        src = tmp_path / "src" / p["dist"]
        (src / "src").mkdir(parents=True)
        eps = "".join(f'\n[project.entry-points."{g}"]\n' + "".join(f'{k} = "{v}"\n' for k, v in e.items())
                      for g, e in p["entry_points"].items())
        (src / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
            f'[project]\nname = "{p["dist"]}"\nversion = "{p["version"]}"\ndependencies = ["bibun"]\n{eps}')
        code = textwrap.dedent(p["source"])
        (src / "src" / f"{p['module']}.py").write_text(code)
        (site / f"{p['module']}.py").write_text(code)
        info = site / f"{p['dist'].replace('-', '_')}-{p['version']}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {p['dist']}\nVersion: {p['version']}\n"
                                       "Requires-Dist: bibun\n")
        (info / "entry_points.txt").write_text("".join(
            f"[{g}]\n" + "".join(f"{k} = {v}\n" for k, v in e.items()) + "\n" for g, e in p["entry_points"].items()))
        (info / "INSTALLER").write_text("test\n")
        (info / "RECORD").write_text(f"{p['module']}.py,,\n{info.name}/METADATA,,\n")
    return site


def _run(site, code, *cli, allow=None, strict=None):
    env = {k: v for k, v in os.environ.items() if k not in ENV}
    env["PYTHONPATH"] = os.pathsep.join([str(site)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    if allow:
        env[manager.ENV_ALLOW] = allow  # the plugins under test, whatever else is installed here
    if strict:
        env[manager.ENV_STRICT] = strict
    args = [sys.executable, "-c", textwrap.dedent(code)] if code else [sys.executable, "-m", "bibun", *cli]
    out = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if code:
        assert out.returncode == 0, out.stderr
    return out
