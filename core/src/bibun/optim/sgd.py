"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum and weight decay."""

from __future__ import annotations

from ..ops.pointwise import fma
from ..tensor import Tensor
from .optimizer import Optimizer, hyper

__all__ = ["SGD"]


class SGD(Optimizer):
    """``p <- p - lr * g`` where ``g`` is the gradient, optionally decayed and passed through momentum.

    The update is PyTorch's, operation for operation and rounding for rounding (multiply-adds
    fused where PyTorch's kernels fuse them), so trajectories match PyTorch's bit for bit.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
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
        if differentiable:
            raise NotImplementedError("bibun's optimizers do not support differentiable=True")
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)

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
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                xp = p._backend.xp
                param = p._data
                g = grad._data
                if maximize:
                    g = xp.negative(g)
                if weight_decay != 0:
                    g = fma(xp, param, weight_decay, g)               # grad + weight_decay * param
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = Tensor._make(xp.array(g, copy=True), p._backend)
                        state["momentum_buffer"] = buf
                    else:
                        b = buf._data
                        xp.multiply(b, momentum, out=b)
                        if 1 - dampening == 1:
                            xp.add(b, g, out=b)
                        else:
                            fma(xp, g, 1 - dampening, b, out=b)       # buf * momentum + (1 - dampening) * grad
                        buf._version[0] += 1
                    g = fma(xp, buf._data, momentum, g) if nesterov else buf._data
                fma(xp, g, -lr, param, out=param)                      # param - lr * grad
                p._version[0] += 1
        return loss
