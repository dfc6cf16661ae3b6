"""In-place ops: same object, new data, version counter, graph rebase, and PyTorch 2.13's errors.

Expected gradients, node names and messages were taken from PyTorch 2.13 (``torch.``
written as ``bibun.``) and are pinned as literals.
"""

import pytest

import bibun

HINT = ("Hint: enable anomaly detection to find the operation that failed to compute its gradient, with "
        "bibun.autograd.set_detect_anomaly(True, check_nan=False).")
LEAF_MSG = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_MSG = "a view of a leaf Variable that requires grad is being used in an in-place operation."


def approx(values):
    return pytest.approx(values, rel=1e-6, abs=1e-6)


# ---------------------------------------------------------------------- plain tensors: values, identity, version
# (call on a = tensor([1., 2., 3.]), expected values)
PLAIN_CASES = [
    ("a.add_(1)", [2.0, 3.0, 4.0]),
    ("a.add_(T.tensor([1., 1., 2.]), alpha=2)", [3.0, 4.0, 7.0]),
    ("a.add_(T.tensor(0.5))", [1.5, 2.5, 3.5]),
    ("a.sub_(1)", [0.0, 1.0, 2.0]),
    ("a.sub_(T.tensor(2.), alpha=0.5)", [0.0, 1.0, 2.0]),
    ("a.mul_(2)", [2.0, 4.0, 6.0]),
    ("a.mul_(T.tensor([0., 1., -1.]))", [0.0, 2.0, -3.0]),
    ("a.div_(2)", [0.5, 1.0, 1.5]),
    ("a.div_(2, rounding_mode='floor')", [0.0, 1.0, 1.0]),
    ("a.zero_()", [0.0, 0.0, 0.0]),
    ("a.fill_(7)", [7.0, 7.0, 7.0]),
    ("a.fill_(T.tensor(7.))", [7.0, 7.0, 7.0]),
    ("a.copy_(T.tensor([4, 5, 6]))", [4.0, 5.0, 6.0]),
    ("a.copy_(T.tensor([9.]))", [9.0, 9.0, 9.0]),
    ("a.copy_(T.tensor(4., dtype=T.float64))", [4.0, 4.0, 4.0]),
    ("a.clamp_(1.5, 2.5)", [1.5, 2.0, 2.5]),
    ("a.clamp_(min=2.5)", [2.5, 2.5, 3.0]),
    ("a.clamp_(max=1.5)", [1.0, 1.5, 1.5]),
    ("a.masked_fill_(T.tensor([True, False, True]), -1.)", [-1.0, 2.0, -1.0]),
    ("a.masked_fill_(T.tensor([True, False, True]), T.tensor(-1.))", [-1.0, 2.0, -1.0]),
]


@pytest.mark.parametrize("call, expected", PLAIN_CASES)
def test_inplace_returns_self_updates_data_and_bumps_version_once(device, call, expected):
    a = bibun.tensor([1.0, 2.0, 3.0])
    data_before = a._data
    out = eval(call, {"T": bibun, "a": a})
    assert out is a
    assert a.tolist() == expected
    assert a._version[0] == 1
    assert a._data is data_before  # written into the same buffer
    assert a.dtype is bibun.float32 and a.grad_fn is None and a.is_leaf and not a.requires_grad


# (statement on a = tensor([1., 2., 3.]) (or ints), expected values, dtype name)
AUGMENTED_CASES = [
    ("a += 1", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]),
    ("a -= T.tensor([1., 1., 1.])", [1.0, 2.0, 3.0], [0.0, 1.0, 2.0]),
    ("a *= 3", [1.0, 2.0, 3.0], [3.0, 6.0, 9.0]),
    ("a /= 4", [1.0, 2.0, 3.0], [0.25, 0.5, 0.75]),
    ("a += T.ones(3, dtype=T.int64)", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]),
    ("a += 2", [1, 2, 3], [3, 4, 5]),
    ("a *= T.tensor([True, False, True])", [1, 2, 3], [1, 0, 3]),
]


@pytest.mark.parametrize("stmt, start, expected", AUGMENTED_CASES)
def test_augmented_assignment_is_in_place(device, stmt, start, expected):
    a = bibun.tensor(start)
    dtype = a.dtype
    ns = {"T": bibun, "a": a}
    exec(stmt, ns)
    assert ns["a"] is a
    assert a.tolist() == expected and a.dtype is dtype
    assert a._version[0] == 1


def test_views_see_in_place_writes_and_share_the_version(device):
    base = bibun.arange(6.0).reshape(2, 3)
    row = base[1]
    row.mul_(10)
    assert base.tolist() == [[0.0, 1.0, 2.0], [30.0, 40.0, 50.0]]
    assert base._version[0] == 1 and row._version is base._version
    base.zero_()
    assert row.tolist() == [0.0, 0.0, 0.0] and row._version[0] == 2


def test_inplace_through_detach_and_data_writes_the_original(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.detach()
    d.add_(1)
    assert x.tolist() == [2.0, 3.0, 4.0]
    assert d._version is x._version and x._version[0] == 1  # detach() shares the version counter
    x.data.mul_(2)
    assert x.tolist() == [4.0, 6.0, 8.0]
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


def test_grad_zero_returns_the_same_tensor(device):
    x = bibun.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    g = x.grad
    assert g.zero_() is g and x.grad is g
    assert x.grad.tolist() == [0.0, 0.0]
    (x * 3).sum().backward()  # accumulates into the zeroed tensor
    assert x.grad is g and g.tolist() == [3.0, 3.0]


# ---------------------------------------------------------------------- dtype and shape errors leave self untouched
# (start, call, PyTorch 2.13's message)
WRITE_ERRORS = [
    ([1.0, 2.0, 3.0], "a += T.ones(2, 3)", "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ([1.0, 2.0, 3.0], "a.add_(T.ones(2, 3))", "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ([1.0, 2.0, 3.0], "a.mul_(T.ones(2, 3))", "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ([1.0, 2.0, 3.0], "a.copy_(T.ones(2, 3))", "output with shape [3] doesn't match the broadcast shape [2, 3]"),
    ([1.0, 2.0, 3.0], "a.mul_(T.ones(2))",
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0"),
    ([1.0, 2.0, 3.0], "a.copy_(T.ones(2))",
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0"),
    ([1, 2, 3], "a.add_(1.5)", "result type Float can't be cast to the desired output type Long"),
    ([1, 2, 3], "a.add_(T.tensor(1.5))", "result type Float can't be cast to the desired output type Long"),
    ([1, 2, 3], "a.add_(T.tensor([1.5, 1., 1.]))", "result type Float can't be cast to the desired output type Long"),
    ([1, 2, 3], "a.div_(2)", "result type Float can't be cast to the desired output type Long"),
    ([1, 2, 3], "a *= 1.5", "result type Float can't be cast to the desired output type Long"),
    ([1, 2, 3], "a /= 4", "result type Float can't be cast to the desired output type Long"),
    ([True, False], "a.add_(1)", "result type Long can't be cast to the desired output type Bool"),
]


@pytest.mark.parametrize("start, call, message", WRITE_ERRORS)
def test_write_errors_leave_self_unchanged(device, start, call, message):
    a = bibun.tensor(start)
    with pytest.raises(RuntimeError) as info:
        exec(call, {"T": bibun, "a": a})
    assert str(info.value) == message
    assert a.tolist() == start and a._version[0] == 0


def test_int_tensor_in_place_values(device):
    a = bibun.tensor([1, 2, 3])
    a.fill_(1.5)  # fill_ and copy_ cast like PyTorch
    assert a.tolist() == [1, 1, 1]
    a.copy_(bibun.tensor([1.5, 2.5, -3.5]))
    assert a.tolist() == [1, 2, -3] and a.dtype is bibun.int64
    a.add_(bibun.tensor([True, False, True]))
    assert a.tolist() == [2, 2, -2]


# ---------------------------------------------------------------------- leaves that require grad
LEAF_CALLS = ["x.add_(1)", "x.sub_(1)", "x.mul_(1)", "x.div_(1)", "x.zero_()", "x.fill_(2.)", "x.copy_(T.ones(3))",
              "x.clamp_(0, 1)", "x.masked_fill_(T.tensor([True, False, True]), 0.)", "x += 1", "x -= 1", "x *= 2",
              "x /= 2", "x.exp_()"]


@pytest.mark.parametrize("call", LEAF_CALLS)
def test_leaf_that_requires_grad_refuses_in_place(device, call):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        exec(call, {"T": bibun, "x": x})
    assert str(info.value) == LEAF_MSG
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version[0] == 0
    assert x.is_leaf and x.grad_fn is None


VIEW_CALLS = ["x[0].add_(1)", "x[1:].zero_()", "x.view(3).mul_(2)", "x[:2].fill_(0.)", "y = x[:2]; y += 1",
              "x.reshape(3, 1).copy_(T.ones(3, 1))"]


@pytest.mark.parametrize("call", VIEW_CALLS)
def test_view_of_a_leaf_that_requires_grad_refuses_in_place(device, call):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        exec(call, {"T": bibun, "x": x})
    assert str(info.value) == VIEW_MSG
    assert x.tolist() == [1.0, 2.0, 3.0] and x._version[0] == 0


def test_no_grad_allows_in_place_on_leaves(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with bibun.no_grad():
        out = x.add_(1)
        x[0].mul_(10)
    assert out is x and x.tolist() == [20.0, 3.0, 4.0]
    assert x._version[0] == 2
    assert x.is_leaf and x.requires_grad and x.grad_fn is None


def test_optimizer_style_update(device):
    p = bibun.tensor([1.0, -2.0], requires_grad=True)
    ident = id(p)
    for _ in range(3):
        loss = (p * p).sum()
        loss.backward()
        with bibun.no_grad():
            p -= 0.25 * p.grad
        p.grad.zero_()
    assert id(p) == ident
    assert p.is_leaf and p.requires_grad and p.grad_fn is None
    assert p.tolist() == [0.125, -0.25]  # p *= 0.5 each step
    assert p._version[0] == 3


# ---------------------------------------------------------------------- non-leaves: rebased node and gradients
# (statement, node name, result, x.grad, w.grad) for x = [1, 2, 3], w = [4, 5, 6] (both leaves),
# then (r * [1, 2, 3]).sum().backward(); the values are PyTorch 2.13's.
NONLEAF_CASES = [
    ("y = x * 1; r = y.add_(w, alpha=3)", "AddBackward0", [13.0, 17.0, 21.0], [1.0, 2.0, 3.0], [3.0, 6.0, 9.0]),
    ("y = x * 1; r = y.add_(2)", "AddBackward0", [3.0, 4.0, 5.0], [1.0, 2.0, 3.0], None),
    ("y = x * 1; r = y.sub_(w, alpha=3)", "SubBackward0", [-11.0, -13.0, -15.0], [1.0, 2.0, 3.0], [-3.0, -6.0, -9.0]),
    ("y = x * 2; r = y.mul_(w)", "MulBackward0", [8.0, 20.0, 36.0], [8.0, 20.0, 36.0], [2.0, 8.0, 18.0]),
    ("y = x * 2; r = y.div_(w)", "DivBackward0", [0.5, 0.8, 1.0], [0.5, 0.8, 1.0], [-0.125, -0.32, -0.5]),
    ("y = x * 2; r = y.zero_()", "ZeroBackward0", [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], None),
    ("y = x * 2; r = y.fill_(5.)", "FillBackward2", [5.0, 5.0, 5.0], [0.0, 0.0, 0.0], None),
    ("y = x * 2; r = y.copy_(w)", "CopyBackwards", [4.0, 5.0, 6.0], [0.0, 0.0, 0.0], [1.0, 2.0, 3.0]),
    ("y = x * 2; r = y.clamp_(3., 5.)", "ClampBackward1", [3.0, 4.0, 5.0], [0.0, 4.0, 0.0], None),
    ("y = x * 2; r = y.masked_fill_(T.tensor([True, False, True]), 0.)", "MaskedFillBackward0", [0.0, 4.0, 0.0],
     [0.0, 4.0, 0.0], None),
    ("y = x * 2; r = y; y += w", "AddBackward0", [6.0, 9.0, 12.0], [2.0, 4.0, 6.0], [1.0, 2.0, 3.0]),
    ("y = x * 2; r = y; y -= w", "SubBackward0", [-2.0, -1.0, 0.0], [2.0, 4.0, 6.0], [-1.0, -2.0, -3.0]),
    ("y = x * 2; r = y; y *= w", "MulBackward0", [8.0, 20.0, 36.0], [8.0, 20.0, 36.0], [2.0, 8.0, 18.0]),
    ("y = x * 2; r = y; y /= w", "DivBackward0", [0.5, 0.8, 1.0], [0.5, 0.8, 1.0], [-0.125, -0.32, -0.5]),
]


@pytest.mark.parametrize("stmt, name, result, gx, gw", NONLEAF_CASES)
def test_inplace_on_non_leaf_rebases_node_and_gradients(device, stmt, name, result, gx, gw):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([4.0, 5.0, 6.0], requires_grad=True)
    ns = {"T": bibun, "x": x, "w": w}
    exec(stmt, ns)
    r, y = ns["r"], ns["y"]
    assert r is y
    assert type(r.grad_fn).__name__ == name
    assert r.requires_grad and not r.is_leaf and r._version[0] == 1
    assert r.tolist() == approx(result)
    (r * bibun.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == approx(gx)
    assert (w.grad.tolist() if w.grad is not None else None) == (approx(gw) if gw is not None else None)


def test_inplace_on_a_view_of_a_graph_tensor(device):
    # PyTorch rebases the base on a CopySlices node; so does bibun (values pinned from PyTorch 2.13)
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([2.0, 3.0, 4.0], requires_grad=True)
    y = x * 1
    v = y[0]
    v.mul_(w[1])
    y[2].add_(1)
    assert y.tolist() == [3.0, 2.0, 4.0] and type(y.grad_fn).__name__ == "CopySlices"
    assert y._version[0] == 2 and v.tolist() == 3.0 and not v.is_leaf
    (y * bibun.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 10.0, 100.0] and w.grad.tolist() == [0.0, 1.0, 0.0]


def test_inplace_on_a_view_modifying_a_saved_view_is_caught(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y[1].mul_(y[2])  # y[2] is saved for the gradient, then changed by the write into y
    with pytest.raises(RuntimeError, match="which is output 0 of Select, is at version 1; expected version 0"):
        y.sum().backward()
    assert x.grad is None


def test_inplace_on_a_view_without_grad_mode_writes_through(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    with bibun.no_grad():
        y[0].add_(1)
    assert y.tolist() == [2.0, 2.0, 3.0]


def test_inplace_with_grad_requiring_value_on_plain_tensor(device):
    # the written tensor joins the graph
    v = bibun.tensor(2.0, requires_grad=True)
    a = bibun.zeros(3)
    a.masked_fill_(bibun.tensor([True, False, True]), v)
    assert type(a.grad_fn).__name__ == "MaskedFillBackward1" and a.requires_grad and not a.is_leaf
    (a * bibun.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.item() == 4.0
    w = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = bibun.zeros(3)
    b.add_(w)
    assert type(b.grad_fn).__name__ == "AddBackward0"
    (b * 2).sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_mul_on_non_leaf_keeps_the_value_the_other_gradient_needs(device):
    # z = x * 2; z.mul_(y): y's gradient needs z's value before the write
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = bibun.tensor([4.0, 5.0, 6.0], requires_grad=True)
    z = x * 2
    z.mul_(y)
    z.sum().backward()
    assert x.grad.tolist() == [8.0, 10.0, 12.0]
    assert y.grad.tolist() == [2.0, 4.0, 6.0]


def test_self_multiplication_in_place_gives_the_true_gradient(device):
    # y = 2x; y *= y  -> 4x^2, d/dx = 8x. PyTorch raises a version error here; bibun keeps
    # the value it needs and computes the gradient.
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    y *= y
    assert y.tolist() == [4.0, 16.0, 36.0]
    y.sum().backward()
    assert x.grad.tolist() == [8.0, 16.0, 24.0]


def test_chained_in_place_ops_on_a_non_leaf(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    y.add_(1).mul_(3).clamp_(max=10.0)
    assert y.tolist() == [6.0, 9.0, 10.0] and y._version[0] == 3
    assert type(y.grad_fn).__name__ == "ClampBackward1"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0, 0.0]


def test_sigmoid_output_modified_in_place_then_used(device):
    x = bibun.tensor([0.0, 1.0], requires_grad=True)
    y = x.sigmoid()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Sigmoid, is at version 1; expected version 0"):
        y.sum().backward()
    assert x.grad is None


# ---------------------------------------------------------------------- saved tensors modified in place
def test_modified_saved_output_raises_pytorch_error_and_grads_stay(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([1.0, 1.0, 1.0], requires_grad=True)
    w.grad = bibun.tensor([5.0, 5.0, 5.0])
    y = x.exp()
    z = (y + w).sum()
    y.add_(1)
    with pytest.raises(RuntimeError) as info:
        z.backward()
    assert str(info.value) == (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[bibun.FloatTensor [3]], which is output 0 of Exp, is at version 1; expected version 0 instead. " + HINT)
    assert x.grad is None
    assert w.grad.tolist() == [5.0, 5.0, 5.0]


def test_modified_saved_output_double(device):
    x = bibun.tensor([1.0, 2.0], dtype=bibun.float64, requires_grad=True)
    y = x.exp()
    y.mul_(2)
    with pytest.raises(RuntimeError) as info:
        y.sum().backward()
    assert str(info.value) == (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[bibun.DoubleTensor [2]], which is output 0 of Exp, is at version 1; expected version 0 instead. " + HINT)


def test_modified_saved_leaf_raises_pytorch_error_and_grads_stay(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x.grad = bibun.tensor([1.0, 1.0, 1.0])
    grad_obj = x.grad
    y = (w * x).sum()
    with bibun.no_grad():
        x.mul_(2)
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert str(info.value) == (
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        "[bibun.FloatTensor [3]] is at version 1; expected version 0 instead. " + HINT)
    assert w.grad is None
    assert x.grad is grad_obj and x.grad.tolist() == [1.0, 1.0, 1.0]


def test_modified_through_detach_alias_is_detected(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    x.detach().zero_()
    with pytest.raises(RuntimeError, match=r"\[bibun.FloatTensor \[3\]\] is at version 1; expected version 0"):
        y.backward()
    assert x.grad is None


def test_modification_after_use_that_needs_no_saved_value_is_fine(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = (y + y).sum()  # add saves nothing
    y.add_(1)
    z.backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]
    a = bibun.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    s = b[0:1]  # a view of b: backward needs only shapes
    b.add_(1)
    s.sum().backward()
    assert a.grad.tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------- fixed outside ops/inplace.py (regressions)
def test_no_version_error_for_values_no_gradient_needs(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 1
    z = y * 2
    y.add_(1)
    z.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_version_error_names_a_saved_output_by_its_node(device):
    # z = y * 1 saves nothing of y; exp saved its own output, so the error names Exp
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    z = y * 1
    y.add_(1)
    with pytest.raises(RuntimeError, match="which is output 0 of Exp, is at version 1; expected version 0"):
        z.sum().backward()


def test_version_error_names_a_saved_input_by_its_current_grad_fn(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    z = y * y  # saves y as an input
    y.add_(1)
    with pytest.raises(RuntimeError, match="which is output 0 of Add, is at version 1; expected version 0"):
        z.sum().backward()


def test_data_writes_are_not_tracked(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (w * x).sum()
    x.data.mul_(2)
    assert x._version[0] == 0
    y.backward()
    assert w.grad.tolist() == [2.0, 4.0, 6.0]


def test_fill_with_tensor_value_requiring_grad(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = bibun.tensor(5.0, requires_grad=True)
    y = x * 2
    y.fill_(v)
    assert type(y.grad_fn).__name__ == "FillBackward3"
    (y * bibun.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.item() == 6.0 and x.grad.tolist() == [0.0, 0.0, 0.0]


def test_fill_with_one_dim_value_message(device):
    a = bibun.tensor([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError) as info:
        a.fill_(bibun.ones(1))
    assert str(info.value) == "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions."
    assert a.tolist() == [1.0, 2.0, 3.0]


def test_fill_tensor_value_gradient_through_inplace_module(device):
    # the op itself (ops/inplace.py) records FillBackward3 when handed the tensor
    from bibun.ops import inplace
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    v = bibun.tensor(5.0, requires_grad=True)
    y = x * 2
    assert inplace.fill_(y, v) is y
    assert type(y.grad_fn).__name__ == "FillBackward3" and y._version[0] == 1
    (y * bibun.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert v.grad.item() == 6.0 and x.grad.tolist() == [0.0, 0.0, 0.0]
    a = bibun.zeros(2)
    with pytest.raises(RuntimeError) as info:
        inplace.fill_(a, bibun.ones(1))
    assert str(info.value) == "fill_ only supports 0-dimension value tensor but got tensor with 1 dimensions."


def test_int_floor_div_in_place(device):
    a = bibun.tensor([1, 2, 3])
    a.div_(2, rounding_mode="floor")
    assert a.tolist() == [0, 1, 1] and a.dtype is bibun.int64


def test_int_clamp_with_float_bound(device):
    assert bibun.tensor([1, 2, 3]).clamp(1.5).dtype is bibun.float32
    a = bibun.tensor([1, 2, 3])
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        a.clamp_(1.5)  # PyTorch names the output type "long int" here
    assert a.tolist() == [1, 2, 3] and a._version[0] == 0
