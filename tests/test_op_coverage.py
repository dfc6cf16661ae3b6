"""Every registered op with a gradient is exercised by the gradient checks of this suite.

The gradcheck cases (tests/test_ops_gradcheck.py, tests/test_indexing.py) are run once more
here, with backward built as a graph (``create_graph=True``); every node met on the way, in
the forward graph or in the graph of a gradient, names the op it came from. An op added to
the registry without a gradcheck case fails this test.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import test_indexing
import test_ops_gradcheck as cases

import bibun
from bibun.dispatch import registry
from bibun.testing import ops_in_graph

# ops whose gradient is checked by a dedicated test rather than a case in the tables walked here
CHECKED_ELSEWHERE = {
    "clamp_tensor": "test_ops_gradcheck.test_clamp_tensor_op_gradcheck",
    "prod": "test_ops_gradcheck.test_prod_gradcheck_with_zeros",
    "to_copy": "test_ops_gradcheck.test_to_dtype_gradient_comes_back_in_the_input_dtype (a float32 round trip "
               "is too coarse for finite differences)",
}


def _i(*values):
    return bibun.tensor(values)


def _mask():
    # made on use: a module-level tensor would outlive a registry reload in another test
    return bibun.tensor([[True, False, True], [False, True, False]])

# Ops no table above reaches: (id, fn, input shapes), each gradchecked and gradgradchecked here.
EXTRA = [
    ("floor_ceil_round_trunc", lambda a: a.floor() + a.ceil() + a.round() + a.trunc() + a, [(2, 3)]),
    ("expm1_log2_log10", lambda a: a.expm1() + (a * a + 1).log2() + (a * a + 1).log10(), [(2, 3)]),
    ("square", lambda a: a.square(), [(2, 3)]),
    ("remainder", lambda a, b: a.remainder(b.abs() + 2.0), [(2, 3), (3,)]),
    ("div_floor", lambda a, b: a.div(b, rounding_mode="floor") + a * b, [(2, 3), (2, 3)]),
    ("alias_select_slice", lambda a: a[...] * 2 + a[0] + a[:, 1:].sum(), [(2, 3)]),
    ("squeeze_dims", lambda a: a.squeeze((0, 2)), [(1, 3, 1)]),
    ("copy_", lambda a, b: (a * 1).copy_(b) * a, [(2, 3), (3,)]),
    ("zero_fill_", lambda a: (a * 1).zero_() + (a * 1).fill_(2.5) + a, [(2, 3)]),
    ("fill_tensor_", lambda a, v: (a * 1).fill_(v) * a, [(2, 3), ()]),
    ("masked_fill_tensor", lambda a, v: a.masked_fill(_mask(), v), [(2, 3), ()]),
    ("setitem_basic", lambda a, v: _setitem(a, (0, slice(1, None)), v), [(2, 3), (2,)]),
    ("setitem_advanced", lambda a, v: _setitem(a, (slice(None), [0, 2]), v), [(2, 3), (2, 2)]),
    ("setitem_mask", lambda a, v: _setitem(a, _mask(), v), [(2, 3), (3,)]),
    ("setitem_scalar", lambda a: _setitem(a, (1, [0, 2]), 0.5), [(2, 3)]),
    ("setitem_whole_copy", lambda a, v: _setitem(a, Ellipsis, v) * a, [(2, 3), (3,)]),
    ("setitem_whole_fill", lambda a, v: _setitem(a, Ellipsis, v) * a, [(2, 3), ()]),
    ("gather", lambda a: a.gather(1, _i([0, 2, 2], [1, 1, 0])), [(2, 3)]),
    ("scatter", lambda a, b: a.scatter(1, _i([0, 2], [1, 0]), b), [(2, 3), (2, 2)]),
    ("scatter_value", lambda a: a.scatter(0, _i([1, 0, 1]).reshape(1, 3), 2.5), [(2, 3)]),
    ("scatter_add", lambda a, b: a.scatter_add(1, _i([0, 0], [2, 2]), b), [(2, 3), (2, 2)]),
    ("index_select", lambda a: a.index_select(1, _i(2, 0, 2)), [(2, 3)]),
    ("index_add", lambda a, b: a.index_add(1, _i(1, 1), b, alpha=1.5), [(2, 3), (2, 2)]),
    ("inplace_on_view", lambda a, b: _mul_through_view(a, b), [(2, 3), (3,)]),
    ("addmm", lambda b, m1, m2: bibun.addmm(b, m1, m2, beta=0.5, alpha=2.0), [(3,), (2, 4), (4, 3)]),
]


def _mul_through_view(a, b):
    y = a * 1
    y[0].mul_(b)  # y is rebuilt by a CopySlices node
    y.t()[2].add_(b[:2])
    return y


def _setitem(a, key, v):
    out = a * 1
    out[key] = v
    return out


@pytest.mark.parametrize("case", EXTRA, ids=[c[0] for c in EXTRA])
def test_extra_gradcheck(case, device):
    name, fn, shapes = case
    inputs = cases._inputs(name, shapes, cases.AWAY, device)
    assert bibun.autograd.gradcheck(fn, inputs)
    assert bibun.autograd.gradgradcheck(fn, inputs)




def _exercise(fn, inputs):
    out = fn(*inputs)
    outs = [o for o in (out if isinstance(out, tuple) else (out,)) if isinstance(o, bibun.Tensor)]
    found = ops_in_graph(outs)
    diff = [o for o in outs if o.requires_grad]
    # seed gradients that require grad, so every op a backward formula runs is recorded too
    seeds = [bibun.ones_like(o).requires_grad_() for o in diff]
    grads = bibun.autograd.grad(diff, inputs, seeds, create_graph=True, allow_unused=True)
    return found | ops_in_graph([g for g in grads if g is not None])


# test modules of the nn ops; each defines GRADCHECK_CASES = [(id, fn, input shapes, kind)], with
# inputs made by test_ops_gradcheck._inputs(id, shapes, kind, device), and gradchecks them itself
NN_CASE_MODULES = ("test_nn_conv_pool", "test_nn_losses", "test_nn_layers", "test_optim",
                   "test_random_fill")


def _covered():
    found = set()
    for module in NN_CASE_MODULES:
        for name, fn, shapes, kind in importlib.import_module(module).GRADCHECK_CASES:
            found |= _exercise(fn, cases._inputs(name, shapes, kind, "cpu"))
    for name, fn, shapes, kind, _ in cases.CASES:
        found |= _exercise(fn, cases._inputs(name, shapes, kind, "cpu"))
    for name, fn in cases.SELECTION:
        found |= _exercise(fn, (cases._distinct(24, "cpu", (2, 3, 4)),))
    for name, fn, shapes in EXTRA:
        found |= _exercise(fn, cases._inputs(name, shapes, cases.AWAY, "cpu"))
    rng = np.random.default_rng(0)
    for make_key in test_indexing.GRAD_KEYS:
        x = bibun.tensor(rng.random((3, 4)), dtype=bibun.float64, requires_grad=True)
        key = make_key(x.detach())
        found |= _exercise(lambda t, key=key: t[key] * 1.5, (x,))
    return found


def test_every_differentiable_op_has_a_gradcheck_case():
    # the core's own ops; a plugin's ops are checked by its package's conformance tests
    differentiable = {name for name, op in registry.ops().items()
                      if op.differentiable and registry.op_owner(name) == "bibun.ops.builtin"}
    missing = sorted(differentiable - _covered() - set(CHECKED_ELSEWHERE))
    assert not missing, f"ops with a gradient but no gradcheck case: {missing}"


@pytest.mark.parametrize("name", sorted(CHECKED_ELSEWHERE))
def test_exemptions_name_real_ops(name):
    assert name in registry.ops()
