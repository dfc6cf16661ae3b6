"""Losses: closed-form values, stable extremes, gradients (gradcheck and gradgradcheck), errors, modules.

Every value checked without PyTorch is computed by hand in the test. The parity tests
(``torch`` fixture) compare each loss x reduction x option with PyTorch: values, graph
node names, first and second gradients.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from test_ops_gradcheck import ANY, AWAY, check_case

import bibun
import bibun.nn.functional as F
from bibun import nn

LN2, LN3 = math.log(2), math.log(3)
REDUCTIONS = ("mean", "sum", "none")


def _t(values, like, dtype=None):
    """A constant tensor on ``like``'s device, float64 unless ``dtype`` says otherwise."""
    return bibun.tensor(values, dtype=dtype or bibun.float64, device=like.device)


def _i(values, like):
    return bibun.tensor(values, dtype=bibun.int64, device=like.device)


def _w3(like):
    return _t([0.5, 2.0, 1.5], like)


def _signs(like):
    return _t([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]], like)


def _quiet(fn):
    """``fn`` with the 'mean' reduction warning of kl_div silenced."""
    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return fn(*args, **kwargs)
    return run


def _per_reduction(name, make, shapes, kind):
    return [(f"{name}_{r}", make(r), shapes, kind) for r in REDUCTIONS]


# (id, fn, input shapes, kind): inputs from test_ops_gradcheck._inputs; targets and weights made inside fn
GRADCHECK_CASES = [
    *_per_reduction("mse", lambda r: lambda a, b: F.mse_loss(a, b, reduction=r), [(2, 3), (2, 3)], ANY),
    ("mse_bcast", lambda a, b: _quiet(F.mse_loss)(a, b), [(2, 1), (3,)], ANY),
    ("mse_weight", lambda a, b: F.mse_loss(a, b, weight=_signs(a).abs() + 1), [(2, 3), (2, 3)], ANY),
    *_per_reduction("l1", lambda r: lambda a: F.l1_loss(a, a.detach() * 0 + 0.25, reduction=r), [(2, 3)], AWAY),
    *_per_reduction("smooth_l1", lambda r: lambda a, b: F.smooth_l1_loss(a, b, reduction=r, beta=0.5),
                    [(2, 3), (2, 3)], ANY),
    *_per_reduction("huber", lambda r: lambda a, b: F.huber_loss(a, b, reduction=r, delta=0.7), [(2, 3), (2, 3)], ANY),
    ("huber_weight", lambda a, b: F.huber_loss(a, b, weight=_signs(a) + 2), [(2, 3), (2, 3)], ANY),
    *_per_reduction("soft_margin", lambda r: lambda a: F.soft_margin_loss(a, _signs(a), reduction=r), [(2, 3)], ANY),
    *_per_reduction("nll", lambda r: lambda a: F.nll_loss(a, _i([0, 2, 1, 2], a), weight=_w3(a), ignore_index=1,
                                                          reduction=r), [(4, 3)], ANY),
    ("nll_1d", lambda a: F.nll_loss(a, _i(2, a)), [(3,)], ANY),
    *_per_reduction("nll_3d", lambda r: lambda a: F.nll_loss(a, _i([[0, 2], [1, 1]], a), reduction=r),
                    [(2, 3, 2)], ANY),
    *_per_reduction("nll_4d", lambda r: lambda a: F.nll_loss(a, _i([[[0, 2]], [[1, 2]]], a), weight=_w3(a),
                                                             reduction=r), [(2, 3, 1, 2)], ANY),
    *_per_reduction("ce", lambda r: lambda a: F.cross_entropy(a, _i([0, 2, 1, 2], a), reduction=r), [(4, 3)], ANY),
    *_per_reduction("ce_smooth", lambda r: lambda a: F.cross_entropy(
        a, _i([0, 2, 1, 2], a), weight=_w3(a), ignore_index=1, label_smoothing=0.2, reduction=r), [(4, 3)], ANY),
    *_per_reduction("ce_probs", lambda r: lambda a, b: F.cross_entropy(
        a, b.softmax(1), weight=_w3(a), label_smoothing=0.1, reduction=r), [(2, 3), (2, 3)], ANY),
    *_per_reduction("bce", lambda r: lambda a, b: F.binary_cross_entropy(
        a.sigmoid(), b.sigmoid(), weight=_w3(a), reduction=r), [(2, 3), (2, 3)], ANY),
    *_per_reduction("bce_logits", lambda r: lambda a, b: F.binary_cross_entropy_with_logits(
        a, b.sigmoid(), weight=_w3(a), pos_weight=_w3(a) * 2, reduction=r), [(2, 3), (2, 3)], ANY),
    ("bce_logits_plain", lambda a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid()), [(2, 3), (2, 3)], ANY),
    *[(f"kl_{r}", _quiet(lambda a, b, r=r: F.kl_div(a.log_softmax(1), b.softmax(1), reduction=r)),
       [(2, 3), (2, 3)], ANY) for r in REDUCTIONS + ("batchmean",)],
    ("kl_log_target", lambda a, b: F.kl_div(a.log_softmax(1), b.log_softmax(1), reduction="batchmean",
                                            log_target=True), [(2, 3), (2, 3)], ANY),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_and_gradgradcheck(case, device):
    check_case(case, device)


# ---------------------------------------------------------------------- closed forms
def _close(t, expected, tol=1e-6):
    np.testing.assert_allclose(t.detach().cpu().numpy(), np.asarray(expected, dtype=np.float64), rtol=tol, atol=tol)


def _by_reduction(fn, none, count=None):
    """Check ``fn(reduction)`` for all three reductions, given the unreduced values (mean over ``count``)."""
    none = np.asarray(none, dtype=np.float64)
    _close(fn("none"), none)
    _close(fn("sum"), none.sum())
    _close(fn("mean"), none.sum() / (none.size if count is None else count))


def test_regression_losses_closed_form(device):
    x = bibun.tensor([1.0, 2.0, 3.0], device=device)
    y = bibun.tensor([0.0, 0.0, 1.0], device=device)
    _by_reduction(lambda r: F.mse_loss(x, y, reduction=r), [1, 4, 4])
    _by_reduction(lambda r: F.l1_loss(x, y, reduction=r), [1, 2, 2])
    z = bibun.tensor([0.0, 0.5, 3.0], device=device)
    zero = bibun.zeros(3, device=device)
    _by_reduction(lambda r: F.smooth_l1_loss(z, zero, reduction=r), [0, 0.125, 2.5])
    _by_reduction(lambda r: F.smooth_l1_loss(z, zero, reduction=r, beta=2.0), [0, 0.0625, 2.0])
    _by_reduction(lambda r: F.smooth_l1_loss(z, zero, reduction=r, beta=0.0), [0, 0.5, 3.0])
    _by_reduction(lambda r: F.huber_loss(z, zero, reduction=r), [0, 0.125, 2.5])
    _by_reduction(lambda r: F.huber_loss(z, zero, reduction=r, delta=2.0), [0, 0.125, 4.0])


def test_weighted_regression_losses(device):
    x = bibun.tensor([1.0, 2.0], device=device)
    y = bibun.zeros(2, device=device)
    w = bibun.tensor([1.0, 3.0], device=device)
    _close(F.mse_loss(x, y, weight=w), (1 + 12) / 4)  # mean: divided by the weights' sum
    _close(F.mse_loss(x, y, weight=w, reduction="none"), [1, 12])
    _close(F.l1_loss(x, y, weight=w, reduction="sum"), 7)
    _close(F.l1_loss(x, y, weight=w), 7 / 4)
    _close(F.huber_loss(x, y, weight=w), (0.5 + 3 * 1.5) / 2)  # mean: divided by numel


def test_soft_margin_closed_form(device):
    x = bibun.tensor([0.0, LN3], device=device)
    y = bibun.tensor([1.0, -1.0], device=device)
    _by_reduction(lambda r: F.soft_margin_loss(x, y, reduction=r), [LN2, 2 * LN2])


def test_nll_closed_form(device):
    x = bibun.tensor([[-1.0, -2.0, -3.0], [-4.0, -5.0, -6.0]], device=device)
    t = bibun.tensor([0, 2], device=device)
    w = bibun.tensor([1.0, 2.0, 3.0], device=device)
    _by_reduction(lambda r: F.nll_loss(x, t, reduction=r), [1, 6])
    _by_reduction(lambda r: F.nll_loss(x, t, weight=w, reduction=r), [1, 18], count=1 + 3)
    ignored = bibun.tensor([0, -100], device=device)
    _by_reduction(lambda r: F.nll_loss(x, ignored, reduction=r), [1, 0], count=1)
    _by_reduction(lambda r: F.nll_loss(x, bibun.tensor([2, 1], device=device), weight=w, ignore_index=1,
                                       reduction=r), [9, 0], count=3)
    # (C,) input with a 0-d target, or a target of size 1 (the loss is 0-d either way); N-d inputs
    _close(F.nll_loss(x[1], bibun.tensor(1, device=device)), 5)
    assert F.nll_loss(x[1], bibun.tensor([1], device=device), reduction="none").shape == ()
    x4 = x.t().reshape(1, 3, 1, 2)  # classes along dim 1, two positions
    _by_reduction(lambda r: F.nll_loss(x4, bibun.tensor([[[0, 2]]], device=device), reduction=r).reshape(-1),
                  [1, 6])
    x3 = x.t().reshape(1, 3, 2)
    out = F.nll_loss(x3, bibun.tensor([[0, 2]], device=device), reduction="none")
    assert out.shape == (1, 2)
    _close(out, [[1, 6]])
    # all targets ignored: the mean is 0/0
    assert math.isnan(F.nll_loss(x, bibun.tensor([-100, -100], device=device)).item())
    _close(F.nll_loss(x, bibun.tensor([-100, -100], device=device), reduction="sum"), 0)


def test_nll_gradient_closed_form(device):
    x = bibun.zeros(2, 3, device=device, requires_grad=True)
    w = bibun.tensor([1.0, 2.0, 3.0], device=device)
    F.nll_loss(x, bibun.tensor([2, 1], device=device), weight=w).backward()
    _close(x.grad, [[0, 0, -3 / 5], [0, -2 / 5, 0]])


def test_cross_entropy_closed_form(device):
    x = bibun.tensor([[0.0, LN3], [0.0, 0.0]], device=device)
    t = bibun.tensor([1, 0], device=device)
    _by_reduction(lambda r: F.cross_entropy(x, t, reduction=r), [math.log(4 / 3), LN2])
    # label smoothing eps: (1 - eps) nll + eps / C * (-sum of log-probabilities)
    eps = 0.5
    smooth0 = math.log(4) + math.log(4 / 3)
    _by_reduction(lambda r: F.cross_entropy(x, t, reduction=r, label_smoothing=eps),
                  [(1 - eps) * math.log(4 / 3) + eps / 2 * smooth0, (1 - eps) * LN2 + eps / 2 * 2 * LN2])
    # class probabilities
    p = bibun.tensor([[0.5, 0.5], [0.25, 0.75]], device=device)
    _by_reduction(lambda r: F.cross_entropy(x, p, reduction=r), [0.5 * smooth0, LN2])
    # ignore_index and weight: the mean divides by the counted targets' weights
    w = bibun.tensor([2.0, 3.0], device=device)
    _by_reduction(lambda r: F.cross_entropy(x, t, weight=w, reduction=r), [3 * math.log(4 / 3), 2 * LN2], count=5)
    _by_reduction(lambda r: F.cross_entropy(x, bibun.tensor([1, -100], device=device), reduction=r),
                  [math.log(4 / 3), 0], count=1)


def test_cross_entropy_smoothing_with_weight_and_ignore_index(device):
    # PyTorch's formula: the smooth term is weighted per class and divided, for a mean, by the counted weights
    x = bibun.tensor([[0.0, LN3], [0.0, 0.0]], device=device)
    t = bibun.tensor([1, 5], device=device)
    w = bibun.tensor([2.0, 3.0], device=device)
    eps = 0.2
    nll = 3 * math.log(4 / 3)
    smooth = 2 * math.log(4) + 3 * math.log(4 / 3)
    expected = (1 - eps) * nll / 3 + eps / 2 * smooth / 3
    _close(F.cross_entropy(x, t, weight=w, ignore_index=5, label_smoothing=eps), expected)
    _close(F.cross_entropy(x, t, weight=w, ignore_index=5, label_smoothing=eps, reduction="none"),
           [(1 - eps) * nll + eps / 2 * smooth, 0])


def test_binary_cross_entropy_closed_form(device):
    x = bibun.tensor([0.5, 0.25], device=device)
    y = bibun.tensor([1.0, 0.0], device=device)
    _by_reduction(lambda r: F.binary_cross_entropy(x, y, reduction=r), [LN2, math.log(4 / 3)])
    w = bibun.tensor([2.0, 4.0], device=device)
    _by_reduction(lambda r: F.binary_cross_entropy(x, y, weight=w, reduction=r), [2 * LN2, 4 * math.log(4 / 3)])
    logits = bibun.tensor([0.0, LN3], device=device)
    _by_reduction(lambda r: F.binary_cross_entropy_with_logits(logits, y, reduction=r), [LN2, math.log(4)])
    pw = bibun.tensor([3.0, 3.0], device=device)
    _by_reduction(lambda r: F.binary_cross_entropy_with_logits(logits, y, pos_weight=pw, reduction=r),
                  [3 * LN2, math.log(4)])
    _by_reduction(lambda r: F.binary_cross_entropy_with_logits(logits, y, weight=w, pos_weight=pw, reduction=r),
                  [6 * LN2, 4 * math.log(4)])


def test_kl_div_closed_form(device):
    logq = bibun.tensor([math.log(0.5), math.log(0.5)], device=device)
    p = bibun.tensor([0.25, 0.75], device=device)
    none = [0.25 * math.log(0.5), 0.75 * math.log(1.5)]
    _close(F.kl_div(logq, p, reduction="none"), none)
    _close(F.kl_div(logq, p, reduction="sum"), sum(none))
    _close(F.kl_div(logq, p, reduction="batchmean"), sum(none) / 2)
    _close(F.kl_div(logq.reshape(1, 2), p.reshape(1, 2), reduction="batchmean"), sum(none))
    with pytest.warns(UserWarning, match="'batchmean' divides only by the batch size"):
        _close(F.kl_div(logq, p), sum(none) / 2)
    _close(F.kl_div(logq, p.log(), reduction="sum", log_target=True), sum(none))
    # a zero target contributes 0, not 0 * log 0
    _close(F.kl_div(logq, bibun.tensor([0.0, 1.0], device=device), reduction="sum"), LN2)


# ---------------------------------------------------------------------- stable extremes
def test_cross_entropy_of_huge_logits_is_exact(device):
    x = bibun.tensor([[1000.0, -1000.0]], device=device, requires_grad=True)
    loss = F.cross_entropy(x, bibun.tensor([1], device=device))
    loss.backward()
    assert loss.item() == 2000.0
    assert x.grad.tolist() == [[1.0, -1.0]]
    assert type(loss.grad_fn).__name__ == "NllLossBackward0"


def test_bce_with_logits_of_huge_logits_is_exact(device):
    x = bibun.tensor([1000.0, -1000.0, 1000.0, -1000.0], device=device, requires_grad=True)
    y = bibun.tensor([1.0, 0.0, 0.0, 1.0], device=device, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    assert loss.tolist() == [0.0, 0.0, 1000.0, 1000.0]
    loss.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, -1.0]
    assert y.grad.tolist() == [-1000.0, 1000.0, -1000.0, 1000.0]
    x.grad = y.grad = None
    pw = bibun.tensor([2.0, 3.0, 4.0, 5.0], device=device)
    loss = F.binary_cross_entropy_with_logits(x, y, reduction="sum", pos_weight=pw)
    loss.backward()
    assert loss.item() == 6000.0
    assert x.grad.tolist() == [0.0, 0.0, 1.0, -5.0]
    assert y.grad.tolist() == [-1000.0, 3000.0, -1000.0, 5000.0]


def test_bce_at_probabilities_zero_and_one(device):
    x = bibun.tensor([0.0, 1.0, 0.0, 1.0], device=device, requires_grad=True)
    y = bibun.tensor([0.0, 1.0, 1.0, 0.0], device=device, requires_grad=True)
    loss = F.binary_cross_entropy(x, y, reduction="none")
    assert loss.tolist() == [0.0, 0.0, 100.0, 100.0]  # each log clamped at -100
    loss.sum().backward()
    _close(x.grad, [0.0, 0.0, -1e12, 1e12])  # (x - y) / max(x (1 - x), 1e-12)
    assert y.grad.tolist() == [math.inf, -math.inf, math.inf, -math.inf]


def test_soft_margin_of_huge_margins_is_finite(device):
    x = bibun.tensor([1000.0, -1000.0, 1000.0], device=device, requires_grad=True)
    loss = F.soft_margin_loss(x, bibun.tensor([-1.0, 1.0, 1.0], device=device), reduction="none")
    assert loss.tolist() == [1000.0, 1000.0, 0.0]
    loss.sum().backward()
    assert x.grad.tolist() == [1.0, -1.0, -0.0]


# ---------------------------------------------------------------------- graph nodes
NODE_CASES = [
    ("mse", lambda x, p, t, r: F.mse_loss(x, p, reduction=r), ["MseLossBackward0"] * 3),
    ("l1", lambda x, p, t, r: F.l1_loss(x, p, reduction=r), ["MeanBackward0", "SumBackward0", "AbsBackward0"]),
    ("smooth_l1", lambda x, p, t, r: F.smooth_l1_loss(x, p, reduction=r), ["SmoothL1LossBackward0"] * 3),
    ("smooth_l1_beta0", lambda x, p, t, r: F.smooth_l1_loss(x, p, reduction=r, beta=0.0),
     ["MeanBackward0", "SumBackward0", "AbsBackward0"]),
    ("huber", lambda x, p, t, r: F.huber_loss(x, p, reduction=r), ["HuberLossBackward0"] * 3),
    ("soft_margin", lambda x, p, t, r: F.soft_margin_loss(x, p.detach(), reduction=r),
     ["SoftMarginLossBackward0"] * 3),
    ("nll", lambda x, p, t, r: F.nll_loss(x, t, reduction=r), ["NllLossBackward0"] * 3),
    ("nll_4d", lambda x, p, t, r: F.nll_loss(x.reshape(2, 3, 1, 1), t.reshape(2, 1, 1), reduction=r),
     ["NllLoss2DBackward0"] * 3),
    ("nll_3d", lambda x, p, t, r: F.nll_loss(x.reshape(2, 3, 1), t.reshape(2, 1), reduction=r),
     ["NllLoss2DBackward0", "NllLoss2DBackward0", "ViewBackward0"]),
    ("ce", lambda x, p, t, r: F.cross_entropy(x, t, reduction=r), ["NllLossBackward0"] * 3),
    ("ce_smooth", lambda x, p, t, r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.1), ["AddBackward0"] * 3),
    ("ce_probs", lambda x, p, t, r: F.cross_entropy(x, p, reduction=r), ["DivBackward0", "NegBackward0",
                                                                          "NegBackward0"]),
    ("bce", lambda x, p, t, r: F.binary_cross_entropy(p, p, reduction=r), ["BinaryCrossEntropyBackward0"] * 3),
    ("bce_logits", lambda x, p, t, r: F.binary_cross_entropy_with_logits(x, p, reduction=r),
     ["BinaryCrossEntropyWithLogitsBackward0"] * 3),
    ("kl", lambda x, p, t, r: _quiet(F.kl_div)(x, p, reduction=r), ["MeanBackward0", "SumBackward0", "SubBackward0"]),
    ("kl_log_target", lambda x, p, t, r: _quiet(F.kl_div)(x, p, reduction=r, log_target=True),
     ["MeanBackward0", "SumBackward0", "MulBackward0"]),
]


@pytest.mark.parametrize("case", NODE_CASES, ids=[c[0] for c in NODE_CASES])
def test_node_names(case, device):
    name, fn, nodes = case
    x = bibun.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], device=device, requires_grad=True)
    p = bibun.tensor([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]], device=device, requires_grad=True)
    t = bibun.tensor([2, 0], device=device)
    for r, node in zip(REDUCTIONS, nodes):
        assert type(fn(x, p, t, r).grad_fn).__name__ == node, r
    if name == "kl":
        assert type(F.kl_div(x, p, reduction="batchmean").grad_fn).__name__ == "DivBackward0"


def test_target_gets_gradients_where_pytorch_gives_them(device):
    x = bibun.tensor([0.2, 0.7], device=device, requires_grad=True)
    y = bibun.tensor([0.5, 0.1], device=device, requires_grad=True)
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss, F.binary_cross_entropy,
               F.binary_cross_entropy_with_logits):
        y.grad = None
        fn(x, y).backward()
        assert y.grad is not None and y.grad.shape == (2,), fn.__name__
    _close(y.grad, [-0.1, -0.35])  # the last one: d/dy mean((1 - y) x - log sigmoid(x)) = -x / 2


# ---------------------------------------------------------------------- errors and warnings
def _tensors(device):
    return bibun.randn(3, 4, device=device), bibun.tensor([0, 2, 1], device=device)


def test_bad_reduction(device):
    x, t = _tensors(device)
    for call in (lambda: F.mse_loss(x, x, reduction="foo"), lambda: F.nll_loss(x, t, reduction="foo"),
                 lambda: F.cross_entropy(x, t, reduction="foo"), lambda: F.l1_loss(x, x, reduction="foo"),
                 lambda: F.kl_div(x, x, reduction="foo"), lambda: F.huber_loss(x, x, reduction="foo"),
                 lambda: F.binary_cross_entropy_with_logits(x, x, reduction="foo"),
                 lambda: F.smooth_l1_loss(x, x, reduction="batchmean")):
        with pytest.raises(ValueError, match="^(foo|batchmean) is not a valid value for reduction$"):
            call()
    with pytest.raises(ValueError, match=r"^Invalid reduction mode: foo\. Expected one of 'none', 'mean', 'sum'\.$"):
        F.mse_loss(x, x, reduction="foo", weight=bibun.ones(3, 4, device=device))


def test_legacy_reduction_flags_warn(device):
    x = bibun.ones(2, device=device)
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        _close(F.mse_loss(x, x * 2, size_average=False), 2)
    with pytest.warns(UserWarning, match="please use reduction='none' instead"):
        assert F.mse_loss(x, x, reduce=False).shape == (2,)
    with pytest.warns(UserWarning, match="reduction='elementwise_mean' is deprecated"):
        _close(F.nll_loss(x.reshape(1, 2), bibun.tensor([1], device=device), reduction="elementwise_mean"), -1)


def test_size_mismatch_warning_names_bibun_sizes(device):
    x = bibun.zeros(3, 1, device=device)
    y = bibun.ones(3, device=device)
    msg = ("Using a target size (bibun.Size([3])) that is different to the input size (bibun.Size([3, 1])). "
           "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.")
    assert repr(bibun.Size([3])) == "bibun.Size([3])"
    for fn in (F.mse_loss, F.l1_loss, F.smooth_l1_loss, F.huber_loss):
        with pytest.warns(UserWarning) as record:
            out = fn(x, y, reduction="none")
        assert str(record[0].message) == msg
        assert out.shape == (3, 3)
    with pytest.raises(RuntimeError, match="The size of tensor a"), pytest.warns(UserWarning):
        F.mse_loss(bibun.zeros(3, 2, device=device), y)


def test_nll_errors(device):
    x, t = _tensors(device)
    with pytest.raises(IndexError, match=r"^Target 5 is out of bounds\.$"):
        F.nll_loss(x, bibun.tensor([0, 5, 1], device=device))
    with pytest.raises(IndexError, match=r"^Target -1 is out of bounds\.$"):
        F.cross_entropy(x, bibun.tensor([0, -1, 1], device=device), reduction="none")
    with pytest.raises(IndexError, match=r"^Target 7 is out of bounds\.$"):
        F.nll_loss(bibun.zeros(2, 3, 2, 2, device=device), bibun.full((2, 2, 2), 7, device=device))
    with pytest.raises(ValueError, match=r"^Expected input batch_size \(3\) to match target batch_size \(2\)\.$"):
        F.nll_loss(x, bibun.tensor([0, 1], device=device))
    with pytest.raises(ValueError, match=r"^Expected input batch_size \(3\) to match target batch_size \(2\)\.$"):
        F.cross_entropy(x, bibun.tensor([0, 1], device=device))
    with pytest.raises(ValueError, match=r"^Expected 1 or more dimensions \(got 0\)$"):
        F.nll_loss(bibun.tensor(1.0, device=device), bibun.tensor(0, device=device))
    with pytest.raises(ValueError, match="For 1D input, 1D target must have size 1, but got target size: 2"):
        F.nll_loss(x[0], bibun.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match="^0D or 1D target tensor expected, multi-target not supported$"):
        F.nll_loss(x, bibun.zeros(3, 1, dtype=bibun.int64, device=device))
    with pytest.raises(RuntimeError, match=r"^expected target dtype to be Long or Byte, but got Int$"):
        F.nll_loss(x, t.int())
    with pytest.raises(RuntimeError, match=r"weight tensor should be defined either for all 4 classes or no classes "
                                           r"but got weight tensor of shape: \[3\]"):
        F.nll_loss(x, t, weight=bibun.ones(3, device=device))
    with pytest.raises(RuntimeError, match=r"^expected scalar type Float but found Double$"):
        F.nll_loss(x, t, weight=bibun.ones(4, dtype=bibun.float64, device=device))
    with pytest.raises(NotImplementedError, match="\"nll_loss_out_frame\" not implemented for 'Long'"):
        F.nll_loss(t.reshape(3, 1), t)
    with pytest.raises(RuntimeError, match=r"^Expected target size \[2, 2\], got \[2, 3\]$"):
        F.nll_loss(bibun.zeros(2, 3, 2, device=device), bibun.zeros(2, 3, dtype=bibun.int64, device=device))
    with pytest.raises(RuntimeError, match=r"^size mismatch \(got input: \[2, 3, 2, 2\] , target: \[2, 2, 3\]$"):
        F.nll_loss(bibun.zeros(2, 3, 2, 2, device=device), bibun.zeros(2, 2, 3, dtype=bibun.int64, device=device))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'weight'"):
        F.nll_loss(x.requires_grad_(), t, weight=bibun.ones(4, device=device, requires_grad=True))
    with bibun.no_grad():
        F.nll_loss(x, t, weight=bibun.ones(4, device=device, requires_grad=True))  # no graph: allowed
    # uint8 targets are accepted
    _close(F.nll_loss(-bibun.eye(3, device=device), bibun.tensor([0, 1, 2], dtype=bibun.uint8, device=device)), 1)


def test_cross_entropy_errors(device):
    x, t = _tensors(device)
    with pytest.raises(RuntimeError, match="^ignore_index is not supported for floating point target$"):
        F.cross_entropy(x, x.softmax(1), ignore_index=1)
    with pytest.raises(RuntimeError, match="^Expected floating point type for target with class probabilities, got "
                                           "Long$"):
        F.cross_entropy(x, x.long())
    with pytest.raises(RuntimeError, match=r"^label_smoothing must be between 0\.0 and 1\.0\. Got: 1\.5$"):
        F.cross_entropy(x, t, label_smoothing=1.5)
    with pytest.raises(RuntimeError, match=r"^label_smoothing must be between 0\.0 and 1\.0\. Got: 2$"):
        F.cross_entropy(x, x, label_smoothing=2.0)
    with pytest.raises(RuntimeError, match=r"^cross_entropy: weight tensor should be defined either for all 4 "
                                           r"classes or no classes but got weight tensor of shape: \[3\]$"):
        F.cross_entropy(x, x, weight=bibun.ones(3, device=device))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.cross_entropy(t.reshape(3, 1), t)


def test_pointwise_loss_errors(device):
    x = bibun.rand(2, 3, device=device)
    i = bibun.ones(3, dtype=bibun.int64, device=device)
    with pytest.raises(RuntimeError, match=r"^smooth_l1_loss does not support negative values for beta\.$"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(RuntimeError, match=r"^huber_loss does not support non-positive values for delta\.$"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"^Weights and input must have the same size\.$"):
        F.mse_loss(x, x, weight=bibun.ones(3, device=device))
    with pytest.raises(NotImplementedError, match="^\"mse_cpu\" not implemented for 'Long'$" if device == "cpu"
                       else "not implemented for 'Long'"):
        F.mse_loss(i, i)
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        F.huber_loss(i, i)
    with pytest.raises(RuntimeError, match="^all elements of input should be between 0 and 1$"):
        F.binary_cross_entropy(x + 1, x)
    with pytest.raises(RuntimeError, match="^all elements of input should be between 0 and 1$"):
        F.binary_cross_entropy(x * math.nan, x)
    with pytest.raises(RuntimeError, match="^all elements of target should be between 0 and 1$"):
        F.binary_cross_entropy(x, x + 1)
    with pytest.raises(RuntimeError, match="^Found dtype Double but expected Float$"):
        F.binary_cross_entropy(x, x.double())
    with pytest.raises(ValueError, match=r"^Using a target size \(bibun.Size\(\[3\]\)\) that is different to the "
                                         r"input size \(bibun.Size\(\[2, 3\]\)\) is deprecated\. Please ensure they "
                                         r"have the same size\.$"):
        F.binary_cross_entropy(x, x[0])
    with pytest.raises(RuntimeError, match=r"^Attempting to broadcast a dimension of length 2 at -1! Mismatching "
                                           r"argument at index 1 had bibun.Size\(\[2\]\); but expected shape should "
                                           r"be broadcastable to \[2, 3\]$"):
        F.binary_cross_entropy(x, x, weight=bibun.ones(2, device=device))
    with pytest.raises(ValueError, match=r"^Target size \(bibun.Size\(\[3\]\)\) must be the same as input size "
                                         r"\(bibun.Size\(\[2, 3\]\)\)$"):
        F.binary_cross_entropy_with_logits(x, x[0])
    with pytest.raises(RuntimeError, match="The size of tensor a \\(2\\) must match the size of tensor b \\(3\\)"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=bibun.ones(2, device=device))
    with pytest.raises(RuntimeError, match=r"output with shape \[2, 3\] doesn't match the broadcast shape "
                                           r"\[2, 2, 3\]"):
        F.binary_cross_entropy_with_logits(x, x, weight=bibun.ones(2, 2, 3, device=device))
    with pytest.raises(RuntimeError, match="not differentiable with respect to argument 'pos_weight'"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=bibun.ones(3, device=device, requires_grad=True))
    with pytest.raises(RuntimeError, match="^The function 'soft_margin_loss' is not differentiable with respect to "
                                           "argument 'target'"):
        F.soft_margin_loss(x, x.sign().requires_grad_())
    with pytest.raises(RuntimeError, match=r"^kl_div: Integral inputs not supported\.$"):
        F.kl_div(x, i, reduction="sum")


# ---------------------------------------------------------------------- modules
def test_module_reprs_and_defaults():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.CrossEntropyLoss()) == "CrossEntropyLoss()"
    assert repr(nn.BCEWithLogitsLoss(pos_weight=bibun.ones(3))) == "BCEWithLogitsLoss()"
    ce = nn.CrossEntropyLoss()
    assert (ce.reduction, ce.ignore_index, ce.label_smoothing, ce.weight) == ("mean", -100, 0.0, None)
    assert nn.SmoothL1Loss(beta=0.5).beta == 0.5 and nn.HuberLoss(delta=2.0).delta == 2.0
    assert nn.KLDivLoss(reduction="batchmean", log_target=True).log_target is True
    assert nn.NLLLoss(ignore_index=3).ignore_index == 3
    with pytest.raises(TypeError, match="delta must be a float or int"):
        nn.HuberLoss(delta="1")
    with pytest.warns(UserWarning, match="reduction='sum'"):
        assert nn.MSELoss(size_average=False).reduction == "sum"


def test_module_weights_are_buffers():
    w = bibun.tensor([1.0, 2.0, 3.0])
    for cls in (nn.CrossEntropyLoss, nn.NLLLoss, nn.BCELoss):
        m = cls(weight=w)
        assert m.weight is w
        assert dict(m.named_buffers())["weight"] is w
        assert list(m.parameters()) == []
        assert list(m.state_dict()) == ["weight"]
    m = nn.BCEWithLogitsLoss(weight=w, pos_weight=w * 2)
    assert set(dict(m.named_buffers())) == {"weight", "pos_weight"}


def test_modules_call_their_functions(device):
    x = bibun.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.5]], device=device)
    p = bibun.tensor([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]], device=device)
    t = bibun.tensor([2, 0], device=device)
    w = bibun.tensor([1.0, 2.0, 3.0], device=device)
    pairs = [
        (nn.MSELoss(reduction="sum")(x, p), F.mse_loss(x, p, reduction="sum")),
        (nn.L1Loss()(x, p), F.l1_loss(x, p)),
        (nn.SmoothL1Loss(beta=0.5)(x, p), F.smooth_l1_loss(x, p, beta=0.5)),
        (nn.HuberLoss(delta=0.5)(x, p), F.huber_loss(x, p, delta=0.5)),
        (nn.SoftMarginLoss()(x, p), F.soft_margin_loss(x, p)),
        (nn.NLLLoss(weight=w, ignore_index=0)(x, t), F.nll_loss(x, t, weight=w, ignore_index=0)),
        (nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)(x, t), F.cross_entropy(x, t, weight=w,
                                                                                 label_smoothing=0.1)),
        (nn.BCELoss(weight=w)(p, p), F.binary_cross_entropy(p, p, weight=w)),
        (nn.BCEWithLogitsLoss(pos_weight=w)(x, p), F.binary_cross_entropy_with_logits(x, p, pos_weight=w)),
        (nn.KLDivLoss(reduction="batchmean")(x, p), F.kl_div(x, p, reduction="batchmean")),
    ]
    for got, want in pairs:
        assert got.item() == want.item()


def test_losses_are_registered_by_name():
    names = {"mse": nn.MSELoss, "l1": nn.L1Loss, "smooth_l1": nn.SmoothL1Loss, "huber": nn.HuberLoss,
             "cross_entropy": nn.CrossEntropyLoss, "nll": nn.NLLLoss, "bce": nn.BCELoss,
             "bce_with_logits": nn.BCEWithLogitsLoss, "kl_div": nn.KLDivLoss}
    for name, cls in names.items():
        assert type(nn.create_loss(name)) is cls
    assert nn.create_loss("cross_entropy", label_smoothing=0.2).label_smoothing == 0.2


# ---------------------------------------------------------------------- parity with PyTorch
_rng = np.random.default_rng(20240607)
X = _rng.standard_normal((4, 5))
Y = _rng.standard_normal((4, 5))
W = _rng.uniform(0.5, 2.0, (4, 5))
CW = _rng.uniform(0.5, 2.0, 5)
PX = _rng.uniform(0.05, 0.95, (4, 5))
PY = _rng.uniform(0.0, 1.0, (4, 5))
P = np.exp(Y) / np.exp(Y).sum(1, keepdims=True)
T = np.array([0, 4, 2, 4])
X3, T3 = _rng.standard_normal((2, 5, 3)), _rng.integers(0, 5, (2, 3))
X4, T4 = _rng.standard_normal((2, 5, 3, 2)), _rng.integers(0, 5, (2, 3, 2))
X5, T5 = _rng.standard_normal((2, 5, 2, 2, 2)), _rng.integers(0, 5, (2, 2, 2, 2))
P4 = np.exp(X4[::-1]) / np.exp(X4[::-1]).sum(1, keepdims=True)
T3[0, 1] = T4[1, 2, 0] = T5[0, 1, 1, 0] = -100  # some ignored
EXT = np.array([1000.0, -1000.0, 1000.0, -1000.0, 0.5])
EXT_Y = np.array([1.0, 0.0, 0.0, 1.0, 0.3])
PEXT = np.array([0.0, 1.0, 0.0, 1.0, 0.5])


class _Lib:
    """Tensors of one library (bibun or torch) for a parity case; float64 leaves require grad."""

    def __init__(self, mod, device=None):
        self.mod = mod
        self.F = mod.nn.functional
        self.kw = {"device": device} if mod is bibun else {}
        self.leaves = []

    def leaf(self, arr):
        t = self.mod.tensor(np.array(arr, dtype=np.float64), dtype=self.mod.float64, requires_grad=True, **self.kw)
        self.leaves.append(t)
        return t

    def const(self, arr):
        return self.mod.tensor(np.array(arr, dtype=np.float64), dtype=self.mod.float64, **self.kw)

    def idx(self, arr, dtype="int64"):
        return self.mod.tensor(np.array(arr), dtype=getattr(self.mod, dtype), **self.kw)


def _cases():
    """(id, fn(L, reduction) -> loss, reductions)."""
    ce = [
        ("ce", lambda L, r: L.F.cross_entropy(L.leaf(X), L.idx(T), reduction=r)),
        ("ce_weight", lambda L, r: L.F.cross_entropy(L.leaf(X), L.idx(T), weight=L.const(CW), reduction=r)),
        ("ce_ignore", lambda L, r: L.F.cross_entropy(L.leaf(X), L.idx(T), ignore_index=4, reduction=r)),
        ("ce_weight_ignore", lambda L, r: L.F.cross_entropy(L.leaf(X), L.idx(T), weight=L.const(CW), ignore_index=2,
                                                            reduction=r)),
        ("ce_smooth", lambda L, r: L.F.cross_entropy(L.leaf(X), L.idx(T), label_smoothing=0.15, reduction=r)),
        ("ce_smooth_weight_ignore", lambda L, r: L.F.cross_entropy(
            L.leaf(X), L.idx(T), weight=L.const(CW), ignore_index=4, label_smoothing=0.3, reduction=r)),
        ("ce_1d", lambda L, r: L.F.cross_entropy(L.leaf(X[0]), L.idx(3), weight=L.const(CW), reduction=r)),
        ("ce_1d_smooth", lambda L, r: L.F.cross_entropy(L.leaf(X[0]), L.idx(3), weight=L.const(CW),
                                                        label_smoothing=0.2, reduction=r)),
        ("ce_3d", lambda L, r: L.F.cross_entropy(L.leaf(X3), L.idx(T3), weight=L.const(CW), reduction=r)),
        ("ce_4d_smooth", lambda L, r: L.F.cross_entropy(L.leaf(X4), L.idx(T4), weight=L.const(CW),
                                                        label_smoothing=0.1, reduction=r)),
        ("ce_5d", lambda L, r: L.F.cross_entropy(L.leaf(X5), L.idx(T5), reduction=r)),
        ("ce_probs", lambda L, r: L.F.cross_entropy(L.leaf(X), L.leaf(P), reduction=r)),
        ("ce_probs_weight_smooth", lambda L, r: L.F.cross_entropy(L.leaf(X), L.leaf(P), weight=L.const(CW),
                                                                  label_smoothing=0.25, reduction=r)),
        ("ce_probs_1d", lambda L, r: L.F.cross_entropy(L.leaf(X[1]), L.leaf(P[1]), weight=L.const(CW), reduction=r)),
        ("ce_probs_4d", lambda L, r: L.F.cross_entropy(L.leaf(X4), L.leaf(P4), weight=L.const(CW), reduction=r)),
        ("ce_extreme", lambda L, r: L.F.cross_entropy(L.leaf([[1000.0, -1000.0], [-1000.0, 1000.0]]), L.idx([1, 1]),
                                                      reduction=r)),
    ]
    nll = [
        ("nll", lambda L, r: L.F.nll_loss(L.leaf(X), L.idx(T), reduction=r)),
        ("nll_weight_ignore", lambda L, r: L.F.nll_loss(L.leaf(X), L.idx(T), weight=L.const(CW), ignore_index=0,
                                                        reduction=r)),
        ("nll_uint8", lambda L, r: L.F.nll_loss(L.leaf(X), L.idx(T, "uint8"), reduction=r)),
        ("nll_1d", lambda L, r: L.F.nll_loss(L.leaf(X[2]), L.idx(1), weight=L.const(CW), reduction=r)),
        ("nll_3d", lambda L, r: L.F.nll_loss(L.leaf(X3), L.idx(T3), weight=L.const(CW), reduction=r)),
        ("nll_4d", lambda L, r: L.F.nll_loss(L.leaf(X4), L.idx(T4), weight=L.const(CW), reduction=r)),
        ("nll_5d", lambda L, r: L.F.nll_loss(L.leaf(X5), L.idx(T5), reduction=r)),
        ("nll_all_ignored", lambda L, r: L.F.nll_loss(L.leaf(X), L.idx([-100] * 4), reduction=r)),
    ]
    pointwise = [
        ("mse", lambda L, r: L.F.mse_loss(L.leaf(X), L.leaf(Y), reduction=r)),
        ("mse_weight", lambda L, r: L.F.mse_loss(L.leaf(X), L.leaf(Y), weight=L.const(W), reduction=r)),
        ("mse_bcast", lambda L, r: L.F.mse_loss(L.leaf(X[:, :1]), L.leaf(Y[0]), reduction=r)),
        ("l1", lambda L, r: L.F.l1_loss(L.leaf(X), L.leaf(Y), reduction=r)),
        ("l1_weight", lambda L, r: L.F.l1_loss(L.leaf(X), L.leaf(Y), weight=L.const(W), reduction=r)),
        ("smooth_l1", lambda L, r: L.F.smooth_l1_loss(L.leaf(X), L.leaf(Y), reduction=r)),
        ("smooth_l1_beta", lambda L, r: L.F.smooth_l1_loss(L.leaf(X), L.leaf(Y), beta=0.3, reduction=r)),
        ("smooth_l1_beta0", lambda L, r: L.F.smooth_l1_loss(L.leaf(X), L.leaf(Y), beta=0.0, reduction=r)),
        ("huber", lambda L, r: L.F.huber_loss(L.leaf(X), L.leaf(Y), reduction=r)),
        ("huber_delta_weight", lambda L, r: L.F.huber_loss(L.leaf(X), L.leaf(Y), delta=0.4, weight=L.const(W),
                                                           reduction=r)),
        ("soft_margin", lambda L, r: L.F.soft_margin_loss(L.leaf(X), L.const(np.sign(Y)), reduction=r)),
        ("bce", lambda L, r: L.F.binary_cross_entropy(L.leaf(PX), L.leaf(PY), reduction=r)),
        ("bce_weight", lambda L, r: L.F.binary_cross_entropy(L.leaf(PX), L.leaf(PY), weight=L.const(CW), reduction=r)),
        ("bce_extreme", lambda L, r: L.F.binary_cross_entropy(L.leaf(PEXT), L.leaf(EXT_Y), reduction=r)),
        ("bce_logits", lambda L, r: L.F.binary_cross_entropy_with_logits(L.leaf(X), L.leaf(PY), reduction=r)),
        ("bce_logits_weights", lambda L, r: L.F.binary_cross_entropy_with_logits(
            L.leaf(X), L.leaf(PY), weight=L.const(W), pos_weight=L.const(CW), reduction=r)),
        ("bce_logits_extreme", lambda L, r: L.F.binary_cross_entropy_with_logits(
            L.leaf(EXT), L.leaf(EXT_Y), pos_weight=L.const([2.0, 3.0, 4.0, 5.0, 6.0]), reduction=r)),
    ]
    kl = [
        ("kl", lambda L, r: L.F.kl_div(L.leaf(X), L.leaf(P), reduction=r)),
        ("kl_zero_target", lambda L, r: L.F.kl_div(L.leaf(X), L.leaf(np.where(P > 0.3, 0.0, P)), reduction=r)),
        ("kl_log_target", lambda L, r: L.F.kl_div(L.leaf(X), L.leaf(Y), reduction=r, log_target=True)),
    ]
    return ([(n, f, REDUCTIONS) for n, f in ce + nll + pointwise] +
            [(n, f, REDUCTIONS + ("batchmean",)) for n, f in kl])


PARITY = [(f"{n}-{r}", f, r) for n, f, rs in _cases() for r in rs]


def _run(L, fn, reduction, grads=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loss = fn(L, reduction)
    if grads:
        upstream = np.linspace(0.5, 1.5, max(loss.numel(), 1)).reshape(tuple(loss.shape))
        loss.backward(L.const(upstream))
    return loss


def _np(t):
    return None if t is None else t.detach().cpu().numpy() if hasattr(t, "cpu") else t.detach().cpu().numpy()


def _node(t):
    name = type(t.grad_fn).__name__
    # PyTorch names a division by a python number DivBackward1; bibun has one division node
    return "DivBackward0" if name == "DivBackward1" else name


@pytest.mark.parametrize("case", PARITY, ids=[c[0] for c in PARITY])
def test_parity_values_nodes_and_gradients(case, torch, device):
    _, fn, reduction = case
    B, T_ = _Lib(bibun, device), _Lib(torch)
    got, want = _run(B, fn, reduction), _run(T_, fn, reduction)
    assert got.dtype.name == str(want.dtype).split(".")[-1]
    assert tuple(got.shape) == tuple(want.shape)
    np.testing.assert_allclose(_np(got), _np(want), rtol=1e-10, atol=1e-12)
    assert _node(got) == _node(want)
    for b, t in zip(B.leaves, T_.leaves):
        np.testing.assert_allclose(_np(b.grad), _np(t.grad), rtol=1e-9, atol=1e-12)


DOUBLE = [c for c in PARITY if c[0].split("-")[0] in (
    "ce_weight_ignore", "ce_smooth_weight_ignore", "ce_4d_smooth", "ce_probs_weight_smooth", "mse", "smooth_l1_beta",
    "huber", "soft_margin", "bce_weight", "bce_logits_weights", "kl", "kl_log_target")]


@pytest.mark.parametrize("case", DOUBLE, ids=[c[0] for c in DOUBLE])
def test_parity_second_derivatives(case, torch, device):
    _, fn, reduction = case
    results = []
    for L in (_Lib(bibun, device), _Lib(torch)):
        loss = _run(L, fn, reduction, grads=False)
        upstream = L.const(np.linspace(0.5, 1.5, max(loss.numel(), 1)).reshape(tuple(loss.shape)))
        firsts = L.mod.autograd.grad((loss * upstream).sum(), L.leaves, create_graph=True, allow_unused=True)
        total = sum((g * L.const(np.cos(np.arange(g.numel())).reshape(tuple(g.shape)))).sum()
                    for g in firsts if g is not None and g.requires_grad)
        total.backward()
        results.append([_np(g) for g in firsts] + [_np(x.grad) for x in L.leaves])
    for b, t in zip(*results):
        if t is None:
            assert b is None or not np.any(b)
        else:
            np.testing.assert_allclose(b, t, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity_default_dtypes_and_errors(torch, device, dtype):
    """float32 values within float32 rounding; error types and messages identical where bibun prints no Size."""
    x, t = np.random.default_rng(1).standard_normal((6, 4)), np.array([0, 3, 1, 2, 3, 0])
    for name in ("cross_entropy", "nll_loss"):
        got = getattr(F, name)(bibun.tensor(x, dtype=getattr(bibun, dtype), device=device), bibun.tensor(t,
                                                                                                      device=device))
        want = getattr(torch.nn.functional, name)(torch.tensor(x, dtype=getattr(torch, dtype)), torch.tensor(t))
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6 if dtype == "float32" else 1e-12)

    def both(call):
        outcome = []
        for L in (bibun, torch):
            try:
                with warnings.catch_warnings(), bibun.device("cpu"):  # compared with PyTorch's cpu messages
                    warnings.simplefilter("ignore")
                    call(L, L.nn.functional)
                outcome.append(None)
            except Exception as exc:  # noqa: BLE001 - the point is to compare them
                outcome.append((type(exc).__name__, str(exc)))
        return outcome

    calls = [
        lambda L, F_: F_.nll_loss(L.zeros(3, 4), L.tensor([0, 9, 1])),
        lambda L, F_: F_.nll_loss(L.zeros(3, 4), L.tensor([0, 1])),
        lambda L, F_: F_.nll_loss(L.zeros(3, 4), L.tensor([0, 1, 2], dtype=L.int32)),
        lambda L, F_: F_.nll_loss(L.zeros(2, 3, 2), L.zeros(2, 3, dtype=L.int64)),
        lambda L, F_: F_.nll_loss(L.zeros(2, 3, 2, 2), L.zeros(2, 4, dtype=L.int64)),
        lambda L, F_: F_.nll_loss(L.zeros(2, 3, 2, 2), L.zeros(2, 2, 2, dtype=L.int64), weight=L.ones(2)),
        lambda L, F_: F_.nll_loss(L.zeros(3, 4), L.tensor([0, 1, 2]), reduction="avg"),
        lambda L, F_: F_.cross_entropy(L.zeros(3, 4), L.tensor([0, 1, 2]), label_smoothing=1.25),
        lambda L, F_: F_.cross_entropy(L.zeros(3, 4), L.zeros(3, 4), ignore_index=0),
        lambda L, F_: F_.cross_entropy(L.tensor(1.0), L.tensor(0)),
        lambda L, F_: F_.binary_cross_entropy(L.tensor([1.5]), L.tensor([1.0])),
        lambda L, F_: F_.binary_cross_entropy(L.tensor([0.5]), L.tensor([-0.5])),
        lambda L, F_: F_.smooth_l1_loss(L.zeros(2), L.zeros(2), beta=-0.5),
        lambda L, F_: F_.huber_loss(L.zeros(2), L.zeros(2), delta=-1.0),
        lambda L, F_: F_.kl_div(L.zeros(2), L.zeros(2, dtype=L.int64), reduction="sum"),
        lambda L, F_: F_.mse_loss(L.zeros(2, dtype=L.int64), L.zeros(2, dtype=L.int64)),
        lambda L, F_: F_.mse_loss(L.zeros(3, 2), L.zeros(3)),
    ]
    for call in calls:
        got, want = both(call)
        assert got == want
