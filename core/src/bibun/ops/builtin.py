"""The core's own ops, losses and optimizers, registered through the hooks a third-party plugin implements.

Losses and optimizers are named by "module:attribute" strings, imported on first use, so
loading the registry for the first tensor does not import ``bibun.nn`` or ``bibun.optim``.
"""

from __future__ import annotations

from . import (activation, arithmetic, convolution, dropout, embedding, indexing, inplace, linalg, loss, normalization,
               padding, pointwise, pooling, random_fill, reduction, shape, sorting, unary, views)

FAMILIES = (arithmetic, unary, activation, reduction, shape, indexing, linalg, inplace, sorting, views,
            convolution, pooling, padding, normalization, embedding, dropout, loss, pointwise, random_fill)


def all_ops():
    return [op for family in FAMILIES for op in family.OPS]


def bibun_register_ops(register):
    for op in all_ops():
        register.op(op)


# name -> "module:attribute"; the name is what bibun.nn.create_loss / bibun.optim.create take
LOSSES = {
    "mse": "bibun.nn.modules.loss:MSELoss", "l1": "bibun.nn.modules.loss:L1Loss",
    "smooth_l1": "bibun.nn.modules.loss:SmoothL1Loss", "huber": "bibun.nn.modules.loss:HuberLoss",
    "cross_entropy": "bibun.nn.modules.loss:CrossEntropyLoss", "nll": "bibun.nn.modules.loss:NLLLoss",
    "bce": "bibun.nn.modules.loss:BCELoss", "bce_with_logits": "bibun.nn.modules.loss:BCEWithLogitsLoss",
    "kl_div": "bibun.nn.modules.loss:KLDivLoss",
}
OPTIMIZERS = {
    "sgd": "bibun.optim.sgd:SGD", "adam": "bibun.optim.adam:Adam", "adamw": "bibun.optim.adamw:AdamW",
    "rmsprop": "bibun.optim.rmsprop:RMSprop", "adagrad": "bibun.optim.adagrad:Adagrad",
}


def bibun_register_losses(register):
    for name, factory in LOSSES.items():
        register.loss(name, factory)


def bibun_register_optimizers(register):
    for name, factory in OPTIMIZERS.items():
        register.optimizer(name, factory)
