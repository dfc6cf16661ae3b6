"""Tensor printing: ``repr(tensor)`` laid out exactly as PyTorch lays it out.

Users compare printed tensors with PyTorch's, and doctests pin them, so every
rule here (column width, scientific mode, summarising, where the suffixes go)
follows PyTorch's printer. The data always comes in as a host numpy array; numpy
is imported inside the functions so that ``import bibun`` stays fast.
"""

from __future__ import annotations

import contextlib
import math

__all__ = ["set_printoptions", "get_printoptions", "printoptions", "tensor_repr"]

_PREFIX = "tensor("

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# The live options. A plain dict: read on every print, changed by set_printoptions.
_OPTS = {**_PROFILES["default"], "sci_mode": None}


# ---------------------------------------------------------------- options
def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """Change how tensors print (PyTorch's semantics).

    ``profile`` ('default', 'short', 'full') resets the four numeric options first;
    any option given explicitly then overrides it. ``sci_mode`` is always set, so
    leaving it out turns the automatic choice back on, as in PyTorch.
    """
    if profile is not None and profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            _OPTS[name] = value
    _OPTS["sci_mode"] = sci_mode


def get_printoptions():
    """The current options as a dict that ``set_printoptions(**d)`` accepts back."""
    keys = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")
    return {k: _OPTS[k] for k in keys}


@contextlib.contextmanager
def printoptions(**kwargs):
    """Change the print options for the duration of a ``with`` block."""
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


# ---------------------------------------------------------------- element formatting
class _Formatter:
    """Decides one layout for all elements, so that columns line up.

    The width and mode come only from nonzero finite values (for floats), which is
    why ``nan``, ``inf`` and zeros never widen a column.
    """

    def __init__(self, values, floating):
        import numpy as np

        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        precision = _OPTS["precision"]
        flat = values.reshape(-1)

        if not floating:
            self.max_width = max([1] + [len(f"{v}") for v in _int_extremes(flat)])
            return

        flat = flat.astype(np.float64)  # exact for every float dtype; avoids half overflow
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        absvals = np.abs(vals)
        lo, hi = float(absvals.min()), float(absvals.max())
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        if _OPTS["sci_mode"] is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = _OPTS["sci_mode"]

        if self.sci_mode:
            spec, extra = f".{precision}e", 0
        elif self.int_mode:
            spec, extra = ".0f", 1  # room for the trailing '.'
        else:
            spec, extra = f".{precision}f", 0
        for v in np.unique(vals).tolist():
            self.max_width = max(self.max_width, len(format(v, spec)) + extra)

    def width(self):
        return self.max_width

    def format(self, value):
        """One element, right-aligned to the shared width."""
        precision = _OPTS["precision"]
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = format(value, f"{self.max_width}.{precision}e")
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."  # marks the tensor as floating point
        else:
            text = format(value, f".{precision}f")
        return " " * (self.max_width - len(text)) + text


def _int_extremes(flat):
    """The values whose text is longest: for integers, the smallest and the largest."""
    if flat.size == 0:
        return []
    if flat.dtype.kind == "b":
        return [bool(v) for v in (flat.min(), flat.max())]
    return [int(flat.min()), int(flat.max())]


# ---------------------------------------------------------------- layout
def _summarized(values, edgeitems):
    """Only the elements that will be shown, so they alone decide the layout."""
    import numpy as np

    if values.ndim == 0:
        return values
    if values.ndim >= 2 and not edgeitems:
        return values[(slice(0, 0),) * values.ndim]
    for axis in range(values.ndim):
        n = values.shape[axis]
        if n > 2 * edgeitems and edgeitems:
            head = np.take(values, range(edgeitems), axis=axis)
            tail = np.take(values, range(n - edgeitems, n), axis=axis)
            values = np.concatenate((head, tail), axis=axis)
    return values


def _vector_str(values, indent, summarize, formatter):
    """A 1-D row, wrapped so that no line passes the line width."""
    edgeitems = _OPTS["edgeitems"]
    element_length = formatter.width() + 2  # the element plus ", "
    per_line = max(1, math.floor((_OPTS["linewidth"] - indent) / element_length))

    if summarize and not edgeitems:
        data = ["..."]
    elif summarize and values.shape[0] > 2 * edgeitems:
        head = [formatter.format(v) for v in values[:edgeitems].tolist()]
        tail = [formatter.format(v) for v in values[-edgeitems:].tolist()]
        data = head + [" ..."] + tail
    else:
        data = [formatter.format(v) for v in values.tolist()]

    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested_str(values, indent, summarize, formatter):
    """Brackets inside brackets; one blank line more between blocks per extra dimension."""
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector_str(values, indent, summarize, formatter)

    edgeitems = _OPTS["edgeitems"]
    n = values.shape[0]
    if summarize and n > 2 * edgeitems:
        rows = list(range(edgeitems)) + [None] + list(range(n - edgeitems, n))
    else:
        rows = list(range(n))
    parts = ["..." if i is None else _nested_str(values[i], indent + 1, summarize, formatter)
             for i in rows]
    sep = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _data_str(values, floating, indent):
    """The bracketed data of a non-empty array."""
    summarize = values.size > _OPTS["threshold"]
    shown = _summarized(values, _OPTS["edgeitems"]) if summarize else values
    formatter = _Formatter(shown, floating)
    return _nested_str(values, indent, summarize, formatter)


def _add_suffixes(text, suffixes, indent):
    """Append ``, name=value`` parts, starting a new line when one would overflow.

    The length of the last line is measured as PyTorch measures it (two more than
    the real length), so that the line breaks fall in the same places.
    """
    parts = [text]
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > _OPTS["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


# ---------------------------------------------------------------- entry points
def _format(values, dtype=None, *, device=None, grad_fn=None, requires_grad=False):
    """The repr of a tensor holding ``values`` (a numpy array), without needing a Tensor.

    ``dtype`` is a bibun dtype (taken from the array when None), ``device`` the
    device string when it is not the CPU, ``grad_fn`` the name of the node that
    made the tensor. Kept apart from ``tensor_repr`` so it can be tested alone.
    """
    import numpy as np

    from . import dtypes

    values = np.asarray(values)
    if dtype is None:
        dtype = dtypes.from_numpy_name(values.dtype.name)
    default_float = dtypes.get_default_dtype()
    indent = len(_PREFIX)

    suffixes = []
    if device is not None:
        suffixes.append(f"device='{device}'")
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype is not default_float:  # nothing to tell an empty int tensor by
            suffixes.append(f"dtype={dtype!r}")
        text = "[]"
    else:
        if not _OPTS["edgeitems"]:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype not in (default_float, dtypes.int64, dtypes.bool_):
            suffixes.append(f"dtype={dtype!r}")
        text = _data_str(values, dtype.category == dtypes.FLOATING, indent)

    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(_PREFIX + text, suffixes, indent)


def tensor_repr(t):
    """``repr(tensor)`` and ``str(tensor)``."""
    values = t._backend.to_numpy(t._data)
    device = str(t.device) if t.device.type != "cpu" else None
    grad_fn = t.grad_fn.name() if t.grad_fn is not None else None
    return _format(values, t.dtype, device=device, grad_fn=grad_fn,
                   requires_grad=bool(t._requires_grad))
