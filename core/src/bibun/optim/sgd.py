"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from ..ops.pointwise import fma
from ..tensor import Tensor
from . import _functional as _f
from .optimizer import Optimizer, hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p <- p - lr * g`` where ``g`` is the gradient, optionally decayed and passed through momentum.

    The update is PyTorch's, operation for operation and rounding for rounding (multiply-adds
    fused where PyTorch's kernels fuse them), so trajectories match PyTorch's bit for bit.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _f.check_lr(lr)
        if lr < 0.0:  # unlike the other optimizers' checks, NaN passes here, as in PyTorch
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach,
                    "differentiable": differentiable, "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _f.refuse_differentiable(differentiable)
        super().__init__(params, defaults)
        _f.check_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = hyper(group["lr"])
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = hyper(group["weight_decay"])
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p, xp, param, grad in self._params_with_grad(group):
                g = _f.effective_grad(xp, param, grad, maximize, weight_decay)
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = Tensor._make(xp.asarray(g, copy=True), p._backend)
                        state["momentum_buffer"] = buf
                    else:
                        b = buf._data
                        b *= momentum
                        if 1 - dampening == 1:
                            b += g
                        else:
                            fma(xp, g, 1 - dampening, b, out=b)       # buf * momentum + (1 - dampening) * grad
                        buf._version[0] += 1
                    g = fma(xp, buf._data, momentum, g) if nesterov else buf._data
                fma(xp, g, -lr, param, out=param)                      # param - lr * grad
                p._version[0] += 1
        return loss
