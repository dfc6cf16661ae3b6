"""Creating tensors and the Python protocols of ``Tensor``, pinned to PyTorch 2.13's behaviour.

Every expected value, type and message below was produced by PyTorch 2.13 (with
``torch.`` written as ``bibun.``), so the tests need no PyTorch. Value tests run on
every backend through the ``device`` fixture.
"""

import copy
import pickle
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bibun
from bibun import factories


@pytest.fixture(autouse=True)
def _default_dtype():
    yield
    bibun.set_default_dtype(bibun.float32)


def _exact(message):
    """A ``pytest.raises(match=...)`` pattern for exactly ``message``."""
    import re
    return "^" + re.escape(message) + "$"


# ============================================================================ bibun.tensor
@pytest.mark.parametrize("data, dtype, values", [
    (1.5, bibun.float32, 1.5),
    (3, bibun.int64, 3),
    (True, bibun.bool, True),
    ([1.0, 2.0], bibun.float32, [1.0, 2.0]),
    ([1, 2], bibun.int64, [1, 2]),
    ([True, False], bibun.bool, [True, False]),
    ([1, 2.5], bibun.float32, [1.0, 2.5]),
    ([True, 2], bibun.int64, [1, 2]),
    ([True, 2.5], bibun.float32, [1.0, 2.5]),
    ((1, 2.5, True), bibun.float32, [1.0, 2.5, 1.0]),
    ([[1, 2], [3, 4]], bibun.int64, [[1, 2], [3, 4]]),
    (((1.0, 2.0), (3.0, 4.0)), bibun.float32, [[1.0, 2.0], [3.0, 4.0]]),
    ([(1, 2), [3, 4]], bibun.int64, [[1, 2], [3, 4]]),
    (range(3), bibun.int64, [0, 1, 2]),
    ([], bibun.float32, []),
    ([[], []], bibun.float32, [[], []]),
    ([0.1], bibun.float32, [0.10000000149011612]),
])
def test_tensor_infers_dtype_from_python_data(device, data, dtype, values):
    t = bibun.tensor(data, device=device)
    assert t.dtype is dtype
    assert t.tolist() == values
    assert t.device == bibun.device(device)
    assert not t.requires_grad and t.is_leaf


@pytest.mark.parametrize("data, dtype", [
    (np.array([1.0, 2.0]), bibun.float64),
    (np.array([1, 2], dtype=np.int32), bibun.int32),
    (np.array([1, 2], dtype=np.float16), bibun.float16),
    (np.array([1, 2], dtype=np.uint8), bibun.uint8),
    (np.array([[1, 2]], dtype=np.int16), bibun.int16),
    (np.array(3.0), bibun.float64),
    (np.float64(2.5), bibun.float64),
    (np.float32(2.5), bibun.float32),
    (np.int32(3), bibun.int32),
    (np.bool_(True), bibun.bool),
    ([np.float64(1.5), np.float64(2.5)], bibun.float64),   # numpy scalars in a list keep their dtype
    ([np.int32(1), np.int32(2)], bibun.int32),
    ([np.int32(1), 2.5], bibun.float32),                   # ... and promote with python numbers
    ([1, np.float32(2)], bibun.float32),
    ([np.float16(1), 2], bibun.float16),
    ([np.uint8(1), np.int8(2)], bibun.int16),
    ([np.array([1.5]), np.array([2.0])], bibun.float64),
])
def test_tensor_keeps_numpy_dtypes(device, data, dtype):
    t = bibun.tensor(data, device=device)
    assert t.dtype is dtype
    assert t.tolist() == np.asarray(data).tolist()


def test_tensor_from_a_list_of_tensors(device):
    t = bibun.tensor([bibun.tensor(1.0), bibun.tensor(2.0)], device=device)
    assert t.dtype is bibun.float32 and t.tolist() == [1.0, 2.0]
    assert bibun.tensor([bibun.tensor(1), bibun.tensor(2)], device=device).dtype is bibun.int64
    t64 = bibun.tensor([bibun.tensor(1.0, dtype=bibun.float64), bibun.tensor(2.0, dtype=bibun.float64)])
    assert t64.dtype is bibun.float64
    assert bibun.tensor([bibun.tensor(1), 2.5]).dtype is bibun.float32
    assert bibun.tensor([bibun.tensor(1, dtype=bibun.int32), 2]).dtype is bibun.int64
    assert bibun.tensor([bibun.tensor(1.0, dtype=bibun.float64), 2.5]).dtype is bibun.float64
    # one-element tensors of any rank are scalars there
    t = bibun.tensor([bibun.tensor([1.0]), bibun.tensor([[2.0]])], device=device)
    assert t.shape == (2,) and t.tolist() == [1.0, 2.0]
    t = bibun.tensor([[bibun.tensor(1.5), 2], [3, 4]], device=device)
    assert t.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    x = bibun.tensor(1.0, requires_grad=True)
    assert not bibun.tensor([x, x]).requires_grad


def test_tensor_of_tensors_with_several_elements():
    with pytest.raises(ValueError, match=_exact("only one element tensors can be converted to Python scalars")):
        bibun.tensor([bibun.tensor([1.0, 2.0]), bibun.tensor([2.0, 3.0])])


def test_tensor_with_explicit_dtype(device):
    assert bibun.tensor([1, 2], dtype=bibun.float64, device=device).tolist() == [1.0, 2.0]
    t = bibun.tensor([1.7, -2.7], dtype=bibun.int32, device=device)
    assert t.dtype is bibun.int32 and t.tolist() == [1, -2]
    assert bibun.tensor([1.5, 0], dtype=bibun.bool, device=device).tolist() == [True, False]
    assert bibun.tensor(np.array([1.5, 2.5]), dtype=bibun.int32, device=device).tolist() == [1, 2]
    assert bibun.tensor([np.float64(1.5), 2.5], dtype=bibun.float16, device=device).tolist() == [1.5, 2.5]
    # python floats convert straight to the requested dtype, not through float32
    assert bibun.tensor([0.1], dtype=bibun.float64, device=device).item() == 0.1
    assert bibun.tensor([1e300], dtype=bibun.float64, device=device).item() == 1e300
    # a numpy float32 scalar is already float32
    assert bibun.tensor([np.float32(0.1)], dtype=bibun.float64, device=device).item() == 0.10000000149011612
    assert bibun.tensor([-1], dtype=bibun.uint8, device=device).tolist() == [255]


def test_tensor_out_of_range_values(device):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow warning: PyTorch says nothing either
        assert bibun.tensor([1e300], device=device).tolist() == [float("inf")]
    assert bibun.tensor([2**63], dtype=bibun.float32, device=device).item() == 9.223372036854776e18
    assert bibun.tensor([1.5, 2**64], device=device).tolist() == [1.5, 1.8446744073709552e19]
    assert bibun.tensor([2**63 - 1], device=device).item() == 2**63 - 1
    with pytest.raises(ValueError, match=_exact("Overflow when unpacking long long")):
        bibun.tensor([-2**63 - 1], device=device)
    with pytest.raises(RuntimeError, match=_exact("value cannot be converted to type int32 without overflow")):
        bibun.tensor([1e10], dtype=bibun.int32, device=device)
    with pytest.raises(RuntimeError, match=_exact("value cannot be converted to type int64 without overflow")):
        bibun.tensor([float("nan")], dtype=bibun.int64, device=device)
    with pytest.raises(RuntimeError, match=_exact("value cannot be converted to type uint8 without overflow")):
        bibun.tensor([300], dtype=bibun.uint8, device=device)


def test_tensor_copies_its_data(device):
    a = np.array([1.0, 2.0])
    t = bibun.tensor(a, device=device)
    a[0] = 7
    assert t.tolist() == [1.0, 2.0]
    src = bibun.tensor([1.0, 2.0], device=device)
    with pytest.warns(UserWarning, match=_exact(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach().clone() or "
            "sourceTensor.detach().clone().requires_grad_(True), rather than bibun.tensor(sourceTensor).")):
        c = bibun.tensor(src)
    src.add_(1)
    assert c.tolist() == [1.0, 2.0] and c.dtype is bibun.float32


def test_tensor_requires_grad(device):
    t = bibun.tensor([1.0, 2.0], requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf and t.grad_fn is None
    assert bibun.tensor([1, 2], dtype=bibun.float32, requires_grad=True, device=device).requires_grad
    assert bibun.tensor([1.0], dtype=bibun.float16, requires_grad=True, device=device).requires_grad


@pytest.mark.parametrize("data", [[1, 2], [True], 3, np.array([1, 2])])
def test_tensor_requires_grad_on_integer_data(device, data):
    with pytest.raises(RuntimeError, match=_exact("Only Tensors of floating point and complex dtype can require "
                                                  "gradients")):
        bibun.tensor(data, requires_grad=True, device=device)


def test_from_numpy_shares_memory_both_ways():
    a = np.array([1.0, 2.0])
    t = bibun.from_numpy(a)
    assert t.dtype is bibun.float64 and t.device == bibun.device("cpu")
    a[0] = 7
    assert t.tolist() == [7.0, 2.0]
    t.add_(1)
    assert a.tolist() == [8.0, 3.0]
    t.numpy()[1] = -1
    assert a.tolist() == [8.0, -1.0]
    assert bibun.from_numpy(np.arange(6.0).reshape(2, 3).T).tolist() == [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    assert bibun.from_numpy(np.array(3.5)).shape == ()


def test_from_numpy_errors():
    with pytest.raises(TypeError, match=_exact("expected np.ndarray (got list)")):
        bibun.from_numpy([1, 2])
    with pytest.raises(TypeError, match=r"^can't convert np.ndarray of type numpy.object_. The only supported types "
                                        r"are: float64, float32, float16, .*and bool.$"):
        bibun.from_numpy(np.array([1, 2], dtype=object))


def test_as_tensor():
    a = np.array([1.0, 2.0])
    t = bibun.as_tensor(a)
    assert t.dtype is bibun.float64
    a[0] = 7
    assert t.tolist() == [7.0, 2.0]                       # shares the array
    shared = bibun.as_tensor(a, device="cpu")
    a[1] = 5
    assert shared.tolist() == [7.0, 5.0]
    converted = bibun.as_tensor(a, dtype=bibun.float32)   # another dtype: a copy
    a[0] = 0
    assert converted.tolist() == [7.0, 5.0] and converted.dtype is bibun.float32
    x = bibun.tensor([1.0])
    assert bibun.as_tensor(x) is x
    assert bibun.as_tensor(x, device="cpu") is x
    assert bibun.as_tensor(x, dtype=bibun.float32) is x
    y = bibun.as_tensor(bibun.tensor([1.5]), dtype=bibun.int64)
    assert y.dtype is bibun.int64 and y.tolist() == [1]
    assert bibun.as_tensor([1, 2], dtype=bibun.float64).tolist() == [1.0, 2.0]
    g = bibun.as_tensor(bibun.tensor([1.0], requires_grad=True), dtype=bibun.float64)
    assert g.grad_fn is not None                          # a conversion, not a copy: the graph goes on


# ---------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("data, exc, message", [
    ([[1, 2], [3]], ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    ([[1], [2, 3]], ValueError, "expected sequence of length 1 at dim 1 (got 2)"),
    ([[[1, 2]], [[1]]], ValueError, "expected sequence of length 2 at dim 2 (got 1)"),
    ([[1, 2], 3], TypeError, None),            # a number where a sequence belongs
    ([1, [2, 3]], TypeError, None),            # a sequence where a number belongs
    ([1.5, [2]], TypeError, None),
    (None, RuntimeError, "Could not infer dtype of NoneType"),
    ([1, None], RuntimeError, "Could not infer dtype of NoneType"),
    (object(), RuntimeError, "Could not infer dtype of object"),
    ([object()], RuntimeError, "Could not infer dtype of object"),
    ({1: 2}, RuntimeError, "Could not infer dtype of dict"),
    ({1, 2}, RuntimeError, "Could not infer dtype of set"),
    ("abc", TypeError, "new(): invalid data type 'str'"),
    (b"ab", TypeError, "new(): invalid data type 'bytes'"),
    (["a"], ValueError, "too many dimensions 'str'"),
    ([1, "a"], TypeError, None),
    (np.array([1, "a"], dtype=object), TypeError, None),
    (np.array([1, 2], dtype=object), TypeError, None),
])
def test_tensor_rejects_bad_data(data, exc, message):
    with pytest.raises(exc) as info:
        bibun.tensor(data)
    if message is not None:
        assert str(info.value) == message
    if isinstance(data, np.ndarray):
        assert str(info.value).startswith("can't convert np.ndarray of type numpy.object_. The only supported types "
                                          "are: float64, float32, float16")


# ============================================================================ filled tensors
@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_factory_size_forms(device, name):
    f = getattr(bibun, name)
    for args in [(2, 3), ((2, 3),), ([2, 3],), (bibun.Size([2, 3]),), (np.int64(2), 3), (bibun.tensor(2), 3)]:
        t = f(*args, device=device)
        assert t.shape == (2, 3) and type(t.shape) is bibun.Size
        assert t.dtype is bibun.float32 and not t.requires_grad
    assert f((), device=device).shape == ()
    assert f(0, 3, device=device).shape == (0, 3)
    assert f(2, dtype=bibun.float64, device=device).dtype is bibun.float64
    t = f(2, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_filled_factories_take_integer_dtypes(device, name):
    t = getattr(bibun, name)(2, dtype=bibun.int64, device=device)
    assert t.dtype is bibun.int64
    with pytest.raises(RuntimeError, match=_exact("Only Tensors of floating point and complex dtype can require "
                                                  "gradients")):
        getattr(bibun, name)(2, dtype=bibun.int64, requires_grad=True, device=device)


def test_zeros_and_ones_values(device):
    assert bibun.zeros(2, 2, device=device).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert bibun.ones(3, dtype=bibun.int32, device=device).tolist() == [1, 1, 1]
    assert bibun.ones(2, dtype=bibun.bool, device=device).tolist() == [True, True]


def test_negative_sizes():
    with pytest.raises(RuntimeError, match=_exact("zeros: Dimension size must be non-negative.")):
        bibun.zeros(-1)
    with pytest.raises(RuntimeError, match=_exact("zeros: Dimension size must be non-negative.")):
        bibun.zeros(2, -3)
    for name in ["ones", "empty", "rand", "randn"]:
        with pytest.raises(RuntimeError, match=_exact("Trying to create tensor with negative dimension -1: [-1]")):
            getattr(bibun, name)(-1)
        with pytest.raises(RuntimeError, match=_exact("Trying to create tensor with negative dimension -3: "
                                                      "[2, -3]")):
            getattr(bibun, name)(2, -3)
    with pytest.raises(RuntimeError, match=_exact("Trying to create tensor with negative dimension -1: [2, -1]")):
        bibun.ones((2, -1))
    with pytest.raises(RuntimeError, match=_exact("Trying to create tensor with negative dimension -2: [-2]")):
        bibun.full((-2,), 2)


def test_bad_sizes():
    with pytest.raises(TypeError, match=_exact("ones(): argument 'size' (position 1) must be tuple of ints, "
                                               "not float")):
        bibun.ones(2.5)
    with pytest.raises(TypeError, match=r"^zeros\(\): argument 'size'"):
        bibun.zeros(2, 2.5)
    with pytest.raises(TypeError, match=r"^zeros\(\): argument 'size'"):
        bibun.zeros((2, 2.5))
    with pytest.raises(TypeError, match=_exact("zeros(): argument 'size' (position 1) must be tuple of ints, "
                                               "not str")):
        bibun.zeros("a")
    with pytest.raises(TypeError, match=_exact("zeros(): argument 'size' (position 1) must be tuple of ints, "
                                               "not NoneType")):
        bibun.zeros(None)
    with pytest.raises(TypeError, match=_exact("zeros(): argument 'size' (position 1) must be tuple of ints, "
                                               "not Tensor")):
        bibun.zeros(bibun.tensor(2.0))
    with pytest.raises(TypeError):
        bibun.zeros(True)
    for name in ["zeros", "ones", "empty"]:
        with pytest.raises(TypeError, match=_exact(f'{name}() missing 1 required positional arguments: "size"')):
            getattr(bibun, name)()


@pytest.mark.parametrize("fill, dtype, values", [
    (2, bibun.int64, [2, 2]),
    (2.0, bibun.float32, [2.0, 2.0]),
    (True, bibun.bool, [True, True]),
    (float("nan"), bibun.float32, None),
])
def test_full_dtype_follows_the_fill_value(device, fill, dtype, values):
    t = bibun.full((2,), fill, device=device)
    assert t.dtype is dtype
    if values is not None:
        assert t.tolist() == values


def test_full(device):
    assert bibun.full([2, 1], 1.5, device=device).tolist() == [[1.5], [1.5]]
    assert bibun.full((2,), 2, dtype=bibun.float32, device=device).tolist() == [2.0, 2.0]
    t = bibun.full((2,), bibun.tensor(3.5), device=device)
    assert t.dtype is bibun.float32 and t.tolist() == [3.5, 3.5]
    assert bibun.full((2,), 2.0, requires_grad=True, device=device).requires_grad
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        bibun.full((2,), 2, requires_grad=True, device=device)
    bibun.set_default_dtype(bibun.float64)
    assert bibun.full((1,), 1.5, device=device).dtype is bibun.float64


def test_full_size_must_be_a_sequence():
    with pytest.raises(TypeError, match=_exact("full(): argument 'size' (position 1) must be tuple of ints, not int")):
        bibun.full(3, 1.0)
    with pytest.raises(TypeError, match=_exact("full(): argument 'size' (position 1) must be tuple of ints, "
                                               "not NoneType")):
        bibun.full(None, 1)


def test_like_factories(device):
    x = bibun.tensor([[1, 2], [3, 4]], dtype=bibun.int32, device=device)
    y = bibun.tensor([1.0, 2.0], dtype=bibun.float64, device=device)
    z = bibun.zeros_like(x)
    assert z.dtype is bibun.int32 and z.tolist() == [[0, 0], [0, 0]] and z.device == x.device
    assert bibun.ones_like(y).tolist() == [1.0, 1.0] and bibun.ones_like(y).dtype is bibun.float64
    assert bibun.full_like(x, 7).tolist() == [[7, 7], [7, 7]]
    assert bibun.full_like(x, 7.9).tolist() == [[7, 7], [7, 7]]      # the input's dtype wins
    assert bibun.full_like(y, 7).dtype is bibun.float64
    assert bibun.empty_like(x).shape == (2, 2) and bibun.empty_like(x).dtype is bibun.int32
    assert bibun.zeros_like(x, dtype=bibun.float32).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    r = bibun.zeros_like(y, requires_grad=True)
    assert r.requires_grad and r.dtype is bibun.float64
    assert not bibun.zeros_like(bibun.ones(2, requires_grad=True)).requires_grad
    with pytest.raises(RuntimeError, match="Only Tensors of floating point"):
        bibun.ones_like(x, requires_grad=True)


# ============================================================================ ranges
@pytest.mark.parametrize("args, dtype, values", [
    ((5,), bibun.int64, [0, 1, 2, 3, 4]),
    ((1, 4), bibun.int64, [1, 2, 3]),
    ((5.0,), bibun.float32, [0.0, 1.0, 2.0, 3.0, 4.0]),
    ((5, 0, -1), bibun.int64, [5, 4, 3, 2, 1]),
    ((0, 10, 3), bibun.int64, [0, 3, 6, 9]),
    ((1, 2.5, 0.5), bibun.float32, [1.0, 1.5, 2.0]),
    ((1.0, 0.0, -0.25), bibun.float32, [1.0, 0.75, 0.5, 0.25]),
    ((0,), bibun.int64, []),
    ((3, 3), bibun.int64, []),
    # float32 values exactly as PyTorch rounds them
    ((0, 1, 0.1), bibun.float32, [0.0, 0.10000000149011612, 0.20000000298023224, 0.30000001192092896,
                                  0.4000000059604645, 0.5, 0.6000000238418579, 0.699999988079071,
                                  0.800000011920929, 0.8999999761581421]),
    ((-1.5, 2, 0.7), bibun.float32, [-1.5, -0.800000011920929, -0.10000000149011612, 0.6000000238418579,
                                     1.2999999523162842]),
    ((1, 1.3, 0.1), bibun.float32, [1.0, 1.100000023841858, 1.2000000476837158, 1.2999999523162842]),
    ((0, 2, 0.3), bibun.float32, [0.0, 0.30000001192092896, 0.6000000238418579, 0.8999999761581421,
                                  1.2000000476837158, 1.5, 1.7999999523162842]),
])
def test_arange(device, args, dtype, values):
    t = bibun.arange(*args, device=device)
    assert t.dtype is dtype
    assert t.tolist() == values


def test_arange_float64_rounds_like_pytorch(device):
    t = bibun.arange(-26, -20, 0.3, dtype=bibun.float64, device=device)
    assert t.tolist() == [-26.0, -25.7, -25.4, -25.1, -24.8, -24.5, -24.2, -23.900000000000002, -23.6, -23.3, -23.0,
                          -22.700000000000003, -22.4, -22.099999999999998, -21.799999999999997, -21.5, -21.2, -20.9,
                          -20.6, -20.3]


def test_arange_dtypes(device):
    assert bibun.arange(5, dtype=bibun.float64, device=device).tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert bibun.arange(bibun.tensor(3), device=device).tolist() == [0, 1, 2]
    # integer dtypes truncate the bounds (int64 counts in integers, other dtypes in floats)
    assert bibun.arange(1, 10, 2.5, dtype=bibun.int64, device=device).tolist() == [1, 3, 5, 7, 9]
    assert bibun.arange(1, 10, 2.5, dtype=bibun.int32, device=device).tolist() == [1, 3, 5, 7]
    assert bibun.arange(-2.5, 3, dtype=bibun.int64, device=device).tolist() == [-2, -1, 0, 1, 2]
    t = bibun.arange(3.0, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf
    bibun.set_default_dtype(bibun.float64)
    assert bibun.arange(1.0, device=device).dtype is bibun.float64


def test_arange_errors():
    with pytest.raises(RuntimeError, match=_exact("step must be nonzero")):
        bibun.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match=_exact("upper bound and lower bound inconsistent with step sign")):
        bibun.arange(0, 5, -1)
    with pytest.raises(RuntimeError, match=_exact("upper bound and lower bound inconsistent with step sign")):
        bibun.arange(-3)


LINSPACE_FLOAT32 = [
    ((0, 1, 5), [0.0, 0.25, 0.5, 0.75, 1.0]),
    ((0, 1, 7), [0.0, 0.1666666716337204, 0.3333333432674408, 0.5, 0.6666666269302368, 0.8333333134651184, 1.0]),
    ((-1, 1, 10), [-1.0, -0.7777777910232544, -0.5555555820465088, -0.3333333134651184, -0.1111111044883728,
                   0.1111111044883728, 0.3333333134651184, 0.5555555820465088, 0.7777777910232544, 1.0]),
    ((3, -2, 6), [3.0, 2.0, 1.0, 0.0, -1.0, -2.0]),
    ((0.1, 0.9, 9), [0.10000000149011612, 0.19999998807907104, 0.29999998211860657, 0.3999999761581421, 0.5,
                     0.6000000238418579, 0.699999988079071, 0.7999999523162842, 0.8999999761581421]),
    ((0, 3.14159, 11), [0.0, 0.31415900588035583, 0.6283180117607117, 0.9424769878387451, 1.2566360235214233,
                        1.5707950592041016, 1.8849540948867798, 2.199113130569458, 2.5132720470428467,
                        2.8274312019348145, 3.141590118408203]),
    ((-5.5, 7.25, 17), [-5.5, -4.703125, -3.90625, -3.109375, -2.3125, -1.515625, -0.71875, 0.078125, 0.875,
                        1.671875, 2.46875, 3.265625, 4.0625, 4.859375, 5.65625, 6.453125, 7.25]),
    ((0, 1, 1), [0.0]),
    ((2.5, 10, 2), [2.5, 10.0]),
    ((0, 1, 0), []),
]


@pytest.mark.parametrize("args, values", LINSPACE_FLOAT32)
def test_linspace_float32_is_pytorchs(device, args, values):
    t = bibun.linspace(*args, device=device)
    assert t.dtype is bibun.float32
    assert t.tolist() == values


def test_linspace_long_and_other_dtypes(device):
    t = bibun.linspace(0, 1, 100, device=device).tolist()
    assert [t[33], t[66], t[67], t[99]] == [0.3333333432674408, 0.6666666865348816, 0.6767677068710327, 1.0]
    assert bibun.linspace(0, 1, 7, dtype=bibun.float64, device=device).tolist() == [
        0.0, 0.16666666666666666, 0.3333333333333333, 0.5, 0.6666666666666667, 0.8333333333333334, 1.0]
    assert bibun.linspace(-3, 10, 7, dtype=bibun.int64, device=device).tolist() == [-3, 0, 1, 3, 5, 7, 10]
    assert bibun.linspace(0, 10, 4, dtype=bibun.int64, device=device).tolist() == [0, 3, 6, 10]
    assert bibun.linspace(0, 1, 5, dtype=bibun.float16, device=device).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    t = bibun.linspace(0, 1, 3, requires_grad=True, device=device)
    assert t.requires_grad and t.is_leaf
    bibun.set_default_dtype(bibun.float64)
    assert bibun.linspace(0, 1, 3, device=device).dtype is bibun.float64


def test_linspace_errors():
    with pytest.raises(RuntimeError, match=_exact("number of steps must be non-negative")):
        bibun.linspace(0, 1, -1)
    with pytest.raises(TypeError):
        bibun.linspace(0, 1, 3.0)


def test_eye(device):
    assert bibun.eye(3, device=device).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    assert bibun.eye(2, 3, device=device).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    t = bibun.eye(2, dtype=bibun.int64, device=device)
    assert t.dtype is bibun.int64 and t.tolist() == [[1, 0], [0, 1]]
    assert bibun.eye(0, device=device).shape == (0, 0)
    assert bibun.eye(2, requires_grad=True, device=device).requires_grad
    with pytest.raises(RuntimeError, match=_exact("n must be greater or equal to 0, got -1")):
        bibun.eye(-1)
    with pytest.raises(RuntimeError, match=_exact("m must be greater or equal to 0, got -1")):
        bibun.eye(3, -1)
    with pytest.raises(TypeError):
        bibun.eye(2.5)


# ============================================================================ properties and methods
def test_shape_size_dim(device):
    x = bibun.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert x.shape == (2, 3) and type(x.shape) is bibun.Size and repr(x.shape) == "bibun.Size([2, 3])"
    assert x.size() == (2, 3) and type(x.size()) is bibun.Size
    assert x.size(1) == 3 and x.size(-1) == 3 and x.size(0) == 2
    assert x.dim() == 2 and x.ndim == 2 and x.ndimension() == 2
    assert x.numel() == 6 and x.nelement() == 6 and bibun.numel(x) == 6
    assert bibun.tensor(1.0).size() == () and bibun.tensor(1.0).dim() == 0
    assert bibun.zeros(2, 0).numel() == 0


def test_size_dim_out_of_range(device):
    x = bibun.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=_exact("Dimension out of range (expected to be in range of [-2, 1], but "
                                                "got 2)")):
        x.size(2)
    with pytest.raises(IndexError, match=_exact("Dimension out of range (expected to be in range of [-2, 1], but "
                                                "got -3)")):
        x.size(-3)


def test_size_of_zero_dim_tensor_message():
    with pytest.raises(IndexError, match=_exact("Dimension specified as 0 but tensor has no dimensions")):
        bibun.tensor(1.0).size(0)


def test_dtype_and_device(device):
    x = bibun.zeros(2, device=device)
    assert x.dtype is bibun.float32 and repr(x.dtype) == "bibun.float32"
    assert isinstance(x.device, bibun.device) and x.device == bibun.device(device)
    cpu = bibun.zeros(1, device="cpu")
    assert repr(cpu.device) == "device(type='cpu')" and str(cpu.device) == "cpu"
    assert cpu.device.type == "cpu" and cpu.device.index is None
    assert cpu.is_cpu and not cpu.is_cuda


def test_item_and_tolist(device):
    assert bibun.tensor(2.5, device=device).item() == 2.5
    assert type(bibun.tensor(2.5, device=device).item()) is float
    assert type(bibun.tensor(2, device=device).item()) is int
    assert type(bibun.tensor(3, dtype=bibun.int32, device=device).item()) is int
    assert type(bibun.tensor(True, device=device).item()) is bool
    assert bibun.tensor(0.1, device=device).item() == 0.10000000149011612
    assert bibun.tensor(0.1, dtype=bibun.float16, device=device).item() == 0.0999755859375
    assert bibun.tensor([[2.5]], device=device).item() == 2.5
    assert bibun.tensor(1.0, requires_grad=True, device=device).item() == 1.0
    x = bibun.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert x.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert bibun.tensor(3, device=device).tolist() == 3
    assert [type(v) for v in bibun.tensor([1, 2], device=device).tolist()] == [int, int]
    assert bibun.tensor([True, False], device=device).tolist() == [True, False]
    assert bibun.tensor([1.0], requires_grad=True, device=device).tolist() == [1.0]
    assert bibun.zeros(2, 0, device=device).tolist() == [[], []]


def test_item_of_several_elements(device):
    with pytest.raises(RuntimeError, match=_exact("a Tensor with 3 elements cannot be converted to Scalar")):
        bibun.tensor([1.0, 2.0, 3.0], device=device).item()
    with pytest.raises(RuntimeError, match=_exact("a Tensor with 0 elements cannot be converted to Scalar")):
        bibun.tensor([], device=device).item()


def test_numpy():
    x = bibun.tensor([[1.0, 2.0]])
    a = x.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32 and a.tolist() == [[1.0, 2.0]]
    a[0, 0] = 9
    assert x.tolist() == [[9.0, 2.0]]                    # shares memory
    assert bibun.tensor([1, 2]).numpy().dtype == np.int64
    assert bibun.tensor(3.5).numpy().shape == ()
    with pytest.raises(RuntimeError, match=_exact("Can't call numpy() on Tensor that requires grad. Use "
                                                  "tensor.detach().numpy() instead.")):
        bibun.tensor([1.0], requires_grad=True).numpy()
    assert bibun.tensor([1.0], requires_grad=True).detach().numpy().tolist() == [1.0]


@pytest.mark.parametrize("method, dtype, values", [
    ("float", bibun.float32, [1.0, -1.0]),
    ("double", bibun.float64, [1.5, -1.5]),
    ("half", bibun.float16, [1.5, -1.5]),
    ("long", bibun.int64, [1, -1]),
    ("int", bibun.int32, [1, -1]),
    ("short", bibun.int16, [1, -1]),
    ("char", bibun.int8, [1, -1]),
    ("bool", bibun.bool, [True, True]),
])
def test_dtype_conversion_methods(device, method, dtype, values):
    src = bibun.tensor([1.0, -1.0] if method == "float" else [1.5, -1.5], dtype=bibun.float64, device=device)
    t = getattr(src, method)()
    assert t.dtype is dtype and t.tolist() == values


def test_conversion_to_the_same_dtype_returns_self(device):
    x = bibun.tensor([1.0, 2.0], device=device)
    assert x.float() is x and x.to(bibun.float32) is x and x.to(dtype=bibun.float32) is x
    assert x.to(device) is x and x.to(bibun.device(device)) is x
    assert x.to(bibun.float32, copy=True) is not x
    assert bibun.tensor([0.0, 2.0], device=device).bool().tolist() == [False, True]
    assert bibun.tensor([1.5, 2.0], device=device).byte().dtype is bibun.uint8


def test_to(device):
    x = bibun.tensor([[1.0, 2.0]], device=device)
    assert x.to(bibun.float64).dtype is bibun.float64
    assert x.to(device, bibun.float64).dtype is bibun.float64
    assert x.to(dtype=bibun.float16).dtype is bibun.float16
    other = bibun.tensor([1], dtype=bibun.int32, device=device)
    y = x.to(other)
    assert y.dtype is bibun.int32 and y.device == other.device and y.tolist() == [[1, 2]]
    g = bibun.tensor([1.0], requires_grad=True, device=device).to(bibun.float64)
    assert g.grad_fn.name() == "ToCopyBackward0"
    with pytest.raises(RuntimeError, match="device type 'foo'"):
        x.to("foo")


def test_integer_conversion_does_not_require_grad():
    t = bibun.tensor([1.5], requires_grad=True).long()
    assert not t.requires_grad and t.grad_fn is None


def test_clone_and_contiguous(device):
    x = bibun.tensor([1.0, 2.0], device=device)
    c = x.clone()
    assert c is not x and c.tolist() == [1.0, 2.0]
    c.add_(1)
    assert x.tolist() == [1.0, 2.0]
    assert x.contiguous() is x and x.is_contiguous()
    m = bibun.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
    assert not m.t().is_contiguous()
    assert m.t().contiguous().tolist() == [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    assert bibun.tensor([1.0], requires_grad=True).clone().grad_fn.name() == "CloneBackward0"


def test_contiguous_makes_a_contiguous_tensor():
    m = bibun.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert m.t().contiguous().is_contiguous()


@pytest.mark.parametrize("dtype, size", [(bibun.float32, 4), (bibun.float64, 8), (bibun.float16, 2),
                                         (bibun.int64, 8), (bibun.int32, 4), (bibun.int16, 2), (bibun.int8, 1),
                                         (bibun.uint8, 1), (bibun.bool, 1)])
def test_element_size(device, dtype, size):
    assert bibun.zeros(2, dtype=dtype, device=device).element_size() == size


def test_is_floating_point(device):
    assert bibun.zeros(1, device=device).is_floating_point()
    assert bibun.zeros(1, dtype=bibun.float16, device=device).is_floating_point()
    assert not bibun.zeros(1, dtype=bibun.int64, device=device).is_floating_point()
    assert not bibun.zeros(1, dtype=bibun.bool, device=device).is_floating_point()
    assert bibun.is_floating_point(bibun.zeros(1, device=device))
    assert bibun.is_tensor(bibun.zeros(1)) and not bibun.is_tensor(1)


def test_new_factories(device):
    x = bibun.tensor([[1.0, 2.0]], dtype=bibun.float64, device=device)
    z = x.new_zeros(2)
    assert z.dtype is bibun.float64 and z.tolist() == [0.0, 0.0] and z.device == x.device
    assert x.new_zeros((2, 1)).shape == (2, 1)
    assert x.new_ones(2, 2).tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert x.new_ones(2, dtype=bibun.int64).dtype is bibun.int64
    assert x.new_full((2,), 7).tolist() == [7.0, 7.0] and x.new_full((2,), 7).dtype is bibun.float64
    assert bibun.tensor([1]).new_full((2,), 7.5).tolist() == [7, 7]
    assert x.new_empty(3).shape == (3,)
    i = bibun.tensor([1], dtype=bibun.int32, device=device)
    assert i.new_zeros(2).dtype is bibun.int32
    t = i.new_tensor([1.5, 2])
    assert t.dtype is bibun.int32 and t.tolist() == [1, 2]
    t = x.new_tensor([1, 2], requires_grad=True)
    assert t.dtype is bibun.float64 and t.requires_grad and t.is_leaf
    assert x.new_zeros(2, requires_grad=True).requires_grad
    assert not bibun.ones(2, requires_grad=True).new_ones(2).requires_grad
    with pytest.warns(UserWarning, match="To copy construct from a tensor"):
        assert x.new_tensor(bibun.tensor([3, 4])).tolist() == [3.0, 4.0]
    with pytest.raises(TypeError):
        x.new_full(2, 7)


@pytest.mark.parametrize("dtype, name", [(bibun.float32, "bibun.FloatTensor"), (bibun.int64, "bibun.LongTensor"),
                                         (bibun.int32, "bibun.IntTensor"), (bibun.bool, "bibun.BoolTensor"),
                                         (bibun.float64, "bibun.DoubleTensor"), (bibun.float16, "bibun.HalfTensor"),
                                         (bibun.uint8, "bibun.ByteTensor"), (bibun.int16, "bibun.ShortTensor"),
                                         (bibun.int8, "bibun.CharTensor")])
def test_type_names(dtype, name):
    assert bibun.zeros(1, dtype=dtype).type() == name


def test_type_converts(device):
    x = bibun.tensor([1.5], device=device)
    assert x.type(bibun.float64).dtype is bibun.float64
    assert x.type(bibun.int64).tolist() == [1]


def test_type_accepts_a_type_name():
    assert bibun.tensor([1.5]).type("bibun.DoubleTensor").dtype is bibun.float64


# ============================================================================ bibun.device and bibun.Size
def test_device_parsing():
    assert repr(bibun.device("cpu")) == "device(type='cpu')"
    d = bibun.device("cuda:1")
    assert repr(d) == "device(type='cuda', index=1)" and str(d) == "cuda:1"
    assert (d.type, d.index) == ("cuda", 1)
    assert bibun.device("cuda", 1) == d and bibun.device(type="cuda", index=2).index == 2
    assert repr(bibun.device("cuda")) == "device(type='cuda')"
    assert bibun.device("cpu:0").index == 0
    assert bibun.device(bibun.device("cuda:1")) == d
    assert repr(bibun.device("mps")) == "device(type='mps')"
    assert pickle.loads(pickle.dumps(d)) == d


def test_device_equality():
    assert bibun.device("cpu") == bibun.device("cpu")
    assert bibun.device("cuda:0") != bibun.device("cuda")       # an index is not the same as none
    assert bibun.device("cpu") != "cpu"                         # like PyTorch: a device equals only devices
    assert not (bibun.device("cpu") == "cpu")
    assert len({bibun.device("cpu"), bibun.device("cpu"), bibun.device("cuda:0")}) == 2


@pytest.mark.parametrize("spec, message", [
    ("cuda:x", "Invalid device string: 'cuda:x'"),
    ("cuda:-1", "Invalid device string: 'cuda:-1'"),
    ("cuda:", "Invalid device string: 'cuda:'"),
    ("cuda:1:2", "Invalid device string: 'cuda:1:2'"),
    (" cpu", "Invalid device string: ' cpu'"),
    ("cuda: 1", "Invalid device string: 'cuda: 1'"),
    ("cuda:01", "Invalid device string: 'cuda:01'"),
    ("", "Device string must not be empty"),
])
def test_device_string_errors(spec, message):
    with pytest.raises(RuntimeError, match=_exact(message)):
        bibun.device(spec)


def test_device_other_errors():
    with pytest.raises(RuntimeError, match=r"^Expected .*device type.* at start of device string: CPU$"):
        bibun.device("CPU")
    with pytest.raises(RuntimeError, match=r"^Device index must not be negative"):
        bibun.device("cuda", -1)
    with pytest.raises(RuntimeError, match=_exact("type (string) must not include an index because index was passed "
                                                  "explicitly: cuda:1")):
        bibun.device("cuda:1", 1)
    with pytest.raises(TypeError):
        bibun.device(None)


def test_size():
    s = bibun.Size([2, 3])
    assert repr(s) == "bibun.Size([2, 3])" and str(s) == "bibun.Size([2, 3])"
    assert repr(bibun.Size([])) == "bibun.Size([])"
    assert s == (2, 3) and (2, 3) == s and s != [2, 3]
    assert bibun.Size((2, 3)) == s and isinstance(s, tuple)
    assert hash(s) == hash((2, 3))
    assert bibun.Size(i for i in range(3)) == (0, 1, 2)
    t = bibun.Size([2, 3, 4])
    assert t[1:] == (3, 4) and type(t[1:]) is bibun.Size and type(t[::-1]) is bibun.Size
    assert t[-1] == 4 and type(t[0]) is int
    assert t.numel() == 24 and bibun.Size([]).numel() == 1 and bibun.Size([2, 0]).numel() == 0
    assert t.count(2) == 1 and t.index(4) == 2
    for r in (bibun.Size([2]) + (3,), (3,) + bibun.Size([2]), bibun.Size([2]) + bibun.Size([3]),
              bibun.Size([2]) * 2, 2 * bibun.Size([2])):
        assert type(r) is bibun.Size
    assert (3,) + bibun.Size([2]) == (3, 2)
    assert pickle.loads(pickle.dumps(s)) == s and type(pickle.loads(pickle.dumps(s))) is bibun.Size
    assert copy.deepcopy(s) == s
    assert bibun.zeros(2, 3).shape[1:] == bibun.Size([3])


# ============================================================================ Python protocols
def test_float_int_of_one_element(device):
    assert float(bibun.tensor(3, device=device)) == 3.0
    assert int(bibun.tensor(-2.7, device=device)) == -2
    assert int(bibun.tensor(True, device=device)) == 1
    assert float(bibun.tensor([[2.5]], device=device)) == 2.5
    assert complex(bibun.tensor(2.5, device=device)) == 2.5 + 0j


@pytest.mark.parametrize("convert", [float, int])
@pytest.mark.parametrize("data", [[1.0, 2.0], []])
def test_float_int_of_several_elements(device, convert, data):
    with pytest.raises(ValueError, match=_exact("only one element tensors can be converted to Python scalars")):
        convert(bibun.tensor(data, device=device))


def test_float_of_a_tensor_that_requires_grad_warns(device):
    x = bibun.tensor(1.0, requires_grad=True, device=device)
    with pytest.warns(UserWarning, match=r"^Converting a tensor with requires_grad=True to a scalar may lead to "
                                         r"unexpected behavior.\nConsider using tensor.detach\(\) first."):
        assert float(x) == 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.item() == 1.0                    # item() does not warn
        assert int(bibun.tensor(1.5, requires_grad=True, device=device)) == 1
        assert bool(x)
        assert f"{x:.2f}" == "1.00"


@pytest.mark.parametrize("data, value", [(0.0, False), ([[0.0]], False), ([[[2]]], True), ([True], True),
                                         ([[False]], False), (-0.5, True)])
def test_bool_of_one_element(device, data, value):
    assert bool(bibun.tensor(data, device=device)) is value


def test_bool_of_several_or_no_elements(device):
    with pytest.raises(RuntimeError, match=_exact("Boolean value of Tensor with more than one value is ambiguous")):
        bool(bibun.tensor([1, 2], device=device))
    with pytest.raises(RuntimeError, match=_exact("Boolean value of Tensor with no values is ambiguous")):
        bool(bibun.tensor([], device=device))
    with pytest.raises(RuntimeError, match="ambiguous"):
        if bibun.zeros(2, 2, device=device) > 0:
            pass


def test_format(device, repr_on):
    assert f"{bibun.tensor(3.14159, device=device):.4f}" == "3.1416"
    assert f"{bibun.tensor(3.5, device=device)}" == "3.5"
    assert f"{bibun.tensor(3, device=device)}" == "3"
    assert f"{bibun.tensor(3, device=device):05d}" == "00003"
    assert f"{bibun.tensor(3.5, requires_grad=True, device=device)}" == "3.5"
    assert f"{bibun.tensor([3.5], device=device)}" == repr_on("tensor([3.5000])")
    with pytest.raises(TypeError, match=_exact("unsupported format string passed to Tensor.__format__")):
        f"{bibun.tensor([3.5], device=device):.2f}"


def test_len_and_iteration(device):
    x = bibun.tensor([[1, 2], [3, 4]], device=device)
    assert len(x) == 2 and len(bibun.zeros(3, 2, device=device)) == 3
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4]]
    assert all(isinstance(r, bibun.Tensor) for r in rows)
    assert [v.item() for v in bibun.tensor([5, 6], device=device)] == [5, 6]
    with pytest.raises(TypeError, match=_exact("len() of a 0-d tensor")):
        len(bibun.tensor(1.0, device=device))
    with pytest.raises(TypeError, match=_exact("iteration over a 0-d tensor")):
        iter(bibun.tensor(1.0, device=device))


def test_index(device):
    assert [10, 20, 30][bibun.tensor(2, device=device)] == 30
    assert [10, 20, 30][bibun.tensor([2], device=device)] == 30
    assert list(range(bibun.tensor(3, device=device))) == [0, 1, 2]
    assert "abc"[bibun.tensor(1, dtype=bibun.int32, device=device)] == "b"
    with pytest.raises(TypeError, match=_exact("only integer tensors of a single element can be converted to an "
                                               "index")):
        [10, 20, 30][bibun.tensor(2.0, device=device)]
    with pytest.raises(TypeError, match="only integer tensors of a single element"):
        [10, 20, 30][bibun.tensor([1, 2], device=device)]


def test_index_of_a_bool_tensor():
    assert [10, 20, 30][bibun.tensor(True)] == 20


def test_numpy_asarray():
    a = np.asarray(bibun.tensor([1.0, 2.0]))
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0]
    assert np.asarray(bibun.tensor([1.0, 2.0]), dtype=np.float64).dtype == np.float64
    assert np.array(bibun.tensor([[1, 2]])).tolist() == [[1, 2]]


def test_numpy_asarray_of_a_tensor_that_requires_grad():
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        np.asarray(bibun.tensor([1.0, 2.0], requires_grad=True))


def test_hash_is_identity():
    a, b = bibun.tensor(1.0), bibun.tensor(1.0)
    assert a in {a} and b not in {a}
    assert len({a: 1, b: 2}) == 2


def test_pickling_a_tensor_points_to_safetensors():
    with pytest.raises(TypeError, match="safetensors"):
        pickle.dumps(bibun.tensor([1.0, 2.0]))


def test_deepcopy(device):
    x = bibun.tensor([1.0, 2.0], device=device)
    c = copy.deepcopy(x)
    c.add_(1)
    assert x.tolist() == [1.0, 2.0] and c.tolist() == [2.0, 3.0]
    g = copy.deepcopy(bibun.ones(2, requires_grad=True, device=device))
    assert g.requires_grad and g.is_leaf


def test_shallow_copy():
    x = bibun.tensor([1.0, 2.0])
    assert copy.copy(x).tolist() == [1.0, 2.0]


# ============================================================================ repr through bibun.tensor
def test_repr_autograd_suffixes(device, repr_on):
    a = bibun.tensor([1.0, 2.0], requires_grad=True, device=device)
    assert repr(a) == repr_on("tensor([1., 2.], requires_grad=True)")
    assert repr(a * 2) == repr_on("tensor([2., 4.], grad_fn=<MulBackward0>)")
    assert repr(a + 1) == repr_on("tensor([2., 3.], grad_fn=<AddBackward0>)")
    assert repr(a.sum()) == repr_on("tensor(3., grad_fn=<SumBackward0>)")
    assert repr(a.mean()) == repr_on("tensor(1.5000, grad_fn=<MeanBackward0>)")
    assert repr(a.exp()) == repr_on("tensor([2.7183, 7.3891], grad_fn=<ExpBackward0>)")
    assert repr(a ** 2) == repr_on("tensor([1., 4.], grad_fn=<PowBackward0>)")
    assert repr(a.double()) == repr_on("tensor([1., 2.], dtype=bibun.float64, grad_fn=<ToCopyBackward0>)")
    assert repr(a.view(2, 1)) == repr_on("tensor([[1.],\n        [2.]], grad_fn=<ViewBackward0>)")
    with bibun.no_grad():
        assert repr(a * 2) == repr_on("tensor([2., 4.])")
    assert repr(a.detach()) == repr_on("tensor([1., 2.])")
    assert repr((a * 2).detach()) == repr_on("tensor([2., 4.])")
    assert repr(bibun.tensor(2.5, requires_grad=True, device=device)) == repr_on("tensor(2.5000, requires_grad=True)")
    assert str(a) == repr(a)


@pytest.mark.parametrize("make, text", [
    (lambda d: bibun.tensor([1.5], dtype=bibun.float64, device=d), "tensor([1.5000], dtype=bibun.float64)"),
    (lambda d: bibun.tensor([1.5], dtype=bibun.float16, device=d), "tensor([1.5000], dtype=bibun.float16)"),
    (lambda d: bibun.tensor([1], device=d), "tensor([1])"),
    (lambda d: bibun.tensor([1], dtype=bibun.int32, device=d), "tensor([1], dtype=bibun.int32)"),
    (lambda d: bibun.tensor([1], dtype=bibun.int16, device=d), "tensor([1], dtype=bibun.int16)"),
    (lambda d: bibun.tensor([1], dtype=bibun.uint8, device=d), "tensor([1], dtype=bibun.uint8)"),
    (lambda d: bibun.tensor([True], device=d), "tensor([True])"),
    (lambda d: bibun.tensor([1.5], dtype=bibun.float64, requires_grad=True, device=d),
     "tensor([1.5000], dtype=bibun.float64, requires_grad=True)"),
    (lambda d: bibun.tensor([1.5], dtype=bibun.float64, requires_grad=True, device=d) * 2,
     "tensor([3.], dtype=bibun.float64, grad_fn=<MulBackward0>)"),
    (lambda d: bibun.tensor([], dtype=bibun.int64, device=d), "tensor([], dtype=bibun.int64)"),
    (lambda d: bibun.tensor([], device=d), "tensor([])"),
    (lambda d: bibun.zeros(0, 3, dtype=bibun.float64, device=d), "tensor([], size=(0, 3), dtype=bibun.float64)"),
    (lambda d: bibun.tensor(2.5, dtype=bibun.float64, device=d), "tensor(2.5000, dtype=bibun.float64)"),
    (lambda d: bibun.tensor([[1, 2], [3, 4]], device=d), "tensor([[1, 2],\n        [3, 4]])"),
    (lambda d: bibun.tensor([[], []], device=d), "tensor([], size=(2, 0))"),
])
def test_repr_dtype_suffix(device, make, text, repr_on):
    assert repr(make(device)) == repr_on(text)


def test_set_default_dtype(device, repr_on):
    bibun.set_default_dtype(bibun.float64)
    assert bibun.get_default_dtype() is bibun.float64
    t = bibun.tensor([1.5], device=device)
    assert t.dtype is bibun.float64 and repr(t) == repr_on("tensor([1.5000])")
    assert bibun.tensor(0.1, device=device).item() == 0.1
    assert bibun.tensor([1, 2.5], device=device).dtype is bibun.float64
    assert bibun.tensor([np.float32(0.5)], device=device).dtype is bibun.float32
    t = bibun.tensor([1.5], dtype=bibun.float32, device=device)
    assert repr(t) == repr_on("tensor([1.5000], dtype=bibun.float32)")
    assert repr(bibun.tensor([], dtype=bibun.float32, device=device)) == repr_on("tensor([], dtype=bibun.float32)")
    assert repr(bibun.tensor([1], device=device)) == repr_on("tensor([1])")
    for f in (bibun.zeros, bibun.ones, bibun.rand, bibun.randn):
        assert f(1, device=device).dtype is bibun.float64
    bibun.set_default_dtype(bibun.float16)
    assert bibun.tensor([1.5]).dtype is bibun.float16
    bibun.set_default_dtype(bibun.float32)
    assert bibun.tensor([1.5]).dtype is bibun.float32 and repr(bibun.tensor([1.5])) == repr_on("tensor([1.5000])")
    with pytest.raises(TypeError, match=_exact("only floating-point types are supported as the default type")):
        bibun.set_default_dtype(bibun.int64)


# ============================================================================ rounding behind arange/linspace
def _round_to_float32(x):
    """The float32 nearest to the Fraction ``x`` (ties to even)."""
    f = np.float32(float(x))
    candidates = [np.nextafter(f, np.float32(-np.inf)), f, np.nextafter(f, np.float32(np.inf))]
    return min(candidates, key=lambda q: (abs(Fraction(float(q)) - x), int(np.array(q).view(np.int32)) & 1))


_FLOATS32 = st.floats(-1e6, 1e6, width=32, allow_subnormal=False)
_INTS = st.lists(st.integers(-2**20, 2**20), min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(_FLOATS32, _INTS, _FLOATS32)
def test_float32_fused_multiply_add_rounds_once(a, b, c):
    got = factories._fma(np.float32(a), np.array(b, np.float32), np.float32(c), np, float32=True)
    assert got.tolist() == [float(_round_to_float32(Fraction(a) * k + Fraction(c))) for k in b]


@settings(max_examples=200, deadline=None)
@given(st.floats(-1e6, 1e6), _INTS, st.floats(-1e6, 1e6))
def test_float64_fused_multiply_add_rounds_once(a, b, c):
    got = factories._fma(a, np.array(b, np.float64), c, np)
    assert got.tolist() == [float(Fraction(a) * k + Fraction(c)) for k in b]  # Fraction -> float rounds once


def test_float32_fused_multiply_add_at_a_halfway_sum():
    """A sum that lands exactly halfway between two float32 values once rounded to float64."""
    a, b, c = np.float32(8 + 2**-18), np.array([8 - 2**-18], np.float32), np.float32(2**30 + 128)
    assert factories._fma(a, b, c, np, float32=True).tolist() == [2**30 + 128]


def test_equal_and_allclose_return_python_bools():
    a = bibun.tensor([1.0, 2.0])
    assert bibun.equal(a, a.clone()) is True and bibun.equal(a, a + 1) is False
    assert bibun.equal(a, bibun.tensor([1.0])) is False
    assert bibun.allclose(a, a + 1e-9) is True and bibun.allclose(a, a + 1) is False
