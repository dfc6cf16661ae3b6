"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from ..ops.pointwise import fma
from ..tensor import Tensor
from .optimizer import Optimizer, hyper, new_step, next_step

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), with learning-rate decay ``lr / (1 + (step - 1) * lr_decay)``.

    Each step follows PyTorch's single-tensor update operation for operation, so that from
    the same parameters and gradients the trajectory is PyTorch's to the last bit. As in
    PyTorch, the state (``step`` and ``sum``) of every parameter is made at construction.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if differentiable:
            raise NotImplementedError("bibun's optimizers do not support differentiable=True")
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        if fused:
            if differentiable:
                raise RuntimeError("`fused` does not support `differentiable`")
            if foreach:
                raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, initial_accumulator_value)

    def _init_state(self, p, initial_accumulator_value):
        state = self.state[p]
        state["step"] = new_step()
        xp = p._backend.xp
        state["sum"] = Tensor._make(xp.full(p._data.shape, initial_accumulator_value, dtype=p._data.dtype),
                                    p._backend)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)
        for s in self.state.values():
            if "step" in s and not isinstance(s["step"], Tensor):
                s["step"] = new_step(float(s["step"]))

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = hyper(group["lr"])
            lr_decay = group["lr_decay"]
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            maximize = group["maximize"]
            for p in group["params"]:
                grad = p._grad
                if grad is None:
                    continue
                xp = p._backend.xp
                param = p._data
                state = self.state[p]
                if len(state) == 0:  # a parameter added after construction
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                step = next_step(state["step"])
                g = xp.negative(grad._data) if maximize else grad._data
                if weight_decay != 0:
                    g = fma(xp, param, weight_decay, g)                  # grad + weight_decay * param
                clr = lr / (1 + (step - 1) * lr_decay)
                acc = state["sum"]._data
                fma(xp, g, g, acc, out=acc)                               # sum + g^2
                std = xp.sqrt(acc, out=xp.empty_like(param))
                xp.add(std, eps, out=std)
                update = xp.multiply(g, -clr, out=xp.empty_like(param))
                xp.divide(update, std, out=update)
                xp.add(param, update, out=param)                          # p - clr * g / std
                p._version[0] += 1
        return loss
