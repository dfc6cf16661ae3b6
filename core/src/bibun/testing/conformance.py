"""Running an :class:`~bibun.testing.OpCase` on a backend: the checks, and how failures are reported.

Each check is a function ``(case, backend) -> None`` that raises :class:`_Failed` with what
went wrong and on which sample and dtype; :func:`run_check` turns that into a
:class:`ConformanceError` naming the case, backend and check.
"""

from __future__ import annotations

import contextlib
import os

import numpy as np

from .. import dtypes as _dt
from ..autograd import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad, no_grad
from ..dispatch import registry
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from .case import CHECKS, OpCase

__all__ = ["ConformanceError", "CHECKS", "check_op", "run_check", "available_backends", "resolve_backends"]


class ConformanceError(AssertionError):
    """One or more checks failed; ``failures`` holds ``(case, backend, check, message)`` for each."""

    def __init__(self, failures):
        self.failures = list(failures)
        super().__init__("\n".join(f"{case} [{backend}]: {check} failed{message}"
                                   for case, backend, check, message in self.failures))


class _Failed(Exception):
    """Raised inside a check: ``where`` is " on sample 0 (float32)" or empty."""

    def __init__(self, detail, where=""):
        super().__init__(detail)
        self.detail = detail
        self.where = where


# ---------------------------------------------------------------------- backends
def ops_in_graph(roots):
    """Names of the registered ops whose nodes are in the graphs behind ``roots`` (coverage checks)."""
    seen, ops = set(), set()
    stack = [t.grad_fn for t in roots if t is not None and t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        op = getattr(type(node), "_op", None)
        if op is not None:
            ops.add(op.name)
        stack.extend(fn for fn, _ in node.next_functions)
    return ops


def available_backends():
    """Names of the registered backends that can run here (``BIBUN_BACKEND=name`` keeps only that one)."""
    names = sorted(registry.backends())
    wanted = os.environ.get("BIBUN_BACKEND", "").strip()
    if wanted:
        names = [n for n in names if n == wanted]
    return [n for n in names if registry.backends()[n].availability()[0]]


def resolve_backends(backend=None, device=None):
    """Backend records for a backend name/record, a device (its preferred backend), or all available."""
    from ..backend import Backend
    if backend is not None:
        if isinstance(backend, Backend):
            return [backend]
        return [registry.get_backend(backend)]
    if device is not None:
        from ..factories import backend_for
        return [backend_for(device)]
    return [registry.get_backend(n) for n in available_backends()]


@contextlib.contextmanager
def _on_backend(backend):
    """Make ``backend`` the one that factories pick for its device type while a check runs."""
    old = os.environ.get("BIBUN_BACKEND")
    os.environ["BIBUN_BACKEND"] = backend.name
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("BIBUN_BACKEND", None)
        else:
            os.environ["BIBUN_BACKEND"] = old


# ---------------------------------------------------------------------- building samples
class _Leaf:
    """A placeholder for the k-th differentiable input in a built argument list."""

    __slots__ = ("k",)

    def __init__(self, k):
        self.k = k


class Built:
    """A sample made into tensors on one backend and dtype.

    ``leaves`` are the differentiable inputs (floating positional tensors not marked constant);
    ``tensors`` every tensor argument with a label, for the mutation check; ``call(leaves)``
    runs the op with the leaves substituted.
    """

    def __init__(self, case, sample, index, backend, dtype):
        self.case, self.sample, self.backend, self.dtype = case, sample, backend, dtype
        self.label = f"sample {index}" if sample.name is None else f"sample {index} {sample.name!r}"
        self.leaves = []
        self.tensors = []
        self.args = tuple(self._convert(a, f"argument {i}", i not in sample.constants)
                          for i, a in enumerate(sample.args))
        self.kwargs = {k: self._convert(v, f"argument {k!r}", False) for k, v in sample.kwargs.items()}

    def where(self, dtype=None):
        return f" on {self.label} ({(dtype or self.dtype).name})"

    def _convert(self, value, label, diff):
        if isinstance(value, (list, tuple)):
            items = [self._convert(v, f"{label}[{i}]", diff) for i, v in enumerate(value)]
            return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
        if isinstance(value, Tensor):
            host = value._backend.to_numpy(value.detach()._data, force=True)
        elif isinstance(value, np.ndarray):
            host = value
        else:
            return value
        t = _tensor(host, self.backend, self.dtype)
        self.tensors.append((label, t))
        if diff and t.is_floating_point():
            self.leaves.append(t)
            return _Leaf(len(self.leaves) - 1)
        return t

    def fresh_leaves(self, requires_grad=True):
        """New leaf tensors with the same values (``requires_grad`` a bool or the set of leaf indices)."""
        out = []
        for i, t in enumerate(self.leaves):
            leaf = Tensor._make(self.backend.copy(t._data), self.backend)
            want = requires_grad if isinstance(requires_grad, bool) else i in requires_grad
            out.append(leaf.requires_grad_() if want else leaf)
        return out

    def substitute(self, leaves):
        def put(v):
            if isinstance(v, _Leaf):
                return leaves[v.k]
            if isinstance(v, (list, tuple)):
                items = [put(x) for x in v]
                return type(v)(*items) if hasattr(v, "_fields") else type(v)(items)
            return v
        return tuple(put(a) for a in self.args), {k: put(v) for k, v in self.kwargs.items()}

    def call(self, leaves=None):
        args, kwargs = self.substitute(self.leaves if leaves is None else leaves)
        with _on_backend(self.backend):
            return self.case.op(*args, **kwargs)

    def reference_args(self):
        """float64 (or integer/bool) numpy copies of the inputs, for the reference."""
        args, kwargs = self.substitute(self.leaves)

        def host(v):
            if isinstance(v, Tensor):
                a = np.array(v._backend.to_numpy(v._data, force=True), copy=True)
                return a.astype(np.float64) if a.dtype.kind == "f" else a
            if isinstance(v, (list, tuple)):
                items = [host(x) for x in v]
                return type(v)(*items) if hasattr(v, "_fields") else type(v)(items)
            return v
        return tuple(host(a) for a in args), {k: host(v) for k, v in kwargs.items()}


def _tensor(host, backend, dtype):
    host = np.asarray(host)
    if host.dtype.kind == "f":
        target = np.dtype(dtype.numpy_name)
    else:
        _dt.from_numpy_name(host.dtype.name)  # raises for a dtype bibun does not have
        target = host.dtype
    return Tensor._make(backend.from_numpy(np.array(host, dtype=target, copy=True)), backend)


def _built(case, backend, dtype):
    device = "cpu" if backend.device_type == "cpu" else backend.device_type
    return [Built(case, s, i, backend, dtype) for i, s in enumerate(case.samples(device, dtype))]


def _run(built, leaves=None, what="the op"):
    try:
        return built.call(leaves)
    except _Failed:
        raise
    except Exception as exc:
        raise _Failed(f"{what} raised {type(exc).__name__}: {exc}", built.where()) from exc


def _outputs(out, built):
    if isinstance(out, Tensor):
        return (out,)
    if isinstance(out, (tuple, list)):
        for i, o in enumerate(out):
            if not isinstance(o, Tensor):
                raise _Failed(f"output {i} is a {type(o).__name__}, not a Tensor", built.where())
        return tuple(out)
    raise _Failed(f"the op returned a {type(out).__name__}, not a Tensor", built.where())


def _host(t):
    return np.asarray(t._backend.to_numpy(t._data, force=True))


def _tensor_like(t, values):
    """A tensor on ``t``'s backend with ``t``'s dtype holding ``values`` (a numpy array)."""
    return Tensor._make(t._backend.from_numpy(np.asarray(values).astype(t.dtype.numpy_name)), t._backend)


def _grad_outputs(outs, seed=0):
    rng = np.random.default_rng(seed)
    return [_tensor_like(o, rng.uniform(0.5, 1.5, size=o.shape)) for o in outs]


def _fmt_index(idx):
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


# ---------------------------------------------------------------------- the checks
def _check_forward(case, backend):
    for dtype in case.dtypes:
        rtol, atol = case.tolerance(dtype)
        for built in _built(case, backend, dtype):
            with no_grad():
                outs = _outputs(_run(built), built)
            ref_args, ref_kwargs = built.reference_args()
            try:
                expected = case.reference(*ref_args, **ref_kwargs)
            except Exception as exc:
                raise _Failed(f"the reference raised {type(exc).__name__}: {exc}", built.where()) from exc
            if not isinstance(expected, (tuple, list)):
                expected = (expected,)
            if len(expected) != len(outs):
                raise _Failed(f"the op returned {len(outs)} output(s), the reference {len(expected)}", built.where())
            for i, (o, e) in enumerate(zip(outs, expected)):
                problem = _compare(_host(o), e, rtol, atol)
                if problem:
                    raise _Failed(f"output {i} differs from the reference: {problem}", built.where())


def _compare(got, expected, rtol, atol):
    exp = np.asarray(expected._backend.to_numpy(expected._data, force=True)) if isinstance(expected, Tensor) \
        else np.asarray(expected)
    if got.shape != exp.shape:
        return f"shape {list(got.shape)}, the reference's {list(exp.shape)}"
    if got.dtype.kind in "biu" and exp.dtype.kind in "biu":
        bad = got != exp
        if bad.any():
            idx = tuple(np.argwhere(bad)[0])
            return (f"{int(bad.sum())} / {bad.size} elements differ; first at index {_fmt_index(idx)} "
                    f"(got {got[idx].item()}, expected {exp[idx].item()})")
        return None
    g = got.astype(np.float64)
    e = exp.astype(np.float64)
    close = np.isclose(g, e, rtol=rtol, atol=atol, equal_nan=True)
    if close.all():
        return None
    with np.errstate(invalid="ignore"):
        diff = np.where(close, 0.0, np.abs(g - e))
    diff = np.where(np.isnan(diff), np.inf, diff)
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    return (f"{int((~close).sum())} / {close.size} elements differ beyond rtol={rtol:g}, atol={atol:g}; "
            f"greatest difference {float(diff[idx]):.6g} at index {_fmt_index(idx)} "
            f"(got {float(g[idx]):.9g}, expected {float(e[idx]):.9g})")


def _check_dtype(case, backend):
    for dtype in case.dtypes:
        for built in _built(case, backend, dtype):
            with no_grad():
                outs = _outputs(_run(built), built)
            rule = case.out_dtype
            if isinstance(rule, (tuple, list)):
                if len(rule) != len(outs):
                    raise _Failed(f"out_dtype has {len(rule)} entries but the op returned {len(outs)} outputs",
                                  built.where())
                rules = rule
            else:
                rules = [rule] * len(outs)
            for i, (o, want) in enumerate(zip(outs, rules)):
                if want is None:
                    continue
                if want == "same":
                    if not o.is_floating_point():
                        continue
                    want = dtype if dtype.category == _dt.FLOATING else _dt.get_default_dtype()
                if o.dtype != want:
                    raise _Failed(f"output {i} has dtype {o.dtype}, expected {want}", built.where())


class _KernelSpy:
    """Stands in for a kernel in an op's cache and records outputs that are not the backend's arrays."""

    __slots__ = ("op", "fn", "backend", "problems")

    def __init__(self, op, fn, backend, problems):
        self.op, self.fn, self.backend, self.problems = op, fn, backend, problems

    def __call__(self, *args, **kwargs):
        out = self.fn(*args, **kwargs)
        for o in (out if isinstance(out, (tuple, list)) else (out,)):
            problem = _foreign(o, args, self.backend)
            if problem and len(self.problems) < 5:
                self.problems.append(f"the kernel of op '{self.op.name}' on backend '{self.backend.name}' {problem}")
        return out


def _foreign(out, args, backend):
    array_type = backend.array_type
    if out.__class__ is not array_type:
        if isinstance(out, (bool, int, float)) or (array_type is np.ndarray and isinstance(out, np.generic)):
            return None
        return (f"returned a {type(out).__module__}.{type(out).__name__}, not the backend's array type "
                f"{array_type.__module__}.{array_type.__name__} (it had to be copied over)")
    if backend.device_type != "cpu":
        index = getattr(backend.impl, "device_index", None)
        if index is not None:
            ins = [a for a in args if a.__class__ is array_type]
            if ins and index(out) != index(ins[0]):
                return (f"returned an array on {backend.device_type}:{index(out)} for inputs on "
                        f"{backend.device_type}:{index(ins[0])}")
    return None


@contextlib.contextmanager
def _spy_kernels(backend, problems, extra=()):
    """Wrap every kernel ``backend`` would run so its raw outputs can be checked."""
    from ..dispatch.registry import _CompositeMarker
    ops = list(registry.ops().values()) + [op for op in extra if isinstance(op, OpDef)]
    spied = []
    for op in ops:
        try:
            fn = registry.resolve_kernel(op, backend)[0]
        except Exception:  # no kernel for this backend: nothing to watch
            continue
        if fn.__class__ is _CompositeMarker:
            continue
        op.cache[backend.name] = _KernelSpy(op, fn, backend, problems)
        spied.append(op)
    try:
        yield
    finally:
        for op in spied:
            op.cache.pop(backend.name, None)  # resolved again on next use


def _device_of(built):
    for _, t in built.tensors:
        return t.device
    return None


def _check_device(case, backend):
    problems = []
    for dtype in case.dtypes:
        for built in _built(case, backend, dtype):
            want = _device_of(built)
            grad = case.gradcheck and dtype.category == _dt.FLOATING and built.leaves
            leaves = built.fresh_leaves(requires_grad=bool(grad))
            with _spy_kernels(backend, problems, (case.op,)), enable_grad():
                outs = _outputs(_run(built, leaves), built)
                for i, o in enumerate(outs):
                    if o._backend is not backend or (want is not None and o.device != want):
                        raise _Failed(f"output {i} is on {o.device} (backend '{o._backend.name}'), the inputs on "
                                      f"{want} (backend '{backend.name}')", built.where())
                douts = [o for o in outs if o.requires_grad]
                grads = []
                if grad and douts:
                    try:
                        grads = _autograd_grad(douts, leaves, _grad_outputs(douts), allow_unused=True)
                    except Exception as exc:
                        raise _Failed(f"backward raised {type(exc).__name__}: {exc}", built.where()) from exc
            if problems:
                raise _Failed("; ".join(problems), built.where())
            for i, g in enumerate(grads):
                if g is not None and (g._backend is not backend or g.device != leaves[i].device):
                    raise _Failed(f"the gradient of input {i} is on {g.device} (backend '{g._backend.name}'), the "
                                  f"input on {leaves[i].device} (backend '{backend.name}')", built.where())


def _snapshot(built):
    return [(label, t, np.array(_host(t), copy=True), t._version[0]) for label, t in built.tensors]


def _compare_snapshot(snap, when, built):
    for label, t, values, version in snap:
        now = _host(t)
        same = np.array_equal(now, values, equal_nan=now.dtype.kind == "f")
        if not same or t._version[0] != version:
            what = "values" if not same else "version counter"
            raise _Failed(f"{label} was modified in place by {when} ({what} changed; version {version} -> "
                          f"{t._version[0]})", built.where())


def _check_no_mutation(case, backend):
    for dtype in case.dtypes:
        for built in _built(case, backend, dtype):
            snap = _snapshot(built)
            with no_grad():
                _run(built)
            _compare_snapshot(snap, "forward", built)
            if not (case.gradcheck and dtype.category == _dt.FLOATING and built.leaves):
                continue
            # the same with a graph: the leaves are the built tensors themselves, so they are watched too
            for t in built.leaves:
                t.requires_grad_()
            try:
                with enable_grad():
                    outs = _outputs(_run(built), built)
                    _compare_snapshot(snap, "forward (recording a graph)", built)
                    douts = [o for o in outs if o.requires_grad]
                    if douts:
                        try:
                            _autograd_grad(douts, built.leaves, _grad_outputs(douts), allow_unused=True)
                        except Exception as exc:
                            raise _Failed(f"backward raised {type(exc).__name__}: {exc}", built.where()) from exc
                _compare_snapshot(snap, "backward", built)
            finally:
                for t in built.leaves:
                    t.requires_grad_(False)


def _check_backward(case, backend):
    ran = False
    for dtype in case.dtypes:
        if dtype.category != _dt.FLOATING:
            continue
        for built in _built(case, backend, dtype):
            n = len(built.leaves)
            if not n:
                continue
            ran = True
            subsets = [set(range(n))] + ([{i} for i in range(n)] if n > 1 else [])
            for subset in subsets:
                leaves = built.fresh_leaves(subset)
                with enable_grad():
                    outs = _outputs(_run(built, leaves), built)
                    douts = [o for o in outs if o.requires_grad]
                    if not douts:
                        raise _Failed(f"no output requires grad although input(s) {sorted(subset)} do: the op "
                                      "records no graph (declare gradcheck=False if it has no gradient)",
                                      built.where())
                    wrt = [leaves[i] for i in sorted(subset)]
                    try:
                        grads = _autograd_grad(douts, wrt, _grad_outputs(douts), allow_unused=True)
                    except Exception as exc:
                        raise _Failed(f"backward raised {type(exc).__name__}: {exc}", built.where()) from exc
                for i, x, g in zip(sorted(subset), wrt, grads):
                    if g is None:
                        continue
                    if g.shape != x.shape:
                        raise _Failed(f"the gradient of input {i} has shape {list(g.shape)}, the input "
                                      f"{list(x.shape)}", built.where())
                    if g.dtype != x.dtype:
                        raise _Failed(f"the gradient of input {i} has dtype {g.dtype}, the input {x.dtype}",
                                      built.where())
    if not ran:
        raise _Failed("no sample has a floating positional input to differentiate")


def _gradchecks(case, backend, which):
    from ..autograd.gradcheck import gradcheck, gradgradcheck
    fn_check = gradcheck if which == "gradcheck" else gradgradcheck
    kwargs = case.gradcheck_kwargs if which == "gradcheck" else case.gradgradcheck_kwargs
    ran = False
    for built in _built(case, backend, _dt.float64):
        if not built.leaves:
            continue
        ran = True
        leaves = built.fresh_leaves()

        def fn(*xs, built=built):
            return built.call(xs)
        try:
            with enable_grad():
                ok = fn_check(fn, tuple(leaves), **kwargs)
        except Exception as exc:
            raise _Failed(f"{type(exc).__name__}: {exc}".rstrip(), built.where()) from exc
        if ok is False:
            raise _Failed("the check returned False", built.where())
    if not ran:
        raise _Failed("no sample has a floating positional input to differentiate")


def _check_gradcheck(case, backend):
    _gradchecks(case, backend, "gradcheck")


def _check_gradgradcheck(case, backend):
    _gradchecks(case, backend, "gradgradcheck")


_CHECK_FNS = {"forward": _check_forward, "dtype": _check_dtype, "device": _check_device,
              "no_mutation": _check_no_mutation, "backward": _check_backward, "gradcheck": _check_gradcheck,
              "gradgradcheck": _check_gradgradcheck}
assert tuple(_CHECK_FNS) == CHECKS


# ---------------------------------------------------------------------- entry points
def _failure(case, backend, check):
    """``None`` if ``check`` passes on ``backend``, else ``(case, backend, check, message)``."""
    try:
        with _on_backend(backend):  # tensors the checks make themselves (gradcheck's seeds) land there too
            _CHECK_FNS[check](case, backend)
    except _Failed as exc:
        return (case.name, backend.name, check, f"{exc.where}: {exc.detail}")
    return None


def run_check(case, check, backend=None, device=None):
    """Run one check of ``case`` (on one backend, or every available one); raise ConformanceError on failure."""
    if not isinstance(case, OpCase):
        raise TypeError(f"expected a bibun.testing.OpCase, got {type(case).__name__}")
    if check not in _CHECK_FNS:
        raise ValueError(f"unknown check {check!r}; known: {', '.join(CHECKS)}")
    failures = [f for b in resolve_backends(backend, device) if (f := _failure(case, b, check))]
    if failures:
        raise ConformanceError(failures)


def check_op(case, backend=None, device=None, checks=None):
    """Run the checks of ``case`` (default: all that apply) and raise ConformanceError listing every failure.

    ``backend``: a backend name; ``device``: a device, meaning the backend that serves it;
    neither: every available backend.
    """
    if not isinstance(case, OpCase):
        raise TypeError(f"expected a bibun.testing.OpCase, got {type(case).__name__}")
    checks = case.applicable_checks() if checks is None else tuple(checks)
    unknown = [c for c in checks if c not in _CHECK_FNS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {', '.join(CHECKS)}")
    failures = []
    for b in resolve_backends(backend, device):
        for check in checks:
            f = _failure(case, b, check)
            if f:
                failures.append(f)
    if failures:
        raise ConformanceError(failures)
