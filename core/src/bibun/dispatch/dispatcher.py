"""Calling an op: one backend for all inputs, PyTorch dtype promotion, the kernel, the graph node.

This is the hot path of every op, so it is written flat: no per-call allocation beyond
the argument list, the output tensor and (only when a graph is recorded) the node.
"""

from __future__ import annotations

from .. import dtypes as _dt
from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..tensor import Tensor
from .registry import _CompositeMarker, resolve_kernel

__all__ = ["dispatch", "dispatch_binary", "dispatch_inplace"]

_NO_ATTRS = {}
_make = Tensor._make  # the one constructor every op result goes through
_FLOATING = _dt.FLOATING
_INTEGRAL = _dt.INTEGRAL
_float_t, _int_t, _bool_t = float, int, bool


def inputs_apart(name, a, b):
    """PyTorch's error for tensors ``a`` and ``b``, inputs of op ``name``, that are not on one device;
    two backends on one device (numpy and strict on the cpu) are named instead."""
    da, db = a.device, b.device
    if da != db:
        return RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, {da} and {db}! "
            f"(when checking arguments for bibun op '{name}'; move them with .to(device))")
    return RuntimeError(
        f"Expected all tensors to be on the same backend, but found at least two backends, {a._backend.name} and "
        f"{b._backend.name}, on device {da} (bibun op '{name}')")


def _mixed_backends(op, args):
    tensors = [a for a in args if isinstance(a, Tensor)]
    first = tensors[0]
    for t in tensors[1:]:
        if t._backend is not first._backend:
            raise inputs_apart(op.name, first, t)
    raise AssertionError("unreachable")


def _device_guard(op, args, backend):
    """On a machine with several devices of one backend (two GPUs): the inputs' common device, as a scope.

    Tensors on cuda:0 and cuda:1 share a backend, so the backend check cannot tell them apart;
    here their indices must agree (PyTorch's error otherwise), and the kernel then runs on that
    device whatever the current one is, so its result lands beside its inputs.
    """
    index_of = backend.impl.device_index
    first = index = None
    for a in args:
        if isinstance(a, Tensor):
            i = index_of(a._data)
            if first is None:
                first, index = a, i
            elif i != index:
                raise inputs_apart(op.name, first, a)
    return backend.device_scope(index)


def _promoted_dtype(args, backend):
    """PyTorch's result dtype over tensors with dims, 0-dim tensors and python scalars."""
    dim_dt = zero_dt = scalar_dt = None
    promote = _dt.promote_types
    for a in args:
        if isinstance(a, Tensor):
            d = backend.from_dtype[a._data.dtype]
            if a._data.ndim:
                dim_dt = d if dim_dt is None else promote(dim_dt, d)
            else:
                zero_dt = d if zero_dt is None else promote(zero_dt, d)
        elif a is not None:
            t = type(a)
            if t is _bool_t:
                d = _dt.bool_
            elif t is _int_t:
                d = _dt.int64
            elif t is _float_t:
                d = _dt.get_default_dtype()
            else:
                d = _scalar_like_dtype(a, backend)
            scalar_dt = d if scalar_dt is None else promote(scalar_dt, d)
    return _dt.result_type(dim_dt, zero_dt, scalar_dt)


def _scalar_like_dtype(a, backend):
    # numpy scalars (np.float64(0.5)) count as python scalars of their kind, as in PyTorch
    kind = getattr(getattr(a, "dtype", None), "kind", None)
    if kind == "f":
        return _dt.get_default_dtype()
    if kind in ("i", "u"):
        return _dt.int64
    if kind == "b":
        return _dt.bool_
    raise TypeError(f"expected a Tensor or a python number, got {type(a).__name__}")


def _prepare(op, rule, args, backend):
    """Arrays (and python scalars) for the kernel, cast to the dtype the op computes in."""
    # Fast path: every tensor has the same dtype and no scalar raises the category.
    native = None
    uniform = True
    for a in args:
        if isinstance(a, Tensor):
            nd = a._data.dtype
            if native is None:
                native = nd
            elif nd != native:
                uniform = False
                break
    if native is None:  # only python scalars take part (where(cond, 1.0, 0.0))
        uniform = False
    if uniform:
        target = backend.from_dtype[native]
        cat = target.category
        for a in args:
            if isinstance(a, Tensor) or a is None:
                continue
            t = type(a)
            if t is _float_t:
                if cat != _FLOATING:
                    uniform = False
                    break
            elif t is _int_t:
                if cat == _dt.BOOL:
                    uniform = False
                    break
            elif t is not _bool_t:
                uniform = False
                break
    if not uniform:
        target = _promoted_dtype(args, backend)
    if target.category != _FLOATING and (rule == "float" or rule == "promote_float"):
        target = _dt.get_default_dtype()
    want = backend.to_dtype[target]
    if uniform and want == native and not (target.category == _INTEGRAL and target.itemsize < 8):
        return [a._data if isinstance(a, Tensor) else a for a in args]
    astype = backend.xp.astype
    out = []
    for a in args:
        if isinstance(a, Tensor):
            d = a._data
            out.append(d if d.dtype == want else astype(d, want))
        elif type(a) is _int_t and target.category == _INTEGRAL and target.itemsize < 8:
            # an int outside a narrow dtype's range wraps, as in PyTorch (numpy would refuse it)
            out.append(astype(backend.xp.asarray(a, dtype=backend.to_dtype[_dt.int64]), want))
        elif native is None and a is not None:
            out.append(backend.xp.asarray(a, dtype=want))  # no tensor to set the dtype: make the scalar one
        elif a is None or type(a) in (_float_t, _int_t, _bool_t):
            out.append(a)
        else:
            out.append(a.item())  # numpy scalar -> python scalar, so it stays "weak"
    return out


def _result(out, backend):
    """A new tensor holding a kernel's output (a numpy scalar result becomes a 0-d array)."""
    if out.__class__ is not backend.array_type:
        out = backend.impl.asarray(out, None)
    return _make(out, backend)


def _dispatch_one(op, a, attrs):
    """``dispatch`` for one tensor input and one output (reductions, views, activations, ...)."""
    backend = a._backend
    if backend.several_devices:
        with backend.scope_of(a._data):
            return _run_one(op, a, attrs, backend)
    return _run_one(op, a, attrs, backend)


def _run_one(op, a, attrs, backend):
    kernel = op.cache.get(backend.name)
    if kernel is None:
        kernel = resolve_kernel(op, backend)[0]
    if kernel.__class__ is _CompositeMarker:
        return kernel.fn(a, **attrs)
    ad = a._data
    if op.needs_float and ad.dtype not in backend.float_natives:
        ad = backend.xp.astype(ad, backend.to_dtype[_dt.get_default_dtype()])
    try:
        out = kernel(ad, **attrs) if attrs else kernel(ad)
    except Exception:
        if op.explain is not None:
            op.explain(op, (a,), attrs)
        raise
    res = _result(out, backend)
    if op.view:
        _mark_view(res, a, op, attrs)
    if a._requires_grad and op.node_cls is not None and out.dtype in backend.float_natives and _grad_enabled():
        res._requires_grad = True
        res.grad_fn = op.node_cls._create((a,), attrs, (res,))
    return res


def dispatch(op, args, attrs):
    """Run ``op`` on ``args`` (tensors or python scalars) with keyword ``attrs``."""
    if len(args) == 1 and op.outputs == 1 and isinstance(args[0], Tensor):
        return _dispatch_one(op, args[0], attrs)
    backend = None
    needs_grad = False
    for a in args:
        if isinstance(a, Tensor):
            b = a._backend
            if backend is None:
                backend = b
            elif b is not backend:
                _mixed_backends(op, args)
            if a._requires_grad:
                needs_grad = True
    if backend is None:
        raise TypeError(f"{op.name}(): expected at least one argument to be a Tensor")
    if backend.several_devices:
        with _device_guard(op, args, backend):
            return _run(op, args, attrs, backend, needs_grad)
    return _run(op, args, attrs, backend, needs_grad)


def _run(op, args, attrs, backend, needs_grad):
    """The rest of ``dispatch``, once the inputs' backend (and device) is known."""
    kernel = op.cache.get(backend.name)
    if kernel is None:
        kernel = resolve_kernel(op, backend)[0]
    if kernel.__class__ is _CompositeMarker:
        return kernel.fn(*args, **attrs)

    rule = op.type_rule
    if rule == "none":
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    elif op.promote_args is None:
        arrays = _prepare(op, rule, args, backend)
    else:
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        picked = _prepare(op, rule, [args[i] for i in op.promote_args], backend)
        for i, arr in zip(op.promote_args, picked):
            arrays[i] = arr

    try:
        out = kernel(*arrays, **attrs)
    except Exception:
        if op.explain is not None:
            op.explain(op, args, attrs)  # raises the PyTorch-style error when it recognises the cause
        raise
    record = needs_grad and op.formula is not None and _grad_enabled()
    if record and op.outputs == 1 and out.dtype not in backend.float_natives:
        record = False  # an integer or bool result has no gradient (t.long(), comparisons)
    make = Tensor._make
    array_type = backend.array_type

    if op.outputs == 1:
        if out.__class__ is not array_type:
            out = backend.impl.asarray(out, None)
        res = make(out, backend)
        if op.view:
            _mark_view(res, args[0], op, attrs)
        if record:
            node = op.node_cls._create(args, attrs, (res,))
            res._requires_grad = True
            res.grad_fn = node
        return res

    results = []
    for i, o in enumerate(out):
        if o.__class__ is not array_type:
            o = backend.impl.asarray(o, None)
        r = make(o, backend)
        r._output_nr = i
        if op.view:
            _mark_view(r, args[0], op, attrs, i)
        results.append(r)
    if record:
        node = op.node_cls._create(args, attrs, results)
        nondiff = op.nondiff_outputs
        for i, r in enumerate(results):
            if i not in nondiff:
                r._requires_grad = True
                r.grad_fn = node
    return tuple(results)


def dispatch_binary(op, a, b, attrs=_NO_ATTRS):
    """``dispatch(op, (a, b), attrs)`` for a tensor ``a``, skipping promotion when nothing needs it.

    Taken by the arithmetic operators: same backend, same dtype (or a python scalar of a
    category that does not promote), so the arrays go straight to the kernel. Anything
    else falls back to :func:`dispatch`, which handles every case.
    """
    backend = a._backend
    if backend.several_devices:
        return dispatch(op, (a, b), attrs)  # compares the devices and runs the kernel on theirs
    ad = a._data
    cls = b.__class__
    if cls is Tensor or (cls is not float and cls is not int and isinstance(b, Tensor)):  # subclasses too
        bd = b._data
        if b._backend is not backend or bd.dtype is not ad.dtype or (
                op.needs_float and ad.dtype not in backend.float_natives):
            return dispatch(op, (a, b), attrs)
        needs_grad = a._requires_grad or b._requires_grad
    elif cls is float:
        if ad.dtype not in backend.float_natives:
            return dispatch(op, (a, b), attrs)
        bd = b
        needs_grad = a._requires_grad
    elif cls is int:
        if ad.dtype not in backend.float_natives and (
                ad.dtype is backend.bool_native or op.needs_float or backend.from_dtype[ad.dtype].itemsize < 8):
            return dispatch(op, (a, b), attrs)  # promotion, or an int that may need wrapping
        bd = b
        needs_grad = a._requires_grad
    else:
        return dispatch(op, (a, b), attrs)
    kernel = op.cache.get(backend.name)
    if kernel is None or kernel.__class__ is _CompositeMarker:
        return dispatch(op, (a, b), attrs)
    try:
        out = kernel(ad, bd) if attrs is _NO_ATTRS else kernel(ad, bd, **attrs)
    except Exception:
        if op.explain is not None:
            op.explain(op, (a, b), attrs)
        raise
    res = _result(out, backend)
    if needs_grad and op.node_cls is not None and _grad_enabled():
        res._requires_grad = True
        res.grad_fn = op.node_cls._create_binary(a, b, attrs, res)
    return res


def _mark_view(result, source, op, attrs, index=None):
    """Record that ``result`` shares ``source``'s memory, and how it was made from it."""
    if not isinstance(source, Tensor):
        return
    data = result._data
    if getattr(data, "base", True) is None:  # the kernel had to copy: not a view
        return
    result._base = source._base if source._base is not None else source
    result._version = source._version
    result._view_src = (source, op, attrs, index)


# ---------------------------------------------------------------------- in-place ops
_CAN_CAST_CATEGORY = {  # may a result of category [from] be written into category [to]?
    (0, 0): True, (0, 1): True, (0, 2): True,
    (1, 0): False, (1, 1): True, (1, 2): True,
    (2, 0): False, (2, 1): False, (2, 2): True,
}

_TYPE_NAME = _dt.TYPE_NAME  # PyTorch's scalar-type names, for its messages


def check_inplace_allowed(self, opname):
    """PyTorch's checks before writing into ``self``; raise before anything is modified."""
    if not _grad_enabled():
        return
    if self._requires_grad and self.grad_fn is None:
        if self._base is not None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    base = self._base
    if base is not None and base._requires_grad and base.grad_fn is None:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place operation.")


def dispatch_inplace(op, self, args, attrs, opname=None):
    """``self.<op>_(...)``: compute out of place, check shape/dtype, then write into ``self``.

    Every check runs before the write, so a failing in-place op leaves ``self`` untouched.
    The written tensor takes over the new graph node (PyTorch's "rebase").
    """
    opname = opname or op.name + "_"
    check_inplace_allowed(self, opname)
    if op.inplace_generic is not None and len(args) == 1 and _write_directly(op, self, args[0], attrs):
        return self
    out = dispatch(op, (self,) + tuple(args), attrs)
    write_into(self, out, opname)
    return self


def _write_directly(op, self, other, attrs):
    """The in-place kernel, when nothing is recorded and ``other`` neither promotes nor reshapes ``self``."""
    if _grad_enabled() and (self._requires_grad or (isinstance(other, Tensor) and other._requires_grad)):
        return False
    backend = self._backend
    if backend.several_devices:
        return False  # dispatch compares the devices and runs the kernel on theirs
    ad = self._data
    if isinstance(other, Tensor):
        if other._backend is not backend or other._data.dtype is not ad.dtype or other._data.shape != ad.shape:
            return False
        od = other._data
    elif other.__class__ is float:
        if ad.dtype not in backend.float_natives:
            return False
        od = other
    elif other.__class__ is int:
        if ad.dtype == backend.bool_native:  # ==: a namespace's dtype objects need not be singletons
            return False
        od = other
    else:
        return False
    if op.needs_float and ad.dtype not in backend.float_natives:
        return False
    op.inplace_generic(backend.xp, ad, ad, od, **attrs)
    self._version[0] += 1
    return True


def write_into(self, out, opname):
    """Write ``out`` (a fresh op result) into ``self`` and move ``out``'s graph node over to ``self``."""
    if out._data.shape != self._data.shape:
        raise RuntimeError(
            f"output with shape {list(self._data.shape)} doesn't match the broadcast shape {list(out._data.shape)}")
    if out._data.dtype != self._data.dtype:
        src, dst = out.dtype, self.dtype
        if not _CAN_CAST_CATEGORY[(src.category, dst.category)]:
            raise RuntimeError(
                f"result type {_TYPE_NAME[src.name]} can't be cast to the desired output type {_TYPE_NAME[dst.name]}")
    node = out.grad_fn
    if node is not None and self._base is not None:
        from ..ops.views import write_through_view
        write_through_view(self, out, opname)  # the base changes too, and takes a CopySlices node
        return
    if node is not None:
        node._snapshot_input(self)  # the node saved `self` before this write: keep the old values
    try:
        self._data[...] = out._data
    except ValueError as exc:
        raise RuntimeError(f"{opname}(): cannot write into this tensor: {exc}") from None
    self._version[0] += 1
    if node is not None:
        node._rebase_output(out, self)
        self.grad_fn = node
        self._output_nr = out._output_nr
        self._requires_grad = True
