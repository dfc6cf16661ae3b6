"""Shared fixtures: every test that takes ``device`` runs once per available backend.

``BIBUN_BACKEND=name`` (as tox sets it) limits the run to that backend; a backend
that is registered but unavailable here (no GPU, library missing) is skipped, not dropped.
"""

from __future__ import annotations

import os

import pytest


def _backend_names():
    from bibun.dispatch import registry
    names = sorted(registry.backends())
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    if wanted:
        names = [wanted]
    return names


def pytest_collection_modifyitems(config, items):
    # tests that use the PyTorch oracle carry the `parity` marker (`pytest -m parity`, tox -e parity)
    for item in items:
        if "torch" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.parity)


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
    return backend.device_type


@pytest.fixture
def torch():
    """PyTorch as an oracle, when installed (``pip install torch==2.13.0``); the test is skipped otherwise."""
    return pytest.importorskip("torch")
