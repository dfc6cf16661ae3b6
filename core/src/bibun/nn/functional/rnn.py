"""The arithmetic of recurrent layers, written in bibun ops so autograd needs nothing new.

Private helpers for ``bibun.nn.RNN``/``LSTM``/``GRU`` and their cells (PyTorch has no public
functional form of them either). Gate orders are PyTorch's: LSTM ``i, f, g, o``; GRU ``r, z, n``.
A sequence layer projects the input of every time step in one matmul, then loops over time
for the hidden projection only.
"""

from __future__ import annotations

from ...ops.activation import relu, sigmoid, tanh
from ...ops.linalg import addmm
from ...ops.shape import cat, stack
from .linear import linear as _linear

__all__: list[str] = []

MODES = ("RNN_TANH", "RNN_RELU", "LSTM", "GRU")


# ---------------------------------------------------------------------- cells
def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    return tanh(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    return relu(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))


def lstm_cell(input, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One LSTM step: ``(h', c')``."""
    return _lstm_gates(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh), cx)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):  # noqa: A002
    """One GRU step; the hidden bias of ``n`` stays inside ``r * (W_hn h + b_hn)``."""
    return _gru_gates(_linear(input, w_ih, b_ih), _linear(hx, w_hh, b_hh), hx)


def _lstm_gates(gates, cx):
    i, f, g, o = gates.chunk(4, 1)
    c = sigmoid(f) * cx + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c), c


def _gru_gates(gi, gh, hx):
    i_r, i_z, i_n = gi.chunk(3, 1)
    h_r, h_z, h_n = gh.chunk(3, 1)
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    n = tanh(i_n + r * h_n)
    return n + z * (hx - n)


# ---------------------------------------------------------------------- sequences
def _direction(mode, x, h, c, params, has_bias, reverse):
    """Run one layer in one direction over ``x`` (seq, batch, features): (outputs, h_n, c_n)."""
    w_ih, w_hh = params[0], params[1]
    b_ih, b_hh = (params[2], params[3]) if has_bias else (None, None)
    w_hr = params[4 if has_bias else 2] if len(params) > (4 if has_bias else 2) else None
    if mode == "GRU":
        # b_hh cannot be folded into the input projection: r multiplies W_hn h + b_hn
        steps = _linear(x, w_ih, b_ih).unbind(0)
    else:
        steps = _linear(x, w_ih, None if b_ih is None else b_ih + b_hh).unbind(0)
        b_hh = None
    w_hh_t = w_hh.t()
    w_hr_t = None if w_hr is None else w_hr.t()
    act = relu if mode == "RNN_RELU" else tanh
    outs = [None] * len(steps)
    for t in (range(len(steps) - 1, -1, -1) if reverse else range(len(steps))):
        if mode == "GRU":
            h = _gru_gates(steps[t], h.mm(w_hh_t) if b_hh is None else addmm(b_hh, h, w_hh_t), h)
        elif mode == "LSTM":
            h, c = _lstm_gates(addmm(steps[t], h, w_hh_t), c)
            if w_hr_t is not None:
                h = h.mm(w_hr_t)
        else:
            h = act(addmm(steps[t], h, w_hh_t))
        outs[t] = h
    return stack(outs), h, c


def rnn_sequence(mode, input, hx, cx, weights, *, has_bias, num_layers, dropout, training,  # noqa: A002
                 bidirectional, batch_first):
    """Multi-layer (bi)directional recurrence; ``weights`` is the flat parameter list in PyTorch's order.

    ``hx``/``cx`` are (layers * directions, batch, size); ``cx`` is None except for LSTM.
    Returns ``(output, h_n, c_n)``; ``c_n`` is None except for LSTM.
    """
    if input.shape[1 if batch_first else 0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    x = input.transpose(0, 1) if batch_first else input
    directions = 2 if bidirectional else 1
    per_direction = len(weights) // (num_layers * directions)
    h0 = hx.unbind(0)
    c0 = cx.unbind(0) if cx is not None else [None] * len(h0)
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            k = layer * directions + d
            out, h, c = _direction(mode, x, h0[k], c0[k], weights[k * per_direction:(k + 1) * per_direction],
                                   has_bias, reverse=d == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        x = outs[0] if directions == 1 else cat(outs, 2)
        if dropout and training and layer < num_layers - 1:
            from .dropout import dropout as _dropout
            x = _dropout(x, dropout, True)
    output = x.transpose(0, 1) if batch_first else x
    return output, stack(h_n), (stack(c_n) if cx is not None else None)
