"""Convolution, pooling and padding: shapes, hand-computed values, gradients of first and second
order, errors, layers (reprs and default init), and, with the ``torch`` fixture, PyTorch itself.

Every value checked without PyTorch is worked out by hand in the test (windows summed or
maxed by eye). ``GRADCHECK_CASES`` reaches every op of the three families, including the ops
their gradients are made of; tests/test_op_coverage.py walks it too.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from test_ops_gradcheck import ANY, check_case

import bibun
import bibun.nn.functional as F
from bibun import nn


def _same_even(x, w):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the asymmetric 'same' padding warns, as in PyTorch
        return F.conv2d(x, w, padding="same")


# (id, fn, input shapes, kind): inputs from test_ops_gradcheck._inputs
GRADCHECK_CASES = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)], ANY),
    ("conv2d_groups_dilation", lambda x, w: F.conv2d(x, w, None, (1, 2), (2, 1), (2, 1), 2),
     [(1, 4, 6, 5), (4, 2, 2, 3)], ANY),
    ("conv2d_same_even", _same_even, [(1, 2, 4, 5), (3, 2, 2, 3)], ANY),
    ("conv2d_unbatched", lambda x, w, b: F.conv2d(x, w, b, padding=(0, 1)), [(2, 4, 3), (3, 2, 2, 2), (3,)], ANY),
    ("conv1d", lambda x, w, b: F.conv1d(x, w, b, stride=2, padding=1, dilation=2), [(2, 2, 7), (3, 2, 3), (3,)],
     ANY),
    ("conv3d", lambda x, w: F.conv3d(x, w, padding=(1, 0, 1), stride=(2, 1, 1)), [(1, 2, 3, 3, 3), (2, 2, 2, 2, 2)],
     ANY),
    ("conv_relu_pool", lambda x, w: F.max_pool2d(F.conv2d(x, w, padding=1).tanh(), 2), [(1, 2, 4, 4), (3, 2, 3, 3)],
     ANY),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2), [(2, 2, 4, 4)], ANY),
    ("max_pool2d_overlap_ceil", lambda x: F.max_pool2d(x, 3, stride=2, padding=1, ceil_mode=True), [(1, 2, 6, 5)],
     ANY),
    # windows wider than a row: flat indices of the padding alias positions of the row above
    ("max_pool2d_narrow_rows", lambda x: F.max_pool2d(x, 3, stride=1, padding=1), [(1, 2, 3, 2)], ANY),
    ("max_pool2d_dilation_unbatched", lambda x: F.max_pool2d(x, (2, 3), stride=1, dilation=(2, 1)), [(2, 5, 5)], ANY),
    ("max_pool1d", lambda x: F.max_pool1d(x, 3, stride=2, padding=1), [(2, 3, 7)], ANY),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     [(1, 2, 6, 5)], ANY),
    ("avg_pool2d_override", lambda x: F.avg_pool2d(x, 2, divisor_override=3), [(2, 4, 4)], ANY),
    ("avg_pool1d", lambda x: F.avg_pool1d(x, 2, stride=1, padding=1), [(2, 2, 5)], ANY),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(2, 2, 5, 7)], ANY),
    ("adaptive_avg_pool2d_mean", lambda x: F.adaptive_avg_pool2d(x, 1), [(2, 3, 3)], ANY),
    ("adaptive_avg_pool1d", lambda x: F.adaptive_avg_pool1d(x, 4), [(2, 7)], ANY),
    ("pad_constant", lambda x: F.pad(x, (1, 2, -1, 1), value=0.5), [(2, 3, 4)], ANY),
    ("pad_reflect1d", lambda x: F.pad(x, (2, 1), mode="reflect"), [(2, 3, 4)], ANY),
    ("pad_reflect2d", lambda x: F.pad(x, (1, 2, 2, -1), mode="reflect"), [(1, 2, 3, 4)], ANY),
    ("pad_reflect3d", lambda x: F.pad(x, (1, 0, 1, 1, 0, 2), mode="reflect"), [(2, 3, 3, 2)], ANY),
    ("pad_replicate1d", lambda x: F.pad(x, (3, 1), mode="replicate"), [(3, 2)], ANY),
    ("pad_replicate2d", lambda x: F.pad(x, (1, 2, -1, 3), mode="replicate"), [(1, 2, 3, 3)], ANY),
    ("pad_replicate3d", lambda x: F.pad(x, (1, 1, 0, 2, 2, 1), mode="replicate"), [(1, 1, 2, 2, 3)], ANY),
    ("pad_circular", lambda x: F.pad(x, (2, 1, 1, -1), mode="circular"), [(1, 2, 3, 4)], ANY),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck_and_gradgradcheck(case, device):
    check_case(case, device)


def _t(values, device, dtype=None):
    return bibun.tensor(values, dtype=dtype or bibun.float64, device=device)


def _grid3(device):
    """[[1, 9, 2], [8, 3, 7], [4, 6, 5]] as a (1, 3, 3) float64 tensor: distinct values, easy to pool by eye."""
    return _t([[[1.0, 9.0, 2.0], [8.0, 3.0, 7.0], [4.0, 6.0, 5.0]]], device)


# ====================================================================== convolution: shapes and values
@pytest.mark.parametrize("stride,padding,dilation,groups", list(itertools.product((1, 2, 3), (0, 1, 2), (1, 2),
                                                                                    (1, 2))))
def test_conv2d_output_shape_grid(stride, padding, dilation, groups, device):
    x = bibun.zeros(2, 4, 9, 8, device=device)
    w = bibun.zeros(6, 4 // groups, 3, 2, device=device)
    y = F.conv2d(x, w, None, stride, padding, dilation, groups)
    h = (9 + 2 * padding - dilation * 2 - 1) // stride + 1
    wd = (8 + 2 * padding - dilation * 1 - 1) // stride + 1
    assert tuple(y.shape) == (2, 6, h, wd)


def test_conv2d_hand_computed(device):
    x = bibun.arange(16.0, device=device).reshape(1, 1, 4, 4).requires_grad_()
    w = bibun.ones(1, 1, 2, 2, device=device, requires_grad=True)
    b = bibun.ones(1, device=device, requires_grad=True)
    y = F.conv2d(x, w, b)
    # each output is its 2x2 window's sum, 4 * (4i + j) + 10, plus the bias
    assert y.tolist() == [[[[11.0, 15.0, 19.0], [27.0, 31.0, 35.0], [43.0, 47.0, 51.0]]]]
    assert type(y.grad_fn).__name__ == "ConvolutionBackward0"
    y.sum().backward()
    # d/dx: how many windows cover each position; d/dw[a, b]: the sum of x[a:a+3, b:b+3]
    assert x.grad.tolist() == [[[[1.0, 2.0, 2.0, 1.0], [2.0, 4.0, 4.0, 2.0], [2.0, 4.0, 4.0, 2.0],
                                 [1.0, 2.0, 2.0, 1.0]]]]
    assert w.grad.tolist() == [[[[45.0, 54.0], [81.0, 90.0]]]]
    assert b.grad.tolist() == [9.0]


def test_conv2d_stride_padding_hand_computed(device):
    x = bibun.arange(9.0, device=device).reshape(1, 1, 3, 3)
    w = _t([[[[1.0, 2.0], [3.0, 4.0]]]], device, bibun.float32)
    # padded 5x5 input, windows at (0,0) (0,2) (2,0) (2,2): 0, 3*1+4*2, 2*3+4*6, 4+2*5+3*7+4*8
    assert F.conv2d(x, w, stride=2, padding=1).tolist() == [[[[0.0, 11.0], [30.0, 67.0]]]]


def test_conv1d_groups_dilation_hand_computed(device):
    x = _t([[1.0, 2.0, 3.0, 4.0, 5.0], [10.0, 20.0, 30.0, 40.0, 50.0]], device)  # unbatched (C=2, L=5)
    w = _t([[[1.0, -1.0]], [[2.0, 1.0]]], device).requires_grad_()
    y = F.conv1d(x, w, dilation=2, groups=2)
    # channel 0: x[j] - x[j+2]; channel 1: 2 x[j] + x[j+2]
    assert y.tolist() == [[-2.0, -2.0, -2.0], [50.0, 80.0, 110.0]]
    assert type(y.grad_fn).__name__ == "SqueezeBackward1"  # unbatched: unsqueeze, convolve, squeeze


def test_conv2d_padding_same_and_valid(device):
    x = bibun.ones(1, 1, 5, 6, device=device)
    assert tuple(F.conv2d(x, bibun.ones(1, 1, 3, 3, device=device), padding="same").shape) == (1, 1, 5, 6)
    assert tuple(F.conv2d(x, bibun.ones(1, 1, 3, 3, device=device), padding="valid").shape) == (1, 1, 3, 4)
    with pytest.warns(UserWarning, match="even kernel lengths"):
        y = F.conv2d(x, bibun.ones(1, 1, 2, 2, device=device), padding="same")
    # the extra zero goes right/below: the last row and column see only part of the input
    assert tuple(y.shape) == (1, 1, 5, 6)
    assert y[0, 0, 0].tolist() == [4.0] * 5 + [2.0]
    assert y[0, 0, :, 0].tolist() == [4.0] * 4 + [2.0]


def test_conv_bias_none_edge_and_double_backward_nodes(device):
    x = bibun.randn(1, 2, 4, 4, dtype=bibun.float64, device=device, requires_grad=True)
    w = bibun.randn(3, 2, 3, 3, dtype=bibun.float64, device=device, requires_grad=True)
    y = F.conv2d(x, w)
    edges = y.grad_fn.next_functions
    assert len(edges) == 3 and edges[2] == (None, 0)
    assert all(type(e[0]).__name__ == "AccumulateGrad" for e in edges[:2])
    gx, gw = bibun.autograd.grad((y * y).sum(), (x, w), create_graph=True)
    assert type(gx.grad_fn).__name__ == "ConvolutionBackwardBackward0"
    assert type(gw.grad_fn).__name__ == "ConvolutionBackwardBackward0"


def test_conv_float32_default_and_no_grad(device):
    x = bibun.randn(2, 3, 6, 6, device=device)
    w = bibun.randn(4, 3, 3, 3, device=device, requires_grad=True)
    y = F.conv2d(x, w)
    assert y.dtype is bibun.float32 and y.requires_grad
    with bibun.no_grad():
        z = F.conv2d(x, w)
    assert z.grad_fn is None and not z.requires_grad
    np.testing.assert_allclose(z.cpu().numpy(), y.detach().cpu().numpy())


def test_conv_empty_batch(device):
    y = F.conv2d(bibun.zeros(0, 2, 5, 5, device=device), bibun.zeros(3, 2, 3, 3, device=device))
    assert tuple(y.shape) == (0, 3, 3, 3)


def test_conv_matches_a_direct_sum(device):
    """A strided, dilated, grouped conv against the definition, written as a plain loop over outputs."""
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    s, p, d, g = (2, 1), (1, 2), (1, 2), 2
    y = F.conv2d(_t(x, device), _t(w, device), _t(b, device), s, p, d, g).cpu().numpy()
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    want = np.zeros_like(y)
    for n, o, i, j in itertools.product(*(range(k) for k in y.shape)):
        cin = slice(o // 3 * 2, o // 3 * 2 + 2)
        patch = xp[n, cin, i * s[0]:i * s[0] + d[0] * 2 + 1:d[0], j * s[1]:j * s[1] + d[1] + 1:d[1]]
        want[n, o, i, j] = (patch * w[o]).sum() + b[o]
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


# ====================================================================== convolution: errors
def _raises(exc, message, fn):
    with pytest.raises(exc) as info:
        fn()
    assert str(info.value) == message


def _in_bibun(fn):
    """An error case is ``fn(lib, F)``: run it with bibun here, and with PyTorch in the parity test."""
    return lambda: fn(bibun, F)


CONV_ERRORS = [
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 3, 3, 3)),
     "Given groups=1, weight of size [5, 3, 3, 3], expected input[2, 4, 6, 6] to have 3 channels, but got 4 "
     "channels instead"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(6, 2, 3, 3), groups=3),
     "Given groups=3, weight of size [6, 2, 3, 3], expected input[2, 4, 6, 6] to have 6 channels, but got 4 "
     "channels instead"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), groups=2),
     "Given groups=2, expected weight to be divisible by 2 at dimension 0, but got weight of size [[5, 4, 3, 3]] "
     "instead"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 7, 3)),
     "Calculated padded input size per channel: (6 x 6). Kernel size: (7 x 3). Kernel size can't be greater than "
     "actual input size"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), dilation=3),
     "Calculated padded input size per channel: (6 x 6). Kernel size: (7 x 7). Kernel size can't be greater than "
     "actual input size"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), lib.zeros(4)),
     "Given weight of size [5, 4, 3, 3], expected bias to be 1-dimensional with 5 elements, but got bias of size "
     "[4] instead"),
    (lambda lib, F: F.conv2d(lib.zeros(6, 6), lib.zeros(5, 4, 3, 3)),
     "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [6, 6]"),
    (lambda lib, F: F.conv1d(lib.zeros(2, 4, 6), lib.zeros(5, 4, 3, 3)),
     "Expected 4-dimensional input for 4-dimensional weight [5, 4, 3, 3], but got 3-dimensional input of size "
     "[2, 4, 6] instead"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), stride=(1, 2, 3)),
     "expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but "
     "got stride=[1, 2, 3]"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), stride=0),
     "non-positive stride is not supported"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), padding=-1),
     "negative padding is not supported"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), dilation=0),
     "non-positive dilation is not supported"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), groups=0),
     "non-positive groups is not supported"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), padding="same", stride=2),
     "padding='same' is not supported for strided convolutions"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), padding="foo"),
     "Invalid padding string: 'foo'"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6, dtype=lib.float64), lib.zeros(5, 4, 3, 3)),
     "expected scalar type Double but found Float"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3, dtype=lib.float64)),
     "Input type (bibun.FloatTensor) and weight type (bibun.DoubleTensor) should be the same or input should be a "
     "MKLDNN tensor and weight is a dense tensor"),
    (lambda lib, F: F.conv2d(lib.zeros(2, 4, 6, 6), lib.zeros(5, 4, 3, 3), lib.zeros(5, dtype=lib.float64)),
     "Input type (float) and bias type (double) should be the same"),
]


@pytest.mark.parametrize("i", range(len(CONV_ERRORS)))
def test_conv_errors(i):
    fn, message = CONV_ERRORS[i]
    _raises(RuntimeError, message, _in_bibun(fn))


# ====================================================================== pooling: values
def test_max_pool2d_hand_computed(device):
    x = _grid3(device)
    out, idx = F.max_pool2d(x, 2, padding=1, return_indices=True)
    assert out.tolist() == [[[1.0, 9.0], [8.0, 7.0]]] and idx.tolist() == [[[0, 1], [3, 5]]]
    assert idx.dtype is bibun.int64
    out, idx = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    assert out.tolist() == [[[9.0, 7.0], [6.0, 5.0]]] and idx.tolist() == [[[1, 5], [7, 8]]]
    x.requires_grad_()
    y = F.max_pool2d(x, 2, stride=1)  # overlapping windows: 9 wins twice
    assert y.tolist() == [[[9.0, 9.0], [8.0, 7.0]]]
    assert type(y.grad_fn).__name__ == "MaxPool2DWithIndicesBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [[[0.0, 2.0, 0.0], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]]]


def test_max_pool2d_ties_nan_and_infinities(device):
    x = _t([[[[1.0, 1.0], [1.0, 1.0]]]], device)
    assert F.max_pool2d(x, 2, return_indices=True)[1].tolist() == [[[[0]]]]  # the first of equal values
    nan, inf = float("nan"), float("inf")
    x = _t([[[[1.0, nan, 2.0, nan], [-inf, -inf, 0.0, 1.0], [-inf, -inf, 3.0, 4.0]]]], device)
    out, idx = F.max_pool2d(x, 2, padding=1, return_indices=True)
    # a NaN wins its window; a window of -inf (and padding) points at its first position inside the input
    assert idx.tolist() == [[[[0, 1, 3], [4, 10, 11]]]]
    assert math.isnan(out[0, 0, 0, 1].item()) and out[0, 0, 1, 0].item() == -inf


def test_max_pool1d_is_2d_on_an_inserted_dim(device):
    x = _t([[3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0]], device).requires_grad_()
    out, idx = F.max_pool1d(x, 3, stride=2, padding=1, return_indices=True)
    assert out.tolist() == [[3.0, 4.0, 9.0, 9.0]] and idx.tolist() == [[0, 2, 5, 5]]
    assert type(out.grad_fn).__name__ == "SqueezeBackward1"


def test_avg_pool2d_hand_computed(device):
    x = _grid3(device)
    assert F.avg_pool2d(x, 2, padding=1).tolist() == [[[0.25, 2.75], [3.0, 5.25]]]
    assert F.avg_pool2d(x, 2, padding=1, count_include_pad=False).tolist() == [[[1.0, 5.5], [6.0, 5.25]]]
    # ceil mode: windows hanging over the edge count only what they cover
    assert F.avg_pool2d(x, 2, ceil_mode=True).tolist() == [[[5.25, 4.5], [5.0, 5.0]]]
    assert F.avg_pool2d(x, 2, ceil_mode=True, divisor_override=2).tolist() == [[[10.5, 4.5], [5.0, 2.5]]]
    x.requires_grad_()
    y = F.avg_pool2d(x, 2, stride=1)
    assert type(y.grad_fn).__name__ == "AvgPool2DBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]]


def test_avg_pool_integer_input_truncates(device):
    x = bibun.tensor([[[[-3, 5], [2, 1]]], [[[-3, 1], [-1, 1]]]], device=device)
    assert F.avg_pool2d(x, 2).tolist() == [[[[1]]], [[[0]]]]  # 5/4 and -2/4, toward zero


def test_avg_pool1d_values(device):
    x = _t([[1.0, 2.0, 3.0, 4.0, 6.0]], device)
    assert F.avg_pool1d(x, 2).tolist() == [[1.5, 3.5]]
    assert F.avg_pool1d(x, 2, stride=1, padding=1, count_include_pad=False).tolist() == [[1.0, 1.5, 2.5, 3.5, 5.0,
                                                                                          6.0]]


def test_adaptive_avg_pool_windows(device):
    x = _t([[[0.0, 1.0, 2.0, 3.0, 4.0]]], device)
    # windows [floor(5i/3), ceil(5(i+1)/3)): [0, 2), [1, 4), [3, 5)
    assert F.adaptive_avg_pool2d(x, (1, 3)).tolist() == [[[0.5, 2.0, 3.5]]]
    assert F.adaptive_avg_pool1d(x[0], 3).tolist() == [[0.5, 2.0, 3.5]]
    x = bibun.arange(24.0, device=device).reshape(2, 3, 4).requires_grad_()
    y = F.adaptive_avg_pool2d(x, (3, 2))
    assert type(y.grad_fn).__name__ == "AdaptiveAvgPool2DBackward0"
    np.testing.assert_allclose(y.detach().cpu().numpy(), x.detach().cpu().numpy().reshape(2, 3, 2, 2).mean(-1))
    m = F.adaptive_avg_pool2d(x, (1, 1))
    assert type(m.grad_fn).__name__ == "MeanBackward1" and m.tolist() == [[[5.5]], [[17.5]]]
    assert tuple(F.adaptive_avg_pool2d(x, (None, 3)).shape) == (2, 3, 3)
    assert tuple(F.adaptive_avg_pool2d(x, 0).shape) == (2, 0, 0)


def test_pooling_second_order_nodes(device):
    x = bibun.randn(1, 1, 4, 4, dtype=bibun.float64, device=device, requires_grad=True)
    for fn, name in ((lambda t: F.max_pool2d(t, 2), "MaxPool2DWithIndicesBackwardBackward0"),
                     (lambda t: F.avg_pool2d(t, 2), "AvgPool2DBackwardBackward0"),
                     (lambda t: F.adaptive_avg_pool2d(t, 3), "AdaptiveAvgPool2DBackwardBackward0"),
                     (lambda t: F.pad(t, (1, 1, 1, 1), mode="reflect"), "ReflectionPad2DBackwardBackward0"),
                     (lambda t: F.pad(t, (1, 1, 2, 0), mode="replicate"), "ReplicationPad2DBackwardBackward0")):
        y = fn(x)
        (g,) = bibun.autograd.grad(y, x, bibun.ones_like(y, requires_grad=True), create_graph=True)
        assert type(g.grad_fn).__name__ == name


POOL_ERRORS = [
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 3, padding=2),
     "pad should be at most half of effective kernel size, but got pad=2, kernel_size=3 and dilation=1"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 0), "stride should not be zero"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), (0, 2), stride=1),
     "kernel size should be greater than zero, but got kH: 0 kW: 2"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 2, stride=-1),
     "stride should be greater than zero, but got dH: -1 dW: -1"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 2, padding=-1), "pad must be non-negative, but got pad: -1"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 2, dilation=(1, 0)),
     "dilation should be greater than zero, but got dilationH: 1 dilationW: 0"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), 9),
     "Given input size: (3x7x7). Calculated output size: (3x0x0). Output size is too small"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 3, 7, 7), (2, 2, 2)),
     "max_pool2d: kernel_size must either be a single int, or a tuple of two ints"),
    (lambda lib, F: F.max_pool2d(lib.zeros(7, 7), 2), "non-empty 3D or 4D (batch mode) tensor expected for input"),
    (lambda lib, F: F.max_pool2d(lib.zeros(2, 0, 7, 7), 2),
     "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[2, 0, 7, 7]"),
    (lambda lib, F: F.avg_pool2d(lib.zeros(2, 3, 7, 7), 2, divisor_override=0), "divisor must be not zero"),
    (lambda lib, F: F.avg_pool2d(lib.zeros(2, 3, 7, 7), 2, stride=(1, 2, 3)),
     "avg_pool2d: stride must either be omitted, a single int, or a tuple of two ints"),
    (lambda lib, F: F.adaptive_avg_pool2d(lib.zeros(2, 3, 7, 7), (2, 2, 2)),
     "adaptive_avg_pool2d: output_size must be 2"),
    (lambda lib, F: F.adaptive_avg_pool2d(lib.zeros(7, 7), 2),
     "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [7, 7]"),
    (lambda lib, F: F.max_pool1d(lib.zeros(2, 3, 7), 3, padding=2),
     "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=3"),
    (lambda lib, F: F.avg_pool1d(lib.zeros(7), 3),
     "Expected 2 to 3 dimensions, but got 1-dimensional tensor for argument #1 'self' (while checking arguments "
     "for avg_pool1d)"),
]


@pytest.mark.parametrize("i", range(len(POOL_ERRORS)))
def test_pool_errors(i):
    fn, message = POOL_ERRORS[i]
    _raises(RuntimeError, message, _in_bibun(fn))


def test_pool_dtype_errors():
    _raises(NotImplementedError, "\"max_pool2d\" not implemented for 'Bool'",
            lambda: F.max_pool2d(bibun.zeros(1, 2, 2, dtype=bibun.bool), 2))
    _raises(NotImplementedError, "\"adaptive_avg_pool2d\" not implemented for 'Long'",
            lambda: F.adaptive_avg_pool2d(bibun.zeros(1, 2, 2, dtype=bibun.int64), 1))


# ====================================================================== padding
def test_pad_modes_hand_computed(device):
    x = _t([[1.0, 2.0, 3.0]], device)
    assert F.pad(x, (2, 1), value=9.0).tolist() == [[9.0, 9.0, 1.0, 2.0, 3.0, 9.0]]
    assert F.pad(x, (-1, 1)).tolist() == [[2.0, 3.0, 0.0]]
    assert F.pad(x, (1, 2), mode="reflect").tolist() == [[2.0, 1.0, 2.0, 3.0, 2.0, 1.0]]
    assert F.pad(x, (2, 1), mode="replicate").tolist() == [[1.0, 1.0, 1.0, 2.0, 3.0, 3.0]]
    assert F.pad(x, (1, 2), mode="circular").tolist() == [[3.0, 1.0, 2.0, 3.0, 1.0, 2.0]]
    y = F.pad(_t([[1.0, 2.0], [3.0, 4.0]], device).reshape(1, 2, 2), (1, 0, 0, 1), mode="reflect")
    assert y.tolist() == [[[2.0, 1.0, 2.0], [4.0, 3.0, 4.0], [2.0, 1.0, 2.0]]]


def test_pad_gradients_fold_back(device):
    x = _t([[1.0, 2.0, 3.0]], device).requires_grad_()
    F.pad(x, (2, 2), mode="reflect").sum().backward()  # [3 2 | 1 2 3 | 2 1]
    assert x.grad.tolist() == [[2.0, 3.0, 2.0]]
    x.grad = None
    F.pad(x, (2, 1), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[3.0, 1.0, 2.0]]
    x.grad = None
    y = F.pad(x, (-1, 2))
    assert type(y.grad_fn).__name__ == "ConstantPadNdBackward0"
    y.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0]]


def test_pad_node_names(device):
    x = bibun.zeros(1, 2, 3, 4, dtype=bibun.float64, device=device, requires_grad=True)
    assert type(F.pad(x[0], (1, 1), mode="reflect").grad_fn).__name__ == "ReflectionPad1DBackward0"
    assert type(F.pad(x, (1, 1, 1, 1), mode="reflect").grad_fn).__name__ == "ReflectionPad2DBackward0"
    assert type(F.pad(x, (1, 1, 1, 1, 0, 1), mode="replicate").grad_fn).__name__ == "ReplicationPad3DBackward0"


PAD_ERRORS = [
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3), (1,)), "Padding length must be divisible by 2"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3), (1, 1, 1, 1, 1, 1)),
     "Padding length should be less than or equal to two times the input dimension but got padding length 6 and "
     "input of dimension 2"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(5), (-3, -3)), "narrow(): length must be non-negative."),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3, 4, 5), (5, 5, 1, 1), mode="reflect"),
     "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding (5, 5) at "
     "dimension 3 of input [2, 3, 4, 5]"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3, 4, 5), (1, 1, 4, 1), mode="reflect"),
     "Argument #6: Padding size should be less than the corresponding input dimension, but got: padding (4, 1) at "
     "dimension 2 of input [2, 3, 4, 5]"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3, 5), (6, 1), mode="circular"),
     "Padding value causes wrapping around more than once."),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3, 5), (1, 1), mode="reflect", value=1.0),
     "Padding mode \"reflect\" doesn't take in value argument"),
    (NotImplementedError, lambda lib, F: F.pad(lib.zeros(2, 3), (1, 1), mode="foo"), "Unrecognised padding mode foo"),
    (NotImplementedError, lambda lib, F: F.pad(lib.zeros(2, 3, 4, 5), (1, 1), mode="reflect"),
     "Padding size 2 is not supported for 4D input tensor.\nSupported combinations for non-constant padding:\n"
     "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
     "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
     "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 0, 5), (1, 1), mode="replicate"),
     "Expected 2D or 3D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
     "but got: [2, 0, 5]"),
    (RuntimeError, lambda lib, F: F.pad(lib.zeros(2, 3, 5), (-3, -3), mode="replicate"),
     "input (W: 5) is too small. Calculated output W: -1"),
]


@pytest.mark.parametrize("i", range(len(PAD_ERRORS)))
def test_pad_errors(i):
    exc, fn, message = PAD_ERRORS[i]
    _raises(exc, message, _in_bibun(fn))


# ====================================================================== layers
def test_module_reprs():
    assert repr(nn.Conv2d(1, 8, 3, padding=1)) == "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(1, 8, (3, 2), stride=2, dilation=2, bias=False, padding_mode="reflect")) == (
        "Conv2d(1, 8, kernel_size=(3, 2), stride=(2, 2), dilation=(2, 2), bias=False, padding_mode=reflect)")
    assert repr(nn.Conv2d(4, 8, 3, padding="same", groups=2)) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2)")
    assert repr(nn.Conv1d(4, 8, 3, padding="valid")) == "Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=valid)"
    assert repr(nn.Conv3d(2, 4, 3)) == "Conv3d(2, 4, kernel_size=(3, 3, 3), stride=(1, 1, 1))"
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.MaxPool2d((2, 3), stride=1, padding=1, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=(2, 3), stride=1, padding=1, dilation=1, ceil_mode=True)")
    assert repr(nn.MaxPool1d(3)) == "MaxPool1d(kernel_size=3, stride=3, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.AdaptiveAvgPool1d(3)) == "AdaptiveAvgPool1d(output_size=3)"


def test_conv_module_parameters_and_errors():
    c = nn.Conv2d(4, 6, (3, 2), groups=2)
    assert tuple(c.weight.shape) == (6, 2, 3, 2) and tuple(c.bias.shape) == (6,)
    assert [n for n, _ in c.named_parameters()] == ["weight", "bias"]
    assert nn.Conv1d(2, 3, 3, bias=False).bias is None
    assert nn.Conv2d(4, 8, (3, 2), padding="same", dilation=(1, 2))._reversed_padding_repeated_twice == [1, 1, 1, 1]
    assert nn.Conv2d(4, 8, 3, padding=(1, 2), padding_mode="circular")._reversed_padding_repeated_twice == (
        2, 2, 1, 1)
    for kwargs, message in (({"groups": 0}, "groups must be a positive integer"),
                            ({"groups": 4}, "in_channels must be divisible by groups"),
                            ({"padding": "foo"}, "Invalid padding string 'foo', should be one of {'same', 'valid'}"),
                            ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided "
                                                                "convolutions")):
        with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
            nn.Conv2d(6, 6, 3, **kwargs)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(4, 8, 3, padding_mode="foo")


def test_conv_default_init_statistics():
    bibun.manual_seed(0)
    c = nn.Conv2d(16, 32, 3)  # fan_in 144: weight and bias U(-1/12, 1/12)
    w, b = c.weight.detach().cpu().numpy(), c.bias.detach().cpu().numpy()
    bound = 1 / 12
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.mean()) < 0.05 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.03 * bound
    assert c.weight.dtype is bibun.float32 and c.weight.requires_grad


def test_modules_forward(device):
    x = bibun.randn(2, 3, 8, 8, device=device)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, device=device), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(4, 5, 3, padding=1, padding_mode="replicate", device=device), nn.AvgPool2d(2),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten())
    y = model(x)
    assert tuple(y.shape) == (2, 5)
    y.sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    out, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert tuple(out.shape) == tuple(idx.shape) == (2, 3, 4, 4)
    assert tuple(nn.Conv1d(3, 2, 2, dtype=bibun.float64, device=device)(bibun.randn(3, 5, dtype=bibun.float64,
                                                                                    device=device)).shape) == (2, 4)
    assert tuple(nn.AvgPool1d(2)(bibun.randn(2, 3, 6, device=device)).shape) == (2, 3, 3)
    assert tuple(nn.MaxPool1d(2)(bibun.randn(2, 3, 6, device=device)).shape) == (2, 3, 3)
    assert tuple(nn.AdaptiveAvgPool1d(2)(bibun.randn(2, 3, 6, device=device)).shape) == (2, 3, 2)


# ====================================================================== parity with PyTorch
def _pair_of(torch, *arrays, grad=True):
    return ([bibun.tensor(a, requires_grad=grad) for a in arrays],
            [torch.tensor(a, requires_grad=grad) for a in arrays])


def _assert_same(b, t, rtol=1e-10, atol=1e-10):
    np.testing.assert_allclose(b.detach().cpu().numpy(), t.detach().cpu().numpy(), rtol=rtol, atol=atol)


CONV_CONFIGS = [
    # (dim, input shape, weight shape, stride, padding, dilation, groups, bias)
    (2, (2, 4, 9, 8), (6, 4, 3, 3), 1, 0, 1, 1, True),
    (2, (2, 4, 9, 8), (6, 2, 3, 2), 2, 1, 1, 2, False),
    (2, (1, 6, 10, 7), (6, 1, 3, 3), (2, 1), (1, 2), (2, 1), 6, True),  # depthwise
    (2, (3, 9, 9), (4, 3, 2, 2), 3, 2, 2, 1, True),  # unbatched
    (2, (2, 3, 7, 7), (4, 3, 4, 2), 1, "same", (1, 2), 1, True),
    (2, (2, 3, 7, 7), (4, 3, 3, 3), 1, "valid", 1, 1, True),
    (2, (2, 2, 5, 5), (3, 2, 1, 1), 1, 0, 1, 1, True),
    (1, (2, 4, 11), (6, 2, 3), 2, 1, 2, 2, True),
    (1, (3, 8), (2, 3, 4), 1, "same", 1, 1, False),
    (3, (1, 2, 4, 5, 4), (3, 2, 2, 3, 2), (1, 2, 1), 1, 1, 1, True),
]


@pytest.mark.parametrize("cfg", CONV_CONFIGS, ids=[str(i) for i in range(len(CONV_CONFIGS))])
def test_conv_parity(cfg, torch):
    dim, xs, ws, stride, padding, dilation, groups, has_bias = cfg
    rng = np.random.default_rng(sum(xs) + sum(ws))
    arrays = [rng.standard_normal(xs), rng.standard_normal(ws)] + ([rng.standard_normal(ws[0])] if has_bias else [])
    (xb, wb, *bb), (xt, wt, *bt) = _pair_of(torch, *arrays)
    fb, ft = getattr(F, f"conv{dim}d"), getattr(torch.nn.functional, f"conv{dim}d")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yb = fb(xb, wb, bb[0] if bb else None, stride, padding, dilation, groups)
        yt = ft(xt, wt, bt[0] if bt else None, stride, padding, dilation, groups)
    _assert_same(yb, yt)
    assert type(yb.grad_fn).__name__ == type(yt.grad_fn).__name__
    g = rng.standard_normal(tuple(yt.shape))
    # second order too: differentiate a function of the first gradients
    gb = bibun.autograd.grad(yb, [xb, wb] + bb, bibun.tensor(g), create_graph=True)
    gt = torch.autograd.grad(yt, [xt, wt] + bt, torch.tensor(g), create_graph=True)
    for a, b in zip(gb, gt):
        _assert_same(a, b)
    sb = (gb[0] ** 2).sum() + (gb[1] * gb[1].detach().sin()).sum()
    st = (gt[0] ** 2).sum() + (gt[1] * gt[1].detach().sin()).sum()
    for a, b in zip(bibun.autograd.grad(sb, [xb, wb]), torch.autograd.grad(st, [xt, wt])):
        _assert_same(a, b)
    # and float32
    yb32 = fb(xb.detach().float(), wb.detach().float(), bb[0].detach().float() if bb else None, stride,
              0 if padding == "same" else padding, dilation, groups)
    yt32 = ft(xt.detach().float(), wt.detach().float(), bt[0].detach().float() if bt else None, stride,
              0 if padding == "same" else padding, dilation, groups)
    assert yb32.dtype is bibun.float32
    _assert_same(yb32, yt32, rtol=1e-4, atol=1e-4)


def _distinct(rng, shape):
    n = int(np.prod(shape))
    return ((rng.permutation(n) - n / 2) * 0.1).reshape(shape)


POOL_CONFIGS = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((2, 3, 7, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ((3, 7, 9), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1)}),
    ((2, 2, 7, 7), {"kernel_size": 3, "stride": 2, "ceil_mode": True}),
    ((1, 2, 5, 5), {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 2, 6, 6), {"kernel_size": 4, "stride": 3, "padding": 2, "ceil_mode": True}),
]


@pytest.mark.parametrize("cfg", POOL_CONFIGS, ids=[str(i) for i in range(len(POOL_CONFIGS))])
def test_pool_parity(cfg, torch):
    shape, kw = cfg
    rng = np.random.default_rng(len(shape) + sum(shape))
    x = _distinct(rng, shape)  # no ties: the max (and its gradient) is unambiguous
    TF = torch.nn.functional  # noqa: N806
    calls = [("max", F.max_pool2d, TF.max_pool2d, dict(kw, dilation=1)),
             ("max_dilated", F.max_pool2d, TF.max_pool2d, dict(kw, dilation=2)),
             ("adaptive", F.adaptive_avg_pool2d, TF.adaptive_avg_pool2d, {"output_size": (3, 4)})]
    calls += [(f"avg_{cip}_{dov}", F.avg_pool2d, TF.avg_pool2d, dict(kw, count_include_pad=cip, divisor_override=dov))
              for cip in (True, False) for dov in (None, 3)]
    for name, fb, ft, args in calls:
        (xb,), (xt,) = _pair_of(torch, x)
        try:
            yt = ft(xt, **args)
        except RuntimeError as e:  # a dilated window that no longer fits: bibun must refuse it too
            with pytest.raises(RuntimeError, match=str(e).replace("(", r"\(").replace(")", r"\)")):
                fb(xb, **args)
            continue
        yb = fb(xb, **args)
        _assert_same(yb, yt)
        assert type(yb.grad_fn).__name__ == type(yt.grad_fn).__name__, name
        g = rng.standard_normal(tuple(yt.shape))
        yb.backward(bibun.tensor(g))
        yt.backward(torch.tensor(g))
        _assert_same(xb.grad, xt.grad)
        if name.startswith("max"):
            assert F.max_pool2d(xb, return_indices=True, **args)[1].tolist() == \
                TF.max_pool2d(xt, return_indices=True, **args)[1].tolist()


def test_pool_1d_parity(torch):
    rng = np.random.default_rng(5)
    x = _distinct(rng, (2, 3, 11))
    TF = torch.nn.functional  # noqa: N806
    for fb, ft, args in ((F.max_pool1d, TF.max_pool1d, {"kernel_size": 3, "stride": 2, "padding": 1}),
                         (F.max_pool1d, TF.max_pool1d, {"kernel_size": 2, "dilation": 2, "ceil_mode": True}),
                         (F.avg_pool1d, TF.avg_pool1d, {"kernel_size": 3, "stride": 2, "padding": 1,
                                                        "count_include_pad": False}),
                         (F.adaptive_avg_pool1d, TF.adaptive_avg_pool1d, {"output_size": 4})):
        for arr in (x, x[0]):
            (xb,), (xt,) = _pair_of(torch, arr)
            yb, yt = fb(xb, **args), ft(xt, **args)
            _assert_same(yb, yt)
            assert type(yb.grad_fn).__name__ == type(yt.grad_fn).__name__
            yb.sum().backward()
            yt.sum().backward()
            _assert_same(xb.grad, xt.grad)


PAD_CONFIGS = [
    ((2, 3, 5), (2, 3)), ((2, 3, 5), (-1, 3)), ((2, 3, 5), (2, -1)), ((3, 4, 5), (1, 2, 3, 1)),
    ((2, 3, 4, 5), (1, 2, 3, -1)), ((2, 3, 3, 4, 5), (1, 2, 2, 1, 1, 0)),
]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_parity(mode, torch):
    rng = np.random.default_rng(7)
    for shape, pads in PAD_CONFIGS:
        x = rng.standard_normal(shape)
        (xb,), (xt,) = _pair_of(torch, x)
        yb, yt = F.pad(xb, pads, mode=mode), torch.nn.functional.pad(xt, pads, mode=mode)
        _assert_same(yb, yt)
        if mode != "circular":  # PyTorch builds circular padding from in-place slice copies (CopySlices)
            assert type(yb.grad_fn).__name__ == type(yt.grad_fn).__name__
        g = rng.standard_normal(tuple(yt.shape))
        yb.backward(bibun.tensor(g))
        yt.backward(torch.tensor(g))
        _assert_same(xb.grad, xt.grad)


def _error_of(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the error itself is what is compared
        return type(e).__name__, str(e).replace("torch.", "bibun.")
    return None


@pytest.mark.parametrize("i", range(len(CONV_ERRORS) + len(POOL_ERRORS) + len(PAD_ERRORS)))
def test_error_messages_parity(i, torch):
    """Each error above, raised by the same call in PyTorch (type and message, ``torch.`` read as ``bibun.``)."""
    fns = [fn for fn, _ in CONV_ERRORS] + [fn for fn, _ in POOL_ERRORS] + [fn for _, fn, _ in PAD_ERRORS]
    assert _error_of(lambda: fns[i](torch, torch.nn.functional)) == _error_of(_in_bibun(fns[i]))


def test_module_init_and_forward_parity(torch):
    rng = np.random.default_rng(0)
    for name, args, kwargs in (("Conv2d", (1, 8, 3), {"padding": 1}), ("Conv2d", (4, 6, (3, 2)), {"groups": 2}),
                               ("Conv1d", (3, 5, 4), {"padding_mode": "circular", "padding": 1}),
                               ("Conv2d", (2, 3, 3), {"bias": False, "padding_mode": "reflect", "padding": 1}),
                               ("Conv3d", (2, 3, 2), {})):
        bibun.manual_seed(0)
        torch.manual_seed(0)
        mb, mt = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
        assert repr(mb) == repr(mt)
        for p, q in zip(mb.parameters(), mt.parameters(), strict=True):
            assert np.array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())  # the same random stream
        x = rng.standard_normal((2, args[0]) + (6,) * (int(name[-2]))).astype(np.float32)
        _assert_same(mb(bibun.tensor(x)), mt(torch.tensor(x)), rtol=1e-5, atol=1e-5)
    for name, args in (("MaxPool2d", (3, 2, 1)), ("AvgPool2d", (3, 2, 1)), ("AdaptiveAvgPool2d", ((None, 2),)),
                       ("MaxPool1d", (2,)), ("AvgPool1d", (2,)), ("AdaptiveAvgPool1d", (3,))):
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))


def test_small_cnn_training_parity(torch):
    """Five SGD-with-momentum steps of a small CNN from the same seed: the same losses as PyTorch."""
    def losses(lib):
        lib.manual_seed(0)
        m = lib.nn
        model = m.Sequential(m.Conv2d(1, 4, 3, padding=1), m.ReLU(), m.MaxPool2d(2),
                             m.Conv2d(4, 8, 3, padding="same", padding_mode="reflect"), m.ReLU(), m.AvgPool2d(2),
                             m.AdaptiveAvgPool2d((2, 2)), m.Flatten(), m.Linear(32, 3))
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        rng = np.random.default_rng(0)
        x = lib.tensor(rng.standard_normal((8, 1, 12, 12)).astype(np.float32))
        y = lib.tensor(rng.integers(0, 3, 8))
        out = []
        for _ in range(5):
            opt.zero_grad()
            loss = m.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            out.append(loss.item())
        return out
    np.testing.assert_allclose(losses(bibun), losses(torch), rtol=1e-5)
