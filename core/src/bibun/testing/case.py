"""What an author declares for the conformance kit: an :class:`OpCase` and its :class:`Sample` inputs.

Both are plain descriptions: nothing here makes a tensor. Samples become tensors on the
backend and dtype under test only when a check runs (see ``conformance.build``), so a test
module can declare its cases at import time.
"""

from __future__ import annotations

import inspect

__all__ = ["Sample", "OpCase", "module_case", "CHECKS", "DEFAULT_TOL"]

# every check the kit knows, in the order they run
CHECKS = ("forward", "dtype", "device", "no_mutation", "backward", "gradcheck", "gradgradcheck")

# (rtol, atol) by dtype name, against a reference computed in float64 from the same input values
DEFAULT_TOL = {"float16": (1e-3, 1e-3), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


class Sample:
    """One call of the op: ``op(*args, **kwargs)``.

    Arguments may be bibun tensors, numpy arrays, python scalars, or lists/tuples of those.
    Floating tensors and arrays are cast to the dtype under test; in the gradient checks the
    floating ones among the positional arguments require grad, except positions marked
    :meth:`constant` (a loss's target, a mask given as floats). Arrays passed by keyword
    become tensors too, but are never differentiated.
    """

    def __init__(self, *args, **kwargs):
        self.args = args
        self.kwargs = kwargs
        self.constants = frozenset()
        self.name = None

    def constant(self, *positions):
        """Keep the positional arguments at ``positions`` out of the gradient checks."""
        self.constants = self.constants | frozenset(positions)
        return self

    def named(self, name):
        """A short label used in failure messages instead of the sample's index."""
        self.name = str(name)
        return self

    def __repr__(self):
        parts = [_describe(a) for a in self.args] + [f"{k}={_describe(v)}" for k, v in self.kwargs.items()]
        label = f" {self.name!r}" if self.name else ""
        return f"Sample{label}({', '.join(parts)})"


def _describe(value):
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return f"<{type(value).__name__} shape={list(shape)} dtype={value.dtype}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    return repr(value)


class OpCase:
    """An op (an ``OpDef`` or any callable on tensors) with its samples and what to expect of it.

    ``samples``: a list of :class:`Sample`, or a callable returning one, taking no argument or
    ``(device, dtype)``. ``reference(*numpy_args, **kwargs)``: the expected result from float64
    numpy copies of the inputs (a tuple for several outputs); ``None`` skips the forward check.
    ``out_dtype``: ``"same"`` (floating outputs have the dtype under test), a bibun dtype for
    every output, or a tuple with one entry per output (``None`` leaves that output unchecked).
    ``tol``: ``{dtype: (rtol, atol)}`` overriding :data:`DEFAULT_TOL`. ``checks``: the checks that
    apply (default: all that the other options allow).
    """

    def __init__(self, name, op, samples, reference=None, *, dtypes=None, out_dtype="same", tol=None,
                 gradcheck=True, gradgradcheck=True, gradcheck_kwargs=None, gradgradcheck_kwargs=None,
                 checks=None):
        if not callable(op):
            raise TypeError(f"OpCase {name!r}: op must be callable (an OpDef or a function), got {type(op).__name__}")
        if not (callable(samples) or isinstance(samples, (list, tuple))):
            raise TypeError(f"OpCase {name!r}: samples must be a list of Sample or a callable returning one")
        if checks is not None:
            unknown = [c for c in checks if c not in CHECKS]
            if unknown:
                raise ValueError(f"OpCase {name!r}: unknown checks {unknown}; known: {', '.join(CHECKS)}")
        self.name = str(name)
        self.op = op
        self._samples = samples
        self.reference = reference
        self._dtypes = dtypes
        self.out_dtype = out_dtype
        self.tol = dict(tol or {})
        self.gradcheck = bool(gradcheck)
        self.gradgradcheck = bool(gradgradcheck) and bool(gradcheck)
        self.gradcheck_kwargs = dict(gradcheck_kwargs or {})
        self.gradgradcheck_kwargs = dict(gradgradcheck_kwargs if gradgradcheck_kwargs is not None
                                         else self.gradcheck_kwargs)
        self._checks = None if checks is None else tuple(checks)

    def __repr__(self):
        return f"<OpCase {self.name}>"

    @property
    def dtypes(self):
        """The dtypes the forward/dtype/device/mutation/backward checks run in (default float32, float64)."""
        if self._dtypes is None:
            from .. import dtypes as _dt
            return (_dt.float32, _dt.float64)
        return tuple(self._dtypes)

    def applicable_checks(self):
        """The checks this case runs, decided from its declaration alone (no sample is built)."""
        wanted = self._checks if self._checks is not None else CHECKS
        out = []
        for check in CHECKS:
            if check not in wanted:
                continue
            if check == "forward" and self.reference is None:
                continue
            if check in ("backward", "gradcheck") and not self.gradcheck:
                continue
            if check == "gradgradcheck" and not self.gradgradcheck:
                continue
            out.append(check)
        return tuple(out)

    def tolerance(self, dtype):
        """``(rtol, atol)`` for comparing results of ``dtype`` with the reference."""
        for key, value in self.tol.items():
            if key == dtype or getattr(key, "name", key) == dtype.name:
                return tuple(value)
        return DEFAULT_TOL.get(dtype.name, (0.0, 0.0))

    def samples(self, device, dtype):
        """The samples, made now (a factory is called with ``(device, dtype)`` if it takes them)."""
        source = self._samples
        if callable(source):
            try:
                params = inspect.signature(source).parameters
            except (TypeError, ValueError):
                params = {}
            takes = [p for p in params.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                     and p.default is p.empty]
            source = source(device, dtype) if len(takes) >= 2 else source()
        samples = list(source)
        for i, s in enumerate(samples):
            if not isinstance(s, Sample):
                raise TypeError(f"OpCase {self.name!r}: sample {i} is a {type(s).__name__}, not a bibun.testing.Sample")
        if not samples:
            raise ValueError(f"OpCase {self.name!r} has no samples")
        return samples


def module_case(name, factory, samples, reference=None, **options):
    """An :class:`OpCase` for a module class (a loss, a layer): each sample's keyword arguments go to
    ``factory(**kwargs)``, its positional arguments to the module's call.

    ``module_case("focal", FocalLoss, [Sample(x, target, gamma=2.0, reduction="sum")], reference=...)``
    checks ``FocalLoss(gamma=2.0, reduction="sum")(x, target)``; the reference receives the same
    keyword arguments. ``factory`` may also be ``lambda **kw: bibun.nn.create_loss("focal", **kw)``.
    """
    def call(*args, **kwargs):
        return factory(**kwargs)(*args)
    call.__name__ = getattr(factory, "__name__", name)
    return OpCase(name, op=call, samples=samples, reference=reference, **options)
