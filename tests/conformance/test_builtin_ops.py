"""The conformance kit run over every differentiable op bibun registers itself.

Each case below is what a plugin author would write: an op (here a public bibun call),
samples, and a numpy reference where one is cheap. The kit then checks, on every
available backend, forward against the reference (float32 and float64), output dtypes and
devices, that inputs are left alone, that backward returns well-shaped gradients, and
gradcheck/gradgradcheck in float64. The last test walks the graphs of every case (with
backward built as a graph too) and fails if a registered differentiable op is reached by none.
"""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest

import bibun
import bibun.nn.functional as F
from bibun.dispatch import registry
from bibun.testing import (
    OPTIMIZER_CHECKS,
    OpCase,
    Sample,
    check_optimizer,
    conformance_tests,
    module_case,
    ops_in_graph,
)

ANY, POS, AWAY, SMALL, DISTINCT = "any", "pos", "away", "small", "distinct"


def _array(name, shape, kind, position=0):
    """float64 values for an input: ANY normal, POS in [0.5, 2], AWAY |x| >= 0.5, SMALL in [-1, 1],
    DISTINCT spaced 0.1 apart (no ties for max/sort, no kinks for clamp)."""
    rng = np.random.default_rng(zlib.crc32(f"{name}:{position}".encode()))
    size = int(np.prod(shape))
    if kind == POS:
        return rng.uniform(0.5, 2.0, size=shape)
    if kind == SMALL:
        return rng.uniform(-1.0, 1.0, size=shape)
    if kind == DISTINCT:
        return ((rng.permutation(size) - size / 2 + 0.25) * 0.1).reshape(shape)
    x = rng.standard_normal(size=shape)
    return np.sign(x) * (0.5 + np.abs(x)) if kind == AWAY else x


def _idx(*rows):
    return np.array(rows if len(rows) > 1 else rows[0], dtype=np.int64)


def case(name, op, shapes, reference=None, kind=ANY, gg=True, extra=(), kwargs_list=None, **options):
    """An OpCase whose samples are float inputs of ``shapes`` (made on first use), then ``extra`` arguments
    (index arrays, masks, ...); ``kwargs_list`` gives one sample per keyword set."""
    def samples():
        floats = [_array(name, s, kind, i) for i, s in enumerate(shapes)]
        kw_sets = kwargs_list or [{}]
        return [Sample(*floats, *extra, **kw).named(",".join(f"{k}={v}" for k, v in kw.items()) or None)
                if kw else Sample(*floats, *extra) for kw in kw_sets]
    return OpCase(name, op=op, samples=samples, reference=reference, gradgradcheck=gg, **options)


REDUCTIONS = [{"reduction": r} for r in ("mean", "sum", "none")]


def _reduce(values, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](values)


def _softmax(x, dim):
    e = np.exp(x - x.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


def _log_softmax(x, dim):
    m = x.max(axis=dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=dim, keepdims=True))


_erf = np.vectorize(math.erf)


def _softplus(x):
    return np.logaddexp(0.0, x)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _setitem(a, key, value):
    out = a * 1
    out[key] = value
    return out


def _scatter_ref(a, dim, index, src):
    out = a.copy()
    np.put_along_axis(out, index, src, axis=dim)
    return out


def _conv2d_ref(x, w, b, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = x.shape
    co, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, co, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = x[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return out + b[None, :, None, None]


def _pool_ref(x, k, fn):
    n, c, h, w = x.shape
    return fn(x.reshape(n, c, h // k, k, w // k, k), axis=(3, 5))


def _nll_ref(logp, target, weight=None, reduction="mean"):
    w = np.ones(logp.shape[1]) if weight is None else weight
    picked = np.take_along_axis(logp, np.expand_dims(target, 1), 1).squeeze(1)
    ws = w[target]
    losses = -ws * picked
    if reduction == "mean":
        return losses.sum() / ws.sum()
    return _reduce(losses, reduction)


def _bce_logits_ref(x, t, pos_weight):
    return -(pos_weight * t * np.log(_sigmoid(x)) + (1 - t) * np.log(1 - _sigmoid(x)))


def _gen(like):
    """A generator on ``like``'s device, made on each call: the same draws, as finite differences need."""
    return bibun.Generator(like.device).manual_seed(0)


def _batch_norm_ref(x, w, b, eps=1e-5):
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


def _layer_norm_ref(x, w, b, eps=1e-5):
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def _mul_through_view(a, b):
    y = a * 1
    y[0].mul_(b)  # y is rebuilt by a CopySlices node
    return y


def _view_scatter_ref(a, b):
    y = a.copy()
    y[0] *= b
    return y


def _quiet(fn):
    def wrapped(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)
    return wrapped


CASES = [
    # ------------------------------------------------------------------ arithmetic, with broadcasting
    case("add", lambda a, b: bibun.add(a, b, alpha=-2.5), [(2, 3), (3,)], lambda a, b: a - 2.5 * b),
    case("sub", lambda a, b: a - b, [(2, 3), (2, 1)], np.subtract),
    case("rsub", lambda a: 2.0 - a, [(2, 3)], lambda a: 2.0 - a),
    case("mul", lambda a, b: a * b, [(3, 1), (1, 4)], np.multiply),
    case("div", lambda a, b: a / b, [(2, 3), (3,)], np.divide, kind=AWAY),
    case("div_floor", lambda a, b: a.div(b, rounding_mode="floor"), [(2, 3), (2, 3)],
         lambda a, b: np.floor(a / b), kind=AWAY, gg=False),
    case("neg", lambda a: -a, [(2, 3)], np.negative),
    case("pow", lambda a: a ** 1.5, [(2, 3)], lambda a: a ** 1.5, kind=POS),
    case("pow_scalar_base", lambda a: 2 ** a, [(2, 3)], lambda a: 2.0 ** a),
    case("pow_tensor", lambda a, b: a ** b, [(2, 3), (3,)], np.power, kind=POS),
    case("maximum", lambda a, b: bibun.maximum(a, b), [(3, 1), (1, 4)], np.maximum),
    case("minimum", lambda a, b: bibun.minimum(a, b), [(2, 3), (3,)], np.minimum),
    case("remainder", lambda a, b: a.remainder(b), [(2, 3), (3,)], np.remainder, kind=POS),
    case("where", lambda a, b: bibun.where(a > 0, a, b), [(3, 4), (4,)], lambda a, b: np.where(a > 0, a, b),
         kind=AWAY),
    case("clamp", lambda a: a.clamp(-0.33, 0.47), [(2, 3, 4)], lambda a: np.clip(a, -0.33, 0.47), kind=DISTINCT),
    case("clamp_tensor", lambda a, lo, hi: a.clamp(lo, hi), [(2, 3), (3,), (2, 1)],
         lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi)),
    case("lerp", lambda a, b: a.lerp(b, 0.3), [(2, 3), (3,)], lambda a, b: a + 0.3 * (b - a)),
    case("lerp_tensor", lambda a, b, w: a.lerp(b, w), [(2, 3), (2, 3), (3,)], lambda a, b, w: a + w * (b - a)),
    case("addcmul", lambda a, b, c: a.addcmul(b, c, value=-0.7), [(2, 3), (2, 3), (3,)],
         lambda a, b, c: a - 0.7 * b * c),
    case("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=1.5), [(2, 3), (2, 3), (2, 1)],
         lambda a, b, c: a + 1.5 * b / c, kind=POS),
    # ------------------------------------------------------------------ unary math
    *[case(n, getattr(bibun, n), [(2, 3)], getattr(np, n), kind=k) for n, k in (
        ("exp", ANY), ("expm1", ANY), ("log", POS), ("log2", POS), ("log10", POS), ("log1p", POS), ("sqrt", POS),
        ("abs", AWAY), ("sin", ANY), ("cos", ANY), ("tan", SMALL), ("tanh", ANY), ("reciprocal", AWAY),
        ("square", ANY))],
    case("rsqrt", bibun.rsqrt, [(2, 3)], lambda a: 1 / np.sqrt(a), kind=POS),
    case("sigmoid", bibun.sigmoid, [(2, 3)], _sigmoid),
    case("sign", bibun.sign, [(2, 3)], np.sign, kind=AWAY, gg=False),
    case("rounding", lambda a: (a.floor(), a.ceil(), a.round(), a.trunc()), [(2, 3)],
         lambda a: (np.floor(a), np.ceil(a), np.round(a), np.trunc(a)), gg=False),
    # ------------------------------------------------------------------ activations
    case("relu", bibun.relu, [(2, 3)], lambda a: np.maximum(a, 0), kind=AWAY),
    case("gelu", F.gelu, [(2, 3)], lambda a: 0.5 * a * (1 + _erf(a / math.sqrt(2)))),
    case("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), [(2, 3)],
         lambda a: 0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    case("silu", F.silu, [(2, 3)], lambda a: a * _sigmoid(a)),
    case("mish", F.mish, [(2, 3)], lambda a: a * np.tanh(_softplus(a))),
    case("softplus", lambda a: F.softplus(a * 4, beta=0.5, threshold=1.0), [(2, 3)],
         lambda a: np.where(2 * a > 1.0, 4 * a, _softplus(2 * a) / 0.5), kind=AWAY),
    case("elu", lambda a: F.elu(a, 0.7), [(2, 3)], lambda a: np.where(a > 0, a, 0.7 * np.expm1(a)), kind=AWAY),
    case("elu_inplace", lambda a: F.elu(a * 1, 0.7, inplace=True), [(2, 3)],
         lambda a: np.where(a > 0, a, 0.7 * np.expm1(a)), kind=AWAY),
    case("celu", lambda a: F.celu(a, 1.5), [(2, 3)],
         lambda a: np.maximum(a, 0) + np.minimum(0, 1.5 * np.expm1(a / 1.5)), kind=AWAY),
    case("celu_inplace", lambda a: F.celu(a * 1, 1.5, inplace=True), [(2, 3)],
         lambda a: np.maximum(a, 0) + np.minimum(0, 1.5 * np.expm1(a / 1.5)), kind=AWAY),
    case("leaky_relu", lambda a: F.leaky_relu(a, 0.2), [(2, 3)], lambda a: np.where(a > 0, a, 0.2 * a), kind=AWAY),
    case("leaky_relu_inplace", lambda a: F.leaky_relu(a * 1, 0.2, inplace=True), [(2, 3)],
         lambda a: np.where(a > 0, a, 0.2 * a), kind=AWAY),
    case("hardtanh", lambda a: F.hardtanh(a, -0.7, 1.2), [(3, 4)], lambda a: np.clip(a, -0.7, 1.2), kind=DISTINCT),
    case("hardsigmoid", lambda a: F.hardsigmoid(a * 4), [(2, 3)], lambda a: np.clip(4 * a / 6 + 0.5, 0, 1),
         kind=DISTINCT),
    case("hardswish", lambda a: F.hardswish(a * 4), [(2, 3)], lambda a: 4 * a * np.clip(4 * a + 3, 0, 6) / 6,
         kind=DISTINCT),
    case("log_sigmoid", F.logsigmoid, [(2, 3)], lambda a: -_softplus(-a)),
    case("threshold", lambda a: F.threshold(a, 0.1, -2.0), [(2, 3)], lambda a: np.where(a > 0.1, a, -2.0),
         kind=AWAY),
    case("prelu", F.prelu, [(2, 3, 2), (3,)], lambda a, w: np.where(a > 0, a, w[None, :, None] * a), kind=AWAY),
    case("softmax", lambda a: a.softmax(1), [(2, 3)], lambda a: _softmax(a, 1)),
    case("log_softmax", lambda a: a.log_softmax(-1), [(2, 3)], lambda a: _log_softmax(a, -1)),
    case("logsumexp", lambda a: a.logsumexp(1), [(2, 3)], lambda a: np.log(np.exp(a).sum(1))),
    # ------------------------------------------------------------------ matrix products
    case("mm", bibun.mm, [(2, 3), (3, 2)], np.matmul),
    case("bmm", bibun.bmm, [(2, 2, 3), (2, 3, 2)], np.matmul),
    case("dot", bibun.dot, [(4,), (4,)], np.dot),
    case("mv", bibun.mv, [(2, 3), (3,)], np.matmul),
    case("matmul_3d_1d", bibun.matmul, [(2, 2, 3), (3,)], np.matmul),
    case("matmul_1d_2d", bibun.matmul, [(3,), (3, 2)], np.matmul),
    case("addmm", lambda b, m1, m2: bibun.addmm(b, m1, m2, beta=0.5, alpha=2.0), [(3,), (2, 4), (4, 3)],
         lambda b, m1, m2: 0.5 * b + 2.0 * m1 @ m2),
    # ------------------------------------------------------------------ reductions
    case("sum", lambda a: a.sum(), [(2, 3)], np.sum),
    case("sum_dims", lambda a: a.sum((-1, 0)), [(2, 3, 2)], lambda a: a.sum((-1, 0))),
    case("sum_to_size", lambda a: a.sum_to_size(1, 3), [(2, 3)], lambda a: a.sum(0, keepdims=True)),
    case("mean", lambda a: a.mean(), [(2, 3)], np.mean),
    case("mean_dim", lambda a: a.mean(-2, keepdim=True), [(2, 3, 2)], lambda a: a.mean(-2, keepdims=True)),
    case("prod", lambda a: a.prod(), [(2, 3)], np.prod, kind=AWAY),
    case("prod_dim", lambda a: a.prod(1), [(2, 3)], lambda a: a.prod(1), kind=AWAY),
    case("var", lambda a: a.var(1), [(2, 3)], lambda a: a.var(1, ddof=1)),
    case("std", lambda a: a.std((0, 1), unbiased=False), [(2, 3, 2)], lambda a: a.std((0, 1))),
    case("norm", lambda a: a.norm(dim=-1), [(2, 3)], lambda a: np.sqrt((a * a).sum(-1))),
    case("norm_p1_5", lambda a: a.norm(1.5), [(2, 3)], lambda a: (np.abs(a) ** 1.5).sum() ** (1 / 1.5), kind=AWAY),
    case("amax", lambda a: a.amax((0, 2), keepdim=True), [(2, 3, 4)], lambda a: a.max((0, 2), keepdims=True),
         kind=DISTINCT),
    case("amin", lambda a: a.amin(-1), [(2, 3, 4)], lambda a: a.min(-1), kind=DISTINCT),
    case("max", lambda a: a.max(), [(2, 3, 4)], np.max, kind=DISTINCT),
    case("min", lambda a: a.min(), [(2, 3, 4)], np.min, kind=DISTINCT),
    case("max_dim", lambda a: a.max(1), [(2, 3, 4)], lambda a: (a.max(1), a.argmax(1)), kind=DISTINCT),
    case("min_dim", lambda a: a.min(0), [(2, 3, 4)], lambda a: (a.min(0), a.argmin(0)), kind=DISTINCT),
    # ------------------------------------------------------------------ shapes and views
    case("view", lambda a: a.view(-1, 2), [(2, 3)], lambda a: a.reshape(-1, 2)),
    case("reshape_copy", lambda a: a.t().reshape(-1), [(2, 3)], lambda a: a.T.reshape(-1)),
    case("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 2)], lambda a: a.transpose(2, 0, 1)),
    case("transpose", lambda a: a.transpose(0, -1), [(2, 3, 2)], lambda a: a.swapaxes(0, -1)),
    case("t", lambda a: a.t(), [(2, 3)], np.transpose),
    case("expand", lambda a: a.expand(2, 3, 4), [(3, 1)], lambda a: np.broadcast_to(a, (2, 3, 4))),
    case("repeat", lambda a: a.repeat(2, 1, 2), [(2, 3)], lambda a: np.tile(a, (2, 1, 2))),
    case("cat", lambda a, b: bibun.cat([a, b], -1), [(2, 3), (2, 1)], lambda a, b: np.concatenate([a, b], -1)),
    case("stack", lambda a, b: bibun.stack((a, b), 1), [(2, 3), (2, 3)], lambda a, b: np.stack([a, b], 1)),
    case("split", lambda a: a.split(2, 1), [(2, 5)], lambda a: tuple(np.split(a, [2, 4], 1))),
    case("split_with_sizes", lambda a: a.split([1, 2]), [(3, 2)], lambda a: tuple(np.split(a, [1], 0))),
    case("unbind", lambda a: a.unbind(1), [(2, 3)], lambda a: tuple(a[:, i] for i in range(3))),
    case("squeeze", lambda a: a.squeeze(), [(2, 1, 3)], np.squeeze),
    case("squeeze_dim", lambda a: a.squeeze(1), [(2, 1, 3)], lambda a: a.squeeze(1)),
    case("squeeze_dims", lambda a: a.squeeze((0, 2)), [(1, 3, 1)], lambda a: a.squeeze((0, 2))),
    case("unsqueeze", lambda a: a.unsqueeze(-1), [(2, 3)], lambda a: a[..., None]),
    case("flip", lambda a: a.flip(0, -1), [(2, 3)], lambda a: np.flip(a, (0, -1))),
    case("clone", lambda a: a.clone(), [(2, 3)], np.copy),
    case("to_copy", lambda a: a.to(bibun.float32), [(2, 3)], lambda a: a, out_dtype=bibun.float32, gg=False,
         gradcheck_kwargs={"eps": 1e-2, "atol": 1e-4}),  # float32 rounding: finite differences need a wide step
    # ------------------------------------------------------------------ indexing
    case("basic_index", lambda a: a[...] * 2 + a[0] + a[:, 1:].sum(), [(2, 3)],
         lambda a: a * 2 + a[0] + a[:, 1:].sum()),
    case("advanced_index", lambda a, i: a[:, i], [(2, 3)], lambda a, i: a[:, i], extra=(_idx(2, 0, 2),)),
    case("gather", lambda a, i: a.gather(1, i), [(2, 3)], lambda a, i: np.take_along_axis(a, i, 1),
         extra=(_idx([0, 2, 2], [1, 1, 0]),)),
    case("scatter", lambda a, b, i: a.scatter(1, i, b), [(2, 3), (2, 2)], lambda a, b, i: _scatter_ref(a, 1, i, b),
         extra=(_idx([0, 2], [1, 0]),)),
    case("scatter_value", lambda a, i: a.scatter(0, i, 2.5), [(2, 3)],
         lambda a, i: _scatter_ref(a, 0, i, np.full(i.shape, 2.5)), extra=(_idx([[1, 0, 1]]),)),
    case("scatter_add", lambda a, b, i: a.scatter_add(1, i, b), [(2, 3), (2, 2)],
         lambda a, b, i: a + np.stack([np.bincount(i[r], b[r], 3) for r in range(2)]), extra=(_idx([0, 0], [2, 2]),)),
    case("index_select", lambda a, i: a.index_select(1, i), [(2, 3)], lambda a, i: np.take(a, i, 1),
         extra=(_idx(2, 0, 2),)),
    case("index_add", lambda a, b, i: a.index_add(1, i, b, alpha=1.5), [(2, 3), (2, 2)],
         lambda a, b, i: a + 1.5 * np.stack([b[:, 0] + b[:, 1] if j == 1 else 0 * b[:, 0] for j in range(3)], 1),
         extra=(_idx(1, 1),)),
    case("masked_fill", lambda a, m: a.masked_fill(m, 0.5), [(2, 3)], lambda a, m: np.where(m, 0.5, a),
         extra=(np.array([[True, False, True], [False, True, False]]),)),
    case("masked_fill_tensor", lambda a, v, m: a.masked_fill(m, v), [(2, 3), ()], lambda a, v, m: np.where(m, v, a),
         extra=(np.array([[True, False, True], [False, True, False]]),)),
    case("setitem_basic", lambda a, v: _setitem(a, (0, slice(1, None)), v), [(2, 3), (2,)],
         lambda a, v: np.concatenate([[np.concatenate([a[0, :1], v])], a[1:]])),
    case("setitem_advanced", lambda a, v: _setitem(a, (slice(None), [0, 2]), v), [(2, 3), (2, 2)],
         lambda a, v: np.stack([v[:, 0], a[:, 1], v[:, 1]], 1)),
    case("setitem_fill", lambda a, v: _setitem(a, Ellipsis, v) * a, [(2, 3), ()], lambda a, v: v * a),
    case("setitem_copy", lambda a, v: _setitem(a, Ellipsis, v) * a, [(2, 3), (3,)], lambda a, v: v * a),
    case("copy_", lambda a, b: (a * 1).copy_(b) * a, [(2, 3), (3,)], lambda a, b: b * a),
    case("fill_zero", lambda a: (a * 1).zero_() + (a * 1).fill_(2.5) + a, [(2, 3)], lambda a: 2.5 + a),
    case("fill_tensor", lambda a, v: (a * 1).fill_(v) * a, [(2, 3), ()], lambda a, v: v * a),
    case("inplace_on_view", _mul_through_view, [(2, 3), (3,)], _view_scatter_ref),
    case("embedding", lambda w, i: F.embedding(i, w), [(4, 3)], lambda w, i: w[i], extra=(_idx([0, 2], [3, 2]),)),
    # ------------------------------------------------------------------ losses (an op with a reduction)
    case("mse_loss", F.mse_loss, [(2, 3), (2, 3)], lambda a, b, reduction: _reduce((a - b) ** 2, reduction),
         kwargs_list=REDUCTIONS),
    case("huber_loss", lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=0.7), [(2, 3), (2, 3)],
         lambda a, b, reduction: _reduce(np.where(np.abs(a - b) < 0.7, 0.5 * (a - b) ** 2,
                                                  0.7 * (np.abs(a - b) - 0.35)), reduction), kwargs_list=REDUCTIONS),
    case("smooth_l1_loss", lambda a, b, reduction: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.5),
         [(2, 3), (2, 3)], lambda a, b, reduction: _reduce(np.where(np.abs(a - b) < 0.5, 0.5 * (a - b) ** 2 / 0.5,
                                                                     np.abs(a - b) - 0.25), reduction),
         kwargs_list=REDUCTIONS),
    OpCase("soft_margin_loss", op=F.soft_margin_loss,
           samples=lambda: [Sample(_array("sml", (2, 3), ANY), np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]),
                                   reduction=r).constant(1) for r in ("mean", "sum", "none")],
           reference=lambda x, y, reduction: _reduce(np.log1p(np.exp(-y * x)), reduction)),
    OpCase("binary_cross_entropy", op=F.binary_cross_entropy,
           samples=lambda: [Sample(_array("bce", (2, 3), POS) / 2.5, _array("bcet", (2, 3), POS) / 2.5,
                                   weight=np.array([0.5, 1.0, 2.0]), reduction=r) for r in ("mean", "sum", "none")],
           reference=lambda p, t, weight, reduction: _reduce(-weight * (t * np.log(p) + (1 - t) * np.log(1 - p)),
                                                             reduction)),
    case("bce_with_logits", lambda a, t, reduction: F.binary_cross_entropy_with_logits(
        a, t.sigmoid(), pos_weight=bibun.tensor([1.0, 2.0, 0.5], dtype=a.dtype, device=a.device), reduction=reduction),
        [(2, 3), (2, 3)], lambda a, t, reduction: _reduce(_bce_logits_ref(a, _sigmoid(t), np.array([1.0, 2.0, 0.5])),
                                                          reduction), kwargs_list=REDUCTIONS),
    OpCase("nll_loss", op=F.nll_loss,
           samples=lambda: [Sample(_log_softmax(_array("nll", (4, 3), ANY), 1), _idx(0, 2, 1, 2),
                                   weight=np.array([0.5, 1.0, 2.0]), reduction=r) for r in ("mean", "sum", "none")],
           reference=_nll_ref),
    OpCase("nll_loss2d", op=F.nll_loss,
           samples=lambda: [Sample(_log_softmax(_array("nll2d", (2, 3, 1, 2), ANY), 1),
                                   _idx([[[0, 2]], [[1, 2]]]), reduction=r) for r in ("mean", "sum", "none")],
           reference=lambda x, t, reduction: _nll_ref(x.transpose(0, 2, 3, 1).reshape(-1, 3), t.reshape(-1),
                                                      reduction=reduction).reshape(
                                                          t.shape if reduction == "none" else ())),
    # ------------------------------------------------------------------ convolution, pooling, padding, norms
    case("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(1, 2, 4, 4), (2, 2, 2, 2), (2,)],
         lambda x, w, b: _conv2d_ref(x, w, b, 2, 1)),
    case("max_pool2d", lambda x: F.max_pool2d(x, 2), [(1, 2, 4, 4)], lambda x: _pool_ref(x, 2, np.max),
         kind=DISTINCT),
    case("avg_pool2d", lambda x: F.avg_pool2d(x, 2), [(1, 2, 4, 4)], lambda x: _pool_ref(x, 2, np.mean)),
    case("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (2, 2)), [(1, 2, 4, 4)],
         lambda x: _pool_ref(x, 2, np.mean)),
    case("pad_constant", lambda x: F.pad(x, (1, 2), value=0.5), [(2, 3)],
         lambda x: np.pad(x, ((0, 0), (1, 2)), constant_values=0.5)),
    *[case(f"pad_{mode}{n}d", lambda x, n=n, mode=mode: F.pad(x, (2, 1) * n, mode=mode), [(1, 1) + (3,) * n],
           lambda x, n=n, mode=mode: np.pad(x, ((0, 0), (0, 0)) + ((2, 1),) * n,
                                            mode={"reflect": "reflect", "replicate": "edge"}[mode]))
      for mode in ("reflect", "replicate") for n in (1, 2, 3)],
    case("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(4, 3), (3,), (3,)],
         _batch_norm_ref),
    case("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), [(2, 4), (4,), (4,)], _layer_norm_ref,
         tol={bibun.float32: (1e-5, 1e-5)}),
    # ------------------------------------------------------------------ random fills: gradients flow around the draws
    case("uniform_", lambda a: (a * 1).uniform_(-1, 1, generator=_gen(a)) * a, [(2, 3)]),
    case("normal_", lambda a: (a * 1).normal_(0.5, 2.0, generator=_gen(a)) * a, [(2, 3)]),
    case("random_", lambda a: ((a * 1).random_(1, 5, generator=_gen(a)) + (a * 1).random_(5, generator=_gen(a))
                               + (a * 1).random_(generator=_gen(a)) / 2 ** 53) * a, [(2, 3)]),
    case("bernoulli_", lambda a, p: (a * 1).bernoulli_(0.5, generator=_gen(a)) * a
         + (a * 1).bernoulli_(p.sigmoid(), generator=_gen(a)) * p, [(2, 3), (3,)]),
    case("exponential_", lambda a: (a * 1).exponential_(2.0, generator=_gen(a)) * a, [(2, 3)]),
    case("bernoulli", lambda p: bibun.bernoulli(p.sigmoid(), generator=_gen(p)) * p, [(2, 3)]),
    case("normal", lambda m, s: (bibun.normal(m, 0.5, generator=_gen(m)) + bibun.normal(0.5, s.abs(), generator=_gen(m))
                                 + bibun.normal(m, s.abs(), generator=_gen(m))) * 0 + m * s, [(2, 3), (2, 3)],
         kind=AWAY),
]



# ---------------------------------------------------------------------- losses and optimizers by registered name
def _loss(name):
    def make(**kwargs):
        return bibun.nn.create_loss(name, **kwargs)
    return make


def _loss_case(name, shapes, reference, extra=(), kind=ANY, transform=None, reductions=("mean", "sum", "none")):
    """``create_loss(name, reduction=r)(*inputs)`` for the three reductions; ``transform`` maps the raw
    float arrays to valid inputs (probabilities, log-probabilities)."""
    def samples():
        floats = [_array(f"loss_{name}", s, kind, i) for i, s in enumerate(shapes)]
        if transform is not None:
            floats = transform(*floats)
        return [Sample(*floats, *extra, reduction=r) for r in reductions]
    return module_case(f"loss:{name}", _loss(name), samples, reference)


def _ce_ref(x, t, reduction):
    return _nll_ref(_log_softmax(x, 1), t, reduction=reduction)


def _kl_ref(logq, p, reduction):
    pointwise = p * (np.log(p) - logq)
    return pointwise.sum() / len(p) if reduction == "batchmean" else _reduce(pointwise, reduction)


LOSS_CASES = [
    _loss_case("mse", [(2, 3), (2, 3)], lambda a, b, reduction: _reduce((a - b) ** 2, reduction)),
    _loss_case("l1", [(2, 3), (2, 3)], lambda a, b, reduction: _reduce(np.abs(a - b), reduction), kind=AWAY),
    _loss_case("huber", [(2, 3), (2, 3)], lambda a, b, reduction: _reduce(
        np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2, np.abs(a - b) - 0.5), reduction)),
    _loss_case("smooth_l1", [(2, 3), (2, 3)], lambda a, b, reduction: _reduce(
        np.where(np.abs(a - b) < 1, 0.5 * (a - b) ** 2, np.abs(a - b) - 0.5), reduction)),
    _loss_case("bce", [(2, 3), (2, 3)], lambda p, t, reduction: _reduce(
        -(t * np.log(p) + (1 - t) * np.log(1 - p)), reduction), kind=POS,
        transform=lambda p, t: (p / 2.5, t / 2.5)),
    _loss_case("bce_with_logits", [(2, 3), (2, 3)], lambda x, t, reduction: _reduce(
        _bce_logits_ref(x, t, 1.0), reduction), transform=lambda x, t: (x, _sigmoid(t))),
    _loss_case("nll", [(4, 3)], _nll_ref, extra=(_idx(0, 2, 1, 2),), transform=lambda x: (_log_softmax(x, 1),)),
    _loss_case("cross_entropy", [(4, 3)], _ce_ref, extra=(_idx(0, 2, 1, 2),)),
    _loss_case("kl_div", [(2, 3), (2, 3)], _kl_ref, transform=lambda x, p: (_log_softmax(x, 1), _softmax(p, 1)),
               reductions=("batchmean", "sum", "none")),  # "mean" warns, as in PyTorch
]

test_conformance = conformance_tests(CASES + LOSS_CASES)

# keyword arguments that make each built-in optimizer descend the kit's quadratic in 100 steps
OPTIMIZERS = {"sgd": {"lr": 0.1, "momentum": 0.9}, "adam": {"lr": 0.1}, "adamw": {"lr": 0.1},
              "rmsprop": {"lr": 0.01}, "adagrad": {"lr": 0.5}}


@pytest.mark.parametrize("check", OPTIMIZER_CHECKS)
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_builtin_optimizer(name, check, bibun_backend):
    check_optimizer(lambda params: bibun.optim.create(name, params, **OPTIMIZERS[name]), backend=bibun_backend,
                    checks=(check,), name=name)


def test_every_builtin_loss_and_optimizer_has_a_case():
    def builtin(kind):
        return {n for n, owner in registry.catalog(kind).items() if owner == "bibun.ops.builtin"}
    assert builtin("losses") == {c.name.removeprefix("loss:") for c in LOSS_CASES}
    assert builtin("optimizers") == set(OPTIMIZERS)


# ---------------------------------------------------------------------- coverage


def _reached(case):
    """Ops in the forward graph of the case's float64 samples and in the graph of their gradients."""
    from bibun.testing.conformance import Built
    backend = registry.get_backend("numpy")
    found = set()
    for i, sample in enumerate(case.samples("cpu", bibun.float64)):
        built = Built(case, sample, i, backend, bibun.float64)
        leaves = built.fresh_leaves()
        out = built.call(leaves)
        outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if o.requires_grad]
        found |= ops_in_graph(outs)
        seeds = [bibun.ones_like(o).requires_grad_() for o in outs]
        grads = bibun.autograd.grad(outs, leaves, seeds, create_graph=True, allow_unused=True)
        found |= ops_in_graph([g for g in grads if g is not None])
    return found


def test_every_differentiable_op_is_checked_by_the_kit():
    differentiable = {name for name, op in registry.ops().items() if op.differentiable
                      and registry.op_owner(name) == "bibun.ops.builtin"}
    reached = set()
    for c in CASES + LOSS_CASES:
        reached |= _reached(c)
    missing = sorted(differentiable - reached)
    assert not missing, f"registered differentiable ops no conformance case reaches: {missing}"


def test_case_names_are_unique():
    names = [c.name for c in CASES + LOSS_CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", ["max_dim", "mse_loss"])
def test_cases_declare_samples_lazily(name):
    c = next(c for c in CASES if c.name == name)
    assert callable(c._samples)  # nothing is made at import time
