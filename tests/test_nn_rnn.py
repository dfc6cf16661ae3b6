"""Recurrent layers (``nn.RNN``/``LSTM``/``GRU`` and their cells): shapes, parameters, values,
gradients, errors and reprs; PyTorch parity in the ``torch``-fixture tests.

No new op is registered for them (they are built from existing ops), so ``GRADCHECK_CASES`` is
empty; the gradient checks below run on the layers themselves.
"""

from __future__ import annotations

import itertools
import math

import bibun
import bibun.nn as nn
import numpy as np
import pytest
from bibun.autograd import gradcheck, gradgradcheck
from bibun.nn.functional import rnn as rnn_f

GRADCHECK_CASES: list = []

MODES = {"RNN": "RNN_TANH", "LSTM": "LSTM", "GRU": "GRU"}


def _set(module, **values):
    """Copy float64 values into the named parameters."""
    with bibun.no_grad():
        for name, v in values.items():
            p = getattr(module, name)
            p.copy_(bibun.tensor(v, dtype=p.dtype, device=p.device))


def _np(t):
    return t.detach().cpu().numpy()


def _state(out):
    """h_n, or h_n and c_n for LSTM, as a tuple."""
    return out if isinstance(out, tuple) else (out,)


# ---------------------------------------------------------------------- shapes
SHAPE_CASES = list(itertools.product(["RNN", "LSTM", "GRU"], [1, 2], [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("cls,layers,bidir,batch_first,batched", SHAPE_CASES)
def test_output_and_state_shapes(device, cls, layers, bidir, batch_first, batched):
    seq, batch, inp, hid = 4, 3, 5, 6
    m = getattr(nn, cls)(inp, hid, num_layers=layers, bidirectional=bidir, batch_first=batch_first, device=device)
    d = 2 if bidir else 1
    if batched:
        x = bibun.randn(*((batch, seq, inp) if batch_first else (seq, batch, inp)), device=device)
        out_shape = (batch, seq, d * hid) if batch_first else (seq, batch, d * hid)
        state_shape = (layers * d, batch, hid)
    else:
        x = bibun.randn(seq, inp, device=device)
        out_shape, state_shape = (seq, d * hid), (layers * d, hid)
    for hx in (None, "given"):
        if hx == "given":
            h0 = bibun.randn(*state_shape, device=device)
            hx = (h0, bibun.randn(*state_shape, device=device)) if cls == "LSTM" else h0
        out, state = m(x, hx)
        assert tuple(out.shape) == out_shape
        assert out.dtype is bibun.float32
        states = state if cls == "LSTM" else (state,)
        assert len(states) == (2 if cls == "LSTM" else 1)
        for s in states:
            assert tuple(s.shape) == state_shape


@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("batched", [False, True])
def test_lstm_proj_size_shapes(device, bidir, batched):
    d = 2 if bidir else 1
    m = nn.LSTM(5, 6, num_layers=2, proj_size=3, bidirectional=bidir, device=device)
    x = bibun.randn(*((4, 2, 5) if batched else (4, 5)), device=device)
    out, (h, c) = m(x)
    b = (2,) if batched else ()
    assert tuple(out.shape) == (4,) + b + (d * 3,)
    assert tuple(h.shape) == (2 * d,) + b + (3,)
    assert tuple(c.shape) == (2 * d,) + b + (6,)
    assert tuple(m.weight_hr_l0.shape) == (3, 6)
    assert tuple(m.weight_hh_l1.shape) == (24, 3)
    assert tuple(m.weight_ih_l1.shape) == (24, 3 * d)


@pytest.mark.parametrize("cls", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_shapes(device, cls):
    m = getattr(nn, cls)(5, 6, device=device)
    for x in (bibun.randn(3, 5, device=device), bibun.randn(5, device=device)):
        lead = tuple(x.shape[:-1])
        out = m(x)
        outs = out if cls == "LSTMCell" else (out,)
        assert all(tuple(o.shape) == lead + (6,) for o in outs)
        hx = bibun.randn(*lead, 6, device=device)
        out2 = m(x, (hx, hx) if cls == "LSTMCell" else hx)
        outs2 = out2 if cls == "LSTMCell" else (out2,)
        assert all(tuple(o.shape) == lead + (6,) for o in outs2)


def test_empty_batch_and_sequence():
    out, h = nn.GRU(3, 4)(bibun.randn(2, 0, 3))
    assert tuple(out.shape) == (2, 0, 4) and tuple(h.shape) == (1, 0, 4)
    with pytest.raises(RuntimeError, match="Expected sequence length to be larger than 0 in RNN"):
        nn.LSTM(3, 4)(bibun.randn(0, 2, 3))
    assert tuple(nn.RNNCell(3, 4)(bibun.randn(0, 3)).shape) == (0, 4)


# ---------------------------------------------------------------------- parameters
def test_parameter_names_shapes_and_order():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    got = [(n, tuple(p.shape)) for n, p in m.named_parameters()]
    want = []
    for layer, suffix in itertools.product((0, 1), ("", "_reverse")):
        inp = 3 if layer == 0 else 8
        want += [(f"weight_ih_l{layer}{suffix}", (16, inp)), (f"weight_hh_l{layer}{suffix}", (16, 4)),
                 (f"bias_ih_l{layer}{suffix}", (16,)), (f"bias_hh_l{layer}{suffix}", (16,))]
    assert got == want
    assert list(m.state_dict()) == [n for n, _ in want]
    assert [[tuple(w.shape) for w in ws] for ws in m.all_weights][1] == [(16, 3), (16, 4), (16,), (16,)]
    assert [n for n, _ in nn.GRU(3, 4, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    assert [n for n, _ in nn.LSTM(3, 4, proj_size=2).named_parameters()] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0"]
    assert tuple(nn.GRU(3, 4).weight_ih_l0.shape) == (12, 3)
    assert tuple(nn.RNN(3, 4).weight_hh_l0.shape) == (4, 4)


def test_cell_parameters():
    assert [(n, tuple(p.shape)) for n, p in nn.LSTMCell(3, 4).named_parameters()] == [
        ("weight_ih", (16, 3)), ("weight_hh", (16, 4)), ("bias_ih", (16,)), ("bias_hh", (16,))]
    cell = nn.GRUCell(3, 4, bias=False)
    assert cell.bias_ih is None and cell.bias_hh is None
    assert list(cell.state_dict()) == ["weight_ih", "weight_hh"]


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_init_range(cls):
    m = getattr(nn, cls)(5, 16)
    bound = 1 / math.sqrt(16)
    for p in m.parameters():
        v = _np(p)
        assert p.requires_grad and p.dtype is bibun.float32
        assert np.all(np.abs(v) <= bound) and np.std(v) > bound / 4


def test_factory_kwargs_and_double(device):
    m = nn.LSTM(3, 4, dtype=bibun.float64, device=device)
    assert all(p.dtype is bibun.float64 for p in m.parameters())
    out, (h, c) = m(bibun.randn(2, 1, 3, dtype=bibun.float64, device=device))
    assert out.dtype is bibun.float64 and c.dtype is bibun.float64
    m2 = nn.GRU(3, 4).double()
    assert m2(bibun.randn(2, 1, 3, dtype=bibun.float64))[0].dtype is bibun.float64
    m.flatten_parameters()  # a no-op, called by much user code


# ---------------------------------------------------------------------- values
X_PIN = [[[1.0]], [[2.0]], [[-0.5]]]  # (seq 3, batch 1, input 1)
PINNED = {
    "tanh": [0.66403677026784902, 0.56214469528326150, -0.47161455641449396],
    "relu": [0.8, 0.5, 0.0],
    "LSTM": [0.06728761541389615, 0.23709945566157348, 0.03639942494106513],
    "GRU": [0.11341581932149244, 0.26761839397375714, 0.08798515841639772],
}


def _pinned_module(kind, device):
    if kind in ("tanh", "relu"):
        m = nn.RNN(1, 1, nonlinearity=kind, dtype=bibun.float64, device=device)
        _set(m, weight_ih_l0=[[0.5]], weight_hh_l0=[[-1.0]], bias_ih_l0=[0.1], bias_hh_l0=[0.2])
    elif kind == "LSTM":
        m = nn.LSTM(1, 1, dtype=bibun.float64, device=device)
        _set(m, weight_ih_l0=[[0.1], [0.2], [0.3], [0.4]], weight_hh_l0=[[0.5], [-0.5], [0.25], [-0.25]],
             bias_ih_l0=[0.1, 0.0, -0.1, 0.2], bias_hh_l0=[0.0, 0.3, 0.0, -0.1])
    else:
        m = nn.GRU(1, 1, dtype=bibun.float64, device=device)
        _set(m, weight_ih_l0=[[0.1], [0.2], [0.3]], weight_hh_l0=[[0.5], [-0.5], [0.25]],
             bias_ih_l0=[0.1, 0.0, -0.1], bias_hh_l0=[0.0, 0.3, 0.2])
    return m


def _scalar_reference(kind, xs):
    """The same recurrences in plain Python floats, gate by gate."""
    def sig(v):
        return 1 / (1 + math.exp(-v))
    h = c = 0.0
    out = []
    for x in xs:
        if kind in ("tanh", "relu"):
            pre = 0.5 * x + 0.1 - 1.0 * h + 0.2
            h = math.tanh(pre) if kind == "tanh" else max(pre, 0.0)
        elif kind == "LSTM":
            i = sig(0.1 * x + 0.1 + 0.5 * h)
            f = sig(0.2 * x + 0.0 - 0.5 * h + 0.3)
            g = math.tanh(0.3 * x - 0.1 + 0.25 * h)
            o = sig(0.4 * x + 0.2 - 0.25 * h - 0.1)
            c = f * c + i * g
            h = o * math.tanh(c)
        else:
            r = sig(0.1 * x + 0.1 + 0.5 * h)
            z = sig(0.2 * x - 0.5 * h + 0.3)
            n = math.tanh(0.3 * x - 0.1 + r * (0.25 * h + 0.2))
            h = (1 - z) * n + z * h
        out.append(h)
    return out


@pytest.mark.parametrize("kind", ["tanh", "relu", "LSTM", "GRU"])
def test_pinned_values(device, kind):
    m = _pinned_module(kind, device)
    x = bibun.tensor(X_PIN, dtype=bibun.float64, device=device)
    out, state = m(x)
    got = _np(out).reshape(-1)
    np.testing.assert_allclose(got, PINNED[kind], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(got, _scalar_reference(kind, [1.0, 2.0, -0.5]), rtol=1e-13, atol=1e-15)
    h_n = _state(state)[0]
    np.testing.assert_allclose(_np(h_n).reshape(-1), PINNED[kind][-1:], rtol=1e-14, atol=1e-15)
    if kind == "LSTM":
        np.testing.assert_allclose(_np(state[1]).reshape(-1), [0.07924907273579716], rtol=1e-14)


@pytest.mark.parametrize("kind", ["tanh", "LSTM", "GRU"])
def test_cells_match_one_layer_step(kind):
    """A cell with a layer's weights computes the layer's first step."""
    m = _pinned_module(kind, "cpu")
    cls = {"tanh": nn.RNNCell, "LSTM": nn.LSTMCell, "GRU": nn.GRUCell}[kind]
    cell = cls(1, 1, dtype=bibun.float64)
    with bibun.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(cell, name).copy_(getattr(m, name + "_l0"))
    x = bibun.tensor(X_PIN, dtype=bibun.float64)
    out = cell(x[0])
    h = out[0] if kind == "LSTM" else out
    np.testing.assert_allclose(_np(h).reshape(-1), PINNED[kind][:1], rtol=1e-14)
    h1 = cell(x[0][0])  # unbatched
    assert tuple((h1[0] if kind == "LSTM" else h1).shape) == (1,)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_reverse_direction_reads_the_flipped_sequence(cls):
    m = getattr(nn, cls)(2, 3, bidirectional=True, dtype=bibun.float64)
    fwd = getattr(nn, cls)(2, 3, dtype=bibun.float64)
    with bibun.no_grad():
        for name, p in fwd.named_parameters():
            p.copy_(getattr(m, name + "_reverse"))
    x = bibun.randn(5, 2, 2, dtype=bibun.float64)
    out, state = m(x)
    rev_out, rev_state = fwd(x.flip(0))
    np.testing.assert_allclose(_np(out[:, :, 3:]), _np(rev_out.flip(0)), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_np(_state(state)[0][1]), _np(_state(rev_state)[0][0]), rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_unbatched_and_batch_first_agree_with_batched(cls):
    m = getattr(nn, cls)(3, 4, num_layers=2, bidirectional=True, dtype=bibun.float64)
    x = bibun.randn(5, 2, 3, dtype=bibun.float64)
    out, state = m(x)
    out1, state1 = m(x[:, 1])
    np.testing.assert_allclose(_np(out1), _np(out[:, 1]), rtol=1e-14, atol=1e-15)
    for a, b in zip(_state(state1), _state(state)):
        np.testing.assert_allclose(_np(a), _np(b[:, 1]), rtol=1e-14, atol=1e-15)
    m.batch_first = True
    out_bf, state_bf = m(x.transpose(0, 1))
    np.testing.assert_allclose(_np(out_bf), _np(out.transpose(0, 1)), rtol=1e-14, atol=1e-15)
    for a, b in zip(_state(state_bf), _state(state)):
        np.testing.assert_allclose(_np(a), _np(b), rtol=1e-14, atol=1e-15)


def test_inter_layer_dropout_in_training_only():
    bibun.manual_seed(0)
    m = nn.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=bibun.float64)
    x = bibun.randn(5, 2, 3, dtype=bibun.float64)
    m.eval()
    a, b = m(x)[0], m(x)[0]
    np.testing.assert_array_equal(_np(a), _np(b))
    m.train()
    bibun.manual_seed(1)
    c = m(x)[0]
    bibun.manual_seed(1)
    d = m(x)[0]
    np.testing.assert_array_equal(_np(c), _np(d))
    assert not np.allclose(_np(c), _np(a))
    # dropout 1 zeroes the second layer's input: its output no longer depends on x
    m.dropout = 1.0
    e, f = m(x)[0], m(bibun.randn(5, 2, 3, dtype=bibun.float64))[0]
    np.testing.assert_allclose(_np(e), _np(f), rtol=0, atol=0)
    # a single layer has no inter-layer dropout
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        one = nn.GRU(3, 4, dropout=0.5)
    x32 = bibun.randn(5, 2, 3)
    np.testing.assert_array_equal(_np(one(x32)[0]), _np(one(x32)[0]))


def test_node_names():
    out, (h, c) = nn.LSTM(3, 4)(bibun.randn(2, 1, 3))
    assert type(out.grad_fn).__name__ == "StackBackward0"
    assert type(h.grad_fn).__name__ == "StackBackward0" and type(c.grad_fn).__name__ == "StackBackward0"
    assert type(nn.RNNCell(3, 4)(bibun.randn(2, 3)).grad_fn).__name__ == "TanhBackward0"
    assert type(nn.LSTMCell(3, 4)(bibun.randn(2, 3))[0].grad_fn).__name__ == "MulBackward0"
    assert type(nn.GRUCell(3, 4)(bibun.randn(2, 3)).grad_fn).__name__ == "AddBackward0"


def test_backward_reaches_every_parameter():
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    out, h = m(bibun.randn(4, 2, 3))
    (out.sum() + h.sum()).backward()
    for name, p in m.named_parameters():
        assert p.grad is not None and tuple(p.grad.shape) == tuple(p.shape), name


# ---------------------------------------------------------------------- gradients
def _weights(cls, layers, bidir, proj=0, inp=2, hid=2, bias=True):
    """Float64 leaves in the layer's parameter order, with PyTorch's shapes."""
    gate = {"RNN": 1, "LSTM": 4, "GRU": 3}[cls] * hid
    real = proj or hid
    d = 2 if bidir else 1
    rng = np.random.default_rng(7)
    ws = []
    for layer in range(layers):
        for _ in range(d):
            shapes = [(gate, inp if layer == 0 else real * d), (gate, real)]
            shapes += [(gate,), (gate,)] if bias else []
            shapes += [(proj, hid)] if proj else []
            ws += [bibun.tensor(rng.uniform(-0.8, 0.8, s), dtype=bibun.float64, requires_grad=True) for s in shapes]
    return ws


GRAD_CASES = [
    ("RNN", 2, True, 0, True), ("RNN", 1, False, 0, False), ("LSTM", 2, False, 0, True),
    ("LSTM", 1, True, 1, True), ("GRU", 2, False, 0, True), ("GRU", 1, True, 0, False),
]


@pytest.mark.parametrize("cls,layers,bidir,proj,bias", GRAD_CASES)
def test_gradcheck_layers(device, cls, layers, bidir, proj, bias):
    d = 2 if bidir else 1
    ws = _weights(cls, layers, bidir, proj, bias=bias)
    rng = np.random.default_rng(3)

    def leaf(*shape):
        return bibun.tensor(rng.standard_normal(shape), dtype=bibun.float64, device=device, requires_grad=True)

    x, h0, c0 = leaf(3, 2, 2), leaf(layers * d, 2, proj or 2), leaf(layers * d, 2, 2)
    ws = [w.to(device) for w in ws]
    lstm = cls == "LSTM"

    def fn(x, h0, c0, *ws):
        out, h, c = rnn_f.rnn_sequence(MODES[cls], x, h0, c0 if lstm else None, list(ws), has_bias=bias,
                                       num_layers=layers, dropout=0.0, training=False, bidirectional=bidir,
                                       batch_first=False)
        return (out, h, c) if lstm else (out, h)

    assert gradcheck(fn, (x, h0, c0, *ws))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_gradcheck_module_input_and_state(cls):
    m = getattr(nn, cls)(2, 3, batch_first=True, dtype=bibun.float64)
    x = bibun.randn(2, 3, 2, dtype=bibun.float64, requires_grad=True)
    h0 = bibun.randn(1, 2, 3, dtype=bibun.float64, requires_grad=True)
    c0 = bibun.randn(1, 2, 3, dtype=bibun.float64, requires_grad=True)
    if cls == "LSTM":
        assert gradcheck(lambda x, h, c: (lambda o, s: (o, *s))(*m(x, (h, c))), (x, h0, c0))
    else:
        assert gradcheck(lambda x, h: m(x, h), (x, h0))


@pytest.mark.parametrize("cls", ["RNN", "LSTM", "GRU"])
def test_gradgradcheck_one_step_sequences(cls):
    ws = _weights(cls, 1, False)
    x = bibun.randn(2, 1, 2, dtype=bibun.float64, requires_grad=True)
    h0 = bibun.randn(1, 1, 2, dtype=bibun.float64, requires_grad=True)
    c0 = bibun.zeros(1, 1, 2, dtype=bibun.float64) if cls == "LSTM" else None

    def fn(x, h0, *ws):
        return rnn_f.rnn_sequence(MODES[cls], x, h0, c0, list(ws), has_bias=True, num_layers=1, dropout=0.0,
                                  training=False, bidirectional=False, batch_first=False)[0]

    assert gradgradcheck(fn, (x, h0, *ws))


@pytest.mark.parametrize("cell", ["rnn_tanh_cell", "rnn_relu_cell", "gru_cell", "lstm_cell"])
def test_gradcheck_cells(cell):
    chunks = {"rnn_tanh_cell": 1, "rnn_relu_cell": 1, "gru_cell": 3, "lstm_cell": 4}[cell]
    rng = np.random.default_rng(11)

    def leaf(*shape):
        x = rng.standard_normal(shape)
        return bibun.tensor(x, dtype=bibun.float64, requires_grad=True)

    x, h = leaf(2, 3), leaf(2, 2)
    w_ih, w_hh, b_ih, b_hh = leaf(2 * chunks, 3), leaf(2 * chunks, 2), leaf(2 * chunks), leaf(2 * chunks)
    fn = getattr(rnn_f, cell)
    if cell == "lstm_cell":
        c = leaf(2, 2)
        assert gradcheck(lambda x, h, c, *w: fn(x, h, c, *w), (x, h, c, w_ih, w_hh, b_ih, b_hh))
    else:
        if cell == "rnn_relu_cell":
            b_ih = bibun.tensor([3.0, -3.0], dtype=bibun.float64, requires_grad=True)  # away from relu's kink
        assert gradcheck(fn, (x, h, w_ih, w_hh, b_ih, b_hh))


# ---------------------------------------------------------------------- errors
def _raises(exc, msg, fn):
    with pytest.raises(exc) as info:
        fn()
    assert str(info.value) == msg


def test_constructor_errors():
    _raises(ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU",
            lambda: nn.GRU(10, 20, proj_size=3))
    _raises(ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU",
            lambda: nn.RNN(10, 20, proj_size=3))
    _raises(ValueError, "Unknown nonlinearity 'sigmoid'. Select from 'tanh' or 'relu'.",
            lambda: nn.RNN(10, 20, nonlinearity="sigmoid"))
    _raises(ValueError, "dropout should be a number in range [0, 1] representing the probability of an element "
                        "being zeroed", lambda: nn.RNN(10, 20, dropout=1.5))
    _raises(TypeError, "bias should be of type bool, got: int", lambda: nn.RNN(10, 20, bias=1))
    _raises(TypeError, "batch_first should be of type bool, got: int", lambda: nn.LSTM(10, 20, batch_first=1))
    _raises(TypeError, "input_size should be of type int, got: float", lambda: nn.RNN(10.0, 20))
    _raises(ValueError, "input_size must be greater than zero", lambda: nn.RNN(0, 20))
    _raises(ValueError, "hidden_size must be greater than zero", lambda: nn.GRU(10, 0))
    _raises(ValueError, "num_layers must be greater than zero", lambda: nn.RNN(10, 20, 0))
    _raises(ValueError, "proj_size has to be smaller than hidden_size", lambda: nn.LSTM(10, 20, proj_size=20))
    _raises(ValueError, "proj_size should be a positive integer or zero to disable projections",
            lambda: nn.LSTM(10, 20, proj_size=-1))


def test_forward_errors():
    rnn, lstm, gru = nn.RNN(10, 20), nn.LSTM(10, 20), nn.GRU(10, 20)
    r = bibun.randn
    _raises(RuntimeError, "input.size(-1) must be equal to input_size. Expected 10, got 5", lambda: rnn(r(3, 2, 5)))
    _raises(RuntimeError, "input.size(-1) must be equal to input_size. Expected 10, got 5", lambda: lstm(r(3, 2, 5)))
    _raises(RuntimeError, "input.size(-1) must be equal to input_size. Expected 10, got 5", lambda: gru(r(3, 5)))
    _raises(RuntimeError, "Expected hidden size (1, 2, 20), got [1, 3, 20]", lambda: rnn(r(3, 2, 10), r(1, 3, 20)))
    _raises(RuntimeError, "Expected hidden size (1, 1, 20), got [2, 1, 20]", lambda: gru(r(3, 10), r(2, 20)))
    _raises(RuntimeError, "For batched 3-D input, hx should also be 3-D but got 2-D tensor",
            lambda: rnn(r(3, 2, 10), r(2, 20)))
    _raises(RuntimeError, "For unbatched 2-D input, hx should also be 2-D but got 3-D tensor",
            lambda: gru(r(3, 10), r(1, 1, 20)))
    _raises(ValueError, "RNN: Expected input to be 2D or 3D, got 1D tensor instead", lambda: rnn(r(10)))
    _raises(ValueError, "LSTM: Expected input to be 2D or 3D, got 1D instead", lambda: lstm(r(10)))
    _raises(ValueError, "GRU: Expected input to be 2D or 3D, got 4D instead", lambda: gru(r(1, 1, 1, 10)))
    _raises(ValueError, "RNN input dtype (bibun.float64) does not match weight dtype (bibun.float32). Convert "
                        "input: input.to(bibun.float32), or convert model: model.to(bibun.float64)",
            lambda: rnn(r(3, 2, 10, dtype=bibun.float64)))
    _raises(RuntimeError, "Expected hidden[0] size (1, 2, 20), got [1, 3, 20]",
            lambda: lstm(r(3, 2, 10), (r(1, 3, 20), r(1, 2, 20))))
    _raises(RuntimeError, "Expected hidden[1] size (1, 2, 20), got [1, 2, 21]",
            lambda: lstm(r(3, 2, 10), (r(1, 2, 20), r(1, 2, 21))))
    _raises(RuntimeError, "For batched 3-D input, hx and cx should also be 3-D but got (2-D, 3-D) tensors",
            lambda: lstm(r(3, 2, 10), (r(2, 20), r(1, 2, 21))))
    _raises(RuntimeError, "For unbatched 2-D input, hx and cx should also be 2-D but got (3-D, 3-D) tensors",
            lambda: lstm(r(3, 10), (r(1, 1, 20), r(1, 2, 21))))
    _raises(RuntimeError, "Expected hidden[0] size (1, 2, 3), got [1, 2, 20]",
            lambda: nn.LSTM(10, 20, proj_size=3)(r(3, 2, 10), (r(1, 2, 20), r(1, 2, 20))))


def test_cell_errors():
    r = bibun.randn
    cell, lstm, gru = nn.RNNCell(10, 20), nn.LSTMCell(10, 20), nn.GRUCell(10, 20)
    _raises(RuntimeError, "input has inconsistent input_size: got 5 expected 10", lambda: cell(r(3, 5)))
    _raises(RuntimeError, "input has inconsistent input_size: got 5 expected 10", lambda: lstm(r(3, 5)))
    _raises(RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 2", lambda: cell(r(3, 10), r(2, 20)))
    _raises(RuntimeError, "hidden0 has inconsistent hidden_size: got 19, expected 20",
            lambda: cell(r(3, 10), r(3, 19)))
    _raises(RuntimeError, "hidden0 has inconsistent hidden_size: got 3, expected 20", lambda: cell(r(10), r(3, 20)))
    _raises(RuntimeError, "Input batch size 3 doesn't match hidden0 batch size 20", lambda: cell(r(3, 10), r(20)))
    _raises(ValueError, "RNNCell: Expected input to be 1D or 2D, got 3D instead", lambda: cell(r(3, 10, 1)))
    _raises(ValueError, "RNNCell: Expected hidden to be 1D or 2D, got 3D instead",
            lambda: cell(r(3, 10), r(3, 20, 1)))
    _raises(RuntimeError, "Input batch size 3 doesn't match hidden1 batch size 2",
            lambda: lstm(r(3, 10), (r(3, 20), r(2, 20))))
    _raises(RuntimeError, "hidden1 has inconsistent hidden_size: got 21, expected 20",
            lambda: lstm(r(3, 10), (r(3, 20), r(3, 21))))
    _raises(ValueError, "LSTMCell: Expected hx[1] to be 1D or 2D, got 3D instead",
            lambda: lstm(r(3, 10), (r(3, 20), r(3, 20, 1))))
    _raises(RuntimeError, "hidden0 has inconsistent hidden_size: got 21, expected 20",
            lambda: gru(r(3, 10), r(3, 21)))
    _raises(ValueError, "GRUCell: Expected input to be 1D or 2D, got 3D instead", lambda: gru(r(3, 10, 2)))


# ---------------------------------------------------------------------- reprs
def test_reprs():
    assert repr(nn.LSTM(10, 20, num_layers=2, batch_first=True)) == "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.RNN(10, 20, nonlinearity="relu", bias=False, dropout=0.5, num_layers=2, bidirectional=True)) == \
        "RNN(10, 20, num_layers=2, bias=False, dropout=0.5, bidirectional=True)"
    assert repr(nn.LSTM(3, 4, proj_size=2)) == "LSTM(3, 4, proj_size=2)"
    assert repr(nn.GRU(3, 4)) == "GRU(3, 4)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu", bias=False)) == "RNNCell(3, 4, bias=False, nonlinearity=relu)"
    assert repr(nn.LSTMCell(3, 4)) == "LSTMCell(3, 4)"
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
    rnn = nn.RNN(3, 4, 2, "relu", False)
    assert (rnn.nonlinearity, rnn.mode, rnn.bias) == ("relu", "RNN_RELU", False)
    assert nn.RNN(3, 4, num_layers=2, dropout=1).dropout == 1.0


# ---------------------------------------------------------------------- PyTorch parity
def _copy_from_torch(bm, tm):
    sd = tm.state_dict()
    assert list(bm.state_dict()) == list(sd)
    with bibun.no_grad():
        for name, p in bm.named_parameters():
            p.copy_(bibun.tensor(sd[name].detach().cpu().numpy()))


PARITY = [("RNN", {}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}), ("RNN", {"bidirectional": True}),
          ("LSTM", {}), ("LSTM", {"num_layers": 2, "bidirectional": True, "batch_first": True}),
          ("LSTM", {"bias": False, "num_layers": 3}), ("LSTM", {"proj_size": 2, "bidirectional": True,
                                                              "num_layers": 2}),
          ("GRU", {}), ("GRU", {"num_layers": 2, "bidirectional": True}),
          ("GRU", {"bias": False, "batch_first": True})]


@pytest.mark.parametrize("cls,kw", PARITY)
@pytest.mark.parametrize("batched", [True, False])
def test_parity_outputs_and_grads(torch, cls, kw, batched):
    tm = getattr(torch.nn, cls)(3, 4, **kw).double()
    bm = getattr(nn, cls)(3, 4, **kw, dtype=bibun.float64)
    _copy_from_torch(bm, tm)
    d = 2 if kw.get("bidirectional") else 1
    layers = kw.get("num_layers", 1)
    shape = ((2, 5, 3) if kw.get("batch_first") else (5, 2, 3)) if batched else (5, 3)
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    hshape = (layers * d, 2, kw.get("proj_size") or 4) if batched else (layers * d, kw.get("proj_size") or 4)
    h0 = torch.randn(*hshape, dtype=torch.float64, requires_grad=True)
    t_hx = h0
    leaves_t = [x, h0]
    if cls == "LSTM":
        c0 = torch.randn(*(hshape[:-1] + (4,)), dtype=torch.float64, requires_grad=True)
        t_hx = (h0, c0)
        leaves_t.append(c0)
    leaves_b = [bibun.tensor(t.detach().cpu().numpy(), requires_grad=True) for t in leaves_t]
    b_hx = tuple(leaves_b[1:]) if cls == "LSTM" else leaves_b[1]
    t_out, t_state = tm(x, t_hx)
    b_out, b_state = bm(leaves_b[0], b_hx)
    t_states, b_states = _state(t_state), _state(b_state)
    np.testing.assert_allclose(_np(b_out), t_out.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
    for bs, ts in zip(b_states, t_states):
        assert tuple(bs.shape) == tuple(ts.shape)
        np.testing.assert_allclose(_np(bs), ts.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
    # a loss that weighs every output and state element differently
    t_w = [torch.linspace(-1, 2, o.numel(), dtype=torch.float64).reshape(o.shape) for o in (t_out, *t_states)]
    b_w = [bibun.tensor(w.cpu().numpy()) for w in t_w]
    sum(((o * w).sum() for o, w in zip((t_out, *t_states), t_w))).backward()
    sum(((o * w).sum() for o, w in zip((b_out, *b_states), b_w))).backward()
    for name, p in bm.named_parameters():
        np.testing.assert_allclose(_np(p.grad), getattr(tm, name).grad.cpu().numpy(), rtol=1e-11, atol=1e-13,
                                   err_msg=name)
    for bl, tl in zip(leaves_b, leaves_t):
        np.testing.assert_allclose(_np(bl.grad), tl.grad.cpu().numpy(), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("cls,kw", [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
                                    ("GRUCell", {}), ("GRUCell", {"bias": False})])
@pytest.mark.parametrize("batched", [True, False])
def test_parity_cells(torch, cls, kw, batched):
    tm = getattr(torch.nn, cls)(3, 4, **kw).double()
    bm = getattr(nn, cls)(3, 4, **kw, dtype=bibun.float64)
    _copy_from_torch(bm, tm)
    lead = (2,) if batched else ()
    x = torch.randn(*lead, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(*lead, 4, dtype=torch.float64)
    xb, hb = bibun.tensor(x.detach().cpu().numpy(), requires_grad=True), bibun.tensor(h.cpu().numpy())
    t_hx, b_hx = ((h, h * 0.5), (hb, hb * 0.5)) if cls == "LSTMCell" else (h, hb)
    for t_args, b_args in (((x,), (xb,)), ((x, t_hx), (xb, b_hx))):
        t_out, b_out = _state(tm(*t_args)), _state(bm(*b_args))
        for bo, to in zip(b_out, t_out):
            np.testing.assert_allclose(_np(bo), to.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
        sum(o.sum() * (i + 1) for i, o in enumerate(t_out)).backward()
        sum(o.sum() * (i + 1) for i, o in enumerate(b_out)).backward()
    for name, p in bm.named_parameters():
        np.testing.assert_allclose(_np(p.grad), getattr(tm, name).grad.cpu().numpy(), rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(_np(xb.grad), x.grad.cpu().numpy(), rtol=1e-11, atol=1e-13)


def test_parity_float32_lstm(torch):
    tm, bm = torch.nn.LSTM(8, 16, num_layers=2), nn.LSTM(8, 16, num_layers=2)
    _copy_from_torch(bm, tm)
    x = torch.randn(10, 3, 8)
    t_out, (t_h, t_c) = tm(x)
    b_out, (b_h, b_c) = bm(bibun.tensor(x.cpu().numpy()))
    assert b_out.dtype is bibun.float32
    np.testing.assert_allclose(_np(b_out), t_out.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(b_c), t_c.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls,kw", [("RNN", {"num_layers": 2, "bidirectional": True}),
                                    ("LSTM", {"proj_size": 3, "num_layers": 2}), ("GRU", {"bias": False}),
                                    ("RNNCell", {}), ("LSTMCell", {}), ("GRUCell", {})])
def test_parity_init_after_manual_seed(torch, cls, kw):
    torch.manual_seed(123)
    tm = getattr(torch.nn, cls)(5, 7, **kw)
    bibun.manual_seed(123)
    bm = getattr(nn, cls)(5, 7, **kw)
    for name, p in bm.named_parameters():
        np.testing.assert_array_equal(_np(p), getattr(tm, name).detach().cpu().numpy(), err_msg=name)


def test_parity_dropout_stream(torch):
    """Inter-layer dropout draws PyTorch's mask after the same seed."""
    tm = torch.nn.GRU(3, 4, num_layers=3, dropout=0.4).double()
    bm = nn.GRU(3, 4, num_layers=3, dropout=0.4, dtype=bibun.float64)
    _copy_from_torch(bm, tm)
    x = torch.randn(6, 5, 3, dtype=torch.float64)
    torch.manual_seed(5)
    t_out, t_h = tm(x)
    bibun.manual_seed(5)
    b_out, b_h = bm(bibun.tensor(x.cpu().numpy()))
    np.testing.assert_allclose(_np(b_out), t_out.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(b_h), t_h.detach().cpu().numpy(), rtol=1e-12, atol=1e-14)
