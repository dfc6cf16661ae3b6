"""Adagrad: per-coordinate steps scaled by the root of the summed squared gradients."""

from __future__ import annotations

from ..ops._portable import into
from ..ops.pointwise import fma
from ..tensor import Tensor
from . import _functional as _f
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
        _f.check_lr(lr)
        _f.check_nonnegative(("learning rate", lr), ("lr_decay value", lr_decay), ("weight_decay value", weight_decay),
                          ("initial_accumulator_value value", initial_accumulator_value), ("epsilon value", eps))
        _f.refuse_differentiable(differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        _f.check_fused(fused, differentiable, foreach)
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
        self._setdefault_groups(foreach=None, maximize=False, differentiable=False, fused=None)
        _f.steps_as_tensors(self.state.values())

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns the closure's loss, if any."""
        loss = self._run_closure(closure)
        for group in self.param_groups:
            lr = hyper(group["lr"])
            lr_decay = group["lr_decay"]
            weight_decay = group["weight_decay"]
            eps = group["eps"]
            maximize = group["maximize"]
            for p, xp, param, grad in self._params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:  # a parameter added after construction
                    self._init_state(p, self.defaults["initial_accumulator_value"])
                step = next_step(state["step"])
                g = _f.effective_grad(xp, param, grad, maximize, weight_decay)
                clr = lr / (1 + (step - 1) * lr_decay)
                acc = state["sum"]._data
                fma(xp, g, g, acc, out=acc)                               # sum + g^2
                std = into(xp, xp.sqrt, xp.empty_like(param), acc)
                std += eps
                _f.add_ratio_into(xp, param, g, -clr, std)                # p - clr * g / std
                p._version[0] += 1
        return loss
