"""The array namespace bibun's generic kernels see on the GPU: cupy, plus the names it may lack.

The generic kernels are written against numpy 2's namespace, which includes the array API
standard's names (``astype``, ``concat``, ``permute_dims``, ``pow``, ...) and keywords
(``asarray(copy=)``, ``var(correction=)``). cupy releases differ in which of these they
have, so each one missing is filled in here from cupy's own functions. Names cupy has are
the module's own objects, looked up as fast as on cupy itself.
"""

from __future__ import annotations

import types

import numpy as np

# standard name -> cupy's older name, used only where cupy lacks the standard one
_ALIASES = {
    "concat": "concatenate", "permute_dims": "transpose", "pow": "power", "bitwise_invert": "invert",
    "bitwise_left_shift": "left_shift", "bitwise_right_shift": "right_shift", "acos": "arccos", "acosh": "arccosh",
    "asin": "arcsin", "asinh": "arcsinh", "atan": "arctan", "atan2": "arctan2", "atanh": "arctanh",
}


def make_namespace(mod, name="bibun_cupy.xp"):
    """A module holding everything ``mod`` (cupy) exports, with numpy 2's names and keywords filled in.

    Written against any numpy-like module so it can be checked with numpy itself.
    """
    ns = types.ModuleType(name, f"{mod.__name__} as bibun's generic kernels expect it")
    for key in dir(mod):
        if key.startswith("__"):
            continue
        try:
            ns.__dict__[key] = getattr(mod, key)
        except Exception:  # a lazily imported submodule that cannot load here: leave it to __getattr__
            continue
    ns.__getattr__ = lambda attr: getattr(mod, attr)  # anything else (lazy submodules) from the module itself
    for standard, older in _ALIASES.items():
        if standard not in ns.__dict__ and hasattr(mod, older):
            ns.__dict__[standard] = getattr(mod, older)
    if ns.__dict__.get("bool") is not np.bool_:
        ns.bool = np.bool_  # numpy 2's name for the bool dtype (an older module may hold Python's bool)
    if "isdtype" not in ns.__dict__:
        ns.isdtype = np.isdtype  # works on dtypes, which cupy shares with numpy
    if "broadcast_shapes" not in ns.__dict__:
        ns.broadcast_shapes = np.broadcast_shapes  # works on shapes only
    if "matrix_transpose" not in ns.__dict__:
        ns.matrix_transpose = lambda x: mod.swapaxes(x, -1, -2)
    ns.astype = _astype
    ns.asarray = _asarray(mod)
    ns.var = _with_correction(mod.var)
    ns.std = _with_correction(mod.std)
    return ns


def _astype(x, dtype, /, *, copy=True, device=None):
    """The standard's ``astype`` (not every cupy has the function; every array has the method)."""
    return x.astype(dtype, copy=copy)


def _asarray(mod):
    plain = mod.asarray

    def asarray(obj, /, dtype=None, *, copy=None, device=None, **kwargs):
        """``asarray`` with the standard's ``copy``: True always copies (cupy's own may not take it)."""
        if copy:
            return mod.array(obj, dtype=dtype, copy=True, **kwargs)
        return plain(obj, dtype=dtype, **kwargs)

    return asarray


def _with_correction(fn):
    def reduce(x, /, axis=None, *, correction=0, keepdims=False, dtype=None, out=None, ddof=None):
        """``var``/``std`` with the standard's ``correction`` (cupy's take ``ddof``)."""
        return fn(x, axis=axis, dtype=dtype, out=out, ddof=correction if ddof is None else ddof, keepdims=keepdims)

    reduce.__name__ = fn.__name__
    return reduce
