"""In-place random fills, ``bernoulli``/``normal``, ``randperm`` and ``bibun.Generator``.

Expected values were printed by PyTorch 2.13 (x86-64, AVX-512, an AMD CPU) and are pinned
as literals, so these tests need no PyTorch; ``==`` on lists of floats is bit for bit.
float64 normals and exponentials go through the C library's log/sin/cos/log1p and are
compared to 1e-14 relative. The ``torch`` fixture tests compare with PyTorch itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import test_ops_gradcheck as cases

import bibun
from bibun import nn

DEFAULT_SEED = 67280421310721


@pytest.fixture(autouse=True)
def _restore_seed():
    yield
    bibun.manual_seed(DEFAULT_SEED)


# ---------------------------------------------------------------------- pinned streams (manual_seed(0), in this order)
U32 = [-5.615115151158534e-05, 0.004023327026516199, -0.006172838155180216, -0.0055195423774421215,
       -0.002888657618314028, 0.002011180156841874]
U_SQRT3 = [-0.011439144611358643, 0.45777493715286255, -0.05123639851808548, 0.1527741253376007,
           -0.1744827926158905]
U64 = [-0.014504539949949269, 0.04034879527530704, -0.040730101840445704, 0.060036541641525526]
U16 = [-2.994140625, -1.99609375, -1.412109375, -2.70703125, -1.5146484375]
N20 = [1.4361927509307861, 0.18457511067390442, 3.3873202800750732, 1.0320987701416016, 0.15207800269126892,
       -0.8574924468994141, 2.376521587371826, 1.4777395725250244, -0.8461798429489136, 2.2456624507904053,
       2.610714912414551, 0.8556874394416809, -0.5361496210098267, -0.11340838670730591, -2.661987781524658,
       3.9132866859436035, -0.39243435859680176, 1.9880414009094238, 3.541959047317505, 7.321005344390869]
N5 = [-1.2896273136138916, -1.326250433921814, -1.296160101890564, -1.289144515991211, -1.3443756103515625]
N17_64 = [-0.2796395924085471, 0.9496312502533438, 0.37119921068803363, 0.3843509597296963, -0.212564857910099,
          0.39208390631437334, 0.07767416580071995, 0.35961691235946336, 0.39836587753356256, 0.3659768890273738,
          0.5457224889799656, 0.09764331477983562, -0.12909909784618626, 0.49748298793463797, 0.11751243115945377,
          -0.20050070085027136, 0.35054427181127096]
NH18 = [1.365234375, 0.07733154296875, 1.8134765625, 1.0859375, 0.1942138671875, 0.76025390625, 0.92822265625,
        0.84130859375, 1.4833984375, 0.50439453125, 1.271484375, 1.0390625, 1.431640625, 0.990234375, 1.4951171875,
        0.611328125, 1.1572265625, 1.1064453125]
R = [2, -1, 12, 15, -2, 15, -2, 9]
R_TO = [178, 150, 43, 128, 139, 82, 107, 160]
R_DEFAULT = [3990532458530804918, 5338600094721989414, 3379284200096502958, 1595881936851940723]
R_DEFAULT32 = [2475187.0, 3770770.0, 3500308.0, 11255279.0]
R_BOOL = [False, False, True, False, True, False]
B = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
BT = [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
E32 = [0.29606300592422485, 0.789980411529541, 0.18170572817325592, 0.19339676201343536, 0.6229824423789978]
PERM10 = [5, 9, 3, 1, 8, 7, 2, 0, 6, 4]
PERM20 = [14, 15, 3, 16, 11, 13, 8, 12, 17, 1, 7, 18, 19, 2, 4, 9, 6, 10, 5, 0]
AFTER = [0.027265489101409912, 0.608024001121521, 0.21940875053405762]

# manual_seed(0): a transposed (3, 4) tensor filled in memory order; a strided normal_ (drawn pair by pair)
T_UNIFORM = [[0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688],
             [0.30742281675338745, 0.6340786814689636, 0.4900934100151062, 0.8964447379112244],
             [0.455627977848053, 0.6323062777519226, 0.3488934636116028, 0.40171730518341064]]
STRIDED_NORMAL = [
    [0.0, 0.40334683656692505, 0.8380263447761536, -0.7192575931549072, -0.40334352850914, -0.5966353416442871],
    [0.0, 0.18203648924827576, -0.8566746115684509, 1.1006041765213013, -1.0711873769760132, 0.1227012425661087],
    [0.0, -0.5663174986839294, 0.3731146454811096, -0.8919953107833862, -1.5091077089309692, 0.3703935444355011],
    [0.0, 1.4565025568008423, 0.9398099184036255, 0.7748488187789917, 0.19186942279338837, 1.2637947797775269]]

# Generator().manual_seed(42), then these calls in this order
G_RAND = [0.8822692632675171, 0.9150039553642273, 0.38286375999450684, 0.9593056440353394]
G_PERM = [2, 4, 6, 7, 0, 3, 1, 5]
G_RANDN = [-0.01069642137736082, -1.2491786479949951, -1.2283966541290283]

# manual_seed(0); nn.Linear(...): weight then bias, through kaiming_uniform_ / uniform_
LIN11 = [[[-0.007486820220947266]], [0.5364435911178589]]
LIN34 = [[[-0.004322517663240433, 0.3097158372402191, -0.4751853346824646],
          [-0.4248946011066437, -0.2223689705133438, 0.15482072532176971],
          [-0.011439144611358643, 0.45777493715286255, -0.05123639851808548],
          [0.1527741253376007, -0.1744827926158905, -0.11348707973957062]],
         [-0.55157071352005, -0.3823687434196472, -0.2379971146583557, 0.021387115120887756]]

# manual_seed(0), then these calls in this order
NORMAL_TF = [0.7704980373382568, 9.853285789489746, 98.91060638427734]
NORMAL_FT = [1.0568431615829468, -0.08452236652374268, -12.985954284667969]
NORMAL_FF = [3.21004056930542, 4.5140790939331055, -0.1577727347612381, 0.7899694442749023]
BERN = [0.0, 1.0, 1.0, 0.0]


def test_seeded_fills_are_pytorchs():
    bibun.manual_seed(0)
    assert bibun.empty(6).uniform_(-0.0075, 0.0075).tolist() == U32
    assert bibun.empty(5).uniform_(-1 / math.sqrt(3), 1 / math.sqrt(3)).tolist() == U_SQRT3
    assert bibun.empty(4, dtype=bibun.float64).uniform_(-0.1, 0.3).tolist() == U64
    assert bibun.empty(5, dtype=bibun.float16).uniform_(-3.7, -1.2).tolist() == U16
    assert bibun.empty(20).normal_(0.5, 2.0).tolist() == N20
    assert bibun.empty(5).normal_(-1.3, 0.02).tolist() == N5
    assert bibun.empty(17, dtype=bibun.float64).normal_(0.1, 0.3).tolist() == pytest.approx(N17_64, rel=1e-14)
    assert bibun.empty(18, dtype=bibun.float16).normal_(1.0, 0.5).tolist() == NH18
    assert bibun.empty(8, dtype=bibun.int64).random_(-3, 17).tolist() == R
    assert bibun.empty(8, dtype=bibun.uint8).random_(200).tolist() == R_TO
    assert bibun.empty(4, dtype=bibun.int64).random_().tolist() == R_DEFAULT
    assert bibun.empty(4).random_().tolist() == R_DEFAULT32
    assert bibun.empty(6, dtype=bibun.bool).random_().tolist() == R_BOOL
    assert bibun.empty(12).bernoulli_(0.3).tolist() == B
    assert bibun.empty(6).bernoulli_(bibun.tensor([0.1, 0.9, 0.5, 0.5, 0.2, 0.7])).tolist() == BT
    assert bibun.empty(5).exponential_(2.0).tolist() == E32
    assert bibun.randperm(10).tolist() == PERM10
    assert bibun.randperm(20).tolist() == PERM20
    assert bibun.rand(3).tolist() == AFTER  # the fills consumed exactly PyTorch's draws


def test_fills_follow_memory_order():
    bibun.manual_seed(0)
    x = bibun.zeros(3, 4)
    x.t().uniform_()  # a transposed view is filled in memory order: x gets the draws in order
    assert x.tolist() == T_UNIFORM
    y = bibun.zeros(4, 6)
    y[:, 1:].normal_()  # not contiguous: drawn one double Box-Muller pair at a time
    assert y.tolist() == STRIDED_NORMAL


def test_functional_normal_and_bernoulli_are_pytorchs():
    bibun.manual_seed(0)
    assert bibun.normal(bibun.tensor([0.0, 10.0, 100.0]), 0.5).tolist() == NORMAL_TF
    assert bibun.normal(1.0, bibun.tensor([0.1, 1.0, 10.0])).tolist() == NORMAL_FT
    assert bibun.normal(2.0, 3.0, (4,)).tolist() == NORMAL_FF
    assert bibun.bernoulli(bibun.tensor([0.2, 0.8, 0.5, 0.5], dtype=bibun.float64)).tolist() == BERN


def test_linear_init_is_pytorchs():
    bibun.manual_seed(0)
    layer = nn.Linear(1, 1)
    assert [p.tolist() for p in layer.parameters()] == LIN11
    assert round(layer.weight.item(), 4) == -0.0075 and round(layer.bias.item(), 4) == 0.5364
    bibun.manual_seed(0)
    assert [p.tolist() for p in nn.Linear(3, 4).parameters()] == LIN34


def test_generator_draws_its_own_stream():
    g = bibun.Generator().manual_seed(42)
    bibun.manual_seed(0)
    assert bibun.rand(4, generator=g).tolist() == G_RAND
    assert bibun.randperm(8, generator=g).tolist() == G_PERM
    assert bibun.randn(3, generator=g).tolist() == G_RANDN
    assert bibun.rand(4).tolist() == T_UNIFORM[0]  # the default stream was not touched: its first draws


def test_generator_api():
    g = bibun.Generator()
    assert g.device == bibun.device("cpu") and g.initial_seed() == DEFAULT_SEED
    assert g.manual_seed(3) is g and g.initial_seed() == 3
    assert g.manual_seed(-1).initial_seed() == 2**64 - 1
    state = g.get_state()
    assert state.dtype is bibun.uint8 and state.ndim == 1
    a = bibun.rand(5, generator=g).tolist()
    g.set_state(state)
    assert bibun.rand(5, generator=g).tolist() == a
    s = g.seed()
    assert g.initial_seed() == s and 0 <= s < 2**64
    assert bibun.manual_seed(5) is bibun.default_generator and bibun.initial_seed() == 5
    assert bibun.default_generator.initial_seed() == 5


def test_generator_state_keeps_the_cached_normal():
    g = bibun.Generator().manual_seed(1)
    bibun.randn(1, generator=g)  # a Box-Muller pair: one value kept for the next scalar draw
    state = g.get_state()
    a = bibun.randn(3, generator=g).tolist()
    assert bibun.randn(3, generator=g.set_state(state)).tolist() == a


def test_rng_state_round_trip():
    bibun.manual_seed(0)
    state = bibun.get_rng_state()
    a = bibun.rand(4).tolist()
    bibun.set_rng_state(state)
    assert bibun.rand(4).tolist() == a


def test_generator_errors():
    g = bibun.Generator()
    with pytest.raises(ValueError, match="^Overflow when unpacking long long$"):
        g.manual_seed(2**64)
    with pytest.raises(RuntimeError, match="^manual_seed expected a long, but got float$"):
        g.manual_seed(1.5)
    with pytest.raises(TypeError, match="^RNG state must be a bibun.ByteTensor$"):
        g.set_state(bibun.zeros(3))
    with pytest.raises(RuntimeError, match="size"):
        g.set_state(bibun.zeros(3, dtype=bibun.uint8))
    with pytest.raises(TypeError, match="generator"):
        bibun.rand(3, generator=3)


@pytest.mark.parametrize("fill", [
    lambda t, g: t.uniform_(generator=g), lambda t, g: t.normal_(generator=g),
    lambda t, g: t.random_(0, 9, generator=g),
    lambda t, g: t.bernoulli_(0.5, generator=g), lambda t, g: t.exponential_(generator=g),
    lambda t, g: t.bernoulli_(bibun.full(t.shape, 0.5), generator=g)])
def test_fills_take_a_generator(device, fill):
    t1, t2 = bibun.empty(40, device=device), bibun.empty(40, device=device)
    fill(t1, bibun.Generator(device).manual_seed(9))
    bibun.manual_seed(0)
    default_state = bibun.cuda.get_rng_state if device.startswith("cuda") else bibun.get_rng_state
    before = default_state()
    fill(t2, bibun.Generator(device).manual_seed(9))
    assert t1.tolist() == t2.tolist()
    assert default_state().tolist() == before.tolist()  # the device's default stream is left alone


def test_randperm_forms_and_errors(device):
    assert bibun.randperm(0, device=device).tolist() == []
    assert bibun.randperm(1, device=device).tolist() == [0]
    p = bibun.randperm(300, dtype=bibun.float32, device=device)
    assert p.dtype is bibun.float32 and sorted(p.tolist()) == list(range(300))
    assert bibun.randperm(256, dtype=bibun.uint8, device=device).dtype is bibun.uint8
    with pytest.raises(RuntimeError, match="^value cannot be converted to type uint8_t without overflow$"):
        bibun.randperm(257, dtype=bibun.uint8, device=device)
    with pytest.raises(RuntimeError, match="^n cannot be greater than 2049 for Half type.$"):
        bibun.randperm(2050, dtype=bibun.float16, device=device)
    with pytest.raises(NotImplementedError, match="^\"randperm\" not implemented for 'Bool'$"):
        bibun.randperm(2, dtype=bibun.bool, device=device)
    with pytest.raises(RuntimeError, match=r"^Trying to create tensor with negative dimension -1: \[-1\]$"):
        bibun.randperm(-1, device=device)
    with pytest.raises(TypeError, match=r"^randperm\(\): argument 'n' \(position 1\) must be int, not float$"):
        bibun.randperm(5.0, device=device)
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point"):
        bibun.randperm(5, requires_grad=True, device=device)


def test_randint_keyword_form(device):
    bibun.manual_seed(0)
    a = bibun.randint(high=10, size=(6,), device=device).tolist()
    bibun.manual_seed(0)
    assert bibun.randint(0, 10, (6,), device=device).tolist() == a
    with pytest.raises(RuntimeError, match="^to - 1 is out of bounds for unsigned char$"):
        bibun.randint(0, 300, (3,), dtype=bibun.uint8, device=device)
    with pytest.raises(RuntimeError, match="^from is out of bounds for int$"):
        bibun.randint(-2**40, 3, (3,), dtype=bibun.int32, device=device)


# ---------------------------------------------------------------------- in-place semantics
def test_fill_bumps_the_version_and_returns_self(device):
    t = bibun.zeros(3, device=device)
    for fill in (lambda: t.uniform_(), lambda: t.normal_(), lambda: t.random_(3), lambda: t.bernoulli_(),
                 lambda: t.exponential_()):
        before = t._version[0]
        assert fill() is t
        assert t._version[0] == before + 1


def test_fill_refuses_leaves_that_require_grad(device):
    x = bibun.ones(3, requires_grad=True, device=device)
    with pytest.raises(RuntimeError, match="^a leaf Variable that requires grad is being used in an in-place "
                                           "operation.$"):
        x.uniform_()
    with pytest.raises(RuntimeError, match="^a view of a leaf Variable that requires grad"):
        x[1:].normal_()
    with bibun.no_grad():  # what nn.init does
        x.uniform_(-1, 1)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


@pytest.mark.parametrize(("fill", "node"), [
    (lambda y: y.uniform_(), "UniformBackward0"), (lambda y: y.normal_(), "NormalBackward0"),
    (lambda y: y.random_(1, 5), "RandomBackward0"), (lambda y: y.random_(5), "RandomBackward1"),
    (lambda y: y.random_(), "RandomBackward2"), (lambda y: y.bernoulli_(0.5), "BernoulliBackward2"),
    (lambda y: y.bernoulli_(bibun.full((3,), 0.5)), "BernoulliBackward1"),
    (lambda y: y.exponential_(), "ExponentialBackward0")])
def test_fill_inside_a_graph_passes_a_zero_gradient(device, fill, node):
    x = bibun.ones(3, requires_grad=True, device=device)
    y = x * 2
    fill(y)
    assert type(y.grad_fn).__name__ == node and y.requires_grad
    (y * x).sum().backward()
    assert x.grad.tolist() == y.tolist()  # only through the product: the fill passes zero back


def test_fill_of_a_view_inside_a_graph(device):
    x = bibun.ones(3, requires_grad=True, device=device)
    y = x * 2
    y[1:].uniform_()
    assert type(y.grad_fn).__name__ == "CopySlices"
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 0.0]


@pytest.mark.parametrize(("make", "node", "grads"), [
    (lambda m, s: bibun.normal(m, 1.0), "NormalBackward1", ("m",)),
    (lambda m, s: bibun.normal(0.0, s), "NormalBackward2", ("s",)),
    (lambda m, s: bibun.normal(m, s), "NormalBackward3", ("m", "s")),
    (lambda m, s: bibun.bernoulli(m.sigmoid()), "BernoulliBackward0", ("m",))])
def test_random_functions_pass_zero_gradients(device, make, node, grads):
    m = bibun.zeros(3, requires_grad=True, device=device)
    s = bibun.ones(3, requires_grad=True, device=device)
    out = make(m, s)
    assert out.requires_grad
    out.sum().backward()
    for name, t in (("m", m), ("s", s)):
        assert (t.grad.tolist() == [0.0] * 3) if name in grads else t.grad is None
    if node != "BernoulliBackward0":
        assert type(out.grad_fn).__name__ == node


def test_fill_of_an_expanded_tensor_is_refused(device):
    with pytest.raises(RuntimeError, match="^unsupported operation: more than one element of the written-to tensor "
                                           "refers to a single memory location"):
        bibun.zeros(3, device=device).expand(2, 3).uniform_()


# ---------------------------------------------------------------------- argument errors (PyTorch's messages)
@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda t: t.uniform_(2, 1), RuntimeError,
     "uniform_ expects to return a [from, to) range, but found from=2 > to=1"),
    (lambda t: t.uniform_(0, 1e39), RuntimeError, "to is out of bounds for float"),
    (lambda t: t.uniform_(float("nan"), 1), RuntimeError, "from is out of bounds for float"),
    (lambda t: t.uniform_(-3e38, 3e38), RuntimeError, "uniform_ expects to-from <= std::numeric_limits<Float>::max(), "
     "but found to=3e+38 and from=-3e+38 which result in to-from to exceed the limit"),
    (lambda t: t.long().uniform_(), NotImplementedError, "\"check_uniform_bounds\" not implemented for 'Long'"),
    (lambda t: t.half().uniform_(0, 1e5), RuntimeError, "to is out of bounds for c10::Half"),
    (lambda t: t.normal_(0, -1), RuntimeError, "normal expects std >= 0.0, but found std -1"),
    (lambda t: t.long().normal_(0, -1), NotImplementedError, "\"normal_kernel_cpu\" not implemented for 'Long'"),
    (lambda t: t.random_(5, 2), RuntimeError, "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
    (lambda t: t.random_(0), RuntimeError, "random_ expects 'from' to be less than 'to', but got from=0 >= to=0"),
    (lambda t: t.byte().random_(-1, 5), RuntimeError, "from is out of bounds for unsigned char"),
    (lambda t: t.byte().random_(0, 300), RuntimeError, "to - 1 is out of bounds for unsigned char"),
    (lambda t: t.bool().random_(0, 3), RuntimeError, "to - 1 is out of bounds for bool"),
    (lambda t: t.random_(2**63), ValueError, "Overflow when unpacking long long"),
    (lambda t: t.random_(1.5, 4), TypeError,
     "random_() received an invalid combination of arguments - got (float, int)"),
    (lambda t: t.bernoulli_(1.5), RuntimeError, "bernoulli_ expects p to be in [0, 1], but got p=1.5"),
    (lambda t: t.bernoulli_(bibun.tensor([0.1, 2.0, 0.3])), RuntimeError,
     "Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    (lambda t: t.bernoulli_(bibun.tensor([1, 0, 1])), NotImplementedError,
     "\"bernoulli_tensor_cpu_p_\" not implemented for 'Long'"),
    (lambda t: t.bernoulli_(bibun.tensor([0.1, 0.5])), RuntimeError, "The expanded size of the tensor (3) must match"),
    (lambda t: t.exponential_(0), RuntimeError, "exponential_ expects lambda > 0.0, but found lambda=0"),
    (lambda t: t.long().exponential_(), RuntimeError, "Exponential distribution is a continuous probability "
     "distribution. dtype must be a floating point but you specified Long"),
    (lambda t: bibun.normal(t, -1.0), RuntimeError, "normal expects std >= 0.0, but found std -1"),
    (lambda t: bibun.normal(0.0, -t - 1), RuntimeError, "normal expects all elements of std >= 0.0"),
    (lambda t: bibun.normal(0.0, 1.0), TypeError, "normal() received an invalid combination of arguments"),
    (lambda t: bibun.bernoulli(t.long()), NotImplementedError, "\"bernoulli_tensor_cpu_p_\" not implemented for "
     "'Long'")])
def test_fill_argument_errors(device, call, error, message):
    t = bibun.zeros(3, device=device)
    before = bibun.get_rng_state().tolist()
    with pytest.raises(error) as info:
        call(t)
    assert str(info.value).startswith(message)
    assert t.tolist() == [0.0] * 3
    assert bibun.get_rng_state().tolist() == before  # nothing drawn


def test_random_warns_beyond_exact_float_integers(device):
    with pytest.warns(UserWarning, match=r"^to - 1 is out of bounds \[-\(2\^24\), 2\^24\]. Due to precision "
                                         "limitations float can support discrete uniform distribution only"):
        bibun.empty(3, device=device).random_(0, 2**25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bibun.empty(3, device=device).random_(0, 2**24 + 1)


def test_fill_argument_forms(device):
    bibun.manual_seed(0)
    a = bibun.empty(4, device=device).uniform_(-2, 3).tolist()
    bibun.manual_seed(0)
    assert bibun.empty(4, device=device).uniform_(**{"from": -2, "to": 3}).tolist() == a
    bibun.manual_seed(0)
    assert bibun.empty(4, device=device).uniform_(bibun.tensor(-2.0), 3).tolist() == a
    bibun.manual_seed(0)
    b = bibun.empty(4, device=device).random_(7).tolist()
    bibun.manual_seed(0)
    assert bibun.empty(4, device=device).random_(to=7).tolist() == b
    t = bibun.empty(50, dtype=bibun.int8, device=device).random_(-5, None)
    assert -5 <= min(t.tolist()) and max(t.tolist()) <= 127
    assert bibun.empty(5, dtype=bibun.int64, device=device).random_(-2**63, None).dtype is bibun.int64
    assert bibun.empty((), device=device).bernoulli_(1).item() == 1.0
    assert bibun.zeros(3, device=device).bernoulli_(bibun.tensor(1.0)).tolist() == [1.0, 1.0, 1.0]
    assert bibun.bernoulli(bibun.zeros(3, dtype=bibun.int64), 1.0).tolist() == [1, 1, 1]
    assert bibun.zeros(2, 3).bernoulli().tolist() == [[0.0] * 3] * 2


def test_fill_of_an_empty_tensor_draws_nothing(device):
    bibun.manual_seed(0)
    for fill in (lambda t: t.uniform_(), lambda t: t.normal_(), lambda t: t.random_(), lambda t: t.bernoulli_(),
                 lambda t: t.exponential_()):
        fill(bibun.empty(0, 3, device=device))
    assert bibun.rand(4, device=device).tolist() == T_UNIFORM[0]  # the stream's first draws


# ---------------------------------------------------------------------- statistics
@pytest.mark.parametrize("dtype", [bibun.float32, bibun.float64, bibun.int64, bibun.bool])
def test_bernoulli_statistics(device, dtype):
    bibun.manual_seed(1)
    for p in (0.0, 0.1, 0.5, 0.9, 1.0):
        x = bibun.empty(50_000, dtype=dtype, device=device).bernoulli_(p).cpu().numpy().astype(np.float64)
        assert set(np.unique(x)) <= {0.0, 1.0}
        assert abs(x.mean() - p) < 0.01
    probs = bibun.rand(50_000, device=device)
    x = bibun.bernoulli(probs).cpu().numpy()
    assert abs(x.mean() - 0.5) < 0.01
    assert abs(x[probs.cpu().numpy() < 0.2].mean() - 0.1) < 0.02


def test_uniform_normal_exponential_statistics(device):
    bibun.manual_seed(2)
    u = bibun.empty(50_000, device=device).uniform_(-3, 5).cpu().numpy()
    assert u.min() >= -3 and u.max() < 5 and abs(u.mean() - 1) < 0.05
    n = bibun.empty(50_000, device=device).normal_(2.0, 0.5).cpu().numpy()
    assert abs(n.mean() - 2) < 0.01 and abs(n.std() - 0.5) < 0.01
    e = bibun.empty(50_000, dtype=bibun.float64, device=device).exponential_(4.0).cpu().numpy()
    assert e.min() >= 0 and abs(e.mean() - 0.25) < 0.01
    r = bibun.empty(50_000, dtype=bibun.int64, device=device).random_(-3, 4).cpu().numpy()
    assert r.min() == -3 and r.max() == 3 and abs(r.mean()) < 0.05


# ---------------------------------------------------------------------- gradcheck (zero gradients through fills)
def _gen(like):
    """A generator on ``like``'s device, made on each call: the draws repeat, as finite differences need."""
    return bibun.Generator(like.device).manual_seed(0)


GRADCHECK_CASES = [
    ("uniform_", lambda a: (a * 1).uniform_(-1, 1, generator=_gen(a)) * a, [(2, 3)], cases.ANY),
    ("normal_", lambda a: (a * 1).normal_(0.5, 2.0, generator=_gen(a)) * a, [(2, 3)], cases.ANY),
    ("random_", lambda a: ((a * 1).random_(1, 5, generator=_gen(a)) + (a * 1).random_(5, generator=_gen(a))
                           + (a * 1).random_(generator=_gen(a)) / 2**53) * a, [(2, 3)], cases.ANY),
    ("bernoulli_", lambda a, p: (a * 1).bernoulli_(0.5, generator=_gen(a)) * a
     + (a * 1).bernoulli_(p.sigmoid(), generator=_gen(a)) * p, [(2, 3), (3,)], cases.ANY),
    ("exponential_", lambda a: (a * 1).exponential_(2.0, generator=_gen(a)) * a, [(2, 3)], cases.ANY),
    ("bernoulli", lambda p: bibun.bernoulli(p.sigmoid(), generator=_gen(p)) * p, [(2, 3)], cases.ANY),
    ("normal", lambda m, s: (bibun.normal(m, 0.5, generator=_gen(m)) + bibun.normal(0.5, s.abs(), generator=_gen(m))
                            + bibun.normal(m, s.abs(), generator=_gen(m))) * 0 + m * s, [(2, 3), (2, 3)], cases.AWAY),
]


@pytest.mark.parametrize("case", GRADCHECK_CASES, ids=[c[0] for c in GRADCHECK_CASES])
def test_gradcheck(case, device):
    cases.check_case(case, device)


# ---------------------------------------------------------------------- parity with PyTorch
def _same(torch, a, b):
    a, b = a.detach().cpu().numpy(), b.detach().cpu().numpy()
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_fills_match_pytorch(torch, dtype):
    fills = [lambda t: t.uniform_(-0.0075, 0.0075), lambda t: t.uniform_(-1 / math.sqrt(3), 1 / math.sqrt(3)),
             lambda t: t.uniform_(2, 5), lambda t: t.uniform_(0.5, 0.5001), lambda t: t.normal_(-1.3, 0.02),
             lambda t: t.normal_(0.0, math.sqrt(2 / 784)), lambda t: t.bernoulli_(0.3), lambda t: t.random_(-3, 17),
             lambda t: t.random_(), lambda t: t.exponential_(1.5)]
    for shape in [(5,), (16,), (33,), (7, 9)]:
        for fill in fills:
            results = []
            for lib in (torch, bibun):
                lib.manual_seed(0)
                results.append(fill(lib.empty(*shape, dtype=getattr(lib, dtype))))
                results.append(lib.rand(2))
            assert _same(torch, results[0], results[2]) and _same(torch, results[1], results[3])


def test_strided_and_tensor_p_fills_match_pytorch(torch):
    def run(lib):
        lib.manual_seed(3)
        x, y, z = lib.zeros(4, 6), lib.zeros(6, 6, dtype=lib.float64), lib.zeros(3, 4, 5)
        x[:, ::2].uniform_()
        y[:, 1:].normal_()
        z.permute(2, 0, 1).normal_()
        p = lib.rand(5, 4)
        b = lib.empty(5, 4, dtype=lib.int64).bernoulli_(p)
        c = lib.empty(5, 4).bernoulli_(p.double())
        d = lib.bernoulli(lib.rand(4, 5, dtype=lib.float16))
        n = [lib.normal(lib.rand(7), 0.7), lib.normal(0.3, lib.rand(7)), lib.normal(lib.rand(3, 1), lib.rand(4))]
        return [x, y, z, b, c, d, *n, lib.rand(2)]
    for a, b in zip(run(torch), run(bibun)):
        assert _same(torch, a, b)


@pytest.mark.parametrize("n", [*range(1, 40), 100, 1797, 10000])
def test_randperm_matches_pytorch(torch, n):
    for seed in (0, n):
        torch.manual_seed(seed)
        bibun.manual_seed(seed)
        assert bibun.randperm(n).tolist() == torch.randperm(n).tolist()
        g, h = torch.Generator().manual_seed(seed + 1), bibun.Generator().manual_seed(seed + 1)
        assert bibun.randperm(n, generator=h).tolist() == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (784, 128), (10, 5)])
def test_linear_init_matches_pytorch(torch, shape):
    torch.manual_seed(0)
    expected = [p.detach().cpu().numpy() for p in torch.nn.Linear(*shape).parameters()]
    bibun.manual_seed(0)
    got = [p.detach().cpu().numpy() for p in nn.Linear(*shape).parameters()]
    assert all(np.array_equal(a, b) for a, b in zip(expected, got))


def test_generators_match_pytorch(torch):
    def run(lib):
        g = lib.Generator().manual_seed(11)
        lib.manual_seed(0)
        out = [lib.rand(3, generator=g), lib.rand(3), lib.randn(20, generator=g), lib.randint(0, 9, (5,), generator=g),
               lib.empty(6).uniform_(-1, 1, generator=g), lib.empty(6).normal_(generator=g),
               lib.empty(6).bernoulli_(0.5, generator=g), lib.randperm(12, generator=g), lib.rand(2)]
        return out
    for a, b in zip(run(torch), run(bibun)):
        assert _same(torch, a, b)
