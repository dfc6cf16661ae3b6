"""Shared fixtures: every test that takes ``device`` runs once per available backend.

``BIBUN_BACKEND=name`` (as tox sets it) limits the run to that backend; a backend
that is registered but unavailable here (no GPU, library missing) is skipped, not dropped.
During such a test the backend's device is also the default device, so factories called
without ``device=`` land on it.
"""

from __future__ import annotations

import os
import re

import pytest


def _backend_names():
    from bibun.dispatch import registry
    names = sorted(registry.backends())
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    if wanted:
        names = [wanted]
    return names


def pytest_configure(config):
    if os.environ.get("BIBUN_TEST_FAKE_CUDA", "").strip() in ("1", "true", "yes"):
        _register_fake_cuda()


def _register_fake_cuda():
    """``BIBUN_TEST_FAKE_CUDA=1``: add ``fakecuda``, the numpy backend posing as device type ``cuda``.

    With ``BIBUN_BACKEND=fakecuda`` every device-parametrized test then runs on "cuda:0", so
    a machine without a GPU finds what assumes the cpu (``.numpy()`` without ``.cpu()``, a
    tensor made on the default device and mixed with one on the device under test, ...).
    Its numbers are numpy's, so only device handling is checked, not GPU kernels.
    """
    import types
    from importlib.metadata import entry_points

    import bibun_numpy
    from bibun.plugins import manager
    from bibun.plugins.hookspecs import hookimpl

    class Impl(bibun_numpy.NumpyImpl):
        def device_index(self, array):
            return 0

    def bibun_register_backends(register):
        register.backend(name="fakecuda", device_type="cuda", load=Impl, description="numpy posing as a GPU (tests)")

    module = types.ModuleType("bibun_fake_cuda")
    module.bibun_register_backends = hookimpl(bibun_register_backends)

    class EntryPoint:
        name, value = "fakecuda", "bibun_fake_cuda"
        dist = types.SimpleNamespace(name="bibun-fake-cuda", version="0")

        def load(self):
            return module

    def source(group):
        found = list(entry_points(group=group))
        return found + [EntryPoint()] if group == manager.BACKEND_GROUP else found

    manager.set_entry_points_source(source)
    manager.reset_for_tests()


def pytest_collection_modifyitems(config, items):
    # tests that use the PyTorch oracle carry the `parity` marker (`pytest -m parity`, tox -e parity)
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.parity)
    _skip_unsupported(items)


def _skip_unsupported(items):
    """Skip, with its reason, each test a backend lists as one it cannot run.

    A backend may list them as an ``unsupported`` mapping on the class (or function) it registers
    as ``load``: node-id patterns (``*`` is a wildcard) to reasons, in one place in its own
    package; reading it loads nothing. A test runs on the backend of its ``device`` parameter,
    else on the one ``BIBUN_BACKEND`` names.
    """
    lists = {}
    for item in items:
        callspec = getattr(item, "callspec", None)
        name = callspec.params.get("device") if callspec is not None else None
        if name is None:
            name = os.environ.get("BIBUN_BACKEND", "").strip()
        if not name:
            continue
        if name not in lists:
            lists[name] = _unsupported_patterns(name)
        for pattern, reason in lists[name]:
            if pattern.fullmatch(item.nodeid):
                item.add_marker(pytest.mark.skip(reason=f"unsupported on backend {name!r}: {reason}"))
                break


def _unsupported_patterns(name):
    import re

    from bibun.dispatch import registry
    backend = registry.backends().get(name)
    listed = getattr(getattr(backend, "_load", None), "unsupported", None) or {}
    return [(re.compile(".*".join(map(re.escape, key.split("*")))), reason) for key, reason in listed.items()]


def pytest_generate_tests(metafunc):
    if "device" in metafunc.fixturenames:
        metafunc.parametrize("device", _backend_names(), indirect=True)


@pytest.fixture
def device(request, monkeypatch):
    """The device string of the backend under test; that backend is also the default for factories."""
    from bibun.dispatch import registry
    name = request.param
    backend = registry.backends().get(name)
    if backend is None:
        pytest.skip(f"backend {name!r} is not installed")
    ok, why = backend.availability()
    if not ok:
        pytest.skip(f"backend {name!r} is not available here: {why}")
    monkeypatch.setenv("BIBUN_BACKEND", name)
    # factories called without device= make tensors on the backend under test too (cuda for cupy),
    # and an accelerator is named with its index, as tensors report it ("cuda:0")
    from bibun import device as _device
    from bibun import factories
    dev = _device(backend.device_type)
    if dev.type != "cpu":
        current = getattr(backend.impl, "current_device", None)
        dev = _device(dev.type, current() if current is not None else 0)
    monkeypatch.setitem(factories._default, "device", dev)
    return str(dev)


@pytest.fixture
def torch():
    """PyTorch as an oracle, when installed (``pip install torch==2.13.0``); the test is skipped otherwise."""
    return pytest.importorskip("torch")


@pytest.fixture
def repr_on(device):
    """``repr_on(text)``: PyTorch's repr of a tensor on the device under test, given its repr on the cpu.

    A tensor anywhere but the cpu names its device as the first suffix, right after the
    values: ``tensor([1.5000], device='cuda:0', dtype=bibun.float64)``; a suffix that would
    pass column 80 starts a new line, indented under the values.
    """
    def expected(text):
        if device == "cpu":
            return text
        end = _end_of_values(text)
        suffixes = [s for s in re.split(r",\s+(?=[a-z_]+=)", text[end:-1]) if s]
        return _join_suffixes(text[:end], [f"device='{device}'", *suffixes])
    return expected


def _end_of_values(text):
    start = len("tensor(")
    if text[start] != "[":
        return min(i for i in (text.find(",", start), text.rfind(")")) if i >= 0)
    depth = 0
    for i in range(start, len(text)):
        depth += {"[": 1, "]": -1}.get(text[i], 0)
        if depth == 0:
            return i + 1
    raise ValueError(f"unbalanced brackets in {text!r}")


def _join_suffixes(values, suffixes, width=80, indent=7):  # indent: len("tensor(")
    out, line = [values], len(values) - values.rfind("\n") + 1
    for suffix in suffixes:
        if line + len(suffix) + 2 > width:
            out.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            out.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(out) + ")"
