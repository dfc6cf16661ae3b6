"""``Lion``: the sign of an interpolated momentum, with decoupled weight decay (Chen et al. 2023).

Per parameter ``p`` with gradient ``g`` and momentum ``m`` (zero at first)::

    p <- p * (1 - lr * weight_decay)                      decoupled decay, from the old p
    p <- p - lr * sign(beta1 * m + (1 - beta1) * g)
    m <- beta2 * m + (1 - beta2) * g

Every update has the same magnitude per element, so Lion wants a learning rate 3-10x
smaller than AdamW's and a weight decay 3-10x larger. It keeps one state tensor per
parameter (``exp_avg``) where Adam keeps two.
"""

from __future__ import annotations

import bibun
from bibun.optim import Optimizer

__all__ = ["Lion"]


class Lion(Optimizer):
    """Lion: ``lr`` (default 1e-4), ``betas=(0.9, 0.99)``, ``weight_decay`` (decoupled, default 0).

    ``maximize=True`` ascends the objective instead. The state of each parameter is
    ``{"exp_avg": tensor}``; ``state_dict()``/``load_state_dict()`` come from ``bibun.optim.Optimizer``.
    """

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, *, maximize=False):
        # PyTorch's optimizers' checks and messages; all run before anything is built
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("maximize", False)

    @bibun.no_grad()
    def step(self, closure=None):
        """Update every parameter that has a gradient; returns the closure's loss, if one is given."""
        loss = None
        if closure is not None:
            with bibun.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            weight_decay = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["exp_avg"] = bibun.zeros_like(p)
                exp_avg = state["exp_avg"]
                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)
                update = exp_avg.mul(beta1).add(grad, alpha=1 - beta1).sign()
                p.add_(update, alpha=-lr)
                exp_avg.mul_(beta2).add_(grad, alpha=1 - beta2)
        return loss
