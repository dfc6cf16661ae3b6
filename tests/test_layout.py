"""The repository's distributions are all installed and tested: nothing added under backends/ or
plugins/ can be forgotten by requirements-dev.txt (the one install command) or by tox.

Static checks of the files only; they need no plugin to be installed or loaded.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parent.parent
PROJECTS = sorted(p.parent for p in [*ROOT.glob("backends/*/pyproject.toml"), *ROOT.glob("plugins/*/pyproject.toml")])
PLUGINS = [p for p in PROJECTS if p.parent.name == "plugins"]
BIBUN_VERSION = tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]["version"]


def _meta(project):
    return tomllib.loads((project / "pyproject.toml").read_text())


def _requirement_paths(name="requirements-dev.txt"):
    """The local paths that a requirements file installs (``-e ./x[extra]`` or ``./x``)."""
    paths = set()
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"^(?:-e\s+|--editable\s+)?(\.{1,2}/[^\s\[;]+)", line)
        if m:
            paths.add((ROOT / m.group(1)).resolve())
    return paths


def _id(project):
    return str(project.relative_to(ROOT))


def test_there_are_projects_to_check():
    assert "numpy" in {p.name for p in PROJECTS if p.parent.name == "backends"}
    assert {p.name for p in PLUGINS} >= {"activations", "focal-loss", "lion", "template"}


@pytest.mark.parametrize("requirements", ["requirements-dev.txt", "requirements-test.txt"])
@pytest.mark.parametrize("project", PROJECTS, ids=_id)
def test_every_distribution_is_installed_for_development_and_tests(project, requirements):
    assert project.resolve() in _requirement_paths(requirements), (
        f"{_id(project)} has a pyproject.toml but {requirements} does not install it; add: -e ./{_id(project)}")


@pytest.mark.parametrize("project", PLUGINS, ids=_id)
def test_every_plugin_is_a_complete_distribution(project):
    meta = _meta(project)["project"]
    name = meta["name"]
    entry_points = _meta(project)["project"].get("entry-points", {}).get("bibun.plugins", {})
    assert entry_points, f"{name}: no entry point in group 'bibun.plugins', so bibun would never find it"
    for target in entry_points.values():
        package = target.split(":")[0].split(".")[0]
        assert (project / "src" / package / "__init__.py").is_file(), f"{name}: entry point {target!r} names no package"
    assert f"bibun=={BIBUN_VERSION}" in [d.replace(" ", "") for d in meta.get("dependencies", [])], (
        f"{name} must depend on the bibun it is tested with (bibun=={BIBUN_VERSION})")
    assert (project / "README.md").is_file(), f"{name} has no README.md"


@pytest.mark.parametrize("project", PLUGINS, ids=_id)
def test_every_plugin_has_tests_and_tox_runs_them(project):
    tests = sorted((project / "tests").glob("test_*.py"))
    assert tests, f"{_id(project)} has no tests/test_*.py"
    assert any("def test_" in t.read_text() or "conformance_tests(" in t.read_text() for t in tests)
    commands = (ROOT / "tox.ini").read_text()
    assert re.search(rf"^\s*python -m pytest .*\b{re.escape(_id(project))}\s*$", commands, re.M), (
        f"tox.ini does not run the tests of {_id(project)}")


def test_root_pytest_does_not_collect_plugin_tests():
    # plugin tests run from their own directories (their own pytest config); a bare `pytest` at the
    # root collects tests/ only, so nothing runs twice or under the wrong rootdir
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert config["testpaths"] == ["tests"]
    for project in PLUGINS:
        assert "ini_options" in _meta(project).get("tool", {}).get("pytest", {}), (
            f"{_id(project)}/pyproject.toml needs [tool.pytest.ini_options] so `pytest {_id(project)}` uses it")
