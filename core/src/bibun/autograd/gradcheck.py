"""Numerical gradient checks: finite differences against what backward computes.

``gradcheck`` compares every Jacobian entry (slow mode), checks that a zero upstream
gradient gives zero input gradients and that backward is reentrant. Use float64 inputs.
"""

from __future__ import annotations

import warnings

from ..tensor import Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """A gradient check failed; the message says which output/input and shows both Jacobians."""


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _diff_outputs(out):
    return [o for o in _as_tuple(out) if isinstance(o, Tensor) and o.is_floating_point()]


def _numerical_jacobians(fn, inputs, eps):
    """jac[i][o] as a host numpy array of shape (inputs[i].numel(), outputs[o].numel())."""
    import numpy as np
    # fn runs with grad mode on and with inputs that require grad as the originals do:
    # gradgradcheck's fn differentiates inside itself
    base = [_leaf_like(x, x) if isinstance(x, Tensor) else x for x in inputs]
    n_out = [o.numel() for o in _diff_outputs(fn(*base))]
    jacs = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x._requires_grad):
            jacs.append(None)
            continue
        host = x._backend.to_numpy(x._data, force=True).astype(np.float64)
        per_out = [np.zeros((host.size, n)) for n in n_out]
        for j in range(host.size):
            vals = []
            for sign in (1, -1):
                pert = host.copy().reshape(-1)
                pert[j] += sign * eps
                xt = Tensor._make(x._backend.from_numpy(pert.reshape(host.shape).astype(host.dtype)), x._backend)
                args = list(base)
                args[i] = _leaf_like(xt.to(x.dtype), x)
                vals.append([o._backend.to_numpy(o._data, force=True).astype(np.float64).reshape(-1)
                             for o in _diff_outputs(fn(*args))])
            for k in range(len(n_out)):
                per_out[k][j] = (vals[0][k] - vals[1][k]) / (2 * eps)
        jacs.append(per_out)
    return jacs


def _leaf_like(t, like):
    """A fresh leaf with ``t``'s values that requires grad when ``like`` does."""
    t = t.detach()
    return t.requires_grad_() if like._requires_grad else t


def _analytical_jacobians(fn, inputs):
    import numpy as np

    from . import grad as autograd_grad
    diff_in = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    outs = _diff_outputs(fn(*inputs))
    jacs = {id(x): [np.zeros((x.numel(), o.numel())) for o in outs] for x in diff_in}
    for k, o in enumerate(outs):
        if not o._requires_grad:
            continue
        for m in range(o.numel()):
            g = o.new_zeros(o.shape)
            g._backend.xp.reshape(g._data, (-1,))[m] = 1  # a view: the array is fresh and contiguous
            grads = autograd_grad([o], diff_in, [g], retain_graph=True, allow_unused=True)
            for x, gx in zip(diff_in, grads):
                if gx is not None:
                    jacs[id(x)][k][:, m] = gx._backend.to_numpy(gx._data, force=True).astype(np.float64).reshape(-1)
    return jacs, outs


def _fmt(a):
    import numpy as np
    with np.printoptions(precision=6, suppress=True, linewidth=120):
        return str(a)


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False, fast_mode=False,
              masked=None):
    """True if backward matches finite differences for every input that requires grad."""
    import numpy as np
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x._requires_grad and x.dtype.name != "float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point or complex. This "
                          "check will likely fail if all the inputs are not of double precision floating point or "
                          "complex.", UserWarning, stacklevel=2)

    def fail(msg):
        if raise_exception:
            raise GradcheckError(msg)
        return False

    if not any(isinstance(x, Tensor) and x._requires_grad for x in inputs):
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have "
                         "requires_grad=True.")
    numerical = _numerical_jacobians(func, inputs, eps)
    analytical, outs = _analytical_jacobians(func, inputs)
    for i, x in enumerate(inputs):
        if numerical[i] is None:
            continue
        for k in range(len(outs)):
            num, ana = numerical[i][k], analytical[id(x)][k]
            if not np.allclose(ana, num, rtol=rtol, atol=atol, equal_nan=True):
                return fail(f"Jacobian mismatch for output {k} with respect to input {i},\nnumerical:{_fmt(num)}\n"
                            f"analytical:{_fmt(ana)}\n")
    # reentrancy: a second backward gives the same answer
    again, _ = _analytical_jacobians(func, inputs)
    for key, per_out in analytical.items():
        for a, b in zip(per_out, again[key]):
            if np.max(np.abs(a - b), initial=0.0) > nondet_tol:
                return fail("Backward is not reentrant, i.e., running backward with same input and grad_output "
                            "multiple times gives different values, although analytical gradient matches numerical "
                            f"gradient.The tolerance for nondeterminism was {nondet_tol}.")
    # a zero upstream gradient must give zero input gradients
    from . import grad as autograd_grad
    outs = [o for o in _diff_outputs(func(*inputs)) if o._requires_grad]
    diff_in = [x for x in inputs if isinstance(x, Tensor) and x._requires_grad]
    if outs:
        zeros = [o.new_zeros(o.shape) for o in outs]
        for gx in autograd_grad(outs, diff_in, zeros, allow_unused=True):
            if gx is not None and bool((gx != 0).any()):
                return fail("backward not multiplied by grad_output")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, gen_non_contig_grad_outputs=False,
                  raise_exception=True, nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
                  check_batched_grad=False, fast_mode=False, masked=False):
    """gradcheck of the gradient itself: checks second derivatives (backward of backward)."""
    from . import grad as autograd_grad
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if grad_outputs is None:
        from ..factories import randn
        outs = _diff_outputs(func(*inputs))
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype, device=o.device, requires_grad=True) for o in outs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)

    def first_derivative(*args):
        xs, gos = args[:n_in], args[n_in:]
        outs = [o for o in _diff_outputs(func(*xs))]
        diff_in = [xs[i] for i in diff_idx]
        grads = autograd_grad(outs, diff_in, list(gos), create_graph=True, allow_unused=True)
        return tuple(g if g is not None else diff_in[j].new_zeros(diff_in[j].shape) for j, g in enumerate(grads))

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
