"""The conformance kit as a pytest plugin (entry point ``pytest11``: active wherever bibun is installed).

Fixtures: ``bibun_backend`` (a backend name, one test per registered backend; an unavailable
one is skipped, ``BIBUN_BACKEND=name`` keeps only that one) and ``bibun_device`` (its device
type). :func:`conformance_tests` and :func:`optimizer_tests` make a module-level test function
with one test per (case, check) and backend.

This module is imported by every pytest run in an environment holding bibun, so importing it
must stay cheap and must not fail: it loads no backend, plugin or numpy until a test asks.
"""

from __future__ import annotations

import os

import pytest

__all__ = ["conformance_tests", "optimizer_tests", "backend_names"]


def backend_names():
    """Registered backend names to parametrize over (``BIBUN_BACKEND=name`` keeps only that one)."""
    from ..dispatch import registry
    names = sorted(registry.backends())
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    if wanted:
        names = [wanted]
    return names


@pytest.hookimpl(trylast=True)  # after the parametrize marks, so ids read <case>-<check>-<backend>
def pytest_generate_tests(metafunc):
    if "bibun_backend" not in metafunc.fixturenames:
        return
    for marker in metafunc.definition.iter_markers("parametrize"):  # the test chose its backends itself
        names = marker.args[0] if marker.args else marker.kwargs.get("argnames", ())
        if "bibun_backend" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return
    metafunc.parametrize("bibun_backend", backend_names(), indirect=True)


@pytest.fixture
def bibun_backend(request, monkeypatch):
    """The name of the backend under test; factories pick it for its device type during the test.

    The default device is left as it is (cpu), so the kit's device check still catches an op
    that makes its result without ``device=``: on a cuda backend that result lands on the CPU.
    """
    from ..dispatch import registry
    name = request.param
    backend = registry.backends().get(name)
    if backend is None:
        pytest.skip(f"bibun backend {name!r} is not installed")
    ok, why = backend.availability()
    if not ok:
        pytest.skip(f"bibun backend {name!r} is not available here: {why}")
    monkeypatch.setenv("BIBUN_BACKEND", name)
    return name


@pytest.fixture
def bibun_device(bibun_backend):
    """The device type of the backend under test ("cpu", "cuda"): pass it as ``device=``."""
    from ..dispatch import registry
    return registry.backends()[bibun_backend].device_type


def conformance_tests(cases, checks=None):
    """A test function running every applicable check of every case, one pytest test per (case, check, backend).

    Assign it at module level: ``test_conformance = conformance_tests([CASE1, CASE2])``.
    Test ids read ``test_conformance[<case>-<check>-<backend>]``.
    """
    from .case import OpCase
    cases = list(cases)
    params = []
    seen = set()
    for case in cases:
        if not isinstance(case, OpCase):
            raise TypeError(f"conformance_tests expects OpCase objects, got {type(case).__name__}")
        if case.name in seen:
            raise ValueError(f"two cases are named {case.name!r}; case names must be unique (they are test ids)")
        seen.add(case.name)
        for check in case.applicable_checks():
            if checks is None or check in checks:
                params.append(pytest.param(case, check, id=f"{case.name}-{check}"))

    @pytest.mark.parametrize(("bibun_case", "bibun_check"), params)
    def test_conformance(bibun_case, bibun_check, bibun_backend):
        from .conformance import ConformanceError, run_check
        try:
            run_check(bibun_case, bibun_check, backend=bibun_backend)
        except ConformanceError as exc:
            failed = str(exc)
        else:
            return
        pytest.fail(failed, pytrace=False)  # the message says it all; the kit's frames would only add noise

    return test_conformance


def optimizer_tests(factory, checks=None):
    """A test function running :func:`~bibun.testing.check_optimizer`'s checks, one test per (check, backend).

    ``test_optimizer = optimizer_tests(lambda params: MyOpt(params, lr=0.1))``.
    """
    from .optimizer import OPTIMIZER_CHECKS
    wanted = [c for c in OPTIMIZER_CHECKS if checks is None or c in checks]

    @pytest.mark.parametrize("bibun_check", wanted)
    def test_optimizer(bibun_check, bibun_backend):
        from .conformance import ConformanceError
        from .optimizer import check_optimizer
        try:
            check_optimizer(factory, backend=bibun_backend, checks=(bibun_check,))
        except ConformanceError as exc:
            failed = str(exc)
        else:
            return
        pytest.fail(failed, pytrace=False)

    return test_optimizer
