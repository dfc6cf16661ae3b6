"""The computations of the two tutorials bibun starts from, printed (part one of the demo).

Every statement is the tutorial's own, run through ``import bibun as torch``; the
output matches what PyTorch prints for the same code.
"""

from __future__ import annotations

import warnings


def autograd_basics(torch, out=print):
    """Tutorial 1: requires_grad, the graph, backward, accumulation, zero_(), no_grad."""
    out("== autograd basics ==")
    x = torch.tensor(3.0, requires_grad=True)
    y = x ** 2 + 2 * x + 1
    y.backward()
    out(x.grad)  # tensor(8.)

    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    c = a * b
    d = c + a
    d.backward()
    out(a.grad)  # tensor(4.)
    out(b.grad)  # tensor(2.)

    x = torch.tensor(3.0, requires_grad=True)
    for i in range(3):
        y = x ** 2 + 2 * x + 1
        y.backward()
        out(f"loop {i}: grad = {x.grad}")  # 8.0, 16.0, 24.0: gradients accumulate

    x = torch.tensor(1.0, requires_grad=True)
    for i in range(3):
        y = x * 2
        y.backward()
        out(f"loop {i}: grad = {x.grad}")  # 2.0 each time
        x.grad.zero_()

    with torch.no_grad():
        z = x * 2
    out(z.requires_grad, z.grad_fn)  # False None


def backprop_and_sgd(torch, np, out=print, epochs=300):
    """Tutorial 2: linear regression by hand: grad_fn, next_functions, accumulation, detach()."""
    out("== backprop and SGD ==")
    np.random.seed(42)
    w, b = 4.5, 7.0
    x_array = np.array([-1.5, -1.0, -0.1, 0.9, 1.8, 2.2, 3.1])
    # the tutorial's printed numbers come from data with the intercept b
    y_array = w * x_array + b + np.random.normal(size=x_array.shape[0])
    x = torch.tensor(x_array).float()
    y = torch.tensor(y_array).float()
    out(x)
    out(y)

    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    out(param_w.is_leaf, param_b.is_leaf)
    y_p = param_w * x + param_b
    out(y_p, y_p.is_leaf)
    loss = torch.mean((y_p - y) ** 2)
    out(loss)
    out(type(y_p.grad_fn).__name__)
    out(type(loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[0][0]).__name__)
    out("before:", param_w.grad, param_b.grad)
    loss.backward()
    out("after:", param_w.grad, param_b.grad)
    out(y_p.grad_fn(torch.tensor([-1.5])))

    for _ in range(3):
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        loss.backward()
        out(param_w.grad, param_b.grad)
    for _ in range(3):
        if param_w.grad:
            param_w.grad.zero_()
        if param_b.grad:
            param_b.grad.zero_()
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        loss.backward()
        out(param_w.grad, param_b.grad)

    with torch.no_grad():
        y_p = param_w * x + param_b
        out(y_p, y_p.requires_grad, y_p.grad)
        loss = torch.mean((y_p - y) ** 2)
        out(loss, loss.requires_grad, loss.grad)

    learning_rate = 0.01
    naive_w = param_w - param_w.grad * learning_rate
    naive_b = param_b - param_b.grad * learning_rate
    out(naive_w, naive_b)  # still in the graph: grad_fn=<SubBackward0>
    param_w = (param_w - param_w.grad * learning_rate).detach().requires_grad_()
    param_b = (param_b - param_b.grad * learning_rate).detach().requires_grad_()
    out(param_w, param_b)

    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    # float() of a tensor that requires grad warns, as in PyTorch; the tutorial does it on purpose
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")
    for epoch in range(1, epochs + 1):
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        loss.backward()
        param_w = (param_w - param_w.grad * learning_rate).detach().requires_grad_()
        param_b = (param_b - param_b.grad * learning_rate).detach().requires_grad_()
        if epoch % 10 == 0 and (epoch <= 20 or epoch == epochs):
            out(f"Epoch {epoch}: loss={loss}, param_w={float(param_w)}, param_b={float(param_b)}")
    return param_w, param_b, loss


def nn_training_loop(torch, out=print):
    """Tutorial 1's closing example: nn.Linear, nn.MSELoss and optim.SGD learn y = 2x."""
    out("== nn.Linear + nn.MSELoss + optim.SGD ==")
    import bibun.nn as nn
    model = nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.MSELoss()
    x = torch.tensor([[1.0], [2.0], [3.0]])
    y = torch.tensor([[2.0], [4.0], [6.0]])
    for epoch in range(100):  # noqa: B007 (the tutorial's own loop)
        optimizer.zero_grad()
        pred = model(x)
        loss = loss_fn(pred, y)
        loss.backward()
        optimizer.step()
    out(f"weight: {model.weight.item():.3f}, bias: {model.bias.item():.3f}")
    return model, loss


def sgd_with_optim(torch, x, y, out=print, epochs=300):
    """Tutorial 2's last step: the hand-written update replaced by optim.SGD gives the same numbers."""
    out("== the same regression with optim.SGD ==")
    param_w = torch.tensor([1.0], requires_grad=True)
    param_b = torch.tensor([0.0], requires_grad=True)
    optimizer = torch.optim.SGD([param_w, param_b], lr=0.01)
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")
    for epoch in range(1, epochs + 1):
        y_p = param_w * x + param_b
        loss = torch.mean((y_p - y) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if epoch % 10 == 0 and (epoch <= 20 or epoch == epochs):
            out(f"Epoch {epoch}: loss={loss}, param_w={float(param_w)}, param_b={float(param_b)}")
    return param_w, param_b, loss


def run_all(torch, np, out=print):
    autograd_basics(torch, out)
    out()
    x, y = tutorial_data(torch, np)
    backprop_and_sgd(torch, np, out)
    out()
    sgd_with_optim(torch, x, y, out)
    out()
    nn_training_loop(torch, out)


def tutorial_data(torch, np):
    """Tutorial 2's data set, drawn again from the same numpy seed."""
    rng_state = np.random.get_state()
    np.random.seed(42)
    x_array = np.array([-1.5, -1.0, -0.1, 0.9, 1.8, 2.2, 3.1])
    y_array = 4.5 * x_array + 7.0 + np.random.normal(size=x_array.shape[0])
    np.random.set_state(rng_state)
    return torch.tensor(x_array).float(), torch.tensor(y_array).float()
