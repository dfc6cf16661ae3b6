"""Activations, normalization, embedding, dropout and one_hot: functions, ops and layers.

Values are checked against closed forms (``math.erf`` and numpy formulas) and numbers
pinned from PyTorch; gradients by gradcheck and gradgradcheck (float64) over
``GRADCHECK_CASES``, which tests/test_op_coverage.py also walks; and, with the ``torch``
fixture, values, gradients and running statistics against PyTorch itself.
"""

from __future__ import annotations

import math
import warnings
import zlib

import numpy as np
import pytest
import test_ops_gradcheck as cases

import bibun
from bibun import nn
from bibun.nn import functional as F

ANY, POS, AWAY = cases.ANY, cases.POS, cases.AWAY


def _idx(*rows):
    # made on use: a module-level tensor would outlive a registry reload in another test
    return bibun.tensor(rows if len(rows) > 1 else rows[0])


def _bn_train(x, w, b):
    rm, rv = bibun.zeros(x.shape[1], dtype=x.dtype), bibun.ones(x.shape[1], dtype=x.dtype)
    return F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.3)


def _bn_eval(x, w, b):
    c = x.shape[1]
    rm = bibun.linspace(-0.5, 0.5, c, dtype=x.dtype)
    rv = bibun.linspace(0.5, 2.0, c, dtype=x.dtype)
    return F.batch_norm(x, rm, rv, w, b, training=False)


def _dropout(x):
    bibun.manual_seed(3)  # the same mask on every call, so the function is deterministic
    return F.dropout(x, 0.4)


def _alpha_dropout(x):
    bibun.manual_seed(3)
    return F.alpha_dropout(x, 0.3, training=True)


# (id, fn, input shapes, kind): each gradchecked and gradgradchecked below, on every device
GRADCHECK_CASES = [
    ("relu6", lambda a: F.relu6(a * 3), [(2, 3)], AWAY),
    ("relu6_inplace", lambda a: F.relu6(a * 3, inplace=True), [(2, 3)], AWAY),
    ("leaky_relu", lambda a: F.leaky_relu(a, 0.2), [(2, 3)], AWAY),
    ("leaky_relu_inplace", lambda a: F.leaky_relu(a * 1, 0.2, inplace=True), [(2, 3)], AWAY),
    ("hardtanh", lambda a: F.hardtanh(a, -0.7, 1.2), [(3, 4)], ANY),
    ("gelu", lambda a: F.gelu(a), [(2, 3)], ANY),
    ("gelu_tanh", lambda a: F.gelu(a, approximate="tanh"), [(2, 3)], ANY),
    ("elu", lambda a: F.elu(a, 0.7), [(2, 3)], AWAY),
    ("elu_inplace", lambda a: F.elu(a * 1, 0.7, inplace=True), [(2, 3)], AWAY),
    ("selu", lambda a: F.selu(a), [(2, 3)], AWAY),
    ("celu", lambda a: F.celu(a, 1.5), [(2, 3)], AWAY),
    ("celu_inplace", lambda a: F.celu(a * 1, 1.5, inplace=True), [(2, 3)], AWAY),
    ("silu", lambda a: F.silu(a), [(2, 3)], ANY),
    ("mish", lambda a: F.mish(a), [(2, 3)], ANY),
    ("softplus", lambda a: F.softplus(a), [(2, 3)], ANY),
    ("softplus_beta_threshold", lambda a: F.softplus(a * 4, beta=0.5, threshold=1.0), [(2, 3)], AWAY),
    ("logsigmoid", lambda a: F.logsigmoid(a), [(2, 3)], ANY),
    ("hardsigmoid", lambda a: F.hardsigmoid(a * 2), [(2, 3)], ANY),
    ("hardswish", lambda a: F.hardswish(a * 2), [(2, 3)], ANY),
    ("threshold", lambda a: F.threshold(a, 0.1, -2.0), [(2, 3)], AWAY),
    ("prelu_channels", lambda a, w: F.prelu(a, w), [(2, 3, 2), (3,)], AWAY),
    ("prelu_one", lambda a, w: F.prelu(a, w), [(2, 3), (1,)], AWAY),
    ("softmin_softsign_tanhshrink", lambda a: F.softmin(a, 1) + F.softsign(a) + F.tanhshrink(a), [(2, 3)], ANY),
    ("glu", lambda a: F.glu(a, 0), [(4, 3)], ANY),
    ("layer_norm_affine", lambda x, w, b: F.layer_norm(x, (4,), w, b), [(2, 3, 4), (4,), (4,)], ANY),
    ("layer_norm_two_dims", lambda x: F.layer_norm(x, (2, 3), eps=1e-3), [(2, 2, 3)], ANY),
    ("layer_norm_weight_only", lambda x, w: F.layer_norm(x, [3], w), [(4, 3), (3,)], ANY),
    ("batch_norm_train", _bn_train, [(4, 3), (3,), (3,)], ANY),
    ("batch_norm_train_3d", lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [(3, 2, 2), (2,), (2,)],
     ANY),
    ("batch_norm_eval", _bn_eval, [(3, 2, 2), (2,), (2,)], ANY),
    ("embedding", lambda w: F.embedding(_idx([[1, 3], [1, 0]]), w), [(4, 3)], ANY),
    # by design the padding row's gradient and a repeated index's scaled gradient differ from finite
    # differences; with distinct indices and an unused padding row the masking and scaling paths still run
    ("embedding_padding_freq", lambda w: F.embedding(_idx([0, 2, 1]), w, padding_idx=3, scale_grad_by_freq=True),
     [(4, 2)], ANY),
    ("dropout", _dropout, [(3, 4)], ANY),
    ("alpha_dropout", _alpha_dropout, [(3, 4)], ANY),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck(case, device):
    cases.check_case(case, device)


# ====================================================================== activations: values
def _f64(values, device):
    return bibun.tensor(values, dtype=bibun.float64, device=device)


POINTS = [-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0]
# printed from PyTorch (float64)
PINNED = {
    "gelu": [-0.00404969409489031, -0.15865525393145702, -0.15426876936299344, 0.0, 0.34573123063700656,
             0.841344746068543, 1.9544997361036416],
    "gelu_tanh": [-0.0036373920817729943, -0.15880800939172324, -0.15428599017485606, 0.0, 0.34571400982514394,
                  0.8411919906082768, 1.954597694087775],
    "selu": [-1.6705687287671118, -1.1113307378125625, -0.6917581878028713, 0.0, 0.5253504936777402,
             1.0507009873554805, 2.101401974710961],
    "mish": [-0.1456474612756246, -0.30340146137410895, -0.22074377465173, 0.0, 0.3752452113048951,
             0.8650983882673103, 1.9439589595339946],
    "logsigmoid": [-3.048587351573742, -1.3132616875182228, -0.9740769841801067, -0.6931471805599453,
                   -0.4740769841801067, -0.31326168751822286, -0.1269280110429725],
}
PINNED_FNS = {
    "gelu": F.gelu, "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "selu": F.selu, "mish": F.mish,
    "logsigmoid": F.logsigmoid,
}


@pytest.mark.parametrize("name", sorted(PINNED))
def test_activation_values_pinned_from_pytorch(name, device):
    got = PINNED_FNS[name](_f64(POINTS, device)).tolist()
    np.testing.assert_allclose(got, PINNED[name], rtol=2e-15, atol=1e-17)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_SELU_A, _SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
# (name, bibun fn, numpy closed form)
CLOSED_FORMS = [
    ("relu6", F.relu6, lambda x: np.minimum(np.maximum(x, 0), 6)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    ("hardtanh", lambda x: F.hardtanh(x, -2.0, 1.5), lambda x: np.clip(x, -2.0, 1.5)),
    ("gelu", F.gelu, lambda x: np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x])),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))),
    ("elu", lambda x: F.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    ("selu", F.selu, lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x))),
    ("celu", lambda x: F.celu(x, 2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(x / 2.0))),
    ("silu", F.silu, lambda x: x * _sigmoid(x)),
    ("mish", F.mish, lambda x: x * np.tanh(np.log1p(np.exp(x)))),
    ("softplus", F.softplus, lambda x: np.log1p(np.exp(x))),
    ("softplus_beta", lambda x: F.softplus(x, 2.0, 3.0), lambda x: np.where(2 * x > 3, x, np.log1p(np.exp(2 * x)) / 2)),
    ("logsigmoid", F.logsigmoid, lambda x: np.log(_sigmoid(x))),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6),
    ("threshold", lambda x: F.threshold(x, 0.5, -7.0), lambda x: np.where(x > 0.5, x, -7.0)),
    ("sigmoid", F.sigmoid, _sigmoid),
    ("tanh", F.tanh, np.tanh),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x))),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x)),
]


@pytest.mark.parametrize("case", CLOSED_FORMS, ids=[c[0] for c in CLOSED_FORMS])
def test_activation_closed_forms(case, device):
    name, fn, ref = case
    x = np.linspace(-8, 8, 161)
    got = fn(_f64(x, device)).cpu().numpy()
    np.testing.assert_allclose(got, ref(x), rtol=1e-13, atol=1e-15)
    got32 = fn(bibun.tensor(x, dtype=bibun.float32, device=device))
    assert got32.dtype == bibun.float32
    np.testing.assert_allclose(got32.cpu().numpy(), ref(x), rtol=2e-6, atol=2e-6)


def test_erf_kernel_is_within_an_ulp_of_the_c_library():
    from bibun.ops.activation import erf_kernel
    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-7, 7, 20001), rng.standard_normal(5000) * 3,
                        [0.84375, 1.25, 6.0, 2.8571434020996094, 1e-300, 5e-324, 1e-20, 27.0, 1e300]])
    got = erf_kernel(np, x)
    ref = np.array([math.erf(v) for v in x])
    ulps = np.abs(got - ref) / np.spacing(np.abs(ref))
    assert ulps.max() <= 1.0
    special = erf_kernel(np, np.array([np.inf, -np.inf, np.nan, -0.0]))
    assert special[0] == 1.0 and special[1] == -1.0 and np.isnan(special[2])
    assert special[3] == 0.0 and np.signbit(special[3])
    assert erf_kernel(np, x[:100].astype(np.float32)).dtype == np.float32


def test_activations_on_zero_dim_empty_and_strided_inputs(device):
    for fn in (F.gelu, F.silu, F.elu, F.softplus, F.leaky_relu, F.hardswish, F.mish, F.logsigmoid):
        assert fn(bibun.tensor(1.0, device=device)).shape == ()
        assert fn(bibun.zeros(0, 3, device=device)).shape == (0, 3)
    np.testing.assert_allclose(F.gelu(_f64(1.0, device)).item(), 0.841344746068543, rtol=1e-15)
    x = bibun.randn(3, 4, dtype=bibun.float64, device=device)
    assert bibun.equal(F.gelu(x.t()), F.gelu(x).t())


def test_activations_keep_extremes_finite(device):
    x = _f64([-1000.0, -50.0, 50.0, 1000.0], device)
    assert F.softplus(x).tolist() == [0.0, pytest.approx(1.9287498479639178e-22), 50.0, 1000.0]
    assert F.logsigmoid(x).tolist() == [-1000.0, -50.0, pytest.approx(-1.9287498479639178e-22), -0.0]
    assert F.silu(x).tolist() == [-0.0, pytest.approx(-50 * math.exp(-50)), 50.0, 1000.0]
    assert F.mish(x).tolist()[2:] == [50.0, 1000.0]
    assert F.elu(x).tolist() == [-1.0, -1.0, 50.0, 1000.0]
    assert F.gelu(x).tolist() == [-0.0, -0.0, 50.0, 1000.0]
    x.requires_grad_()
    for fn in (F.softplus, F.logsigmoid, F.silu, F.mish, F.elu, F.gelu, F.selu):
        (g,) = bibun.autograd.grad(fn(x).sum(), x)
        assert bool(g.isfinite().all()), fn.__name__


def test_nan_propagates_through_activations(device):
    x = _f64([float("nan")], device)
    for fn in (F.gelu, F.elu, F.silu, F.softplus, F.logsigmoid, F.mish, F.hardtanh, F.relu6, F.leaky_relu):
        assert math.isnan(fn(x).item()), fn.__name__


def test_activation_gradients_closed_form(device):
    x = _f64([-2.0, -0.5, 0.5, 2.0], device).requires_grad_()
    (g,) = bibun.autograd.grad(F.leaky_relu(x, 0.1).sum(), x)
    assert g.tolist() == [0.1, 0.1, 1.0, 1.0]
    (g,) = bibun.autograd.grad(F.hardtanh(x, -1.0, 1.0).sum(), x)
    assert g.tolist() == [0.0, 1.0, 1.0, 0.0]
    (g,) = bibun.autograd.grad(F.elu(x, 0.5).sum(), x)
    np.testing.assert_allclose(g.tolist(), [0.5 * math.exp(-2), 0.5 * math.exp(-0.5), 1.0, 1.0], rtol=1e-15)
    (g,) = bibun.autograd.grad(F.gelu(x).sum(), x)
    phi = [0.5 * (1 + math.erf(v / math.sqrt(2))) + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi)
           for v in [-2.0, -0.5, 0.5, 2.0]]
    np.testing.assert_allclose(g.tolist(), phi, rtol=1e-14)
    y = _f64([-4.0, -3.0, 0.0, 3.0, 4.0], device).requires_grad_()
    (g,) = bibun.autograd.grad(F.hardswish(y).sum(), y)
    assert g.tolist() == [0.0, -0.5, 0.5, 1.5, 1.0]  # PyTorch's values at and beyond the kinks
    (g,) = bibun.autograd.grad(F.hardsigmoid(y).sum(), y)
    assert g.tolist() == [0.0, 0.0, 0.1666666716337204, 0.0, 0.0]  # PyTorch's 1/6, rounded to float32


def test_gelu_second_derivative_closed_form(device):
    x = _f64([-1.5, 0.3, 2.0], device).requires_grad_()
    (g,) = bibun.autograd.grad(F.gelu(x).sum(), x, create_graph=True)
    assert type(g.grad_fn).__name__ == "GeluBackwardBackward0"
    (h,) = bibun.autograd.grad(g.sum(), x)
    want = [math.exp(-v * v / 2) / math.sqrt(2 * math.pi) * (2 - v * v) for v in (-1.5, 0.3, 2.0)]
    np.testing.assert_allclose(h.tolist(), want, rtol=1e-14)


NODE_NAMES = [
    (lambda x: F.relu(x), "ReluBackward0"), (lambda x: F.relu6(x), "HardtanhBackward0"),
    (lambda x: F.leaky_relu(x), "LeakyReluBackward0"),
    (lambda x: F.leaky_relu(x * 1, inplace=True), "LeakyReluBackward1"),
    (lambda x: F.hardtanh(x), "HardtanhBackward0"), (lambda x: F.gelu(x), "GeluBackward0"),
    (lambda x: F.gelu(x, approximate="tanh"), "GeluBackward0"), (lambda x: F.elu(x), "EluBackward0"),
    (lambda x: F.elu(x * 1, inplace=True), "EluBackward1"), (lambda x: F.selu(x), "EluBackward0"),
    (lambda x: F.selu(x * 1, inplace=True), "EluBackward1"), (lambda x: F.celu(x), "CeluBackward0"),
    (lambda x: F.celu(x * 1, inplace=True), "CeluBackward1"), (lambda x: F.silu(x), "SiluBackward0"),
    (lambda x: F.silu(x * 1, inplace=True), "SiluBackward0"), (lambda x: F.mish(x), "MishBackward0"),
    (lambda x: F.softplus(x), "SoftplusBackward0"), (lambda x: F.logsigmoid(x), "LogSigmoidBackward0"),
    (lambda x: F.hardswish(x), "HardswishBackward0"), (lambda x: F.hardsigmoid(x), "HardsigmoidBackward0"),
    (lambda x: F.threshold(x, 0.1, 2.0), "ThresholdBackward0"), (lambda x: F.sigmoid(x), "SigmoidBackward0"),
    (lambda x: F.tanh(x), "TanhBackward0"), (lambda x: F.softmax(x, 1), "SoftmaxBackward0"),
    (lambda x: F.log_softmax(x, 1), "LogSoftmaxBackward0"), (lambda x: F.softmin(x, 1), "SoftmaxBackward0"),
    (lambda x: F.prelu(x, bibun.tensor([0.25])), "PreluKernelBackward0"),
    (lambda x: F.layer_norm(x, (3,)), "NativeLayerNormBackward0"),
    (lambda x: F.batch_norm(x, None, None, training=True), "NativeBatchNormBackward0"),
    (lambda x: F.batch_norm(x, bibun.zeros(3), bibun.ones(3)), "NativeBatchNormBackward0"),
    (lambda x: F.embedding(bibun.tensor([0, 1]), x), "EmbeddingBackward0"),
    (lambda x: F.dropout(x, 0.5), "MulBackward0"), (lambda x: F.dropout(x, 1.0), "MulBackward0"),
    (lambda x: F.dropout(x * 1, 0.5, inplace=True), "MulBackward0"),
    (lambda x: F.alpha_dropout(x, 0.5, True), "AddBackward0"),
]


@pytest.mark.parametrize("k", range(len(NODE_NAMES)))
def test_node_names_are_pytorchs(k, device):
    fn, name = NODE_NAMES[k]
    x = bibun.randn(4, 3, device=device, requires_grad=True)
    assert type(fn(x).grad_fn).__name__ == name


def test_inplace_activations_write_into_their_input(device):
    for fn in (lambda t: F.relu(t, inplace=True), lambda t: F.leaky_relu(t, 0.1, True), F.leaky_relu_, F.elu_,
               F.selu_, F.celu_, F.hardtanh_, lambda t: F.relu6(t, True), lambda t: F.silu(t, True),
               lambda t: F.mish(t, True), lambda t: F.hardswish(t, True), lambda t: F.hardsigmoid(t, True),
               lambda t: F.threshold_(t, 0.0, 5.0), F.relu_):
        x = bibun.tensor([-1.0, 0.5, 2.0], device=device)
        v = x._version[0]
        assert fn(x) is x and x._version[0] > v


def test_inplace_activation_refuses_a_leaf_that_requires_grad(device):
    x = bibun.tensor([-1.0, 2.0], device=device, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        F.elu(x, inplace=True)
    assert x.tolist() == [-1.0, 2.0]


def test_inplace_gradients_match_out_of_place(device):
    for out_of_place, inplace in ((lambda t: F.elu(t, 0.7), lambda t: F.elu(t, 0.7, True)),
                                  (lambda t: F.leaky_relu(t, 0.3), lambda t: F.leaky_relu(t, 0.3, True)),
                                  (lambda t: F.celu(t, 2.0), lambda t: F.celu(t, 2.0, True)),
                                  (F.silu, lambda t: F.silu(t, True)), (F.hardtanh, F.hardtanh_),
                                  (lambda t: F.threshold(t, 0.2, 3.0), lambda t: F.threshold_(t, 0.2, 3.0))):
        x = _f64([-1.5, -0.3, 0.4, 1.7], device).requires_grad_()
        (g1,) = bibun.autograd.grad(out_of_place(x * 2).sum(), x)
        (g2,) = bibun.autograd.grad(inplace(x * 2).sum(), x)
        np.testing.assert_allclose(g1.tolist(), g2.tolist(), rtol=1e-15)


def test_inplace_negative_slope_fails_in_backward_as_in_pytorch(device):
    x = bibun.tensor([-1.0, 2.0], device=device, requires_grad=True)
    y = F.leaky_relu(x * 1, -0.1, inplace=True)
    with pytest.raises(RuntimeError, match="In-place leakyReLu backward calculation is triggered with a negative"):
        y.sum().backward()
    y = F.elu(x * 1, -0.5, inplace=True)
    with pytest.raises(RuntimeError, match="In-place elu backward calculation is triggered with a negative slope"):
        y.sum().backward()


def test_activation_errors(device):
    i = bibun.tensor([1, 2, -3], device=device)
    for fn, kernel in ((F.gelu, "GeluKernelImpl"), (F.leaky_relu, "leaky_relu_cpu"), (F.elu, "elu_cpu"),
                       (F.selu, "elu_cpu"), (F.silu, "silu_cpu"), (F.softplus, "softplus_cpu"),
                       (F.logsigmoid, "log_sigmoid_cpu"), (F.mish, "mish_cpu"), (F.hardswish, "hardswish_cpu"),
                       (F.hardsigmoid, "hardsigmoid_cpu")):
        with pytest.raises(NotImplementedError, match=f'"{kernel}" not implemented for \'Long\''):
            fn(i)
    assert F.relu6(i).tolist() == [1, 2, 0] and F.relu6(i).dtype == bibun.int64
    assert F.hardtanh(i).tolist() == [1, 1, -1]
    assert F.threshold(i, 1.5, 20.7).tolist() == [20, 2, 20]
    x = bibun.randn(4, 3, device=device)
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(x, 2.0, 1.0)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh."):
        F.gelu(x, approximate="erf")
    with pytest.raises(RuntimeError, match="ZeroDivisionError: alpha cannot be 0 for CELU"):
        F.celu(x, alpha=0.0)
    with pytest.raises(RuntimeError, match="Found parameter numbers = 2 and channel size = 3."):
        F.prelu(x, bibun.ones(2))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 1 is size 3"):
        F.glu(x)


def test_activation_modules_reprs_and_forward(device):
    reprs = {
        nn.ReLU(): "ReLU()", nn.ReLU(inplace=True): "ReLU(inplace=True)", nn.ReLU6(): "ReLU6()",
        nn.LeakyReLU(): "LeakyReLU(negative_slope=0.01)",
        nn.LeakyReLU(0.2, True): "LeakyReLU(negative_slope=0.2, inplace=True)",
        nn.GELU(): "GELU(approximate='none')", nn.GELU("tanh"): "GELU(approximate='tanh')",
        nn.ELU(): "ELU(alpha=1.0)", nn.ELU(0.5, True): "ELU(alpha=0.5, inplace=True)", nn.SELU(): "SELU()",
        nn.CELU(): "CELU(alpha=1.0)", nn.SiLU(): "SiLU()", nn.SiLU(True): "SiLU(inplace=True)", nn.Mish(): "Mish()",
        nn.Softplus(): "Softplus(beta=1.0, threshold=20.0)", nn.Softplus(2, 10): "Softplus(beta=2, threshold=10)",
        nn.Hardtanh(): "Hardtanh(min_val=-1.0, max_val=1.0)",
        nn.Hardtanh(-2, 2, True): "Hardtanh(min_val=-2, max_val=2, inplace=True)",
        nn.Sigmoid(): "Sigmoid()", nn.Tanh(): "Tanh()", nn.Softmax(): "Softmax(dim=None)",
        nn.Softmax(dim=1): "Softmax(dim=1)", nn.LogSoftmax(1): "LogSoftmax(dim=1)", nn.Softmin(1): "Softmin(dim=1)",
        nn.LogSigmoid(): "LogSigmoid()", nn.Hardswish(): "Hardswish()", nn.Hardsigmoid(): "Hardsigmoid()",
        nn.Threshold(0.1, 20): "Threshold(threshold=0.1, value=20)",
        nn.Threshold(0.1, 20, True): "Threshold(threshold=0.1, value=20, inplace=True)",
        nn.PReLU(): "PReLU(num_parameters=1)", nn.PReLU(3): "PReLU(num_parameters=3)", nn.Softsign(): "Softsign()",
        nn.Tanhshrink(): "Tanhshrink()", nn.GLU(): "GLU(dim=-1)", nn.Softmax2d(): "Softmax2d()",
    }
    for module, text in reprs.items():
        assert repr(module) == text
    x = bibun.randn(2, 4, device=device)
    assert bibun.equal(nn.LeakyReLU(0.2)(x), F.leaky_relu(x, 0.2))
    assert bibun.equal(nn.Softmax(dim=0)(x), F.softmax(x, 0))
    assert bibun.equal(nn.GELU("tanh")(x), F.gelu(x, approximate="tanh"))
    prelu = nn.PReLU(4, init=0.5, device=device)
    assert prelu.weight.tolist() == [0.5] * 4 and [n for n, _ in prelu.named_parameters()] == ["weight"]
    assert bibun.equal(prelu(x), F.leaky_relu(x, 0.5))
    y = x.clone()
    assert nn.ReLU(inplace=True)(y) is y
    with pytest.raises(ValueError, match="Softmax2d: expected input to be 3D or 4D, got 2D instead"):
        nn.Softmax2d()(x)


def test_softmax_implicit_dim_warns_at_the_callers_line(device):
    x = bibun.randn(2, 3, device=device)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated") as record:
        y = F.softmax(x)
        nn.Softmax()(x)
    assert all(r.filename == __file__ for r in record)
    assert bibun.equal(y, F.softmax(x, 1))
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmin"):
        assert bibun.equal(F.softmin(bibun.ones(3, device=device)), bibun.full((3,), 1 / 3, device=device))
    with pytest.warns(UserWarning, match="Implicit dimension choice for log_softmax"):
        F.log_softmax(x)


# ====================================================================== layer norm
def test_layer_norm_closed_form(device):
    x = _f64([[1.0, 2.0, 3.0, 4.0]], device)
    want = [-1.3416354199689269, -0.447211806656309, 0.447211806656309, 1.3416354199689269]  # PyTorch's
    np.testing.assert_allclose(F.layer_norm(x, (4,)).tolist()[0], want, rtol=1e-15)
    rng = np.random.default_rng(1)
    a, w, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    got = F.layer_norm(_f64(a, device), (3, 4), _f64(w, device), _f64(b, device), eps=0.1).cpu().numpy()
    mean = a.mean(axis=(1, 2), keepdims=True)
    var = a.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(got, (a - mean) / np.sqrt(var + 0.1) * w + b, rtol=1e-13)


def test_layer_norm_gradient_closed_form(device):
    # sum of a normalized row does not move with x; weight's gradient is xhat, bias's is 1
    x = _f64([[1.0, 2.0, 4.0]], device).requires_grad_()
    w = _f64([1.0, 1.0, 1.0], device).requires_grad_()
    b = _f64([0.0, 0.0, 0.0], device).requires_grad_()
    y = F.layer_norm(x, (3,), w, b, eps=0.0)
    gx, gw, gb = bibun.autograd.grad(y.sum(), [x, w, b])
    np.testing.assert_allclose(gx.tolist(), [[0.0, 0.0, 0.0]], atol=1e-15)
    np.testing.assert_allclose(gw.tolist(), y.detach().tolist()[0], rtol=1e-15)
    assert gb.tolist() == [1.0, 1.0, 1.0]


def test_layer_norm_errors(device):
    x = bibun.randn(2, 3, device=device)
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[2, 3\]"):
        F.layer_norm(x, (4,))
    with pytest.raises(RuntimeError, match=r"Expected weight to be of same shape as normalized_shape, but got weight "
                                           r"of shape \[4\] and normalized_shape = \[3\]"):
        F.layer_norm(x, (3,), weight=bibun.ones(4))
    with pytest.raises(RuntimeError, match=r"Expected bias to be of same shape"):
        F.layer_norm(x, (3,), bias=bibun.ones(4))
    with pytest.raises(TypeError, match=r"argument 'normalized_shape' \(position 2\) must be tuple of ints, not int"):
        F.layer_norm(x, 3)
    with pytest.raises(RuntimeError, match="Expected normalized_shape to be at least 1-dimensional"):
        F.layer_norm(x, [])


def test_layer_norm_module(device):
    ln = nn.LayerNorm(4, device=device)
    assert repr(ln) == "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)"
    assert ln.weight.tolist() == [1.0] * 4 and ln.bias.tolist() == [0.0] * 4
    assert [n for n, _ in ln.named_parameters()] == ["weight", "bias"]
    assert repr(nn.LayerNorm((4, 5), eps=1e-6, elementwise_affine=False)) == \
        "LayerNorm((4, 5), eps=1e-06, elementwise_affine=False, bias=False)"
    no_bias = nn.LayerNorm([3], bias=False)
    assert no_bias.bias is None and repr(no_bias) == "LayerNorm((3,), eps=1e-05, elementwise_affine=True, bias=False)"
    assert nn.LayerNorm(4, dtype=bibun.float64).weight.dtype == bibun.float64
    x = bibun.randn(2, 3, 4, device=device)
    assert bibun.allclose(ln(x), F.layer_norm(x, (4,)))
    ln(x).sum().backward()
    assert ln.weight.grad.shape == (4,) and ln.bias.grad.tolist() == [6.0] * 4


# ====================================================================== batch norm
def test_batch_norm_training_normalizes_with_biased_variance_and_updates_unbiased(device):
    a = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    rm, rv = _f64([0.5, -1.0], device), _f64([2.0, 3.0], device)
    v0 = rm._version[0]
    y = F.batch_norm(_f64(a, device), rm, rv, training=True, momentum=0.25, eps=1e-5)
    mean, var = a.mean(0), a.var(0)
    np.testing.assert_allclose(y.cpu().numpy(), (a - mean) / np.sqrt(var + 1e-5), rtol=1e-14)
    np.testing.assert_allclose(rm.tolist(), 0.75 * np.array([0.5, -1.0]) + 0.25 * mean, rtol=1e-15)
    np.testing.assert_allclose(rv.tolist(), 0.75 * np.array([2.0, 3.0]) + 0.25 * a.var(0, ddof=1), rtol=1e-15)
    assert rm._version[0] == v0  # written by the kernel, as in PyTorch


def test_batch_norm_eval_uses_running_stats(device):
    x = _f64([[[1.0, 2.0], [3.0, 4.0]]] * 2, device)  # (2, 2, 2)
    rm, rv = _f64([1.0, -1.0], device), _f64([4.0, 0.25], device)
    w, b = _f64([2.0, 3.0], device), _f64([0.5, 0.0], device)
    y = F.batch_norm(x, rm, rv, w, b, training=False, eps=0.0)
    assert y.tolist()[0] == [[0.5, 1.5], [24.0, 30.0]]
    assert rm.tolist() == [1.0, -1.0] and rv.tolist() == [4.0, 0.25]


def test_batch_norm_errors(device):
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"bibun.Size\(\[1, 3\]\)"):
        F.batch_norm(bibun.randn(1, 3, device=device), None, None, training=True)
    with pytest.raises(ValueError, match=r"got input size bibun.Size\(\[1, 3, 1\]\)"):
        F.batch_norm(bibun.randn(1, 3, 1, device=device), bibun.zeros(3), bibun.ones(3), training=True)
    x = bibun.randn(4, 3, device=device)
    with pytest.raises(RuntimeError, match="running_mean must be defined in evaluation mode"):
        F.batch_norm(x, None, None, training=False)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(x, bibun.zeros(4), bibun.ones(3), training=True)
    with pytest.raises(RuntimeError, match="weight should contain 3 elements not 4"):
        F.batch_norm(x, bibun.zeros(3), bibun.ones(3), weight=bibun.ones(4), training=True)
    with pytest.raises(ValueError, match="batch_norm eps must be positive during training, but got 0.0"):
        F.batch_norm(x, None, None, training=True, eps=0.0)
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.BatchNorm1d(3)(bibun.randn(2, 3, 1, 1, device=device))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        nn.BatchNorm2d(3)(bibun.randn(2, 3, 1, device=device))
    assert repr(bibun.Size([1, 3])) == "bibun.Size([1, 3])"


def test_norms_of_an_empty_batch(device):
    x = bibun.randn(0, 3, device=device, requires_grad=True)
    bn, ln = nn.BatchNorm1d(3, device=device), nn.LayerNorm(3, device=device)
    assert bn(x).shape == (0, 3) and ln(x).shape == (0, 3)
    (bn(x).sum() + ln(x).sum()).backward()
    assert x.grad.shape == (0, 3) and bn.weight.grad.tolist() == [0.0] * 3 and ln.bias.grad.tolist() == [0.0] * 3
    assert bn.running_mean.tolist() == [0.0] * 3 and bn.running_var.tolist() == [1.0] * 3
    with pytest.raises(IndexError, match=r"Dimension out of range \(expected to be in range of \[-1, 0\], but got 1\)"):
        F.batch_norm(bibun.randn(4, device=device), None, None, training=True)


def test_batch_norm_module_buffers_init_repr(device):
    bn = nn.BatchNorm2d(8, device=device)
    assert repr(bn) == "BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    assert bn.weight.tolist() == [1.0] * 8 and bn.bias.tolist() == [0.0] * 8
    assert bn.running_mean.tolist() == [0.0] * 8 and bn.running_var.tolist() == [1.0] * 8
    assert bn.num_batches_tracked.dtype == bibun.int64 and bn.num_batches_tracked.item() == 0
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    plain = nn.BatchNorm1d(3, affine=False, track_running_stats=False, momentum=None)
    assert repr(plain) == ("BatchNorm1d(3, eps=1e-05, momentum=None, affine=False, bias=False, "
                           "track_running_stats=False)")
    assert plain.running_mean is None and plain.weight is None and list(plain.state_dict()) == []
    assert nn.BatchNorm1d(3, bias=False).bias is None


def test_batch_norm_module_train_then_eval(device):
    bn = nn.BatchNorm1d(2, momentum=0.5, dtype=bibun.float64, device=device)
    a = np.array([[1.0, 2.0], [3.0, 6.0]])
    bn(_f64(a, device))
    assert bn.num_batches_tracked.item() == 1
    np.testing.assert_allclose(bn.running_mean.tolist(), 0.5 * a.mean(0))
    np.testing.assert_allclose(bn.running_var.tolist(), 0.5 + 0.5 * a.var(0, ddof=1))
    bn.eval()
    y = bn(_f64(a, device))
    np.testing.assert_allclose(y.detach().cpu().numpy(),
                               (a - bn.running_mean.cpu().numpy()) / np.sqrt(bn.running_var.cpu().numpy() + 1e-5))
    assert bn.num_batches_tracked.item() == 1
    # momentum=None: the running mean is the plain average of the batch means seen so far
    cum = nn.BatchNorm1d(1, momentum=None, dtype=bibun.float64, device=device)
    for values in ([1.0, 3.0], [5.0, 9.0], [0.0, 0.0]):
        cum(_f64([[v] for v in values], device))
    assert cum.num_batches_tracked.item() == 3
    np.testing.assert_allclose(cum.running_mean.tolist(), [(2.0 + 7.0 + 0.0) / 3])
    # no running statistics: batch statistics in eval too
    free = nn.BatchNorm1d(2, track_running_stats=False, dtype=bibun.float64, device=device).eval()
    np.testing.assert_allclose(free(_f64(a, device)).detach().cpu().numpy(), (a - a.mean(0)) / np.sqrt(a.var(0) + 1e-5))


# ====================================================================== embedding and one_hot
def test_embedding_picks_rows_and_accumulates_repeated_gradients(device):
    w = bibun.arange(12.0, device=device).reshape(4, 3).requires_grad_()
    idx = bibun.tensor([[1, 3], [1, 0]], device=device)
    y = F.embedding(idx, w)
    assert y.shape == (2, 2, 3) and y.tolist()[0] == [[3.0, 4.0, 5.0], [9.0, 10.0, 11.0]]
    y.sum().backward()
    assert w.grad.tolist() == [[1.0] * 3, [2.0] * 3, [0.0] * 3, [1.0] * 3]
    w.grad = None
    F.embedding(idx, w, padding_idx=1).sum().backward()
    assert w.grad.tolist() == [[1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]
    w.grad = None
    F.embedding(idx, w, padding_idx=-3, scale_grad_by_freq=True).sum().backward()
    assert w.grad.tolist() == [[1.0] * 3, [0.0] * 3, [0.0] * 3, [1.0] * 3]
    w.grad = None
    F.embedding(idx, w, scale_grad_by_freq=True).sum().backward()
    assert w.grad.tolist() == [[1.0] * 3, [1.0] * 3, [0.0] * 3, [1.0] * 3]
    assert F.embedding(bibun.tensor(2, device=device), w).tolist() == [6.0, 7.0, 8.0]
    assert F.embedding(bibun.tensor([1], dtype=bibun.int32, device=device), w).shape == (1, 3)


def test_embedding_max_norm_renormalizes_picked_rows_in_place(device):
    w = _f64([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], device)
    v = w._version[0]
    y = F.embedding(bibun.tensor([0, 1, 0], device=device), w, max_norm=1.0)
    np.testing.assert_allclose(w.tolist(), [[3 / (5 + 1e-7), 4 / (5 + 1e-7)], [0.3, 0.4], [6.0, 8.0]], rtol=1e-15)
    np.testing.assert_allclose(y.tolist()[0], w.tolist()[0])
    assert w._version[0] > v


def test_embedding_errors(device):
    w = bibun.randn(10, 3, device=device)
    for bad in ([10], [-1]):
        with pytest.raises(IndexError, match="index out of range in self"):
            F.embedding(bibun.tensor(bad, device=device), w)
    with pytest.raises(RuntimeError, match=r"Expected tensor for argument #1 'indices' to have one of the following "
                                           r"scalar types: Long, Int; but got bibun.FloatTensor instead \(while "
                                           r"checking arguments for embedding\)"):
        F.embedding(bibun.tensor([1.0], device=device), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(bibun.tensor([1], device=device), bibun.randn(10, device=device))
    for pad in (10, -11):
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            F.embedding(bibun.tensor([1], device=device), w, padding_idx=pad)
        with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
            nn.Embedding(10, 3, padding_idx=pad, _weight=w)


def test_embedding_module(device):
    weight = bibun.arange(6.0, device=device).reshape(3, 2)
    e = nn.Embedding.from_pretrained(weight)
    assert repr(e) == "Embedding(3, 2)" and not e.weight.requires_grad
    assert e(bibun.tensor([2, 0], device=device)).tolist() == [[4.0, 5.0], [0.0, 1.0]]
    assert nn.Embedding.from_pretrained(weight, freeze=False).weight.requires_grad
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(bibun.ones(3))
    with pytest.raises(AssertionError, match="Shape of weight does not match num_embeddings and embedding_dim"):
        nn.Embedding(4, 2, _weight=weight)
    full = nn.Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True, sparse=True,
                        _weight=bibun.zeros(10, 3))
    assert repr(full) == ("Embedding(10, 3, padding_idx=0, max_norm=1.0, norm_type=3.0, scale_grad_by_freq=True, "
                          "sparse=True)")
    assert nn.Embedding(5, 2, padding_idx=-1, _weight=bibun.zeros(5, 2)).padding_idx == 4


def test_embedding_init_is_standard_normal_with_a_zero_padding_row(device):
    e = nn.Embedding(200, 8, padding_idx=3, device=device)
    w = e.weight.detach().cpu().numpy()
    assert e.weight.requires_grad and w.shape == (200, 8)
    assert (w[3] == 0).all() and abs(w.mean()) < 0.1 and abs(w.std() - 1) < 0.1
    assert repr(nn.Embedding(10, 3)) == "Embedding(10, 3)"


def test_one_hot(device):
    t = bibun.tensor([[0, 2], [1, 2]], device=device)
    out = F.one_hot(t)
    assert out.dtype == bibun.int64 and out.shape == (2, 2, 3)
    assert out.tolist() == [[[1, 0, 0], [0, 0, 1]], [[0, 1, 0], [0, 0, 1]]]
    assert F.one_hot(t, 4).shape == (2, 2, 4)
    assert F.one_hot(bibun.tensor(2, device=device), 3).tolist() == [0, 0, 1]
    assert F.one_hot(bibun.tensor([], dtype=bibun.int64, device=device), 3).shape == (0, 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative."):
        F.one_hot(bibun.tensor([1, -2], device=device))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(bibun.tensor([1, 2], device=device), 2)
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type LongTensor."):
        F.one_hot(bibun.tensor([1, 2], dtype=bibun.int32, device=device))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor."):
        F.one_hot(bibun.tensor([], dtype=bibun.int64, device=device))


# ====================================================================== dropout
def test_dropout_semantics(device):
    x = bibun.ones(2000, device=device, dtype=bibun.float64)
    for p in (1.5, -0.1):
        with pytest.raises(ValueError, match=f"dropout probability has to be between 0 and 1, but got {p}"):
            F.dropout(x, p)
        with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
            nn.Dropout(p)
    assert F.dropout(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x
    assert F.alpha_dropout(x, 0.5) is x  # alpha dropout defaults to training=False, as in PyTorch
    bibun.manual_seed(0)
    y = F.dropout(x, 0.25)
    values = set(y.tolist())
    assert values == {0.0, 1 / 0.75}
    kept = sum(v != 0 for v in y.tolist()) / 2000
    assert 0.7 < kept < 0.8  # fixed seed: a fixed number, well inside the expected range
    bibun.manual_seed(0)
    assert bibun.equal(F.dropout(x, 0.25), y)  # the mask follows bibun.manual_seed
    assert F.dropout(x, 1.0).tolist() == [0.0] * 2000
    z = x.clone()
    assert F.dropout(z, 0.5, inplace=True) is z and set(z.tolist()) == {0.0, 2.0}
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        F.dropout(bibun.tensor([1, 2], device=device), 0.5)


def test_alpha_dropout_keeps_mean_and_variance(device):
    bibun.manual_seed(1)
    x = bibun.randn(20000, dtype=bibun.float64, device=device)
    y = F.alpha_dropout(x, 0.2, training=True)
    assert abs(y.mean().item()) < 0.05 and abs(y.std().item() - 1) < 0.05
    alpha, a = 1.7580993408473766, 1 / math.sqrt((1.7580993408473766 ** 2 * 0.2 + 1) * 0.8)
    dropped = -alpha * a + alpha * a * 0.2
    assert sum(abs(v - dropped) < 1e-12 for v in y.tolist()) > 3000
    kept = [(v, u) for v, u in zip(y.tolist(), x.tolist()) if abs(v - dropped) >= 1e-12]
    np.testing.assert_allclose([v for v, _ in kept], [u * a + alpha * a * 0.2 for _, u in kept], rtol=1e-12)


def test_feature_dropout_zeroes_whole_channels(device):
    bibun.manual_seed(2)
    x = bibun.ones(8, 6, 3, 3, device=device)
    y = F.dropout2d(x, 0.5).reshape(8, 6, 9)
    per_channel = y.amax(2)
    assert bibun.equal(y.amin(2), per_channel) and set(per_channel.reshape(-1).tolist()) == {0.0, 2.0}
    y1 = F.dropout1d(bibun.ones(5, 4, device=device), 0.5)  # unbatched (C, L)
    assert bibun.equal(y1.amin(1), y1.amax(1))
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input, but received a 4D input."):
        F.dropout1d(x)
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input to dropout2d"):
        F.dropout2d(bibun.ones(2, 3, 4, device=device))
    with pytest.warns(UserWarning, match="dropout2d: Received a 2-D input to dropout2d"):
        F.dropout2d(bibun.ones(2, 3, device=device))
    y3 = F.dropout3d(bibun.ones(3, 2, 2, 2, device=device), 0.5)  # unbatched (C, D, H, W)
    assert bibun.equal(y3.reshape(3, 8).amin(1), y3.reshape(3, 8).amax(1))
    assert F.feature_alpha_dropout(x, 0.5) is x


def test_dropout_modules_follow_training_mode(device):
    m = nn.Dropout(0.3)
    assert repr(m) == "Dropout(p=0.3, inplace=False)"
    assert repr(nn.Dropout(0.2, True)) == "Dropout(p=0.2, inplace=True)"
    assert repr(nn.Dropout2d()) == "Dropout2d(p=0.5, inplace=False)"
    assert repr(nn.Dropout1d(0.3)) == "Dropout1d(p=0.3, inplace=False)"
    assert repr(nn.AlphaDropout(0.1)) == "AlphaDropout(p=0.1, inplace=False)"
    assert repr(nn.FeatureAlphaDropout()) == "FeatureAlphaDropout(p=0.5, inplace=False)"
    x = bibun.ones(100, device=device)
    assert 0.0 in m(x).tolist()
    m.eval()
    assert m(x) is x
    assert nn.AlphaDropout(0.5).eval()(x) is x
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert nn.Dropout2d(0.5).eval()(bibun.ones(2, 3, 4, 4, device=device)).shape == (2, 3, 4, 4)


# ====================================================================== parity with PyTorch
def _values(name, shapes, kind):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    out = []
    for s in shapes:
        x = rng.standard_normal(size=s)
        if kind == AWAY:
            x = np.sign(x) * (0.5 + np.abs(x))
        out.append(x)
    return out, rng


def _run(L, fn, arrays, dtype_name, device=None):
    kw = {} if device is None else {"device": device}
    xs = [L.tensor(a, dtype=getattr(L, dtype_name), requires_grad=True, **kw) for a in arrays]
    return xs, fn(L, *xs)


def _compare(torch, name, fn, shapes, kind, device, dtype_name, rtol, atol):
    arrays, rng = _values(name, shapes, kind)
    xb, yb = _run(bibun, fn, arrays, dtype_name, device)
    xt, yt = _run(torch, fn, arrays, dtype_name)
    np.testing.assert_allclose(yb.detach().cpu().numpy(), yt.detach().cpu().numpy(), rtol=rtol, atol=atol, err_msg=name)
    w = rng.standard_normal(size=tuple(yt.shape))
    (yb * bibun.tensor(w, dtype=getattr(bibun, dtype_name), device=device)).sum().backward()
    (yt * torch.tensor(w, dtype=getattr(torch, dtype_name))).sum().backward()
    for b, t in zip(xb, xt):
        np.testing.assert_allclose(b.grad.cpu().numpy(), t.grad.cpu().numpy(), rtol=rtol, atol=atol, err_msg=name)


def _fn(L):
    return L.nn.functional


# (id, fn(L, *xs), shapes, kind): written once for bibun and torch
PARITY = [
    ("relu6", lambda L, a: _fn(L).relu6(a * 4), [(3, 5)], AWAY),
    ("leaky_relu", lambda L, a: _fn(L).leaky_relu(a, 0.05), [(3, 5)], AWAY),
    ("leaky_relu_inplace", lambda L, a: _fn(L).leaky_relu(a * 1, 0.05, inplace=True), [(3, 5)], AWAY),
    ("hardtanh", lambda L, a: _fn(L).hardtanh(a, -0.5, 0.8), [(3, 5)], AWAY),
    ("gelu", lambda L, a: _fn(L).gelu(a * 3), [(4, 5)], ANY),
    ("gelu_tanh", lambda L, a: _fn(L).gelu(a * 3, approximate="tanh"), [(4, 5)], ANY),
    ("elu", lambda L, a: _fn(L).elu(a, 0.6), [(3, 5)], AWAY),
    ("elu_inplace", lambda L, a: _fn(L).elu(a * 1, 0.6, inplace=True), [(3, 5)], AWAY),
    ("selu", lambda L, a: _fn(L).selu(a), [(3, 5)], AWAY),
    ("celu", lambda L, a: _fn(L).celu(a, 1.7), [(3, 5)], AWAY),
    ("celu_inplace", lambda L, a: _fn(L).celu(a * 1, 1.7, inplace=True), [(3, 5)], AWAY),
    ("silu", lambda L, a: _fn(L).silu(a * 3), [(3, 5)], ANY),
    ("mish", lambda L, a: _fn(L).mish(a * 3), [(3, 5)], ANY),
    ("softplus", lambda L, a: _fn(L).softplus(a * 10, 1.0, 20.0), [(3, 5)], AWAY),
    ("softplus_beta", lambda L, a: _fn(L).softplus(a * 3, 2.0, 5.0), [(3, 5)], AWAY),
    ("logsigmoid", lambda L, a: _fn(L).logsigmoid(a * 5), [(3, 5)], ANY),
    ("hardsigmoid", lambda L, a: _fn(L).hardsigmoid(a * 3), [(3, 5)], AWAY),
    ("hardswish", lambda L, a: _fn(L).hardswish(a * 3), [(3, 5)], AWAY),
    ("threshold", lambda L, a: _fn(L).threshold(a, 0.2, -1.5), [(3, 5)], AWAY),
    ("prelu", lambda L, a, w: _fn(L).prelu(a, w), [(2, 3, 4), (3,)], AWAY),
    ("softmin", lambda L, a: _fn(L).softmin(a, 1), [(3, 5)], ANY),
    ("softsign_tanhshrink", lambda L, a: _fn(L).softsign(a) * _fn(L).tanhshrink(a), [(3, 5)], ANY),
    ("glu", lambda L, a: _fn(L).glu(a, 1), [(3, 4)], ANY),
    ("layer_norm", lambda L, a, w, b: _fn(L).layer_norm(a, (5,), w, b), [(2, 3, 5), (5,), (5,)], ANY),
    ("layer_norm_2d", lambda L, a: _fn(L).layer_norm(a * 3 + 1, [3, 5], eps=1e-3), [(2, 3, 5)], ANY),
    ("batch_norm_train", lambda L, a, w, b: _fn(L).batch_norm(a * 2 + 1, None, None, w, b, True),
     [(4, 3, 5), (3,), (3,)], ANY),
    ("batch_norm_train_2d", lambda L, a: _fn(L).batch_norm(a, None, None, training=True), [(6, 2, 3, 2)], ANY),
    ("batch_norm_eval", lambda L, a, w, b: _fn(L).batch_norm(
        a, L.linspace(-1, 1, 3, dtype=a.dtype), L.linspace(0.5, 2, 3, dtype=a.dtype), w, b, False),
     [(4, 3, 2), (3,), (3,)], ANY),
    ("embedding", lambda L, w: _fn(L).embedding(L.tensor([[1, 4, 1], [0, 4, 4]]), w, padding_idx=0), [(5, 3)], ANY),
    ("embedding_freq", lambda L, w: _fn(L).embedding(L.tensor([3, 1, 3, 3]), w, scale_grad_by_freq=True),
     [(5, 3)], ANY),
]


@pytest.mark.parametrize("case", PARITY, ids=[c[0] for c in PARITY])
@pytest.mark.parametrize("dtype_name, rtol, atol", [("float64", 1e-13, 1e-14), ("float32", 2e-5, 2e-6)],
                         ids=["float64", "float32"])
def test_parity_with_pytorch(case, dtype_name, rtol, atol, device, torch):
    name, fn, shapes, kind = case
    _compare(torch, name, fn, shapes, kind, device, dtype_name, rtol, atol)


def test_gelu_parity_to_float64_rounding(device, torch):
    x = np.linspace(-10, 10, 4001)
    for approximate in ("none", "tanh"):
        got = F.gelu(_f64(x, device), approximate=approximate).cpu().numpy()
        want = torch.nn.functional.gelu(torch.tensor(x), approximate=approximate).cpu().numpy()
        # 1 + erf(x / sqrt 2) cancels for x < 0: an ulp of erf is all that differs, so compare absolutely
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=1e-15)
        got32 = F.gelu(bibun.tensor(x, dtype=bibun.float32, device=device), approximate=approximate).cpu().numpy()
        want32 = torch.nn.functional.gelu(torch.tensor(x, dtype=torch.float32), approximate=approximate).cpu().numpy()
        # float32: 1 + erf cancels down to float32's spacing near 1 (6e-8), times |x| <= 10
        np.testing.assert_allclose(got32, want32, rtol=3e-7, atol=1e-6)


def _batchnorm_pair(torch, cls_name, device, **kw):
    b = getattr(nn, cls_name)(3, dtype=bibun.float64, device=device, **kw)
    t = getattr(torch.nn, cls_name)(3, dtype=torch.float64, **kw)
    return b, t


@pytest.mark.parametrize("cls_name, shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (4, 3, 6)),
                                             ("BatchNorm2d", (2, 3, 4, 5))])
@pytest.mark.parametrize("momentum", [0.1, None, 0.7])
def test_batch_norm_running_stats_parity(cls_name, shape, momentum, device, torch):
    bm, tm = _batchnorm_pair(torch, cls_name, device, momentum=momentum)
    rng = np.random.default_rng(7)
    with bibun.no_grad():
        bm.weight.copy_(bibun.tensor(rng.uniform(0.5, 2, 3), device=device))
        bm.bias.copy_(bibun.tensor(rng.standard_normal(3), device=device))
    with torch.no_grad():
        tm.weight.copy_(torch.tensor(bm.weight.detach().cpu().numpy()))
        tm.bias.copy_(torch.tensor(bm.bias.detach().cpu().numpy()))
    for step in range(4):
        if step == 3:
            bm.eval()
            tm.eval()
        a = rng.standard_normal(shape) * (step + 1) + step
        xb = bibun.tensor(a, device=device, requires_grad=True)
        xt = torch.tensor(a, requires_grad=True)
        yb, yt = bm(xb), tm(xt)
        np.testing.assert_allclose(yb.detach().cpu().numpy(), yt.detach().cpu().numpy(), rtol=1e-12, atol=1e-13)
        w = rng.standard_normal(shape)
        (yb * bibun.tensor(w, device=device)).sum().backward()
        (yt * torch.tensor(w)).sum().backward()
        np.testing.assert_allclose(xb.grad.cpu().numpy(), xt.grad.cpu().numpy(), rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(bm.running_mean.cpu().numpy(), tm.running_mean.cpu().numpy(), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(bm.running_var.cpu().numpy(), tm.running_var.cpu().numpy(), rtol=1e-13)
        assert bm.num_batches_tracked.item() == tm.num_batches_tracked.item()
    np.testing.assert_allclose(bm.weight.grad.cpu().numpy(), tm.weight.grad.cpu().numpy(), rtol=1e-11)
    np.testing.assert_allclose(bm.bias.grad.cpu().numpy(), tm.bias.grad.cpu().numpy(), rtol=1e-11)


def test_batch_norm_float32_running_stats_parity(device, torch):
    bm, tm = nn.BatchNorm2d(4, device=device), torch.nn.BatchNorm2d(4)
    rng = np.random.default_rng(3)
    for _ in range(5):
        a = (rng.standard_normal((3, 4, 5, 5)) * 3 + 2).astype(np.float32)
        np.testing.assert_allclose(bm(bibun.tensor(a, device=device)).detach().cpu().numpy(),
                                   tm(torch.tensor(a)).detach().cpu().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(bm.running_mean.cpu().numpy(), tm.running_mean.cpu().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bm.running_var.cpu().numpy(), tm.running_var.cpu().numpy(), rtol=1e-5)


def test_layer_norm_module_parity(device, torch):
    rng = np.random.default_rng(4)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    lb, lt = nn.LayerNorm([3, 4], device=device), torch.nn.LayerNorm([3, 4])
    xb, xt = bibun.tensor(a, device=device, requires_grad=True), torch.tensor(a, requires_grad=True)
    yb, yt = lb(xb), lt(xt)
    np.testing.assert_allclose(yb.detach().cpu().numpy(), yt.detach().cpu().numpy(), rtol=1e-5, atol=1e-6)
    (yb * yb).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xb.grad.cpu().numpy(), xt.grad.cpu().numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lb.weight.grad.cpu().numpy(), lt.weight.grad.cpu().numpy(), rtol=1e-4, atol=1e-5)


def test_embedding_max_norm_parity(device, torch):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 4)) * 2
    idx = [[0, 2, 2], [5, 1, 0]]
    wb, wt = bibun.tensor(w, device=device, requires_grad=True), torch.tensor(w, requires_grad=True)
    for norm_type in (2.0, 1.0):
        yb = F.embedding(bibun.tensor(idx, device=device), wb, max_norm=1.5, norm_type=norm_type)
        yt = torch.nn.functional.embedding(torch.tensor(idx), wt, max_norm=1.5, norm_type=norm_type)
        np.testing.assert_allclose(yb.detach().cpu().numpy(), yt.detach().cpu().numpy(), rtol=1e-14)
        np.testing.assert_allclose(wb.detach().cpu().numpy(), wt.detach().cpu().numpy(), rtol=1e-14)


def test_embedding_init_parity_after_manual_seed(torch):
    bibun.manual_seed(0)
    torch.manual_seed(0)
    eb, et = nn.Embedding(10, 3, padding_idx=2), torch.nn.Embedding(10, 3, padding_idx=2)
    np.testing.assert_array_equal(eb.weight.detach().cpu().numpy(), et.weight.detach().cpu().numpy())


DROPOUTS = [
    ("dropout", lambda F_, x: F_.dropout(x, 0.3), (7, 9)),
    ("dropout_inplace", lambda F_, x: F_.dropout(x * 1, 0.6, inplace=True), (40,)),
    # the mask is drawn in the input's memory order, as PyTorch draws it
    ("dropout_transposed", lambda F_, x: F_.dropout(x.transpose(0, 2), 0.5), (4, 6, 3)),
    ("dropout_sliced_permuted", lambda F_, x: F_.dropout(x[:, 1:4].permute(2, 0, 1), 0.5), (4, 6, 3)),
    ("dropout2d", lambda F_, x: F_.dropout2d(x, 0.4), (3, 5, 2, 2)),
    ("dropout1d_unbatched", lambda F_, x: F_.dropout1d(x, 0.5), (4, 6)),
    ("dropout3d_unbatched", lambda F_, x: F_.dropout3d(x, 0.5), (4, 2, 2, 2)),
    ("alpha_dropout", lambda F_, x: F_.alpha_dropout(x, 0.2, True), (6, 7)),
    ("feature_alpha_dropout", lambda F_, x: F_.feature_alpha_dropout(x, 0.2, True), (3, 4, 5)),
]


@pytest.mark.parametrize("case", DROPOUTS, ids=[c[0] for c in DROPOUTS])
@pytest.mark.parametrize("dtype_name", ["float32", "float64"])
def test_dropout_masks_are_pytorchs_after_manual_seed(case, dtype_name, device, torch):
    name, fn, shape = case
    a = np.random.default_rng(zlib.crc32(name.encode())).standard_normal(shape)
    bibun.manual_seed(11)
    torch.manual_seed(11)
    xb = bibun.tensor(a, dtype=getattr(bibun, dtype_name), device=device, requires_grad=True)
    xt = torch.tensor(a, dtype=getattr(torch, dtype_name), requires_grad=True)
    yb, yt = fn(F, xb), fn(torch.nn.functional, xt)
    np.testing.assert_array_equal(yb.detach().cpu().numpy(), yt.detach().cpu().numpy())
    yb.sum().backward()
    yt.sum().backward()
    np.testing.assert_array_equal(xb.grad.cpu().numpy(), xt.grad.cpu().numpy())
    # the generator moved on by as much as PyTorch's did
    np.testing.assert_array_equal(bibun.rand(4).cpu().numpy(), torch.rand(4).cpu().numpy())


def test_dropout_module_parity_in_a_model(torch):
    bibun.manual_seed(0)
    torch.manual_seed(0)
    mb = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.25), nn.Linear(8, 2))
    mt = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Dropout(0.25), torch.nn.Linear(8, 2))
    x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    for _ in range(2):
        np.testing.assert_allclose(mb(bibun.tensor(x)).detach().cpu().numpy(), mt(torch.tensor(x)).detach().numpy(),
                                   rtol=1e-6, atol=1e-6)


def test_one_hot_parity(torch):
    t = [[3, 0], [1, 1]]
    assert F.one_hot(bibun.tensor(t)).tolist() == torch.nn.functional.one_hot(torch.tensor(t)).tolist()
    assert F.one_hot(bibun.tensor(t), 6).tolist() == torch.nn.functional.one_hot(torch.tensor(t), 6).tolist()


def test_module_reprs_match_pytorch(torch):
    pairs = [("LayerNorm", (4,), {}), ("LayerNorm", ((4, 5),), {"eps": 1e-6, "elementwise_affine": False}),
             ("BatchNorm1d", (3,), {}), ("BatchNorm2d", (8,), {"momentum": None, "affine": False}),
             ("Embedding", (10, 3), {}), ("Embedding", (10, 3), {"padding_idx": 0, "max_norm": 1.0}),
             ("Dropout", (0.2,), {}), ("LeakyReLU", (), {}), ("GELU", (), {}), ("Softmax", (), {"dim": 1}),
             ("ELU", (), {"alpha": 0.5, "inplace": True}), ("PReLU", (3,), {}), ("Softplus", (), {})]
    for name, args, kw in pairs:
        assert repr(getattr(nn, name)(*args, **kw)) == repr(getattr(torch.nn, name)(*args, **kw)), name
