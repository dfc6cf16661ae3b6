"""Random fills: ``uniform_`` ``normal_`` ``random_`` ``bernoulli_`` ``exponential_``, and the
``bernoulli`` and ``normal`` functions.

Values come from the backend's generator (the default one, or ``generator=``'s) and are
drawn in the tensor's memory order, as PyTorch's CPU kernels draw them, so a seeded fill
gives PyTorch's numbers. Arguments are checked before anything is drawn or written.

A fill with nothing to record writes straight into the tensor. A fill on a tensor inside a
graph records a node with PyTorch's name (``UniformBackward0``, ...) that passes a zero
gradient back to the values it replaced, as PyTorch does; ``bernoulli(p)`` and
``normal(mean, std)`` pass zero gradients to ``p``, ``mean`` and ``std`` likewise.
"""

from __future__ import annotations

import warnings

from .. import dtypes as _dt
from ..autograd.grad_mode import grad_enabled as _grad_enabled
from ..dispatch.dispatcher import _TYPE_NAME, check_inplace_allowed, dispatch, dispatch_inplace
from ..dispatch.opdef import OpDef
from ..generator import generator_state
from ..tensor import Tensor
from ._portable import strides

__all__ = ["uniform_", "normal_", "random_", "bernoulli_", "exponential_", "bernoulli", "normal"]


# ---------------------------------------------------------------------- ops (only for fills inside a graph)
def _take_values(xp, *arrays):
    return arrays[-1]  # the drawn values, the last input


def _zero_grads(ctx, grad):
    needs = ctx.needs_input_grad
    grads = tuple((grad * 0).sum_to_size(ctx.input_shape(i)) if needs[i] else None for i in range(len(needs)))
    return grads[0] if len(grads) == 1 else grads


def _values_op(name, inputs, node_name):
    """An op whose result is its last input (the drawn values); its other inputs get zero gradients."""
    op = OpDef(name, inputs=inputs + ("values",), differentiable=inputs, node_name=node_name, type_rule="none")
    op.impl(_take_values)
    op.backward(_zero_grads)
    return op


uniform_op = _values_op("uniform_", ("self",), "UniformBackward0")
normal_op = _values_op("normal_", ("self",), "NormalBackward0")
random_from_to_op = _values_op("random_from_to_", ("self",), "RandomBackward0")
random_to_op = _values_op("random_to_", ("self",), "RandomBackward1")
random_op = _values_op("random_", ("self",), "RandomBackward2")
bernoulli_tensor_op = _values_op("bernoulli_tensor_", ("self", "p"), "BernoulliBackward1")
bernoulli_scalar_op = _values_op("bernoulli_scalar_", ("self",), "BernoulliBackward2")
exponential_op = _values_op("exponential_", ("self",), "ExponentialBackward0")
bernoulli_op = _values_op("bernoulli", ("self",), "BernoulliBackward0")
normal_tensor_float_op = _values_op("normal_tensor_float", ("mean",), "NormalBackward1")
normal_float_tensor_op = _values_op("normal_float_tensor", ("std",), "NormalBackward2")
normal_tensor_tensor_op = _values_op("normal_tensor_tensor", ("mean", "std"), "NormalBackward3")

OPS = [uniform_op, normal_op, random_from_to_op, random_to_op, random_op, bernoulli_tensor_op, bernoulli_scalar_op,
       exponential_op, bernoulli_op, normal_tensor_float_op, normal_float_tensor_op, normal_tensor_tensor_op]


# ---------------------------------------------------------------------- writing in memory order
def _memory_order(backend, array):
    """A function giving the view of an array (shaped like ``array``) whose C order is ``array``'s memory
    order, the order PyTorch's kernels visit a strided tensor in; None when that is already C order."""
    if backend.is_contiguous(array):
        return None
    st = strides(backend, array)
    flips = tuple(d for d in range(array.ndim) if st[d] < 0 and array.shape[d] > 1)
    perm = tuple(sorted(range(array.ndim), key=lambda d: (-abs(st[d]), d)))
    permute_dims = backend.xp.permute_dims

    def view(a):
        for d in flips:
            a = a[(slice(None),) * d + (slice(None, None, -1),) + (Ellipsis,)]
        return permute_dims(a, perm)
    return view


def _check_not_overlapping(self):
    data = self._data
    if data.size and any(st == 0 and n > 1 for st, n in zip(strides(self._backend, data), data.shape)):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a single "
                           "memory location. Please clone() the tensor before performing the operation.")


def _fill(self, name, op, generator, draw, inputs=()):
    """Draw ``draw(rng, shape, native_dtype, view)`` in ``self``'s memory order and write it into ``self``.

    ``view`` maps an array shaped like ``self`` to the same memory-ordered view (for inputs
    such as a ``p`` tensor). Without a graph to record, the values go straight into ``self``;
    otherwise ``op`` records the node, and a view's base is rebuilt as for any in-place op.
    """
    check_inplace_allowed(self, name)
    _check_not_overlapping(self)
    backend = self._backend
    rng = generator_state(backend, generator, name)
    data = self._data
    view = _memory_order(backend, data)
    ident = view is None
    target = data if ident else view(data)
    values = draw(rng, target.shape, data.dtype, (lambda a: a) if ident else view)
    record = _grad_enabled() and (self._requires_grad or any(t._requires_grad for t in inputs))
    if not record:
        target[...] = values
        self._version[0] += 1
        return self
    if not ident:  # the values back in self's own layout
        laid_out = backend.xp.empty_like(data)
        view(laid_out)[...] = values
        values = laid_out
    dispatch_inplace(op, self, tuple(inputs) + (Tensor._make(values, backend),), {}, name)
    return self


# ---------------------------------------------------------------------- argument checks
_CTYPE = {"float16": "c10::Half", "float32": "float", "float64": "double", "int8": "signed char",
          "uint8": "unsigned char", "int16": "short int", "int32": "int", "int64": "long int", "bool": "bool"}


def _number(value, fn, name):
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"a Tensor with {value.numel()} elements cannot be converted to Scalar")
        return value.item()
    if isinstance(value, (bool, int, float)) or hasattr(value, "__float__"):
        return float(value) if not isinstance(value, (bool, int)) else value
    raise TypeError(f"{fn}(): argument '{name}' must be Number, not {type(value).__name__}")


def _g(v):
    """A number as C++'s stream prints a double (``%g``)."""
    return "%g" % v


def _float_limits(dtype):
    import numpy as np
    info = np.finfo(dtype.numpy_name)
    return float(info.min), float(info.max), info.nmant + 1


def _legacy(dtype):
    return _TYPE_NAME[dtype.name]


def _pop_bounds(fn, args, kwargs, names, defaults):
    """Positional and keyword arguments (``from`` is a python keyword, so it arrives in ``kwargs``)."""
    if len(args) > len(names):
        raise TypeError(f"{fn}() takes at most {len(names)} arguments ({len(args)} given)")
    values = dict(zip(names, defaults))
    values.update(zip(names, args))
    for key in list(kwargs):
        if key not in names:
            raise TypeError(f"{fn}() got an unexpected keyword argument '{key}'")
        values[key] = kwargs.pop(key)
    return [values[n] for n in names]


# ---------------------------------------------------------------------- the fills
def uniform_(self, *args, generator=None, **kwargs):
    """Fill with numbers uniform on [from, to): ``t.uniform_(-b, b)``; PyTorch's after the same seed."""
    low, high = _pop_bounds("uniform_", args, kwargs, ("from", "to"), (0.0, 1.0))
    low, high = _number(low, "uniform_", "from"), _number(high, "uniform_", "to")
    dtype = self.dtype
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{_legacy(dtype)}'")
    lowest, top, _ = _float_limits(dtype)
    for v, name in ((low, "from"), (high, "to")):
        if not lowest <= v <= top:
            raise RuntimeError(f"{name} is out of bounds for {_CTYPE[dtype.name]}")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={_g(low)} > to={_g(high)}")
    if high - low > top:
        raise RuntimeError(f"uniform_ expects to-from <= std::numeric_limits<{_legacy(dtype)}>::max(), but found "
                           f"to={_g(high)} and from={_g(low)} which result in to-from to exceed the limit")
    low, high = float(low), float(high)
    return _fill(self, "uniform_", uniform_op, generator,
                 lambda rng, shape, native, view: rng.uniform(shape, native, low, high))


def _check_normal(dtype, std):
    if not dtype.is_floating_point:
        raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{_legacy(dtype)}'")
    if not std >= 0.0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {_g(std)}")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with normal numbers: ``mean + std * z``; PyTorch's after the same seed."""
    mean, std = float(_number(mean, "normal_", "mean")), float(_number(std, "normal_", "std"))
    _check_normal(self.dtype, std)
    contiguous = self._backend.is_contiguous(self._data)
    return _fill(self, "normal_", normal_op, generator,
                 lambda rng, shape, native, view: rng.normal(shape, native, mean, std, contiguous=contiguous))


_RANDOM_SIGNATURES = (" * (*, bibun.Generator generator = None)\n"
                      " * (int from, int to, *, bibun.Generator generator = None)\n"
                      " * (int to, *, bibun.Generator generator = None)\n")


def _is_int(v):
    return not isinstance(v, bool) and hasattr(v, "__index__")


def _random_args(args, kwargs):
    """``()``, ``(to,)`` or ``(from, to)`` (``to`` may be None), given by position or as ``from=``/``to=``."""
    unknown = set(kwargs) - {"from", "to"}
    values = list(args)
    if not unknown and len(args) <= 2:
        if "from" in kwargs and len(values) == 0:
            values.append(kwargs["from"])
        if "to" in kwargs:
            values.append(kwargs["to"])
    ok = not unknown and len(values) <= 2 and ("from" not in kwargs or "to" in kwargs) and all(
        _is_int(v) or (v is None and i == 1) for i, v in enumerate(values))
    if not ok:
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"random_() received an invalid combination of arguments - got ({got}), but expected one "
                        f"of:\n{_RANDOM_SIGNATURES}")
    values = [None if v is None else v.__index__() for v in values]
    for v in values:
        if v is not None and not -2**63 <= v < 2**63:
            raise ValueError("Overflow when unpacking long long")
    return values


def _dtype_range(dtype):
    """(lowest, highest) integer value PyTorch's bounds checks allow, and the exact-integer limit of a float."""
    import numpy as np
    if dtype is _dt.bool_:
        return 0, 1, None
    if dtype.is_floating_point:
        lowest, top, digits = _float_limits(dtype)
        return lowest, top, digits
    info = np.iinfo(dtype.numpy_name)
    return int(info.min), int(info.max), None


def check_random_range(dtype, low, high_inc, stacklevel=3):
    """PyTorch's checks of integers drawn into ``dtype``: errors out of its range, warnings beyond a float's
    exact integers."""
    lowest, top, digits = _dtype_range(dtype)
    for v, name in ((low, "from"), (high_inc, "to - 1")):
        if not lowest <= v <= top:
            raise RuntimeError(f"{name} is out of bounds for {_CTYPE[dtype.name]}")
    if digits is not None:
        for v, name in ((low, "from"), (high_inc, "to - 1")):
            if not -(2 ** digits) <= v <= 2 ** digits:
                warnings.warn(f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision limitations "
                              f"{_CTYPE[dtype.name]} can support discrete uniform distribution only within this "
                              "range. This warning will become an error in version 1.7 release, please fix the code "
                              "in advance", UserWarning, stacklevel=stacklevel)


def random_(self, *args, generator=None, **kwargs):
    """Fill with integers: ``random_()`` (the dtype's own range), ``random_(to)`` or ``random_(from, to)``
    (``to=None``: up to the dtype's largest value), drawn as PyTorch draws them."""
    values = _random_args(args, kwargs)
    dtype = self.dtype
    if not values:
        op, low, span = random_op, 0, None
    else:
        low, high = (0, values[0]) if len(values) == 1 else values
        op = random_to_op if len(values) == 1 else random_from_to_op
        if high is not None:
            if low >= high:
                raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
            check_random_range(dtype, low, high - 1)
            span = high - low
        elif low == -2**63 and dtype in (_dt.int64, _dt.float32, _dt.float64):
            span = 2**64
        else:
            lowest, top, digits = _dtype_range(dtype)
            high_inc = 2 ** digits if digits is not None else top
            if dtype.is_floating_point and low >= high_inc:
                raise RuntimeError("random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                                   f"casted to dtype, but got from={low} > to_inc={high_inc}")
            check_random_range(dtype, low, high_inc)
            span = high_inc - low + 1
    return _fill(self, "random_", op, generator,
                 lambda rng, shape, native, view: rng.random(shape, native, low, span))


_P_RANGE = ("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  "
            "If so, please report an enhancement request to PyTorch.)")


def _check_p_tensor(p):
    if not p.dtype.is_floating_point:
        raise NotImplementedError(f"\"bernoulli_tensor_cpu_p_\" not implemented for '{_legacy(p.dtype)}'")
    if p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
        raise RuntimeError(_P_RANGE)


def bernoulli_(self, p=0.5, *, generator=None):
    """Fill with 1 (probability ``p``) or 0; ``p`` a number or a tensor broadcast to ``self``."""
    if isinstance(p, Tensor):
        _check_p_tensor(p)
        if p._backend is not self._backend:
            p = p.to(self.device)
        expanded = p.detach().expand(self.shape)
        return _fill(self, "bernoulli_", bernoulli_tensor_op, generator,
                     lambda rng, shape, native, view: rng.bernoulli(shape, native, view(expanded._data)), (p,))
    p = _number(p, "bernoulli_", "p")
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={_g(p)}")
    p = float(p)
    return _fill(self, "bernoulli_", bernoulli_scalar_op, generator,
                 lambda rng, shape, native, view: rng.bernoulli(shape, native, p))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with exponential numbers of rate ``lambd``."""
    lambd = float(_number(lambd, "exponential_", "lambd"))
    if not self.dtype.is_floating_point:
        raise RuntimeError("Exponential distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {_legacy(self.dtype)}")
    if not lambd > 0.0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={_g(lambd)}")
    return _fill(self, "exponential_", exponential_op, generator,
                 lambda rng, shape, native, view: rng.exponential(shape, native, lambd))


# ---------------------------------------------------------------------- functions
def _empty_like(t, dtype=None):
    backend = t._backend
    return Tensor._make(backend.xp.empty(t.shape, dtype=backend.native_dtype(dtype or t.dtype)), backend)


def _with_node(op, inputs, values):
    """``values`` as the result of ``op`` on ``inputs`` when one of them needs a gradient (zero, as PyTorch's)."""
    if _grad_enabled() and any(t._requires_grad for t in inputs):
        return dispatch(op, tuple(inputs) + (values,), {})
    return values


def bernoulli(input, p=None, *, generator=None, out=None):  # noqa: A002
    """1 with probability ``input`` (elementwise), else 0, in ``input``'s dtype; ``bernoulli(input, p)``
    uses the number ``p`` for every element instead."""
    if p is not None:
        return bernoulli_(_empty_like(input), p, generator=generator)
    _check_p_tensor(input)
    rng = generator_state(input._backend, generator, "bernoulli")
    drawn = rng.bernoulli(tuple(input.shape), input._data.dtype, input._data)
    return _with_node(bernoulli_op, (input,), Tensor._make(drawn, input._backend))


def _float_arg(v, name):
    if isinstance(v, Tensor):
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(f"normal(): argument '{name}' must be float or Tensor, not {type(v).__name__}")
    return float(v)


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None,  # noqa: PLR0913
           requires_grad=False):
    """Normal numbers: ``normal(mean, std, size)`` with numbers, or elementwise with tensor ``mean``/``std``
    (drawn as standard normals, then scaled and shifted as PyTorch does)."""
    from .. import factories
    mean, std = _float_arg(mean, "mean"), _float_arg(std, "std")
    mean_t, std_t = isinstance(mean, Tensor), isinstance(std, Tensor)
    if not mean_t and not std_t:
        if size is None:
            raise TypeError("normal() received an invalid combination of arguments - got (float, float), but "
                            "expected one of:\n * (Tensor mean, Tensor std, *, bibun.Generator generator = None)\n"
                            " * (Tensor mean, float std = 1, *, bibun.Generator generator = None)\n"
                            " * (float mean, Tensor std, *, bibun.Generator generator = None)\n"
                            " * (float mean, float std, tuple of ints size, *, bibun.Generator generator = None)\n")
        _check_normal(dtype or _dt.get_default_dtype(), std)
        t = factories.empty(size, dtype=dtype, device=device)
        normal_(t, mean, std, generator=generator)
        return t.requires_grad_() if requires_grad else t
    if std_t and std.numel() and not bool((std >= 0).all()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if mean_t and not std_t:  # a normal(0, std) draw, then + mean
        _check_normal(mean.dtype, std)
        values = normal_(_empty_like(mean), 0.0, std, generator=generator)
        values = Tensor._make(values._data + mean._data, values._backend)
        return _with_node(normal_tensor_float_op, (mean,), values)
    base = mean if mean_t else std
    if mean_t:
        from ._util import broadcast_shapes
        shape = broadcast_shapes(mean.shape, std.shape)
    else:
        shape = std.shape
    _check_normal(base.dtype, 1.0)
    backend = base._backend
    z = Tensor._make(backend.xp.empty(shape, dtype=base._data.dtype), backend)
    normal_(z, 0.0, 1.0, generator=generator)
    native = z._data.dtype
    xp = backend.xp
    scaled = xp.astype(z._data * std._data, native, copy=False)  # computed in the promoted dtype, as mul_
    if mean_t:
        values = Tensor._make(xp.astype(scaled + mean._data, native, copy=False), backend)
        return _with_node(normal_tensor_tensor_op, (mean, std), values)
    values = Tensor._make(scaled + backend.xp.asarray(mean, dtype=native), backend)
    return _with_node(normal_float_tensor_op, (std,), values)


def tensor_bernoulli(self, p=None, *, generator=None):
    """``t.bernoulli()``: ``bibun.bernoulli(t)``; ``t.bernoulli(p)``: a tensor like ``t`` filled with ``p``'s draws."""
    return bernoulli(self, p, generator=generator)
