"""``check_optimizer``: what any optimizer must do, checked on every backend.

``factory(params) -> optimizer``. The checks minimize small quadratics, so they need no
model and run in milliseconds.
"""

from __future__ import annotations

import io

import numpy as np

from .. import dtypes as _dt
from ..autograd.grad_mode import no_grad
from ..tensor import Tensor
from .conformance import ConformanceError, _Failed, _host, _on_backend, _tensor, resolve_backends

__all__ = ["check_optimizer", "OPTIMIZER_CHECKS"]

OPTIMIZER_CHECKS = ("decreases", "identity", "skips_grad_none", "state_dict", "device")

_START = (np.array([1.5, -2.0, 0.5]), np.array([[0.3, -1.0], [2.0, 0.8]]))
_TARGET = (np.array([-0.5, 0.5, 1.0]), np.array([[1.0, 0.0], [-1.0, 0.5]]))


def _leaves(backend, values):
    return [_tensor(v, backend, _dt.float32).requires_grad_() for v in values]


def _loss(params, targets):
    total = None
    for p, t in zip(params, targets):
        term = ((p - t) ** 2).sum()
        total = term if total is None else total + term
    return total


def _make(factory, params):
    try:
        return factory(params)
    except Exception as exc:
        raise _Failed(f"the factory raised {type(exc).__name__}: {exc}") from exc


def _step(opt, params, targets):
    """One step on the quadratic; returns the loss before the step."""
    opt.zero_grad()
    loss = _loss(params, targets)
    loss.backward()
    try:
        opt.step()
    except Exception as exc:
        raise _Failed(f"step() raised {type(exc).__name__}: {exc}") from exc
    return float(loss.item())


def _targets(backend):
    return [_tensor(t, backend, _dt.float32) for t in _TARGET]


def _check_decreases(factory, backend, steps=100):
    params = _leaves(backend, _START)
    targets = _targets(backend)
    opt = _make(factory, params)
    first = _step(opt, params, targets)
    for _ in range(steps - 1):
        _step(opt, params, targets)
    with no_grad():
        last = float(_loss(params, targets).item())
    if not last < 0.9 * first:
        raise _Failed(f"{steps} steps on a quadratic took the loss from {first:.6g} to {last:.6g} "
                      "(expected it to fall by 10% at least)")


def _check_identity(factory, backend):
    params = _leaves(backend, _START)
    before = [(p, p.shape, p.dtype, p.device, np.array(_host(p), copy=True)) for p in params]
    opt = _make(factory, params)
    targets = _targets(backend)
    for _ in range(3):
        _step(opt, params, targets)
    listed = [p for g in opt.param_groups for p in g["params"]]
    for i, (p, shape, dtype, device, values) in enumerate(before):
        if not any(q is p for q in listed):
            raise _Failed(f"parameter {i} is no longer in param_groups (the optimizer replaced the tensor object)")
        if p.shape != shape or p.dtype != dtype or p.device != device:
            raise _Failed(f"parameter {i} changed from {list(shape)} {dtype} on {device} to {list(p.shape)} "
                          f"{p.dtype} on {p.device}")
        if p.grad_fn is not None or not p.requires_grad:
            raise _Failed(f"parameter {i} is no longer a leaf that requires grad after step() "
                          "(update parameters under no_grad, in place)")
        if np.array_equal(_host(p), values):
            raise _Failed(f"parameter {i} did not change in 3 steps (step() must update the given tensors in place)")


def _check_skips_grad_none(factory, backend):
    params = _leaves(backend, _START)
    targets = _targets(backend)
    opt = _make(factory, params)
    frozen = params[1]
    values, version = np.array(_host(frozen), copy=True), frozen._version[0]
    for _ in range(3):
        opt.zero_grad()
        ((params[0] - targets[0]) ** 2).sum().backward()
        if frozen.grad is not None:
            raise _Failed("zero_grad() left a gradient on a parameter the loss does not use")
        try:
            opt.step()
        except Exception as exc:
            raise _Failed(f"step() with a parameter whose grad is None raised {type(exc).__name__}: {exc}") from exc
    if not np.array_equal(_host(frozen), values) or frozen._version[0] != version:
        raise _Failed("step() changed a parameter whose grad is None (such parameters must be skipped)")


def _check_state_dict(factory, backend):
    targets = _targets(backend)
    a_params = _leaves(backend, _START)
    a = _make(factory, a_params)
    for _ in range(3):
        _step(a, a_params, targets)
    saved = a.state_dict()
    try:
        from ..serialization import load, save
        buffer = io.BytesIO()
        save(saved, buffer)
        buffer.seek(0)
        loaded = load(buffer)
    except Exception as exc:
        raise _Failed(f"the state_dict does not survive bibun.save/bibun.load: {type(exc).__name__}: {exc}") from exc
    b_params = [_tensor(_host(p), backend, _dt.float32).requires_grad_() for p in a_params]
    b = _make(factory, b_params)
    try:
        b.load_state_dict(loaded)
    except Exception as exc:
        raise _Failed(f"load_state_dict(state_dict()) raised {type(exc).__name__}: {exc}") from exc
    for _ in range(3):
        _step(a, a_params, targets)
        _step(b, b_params, targets)
    for i, (p, q) in enumerate(zip(a_params, b_params)):
        if not np.allclose(_host(p), _host(q), rtol=1e-6, atol=1e-7):
            raise _Failed(f"after load_state_dict, parameter {i} follows another path: {_host(q).tolist()} instead "
                          f"of {_host(p).tolist()} (the state_dict does not hold all the state)")


def _check_device(factory, backend):
    params = _leaves(backend, _START)
    targets = _targets(backend)
    opt = _make(factory, params)
    for _ in range(3):
        _step(opt, params, targets)
    for i, p in enumerate(params):
        if p._backend is not backend:
            raise _Failed(f"parameter {i} moved to {p.device} (backend '{p._backend.name}')")
        for key, value in opt.state.get(p, {}).items():
            if not isinstance(value, Tensor):
                continue
            host_counter = value.ndim == 0 and value.device.type == "cpu"  # PyTorch keeps `step` on the CPU
            if value._backend is not backend and not host_counter:
                raise _Failed(f"state[{key!r}] of parameter {i} is on {value.device} (backend "
                              f"'{value._backend.name}'), the parameter on {p.device} (backend '{backend.name}')")


_CHECK_FNS = {"decreases": _check_decreases, "identity": _check_identity, "skips_grad_none": _check_skips_grad_none,
              "state_dict": _check_state_dict, "device": _check_device}


def check_optimizer(factory, backend=None, device=None, checks=None, name=None):
    """Check an optimizer made by ``factory(params)``; raise ConformanceError listing every failed check.

    ``backend``/``device`` as for :func:`~bibun.testing.check_op` (default: every available backend).
    """
    checks = OPTIMIZER_CHECKS if checks is None else tuple(checks)
    unknown = [c for c in checks if c not in _CHECK_FNS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {', '.join(OPTIMIZER_CHECKS)}")
    failures = []
    for b in resolve_backends(backend, device):
        label = name
        for check in checks:
            try:
                with _on_backend(b):
                    if label is None:
                        label = type(_make(factory, _leaves(b, _START))).__name__
                    _CHECK_FNS[check](factory, b)
            except _Failed as exc:
                failures.append((label or "optimizer", b.name, check, f": {exc.detail}"))
    if failures:
        raise ConformanceError(failures)
