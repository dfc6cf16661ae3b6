"""``bibun.device``: a device type (``cpu``, ``cuda``) and an optional index, parsed like PyTorch's."""

from __future__ import annotations

import re

__all__ = ["device"]

_SPEC = re.compile(r"^([a-z_][a-z0-9_]*)(?::(0|[1-9][0-9]*))?$")


class device:  # noqa: N801 - PyTorch's name
    """Where a tensor lives. ``device('cuda:1')``, ``device('cuda', 1)``, ``device('cpu')``.

    Like PyTorch's, it equals only other devices (``device('cpu') == 'cpu'`` is False),
    and ``device('cuda')`` (no index) differs from ``device('cuda:0')``. A bare index names
    the accelerator: ``device(1)`` is ``cuda:1``.
    """

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's keyword
        if isinstance(type, device):
            if index is not None:
                raise ValueError("device(): a device object takes no separate index")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            if type < 0:
                raise RuntimeError(f"Device index must not be negative, got {type}")
            self.type, self.index = "cuda", type
            return
        if not isinstance(type, str):
            raise TypeError(f"device() expects a string like 'cpu' or 'cuda:0', got {type!r}")
        if not type:
            raise RuntimeError("Device string must not be empty")
        m = _SPEC.match(type)
        if m is None:
            if re.match(r"^[A-Za-z_]\w*(:|$)", type) and not type.split(":")[0].islower():
                raise RuntimeError(f"Expected a lowercase device type such as cpu or cuda at start of device "
                                   f"string: {type}")
            raise RuntimeError(f"Invalid device string: '{type}'")
        self.type = m.group(1)
        parsed = m.group(2)
        if parsed is not None and index is not None:
            raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
        if parsed is not None:
            index = int(parsed)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool) or index < 0):
            raise RuntimeError(f"Device index must not be negative, got {index}")
        self.index = index

    def __eq__(self, other):
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __reduce__(self):
        return (device, (self.type, self.index))

    def __enter__(self):
        """``with bibun.device('cuda'):`` makes factories called inside default to this device, as in PyTorch."""
        from . import factories
        factories.push_default_device(self)
        return self

    def __exit__(self, *exc):
        from . import factories
        factories.pop_default_device()
