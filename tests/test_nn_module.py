"""nn.Module, Parameter, containers, Linear and nn.init: PyTorch's registration rules,
traversal orders, reprs, state_dict keys, all-or-nothing load_state_dict, hooks and to()."""

from __future__ import annotations

import copy
import math
from collections import OrderedDict

import numpy as np
import pytest

import bibun
from bibun import nn
from bibun.autograd import gradcheck, gradgradcheck
from bibun.nn import functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.Identity()
        self.fc2 = nn.Linear(4, 2, bias=False)
        self.scale = nn.Parameter(bibun.ones(1))
        self.register_buffer("steps", bibun.zeros((), dtype=bibun.int64))
        self.register_buffer("scratch", bibun.zeros(2), persistent=False)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


# ---------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_tensor_with_pytorch_repr():
    p = nn.Parameter(bibun.tensor([1.0, 2.0]))
    assert isinstance(p, bibun.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert repr(p) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    q = nn.Parameter(bibun.tensor([1.0]), requires_grad=False)
    assert repr(q) == "Parameter containing:\ntensor([1.])"
    assert type(p * 2) is bibun.Tensor and type(p.detach()) is bibun.Tensor


def test_parameter_shares_memory_with_its_data_and_refuses_integers():
    t = bibun.zeros(3)
    p = nn.Parameter(t)
    with bibun.no_grad():
        p.add_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        nn.Parameter(bibun.tensor([1, 2]))
    assert nn.Parameter(bibun.tensor([1, 2]), requires_grad=False).dtype == bibun.int64


def test_parameter_deepcopy_is_a_parameter_with_its_own_memory():
    p = nn.Parameter(bibun.ones(2))
    q = copy.deepcopy(p)
    assert isinstance(q, nn.Parameter) and q.requires_grad
    with bibun.no_grad():
        q.mul_(3)
    assert p.tolist() == [1.0, 1.0]


# ---------------------------------------------------------------------- registration and traversal
def test_registration_by_attribute_and_traversal_orders():
    net = Net()
    assert [n for n, _ in net.named_parameters()] == ["scale", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "scratch"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert list(net.state_dict()) == ["scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.get_submodule("fc1") is net.fc1 and net.get_parameter("fc1.bias") is net.fc1.bias
    assert net.get_buffer("steps") is net.steps


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(2, 2)
    seq = nn.Sequential(lin, lin)
    assert len(list(seq.parameters())) == 2
    assert len(list(seq.named_parameters(remove_duplicate=False))) == 4
    assert list(seq.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_assignment_errors_are_pytorchs():
    net = Net()
    with pytest.raises(TypeError, match=r"cannot assign 'bibun.FloatTensor' as parameter 'scale' "
                                        r"\(bibun.nn.Parameter or None expected\)"):
        net.scale = bibun.ones(1)
    with pytest.raises(TypeError, match=r"cannot assign 'int' as child module 'fc1'"):
        net.fc1 = 3
    with pytest.raises(TypeError, match=r"cannot assign 'str' as buffer 'steps'"):
        net.steps = "x"
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        net.add_module("x", 3)
    with pytest.raises(KeyError, match="attribute 'forward' already exists"):
        net.register_buffer("forward", bibun.zeros(1))
    with pytest.raises(KeyError, match=r'contain "\."'):
        net.register_parameter("a.b", None)
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'nope'"):
        net.nope  # noqa: B018

    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(bibun.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Early()


def test_reassigning_and_deleting_members():
    net = Net()
    net.scale = None
    assert "scale" not in dict(net.named_parameters()) and net.scale is None
    net.fc2 = None
    assert [n for n, _ in net.named_children()] == ["fc1", "act"]
    del net.fc1
    assert not hasattr(net, "fc1")
    net.extra = nn.Linear(1, 1)
    net.extra = nn.Parameter(bibun.ones(1))  # a module name reused for a parameter
    assert "extra" in dict(net.named_parameters()) and "extra" not in dict(net.named_children())


def test_missing_forward_message():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(1)


# ---------------------------------------------------------------------- modes, grads, apply
def test_train_eval_zero_grad_requires_grad_apply():
    net = Net()
    assert net.training and net.fc1.training
    assert net.eval() is net and not net.fc1.training
    net.train()
    assert net.fc2.training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")
    net(bibun.ones(2, 3)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "Identity", "Linear", "Net"]


def test_to_dtype_keeps_parameter_objects_and_int_buffers():
    net = Net()
    w = net.fc1.weight
    assert net.double() is net
    assert net.fc1.weight is w and w.dtype == bibun.float64 and w.requires_grad
    assert net.steps.dtype == bibun.int64 and net.scratch.dtype == bibun.float64
    net.to(bibun.float32)
    assert w.dtype == bibun.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        net.to(bibun.int64)
    net.to("cpu")
    assert w.device == bibun.device("cpu")


# ---------------------------------------------------------------------- state dict
def test_state_dict_is_detached_and_shares_memory():
    lin = nn.Linear(2, 1)
    sd = lin.state_dict()
    assert isinstance(sd, OrderedDict) and not sd["weight"].requires_grad
    with bibun.no_grad():
        lin.weight.fill_(2.0)
    assert sd["weight"].tolist() == [[2.0, 2.0]]
    assert lin.state_dict(keep_vars=True)["weight"] is lin.weight


def test_load_state_dict_copies_values_into_the_same_objects(device):
    src, dst = nn.Linear(3, 2, device=device), nn.Linear(3, 2, device=device)
    w = dst.weight
    result = dst.load_state_dict(src.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert dst.weight is w and bibun.equal(dst.weight, src.weight) and bibun.equal(dst.bias, src.bias)


def test_load_state_dict_lists_every_problem_and_copies_nothing():
    net = Net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    bad = {k: bibun.full(v.shape, 7.0) if v.is_floating_point() else v for k, v in net.state_dict().items()}
    bad["fc1.weight"] = bibun.zeros(5, 5)
    del bad["fc2.weight"]
    bad["ghost"] = bibun.zeros(1)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Net:\n"
        '\tMissing key(s) in state_dict: "fc2.weight". \n'
        '\tUnexpected key(s) in state_dict: "ghost". \n'
        "\tsize mismatch for fc1.weight: copying a param with shape bibun.Size([5, 5]) from checkpoint, "
        "the shape in current model is bibun.Size([4, 3]).")
    for k, v in net.state_dict().items():  # nothing copied, not even the valid entries
        assert bibun.equal(v, before[k])


def test_load_state_dict_non_strict_reports_keys():
    net = Net()
    sd = net.state_dict()
    del sd["scale"]
    sd["ghost"] = bibun.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["scale"] and result.unexpected_keys == ["ghost"]
    with pytest.raises(RuntimeError, match="size mismatch for fc2.weight"):
        net.load_state_dict({"fc2.weight": bibun.zeros(1)}, strict=False)


def test_load_state_dict_assign_replaces_parameters():
    lin = nn.Linear(2, 2)
    new = {"weight": bibun.ones(2, 2), "bias": bibun.zeros(2)}
    lin.load_state_dict(new, assign=True)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.requires_grad and lin.weight.tolist() == [[1, 1], [1, 1]]


# ---------------------------------------------------------------------- hooks
def test_forward_hooks_and_pre_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(bibun.ones(1, 2))
    assert calls == [bibun.Size([1, 2])]
    assert bibun.allclose(out, lin.bias.detach() + 1)
    h1.remove()
    h2.remove()
    assert bibun.allclose(lin(bibun.zeros(1, 2)), lin.bias.detach())
    with lin.register_forward_hook(lambda m, a, k, o: o * 0, with_kwargs=True):
        assert not lin(bibun.ones(1, 2)).any()
    assert lin(bibun.ones(1, 2)).any()


# ---------------------------------------------------------------------- reprs
def test_reprs_match_pytorch():
    seq = nn.Sequential(nn.Linear(1, 2), nn.Identity(), nn.Sequential(nn.Linear(2, 2, bias=False)), nn.Flatten())
    assert repr(seq) == ("Sequential(\n"
                         "  (0): Linear(in_features=1, out_features=2, bias=True)\n"
                         "  (1): Identity()\n"
                         "  (2): Sequential(\n"
                         "    (0): Linear(in_features=2, out_features=2, bias=False)\n"
                         "  )\n"
                         "  (3): Flatten(start_dim=1, end_dim=-1)\n"
                         ")")
    assert repr(nn.ModuleDict({"a": nn.Identity()})) == "ModuleDict(\n  (a): Identity()\n)"
    assert repr(nn.Unflatten(1, (2, 2))) == "Unflatten(dim=1, unflattened_size=(2, 2))"
    assert repr(nn.ModuleList()) == "ModuleList()"


# ---------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_editing():
    a, b, c = nn.Linear(1, 1), nn.Identity(), nn.Linear(1, 1)
    seq = nn.Sequential(a, b, c)
    assert seq[0] is a and seq[-1] is c and len(seq) == 3
    assert isinstance(seq[1:], nn.Sequential) and list(seq[1:]) == [b, c]
    del seq[1]
    assert list(seq) == [a, c] and list(seq._modules) == ["0", "1"]
    seq.append(b)
    seq.insert(0, nn.Identity())
    assert len(seq) == 4 and seq[3] is b
    with pytest.raises(IndexError, match="index 7 is out of range"):
        seq[7]  # noqa: B018
    named = nn.Sequential(OrderedDict([("enc", a), ("dec", c)]))
    assert list(named.state_dict()) == ["enc.weight", "enc.bias", "dec.weight", "dec.bias"]


def test_modulelist_moduledict_parameterlist_parameterdict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml += [nn.Identity()]
    assert len(ml) == 4 and len(list(ml.parameters())) == 6 and isinstance(ml[1:3], nn.ModuleList)
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.Identity()
    assert list(md.keys()) == ["x", "y"] and "x" in md and md.pop("y") is not None
    pl = nn.ParameterList([bibun.ones(2), nn.Parameter(bibun.zeros(3))])
    assert all(isinstance(p, nn.Parameter) for p in pl) and list(pl.state_dict()) == ["0", "1"]
    pd = nn.ParameterDict({"w": bibun.ones(2)})
    assert isinstance(pd["w"], nn.Parameter) and list(pd.state_dict()) == ["w"]


# ---------------------------------------------------------------------- Linear and F.linear
def test_linear_nodes_match_pytorch():
    w = nn.Parameter(bibun.randn(4, 3))
    b = nn.Parameter(bibun.randn(4))
    assert type(F.linear(bibun.randn(2, 3), w, b).grad_fn).__name__ == "AddmmBackward0"
    assert type(F.linear(bibun.randn(3), w, b).grad_fn).__name__ == "ViewBackward0"
    assert type(F.linear(bibun.randn(5, 2, 3), w, b).grad_fn).__name__ == "ViewBackward0"
    assert type(F.linear(bibun.randn(2, 3), w).grad_fn).__name__ == "MmBackward0"
    assert type(F.linear(bibun.randn(5, 2, 3), w).grad_fn).__name__ == "UnsafeViewBackward0"
    node = F.linear(bibun.randn(2, 3), w, b).grad_fn
    names = [type(n).__name__ if n is not None else None for n, _ in node.next_functions]
    assert names == ["AccumulateGrad", None, "TBackward0"]


def test_linear_values_and_shapes(device):
    lin = nn.Linear(3, 2, device=device, dtype=bibun.float64)
    with bibun.no_grad():
        lin.weight.copy_(bibun.tensor([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]))
        lin.bias.copy_(bibun.tensor([0.5, -0.5]))
    x = bibun.tensor([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]], dtype=bibun.float64, device=device)
    assert lin(x).tolist() == [[6.5, -1.0], [-0.5, -2.5]]
    assert lin(x[0]).tolist() == [6.5, -1.0]
    assert lin(x.reshape(1, 2, 3)).shape == (1, 2, 2)
    assert lin.weight.device == bibun.device(device)


def test_linear_errors():
    lin = nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x5 and 3x2\)"):
        lin(bibun.ones(4, 5))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype, but got Double and Float"):
        lin(bibun.ones(4, 3, dtype=bibun.float64))


@pytest.mark.parametrize("shape", [(2, 3), (3,), (2, 2, 3)])
def test_linear_gradcheck(shape, device):
    rng = np.random.default_rng(1)
    x = bibun.tensor(rng.standard_normal(shape), requires_grad=True, device=device)
    w = bibun.tensor(rng.standard_normal((4, 3)), requires_grad=True, device=device)
    b = bibun.tensor(rng.standard_normal(4), requires_grad=True, device=device)
    assert gradcheck(F.linear, (x, w, b)) and gradgradcheck(F.linear, (x, w, b))
    assert gradcheck(lambda x, w: F.linear(x, w), (x, w))


def test_addmm_alpha_beta_and_gradcheck(device):
    rng = np.random.default_rng(2)
    args = [bibun.tensor(rng.standard_normal(s), requires_grad=True, device=device) for s in [(3,), (2, 4), (4, 3)]]
    out = bibun.ops.linalg.addmm(*args, beta=0.5, alpha=2.0)
    ref = 0.5 * args[0].detach().cpu().numpy() + 2.0 * args[1].detach().cpu().numpy() @ args[2].detach().cpu().numpy()
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref, rtol=1e-12)
    f = lambda b, a, m: bibun.ops.linalg.addmm(b, a, m, beta=0.5, alpha=2.0)  # noqa: E731
    assert gradcheck(f, args) and gradgradcheck(f, args)


def test_bilinear(device):
    bl = nn.Bilinear(2, 3, 4, device=device, dtype=bibun.float64)
    x1 = bibun.randn(5, 2, dtype=bibun.float64, device=device)
    x2 = bibun.randn(5, 3, dtype=bibun.float64, device=device)
    w, b = bl.weight.detach().cpu().numpy(), bl.bias.detach().cpu().numpy()
    ref = np.einsum("ni,oij,nj->no", x1.cpu().numpy(), w, x2.cpu().numpy()) + b
    np.testing.assert_allclose(bl(x1, x2).detach().cpu().numpy(), ref, rtol=1e-12)
    assert gradcheck(F.bilinear, (x1.requires_grad_(), x2.requires_grad_(), bl.weight, bl.bias))


# ---------------------------------------------------------------------- init
def test_linear_default_init_matches_pytorch_after_manual_seed():
    bibun.manual_seed(0)
    lin = nn.Linear(1, 1)
    assert round(lin.weight.item(), 4) == -0.0075 and round(lin.bias.item(), 4) == 0.5364


def test_linear_init_bounds():
    bibun.manual_seed(3)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    w = lin.weight.detach().cpu().numpy()
    assert w.min() >= -bound and w.max() < bound and abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound * 5
    assert lin.bias.detach().cpu().numpy().max() < bound


def test_init_helpers():
    assert nn.init.calculate_gain("relu") == math.sqrt(2.0)
    assert nn.init.calculate_gain("leaky_relu", math.sqrt(5)) == math.sqrt(2.0 / 6)
    assert nn.init.calculate_gain("tanh") == 5.0 / 3
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        nn.init.calculate_gain("foo")
    assert nn.init._calculate_fan_in_and_fan_out(bibun.empty(8, 3, 5, 5)) == (75, 200)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.kaiming_uniform_(bibun.empty(3))
    t = bibun.empty(2, 3)
    assert nn.init.ones_(t) is t and t.tolist() == [[1.0] * 3] * 2
    assert nn.init.zeros_(t).sum().item() == 0
    assert nn.init.constant_(t, 2.5).tolist() == [[2.5] * 3] * 2
    assert nn.init.eye_(bibun.empty(2, 3)).tolist() == [[1, 0, 0], [0, 1, 0]]
    x = nn.init.xavier_uniform_(bibun.empty(200, 300))
    a = math.sqrt(6 / 500)
    assert -a <= x.min().item() and x.max().item() <= a


def test_init_on_a_parameter_is_not_recorded():
    lin = nn.Linear(4, 4)
    nn.init.kaiming_uniform_(lin.weight, a=math.sqrt(5))
    assert lin.weight.is_leaf and lin.weight.grad_fn is None


# ---------------------------------------------------------------------- by name, through the plugin registry
def test_losses_and_optimizers_are_registered_by_name():
    from bibun.dispatch import registry
    assert {"mse", "cross_entropy", "bce_with_logits"} <= set(nn.available_losses())
    assert {"sgd", "adam", "adamw", "rmsprop", "adagrad"} <= set(registry.catalog("optimizers"))
    assert repr(nn.create_loss("MSE")) == "MSELoss()"
    with pytest.raises(ValueError, match="no loss named 'nope' is registered"):
        nn.create_loss("nope")
