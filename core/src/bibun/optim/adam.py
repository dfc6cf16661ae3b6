"""Adam: moving averages of the gradient and its square, bias-corrected; AMSGrad optional."""

from __future__ import annotations

from ..ops.pointwise import fma, lerp_into
from ..tensor import Tensor
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
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
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
        if differentiable:
            raise NotImplementedError("bibun's optimizers do not support differentiable=True")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("capturable", False)
            group.setdefault("differentiable", False)
            group.setdefault("decoupled_weight_decay", False)
            group.setdefault("fused", None)
            for p in group["params"]:
                s = self.state.get(p)
                if s and not isinstance(s.get("step"), Tensor) and "step" in s:
                    s["step"] = new_step(float(s["step"]))

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
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                xp = p._backend.xp
                param = p._data
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = new_step()
                    state["exp_avg"] = Tensor._make(xp.zeros_like(param), p._backend)
                    state["exp_avg_sq"] = Tensor._make(xp.zeros_like(param), p._backend)
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._make(xp.zeros_like(param), p._backend)
                step = next_step(state["step"])
                g = xp.negative(grad._data) if maximize else grad._data
                if weight_decay != 0:
                    if decoupled:
                        xp.multiply(param, 1 - lr * weight_decay, out=param)
                    else:
                        g = fma(xp, param, weight_decay, g)                 # grad + weight_decay * param
                exp_avg = state["exp_avg"]._data
                exp_avg_sq = state["exp_avg_sq"]._data
                lerp_into(xp, exp_avg, g, 1 - beta1)                         # m <- m + (1 - beta1) (g - m)
                xp.multiply(exp_avg_sq, beta2, out=exp_avg_sq)
                fma(xp, xp.multiply(g, 1 - beta2), g, exp_avg_sq, out=exp_avg_sq)  # v <- beta2 v + (1 - beta2) g^2
                bias_correction1 = 1 - beta1 ** step
                bias_correction2 = 1 - beta2 ** step
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2 ** 0.5
                denom = xp.empty_like(param)
                if amsgrad:
                    max_sq = state["max_exp_avg_sq"]._data
                    xp.maximum(max_sq, exp_avg_sq, out=max_sq)
                    xp.sqrt(max_sq, out=denom)
                else:
                    xp.sqrt(exp_avg_sq, out=denom)
                xp.divide(denom, bias_correction2_sqrt, out=denom)
                xp.add(denom, eps, out=denom)
                update = xp.multiply(exp_avg, -step_size, out=xp.empty_like(param))
                xp.divide(update, denom, out=update)
                xp.add(param, update, out=param)                             # p - step_size * m / denom
                p._version[0] += 1
        return loss
