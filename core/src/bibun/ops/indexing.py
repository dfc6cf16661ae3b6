"""Indexing: ``t[key]``, ``t[key] = v``, gather scatter scatter_add index_select index_add masked_fill.

A key is applied as PyTorch applies it: its basic parts (ints, slices, None, ...) first,
as a chain of views named as PyTorch names them (SelectBackward0, SliceBackward0,
UnsqueezeBackward0, AliasBackward0); then its advanced parts (integer arrays, boolean
masks) as one ``index`` op on that view, whose gradient scatter-adds, so repeated indices
accumulate. An int next to an array therefore removes its dim (``t[1, :, [0, 3]]`` is
``t[1][:, [0, 3]]``), unlike numpy. Every index is checked before anything is read or
written, so a failing ``t[key] = v`` writes nothing.
"""

from __future__ import annotations

import numbers
import warnings

from .. import dtypes as _dt
from ..dispatch.dispatcher import check_inplace_allowed, dispatch_inplace, inputs_apart, write_into
from ..dispatch.opdef import OpDef
from ..tensor import Tensor
from ._portable import numpy_extras, put_key, take_key
from ._util import broadcast_shapes, canonical_dim

__all__ = ["getitem", "setitem", "gather", "scatter", "scatter_add", "index_select", "index_add", "masked_fill",
           "select", "narrow"]

_INT_DTYPES = ("int32", "int64")
# PyTorch's short type names ("Float") and C++ type names ("float"), as its messages print them
_TYPE_NAME = _dt.TYPE_NAME  # PyTorch's scalar-type names, for its messages
_CPP_NAME = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
             "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


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
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input.shape)} at "
                         f"dimension {d}")
    index = index + size if index < 0 else index
    return select_op(input, key=(slice(None),) * d + (index, Ellipsis))


def narrow(input, dim, start, length):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    size = input.shape[d]
    start = start + size if start < 0 else start
    if start < 0 or start + length > size or length < 0:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_op(input, key=(slice(None),) * d + (slice(start, start + length), Ellipsis))


# ---------------------------------------------------------------------- advanced indexing
index_op = OpDef("index", type_rule="none", node_name="IndexBackward0")


@index_op.impl
def _(xp, a, key):
    return a[key] if numpy_extras(xp) else take_key(xp, a, key)


@index_op.backward
def _(ctx, grad):
    return index_put_acc(grad, shape=tuple(ctx.input_shape()), key=ctx.key)


index_put_acc = OpDef("index_put_acc", type_rule="none", node_name="IndexPutBackward0")


@index_put_acc.impl
def _(xp, g, shape, key):
    out = xp.zeros(shape, dtype=g.dtype)
    if not numpy_extras(xp):
        return put_key(xp, out, key, g, accumulate=True)
    xp.add.at(out, key, g)
    return out


@index_put_acc.backward
def _(ctx, grad):
    return index_op(grad, key=ctx.key)


# ---------------------------------------------------------------------- reading a key
def _is_int(k):
    if isinstance(k, bool):
        return False
    if isinstance(k, numbers.Integral):
        return True
    return isinstance(k, Tensor) and k.ndim == 0 and k.dtype.category == _dt.INTEGRAL and k.dtype is not _dt.uint8


def _int_index(k):
    if isinstance(k, Tensor):
        return int(k.item())
    try:
        return k.__index__()
    except AttributeError:
        raise IndexError(
            "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
            f"(got {type(k).__name__})") from None


def _index_array(k, input):  # noqa: A002
    """An advanced index component as ``(backend array, is_mask)``."""
    backend = input._backend
    if isinstance(k, bool):
        return backend.xp.asarray(k), True
    if isinstance(k, Tensor):
        if k._backend is not backend:
            raise RuntimeError(f"indices should be either on cpu or on the same device as the indexed tensor "
                               f"({input.device})")
        arr, name = k._data, k.dtype.name
    elif isinstance(k, (list, tuple)) or hasattr(k, "__array__"):
        import numpy as np
        host = np.asarray(k)
        if host.size == 0:
            host = host.astype(np.int64)  # t[[]] selects nothing, as in PyTorch
        arr = backend.from_numpy(np.require(host, requirements="C"))  # keeps 0-d (ascontiguousarray makes it 1-d)
        name = backend.dtype_of(arr).name
    else:
        _int_index(k)  # raises PyTorch's message for a float, a string, ...
        raise AssertionError("unreachable")
    if name == "uint8":
        warnings.warn("indexing with dtype bibun.uint8 is now deprecated, please use a dtype bibun.bool instead.",
                      UserWarning, stacklevel=4)
        return backend.xp.astype(arr, backend.to_dtype[_dt.bool_]), True
    if name == "bool":
        return arr, True
    if backend.dtype_of(arr).category != _dt.INTEGRAL:
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return arr, False


def _split_key(input, key, setting=False):  # noqa: A002
    """``key`` as PyTorch applies it: ``(basic, views, adv)``.

    ``basic`` is a numpy basic index (ints, slices, None) over ``input``'s dims, with a full
    slice where an advanced part sits; ``views`` the view ops that build it, as
    ``(kind, dim, arg)``; ``adv`` None, or the key of integer arrays and masks that indexes
    that view. Every part is checked here, with PyTorch's messages.
    """
    ndim = input.ndim
    if ndim == 0 and _is_int(key):
        i = _int_index(key)
        if i == 0:
            raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` "
                             "in C++ to convert a 0-dim tensor to a number")
        raise IndexError(f"index {i} is out of bounds for dimension 0 with size 0")
    # PyTorch reads `t[:]` as a slice (`t[:, :]` as an alias), but writes `t[:] = v` into t itself
    single_slice = isinstance(key, slice) and not setting
    parts = key if isinstance(key, tuple) else (key,)
    items = []
    consumed = 0
    for k in parts:
        if k is None:
            items.append(("none", None))
        elif k is Ellipsis:
            if any(kind == "ellipsis" for kind, _ in items):
                raise IndexError("an index can only have a single ellipsis ('...')")
            items.append(("ellipsis", None))
        elif isinstance(k, slice):
            if k.step is not None and k.step <= 0:
                raise ValueError("slice step cannot be zero" if k.step == 0 else "step must be greater than zero")
            items.append(("slice", k))
            consumed += 1
        elif _is_int(k):
            items.append(("int", _int_index(k)))
            consumed += 1
        else:
            arr, is_mask = _index_array(k, input)
            items.append(("adv", (arr, is_mask)))
            consumed += arr.ndim if is_mask else 1
    if consumed > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")

    shape = tuple(input.shape)
    basic, views, advs, vshape = [], [], [], []
    od = 0  # dim of `input`
    for pos, (kind, k) in enumerate(items):
        rd = len(vshape)  # dim of the view built so far
        if kind == "none":
            basic.append(None)
            views.append(("unsqueeze", rd, None))
            vshape.append(1)
        elif kind == "ellipsis":
            n = ndim - consumed
            basic.extend([slice(None)] * n)
            vshape.extend(shape[od:od + n])
            od += n
        elif kind == "slice":
            size = shape[od]
            start, stop, step = k.indices(size)
            s = slice(start, max(stop, start), step)
            basic.append(s)
            if single_slice or (start, s.stop, step) != (0, size, 1):
                views.append(("slice", rd, s))
            vshape.append(len(range(start, s.stop, step)))
            od += 1
        elif kind == "int":
            size = shape[od]
            if not -size <= k < size:
                # PyTorch names the position in the key, not the dim
                raise IndexError(f"index {k} is out of bounds for dimension {pos} with size {size}")
            k = k + size if k < 0 else k
            basic.append(k)
            views.append(("select", rd, k))
            od += 1
        else:
            arr, is_mask = k
            if is_mask and arr.ndim == 0:  # PyTorch: a new dim of size 1, indexed by a mask of size 1
                basic.append(None)
                views.append(("unsqueeze", rd, None))
                advs.append((rd, input._backend.xp.reshape(arr, (1,)), True))
                vshape.append(1)
                continue
            n = arr.ndim if is_mask else 1
            basic.extend([slice(None)] * n)
            advs.append((rd, arr, is_mask))
            vshape.extend(shape[od:od + n])
            od += n
    vshape.extend(shape[od:])
    adv = _check_advanced(input, advs, vshape) if advs else None
    return tuple(basic), views, adv


def _check_advanced(input, advs, vshape):  # noqa: A002
    """Check the arrays and masks against the view they index; return the key for it."""
    xp = input._backend.xp
    shapes = []
    for rd, arr, is_mask in advs:
        if not is_mask:
            shapes.append(tuple(arr.shape))
            continue
        for j, s in enumerate(arr.shape):
            if s != vshape[rd + j]:
                raise IndexError(f"The shape of the mask {list(arr.shape)} at index {j} does not match the shape of "
                                 f"the indexed tensor {list(vshape)} at index {rd + j}")
        shapes.extend([(int(xp.count_nonzero(arr)),)] * arr.ndim)  # a mask is its nonzero() indices
    try:
        broadcast_shapes(*shapes)
    except RuntimeError:
        raise IndexError("shape mismatch: indexing tensors could not be broadcast together with shapes "
                         + ", ".join(str(list(s)) for s in shapes)) from None
    n = 0  # PyTorch counts the index tensors, not the dims, in this message
    for rd, arr, is_mask in advs:
        if is_mask:
            n += arr.ndim
            continue
        size = vshape[rd]
        bad = _first_out_of_range(xp, arr, -size, size)
        if bad is not None:
            raise IndexError(f"index {bad} is out of bounds for dimension {n} with size {size}")
        n += 1
    key = []
    dim = 0  # the view's dim the next key entry indexes
    for rd, arr, is_mask in advs:
        key.extend([slice(None)] * (rd - dim))
        key.append(arr)
        dim = rd + (arr.ndim if is_mask else 1)  # a mask covers arr.ndim dims
    return tuple(key)


def _first_out_of_range(xp, arr, lo, hi):
    """The first element of ``arr`` (in memory order) outside ``[lo, hi)``, or None."""
    if not arr.size:
        return None
    if int(xp.min(arr)) >= lo and int(xp.max(arr)) < hi:
        return None
    flat = xp.reshape(arr, (-1,))
    return int(flat[int(xp.argmax(xp.astype((flat < lo) | (flat >= hi), xp.int8)))])


def getitem(input, key):  # noqa: A002
    """``input[key]`` with PyTorch's semantics and node names."""
    basic, views, adv = _split_key(input, key)
    x = input
    for kind, d, arg in views:
        if kind == "select":
            x = select_op(x, key=(slice(None),) * d + (arg, Ellipsis))
        elif kind == "slice":
            x = slice_op(x, key=(slice(None),) * d + (arg, Ellipsis))
        else:
            x = x.unsqueeze(d)
    if adv is not None:
        return index_op(x, key=adv)
    if not views:
        return alias_op(input, key=(Ellipsis,))
    return x


# ---------------------------------------------------------------------- t[key] = value
def _read(xp, view, adv):
    return view[adv] if numpy_extras(xp) else take_key(xp, view, adv)


def _write(xp, data, basic, adv, v):
    """``data[basic][adv] = v`` in place (``adv`` None: a basic key only)."""
    key = basic + (Ellipsis,)  # the Ellipsis keeps even an all-int basic key a view
    if numpy_extras(xp):
        if adv is None:
            data[key] = v
        else:
            data[key][adv] = v
        return
    # the standard assigns through basic keys without None, and a python scalar only of the array's kind
    view = data[key]
    if adv is not None:
        view[...] = put_key(xp, view, adv, v)
    else:
        view[...] = v if hasattr(v, "dtype") else xp.asarray(v, dtype=view.dtype)


def _setitem_kernel(xp, a, v, basic, adv):
    out = xp.asarray(a, copy=True)
    _write(xp, out, basic, adv, v)
    return out


def _setitem_backward(ctx, grad):
    need_self, need_value = ctx.needs_input_grad
    g_self = copy_slices(grad, 0.0, basic=ctx.basic, adv=ctx.adv) if need_self else None
    g_value = None
    if need_value:  # the engine sums it to the value's shape where the value was broadcast
        g_value = alias_op(grad, key=ctx.basic + (Ellipsis,))
        if ctx.adv is not None:
            g_value = index_op(g_value, key=ctx.adv)
    return g_self, g_value


def _setitem_op(name, node_name):
    op = OpDef(name, inputs=("self", "value"), type_rule="none", node_name=node_name)
    op.impl(_setitem_kernel)
    op.backward(_setitem_backward)
    return op


# PyTorch names the node after what `t[key] = v` ran: a write into a view of `t` (CopySlices),
# index_put_ on `t` itself (IndexPutBackward0), or fill_/copy_ of all of `t`.
copy_slices = _setitem_op("copy_slices", "CopySlices")
index_put = _setitem_op("index_put", "IndexPutBackward0")
setitem_fill = _setitem_op("setitem_fill", "FillBackward3")
setitem_copy = _setitem_op("setitem_copy", "CopyBackwards")


def _check_value_shape(value, vshape, tshape, advanced):
    """PyTorch's error when ``value`` cannot be broadcast to the indexed shape."""
    if advanced:
        try:
            ok = broadcast_shapes(tshape, vshape) == tshape
        except RuntimeError:
            ok = False
        if not ok:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vshape)} cannot be broadcast to indexing "
                               f"result of shape {list(tshape)}")
        return
    if len(vshape) > len(tshape):
        raise RuntimeError(f"expand(bibun.{value.dtype._legacy}{{{list(vshape)}}}, size={list(tshape)}): the number "
                           f"of sizes provided ({len(tshape)}) must be greater or equal to the number of dimensions "
                           f"in the tensor ({len(vshape)})")
    for i in range(1, len(vshape) + 1):
        if vshape[-i] != tshape[-i] and vshape[-i] != 1:
            raise RuntimeError(f"The expanded size of the tensor ({tshape[-i]}) must match the existing size "
                               f"({vshape[-i]}) at non-singleton dimension {len(tshape) - i}.  Target sizes: "
                               f"{list(tshape)}.  Tensor sizes: {list(vshape)}")


def setitem(input, key, value):  # noqa: A002
    """``input[key] = value``: every check runs first, so a bad key or value writes nothing."""
    from ..autograd.grad_mode import is_grad_enabled
    is_tensor = isinstance(value, Tensor)
    if not is_tensor and not isinstance(value, numbers.Number):
        t = type(value)
        name = t.__name__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__name__}"
        raise TypeError(f"can't assign a {name} to a bibun.{input.dtype._legacy}")
    basic, views, adv = _split_key(input, key, setting=True)
    grad_on = is_grad_enabled()
    if grad_on and input._requires_grad and input.grad_fn is None:
        raise RuntimeError(("a view of a leaf Variable" if views else "a leaf Variable")
                           + " that requires grad is being used in an in-place operation.")
    check_inplace_allowed(input, "setitem")
    data = input._data
    target = data[basic + (Ellipsis,)] if adv is None else _read(input._backend.xp, data[basic + (Ellipsis,)], adv)
    tshape = tuple(getattr(target, "shape", ()))
    v = value
    if is_tensor:
        if value._backend is not input._backend or (
                input._backend.several_devices and value.device != input.device):
            raise inputs_apart("setitem", input, value)
        vshape = tuple(value.shape)
        while vshape and vshape[0] == 1:  # PyTorch drops a value's leading 1-dims
            vshape = vshape[1:]
        _check_value_shape(value, vshape, tshape, adv is not None)
        if vshape != tuple(value.shape):
            v = v.reshape(vshape)
        if v.dtype is not input.dtype:
            v = v.to(input.dtype)
    if grad_on and (input._requires_grad or (is_tensor and value._requires_grad)):
        if views:
            op = copy_slices
        elif adv is not None:
            op = index_put
        else:
            op = setitem_copy if is_tensor and value.ndim else setitem_fill
        write_into(input, op(input, v, basic=basic, adv=adv), "setitem")
        return
    _write(input._backend.xp, data, basic, adv, v._data if is_tensor else value)
    input._version[0] += 1


# ---------------------------------------------------------------------- gather / scatter / index_select / index_add
def _check_index_dtype(name, index):
    if not isinstance(index, Tensor) or index.dtype.name not in _INT_DTYPES:
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")


def _check_bounds(index, dim, size):
    """PyTorch's RuntimeError for the first index outside ``[0, size)`` (negative indices are errors)."""
    bad = _first_out_of_range(index._backend.xp, index._data, 0, size)
    if bad is not None:
        raise RuntimeError(f"index {bad} is out of bounds for dimension {dim} with size {size}")


gather_op = OpDef("gather", inputs=("self", "index"), differentiable=("self",), type_rule="none", save=("index",))


@gather_op.impl
def _(xp, a, index, dim):
    # only the first index.size(d) entries of a take part along the other dims
    a = a[tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))]
    return xp.take_along_axis(a, index, axis=dim)


@gather_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    return grad.new_zeros(ctx.input_shape()).scatter_add(ctx.dim, index, grad)


def gather(input, dim, index):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    _check_index_dtype("gather", index)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i, (s, n) in enumerate(zip(index.shape, input.shape, strict=True)):
        if i != d and s > n:
            raise RuntimeError(f"Size does not match at dimension {i} expected index {list(index.shape)} to be no "
                               f"larger than self {list(input.shape)} apart from dimension {d}")
    _check_bounds(index, d, input.shape[d] if input.ndim else 1)
    return gather_op(input, index, dim=d)


def _scatter_indices(xp, index, dim):
    grids = list(xp.meshgrid(*[xp.arange(s) for s in index.shape], indexing="ij"))
    grids[dim] = index
    return tuple(grids)


def _check_scatter(input, dim, index, src):  # noqa: A002
    """PyTorch's checks of scatter and scatter_add, before anything is computed."""
    _check_index_dtype("scatter", index)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None:
        if index.ndim != src.ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if src.dtype is not input.dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    for i, s in enumerate(index.shape):
        if (i != dim and s > input.shape[i]) or (src is not None and s > src.shape[i]):
            msg = (f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} apart from "
                   f"dimension {dim}")
            if src is not None:
                msg += f" and to be no larger size than src {list(src.shape)}"
            raise RuntimeError(msg)
    _check_bounds(index, dim, input.shape[dim] if input.ndim else 1)


scatter_src = OpDef("scatter", inputs=("self", "index", "src"), differentiable=("self", "src"), type_rule="none",
                    save=("index",), node_name="ScatterBackward0")
scatter_value = OpDef("scatter_value", inputs=("self", "index"), differentiable=("self",), type_rule="none",
                      save=("index",), node_name="ScatterBackward1")


@scatter_src.impl
def _(xp, a, index, src, dim):
    sl = tuple(slice(0, s) for s in index.shape)
    if not numpy_extras(xp):
        return put_key(xp, a, _scatter_indices(xp, index, dim), src[sl])
    out = xp.asarray(a, copy=True)
    out[_scatter_indices(xp, index, dim)] = src[sl]
    return out


@scatter_value.impl
def _(xp, a, index, dim, value):
    if not numpy_extras(xp):
        return put_key(xp, a, _scatter_indices(xp, index, dim), value)
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
        if tuple(src_shape) != tuple(g_src.shape):  # src entries past index's extent got no gradient
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
    if src is None:
        src = value
    if isinstance(src, Tensor):
        _check_scatter(input, d, index, src)
        return scatter_src(input, index, src, dim=d)
    _check_scatter(input, d, index, None)
    return scatter_value(input, index, dim=d, value=src)


scatter_add_op = OpDef("scatter_add", inputs=("self", "index", "src"), differentiable=("self", "src"),
                       type_rule="none", save=("index",))


@scatter_add_op.impl
def _(xp, a, index, src, dim):
    sl = tuple(slice(0, s) for s in index.shape)
    if not numpy_extras(xp):
        return put_key(xp, a, _scatter_indices(xp, index, dim), src[sl], accumulate=True)
    out = xp.asarray(a, copy=True)
    xp.add.at(out, _scatter_indices(xp, index, dim), src[sl])
    return out


@scatter_add_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    need_self, need_src = ctx.needs_input_grad
    g_src = None
    if need_src:
        g_src = grad.gather(ctx.dim, index)
        src_shape = ctx.input_shape(1)
        if tuple(src_shape) != tuple(g_src.shape):
            g_src = _embed(g_src, src_shape, tuple(slice(0, s) for s in g_src.shape))
    return (grad if need_self else None), g_src


def scatter_add(input, dim, index, src):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    _check_scatter(input, d, index, src)
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
    if not isinstance(index, Tensor) or index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index.dtype.name not in _INT_DTYPES:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    size = input.shape[d] if input.ndim else 1
    bad = _first_out_of_range(index._backend.xp, index._data, 0, size)
    if bad is not None:
        if d == 1:  # PyTorch's CPU kernel for dim 1 words it differently
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
        raise IndexError("index out of range in self")
    if input.ndim == 0:
        if index.numel() != 1:
            raise RuntimeError(f"index_select(): Index to scalar can have only 1 value, got {index.numel()} value(s)")
        return index_select_op(input.reshape(1), index.reshape(-1), dim=0).reshape(())
    return index_select_op(input, index.reshape(-1), dim=d)


index_add_op = OpDef("index_add", inputs=("self", "index", "source"), differentiable=("self", "source"),
                     type_rule="none", save=("index",))


@index_add_op.impl
def _(xp, a, index, source, dim, alpha=1):
    key = (slice(None),) * dim + (index,)
    source = source if alpha == 1 else source * alpha
    if not numpy_extras(xp):
        return put_key(xp, a, key, source, accumulate=True)
    out = xp.asarray(a, copy=True)
    xp.add.at(out, key, source)
    return out


@index_add_op.backward
def _(ctx, grad):
    (index,) = ctx.saved_tensors
    need_self, need_src = ctx.needs_input_grad
    g_src = None
    if need_src:
        g_src = grad.index_select(ctx.dim, index)
        alpha = ctx._attrs.get("alpha", 1)
        if alpha != 1:
            g_src = g_src * alpha
    return (grad if need_self else None), g_src


def index_add(input, dim, index, source, *, alpha=1):  # noqa: A002
    d = canonical_dim(dim, input.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: {index.ndim} with type: "
                         f"{_TYPE_NAME[index.dtype.name]} and size: {list(index.shape)}")
    if index.dtype.name not in _INT_DTYPES:
        raise RuntimeError("index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{_TYPE_NAME[index.dtype.name]}")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_add_(): self ({_TYPE_NAME[input.dtype.name]}) and source "
                           f"({_TYPE_NAME[source.dtype.name]}) must have the same scalar type")
    n_src = source.shape[d] if source.ndim else 1
    if index.numel() != n_src:
        raise RuntimeError(f"index_add_(): Number of indices ({index.numel()}) should be equal to source.size(dim): "
                           f"({n_src}), for dim: {d}")
    if source.ndim and (source.ndim != input.ndim or any(
            i != d and s != n for i, (s, n) in enumerate(zip(source.shape, input.shape, strict=True)))):
        raise RuntimeError(f"source tensor shape must match self tensor shape, excluding the specified dimension. Got "
                           f"self.shape = {list(input.shape)} source.shape = {list(source.shape)}")
    _check_bounds(index, d, input.shape[d] if input.ndim else 1)
    if source.ndim == 0 and input.ndim:
        source = source.reshape(1)
    return index_add_op(input, index.reshape(-1), source, dim=d, **({} if alpha == 1 else {"alpha": alpha}))


# ---------------------------------------------------------------------- masked_fill
masked_fill_op = OpDef("masked_fill", inputs=("self", "mask"), differentiable=("self",), type_rule="none",
                       save=("mask",))
masked_fill_tensor = OpDef("masked_fill_tensor", inputs=("self", "mask", "value"), differentiable=("self", "value"),
                           type_rule="none", save=("mask",), node_name="MaskedFillBackward1")


@masked_fill_op.impl
def _(xp, a, mask, value):
    return xp.where(mask, xp.asarray(value, dtype=a.dtype), a)


@masked_fill_op.backward
def _(ctx, grad):
    (mask,) = ctx.saved_tensors
    return grad.masked_fill(mask, 0)


@masked_fill_tensor.impl
def _(xp, a, mask, value):
    return xp.where(mask, xp.astype(value, a.dtype), a)


@masked_fill_tensor.backward
def _(ctx, grad):
    (mask,) = ctx.saved_tensors
    need_self, need_value = ctx.needs_input_grad
    g_self = grad.masked_fill(mask, 0) if need_self else None
    g_value = grad.masked_fill(mask.logical_not(), 0).sum() if need_value else None
    return g_self, g_value


def _masked_fill_args(input, mask, value):  # noqa: A002
    """PyTorch's checks; the value as a python scalar, or as a 0-dim tensor that needs a gradient."""
    if not isinstance(mask, Tensor) or mask.dtype.name != "bool":
        got = _CPP_NAME.get(mask.dtype.name, str(mask.dtype)) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {got}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value.ndim} dimension(s).")
        if not value._requires_grad:
            value = value.item()
    broadcast_shapes(mask.shape, input.shape)
    return value


def masked_fill(input, mask, value):  # noqa: A002
    value = _masked_fill_args(input, mask, value)
    if isinstance(value, Tensor):
        return masked_fill_tensor(input, mask, value)
    return masked_fill_op(input, mask, value=value)


def masked_fill_(input, mask, value):  # noqa: A002
    value = _masked_fill_args(input, mask, value)
    if isinstance(value, Tensor):
        return dispatch_inplace(masked_fill_tensor, input, (mask, value), {}, "masked_fill_")
    return dispatch_inplace(masked_fill_op, input, (mask,), {"value": value}, "masked_fill_")


OPS = [select_op, slice_op, alias_op, embed_op, index_op, index_put_acc, copy_slices, index_put, setitem_fill,
       setitem_copy, gather_op, scatter_src, scatter_value, scatter_add_op, index_select_op, index_add_op,
       masked_fill_op, masked_fill_tensor]
