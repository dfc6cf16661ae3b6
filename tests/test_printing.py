"""Tensor printing matches PyTorch's layout character for character.

The expected strings were produced by PyTorch 2.13 (with ``torch.`` written as
``bibun.``). The cases go through ``_tensor_str._format`` on numpy arrays, so
they need neither PyTorch nor the rest of bibun.
"""

import types

import numpy as np
import pytest

from bibun import _tensor_str as ts
from bibun import dtypes

f16, f32, f64 = np.float16, np.float32, np.float64


@pytest.fixture(autouse=True)
def _default_printoptions():
    """Each test starts and ends with the default options and default dtype."""
    ts.set_printoptions(profile="default")
    yield
    ts.set_printoptions(profile="default")
    dtypes.set_default_dtype(dtypes.float32)


# (id, array factory, set_printoptions arguments, PyTorch's repr)
CASES = [
    ('scalar_int_valued', lambda: np.array(8.0, f32), {},
     """tensor(8.)"""),
    ('scalar_fraction', lambda: np.array(2.5, f32), {},
     """tensor(2.5000)"""),
    ('scalar_negative_zero', lambda: np.array(-0.0, f32), {},
     """tensor(-0.)"""),
    ('scalar_nan', lambda: np.array(np.nan, f32), {},
     """tensor(nan)"""),
    ('scalar_inf', lambda: np.array(np.inf, f32), {},
     """tensor(inf)"""),
    ('scalar_neg_inf', lambda: np.array(-np.inf, f32), {},
     """tensor(-inf)"""),
    ('scalar_huge', lambda: np.array(1e10, f32), {},
     """tensor(1.0000e+10)"""),
    ('scalar_tiny', lambda: np.array(1e-5, f32), {},
     """tensor(1.0000e-05)"""),
    ('scalar_int', lambda: np.array(7, np.int64), {},
     """tensor(7)"""),
    ('scalar_bool', lambda: np.array(True), {},
     """tensor(True)"""),
    ('vector_one_negative', lambda: np.array([-1.5], f32), {},
     """tensor([-1.5000])"""),
    ('vector_mixed', lambda: np.array([-1.5, -1.0, -0.1, 0.9, 1.8, 2.2, 3.1], f32), {},
     """tensor([-1.5000, -1.0000, -0.1000,  0.9000,  1.8000,  2.2000,  3.1000])"""),
    ('vector_int_valued', lambda: np.array([1.0, 2.0], f32), {},
     """tensor([1., 2.])"""),
    ('vector_sci', lambda: np.array([1e-5, 1.0], f32), {},
     """tensor([1.0000e-05, 1.0000e+00])"""),
    ('vector_ratio_sci', lambda: np.array([1.0, 1001.0], f32), {},
     """tensor([1.0000e+00, 1.0010e+03])"""),
    ('vector_ratio_not_sci', lambda: np.array([1.0, 1000.0], f32), {},
     """tensor([   1., 1000.])"""),
    ('vector_nonfinite', lambda: np.array([0.0, np.nan, np.inf, -np.inf, 1.5], f32), {},
     """tensor([0.0000,    nan,    inf,   -inf, 1.5000])"""),
    ('vector_nonfinite_int_valued', lambda: np.array([np.nan, 2.0, -np.inf], f32), {},
     """tensor([nan, 2., -inf])"""),
    ('vector_bool', lambda: np.array([True, False]), {},
     """tensor([ True, False])"""),
    ('vector_int', lambda: np.array([1, 2, 3]), {},
     """tensor([1, 2, 3])"""),
    ('vector_int_negative', lambda: np.array([-100, 5, 12345, -7]), {},
     """tensor([ -100,     5, 12345,    -7])"""),
    ('vector_uint8', lambda: np.array([0, 255, 7], np.uint8), {},
     """tensor([  0, 255,   7], dtype=bibun.uint8)"""),
    ('matrix', lambda: np.array([[1.0, -2.5], [3.25, 4.0]], f32), {},
     """tensor([[ 1.0000, -2.5000],
        [ 3.2500,  4.0000]])"""),
    ('matrix_int', lambda: np.arange(12).reshape(3, 4) - 5, {},
     """tensor([[-5, -4, -3, -2],
        [-1,  0,  1,  2],
        [ 3,  4,  5,  6]])"""),
    ('matrix_sci', lambda: np.array([[1e-8, 1.0], [2.0, 3e9]], f32), {},
     """tensor([[1.0000e-08, 1.0000e+00],
        [2.0000e+00, 3.0000e+09]])"""),
    ('cube', lambda: np.arange(24, dtype=f32).reshape(2, 3, 4) / 4, {},
     """tensor([[[0.0000, 0.2500, 0.5000, 0.7500],
         [1.0000, 1.2500, 1.5000, 1.7500],
         [2.0000, 2.2500, 2.5000, 2.7500]],

        [[3.0000, 3.2500, 3.5000, 3.7500],
         [4.0000, 4.2500, 4.5000, 4.7500],
         [5.0000, 5.2500, 5.5000, 5.7500]]])"""),
    ('four_dims', lambda: np.arange(16).reshape(2, 2, 2, 2), {},
     """tensor([[[[ 0,  1],
          [ 2,  3]],

         [[ 4,  5],
          [ 6,  7]]],


        [[[ 8,  9],
          [10, 11]],

         [[12, 13],
          [14, 15]]]])"""),
    ('summarised_1d', lambda: np.zeros(1001, f32), {},
     """tensor([0., 0., 0.,  ..., 0., 0., 0.])"""),
    ('summarised_1d_arange', lambda: np.arange(2000, dtype=f32) / 7, {},
     """tensor([0.0000e+00, 1.4286e-01, 2.8571e-01,  ..., 2.8529e+02, 2.8543e+02,
        2.8557e+02])"""),
    ('summarised_2d', lambda: np.arange(2000).reshape(40, 50), {},
     """tensor([[   0,    1,    2,  ...,   47,   48,   49],
        [  50,   51,   52,  ...,   97,   98,   99],
        [ 100,  101,  102,  ...,  147,  148,  149],
        ...,
        [1850, 1851, 1852,  ..., 1897, 1898, 1899],
        [1900, 1901, 1902,  ..., 1947, 1948, 1949],
        [1950, 1951, 1952,  ..., 1997, 1998, 1999]])"""),
    ('summarised_2d_float', lambda: np.arange(1200, dtype=f32).reshape(30, 40) / 3, {},
     """tensor([[0.0000e+00, 3.3333e-01, 6.6667e-01,  ..., 1.2333e+01, 1.2667e+01,
         1.3000e+01],
        [1.3333e+01, 1.3667e+01, 1.4000e+01,  ..., 2.5667e+01, 2.6000e+01,
         2.6333e+01],
        [2.6667e+01, 2.7000e+01, 2.7333e+01,  ..., 3.9000e+01, 3.9333e+01,
         3.9667e+01],
        ...,
        [3.6000e+02, 3.6033e+02, 3.6067e+02,  ..., 3.7233e+02, 3.7267e+02,
         3.7300e+02],
        [3.7333e+02, 3.7367e+02, 3.7400e+02,  ..., 3.8567e+02, 3.8600e+02,
         3.8633e+02],
        [3.8667e+02, 3.8700e+02, 3.8733e+02,  ..., 3.9900e+02, 3.9933e+02,
         3.9967e+02]])"""),
    ('summarised_3d', lambda: np.arange(2000).reshape(2, 2, 500), {},
     """tensor([[[   0,    1,    2,  ...,  497,  498,  499],
         [ 500,  501,  502,  ...,  997,  998,  999]],

        [[1000, 1001, 1002,  ..., 1497, 1498, 1499],
         [1500, 1501, 1502,  ..., 1997, 1998, 1999]]])"""),
    ('empty_1d', lambda: np.zeros(0, f32), {},
     """tensor([])"""),
    ('empty_1d_int', lambda: np.zeros(0, np.int64), {},
     """tensor([], dtype=bibun.int64)"""),
    ('empty_2d', lambda: np.zeros((0, 3), f32), {},
     """tensor([], size=(0, 3))"""),
    ('empty_3d_bool', lambda: np.zeros((2, 0, 3), bool), {},
     """tensor([], size=(2, 0, 3), dtype=bibun.bool)"""),
    ('float64_suffix', lambda: np.array([1.0, 2.5], f64), {},
     """tensor([1.0000, 2.5000], dtype=bibun.float64)"""),
    ('float16_suffix', lambda: np.array([1.0, 2.5, -0.125], f16), {},
     """tensor([ 1.0000,  2.5000, -0.1250], dtype=bibun.float16)"""),
    ('float16_scalar', lambda: np.array(65504.0, f16), {},
     """tensor(65504., dtype=bibun.float16)"""),
    ('int32_suffix', lambda: np.array([1, -2], np.int32), {},
     """tensor([ 1, -2], dtype=bibun.int32)"""),
    ('int8_suffix', lambda: np.array([[1, -2], [3, 4]], np.int8), {},
     """tensor([[ 1, -2],
        [ 3,  4]], dtype=bibun.int8)"""),
    ('long_row_wrap', lambda: np.arange(30, dtype=f32) / 3, {},
     """tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,
        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,
        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,
        9.0000, 9.3333, 9.6667])"""),
    ('long_row_wrap_float64', lambda: np.arange(30, dtype=f64) / 3, {},
     """tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,
        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,
        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,
        9.0000, 9.3333, 9.6667], dtype=bibun.float64)"""),
    ('long_int_row_wrap', lambda: np.arange(100) * 1001, {},
     """tensor([    0,  1001,  2002,  3003,  4004,  5005,  6006,  7007,  8008,  9009,
        10010, 11011, 12012, 13013, 14014, 15015, 16016, 17017, 18018, 19019,
        20020, 21021, 22022, 23023, 24024, 25025, 26026, 27027, 28028, 29029,
        30030, 31031, 32032, 33033, 34034, 35035, 36036, 37037, 38038, 39039,
        40040, 41041, 42042, 43043, 44044, 45045, 46046, 47047, 48048, 49049,
        50050, 51051, 52052, 53053, 54054, 55055, 56056, 57057, 58058, 59059,
        60060, 61061, 62062, 63063, 64064, 65065, 66066, 67067, 68068, 69069,
        70070, 71071, 72072, 73073, 74074, 75075, 76076, 77077, 78078, 79079,
        80080, 81081, 82082, 83083, 84084, 85085, 86086, 87087, 88088, 89089,
        90090, 91091, 92092, 93093, 94094, 95095, 96096, 97097, 98098, 99099])"""),
    ('long_2d_rows_wrap', lambda: np.arange(40, dtype=f32).reshape(2, 20) / 3, {},
     """tensor([[ 0.0000,  0.3333,  0.6667,  1.0000,  1.3333,  1.6667,  2.0000,  2.3333,
          2.6667,  3.0000,  3.3333,  3.6667,  4.0000,  4.3333,  4.6667,  5.0000,
          5.3333,  5.6667,  6.0000,  6.3333],
        [ 6.6667,  7.0000,  7.3333,  7.6667,  8.0000,  8.3333,  8.6667,  9.0000,
          9.3333,  9.6667, 10.0000, 10.3333, 10.6667, 11.0000, 11.3333, 11.6667,
         12.0000, 12.3333, 12.6667, 13.0000]])"""),
    ('suffix_on_new_line', lambda: np.arange(16, dtype=f64) / 3, {},
     """tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,
        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000],
       dtype=bibun.float64)"""),
    ('precision_2', lambda: np.array([1.12345, 2.0], f32), {'precision': 2},
     """tensor([1.12, 2.00])"""),
    ('threshold_5', lambda: np.arange(10), {'threshold': 5},
     """tensor([0, 1, 2,  ..., 7, 8, 9])"""),
    ('edgeitems_1', lambda: np.arange(20, dtype=f32).reshape(4, 5), {'edgeitems': 1, 'threshold': 10},
     """tensor([[ 0.,  ...,  4.],
        ...,
        [15.,  ..., 19.]])"""),
    ('edgeitems_0', lambda: np.arange(20, dtype=f32).reshape(4, 5), {'edgeitems': 0, 'threshold': 10},
     """tensor([...], size=(4, 5))"""),
    ('edgeitems_0_small', lambda: np.arange(3), {'edgeitems': 0},
     """tensor([0, 1, 2], size=(3,))"""),
    ('linewidth_40', lambda: np.arange(20, dtype=f32) / 3, {'linewidth': 40},
     """tensor([0.0000, 0.3333, 0.6667, 1.0000,
        1.3333, 1.6667, 2.0000, 2.3333,
        2.6667, 3.0000, 3.3333, 3.6667,
        4.0000, 4.3333, 4.6667, 5.0000,
        5.3333, 5.6667, 6.0000, 6.3333])"""),
    ('sci_mode_forced', lambda: np.array([1.0, 2.5], f32), {'sci_mode': True},
     """tensor([1.0000e+00, 2.5000e+00])"""),
    ('sci_mode_off', lambda: np.array([1e-8, 1.0], f32), {'sci_mode': False},
     """tensor([0.0000, 1.0000])"""),
    ('profile_short', lambda: np.arange(10, dtype=f32) / 3, {'profile': 'short', 'threshold': 5},
     """tensor([0.00, 0.33,  ..., 2.67, 3.00])"""),
    ('profile_full', lambda: np.zeros(1001, np.int64), {'profile': 'full'},
     """tensor([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])"""),
]


@pytest.mark.parametrize(
    "make, options, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_repr_matches_pytorch(make, options, expected):
    ts.set_printoptions(**options)
    assert ts._format(make()) == expected


# ---------------------------------------------------------------- suffixes
def test_requires_grad_suffix():
    assert ts._format(np.array([1.5, 2.0], f32), requires_grad=True) == (
        "tensor([1.5000, 2.0000], requires_grad=True)")


def test_grad_fn_suffix_replaces_requires_grad():
    got = ts._format(np.array(3.0, f32), grad_fn="MulBackward0", requires_grad=True)
    assert got == "tensor(3., grad_fn=<MulBackward0>)"


def test_device_suffix_comes_first():
    got = ts._format(np.array([1.5, 2.0], f32), device="cuda:0", requires_grad=True)
    assert got == "tensor([1.5000, 2.0000], device='cuda:0', requires_grad=True)"


def test_suffixes_wrap_after_multiline_data():
    got = ts._format(np.arange(30, dtype=f64) / 3, device="cuda:0", grad_fn="AddBackward0")
    assert got == """\
tensor([0.0000, 0.3333, 0.6667, 1.0000, 1.3333, 1.6667, 2.0000, 2.3333, 2.6667,
        3.0000, 3.3333, 3.6667, 4.0000, 4.3333, 4.6667, 5.0000, 5.3333, 5.6667,
        6.0000, 6.3333, 6.6667, 7.0000, 7.3333, 7.6667, 8.0000, 8.3333, 8.6667,
        9.0000, 9.3333, 9.6667], device='cuda:0', dtype=bibun.float64,
       grad_fn=<AddBackward0>)"""


def test_explicit_dtype_overrides_array_dtype():
    got = ts._format(np.array([1.0, 2.5], f32), dtypes.float16)
    assert got == "tensor([1.0000, 2.5000], dtype=bibun.float16)"


def test_default_dtype_float64_flips_the_float_suffixes():
    dtypes.set_default_dtype(dtypes.float64)
    assert ts._format(np.arange(3, dtype=f64)) == "tensor([0., 1., 2.])"
    assert ts._format(np.arange(3, dtype=f32)) == "tensor([0., 1., 2.], dtype=bibun.float32)"
    assert ts._format(np.zeros(0, f64)) == "tensor([])"
    assert ts._format(np.zeros(0, f32)) == "tensor([], dtype=bibun.float32)"


# ---------------------------------------------------------------- options
def test_get_printoptions_defaults():
    assert ts.get_printoptions() == {
        "precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80, "sci_mode": None}


def test_precision_then_restore():
    x = np.array([1.12345], f32)
    ts.set_printoptions(precision=2)
    assert ts._format(x) == "tensor([1.12])"
    ts.set_printoptions(profile="default")
    assert ts._format(x) == "tensor([1.1235])"


def test_profile_short_and_full():
    ts.set_printoptions(profile="short")
    assert ts.get_printoptions()["precision"] == 2
    assert ts.get_printoptions()["edgeitems"] == 2
    ts.set_printoptions(profile="full")
    assert ts.get_printoptions()["threshold"] == float("inf")


def test_sci_mode_resets_when_not_given():
    ts.set_printoptions(sci_mode=True)
    ts.set_printoptions(precision=3)
    assert ts.get_printoptions()["sci_mode"] is None
    assert ts._format(np.array(2.5, f32)) == "tensor(2.500)"


def test_get_printoptions_round_trips():
    ts.set_printoptions(precision=6, linewidth=100, sci_mode=False)
    saved = ts.get_printoptions()
    ts.set_printoptions(profile="default")
    ts.set_printoptions(**saved)
    assert ts.get_printoptions() == saved


def test_printoptions_context_manager_restores():
    with ts.printoptions(precision=1):
        assert ts._format(np.array(2.25, f32)) == "tensor(2.2)"
    assert ts._format(np.array(2.25, f32)) == "tensor(2.2500)"


# ---------------------------------------------------------------- tensor_repr
def _fake_tensor(values, dtype, device="cpu", grad_fn=None, requires_grad=False):
    """Just the attributes tensor_repr reads, so this runs without the rest of bibun."""
    kind = device.partition(":")[0]
    dev = type("Dev", (), {"type": kind, "__str__": lambda self: device})()
    node = None if grad_fn is None else types.SimpleNamespace(name=lambda: grad_fn)
    return types.SimpleNamespace(
        _data=values, _backend=types.SimpleNamespace(to_numpy=np.asarray), dtype=dtype,
        device=dev, grad_fn=node, _requires_grad=requires_grad)


def test_tensor_repr_reads_the_tensor():
    t = _fake_tensor(np.array([1.0, 2.5]), dtypes.float64, "cuda:0", grad_fn="AddBackward0")
    assert ts.tensor_repr(t) == (
        "tensor([1.0000, 2.5000], device='cuda:0', dtype=bibun.float64,\n"
        "       grad_fn=<AddBackward0>)")


def test_tensor_repr_cpu_leaf():
    t = _fake_tensor(np.array([[1, 2]]), dtypes.int64, requires_grad=True)
    assert ts.tensor_repr(t) == "tensor([[1, 2]], requires_grad=True)"


def test_through_bibun_tensor():
    """The public path, once the rest of the package exists."""
    bibun = pytest.importorskip("bibun")
    if not hasattr(bibun, "tensor"):
        pytest.skip("bibun.tensor is not available yet")
    assert repr(bibun.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert str(bibun.tensor([[1, 2], [3, 4]])) == "tensor([[1, 2],\n        [3, 4]])"
    t = bibun.tensor([1.0, 2.0], requires_grad=True)
    assert repr(t) == "tensor([1., 2.], requires_grad=True)"


# ---------------------------------------------------------------- parity with PyTorch
def _random_arrays(count=60, seed=0):
    """Arrays of many shapes, scales and dtypes, with nan/inf/zero sprinkled in."""
    rng = np.random.default_rng(seed)
    shapes = [(), (1,), (5,), (40,), (3, 7), (2, 3, 4), (1200,), (50, 30), (11, 11, 11), (2, 1, 3)]
    kinds = ["float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool"]
    for _ in range(count):
        shape = shapes[rng.integers(len(shapes))]
        kind = kinds[rng.integers(len(kinds))]
        scale = 10.0 ** rng.integers(-7, 11)
        a = rng.standard_normal(shape) * scale
        if kind == "bool":
            a = a > 0
        elif kind != "float16" and not kind.startswith("float"):
            info = np.iinfo(kind)
            a = np.clip(np.round(a), info.min, info.max)
        elif kind == "float16":
            a = np.clip(a, -65504, 65504)
        a = np.asarray(a).astype(kind)
        if kind.startswith("float") and a.size and rng.random() < 0.3:
            a.reshape(-1)[0] = rng.choice([np.nan, np.inf, -np.inf, 0.0, -0.0])
        if kind.startswith("float") and rng.random() < 0.3:
            a = np.round(a)
        yield a


@pytest.mark.parametrize("options", [
    {}, {"precision": 2}, {"threshold": 5, "edgeitems": 1}, {"linewidth": 50}, {"sci_mode": True},
])
def test_parity_with_pytorch(options):
    torch = pytest.importorskip("torch")
    try:
        torch.set_printoptions(**options)
        ts.set_printoptions(**options)
        for a in _random_arrays():
            t = torch.from_numpy(a.copy()) if a.ndim else torch.tensor(a.reshape(1)).reshape(())
            expected = repr(t).replace("torch.", "bibun.")
            assert ts._format(a) == expected, (a.dtype, a.shape)
    finally:
        torch.set_printoptions(profile="default")
