"""PyTorch's exception type and message for shape, dim and dtype mistakes, and the input left as it was.

Every (expression, type, message) below was produced by PyTorch 2.13, with ``torch.``
written as ``bibun.``. Inputs are made by a recording ``ones`` (distinct values, not ones)
so the test can check that a failing op changed none of them.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import bibun


# (expression, PyTorch's exception type, PyTorch's message)
ERRORS = [
    ("bibun.ones(2, 3) @ bibun.ones(4, 5)", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("bibun.mm(bibun.ones(2, 3), bibun.ones(4, 5))", RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("bibun.ones(2, 3).mm(bibun.ones(3))", RuntimeError, "mat2 must be a matrix"),
    ("bibun.mm(bibun.ones(3), bibun.ones(3, 3))", RuntimeError, "self must be a matrix"),
    ("bibun.ones(3) @ bibun.ones(4)", RuntimeError,
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but "
     "got 3 and 4 elements respectively"),
    ("bibun.dot(bibun.ones(3), bibun.ones(4))", RuntimeError,
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of elements, but "
     "got 3 and 4 elements respectively"),
    ("bibun.dot(bibun.ones(3, 1), bibun.ones(3))", RuntimeError, "1D tensors expected, but got 2D and 1D tensors"),
    ("bibun.ones(2, 3) @ bibun.ones(4)", RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("bibun.mv(bibun.ones(2, 3), bibun.ones(4))", RuntimeError, "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("bibun.mv(bibun.ones(3), bibun.ones(3))", RuntimeError, "vector + matrix @ vector expected, got 1, 1, 1"),
    ("bibun.ones(3) @ bibun.ones(4, 5)", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ("bibun.bmm(bibun.ones(2, 2, 3), bibun.ones(2, 4, 5))", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("bibun.bmm(bibun.ones(2, 2, 3), bibun.ones(3, 3, 5))", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
    ("bibun.bmm(bibun.ones(2, 3), bibun.ones(2, 3, 3))", RuntimeError, "batch1 must be a 3D tensor"),
    ("bibun.bmm(bibun.ones(2, 2, 3), bibun.ones(3, 3))", RuntimeError, "batch2 must be a 3D tensor"),
    ("bibun.ones(2, 2, 3) @ bibun.ones(2, 4, 5)", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("bibun.ones(2, 2, 3) @ bibun.ones(3, 3, 2)", RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ("bibun.ones(4, 2, 2, 3) @ bibun.ones(3, 3, 2)", RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 1"),
    ("bibun.ones(2, 2, 3) @ bibun.ones(4, 5)", RuntimeError, "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)"),
    ("bibun.ones(2, 2, 3) @ bibun.ones(4)", RuntimeError, "size mismatch, got input (4), mat (4x3), vec (4)"),
    ("bibun.ones(2, 3) @ bibun.ones(2, 4, 5)", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("bibun.ones(2, 3, requires_grad=True) @ bibun.ones(2, 4, 5)", RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)"),
    ("bibun.ones(3) @ bibun.ones(2, 4, 5)", RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("bibun.ones(3, requires_grad=True) @ bibun.ones(2, 4, 5)", RuntimeError,
     "size mismatch, got input (10), mat (10x4), vec (3)"),
    ("bibun.ones(()) @ bibun.ones(3)", RuntimeError,
     "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("bibun.ones(3) @ bibun.ones(())", RuntimeError,
     "both arguments to matmul need to be at least 1D, but they are 1D and 0D"),
    ("bibun.ones(2, 3) @ bibun.ones(3, 4, dtype=bibun.float64)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("bibun.ones(2, 3, dtype=bibun.float64) @ bibun.ones(3, 4)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: double != float"),
    ("bibun.ones(2, 3, dtype=bibun.int64) @ bibun.ones(3, 4)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: long int != float"),
    ("bibun.ones(2, 3, dtype=bibun.float16) @ bibun.ones(3, 4)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: c10::Half != float"),
    ("bibun.ones(3) @ bibun.ones(3, dtype=bibun.float64)", RuntimeError,
     "dot : expected both vectors to have same dtype, but found Float and Double"),
    ("bibun.ones(2, 3) @ bibun.ones(3, dtype=bibun.float64)", RuntimeError,
     "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    ("bibun.ones(2, 2, 3) @ bibun.ones(2, 3, 2, dtype=bibun.float64)", RuntimeError,
     "expected scalar type Float but found Double"),
    ("bibun.ones(2, 2, 3) @ bibun.ones(3, 2, dtype=bibun.float64)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("bibun.ones(3) @ bibun.ones(3, 2, dtype=bibun.float64)", RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("bibun.bmm(bibun.ones(2, 2, 3, dtype=bibun.float64), bibun.ones(2, 3, 2))", RuntimeError,
     "expected scalar type Double but found Float"),
    ("bibun.ones(2, 3) + bibun.ones(2, 4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.ones(3, 3) * bibun.ones(4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.ones(5, 2, 3) - bibun.ones(4, 1, 1)", RuntimeError,
     "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 0"),
    ("bibun.ones(2, 3) / bibun.ones(2, 4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.ones(2, 3) ** bibun.ones(2, 4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.maximum(bibun.ones(2, 3), bibun.ones(2, 4))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.minimum(bibun.ones(3), bibun.ones(2))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0"),
    ("bibun.ones(2, 3) < bibun.ones(2, 4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.ones(2, 3) == bibun.ones(4)", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.where(bibun.ones(3, dtype=bibun.bool), bibun.ones(2, 3), bibun.ones(4))", RuntimeError,
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    ("bibun.ones(2, 3).expand_as(bibun.ones(2, 4))", RuntimeError,
     "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  "
     "Target sizes: [2, 4].  Tensor sizes: [2, 3]"),
    ("bibun.ones(3).reshape(4, 2)", RuntimeError, "shape '[4, 2]' is invalid for input of size 3"),
    ("bibun.ones(3).reshape(-1, 2)", RuntimeError, "shape '[-1, 2]' is invalid for input of size 3"),
    ("bibun.ones(3).view(4, 2)", RuntimeError, "shape '[4, 2]' is invalid for input of size 3"),
    ("bibun.ones(6).view(-1, -1)", RuntimeError, "only one dimension can be inferred"),
    ("bibun.ones(6).reshape(-1, -1)", RuntimeError, "only one dimension can be inferred"),
    ("bibun.ones(6).view(-2, 3)", RuntimeError, "invalid shape dimension -2 at index 0 of shape [-2, 3]"),
    ("bibun.ones(0).reshape(-1, 0)", RuntimeError,
     "cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified dimension size -1 "
     "can be any value and is ambiguous"),
    ("bibun.ones(6).reshape(0, -1)", RuntimeError, "shape '[0, -1]' is invalid for input of size 6"),
    ("bibun.ones(2, 3).t().view(6)", RuntimeError,
     "view size is not compatible with input tensor's size and stride (at least one dimension spans "
     "across two contiguous subspaces). Use .reshape(...) instead."),
    ("bibun.ones(2, 3).flatten(1, 0)", RuntimeError, "flatten() has invalid args: start_dim cannot come after end_dim"),
    ("bibun.ones(2, 3).sum(5)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.ones(2, 3).sum(-3)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ("bibun.ones(2, 3).sum((0, 5))", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.ones(2, 3).sum((0, 0))", RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("bibun.ones(2, 3).mean(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).prod(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).max(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).amax(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).argmax(2)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).var(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).std(-3)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ("bibun.ones(2, 3).logsumexp(2)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).norm(dim=2)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).softmax(5)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.ones(2, 3).log_softmax(-3)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got -3)"),
    ("bibun.ones(2, 3).transpose(0, 5)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.ones(2, 3).unsqueeze(5)", IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 5)"),
    ("bibun.ones(2, 3).unsqueeze(-4)", IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got -4)"),
    ("bibun.ones(2, 3).squeeze(5)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.ones(2, 3).flip(2)", IndexError, "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).flatten(2)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.ones(2, 3).permute(0, 5)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 5)"),
    ("bibun.cat([bibun.ones(2, 3)], 2)", IndexError,
     "Dimension out of range (expected to be in range of [-2, 1], but got 2)"),
    ("bibun.stack([bibun.ones(2, 3)], 3)", IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 3)"),
    ("bibun.ones(4).split(2, 1)", IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("bibun.ones(4).chunk(2, 1)", IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("bibun.ones(()).sum(1)", IndexError, "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    ("bibun.ones(()).softmax(-2)", IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got -2)"),
    ("bibun.ones(2, 3).squeeze((0, 0))", RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("bibun.ones(2, 3).flip(0, -2)", RuntimeError, "dim 0 appears multiple times in the list of dims"),
    ("bibun.cat([bibun.ones(2, 3), bibun.ones(2, 4)])", RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number "
     "1 in the list."),
    ("bibun.cat([bibun.ones(2, 3), bibun.ones(2, 4)], 0)", RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 4 for tensor number "
     "1 in the list."),
    ("bibun.cat([bibun.ones(2, 3), bibun.ones(3, 3)], 1)", RuntimeError,
     "Sizes of tensors must match except in dimension 1. Expected size 2 but got size 3 for tensor number "
     "1 in the list."),
    ("bibun.cat([])", ValueError, "bibun.cat(): expected a non-empty list of Tensors"),
    ("bibun.cat([bibun.ones(2, 3), bibun.ones(3)])", RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 1"),
    ("bibun.cat([bibun.ones(2, 3), bibun.ones(2, 3, 1)], 1)", RuntimeError,
     "Tensors must have same number of dimensions: got 2 and 3"),
    ("bibun.stack([bibun.ones(2, 3), bibun.ones(2, 4)])", RuntimeError,
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [2, 4] at entry 1"),
    ("bibun.stack([])", RuntimeError, "stack expects a non-empty TensorList"),
    ("bibun.stack([bibun.ones(2, 3), bibun.ones(3, 2)], 1)", RuntimeError,
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1"),
    ("bibun.stack([bibun.ones(3), bibun.ones(3), bibun.ones(4)])", RuntimeError,
     "stack expects each tensor to be equal size, but got [3] at entry 0 and [4] at entry 2"),
    ("bibun.ones(2, 3).expand(2, 4)", RuntimeError,
     "The expanded size of the tensor (4) must match the existing size (3) at non-singleton dimension 1.  "
     "Target sizes: [2, 4].  Tensor sizes: [2, 3]"),
    ("bibun.ones(2, 3).expand(3)", RuntimeError,
     "expand(bibun.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1) must be greater or "
     "equal to the number of dimensions in the tensor (2)"),
    ("bibun.ones(2, 3).expand(4, 3, 3)", RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 1.  "
     "Target sizes: [4, 3, 3].  Tensor sizes: [2, 3]"),
    ("bibun.ones(2, 3).expand(-1, 2, 3)", RuntimeError,
     "The expanded size of the tensor (-1) isn't allowed in a leading, non-existing dimension 0"),
    ("bibun.ones(2, 3).permute(0)", RuntimeError,
     "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
     "desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 1"),
    ("bibun.ones(2, 3).permute(0, 1, 2)", RuntimeError,
     "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
     "desired ordering of dimensions i.e. input.dim() = 2 is not equal to len(dims) = 3"),
    ("bibun.ones(2, 3).permute(0, 0)", RuntimeError, "permute(): duplicate dims are not allowed."),
    ("bibun.ones(2, 3).repeat(2)", RuntimeError,
     "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"),
    ("bibun.ones(2, 3).repeat(2, -1)", RuntimeError, "Trying to create tensor with negative dimension -3: [4, -3]"),
    ("bibun.ones(2, 3).split(0)", RuntimeError,
     "split_size can only be 0 if dimension size is 0, but got dimension size of 2"),
    ("bibun.ones(2, 3).chunk(0)", RuntimeError, "chunk expects `chunks` to be greater than 0, got: 0"),
    ("bibun.ones(3).mT", RuntimeError,
     "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."),
    ("bibun.ones(2, 2, 3).t()", RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is 3D"),
    ("bibun.ones(()).unbind(0)", IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ("bibun.ones(()).split(1)", RuntimeError, "split expects at least a 1-dimensional tensor"),
    ("bibun.ones(()).chunk(1)", RuntimeError, "chunk expects at least a 1-dimensional tensor"),
    ("bibun.cat([bibun.ones(2), bibun.ones(())])", RuntimeError,
     "zero-dimensional tensor (at position 1) cannot be concatenated"),
    ("bibun.ones(2, 3).split([1, 1], 1)", RuntimeError,
     "split_with_sizes expects split_sizes to sum exactly to 3 (input tensor's size at dimension 1), but "
     "got split_sizes=[1, 1]"),
    ("bibun.ones(2, 0).max(-1)", IndexError, "max(): Expected reduction dim 1 to have non-zero size."),
    ("bibun.ones(2, 0).min(-1)", IndexError, "min(): Expected reduction dim 1 to have non-zero size."),
    ("bibun.ones(2, 0).argmax(-1)", IndexError, "argmax(): Expected reduction dim 1 to have non-zero size."),
    ("bibun.ones(2, 0).amax(-1)", IndexError, "amax(): Expected reduction dim -1 to have non-zero size."),
    ("bibun.ones(0, 2).amin((1, -2))", IndexError, "amin(): Expected reduction dim -2 to have non-zero size."),
    ("bibun.ones(2, 3, dtype=bibun.int64).mean()", RuntimeError,
     "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
     "Got: Long"),
    ("bibun.ones(2, 3, dtype=bibun.int64).mean(1)", RuntimeError,
     "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
     "Got: Long"),
    ("bibun.ones(2, 3, dtype=bibun.int32).var()", RuntimeError,
     "std and var only support floating point and complex dtypes"),
    ("bibun.ones(2, 3, dtype=bibun.int32).norm()", RuntimeError,
     "linalg.vector_norm: Expected a floating point or complex tensor as input. Got Int"),
    ("-bibun.ones(2, dtype=bibun.bool)", RuntimeError,
     "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
     "use the `~` or `logical_not()` operator instead."),
    ("bibun.ones(2, dtype=bibun.int64) ** -1", RuntimeError, "Integers to negative integer powers are not allowed."),
    ("bibun.where(bibun.ones(2), bibun.ones(2), bibun.ones(2))", RuntimeError,
     "where expected condition to be a boolean tensor, but got a tensor with dtype Float"),
]


class _Recorder:
    """``bibun`` for the expressions above, with ``ones`` recording the tensors it makes."""

    def __init__(self, device):
        self.made = []
        self.device = device

    def ones(self, *shape, dtype=None, requires_grad=False):
        shape = shape[0] if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        n = int(np.prod(shape, dtype=np.int64))
        t = (bibun.arange(n, device=self.device) % 5 + 1).reshape(shape).to(dtype or bibun.float32)
        t.requires_grad_(requires_grad)
        self.made.append((t, t.detach().cpu().numpy().copy(), t._version[0]))
        return t

    def __getattr__(self, name):
        return getattr(bibun, name)


@pytest.mark.parametrize("case", ERRORS, ids=[c[0].replace("bibun.", "") for c in ERRORS])
def test_error_type_message_and_inputs_unchanged(case, device):
    expr, exc, msg = case
    ns = _Recorder(device)
    with pytest.raises(exc, match=f"^{re.escape(msg)}$"):
        eval(expr, {"bibun": ns})  # noqa: S307 - fixed expressions above
    for t, before, version in ns.made:
        np.testing.assert_array_equal(t.detach().cpu().numpy(), before)
        assert t._version[0] == version and t.grad is None


BOOL_SUB = "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, " \
           "use the `~` or `logical_not()` operator instead."


@pytest.mark.parametrize("expr, msg", [
    ("bibun.ones(2, dtype=bibun.bool) - 1", BOOL_SUB),
    ("1 - bibun.ones(2, dtype=bibun.bool)", BOOL_SUB),
    ("bibun.ones(2) - True", BOOL_SUB),
    ("bibun.ones(2, dtype=bibun.bool) - bibun.ones(2, dtype=bibun.bool)",
     "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` "
     "operator instead."),
])
def test_bool_subtraction_raises(expr, msg, device):
    with pytest.raises(RuntimeError, match=f"^{re.escape(msg)}$"):
        eval(expr, {"bibun": bibun})  # noqa: S307
