"""RMSprop: divide the gradient by a running root mean square; centered and momentum variants."""

from __future__ import annotations

from ..ops.pointwise import fma, lerp_into
from ..tensor import Tensor
from .optimizer import Optimizer, hyper, new_step, next_step

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), with PyTorch's placement of ``eps`` (added after the square root).

    Each step follows PyTorch's single-tensor update operation for operation, so that from
    the same parameters and gradients the trajectory is PyTorch's to the last bit.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        if differentiable:
            raise NotImplementedError("bibun's optimizers do not support differentiable=True")
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
            for p in group["params"]:
                s = self.state.get(p)
                if s and "step" in s and not isinstance(s["step"], Tensor):
                    s["step"] = new_step(float(s["step"]))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = hyper(group["lr"])
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                xp = p._backend.xp
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["square_avg"] = Tensor._make(xp.zeros_like(param), p._backend)
                    if momentum > 0:
                        state["momentum_buffer"] = Tensor._make(xp.zeros_like(param), p._backend)
                    if centered:
                        state["grad_avg"] = Tensor._make(xp.zeros_like(param), p._backend)
                next_step(state["step"])
                g = xp.negative(grad._data) if maximize else grad._data
                if weight_decay != 0:
                    g = fma(xp, param, weight_decay, g)                       # grad + weight_decay * param
                square_avg = state["square_avg"]._data
                xp.multiply(square_avg, alpha, out=square_avg)
                fma(xp, xp.multiply(g, 1 - alpha), g, square_avg, out=square_avg)  # alpha v + (1 - alpha) g^2
                avg = xp.empty_like(param)
                if centered:
                    grad_avg = state["grad_avg"]._data
                    lerp_into(xp, grad_avg, g, 1 - alpha)
                    fma(xp, xp.negative(grad_avg), grad_avg, square_avg, out=avg)  # v - mean(g)^2
                    xp.sqrt(avg, out=avg)
                else:
                    xp.sqrt(square_avg, out=avg)
                xp.add(avg, eps, out=avg)
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    xp.multiply(buf, momentum, out=buf)
                    xp.add(buf, xp.divide(g, avg, out=avg), out=buf)            # momentum buf + g / avg
                    fma(xp, buf, -lr, param, out=param)                        # p - lr * buf
                else:
                    update = xp.multiply(g, -lr, out=xp.empty_like(param))
                    xp.divide(update, avg, out=update)
                    xp.add(param, update, out=param)                           # p - lr * g / avg
                p._version[0] += 1
        return loss
