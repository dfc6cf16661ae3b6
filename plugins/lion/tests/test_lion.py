"""bibun-lion, tested installed: found by name through bibun's registry, on every backend.

The pinned trajectory is worked out by hand below (the update is a sign, so every number is
a short decimal); tests that take ``bibun_device`` run once per installed backend.
"""

from __future__ import annotations

import numpy as np
import pytest
from bibun_lion import Lion

import bibun
from bibun.testing import optimizer_tests


def _param(values, device="cpu"):
    return bibun.nn.Parameter(bibun.tensor(values, dtype=bibun.float64, device=device))


# ---------------------------------------------------------------------- installation
def test_the_plugin_is_loaded_from_its_distribution():
    rec = {r.name: r for r in bibun.plugins.records()}.get("lion")
    assert rec is not None, "the 'lion' entry point was not found: is bibun-lion installed?"
    assert (rec.dist, rec.version, rec.status) == ("bibun-lion", "0.1.0", "loaded")
    assert rec.registered["optimizers"] == ["lion"]
    assert bibun.optim.available()["lion"] == "lion"


def test_create_builds_lion_by_name():
    p = _param([1.0])
    opt = bibun.optim.create("lion", [p], lr=1e-4)
    assert isinstance(opt, Lion) and isinstance(opt, bibun.optim.Optimizer)
    assert opt.defaults == {"lr": 1e-4, "betas": (0.9, 0.99), "weight_decay": 0.0, "maximize": False}


# ---------------------------------------------------------------------- the update
def test_pinned_trajectory(bibun_device):
    """lr=0.1, betas=(0.9, 0.99), weight_decay=0.5, gradients set by hand.

    step 1, g = (1, -1, 0):      m = 0, so the update is sign(0.1 g) = (1, -1, 0)
        p = (1, 2, -3) * (1 - 0.05) - 0.1 * (1, -1, 0) = (0.85, 2.0, -2.85)
        m = 0.01 g = (0.01, -0.01, 0)
    step 2, g = (-0.05, 0.5, 2): 0.9 m + 0.1 g = (0.009 - 0.005, -0.009 + 0.05, 0.2) = (0.004, 0.041, 0.2)
        so the first element still moves down although its gradient turned negative
        p = (0.85, 2.0, -2.85) * 0.95 - 0.1 * (1, 1, 1) = (0.7075, 1.8, -2.8075)
        m = 0.99 m + 0.01 g = (0.0094, -0.0049, 0.02)
    """
    p = _param([1.0, 2.0, -3.0], bibun_device)
    opt = Lion([p], lr=0.1, betas=(0.9, 0.99), weight_decay=0.5)
    p.grad = bibun.tensor([1.0, -1.0, 0.0], dtype=bibun.float64, device=bibun_device)
    opt.step()
    np.testing.assert_allclose(p.detach().to("cpu").numpy(), [0.85, 2.0, -2.85], rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["exp_avg"].to("cpu").numpy(), [0.01, -0.01, 0.0], rtol=1e-15)
    p.grad = bibun.tensor([-0.05, 0.5, 2.0], dtype=bibun.float64, device=bibun_device)
    opt.step()
    np.testing.assert_allclose(p.detach().to("cpu").numpy(), [0.7075, 1.8, -2.8075], rtol=1e-15)
    np.testing.assert_allclose(opt.state[p]["exp_avg"].to("cpu").numpy(), [0.0094, -0.0049, 0.02], rtol=1e-14)


def test_maximize_ascends(bibun_device):
    p = _param([1.0, -1.0], bibun_device)
    opt = Lion([p], lr=0.5, maximize=True)
    p.grad = bibun.tensor([2.0, 3.0], dtype=bibun.float64, device=bibun_device)
    opt.step()
    np.testing.assert_allclose(p.detach().to("cpu").numpy(), [1.5, -0.5])


def test_minimizes_a_quadratic_with_a_learning_rate_schedule(bibun_device):
    target = bibun.tensor([3.0, -1.0, 0.25], device=bibun_device)
    p = bibun.nn.Parameter(bibun.zeros(3, device=bibun_device))
    opt = bibun.optim.create("lion", [p], lr=0.05)
    # updates have size lr whatever the gradient: the schedule brings them down to land on the minimum
    schedule = bibun.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=400)
    for _ in range(400):
        opt.zero_grad()
        ((p - target) ** 2).sum().backward()
        opt.step()
        schedule.step()
    np.testing.assert_allclose(p.detach().to("cpu").numpy(), target.to("cpu").numpy(), atol=1e-3)


def test_closure_and_parameters_without_gradients():
    p, q = _param([1.0]), _param([5.0])
    opt = Lion([p, q], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    assert opt.step(closure).item() == 1.0
    assert p.item() == pytest.approx(0.9) and q.item() == 5.0 and q not in opt.state


def test_state_dict_round_trip_continues_the_same_trajectory():
    def run(opt, p, steps):
        for _ in range(steps):
            opt.zero_grad()
            ((p - 1.5) ** 2 * bibun.tensor([1.0, 3.0], dtype=bibun.float64)).sum().backward()
            opt.step()

    p = _param([0.0, 4.0])
    opt = Lion([p], lr=0.05, weight_decay=0.1)
    run(opt, p, 3)
    saved, saved_p = opt.state_dict(), p.detach().clone()
    assert set(saved["state"][0]) == {"exp_avg"}
    assert saved["param_groups"][0]["betas"] == (0.9, 0.99)
    run(opt, p, 4)
    q = bibun.nn.Parameter(saved_p.clone())
    restored = Lion([q], lr=0.05, weight_decay=0.1)
    restored.load_state_dict(saved)
    run(restored, q, 4)
    np.testing.assert_array_equal(q.detach().numpy(), p.detach().numpy())


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"lr": -1.0}, "Invalid learning rate: -1.0"),
    ({"betas": (1.0, 0.99)}, "Invalid beta parameter at index 0: 1.0"),
    ({"betas": (0.9, -0.1)}, "Invalid beta parameter at index 1: -0.1"),
    ({"weight_decay": -0.5}, "Invalid weight_decay value: -0.5"),
])
def test_validation_messages(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$".replace("(", r"\(").replace(".", r"\.")):
        Lion([_param([1.0])], **kwargs)


def test_bad_params_are_the_base_class_errors():
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        Lion([])
    with pytest.raises(TypeError, match="params argument given to the optimizer should be an iterable"):
        Lion(_param([1.0]))


# ---------------------------------------------------------------------- bibun's conformance kit
test_optimizer_kit = optimizer_tests(lambda params: Lion(params, lr=0.05))
