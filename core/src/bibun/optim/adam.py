"""Adam: moving averages of the gradient and its square, bias-corrected; AMSGrad optional."""

from __future__ import annotations

from ..ops._portable import into
from ..ops.pointwise import lerp_into
from ..tensor import Tensor
from . import _functional as _f
from .optimizer import Optimizer, hyper, new_step, next_step

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (Kingma & Ba), with L2 ``weight_decay`` or, if ``decoupled_weight_decay``, AdamW's decay.

    Each step follows PyTorch's single-tensor update operation for operation, so that from
    the same parameters and gradients the trajectory is PyTorch's to the last bit.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
            if lr.numel() != 1:
                raise ValueError("Tensor lr must be 1-element")
        _f.check_nonnegative(("learning rate", lr), ("epsilon value", eps))
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        _f.check_nonnegative(("weight_decay value", weight_decay))
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError("betas must be either both floats or both Tensors")
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
                if betas[i].numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        _f.refuse_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        _f.check_fused(fused, differentiable, foreach)

    def __setstate__(self, state):
        super().__setstate__(state)
        self._setdefault_groups(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False,
                                decoupled_weight_decay=False, fused=None)
        _f.steps_as_tensors(self.state.get(p) for group in self.param_groups for p in group["params"])

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = hyper(group["lr"])
            beta1, beta2 = (hyper(b) for b in group["betas"])
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            decoupled = group["decoupled_weight_decay"]
            for p, xp, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["exp_avg"] = _f.zeros_state(p)
                    state["exp_avg_sq"] = _f.zeros_state(p)
                    if amsgrad:
                        state["max_exp_avg_sq"] = _f.zeros_state(p)
                step = next_step(state["step"])
                if decoupled and weight_decay != 0:
                    param *= 1 - lr * weight_decay
                g = _f.effective_grad(xp, param, grad, maximize, 0 if decoupled else weight_decay)
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                lerp_into(xp, exp_avg, g, 1 - beta1)                         # m <- m + (1 - beta1) (g - m)
                _f.ema_square_into(xp, exp_avg_sq, g, beta2)                 # v <- beta2 v + (1 - beta2) g^2
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                if amsgrad:
                    max_sq = state["max_exp_avg_sq"]._data
                    into(xp, xp.maximum, max_sq, max_sq, exp_avg_sq)
                    denom = into(xp, xp.sqrt, xp.empty_like(param), max_sq)
                else:
                    denom = into(xp, xp.sqrt, xp.empty_like(param), exp_avg_sq)
                denom /= bias_correction2_sqrt
                denom += eps
                _f.add_ratio_into(xp, param, exp_avg, -step_size, denom)    # p - step_size * m / denom
                p._version[0] += 1
        return loss
