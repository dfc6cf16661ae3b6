"""Indexing: ``t[key]``, ``t[key] = v``, gather scatter scatter_add index_select index_add masked_fill.

Basic keys (ints, slices, None, ...) become a chain of view ops named as PyTorch names
them (SelectBackward0, SliceBackward0, UnsqueezeBackward0, AliasBackward0). Keys with
integer arrays or boolean masks become one ``index`` op whose gradient scatter-adds, so
repeated indices accumulate. Every index is checked before anything is read or written.
"""

from __future__ import annotations

from ..dispatch.dispatcher import check_inplace_allowed, dispatch_inplace, write_into
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._util import canonical_dim

__all__ = ["getitem", "setitem", "gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill",
           "select", "narrow"]


# ---------------------------------------------------------------------- select / slice / alias: basic views
def _embed(grad, shape, key):
    """Zeros of ``shape`` with ``grad`` written at ``key`` (the gradient of a basic index)."""
    return embed_op(grad, shape=tuple(shape), key=key)


def _basic_view(name, node_name):
    op = OpDef(name, type_rule="none", view=True, node_name=node_name)

    @op.impl
    def _(xp, a, key):
        return a[key]

    @op.backward
    def _(ctx, grad):
        return _embed(grad, ctx.input_shape(), ctx.key)

    return op


select_op = _basic_view("select", "SelectBackward0")
slice_op = _basic_view("slice", "SliceBackward0")
alias_op = _basic_view("alias", "AliasBackward0")

embed_op = OpDef("embed", type_rule="none", node_name="IndexBackward0")


@embed_op.impl
def _(xp, g, shape, key):
    out = xp.zeros(shape, dtype=g.dtype)
    out[key] = g
    return out


@embed_op.backward
def _(ctx, grad):
    return alias_op(grad, key=ctx.key)


def select(input, dim, index):  # noqa: A002
    n = input.ndim
    if n == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = canonical_dim(dim, n)
    size = input.shape[d]
    if not -size <= index < size:
        raise IndexError(f"index {index} is out of bounds for dimension {d} with size {size}")
    index = index + size if index < 0 else index
    return select_op(input, key=(slice(None),) * d + (index, Ellipsis))


def narrow(input, dim, start, length):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    size = input.shape[d]
    start = start + size if start < 0 else start
    if start < 0 or start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_op(input, key=(slice(None),) * d + (slice(start, start + length),))


# ---------------------------------------------------------------------- advanced indexing
index_op = OpDef("index", type_rule="none", node_name="IndexBackward0")


@index_op.impl
def _(xp, a, key):
    return a[key]


@index_op.backward
def _(ctx, grad):
    return index_put_acc(grad, shape=tuple(ctx.input_shape()), key=ctx.key)


index_put_acc = OpDef("index_put_acc", type_rule="none", node_name="IndexPutBackward0")


@index_put_acc.impl
def _(xp, g, shape, key):
    out = xp.zeros(shape, dtype=g.dtype)
    xp.add.at(out, key, g)
    return out


@index_put_acc.backward
def _(ctx, grad):
    return index_op(grad, key=ctx.key)


def _is_advanced(k):
    if isinstance(k, (list, tuple)):
        return True
    if isinstance(k, Tensor):
        return k.ndim > 0 or k.dtype.name == "bool"
    return hasattr(k, "__array__") and not isinstance(k, (int, float))


def _to_tuple(key):
    if isinstance(key, tuple):
        return key
    return (key,)


def _as_index_array(k, input, pos):  # noqa: A002
    """An index component as a backend array of int64 or bool, bounds-checked."""
    backend = input._backend
    if isinstance(k, Tensor):
        if k._backend is not backend:
            raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor "
                               f"({input.device})")
        arr = k._data
        dt = k.dtype
    else:
        from ..factories import tensor as make_tensor
        t = make_tensor(k, device=input.device)
        arr, dt = t._data, t.dtype
    if dt.name == "bool":
        return arr, True
    if dt.category != 1:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr, False


def _normalize_key(input, key):  # noqa: A002
    """Expand the key against ``input``'s dims, check bounds, and say whether it is advanced."""
    key = _to_tuple(key)
    advanced = any(_is_advanced(k) for k in key)
    n_ell = sum(1 for k in key if k is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = 0
    for k in key:
        if k is None or k is Ellipsis:
            continue
        if isinstance(k, Tensor) and k.dtype.name == "bool":
            consumed += max(k.ndim, 1)
        elif _is_advanced(k) and not isinstance(k, Tensor):
            import numpy as np
            a = np.asarray(k)
            consumed += a.ndim if a.dtype == bool else 1
        else:
            consumed += 1
    ndim = input.ndim
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    out = []
    for k in key:
        if k is Ellipsis:
            out.extend([slice(None)] * (ndim - consumed))
        else:
            out.append(k)
    return out, advanced


def getitem(input, key):  # noqa: A002
    """``input[key]`` with PyTorch's semantics and node names."""
    parts, advanced = _normalize_key(input, key)
    if advanced:
        return index_op(input, key=_advanced_key(input, parts))
    x = input
    d = 0
    any_op = False
    for k in parts:
        if k is None:
            x = x.unsqueeze(d)
            d += 1
            any_op = True
        elif isinstance(k, slice):
            size = x.shape[d]
            start, stop, step = k.indices(size)
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            if (start, stop, step) != (0, size, 1):
                x = slice_op(x, key=(slice(None),) * d + (slice(start, max(stop, start), step),))
                any_op = True
            d += 1
        else:
            i = _int_index(k)
            x = select(x, d, i)
            any_op = True
    if not any_op:
        return alias_op(input, key=(Ellipsis,))
    return x


def _int_index(k):
    if isinstance(k, bool):
        raise IndexError("bibun does not support a python bool as an index; use a bool tensor mask")
    if isinstance(k, Tensor):
        if k.dtype.category != 1 or k.ndim:
            raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        return int(k.item())
    try:
        return k.__index__()
    except AttributeError:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
            f"(got {type(k).__name__})") from None


def _advanced_key(input, parts):  # noqa: A002
    """A tuple key for the backend's own advanced indexing, every index checked against its dim."""
    key = []
    d = 0
    shape = input.shape
    for k in parts:
        if k is None:
            key.append(None)
            continue
        if isinstance(k, slice):
            key.append(k)
            d += 1
            continue
        if isinstance(k, int) and not isinstance(k, bool) or (isinstance(k, Tensor) and k.ndim == 0 and k.dtype.category == 1):
            i = _int_index(k)
            size = shape[d]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            key.append(i)
            d += 1
            continue
        arr, is_mask = _as_index_array(k, input, d)
        xp = input._backend.xp
        if is_mask:
            mshape = tuple(arr.shape)
            for j, s in enumerate(mshape):
                if s != shape[d + j]:
                    raise IndexError(
                        f"The shape of the mask {list(mshape)} at index {j} does not match the shape of the indexed "
                        f"tensor {list(shape)} at index {d + j}")
            key.append(arr)
            d += max(arr.ndim, 1)
            continue
        size = shape[d]
        if arr.size:
            lo, hi = int(xp.min(arr)), int(xp.max(arr))
            bad = hi if hi >= size else (lo if lo < -size else None)
            if bad is not None:
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
        key.append(arr)
        d += 1
    return tuple(key)


# ---------------------------------------------------------------------- t[key] = value
copy_slices = OpDef("copy_slices", inputs=("self", "value"), type_rule="none", node_name="CopySlices")


@copy_slices.impl
def _(xp, a, v, key):
    out = xp.asarray(a, copy=True)
    out[key] = v
    return out


@copy_slices.backward
def _(ctx, grad):
    need_self, need_value = ctx.needs_input_grad
    g_self = copy_slices(grad, 0.0, key=ctx.key) if need_self else None
    g_value = index_op(grad, key=ctx.key) if need_value else None
    return g_self, g_value


def setitem(input, key, value):  # noqa: A002
    """``input[key] = value``: all checks first, so a bad index writes nothing."""
    check_inplace_allowed(input, "setitem")
    parts, advanced = _normalize_key(input, key)
    if advanced:
        k = _advanced_key(input, parts)
    else:
        k = _basic_key(input, parts)
    value_t = value if isinstance(value, Tensor) else None
    if value_t is not None and value_t._backend is not input._backend:
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                           f"{input.device} and {value_t.device}! (setitem)")
    from ..autograd.grad_mode import is_grad_enabled
    recording = is_grad_enabled() and (input._requires_grad or (value_t is not None and value_t._requires_grad))
    if value_t is not None and value_t.dtype is not input.dtype:
        value_t = value_t.to(input.dtype)
    if recording:
        if input._base is not None:
            raise RuntimeError("setitem on a view of a tensor that is part of an autograd graph is not supported by "
                               "bibun yet; clone() the view first")
        out = copy_slices(input, value_t if value_t is not None else value, key=k)
        write_into(input, out, "setitem")
        return
    data = input._data
    v = value_t._data if value_t is not None else value
    target_shape = data[k].shape
    vshape = tuple(getattr(v, "shape", ()))
    from ._util import broadcast_shapes
    try:
        if broadcast_shapes(target_shape, vshape) != tuple(target_shape):
            raise RuntimeError
    except RuntimeError:
        raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to indexing "
                           f"result of shape {list(target_shape)}") from None
    data[k] = v
    input._version[0] += 1


def _basic_key(input, parts):  # noqa: A002
    key = []
    d = 0
    for k in parts:
        if k is None:
            key.append(None)
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("step must be greater than zero")
            key.append(k)
            d += 1
        else:
            i = _int_index(k)
            size = input.shape[d]
            if not -size <= i < size:
                raise IndexError(f"index {i} is out of bounds for dimension {d} with size {size}")
            key.append(i)
            d += 1
    return tuple(key)


# ---------------------------------------------------------------------- gather / scatter / index_select / masked_fill
def _check_index_tensor(name, index, dim, input, size):  # noqa: A002
    if not isinstance(index, Tensor) or index.dtype.name != "int64":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index._data.size:
        xp = index._backend.xp
        lo, hi = int(xp.min(index._data)), int(xp.max(index._data))
        if hi >= size or lo < -size:
            raise RuntimeError(f"index {hi if hi >= size else lo} is out of bounds for dimension {dim} with size {size}")


gather_op = OpDef("gather", inputs=("self", "index"), differentiable=("self",), type_rule="none", save=("index",))


@gather_op.impl
def _(xp, a, index, dim):
    return xp.take_along_axis(a, index, axis=dim)


@gather_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    return grad.new_zeros(ctx.input_shape()).scatter_add(ctx.dim, index, grad)


def gather(input, dim, index):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    _check_index_tensor("gather", index, d, input, input.shape[d] if input.ndim else 1)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    return gather_op(input, index, dim=d)


def _scatter_indices(xp, index, dim):
    grids = xp.meshgrid(*[xp.arange(s) for s in index.shape], indexing="ij")
    grids[dim] = index
    return tuple(grids)


scatter_src = OpDef("scatter", inputs=("self", "index", "src"), differentiable=("self", "src"), type_rule="none",
                    save=("index",), node_name="ScatterBackward0")
scatter_value = OpDef("scatter_value", inputs=("self", "index"), differentiable=("self",), type_rule="none",
                      save=("index",), node_name="ScatterBackward1")


@scatter_src.impl
def _(xp, a, index, src, dim):
    out = xp.asarray(a, copy=True)
    sl = tuple(slice(0, s) for s in index.shape)
    out[_scatter_indices(xp, index, dim)] = src[sl]
    return out


@scatter_value.impl
def _(xp, a, index, dim, value):
    out = xp.asarray(a, copy=True)
    out[_scatter_indices(xp, index, dim)] = value
    return out


@scatter_src.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    need_self, need_src = ctx.needs_input_grad
    g_self = grad.scatter(ctx.dim, index, 0.0) if need_self else None
    g_src = None
    if need_src:
        g_src = grad.gather(ctx.dim, index)
        src_shape = ctx.input_shape(1)
        if tuple(src_shape) != tuple(g_src.shape):
            g_src = _embed(g_src, src_shape, tuple(slice(0, s) for s in g_src.shape))
    return g_self, g_src


@scatter_value.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    return grad.scatter(ctx.dim, index, 0.0)


def scatter(input, dim, index, src=None, *, value=None, reduce=None):  # noqa: A002
    if reduce is not None:
        raise NotImplementedError("scatter(reduce=...) is not supported by bibun; use scatter_add")
    d = canonical_dim(dim, input.ndim)
    _check_index_tensor("scatter", index, d, input, input.shape[d] if input.ndim else 1)
    if src is None:
        src = value
    if isinstance(src, Tensor):
        if src.dtype is not input.dtype:
            src = src.to(input.dtype)
        return scatter_src(input, index, src, dim=d)
    return scatter_value(input, index, dim=d, value=src)


scatter_add_op = OpDef("scatter_add", inputs=("self", "index", "src"), differentiable=("self", "src"),
                       type_rule="none", save=("index",))


@scatter_add_op.impl
def _(xp, a, index, src, dim):
    out = xp.asarray(a, copy=True)
    sl = tuple(slice(0, s) for s in index.shape)
    xp.add.at(out, _scatter_indices(xp, index, dim), src[sl])
    return out


@scatter_add_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    need_self, need_src = ctx.needs_input_grad
    return (grad if need_self else None), (grad.gather(ctx.dim, index) if need_src else None)


def scatter_add(input, dim, index, src):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    _check_index_tensor("scatter_add", index, d, input, input.shape[d] if input.ndim else 1)
    return scatter_add_op(input, index, src, dim=d)


index_select_op = OpDef("index_select", inputs=("self", "index"), differentiable=("self",), type_rule="none",
                        save=("index",))


@index_select_op.impl
def _(xp, a, index, dim):
    return xp.take(a, index, axis=dim)


@index_select_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    return grad.new_zeros(ctx.input_shape()).index_add(ctx.dim, index, grad)


def index_select(input, dim, index):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    if not isinstance(index, Tensor) or index.dtype.category != 1 or index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector of type int64 or int32")
    size = input.shape[d] if input.ndim else 1
    if index._data.size:
        xp = index._backend.xp
        lo, hi = int(xp.min(index._data)), int(xp.max(index._data))
        if hi >= size or lo < -size:
            raise IndexError(f"index out of range in self (index {hi if hi >= size else lo} for dimension {d} with "
                             f"size {size})")
    return index_select_op(input, index.reshape(-1), dim=d)


index_add_op = OpDef("index_add", inputs=("self", "index", "source"), differentiable=("self", "source"),
                     type_rule="none", save=("index",))


@index_add_op.impl
def _(xp, a, index, source, dim, alpha=1):
    out = xp.asarray(a, copy=True)
    key = (slice(None),) * dim + (index,)
    xp.add.at(out, key, source if alpha == 1 else source * alpha)
    return out


@index_add_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    need_self, need_src = ctx.needs_input_grad
    return (grad if need_self else None), (grad.index_select(ctx.dim, index) if need_src else None)


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    return index_add_op(input, index, source, dim=d, **({} if alpha == 1 else {"alpha": alpha}))


masked_fill_op = OpDef("masked_fill", inputs=("self", "mask"), differentiable=("self",), type_rule="none",
                       save=("mask",))


@masked_fill_op.impl
def _(xp, a, mask, value):
    return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)


@masked_fill_op.backward
def _(ctx, grad):
    (mask,) = ctx.saved_tensors
    return grad.masked_fill(mask, 0)


def masked_fill(input, mask, value):  # noqa: A002
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        if value._requires_grad:
            from .arithmetic import where
            return where(mask, value.to(input.dtype), input)
        value = value.item()
    from ._util import broadcast_shapes
    broadcast_shapes(input.shape, mask.shape)
    return masked_fill_op(input, mask, value=value)


def masked_fill_(input, mask, value):  # noqa: A002
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        raise RuntimeError("masked_fill_ only supports boolean masks")
    if isinstance(value, Tensor):
        value = value.item()
    return dispatch_inplace(masked_fill_op, input, (mask,), {"value": value}, "masked_fill_")


OPS = [select_op, slice_op, alias_op, embed_op, index_op, index_put_acc, copy_slices, gather_op, scatter_src,
       scatter_value, scatter_add_op, index_select_op, index_add_op, masked_fill_op]
