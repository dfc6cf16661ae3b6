"""Random numbers: after the same ``manual_seed``, bibun's cpu draws are PyTorch's.

The expected values were produced by PyTorch 2.13 (x86-64 build, AVX2/AVX-512 kernels)
and are pinned as literals, so these tests need no PyTorch. Python's ``repr`` of a
float is exact, so ``==`` on the lists is a bit-for-bit comparison.

``rand``, ``randint`` and float32/float16 ``randn`` are pure integer and float32
arithmetic and so the same everywhere. float64 ``randn`` uses the C library's
``log``/``sin``/``cos`` (PyTorch's does too), which may differ in the last bit between
platforms: it is compared to 1e-14 relative.
"""

import os
import subprocess
import sys

import pytest

import bibun

# torch.manual_seed(0), then these calls in this order
R5 = [0.49625658988952637, 0.7682217955589294, 0.08847743272781372, 0.13203048706054688, 0.30742281675338745]
R34 = [[0.6340786814689636, 0.4900934100151062, 0.8964447379112244, 0.455627977848053],
       [0.6323062777519226, 0.3488934636116028, 0.40171730518341064, 0.022325754165649414],
       [0.16885894536972046, 0.2938884496688843, 0.518521785736084, 0.6976675987243652]]
R4_64 = [0.4000913541038138, 0.2581490477204482, 0.3215520519709213, 0.9932473030302829]
RI6 = [1, 9, 9, 9, 0, 1]
RI23 = [[-3, -2, -5], [0, 0, -3]]

# torch.manual_seed(7), then these calls in this order
N16 = [-0.8201345205307007, 0.39563116431236267, 0.8989084959030151, -1.3884038925170898, -0.16699601709842682,
       0.2851499617099762, -0.641091525554657, -0.8936554193496704, 0.9265429973602295, -0.5355122089385986,
       -1.1597203016281128, -0.4601571559906006, 0.7085390686988831, 1.0127553939819336, 0.23039686679840088,
       1.090165138244629]
N3 = [0.13817265629768372, -1.6821985244750977, 0.317678302526474]
N20 = [-0.8489086031913757, -1.2169294357299805, -0.08102158457040787, 1.3614851236343384, 2.5116028785705566,
       -1.254785180091858, 0.8164564967155457, -1.065398931503296, -0.1781926155090332, -0.25949886441230774,
       -0.014487940818071365, -0.3838909864425659, -0.10073431581258774, 0.23701459169387817, 0.6326820850372314,
       -0.09167716652154922, 1.6243164539337158, 0.0015672707231715322, -0.4375407099723816, -2.1085333824157715]
N4_64 = [0.13280696453151092, -0.4225014628114613, -0.08318638134466791, -0.9837260055730003]
N17_64 = [-0.5582364888444304, -0.08164691771217654, 0.2085945464949805, -1.7196224128603383, 0.5389467248159018,
          -2.219386425548944, -1.6496592184306644, -1.8868855150609607, -0.13213466605557525, -0.9692689983614968,
          -0.6541102621535176, -1.378913736646689, -1.4245652245923288, -0.4275695310980957, -1.8456131997456289,
          -0.31814745349169105, 1.9777750240167522]
N2x8 = [[-2.133930206298828, -0.7492699027061462, 0.6339749097824097, 1.003636121749878, -2.18805193901062,
         -0.9927215576171875, 0.8884993195533752, -1.486675500869751],
        [-0.9126952290534973, 1.2716057300567627, 0.14513152837753296, 1.3705012798309326, -0.37588927149772644,
         0.168901264667511, -0.5415420532226562, -0.16046397387981415]]

# torch.manual_seed(123), then these calls in this order
H4 = [0.296142578125, 0.5166015625, 0.251708984375, 0.6884765625]
NH18 = [0.3486328125, 0.66015625, 1.5810546875, 1.30078125, 1.275390625, -0.200927734375, -0.1605224609375,
        -0.4013671875, 0.69580078125, -1.8056640625, -1.1591796875, 0.325439453125, -0.63134765625, -2.83984375,
        -0.78466796875, -1.4091796875, -0.40771484375, 0.79541015625]
BIG = [170563159362, 362614912559, 1066430846909]

# torch.manual_seed(67280421310721); torch.rand(3)
DEFAULT_SEED = 67280421310721
DEFAULT3 = [0.267295241355896, 0.8725283145904541, 0.3352888226509094]


@pytest.fixture(autouse=True)
def _restore_seed():
    yield
    bibun.manual_seed(DEFAULT_SEED)


# ---------------------------------------------------------------------------- PyTorch's streams
def test_seeded_rand_and_randint_are_pytorchs():
    bibun.manual_seed(0)
    assert bibun.rand(5).tolist() == R5
    assert bibun.rand(3, 4).tolist() == R34
    assert bibun.rand(4, dtype=bibun.float64).tolist() == R4_64
    assert bibun.randint(0, 10, (6,)).tolist() == RI6
    assert bibun.randint(-5, 5, (2, 3)).tolist() == RI23


def test_reseeding_repeats_the_stream():
    bibun.manual_seed(0)
    first = [bibun.rand(5).tolist(), bibun.randn(20).tolist(), bibun.randint(0, 10, (6,)).tolist()]
    bibun.manual_seed(0)
    assert [bibun.rand(5).tolist(), bibun.randn(20).tolist(), bibun.randint(0, 10, (6,)).tolist()] == first
    assert first[0] == R5


def test_successive_calls_continue_the_stream():
    bibun.manual_seed(0)
    assert bibun.rand(5).tolist() == R5
    assert bibun.rand(12).tolist() == [v for row in R34 for v in row]


def test_seeded_randn_is_pytorchs():
    bibun.manual_seed(7)
    assert bibun.randn(16).tolist() == N16               # one block of 16
    assert bibun.randn(3).tolist() == N3                 # under 16: one Box-Muller pair at a time
    assert bibun.randn(20).tolist() == N20               # 16 + a redrawn tail block
    assert bibun.randn(4, dtype=bibun.float64).tolist() == pytest.approx(N4_64, rel=1e-14)
    assert bibun.randn(17, dtype=bibun.float64).tolist() == pytest.approx(N17_64, rel=1e-14)
    assert bibun.randn(2, 8).tolist() == N2x8


def test_seeded_half_precision_and_wide_randint_are_pytorchs():
    bibun.manual_seed(123)
    assert bibun.rand(4, dtype=bibun.float16).tolist() == H4
    assert bibun.randn(18, dtype=bibun.float16).tolist() == NH18
    assert bibun.randint(0, 2**40, (3,)).tolist() == BIG  # a range of 2**32 or more takes 64-bit draws


def test_default_seed_in_a_fresh_process():
    """Unseeded, bibun starts from PyTorch's documented default seed, so its first draws are what PyTorch
    gives after ``manual_seed(67280421310721)``. (PyTorch itself seeds its default generator from
    the OS at start-up, so an unseeded PyTorch process differs from run to run.)"""
    code = "import bibun; print(bibun.initial_seed()); print(bibun.rand(3).tolist())"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BIBUN_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    seed, values = out.stdout.strip().splitlines()
    assert int(seed) == DEFAULT_SEED
    assert eval(values) == DEFAULT3  # noqa: S307 - our own subprocess's list of floats


def test_manual_seed_returns_a_generator_and_sets_initial_seed():
    g = bibun.manual_seed(3)
    assert g.initial_seed() == 3 and bibun.initial_seed() == 3


def test_manual_seed_wraps_negative_seeds_like_pytorch():
    bibun.manual_seed(-1)
    assert bibun.initial_seed() == 2**64 - 1
    assert bibun.rand(2).tolist() == [0.9937993884086609, 0.5713063478469849]


@pytest.mark.parametrize("seed", [2**64, -2**63 - 1])
def test_manual_seed_out_of_range(seed):
    with pytest.raises(ValueError, match="Overflow when unpacking long long"):
        bibun.manual_seed(seed)


def test_seed_reseeds_with_a_fresh_value():
    s = bibun.seed()
    assert bibun.initial_seed() == s
    a = bibun.rand(3).tolist()
    bibun.manual_seed(s)
    assert bibun.rand(3).tolist() == a


def test_like_factories_draw_from_the_same_stream():
    x = bibun.zeros(2, 3, dtype=bibun.float64)
    bibun.manual_seed(0)
    expected = bibun.rand(2, 3, dtype=bibun.float64).tolist()
    bibun.manual_seed(0)
    assert bibun.rand_like(x).tolist() == expected
    bibun.manual_seed(0)
    expected = bibun.randn(2, 3, dtype=bibun.float64).tolist()
    bibun.manual_seed(0)
    assert bibun.randn_like(x).tolist() == expected


# ---------------------------------------------------------------------------- distributions
def test_randn_statistics(device):
    bibun.manual_seed(0)
    x = bibun.randn(100_000, device=device).cpu().numpy()
    assert abs(x.mean()) < 0.02
    assert abs(x.std() - 1) < 0.02
    assert abs((x > 0).mean() - 0.5) < 0.01
    assert abs((abs(x) < 1).mean() - 0.6827) < 0.01


def test_rand_statistics_and_range(device):
    bibun.manual_seed(0)
    x = bibun.rand(100_000, device=device).cpu().numpy()
    assert x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01
    assert abs(x.var() - 1 / 12) < 0.005


def test_rand_float16_never_returns_one(device):
    bibun.manual_seed(5)
    x = bibun.rand(100_000, dtype=bibun.float16, device=device).cpu().numpy()
    assert x.max() < 1 and x.min() >= 0


@pytest.mark.parametrize("dtype", [bibun.float32, bibun.float64, bibun.float16])
def test_random_dtypes_and_shapes(device, dtype):
    for f in (bibun.rand, bibun.randn):
        t = f(2, 3, dtype=dtype, device=device)
        assert t.dtype is dtype and t.shape == (2, 3) and not t.requires_grad
    assert bibun.rand((4,), device=device).dtype is bibun.float32
    assert bibun.randn([2, 2], device=device).shape == (2, 2)
    assert bibun.randn(bibun.Size([3]), device=device).shape == (3,)
    assert bibun.rand(0, device=device).shape == (0,)


def test_randint_bounds_and_forms(device):
    bibun.manual_seed(0)
    x = bibun.randint(-3, 4, (10_000,), device=device)
    assert x.dtype is bibun.int64
    v = x.cpu().numpy()
    assert v.min() == -3 and v.max() == 3
    y = bibun.randint(5, (2, 3), device=device)  # randint(high, size)
    assert y.shape == (2, 3) and y.cpu().numpy().min() >= 0 and y.cpu().numpy().max() < 5
    assert bibun.randint(0, 5, (3,), dtype=bibun.float32, device=device).dtype is bibun.float32
    assert bibun.randint(0, 5, (3,), dtype=bibun.int32, device=device).dtype is bibun.int32
    assert bibun.randint(0, 3, [2, 2], device=device).shape == (2, 2)
    assert bibun.randint(0, 3, (0,), device=device).shape == (0,)


def test_randint_errors(device):
    with pytest.raises(RuntimeError, match=r"^random_ expects 'from' to be less than 'to', but got from=5 >= to=5$"):
        bibun.randint(5, 5, (3,), device=device)
    with pytest.raises(RuntimeError, match=r"but got from=5 >= to=2$"):
        bibun.randint(5, 2, (3,), device=device)
    with pytest.raises(TypeError,
                       match=r"^randint\(\): argument 'size' \(position 2\) must be tuple of ints, not int$"):
        bibun.randint(5, 3, device=device)
    with pytest.raises(TypeError, match="size"):
        bibun.randint(0, 5, 3, device=device)
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype can require gradients$"):
        bibun.randint(0, 5, (2,), requires_grad=True, device=device)


def test_random_on_integer_dtypes_is_not_implemented(device):
    with pytest.raises(NotImplementedError, match="^\"check_uniform_bounds\" not implemented for 'Long'$"):
        bibun.rand(2, dtype=bibun.int64, device=device)
    with pytest.raises(NotImplementedError, match="^\"normal_kernel_cpu\" not implemented for 'Long'$"):
        bibun.randn(2, dtype=bibun.int64, device=device)
    with pytest.raises(NotImplementedError, match="^\"check_uniform_bounds\" not implemented for 'Int'$"):
        bibun.rand_like(bibun.zeros(2, dtype=bibun.int32, device=device))


def test_random_factories_need_a_size(device):
    for f in (bibun.rand, bibun.randn):
        with pytest.raises(TypeError):
            f(device=device)


def test_random_requires_grad(device):
    t = bibun.randn(3, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf
    assert bibun.rand(2, requires_grad=True, device=device).requires_grad


def test_like_random_factories(device):
    x = bibun.zeros(2, 3, dtype=bibun.float64, device=device)
    i = bibun.zeros(4, dtype=bibun.int32, device=device)
    assert bibun.rand_like(x).dtype is bibun.float64 and bibun.rand_like(x).shape == (2, 3)
    assert bibun.randn_like(x).shape == (2, 3)
    assert bibun.randn_like(x, dtype=bibun.float32).dtype is bibun.float32
    r = bibun.randint_like(i, 10)  # randint_like(input, high)
    assert r.dtype is bibun.int32 and r.shape == (4,)
    assert 0 <= r.cpu().numpy().min() and r.cpu().numpy().max() < 10
    r = bibun.randint_like(x, 3, 10)  # randint_like(input, low, high) keeps the float dtype
    assert r.dtype is bibun.float64 and 3 <= r.cpu().numpy().min() and r.cpu().numpy().max() < 10
    assert bibun.rand_like(x, requires_grad=True).requires_grad


def test_randperm(device):
    bibun.manual_seed(0)
    p = bibun.randperm(10, device=device)
    assert p.dtype is bibun.int64
    assert sorted(p.tolist()) == list(range(10))


def test_float32_fma_emulation_of_the_numpy_backend():
    """The float32 fused multiply-add behind bit-exact ``randn``, on a sum that rounding twice gets wrong."""
    import numpy as np
    from bibun_numpy import _avx_mathfun
    a, b, c = (np.array([v], np.float32) for v in (8 + 2**-18, 8 - 2**-18, 2**30 + 128))
    assert (a.astype(np.float64) * b + c).astype(np.float32).tolist() == [2**30 + 256]  # rounding twice: wrong
    assert _avx_mathfun.fma(a, b, c).tolist() == [2**30 + 128]
    assert _avx_mathfun.fma(-a, b, -c).tolist() == [-(2**30 + 128)]
