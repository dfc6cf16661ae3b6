"""``bibun.optim``: update rules (pinned 20-step trajectories and PyTorch parity), groups, state dicts, errors.

The trajectories start from fixed parameters and take gradients computed from the current
parameters by a fixed formula (``_gradient``), with some gradients left as None on some
steps; the pinned values are PyTorch 2.13's after 20 steps. The parity tests compare every
step with PyTorch; with PyTorch's own square root substituted for numpy's they are bitwise
equal (PyTorch's CPU ``sqrt`` comes from MKL and is not always correctly rounded).
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from test_ops_gradcheck import ANY, POS, check_case

import bibun
import bibun.optim as optim
from bibun.ops import pointwise

SHAPES = ((2, 2), (3,), ())
STEPS = 20

CONFIGS = {
    "sgd": ("SGD", dict(lr=0.1)),
    "sgd_momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
    "sgd_dampening_wd": ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "sgd_nesterov_maximize": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1, maximize=True)),
    "adam": ("Adam", dict()),
    "adam_amsgrad_wd": ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    "adam_betas_maximize": ("Adam", dict(lr=0.01, betas=(0.8, 0.9), maximize=True, eps=1e-6)),
    "adam_decoupled": ("Adam", dict(lr=0.01, decoupled_weight_decay=True, weight_decay=0.1)),
    "adamw": ("AdamW", dict(lr=0.01)),
    "adamw_amsgrad_maximize": ("AdamW", dict(lr=0.01, amsgrad=True, maximize=True, weight_decay=0.3)),
    "rmsprop": ("RMSprop", dict()),
    "rmsprop_centered_momentum_wd": ("RMSprop", dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True,
                                                     weight_decay=0.1)),
    "rmsprop_centered_maximize": ("RMSprop", dict(lr=0.01, centered=True, maximize=True)),
    "rmsprop_momentum": ("RMSprop", dict(lr=0.01, momentum=0.9)),
    "adagrad": ("Adagrad", dict()),
    "adagrad_decay_wd_init": ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1,
                                              eps=1e-6)),
    "adagrad_maximize": ("Adagrad", dict(lr=0.1, maximize=True)),
}

# PyTorch 2.13 (CPU, float64): every parameter element, flattened in order, after 20 steps
PINNED = {
    "sgd": [0.29360560999843527, -0.2770459593949618, -0.3168849808458444, -0.04699838023750283,
            -0.5112803731217075, -0.22687372435150227, 0.09832318217563982, 0.034177654698363084],
    "sgd_momentum": [0.03296840469178148, 0.4023560187305392, -0.27575716826364877, -0.16659759882379663,
                     0.659171058818553, -0.017725222129521854, -0.18739495382250432, -0.130956422349129],
    "sgd_dampening_wd": [-0.17021430144587682, 0.290916903823606, 0.370968701995756, -0.21085368777196495,
                         0.17421443500733086, 0.1463704044361727, -0.4436394493956979, -0.059466920606153675],
    "sgd_nesterov_maximize": [3.280139931220473, -2.832758811703304, -11.844029637987898, -0.34101289961377645,
                              -2.8967097511093174, -2.56259577338057, 8.658824552580747, 1.3391474815039444],
    "adam": [0.5318876010714999, -0.6626227595372653, -0.8834492784078215, 0.185222412650567,
             -0.9864332287519026, -0.39660121402386583, 0.7637186923962864, 0.27983729439654254],
    "adam_amsgrad_wd": [0.45274278587891253, -0.6199821582543515, -0.7619560132634774, 0.16990493905927373,
                        -0.9427017106233482, -0.35236653144915364, 0.6531082130703482, 0.24243068797471834],
    "adam_betas_maximize": [0.61964164110757, -0.7086266722877149, -1.0314641249597014, 0.2055703097067807,
                            -1.030192754780414, -0.4443051285247899, 0.8971197211720935, 0.3224235289057038],
    "adam_decoupled": [0.45101089485032075, -0.6185333551563539, -0.7530967015199693, 0.17025893813871723,
                       -0.9385103116525388, -0.35310635987057126, 0.6488670363495935, 0.24293990366028825],
    "adamw": [0.4578501443371415, -0.6278119158448111, -0.7647394603644874, 0.1727895249685281,
              -0.9524232141075115, -0.3584662593937391, 0.6588830073796559, 0.24656498153148274],
    "adamw_amsgrad_maximize": [0.5990814152226799, -0.6695947694967438, -0.9865751815414804, 0.18949080208574737,
                               -0.9778502781431757, -0.4230044821400808, 0.8574659324268767, 0.30905865321630505],
    "rmsprop": [0.2618651086484473, -0.4955470973637869, -0.3971797534771775, 0.07835910072500918,
                -0.8547760239080615, -0.27219558024920837, 0.35222029709712377, 0.14465233688071533],
    "rmsprop_centered_momentum_wd": [0.311252944351221, -0.49939458395101977, -0.46460691056654235,
                                     0.10741154022098176, -0.8430299094596028, -0.27306190470983727,
                                     0.39593653720632727, 0.17551534438813135],
    "rmsprop_centered_maximize": [0.980140031780462, -0.8127788838078032, -1.6423620629098776, 0.29173533170026666,
                                  -1.1135036806786027, -0.5976082095521951, 1.4457609564237823, 0.48821958976380636],
    "rmsprop_momentum": [-0.7666760158332505, 0.1821369885166758, 0.6606437068268335, -0.15134284100264436,
                         -0.3543697403969406, 0.25250154107400175, -0.574584543104946, -0.1084541672453522],
    "adagrad": [0.5060012169770403, -0.6498741970920532, -0.8351404645093224, 0.1751891260880126,
                -0.977182543438786, -0.38514254468292586, 0.723427546384936, 0.26761892213972527],
    "adagrad_decay_wd_init": [0.2800151625684293, -0.46332078499416934, -0.450524150401839, 0.11253984212939357,
                              -0.7955267397900383, -0.2553702322973458, 0.36148220779055074, 0.1466532429027345],
    "adagrad_maximize": [0.970933605818258, -0.8075770877937222, -1.6170080627119003, 0.28944123653103726,
                         -1.1094673962075485, -0.5922685831010823, 1.4216328126582711, 0.48284012200866966],
}

# optimizers whose updates need a square root (the only operation that differs from PyTorch's CPU build)
_USES_SQRT = ("Adam", "AdamW", "RMSprop", "Adagrad")


# ---------------------------------------------------------------------- the trajectory both frameworks follow
def _initial(dtype):
    out = []
    for i, s in enumerate(SHAPES):
        n = int(np.prod(s))
        out.append(np.array([math.cos(1 + 1.3 * j + 2 * i) for j in range(n)]).reshape(s).astype(dtype))
    return out


def _gradient(p, i, k, dtype):
    n = p.size
    c = np.array([0.5 + 0.25 * (j % 4) for j in range(n)]).reshape(p.shape).astype(dtype)
    noise = np.array([math.sin(0.7 * k + 1.1 * j + i) for j in range(n)]).reshape(p.shape).astype(dtype)
    return np.asarray(p * c + noise, dtype=dtype)


def _trajectory(params, optimizer, to_numpy, set_grad, dtype, steps=STEPS, start=0):
    """Run ``steps`` steps; parameter ``i`` has no gradient on steps ``k`` with ``(k + i) % 5 == 4``."""
    out = []
    for k in range(start, start + steps):
        for i, p in enumerate(params):
            set_grad(p, None if (k + i) % 5 == 4 else _gradient(to_numpy(p), i, k, dtype))
        optimizer.step()
        out.append(np.concatenate([to_numpy(p).reshape(-1) for p in params]))
    return out


def _bibun_params(dtype, device="cpu", parameter=False):
    params = [bibun.tensor(x, device=device, requires_grad=True) for x in _initial(dtype)]
    return [bibun.nn.Parameter(p) for p in params] if parameter else params


def _bibun_run(name, dtype, device="cpu", steps=STEPS, parameter=False):
    cls, kwargs = CONFIGS[name]
    params = _bibun_params(dtype, device, parameter)
    opt = getattr(optim, cls)(params, **kwargs)

    def set_grad(p, g):
        p.grad = None if g is None else bibun.tensor(g, device=device)

    return _trajectory(params, opt, lambda p: p.detach().cpu().numpy(), set_grad, dtype, steps)


def _torch_run(torch, name, dtype, steps=STEPS):
    cls, kwargs = CONFIGS[name]
    params = [torch.nn.Parameter(torch.from_numpy(x)) for x in _initial(dtype)]
    opt = getattr(torch.optim, cls)(params, **kwargs)

    def set_grad(p, g):
        p.grad = None if g is None else torch.from_numpy(g)

    return _trajectory(params, opt, lambda p: p.detach().cpu().numpy(), set_grad, dtype, steps)


# ---------------------------------------------------------------------- pinned trajectories
@pytest.mark.parametrize("name", list(CONFIGS))
def test_pinned_trajectory_float64(name, device):
    final = _bibun_run(name, np.float64, device)[-1]
    # SGD is bit-exact; the others agree to rounding (PyTorch's sqrt is MKL's, off by up to 0.75 ulp)
    exact = CONFIGS[name][0] not in _USES_SQRT and device == "cpu"
    if exact:
        assert final.tolist() == PINNED[name]
    else:
        np.testing.assert_allclose(final, PINNED[name], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["sgd_momentum", "adam", "adamw_amsgrad_maximize", "rmsprop_centered_momentum_wd",
                                  "adagrad_decay_wd_init"])
def test_pinned_trajectory_float32(name, device):
    final = _bibun_run(name, np.float32, device)[-1]
    assert final.dtype == np.float32
    np.testing.assert_allclose(final, PINNED[name], rtol=2e-5, atol=2e-6)


def test_nn_parameters_are_accepted():
    a = _bibun_run("adam", np.float64, parameter=True)[-1]
    np.testing.assert_allclose(a, PINNED["adam"], rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------------- parity with PyTorch
def _torch_sqrt(torch):
    """numpy.sqrt computed by PyTorch: the same rounding as PyTorch's optimizers use."""
    real = np.sqrt

    def sqrt(x, out=None, **kwargs):
        a = np.asarray(x)
        if a.dtype.kind != "f" or kwargs:
            return real(x, out=out, **kwargs) if out is not None else real(x, **kwargs)
        r = torch.from_numpy(np.array(a, copy=True)).sqrt().cpu().numpy()
        if out is None:
            return r if a.ndim else r[()]
        out[...] = r
        return out

    return sqrt


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_parity_bitwise_with_torch_sqrt(name, dtype, torch, monkeypatch):
    expected = _torch_run(torch, name, dtype)
    monkeypatch.setattr(np, "sqrt", _torch_sqrt(torch))
    got = _bibun_run(name, dtype)
    for k, (e, g) in enumerate(zip(expected, got)):
        assert e.dtype == g.dtype
        assert np.array_equal(e, g), f"step {k}: {e} != {g}"


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_parity_every_step(name, dtype, torch, device):
    expected = _torch_run(torch, name, dtype)
    got = _bibun_run(name, dtype, device)
    tol = dict(rtol=1e-13, atol=1e-15) if dtype == np.float64 else dict(rtol=1e-5, atol=1e-6)
    for e, g in zip(expected, got):
        np.testing.assert_allclose(g, e, **tol)


# ---------------------------------------------------------------------- construction and validation
def _p(*shape, **kw):
    return bibun.zeros(*shape or (2,), requires_grad=True, **kw)


@pytest.mark.parametrize("make, exc, message", [
    (lambda: optim.SGD([_p()], lr=-0.1), ValueError, "Invalid learning rate: -0.1"),
    (lambda: optim.SGD([_p()], lr=0.1, momentum=-1), ValueError, "Invalid momentum value: -1"),
    (lambda: optim.SGD([_p()], lr=0.1, weight_decay=-1), ValueError, "Invalid weight_decay value: -1"),
    (lambda: optim.SGD([_p()], lr=0.1, nesterov=True), ValueError,
     "Nesterov momentum requires a momentum and zero dampening"),
    (lambda: optim.SGD([], lr=0.1), ValueError, "optimizer got an empty parameter list"),
    (lambda: optim.SGD(bibun.ones(2), lr=0.1), TypeError,
     "params argument given to the optimizer should be an iterable of Tensors or dicts, but got bibun.FloatTensor"),
    (lambda: optim.SGD([1.0], lr=0.1), TypeError,
     "optimizer can only optimize Tensors, but one of the params is float"),
    (lambda: optim.SGD([_p() * 2], lr=0.1), ValueError, "can't optimize a non-leaf Tensor"),
    (lambda: optim.SGD([{"params": {_p()}}], lr=0.1), TypeError,
     "optimizer parameters need to be organized in ordered collections"),
    (lambda: optim.Adam([_p()], lr=-1.0), ValueError, "Invalid learning rate: -1.0"),
    (lambda: optim.Adam([_p()], betas=(1.5, 0.9)), ValueError, "Invalid beta parameter at index 0: 1.5"),
    (lambda: optim.Adam([_p()], betas=(0.9, 1.0)), ValueError, "Invalid beta parameter at index 1: 1.0"),
    (lambda: optim.Adam([_p()], betas=(0, 0.9)), ValueError, "betas must be either both floats or both Tensors"),
    (lambda: optim.Adam([_p()], eps=-1e-8), ValueError, "Invalid epsilon value: -1e-08"),
    (lambda: optim.Adam([_p()], weight_decay=-0.1), ValueError, "Invalid weight_decay value: -0.1"),
    (lambda: optim.AdamW([_p()], betas=(0.9, -0.1)), ValueError, "Invalid beta parameter at index 1: -0.1"),
    (lambda: optim.RMSprop([_p()], alpha=-0.5), ValueError, "Invalid alpha value: -0.5"),
    (lambda: optim.RMSprop([_p()], momentum=-0.5), ValueError, "Invalid momentum value: -0.5"),
    (lambda: optim.RMSprop([_p()], eps=-1.0), ValueError, "Invalid epsilon value: -1.0"),
    (lambda: optim.Adagrad([_p()], lr_decay=-1), ValueError, "Invalid lr_decay value: -1"),
    (lambda: optim.Adagrad([_p()], initial_accumulator_value=-1), ValueError,
     "Invalid initial_accumulator_value value: -1"),
    (lambda: optim.Adagrad([_p()], eps=-1), ValueError, "Invalid epsilon value: -1"),
])
def test_validation_errors(make, exc, message):
    with pytest.raises(exc) as info:
        make()
    assert str(info.value).startswith(message)


def test_parameter_in_two_groups_is_refused():
    p = _p()
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)


def test_duplicate_parameter_in_a_group_warns():
    p = _p()
    with pytest.warns(UserWarning, match="optimizer contains a parameter group with duplicate parameters"):
        optim.SGD([p, p], lr=0.1)


def test_repr_matches_pytorch():
    p = _p()
    assert repr(optim.SGD([p], lr=0.01)) == (
        "SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n    fused: None\n"
        "    lr: 0.01\n    maximize: False\n    momentum: 0\n    nesterov: False\n    weight_decay: 0\n)")
    assert repr(optim.Adam([p])) == (
        "Adam (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    capturable: False\n"
        "    decoupled_weight_decay: False\n    differentiable: False\n    eps: 1e-08\n    foreach: None\n"
        "    fused: None\n    lr: 0.001\n    maximize: False\n    weight_decay: 0\n)")
    assert repr(optim.AdamW([p])) == (
        "AdamW (\nParameter Group 0\n    amsgrad: False\n    betas: (0.9, 0.999)\n    capturable: False\n"
        "    decoupled_weight_decay: True\n    differentiable: False\n    eps: 1e-08\n    foreach: None\n"
        "    fused: None\n    lr: 0.001\n    maximize: False\n    weight_decay: 0.01\n)")
    assert repr(optim.RMSprop([p])) == (
        "RMSprop (\nParameter Group 0\n    alpha: 0.99\n    capturable: False\n    centered: False\n"
        "    differentiable: False\n    eps: 1e-08\n    foreach: None\n    lr: 0.01\n    maximize: False\n"
        "    momentum: 0\n    weight_decay: 0\n)")
    assert repr(optim.Adagrad([p])) == (
        "Adagrad (\nParameter Group 0\n    differentiable: False\n    eps: 1e-10\n    foreach: None\n"
        "    fused: None\n    initial_accumulator_value: 0\n    lr: 0.01\n    lr_decay: 0\n"
        "    maximize: False\n    weight_decay: 0\n)")
    two = optim.SGD([{"params": [p]}, {"params": [_p()], "lr": 0.5}], lr=0.1, momentum=0.9)
    assert "Parameter Group 1\n" in repr(two) and "    lr: 0.5\n" in repr(two)


def test_groups_take_defaults_and_keep_their_own_options():
    a, b = _p(), _p()
    opt = optim.SGD([{"params": a}, {"params": [b], "lr": 0.5, "momentum": 0.1}], lr=0.1, momentum=0.9)
    g0, g1 = opt.param_groups
    assert g0["params"] == [a] and g0["lr"] == 0.1 and g0["momentum"] == 0.9
    assert g1["params"][0] is b and g1["lr"] == 0.5 and g1["momentum"] == 0.1
    assert opt.defaults["lr"] == 0.1


def test_add_param_group():
    a, b = _p(), _p()
    opt = optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["betas"] == (0.9, 0.999)
    a.grad = bibun.ones(2)
    b.grad = bibun.ones(2)
    opt.step()
    # Adam's first step moves every element by lr (sign of the gradient)
    np.testing.assert_allclose(a.detach().cpu().numpy(), [-0.1, -0.1], rtol=1e-6)
    np.testing.assert_allclose(b.detach().cpu().numpy(), [-0.01, -0.01], rtol=1e-6)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(TypeError, match="param_group must be a dict, but got <class 'list'>"):
        opt.add_param_group([_p()])
    assert len(opt.param_groups) == 2


def test_required_hyperparameter():
    class Plain(optim.Optimizer):
        def __init__(self, params, lr=optim.optimizer.required):
            super().__init__(params, {"lr": lr})

    with pytest.raises(ValueError, match="parameter group didn't specify a value of required optimization "
                                         "parameter lr"):
        Plain([_p()])
    assert Plain([{"params": [_p()], "lr": 0.3}]).param_groups[0]["lr"] == 0.3
    with pytest.raises(NotImplementedError):
        Plain([{"params": [_p()], "lr": 0.3}]).step()


# ---------------------------------------------------------------------- stepping
def test_step_is_in_place_keeps_identity_and_skips_missing_gradients():
    a, b = bibun.ones(3, requires_grad=True), bibun.ones(2, requires_grad=True)
    data_before = a._data
    version = a._version_value
    opt = optim.SGD([a, b], lr=0.5)
    a.grad = bibun.tensor([1.0, 2.0, 3.0])
    opt.step()
    assert a._data is data_before and a._version_value == version + 1
    np.testing.assert_array_equal(a.detach().cpu().numpy(), [0.5, 0.0, -0.5])
    np.testing.assert_array_equal(b.detach().cpu().numpy(), [1.0, 1.0])
    assert a.is_leaf and a.requires_grad and a.grad_fn is None


def test_step_records_no_graph_and_detects_saved_tensor_changes():
    w = bibun.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.grad = bibun.tensor([1.0, 1.0])
    optim.SGD([w], lr=0.1).step()
    assert w.grad_fn is None
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()


def test_closure_runs_with_grad_enabled_and_returns_the_loss():
    w = bibun.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with bibun.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 5.0
    np.testing.assert_array_equal(w.detach().cpu().numpy(), [0.5, -1.0])


def test_zero_grad():
    a, b = _p(), _p()
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = bibun.ones(2)
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    a.grad = bibun.ones(2)
    g = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is g and a.grad.tolist() == [0.0, 0.0] and b.grad is None


def test_state_layout_matches_pytorch():
    p = _p()
    p.grad = bibun.ones(2)
    sgd = optim.SGD([p], lr=0.1)
    sgd.step()
    assert dict(sgd.state) == {}  # no momentum: no state
    sgd_m = optim.SGD([p], lr=0.1, momentum=0.9)
    sgd_m.step()
    assert list(sgd_m.state[p]) == ["momentum_buffer"]
    adam = optim.Adam([p], amsgrad=True)
    adam.step()
    st = adam.state[p]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    assert st["step"].dtype is bibun.float32 and st["step"].ndim == 0 and st["step"].item() == 1.0
    assert st["step"].device.type == "cpu"
    rms = optim.RMSprop([p], momentum=0.5, centered=True)
    rms.step()
    assert list(rms.state[p]) == ["step", "square_avg", "momentum_buffer", "grad_avg"]
    ada = optim.Adagrad([p], initial_accumulator_value=0.5)
    assert list(ada.state[p]) == ["step", "sum"] and ada.state[p]["sum"].tolist() == [0.5, 0.5]


def test_step_counter_follows_the_default_dtype():
    p = _p()
    p.grad = bibun.ones(2)
    old = bibun.get_default_dtype()
    bibun.set_default_dtype(bibun.float64)
    try:
        opt = optim.Adam([p])
        opt.step()
    finally:
        bibun.set_default_dtype(old)
    assert opt.state[p]["step"].dtype is bibun.float64


def test_step_hooks():
    p = _p()
    p.grad = bibun.ones(2)
    opt = optim.SGD([p], lr=0.1)
    calls = []
    h1 = opt.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", o is opt)))
    h2 = opt.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", o is opt)))
    opt.step()
    h1.remove()
    h2.remove()
    opt.step()
    assert calls == [("pre", True), ("post", True)]


# ---------------------------------------------------------------------- state dicts
def test_state_dict_format():
    a, b, c = _p(), _p(3), _p()
    a.grad, b.grad = bibun.ones(2), bibun.ones(3)
    opt = optim.Adam([{"params": [a, b]}, {"params": [c], "lr": 0.5}])
    opt.step()
    sd = opt.state_dict()
    assert list(sd) == ["state", "param_groups"]
    assert list(sd["state"]) == [0, 1]  # c had no gradient: no state
    assert sd["state"][0]["exp_avg"] is opt.state[a]["exp_avg"]  # the optimizer's own tensors, as in PyTorch
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert list(sd["param_groups"][0]) == ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "foreach",
                                           "capturable", "differentiable", "fused", "decoupled_weight_decay",
                                           "params"]
    assert sd["param_groups"][1]["lr"] == 0.5


@pytest.mark.parametrize("name", ["sgd_momentum", "adam_amsgrad_wd", "adamw", "rmsprop_centered_momentum_wd",
                                  "adagrad_decay_wd_init"])
def test_state_dict_round_trip_continues_the_same_trajectory(name):
    cls, kwargs = CONFIGS[name]

    def set_grad(p, g):
        p.grad = None if g is None else bibun.tensor(g)

    def numpy(p):
        return p.detach().cpu().numpy()

    params = _bibun_params(np.float64)
    opt = getattr(optim, cls)(params, **kwargs)
    whole = _trajectory(params, opt, numpy, set_grad, np.float64, 20)

    params = _bibun_params(np.float64)
    opt = getattr(optim, cls)(params, **kwargs)
    first = _trajectory(params, opt, numpy, set_grad, np.float64, 10)
    saved = copy.deepcopy(opt.state_dict())
    values = [numpy(p).copy() for p in params]

    resumed = [bibun.tensor(v, requires_grad=True) for v in values]
    opt2 = getattr(optim, cls)(resumed, lr=123.0)  # the loaded groups replace these options
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kwargs.get("lr", opt.defaults["lr"])
    assert opt2.param_groups[0]["params"][0] is resumed[0]
    second = _trajectory(resumed, opt2, numpy, set_grad, np.float64, 10, start=10)
    for e, g in zip(whole, first + second):
        assert np.array_equal(e, g)


def test_load_state_dict_errors_leave_the_optimizer_unchanged():
    a, b = _p(), _p()
    a.grad = b.grad = bibun.ones(2)
    opt = optim.Adam([a, b], lr=0.1)
    opt.step()
    groups, state = opt.param_groups, dict(opt.state)
    before = {k: {n: v.tolist() for n, v in s.items()} for k, s in state.items()}

    other = optim.Adam([{"params": [_p()]}, {"params": [_p()]}])
    with pytest.raises(ValueError, match="^loaded state dict has a different number of parameter groups$"):
        opt.load_state_dict(other.state_dict())
    other = optim.Adam([_p(), _p(), _p()])
    with pytest.raises(ValueError, match="^loaded state dict contains a parameter group that doesn't match the size "
                                         "of optimizer's group$"):
        opt.load_state_dict(other.state_dict())
    assert opt.param_groups is groups and dict(opt.state) == state
    assert {k: {n: v.tolist() for n, v in s.items()} for k, s in opt.state.items()} == before


def test_loaded_state_follows_the_parameter_dtype():
    p64 = bibun.zeros(2, dtype=bibun.float64, requires_grad=True)
    p64.grad = bibun.ones(2, dtype=bibun.float64)
    src = optim.Adam([p64])
    src.step()
    p32 = _p()
    dst = optim.Adam([p32])
    dst.load_state_dict(src.state_dict())
    st = dst.state[p32]
    assert st["exp_avg"].dtype is bibun.float32 and st["exp_avg_sq"].dtype is bibun.float32
    assert st["step"].dtype is bibun.float32 and st["step"].item() == 1.0  # the step keeps its own dtype
    p32.grad = bibun.ones(2)
    dst.step()
    assert st["step"].item() == 2.0


# ---------------------------------------------------------------------- by name
def test_create_by_name():
    assert set(optim.available()) >= {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    p = _p()
    opt = optim.create("AdamW", [p], lr=0.5)
    assert type(opt) is optim.AdamW and opt.param_groups[0]["lr"] == 0.5
    assert type(optim.create("sgd", [p], lr=0.1, momentum=0.9)) is optim.SGD
    with pytest.raises(ValueError, match="no optimizer named 'no_such_optimizer' is registered"):
        optim.create("no_such_optimizer", [p])


# ---------------------------------------------------------------------- the fused pointwise ops
def _t(values, **kw):
    return bibun.tensor(values, dtype=bibun.float64, **kw)


GRADCHECK_CASES = [
    ("addcmul", lambda a, b, c: pointwise.addcmul(a, b, c, value=-0.7), [(2, 3), (2, 3), (3,)], ANY),
    ("addcmul_1", lambda a, b, c: a.addcmul(b, c), [(2, 3), (1, 3), (2, 1)], ANY),
    ("addcdiv", lambda a, b, c: a.addcdiv(b, c, value=1.5), [(2, 3), (2, 3), (2, 3)], POS),
    ("addcdiv_bcast", lambda a, b, c: pointwise.addcdiv(a, b, c), [(3,), (2, 3), (2, 1)], POS),
    ("lerp_small", lambda a, b: a.lerp(b, 0.3), [(2, 3), (2, 3)], ANY),
    ("lerp_large", lambda a, b: pointwise.lerp(a, b, 0.8), [(2, 3), (3,)], ANY),
    ("lerp_tensor", lambda a, b, w: a.lerp(b, w), [(2, 3), (2, 3), (2, 3)], ANY),
    ("lerp_inplace", lambda a, b: (a * 1).lerp_(b, 0.25) * a, [(2, 3), (2, 3)], ANY),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_pointwise_gradcheck_and_gradgradcheck(case, device):
    check_case(case, device)


def test_pointwise_values_and_node_names():
    a, b, c = _t([1.0, 2.0], requires_grad=True), _t([3.0, -4.0]), _t([0.5, 2.0])
    r = a.addcmul(b, c, value=2)
    assert r.tolist() == [4.0, -14.0] and type(r.grad_fn).__name__ == "AddcmulBackward0"
    r = a.addcdiv(b, c, value=-1)
    assert r.tolist() == [-5.0, 4.0] and type(r.grad_fn).__name__ == "AddcdivBackward0"
    r = a.lerp(b, 0.25)
    assert r.tolist() == [1.5, 0.5] and type(r.grad_fn).__name__ == "LerpBackward0"
    r = a.lerp(b, _t([0.5, 1.0]))
    assert r.tolist() == [2.0, -4.0] and type(r.grad_fn).__name__ == "LerpBackward1"
    x = _t([1.0, 2.0])
    assert x.addcmul_(b, c) is x and x.tolist() == [2.5, -6.0]
    assert x.lerp_(b, 1.0).tolist() == [3.0, -4.0]
    ints = bibun.tensor([1, 2])
    assert ints.addcmul(ints, ints, value=2).tolist() == [3, 10]
    with pytest.raises(RuntimeError, match="Integer division with addcdiv is no longer supported"):
        ints.addcdiv(ints, ints)
    with pytest.raises(NotImplementedError, match="^\"lerp_kernel_scalar\" not implemented for 'Long'$"):
        ints.lerp(ints, 0.5)
    with pytest.raises(RuntimeError, match="expected dtype float for `end` but got dtype double"):
        bibun.ones(2).lerp(bibun.ones(2, dtype=bibun.float64), 0.5)


def test_fma_rounds_once():
    # 1 + 2**-30 squared is 1 + 2**-29 + 2**-60: a separate product rounding loses the 2**-60
    x = 1.0 + 2.0 ** -30
    a = np.array([x])
    r = pointwise.fma(np, a, a, np.array([-1.0 - 2.0 ** -29]))
    assert r[0] == 2.0 ** -60
    big = np.full(70000, x)  # the blocked path
    assert (pointwise.fma(np, big, big, np.full(70000, -1.0 - 2.0 ** -29)) == 2.0 ** -60).all()
    a32 = np.array([1 + 2.0 ** -12], dtype=np.float32)
    r32 = pointwise.fma(np, a32, a32, np.array([-1 - 2.0 ** -11], dtype=np.float32))
    assert r32.dtype == np.float32 and r32[0] == np.float32(2.0 ** -24)
    inf = pointwise.fma(np, np.array([np.inf, 1e300]), 1e300, np.array([1.0, 1.0]))
    assert inf.tolist() == [np.inf, np.inf]


def test_pointwise_parity(torch):
    rng = np.random.default_rng(0)
    for dt in (np.float64, np.float32):
        a, b, c = (rng.standard_normal(1000).astype(dt) for _ in range(3))
        w = rng.uniform(-0.5, 1.5, 1000).astype(dt)
        ta, tb, tc, tw = (torch.from_numpy(x) for x in (a, b, c, w))
        ba, bb, bc, bw = (bibun.tensor(x) for x in (a, b, c, w))
        pairs = [
            (torch.addcmul(ta, tb, tc, value=0.3), ba.addcmul(bb, bc, value=0.3)),
            (torch.addcdiv(ta, tb, tc, value=-2.0), ba.addcdiv(bb, bc, value=-2.0)),
            (torch.lerp(ta, tb, 0.1), ba.lerp(bb, 0.1)),
            (torch.lerp(ta, tb, 0.9), ba.lerp(bb, 0.9)),
            (torch.lerp(ta, tb, tw), ba.lerp(bb, bw)),
        ]
        for t, r in pairs:
            assert np.array_equal(t.cpu().numpy(), r.cpu().numpy())

