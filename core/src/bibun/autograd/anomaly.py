"""Anomaly mode: record where each node was created, and fail on NaN gradients naming the node."""

from __future__ import annotations

import warnings

from . import node as _node

__all__ = ["detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled"]

_check_nan = [True]


def is_anomaly_enabled():
    return _node._anomaly[0]


def is_anomaly_check_nan_enabled():
    return _check_nan[0]


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Inside: nodes remember their forward traceback; a NaN gradient raises, naming the node."""

    def __init__(self, check_nan=True):
        self.check_nan = check_nan
        warnings.warn("Anomaly Detection has been enabled. This mode will increase the runtime and should only be "
                      "enabled for debugging.", UserWarning, stacklevel=2)

    def __enter__(self):
        self._prev = (_node._anomaly[0], _check_nan[0])
        _node._anomaly[0] = True
        _check_nan[0] = self.check_nan
        return self

    def __exit__(self, *exc):
        _node._anomaly[0], _check_nan[0] = self._prev
        return False

    def __call__(self, fn):
        import functools

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with detect_anomaly(self.check_nan):
                return fn(*args, **kwargs)
        return wrapper


class set_detect_anomaly:  # noqa: N801
    """Turn anomaly mode on or off; as a context manager, restore the previous state on exit."""

    def __init__(self, mode, check_nan=True):
        self._prev = (_node._anomaly[0], _check_nan[0])
        _node._anomaly[0] = bool(mode)
        _check_nan[0] = check_nan

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _node._anomaly[0], _check_nan[0] = self._prev
        return False
