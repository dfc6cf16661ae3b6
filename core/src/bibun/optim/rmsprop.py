"""RMSprop: divide the gradient by a running root mean square; centered and momentum variants."""

from __future__ import annotations

from ..ops._portable import into
from ..ops.pointwise import fma, lerp_into
from . import _functional as _f
from .optimizer import Optimizer, hyper, new_step, next_step

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton), with PyTorch's placement of ``eps`` (added after the square root).

    Each step follows PyTorch's single-tensor update operation for operation, so that from
    the same parameters and gradients the trajectory is PyTorch's to the last bit.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _f.check_lr(lr)
        _f.check_nonnegative(("learning rate", lr), ("epsilon value", eps), ("momentum value", momentum),
                          ("weight_decay value", weight_decay), ("alpha value", alpha))
        _f.refuse_differentiable(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(momentum=0, centered=False, foreach=None, maximize=False, differentiable=False,
                                capturable=False)
        _f.steps_as_tensors(self.state.get(p) for group in self.param_groups for p in group["params"])

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
            for p, xp, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["square_avg"] = _f.zeros_state(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _f.zeros_state(p)
                    if centered:
                        state["grad_avg"] = _f.zeros_state(p)
                next_step(state["step"])
                g = _f.effective_grad(xp, param, grad, maximize, weight_decay)
                square_avg = state["square_avg"]._data
                _f.ema_square_into(xp, square_avg, g, alpha)                   # alpha v + (1 - alpha) g^2
                avg = xp.empty_like(param)
                if centered:
                    grad_avg = state["grad_avg"]._data
                    lerp_into(xp, grad_avg, g, 1 - alpha)
                    fma(xp, xp.negative(grad_avg), grad_avg, square_avg, out=avg)  # v - mean(g)^2
                    into(xp, xp.sqrt, avg, avg)
                else:
                    into(xp, xp.sqrt, avg, square_avg)
                avg += eps
                if momentum > 0:
                    buf = state["momentum_buffer"]._data
                    buf *= momentum
                    buf += into(xp, xp.divide, avg, g, avg)                    # momentum buf + g / avg
                    fma(xp, buf, -lr, param, out=param)                        # p - lr * buf
                else:
                    _f.add_ratio_into(xp, param, g, -lr, avg)                   # p - lr * g / avg
                p._version[0] += 1
        return loss
