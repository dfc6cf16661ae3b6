"""``bibun.nn.utils``: gradient clipping (by total norm, by value) and parameters <-> vector.

Pinned numbers are PyTorch 2.13's for the same gradients (float32).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import bibun
from bibun.nn.utils import (
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)

GRADS = ([[0.5, -1.5, 2.0], [3.0, -0.25, 1.0]], [-2.0, 4.0], 0.75)

# norm_type -> (total norm, clipped gradients flattened) with max_norm=1.0
PINNED = {
    2.0: (6.093029022216797, [0.08206097781658173, -0.24618293344974518, 0.3282439112663269, 0.49236586689949036,
                              -0.04103048890829086, 0.16412195563316345, -0.3282439112663269, 0.6564878225326538,
                              0.12309146672487259]),
    1.0: (15.0, [0.03333333134651184, -0.09999999403953552, 0.13333332538604736, 0.19999998807907104,
                 -0.01666666567325592, 0.06666666269302368, -0.13333332538604736, 0.2666666507720947,
                 0.04999999701976776]),
    math.inf: (4.0, [0.12499997019767761, -0.37499991059303284, 0.49999988079071045, 0.7499998211860657,
                     -0.062499985098838806, 0.24999994039535522, -0.49999988079071045, 0.9999997615814209,
                     0.18749995529651642]),
    3.0: (4.819387912750244, [0.10374759137630463, -0.3112427592277527, 0.4149903655052185, 0.6224855184555054,
                              -0.05187379568815231, 0.20749518275260925, -0.4149903655052185, 0.829980731010437,
                              0.15562137961387634]),
    0.5: (117.90386199951172, [0.004240743350237608, -0.012722229585051537, 0.016962973400950432,
                               0.025444459170103073, -0.002120371675118804, 0.008481486700475216,
                               -0.016962973400950432, 0.033925946801900864, 0.006361114792525768]),
}


def _params(device="cpu", grads=GRADS, dtype=None):
    ps = []
    for g in grads:
        g = bibun.tensor(g, device=device, dtype=dtype)
        p = bibun.zeros_like(g).requires_grad_()
        p.grad = g
        ps.append(p)
    return ps


def _flat(ps):
    return np.concatenate([p.grad.cpu().numpy().reshape(-1) for p in ps])


@pytest.mark.parametrize("norm_type", list(PINNED))
def test_clip_grad_norm_pinned(norm_type, device):
    ps = _params(device)
    total = clip_grad_norm_(ps, 1.0, norm_type)
    expected_norm, expected = PINNED[norm_type]
    assert total.dtype is bibun.float32 and total.ndim == 0 and not total.requires_grad
    np.testing.assert_allclose(total.item(), expected_norm, rtol=2e-7)
    np.testing.assert_allclose(_flat(ps), expected, rtol=3e-7, atol=1e-9)


def test_clip_grad_norm_leaves_small_gradients_alone():
    ps = _params()
    g = ps[0].grad
    total = clip_grad_norm_(ps, max_norm=100.0)
    assert ps[0].grad is g  # scaled in place (by 1.0 here)
    np.testing.assert_array_equal(_flat(ps), np.concatenate([np.ravel(x) for x in GRADS]).astype(np.float32))
    np.testing.assert_allclose(total.item(), 6.093029022216797, rtol=2e-7)


def test_clip_grad_norm_accepts_a_tensor_and_skips_missing_grads():
    p = bibun.zeros(2, requires_grad=True)
    q = bibun.zeros(2, requires_grad=True)
    p.grad = bibun.tensor([3.0, 4.0])
    assert clip_grad_norm_(p, 1.0).item() == 5.0
    np.testing.assert_allclose(p.grad.cpu().numpy(), [0.6, 0.8], rtol=1e-6)
    assert clip_grad_norm_([p, q], 1.0, norm_type="inf").item() == pytest.approx(0.8, rel=1e-6)
    assert q.grad is None
    total = clip_grad_norm_([q], 1.0)
    assert total.item() == 0.0


def test_empty_generator_warns():
    with pytest.warns(UserWarning, match="`parameters` is an empty generator, no gradient clipping will occur."):
        clip_grad_norm_((p for p in []), 1.0)


def test_non_finite_norm():
    ps = _params(grads=([1.0, math.inf], [2.0]))
    with pytest.raises(RuntimeError) as info:
        clip_grad_norm_(ps, 1.0, error_if_nonfinite=True)
    assert str(info.value) == (
        "The total norm of order 2.0 for gradients from `parameters` is non-finite, so it cannot be clipped. To "
        "disable this error and scale the gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    assert ps[0].grad.tolist() == [1.0, math.inf]  # nothing was scaled
    ps = _params(grads=([1.0, math.nan], [2.0]))
    with pytest.raises(RuntimeError, match="The total norm of order inf for gradients"):
        clip_grad_norm_(ps, 1.0, norm_type=math.inf, error_if_nonfinite=True)
    total = clip_grad_norm_(ps, 1.0)
    assert math.isnan(total.item()) and all(math.isnan(v) for v in _flat(ps))


def test_deprecated_alias_and_total_norm():
    ps = _params()
    with pytest.warns(FutureWarning, match="clip_grad_norm` is now deprecated"):
        clip_grad_norm(ps, 1.0)
    assert get_total_norm([bibun.tensor([3.0, 4.0]), bibun.tensor([12.0])]).item() == 13.0


def test_clip_grad_value(device):
    ps = _params(device)
    assert clip_grad_value_(ps, 1.0) is None
    np.testing.assert_array_equal(_flat(ps), [0.5, -1.0, 1.0, 1.0, -0.25, 1.0, -1.0, 1.0, 0.75])
    p = bibun.zeros(2, requires_grad=True)
    p.grad = bibun.tensor([-3.0, 0.1])
    clip_grad_value_(p, 0.5)
    np.testing.assert_allclose(p.grad.cpu().numpy(), [-0.5, 0.1])


def test_parameters_to_vector_and_back():
    a = bibun.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = bibun.tensor([5.0], requires_grad=True)
    v = parameters_to_vector([a, b])
    assert v.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0] and v.requires_grad
    vector_to_parameters(bibun.tensor([9.0, 8.0, 7.0, 6.0, 5.5]), [a, b])
    assert a.tolist() == [[9.0, 8.0], [7.0, 6.0]] and b.tolist() == [5.5]
    assert a.is_leaf and a.requires_grad
    with pytest.raises(TypeError, match="^expected torch.Tensor, but got: list$"):
        vector_to_parameters([1.0], [a])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_parity(norm_type, dtype, torch):
    rng = np.random.default_rng(3)
    grads = [rng.standard_normal(s).astype(dtype) for s in ((4, 5), (7,), ())]
    theirs = []
    for g in grads:
        p = torch.zeros(g.shape, dtype=getattr(torch, dtype), requires_grad=True)
        p.grad = torch.from_numpy(g.copy())
        theirs.append(p)
    ours = _params(grads=[g.copy() for g in grads], dtype=getattr(bibun, dtype))
    t = torch.nn.utils.clip_grad_norm_(theirs, 0.7, norm_type)
    o = clip_grad_norm_(ours, 0.7, norm_type)
    rtol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(o.item(), t.item(), rtol=rtol)
    np.testing.assert_allclose(_flat(ours), np.concatenate([p.grad.numpy().reshape(-1) for p in theirs]),
                               rtol=rtol, atol=1e-12)
