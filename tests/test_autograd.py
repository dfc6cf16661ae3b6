"""Autograd semantics: leaves, .grad, hooks, backward/grad, higher order, grad modes, the graph's
structure, transactional backward, anomaly mode, deep graphs and memory.

Messages and values were taken from PyTorch 2.13 (``torch.`` written as ``bibun.``) and are
pinned as literals.
"""

import gc
import math
import sys
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import bibun

FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after they have "
         "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
         "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
         "you need to access saved tensors after calling backward.")
NONLEAF_GRAD = ("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad attribute "
                "won't be populated during autograd.backward(). If you indeed want the .grad field to be populated "
                "for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If you access the non-leaf Tensor "
                "by mistake, make sure you access the leaf Tensor instead. See github.com/pytorch/pytorch/pull/30531 "
                "for more information.")


def names(node):
    return [(type(n).__name__, i) for n, i in node.next_functions]


@pytest.fixture(autouse=True)
def _grad_mode_restored():
    yield
    bibun.set_grad_enabled(True)


# ---------------------------------------------------------------------- leaves, requires_grad, .grad
def test_leaves_and_non_leaves(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    c = bibun.tensor([3.0, 4.0])
    assert x.is_leaf and x.requires_grad and x.grad_fn is None and x.grad is None
    assert c.is_leaf and not c.requires_grad
    y = x * c
    assert not y.is_leaf and y.requires_grad and type(y.grad_fn).__name__ == "MulBackward0"
    z = c * 2
    assert z.is_leaf and not z.requires_grad and z.grad_fn is None


@pytest.mark.parametrize("make", ["bibun.tensor([1, 2], requires_grad=True)",
                                  "bibun.zeros(2, dtype=bibun.long, requires_grad=True)",
                                  "bibun.tensor([True], requires_grad=True)"])
def test_only_floating_tensors_can_require_grad(device, make):
    with pytest.raises(RuntimeError) as info:
        eval(make)
    assert str(info.value) == "Only Tensors of floating point and complex dtype can require gradients"


def test_requires_grad_false_is_fine_on_any_leaf(device):
    t = bibun.tensor([1, 2])
    assert t.requires_grad_(False) is t and not t.requires_grad
    f = bibun.tensor([1.0])
    assert f.requires_grad_() is f and f.requires_grad
    f.requires_grad = False
    assert not f.requires_grad


def test_requires_grad_setter_and_method_messages(device):
    with pytest.raises(RuntimeError) as info:
        bibun.tensor([1, 2]).requires_grad = True
    assert str(info.value) == "only Tensors of floating point and complex dtype can require gradients"
    with pytest.raises(RuntimeError) as info:
        bibun.tensor([1, 2]).requires_grad_()
    assert str(info.value) == "only Tensors of floating point dtype can require gradients"


def test_requires_grad_false_on_non_leaf(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    msg = ("you can only change requires_grad flags of leaf variables. If you want to use a computed variable in a "
           "subgraph that doesn't require differentiation use var_no_grad = var.detach().")
    with pytest.raises(RuntimeError) as info:
        y.requires_grad_(False)
    assert str(info.value) == msg
    with pytest.raises(RuntimeError) as info:
        y.requires_grad = False
    assert str(info.value) == msg
    assert y.requires_grad_(True) is y and y.requires_grad


def test_grad_is_none_until_backward_then_accumulates(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    assert x.grad is None
    (x * 2).sum().backward()
    first = x.grad
    assert first.tolist() == [2.0, 2.0] and not first.requires_grad and first.grad_fn is None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    (x * x).sum().backward()
    assert x.grad.tolist() == [7.0, 9.0]
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_gradient_argument_is_not_aliased_into_grad(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = bibun.tensor([1.0, 0.0, 2.0])
    (x * 1).backward(g)
    assert x.grad.tolist() == [1.0, 0.0, 2.0]
    g.mul_(100)
    assert x.grad.tolist() == [1.0, 0.0, 2.0]
    x.grad.add_(1)
    assert g.tolist() == [100.0, 0.0, 200.0]


def test_non_leaf_grad_warns(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.warns(UserWarning) as record:
        assert y.grad is None
    assert [str(w.message) for w in record] == [NONLEAF_GRAD]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None  # leaves do not warn
        y.retain_grad()
        assert y.grad is None  # nor does a non-leaf that retains its grad


def test_retain_grad(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    (y * y).sum().backward()
    assert y.grad.tolist() == [4.0, 8.0] and x.grad.tolist() == [8.0, 16.0]
    x.retain_grad()  # a no-op on a leaf
    assert not x.retains_grad
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        bibun.ones(2).retain_grad()


# ---------------------------------------------------------------------- hooks
def test_hooks_on_leaves(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.tolist()))
    h2 = x.register_hook(lambda g: g * 10)
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [30.0, 30.0]
    h2.remove()
    h1.remove()
    x.grad = None
    (x * 3).sum().backward()
    assert seen == [[3.0, 3.0]] and x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        bibun.ones(2).register_hook(lambda g: g)


def test_hooks_on_non_leaves(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    h = y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    assert x.grad.tolist() == [80.0, 160.0]
    x.grad = None
    y = x * 2
    h = y.register_hook(lambda g: g * 10)
    h.remove()
    (y * y).sum().backward()
    assert x.grad.tolist() == [8.0, 16.0]
    x.grad = None
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.retain_grad()
    (y * y).sum().backward()
    assert y.grad.tolist() == [40.0, 80.0] and x.grad.tolist() == [80.0, 160.0]


def test_retained_grad_sees_hooks_registered_later(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    y.register_hook(lambda g: g * 10)
    (y * y).sum().backward()
    assert y.grad.tolist() == [40.0, 80.0]


# ---------------------------------------------------------------------- backward and autograd.grad
def test_backward_errors(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError) as info:
        y.backward(bibun.ones(4))
    assert str(info.value) == ("Mismatch in shape: grad_output[0] has a shape of bibun.Size([4]) and output[0] has a "
                               "shape of bibun.Size([3]).")
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == "grad can be implicitly created only for scalar outputs"
    with pytest.raises(RuntimeError) as info:
        (bibun.ones(3) * 2).sum().backward()
    assert str(info.value) == "element 0 of tensors does not require grad and does not have a grad_fn"
    assert x.grad is None
    y.backward(bibun.tensor([1.0, 0.0, 2.0]))
    assert x.grad.tolist() == [2.0, 0.0, 4.0]


def test_backward_twice(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == FREED
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    z = (x + 1).sum()  # nothing saved: a second pass is fine, as in PyTorch
    z.backward()
    z.backward()
    assert x.grad.tolist() == [4.0, 6.0, 8.0]


def test_backward_twice_with_retain_graph_doubles(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward(retain_graph=True)
    assert x.grad.tolist() == [4.0, 8.0, 12.0]
    y.backward()
    assert x.grad.tolist() == [6.0, 12.0, 18.0]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()


def test_backward_inputs(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    (x * w).sum().backward(inputs=[x])
    assert x.grad.tolist() == [3.0, 4.0] and w.grad is None


def test_autograd_grad(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    (g,) = bibun.autograd.grad(y, x, grad_outputs=bibun.tensor([1.0, 0.0, 1.0]), retain_graph=True)
    assert g.tolist() == [2.0, 0.0, 6.0] and not g.requires_grad
    (g,) = bibun.autograd.grad([y], [x], grad_outputs=[bibun.ones(3)])
    assert g.tolist() == [2.0, 4.0, 6.0]
    assert x.grad is None  # grad() accumulates nothing
    with pytest.raises(RuntimeError) as info:
        bibun.autograd.grad([y], [x], grad_outputs=[bibun.ones(3)])
    assert str(info.value) == FREED


def test_autograd_grad_allow_unused(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    with pytest.raises(RuntimeError) as info:
        bibun.autograd.grad(y, [x, z], retain_graph=True)
    assert str(info.value) == ("The differentiated Tensor at index 1 appears to not have been used in the graph. "
                               "Set allow_unused=True if this is the desired behavior.")
    gx, gz = bibun.autograd.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gx.tolist() == [2.0, 4.0, 6.0] and gz is None
    gx, gz = bibun.autograd.grad(y, [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="One of the differentiated Tensors does not require grad"):
        bibun.autograd.grad((x * 2).sum(), bibun.ones(2))


def test_autograd_grad_create_graph(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g,) = bibun.autograd.grad((x * x).sum(), x, create_graph=True)
    assert g.tolist() == [2.0, 4.0, 6.0] and g.requires_grad and g.grad_fn is not None
    g.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_higher_order_derivatives_of_cube(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (g1,) = bibun.autograd.grad((x ** 3).sum(), x, create_graph=True)
    (g2,) = bibun.autograd.grad(g1.sum(), x, create_graph=True)
    (g3,) = bibun.autograd.grad(g2.sum(), x)
    assert g1.tolist() == [3.0, 12.0, 27.0]
    assert g2.tolist() == [6.0, 12.0, 18.0]  # 6x
    assert g3.tolist() == [6.0, 6.0, 6.0]


@pytest.mark.parametrize("fn, d1, d2", [
    ("tanh", lambda x: 1 - np.tanh(x) ** 2, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2)),
    ("sigmoid", lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s),
     lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s)),
    ("exp", np.exp, np.exp),
])
def test_grad_of_grad_closed_forms(device, fn, d1, d2):
    v = np.array([0.5, -1.0, 2.0])
    x = bibun.tensor(v, dtype=bibun.float64, requires_grad=True)
    (g,) = bibun.autograd.grad(getattr(x, fn)().sum(), x, create_graph=True)
    (g2,) = bibun.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g.detach().cpu().numpy(), d1(v), rtol=1e-12)
    np.testing.assert_allclose(g2.cpu().numpy(), d2(v), rtol=1e-12)
    # PyTorch 2.13's values for tanh: [0.786447..., 0.419974..., 0.070650...], [-0.726861..., 0.639700..., -0.136218...]


def test_backward_create_graph_then_grad_of_grad(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.tolist() == [3.0, 12.0, 27.0] and g.requires_grad
    (g2,) = bibun.autograd.grad(g.sum(), x, retain_graph=True)
    assert g2.tolist() == [6.0, 12.0, 18.0]
    x.grad.sum().backward()  # accumulates 6x into x.grad
    assert x.grad.tolist() == [9.0, 24.0, 45.0]
    x.grad = None  # breaks the x -> grad -> graph -> x cycle


# ---------------------------------------------------------------------- detach, grad modes
def test_detach_and_detach_(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.is_leaf and y.grad_fn is None
    x.detach_()
    assert not x.requires_grad
    z = (bibun.tensor([1.0], requires_grad=True) * 2).detach().requires_grad_()
    assert z.is_leaf and z.requires_grad
    w = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="Can't detach views in-place. Use detach\\(\\) instead."):
        w[:2].detach_()


def _product(x):
    return x * 2


def test_no_grad_context_and_decorator(device):
    x = bibun.ones(2, requires_grad=True)
    with bibun.no_grad():
        y = x * 2
        assert not bibun.is_grad_enabled()
    assert bibun.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    f = bibun.no_grad()(_product)
    assert not f(x).requires_grad and bibun.is_grad_enabled()

    @bibun.no_grad()
    def gen():
        yield x * 2
        yield x * 3
    assert [v.requires_grad for v in gen()] == [False, False]


def test_enable_grad_nested_and_as_decorator(device):
    x = bibun.ones(2, requires_grad=True)
    with bibun.no_grad():
        with bibun.enable_grad():
            y = x * 2
        z = x * 2
    assert type(y.grad_fn).__name__ == "MulBackward0" and z.grad_fn is None
    f = bibun.enable_grad()(_product)
    with bibun.no_grad():
        assert f(x).requires_grad
        assert not bibun.is_grad_enabled()


def test_set_grad_enabled(device):
    x = bibun.ones(2, requires_grad=True)
    with bibun.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert bibun.is_grad_enabled()
    bibun.set_grad_enabled(False)  # a plain call takes effect at once
    try:
        assert not bibun.is_grad_enabled() and not (x * 2).requires_grad
    finally:
        bibun.set_grad_enabled(True)
    assert (x * 2).requires_grad
    with bibun.no_grad():
        with bibun.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not bibun.is_grad_enabled()


def test_set_grad_enabled_as_decorator(device):
    x = bibun.ones(2, requires_grad=True)
    f = bibun.set_grad_enabled(False)(_product)
    enabled_after_decoration = bibun.is_grad_enabled()
    bibun.set_grad_enabled(True)
    assert not f(x).requires_grad
    assert enabled_after_decoration


def test_inference_mode(device):
    x = bibun.ones(2, requires_grad=True)
    with bibun.inference_mode():
        y = x * 2
        assert bibun.is_inference_mode_enabled() and not bibun.is_grad_enabled()
    assert not bibun.is_inference_mode_enabled() and bibun.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    f = bibun.inference_mode()(_product)
    assert not f(x).requires_grad
    with bibun.inference_mode(False):
        assert (x * 2).requires_grad


def test_inference_mode_false_enables_grad(device):
    x = bibun.ones(2, requires_grad=True)
    with bibun.no_grad():
        with bibun.inference_mode(False):
            assert (x * 2).requires_grad


def test_grad_mode_decorators_without_parentheses(device):
    x = bibun.ones(2, requires_grad=True)
    assert not bibun.no_grad(_product)(x).requires_grad
    assert not bibun.inference_mode(_product)(x).requires_grad


def test_no_grad_builds_no_nodes(device):
    from bibun.autograd import node
    x = bibun.ones(3, requires_grad=True)
    before = repr(node._seq)  # every node takes a number from this counter
    with bibun.no_grad():
        y = (x * 2).exp().sum() + x[0] - x[[1, 2]].mean()
        x.clone().mul_(3)
    assert repr(node._seq) == before
    assert y.grad_fn is None and not y.requires_grad
    (x * 2).sum()
    assert repr(node._seq) != before


# ---------------------------------------------------------------------- graph structure and nodes
def test_next_functions_structure(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    y = x * w + 2
    fn = y.grad_fn
    assert fn.name() == "AddBackward0"
    assert names(fn) == [("MulBackward0", 0), ("NoneType", 0)]  # (None, 0) for the constant
    mul = fn.next_functions[0][0]
    assert names(mul) == [("AccumulateGrad", 0), ("AccumulateGrad", 0)]
    assert mul.next_functions[0][0].variable is x and mul.next_functions[1][0].variable is w
    assert mul.next_functions[0][0].next_functions == ()
    assert names((x * bibun.tensor([3.0, 4.0])).grad_fn) == [("AccumulateGrad", 0), ("NoneType", 0)]
    assert names((x * 3).grad_fn) == [("AccumulateGrad", 0), ("NoneType", 0)]
    assert names(x.exp().grad_fn) == [("AccumulateGrad", 0)]
    a, b = x.unbind()
    assert names((a * b).grad_fn) == [("UnbindBackward0", 0), ("UnbindBackward0", 1)]
    s = (x * 2).sum()
    assert s.grad_fn.next_functions[0][0] is not None
    assert (x * 2).grad_fn is not (x * 2).grad_fn


def test_accumulate_grad_is_shared_while_the_leaf_lives(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    a, b = x * 2, x.exp()
    assert a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0]
    assert a.grad_fn.next_functions[0][0].name() == "bibun::autograd::AccumulateGrad"  # PyTorch: torch::autograd::


def test_calling_nodes_by_hand(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    ones = bibun.tensor([1.0, 1.0])
    out = (x + w).grad_fn(ones)
    assert isinstance(out, tuple) and [g.tolist() for g in out] == [[1.0, 1.0], [1.0, 1.0]]
    out = (x * bibun.tensor([3.0, 4.0])).grad_fn(ones)
    assert isinstance(out, tuple) and out[0].tolist() == [3.0, 4.0] and out[1] is None
    out = (x * w).grad_fn(ones)
    assert [g.tolist() for g in out] == [[3.0, 4.0], [1.0, 2.0]]
    assert all(type(g.grad_fn).__name__ == "MulBackward0" for g in out)  # grad mode on: differentiable
    g = (x ** 2).grad_fn(ones)
    assert isinstance(g, bibun.Tensor) and g.tolist() == [2.0, 4.0]
    assert g.requires_grad and type(g.grad_fn).__name__ == "MulBackward0"
    e, p = x.exp(), x ** 2
    g = e.grad_fn(ones)
    assert isinstance(g, bibun.Tensor) and g.tolist() == pytest.approx([math.e, math.e ** 2], rel=1e-6)
    assert g.requires_grad and g.grad_fn is not None
    with bibun.no_grad():
        g = e.grad_fn(bibun.tensor([1.0, 1.0], requires_grad=True))
        g2 = p.grad_fn(ones)
    assert g.grad_fn is None and not g.requires_grad and g.is_leaf
    assert g2.grad_fn is None and g2.tolist() == [2.0, 4.0]
    e.sum().backward()
    with pytest.raises(RuntimeError) as info:
        e.grad_fn(ones)
    assert str(info.value) == FREED


def test_node_names(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    cases = {"MulBackward0": x * 2, "AddBackward0": x + 1, "SubBackward0": x - 1, "DivBackward0": x / 2,
             "ExpBackward0": x.exp(), "SumBackward0": x.sum(), "MeanBackward0": x.mean(),
             "PowBackward0": x ** 2, "TanhBackward0": x.tanh(), "SigmoidBackward0": x.sigmoid(),
             "SqrtBackward0": x.sqrt(), "NegBackward0": -x}
    for name, t in cases.items():
        assert t.grad_fn.name() == name == type(t.grad_fn).__name__


# ---------------------------------------------------------------------- a failing backward leaves every .grad as it was
def _assert_grads(leaves, expected):
    for leaf, exp in zip(leaves, expected, strict=True):
        if exp is None:
            assert leaf.grad is None
        else:
            assert leaf.grad.tolist() == exp


def test_freed_graph_failure_changes_no_grad(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    y1 = (x * x).sum()
    y1.backward()
    y2 = (w * w).sum() + y1  # w's branch is fine; y1's is freed
    with pytest.raises(RuntimeError) as info:
        y2.backward()
    assert str(info.value) == FREED
    _assert_grads([x, w], [[2.0, 4.0], None])


class _WrongCount(bibun.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g


class _WrongShape(bibun.autograd.Function):
    @staticmethod
    def forward(ctx, a):
        return a * 2

    @staticmethod
    def backward(ctx, g):
        return bibun.ones(7)


def test_custom_function_failures_change_no_grad(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    v = bibun.tensor([5.0, 6.0], requires_grad=True)
    w.grad = bibun.tensor([1.0, 1.0])
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        ((v * v).sum() + _WrongCount.apply(x, w).sum()).backward()
    _assert_grads([x, w, v], [None, [1.0, 1.0], None])
    with pytest.raises(RuntimeError, match="returned an invalid gradient at index 0"):
        ((v * v).sum() + _WrongShape.apply(x).sum()).backward()
    _assert_grads([x, w, v], [None, [1.0, 1.0], None])


def test_version_error_changes_no_grad(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    w = bibun.tensor([3.0, 4.0], requires_grad=True)
    x.grad = bibun.tensor([7.0, 7.0])
    y = x.exp()
    loss = (w * 3).sum() + y.sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Exp, is at version 1; expected version 0"):
        loss.backward()
    _assert_grads([x, w], [[7.0, 7.0], None])


def test_anomaly_nan_failure_changes_no_grad(device):
    x = bibun.tensor([0.0, 4.0], requires_grad=True)
    w = bibun.tensor([1.0, 1.0], requires_grad=True)
    x.grad = bibun.tensor([1.0, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with bibun.autograd.detect_anomaly():
            loss = ((x.sqrt() * 0) + w).sum()  # sqrt'(0) * 0 = inf * 0 = nan
            with pytest.raises(RuntimeError) as info:
                loss.backward()
    assert str(info.value) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    _assert_grads([x, w], [[1.0, 1.0], None])  # PyTorch would have written w.grad already


def test_failed_pass_keeps_the_graph_for_a_retry(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    calls = []

    def hook(g):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("first time")
        return g

    y = x * x
    y.register_hook(hook)
    with pytest.raises(ValueError):
        y.sum().backward()
    assert x.grad is None
    y.sum().backward()  # nothing was freed by the failed pass
    assert x.grad.tolist() == [2.0, 4.0]


# ---------------------------------------------------------------------- anomaly mode
def test_detect_anomaly_names_node_and_forward_traceback(device):
    x = bibun.tensor([-1.0, 4.0], requires_grad=True)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with bibun.autograd.detect_anomaly():
            y = x.sqrt()  # the forward line the warning must show
            with pytest.raises(RuntimeError) as info:
                y.sum().backward()
    assert str(info.value) == "Function 'SqrtBackward0' returned nan values in its 0th output."
    messages = [str(w.message) for w in record if issubclass(w.category, UserWarning)]
    assert messages[0] == ("Anomaly Detection has been enabled. This mode will increase the runtime and should only "
                           "be enabled for debugging.")
    detail = [m for m in messages if m.startswith("Error detected in SqrtBackward0.")]
    assert len(detail) == 1
    assert detail[0].startswith("Error detected in SqrtBackward0. Traceback of forward call that caused the error:\n")
    assert "y = x.sqrt()  # the forward line the warning must show" in detail[0]
    assert __file__ in detail[0] or "test_autograd.py" in detail[0]
    assert x.grad is None
    assert not bibun.autograd.is_anomaly_enabled()


def test_detect_anomaly_without_forward_information(device):
    x = bibun.tensor([0.0, 4.0], requires_grad=True)
    y = x.sqrt() * 0
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with bibun.autograd.detect_anomaly():
            with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output."):
                y.sum().backward()
    assert ("Error detected in SqrtBackward0. No forward pass information available. Enable detect anomaly during "
            "forward pass for more information.") in [str(w.message) for w in record]


def test_set_detect_anomaly(device):
    x = bibun.tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with bibun.autograd.set_detect_anomaly(True):
            assert bibun.autograd.is_anomaly_enabled()
            y = x.sqrt() * 0
            with pytest.raises(RuntimeError, match="returned nan values"):
                y.sum().backward()
        assert not bibun.autograd.is_anomaly_enabled()
        bibun.autograd.set_detect_anomaly(True)
        try:
            assert bibun.autograd.is_anomaly_enabled()
        finally:
            bibun.autograd.set_detect_anomaly(False)
    assert not bibun.autograd.is_anomaly_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's "invalid value encountered in divide"
        (x.sqrt() * 0).sum().backward()  # outside anomaly mode a nan gradient is just a value
    assert math.isnan(x.grad.tolist()[0]) and x.grad.tolist()[1] == 0.0


def test_detect_anomaly_as_decorator(device):
    def run(t):
        assert bibun.autograd.is_anomaly_enabled()
        return (t.sqrt() * 0).sum().backward()

    x = bibun.tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run = bibun.autograd.detect_anomaly()(run)
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            run(x)
    assert not bibun.autograd.is_anomaly_enabled()


def test_detect_anomaly_check_nan_false(device):
    x = bibun.tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with bibun.autograd.detect_anomaly(check_nan=False):
            (x.sqrt() * 0).sum().backward()
    assert math.isnan(x.grad.tolist()[0])


# ---------------------------------------------------------------------- deep graphs and memory
def test_long_chain_backward_and_free_without_recursion(device):
    limit = sys.getrecursionlimit()
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 0
    last = weakref.ref(y.grad_fn)
    y.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]
    del y
    gc.collect()
    assert last() is None
    y = x
    for _ in range(100_000):  # a graph dropped without backward is freed too
        y = y * 1.0000001
    first = weakref.ref(y.grad_fn)
    del y
    assert first() is None
    assert sys.getrecursionlimit() == limit


def _train_and_backward():
    a = bibun.randn(3, 4, requires_grad=True)
    w = bibun.randn(4, 2, requires_grad=True)
    (a @ w).tanh().sum().backward()
    a[[0, 0]].sum().backward()
    z = a * 2
    z.mul_(w[:, 0].sum())
    z.sum().backward()
    (g,) = bibun.autograd.grad((a ** 3).sum(), a, create_graph=True)
    g.sum().backward()
    return a.grad.tolist(), w.grad.tolist()


def test_backward_leaves_no_reference_cycles(device):
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        _train_and_backward()
        found = gc.collect()
        garbage = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert found == 0 and garbage == []


def test_deleted_output_releases_its_graph(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2).exp()
    refs = [weakref.ref(y.grad_fn), weakref.ref(y.grad_fn.next_functions[0][0])]
    del y
    assert [r() for r in refs] == [None, None]
    y = (x * 2).exp()
    ref = weakref.ref(y.grad_fn)
    y.sum().backward()
    del y
    assert ref() is None


def test_training_loop_memory_is_flat(device):
    bibun.manual_seed(0)
    w = bibun.randn(10, 1, requires_grad=True)
    b = bibun.zeros(1, requires_grad=True)
    X = bibun.randn(64, 10)
    Y = X @ bibun.randn(10, 1)

    def step():
        loss = ((X @ w + b - Y) ** 2).mean()
        loss.backward()
        with bibun.no_grad():
            w.sub_(0.05 * w.grad)
            b.sub_(0.05 * b.grad)
        w.grad.zero_()
        b.grad.zero_()
        return loss.item()

    first = [step() for _ in range(50)][0]  # warm-up
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            last = step()
        gc.collect()
        growth = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert growth < 200_000
    assert last < first
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
