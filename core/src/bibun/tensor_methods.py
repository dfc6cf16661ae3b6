"""Binds the ops onto ``Tensor`` as methods and operators, in one table.

Operators call the dispatcher directly (``dispatch(mul, (self, other), {})``): they are
the hottest path in bibun and skip every wrapper they can.
"""

from __future__ import annotations

from . import dtypes as _dt
from .device import device as _device
from .dispatch.dispatcher import dispatch, dispatch_binary, dispatch_inplace
from .ops import activation as _act
from .ops import arithmetic as _ar
from .ops import indexing as _ix
from .ops import linalg as _la
from .ops import pointwise as _pw
from .ops import random_fill as _rf
from .ops import reduction as _red
from .ops import shape as _sh
from .ops import unary as _un
from .tensor import Tensor

from .dispatch.dispatcher import _NO_ATTRS as _E
_NUMBER = (int, float, bool)


def _is_operand(other):
    """A tensor, a python number or a numpy scalar; anything else gets NotImplemented (Python's rules)."""
    return isinstance(other, (Tensor,) + _NUMBER) or hasattr(other, "dtype")


# ---------------------------------------------------------------------- arithmetic operators
def _add(self, other, *, alpha=1):
    return dispatch_binary(_ar.add, self, other, _E if alpha == 1 else {"alpha": alpha})


_BOOL_SUB = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a "
             "mask, use the `~` or `logical_not()` operator instead.")
_BOOL_SUB_TWO = ("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                 "`logical_xor()` operator instead.")


def _check_bool_sub(a, b):
    a_bool = isinstance(a, Tensor) and a.dtype is _dt.bool_
    b_bool = isinstance(b, Tensor) and b.dtype is _dt.bool_ or isinstance(b, bool)
    if a_bool and b_bool:
        raise RuntimeError(_BOOL_SUB_TWO)
    if a_bool or b_bool:
        raise RuntimeError(_BOOL_SUB)


def _sub(self, other, *, alpha=1):
    # `==`, not `is`: a namespace's dtype objects need not be singletons (array-api-strict's are not)
    if self._data.dtype == self._backend.bool_native or other.__class__ is bool or (
            isinstance(other, Tensor) and other._data.dtype == other._backend.bool_native):
        _check_bool_sub(self, other)
    return dispatch_binary(_ar.sub, self, other, _E if alpha == 1 else {"alpha": alpha})


def _mul(self, other):
    return dispatch_binary(_ar.mul, self, other, _E)


def _div(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return dispatch_binary(_ar.div, self, other, _E)
    return dispatch(_ar.div_mode, (self, other), {"rounding_mode": _rounding(rounding_mode)})


def _rounding(mode):
    if mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{mode}'")
    return mode


def _radd(self, other):
    return dispatch_binary(_ar.add, self, other, _E)


def _rsub(self, other):
    if self._data.dtype == self._backend.bool_native or other.__class__ is bool:
        _check_bool_sub(self, other)
    return dispatch(_ar.rsub, (self, other), _E)


def _rdiv(self, other):
    # PyTorch: other / self == self.reciprocal() * other
    return dispatch(_ar.mul, (_un.reciprocal(self), other), _E)


def _pow(self, exponent):
    if isinstance(exponent, Tensor):
        return dispatch(_ar.pow_tensor, (self, exponent), _E)
    if not isinstance(exponent, _NUMBER):
        return NotImplemented
    x = self
    if isinstance(exponent, float) and x.dtype.category != _dt.FLOATING:
        x = x.to(_dt.get_default_dtype())
    elif isinstance(exponent, int) and not isinstance(exponent, bool) and x.dtype.category == _dt.INTEGRAL \
            and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    return dispatch(_ar.pow_scalar, (x,), {"exponent": exponent})


def _rpow(self, base):
    if not isinstance(base, _NUMBER):
        return NotImplemented
    x = self
    if isinstance(base, float) and x.dtype.category != _dt.FLOATING:
        x = x.to(_dt.get_default_dtype())
    return dispatch(_ar.pow_scalar_base, (x,), {"base": base})


def _matmul(self, other):
    if not isinstance(other, Tensor):
        return NotImplemented
    return _la.matmul(self, other)


def _neg(self):
    if self.dtype is _dt.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return dispatch(_ar.neg, (self,), _E)


def _binary_method(op):
    def method(self, other):
        if not _is_operand(other):
            return NotImplemented
        return dispatch_binary(op, self, other, _E)
    method.__name__ = op.name
    return method


def _reflected(op):
    def method(self, other):
        if not _is_operand(other):
            return NotImplemented
        return dispatch(op, (other, self), _E) if isinstance(other, Tensor) else dispatch(op, (self, other), _E)
    return method


def _floordiv(self, other):
    return dispatch(_ar.floor_divide, (self, other), _E)


def _rfloordiv(self, other):
    from .factories import scalar_tensor_like
    return dispatch(_ar.floor_divide, (scalar_tensor_like(other, self).to(self.dtype), self), _E)


def _mod(self, other):
    return dispatch(_ar.remainder, (self, other), _E)


def _bool_or_bitwise(logical, bitwise):
    def method(self, other):
        if isinstance(other, Tensor) and other.dtype is _dt.bool_ and self.dtype is _dt.bool_:
            return dispatch(logical, (self, other), _E)
        if isinstance(other, bool) and self.dtype is _dt.bool_:
            return dispatch(logical, (self, other), _E)
        return dispatch(bitwise, (self, other), _E)
    return method


def _invert(self):
    return dispatch(_ar.bitwise_not, (self,), _E)


# ---------------------------------------------------------------------- in-place
def _add_(self, other, *, alpha=1):
    return dispatch_inplace(_ar.add, self, (other,), _E if alpha == 1 else {"alpha": alpha}, "add_")


def _sub_(self, other, *, alpha=1):
    return dispatch_inplace(_ar.sub, self, (other,), _E if alpha == 1 else {"alpha": alpha}, "sub_")


def _mul_(self, other):
    return dispatch_inplace(_ar.mul, self, (other,), _E, "mul_")


def _div_(self, other, *, rounding_mode=None):
    if rounding_mode is None:
        return dispatch_inplace(_ar.div, self, (other,), _E, "div_")
    return dispatch_inplace(_ar.div_mode, self, (other,), {"rounding_mode": _rounding(rounding_mode)}, "div_")


def _pow_(self, exponent):
    from .dispatch.dispatcher import check_inplace_allowed, write_into
    check_inplace_allowed(self, "pow_")
    write_into(self, _pow(self, exponent), "pow_")
    return self


def _unary_inplace(fn, name):
    def method(self, *args, **kwargs):
        from .dispatch.dispatcher import check_inplace_allowed, write_into
        check_inplace_allowed(self, name)
        write_into(self, fn(self, *args, **kwargs), name)
        return self
    method.__name__ = name
    return method


def _clamp(self, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return dispatch(_ar.clamp_tensor, (self, min, max), _E)
    attrs = {}
    if min is not None:
        attrs["min"] = min
    if max is not None:
        attrs["max"] = max
    return dispatch(_ar.clamp, (self,), attrs)


def _clamp_(self, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    attrs = {k: v for k, v in (("min", min), ("max", max)) if v is not None}
    return dispatch_inplace(_ar.clamp, self, (), attrs, "clamp_")


def _zero_(self):
    return _fill_impl(self, 0, "zero_")


def _fill_(self, value):
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        if value._requires_grad:
            from .ops import inplace as _ip
            return _ip.fill_tensor_(self, value)
        value = value.item()
    return _fill_impl(self, value, "fill_")


def _fill_impl(self, value, name):
    from .ops import inplace as _ip
    return _ip.fill_(self, value, name)


def _copy_(self, src, non_blocking=False):
    from .ops import inplace as _ip
    return _ip.copy_(self, src)


def _iop(method):
    def op(self, other):
        return method(self, other)
    return op


# ---------------------------------------------------------------------- conversion
def _to(self, *args, **kwargs):
    """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other_tensor)``."""
    dtype = kwargs.pop("dtype", None)
    device = kwargs.pop("device", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs:
        raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
    for a in args:
        if isinstance(a, _dt.dtype):
            dtype = a
        elif isinstance(a, (str, _device)) or (isinstance(a, int) and not isinstance(a, bool)):
            device = a  # an int is an accelerator index: t.to(0) is t.to("cuda:0")
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
        elif a is None:
            continue
        else:
            raise TypeError(f"to() received an invalid combination of arguments: {type(a).__name__}")
    out = self
    if device is not None and _device(device) != self.device:
        from .ops.device_copy import to_device
        out = to_device(out, _device(device))
    if dtype is not None:
        out = _sh.to_dtype(out, dtype, copy=copy and out is self)
    elif copy and out is self:
        out = _sh.clone(out)
    return out


def _cuda(self, device=None, non_blocking=False, memory_format=None):
    """A copy on the GPU (``device``: an index, "cuda:1", a device; None: the current device), or
    ``self`` when it is there already."""
    if device is None:
        device = "cuda"
    elif isinstance(device, int) and not isinstance(device, bool):
        device = _device("cuda", device)
    else:
        device = _device(device)
        if device.type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
    from .ops.device_copy import to_device
    return to_device(self, device)


def _cpu(self, memory_format=None):
    """A copy in host memory, or ``self`` when it is on the cpu already."""
    if self._backend._cpu_device is not None:
        return self
    from .ops.device_copy import to_device
    return to_device(self, "cpu")


def _type_conv(dtype):
    def method(self, memory_format=None):
        return _sh.to_dtype(self, dtype)
    return method


def _type(self, dtype=None, non_blocking=False):
    """``t.type()`` names the legacy type (``bibun.FloatTensor``); ``t.type(x)`` converts to a dtype or such a name."""
    if dtype is None:
        return f"bibun.{self.dtype._legacy}"
    if isinstance(dtype, str):
        legacy = dtype.rsplit(".", 1)[-1]
        match = next((d for d in _dt.ALL if d._legacy == legacy), None)
        if match is None or dtype.split(".")[0] not in ("bibun", "torch"):
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = match
    return _sh.to_dtype(self, dtype)


def _new_tensor_factory(fill):
    def method(self, *size, dtype=None, device=None, requires_grad=False):
        from . import factories as f
        return getattr(f, fill)(*size, dtype=dtype or self.dtype, device=device or self.device,
                                requires_grad=requires_grad)
    return method


def _new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
    from . import factories as f
    return f.full(size, fill_value, dtype=dtype or self.dtype, device=device or self.device,
                  requires_grad=requires_grad)


def _new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
    from . import factories as f
    return f.tensor(data, dtype=dtype or self.dtype, device=device or self.device, requires_grad=requires_grad)


def _expand_as(self, other):
    return _sh.expand(self, other.shape)


def _view_as(self, other):
    return _sh.view(self, other.shape)


def _reshape_as(self, other):
    return _sh.reshape(self, other.shape)


def _type_as(self, other):
    return _sh.to_dtype(self, other.dtype)


def _T(self):  # noqa: N802
    n = self.ndim
    if n < 2:
        return self
    if n > 2:
        import warnings
        warnings.warn("The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated and "
                      "it will throw an error in a future release.", UserWarning, stacklevel=2)
    return _sh.permute(self, tuple(reversed(range(n))))


def _mT(self):  # noqa: N802
    if self.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return _sh.transpose(self, -2, -1)


def _sum_to_size(self, *size):
    return _red.sum_to_size(self, *size)


def _argsort(self, dim=-1, descending=False):
    from .ops import sorting
    return sorting.argsort(self, dim, descending)


def _sort(self, dim=-1, descending=False):
    from .ops import sorting
    return sorting.sort(self, dim, descending)


def _masked_fill(self, mask, value):
    return _ix.masked_fill(self, mask, value)


METHODS = {
    # operators
    "__add__": _add, "__radd__": _radd, "__sub__": _sub, "__rsub__": _rsub, "__mul__": _mul, "__rmul__": _mul,
    "__truediv__": _div, "__rtruediv__": _rdiv, "__pow__": _pow, "__rpow__": _rpow, "__matmul__": _matmul,
    "__neg__": _neg, "__pos__": lambda self: self, "__abs__": lambda self: _un.abs_(self),
    "__floordiv__": _floordiv, "__rfloordiv__": _rfloordiv, "__mod__": _mod,
    "__eq__": _binary_method(_ar.eq), "__ne__": _binary_method(_ar.ne), "__lt__": _binary_method(_ar.lt),
    "__le__": _binary_method(_ar.le), "__gt__": _binary_method(_ar.gt), "__ge__": _binary_method(_ar.ge),
    "__and__": _bool_or_bitwise(_ar.logical_and, _ar.bitwise_and), "__rand__": _bool_or_bitwise(_ar.logical_and, _ar.bitwise_and),
    "__or__": _bool_or_bitwise(_ar.logical_or, _ar.bitwise_or), "__ror__": _bool_or_bitwise(_ar.logical_or, _ar.bitwise_or),
    "__xor__": _bool_or_bitwise(_ar.logical_xor, _ar.bitwise_xor), "__invert__": _invert,
    "__iadd__": _iop(_add_), "__isub__": _iop(_sub_), "__imul__": _iop(_mul_), "__itruediv__": _iop(_div_),
    "__getitem__": _ix.getitem, "__setitem__": _ix.setitem,
    # arithmetic methods
    "add": _add, "sub": _sub, "subtract": _sub, "mul": _mul, "multiply": _mul, "div": _div, "divide": _div,
    "true_divide": _div, "neg": _neg, "negative": _neg, "pow": _pow, "matmul": _la.matmul, "mm": _la.mm,
    "bmm": _la.bmm, "dot": _la.dot, "mv": _la.mv, "outer": _la.outer,
    "maximum": lambda self, other: dispatch(_ar.maximum, (self, other), _E),
    "minimum": lambda self, other: dispatch(_ar.minimum, (self, other), _E),
    "clamp": _clamp, "clip": _clamp, "clamp_min": lambda self, min: _clamp(self, min=min),
    "clamp_max": lambda self, max: _clamp(self, max=max),
    "eq": _binary_method(_ar.eq), "ne": _binary_method(_ar.ne), "lt": _binary_method(_ar.lt),
    "le": _binary_method(_ar.le), "gt": _binary_method(_ar.gt), "ge": _binary_method(_ar.ge),
    "logical_and": lambda self, other: dispatch(_ar.logical_and, (self, other), _E),
    "logical_or": lambda self, other: dispatch(_ar.logical_or, (self, other), _E),
    "logical_xor": lambda self, other: dispatch(_ar.logical_xor, (self, other), _E),
    "logical_not": lambda self: dispatch(_ar.logical_not, (self,), _E),
    "where": lambda self, condition, other: _ar.where(condition, self, other),
    "remainder": _mod, "floor_divide": _floordiv,
    # unary math
    "exp": _un.exp, "expm1": _un.expm1, "log": _un.log, "log2": _un.log2, "log10": _un.log10, "log1p": _un.log1p,
    "sqrt": _un.sqrt, "rsqrt": _un.rsqrt, "abs": _un.abs_, "absolute": _un.abs_, "sign": _un.sign,
    "sin": _un.sin, "cos": _un.cos, "tan": _un.tan, "reciprocal": _un.reciprocal, "square": _un.square,
    "floor": _un.floor, "ceil": _un.ceil, "round": _un.round_, "trunc": _un.trunc,
    "isnan": _un.isnan, "isinf": _un.isinf, "isfinite": _un.isfinite,
    "tanh": _act.tanh, "sigmoid": _act.sigmoid, "relu": _act.relu, "softmax": _act.softmax,
    "log_softmax": _act.log_softmax,
    # reductions
    "all": _red.all, "any": _red.any, "sum": _red.sum, "mean": _red.mean, "prod": _red.prod, "max": _red.max, "min": _red.min, "amax": _red.amax,
    "amin": _red.amin, "argmax": _red.argmax, "argmin": _red.argmin, "var": _red.var, "std": _red.std,
    "logsumexp": _red.logsumexp, "norm": _red.norm, "sum_to_size": _sum_to_size, "argsort": _argsort, "sort": _sort,
    # shape
    "reshape": _sh.reshape, "view": _sh.view, "flatten": _sh.flatten, "unflatten": _sh.unflatten,
    "transpose": _sh.transpose, "swapaxes": _sh.transpose, "permute": _sh.permute, "t": _sh.t,
    "unsqueeze": _sh.unsqueeze, "squeeze": _sh.squeeze, "expand": _sh.expand, "expand_as": _expand_as,
    "view_as": _view_as, "reshape_as": _reshape_as, "repeat": _sh.repeat, "split": _sh.split, "chunk": _sh.chunk,
    "unbind": _sh.unbind, "flip": _sh.flip, "clone": _sh.clone, "contiguous": _sh.contiguous,
    "T": property(_T), "mT": property(_mT),
    # indexing
    "select": _ix.select, "narrow": _ix.narrow, "gather": _ix.gather, "scatter": _ix.scatter,
    "scatter_add": _ix.scatter_add, "index_select": _ix.index_select, "index_add": _ix.index_add,
    "masked_fill": _masked_fill,
    # in-place
    "add_": _add_, "sub_": _sub_, "mul_": _mul_, "div_": _div_, "pow_": _pow_, "zero_": _zero_, "fill_": _fill_,
    "copy_": _copy_, "clamp_": _clamp_, "clip_": _clamp_, "masked_fill_": _ix.masked_fill_,
    "exp_": _unary_inplace(_un.exp, "exp_"), "log_": _unary_inplace(_un.log, "log_"),
    "sqrt_": _unary_inplace(_un.sqrt, "sqrt_"), "abs_": _unary_inplace(_un.abs_, "abs_"),
    "neg_": _unary_inplace(_neg, "neg_"), "relu_": _unary_inplace(_act.relu, "relu_"),
    "sigmoid_": _unary_inplace(_act.sigmoid, "sigmoid_"), "tanh_": _unary_inplace(_act.tanh, "tanh_"),
    # random fills (PyTorch's cpu streams after the same seed)
    "uniform_": _rf.uniform_, "normal_": _rf.normal_, "random_": _rf.random_, "bernoulli_": _rf.bernoulli_,
    "exponential_": _rf.exponential_, "bernoulli": _rf.tensor_bernoulli,
    # conversion and construction
    "to": _to, "cuda": _cuda, "cpu": _cpu,
    "float": _type_conv(_dt.float32), "double": _type_conv(_dt.float64), "half": _type_conv(_dt.float16),
    "long": _type_conv(_dt.int64), "int": _type_conv(_dt.int32), "short": _type_conv(_dt.int16),
    "bool": _type_conv(_dt.bool_), "byte": _type_conv(_dt.uint8), "char": _type_conv(_dt.int8),
    "type": _type, "type_as": _type_as,
    "new_zeros": _new_tensor_factory("zeros"), "new_ones": _new_tensor_factory("ones"),
    "new_empty": _new_tensor_factory("empty"), "new_full": _new_full, "new_tensor": _new_tensor,
}


# ---------------------------------------------------------------------- fused pointwise ops (bibun.optim's helper)
METHODS.update({
    "addcmul": _pw.addcmul, "addcmul_": _pw.addcmul_, "addcdiv": _pw.addcdiv, "addcdiv_": _pw.addcdiv_,
    "lerp": _pw.lerp, "lerp_": _pw.lerp_,
})

def install():
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)


install()
