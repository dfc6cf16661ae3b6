"""Every non-indexing op against PyTorch: forward values and gradients, float64 and float32.

Each case is a function ``fn(L, *xs)`` written once for both libraries (``L`` is ``bibun``
or ``torch``), and the shapes of its inputs. Inputs are random float64 arrays drawn from
a fixed seed; gradients come from backward of a random-weighted sum of every floating
output, so each entry of each output is checked. Skipped when torch is not installed.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

import bibun


# kinds of input values: kept away from kinks, poles and ties where an op has one
ANY, POS, AWAY, ZEROS = "any", "pos", "away", "zeros"
# AWAY: |x| >= 0.5 (away from 0, for abs/relu/sign/div/clamp kinks); ZEROS: about a third exact zeros (prod)


def _values(rng, shape, kind):
    if kind == POS:
        return rng.uniform(0.5, 2.0, size=shape)
    x = rng.standard_normal(size=shape)
    if kind == AWAY:
        x = np.sign(x) * (0.5 + np.abs(x))
    if kind == ZEROS:
        x = np.where(rng.random(size=shape) < 0.35, 0.0, x)
    return x


# (id, fn(L, *xs), shapes, kind)
CASES = [
    # arithmetic and broadcasting
    ("add", lambda L, a, b: a + b, [(3, 4), (3, 4)], ANY),
    ("add_bcast", lambda L, a, b: a + b, [(3, 1), (1, 4)], ANY),
    ("add_0dim", lambda L, a, b: a + b, [(), (2, 3)], ANY),
    ("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), [(2, 3), (3,)], ANY),
    ("add_scalar", lambda L, a: a + 1.5, [(2, 3)], ANY),
    ("radd_scalar", lambda L, a: 1.5 + a, [(2, 3)], ANY),
    ("sub", lambda L, a, b: a - b, [(2, 3), (3,)], ANY),
    ("sub_alpha", lambda L, a, b: L.sub(a, b, alpha=-0.5), [(2, 3), (2, 1)], ANY),
    ("rsub_scalar", lambda L, a: 2.0 - a, [(2, 3)], ANY),
    ("mul", lambda L, a, b: a * b, [(2, 3), (3,)], ANY),
    ("mul_bcast", lambda L, a, b: a * b, [(4, 1, 3), (2, 1)], ANY),
    ("mul_scalar", lambda L, a: a * -3.0, [(2, 3)], ANY),
    ("div", lambda L, a, b: a / b, [(2, 3), (2, 3)], AWAY),
    ("div_bcast", lambda L, a, b: a / b, [(3, 1), (1, 4)], AWAY),
    ("rdiv_scalar", lambda L, a: 1 / a, [(2, 3)], AWAY),
    ("rdiv_scalar2", lambda L, a: 2.5 / a, [(2, 3)], AWAY),
    ("neg", lambda L, a: -a, [(2, 3)], ANY),
    ("pow_scalar", lambda L, a: a ** 3, [(2, 3)], ANY),
    ("pow_scalar_frac", lambda L, a: a ** 2.5, [(2, 3)], POS),
    ("pow_scalar_neg", lambda L, a: a ** -1.5, [(2, 3)], POS),
    ("pow_scalar_zero", lambda L, a: a ** 0, [(2, 3)], ANY),
    ("pow_tensor", lambda L, a, b: a ** b, [(2, 3), (2, 3)], POS),
    ("pow_tensor_bcast", lambda L, a, b: L.pow(a, b), [(3, 1), (4,)], POS),
    ("rpow_scalar", lambda L, a: 2 ** a, [(2, 3)], ANY),
    ("rpow_scalar_float", lambda L, a: 0.7 ** a, [(2, 3)], ANY),
    ("maximum", lambda L, a, b: L.maximum(a, b), [(3, 1), (1, 4)], ANY),
    ("minimum", lambda L, a, b: L.minimum(a, b), [(2, 3), (3,)], ANY),
    ("where", lambda L, a, b: L.where(a > 0, a, b), [(3, 4), (4,)], ANY),
    ("where_scalar", lambda L, a: L.where(a > 0, a, 0.5), [(3, 4)], ANY),
    ("clamp", lambda L, a: a.clamp(-0.3, 0.4), [(4, 5)], ANY),
    ("clamp_min", lambda L, a: a.clamp(min=0.1), [(4, 5)], ANY),
    ("clamp_max", lambda L, a: L.clamp(a, max=0.1), [(4, 5)], ANY),
    ("clip", lambda L, a: a.clip(-0.3, 0.4), [(4, 5)], ANY),
    ("clamp_tensor", lambda L, a, lo, hi: a.clamp(lo, hi), [(4, 5), (5,), (4, 1)], ANY),
    ("clamp_tensor_min", lambda L, a, lo: a.clamp(min=lo), [(4, 5), (4, 5)], ANY),
    # comparisons (forward only)
    ("lt", lambda L, a, b: a < b, [(3, 1), (4,)], ANY),
    ("le", lambda L, a, b: a <= b, [(3, 4), (3, 4)], ANY),
    ("gt", lambda L, a: a > 0.2, [(3, 4)], ANY),
    ("ge", lambda L, a: a >= 0.2, [(3, 4)], ANY),
    ("eq", lambda L, a, b: a == b, [(3, 4), (4,)], ANY),
    ("ne", lambda L, a, b: a != b, [(3, 4), (4,)], ANY),
    # unary math
    ("exp", lambda L, a: a.exp(), [(3, 4)], ANY),
    ("log", lambda L, a: L.log(a), [(3, 4)], POS),
    ("log1p", lambda L, a: a.log1p(), [(3, 4)], POS),
    ("sqrt", lambda L, a: a.sqrt(), [(3, 4)], POS),
    ("rsqrt", lambda L, a: a.rsqrt(), [(3, 4)], POS),
    ("abs", lambda L, a: a.abs(), [(3, 4)], AWAY),
    ("sign", lambda L, a: a.sign(), [(3, 4)], AWAY),
    ("sin", lambda L, a: a.sin(), [(3, 4)], ANY),
    ("cos", lambda L, a: L.cos(a), [(3, 4)], ANY),
    ("tan", lambda L, a: a.tan(), [(3, 4)], ANY),
    ("tanh", lambda L, a: a.tanh(), [(3, 4)], ANY),
    ("sigmoid", lambda L, a: L.sigmoid(a), [(3, 4)], ANY),
    ("relu", lambda L, a: a.relu(), [(3, 4)], AWAY),
    # matmul in every rank combination
    ("matmul_1d_1d", lambda L, a, b: a @ b, [(4,), (4,)], ANY),
    ("matmul_2d_1d", lambda L, a, b: a @ b, [(3, 4), (4,)], ANY),
    ("matmul_1d_2d", lambda L, a, b: a @ b, [(3,), (3, 4)], ANY),
    ("matmul_2d_2d", lambda L, a, b: a @ b, [(2, 3), (3, 4)], ANY),
    ("matmul_3d_3d", lambda L, a, b: L.matmul(a, b), [(2, 3, 4), (2, 4, 5)], ANY),
    ("matmul_3d_2d", lambda L, a, b: a @ b, [(2, 3, 4), (4, 5)], ANY),
    ("matmul_2d_3d", lambda L, a, b: a @ b, [(3, 4), (2, 4, 5)], ANY),
    ("matmul_4d_3d", lambda L, a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)], ANY),
    ("matmul_1d_3d", lambda L, a, b: a @ b, [(4,), (2, 4, 3)], ANY),
    ("matmul_3d_1d", lambda L, a, b: a @ b, [(2, 3, 4), (4,)], ANY),
    ("matmul_4d_1d", lambda L, a, b: a @ b, [(2, 2, 3, 4), (4,)], ANY),
    ("matmul_1d_4d", lambda L, a, b: a @ b, [(3,), (2, 2, 3, 4)], ANY),
    ("matmul_2d_4d", lambda L, a, b: a @ b, [(2, 3), (2, 2, 3, 4)], ANY),
    ("matmul_bcast_batch", lambda L, a, b: a @ b, [(3, 2, 3), (2, 1, 3, 2)], ANY),
    ("mm", lambda L, a, b: L.mm(a, b), [(2, 3), (3, 4)], ANY),
    ("bmm", lambda L, a, b: a.bmm(b), [(2, 3, 4), (2, 4, 5)], ANY),
    ("dot", lambda L, a, b: L.dot(a, b), [(5,), (5,)], ANY),
    ("mv", lambda L, a, b: a.mv(b), [(3, 5), (5,)], ANY),
    # reductions
    ("sum", lambda L, a: a.sum(), [(3, 4)], ANY),
    ("sum_dim", lambda L, a: a.sum(1), [(3, 4)], ANY),
    ("sum_dim_keep", lambda L, a: a.sum(-1, keepdim=True), [(3, 4)], ANY),
    ("sum_dims", lambda L, a: L.sum(a, (0, 2)), [(2, 3, 4)], ANY),
    ("sum_dims_neg_keep", lambda L, a: a.sum((-1, 0), keepdim=True), [(2, 3, 4)], ANY),
    ("sum_0dim", lambda L, a: a.sum(), [()], ANY),
    ("sum_0dim_dim", lambda L, a: a.sum(0, keepdim=True), [()], ANY),
    ("mean_0dim", lambda L, a: a.mean(-1), [()], ANY),
    ("max_0dim", lambda L, a: tuple(a.max(0)), [()], ANY),
    ("mean", lambda L, a: a.mean(), [(3, 4)], ANY),
    ("mean_dim", lambda L, a: a.mean(0), [(3, 4)], ANY),
    ("mean_dims_keep", lambda L, a: L.mean(a, (1, 2), keepdim=True), [(2, 3, 4)], ANY),
    ("prod", lambda L, a: a.prod(), [(2, 3)], ANY),
    ("prod_dim", lambda L, a: a.prod(1), [(3, 4)], ANY),
    ("prod_dim_keep", lambda L, a: L.prod(a, -1, keepdim=True), [(2, 3, 4)], ANY),
    ("prod_zeros", lambda L, a: a.prod(), [(2, 2)], ZEROS),
    ("prod_dim_zeros", lambda L, a: a.prod(1), [(6, 3)], ZEROS),
    ("prod_0dim", lambda L, a: a.prod(0), [()], ANY),
    ("max", lambda L, a: a.max(), [(3, 4)], ANY),
    ("min", lambda L, a: L.min(a), [(3, 4)], ANY),
    ("max_dim", lambda L, a: tuple(a.max(1)), [(3, 4)], ANY),
    ("max_dim_keep", lambda L, a: tuple(L.max(a, 0, keepdim=True)), [(3, 4)], ANY),
    ("min_dim", lambda L, a: tuple(a.min(-1)), [(2, 3, 4)], ANY),
    ("amax", lambda L, a: a.amax(1), [(3, 4)], ANY),
    ("amax_dims", lambda L, a: L.amax(a, (0, 2), keepdim=True), [(2, 3, 4)], ANY),
    ("amin", lambda L, a: a.amin(-1), [(3, 4)], ANY),
    ("argmax", lambda L, a: a.argmax(), [(3, 4)], ANY),
    ("argmax_dim", lambda L, a: a.argmax(1, keepdim=True), [(3, 4)], ANY),
    ("argmin_dim", lambda L, a: L.argmin(a, 0), [(3, 4)], ANY),
    ("var", lambda L, a: a.var(), [(3, 4)], ANY),
    ("var_dim", lambda L, a: a.var(1), [(3, 4)], ANY),
    ("var_dims_keep", lambda L, a: L.var(a, (0, 2), keepdim=True), [(2, 3, 4)], ANY),
    ("var_unbiased_false", lambda L, a: a.var(0, unbiased=False), [(3, 4)], ANY),
    ("var_correction", lambda L, a: a.var(1, correction=0), [(3, 4)], ANY),
    ("std", lambda L, a: a.std(), [(3, 4)], ANY),
    ("std_dim", lambda L, a: L.std(a, -1, keepdim=True), [(3, 4)], ANY),
    ("std_dims", lambda L, a: a.std((0, 1)), [(2, 3, 4)], ANY),
    ("logsumexp", lambda L, a: a.logsumexp(1), [(3, 4)], ANY),
    ("logsumexp_dims", lambda L, a: L.logsumexp(a, (0, 2), keepdim=True), [(2, 3, 4)], ANY),
    ("norm", lambda L, a: a.norm(), [(3, 4)], ANY),
    ("norm_dim", lambda L, a: a.norm(dim=1), [(3, 4)], ANY),
    ("norm_p1", lambda L, a: a.norm(1), [(3, 4)], AWAY),
    ("norm_p3_dim", lambda L, a: L.norm(a, 3, dim=-1, keepdim=True), [(3, 4)], ANY),
    ("norm_inf", lambda L, a: a.norm(float("inf"), dim=0), [(3, 4)], ANY),
    ("norm_p1_5", lambda L, a: a.norm(1.5, dim=(0, 1)), [(3, 4)], AWAY),
    ("norm_p0_5", lambda L, a: a.norm(0.5), [(3, 4)], AWAY),
    ("norm_ninf", lambda L, a: a.norm(-float("inf"), dim=1), [(3, 4)], ANY),
    # activations
    ("softmax", lambda L, a: a.softmax(1), [(3, 4)], ANY),
    ("softmax_dim0", lambda L, a: L.softmax(a, 0), [(3, 4)], ANY),
    ("softmax_3d", lambda L, a: a.softmax(-2), [(2, 3, 4)], ANY),
    ("log_softmax", lambda L, a: a.log_softmax(1), [(3, 4)], ANY),
    ("log_softmax_3d", lambda L, a: L.log_softmax(a, 0), [(2, 3, 4)], ANY),
    ("softmax_0dim", lambda L, a: a.softmax(0), [()], ANY),
    ("softmax_dtype", lambda L, a: a.softmax(-1, dtype=L.float32), [(2, 3)], ANY),
    # shape ops
    ("reshape", lambda L, a: a.reshape(4, 3), [(3, 4)], ANY),
    ("reshape_infer", lambda L, a: L.reshape(a, (-1, 2)), [(3, 4)], ANY),
    ("view", lambda L, a: a.view(2, 6), [(3, 4)], ANY),
    ("view_infer", lambda L, a: a.view(-1), [(3, 4)], ANY),
    ("flatten", lambda L, a: a.flatten(), [(2, 3, 4)], ANY),
    ("flatten_range", lambda L, a: L.flatten(a, 1, 2), [(2, 3, 4)], ANY),
    ("transpose", lambda L, a: a.transpose(0, 2), [(2, 3, 4)], ANY),
    ("permute", lambda L, a: a.permute(2, 0, 1), [(2, 3, 4)], ANY),
    ("T", lambda L, a: a.T, [(3, 4)], ANY),
    ("mT", lambda L, a: a.mT, [(2, 3, 4)], ANY),
    ("unsqueeze", lambda L, a: a.unsqueeze(1), [(3, 4)], ANY),
    ("unsqueeze_neg", lambda L, a: L.unsqueeze(a, -1), [(3, 4)], ANY),
    ("squeeze", lambda L, a: a.squeeze(), [(3, 1, 4, 1)], ANY),
    ("squeeze_dim", lambda L, a: a.squeeze(1), [(3, 1, 4)], ANY),
    ("squeeze_dims", lambda L, a: a.squeeze((0, 2)), [(1, 3, 1)], ANY),
    ("expand", lambda L, a: a.expand(2, 3, 4), [(3, 1)], ANY),
    ("expand_neg1", lambda L, a: a.expand(-1, 4), [(3, 1)], ANY),
    ("expand_as", lambda L, a, b: a.expand_as(b), [(1, 4), (3, 4)], ANY),
    ("repeat", lambda L, a: a.repeat(2, 3), [(2, 3)], ANY),
    ("repeat_more", lambda L, a: a.repeat(2, 1, 2), [(2, 3)], ANY),
    ("cat", lambda L, a, b: L.cat([a, b]), [(2, 3), (4, 3)], ANY),
    ("cat_dim1", lambda L, a, b, c: L.cat((a, b, c), dim=-1), [(2, 3), (2, 1), (2, 2)], ANY),
    ("stack", lambda L, a, b: L.stack([a, b]), [(2, 3), (2, 3)], ANY),
    ("stack_dim", lambda L, a, b: L.stack([a, b], dim=2), [(2, 3), (2, 3)], ANY),
    ("split", lambda L, a: a.split(2), [(5, 3)], ANY),
    ("split_sizes", lambda L, a: L.split(a, [1, 2], dim=1), [(2, 3)], ANY),
    ("chunk", lambda L, a: a.chunk(3, 1), [(2, 7)], ANY),
    ("unbind", lambda L, a: a.unbind(1), [(2, 3)], ANY),
    ("flip", lambda L, a: a.flip(0), [(3, 4)], ANY),
    ("flip_dims", lambda L, a: L.flip(a, (0, 2)), [(2, 3, 4)], ANY),
    ("clone", lambda L, a: a.clone(), [(3, 4)], ANY),
    ("contiguous", lambda L, a: a.t().contiguous(), [(3, 4)], ANY),
    ("to_float32", lambda L, a: a.to(L.float32), [(3, 4)], ANY),
    ("composite", lambda L, a, b: ((a @ b).tanh() * 2 - a.sum(1, keepdim=True)).softmax(-1), [(3, 4), (4, 5)], ANY),
]

IDS = [c[0] for c in CASES]
F64 = dict(rtol=1e-12, atol=1e-13)
F64_GRAD = dict(rtol=1e-11, atol=1e-12)
F32 = dict(rtol=1.3e-6, atol=1e-5)  # torch.testing.assert_close's float32 tolerances


def _run(lib, fn, arrays, make):
    xs = [make(a) for a in arrays]
    out = fn(lib, *xs)
    outs = out if isinstance(out, tuple) else (out,)
    return xs, outs


def _to_numpy(t):
    """Host values of a bibun or PyTorch tensor, from any device."""
    return t.detach().cpu().numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float64_values_and_grads(case, device, torch):
    name, fn, shapes, kind = case
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    arrays = [_values(rng, s, kind) for s in shapes]

    b_xs, b_outs = _run(bibun, fn, arrays, lambda a: bibun.tensor(a, device=device, requires_grad=True))
    t_xs, t_outs = _run(torch, fn, arrays, lambda a: torch.tensor(a, requires_grad=True))

    assert len(b_outs) == len(t_outs)
    single = any(str(to.dtype) == "torch.float32" for to in t_outs)  # an op that computes in float32
    for bo, to in zip(b_outs, t_outs, strict=True):
        assert tuple(bo.shape) == tuple(to.shape), name
        assert bo.dtype.name == str(to.dtype).replace("torch.", ""), name
        np.testing.assert_allclose(_to_numpy(bo), _to_numpy(to), **(F32 if single else F64))

    pairs = [(bo, to) for bo, to in zip(b_outs, t_outs, strict=True) if to.dtype.is_floating_point and to.requires_grad]
    if not pairs:
        return
    weights = [rng.standard_normal(tuple(to.shape)) for _, to in pairs]
    b_loss = sum((bo.double() * bibun.tensor(w, device=device)).sum()
                 for (bo, _), w in zip(pairs, weights, strict=True))
    t_loss = sum((to.double() * torch.tensor(w)).sum() for (_, to), w in zip(pairs, weights, strict=True))
    b_loss.backward()
    t_loss.backward()
    for bx, tx in zip(b_xs, t_xs, strict=True):
        if tx.grad is None:
            assert bx.grad is None, name
            continue
        assert tuple(bx.grad.shape) == tuple(tx.grad.shape), name
        assert bx.grad.dtype is bx.dtype
        np.testing.assert_allclose(_to_numpy(bx.grad), _to_numpy(tx.grad), **(F32 if single else F64_GRAD))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_float32_values(case, device, torch):
    name, fn, shapes, kind = case
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 1)
    arrays = [_values(rng, s, kind).astype(np.float32) for s in shapes]
    _, b_outs = _run(bibun, fn, arrays, lambda a: bibun.tensor(a, device=device))
    _, t_outs = _run(torch, fn, arrays, lambda a: torch.tensor(a))
    for bo, to in zip(b_outs, t_outs, strict=True):
        assert bo.dtype.name == str(to.dtype).replace("torch.", ""), name
        np.testing.assert_allclose(_to_numpy(bo), _to_numpy(to), **F32)


MATMUL = [c for c in CASES if c[0].startswith("matmul")]


@pytest.mark.parametrize("case", MATMUL, ids=[c[0] for c in MATMUL])
@pytest.mark.parametrize("needs", [(True, False), (False, True)], ids=["grad_a", "grad_b"])
def test_matmul_one_side_requires_grad(case, needs, device, torch):
    """matmul takes a different path depending on which side requires grad (as PyTorch does)."""
    name, fn, shapes, _ = case
    rng = np.random.default_rng(zlib.crc32(name.encode()) + 2)
    arrays = [rng.standard_normal(s) for s in shapes]
    b_xs = [bibun.tensor(a, device=device, requires_grad=r) for a, r in zip(arrays, needs, strict=True)]
    t_xs = [torch.tensor(a, requires_grad=r) for a, r in zip(arrays, needs, strict=True)]
    b_out, t_out = fn(bibun, *b_xs), fn(torch, *t_xs)
    assert type(b_out.grad_fn).__name__ == type(t_out.grad_fn).__name__
    w = rng.standard_normal(tuple(t_out.shape))
    (b_out * bibun.tensor(w, device=device)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(_to_numpy(b_out), _to_numpy(t_out), **F64)
    for bx, tx in zip(b_xs, t_xs, strict=True):
        if tx.requires_grad:
            np.testing.assert_allclose(_to_numpy(bx.grad), _to_numpy(tx.grad), **F64_GRAD)
