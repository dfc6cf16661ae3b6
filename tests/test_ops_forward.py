"""Forward values of every non-indexing op against numpy closed forms, and PyTorch's
conventions pinned as literals (gathered from PyTorch 2.13; these tests need no torch):
gradients at kinks and ties, special values, graph node names, and view semantics.
"""

from __future__ import annotations

import math
import re
import warnings
import zlib

import numpy as np
import pytest

import bibun


inf, nan = math.inf, math.nan


def _rand(name, *shapes, kind="any"):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = []
    for s in shapes:
        x = rng.standard_normal(size=s)
        if kind == "pos":
            x = np.abs(x) + 0.5
        out.append(x)
    return out


def _np(t):
    return t.detach().cpu().numpy()


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------- values against numpy closed forms
# (id, bibun fn, numpy fn, input shapes, kind)
CLOSED_FORMS = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)], "any"),
    ("add_alpha", lambda a, b: a.add(b, alpha=3), lambda a, b: a + 3 * b, [(2, 3), (3,)], "any"),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, [(2, 3), (3,)], "any"),
    ("rsub", lambda a: 2.0 - a, lambda a: 2.0 - a, [(2, 3)], "any"),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, [(), (2, 3)], "any"),
    ("div", lambda a, b: a / b, lambda a, b: a / b, [(2, 3), (2, 3)], "pos"),
    ("rdiv", lambda a: 1 / a, lambda a: 1 / a, [(2, 3)], "pos"),
    ("neg", lambda a: -a, lambda a: -a, [(2, 3)], "any"),
    ("pow_scalar", lambda a: a ** 3, lambda a: a ** 3, [(2, 3)], "any"),
    ("pow_tensor", lambda a, b: a ** b, lambda a, b: a ** b, [(2, 3), (3,)], "pos"),
    ("rpow", lambda a: 2 ** a, lambda a: 2.0 ** a, [(2, 3)], "any"),
    ("maximum", lambda a, b: bibun.maximum(a, b), np.maximum, [(3, 1), (4,)], "any"),
    ("minimum", lambda a, b: bibun.minimum(a, b), np.minimum, [(3, 1), (4,)], "any"),
    ("where", lambda a, b: bibun.where(a > b, a, b), lambda a, b: np.where(a > b, a, b), [(3, 4), (4,)], "any"),
    ("clamp", lambda a: a.clamp(-0.5, 0.5), lambda a: np.clip(a, -0.5, 0.5), [(3, 4)], "any"),
    ("clip_min", lambda a: a.clip(min=0.1), lambda a: np.maximum(a, 0.1), [(3, 4)], "any"),
    ("exp", lambda a: a.exp(), np.exp, [(3, 4)], "any"),
    ("log", lambda a: a.log(), np.log, [(3, 4)], "pos"),
    ("log1p", lambda a: a.log1p(), np.log1p, [(3, 4)], "pos"),
    ("sqrt", lambda a: a.sqrt(), np.sqrt, [(3, 4)], "pos"),
    ("rsqrt", lambda a: a.rsqrt(), lambda a: 1 / np.sqrt(a), [(3, 4)], "pos"),
    ("abs", lambda a: a.abs(), np.abs, [(3, 4)], "any"),
    ("sign", lambda a: a.sign(), np.sign, [(3, 4)], "any"),
    ("sin", lambda a: a.sin(), np.sin, [(3, 4)], "any"),
    ("cos", lambda a: a.cos(), np.cos, [(3, 4)], "any"),
    ("tan", lambda a: a.tan(), np.tan, [(3, 4)], "any"),
    ("tanh", lambda a: a.tanh(), np.tanh, [(3, 4)], "any"),
    ("sigmoid", lambda a: a.sigmoid(), lambda a: 1 / (1 + np.exp(-a)), [(3, 4)], "any"),
    ("relu", lambda a: a.relu(), lambda a: np.maximum(a, 0), [(3, 4)], "any"),
    ("matmul_1d_1d", lambda a, b: a @ b, np.matmul, [(4,), (4,)], "any"),
    ("matmul_2d_1d", lambda a, b: a @ b, np.matmul, [(3, 4), (4,)], "any"),
    ("matmul_1d_2d", lambda a, b: a @ b, np.matmul, [(3,), (3, 4)], "any"),
    ("matmul_2d_2d", lambda a, b: a @ b, np.matmul, [(2, 3), (3, 4)], "any"),
    ("matmul_3d_3d", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (2, 4, 5)], "any"),
    ("matmul_3d_2d", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4, 5)], "any"),
    ("matmul_2d_3d", lambda a, b: a @ b, np.matmul, [(3, 4), (2, 4, 5)], "any"),
    ("matmul_4d_3d", lambda a, b: a @ b, np.matmul, [(2, 1, 3, 4), (3, 4, 2)], "any"),
    ("matmul_1d_3d", lambda a, b: a @ b, np.matmul, [(4,), (2, 4, 3)], "any"),
    ("matmul_3d_1d", lambda a, b: a @ b, np.matmul, [(2, 3, 4), (4,)], "any"),
    ("mm", lambda a, b: bibun.mm(a, b), np.matmul, [(2, 3), (3, 4)], "any"),
    ("bmm", lambda a, b: bibun.bmm(a, b), np.matmul, [(2, 3, 4), (2, 4, 5)], "any"),
    ("sum", lambda a: a.sum(), np.sum, [(3, 4)], "any"),
    ("sum_dims_keep", lambda a: a.sum((0, -1), keepdim=True), lambda a: a.sum((0, 2), keepdims=True), [(2, 3, 4)],
     "any"),
    ("mean_dim", lambda a: a.mean(-2), lambda a: a.mean(-2), [(2, 3, 4)], "any"),
    # PyTorch: an empty list of dims reduces every dim
    ("sum_empty_dims", lambda a: a.sum(()), np.sum, [(2, 3)], "any"),
    ("mean_empty_dims_keep", lambda a: a.mean([], keepdim=True), lambda a: a.mean(keepdims=True), [(2, 3)], "any"),
    ("var_empty_dims", lambda a: a.var(()), lambda a: a.var(ddof=1), [(2, 3)], "any"),
    ("norm_empty_dims", lambda a: a.norm(dim=()), lambda a: np.sqrt((a * a).sum()), [(2, 3)], "any"),
    ("prod_dim", lambda a: a.prod(1, keepdim=True), lambda a: a.prod(1, keepdims=True), [(3, 4)], "any"),
    ("amax", lambda a: a.amax((0, 2)), lambda a: a.max((0, 2)), [(2, 3, 4)], "any"),
    ("amin", lambda a: a.amin(-1, keepdim=True), lambda a: a.min(-1, keepdims=True), [(3, 4)], "any"),
    ("max", lambda a: a.max(), np.max, [(3, 4)], "any"),
    ("min", lambda a: a.min(), np.min, [(3, 4)], "any"),
    ("var", lambda a: a.var(1), lambda a: a.var(1, ddof=1), [(3, 4)], "any"),
    ("var_unbiased_false", lambda a: a.var(unbiased=False), lambda a: a.var(), [(3, 4)], "any"),
    ("std", lambda a: a.std((0, 1), keepdim=True), lambda a: a.std((0, 1), ddof=1, keepdims=True), [(2, 3, 4)], "any"),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: np.log(np.exp(a).sum(1)), [(3, 4)], "any"),
    ("norm", lambda a: a.norm(), lambda a: np.sqrt((a * a).sum()), [(3, 4)], "any"),
    ("norm_p1_dim", lambda a: a.norm(1, dim=0), lambda a: np.abs(a).sum(0), [(3, 4)], "any"),
    ("norm_p3", lambda a: a.norm(3, dim=1, keepdim=True), lambda a: (np.abs(a) ** 3).sum(1, keepdims=True) ** (1 / 3),
     [(3, 4)], "any"),
    ("norm_inf", lambda a: a.norm(inf), lambda a: np.abs(a).max(), [(3, 4)], "any"),
    ("softmax", lambda a: a.softmax(1), lambda a: _softmax(a, 1), [(3, 4)], "any"),
    ("log_softmax", lambda a: a.log_softmax(0), lambda a: np.log(_softmax(a, 0)), [(3, 4)], "any"),
    ("reshape", lambda a: a.reshape(-1, 2), lambda a: a.reshape(-1, 2), [(3, 4)], "any"),
    ("view", lambda a: a.view(4, 3), lambda a: a.reshape(4, 3), [(3, 4)], "any"),
    ("flatten", lambda a: a.flatten(1), lambda a: a.reshape(2, 12), [(2, 3, 4)], "any"),
    ("transpose", lambda a: a.transpose(-1, 0), lambda a: a.swapaxes(-1, 0), [(2, 3, 4)], "any"),
    ("permute", lambda a: a.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0), [(2, 3, 4)], "any"),
    ("T", lambda a: a.T, lambda a: a.T, [(3, 4)], "any"),
    ("mT", lambda a: a.mT, lambda a: a.swapaxes(-1, -2), [(2, 3, 4)], "any"),
    ("unsqueeze", lambda a: a.unsqueeze(-2), lambda a: np.expand_dims(a, -2), [(3, 4)], "any"),
    ("squeeze", lambda a: a.squeeze(), np.squeeze, [(1, 3, 1)], "any"),
    ("expand", lambda a: a.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), [(3, 1)], "any"),
    ("repeat", lambda a: a.repeat(2, 1, 3), lambda a: np.tile(a, (2, 1, 3)), [(3, 2)], "any"),
    ("cat", lambda a, b: bibun.cat([a, b], 1), lambda a, b: np.concatenate([a, b], 1), [(2, 3), (2, 1)], "any"),
    ("stack", lambda a, b: bibun.stack([a, b], -1), lambda a, b: np.stack([a, b], -1), [(2, 3), (2, 3)], "any"),
    ("flip", lambda a: a.flip(0, 1), lambda a: a[::-1, ::-1], [(3, 4)], "any"),
    ("clone", lambda a: a.clone(), lambda a: a.copy(), [(3, 4)], "any"),
    ("to_float32", lambda a: a.to(bibun.float32), lambda a: a.astype(np.float32), [(3, 4)], "any"),
]


@pytest.mark.parametrize("case", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_values_match_numpy(case, device):
    name, fn, ref, shapes, kind = case
    arrays = _rand(name, *shapes, kind=kind)
    out = fn(*[bibun.tensor(a, device=device) for a in arrays])
    expected = np.asarray(ref(*arrays))
    assert tuple(out.shape) == expected.shape
    np.testing.assert_allclose(_np(out), expected, rtol=1e-12, atol=1e-14)


COMPARISONS = [
    ("lt", lambda a, b: a < b, np.less),
    ("le", lambda a, b: a <= b, np.less_equal),
    ("gt", lambda a, b: a > b, np.greater),
    ("ge", lambda a, b: a >= b, np.greater_equal),
    ("eq", lambda a, b: a == b, np.equal),
    ("ne", lambda a, b: a != b, np.not_equal),
]


@pytest.mark.parametrize("case", COMPARISONS, ids=[c[0] for c in COMPARISONS])
def test_comparisons_match_numpy(case, device):
    _, fn, ref = case
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    out = fn(bibun.tensor(a, device=device), bibun.tensor(b, device=device))
    assert out.dtype is bibun.bool and out.tolist() == ref(a, b).tolist()
    assert fn(bibun.tensor(a, device=device), 2).tolist() == ref(a, 2).tolist()  # a python scalar operand
    assert fn(bibun.tensor(a, device=device).long(), 2.5).tolist() == ref(a.astype(np.int64), 2.5).tolist()


def test_max_min_dim_return_values_and_indices(device):
    x = bibun.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 7.0]], device=device)
    values, indices = x.max(1)
    assert values.tolist() == [5.0, 7.0] and indices.tolist() == [1, 0]  # first of a tie, as PyTorch
    r = x.min(0, keepdim=True)
    assert r.values.tolist() == [[1.0, 2.0, 5.0]] and r.indices.tolist() == [[0, 1, 0]]
    assert r.indices.dtype is bibun.int64
    assert x.argmax().item() == 3 and x.argmin(1).tolist() == [0, 1]


def test_split_chunk_pieces(device):
    x = bibun.arange(10.0, device=device)
    assert [p.tolist() for p in x.split(4)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert [p.shape[0] for p in x.split([2, 8])] == [2, 8]
    assert [p.shape[0] for p in x.chunk(3)] == [4, 4, 2]
    assert [p.shape[0] for p in bibun.ones(2, 6).chunk(4, 1)] == [2, 2, 2]  # PyTorch: fewer chunks than asked
    assert [tuple(p.shape) for p in bibun.ones(0, 5).chunk(3)] == [(0, 5)] * 3


# ---------------------------------------------------------------------- gradients at kinks, ties and special values
# (id, fn, input, PyTorch's gradient of sum(fn(input)))
KINKS = [
    ("relu_at_0", lambda x: x.relu(), [-1.0, 0.0, 2.0], [0.0, 0.0, 1.0]),
    ("abs_at_0", lambda x: x.abs(), [-1.0, 0.0, 2.0], [-1.0, 0.0, 1.0]),
    ("sign_everywhere", lambda x: x.sign(), [-1.0, 0.0, 2.0], [0.0, 0.0, 0.0]),
    ("sqrt_at_0", lambda x: x.sqrt(), [0.0, 4.0], [inf, 0.25]),
    ("clamp_boundaries", lambda x: x.clamp(0, 1), [-0.5, 0.0, 0.5, 1.0, 1.5], [0.0, 1.0, 1.0, 1.0, 0.0]),
    ("clamp_min_boundary", lambda x: x.clamp(min=0), [-0.5, 0.0, 0.5], [0.0, 1.0, 1.0]),
    ("clamp_max_boundary", lambda x: x.clamp(max=1), [0.5, 1.0, 1.5], [1.0, 1.0, 0.0]),
    ("max_tie_2", lambda x: x.max(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    ("max_tie_3", lambda x: x.max(), [3.0, 3.0, 3.0, 1.0], [1 / 3, 1 / 3, 1 / 3, 0.0]),
    ("min_tie_3", lambda x: x.min(), [1.0, 1.0, 1.0, 2.0], [1 / 3, 1 / 3, 1 / 3, 0.0]),
    ("amax_tie", lambda x: x.amax(), [1.0, 3.0, 3.0], [0.0, 0.5, 0.5]),
    ("amax_dim_tie", lambda x: x.amax(1), [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]], [[0.0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]),
    ("amin_dim_tie", lambda x: x.amin(0), [[1.0, 3.0], [1.0, 2.0]], [[0.5, 0.0], [0.5, 1.0]]),
    ("max_dim_tie_picks_first", lambda x: x.max(1).values, [[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]],
     [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]),
    ("maximum_tie", lambda x: bibun.maximum(x, x.detach() * 0 + 1), [1.0, 0.0, 2.0], [0.5, 0.0, 1.0]),
    ("minimum_tie", lambda x: bibun.minimum(x, x.detach() * 0 + 1), [1.0, 0.0, 2.0], [0.5, 1.0, 0.0]),
    ("norm_at_0", lambda x: x.norm(), [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]),
    ("norm_dim_row_at_0", lambda x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]], [[0.0, 0.0], [0.6, 0.8]]),
    ("norm_p1_at_0", lambda x: x.norm(1), [0.0, -2.0, 3.0], [0.0, -1.0, 1.0]),
    ("norm_p3_at_0", lambda x: x.norm(3), [0.0, 0.0], [0.0, 0.0]),
    ("norm_p_half_at_0", lambda x: x.norm(0.5), [0.0, 4.0], [0.0, 1.0]),
    ("norm_inf_tie", lambda x: x.norm(inf), [-2.0, 2.0, 1.0], [-0.5, 0.5, 0.0]),
    ("std_constant", lambda x: x.std(), [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]),
    ("std_single", lambda x: x.std(), [1.0], [nan]),
    ("var_single", lambda x: x.var(), [1.0], [nan]),
    ("var_dof_negative_full", lambda x: x.var(correction=3), [[1.0, 3.0]], [[inf, inf]]),
    ("var_dof_negative_dim", lambda x: x.var(1, correction=3), [[1.0, 3.0]], [[2.0, -2.0]]),
    ("var_dof_zero_dim", lambda x: x.var(1, correction=2), [[1.0, 3.0]], [[-inf, inf]]),
    ("std_dof_zero_dim", lambda x: x.std(1, correction=2), [[1.0, 3.0]], [[nan, nan]]),
    ("pow_0_of_0", lambda x: x ** 0, [0.0, 2.0], [0.0, 0.0]),
    ("pow_2_at_0", lambda x: x ** 2, [0.0, -1.0], [0.0, -2.0]),
    ("pow_half_at_0", lambda x: x ** 0.5, [0.0, 4.0], [inf, 0.25]),
    ("pow_tensor_zero_base", lambda x: x ** (x.detach() * 0 + bibun.tensor([2.0, 0.5, 0.0], dtype=bibun.float64)),
     [0.0, 0.0, 0.0], [0.0, inf, 0.0]),
    ("rpow_zero_base", lambda x: 0.0 ** x, [2.0, 0.0, -1.0], [0.0, 0.0, -inf]),
    ("rpow_two", lambda x: 2 ** x, [0.0, 1.0, -1.0], [0.6931471805599453, 1.3862943611198906, 0.34657359027997264]),
    ("log_at_0", lambda x: x.log(), [0.0, 2.0], [inf, 0.5]),
    ("rdiv_at_0", lambda x: 1 / x, [0.0, 2.0], [-inf, -0.25]),
    ("sigmoid_saturated", lambda x: x.sigmoid(), [-1000.0, 0.0, 1000.0], [0.0, 0.25, 0.0]),
    ("tanh_saturated", lambda x: x.tanh(), [-1000.0, 0.0, 1000.0], [0.0, 1.0, 0.0]),
    ("logsumexp_big", lambda x: x.logsumexp(0), [1000.0, 1000.0], [0.5000000000000275, 0.5000000000000275]),
    ("logsumexp_neg_inf", lambda x: x.logsumexp(0), [-inf, -inf], [nan, nan]),
    ("log_softmax_neg_inf", lambda x: x.log_softmax(0), [-inf, 1.0], [1.0, -1.0]),
    ("softmax_neg_inf", lambda x: x.softmax(0), [-inf, 1.0], [0.0, 0.0]),
    ("prod_one_zero", lambda x: x.prod(), [2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),
    ("prod_two_zeros", lambda x: x.prod(), [2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),
    ("prod_dim_zeros", lambda x: x.prod(1), [[2.0, 0.0, 3.0], [1.0, 2.0, 3.0], [0.0, 5.0, 0.0]],
     [[0.0, 6.0, 0.0], [6.0, 3.0, 2.0], [0.0, 0.0, 0.0]]),
    ("relu_nan", lambda x: x.relu(), [nan, 1.0], [1.0, 1.0]),
    ("abs_nan", lambda x: x.abs(), [nan, -1.0], [0.0, -1.0]),
    ("max_nan", lambda x: x.max(), [nan, 1.0, 2.0], [1.0, 0.0, 0.0]),
    ("clamp_nan", lambda x: x.clamp(0, 1), [nan, 0.5], [0.0, 1.0]),
]


@pytest.mark.parametrize("case", KINKS, ids=[c[0] for c in KINKS])
def test_gradient_conventions(case, device):
    _, fn, x, expected = case
    t = bibun.tensor(x, dtype=bibun.float64, device=device, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nan/inf on purpose
        y = fn(t)
        y.backward(bibun.ones_like(y))
    np.testing.assert_allclose(_np(t.grad), np.array(expected), rtol=1e-12, atol=0, equal_nan=True)


def test_norm_p0_has_no_gradient(device):
    x = bibun.tensor([0.0, 2.0], dtype=bibun.float64, device=device, requires_grad=True)
    n = x.norm(0)
    assert n.item() == 1.0
    n.backward()
    assert x.grad is None  # PyTorch's norm_backward returns an undefined gradient for p = 0


def test_prod_gradient_closed_form_with_zeros(device):
    """d prod / d x_i is the product of the others: one zero gets all of it, two zeros give none."""
    x = bibun.tensor([[3.0, 0.0, 2.0, 5.0], [0.0, 4.0, 0.0, 1.0], [1.0, 2.0, 3.0, 4.0]], dtype=bibun.float64,
                     device=device, requires_grad=True)
    x.prod(1).sum().backward()
    assert x.grad.tolist() == [[0.0, 30.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [24.0, 12.0, 8.0, 6.0]]
    y = bibun.tensor([0.0, 2.0, 0.0], dtype=bibun.float64, device=device, requires_grad=True)
    (g,) = bibun.autograd.grad(y.prod(), y, create_graph=True)
    assert g.tolist() == [0.0, 0.0, 0.0]
    # d/dy of g[0] = y1 * y2 is (0, y2, y1): the derivative between the two zeros survives
    (h,) = bibun.autograd.grad(g[0], y)
    assert h.tolist() == [0.0, 0.0, 2.0]


# ---------------------------------------------------------------------- special values
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's log(0) warning; PyTorch is silent
def test_logsumexp_is_stable(device):
    t = bibun.tensor([1000.0, 1000.0], device=device)
    assert abs(t.logsumexp(0).item() - 1000.6931471805599) < 1e-3
    assert bibun.tensor([-inf, -inf], device=device).logsumexp(0).item() == -inf
    assert bibun.tensor([inf, 1.0], device=device).logsumexp(0).item() == inf
    assert bibun.tensor([inf, -inf], device=device).logsumexp(0).item() == inf
    assert math.isnan(bibun.tensor([nan, 1.0], device=device).logsumexp(0).item())
    assert bibun.tensor([], device=device).logsumexp(0).item() == -inf


def test_softmax_special_values(device):
    assert bibun.tensor([1000.0, 0.0, -1000.0], device=device).softmax(0).tolist() == [1.0, 0.0, 0.0]
    assert bibun.tensor([1000.0, 0.0, -1000.0], device=device).log_softmax(0).tolist() == [0.0, -1000.0, -2000.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert all(math.isnan(v) for v in bibun.tensor([-inf, -inf], device=device).softmax(0).tolist())
        assert all(math.isnan(v) for v in bibun.tensor([-inf, -inf], device=device).log_softmax(0).tolist())
        assert all(math.isnan(v) for v in bibun.tensor([inf, 1.0], device=device).softmax(0).tolist())
        assert all(math.isnan(v) for v in bibun.tensor([1.0, nan], device=device).softmax(0).tolist())
    assert bibun.tensor([-inf, 1.0], device=device).log_softmax(0).tolist() == [-inf, 0.0]
    assert bibun.tensor([-inf, 1.0], device=device).softmax(0).tolist() == [0.0, 1.0]
    assert bibun.zeros(0, 3, device=device).softmax(0).shape == (0, 3)
    assert bibun.tensor(2.0, device=device).softmax(0).item() == 1.0


def test_empty_reductions(device):
    e = bibun.tensor([], device=device)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(e.mean().item())
        assert math.isnan(e.var().item()) and math.isnan(e.std().item())
        assert all(math.isnan(v) for v in bibun.zeros(0, 3, device=device).mean(0).tolist())
    assert e.sum().item() == 0.0 and e.prod().item() == 1.0 and e.norm().item() == 0.0
    assert bibun.zeros(0, 3, device=device).sum(0).tolist() == [0.0, 0.0, 0.0]
    assert bibun.zeros(0, 3, device=device).prod(0).tolist() == [1.0, 1.0, 1.0]
    assert bibun.zeros(0, 3, device=device).amax(1).shape == (0,)
    assert bibun.zeros(0, 3, device=device).argmax(1).tolist() == []
    r = bibun.zeros(0, 3, device=device).max(1)
    assert r.values.shape == (0,) and r.indices.dtype is bibun.int64


EMPTY_ERRORS = [
    (lambda e: e.max(), RuntimeError, "max(): Expected reduction dim to be specified for input.numel() == 0. "
                                      "Specify the reduction dim with the 'dim' argument."),
    (lambda e: e.min(), RuntimeError, "min(): Expected reduction dim to be specified for input.numel() == 0. "
                                      "Specify the reduction dim with the 'dim' argument."),
    (lambda e: e.amax(), RuntimeError, "amax(): Expected reduction dim to be specified for input.numel() == 0. "
                                       "Specify the reduction dim with the 'dim' argument."),
    (lambda e: e.argmax(), IndexError, "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda e: e.argmin(), IndexError, "argmin(): Expected reduction dim to be specified for input.numel() == 0."),
    (lambda e: e.reshape(0, 3).max(0), IndexError, "max(): Expected reduction dim 0 to have non-zero size."),
    (lambda e: e.reshape(0, 3).amin(0), IndexError, "amin(): Expected reduction dim 0 to have non-zero size."),
    (lambda e: e.reshape(0, 3).argmax(0), IndexError, "argmax(): Expected reduction dim 0 to have non-zero size."),
]


@pytest.mark.parametrize("case", EMPTY_ERRORS, ids=[f"empty{i}" for i in range(len(EMPTY_ERRORS))])
def test_empty_reduction_errors(case, device):
    fn, exc, msg = case
    with pytest.raises(exc, match=f"^{re.escape(msg)}$"):
        fn(bibun.tensor([], device=device))


def test_nan_propagates(device):
    x = bibun.tensor([1.0, nan, -2.0], device=device)
    assert math.isnan(x.sum().item()) and math.isnan(x.max().item()) and math.isnan(x.min().item())
    assert math.isnan(x.amax().item()) and math.isnan(x.norm().item()) and math.isnan(x.norm(inf).item())
    assert x.argmax().item() == 1 and x.argmin().item() == 1  # PyTorch: a NaN is the max and the min
    r = x.max(0)
    assert math.isnan(r.values.item()) and r.indices.item() == 1
    y = bibun.tensor([nan, 2.0], device=device)
    assert [math.isnan(v) for v in bibun.maximum(x[:2], y).tolist()] == [True, True]
    assert [math.isnan(v) for v in bibun.minimum(x[:2], y).tolist()] == [True, True]
    relu = x.relu().tolist()
    assert relu[0] == 1.0 and math.isnan(relu[1]) and relu[2] == 0.0
    assert x.sign().tolist() == [1.0, 0.0, -1.0]  # PyTorch (CPU): sign(nan) == 0
    clamped = x.clamp(0, 1).tolist()
    assert clamped[0] == 1.0 and math.isnan(clamped[1]) and clamped[2] == 0.0


# ---------------------------------------------------------------------- graph nodes, named as PyTorch names them
# (expression over x, y; input shapes; type(grad_fn).__name__; len(next_functions)) -- from PyTorch 2.13
NODES = [
    ("x + y", [(2, 3), (3,)], "AddBackward0", 2),
    ("x + 1", [(2,)], "AddBackward0", 2),
    ("1 + x", [(2,)], "AddBackward0", 2),
    ("bibun.add(x, y, alpha=2)", [(2,), (2,)], "AddBackward0", 2),
    ("x - y", [(2,), (2,)], "SubBackward0", 2),
    ("x - 1", [(2,)], "SubBackward0", 2),
    ("1 - x", [(2,)], "RsubBackward1", 1),
    ("2.0 - x", [(2,)], "RsubBackward1", 1),
    ("x * y", [(2,), (2,)], "MulBackward0", 2),
    ("x * 2", [(2,)], "MulBackward0", 2),
    ("2 * x", [(2,)], "MulBackward0", 2),
    ("x / y", [(2,), (2,)], "DivBackward0", 2),
    ("x / 2", [(2,)], "DivBackward0", 2),
    ("1 / x", [(2,)], "MulBackward0", 2),
    ("-x", [(2,)], "NegBackward0", 1),
    ("x ** 2", [(2,)], "PowBackward0", 1),
    ("x ** y", [(2,), (2,)], "PowBackward1", 2),
    ("2 ** x", [(2,)], "PowBackward2", 1),
    ("bibun.pow(x, 2)", [(2,)], "PowBackward0", 1),
    ("bibun.maximum(x, y)", [(2,), (2,)], "MaximumBackward0", 2),
    ("bibun.minimum(x, y)", [(2,), (2,)], "MinimumBackward0", 2),
    ("bibun.where(x > 0, x, y)", [(2,), (2,)], "WhereBackward0", 2),
    ("bibun.where(x > 0, x, 0.0)", [(2,)], "WhereBackward0", 2),
    ("x.clamp(0, 1)", [(2,)], "ClampBackward1", 1),
    ("x.clamp(min=0)", [(2,)], "ClampBackward1", 1),
    ("x.clip(max=1)", [(2,)], "ClampBackward1", 1),
    ("x.exp()", [(2,)], "ExpBackward0", 1),
    ("x.log()", [(2,)], "LogBackward0", 1),
    ("x.log1p()", [(2,)], "Log1PBackward0", 1),
    ("x.sqrt()", [(2,)], "SqrtBackward0", 1),
    ("x.rsqrt()", [(2,)], "RsqrtBackward0", 1),
    ("x.abs()", [(2,)], "AbsBackward0", 1),
    ("x.sign()", [(2,)], "SignBackward0", 1),
    ("x.sin()", [(2,)], "SinBackward0", 1),
    ("x.cos()", [(2,)], "CosBackward0", 1),
    ("x.tan()", [(2,)], "TanBackward0", 1),
    ("x.tanh()", [(2,)], "TanhBackward0", 1),
    ("x.sigmoid()", [(2,)], "SigmoidBackward0", 1),
    ("x.relu()", [(2,)], "ReluBackward0", 1),
    ("x @ y", [(3,), (3,)], "DotBackward0", 2),
    ("x @ y", [(2, 3), (3,)], "MvBackward0", 2),
    ("x @ y", [(3,), (3, 2)], "SqueezeBackward4", 1),
    ("x @ y", [(2, 3), (3, 2)], "MmBackward0", 2),
    ("x @ y", [(2, 2, 3), (2, 3, 2)], "UnsafeViewBackward0", 1),
    ("x @ y", [(2, 2, 3), (3, 2)], "UnsafeViewBackward0", 1),
    ("x @ y", [(2, 3), (2, 3, 2)], "CloneBackward0", 1),
    ("x @ y", [(2, 1, 2, 3), (3, 3, 2)], "UnsafeViewBackward0", 1),
    ("x @ y", [(3,), (2, 3, 2)], "UnsafeViewBackward0", 1),
    ("x @ y", [(2, 2, 3), (3,)], "UnsafeViewBackward0", 1),
    ("bibun.mm(x, y)", [(2, 3), (3, 2)], "MmBackward0", 2),
    ("bibun.bmm(x, y)", [(2, 2, 3), (2, 3, 2)], "BmmBackward0", 2),
    ("x.sum()", [(2, 3)], "SumBackward0", 1),
    ("x.sum(0)", [(2, 3)], "SumBackward1", 1),
    ("x.sum((0, 1))", [(2, 3)], "SumBackward1", 1),
    ("x.sum(())", [(2, 3)], "SumBackward1", 1),
    ("x.mean()", [(2, 3)], "MeanBackward0", 1),
    ("x.mean(0)", [(2, 3)], "MeanBackward1", 1),
    ("x.prod()", [(2, 3)], "ProdBackward0", 1),
    ("x.prod(0)", [(2, 3)], "ProdBackward1", 1),
    ("x.max()", [(2, 3)], "MaxBackward1", 1),
    ("x.max(0)", [(2, 3)], "MaxBackward0", 1),
    ("x.min()", [(2, 3)], "MinBackward1", 1),
    ("x.min(0)", [(2, 3)], "MinBackward0", 1),
    ("x.amax(0)", [(2, 3)], "AmaxBackward0", 1),
    ("x.amin()", [(2, 3)], "AminBackward0", 1),
    ("x.var()", [(2, 3)], "VarBackward0", 1),
    ("x.var(0)", [(2, 3)], "VarBackward0", 1),
    ("x.std(1)", [(2, 3)], "StdBackward0", 1),
    ("x.logsumexp(0)", [(2, 3)], "LogsumexpBackward0", 1),
    ("x.norm()", [(2, 3)], "LinalgVectorNormBackward0", 1),
    ("x.norm(1, dim=0)", [(2, 3)], "LinalgVectorNormBackward0", 1),
    ("x.softmax(0)", [(2, 3)], "SoftmaxBackward0", 1),
    ("x.log_softmax(1)", [(2, 3)], "LogSoftmaxBackward0", 1),
    ("x.reshape(3, 2)", [(2, 3)], "ViewBackward0", 1),
    ("x.t().reshape(6)", [(2, 3)], "UnsafeViewBackward0", 1),
    ("x.view(3, 2)", [(2, 3)], "ViewBackward0", 1),
    ("x.flatten()", [(2, 3)], "ViewBackward0", 1),
    ("x.transpose(0, 1)", [(2, 3)], "TransposeBackward0", 1),
    ("x.permute(1, 0)", [(2, 3)], "PermuteBackward0", 1),
    ("x.T", [(2, 3)], "PermuteBackward0", 1),
    ("x.mT", [(2, 3)], "TransposeBackward0", 1),
    ("x.unsqueeze(0)", [(2, 3)], "UnsqueezeBackward0", 1),
    ("x.squeeze()", [(2, 1)], "SqueezeBackward0", 1),
    ("x.squeeze(1)", [(2, 1)], "SqueezeBackward1", 1),
    ("x.squeeze((1,))", [(2, 1)], "SqueezeBackward2", 1),
    ("x.expand(2, 2, 3)", [(2, 3)], "ExpandBackward0", 1),
    ("x.expand_as(y)", [(1, 3), (2, 3)], "ExpandBackward0", 1),
    ("x.repeat(2, 1)", [(2, 3)], "RepeatBackward0", 1),
    ("bibun.cat([x, y])", [(2, 3), (2, 3)], "CatBackward0", 2),
    ("bibun.cat([x])", [(2, 3)], "CatBackward0", 1),
    ("bibun.stack([x, y])", [(2, 3), (2, 3)], "StackBackward0", 2),
    ("x.split(1)", [(2, 3)], "SplitBackward0", 1),
    ("x.split([1, 1])", [(2, 3)], "SplitWithSizesBackward0", 1),
    ("x.chunk(2)", [(2, 3)], "SplitBackward0", 1),
    ("x.unbind(0)", [(2, 3)], "UnbindBackward0", 1),
    ("x.flip(0)", [(2, 3)], "FlipBackward0", 1),
    ("x.clone()", [(2, 3)], "CloneBackward0", 1),
    ("x.t().contiguous()", [(2, 3)], "CloneBackward0", 1),
    ("x.to(bibun.float32)", [(2, 3)], "ToCopyBackward0", 1),
    ("x.float()", [(2, 3)], "ToCopyBackward0", 1),
    ("x.detach().float().requires_grad_().to(bibun.float64)", [(2, 3)], "ToCopyBackward0", 1),
]


NODES += [
    ("x.t()", [(2, 3)], "TBackward0", 1),
    ("x.clamp(y, y + 1)", [(2, 3), (3,)], "ClampBackward0", 3),
]


def _node_id(c):
    c = c.values[0] if hasattr(c, "values") else c
    return f"{c[0]}-{len(c[1][-1])}d"


@pytest.mark.parametrize("case", NODES, ids=[_node_id(c) for c in NODES])
def test_grad_fn_names(case, device):
    src, shapes, name, n_next = case
    xs = [bibun.ones(s, dtype=bibun.float64, device=device, requires_grad=True) for s in shapes]
    env = {"bibun": bibun, "x": xs[0], "y": xs[-1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = eval(src, env)  # noqa: S307 - fixed expressions above
    if isinstance(out, tuple):
        out = out[0]
    assert type(out.grad_fn).__name__ == name
    assert len(out.grad_fn.next_functions) == n_next


def test_unbound_ops_match_pytorch(device):
    """ops.shape.t and ops.arithmetic.clamp_tensor give PyTorch's nodes and gradients (values from PyTorch 2.13)."""
    from bibun.ops.arithmetic import clamp_tensor
    from bibun.ops.shape import t
    x = bibun.ones(2, 3, device=device, requires_grad=True)
    assert type(t(x).grad_fn).__name__ == "TBackward0" and t(x).shape == (3, 2)
    assert t(bibun.ones(3, device=device)).shape == (3,)
    x = bibun.tensor([-1.0, 0.0, 0.5, 1.0, 2.0, 0.5, 0.5], device=device, requires_grad=True)
    lo = bibun.tensor([0.0, 0.0, 0.0, 0.0, 0.0, 0.7, 0.8], device=device, requires_grad=True)
    hi = bibun.tensor([1.0, 1.0, 1.0, 1.0, 1.0, 0.6, 0.3], device=device, requires_grad=True)
    y = clamp_tensor(x, lo, hi)
    y.backward(bibun.ones_like(y))
    assert type(y.grad_fn).__name__ == "ClampBackward0" and len(y.grad_fn.next_functions) == 3
    assert y.tolist() == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0, 0.6, 0.3])
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]  # the bounds themselves pass the gradient to x
    assert lo.grad.tolist() == [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    assert hi.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0]  # where min > max, max wins


def test_comparisons_have_no_grad_fn(device):
    x = bibun.ones(2, requires_grad=True, device=device)
    for r in (x < 1, x == 1, x.argmax(), x.max(0).indices):
        assert r.grad_fn is None and not r.requires_grad


# ---------------------------------------------------------------------- view semantics
VIEWS = [
    ("reshape", lambda b: b.reshape(6)),
    ("view", lambda b: b.view(3, 2)),
    ("flatten", lambda b: b.flatten()),
    ("transpose", lambda b: b.transpose(0, 1)),
    ("permute", lambda b: b.permute(1, 0)),
    ("T", lambda b: b.T),
    ("mT", lambda b: b.mT),
    ("unsqueeze", lambda b: b.unsqueeze(0)),
    ("squeeze", lambda b: b.unsqueeze(1).squeeze(1)),
    ("split", lambda b: b.split(1)[1]),
    ("chunk", lambda b: b.chunk(2, 1)[0]),
    ("unbind", lambda b: b.unbind(1)[2]),
]
COPIES = [
    ("flip", lambda b: b.flip(0)),
    ("repeat", lambda b: b.repeat(1, 1)),
    ("cat", lambda b: bibun.cat([b])),
    ("stack", lambda b: bibun.stack([b])),
    ("clone", lambda b: b.clone()),
    ("to_copy", lambda b: b.to(bibun.float64)),
    ("non_viewable_reshape", lambda b: b.t().reshape(6)),
]


@pytest.mark.parametrize("case", VIEWS, ids=[c[0] for c in VIEWS])
def test_views_share_memory(case, device):
    _, fn = case
    base = bibun.zeros(2, 3, device=device)
    v = fn(base)
    with bibun.no_grad():
        v.fill_(7.0)
    assert (base == 7.0).sum().item() == v.numel()


def test_expand_is_a_view(device):
    base = bibun.zeros(2, 3, device=device)
    v = base.expand(4, 2, 3)
    with bibun.no_grad():
        base.fill_(7.0)  # an expanded view cannot be written; its values follow the base
    assert v.tolist() == [[[7.0] * 3] * 2] * 4


@pytest.mark.parametrize("case", COPIES, ids=[c[0] for c in COPIES])
def test_copies_do_not_share_memory(case, device):
    _, fn = case
    base = bibun.zeros(2, 3, device=device)
    c = fn(base)
    with bibun.no_grad():
        c.fill_(7.0)
    assert base.tolist() == [[0.0] * 3] * 2


def test_contiguous_returns_self_when_contiguous(device):
    x = bibun.ones(2, 3, device=device)
    assert x.contiguous() is x
    t = x.t()
    c = t.contiguous()
    assert c is not t and c.tolist() == t.tolist()


def test_to_same_dtype_returns_self(device):
    x = bibun.ones(2, device=device)
    assert x.to(bibun.float32) is x
    assert x.to(bibun.float64) is not x


def test_zero_dim_shape_ops(device):
    x = bibun.tensor(2.0, device=device)
    for out in (x.flip(0), x.transpose(0, -1), x.squeeze(0), x.permute(), x.reshape(()), x.sum(0), x.prod(0),
                x.logsumexp(0), x.norm(dim=0), x.amax(0)):
        assert out.shape == () and out.item() == 2.0
    assert x.unsqueeze(-1).shape == (1,) and x.flatten().shape == (1,) and x.expand(3).tolist() == [2.0] * 3
    assert x.repeat(2, 3).shape == (2, 3) and bibun.stack([x, x]).tolist() == [2.0, 2.0]
    assert x.argmax(0).item() == 0 and x.max(0).values.item() == 2.0


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy's own dof warning comes too
def test_var_std_warn_without_degrees_of_freedom(device):
    x = bibun.tensor([1.0], device=device)
    msg = "degrees of freedom is <= 0. Correction should be strictly less than the reduction factor"
    with pytest.warns(UserWarning, match=f"^std\\(\\): {msg}"):
        assert math.isnan(x.std().item())
    with pytest.warns(UserWarning, match=f"^var\\(\\): {msg}"):
        assert math.isnan(x.var(correction=2).item())
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        bibun.tensor([1.0, 2.0], device=device).var()


def test_clamp_with_tensor_bounds_at_ties(device):
    """PyTorch: x equal to a bound keeps its whole gradient; the bounds get none (no 0.5 split)."""
    x = bibun.tensor([0.0, 1.0], device=device, requires_grad=True)
    lo = bibun.tensor([0.0, 0.0], device=device, requires_grad=True)
    hi = bibun.tensor([1.0, 1.0], device=device, requires_grad=True)
    x.clamp(lo, hi).sum().backward()
    assert x.grad.tolist() == [1.0, 1.0] and lo.grad.tolist() == [0.0, 0.0] and hi.grad.tolist() == [0.0, 0.0]


@pytest.mark.parametrize("expr, expected", [
    ("t.all()", "tensor(False)"), ("t.any()", "tensor(True)"), ("t.all(1)", "tensor([False,  True])"),
    ("t.any(0, keepdim=True)", "tensor([[True, True]])"), ("bibun.all(t > -1)", "tensor(True)"),
    ("(t > 0).all(dim=-1)", "tensor([False,  True])"), ("bibun.zeros(0).all()", "tensor(True)"),
    ("bibun.zeros(0).any()", "tensor(False)"),
])
def test_all_any(expr, expected, device, repr_on):
    t = bibun.tensor([[1.0, 0.0], [2.0, 3.0]])  # noqa: F841 - used by eval
    assert repr(eval(expr)) == repr_on(expected)
