"""Gradients of every non-indexing op checked against finite differences (float64).

``gradcheck`` compares the whole Jacobian; ``gradgradcheck`` does the same for the
gradient itself, which works because every backward formula is written in bibun ops.
Inputs stay away from each op's kinks, poles and ties (see ``_inputs``). The hypothesis
tests draw broadcastable shapes and check that each input's gradient has that input's shape.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import bibun
from bibun.autograd import gradcheck, gradgradcheck

ANY, POS, AWAY, SMALL = "any", "pos", "away", "small"


def _inputs(name, shapes, kind, device):
    """float64 leaves: ANY normal, POS in [0.5, 2], AWAY with |x| >= 0.5, SMALL in [-1, 1] (tan)."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = []
    for s in shapes:
        if kind == POS:
            x = rng.uniform(0.5, 2.0, size=s)
        elif kind == SMALL:
            x = rng.uniform(-1.0, 1.0, size=s)
        else:
            x = rng.standard_normal(size=s)
            if kind == AWAY:
                x = np.sign(x) * (0.5 + np.abs(x))
        out.append(bibun.tensor(x, dtype=bibun.float64, device=device, requires_grad=True))
    return out


def check_case(case, device):
    """gradcheck and gradgradcheck one ``(id, fn, input shapes, kind)`` case of a GRADCHECK_CASES table."""
    name, fn, shapes, kind = case
    inputs = _inputs(name, shapes, kind, device)
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def _distinct(n, device, shape, seed=0):
    """Values spaced 0.1 apart (shuffled): no ties in max/min/sort, no kinks near clamp bounds."""
    rng = np.random.default_rng(seed)
    x = (rng.permutation(n) - n / 2 + 0.25) * 0.1
    return bibun.tensor(x.reshape(shape), dtype=bibun.float64, device=device, requires_grad=True)


# (id, fn, input shapes, kind, also gradgradcheck)
CASES = [
    # arithmetic, with broadcasting and 0-dim operands
    ("add", lambda a, b: a + b, [(2, 3), (2, 3)], ANY, True),
    ("add_bcast", lambda a, b: a + b, [(3, 1), (1, 4)], ANY, True),
    ("add_0dim", lambda a, b: a + b, [(), (2, 3)], ANY, True),
    ("add_alpha", lambda a, b: bibun.add(a, b, alpha=-2.5), [(2, 3), (3,)], ANY, True),
    ("add_scalar", lambda a: a + 3.0, [(2, 3)], ANY, False),
    ("sub", lambda a, b: a - b, [(2, 3), (3,)], ANY, True),
    ("sub_alpha", lambda a, b: a.sub(b, alpha=0.5), [(3, 1), (2, 1, 4)], ANY, True),
    ("rsub", lambda a: 2.0 - a, [(2, 3)], ANY, True),
    ("mul", lambda a, b: a * b, [(2, 3), (3,)], ANY, True),
    ("mul_bcast", lambda a, b: a * b, [(3, 1), (1, 4)], ANY, True),
    ("mul_0dim", lambda a, b: a * b, [(), (2, 3)], ANY, True),
    ("mul_scalar", lambda a: 2.5 * a, [(2, 3)], ANY, False),
    ("div", lambda a, b: a / b, [(2, 3), (2, 3)], AWAY, True),
    ("div_bcast", lambda a, b: a / b, [(3, 1), (4,)], AWAY, True),
    ("div_0dim", lambda a, b: a / b, [(2, 3), ()], AWAY, True),
    ("rdiv", lambda a: 1 / a, [(2, 3)], AWAY, True),
    ("rdiv2", lambda a: -2.5 / a, [(2, 3)], AWAY, True),
    ("neg", lambda a: -a, [(2, 3)], ANY, True),
    ("pow_int", lambda a: a ** 3, [(2, 3)], ANY, True),
    ("pow_frac", lambda a: a ** 1.5, [(2, 3)], POS, True),
    ("pow_neg", lambda a: a.pow(-2), [(2, 3)], POS, True),
    ("pow_zero", lambda a: a ** 0, [(2, 3)], ANY, False),
    ("pow_tensor", lambda a, b: a ** b, [(2, 3), (2, 3)], POS, True),
    ("pow_tensor_bcast", lambda a, b: bibun.pow(a, b), [(3, 1), (1, 2)], POS, True),
    ("rpow", lambda a: 2 ** a, [(2, 3)], ANY, True),
    ("rpow_frac", lambda a: 0.5 ** a, [(2, 3)], ANY, True),
    ("maximum", lambda a, b: bibun.maximum(a, b), [(3, 1), (1, 4)], ANY, True),
    ("minimum", lambda a, b: bibun.minimum(a, b), [(2, 3), (3,)], ANY, True),
    ("where", lambda a, b: bibun.where(a > 0, a, b), [(3, 4), (4,)], AWAY, True),
    ("where_scalar", lambda a: bibun.where(a > 0, a * a, 0.5), [(3, 4)], AWAY, True),
    ("clamp_tensor_bounds", lambda a, lo, hi: a.clamp(lo, hi), [(2, 3), (3,), (2, 1)], ANY, True),
    # unary math
    ("exp", lambda a: a.exp(), [(2, 3)], ANY, True),
    ("log", lambda a: a.log(), [(2, 3)], POS, True),
    ("log1p", lambda a: a.log1p(), [(2, 3)], POS, True),
    ("sqrt", lambda a: a.sqrt(), [(2, 3)], POS, True),
    ("rsqrt", lambda a: a.rsqrt(), [(2, 3)], POS, True),
    ("abs", lambda a: a.abs(), [(2, 3)], AWAY, True),
    ("sign", lambda a: a.sign(), [(2, 3)], AWAY, False),
    ("sin", lambda a: a.sin(), [(2, 3)], ANY, True),
    ("cos", lambda a: a.cos(), [(2, 3)], ANY, True),
    ("tan", lambda a: a.tan(), [(2, 3)], SMALL, True),
    ("tanh", lambda a: a.tanh(), [(2, 3)], ANY, True),
    ("sigmoid", lambda a: a.sigmoid(), [(2, 3)], ANY, True),
    ("relu", lambda a: a.relu(), [(2, 3)], AWAY, True),
    # matmul, every rank combination
    ("matmul_1d_1d", lambda a, b: a @ b, [(3,), (3,)], ANY, True),
    ("matmul_2d_1d", lambda a, b: a @ b, [(2, 3), (3,)], ANY, True),
    ("matmul_1d_2d", lambda a, b: a @ b, [(3,), (3, 2)], ANY, True),
    ("matmul_2d_2d", lambda a, b: a @ b, [(2, 3), (3, 2)], ANY, True),
    ("matmul_3d_3d", lambda a, b: a @ b, [(2, 2, 3), (2, 3, 2)], ANY, True),
    ("matmul_3d_2d", lambda a, b: a @ b, [(2, 2, 3), (3, 2)], ANY, True),
    ("matmul_2d_3d", lambda a, b: a @ b, [(2, 3), (2, 3, 2)], ANY, True),
    ("matmul_4d_3d", lambda a, b: a @ b, [(2, 1, 2, 3), (3, 3, 2)], ANY, False),
    ("matmul_1d_3d", lambda a, b: a @ b, [(3,), (2, 3, 2)], ANY, True),
    ("matmul_3d_1d", lambda a, b: a @ b, [(2, 2, 3), (3,)], ANY, True),
    ("mm", lambda a, b: bibun.mm(a, b), [(2, 3), (3, 2)], ANY, True),
    ("bmm", lambda a, b: a.bmm(b), [(2, 2, 3), (2, 3, 2)], ANY, True),
    ("dot", lambda a, b: bibun.dot(a, b), [(4,), (4,)], ANY, True),
    ("mv", lambda a, b: a.mv(b), [(2, 3), (3,)], ANY, True),
    # reductions: all, one dim, keepdim, several dims, negative dims
    ("sum", lambda a: a.sum(), [(2, 3)], ANY, True),
    ("sum_dim", lambda a: a.sum(1), [(2, 3)], ANY, True),
    ("sum_keep", lambda a: a.sum(0, keepdim=True), [(2, 3)], ANY, True),
    ("sum_dims_neg", lambda a: a.sum((-1, 0)), [(2, 3, 2)], ANY, True),
    ("mean", lambda a: a.mean(), [(2, 3)], ANY, True),
    ("mean_dim_neg_keep", lambda a: a.mean(-2, keepdim=True), [(2, 3, 2)], ANY, True),
    ("mean_dims", lambda a: a.mean((0, 2)), [(2, 3, 2)], ANY, True),
    ("prod", lambda a: a.prod(), [(2, 3)], AWAY, True),
    ("prod_dim", lambda a: a.prod(1), [(2, 3)], AWAY, True),
    ("prod_dim_neg_keep", lambda a: a.prod(-1, keepdim=True), [(2, 2, 3)], AWAY, True),
    ("var", lambda a: a.var(), [(2, 3)], ANY, True),
    ("var_dim", lambda a: a.var(1), [(2, 3)], ANY, True),
    ("var_dims_keep", lambda a: a.var((0, -1), keepdim=True), [(2, 3, 2)], ANY, True),
    ("var_correction0", lambda a: a.var(0, correction=0), [(3, 2)], ANY, True),
    ("std", lambda a: a.std(), [(2, 3)], ANY, True),
    ("std_dim_keep", lambda a: a.std(-1, keepdim=True), [(2, 3)], ANY, True),
    ("std_unbiased_false", lambda a: a.std((0, 1), unbiased=False), [(2, 3, 2)], ANY, True),
    ("logsumexp", lambda a: a.logsumexp(1), [(2, 3)], ANY, True),
    ("logsumexp_dims_keep", lambda a: a.logsumexp((0, -1), keepdim=True), [(2, 3, 2)], ANY, True),
    ("norm", lambda a: a.norm(), [(2, 3)], ANY, True),
    ("norm_dim", lambda a: a.norm(dim=-1), [(2, 3)], ANY, True),
    ("norm_p1", lambda a: a.norm(1, dim=0, keepdim=True), [(2, 3)], AWAY, True),
    ("norm_p3", lambda a: a.norm(3), [(2, 3)], AWAY, True),
    ("norm_p1_5", lambda a: a.norm(1.5, dim=1), [(2, 3)], AWAY, True),
    ("norm_p0_5", lambda a: a.norm(0.5), [(2, 3)], AWAY, True),
    # activations
    ("softmax", lambda a: a.softmax(1), [(2, 3)], ANY, True),
    ("softmax_dim0", lambda a: a.softmax(0), [(2, 3, 2)], ANY, True),
    ("log_softmax", lambda a: a.log_softmax(-1), [(2, 3)], ANY, True),
    ("log_softmax_dim1", lambda a: bibun.log_softmax(a, 1), [(2, 3, 2)], ANY, True),
    # shape ops
    ("reshape", lambda a: a.reshape(3, 2), [(2, 3)], ANY, True),
    ("reshape_copy", lambda a: a.t().reshape(-1), [(2, 3)], ANY, True),
    ("view", lambda a: a.view(-1, 2), [(2, 3)], ANY, True),
    ("flatten", lambda a: a.flatten(1), [(2, 3, 2)], ANY, False),
    ("transpose", lambda a: a.transpose(0, -1), [(2, 3, 2)], ANY, True),
    ("permute", lambda a: a.permute(2, 0, 1), [(2, 3, 2)], ANY, True),
    ("T", lambda a: a.T, [(2, 3)], ANY, False),
    ("mT", lambda a: a.mT, [(2, 2, 3)], ANY, False),
    ("unsqueeze", lambda a: a.unsqueeze(-1), [(2, 3)], ANY, False),
    ("squeeze", lambda a: a.squeeze(), [(2, 1, 3)], ANY, False),
    ("squeeze_dim", lambda a: a.squeeze(1), [(2, 1, 3)], ANY, False),
    ("expand", lambda a: a.expand(2, 3, 4), [(3, 1)], ANY, True),
    ("expand_as", lambda a, b: a.expand_as(b) * b, [(1, 3), (2, 3)], ANY, True),
    ("repeat", lambda a: a.repeat(2, 1, 2), [(2, 3)], ANY, True),
    ("cat", lambda a, b: bibun.cat([a, b], -1), [(2, 3), (2, 1)], ANY, True),
    ("stack", lambda a, b: bibun.stack([a, b], 1), [(2, 3), (2, 3)], ANY, True),
    ("split", lambda a: a.split(2, 1), [(2, 5)], ANY, True),
    ("split_sizes", lambda a: a.split([1, 2]), [(3, 2)], ANY, False),
    ("chunk", lambda a: a.chunk(2), [(3, 2)], ANY, True),
    ("unbind", lambda a: a.unbind(1), [(2, 3)], ANY, False),
    ("flip", lambda a: a.flip(0, -1), [(2, 3)], ANY, True),
    ("clone", lambda a: a.clone(), [(2, 3)], ANY, False),
    ("contiguous", lambda a: a.t().contiguous(), [(2, 3)], ANY, False),
    # a composite: several nodes, shared inputs
    ("composite", lambda a, b: ((a @ b).tanh() * a.sum(1, keepdim=True)).log_softmax(-1), [(2, 3), (3, 2)], ANY, True),
]

IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case, device):
    name, fn, shapes, kind, _ = case
    assert gradcheck(fn, _inputs(name, shapes, kind, device))


GG = [c for c in CASES if c[4]]


@pytest.mark.parametrize("case", GG, ids=[c[0] for c in GG])
def test_gradgradcheck(case, device):
    name, fn, shapes, kind, _ = case
    assert gradgradcheck(fn, _inputs(name, shapes, kind, device))


# ---------------------------------------------------------------------- ops that need tie-free or bound-free inputs
SELECTION = [
    ("max", lambda a: a.max()),
    ("min", lambda a: a.min()),
    ("max_dim", lambda a: a.max(1)),
    ("max_dim_keep", lambda a: a.max(-1, keepdim=True).values),
    ("min_dim", lambda a: a.min(0)),
    ("amax", lambda a: a.amax()),
    ("amax_dims", lambda a: a.amax((0, 2), keepdim=True)),
    ("amin_dim", lambda a: a.amin(-1)),
    ("norm_inf", lambda a: a.norm(math.inf, dim=1)),
    ("clamp", lambda a: a.clamp(-0.33, 0.47)),
    ("clamp_min", lambda a: a.clamp(min=0.07)),
    ("clip_max", lambda a: a.clip(max=-0.13)),
    ("relu", lambda a: a.relu()),
    ("sort_values", lambda a: a.sort(1).values),
]


@pytest.mark.parametrize("case", SELECTION, ids=[c[0] for c in SELECTION])
def test_gradcheck_selection(case, device):
    _, fn = case
    x = _distinct(24, device, (2, 3, 4))
    assert gradcheck(fn, (x,))
    assert gradgradcheck(fn, (x,))


def test_clamp_tensor_op_gradcheck(device):
    from bibun.ops.arithmetic import clamp_tensor
    a, lo, hi = _inputs("clamp_tensor_op", [(2, 3), (3,), (2, 1)], ANY, device)
    assert gradcheck(clamp_tensor, (a, lo, hi))
    assert gradcheck(lambda x, m: clamp_tensor(x, m, None), (a, lo))
    assert gradcheck(lambda x, m: clamp_tensor(x, None, m), (a, hi))


# ---------------------------------------------------------------------- prod at zeros
@pytest.mark.parametrize("values", [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 3.0], [0.0, 0.0, 0.0, 2.0]],
                         ids=["one_zero", "two_zeros", "three_zeros"])
def test_prod_gradcheck_with_zeros(values, device):
    x = bibun.tensor(values, dtype=bibun.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a: a.prod(), (x,))
    assert gradgradcheck(lambda a: a.prod(), (x,))
    m = bibun.tensor([values, [1.0, 2.0, 3.0, 4.0]], dtype=bibun.float64, device=device, requires_grad=True)
    assert gradcheck(lambda a: a.prod(1), (m,))
    assert gradgradcheck(lambda a: a.prod(1), (m,))


@pytest.mark.parametrize("values, expected", [
    ([2.0, 0.0, 3.0], [0.0, 6.0, 0.0]),         # one zero: only it gets the product of the others
    ([2.0, 0.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]),  # two zeros: every product of the others has a zero
    ([2.0, -4.0, 0.5], [-2.0, 1.0, -8.0]),      # no zero: result / x
])
def test_prod_gradient_closed_form(values, expected, device):
    x = bibun.tensor(values, dtype=bibun.float64, device=device, requires_grad=True)
    x.prod().backward()
    assert x.grad.tolist() == expected


def test_to_dtype_gradient_comes_back_in_the_input_dtype(device):
    x = bibun.tensor([1.0, 2.0], dtype=bibun.float64, device=device, requires_grad=True)
    y = x.to(bibun.float32)
    (y * y).sum().backward()
    assert x.grad.dtype is bibun.float64 and x.grad.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- hypothesis: broadcast shapes
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "maximum": lambda a, b: bibun.maximum(a, b),
}


def _leaf(shape, seed, device, away=False):
    x = np.random.default_rng(seed).standard_normal(size=shape)
    if away:
        x = np.sign(x) * (0.5 + np.abs(x))
    return bibun.tensor(x, dtype=bibun.float64, device=device, requires_grad=True)


def _check_grad_shapes(fn, inputs):
    out = fn(*inputs)
    out.backward(bibun.ones_like(out))
    for x in inputs:
        if x.requires_grad:
            assert x.grad is not None and tuple(x.grad.shape) == tuple(x.shape)
    assert gradcheck(fn, inputs)


_SHAPES = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("op", sorted(BINARY))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=_SHAPES, seed=st.integers(0, 2 ** 16))
def test_broadcast_gradients_have_input_shapes(op, shapes, seed, device):
    a = _leaf(shapes.input_shapes[0], seed, device)
    b = _leaf(shapes.input_shapes[1], seed + 1, device, away=op == "div")
    _check_grad_shapes(BINARY[op], (a, b))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=1, max_side=3),
       seed=st.integers(0, 2 ** 16))
def test_where_broadcast_gradients_have_input_shapes(shapes, seed, device):
    cond_shape, a_shape, b_shape = shapes.input_shapes
    cond = bibun.tensor(np.random.default_rng(seed).random(cond_shape) > 0.5, device=device)
    a = _leaf(a_shape, seed + 1, device)
    b = _leaf(b_shape, seed + 2, device)
    _check_grad_shapes(lambda x, y: bibun.where(cond, x, y), (a, b))
