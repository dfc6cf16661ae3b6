"""Shape ops: view reshape flatten transpose permute unsqueeze squeeze expand repeat cat stack split
chunk flip clone contiguous, and dtype conversion (``to``).

Views (view, transpose, permute, unsqueeze, squeeze, expand, split) share memory and the
version counter with their base, as in PyTorch; flip, repeat, cat and stack copy.
"""

from __future__ import annotations

import math

from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import c_contiguous
from .reduction import sum_to_size
from ._util import canonical_dim, shape_arg

__all__ = ["reshape", "view", "flatten", "transpose", "permute", "unsqueeze", "squeeze", "expand", "repeat",
           "cat", "stack", "split", "chunk", "flip", "clone", "contiguous", "to_dtype"]


def infer_shape(shape, numel):
    """Resolve one ``-1`` in ``shape``; PyTorch's errors (``infer_size``) for a bad shape."""
    shape = list(shape)
    infer = None
    known = 1
    for i, s in enumerate(shape):
        if s == -1:
            if infer is not None:
                raise RuntimeError("only one dimension can be inferred")
            infer = i
        elif s >= 0:
            known *= s
        else:
            raise RuntimeError(f"invalid shape dimension {s} at index {i} of shape {shape}")
    if numel == known or (infer is not None and known > 0 and numel % known == 0):
        if infer is not None:
            if known == 0:
                raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {shape} because the unspecified "
                                   "dimension size -1 can be any value and is ambiguous")
            shape[infer] = numel // known
        return tuple(shape)
    raise RuntimeError(f"shape '{shape}' is invalid for input of size {numel}")


# ---------------------------------------------------------------------- view / reshape
view_op = OpDef("view", type_rule="none", node_name="ViewBackward0", view=True)


@view_op.impl
def _(xp, a, shape, copy=None):
    try:
        return xp.reshape(a, shape, copy=copy)
    except AttributeError as exc:  # array-api-strict refuses so, where the standard says ValueError
        if a.size == 0:  # ... and refuses even an empty array, which any shape views without a copy
            return xp.reshape(a, shape)
        raise ValueError(str(exc)) from None


@view_op.backward
def _(ctx, grad):
    return grad.reshape(ctx.input_shape())


def reshape(input, *shape):  # noqa: A002
    """A view when the memory layout allows, else a copy (PyTorch's ``reshape``)."""
    target = infer_shape(shape_arg(shape), input._data.size)
    if target == input._data.shape:
        return view_op(input, shape=target) if input._requires_grad else _alias_same(input)
    try:
        return view_op(input, shape=target, copy=False)
    except ValueError:  # the layout needs a copy: PyTorch's _unsafe_view(clone(input))
        return unsafe_view(clone_op(input), shape=target)


unsafe_view = OpDef("unsafe_view", type_rule="none", node_name="UnsafeViewBackward0",
                    doc="reshape of a fresh tensor, recorded as a copy (not a view)")


@unsafe_view.impl
def _(xp, a, shape):
    return xp.reshape(a, shape)


@unsafe_view.backward
def _(ctx, grad):
    return grad.reshape(ctx.input_shape())


def _alias_same(input):  # noqa: A002
    t = Tensor._make(input._data, input._backend)
    t._base = input._base if input._base is not None else input
    t._version = input._version
    t._view_src = (input, None, None, None)
    return t


def view(input, *shape):  # noqa: A002
    """Same data, new shape; refuses (as PyTorch does) when that needs a copy."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not isinstance(shape[0], Tensor):
        from .. import dtypes as _dt
        if isinstance(shape[0], _dt.dtype):
            raise RuntimeError("view(dtype) is not supported by bibun; use .to(dtype)")
    target = infer_shape(shape_arg(shape), input._data.size)
    try:
        return view_op(input, shape=target, copy=False)
    except ValueError:
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one dimension spans across "
            "two contiguous subspaces). Use .reshape(...) instead.") from None


def flatten(input, start_dim=0, end_dim=-1):  # noqa: A002
    shape = input._data.shape
    if not shape:
        return reshape(input, (1,))
    s = canonical_dim(start_dim, len(shape))
    e = canonical_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return input
    return reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim, sizes):  # noqa: A002
    shape = input._data.shape
    d = canonical_dim(dim, len(shape))
    sizes = infer_shape(tuple(sizes), shape[d])
    return view(input, shape[:d] + sizes + shape[d + 1:])


# ---------------------------------------------------------------------- transpose / permute
transpose_op = OpDef("transpose", type_rule="none", view=True)


@transpose_op.impl
def _(xp, a, dim0, dim1):
    axes = list(range(a.ndim))
    if dim0 != dim1:  # (a 0-dim tensor only has transpose(0, 0))
        axes[dim0], axes[dim1] = axes[dim1], axes[dim0]
    return xp.permute_dims(a, tuple(axes))


@transpose_op.backward
def _(ctx, grad):
    return grad.transpose(ctx.dim0, ctx.dim1)


def transpose(input, dim0, dim1):  # noqa: A002
    n = input.ndim
    return transpose_op(input, dim0=canonical_dim(dim0, n), dim1=canonical_dim(dim1, n))


t_op = OpDef("t", type_rule="none", view=True, node_name="TBackward0")


@t_op.impl
def _(xp, a):
    return xp.permute_dims(a, tuple(reversed(range(a.ndim))))


@t_op.backward
def _(ctx, grad):
    return t(grad)


def t(input):  # noqa: A002
    """``input.t()``: the transpose of a matrix; 0-D and 1-D tensors come back as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return t_op(input)


permute_op = OpDef("permute", type_rule="none", view=True)


@permute_op.impl
def _(xp, a, dims):
    return xp.permute_dims(a, dims)


@permute_op.backward
def _(ctx, grad):
    inverse = [0] * len(ctx.dims)
    for i, d in enumerate(ctx.dims):
        inverse[d] = i
    return grad.permute(tuple(inverse))


def permute(input, *dims):  # noqa: A002
    dims = shape_arg(dims)
    n = input.ndim
    if len(dims) != n:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired "
            f"ordering of dimensions i.e. input.dim() = {n} is not equal to len(dims) = {len(dims)}")
    dims = tuple(canonical_dim(d, n) for d in dims)
    if len(set(dims)) != n:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return permute_op(input, dims=dims)


# ---------------------------------------------------------------------- unsqueeze / squeeze
unsqueeze_op = OpDef("unsqueeze", type_rule="none", view=True)


@unsqueeze_op.impl
def _(xp, a, dim):
    return xp.expand_dims(a, axis=dim)


@unsqueeze_op.backward
def _(ctx, grad):
    return grad.squeeze(ctx.dim)


def unsqueeze(input, dim):  # noqa: A002
    return unsqueeze_op(input, dim=canonical_dim(dim, input.ndim + 1))


squeeze_all = OpDef("squeeze", type_rule="none", view=True, node_name="SqueezeBackward0")
squeeze_dim = OpDef("squeeze_dim", type_rule="none", view=True, node_name="SqueezeBackward1")
squeeze_dims = OpDef("squeeze_dims", type_rule="none", view=True, node_name="SqueezeBackward2")
# ``squeeze_(dim)``'s node: matmul of a 1-D by a 2-D tensor ends with it, as in PyTorch
squeeze_dim_ = OpDef("squeeze_dim_", type_rule="none", view=True, node_name="SqueezeBackward4")


def _squeeze_kernel(xp, a, dims):
    return xp.reshape(a, tuple(s for i, s in enumerate(a.shape) if not (i in dims and s == 1)))


def _squeeze_backward(ctx, grad):
    return grad.reshape(ctx.input_shape())


for _op in (squeeze_all, squeeze_dim, squeeze_dims, squeeze_dim_):
    _op.impl(_squeeze_kernel)
    _op.backward(_squeeze_backward)


def squeeze(input, dim=None):  # noqa: A002
    n = input.ndim
    if dim is None:
        return squeeze_all(input, dims=tuple(range(n)))
    if isinstance(dim, int):
        return squeeze_dim(input, dims=(canonical_dim(dim, n),))
    return squeeze_dims(input, dims=_distinct_dims(dim, n))


def _distinct_dims(dims, ndim):
    out = tuple(canonical_dim(d, ndim) for d in dims)
    for i, d in enumerate(out):
        if d in out[:i]:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    return out


# ---------------------------------------------------------------------- expand / repeat
expand_op = OpDef("expand", type_rule="none", view=True)


@expand_op.impl
def _(xp, a, shape):
    return xp.broadcast_to(a, shape)


@expand_op.backward
def _(ctx, grad):
    return sum_to_size(grad, tuple(ctx.input_shape()))


def expand(input, *sizes):  # noqa: A002
    sizes = shape_arg(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand(bibun.{input.dtype._legacy}{{{list(shape)}}}, size={list(sizes)}): the number of sizes provided "
            f"({len(sizes)}) must be greater or equal to the number of dimensions in the tensor ({len(shape)})")
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, non-existing dimension {i}")
            target.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        if have != s and have != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({s}) must match the existing size ({have}) at non-singleton "
                f"dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: {list(shape)}")
        target.append(s)
    target = tuple(target)
    if target == shape and not input._requires_grad:
        return _alias_same(input)
    return expand_op(input, shape=target)


repeat_op = OpDef("repeat", type_rule="none")


@repeat_op.impl
def _(xp, a, repeats):
    a = xp.reshape(a, (1,) * (len(repeats) - a.ndim) + tuple(a.shape))
    return xp.tile(a, repeats)


@repeat_op.backward
def _(ctx, grad):
    repeats = ctx.repeats
    shape = tuple(ctx.input_shape())
    padded = (1,) * (len(repeats) - len(shape)) + shape
    interleaved = []
    for r, s in zip(repeats, padded, strict=True):
        interleaved += [r, s]
    g = grad.reshape(interleaved).sum(tuple(range(0, 2 * len(repeats), 2)))
    return g.reshape(shape)


def repeat(input, *repeats):  # noqa: A002
    repeats = shape_arg(repeats)
    if len(repeats) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor")
    padded = (1,) * (len(repeats) - input.ndim) + tuple(input.shape)
    target = [r * s for r, s in zip(repeats, padded, strict=True)]
    for size in target:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {target}")
    return repeat_op(input, repeats=repeats)


# ---------------------------------------------------------------------- cat / stack / split / chunk
cat_op = OpDef("cat", inputs=("*tensors",), type_rule="promote")


@cat_op.impl
def _(xp, *arrays, dim):
    return xp.concat(arrays, axis=dim)


@cat_op.backward
def _(ctx, grad):
    sizes = [m[0][ctx.dim] if m[0] else 1 for m in ctx._meta]
    return tuple(grad.split(sizes, ctx.dim))


def _tensor_list(name, tensors):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}(): argument 'tensors' must be tuple of Tensors, not Tensor")
    tensors = list(tensors)
    if not tensors:
        if name == "stack":
            raise RuntimeError("stack expects a non-empty TensorList")
        raise ValueError(f"bibun.{name}(): expected a non-empty list of Tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}(): expected Tensor as element in argument 0, but got {type(t).__name__}")
    return tensors


def cat(tensors, dim=0):
    tensors = _tensor_list("cat", tensors)
    for i, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]  # PyTorch skips [] legacy
    ref = tensors[0]
    d = canonical_dim(dim, ref.ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {ref.ndim} and {t.ndim}")
        for k in range(ref.ndim):
            if k != d and t.shape[k] != ref.shape[k]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {ref.shape[k]} but got size "
                    f"{t.shape[k]} for tensor number {i} in the list.")
    if len(tensors) == 1:
        return cat_op(tensors[0], dim=d)
    return cat_op(*tensors, dim=d)


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = _tensor_list("stack", tensors)
    ref = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != ref:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(ref)} at entry 0 and "
                               f"{list(t.shape)} at entry {i}")
    d = canonical_dim(dim, len(ref) + 1)
    return stack_op(*tensors, dim=d)


stack_op = OpDef("stack", inputs=("*tensors",), type_rule="promote")


@stack_op.impl
def _(xp, *arrays, dim):
    return xp.stack(arrays, axis=dim)


@stack_op.backward
def _(ctx, grad):
    return tuple(grad.select(ctx.dim, i) for i in range(len(ctx._meta)))


split_op = OpDef("split", type_rule="none", outputs=-1, view=True, node_name="SplitBackward0")
split_sizes_op = OpDef("split_with_sizes", type_rule="none", outputs=-1, view=True,
                       node_name="SplitWithSizesBackward0")


def _split_kernel(xp, a, sizes, dim):
    out = []
    start = 0
    index = [slice(None)] * a.ndim
    for s in sizes:
        index[dim] = slice(start, start + s)
        out.append(a[tuple(index)])
        start += s
    return tuple(out)


split_op.impl(_split_kernel)
split_sizes_op.impl(_split_kernel)


def _split_backward(ctx, *grads):
    return cat(list(grads), ctx.dim)


split_op.backward(_split_backward)
split_sizes_op.backward(_split_backward)


def split(tensor, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` (the last may be smaller), or of the given sizes."""
    if tensor.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = canonical_dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0 and n:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if size else [0]
        return split_op(tensor, sizes=tuple(sizes), dim=d)
    sizes = tuple(int(s) for s in split_size_or_sections)
    if sum(sizes) != n:
        raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size at "
                           f"dimension {d}), but got split_sizes={list(sizes)}")
    return split_sizes_op(tensor, sizes=sizes, dim=d)


def chunk(input, chunks, dim=0):  # noqa: A002
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = canonical_dim(dim, input.ndim)
    n = input.shape[d]
    if n == 0:  # PyTorch: `chunks` empty pieces
        return split_sizes_op(input, sizes=(0,) * chunks, dim=d)
    return split(input, -(-n // chunks), d)


unbind_op = OpDef("unbind", type_rule="none", outputs=-1, view=True)


@unbind_op.impl
def _(xp, a, dim):
    index = [slice(None)] * a.ndim
    out = []
    for i in range(a.shape[dim]):
        index[dim] = i
        out.append(a[tuple(index)])
    return tuple(out)


@unbind_op.backward
def _(ctx, *grads):
    return stack(list(grads), ctx.dim)


def unbind(input, dim=0):  # noqa: A002
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = canonical_dim(dim, input.ndim)
    return unbind_op(input, dim=d) if input.shape[d] else ()


# ---------------------------------------------------------------------- flip / clone / contiguous / to
flip_op = OpDef("flip", type_rule="none")


@flip_op.impl
def _(xp, a, dims):
    return xp.asarray(xp.flip(a, axis=dims), copy=True)


@flip_op.backward
def _(ctx, grad):
    return grad.flip(ctx.dims)


def flip(input, *dims):  # noqa: A002
    dims = _distinct_dims(shape_arg(dims), input.ndim)
    return flip_op(input, dims=dims if input.ndim else ())


clone_op = OpDef("clone", type_rule="none")


@clone_op.impl
def _(xp, a, contiguous=False):
    # clone keeps the memory layout (PyTorch's preserve_format); contiguous() asks for C order
    return c_contiguous(xp, a) if contiguous else xp.asarray(a, copy=True)


@clone_op.backward
def _(ctx, grad):
    return grad


def clone(input, *, memory_format=None):  # noqa: A002
    return clone_op(input)


def contiguous(input, memory_format=None):  # noqa: A002
    """``input`` itself when already contiguous, else a contiguous copy."""
    if input._backend.is_contiguous(input._data):
        return input
    return clone_op(input, contiguous=True)


to_copy = OpDef("to_copy", type_rule="none", node_name="ToCopyBackward0")


@to_copy.impl
def _(xp, a, dtype):
    return xp.astype(a, dtype)


@to_copy.backward
def _(ctx, grad):
    src = ctx._meta[0][1]
    return grad.to(grad._backend.from_dtype[src])


def to_dtype(input, dtype, copy=False):  # noqa: A002
    if input.dtype is dtype and not copy:
        return input
    return to_copy(input, dtype=input._backend.native_dtype(dtype))


OPS = [view_op, unsafe_view, transpose_op, t_op, permute_op, unsqueeze_op, squeeze_all, squeeze_dim, squeeze_dims,
       squeeze_dim_, expand_op, repeat_op, cat_op, stack_op, split_op, split_sizes_op, unbind_op, flip_op, clone_op,
       to_copy]
