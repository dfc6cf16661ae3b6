"""Random programs of several ops, run through bibun and PyTorch by the same code: values and gradients agree.

Single ops are compared in test_ops_parity.py; here the graph has fan-in (a tensor used by
several ops), broadcasting across steps, views, reductions, in-place writes and setitem,
so the engine's accumulation and ordering are checked against PyTorch's too.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bibun

# each step: (name, fn(lib, env) -> new tensor); env holds the tensors made so far, [0] and [1] are inputs
STEPS = [
    ("add", lambda lib, e: e[-1] + e[-2].sum(0, keepdim=True)),
    ("mul_bcast", lambda lib, e: e[-1] * e[0][:1]),
    ("div", lambda lib, e: e[-1] / (e[1].abs() + 1.0)),
    ("tanh", lambda lib, e: e[-1].tanh()),
    ("sigmoid_mix", lambda lib, e: e[-1].sigmoid() * e[-2]),
    ("exp_log", lambda lib, e: (e[-1].exp() + 1.0).log()),
    ("pow", lambda lib, e: (e[-1] ** 2 + 0.5).sqrt()),
    ("matmul", lambda lib, e: e[-1] @ e[1].T @ e[-2]),
    ("softmax", lambda lib, e: e[-1].softmax(-1) * 3.0),
    ("log_softmax", lambda lib, e: e[-1].log_softmax(0)),
    ("logsumexp", lambda lib, e: e[-1] - e[-1].logsumexp(1, keepdim=True)),
    ("transpose_back", lambda lib, e: e[-1].t().flip(0).t()),
    ("reshape", lambda lib, e: e[-1].reshape(-1).reshape(e[-1].shape)),
    ("cat_split", lambda lib, e: lib.cat([e[-1], e[-2]], 1).split(e[-1].shape[1], 1)[1] + e[-1]),
    ("stack_mean", lambda lib, e: lib.stack([e[-1], e[0]]).mean(0)),
    ("maximum", lambda lib, e: lib.maximum(e[-1], e[-2] * 0.5)),
    ("where", lambda lib, e: lib.where(e[-1] > 0, e[-1], e[-2] * 2.0)),
    ("index", lambda lib, e: e[-1][[1, 0, 1]][:2] + e[-2]),
    ("setitem", lambda lib, e: _setitem(e[-1], e[-2])),
    ("inplace_view", lambda lib, e: _inplace_view(e[-1], e[0])),
    ("var", lambda lib, e: e[-1] * e[-2].var(0, keepdim=True)),
    ("norm", lambda lib, e: e[-1] / (e[-1].norm(dim=1, keepdim=True) + 1.0)),
    ("clamp", lambda lib, e: e[-1].clamp(-0.7, 0.9) + e[-1]),
    ("gather", lambda lib, e: e[-1].gather(1, _index(lib, e[-1])) + e[-2]),
]


def _setitem(a, b):
    out = a * 1.0
    out[0, 1:] = b[1, :-1] * 2.0
    out[[1, 1], [0, 2]] = b[0, 0]
    return out


def _inplace_view(a, b):
    out = a * 1.0
    out[1].mul_(b[0])
    out.t()[0].add_(1.5)
    return out


def _index(lib, like):
    return lib.tensor([[0, 2, 2], [1, 0, 0]])


def _run(lib, x_np, w_np, steps):
    x = lib.tensor(x_np, requires_grad=True)
    w = lib.tensor(w_np, requires_grad=True)
    env = [x, w]
    for i in steps:
        env.append(STEPS[i][1](lib, env))
    loss = ((env[-1] * lib.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3))).sum() + env[-1].pow(2).mean()
            + (x * w).sum())  # both inputs always reach the loss
    loss.backward()
    return (loss.detach().cpu().numpy(), x.grad.cpu().numpy(), w.grad.cpu().numpy())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])  # the module only
@given(steps=st.lists(st.integers(0, len(STEPS) - 1), min_size=1, max_size=6),
       seed=st.integers(0, 2**16))
def test_random_programs_match_pytorch(torch, steps, seed):
    rng = np.random.default_rng(seed)
    x_np, w_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    got = _run(bibun, x_np, w_np, steps)
    want = _run(torch, x_np, w_np, steps)
    names = [STEPS[i][0] for i in steps]
    for g, w, what in zip(got, want, ("loss", "x.grad", "w.grad")):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12, err_msg=f"{what} after {names}")


@pytest.mark.parametrize("name", [s[0] for s in STEPS])
def test_each_step_alone_matches_pytorch(torch, name):
    i = [s[0] for s in STEPS].index(name)
    rng = np.random.default_rng(i)
    x_np, w_np = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    for g, w in zip(_run(bibun, x_np, w_np, [i, i]), _run(torch, x_np, w_np, [i, i])):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
