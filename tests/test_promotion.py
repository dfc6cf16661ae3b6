"""PyTorch's type promotion, pinned: every expected dtype below was produced by PyTorch 2.13.

Python scalars and 0-dim tensors are "weak": they only raise the category (bool < integral <
floating), never the width within one, so ``float32 * 2.5`` and ``float32 * tensor(2.5,
dtype=float64)`` both stay float32.
"""

from __future__ import annotations

import re

import pytest

import bibun


# (expression, PyTorch's result dtype)
RESULT_DTYPES = [
    # the cases a user meets first
    ("bibun.ones(2) * 2.5", "float32"),
    ("bibun.ones(2) * bibun.tensor(2.5, dtype=bibun.float64)", "float32"),
    ("bibun.ones(2, dtype=bibun.int64) + 2.5", "float32"),
    ("bibun.ones(2, dtype=bibun.int64) / bibun.ones(2, dtype=bibun.int64)", "float32"),
    ("bibun.ones(2, dtype=bibun.int32) + 3", "int32"),
    ("bibun.ones(2, dtype=bibun.bool) + bibun.ones(2, dtype=bibun.bool)", "bool"),
    ("bibun.ones(2, dtype=bibun.bool) + 1", "int64"),
    ("bibun.ones(2, dtype=bibun.float16) + bibun.tensor(1.0, dtype=bibun.float32)", "float16"),
    ("bibun.ones(2, dtype=bibun.int64) + bibun.ones(2, dtype=bibun.float16)", "float16"),
    ("bibun.ones(2, dtype=bibun.int64) < 2.5", "bool"),
    ("bibun.ones(2, dtype=bibun.int64).exp()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).sum()", "int64"),
    ("bibun.ones(2, dtype=bibun.bool).sum()", "int64"),
    ("2 ** bibun.ones(2, dtype=bibun.int64)", "int64"),
    ("2.5 ** bibun.ones(2, dtype=bibun.int64)", "float32"),
    ("bibun.ones(2, dtype=bibun.int64) ** 2.5", "float32"),
    ("bibun.ones(2, dtype=bibun.int64) ** 2", "int64"),
    # mixed kinds and widths
    ("bibun.ones(2, dtype=bibun.uint8) + bibun.ones(2, dtype=bibun.int8)", "int16"),
    ("bibun.ones(2, dtype=bibun.int32) + bibun.tensor(5)", "int32"),
    ("bibun.ones(2, dtype=bibun.int32) + bibun.tensor(5.0)", "float32"),
    ("bibun.tensor(5, dtype=bibun.int32) + bibun.tensor(5.0, dtype=bibun.float64)", "float64"),
    ("bibun.tensor(5, dtype=bibun.int32) + 2.5", "float32"),
    ("bibun.tensor(True) + 2", "int64"),
    ("bibun.ones(2, dtype=bibun.int32) * True", "int32"),
    ("bibun.ones(2, dtype=bibun.bool) * 2.5", "float32"),
    ("bibun.ones(2, dtype=bibun.float16) * 2.5", "float16"),
    ("bibun.ones(2, dtype=bibun.float16) * bibun.tensor(2.5, dtype=bibun.float64)", "float16"),
    ("bibun.ones(2, dtype=bibun.float16) + bibun.ones(2, dtype=bibun.float32)", "float32"),
    ("bibun.ones(2, dtype=bibun.uint8) + bibun.tensor(1, dtype=bibun.int64)", "uint8"),
    ("bibun.ones(2, dtype=bibun.bool) + bibun.tensor(1, dtype=bibun.int32)", "int32"),
    ("bibun.ones(2, dtype=bibun.bool) + bibun.tensor(1.0, dtype=bibun.float64)", "float64"),
    ("bibun.tensor(1, dtype=bibun.int64) + bibun.tensor(1, dtype=bibun.int32)", "int64"),
    ("bibun.tensor(1.0, dtype=bibun.float64) * bibun.tensor(1.0)", "float64"),
    ("bibun.ones(2, dtype=bibun.float32) + bibun.ones((), dtype=bibun.int64)", "float32"),
    ("bibun.ones((), dtype=bibun.float32) + bibun.ones(2, dtype=bibun.int64)", "float32"),
    ("bibun.ones((), dtype=bibun.float64) + bibun.ones((), dtype=bibun.float32)", "float64"),
    ("bibun.ones(2, dtype=bibun.int64) * 2 ** 40", "int64"),
    ("bibun.ones(2, dtype=bibun.float64) - 1", "float64"),
    ("1 - bibun.ones(2, dtype=bibun.int32)", "int32"),
    ("bibun.ones(2, dtype=bibun.int32) - 1.5", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).add(bibun.ones(2, dtype=bibun.int32), alpha=2)", "int32"),
    # division is always floating
    ("bibun.ones(2, dtype=bibun.int32) / 2", "float32"),
    ("2 / bibun.ones(2, dtype=bibun.int32)", "float32"),
    ("bibun.ones(2, dtype=bibun.int32) / bibun.tensor(2.0, dtype=bibun.float64)", "float64"),
    ("bibun.ones(2) / bibun.ones(2, dtype=bibun.float64)", "float64"),
    ("bibun.ones(2, dtype=bibun.int64) // 2", "int64"),
    # pow in its three forms
    ("bibun.ones(2, dtype=bibun.int32) ** bibun.tensor(2.0)", "float32"),
    ("bibun.ones(2) ** bibun.tensor(2, dtype=bibun.int64)", "float32"),
    ("bibun.pow(2, bibun.ones(2, dtype=bibun.int32))", "int32"),
    # comparisons
    ("bibun.ones(2, dtype=bibun.int32) == 1.5", "bool"),
    ("bibun.ones(2) > bibun.ones(2, dtype=bibun.float64)", "bool"),
    # unary math: integral inputs compute in the default float; abs/neg/sign/relu keep the dtype
    ("bibun.ones(2, dtype=bibun.int32).sqrt()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).sigmoid()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).tanh()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).log()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).rsqrt()", "float32"),
    ("bibun.ones(2, dtype=bibun.bool).exp()", "float32"),
    ("bibun.ones(2, dtype=bibun.int64).reciprocal()", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).abs()", "int32"),
    ("-bibun.ones(2, dtype=bibun.int32)", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).sign()", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).relu()", "int32"),
    # binary selection
    ("bibun.maximum(bibun.ones(2, dtype=bibun.int32), bibun.ones(2))", "float32"),
    ("bibun.where(bibun.ones(2, dtype=bibun.bool), bibun.ones(2, dtype=bibun.int32), 2.5)", "float32"),
    ("bibun.where(bibun.ones(2, dtype=bibun.bool), bibun.ones(2, dtype=bibun.float64), bibun.ones(2))", "float64"),
    ("bibun.ones(2, dtype=bibun.int32).clamp(0.5)", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).clamp(0, 1)", "int32"),
    ("bibun.ones(2).clamp(0, 1)", "float32"),
    # reductions
    ("bibun.ones(2, dtype=bibun.int64).prod()", "int64"),
    ("bibun.ones(2, dtype=bibun.int16).prod()", "int64"),
    ("bibun.ones(2, dtype=bibun.int32).sum(0)", "int64"),
    ("bibun.ones(2, dtype=bibun.uint8).sum()", "int64"),
    ("bibun.ones(2, dtype=bibun.float16).sum()", "float16"),
    ("bibun.ones(2, dtype=bibun.int64).sum(dtype=bibun.float32)", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).max()", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).amax()", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).max(0).values", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).logsumexp(0)", "float32"),
    ("bibun.ones(2, dtype=bibun.int32).mean(dtype=bibun.float64)", "float64"),
    ("bibun.ones(2, dtype=bibun.int32).softmax(0, dtype=bibun.float64)", "float64"),
    ("bibun.ones(2, dtype=bibun.int64) @ bibun.ones(2, dtype=bibun.int64)", "int64"),
    # shape ops
    ("bibun.cat([bibun.ones(2, dtype=bibun.int32), bibun.ones(2)])", "float32"),
    ("bibun.stack([bibun.ones(2, dtype=bibun.int32), bibun.ones(2, dtype=bibun.float64)])", "float64"),
    ("bibun.ones(2, dtype=bibun.int32).flip(0)", "int32"),
    ("bibun.ones(2, dtype=bibun.int32).to(bibun.float16)", "float16"),
]


@pytest.mark.parametrize("case", RESULT_DTYPES, ids=[c[0].replace("bibun.", "") for c in RESULT_DTYPES])
def test_result_dtype(case, device):
    expr, expected = case
    out = eval(expr, {"bibun": bibun})  # noqa: S307 - fixed expressions above
    assert out.dtype is getattr(bibun, expected)


# PyTorch's promote_types table over bibun's dtypes
_NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
PROMOTE_TYPES = {
    "bool": ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"],
    "uint8": ["uint8", "uint8", "int16", "int16", "int32", "int64", "float16", "float32", "float64"],
    "int8": ["int8", "int16", "int8", "int16", "int32", "int64", "float16", "float32", "float64"],
    "int16": ["int16", "int16", "int16", "int16", "int32", "int64", "float16", "float32", "float64"],
    "int32": ["int32", "int32", "int32", "int32", "int32", "int64", "float16", "float32", "float64"],
    "int64": ["int64", "int64", "int64", "int64", "int64", "int64", "float16", "float32", "float64"],
    "float16": ["float16", "float16", "float16", "float16", "float16", "float16", "float16", "float32", "float64"],
    "float32": ["float32", "float32", "float32", "float32", "float32", "float32", "float32", "float32", "float64"],
    "float64": ["float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64", "float64"],
}


@pytest.mark.parametrize("a", _NAMES)
def test_promote_types_table(a):
    got = [bibun.promote_types(getattr(bibun, a), getattr(bibun, b)).name for b in _NAMES]
    assert got == PROMOTE_TYPES[a]


def test_promoted_values(device):
    assert (bibun.tensor([5, -7], device=device) / bibun.tensor([2, 2], device=device)).tolist() == [2.5, -3.5]
    assert (2 ** bibun.tensor([3, 0, 10], device=device)).tolist() == [8, 1, 1024]
    assert (bibun.ones(2, dtype=bibun.int64, device=device) * 2 ** 40).tolist() == [2 ** 40] * 2
    b = bibun.tensor([True, False], device=device)
    assert (b + b).tolist() == [True, False]
    assert (b + 1).tolist() == [2, 1]
    assert (bibun.tensor([1, 2], dtype=bibun.int32, device=device).clamp(1.5)).tolist() == [1.5, 2.0]


def test_default_dtype_drives_scalar_promotion(device):
    bibun.set_default_dtype(bibun.float64)
    try:
        assert (bibun.ones(2, dtype=bibun.int64, device=device) + 2.5).dtype is bibun.float64
        assert bibun.ones(2, dtype=bibun.int32, device=device).exp().dtype is bibun.float64
        assert (bibun.ones(2, dtype=bibun.int32, device=device) / 2).dtype is bibun.float64
        assert bibun.ones(2, dtype=bibun.int32, device=device).clamp(0.5).dtype is bibun.float64
        assert (bibun.ones(2, dtype=bibun.float32, device=device) * 2.5).dtype is bibun.float32
    finally:
        bibun.set_default_dtype(bibun.float32)


def test_out_of_range_python_int_wraps(device):
    assert (bibun.ones(2, dtype=bibun.int8, device=device) + 1000).tolist() == [-23, -23]


@pytest.mark.parametrize("expr", ["x.mean()", "x.mean(0)", "bibun.mean(x)"])
def test_mean_of_int_raises(expr, device):
    x = bibun.ones(2, dtype=bibun.int64, device=device)
    msg = ("mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
           "Got: Long")
    with pytest.raises(RuntimeError, match=f"^{re.escape(msg)}$"):
        eval(expr, {"bibun": bibun, "x": x})  # noqa: S307


def test_var_std_norm_of_int_raise(device):
    x = bibun.ones(2, dtype=bibun.int32, device=device)
    with pytest.raises(RuntimeError, match="^std and var only support floating point and complex dtypes$"):
        x.var()
    with pytest.raises(RuntimeError, match="^std and var only support floating point and complex dtypes$"):
        x.std()
    with pytest.raises(RuntimeError, match=re.escape(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Int")):
        x.norm()


@pytest.mark.parametrize("fn, kernel", [("softmax", "softmax_lastdim_kernel_impl"),
                                        ("log_softmax", "log_softmax_lastdim_kernel_impl")])
def test_softmax_of_int_raises(fn, kernel, device):
    x = bibun.ones(2, 3, dtype=bibun.int32, device=device)
    with pytest.raises(NotImplementedError, match=re.escape(f'"{kernel}" not implemented for \'Int\'')):
        getattr(x, fn)(1)
    with pytest.raises(NotImplementedError, match=re.escape(f'"{kernel.replace("_lastdim", "")}" not implemented')):
        getattr(x, fn)(0)


@pytest.mark.parametrize("a, b, expected", [
    (1.0, 0.0, "tensor([1., 0.])"), (1, 0, "tensor([1, 0])"), (True, False, "tensor([ True, False])"),
    (1, 0.5, "tensor([1.0000, 0.5000])"),
])
def test_where_with_two_python_scalars(a, b, expected, device, repr_on):
    # PyTorch 2.13: the result dtype comes from the scalars alone (floats -> the default dtype)
    assert repr(bibun.where(bibun.tensor([True, False]), a, b)) == repr_on(expected)
