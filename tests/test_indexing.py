"""Indexing (``t[key]``, ``t[key] = v``) and the gather/scatter family, against numpy and PyTorch 2.13.

Node names, error types and messages were taken from PyTorch 2.13 (``torch.`` written as
``bibun.``) and are pinned here as literals; only the tests that take the ``torch`` fixture
need PyTorch, and they are skipped without it.
"""

import numpy as np
import pytest

import bibun
from bibun.autograd import gradcheck


def arange(*shape, dtype=None, requires_grad=False):
    n = int(np.prod(shape))
    t = bibun.arange(float(n), dtype=dtype or bibun.float32).reshape(*shape)
    return t.requires_grad_(requires_grad)


def chain(fn):
    """Node names from ``fn`` down its first edges to the leaf, as PyTorch prints them."""
    out = []
    while fn is not None and type(fn).__name__ != "AccumulateGrad":
        out.append(type(fn).__name__)
        nxt = [n for n, _ in fn.next_functions if n is not None]
        fn = nxt[0] if nxt else None
    return out


def mask(*values):
    return bibun.tensor(list(values), dtype=bibun.bool)


# ---------------------------------------------------------------------- t[key]: values against numpy
# (id, key built from the tensor, reference on the numpy array). The reference is numpy's own
# indexing, except where PyTorch differs: an int next to an integer array removes its dim first.
GET_CASES = [
    ("int", lambda x: 1, lambda a: a[1]),
    ("negative_int", lambda x: -1, lambda a: a[-1]),
    ("two_ints", lambda x: (1, 2), lambda a: a[1, 2]),
    ("three_ints", lambda x: (1, -2, 3), lambda a: a[1, -2, 3]),
    ("slice", lambda x: slice(0, 1), lambda a: a[0:1]),
    ("slice_step", lambda x: (slice(None), slice(None, None, 2)), lambda a: a[:, ::2]),
    ("slice_start_step", lambda x: (slice(None), slice(None), slice(1, None, 2)), lambda a: a[:, :, 1::2]),
    ("slice_past_end", lambda x: (slice(None), slice(1, 10)), lambda a: a[:, 1:10]),
    ("slice_empty", lambda x: slice(2, 1), lambda a: a[2:1]),
    ("negative_slice", lambda x: (slice(-1, None), slice(-3, -1)), lambda a: a[-1:, -3:-1]),
    ("none", lambda x: None, lambda a: a[None]),
    ("none_middle", lambda x: (slice(None), None, 1), lambda a: a[:, None, 1]),
    ("ellipsis", lambda x: Ellipsis, lambda a: a[...]),
    ("ellipsis_int", lambda x: (Ellipsis, 1), lambda a: a[..., 1]),
    ("int_ellipsis", lambda x: (1, Ellipsis), lambda a: a[1, ...]),
    ("ellipsis_none_slice", lambda x: (Ellipsis, None, slice(1, 3)), lambda a: a[..., None, 1:3]),
    ("combined_basic", lambda x: (1, slice(None), None, slice(None, None, 3)), lambda a: a[1, :, None, ::3]),
    ("zero_dim_int_tensor", lambda x: bibun.tensor(1), lambda a: a[1]),
    ("numpy_int", lambda x: np.int64(1), lambda a: a[1]),
    ("list", lambda x: [1, 0, 1], lambda a: a[[1, 0, 1]]),
    ("list_tuple_key", lambda x: ([0, 1], [1, 2]), lambda a: a[[0, 1], [1, 2]]),
    ("long_tensor", lambda x: bibun.tensor([1, 0]), lambda a: a[[1, 0]]),
    ("int32_tensor", lambda x: bibun.tensor([1, 0], dtype=bibun.int32), lambda a: a[[1, 0]]),
    ("numpy_array", lambda x: np.array([1, 1]), lambda a: a[[1, 1]]),
    ("two_d_index", lambda x: bibun.tensor([[0, 1], [1, 0]]), lambda a: a[np.array([[0, 1], [1, 0]])]),
    ("negative_index_list", lambda x: (slice(None), [-1, 0]), lambda a: a[:, [-1, 0]]),
    ("empty_list", lambda x: [], lambda a: a[np.array([], dtype=np.int64)]),
    ("slice_then_list", lambda x: (slice(None), [0, 2], slice(1, 3)), lambda a: a[:, [0, 2], 1:3]),
    ("lists_apart", lambda x: ([0], slice(None), [1]), lambda a: a[[0], :, [1]]),
    ("none_then_list", lambda x: (None, [0, 1]), lambda a: a[None, [0, 1]]),
    ("list_none_list", lambda x: ([1], None, [2]), lambda a: a[[1], None, [2]]),
    ("slice_list_none", lambda x: (slice(1, None), [2, -1], None), lambda a: a[1:, [2, -1], None]),
    # PyTorch: the int is a select first, so these are a[1][:, [0, 3]] and a[1][[0, 2]]
    ("int_slice_list", lambda x: (1, slice(None), [0, 3]), lambda a: a[1][:, [0, 3]]),
    ("int_list", lambda x: (1, [0, 2]), lambda a: a[1][[0, 2]]),
    ("list_int_list", lambda x: ([0, 1], 2, [1, 3]), lambda a: a[:, 2][[0, 1], [1, 3]]),
    ("mask_full", lambda x: x > 10, lambda a: a[a > 10]),
    ("mask_dim0", lambda x: mask(True, False), lambda a: a[[True, False]]),
    ("mask_dim1", lambda x: (slice(None), mask(True, False, True)), lambda a: a[:, [True, False, True]]),
    ("mask_2d", lambda x: bibun.tensor([[True, False, True], [False, False, True]]),
     lambda a: a[np.array([[True, False, True], [False, False, True]])]),
    ("mask_and_list", lambda x: (mask(False, True), slice(None), [0, 3]), lambda a: a[[False, True], :, [0, 3]]),
    ("mask_list_of_bools", lambda x: [True, False], lambda a: a[np.array([True, False])]),
    ("zero_dim_mask_true", lambda x: bibun.tensor(True), lambda a: a[np.True_]),
    ("zero_dim_mask_false", lambda x: bibun.tensor(False), lambda a: a[np.False_]),
    ("python_true", lambda x: True, lambda a: a[True]),
]


@pytest.mark.parametrize("make_key, ref", [c[1:] for c in GET_CASES], ids=[c[0] for c in GET_CASES])
def test_getitem_values_match_numpy(device, make_key, ref):
    x = arange(2, 3, 4)
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    out = x[make_key(x)]
    expected = ref(a)
    assert tuple(out.shape) == expected.shape
    np.testing.assert_array_equal(out.cpu().numpy(), expected)
    assert out.dtype is bibun.float32


def test_getitem_one_dim_and_zero_dim(device):
    v = bibun.tensor([10.0, 11.0, 12.0])
    assert v[0].item() == 10.0 and v[-1].item() == 12.0 and v[-3].item() == 10.0
    assert v[::2].tolist() == [10.0, 12.0]
    assert v[1:].tolist() == [11.0, 12.0]
    s = bibun.tensor(5.0)
    assert s[None].tolist() == [5.0]
    assert s[...].shape == bibun.Size([])
    assert s[bibun.tensor(True)].tolist() == [5.0]
    assert s[bibun.tensor(False)].shape == bibun.Size([0])


def test_getitem_int_dtype_and_bool_tensors(device):
    t = bibun.tensor([[1, 2, 3], [4, 5, 6]])
    assert t[1, [0, 2]].tolist() == [4, 6]
    assert t[t > 2].tolist() == [3, 4, 5, 6]
    assert t[:, 1].dtype is bibun.int64
    b = bibun.tensor([True, False, True])
    assert b[[0, 1]].tolist() == [True, False]


def test_basic_index_is_a_view_and_advanced_is_a_copy(device):
    x = arange(3, 4)
    row = x[1]
    x.add_(100)  # visible through the basic view, not through the advanced copy
    assert row.tolist() == [104.0, 105.0, 106.0, 107.0] and row._base is x._base is not None
    picked = x[[1]]
    x.add_(100)
    assert picked.tolist() == [[104.0, 105.0, 106.0, 107.0]]
    assert row._version is x._version  # a view shares its base's version counter


def test_uint8_index_is_a_deprecated_mask(device):
    x = arange(2, 3)
    with pytest.warns(UserWarning, match="indexing with dtype bibun.uint8 is now deprecated"):
        out = x[bibun.tensor([0, 1], dtype=bibun.uint8)]
    assert out.tolist() == [[3.0, 4.0, 5.0]]


# ---------------------------------------------------------------------- node names (PyTorch 2.13)
# (key built from the tensor, result shape, node names from the result down to the leaf)
NODE_CASES = [
    (lambda x: 1, (3, 4), ["SelectBackward0"]),
    (lambda x: -1, (3, 4), ["SelectBackward0"]),
    (lambda x: (1, 2), (4,), ["SelectBackward0", "SelectBackward0"]),
    (lambda x: (1, 2, 3), (), ["SelectBackward0", "SelectBackward0", "SelectBackward0"]),
    (lambda x: slice(None), (2, 3, 4), ["SliceBackward0"]),
    (lambda x: slice(0, 2), (2, 3, 4), ["SliceBackward0"]),
    (lambda x: slice(None, None, 2), (1, 3, 4), ["SliceBackward0"]),
    (lambda x: (slice(None), slice(1, None, 2)), (2, 1, 4), ["SliceBackward0"]),
    (lambda x: (slice(None), slice(None)), (2, 3, 4), ["AliasBackward0"]),
    (lambda x: None, (1, 2, 3, 4), ["UnsqueezeBackward0"]),
    (lambda x: Ellipsis, (2, 3, 4), ["AliasBackward0"]),
    (lambda x: (Ellipsis, 1), (2, 3), ["SelectBackward0"]),
    (lambda x: (None, 1), (1, 3, 4), ["SelectBackward0", "UnsqueezeBackward0"]),
    (lambda x: (1, slice(None, None, 2), None), (2, 1, 4),
     ["UnsqueezeBackward0", "SliceBackward0", "SelectBackward0"]),
    (lambda x: (Ellipsis, None), (2, 3, 4, 1), ["UnsqueezeBackward0"]),
    (lambda x: [0, 1], (2, 3, 4), ["IndexBackward0"]),
    (lambda x: (slice(None), [0, 2]), (2, 2, 4), ["IndexBackward0"]),
    (lambda x: (1, [0, 2]), (2, 4), ["IndexBackward0", "SelectBackward0"]),
    (lambda x: (None, [0, 1]), (1, 2, 3, 4), ["IndexBackward0", "UnsqueezeBackward0"]),
    (lambda x: (slice(None), [0, 2], slice(1, 3)), (2, 2, 2), ["IndexBackward0", "SliceBackward0"]),
    (lambda x: (1, slice(None), [0, 3]), (3, 2), ["IndexBackward0", "SelectBackward0"]),
    (lambda x: x > 10, (13,), ["IndexBackward0"]),
    (lambda x: bibun.tensor(1), (3, 4), ["SelectBackward0"]),
]


@pytest.mark.parametrize("make_key, shape, names", NODE_CASES)
def test_getitem_node_names_match_pytorch(device, make_key, shape, names):
    x = arange(2, 3, 4, requires_grad=True)
    out = x[make_key(x)]
    assert tuple(out.shape) == shape
    assert chain(out.grad_fn) == names
    assert out.requires_grad and not out.is_leaf


def test_getitem_builds_no_graph_without_grad(device):
    x = arange(2, 3)
    assert x[0].grad_fn is None and x[[0]].grad_fn is None
    y = arange(2, 3, requires_grad=True)
    with bibun.no_grad():
        out = y[0, [1, 2]]
    assert out.grad_fn is None and not out.requires_grad and out.is_leaf


# ---------------------------------------------------------------------- gradients
GRAD_KEYS = [
    lambda x: 1,
    lambda x: (slice(None), -1),
    lambda x: (slice(None), slice(None, None, 2)),
    lambda x: (None, Ellipsis, None, 1),
    lambda x: [2, 0, 2],
    lambda x: ([0, 2, 2], [1, 1, 3]),
    lambda x: (slice(1, None), [3, 0, 3]),
    lambda x: (1, [0, 0, 2]),
    lambda x: x > 0.5,
    lambda x: (mask(True, False, True), slice(1, 3)),
    lambda x: (bibun.tensor([[0, 1], [1, 1]]), None),
]


@pytest.mark.parametrize("make_key", GRAD_KEYS)
def test_getitem_gradcheck(device, make_key):
    x = bibun.tensor(np.random.default_rng(0).random((3, 4)), dtype=bibun.float64, requires_grad=True)
    key = make_key(x.detach())
    assert gradcheck(lambda t: t[key] * 1.5, (x,))


def test_repeated_indices_accumulate(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 1]].sum().backward()
    assert x.grad.tolist() == [2.0, 1.0, 0.0]
    y = arange(2, 3, requires_grad=True)
    (y[[1, 1, 0], [2, 2, 2]] * bibun.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert y.grad.tolist() == [[0.0, 0.0, 100.0], [0.0, 0.0, 11.0]]


def test_basic_index_gradients(device):
    x = arange(3, 4, requires_grad=True)
    (x[1] * 2).sum().backward()
    assert x.grad.tolist() == [[0.0] * 4, [2.0] * 4, [0.0] * 4]
    x.grad = None
    x[:, 1::2].sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 1.0]] * 3
    x.grad = None
    (x[None, -1, None, 1:3] * bibun.tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [[0.0] * 4, [0.0] * 4, [0.0, 3.0, 4.0, 0.0]]


def test_mask_gradient(device):
    x = bibun.tensor([[1.0, -2.0], [-3.0, 4.0]], requires_grad=True)
    (x[x > 0] * bibun.tensor([5.0, 7.0])).sum().backward()
    assert x.grad.tolist() == [[5.0, 0.0], [0.0, 7.0]]


def test_double_backward_through_index(device):
    x = bibun.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x[[0, 0, 2]] ** 3).sum()
    (g,) = bibun.autograd.grad(y, x, create_graph=True)
    assert g.tolist() == [6.0, 0.0, 27.0]
    (g2,) = bibun.autograd.grad(g.sum(), x)
    assert g2.tolist() == [12.0, 0.0, 18.0]


# ---------------------------------------------------------------------- t[key]: errors
# (shape, key, exception type, PyTorch 2.13's message)
GET_ERRORS = [
    ((3,), lambda: 5, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), lambda: -4, IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    ((2, 5), lambda: (1, 5), IndexError, "index 5 is out of bounds for dimension 1 with size 5"),
    ((2, 3), lambda: (slice(None), -4), IndexError, "index -4 is out of bounds for dimension 1 with size 3"),
    # PyTorch names the position in the key, counting None and ...
    ((2, 3, 5), lambda: (None, 5), IndexError, "index 5 is out of bounds for dimension 1 with size 2"),
    ((2, 3, 5), lambda: (None, 1, 7), IndexError, "index 7 is out of bounds for dimension 2 with size 3"),
    ((2, 3, 5), lambda: (Ellipsis, 9), IndexError, "index 9 is out of bounds for dimension 1 with size 5"),
    ((3,), lambda: [0, 5], IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), lambda: [0, -4], IndexError, "index -4 is out of bounds for dimension 0 with size 3"),
    # ... and for an index array, the number of index arrays before it
    ((2, 5), lambda: (slice(None), [7]), IndexError, "index 7 is out of bounds for dimension 0 with size 5"),
    ((2, 5), lambda: ([0, 1], [1, 7]), IndexError, "index 7 is out of bounds for dimension 1 with size 5"),
    ((2, 3, 5), lambda: ([0], slice(None), [7]), IndexError, "index 7 is out of bounds for dimension 1 with size 5"),
    ((2, 3, 5), lambda: ([0], [9], [0]), IndexError, "index 9 is out of bounds for dimension 1 with size 3"),
    ((2, 3), lambda: (0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ((2, 3), lambda: (0, [0], 0), IndexError, "too many indices for tensor of dimension 2"),
    ((2, 3), lambda: (None, 0, 0, 0), IndexError, "too many indices for tensor of dimension 2"),
    ((2, 3), lambda: (bibun.ones(2, 3, dtype=bibun.bool), 0), IndexError,
     "too many indices for tensor of dimension 2"),
    ((2, 3, 5), lambda: mask(True, False, True), IndexError,
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3, 5] at index 0"),
    ((2, 3, 5), lambda: (slice(None), mask(True, False)), IndexError,
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [2, 3, 5] at index 1"),
    ((2, 3, 5), lambda: (0, mask(True, False)), IndexError,
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3, 5] at index 0"),
    ((2, 3, 5), lambda: (None, mask(True, False, True)), IndexError,
     "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [1, 2, 3, 5] at index 1"),
    ((2, 3, 5), lambda: bibun.ones(2, 4, dtype=bibun.bool), IndexError,
     "The shape of the mask [2, 4] at index 1 does not match the shape of the indexed tensor [2, 3, 5] at index 1"),
    ((4, 3), lambda: ([0, 1], [0, 1, 2]), IndexError,
     "shape mismatch: indexing tensors could not be broadcast together with shapes [2], [3]"),
    ((4, 3), lambda: (mask(True, False, True, True), [0, 1]), IndexError,
     "shape mismatch: indexing tensors could not be broadcast together with shapes [3], [2]"),
    ((), lambda: 0, IndexError, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
     "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"),
    ((), lambda: 5, IndexError, "index 5 is out of bounds for dimension 0 with size 0"),
    ((), lambda: (0,), IndexError, "too many indices for tensor of dimension 0"),
    ((), lambda: [0], IndexError, "too many indices for tensor of dimension 0"),
    ((4, 3), lambda: slice(None, None, -1), ValueError, "step must be greater than zero"),
    ((4, 3), lambda: slice(0, 1, 0), ValueError, "slice step cannot be zero"),
    ((4, 3), lambda: 1.5, IndexError, "only integers, slices (`:`), ellipsis (`...`), None and long or byte "
     "Variables are valid indices (got float)"),
    ((4, 3), lambda: bibun.tensor([0.0, 1.0]), IndexError,
     "tensors used as indices must be long, int, byte or bool tensors"),
]


@pytest.mark.parametrize("shape, make_key, exc, message", GET_ERRORS)
def test_getitem_errors_match_pytorch(device, shape, make_key, exc, message):
    x = bibun.zeros(*shape) if shape else bibun.tensor(1.0)
    with pytest.raises(exc) as info:
        x[make_key()]
    assert str(info.value) == message


# ---------------------------------------------------------------------- t[key] = value
# (id, key, value factory, expected result on zeros(3, 4))
SET_CASES = [
    ("int_scalar", lambda: 1, lambda: 5.0,
     [[0, 0, 0, 0], [5, 5, 5, 5], [0, 0, 0, 0]]),
    ("negative_int", lambda: -1, lambda: 5.0,
     [[0, 0, 0, 0], [0, 0, 0, 0], [5, 5, 5, 5]]),
    ("step_slice_tensor", lambda: (slice(None), slice(None, None, 2)), lambda: bibun.arange(6.0).reshape(3, 2),
     [[0, 0, 1, 0], [2, 0, 3, 0], [4, 0, 5, 0]]),
    ("column_tensor", lambda: (slice(None), 1), lambda: bibun.arange(3.0),
     [[0, 0, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0]]),
    ("broadcast_row", lambda: slice(1, None), lambda: bibun.arange(4.0),
     [[0, 0, 0, 0], [0, 1, 2, 3], [0, 1, 2, 3]]),
    ("leading_ones_dropped", lambda: 0, lambda: bibun.ones(1, 1, 4),
     [[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]),
    ("mask_row", lambda: mask(True, False, True), lambda: bibun.arange(4.0),
     [[0, 1, 2, 3], [0, 0, 0, 0], [0, 1, 2, 3]]),
    ("index_lists", lambda: ([0, 2], [1, 3]), lambda: bibun.tensor([7.0, 8.0]),
     [[0, 7, 0, 0], [0, 0, 0, 0], [0, 0, 0, 8]]),
    ("repeated_index_last_wins", lambda: ([0, 0], [1, 1]), lambda: bibun.tensor([7.0, 8.0]),
     [[0, 8, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    ("int_and_list", lambda: (1, [0, 3]), lambda: 9.0,
     [[0, 0, 0, 0], [9, 0, 0, 9], [0, 0, 0, 0]]),
    ("list_column_value", lambda: (slice(None), [1]), lambda: bibun.tensor([[1.0], [2.0], [3.0]]),
     [[0, 1, 0, 0], [0, 2, 0, 0], [0, 3, 0, 0]]),
    ("ellipsis", lambda: Ellipsis, lambda: 3.0, [[3] * 4] * 3),
    ("ellipsis_int", lambda: (Ellipsis, 0), lambda: bibun.ones(3),
     [[1, 0, 0, 0], [1, 0, 0, 0], [1, 0, 0, 0]]),
    ("none", lambda: (None, 2), lambda: 4.0, [[0] * 4, [0] * 4, [4] * 4]),
    ("zero_dim_tensor_index", lambda: bibun.tensor(1), lambda: 1.0, [[0] * 4, [1] * 4, [0] * 4]),
    ("empty_list", lambda: [], lambda: 1.0, [[0] * 4] * 3),
    ("value_dtype_cast", lambda: (0, 0), lambda: bibun.tensor(2, dtype=bibun.int64),
     [[2, 0, 0, 0], [0] * 4, [0] * 4]),
    ("bool_value", lambda: (0, 0), lambda: True, [[1, 0, 0, 0], [0] * 4, [0] * 4]),
]


@pytest.mark.parametrize("make_key, make_value, expected", [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_setitem_values(device, make_key, make_value, expected):
    t = bibun.zeros(3, 4)
    before = t._version[0]
    t[make_key()] = make_value()
    assert t.tolist() == np.array(expected, dtype=np.float32).tolist()
    assert t._version[0] == before + 1
    assert t.dtype is bibun.float32 and t.grad_fn is None


def test_setitem_int_before_index_array_removes_the_dim(device):
    # PyTorch: t[1, :, [0, 3]] is t[1][:, [0, 3]], shape [3, 2] (numpy would give [2, 3])
    t = bibun.zeros(2, 3, 4)
    t[1, :, [0, 3]] = bibun.arange(6.0).reshape(3, 2)
    assert t[1].tolist() == [[0.0, 0.0, 0.0, 1.0], [2.0, 0.0, 0.0, 3.0], [4.0, 0.0, 0.0, 5.0]]
    assert t[0].abs().sum().item() == 0.0


def test_setitem_int_tensor_truncates_float_value(device):
    t = bibun.zeros(3, dtype=bibun.int64)
    t[0] = 2.7
    t[1] = bibun.tensor(-1.5)
    assert t.tolist() == [2, -1, 0]
    assert t.dtype is bibun.int64


def test_setitem_through_a_view_writes_the_base(device):
    base = bibun.zeros(2, 3)
    row = base[1]
    row[[0, 2]] = 5.0
    assert base.tolist() == [[0.0, 0.0, 0.0], [5.0, 0.0, 5.0]]
    assert base._version[0] == 1 and row._version is base._version


def test_setitem_overlapping_source(device):
    t = bibun.arange(5.0)
    t[1:] = t[:-1]
    assert t.tolist() == [0.0, 0.0, 1.0, 2.0, 3.0]


# (key, value factory, exception type, message) on zeros(3) or zeros(4, 3); nothing may be written
SET_ERRORS = [
    ((3,), lambda: [0, 5], lambda: 1.0, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), lambda: [5, 0], lambda: bibun.ones(2), IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), lambda: 5, lambda: 1.0, IndexError, "index 5 is out of bounds for dimension 0 with size 3"),
    ((3,), lambda: mask(True, False), lambda: 1.0, IndexError,
     "The shape of the mask [2] at index 0 does not match the shape of the indexed tensor [3] at index 0"),
    ((3,), lambda: (0, 0), lambda: 1.0, IndexError, "too many indices for tensor of dimension 1"),
    ((3,), lambda: slice(None), lambda: bibun.ones(2), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 0.  "
     "Target sizes: [3].  Tensor sizes: [2]"),
    ((4, 3), lambda: slice(None), lambda: bibun.ones(2), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 1.  "
     "Target sizes: [4, 3].  Tensor sizes: [2]"),
    ((4, 3), lambda: slice(None), lambda: bibun.ones(1, 1, 2, 3), RuntimeError,
     "The expanded size of the tensor (4) must match the existing size (2) at non-singleton dimension 0.  "
     "Target sizes: [4, 3].  Tensor sizes: [2, 3]"),
    ((4, 3), lambda: 0, lambda: bibun.ones(2, 3), RuntimeError,
     "expand(bibun.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be greater or equal to "
     "the number of dimensions in the tensor (2)"),
    ((4, 3), lambda: (0, 0), lambda: bibun.ones(2, dtype=bibun.float16), RuntimeError,
     "expand(bibun.HalfTensor{[2]}, size=[]): the number of sizes provided (0) must be greater or equal to "
     "the number of dimensions in the tensor (1)"),
    ((4, 3), lambda: [0, 1], lambda: bibun.ones(3, 3), RuntimeError,
     "shape mismatch: value tensor of shape [3, 3] cannot be broadcast to indexing result of shape [2, 3]"),
    ((4, 3), lambda: (1, [0, 1]), lambda: bibun.ones(3), RuntimeError,
     "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]"),
    ((4, 3), lambda: [0], lambda: bibun.ones(2, 1, 3), RuntimeError,
     "shape mismatch: value tensor of shape [2, 1, 3] cannot be broadcast to indexing result of shape [1, 3]"),
    ((3,), lambda: mask(True, False, True), lambda: bibun.ones(3), RuntimeError,
     "shape mismatch: value tensor of shape [3] cannot be broadcast to indexing result of shape [2]"),
    ((3,), lambda: [], lambda: bibun.ones(2), RuntimeError,
     "shape mismatch: value tensor of shape [2] cannot be broadcast to indexing result of shape [0]"),
    ((4, 3), lambda: 0, lambda: [1, 2, 3], TypeError, "can't assign a list to a bibun.FloatTensor"),
    ((4, 3), lambda: 0, lambda: np.ones(3), TypeError, "can't assign a numpy.ndarray to a bibun.FloatTensor"),
    ((4, 3), lambda: 0, lambda: None, TypeError, "can't assign a NoneType to a bibun.FloatTensor"),
]


@pytest.mark.parametrize("shape, make_key, make_value, exc, message", SET_ERRORS)
def test_setitem_errors_write_nothing(device, shape, make_key, make_value, exc, message):
    t = bibun.zeros(*shape)
    with pytest.raises(exc) as info:
        t[make_key()] = make_value()
    assert str(info.value) == message
    assert t.abs().sum().item() == 0.0
    assert t._version[0] == 0


def test_setitem_out_of_bounds_in_list_writes_nothing(device):
    # PyTorch writes t[0] before it finds index 5; bibun checks every index first
    t = bibun.zeros(3)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 3"):
        t[[0, 5]] = 1.0
    assert t.tolist() == [0.0, 0.0, 0.0]
    x = bibun.zeros(3, requires_grad=True)
    y = x * 1
    with pytest.raises(IndexError):
        y[[0, 1, 7]] = bibun.ones(3, requires_grad=True)
    assert y.tolist() == [0.0, 0.0, 0.0] and type(y.grad_fn).__name__ == "MulBackward0"


def test_setitem_on_a_leaf_that_requires_grad(device):
    x = bibun.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        x[0] = 1.0  # PyTorch selects a view first
    assert str(info.value) == "a view of a leaf Variable that requires grad is being used in an in-place operation."
    with pytest.raises(RuntimeError) as info:
        x[[0, 1]] = 1.0  # index_put_ on x itself
    assert str(info.value) == "a leaf Variable that requires grad is being used in an in-place operation."
    with pytest.raises(RuntimeError) as info:
        x[...] = 1.0
    assert str(info.value) == "a leaf Variable that requires grad is being used in an in-place operation."
    assert x.tolist() == [0.0, 0.0, 0.0] and x._version[0] == 0
    with bibun.no_grad():
        x[1] = 2.0
    assert x.tolist() == [0.0, 2.0, 0.0] and x._version[0] == 1 and x.is_leaf and x.requires_grad


# (key, value kind, node name) for `t[key] = v` on a non-leaf, as PyTorch 2.13 names them
SET_NODE_CASES = [
    (lambda: 0, "scalar", "CopySlices"),
    (lambda: (0, 1), "tensor1", "CopySlices"),
    (lambda: None, "scalar", "CopySlices"),
    (lambda: (None, [1]), "scalar", "CopySlices"),
    (lambda: (0, [1]), "tensor1", "CopySlices"),
    (lambda: Ellipsis, "scalar", "FillBackward3"),
    (lambda: slice(None), "scalar0d", "FillBackward3"),
    (lambda: slice(0, 2), "scalar", "FillBackward3"),
    (lambda: (slice(None), slice(None)), "tensor1", "CopyBackwards"),
    (lambda: Ellipsis, "tensor1", "CopyBackwards"),
    (lambda: [0, 1], "scalar", "IndexPutBackward0"),
    (lambda: (slice(None), [1]), "tensor1", "IndexPutBackward0"),
    (lambda: (slice(0, 2), [1]), "scalar", "IndexPutBackward0"),
    (lambda: (Ellipsis, [1]), "scalar0d", "IndexPutBackward0"),
    (lambda: bibun.tensor([[True, False, True], [False, True, True]]), "scalar", "IndexPutBackward0"),
]


@pytest.mark.parametrize("make_key, kind, name", SET_NODE_CASES)
def test_setitem_node_names_match_pytorch(device, make_key, kind, name):
    r = bibun.zeros(2, 3, requires_grad=True).clone()
    value = {"scalar": 2.0, "scalar0d": bibun.tensor(2.0, requires_grad=True),
             "tensor1": bibun.ones(1, requires_grad=True)}[kind]
    r[make_key()] = value
    assert type(r.grad_fn).__name__ == name
    assert r._version[0] == 1


# (key, value shape, PyTorch 2.13's gradients for base and value) for
# r = x * 1; r[key] = v * 1; (r * arange(1, n + 1)).sum().backward()
SET_GRAD_CASES = [
    (lambda: 1, (), [1.0, 0.0, 3.0, 4.0], 2.0),
    (lambda: slice(1, None), (), [1.0, 0.0, 0.0, 0.0], 9.0),
    (lambda: slice(1, None), (3,), [1.0, 0.0, 0.0, 0.0], [2.0, 3.0, 4.0]),
    (lambda: [1, 3], (2,), [1.0, 0.0, 3.0, 0.0], [2.0, 4.0]),
    (lambda: [0, 0], (1,), [0.0, 2.0, 3.0, 4.0], [2.0]),  # both writes reach the value's gradient
    (lambda: mask(False, False, True, True), (1,), [1.0, 2.0, 0.0, 0.0], [7.0]),
    (lambda: Ellipsis, (4,), [0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]),
    (lambda: Ellipsis, (), [0.0, 0.0, 0.0, 0.0], 10.0),
]


@pytest.mark.parametrize("make_key, vshape, gx, gv", SET_GRAD_CASES)
def test_setitem_gradient_to_base_and_value(device, make_key, vshape, gx, gv):
    x = bibun.arange(4.0).requires_grad_()
    v = bibun.full(vshape, 10.0).requires_grad_()
    r = x * 1
    r[make_key()] = v * 1
    (r * bibun.arange(1.0, 5.0)).sum().backward()
    assert x.grad.tolist() == gx
    assert v.grad.tolist() == gv


def test_setitem_gradient_two_dims(device):
    v = bibun.tensor([10.0, 11.0], requires_grad=True)
    r = bibun.zeros(2, 3, 4)
    r[1, :, [0, 3]] = v  # broadcast over the 3 rows of r[1]
    assert r[1].tolist() == [[10.0, 0.0, 0.0, 11.0]] * 3
    r.sum().backward()
    assert v.grad.tolist() == [3.0, 3.0]
    assert type(r.grad_fn).__name__ == "CopySlices"
    x = bibun.arange(6.0).requires_grad_()
    w = bibun.tensor([10.0, 11.0], requires_grad=True)
    y = (x * 1).reshape(3, 2).clone()
    y[1] = w
    (y * bibun.arange(1.0, 7.0).reshape(3, 2)).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 0.0, 5.0, 6.0]
    assert w.grad.tolist() == [3.0, 4.0]


def test_setitem_into_a_view_that_records_a_gradient(device):
    # the base is rebuilt by a CopySlices node; values and gradients as PyTorch 2.13 gives them
    x = bibun.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = (x * 1).reshape(2, 2)
    y[1] = bibun.tensor([10.0, 11.0])
    assert y.tolist() == [[1.0, 2.0], [10.0, 11.0]]
    (y * bibun.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 0.0, 0.0]
    buf = bibun.zeros(2, 2)
    v = bibun.tensor(1.0, requires_grad=True)
    buf[0][1] = v * 3  # chained indexing writes through the view buf[0]
    assert buf.tolist() == [[0.0, 3.0], [0.0, 0.0]] and type(buf.grad_fn).__name__ == "CopySlices"
    (buf * 2).sum().backward()
    assert v.grad.item() == 6.0


def test_setitem_value_only_requires_grad(device):
    v = bibun.tensor(3.0, requires_grad=True)
    r = bibun.zeros(4)
    r[[0, 2]] = v
    assert type(r.grad_fn).__name__ == "IndexPutBackward0" and r.requires_grad and not r.is_leaf
    (r * bibun.tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert v.grad.item() == 4.0


@pytest.mark.parametrize("make_key", [lambda: 1, lambda: (slice(None), [0, 2]), lambda: (0, [2, 1]),
                                      lambda: bibun.tensor([[True, False, True], [False, True, False]])])
def test_setitem_gradcheck(device, make_key):
    rng = np.random.default_rng(1)
    x = bibun.tensor(rng.random((2, 3)), dtype=bibun.float64, requires_grad=True)
    key = make_key()
    shape = tuple(bibun.zeros(2, 3)[key].shape)
    v = bibun.tensor(rng.random(shape), dtype=bibun.float64, requires_grad=True)

    def f(a, b):
        out = a * 1
        out[key] = b * 2
        return out

    assert gradcheck(f, (x, v))


# ------------------------------------------------------------------ gather scatter index_select index_add masked_fill
def np_gather(a, dim, idx):
    sl = tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(idx.shape))
    return np.take_along_axis(a[sl], idx, axis=dim)


@pytest.mark.parametrize("dim, index", [(1, [[0, 2], [1, 1], [3, 0]]), (0, [[0, 2, 1], [1, 0, 2]]),
                                        (-1, [[3], [2], [1]]), (1, [[0, 3, 3, 1, 0]]), (0, [[2], [0]])])
def test_gather_forward_and_gradient(device, dim, index):
    a = np.arange(12.0).reshape(3, 4)
    x = bibun.tensor(a, dtype=bibun.float64, requires_grad=True)
    idx = bibun.tensor(index)
    out = x.gather(dim, idx)
    assert type(out.grad_fn).__name__ == "GatherBackward0"
    np.testing.assert_array_equal(out.detach().cpu().numpy(), np_gather(a, dim % 2, np.array(index)))
    assert bibun.gather(x, dim, idx).tolist() == out.tolist()
    assert gradcheck(lambda t: t.gather(dim, idx), (x,))


def test_gather_gradient_accumulates(device):
    x = bibun.arange(12.0).reshape(3, 4).requires_grad_()
    x.gather(1, bibun.tensor([[0, 2], [1, 1], [3, 0]])).backward(bibun.arange(6.0).reshape(3, 2))
    # PyTorch 2.13's values
    assert x.grad.tolist() == [[0.0, 0.0, 1.0, 0.0], [0.0, 5.0, 0.0, 0.0], [5.0, 0.0, 0.0, 4.0]]


def test_scatter_forward_and_gradients(device):
    x = bibun.zeros(3, 4, requires_grad=True)
    s = bibun.arange(1.0, 7.0, requires_grad=True)
    r = (x * 1).scatter(1, bibun.tensor([[0, 2], [1, 1], [3, 0]]), s.reshape(3, 2))
    assert type(r.grad_fn).__name__ == "ScatterBackward0"
    assert r.tolist() == [[1.0, 0.0, 2.0, 0.0], [0.0, 4.0, 0.0, 0.0], [6.0, 0.0, 0.0, 5.0]]
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 3.0], [4.0, 0.0, 6.0, 7.0], [0.0, 9.0, 10.0, 0.0]]
    assert s.grad.tolist() == [0.0, 2.0, 5.0, 5.0, 11.0, 8.0]


def test_scatter_value_forward_and_gradient(device):
    for kwargs in ({"src": 5.0}, {"value": 5.0}):
        x = bibun.zeros(3, 4, requires_grad=True)
        r = x.scatter(0, bibun.tensor([[0, 2, 1, 0]]), **kwargs)
        assert type(r.grad_fn).__name__ == "ScatterBackward1"
        assert r.tolist() == [[5.0, 0.0, 0.0, 5.0], [0.0, 0.0, 5.0, 0.0], [0.0, 5.0, 0.0, 0.0]]
        (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
        assert x.grad.tolist() == [[0.0, 1.0, 2.0, 0.0], [4.0, 5.0, 0.0, 7.0], [8.0, 0.0, 10.0, 11.0]]


def test_scatter_src_larger_than_index(device):
    # the src entries outside index's extent get a zero gradient (PyTorch 2.13 raises here instead)
    x = bibun.zeros(3, 4, requires_grad=True)
    s = bibun.arange(1.0, 13.0, requires_grad=True)
    r = x.scatter(0, bibun.tensor([[0, 2, 1, 0]]), s.reshape(3, 4))
    assert r.tolist() == [[1.0, 0.0, 0.0, 4.0], [0.0, 0.0, 3.0, 0.0], [0.0, 2.0, 0.0, 0.0]]
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert s.grad.tolist() == [0.0, 9.0, 6.0, 3.0] + [0.0] * 8


def test_scatter_gradcheck(device):
    rng = np.random.default_rng(2)
    x = bibun.tensor(rng.random((3, 4)), dtype=bibun.float64, requires_grad=True)
    s = bibun.tensor(rng.random((2, 4)), dtype=bibun.float64, requires_grad=True)
    idx = bibun.tensor([[0, 1, 2, 0], [2, 0, 1, 1]])  # distinct per column: scatter is well defined
    assert gradcheck(lambda a, b: a.scatter(0, idx, b), (x, s))
    assert gradcheck(lambda a: a.scatter(0, idx, 2.5), (x,))
    assert gradcheck(lambda a, b: a.scatter_add(0, idx, b), (x, s))


def test_scatter_add_accumulates(device):
    x = bibun.zeros(3, 4, requires_grad=True)
    s = bibun.arange(1.0, 13.0, requires_grad=True)
    r = x.scatter_add(0, bibun.tensor([[0, 2, 1, 0], [0, 0, 0, 0]]), s.reshape(3, 4))
    assert type(r.grad_fn).__name__ == "ScatterAddBackward0"
    assert r.tolist() == [[6.0, 6.0, 7.0, 12.0], [0.0, 0.0, 3.0, 0.0], [0.0, 2.0, 0.0, 0.0]]
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.tolist() == np.arange(12.0).reshape(3, 4).tolist()
    assert s.grad.tolist() == [0.0, 9.0, 6.0, 3.0, 0.0, 1.0, 2.0, 3.0] + [0.0] * 4
    assert bibun.scatter_add(bibun.zeros(3), 0, bibun.tensor([1, 1, 1]), bibun.ones(3)).tolist() == [0.0, 3.0, 0.0]


def test_index_select_forward_and_gradient(device):
    x = bibun.arange(12.0).reshape(3, 4).requires_grad_()
    r = x.index_select(1, bibun.tensor([3, 0, 3]))
    assert type(r.grad_fn).__name__ == "IndexSelectBackward0"
    np.testing.assert_array_equal(r.detach().cpu().numpy(), np.arange(12.0).reshape(3, 4)[:, [3, 0, 3]])
    (r * bibun.arange(9.0).reshape(3, 3)).sum().backward()
    assert x.grad.tolist() == [[1.0, 0.0, 0.0, 2.0], [4.0, 0.0, 0.0, 8.0], [7.0, 0.0, 0.0, 14.0]]
    assert bibun.index_select(x, 0, bibun.tensor([2], dtype=bibun.int32)).tolist() == [[8.0, 9.0, 10.0, 11.0]]
    assert x.index_select(0, bibun.tensor(1)).tolist() == [[4.0, 5.0, 6.0, 7.0]]
    assert bibun.tensor(7.0).index_select(0, bibun.tensor([0])).shape == bibun.Size([])
    d = bibun.tensor(np.random.default_rng(3).random((3, 4)), dtype=bibun.float64, requires_grad=True)
    assert gradcheck(lambda t: t.index_select(0, bibun.tensor([2, 0, 2])), (d,))


def test_index_add_forward_and_gradient(device):
    x = bibun.zeros(3, 4, requires_grad=True)
    s = bibun.arange(8.0, requires_grad=True)
    r = x.index_add(0, bibun.tensor([2, 2]), s.reshape(2, 4), alpha=2)
    assert type(r.grad_fn).__name__ == "IndexAddBackward0"
    assert r.tolist() == [[0.0] * 4, [0.0] * 4, [8.0, 12.0, 16.0, 20.0]]
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.tolist() == np.arange(12.0).reshape(3, 4).tolist()
    assert s.grad.tolist() == [16.0, 18.0, 20.0, 22.0, 16.0, 18.0, 20.0, 22.0]  # alpha scales it
    assert bibun.index_add(bibun.zeros(3, 4), 0, bibun.tensor(0), bibun.ones(1, 4)).sum().item() == 4.0
    rng = np.random.default_rng(4)
    a = bibun.tensor(rng.random((3, 4)), dtype=bibun.float64, requires_grad=True)
    b = bibun.tensor(rng.random((3, 2)), dtype=bibun.float64, requires_grad=True)
    assert gradcheck(lambda p, q: p.index_add(1, bibun.tensor([1, 1]), q, alpha=1.5), (a, b))


def test_masked_fill_forward_and_gradients(device):
    x = bibun.arange(12.0, requires_grad=True)
    y = x.reshape(3, 4)
    r = y.masked_fill(y > 5, -1.0)
    assert type(r.grad_fn).__name__ == "MaskedFillBackward0"
    expected = np.arange(12.0).reshape(3, 4)
    expected[expected > 5] = -1.0
    np.testing.assert_array_equal(r.detach().cpu().numpy(), expected)
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] + [0.0] * 6
    x.grad = None
    v = bibun.tensor(3.0, requires_grad=True)
    r = y.masked_fill(mask(True, False, False, True), v)  # the mask broadcasts over rows
    assert type(r.grad_fn).__name__ == "MaskedFillBackward1"
    (r * bibun.arange(12.0).reshape(3, 4)).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 2.0, 0.0, 0.0, 5.0, 6.0, 0.0, 0.0, 9.0, 10.0, 0.0]
    assert v.grad.item() == 33.0
    assert bibun.masked_fill(bibun.arange(4, dtype=bibun.int64), mask(True, False, False, True), 1.7).tolist() == \
        [1, 1, 2, 1]
    assert bibun.arange(4.0).masked_fill(bibun.ones(2, 4, dtype=bibun.bool), 0.0).shape == bibun.Size([2, 4])
    d = bibun.tensor(np.random.default_rng(5).random((3, 4)), dtype=bibun.float64, requires_grad=True)
    w = bibun.tensor(0.5, dtype=bibun.float64, requires_grad=True)
    m = d.detach() > 0.5
    assert gradcheck(lambda a, b: a.masked_fill(m, b), (d, w))


# (call, exception type, PyTorch 2.13's message); x is arange(12.).reshape(3, 4), x3 arange(24.).reshape(2, 3, 4)
FAMILY_ERRORS = [
    ("x.gather(1, T.tensor([[0, 4]]))", RuntimeError, "index 4 is out of bounds for dimension 1 with size 4"),
    ("x.gather(1, T.tensor([[0, -1]]))", RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
    ("x.gather(0, T.tensor([[-4]]))", RuntimeError, "index -4 is out of bounds for dimension 0 with size 3"),
    ("x.gather(1, T.tensor([[0.]]))", RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    ("x.gather(1, T.tensor([[0]], dtype=T.int16))", RuntimeError, "gather(): Expected dtype int32/int64 for index"),
    ("x.gather(0, T.tensor([0]))", RuntimeError,
     "Index tensor must have the same number of dimensions as input tensor"),
    ("x.gather(1, T.tensor([[0], [1], [2], [0]]))", RuntimeError,
     "Size does not match at dimension 0 expected index [4, 1] to be no larger than self [3, 4] apart from "
     "dimension 1"),
    ("x.gather(2, T.tensor([[0]]))", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("x.scatter(0, T.tensor([[0, 3, 1, 0]]), 5.)", RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    ("x.scatter(1, T.tensor([[0, -1]]), 2.)", RuntimeError, "index -1 is out of bounds for dimension 1 with size 4"),
    ("x.scatter(1, T.tensor([[0, 4, 1, 0]]), T.ones(3, 4))", RuntimeError,
     "index 4 is out of bounds for dimension 1 with size 4"),
    ("x.scatter(1, T.tensor([[0.]]), 1.)", RuntimeError, "scatter(): Expected dtype int32/int64 for index"),
    ("x.scatter(1, T.tensor([0, 1]), 2.)", RuntimeError,
     "Index tensor must have the same number of dimensions as self tensor"),
    ("x.scatter(1, T.tensor([[0, 1, 2, 3]] * 4), 2.)", RuntimeError,
     "Expected index [4, 4] to be no larger than self [3, 4] apart from dimension 1"),
    ("x.scatter(1, T.tensor([[0, 1, 1, 0]]), T.ones(1, 2))", RuntimeError,
     "Expected index [1, 4] to be no larger than self [3, 4] apart from dimension 1 and to be no larger size than "
     "src [1, 2]"),
    ("x.scatter(1, T.tensor([[0, 1, 1, 0]]), T.ones(3, 4, dtype=T.float64))", RuntimeError,
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    ("x.scatter_add(0, T.tensor([[0, 3, 1, 0]]), T.ones(3, 4))", RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    ("x.scatter_add(0, T.tensor([[0, -1, 1, 0]]), T.ones(3, 4))", RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    ("x.scatter_add(1, T.tensor([[0]]), x.double())", RuntimeError,
     "scatter(): Expected self.dtype to be equal to src.dtype"),
    ("x.scatter_add(1, T.tensor([[0, 1, 2, 3, 0]]), x)", RuntimeError,
     "Expected index [1, 5] to be no larger than self [3, 4] apart from dimension 1 and to be no larger size than "
     "src [3, 4]"),
    ("x.index_select(0, T.tensor([3]))", IndexError, "index out of range in self"),
    ("x.index_select(0, T.tensor([-1]))", IndexError, "index out of range in self"),
    ("x3.index_select(2, T.tensor([4]))", IndexError, "index out of range in self"),
    ("x.index_select(1, T.tensor([4]))", RuntimeError, "INDICES element is out of DATA bounds, id=4 axis_dim=4"),
    ("x3.index_select(1, T.tensor([3]))", RuntimeError, "INDICES element is out of DATA bounds, id=3 axis_dim=3"),
    ("x.index_select(0, T.tensor([[0]]))", IndexError, "index_select(): Index is supposed to be a vector"),
    ("x.index_select(0, T.tensor([0.]))", RuntimeError, "index_select(): Expected dtype int32 or int64 for index"),
    ("x.index_select(2, T.tensor([0]))", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("T.tensor(1.).index_select(0, T.tensor([0, 0]))", RuntimeError,
     "index_select(): Index to scalar can have only 1 value, got 2 value(s)"),
    ("x.index_add(0, T.tensor([3]), T.ones(1, 4))", RuntimeError,
     "index 3 is out of bounds for dimension 0 with size 3"),
    ("x.index_add(0, T.tensor([-1]), T.ones(1, 4))", RuntimeError,
     "index -1 is out of bounds for dimension 0 with size 3"),
    ("x.index_add(0, T.tensor([[0]]), T.ones(1, 4))", IndexError,
     "index_add_(): Index is supposed to be a vector, but got dim: 2 with type: Long and size: [1, 1]"),
    ("x.index_add(0, T.tensor([0.]), T.ones(1, 4))", RuntimeError,
     "index_add_(): Expected dtype int32/int64 for index but got: Float"),
    ("x.index_add(0, T.tensor([0]), T.ones(1, 4, dtype=T.float64))", RuntimeError,
     "index_add_(): self (Float) and source (Double) must have the same scalar type"),
    ("x.index_add(0, T.tensor([0]), T.ones(2, 4))", RuntimeError,
     "index_add_(): Number of indices (1) should be equal to source.size(dim): (2), for dim: 0"),
    ("x.index_add(1, T.tensor([0, 1]), T.ones(2, 2))", RuntimeError,
     "source tensor shape must match self tensor shape, excluding the specified dimension. Got self.shape = [3, 4] "
     "source.shape = [2, 2]"),
    ("x.masked_fill(T.tensor([1, 0, 0, 1]), 1.)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype long int"),
    ("x.masked_fill(T.tensor([1, 0, 0, 1], dtype=T.uint8), 1.)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype unsigned char"),
    ("x.masked_fill(T.tensor([1., 0., 0., 1.]), 1.)", RuntimeError,
     "masked_fill_ only supports boolean masks, but got mask with dtype float"),
    ("x.masked_fill(T.tensor([True, False, True]), 1.)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("x.masked_fill(T.ones(4, dtype=T.bool), T.tensor([1.]))", RuntimeError,
     "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with 1 dimension(s)."),
    ("x.select(0, 5)", IndexError, "select(): index 5 out of range for tensor of size [3, 4] at dimension 0"),
    ("x.select(1, -5)", IndexError, "select(): index -5 out of range for tensor of size [3, 4] at dimension 1"),
    ("x.narrow(1, 2, 3)", RuntimeError, "start (2) + length (3) exceeds dimension size (4)."),
]


@pytest.mark.parametrize("call, exc, message", FAMILY_ERRORS)
def test_family_errors_match_pytorch(device, call, exc, message):
    ns = {"T": bibun, "x": bibun.arange(12.0).reshape(3, 4), "x3": bibun.arange(24.0).reshape(2, 3, 4)}
    before = ns["x"].tolist()
    with pytest.raises(exc) as info:
        eval(call, ns)
    assert str(info.value) == message
    assert ns["x"].tolist() == before


def test_family_accepts_int32_indices(device):
    x = bibun.arange(12.0).reshape(3, 4)
    i32 = bibun.tensor([[0, 1]], dtype=bibun.int32)
    assert x.gather(1, i32).tolist() == [[0.0, 1.0]]
    assert x.scatter(1, i32, 9.0)[0].tolist() == [9.0, 9.0, 2.0, 3.0]
    assert x.scatter_add(1, i32, x)[0].tolist() == [0.0, 2.0, 2.0, 3.0]
    assert x.index_add(0, bibun.tensor([0], dtype=bibun.int32), bibun.ones(1, 4))[0].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert x.gather(1, bibun.zeros(0, 3, dtype=bibun.int64)).shape == bibun.Size([0, 3])


def test_select_and_narrow(device):
    x = bibun.arange(12.0).reshape(3, 4).requires_grad_()
    s = bibun.select(x, 1, -1)
    assert s.tolist() == [3.0, 7.0, 11.0] and type(s.grad_fn).__name__ == "SelectBackward0"
    n = bibun.narrow(x, 1, 1, 2)
    assert n.tolist() == [[1.0, 2.0], [5.0, 6.0], [9.0, 10.0]] and type(n.grad_fn).__name__ == "SliceBackward0"
    (s.sum() + n.sum()).backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0, 1.0]] * 3


# ---------------------------------------------------------------------- PyTorch as an oracle (skipped without it)
def to_torch(torch, k):
    """A bibun key or value as PyTorch's."""
    if isinstance(k, tuple):
        return tuple(to_torch(torch, p) for p in k)
    if isinstance(k, bibun.Tensor):
        return torch.from_numpy(k.cpu().numpy().copy())
    return k


ORACLE_GET_KEYS = [c[1] for c in GET_CASES if c[0] not in ("numpy_int", "python_true", "mask_list_of_bools")]


@pytest.mark.parametrize("make_key", ORACLE_GET_KEYS)
def test_getitem_against_pytorch(torch, make_key):
    x = arange(2, 3, 4, requires_grad=True)
    tx = torch.arange(24.0).reshape(2, 3, 4).requires_grad_()
    key = make_key(x.detach())
    out, tout = x[key], tx[to_torch(torch, key)]
    assert out.tolist() == tout.tolist()
    g = np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape))
    out.backward(bibun.tensor(g))
    tout.backward(torch.from_numpy(g))
    assert x.grad.tolist() == tx.grad.tolist()
    assert chain(out.grad_fn) == chain(tout.grad_fn)


@pytest.mark.parametrize("shape, make_key, exc, message", GET_ERRORS)
def test_getitem_error_pins_against_pytorch(torch, shape, make_key, exc, message):
    t = torch.zeros(*shape) if shape else torch.tensor(1.0)
    with pytest.raises(exc) as info:
        t[to_torch(torch, make_key())]
    assert str(info.value) == message


@pytest.mark.parametrize("shape, make_key, make_value, exc, message",
                         [c for c in SET_ERRORS if c[3] is not TypeError])
def test_setitem_error_pins_against_pytorch(torch, shape, make_key, make_value, exc, message):
    t = torch.zeros(*shape)
    with pytest.raises(exc) as info:
        t[to_torch(torch, make_key())] = to_torch(torch, make_value())
    assert str(info.value).replace("torch.", "bibun.") == message


@pytest.mark.parametrize("make_key, vshape, gx, gv", SET_GRAD_CASES)
def test_setitem_gradient_pins_against_pytorch(torch, make_key, vshape, gx, gv):
    x = torch.arange(4.0).requires_grad_()
    v = torch.full(vshape, 10.0).requires_grad_()
    r = x * 1
    r[to_torch(torch, make_key())] = v * 1
    (r * torch.arange(1.0, 5.0)).sum().backward()
    assert x.grad.tolist() == gx and v.grad.tolist() == gv


@pytest.mark.parametrize("make_key, kind, name", SET_NODE_CASES)
def test_setitem_node_name_pins_against_pytorch(torch, make_key, kind, name):
    r = torch.zeros(2, 3, requires_grad=True).clone()
    value = {"scalar": 2.0, "scalar0d": torch.tensor(2.0, requires_grad=True),
             "tensor1": torch.ones(1, requires_grad=True)}[kind]
    r[to_torch(torch, make_key())] = value
    assert type(r.grad_fn).__name__ == name


@pytest.mark.parametrize("call, exc, message", FAMILY_ERRORS)
def test_family_error_pins_against_pytorch(torch, call, exc, message):
    ns = {"T": torch, "x": torch.arange(12.0).reshape(3, 4), "x3": torch.arange(24.0).reshape(2, 3, 4)}
    with pytest.raises(exc) as info:
        eval(call, ns)
    assert str(info.value) == message


def test_a_0dim_numpy_index_selects_like_an_int(device):
    t = bibun.arange(5.0, device=device)
    assert t[np.array(3)].shape == () and t[np.array(3)].item() == 3.0
