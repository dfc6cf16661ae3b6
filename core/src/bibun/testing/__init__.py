"""``bibun.testing``: the conformance kit for ops, losses and optimizers — bibun's own and plugins'.

An author declares an op once, with sample inputs and (optionally) a numpy reference, and the
kit runs it on every available backend and checks, each check on its own:

  ``forward``        the result matches the reference, with tolerances per dtype
  ``dtype``          each floating output has the declared dtype (default: the inputs' promoted dtype)
  ``device``         outputs and gradients live on the inputs' device and backend, and every kernel
                     that ran returned an array of that backend (not, say, a numpy array on cuda)
  ``no_mutation``    forward and backward leave the inputs' values and version counters alone
  ``backward``       backward returns one gradient per input, of the input's shape and dtype, with
                     every input or only one requiring grad (the op machinery raises PyTorch's
                     "Function XBackward0 returned an incorrect number of gradients (expected 2, got 1)"
                     and "... returned an invalid gradient at index 0 - got [7] but expected shape
                     compatible with [3]"; the kit reports them as this check failing)
  ``gradcheck``      float64 finite differences against backward (``bibun.autograd.gradcheck``)
  ``gradgradcheck``  the same for the gradient itself (``bibun.autograd.gradgradcheck``)

A failure raises :class:`ConformanceError` naming the case, backend and check, e.g.
``swish [numpy]: gradcheck failed on sample 0 (float64): GradcheckError: Jacobian mismatch ...``.

Usage (a plugin's ``tests/test_conformance.py``)::

    import numpy as np
    import bibun
    from bibun.testing import OpCase, Sample, check_op, conformance_tests
    from bibun_swish import swish            # the op under test: an OpDef or any callable on tensors

    rng = np.random.default_rng(0)

    SWISH = OpCase(
        "swish",
        op=swish,
        # numpy arrays (made now, cheap) become tensors only when a check runs: floating arrays take
        # the dtype under test and require grad in the gradient checks; integer arrays keep theirs
        samples=[Sample(rng.standard_normal((3, 4)), beta=1.0),
                 Sample(rng.standard_normal(5), beta=0.5).named("1d")],
        reference=lambda x, beta=1.0: x / (1 + np.exp(-beta * x)),   # numpy, on float64 arrays
        dtypes=(bibun.float32, bibun.float64),
    )

    # a loss: an op with a reduction. Integer targets are never differentiated; a floating target
    # is kept out of the gradient checks with Sample(x, target).constant(1)
    FOCAL = OpCase(
        "focal_loss",
        op=lambda x, t, reduction="mean": my_focal_loss(x, t, reduction=reduction),
        samples=lambda: [Sample(rng.standard_normal((4, 3)), rng.integers(0, 3, 4), reduction=r)
                         for r in ("mean", "sum", "none")],          # a factory: built on first use
        reference=None,                                               # no reference: no forward check
    )

    # one pytest test per (case, check, backend): test_conformance[swish-gradcheck-numpy], ...
    test_conformance = conformance_tests([SWISH, FOCAL])

    # or by hand, outside pytest (raises ConformanceError listing every failed check):
    check_op(SWISH, device="cpu")            # or backend="numpy"; checks=("forward", "gradcheck")

Samples may also be a callable ``() -> [Sample, ...]`` or ``(device_type, dtype) -> [Sample, ...]``
building bibun tensors itself (the kit copies them onto the backend under test); no tensor is
made at import time either way. Arguments may be tensors, numpy arrays, python scalars, or
lists/tuples of them (``Sample([a, b], dim=0)`` for ``cat``). Other ``OpCase`` options:
``out_dtype`` (a dtype, "same", or a tuple per output), ``tol={bibun.float32: (rtol, atol)}``,
``gradcheck=False`` / ``gradgradcheck=False``, ``gradcheck_kwargs={"atol": 1e-4}``,
``checks=(...)`` (the subset that applies).

Losses and other modules: ``module_case("focal", FocalLoss, samples, reference)`` passes each
sample's keyword arguments to ``FocalLoss(**kwargs)`` and its positional ones to the call.

The pytest plugin (registered through the ``pytest11`` entry point, so it is active wherever
bibun is installed) also gives any test the fixtures ``bibun_backend`` (a backend name,
parametrized over every registered backend; unavailable ones are skipped; ``BIBUN_BACKEND=name``
limits the run to one; factories pick it for its device type during the test) and ``bibun_device``
(that backend's device type, to pass as ``device=``).

Optimizers: ``check_optimizer(lambda params: MyOpt(params, lr=0.1), backend="numpy")`` checks
that a step decreases a quadratic, that parameters keep their identity, that parameters with
``grad=None`` are skipped, that ``state_dict()`` round-trips (through ``bibun.save``/``load`` too)
and that state stays on the parameters' device; ``optimizer_tests(factory)`` turns the same into
pytest tests per (check, backend).
"""

from __future__ import annotations

__all__ = ["OpCase", "Sample", "module_case", "ConformanceError", "CHECKS", "check_op", "run_check",
           "conformance_tests", "check_optimizer", "optimizer_tests", "OPTIMIZER_CHECKS", "available_backends",
           "ops_in_graph"]

_WHERE = {
    "OpCase": "case", "Sample": "case", "module_case": "case",
    "ConformanceError": "conformance", "CHECKS": "conformance", "check_op": "conformance",
    "run_check": "conformance", "available_backends": "conformance", "ops_in_graph": "conformance",
    "check_optimizer": "optimizer", "OPTIMIZER_CHECKS": "optimizer",
    "conformance_tests": "pytest_plugin", "optimizer_tests": "pytest_plugin",
}


def __getattr__(name):
    # the pytest plugin imports this package in every pytest run: load the kit only when used
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'bibun.testing' has no attribute '{name}'")
    import importlib
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__():
    return sorted(list(globals()) + __all__)
