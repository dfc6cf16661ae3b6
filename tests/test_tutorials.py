"""The two tutorials bibun starts from, statement by statement, through ``import bibun as torch``.

Expected strings are what PyTorch 2.13 prints for the same code (the second tutorial's
data include the intercept 7.0 that its code line leaves out; see shared/tutorials/README).
"""

from __future__ import annotations

import numpy as np
import pytest

import bibun as torch


def test_polynomial_gradient():
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 2 + 2 * x + 1
    assert repr(y) == "tensor(16., grad_fn=<AddBackward0>)"
    y.backward()
    assert str(x.grad) == "tensor(8.)"
    assert f"{x.grad}" == "8.0"


def test_two_paths_are_summed():
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    c = a * b
    d = c + a
    d.backward()
    assert (str(a.grad), str(b.grad)) == ("tensor(4.)", "tensor(2.)")


def test_gradients_accumulate_then_zero():
    x = torch.tensor(3.0, requires_grad=True)
    seen = []
    for _ in range(3):
        y = x ** 2 + 2 * x + 1
        y.backward()
        seen.append(str(x.grad))
    assert seen == ["tensor(8.)", "tensor(16.)", "tensor(24.)"]

    x = torch.tensor(3.0, requires_grad=True)
    seen = []
    for _ in range(3):
        y = x * 2
        y.backward()
        seen.append(f"grad = {x.grad}")
        grad = x.grad
        assert x.grad.zero_() is grad  # in place, the same tensor
    assert seen == ["grad = 2.0"] * 3


def test_no_grad_builds_nothing():
    x = torch.tensor(1.0, requires_grad=True)
    with torch.no_grad():
        y = x * 2
    assert (y.requires_grad, y.grad_fn, y.is_leaf) == (False, None, True)


@pytest.fixture
def data():
    np.random.seed(42)
    w, b = 4.5, 7.0
    x_array = np.array([-1.5, -1.0, -0.1, 0.9, 1.8, 2.2, 3.1])
    y_array = w * x_array + b + np.random.normal(size=x_array.shape[0])
    return torch.tensor(x_array).float(), torch.tensor(y_array).float()


def test_linear_regression_graph(data):
    x, y = data
    assert repr(x) == "tensor([-1.5000, -1.0000, -0.1000,  0.9000,  1.8000,  2.2000,  3.1000])"
    assert repr(y) == "tensor([ 0.7467,  2.3617,  7.1977, 12.5730, 14.8658, 16.6659, 22.5292])"
    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    assert (param_w.is_leaf, param_b.is_leaf) == (True, True)

    y_p = param_w * x + param_b
    assert repr(y_p) == ("tensor([-1.5000, -1.0000, -0.1000,  0.9000,  1.8000,  2.2000,  3.1000],\n"
                         "       grad_fn=<AddBackward0>)")
    assert y_p.is_leaf is False
    loss = torch.mean((y_p - y) ** 2)
    assert repr(loss) == "tensor(137.6195, grad_fn=<MeanBackward0>)"
    assert repr(y_p.grad_fn).startswith("<AddBackward0 object at 0x")
    hop = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]
    assert type(hop).__name__ == "AddBackward0" and hop is y_p.grad_fn
    assert [type(n).__name__ for n, _ in loss.grad_fn.next_functions] == ["PowBackward0"]

    assert (param_w.grad, param_b.grad) == (None, None)
    loss.backward()
    assert (str(param_w.grad), str(param_b.grad)) == ("tensor([-33.8909])", "tensor([-20.4400])")
    assert str(y_p.grad_fn(torch.tensor([-1.5]))) == "(tensor([-1.5000]), tensor([-1.5000]))"


def test_linear_regression_accumulation_and_zeroing(data):
    x, y = data
    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    seen = []
    for _ in range(3):
        loss = torch.mean((param_w * x + param_b - y) ** 2)
        loss.backward()
        seen.append(f"{param_w.grad} {param_b.grad}")
    assert seen == ["tensor([-33.8909]) tensor([-20.4400])", "tensor([-67.7818]) tensor([-40.8801])",
                    "tensor([-101.6727]) tensor([-61.3201])"]
    seen = []
    for _ in range(3):
        if param_w.grad:
            param_w.grad.zero_()
        if param_b.grad:
            param_b.grad.zero_()
        loss = torch.mean((param_w * x + param_b - y) ** 2)
        loss.backward()
        seen.append(f"{param_w.grad} {param_b.grad}")
    assert seen == ["tensor([-33.8909]) tensor([-20.4400])"] * 3

    with torch.no_grad():
        assert (param_w.requires_grad, param_b.requires_grad) == (True, True)
        y_p = param_w * x + param_b
        assert repr(y_p) == "tensor([-1.5000, -1.0000, -0.1000,  0.9000,  1.8000,  2.2000,  3.1000])"
        assert (y_p.requires_grad, y_p.grad) == (False, None)
        loss = torch.mean((y_p - y) ** 2)
        assert (repr(loss), loss.requires_grad, loss.grad) == ("tensor(137.6195)", False, None)

    lr = 0.01
    naive_w = param_w - param_w.grad * lr
    naive_b = param_b - param_b.grad * lr
    assert f"{naive_w} {naive_b}" == ("tensor([1.3389], grad_fn=<SubBackward0>) "
                                      "tensor([0.2044], grad_fn=<SubBackward0>)")
    param_w = (param_w - param_w.grad * lr).detach().requires_grad_()
    param_b = (param_b - param_b.grad * lr).detach().requires_grad_()
    assert f"{param_w} {param_b}" == "tensor([1.3389], requires_grad=True) tensor([0.2044], requires_grad=True)"
    assert param_w.is_leaf and param_w.grad is None


def test_linear_regression_training_by_hand(data):
    x, y = data
    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    lr = 0.01
    logged = {}
    for epoch in range(1, 301):
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        loss.backward()
        param_w = (param_w - param_w.grad * lr).detach().requires_grad_()
        param_b = (param_b - param_b.grad * lr).detach().requires_grad_()
        if epoch % 10 == 0:
            logged[epoch] = (loss.item(), param_w.item(), param_b.item())
    assert logged[10] == pytest.approx((52.31643295288086, 3.4754106998443604, 1.6848385334014893), abs=1e-6)
    assert logged[20] == pytest.approx((23.30514144897461, 4.616385459899902, 2.8110599517822266), abs=1e-6)
    assert logged[300] == pytest.approx((0.5062416791915894, 4.625252723693848, 7.377382755279541), abs=1e-6)
    assert f"loss={loss}" .startswith("loss=0.50624")


def test_linear_regression_with_optim_sgd_equals_the_hand_written_update(data):
    """Tutorial 2's last step: optim.SGD in place of the hand-written update, same printed numbers."""
    x, y = data
    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    optimizer = torch.optim.SGD([param_w, param_b], lr=0.01)
    logged = {}
    for epoch in range(1, 301):
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0:
            logged[epoch] = (loss.item(), param_w.item(), param_b.item())
    # the tutorial's printed numbers for the optim.SGD version
    assert logged[10] == pytest.approx((52.31643295288086, 3.4754106998443604, 1.6848385334014893), abs=1e-6)
    assert logged[20] == pytest.approx((23.30513572692871, 4.616385459899902, 2.8110601902008057), abs=1e-6)
    assert logged[300] == pytest.approx((0.5062416791915894, 4.625252723693848, 7.377382755279541), abs=1e-6)
    assert param_w.is_leaf and param_w.grad is not None


def test_nn_linear_mse_sgd_training_loop():
    """Tutorial 1's closing example; the numbers are PyTorch's after the same manual_seed(0)."""
    import bibun.nn as nn
    torch.manual_seed(0)
    model = nn.Linear(1, 1)
    assert repr(model) == "Linear(in_features=1, out_features=1, bias=True)"
    assert f"{model.weight.item():.4f} {model.bias.item():.4f}" == "-0.0075 0.5364"
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    assert repr(loss_fn) == "MSELoss()"
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    losses = []
    for epoch in range(100):  # noqa: B007 (the tutorial's own loop)
        optimizer.zero_grad()
        pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert type(loss.grad_fn).__name__ == "MseLossBackward0"
    assert type(pred.grad_fn).__name__ == "AddmmBackward0"
    assert losses[:3] == pytest.approx([14.786839485168457, 11.729758262634277, 9.313098907470703], rel=1e-6)
    assert f"weight: {model.weight.item():.3f}, bias: {model.bias.item():.3f}" == "weight: 1.589, bias: 0.935"
    assert model.weight.item() == pytest.approx(1.5886974334716797, abs=1e-6)
    assert model.bias.item() == pytest.approx(0.9349558353424072, abs=1e-6)
    assert loss.item() == pytest.approx(0.12600760161876678, abs=1e-6)


def test_inference_under_no_grad_builds_no_graph():
    """Tutorial 1: `with torch.no_grad(): output = model(x)` builds no graph."""
    import bibun.nn as nn
    model = nn.Linear(10, 1)
    x = torch.randn(5, 10)
    output = model(x)
    assert output.requires_grad and type(output.grad_fn).__name__ == "AddmmBackward0"
    with torch.no_grad():
        output = model(x)
    assert not output.requires_grad and output.grad_fn is None


def test_demo_runs_and_prints_the_tutorials(capsys):
    from bibun.__main__ import main
    torch.manual_seed(67280421310721)  # the state a fresh process starts from; earlier tests drew numbers
    assert main(["demo", "--tutorials-only"]) == 0
    out = capsys.readouterr().out
    for expected in ("tensor(8.)", "tensor(137.6195, grad_fn=<MeanBackward0>)", "tensor([-33.8909]) tensor([-20.4400])",
                     "(tensor([-1.5000]), tensor([-1.5000]))",
                     "Epoch 300: loss=0.5062416791915894, param_w=4.625252723693848, param_b=7.377382755279541",
                     "== the same regression with optim.SGD ==",
                     # unseeded, bibun starts from its fixed default seed; PyTorch seeded with it prints this too
                     "weight: 1.470, bias: 1.205"):
        assert expected in out
