"""bibun.autograd: backward, grad, custom Functions, grad modes, gradcheck and anomaly mode."""

from __future__ import annotations

from ..tensor import Tensor
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import run_backward
from .function import Function, FunctionCtx, once_differentiable
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, is_inference_mode_enabled, no_grad,
                        set_grad_enabled)
from .gradcheck import GradcheckError, gradcheck, gradgradcheck

__all__ = ["backward", "grad", "Function", "FunctionCtx", "once_differentiable", "no_grad", "enable_grad",
           "set_grad_enabled", "inference_mode", "is_grad_enabled", "is_inference_mode_enabled", "gradcheck",
           "gradgradcheck", "GradcheckError", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]


def _tensors(x, name):
    if isinstance(x, Tensor):
        return [x]
    if x is None:
        return []
    out = list(x)
    for t in out:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name} must be Tensors, got {type(t).__name__}")
    return out


def _make_grads(outputs, grads):
    from ..size import Size
    out = []
    for i, (o, g) in enumerate(zip(outputs, grads)):
        if g is None:
            if o._requires_grad:
                if o._data.size != 1:
                    raise RuntimeError("grad can be implicitly created only for scalar outputs")
                backend = o._backend
                with backend.scope_of(o._data):  # beside the output, on its GPU
                    g = Tensor._make(backend.xp.ones(o._data.shape, dtype=o._data.dtype), backend)
            out.append(g)
            continue
        if not isinstance(g, Tensor):
            raise TypeError(f"gradients must be Tensors or None, got {type(g).__name__}")
        if g._data.shape != o._data.shape:
            raise RuntimeError(f"Mismatch in shape: grad_output[{i}] has a shape of {Size(g._data.shape)!r} and "
                               f"output[{i}] has a shape of {Size(o._data.shape)!r}.")
        if g._backend is not o._backend:
            raise RuntimeError(f"invalid gradient at index {i} - expected device {o.device} but got {g.device}")
        if g.dtype.is_floating_point != o.dtype.is_floating_point:
            raise TypeError(f"invalid gradient at index {i} - expected dtype {o.dtype} but got {g.dtype}")
        out.append(g)
    return out


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, grad_variables=None, inputs=None):
    """Accumulate the gradients of ``tensors`` into the ``.grad`` of the leaves (or of ``inputs``)."""
    outputs = _tensors(tensors, "tensors")
    grads = [None] * len(outputs) if grad_tensors is None else _tensors(grad_tensors, "grad_tensors") \
        if not isinstance(grad_tensors, (list, tuple)) else list(grad_tensors)
    if len(grads) != len(outputs):
        raise RuntimeError(f"got {len(outputs)} tensors and {len(grads)} gradients")
    grads = _make_grads(outputs, grads)
    if retain_graph is None:
        retain_graph = create_graph
    inputs = None if inputs is None else _tensors(inputs, "inputs")
    if inputs is not None and not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    roots = [o for o in outputs]
    run_backward(roots, [_own(g) for g in grads], retain_graph=retain_graph, create_graph=create_graph,
                 inputs=inputs, accumulate=True)


def _own(g):
    """A gradient the engine may hand to a leaf: never the caller's own tensor object."""
    if g is None:
        return g
    return Tensor._make(g._backend.copy(g._data), g._backend) if not g._requires_grad else g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs`` (nothing is accumulated into ``.grad``)."""
    outs = _tensors(outputs, "outputs")
    ins = _tensors(inputs, "inputs")
    if grad_outputs is None:
        gos = [None] * len(outs)
    elif isinstance(grad_outputs, Tensor):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise RuntimeError(f"grad requires one grad_output per output: got {len(gos)} for {len(outs)} outputs")
    gos = _make_grads(outs, gos)
    if retain_graph is None:
        retain_graph = create_graph
    if allow_unused is None:
        allow_unused = materialize_grads
    result = run_backward(outs, gos, retain_graph=retain_graph, create_graph=create_graph, inputs=ins,
                          accumulate=False, allow_unused=allow_unused)
    if materialize_grads:
        result = [g if g is not None else x.new_zeros(x.shape) for g, x in zip(result, ins)]
    return tuple(result)
