"""bibun-focal-loss, tested installed: found by name through bibun's registry, on every backend.

Tests that take ``bibun_device`` (a fixture of bibun's conformance kit) run once per
installed backend. Expected values are closed forms: with logits (0, 0) the true class has
p = 1/2, with (ln 3, 0) it has p = 3/4 or 1/4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from bibun_focal_loss import FocalLoss, focal_loss

import bibun
import bibun.nn.functional as F
from bibun.testing import OpCase, Sample, conformance_tests

LN3 = math.log(3.0)
# per-sample losses for gamma=2 of logits [[0, 0], [ln 3, 0], [ln 3, 0]] against targets [0, 0, 1]
PER_SAMPLE = [0.25 * math.log(2), 0.0625 * -math.log(0.75), 0.5625 * math.log(4)]


def _batch(device, dtype=bibun.float64):
    x = bibun.tensor([[0.0, 0.0], [LN3, 0.0], [LN3, 0.0]], dtype=dtype, device=device)
    t = bibun.tensor([0, 0, 1], device=device)
    return x, t


# ---------------------------------------------------------------------- installation
def test_the_plugin_is_loaded_from_its_distribution():
    rec = {r.name: r for r in bibun.plugins.records()}.get("focal_loss")
    assert rec is not None, "the 'focal_loss' entry point was not found: is bibun-focal-loss installed?"
    assert (rec.dist, rec.version, rec.status) == ("bibun-focal-loss", "0.1.0", "loaded")
    assert rec.registered["losses"] == ["focal"]
    assert bibun.nn.available_losses()["focal"] == "focal_loss"


def test_create_loss_builds_the_module_by_name():
    loss_fn = bibun.nn.create_loss("focal", gamma=3)
    assert isinstance(loss_fn, FocalLoss) and loss_fn.gamma == 3.0
    assert repr(loss_fn) == "FocalLoss(gamma=3.0, reduction='mean', ignore_index=-100)"
    assert isinstance(bibun.nn.create_loss("Focal"), FocalLoss)  # names are case-insensitive


# ---------------------------------------------------------------------- values
def test_closed_form_values(bibun_device):
    x, t = _batch(bibun_device)
    none = focal_loss(x, t, gamma=2.0, reduction="none")
    np.testing.assert_allclose(none.to("cpu").numpy(), PER_SAMPLE, rtol=1e-13)
    assert focal_loss(x, t, gamma=2.0, reduction="sum").item() == pytest.approx(sum(PER_SAMPLE), rel=1e-13)
    assert focal_loss(x, t).item() == pytest.approx(sum(PER_SAMPLE) / 3, rel=1e-13)
    half = focal_loss(x, t, gamma=0.5, reduction="none").to("cpu").numpy()
    np.testing.assert_allclose(half, [0.5 ** 0.5 * math.log(2), 0.5 * -math.log(0.75), 0.75 ** 0.5 * math.log(4)],
                               rtol=1e-13)


def test_alpha_weighs_each_class_and_the_mean_divides_by_the_weights(bibun_device):
    x, t = _batch(bibun_device)
    alpha = [0.25, 0.75]
    weighted = [0.25 * PER_SAMPLE[0], 0.25 * PER_SAMPLE[1], 0.75 * PER_SAMPLE[2]]
    np.testing.assert_allclose(focal_loss(x, t, alpha=alpha, reduction="none").to("cpu").numpy(), weighted, rtol=1e-13)
    assert focal_loss(x, t, alpha=alpha).item() == pytest.approx(sum(weighted) / 1.25, rel=1e-13)
    as_tensor = bibun.tensor(alpha, dtype=bibun.float64, device=bibun_device)
    assert focal_loss(x, t, alpha=as_tensor).item() == pytest.approx(sum(weighted) / 1.25, rel=1e-13)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gamma_zero_is_cross_entropy(bibun_device, reduction):
    rng = np.random.default_rng(1)
    weight = bibun.tensor(rng.uniform(0.5, 2.0, 5), device=bibun_device)
    shapes = [((6, 5), (6,)), ((5,), ()), ((3, 5, 4), (3, 4)), ((2, 5, 2, 3), (2, 2, 3))]
    for x_shape, t_shape in shapes:
        x = bibun.tensor(rng.standard_normal(x_shape), device=bibun_device)
        t = bibun.tensor(rng.integers(0, 5, t_shape), device=bibun_device)
        if t.ndim:
            t[0] = -100 if t.ndim == 1 else t[0]  # one ignored target
        for kwargs in ({}, {"weight": weight}):
            expected = F.cross_entropy(x, t, reduction=reduction, **kwargs)
            got = focal_loss(x, t, gamma=0.0, alpha=kwargs.get("weight"), reduction=reduction)
            np.testing.assert_allclose(got.to("cpu").numpy(), expected.to("cpu").numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # 0 / 0 is nan, silently
def test_ignored_targets_add_nothing(bibun_device):
    x, t = _batch(bibun_device)
    t = bibun.tensor([0, 7, 1], device=bibun_device)
    none = focal_loss(x, t, ignore_index=7, reduction="none").to("cpu").numpy()
    np.testing.assert_allclose(none, [PER_SAMPLE[0], 0.0, PER_SAMPLE[2]], rtol=1e-13)
    assert focal_loss(x, t, ignore_index=7).item() == pytest.approx((PER_SAMPLE[0] + PER_SAMPLE[2]) / 2, rel=1e-13)
    every = bibun.full((3,), -100, dtype=bibun.int64, device=bibun_device)
    assert math.isnan(focal_loss(x, every).item())  # 0 / 0, as cross_entropy gives
    assert focal_loss(x, every, reduction="sum").item() == 0.0


def test_confident_predictions_weigh_less_than_in_cross_entropy(bibun_device):
    x = bibun.tensor([[8.0, 0.0, 0.0], [0.0, 0.2, 0.0]], device=bibun_device)
    t = bibun.tensor([0, 1], device=bibun_device)
    ce = F.cross_entropy(x, t, reduction="none")
    fl = focal_loss(x, t, reduction="none")
    ratio = (fl / ce).to("cpu").numpy()
    assert ratio[0] < 1e-6 < ratio[1] < 1.0


def test_float32_results_and_gradients(bibun_device):
    x, t = _batch(bibun_device, bibun.float32)
    x.requires_grad_()
    loss = focal_loss(x, t)
    assert loss.dtype == bibun.float32 and loss.device == x.device
    loss.backward()
    assert x.grad.dtype == bibun.float32 and x.grad.shape == x.shape


# ---------------------------------------------------------------------- errors, before any work
@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"reduction": "avg"}, ValueError, "avg is not a valid value for reduction"),
    ({"gamma": -1.0}, ValueError, "gamma must be a non-negative number"),
    ({"alpha": [1.0, 2.0, 3.0]}, RuntimeError, "alpha should be defined either for all 2 classes"),
])
def test_bad_options(kwargs, error, match):
    x, t = _batch("cpu")
    with pytest.raises(error, match=match):
        focal_loss(x, t, **kwargs)


def test_bad_targets():
    x, _ = _batch("cpu")
    with pytest.raises(IndexError, match=r"^Target 2 is out of bounds\.$"):
        focal_loss(x, bibun.tensor([0, 2, 1]))
    with pytest.raises(IndexError, match=r"^Target -3 is out of bounds\.$"):
        focal_loss(x, bibun.tensor([0, -3, 1]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Int"):
        focal_loss(x, bibun.tensor([0, 1, 1], dtype=bibun.int32))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)\."):
        focal_loss(x, bibun.tensor([0, 1]))


# ---------------------------------------------------------------------- the module
def test_module_keeps_alpha_as_a_buffer(bibun_device):
    loss_fn = FocalLoss(gamma=2.0, alpha=[0.25, 0.75]).to(bibun_device)
    assert list(loss_fn.state_dict()) == ["alpha"]
    assert loss_fn.alpha.device == bibun.empty(0, device=bibun_device).device
    x, t = _batch(bibun_device, bibun.float32)
    expected = (0.25 * PER_SAMPLE[0] + 0.25 * PER_SAMPLE[1] + 0.75 * PER_SAMPLE[2]) / 1.25
    assert loss_fn(x, t).item() == pytest.approx(expected, rel=1e-6)


# ---------------------------------------------------------------------- bibun's conformance kit
def _reference(x, t, gamma=2.0, alpha=None, reduction="mean", ignore_index=-100):
    """The loss in numpy, for (N, C) logits."""
    z = x - x.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    valid = t != ignore_index
    safe = np.where(valid, t, 0)
    log_pt = np.take_along_axis(log_p, safe[:, None], axis=1)[:, 0]
    w = valid * (1.0 if alpha is None else alpha[safe])
    loss = -w * (1 - np.exp(log_pt)) ** gamma * log_pt
    return {"none": loss, "sum": loss.sum(), "mean": loss.sum() / w.sum()}[reduction]


def _samples():
    rng = np.random.default_rng(3)
    out = []
    for reduction in ("mean", "sum", "none"):
        x, t = rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)
        out.append(Sample(x, t, reduction=reduction).constant(1).named(reduction))
    t = np.array([0, 3, -100, 1, 2, 2])
    out.append(Sample(rng.standard_normal((6, 4)), t, gamma=1.5, alpha=np.array([0.1, 0.2, 0.3, 0.4]))
               .constant(1).named("alpha+ignore"))
    return out


test_conformance = conformance_tests([OpCase("focal_loss", op=focal_loss, samples=_samples, reference=_reference)])
