"""Turning a list of samples into a batch: ``default_collate`` stacks tensors and converts numbers and numpy
arrays to tensors, recursing through dicts, tuples, lists and namedtuples; ``default_convert`` converts
without stacking (the collate used when batching is off)."""

from __future__ import annotations

import collections.abc
import copy
import re

__all__ = ["collate", "default_collate", "default_collate_fn_map", "default_convert"]

_NUMPY_STRINGS = re.compile(r"[SaUO]")  # numpy dtype kinds that hold strings or objects
_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(x):
    cls = type(x)
    return cls.__module__ == "numpy" and cls.__name__ not in ("str_", "string_")


def _rebuild(template, values, make_list):
    """``values`` in a container of ``template``'s kind: a copy of a mutable one, else a new one of its type."""
    try:
        if isinstance(template, collections.abc.MutableMapping):
            clone = copy.copy(template)
            clone.update(values)
            return clone
        if isinstance(template, collections.abc.Mapping):
            return type(template)(values)
        if isinstance(template, collections.abc.MutableSequence):
            clone = copy.copy(template)
            for i, v in enumerate(values):
                clone[i] = v
            return clone
        return type(template)(values)
    except TypeError:  # a container that cannot be built from its values
        return make_list(values)


def default_convert(data):
    """numpy arrays and scalars become tensors, inside containers too; everything else stays as it is."""
    from ...factories import as_tensor
    from ...tensor import Tensor
    if isinstance(data, Tensor):
        return data
    if _is_numpy(data):
        if type(data).__name__ == "ndarray" and _NUMPY_STRINGS.search(data.dtype.str) is not None:
            return data
        return as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return _rebuild(data, {k: default_convert(data[k]) for k in data}, dict)
    if isinstance(data, tuple) and hasattr(data, "_fields"):  # namedtuple
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild(data, [default_convert(d) for d in data], list)
    return data


def collate(batch, *, collate_fn_map=None):
    """Collate ``batch`` by the type of its first element: ``collate_fn_map`` (type -> function taking the batch
    and ``collate_fn_map=``) handles leaves; mappings, namedtuples and sequences are collated field by field."""
    elem = batch[0]
    if collate_fn_map is not None:
        fn = collate_fn_map.get(type(elem))
        if fn is None:
            fn = next((f for t, f in collate_fn_map.items() if isinstance(elem, t)), None)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild(elem, {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}, dict)
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # a list, as PyTorch returns for tuples
        return _rebuild(elem, fields, list)
    raise TypeError(_ERROR.format(type(elem)))


def _collate_tensors(batch, *, collate_fn_map=None):
    from ...ops.shape import stack
    return stack(batch, 0)


def _collate_numpy_arrays(batch, *, collate_fn_map=None):
    from ...factories import as_tensor
    if _NUMPY_STRINGS.search(batch[0].dtype.str) is not None:
        raise TypeError(_ERROR.format(batch[0].dtype))
    return collate([as_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def _collate_numpy_scalars(batch, *, collate_fn_map=None):
    from ...factories import as_tensor
    return as_tensor(batch)


def _collate_floats(batch, *, collate_fn_map=None):
    from ... import dtypes
    from ...factories import tensor
    return tensor(batch, dtype=dtypes.float64)


def _collate_ints(batch, *, collate_fn_map=None):
    from ...factories import tensor
    return tensor(batch)


def _collate_strings(batch, *, collate_fn_map=None):
    return batch


def _default_map():
    import numpy as np

    from ...tensor import Tensor
    return {Tensor: _collate_tensors, np.ndarray: _collate_numpy_arrays,
            (np.bool_, np.number, np.object_): _collate_numpy_scalars, float: _collate_floats, int: _collate_ints,
            str: _collate_strings, bytes: _collate_strings}


default_collate_fn_map = _default_map()


def default_collate(batch):
    """Stack a list of samples into a batch: tensors are stacked on a new first dimension, numpy arrays too,
    python floats become a float64 tensor, ints int64 (bools bool), strings stay a list; dicts, namedtuples
    and sequences are collated field by field (a tuple gives a list)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
